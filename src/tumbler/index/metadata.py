"""Core metadata of a distribution file, by the cheapest means the index allows.

For a wheel, in order: the PEP 658/714 metadata file (``<url>.metadata``), its hash checked
when the index gave one; else the wheel's ``.dist-info/METADATA`` read through HTTP range
requests (the zip's central directory, then that one member); else the whole wheel. For an
sdist: the file is downloaded and :mod:`tumbler.index.build` reads ``PKG-INFO`` or runs the
PEP 517 hooks. Results are cached forever under the file's sha256 (files are immutable).
"""

from __future__ import annotations

import io
import marshal
import re
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from packaging.markers import InvalidMarker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name

from tumbler.env.markers import parsed_marker
from tumbler.errors import InputError, NetworkError
from tumbler.leaving import guarded
from tumbler.net.store import Store, link_or_copy
from tumbler.net.urls import redact

if TYPE_CHECKING:
    from collections.abc import Iterable
    from concurrent.futures import Future

    from tumbler.index.pages import IndexFile
    from tumbler.net.cache import Cache
    from tumbler.net.http import Http, Response

__all__ = [
    "CoreMetadata",
    "FileSizes",
    "MetadataFetcher",
    "RangeFile",
    "fetch_tail",
    "parse_metadata",
    "wheel_metadata",
]

_TAIL = 64 * 1024
_RANGE_TOTAL = re.compile(r"bytes \d+-\d+/(\d+)")


@dataclass(frozen=True, slots=True)
class CoreMetadata:
    """What resolution needs from a distribution's core metadata."""

    name: NormalizedName
    version: str
    requires_dist: tuple[Requirement, ...]
    requires_python: SpecifierSet | None
    provides_extra: frozenset[NormalizedName]


#: The cache's kind for core metadata already parsed (see :func:`_to_parsed`).
_PARSED = "metadata-parsed"
#: 2: each requirement kept as its parts (name, URL, extras, specifier, marker), so that
#: a later run builds it without packaging's requirement parser (shape 1 kept the text).
_PARSED_SHAPE = 2

#: A requirement as kept: name, URL, extras, specifier text, marker text.
_Parts = tuple[str, str | None, tuple[str, ...], str, str | None]


def _parts(requirement: Requirement) -> _Parts:
    marker = requirement.marker
    return (
        requirement.name,
        requirement.url,
        tuple(sorted(requirement.extras)),
        str(requirement.specifier),
        None if marker is None else str(marker),
    )


def _to_parsed(metadata: CoreMetadata) -> bytes:
    """``metadata`` as kept: what resolution reads from it, as plain strings."""
    return marshal.dumps(
        (
            _PARSED_SHAPE,
            str(metadata.name),
            metadata.version,
            [_parts(r) for r in metadata.requires_dist],
            None if metadata.requires_python is None else str(metadata.requires_python),
            sorted(metadata.provides_extra),
        )
    )


def _from_parsed(data: bytes | None) -> CoreMetadata | None:
    """The metadata kept by :func:`_to_parsed`, or None when absent or not of this shape."""
    if data is None:
        return None
    try:
        shape, name, version, requires, python, extras = marshal.loads(data)
        if shape != _PARSED_SHAPE:
            return None
        return CoreMetadata(
            name=canonicalize_name(name),
            version=version,
            requires_dist=tuple(_requirement(tuple(parts)) for parts in requires),
            requires_python=None if python is None else _specifier(python),
            provides_extra=frozenset(extras),
        )
    except (ValueError, EOFError, TypeError, InvalidSpecifier, InvalidMarker):
        return None


#: Requirements and specifiers by their kept parts or text: releases share most of their
#: requirements (``typing-extensions>=4``) and far more of their specifiers (markers:
#: :func:`~tumbler.env.markers.parsed_marker`); each distinct one is parsed once per run.
_REQUIREMENTS: dict[tuple[object, ...], Requirement] = {}
_SPECIFIERS: dict[str, SpecifierSet] = {}


