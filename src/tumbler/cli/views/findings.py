"""Presentation edge for findings: terminal text, Markdown or JSON.

Pure functions from typed values to strings; the CLI decides where they go and whether
the terminal gets colour.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tumbler.findings import Finding, Severity

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "FileReport",
    "Style",
    "count",
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


def findings_text(reports: Sequence[FileReport], style: Style, *, verdict: str = "valid") -> str:
    """One line per finding (``file: location: error[R34] message``), hints indented."""
    lines: list[str] = []
    for report in reports:
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
                    "findings": [f.to_json() for f in r.findings],
                }
                for r in reports
            ]
        },
        indent=2,
    )


def md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def findings_markdown(reports: Sequence[FileReport], *, verdict: str = "valid") -> str:
    """A Markdown section per file with a table of findings."""
    out: list[str] = []
    for r in reports:
        status = verdict if r.errors == 0 else f"not {verdict}"
        out.append(f"### `{r.origin}`: {status}")
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
