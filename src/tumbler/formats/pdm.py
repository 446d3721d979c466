"""``pdm.lock`` (lock_version 4.x): pdm's lock, read into a universal ``pylock.toml``.

**When.** pdm's ``inherit_metadata`` strategy (its default) writes on each package the
groups that reach it (``groups = ["default", "dev"]``) and the environment marker under
which it is needed (``marker``); pdm installs a package when one of its groups is chosen
and its marker holds, and so does the imported lock: the package's marker is "one of its
groups" and its ``marker``. pdm calls both optional-dependency extras and development
groups "groups", so the ``pyproject.toml`` beside the lock tells them apart:
``[project.optional-dependencies]`` are extras (``'viz' in extras``),
``[dependency-groups]`` and ``[tool.pdm.dev-dependencies]`` are dependency groups
(``'dev' in dependency_groups``) and ``default`` is the project's own dependencies (no
marker). ``pdm install`` with no group named takes the groups the lock was made for
(``metadata.groups``); so does the imported lock, through the synthetic default group
``default`` (R15): ``select()`` with no groups named gives what ``pdm install`` gives,
``dependency_groups=[]`` what ``pdm install --prod`` gives. Without a ``pyproject.toml``
every group but ``default`` is taken as a dependency group, and a note says so.

**Files.** pdm records each file's name (or, with ``--static-urls``, its URL) and sha256;
its URL, size and upload time come from the index (:func:`~tumbler.formats.foreign.complete`):
the ``[[tool.pdm.source]]`` indexes of the ``pyproject.toml`` (with the default index
first unless a source is named ``pypi``, as pdm does), else the default index.
``git``/``hg``/``svn``/``bzr`` packages become ``vcs`` (pinned to ``revision``), ``path``
ones ``directory`` (or ``archive`` for a file), ``url`` ones ``archive``. A package that
pdm locked with extras (``beta[fast]``) is the same release as the plain one: its files
and dependencies join that entry.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packaging.pylock import Package, PackageArchive, PackageDirectory, PackageVcs
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from tumbler.errors import InputError
from tumbler.formats.base import Imported
from tumbler.formats.foreign import (
    FALSE,
    TRUE,
    Condition,
    FileRef,
    assemble,
    both,
    choice,
    complete,
    condition,
    either,
    expect_array,
    expect_table,
    expect_text,
    fallback_index,
    load_toml,
    marker_of,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

    from tumbler.formats.base import FileLookup, ReadOptions

__all__ = ["READER", "PdmLockReader"]

#: The group pdm names the project's own dependencies by.
_PLAIN = "default"
#: The synthetic group (R15) standing for what ``pdm install`` takes with no group named.
_DEFAULT_GROUP = "default"
_VCS = ("git", "hg", "svn", "bzr")
_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar")
_LINE = re.compile(r"at line (\d+)")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Source:
    """One ``[[tool.pdm.source]]`` index."""

    name: str
    url: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Project:
    """What the ``pyproject.toml`` beside the lock says about groups and indexes."""

    extras: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    sources: tuple[_Source, ...] = ()
    requires_python: str | None = None
    known: bool = False


# --- reading the files ------------------------------------------------------------------


def _toml(place: str, data: bytes) -> dict[str, Any]:
    """``data`` as TOML; an error naming ``place:line`` when it is not."""
    return load_toml(place, data)


def _names(where: str, value: Any) -> list[str]:
    return [expect_text(f"{where}[{i}]", item) for i, item in enumerate(expect_array(where, value))]


# --- the project ------------------------------------------------------------------------


def _sources(where: str, value: Any) -> tuple[_Source, ...]:
    found = []
    for number, raw in enumerate(expect_array(where, value)):
        here = f"{where}[{number}]"
        table = expect_table(here, raw)
        if table.get("type", "index") != "index":
            continue  # find_links sources list files, not a simple index
        found.append(
            _Source(
                name=expect_text(f"{here}.name", table.get("name", f"source{number}")),
                url=expect_text(f"{here}.url", table.get("url")),
                include=tuple(
                    _names(f"{here}.include_packages", table.get("include_packages", []))
                ),
                exclude=tuple(
                    _names(f"{here}.exclude_packages", table.get("exclude_packages", []))
                ),
            )
        )
    return tuple(found)


def _project(data: bytes | None) -> _Project:
    """The groups and indexes of the ``pyproject.toml`` beside the lock (none: unknown)."""
    if data is None:
        return _Project()
    document = _toml("pyproject.toml", data)
    project = expect_table("pyproject.toml: project", document.get("project", {}))
    tool = expect_table(
        "pyproject.toml: tool.pdm", expect_table("tool", document.get("tool", {})).get("pdm", {})
    )
    extras = expect_table(
        "pyproject.toml: project.optional-dependencies", project.get("optional-dependencies", {})
    )
    groups = {
        **expect_table("pyproject.toml: dependency-groups", document.get("dependency-groups", {})),
        **expect_table(
            "pyproject.toml: tool.pdm.dev-dependencies", tool.get("dev-dependencies", {})
        ),
    }
    requires = project.get("requires-python")
    return _Project(
        extras=frozenset(str(canonicalize_name(e)) for e in extras),
        groups=frozenset(str(canonicalize_name(g)) for g in groups),
        sources=_sources("pyproject.toml: tool.pdm.source", tool.get("source", [])),
        requires_python=requires if isinstance(requires, str) else None,
        known=True,
    )


def _indexes(project: _Project, default: str) -> tuple[list[_Source], list[str]]:
    """pdm's indexes in its order (the default index first unless a source is named
    ``pypi``), and a note for each URL pdm would expand (``${VAR}``)."""
    sources = list(project.sources)
    if not any(s.name == "pypi" for s in sources):
        sources.insert(0, _Source(name="pypi", url=default))
    notes = [
        f"index {s.name!r} ({s.url}) names environment variables pdm expands; kept as written"
        for s in sources
        if "${" in s.url
    ]
    return sources, notes


def _indexes_for(name: str, sources: Sequence[_Source]) -> list[str]:
    """The indexes pdm searches for ``name``: those including it when any does, else
    every index not excluding it."""

    def matches(patterns: Iterable[str]) -> bool:
        return any(fnmatch.fnmatch(name, str(canonicalize_name(p))) for p in patterns)

    including = [s.url for s in sources if matches(s.include)]
    if including:
        return including
    return [s.url for s in sources if not s.include and not matches(s.exclude)]


# --- when a package is needed -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Choices:
    """Which of pdm's groups are extras, which dependency groups, and which a plain
    ``pdm install`` takes (the groups the lock was made for)."""

    extras: frozenset[str]
    groups: frozenset[str]
    defaults: frozenset[str]

    def of(self, group: str) -> Condition:
        """When ``group`` is chosen (``default``: always)."""
        name = str(canonicalize_name(group))
        if name == _PLAIN:
            return TRUE
        chosen = choice("extras" if name in self.extras else "dependency_groups", name)
        if name in self.defaults:
            return either(chosen, choice("dependency_groups", _DEFAULT_GROUP))
        return chosen


def _choices(
    project: _Project, locked: Sequence[str] | None, named: Iterable[str]
) -> tuple[_Choices, list[str]]:
    """Extras and dependency groups of the groups the lock names, from the project when
    known; the default ones are ``locked`` (``metadata.groups``, what ``pdm install``
    takes), else the dependency groups, as pdm does."""
    names = sorted({str(canonicalize_name(g)) for g in named} - {_PLAIN})
    extras = frozenset(n for n in names if n in project.extras)
    groups = frozenset(names) - extras
    if locked is None:
        defaults = groups
    else:
        defaults = frozenset(str(canonicalize_name(g)) for g in locked) - {_PLAIN}
    if not project.known:
        notes = [
            f"no pyproject.toml beside pdm.lock: groups {', '.join(names)} taken as "
            "dependency groups (pdm does not say which are extras)"
        ]
        return _Choices(extras, groups, defaults), notes if names else []
    notes = [
        f"group {n!r} of pdm.lock is not in pyproject.toml: taken as a dependency group"
        for n in names
        if n not in project.extras and n not in project.groups
    ]
    return _Choices(extras, groups, defaults), notes


# --- one package ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    """One ``[[package]]`` with where it is."""

    where: str
    table: Mapping[str, Any]
    name: str
    version: str | None

    @property
    def extras(self) -> list[str]:
        return _names(f"{self.where}: extras", self.table.get("extras", []))

    @property
    def key(self) -> tuple[str, str | None, str]:
        source = {k: self.table.get(k) for k in (*_VCS, "path", "url", "revision")}
        return (self.name, self.version, repr(sorted(source.items())))


def _entries(path: Path, document: Mapping[str, Any]) -> list[_Entry]:
    found = []
    for number, raw in enumerate(expect_array(f"{path}: package", document.get("package", []))):
        table = expect_table(f"{path}: package[{number}]", raw)
        name = table.get("name")
        if not isinstance(name, str) or not name:
            raise InputError(f"{path}: package[{number}]: expected a string name")
        where = f"{path}: package[{number}] (name {name!r})"
        version = table.get("version")
        if version is not None:
            version = expect_text(f"{where}: version", version)
        found.append(_Entry(where, table, str(canonicalize_name(name)), version))
    return found


def _when(entry: _Entry, choices: _Choices) -> Condition:
    """pdm installs a package when one of its groups is chosen and its marker holds."""
    groups = _names(f"{entry.where}: groups", entry.table.get("groups", []))
    held = FALSE if groups else TRUE
    for group in groups:
        held = either(held, choices.of(group))
    marker = entry.table.get("marker")
    if marker is not None:
        held = both(held, condition(expect_text(f"{entry.where}: marker", marker), entry.where))
    return held


def _refs(entry: _Entry) -> list[FileRef]:
    """The files pdm names: a sha256 with a file name or (static URLs) a URL."""
    refs = []
    for number, raw in enumerate(
        expect_array(f"{entry.where}: files", entry.table.get("files", []))
    ):
        here = f"{entry.where}: files[{number}]"
        item = expect_table(here, raw)
        algorithm, _, digest = expect_text(f"{here}.hash", item.get("hash")).partition(":")
        if algorithm != "sha256" or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise InputError(f"{here}.hash: expected 'sha256:<64 hex digits>' (R34)")
        name = item.get("file")
        url = item.get("url")
        if name is None and url is None:
            raise InputError(f"{here}: expected a file name ('file') or a URL ('url')")
        refs.append(
            FileRef(
                sha256=digest,
                name=None if name is None else expect_text(f"{here}.file", name),
                url=None if url is None else expect_text(f"{here}.url", url),
            )
        )
    return refs


def _one_hash(entry: _Entry, refs: Sequence[FileRef]) -> dict[str, str]:
    digests = sorted({r.sha256 for r in refs})
    if len(digests) != 1:
        raise InputError(
            f"{entry.where}: expected one file hash for a direct reference, found {len(digests)} "
            "(R27: an archive has hashes)"
        )
    return {"sha256": digests[0]}


def _source_fields(entry: _Entry, refs: Sequence[FileRef]) -> tuple[dict[str, Any], list[str]]:
    """The ``vcs``/``directory``/``archive`` of a package that is not from an index."""
    table, where = entry.table, entry.where
    subdirectory = table.get("subdirectory")
    if subdirectory is not None:
        subdirectory = expect_text(f"{where}: subdirectory", subdirectory)
    dropped = [f"{where}: version {entry.version} of a source tree is not written (R20)"]
    for kind in _VCS:
        if kind in table:
            revision = table.get("revision")
            if not isinstance(revision, str) or not revision:
                raise InputError(
                    f"{where}: a {kind} source without a revision (an editable one is not "
                    "pinned): R25 needs its commit-id"
                )
            ref = table.get("ref")
            vcs = PackageVcs(
                type=kind,
                url=expect_text(f"{where}: {kind}", table[kind]).removeprefix(f"{kind}+"),
                requested_revision=None if ref is None else expect_text(f"{where}: ref", ref),
                commit_id=revision,
                subdirectory=subdirectory,
            )
            return {"vcs": vcs}, dropped if entry.version else []
    if "url" in table:
        url = expect_text(f"{where}: url", table["url"])
        archive = PackageArchive(url=url, hashes=_one_hash(entry, refs), subdirectory=subdirectory)
        return {"archive": archive}, []
    local = expect_text(f"{where}: path", table["path"])
    if local.endswith(_ARCHIVE_SUFFIXES):
        archive = PackageArchive(
            path=local, hashes=_one_hash(entry, refs), subdirectory=subdirectory
        )
        return {"archive": archive}, []
    directory = PackageDirectory(
        path=local, editable=bool(table.get("editable", False)), subdirectory=subdirectory
    )
    return {"directory": directory}, dropped if entry.version else []


def _dependencies(
    entries: Sequence[_Entry], versions: Mapping[str, set[str | None]]
) -> list[dict[str, str]]:
    """Each requirement the entries name, as ``{name, version}`` when the lock holds one
    version of it (auditing only, R23)."""
    found: dict[str, dict[str, str]] = {}
    for entry in entries:
        for number, raw in enumerate(
            expect_array(f"{entry.where}: dependencies", entry.table.get("dependencies", []))
        ):
            text = expect_text(f"{entry.where}: dependencies[{number}]", raw)
            try:
                requirement = Requirement(text)
            except InvalidRequirement as error:
                first = str(error).splitlines()[0]
                raise InputError(
                    f"{entry.where}: dependencies[{number}]: not a requirement ({first})"
                ) from None
            name = str(canonicalize_name(requirement.name))
            if name == entry.name:
                continue  # an extras entry names its own release
            held = versions.get(name, set())
            edge = {"name": name}
            if len(held) == 1 and (only := next(iter(held))) is not None:
                edge["version"] = only
            found[name] = edge
    return [found[n] for n in sorted(found)]


def _version(entry: _Entry) -> Version | None:
    if entry.version is None:
        return None
    try:
        return Version(entry.version)
    except ValueError:  # InvalidVersion, or more digits than int() takes
        raise InputError(f"{entry.where}: version {entry.version!r} is not a version") from None


def _requires_python(entry: _Entry) -> SpecifierSet | None:
    value = entry.table.get("requires_python")
    if value is None:
        return None
    try:
        return SpecifierSet(expect_text(f"{entry.where}: requires_python", value))
    except InvalidSpecifier:
        raise InputError(
            f"{entry.where}: requires_python {value!r} is not a version specifier"
        ) from None


@dataclass(frozen=True, slots=True)
class _Context:
    """What every package's reading needs besides the package."""

    choices: _Choices
    sources: Sequence[_Source]
    files: FileLookup
    versions: Mapping[str, set[str | None]]


