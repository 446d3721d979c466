"""Live tests: universal locks of the shared bench projects against the real package index.

With the fixed ``--exclude-newer`` date of tests/test_live_lock.py, for each bench project:

* ``tumbler lock --universal`` locks it (36 targets: CPython 3.10 to 3.15 on six platforms);
* ``uv pip compile --universal`` resolves the same requirements (every extra and group) from
  the same lowest Python; for every target tumbler covers, the versions packaging's
  ``select`` takes from tumbler's lock equal those whose uv markers hold there, save the
  differences explained in :data:`EXPLAINED`;
* a target tumbler leaves out is one where some needed package has no file at all, said in
  a note; uv keeps it (and its lock cannot install there).

The small lock is installed with ``pip install -r`` and ``uv pip install -r``, the medium one
with uv and every extra and group: both installers accept a universal ``pylock.toml`` and
install exactly what packaging selects for this interpreter.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tomllib
from datetime import date
from importlib.metadata import distributions
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from packaging.markers import Marker
from packaging.pylock import Pylock
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.support.livehelpers import EXCLUDE_NEWER, NAMES, PROJECTS, TUMBLER, UV
from tests.support.livehelpers import ok as _ok
from tests.support.livehelpers import run as _run
from tumbler.resolver.universal import grid

if TYPE_CHECKING:
    from tumbler.env.targets import Target


#: (project, package) → why tumbler and uv legitimately differ on some targets, and the
#: targets' Python versions where they may. Anything else is a failure.
EXPLAINED: dict[tuple[str, str], tuple[str, frozenset[str]]] = {
    ("large", "tomli"): (
        "coverage[toml] needs tomli when python_full_version <= '3.11.0a6'; uv widens that "
        "to <= '3.11', which holds on 3.11.0, while tumbler keeps the exact marker (false "
        "on every 3.11 release)",
        frozenset({"3.11"}),
    ),
}

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(not PROJECTS.is_dir(), reason=f"no bench projects at {PROJECTS}"),
]


class Session:
    """Universal locks and uv's universal resolutions of the bench projects, once each."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._done: dict[str, tuple[Path, str]] = {}
        self._uv: dict[str, list[tuple[str, str, Marker | None]]] = {}
        base = {
            k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "TUMBLER_"))
        }
        self.env = base | {
            "PIP_CONFIG_FILE": os.devnull,
            "UV_NO_CONFIG": "1",
            "UV_CACHE_DIR": str(root / "uv-cache"),
            "TUMBLER_CACHE_DIR": str(root / "tumbler-cache"),
        }

    def lock(self, name: str) -> tuple[Path, str]:
        """The project copy holding tumbler's universal lock, and what tumbler said."""
        if name not in self._done:
            directory = self.root / name
            shutil.copytree(PROJECTS / name, directory)
            argv: list[Any] = [TUMBLER, "lock", "pyproject.toml", "--universal"]
            proc = _run([*argv, "--exclude-newer", EXCLUDE_NEWER], directory, self.env)
            _ok(proc)
            said = proc.stderr  # the summary line and notes
            self._done[name] = (directory, said)
        return self._done[name]

    def pylock(self, name: str) -> Pylock:
        directory, _ = self.lock(name)
        return Pylock.from_dict(tomllib.loads((directory / "pylock.toml").read_text("utf-8")))

    def targets(self, name: str) -> tuple[Target, ...]:
        directory, _ = self.lock(name)
        project = tomllib.loads((directory / "pyproject.toml").read_text("utf-8"))["project"]
        requires = project.get("requires-python")
        return grid(SpecifierSet(requires) if requires else None, today=date(2026, 10, 1))

    def uv(self, name: str) -> list[tuple[str, str, Marker | None]]:
        """uv's universal resolution: (name, version, marker) lines."""
        if name not in self._uv:
            directory, _ = self.lock(name)
            project = tomllib.loads((directory / "pyproject.toml").read_text("utf-8"))
            lowest = min(t.environment["python_version"] for t in self.targets(name))
            argv: list[Any] = [UV, "pip", "compile", "pyproject.toml", "--universal"]
            argv += ["--all-extras", "--python-version", lowest]
            for group in sorted(project.get("dependency-groups", {})):
                argv += ["--group", group]
            argv += ["--exclude-newer", EXCLUDE_NEWER, "--no-header", "--no-annotate", "--quiet"]
            _ok(_run([*argv, "-o", "uv-universal.txt"], directory, self.env))
            lines: list[tuple[str, str, Marker | None]] = []
            for raw in (directory / "uv-universal.txt").read_text("utf-8").splitlines():
                line = raw.split("#", 1)[0].strip()
                if not line or line.startswith("-"):
                    continue
                requirement = Requirement(line)
                (specifier,) = requirement.specifier
                version = str(Version(specifier.version))
                lines.append((canonicalize_name(requirement.name), version, requirement.marker))
            self._uv[name] = lines
        return self._uv[name]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Session:
    return Session(tmp_path_factory.mktemp("live-universal"))


