"""`tumbler export --format FORMAT`: a lock in a format other tools read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tumbler.cli.common import EXIT_OK, emit, names

if TYPE_CHECKING:
    import argparse

__all__ = ["arguments", "run"]


def arguments(parser: argparse.ArgumentParser) -> None:
    """``export``'s options."""
    from tumbler.formats.registry import EXPORTERS

    parser.add_argument(
        "--format", required=True, choices=sorted(EXPORTERS), help="the format to write"
    )
    parser.add_argument(
        "--lock", metavar="LOCK", default="pylock.toml", help="the lock (default: ./pylock.toml)"
    )
    parser.add_argument("--extra", action="append", metavar="NAME", help="select an extra")
    parser.add_argument(
        "--group",
        action="append",
        metavar="NAME",
        help="select a dependency group (default: the lock's default-groups)",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")


def run(args: argparse.Namespace) -> int:
    """Write the lock's selection for the chosen extras and groups in ``--format``."""
    from pathlib import Path

    from tumbler.errors import UsageError
    from tumbler.formats.base import ExportOptions
    from tumbler.formats.registry import exporter
    from tumbler.lockfile.load import load_valid
    from tumbler.lockfile.source import read_source

    loaded = load_valid(read_source(args.lock))
    assert loaded.lock is not None
    pylock = loaded.lock.pylock
    extras, groups = tuple(names(args.extra)), names(args.group)
    offered = (
        {str(e) for e in pylock.extras or ()},
        {str(g) for g in pylock.dependency_groups or ()},
    )
    for asked, known, kind in ((extras, offered[0], "extra"), (groups, offered[1], "group")):
        unknown = sorted(set(asked) - known)
        if unknown:
            raise UsageError(
                f"the lock has no {kind} {', '.join(map(repr, unknown))} "
                f"(it offers: {', '.join(sorted(known)) or 'none'})"
            )
    options = ExportOptions(extras=extras, groups=tuple(groups) if args.group else None)
    text = exporter(args.format).export(pylock, options)
    if args.output is None:
        emit(text.rstrip("\n"))
    else:
        from tumbler.lockfile.atomic import write_atomic

        write_atomic(Path(args.output), text)
    return EXIT_OK
