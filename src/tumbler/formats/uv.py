"""``uv.lock`` (version 1): uv's universal lock, read into a universal ``pylock.toml``.

uv says when a package is needed along its graph's edges (``{ name = "tzdata", marker =
"sys_platform == 'win32'" }``) and tells the versions of a forked package apart by
``version`` on the edge; PEP 751 says it per package. The workspace's projects are the
roots: their dependencies hold always, their optional dependencies under
``'extra' in extras`` and their development groups under ``'group' in
dependency_groups``; an edge asking for a package's extras (``extra = ["socks"]``) leads
to that package's optional dependencies too. :func:`tumbler.formats.foreign.reach` walks
the graph and each package's marker is where it is reached.

Files are taken as uv records them (URL or path, sha256, size, upload time): nothing is
fetched. ``registry`` sources keep their index; ``git``, ``url``, ``path``, ``directory``
and ``editable`` sources become PEP 751 ``vcs``, ``archive`` and ``directory`` entries. A
``virtual`` project installs nothing and is left out (a note says so, for one that is not
the workspace's own). uv's conflict markers (``extra == 'project-x'``, written when two
extras conflict) have no PEP 751 form: such a lock is refused, naming the edge. Groups
become dependency groups; ``tumbler install`` takes ``dev`` by default, as uv does, and
a ``[tool.uv] default-groups`` other than ``["dev"]`` is named in a note.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from packaging.pylock import (
    Package,
    PackageArchive,
    PackageDirectory,
    PackageSdist,
    PackageVcs,
    PackageWheel,
)
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from tumbler.errors import InputError
from tumbler.formats.base import Imported
from tumbler.formats.foreign import (
    TRUE,
    Condition,
    assemble,
    both,
    choice,
    condition,
    either,
    load_toml,
    marker_of,
    reach,
)

if TYPE_CHECKING:
    from collections.abc import Hashable, Iterator, Mapping, Sequence
    from pathlib import Path

    from tumbler.formats.base import FileLookup, ReadOptions

__all__ = ["READER", "UvLockReader"]

#: The ``uv.lock`` versions read.
_VERSIONS = (1,)


@dataclass(frozen=True, slots=True)
class _Entry:
    """One ``[[package]]`` of the lock, with where it is (for messages)."""

    where: str
    table: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(canonicalize_name(self.table["name"]))

    @property
    def version(self) -> str | None:
        version = self.table.get("version")
        return None if version is None else str(version)

    @property
    def source(self) -> Mapping[str, Any]:
        source = self.table.get("source", {})
        return source if isinstance(source, dict) else {}


def _where(path: Path, index: int, table: Mapping[str, Any]) -> str:
    return f"{path.name}: package[{index}] ({table.get('name', '?')!r})"


def _load(path: Path, data: bytes) -> dict[str, Any]:
    return load_toml(str(path), data)


def _entries(path: Path, document: Mapping[str, Any]) -> list[_Entry]:
    version = document.get("version")
    if version not in _VERSIONS:
        raise InputError(
            f"{path}: uv.lock version {version!r} is not read (version 1 is); "
            "re-lock with a uv that writes it"
        )
    tables = document.get("package", [])
    if not isinstance(tables, list):
        raise InputError(f"{path.name}: package: expected an array of tables")
    entries = []
    for number, table in enumerate(tables):
        if not isinstance(table, dict) or not isinstance(table.get("name"), str):
            raise InputError(f"{path.name}: package[{number}]: expected a table with a name")
        entries.append(_Entry(_where(path, number, table), table))
    return entries


def _key(entry: _Entry) -> tuple[str, str | None, str]:
    return (entry.name, entry.version, repr(sorted(entry.source.items())))


class _Graph:
    """The lock's packages, found by what an edge names."""

    def __init__(self, entries: Sequence[_Entry]) -> None:
        self.by_name: dict[str, list[_Entry]] = {}
        for entry in entries:
            self.by_name.setdefault(entry.name, []).append(entry)

    def target(self, where: str, edge: Mapping[str, Any]) -> _Entry:
        """The package an edge (``{ name, version?, source? }``) names: exactly one."""
        name = edge.get("name")
        if not isinstance(name, str):
            raise InputError(f"{where}: a dependency without a name")
        found = self.by_name.get(str(canonicalize_name(name)), [])
        if "version" in edge:
            found = [e for e in found if e.version == str(edge["version"])]
        if "source" in edge:
            found = [e for e in found if e.source == edge["source"]]
        if len(found) != 1:
            told = "no package" if not found else f"{len(found)} packages"
            raise InputError(f"{where}: dependency {name!r} matches {told} in the lock")
        return found[0]


