"""tumbler's own tables in a lock, as typed values: the one reader and writer of
``[tool.tumbler]`` and ``[packages.tool.tumbler]``.

* :class:`LockInputs` — what a lock was made from (requirements, mode, options; the gate
  compares them), and :class:`Unavailable` — extras a universal lock could not resolve
  somewhere; :class:`TumblerLockTool` is the whole ``[tool.tumbler]`` table.
* :class:`SurfaceEntry` — the API surface record (``surface.md``): its rules version, its
  token vocabulary, and :func:`entries_of` / :func:`with_surface` to read and write it.
* :class:`TumblerPackageTool` — the whole ``[packages.tool.tumbler]`` table.

Both tables are advisory (R18, R38): nothing here decides what gets installed. Wrongly
typed keys are warnings at their place, never errors.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from packaging.utils import NormalizedName

from tumbler.errors import InputError
from tumbler.findings import Finding, Severity

if TYPE_CHECKING:
    from collections.abc import Iterable

    from packaging.pylock import Package, Pylock
    from packaging.requirements import Requirement

    from tumbler.project.pyproject import Project

__all__ = [
    "SURFACE_VERSION",
    "TOKENS",
    "TOOL_NAME",
    "LockInputs",
    "SurfaceEntry",
    "TumblerLockTool",
    "TumblerPackageTool",
    "Unavailable",
    "entries_of",
    "lock_tool",
    "package_tool",
    "parse_entries",
    "recorded_inputs",
    "requirement_name",
    "tool_table",
    "with_surface",
    "without_surface",
]

#: The dependency group a developer's install selects by default (the PEP 735 convention
#: uv follows); a package project's own editable entry comes with it.
DEV_GROUP = NormalizedName("dev")

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


def tool_table(
    inputs: LockInputs, unavailable: Iterable[Unavailable] = ()
) -> dict[str, dict[str, Any]]:
    """A lock's ``tool`` value holding its ``[tool.tumbler]``: the recorded inputs and
    the extras unavailable somewhere."""
    table = inputs.table()
    rows = [{row.kind: row.name, "marker": row.marker, "reason": row.reason} for row in unavailable]
    if rows:
        table["unavailable"] = rows
    return {TOOL_NAME: table}


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
    #: The recorded inputs, as written (typed by :class:`tumbler.resolver.inputs.LockInputs`).
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
        it (:func:`entries_of`)."""
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


# --- the recorded inputs ----------------------------------------------------------


def _texts(requirements: Iterable[Requirement]) -> tuple[str, ...]:
    return tuple(sorted({str(r) for r in requirements}, key=lambda t: (requirement_name(t), t)))


