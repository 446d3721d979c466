"""A plain file server on 127.0.0.1 that can misbehave on purpose, for install tests.

``serve(directory, truncate=..., missing=...)`` serves ``directory`` over HTTP/1.1: a name in
``truncate`` is sent with its full ``Content-Length`` but only half of its bytes before the
connection closes (a download cut short); a name in ``missing`` answers 404.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit


@dataclass(frozen=True)
class FileServer:
    """A running server: ``url(name)`` is where ``name`` is served."""

    root: str
    directory: Path

    def url(self, name: str) -> str:
        return f"{self.root}files/{name}"


@contextlib.contextmanager
def serve(
    directory: Path,
    *,
    truncate: frozenset[str] = frozenset(),
    missing: frozenset[str] = frozenset(),
) -> Iterator[FileServer]:
    """Serve ``directory`` until the ``with`` block ends."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            return

        def do_GET(self) -> None:
            name = unquote(urlsplit(self.path).path).rsplit("/", 1)[-1]
            path = directory / name
            if name in missing or not path.is_file():
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = path.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            if name in truncate:
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield FileServer(f"http://127.0.0.1:{server.server_address[1]}/", directory)
    finally:
        server.shutdown()
        server.server_close()
