"""Live tests: lock the shared bench projects against the real package index.

Every test uses the fixed ``--exclude-newer`` date :data:`EXCLUDE_NEWER`, so the answers do not
move as the index grows. For each of ``bench/projects/{small,medium,large}``:

* tumbler locks it (once per module, into a temporary copy of the project);
* ``uv pip compile`` resolves the same requirements (dependencies, every extra, every group)
  for the same interpreter and date, and both tools must pick the same versions;
* ``tumbler lock --check --offline`` accepts the fresh lock from the warm cache.

The small project's lock is installed with ``uv pip install`` and ``pip install`` (default
selection), the medium one with uv and every extra and group.

The index is whatever tumbler and uv pick by default (config files and ``PIP_*``/``UV_*``
variables are kept out); URLs are only ever taken from the tools' own output.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import distributions
from pathlib import Path
from typing import Any

import pytest
from packaging.pylock import Pylock
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.support.livehelpers import EXCLUDE_NEWER, NAMES, PROJECTS, TIMEOUT, TUMBLER, UV
from tests.support.livehelpers import ok as _ok
from tests.support.livehelpers import run as _run

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not PROJECTS.is_dir(), reason=f"no bench projects at {PROJECTS}"),
]


@dataclass(frozen=True)
class Locked:
    """One project locked by tumbler."""

    name: str
    directory: Path
    lock: Path
    seconds: float
    data: dict[str, Any]

    @property
    def versions(self) -> dict[str, str]:
        """Every locked package, normalised name → normalised version."""
        return {
            canonicalize_name(p["name"]): str(Version(p["version"])) for p in self.data["packages"]
        }

    @property
    def unmarked(self) -> dict[str, str]:
        """The packages without a marker: what a plain install (no extras, no groups) gets."""
        return {
            canonicalize_name(p["name"]): str(Version(p["version"]))
            for p in self.data["packages"]
            if "marker" not in p
        }

    def pylock(self) -> Pylock:
        """The lock as a validated :class:`packaging.pylock.Pylock`."""
        return Pylock.from_dict(self.data)


def _selected(pylock: Pylock, *, everything: bool) -> dict[str, str]:
    """What packaging selects from ``pylock`` for this interpreter: defaults, or every extra and group."""
    if everything:
        chosen = pylock.select(extras=pylock.extras, dependency_groups=pylock.dependency_groups)
    else:
        chosen = pylock.select()
    result: dict[str, str] = {}
    for package, _ in chosen:
        assert package.version is not None
        result[canonicalize_name(package.name)] = str(package.version)
    return result


def _pins(text: str) -> dict[str, str]:
    """``name==version`` lines (uv's output) → normalised name → normalised version."""
    pins: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", line
        pins[canonicalize_name(requirement.name)] = str(Version(specifier.version))
    return pins


def _differences(
    left: Mapping[str, str], right: Mapping[str, str]
) -> dict[str, tuple[str | None, str | None]]:
    return {
        name: (left.get(name), right.get(name))
        for name in sorted(left.keys() | right.keys())
        if left.get(name) != right.get(name)
    }


class LiveSession:
    """Locks and uv resolutions of the bench projects, each computed at most once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._locks: dict[str, Locked] = {}
        self._uv: dict[str, dict[str, str]] = {}
        base = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("PIP_", "UV_", "TUMBLER_"))
        }
        base |= {
            "PIP_CONFIG_FILE": os.devnull,
            "UV_NO_CONFIG": "1",
            "UV_CACHE_DIR": str(root / "uv-cache"),
        }
        self.base_env = base

    def env(self, name: str) -> dict[str, str]:
        """The environment for ``name``: one tumbler cache per project, so projects are independent."""
        return self.base_env | {"TUMBLER_CACHE_DIR": str(self.root / "tumbler-cache" / name)}

    def lock(self, name: str) -> Locked:
        """``name`` locked by tumbler into a temporary copy of the project."""
        if name not in self._locks:
            directory = self.root / name
            shutil.copytree(PROJECTS / name, directory)
            argv: list[str | Path] = [TUMBLER, "lock", "pyproject.toml", "-o", "pylock.toml"]
            argv += ["--exclude-newer", EXCLUDE_NEWER, "--quiet", "--target", "host"]
            start = time.perf_counter()
            _ok(_run(argv, directory, self.env(name)))
            seconds = time.perf_counter() - start
            lock = directory / "pylock.toml"
            data = tomllib.loads(lock.read_text(encoding="utf-8"))
            self._locks[name] = Locked(name, directory, lock, seconds, data)
        return self._locks[name]

    def uv_pins(self, name: str) -> dict[str, str]:
        """What ``uv pip compile`` picks for ``name``: every extra and group, this interpreter.

        ``--python-version`` is the interpreter's full version on purpose: uv reads ``3.11`` as
        3.11.0, while tumbler locks for the running interpreter (python_full_version 3.11.7
        here). redis declares ``async-timeout; python_full_version < '3.11.3'`` and coverage
        ``tomli; python_full_version <= '3.11.0a6' and extra == 'toml'``, so at ``3.11`` uv adds
        async-timeout (medium, large) and tomli (large) that this interpreter does not need.
        """
        if name not in self._uv:
            locked = self.lock(name)
            project = tomllib.loads((locked.directory / "pyproject.toml").read_text("utf-8"))
            groups = sorted(project.get("dependency-groups", {}))
            argv: list[str | Path] = [UV, "pip", "compile", "pyproject.toml", "--all-extras"]
            for group in groups:
                argv += ["--group", group]
            argv += ["--python", sys.executable, "--python-version", platform.python_version()]
            argv += ["--exclude-newer", EXCLUDE_NEWER, "--no-header", "--no-annotate", "--quiet"]
            argv += ["-o", "uv-requirements.txt"]
            _ok(_run(argv, locked.directory, self.env(name)))
            text = (locked.directory / "uv-requirements.txt").read_text(encoding="utf-8")
            self._uv[name] = _pins(text)
        return self._uv[name]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> LiveSession:
    """The module's shared locks, caches and uv resolutions."""
    return LiveSession(tmp_path_factory.mktemp("live"))


@pytest.mark.parametrize("name", NAMES)
def test_versions_match_uv(live: LiveSession, name: str) -> None:
    """tumbler and ``uv pip compile`` pick the same version of every package."""
    locked = live.lock(name)
    uv = live.uv_pins(name)
    assert uv, "uv resolved nothing"
    # No legitimate difference is known at the interpreter's full Python version.
    assert _differences(locked.versions, uv) == {}


@pytest.mark.parametrize("name", NAMES)
def test_lock_selection_is_consistent(live: LiveSession, name: str) -> None:
    """The lock validates; packaging selects the unmarked packages by default and all with everything."""
    locked = live.lock(name)
    pylock = locked.pylock()
    assert _selected(pylock, everything=False) == locked.unmarked
    assert _selected(pylock, everything=True) == locked.versions


def _uv_install(live: LiveSession, locked: Locked, options: list[str]) -> dict[str, str]:
    """Install ``locked`` with uv into a fresh venv; the venv's name → version afterwards."""
    work = live.root / f"uv-install-{locked.name}"
    work.mkdir()  # no pyproject.toml here: --group must come from the lock
    env = live.env(locked.name)
    _ok(_run([UV, "venv", "--quiet", "--python", sys.executable, work / "venv"], work, env))
    python = work / "venv" / "bin" / "python"
    _ok(_run([UV, "pip", "install", "--python", python, "-r", locked.lock, *options], work, env))
    listing = _ok(_run([UV, "pip", "list", "--python", python, "--format", "json"], work, env))
    return {canonicalize_name(d["name"]): str(Version(d["version"])) for d in json.loads(listing)}


def test_small_installs_with_uv(live: LiveSession) -> None:
    """``uv pip install -r pylock.toml`` installs exactly the default selection."""
    locked = live.lock("small")
    assert _uv_install(live, locked, []) == locked.unmarked


def test_small_installs_with_pip(live: LiveSession) -> None:
    """``pip install -r pylock.toml`` installs exactly the default selection."""
    locked = live.lock("small")
    target = live.root / "pip-target-small"
    argv: list[str | Path] = [sys.executable, "-m", "pip", "install", "--isolated", "--quiet"]
    argv += ["--no-input", "--target", target, "-r", locked.lock]
    _ok(_run(argv, live.root, live.env("small")))
    installed = {
        canonicalize_name(d.name): str(Version(d.version))
        for d in distributions(path=[str(target)])
    }
    assert installed == locked.unmarked


def test_medium_installs_with_uv_all_extras_and_groups(live: LiveSession) -> None:
    """uv installs every package of the medium lock when asked for every extra and group."""
    locked = live.lock("medium")
    options: list[str] = []
    for extra in locked.data.get("extras", []):
        options += ["--extra", extra]
    for group in locked.data.get("dependency-groups", []):
        options += ["--group", group]
    assert options, "the medium project has an extra and a group"
    assert _uv_install(live, locked, options) == locked.versions


@pytest.mark.parametrize("name", NAMES)
def test_check_offline_passes(live: LiveSession, name: str) -> None:
    """``tumbler lock --check --offline`` accepts the lock it just wrote, from the warm cache."""
    locked = live.lock(name)
    argv: list[str | Path] = [TUMBLER, "lock", "pyproject.toml", "-o", "pylock.toml", "--check"]
    argv += ["--offline", "--exclude-newer", EXCLUDE_NEWER, "--format", "json"]
    proc = _run(argv, locked.directory, live.env(name))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_sizes_come_multiplexed_over_http2(live: LiveSession) -> None:
    """The index's file host speaks HTTP/2: every sdist size of the small lock comes back
    over it, all asked at once, and equals the size tumbler wrote."""
    from tumbler.net.http import Http

    locked = live.lock("small")
    sdists = [p.sdist for p in locked.pylock().packages if p.sdist is not None]
    assert sdists
    http = Http()
    transport = http._transport
    assert transport is not None, "pycurl is a dependency: the HTTP/2 transport must load"
    futures = [
        transport.submit("GET", str(s.url), {"Range": "bytes=-1"}, headers_only=True)
        for s in sdists
    ]
    answers = [f.result(timeout=TIMEOUT) for f in futures]
    assert {a.version for a in answers} == {"2"}
    totals = [int(a.headers["content-range"].rpartition("/")[2]) for a in answers]
    assert totals == [s.size for s in sdists]
    http.close()
