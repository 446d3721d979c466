"""What the live tests share: the bench projects, the fixed date, the tools, and running a
command with a time limit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

ROOT = Path(__file__).resolve().parents[2]
#: The bench projects (``bench/projects``).
PROJECTS = ROOT / "bench" / "projects"
NAMES = ("small", "medium", "large")
#: Every live test resolves as of this date, so answers do not move as the index grows.
EXCLUDE_NEWER = "2026-10-01T00:00:00Z"
BIN = Path(sys.executable).parent
TUMBLER = BIN / "tumbler"
UV = BIN / "uv"

#: Generous per-command ceiling so a stuck network cannot hang CI.
TIMEOUT = 300


def run(
    argv: list[str | Path], cwd: Path, env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    """``argv`` in ``cwd`` with exactly ``env``, output captured, at most :data:`TIMEOUT` s."""
    return subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT,
    )


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    """``proc``'s stdout; fails the test with the whole output when it did not exit 0."""
    assert proc.returncode == 0, f"{proc.args}\nexit {proc.returncode}\n{proc.stdout}{proc.stderr}"
    return proc.stdout
