"""The lock model: ``packaging.pylock`` for the standard, and where a lock came from.

The standard's tables are :class:`packaging.pylock.Pylock` and friends, unchanged; tumbler's
own tables are read and written by :mod:`tumbler.lockfile.tables` alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.version import Version

from tumbler.lockfile.tables import TumblerLockTool, TumblerPackageTool, lock_tool, package_tool

if TYPE_CHECKING:
    from pathlib import Path

    from packaging.pylock import Package, Pylock

__all__ = ["LOCK_VERSION", "Lock"]

#: The ``lock-version`` tumbler writes.
LOCK_VERSION = Version("1.0")


@dataclass(frozen=True, slots=True, kw_only=True)
class Lock:
    """A loaded, valid lock file: the standard's model plus where it came from."""

    pylock: Pylock
    #: What the user named (path, ``-``, ``REV:path``).
    origin: str
    path: Path | None = None

    @property
    def tumbler(self) -> TumblerLockTool | None:
        """tumbler's ``[tool.tumbler]`` table, when there is one."""
        return lock_tool(self.pylock)

    @staticmethod
    def package_tumbler(package: Package) -> TumblerPackageTool | None:
        """tumbler's ``[packages.tool.tumbler]`` table of ``package``, when there is one."""
        return package_tool(package)
