"""The seams a foreign format plugs into: a :class:`Reader` turns another tool's lock
into a ``pylock.toml`` (``tumbler import``), an :class:`Exporter` turns a lock into what
another tool or an auditor reads (``tumbler export``).

A format is one module of :mod:`tumbler.formats` holding ``READER`` and/or ``EXPORTER``,
named by one line of :mod:`tumbler.formats.registry`. Both work on values: bytes in, a
:class:`packaging.pylock.Pylock` or text out; reading files and writing atomically stay
with the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from packaging.pylock import Pylock

    from tumbler.index.pages import IndexFile

__all__ = ["ExportOptions", "Exporter", "FileLookup", "Imported", "ReadOptions", "Reader"]


@runtime_checkable
class Reader(Protocol):
    """Reads one foreign format into the standard lock."""

    #: The format's name on the command line (``uv.lock``, ``poetry.lock``).
    name: str

    def detect(self, path: Path, data: bytes) -> bool:
        """Whether ``data`` (the file at ``path``) is in this format: from its name and a
        cheap look at its start, never a full parse."""
        ...

    def read(self, path: Path, data: bytes, files: FileLookup, options: ReadOptions) -> Imported:
        """The lock ``data`` describes, as a valid :class:`Pylock` (every version, file
        and hash as the file has them; ``files`` answers for what the format lacks and
        the standard needs, such as a hash's file name and URL), with a note for each
        thing the standard cannot say; :class:`~tumbler.errors.InputError` naming the
        place (``file:line`` or the table path) when it cannot be read."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadOptions:
    """What the caller knows beside the file: ``pyproject`` (the bytes of the
    ``pyproject.toml`` next to it, for formats whose lock needs its project to say which
    groups are extras), and whether a requirement without a hash may take its index's."""

    pyproject: bytes | None = None
    allow_unhashed: bool = False
    #: The index a file that names none came from (``import --index-url``); None: the
    #: public default. Never this machine's configuration: the lock records it.
    default_index: str | None = None


@dataclass(frozen=True, slots=True)
class Imported:
    """A foreign lock read: the standard lock, and one line per thing left out of it."""

    pylock: Pylock
    notes: tuple[str, ...] = ()


class FileLookup(Protocol):
    """The files an index lists for one release (the caller fetches; the reader stays pure)."""

    def __call__(self, name: str, version: str, indexes: Sequence[str]) -> Sequence[IndexFile]:
        """Every file of ``name`` ``version`` on the first of ``indexes`` that has it."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportOptions:
    """What an export covers: the extras and groups to select (None: the defaults), and
    what the caller knows around the lock (formats that name a project or a build take it
    from here, never from the file system or the environment themselves)."""

    extras: Sequence[str] = ()
    groups: Sequence[str] | None = None
    #: The project the lock is for (``[project] name``/``version`` beside the lock).
    project_name: str | None = None
    project_version: str | None = None
    #: Values derived from the lock only (serial numbers, timestamps), so the same lock
    #: exports to the same bytes; otherwise a fresh serial and the current time.
    reproducible: bool = False
    #: The run's surroundings as the caller read them (``GITHUB_SHA``, ``GITHUB_REF``, ...).
    context: Mapping[str, str] = field(default_factory=dict)
    #: The lock's path as a manifest names it (relative to the repository root if known).
    lock_path: str = "pylock.toml"


@runtime_checkable
class Exporter(Protocol):
    """Writes a lock in one foreign format."""

    #: The format's name on the command line (``requirements.txt``, ``cyclonedx``).
    name: str

    def export(self, pylock: Pylock, options: ExportOptions) -> str:
        """``pylock`` as this format's text."""
        ...
