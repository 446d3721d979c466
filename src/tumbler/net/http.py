"""HTTP at the edge: pooled connections, credentials, retries, revalidating cache, ranges.

:class:`Http` is the only place tumbler talks to the network. It is safe to use from many
threads (one ``urllib3.PoolManager``), and it owns the thread pool the index client uses
to fetch concurrently.

Freshness follows the server: a cached page is reused without a request while its
``Cache-Control: max-age`` lasts, revalidated with ``If-None-Match`` / ``If-Modified-Since``
when the server gave validators, and fetched again otherwise. ``offline`` answers from the
cache alone.

Credentials come from the URL's userinfo, from the userinfo of a configured index on the
same host, or from ``~/.netrc``; they are sent as Basic auth and never appear in anything
:func:`redact` has touched (everything written to a lock goes through it).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import netrc
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from tumbler.errors import NetworkError
from tumbler.net.urls import file_path, redact
from tumbler.version import __version__

if TYPE_CHECKING:
    import ssl
    from collections.abc import Iterable, Iterator, Mapping
    from pathlib import Path

    import urllib3

    from tumbler.net.cache import Cache
    from tumbler.net.transport import CurlTransport, Exchange

__all__ = ["DEFAULT_TIMEOUT", "Http", "Response", "http_timeout"]

_RETRY_STATUS = (429, 500, 502, 503, 504)
#: Seconds, unless ``TUMBLER_HTTP_TIMEOUT`` says otherwise: a dead index fails in 30 s.
DEFAULT_TIMEOUT = 10.0


def http_timeout() -> float:
    """``TUMBLER_HTTP_TIMEOUT`` (seconds), else :data:`DEFAULT_TIMEOUT`; a value that is
    not a positive number is a usage error."""
    text = os.environ.get("TUMBLER_HTTP_TIMEOUT")
    if not text:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 86400:
        from tumbler.errors import UsageError

        raise UsageError(f"TUMBLER_HTTP_TIMEOUT={text!r}: expected a number of seconds, e.g. 10")
    return value


_CHUNK = 1 << 20


def _userinfo(url: str) -> tuple[str, str] | None:
    parts = urlsplit(url)
    if parts.username is None:
        return None
    user = unquote(parts.username)
    password = unquote(parts.password or "")
    user = os.path.expandvars(user)
    password = os.path.expandvars(password)
    return user, password


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@dataclass(frozen=True, slots=True)
class Response:
    """A complete HTTP response (or a ``file:`` read, with status 200 / 404)."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes
    #: The body's sha256, when the cache worked it out (:meth:`Http.fetch_cached`).
    sha256: str | None = None


def _tls_context() -> ssl.SSLContext:
    import urllib3.util.ssl_

    context = urllib3.util.ssl_.create_urllib3_context()
    cafile = os.environ.get("SSL_CERT_FILE") or None
    if cafile is not None:
        context.load_verify_locations(cafile)
    else:
        context.load_default_certs()
    return context


#: Default of :attr:`Http.concurrency`; ``TUMBLER_CONCURRENCY`` overrides it.
_CONCURRENCY = 16


def _concurrency() -> int:
    text = os.environ.get("TUMBLER_CONCURRENCY", "")
    return int(text) if text.isdecimal() and int(text) > 0 else _CONCURRENCY


#: Threads of :attr:`Http.leaf_executor`.
_LEAF_WORKERS = 16


class _Gate:
    """At most ``slots`` requests in flight; urgent ones (made by the main thread: what
    resolution is waiting on) take a free slot before any other."""

    def __init__(self, slots: int) -> None:
        self._condition = threading.Condition()
        self._free = slots
        self._urgent_waiting = 0

    @contextlib.contextmanager
    def slot(self, *, urgent: bool) -> Iterator[None]:
        with self._condition:
            if urgent:
                self._urgent_waiting += 1
            try:
                while self._free == 0 or (not urgent and self._urgent_waiting):
                    self._condition.wait()
            finally:
                if urgent:
                    self._urgent_waiting -= 1
            self._free -= 1
        try:
            yield
        finally:
            with self._condition:
                self._free += 1
                self._condition.notify_all()


