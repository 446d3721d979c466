"""Findings as SARIF 2.1.0, for code-scanning upload (``audit --format sarif``).

One run, tool driver ``tumbler`` with a rule per rule id found; one result per finding,
located in its lock file, at the line of the package's ``[[packages]]`` entry when the
finding is about a package. Pure: reports and lock texts in, a JSON string out.
"""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING
from urllib.parse import quote

from tumbler.findings import Severity
from tumbler.version import __version__

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from tumbler.cli.views.findings import FileReport
    from tumbler.findings import Finding

__all__ = ["SARIF_SCHEMA", "findings_sarif", "package_lines"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_PACKAGES_HEADER = re.compile(r"^\s*\[\[\s*packages\s*\]\]\s*(#.*)?$")
_PACKAGE_AT = re.compile(r"^packages\[(\d+)\]")
#: Short descriptions of tumbler's own rule families; others are named by id.
_FAMILIES = {
    "R": "breaks a rule of the lock-file standard (PEP 751)",
    "I": "the standard's install-time selection fails",
    "A": "a lint a reviewer should see (tumbler audit)",
}
_VULN_RULES = {
    "V1": "a package version with a known vulnerability (OSV advisory)",
    "V2": "a package version reported as malware (OSV MAL- record)",
    "V3": "an ignore in [tool.tumbler] ignore-vulnerabilities has expired",
}


def package_lines(text: str) -> dict[int, int]:
    """Package index → the 1-based line of its ``[[packages]]`` header in a lock's text."""
    headers = (n for n, line in enumerate(text.splitlines(), 1) if _PACKAGES_HEADER.match(line))
    return dict(enumerate(headers))


def _uri(origin: str) -> str:
    """A relative path as a URI reference (``/`` separators, escaped); absolute ones as
    ``file:`` URIs."""
    if PureWindowsPath(origin).is_absolute() and not origin.startswith("/"):
        return "file:///" + quote(PureWindowsPath(origin).as_posix())
    path = PurePosixPath(origin.replace("\\", "/"))
    return ("file://" if path.is_absolute() else "") + quote(str(path))


def _description(rule: str) -> str:
    return _VULN_RULES.get(rule) or _FAMILIES.get(rule[:1], f"tumbler rule {rule}")


def _rules(reports: Sequence[FileReport]) -> list[dict[str, object]]:
    seen: dict[str, Finding] = {}
    for report in reports:
        for finding in report.findings:
            seen.setdefault(finding.rule, finding)
    return [
        {
            "id": rule,
            "shortDescription": {"text": _description(rule)},
            **({"help": {"text": first.hint}} if first.hint else {}),
        }
        for rule, first in sorted(seen.items())
    ]


def _location(finding: Finding, origin: str, lines: Mapping[int, int]) -> dict[str, object]:
    physical: dict[str, object] = {"artifactLocation": {"uri": _uri(origin)}}
    found = _PACKAGE_AT.match(finding.location)
    if found is not None and int(found.group(1)) in lines:
        physical["region"] = {"startLine": lines[int(found.group(1))]}
    location: dict[str, object] = {"physicalLocation": physical}
    if finding.location:
        location["logicalLocations"] = [{"fullyQualifiedName": finding.location}]
    return location


def _result(
    finding: Finding, report: FileReport, lines: Mapping[int, int], rule_index: int
) -> dict[str, object]:
    text = finding.message + (f" (hint: {finding.hint})" if finding.hint else "")
    result: dict[str, object] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": "error" if finding.severity is Severity.ERROR else "warning",
        "message": {"text": text},
        "locations": [_location(finding, report.origin, lines)],
    }
    details = report.details.get(finding)
    if details is not None:
        result["properties"] = dict(details)
    return result


def findings_sarif(reports: Sequence[FileReport], texts: Mapping[str, str] | None = None) -> str:
    """A SARIF 2.1.0 log of every finding; ``texts`` maps a report's origin to its lock's
    text (for line numbers)."""
    rules = _rules(reports)
    index = {str(rule["id"]): i for i, rule in enumerate(rules)}
    results: list[dict[str, object]] = []
    for report in reports:
        lines = package_lines((texts or {}).get(report.origin, ""))
        results.extend(_result(f, report, lines, index[f.rule]) for f in report.findings)
    run: dict[str, object] = {
        "tool": {
            "driver": {
                "name": "tumbler",
                "version": __version__,
                "rules": rules,
            }
        },
        "results": results,
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2)
