"""Presentation edge for surfaces: ``tumbler surface`` and ``diff --surface`` as text or JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tumbler.lockfile.tables import SURFACE_VERSION

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tumbler.surface.members import ImportSurface
    from tumbler.surface.pyapi import Symbol
    from tumbler.surface.query import PackageSurface, Upgrade

__all__ = ["surface_json", "surface_text", "upgrades_data", "upgrades_text"]


def _heading(package: PackageSurface) -> str:
    version = f" {package.version}" if package.version else ""
    wheel = f" ({package.wheel})" if package.wheel else ""
    return f"{package.name}{version}{wheel}"


def surface_text(package: PackageSurface, *, names: bool = True) -> str:
    """A package's surfaces: per import package its digest, tokens, names and skips."""
    lines = [_heading(package)]
    if package.missing:
        lines.append(f"  no surface: {package.missing}")
    if not package.surfaces and not package.missing:
        lines.append("  no public import packages")
    for surface in package.surfaces:
        lines += ["", f"{surface.key}"]
        lines.append(f"  surface-sha256: {surface.sha256 or '(empty surface: none)'}")
        lines.append(f"  capabilities:   {', '.join(surface.capabilities) or '(none)'}")
        lines.append(f"  read from:      {surface.source}")
        lines.append(f"  public names:   {len(surface.symbols)}")
        if names:
            lines += [f"    {symbol.line}" for symbol in surface.symbols]
        if surface.skipped:
            lines.append(f"  skipped ({len(surface.skipped)}), not in the digest:")
            lines += [f"    {skip.item}: {skip.reason}" for skip in surface.skipped]
    return "\n".join(lines)


def _surface_json(surface: ImportSurface) -> dict[str, object]:
    return {
        "key": surface.key,
        "import": surface.import_name,
        "surface-sha256": surface.sha256,
        "capabilities": list(surface.capabilities),
        "source": surface.source,
        "symbols": [
            {"name": s.name, "kind": s.kind, "signature": s.signature.strip(), "line": s.line}
            for s in surface.symbols
        ],
        "skipped": [{"item": k.item, "reason": k.reason} for k in surface.skipped],
    }


def surface_json(package: PackageSurface) -> str:
    """A package's surfaces as JSON."""
    return json.dumps(
        {
            "name": package.name,
            "version": package.version,
            "wheel": package.wheel,
            "surface-version": SURFACE_VERSION,
            "missing": package.missing,
            "imports": [_surface_json(s) for s in package.surfaces],
        },
        indent=2,
    )


def _lines(symbols: Sequence[Symbol]) -> list[str]:
    return [s.line for s in symbols]


def upgrades_text(upgrades: Sequence[Upgrade]) -> str:
    """``diff --surface``: per package, the public names added (+), removed (-), changed (~)."""
    if not upgrades:
        return "no package changed version or surface"
    lines: list[str] = []
    for upgrade in upgrades:
        versions = f"{upgrade.old_version or '(none)'} → {upgrade.new_version or '(none)'}"
        lines.append(f"{upgrade.name} {versions}")
        if upgrade.missing:
            lines.append(f"  not compared: {upgrade.missing}")
        elif not upgrade.changes:
            lines.append("  public API unchanged")
        for change in upgrade.changes:
            counts = f"+{len(change.added)} -{len(change.removed)} ~{len(change.changed)}"
            lines.append(f"  {change.key}: {counts}")
            lines += [f"    + {line}" for line in _lines(change.added)]
            lines += [f"    - {line}" for line in _lines(change.removed)]
            for old, new in change.changed:
                lines += [f"    ~ {line}" for line in _lines(new)]
                lines += [f"      was {line}" for line in _lines(old)]
    return "\n".join(lines)


def upgrades_data(upgrades: Sequence[Upgrade]) -> list[dict[str, object]]:
    """``diff --surface`` as JSON-ready values (the ``names`` of ``diff --format json``)."""
    return [
        {
            "name": u.name,
            "old_version": u.old_version,
            "new_version": u.new_version,
            "missing": u.missing,
            "imports": [
                {
                    "key": c.key,
                    "added": _lines(c.added),
                    "removed": _lines(c.removed),
                    "changed": [{"old": _lines(o), "new": _lines(n)} for o, n in c.changed],
                }
                for c in u.changes
            ],
        }
        for u in upgrades
    ]
