"""The inputs a lock was made from, recorded in ``[tool.tumbler]``, and input drift.

:class:`LockInputs` is everything that decides what ``tumbler lock`` produces apart from
the indexes' contents: requirements per table, ``requires-python``, indexes, options and
the target. ``lock --check`` compares the recorded inputs with the project's current
ones first, offline and without resolving, and says in words what changed
(:func:`input_drift`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from tumbler.render import datetime_text

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from tumbler.project import Project

__all__ = ["LockInputs", "input_drift"]


def _texts(requirements: Iterable[Requirement]) -> tuple[str, ...]:
    return tuple(sorted({str(r) for r in requirements}, key=lambda t: (_name(t), t)))


def _name(text: str) -> str:
    try:
        return canonicalize_name(Requirement(text).name)
    except InvalidRequirement:
        return text


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


@dataclass(frozen=True, slots=True, kw_only=True)
class LockInputs:
    """What a lock was made from (all strings, as recorded)."""

    project: str
    requires_python: str | None = None
    dependencies: tuple[str, ...] = ()
    extras: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    default_groups: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    indexes: tuple[str, ...] = ()
    package_indexes: Mapping[str, str] = field(default_factory=dict)
    prereleases: str = "if-necessary"
    exclude_newer: datetime | None = None
    #: The lock's mode: ``universal``, or the one target it is for (``linux-x86_64-3.12``).
    target: str = ""
    #: The ``environments`` a universal lock was asked for (none: every platform).
    environments: tuple[str, ...] = ()
    #: The surface record's rules version when surfaces are recorded (``--surface``).
    surface_version: int | None = None
    #: Whether publisher identities are recorded (``--attestations``).
    attestations: bool = False
    #: Packages (or ``:all:``) locked without wheels / without sdists.
    no_binary: tuple[str, ...] = ()
    only_binary: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        project: Project,
        *,
        relative_path: str,
        indexes: Iterable[str],
        target: str,
        exclude_newer: datetime | None,
        prereleases: str,
        environments: Iterable[str] = (),
        surface_version: int | None = None,
        attestations: bool = False,
        no_binary: Iterable[str] = (),
        only_binary: Iterable[str] = (),
    ) -> LockInputs:
        """The inputs of locking ``project`` with these settings."""
        return cls(
            project=relative_path,
            requires_python=None
            if project.requires_python is None
            else str(project.requires_python),
            dependencies=_texts(project.dependencies),
            extras={str(k): _texts(v) for k, v in sorted(project.extras.items())},
            groups={str(k): _texts(v) for k, v in sorted(project.groups.items())},
            default_groups=tuple(sorted(project.default_groups)),
            constraints=_texts(project.constraints),
            indexes=tuple(indexes),
            package_indexes=dict(sorted(project.settings.package_indexes.items())),
            prereleases=prereleases,
            exclude_newer=exclude_newer,
            target=target,
            environments=tuple(environments),
            surface_version=surface_version,
            attestations=attestations,
            no_binary=tuple(no_binary),
            only_binary=tuple(only_binary),
        )

    def table(self) -> dict[str, Any]:
        """The ``[tool.tumbler]`` table (keys without a value left out)."""
        return _pruned(
            {
                "project": self.project,
                "requires-python": self.requires_python,
                "target": self.target,
                "environments": list(self.environments) or None,
                "indexes": list(self.indexes) or None,
                "package-indexes": dict(self.package_indexes) or None,
                "prereleases": self.prereleases,
                "exclude-newer": self.exclude_newer,
                "default-groups": list(self.default_groups),
                "surface-version": self.surface_version,
                "attestations": True if self.attestations else None,
                "no-binary": list(self.no_binary) or None,
                "only-binary": list(self.only_binary) or None,
                "inputs": {
                    "dependencies": list(self.dependencies),
                    "constraints": list(self.constraints) or None,
                    "extras": {k: list(v) for k, v in self.extras.items()} or None,
                    "groups": {k: list(v) for k, v in self.groups.items()} or None,
                },
            }
        )

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> LockInputs | None:
        """The inputs recorded in a ``[tool.tumbler]`` table, or None if there are none."""
        inputs = table.get("inputs")
        if not isinstance(inputs, dict) or "project" not in table:
            return None

        def strings(value: Any) -> tuple[str, ...]:
            return tuple(str(v) for v in value) if isinstance(value, list) else ()

        def tables(value: Any) -> dict[str, tuple[str, ...]]:
            return {str(k): strings(v) for k, v in value.items()} if isinstance(value, dict) else {}

        exclude = table.get("exclude-newer")
        package_indexes = table.get("package-indexes")
        return cls(
            project=str(table["project"]),
            requires_python=table.get("requires-python"),
            dependencies=strings(inputs.get("dependencies")),
            extras=tables(inputs.get("extras")),
            groups=tables(inputs.get("groups")),
            default_groups=strings(table.get("default-groups")),
            constraints=strings(inputs.get("constraints")),
            indexes=strings(table.get("indexes")),
            package_indexes={str(k): str(v) for k, v in package_indexes.items()}
            if isinstance(package_indexes, dict)
            else {},
            prereleases=str(table.get("prereleases", "if-necessary")),
            exclude_newer=exclude if isinstance(exclude, datetime) else None,
            target=_mode(table.get("target")),
            environments=strings(table.get("environments")),
            surface_version=surface
            if isinstance(surface := table.get("surface-version"), int)
            else None,
            attestations=table.get("attestations") is True,
            no_binary=strings(table.get("no-binary")),
            only_binary=strings(table.get("only-binary")),
        )


def _mode(recorded: Any) -> str:
    """The recorded mode; a universal lock of an older tumbler recorded its markers too."""
    text = str(recorded or "")
    return "universal" if text.startswith("universal") else text


def _pruned(table: dict[str, Any]) -> dict[str, Any]:
    return {k: _pruned(v) if isinstance(v, dict) else v for k, v in table.items() if v is not None}


def _exclude_text(moment: datetime | None) -> str | None:
    return None if moment is None else datetime_text(moment)


def _list_drift(old: tuple[str, ...], new: tuple[str, ...], where: str, what: str) -> list[str]:
    lines: list[str] = []
    old_by: dict[str, list[str]] = {}
    new_by: dict[str, list[str]] = {}
    for texts, by in ((old, old_by), (new, new_by)):
        for text in texts:
            by.setdefault(_name(text), []).append(text)
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
        *_mode_drift(recorded, current),
        *_value(recorded.no_binary, current.no_binary, "no-binary"),
        *_value(recorded.only_binary, current.only_binary, "only-binary"),
        *_surface_drift(recorded.surface_version, current.surface_version),
        *_attestation_drift(recorded.attestations, current.attestations),
    ]


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
