"""The standard's static rules that ``packaging.pylock`` does not check.

``packaging.pylock`` accepts some things the standard forbids (see
``shared/spec/packaging-pylock.md``); this module reports them, reading the raw TOML
document so it also works on files packaging rejected. Real-world deviations the
checklist calls out (``version`` beside ``vcs``, the same wheel from two hosts, a
package with no source that only some environments select) are warnings; ``--strict``
turns them into errors.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.markers import default_environment as _default_environment
from packaging.pylock import is_valid_pylock_path
from packaging.version import InvalidVersion, Version

from tumbler.findings import Finding, Severity
from tumbler.lockfile.tables import TOOL_NAME, TumblerLockTool, TumblerPackageTool

if TYPE_CHECKING:
    from pathlib import Path

    from packaging.pylock import Pylock

__all__ = ["KNOWN_PACKAGE_KEYS", "KNOWN_TOP_KEYS", "SOURCE_KEYS", "static_findings"]

KNOWN_TOP_KEYS = frozenset(
    {
        "lock-version", "environments", "requires-python", "extras", "dependency-groups",
        "default-groups", "created-by", "packages", "tool",
    }
)  # fmt: skip
KNOWN_PACKAGE_KEYS = frozenset(
    {
        "name", "version", "marker", "requires-python", "dependencies", "vcs", "directory",
        "archive", "index", "sdist", "wheels", "attestation-identities", "tool",
    }
)  # fmt: skip
_FILE_KEYS = frozenset({"name", "upload-time", "url", "path", "size", "hashes"})
_TABLE_KEYS = {
    "vcs": frozenset({"type", "url", "path", "requested-revision", "commit-id", "subdirectory"}),
    "directory": frozenset({"path", "editable", "subdirectory"}),
    "archive": frozenset({"url", "path", "size", "upload-time", "hashes", "subdirectory"}),
    "sdist": _FILE_KEYS,
}
SOURCE_KEYS = ("vcs", "directory", "archive", "sdist", "wheels")
#: R25: the VCS names registered by the direct-URL data structure spec.
_REGISTERED_VCS = frozenset({"git", "hg", "bzr", "svn"})
#: VCS whose revisions are hashes: commit-id MUST be that hash (R25).
_HASH_VCS = {"git": (40, 64), "hg": (40,)}
_HEX = frozenset(string.hexdigits)
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]+")
_ZERO = timedelta(0)
#: Hex digest lengths of the hashlib algorithms a lock may name (R34).
_DIGEST_LENGTHS = {
    "md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128,
    "sha3_224": 56, "sha3_256": 64, "sha3_384": 96, "sha3_512": 128,
    "blake2b": 128, "blake2s": 64,
}  # fmt: skip
_LOCK_ENVIRONMENT: dict[str, str | AbstractSet[str]] = {
    **{k: str(v) for k, v in _default_environment().items()},
    "extras": set(),
    "dependency_groups": set(),
}
_URL = re.compile(r"^(https?|file)://", re.IGNORECASE)


def _f(location: str, rule: str, severity: Severity, message: str, hint: str = "") -> Finding:
    return Finding(location=location, rule=rule, severity=severity, message=message, hint=hint)


def _err(location: str, rule: str, message: str, hint: str = "") -> Finding:
    return _f(location, rule, Severity.ERROR, message, hint)


def _warn(location: str, rule: str, message: str, hint: str = "") -> Finding:
    return _f(location, rule, Severity.WARNING, message, hint)


def static_findings(
    doc: Mapping[str, Any],
    pylock: Pylock | None,
    path: Path | None,
    *,
    skip: frozenset[int] = frozenset(),
) -> list[Finding]:
    """Findings for the static rules packaging leaves out, in no particular order.

    Packages whose indexes are in ``skip`` are not checked (``load`` reuses them).
    """
    out: list[Finding] = []
    if path is not None and not is_valid_pylock_path(path):
        out.append(
            _err(
                "",
                "R1",
                f"file name {path.name!r} is not a lock file name",
                "name it pylock.toml or pylock.<name>.toml (<name> without dots)",
            )
        )
    minor_newer = _minor_newer(doc.get("lock-version"))
    out.extend(_top_level(doc, minor_newer))
    packages = doc.get("packages")
    if isinstance(packages, list):
        for index, package in enumerate(packages):
            if isinstance(package, dict) and index not in skip:
                out.extend(_package(index, package, minor_newer))
    out.extend(f for f in _markers(doc, pylock) if _index_of(f.location) not in skip)
    if isinstance(packages, list):
        out.extend(f for f in _dependencies(packages) if _index_of(f.location) not in skip)
    return out


def _dependencies(packages: list[Any]) -> Iterator[Finding]:
    """R23: each ``dependencies`` table must pick out one package entry, key by key."""
    by_name: dict[object, list[Mapping[str, Any]]] = {}
    unnamed: list[Mapping[str, Any]] = []
    for entry in packages:
        if isinstance(entry, dict):
            name = entry.get("name")
            if _hashable(name):
                by_name.setdefault(name, []).append(entry)
            else:
                unnamed.append(entry)
    for index, package in enumerate(packages):
        if not isinstance(package, dict) or not isinstance(package.get("dependencies"), list):
            continue
        for number, dependency in enumerate(package["dependencies"]):
            if not isinstance(dependency, dict):
                continue
            name = dependency.get("name")
            if "name" in dependency and _hashable(name):
                entries = by_name.get(name, [])
            else:
                entries = [e for group in by_name.values() for e in group] + unnamed
            matches = sum(1 for entry in entries if _picks(dependency, entry))
            if matches > 1:
                shown = ", ".join(f"{k} = {v!r}" for k, v in dependency.items())
                yield _warn(
                    f"packages[{index}].dependencies[{number}]",
                    "R23",
                    f"{{{shown}}} matches {matches} package entries: a dependency must "
                    "identify one entry",
                    "add the keys that tell them apart (version, or the source table)",
                )


def _hashable(value: object) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _picks(dependency: Mapping[str, Any], entry: Mapping[str, Any]) -> bool:
    """Whether every key of ``dependency`` has the same value in ``entry`` (tables key by
    key, recursively)."""
    for key, wanted in dependency.items():
        found = entry.get(key)
        if isinstance(wanted, dict):
            if not isinstance(found, dict) or not _picks(wanted, found):
                return False
        elif found != wanted:
            return False
    return True


def _index_of(location: str) -> int:
    """``3`` for ``packages[3].marker``."""
    return int(location.split("]", 1)[0].removeprefix("packages["))


def _minor_newer(raw: object) -> bool:
    try:
        return isinstance(raw, str) and Version(raw) > Version("1.0")
    except InvalidVersion:
        return False


def _unknown(
    where: str, table: Mapping[str, Any], known: frozenset[str], newer: bool
) -> list[Finding]:
    unknown = [key for key in table if key not in known]
    if not unknown:
        return []
    rule = "R10" if newer else "R7"
    prefix = f"{where}." if where else ""
    why = (
        "it may come from a newer minor version of the standard than this tool knows"
        if newer
        else "it is not defined by the standard (lock-version 1.0) and will be ignored"
    )
    return [
        _warn(
            f"{prefix}{key}",
            rule,
            f"unknown key {key!r}: {why}",
            "put tool-specific data under [tool.<name>] or [packages.tool.<name>]",
        )
        for key in unknown
    ]


def _top_level(doc: Mapping[str, Any], newer: bool) -> Iterator[Finding]:
    yield from _unknown("", doc, KNOWN_TOP_KEYS, newer)
    environments = doc.get("environments")
    if environments == []:
        yield _warn(
            "environments",
            "I4",
            "an empty environments array matches no environment, so installers may refuse "
            "every install",
            "remove the key to mean 'no restriction'",
        )
    default_groups = doc.get("default-groups")
    groups = doc.get("dependency-groups")
    if isinstance(default_groups, list) and isinstance(groups, list):
        named = {g for g in groups if isinstance(g, str)}
        for name in sorted({g for g in default_groups if isinstance(g, str)} & named):
            yield _warn(
                "default-groups",
                "R15",
                f"{name!r} is listed in both default-groups and dependency-groups",
                "a default group is synthetic; give the selectable group another name",
            )
    tool = doc.get("tool")
    if isinstance(tool, dict) and isinstance(tool.get(TOOL_NAME), dict):
        yield from TumblerLockTool.parse(tool[TOOL_NAME], f"tool.{TOOL_NAME}")[1]


def _package(index: int, package: Mapping[str, Any], newer: bool) -> Iterator[Finding]:
    where = f"packages[{index}]"
    yield from _unknown(where, package, KNOWN_PACKAGE_KEYS, newer)
    sources = [key for key in SOURCE_KEYS if key in package]
    if not sources:
        if "marker" in package:
            yield _warn(
                where,
                "R24",
                f"package {package.get('name')!r} has no source (no wheels, sdist, vcs, "
                "directory or archive); installing fails wherever its marker is true (I5d)",
                "add its files, or drop the entry if no environment can select it",
            )
        else:
            yield _err(
                where,
                "R24",
                f"package {package.get('name')!r} has no source (no wheels, sdist, vcs, "
                "directory or archive) and no marker, so every install fails (I5d)",
                "add its wheels or sdist, or a vcs, directory or archive table",
            )
    if "version" in package:
        if "directory" in package:
            yield _err(
                f"{where}.version",
                "R20",
                "version MUST NOT be given for a directory (source tree) package: nothing "
                "guarantees it matches the code",
                "remove version",
            )
        elif "vcs" in package:
            yield _warn(
                f"{where}.version",
                "R20",
                "version MUST NOT be given for a vcs (source tree) package (uv, pdm and "
                "poetry-plugin-export write it anyway)",
                "remove version",
            )
    for key, known in _TABLE_KEYS.items():
        table = package.get(key)
        if isinstance(table, dict) and not _file_ok(table, known):
            yield from _unknown(f"{where}.{key}", table, known, newer)
            if key in ("archive", "sdist"):
                yield from _file(f"{where}.{key}", table)
    vcs = package.get("vcs")
    if isinstance(vcs, dict):
        yield from _vcs(f"{where}.vcs", vcs)
    wheels = package.get("wheels")
    if isinstance(wheels, list):
        yield from _wheels(where, wheels, newer)
    index_url = package.get("index")
    if isinstance(index_url, str) and not _URL.match(index_url):
        yield _warn(
            f"{where}.index",
            "R28",
            f"index {index_url!r} is not an http(s) or file URL of a Simple API index",
            "write the index's base URL, e.g. https://index.example.com/simple/",
        )
    tool = package.get("tool")
    if isinstance(tool, dict) and isinstance(tool.get(TOOL_NAME), dict):
        yield from TumblerPackageTool.parse(
            tool[TOOL_NAME], f"{where}.tool.{TOOL_NAME}", str(package.get("name", ""))
        )[1]


def _vcs(where: str, vcs: Mapping[str, Any]) -> Iterator[Finding]:
    kind = vcs.get("type")
    if isinstance(kind, str) and kind not in _REGISTERED_VCS:
        yield _err(
            f"{where}.type",
            "R25",
            f"vcs type {kind!r} is not a registered VCS (git, hg, bzr, svn)",
            "use one of git, hg, bzr, svn, or lock the package another way",
        )
    commit = vcs.get("commit-id")
    if isinstance(kind, str) and isinstance(commit, str) and kind in _HASH_VCS:
        if not commit or not set(commit) <= _HEX:
            yield _err(
                f"{where}.commit-id",
                "R25",
                f"commit-id {commit!r} is not a {kind} commit hash: a tag or branch can move",
                f"write the full commit hash ({kind} rev-parse {commit}^{{commit}})"
                if kind == "git"
                else "write the full changeset hash",
            )
        elif len(commit) not in _HASH_VCS[kind]:
            yield _warn(
                f"{where}.commit-id",
                "R25",
                f"commit-id {commit!r} is an abbreviated hash; it may become ambiguous",
                f"write the full {_HASH_VCS[kind][0]}-character hash",
            )


def _wheels(where: str, wheels: list[Any], newer: bool) -> Iterator[Finding]:
    seen: dict[str, tuple[int, Mapping[str, Any]]] = {}
    for index, wheel in enumerate(wheels):
        if not isinstance(wheel, dict):
            continue
        here = f"{where}.wheels[{index}]"
        if not _file_ok(wheel, _FILE_KEYS):
            yield from _unknown(here, wheel, _FILE_KEYS, newer)
            yield from _file(here, wheel)
        name = _file_name(wheel)
        if name is None:
            continue
        if name in seen:
            first, other = seen[name]
            if _same_hashes(other.get("hashes"), wheel.get("hashes")):
                yield _warn(
                    here,
                    "R33",
                    f"wheel {name!r} is listed again (first at wheels[{first}]) with the same "
                    "hashes, e.g. from a second host",
                    "keep one entry per file name",
                )
            elif _claims_same_file(other, wheel):
                yield _err(
                    here,
                    "R33",
                    f"wheel {name!r} is listed again (first at wheels[{first}]) with different "
                    "hashes: which file to install is ambiguous",
                    "keep the one entry whose hashes match the real file",
                )
            else:
                yield _warn(
                    here,
                    "R33",
                    f"wheel {name!r} from another host is listed again (first at "
                    f"wheels[{first}]) with different hashes; installers take the first",
                    "keep the entry from the index this lock means; drop the other host's file",
                )
        else:
            seen[name] = (index, wheel)


def _file_name(table: Mapping[str, Any]) -> str | None:
    name = table.get("name")
    if isinstance(name, str):
        return name
    for key in ("path", "url"):
        value = table.get(key)
        if isinstance(value, str):
            return value.split("#", 1)[0].split("?", 1)[0].replace("\\", "/").rsplit("/", 1)[-1]
    return None


def _host(table: Mapping[str, Any]) -> str | None:
    url = table.get("url")
    return urlsplit(url).netloc.lower() if isinstance(url, str) else None


def _claims_same_file(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two same-named entries assert one file: an explicit ``name``, or one host.

    The same name inferred from the URLs of two hosts (uv writes a pyodide CDN wheel next
    to the index's) is a name clash between two files; an explicit ``name`` on both, or the
    same host, is one file given two different digests.
    """
    explicit = isinstance(a.get("name"), str) and isinstance(b.get("name"), str)
    return explicit or _host(a) == _host(b)


