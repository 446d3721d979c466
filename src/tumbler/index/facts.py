"""What the index said about a release, kept small for the gate to read back offline.

``tumbler lock`` reads each locked release's files from its project page and its core
metadata; :func:`store_facts` keeps, per release, the files the fresh lock took from it
and that metadata as one small record (in the cache, under ``blob/release``).
``lock --check`` then verifies a committed lock against these records without a page
parse, a metadata parse or the network: each locked file's hash and size, the set of
files, the release's Requires-Python and Requires-Dist (see :mod:`tumbler.resolver.gate`).

A record is what the index said when it was read, not what it says now: seeing a file
yanked or added since is the full check's job (``lock --check --full``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from packaging.utils import canonicalize_name

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from packaging.pylock import Package, PackageSdist, PackageWheel
    from packaging.requirements import Requirement

    from tumbler.index.metadata import CoreMetadata
    from tumbler.net.cache import Cache

__all__ = [
    "FileFacts",
    "Needs",
    "RecordKey",
    "ReleaseFacts",
    "encode",
    "read_facts",
    "scope_of",
    "store_facts",
]

_KIND = "release"
#: Bumped when the record's shape changes (older records are then not read).
_SHAPE = 3


@dataclass(frozen=True, slots=True)
class FileFacts:
    """One file of a release as its project page listed it."""

    filename: str
    url: str
    sha256: str | None
    size: int | None
    yanked: bool
    upload_time: str | None
    requires_python: str | None


@dataclass(frozen=True, slots=True)
class Needs:
    """One requirement, in the pieces ``packaging`` parsed it into (kept so that reading
    it back parses no requirement: a marker is parsed only if its verdict is not known)."""

    name: str
    extras: tuple[str, ...]
    specifier: str
    marker: str | None
    url: str | None

    @classmethod
    def of(cls, requirement: Requirement) -> Needs:
        """The pieces of ``requirement`` (name and extras normalised)."""
        return cls(
            canonicalize_name(requirement.name),
            tuple(sorted(canonicalize_name(e) for e in requirement.extras)),
            str(requirement.specifier),
            None if requirement.marker is None else str(requirement.marker),
            requirement.url,
        )

    def __str__(self) -> str:
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        where = f" @ {self.url}" if self.url else self.specifier
        return f"{self.name}{extras}{where}" + (f"; {self.marker}" if self.marker else "")


@dataclass(frozen=True, slots=True)
class ReleaseFacts:
    """A release's files and the core metadata resolution read for it."""

    files: Mapping[str, FileFacts]
    requires_dist: tuple[Needs, ...] | None
    requires_python: str | None


class RecordKey(NamedTuple):
    """Which record: a release (index, name, version) as a lock of ``scope`` takes it."""

    scope: str
    index_url: str
    name: str
    version: str


def _key(key: RecordKey) -> str:
    return hashlib.sha256("\n".join((str(_SHAPE), *key)).encode()).hexdigest()


def scope_of(environments: Iterable[object]) -> str:
    """What a lock covers, as a record's scope: which files a lock takes from a release
    depends on it (a one-target lock takes that target's wheels, a universal lock every
    platform's), so locks of different coverage keep different records."""
    return "\n".join(sorted(str(m) for m in environments))


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def encode(package: Package, metadata: CoreMetadata | None) -> bytes:
    """The record of one release as a fresh lock took it from the index: the files it
    locked (name, url, sha256, size, upload time) and the release's core metadata."""
    files: list[PackageWheel | PackageSdist] = [*(package.wheels or ())]
    files += [package.sdist] if package.sdist is not None else []
    rows = [
        [
            str(f.name),
            f.url,
            (f.hashes or {}).get("sha256"),
            f.size,
            False,
            _time(f.upload_time),
            None,
        ]
        for f in sorted(files, key=lambda f: str(f.name))
    ]
    record: dict[str, Any] = {"files": rows}
    if metadata is not None:
        record["requires-dist"] = [_row(Needs.of(r)) for r in metadata.requires_dist]
        record["requires-python"] = (
            None if metadata.requires_python is None else str(metadata.requires_python)
        )
    return json.dumps(record, separators=(",", ":")).encode()


def _row(needs: Needs) -> list[Any]:
    """``needs`` as a record row: what ``dataclasses.astuple`` gives, without its deep
    copy (keeping the large project's records: 40 → 25 ms a lock)."""
    return [needs.name, list(needs.extras), needs.specifier, needs.marker, needs.url]


def store_facts(cache: Cache, key: RecordKey, record: bytes) -> None:
    """Keep ``record`` (see :func:`encode`) under ``key`` (its scope: :func:`scope_of`),
    unless it is kept already."""
    name = _key(key)
    if cache.get_blob(_KIND, name) != record:
        cache.put_blob(_KIND, name, record)


def read_facts(cache: Cache, key: RecordKey) -> ReleaseFacts | None:
    """The record kept under ``key``, or None (never kept, or unreadable)."""
    data = cache.get_blob(_KIND, _key(key))
    if data is None:
        return None
    try:
        record = json.loads(data)
        files = {
            row[0]: FileFacts(row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6])
            for row in record["files"]
        }
        requires = record.get("requires-dist")
        return ReleaseFacts(
            files=files,
            requires_dist=None if requires is None else tuple(_needs(row) for row in requires),
            requires_python=record.get("requires-python"),
        )
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def _needs(row: list[Any]) -> Needs:
    name, extras, specifier, marker, url = row
    return Needs(str(name), tuple(map(str, extras)), str(specifier), marker, url)
