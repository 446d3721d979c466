"""tumbler's pre-commit hooks (``.pre-commit-hooks.yaml``) as pre-commit runs them.

``pre-commit try-repo`` installs tumbler from a git copy of this working tree (its
``language: python`` environment, built once per test session in one ``PRE_COMMIT_HOME``)
and runs each hook in a project repository whose lock was made on a loopback index that is
shut down before any hook runs, with an empty tumbler cache: a hook that reached for the
network would fail. pre-commit itself is installed with ``tests/support/tools.py``.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import ROOT
from tests.support.lockfixtures import CATALOGUE, write_project
from tests.support.pkgindex import serve_json_index
from tests.support.tools import clean_env, install_tool

if TYPE_CHECKING:
    from tests.conftest import CLI

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("lock_env")]

GIT = ("git", "-c", "user.name=tumbler tests", "-c", "user.email=tests@tumbler.invalid")


def git(directory: Path, *args: str) -> None:
    subprocess.run([*GIT, *args], cwd=directory, check=True, capture_output=True)


@pytest.fixture(scope="session")
def pre_commit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``pre-commit`` command in a virtual environment of its own."""
    return install_tool(tmp_path_factory, "pre-commit", ["pre-commit"])


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This working tree (tracked and untracked files git does not ignore) as one commit.

    ``try-repo`` on a path takes its HEAD plus changes to tracked files; a copy committed
    whole also carries files not committed here yet.
    """
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode()  # fmt: skip
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in sorted(set(filter(None, listed.split("\0")))):
        source = ROOT / name
        if source.is_file():  # listed but deleted in the working tree: skip
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "tumbler working tree")
    return repo


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pre-commit home per session: tumbler's hook environment is built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def project(cli: CLI, tmp_path: Path, lock_dists: Path) -> Path:
    """A git repository holding a project and its lock, made on an index now shut down."""
    directory = tmp_path / "project"
    with serve_json_index(lock_dists, CATALOGUE) as own:
        write_project(directory, ["alpha", "top"], tool=f'index-url = "{own.url}"')
        locked = cli("lock", directory, "-q")
        assert locked.code == 0, locked.err
    git(directory, "init", "-q")
    git(directory, "add", "-A")
    git(directory, "commit", "-q", "-m", "project and lock")
    return directory


def try_hook(
    pre_commit: Path, hook_repo: Path, home: Path, project: Path, hook: str
) -> subprocess.CompletedProcess[str]:
    """``pre-commit try-repo HOOK_REPO HOOK --all-files`` in ``project``, an empty cache."""
    git(project, "add", "-A")
    env = clean_env(
        {"PRE_COMMIT_HOME": str(home), "TUMBLER_CACHE_DIR": str(project.parent / "empty-cache")}
    )
    return subprocess.run(
        [str(pre_commit), "try-repo", str(hook_repo), hook, "--all-files", "--color", "never"],
        cwd=project, env=env, capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip


def test_lock_check_hook_passes_then_names_the_drifted_input(
    pre_commit: Path, hook_repo: Path, pre_commit_home: Path, project: Path
) -> None:
    """Unchanged: passes from the lock's records. pyproject.toml edited: fails, naming it."""
    passed = try_hook(pre_commit, hook_repo, pre_commit_home, project, "tumbler-lock-check")

    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "tumbler lock --check" in passed.stdout
    assert "Passed" in passed.stdout

    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace('"alpha", "top"', '"alpha", "top", "churn"'),
        encoding="utf-8",
    )
    failed = try_hook(pre_commit, hook_repo, pre_commit_home, project, "tumbler-lock-check")

    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Failed" in failed.stdout
    assert "- exit code: 1" in failed.stdout
    assert "pylock.toml is out of date" in failed.stdout
    assert "dependency 'churn' added to [project.dependencies]" in failed.stdout
    assert "--offline forbids fetching" in failed.stdout  # content not compared: no fetch


def test_validate_hook_passes_then_names_the_rule(
    pre_commit: Path, hook_repo: Path, pre_commit_home: Path, project: Path
) -> None:
    """A valid lock passes; a lock-version tumbler cannot read fails with its rule."""
    passed = try_hook(pre_commit, hook_repo, pre_commit_home, project, "tumbler-validate")

    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout

    lock = project / "pylock.toml"
    text = lock.read_text(encoding="utf-8")
    lock.write_text(text.replace('lock-version = "1.0"', 'lock-version = "3.0"'), encoding="utf-8")
    failed = try_hook(pre_commit, hook_repo, pre_commit_home, project, "tumbler-validate")

    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "error[R9] lock-version '3.0' is not supported" in failed.stdout


def test_format_hook_passes_then_rewrites_the_layout(
    pre_commit: Path, hook_repo: Path, pre_commit_home: Path, project: Path
) -> None:
    """A lock in tumbler's layout passes; a hand-spaced one is rewritten and the hook fails."""
    lock = project / "pylock.toml"
    canonical = lock.read_bytes()
    passed = try_hook(pre_commit, hook_repo, pre_commit_home, project, "tumbler-format")

    assert passed.returncode == 0, passed.stdout + passed.stderr

    spaced = canonical.replace(b'lock-version = "1.0"', b'lock-version  =  "1.0"')
    assert spaced != canonical
    lock.write_bytes(spaced)
    failed = try_hook(pre_commit, hook_repo, pre_commit_home, project, "tumbler-format")

    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "files were modified by this hook" in failed.stdout
    assert "pylock.toml: reformatted" in failed.stdout
    assert canonical == lock.read_bytes()
