"""``Pipfile.lock`` (pipfile-spec 6): pipenv's lock, read into a ``pylock.toml``.

**When.** ``default`` holds the project's own packages (no marker beyond the entry's
``markers``), ``develop`` the development packages: the dependency group ``dev``
(``'dev' in dependency_groups``), which ``pipenv install --dev`` / ``pipenv requirements
--dev`` add; any other section is a pipenv package category, a dependency group of its
name. A package in several sections is needed when any of them is chosen. pipenv
resolves for the interpreter and platform it runs on, evaluating markers as it goes: the
lock is exact only there. ``_meta.requires`` (``python_version`` /
``python_full_version``) becomes ``requires-python``; an entry pipenv left unpinned
(``"version": "*"``, written for a package its marker kept out of that environment)
has nothing to lock and is left out, with a note.

**Files.** pipenv records hashes only: each file's name, URL, size and upload time come
from the index (:func:`~tumbler.formats.foreign.complete`) the entry's ``index`` names
among ``_meta.sources``, else the first source, else the default index. ``git`` (pinned
to ``ref``, a commit), ``path`` and ``file`` entries become PEP 751 ``vcs``,
``directory`` and ``archive`` ones. The lock has no dependency graph, so packages carry
no ``dependencies``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packaging.pylock import Package, PackageArchive, PackageDirectory, PackageVcs
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
    marker_of,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from tumbler.formats.base import FileLookup, ReadOptions

__all__ = ["READER", "PipfileLockReader"]

#: The section holding the project's own packages, and the one pipenv's ``--dev`` adds.
_DEFAULT = "default"
_DEVELOP = "develop"
#: The dependency group ``develop`` becomes.
_DEV_GROUP = "dev"
_VCS = ("git", "hg", "svn", "bzr")
_ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar")
_SHA256 = re.compile(r"sha256:([0-9a-f]{64})")
_COMMIT = re.compile(r"[0-9a-f]{40}")


def _json(path: Path, data: bytes) -> dict[str, Any]:
    """``data`` as a JSON object; an error naming ``path:line`` when it is not."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text ({error})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"{path}:{error.lineno}: not JSON ({error.msg})") from None
    except RecursionError:
        raise InputError(f"{path}: nested deeper than any Pipfile.lock") from None
    if not isinstance(document, dict):
        raise InputError(f"{path}:1: expected a JSON object, got {type(document).__name__}")
    return document


# --- the lock's header ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Sources:
    """``_meta.sources``: index name → URL, in order (the first is the default)."""

    urls: Mapping[str, str]

    def url(self, where: str, name: str | None) -> list[str]:
        """The index an entry names (``index``), else the first."""
        if name is None:
            return list(self.urls.values())[:1]
        if name not in self.urls:
            known = ", ".join(self.urls) or "none"
            raise InputError(f"{where}: index {name!r} is not in _meta.sources (they are: {known})")
        return [self.urls[name]]


def _sources(path: Path, meta: Mapping[str, Any], default: str) -> tuple[_Sources, list[str]]:
    urls: dict[str, str] = {}
    for number, raw in enumerate(expect_array(f"{path}: _meta.sources", meta.get("sources", []))):
        here = f"{path}: _meta.sources[{number}]"
        source = expect_table(here, raw, "object")
        url = expect_text(f"{here}.url", source.get("url"))
        urls[expect_text(f"{here}.name", source.get("name", url))] = url
    notes = [
        f"index {name!r} ({url}) names environment variables pipenv expands; kept as written"
        for name, url in urls.items()
        if "${" in url
    ]
    if not urls:
        urls["pypi"] = default
    return _Sources(urls), notes


def _requires_python(path: Path, meta: Mapping[str, Any]) -> SpecifierSet | None:
    """``_meta.requires``: the Python the lock was made for."""
    requires = expect_table(f"{path}: _meta.requires", meta.get("requires", {}), "object")
    full, short = requires.get("python_full_version"), requires.get("python_version")
    if full is None and short is None:
        return None
    text = f"=={full}" if full is not None else f"=={short}.*"
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        raise InputError(f"{path}: _meta.requires: {text!r} is not a Python version") from None


