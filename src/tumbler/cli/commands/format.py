"""`tumbler format FILE...`: rewrite locks in tumbler's deterministic layout."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tumbler.cli.common import EXIT_FINDINGS, EXIT_OK, emit, output_options
from tumbler.errors import UsageError

if TYPE_CHECKING:
    import argparse

__all__ = ["arguments", "run"]


def arguments(parser: argparse.ArgumentParser) -> None:
    """``format``'s options."""
    parser.add_argument(
        "files", nargs="*", metavar="FILE", default=["pylock.toml"], help="default: ./pylock.toml"
    )
    parser.add_argument(
        "--check", action="store_true", help="only report; exit 1 if a file would change"
    )
    output_options(parser, ("text", "json"))


def run(args: argparse.Namespace) -> int:
    """Rewrite (or with ``--check`` report) every file not in tumbler's layout."""
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
        emit(json.dumps({"changed": changed, "check": args.check}, indent=2))
    else:
        verb = "would be reformatted" if args.check else "reformatted"
        for ref in changed:
            emit(f"{ref}: {verb}")
        unchanged = len(args.files) - len(changed)
        emit(f"{len(changed)} file{'s' if len(changed) != 1 else ''} {verb}, {unchanged} unchanged")
    return EXIT_FINDINGS if args.check and changed else EXIT_OK
