"""tumbler.net.http and tumbler.net.transport: sizes without downloads, the in-flight cap, urgent
requests first, retries, redirects, compressed pages, downloads into files, and an offline
run that never opens a connection. Each test runs a real HTTP server on loopback, and the
tests that hold for both transports run twice: libcurl (HTTP/2 where the server speaks it)
and urllib3 (``TUMBLER_HTTP=urllib3``, the fallback where pycurl cannot be loaded)."""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from tumbler.errors import NetworkError
from tumbler.net.cache import Cache
from tumbler.net.http import Http

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

BODY = bytes(range(256)) * 40  # 10240 bytes


class _Handler(BaseHTTPRequestHandler):
    """``/file`` (ranges honoured), ``/plain`` (ranges ignored), ``/slow`` (sleeps)."""

    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        server = self.server
        with server.lock:
            server.seen.append((self.path, self.headers.get("Range")))
            server.active += 1
            server.peak = max(server.peak, server.active)
        if self.path.startswith("/slow"):
            time.sleep(server.delay)
        # Counted as active until the answer starts: a client frees its slot only after
        # reading the whole answer, so a new request can never overlap this one's count.
        with server.lock:
            server.active -= 1
        if self.path.startswith("/flaky"):
            with server.lock:
                server.failures += 1
                failing = server.failures <= 2
            if failing:
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        if self.path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/file")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/page" and "gzip" in (self.headers.get("Accept-Encoding") or ""):
            packed = gzip.compress(BODY)
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(packed)))
            self.end_headers()
            self.wfile.write(packed)
            return
        if self.path in ("/page-v", "/page-aged"):
            body = server.page
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            if self.path == "/page-aged":
                self.send_header("Cache-Control", "max-age=0")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path in ("/file", "/slow") and self.headers.get("Range") == "bytes=-1":
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {len(BODY) - 1}-{len(BODY) - 1}/{len(BODY)}")
            self.send_header("Content-Length", "1")
            self.end_headers()
            self.wfile.write(BODY[-1:])
        elif self.path in ("/file", "/plain") or self.path.startswith(("/slow", "/flaky")):
            self.send_response(200)
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    delay: ClassVar[float] = 0.15

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.seen: list[tuple[str, str | None]] = []
        self.active = 0
        self.peak = 0
        self.failures = 0
        #: What ``/page-v`` and ``/page-aged`` answer (a test changes it).
        self.page = BODY

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def server() -> Iterator[_Server]:
    running = _Server()
    thread = threading.Thread(target=running.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


@pytest.fixture(autouse=True, params=["curl", "urllib3"])
def transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every test here runs over both transports (unless it asks for one by name)."""
    name: str = request.param
    wanted = request.node.get_closest_marker("transport")
    if wanted is not None and name not in wanted.args:
        pytest.skip(f"{wanted.args[0]} only")
    if name == "urllib3":
        monkeypatch.setenv("TUMBLER_HTTP", "urllib3")
    else:
        monkeypatch.delenv("TUMBLER_HTTP", raising=False)
    return name


def test_the_transport_is_the_one_asked_for(server: _Server, transport: str) -> None:
    http = Http()
    assert http.get(server.url + "/file").body == BODY
    assert (http._transport is not None) == (transport == "curl")
    if http._transport is not None:  # http.server answers in HTTP/1.0, and libcurl says so
        exchange = http._transport.submit("GET", server.url + "/file", {}).result()
        assert (exchange.status, exchange.version, exchange.body) == (200, "1.0", BODY)


def test_size_from_a_one_byte_range(server: _Server) -> None:
    http = Http()
    assert http.size(server.url + "/file") == len(BODY)
    assert server.seen == [("/file", "bytes=-1")]


def test_size_when_the_server_ignores_ranges(server: _Server) -> None:
    assert Http().size(server.url + "/plain") == len(BODY)


def test_size_of_a_missing_file_is_unknown(server: _Server) -> None:
    assert Http().size(server.url + "/missing") is None


def test_size_of_a_local_file(tmp_path: Path) -> None:
    path = tmp_path / "some file.whl"
    path.write_bytes(BODY)
    assert Http().size(path.as_uri()) == len(BODY)


def test_offline_never_connects(server: _Server) -> None:
    http = Http(offline=True)
    assert http.size(server.url + "/file") is None
    with pytest.raises(NetworkError, match="--offline"):
        http.get(server.url + "/file")
    assert server.seen == []


def test_requests_in_flight_are_capped(server: _Server) -> None:
    """Mirrors and proxies stall clients holding more than ~20 connections: never exceed
    ``concurrency`` requests at once, however many threads ask."""
    http = Http(concurrency=3)
    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(lambda i: http.get(f"{server.url}/slow{i}").status, range(12)))
    assert statuses == [200] * 12
    assert server.peak == 3


def test_concurrency_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUMBLER_CONCURRENCY", "5")
    assert Http().concurrency == 5
    monkeypatch.setenv("TUMBLER_CONCURRENCY", "lots")
    assert Http().concurrency == 16


@pytest.mark.transport("urllib3")
def test_main_thread_requests_go_before_background_sizes(server: _Server) -> None:
    """Over urllib3's HTTP/1.1 connections, what resolution waits on (the main thread)
    takes the next free slot before file sizes queued earlier on background threads.
    (libcurl multiplexes over HTTP/2, where nothing waits for a slot.)"""
    http = Http(concurrency=1)
    with ThreadPoolExecutor(4) as pool:
        blocker = pool.submit(http.get, server.url + "/slow-blocker")
        time.sleep(0.05)  # the one slot is taken
        sizes = [pool.submit(http.size, server.url + "/file") for _ in range(3)]
        time.sleep(0.05)  # the sizes are queued behind it
        assert http.get(server.url + "/slow-urgent").status == 200
        assert blocker.result().status == 200
        assert [f.result() for f in sizes] == [len(BODY)] * 3
    paths = [path for path, _ in server.seen]
    assert paths[:2] == ["/slow-blocker", "/slow-urgent"], paths
    assert paths[2:] == ["/file"] * 3


def test_transient_failures_are_retried(server: _Server) -> None:
    """503 twice, then 200: the caller sees only the answer."""
    response = Http().get(server.url + "/flaky")
    assert response.status == 200
    assert response.body == BODY
    assert [path for path, _ in server.seen] == ["/flaky"] * 3


def test_retries_run_out_with_the_last_answer(server: _Server) -> None:
    response = Http(retries=1).get(server.url + "/flaky")
    assert response.status == 503
    assert [path for path, _ in server.seen] == ["/flaky"] * 2


def test_redirects_are_followed(server: _Server) -> None:
    response = Http().get(server.url + "/moved")
    assert (response.status, response.body) == (200, BODY)


def test_compressed_pages_arrive_decompressed(server: _Server) -> None:
    response = Http().get(server.url + "/page")
    assert response.body == BODY
    assert response.headers["content-type"] == "text/html"


def test_download_into_a_file(server: _Server, tmp_path: Path) -> None:
    target = tmp_path / "file.whl"
    response = Http().request("GET", server.url + "/file", into=target)
    assert response.status == 200
    assert target.read_bytes() == BODY


def test_many_sizes_at_once_without_threads(server: _Server) -> None:
    http = Http(concurrency=4)
    futures = [http.size_later(server.url + "/file") for _ in range(40)]
    assert [f.result() for f in futures] == [len(BODY)] * 40
    assert server.peak <= 4


def _entries(cache: Cache) -> set[tuple[str, int, int]]:
    """Every stored answer's file: name, inode and modification time."""
    return {
        (p.name, p.stat().st_ino, p.stat().st_mtime_ns)
        for p in (cache.root / "http").rglob("*")
        if p.is_file()
    }


def test_a_page_answered_again_alike_is_not_written_again(server: _Server, tmp_path: Path) -> None:
    """Indexes without caching headers send every page again: the same bytes keep the
    cache entry as it is (no megabytes rewritten per run); other bytes replace it."""
    cache = Cache(tmp_path)
    http = Http(cache=cache)
    url = f"{server.url}/page-v"
    first = http.fetch_cached(url)
    kept = _entries(cache)
    again = http.fetch_cached(url)
    assert again.body == first.body == BODY
    assert again.sha256 == first.sha256 == hashlib.sha256(BODY).hexdigest()
    assert _entries(cache) == kept  # the same file, untouched
    server.page = b"<a href='demo-2.0.tar.gz'>demo-2.0.tar.gz</a>"
    changed = http.fetch_cached(url)
    assert changed.body == server.page
    assert _entries(cache) != kept
    stored = cache.get_response(url)
    assert stored is not None and stored[1] == server.page
    assert stored[0]["sha256"] == hashlib.sha256(server.page).hexdigest()
    # an answer that could be fresh is stored again each time: its age starts anew
    aged = f"{server.url}/page-aged"
    http.fetch_cached(aged)
    before = cache.get_response_meta(aged)
    time.sleep(0.01)
    http.fetch_cached(aged)
    after = cache.get_response_meta(aged)
    assert before is not None and after is not None
    assert after["stored"] > before["stored"]
    http.close()
