"""tumbler.index.metadata: the PEP 658 file only when the page offers it, else the wheel's tail by
range request (which also tells its size); sizes kept by hash for offline runs. A real
HTTP server on loopback serves one wheel the tests build."""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

import pytest
from packaging.utils import canonicalize_name, parse_wheel_filename

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


#: Requirements whose kept parts must rebuild exactly what packaging parses.
TRICKY = (
    "alpha>=1",
    "Beta_Pkg[Extra_One,two] (>=2.0,!=2.1.*,<3) ; python_version < '3.12' and extra == 'Test_X'",
    "gamma @ https://example.com/gamma-1.0.tar.gz#sha256=" + "a" * 64,
    "delta[x] @ file:///somewhere/delta ; sys_platform == 'win32' or os_name != \"nt\"",
    "epsilon===1.0+local",
    "zeta~=1.4.2; (platform_machine == 'x86_64' and implementation_name == 'cpython') "
    "or extra == 'all'",
    "eta; extra == 'a.b' and python_full_version >= '3.11.2'",
    "theta",
)


def test_kept_metadata_rebuilds_what_packaging_parses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later run reads Requires-Dist from the kept parts, without packaging's requirement
    parser (the largest block of a warm one-target lock), and gets equal requirements."""
    import packaging.requirements
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    from tumbler.env.markers import parsed_marker
    from tumbler.index import metadata as kept

    wanted = [Requirement(text) for text in TRICKY]
    original = kept.CoreMetadata(
        name=canonicalize_name("demo-pkg"),
        version="1.0",
        requires_dist=tuple(wanted),
        requires_python=SpecifierSet(">=3.9"),
        provides_extra=frozenset({canonicalize_name("test-x")}),
    )
    data = kept._to_parsed(original)

    def refuse(text: str) -> None:
        raise AssertionError(f"parsed {text!r} again")

    for cache in ("_REQUIREMENTS", "_SPECIFIERS"):
        monkeypatch.setattr(kept, cache, {})
    parsed_marker.cache_clear()
    monkeypatch.setattr(packaging.requirements, "_parse_requirement", refuse)
    rebuilt = kept._from_parsed(data)
    monkeypatch.undo()
    assert rebuilt is not None
    assert rebuilt == original
    assert [str(r) for r in rebuilt.requires_dist] == [str(r) for r in wanted]
    environments = [
        {"python_version": "3.11", "sys_platform": "win32", "extra": "test-x"},
        {"python_version": "3.12", "os_name": "nt", "platform_machine": "x86_64", "extra": "all"},
    ]
    for got, want in zip(rebuilt.requires_dist, wanted, strict=True):
        assert got == want and hash(got) == hash(want)
        assert got.extras == want.extras and got.url == want.url
        if want.marker is not None:
            assert got.marker is not None
            for environment in environments:
                assert got.marker.evaluate(environment) == want.marker.evaluate(environment)


def test_metadata_kept_in_the_old_shape_is_read_again(server: _Server, tmp_path: Path) -> None:
    """An entry of the earlier shape (requirements as text) is not trusted: the metadata
    is parsed again from the kept METADATA and kept in the new shape."""
    import marshal

    from tumbler.index import metadata as kept

    cache = Cache(tmp_path / "cache")
    file = _file(server, None)
    first = MetadataFetcher(Http(cache=cache), cache).get(file)
    key = file.hashes["sha256"]
    old = marshal.dumps((1, "demo-pkg", "1.2", ["wrong>=9"], None, []))
    cache.put_blob(kept._PARSED, key, old)
    again = MetadataFetcher(Http(cache=cache, offline=True), cache).get(file)
    assert again == first
    assert [str(r) for r in again.requires_dist] == ["alpha>=1", 'beta; extra == "x"']
    assert kept._from_parsed(cache.get_blob(kept._PARSED, key)) == first
