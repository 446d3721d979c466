"""``tumbler lock`` and ``lock --check`` end to end: read, resolve, render, write or compare.

This is the edge where the pure stages meet files and the network: it reads the project
and any existing lock, sets up the cache and HTTP, runs :func:`tumbler.resolver.locker.lock`, and
either writes the lock atomically (only when its text changed) or compares it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from tumbler.errors import InputError, NetworkError, TumblerError, UsageError
from tumbler.lockfile.tables import recorded_inputs

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from datetime import date, datetime, timedelta
    from pathlib import Path

    from packaging.markers import Marker
    from packaging.pylock import Pylock
    from packaging.specifiers import SpecifierSet

    from tumbler.env.targets import Target
    from tumbler.index.binaries import Binaries
    from tumbler.index.facts import Needs, ReleaseFacts
    from tumbler.index.finder import Finder
    from tumbler.lockfile.diff import PackageChange
    from tumbler.lockfile.source import LockSource
    from tumbler.lockfile.tables import LockInputs
    from tumbler.net.cache import Cache
    from tumbler.net.http import Http
    from tumbler.progress import Progress
    from tumbler.project.cooldown import Cooldown
    from tumbler.project.edit import Edit
    from tumbler.project.pyproject import Project
    from tumbler.resolver.check import CheckResult
    from tumbler.resolver.gate import GateVerdict
    from tumbler.resolver.request import LockRequest

__all__ = ["LockOptions", "LockOutcome", "read_lock", "run_check", "run_edit", "run_lock"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LockOptions:
    """The command line of ``tumbler lock``."""

    project: Path
    output: Path | None = None
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    #: ``--exclude-newer``: a moment, or a span before now (``7 days``).
    exclude_newer: datetime | timedelta | None = None
    prereleases: str | None = None
    python_version: str | None = None
    platform: str | None = None
    #: Lock for this one target (``host`` or ``linux-x86_64-3.12``).
    target: str | None = None
    cache_dir: Path | None = None
    offline: bool = False
    upgrade: bool = False
    upgrade_packages: tuple[str, ...] = ()
    #: Upper bounds per package an update keeps to (never recorded).
    bounds: Mapping[NormalizedName, SpecifierSet] = field(default_factory=dict)
    #: Lock for every platform and Python the project allows (``--universal``, the default
    #: for a new lock) ...
    universal: bool = False
    #: ... or for these marker expressions (``--environment``).
    environments: tuple[str, ...] = ()
    #: Where to show progress (a terminal), or None for none.
    progress: Progress | None = None
    #: Record API surfaces (``--surface``; else ``[tool.tumbler] surface``).
    surface: bool = False
    #: Record publisher identities (``--attestations``; else ``[tool.tumbler]``).
    attestations: bool = False
    #: ``--no-binary`` / ``--only-binary`` values (names, ``:all:``, comma-separated), and
    #: ``--no-build`` (``--only-binary :all:``); else ``[tool.tumbler]``.
    no_binary: tuple[str, ...] = ()
    only_binary: tuple[str, ...] = ()
    no_build: bool = False
    #: ``lock --check --full``: always compare with a fresh lock from the index (new and
    #: yanked files, every hash re-read), never the resolver-free gate alone.
    full: bool = False


@dataclass(frozen=True, slots=True)
class LockOutcome:
    """What ``tumbler lock`` did."""

    path: Path
    written: bool
    packages: int
    target: str
    seconds: float
    notes: tuple[str, ...] = field(default=())
    #: How the new lock's packages differ from the old lock's (empty: no old lock or no
    #: change); ``fresh``: there was no readable old lock.
    changes: tuple[PackageChange, ...] = field(default=())
    fresh: bool = False


def _output(options: LockOptions, project: Project) -> Path:
    """Where the lock goes: ``-o``, else ``pylock.toml`` beside the project. A name the
    standard does not allow (R1) is refused before anything is resolved."""
    if options.output is None:
        return project.path.parent / "pylock.toml"
    from tumbler.lockfile.atomic import lock_output

    return lock_output(options.output)


def _read(path: Path) -> LockSource | None:
    """The lock file's bytes, or None when there is none yet."""
    from tumbler.lockfile.source import read_source

    return read_source(str(path)) if path.exists() else None


