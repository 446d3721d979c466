"""`tumbler surface NAME`: a package's typed public API surface."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tumbler.cli.common import EXIT_OK, cache_options, cached_http, emit, output_options

if TYPE_CHECKING:
    import argparse

__all__ = ["arguments", "run"]


def run(args: argparse.Namespace) -> int:
    """Show one package's surface."""
    from pathlib import Path

    from tumbler.cli.views.surface import surface_json, surface_text

    http, cache = cached_http(args)
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
        emit(surface_json(found))
    else:
        emit(surface_text(found, names=not args.no_names))
    return EXIT_OK


def arguments(parser: argparse.ArgumentParser) -> None:
    """``surface``'s options."""
    parser.add_argument(
        "package",
        metavar="NAME[==VERSION]",
        help="a package on the index (newest matching release), a name in --lock, or a .whl file",
    )
    parser.add_argument("--lock", metavar="LOCK", help="take the version and wheel from this lock")
    parser.add_argument("--index-url", metavar="URL", help="the package index (simple API)")
    parser.add_argument("--exclude-newer", metavar="DATE", help="ignore files uploaded after DATE")
    parser.add_argument("--no-names", action="store_true", help="digests and tokens only")
    cache_options(parser)
    output_options(parser, ("text", "json"))