def _ours(pylock: Pylock, target: Target) -> dict[str, str]:
    chosen = pylock.select(
        environment=target.environment,  # type: ignore[arg-type]  # marker values
        tags=target.tags,
        extras=pylock.extras,
        dependency_groups=pylock.dependency_groups,
    )
    return {str(p.name): str(p.version) for p, _ in chosen}


def _covers(pylock: Pylock, target: Target) -> bool:
    return any(m.evaluate(target.environment) for m in pylock.environments or ())


@pytest.mark.parametrize("name", NAMES)
def test_each_target_agrees_with_uv_universal(live: Session, name: str) -> None:
    pylock = live.pylock(name)
    _, said = live.lock(name)
    uv = live.uv(name)
    covered = 0
    for target in live.targets(name):
        env = dict(target.environment)
        theirs = {n: v for n, v, m in uv if m is None or m.evaluate(env | {"extra": ""})}
        if not _covers(pylock, target):
            # Left out: tumbler said why; uv resolved it anyway.
            platform = target.name.rsplit("-", 1)[0]
            assert f"left out {platform} (Python" in said, said
            assert "has no file for it" in said
            assert theirs
            continue
        covered += 1
        ours = _ours(pylock, target)
        for package in sorted(ours.keys() | theirs.keys()):
            if ours.get(package) == theirs.get(package):
                continue
            why = EXPLAINED.get((name, package))
            assert why is not None and env["python_version"] in why[1], (
                f"{target.name}: {package} tumbler {ours.get(package)} uv {theirs.get(package)}"
            )
    assert covered >= 30  # every platform but (at most) one


def _selected_here(pylock: Pylock, *, everything: bool) -> dict[str, str]:
    if everything:
        chosen = pylock.select(extras=pylock.extras, dependency_groups=pylock.dependency_groups)
    else:
        chosen = pylock.select()
    return {canonicalize_name(str(p.name)): str(p.version) for p, _ in chosen}


def test_pip_installs_the_small_universal_lock(live: Session) -> None:
    directory, _ = live.lock("small")
    target = live.root / "pip-target"
    argv: list[Any] = [sys.executable, "-m", "pip", "install", "--isolated", "--quiet"]
    argv += ["--no-input", "--target", target, "-r", directory / "pylock.toml"]
    _ok(_run(argv, live.root, live.env))
    installed = {
        canonicalize_name(d.name): str(Version(d.version))
        for d in distributions(path=[str(target)])
    }
    assert installed == _selected_here(live.pylock("small"), everything=False)


@pytest.mark.parametrize(("name", "everything"), [("small", False), ("medium", True)])
def test_uv_installs_the_universal_lock(live: Session, name: str, everything: bool) -> None:
    directory, _ = live.lock(name)
    pylock = live.pylock(name)
    work = live.root / f"uv-{name}"
    work.mkdir()
    _ok(_run([UV, "venv", "--quiet", "--python", sys.executable, work / "venv"], work, live.env))
    python = work / "venv" / "bin" / "python"
    options: list[str] = []
    if everything:
        for extra in pylock.extras or ():
            options += ["--extra", str(extra)]
        for group in pylock.dependency_groups or ():
            options += ["--group", str(group)]
    argv: list[Any] = [UV, "pip", "install", "--python", python, "-r", directory / "pylock.toml"]
    _ok(_run([*argv, *options], work, live.env))
    listing = _run([UV, "pip", "list", "--python", python, "--format", "json"], work, live.env)
    _ok(listing)
    installed = {
        canonicalize_name(d["name"]): str(Version(d["version"])) for d in json.loads(listing.stdout)
    }
    assert installed == _selected_here(pylock, everything=everything)
