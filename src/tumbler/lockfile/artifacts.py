"""The locked-artefact vocabulary: what a lock's files are, where they sit in it, and
whether a file read is the one the lock records (size and every hash, I7).

Install, ``validate --verify-files``, surfaces and attestations all speak it; nothing
here downloads (see :mod:`tumbler.installing.fetch`) or stores (:mod:`tumbler.net.store`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import unquote, urlsplit

from tumbler.findings import Finding, Severity

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from packaging.pylock import (
        Package,
        PackageArchive,
        PackageDirectory,
        PackageSdist,
        PackageVcs,
        PackageWheel,
    )

    #: A package's chosen source: one of the standard's source tables.
    Artifact = PackageVcs | PackageDirectory | PackageArchive | PackageWheel | PackageSdist

__all__ = [
    "Need",
    "check_file",
    "compare",
    "digest_file",
    "filename_of",
    "location_of",
    "need_for",
    "source_kind",
]

_CHUNK = 1 << 20


def source_kind(artifact: Artifact) -> str:
    """What a chosen source is: wheel, sdist, vcs, directory or archive."""
    return type(artifact).__name__.removeprefix("Package").lower()


@dataclass(frozen=True, slots=True)
class Need:
    """One file to obtain: where it is described in the lock and what it must be."""

    location: str
    filename: str
    url: str | None
    path: Path | None
    size: int | None
    #: Algorithm (lower case) → expected hex digest, only algorithms hashlib can compute.
    hashes: dict[str, str]
    #: Algorithms the lock names that cannot be checked here (informational).
    unchecked: tuple[str, ...] = ()


def _fixed_length(algorithm: str) -> bool:
    """Whether ``hashlib`` has ``algorithm`` with a fixed-length digest (not ``shake_*``)."""
    try:
        return hashlib.new(algorithm).digest_size > 0
    except ValueError:
        return False


def location_of(package: Package, artifact: Artifact, index_of: Mapping[int, int]) -> str:
    """``packages[3].wheels[0]``, ``packages[3].sdist``, ``packages[3].vcs``, ..."""
    where = f"packages[{index_of.get(id(package), '?')}]"
    kind = source_kind(artifact)
    if kind == "wheel":
        position = next((i for i, w in enumerate(package.wheels or ()) if w is artifact), "?")
        return f"{where}.wheels[{position}]"
    return f"{where}.{kind}"


def filename_of(artifact: Artifact) -> str:
    """The file's name: ``name``, else the last part of ``path``, else of ``url``."""
    name = getattr(artifact, "filename", None) or getattr(artifact, "name", None)
    if name:
        return str(name)
    path, url = getattr(artifact, "path", None), getattr(artifact, "url", None)
    if path:
        return Path(str(path).replace("\\", "/")).name
    return unquote(urlsplit(str(url)).path.rsplit("/", 1)[-1])


def need_for(location: str, artifact: Artifact, base: Path | None) -> Need:
    """What fetching ``artifact`` (a wheel, sdist or archive) must produce; a relative
    ``path`` is taken from ``base``, the lock's directory (R25-R27)."""
    raw = dict(getattr(artifact, "hashes", {}) or {})
    lowered = {str(a).lower(): str(v).lower() for a, v in raw.items()}
    checked = {a: v for a, v in lowered.items() if _fixed_length(a)}
    path_text, url = getattr(artifact, "path", None), getattr(artifact, "url", None)
    path: Path | None = None
    if path_text is not None:
        path = Path(path_text)
        if base is not None and not path.is_absolute():
            path = base / path
    return Need(
        location=location,
        filename=filename_of(artifact),
        url=None if path is not None else url,
        path=path,
        size=getattr(artifact, "size", None),
        hashes=checked,
        unchecked=tuple(sorted(set(lowered) - set(checked))),
    )


def digest_file(stream: BinaryIO, algorithms: Iterable[str]) -> tuple[int, dict[str, str]]:
    """Size and hex digests of everything ``stream`` still holds."""
    hashers = {a: hashlib.new(a) for a in algorithms}
    size = 0
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        for hasher in hashers.values():
            hasher.update(chunk)
    return size, {a: h.hexdigest() for a, h in hashers.items()}


def _error(location: str, rule: str, message: str, hint: str = "") -> Finding:
    return Finding(
        location=location, rule=rule, severity=Severity.ERROR, message=message, hint=hint
    )


_TAMPERED = "the file changed or the lock is wrong: re-lock from a trusted index"


def compare(need: Need, size: int, digests: Mapping[str, str]) -> list[Finding]:
    """Findings for every way the file read differs from what the lock records (I7)."""
    out: list[Finding] = []
    if need.size is not None and size != need.size:
        out.append(
            _error(
                f"{need.location}.size",
                "I7",
                f"{need.filename}: size is {size} bytes, the lock records {need.size}; "
                "refusing the file",
                _TAMPERED,
            )
        )
    for algorithm, expected in sorted(need.hashes.items()):
        got = digests.get(algorithm)
        if got is not None and got != expected:
            out.append(
                _error(
                    f"{need.location}.hashes.{algorithm}",
                    "I7",
                    f"{need.filename}: {algorithm} is {got}, the lock records {expected}; "
                    "refusing the file",
                    _TAMPERED,
                )
            )
    return out


def check_file(need: Need, file: Path) -> list[Finding]:
    """Read ``file`` and compare it with ``need``."""
    with file.open("rb") as stream:
        size, digests = digest_file(stream, need.hashes)
    return compare(need, size, digests)
