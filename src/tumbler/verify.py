"""I/O edge: fetch the files a selection chose and check their size and hashes (I7).

A file is read from ``path`` (relative to the lock's directory) when given, else
downloaded from ``url``. Every algorithm ``hashlib`` knows is checked; a mismatch in
any of them, or in ``size``, is an error and the file is not used.
"""

from __future__ import annotations

import hashlib
import http.client
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from tumbler.findings import Finding, Severity

if TYPE_CHECKING:
    from collections.abc import Iterable

    from packaging.pylock import Package

    from tumbler.select import Artifact

__all__ = ["verify_files"]

_CHUNK = 1 << 16
_TIMEOUT = 60


def _error(location: str, rule: str, message: str, hint: str = "") -> Finding:
    return Finding(
        location=location, rule=rule, severity=Severity.ERROR, message=message, hint=hint
    )


def _digest(stream: BinaryIO, algorithms: Iterable[str]) -> tuple[int, dict[str, str]]:
    hashers = {a: hashlib.new(a.lower()) for a in algorithms}
    size = 0
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        for hasher in hashers.values():
            hasher.update(chunk)
    return size, {a: h.hexdigest() for a, h in hashers.items()}


def _fixed_length(algorithm: str) -> bool:
    """Whether ``hashlib`` has ``algorithm`` with a fixed-length digest (not ``shake_*``,
    whose ``hexdigest`` needs a length the lock cannot give)."""
    try:
        return hashlib.new(algorithm.lower()).digest_size > 0
    except ValueError:
        return False


def _check_one(location: str, artifact: Artifact, base: Path | None) -> list[Finding]:
    hashes = dict(getattr(artifact, "hashes", {}) or {})
    size = getattr(artifact, "size", None)
    known = [a for a in hashes if _fixed_length(a)]
    path, url = getattr(artifact, "path", None), getattr(artifact, "url", None)
    name = getattr(artifact, "filename", None) or path or url
    try:
        if path is not None:
            file = Path(path) if base is None or Path(path).is_absolute() else base / path
            with file.open("rb") as stream:
                got_size, got = _digest(stream, known)
        elif url is not None:
            request = urllib.request.Request(url, headers={"User-Agent": "tumbler"})
            with urllib.request.urlopen(request, timeout=_TIMEOUT) as stream:
                got_size, got = _digest(stream, known)
        else:
            return []
    except (OSError, ValueError, http.client.HTTPException) as exc:  # URLError is an OSError
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
        return [_error(location, "I6", f"cannot fetch {name}: {reason}", "check the URL or path")]
    out: list[Finding] = []
    if size is not None and got_size != size:
        out.append(
            _error(
                f"{location}.size",
                "I7",
                f"{name}: size is {got_size} bytes, the lock records {size}; refusing the file",
                "the file changed or the lock is wrong: re-lock from a trusted index",
            )
        )
    for algorithm in known:
        if got[algorithm] != hashes[algorithm].lower():
            out.append(
                _error(
                    f"{location}.hashes.{algorithm}",
                    "I7",
                    f"{name}: {algorithm} is {got[algorithm]}, the lock records "
                    f"{hashes[algorithm]}; refusing the file",
                    "the file changed or the lock is wrong: re-lock from a trusted index",
                )
            )
    return out


def verify_files(
    chosen: Iterable[tuple[Package, Artifact]], index_of: dict[int, int], base: Path | None
) -> list[Finding]:
    """Fetch each chosen file and compare its size and hashes with the lock."""
    out: list[Finding] = []
    for package, artifact in chosen:
        where = f"packages[{index_of.get(id(package), '?')}]"
        kind = type(artifact).__name__.removeprefix("Package").lower()
        if kind == "wheel":
            position = next((i for i, w in enumerate(package.wheels or ()) if w is artifact), "?")
            location = f"{where}.wheels[{position}]"
        else:
            location = f"{where}.{kind}"
        if kind in ("vcs", "directory"):
            continue
        out.extend(_check_one(location, artifact, base))
    return out