def _parsed(source: LockSource | None) -> Pylock | None:
    from tumbler.lockfile.load import load_valid

    if source is None:
        return None
    loaded = load_valid(source)
    return None if loaded.lock is None else loaded.lock.pylock


def read_lock(options: LockOptions) -> Pylock | None:
    """The lock ``options`` locks into, as it is now (None: there is none yet); a lock
    that does not load is an input error."""
    from tumbler.project.pyproject import read_project

    return _parsed(_read(_output(options, read_project(options.project))))


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
    #: The lock file's bytes, when there is one.
    old: LockSource | None
    #: The lock it holds, when it is a valid one.
    existing: Pylock | None


def _prepare(options: LockOptions) -> _Prepared:
    from tumbler.net.cache import Cache, default_cache_dir
    from tumbler.project.indexes import index_config
    from tumbler.project.pyproject import PRERELEASE_POLICIES, read_project
    from tumbler.resolver.request import LockRequest

    project = read_project(options.project)
    output = _output(options, project)
    try:
        old = _read(output)
    except TumblerError:
        old = None  # unreadable (a directory, ...): writing it will say why
    try:
        existing = _parsed(old)
    except TumblerError:
        existing = None  # an unreadable old lock only loses its pins and its mode
    prereleases = options.prereleases or project.settings.prereleases
    if prereleases not in PRERELEASE_POLICIES:
        raise UsageError(f"--prereleases must be one of {', '.join(PRERELEASE_POLICIES)}")
    indexes = index_config(
        project.settings,
        index_url=options.index_url,
        extra_index_urls=options.extra_index_urls,
    )
    cache_dir = options.cache_dir or default_cache_dir()
    cooldown = _cooldown(options, project)
    recorded = recorded_inputs(existing)
    exclude_newer = cooldown.cutoff(_now(), _kept_cutoff(options, cooldown, recorded))
    mode = _mode(options, project, recorded)
    today = _today(exclude_newer)
    if mode.target is None:
        universe, environments = _universe(mode, project, today)
        target = universe[0]
    else:
        universe, environments, target = (), (), _single(mode.target, project)
    request = LockRequest(
        project=project,
        target=target,
        indexes=indexes,
        lock_dir=output.parent.resolve(),
        cache_dir=cache_dir,
        exclude_newer=exclude_newer,
        cooldown=cooldown,
        prereleases=prereleases,
        upgrade=options.upgrade,
        upgrade_packages=frozenset(canonicalize_name(n) for n in options.upgrade_packages),
        bounds=options.bounds,
        universe=universe,
        environments=environments,
        today=today,
        binaries=_binaries(options, project),
        surface=options.surface or project.settings.surface,
        attestations=options.attestations or project.settings.attestations,
    )
    return _Prepared(output, request, Cache(cache_dir), old, existing)


def _cooldown(options: LockOptions, project: Project) -> Cooldown:
    """The cut-off asked for: the command line's (a moment or a span), else the
    project's; the names it does not apply to are the project's."""
    from datetime import timedelta

    from tumbler.project.cooldown import Cooldown

    settings = project.settings
    exempt = settings.cooldown_exempt
    given = options.exclude_newer
    if isinstance(given, timedelta):
        return Cooldown(span=given, exempt=exempt)
    if given is not None:
        return Cooldown(at=given, exempt=exempt)
    return Cooldown(at=settings.exclude_newer, span=settings.exclude_newer_span, exempt=exempt)


