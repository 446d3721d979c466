"""A cooldown: no file younger than a cut-off, absolute (a date) or relative (``7 days``).

``--exclude-newer`` and ``[tool.tumbler] exclude-newer`` take a date or time
(``2025-01-31``, RFC 3339) or a span before now: ``7 days``, ``1 week``, ``36h``
(pytimeparse's forms) or ISO 8601 (``P7D``, ``PT36H``; months and years have no fixed
length and are refused). ``[tool.tumbler] min-release-age`` says the same as a relative
``exclude-newer``; ``min-release-age-exempt`` lists names and glob patterns
(``acme-*``) the cut-off does not apply to (a company's own packages, a fix that cannot
wait).

A relative cut-off becomes an absolute one when a lock is made (:meth:`Cooldown.cutoff`);
the lock records that moment, and re-locking without an upgrade keeps it, so the same
inputs give the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from tumbler.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Cooldown", "exempt_patterns", "parse_span", "pattern", "span_text"]


#: The longest span taken: a century (more is a typo, and overflows dates).
_LONGEST = 100 * 366 * 86400


def parse_span(text: str, where: str, *, dates: bool = True) -> timedelta:
    """``7 days``, ``1 week``, ``36h``, ``P7D`` as a positive span of at most a century
    (``dates``: whether the message names dates as the other choice)."""
    value = text.strip()
    seconds: float | None
    if value[:1] in ("P", "p"):
        import isodate

        try:
            parsed = isodate.parse_duration(value.upper())
        except (isodate.ISO8601Error, ValueError, OverflowError):
            parsed = None
        if isinstance(parsed, isodate.Duration):
            raise InputError(
                f"{where}: {text!r}: months and years have no fixed length; give days (P30D)"
            )
        seconds = None if parsed is None else parsed.total_seconds()
    else:
        from pytimeparse.timeparse import timeparse as parse

        seconds = parse(value) if value else None
    if seconds is None:
        choices = "a date (2025-01-31), an RFC 3339 time or " if dates else ""
        raise InputError(
            f"{where}: {text[:80]!r} is not {choices}a span before now (7 days, 1 week, 36h, P7D)"
        )
    if not 0 < seconds <= _LONGEST:
        raise InputError(
            f"{where}: {text[:80]!r}: a span is more than nothing and at most a century"
        )
    return timedelta(seconds=seconds)


def span_text(span: timedelta) -> str:
    """A span as ISO 8601 (``P7D``, ``P1DT12H``): how a lock records it."""
    days, rest = span.days, int(span.total_seconds()) - span.days * 86400
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    return "P" + (f"{days}D" if days or not time else "") + (f"T{time}" if time else "")


@dataclass(frozen=True, slots=True, kw_only=True)
class Cooldown:
    """The cut-off a project asks for: ``at`` a moment or ``span`` before now; names and
    patterns it does not apply to."""

    at: datetime | None = None
    span: timedelta | None = None
    exempt: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "exempt", tuple(pattern(p) for p in self.exempt))

    @property
    def active(self) -> bool:
        """Whether there is a cut-off at all."""
        return self.at is not None or self.span is not None

    def cutoff(self, now: datetime, kept: datetime | None = None) -> datetime | None:
        """The absolute cut-off for a lock made at ``now``: ``at``; or ``now - span``,
        unless the lock being remade recorded one (``kept``), which is kept."""
        if self.at is not None:
            return self.at
        if self.span is None:
            return None
        if kept is not None:
            return kept
        return (now - self.span).replace(microsecond=0)

    def exempts(self, name: str) -> bool:
        """Whether the cut-off does not apply to ``name``."""
        normal = canonicalize_name(name)
        return any(fnmatchcase(normal, pattern) for pattern in self.exempt)

    def text(self) -> str | None:
        """How the lock records what was asked (``P7D``, or the moment)."""
        if self.span is not None:
            return span_text(self.span)
        return None if self.at is None else self.at.isoformat().replace("+00:00", "Z")


def pattern(text: str) -> str:
    """A name or glob pattern, normalised as names are (``Acme_*`` is ``acme-*``)."""
    return "*".join(canonicalize_name(part) if part else "" for part in text.split("*"))


def exempt_patterns(values: Iterable[object], where: str) -> tuple[str, ...]:
    """``min-release-age-exempt``'s entries: names and glob patterns."""
    out = []
    for value in values:
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{where}: expected package names or glob patterns (acme-*)")
        out.append(value.strip())
    return tuple(out)
