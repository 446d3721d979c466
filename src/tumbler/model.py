"""The lock model: ``packaging.pylock`` for the standard, typed views of tumbler's own tables.

The standard's tables are :class:`packaging.pylock.Pylock` and friends, unchanged. tumbler
adds only :class:`TumblerLockTool` (``[tool.tumbler]``) and :class:`TumblerPackageTool`
(``[packages.tool.tumbler]``). Both are advisory: the standard (R18, R38) forbids tool
tables from changing what gets installed, and nothing in tumbler's install path reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tumbler.findings import Finding, Severity

if TYPE_CHECKING:
    from pathlib import Path

    from packaging.pylock import Package, Pylock

    from tumbler.surface import SurfaceEntry

__all__ = ["TOOL_NAME", "Lock", "TumblerLockTool", "TumblerPackageTool", "Unavailable"]

#: The key of tumbler's tables under ``[tool]`` and ``[packages.tool]``.
TOOL_NAME = "tumbler"


def _check(table: Mapping[str, Any], key: str, kind: type, where: str, rule: str) -> list[Finding]:
    value = table.get(key)
    if value is None or (isinstance(value, kind) and (kind is bool or not isinstance(value, bool))):
        return []
    return [
        Finding(
            location=f"{where}.{key}",
            rule=rule,
            severity=Severity.WARNING,
            message=(
                f"tumbler's {key} should be {kind.__name__}, found {type(value).__name__}; ignored"
            ),
            hint="let tumbler rewrite its own table (tumbler lock)",
        )
    ]


@dataclass(frozen=True, slots=True)
class Unavailable:
    """An extra or group a universal lock could not resolve on some environments, which
    keep the rest of the lock (``[[tool.tumbler.unavailable]]``)."""

    #: ``extra`` or ``group``.
    kind: str
    name: str
    #: Where it is unavailable (a marker on the platform and Python); empty: everywhere.
    marker: str
    reason: str


def _unavailable(value: Any) -> tuple[Unavailable, ...]:
    out = []
    for row in value if isinstance(value, list) else ():
        if not isinstance(row, Mapping):
            continue
        kind = "extra" if "extra" in row else "group"
        name, marker, reason = row.get(kind), row.get("marker", ""), row.get("reason", "")
        if isinstance(name, str) and isinstance(marker, str) and isinstance(reason, str):
            out.append(Unavailable(kind, name, marker, reason))
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class TumblerLockTool:
    """``[tool.tumbler]``: how tumbler made this lock, for ``lock --check`` and ``diff``."""

    #: tumbler's version when it wrote the lock.
    version: str | None = None
    #: The recorded inputs, as written (typed by :class:`tumbler.inputs.LockInputs`).
    inputs: Mapping[str, Any] = field(default_factory=dict)
    #: The ``--exclude-newer`` cut-off the lock was made with.
    exclude_newer: datetime | None = None
    #: The version of the surface record's rules, when the lock records surfaces.
    surface_version: int | None = None
    #: Extras and groups some environments of the lock cannot install.
    unavailable: tuple[Unavailable, ...] = ()

    @classmethod
    def parse(
        cls, table: Mapping[str, Any], where: str = "tool.tumbler"
    ) -> tuple[TumblerLockTool, list[Finding]]:
        """A typed view of ``table``; wrongly typed keys are warned about and ignored."""
        problems = [
            *_check(table, "version", str, where, "R18"),
            *_check(table, "inputs", Mapping, where, "R18"),
            *_check(table, "exclude-newer", datetime, where, "R18"),
            *_check(table, "surface-version", int, where, "R18"),
        ]
        bad = {p.location.rsplit(".", 1)[-1] for p in problems}
        inputs = table.get("inputs") if "inputs" not in bad else None
        return (
            cls(
                version=None if "version" in bad else table.get("version"),
                inputs={str(k): v for k, v in (inputs or {}).items()},
                exclude_newer=None if "exclude-newer" in bad else table.get("exclude-newer"),
                surface_version=None if "surface-version" in bad else table.get("surface-version"),
                unavailable=_unavailable(table.get("unavailable")),
            ),
            problems,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class TumblerPackageTool:
    """``[packages.tool.tumbler]``: what tumbler knows of one package beyond the standard."""

    #: Whether the package was asked for directly by the project (not only pulled in).
    direct: bool | None = None
    #: The API surface record: one entry per public import package (``surface.md``).
    surface: tuple[SurfaceEntry, ...] = ()

    @classmethod
    def parse(
        cls, table: Mapping[str, Any], where: str, distribution: str = ""
    ) -> tuple[TumblerPackageTool, list[Finding]]:
        """A typed view of ``table``; wrongly typed keys and malformed surface entries (a
        token outside the vocabulary, ...) are warned about and ignored: the table is
        advisory (R38), so it never stops an install; ``diff`` and ``lock --check`` refuse
        it (:func:`tumbler.surface.entries_of`)."""
        from tumbler.surface import parse_entries

        problems = _check(table, "direct", bool, where, "R38")
        bad = {p.location.rsplit(".", 1)[-1] for p in problems}
        surface: tuple[SurfaceEntry, ...] = ()
        if "surface" in table:
            surface, wrong = parse_entries(table["surface"], distribution, f"{where}.surface")
            problems += [
                Finding(
                    location=location,
                    rule="R38",
                    severity=Severity.WARNING,
                    message=f"tumbler's surface record: {problem}; entry ignored",
                    hint="let tumbler rewrite its own table (tumbler lock --surface)",
                )
                for location, problem in wrong
            ]
        return (
            cls(direct=None if "direct" in bad else table.get("direct"), surface=surface),
            problems,
        )


def _tool_table(tool: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    table = (tool or {}).get(TOOL_NAME)
    return table if isinstance(table, Mapping) else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Lock:
    """A loaded, valid lock file: the standard's model plus where it came from."""

    pylock: Pylock
    #: What the user named (path, ``-``, ``REV:path``).
    origin: str
    path: Path | None = None

    @property
    def tumbler(self) -> TumblerLockTool | None:
        """tumbler's ``[tool.tumbler]`` table, when there is one."""
        table = _tool_table(self.pylock.tool)
        return None if table is None else TumblerLockTool.parse(table)[0]

    @staticmethod
    def package_tumbler(package: Package) -> TumblerPackageTool | None:
        """tumbler's ``[packages.tool.tumbler]`` table of ``package``, when there is one."""
        table = _tool_table(package.tool)
        return None if table is None else TumblerPackageTool.parse(table, "", str(package.name))[0]
