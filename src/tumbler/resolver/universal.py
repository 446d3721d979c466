"""Universal (package) locks: one ``pylock.toml`` for many platforms and Python versions.

The pieces, all pure:

* :func:`grid` — the concrete targets a lock covers: every CPython minor version released
  by ``today`` (from :data:`PYTHONS`, end of life included) that the project's
  ``requires-python`` allows, from :data:`FLOOR` up, on every platform of
  :data:`tumbler.env.targets.PLATFORMS`; narrowed to those an ``environments`` marker
  accepts when one is given. A minor version is cut into *slots* of patch releases
  wherever something the lock depends on tells them apart (``requires-python``, a
  ``python_full_version`` marker, a file's ``Requires-Python: >=3.11.4``): each slot's
  target stands for every release from its first patch up to the next slot.
* :func:`describe` — the shortest readable marker that is true on exactly a subset of the
  grid (``sys_platform == 'win32'``, ``python_version < '3.12'``,
  ``python_full_version < '3.11.3'``, ...), None for all of it.
* :func:`environments_of` — the lock's ``environments``: per platform, the Python
  releases it was resolved for, and nothing else.
* :func:`merge` — single-target locks, one per grid target, into one lock: one entry per
  package version, carrying the marker of the targets that need it (and the extras/groups
  marker it had), with the union of the wheels those targets use and the sdist. Versions
  that differ by target become several entries whose markers are disjoint by construction
  (each target falls in exactly one); a dependency on a name with several entries names
  the version each dependent uses.

The resolution itself is :func:`tumbler.resolver.locker.lock` per target, newest Python first, each
preferring the versions already chosen: a package keeps one version on every platform
unless a target forces another, and each Python gets the newest release supporting it.
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from packaging.markers import Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tumbler.env.targets import (
    PLATFORMS,
    Target,
    marker_python_splits,
    parse_target,
    platform_of,
    python_splits,
)
from tumbler.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from packaging.pylock import Package, Pylock

__all__ = [
    "FLOOR",
    "PYTHONS",
    "admits_older",
    "describe",
    "end_of_life",
    "environments_of",
    "grid",
    "header_requires_python",
    "merge",
    "slot_of",
    "spoken",
]

#: CPython minor versions: (version, first release, end of life), from the CPython
#: release schedule (PEP 602: a new minor every October, five years of support).
PYTHONS: tuple[tuple[str, date, date], ...] = (
    ("3.8", date(2019, 10, 14), date(2024, 10, 7)),
    ("3.9", date(2020, 10, 5), date(2025, 10, 31)),
    ("3.10", date(2021, 10, 4), date(2026, 10, 31)),
    ("3.11", date(2022, 10, 24), date(2027, 10, 31)),
    ("3.12", date(2023, 10, 2), date(2028, 10, 31)),
    ("3.13", date(2024, 10, 7), date(2029, 10, 31)),
    ("3.14", date(2025, 10, 7), date(2030, 10, 31)),
    ("3.15", date(2026, 10, 1), date(2031, 10, 31)),
)
#: The oldest CPython a lock is made for (the oldest an install can target).
FLOOR = PYTHONS[0][0]


def _minor(version: Version) -> tuple[int, int]:
    return version.major, version.minor


def slot_of(target: Target) -> Version:
    """The first patch release a target stands for (``3.11.0``, ``3.11.3``)."""
    return _version(target.environment["python_full_version"])


@functools.cache
def _version(text: str) -> Version:
    return Version(text)  # a merge asks for each target's slot thousands of times


def _slots(
    minor: str, requires_python: SpecifierSet | None, splits: Iterable[Version]
) -> list[Version]:
    """The slots of ``minor`` that ``requires_python`` admits: its ``.0`` release and every
    split inside it, each standing for the releases up to the next."""
    first = Version(f"{minor}.0")
    cuts = set(splits)
    if requires_python is not None:
        cuts |= python_splits(requires_python)
    starts = sorted({first} | {c for c in cuts if _minor(c) == _minor(first) and c.micro})
    if requires_python is None:
        return starts
    return [s for s in starts if requires_python.contains(s, prereleases=True)]


def grid(
    requires_python: SpecifierSet | None,
    environments: Sequence[Marker] = (),
    *,
    today: date,
    splits: Iterable[Version] = (),
) -> tuple[Target, ...]:
    """The targets a universal lock covers, oldest Python first, platforms in a fixed
    order: every slot of every CPython released by ``today`` that ``requires_python``
    admits (from :data:`FLOOR`), on every platform, that an ``environments`` marker
    accepts (when any is given). ``splits``: patch releases to tell apart."""
    cuts = set(splits)
    for marker in environments:
        cuts |= marker_python_splits(str(marker))
    minors = [v for v, released, _ in PYTHONS if released <= today]
    slots = [s for m in minors for s in _slots(m, requires_python, cuts)]
    targets = [parse_target(f"{platform}-{_text(s)}") for s in slots for platform in PLATFORMS]
    if environments:
        targets = [t for t in targets if any(_accepts(m, t) for m in environments)]
    if not minors:
        raise UsageError(f"no CPython was released by {today} (--exclude-newer is that early)")
    if not targets:
        wanted = " or ".join(f"({m})" for m in environments)
        raise UsageError(
            f"no CPython {minors[0]} to {minors[-1]} on Linux, macOS or Windows matches the "
            f"project's requires-python {requires_python or '(none)'}"
            + (f" and {wanted}" if wanted else "")
        )
    return tuple(targets)


def _text(slot: Version) -> str:
    return f"{slot.major}.{slot.minor}" + (f".{slot.micro}" if slot.micro else "")


def _accepts(marker: Marker, target: Target) -> bool:
    try:
        return marker.evaluate(target.environment)
    except (UndefinedEnvironmentName, UndefinedComparison) as error:
        raise UsageError(
            f"environment '{marker}' can only use platform and Python variables: {error}"
        ) from None


def end_of_life(targets: Iterable[Target], today: date) -> list[str]:
    """The minor versions among ``targets`` whose support ended before ``today``."""
    minors = {"{}.{}".format(*_minor(slot_of(t))) for t in targets}
    return [v for v, _, ended in PYTHONS if v in minors and ended < today]


def header_requires_python(requires_python: SpecifierSet | None) -> SpecifierSet:
    """The lock's ``requires-python``: the project's, without what is older than
    :data:`FLOOR` (a lock never claims a Python it was not resolved for)."""
    if requires_python is None:
        return SpecifierSet(f">={FLOOR}")
    if not admits_older(requires_python):
        return requires_python
    kept = [
        str(s)
        for s in requires_python
        if not (s.operator in (">=", ">") and Version(s.version) < Version(FLOOR))
    ]
    return SpecifierSet(",".join([f">={FLOOR}", *kept]))


def admits_older(requires_python: SpecifierSet | None) -> bool:
    """Whether ``requires_python`` admits a Python older than :data:`FLOOR`."""
    if requires_python is None:
        return True
    older = int(FLOOR.split(".")[1])
    versions = ["2.7.0", "2.7.18", *(f"3.{m}.{p}" for m in range(older) for p in (0, 99))]
    return any(requires_python.contains(v, prereleases=True) for v in versions)


# --- markers --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class _Point:
    python: Version  # the slot's first release
    platform: str  # a key of PLATFORMS


def _point(target: Target) -> _Point:
    env = target.environment
    key = (env.get("sys_platform"), env.get("platform_machine"), env["python_full_version"])
    known = _POINTS.get(key)
    if known is None:
        platform = platform_of(env)
        if platform is None:
            raise ValueError(f"not a grid target: {target.name}")
        known = _POINTS[key] = _Point(slot_of(target), platform)
    return known


#: Each target's point by the marker values it is made of (a merge asks thousands of times).
_POINTS: dict[tuple[str | None, str | None, str], _Point] = {}


def _lower(start: Version) -> str:
    if start.micro == 0:
        return f"python_version >= '{start.major}.{start.minor}'"
    return f"python_full_version >= '{start}'"


def _upper(end: Version) -> str:
    if end.micro == 0:
        return f"python_version < '{end.major}.{end.minor}'"
    return f"python_full_version < '{end}'"


def _run_marker(run: Sequence[Version], every: Sequence[Version]) -> str:
    """One contiguous run of ``every`` (sorted slots) as bounds; empty for all of it."""
    first, last = every.index(run[0]), every.index(run[-1])
    end = every[last + 1] if last + 1 < len(every) else None
    one_minor = _minor(run[0]) == _minor(run[-1])
    whole = run[0].micro == 0 and (
        end is None or (end.micro == 0 and _minor(end)[1] == run[0].minor + 1)
    )
    if one_minor and whole and (first > 0 or end is not None):
        return f"python_version == '{run[0].major}.{run[0].minor}'"
    parts = []
    if first > 0:
        parts.append(_lower(run[0]))
    if end is not None:
        parts.append(_upper(end))
    return " and ".join(parts)


def _pythons_marker(chosen: Sequence[Version], every: Sequence[Version]) -> str:
    """``chosen`` slots within ``every`` (both sorted), as a short condition."""
    if list(chosen) == list(every):
        return ""
    texts = [_run_marker(run, every) for run in _runs(chosen, every)]
    if len(texts) == 1:
        return texts[0]
    return " or ".join(f"({t})" if " and " in t else t for t in texts)


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
    one clause per set of platforms sharing the same Python slots.
    """
    points = {_point(t) for t in subset}
    every = [_point(t) for t in universe]
    if points == set(every):
        return None
    pythons = sorted({p.python for p in every})
    platforms = list(dict.fromkeys(p.platform for p in every))
    chosen_pythons = sorted({p.python for p in points})
    if points == {p for p in every if p.python in chosen_pythons}:
        return Marker(_pythons_marker(chosen_pythons, pythons))
    chosen_platforms = {p.platform for p in points}
    if points == {p for p in every if p.platform in chosen_platforms}:
        return Marker(_platforms_marker(chosen_platforms, platforms))
    # Platforms grouped by the Python slots they need, each group one clause.
    groups: dict[tuple[Version, ...], list[str]] = {}
    for platform in platforms:
        mine = sorted({p.python for p in points if p.platform == platform})
        if mine:
            groups.setdefault(tuple(mine), []).append(platform)
    clauses = []
    for versions, names in groups.items():
        available = sorted({p.python for p in every if p.platform in names})
        clause = _both(_platforms_marker(names, platforms), _pythons_marker(versions, available))
        clauses.append(clause)
    if len(clauses) == 1:
        return Marker(clauses[0])
    return Marker(" or ".join(f"({c})" if " and " in c else c for c in clauses))


