"""Install-time selection check: which entry and file each package resolves to (I1 to I6).

The algorithm is ``packaging.pylock.Pylock.select``, the spec's steps transcribed. This
module turns its first error into a finding with the rule it breaks, steps past that
package and asks again, so one run reports every selection problem.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.markers import InvalidMarker, UndefinedComparison, UndefinedEnvironmentName
from packaging.pylock import PylockSelectError

from tumbler.findings import Finding, Severity, sort_findings

if TYPE_CHECKING:
    from collections.abc import Collection

    from packaging.pylock import Package, Pylock

    from tumbler.env.targets import Target
    from tumbler.lockfile.artifacts import Artifact

__all__ = ["Selection", "select"]

_AT = re.compile(r"packages\[(\d+)\]")
_MAX_ROUNDS = 10_000


@dataclass(frozen=True, slots=True)
class Selection:
    """The result of selecting for one target: what would be installed, and what fails."""

    target: str
    chosen: tuple[tuple[Package, Artifact], ...]
    findings: tuple[Finding, ...]


def _finding(target: Target, message: str, location: str, rule: str, hint: str) -> Finding:
    return Finding(
        location=location,
        rule=rule,
        severity=Severity.ERROR,
        message=f"[{target.name}] {message}",
        hint=hint,
    )


def _classify(
    message: str, packages: list[Package], original: list[int]
) -> tuple[str, str, str, int | None]:
    """(rule, location, hint, index into ``packages`` to drop) for a select() error."""
    found = [int(i) for i in _AT.findall(message)]
    index = found[0] if found else None
    location = f"packages[{original[index]}]" if index is not None else ""
    if "environments specified in the lock file" in message:
        return "I4", "environments", "install on an environment the lock was made for", None
    if "Multiple packages with the name" in message:
        return "I5c", location, "give each same-name entry a marker so at most one applies", index
    if "Python version requirement" in message:
        if index is None:
            return "I3", "requires-python", "use a Python the lock supports", None
        return "I5b", f"{location}.requires-python", "use a Python this package supports", index
    if "No wheel found" in message:
        package = packages[index] if index is not None else None
        if package is not None and _sourceless(package):
            return "I5d", location, "add the package's files to the lock", index
        return "I6", f"{location}.wheels", "add a wheel for this platform or an sdist", index
    return "I6", location, "", index


def _sourceless(package: Package) -> bool:
    return not any((package.vcs, package.directory, package.archive, package.sdist, package.wheels))


def select(
    pylock: Pylock,
    target: Target,
    *,
    extras: Collection[str] = (),
    dependency_groups: Collection[str] | None = None,
) -> Selection:
    """Select ``pylock`` for ``target`` with the given extras and groups (I1: default groups)."""
    packages = list(pylock.packages)
    original = list(range(len(packages)))
    findings: list[Finding] = []
    for _ in range(_MAX_ROUNDS):
        current = dataclasses.replace(pylock, packages=packages)
        try:
            chosen = tuple(
                current.select(
                    environment=target.environment,  # type: ignore[arg-type]
                    tags=target.tags,
                    extras=extras,
                    dependency_groups=dependency_groups,
                )
            )
        except PylockSelectError as exc:
            message = _AT.sub(lambda m: f"packages[{original[int(m.group(1))]}]", str(exc))
            rule, location, hint, drop = _classify(str(exc), packages, original)
            findings.append(_finding(target, message, location, rule, hint))
            if drop is None:
                return Selection(target.name, (), sort_findings(findings))
            del packages[drop]
            del original[drop]
            continue
        except (UndefinedComparison, UndefinedEnvironmentName, InvalidMarker) as exc:
            findings.append(_finding(target, f"a marker cannot be evaluated: {exc}", "", "R41", ""))
            return Selection(target.name, (), sort_findings(findings))
        return Selection(target.name, chosen, sort_findings(findings))
    return Selection(target.name, (), sort_findings(findings))  # the loop bound was reached