def _same_hashes(a: object, b: object) -> bool:
    if not isinstance(a, Mapping) or not isinstance(b, Mapping):
        return False
    common = set(a) & set(b)
    return bool(common) and all(a[k] == b[k] for k in common)


def _file_ok(table: Mapping[str, Any], known: frozenset[str]) -> bool:
    """The common case, checked fast: no unknown key, UTC time, size >= 0, sane digests.

    ``False`` sends the table through the detailed checks, which say what is wrong.
    """
    if not table.keys() <= known:
        return False
    upload_time = table.get("upload-time")
    if upload_time is not None and (
        not isinstance(upload_time, datetime) or upload_time.utcoffset() != _ZERO
    ):
        return False
    size = table.get("size")
    if isinstance(size, int) and size < 0:
        return False
    hashes = table.get("hashes")
    if isinstance(hashes, dict):
        for algorithm, digest in hashes.items():
            expected = _DIGEST_LENGTHS.get(algorithm)
            if expected is None or not isinstance(digest, str) or len(digest) != expected:
                return False
            if not _HEX_DIGEST.fullmatch(digest):
                return False
    return True


def _file(where: str, table: Mapping[str, Any]) -> Iterator[Finding]:
    upload_time = table.get("upload-time")
    if isinstance(upload_time, datetime):
        offset = upload_time.utcoffset()
        if offset is None:
            yield _warn(
                f"{where}.upload-time",
                "R36",
                "upload-time has no UTC offset (a local datetime); it MUST be recorded in UTC",
                "append Z to the datetime",
            )
        elif offset != timedelta(0):
            yield _err(
                f"{where}.upload-time",
                "R36",
                f"upload-time {upload_time.isoformat()} is not in UTC",
                "convert to UTC and write it with Z, e.g. "
                f"{(upload_time - offset).replace(tzinfo=None).isoformat()}Z",
            )
    size = table.get("size")
    if isinstance(size, int) and not isinstance(size, bool) and size < 0:
        yield _err(f"{where}.size", "R35", f"size {size} is negative", "size is a byte count")
    hashes = table.get("hashes")
    if isinstance(hashes, dict):
        for algorithm, digest in hashes.items():
            if algorithm != algorithm.lower():
                yield _warn(
                    f"{where}.hashes.{algorithm}",
                    "R34",
                    f"hash algorithm {algorithm!r} should be lower-case",
                    f"write {algorithm.lower()!r}",
                )
            expected = _DIGEST_LENGTHS.get(algorithm.lower())
            if (
                isinstance(digest, str)
                and expected is not None
                and (len(digest) != expected or not _HEX_DIGEST.fullmatch(digest))
            ):
                yield _warn(
                    f"{where}.hashes.{algorithm}",
                    "R34",
                    f"{algorithm} digest {digest[:16]!r} is not {expected} hex digits; "
                    "no real file will match it",
                    "record the file's real hex digest",
                )


