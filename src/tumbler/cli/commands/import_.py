"""`tumbler import FILE`: another tool's lock as ``pylock.toml``, every version and hash kept."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from tumbler.cli.common import EXIT_OK, cache_options, cached_http

if TYPE_CHECKING:
    import argparse
    from pathlib import Path

    from packaging.pylock import Pylock

__all__ = ["arguments", "run"]


def arguments(parser: argparse.ArgumentParser) -> None:
    """``import``'s options."""
    from tumbler.formats.registry import READERS

    parser.add_argument("source", metavar="FILE", help="the lock to import")
    parser.add_argument(
        "--from",
        dest="source_format",
        choices=sorted(READERS),
        help="its format (default: detected)",
    )
    parser.add_argument(
        "-o", "--output", metavar="LOCK", help="where to write (default: pylock.toml beside FILE)"
    )
    parser.add_argument(
        "--allow-unhashed",
        action="store_true",
        help="take a requirement without --hash, with the files and hashes its index lists",
    )
    parser.add_argument(
        "--index-url",
        metavar="URL",
        help="the index files come from when FILE names none (default: the public index; "
        "this machine's pip or uv configuration is not used: the lock records the index)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    cache_options(parser)


def run(args: argparse.Namespace) -> int:
    """Read FILE through its format's reader and write the lock (atomically, validated)."""
    from pathlib import Path

    from tumbler.errors import InputError
    from tumbler.formats.base import ReadOptions
    from tumbler.formats.lookup import IndexLookup
    from tumbler.formats.registry import detect, reader
    from tumbler.lockfile.atomic import lock_output, write_atomic
    from tumbler.lockfile.load import load_valid
    from tumbler.lockfile.render import render
    from tumbler.lockfile.source import LockSource

    source = Path(args.source)
    try:
        data = source.read_bytes()
    except OSError as error:
        raise InputError(f"{source}: cannot read ({error.strerror or error})") from None
    output = lock_output(Path(args.output)) if args.output else source.parent / "pylock.toml"
    found = reader(args.source_format) if args.source_format else detect(source, data)
    if found is None:
        raise InputError(f"{source}: not a format tumbler imports (name one with --from)")
    options = ReadOptions(
        pyproject=_beside(source),
        allow_unhashed=args.allow_unhashed,
        default_index=args.index_url,
    )
    http, _ = cached_http(args)
    try:
        imported = found.read(source, data, IndexLookup(http), options)
    finally:
        http.close()
    pylock = imported.pylock
    text = render(pylock)
    load_valid(LockSource(str(output), text.encode()))  # what is written loads and validates
    write_atomic(output, text)
    if not args.quiet:
        for note in (*imported.notes, *_unstated(pylock, offline=args.offline)):
            print(f"note: {note}", file=sys.stderr)
        print(
            f"imported {len(pylock.packages)} packages from {source} ({found.name}); "
            f"wrote {output}",
            file=sys.stderr,
        )
    return EXIT_OK


def _unstated(pylock: Pylock, *, offline: bool) -> list[str]:
    """A note when files were written without a size or upload time (the standard does
    not require them; the source lacked them and the index did not say)."""
    files = [
        f for p in pylock.packages for f in (*(p.wheels or ()), *((p.sdist,) if p.sdist else ()))
    ]
    sizes = sum(f.size is None for f in files)
    times = sum(f.upload_time is None for f in files)
    if not sizes and not times:
        return []
    why = "--offline: the index was not asked" if offline else "the index does not give them"
    return [
        f"{sizes} of {len(files)} files without a size, {times} without an upload time "
        f"(the source lacks them; {why})"
    ]


def _beside(source: Path) -> bytes | None:
    """The ``pyproject.toml`` next to the imported file, if there is one."""
    try:
        return (source.parent / "pyproject.toml").read_bytes()
    except OSError:
        return None