def _requirement(parts: tuple[object, ...]) -> Requirement:
    """The requirement kept as ``parts`` (:func:`_parts`), built as packaging builds one
    from fields (``Requirement.__replace__``): its public attributes set on a new object,
    the specifier and marker parsed from their own text."""
    known = _REQUIREMENTS.get(parts)
    if known is None:
        name, url, extras, specifier, marker = parts
        if not (isinstance(name, str) and isinstance(specifier, str)):
            raise TypeError("not a kept requirement")
        made = Requirement.__new__(Requirement)
        made.name = name
        made.url = url if isinstance(url, str) else None
        made.extras = {str(e) for e in extras} if isinstance(extras, (list, tuple)) else set()
        made.specifier = _specifier(specifier)
        made.marker = parsed_marker(marker) if isinstance(marker, str) else None
        known = _REQUIREMENTS[parts] = made
    return known


def _specifier(text: str) -> SpecifierSet:
    known = _SPECIFIERS.get(text)
    if known is None:
        known = _SPECIFIERS[text] = SpecifierSet(text)
    return known


def parse_metadata(data: bytes, origin: str) -> CoreMetadata:
    """Parse a METADATA / PKG-INFO document; unparseable requirements are an error."""
    from packaging.metadata import parse_email  # e-mail parsing: only when not kept parsed

    raw, _ = parse_email(data)
    requirements: list[Requirement] = []
    for text in raw.get("requires_dist", []):
        try:
            requirements.append(Requirement(text))
        except InvalidRequirement as error:
            raise InputError(f"{origin}: bad Requires-Dist {text!r}: {error}") from None
    requires_python = None
    if raw.get("requires_python"):
        try:
            requires_python = SpecifierSet(raw["requires_python"])
        except InvalidSpecifier:
            requires_python = None
    return CoreMetadata(
        name=canonicalize_name(raw.get("name", "")),
        version=raw.get("version", ""),
        requires_dist=tuple(requirements),
        requires_python=requires_python,
        provides_extra=frozenset(canonicalize_name(e) for e in raw.get("provides_extra", [])),
    )


def fetch_tail(http: Http, url: str) -> tuple[Response, int | None]:
    """The last 64 KiB of ``url`` (a zip's central directory, usually whole) and the file's
    size, by one range request; the size is None when the server sent something else."""
    response = http.get(url, {"Range": f"bytes=-{_TAIL}"})
    match = _RANGE_TOTAL.match(response.headers.get("content-range", ""))
    total = int(match.group(1)) if response.status == 206 and match else None
    return response, total


class RangeFile(io.RawIOBase):
    """A seekable view of a remote file that fetches only the byte ranges read (or given
    ahead with :meth:`add`); :attr:`received` counts the bytes fetched."""

    def __init__(self, http: Http, url: str, size: int, tail: bytes) -> None:
        self._http = http
        self._url = url
        self._size = size
        self._chunks: list[tuple[int, bytes]] = [(size - len(tail), tail)]
        self._pos = 0
        self.received = len(tail)

    def add(self, start: int, data: bytes) -> None:
        """Bytes ``start`` … of the file, fetched ahead of reading them."""
        self._chunks.append((start, data))

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, min(self._size, base + offset))
        return self._pos

    def _covered(self, start: int, end: int) -> bytes | None:
        for chunk_start, data in self._chunks:
            if chunk_start <= start and end <= chunk_start + len(data):
                return data[start - chunk_start : end - chunk_start]
        return None

    def read(self, size: int = -1) -> bytes:
        end = self._size if size < 0 else min(self._size, self._pos + size)
        if end <= self._pos:
            return b""
        data = self._covered(self._pos, end)
        if data is None:
            fetch_end = min(self._size, max(end, self._pos + _TAIL))
            response = self._http.get(self._url, {"Range": f"bytes={self._pos}-{fetch_end - 1}"})
            if response.status != 206:
                raise NetworkError(f"range request to {redact(self._url)} failed")
            self._chunks.append((self._pos, response.body))
            self.received += len(response.body)
            data = response.body[: end - self._pos]
        self._pos += len(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def wheel_metadata(handle: IO[bytes] | io.IOBase, origin: str) -> bytes:
    """The ``.dist-info/METADATA`` of the wheel read from ``handle``; a damaged wheel is an
    :class:`InputError` naming ``origin``."""
    import zipfile

    try:
        with zipfile.ZipFile(handle) as archive:
            names = [
                n
                for n in archive.namelist()
                if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
            ]
            if len(names) != 1:
                raise InputError(f"{origin}: not one .dist-info/METADATA in the wheel")
            return archive.read(names[0])
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError) as error:
        raise InputError(f"{origin}: not a readable wheel: {error}") from None


