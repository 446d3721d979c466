"""`tumbler why NAME` and `tumbler tree`: what brings a package into the lock, from the
lock alone (no project, no index)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tumbler.cli.common import EXIT_FINDINGS, EXIT_OK, emit, output_options

if TYPE_CHECKING:
    import argparse

__all__ = ["arguments", "run"]


def arguments(parser: argparse.ArgumentParser) -> None:
    """``why``'s and ``tree``'s options."""
    if parser.prog.endswith(" why"):
        parser.add_argument("name", metavar="NAME", help="the package to explain")
    parser.add_argument(
        "--lock",
        metavar="LOCK",
        default="pylock.toml",
        help="the lock file (default: ./pylock.toml)",
    )
    output_options(parser, ("text", "json"))


def run(args: argparse.Namespace) -> int:
    """``why``: 0 when something needs the package, 1 when nothing does; ``tree``: 0."""
    from tumbler.cli.views.graph import tree_json, tree_text, why_json, why_text
    from tumbler.lockfile.graph import tree, why
    from tumbler.lockfile.load import load_valid
    from tumbler.lockfile.source import read_source

    loaded = load_valid(read_source(args.lock))
    assert loaded.lock is not None
    pylock = loaded.lock.pylock
    if args.command == "tree":
        roots = tree(pylock)
        emit(tree_json(roots) if args.format == "json" else tree_text(roots))
        return EXIT_OK
    chains = why(pylock, args.name)
    emit(why_json(args.name, chains) if args.format == "json" else why_text(args.name, chains))
    return EXIT_OK if chains else EXIT_FINDINGS
