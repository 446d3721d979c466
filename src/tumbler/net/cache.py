"""The on-disk cache: HTTP responses with their validators, and immutable blobs by key.

Layout under the cache root (``TUMBLER_CACHE_DIR``, else ``$XDG_CACHE_HOME/tumbler``, else
``~/.cache/tumbler``)::

    http/<aa>/<sha256 of URL>          one cached response: a JSON line of meta, then the body
    blob/<kind>/<aa>/<key>             immutable bytes, e.g. core metadata by file sha256

Every write goes to a temporary file in the same directory and is renamed into place, so
a reader in another process sees the old entry or the new one, never half of one; two
writers racing write the same content and the last rename wins. Nothing is ever edited in
place, so no lock files are needed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tumbler.errors import CacheError
from tumbler.leaving import guarded

__all__ = ["Cache", "default_cache_dir"]


def default_cache_dir() -> Path:
    """Where the cache lives unless told otherwise."""
    explicit = os.environ.get("TUMBLER_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "tumbler"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _write(path: Path, *parts: bytes) -> None:
    with guarded() as allowed:
        if not allowed:
            return  # the process is leaving: a cache entry is never owed
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise CacheError(
                f"the cache cannot hold {path.parent}: a file stands where a folder should "
                "(TUMBLER_CACHE_DIR or --cache-dir names a file?)"
            ) from None
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                for data in parts:
                    handle.write(data)
            Path(temp).replace(path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


@dataclass(frozen=True, slots=True)
class Cache:
    """A cache directory; all methods are safe to call from many threads and processes."""

    root: Path

    # A warm lock reads about a thousand cached files: their paths are built as plain
    # strings (pathlib's parsing cost more than the open), and as Path only for writes.

    def _http_file(self, url: str) -> str:
        key = _digest(url)
        return f"{os.fspath(self.root)}/http/{key[:2]}/{key}"

    def _http_path(self, url: str) -> Path:
        return Path(self._http_file(url))

    def get_response(self, url: str) -> tuple[dict[str, Any], bytes] | None:
        """The cached response for ``url``: its metadata and its raw body, or None."""
        try:
            data = self._http_path(url).read_bytes()
        except OSError:
            return None
        head, sep, body = data.partition(b"\n")
        try:
            meta = json.loads(head) if sep else None
        except ValueError:
            return None
        return (meta, body) if isinstance(meta, dict) else None

    def get_response_meta(self, url: str) -> dict[str, Any] | None:
        """The metadata line of the cached response for ``url`` alone (pages run to
        megabytes; deciding whether to revalidate needs only this)."""
        try:
            with open(self._http_file(url), "rb") as handle:  # noqa: PTH123
                head = handle.readline()
        except OSError:
            return None
        try:
            meta = json.loads(head) if head.endswith(b"\n") else None
        except ValueError:
            return None
        return meta if isinstance(meta, dict) else None

    def put_response(self, url: str, meta: dict[str, Any], body: bytes) -> None:
        """Store a response for ``url``: one JSON line of metadata, then the body as is."""
        head = json.dumps(meta, separators=(",", ":")).encode() + b"\n"
        _write(self._http_path(url), head, body)

    def _blob_file(self, kind: str, key: str) -> str:
        safe = _digest(key) if not key.isalnum() else key
        return f"{os.fspath(self.root)}/blob/{kind}/{safe[:2]}/{safe}"

    def _blob_path(self, kind: str, key: str) -> Path:
        return Path(self._blob_file(kind, key))

    def get_blob(self, kind: str, key: str) -> bytes | None:
        """The immutable bytes stored under ``kind``/``key``, or None."""
        try:
            with open(self._blob_file(kind, key), "rb") as handle:  # noqa: PTH123
                return handle.read()
        except OSError:
            return None

    def put_blob(self, kind: str, key: str, data: bytes) -> None:
        """Store immutable ``data`` under ``kind``/``key``."""
        _write(self._blob_path(kind, key), data)

    def blob_path(self, kind: str, key: str) -> Path:
        """Where ``kind``/``key`` lives (it may not exist yet)."""
        return self._blob_path(kind, key)

    def put_blob_file(self, kind: str, key: str, source: Path) -> Path:
        """Move the finished file ``source`` into the cache; return its cached path."""
        target = self._blob_path(kind, key)
        with guarded():  # a rename: nothing to skip, but not to be cut short either
            target.parent.mkdir(parents=True, exist_ok=True)
            source.replace(target)
        return target
