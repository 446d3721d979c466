"""Input stage: a project (``pyproject.toml`` or ``requirements.in``) as typed requirements.

:func:`read_project` reads ``[project]`` dependencies, ``requires-python``, extras,
``[dependency-groups]`` (PEP 735, ``include-group`` expanded by ``packaging``) and the
``[tool.tumbler]`` settings; or a pip-style requirements file. A project that names itself
in an extra or group (``myproj[test]``) has that reference expanded in place. Every
problem raises :class:`~tumbler.errors.InputError` naming the file and key.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from packaging.dependency_groups import resolve_dependency_groups
from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from tumbler.errors import InputError
from tumbler.project.toml import check_bounds

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

__all__ = [
    "INSTALL_AUDIT_LEVELS",
    "PRERELEASE_POLICIES",
    "Project",
    "Settings",
    "VulnerabilityIgnore",
    "binary_names",
    "install_audit_level",
    "parse_datetime",
    "read_project",
    "read_settings",
]

#: How pre-releases are treated: never, always, or only when asked for or nothing else fits.
PRERELEASE_POLICIES = ("disallow", "allow", "if-necessary")
#: ``install-audit`` / ``--audit-vulns=LEVEL``: what refuses an install. ``malware``: malware
#: only; a severity: malware and advisories at or above it; ``any``: every advisory, also
#: those without a severity. ``medium`` is read as ``moderate``.
INSTALL_AUDIT_LEVELS = ("malware", "critical", "high", "moderate", "low", "any")


def parse_datetime(text: str, where: str) -> datetime:
    """A date (``2025-01-31``) or RFC 3339 time as an aware UTC datetime."""
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"{where}: {text!r} is not a date (2025-01-31) or an RFC 3339 time "
            "(2025-01-31T12:00:00Z)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class VulnerabilityIgnore:
    """One ``[tool.tumbler] ignore-vulnerabilities`` entry: an advisory accepted for now."""

    #: The advisory id or any of its aliases (``GHSA-…``, ``PYSEC-…``, ``CVE-…``).
    id: str
    #: Why it is accepted (required).
    reason: str
    #: The last day it is accepted; after it the ignore is itself a finding (V3).
    until: date


def _utc(moment: datetime, where: str) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise InputError(f"{where}.exclude-newer: {moment} is out of range") from None


def parse_cutoff(text: str, where: str) -> datetime | timedelta:
    """``--exclude-newer``'s value: a date or RFC 3339 time, or a span before now
    (``7 days``, ``1 week``, ``P7D``: :func:`tumbler.project.cooldown.parse_span`)."""
    value = text.strip()
    if value[:4].isdigit() and value[4:5] == "-":
        return parse_datetime(value, where)
    from tumbler.project.cooldown import parse_span

    return parse_span(value, where)


def _named_indexes(table: Mapping[str, Any], where: str) -> dict[str, str]:
    """``[[tool.tumbler.index]]``: ``name = "internal"``, ``url = "https://..."``: indexes
    a ``package-index`` pin may name; searched only for the packages pinned to them."""
    entries = table.get("index", [])
    if not isinstance(entries, list):
        raise InputError(f"{where}.index: expected an array of tables with name and url")
    named: dict[str, str] = {}
    for number, entry in enumerate(entries):
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("name"), str)
            and isinstance(entry.get("url"), str)
            and set(entry) <= {"name", "url"}
        ):
            raise InputError(f"{where}.index[{number}]: expected {{ name = ..., url = ... }}")
        named[entry["name"]] = entry["url"]
    return named


def _package_indexes(table: Mapping[str, Any], where: str) -> dict[NormalizedName, str]:
    """``[tool.tumbler.package-index]``: a name or glob pattern (``acme-*``) → the URL
    or the name of a ``[[tool.tumbler.index]]`` it must come from."""
    from tumbler.project.cooldown import pattern

    named = _named_indexes(table, where)
    pins = table.get("package-index", {})
    if not isinstance(pins, dict) or not all(isinstance(v, str) for v in pins.values()):
        raise InputError(f"{where}.package-index: expected a table of name = index URL or name")
    out: dict[NormalizedName, str] = {}
    for key, value in pins.items():
        url = str(named.get(value, value))
        if "://" not in url and not url.startswith("file:"):
            known = ", ".join(sorted(named)) or "none"
            raise InputError(
                f"{where}.package-index.{key}: {value!r} is neither a URL nor a named index "
                f"(named: {known})"
            )
        out[NormalizedName(pattern(key))] = url
    return out


def _cooldown(
    table: Mapping[str, Any], where: str, exclude: object
) -> tuple[timedelta | None, tuple[str, ...]]:
    """The relative cut-off (``exclude-newer = "7 days"`` or ``min-release-age``) and the
    names it does not apply to."""
    from tumbler.project.cooldown import exempt_patterns, parse_span

    span = None
    if isinstance(exclude, str):
        cutoff = parse_cutoff(exclude, f"{where}.exclude-newer")
        span = cutoff if isinstance(cutoff, timedelta) else None
    age = table.get("min-release-age")
    if age is not None:
        if exclude is not None:
            raise InputError(f"{where}: give exclude-newer or min-release-age, not both")
        if not isinstance(age, str):
            raise InputError(f"{where}.min-release-age: expected a span such as '7 days'")
        span = parse_span(age, f"{where}.min-release-age")
    exempt_key = "min-release-age-exempt"
    exempt = table.get(exempt_key, [])
    if not isinstance(exempt, list):
        raise InputError(f"{where}.{exempt_key}: expected a list of names or patterns")
    return span, exempt_patterns(exempt, f"{where}.{exempt_key}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """``[tool.tumbler]`` settings; command-line options override them."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    #: Package name or glob pattern (``acme-*``) → the only index it may come from.
    package_indexes: Mapping[NormalizedName, str] = field(default_factory=dict)
    prereleases: str = "if-necessary"
    exclude_newer: datetime | None = None
    #: A cut-off relative to now (``exclude-newer = "7 days"``, ``min-release-age``).
    exclude_newer_span: timedelta | None = None
    #: Names and glob patterns the cut-off does not apply to (``min-release-age-exempt``).
    cooldown_exempt: tuple[str, ...] = ()
    python_version: str | None = None
    platform: str | None = None
    #: Groups an installer takes when none are named (written as the synthetic group
    #: ``default`` in the lock's markers, R15).
    default_groups: tuple[str, ...] = ()
    #: Directory dependencies locked as editable.
    editable: frozenset[NormalizedName] = frozenset()
    #: A universal lock's environments (PEP 508 marker expressions).
    environments: tuple[str, ...] = ()
    #: Record each package's API surface (``surface = true``; ``--surface``).
    surface: bool = False
    #: Record publisher identities (``attestations = true``; ``--attestations``).
    attestations: bool = False
    #: Packages (``:all:`` for every one) locked from sdists only / from wheels only;
    #: ``no-build = true`` is ``only-binary = [":all:"]``.
    no_binary: tuple[str, ...] = ()
    only_binary: tuple[str, ...] = ()
    #: Seconds of network silence a request waits (``TUMBLER_HTTP_TIMEOUT`` wins).
    http_timeout: float | None = None
    #: Advisories ``audit --vulns`` and ``install --audit-vulns`` accept until a date.
    ignore_vulnerabilities: tuple[VulnerabilityIgnore, ...] = ()
    #: ``install``/``sync`` check the selected packages against OSV and refuse at this
    #: level (one of :data:`INSTALL_AUDIT_LEVELS`); None: no check unless asked.
    install_audit: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Project:
    """What to lock: requirements per extra and group, and how."""

    path: Path
    name: NormalizedName | None
    requires_python: SpecifierSet | None
    dependencies: tuple[Requirement, ...]
    extras: Mapping[NormalizedName, tuple[Requirement, ...]]
    groups: Mapping[NormalizedName, tuple[Requirement, ...]]
    constraints: tuple[Requirement, ...] = ()
    settings: Settings = field(default_factory=Settings)
    #: Every file read, for messages.
    files: tuple[Path, ...] = ()
    #: A package itself (a ``[build-system]`` and a ``[project]`` name): locked as an
    #: editable directory entry, so ``install`` puts it in the environment too.
    buildable: bool = False

    @property
    def default_groups(self) -> tuple[NormalizedName, ...]:
        """The groups an installer takes when none are named."""
        return tuple(canonicalize_name(g) for g in self.settings.default_groups)


