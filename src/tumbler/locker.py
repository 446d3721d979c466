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

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packaging.markers import Marker
from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from tumbler.errors import UnsupportedTargetError
from tumbler.finder import Catalog, Finder
from tumbler.inputs import LockInputs
from tumbler.model import TOOL_NAME
from tumbler.net import redact
from tumbler.resolve import Req, resolve, roots_reaching, settle
from tumbler.targets import PLATFORMS

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime
    from pathlib import Path

    from tumbler.config import IndexConfig
    from tumbler.direct import DirectSource
    from tumbler.index import IndexFile
    from tumbler.net import Http
    from tumbler.project import Project
    from tumbler.resolve import Candidate, Resolution
    from tumbler.targets import Target

__all__ = ["LockRequest", "lock", "lock_inputs", "target_marker", "target_name"]

LOCK_VERSION = Version("1.0")


@dataclass(frozen=True, slots=True, kw_only=True)
class LockRequest:
    """Everything :func:`lock` needs besides the network."""

    project: Project
    target: Target
    indexes: IndexConfig
    lock_dir: Path
    cache_dir: Path
    exclude_newer: datetime | None = None
    prereleases: str = "if-necessary"
    #: Versions an existing lock pins: kept unless they must change.
    preferences: Mapping[NormalizedName, Version] | None = None
    #: Release every preference (``--upgrade``) or these (``--upgrade-package``).
    upgrade: bool = False
    upgrade_packages: frozenset[NormalizedName] = frozenset()
    #: A universal lock's targets (see :mod:`tumbler.universal`); empty for one target.
    universe: tuple[Target, ...] = ()
    #: The ``environments`` markers a universal lock was asked for: every target they
    #: select must lock. None (``--universal`` alone): a target of the default grid that
    #: cannot lock is left out, with a note, and ``environments`` state what is covered.
    environments: tuple[Marker, ...] = ()
    #: Record each package's API surface (``--surface``, ``surface.md``).
    surface: bool = False
    #: Record each package's PEP 740 publisher identities (``--attestations``).
    attestations: bool = False


def target_name(target: Target) -> str:
    """``linux-x86_64-3.11`` style name of a target (``host`` resolved to what it is)."""
    env = target.environment
    for name, (sys_platform, _, _, machine) in PLATFORMS.items():
        if env.get("sys_platform") == sys_platform and env.get("platform_machine") == machine:
            return f"{name}-{env['python_version']}"
    return f"{env.get('sys_platform')}-{env.get('platform_machine')}-{env['python_version']}"


def target_marker(target: Target) -> Marker:
    """The ``environments`` marker of a single-target lock."""
    env = target.environment
    return Marker(
        f"implementation_name == '{env['implementation_name']}' "
        f"and python_version == '{env['python_version']}' "
        f"and sys_platform == '{env['sys_platform']}' "
        f"and platform_machine == '{env['platform_machine']}'"
    )


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
    wheels = [PackageWheel(**_file_fields(f, sizes)) for f in release.files if f.is_wheel]
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
    from tumbler.direct import resolve_direct

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


def _lock_universal(request: LockRequest, http: Http) -> tuple[Pylock, Finder]:
    """One resolution per target, newest Python first, each preferring the versions the
    earlier ones chose (and the existing lock's); merged by :func:`universal.merge`.

    Newest first, as uv forks on Python versions: each Python gets the newest release
    that supports it (numpy 2.5 on 3.12+, 2.2 on 3.10), while platforms share versions.
    Most targets then settle (:func:`resolve.settle`, one walk); a target needing a
    package with no file for it fails fast and is left out of a default grid (an error
    when ``environments`` were asked for). The targets share one
    :class:`~tumbler.finder.Catalog`; only the first speculates (later ones find almost
    everything there). File sizes are asked for as each target is resolved and waited
    for once, at the end.
    """
    import dataclasses

    from tumbler.universal import environments_of, merge, spoken

    chosen = _kept_preferences(request)
    solved: list[_Solved] = []
    catalog = Catalog(http)
    directs: dict[NormalizedName, DirectSource] = {}
    left_out: dict[str, list[Target]] = {}  # why → targets
    newest_first = sorted(
        request.universe, key=lambda t: Version(t.environment["python_version"]), reverse=True
    )
    for target in newest_first:
        one = dataclasses.replace(
            request,
            target=target,
            universe=(),
            preferences=dict(chosen),
            upgrade=False,
            upgrade_packages=frozenset(),
        )
        try:
            done = _solve(
                one,
                http,
                catalog,
                directs,
                speculate=not solved,
                fail_fast=True,
                settling=bool(one.preferences),
                also_for=() if solved else _neighbours(target, request.universe),
            )
        except UnsupportedTargetError as error:
            if request.environments:
                raise UnsupportedTargetError(
                    f"cannot lock for {target_name(target)}, which the environments "
                    f"select: {error}\n  hint: leave it out with an environments marker "
                    f"(--environment or [tool.tumbler] environments)"
                ) from None
            left_out.setdefault(str(error), []).append(target)
            continue
        catalog.fetcher.sizes.probe(done.files())
        for name, candidate in done.resolution.pins.items():
            chosen.setdefault(name, candidate.version)
        solved.append(done)
    if not solved:
        raise UnsupportedTargetError(
            "no target of the universal lock can be locked:\n"
            + "\n".join(f"  {spoken(t)}: {why}" for why, t in left_out.items())
        )
    for why, targets in left_out.items():
        catalog.notes.append(
            f"left out {spoken(targets)}: {why}; the lock's environments say what it covers"
        )
    sizes = catalog.fetcher.sizes.of({f.url: f for s in solved for f in s.files()}.values())
    covered = [t for t in request.universe if any(s.request.target is t for s in solved)]
    catalog.covered = len(covered)
    merged = merge(
        [(s.request.target, _build(s, sizes)) for s in solved],
        covered,
        environments=request.environments or environments_of(covered),
        tool={TOOL_NAME: lock_inputs(request).table()},
    )
    return merged, solved[-1].finder


