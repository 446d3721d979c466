"""The simple repository API (PEP 503 HTML, PEP 691 JSON) as typed, immutable values.

:func:`parse_page` turns one project page, HTML or JSON, into lazily parsed rows;
:func:`index_file` turns a row into an :class:`IndexFile`. Both are pure. PEP 592
(yanked), PEP 658/714 (core metadata files), PEP 700 (size, upload time), PEP 740
(provenance links) and ``data-requires-python`` are all read; HTML pages may carry
``data-upload-time`` too.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urljoin

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from tumbler.errors import NetworkError
from tumbler.net.urls import redact

if TYPE_CHECKING:
    from collections.abc import Mapping

    from packaging.tags import Tag
    from packaging.utils import NormalizedName


__all__ = [
    "ACCEPT",
    "IndexFile",
    "Row",
    "file_name_parts",
    "group_rows",
    "index_file",
    "page_url",
    "parse_page",
    "version_rows",
]

#: What we ask for: JSON first, then HTML (PEP 691 content negotiation).
ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
#: An anchor's attributes: quoted values may hold a bare ``>`` (``data-requires-python=">=3.12"``,
#: which pip and uv read), so a quote is read to its end before looking for the ``>``.
_ATTRIBUTES = r"""([^>"']*(?:(?:"[^"]*"|'[^']*')[^>"']*)*)"""
_ANCHOR = re.compile(rf"<a\s{_ATTRIBUTES}>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_ATTRIBUTE = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_BASE = re.compile(r"<base\s[^>]*href\s*=\s*[\"']([^\"']+)", re.IGNORECASE)


def page_url(index: str, name: str) -> str:
    """The project page of ``name`` (normalized) on the index at ``index``."""
    return index.rstrip("/") + "/" + name + "/"


def _hashes_from_fragment(url: str) -> tuple[str, dict[str, str]]:
    base, _, fragment = url.partition("#")
    hashes: dict[str, str] = {}
    for part in fragment.split("&"):
        algorithm, sep, value = part.partition("=")
        if sep and algorithm in ("sha256", "sha384", "sha512", "sha1", "md5", "blake2b"):
            hashes[algorithm] = value.lower()
    return base, hashes


def _metadata_attribute(value: str | None) -> bool | dict[str, str] | None:
    if value is None:
        return None
    if value.lower() == "true" or not value:
        return True
    algorithm, sep, digest = value.partition("=")
    return {algorithm: digest.lower()} if sep else True


def _unescape(text: str) -> str:
    """``html.unescape``, loaded only for text with an entity (its table costs every
    run that parses no HTML)."""
    if "&" not in text:
        return text
    from html import unescape

    return unescape(text)


def _redact(url: str) -> str:
    # Cheap test first: almost no file URL carries credentials.
    head = url.split("/", 3)[2] if "://" in url else ""
    return redact(url) if "@" in head else url


def _html_row(attributes_text: str, base: str) -> list[Any] | None:
    attributes = {
        key.lower(): _unescape(a if a or not (b or c) else (b or c))
        for key, a, b, c in _ATTRIBUTE.findall(attributes_text)
    }
    href = attributes.get("href")
    if not href:
        return None
    # Indexes write absolute file URLs almost always: skip the join then.
    absolute, hashes = _hashes_from_fragment(
        href if href.startswith(("https://", "http://")) else urljoin(base, href)
    )
    metadata = _metadata_attribute(
        attributes.get("data-core-metadata", attributes.get("data-dist-info-metadata"))
    )
    size = attributes.get("data-size")
    return [
        _redact(absolute),
        hashes,
        attributes.get("data-requires-python") or None,
        attributes.get("data-yanked"),
        attributes.get("data-upload-time"),
        int(size) if size and size.isdecimal() else None,
        metadata,
        _absolute(attributes.get("data-provenance"), base),
    ]


def _absolute(url: str | None, base: str) -> str | None:
    """A link from the page (PEP 740's provenance URL), absolute; None when absent."""
    if not url:
        return None
    return _redact(url if url.startswith(("https://", "http://")) else urljoin(base, url))


def _file_url(base: str, url: str) -> str:
    """``urljoin(base, url)`` without its fragment. An absolute ASCII URL with a host and
    no query, parameters, brackets, tabs, line breaks or trailing space (what indexes
    link to) is its own join: no parse."""
    host = url[8:] if url.startswith("https://") else url[7:] if url.startswith("http://") else ""
    if (
        host[:1].isalnum()
        and url.isascii()
        and url[-1] > " "
        and not any(c in url for c in "?;[]\t\r\n")
    ):
        return url.partition("#")[0]
    return urljoin(base, url).partition("#")[0]


def _json_row(entry: Mapping[str, Any], base: str) -> list[Any]:
    yanked = entry.get("yanked", False)
    metadata = entry.get("core-metadata", entry.get("dist-info-metadata"))
    size = entry.get("size")
    return [
        _redact(_file_url(base, entry["url"])),
        {k: str(v).lower() for k, v in (entry.get("hashes") or {}).items()},
        entry.get("requires-python") or None,
        None if yanked is False else ("" if yanked is True else str(yanked)),
        entry.get("upload-time"),
        size if isinstance(size, int) else None,
        metadata if metadata not in (False, None) else None,
        _absolute(
            provenance if isinstance(provenance := entry.get("provenance"), str) else None, base
        ),
    ]


class Row(NamedTuple):
    """One file on a page, parsed only as far as its name; :func:`index_file` does the rest.

    Pages list thousands of files and a resolution looks at a handful, so the attributes
    are read only for the versions the resolver asks about. (A named tuple rather than a
    frozen dataclass: pages make a hundred thousand of these, and it is built faster.)
    """

    filename: str
    raw: str | Mapping[str, Any]
    base: str

    def fields(self) -> list[Any] | None:
        """url, hashes, requires-python, yanked, upload-time, size, metadata, provenance."""
        if isinstance(self.raw, str):
            return _html_row(self.raw, self.base)
        return _json_row(self.raw, self.base)


def _parse_html(text: str, url: str) -> list[Row]:
    base_match = _BASE.search(text)
    base = urljoin(url, base_match.group(1)) if base_match else url
    rows: list[Row] = []
    for attributes_text, label in _ANCHOR.findall(text):
        filename = _unescape(label).strip()
        if filename:
            rows.append(Row(filename, attributes_text, base))
    return rows


_ANCHOR_BYTES = re.compile(rb"<a\s" + _ATTRIBUTES.encode() + rb">([^<]*)</a", re.IGNORECASE)
_BASE_BYTES = re.compile(rb"<base\s[^>]*href\s*=\s*[\"']([^\"']+)", re.IGNORECASE)


def version_rows(body: bytes, content_type: str, url: str, version: Version) -> list[Row] | None:
    """The rows of ``version`` alone, found without parsing the whole page.

    For an HTML page only (None otherwise): the raw bytes are searched for the version's
    normalized text between dashes (or before the sdist suffix), and only the anchors
    around the hits are parsed. A lock's pins are normalized, so re-locking or checking an
    up-to-date lock never parses the thousands of other rows.
    """
    if "json" in content_type:
        return None
    text = str(version).encode()
    starts: set[int] = set()
    for needle in (b"-" + text + b"-", b"-" + text + b".tar.gz", b"-" + text + b".zip"):
        position = body.find(needle)
        while position != -1:
            # Lower-case anchors only (what indexes write); a page of <A> finds nothing here
            # and the caller falls back to parsing the page.
            start = body.rfind(b"<a", 0, position)
            if start != -1:
                starts.add(start)
            position = body.find(needle, position + len(needle))
    base_match = _BASE_BYTES.search(body)
    base = urljoin(url, base_match.group(1).decode()) if base_match else url
    rows: list[Row] = []
    for start in sorted(starts):
        match = _ANCHOR_BYTES.match(body, start)
        if match is None:
            continue
        label = _unescape(match.group(2).decode()).strip()
        if _version_text(label) == str(version):
            rows.append(Row(label, match.group(1).decode(), base))
    return rows


def parse_page(body: bytes, content_type: str, url: str) -> list[Row]:
    """A project page (HTML or JSON) as lazily parsed rows."""
    if "json" in content_type:
        try:
            data = json.loads(body)
        except ValueError as error:
            raise NetworkError(f"{redact(url)}: the index sent unreadable JSON ({error})") from None
        files = data.get("files") if isinstance(data, dict) else None
        if not isinstance(files, list):
            raise NetworkError(f"{redact(url)}: the index's JSON page has no 'files' list")
        return [
            Row(e["filename"], e, url)
            for e in files
            if isinstance(e, dict)
            and isinstance(e.get("filename"), str)
            and isinstance(e.get("url"), str)
        ]
    return _parse_html(body.decode("utf-8", "replace"), url)


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexFile:
    """One file on a project page, with what its name and the page tell about it."""

    filename: str
    url: str
    hashes: Mapping[str, str]
    requires_python: SpecifierSet | None
    #: None when not yanked, else the reason (possibly empty).
    yanked: str | None
    upload_time: datetime | None
    size: int | None
    #: PEP 658/714: True or the metadata file's hashes when the index offers it.
    metadata: bool | Mapping[str, str] | None
    version: Version
    #: Wheel tags; empty for an sdist.
    tags: frozenset[Tag]
    #: The index URL (no credentials) whose page listed the file.
    index: str
    #: PEP 740: where the index serves the file's provenance (``data-provenance``).
    provenance: str | None = None

    @property
    def is_wheel(self) -> bool:
        """Whether this is a wheel (else an sdist)."""
        return self.filename.endswith(".whl")


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _specifier(text: str | None) -> SpecifierSet | None:
    if not text:
        return None
    known = _SPECIFIERS.get(text, _UNSEEN)
    if known is _UNSEEN:
        try:
            known = SpecifierSet(text)
        except InvalidSpecifier:
            known = None
        _SPECIFIERS[text] = known
    return known  # type: ignore[return-value]


#: Requires-Python specifiers by text: a project's files repeat a few (never mutated).
_SPECIFIERS: dict[str, SpecifierSet | None] = {}
_UNSEEN = object()


def _version_text(filename: str) -> str | None:
    if filename.endswith(".whl"):
        parts = filename.split("-")
        return parts[1] if len(parts) in (5, 6) else None
    for suffix in (".tar.gz", ".zip"):
        if filename.endswith(suffix):
            stem = filename[: -len(suffix)]
            return stem.rsplit("-", 1)[1] if "-" in stem else None
    return None


def group_rows(rows: list[Row]) -> list[tuple[Version, list[Row]]]:
    """Rows grouped by the version their file name gives, newest first (cheap: no tags)."""
    by_text: dict[str, list[Row]] = {}
    for row in rows:
        text = _version_text(row.filename)
        if text is not None:
            by_text.setdefault(text, []).append(row)
    by_version: dict[Version, list[Row]] = {}
    for text, group in by_text.items():
        try:
            version = Version(text)
        except InvalidVersion:
            continue
        by_version.setdefault(version, []).extend(group)
    return sorted(by_version.items(), key=lambda item: item[0], reverse=True)


@functools.cache
def file_name_parts(filename: str) -> tuple[str, Version, frozenset[Tag]] | None:
    """Project, version and wheel tags (empty for an sdist) from a file name, or None.

    Remembered by name: a universal lock judges the same files for every target (a
    thousand targets' worth of wheel names parsed once; the values are immutable)."""
    try:
        if filename.endswith(".whl"):
            if filename.count("-") == 4:  # no build tag: the usual shape, by its parts
                name_part, version_part, python, abi, platform = filename[:-4].split("-")
                return (
                    _wheel_name(name_part),
                    _wheel_version(version_part),
                    _wheel_tags(f"{python}-{abi}-{platform}"),
                )
            project, version, _, tags = parse_wheel_filename(filename)
            return project, version, _interned(tags)
        if filename.endswith((".tar.gz", ".zip")):
            project, version = parse_sdist_filename(filename)
            return project, version, frozenset()
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


# A page repeats each part of its wheel names across files (the project, one version per
# release, the same tag triples per release): packaging parses each distinct part once.
# Each helper parses a stand-in file name with only that part varying, so packaging's
# own rules accept or refuse it (InvalidWheelFilename).


@functools.cache
def _wheel_name(part: str) -> NormalizedName:
    return parse_wheel_filename(f"{part}-0-py3-none-any.whl")[0]


@functools.cache
def _wheel_version(part: str) -> Version:
    return parse_wheel_filename(f"x-{part}-py3-none-any.whl")[1]


@functools.cache
def _wheel_tags(part: str) -> frozenset[Tag]:
    return _interned(parse_wheel_filename(f"x-0-{part}.whl")[3])


#: One object per distinct tag and per distinct set of tags: a universal lock reads tens
#: of thousands of wheel names that carry a few hundred different tags.
_TAGS: dict[Tag, Tag] = {}
_TAG_SETS: dict[frozenset[Tag], frozenset[Tag]] = {}


@functools.cache
def tag_text(tag: Tag) -> str:
    """``str(tag)``, worked out once per tag (tags from wheel names are interned)."""
    return str(tag)


def _interned(tags: frozenset[Tag]) -> frozenset[Tag]:
    known = _TAG_SETS.get(tags)
    if known is None:
        known = _TAG_SETS.setdefault(tags, frozenset(_TAGS.setdefault(t, t) for t in tags))
    return known


def index_file(
    row: Row,
    name: str,
    index: str,
    parts: tuple[str, Version, frozenset[Tag]] | None = None,
) -> IndexFile | None:
    """The :class:`IndexFile` of one row, or None when it is not a file of ``name``.

    ``parts`` is :func:`file_name_parts` of the row when the caller has it already.
    """
    filename = row.filename
    if parts is None:
        parts = file_name_parts(filename)
    if parts is None or parts[0] != name:
        return None
    fields = row.fields()
    if fields is None:
        return None
    url, hashes, requires_python, yanked, upload, size, metadata, provenance = fields
    return IndexFile(
        filename=filename,
        url=url,
        hashes=hashes,
        requires_python=_specifier(requires_python),
        yanked=yanked,
        upload_time=_time(upload),
        size=size,
        metadata=metadata,
        version=parts[1],
        tags=parts[2],
        index=index,
        provenance=provenance,
    )
