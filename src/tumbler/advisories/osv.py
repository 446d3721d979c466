"""One OSV record (https://ossf.github.io/osv-schema/) as a typed, frozen value.

Only what tumbler reports and matches is kept: the id and aliases, a summary, the PyPI
packages it affects (``ECOSYSTEM`` and ``SEMVER`` ranges, compared as PEP 440 versions, and
explicit ``versions`` lists; ``GIT`` ranges name commits and are skipped), and a severity:
a CVSS v4 or v3 vector scored with the ``cvss`` library, else the qualitative
``database_specific.severity`` GitHub's advisories carry. ``MAL-`` records are malware.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from tumbler.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

__all__ = [
    "Advisory",
    "Affected",
    "Event",
    "Level",
    "Rating",
    "affects",
    "fixed_versions",
    "parse_advisory",
]

#: Range types whose events are package versions (``GIT`` events are commits).
_VERSION_RANGES = frozenset({"ECOSYSTEM", "SEMVER"})
_EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")


class Level(enum.IntEnum):
    """Qualitative severity, in CVSS's bands (GitHub calls *medium* "moderate")."""

    LOW = 1
    MODERATE = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        """``low``, ``moderate``, ``high`` or ``critical``."""
        return self.name.lower()

    @classmethod
    def of_score(cls, score: float) -> Level | None:
        """The band of a CVSS base score (0.0 is *none*: no level)."""
        if score >= 9.0:
            return cls.CRITICAL
        if score >= 7.0:
            return cls.HIGH
        if score >= 4.0:
            return cls.MODERATE
        return cls.LOW if score > 0 else None

    @classmethod
    def of_name(cls, name: str) -> Level | None:
        """``LOW``/``MODERATE``/``MEDIUM``/``HIGH``/``CRITICAL`` (any case), else None."""
        text = name.strip().upper()
        return cls.MODERATE if text == "MEDIUM" else cls.__members__.get(text)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rating:
    """How bad an advisory says it is."""

    level: Level | None
    #: The CVSS base score, when a vector was given and could be scored.
    score: float | None = None
    #: The CVSS vector (``CVSS:3.1/AV:N/...``), when given.
    vector: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One event of a range: ``introduced``, ``fixed``, ``last_affected`` or ``limit``."""

    kind: str
    version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Affected:
    """The versions of one PyPI package an advisory covers."""

    name: NormalizedName
    #: Each version range's events, in the record's order.
    ranges: tuple[tuple[Event, ...], ...] = ()
    #: Versions listed one by one.
    versions: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, kw_only=True)
class Advisory:
    """An OSV record, as far as matching and reporting need it."""

    id: str
    aliases: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    modified: datetime | None = None
    #: Set when the record was withdrawn: it then matches nothing.
    withdrawn: datetime | None = None
    affected: tuple[Affected, ...] = ()
    #: ``severity`` entries as (type, score text), and ``database_specific.severity``:
    #: scored only when asked (:attr:`rating`), since a database holds thousands of
    #: vectors and an audit shows a few.
    severity: tuple[tuple[str, str], ...] = ()
    named_severity: str | None = None

    @property
    def rating(self) -> Rating | None:
        """CVSS v4, then v3 (scored), else the database's own severity name."""
        return _rating(self.severity, self.named_severity)

    @property
    def malware(self) -> bool:
        """Whether this is a malicious-package report (OSV's ``MAL-`` ids)."""
        return self.id.upper().startswith("MAL-")

    @property
    def title(self) -> str:
        """The summary, else the first line of the details (at most 120 characters)."""
        text = self.summary.strip() or next(
            (line.strip() for line in self.details.splitlines() if line.strip()), ""
        )
        return text if len(text) <= 120 else text[:119].rstrip() + "…"


# --- parsing ------------------------------------------------------------------------------


def _fail(origin: str, message: str) -> InputError:
    return InputError(f"{origin}: not an OSV record: {message}")


