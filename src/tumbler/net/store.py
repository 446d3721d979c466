"""The content store: verified files in the cache, addressed by a hash the lock records.

``files/<algorithm>/<aa>/<hexdigest>``: whatever it holds was checked against a lock (or
built and hashed by tumbler) before it was filed; lock, install, surfaces and builds share
it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from tumbler.net.cache import Cache

__all__ = ["Store", "link_or_copy"]

#: The store's key algorithm, when the lock records it (it nearly always does).
_PREFERRED = "sha256"


class Store:
    """The cache's verified files, addressed by a hash the lock records."""

    def __init__(self, cache: Cache) -> None:
        self.root = cache.root / "files"

    def key(self, hashes: Mapping[str, str]) -> tuple[str, str] | None:
        """(algorithm, hexdigest) the store files ``hashes``'s file under."""
        if _PREFERRED in hashes:
            return _PREFERRED, hashes[_PREFERRED]
        for algorithm in sorted(hashes):
            return algorithm, hashes[algorithm]
        return None

    def path(self, algorithm: str, digest: str) -> Path:
        """Where the file with this digest lives (it may not exist)."""
        return self.root / algorithm / digest[:2] / digest

    def lookup(self, hashes: Mapping[str, str]) -> Path | None:
        """The stored file with these hashes, or None."""
        key = self.key(hashes)
        if key is None:
            return None
        path = self.path(*key)
        return path if path.is_file() else None

    def scratch(self) -> Path:
        """A new temporary file name inside the store (same file system as its entries)."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.root, prefix=".download-")
        os.close(fd)
        return Path(name)

    def adopt(self, temp: Path, digests: Mapping[str, str]) -> Path:
        """Move the verified file ``temp`` into place under its key (:meth:`key`)."""
        key = self.key(digests)
        assert key is not None
        target = self.path(*key)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp.replace(target)
        return target

    def keep(self, source: Path, algorithm: str, digest: str) -> Path:
        """File a copy of the verified ``source`` (a hard link where possible) under its
        digest, leaving ``source`` where it is; the stored path."""
        target = self.path(algorithm, digest)
        if target.is_file():
            return target
        temp = self.scratch()
        temp.unlink()
        link_or_copy(source, temp)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp.replace(target)
        return target


def link_or_copy(source: Path, target: Path) -> Path:
    """``source`` also at ``target`` (which must not exist): a hard link, else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
    return target
