"""The ``tumbler`` command: parse arguments, wire the stages, render, pick the exit code.

Exit codes: 0 ok, 1 findings or differences, 2 usage or input error. No domain logic
lives here; a :class:`~tumbler.errors.TumblerError` becomes one line on stderr.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from typing import TYPE_CHECKING, NoReturn

from tumbler.errors import InputError, LockInvalidError, TumblerError, UsageError
from tumbler.findings import Finding, Severity, has_errors, sort_findings, strict
from tumbler.version import __version__

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from packaging.pylock import Pylock

    from tumbler.cli.views.findings import FileReport, Style
    from tumbler.lockfile.model import Lock
    from tumbler.net.cache import Cache
    from tumbler.net.http import Http
    from tumbler.progress import Progress
    from tumbler.surface.query import Upgrade

__all__ = ["main"]

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _style(choice: str) -> Style:
    from tumbler.cli.views.findings import Style

    if choice == "always":
        return Style(colour=True)
    if choice == "never" or "NO_COLOR" in os.environ:
        return Style(colour=False)
    return Style(colour=sys.stdout.isatty() or bool(os.environ.get("FORCE_COLOR")))


def _emit(text: str) -> None:
    if text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _names(values: Sequence[str] | None) -> list[str]:
    return [n.strip() for v in values or () for n in v.split(",") if n.strip()]


def _input_error_finding(error: InputError) -> Finding:
    return Finding(
        location="",
        rule=error.rule or "R5",
        severity=Severity.ERROR,
        message=str(error).split(": ", 1)[-1],
    )


def _report(reports: list[FileReport], fmt: str, style: Style, verdict: str) -> None:
    from tumbler.cli.views.findings import findings_json, findings_markdown, findings_text

    if fmt == "json":
        _emit(findings_json(reports, verdict=verdict))
    elif fmt == "markdown":
        _emit(findings_markdown(reports, verdict=verdict))
    else:
        _emit(findings_text(reports, style, verdict=verdict))


def _cmd_validate(args: argparse.Namespace) -> int:
    from tumbler.cli.views.findings import FileReport
    from tumbler.lockfile.load import load
    from tumbler.lockfile.source import read_source

    targets = []
    if args.environment or args.verify_files:
        from tumbler.env.targets import parse_target

        targets = [parse_target(spec) for spec in args.environment or ("host",)]
    reports: list[FileReport] = []
    failed: set[str] = set()
    for ref in args.files:
        try:
            loaded = load(read_source(ref))
        except InputError as error:
            failed.add(ref)
            reports.append(FileReport(ref, (_input_error_finding(error),)))
            if args.format == "text":
                print(f"tumbler: error: {error}", file=sys.stderr)
            continue
        findings = list(loaded.findings)
        if loaded.lock is not None and not has_errors(loaded.findings):
            pylock = loaded.lock.pylock
            index_of = {id(p): i for i, p in enumerate(pylock.packages)}
            from tumbler.lockfile.select import select

            if args.verify_files:  # its HTTP stack costs start-up; only load it when asked
                from tumbler.install.verify import verify_files
            for target in targets:
                selection = select(
                    pylock,
                    target,
                    extras=_names(args.extras),
                    dependency_groups=None if args.groups is None else _names(args.groups),
                )
                findings.extend(selection.findings)
                if args.verify_files:
                    base = loaded.source.path.parent if loaded.source.path else None
                    findings.extend(verify_files(selection.chosen, index_of, base))
        result = sort_findings(findings)
        reports.append(FileReport(ref, strict(result) if args.strict else result))
    if args.format == "text":
        reports = [r for r in reports if r.origin not in failed]
    _report(reports, args.format, _style(args.color), "valid")
    if failed:
        return EXIT_ERROR
    return EXIT_FINDINGS if any(r.errors for r in reports) else EXIT_OK


def _cmd_audit(args: argparse.Namespace) -> int:
    from tumbler.cli.views.findings import FileReport
    from tumbler.lockfile.audit import audit
    from tumbler.lockfile.load import load
    from tumbler.lockfile.source import read_source

    reports: list[FileReport] = []
    for ref in args.files:
        loaded = load(read_source(ref))
        findings = list(loaded.findings)
        if loaded.lock is not None:
            findings.extend(audit(loaded.lock.pylock))
            if args.attestations:
                findings.extend(_audit_attestations(args, loaded.lock.pylock))
        reports.append(FileReport(ref, sort_findings(findings)))
    _report(reports, args.format, _style(args.color), "clean")
    return EXIT_FINDINGS if any(r.findings for r in reports) else EXIT_OK


def _audit_attestations(args: argparse.Namespace, pylock: Pylock) -> tuple[Finding, ...]:
    """``audit --attestations``: every wheel and sdist of each package with identities."""
    from tumbler.attest.fetch import artifacts_of, check_attestations

    http, cache = _cached_http(args)
    chosen = [(p, a) for p in pylock.packages for a in artifacts_of(p)]
    try:
        return check_attestations(pylock, chosen, http, cache, offline=args.bundled_trust_root)
    finally:
        http.close()


def _trust_root(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bundled-trust-root",
        action="store_true",
        help="verify attestations against the Sigstore trust root bundled with sigstore, "
        "without refreshing it over the network",
    )


def _cmd_format(args: argparse.Namespace) -> int:
    import json

    from tumbler.lockfile.atomic import write_atomic
    from tumbler.lockfile.load import load_lock
    from tumbler.lockfile.render import render
    from tumbler.lockfile.source import read_source

    changed: list[str] = []
    for ref in args.files:
        source = read_source(ref)
        if source.path is None:
            raise UsageError(f"{ref}: format rewrites files in place; give a file path")
        lock = load_lock(source)
        command = (
            None if lock.pylock.created_by == "tumbler" else f"tumbler format {source.path.name}"
        )
        text = render(lock.pylock, regenerate=command)
        if text.encode("utf-8") == source.data:
            continue
        changed.append(ref)
        if not args.check:
            write_atomic(source.path, text)
    if args.format == "json":
        _emit(json.dumps({"changed": changed, "check": args.check}, indent=2))
    else:
        verb = "would be reformatted" if args.check else "reformatted"
        for ref in changed:
            _emit(f"{ref}: {verb}")
        unchanged = len(args.files) - len(changed)
        _emit(
            f"{len(changed)} file{'s' if len(changed) != 1 else ''} {verb}, {unchanged} unchanged"
        )
    return EXIT_FINDINGS if args.check and changed else EXIT_OK


def _cmd_diff(args: argparse.Namespace) -> int:
    from tumbler.cli.views.diff import diff_json, diff_markdown, diff_text
    from tumbler.lockfile.diff import diff_locks
    from tumbler.lockfile.load import load_valid
    from tumbler.lockfile.source import read_git_revision, read_source

    if args.base is not None:
        if args.new is not None:
            raise UsageError("with --base REV give one file: tumbler diff --base REV FILE")
        new_ref = args.old
        old_source = read_git_revision(args.base, new_ref)
    else:
        if args.new is None:
            raise UsageError("give two locks (tumbler diff OLD NEW) or --base REV FILE")
        new_ref = args.new
        old_source = read_source(args.old)
    old_loaded = load_valid(old_source)
    new_loaded = load_valid(read_source(new_ref), reuse=old_loaded)
    old, new = old_loaded.lock, new_loaded.lock
    assert old is not None and new is not None
    diff = diff_locks(old.pylock, new.pylock)
    upgrades = _surface_upgrades(args, old, new) if args.surface else None
    if args.format == "json":
        from tumbler.cli.views.surface import upgrades_data

        names = None if upgrades is None else upgrades_data(upgrades)
        _emit(diff_json(diff, old.origin, new.origin, names=names))
    elif args.format == "markdown":
        _emit(diff_markdown(diff, old.origin, new.origin))
    else:
        _emit(diff_text(diff, old.origin, new.origin, _style(args.color)))
    if upgrades is not None and args.format != "json":
        from tumbler.cli.views.surface import upgrades_text

        names_text = upgrades_text(upgrades)
        if args.format == "markdown":
            _emit(f"\n#### Public names\n\n```\n{names_text}\n```")
        else:
            _emit("\nPublic names\n" + names_text)
    return EXIT_OK if diff.equal else EXIT_FINDINGS


def _cached_http(args: argparse.Namespace) -> tuple[Http, Cache]:
    from pathlib import Path

    from tumbler.net.cache import Cache, default_cache_dir
    from tumbler.net.http import Http

    cache = Cache(Path(args.cache_dir) if args.cache_dir else default_cache_dir())
    return Http(cache=cache, offline=args.offline), cache


def _surface_upgrades(args: argparse.Namespace, old: Lock, new: Lock) -> tuple[Upgrade, ...]:
    """``diff --surface``: the public names each upgraded package added, removed, changed."""
    from tumbler.surface.query import surface_upgrades

    http, cache = _cached_http(args)
    try:
        return surface_upgrades(
            old.pylock,
            new.pylock,
            http,
            cache,
            old_dir=None if old.path is None else old.path.parent,
            new_dir=None if new.path is None else new.path.parent,
        )
    finally:
        http.close()


def _cmd_surface(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tumbler.cli.views.surface import surface_json, surface_text

    http, cache = _cached_http(args)
    try:
        if args.package.endswith(".whl"):
            from tumbler.surface.query import surface_of_wheel

            found = surface_of_wheel(Path(args.package), http, cache)
        elif args.lock is not None:
            from tumbler.lockfile.load import load_lock
            from tumbler.lockfile.source import read_source
            from tumbler.surface.query import surface_of_locked

            lock = load_lock(read_source(args.lock))
            found = surface_of_locked(
                lock.pylock,
                args.package,
                http,
                cache,
                None if lock.path is None else lock.path.parent,
            )
        else:
            from tumbler.project.indexes import index_config
            from tumbler.project.pyproject import Settings, parse_datetime
            from tumbler.surface.query import surface_of_release

            found = surface_of_release(
                args.package,
                http,
                cache,
                index_config(Settings(), index_url=args.index_url),
                exclude_newer=None
                if args.exclude_newer is None
                else parse_datetime(args.exclude_newer, "--exclude-newer"),
            )
    finally:
        http.close()
    if args.format == "json":
        _emit(surface_json(found))
    else:
        _emit(surface_text(found, names=not args.no_names))
    return EXIT_OK


def _progress(quiet: bool) -> Progress | None:
    """A progress line on stderr when it is a terminal (never in CI, never with -q)."""
    from tumbler.progress import Progress, wanted

    return Progress(sys.stderr) if wanted(sys.stderr, quiet=quiet) else None


def _cmd_lock(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tumbler.project.pyproject import parse_datetime
    from tumbler.resolver.workflow import LockOptions, run_check, run_lock

    options = LockOptions(
        project=Path(args.project),
        output=None if args.output is None else Path(args.output),
        index_url=args.index_url,
        extra_index_urls=tuple(args.extra_index_url or ()),
        exclude_newer=None
        if args.exclude_newer is None
        else parse_datetime(args.exclude_newer, "--exclude-newer"),
        prereleases=args.prereleases,
        python_version=args.python_version,
        platform=args.platform,
        target=args.target,
        cache_dir=None if args.cache_dir is None else Path(args.cache_dir),
        offline=args.offline,
        upgrade=args.upgrade,
        upgrade_packages=tuple(_names(args.upgrade_package)),
        universal=args.universal,
        environments=tuple(args.lock_environments or ()),
        progress=_progress(args.quiet),
        surface=args.surface,
        attestations=args.attestations,
        no_binary=tuple(args.no_binary or ()),
        only_binary=tuple(args.only_binary or ()),
        no_build=args.no_build,
    )
    if args.check:
        from tumbler.resolver.check import check_json, check_markdown, check_text

        result = run_check(options)
        render = {"json": check_json, "markdown": check_markdown}.get(args.format, check_text)
        if result.ok and args.quiet and args.format == "text":
            return EXIT_OK
        _emit(render(result))
        return EXIT_OK if result.ok else EXIT_FINDINGS
    outcome = run_lock(options)
    if args.format == "json":
        import json

        _emit(
            json.dumps(
                {
                    "lock": str(outcome.path),
                    "written": outcome.written,
                    "packages": outcome.packages,
                    "target": outcome.target,
                    "seconds": round(outcome.seconds, 3),
                    "notes": list(outcome.notes),
                },
                indent=2,
            )
        )
    elif not args.quiet:
        state = "wrote" if outcome.written else "unchanged:"
        print(
            f"locked {outcome.packages} packages for {outcome.target} in "
            f"{outcome.seconds:.2f} s; {state} {outcome.path}",
            file=sys.stderr,
        )
    for note in outcome.notes:
        print(f"tumbler: note: {note}", file=sys.stderr)
    return EXIT_OK


def _cmd_install(args: argparse.Namespace) -> int:
    from pathlib import Path

    from tumbler.cli.views.install import outcome_json, outcome_text, refusal_json
    from tumbler.install.pipeline import InstallOptions, InstallRefused, run_install

    options = InstallOptions(
        lock=Path(args.lock),
        venv=None if args.venv is None else Path(args.venv),
        python=args.python,
        extras=tuple(_names(args.extra)),
        all_extras=args.all_extras,
        groups=tuple(_names(args.group)),
        no_default_groups=args.no_default_groups,
        sync=args.command == "sync",
        dry_run=args.dry_run,
        offline=args.offline,
        cache_dir=None if args.cache_dir is None else Path(args.cache_dir),
        editable=not args.no_editable,
        build=not args.no_build,
        reinstall=args.reinstall,
        index_url=args.index_url,
        compile=args.compile_bytecode,
        break_system_packages=args.break_system_packages,
        progress=_progress(args.quiet or args.format == "json"),
        verify_attestations=args.verify_attestations,
        bundled_trust_root=args.bundled_trust_root,
    )
    try:
        outcome = run_install(options)
    except InstallRefused as refused:
        if args.format == "json":
            _emit(refusal_json(refused))
        else:
            print(f"tumbler: error: {refused}", file=sys.stderr)
            for finding in refused.findings:
                where = finding.location or "(file)"
                print(f"  {where}: {finding.rule}: {finding.message}", file=sys.stderr)
                if finding.hint:
                    print(f"    hint: {finding.hint}", file=sys.stderr)
        return refused.exit_code
    if args.format == "json":
        _emit(outcome_json(outcome))
    elif not args.quiet or outcome.dry_run:
        _emit(outcome_text(outcome, _style(args.color)))
    return EXIT_OK


def _add_install(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[[argparse.ArgumentParser, tuple[str, ...]], None],
) -> None:
    """The ``install`` and ``sync`` subcommands (the same options)."""
    for name, summary in (
        ("install", "install a lock into an environment (no resolution, every file verified)"),
        ("sync", "install a lock and remove every distribution it does not select"),
    ):
        sub = commands.add_parser(name, help=summary)
        sub.add_argument(
            "lock",
            nargs="?",
            default="pylock.toml",
            metavar="LOCK",
            help="the lock file (default: pylock.toml)",
        )
        sub.add_argument(
            "--venv",
            metavar="PATH",
            help="the virtual environment (made when missing; default: $VIRTUAL_ENV, else "
            ".venv beside the lock)",
        )
        sub.add_argument(
            "--python",
            metavar="PATH",
            help="install into this interpreter's environment (with --venv: make the venv with it)",
        )
        sub.add_argument(
            "--extra", action="append", metavar="NAME", help="select an extra (repeatable)"
        )
        sub.add_argument(
            "--all-extras", action="store_true", help="select every extra the lock offers"
        )
        sub.add_argument(
            "--group",
            action="append",
            metavar="NAME",
            help="select a dependency group, besides the lock's default groups (repeatable)",
        )
        sub.add_argument(
            "--no-default-groups",
            action="store_true",
            help="do not select the lock's default-groups",
        )
        sub.add_argument("--dry-run", action="store_true", help="print the plan; change nothing")
        sub.add_argument("--offline", action="store_true", help="use cached files only")
        sub.add_argument("--cache-dir", metavar="DIR", help="cache directory")
        sub.add_argument(
            "--no-build",
            action="store_true",
            help="refuse sources that need a build (sdist, vcs, directory, source archive)",
        )
        sub.add_argument(
            "--no-editable",
            action="store_true",
            help="install editable directories as regular ones",
        )
        sub.add_argument("--reinstall", action="store_true", help="reinstall what is already there")
        sub.add_argument(
            "--verify-attestations",
            action="store_true",
            help="refuse a file whose PEP 740 attestation is missing, invalid or signed by an "
            "identity the lock does not record (needs tumbler[attest])",
        )
        _trust_root(sub)
        sub.add_argument(
            "--index-url", metavar="URL", help="index for build requirements of sources"
        )
        sub.add_argument(
            "--compile-bytecode", action="store_true", help="compile installed modules to bytecode"
        )
        sub.add_argument(
            "--break-system-packages",
            action="store_true",
            help="allow installing into an externally managed interpreter (PEP 668)",
        )
        sub.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
        common(sub, ("text", "json"))
        sub.set_defaults(run=_cmd_install)


def _add_surface(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[[argparse.ArgumentParser, tuple[str, ...]], None],
) -> None:
    """The ``surface`` subcommand."""
    sub = commands.add_parser(
        "surface",
        help="show a package's typed public API surface, capability tokens and what was skipped",
    )
    sub.add_argument(
        "package",
        metavar="NAME[==VERSION]",
        help="a package on the index (newest matching release), a name in --lock, or a .whl file",
    )
    sub.add_argument("--lock", metavar="LOCK", help="take the version and wheel from this lock")
    sub.add_argument("--index-url", metavar="URL", help="the package index (simple API)")
    sub.add_argument("--exclude-newer", metavar="DATE", help="ignore files uploaded after DATE")
    sub.add_argument("--no-names", action="store_true", help="digests and tokens only")
    _cache_options(sub)
    common(sub, ("text", "json"))
    sub.set_defaults(run=_cmd_surface)


def _cache_options(sub: argparse.ArgumentParser) -> None:
    """``--cache-dir`` and ``--offline`` (lock, diff --surface, surface)."""
    sub.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="cache directory (default: TUMBLER_CACHE_DIR or ~/.cache/tumbler)",
    )
    sub.add_argument("--offline", action="store_true", help="use the cache only, no network")


def _add_lock(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: Callable[[argparse.ArgumentParser, tuple[str, ...]], None],
) -> None:
    """The ``lock`` subcommand (and ``lock --check``)."""
    lock = commands.add_parser(
        "lock", help="resolve a project into pylock.toml, or check that it is up to date"
    )
    lock.add_argument(
        "project",
        nargs="?",
        default=".",
        metavar="PROJECT",
        help="pyproject.toml, a requirements file, or a directory (default: .)",
    )
    lock.add_argument(
        "-o", "--output", metavar="LOCK", help="lock file (default: pylock.toml beside the project)"
    )
    lock.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and say what drifted if the lock is not what locking gives now",
    )
    lock.add_argument("--index-url", metavar="URL", help="the default package index (simple API)")
    lock.add_argument(
        "--extra-index-url", action="append", metavar="URL", help="another index (repeatable)"
    )
    lock.add_argument(
        "--exclude-newer",
        metavar="DATE",
        help="ignore files uploaded after DATE (2025-01-31 or RFC 3339)",
    )
    lock.add_argument(
        "--prereleases", choices=("disallow", "allow", "if-necessary"), help="pre-release policy"
    )
    lock.add_argument(
        "--target",
        metavar="TARGET",
        help="lock for one environment only: 'host' (this interpreter) or OS-ARCH-PYTHON, "
        "e.g. linux-x86_64-3.12",
    )
    lock.add_argument(
        "--python-version",
        metavar="X.Y",
        help="lock for this Python only (on --platform, default: this machine's)",
    )
    lock.add_argument(
        "--platform",
        metavar="OS-ARCH",
        help="lock for this platform only, e.g. linux-x86_64, macos-arm64 (with --python-version"
        ", default: the running Python's)",
    )
    lock.add_argument(
        "--universal",
        action="store_true",
        help="one lock for every CPython the project allows, on Linux, macOS and Windows, "
        "x86_64 and arm64 (the default for a new lock; an existing lock keeps its mode)",
    )
    lock.add_argument(
        "--environment",
        dest="lock_environments",
        action="append",
        metavar="MARKER",
        help="lock for the environments this marker accepts, e.g. \"sys_platform == 'linux'\" "
        "(repeatable; default: [tool.tumbler] environments)",
    )
    _cache_options(lock)
    lock.add_argument(
        "--surface",
        action="store_true",
        help="record each package's typed API surface and capability tokens "
        "(default: [tool.tumbler] surface)",
    )
    lock.add_argument(
        "--attestations",
        action="store_true",
        help="record each package's PEP 740 publisher identities from the index's provenance "
        "(default: [tool.tumbler] attestations)",
    )
    lock.add_argument(
        "--no-binary",
        action="append",
        metavar="NAMES",
        help="lock these packages (comma-separated, :all: for every one) from sdists only "
        "(default: [tool.tumbler] no-binary)",
    )
    lock.add_argument(
        "--only-binary",
        action="append",
        metavar="NAMES",
        help="lock these packages (comma-separated, :all: for every one) from wheels only "
        "(default: [tool.tumbler] only-binary)",
    )
    lock.add_argument(
        "--no-build",
        action="store_true",
        help="lock from wheels only, never an sdist to build (--only-binary :all:)",
    )
    lock.add_argument(
        "-U", "--upgrade", action="store_true", help="ignore the versions the lock pins"
    )
    lock.add_argument(
        "-P",
        "--upgrade-package",
        action="append",
        metavar="NAME",
        help="release NAME's pin (repeatable)",
    )
    lock.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    common(lock, ("text", "json", "markdown"))
    lock.set_defaults(run=_cmd_lock)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tumbler",
        description="Lock, check, diff, validate, audit and install PEP 751 lock files.",
    )
    parser.add_argument("--version", action="version", version=f"tumbler {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sub: argparse.ArgumentParser, formats: tuple[str, ...]) -> None:
        sub.add_argument("--format", choices=formats, default="text", help="output format")
        sub.add_argument(
            "--color", choices=("auto", "always", "never"), default="auto", help="colour output"
        )

    _add_lock(commands, common)

    validate = commands.add_parser(
        "validate", help="check lock files against the standard (PEP 751)"
    )
    validate.add_argument("files", nargs="+", metavar="FILE", help="lock file, or - for stdin")
    validate.add_argument("--strict", action="store_true", help="treat warnings as errors")
    validate.add_argument(
        "--environment",
        action="append",
        metavar="ENV",
        help="also run the install-time selection for ENV: host or <os>-<arch>[-<python>], "
        "e.g. linux-x86_64-3.12 (repeatable)",
    )
    validate.add_argument("--extras", action="append", metavar="NAMES", help="extras to select")
    validate.add_argument(
        "--groups", action="append", metavar="NAMES", help="dependency groups to select"
    )
    validate.add_argument(
        "--verify-files",
        action="store_true",
        help="download the selected files and check their size and hashes",
    )
    common(validate, ("text", "json", "markdown"))
    validate.set_defaults(run=_cmd_validate)

    audit = commands.add_parser("audit", help="lint a lock for what a reviewer should see")
    audit.add_argument("files", nargs="+", metavar="FILE")
    audit.add_argument(
        "--attestations",
        action="store_true",
        help="verify every file of each package that records attestation identities "
        "against its PEP 740 provenance on the index (needs tumbler[attest])",
    )
    _trust_root(audit)
    _cache_options(audit)
    common(audit, ("text", "json", "markdown"))
    audit.set_defaults(run=_cmd_audit)

    fmt = commands.add_parser("format", help="rewrite locks in tumbler's canonical layout")
    fmt.add_argument("files", nargs="+", metavar="FILE")
    fmt.add_argument(
        "--check", action="store_true", help="only report; exit 1 if a file would change"
    )
    common(fmt, ("text", "json"))
    fmt.set_defaults(run=_cmd_format)

    diff = commands.add_parser("diff", help="what changed between two locks")
    diff.add_argument("old", metavar="OLD", help="lock file, or REV:path (e.g. HEAD~1:pylock.toml)")
    diff.add_argument("new", metavar="NEW", nargs="?", help="lock file, or REV:path")
    diff.add_argument("--base", metavar="REV", help="compare FILE with its version at git REV")
    diff.add_argument(
        "--surface",
        action="store_true",
        help="also list the public names each upgraded package added, removed and changed "
        "(reads both versions' wheels)",
    )
    _cache_options(diff)
    common(diff, ("text", "json", "markdown"))
    diff.set_defaults(run=_cmd_diff)

    _add_install(commands, common)
    _add_surface(commands, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run tumbler with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    # A short-lived command builds large acyclic graphs (a 2,000-package lock is ~10^6
    # objects); the cycle collector only slows that down. Reference counting still frees.
    collecting = gc.isenabled()
    gc.disable()
    try:
        code: int = args.run(args)
    except LockInvalidError as error:
        print(f"tumbler: error: {error}", file=sys.stderr)
        for finding in error.findings[:5]:
            if isinstance(finding, Finding):
                print(
                    f"  {finding.location or '(file)'}: {finding.rule}: {finding.message}",
                    file=sys.stderr,
                )
        return error.exit_code
    except TumblerError as error:
        print(f"tumbler: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("tumbler: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    finally:
        if collecting:
            gc.enable()
    return code


def console() -> NoReturn:
    """The ``tumbler`` command: :func:`main`, then exit without waiting for speculative
    fetches the finished command no longer needs (see :mod:`tumbler.leaving`)."""
    from tumbler.leaving import leave

    gc.disable()  # for good: main() turns it back on only if it found it on
    leave(main())


if __name__ == "__main__":
    console()
