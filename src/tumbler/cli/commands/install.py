"""`tumbler install [LOCK]` and `tumbler sync [LOCK]`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from tumbler.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    emit,
    names,
    output_options,
    progress,
    style,
    trust_root,
)

if TYPE_CHECKING:
    import argparse

__all__ = ["arguments", "run"]


def run(args: argparse.Namespace) -> int:
    """Install or sync the lock."""
    import os
    from pathlib import Path

    from tumbler.cli.views.install import outcome_json, outcome_text, refusal_json, verify_text
    from tumbler.errors import UsageError
    from tumbler.installing.pipeline import InstallOptions, InstallRefused, run_install
    from tumbler.installing.unpack import LINK_MODES

    if not Path(args.lock).exists():
        from tumbler.errors import InputError

        hint = "run 'tumbler lock' to make it" if args.lock == "pylock.toml" else "name the lock"
        raise InputError(f"{args.lock}: no such file; {hint}")
    options = InstallOptions(
        lock=Path(args.lock),
        venv=None if args.venv is None else Path(args.venv),
        python=args.python,
        extras=tuple(names(args.extra)),
        all_extras=args.all_extras,
        groups=tuple(names(args.group)),
        no_default_groups=args.no_default_groups,
        all_groups=args.all_groups,
        dev=not args.no_dev and os.environ.get("TUMBLER_NO_DEV", "") not in ("1", "true"),
        install_project=not args.no_install_project,
        sync=args.command == "sync",
        dry_run=args.dry_run,
        offline=args.offline,
        cache_dir=None if args.cache_dir is None else Path(args.cache_dir),
        editable=not args.no_editable,
        build=not args.no_build,
        reinstall=args.reinstall,
        index_url=args.index_url,
        compile=args.compile,
        break_system_packages=args.break_system_packages,
        progress=progress(args.quiet or args.format == "json"),
        verify_attestations=args.verify_attestations,
        bundled_trust_root=args.bundled_trust_root,
        link_mode=args.link_mode or os.environ.get("TUMBLER_LINK_MODE") or "auto",
        verify_cache=args.verify_cache,
        verify=args.verify,
        audit_vulns=args.audit_vulns,
        vuln_db=None if args.vuln_db is None else Path(args.vuln_db),
        osv_url=args.osv_url,
    )
    if options.link_mode not in LINK_MODES:
        raise UsageError(
            f"link mode {options.link_mode!r} (TUMBLER_LINK_MODE) is not one of "
            f"{', '.join(LINK_MODES)}"
        )
    try:
        outcome = run_install(options)
    except InstallRefused as refused:
        if args.format == "json":
            emit(refusal_json(refused))
        else:
            print(f"tumbler: error: {refused}", file=sys.stderr)
            for finding in refused.findings:
                where = finding.location or "(file)"
                print(f"  {where}: {finding.rule}: {finding.message}", file=sys.stderr)
                if finding.hint:
                    print(f"    hint: {finding.hint}", file=sys.stderr)
        return refused.exit_code
    if args.format == "json":
        emit(outcome_json(outcome))
    elif args.verify:
        emit(verify_text(outcome))
    elif not args.quiet or outcome.dry_run:
        emit(outcome_text(outcome, style(args.color)))
    for name in outcome.repaired:
        print(f"tumbler: note: the cached copy of {name} had changed: replaced", file=sys.stderr)
    return EXIT_FINDINGS if outcome.differences else EXIT_OK


def arguments(parser: argparse.ArgumentParser) -> None:
    """``install``'s and ``sync``'s options (the same)."""
    parser.add_argument(
        "--link-mode",
        choices=("auto", "clone", "copy", "hardlink"),
        help="how files go from the cache into the environment: auto (copy-on-write clone "
        "where the file system has it, else a copy; the default, or TUMBLER_LINK_MODE), clone, "
        "copy, or hardlink (fastest; the files are shared with the cache, so editing one in "
        "place changes every environment that has it)",
    )
    parser.add_argument(
        "--verify-cache",
        action="store_true",
        help="re-hash every cached file before using it (by default its size and time are "
        "checked); a changed one is replaced from the verified wheel",
    )
    parser.add_argument(
        "--verify",
        action="store_true",
        help="change nothing: re-hash every installed file of the selected distributions "
        "against its RECORD and list what differs (exit 1)",
    )
    parser.add_argument(
        "lock",
        nargs="?",
        default="pylock.toml",
        metavar="LOCK",
        help="the lock file (default: pylock.toml)",
    )
    parser.add_argument(
        "--venv",
        metavar="PATH",
        help="the virtual environment (made when missing; default: $VIRTUAL_ENV, else "
        ".venv beside the lock)",
    )
    parser.add_argument(
        "--python",
        metavar="PATH",
        help="install into this interpreter's environment (with --venv: make the venv with it)",
    )
    parser.add_argument(
        "--extra", action="append", metavar="NAME", help="select an extra (repeatable)"
    )
    parser.add_argument(
        "--all-extras", action="store_true", help="select every extra the lock offers"
    )
    parser.add_argument(
        "--group",
        action="append",
        metavar="NAME",
        help="select a dependency group, besides the lock's default groups (repeatable)",
    )
    parser.add_argument(
        "--no-default-groups",
        action="store_true",
        help="do not select the lock's default-groups",
    )
    parser.add_argument(
        "--all-groups", action="store_true", help="select every dependency group the lock offers"
    )
    parser.add_argument(
        "--no-dev",
        action="store_true",
        help="do not select the 'dev' group (selected by default when the lock has one; "
        "also TUMBLER_NO_DEV=1)",
    )
    parser.add_argument(
        "--no-install-project",
        action="store_true",
        help="leave out the project itself (the editable entry a tumbler lock holds for a "
        "project with a [build-system])",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan; change nothing")
    parser.add_argument("--offline", action="store_true", help="use cached files only")
    parser.add_argument("--cache-dir", metavar="DIR", help="cache directory")
    parser.add_argument(
        "--no-build",
        action="store_true",
        help="refuse sources that need a build (sdist, vcs, directory, source archive)",
    )
    parser.add_argument(
        "--no-editable",
        action="store_true",
        help="install editable directories as regular ones",
    )
    parser.add_argument("--reinstall", action="store_true", help="reinstall what is already there")
    parser.add_argument(
        "--verify-attestations",
        action="store_true",
        help="refuse a file whose PEP 740 attestation is missing, invalid or signed by an "
        "identity the lock does not record (needs tumbler[attest])",
    )
    trust_root(parser)
    _vulnerability_options(parser)
    parser.add_argument(
        "--index-url", metavar="URL", help="index for build requirements of sources"
    )
    parser.add_argument(
        "--compile",
        "--compile-bytecode",
        dest="compile",
        action="store_true",
        help="compile the installed modules to bytecode (.pyc) now, not on first import "
        "(off by default)",
    )
    parser.add_argument(
        "--break-system-packages",
        action="store_true",
        help="allow installing into an externally managed interpreter (PEP 668)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    output_options(parser, ("text", "json"))


def _audit_level(text: str) -> str:
    import argparse

    from tumbler.errors import InputError
    from tumbler.project.pyproject import install_audit_level

    try:
        return str(install_audit_level(text, "LEVEL"))
    except InputError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _vulnerability_options(parser: argparse.ArgumentParser) -> None:
    """``--audit-vulns[=LEVEL]``, ``--no-audit-vulns``, ``--vuln-db``, ``--osv-url``."""
    parser.add_argument(
        "--audit-vulns",
        nargs="?",
        const="high",
        type=_audit_level,
        metavar="LEVEL",
        help="before anything is fetched, check the selected packages against OSV: malware "
        "always refuses, an advisory at or above LEVEL refuses (malware, critical, high, "
        "moderate, low, any; default high); nothing is installed (exit 2). Also "
        "[tool.tumbler] install-audit = LEVEL beside the lock",
    )
    parser.add_argument(
        "--no-audit-vulns",
        dest="audit_vulns",
        action="store_const",
        const="off",
        help="skip the check [tool.tumbler] install-audit asks for",
    )
    parser.add_argument(
        "--vuln-db",
        metavar="PATH",
        help="check offline against OSV's PyPI data (all.zip or its folder), not the OSV API",
    )
    parser.add_argument(
        "--osv-url",
        metavar="URL",
        help="the OSV API (default: TUMBLER_OSV_URL, else https://api.osv.dev)",
    )