def _edge_condition(where: str, edge: Mapping[str, Any]) -> Condition:
    held = condition(edge.get("marker"), where)
    for term in held:
        for left, _, right in term:
            if "extra" in (left, right):
                raise InputError(
                    f"{where}: {edge.get('name')!r} under uv's conflict marker "
                    f"{edge.get('marker')!r}, which PEP 751 has no way to say"
                )
    return held


def _edges_of(
    graph: _Graph, entry: _Entry, deps: Any, when: Condition, label: str
) -> Iterator[tuple[Hashable, Condition]]:
    """Each node ``deps`` (a list of edges) leads to, under ``when`` and its marker."""
    if not isinstance(deps, list):
        raise InputError(f"{entry.where}: {label}: expected an array of dependencies")
    for edge in deps:
        if not isinstance(edge, dict):
            raise InputError(f"{entry.where}: {label}: expected a dependency table")
        child = graph.target(entry.where, edge)
        held = both(when, _edge_condition(entry.where, edge))
        yield (_key(child), None), held
        extras = edge.get("extra", [])
        for extra in extras if isinstance(extras, list) else []:
            yield (_key(child), str(canonicalize_name(extra))), held


def _tables(entry: _Entry, field: str) -> Mapping[str, Any]:
    found = entry.table.get(field, {})
    if not isinstance(found, dict):
        raise InputError(f"{entry.where}: {field}: expected a table")
    return found


def _graph_edges(
    graph: _Graph, entries: Sequence[_Entry], roots: Sequence[_Entry]
) -> dict[Hashable, list[tuple[Hashable, Condition]]]:
    """Node → (child, condition): a node is (package, None) or (package, extra)."""
    root_keys = {_key(r) for r in roots}
    edges: dict[Hashable, list[tuple[Hashable, Condition]]] = {}
    for entry in entries:
        key = _key(entry)
        plain = list(_edges_of(graph, entry, entry.table.get("dependencies", []), TRUE, "deps"))
        optional = _tables(entry, "optional-dependencies")
        if key in root_keys:
            for extra, deps in optional.items():
                plain += _edges_of(graph, entry, deps, choice("extras", extra), extra)
            for group, deps in _tables(entry, "dev-dependencies").items():
                plain += _edges_of(graph, entry, deps, choice("dependency_groups", group), group)
        else:
            for extra, deps in optional.items():
                extra_node = (key, str(canonicalize_name(extra)))
                edges[extra_node] = list(_edges_of(graph, entry, deps, TRUE, extra))
                edges[extra_node].append(((key, None), TRUE))
        edges[(key, None)] = plain
    return edges


def _roots(path: Path, document: Mapping[str, Any], entries: Sequence[_Entry]) -> list[_Entry]:
    """The workspace's projects: ``[manifest] members``, else the project at ``.``."""
    members = document.get("manifest", {}).get("members")
    if isinstance(members, list) and members:
        wanted = {str(canonicalize_name(m)) for m in members}
        found = [e for e in entries if e.name in wanted and _local(e)]
    else:
        found = [e for e in entries if _local(e) in (".", "")]
    if not found:
        raise InputError(f"{path.name}: no workspace project (a package whose source is '.')")
    return found


def _local(entry: _Entry) -> str | None:
    """The path of a workspace-style source (virtual, editable), if it is one."""
    for kind in ("virtual", "editable"):
        if kind in entry.source:
            return str(entry.source[kind])
    return None


def _hashes(where: str, text: Any) -> dict[str, str]:
    if not isinstance(text, str) or ":" not in text:
        raise InputError(f"{where}: expected a hash 'algorithm:digest', got {text!r}")
    algorithm, _, digest = text.partition(":")
    return {algorithm: digest}


