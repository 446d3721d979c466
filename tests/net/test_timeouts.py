"""A dead or stalled index fails a command within bounds a user can set, and says it is
waiting: a server that accepts and answers nothing, and one that drips a byte a second."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest

from tests.support.lockfixtures import write_project

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import CLI

pytestmark = pytest.mark.usefixtures("lock_env")


@contextmanager
def _server(behaviour: str) -> Iterator[str]:
    """An index URL on loopback whose server accepts and then ``hangs`` (reads the request,
    answers nothing) or ``drips`` (headers, then one byte a second)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve(connection: socket.socket) -> None:
        connection.recv(65536)
        if behaviour == "drips":
            connection.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 999\r\n\r\n"
            )
            while not stop.wait(1.0):
                try:
                    connection.sendall(b"<")
                except OSError:
                    return

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            held.append(connection)
            threading.Thread(target=serve, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/simple/"
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


@pytest.mark.parametrize("behaviour", ["hangs", "drips"])
def test_a_stalled_index_fails_within_the_timeout_and_says_it_waits(
    cli: CLI, tmp_path: Path, behaviour: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TUMBLER_HTTP_TIMEOUT=2.5: each attempt gives up after 2.5 s of (near) silence, and
    no attempt starts that could not end within 3 x 2.5 s of the first."""
    monkeypatch.setenv("TUMBLER_HTTP_TIMEOUT", "2.5")
    project = write_project(tmp_path, ["delta"])
    with _server(behaviour) as url:
        started = time.monotonic()
        run = cli("lock", project, "--index-url", url, "--target", "linux-x86_64-3.12")
        elapsed = time.monotonic() - started
    assert run.code == 2, run.err
    assert elapsed < 7.5
    assert "Traceback" not in run.err
    errors = [line for line in run.err.splitlines() if line.startswith("tumbler: error:")]
    assert len(errors) == 1 and "cannot reach 127.0.0.1:" in errors[0]
    assert "tumbler: note: waiting for 127.0.0.1:" in run.err
    assert not (tmp_path / "pylock.toml").exists()


@pytest.mark.slow
def test_a_dead_index_fails_within_30_seconds_by_default(cli: CLI, tmp_path: Path) -> None:
    project = write_project(tmp_path, ["delta"])
    with _server("hangs") as url:
        started = time.monotonic()
        run = cli("lock", project, "--index-url", url, "--target", "linux-x86_64-3.12")
        elapsed = time.monotonic() - started
    assert run.code == 2
    assert elapsed < 30
    assert "no answer for" in run.err


def test_the_timeout_setting_and_a_bad_value(
    cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = write_project(tmp_path, ["delta"], tool="http-timeout = 2")
    with _server("hangs") as url:
        started = time.monotonic()
        run = cli("lock", project, "--index-url", url, "--target", "linux-x86_64-3.12")
        elapsed = time.monotonic() - started
    assert run.code == 2 and elapsed < 6.5
    monkeypatch.setenv("TUMBLER_HTTP_TIMEOUT", "soon")
    bad = cli("lock", project, "--index-url", "http://127.0.0.1:9/simple/", "--target", "host")
    assert bad.code == 2
    assert bad.err.strip() == (
        "tumbler: error: TUMBLER_HTTP_TIMEOUT='soon': expected a number of seconds, e.g. 10"
    )
    write_project(tmp_path, ["delta"], tool='http-timeout = "2"')
    monkeypatch.delenv("TUMBLER_HTTP_TIMEOUT")
    wrong = cli("lock", project, "--target", "host")
    assert wrong.code == 2 and "http-timeout: expected a number of seconds" in wrong.err
