"""tumbler.net: sizes without downloads, the in-flight cap, urgent requests first, and an
offline run that never opens a connection. Each test runs a real HTTP server on loopback."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from tumbler.errors import NetworkError
from tumbler.net import Http

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
        if self.path in ("/file", "/slow") and self.headers.get("Range") == "bytes=-1":
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {len(BODY) - 1}-{len(BODY) - 1}/{len(BODY)}")
            self.send_header("Content-Length", "1")
            self.end_headers()
            self.wfile.write(BODY[-1:])
        elif self.path in ("/file", "/plain") or self.path.startswith("/slow"):
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


def test_main_thread_requests_go_before_background_sizes(server: _Server) -> None:
    """What resolution waits on (the main thread) takes the next free slot before file
    sizes queued earlier on background threads."""
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
