"""The code itself: ruff and mypy --strict are part of the test suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_lint() -> None:
    """ruff check finds nothing in src, tests or bench."""
    proc = _run(str(BIN / "ruff"), "check", "--no-cache", "src", "tests", "bench")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format() -> None:
    """The code is in ruff's format."""
    proc = _run(str(BIN / "ruff"), "format", "--check", "--no-cache", "src", "tests", "bench")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict() -> None:
    """mypy --strict (configured in pyproject.toml) passes on src, tests and bench."""
    proc = _run(sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", "/dev/null")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_registry_host_names_committed() -> None:
    """Tracked files name no package-registry host: fixtures use example.com or loopback."""
    tracked = _run("git", "ls-files", "-z").stdout.split("\0")
    pattern = ("py" + "pi.org", "python" + "hosted.org")
    offenders = [
        name
        for name in tracked
        if name
        and (ROOT / name).is_file()
        and any(p in (ROOT / name).read_text(encoding="utf-8", errors="replace") for p in pattern)
    ]
    assert offenders == []