def _package(same: Sequence[_Entry], context: _Context) -> tuple[Package, list[str]]:
    """One release: the plain entry, with what its extras entries add."""
    first = same[0]
    held = FALSE
    refs: dict[str, FileRef] = {}
    for entry in same:
        held = either(held, _when(entry, context.choices))
        for ref in _refs(entry):
            refs.setdefault(ref.sha256, ref)
    fields: dict[str, Any] = {}
    notes: list[str] = []
    table = first.table
    version = _version(first)
    if any(k in table for k in (*_VCS, "path", "url")):
        fields, notes = _source_fields(first, list(refs.values()))
        if "vcs" in fields or "directory" in fields:
            version = None
    else:
        if version is None:
            raise InputError(f"{first.where}: expected a version for a package from an index")
        if not refs:
            raise InputError(f"{first.where}: no files (R24: a package needs a source)")
        indexes = _indexes_for(first.name, context.sources)
        wheels, sdist, index = complete(
            first.where, first.name, str(version), list(refs.values()), indexes, context.files
        )
        fields = {"wheels": wheels or None, "sdist": sdist, "index": index}
    package = Package(
        name=canonicalize_name(first.name),
        version=version,
        marker=marker_of(held),
        requires_python=_requires_python(first),
        dependencies=_dependencies(same, context.versions) or None,
        **fields,
    )
    return package, notes


