"""The I/O side of PEP 740: find and fetch locked files' provenance, record publisher
identities in a lock (``lock --attestations``), and check files against them
(``install --verify-attestations``, ``audit --attestations``).

A file's provenance is where its index's project page links it (``data-provenance`` in
HTML, ``provenance`` in JSON); for an index whose pages link none, its integrity endpoint
(``<index root>/integrity/<project>/<version>/<file>/provenance``) is asked once, and if
that has none either, the index is reported once as serving no provenance. Provenance is
cached by the file's sha256 (a file's attestations are uploaded with it and never change).
"""

from __future__ import annotations

import dataclasses
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from tumbler.attest.identities import identities_of, verify
from tumbler.errors import InputError, NetworkError
from tumbler.findings import Finding, Severity
from tumbler.index.pages import ACCEPT, index_file, page_url, parse_page
from tumbler.lockfile.artifacts import filename_of, location_of
from tumbler.net.urls import redact

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock
    from packaging.version import Version

    from tumbler.index.pages import IndexFile
    from tumbler.net.cache import Cache
    from tumbler.net.http import Http

__all__ = [
    "AttestationStats",
    "artifacts_of",
    "check_attestations",
    "page_files",
    "record_identities",
]

#: The rule id of attestation findings (tumbler's own: the standard says what to record,
#: not how to check it).
RULE = "T740"
#: For an index whose pages link no provenance: how many packages' files to ask its
#: integrity endpoint about before calling it silent.
_PROBES = 8


@dataclass(slots=True)
class AttestationStats:
    """What recording identities found, for the lock's notes."""

    packages: int = 0
    recorded: int = 0
    #: Indexes that serve no provenance, with what was asked.
    silent: dict[str, str] = field(default_factory=dict)

    def notes(self) -> tuple[str, ...]:
        """Lines for the lock's notes: one per index that serves no provenance."""
        out = [
            f"attestations: {index} serves no provenance ({why}); "
            "no attestation identities recorded from it"
            for index, why in sorted(self.silent.items())
        ]
        if self.recorded:
            out.append(
                f"attestations: identities recorded for {self.recorded} of {self.packages} packages"
            )
        return tuple(out)


@dataclass(frozen=True, slots=True)
class _File:
    package: int
    name: str
    version: str
    index: str
    filename: str
    sha256: str | None
    link: str | None


def artifacts_of(package: Package) -> list[PackageWheel | PackageSdist]:
    """A package's wheels and sdist (the files an index serves provenance for)."""
    return [*(package.wheels or ()), *([package.sdist] if package.sdist is not None else [])]


def integrity_url(index: str, name: str, version: str, filename: str) -> str | None:
    """The index's integrity endpoint for one file, when its URL ends in ``/simple``."""
    base = index.rstrip("/")
    if not base.endswith("/simple"):
        return None
    root = base.removesuffix("simple")
    return f"{root}integrity/{canonicalize_name(name)}/{version}/{filename}/provenance"


def page_files(http: Http, index: str, name: str, version: Version) -> list[IndexFile]:
    """The files of ``name`` ``version`` that ``index``'s project page lists."""
    normalized = canonicalize_name(name)
    url = page_url(index, normalized)
    response = http.fetch_cached(url, {"Accept": ACCEPT})
    if response.status == 404:
        return []
    if response.status != 200:
        raise NetworkError(f"{redact(url)}: the index answered HTTP {response.status}")
    rows = parse_page(response.body, response.headers.get("content-type", ""), url)
    files = (index_file(r, normalized, index) for r in rows)
    return [f for f in files if f is not None and f.version == version]


class _Fetcher:
    """Provenance by URL, cached by the file's sha256."""

    def __init__(self, http: Http, cache: Cache | None) -> None:
        self.http = http
        self.cache = cache

    def get(self, url: str, sha256: str | None) -> bytes | None:
        key = None if not sha256 else f"v1-{sha256}"
        if self.cache is not None and key is not None:
            blob = self.cache.get_blob("provenance", key)
            if blob is not None:
                return blob
        response = self.http.get(url, {"Accept": "application/json"})
        if response.status == 404:
            return None
        if response.status != 200:
            raise NetworkError(f"{redact(url)}: the index answered HTTP {response.status}")
        if self.cache is not None and key is not None:
            self.cache.put_blob("provenance", key, response.body)
        return response.body


def _locate(pylock: Pylock, files_of: Callable[[str, Version], list[IndexFile]]) -> list[_File]:
    """Every locked index file with its provenance link (None when its page has none)."""

    def one(item: tuple[int, Package]) -> list[_File]:
        number, package = item
        if package.index is None or package.version is None:
            return []
        links = {f.filename: f.provenance for f in files_of(str(package.name), package.version)}
        return [
            _File(
                number,
                str(package.name),
                str(package.version),
                package.index,
                filename_of(a),
                (a.hashes or {}).get("sha256"),
                links.get(filename_of(a)),
            )
            for a in artifacts_of(package)
        ]

    with ThreadPoolExecutor(8) as threads:
        return [f for found in threads.map(one, enumerate(pylock.packages)) for f in found]


