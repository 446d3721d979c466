"""The OSV side of the vulnerability tests: the recorded records, a hand-written lock of
real package versions, and a loopback server speaking OSV's batch API.

The records in ``tests/data/osv/`` are real (its README says where each came from). The
lock names real releases they affect, with ``example.com`` file URLs (nothing is fetched).
:func:`serve_osv` answers ``POST /v1/querybatch`` and ``GET /v1/vulns/<id>`` from the
records, matching with tumbler's own matcher; ``page_size`` makes it page with
``next_page_token`` as the real service does for long answers.
"""

from __future__ import annotations

import json
import threading
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tumbler.advisories.osv import affects, parse_advisory

OSV_DATA = Path(__file__).resolve().parents[1] / "data" / "osv"
#: The newest ``modified`` among the recorded records (MAL-2024-9934's).
OSV_DATE = "2025-12-11"

#: Real releases the records affect, one clean (idna 3.7), each selected differently:
#: requests by every install, jinja2 by the extra ``docs``, urllib3 by the group ``dev``,
#: 3web-py (malware) on Windows only.
LOCK = """\
lock-version = "1.0"
created-by = "hand-written for tumbler's vulnerability tests"
requires-python = ">=3.9"
extras = ["docs"]
dependency-groups = ["dev"]
default-groups = []

[[packages]]
name = "requests"
version = "2.30.0"
wheels = [{ url = "https://files.example.com/requests-2.30.0-py3-none-any.whl", hashes = { sha256 = "10e94cc4f3121ee6da529d358cdaeaff2f1c409cd377dbc72b825852f2f7e294" } }]

[[packages]]
name = "jinja2"
version = "2.11.2"
marker = "'docs' in extras"
wheels = [{ url = "https://files.example.com/Jinja2-2.11.2-py2.py3-none-any.whl", hashes = { sha256 = "f0a4641d3cf955324a89c04f3d94663aa4d638abe8f733ecd3582848e1c37035" } }]

[[packages]]
name = "urllib3"
version = "1.26.17"
marker = "'dev' in dependency_groups"
wheels = [{ url = "https://files.example.com/urllib3-1.26.17-py2.py3-none-any.whl", hashes = { sha256 = "94a757d178c9be92ef5539b8840d48dc9cf1b2709c9d6b588232a055c524458b" } }]

[[packages]]
name = "3web-py"
version = "1.0.0"
marker = "sys_platform == 'win32'"
wheels = [{ url = "https://files.example.com/3web_py-1.0.0-py3-none-any.whl", hashes = { sha256 = "0000000000000000000000000000000000000000000000000000000000000000" } }]

[[packages]]
name = "idna"
version = "3.7"
wheels = [{ url = "https://files.example.com/idna-3.7-py3-none-any.whl", hashes = { sha256 = "82fee1fc78add43492d3a1898bfa6d8a904cc97d8427f683ed8e798d07761aa0" } }]
"""


def records() -> dict[str, dict[str, Any]]:
    """Every recorded OSV record, by id."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(OSV_DATA.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        out[data["id"]] = data
    return out


def write_zip(target: Path, extra: Mapping[str, Mapping[str, Any]] | None = None) -> Path:
    """An ``all.zip`` as OSV publishes it (``<ID>.json`` at the top) of the records, and
    ``extra`` ones (made-up records of a test)."""
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(OSV_DATA.glob("*.json")):
            archive.write(path, path.name)
        for ident, data in (extra or {}).items():
            archive.writestr(f"{ident}.json", json.dumps(data))
    return target


@dataclass
class OsvServer:
    """What the loopback OSV server was asked."""

    url: str
    page_size: int
    #: Each ``querybatch`` body, decoded.
    batches: list[dict[str, Any]] = field(default_factory=list)
    #: Each ``vulns/<id>`` asked for.
    fetched: list[str] = field(default_factory=list)


def _ids_for(query: Mapping[str, Any], known: Mapping[str, dict[str, Any]]) -> list[str]:
    package = query.get("package", {})
    name, version = package.get("name", ""), query.get("version", "")
    return sorted(
        ident
        for ident, data in known.items()
        if affects(parse_advisory(data, ident), name, version)
    )


def _answer(
    query: Mapping[str, Any], known: Mapping[str, dict[str, Any]], page_size: int
) -> dict[str, Any]:
    """One query's result: a page of ids, with a token for the next page when more remain."""
    ids = _ids_for(query, known)
    start = int(query.get("page_token", "0"))
    page = ids[start : start + page_size]
    result: dict[str, Any] = {}
    if page:
        result["vulns"] = [{"id": i, "modified": known[i]["modified"]} for i in page]
    if start + page_size < len(ids):
        result["next_page_token"] = str(start + page_size)
    return result


@contextmanager
def serve_osv(
    known: Mapping[str, dict[str, Any]] | None = None, *, page_size: int = 1
) -> Iterator[OsvServer]:
    """A loopback OSV API over ``known`` records (default: the recorded ones)."""
    data = dict(known if known is not None else records())

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: object) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            if self.path != "/v1/querybatch":
                self._send(404, {"message": "not found"})
                return
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.batches.append(body)
            results = [_answer(q, data, page_size) for q in body["queries"]]
            self._send(200, {"results": results})

        def do_GET(self) -> None:
            ident = self.path.removeprefix("/v1/vulns/")
            state.fetched.append(ident)
            if ident in data:
                self._send(200, data[ident])
            else:
                self._send(404, {"message": "Bug not found."})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = OsvServer(url=f"http://127.0.0.1:{server.server_address[1]}", page_size=page_size)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
