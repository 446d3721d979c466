"""tumbler.leaving: the command exits without waiting for abandoned work, but never cuts a
guarded section (a cache write, an sdist build) short."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING

from tumbler import leaving
from tumbler.net.cache import Cache

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def _run(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_leave_waits_for_guarded_work_and_abandons_the_rest(tmp_path: Path) -> None:
    result = _run(
        """
        import sys, threading, time
        from pathlib import Path
        from tumbler.leaving import guarded, leave

        root = Path(sys.argv[1])
        started = threading.Event()

        def guarded_work():
            with guarded() as allowed:
                started.set()
                time.sleep(0.5)
                (root / "guarded").write_text(str(allowed))

        def abandoned_work():
            time.sleep(30)  # a slow speculative request no one needs any more
            (root / "abandoned").write_text("finished")

        threading.Thread(target=guarded_work).start()
        threading.Thread(target=abandoned_work).start()
        started.wait()
        print("summary line", end="")  # unflushed output still reaches the reader
        leave(3)
        """,
        tmp_path,
    )
    assert result.returncode == 3, result.stderr
    assert result.stdout == "summary line"
    assert (tmp_path / "guarded").read_text() == "True"
    assert not (tmp_path / "abandoned").exists()


def test_guarded_work_asked_to_start_while_leaving_is_skipped(tmp_path: Path) -> None:
    result = _run(
        """
        import sys, threading, time
        from pathlib import Path
        from tumbler.leaving import guarded, leave

        root = Path(sys.argv[1])
        holding = threading.Event()

        def first():
            with guarded():
                holding.set()
                time.sleep(0.5)  # leave() is waiting on this one meanwhile

        def second():
            holding.wait()
            time.sleep(0.2)
            with guarded() as allowed:
                (root / "second").write_text(str(allowed))

        threading.Thread(target=first).start()
        threading.Thread(target=second).start()
        holding.wait()
        leave(0)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "second").read_text() == "False"


def test_cache_writes_nothing_once_leaving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = Cache(tmp_path / "cache")
    cache.put_blob("size", "a" * 64, b"12")
    monkeypatch.setattr(leaving._SECTIONS, "leaving", True)
    cache.put_blob("size", "b" * 64, b"34")
    cache.put_response("https://example.com/simple/x/", {"status": 200}, b"<a>")
    assert cache.get_blob("size", "a" * 64) == b"12"
    assert cache.get_blob("size", "b" * 64) is None
    assert cache.get_response("https://example.com/simple/x/") is None
    assert not list((tmp_path / "cache").rglob(".tmp-*"))


def test_the_command_exits_with_main_s_code_and_whole_output(tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text('lock-version = "1.0"\ncreated-by = "x"\n[[packages]]\nname = "a"\n')
    cases = ((lock, 1, "R24"), (tmp_path / "pylock.missing.toml", 2, "R5"))
    for path, code, rule in cases:
        result = subprocess.run(
            [sys.executable, "-m", "tumbler", "validate", str(path), "--format", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == code, result.stderr
        findings = json.loads(result.stdout)["files"][0]["findings"]
        assert [f["rule"] for f in findings] == [rule]
