"""I/O edge for ``validate --verify-files``: fetch what a selection chose and check it (I7).

The files are obtained as ``tumbler install`` obtains them
(:mod:`tumbler.installing.fetch`): ``path`` read from the lock's directory, else ``url``
downloaded, in parallel, and every size and ``hashlib`` hash compared. Unlike install, the
store is not consulted: the question is whether each URL serves the recorded bytes, so each
is downloaded (into temporary files). Source trees (``vcs``, ``directory``) have no file to
check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tumbler.installing.fetch import fetch_all
from tumbler.lockfile.artifacts import location_of, need_for

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from packaging.pylock import Package

    from tumbler.findings import Finding
    from tumbler.lockfile.artifacts import Artifact

__all__ = ["verify_files"]


def verify_files(
    chosen: Iterable[tuple[Package, Artifact]], index_of: dict[int, int], base: Path | None
) -> list[Finding]:
    """Fetch each chosen file and compare its size and hashes with the lock."""
    from tumbler.net.cache import Cache, default_cache_dir
    from tumbler.net.http import Http

    needs = [
        need_for(location_of(package, artifact, index_of), artifact, base)
        for package, artifact in chosen
        if type(artifact).__name__ not in ("PackageVcs", "PackageDirectory")
    ]
    if not needs:
        return []
    http = Http(cache=Cache(default_cache_dir()))
    try:
        files, _, findings = fetch_all(needs, http, None)
    finally:
        http.close()
    given = {need.path for need in needs}
    for path in files.values():
        if path not in given:
            path.unlink(missing_ok=True)  # a temporary download
    return findings