def environments_of(covered: Sequence[Target], universe: Sequence[Target] = ()) -> list[Marker]:
    """The lock's top-level ``environments``: per platform, one marker per run of Python
    slots it was locked for (``universe``: every slot asked for, left-out ones too, so a
    gap is never claimed). Each names ``platform_system`` too, as pdm's reader needs."""
    slots = sorted({slot_of(t) for t in (*universe, *covered)})
    by_platform: dict[str, set[Version]] = {}
    for point in (_point(t) for t in covered):
        by_platform.setdefault(point.platform, set()).add(point.python)
    out = []
    for platform, pythons in by_platform.items():
        sys_platform, system, _, machine = PLATFORMS[platform]
        head = (
            f"implementation_name == 'cpython' and sys_platform == '{sys_platform}' "
            f"and platform_system == '{system}' and platform_machine == '{machine}'"
        )
        for run in _runs(sorted(pythons), slots):
            out.append(Marker(f"{head} and {_span(run, slots)}"))
    return out


def _runs(chosen: Sequence[Version], every: Sequence[Version]) -> list[list[Version]]:
    """``chosen`` (within ``every``, both sorted) as runs of neighbours in ``every``."""
    picked = set(chosen)
    runs: list[list[Version]] = [[]]
    for slot in every:
        if slot in picked:
            runs[-1].append(slot)
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def _span(run: Sequence[Version], every: Sequence[Version]) -> str:
    """Both bounds of a run of slots, the upper one inclusive of the newest minor."""
    last = every.index(run[-1])
    end = every[last + 1] if last + 1 < len(every) else None
    if end is None or (end.micro == 0 and _minor(end) != _minor(run[-1])):
        upper = f"python_version <= '{run[-1].major}.{run[-1].minor}'"
    else:
        upper = _upper(end)
    return f"{_lower(run[0])} and {upper}"


