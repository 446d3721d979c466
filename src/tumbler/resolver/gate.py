"""The gate without a resolver: is a committed lock a consistent answer to the project?

``lock --check`` asks this first (when the recorded inputs match the project). For every
environment the lock may be installed on — the targets of its universal grid, or its one
target — it checks, at once for all of them (a bit per target):

- each entry the lock selects there has a file for it and admits its Python (I5b, I6),
  and no name is selected twice (I5c);
- every requirement of the project (each extra and group too, minus those recorded as
  unavailable there) and every Requires-Dist of a needed release, as the index gave it
  when the lock was made (:mod:`tumbler.index.facts`), is met by the entry selected there,
  its version inside the specifier; a release with no record at hand is followed through
  the dependencies the lock records for it;
- the entries selected are exactly the ones needed (no stray entry, none missing), each
  entry's recorded ``dependencies`` are the ones its requirements reach, the header is
  what locking writes (``environments`` naming exactly the targets with no problem);
- each entry's files are the ones locking took from the release, each the file the index
  listed: same sha256 and size.

No problem means a fresh lock with the same pins would be this lock, as far as the data at
hand tells: the answer is "up to date" with no network and no resolution. Any problem
sends the gate to the full re-lock, which names the drift precisely. Pure: the caller
reads the records.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from packaging.markers import InvalidMarker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from tumbler.env.markers import Environments
from tumbler.env.targets import tag_masks
from tumbler.index.pages import file_name_parts

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from datetime import datetime

    from packaging.pylock import Package, Pylock

    from tumbler.env.targets import Target
    from tumbler.index.facts import Needs, ReleaseFacts
    from tumbler.lockfile.tables import Unavailable

__all__ = ["GateInput", "GateVerdict", "verify"]


@dataclass(frozen=True, slots=True)
class GateInput:
    """What the gate checks a lock against."""

    pylock: Pylock
    #: The project's requirements per table: ``""``, ``extra:<name>``, ``group:<name>``.
    roots: Mapping[str, Sequence[Needs]]
    #: Every target the lock may be made for (a universal grid, or the one target).
    universe: Sequence[Target]
    #: The index's record of each entry's release (by position in ``pylock.packages``).
    facts: Sequence[ReleaseFacts | None]
    unavailable: Sequence[Unavailable] = ()
    exclude_newer: datetime | None = None
    #: The header a fresh lock writes, by field (``extras``, ``requires-python`` ...).
    header: Mapping[str, object] = field(default_factory=dict)
    #: The ``environments`` a fresh lock writes for the targets given (True: covered).
    environments: Callable[[Sequence[Target]], list[str]] | None = None
    #: :func:`tumbler.env.targets.tag_masks` of ``universe``, when the caller has it kept.
    tags: Mapping[str, int] | None = None


@dataclass(frozen=True, slots=True)
class GateVerdict:
    """The gate's answer: no problem, or why the lock must be compared with a re-lock."""

    problems: tuple[str, ...]
    #: Entries whose release had no record at hand (followed through the lock alone).
    unrecorded: tuple[str, ...] = ()

    @property
    def consistent(self) -> bool:
        """Whether the lock is what locking would write, as far as the data tells."""
        return not self.problems


@dataclass(slots=True)
class _Run:
    """The working state of one verification (masks are ints, a bit per target)."""

    given: GateInput
    #: The targets' marker environments, for requirements' markers and for the lock's.
    environments: Environments
    lock_environments: Environments
    every: int
    #: Wheel tag (text) → the targets that install it.
    tags: Mapping[str, int]
    entries: dict[str, list[int]]
    selected: list[int]
    #: Targets with a problem, and the problems (shown for covered targets only).
    troubled: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)
    need: dict[tuple[str, str], int] = field(default_factory=dict)
    reached: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    requirements: dict[int, tuple[Needs, ...] | None] = field(default_factory=dict)
    pythons: dict[str, int] = field(default_factory=dict)

    def trouble(self, where: int, message: str) -> None:
        if where:
            self.troubled |= where
            self.problems.append((where, message))


def verify(given: GateInput) -> GateVerdict:
    """Check ``given.pylock`` against the project and the index's records (see module)."""
    pylock = given.pylock
    run = _start(given)
    for number, package in enumerate(pylock.packages):
        _entry(run, number, package)
    _names_once(run)
    _walk(run)
    _exactly_needed(run)
    covered = _covered(run)
    problems = [m for where, m in run.problems if where & covered]
    left_out = run.every & ~covered & ~run.troubled
    if left_out:
        names = [t.name for bit, t in enumerate(given.universe) if left_out >> bit & 1]
        problems.append(f"left out without a reason: {', '.join(names)}")
    problems.extend(_header(run))
    problems.extend(_files(given))
    unrecorded = tuple(
        str(p.name) for p, facts in zip(pylock.packages, given.facts, strict=True) if facts is None
    )
    return GateVerdict(tuple(dict.fromkeys(problems)), unrecorded)