def _time(where: str, value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"{where}: upload-time {value!r} is not a date and time") from None


def _file_fields(where: str, file: Any, label: str) -> dict[str, Any]:
    if not isinstance(file, dict):
        raise InputError(f"{where}: {label}: expected a table")
    fields: dict[str, Any] = {
        "url": file.get("url"),
        "path": file.get("path"),
        "size": file.get("size"),
        "upload_time": _time(where, file.get("upload-time")),
        "hashes": _hashes(f"{where}: {label}", file.get("hash")),
    }
    if fields["url"] is None and fields["path"] is None:
        raise InputError(f"{where}: {label}: a file without url or path")
    for key in ("url", "path"):
        value = fields[key]
        if value is not None and (not isinstance(value, str) or not value.rstrip("/")):
            raise InputError(f"{where}: {label}.{key}: expected a file's URL or path")
    last = str(fields["url"] or fields["path"]).rstrip("/").rsplit("/", 1)[-1]
    if not last or str(fields["url"] or fields["path"]).endswith("/"):
        raise InputError(f"{where}: {label}: {fields['url'] or fields['path']!r} names no file")
    if not isinstance(fields["size"], int | None) or isinstance(fields["size"], bool):
        raise InputError(f"{where}: {label}.size: expected a number of bytes")
    return fields


def _git(where: str, url: str) -> PackageVcs:
    """``git+``-less uv form: ``https://host/repo?rev=v1&subdirectory=x#<commit>``."""
    parts = urlsplit(url)
    if not parts.fragment:
        raise InputError(f"{where}: git source {url!r} has no commit (#<sha>)")
    query = parse_qs(parts.query)
    requested = next((query[k][0] for k in ("rev", "tag", "branch") if k in query), None)
    subdirectory = query.get("subdirectory", [None])[0]
    plain = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return PackageVcs(
        type="git",
        url=plain,
        requested_revision=requested,
        commit_id=parts.fragment,
        subdirectory=subdirectory,
    )


def _package(entry: _Entry, held: Condition, deps: list[dict[str, str]]) -> Package | None:
    """The PEP 751 entry of one uv package, needed when ``held``."""
    where, table, source = entry.where, entry.table, entry.source
    try:
        version = None if entry.version is None else Version(entry.version)
    except ValueError:  # InvalidVersion, or more digits than int() takes
        raise InputError(f"{where}: version {entry.version!r} is not a version") from None
    common: dict[str, Any] = {
        "name": canonicalize_name(entry.name),
        "version": version,
        "marker": marker_of(held),
        "dependencies": deps or None,
    }
    if "registry" in source:
        sdist = table.get("sdist")
        wheels = [
            PackageWheel(**_file_fields(where, w, f"wheels[{i}]"))
            for i, w in enumerate(table.get("wheels", []))
        ]
        registry = str(source["registry"])
        return Package(
            **common,
            index=registry if "://" in registry else None,
            sdist=None if sdist is None else PackageSdist(**_file_fields(where, sdist, "sdist")),
            wheels=wheels or None,  # render puts them in name order
        )
    if "git" in source:
        return Package(**common | {"version": None}, vcs=_git(where, str(source["git"])))
    if "url" in source or "path" in source:
        files = [("sdist", table.get("sdist"))]
        files += [(f"wheels[{i}]", w) for i, w in enumerate(table.get("wheels", []))]
        label, file = next(
            ((k, f) for k, f in files if isinstance(f, dict) and "hash" in f), ("", None)
        )
        if file is None:
            raise InputError(f"{where}: an archive source without a hash")
        hashes = _hashes(f"{where}: {label}", file["hash"])
        at = {"url": source["url"]} if "url" in source else {"path": str(source["path"])}
        subdirectory = source.get("subdirectory")
        archive = PackageArchive(
            **at, hashes=hashes, size=file.get("size"), subdirectory=subdirectory
        )
        return Package(**common, archive=archive)
    if "directory" in source or "editable" in source:
        editable = "editable" in source
        path = str(source["editable" if editable else "directory"])
        directory = PackageDirectory(path=path, editable=editable)
        return Package(**common | {"version": None}, directory=directory)
    return None  # virtual: nothing to install


