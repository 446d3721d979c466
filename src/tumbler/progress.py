"""A one-line progress display on a terminal while tumbler works.

Shown only when the stream is a terminal, the run is not ``--quiet``, ``CI`` is not set
and ``TERM`` is not ``dumb``: logs and pipes never see control characters. A daemon thread
redraws the line every ``interval`` seconds from a status callback, and the line is
erased when the work ends, so the command's own output starts on a clean line.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["Progress", "notice", "wanted"]

_FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_CLEAR = "\r\x1b[2K"


def wanted(stream: TextIO, *, quiet: bool) -> bool:
    """Whether a progress line belongs on ``stream``."""
    if quiet or os.environ.get("CI", "").lower() not in ("", "0", "false"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Progress:
    """Redraws ``label: status()`` with a spinner and the elapsed time."""

    def __init__(self, stream: TextIO, *, interval: float = 0.1) -> None:
        self._stream = stream
        self._interval = interval

    def _line(self, frame: int, label: str, status: str, elapsed: float) -> str:
        spinner = _FRAMES[frame % len(_FRAMES)]
        detail = f" {status}" if status else ""
        return f"{_CLEAR}{spinner} {label}{detail} ({elapsed:.1f} s)"

    @contextlib.contextmanager
    def show(self, label: str, status: Callable[[], str] = str) -> Iterator[None]:
        """Show the line while the ``with`` block runs, then erase it."""
        stop = threading.Event()
        started = time.perf_counter()

        def draw() -> None:
            frame = 0
            while not stop.wait(self._interval if frame else 0):
                try:
                    text = self._line(frame, label, status(), time.perf_counter() - started)
                    self._stream.write(text)
                    self._stream.flush()
                except (OSError, ValueError):
                    return  # the terminal went away: never fail the work for it
                frame += 1

        thread = threading.Thread(target=draw, name="tumbler-progress", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            with contextlib.suppress(OSError, ValueError):
                self._stream.write(_CLEAR)
                self._stream.flush()


def notice(message: str, stream: TextIO | None = None) -> None:
    """``tumbler: note: message`` on stderr, now, whatever the stream is (a terminal, a CI
    log): what a user waiting on tumbler should know (a slow index)."""
    import sys

    target = stream if stream is not None else sys.stderr
    with contextlib.suppress(OSError, ValueError):
        target.write(f"{_CLEAR if _is_terminal(target) else ''}tumbler: note: {message}\n")
        target.flush()


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
