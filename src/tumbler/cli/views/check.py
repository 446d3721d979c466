"""The gate's verdict (:class:`~tumbler.resolver.check.CheckResult`) as terminal text,
Markdown for a CI summary, or JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tumbler.resolver.check import CheckResult

__all__ = ["check_json", "check_markdown", "check_text"]


def check_text(result: CheckResult) -> str:
    """The verdict for a terminal."""
    if result.ok:
        return f"{result.lock} is up to date"
    lines = [f"{result.lock} is out of date"]
    if result.inputs:
        lines.append("inputs changed:")
        lines.extend(f"  {line}" for line in result.inputs)
    if result.content:
        lines.append("content changed:")
        lines.extend(f"  {drift}" for drift in result.content)
    if result.skipped:
        lines.append(f"content not compared: {result.skipped}")
    if result.policy:
        lines.append("policy broken:")
        lines.extend(f"  {line}" for line in result.policy)
    lines.append("run 'tumbler lock' to update it")
    return "\n".join(lines)


def check_markdown(result: CheckResult) -> str:
    """The verdict as Markdown, for a CI summary."""
    if result.ok:
        return f"✅ `{result.lock}` is up to date\n"
    lines = [f"❌ `{result.lock}` is out of date", ""]
    if result.inputs:
        lines += ["**Inputs changed**", ""]
        lines += [f"- {line}" for line in result.inputs]
        lines.append("")
    if result.content:
        lines += ["**Content changed**", "", "| change | package | fields |", "|---|---|---|"]
        lines += [f"| {d.kind} | `{d.subject}` | {', '.join(d.fields)} |" for d in result.content]
        lines.append("")
    if result.skipped:
        lines += [f"Content not compared: {result.skipped}", ""]
    if result.policy:
        lines += ["**Policy broken**", ""]
        lines += [f"- {line}" for line in result.policy]
        lines.append("")
    lines.append("Run `tumbler lock` to update it.")
    return "\n".join(lines) + "\n"


def check_json(result: CheckResult) -> str:
    """The verdict as JSON."""
    return json.dumps(
        {
            "lock": result.lock,
            "up_to_date": result.ok,
            "inputs": list(result.inputs),
            "content": [
                {"kind": d.kind, "subject": d.subject, "fields": list(d.fields)}
                for d in result.content
            ],
            "skipped": result.skipped,
            "method": result.method,
            "unrecorded": list(result.unrecorded),
            "doubts": list(result.doubts),
            "policy": list(result.policy),
        },
        indent=2,
    )
