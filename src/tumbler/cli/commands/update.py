"""`tumbler update [NAME...]`: re-lock taking newer versions, with a review summary."""

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
    progress,
)

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime
    from pathlib import Path

    from packaging.pylock import Package, Pylock

    from tumbler.net.http import Http

__all__ = ["arguments", "run"]


def arguments(parser: argparse.ArgumentParser) -> None:
    """``update``'s options."""
    parser.add_argument(
        "packages",
        nargs="*",
        metavar="NAME",
        help="update only these packages and what they need (default: every package)",
    )
    parser.add_argument(
        "--project", default=".", metavar="PROJECT", help="pyproject.toml or directory (default: .)"
    )
    parser.add_argument("-o", "--output", metavar="LOCK", help="the lock (default: beside it)")
    bound = parser.add_mutually_exclusive_group()
    bound.add_argument(
        "--patch-only",
        dest="bound",
        action="store_const",
        const="patch",
        help="keep each package below its next minor release",
    )
    bound.add_argument(
        "--minor-only",
        dest="bound",
        action="store_const",
        const="minor",
        help="keep each package below its next major release",
    )
    parser.add_argument(
        "--exclude", action="append", metavar="NAME", help="keep this package where it is"
    )
    parser.add_argument(
        "--summary", metavar="FILE", help="write the review summary here (for a pull request)"
    )
    parser.add_argument(
        "--summary-format",
        choices=("markdown", "json"),
        default="markdown",
        help="the summary file's format (default: markdown)",
    )
    parser.add_argument(
        "--vulns",
        action="store_true",
        help="name the advisories each update fixes and brings (OSV; --vuln-db offline)",
    )
    parser.add_argument("--vuln-db", metavar="PATH", help="OSV's PyPI data: the zip or a folder")
    parser.add_argument("--osv-url", metavar="URL", help="the OSV API (TUMBLER_OSV_URL)")
    index_options(parser)
    cache_options(parser)
    parser.add_argument(
        "--format",
        choices=("text", "markdown", "json"),
        default="text",
        help="what to print (default: text)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")


def run(args: argparse.Namespace) -> int:
    """Update; 0 nothing to update (the lock unchanged), 1 updated, 2 error."""
    from pathlib import Path

    from tumbler.cli.views.update import summary_json, summary_markdown, summary_text
    from tumbler.lockfile.atomic import write_atomic
    from tumbler.project.pyproject import parse_cutoff
    from tumbler.resolver.update import UpdateOptions, run_update, summarize
    from tumbler.resolver.workflow import LockOptions

    lock_options = LockOptions(
        project=Path(args.project),
        output=None if args.output is None else Path(args.output),
        index_url=args.index_url,
        extra_index_urls=tuple(args.extra_index_url or ()),
        exclude_newer=None
        if args.exclude_newer is None
        else parse_cutoff(args.exclude_newer, "--exclude-newer"),
        cache_dir=None if args.cache_dir is None else Path(args.cache_dir),
        offline=args.offline,
        progress=progress(args.quiet),
    )
    options = UpdateOptions(
        lock=lock_options,
        names=tuple(args.packages),
        bound=args.bound,
        exclude=tuple(names(args.exclude)),
    )
    _check_before(args)
    old, new, outcome = run_update(options)
    http = _http(args)
    try:
        advisories, source = _advisories(args, http, [old, new])
        summary = summarize(
            _shown(outcome.path),
            old,
            new,
            now=_now(),
            advisories=advisories,
            advisory_source=source,
            links=lambda package: _links(http, package),
        )
    finally:
        http.close()
    if args.summary and summary.updated:
        render = summary_json if args.summary_format == "json" else summary_markdown
        write_atomic(Path(args.summary), render(summary))
    if args.format == "json":
        emit(summary_json(summary))
    elif args.format == "markdown":
        emit(summary_markdown(summary))
    elif not args.quiet:
        print(summary_text(summary), file=sys.stderr)
    return EXIT_FINDINGS if summary.updated else EXIT_OK


def _check_before(args: argparse.Namespace) -> None:
    """What would fail after locking, checked before anything is written: the advisory
    source and the summary's place."""
    from pathlib import Path

    from tumbler.errors import InputError, UsageError

    if args.vuln_db is not None and not Path(args.vuln_db).exists():
        raise InputError(f"--vuln-db {args.vuln_db}: no such file or folder")
    if args.osv_url is not None:
        from tumbler.advisories.query import osv_url

        osv_url(args.osv_url)
    if (args.vulns or args.osv_url) and args.offline and args.vuln_db is None:
        raise UsageError("--vulns --offline needs --vuln-db (the OSV API is online)")
    if args.summary is not None:
        place = Path(args.summary)
        if place.is_dir() or not place.parent.is_dir():
            raise InputError(f"--summary {args.summary}: not a file in an existing folder")


def _shown(path: Path) -> str:
    """The lock's path as a reviewer reads it: relative to here when it is below here."""
    import os

    relative = os.path.relpath(path)
    return path.as_posix() if relative.startswith("..") else relative.replace(os.sep, "/")


def _now() -> datetime:
    """Now, or ``SOURCE_DATE_EPOCH`` (the reproducible-builds convention) when set."""
    import os
    from datetime import UTC, datetime

    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    if epoch.isdecimal():
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC)


def _http(args: argparse.Namespace) -> Http:
    from tumbler.cli.common import cached_http

    http, _ = cached_http(args)
    return http


def _links(http: Http, package: Package) -> tuple[tuple[str, str], ...]:
    from tumbler.index.links import change_links

    wheel = next((w for w in package.wheels or () if w.url), None)
    return () if wheel is None or wheel.url is None else change_links(http, wheel.url)


def _advisories(
    args: argparse.Namespace, http: Http, locks: Sequence[Pylock]
) -> tuple[Callable[[Pylock], Mapping[tuple[str, str], Sequence[str]]] | None, str | None]:
    """The advisory lookup for the summary, when asked (``--vulns``, ``--vuln-db``)."""
    if not (args.vulns or args.vuln_db or args.osv_url):
        return None, None
    from pathlib import Path

    from tumbler.advisories.gate import advisories_for
    from tumbler.advisories.match import match

    pairs = {(p.name, str(p.version)) for lock in locks for p in lock.packages if p.version}
    vuln_db = None if args.vuln_db is None else Path(args.vuln_db)
    database = advisories_for(sorted(pairs), vuln_db=vuln_db, osv_url=args.osv_url, http=http)

    def lookup(pylock: Pylock) -> Mapping[tuple[str, str], list[str]]:
        found: dict[tuple[str, str], list[str]] = {}
        for hit in match(pylock, database):
            found.setdefault((hit.name, hit.version), []).append(hit.id)
        return found

    return lookup, f"{database.origin} (as of {database.date})"
