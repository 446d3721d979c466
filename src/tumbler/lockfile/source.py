"""I/O edge: read a lock file's bytes from a path, standard input or a git revision.

``OLD`` and ``NEW`` of ``tumbler diff`` may be ``REV:path`` (``HEAD~1:pylock.toml``), read
with ``git show``. Every failure is an :class:`~tumbler.errors.InputError`: one clear line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tumbler.errors import InputError

__all__ = ["MAX_LOCK_BYTES", "LockSource", "read_git_revision", "read_source"]

#: Largest lock file tumbler reads, in bytes. Real locks are under 1 MiB; a synthetic
#: 6,000-package lock is 15 MiB. ``TUMBLER_MAX_LOCK_BYTES`` raises it.
MAX_LOCK_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class LockSource:
    """The raw bytes of one lock file and where they came from."""

    #: What the user named: a path, ``-``, or ``REV:path``.
    origin: str
    data: bytes
    #: The file's path on disk, when it is one (for the R1 name rule and relative paths).
    path: Path | None = None


def _limit() -> int:
    raw = os.environ.get("TUMBLER_MAX_LOCK_BYTES", "")
    return int(raw) if raw.isdecimal() else MAX_LOCK_BYTES


def _too_big(origin: str, size: int, limit: int) -> InputError:
    return InputError(
        f"{origin}: file is {size / 1048576:.1f} MiB, larger than tumbler's "
        f"{limit / 1048576:.0f} MiB limit for a lock file (set TUMBLER_MAX_LOCK_BYTES to raise it)"
    )


def read_source(ref: str) -> LockSource:
    """Read a lock named on the command line: a path, ``-`` for stdin, or ``REV:path``."""
    limit = _limit()
    if ref == "-":
        data = sys.stdin.buffer.read(limit + 1)
        if len(data) > limit:
            raise _too_big("<stdin>", len(data), limit)
        return LockSource("<stdin>", data)
    path = Path(ref)
    try:
        exists = path.exists()
    except OSError:  # a name too long, a directory without search permission
        exists = False
    if not exists and ":" in ref and not _looks_like_windows_drive(ref):
        rev, _, inner = ref.partition(":")
        return read_git_revision(rev, inner, origin=ref)
    try:
        if path.is_dir():
            raise InputError(f"{ref}: is a directory, not a lock file (try {ref}/pylock.toml)")
        size = path.stat().st_size
        if size > limit:
            raise _too_big(ref, size, limit)
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{ref}: no such file") from None
    except PermissionError:
        raise InputError(f"{ref}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{ref}: cannot read ({exc.strerror or exc})") from None
    return LockSource(ref, data, path)


def _looks_like_windows_drive(ref: str) -> bool:
    return len(ref) > 2 and ref[1] == ":" and ref[0].isalpha() and ref[2] in "\\/"


def read_git_revision(
    rev: str, path: str, *, origin: str | None = None, missing: bytes | None = None
) -> LockSource:
    """Read ``path`` as it was at git revision ``rev`` (``git show REV:path``); with
    ``missing``, a path the revision does not have reads as those bytes (a lock a branch
    adds compares with an empty one).

    ``path`` is taken relative to the current directory, as git does for ``REV:./path``.
    """
    origin = origin or f"{rev}:{path}"
    inner = path if path.startswith(("./", "../")) or Path(path).is_absolute() else f"./{path}"
    if Path(inner).is_absolute():
        inner = os.path.relpath(inner)
        inner = inner if inner.startswith("../") else f"./{inner}"
    try:
        proc = subprocess.run(
            ["git", "show", f"{rev}:{inner}"],
            capture_output=True,
            check=False,
        )
    except FileNotFoundError:
        raise InputError(f"{origin}: git is not installed, cannot read a revision") from None
    if proc.returncode != 0:
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = reason[-1] if reason else f"git exited {proc.returncode}"
        detail = detail.removeprefix("fatal: ")
        if missing is not None and ("does not exist in" in detail or "but not in" in detail):
            return LockSource(f"{origin} (not there)", missing)
        raise InputError(f"{origin}: cannot read from git ({detail})")
    limit = _limit()
    if len(proc.stdout) > limit:
        raise _too_big(origin, len(proc.stdout), limit)
    return LockSource(origin, proc.stdout)
