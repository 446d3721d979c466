"""pdm reads tumbler's universal locks: its pylock reader (``pdm sync -L pylock.toml``)
accepts every ``environments`` marker and selects what ``packaging.pylock`` selects.

pdm is installed into a virtual environment of its own from the package index pip uses
(pdm's dependencies would clash with tumbler's dev tools); the test is skipped only when
that install fails. pdm 2.29's HTTP cache dependency hishel 2.x breaks pdm, so hishel is
held below 2, as pdm's own ``locked`` extra does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.lockfixtures import read, write_project
from tumbler.env.targets import parse_target

if TYPE_CHECKING:
    from tests.conftest import CLI
    from tests.support.pkgindex import PackageIndex

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("lock_env")]


@pytest.fixture(scope="session")
def pdm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``pdm`` command in a virtual environment of its own."""
    venv = tmp_path_factory.mktemp("pdm") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env |= {"PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "pdm>=2.29", "hishel<2"],
        capture_output=True, text=True, check=False, env=env, timeout=600,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"pdm cannot be installed here: {done.stderr.strip().splitlines()[-1:]}")
    return venv / "bin" / "pdm"


def test_pdm_reads_a_universal_lock(
    cli: CLI, tmp_path: Path, index: PackageIndex, pdm: Path
) -> None:
    project = write_project(
        tmp_path,
        ["delta", "backport; python_version < '3.11'"],
        extras={"viz": ["top"]},
        groups={"dev": ["churn"]},
        requires_python=">=3.9",
    )
    locked = cli("lock", project, "--index-url", index.url, "-q", "--universal")
    assert locked.code == 0, locked.err
    pylock = read(tmp_path / "pylock.toml")
    assert len(pylock.environments or ()) == 6
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / ".venv")], check=True)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PDM_"))},
        "PDM_CHECK_UPDATE": "false",
        "PDM_CONFIG_FILE": str(tmp_path / "pdm-config.toml"),
        "PDM_CACHE_DIR": str(tmp_path / "pdm-cache"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "PIP_CONFIG_FILE": os.devnull,
    }
    done = subprocess.run(
        [str(pdm), "sync", "-L", "pylock.toml", "--dry-run"],
        cwd=tmp_path, capture_output=True, text=True, check=False, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Unsupported" not in done.stdout + done.stderr
    listed = done.stdout.split("Packages to add:", 1)[1]
    added = {
        tuple(line.strip().removeprefix("- ").split()[:2])
        for line in listed.splitlines()
        if line.strip().startswith("- ")
    }
    # pdm installs every extra and group by default, here as packaging selects them.
    host = parse_target("host")
    wanted = pylock.select(
        environment=host.environment,  # type: ignore[arg-type]  # a dict of marker values
        tags=host.tags,
        extras=["viz"],
        dependency_groups=["dev"],
    )
    assert added == {(str(p.name), str(p.version)) for p, _ in wanted}
