"""`tumbler install [LOCK]` and `tumbler sync [LOCK]`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from tumbler.cli.common import EXIT_OK, emit, names, output_options, progress, style, trust_root

if TYPE_CHECKING:
    import argparse

__all__ = ["arguments", "run"]


def run(args: argparse.Namespace) -> int:
    """Install or sync the lock."""
    from pathlib import Path

    from tumbler.cli.views.install import outcome_json, outcome_text, refusal_json
    from tumbler.installing.pipeline import InstallOptions, InstallRefused, run_install

    options = InstallOptions(
        lock=Path(args.lock),
        venv=None if args.venv is None else Path(args.venv),
        python=args.python,
        extras=tuple(names(args.extra)),
        all_extras=args.all_extras,
        groups=tuple(names(args.group)),
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
        progress=progress(args.quiet or args.format == "json"),
        verify_attestations=args.verify_attestations,
        bundled_trust_root=args.bundled_trust_root,
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
    elif not args.quiet or outcome.dry_run:
        emit(outcome_text(outcome, style(args.color)))
    return EXIT_OK


def arguments(parser: argparse.ArgumentParser) -> None:
    """``install``'s and ``sync``'s options (the same)."""
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
    parser.add_argument(
        "--index-url", metavar="URL", help="index for build requirements of sources"
    )
    parser.add_argument(
        "--compile-bytecode", action="store_true", help="compile installed modules to bytecode"
    )
    parser.add_argument(
        "--break-system-packages",
        action="store_true",
        help="allow installing into an externally managed interpreter (PEP 668)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    output_options(parser, ("text", "json"))
