"""Locks pointing at a real index on 127.0.0.1: validate accepts them, files are verified
(I7), and real installers (uv, pip) install what ``tumbler format`` wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from packaging.pylock import Pylock

from tests.conftest import CLI, CORPUS
from tests.support.pkgindex import Dist, PackageIndex, build_dists, serve_json_index
from tumbler.lockfile.render import render

BIN = Path(sys.executable).parent
#: The releases the lock pins: alpha 1.1, beta 1.0 with its `fast` extra (gamma), sdist-only.
PINNED = {"alpha": "1.1", "beta": "1.0", "gamma": "0.6"}


def _lock_doc(index: PackageIndex) -> dict[str, Any]:
    packages = []
    for dist in index.dists:
        if PINNED.get(dist.project) != dist.version:
            continue
        package: dict[str, Any] = {
            "name": dist.project,
            "version": dist.version,
            "index": index.url,
        }
        if dist.project == "gamma":
            package["marker"] = "'fast' in extras"
        files = [
            {
                "url": index.file_url(name),
                "upload-time": dist.upload_time,
                "size": index.files[name].stat().st_size,
                "hashes": {"sha256": index.sha256(name)},
            }
            for name in dist.filenames
        ]
        package["wheels"] = [f for f in files if str(f["url"]).endswith(".whl")]
        package["sdist"] = next(f for f in files if str(f["url"]).endswith(".tar.gz"))
        packages.append(package)
    return {
        "lock-version": "1.0",
        "created-by": "tumbler",
        "requires-python": ">=3.9",
        "extras": ["fast"],
        "dependency-groups": [],
        "default-groups": [],
        "packages": packages,
    }


def _write_lock(index: PackageIndex, directory: Path) -> Path:
    lock = directory / "pylock.toml"
    lock.write_text(render(Pylock.from_dict(_lock_doc(index))), encoding="utf-8")
    return lock


@pytest.mark.parametrize("server", ["json_index", "pypiserver_index"])
def test_validate_accepts_lock_on_local_index(
    server: str, request: pytest.FixtureRequest, tmp_path: Path, cli: CLI
) -> None:
    """A lock of files served on 127.0.0.1 validates, selects and verifies on this host."""
    index: PackageIndex = request.getfixturevalue(server)
    lock = _write_lock(index, tmp_path)
    run = cli("validate", "--format", "json", "--verify-files", "--extras", "fast", lock)
    report = json.loads(run.out)["files"][0]
    assert (run.code, report["findings"]) == (0, [])
    assert cli("audit", lock).code == 0


def _tamper(lock: Path, old: str, new: str) -> None:
    text = lock.read_text(encoding="utf-8")
    assert old in text
    lock.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_hash_and_size_mismatch_refused(json_index: PackageIndex, tmp_path: Path, cli: CLI) -> None:
    """A wrong digest or size of a selected file is an error naming the file (I7)."""
    lock = _write_lock(json_index, tmp_path)
    wheel = "alpha-1.1-py3-none-any.whl"
    _tamper(lock, json_index.sha256(wheel), "0" * 64)
    run = cli("validate", "--format", "json", "--verify-files", lock)
    findings = json.loads(run.out)["files"][0]["findings"]
    assert run.code == 1
    assert [(f["rule"], f["location"]) for f in findings] == [
        ("I7", "packages[0].wheels[0].hashes.sha256")
    ]
    assert wheel in findings[0]["message"]
    lock = _write_lock(json_index, tmp_path)
    size = json_index.files[wheel].stat().st_size
    _tamper(lock, f"size = {size},", f"size = {size + 1},")
    findings = json.loads(cli("validate", "--format", "json", "--verify-files", lock).out)["files"][
        0
    ]["findings"]
    assert [(f["rule"], f["location"]) for f in findings] == [("I7", "packages[0].wheels[0].size")]


@pytest.mark.parametrize("name", ["install-hash-mismatch.toml", "install-size-mismatch.toml"])
def test_corpus_install_mismatches_refused_offline(name: str, tmp_path: Path, cli: CLI) -> None:
    """The corpus' attrs 25.1.0 cases, served from 127.0.0.1 by a wheel built here.

    The recorded digest is wrong for the real wheel and the recorded size is 1 byte: our
    built wheel of the same name matches neither, so both are refused (I7).
    """
    dists = (Dist("attrs", "25.1.0", upload_time=datetime(2025, 1, 25, tzinfo=UTC), sdist=False),)
    files = tmp_path / "files"
    files.mkdir()
    build_dists(dists, files)
    with serve_json_index(files, dists) as index:
        text = (CORPUS / "invalid" / name).read_text(encoding="utf-8")
        start = text.index("https://files.example.com/")
        end = text.index(".whl", start) + len(".whl")
        lock = tmp_path / "pylock.toml"
        lock.write_text(
            text.replace(text[start:end], index.file_url("attrs-25.1.0-py3-none-any.whl")),
            encoding="utf-8",
        )
        assert cli("validate", lock).code == 0
        run = cli("validate", "--format", "json", "--verify-files", lock)
    assert run.code == 1
    rules = {f["rule"] for f in json.loads(run.out)["files"][0]["findings"]}
    assert rules == {"I7"}


@pytest.mark.live
@pytest.mark.parametrize("name", ["install-hash-mismatch.toml", "install-size-mismatch.toml"])
def test_corpus_install_mismatches_refused_live(name: str, tmp_path: Path, cli: CLI) -> None:
    """Live: the real attrs 25.1.0 wheel from the index's file host is refused (I7).

    The corpus scrubs the file host to files.example.com; the real host name comes from
    pip, which publishes it (``PyPI.file_storage_domain``).
    """
    from pip._internal.models.index import PyPI

    text = (CORPUS / "invalid" / name).read_text(encoding="utf-8")
    lock = tmp_path / "pylock.toml"
    lock.write_text(text.replace("files.example.com", PyPI.file_storage_domain), encoding="utf-8")
    run = cli("validate", "--format", "json", "--verify-files", lock)
    assert run.code == 1
    findings = json.loads(run.out)["files"][0]["findings"]
    assert {f["rule"] for f in findings} == {"I7"}
    assert all("refusing the file" in f["message"] for f in findings)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env["UV_NO_CONFIG"] = "1"
    return env


def test_uv_installs_formatted_lock(json_index: PackageIndex, tmp_path: Path, cli: CLI) -> None:
    """``uv pip install -r pylock.toml`` installs exactly what tumbler wrote (with the extra)."""
    lock = _write_lock(json_index, tmp_path)
    assert cli("format", "--check", lock).code == 0
    venv = tmp_path / "venv"
    uv = str(BIN / "uv")
    subprocess.run([uv, "venv", "-q", str(venv)], check=True, env=_env())
    python = venv / "bin" / "python"
    proc = subprocess.run(
        [uv, "pip", "install", "-q", "--no-cache", "--python", str(python), "-r", str(lock), "--extra", "fast"],
        capture_output=True, text=True, check=False, env=_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    listed = subprocess.run(
        [uv, "pip", "list", "--python", str(python), "--format", "json"],
        capture_output=True, text=True, check=True, env=_env(),
    )  # fmt: skip
    assert {p["name"]: p["version"] for p in json.loads(listed.stdout)} == PINNED


def test_pip_installs_formatted_lock(pypiserver_index: PackageIndex, tmp_path: Path) -> None:
    """``pip install -r pylock.toml`` (pip >= 25.1) installs what tumbler wrote."""
    lock = _write_lock(pypiserver_index, tmp_path)
    target = tmp_path / "target"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--isolated", "--no-cache-dir", "-q",
         "--target", str(target), "-r", str(lock)],
        capture_output=True, text=True, check=False, env=_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    installed = sorted(p.name for p in target.glob("*.dist-info"))
    assert installed == ["alpha-1.1.dist-info", "beta-1.0.dist-info"]


def test_unusable_hash_algorithms_and_urls_are_findings(
    json_index: PackageIndex, tmp_path: Path, cli: CLI
) -> None:
    """A ``shake_256`` digest (no fixed length) is left unchecked beside sha256, and a URL
    without a scheme is an I6 finding: neither is a traceback."""
    lock = _write_lock(json_index, tmp_path)
    wheel = "alpha-1.1-py3-none-any.whl"
    digest = json_index.sha256(wheel)
    _tamper(lock, f'sha256 = "{digest}"', f'sha256 = "{digest}", shake_256 = "00"')
    run = cli("validate", "--format", "json", "--verify-files", lock)
    assert run.code == 0, run.out + run.err
    lock = _write_lock(json_index, tmp_path)
    _tamper(lock, json_index.file_url(wheel), "example.invalid/alpha-1.1-py3-none-any.whl")
    run = cli("validate", "--format", "json", "--verify-files", lock)
    findings = json.loads(run.out)["files"][0]["findings"]
    assert run.code == 1
    assert [(f["rule"], f["location"]) for f in findings if f["rule"] == "I6"] == [
        ("I6", "packages[0].wheels[0]")
    ]
    assert "Traceback" not in run.err
