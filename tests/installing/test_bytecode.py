"""Bytecode is opt-in: ``install`` and ``sync`` write no ``.pyc`` unless given ``--compile``
(``--compile-bytecode`` is the same flag), and then one for every installed module, by the
environment's own interpreter."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import CLI
from tests.installing.test_pipeline import site_packages, tumbler_lock
from tests.support.lockfixtures import write_project
from tests.support.pkgindex import PackageIndex

pytestmark = pytest.mark.usefixtures("lock_env")


def _cache_tag(venv: Path) -> str:
    python = venv / "bin" / "python"
    done = subprocess.run(
        [str(python), "-c", "import sys; print(sys.implementation.cache_tag)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


@pytest.mark.parametrize(
    ("command", "flag"),
    [("install", "--compile"), ("install", "--compile-bytecode"), ("sync", "--compile")],
)
def test_bytecode_is_written_only_with_compile(
    cli: CLI, tmp_path: Path, index: PackageIndex, command: str, flag: str
) -> None:
    lock = tumbler_lock(cli, write_project(tmp_path / "p", ["beta", "clitool"]), index)
    plain, compiled = tmp_path / "plain", tmp_path / "compiled"
    assert cli(command, lock, "--venv", plain, "-q").code == 0
    modules = sorted(site_packages(plain).rglob("*.py"))
    assert modules
    assert not list(plain.rglob("*.pyc"))
    run = cli(command, lock, "--venv", compiled, flag, "-q")
    assert run.code == 0, run.err
    tag = _cache_tag(compiled)
    for module in sorted(site_packages(compiled).rglob("*.py")):
        assert (module.parent / "__pycache__" / f"{module.stem}.{tag}.pyc").is_file(), module
