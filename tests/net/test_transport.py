"""tumbler.net.transport: where the trust store comes from, and header parsing. (Requests over
both transports are tested against a real server in tests/test_net.py.)"""

from __future__ import annotations

import ssl
from pathlib import Path
from types import SimpleNamespace

import pytest
from pip._vendor import certifi

from tumbler.net import transport


def _paths(cafile: str | None, capath: str | None) -> SimpleNamespace:
    """What ``ssl.get_default_verify_paths`` returns (its fields may be None)."""
    return SimpleNamespace(cafile=cafile, capath=capath, openssl_cafile="", openssl_capath="")


def test_ssl_cert_file_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bundle = tmp_path / "corp.pem"
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    assert transport._ca_options() == (str(bundle), None)


def test_python_s_trust_store_when_it_exists(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bundle = tmp_path / "cert.pem"
    bundle.write_text("x")
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: _paths(str(bundle), None))
    assert transport._ca_options() == (str(bundle), None)
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: _paths(None, str(tmp_path)))
    assert transport._ca_options() == (None, str(tmp_path))


def test_certifi_when_python_points_at_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A python.org macOS build may name a cert.pem that was never installed."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    missing = str(tmp_path / "missing.pem")
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: _paths(missing, None))
    assert transport._ca_options() == (certifi.where(), None)
    assert Path(certifi.where()).is_file()


def test_headers_of_the_last_answer_only() -> None:
    lines = [
        b"HTTP/1.1 302 Found\r\n",
        b"Location: /b\r\n",
        b"\r\n",
    ]
    running = transport._Running(transport._Job("GET", "http://127.0.0.1/", {}, None, False), None)
    for line in (*lines, b"HTTP/2 206\r\n", b"Content-Range: bytes 9-9/10\r\n", b"\r\n"):
        transport.CurlTransport._header(running, line)
    assert transport._headers(running.lines) == {"content-range": "bytes 9-9/10"}
    assert transport._partial(running.lines)
    assert not transport._partial(lines)
