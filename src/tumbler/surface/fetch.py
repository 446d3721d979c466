"""The I/O side of the surface record: read locked wheels' members and record surfaces
in a lock (``tumbler surface`` and ``diff --surface`` build on it in ``surfacequery``).

Only the members :func:`tumbler.surface.members.wanted_members` names are fetched: the zip's central
directory first (the file's last 64 KiB, more if it is longer), then those members, by
HTTP range requests merged into few spans. When the index answers a range request with
the whole file, or the members would be most of it, the whole file is read (and, its
sha256 checked, filed in the store that ``tumbler install`` uses). A wheel already in the
store is read from disk. Results are cached by the wheel's sha256, so re-locking unchanged
files costs one small read each. Parsing runs in worker processes when there is much of it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import heapq
import io
import json
import os
import threading
import zipfile
import zlib
from concurrent.futures import Future, InvalidStateError, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from packaging.utils import parse_wheel_filename

from tumbler.errors import InputError, NetworkError
from tumbler.index.metadata import RangeFile, fetch_tail
from tumbler.lockfile.artifacts import filename_of, need_for
from tumbler.lockfile.tables import SURFACE_VERSION, with_surface
from tumbler.net.store import Store
from tumbler.net.urls import redact
from tumbler.surface.members import (
    ImportSurface,
    WheelSources,
    analyse,
    from_json,
    import_names,
    ready,
    wanted_members,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

    from packaging.pylock import Package, PackageWheel, Pylock
    from packaging.tags import Tag

    from tumbler.net.cache import Cache
    from tumbler.net.http import Http

__all__ = [
    "SurfaceStats",
    "WheelRef",
    "choose_wheel",
    "is_pure",
    "is_stub_only",
    "read_surfaces",
    "record_surfaces",
    "surface_entries",
    "wheel_ref",
]

#: Spans of wanted members closer than this are fetched as one range.
_GAP = 32 * 1024
#: When the wanted members make up more than this share of the file, read it whole.
_WHOLE_SHARE = 0.6
#: From this many wheels to parse on, parsing runs in worker processes.
_PROCESS_FROM = 3


@dataclass(frozen=True, slots=True)
class WheelRef:
    """One wheel to read: from the index (``url``) or from disk (``path``)."""

    distribution: str
    filename: str
    url: str | None = None
    path: Path | None = None
    sha256: str | None = None
    #: The file's size as the lock records it (the biggest wheels are parsed first).
    size: int | None = None


@dataclass(slots=True)
class SurfaceStats:
    """What reading surfaces cost, for the lock's notes and the benchmark."""

    wheels: int = 0
    cached: int = 0
    #: Bytes fetched over the network for surfaces.
    received: int = 0
    #: The sizes of the wheels read over the network (what whole downloads would cost).
    whole: int = 0
    no_wheel: list[str] = field(default_factory=list)

    def note(self) -> str | None:
        """One line for the lock's notes, or None when everything came from the cache."""
        read = self.wheels - self.cached
        parts = []
        if read:
            share = f" of {self.whole / 1e6:.1f} MB" if self.whole else ""
            parts.append(
                f"surface: read {read} wheel{'s' if read != 1 else ''} "
                f"({self.cached} cached), fetched {self.received / 1e6:.1f} MB{share}"
            )
        if self.no_wheel:
            parts.append(
                "surface: no wheel locked, no surface recorded for " + ", ".join(self.no_wheel)
            )
        return "; ".join(parts) or None


@dataclass(frozen=True, slots=True)
class _Content:
    names: tuple[str, ...]
    data: Mapping[str, bytes]


# --- choosing the wheel --------------------------------------------------------------------


def is_pure(filename: str) -> bool:
    """Whether a wheel's tags are all ``*-none-any``."""
    _, _, _, tags = parse_wheel_filename(filename)
    return all(t.abi == "none" and t.platform == "any" for t in tags)