def _lock_one(request: LockRequest, http: Http) -> tuple[Pylock, Finder]:
    done = _solve(request, http, Catalog(http), {})
    sizes = done.finder.metadata_fetcher.sizes.of(done.files())
    return _build(done, sizes), done.finder


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
) -> _Solved:
    """Resolve ``request`` for its one target (``directs``: sources resolved already);
    ``settling``: first try :func:`resolve.settle` (what resolving gives when it need
    not backtrack)."""
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
    )
    roots = _roots(project, request.target.environment)
    every_root = [r for group in roots.values() for r in group]
    directs.update(_directs(request, http, [r for r in every_root if r.name not in directs]))
    direct_names = {r.name for r in every_root if r.url is not None}
    constraints: dict[NormalizedName, SpecifierSet] = {}
    for constraint in project.constraints:
        name = canonicalize_name(constraint.name)
        constraints[name] = constraints.get(name, SpecifierSet()) & constraint.specifier
    chosen = {name: directs[name] for name in direct_names}
    if settling:
        settled = settle(
            finder,
            every_root,
            prereleases=request.prereleases,
            constraints=constraints,
            directs=chosen,
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


def _build(solved: _Solved, sizes: Mapping[str, int]) -> Pylock:
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
        keys_of.setdefault(canonicalize_name(key.split("[")[0]), []).append(key)
    packages = []
    for name, candidate in sorted(resolution.pins.items()):
        keys = keys_of.get(name, [])
        dependency_names = sorted(
            {canonicalize_name(d.split("[")[0]) for k in keys for d in resolution.edges.get(k, ())}
            - {name}
        )
        dependencies = [{"name": d} for d in dependency_names]
        marker = _marker(needed_by.get(name, {""}), project.default_groups)
        packages.append(_package(candidate, marker, dependencies, sizes, finder))
    return Pylock(
        lock_version=LOCK_VERSION,
        environments=[target_marker(request.target)],
        requires_python=project.requires_python,
        extras=[canonicalize_name(e) for e in sorted(project.extras)],
        dependency_groups=sorted(project.groups),
        default_groups=[DEFAULT_GROUP] if project.default_groups else [],
        created_by="tumbler",
        packages=packages,
        tool={TOOL_NAME: lock_inputs(request).table()},
    )


def lock_inputs(request: LockRequest) -> LockInputs:
    """What ``request`` locks from, as ``[tool.tumbler]`` records it (for the gate too)."""
    import os

    from tumbler.surface import SURFACE_VERSION
    from tumbler.universal import environments_of

    path = request.project.path
    try:
        relative = os.path.relpath(path.resolve(), request.lock_dir.resolve()).replace(os.sep, "/")
    except ValueError:
        relative = path.as_posix()
    return LockInputs.of(
        request.project,
        relative_path=relative,
        indexes=[redact(u) for u in request.indexes.urls],
        target=(
            "universal: "
            + " ; ".join(str(m) for m in request.environments or environments_of(request.universe))
            if request.universe
            else target_name(request.target)
        ),
        exclude_newer=request.exclude_newer,
        prereleases=request.prereleases,
        surface_version=SURFACE_VERSION if request.surface else None,
        attestations=request.attestations,
    )
