"""The cache is never a way around verification (hardening): installed files are not the
cache's, a changed cache entry is never installed, a wheel naming another project is
refused, and ``--verify`` finds an edited installed file."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import CLI
from tests.installing.test_pipeline import install, make_venv, tumbler_lock
from tests.support.lockfixtures import write_project
from tests.support.pkgindex import Dist, PackageIndex, build_wheel

pytestmark = pytest.mark.usefixtures("lock_env")


def _cache() -> Path:
    return Path(os.environ["TUMBLER_CACHE_DIR"])


def _staged_module(name: str) -> Path:
    """The one staged copy of ``name``'s ``__init__.py`` in the cache."""
    (found,) = _cache().glob(f"unpacked/*/*/*/tree/purelib/{name}/__init__.py")
    return found


def _run(python: Path, code: str) -> str:
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    return done.stdout + done.stderr


def test_an_edit_in_one_environment_reaches_neither_the_cache_nor_the_next(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    lock = tumbler_lock(cli, write_project(tmp_path / "p", ["alpha"]), index, "--target", "host")
    assert install(cli, lock, tmp_path / "one", "-q").code == 0
    installed = next((tmp_path / "one").glob("lib/python*/site-packages/alpha/__init__.py"))
    staged = _staged_module("alpha")
    before = staged.read_bytes()
    with installed.open("ab") as handle:  # an edit in place, as `>>` does
        handle.write(b"EDITED = True\n")
    assert staged.read_bytes() == before
    assert install(cli, lock, tmp_path / "two", "-q").code == 0
    python = tmp_path / "two" / "bin" / "python"
    assert "False" in _run(python, "import alpha; print(hasattr(alpha, 'EDITED'))")


def test_hardlink_mode_shares_the_files_and_says_so(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    """--link-mode hardlink shares inodes with the cache (as documented); the cheap check
    then catches the edit before the next install uses the entry, and replaces it."""
    lock = tumbler_lock(cli, write_project(tmp_path / "p", ["alpha"]), index, "--target", "host")
    assert install(cli, lock, tmp_path / "one", "-q", "--link-mode", "hardlink").code == 0
    installed = next((tmp_path / "one").glob("lib/python*/site-packages/alpha/__init__.py"))
    assert installed.stat().st_ino == _staged_module("alpha").stat().st_ino
    with installed.open("ab") as handle:
        handle.write(b"EDITED = True\n")
    again = install(cli, lock, tmp_path / "two", "--link-mode", "hardlink")
    assert again.code == 0, again.err
    assert "the cached copy of alpha-" in again.err and "had changed: replaced" in again.err
    python = tmp_path / "two" / "bin" / "python"
    assert "False" in _run(python, "import alpha; print(hasattr(alpha, 'EDITED'))")


@pytest.mark.parametrize("keep_time", [False, True])
def test_a_tampered_cache_entry_is_replaced_not_installed(
    cli: CLI, tmp_path: Path, index: PackageIndex, keep_time: bool
) -> None:
    """An edited staged file: found by its time (cheap) or, when the edit kept size and
    time, by --verify-cache; the entry is staged again from the verified wheel."""
    lock = tumbler_lock(cli, write_project(tmp_path / "p", ["alpha"]), index, "--target", "host")
    assert install(cli, lock, tmp_path / "one", "-q").code == 0
    staged = _staged_module("alpha")
    stamp = staged.stat()
    text = staged.read_bytes()
    tampered = text[: -len(b"EVIL=1\n")] + b"EVIL=1\n"
    assert len(tampered) == len(text)
    staged.write_bytes(tampered)
    if keep_time:
        os.utime(staged, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    flags = ("--verify-cache",) if keep_time else ()
    run = install(cli, lock, tmp_path / "two", *flags)
    assert run.code == 0, run.err
    assert "had changed: replaced" in run.err
    python = tmp_path / "two" / "bin" / "python"
    assert "False" in _run(python, "import alpha; print(hasattr(alpha, 'EVIL'))")
    assert _staged_module("alpha").read_bytes() == text  # staged again, as verified


def test_a_corrupted_cached_wheel_is_thrown_away_and_never_used(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    lock = tumbler_lock(cli, write_project(tmp_path / "p", ["alpha"]), index, "--target", "host")
    assert install(cli, lock, tmp_path / "one", "-q").code == 0
    shutil.rmtree(_cache() / "unpacked")  # only the wheel in the store is left
    (stored,) = [p for p in (_cache() / "files").rglob("*") if p.is_file()]
    good = stored.read_bytes()
    stored.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))  # same size, another hash
    offline = install(cli, lock, tmp_path / "two", "--offline")
    assert offline.code == 2
    assert "I6" in offline.err and not (tmp_path / "two").exists()
    assert not stored.exists()  # evicted, not kept
    online = install(cli, lock, tmp_path / "three", "-q")
    assert online.code == 0, online.err
    assert stored.read_bytes() == good


def test_a_wheel_whose_metadata_names_another_project_is_refused(cli: CLI, tmp_path: Path) -> None:
    """evilf-1.0-py3-none-any.whl (its own dist-info, a correct hash) whose METADATA says
    requests 9.9; and one whose file name says evilf but whose dist-info is requests's."""
    (tmp_path / "build").mkdir()
    evil = _renamed_metadata(build_wheel(Dist("evilf", "1.0"), tmp_path / "build"), tmp_path)
    digest = hashlib.sha256(evil.read_bytes()).hexdigest()
    lock = tmp_path / "pylock.toml"
    lock.write_text(
        'lock-version = "1.0"\ncreated-by = "test"\n\n[[packages]]\nname = "evilf"\n'
        f'version = "1.0"\nwheels = [{{ path = "{evil.name}", hashes = {{ sha256 = "{digest}" }} }}]\n',
        encoding="utf-8",
    )
    venv = tmp_path / "venv"
    run = install(cli, lock, venv)
    assert run.code == 2
    assert "R32" in run.err
    assert (
        "evilf-1.0-py3-none-any.whl: its METADATA names requests 9.9, not evilf 1.0; "
        "refusing the wheel"
    ) in run.err
    assert "Traceback" not in run.err
    assert not venv.exists()


def _renamed_metadata(wheel: Path, directory: Path) -> Path:
    """``wheel`` again, its METADATA saying ``requests 9.9`` (RECORD updated to match)."""
    import base64
    import zipfile

    target = directory / wheel.name
    with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(target, "w") as out:
        members = {info.filename: source.read(info) for info in source.infolist()}
        (metadata,) = [n for n in members if n.endswith(".dist-info/METADATA")]
        text = members[metadata].decode()
        text = text.replace("Name: evilf", "Name: requests").replace("Version: 1.0", "Version: 9.9")
        members[metadata] = text.encode()
        digest = hashlib.sha256(members[metadata]).digest()
        hashed = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        (record,) = [n for n in members if n.endswith(".dist-info/RECORD")]
        rows = [
            f"{metadata},sha256={hashed},{len(members[metadata])}"
            if row.startswith(metadata + ",")
            else row
            for row in members[record].decode().splitlines()
        ]
        members[record] = ("\n".join(rows) + "\n").encode()
        for name, data in members.items():
            out.writestr(name, data)
    return target


def test_verify_lists_edited_and_missing_installed_files(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    lock = tumbler_lock(
        cli, write_project(tmp_path / "p", ["alpha", "beta"]), index, "--target", "host"
    )
    venv = tmp_path / "venv"
    assert install(cli, lock, venv, "-q").code == 0
    clean = cli("sync", lock, "--venv", venv, "--verify")
    assert clean.code == 0, clean.out
    assert "every installed file is as its RECORD says" in clean.out
    site = next(venv.glob("lib/python*/site-packages"))
    with (site / "alpha" / "__init__.py").open("ab") as handle:
        handle.write(b"# edited\n")
    (site / "beta" / "__init__.py").unlink()
    run = cli("sync", lock, "--venv", venv, "--verify")
    assert run.code == 1
    assert "  alpha/__init__.py: changed (sha256 differs; size" in run.out
    assert "  beta/__init__.py: missing" in run.out
    assert run.out.strip().endswith("2 differences from the lock")
    as_json = cli("sync", lock, "--venv", venv, "--verify", "--format", "json")
    assert as_json.code == 1 and '"problem": "missing"' in as_json.out
    make_venv(tmp_path / "empty")
    missing = cli("install", lock, "--python", tmp_path / "empty" / "bin" / "python", "--verify")
    assert missing.code == 1 and "add: not installed, the lock has" in missing.out