def _requirement(text: Any, where: str) -> Requirement:
    if not isinstance(text, str):
        raise InputError(f"{where}: expected a requirement string, found {text!r}")
    try:
        return Requirement(text)
    except InvalidRequirement as error:
        raise InputError(f"{where}: cannot parse {text!r}: {error}") from None


def _requirements(values: Any, where: str) -> tuple[Requirement, ...]:
    if not isinstance(values, list):
        raise InputError(f"{where}: expected a list of requirement strings")
    return tuple(_requirement(v, f"{where}[{i}]") for i, v in enumerate(values))


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{where}: expected a string or a list of strings")
    return tuple(value)


def _settings(table: Any, where: str) -> Settings:
    if not isinstance(table, dict):
        raise InputError(f"{where}: expected a table")
    known = {
        "index-url",
        "extra-index-url",
        "package-index",
        "index",
        "prereleases",
        "exclude-newer",
        "min-release-age",
        "min-release-age-exempt",
        "python-version",
        "platform",
        "default-groups",
        "editable",
        "environments",
        "surface",
        "attestations",
        "no-binary",
        "only-binary",
        "no-build",
        "http-timeout",
        "ignore-vulnerabilities",
        "install-audit",
    }
    unknown = sorted(set(table) - known)
    if unknown:
        raise InputError(
            f"{where}: unknown setting {unknown[0]!r}; known settings: {', '.join(sorted(known))}"
        )
    package_index = _package_indexes(table, where)
    prereleases = table.get("prereleases", "if-necessary")
    if prereleases not in PRERELEASE_POLICIES:
        raise InputError(
            f"{where}.prereleases: {prereleases!r} is not one of {', '.join(PRERELEASE_POLICIES)}"
        )
    exclude = table.get("exclude-newer")
    if isinstance(exclude, datetime):
        exclude_newer: datetime | None = (
            exclude.replace(tzinfo=UTC) if exclude.tzinfo is None else _utc(exclude, where)
        )
    elif isinstance(exclude, date):
        exclude_newer = datetime(exclude.year, exclude.month, exclude.day, tzinfo=UTC)
    elif isinstance(exclude, str):
        cutoff = parse_cutoff(exclude, f"{where}.exclude-newer")
        exclude_newer = cutoff if isinstance(cutoff, datetime) else None
    elif exclude is None:
        exclude_newer = None
    else:
        raise InputError(f"{where}.exclude-newer: expected a date, a time or a span (7 days)")
    span, exempt = _cooldown(table, where, exclude)
    index_url = table.get("index-url")
    if index_url is not None and not isinstance(index_url, str):
        raise InputError(f"{where}.index-url: expected a URL string")
    default_groups = table.get("default-groups")
    surface = table.get("surface", False)
    if not isinstance(surface, bool):
        raise InputError(f"{where}.surface: expected true or false")
    attestations = table.get("attestations", False)
    if not isinstance(attestations, bool):
        raise InputError(f"{where}.attestations: expected true or false")
    http_timeout = table.get("http-timeout")
    if http_timeout is not None and (
        isinstance(http_timeout, bool)
        or not isinstance(http_timeout, int | float)
        or not 0 < http_timeout < 86400
    ):
        raise InputError(f"{where}.http-timeout: expected a number of seconds, e.g. 10")
    no_build = table.get("no-build", False)
    if not isinstance(no_build, bool):
        raise InputError(f"{where}.no-build: expected true or false")
    only_binary = binary_names(_strings(table.get("only-binary", []), f"{where}.only-binary"))
    return Settings(
        index_url=index_url,
        extra_index_urls=_strings(table.get("extra-index-url", []), f"{where}.extra-index-url"),
        package_indexes=package_index,
        prereleases=prereleases,
        exclude_newer=exclude_newer,
        exclude_newer_span=span,
        cooldown_exempt=exempt,
        python_version=_text(table, "python-version", where, "3.12"),
        platform=_text(table, "platform", where, "linux-x86_64"),
        default_groups=()
        if default_groups is None
        else _strings(default_groups, f"{where}.default-groups"),
        editable=frozenset(
            canonicalize_name(n) for n in _strings(table.get("editable", []), f"{where}.editable")
        ),
        environments=_strings(table.get("environments", []), f"{where}.environments"),
        surface=surface,
        attestations=attestations,
        no_binary=binary_names(_strings(table.get("no-binary", []), f"{where}.no-binary")),
        only_binary=(":all:",) if no_build else only_binary,
        http_timeout=None if http_timeout is None else float(http_timeout),
        ignore_vulnerabilities=_ignores(table.get("ignore-vulnerabilities", []), where),
        install_audit=install_audit_level(table.get("install-audit"), f"{where}.install-audit"),
    )


