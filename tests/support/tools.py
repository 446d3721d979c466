"""Real peer tools for tests: each installed once per test session into a virtual
environment of its own (their dependencies would clash with tumbler's dev tools), from
the package index pip is configured with; a test using one is skipped only when the
install itself fails (the message says why)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

__all__ = ["clean_env", "install_tool"]


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment without any pip/uv/pdm/poetry/pipenv configuration of this machine."""
    prefixes = ("PIP_", "UV_", "PDM_", "POETRY_", "PIPENV_", "TUMBLER_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    env |= {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return env | dict(extra or {})


def install_tool(
    factory: pytest.TempPathFactory, command: str, requirements: Sequence[str]
) -> Path:
    """``command`` from a new virtual environment holding ``requirements``."""
    venv = factory.mktemp(command) / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", *requirements],
        capture_output=True, text=True, check=False, env=clean_env(), timeout=900,
    )  # fmt: skip
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1:]
        pytest.skip(f"{command} cannot be installed here: {last}")
    return venv / "bin" / command
