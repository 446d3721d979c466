"""Lock stage: a project and a target → a :class:`packaging.pylock.Pylock`.

Everything the project asks for, its dependencies, every extra and every dependency group,
is resolved together for one target environment. Each package then carries the PEP 751
marker that says who needs it: none when the project's own dependencies do, else
``'viz' in extras`` / ``'dev' in dependency_groups`` clauses, so installers choose extras
and groups at install time from one file. Each package lists every wheel the target can
use plus the sdist, with url, size, upload time and sha256; sizes an index did not give
are asked for with HEAD requests (cached by hash).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packaging.markers import Marker
from packaging.pylock import Package, PackageDirectory, PackageSdist, PackageWheel, Pylock
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from tumbler.env.targets import marker_python_splits, python_splits, target_marker
from tumbler.errors import UnsupportedTargetError
from tumbler.index.finder import Catalog, Finder
from tumbler.lockfile.model import LOCK_VERSION
from tumbler.lockfile.tables import DEV_GROUP, Unavailable, tool_table
from tumbler.net.urls import redact
from tumbler.resolver.request import LockRequest, lock_inputs
from tumbler.resolver.resolve import Req, project_of, replay, resolve, roots_reaching, settle
from tumbler.resolver.universal import (
    FLOOR,
    admits_older,
    describe,
    end_of_life,
    environments_of,
    grid,
    header_requires_python,
    merge,
    slot_of,
    spoken,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import date

    from tumbler.env.targets import Target
    from tumbler.index.direct import DirectSource
    from tumbler.index.pages import IndexFile
    from tumbler.net.http import Http
    from tumbler.project.pyproject import Project
    from tumbler.resolver.resolve import Candidate, Resolution

__all__ = ["LockRequest", "lock", "lock_inputs"]


def _roots(project: Project, environment: Mapping[str, str]) -> dict[str, list[Req]]:
    """Root requirements per origin (``""`` is the project's own dependencies)."""
    env: dict[str, str] = {**environment, "extra": ""}
    tables: dict[str, tuple[Requirement, ...]] = {"": project.dependencies}
    where = "[project.dependencies]" if project.path.suffix == ".toml" else project.path.name
    for extra, requirements in project.extras.items():
        tables[f"extra:{extra}"] = requirements
    for group, requirements in project.groups.items():
        tables[f"group:{group}"] = requirements
    roots: dict[str, list[Req]] = {}
    for key, requirements in tables.items():
        kind, _, name = key.partition(":")
        origin = where if not key else f"[project.optional-dependencies] {name}"
        if kind == "group":
            origin = f"[dependency-groups] {name}"
        roots[key] = [
            Req.of(r, origin) for r in requirements if r.marker is None or r.marker.evaluate(env)
        ]
    return roots


def _roots_anywhere(project: Project) -> dict[str, tuple[Requirement, ...]]:
    """The project's requirements per table, as people name them, markers unevaluated."""
    where = "dependency" if project.path.suffix == ".toml" else "requirement"
    tables = {where: project.dependencies}
    tables.update({f"extra {k!r}": v for k, v in project.extras.items()})
    tables.update({f"group {k!r}": v for k, v in project.groups.items()})
    return tables


#: The synthetic group (R15) standing for "no group named": the project's default groups.
DEFAULT_GROUP = "default"


def _marker(origins: set[str], default_groups: Sequence[str]) -> Marker | None:
    """Who needs a package, as a marker: None when the project's own dependencies do."""
    if "" in origins:
        return None
    clauses = []
    for origin in sorted(origins, key=lambda o: (not o.startswith("extra:"), o)):
        kind, _, name = origin.partition(":")
        variable = "extras" if kind == "extra" else "dependency_groups"
        clauses.append(f"'{name}' in {variable}")
    if any(o.partition(":")[2] in default_groups for o in origins if o.startswith("group:")):
        clauses.append(f"'{DEFAULT_GROUP}' in dependency_groups")
    return Marker(" or ".join(clauses)) if clauses else None


def _file_fields(file: IndexFile, sizes: Mapping[str, int]) -> dict[str, Any]:
    return {
        "name": file.filename,
        "url": redact(file.url),
        "size": sizes.get(file.url),
        "upload_time": file.upload_time,
        "hashes": dict(file.hashes),
    }


#: Each index file's wheel table, made once for every target of the run (by the file's
#: identity, the file kept; the sizes are the run's).
_WHEELS: dict[int, tuple[IndexFile, Mapping[str, int], PackageWheel]] = {}


def _wheel(file: IndexFile, sizes: Mapping[str, int]) -> PackageWheel:
    known = _WHEELS.get(id(file))
    if known is not None and known[0] is file and known[1] is sizes:
        return known[2]
    made = PackageWheel(**_file_fields(file, sizes))
    _WHEELS[id(file)] = (file, sizes, made)
    return made


def _package(
    candidate: Candidate,
    marker: Marker | None,
    dependencies: list[dict[str, Any]],
    sizes: Mapping[str, int],
    finder: Finder,
) -> Package:
    direct: DirectSource | None = candidate.direct
    if direct is not None:
        return Package(
            name=candidate.name,
            version=None if direct.vcs or direct.directory else candidate.version,
            marker=marker,
            requires_python=direct.metadata.requires_python,
            dependencies=dependencies or None,
            vcs=direct.vcs,
            directory=direct.directory,
            archive=direct.archive,
        )
    release = candidate.release
    assert release is not None
    metadata = finder.metadata(release)
    wheels = [_wheel(f, sizes) for f in release.files if f.is_wheel]
    sdist = release.sdist
    return Package(
        name=candidate.name,
        version=candidate.version,
        marker=marker,
        requires_python=metadata.requires_python or release.best.requires_python,
        dependencies=dependencies or None,
        index=release.index,
        sdist=None if sdist is None else PackageSdist(**_file_fields(sdist, sizes)),
        wheels=wheels or None,
    )


def _directs(
    request: LockRequest, http: Http, roots: list[Req]
) -> dict[NormalizedName, DirectSource]:
    from tumbler.index.direct import resolve_direct

    out: dict[NormalizedName, DirectSource] = {}
    for root in roots:
        if root.url is None or root.name in out:
            continue
        requirement = Requirement(root.text)
        out[root.name] = resolve_direct(
            requirement,
            http=http,
            cache_dir=request.cache_dir,
            lock_dir=request.lock_dir,
            editable=root.name in request.project.settings.editable,
        )
    return out


def lock(request: LockRequest, http: Http) -> tuple[Pylock, Finder]:
    """Resolve ``request`` and build the lock (nothing is written)."""
    if request.universe:
        return _lock_universal(request, http)
    return _lock_one(request, http)


def _kept_preferences(request: LockRequest) -> dict[NormalizedName, Version]:
    """The old lock's pins that ``--upgrade`` / ``--upgrade-package`` leave in place."""
    if request.upgrade:
        return {}
    return {
        k: v for k, v in (request.preferences or {}).items() if k not in request.upgrade_packages
    }


#: How many times a universal lock is resolved again for patch releases found on the way.
_ROUNDS = 8


@dataclass(frozen=True, slots=True)
class _Left:
    """A target a universal lock could not cover, or covers without some extras/groups."""

    target: Target
    why: str
    #: ``extra:NAME`` / ``group:NAME`` left out on the target; empty: the whole target.
    origin: str = ""


def _lock_universal(request: LockRequest, http: Http) -> tuple[Pylock, Finder]:
    """One resolution per target, newest Python first, each preferring the versions the
    earlier ones chose (and the existing lock's); merged by :func:`universal.merge`.

    Newest first, as uv forks on Python versions: each Python gets the newest release
    that supports it (numpy 2.5 on 3.12+, 2.2 on 3.10), while platforms share versions.
    Most targets then settle (:func:`resolve.settle`, one walk). When the resolutions
    met patch releases that must be told apart (``Requires-Python: >=3.11.4``,
    ``python_full_version < '3.11.3'``), the grid is cut there and the new slots are
    resolved too, until nothing new is found. A target needing a package with no file
    for it fails fast and is left out of a default grid (an error when ``environments``
    ask for it by machine); an extra or group that cannot be installed there is left out
    for that target only, which keeps its base dependencies. The targets share one
    :class:`~tumbler.index.finder.Catalog`; only the first speculates. File sizes are asked for
    as each target is resolved and waited for once, at the end.
    """
    run = _Universal(request, http)
    universe = list(request.universe)
    pending = universe
    for _ in range(_ROUNDS):
        for target in sorted(pending, key=slot_of, reverse=True):
            run.solve(target)
        universe, pending = _regrid(request, universe, _cut_points(run))
        if not pending:
            break
    solved, left, catalog = run.solved, run.left, run.catalog
    covered = [t for t in universe if t.name in solved]
    _refuse_asked(request, covered, [x for x in left if not x.origin])
    if not covered:
        raise UnsupportedTargetError(
            "no target of the universal lock can be locked:\n"
            + "\n".join(f"  {spoken([x.target])}: {x.why}" for x in left if not x.origin)
        )
    catalog.notes.extend(_universal_notes(request, universe, covered, left))
    catalog.notes.extend(_yanked_notes(solved[t.name] for t in covered))
    catalog.coverage_notes.extend(_coverage_notes(request, covered))
    files = {f.url: f for done in solved.values() for f in done.files()}
    sizes = catalog.fetcher.sizes.of(files.values())
    catalog.covered, catalog.targets = len(covered), len(universe)
    tool = tool_table(lock_inputs(request), _unavailable(left, covered))
    merged = merge(
        [(t, _build(solved[t.name], sizes, tool)) for t in covered],
        covered,
        environments=environments_of(covered, universe),
        tool=tool,
        requires_python=header_requires_python(request.project.requires_python),
    )
    return merged, solved[covered[-1].name].finder


class _Universal:
    """The state of one universal lock's resolutions: what the targets share."""

    def __init__(self, request: LockRequest, http: Http) -> None:
        self.request = request
        self.http = http
        self.catalog = Catalog(http)
        self.catalog.register(request.universe)  # every tag list known first: see fits
        #: Versions chosen so far (and the old lock's): each target prefers them.
        self.chosen = _kept_preferences(request)
        self.directs: dict[NormalizedName, DirectSource] = {}
        self.solved: dict[str, _Solved] = {}
        self.left: list[_Left] = []
        #: Each locked candidate's turning points (:func:`_candidate_points`).
        self.points: dict[Candidate, frozenset[Version]] = {}
        #: Settled resolutions of every origin, by the target's platform and by its Python,
        #: each the latest: a later target may retrace one (:func:`resolve.replay`).
        self.settled: dict[tuple[str, str], tuple[Resolution, Finder]] = {}

    def solve(self, target: Target) -> None:
        """Resolve ``target``; when it cannot be locked, say why in :attr:`left`. Extras
        and groups that cannot be installed there are left out of it (and said)."""
        done: _Solved | None
        try:
            done = self._attempt(target)
        except UnsupportedTargetError as error:
            done = self._without_optional(target, str(error))
        if done is None:
            return
        self.catalog.fetcher.sizes.probe(done.files())
        for name, candidate in done.resolution.pins.items():
            self.chosen.setdefault(name, candidate.version)
        self.solved[target.name] = done

    def _without_optional(self, target: Target, why: str) -> _Solved | None:
        optional = [o for o in _roots(self.request.project, target.environment) if o]
        try:
            self._attempt(target, frozenset({""}))
        except UnsupportedTargetError as base:
            self.left.append(_Left(target, str(base)))
            return None
        dropped: dict[str, str] = {}
        for origin in optional:
            try:
                self._attempt(target, frozenset({"", origin}))
            except UnsupportedTargetError as error:
                dropped[origin] = str(error)
        if not dropped:
            self.left.append(_Left(target, why))
            return None
        self.left.extend(_Left(target, reason, origin) for origin, reason in dropped.items())
        return self._attempt(target, frozenset({"", *optional}) - frozenset(dropped))

    def _attempt(self, target: Target, only: frozenset[str] | None = None) -> _Solved:
        one = dataclasses.replace(
            self.request,
            target=target,
            universe=(),
            preferences=dict(self.chosen),
            upgrade=False,
            upgrade_packages=frozenset(),
        )
        first = not self.solved
        done = _solve(
            one,
            self.http,
            self.catalog,
            self.directs,
            speculate=first and not self.http.offline,
            fail_fast=True,
            settling=True,
            also_for=_neighbours(target, self.request.universe) if first else (),
            only=only,
            retrace=self._retrace(target) if only is None else (),
        )
        if only is None and done.resolution.roots:
            for key in _kin(target):
                self.settled[key] = (done.resolution, done.finder)
        return done

    def _retrace(self, target: Target) -> list[tuple[Resolution, Finder]]:
        """The settled resolutions ``target`` tries to retrace, with the finders that
        found them: its platform's latest (the same markers on ``sys_platform``, the same
        wheels), then its Python's."""
        out: list[tuple[Resolution, Finder]] = []
        for key in _kin(target):
            known = self.settled.get(key)
            if known is not None and all(known[0] is not o[0] for o in out):
                out.append(known)
        return out


def _kin(target: Target) -> tuple[tuple[str, str], tuple[str, str]]:
    """Keys of the targets most likely to resolve like ``target``: its platform, its Python."""
    env = target.environment
    return (
        ("platform", f"{env['sys_platform']}-{env['platform_machine']}"),
        ("python", env["python_full_version"]),
    )


def _today() -> date:
    from datetime import UTC, datetime

    return datetime.now(UTC).date()


def _regrid(
    request: LockRequest, universe: list[Target], splits: set[Version]
) -> tuple[list[Target], list[Target]]:
    """The grid cut at ``splits``, and its targets not resolved yet."""
    today = request.today or _today()
    cut = grid(
        request.project.requires_python,
        request.environments,
        today=today,
        splits=(*splits, *(slot_of(t) for t in universe)),
    )
    known = {t.name for t in universe}
    return list(cut), [t for t in cut if t.name not in known]


def _refuse_asked(request: LockRequest, covered: Sequence[Target], failed: Sequence[_Left]) -> None:
    """Raise when ``environments`` were asked for and a target they ask for could not be
    locked. A marker that does not name the machine (``sys_platform == 'win32'``) asks for
    the operating system: one architecture of it locking for a Python is enough."""
    if not request.environments:
        return
    done = {(t.environment["sys_platform"], slot_of(t)) for t in covered}
    for failure in failed:
        env = failure.target.environment
        by_machine = any(
            "platform_machine" in str(m) and m.evaluate(env) for m in request.environments
        )
        if not by_machine and (env["sys_platform"], slot_of(failure.target)) in done:
            continue
        raise UnsupportedTargetError(
            f"cannot lock for {failure.target.name}, which the environments select: "
            f"{failure.why}\n  hint: leave it out with an environments marker "
            f"(--environment or [tool.tumbler] environments)"
        )


def _universal_notes(
    request: LockRequest,
    universe: Sequence[Target],
    covered: Sequence[Target],
    left: Sequence[_Left],
) -> list[str]:
    """What a universal lock tells its user every time: targets and extras left out,
    requirements no target needs."""
    notes = []
    whole: dict[str, list[Target]] = {}
    partial: dict[tuple[str, str], list[Target]] = {}
    for x in left:
        if x.origin:
            partial.setdefault((x.origin, x.why), []).append(x.target)
        else:
            whole.setdefault(x.why, []).append(x.target)
    notes += [
        f"left out {spoken(t, universe)}: {why}; the lock's environments say what it covers"
        for why, t in whole.items()
    ]
    for (origin, why), targets in partial.items():
        kind, _, name = origin.partition(":")
        notes.append(
            f"{kind} {name!r} is not available on {spoken(targets, universe)}: {why}; those "
            "environments get the rest of the lock"
        )
    for origin, requirements in _roots_anywhere(request.project).items():
        for requirement in requirements:
            marker = requirement.marker
            if marker is not None and not any(
                marker.evaluate({**t.environment, "extra": ""}) for t in covered
            ):
                notes.append(
                    f"{origin} {str(requirement)!r} applies to none of the lock's "
                    "environments: nothing is locked for it"
                )
    return notes


def _coverage_notes(request: LockRequest, covered: Sequence[Target]) -> list[str]:
    """What to say when a universal lock's coverage changes: Pythons older than tumbler
    locks, end-of-life Pythons locked."""
    notes = []
    requires_python = request.project.requires_python
    if admits_older(requires_python):
        declared = f"requires-python {requires_python}" if requires_python else "no requires-python"
        notes.append(f"{declared}: the lock covers CPython {FLOOR} and newer (tumbler's oldest)")
    old = end_of_life(covered, request.today or _today())
    if old:
        notes.append(
            f"Python {', '.join(old)} {'is' if len(old) == 1 else 'are'} past end of life, "
            "locked as requires-python allows (leave out with an environments marker)"
        )
    return notes


def _unavailable(left: Sequence[_Left], covered: Sequence[Target]) -> list[Unavailable]:
    """Per extra/group a target left out, where it cannot be installed, and why."""
    by_origin: dict[str, list[_Left]] = {}
    for x in left:
        if x.origin:
            by_origin.setdefault(x.origin, []).append(x)
    rows = []
    for origin, misses in sorted(by_origin.items()):
        kind, _, name = origin.partition(":")
        where = describe([x.target for x in misses], covered)
        rows.append(Unavailable(kind, name, "" if where is None else str(where), misses[0].why))
    return rows


def _lock_one(request: LockRequest, http: Http) -> tuple[Pylock, Finder]:
    """One target. Where what it locked tells patch releases of its Python apart
    (``python_full_version < '3.11.3'``), the lock's ``environments`` cover only the
    releases it was resolved for, and a note says so."""
    catalog = Catalog(http)
    done = _solve(request, http, catalog, {}, settling=True)
    catalog.notes.extend(_yanked_notes([done]))
    sizes = done.finder.metadata_fetcher.sizes.of(done.files())
    pylock = _build(done, sizes)
    lower, upper = _patch_bounds(request.target, _turning_points(done))
    if lower is None and upper is None:
        return pylock, done.finder
    marker = target_marker(request.target, lower, upper)
    python = request.target.environment["python_version"]
    shown = " and ".join(
        [*([f"from {lower}"] if lower else []), *([f"before {upper}"] if upper else [])]
    )
    catalog.notes.append(
        f"the lock covers Python {python} {shown} only: what it locks tells patch releases "
        "apart there (lock for every Python, the default, to cover them all)"
    )
    return dataclasses.replace(pylock, environments=[marker]), done.finder


def _turning_points(
    done: _Solved, known: dict[Candidate, frozenset[Version]] | None = None
) -> set[Version]:
    """The patch releases at which what ``done`` locked may stop holding: where the
    project's requirements, a locked package's dependencies or Requires-Python, or one of
    its files' turn on ``python_full_version``. Read from the outcome alone (not from what
    resolving happened to look at), so a re-lock and the gate find the same. ``known``:
    each candidate's, from earlier targets."""
    known = {} if known is None else known
    splits: set[Version] = set()
    for group in _roots_anywhere(done.request.project).values():
        for requirement in group:
            if requirement.marker is not None:
                splits |= marker_python_splits(str(requirement.marker))
    for candidate in done.resolution.candidates.values():
        points = known.get(candidate)
        if points is None:
            points = known[candidate] = _candidate_points(candidate, done.finder)
        splits |= points
    return splits


def _candidate_points(candidate: Candidate, finder: Finder) -> frozenset[Version]:
    """Where one locked candidate's Requires-Python (its metadata's, its files') and the
    markers of the dependencies it may have turn on ``python_full_version``."""
    splits: set[Version] = set()
    if candidate.direct is not None:
        metadata = candidate.direct.metadata
    elif candidate.release is not None:
        metadata = finder.metadata(candidate.release)
        for file in candidate.release.files:
            if file.requires_python is not None:
                splits |= python_splits(file.requires_python)
    else:
        return frozenset()
    if metadata.requires_python is not None:
        splits |= python_splits(metadata.requires_python)
    for requirement in metadata.requires_dist:
        text = "" if requirement.marker is None else str(requirement.marker)
        if text and (candidate.extras or "extra" not in text):  # may apply to it
            splits |= marker_python_splits(text)
    return frozenset(splits)


def _cut_points(run: _Universal) -> set[Version]:
    """Where a universal lock's grid is cut: every solved target's turning points, and
    where a newer release of a locked project starts or stops fitting (its files'
    Requires-Python: each Python gets the newest release that supports it)."""
    splits: set[Version] = set()
    pinned: set[NormalizedName] = set()
    for done in run.solved.values():
        splits |= _turning_points(done, run.points)
        pinned.update(done.resolution.pins)
    for name in pinned:
        splits |= run.catalog.splits.get(name, set())
    return splits


def _patch_bounds(
    target: Target, splits: Iterable[Version]
) -> tuple[Version | None, Version | None]:
    """The patch releases of the target's Python minor version around its own that
    ``splits`` tell apart from it: (first release like it, first release not) or None."""
    full = Version(target.environment["python_full_version"])
    same = [v for v in splits if (v.major, v.minor) == (full.major, full.minor)]
    lower = max((v for v in same if v <= full), default=None)
    upper = min((v for v in same if v > full), default=None)
    return lower, upper


def _neighbours(target: Target, universe: Sequence[Target]) -> list[Mapping[str, str]]:
    """The environments of the targets sharing ``target``'s platform or its Python: the
    first target's speculation follows their dependencies too (``python_version < '3.11'``,
    ``sys_platform == 'win32'``), so later targets find them fetched."""
    env = target.environment
    return [
        t.environment
        for t in universe
        if t is not target
        and (
            t.environment["python_version"] == env["python_version"]
            or (
                t.environment["sys_platform"] == env["sys_platform"]
                and t.environment["platform_machine"] == env["platform_machine"]
            )
        )
    ]


@dataclass(frozen=True, slots=True)
class _Solved:
    """One target's resolution, with what building its lock needs."""

    request: LockRequest
    finder: Finder
    roots: Mapping[str, list[Req]]
    resolution: Resolution

    def files(self) -> list[IndexFile]:
        """The files the lock records: every usable wheel of each pin, and its sdist."""
        return [
            f
            for c in self.resolution.pins.values()
            if c.release is not None
            for f in c.release.files
            if f.is_wheel or f is c.release.sdist
        ]


def _solve(
    request: LockRequest,
    http: Http,
    catalog: Catalog,
    directs: dict[NormalizedName, DirectSource],
    *,
    speculate: bool | None = None,
    fail_fast: bool = False,
    settling: bool = False,
    also_for: Sequence[Mapping[str, str]] = (),
    only: frozenset[str] | None = None,
    retrace: Sequence[tuple[Resolution, Finder]] = (),
) -> _Solved:
    """Resolve ``request`` for its one target (``directs``: sources resolved already);
    ``settling``: first try :func:`resolve.settle` (what resolving gives when it need
    not backtrack), and before it ``retrace``: other targets' settled resolutions, one of
    which may be what settling would give here (:func:`resolve.replay`); ``only``: the
    origins to resolve (``""``, ``extra:NAME``, ``group:NAME``), all by default."""
    project = request.project
    finder = Finder(
        http,
        request.indexes,
        request.target,
        exclude_newer=request.exclude_newer,
        preferences=_kept_preferences(request),
        catalog=catalog,
        speculate=speculate,
        also_for=also_for,
        binaries=request.binaries,
        exempt=request.cooldown.exempts if request.cooldown.exempt else None,
    )
    roots = _roots(project, request.target.environment)
    if only is not None:
        roots = {origin: reqs for origin, reqs in roots.items() if origin in only}
    every_root = [r for group in roots.values() for r in group]
    directs.update(_directs(request, http, [r for r in every_root if r.name not in directs]))
    direct_names = {r.name for r in every_root if r.url is not None}
    constraints: dict[NormalizedName, SpecifierSet] = {}
    for constraint in project.constraints:
        name = canonicalize_name(constraint.name)
        constraints[name] = constraints.get(name, SpecifierSet()) & constraint.specifier
    for name, bound in request.bounds.items():
        constraints[name] = constraints.get(name, SpecifierSet()) & bound
    chosen = {name: directs[name] for name in direct_names}
    if settling:
        for done, source in retrace:
            replayed = replay(finder, every_root, done, source)
            if replayed is not None:
                return _Solved(request, finder, roots, replayed)
        settled = settle(
            finder,
            every_root,
            prereleases=request.prereleases,
            constraints=constraints,
            directs=chosen,
            fail_fast=fail_fast,
        )
        if settled is not None:
            return _Solved(request, finder, roots, settled)
    resolution = resolve(
        finder,
        every_root,
        prereleases=request.prereleases,
        constraints=constraints,
        directs=chosen,
        fail_fast=fail_fast,
    )
    return _Solved(request, finder, roots, resolution)


def _itself(request: LockRequest, roots: Sequence[Req], resolution: Resolution) -> Package:
    """The project as a package of its own lock: an editable directory entry (PEP 751
    ``directory``, no version: the tree is what it is), depending on what the project's
    own dependencies resolved to; marked ``[packages.tool.tumbler] project = true`` so
    ``install --no-install-project`` can leave it out.

    It comes with the ``dev`` group (``'dev' in dependency_groups``): a developer's
    install (``tumbler install``, ``uv pip install --group dev``) takes it, while an
    install of the default selection — production, and ``pip install -r``, which cannot
    install a directory under its required hashes — does not."""
    import os

    project = request.project
    assert project.name is not None
    where = os.path.relpath(project.path.parent.resolve(), request.lock_dir.resolve())
    names = sorted({r.name for r in roots if r.name in resolution.pins} - {project.name})
    return Package(
        name=project.name,
        marker=Marker(f"'{DEV_GROUP}' in dependency_groups"),
        requires_python=project.requires_python,
        dependencies=[{"name": n} for n in names] or None,
        directory=PackageDirectory(path=where.replace(os.sep, "/"), editable=True),
        tool={"tumbler": {"project": True}},
    )


def _yanked_notes(solved: Iterable[_Solved]) -> list[str]:
    """One note per yanked release a lock takes (only ever for the project's own exact
    pin, PEP 592), with the reason the index gives."""
    seen: dict[tuple[str, str], str] = {}
    for done in solved:
        for candidate in done.resolution.pins.values():
            release = candidate.release
            if release is None or not release.yanked:
                continue
            reasons = sorted({f.yanked for f in release.files if f.yanked})
            why = f" ({'; '.join(reasons)})" if reasons else ""
            seen[(candidate.name, str(candidate.version))] = why
    return [
        f"{name} {version} is yanked{why}: taken because the project pins it exactly "
        "(PEP 592); move off it when you can"
        for (name, version), why in sorted(seen.items())
    ]


def _build(
    solved: _Solved, sizes: Mapping[str, int], tool: Mapping[str, Any] | None = None
) -> Pylock:
    """The lock of one target's resolution (``tool``: its tool table, when known)."""
    request, finder, roots, resolution = (
        solved.request,
        solved.finder,
        solved.roots,
        solved.resolution,
    )
    project = request.project
    needed_by: dict[NormalizedName, set[str]] = {}
    for origin, group in roots.items():
        for name in roots_reaching(resolution, group):
            needed_by.setdefault(name, set()).add(origin)
    keys_of: dict[NormalizedName, list[str]] = {}  # project → its nodes (name, name[extra])
    for key in resolution.chosen:
        keys_of.setdefault(project_of(key), []).append(key)
    packages = []
    for name, candidate in sorted(resolution.pins.items()):
        keys = keys_of.get(name, [])
        dependency_names = sorted(
            {project_of(d) for k in keys for d in resolution.edges.get(k, ())} - {name}
        )
        dependencies = [{"name": d} for d in dependency_names]
        marker = _marker(needed_by.get(name, {""}), project.default_groups)
        packages.append(_package(candidate, marker, dependencies, sizes, finder))
    if project.buildable and project.name is not None and DEV_GROUP in project.groups:
        packages.append(_itself(request, roots.get("", []), resolution))
        packages.sort(key=lambda p: p.name)
    return Pylock(
        lock_version=LOCK_VERSION,
        environments=[target_marker(request.target)],
        requires_python=project.requires_python,
        extras=[canonicalize_name(e) for e in sorted(project.extras)],
        dependency_groups=sorted(project.groups),
        default_groups=[DEFAULT_GROUP] if project.default_groups else [],
        created_by="tumbler",
        packages=packages,
        tool=dict(tool) if tool is not None else tool_table(lock_inputs(request)),
    )