_IGNORE_EXAMPLE = '{ id = "GHSA-xxxx-xxxx-xxxx", reason = "…", until = 2027-01-31 }'


def _until(value: object, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(f"{where}.until: expected a date such as 2027-01-31, found {value!r}")


def _ignore(entry: object, where: str) -> VulnerabilityIgnore:
    if not isinstance(entry, dict):
        raise InputError(f"{where}: expected a table {_IGNORE_EXAMPLE}")
    unknown = sorted(set(entry) - {"id", "reason", "until"})
    if unknown:
        raise InputError(f"{where}: unknown key {unknown[0]!r}; an ignore has id, reason, until")
    for key in ("id", "reason", "until"):
        value = entry.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise InputError(
                f"{where}: no {key}; every ignore needs an id, a reason and an expiry date: "
                f"{_IGNORE_EXAMPLE}"
            )
    ident, reason = entry["id"], entry["reason"]
    if not isinstance(ident, str) or not isinstance(reason, str):
        raise InputError(f"{where}: id and reason must be strings: {_IGNORE_EXAMPLE}")
    return VulnerabilityIgnore(
        id=ident.strip(), reason=reason.strip(), until=_until(entry["until"], where)
    )


def _ignores(value: object, where: str) -> tuple[VulnerabilityIgnore, ...]:
    key = f"{where}.ignore-vulnerabilities"
    if not isinstance(value, list):
        raise InputError(f"{key}: expected a list of tables {_IGNORE_EXAMPLE}")
    return tuple(_ignore(entry, f"{key}[{i}]") for i, entry in enumerate(value))


def install_audit_level(value: object, where: str) -> str | None:
    """An ``install-audit`` / ``--audit-vulns`` level, checked (``medium`` → ``moderate``)."""
    if value is None:
        return None
    text = value.strip().lower() if isinstance(value, str) else value
    text = "moderate" if text == "medium" else text
    if text not in INSTALL_AUDIT_LEVELS:
        raise InputError(f"{where}: {value!r} is not one of {', '.join(INSTALL_AUDIT_LEVELS)}")
    return str(text)


def binary_names(values: Iterable[str]) -> tuple[str, ...]:
    """``--no-binary`` / ``--only-binary`` values (comma-separated, as pip takes them) as
    normalised names, ``:all:`` kept, ``:none:`` clearing what came before."""
    names: list[str] = []
    for value in values:
        for raw in value.split(","):
            part = raw.strip()
            if part == ":none:":
                names.clear()
            elif part:
                names.append(part if part == ":all:" else canonicalize_name(part))
    return tuple(sorted(set(names)))


def _text(table: Mapping[str, Any], key: str, where: str, example: str) -> str | None:
    """An optional string setting (TOML ``python-version = 3.10`` is the float 3.1)."""
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise InputError(f'{where}.{key}: expected a string, e.g. {key} = "{example}"')
    return value


def read_settings(path: Path) -> Settings:
    """The ``[tool.tumbler]`` settings of the ``pyproject.toml`` at ``path`` alone (the file
    beside a lock: it need not declare a project); defaults when it has none."""
    document = _read_toml(path)
    tool = document.get("tool", {})
    table = tool.get("tumbler", {}) if isinstance(tool, dict) else {}
    return _settings(table, f"{path}: tool.tumbler")


def _expand_self(
    requirements: Iterable[Requirement],
    name: NormalizedName | None,
    extras: Mapping[NormalizedName, tuple[Requirement, ...]],
    seen: frozenset[str] = frozenset(),
) -> tuple[Requirement, ...]:
    """Replace ``name[extra]`` (the project itself) by that extra's requirements."""
    out: list[Requirement] = []
    for requirement in requirements:
        if name is None or canonicalize_name(requirement.name) != name:
            out.append(requirement)
            continue
        for extra in sorted(requirement.extras):
            key = canonicalize_name(extra)
            if key in seen or key not in extras:
                continue
            inner = _expand_self(extras[key], name, extras, seen | {key})
            out.extend(_under(requirement.marker, r) for r in inner)
    return tuple(out)


def _under(outer: Marker | None, requirement: Requirement) -> Requirement:
    """``requirement`` needed only where ``outer`` holds too (``me[win]; sys_platform ==
    'win32'`` brings the extra's requirements on Windows alone)."""
    if outer is None:
        return requirement
    combined = copy.copy(requirement)
    combined.marker = (
        outer if requirement.marker is None else Marker(f"({outer}) and ({requirement.marker})")
    )
    return combined


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read: {error}") from None
    check_bounds(text.encode("utf-8"), str(path))
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"{path}: not valid TOML: {error}") from None