class UvLockReader:
    """``uv.lock`` into a universal ``pylock.toml`` (see the module)."""

    name = "uv.lock"

    def detect(self, path: Path, data: bytes) -> bool:
        head = data[:512]
        return path.name == "uv.lock" or (
            head.startswith(b"version = 1") and b"[[package]]" in data[:65536]
        )

    def read(self, path: Path, data: bytes, files: FileLookup, options: ReadOptions) -> Imported:
        document = _load(path, data)
        try:
            return self._read(path, document, options)
        except (KeyError, TypeError, AttributeError) as error:
            raise InputError(f"{path.name}: unexpected shape ({error!r})") from None

    def _read(self, path: Path, document: Mapping[str, Any], options: ReadOptions) -> Imported:
        entries = _entries(path, document)
        roots = _roots(path, document, entries)
        graph = _Graph(entries)
        edges = _graph_edges(graph, entries, roots)
        held = reach([((_key(r), None), TRUE) for r in roots], edges)
        when: dict[Hashable, Condition] = {}
        for node, cond in held.items():
            package_key = node[0]  # type: ignore[index]  # nodes are (package key, extra)
            when[package_key] = either(when.get(package_key, frozenset()), cond)
        packages: list[Package] = []
        notes: list[str] = []
        root_keys = {_key(r) for r in roots}
        for entry in entries:
            key = _key(entry)
            if key not in when:
                continue
            deps = [] if key in root_keys else self._dependencies(graph, entry)
            package = _package(entry, when[key], deps)
            if package is None:
                if key not in root_keys:
                    notes.append(f"{entry.name}: a virtual project installs nothing; left out")
                continue
            packages.append(package)
            if package.version is None and entry.version is not None:
                kind = "a git checkout" if package.vcs else "a source tree"
                notes.append(
                    f"{entry.name} {entry.version}: {kind}, so its version is not recorded "
                    "(R20: nothing guarantees the source still has it)"
                )
        extras = {e for r in roots for e in _tables(r, "optional-dependencies")}
        for root in roots:
            provided = root.table.get("metadata", {}).get("provides-extras", [])
            extras |= set(provided if isinstance(provided, list) else [])
        groups = sorted(
            {str(canonicalize_name(g)) for r in roots for g in _tables(r, "dev-dependencies")}
        )
        return Imported(
            assemble(
                packages,
                requires_python=_requires_python(path, document),
                extras=extras,
                groups=groups,
            ),
            tuple(notes + _default_groups_note(options.pyproject)),
        )

    @staticmethod
    def _dependencies(graph: _Graph, entry: _Entry) -> list[dict[str, str]]:
        """``[{name, version}]`` of each package ``entry`` depends on (any condition)."""
        found: dict[tuple[str, str], dict[str, str]] = {}
        for edge in entry.table.get("dependencies", []):
            child = graph.target(entry.where, edge)
            row = {"name": child.name}
            if child.version is not None:
                row["version"] = child.version
            found[(child.name, child.version or "")] = row
        return [found[k] for k in sorted(found)]


def _default_groups_note(pyproject: bytes | None) -> list[str]:
    """A note when the project asks uv for default groups other than ``dev``."""
    if pyproject is None:
        return []
    try:
        uv = tomllib.loads(pyproject.decode("utf-8")).get("tool", {}).get("uv", {})
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    chosen = uv.get("default-groups") if isinstance(uv, dict) else None
    if chosen is None or chosen == ["dev"]:
        return []
    return [
        f"[tool.uv] default-groups = {chosen!r}: a PEP 751 lock has no default groups of "
        "dependency-groups (R15); tumbler install takes 'dev' unless --no-dev, choose others "
        "with --group"
    ]


def _requires_python(path: Path, document: Mapping[str, Any]) -> SpecifierSet | None:
    text = document.get("requires-python")
    if text is None:
        return None
    try:
        return SpecifierSet(str(text))
    except InvalidSpecifier:
        raise InputError(f"{path.name}: requires-python {text!r} is not a specifier") from None


READER = UvLockReader()