# --- the lock ---------------------------------------------------------------------------


def _requires(path: Path, metadata: Mapping[str, Any], project: _Project) -> tuple[Any, list[str]]:
    """The lock's ``requires-python``: its targets' (one, or all alike), else the
    project's; a note when the targets also name platforms."""
    targets = [
        expect_table(f"{path}: metadata.targets[{n}]", t)
        for n, t in enumerate(
            expect_array(f"{path}: metadata.targets", metadata.get("targets", []))
        )
    ]
    notes = [
        f"pdm.lock targets {dict(t)} (platform or implementation) are not written as "
        "environments: the lock reads as universal"
        for t in targets
        if t.get("platform") or t.get("implementation")
    ]
    spans = {str(t["requires_python"]) for t in targets if t.get("requires_python")}
    text = next(iter(spans)) if len(spans) == 1 else project.requires_python
    if len(spans) > 1:
        notes.append(
            f"pdm.lock targets several Python ranges {sorted(spans)}: requires-python is "
            f"the project's ({project.requires_python or 'none'})"
        )
    if not isinstance(text, str) or not text:
        return None, notes
    try:
        return SpecifierSet(text), notes
    except InvalidSpecifier:
        raise InputError(
            f"{path}: metadata.targets: requires_python {text!r} is not a version specifier"
        ) from None


