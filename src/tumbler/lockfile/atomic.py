"""I/O edge: write a file atomically (temporary file in the same directory + rename).

A failed or interrupted write leaves the old file exactly as it was. The temporary file
is named ``.<name>.<pid>.<random>.tmp``; a write removes those an earlier, killed write
left behind (their process is gone), never one a running writer still owns.
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from pathlib import Path

from tumbler.errors import InputError

__all__ = ["lock_output", "write_atomic"]


def lock_output(path: Path) -> Path:
    """``path`` as a lock to write (``-o``); a usage error when the standard does not allow
    its name (R1: ``pylock.toml`` or ``pylock.<name>.toml``), before any work is done."""
    from packaging.pylock import is_valid_pylock_path

    from tumbler.errors import UsageError

    if not is_valid_pylock_path(path):
        raise UsageError(
            f"-o {path}: not a lock file name (R1): name it pylock.toml or "
            "pylock.<name>.toml (<name> without dots)"
        )
    return path


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8, ``\\n`` line ends) in one rename.

    The new file keeps the old file's permission bits. Raises
    :class:`~tumbler.errors.InputError` when the file cannot be written (the old one is
    then untouched).
    """
    directory = path.parent
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    except OSError as exc:  # a file where a folder should be, a name too long, ...
        raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    _remove_stale(path)
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=directory
        )
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(mode)
        tmp.replace(path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):  # disk full, path is a directory, ...
            raise InputError(f"{path}: cannot write ({exc.strerror or exc})") from None
        raise


def _remove_stale(path: Path) -> None:
    """Remove the temporary files of ``path`` whose writing process is gone (killed
    mid-write); files of a live process, or not named by this module, are left alone."""
    prefix = f".{path.name}."
    try:
        found = list(path.parent.glob(f"{glob.escape(prefix)}*.tmp"))
    except OSError:
        return
    for stale in found:
        pid_text = stale.name[len(prefix) :].split(".", 1)[0]
        if pid_text.isdecimal() and not _alive(int(pid_text)):
            with contextlib.suppress(OSError):
                stale.unlink()


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a process we may not signal exists too)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
