"""Presentation edge for diffs: a terminal table grouped by kind, Markdown, JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tumbler.cli.views.findings import Style, count, md
from tumbler.lockfile.diff import ChangeKind, FieldChange, LockDiff, PackageChange, SurfaceChange

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["change_line", "counts", "diff_json", "diff_markdown", "diff_text", "summary"]


_ORDER = (
    ChangeKind.ADDED,
    ChangeKind.REMOVED,
    ChangeKind.UPGRADED,
    ChangeKind.DOWNGRADED,
    ChangeKind.CHANGED,
)
_SIGN = {
    ChangeKind.ADDED: ("+", "32"),
    ChangeKind.REMOVED: ("-", "31"),
    ChangeKind.UPGRADED: ("↑", "36"),
    ChangeKind.DOWNGRADED: ("↓", "33"),
    ChangeKind.CHANGED: ("~", "35"),
}
_TITLE = {
    ChangeKind.ADDED: "Added",
    ChangeKind.REMOVED: "Removed",
    ChangeKind.UPGRADED: "Upgraded",
    ChangeKind.DOWNGRADED: "Downgraded",
    ChangeKind.CHANGED: "Changed",
}


def _version(change: PackageChange) -> str:
    old, new = change.old_version or "", change.new_version or ""
    if change.kind is ChangeKind.ADDED:
        return new
    if change.kind is ChangeKind.REMOVED:
        return old
    if old != new:
        return f"{old or '(none)'} → {new or '(none)'}"
    return new


def _field_text(f: FieldChange) -> str:
    if f.old is None:
        return f"+ {f.new}"
    if f.new is None:
        return f"- {f.old}"
    return f"{f.old} → {f.new}"


#: Longer ``old → new`` lines are shown as a ``-`` line and a ``+`` line.
_WIDE = 100


def _grouped(fields: Sequence[FieldChange]) -> list[tuple[str, list[FieldChange]]]:
    """Consecutive changes of one field together (a list's items, one per change)."""
    groups: list[tuple[str, list[FieldChange]]] = []
    for f in fields:
        if groups and groups[-1][0] == f.field:
            groups[-1][1].append(f)
        else:
            groups.append((f.field, [f]))
    return groups


def _field_lines(fields: Sequence[FieldChange], indent: str, style: Style) -> list[str]:
    """Each field once, ``field: change``; a list's items and long values one per line
    below it, ``-`` old and ``+`` new."""
    lines: list[str] = []
    for field, changes in _grouped(fields):
        bang = style.paint("!!", "1;31") + " " if any(c.loud for c in changes) else ""
        if len(changes) == 1 and len(f"{indent}{field}: {_field_text(changes[0])}") <= _WIDE:
            lines.append(f"{indent}{bang}{field}: {_field_text(changes[0])}")
            continue
        lines.append(f"{indent}{bang}{field}:")
        for change in changes:
            text = _field_text(change)
            if (
                change.old is not None
                and change.new is not None
                and len(indent) + len(text) > _WIDE
            ):
                lines += [f"{indent}    - {change.old}", f"{indent}    + {change.new}"]
            else:
                lines.append(f"{indent}    {text}")
    return lines


def change_line(change: PackageChange, style: Style, width: int = 0) -> str:
    """``+ tenacity  9.2.1``, ``↑ rich  13.9.4 → 14.1.0  ; python_version >= '3.10'``."""
    sign, colour = _SIGN[change.kind]
    marker = f"  ; {change.marker}" if change.marker else ""
    return f"{style.paint(sign, colour)} {change.name:<{width}}  {_version(change)}{marker}"


def counts(changes: Sequence[PackageChange]) -> str:
    """``1 added, 1 upgraded``, in the order kinds are listed."""
    return ", ".join(
        f"{n} {kind.value}" for kind in _ORDER if (n := sum(c.kind is kind for c in changes))
    )


def summary(diff: LockDiff) -> str:
    """``2 added, 1 upgraded, …`` or ``no changes``."""
    parts = [counts(diff.packages)] if diff.packages else []
    if diff.lock:
        parts.append(count(len(_grouped(diff.lock)), "lock field") + " changed")
    if diff.surfaces:
        parts.append(count(len(diff.surfaces), "API surface change"))
    loud = sum(c.loud for c in diff.packages)
    if loud:
        parts.append(f"{loud} with a changed file hash or publisher")
    return ", ".join(parts) or "no changes"


def diff_text(diff: LockDiff, old: str, new: str, style: Style) -> str:
    """The diff as a terminal table grouped by kind."""
    lines = [f"{style.paint('tumbler diff', '1')} {old} → {new}: {summary(diff)}"]
    if diff.lock:
        lines += ["", style.paint("Lock", "1")]
        lines += _field_lines(diff.lock, "  ", style)
    width = max((len(c.name) for c in diff.packages), default=0)
    for kind in _ORDER:
        changes = diff.of_kind(kind)
        if not changes:
            continue
        sign, colour = _SIGN[kind]
        lines += ["", style.paint(f"{_TITLE[kind]} ({len(changes)})", "1")]
        for change in changes:
            marker = f"  ; {change.marker}" if change.marker else ""
            flag = style.paint("  !! file hash or publisher changed", "1;31") if change.loud else ""
            name = f"{change.name:<{width}}"
            lines.append(f"  {style.paint(sign, colour)} {name}  {_version(change)}{marker}{flag}")
            lines += _field_lines(change.fields, "      ", style)
    if diff.surfaces:
        lines += ["", style.paint(f"API surface ({len(diff.surfaces)})", "1")]
        lines += [f"  {_surface_line(c)}" for c in diff.surfaces]
    return "\n".join(lines)


def _surface_line(change: SurfaceChange) -> str:
    """``changed httpx:httpx (surface-sha256,capabilities: +async)``."""
    details = list(change.fields)
    if "capabilities" in change.fields and change.old is not None and change.new is not None:
        old, new = set(change.old.capabilities), set(change.new.capabilities)
        moved = [f"+{t}" for t in sorted(new - old)] + [f"-{t}" for t in sorted(old - new)]
        details[details.index("capabilities")] = f"capabilities: {' '.join(moved)}"
    return f"{change.kind.value} {change.key}" + (f" ({','.join(details)})" if details else "")


#: Sections with more rows than this are folded (``<details>``) in Markdown.
_FOLD = 10


def _md_change(changes: Sequence[FieldChange]) -> str:
    return "<br>".join(f"{'⚠️ ' if c.loud else ''}{md(_field_text(c))}" for c in changes)


def _folded(title: str, rows: list[str], *, header: int = 2) -> list[str]:
    """A section: a heading and its rows (after ``header`` rows: a table's head), folded
    under a summary when long."""
    if len(rows) - header <= _FOLD:
        return ["", f"#### {title}", "", *rows]
    return ["", "<details>", f"<summary><b>{title}</b></summary>", "", *rows, "", "</details>"]


def diff_markdown(diff: LockDiff, old: str, new: str) -> str:
    """The diff as a Markdown PR comment: the summary, then a section per kind (long
    ones folded), every list item on its own line."""
    lines = [f"### Lock file changes: `{old}` → `{new}`", "", f"**{summary(diff)}**"]
    if any(c.loud for c in diff.packages):
        lines += [
            "",
            "> [!WARNING]",
            "> A file kept its name but changed its hash or size, or a publisher identity "
            "changed. Check these before merging.",
        ]
    if diff.lock:
        rows = ["| lock field | change |", "|---|---|"]
        rows += [
            f"| `{md(field)}` | {_md_change(changes)} |" for field, changes in _grouped(diff.lock)
        ]
        lines += _folded(f"Lock ({len(rows) - 2})", rows)
    for kind in _ORDER:
        changes = diff.of_kind(kind)
        if not changes:
            continue
        rows = ["| package | version | marker | details |", "|---|---|---|---|"]
        for change in changes:
            details = "<br>".join(
                f"`{md(field)}`: {_md_change(group)}" for field, group in _grouped(change.fields)
            )
            rows.append(
                f"| {'⚠️ ' if change.loud else ''}`{change.name}` | {md(_version(change))} "
                f"| {md(change.marker or '')} | {details} |"
            )
        lines += _folded(f"{_TITLE[kind]} ({len(changes)})", rows)
    if diff.surfaces:
        lines += _folded(
            f"API surface ({len(diff.surfaces)})",
            [f"- {md(_surface_line(c))}" for c in diff.surfaces],
        )
    return "\n".join(lines) + "\n"


def _entry_json(entry: object) -> dict[str, object] | None:
    from tumbler.lockfile.tables import SurfaceEntry

    if not isinstance(entry, SurfaceEntry):
        return None
    return {"sha256": entry.sha256, "capabilities": list(entry.capabilities)}


def _field_json(f: FieldChange) -> dict[str, object]:
    return {"field": f.field, "old": f.old, "new": f.new, "loud": f.loud}


def diff_json(diff: LockDiff, old: str, new: str, *, names: object = None) -> str:
    """The diff as JSON; ``names`` (``diff --surface``'s public names) added when given."""
    document: dict[str, object] = {
        "old": old,
        "new": new,
        "equal": diff.equal,
        "summary": {k.value: len(diff.of_kind(k)) for k in _ORDER},
        "lock": [_field_json(f) for f in diff.lock],
        "packages": [
            {
                "name": c.name,
                "marker": c.marker,
                "kind": c.kind.value,
                "old_version": c.old_version,
                "new_version": c.new_version,
                "loud": c.loud,
                "fields": [_field_json(f) for f in c.fields],
            }
            for c in diff.packages
        ],
        "surfaces": [
            {
                "key": c.key,
                "kind": c.kind.value,
                "fields": list(c.fields),
                "old": _entry_json(c.old),
                "new": _entry_json(c.new),
            }
            for c in diff.surfaces
        ],
    }
    if names is not None:
        document["names"] = names
    return json.dumps(document, indent=2)