def _releases(entries: Sequence[_Entry]) -> list[list[_Entry]]:
    """Entries of one release together, the plain one (without extras) first."""
    grouped: dict[tuple[str, str | None, str], list[_Entry]] = {}
    for entry in entries:
        grouped.setdefault(entry.key, []).append(entry)
    return [sorted(same, key=lambda e: bool(e.extras)) for same in grouped.values()]


def _strategy(path: Path, metadata: Mapping[str, Any]) -> None:
    strategy = _names(f"{path}: metadata.strategy", metadata.get("strategy", []))
    if "inherit_metadata" not in strategy:
        raise InputError(
            f"{path}: metadata.strategy: expected 'inherit_metadata' (each package's groups "
            "and marker); re-lock with 'pdm lock --strategy inherit_metadata'"
        )


def _lock_version(path: Path, metadata: Mapping[str, Any]) -> None:
    version = metadata.get("lock_version")
    if not isinstance(version, str) or version.split(".")[0] != "4":
        raise InputError(f"{path}: metadata.lock_version: expected a 4.x version, got {version!r}")


class PdmLockReader:
    """``pdm.lock`` into a lock (see the module)."""

    name = "pdm.lock"

    def detect(self, path: Path, data: bytes) -> bool:
        head = data[:1024]
        return path.name == "pdm.lock" or (path.suffix == ".lock" and b"@generated by PDM" in head)

    def read(self, path: Path, data: bytes, files: FileLookup, options: ReadOptions) -> Imported:
        document = _toml(str(path), data)
        metadata = expect_table(f"{path}: metadata", document.get("metadata"))
        _lock_version(path, metadata)
        _strategy(path, metadata)
        project = _project(options.pyproject)
        entries = _entries(path, document)
        locked = None
        if "groups" in metadata:
            locked = _names(f"{path}: metadata.groups", metadata["groups"])
        named = list(locked or ())
        for entry in entries:
            named += _names(f"{entry.where}: groups", entry.table.get("groups", []))
        choices, notes = _choices(project, locked, named)
        sources, index_notes = _indexes(project, fallback_index(options))
        requires_python, target_notes = _requires(path, metadata, project)
        versions: dict[str, set[str | None]] = {}
        for entry in entries:
            versions.setdefault(entry.name, set()).add(entry.version)
        context = _Context(choices, sources, files, versions)
        packages = []
        for same in _releases(entries):
            package, dropped = _package(same, context)
            packages.append(package)
            notes += dropped
        pylock = assemble(
            packages,
            requires_python=requires_python,
            extras=choices.extras,
            groups=choices.groups,
            default_groups=[_DEFAULT_GROUP] if choices.defaults else [],
        )
        return Imported(pylock, tuple(notes + index_notes + target_notes))


READER = PdmLockReader()
