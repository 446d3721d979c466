"""I/O edge: get every file an install needs, verified, into the content-addressed store.

A file the lock gives by ``path`` is read where it is; a file given by ``url`` is looked
up in the cache's file store by its hash (``files/<algorithm>/<aa>/<hexdigest>``) and
downloaded only when missing, in parallel over the shared :class:`~tumbler.net.Http`
(HTTP/2 where libcurl is available). A download lands in a temporary file beside the
store, is checked against the lock's ``size`` and every hash ``hashlib`` can compute (I7),
and only then is renamed into the store: whatever the store holds was verified once.
``tumbler lock`` puts the files it downloads whole (sdists it builds, direct archives)
into the same store, so an install after a lock finds them.

Nothing here raises for a file's problem: each becomes a :class:`~tumbler.findings.Finding`
naming the place in the lock (``packages[3].wheels[0]``) and the rule (I6 cannot fetch, I7
mismatch), so one run reports every bad file and the caller refuses the whole install.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeVar
from urllib.parse import unquote, urlsplit

from tumbler.errors import NetworkError
from tumbler.findings import Finding, Severity
from tumbler.select import source_kind

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from packaging.pylock import Package

    from tumbler.cache import Cache
    from tumbler.net import Http
    from tumbler.select import Artifact

__all__ = [
    "Need",
    "Store",
    "digest_file",
    "fetch_all",
    "filename_of",
    "link_or_copy",
    "location_of",
    "need_for",
]

_CHUNK = 1 << 20
T = TypeVar("T")
#: The store's key algorithm, when the lock records it (it nearly always does).
_PREFERRED = "sha256"


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


def _obtain(
    need: Need, http: Http | None, store: Store | None
) -> tuple[Path | None, list[Finding]]:
    if not need.hashes:
        named = ", ".join(need.unchecked) or "none"
        return None, [
            _error(
                f"{need.location}.hashes",
                "I7",
                f"{need.filename}: no hash tumbler can check (the lock gives: {named}); "
                "refusing an unverified file",
                "re-lock with sha256 hashes",
            )
        ]
    if need.path is not None:
        if not need.path.is_file():
            return None, [_error(need.location, "I6", f"cannot read {need.path}: no such file", "")]
        problems = check_file(need, need.path)
        return (None if problems else need.path), problems
    if need.url is None:
        return None, [_error(need.location, "I6", f"{need.filename}: neither path nor url", "")]
    if store is not None:
        cached = store.lookup(need.hashes)
        if cached is not None:
            # The store's name is one hash: check the size and any other hash the lock has.
            algorithm, _ = store.key(need.hashes) or ("", "")
            rest = {a: v for a, v in need.hashes.items() if a != algorithm}
            size = cached.stat().st_size
            if rest:
                with cached.open("rb") as stream:
                    size, digests = digest_file(stream, rest)
                problems = compare(dataclasses.replace(need, hashes=rest), size, digests)
            else:
                problems = compare(need, size, {})
            if not problems:
                return cached, []
    if http is None:
        return None, [_error(need.location, "I6", f"{need.filename}: cannot fetch", "")]
    temp = store.scratch() if store is not None else _temporary()
    try:
        response = http.request("GET", need.url, into=temp)
        if response.status != 200:
            raise NetworkError(f"HTTP {response.status}")
        with temp.open("rb") as stream:
            size, digests = digest_file(stream, need.hashes)
    except NetworkError as error:
        temp.unlink(missing_ok=True)
        from tumbler.net import redact

        reason = str(error).removeprefix(f"{redact(need.url)}").strip(": ")
        return None, [
            _error(
                need.location,
                "I6",
                f"cannot fetch {need.filename} from {redact(need.url)}: {reason}",
                "check the URL, or run without --offline"
                if http.offline
                else "check the URL and the network",
            )
        ]
    except OSError as error:
        temp.unlink(missing_ok=True)
        return None, [_error(need.location, "I6", f"cannot fetch {need.filename}: {error}", "")]
    problems = compare(need, size, digests)
    if problems:
        temp.unlink(missing_ok=True)
        return None, problems
    if store is None:
        return temp, []
    return store.adopt(temp, digests), []


def _temporary() -> Path:
    fd, name = tempfile.mkstemp(prefix="tumbler-download-")
    os.close(fd)
    return Path(name)


def fetch_all(
    needs: Iterable[Need],
    http: Http | None,
    store: Store | None,
    *,
    then: Callable[[Need, Path], T | None] | None = None,
) -> tuple[dict[str, Path], dict[str, T], list[Finding]]:
    """Obtain every file, in parallel, and run ``then`` on each verified file in the same
    worker (unpacking overlaps the downloads still running).

    Returns (location → verified local file, location → what ``then`` returned, findings);
    an exception from ``then`` becomes a finding too.
    """
    wanted = list(needs)

    def one(need: Need) -> tuple[Path | None, T | None, list[Finding]]:
        path, problems = _obtain(need, http, store)
        if path is None or then is None:
            return path, None, problems
        try:
            return path, then(need, path), problems
        except (OSError, ValueError) as error:  # installer's wheel errors are ValueErrors
            message = f"{need.filename}: not a usable wheel: {error}"
            return None, None, [*problems, _error(need.location, "I6", message, "")]

    if http is not None and len(wanted) > 1:
        futures = [http.executor.submit(one, need) for need in wanted]
        outcomes = [future.result() for future in futures]
    else:
        outcomes = [one(need) for need in wanted]
    files: dict[str, Path] = {}
    results: dict[str, T] = {}
    findings: list[Finding] = []
    for need, (path, result, problems) in zip(wanted, outcomes, strict=True):
        findings.extend(problems)
        if path is not None:
            files[need.location] = path
        if result is not None:
            results[need.location] = result
    return files, results, findings
