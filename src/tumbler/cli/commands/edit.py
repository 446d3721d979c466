"""`tumbler add REQ...` and `tumbler remove NAME...`: edit pyproject.toml, then lock.

The project file keeps its comments and layout outside the edited array
(:mod:`tumbler.project.edit`); the lock keeps every other pin; the report is the edit and
what the lock changed. When locking fails, the project file is put back as it was and
the lock is not touched (:func:`tumbler.resolver.workflow.run_edit`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from tumbler.cli.common import (
    EXIT_OK,
    cache_options,
    emit,
    index_options,
    output_options,
    progress,
    style,
)

if TYPE_CHECKING:
    import argparse

    from tumbler.project.edit import Edit

__all__ = ["arguments", "run"]


def arguments(parser: argparse.ArgumentParser) -> None:
    """``add``'s and ``remove``'s options."""
    adding = parser.prog.endswith(" add")
    parser.add_argument(
        "items",
        nargs="+",
        metavar="REQ" if adding else "NAME",
        help="requirements to add (a requirement for a listed project replaces it: 'rich>=14')"
        if adding
        else "projects to remove",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--extra", metavar="NAME", help="in this extra (optional dependencies)")
    where.add_argument("--group", metavar="NAME", help="in this dependency group (PEP 735)")
    parser.add_argument(
        "--project",
        metavar="PATH",
        default=".",
        help="pyproject.toml, or its directory (default: .)",
    )
    index_options(parser)
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    cache_options(parser)
    output_options(parser, ("text", "json"))


def run(args: argparse.Namespace) -> int:
    """Edit the project, lock it, and say what changed."""
    from pathlib import Path

    from tumbler.project.edit import Place, add_requirements, remove_requirements
    from tumbler.project.pyproject import parse_cutoff
    from tumbler.resolver.workflow import LockOptions, run_edit

    place = Place(extra=args.extra, group=args.group)
    items = tuple(args.items)
    adding = args.command == "add"

    def edit(text: str, origin: str) -> Edit:
        if adding:
            return add_requirements(text, items, place, origin=origin)
        return remove_requirements(text, items, place, origin=origin)

    options = LockOptions(
        project=Path(args.project),
        index_url=args.index_url,
        extra_index_urls=tuple(args.extra_index_url or ()),
        exclude_newer=None
        if args.exclude_newer is None
        else parse_cutoff(args.exclude_newer, "--exclude-newer"),
        cache_dir=None if args.cache_dir is None else Path(args.cache_dir),
        offline=args.offline,
        progress=progress(args.quiet),
    )
    changed, outcome = run_edit(options, edit)
    if args.format == "json":
        import json

        from tumbler.cli.views.lock import lock_json

        document = json.loads(lock_json(outcome))
        document["edit"] = {
            "where": str(place),
            "added": list(changed.added),
            "replaced": [list(pair) for pair in changed.replaced],
            "removed": list(changed.removed),
        }
        emit(json.dumps(document, indent=2))
    elif not args.quiet:
        from tumbler.cli.views.lock import lock_text

        lines = [f"{place}: + {r}" for r in changed.added]
        lines += [f"{place}: {old} → {new}" for old, new in changed.replaced]
        lines += [f"{place}: - {r}" for r in changed.removed]
        if not lines:
            lines = [f"{place}: already as asked"]
        print("\n".join([*lines, lock_text(outcome, style(args.color))]), file=sys.stderr)
    for note in outcome.notes:
        print(f"tumbler: note: {note}", file=sys.stderr)
    return EXIT_OK
