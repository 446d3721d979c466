"""Kept gate verdicts (:mod:`tumbler.cli.memo`), through the real ``tumbler`` executable.

A second identical ``lock --check`` on an up-to-date lock answers without loading the
checker (``python -X importtime`` shows which modules a run imported), with the same bytes
on stdout and stderr and the same exit code as a run with the memo off; any change in what
the first run read (the project, the lock, a cached record, a file beside the project, the
settings) makes the checker run again and name the drift as it always does; drift, errors
and ``--full`` are never kept; a damaged entry only costs the shortcut.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import CLI
from tests.support.lockfixtures import write_project
from tests.support.pkgindex import PackageIndex
from tumbler.cli import memo

#: Nothing listens here: a gate that touched the network would fail.
NOWHERE = "http://127.0.0.1:9/simple"
DATE = "2024-01-01"


@dataclass(frozen=True)
class Asked:
    """One run of the executable: exit code, stdout, stderr, whether the checker loaded."""

    code: int
    out: str
    err: str
    checked: bool


@pytest.fixture
def locked(cli: CLI, tmp_path: Path, index: PackageIndex, lock_env: None) -> Path:
    project = write_project(tmp_path / "p", ["beta", "delta"], groups={"dev": ["churn"]})
    run = cli("lock", project, "--index-url", index.url, "-q", "--exclude-newer", DATE)
    assert run.code == 0, run.err
    return project


def _ask(project: Path, *args: str, index: str = NOWHERE, **env: str) -> Asked:
    command = [sys.executable, "-X", "importtime", "-m", "tumbler", "lock", str(project)]
    command += ["--check", "--index-url", index, "--exclude-newer", DATE, *args]
    done = subprocess.run(
        command,
        cwd=project.parent,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    )
    lines = done.stderr.splitlines(keepends=True)
    imported = [line for line in lines if line.startswith("import time:")]
    err = "".join(line for line in lines if not line.startswith("import time:"))
    checked = any(line.rstrip().endswith(" tumbler.resolver.workflow") for line in imported)
    return Asked(done.returncode, done.stdout, err, checked)


def _kept(project: Path, *args: str, index: str = NOWHERE) -> Asked:
    """Ask twice; the second answer (after the first kept its verdict)."""
    first = _ask(project, *args, index=index)
    assert first.code == 0, first.out + first.err
    assert first.checked
    return _ask(project, *args, index=index)


@pytest.mark.parametrize("form", ["text", "json", "markdown"])
def test_asking_again_answers_the_same_bytes_without_the_checker(locked: Path, form: str) -> None:
    again = _kept(locked, "--format", form)
    assert not again.checked
    fresh = _ask(locked, "--format", form, TUMBLER_NO_MEMO="1")
    assert fresh.checked
    assert (again.code, again.out, again.err) == (fresh.code, fresh.out, fresh.err)
    assert again.code == 0
    assert ("up_to_date" if form == "json" else "up to date") in again.out


def test_an_edited_project_runs_the_checker_and_names_the_drift(locked: Path) -> None:
    assert not _kept(locked).checked
    text = locked.read_text(encoding="utf-8")
    locked.write_text(text.replace('"beta", "delta"', '"beta", "delta", "gamma"'), "utf-8")
    after = _ask(locked)
    assert after.checked
    assert after.code == 1
    assert "gamma" in after.out


def test_a_flipped_digit_in_the_lock_is_named(locked: Path, index: PackageIndex) -> None:
    assert not _kept(locked, "--offline", index=index.url).checked
    lock = locked.parent / "pylock.toml"
    text = lock.read_text(encoding="utf-8")
    start = text.index('sha256 = "') + len('sha256 = "')
    digit = "0" if text[start] != "0" else "1"
    lock.write_text(text[:start] + digit + text[start + 1 :], encoding="utf-8")
    after = _ask(locked, "--offline", index=index.url)
    assert after.checked
    assert after.code == 1, after.out + after.err
    assert "content changed:" in after.out


def test_a_lock_rewritten_with_the_same_bytes_is_still_answered(locked: Path) -> None:
    """A checkout rewrites files (new times, new inode); the bytes are what count."""
    assert not _kept(locked).checked
    lock = locked.parent / "pylock.toml"
    data = lock.read_bytes()
    lock.unlink()
    lock.write_bytes(data)
    assert not _ask(locked).checked


def test_a_changed_cache_record_runs_the_checker(locked: Path, tmp_path: Path) -> None:
    assert not _kept(locked).checked
    cache = tmp_path / "cache"
    records = sorted(p for p in cache.rglob("*") if p.is_file() and "memo" not in p.parts)
    assert records
    for record in records:  # rewritten as the cache writes: a new file renamed into place
        data = record.read_bytes()
        record.unlink()
        record.write_bytes(data)
    after = _ask(locked)
    assert after.checked
    assert after.code == 0


def test_a_new_file_beside_the_project_runs_the_checker(locked: Path) -> None:
    assert not _kept(locked).checked
    (locked.parent / "requirements.txt").write_text("beta\n", encoding="utf-8")
    assert _ask(locked).checked


def test_other_settings_are_another_question(locked: Path) -> None:
    assert not _kept(locked).checked
    assert _ask(locked, TUMBLER_OFFLINE="1").checked
    assert _ask(locked, "--quiet").checked
    assert _ask(locked, TUMBLER_NO_MEMO="1").checked
    assert _ask(locked, TUMBLER_NO_MEMO="1").checked  # and nothing was kept for it


def test_drift_is_never_kept(locked: Path) -> None:
    text = locked.read_text(encoding="utf-8")
    locked.write_text(text.replace('"beta", "delta"', '"beta", "delta", "gamma"'), "utf-8")
    for _ in range(2):
        drifted = _ask(locked)
        assert drifted.checked
        assert drifted.code == 1


def test_full_is_never_kept(locked: Path, index: PackageIndex) -> None:
    for _ in range(2):
        full = _ask(locked, "--full", index=index.url)
        assert full.code == 0, full.out + full.err
        assert full.checked


def test_a_damaged_entry_costs_only_the_shortcut(locked: Path, tmp_path: Path) -> None:
    assert not _kept(locked).checked
    entries = [p for p in (tmp_path / "cache" / "memo").rglob("*") if p.is_file()]
    assert entries
    for entry in entries:
        entry.write_bytes(b"\x00garbage")
    after = _ask(locked)
    assert (after.checked, after.code) == (True, 0)
    assert "Traceback" not in after.err
    assert not _ask(locked).checked  # kept again


def test_applies_only_to_a_check_that_may_be_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TUMBLER_NO_MEMO", raising=False)
    assert memo.applies(["lock", "--check"])
    assert not memo.applies(["lock"])
    assert not memo.applies(["lock", "--check", "--full"])
    assert not memo.applies(["install", "--check"])
    assert not memo.applies([])
    monkeypatch.setenv("TUMBLER_NO_MEMO", "1")
    assert not memo.applies(["lock", "--check"])


#: Run in a child: the audit hook a Recorder adds stays for the life of its process.
RECORDER = """
import os, sys
from tumbler.cli import memo
argv, target, edit = sys.argv[1:-2], sys.argv[-2], sys.argv[-1]
with memo.Recorder(argv) as recorder:
    with open(target, encoding="utf-8") as handle:
        handle.read()
    if edit == "during":
        with open(target, "a", encoding="utf-8") as handle:
            handle.write("x")