class FileSizes:
    """Sizes of index files whose page gave none (HTML pages never do).

    A size comes from what was learnt on the way (a range request's ``Content-Range``, a
    download), else from the cache (kept by sha256: files are immutable), else from a
    one-byte range request (:meth:`Http.size`). :meth:`probe` starts those requests early,
    on the leaf pool, while resolution goes on; :meth:`of` waits for what is still missing
    and keeps new sizes in the cache.
    """

    def __init__(self, http: Http) -> None:
        self._http = http
        self._lock = threading.Lock()
        self._known: dict[str, int] = {}
        self._pending: dict[str, Future[int | None]] = {}
        #: URLs whose size the cache already holds (read from it, or written to it).
        self._stored: set[str] = set()

    def learn(self, url: str, size: int) -> None:
        """Record a size found on the way."""
        with self._lock:
            self._known[url] = size

    def _cached(self, file: IndexFile) -> int | None:
        key = file.hashes.get("sha256")
        cache = self._http.cache
        data = cache.get_blob("size", key) if cache is not None and key else None
        return int(data) if data is not None else None

    def probe(self, files: Iterable[IndexFile]) -> None:
        """Start finding the sizes of ``files`` without waiting."""
        for file in files:
            if file.size is not None:
                continue
            with self._lock:
                if file.url in self._known or file.url in self._pending:
                    continue
            cached = self._cached(file)
            with self._lock:
                if cached is not None:
                    self._known[file.url] = cached
                    self._stored.add(file.url)
                elif not self._http.offline and not self._http.closed:
                    self._pending[file.url] = self._http.size_later(file.url)

    def of(self, files: Iterable[IndexFile]) -> dict[str, int]:
        """URL → size for ``files`` (blocking); sizes no one could learn are left out."""
        files = list(files)
        self.probe(files)
        out: dict[str, int] = {}
        for file in files:
            if file.size is not None:
                out[file.url] = file.size
                continue
            with self._lock:
                size = self._known.get(file.url)
                future = self._pending.get(file.url)
            if size is None and future is not None:
                size = future.result()
                if size is not None:
                    self.learn(file.url, size)
            if size is None:
                continue
            out[file.url] = size
            key = file.hashes.get("sha256")
            cache = self._http.cache
            if cache is not None and key and file.url not in self._stored:
                # Kept by file hash, so that a later offline run writes the same sizes.
                cache.put_blob("size", key, str(size).encode())
                self._stored.add(file.url)
        return out


