"""The semantic diff: every change kind, as typed values and in all three formats."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BROKEN_REAL, CLI, REAL, check_snapshot
from tumbler.lockfile.diff import ChangeKind, FieldChange, diff_locks
from tumbler.lockfile.load import load_lock
from tumbler.lockfile.source import read_source

DATA = Path(__file__).resolve().parents[1] / "data" / "diff"
OLD, NEW = DATA / "old.toml", DATA / "new.toml"


def _diff() -> object:
    return diff_locks(
        load_lock(read_source(str(OLD))).pylock, load_lock(read_source(str(NEW))).pylock
    )


def test_every_change_kind_as_values() -> None:
    """Added, removed, upgraded, downgraded and changed entries, each with its exact fields."""
    diff = diff_locks(
        load_lock(read_source(str(OLD))).pylock, load_lock(read_source(str(NEW))).pylock
    )
    summary = {(c.name, c.marker, c.kind, c.old_version, c.new_version) for c in diff.packages}
    assert summary == {
        ("certifi", None, ChangeKind.CHANGED, "2024.8.30", "2024.8.30"),
        ("chardet", None, ChangeKind.REMOVED, "5.2.0", None),
        ("click", "'cli' in extras", ChangeKind.CHANGED, "8.1.7", "8.1.7"),
        ("idna", None, ChangeKind.ADDED, None, "3.10"),
        ("mylib", None, ChangeKind.CHANGED, None, None),
        ("numpy", "sys_platform == 'linux'", ChangeKind.UPGRADED, "2.0.0", "2.1.0"),
        ("numpy", "sys_platform == 'win32'", ChangeKind.CHANGED, "1.26.4", "1.26.4"),
        ("requests", None, ChangeKind.UPGRADED, "2.31.0", "2.32.3"),
        ("urllib3", "python_version >= '3.10'", ChangeKind.DOWNGRADED, "2.2.0", "1.26.20"),
    }
    fields = {(c.name, c.marker): c.fields for c in diff.packages}
    sha = "sha256:"
    assert fields[("certifi", None)] == (
        FieldChange(
            "index", "https://index.example.com/simple/", "https://mirror.example.com/simple/"
        ),
        FieldChange(
            "wheels[certifi-2024.8.30-py3-none-any.whl].hashes",
            sha + "1" * 64,
            sha + "ab" * 32,
            True,
        ),
    )
    assert [f.field for f in fields[("click", "'cli' in extras")]] == ["attestation-identities"]
    assert fields[("click", "'cli' in extras")][0].loud
    assert fields[("mylib", None)] == (FieldChange("vcs.commit-id", "a" * 40, "b" * 40),)
    assert fields[("numpy", "sys_platform == 'win32'")] == (
        FieldChange("wheels", None, "numpy-1.26.4-cp312-cp312-win_arm64.whl"),
    )
    assert fields[("numpy", "sys_platform == 'linux'")] == (
        FieldChange("wheel-tags", "cp312-cp312-win_amd64", None),
    )
    assert fields[("requests", None)] == (
        FieldChange("requires-python", ">=3.7", ">=3.8"),
        FieldChange("source", "sdist+wheels", "wheels"),
    )
    assert [f.field for f in fields[("urllib3", "python_version >= '3.10'")]] == [
        "marker",
        "source",
        "wheel-tags",
        "tool.tumbler.direct",
    ]
    assert diff.lock == (
        FieldChange("requires-python", ">=3.9", ">=3.10"),
        FieldChange("extras", None, "socks"),
    )


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_diff_output_snapshots(fmt: str, cli: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    """The exact output of each format; exit 1 because the locks differ."""
    monkeypatch.chdir(DATA)
    run = cli("diff", "--format", fmt, "--color", "never", "old.toml", "new.toml")
    assert run.code == 1
    assert run.err == ""
    check_snapshot(f"diff.{'md' if fmt == 'markdown' else fmt}", run.out)
    if fmt == "json":
        document = json.loads(run.out)
        assert document["equal"] is False
        assert document["summary"] == {
            "added": 1, "removed": 1, "upgraded": 2, "downgraded": 1, "changed": 4
        }  # fmt: skip


def test_colour_only_when_asked_or_a_terminal(cli: CLI) -> None:
    """--color always paints the kinds and the loud hash warning; never leaves plain text."""
    painted = cli("diff", "--color", "always", OLD, NEW).out
    assert "\x1b[1;31m!!\x1b[0m" in painted
    assert "\x1b[" not in cli("diff", "--color", "never", OLD, NEW).out


@pytest.mark.parametrize(
    "corpus_file", [p for p in REAL if p.name not in BROKEN_REAL], ids=lambda p: p.name[:50]
)
def test_corpus_file_against_itself_and_formatted_self(
    corpus_file: Path, tmp_path: Path, cli: CLI
) -> None:
    """diff of a file against itself, and against its `format`ted copy, is empty (exit 0)."""
    assert cli("diff", corpus_file, corpus_file).code == 0
    formatted = tmp_path / "pylock.toml"
    formatted.write_bytes(corpus_file.read_bytes())
    assert cli("format", formatted).code == 0
    run = cli("diff", "--format", "json", corpus_file, formatted)
    assert json.loads(run.out)["equal"] is True
    assert run.code == 0


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def test_git_revisions(tmp_path: Path, cli: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    """OLD may be REV:path, or --base REV compares the working file with its committed self."""
    _git(tmp_path, "init", "-q")
    lock = tmp_path / "pylock.toml"
    lock.write_bytes(OLD.read_bytes())
    _git(tmp_path, "add", "pylock.toml")
    _git(tmp_path, "commit", "-qm", "old")
    lock.write_bytes(NEW.read_bytes())
    _git(tmp_path, "commit", "-qam", "new")
    monkeypatch.chdir(tmp_path)
    by_rev = cli("diff", "--format", "json", "HEAD~1:pylock.toml", "HEAD:pylock.toml")
    assert by_rev.code == 1
    assert json.loads(by_rev.out)["summary"]["upgraded"] == 2
    assert cli("diff", "--base", "HEAD", "pylock.toml").code == 0
    base = cli("diff", "--format", "json", "--base", "HEAD~1", "pylock.toml")
    assert (base.code, json.loads(base.out)["summary"]["added"]) == (1, 1)
    # no files: the working tree's lock against the last commit's
    assert cli("diff").code == 0
    lock.write_bytes(OLD.read_bytes())
    working = cli("diff", "--format", "json")
    assert working.code == 1
    assert (json.loads(working.out)["old"], json.loads(working.out)["new"]) == (
        "HEAD:pylock.toml",
        "pylock.toml",
    )
    assert json.loads(working.out)["summary"]["downgraded"] == 2
    missing = cli("diff", "--base", "no-such-rev", "pylock.toml")
    assert missing.code == 2
    assert missing.err.startswith("tumbler: error: no-such-rev:pylock.toml: cannot read from git")
    assert len(missing.err.strip().splitlines()) == 1


def test_a_lock_the_branch_adds_reads_as_all_added(
    tmp_path: Path, cli: CLI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``diff --base REV FILE`` where REV has no FILE yet (a pull request adding the lock):
    every package added, exit 1; a revision that does not exist stays an error."""
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "commit", "-q", "--allow-empty", "-m", "start")
    (tmp_path / "pylock.toml").write_bytes(NEW.read_bytes())
    monkeypatch.chdir(tmp_path)
    added = cli("diff", "--format", "json", "--base", "HEAD", "pylock.toml")
    assert added.code == 1, added.err
    document = json.loads(added.out)
    assert document["old"] == "HEAD:pylock.toml (not there)"
    assert (
        document["summary"]["added"] == len(read_source(str(NEW)).data.split(b"[[packages]]")) - 1
    )
    assert cli("diff", "--base", "nope", "pylock.toml").code == 2
