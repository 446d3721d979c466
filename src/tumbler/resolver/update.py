"""``tumbler update``: re-lock taking newer versions, and say what changed for a review.

The project's mode, cooldown and index pins are kept (it is ``tumbler lock --upgrade``,
or ``--upgrade-package`` for the named packages and what they need). ``--patch-only`` /
``--minor-only`` hold each locked package below its next minor / major release (bounds
applied like constraints, never recorded as inputs); ``--exclude`` keeps named packages
where they are.

The summary (:class:`UpdateSummary`, rendered by :mod:`tumbler.cli.views.update`) has per
package old → new, the new release's age, advisories fixed and introduced (when an
advisory source is given), API-surface and publisher-identity changes when the lock
records them, and the release's changelog links from its metadata.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from tumbler.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from datetime import datetime

    from packaging.pylock import Package, Pylock

    from tumbler.lockfile.diff import LockDiff, PackageChange
    from tumbler.resolver.workflow import LockOptions, LockOutcome

__all__ = [
    "PackageUpdate",
    "UpdateOptions",
    "UpdateSummary",
    "bounds_for",
    "run_update",
    "summarize",
]

#: How an update bounds each package: below its next minor (patch) or major (minor).
BOUNDS = ("patch", "minor")


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateOptions:
    """What ``tumbler update`` was asked."""

    lock: LockOptions
    #: Update only these packages (and what they need); none: every package.
    names: tuple[str, ...] = ()
    #: ``patch`` or ``minor``: how far a version may move; None: any newer version.
    bound: str | None = None
    #: Packages kept where they are.
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PackageUpdate:
    """One package's change, as a reviewer reads it."""

    name: str
    kind: str
    old: str | None
    new: str | None
    #: When the new version's newest file was uploaded, if the lock says.
    released: datetime | None = None
    #: Advisory ids the old version had and the new one has not / the new one brings.
    fixed: tuple[str, ...] = ()
    introduced: tuple[str, ...] = ()
    #: API surface lines (``changed httpx:httpx (surface-sha256)``) and identity changes.
    surface: tuple[str, ...] = ()
    identities: tuple[str, ...] = ()
    #: (label, URL) of the release's changelog or release notes.
    links: tuple[tuple[str, str], ...] = ()

    def age_days(self, now: datetime) -> int | None:
        """Whole days since the new version was released."""
        return None if self.released is None else max(0, (now - self.released).days)


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateSummary:
    """What an update changed (empty ``packages``: nothing to update)."""

    lock: str
    packages: tuple[PackageUpdate, ...] = ()
    #: When the summary was made (ages count to it).
    now: datetime
    #: Where advisories came from (``OSV``, a database's path and date), if asked.
    advisories: str | None = None
    notes: tuple[str, ...] = field(default=())

    #: Whether the lock file was rewritten (its own fields may change with no package).
    written: bool = False

    @property
    def updated(self) -> bool:
        return bool(self.packages) or self.written


def _next(version: Version, bound: str) -> Version:
    release = (*version.release, 0, 0)
    if bound == "patch":
        return Version(f"{release[0]}.{release[1] + 1}")
    return Version(f"{release[0] + 1}")


def bounds_for(pylock: Pylock, bound: str) -> dict[NormalizedName, SpecifierSet]:
    """Per locked name, below its next minor (``patch``) or major (``minor``) release,
    counted from the newest version the lock holds of it."""
    newest: dict[NormalizedName, Version] = {}
    for package in pylock.packages:
        if package.version is not None:
            name = canonicalize_name(package.name)
            newest[name] = max(newest.get(name, package.version), package.version)
    return {name: SpecifierSet(f"<{_next(v, bound)}") for name, v in newest.items()}


def _lock_options(options: UpdateOptions, old: Pylock) -> LockOptions:
    """The lock run an update is: an upgrade of everything, of the named packages, or of
    everything but the excluded ones, within the bounds."""
    if options.bound is not None and options.bound not in BOUNDS:
        raise UsageError(f"bound must be one of {', '.join(BOUNDS)}")
    locked = {canonicalize_name(p.name) for p in old.packages}
    names = [canonicalize_name(n) for n in options.names]
    unknown = sorted(set(names) - locked)
    if unknown:
        raise UsageError(f"not in the lock: {', '.join(unknown)} (tumbler add NAME to add one)")
    excluded = {canonicalize_name(n) for n in options.exclude}
    strays = sorted(excluded - locked)
    if strays:
        raise UsageError(f"--exclude: not in the lock: {', '.join(strays)}")
    bounds = bounds_for(old, options.bound) if options.bound else {}
    if names:
        return dataclasses.replace(
            options.lock,
            upgrade_packages=tuple(n for n in names if n not in excluded),
            bounds=bounds,
        )
    if excluded:
        kept = sorted(locked - excluded)
        return dataclasses.replace(options.lock, upgrade_packages=tuple(kept), bounds=bounds)
    return dataclasses.replace(options.lock, upgrade=True, bounds=bounds)