def _kept_cutoff(
    options: LockOptions, cooldown: Cooldown, recorded: LockInputs | None
) -> datetime | None:
    """The moment a relative cut-off became when the lock was last made, when it stays:
    the same span, and no upgrade asked (an upgrade moves it to now)."""
    if recorded is None or cooldown.span is None or options.upgrade or options.upgrade_packages:
        return None
    return recorded.exclude_newer if recorded.min_release_age == cooldown.text() else None


def _now() -> datetime:
    from datetime import UTC
    from datetime import datetime as clock

    return clock.now(UTC)


def _binaries(options: LockOptions, project: Project) -> Binaries:
    """The binary policy: the command line's, else the project's."""
    from tumbler.index.binaries import Binaries
    from tumbler.project.pyproject import binary_names

    settings = project.settings
    given = options.no_binary or options.only_binary or options.no_build
    no_binary = binary_names(options.no_binary) if given else settings.no_binary
    only_binary = binary_names(options.only_binary) if given else settings.only_binary
    if options.no_build:
        only_binary = (":all:",)
    return Binaries(frozenset(no_binary), frozenset(only_binary))


def _today(exclude_newer: datetime | None) -> date:
    """The day Python releases count as made on: the ``--exclude-newer`` date when there is
    one (the same inputs give the same lock), else today."""
    from datetime import UTC
    from datetime import datetime as clock

    return (exclude_newer or clock.now(UTC)).date()


@dataclass(frozen=True, slots=True)
class _Mode:
    """What a lock is for: one target (``linux-x86_64-3.12``, ``host``), or every platform
    and Python (``target`` None), within these ``environments`` when any."""

    target: str | None
    environments: tuple[str, ...] = ()


def _mode(options: LockOptions, project: Project, recorded: LockInputs | None) -> _Mode:
    """The lock's mode: from the command line, else ``[tool.tumbler]``, else what the
    existing lock records (the mode is sticky), else universal."""
    settings = project.settings
    single = _single_spec(options.target, options.python_version, options.platform)
    if single is not None and (options.universal or options.environments):
        raise UsageError(
            "--target, --python-version and --platform lock one target: not with "
            "--universal or --environment"
        )
    if single is not None:
        return _Mode(single)
    if options.universal or options.environments:
        return _Mode(None, options.environments or settings.environments)
    from_settings = _single_spec(None, settings.python_version, settings.platform)
    if from_settings is not None and settings.environments:
        raise UsageError(
            f"{project.path}: [tool.tumbler] environments (a universal lock) and python-version "
            "/ platform (one target) ask for different locks: keep one"
        )
    if from_settings is not None:
        return _Mode(from_settings)
    if settings.environments:
        return _Mode(None, settings.environments)
    if recorded is not None and recorded.target and recorded.target != "universal":
        return _Mode(recorded.target)
    return _Mode(None, recorded.environments if recorded is not None else ())


def _single_spec(target: str | None, python: str | None, platform: str | None) -> str | None:
    """The one target these options name (``host`` or ``os-arch-python``), if any."""
    if target is not None:
        if python or platform:
            raise UsageError("--target names the whole target: not with --python-version")
        return target
    if python is None and platform is None:
        return None
    from tumbler.env.targets import parse_target, target_name

    host = target_name(parse_target("host"))
    host_platform, host_python = host.rsplit("-", 1)
    return f"{platform or host_platform}-{python or host_python}"


def _single(spec: str, project: Project) -> Target:
    """The target ``spec`` names, at the first patch release the project's
    ``requires-python`` admits; an error naming ``requires-python`` when it admits none."""
    from tumbler.env.targets import parse_target, python_splits

    target = parse_target(_named(spec))
    requires = project.requires_python
    full = Version(target.environment["python_full_version"])
    if requires is None or requires.contains(full, prereleases=True):
        return target
    if spec == "host":
        raise UsageError(
            f"the running Python {full} is outside the project's requires-python {requires}: "
            "lock for every Python it allows (the default) or name one with --python-version"
        )
    later = sorted(
        v
        for v in python_splits(requires)
        if (v.major, v.minor) == (full.major, full.minor) and v > full
    )
    admitted = [v for v in later if requires.contains(v, prereleases=True)]
    if not admitted:
        raise UsageError(
            f"Python {full.major}.{full.minor} ({target.name}) is outside the project's "
            f"requires-python {requires}"
        )
    return parse_target(f"{target.name.rsplit('-', 1)[0]}-{admitted[0]}")


