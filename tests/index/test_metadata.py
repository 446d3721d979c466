"""tumbler.index.metadata: the PEP 658 file only when the page offers it, else the wheel's tail by
range request (which also tells its size); sizes kept by hash for offline runs. A real
HTTP server on loopback serves one wheel the tests build."""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest
from packaging.utils import parse_wheel_filename

from tests.support.pkgindex import Dist, build_wheel, core_metadata
from tumbler.index.metadata import MetadataFetcher
from tumbler.index.pages import IndexFile
from tumbler.net.cache import Cache
from tumbler.net.http import Http

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

DIST = Dist("Demo-Pkg", "1.2", requires_dist=("alpha>=1", "beta; extra == 'x'"))


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Range")))
        if self.path.endswith(".metadata"):
            self._send(200, self.server.metadata)
            return
        data = self.server.wheel
        wanted = self.headers.get("Range", "")
        if wanted.startswith("bytes=-"):
            count = min(int(wanted[7:]), len(data))
            start = len(data) - count
        elif wanted.startswith("bytes="):
            first, _, last = wanted[6:].partition("-")
            start, count = int(first), int(last) - int(first) + 1
        else:
            self._send(200, data)
            return
        part = data[start : start + count]
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{start + len(part) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(part)))
        self.end_headers()
        self.wfile.write(part)

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, wheel: bytes) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.wheel = wheel
        self.metadata = core_metadata(DIST)
        self.seen: list[tuple[str, str | None]] = []


@pytest.fixture
def server(tmp_path: Path) -> Iterator[_Server]:
    running = _Server(build_wheel(DIST, tmp_path).read_bytes())
    threading.Thread(target=running.serve_forever, args=(0.02,), daemon=True).start()
    yield running
    running.shutdown()
    running.server_close()


def _file(server: _Server, metadata: bool | dict[str, str] | None) -> IndexFile:
    filename = DIST.wheel_filename
    _, version, _, tags = parse_wheel_filename(filename)
    port = server.server_address[1]
    return IndexFile(
        filename=filename,
        url=f"http://127.0.0.1:{port}/files/{filename}",
        hashes={"sha256": hashlib.sha256(server.wheel).hexdigest()},
        requires_python=None,
        yanked=None,
        upload_time=None,
        size=None,
        metadata=metadata,
        version=version,
        tags=tags,
        index=f"http://127.0.0.1:{port}/simple",
    )


def test_unoffered_metadata_file_is_not_asked_for(server: _Server) -> None:
    fetcher = MetadataFetcher(Http(), None)
    metadata = fetcher.get(_file(server, None))
    assert metadata.name == "demo-pkg"
    assert [str(r) for r in metadata.requires_dist] == ["alpha>=1", 'beta; extra == "x"']
    assert all(not path.endswith(".metadata") for path, _ in server.seen)
    assert server.seen[0][1] == "bytes=-65536"
    # The tail told the wheel's size: no request is needed for it.
    before = len(server.seen)
    file = _file(server, None)
    assert fetcher.sizes.of([file]) == {file.url: len(server.wheel)}
    assert len(server.seen) == before


def test_offered_metadata_file_is_used_and_checked(server: _Server) -> None:
    digest = hashlib.sha256(server.metadata).hexdigest()
    metadata = MetadataFetcher(Http(), None).get(_file(server, {"sha256": digest}))
    assert metadata.version == "1.2"
    assert [path for path, _ in server.seen] == [f"/files/{DIST.wheel_filename}.metadata"]


def test_offered_metadata_file_with_a_wrong_hash_is_refused(server: _Server) -> None:
    from tumbler.errors import InputError

    with pytest.raises(InputError, match="does not match its sha256"):
        MetadataFetcher(Http(), None).get(_file(server, {"sha256": "0" * 64}))


def test_sizes_are_kept_for_offline_runs(server: _Server, tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    file = _file(server, None)
    online = MetadataFetcher(Http(cache=cache), cache)
    assert online.sizes.of([file]) == {file.url: len(server.wheel)}
    assert server.seen == [(f"/files/{DIST.wheel_filename}", "bytes=-1")]
    offline = MetadataFetcher(Http(cache=cache, offline=True), cache)
    assert offline.sizes.of([file]) == {file.url: len(server.wheel)}
    assert len(server.seen) == 1