def spoken(targets: Sequence[Target], universe: Sequence[Target] = ()) -> str:
    """``windows-arm64 (Python 3.10 to 3.15), macos-x86_64 (Python 3.12)``: targets by
    platform, for people. A run of neighbouring slots of ``universe`` (default: the
    targets') reads as a range of minor versions."""
    every = sorted({slot_of(t) for t in (*universe, *targets)})
    pythons: dict[str, set[Version]] = {}
    for point in (_point(t) for t in targets):
        pythons.setdefault(point.platform, set()).add(point.python)
    parts = []
    for platform, slots in pythons.items():
        ordered = sorted(slots)
        first, last = every.index(ordered[0]), every.index(ordered[-1])
        end = "{}.{}".format(*_minor(ordered[-1]))
        if ordered != every[first : last + 1] or not _ends_minor(ordered[-1], every):
            shown = ", ".join(_slot_text(v, every) for v in ordered)
        elif _text(ordered[0]) == end:
            shown = end
        else:
            shown = f"{_text(ordered[0])} to {end}"
        parts.append(f"{platform} (Python {shown})")
    return ", ".join(parts)


def _ends_minor(slot: Version, every: Sequence[Version]) -> bool:
    """Whether ``slot`` is the last slot of its minor version in ``every``."""
    later = every[every.index(slot) + 1 :]
    return not later or _minor(later[0]) != _minor(slot)


