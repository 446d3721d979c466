"""Leaving the process without waiting for work the finished command no longer needs.

When a lock is written, pool threads may still be fetching what speculation asked for
(a page, a wheel's tail, a file size), and the heap holds a million objects. An ordinary
exit joins those threads (up to a slow request's latency) and then collects and frees
every object (about 0.2 s after a large lock). :func:`leave` skips both, but first waits
for every *guarded* section: work that must not be cut short because it leaves state
behind (a cache write, an sdist build with its temporary directory and subprocess). A
guarded section asked to start once :func:`leave` has begun is told not to
(:func:`guarded` yields False).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["guarded", "leave"]


class _Sections:
    """Guarded sections running now, and whether the process has begun to leave."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.busy = 0
        self.leaving = False


_SECTIONS = _Sections()


@contextlib.contextmanager
def guarded() -> Iterator[bool]:
    """A section :func:`leave` waits for; yields False (skip the work) once leaving."""
    state = _SECTIONS
    with state.condition:
        allowed = not state.leaving
        state.busy += allowed
    try:
        yield allowed
    finally:
        if allowed:
            with state.condition:
                state.busy -= 1
                state.condition.notify_all()


def leave(code: int) -> NoReturn:
    """Exit with ``code`` once no guarded section runs, abandoning other threads.

    The exit is immediate (``os._exit`` after flushing the standard streams): an ordinary
    one would join the pool threads and then collect and free every object the command
    made, about 0.2 s after a large lock for memory the kernel reclaims at once anyway.
    """
    state = _SECTIONS
    with state.condition:
        state.leaving = True
        while state.busy:
            state.condition.wait()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
