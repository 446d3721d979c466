"""The seams a foreign format plugs into: a :class:`Reader` turns another tool's lock
into a ``pylock.toml`` (``tumbler import``), an :class:`Exporter` turns a lock into what
another tool or an auditor reads (``tumbler export``).

A format is one module of :mod:`tumbler.formats` holding ``READER`` and/or ``EXPORTER``,
named by one line of :mod:`tumbler.formats.registry`. Both work on values: bytes in, a
:class:`packaging.pylock.Pylock` or text out; reading files and writing atomically stay
with the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from packaging.pylock import Pylock

    from tumbler.index.pages import IndexFile

__all__ = ["ExportOptions", "Exporter", "FileLookup", "Reader"]


@runtime_checkable
class Reader(Protocol):
    """Reads one foreign format into the standard lock."""

    #: The format's name on the command line (``uv.lock``, ``poetry.lock``).
    name: str

    def detect(self, path: Path, data: bytes) -> bool:
        """Whether ``data`` (the file at ``path``) is in this format: from its name and a
        cheap look at its start, never a full parse."""
        ...

    def read(self, path: Path, data: bytes, files: FileLookup) -> Pylock:
        """The lock ``data`` describes, as a valid :class:`Pylock` (every version, file
        and hash as the file has them; ``files`` answers for what the format lacks and
        the standard needs, such as a hash's file name and URL);
        :class:`~tumbler.errors.InputError` naming the place when it cannot be read."""
        ...


class FileLookup(Protocol):
    """The files an index lists for one release (the caller fetches; the reader stays pure)."""

    def __call__(self, name: str, version: str, indexes: Sequence[str]) -> Sequence[IndexFile]:
        """Every file of ``name`` ``version`` on the first of ``indexes`` that has it."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportOptions:
    """What an export covers: the extras and groups to select (None: the defaults)."""

    extras: Sequence[str] = ()
    groups: Sequence[str] | None = None


@runtime_checkable
class Exporter(Protocol):
    """Writes a lock in one foreign format."""

    #: The format's name on the command line (``requirements.txt``, ``cyclonedx``).
    name: str

    def export(self, pylock: Pylock, options: ExportOptions) -> str:
        """``pylock`` as this format's text."""
        ...
