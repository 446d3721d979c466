"""``tumbler lock`` and ``lock --check`` end to end: read, resolve, render, write or compare.

This is the edge where the pure stages meet files and the network: it reads the project
and any existing lock, sets up the cache and HTTP, runs :func:`tumbler.locker.lock`, and
either writes the lock atomically (only when its text changed) or compares it.
"""

from __future__ import annotations

import contextlib
import platform as host_platform
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName, canonicalize_name

from tumbler.errors import NetworkError, TumblerError, UsageError

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from packaging.markers import Marker
    from packaging.pylock import Pylock
    from packaging.version import Version

    from tumbler.cache import Cache
    from tumbler.check import CheckResult
    from tumbler.finder import Finder
    from tumbler.locker import LockRequest
    from tumbler.net import Http
    from tumbler.progress import Progress
    from tumbler.project import Project
    from tumbler.source import LockSource
    from tumbler.targets import Target

__all__ = ["LockOptions", "LockOutcome", "run_check", "run_lock"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LockOptions:
    """The command line of ``tumbler lock``."""

    project: Path
    output: Path | None = None
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    exclude_newer: datetime | None = None
    prereleases: str | None = None
    python_version: str | None = None
    platform: str | None = None
    cache_dir: Path | None = None
    offline: bool = False
    upgrade: bool = False
    upgrade_packages: tuple[str, ...] = ()
    #: Lock for the default set of platforms and Pythons (``--universal``) ...
    universal: bool = False
    #: ... or for these marker expressions (``--environment``).
    environments: tuple[str, ...] = ()
    #: Where to show progress (a terminal), or None for none.
    progress: Progress | None = None
    #: Record API surfaces (``--surface``; else ``[tool.tumbler] surface``).
    surface: bool = False
    #: Record publisher identities (``--attestations``; else ``[tool.tumbler]``).
    attestations: bool = False


@dataclass(frozen=True, slots=True)
class LockOutcome:
    """What ``tumbler lock`` did."""

    path: Path
    written: bool
    packages: int
    target: str
    seconds: float
    notes: tuple[str, ...] = field(default=())


def _host_platform() -> str:
    from tumbler.locker import target_name
    from tumbler.targets import parse_target

    return target_name(parse_target("host")).rsplit("-", 1)[0]


def _target(options: LockOptions, project: Project) -> Target:
    from tumbler.targets import parse_target

    python = options.python_version or project.settings.python_version
    platform = options.platform or project.settings.platform
    if python is None and platform is None:
        return parse_target("host")
    platform = platform or _host_platform()
    python = python or ".".join(host_platform.python_version_tuple()[:2])
    return parse_target(f"{platform}-{python}")


def _output(options: LockOptions, project: Project) -> Path:
    if options.output is not None:
        return options.output
    return project.path.parent / "pylock.toml"


def _read(path: Path) -> LockSource | None:
    """The lock file's bytes, or None when there is none yet."""
    from tumbler.source import read_source

    return read_source(str(path)) if path.exists() else None


def _parsed(source: LockSource | None) -> Pylock | None:
    from tumbler.load import load_valid

    if source is None:
        return None
    loaded = load_valid(source)
    return None if loaded.lock is None else loaded.lock.pylock


def _existing(path: Path) -> Pylock | None:
    return _parsed(_read(path))


def _preferences(pylock: Pylock | None) -> dict[NormalizedName, Version]:
    if pylock is None:
        return {}
    found: dict[NormalizedName, list[Version]] = {}
    for package in pylock.packages:
        if package.version is not None:
            found.setdefault(package.name, []).append(package.version)
    return {name: versions[0] for name, versions in found.items() if len(versions) == 1}


@dataclass(frozen=True, slots=True)
class _Prepared:
    output: Path
    request: LockRequest
    cache: Cache


def _prepare(options: LockOptions) -> _Prepared:
    from tumbler.cache import Cache, default_cache_dir
    from tumbler.config import index_config
    from tumbler.locker import LockRequest
    from tumbler.project import PRERELEASE_POLICIES, read_project

    project = read_project(options.project)
    output = _output(options, project)
    prereleases = options.prereleases or project.settings.prereleases
    if prereleases not in PRERELEASE_POLICIES:
        raise UsageError(f"--prereleases must be one of {', '.join(PRERELEASE_POLICIES)}")
    indexes = index_config(
        project.settings,
        index_url=options.index_url,
        extra_index_urls=options.extra_index_urls,
    )
    cache_dir = options.cache_dir or default_cache_dir()
    exclude_newer = options.exclude_newer or project.settings.exclude_newer
    universe, environments = _universe(options, project, exclude_newer)
    request = LockRequest(
        project=project,
        target=_target(options, project),
        indexes=indexes,
        lock_dir=output.parent.resolve(),
        cache_dir=cache_dir,
        exclude_newer=exclude_newer,
        prereleases=prereleases,
        upgrade=options.upgrade,
        upgrade_packages=frozenset(canonicalize_name(n) for n in options.upgrade_packages),
        universe=universe,
        environments=environments,
        surface=options.surface or project.settings.surface,
        attestations=options.attestations or project.settings.attestations,
    )
    return _Prepared(output, request, Cache(cache_dir))


def _universe(
    options: LockOptions, project: Project, exclude_newer: datetime | None
) -> tuple[tuple[Target, ...], tuple[Marker, ...]]:
    """A universal lock's targets and the ``environments`` markers asked for (none for
    ``--universal`` alone: the lock states the targets it could cover); both empty for a
    single-target lock.

    Python versions count as supported on the ``--exclude-newer`` date when there is one
    (so the same inputs give the same lock), else today."""
    one_target = bool(options.python_version or options.platform)
    if one_target and (options.universal or options.environments):
        raise UsageError(
            "--python-version and --platform lock one target: not with --universal or --environment"
        )
    texts = options.environments or (() if one_target else project.settings.environments)
    if not (options.universal or texts):
        return (), ()
    from datetime import UTC
    from datetime import datetime as clock

    from packaging.markers import InvalidMarker
    from packaging.markers import Marker as Parsed

    from tumbler.universal import grid

    markers = []
    for text in texts:
        try:
            markers.append(Parsed(text))
        except InvalidMarker as error:
            raise UsageError(f"environment {text!r} is not a marker expression: {error}") from None
    today = (exclude_newer or clock.now(UTC)).date()
    universe = grid(project.requires_python, markers, today=today)
    return universe, tuple(markers)


def _http(options: LockOptions, prepared: _Prepared) -> Http:
    from tumbler.net import Http

    return Http(
        cache=prepared.cache,
        offline=options.offline,
        known_urls=prepared.request.indexes.urls,
    )


def _progress(
    options: LockOptions, label: str, http: Http
) -> contextlib.AbstractContextManager[None]:
    if options.progress is None:
        return contextlib.nullcontext()
    return options.progress.show(label, http.status)


def _notes(finder: Finder) -> tuple[str, ...]:
    untimed = sorted(finder.untimed_indexes)
    return tuple(
        f"{index} gives no upload times: --exclude-newer could not be applied to its files"
        for index in untimed
    ) + tuple(finder.catalog.notes)


def _covered(request: LockRequest, finder: Finder) -> str:
    """``linux-x86_64-3.12``, ``36 environments`` or ``30 of 36 environments``."""
    from tumbler.locker import target_name

    if not request.universe:
        return target_name(request.target)
    every, covered = len(request.universe), finder.catalog.covered
    if covered is None or covered == every:
        return f"{every} environments"
    return f"{covered} of {every} environments"


def _surfaces(
    pylock: Pylock, request: LockRequest, http: Http, cache: Cache
) -> tuple[Pylock, str | None]:
    """``pylock`` with its packages' API surfaces recorded, and a note on what it cost."""
    from tumbler.surfacefetch import record_surfaces

    targets = [t.tags for t in request.universe] or [request.target.tags]
    recorded, stats = record_surfaces(pylock, targets, http, cache, request.lock_dir)
    return recorded, stats.note()


def _identities(
    pylock: Pylock, finder: Finder, http: Http, cache: Cache
) -> tuple[Pylock, tuple[str, ...]]:
    """``pylock`` with its packages' publisher identities, and notes (an index that
    serves no provenance is named once)."""
    from tumbler.attestfetch import record_identities

    recorded, stats = record_identities(pylock, finder.release_files, http, cache)
    return recorded, stats.notes()


def run_lock(options: LockOptions) -> LockOutcome:
    """Lock the project and write the lock if it changed."""
    import dataclasses

    from tumbler.atomic import write_atomic
    from tumbler.locker import lock
    from tumbler.render import render

    started = time.perf_counter()
    prepared = _prepare(options)
    output = prepared.output
    try:
        old = _read(output)
    except TumblerError:
        old = None  # unreadable (a directory, ...): writing it will say why
    try:
        existing = _parsed(old)
    except TumblerError:
        existing = None  # an unreadable old lock only loses its pins as preferences
    request = dataclasses.replace(prepared.request, preferences=_preferences(existing))
    http = _http(options, prepared)
    surface_note: str | None = None
    attestation_notes: tuple[str, ...] = ()
    try:
        with _progress(options, "locking", http):
            pylock, finder = lock(request, http)
        if request.attestations:
            with _progress(options, "reading provenance", http):
                pylock, attestation_notes = _identities(pylock, finder, http, prepared.cache)
        if request.surface:
            with _progress(options, "reading API surfaces", http):
                pylock, surface_note = _surfaces(pylock, request, http, prepared.cache)
    finally:
        http.close()
    text = render(pylock)
    written = old is None or text.encode() != old.data
    if written:
        write_atomic(output, text)
    return LockOutcome(
        path=output,
        written=written,
        packages=len(pylock.packages),
        target=_covered(request, finder),
        seconds=time.perf_counter() - started,
        notes=_notes(finder) + attestation_notes + ((surface_note,) if surface_note else ()),
    )


def run_check(options: LockOptions) -> CheckResult:
    """Compare the committed lock with what locking would produce now; write nothing."""
    import dataclasses

    from tumbler.check import CheckResult, content_drift
    from tumbler.inputs import LockInputs, input_drift
    from tumbler.locker import lock, lock_inputs
    from tumbler.model import TOOL_NAME

    prepared = _prepare(options)
    output, request = prepared.output, prepared.request
    shown = str(output)
    committed = _existing(output)
    if committed is None:
        return CheckResult(shown, ("no lock file: run 'tumbler lock' to create it",), ())
    current = lock_inputs(request)
    table = (committed.tool or {}).get(TOOL_NAME)
    recorded = LockInputs.from_table(table) if isinstance(table, dict) else None
    if recorded is None:
        inputs: tuple[str, ...] = ("the lock records no tumbler inputs (not made by tumbler lock)",)
    else:
        inputs = tuple(input_drift(recorded, current))
    request = dataclasses.replace(request, preferences=_preferences(committed))
    http = _http(options, prepared)
    try:
        with _progress(options, "checking", http):
            fresh, finder = lock(request, http)
            if request.attestations:
                fresh, _ = _identities(fresh, finder, http, prepared.cache)
            if request.surface:
                fresh, _ = _surfaces(fresh, request, http, prepared.cache)
    except NetworkError as error:
        if not inputs:
            raise
        return CheckResult(shown, inputs, (), skipped=str(error))
    except TumblerError as error:
        if not inputs:
            raise
        return CheckResult(shown, inputs, (), skipped=str(error).splitlines()[0])
    finally:
        http.close()
    return CheckResult(shown, inputs, content_drift(committed, fresh))
