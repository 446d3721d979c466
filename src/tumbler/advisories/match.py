"""A lock's packages against advisories: findings V1 (known vulnerability) and V2 (malware).

Pure: a lock and a :class:`~tumbler.advisories.database.Database` in, typed hits out.
Records that name each other (a PYSEC record and its GHSA alias) are one hit, with every
id, the union of their fixes and the highest severity. Each hit says which installs of
the lock select the package: ``all environments``, ``extra viz``, ``group dev``, and the
package's marker when only some environments the lock supports take it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.markers import UndefinedComparison, UndefinedEnvironmentName
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tumbler.advisories.osv import Level, affects, fixed_versions
from tumbler.env.targets import PLATFORMS, marker_environment
from tumbler.findings import Finding, Severity

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from packaging.markers import Marker
    from packaging.pylock import Package, Pylock

    from tumbler.advisories.database import Database
    from tumbler.advisories.osv import Advisory

__all__ = ["RULES", "Hit", "hit_finding", "match", "selected_by"]

#: tumbler's vulnerability rules: id → what it flags.
RULES = {
    "V1": "a package version with a known vulnerability (OSV advisory)",
    "V2": "a package version reported as malware (OSV MAL- record)",
    "V3": "an ignore of an advisory in [tool.tumbler] ignore-vulnerabilities has expired",
}
#: Python versions tried when asking which environments select a package.
_PYTHONS = tuple(f"3.{minor}" for minor in range(8, 16))
#: Id prefixes in the order one is preferred as a merged hit's name.
_PREFERRED = ("MAL-", "GHSA-", "PYSEC-", "CVE-")


@dataclass(frozen=True, slots=True, kw_only=True)
class Hit:
    """One advisory (records naming each other merged) matching one locked package."""

    #: The package's index in the lock's ``packages``.
    index: int
    name: str
    version: str
    id: str
    #: The other ids (CVE, GHSA, PYSEC, …), sorted.
    aliases: tuple[str, ...]
    summary: str
    #: Releases that fix it, lowest first; empty when none is known.
    fixed: tuple[str, ...]
    level: Level | None
    score: float | None
    malware: bool
    #: Which installs of the lock select the package (``extra viz``, ``group dev``, …).
    selected_by: tuple[str, ...]

    @property
    def rule(self) -> str:
        """``V2`` for malware, else ``V1``."""
        return "V2" if self.malware else "V1"

    @property
    def ids(self) -> frozenset[str]:
        """The id and every alias, upper-cased (what an ignore may name)."""
        return frozenset(i.upper() for i in (self.id, *self.aliases))

    def to_json(self) -> dict[str, object]:
        """The hit as a JSON-ready mapping."""
        return {
            "package": self.name,
            "version": self.version,
            "id": self.id,
            "aliases": list(self.aliases),
            "summary": self.summary,
            "fixed": list(self.fixed),
            "severity": self.level.label if self.level is not None else None,
            "score": self.score,
            "malware": self.malware,
            "selected_by": list(self.selected_by),
        }


# --- which installs select a package --------------------------------------------------------


def _environments(pylock: Pylock) -> list[dict[str, str]]:
    """A CPython environment per platform and minor Python the lock supports."""
    requires = pylock.requires_python or SpecifierSet()
    out = []
    for platform in PLATFORMS:
        for python in _PYTHONS:
            if not requires.contains(f"{python}.0", prereleases=True) and not requires.contains(
                f"{python}.99", prereleases=True
            ):
                continue
            env = marker_environment(platform, python)
            if not pylock.environments or any(_holds(m, env) for m in pylock.environments):
                out.append(env)
    return out


def _holds(marker: Marker, env: Mapping[str, object], *, lock: bool = False) -> bool:
    context = "lock_file" if lock else "requirement"
    try:
        return marker.evaluate(dict(env), context=context)  # type: ignore[arg-type]
    except (UndefinedComparison, UndefinedEnvironmentName):
        return False


def _count(
    marker: Marker, envs: Sequence[dict[str, str]], extras: set[str], groups: set[str]
) -> int:
    """In how many of ``envs`` the marker holds with these extras and groups."""
    chosen = {"extras": extras, "dependency_groups": groups}
    return sum(_holds(marker, {**env, **chosen}, lock=True) for env in envs)


def selected_by(pylock: Pylock, package: Package) -> tuple[str, ...]:
    """Which installs take ``package``: ``all environments``, ``some environments``,
    ``extra NAME``, ``group NAME`` (``(default)`` for a default group), and ``marker TEXT``
    when the answer depends on the environment; ``no supported environment`` when none."""
    marker = package.marker
    if marker is None:
        return ("all environments",)
    envs = _environments(pylock)
    total = len(envs)
    defaults = {str(g) for g in pylock.default_groups or ()}
    base = _count(marker, envs, set(), set())
    counts = [base]
    parts = [] if not base else ["all environments" if base == total else "some environments"]
    for extra in sorted(str(e) for e in pylock.extras or ()):
        found = _count(marker, envs, {extra}, set())
        if found and not base:
            parts.append(f"extra {extra}")
            counts.append(found)
    for group in sorted(str(g) for g in pylock.dependency_groups or ()):
        found = _count(marker, envs, set(), {group})
        if found and not base:
            parts.append(f"group {group}{' (default)' if group in defaults else ''}")
            counts.append(found)
    if not parts:
        return ("no supported environment", f"marker {marker}")
    if any(0 < c < total for c in counts):
        parts.append(f"marker {marker}")
    return tuple(parts)


# --- matching -------------------------------------------------------------------------------


def _groups(advisories: Iterable[Advisory]) -> list[list[Advisory]]:
    """Advisories whose ids or aliases overlap, together (in first-seen order)."""
    groups: list[tuple[set[str], list[Advisory]]] = []
    for advisory in advisories:
        names = {advisory.id.upper(), *(a.upper() for a in advisory.aliases)}
        joined = [g for g in groups if g[0] & names]
        merged_names = names.union(*(g[0] for g in joined))
        merged = [a for g in joined for a in g[1]] + [advisory]
        groups = [g for g in groups if g not in joined] + [(merged_names, merged)]
    return [members for _, members in groups]


def _preference(advisory: Advisory) -> tuple[int, int, str]:
    rank = next((i for i, p in enumerate(_PREFERRED) if advisory.id.upper().startswith(p)), 9)
    rated = advisory.rating is not None and advisory.rating.level is not None
    return (0 if advisory.malware else 1, 0 if rated else 1, f"{rank}{advisory.id}")


def _version_key(text: str) -> tuple[int, Version | str]:
    try:
        return (0, Version(text))
    except ValueError:  # InvalidVersion, or more digits than int() takes
        return (1, text)


def _hit(index: int, package: Package, members: list[Advisory], selection: tuple[str, ...]) -> Hit:
    name, version = str(package.name), str(package.version)
    primary = min(members, key=_preference)
    ids = {a.id for a in members} | {alias for a in members for alias in a.aliases}
    ratings = [a.rating for a in members if a.rating is not None and a.rating.level is not None]
    worst = max(ratings, key=lambda r: (r.level or 0, r.score or 0.0), default=None)
    fixed = {f for a in members for f in fixed_versions(a, name, version)}
    summary = primary.title or next((a.title for a in members if a.title), "")
    return Hit(
        index=index,
        name=name,
        version=version,
        id=primary.id,
        aliases=tuple(sorted(ids - {primary.id})),
        summary=summary,
        fixed=tuple(sorted(fixed, key=_version_key)),
        level=worst.level if worst is not None else None,
        score=worst.score if worst is not None else None,
        malware=any(a.malware for a in members),
        selected_by=selection,
    )


def match(pylock: Pylock, database: Database) -> tuple[Hit, ...]:
    """Every advisory in ``database`` affecting a package version the lock can install."""
    hits: list[Hit] = []
    for index, package in enumerate(pylock.packages):
        if package.version is None:
            continue  # a directory or VCS entry without a version has no release to match
        name, version = str(package.name), str(package.version)
        found = [a for a in database.advisories_for(name) if affects(a, name, version)]
        if not found:
            continue
        selection = selected_by(pylock, package)
        hits.extend(_hit(index, package, group, selection) for group in _groups(found))
    return tuple(hits)


# --- as findings ----------------------------------------------------------------------------


def _rating_text(hit: Hit) -> str:
    if hit.level is None:
        return "severity not given"
    score = f" {hit.score:.1f}" if hit.score is not None else ""
    return f"severity {hit.level.label}{score}"


def _hint(hit: Hit) -> str:
    if hit.malware:
        return (
            f"remove {hit.name} from the project and re-lock; treat machines that installed it "
            "as compromised (rotate their credentials)"
        )
    if hit.fixed:
        return f"upgrade {hit.name} to {hit.fixed[-1]} or later"
    return (
        f"no fixed release is known: replace or remove {hit.name}, or ignore {hit.id} in "
        "[tool.tumbler] ignore-vulnerabilities with a reason and an expiry date"
    )


def hit_finding(hit: Hit) -> Finding:
    """The hit as a finding on ``packages[i]`` (an error: audit exits 1)."""
    aliases = f" ({', '.join(hit.aliases)})" if hit.aliases else ""
    kind = "malware" if hit.malware else _rating_text(hit)
    return Finding(
        location=f"packages[{hit.index}]",
        rule=hit.rule,
        severity=Severity.ERROR,
        message=(
            f"{hit.name} {hit.version}: {hit.id}{aliases}: {hit.summary} [{kind}]; "
            f"selected by: {', '.join(hit.selected_by)}"
        ),
        hint=_hint(hit),
    )