def choose_wheel(package: Package, targets: Sequence[Sequence[Tag]]) -> PackageWheel | None:
    """The wheel a surface is read from: the pure-Python one, else the best match for the
    first target (in order) that any wheel suits, else the first by name. The choice
    depends only on the lock and its targets, never on the machine running tumbler."""
    named = sorted((filename_of(w), w) for w in package.wheels or ())
    wheels = [w for name, w in named if name.endswith(".whl")]
    if not wheels:
        return None
    for name, wheel in named:
        if wheel in wheels and is_pure(name):
            return wheel
    for tags in targets:
        rank = {tag: i for i, tag in enumerate(tags)}
        best: tuple[int, PackageWheel] | None = None
        for name, wheel in named:
            if wheel not in wheels:
                continue
            _, _, _, parsed = parse_wheel_filename(name)
            score = min((rank[t] for t in parsed if t in rank), default=None)
            if score is not None and (best is None or score < best[0]):
                best = (score, wheel)
        if best is not None:
            return best[1]
    return wheels[0]


def wheel_ref(package: Package, wheel: PackageWheel, lock_dir: Path | None) -> WheelRef:
    """Where to read ``wheel`` of ``package`` (a relative ``path`` is the lock's, R25)."""
    need = need_for("", wheel, lock_dir)
    return WheelRef(
        distribution=str(package.name),
        filename=need.filename,
        url=need.url,
        path=need.path,
        sha256=need.hashes.get("sha256"),
        size=need.size,
    )


# --- reading members -----------------------------------------------------------------------


def _spans(infos: Iterable[zipfile.ZipInfo], limit: int) -> list[tuple[int, int]]:
    spans = sorted(
        (
            info.header_offset,
            min(
                limit,
                info.header_offset
                + 30
                + len(info.filename.encode())
                + len(info.extra)
                + info.compress_size
                + 256,
            ),
        )
        for info in infos
    )
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start - merged[-1][1] <= _GAP:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _from_zip(handle: io.IOBase | io.BytesIO | Path, origin: str) -> _Content:
    try:
        with zipfile.ZipFile(handle) as archive:
            names = archive.namelist()
            return _Content(tuple(names), {n: archive.read(n) for n in wanted_members(names)})
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError) as error:
        raise InputError(f"{origin}: not a readable wheel: {error}") from None


class _Reader:
    """Fetches wheel members (from many threads) and counts the bytes."""

    def __init__(self, http: Http, cache: Cache | None, stats: SurfaceStats) -> None:
        self.http = http
        self.cache = cache
        self.store = None if cache is None else Store(cache)
        self.stats = stats
        self._lock = threading.Lock()

    def _count(self, *, received: int = 0, whole: int = 0) -> None:
        with self._lock:
            self.stats.received += received
            self.stats.whole += whole

    def content(self, ref: WheelRef) -> _Content:
        if ref.path is not None:
            return _from_zip(ref.path, ref.filename)
        stored = (
            None
            if self.store is None or not ref.sha256
            else self.store.lookup({"sha256": ref.sha256})
        )
        if stored is not None:
            return _from_zip(stored, ref.filename)
        if ref.url is None:
            raise InputError(f"{ref.filename}: the lock gives neither a url nor a path")
        if ref.url.startswith("file:"):
            from tumbler.net.urls import file_path

            return _from_zip(file_path(ref.url), ref.filename)
        return self._remote(ref, ref.url)

    def _remote(self, ref: WheelRef, url: str) -> _Content:
        response, total = fetch_tail(self.http, url)
        if total is not None:
            self._count(whole=total)
            if total <= len(response.body):
                self._count(received=len(response.body))
                return _from_zip(io.BytesIO(response.body), ref.filename)
            remote = RangeFile(self.http, url, total, response.body)
            try:
                with zipfile.ZipFile(remote) as archive:
                    names = archive.namelist()
                    wanted = wanted_members(names)
                    infos = [archive.getinfo(n) for n in wanted]
                    spans = _spans(infos, total)
                    if sum(end - start for start, end in spans) <= _WHOLE_SHARE * total:
                        for start, end in spans:
                            part = self.http.get(url, {"Range": f"bytes={start}-{end - 1}"})
                            if part.status != 206:
                                raise NetworkError(f"range request to {redact(url)} failed")
                            remote.add(start, part.body)
                            remote.received += len(part.body)
                        data = {n: archive.read(n) for n in wanted}
                        self._count(received=remote.received)
                        return _Content(tuple(names), data)
            except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError) as error:
                raise InputError(f"{ref.filename}: not a readable wheel: {error}") from None
            # Most of the file is wanted: fetch what the tail did not bring, in one range.
            self._count(received=remote.received - len(response.body))
            rest = self.http.get(url, {"Range": f"bytes=0-{total - len(response.body) - 1}"})
            if rest.status == 206 and len(rest.body) == total - len(response.body):
                return self._whole(ref, rest.body + response.body)
            response = self.http.get(url)
        elif response.status == 200:
            self._count(whole=len(response.body))
        if response.status != 200:
            raise NetworkError(f"cannot fetch {redact(url)}: HTTP {response.status}")
        return self._whole(ref, response.body)

    def _whole(self, ref: WheelRef, body: bytes) -> _Content:
        self._count(received=len(body))
        self._keep(ref, body)
        return _from_zip(io.BytesIO(body), ref.filename)

    def _keep(self, ref: WheelRef, body: bytes) -> None:
        """Check a whole download against the lock's sha256 and file it in the store."""
        digest = hashlib.sha256(body).hexdigest()
        if ref.sha256 and digest != ref.sha256:
            raise InputError(
                f"{ref.filename}: the downloaded file does not match the lock's sha256"
            )
        if self.store is not None:
            temp = self.store.scratch()
            temp.write_bytes(body)
            self.store.adopt(temp, {"sha256": digest})


