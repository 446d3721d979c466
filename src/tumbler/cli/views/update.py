"""``tumbler update``'s review summary (:class:`~tumbler.resolver.update.UpdateSummary`)
as Markdown for a pull request body, JSON, and terminal text."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tumbler.resolver.update import PackageUpdate, UpdateSummary

__all__ = ["summary_json", "summary_markdown", "summary_text"]

_ARROWS = {"upgraded": "↑", "downgraded": "↓", "added": "+", "removed": "-", "changed": "~"}


def _age(update: PackageUpdate, summary: UpdateSummary) -> str:
    days = update.age_days(summary.now)
    if days is None or update.released is None:
        return "unknown"
    when = update.released.date().isoformat()
    return f"{when} ({days} day{'s' if days != 1 else ''} ago)"


def _move(update: PackageUpdate) -> str:
    if update.old and update.new:
        return f"{update.old} → {update.new}"
    return update.new or update.old or ""


def _advisory_cell(update: PackageUpdate) -> str:
    parts = [f"fixes {i}" for i in update.fixed] + [f"**brings {i}**" for i in update.introduced]
    return ", ".join(parts) or "—"


def _head(summary: UpdateSummary) -> str:
    count = len(summary.packages)
    return f"{count} package{'s' if count != 1 else ''} updated in `{summary.lock}`"


def summary_markdown(summary: UpdateSummary) -> str:
    """The summary as a pull request body."""
    if not summary.updated:
        return f"Nothing to update in `{summary.lock}`.\n"
    lines = [f"## tumbler update: {_head(summary)}", ""]
    lines += ["| package | change | released | advisories |", "|---|---|---|---|"]
    for update in summary.packages:
        lines.append(
            f"| `{update.name}` | {_ARROWS.get(update.kind, '')} {_move(update)} | "
            f"{_age(update, summary)} | {_advisory_cell(update)} |"
        )
    lines.append("")
    for update in summary.packages:
        details = _details(update)
        if details:
            lines += [f"### {update.name} {_move(update)}", "", *details, ""]
    if summary.advisories:
        lines += [f"Advisories from {summary.advisories}.", ""]
    lines += [f"Note: {note}" for note in summary.notes]
    return "\n".join(lines)


def _details(update: PackageUpdate) -> list[str]:
    lines = [f"- API surface: {line}" for line in update.surface]
    lines += [f"- publisher identity: {line}" for line in update.identities]
    lines += [f"- advisory fixed: {i}" for i in update.fixed]
    lines += [f"- **advisory brought in: {i}**" for i in update.introduced]
    lines += [f"- [{label}]({url})" for label, url in update.links]
    return lines


def summary_text(summary: UpdateSummary) -> str:
    """The summary for a terminal, one line per package."""
    if not summary.updated:
        return f"nothing to update in {summary.lock}"
    lines = [_head(summary).replace("`", "")]
    for update in summary.packages:
        extra = [f"released {_age(update, summary)}"]
        extra += [f"fixes {i}" for i in update.fixed] + [f"brings {i}" for i in update.introduced]
        extra += [f"surface {line}" for line in update.surface]
        extra += [f"identity {line}" for line in update.identities]
        lines.append(
            f"  {_ARROWS.get(update.kind, '')} {update.name} {_move(update)} ({'; '.join(extra)})"
        )
    lines += [f"note: {note}" for note in summary.notes]
    return "\n".join(lines)


def summary_json(summary: UpdateSummary) -> str:
    """The summary as JSON."""
    return json.dumps(
        {
            "lock": summary.lock,
            "updated": summary.updated,
            "advisories": summary.advisories,
            "notes": list(summary.notes),
            "packages": [
                {
                    "name": u.name,
                    "kind": u.kind,
                    "old": u.old,
                    "new": u.new,
                    "released": None if u.released is None else u.released.isoformat(),
                    "age_days": u.age_days(summary.now),
                    "fixed": list(u.fixed),
                    "introduced": list(u.introduced),
                    "surface": list(u.surface),
                    "identities": list(u.identities),
                    "links": [{"label": label, "url": url} for label, url in u.links],
                }
                for u in summary.packages
            ],
        },
        indent=2,
    )
