"""Helpers the live tests share: run a command with a time limit, insist it succeeded."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

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