def run_update(options: UpdateOptions) -> tuple[Pylock, Pylock, LockOutcome]:
    """Update the lock: (the lock before, the lock after, what locking did)."""
    from tumbler.resolver.workflow import read_lock, run_lock

    old = read_lock(options.lock)
    if old is None:
        raise UsageError("no lock to update: run 'tumbler lock' first")
    outcome = run_lock(_lock_options(options, old))
    new = read_lock(options.lock) if outcome.written else old
    assert new is not None
    return old, new, outcome


def _released(package: Package | None) -> datetime | None:
    if package is None:
        return None
    times = [w.upload_time for w in package.wheels or () if w.upload_time is not None]
    if package.sdist is not None and package.sdist.upload_time is not None:
        times.append(package.sdist.upload_time)
    return max(times) if times else None


def _entry(pylock: Pylock, name: str, version: str | None) -> Package | None:
    return next(
        (p for p in pylock.packages if p.name == name and str(p.version) == (version or "None")),
        None,
    )


def _surface_lines(diff: LockDiff, name: str) -> tuple[str, ...]:
    prefix = f"{name}:"
    return tuple(
        f"{s.kind.value} {s.key}" + (f" ({','.join(s.fields)})" if s.fields else "")
        for s in diff.surfaces
        if s.key.startswith(prefix)
    )


def _identity_lines(change: PackageChange) -> tuple[str, ...]:
    return tuple(
        f"{f.old or '(none)'} → {f.new or '(none)'}"
        for f in change.fields
        if f.field.startswith("attestation")
    )


def summarize(
    lock: str,
    old: Pylock,
    new: Pylock,
    *,
    now: datetime,
    advisories: Callable[[Pylock], Mapping[tuple[str, str], Sequence[str]]] | None = None,
    advisory_source: str | None = None,
    links: Callable[[Package], tuple[tuple[str, str], ...]] | None = None,
) -> UpdateSummary:
    """The review summary of ``old`` → ``new`` (``advisories``: (name, version) → ids
    of a lock's packages; ``links``: a package's changelog links)."""
    from tumbler.lockfile.diff import diff_locks

    diff = diff_locks(old, new)
    before = advisories(old) if advisories else {}
    after = advisories(new) if advisories else {}
    updates = []
    for change in diff.packages:
        if change.kind.value == "changed" and not _identity_lines(change):
            continue  # a file added or a marker respelled: not an update to review
        entry = _entry(new, change.name, change.new_version)
        had = set(before.get((change.name, change.old_version or ""), ()))
        has = set(after.get((change.name, change.new_version or ""), ()))
        updates.append(
            PackageUpdate(
                name=change.name,
                kind=change.kind.value,
                old=change.old_version,
                new=change.new_version,
                released=_released(entry),
                fixed=tuple(sorted(had - has)),
                introduced=tuple(sorted(has - had)),
                surface=_surface_lines(diff, change.name),
                identities=_identity_lines(change),
                links=links(entry) if links and entry is not None and change.new_version else (),
            )
        )
    written = old is not new and not diff.equal
    notes = (
        ("the lock's own fields changed (no package moved): see tumbler diff",)
        if written and not updates
        else ()
    )
    return UpdateSummary(
        lock=lock,
        packages=_unique(updates),
        now=now,
        advisories=advisory_source,
        notes=notes,
        written=written,
    )


def _unique(updates: Iterable[PackageUpdate]) -> tuple[PackageUpdate, ...]:
    """One row per (name, old, new): a universal lock's entries for several targets that
    moved alike are one change to review."""
    seen: dict[tuple[str, str | None, str | None], PackageUpdate] = {}
    for update in updates:
        seen.setdefault((update.name, update.old, update.new), update)
    return tuple(seen.values())
