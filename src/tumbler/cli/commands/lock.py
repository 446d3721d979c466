"""`tumbler lock [PROJECT]` and `lock --check`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from tumbler.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    cache_options,
    emit,
    index_options,
    names,
    output_options,
    progress,
    style,
)

if TYPE_CHECKING:
    import argparse

__all__ = ["arguments", "run"]


def run(args: argparse.Namespace) -> int:
    """Lock the project, or with ``--check`` say whether the lock is up to date."""
    from pathlib import Path

    from tumbler.project.pyproject import parse_cutoff
    from tumbler.resolver.workflow import LockOptions, run_check, run_lock

    options = LockOptions(
        project=Path(args.project),
        output=None if args.output is None else Path(args.output),
        index_url=args.index_url,
        extra_index_urls=tuple(args.extra_index_url or ()),
        exclude_newer=None
        if args.exclude_newer is None
        else parse_cutoff(args.exclude_newer, "--exclude-newer"),
        prereleases=args.prereleases,
        python_version=args.python_version,
        platform=args.platform,
        target=args.target,
        cache_dir=None if args.cache_dir is None else Path(args.cache_dir),
        offline=args.offline,
        upgrade=args.upgrade,
        upgrade_packages=tuple(names(args.upgrade_package)),
        universal=args.universal,
        environments=tuple(args.lock_environments or ()),
        progress=progress(args.quiet),
        surface=args.surface,
        attestations=args.attestations,
        no_binary=tuple(args.no_binary or ()),
        only_binary=tuple(args.only_binary or ()),
        no_build=args.no_build,
        full=args.full,
    )
    if args.full and not args.check:
        from tumbler.errors import UsageError

        raise UsageError("--full goes with --check")
    if args.check:
        from tumbler.cli.views.check import check_json, check_markdown, check_text

        result = run_check(options)
        if result.ok and result.method == "records":
            from tumbler.cli import memo

            memo.vouch()  # the verdict is a function of what the run read: it may be kept
        render = {"json": check_json, "markdown": check_markdown}.get(args.format, check_text)
        if result.ok and args.quiet and args.format == "text":
            return EXIT_OK
        emit(render(result))
        return EXIT_OK if result.ok else EXIT_FINDINGS
    outcome = run_lock(options)
    if args.format == "json":
        from tumbler.cli.views.lock import lock_json

        emit(lock_json(outcome))
    elif not args.quiet:
        from tumbler.cli.views.lock import lock_text

        print(lock_text(outcome, style(args.color)), file=sys.stderr)
    for note in outcome.notes:
        print(f"tumbler: note: {note}", file=sys.stderr)
    return EXIT_OK


def arguments(parser: argparse.ArgumentParser) -> None:
    """``lock``'s options."""
    parser.add_argument(
        "project",
        nargs="?",
        default=".",
        metavar="PROJECT",
        help="pyproject.toml, a requirements file, or a directory (default: .)",
    )
    parser.add_argument(
        "-o", "--output", metavar="LOCK", help="lock file (default: pylock.toml beside the project)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and say what drifted if the lock is not what locking gives now",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="with --check: compare with a fresh lock from the index (new and yanked files, "
        "every hash re-read) even when the lock checks out against the project and the "
        "cached index records",
    )
    index_options(parser)
    parser.add_argument(
        "--prereleases", choices=("disallow", "allow", "if-necessary"), help="pre-release policy"
    )
    parser.add_argument(
        "--target",
        metavar="TARGET",
        help="lock for one environment only: 'host' (this interpreter) or OS-ARCH-PYTHON, "
        "e.g. linux-x86_64-3.12",
    )
    parser.add_argument(
        "--python-version",
        metavar="X.Y",
        help="lock for this Python only (on --platform, default: this machine's)",
    )
    parser.add_argument(
        "--platform",
        metavar="OS-ARCH",
        help="lock for this platform only, e.g. linux-x86_64, macos-arm64 (with --python-version"
        ", default: the running Python's)",
    )
    parser.add_argument(
        "--universal",
        action="store_true",
        help="one lock for every CPython the project allows, on Linux, macOS and Windows, "
        "x86_64 and arm64 (the default for a new lock; an existing lock keeps its mode)",
    )
    parser.add_argument(
        "--environment",
        dest="lock_environments",
        action="append",
        metavar="MARKER",
        help="lock for the environments this marker accepts, e.g. \"sys_platform == 'linux'\" "
        "(repeatable; default: [tool.tumbler] environments)",
    )
    cache_options(parser)
    parser.add_argument(
        "--surface",
        action="store_true",
        help="record each package's typed API surface and capability tokens "
        "(default: [tool.tumbler] surface)",
    )
    parser.add_argument(
        "--attestations",
        action="store_true",
        help="record each package's PEP 740 publisher identities from the index's provenance "
        "(default: [tool.tumbler] attestations)",
    )
    parser.add_argument(
        "--no-binary",
        action="append",
        metavar="NAMES",
        help="lock these packages (comma-separated, :all: for every one) from sdists only "
        "(default: [tool.tumbler] no-binary)",
    )
    parser.add_argument(
        "--only-binary",
        action="append",
        metavar="NAMES",
        help="lock these packages (comma-separated, :all: for every one) from wheels only "
        "(default: [tool.tumbler] only-binary)",
    )
    parser.add_argument(
        "--no-build",
        action="store_true",
        help="lock from wheels only, never an sdist to build (--only-binary :all:)",
    )
    parser.add_argument(
        "-U", "--upgrade", action="store_true", help="ignore the versions the lock pins"
    )
    parser.add_argument(
        "-P",
        "--upgrade-package",
        action="append",
        metavar="NAME",
        help="release NAME's pin (repeatable)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    output_options(parser, ("text", "json", "markdown"))