# --- one entry --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    """One package of one section, with where it is."""

    where: str
    name: str
    table: Mapping[str, Any]
    section: str

    @property
    def version(self) -> str | None:
        """The pinned version (``==x``); None for a source entry or an unpinned one."""
        value = self.table.get("version")
        if value is None:
            return None
        text = expect_text(f"{self.where}: version", value)
        if text == "*":
            return None
        if not text.startswith("==") or text.startswith("==="):
            raise InputError(f"{self.where}: version {text!r}: expected a pin '==x'")
        return text[2:].strip()

    @property
    def is_source(self) -> bool:
        return any(k in self.table for k in (*_VCS, "path", "file"))

    def when(self) -> Condition:
        """The entry's section chosen and its markers met."""
        held = TRUE if self.section == _DEFAULT else choice("dependency_groups", _group(self))
        markers = self.table.get("markers")
        if markers is None:
            return held
        return both(held, condition(expect_text(f"{self.where}: markers", markers), self.where))

    def refs(self) -> list[FileRef]:
        refs = []
        hashes = expect_array(f"{self.where}: hashes", self.table.get("hashes", []))
        for number, raw in enumerate(hashes):
            found = _SHA256.fullmatch(expect_text(f"{self.where}: hashes[{number}]", raw))
            if found is None:
                raise InputError(
                    f"{self.where}: hashes[{number}]: expected 'sha256:<64 hex digits>' (R34)"
                )
            refs.append(FileRef(sha256=found.group(1)))
        return refs


def _group(entry: _Entry) -> str:
    return _DEV_GROUP if entry.section == _DEVELOP else str(canonicalize_name(entry.section))


def _entries(path: Path, document: Mapping[str, Any]) -> list[_Entry]:
    found = []
    for section, raw in document.items():
        if section.startswith("_"):
            continue
        for name, table in expect_table(f"{path}: {section}", raw, "object").items():
            where = f"{path}: {section}.{name}"
            found.append(
                _Entry(
                    where,
                    str(canonicalize_name(name)),
                    expect_table(where, table, "object"),
                    section,
                )
            )
    return found


def _one_hash(entry: _Entry) -> dict[str, str]:
    digests = sorted({r.sha256 for r in entry.refs()})
    if len(digests) != 1:
        raise InputError(
            f"{entry.where}: expected one sha256 for a file, found {len(digests)} "
            "(R27: an archive has hashes)"
        )
    return {"sha256": digests[0]}


def _source(entry: _Entry) -> dict[str, Any]:
    """The ``vcs``/``directory``/``archive`` of a ``git``/``path``/``file`` entry."""
    table, where = entry.table, entry.where
    subdirectory = table.get("subdirectory")
    if subdirectory is not None:
        subdirectory = expect_text(f"{where}: subdirectory", subdirectory)
    for kind in _VCS:
        if kind in table:
            ref = table.get("ref")
            if not isinstance(ref, str) or (kind == "git" and not _COMMIT.fullmatch(ref)):
                raise InputError(
                    f"{where}: ref {ref!r}: expected the commit hash the {kind} source is "
                    "pinned to (R25 commit-id)"
                )
            url = expect_text(f"{where}: {kind}", table[kind]).removeprefix(f"{kind}+")
            vcs = PackageVcs(
                type=kind, url=url.split("#", 1)[0], commit_id=ref, subdirectory=subdirectory
            )
            return {"vcs": vcs}
    key = "file" if "file" in table else "path"
    location = expect_text(f"{where}: {key}", table[key])
    remote = "://" in location
    if key == "file" or location.endswith(_ARCHIVE_SUFFIXES):
        archive = PackageArchive(
            url=location if remote else None,
            path=None if remote else location,
            hashes=_one_hash(entry),
            subdirectory=subdirectory,
        )
        return {"archive": archive}
    directory = PackageDirectory(
        path=location, editable=bool(table.get("editable", False)), subdirectory=subdirectory
    )
    return {"directory": directory}


def _notes_of(entry: _Entry) -> list[str]:
    """What pipenv records that the standard has no place for."""
    notes = []
    if entry.table.get("no_binary"):
        notes.append(f"{entry.where}: no_binary (build from the sdist) is not written")
    if entry.table.get("pip_args"):
        notes.append(f"{entry.where}: pip_args {entry.table['pip_args']!r} are not written")
    return notes


@dataclass(frozen=True, slots=True)
class _Context:
    sources: _Sources
    files: FileLookup
    allow_unhashed: bool


