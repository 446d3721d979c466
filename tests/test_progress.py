"""tumbler.progress: a progress line on a real terminal (a pseudo-terminal here), and none
in CI, with ``--quiet``, on a dumb terminal or in a pipe."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest

from tests.support.lockfixtures import write_project
from tumbler.progress import Progress, wanted

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from typing import TextIO

    from tests.support.pkgindex import PackageIndex

CLEAR = "\r\x1b[2K"


@pytest.fixture
def terminal() -> Iterator[tuple[int, TextIO]]:
    """A pseudo-terminal: its master fd (to read what was shown) and its slave as a stream."""
    master, slave = pty.openpty()
    stream = os.fdopen(slave, "w", encoding="utf-8")
    yield master, stream
    stream.close()
    os.close(master)


def _drain(master: int, timeout: float = 0.5) -> str:
    chunks = []
    while select.select([master], [], [], timeout)[0]:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
        timeout = 0.05
    return b"".join(chunks).decode("utf-8", "replace")


def test_wanted_only_on_a_terminal_outside_ci(
    terminal: tuple[int, TextIO], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, stream = terminal
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert wanted(stream, quiet=False)
    assert not wanted(stream, quiet=True)
    assert not wanted(io.StringIO(), quiet=False)
    monkeypatch.setenv("TERM", "dumb")
    assert not wanted(stream, quiet=False)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv("CI", "true")
    assert not wanted(stream, quiet=False)
    monkeypatch.setenv("CI", "false")
    assert wanted(stream, quiet=False)


def test_the_line_is_redrawn_then_erased(terminal: tuple[int, TextIO]) -> None:
    master, stream = terminal
    count = iter(range(1000))
    with Progress(stream, interval=0.02).show("locking", lambda: f"{next(count)} requests"):
        time.sleep(0.2)
    shown = _drain(master)
    frames = [part for part in shown.split(CLEAR) if part]
    assert len(frames) >= 3, shown
    assert all(" locking " in frame and " requests (" in frame for frame in frames)
    assert frames[0].startswith("⠋ locking 0 requests (0.0 s)")
    assert shown.endswith(CLEAR)  # erased: the command's own output starts clean


def _lock(
    project: Path, index: PackageIndex, stderr: int, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"TERM": "xterm"}
    command = [sys.executable, "-m", "tumbler", "lock", str(project), "--index-url", index.url]
    command += ["--target", "host"]
    return subprocess.run(
        [*command, *args], env=env, stdout=subprocess.PIPE, stderr=stderr, text=True, check=False
    )


@pytest.mark.usefixtures("lock_env")
def test_lock_shows_progress_on_a_terminal_only(
    terminal: tuple[int, TextIO], tmp_path: Path, index: PackageIndex
) -> None:
    master, stream = terminal
    project = write_project(tmp_path / "p", ["beta", "delta"])
    done = _lock(project, index, stream.fileno())
    assert done.returncode == 0
    shown = _drain(master)
    progress, _, summary = shown.rpartition(CLEAR)
    assert "locking" in progress
    assert "requests" in progress
    # The line is erased before the summary, which stands alone on a clean line.
    assert summary.startswith("locked 4 packages for "), shown
    assert "\x1b" not in summary

    (project.parent / "pylock.toml").unlink()
    quiet = _lock(project, index, stream.fileno(), "--quiet")
    assert quiet.returncode == 0
    assert (project.parent / "pylock.toml").is_file()
    assert _drain(master, 0.2) == ""
