"""Where advisories come from, and which hits refuse an install.

:func:`advisories_for` is the edge: the local OSV data ``--vuln-db`` names, else the OSV
API. :func:`refusals` is pure: malware always refuses; an advisory refuses when its
severity is at or above the level asked for (``any``: every advisory, also one that gives
no severity).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tumbler.advisories.osv import Level
from tumbler.findings import Finding, Severity

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from tumbler.advisories.database import Database
    from tumbler.advisories.match import Hit
    from tumbler.net.http import Http

__all__ = ["advisories_for", "refusals", "refuses"]


def advisories_for(
    packages: Iterable[tuple[str, str]], *, vuln_db: Path | None, osv_url: str | None, http: Http
) -> Database:
    """The advisories for these (name, version) pairs: from ``vuln_db`` when given
    (offline), else asked of the OSV API at ``osv_url`` (or its default)."""
    if vuln_db is not None:
        from tumbler.advisories.database import read_database

        return read_database(vuln_db)
    from tumbler.advisories.query import HttpTransport, query_database
    from tumbler.advisories.query import osv_url as base_url

    return query_database(HttpTransport(http), base_url(osv_url), packages)


def refuses(hit: Hit, level: str) -> bool:
    """Whether ``hit`` refuses an install at ``level`` (``malware``, a severity, ``any``)."""
    if hit.malware or level == "any":
        return True
    if level == "malware" or hit.level is None:
        return False
    return hit.level >= Level[level.upper()]


def _why(hit: Hit) -> str:
    if hit.malware:
        return f"{hit.id} (malware)"
    why = f"{hit.level.label if hit.level else 'unrated'}"
    return f"{hit.id} ({why}, fixed in {hit.fixed[-1]})" if hit.fixed else f"{hit.id} ({why})"


def refusals(hits: Iterable[Hit], level: str) -> tuple[Finding, ...]:
    """One finding per package that refuses the install at ``level`` (one line: every
    refusing advisory of it named, no hint)."""
    by_package: dict[int, list[Hit]] = {}
    for hit in hits:
        if refuses(hit, level):
            by_package.setdefault(hit.index, []).append(hit)
    return tuple(
        Finding(
            location=f"packages[{index}]",
            rule="V2" if any(h.malware for h in found) else "V1",
            severity=Severity.ERROR,
            message=f"{found[0].name} {found[0].version}: {'; '.join(_why(h) for h in found)}",
        )
        for index, found in sorted(by_package.items())
    )