def _files_of(entry: _Entry, version: str, context: _Context) -> tuple[list[FileRef], list[str]]:
    """The entry's hashes; without any, every file of the release when allowed."""
    refs = entry.refs()
    named = entry.table.get("index")
    if named is not None:
        named = expect_text(f"{entry.where}: index", named)
    indexes = context.sources.url(entry.where, named)
    if refs:
        return refs, indexes
    if not context.allow_unhashed:
        raise InputError(
            f"{entry.where}: {entry.name}=={version} has no hashes (R34: a locked file has "
            "a hash; pass --allow-unhashed to take the index's)"
        )
    listed = context.files(entry.name, version, indexes)
    return [FileRef(sha256=f.hashes["sha256"]) for f in listed if "sha256" in f.hashes], indexes


def _package(same: Sequence[_Entry], context: _Context) -> Package:
    """One release, needed when any of its sections is chosen."""
    first = same[0]
    held = FALSE
    for entry in same:
        held = either(held, entry.when())
    fields: dict[str, Any]
    version: Version | None = None
    if first.is_source:
        fields = _source(first)
    else:
        text = first.version
        assert text is not None  # unpinned entries are left out before
        try:
            version = Version(text)
        except ValueError:  # InvalidVersion, or more digits than int() takes
            raise InputError(f"{first.where}: version {text!r} is not a version") from None
        refs, indexes = _files_of(first, text, context)
        for entry in same[1:]:
            refs += [r for r in entry.refs() if r not in refs]
        wheels, sdist, index = complete(first.where, first.name, text, refs, indexes, context.files)
        fields = {"wheels": wheels or None, "sdist": sdist, "index": index}
    return Package(
        name=canonicalize_name(first.name), version=version, marker=marker_of(held), **fields
    )


def _releases(entries: Sequence[_Entry]) -> tuple[list[list[_Entry]], list[str]]:
    """Entries of one release together (a name in several sections); unpinned ones left
    out with a note; a name pinned to two versions is refused."""
    grouped: dict[str, list[_Entry]] = {}
    notes = []
    for entry in entries:
        if not entry.is_source and entry.version is None:
            notes.append(
                f"{entry.where}: not pinned (version {entry.table.get('version', '(none)')!r}; "
                f"markers {entry.table.get('markers', '(none)')!r}): pipenv locked nothing "
                "for it here, left out"
            )
            continue
        same = grouped.setdefault(entry.name, [])
        if same and (same[0].version, same[0].is_source) != (entry.version, entry.is_source):
            raise InputError(
                f"{entry.where}: locked differently in {same[0].section} "
                f"({same[0].version or 'a source'}): PEP 751 would select both (I5c)"
            )
        same.append(entry)
    return list(grouped.values()), notes


class PipfileLockReader:
    """``Pipfile.lock`` into a lock (see the module)."""

    name = "Pipfile.lock"

    def detect(self, path: Path, data: bytes) -> bool:
        head = data[:4096]
        return path.name == "Pipfile.lock" or (
            path.suffix in (".lock", ".json") and b'"_meta"' in head and b"pipfile-spec" in head
        )

    def read(self, path: Path, data: bytes, files: FileLookup, options: ReadOptions) -> Imported:
        document = _json(path, data)
        meta = expect_table(f"{path}: _meta", document.get("_meta"), "object")
        spec = meta.get("pipfile-spec")
        if spec != 6:
            raise InputError(f"{path}: _meta.pipfile-spec: expected 6, got {spec!r}")
        sources, notes = _sources(path, meta, fallback_index(options))
        requires_python = _requires_python(path, meta)
        entries = _entries(path, document)
        releases, left_out = _releases(entries)
        context = _Context(sources, files, options.allow_unhashed)
        packages = [_package(same, context) for same in releases]
        for entry in entries:
            notes += _notes_of(entry)
        groups = {_group(e) for e in entries if e.section != _DEFAULT}
        pylock = assemble(packages, requires_python=requires_python, groups=groups)
        notes += left_out
        notes.append(
            f"{path}: pipenv resolves for the environment it runs in: the lock holds what "
            "that environment needs, and no dependency graph"
        )
        return Imported(pylock, tuple(notes))


READER = PipfileLockReader()
