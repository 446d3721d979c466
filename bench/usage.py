"""One command run and what it cost: wall time, the CPU time of it and of every process it
waited for (``wait4``), and its peak resident memory. Shared by the bench scripts."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path


@dataclass(frozen=True, slots=True)
class Usage:
    """Wall seconds, user and system CPU seconds, peak RSS in MiB."""

    wall: float
    user: float
    system: float
    peak: float


def run_measured(argv: list[str], env: Mapping[str, str], cwd: Path | None = None) -> Usage:
    """Run ``argv``, its output kept aside; a failure exits with the output's tail."""
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, env=dict(env), stdout=output, stderr=output)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            output.seek(0)
            shown = output.read().decode(errors="replace")[-3000:]
            raise SystemExit(f"failed ({code}): {' '.join(argv)}\n{shown}")
    return Usage(wall, usage.ru_utime, usage.ru_stime, usage.ru_maxrss / 1024)