def _markers(doc: Mapping[str, Any], pylock: Pylock | None) -> Iterator[Finding]:
    """R41 and R45: set-valued variables compared with ``==``; legacy ``extra ==``."""
    for where, marker in _package_markers(doc, pylock):
        try:
            marker.evaluate(_LOCK_ENVIRONMENT, context="lock_file")
        except UndefinedComparison:
            yield _err(
                f"{where}.marker",
                "R41",
                f"marker {str(marker)!r} compares a set (extras or dependency_groups) with "
                "an operator other than 'in' / 'not in'",
                "write \"'name' in extras\" or \"'name' in dependency_groups\"",
            )
        except UndefinedEnvironmentName as exc:
            if "extra" in str(exc).split("'"):
                yield _err(
                    f"{where}.marker",
                    "R45",
                    f"marker {str(marker)!r} uses the legacy 'extra ==' form, not permitted "
                    "in a lock file",
                    "write \"'name' in extras\"",
                )


def _package_markers(doc: Mapping[str, Any], pylock: Pylock | None) -> Iterator[tuple[str, Marker]]:
    if pylock is not None:
        for index, package in enumerate(pylock.packages):
            if package.marker is not None:
                yield f"packages[{index}]", package.marker
        return
    packages = doc.get("packages")
    if not isinstance(packages, list):
        return
    for index, package in enumerate(packages):
        raw = package.get("marker") if isinstance(package, dict) else None
        if isinstance(raw, str):
            try:
                yield f"packages[{index}]", Marker(raw)
            except InvalidMarker:
                continue  # packaging's own finding (R21/R46) covers it
