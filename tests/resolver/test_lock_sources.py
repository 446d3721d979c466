"""Direct sources in ``tumbler lock`` (git with commit-id, directories, editable, archive
paths and URLs) and ``requirements.in`` inputs (-r, -c, --index-url, markers)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CLI
from tests.support.lockfixtures import pins, write_project
from tests.support.pkgindex import (
    Dist,
    PackageIndex,
    build_wheel,
    write_source_tree,
)

BIN = Path(sys.executable).parent
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
}


pytestmark = pytest.mark.usefixtures("lock_env")


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _packages(path: Path) -> dict[str, dict[str, Any]]:
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    return {p["name"]: p for p in document["packages"]}


def test_git_source_is_locked_at_its_commit(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    repo = write_source_tree(Dist("gitpkg", "1.0", requires_dist=("alpha<1.1",)), tmp_path / "repo")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "one")
    _git(repo, "tag", "v1")
    commit = _git(repo, "rev-parse", "HEAD")
    project = write_project(tmp_path / "project", [f"gitpkg @ git+{repo.as_uri()}@v1"])
    run = cli("lock", project, "--index-url", index.url, "-q")
    assert run.code == 0, run.err
    lock = tmp_path / "project" / "pylock.toml"
    packages = _packages(lock)
    assert packages["gitpkg"]["vcs"] == {
        "type": "git",
        "url": repo.as_uri(),
        "requested-revision": "v1",
        "commit-id": commit,
    }
    assert "version" not in packages["gitpkg"]
    assert packages["gitpkg"]["dependencies"] == [{"name": "alpha"}]
    assert packages["alpha"]["version"] == "1.0"
    assert cli("validate", "--strict", lock).code == 0


def test_directory_source_editable(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    write_source_tree(Dist("localpkg", "2.0", requires_dist=("gamma",)), tmp_path / "localpkg")
    project = write_project(
        tmp_path / "project",
        [f"localpkg @ {(tmp_path / 'localpkg').as_uri()}"],
        tool='editable = ["localpkg"]',
    )
    assert cli("lock", project, "--index-url", index.url, "-q").code == 0
    lock = tmp_path / "project" / "pylock.toml"
    packages = _packages(lock)
    assert packages["localpkg"]["directory"] == {"path": "../localpkg", "editable": True}
    assert packages["gamma"]["version"] == "0.6"
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))} | {
        "UV_NO_CONFIG": "1"
    }
    subprocess.run([str(BIN / "uv"), "venv", "-q", str(venv)], check=True, env=env)
    proc = subprocess.run(
        [str(BIN / "uv"), "pip", "install", "-q", "--no-cache", "--python", str(venv / "bin" / "python"), "-r", str(lock)],
        capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    imported = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import localpkg, gamma; print(localpkg.__file__)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert str(tmp_path / "localpkg") in imported.stdout  # editable: imported from the tree


def test_archive_path_and_url(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    wheel = build_wheel(Dist("archpkg", "3.0"), tmp_path)
    url = index.file_url("churn-1.0-py3-none-any.whl")
    project = write_project(tmp_path / "project", [f"archpkg @ {wheel.as_uri()}", f"churn @ {url}"])
    run = cli("lock", project, "--index-url", index.url, "-q")
    assert run.code == 0, run.err
    packages = _packages(tmp_path / "project" / "pylock.toml")
    import hashlib

    assert packages["archpkg"]["archive"] == {
        "path": "../" + wheel.name,
        "size": wheel.stat().st_size,
        "hashes": {"sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()},
    }
    assert packages["archpkg"]["version"] == "3.0"
    assert packages["churn"]["archive"]["url"] == url
    assert packages["churn"]["archive"]["hashes"] == {
        "sha256": index.sha256("churn-1.0-py3-none-any.whl")
    }


def test_archive_url_hashes_are_all_checked(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    """Every hash the URL fragment names must match (not sha256 alone); the old lock stays."""
    url = index.file_url("churn-1.0-py3-none-any.whl")
    good = index.sha256("churn-1.0-py3-none-any.whl")
    project = write_project(tmp_path, [f"churn @ {url}#sha256={good}&sha512={'0' * 128}"])
    (tmp_path / "pylock.toml").write_text("# keep me\n", encoding="utf-8")
    run = cli("lock", project, "--index-url", index.url, "-q")
    assert run.code == 2
    assert run.err == f"tumbler: error: {url}: the download does not match the URL's sha512\n"
    assert (tmp_path / "pylock.toml").read_text(encoding="utf-8") == "# keep me\n"


def test_requirements_in(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    (tmp_path / "base.in").write_text("alpha\n", encoding="utf-8")
    (tmp_path / "constraints.txt").write_text("alpha<1.1\n", encoding="utf-8")
    (tmp_path / "requirements.in").write_text(
        f"--index-url {index.url}\n-r base.in\n-c constraints.txt\n"
        "delta ; sys_platform == 'linux'\ngamma ; sys_platform == 'win32'  # not here\nbeta[fast]\n",
        encoding="utf-8",
    )
    run = cli("lock", tmp_path / "requirements.in", "-q", "--platform", "linux-x86_64")
    assert run.code == 0, run.err
    lock = tmp_path / "pylock.toml"
    assert pins(lock) == {"alpha": "1.0", "beta": "1.0", "delta": "1.0", "gamma": "0.6"}
    table = tomllib.loads(lock.read_text(encoding="utf-8"))["tool"]["tumbler"]
    assert table["project"] == "requirements.in"
    assert table["inputs"]["constraints"] == ["alpha<1.1"]
    assert table["indexes"] == [index.url]
    check = cli(
        "lock", tmp_path / "requirements.in", "--check", "--platform", "linux-x86_64", "--offline"
    )
    assert check.code == 0, check.out
    (tmp_path / "base.in").write_text("alpha\nchurn\n", encoding="utf-8")
    drift = cli("lock", tmp_path / "requirements.in", "--check", "--platform", "linux-x86_64")
    assert drift.code == 1
    assert "dependency 'churn' added to requirements.in" in drift.out