class MetadataFetcher:
    """Fetch and cache core metadata; safe to call from many threads."""

    def __init__(self, http: Http, cache: Cache | None) -> None:
        self._http = http
        self._cache = cache
        #: Sizes of index files, including those learnt on the way (ranges, downloads).
        self.sizes = FileSizes(http)

    @staticmethod
    def _key(file: IndexFile) -> str:
        digest = file.hashes.get("sha256")
        if digest:
            return digest
        import hashlib

        return hashlib.sha256(file.url.encode()).hexdigest()

    def get(self, file: IndexFile) -> CoreMetadata:
        """The core metadata of ``file`` (a wheel or an sdist): from the cache's parsed
        form when it has one (no e-mail parse), else read, parsed and both kept."""
        key = self._key(file)
        cache = self._cache
        if cache is not None:
            parsed = _from_parsed(cache.get_blob(_PARSED, key))
            if parsed is not None:
                return parsed
        data = cache.get_blob("metadata", key) if cache is not None else None
        if data is None:
            data = self._wheel(file) if file.is_wheel else self._sdist(file)
            if cache is not None:
                cache.put_blob("metadata", key, data)
        metadata = parse_metadata(data, file.filename)
        if cache is not None:
            cache.put_blob(_PARSED, key, _to_parsed(metadata))
        return metadata

    def _tail(self, file: IndexFile) -> Response:
        response, total = fetch_tail(self._http, file.url)
        if total is not None:
            self.sizes.learn(file.url, total)
        return response

    def _wheel(self, file: IndexFile) -> bytes:
        # The metadata file only when the page offers it (PEP 658/714): asking for one
        # that is not offered costs a round trip, and mirrors answer it slowly.
        if file.metadata:
            response = self._http.get(file.url + ".metadata")
            if response.status == 200:
                import hashlib

                expected = file.metadata if isinstance(file.metadata, dict) else {}
                for algorithm, digest in expected.items():
                    if algorithm in hashlib.algorithms_available:
                        actual = hashlib.new(algorithm, response.body).hexdigest()
                        if actual != digest:
                            raise InputError(
                                f"{file.filename}: the index's metadata file does not match "
                                f"its {algorithm} hash"
                            )
                return response.body
        return self._wheel_by_range(file, self._tail(file))

    def _wheel_by_range(self, file: IndexFile, response: Response) -> bytes:
        if response.status == 206:
            match = _RANGE_TOTAL.match(response.headers.get("content-range", ""))
            if match:
                size = int(match.group(1))
                if size <= len(response.body):
                    return self._from_zip(io.BytesIO(response.body), file)
                remote = RangeFile(self._http, file.url, size, response.body)
                return self._from_zip(remote, file)
            response = self._http.get(file.url)
        if response.status != 200:
            raise NetworkError(f"cannot fetch {redact(file.url)}: HTTP {response.status}")
        self.sizes.learn(file.url, len(response.body))
        return self._from_zip(io.BytesIO(response.body), file)

    @staticmethod
    def _from_zip(handle: io.IOBase, file: IndexFile) -> bytes:
        return wheel_metadata(handle, file.filename)

    def _sdist(self, file: IndexFile) -> bytes:
        import hashlib
        import tempfile

        from tumbler.index.build import metadata_from_sdist

        # guarded: a build leaves a temporary directory and a subprocess behind if cut short
        with guarded() as allowed, tempfile.TemporaryDirectory(prefix="tumbler-sdist-") as temp:
            if not allowed:
                raise NetworkError(f"{file.filename}: not built, tumbler is exiting")
            path = Path(temp) / file.filename
            expected = file.hashes.get("sha256")
            # The file store is shared with ``tumbler install``: an sdist either downloaded
            # (verified) is not downloaded again, by either.
            store = None if self._http.cache is None else Store(self._http.cache)
            stored = None if store is None or not expected else store.lookup({"sha256": expected})
            if stored is not None:
                return metadata_from_sdist(link_or_copy(stored, path))
            response = self._http.request("GET", file.url, into=path)
            if response.status != 200:
                raise NetworkError(f"cannot fetch {redact(file.url)}: HTTP {response.status}")
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if expected and digest != expected:
                raise InputError(f"{file.filename}: download does not match the index's sha256")
            self.sizes.learn(file.url, len(data))
            if store is not None:
                store.keep(path, "sha256", digest)
            return metadata_from_sdist(path)
