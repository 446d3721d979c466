"""PEP 740 end to end: our test index serves provenance (linked from its pages, or only at
its integrity endpoint), ``lock --attestations`` records the publishers, the gate and diff
compare them, ``install --verify-attestations`` and ``audit --attestations`` check them.

The verification that passes needs a real attested file: the live tests download the
813-byte ``gcb_attestation_test-0.0.0.tar.gz`` (its provenance is in tests/data/attestations)
and serve it from the local index. The rest uses files the tests build, served with that
provenance: the attestation then names other bytes, which must be refused."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tomllib
from typing import TYPE_CHECKING

import pytest

from tests.attest.test_identities import GCB, GCB_IDENTITY, GCB_SHA256
from tests.conftest import ATTESTATIONS
from tests.support.lockfixtures import write_project
from tests.support.pkgindex import Dist, build_dists, serve_json_index
from tumbler.attest.fetch import integrity_url

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.conftest import CLI, Run
    from tests.support.pkgindex import PackageIndex

GCB_PROVENANCE = (ATTESTATIONS / f"{GCB}.provenance").read_bytes()
PLAIN = Dist("plain-kit", "1.0")
SIGNED = Dist("signed-kit", "2.0")
DISTS = (PLAIN, SIGNED)
GOOGLE = 'attestation-identities = [\n    { kind = "Google", email = "919436158236-compute@developer.gserviceaccount.com" },\n]'


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("attest-dists")
    build_dists(DISTS, directory)
    return directory


@pytest.fixture(scope="module")
def linked(dists: Path) -> Iterator[PackageIndex]:
    """signed-kit's wheel served with a provenance (linked from the pages); plain-kit none."""
    served = {SIGNED.wheel_filename: GCB_PROVENANCE}
    with serve_json_index(dists, DISTS, provenance=served) as index:
        yield index


def _lock(cli: CLI, project: Path, index: PackageIndex, *args: str) -> Run:
    return cli(
        "lock", project, "--index-url", index.url, "--cache-dir", project.parent / "c", *args
    )


def _identities(lock: Path) -> dict[str, list[dict[str, str]]]:
    data = tomllib.loads(lock.read_text())
    return {p["name"]: p.get("attestation-identities", []) for p in data["packages"]}


def test_integrity_url_is_next_to_the_simple_api() -> None:
    assert integrity_url("http://127.0.0.1:9/simple/", "Signed_Kit", "2.0", "s.whl") == (
        "http://127.0.0.1:9/integrity/signed-kit/2.0/s.whl/provenance"
    )
    assert integrity_url("http://127.0.0.1:9/pypi/", "x", "1", "x.whl") is None


def test_lock_records_identities_from_provenance_links(
    cli: CLI, tmp_path: Path, linked: PackageIndex
) -> None:
    project = write_project(tmp_path / "p", ["plain-kit", "signed-kit"])
    run = _lock(cli, project, linked, "--attestations")
    assert run.code == 0, run.err
    lock = project.parent / "pylock.toml"
    assert _identities(lock) == {"plain-kit": [], "signed-kit": [GCB_IDENTITY]}
    text = lock.read_text()
    assert GOOGLE in text
    assert "attestations = true" in text  # recorded with the inputs
    assert "identities recorded for 1 of 2 packages" in run.out + run.err
    assert "serves no provenance" not in run.out + run.err
    # packaging.pylock loads it; the gate agrees; pip reads it (R37 tables are not for pip,
    # but the file must stay installable).
    assert cli("validate", lock).code == 0
    check = _lock(cli, project, linked, "--attestations", "--check")
    assert check.code == 0, check.out + check.err
    # Through [tool.tumbler] too.
    settings = write_project(
        tmp_path / "s", ["plain-kit", "signed-kit"], tool="attestations = true"
    )
    assert _lock(cli, settings, linked).code == 0
    assert _identities(settings.parent / "pylock.toml") == _identities(lock)
    # Without --attestations the gate names the input that changed.
    plain = _lock(cli, project, linked, "--check")
    assert plain.code == 1
    assert "the lock records attestation identities but this run does not" in plain.out


def test_the_integrity_endpoint_is_used_when_pages_link_nothing(
    cli: CLI, tmp_path: Path, dists: Path
) -> None:
    served = {SIGNED.wheel_filename: GCB_PROVENANCE, SIGNED.sdist_filename: GCB_PROVENANCE}
    with serve_json_index(dists, DISTS, provenance=served, links=False) as index:
        project = write_project(tmp_path / "p", ["plain-kit", "signed-kit"])
        run = _lock(cli, project, index, "--attestations")
    assert run.code == 0, run.err
    assert _identities(project.parent / "pylock.toml")["signed-kit"] == [GCB_IDENTITY]


def test_an_index_without_provenance_is_named_once_and_nothing_is_recorded(
    cli: CLI, tmp_path: Path, dists: Path
) -> None:
    with serve_json_index(dists, DISTS) as index:
        project = write_project(tmp_path / "p", ["plain-kit", "signed-kit"])
        run = _lock(cli, project, index, "--attestations")
    assert run.code == 0, run.err
    notices = [line for line in (run.out + run.err).splitlines() if "serves no provenance" in line]
    assert len(notices) == 1, run.out + run.err
    assert "its pages carry no data-provenance links; its integrity endpoint has none" in notices[0]
    assert "attestation-identities" not in (project.parent / "pylock.toml").read_text()


