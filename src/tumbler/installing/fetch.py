"""I/O edge: get every file an install needs, verified, into the content-addressed store.

A file the lock gives by ``path`` is read where it is; a file given by ``url`` is looked
up in the cache's file store by its hash (``files/<algorithm>/<aa>/<hexdigest>``) and
downloaded only when missing, in parallel over the shared :class:`~tumbler.net.http.Http`
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

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tumbler.errors import NetworkError
from tumbler.findings import Finding, Severity
from tumbler.lockfile.artifacts import Need, check_file, compare, digest_file

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from tumbler.net.http import Http
    from tumbler.net.store import Store

__all__ = ["fetch_all"]

_CHUNK = 1 << 20
T = TypeVar("T")


def _error(location: str, rule: str, message: str, hint: str = "") -> Finding:
    return Finding(
        location=location, rule=rule, severity=Severity.ERROR, message=message, hint=hint
    )


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
            # Checked again whole (its name is only where it was filed): the file is read
            # for unpacking right after anyway. One that differs is thrown away, fetched
            # again, and never used.
            if not check_file(need, cached):
                return cached, []
            cached.unlink(missing_ok=True)
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
        from tumbler.net.urls import redact

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
