"""Accepted advisories: ``[tool.tumbler] ignore-vulnerabilities`` in the project beside a lock.

An ignore names an advisory by its id or any alias, says why, and until when::

    [tool.tumbler]
    ignore-vulnerabilities = [
        { id = "GHSA-9wx4-h78v-vm56", reason = "we never pass verify=False", until = 2027-01-31 },
    ]

Until that day (inclusive) it silences the advisory; after it the ignore silences nothing
and is itself a finding (V3), so an acceptance is looked at again. Reading and checking the
entries is :mod:`tumbler.project.pyproject`'s (a bad entry is an input error).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tumbler.findings import Finding, Severity

if TYPE_CHECKING:
    from datetime import date
    from pathlib import Path

    from tumbler.advisories.match import Hit
    from tumbler.project.pyproject import Settings, VulnerabilityIgnore

__all__ = ["Triage", "apply_ignores", "project_settings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Triage:
    """Hits after the ignores: what is still reported, what was silenced, what expired."""

    kept: tuple[Hit, ...]
    ignored: tuple[tuple[Hit, VulnerabilityIgnore], ...] = ()
    #: One V3 finding per expired ignore.
    expired: tuple[Finding, ...] = ()


def _expired_finding(ignore: VulnerabilityIgnore, index: int, origin: str) -> Finding:
    return Finding(
        location="",
        rule="V3",
        severity=Severity.WARNING,
        message=(
            f"{origin}: tool.tumbler.ignore-vulnerabilities[{index}]: the ignore of {ignore.id} "
            f"expired on {ignore.until.isoformat()} (reason given: {ignore.reason})"
        ),
        hint="upgrade past the advisory and drop the ignore, or review it and set a new date",
    )


def apply_ignores(
    hits: tuple[Hit, ...], ignores: tuple[VulnerabilityIgnore, ...], today: date, origin: str
) -> Triage:
    """Silence each hit an ignore still in force names; every expired ignore is a V3
    finding (``origin`` names the file it is in) and silences nothing (pure)."""
    live = [i for i in ignores if i.until >= today]
    kept: list[Hit] = []
    ignored: list[tuple[Hit, VulnerabilityIgnore]] = []
    for hit in hits:
        match = next((i for i in live if i.id.upper() in hit.ids), None)
        if match is None:
            kept.append(hit)
        else:
            ignored.append((hit, match))
    expired = tuple(
        _expired_finding(ignore, index, origin)
        for index, ignore in enumerate(ignores)
        if ignore.until < today
    )
    return Triage(kept=tuple(kept), ignored=tuple(ignored), expired=expired)


def project_settings(lock: Path) -> tuple[Settings, Path | None]:
    """The ``[tool.tumbler]`` settings of the ``pyproject.toml`` beside ``lock`` and its
    path; defaults and None when there is none."""
    from tumbler.project.pyproject import Settings, read_settings

    path = lock.resolve().parent / "pyproject.toml"
    if not path.is_file():
        return Settings(), None
    return read_settings(path), path
