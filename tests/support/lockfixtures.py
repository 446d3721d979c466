"""Shared fixtures for the lock tests: a resolver catalogue on a real loopback index.

Registered as a pytest plugin in ``tests/conftest.py``. ``index`` (our JSON + HTML server)
and ``pypiserver`` serve :data:`CATALOGUE` once per session; ``lock_env`` clears user
pip/uv configuration and gives each test its own tumbler cache (a module opts in with
``pytestmark = pytest.mark.usefixtures("lock_env")``).
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from packaging.pylock import Pylock

from tests.support.pkgindex import (
    Dist,
    PackageIndex,
    build_dists,
    default_catalogue,
    run_pypiserver,
    serve_json_index,
)


def _day(year: int, month: int, date: int) -> datetime:
    return datetime(year, month, date, 12, 0, tzinfo=UTC)


#: native 1.0's wheels that supported targets use (Linux x86_64 and arm64, macOS arm64,
#: Windows x86_64).
NATIVE_WHEELS = (
    "cp311-abi3-manylinux_2_17_x86_64",
    "cp311-abi3-manylinux_2_17_aarch64",
    "cp311-abi3-macosx_11_0_arm64",
    "cp311-abi3-win_amd64",
)
#: What native 1.0's sdist holds: building it (not needed: its wheels give its metadata)
#: fails.
BROKEN_SDIST = b"not an sdist: tumbler must read native's metadata from a wheel\n"

#: The default catalogue plus projects made to exercise the resolver.
CATALOGUE = (
    *default_catalogue(),
    # top needs base>=2; mid 2.0 needs base<2, so mid must backtrack to 1.0.
    Dist("top", "1.0", requires_dist=("mid>=1", "base>=2"), upload_time=_day(2023, 5, 1)),
    Dist("mid", "1.0", requires_dist=("base",), upload_time=_day(2023, 1, 1)),
    Dist("mid", "2.0", requires_dist=("base<2",), upload_time=_day(2023, 2, 1)),
    Dist("base", "1.0", upload_time=_day(2023, 1, 1)),
    Dist("base", "2.0", upload_time=_day(2023, 2, 1)),
    # clash needs base<2: with base>=2 asked for too there is no solution.
    Dist("clash", "1.0", requires_dist=("base<2",), upload_time=_day(2023, 1, 1)),
    Dist("modern", "1.0", upload_time=_day(2023, 1, 1)),
    Dist("modern", "2.0", requires_python=">=3.99", upload_time=_day(2023, 2, 1)),
    Dist("pre", "1.0", upload_time=_day(2023, 1, 1)),
    Dist("pre", "2.0b1", upload_time=_day(2023, 2, 1)),
    Dist("onlypre", "0.1a1", upload_time=_day(2023, 1, 1)),
    Dist("churn", "1.0", upload_time=_day(2023, 1, 1)),
    Dist("churn", "1.1", upload_time=_day(2024, 6, 1)),
    Dist("needs-sdist", "1.0", requires_dist=("sdist-only",), upload_time=_day(2023, 4, 1)),
    # recent 2.0 needs Python 3.12: older Pythons are held at 1.0 (universal locks).
    Dist("recent", "1.0", upload_time=_day(2023, 1, 1)),
    Dist("recent", "2.0", requires_python=">=3.12", upload_time=_day(2023, 2, 1)),
    # native has compiled wheels for some platforms only. 1.0: wheels for every platform
    # but macOS x86_64 and Windows arm64, which fall back to the sdist (and that sdist
    # cannot be built, see lock_dists: its metadata must come from another platform's
    # wheel), plus wheels no supported target can use (CPython 3.9, 32-bit Windows).
    # 2.0: a Linux x86_64 wheel only, no sdist. On macOS it needs alpha.
    Dist(
        "native",
        "1.0",
        requires_dist=('alpha>=1.1; sys_platform == "darwin"',),
        wheel=False,
        platform_wheels=(
            *NATIVE_WHEELS,
            "cp39-cp39-manylinux_2_17_x86_64",
            "cp311-abi3-win32",
        ),
        upload_time=_day(2023, 3, 1),
    ),
    Dist(
        "native",
        "2.0",
        requires_dist=('alpha>=1.1; sys_platform == "darwin"',),
        sdist=False,
        wheel=False,
        platform_wheels=("cp311-abi3-manylinux_2_17_x86_64",),
        upload_time=_day(2023, 4, 1),
    ),
    # linux-only has Linux wheels and nothing else (as psycopg-binary has no Windows arm64
    # wheel); binding needs it everywhere, so no other platform can install binding.
    Dist(
        "linux-only",
        "1.0",
        sdist=False,
        wheel=False,
        platform_wheels=("py3-none-manylinux_2_17_x86_64", "py3-none-manylinux_2_17_aarch64"),
        upload_time=_day(2023, 2, 1),
    ),
    Dist("binding", "1.0", requires_dist=("linux-only",), upload_time=_day(2023, 2, 1)),
    Dist("binding", "2.0", requires_dist=("linux-only",), upload_time=_day(2023, 3, 1)),
    # backport stands for tomli: a library needs it on Pythons older than 3.11 only.
    Dist("backport", "1.0", upload_time=_day(2023, 1, 1)),
    # patchy needs timeouts before CPython 3.11.3 (as redis needs async-timeout); newpatch
    # 2.0 needs 3.11.4: universal locks tell those patch releases apart.
    Dist(
        "patchy",
        "1.0",
        requires_dist=('timeouts; python_full_version < "3.11.3"',),
        upload_time=_day(2023, 1, 1),
    ),
    Dist("timeouts", "1.0", upload_time=_day(2023, 1, 1)),
    Dist("newpatch", "1.0", upload_time=_day(2023, 1, 1)),
    Dist("newpatch", "2.0", requires_python=">=3.11.4", upload_time=_day(2023, 2, 1)),
    # winonly has Windows wheels only: an extra needing it is unavailable elsewhere.
    Dist(
        "winonly",
        "1.0",
        sdist=False,
        wheel=False,
        platform_wheels=("py3-none-win_amd64", "py3-none-win_arm64"),
        upload_time=_day(2023, 1, 1),
    ),
    # amd64only has a Windows x86_64 wheel only: an environment naming Windows needs one
    # of its machines, one naming Windows on ARM64 cannot be locked.
    Dist(
        "amd64only",
        "1.0",
        sdist=False,
        wheel=False,
        platform_wheels=("py3-none-win_amd64",),
        upload_time=_day(2023, 1, 1),
    ),
    # uses-recent depends on recent, which a universal lock holds at two versions.
    Dist("uses-recent", "1.0", requires_dist=("recent",), upload_time=_day(2023, 3, 1)),
    # pinned 2.0 is yanked; pins-yanked pins it: only the project's own pin may take it.
    Dist("pinned", "1.0", upload_time=_day(2023, 1, 1)),
    Dist("pinned", "2.0", yanked="broken", upload_time=_day(2023, 2, 1)),
    Dist("pins-yanked", "1.0", requires_dist=("pinned==2.0",), upload_time=_day(2023, 3, 1)),
    # clitool has a console script (install: launchers and RECORD).
    Dist("clitool", "1.0", scripts=("clitool",), sdist=False, upload_time=_day(2023, 2, 1)),
    Dist("clitool", "2.0", scripts=("clitool",), sdist=False, upload_time=_day(2023, 5, 1)),
)


@pytest.fixture(scope="session")
def lock_dists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("lock-dists")
    build_dists(CATALOGUE, directory)
    (directory / "native-1.0.tar.gz").write_bytes(BROKEN_SDIST)
    return directory


@pytest.fixture(scope="session")
def index(lock_dists: Path) -> Iterator[PackageIndex]:
    """Our full simple-API server: PEP 691 JSON, PEP 658 metadata, upload times, yanks."""
    with serve_json_index(lock_dists, CATALOGUE) as served:
        yield served


@pytest.fixture(scope="session")
def pypiserver(lock_dists: Path) -> Iterator[PackageIndex]:
    """Real pypiserver: HTML only, no metadata files, no upload times (range requests)."""
    with run_pypiserver(lock_dists, dists=CATALOGUE) as served:
        yield served


@pytest.fixture
def lock_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user pip/uv configuration; a fresh cache per test."""
    for key in list(os.environ):
        if key.startswith(("PIP_", "UV_", "TUMBLER_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("TUMBLER_CACHE_DIR", str(tmp_path / "cache"))


def write_project(
    directory: Path,
    dependencies: list[str],
    *,
    extras: dict[str, list[str]] | None = None,
    groups: dict[str, list[Any]] | None = None,
    requires_python: str | None = ">=3.8",
    tool: str = "",
) -> Path:
    """Write a pyproject.toml into ``directory`` and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = ["[project]", 'name = "demo"', 'version = "0.1"']
    if requires_python:
        lines.append(f"requires-python = {json.dumps(requires_python)}")
    lines.append(f"dependencies = {json.dumps(dependencies)}")
    if extras:
        lines += ["", "[project.optional-dependencies]"]
        lines += [f"{k} = {json.dumps(v)}" for k, v in extras.items()]
    if groups:
        lines += ["", "[dependency-groups]"]
        for name, entries in groups.items():
            items = [
                json.dumps(e)
                if isinstance(e, str)
                else "{include-group = " + json.dumps(e["include-group"]) + "}"
                for e in entries
            ]
            lines.append(f"{name} = [{', '.join(items)}]")
    if tool:
        lines += ["", "[tool.tumbler]", tool]
    path = directory / "pyproject.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def read(path: Path) -> Pylock:
    """The lock at ``path``."""
    return Pylock.from_dict(tomllib.loads(path.read_text(encoding="utf-8")))


def pins(path: Path) -> dict[str, str]:
    """Package name → version of the lock at ``path``."""
    return {p.name: str(p.version) for p in read(path).packages}