def _named(spec: str) -> str:
    """``host`` as the target it is (``linux-x86_64-3.11.7``: this machine's platform and
    Python release), so that the lock made here is made again anywhere; ``host`` itself
    for a machine outside the six platforms."""
    import re

    from tumbler.env.targets import parse_target, platform_of

    if spec != "host":
        return spec
    environment = parse_target("host").environment
    platform, release = platform_of(environment), environment["python_full_version"]
    if platform is None or not re.fullmatch(r"3\.\d+\.\d+", release):
        return spec
    return f"{platform}-{release}"


def _universe(
    mode: _Mode, project: Project, today: date
) -> tuple[tuple[Target, ...], tuple[Marker, ...]]:
    """A universal lock's targets and the ``environments`` markers asked for."""
    from packaging.markers import InvalidMarker
    from packaging.markers import Marker as Parsed

    from tumbler.resolver.universal import grid

    markers = []
    for text in mode.environments:
        try:
            markers.append(Parsed(text))
        except InvalidMarker as error:
            raise UsageError(f"environment {text!r} is not a marker expression: {error}") from None
    return grid(project.requires_python, markers, today=today), tuple(markers)


def _http(options: LockOptions, prepared: _Prepared) -> Http:
    import os

    from tumbler.net.http import Http

    setting = prepared.request.project.settings.http_timeout
    return Http(
        cache=prepared.cache,
        offline=options.offline,
        known_urls=prepared.request.indexes.urls,
        timeout=None if os.environ.get("TUMBLER_HTTP_TIMEOUT") or setting is None else setting,
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
    from tumbler.env.targets import mode_name

    if not request.universe:
        return mode_name(request.target)
    every, covered = finder.catalog.targets or len(request.universe), finder.catalog.covered
    if covered is None or covered == every:
        return f"{every} environments"
    return f"{covered} of {every} environments"


def _surfaces(
    pylock: Pylock, request: LockRequest, http: Http, cache: Cache
) -> tuple[Pylock, str | None]:
    """``pylock`` with its packages' API surfaces recorded, and a note on what it cost."""
    from tumbler.surface.fetch import record_surfaces

    targets = [t.tags for t in request.universe] or [request.target.tags]
    recorded, stats = record_surfaces(pylock, targets, http, cache, request.lock_dir)
    return recorded, stats.note()


def _identities(
    pylock: Pylock, finder: Finder, http: Http, cache: Cache
) -> tuple[Pylock, tuple[str, ...]]:
    """``pylock`` with its packages' publisher identities, and notes (an index that
    serves no provenance is named once)."""
    from tumbler.attest.fetch import record_identities

    recorded, stats = record_identities(pylock, finder.release_files, http, cache)
    return recorded, stats.notes()


def _environments(pylock: Pylock) -> list[str]:
    return sorted(str(m) for m in pylock.environments or ())


def run_lock(options: LockOptions) -> LockOutcome:
    """Lock the project and write the lock if it changed."""
    import dataclasses

    from tumbler.lockfile.atomic import write_atomic
    from tumbler.lockfile.render import render
    from tumbler.resolver.locker import lock

    started = time.perf_counter()
    prepared = _prepare(options)
    output, old = prepared.output, prepared.old
    request = dataclasses.replace(prepared.request, preferences=_preferences(prepared.existing))
    http = _http(options, prepared)
    surface_note: str | None = None
    attestation_notes: tuple[str, ...] = ()
    try:
        with _progress(options, "locking", http):
            pylock, finder = lock(request, http)
            _keep_facts(pylock, finder, prepared.cache)
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
    coverage = prepared.existing is None or _environments(prepared.existing) != _environments(
        pylock
    )
    notes = _notes(finder) + (tuple(finder.catalog.coverage_notes) if coverage else ())
    return LockOutcome(
        path=output,
        written=written,
        packages=len(pylock.packages),
        target=_covered(request, finder),
        seconds=time.perf_counter() - started,
        notes=notes + attestation_notes + ((surface_note,) if surface_note else ()),
        changes=_changes(prepared.existing, pylock) if written else (),
        fresh=prepared.existing is None,
    )


def _changes(old: Pylock | None, new: Pylock) -> tuple[PackageChange, ...]:
    """What the new lock adds, removes, upgrades, downgrades or changes per package."""
    from tumbler.lockfile.diff import diff_locks

    if old is None:
        return ()
    return diff_locks(old, new).packages


def run_edit(options: LockOptions, edit: Callable[[str, str], Edit]) -> tuple[Edit, LockOutcome]:
    """Edit the project's ``pyproject.toml`` (``edit``: its text and name → the new text),
    then lock, keeping the other pins. When locking fails (or is interrupted) the project
    file is put back byte for byte; the lock is only ever written by a lock that worked."""
    from tumbler.lockfile.atomic import write_atomic
    from tumbler.project.pyproject import PROJECT_FILES

    path = options.project
    if path.is_dir():
        path = path / PROJECT_FILES[0]
    if path.name != PROJECT_FILES[0] or not path.is_file():
        raise InputError(
            f"{path}: no pyproject.toml to edit (a requirements file is edited by hand)"
        )
    try:
        original = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read ({error})") from None
    changed = edit(original, str(path))
    if changed.text != original:
        write_atomic(path, changed.text)
    try:
        outcome = run_lock(dataclasses.replace(options, project=path))
    except BaseException:
        if changed.text != original:
            write_atomic(path, original)
        raise
    return changed, outcome


def run_check(options: LockOptions) -> CheckResult:
    """Compare the committed lock with what locking would produce now; write nothing."""
    import dataclasses

    from tumbler.resolver.check import CheckResult, content_drift
    from tumbler.resolver.inputs import input_drift
    from tumbler.resolver.request import lock_inputs

    prepared = _prepare(options)
    output, request = prepared.output, prepared.request
    shown = str(output)
    # An invalid lock is refused here (the preparation only set it aside).
    committed = prepared.existing or _parsed(prepared.old)
    if committed is None:
        return CheckResult(shown, ("no lock file: run 'tumbler lock' to create it",), ())
    policy = _policy(committed, request)
    if policy:
        return _checked(prepared, committed, policy)
    current = lock_inputs(request)
    recorded = recorded_inputs(committed)
    if recorded is None:
        inputs: tuple[str, ...] = ("the lock records no tumbler inputs (not made by tumbler lock)",)
    else:
        inputs = tuple(input_drift(recorded, current))
    doubts: tuple[str, ...] = ()
    if not inputs and not options.full:
        verdict = _gate(prepared, committed, options)
        if verdict is not None and verdict.consistent:
            return CheckResult(shown, (), (), method="records", unrecorded=verdict.unrecorded)
        doubts = verdict.problems if verdict is not None else ()
    from tumbler.resolver.locker import lock

    request = dataclasses.replace(request, preferences=_preferences(committed))
    http = _http(options, prepared)
    try:
        with _progress(options, "checking", http):
            fresh, finder = lock(request, http)
            if request.attestations:
                fresh, _ = _identities(fresh, finder, http, prepared.cache)
            if request.surface:
                fresh, _ = _surfaces(fresh, request, http, prepared.cache)
            _keep_facts(fresh, finder, prepared.cache)
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
    return CheckResult(shown, inputs, content_drift(committed, fresh), doubts=doubts)


def _policy(committed: Pylock, request: LockRequest) -> tuple[str, ...]:
    """What the project's cooldown refuses in ``committed`` (C1 lines), whichever tool
    wrote it: files uploaded after the cut-off the lock records, else the project's."""
    from tumbler.findings import Severity
    from tumbler.lockfile.policy import cooldown_findings

    cutoff, cooldown = request.exclude_newer, request.cooldown
    if cutoff is None:
        return ()
    found = cooldown_findings(committed, cutoff, cooldown.exempts if cooldown.exempt else None)
    return tuple(
        f"{f.message} ({f.location}) [{f.rule}]" for f in found if f.severity is Severity.ERROR
    )


def _checked(prepared: _Prepared, committed: Pylock, policy: tuple[str, ...]) -> CheckResult:
    """The verdict when the policy is broken: that, and the input drift if any (the
    content is not compared: the lock must be made again anyway)."""
    from tumbler.resolver.check import CheckResult
    from tumbler.resolver.inputs import input_drift
    from tumbler.resolver.request import lock_inputs

    recorded = recorded_inputs(committed)
    inputs = () if recorded is None else tuple(input_drift(recorded, lock_inputs(prepared.request)))
    return CheckResult(str(prepared.output), inputs, (), policy=policy)


def _keep_facts(pylock: Pylock, finder: Finder, cache: Cache) -> None:
    """Keep what the index said about each locked release (the files a fresh lock takes
    from it, its metadata), for the next gate to check the lock against offline
    (:mod:`tumbler.index.facts`)."""
    from tumbler.index.facts import RecordKey, encode, scope_of, store_facts

    scope = scope_of(pylock.environments or ())
    for package in pylock.packages:
        if package.version is None or package.index is None:
            continue
        metadata = finder.known_metadata(str(package.index), package.name, package.version)
        record = encode(package, metadata)
        key = RecordKey(scope, str(package.index), package.name, str(package.version))
        store_facts(cache, key, record)


def _gate(prepared: _Prepared, committed: Pylock, options: LockOptions) -> GateVerdict | None:
    """The resolver-free gate's verdict on ``committed`` (None when it cannot judge: the
    lock records surfaces or identities not at hand)."""
    from tumbler.index.facts import RecordKey, read_facts, scope_of
    from tumbler.lockfile.tables import lock_tool
    from tumbler.resolver.gate import GateInput, verify

    request = prepared.request
    if request.attestations:
        return None  # identities are compared by the full check
    scope = scope_of(committed.environments or ())
    facts = [
        read_facts(prepared.cache, RecordKey(scope, str(p.index), p.name, str(p.version)))
        if p.index is not None and p.version is not None
        else None
        for p in committed.packages
    ]
    tool = lock_tool(committed)
    universe = _gate_universe(request, committed, facts)
    verdict = verify(
        GateInput(
            pylock=committed,
            roots=_tables(request.project),
            universe=universe,
            tags=_tag_masks(universe, prepared.cache),
            facts=facts,
            unavailable=tool.unavailable if tool is not None else (),
            exclude_newer=request.exclude_newer,
            header=_header(request),
            environments=_environments_for(request) if request.universe else None,
        )
    )
    if verdict.consistent and request.surface and not _surfaces_hold(prepared, committed):
        return None
    return verdict


def _tag_masks(universe: Sequence[Target], cache: Cache) -> dict[str, int]:
    """:func:`~tumbler.env.targets.tag_masks` of ``universe``, kept in the cache: the tag
    lists of three dozen targets take longer to build than the rest of the gate."""
    import hashlib
    import json

    import packaging

    from tumbler.env.targets import tag_masks

    names = "\n".join(t.name for t in universe)
    key = hashlib.sha256(f"{packaging.__version__}\n{names}".encode()).hexdigest()
    kept = cache.get_blob("tags", key)
    if kept is not None:
        try:
            found = json.loads(kept)
        except ValueError:
            found = None
        if isinstance(found, dict) and all(type(v) is int for v in found.values()):
            return found
    made = tag_masks(universe)
    cache.put_blob("tags", key, json.dumps(made, separators=(",", ":")).encode())
    return made


def _tables(project: Project) -> dict[str, tuple[Needs, ...]]:
    """The project's requirements per table (``""``, ``extra:<name>``, ``group:<name>``)."""
    from tumbler.index.facts import Needs
    from tumbler.lockfile.tables import DEV_GROUP

    tables = {"": tuple(map(Needs.of, project.dependencies))}
    tables.update({f"extra:{k}": tuple(map(Needs.of, v)) for k, v in project.extras.items()})
    tables.update({f"group:{k}": tuple(map(Needs.of, v)) for k, v in project.groups.items()})
    dev = f"group:{DEV_GROUP}"
    if project.buildable and project.name is not None and dev in tables:
        # the project itself comes with the dev group (locker._itself)
        tables[dev] = (*tables[dev], Needs(project.name, (), "", None, None))
    return tables


def _header(request: LockRequest) -> dict[str, object]:
    from tumbler.lockfile.model import LOCK_VERSION
    from tumbler.resolver.universal import header_requires_python

    project = request.project
    python = project.requires_python
    if request.universe:
        python = header_requires_python(python)
    return {
        "extras": [canonicalize_name(e) for e in sorted(project.extras)],
        "dependency-groups": sorted(project.groups),
        "default-groups": ["default"] if project.default_groups else [],
        "requires-python": None if python is None else str(python),
        "created-by": "tumbler",
        "lock-version": str(LOCK_VERSION),
    }


def _gate_universe(
    request: LockRequest, committed: Pylock, facts: Sequence[ReleaseFacts | None]
) -> tuple[Target, ...]:
    """The targets to check: the one target, or the universal grid cut wherever the lock
    or its releases' records tell patch releases apart."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from tumbler.env.targets import marker_python_splits, python_splits
    from tumbler.resolver.universal import grid

    if not request.universe:
        return (request.target,)
    cuts: set[Version] = set()
    for marker in committed.environments or ():
        cuts |= marker_python_splits(str(marker))
    for package, record in zip(committed.packages, facts, strict=True):
        if package.marker is not None:
            cuts |= marker_python_splits(str(package.marker))
        texts = [str(package.requires_python) if package.requires_python else ""]
        if record is not None:
            texts += [record.requires_python or ""]
            texts += [n.marker for n in record.requires_dist or () if n.marker]
        for text in texts:
            if "python_full_version" in text:
                cuts |= marker_python_splits(text)
            elif text and text[0] in "<>=!~":
                try:
                    cuts |= python_splits(SpecifierSet(text))
                except InvalidSpecifier:
                    continue
    return grid(
        request.project.requires_python,
        request.environments,
        today=request.today or _today(request.exclude_newer),
        splits=cuts,
    )


def _environments_for(request: LockRequest) -> Callable[[Sequence[Target]], list[str]]:
    from tumbler.resolver.universal import environments_of

    def environments(served: Sequence[Target]) -> list[str]:
        return sorted(str(m) for m in environments_of(served, [*request.universe, *served]))

    return environments


def _surfaces_hold(prepared: _Prepared, committed: Pylock) -> bool:
    """Whether the lock's API surfaces are what the cached surfaces give (False when a
    surface is not at hand: the full check then reads it)."""
    from tumbler.lockfile.diff import surface_changes
    from tumbler.net.http import Http

    http = Http(cache=prepared.cache, offline=True)
    try:
        fresh, _ = _surfaces(committed, prepared.request, http, prepared.cache)
    except TumblerError:
        return False
    finally:
        http.close()
    return not surface_changes(committed, fresh)