# --- surfaces, cached ----------------------------------------------------------------------


def _packed(
    distribution: str, content: _Content, stubs: Mapping[str, tuple[str, _Content]]
) -> WheelSources:
    """What :func:`tumbler.surface.members.analyse` takes, as plain values: a worker process then
    loads only :mod:`tumbler.surface.members`, not this module and the network code."""
    return WheelSources(
        distribution,
        content.names,
        content.data,
        {top: (name, stub.data, stub.names) for top, (name, stub) in stubs.items()},
    )


@dataclass(slots=True)
class _Job:
    ref: WheelRef
    stub_only: bool
    #: The cached index: the wheel's top-level names and, per stub variant, its entries.
    index: dict[str, Any] | None = None
    content: _Content | None = None
    variant: str = ""
    stubs: dict[str, tuple[str, WheelRef]] = field(default_factory=dict)
    full: tuple[ImportSurface, ...] | None = None
    entries: list[dict[str, Any]] | None = None


def _index_key(ref: WheelRef) -> str | None:
    return None if not ref.sha256 else f"v{SURFACE_VERSION}-{ref.sha256}"


def _full_key(job: _Job) -> str | None:
    key = _index_key(job.ref)
    if key is None:
        return None
    variant = hashlib.sha256(job.variant.encode()).hexdigest()[:16] if job.variant else "plain"
    return f"{key}-{variant}"


def is_stub_only(name: str) -> bool:
    """Whether a distribution only ships stubs (``types-X``, ``X-stubs``)."""
    return name.startswith("types-") or name.endswith("-stubs")


def surface_entries(
    refs: Sequence[WheelRef],
    http: Http,
    cache: Cache | None,
    *,
    stats: SurfaceStats | None = None,
    stub_refs: Sequence[WheelRef] = (),
) -> dict[WheelRef, list[dict[str, Any]]]:
    """The lock's ``surface`` entries of each wheel: from the small cached index when the
    wheel was read before (a warm lock reads nothing else), else read and parsed."""
    jobs = _gather(refs, http, cache, stats or SurfaceStats(), stub_refs, full=False)
    return {j.ref: j.entries or [] for j in jobs}


def read_surfaces(
    refs: Sequence[WheelRef],
    http: Http,
    cache: Cache | None,
    *,
    stats: SurfaceStats | None = None,
    stub_refs: Sequence[WheelRef] = (),
) -> dict[WheelRef, tuple[ImportSurface, ...]]:
    """The full surfaces (every public name) of each wheel in ``refs`` (and of
    ``stub_refs``, stub-only wheels whose ``.pyi`` files stand in for modules the others
    ship without one)."""
    jobs = _gather(refs, http, cache, stats or SurfaceStats(), stub_refs, full=True)
    return {j.ref: j.full or () for j in jobs}