def _sources(
    files: list[_File], fetcher: _Fetcher, stats: AttestationStats
) -> dict[_File, str | None]:
    """Each file's provenance URL: its page link; for an index whose pages link none, its
    integrity endpoint if probes of the first packages' files find provenance there."""
    by_index: dict[str, list[_File]] = {}
    for f in files:
        by_index.setdefault(f.index, []).append(f)
    out: dict[_File, str | None] = {}
    for index, found in by_index.items():
        if any(f.link for f in found):
            out.update({f: f.link for f in found})
            continue
        probes = list({f.package: f for f in reversed(found)}.values())[:_PROBES]
        urls = [integrity_url(index, f.name, f.version, f.filename) for f in probes]
        if urls[0] is None:
            stats.silent[redact(index)] = "its pages carry no data-provenance links"
            out.update(dict.fromkeys(found))
            continue
        with ThreadPoolExecutor(8) as threads:
            bodies = list(
                threads.map(
                    lambda pair: fetcher.get(pair[0], pair[1].sha256),
                    zip(urls, probes, strict=True),
                )
            )
        if not any(b is not None and _readable(b) for b in bodies):
            stats.silent[redact(index)] = (
                "its pages carry no data-provenance links; its integrity endpoint has none "
                f"for the first {len(probes)} packages either"
            )
            out.update(dict.fromkeys(found))
            continue
        out.update({f: integrity_url(index, f.name, f.version, f.filename) for f in found})
    return out


def _readable(body: bytes) -> bool:
    try:
        identities_of(body, "probe")
    except InputError:
        return False
    return True


def record_identities(
    pylock: Pylock,
    files_of: Callable[[str, Version], list[IndexFile]],
    http: Http,
    cache: Cache | None,
) -> tuple[Pylock, AttestationStats]:
    """``pylock`` with each package's ``attestation-identities`` (R37): the publishers of
    its files' provenance; none where the index serves none (nothing is invented)."""
    stats = AttestationStats(packages=len(pylock.packages))
    fetcher = _Fetcher(http, cache)
    files = _locate(pylock, files_of)
    sources = _sources(files, fetcher, stats)

    def identities(f: _File) -> list[dict[str, Any]]:
        url = sources.get(f)
        body = None if url is None else fetcher.get(url, f.sha256)
        return [] if body is None else identities_of(body, f"{f.filename} provenance")

    with ThreadPoolExecutor(8) as threads:
        found = list(threads.map(identities, files))
    per_package: dict[int, dict[str, dict[str, Any]]] = {}
    for f, tables in zip(files, found, strict=True):
        for table in tables:
            per_package.setdefault(f.package, {})[_key(table)] = table
    packages = []
    for number, package in enumerate(pylock.packages):
        publishers = per_package.get(number)
        if publishers:
            stats.recorded += 1
        packages.append(
            dataclasses.replace(
                package,
                attestation_identities=[publishers[k] for k in sorted(publishers)]
                if publishers
                else None,
            )
        )
    return dataclasses.replace(pylock, packages=packages), stats


def _key(table: dict[str, Any]) -> str:
    return json.dumps(table, sort_keys=True)


def check_attestations(
    pylock: Pylock,
    chosen: Sequence[tuple[Package, Any]],
    http: Http,
    cache: Cache | None,
    *,
    offline: bool,
) -> tuple[Finding, ...]:
    """One error per chosen file whose package records identities and whose attestation
    is missing, does not verify, is for other bytes, or was signed by someone else."""
    index_of = {id(p): i for i, p in enumerate(pylock.packages)}
    by_package: dict[int, tuple[Package, list[Any]]] = {}
    for package, artifact in chosen:
        if package.attestation_identities and hasattr(artifact, "hashes"):
            by_package.setdefault(id(package), (package, []))[1].append(artifact)
    fetcher = _Fetcher(http, cache)

    def one(item: tuple[Package, list[Any]]) -> list[Finding]:
        package, artifacts = item
        assert package.version is not None
        name, version, index = str(package.name), package.version, package.index
        # The page once per package, not per file.
        listed = [] if index is None else page_files(http, index, name, version)
        links = {f.filename: f.provenance for f in listed}
        out = []
        for artifact in artifacts:
            filename = filename_of(artifact)
            sha256 = (artifact.hashes or {}).get("sha256")
            where = location_of(package, artifact, index_of)
            if not sha256:
                out.append(_finding(where, f"{filename}: no sha256 in the lock to check against"))
                continue
            url = links.get(filename) or (
                None if index is None else integrity_url(index, name, str(version), filename)
            )
            body = None if url is None else fetcher.get(url, sha256)
            identities = list(package.attestation_identities or ())
            verdict = verify(body, filename, sha256, identities, offline=offline)
            if verdict.problem is not None:
                out.append(_finding(where, f"{filename}: {verdict.problem}", verdict.kind))
        return out

    with ThreadPoolExecutor(8) as threads:
        return tuple(f for found in threads.map(one, by_package.values()) for f in found)


def _finding(where: str, message: str, kind: str = "invalid") -> Finding:
    hints = {
        "missing": "the lock records publishers for this package: its files must be attested",
        "identity": "if the project changed publishers on purpose, re-lock and review the diff",
        "mismatch": "the file is not the one that was attested; do not install it",
    }
    return Finding(
        location=where,
        rule=RULE,
        severity=Severity.ERROR,
        message=message,
        hint=hints.get(
            kind, "do not install it; check where the file and its attestation came from"
        ),
    )
