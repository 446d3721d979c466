"""What a lock is asked for (:class:`LockRequest`), and how the lock records it.

Kept apart from the locker so that the gate (``lock --check``) reads a request and compares
its recorded inputs without importing the resolver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tumbler.env.targets import mode_name
from tumbler.index.binaries import Binaries
from tumbler.lockfile.tables import LockInputs
from tumbler.net.urls import redact
from tumbler.project.cooldown import Cooldown

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import date, datetime
    from pathlib import Path

    from packaging.markers import Marker
    from packaging.specifiers import SpecifierSet
    from packaging.utils import NormalizedName
    from packaging.version import Version

    from tumbler.env.targets import Target
    from tumbler.project.indexes import IndexConfig
    from tumbler.project.pyproject import Project

__all__ = ["LockRequest", "lock_inputs"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LockRequest:
    """Everything :func:`lock` needs besides the network."""

    project: Project
    target: Target
    indexes: IndexConfig
    lock_dir: Path
    cache_dir: Path
    exclude_newer: datetime | None = None
    #: The cut-off as asked (a span is recorded as such) and the names it spares.
    cooldown: Cooldown = field(default_factory=Cooldown)
    prereleases: str = "if-necessary"
    #: Versions an existing lock pins: kept unless they must change.
    preferences: Mapping[NormalizedName, Version] | None = None
    #: Release every preference (``--upgrade``) or these (``--upgrade-package``).
    upgrade: bool = False
    upgrade_packages: frozenset[NormalizedName] = frozenset()
    #: Upper bounds an update keeps to (``update --patch-only``): applied like
    #: constraints, never recorded as inputs.
    bounds: Mapping[NormalizedName, SpecifierSet] = field(default_factory=dict)
    #: A universal lock's targets (see :mod:`tumbler.resolver.universal`); empty for one target.
    universe: tuple[Target, ...] = ()
    #: The ``environments`` markers a universal lock was asked for: every target they
    #: select must lock. None (``--universal`` alone): a target of the default grid that
    #: cannot lock is left out, with a note, and ``environments`` state what is covered.
    environments: tuple[Marker, ...] = ()
    #: The day a universal lock's Python versions count as released on (its grid is made
    #: again with patch-release splits found while resolving).
    today: date | None = None
    #: Which packages may use wheels and which sdists (``--no-binary``, ``--only-binary``).
    binaries: Binaries = field(default_factory=Binaries)
    #: Record each package's API surface (``--surface``, ``surface.md``).
    surface: bool = False
    #: Record each package's PEP 740 publisher identities (``--attestations``).
    attestations: bool = False


def lock_inputs(request: LockRequest) -> LockInputs:
    """What ``request`` locks from, as ``[tool.tumbler]`` records it (for the gate too)."""
    import os

    from tumbler.lockfile.tables import SURFACE_VERSION

    path = request.project.path
    try:
        relative = os.path.relpath(path.resolve(), request.lock_dir.resolve()).replace(os.sep, "/")
    except ValueError:
        relative = path.as_posix()
    return LockInputs.of(
        request.project,
        relative_path=relative,
        indexes=[redact(u) for u in request.indexes.declared],
        target="universal" if request.universe else mode_name(request.target),
        environments=[str(m) for m in request.environments],
        exclude_newer=request.exclude_newer,
        min_release_age=request.cooldown.text() if request.cooldown.span else None,
        min_release_age_exempt=request.cooldown.exempt,
        prereleases=request.prereleases,
        surface_version=SURFACE_VERSION if request.surface else None,
        attestations=request.attestations,
        no_binary=sorted(request.binaries.no_binary),
        only_binary=sorted(request.binaries.only_binary),
    )
