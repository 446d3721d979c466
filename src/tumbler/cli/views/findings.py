"""Presentation edge for findings: terminal text, Markdown or JSON.

Pure functions from typed values to strings; the CLI decides where they go and whether
the terminal gets colour.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tumbler.findings import Finding, Severity

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "FileReport",
    "Style",
    "count",
    "database_line",
    "findings_json",
    "findings_markdown",
    "findings_text",
    "md",
]


@dataclass(frozen=True, slots=True)
class Style:
    """ANSI colour, or none."""

    colour: bool = False

    def paint(self, text: str, code: str) -> str:
        """``text`` in SGR ``code`` when colour is on."""
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text


@dataclass(frozen=True, slots=True)
class FileReport:
    """The findings for one file, as validate and audit report them."""

    origin: str
    findings: tuple[Finding, ...]
    #: ``audit --vulns``: where the advisories came from (``source``), their ``date`` and
    #: how many ``records``; None when not asked.
    database: Mapping[str, object] | None = None
    #: More about some findings, as JSON (a vulnerability's ids, fixes, what selects it).
    details: Mapping[Finding, Mapping[str, object]] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        """How many findings are errors."""
        return sum(f.severity is Severity.ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        """How many findings are warnings."""
        return len(self.findings) - self.errors


def count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def database_line(database: Mapping[str, object]) -> str:
    """``vulnerability database: OSV PyPI data at PATH, dated 2025-12-11 (6 records)``."""
    return (
        f"vulnerability database: {database['source']}, dated {database['date']} "
        f"({count(int(str(database['records'])), 'record')})"
    )


def findings_text(reports: Sequence[FileReport], style: Style, *, verdict: str = "valid") -> str:
    """One line per finding (``file: location: error[R34] message``), hints indented."""
    lines: list[str] = []
    for report in reports:
        if report.database is not None:
            lines.append(f"{report.origin}: {database_line(report.database)}")
        for f in report.findings:
            colour = "1;31" if f.severity is Severity.ERROR else "33"
            label = style.paint(f"{f.severity.value}[{f.rule}]", colour)
            where = f"{report.origin}: {f.location}" if f.location else report.origin
            lines.append(f"{where}: {label} {f.message}")
            if f.hint:
                lines.append(f"    hint: {f.hint}")
        counts = f"{count(report.errors, 'error')}, {count(report.warnings, 'warning')}"
        if report.errors:
            lines.append(f"{report.origin}: {style.paint('not ' + verdict, '1;31')} ({counts})")
        else:
            lines.append(f"{report.origin}: {style.paint(verdict, '32')} ({counts})")
    return "\n".join(lines)


def findings_json(reports: Sequence[FileReport], *, verdict: str = "valid") -> str:
    """A JSON document: one object per file with its findings."""
    return json.dumps(
        {
            "files": [
                {
                    "file": r.origin,
                    verdict: r.errors == 0,
                    "errors": r.errors,
                    "warnings": r.warnings,
                    "findings": [_finding_json(f, r) for f in r.findings],
                    **({"database": dict(r.database)} if r.database is not None else {}),
                }
                for r in reports
            ]
        },
        indent=2,
    )


def _finding_json(finding: Finding, report: FileReport) -> dict[str, object]:
    extra = report.details.get(finding)
    return {**finding.to_json(), **({"details": dict(extra)} if extra is not None else {})}


def md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def findings_markdown(reports: Sequence[FileReport], *, verdict: str = "valid") -> str:
    """A Markdown section per file with a table of findings."""
    out: list[str] = []
    for r in reports:
        status = verdict if r.errors == 0 else f"not {verdict}"
        out.append(f"### `{r.origin}`: {status}")
        out.append("")
        if r.database is not None:
            line = md(database_line(r.database))
            out.append(line[0].upper() + line[1:])
            out.append("")
        if not r.findings:
            out.append("No findings.")
            out.append("")
            continue
        out.append("| severity | rule | location | message | hint |")
        out.append("|---|---|---|---|---|")
        for f in r.findings:
            out.append(
                f"| {f.severity.value} | {f.rule} | `{md(f.location)}` | {md(f.message)} "
                f"| {md(f.hint)} |"
            )
        out.append("")
    return "\n".join(out)
