"""The ``lock --check`` gate: is the committed lock what locking would produce now?

Two questions, in order. Input drift (:func:`tumbler.resolver.inputs.input_drift`): did the
project's requirements, ``requires-python``, indexes, options or target change since the
lock was made? That needs neither the network nor a resolver. Content drift: does a fresh
lock (existing pins as preferences) differ from the committed one? Each package that
differs is one line, ``changed httpx (version,wheels)``, sorted; :mod:`tumbler.cli.views.check`
renders the verdict as text, JSON or Markdown.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.pylock import Pylock

    from tumbler.lockfile.diff import LockDiff, PackageChange

__all__ = ["CheckResult", "Drift", "content_drift", "drift_of"]


@dataclass(frozen=True, slots=True)
class Drift:
    """One package (or the lock itself) that differs, and which fields."""

    kind: str
    subject: str
    fields: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject}" + (
            f" ({','.join(self.fields)})" if self.fields else ""
        )


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The gate's verdict."""

    lock: str
    inputs: tuple[str, ...]
    content: tuple[Drift, ...]
    #: Why the content could not be compared (e.g. offline with a cold cache), if so.
    skipped: str | None = None
    #: How the content was compared: ``records`` (the lock checked against the project
    #: and the index's records, no resolution) or ``re-lock`` (a fresh lock compared).
    method: str = "re-lock"
    #: Entries checked without the index's record of their release (not at hand).
    unrecorded: tuple[str, ...] = ()
    #: Why the resolver-free check sent the gate to a re-lock (its problems), if it did.
    doubts: tuple[str, ...] = ()
    #: Locked files the project's policy refuses (a cooldown's cut-off), with rule ids.
    policy: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether the lock is up to date (and keeps the project's policy)."""
        return not self.inputs and not self.content and self.skipped is None and not self.policy


def _fields(change: PackageChange) -> tuple[str, ...]:
    names: list[str] = []
    if change.old_version != change.new_version:
        names.append("version")
    for field in change.fields:
        name = "wheels" if field.field.startswith("wheel") else field.field.split(".")[0]
        if name not in names:
            names.append(name)
    return tuple(names)


def _subject(change: PackageChange) -> str:
    return change.name + (f" ; {change.marker}" if change.marker else "")


def drift_of(diff: LockDiff) -> tuple[Drift, ...]:
    """A :class:`LockDiff` as sorted one-line drifts."""
    from tumbler.lockfile.diff import ChangeKind

    out: list[Drift] = []
    lock_fields = tuple(dict.fromkeys(f.field for f in diff.lock))
    if lock_fields:
        out.append(Drift("changed", "lock", lock_fields))
    for change in diff.packages:
        if change.kind is ChangeKind.ADDED:
            out.append(Drift("added", _subject(change), (f"{change.new_version}",)))
        elif change.kind is ChangeKind.REMOVED:
            out.append(Drift("removed", _subject(change), (f"{change.old_version}",)))
        else:
            out.append(Drift("changed", _subject(change), _fields(change)))
    out.sort(key=lambda d: (d.subject != "lock", d.subject, d.kind))
    # Surface entries after the packages (surface.md): ``changed httpx:httpx
    # (surface-sha256,capabilities)``, by kind then key.
    surfaces = [Drift(c.kind.value, c.key, c.fields) for c in diff.surfaces]
    return tuple(out + sorted(surfaces, key=lambda d: (d.kind, d.subject)))


#: Where a file was found rather than what it is: another machine reaching the same files
#: through another index (a mirror, its own configuration) is not drift.
_WHERE_FOUND = ("index", ".url", ".upload-time")


def _what_installs(change: PackageChange) -> PackageChange | None:
    """``change`` without the fields that only say where its files were found; None when
    nothing else changed."""
    from tumbler.lockfile.diff import ChangeKind

    if change.kind is not ChangeKind.CHANGED:
        return change
    kept = tuple(f for f in change.fields if not f.field.endswith(_WHERE_FOUND))
    if not kept and change.old_version == change.new_version:
        return None
    return dataclasses.replace(change, fields=kept)


def content_drift(committed: Pylock, fresh: Pylock) -> tuple[Drift, ...]:
    """How ``fresh`` differs from ``committed`` in what gets installed, ignoring the
    recorded inputs and where the same files were found."""
    from tumbler.lockfile.diff import diff_locks, surface_changes

    diff = diff_locks(
        dataclasses.replace(committed, tool=None), dataclasses.replace(fresh, tool=None)
    )
    packages = tuple(c for c in map(_what_installs, diff.packages) if c is not None)
    # Surfaces compare with the locks' own tool tables: digests made under another
    # surface-version are not compared (the input drift says the version changed).
    return drift_of(
        dataclasses.replace(diff, packages=packages, surfaces=surface_changes(committed, fresh))
    )
