"""HTTP/2 transport: one thread drives libcurl's multi interface (through ``pycurl``).

Why: a lock of a few hundred packages makes about a thousand requests (project pages,
wheel tails, file sizes), most of them small and answered in tens of milliseconds. Over
HTTP/1.1 each needs a connection of its own while in flight, and proxies and mirrors
stall clients that hold more than about twenty; HTTP/2 carries a hundred at once over one
connection. Measured here on the bench's large project: 277 one-byte range requests for
sdist sizes take 0.15 s multiplexed against 1.5 s over sixteen HTTP/1.1 connections.

Any thread calls :meth:`CurlTransport.submit` and gets a :class:`~concurrent.futures.Future`
of the answer; the transport thread owns every curl handle. Plain ``http://`` servers
(the test index, most private mirrors) are spoken to in HTTP/1.1 over at most
``max_connections`` connections. Retries follow :mod:`tumbler.net.http`'s policy: transient
statuses and connection failures, with exponential back-off.
"""

from __future__ import annotations

import contextlib
import heapq
import io
import itertools
import math
import os
import queue
import select
import socket
import ssl
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tumbler.errors import NetworkError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["CurlTransport", "Exchange", "available"]


def available() -> bool:
    """Whether ``pycurl`` can be loaded (tumbler falls back to urllib3 when not)."""
    try:
        import pycurl  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Exchange:
    """What came back: the final status, headers (lower-case names) and body."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    #: The HTTP version that carried it: ``"1.1"``, ``"2"`` or ``"3"``.
    version: str = "1.1"


@dataclass(slots=True)
class _Job:
    method: str
    url: str
    headers: Mapping[str, str]
    into: Path | None
    #: Only the headers matter: a 200 answer (range ignored) is hung up on at its body.
    headers_only: bool
    future: Future[Exchange] = field(default_factory=Future)
    attempt: int = 0
    #: When the first attempt started (``time.monotonic``); retries stop at the budget.
    first: float = 0.0


@dataclass(slots=True)
class _Running:
    job: _Job
    body: Any  # io.BytesIO, or the open file of ``job.into``
    lines: list[bytes] = field(default_factory=list)
    hung_up: bool = False
    #: When this attempt started, and whether a slow answer was said already.
    started: float = 0.0
    said: bool = False


#: Bytes a second below which a transfer counts as stalled (over the timeout).
STALL = 512

#: libcurl's ``CURL_HTTP_VERSION_*`` values as reported by ``CURLINFO_HTTP_VERSION``.
_VERSIONS = {1: "1.0", 2: "1.1", 3: "2", 30: "3"}


def _ca_options() -> tuple[str | None, str | None]:
    """The trust store: ``SSL_CERT_FILE``, else the one Python's ``ssl`` uses, else the
    certifi bundle pip vendors (a python.org macOS build may point at a missing file)."""
    cafile = os.environ.get("SSL_CERT_FILE") or None
    if cafile is not None:
        return cafile, None
    paths = ssl.get_default_verify_paths()
    found = [p for p in (paths.cafile, paths.openssl_cafile) if p and Path(p).is_file()]
    capath = paths.capath if paths.capath and Path(paths.capath).is_dir() else None
    if found or capath:
        return (found[0] if found else None), capath
    from pip._vendor import certifi

    return certifi.where(), None


class CurlTransport:
    """A libcurl multi handle on its own thread; :meth:`submit` is safe from any thread."""

    def __init__(
        self,
        *,
        user_agent: str,
        timeout: float,
        retries: int,
        retry_statuses: tuple[int, ...],
        max_connections: int,
        on_bytes: Callable[[int], None] | None = None,
        on_slow: Callable[[str, float], None] | None = None,
    ) -> None:
        import pycurl

        self._pycurl = pycurl
        self._user_agent = user_agent
        self._timeout = timeout
        #: No attempt starts that could not end within this long of the first.
        self._budget = timeout * (retries + 1) if retries else timeout
        self._retries = retries
        self._on_slow = on_slow
        self._retry_statuses = retry_statuses
        self._on_bytes = on_bytes
        self._cafile, self._capath = _ca_options()
        self._multi = pycurl.CurlMulti()
        self._multi.setopt(pycurl.M_PIPELINING, pycurl.PIPE_MULTIPLEX)
        self._multi.setopt(pycurl.M_MAX_TOTAL_CONNECTIONS, max_connections)
        self._multi.setopt(pycurl.M_MAX_HOST_CONNECTIONS, max_connections)
        self._incoming: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._wake_read, self._wake_write = socket.socketpair()
        self._wake_read.setblocking(False)
        self._wake_write.setblocking(False)
        self._running: dict[Any, _Running] = {}
        self._later: list[tuple[float, int, _Job]] = []
        self._order = itertools.count()
        self._closed = False
        self._accepting = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="tumbler-curl", daemon=True)
        self._thread.start()

    # --- any thread ------------------------------------------------------------------------

    def submit(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        *,
        into: Path | None = None,
        headers_only: bool = False,
    ) -> Future[Exchange]:
        """Queue one request; the future holds its :class:`Exchange` or a NetworkError."""
        job = _Job(method, url, headers, into, headers_only)
        with self._accepting:
            if self._closed:
                job.future.set_exception(NetworkError("the HTTP transport is closed"))
                return job.future
            self._incoming.put(job)
        self._wake()
        return job.future

    def close(self) -> None:
        """Stop the transport thread; requests still running fail."""
        with self._accepting:  # after this, submit() refuses: nothing queued is lost
            self._closed = True
        self._wake()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def _wake(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self._wake_write.send(b"\0")

    # --- the transport thread --------------------------------------------------------------

    def _loop(self) -> None:
        pycurl = self._pycurl
        multi = self._multi
        try:
            while not self._closed:
                self._take_incoming()
                self._start_due()
                while multi.perform()[0] == pycurl.E_CALL_MULTI_PERFORM:
                    pass
                self._collect()
                self._say_slow()
                self._wait()
        finally:
            self._fail_all(NetworkError("the HTTP transport was closed"))
            self._multi.close()
            self._wake_read.close()
            self._wake_write.close()

    def _take_incoming(self) -> None:
        while True:
            try:
                job = self._incoming.get_nowait()
            except queue.Empty:
                return
            self._start(job)

    def _start_due(self) -> None:
        now = time.monotonic()
        while self._later and self._later[0][0] <= now:
            self._start(heapq.heappop(self._later)[2])

    def _wait(self) -> None:
        readable, writable, failed = self._multi.fdset()
        timeout_ms = self._multi.timeout()
        if self._running:
            timeout = 0.05 if timeout_ms < 0 else min(timeout_ms / 1000, 0.05)
        else:
            timeout = 1.0
        if self._later:
            timeout = max(0.0, min(timeout, self._later[0][0] - time.monotonic()))
        wake = self._wake_read.fileno()
        try:
            ready, _, _ = select.select([*readable, wake], writable, failed, timeout)
        except (OSError, ValueError):
            ready = []
        if wake in ready:
            with contextlib.suppress(OSError):
                while self._wake_read.recv(4096):
                    pass

    def _start(self, job: _Job) -> None:
        """Start ``job``; a job curl refuses (a URL with a NUL byte, ...) fails alone,
        never the transport thread (whose end would leave every caller waiting)."""
        try:
            self._begin(job)
        except Exception as error:  # any refusal fails this job only
            if not job.future.done():
                job.future.set_exception(NetworkError(f"cannot request {job.url!r}: {error}"))

    def _begin(self, job: _Job) -> None:
        pycurl = self._pycurl
        try:
            body: Any = job.into.open("wb") if job.into is not None else io.BytesIO()
        except OSError as error:
            job.future.set_exception(NetworkError(f"cannot write {job.into}: {error}"))
            return
        curl = pycurl.Curl()
        running = _Running(job, body, started=time.monotonic())
        if not job.first:
            job.first = running.started
        curl.setopt(pycurl.URL, job.url)
        # HTTP(S) only, redirects included: a lock's index URL never makes curl speak
        # DICT, FTP, GOPHER, ... to a host it names.
        web = pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS
        curl.setopt(pycurl.PROTOCOLS, web)
        curl.setopt(pycurl.REDIR_PROTOCOLS, web)
        curl.setopt(pycurl.HTTPHEADER, [f"{k}: {v}" for k, v in job.headers.items()])
        curl.setopt(pycurl.USERAGENT, self._user_agent)
        curl.setopt(pycurl.ACCEPT_ENCODING, "gzip")
        curl.setopt(pycurl.FOLLOWLOCATION, 1)
        curl.setopt(pycurl.MAXREDIRS, 10)
        curl.setopt(pycurl.PIPEWAIT, 1)
        curl.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_2TLS)
        curl.setopt(pycurl.NOSIGNAL, 1)
        curl.setopt(pycurl.CONNECTTIMEOUT_MS, int(self._timeout * 1000))
        # A stall: less than STALL bytes a second for ``timeout`` seconds (a server that
        # answers nothing, or drips a byte at a time).
        curl.setopt(pycurl.LOW_SPEED_LIMIT, STALL)
        curl.setopt(pycurl.LOW_SPEED_TIME, max(1, math.ceil(self._timeout)))
        if self._cafile is not None:
            curl.setopt(pycurl.CAINFO, self._cafile)
        if self._capath is not None:
            curl.setopt(pycurl.CAPATH, self._capath)
        if job.method == "HEAD":
            curl.setopt(pycurl.NOBODY, 1)
        elif job.method != "GET":
            curl.setopt(pycurl.CUSTOMREQUEST, job.method)
        curl.setopt(pycurl.HEADERFUNCTION, lambda line: self._header(running, line))
        curl.setopt(pycurl.WRITEFUNCTION, lambda data: self._write(running, data))
        self._running[curl] = running
        self._multi.add_handle(curl)

    @staticmethod
    def _header(running: _Running, line: bytes) -> None:
        if line.startswith(b"HTTP/"):
            running.lines.clear()  # a redirect or an interim answer: keep the last one only
        running.lines.append(line)

    def _write(self, running: _Running, data: bytes) -> int | None:
        if running.job.headers_only and not _partial(running.lines):
            running.hung_up = True
            return 0  # a whole file where one byte was asked for: hang up
        running.body.write(data)
        if self._on_bytes is not None:
            self._on_bytes(len(data))
        return None

    def _collect(self) -> None:
        while True:
            left, done, failed = self._multi.info_read()
            for curl in done:
                self._finish(curl, None)
            for curl, _code, message in failed:
                self._finish(curl, message)
            if not left:
                return

    def _finish(self, curl: Any, error: str | None) -> None:
        running = self._running.pop(curl)
        self._multi.remove_handle(curl)
        status = int(curl.getinfo(self._pycurl.RESPONSE_CODE) or 0)
        version = _VERSIONS.get(int(curl.getinfo(self._pycurl.INFO_HTTP_VERSION) or 0), "1.1")
        curl.close()
        job = running.job
        body = running.body
        data = b"" if job.into is not None else body.getvalue()
        body.close()
        host = urlsplit(job.url).netloc.rsplit("@", 1)[-1]
        if error is not None and not running.hung_up:
            why = f"cannot reach {host}: {error}"
            if job.attempt < self._retries:
                self._retry(job, why)
                return
            job.future.set_exception(NetworkError(why))
            return
        if status in self._retry_statuses and job.attempt < self._retries:
            self._retry(job, f"{host} answered HTTP {status}")
            return
        job.future.set_result(Exchange(status, _headers(running.lines), data, version))

    def _retry(self, job: _Job, why: str) -> None:
        """Try ``job`` again after a backoff, unless that attempt could not end within the
        budget; then it fails with ``why``."""
        delay = 0.2 * (2**job.attempt)
        start = time.monotonic() + delay
        if start + self._timeout > job.first + self._budget:
            job.future.set_exception(NetworkError(why))
            return
        job.attempt += 1
        heapq.heappush(self._later, (start, next(self._order), job))

    def _say_slow(self) -> None:
        """Tell, once per request, of an answer slower than half the timeout."""
        if self._on_slow is None:
            return
        now = time.monotonic()
        for running in self._running.values():
            waited = now - running.started
            if not running.said and waited >= max(1.0, self._timeout / 2):
                running.said = True
                self._on_slow(urlsplit(running.job.url).netloc.rsplit("@", 1)[-1], waited)

    def _fail_all(self, error: NetworkError) -> None:
        for curl, running in list(self._running.items()):
            self._multi.remove_handle(curl)
            curl.close()
            running.body.close()
            running.job.future.set_exception(error)
        self._running.clear()
        for _, _, job in self._later:
            job.future.set_exception(error)
        self._later.clear()
        while True:
            try:
                self._incoming.get_nowait().future.set_exception(error)
            except queue.Empty:
                break


def _headers(lines: list[bytes]) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw in lines[1:]:
        name, sep, value = raw.decode("latin-1").partition(":")
        if sep:
            out[name.strip().lower()] = value.strip()
    return out


def _partial(lines: list[bytes]) -> bool:
    """Whether the answer whose header lines these are is ``206 Partial Content``."""
    return bool(lines) and lines[0].split(None, 2)[1:2] == [b"206"]
