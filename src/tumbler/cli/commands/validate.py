"""`tumbler validate FILE...`: every problem against the standard, per file."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from tumbler.cli.common import (
    EXIT_ERROR,
    EXIT_FINDINGS,
    EXIT_OK,
    names,
    output_options,
    report,
    style,
)
from tumbler.errors import InputError
from tumbler.findings import Finding, Severity

if TYPE_CHECKING:
    import argparse

    from tumbler.cli.views.findings import FileReport
    from tumbler.lockfile.validate import Verify

__all__ = ["arguments", "run"]


def arguments(parser: argparse.ArgumentParser) -> None:
    """``validate``'s options."""
    parser.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        default=["pylock.toml"],
        help="lock file, or - for stdin (default: ./pylock.toml)",
    )
    parser.add_argument("--strict", action="store_true", help="treat warnings as errors")
    parser.add_argument(
        "--environment",
        action="append",
        metavar="ENV",
        help="also run the install-time selection for ENV: host or <os>-<arch>[-<python>], "
        "e.g. linux-x86_64-3.12 (repeatable)",
    )
    parser.add_argument("--extras", action="append", metavar="NAMES", help="extras to select")
    parser.add_argument(
        "--groups", action="append", metavar="NAMES", help="dependency groups to select"
    )
    parser.add_argument(
        "--verify-files",
        action="store_true",
        help="download the selected files and check their size and hashes",
    )
    output_options(parser, ("text", "json", "markdown"))


def _input_error_finding(error: InputError) -> Finding:
    return Finding(
        location="",
        rule=error.rule or "R5",
        severity=Severity.ERROR,
        message=str(error).split(": ", 1)[-1],
    )


def run(args: argparse.Namespace) -> int:
    """Validate every file; 0 valid, 1 errors, 2 unreadable."""
    from tumbler.cli.common import lock_input
    from tumbler.cli.views.findings import FileReport
    from tumbler.lockfile.validate import validate

    targets = []
    if args.environment or args.verify_files:
        from tumbler.env.targets import parse_target

        targets = [parse_target(spec) for spec in args.environment or ("host",)]
    verify: Verify | None = None
    if args.verify_files:  # its HTTP stack costs start-up; only load it when asked
        from tumbler.installing.verify import verify_files

        verify = verify_files
    reports: list[FileReport] = []
    failed: set[str] = set()
    for ref in args.files:
        try:
            findings = validate(
                lock_input(ref, args),
                targets,
                extras=names(args.extras),
                groups=None if args.groups is None else names(args.groups),
                verify=verify,
                warnings_are_errors=args.strict,
            )
        except InputError as error:
            failed.add(ref)
            reports.append(FileReport(ref, (_input_error_finding(error),)))
            if args.format == "text":
                print(f"tumbler: error: {error}", file=sys.stderr)
            continue
        reports.append(FileReport(ref, findings))
    if args.format == "text":
        reports = [r for r in reports if r.origin not in failed]
    report(reports, args.format, style(args.color), "valid")
    if failed:
        return EXIT_ERROR
    return EXIT_FINDINGS if any(r.errors for r in reports) else EXIT_OK