def _start(given: GateInput) -> _Run:
    pylock = given.pylock
    extras = frozenset(str(e) for e in pylock.extras or ())
    groups = frozenset([*(str(g) for g in pylock.dependency_groups or ()), "default"])
    environments = [dict(t.environment) for t in given.universe]
    in_lock = [{**e, "extras": extras, "dependency_groups": groups} for e in environments]
    entries: dict[str, list[int]] = defaultdict(list)
    for number, package in enumerate(pylock.packages):
        entries[str(package.name)].append(number)
    tags = given.tags if given.tags is not None else tag_masks(given.universe)
    return _Run(
        given=given,
        environments=Environments(environments),
        lock_environments=Environments(in_lock, lock_file=True),
        every=(1 << len(environments)) - 1,
        tags=tags,
        entries=dict(entries),
        selected=[0] * len(pylock.packages),
    )


def _pythons(run: _Run, specifier: object) -> int:
    """The targets whose Python ``specifier`` admits."""
    if specifier is None:
        return run.every
    text = str(specifier)
    known = run.pythons.get(text)
    if known is not None:
        return known
    out = run.every
    spec = _specifier(text)
    if spec is not None:
        out = 0
        for bit, environment in enumerate(run.environments.items):
            if spec.contains(environment["python_full_version"], prereleases=True):
                out |= 1 << bit
    run.pythons[text] = out
    return out


@functools.lru_cache(maxsize=4096)
def _specifier(text: str) -> SpecifierSet | None:
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


def _entry(run: _Run, number: int, package: Package) -> None:
    """Where the entry is selected, and the targets it cannot serve."""
    try:
        selected = run.lock_environments.mask(package.marker)
    except InvalidMarker:
        selected = run.every
    run.selected[number] = selected
    name = f"{package.name} {package.version or ''}".strip()
    run.trouble(
        selected & ~_pythons(run, package.requires_python),
        f"{name}: selected where its requires-python {package.requires_python} is not met",
    )
    run.trouble(selected & ~_fits(run, package), f"{name}: no file for a target it is selected on")
    facts = run.given.facts[number]
    if facts is not None and facts.requires_python is not None:
        recorded = None if package.requires_python is None else str(package.requires_python)
        if recorded != facts.requires_python:
            run.trouble(
                selected or run.every,
                f"{name}: requires-python {recorded} but its metadata says {facts.requires_python}",
            )
    run.requirements[number] = facts.requires_dist if facts is not None else None


def _fits(run: _Run, package: Package) -> int:
    """The targets one of the entry's files installs on."""
    if package.sdist or package.vcs or package.directory or package.archive:
        return run.every
    out = 0
    for wheel in package.wheels or ():
        parts = file_name_parts(str(wheel.name))
        if parts is None:
            continue
        for tag in parts[2]:
            out |= run.tags.get(str(tag), 0)
        if out == run.every:
            break
    return out


def _names_once(run: _Run) -> None:
    """I5c: no two entries of one name selected on one target."""
    for name, numbers in run.entries.items():
        seen = 0
        for number in numbers:
            run.trouble(seen & run.selected[number], f"{name}: two entries selected at once")
            seen |= run.selected[number]


def _walk(run: _Run) -> None:
    """Propagate what is needed where, from the project's requirements down (a worklist
    of (name, extra) nodes whose target masks only grow)."""
    given = run.given
    queue: list[tuple[str, str, int]] = []
    for table, requirements in given.roots.items():
        kind, _, scope = table.partition(":")
        allowed = run.every & ~_unavailable(run, kind, scope)
        for requirement in requirements:
            where = _mask(run.environments, requirement.marker) & allowed
            _demand(run, requirement, where, f"the project's {table or 'dependencies'}")
            queue.extend(_nodes(requirement, where))
    while queue:
        name, extra, where = queue.pop()
        known = run.need.get((name, extra), 0)
        fresh = where & ~known
        if not fresh:
            continue
        run.need[(name, extra)] = known | fresh
        if extra:
            queue.append((name, "", fresh))
        for number in run.entries.get(name, ()):
            here = fresh & run.selected[number]
            if here:
                queue.extend(_follow(run, number, extra, here))


def _nodes(requirement: Needs, where: int) -> list[tuple[str, str, int]]:
    """The (name, extra) nodes ``requirement`` needs, where it needs them."""
    if not where:
        return []
    return [
        (requirement.name, "", where),
        *((requirement.name, e, where) for e in requirement.extras),
    ]


def _mask(environments: Environments, marker: str | None, extra: str = "") -> int:
    try:
        return environments.mask(marker, extra)
    except InvalidMarker:
        return environments.every


def _unavailable(run: _Run, kind: str, scope: str) -> int:
    out = 0
    for row in run.given.unavailable:
        if row.kind == kind and canonicalize_name(row.name) == canonicalize_name(scope):
            try:
                out |= run.environments.mask(row.marker) if row.marker else run.every
            except InvalidMarker:
                out |= run.every
    return out


