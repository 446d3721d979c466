"""Where a release says its changes are written down: the ``Project-URL`` entries of its
core metadata that name a changelog or release notes (``Changelog``, ``Release notes``,
``Changes``, ``History``, ``What's new``), for ``tumbler update``'s review summary.

The metadata comes from the index's PEP 658 file (``<file-url>.metadata``, cached like
every response), else from the wheel itself by HTTP range requests.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tumbler.errors import TumblerError

if TYPE_CHECKING:
    from tumbler.net.http import Http

__all__ = ["change_links", "changelog_urls"]

#: Project-URL labels (normalised: lower case, letters only) that point at changes.
_LABELS = frozenset(
    {"changelog", "changes", "releasenotes", "release", "releases", "history", "whatsnew", "news"}
)


def _label(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def changelog_urls(project_urls: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """The entries of ``Project-URL`` (label → URL) that name a changelog or release
    notes, in the metadata's order."""
    return tuple((label, url) for label, url in project_urls.items() if _label(label) in _LABELS)


def _metadata_bytes(http: Http, wheel_url: str) -> bytes | None:
    from tumbler.index.metadata import RangeFile, fetch_tail, wheel_metadata

    try:
        response = http.fetch_cached(wheel_url + ".metadata")
        if response.status == 200:
            return bytes(response.body)
        tail, size = fetch_tail(http, wheel_url)
        if size is None:
            return None
        handle = RangeFile(http, wheel_url, size, bytes(tail.body))
        return wheel_metadata(handle, wheel_url)
    except (TumblerError, OSError, ValueError):
        return None


def change_links(http: Http, wheel_url: str) -> tuple[tuple[str, str], ...]:
    """The changelog links of the release a wheel belongs to (none when its metadata
    cannot be read or names none)."""
    from packaging.metadata import parse_email

    data = _metadata_bytes(http, wheel_url)
    if data is None:
        return ()
    raw, _ = parse_email(data)
    return changelog_urls(dict(raw.get("project_urls", {})))