def _text(data: Mapping[str, object], key: str, origin: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise _fail(origin, f"{key!r} is not a string")
    return value


def _time(data: Mapping[str, object], key: str, origin: str) -> datetime | None:
    text = _text(data, key, origin)
    if not text:
        return None
    try:
        # Python 3.11 reads at most 6 fractional digits; OSV writes up to 9.
        head, dot, rest = text.replace("Z", "+00:00").partition(".")
        if dot:
            digits = len(rest) - len(rest.lstrip("0123456789"))
            rest = rest[:digits][:6] + rest[digits:]
        moment = datetime.fromisoformat(head + dot + rest)
    except ValueError:
        raise _fail(origin, f"{key} {text!r} is not an RFC 3339 time") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _objects(value: object, key: str, origin: str) -> list[Mapping[str, object]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _fail(origin, f"{key!r} is not a list of tables")
    return value


def _strings(value: object, key: str, origin: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(origin, f"{key!r} is not a list of strings")
    return tuple(value)


def _events(raw: Mapping[str, object], origin: str) -> tuple[Event, ...]:
    events: list[Event] = []
    for event in _objects(raw.get("events"), "events", origin):
        for kind in _EVENT_KINDS:
            value = event.get(kind)
            if isinstance(value, str):
                events.append(Event(kind=kind, version=value))
    return tuple(events)


def _affected(raw: Mapping[str, object], origin: str) -> Affected | None:
    """One ``affected`` entry, or None when it is not a PyPI package."""
    package = raw.get("package")
    if not isinstance(package, dict) or package.get("ecosystem") != "PyPI":
        return None
    name = package.get("name")
    if not isinstance(name, str) or not name:
        raise _fail(origin, "an affected PyPI package has no name")
    ranges = tuple(
        _events(r, origin)
        for r in _objects(raw.get("ranges"), "ranges", origin)
        if r.get("type") in _VERSION_RANGES
    )
    versions = frozenset(_strings(raw.get("versions"), "versions", origin))
    return Affected(name=canonicalize_name(name), ranges=ranges, versions=versions)


def _cvss_score(kind: str, vector: str) -> float | None:
    """The base score of a CVSS v3 or v4 vector, or None when it cannot be scored."""
    from cvss import CVSS3, CVSS4
    from cvss.exceptions import CVSSError

    try:
        scored = CVSS4(vector) if kind == "CVSS_V4" else CVSS3(vector)
    except (CVSSError, ValueError, KeyError):
        return None
    return float(scored.base_score)


@functools.lru_cache(maxsize=4096)
def _rating(severity: tuple[tuple[str, str], ...], named: str | None) -> Rating | None:
    """CVSS v4, then v3 (scored), else ``database_specific.severity``."""
    entries = dict(severity)
    for kind in ("CVSS_V4", "CVSS_V3"):
        vector = entries.get(kind)
        if vector:
            score = _cvss_score(kind, vector)
            if score is not None:
                return Rating(level=Level.of_score(score), score=score, vector=vector)
    if named is not None and Level.of_name(named) is not None:
        return Rating(level=Level.of_name(named))
    return None


def _severity(data: Mapping[str, object], origin: str) -> tuple[tuple[str, str], ...]:
    return tuple(
        (str(e.get("type")), str(e.get("score", "")))
        for e in _objects(data.get("severity"), "severity", origin)
    )


def _named_severity(data: Mapping[str, object]) -> str | None:
    specific = data.get("database_specific")
    named = specific.get("severity") if isinstance(specific, dict) else None
    return named if isinstance(named, str) else None


def parse_advisory(data: object, origin: str) -> Advisory:
    """An OSV record (decoded JSON) as an :class:`Advisory`; ``origin`` names it in errors."""
    if not isinstance(data, dict):
        raise _fail(origin, "not a JSON object")
    ident = _text(data, "id", origin)
    if not ident:
        raise _fail(origin, "no 'id'")
    affected = (_affected(a, origin) for a in _objects(data.get("affected"), "affected", origin))
    return Advisory(
        id=ident,
        aliases=_strings(data.get("aliases"), "aliases", origin),
        summary=_text(data, "summary", origin),
        details=_text(data, "details", origin),
        modified=_time(data, "modified", origin),
        withdrawn=_time(data, "withdrawn", origin),
        affected=tuple(a for a in affected if a is not None),
        severity=_severity(data, origin),
        named_severity=_named_severity(data),
    )


# --- matching one version -----------------------------------------------------------------


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except ValueError:  # InvalidVersion, or more digits than int() takes
        return None


def _sorted_events(events: tuple[Event, ...]) -> list[tuple[Version, Event]]:
    """Events in version order, ``introduced: "0"`` first; unreadable versions dropped."""
    out: list[tuple[Version, Event]] = []
    for event in events:
        found = Version("0") if event.version == "0" else _version(event.version)
        if found is not None and event.kind != "limit":
            out.append((found, event))
    return sorted(out, key=lambda pair: pair[0])


def _in_range(events: tuple[Event, ...], version: Version) -> bool:
    """OSV's evaluation of one range: introduced opens it, fixed (exclusive) and
    last_affected (inclusive) close it; the events are walked in version order."""
    affected = False
    for at, event in _sorted_events(events):
        if event.kind == "introduced" and version >= at:
            affected = True
        elif (event.kind == "fixed" and version >= at) or (
            event.kind == "last_affected" and version > at
        ):
            affected = False
    return affected


def _listed(versions: frozenset[str], text: str, version: Version | None) -> bool:
    if text in versions:
        return True
    return version is not None and any(_version(v) == version for v in versions)


def _entries(advisory: Advisory, name: str) -> Iterator[Affected]:
    key = canonicalize_name(name)
    return (a for a in advisory.affected if a.name == key)


def affects(advisory: Advisory, name: str, version: str) -> bool:
    """Whether ``name`` at ``version`` is affected (never, once the record is withdrawn)."""
    if advisory.withdrawn is not None:
        return False
    parsed = _version(version)
    for entry in _entries(advisory, name):
        if _listed(entry.versions, version, parsed):
            return True
        if parsed is not None and any(_in_range(r, parsed) for r in entry.ranges):
            return True
    return False


def fixed_versions(advisory: Advisory, name: str, version: str) -> tuple[str, ...]:
    """The releases that fix ``name`` ``version``: for each range it falls in, the first
    ``fixed`` event above it (in version order)."""
    parsed = _version(version)
    if parsed is None:
        return ()
    found: set[tuple[Version, str]] = set()
    for entry in _entries(advisory, name):
        for events in entry.ranges:
            if not _in_range(events, parsed):
                continue
            fixes = [(at, e.version) for at, e in _sorted_events(events) if e.kind == "fixed"]
            above = [pair for pair in fixes if pair[0] > parsed]
            if above:
                found.add(above[0])
    return tuple(text for _, text in sorted(found))