class Http:
    """Pooled, retrying, credential-aware HTTP with an optional revalidating cache."""

    def __init__(
        self,
        *,
        cache: Cache | None = None,
        offline: bool = False,
        known_urls: Iterable[str] = (),
        workers: int = 24,
        concurrency: int | None = None,
        timeout: float | None = None,
        retries: int = 2,
    ) -> None:
        self.cache = cache
        self.offline = offline
        self.workers = workers
        #: Requests in flight at once, over every host: some proxies and mirrors stall
        #: clients that hold more than about twenty connections, so threads queue here.
        self.concurrency = concurrency or _concurrency()
        self._gate = _Gate(self.concurrency)
        #: Requests answered and body bytes received (for progress display; approximate
        #: under threads, never used for decisions).
        self.requests = 0
        self.received = 0
        #: Seconds to connect, and of a transfer below a trickle (``TUMBLER_HTTP_TIMEOUT``);
        #: a request and its retries end within ``(retries + 1) * timeout``.
        self._timeout = timeout if timeout is not None else http_timeout()
        self._retries = retries
        self._manager: urllib3.PoolManager | None = None
        self._auth: dict[str, str] = {}
        for url in known_urls:
            found = _userinfo(url)
            if found is not None:
                self._auth[urlsplit(url).hostname or ""] = _basic(*found)
        self._netrc: netrc.netrc | bool | None = False
        self._lock = threading.Lock()
        #: Set by :meth:`close`; speculative work stops early when it sees it.
        self.closed = False
        self._executor: ThreadPoolExecutor | None = None
        self._leaf_executor: ThreadPoolExecutor | None = None
        self._curl: CurlTransport | bool | None = False  # False: not decided yet
        #: Sent with every urllib3 request (a request's own headers replace the pool's).
        self._base_headers = {"User-Agent": f"tumbler/{__version__}", "Accept-Encoding": "gzip"}

    # --- plumbing --------------------------------------------------------------------------

    @property
    def _pool(self) -> urllib3.PoolManager:
        """The connection pools, made on first use: an offline run never pays for TLS."""
        if self._manager is not None:
            return self._manager
        import urllib3  # deferred: checking a lock offline never needs it

        with self._lock:
            if self._manager is None:
                self._manager = urllib3.PoolManager(
                    num_pools=32,
                    maxsize=self.concurrency,
                    block=False,
                    timeout=urllib3.Timeout(connect=self._timeout, read=self._timeout),
                    retries=urllib3.Retry(
                        total=self._retries,
                        backoff_factor=0.2,
                        status_forcelist=_RETRY_STATUS,
                        allowed_methods=frozenset({"GET", "HEAD"}),
                        raise_on_status=False,
                        respect_retry_after_header=True,
                    ),
                    # One TLS context for every connection: loading the trust store once
                    # rather than per connection saves ~20 ms of CPU per connection.
                    ssl_context=_tls_context(),
                )
            return self._manager

    @property
    def _transport(self) -> CurlTransport | None:
        """The HTTP/2 transport (libcurl), made on first use; None where ``pycurl`` cannot
        be loaded or ``TUMBLER_HTTP=urllib3`` asks for HTTP/1.1 over urllib3."""
        curl = self._curl
        if curl is not False:
            return curl  # type: ignore[return-value]
        from tumbler.net import transport

        with self._lock:
            if self._curl is False:
                wanted = os.environ.get("TUMBLER_HTTP", "").lower() != "urllib3"
                self._curl = (
                    transport.CurlTransport(
                        user_agent=f"tumbler/{__version__}",
                        timeout=self._timeout,
                        retries=self._retries,
                        retry_statuses=_RETRY_STATUS,
                        max_connections=self.concurrency,
                        on_bytes=self._count,
                        on_slow=self._slow,
                    )
                    if wanted and transport.available()
                    else None
                )
            return self._curl  # type: ignore[return-value]

    def _count(self, received: int) -> None:
        self.received += received

    def _slow(self, host: str, waited: float) -> None:
        from tumbler.progress import notice

        notice(
            f"waiting for {host}: no answer for {waited:.0f} s (a request gives up after "
            f"{self._timeout:g} s of silence, {self._timeout * (self._retries + 1):g} s with "
            "retries; TUMBLER_HTTP_TIMEOUT)"
        )

    @property
    def executor(self) -> ThreadPoolExecutor:
        """The shared thread pool for concurrent fetches (RuntimeError once closed)."""
        with self._lock:
            if self.closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="tumbler")
            return self._executor

    @property
    def leaf_executor(self) -> ThreadPoolExecutor:
        """A second, smaller pool for single requests that never wait on other work (file
        sizes): they cannot deadlock behind the main pool nor hold up its queue."""
        with self._lock:
            if self.closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            if self._leaf_executor is None:
                self._leaf_executor = ThreadPoolExecutor(
                    _LEAF_WORKERS, thread_name_prefix="tumbler-leaf"
                )
            return self._leaf_executor

    def close(self) -> None:
        """Stop the thread pools and close connections."""
        self.closed = True
        for executor in (self._executor, self._leaf_executor):
            if executor is not None:
                # Speculative fetches still queued are dropped; running ones see ``closed``.
                executor.shutdown(wait=False, cancel_futures=True)
        curl = self._curl
        if curl:
            curl.close()  # type: ignore[union-attr]

    def _netrc_auth(self, host: str) -> str | None:
        with self._lock:
            if self._netrc is False:
                try:
                    self._netrc = netrc.netrc(os.environ.get("NETRC") or None)
                except (OSError, netrc.NetrcParseError):
                    self._netrc = None
        if not isinstance(self._netrc, netrc.netrc):
            return None
        found = self._netrc.authenticators(host)
        if found is None:
            return None
        login, _, password = found
        return _basic(login, password or "")

    def _headers(self, url: str, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = dict(extra or {})
        found = _userinfo(url)
        host = urlsplit(url).hostname or ""
        if found is not None:
            headers["Authorization"] = _basic(*found)
        elif host in self._auth:
            headers["Authorization"] = self._auth[host]
        else:
            auth = self._netrc_auth(host)
            if auth is not None:
                headers["Authorization"] = auth
        return headers

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None = None,
        *,
        into: Path | None = None,
    ) -> Response:
        """One request; the body is read whole, or streamed into ``into`` when given."""
        if url.startswith("file:"):
            return _file_response(url, into)
        if self.offline:
            raise NetworkError(f"{redact(url)} is not in the cache and --offline forbids fetching")
        transport = self._transport
        if transport is not None:
            sent = self._headers(url, headers)
            exchange = transport.submit(method, redact(url), sent, into=into).result()
            self.requests += 1
            return Response(url, exchange.status, exchange.headers, exchange.body)
        with self._gate.slot(urgent=threading.current_thread() is threading.main_thread()):
            return self._request(method, url, headers, into)

    def post(self, url: str, body: bytes, headers: Mapping[str, str] | None = None) -> Response:
        """``POST url`` with ``body`` (an API's query, never a package download): through
        the connection pool, with the same credentials, timeouts and TLS, not retried (a
        POST need not be idempotent); connection failures raise :class:`NetworkError`."""
        import urllib3

        if self.offline:
            raise NetworkError(f"{redact(url)}: --offline forbids asking it")
        with self._gate.slot(urgent=threading.current_thread() is threading.main_thread()):
            try:
                response = self._pool.request(
                    "POST",
                    redact(url),
                    body=body,
                    headers={**self._base_headers, **self._headers(url, headers)},
                    retries=False,
                )
            except urllib3.exceptions.HTTPError as error:
                host = urlsplit(url).netloc.rsplit("@", 1)[-1]
                raise NetworkError(f"cannot reach {host}: {error}") from None
        self.requests += 1
        return Response(url, response.status, dict(response.headers), response.data)

    def _request(
        self, method: str, url: str, headers: Mapping[str, str] | None, into: Path | None
    ) -> Response:
        import urllib3

        try:
            response = self._pool.request(
                method,
                redact(url),
                headers={**self._base_headers, **self._headers(url, headers)},
                preload_content=into is None,
                redirect=True,
            )
        except urllib3.exceptions.HTTPError as error:
            reason = getattr(error, "reason", None) or error
            host = urlsplit(url).netloc.rsplit("@", 1)[-1]
            raise NetworkError(f"cannot reach {host}: {reason}") from None
        if into is not None:
            try:
                with into.open("wb") as handle:
                    for chunk in response.stream(_CHUNK):
                        handle.write(chunk)
                        self.received += len(chunk)
            except (OSError, urllib3.exceptions.HTTPError) as error:
                raise NetworkError(f"download of {redact(url)} failed: {error}") from None
            finally:
                response.release_conn()
            body = b""
        else:
            body = response.data
            self.received += len(body)
        self.requests += 1
        headers_out = {k.lower(): v for k, v in response.headers.items()}
        return Response(url=url, status=response.status, headers=headers_out, body=body)

    def size(self, url: str) -> int | None:
        """The size of the file at ``url`` without fetching it, or None if not told; a
        background request, behind any that resolution is waiting on.

        Asks for its last byte: the ``Content-Range`` answer gives the total, and file
        servers (mirrors above all) answer that faster than ``HEAD``. A server that
        ignores ranges is hung up on after its headers.
        """
        return self.size_later(url).result()

    def size_later(self, url: str) -> Future[int | None]:
        """:meth:`size` as a future: over HTTP/2 no thread waits for it; over urllib3 it
        runs on the leaf pool, behind any request that resolution is waiting on."""
        if url.startswith("file:") or self.offline:
            done: Future[int | None] = Future()
            done.set_result(self._local_size(url))
            return done
        transport = self._transport
        if transport is None:
            try:
                return self.leaf_executor.submit(self._gated_size, url)
            except RuntimeError:  # shut down: nobody waits for sizes any more
                if not self.closed:
                    raise
                gone: Future[int | None] = Future()
                gone.set_result(None)
                return gone
        range_headers = self._headers(url, {"Range": "bytes=-1"})
        asked = transport.submit("GET", redact(url), range_headers, headers_only=True)
        answer: Future[int | None] = Future()

        def settle(future: Future[Exchange]) -> None:
            self.requests += 1
            try:
                exchange = future.result()
                answer.set_result(_size_of(exchange.status, exchange.headers))
            except NetworkError:
                answer.set_result(None)

        asked.add_done_callback(settle)
        return answer

    def _local_size(self, url: str) -> int | None:
        if not url.startswith("file:"):
            return None  # offline
        try:
            return file_path(url).stat().st_size
        except OSError:
            return None

    def _gated_size(self, url: str) -> int | None:
        with self._gate.slot(urgent=False):
            return self._size(url)

    def _size(self, url: str) -> int | None:
        import urllib3

        self.requests += 1
        try:
            response = self._pool.request(
                "GET",
                redact(url),
                headers={**self._base_headers, **self._headers(url, {"Range": "bytes=-1"})},
                preload_content=False,
                redirect=True,
            )
        except urllib3.exceptions.HTTPError:
            return None
        try:
            if response.status == 206:
                response.drain_conn()
            return _size_of(response.status, response.headers)
        finally:
            if response.status != 206:
                response.close()
            response.release_conn()

    def status(self) -> str:
        """``"312 requests, 41.2 MB"``: what the network has done so far."""
        return f"{self.requests} requests, {self.received / 1e6:.1f} MB"

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> Response:
        """``GET url``; 4xx and 5xx come back as responses, connection failures raise."""
        return self.request("GET", url, headers)

    def fetch_cached(self, url: str, headers: Mapping[str, str] | None = None) -> Response:
        """``GET url`` through the revalidating cache; 200 and 404 answers are cached.

        A 304 answer comes back as the cached 200. 404s are cached so that ``--offline``
        knows a name is unknown.
        """
        cache = self.cache
        meta = None
        if cache is not None and self.offline:
            cached = cache.get_response(url)
            if cached is not None:
                return _cached_response(url, *cached)
        elif cache is not None:
            # Only the metadata line decides whether to ask the server: pages run to
            # megabytes and most answers replace them.
            meta = cache.get_response_meta(url)
            if meta is not None and _fresh(meta):
                cached = cache.get_response(url)
                if cached is not None:
                    return _cached_response(url, *cached)
        conditional = dict(headers or {})
        if meta is not None and meta["status"] == 200:
            if meta.get("etag"):
                conditional["If-None-Match"] = meta["etag"]
            if meta.get("last-modified"):
                conditional["If-Modified-Since"] = meta["last-modified"]
        response = self.get(url, conditional)
        if response.status == 304 and meta is not None and cache is not None:
            cached = cache.get_response(url)
            if cached is not None:
                fresh = {**cached[0], **_meta(response, 200)}
                fresh["content-type"] = cached[0].get("content-type")
                cache.put_response(url, fresh, cached[1])
                return _cached_response(url, fresh, cached[1])
        if response.status in (200, 404) and cache is not None:
            old, meta = meta, _meta(response, response.status)
            meta["sha256"] = digest = hashlib.sha256(response.body).hexdigest()
            if not _same_answer(old, meta):
                cache.put_response(url, meta, response.body)
            response = replace(response, sha256=digest)
        return response

    def cached_digest(self, url: str) -> str | None:
        """The sha256 of the 200 answer :meth:`fetch_cached` would give for ``url`` from
        the cache without asking the server (offline, or still fresh), when recorded:
        what was made from that body may then be used without reading it."""
        cache = self.cache
        if cache is None:
            return None
        meta = cache.get_response_meta(url)
        if meta is None or meta.get("status") != 200 or not (self.offline or _fresh(meta)):
            return None
        digest = meta.get("sha256")
        return digest if isinstance(digest, str) else None


