"""Worker processes that stage wheels (:func:`tumbler.installing.unpack.stage`) off the
GIL, owned and reaped by the install that started them.

A :class:`Workers` starts its processes at once (their start-up overlaps the downloads),
hands each a job at a time over a pipe, and on leaving its ``with`` block closes their
input and waits for every one of them: no worker outlives the command, whether the block
ends normally, by an error or by an interrupt (then the workers are told to stop first).
No ``multiprocessing``: its spawn start method adds a resource-tracker process nobody
waits for, and a pool that must be shut down before :func:`tumbler.leaving.leave`.

Each worker reads one JSON job a line on its standard input and answers one JSON line on
the descriptor it was given (its standard output, which it then points at its standard
error, so nothing a library prints can break the protocol). It runs in a session of its
own, so a terminal's Ctrl-C reaches only the install, which then stops it (it also ignores
``SIGINT``), and it leaves on ``SIGTERM`` through ``SystemExit``, so a half-staged wheel's
scratch directory is removed. Should the install die, its worker reads the end of its
input and leaves too.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from types import TracebackType

    from tumbler.installing.unpack import Staged

__all__ = ["Workers"]

#: How long a worker told to stop may take before it is killed (seconds).
_GRACE = 10.0


class Workers:
    """``count`` worker processes staging wheels; a context manager that reaps them."""

    def __init__(self, count: int) -> None:
        command = [sys.executable, "-P", "-m", "tumbler.installing.workers"]
        self._processes: list[subprocess.Popen[bytes]] = []
        self._idle: queue.SimpleQueue[subprocess.Popen[bytes]] = queue.SimpleQueue()
        try:
            for _ in range(count):
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    # Out of the terminal's process group: Ctrl-C reaches the install,
                    # which stops its workers itself (even one still starting up).
                    start_new_session=os.name == "posix",
                )
                self._processes.append(process)
                self._idle.put(process)
        except BaseException:
            self.close(abort=True)
            raise

    def __enter__(self) -> Workers:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close(abort=kind is not None)

    def stage(self, wheel: Path, cache_root: Path, algorithm: str, digest: str) -> Staged:
        """:func:`~tumbler.installing.unpack.stage` in a free worker (waits for one).

        A wheel the worker cannot stage raises ``ValueError`` with its reason; a worker
        that stopped raises ``OSError``.
        """
        from tumbler.installing.unpack import staged

        job = {"wheel": str(wheel), "root": str(cache_root), "algorithm": algorithm,
               "digest": digest}  # fmt: skip
        process = self._idle.get()
        try:
            reply = _ask(process, job)
        finally:
            self._idle.put(process)
        if "error" in reply:
            raise ValueError(str(reply["error"]))
        found = staged(cache_root, algorithm, digest)
        if found is None:
            raise OSError(f"{wheel.name}: the unpacking worker left no staged wheel")
        return found

    def close(self, *, abort: bool = False) -> None:
        """Close every worker's input and wait for it (told to stop first when
        ``abort``; killed if it does not within a grace period)."""
        for process in self._processes:
            if abort:
                with contextlib.suppress(OSError):
                    process.terminate()
            _close(process.stdin)
        for process in self._processes:
            try:
                process.wait(_GRACE)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            _close(process.stdout)


def _ask(process: subprocess.Popen[bytes], job: dict[str, str]) -> dict[str, object]:
    """Send ``job`` to ``process``; its answer."""
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(json.dumps(job).encode() + b"\n")
        process.stdin.flush()
        line = process.stdout.readline()
    except (OSError, ValueError) as error:  # ValueError: a pipe closed by close()
        raise OSError(f"the unpacking worker stopped: {error}") from None
    if not line:
        raise OSError("the unpacking worker stopped")
    answer = json.loads(line)
    assert isinstance(answer, dict)
    return answer


def _close(stream: IO[bytes] | None) -> None:
    if stream is not None:
        with contextlib.suppress(OSError):
            stream.close()


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def serve() -> None:
    """A worker's life: stage each job read on standard input, answer each on the
    original standard output, until the input closes."""
    from tumbler.installing.unpack import inflate_with_zlib_ng, stage

    inflate_with_zlib_ng()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop)
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    for line in sys.stdin.buffer:
        job = json.loads(line)
        try:
            stage(Path(job["wheel"]), Path(job["root"]), job["algorithm"], job["digest"])
            answer: dict[str, object] = {"ok": True}
        except Exception as error:  # every failure is the wheel's, told back
            answer = {"error": str(error) or type(error).__name__}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        serve()