def _first(error: BaseException) -> BaseException:
    """The first error an exception group holds (packaging groups include-group errors)."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


def _read_pyproject(path: Path) -> Project:
    document = _read_toml(path)
    if "project" not in document and "dependency-groups" not in document:
        raise InputError(
            f"{path}: no [project] table and no [dependency-groups]: nothing to lock (declare "
            "the dependencies there, or lock a requirements file)"
        )
    project = document.get("project", {})
    if not isinstance(project, dict):
        raise InputError(f"{path}: [project] must be a table")
    raw_name = project.get("name")
    name = canonicalize_name(raw_name) if isinstance(raw_name, str) else None
    requires_python = None
    if "requires-python" in project:
        try:
            requires_python = SpecifierSet(str(project["requires-python"]))
        except InvalidSpecifier as error:
            raise InputError(f"{path}: project.requires-python: {error}") from None
    dependencies = _requirements(project.get("dependencies", []), f"{path}: project.dependencies")
    optional = project.get("optional-dependencies", {})
    if not isinstance(optional, dict):
        raise InputError(f"{path}: project.optional-dependencies must be a table")
    extras = {
        canonicalize_name(extra): _requirements(
            values, f"{path}: project.optional-dependencies.{extra}"
        )
        for extra, values in optional.items()
    }
    extras = {k: _expand_self(v, name, extras, frozenset({k})) for k, v in extras.items()}
    raw_groups = document.get("dependency-groups", {})
    if not isinstance(raw_groups, dict):
        raise InputError(f"{path}: [dependency-groups] must be a table")
    groups: dict[NormalizedName, tuple[Requirement, ...]] = {}
    for group in raw_groups:
        try:
            resolved = resolve_dependency_groups(raw_groups, group)
        except (ValueError, TypeError, LookupError, ExceptionGroup) as error:
            raise InputError(f"{path}: dependency-groups.{group}: {_first(error)}") from None
        groups[canonicalize_name(group)] = _expand_self(
            (_requirement(r, f"{path}: dependency-groups.{group}") for r in resolved), name, extras
        )
    tool = document.get("tool", {})
    table = tool.get("tumbler", {}) if isinstance(tool, dict) else {}
    settings = _settings(table, f"{path}: tool.tumbler")
    for group in settings.default_groups:
        if canonicalize_name(group) not in groups:
            raise InputError(
                f"{path}: tool.tumbler.default-groups: no dependency group {group!r}; "
                f"groups: {', '.join(sorted(groups)) or '(none)'}"
            )
    return Project(
        path=path,
        name=name,
        requires_python=requires_python,
        dependencies=_expand_self(dependencies, name, extras),
        extras=extras,
        groups=groups,
        settings=settings,
        files=(path,),
        buildable=name is not None and isinstance(document.get("build-system"), dict),
    )


def _read_requirements_file(path: Path) -> Project:
    from tumbler.project.requirements import read_requirements

    parsed = read_requirements(path)
    unsupported = [
        o
        for o, used in (("--no-index", parsed.no_index), ("--find-links", parsed.find_links))
        if used
    ]
    if unsupported:
        raise InputError(
            f"{path}: {' and '.join(unsupported)}: tumbler locks from package indexes only; "
            "serve the files as an index and name it with --index-url or --extra-index-url"
        )
    editable = frozenset(
        canonicalize_name(e.requirement.name) for e in parsed.requirements if e.editable
    )
    settings = Settings(
        index_url=parsed.index_url,
        extra_index_urls=parsed.extra_index_urls,
        prereleases="allow" if parsed.prereleases else "if-necessary",
        editable=editable,
    )
    return Project(
        path=path,
        name=None,
        requires_python=None,
        dependencies=tuple(e.requirement for e in parsed.requirements),
        extras={},
        groups={},
        constraints=tuple(e.requirement for e in parsed.constraints),
        settings=settings,
        files=parsed.files,
    )


#: What a directory's project is, in order: the first of these it holds.
PROJECT_FILES = ("pyproject.toml", "requirements.in")


def read_project(path: Path) -> Project:
    """The project at ``path``: a ``pyproject.toml``, a requirements file, or a directory."""
    if path.is_dir():
        found = [path / n for n in PROJECT_FILES if (path / n).is_file()]
        if not found:
            raise InputError(
                f"{path}: no {' or '.join(PROJECT_FILES)} here; name the project file to lock"
            )
        path = found[0]
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.name == "pyproject.toml" or path.suffix == ".toml":
        return _read_pyproject(path)
    return _read_requirements_file(path)
