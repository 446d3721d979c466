"""Advisories indexed by package, from a local copy of OSV's PyPI data or the OSV API.

OSV publishes each ecosystem's records as ``all.zip`` (one ``<ID>.json`` per record).
:func:`read_database` reads that zip or the folder it unpacks to (``--vuln-db PATH``);
:func:`build_database` indexes parsed records by normalised package name, and the
database's date is the newest ``modified`` time among its records.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging.utils import NormalizedName, canonicalize_name

from tumbler.advisories.osv import parse_advisory
from tumbler.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from datetime import datetime
    from pathlib import Path

    from tumbler.advisories.osv import Advisory

__all__ = ["Database", "build_database", "read_database", "records_of"]

#: A record larger than this is not OSV's (the biggest PyPI records are a few hundred KB).
_MAX_RECORD_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Database:
    """Advisories by package name, and where they came from."""

    #: ``OSV PyPI data at PATH`` or ``OSV API at URL``.
    origin: str
    by_package: Mapping[NormalizedName, tuple[Advisory, ...]] = field(default_factory=dict)
    #: How many records it holds.
    records: int = 0
    #: The newest ``modified`` time of its records: how current it is.
    newest: datetime | None = None

    def advisories_for(self, name: str) -> tuple[Advisory, ...]:
        """Every advisory naming ``name`` (any spelling)."""
        return self.by_package.get(canonicalize_name(name), ())

    @property
    def date(self) -> str:
        """The database's date (``2025-12-11``), or ``unknown``."""
        return self.newest.date().isoformat() if self.newest is not None else "unknown"


def build_database(advisories: Iterable[Advisory], origin: str) -> Database:
    """``advisories`` indexed by each PyPI package they name (pure)."""
    index: dict[NormalizedName, dict[str, Advisory]] = {}
    newest: datetime | None = None
    count = 0
    for advisory in advisories:
        count += 1
        if advisory.modified is not None and (newest is None or advisory.modified > newest):
            newest = advisory.modified
        for entry in advisory.affected:
            index.setdefault(entry.name, {})[advisory.id] = advisory
    by_package = {name: tuple(found.values()) for name, found in index.items()}
    return Database(origin=origin, by_package=by_package, records=count, newest=newest)


def _decoded(data: bytes, origin: str) -> Advisory:
    try:
        return parse_advisory(json.loads(data), origin)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{origin}: not JSON: {error}") from None


def _from_zip(path: Path) -> Iterator[Advisory]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        raise InputError(
            f"{path}: cannot read the vulnerability database ({error}); give OSV's PyPI "
            "all.zip or the folder it unpacks to"
        ) from None
    with archive:
        for info in archive.infolist():
            if info.is_dir() or not info.filename.endswith(".json"):
                continue
            if info.file_size > _MAX_RECORD_BYTES:
                raise InputError(f"{path}:{info.filename}: too large for an OSV record")
            yield _decoded(archive.read(info), f"{path}:{info.filename}")


def _from_folder(path: Path) -> Iterator[Advisory]:
    for file in sorted(path.rglob("*.json")):
        if file.stat().st_size > _MAX_RECORD_BYTES:
            raise InputError(f"{file}: too large for an OSV record")
        yield _decoded(file.read_bytes(), str(file))


def records_of(path: Path) -> Iterator[Advisory]:
    """Every record of OSV data at ``path``: a zip of ``*.json`` files, or a folder of them."""
    if path.is_dir():
        return _from_folder(path)
    if not path.exists():
        raise InputError(
            f"{path}: no such file or folder (--vuln-db: OSV's PyPI all.zip, or its unpacked "
            "folder)"
        )
    return _from_zip(path)


def read_database(path: Path) -> Database:
    """The OSV data at ``path``; one that holds no record is refused (a wrong path)."""
    database = build_database(records_of(path), f"OSV PyPI data at {path}")
    if database.records == 0:
        raise InputError(f"{path}: holds no OSV records (*.json); is it OSV's PyPI all.zip?")
    return database
