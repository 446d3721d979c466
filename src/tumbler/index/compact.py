"""A project page parsed once: its rows grouped by version, kept compact in the cache.

A large project's page is megabytes of JSON or HTML with thousands of files, and every
lock reads it again (indexes here send no caching headers, and an offline lock reads the
cached body). :func:`encode` keeps the page's rows grouped by version, each version's
rows serialised apart (``marshal``: the rows are plain strings, numbers, dicts); a
:class:`CompactPage` decodes the version list at once and a version's rows only when
resolution asks for that version. Stored under the page body's sha256 (``blob/page``):
the same bytes always give the same rows, and a changed page is a new key.
"""

from __future__ import annotations

import marshal
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

from packaging.version import InvalidVersion, Version

from tumbler.errors import CacheError
from tumbler.index.pages import Row

if TYPE_CHECKING:
    from pathlib import Path

    from tumbler.net.cache import Cache

__all__ = ["CompactPage", "Versions", "encode", "keep_page", "kept_page"]

_KIND = "page"
#: What a kept page starts with (then the header's length, 8 bytes big-endian).
_MAGIC = b"tumbler-page\n"
#: The stored shape (bumped when it changes; marshal's format follows the Python version).
_SHAPE = (1, sys.version_info[:2])


def encode(grouped: Sequence[tuple[Version, Sequence[Row]]]) -> bytes | None:
    """The compact form of a grouped page; None when its rows name several bases.

    A header (shape, base, version texts, where each version's rows end), its length in
    front, then each version's rows: a reader decodes the header and reads a version's
    rows only when asked for them."""
    bases = {row.base for _, rows in grouped for row in rows}
    if len(bases) > 1:
        return None
    base = bases.pop() if bases else ""
    texts = [str(version) for version, _ in grouped]
    chunks = [marshal.dumps([(r.filename, r.raw) for r in rows]) for _, rows in grouped]
    ends, total = [], 0
    for chunk in chunks:
        total += len(chunk)
        ends.append(total)
    header = marshal.dumps((_SHAPE, base, texts, ends))
    return b"".join([_MAGIC, len(header).to_bytes(8, "big"), header, *chunks])


class _Rows(Sequence[Row]):
    """One version's rows, read from the kept page and decoded on first use."""

    __slots__ = ("_base", "_path", "_rows", "_span")

    def __init__(self, path: Path, span: tuple[int, int], base: str) -> None:
        self._path = path
        self._span = span
        self._base = base
        self._rows: list[Row] | None = None

    def _decoded(self) -> list[Row]:
        rows = self._rows
        if rows is None:
            start, end = self._span
            try:
                with self._path.open("rb") as handle:
                    handle.seek(start)
                    data = handle.read(end - start)
                found = marshal.loads(data)
            except (OSError, ValueError, EOFError, TypeError):
                raise CacheError(
                    f"the cache entry {self._path} changed while this run read it: run again"
                ) from None
            base = self._base
            rows = self._rows = [Row(f, raw, base) for f, raw in found]
        return rows

    def __len__(self) -> int:
        return len(self._decoded())

    @overload
    def __getitem__(self, index: int) -> Row: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Row]: ...
    def __getitem__(self, index: int | slice) -> Row | Sequence[Row]:
        return self._decoded()[index]

    def __iter__(self) -> Iterator[Row]:
        return iter(self._decoded())


class Versions(Sequence[tuple[Version, Sequence[Row]]]):
    """A kept page's versions with their rows, newest first, each version parsed only
    when reached: resolution mostly stops at the first few of a project's hundred
    versions, and a version's rows are found by its text without parsing the rest."""

    __slots__ = ("_parsed", "_rows", "_texts", "_where")

    def __init__(self, texts: list[str], rows: list[_Rows]) -> None:
        self._texts = texts
        self._rows = rows
        #: Each version once parsed (threads may race to parse one: both get equal values).
        self._parsed: list[Version | None] = [None] * len(texts)
        self._where: dict[str, int] | None = None

    def _version(self, index: int) -> Version:
        version = self._parsed[index]
        if version is None:
            text = self._texts[index]
            try:
                version = self._parsed[index] = Version(text)
            except InvalidVersion:
                raise CacheError(f"a kept page lists {text!r}, not a version: run again") from None
        return version

    def __len__(self) -> int:
        return len(self._texts)

    @overload
    def __getitem__(self, index: int) -> tuple[Version, Sequence[Row]]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[tuple[Version, Sequence[Row]]]: ...
    def __getitem__(
        self, index: int | slice
    ) -> tuple[Version, Sequence[Row]] | Sequence[tuple[Version, Sequence[Row]]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._version(index), self._rows[index]

    def __iter__(self) -> Iterator[tuple[Version, Sequence[Row]]]:
        for index in range(len(self._texts)):
            yield self._version(index), self._rows[index]

    def rows_for(self, version: Version) -> Sequence[Row] | None:
        """The rows of ``version`` (found by its text: the page kept ``str(version)``)."""
        where = self._where
        if where is None:
            where = self._where = {text: i for i, text in enumerate(self._texts)}
        index = where.get(str(version))
        return None if index is None else self._rows[index]


class CompactPage:
    """A page's versions, newest first, with their rows read and decoded lazily."""

    __slots__ = ("versions",)

    def __init__(self, versions: Versions) -> None:
        self.versions = versions

    @classmethod
    def open(cls, path: Path) -> CompactPage | None:
        """The page kept at ``path``, or None when there is none of this shape."""
        head = len(_MAGIC) + 8
        try:
            with path.open("rb") as handle:
                magic = handle.read(head)
                size = int.from_bytes(magic[len(_MAGIC) :], "big")
                if not magic.startswith(_MAGIC) or size > path.stat().st_size - head:
                    return None
                shape, base, texts, ends = marshal.loads(handle.read(size))
        except (OSError, ValueError, EOFError, TypeError):
            return None
        if shape != _SHAPE or len(texts) != len(ends) or not isinstance(base, str):
            return None
        rows: list[_Rows] = []
        start = head + size
        for end in ends:
            span = (start, head + size + end)
            rows.append(_Rows(path, span, base))
            start = span[1]
        return cls(Versions(list(texts), rows))


def kept_page(cache: Cache, digest: str) -> CompactPage | None:
    """The kept compact form of the page whose body has sha256 ``digest``, if any."""
    return CompactPage.open(cache.blob_path(_KIND, digest))


def keep_page(cache: Cache, digest: str, grouped: Sequence[tuple[Version, Sequence[Any]]]) -> None:
    """Keep the grouped page (rows as :class:`Row`) of the body with sha256 ``digest``."""
    data = encode(grouped)
    if data is not None:
        cache.put_blob(_KIND, digest, data)