def _slot_text(slot: Version, every: Sequence[Version]) -> str:
    """``3.11`` for a whole minor version, ``3.11.0`` for its first slot of several."""
    return _text(slot) if _ends_minor(slot, every) or slot.micro else str(slot)


# --- merging --------------------------------------------------------------------------------


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
    requires_python: SpecifierSet | None = None,
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
    entries_of = Counter(name for name, _ in seen)
    #: Per target, each name's entry: what a dependency of that target's packages means.
    keys_in = {t.name: {str(p.name): _key(p) for p in pylock.packages} for t, pylock in locks}
    by_key = {key: entries[0][1] for key, entries in seen.items()}
    packages = []
    for entries in seen.values():
        base = entries[0][1]
        wheels = {w.name: w for _, p in entries for w in p.wheels or ()}
        used = {
            keys_in[t.name][name]
            for t, p in entries
            for d in p.dependencies or ()
            if (name := str(d.get("name"))) in keys_in[t.name]
        }
        packages.append(
            replace(
                base,
                marker=_needed(entries, universe),
                wheels=[wheels[n] for n in sorted(wheels, key=str)] or None,
                dependencies=_dependencies(used, entries_of, by_key),
            )
        )
    packages.sort(key=lambda p: (p.name, Version(str(p.version)) if p.version else Version("0")))
    return replace(
        first,
        environments=list(environments),
        requires_python=requires_python if requires_python is not None else first.requires_python,
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


def _dependencies(
    used: Iterable[tuple[str, str]],
    entries_of: Mapping[str, int],
    by_key: Mapping[tuple[str, str], Package],
) -> list[dict[str, Any]] | None:
    """One table per entry a package depends on: its name when the lock has one entry of
    that name, else also what tells the entries apart (R23): the version, or the source."""
    out = [_identify(by_key[key]) if entries_of[key[0]] > 1 else {"name": key[0]} for key in used]
    out.sort(key=lambda d: (d["name"], str(d.get("version", "")), repr(d)))
    return out or None


def _identify(package: Package) -> dict[str, Any]:
    if package.version is not None:
        return {"name": package.name, "version": str(package.version)}
    if package.vcs is not None:
        return {
            "name": package.name,
            "vcs": {"url": package.vcs.url, "commit-id": package.vcs.commit_id},
        }
    if package.directory is not None:
        return {"name": package.name, "directory": {"path": package.directory.path}}
    assert package.archive is not None
    where = {"url": package.archive.url} if package.archive.url else {"path": package.archive.path}
    return {"name": package.name, "archive": where}
