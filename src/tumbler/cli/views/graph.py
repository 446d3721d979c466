"""Presentation edge for ``why`` and ``tree``: chains and trees of lock entries."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tumbler.lockfile.graph import Branch, Chain, Entry, Root

__all__ = ["tree_json", "tree_text", "why_json", "why_text"]


def why_text(name: str, chains: list[Chain]) -> str:
    """``gamma 0.6 ← delta 1.0 ← delta (from [project.dependencies])``, one per root."""
    if not chains:
        return f"{name}: nothing the project asks for needs it"
    lines = []
    for chain in chains:
        steps = [str(e) for e in reversed(chain.entries)]
        lines.append(" ← ".join([*steps, f"{chain.root.requirement} (from {chain.root.origin})"]))
    return "\n".join(lines)


def _entry(entry: Entry) -> dict[str, object]:
    return {"name": entry.name, "version": entry.version, "marker": entry.marker}


def _root(root: Root) -> dict[str, str]:
    return {"origin": root.origin, "requirement": root.requirement}


def why_json(name: str, chains: list[Chain]) -> str:
    """``tumbler why --format json``."""
    return json.dumps(
        {
            "name": name,
            "chains": [
                {"root": _root(c.root), "entries": [_entry(e) for e in c.entries]} for c in chains
            ],
        },
        indent=2,
    )


def _lines(branches: list[Branch] | tuple[Branch, ...], prefix: str) -> list[str]:
    out = []
    for n, node in enumerate(branches):
        last = n == len(branches) - 1
        mark = " (*)" if node.repeated else ""
        out.append(f"{prefix}{'└── ' if last else '├── '}{node.entry}{mark}")
        out += _lines(node.children, prefix + ("    " if last else "│   "))
    return out


def tree_text(roots: list[tuple[Root, list[Branch]]]) -> str:
    """Each root's requirement and origin, then its entries as a tree; ``(*)``: shown
    above already."""
    lines = []
    for root, branches in roots:
        lines.append(f"{root.requirement} (from {root.origin})")
        lines += _lines(branches, "")
    if any(" (*)" in line for line in lines):
        lines.append("(*) shown above")
    return "\n".join(lines)


def _branch(node: Branch) -> dict[str, object]:
    return {
        **_entry(node.entry),
        "repeated": node.repeated,
        "dependencies": [_branch(c) for c in node.children],
    }


def tree_json(roots: list[tuple[Root, list[Branch]]]) -> str:
    """``tumbler tree --format json``."""
    return json.dumps(
        [{**_root(root), "entries": [_branch(b) for b in branches]} for root, branches in roots],
        indent=2,
    )
