"""Install and sync: the pipeline from a ``pylock.toml`` to a working environment.

1. **lock**: read and validate the file (R*); an invalid lock is refused whole.
2. **environment**: the ``--venv`` (made when missing), the ``--python``, ``$VIRTUAL_ENV``
   or ``.venv`` beside the lock; its interpreter reports markers, tags and scheme
   (:mod:`tumbler.env.interpreter`).
3. **select**: the standard's install algorithm (I1-I6) through ``packaging.pylock``
   (:mod:`tumbler.lockfile.select`), with the chosen extras and groups; every problem is a
   finding.
   With the vulnerability check on (``--audit-vulns[=LEVEL]`` or ``[tool.tumbler]
   install-audit``), the selected packages are checked against OSV here: malware, or an
   advisory at or above the level, refuses the install (:mod:`tumbler.advisories.gate`).
4. **plan**: compare with what is installed (:mod:`tumbler.installing.plan`); ``--dry-run``
   stops here.
5. **fetch**: every file the plan installs, in parallel, verified (size and every hash)
   into the content-addressed store (:mod:`tumbler.installing.fetch`). One bad file refuses all.
6. **build**: sdists, ``vcs`` checkouts at ``commit-id``, directories and source archives
   become wheels through PEP 517 on the target interpreter (:mod:`tumbler.index.build`).
7. **apply**: all or nothing (:mod:`tumbler.installing.apply`).

Nothing touches the environment before step 7, so any refusal leaves it as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from installer.exceptions import InstallerError
from packaging.utils import canonicalize_name

from tumbler.errors import TumblerError, UsageError
from tumbler.findings import Finding, Severity, sort_findings
from tumbler.installing.apply import Ready
from tumbler.lockfile.artifacts import source_kind

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from packaging.pylock import Package, Pylock

    from tumbler.env.interpreter import Interpreter
    from tumbler.installing.installed import Installed
    from tumbler.installing.plan import Plan, Step
    from tumbler.installing.unpack import Staged
    from tumbler.lockfile.artifacts import Artifact, Need
    from tumbler.lockfile.model import Lock
    from tumbler.net.cache import Cache
    from tumbler.net.http import Http
    from tumbler.net.store import Store
    from tumbler.progress import Progress

__all__ = ["InstallOptions", "InstallOutcome", "InstallRefused", "run_install"]


class InstallRefused(TumblerError):
    """The lock cannot be installed here, or a file failed verification; nothing was
    changed (exit 2). ``findings`` says what and where."""

    def __init__(self, message: str, findings: tuple[Finding, ...]) -> None:
        super().__init__(message)
        self.findings = findings


@dataclass(frozen=True, slots=True)
class InstallOptions:
    """What ``tumbler install`` / ``tumbler sync`` was asked to do."""

    lock: Path
    venv: Path | None = None
    python: str | None = None
    extras: tuple[str, ...] = ()
    all_extras: bool = False
    groups: tuple[str, ...] = ()
    no_default_groups: bool = False
    #: Select every group the lock offers (``--all-groups``).
    all_groups: bool = False
    #: Select the ``dev`` group when the lock offers one (the PEP 735 convention uv
    #: follows: a developer's install has the dev tools); ``--no-dev`` for production.
    dev: bool = True
    #: Install the project itself (the entry a tumbler lock marks ``project = true``).
    install_project: bool = True
    sync: bool = False
    dry_run: bool = False
    offline: bool = False
    cache_dir: Path | None = None
    #: Install ``directory`` sources recorded as editable as editable (R26 MAY ignore).
    editable: bool = True
    #: Allow sources that need a build (sdist, vcs, directory, source archives) (I10).
    build: bool = True
    reinstall: bool = False
    #: For build requirements of sdists and source trees (pip's own settings otherwise).
    index_url: str | None = None
    #: Bytecode-compile installed modules.
    compile: bool = False
    break_system_packages: bool = False
    progress: Progress | None = None
    #: Refuse files whose PEP 740 attestation is missing, invalid or signed by an
    #: identity the lock does not record (``--verify-attestations``).
    verify_attestations: bool = False
    #: Verify against the Sigstore trust root bundled with sigstore (no refresh).
    bundled_trust_root: bool = False
    #: How files get from the cache into the environment
    #: (:data:`tumbler.installing.unpack.LINK_MODES`; ``TUMBLER_LINK_MODE``).
    link_mode: str = "auto"
    #: Re-hash every cached file before it is used, not only check its size and time.
    verify_cache: bool = False
    #: Change nothing; re-hash every installed file of the selected distributions against
    #: its RECORD and report what differs (``--verify``).
    verify: bool = False
    #: Check the selected packages against OSV before anything is fetched, refusing at this
    #: level (:data:`tumbler.project.pyproject.INSTALL_AUDIT_LEVELS`; ``--audit-vulns``);
    #: ``off``: no check; None: as ``[tool.tumbler] install-audit`` beside the lock says.
    audit_vulns: str | None = None
    #: OSV's PyPI data (its ``all.zip`` or folder) to check against offline (``--vuln-db``).
    vuln_db: Path | None = None
    #: The OSV API otherwise (``--osv-url``; ``TUMBLER_OSV_URL``).
    osv_url: str | None = None


@dataclass(frozen=True, slots=True)
class InstallOutcome:
    """What happened (or, with ``--dry-run``, would happen)."""

    environment: Path
    python: str
    created: bool
    plan: Plan
    dry_run: bool
    extras: tuple[str, ...]
    groups: tuple[str, ...]
    seconds: float
    #: ``--verify``: each installed file that is not what its RECORD says, with why.
    differences: tuple[tuple[str, str], ...] = ()
    #: Cached entries found damaged and replaced from the verified wheel.
    repaired: tuple[str, ...] = ()


# --- choosing the environment ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Where:
    """The environment to install into."""

    interpreter: Interpreter
    #: Its directory (for a venv a dry run would create: where it would be).
    path: Path
    #: Whether it is a new virtual environment (made, or to be made by a real run).
    created: bool


def _environment(options: InstallOptions, cache: Cache) -> _Where:
    """The environment to install into, made when it is a missing ``--venv`` (or default)."""
    from tumbler.env.interpreter import inspect_python, venv_python

    if options.venv is not None and options.python is not None and options.venv.exists():
        raise UsageError("give --venv or --python, not both (--python makes a new --venv)")
    venv = options.venv
    if venv is None and options.python is not None:
        interpreter = inspect_python(options.python, cache)
        _check_managed(interpreter, options)
        return _Where(interpreter, interpreter.prefix, created=False)
    if venv is None:
        active = os.environ.get("VIRTUAL_ENV")
        venv = Path(active) if active else options.lock.resolve().parent / ".venv"
    python = venv_python(venv)
    if python.exists():
        return _Where(inspect_python(python, cache), venv, created=False)
    if venv.exists() and any(venv.iterdir()):
        raise UsageError(f"{venv} exists but is not a virtual environment (no {python})")
    # Planned for the interpreter the venv will be made from; made only once nothing
    # refuses the install (_made).
    return _Where(inspect_python(options.python or sys.executable, cache), venv, created=True)


def _made(where: _Where, options: InstallOptions, cache: Cache) -> Interpreter:
    """The new virtual environment's interpreter, the environment made now that nothing
    refused the install."""
    from tumbler.env.interpreter import create_venv, inspect_python, venv_python

    create_venv(where.path, options.python)
    return inspect_python(venv_python(where.path), cache)


def _refuse_unavailable(
    lock: Lock, interpreter: Interpreter, extras: Sequence[str], groups: Sequence[str]
) -> None:
    """An extra or group the lock could not resolve for this environment is refused by
    name (the lock says where, ``[tool.tumbler] unavailable``), not installed without it."""
    from packaging.markers import InvalidMarker, Marker

    tool = lock.tumbler
    asked = {("extra", e) for e in extras} | {("group", g) for g in groups}
    for row in tool.unavailable if tool is not None else ():
        if (row.kind, canonicalize_name(row.name)) not in asked:
            continue
        try:
            here = not row.marker or Marker(row.marker).evaluate(interpreter.environment)
        except (InvalidMarker, ValueError):
            continue  # an unreadable note in an advisory table
        if here:
            python = interpreter.environment.get("python_full_version", "")
            raise UsageError(
                f"the {row.kind} {row.name!r} is not available on this environment "
                f"({interpreter.environment.get('sys_platform')} "
                f"{interpreter.environment.get('platform_machine')}, Python {python}): "
                f"{row.reason}"
            )


def _check_managed(interpreter: Interpreter, options: InstallOptions) -> None:
    """PEP 668: an externally managed interpreter is left to its manager unless told."""
    marker = interpreter.stdlib / "EXTERNALLY-MANAGED"
    if not interpreter.is_venv and marker.is_file() and not options.break_system_packages:
        raise UsageError(
            f"{interpreter.executable} is externally managed (PEP 668): install into a virtual "
            "environment (--venv PATH), or pass --break-system-packages"
        )


# --- choosing extras and groups (I1) --------------------------------------------------------


def _choices(pylock: Pylock, options: InstallOptions) -> tuple[tuple[str, ...], tuple[str, ...]]:
    offered_extras = {canonicalize_name(e) for e in pylock.extras or ()}
    offered_groups = {canonicalize_name(g) for g in pylock.dependency_groups or ()}
    extras = {canonicalize_name(e) for e in options.extras}
    if options.all_extras:
        extras |= offered_extras
    groups = {canonicalize_name(g) for g in options.groups}
    unknown = sorted(extras - offered_extras)
    if unknown:
        offer = ", ".join(sorted(offered_extras)) or "none"
        raise UsageError(
            f"the lock has no extra {', '.join(map(repr, unknown))} (it offers: {offer})"
        )
    unknown = sorted(groups - offered_groups)
    if unknown:
        offer = ", ".join(sorted(offered_groups)) or "none"
        raise UsageError(
            f"the lock has no dependency group {', '.join(map(repr, unknown))} (it offers: {offer})"
        )
    if not options.no_default_groups:
        groups |= {canonicalize_name(g) for g in pylock.default_groups or ()}
    if options.all_groups:
        groups |= offered_groups
    from tumbler.lockfile.tables import DEV_GROUP

    if options.dev and DEV_GROUP in offered_groups:
        groups.add(DEV_GROUP)
    return tuple(sorted(extras)), tuple(sorted(groups))


def _is_project(package: Package) -> bool:
    """Whether ``package`` is the locked project itself (``[packages.tool.tumbler]
    project = true``, with a ``directory`` source)."""
    table = (package.tool or {}).get("tumbler")
    return (
        package.directory is not None and isinstance(table, dict) and table.get("project") is True
    )


# --- the pipeline ---------------------------------------------------------------------------


def _refuse(findings: list[Finding], what: str) -> InstallRefused:
    ordered = sort_findings(tuple(findings))
    count = sum(f.severity is Severity.ERROR for f in ordered)
    plural = "s" if count != 1 else ""
    return InstallRefused(f"{what}: {count} problem{plural}; nothing was changed", ordered)


@contextlib.contextmanager
def _showing(
    options: InstallOptions, label: str, status: Callable[[], str] = str
) -> Iterator[None]:
    if options.progress is None:
        yield
        return
    with options.progress.show(label, status):
        yield


def _chosen(
    pylock: Pylock,
    interpreter: Interpreter,
    extras: Sequence[str],
    groups: Sequence[str],
    options: InstallOptions,
) -> tuple[tuple[Package, Artifact], ...]:
    """What the standard's selection (I1-I6) takes for this interpreter, without the
    project itself when ``--no-install-project``; refused when it cannot install here."""
    from tumbler.lockfile.select import select

    selection = select(pylock, interpreter.target, extras=extras, dependency_groups=groups)
    if selection.findings:
        raise _refuse(list(selection.findings), f"{options.lock} cannot be installed here")
    chosen = selection.chosen
    if not options.install_project:
        chosen = tuple(c for c in chosen if not _is_project(c[0]))
    return chosen


def run_install(options: InstallOptions) -> InstallOutcome:
    """Install (or sync) ``options.lock`` into the chosen environment."""
    from tumbler.installing.plan import make_plan
    from tumbler.lockfile.load import load_valid
    from tumbler.lockfile.source import read_source
    from tumbler.net.cache import Cache, default_cache_dir

    started = time.perf_counter()
    loaded = load_valid(read_source(str(options.lock)))
    assert loaded.lock is not None
    pylock = loaded.lock.pylock
    base = options.lock.resolve().parent
    extras, groups = _choices(pylock, options)
    cache = Cache(options.cache_dir or default_cache_dir())
    where = _environment(options, cache)
    interpreter = where.interpreter
    _refuse_unavailable(loaded.lock, interpreter, extras, groups)
    chosen = _chosen(pylock, interpreter, extras, groups, options)
    unsupported = _unsupported(chosen, pylock, options)
    if unsupported:
        raise _refuse(unsupported, f"{options.lock} needs sources this install cannot use")
    astray = _off_pin(chosen, pylock)
    if astray:
        raise _refuse(astray, f"{options.lock}: pinned packages would come from another index")
    _audit_vulnerabilities(pylock, chosen, options, cache)
    if options.verify_attestations:
        _verify_attestations(pylock, chosen, options, cache)
    from tumbler.installing.installed import find_installed

    # A venv still to be made holds nothing yet (its base interpreter's packages are not in it).
    installed = {} if where.created else find_installed(interpreter.site_dirs)
    plan = make_plan(
        chosen,
        installed,
        sync=options.sync,
        base=base,
        editable=options.editable,
        reinstall=options.reinstall,
    )
    differences: tuple[tuple[str, str], ...] = ()
    repaired: list[str] = []
    if options.verify:
        differences = _differences(plan, installed)
    elif options.dry_run:
        pass
    elif plan.changes:
        from tumbler.installing.apply import apply_plan

        with tempfile.TemporaryDirectory(prefix="tumbler-wheels-") as scratch:
            job = _Job(options, base, interpreter, Path(scratch), cache, repaired)
            ready = _prepare(job, plan, pylock)
            if where.created:
                interpreter = _made(where, options, cache)
            try:
                with _showing(options, f"installing {len(ready)} packages"):
                    apply_plan(
                        plan,
                        ready,
                        interpreter,
                        compile_bytecode=options.compile,
                        link_mode=options.link_mode,
                    )
            except BaseException:
                if where.created:  # a venv this run made holds nothing worth keeping
                    shutil.rmtree(where.path, ignore_errors=True)
                raise
    elif where.created:
        interpreter = _made(where, options, cache)
    return InstallOutcome(
        where.path,
        interpreter.executable,
        where.created,
        plan,
        options.dry_run or options.verify,
        extras,
        groups,
        time.perf_counter() - started,
        differences=differences,
        repaired=tuple(repaired),
    )


def _differences(plan: Plan, installed: Mapping[str, Installed]) -> tuple[tuple[str, str], ...]:
    """``--verify``: what the environment has that the lock would not give it: every
    distribution the plan would change, and every installed file of the others that
    differs from its RECORD (hash or size), or is missing."""
    from tumbler.installing.installed import record_problems
    from tumbler.installing.plan import Action

    out: list[tuple[str, str]] = []
    for step in plan.changes:
        now = f"{step.installed_version} installed" if step.installed_version else "not installed"
        wants = f"the lock has {step.version}" if step.version else "the lock does not select it"
        out.append((step.name, f"{step.action.value}: {now}, {wants}"))
    for step in plan.of(Action.KEEP):
        found = installed.get(step.name)
        if found is not None:
            out.extend(record_problems(found))
    return tuple(out)


def _audit_vulnerabilities(
    pylock: Pylock,
    chosen: Sequence[tuple[Package, Artifact]],
    options: InstallOptions,
    cache: Cache,
) -> None:
    """Refuse, before anything is fetched or changed, when a selected package is malware
    or has an advisory at or above the asked level (an ignore in force excepted)."""
    if options.audit_vulns == "off":
        return
    from tumbler.advisories.ignores import project_settings

    settings, _ = project_settings(options.lock)
    level = options.audit_vulns or settings.install_audit
    if level is None:
        return
    from datetime import UTC, datetime

    from tumbler.advisories.gate import advisories_for, refusals
    from tumbler.advisories.ignores import apply_ignores
    from tumbler.advisories.match import match
    from tumbler.net.http import Http

    taken = {id(p) for p, _ in chosen}
    selected = {i for i, p in enumerate(pylock.packages) if id(p) in taken}
    http = Http(cache=cache, offline=options.offline)
    try:
        with _showing(options, "checking for known vulnerabilities"):
            database = advisories_for(
                sorted({(str(p.name), str(p.version)) for p, _ in chosen if p.version is not None}),
                vuln_db=options.vuln_db,
                osv_url=options.osv_url,
                http=http,
            )
    finally:
        http.close()
    hits = tuple(h for h in match(pylock, database) if h.index in selected)
    triage = apply_ignores(
        hits, settings.ignore_vulnerabilities, datetime.now(UTC).date(), "pyproject.toml"
    )
    refused = refusals(triage.kept, level)
    if refused:
        raise _refuse(
            list(refused),
            f"{options.lock}: the vulnerability check ({level}) refuses "
            f"{len(refused)} package{'s' if len(refused) != 1 else ''}",
        )


def _verify_attestations(
    pylock: Pylock,
    chosen: Sequence[tuple[Package, Artifact]],
    options: InstallOptions,
    cache: Cache,
) -> None:
    """Refuse, before anything is fetched or changed, when a chosen file of a package that
    records attestation identities has no valid attestation from one of them."""
    from tumbler.attest.fetch import check_attestations
    from tumbler.net.http import Http

    http = Http(cache=cache, offline=options.offline)
    try:
        with _showing(options, "verifying attestations"):
            findings = check_attestations(
                pylock, chosen, http, cache, offline=options.bundled_trust_root
            )
    finally:
        http.close()
    if findings:
        raise _refuse(
            list(findings), f"{options.lock}: attestations do not verify; nothing was installed"
        )


def _unsupported(
    chosen: Sequence[tuple[Package, Artifact]], pylock: Pylock, options: InstallOptions
) -> list[Finding]:
    """I10: a selected package whose source this install will not use is an error up front,
    not a partial install: sources needing a build under ``--no-build``, vcs other than git."""
    from tumbler.lockfile.artifacts import filename_of, location_of

    index_of = {id(p): i for i, p in enumerate(pylock.packages)}
    out: list[Finding] = []
    for package, artifact in chosen:
        kind = source_kind(artifact)
        if kind == "vcs" and getattr(artifact, "type", "") != "git":
            message = f"{package.name}: vcs type {getattr(artifact, 'type', '')!r} is not supported"
            hint = "tumbler installs git sources; lock a wheel or an sdist instead"
        elif (
            not options.build
            and kind in ("sdist", "vcs", "directory", "archive")
            and not (kind == "archive" and filename_of(artifact).endswith(".whl"))
        ):
            message = (
                f"{package.name}: its only usable source is {kind}, which needs a build, and "
                "--no-build forbids building"
            )
            hint = "allow builds, or add a wheel for this platform to the lock"
        else:
            continue
        location = location_of(package, artifact, index_of)
        out.append(Finding(location=location, rule="I10", severity=Severity.ERROR,
                           message=message, hint=hint))  # fmt: skip
    return out


def _host(url: str) -> tuple[str, str | None, int | None]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme, parts.hostname, parts.port


def _off_pin(chosen: Sequence[tuple[Package, Artifact]], pylock: Pylock) -> list[Finding]:
    """P1 at install: a selected package the lock pins to one index (``[tool.tumbler]
    package-indexes``, by name or pattern) whose entry names another index, or whose file
    another host serves. A pinned index must serve its own files."""
    from tumbler.lockfile.artifacts import location_of
    from tumbler.lockfile.tables import recorded_inputs
    from tumbler.project.indexes import IndexConfig

    recorded = recorded_inputs(pylock)
    if recorded is None or not recorded.package_indexes:
        return []
    from packaging.utils import NormalizedName

    pinned = {NormalizedName(k): v for k, v in recorded.package_indexes.items()}
    pins = IndexConfig((), package_indexes=pinned)
    index_of = {id(p): i for i, p in enumerate(pylock.packages)}
    out: list[Finding] = []
    for package, artifact in chosen:
        pin = pins.pinned(package.name)
        if pin is None:
            continue
        url = getattr(artifact, "url", None)
        if (package.index or "").rstrip("/") != pin.rstrip("/"):
            message = f"{package.name}: pinned to {pin}, but its entry names {package.index}"
        elif url and _host(url) != _host(pin):
            message = f"{package.name}: pinned to {pin}, but its file is served from {url}"
        else:
            continue
        out.append(
            Finding(
                location=location_of(package, artifact, index_of),
                rule="P1",
                severity=Severity.ERROR,
                message=message,
                hint="lock again: a pinned name is only ever taken from its index",
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class _Job:
    """What preparing one install needs to know."""

    options: InstallOptions
    base: Path
    interpreter: Interpreter
    scratch: Path
    cache: Cache
    #: Cached entries found damaged (and replaced), by wheel file name.
    repaired: list[str] = field(default_factory=list)

    @property
    def store(self) -> Store:
        from tumbler.net.store import Store

        return Store(self.cache)


def _prepare(job: _Job, plan: Plan, pylock: Pylock) -> list[Ready]:
    """Every installing step's wheel, fetched, verified, built and staged; refuse on any
    problem. A wheel already staged in the cache (under the lock's hash) is not fetched."""
    from tumbler.installing.plan import direct_url
    from tumbler.lockfile.artifacts import location_of, need_for
    from tumbler.net.http import Http

    index_of = {id(p): i for i, p in enumerate(pylock.packages)}
    needs: dict[str, Need] = {}
    for step in plan.installs:
        assert step.package is not None and step.artifact is not None
        if step.source in ("wheel", "sdist", "archive"):
            location = location_of(step.package, step.artifact, index_of)
            needs[step.name] = need_for(location, step.artifact, job.base)
    http = Http(cache=job.cache, offline=job.options.offline)
    try:
        files, staged = _fetch(job, http, list(needs.values()))
    finally:
        http.close()
    ready: list[Ready] = []
    to_build: list[tuple[Step, Path | None]] = []
    for step in plan.installs:
        assert step.artifact is not None
        need = needs.get(step.name)
        if need is not None and need.location in staged:
            record = direct_url(step.artifact, job.base)
            ready.append(Ready(step, staged[need.location], record))
        else:
            local = None if need is None else _named(files[need.location], need.filename, job)
            to_build.append((step, local))
    if to_build:
        with _showing(job.options, f"building {len(to_build)} packages"):
            ready.extend(_built(job, step, local) for step, local in to_build)
    mismatched = [f for r in ready for f in _identity(r, index_of)]
    if mismatched:
        raise _refuse(mismatched, f"{job.options.lock}: wheels are not what the lock names")
    return ready


def _identity(ready: Ready, index_of: Mapping[int, int]) -> list[Finding]:
    """A wheel whose METADATA or file name names another project or version than its lock
    entry is refused (as pip refuses it): ``evil-1.0`` must not install ``requests 9.9``."""
    from packaging.version import InvalidVersion, Version

    from tumbler.lockfile.artifacts import location_of

    step = ready.step
    assert step.package is not None and step.artifact is not None
    meta_name, meta_version, file_name, file_version = ready.staged.identity
    wanted_name, wanted_version = step.package.name, step.package.version
    said: list[str] = []
    for origin, name, version in (("METADATA", meta_name, meta_version),
                                  ("file name", file_name, file_version)):  # fmt: skip
        try:
            same_version = wanted_version is None or Version(version) == wanted_version
        except InvalidVersion:
            same_version = False
        if canonicalize_name(name) != wanted_name or not same_version:
            said.append(f"its {origin} names {name} {version}")
    if not said:
        return []
    wheel = ready.staged.manifest.get("wheel", "its wheel")
    expected = f"{wanted_name} {wanted_version or ''}".strip()
    return [
        Finding(
            location=location_of(step.package, step.artifact, index_of),
            rule="R32",
            severity=Severity.ERROR,
            message=f"{wheel}: {' and '.join(said)}, not {expected}; refusing the wheel",
            hint="the file is not the package the lock names: re-lock from a trusted index",
        )
    ]


def _fetch(job: _Job, http: Http, needs: list[Need]) -> tuple[dict[str, Path], dict[str, Staged]]:
    """Files by location (sdists, source archives), and wheels staged by location; a wheel
    staged earlier is neither fetched nor read again (its size is still compared)."""
    from tumbler.installing.fetch import fetch_all
    from tumbler.installing.unpack import damaged, staged
    from tumbler.lockfile.artifacts import compare

    cache_root = job.cache.root
    store = job.store
    found: dict[str, Staged] = {}
    findings: list[Finding] = []
    for need in needs:
        key = store.key(need.hashes)
        hit = None if key is None or not _is_wheel(need) else staged(cache_root, *key)
        if hit is not None and damaged(hit, full=job.options.verify_cache):
            # Not what was verified when staged: thrown away, staged again from the
            # wheel (itself checked again), never linked into an environment.
            shutil.rmtree(hit.root, ignore_errors=True)
            job.repaired.append(need.filename)
            hit = None
        if hit is not None:
            if need.size is not None and hit.size != need.size:
                findings.extend(compare(need, hit.size, {}))
            found[need.location] = hit

    # Unpacking is CPU work: as many at once as there are cores, while the other workers
    # go on downloading; with many wheels to unpack, in worker processes (no shared GIL).
    cores = os.cpu_count() or 2
    missing = [n for n in needs if n.location not in found]
    many = sum(_is_wheel(n) for n in missing) >= _PROCESS_UNPACK_FROM
    with _unpacker(cores, processes=many) as unpack:

        def then(need: Need, path: Path) -> Staged | None:
            key = store.key(need.hashes)
            if key is None or not _is_wheel(need):
                return None
            return unpack(_named(path, need.filename, job), cache_root, *key)

        def status() -> str:
            return f"{http.received / 1e6:.1f} MB"

        with _showing(job.options, f"fetching {len(missing)} files", status):
            files, fetched, problems = fetch_all(missing, http, store, then=then)
    findings.extend(problems)
    if findings:
        raise _refuse(findings, f"{job.options.lock}: files failed verification")
    return files, {**found, **fetched}


#: From this many wheels to unpack on, unpacking runs in worker processes (starting them
#: costs about a tenth of a second; below this, threads are as fast).
_PROCESS_UNPACK_FROM = 24


@contextlib.contextmanager
def _unpacker(cores: int, *, processes: bool) -> Iterator[Callable[[Path, Path, str, str], Staged]]:
    """Stage wheels ``cores`` at a time: in worker processes, reaped before this returns
    (also on an error or an interrupt), or in the calling threads."""
    from tumbler.installing.unpack import stage
    from tumbler.installing.workers import Workers

    if processes:
        with Workers(cores) as workers:
            yield workers.stage
        return
    unpacking = threading.BoundedSemaphore(cores)

    def unpack(wheel: Path, cache_root: Path, algorithm: str, digest: str) -> Staged:
        with unpacking:
            try:
                return stage(wheel, cache_root, algorithm, digest)
            except (zipfile.BadZipFile, InstallerError) as error:
                raise ValueError(str(error) or type(error).__name__) from None

    yield unpack


def _is_wheel(need: Need) -> bool:
    return need.filename.endswith(".whl")


def _built(job: _Job, step: Step, local: Path | None) -> Ready:
    """Build ``step``'s source into a wheel for the target interpreter, and stage it."""
    from tumbler.index.build import build_wheel
    from tumbler.installing.plan import direct_url
    from tumbler.installing.unpack import stage
    from tumbler.lockfile.artifacts import digest_file

    artifact = step.artifact
    assert artifact is not None
    editable = False
    if step.source == "vcs":
        source = _checkout(artifact, job)  # git: others were refused up front (I10)
    elif step.source == "directory":
        source = Path(str(getattr(artifact, "path", "")))
        if not source.is_absolute():
            source = job.base / source
        editable = bool(getattr(artifact, "editable", False)) and job.options.editable
    else:
        assert local is not None
        source = local
    env = {}
    index = job.options.index_url or os.environ.get("TUMBLER_INDEX_URL")
    if index:
        env["PIP_INDEX_URL"] = index
    wheel = build_wheel(
        source,
        job.scratch / "built" / step.name,
        python=job.interpreter.executable,
        editable=editable,
        subdirectory=getattr(artifact, "subdirectory", None),
        env=env,
    )
    record = direct_url(artifact, job.base, editable=job.options.editable)
    with wheel.open("rb") as stream:
        _, digests = digest_file(stream, ("sha256",))
    return Ready(step, stage(wheel, job.scratch / "staged", "sha256", digests["sha256"]), record)


def _checkout(artifact: object, job: _Job) -> Path:
    from tumbler.index.vcs import checkout_git

    url = getattr(artifact, "url", None)
    if url is None:
        path = Path(str(getattr(artifact, "path", "")))
        url = (path if path.is_absolute() else job.base / path).resolve().as_uri()
    commit = str(getattr(artifact, "commit_id", ""))
    return checkout_git(url, commit, job.cache.root, offline=job.options.offline).path


def _named(stored: Path, filename: str, job: _Job) -> Path:
    """``stored`` under its real file name (readers go by it: a wheel's tags, an sdist's
    format): a hard link in the scratch directory."""
    from tumbler.net.store import link_or_copy

    if stored.name == filename:
        return stored
    target = job.scratch / "named" / stored.name / filename
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    return link_or_copy(stored, target)