def test_check_and_diff_report_identity_changes(
    cli: CLI, tmp_path: Path, linked: PackageIndex
) -> None:
    project = write_project(tmp_path / "p", ["plain-kit", "signed-kit"])
    assert _lock(cli, project, linked, "--attestations").code == 0
    lock = project.parent / "pylock.toml"
    good = lock.read_text()
    other = good.replace("919436158236-compute@", "attacker@")
    lock.write_text(other)
    check = _lock(cli, project, linked, "--attestations", "--check")
    assert check.code == 1
    assert "changed signed-kit (attestation-identities)" in check.out
    # diff: changed (loud), removed (loud), added (quiet).
    (tmp_path / "good.toml").write_text(good)
    (tmp_path / "other.toml").write_text(other)
    (tmp_path / "none.toml").write_text(good.replace(GOOGLE + "\n", ""))
    changed = cli("diff", tmp_path / "good.toml", tmp_path / "other.toml")
    assert "1 with a changed file hash or publisher" in changed.out
    assert "!!" in changed.out and "attestation-identities" in changed.out
    removed = cli("diff", tmp_path / "good.toml", tmp_path / "none.toml", "--format", "json")
    assert '"field": "attestation-identities"' in removed.out
    assert '"loud": true' in removed.out
    added = cli("diff", tmp_path / "none.toml", tmp_path / "good.toml", "--format", "json")
    assert '"field": "attestation-identities"' in added.out
    assert '"loud": true' not in added.out


def test_install_refuses_an_attestation_for_other_bytes_and_installs_nothing(
    cli: CLI, tmp_path: Path, linked: PackageIndex
) -> None:
    project = write_project(tmp_path / "p", ["plain-kit", "signed-kit"])
    assert _lock(cli, project, linked, "--attestations").code == 0
    lock = project.parent / "pylock.toml"
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    run = cli(
        "install",
        lock,
        "--venv",
        venv,
        "--verify-attestations",
        "--bundled-trust-root",
        "--cache-dir",
        tmp_path / "c",
    )
    assert run.code == 2
    assert "attestations do not verify; nothing was installed" in run.err
    assert "T740" in run.err and "packages[1].wheels[0]" in run.err
    assert "subject digest is not this file's sha256" in run.err
    assert not list(venv.glob("lib/python*/site-packages/plain_kit*"))
    # Without the check (the lock's hashes still hold) the same lock installs.
    assert cli("install", lock, "--venv", venv, "--cache-dir", tmp_path / "c").code == 0
    assert list(venv.glob("lib/python*/site-packages/plain_kit*"))
    # audit --attestations reports the same file.
    audit = cli(
        "audit", lock, "--attestations", "--bundled-trust-root", "--cache-dir", tmp_path / "c"
    )
    assert audit.code == 1
    assert "packages[1].wheels[0]" in audit.out and "T740" in audit.out


# --- live: the real attested file ------------------------------------------------------------


@pytest.fixture(scope="module")
def real_sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """gcb_attestation_test-0.0.0.tar.gz downloaded from the live index with pip."""
    directory = tmp_path_factory.mktemp("gcb")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            "gcb-attestation-test==0.0.0",
            "-d",
            str(directory),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    path = directory / GCB
    assert hashlib.sha256(path.read_bytes()).hexdigest() == GCB_SHA256
    return directory


@pytest.mark.live
def test_a_real_attested_file_locks_verifies_and_a_wrong_identity_is_refused(
    cli: CLI, tmp_path: Path, real_sdist: Path
) -> None:
    gcb = Dist("gcb-attestation-test", "0.0.0", wheel=False)
    with serve_json_index(real_sdist, (gcb,), provenance={GCB: GCB_PROVENANCE}) as index:
        project = write_project(tmp_path / "p", ["gcb-attestation-test==0.0.0"])
        assert _lock(cli, project, index, "--attestations").code == 0
        lock = project.parent / "pylock.toml"
        assert _identities(lock) == {"gcb-attestation-test": [GCB_IDENTITY]}
        venv = tmp_path / "venv"
        verify = ("--verify-attestations", "--bundled-trust-root", "--cache-dir", tmp_path / "c")
        good = cli("install", lock, "--venv", venv, "--dry-run", *verify)
        assert good.code == 0, good.err
        audit = cli("audit", lock, "--attestations", "--bundled-trust-root")
        # Its one finding is the sdist-only warning (A2): the attestation verified.
        assert "T740" not in audit.out
        assert "0 errors, 1 warning" in audit.out and "warning[A2]" in audit.out
        lock.write_text(lock.read_text().replace("919436158236-compute@", "someone@"))
        bad = cli("install", lock, "--venv", venv, "--dry-run", *verify)
    assert bad.code == 2
    assert "signed by Google email=919436158236-compute@developer.gserviceaccount.com" in bad.err
    assert "not an identity the lock records" in bad.err


@pytest.mark.live
def test_the_live_index_serves_no_provenance_one_notice(cli: CLI, tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", ["idna==3.10"])
    run = cli(
        "lock",
        project,
        "--attestations",
        "--exclude-newer",
        "2026-10-01T00:00:00Z",
        "--cache-dir",
        tmp_path / "c",
    )
    assert run.code == 0, run.err
    notices = [line for line in (run.out + run.err).splitlines() if "serves no provenance" in line]
    assert len(notices) == 1, run.out + run.err
    assert "attestation-identities" not in (project.parent / "pylock.toml").read_text()