def _gather(
    refs: Sequence[WheelRef],
    http: Http,
    cache: Cache | None,
    stats: SurfaceStats,
    stub_refs: Sequence[WheelRef],
    *,
    full: bool,
) -> list[_Job]:
    """Each job's entries (and, when ``full``, surfaces): from the cache, else fetched and
    parsed. A pipeline: each wheel goes to a parsing worker as soon as its members arrive,
    the biggest first, while the others are still being fetched."""
    reader = _Reader(http, cache, stats)
    jobs = [_Job(r, stub_only=True) for r in stub_refs] + [
        _Job(r, stub_only=is_stub_only(r.distribution)) for r in refs if r not in stub_refs
    ]
    stats.wheels += len(jobs)
    by_ref = {j.ref: j for j in jobs}
    locks = {j.ref: threading.Lock() for j in jobs}

    def index(job: _Job) -> None:
        key = _index_key(job.ref)
        blob = None if cache is None or key is None else cache.get_blob("surface-index", key)
        job.index = None if blob is None else json.loads(blob)

    def content(job: _Job) -> _Content:
        with locks[job.ref]:
            if job.content is None:
                job.content = reader.content(job.ref)
            return job.content

    with ThreadPoolExecutor(min(8, max(1, len(jobs)))) as threads:
        list(threads.map(index, jobs))
        # Stub-only wheels first: which import packages they stub decides the others' inputs.
        list(threads.map(content, [j for j in jobs if j.stub_only and j.index is None]))
        stub_tops: dict[str, _Job] = {}
        for job in jobs:
            if job.stub_only:
                for top in _job_tops(job):
                    stub_tops.setdefault(top, job)
        # Wheels read before have an index; the rest will certainly be parsed.
        with _Parsers(sum(j.index is None for j in jobs)) as parsers:

            def prepare(job: _Job) -> None:
                if not job.stub_only:
                    if job.index is None:
                        content(job)
                    job.stubs = {
                        top: (stub_tops[top].ref.distribution, stub_tops[top].ref)
                        for top in _job_tops(job)
                        if top in stub_tops
                    }
                job.variant = "+".join(
                    sorted({r.sha256 or r.filename for _, r in job.stubs.values()})
                )
                _cached(job, cache, full=full)
                if (job.full if full else job.entries) is None:
                    stubs = {
                        top: (name, content(by_ref[ref])) for top, (name, ref) in job.stubs.items()
                    }
                    parsers.submit(job, _packed(job.ref.distribution, content(job), stubs))

            biggest_first = sorted(jobs, key=lambda j: -(j.ref.size or 0))
            list(threads.map(prepare, biggest_first))
            done = parsers.results()
    stats.cached += len(jobs) - len(done)
    for job, (data, entries) in done:
        job.entries = entries
        if full:
            job.full = from_json(data)
        _store(cache, job, data)
    return jobs