def _size_of(status: int, headers: Mapping[str, str]) -> int | None:
    """A file's size from the answer to a one-byte range request: the total of its
    ``Content-Range``, or the length of a whole-file answer from a server ignoring ranges."""
    if status == 206:
        total = headers.get("content-range", "").rpartition("/")[2]
        return int(total) if total.isdecimal() else None
    length = headers.get("content-length", "")
    return int(length) if status == 200 and length.isdecimal() else None


def _cached_response(url: str, meta: Mapping[str, Any], body: bytes) -> Response:
    headers = {"content-type": str(meta.get("content-type") or "")}
    return Response(url=url, status=int(meta["status"]), headers=headers, body=body)


def _meta(response: Response, status: int) -> dict[str, Any]:
    headers = response.headers
    return {
        "status": status,
        "stored": time.time(),
        "etag": headers.get("etag"),
        "last-modified": headers.get("last-modified"),
        "cache-control": headers.get("cache-control"),
        "date": headers.get("date"),
        "age": headers.get("age"),
        "content-type": headers.get("content-type"),
    }


#: What a stored answer's metadata says besides when it came (and the server's clock).
_WHEN = frozenset({"stored", "date", "age"})


def _same_answer(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> bool:
    """Whether ``new`` answers as the stored ``old`` did, the same bytes included, and
    neither can be fresh: rewriting the entry (megabytes a page) would change nothing a
    later run reads. An index that sends no caching headers answers so every time."""
    if old is None or _max_age(new.get("cache-control") or "") is not None:
        return False
    keys = (set(old) | set(new)) - _WHEN
    return all(old.get(k) == new.get(k) for k in keys)


def _max_age(cache_control: str) -> float | None:
    directives = [d.strip().lower() for d in cache_control.split(",")]
    if "no-cache" in directives or "no-store" in directives:
        return None
    for directive in directives:
        if directive.startswith("max-age="):
            try:
                return float(directive.split("=", 1)[1])
            except ValueError:
                return None
    return None


def _fresh(meta: Mapping[str, Any]) -> bool:
    """Whether a cached response may be used without asking the server (RFC 9111)."""
    max_age = _max_age(meta.get("cache-control") or "")
    if max_age is None:
        return False
    age = float(meta.get("age") or 0)
    stored = float(meta.get("stored") or 0)
    return age + (time.time() - stored) < max_age


def _file_response(url: str, into: Path | None) -> Response:
    path = file_path(url)
    if path.is_dir():
        path = path / "index.html"
    try:
        if into is not None:
            into.write_bytes(path.read_bytes())
            body = b""
        else:
            body = path.read_bytes()
    except OSError:
        return Response(url=url, status=404, headers={}, body=b"")
    return Response(url=url, status=200, headers={"content-type": "text/html"}, body=body)