def _follow(run: _Run, number: int, extra: str, where: int) -> list[tuple[str, str, int]]:
    """The nodes entry ``number`` needs where it is needed (``where``) for ``extra``."""
    package = run.given.pylock.packages[number]
    requirements = run.requirements[number]
    out: list[tuple[str, str, int]] = []
    if requirements is None:  # no record at hand: the lock's own edges, where selected
        if extra:
            return out
        for dependency in package.dependencies or ():
            name = canonicalize_name(str(dependency.get("name", "")))
            there = 0
            for other in run.entries.get(name, ()):
                there |= run.selected[other]
            if where & there:
                out.append((name, "", where & there))
        return out
    owner = f"{package.name} {package.version}"
    for requirement in requirements:
        if requirement.marker is None:
            if extra:
                continue
            here = where
        else:
            here = where & _mask(run.environments, requirement.marker, extra)
        if not here:
            continue
        if requirement.name != package.name:
            run.reached[number].add(requirement.name)
        _demand(run, requirement, here, owner)
        out.extend(_nodes(requirement, here))
    return out


def _demand(run: _Run, requirement: Needs, where: int, who: str) -> None:
    """``requirement`` (asked by ``who``) must be met where ``where`` says."""
    if not where:
        return
    name = requirement.name
    served = 0
    specifier = _specifier(requirement.specifier) if requirement.url is None else None
    for number in run.entries.get(name, ()):
        selected = run.selected[number]
        served |= selected
        version = run.given.pylock.packages[number].version
        if (
            specifier is not None
            and version is not None
            and selected & where
            and not specifier.contains(_version(version), prereleases=True)
        ):
            run.trouble(
                selected & where, f"{who} asks for {requirement}: {name} {version} is locked"
            )
    run.trouble(where & ~served, f"{who} asks for {requirement}: no entry for it")


def _version(value: object) -> Version:
    try:
        return value if isinstance(value, Version) else Version(str(value))
    except InvalidVersion:
        return Version("0")


def _exactly_needed(run: _Run) -> None:
    """Every selected entry is needed where selected; its recorded dependencies are the
    ones its requirements reach (for a release with a record)."""
    pylock = run.given.pylock
    for number, package in enumerate(pylock.packages):
        name = str(package.name)
        needed = run.need.get((name, ""), 0)
        run.trouble(
            run.selected[number] & ~needed, f"{name} {package.version}: locked but not needed"
        )
        if run.requirements[number] is None:
            continue
        recorded = {canonicalize_name(str(d.get("name", ""))) for d in package.dependencies or ()}
        if recorded != run.reached.get(number, set()):
            run.trouble(
                run.selected[number] or run.every,
                f"{name} {package.version}: its recorded dependencies are not what it requires",
            )


def _covered(run: _Run) -> int:
    """The targets the lock's ``environments`` claim (every one for none)."""
    markers = run.given.pylock.environments
    if not markers:
        return run.every
    out = 0
    for marker in markers:
        out |= _mask(run.environments, str(marker))
    return out


def _header(run: _Run) -> list[str]:
    given, pylock = run.given, run.given.pylock
    found: dict[str, object] = {
        "extras": [str(e) for e in pylock.extras or ()],
        "dependency-groups": [str(g) for g in pylock.dependency_groups or ()],
        "default-groups": [str(g) for g in pylock.default_groups or ()],
        "requires-python": None if pylock.requires_python is None else str(pylock.requires_python),
        "created-by": pylock.created_by,
        "lock-version": str(pylock.lock_version),
    }
    problems = [
        f"the header's {key} is {found[key]!r}, locking writes {wanted!r}"
        for key, wanted in given.header.items()
        if found.get(key) != wanted
    ]
    if given.environments is not None:
        served = [t for bit, t in enumerate(given.universe) if not run.troubled >> bit & 1]
        recorded = sorted(str(m) for m in pylock.environments or ())
        if given.environments(served) != recorded:
            problems.append("the environments are not the targets the lock serves")
    return problems


def _files(given: GateInput) -> Iterable[str]:
    """Each locked file against the index's record of its release."""
    for package, facts in zip(given.pylock.packages, given.facts, strict=True):
        if facts is None:
            continue
        files: list[Any] = [*(package.wheels or ()), *([package.sdist] if package.sdist else [])]
        if {str(f.name) for f in files} != set(facts.files):
            yield f"{package.name}: its files are not the ones locking takes from the release"
        for file in files:
            known = facts.files.get(str(file.name))
            if known is None:
                yield f"{package.name}: {file.name} is not a file of its release"
                continue
            sha256 = (file.hashes or {}).get("sha256")
            if known.sha256 is not None and sha256 != known.sha256:
                yield f"{package.name}: {file.name} has another sha256 on the index"
            if known.size is not None and file.size is not None and file.size != known.size:
                yield f"{package.name}: {file.name} has another size on the index"
            if known.yanked:
                yield f"{package.name}: {file.name} is yanked"
            if _after(known.upload_time, given.exclude_newer):
                yield f"{package.name}: {file.name} was uploaded after --exclude-newer"


def _after(upload_time: str | None, limit: datetime | None) -> bool:
    if upload_time is None or limit is None:
        return False
    from datetime import datetime as clock

    try:
        return clock.fromisoformat(upload_time) > limit
    except (ValueError, TypeError):
        return False
