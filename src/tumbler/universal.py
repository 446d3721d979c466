"""Universal (package) locks: one ``pylock.toml`` for many platforms and Python versions.

The pieces, all pure:

* :func:`grid` — the concrete targets a lock covers: CPython minor versions still
  supported on ``today`` (from :data:`PYTHONS`, release and end-of-life dates) that the
  project's ``requires-python`` allows, on every platform of :data:`tumbler.targets.PLATFORMS`;
  narrowed to those an ``environments`` marker accepts when one is given.
* :func:`describe` — the shortest readable marker that is true on exactly a subset of the
  grid (``sys_platform == 'win32'``, ``python_version < '3.12'``, ...), None for all of it.
* :func:`merge` — single-target locks, one per grid target, into one lock: one entry per
  package version, carrying the marker of the targets that need it (and the extras/groups
  marker it had), with the union of the wheels those targets use and the sdist. Versions
  that differ by target become several entries whose markers are disjoint by construction
  (each target falls in exactly one).

The resolution itself is :func:`tumbler.locker.lock` per target, newest Python first, each
preferring the versions already chosen: a package keeps one version on every platform
unless a target forces another, and each Python gets the newest release supporting it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

from packaging.markers import Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.version import Version

from tumbler.errors import UsageError
from tumbler.targets import PLATFORMS, Target, parse_target

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from packaging.pylock import Package, Pylock
    from packaging.specifiers import SpecifierSet

__all__ = ["PYTHONS", "describe", "environments_of", "grid", "merge", "spoken"]

#: CPython minor versions: (version, first release, end of life), from the CPython
#: release schedule (PEP 602: a new minor every October, five years of support).
PYTHONS: tuple[tuple[str, date, date], ...] = (
    ("3.9", date(2020, 10, 5), date(2025, 10, 31)),
    ("3.10", date(2021, 10, 4), date(2026, 10, 31)),
    ("3.11", date(2022, 10, 24), date(2027, 10, 31)),
    ("3.12", date(2023, 10, 2), date(2028, 10, 31)),
    ("3.13", date(2024, 10, 7), date(2029, 10, 31)),
    ("3.14", date(2025, 10, 7), date(2030, 10, 31)),
    ("3.15", date(2026, 10, 1), date(2031, 10, 31)),
)


def _python_key(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def _allows(requires_python: SpecifierSet | None, python: str) -> bool:
    """Whether some patch release of ``python`` (``3.12``) satisfies ``requires_python``."""
    if requires_python is None:
        return True
    return any(requires_python.contains(f"{python}.{patch}") for patch in (0, 99))


def grid(
    requires_python: SpecifierSet | None,
    environments: Sequence[Marker] = (),
    *,
    today: date,
) -> tuple[Target, ...]:
    """The targets a universal lock covers, oldest Python first, platforms in a fixed order."""
    pythons = [v for v, released, eol in PYTHONS if released <= today <= eol]
    pythons = [v for v in pythons if _allows(requires_python, v)]
    targets = [parse_target(f"{platform}-{v}") for v in pythons for platform in PLATFORMS]
    if environments:
        targets = [t for t in targets if any(_accepts(m, t) for m in environments)]
    if not targets:
        wanted = " or ".join(f"({m})" for m in environments) or "(any platform)"
        raise UsageError(
            f"no supported CPython ({', '.join(v for v, _, _ in PYTHONS)}, on Linux, macOS "
            f"and Windows) matches requires-python {requires_python} and {wanted}"
        )
    return tuple(targets)


def _accepts(marker: Marker, target: Target) -> bool:
    try:
        return marker.evaluate(target.environment)
    except (UndefinedEnvironmentName, UndefinedComparison) as error:
        raise UsageError(
            f"environment '{marker}' can only use platform and Python variables: {error}"
        ) from None


@dataclass(frozen=True, slots=True)
class _Point:
    python: str
    platform: str  # a key of PLATFORMS


def _point(target: Target) -> _Point:
    env = target.environment
    for name, (sys_platform, _, _, machine) in PLATFORMS.items():
        if env["sys_platform"] == sys_platform and env["platform_machine"] == machine:
            return _Point(env["python_version"], name)
    raise ValueError(f"not a grid target: {target.name}")


def _pythons_marker(chosen: Sequence[str], every: Sequence[str]) -> str:
    """``chosen`` Python versions within ``every`` (both sorted), as a short condition."""
    if list(chosen) == list(every):
        return ""
    first, last = every.index(chosen[0]), every.index(chosen[-1])
    if last - first + 1 == len(chosen):  # contiguous
        if len(chosen) == 1:
            return f"python_version == '{chosen[0]}'"
        parts = []
        if first > 0:
            parts.append(f"python_version >= '{chosen[0]}'")
        if last < len(every) - 1:
            parts.append(f"python_version < '{every[last + 1]}'")
        return " and ".join(parts)
    return " or ".join(f"python_version == '{v}'" for v in chosen)


def _platforms_marker(chosen: Iterable[str], every: Iterable[str]) -> str:
    """``chosen`` platforms within ``every``: whole operating systems by ``sys_platform``,
    single machines with ``platform_machine`` too."""
    chosen_set, every_list = set(chosen), list(every)
    if chosen_set == set(every_list):
        return ""
    clauses = []
    by_os: dict[str, list[str]] = {}
    for name in every_list:
        by_os.setdefault(PLATFORMS[name][0], []).append(name)
    for sys_platform, names in by_os.items():
        picked = [n for n in names if n in chosen_set]
        if not picked:
            continue
        if len(picked) == len(names):
            clauses.append(f"sys_platform == '{sys_platform}'")
        else:
            clauses.extend(
                f"sys_platform == '{sys_platform}' and platform_machine == '{PLATFORMS[n][3]}'"
                for n in picked
            )
    return " or ".join(f"({c})" if " and " in c and len(clauses) > 1 else c for c in clauses)


def _both(left: str, right: str) -> str:
    if not left or not right:
        return left or right
    wrap = [f"({part})" if " or " in part else part for part in (left, right)]
    return " and ".join(wrap)


def describe(subset: Iterable[Target], universe: Sequence[Target]) -> Marker | None:
    """The marker true on exactly ``subset`` of ``universe``; None when it is all of it.

    Tried in order: a condition on the Python version alone, on the platform alone, then
    one clause per set of platforms sharing the same Python versions.
    """
    points = {_point(t) for t in subset}
    every = [_point(t) for t in universe]
    if points == set(every):
        return None
    pythons = sorted({p.python for p in every}, key=_python_key)
    platforms = list(dict.fromkeys(p.platform for p in every))
    chosen_pythons = sorted({p.python for p in points}, key=_python_key)
    if points == {p for p in every if p.python in chosen_pythons}:
        return Marker(_pythons_marker(chosen_pythons, pythons))
    chosen_platforms = {p.platform for p in points}
    if points == {p for p in every if p.platform in chosen_platforms}:
        return Marker(_platforms_marker(chosen_platforms, platforms))
    # Platforms grouped by the Python versions they need, each group one clause.
    groups: dict[tuple[str, ...], list[str]] = {}
    for platform in platforms:
        mine = sorted({p.python for p in points if p.platform == platform}, key=_python_key)
        if mine:
            groups.setdefault(tuple(mine), []).append(platform)
    clauses = []
    for versions, names in groups.items():
        available = sorted({p.python for p in every if p.platform in names}, key=_python_key)
        clause = _both(_platforms_marker(names, platforms), _pythons_marker(versions, available))
        clauses.append(clause)
    if len(clauses) == 1:
        return Marker(clauses[0])
    return Marker(" or ".join(f"({c})" if " and " in c else c for c in clauses))


def environments_of(universe: Sequence[Target]) -> list[Marker]:
    """The lock's top-level ``environments``: one marker per platform, with the Python
    versions locked for it."""
    pythons: dict[str, list[str]] = {}
    for point in (_point(t) for t in universe):
        pythons.setdefault(point.platform, []).append(point.python)
    out = []
    for platform, versions in pythons.items():
        sys_platform, _, _, machine = PLATFORMS[platform]
        ordered = sorted(versions, key=_python_key)
        text = (
            f"implementation_name == 'cpython' and sys_platform == '{sys_platform}' "
            f"and platform_machine == '{machine}' and python_version >= '{ordered[0]}' "
            f"and python_version <= '{ordered[-1]}'"
        )
        out.append(Marker(text))
    return out


def spoken(targets: Sequence[Target]) -> str:
    """``windows-arm64 (Python 3.10 to 3.15), macos-x86_64 (Python 3.12)``: targets by
    platform, for people."""
    pythons: dict[str, list[str]] = {}
    for point in (_point(t) for t in targets):
        pythons.setdefault(point.platform, []).append(point.python)
    parts = []
    for platform, versions in pythons.items():
        ordered = sorted(set(versions), key=_python_key)
        shown = ordered[0] if len(ordered) == 1 else f"{ordered[0]} to {ordered[-1]}"
        if len(ordered) > 2 and len(ordered) != _span(ordered):
            shown = ", ".join(ordered)
        parts.append(f"{platform} (Python {shown})")
    return ", ".join(parts)


def _span(ordered: Sequence[str]) -> int:
    """How many minor versions ``ordered`` (same major) spans, ends included."""
    return _python_key(ordered[-1])[1] - _python_key(ordered[0])[1] + 1


def _and(env: Marker | None, who: Marker | None) -> Marker | None:
    if env is None or who is None:
        return env or who
    return Marker(_both(str(env), str(who)))


def _key(package: Package) -> tuple[str, str]:
    if package.version is not None:
        return package.name, str(package.version)
    source = package.vcs or package.directory or package.archive
    return package.name, repr(source)


def merge(
    locks: Sequence[tuple[Target, Pylock]],
    universe: Sequence[Target],
    *,
    environments: Sequence[Marker],
    tool: Mapping[str, object] | None = None,
) -> Pylock:
    """Per-target locks of one project into one universal lock.

    One entry per package version. Its marker joins, with ``or``, the targets that need
    it unconditionally and, per extras/groups marker, that marker on the targets needing
    it so (widened by the unconditional ones, where it is needed anyway).
    """
    first = locks[0][1]
    seen: dict[tuple[str, str], list[tuple[Target, Package]]] = {}
    for target, pylock in locks:
        for package in pylock.packages:
            seen.setdefault(_key(package), []).append((target, package))
    packages = []
    for entries in seen.values():
        base = entries[0][1]
        wheels = {w.name: w for _, p in entries for w in p.wheels or ()}
        packages.append(
            replace(
                base,
                marker=_needed(entries, universe),
                wheels=[wheels[n] for n in sorted(wheels, key=str)] or None,
                dependencies=_dependencies(p for _, p in entries),
            )
        )
    packages.sort(key=lambda p: (p.name, Version(str(p.version)) if p.version else Version("0")))
    return replace(
        first,
        environments=list(environments),
        packages=packages,
        tool=dict(tool) if tool is not None else first.tool,
    )


def _needed(entries: Sequence[tuple[Target, Package]], universe: Sequence[Target]) -> Marker | None:
    always = [t for t, p in entries if p.marker is None]
    by_who: dict[str, list[Target]] = {}
    for target, package in entries:
        if package.marker is not None:
            by_who.setdefault(str(package.marker), []).append(target)
    clauses: list[Marker | None] = []
    if always:
        clauses.append(describe(always, universe))
    for who, targets in sorted(by_who.items()):
        clauses.append(_and(describe([*always, *targets], universe), Marker(who)))
    if any(clause is None for clause in clauses):
        return None
    texts = [str(c) for c in clauses]
    if len(texts) == 1:
        return Marker(texts[0])
    return Marker(" or ".join(f"({t})" if " and " in t else t for t in texts))


def _dependencies(packages: Iterable[Package]) -> list[dict[str, object]] | None:
    names: dict[str, dict[str, object]] = {}
    for package in packages:
        for dependency in package.dependencies or ():
            names.setdefault(str(dependency.get("name")), dict(dependency))
    return [names[n] for n in sorted(names)] or None
