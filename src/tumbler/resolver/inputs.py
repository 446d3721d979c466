"""Input drift: how the inputs a lock records differ from the project's current ones.

The record is :class:`tumbler.lockfile.tables.LockInputs` (everything that decides what ``tumbler
lock`` produces apart from the indexes' contents). ``lock --check`` compares it first,
offline and without resolving, and says in words what changed (:func:`input_drift`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from tumbler.lockfile.render import datetime_text
from tumbler.lockfile.tables import requirement_name

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from tumbler.lockfile.tables import LockInputs

__all__ = ["input_drift"]


def _normal(text: str) -> str:
    """``text`` as the requirement it means: names and extras normalised, so that
    ``Typer`` and ``typer``, ``pydantic_settings`` and ``pydantic-settings`` are one."""
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return text
    requirement.name = canonicalize_name(requirement.name)
    requirement.extras = {canonicalize_name(e) for e in requirement.extras}
    return str(requirement)


def _exclude_text(moment: datetime | None) -> str | None:
    return None if moment is None else datetime_text(moment)


def _list_drift(old: tuple[str, ...], new: tuple[str, ...], where: str, what: str) -> list[str]:
    lines: list[str] = []
    old_by: dict[str, list[str]] = {}
    new_by: dict[str, list[str]] = {}
    for texts, by in ((old, old_by), (new, new_by)):
        for text in texts:
            by.setdefault(requirement_name(text), []).append(text)
    for name in sorted(old_by.keys() | new_by.keys()):
        before, after = old_by.get(name, []), new_by.get(name, [])
        meant_before = {_normal(t) for t in before}
        meant_after = {_normal(t) for t in after}
        if meant_before == meant_after:
            continue  # the same requirements, spelt otherwise
        if len(before) == 1 and len(after) == 1:
            lines.append(f"{what} {before[0]!r} changed to {after[0]!r} in {where}")
            continue
        # several requirements on one name (one per marker, say): each compared whole
        lines.extend(
            f"{what} {t!r} removed from {where}" for t in before if _normal(t) not in meant_after
        )
        lines.extend(
            f"{what} {t!r} added to {where}" for t in after if _normal(t) not in meant_before
        )
    return lines


def _tables_drift(
    old: Mapping[str, tuple[str, ...]],
    new: Mapping[str, tuple[str, ...]],
    kind: str,
    where: str,
) -> list[str]:
    lines: list[str] = []
    for name in sorted(old.keys() | new.keys()):
        if name not in new:
            lines.append(f"{kind} {name!r} removed")
        elif name not in old:
            lines.append(f"{kind} {name!r} added")
        else:
            lines.extend(_list_drift(old[name], new[name], f"{where}.{name}", "requirement"))
    return lines


def _value(old: object, new: object, label: str) -> list[str]:
    if old == new:
        return []
    return [f"{label} changed from {_shown(old)} to {_shown(new)}"]


def _shown(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "(none)"
    return "(none)" if value in (None, "") else str(value)


def input_drift(recorded: LockInputs, current: LockInputs) -> list[str]:
    """What differs between the recorded and current inputs, one sentence per change."""
    deps_where = "[project.dependencies]" if current.project.endswith(".toml") else current.project
    return [
        *_value(recorded.project, current.project, "the project file"),
        *_value(recorded.requires_python, current.requires_python, "requires-python"),
        *_list_drift(recorded.dependencies, current.dependencies, deps_where, "dependency"),
        *_tables_drift(recorded.extras, current.extras, "extra", "[project.optional-dependencies]"),
        *_tables_drift(recorded.groups, current.groups, "group", "[dependency-groups]"),
        *_value(recorded.default_groups, current.default_groups, "default-groups"),
        *_list_drift(recorded.constraints, current.constraints, "the constraints", "constraint"),
        *_value(recorded.indexes, current.indexes, "the indexes"),
        *_value(
            [f"{k}={v}" for k, v in sorted(recorded.package_indexes.items())],
            [f"{k}={v}" for k, v in sorted(current.package_indexes.items())],
            "the per-package indexes",
        ),
        *_value(recorded.prereleases, current.prereleases, "the pre-release policy"),
        *_value(
            _exclude_text(recorded.exclude_newer),
            _exclude_text(current.exclude_newer),
            "exclude-newer",
        ),
        *_value(recorded.min_release_age, current.min_release_age, "min-release-age"),
        *_value(
            recorded.min_release_age_exempt,
            current.min_release_age_exempt,
            "min-release-age-exempt",
        ),
        *_mode_drift(recorded, current),
        *_value(recorded.no_binary, current.no_binary, "no-binary"),
        *_value(recorded.only_binary, current.only_binary, "only-binary"),
        *_surface_drift(recorded.surface_version, current.surface_version),
        *_attestation_drift(recorded.attestations, current.attestations),
        *_installable_drift(recorded.installable, current.installable),
    ]


def _installable_drift(old: bool, new: bool) -> list[str]:
    """One line when the project became a package (a ``[build-system]``) or stopped being one."""
    if old == new:
        return []
    if new:
        return ["the project has a [build-system] now: the lock does not hold it as a package"]
    return ["the project has no [build-system] any more: the lock still holds it as a package"]


def _mode_drift(recorded: LockInputs, current: LockInputs) -> list[str]:
    """One short line when the lock's mode or a universal lock's environments changed."""
    if recorded.target != current.target:
        return [f"the lock's mode changed from {_shown(recorded.target)} to {current.target}"]
    if recorded.environments != current.environments:
        return [
            "the universal lock's environments changed from "
            f"{_environments_shown(recorded.environments)} to "
            f"{_environments_shown(current.environments)}"
        ]
    return []


def _environments_shown(markers: tuple[str, ...]) -> str:
    return " ; ".join(markers) if markers else "every platform"


def _attestation_drift(old: bool, new: bool) -> list[str]:
    if old == new:
        return []
    if old:
        return [
            "the lock records attestation identities but this run does not: pass "
            "--attestations or set attestations = true in [tool.tumbler]"
        ]
    return ["attestation identities are recorded now (--attestations) but the lock has none"]


def _surface_drift(old: int | None, new: int | None) -> list[str]:
    if old == new:
        return []
    if new is None:
        return [
            f"the lock records API surfaces (surface-version {old}) but this run does not: "
            "pass --surface or set surface = true in [tool.tumbler]"
        ]
    if old is None:
        return ["API surfaces are recorded now (--surface) but the lock has none"]
    return [f"surface-version changed from {old} to {new}: the digests are not compared"]