class _Parsers:
    """Parses wheels: in worker processes (started at once, so that they load while the
    wheels are fetched) when there are :data:`_PROCESS_FROM` or more, else in the caller.

    A worker that comes free takes the wheel with the most source bytes among those that
    have arrived, not the oldest: the biggest wheels (sqlalchemy, mypy) then start early
    instead of being last in line while the other worker has nothing left to do. The pool
    is given only as many wheels as it has workers; the rest wait here, and one feeder
    thread hands them over. (Never from a done-callback: those run in the pool's own
    thread, which, marking a broken pool's futures failed, may hold the lock ``submit``
    takes — newer CPythons do.)"""

    def __init__(self, expected: int, workers: int | None = None) -> None:
        self._pool: Any = None
        self._expected = expected
        self._workers = min(expected, workers or os.cpu_count() or 1)
        self._changed = threading.Condition()
        self._pending: list[tuple[_Job, Any]] = []
        #: Wheels not yet given to the pool: (-source bytes, arrival, wheel, its future).
        self._waiting: list[tuple[int, int, WheelSources, Future[Any]]] = []
        self._running = 0
        self._closing = False
        self._feeder: threading.Thread | None = None

    def __enter__(self) -> _Parsers:
        if self._expected >= _PROCESS_FROM:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn, not fork: this process has threads (the HTTP transport) a fork would copy.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self._workers, mp_context=context)
            for _ in range(self._workers):
                self._pool.submit(ready)
            self._feeder = threading.Thread(target=self._feed, name="tumbler-surface-feeder")
            self._feeder.start()
        return self

    def submit(self, job: _Job, wheel: WheelSources) -> None:
        if self._pool is None:
            result = analyse(wheel)
            with self._changed:
                self._pending.append((job, result))
            return
        future: Future[Any] = Future()
        size = sum(map(len, wheel.data.values())) + sum(
            sum(map(len, data.values())) for _, data, _ in wheel.stubs.values()
        )
        with self._changed:
            self._pending.append((job, future))
            heapq.heappush(self._waiting, (-size, len(self._pending), wheel, future))
            self._changed.notify()

    def _feed(self) -> None:
        """The feeder thread: gives the pool the biggest waiting wheel whenever a worker
        has none, until the parsers close."""
        while True:
            with self._changed:
                while not self._closing and not (self._waiting and self._running < self._workers):
                    self._changed.wait()
                if self._closing:
                    return
                _, _, wheel, future = heapq.heappop(self._waiting)
                self._running += 1
            try:
                running = self._pool.submit(analyse, wheel)
            except Exception as error:  # a broken pool: the caller sees it in results()
                with contextlib.suppress(InvalidStateError):  # cancelled on the way out
                    future.set_exception(error)
                self._finished()
                continue
            running.add_done_callback(lambda done, future=future: self._done(done, future))

    def _done(self, done: Future[Any], future: Future[Any]) -> None:
        with contextlib.suppress(InvalidStateError):  # cancelled on the way out
            if done.cancelled():
                future.cancel()
            elif (error := done.exception()) is not None:
                future.set_exception(error)
            else:
                future.set_result(done.result())
        self._finished()

    def _finished(self) -> None:
        with self._changed:
            self._running -= 1
            self._changed.notify()

    def results(self) -> list[tuple[_Job, tuple[bytes, list[dict[str, Any]]]]]:
        return [(job, r.result() if isinstance(r, Future) else r) for job, r in self._pending]

    def __exit__(self, *exc: object) -> None:
        if self._pool is None:
            return
        with self._changed:
            self._closing = True
            for _, _, _, future in self._waiting:
                future.cancel()
            self._waiting.clear()
            self._changed.notify()
        if self._feeder is not None:
            self._feeder.join()
        self._pool.shutdown(cancel_futures=True)


def _cached(job: _Job, cache: Cache | None, *, full: bool) -> None:
    """Take the job's result from the cache when it is there."""
    if job.index is None:
        return
    entries = job.index.get("variants", {}).get(job.variant)
    if not full:
        job.entries = entries
        return
    key = _full_key(job)
    blob = (
        None if cache is None or key is None or entries is None else cache.get_blob("surface", key)
    )
    if blob is not None:
        job.full = from_json(blob)
        job.entries = entries


def _job_tops(job: _Job) -> list[str]:
    if job.index is not None:
        return list(job.index.get("tops", []))
    assert job.content is not None
    return import_names(job.content.names)


def _store(cache: Cache | None, job: _Job, data: bytes) -> None:
    """Keep the full surfaces and, in the small index, the wheel's tops and entries."""
    key, full_key = _index_key(job.ref), _full_key(job)
    if cache is None or key is None or full_key is None:
        return
    cache.put_blob("surface", full_key, data)
    index = job.index or {"tops": _job_tops(job), "variants": {}}
    index["variants"][job.variant] = job.entries
    cache.put_blob("surface-index", key, json.dumps(index, separators=(",", ":")).encode())


# --- the lock ------------------------------------------------------------------------------


def record_surfaces(
    pylock: Pylock,
    targets: Sequence[Sequence[Tag]],
    http: Http,
    cache: Cache | None,
    lock_dir: Path | None = None,
) -> tuple[Pylock, SurfaceStats]:
    """``pylock`` with every package's surface entries in ``[packages.tool.tumbler]``
    (``surface-version`` in ``[tool.tumbler]`` comes with the lock's recorded inputs)."""
    stats = SurfaceStats()
    chosen: dict[int, WheelRef] = {}
    for index, package in enumerate(pylock.packages):
        wheel = choose_wheel(package, targets)
        if wheel is None:
            stats.no_wheel.append(str(package.name))
            continue
        chosen[index] = wheel_ref(package, wheel, lock_dir)
    stub_refs = [r for r in chosen.values() if is_stub_only(r.distribution)]
    found = surface_entries(list(chosen.values()), http, cache, stats=stats, stub_refs=stub_refs)
    packages = []
    for index, package in enumerate(pylock.packages):
        ref = chosen.get(index)
        packages.append(with_surface(package, found.get(ref, []) if ref is not None else []))
    return dataclasses.replace(pylock, packages=packages), stats
