"""`tumbler diff [OLD [NEW]]`: what changed between two locks, as a reviewer reads it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tumbler.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    cache_options,
    cached_http,
    emit,
    output_options,
    style,
)
from tumbler.errors import UsageError

if TYPE_CHECKING:
    import argparse

    from tumbler.lockfile.model import Lock
    from tumbler.surface.query import Upgrade

__all__ = ["arguments", "run"]

#: What ``tumbler diff`` compares with its last commit when given no file.
DEFAULT_LOCK = "pylock.toml"


def arguments(parser: argparse.ArgumentParser) -> None:
    """``diff``'s options."""
    parser.add_argument(
        "old",
        metavar="OLD",
        nargs="?",
        help="lock file, or REV:path (e.g. HEAD~1:pylock.toml); with neither OLD nor NEW, "
        "./pylock.toml against its last commit",
    )
    parser.add_argument("new", metavar="NEW", nargs="?", help="lock file, or REV:path")
    parser.add_argument("--base", metavar="REV", help="compare FILE with its version at git REV")
    parser.add_argument(
        "--surface",
        action="store_true",
        help="also list the public names each upgraded package added, removed and changed "
        "(reads both versions' wheels)",
    )
    parser.add_argument(
        "--installs",
        action="store_true",
        help="compare only what an installer takes: packages, versions, markers, sources, "
        "files and hashes (not lock fields, the dependency graph or tool tables; for a lock "
        "that went through a requirements file)",
    )
    cache_options(parser)
    output_options(parser, ("text", "json", "markdown"))


#: The lock a revision without the file is compared as: every package then reads as added.
_EMPTY = b'lock-version = "1.0"\ncreated-by = "tumbler"\npackages = []\n'


def run(args: argparse.Namespace) -> int:
    """Compare two locks; 0 equal, 1 different, 2 error."""
    from tumbler.cli.common import lock_input
    from tumbler.cli.views.diff import diff_json, diff_markdown, diff_text
    from tumbler.lockfile.diff import diff_locks
    from tumbler.lockfile.load import load_valid
    from tumbler.lockfile.source import read_git_revision

    if args.base is not None:
        if args.new is not None or args.old is None:
            raise UsageError("with --base REV give one file: tumbler diff --base REV FILE")
        new_ref = args.old
        old_source = read_git_revision(args.base, new_ref, missing=_EMPTY)
    elif args.old is None:  # the working tree's lock against the last commit's
        new_ref = DEFAULT_LOCK
        old_source = read_git_revision("HEAD", new_ref, missing=_EMPTY)
    else:
        if args.new is None:
            raise UsageError("give two locks (tumbler diff OLD NEW) or --base REV FILE")
        new_ref = args.new
        old_source = lock_input(args.old, args)
    old_loaded = load_valid(old_source)
    new_loaded = load_valid(lock_input(new_ref, args), reuse=old_loaded)
    old, new = old_loaded.lock, new_loaded.lock
    assert old is not None and new is not None
    diff = diff_locks(old.pylock, new.pylock, installs=args.installs)
    upgrades = _surface_upgrades(args, old, new) if args.surface else None
    if args.format == "json":
        from tumbler.cli.views.surface import upgrades_data

        names = None if upgrades is None else upgrades_data(upgrades)
        emit(diff_json(diff, old.origin, new.origin, names=names))
    elif args.format == "markdown":
        emit(diff_markdown(diff, old.origin, new.origin))
    else:
        emit(diff_text(diff, old.origin, new.origin, style(args.color)))
    if upgrades is not None and args.format != "json":
        from tumbler.cli.views.surface import upgrades_text

        names_text = upgrades_text(upgrades)
        if args.format == "markdown":
            emit(f"\n#### Public names\n\n```\n{names_text}\n```")
        else:
            emit("\nPublic names\n" + names_text)
    return EXIT_OK if diff.equal else EXIT_FINDINGS


def _surface_upgrades(args: argparse.Namespace, old: Lock, new: Lock) -> tuple[Upgrade, ...]:
    """``diff --surface``: the public names each upgraded package added, removed, changed."""
    from tumbler.surface.query import surface_upgrades

    http, cache = cached_http(args)
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
