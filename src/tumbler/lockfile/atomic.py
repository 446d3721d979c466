"""I/O edge: write a file atomically (temporary file in the same directory + rename).

A failed or interrupted write leaves the old file exactly as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from tumbler.errors import InputError

__all__ = ["write_atomic"]


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
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
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
