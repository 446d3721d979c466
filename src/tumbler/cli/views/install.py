"""Rendering of install and sync outcomes (terminal text and JSON); no decisions here."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tumbler.cli.common import shown_path
from tumbler.installing.plan import Action

if TYPE_CHECKING:
    from tumbler.cli.views.findings import Style
    from tumbler.installing.pipeline import InstallOutcome, InstallRefused
    from tumbler.installing.plan import Step

__all__ = [
    "outcome_json",
    "outcome_text",
    "refusal_json",
    "verify_text",
]

_SIGN = {
    Action.ADD: "+",
    Action.UPGRADE: "~",
    Action.DOWNGRADE: "~",
    Action.REINSTALL: "~",
    Action.REMOVE: "-",
}
_COLOUR = {"+": "32", "-": "31", "~": "33"}


def _line(step: Step) -> str:
    sign = _SIGN[step.action]
    if step.action is Action.ADD:
        text = f"{step.name}=={step.version}" if step.version else step.name
    elif step.action is Action.REMOVE:
        text = f"{step.name}=={step.installed_version}"
    elif step.action is Action.REINSTALL:
        text = f"{step.name}=={step.version} (reinstall: {step.reason})"
    else:
        text = f"{step.name} {step.installed_version} -> {step.version}"
    source = f" [{step.source}]" if step.source and step.source != "wheel" else ""
    return f" {sign} {text}{source}"


def outcome_text(outcome: InstallOutcome, style: Style) -> str:
    """What changed, one line per distribution, and a summary line."""
    plan = outcome.plan
    counts = plan.counts()
    where = shown_path(outcome.environment)
    changed = plan.changes
    lines = []
    if outcome.created:
        lines.append(f"{'would create' if outcome.dry_run else 'created'} {where}")
    for step in changed:
        line = _line(step)
        if style.colour:
            line = f"\x1b[{_COLOUR[line[1]]}m{line}\x1b[0m"
        lines.append(line)
    installs = counts["add"] + counts["upgrade"] + counts["downgrade"] + counts["reinstall"]
    prefix = "would " if outcome.dry_run else ""
    parts = []
    if installs:
        verb = "install" if outcome.dry_run else "installed"
        parts.append(f"{prefix}{verb} {_count(installs)}")
    if counts["remove"]:
        verb = "remove" if outcome.dry_run else "removed"
        parts.append(f"{prefix}{verb} {counts['remove']}")
    summary = ", ".join(parts) if parts else "nothing to do"
    kept = counts["keep"]
    tail = f"; {kept} already installed" if kept else ""
    chosen = [*(f"extra {e}" for e in outcome.extras), *(f"group {g}" for g in outcome.groups)]
    selected = f" with {', '.join(chosen)}" if chosen else ""
    lines.append(f"{where}: {summary}{tail}{selected} in {outcome.seconds:.2f} s")
    return "\n".join(lines)


def _count(number: int) -> str:
    return f"{number} package{'s' if number != 1 else ''}"


def verify_text(outcome: InstallOutcome) -> str:
    """``--verify``: each difference, then the verdict."""
    where = str(outcome.environment)
    if not outcome.differences:
        return f"{where}: every installed file is as its RECORD says, and as the lock says"
    lines = [f"  {name}: {why}" for name, why in outcome.differences]
    count = len(outcome.differences)
    lines.append(f"{where}: {count} difference{'s' if count != 1 else ''} from the lock")
    return "\n".join(lines)


def outcome_json(outcome: InstallOutcome) -> str:
    """The outcome as a JSON document."""
    return json.dumps(
        {
            "ok": not outcome.differences,
            "differences": [{"path": p, "problem": w} for p, w in outcome.differences],
            "repaired": list(outcome.repaired),
            "environment": str(outcome.environment),
            "python": outcome.python,
            "created": outcome.created,
            "dry_run": outcome.dry_run,
            "extras": list(outcome.extras),
            "groups": list(outcome.groups),
            "counts": outcome.plan.counts(),
            "steps": [s.to_json() for s in outcome.plan.steps],
            "seconds": round(outcome.seconds, 3),
        },
        indent=2,
    )


def refusal_json(refused: InstallRefused) -> str:
    """A refused install as a JSON document."""
    return json.dumps(
        {
            "ok": False,
            "error": str(refused),
            "findings": [f.to_json() for f in refused.findings],
        },
        indent=2,
    )