memo.vouch()
kept = recorder.keep(0)
if edit == "after":
    times = os.stat(target).st_mtime_ns
    with open(target, "r+", encoding="utf-8") as handle:
        handle.write("B")  # same size, same inode
    os.utime(target, ns=(times, times))  # and the same time
print(kept, memo.recall(argv) is not None)
"""


def _recorded(tmp_path: Path, edit: str) -> str:
    target = tmp_path / "input.txt"
    target.write_text("A", encoding="utf-8")
    (tmp_path / "cache").mkdir()
    argv = ["lock", "--check", "--cache-dir", str(tmp_path / "cache")]
    done = subprocess.run(
        [sys.executable, "-c", RECORDER, *argv, str(target), edit],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def test_a_verdict_is_kept_and_recalled_when_nothing_moved(tmp_path: Path) -> None:
    assert _recorded(tmp_path, "none") == "True True"


def test_a_file_changed_while_the_run_read_it_is_not_kept(tmp_path: Path) -> None:
    assert _recorded(tmp_path, "during") == "False False"


def test_an_edit_in_the_same_clock_tick_is_caught_by_the_bytes(tmp_path: Path) -> None:
    """Same inode, size and time as when kept: a time this recent is not trusted."""
    assert _recorded(tmp_path, "after") == "True False"
