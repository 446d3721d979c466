"""What the commands share: exit codes, output, options several commands take."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from pathlib import Path

    from tumbler.cli.views.findings import FileReport, Style
    from tumbler.lockfile.source import LockSource
    from tumbler.net.cache import Cache
    from tumbler.net.http import Http
    from tumbler.progress import Progress

__all__ = [
    "EXIT_ERROR",
    "EXIT_FINDINGS",
    "EXIT_OK",
    "cache_options",
    "cached_http",
    "emit",
    "lock_input",
    "names",
    "output_options",
    "progress",
    "report",
    "shown_path",
    "style",
    "trust_root",
]

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def style(choice: str) -> Style:
    """Colour for ``--color`` on this terminal (``NO_COLOR``, ``FORCE_COLOR``)."""
    from tumbler.cli.views.findings import Style

    if choice == "always":
        return Style(colour=True)
    if choice == "never" or "NO_COLOR" in os.environ:
        return Style(colour=False)
    return Style(colour=sys.stdout.isatty() or bool(os.environ.get("FORCE_COLOR")))


def emit(text: str) -> None:
    """``text`` on stdout, ending in one newline (nothing for an empty text)."""
    if text:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


def names(values: Sequence[str] | None) -> list[str]:
    """Repeatable, comma-separated option values as one list."""
    return [n.strip() for v in values or () for n in v.split(",") if n.strip()]


def report(reports: list[FileReport], fmt: str, colour: Style, verdict: str) -> None:
    """Findings per file in the asked format."""
    from tumbler.cli.views.findings import findings_json, findings_markdown, findings_text

    if fmt == "json":
        emit(findings_json(reports, verdict=verdict))
    elif fmt == "markdown":
        emit(findings_markdown(reports, verdict=verdict))
    else:
        emit(findings_text(reports, colour, verdict=verdict))


def progress(quiet: bool) -> Progress | None:
    """A progress line on stderr when it is a terminal (never in CI, never with -q)."""
    from tumbler.progress import Progress, wanted

    return Progress(sys.stderr) if wanted(sys.stderr, quiet=quiet) else None


def cached_http(args: argparse.Namespace) -> tuple[Http, Cache]:
    """The HTTP client and cache ``--cache-dir`` / ``--offline`` ask for."""
    from pathlib import Path

    from tumbler.net.cache import Cache, default_cache_dir
    from tumbler.net.http import Http

    cache = Cache(Path(args.cache_dir) if args.cache_dir else default_cache_dir())
    return Http(cache=cache, offline=args.offline), cache


def output_options(sub: argparse.ArgumentParser, formats: tuple[str, ...]) -> None:
    """``--format`` (one of ``formats``) and ``--color``."""
    sub.add_argument("--format", choices=formats, default="text", help="output format")
    sub.add_argument(
        "--color", choices=("auto", "always", "never"), default="auto", help="colour output"
    )


def index_options(sub: argparse.ArgumentParser) -> None:
    """``--index-url``, ``--extra-index-url`` and ``--exclude-newer`` (lock, add, remove)."""
    sub.add_argument("--index-url", metavar="URL", help="the default package index (simple API)")
    sub.add_argument(
        "--extra-index-url", action="append", metavar="URL", help="another index (repeatable)"
    )
    sub.add_argument(
        "--exclude-newer",
        metavar="DATE",
        help="ignore files uploaded after DATE (2025-01-31 or RFC 3339)",
    )


def cache_options(sub: argparse.ArgumentParser) -> None:
    """``--cache-dir`` and ``--offline`` (lock, diff --surface, surface, audit)."""
    sub.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="cache directory (default: TUMBLER_CACHE_DIR or ~/.cache/tumbler)",
    )
    sub.add_argument("--offline", action="store_true", help="use the cache only, no network")


def trust_root(parser: argparse.ArgumentParser) -> None:
    """``--bundled-trust-root`` (install --verify-attestations, audit --attestations)."""
    parser.add_argument(
        "--bundled-trust-root",
        action="store_true",
        help="verify attestations against the Sigstore trust root bundled with sigstore, "
        "without refreshing it over the network",
    )


def lock_input(ref: str, args: argparse.Namespace) -> LockSource:
    """The lock named by ``ref`` (a path, ``-`` or ``REV:path``); another tool's lock
    (``uv.lock``, ``poetry.lock``, …: a file whose name is not a lock's and that a reader
    recognises) is read through its format's reader into the ``pylock.toml`` it imports
    as, so ``diff``, ``validate`` and ``audit`` see what ``tumbler import`` would write."""
    from pathlib import Path

    from packaging.pylock import is_valid_pylock_path

    from tumbler.formats.registry import detect
    from tumbler.lockfile.source import LockSource, read_source

    source = read_source(ref)
    name = Path(source.origin.rpartition(":")[2] if source.path is None else source.path).name
    if is_valid_pylock_path(Path(name)) or name.endswith(".toml"):
        return source
    found = detect(Path(name), source.data)
    if found is None:
        return source
    from tumbler.formats.base import ReadOptions
    from tumbler.formats.lookup import IndexLookup
    from tumbler.lockfile.render import render

    beside = None
    if source.path is not None:
        try:
            beside = (source.path.parent / "pyproject.toml").read_bytes()
        except OSError:
            beside = None
    from tumbler.net.cache import Cache, default_cache_dir
    from tumbler.net.http import Http

    cache_dir = getattr(args, "cache_dir", None)
    cache = Cache(Path(cache_dir) if cache_dir else default_cache_dir())
    http = Http(cache=cache, offline=bool(getattr(args, "offline", False)))
    try:
        options = ReadOptions(pyproject=beside)
        place = source.path if source.path is not None else Path(name)
        imported = found.read(place, source.data, IndexLookup(http), options)
    finally:
        http.close()
    text = render(imported.pylock)
    return LockSource(f"{source.origin} (read as {found.name})", text.encode())


def shown_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive
        return str(path)
    return str(path) if relative.startswith("..") else relative
