"""Direct sources: ``name @ git+URL@rev``, local directories, and archive URLs or paths.

Each becomes a :class:`DirectSource`: its core metadata (from the PEP 517 hooks for source
trees and sdists, from the wheel itself for wheels) and the ``vcs`` / ``directory`` /
``archive`` table the lock records. Git revisions are resolved to the full ``commit-id``;
archives get their size and sha256; URLs are written without credentials.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from packaging.pylock import PackageArchive, PackageDirectory, PackageVcs
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from tumbler.errors import InputError, NetworkError
from tumbler.index.metadata import parse_metadata, wheel_metadata
from tumbler.net.urls import file_path, redact

if TYPE_CHECKING:
    from packaging.requirements import Requirement

    from tumbler.index.metadata import CoreMetadata
    from tumbler.net.http import Http

__all__ = ["DirectSource", "resolve_direct"]


@dataclass(frozen=True, slots=True)
class DirectSource:
    """A package pinned to one source rather than chosen from an index."""

    name: NormalizedName
    version: Version
    metadata: CoreMetadata
    vcs: PackageVcs | None = None
    directory: PackageDirectory | None = None
    archive: PackageArchive | None = None


def _relative(path: Path, base: Path) -> str:
    try:
        return Path(os.path.relpath(path, base)).as_posix()
    except ValueError:  # another drive on Windows
        return path.as_posix()


def _checked(metadata: CoreMetadata, requirement: Requirement) -> tuple[NormalizedName, Version]:
    name = canonicalize_name(requirement.name)
    if metadata.name and metadata.name != name:
        raise InputError(
            f"{requirement}: the source is the project {metadata.name!r}, not {name!r}"
        )
    try:
        return name, Version(metadata.version)
    except InvalidVersion:
        raise InputError(f"{requirement}: the source has no valid version") from None


def _archive_metadata(path: Path, origin: str) -> bytes:
    if path.name.endswith(".whl"):
        return wheel_metadata(io.BytesIO(path.read_bytes()), origin)
    from tumbler.index.build import metadata_from_sdist

    return metadata_from_sdist(path)


def resolve_direct(
    requirement: Requirement,
    *,
    http: Http,
    cache_dir: Path,
    lock_dir: Path,
    editable: bool = False,
) -> DirectSource:
    """Fetch, check out or read the source ``requirement.url`` names."""
    url = requirement.url or ""
    if url.startswith("git+"):
        return _vcs(requirement, url, http, cache_dir)
    if url.startswith(("hg+", "svn+", "bzr+")):
        raise InputError(f"{requirement}: only git is supported for VCS sources")
    parts = urlsplit(url)
    if parts.scheme == "file":
        return _local(requirement, file_path(url), lock_dir, editable)
    if parts.scheme not in ("http", "https"):
        raise InputError(f"{requirement}: unsupported URL scheme {parts.scheme!r}")
    return _remote(requirement, url, http, cache_dir)


def _vcs(requirement: Requirement, url: str, http: Http, cache_dir: Path) -> DirectSource:
    """A git source: resolve the revision to a commit, read the tree's metadata."""
    from tumbler.index.build import metadata_from_tree
    from tumbler.index.vcs import checkout_git, parse_vcs_url

    repository, revision, subdirectory = parse_vcs_url(url)
    checkout = checkout_git(repository, revision, cache_dir / "git", offline=http.offline)
    # Backends may write into the tree (setuptools' egg-info): build from a copy so the
    # cached checkout stays exactly the commit.
    with tempfile.TemporaryDirectory(prefix="tumbler-vcs-") as temp:
        tree = Path(temp) / "tree"
        shutil.copytree(checkout.path, tree, ignore=shutil.ignore_patterns(".git"), symlinks=True)
        data = metadata_from_tree(tree, subdirectory=subdirectory)
    metadata = parse_metadata(data, url)
    name, version = _checked(metadata, requirement)
    vcs = PackageVcs(
        type="git",
        url=checkout.url,  # already without credentials (an ssh user name stays)
        requested_revision=revision,
        commit_id=checkout.commit_id,
        subdirectory=subdirectory,
    )
    return DirectSource(name, version, metadata, vcs=vcs)


def _local(requirement: Requirement, path: Path, lock_dir: Path, editable: bool) -> DirectSource:
    """A local directory (a project) or archive (wheel or sdist)."""
    if path.is_dir():
        from tumbler.index.build import metadata_from_tree

        metadata = parse_metadata(metadata_from_tree(path), str(path))
        name, version = _checked(metadata, requirement)
        directory = PackageDirectory(path=_relative(path, lock_dir), editable=editable or None)
        return DirectSource(name, version, metadata, directory=directory)
    if not path.is_file():
        raise InputError(f"{requirement}: no such file or directory {path}")
    data = path.read_bytes()
    metadata = parse_metadata(_archive_metadata(path, str(path)), str(path))
    name, version = _checked(metadata, requirement)
    archive = PackageArchive(
        path=_relative(path, lock_dir),
        size=len(data),
        hashes={"sha256": hashlib.sha256(data).hexdigest()},
    )
    return DirectSource(name, version, metadata, archive=archive)


#: Hashes a URL fragment may carry (``#sha256=...``), all checked.
_FRAGMENT_HASHES = frozenset({"sha1", "sha224", "sha256", "sha384", "sha512", "md5", "blake2b"})


def _remote(requirement: Requirement, url: str, http: Http, cache_dir: Path) -> DirectSource:
    base, _, fragment = url.partition("#")
    expected = dict(p.split("=", 1) for p in fragment.split("&") if "=" in p)
    key = hashlib.sha256(redact(base).encode()).hexdigest()
    target = http.cache.blob_path("archive", key) if http.cache is not None else None
    if target is None or not target.exists():
        temp = cache_dir / f".download-{key}"
        temp.parent.mkdir(parents=True, exist_ok=True)
        response = http.request("GET", base, into=temp)
        if response.status != 200:
            temp.unlink(missing_ok=True)
            raise NetworkError(f"cannot fetch {redact(base)}: HTTP {response.status}")
        target = http.cache.put_blob_file("archive", key, temp) if http.cache is not None else temp
    data = target.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if http.cache is not None:  # shared with ``tumbler install``: filed by its sha256
        from tumbler.net.store import Store

        Store(http.cache).keep(target, "sha256", digest)
    for algorithm, value in expected.items():
        if (
            algorithm in _FRAGMENT_HASHES
            and hashlib.new(algorithm, data).hexdigest() != value.lower()
        ):
            raise InputError(f"{redact(base)}: the download does not match the URL's {algorithm}")
    filename = Path(urlsplit(base).path).name
    with tempfile.TemporaryDirectory(prefix="tumbler-archive-") as scratch:
        local = Path(scratch) / filename  # the file's own name tells the reader its format
        local.write_bytes(data)
        metadata = parse_metadata(_archive_metadata(local, base), base)
    name, version = _checked(metadata, requirement)
    archive = PackageArchive(url=redact(base), size=len(data), hashes={"sha256": digest})
    return DirectSource(name, version, metadata, archive=archive)
