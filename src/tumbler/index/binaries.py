"""Which packages may be installed from wheels and which from sdists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

__all__ = ["ALL", "Binaries"]

#: Every package, in ``--no-binary`` / ``--only-binary``.
ALL = ":all:"


@dataclass(frozen=True, slots=True)
class Binaries:
    """Which packages may use wheels and which sdists (pip's and uv's ``--no-binary`` and
    ``--only-binary``, ``:all:`` for every package; a name beats ``:all:``)."""

    no_binary: frozenset[str] = frozenset()
    only_binary: frozenset[str] = frozenset()

    def wheels(self, name: NormalizedName) -> bool:
        """Whether ``name`` may be installed from a wheel."""
        if name in self.only_binary:
            return True
        return name not in self.no_binary and ALL not in self.no_binary

    def sdists(self, name: NormalizedName) -> bool:
        """Whether ``name`` may be built from its sdist."""
        if name in self.no_binary:
            return True
        return name not in self.only_binary and ALL not in self.only_binary
