"""Presentation edge for ``tumbler lock``: what the lock now holds and what changed."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tumbler.cli.common import shown_path
from tumbler.cli.views.diff import change_line, counts

if TYPE_CHECKING:
    from tumbler.cli.views.findings import Style
    from tumbler.resolver.workflow import LockOutcome

__all__ = ["lock_json", "lock_text"]


def lock_text(outcome: LockOutcome, style: Style) -> str:
    """One line for the run, one per package that changed (as uv reports), the counts."""
    state = "wrote" if outcome.written else "unchanged:"
    lines = [
        f"locked {outcome.packages} packages for {outcome.target} in "
        f"{outcome.seconds:.2f} s; {state} {shown_path(outcome.path)}"
    ]
    changes = outcome.changes
    width = max((len(c.name) for c in changes), default=0)
    lines += [f"  {change_line(c, style, width)}" for c in changes]
    if changes:
        lines.append(counts(changes))
    elif outcome.fresh:
        lines.append(f"{outcome.packages} added (a new lock)")
    return "\n".join(lines)


def lock_json(outcome: LockOutcome) -> str:
    """``tumbler lock --format json``."""
    return json.dumps(
        {
            "lock": str(outcome.path),
            "written": outcome.written,
            "packages": outcome.packages,
            "target": outcome.target,
            "seconds": round(outcome.seconds, 3),
            "notes": list(outcome.notes),
            "new": outcome.fresh,
            "changes": [
                {
                    "name": c.name,
                    "marker": c.marker,
                    "kind": c.kind.value,
                    "old_version": c.old_version,
                    "new_version": c.new_version,
                }
                for c in outcome.changes
            ],
        },
        indent=2,
    )