def requirement_name(text: str) -> str:
    """The normalised project name of a requirement's text (the text when it is not one)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    try:
        return canonicalize_name(Requirement(text).name)
    except InvalidRequirement:
        return text


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
    #: A relative cut-off as asked (``P7D``): ``exclude_newer`` is the moment it was when
    #: the lock was made, kept by a re-lock without an upgrade.
    min_release_age: str | None = None
    #: Names and glob patterns the cut-off does not apply to.
    min_release_age_exempt: tuple[str, ...] = ()
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
    #: Whether the project itself is locked (an editable entry: it has a build system).
    installable: bool = False

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
        min_release_age: str | None = None,
        min_release_age_exempt: Iterable[str] = (),
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
            min_release_age=min_release_age,
            min_release_age_exempt=tuple(min_release_age_exempt),
            target=target,
            environments=tuple(environments),
            surface_version=surface_version,
            attestations=attestations,
            no_binary=tuple(no_binary),
            only_binary=tuple(only_binary),
            installable=project.buildable,
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
                "min-release-age": self.min_release_age,
                "min-release-age-exempt": list(self.min_release_age_exempt) or None,
                "default-groups": list(self.default_groups),
                "surface-version": self.surface_version,
                "attestations": True if self.attestations else None,
                "no-binary": list(self.no_binary) or None,
                "only-binary": list(self.only_binary) or None,
                "installable": True if self.installable else None,
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
            min_release_age=age if isinstance(age := table.get("min-release-age"), str) else None,
            min_release_age_exempt=strings(table.get("min-release-age-exempt")),
            target=_mode(table.get("target")),
            environments=strings(table.get("environments")),
            surface_version=surface
            if isinstance(surface := table.get("surface-version"), int)
            else None,
            attestations=table.get("attestations") is True,
            no_binary=strings(table.get("no-binary")),
            only_binary=strings(table.get("only-binary")),
            installable=table.get("installable") is True,
        )


def _mode(recorded: Any) -> str:
    """The recorded mode; a universal lock of an older tumbler recorded its markers too."""
    text = str(recorded or "")
    return "universal" if text.startswith("universal") else text


def _pruned(table: dict[str, Any]) -> dict[str, Any]:
    return {k: _pruned(v) if isinstance(v, dict) else v for k, v in table.items() if v is not None}


# --- API surfaces -----------------------------------------------------------------


#: The version of the canonical text's rules; recorded as ``surface-version`` in
#: ``[tool.tumbler]``: digests made under other rules are never compared.
SURFACE_VERSION = 1

#: The closed vocabulary of capability tokens (``surface.md``).
TOKENS = frozenset(
    {
        "async",
        "callable",
        "constant",
        "dataclass",
        "list",
        "map",
        "optional",
        "protocol",
        "set",
        "stream",
        "sum",
        "tuple",
        "typevar",
    }
)


@dataclass(frozen=True, slots=True, order=True)
class SurfaceEntry:
    """One recorded entry: ``<distribution>:<import>`` with its digest and tokens."""

    distribution: str
    import_name: str
    sha256: str | None
    capabilities: tuple[str, ...]

    @property
    def key(self) -> str:
        """``beautifulsoup4:bs4``."""
        return f"{self.distribution}:{self.import_name}"


_HEX = re.compile(r"^[0-9a-f]{64}$")


def parse_entries(
    items: object, distribution: str, where: str
) -> tuple[tuple[SurfaceEntry, ...], list[tuple[str, str]]]:
    """The entries of a ``surface`` array, and ``(location, problem)`` for each malformed
    one (left out), such as a token outside the vocabulary."""
    if not isinstance(items, list):
        return (), [(where, "expected an array of tables")]
    out: list[SurfaceEntry] = []
    problems: list[tuple[str, str]] = []
    for index, item in enumerate(items):
        at = f"{where}[{index}]"
        problem = _entry_problem(item, at)
        if problem is not None:
            problems.append(problem)
            continue
        assert isinstance(item, Mapping)
        tokens = tuple(sorted(set(item.get("capabilities", []))))
        out.append(SurfaceEntry(distribution, item["import"], item.get("sha256"), tokens))
    return tuple(out), problems


def _entry_problem(item: object, at: str) -> tuple[str, str] | None:
    if not isinstance(item, Mapping) or not isinstance(item.get("import"), str):
        return at, "expected a table with an 'import' name"
    unknown = sorted(set(item) - {"import", "sha256", "capabilities"})
    if unknown:
        return at, f"unknown key {unknown[0]!r}"
    digest = item.get("sha256")
    if digest is not None and (not isinstance(digest, str) or not _HEX.match(digest)):
        return f"{at}.sha256", "expected 64 lower-case hex digits"
    tokens = item.get("capabilities", [])
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        return f"{at}.capabilities", "expected an array of strings"
    for token in tokens:
        if token not in TOKENS:
            return (
                f"{at}.capabilities",
                f"{token!r} is not a capability token "
                f"(the vocabulary: {', '.join(sorted(TOKENS))})",
            )
    return None


def entries_of(package: Package, where: str) -> tuple[SurfaceEntry, ...]:
    """The surface entries recorded for ``package`` (at ``where``, e.g. ``packages[3]``);
    anything malformed, such as a token outside the vocabulary, is an
    :class:`InputError` naming its place."""
    table = (package.tool or {}).get("tumbler")
    if not isinstance(table, Mapping) or "surface" not in table:
        return ()
    entries, problems = parse_entries(
        table["surface"], str(package.name), f"{where}.tool.tumbler.surface"
    )
    if problems:
        location, problem = problems[0]
        raise InputError(f"{location}: {problem}")
    return entries


def lock_tool(pylock: Pylock) -> TumblerLockTool | None:
    """``pylock``'s ``[tool.tumbler]`` as a typed value, when it has one."""
    table = _tool_table(pylock.tool)
    return None if table is None else TumblerLockTool.parse(table)[0]


def package_tool(package: Package) -> TumblerPackageTool | None:
    """``package``'s ``[packages.tool.tumbler]`` as a typed value, when it has one."""
    table = _tool_table(package.tool)
    return None if table is None else TumblerPackageTool.parse(table, "", str(package.name))[0]


def recorded_inputs(pylock: Pylock | None) -> LockInputs | None:
    """The inputs ``pylock`` records, if tumbler made it."""
    table = _tool_table(pylock.tool if pylock is not None else None)
    return None if table is None else LockInputs.from_table(table)


def with_surface(package: Package, entries: list[dict[str, Any]]) -> Package:
    """``package`` with ``entries`` as its ``surface`` record (none: the key left out,
    and the table when nothing else is in it)."""
    tool = dict(package.tool or {})
    table = {k: v for k, v in dict(tool.get(TOOL_NAME) or {}).items() if k != "surface"}
    if entries:
        table["surface"] = entries
    if table:
        tool[TOOL_NAME] = table
    else:
        tool.pop(TOOL_NAME, None)
    return dataclasses.replace(package, tool=tool or None)


def without_surface(tool: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """A package's tool tables without tumbler's surface entries (they diff on their own)."""
    table = (tool or {}).get(TOOL_NAME)
    if not isinstance(table, Mapping) or "surface" not in table:
        return tool
    rest = {k: v for k, v in table.items() if k != "surface"}
    out = {k: v for k, v in (tool or {}).items() if k != TOOL_NAME}
    if rest:
        out[TOOL_NAME] = rest
    return out or None
