"""Typed findings: what validate, audit and select report, as values.

A :class:`Finding` names the place in the file (``packages[3].wheels[0].hashes``),
the rule of ``pep751-checklist.md`` it breaks (``R34``) or tumbler's own lint id
(``A1``), a message and a hint for the fix. Rendering happens at the CLI edge.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

__all__ = ["Finding", "Severity", "has_errors", "sort_findings", "strict"]


class Severity(enum.Enum):
    """How bad a finding is. Errors make ``validate`` exit 1; warnings only under ``--strict``."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, kw_only=True, order=True)
class Finding:
    """One problem found in a lock file."""

    #: Where in the file, as a dotted path (``packages[3].wheels[0]``); ``""`` for the file.
    location: str
    #: The checklist rule (``R1``…``R46``, ``I1``…``I11``) or tumbler's lint id (``A1``…).
    rule: str
    severity: Severity
    message: str
    #: What to do about it, one sentence.
    hint: str = ""

    def to_json(self) -> dict[str, str]:
        """The finding as a JSON-ready mapping."""
        return {
            "severity": self.severity.value,
            "rule": self.rule,
            "location": self.location,
            "message": self.message,
            "hint": self.hint,
        }


def strict(findings: tuple[Finding, ...]) -> tuple[Finding, ...]:
    """Turn every warning into an error (``--strict``)."""
    return tuple(replace(f, severity=Severity.ERROR) for f in findings)


def has_errors(findings: tuple[Finding, ...]) -> bool:
    """Whether any finding is an error."""
    return any(f.severity is Severity.ERROR for f in findings)


def _location_key(location: str) -> tuple[tuple[int, int | str], ...]:
    # "packages[10].wheels[2]" sorts after "packages[9]": compare indexes as numbers.
    parts: list[tuple[int, int | str]] = []
    for segment in location.replace("]", "").replace("[", ".").split("."):
        parts.append((0, int(segment)) if segment.isdecimal() else (1, segment))
    return tuple(parts)


def sort_findings(findings: list[Finding] | tuple[Finding, ...]) -> tuple[Finding, ...]:
    """Findings in file order: by location (numeric indexes), then rule, then message."""
    return tuple(
        sorted(set(findings), key=lambda f: (_location_key(f.location), f.rule, f.message))
    )
