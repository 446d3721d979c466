"""``tumbler surface`` and ``diff --surface``: one package's surfaces (from a wheel file, a
lock or the index) and the public names each upgraded package added, removed, changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.utils import parse_wheel_filename

from tumbler.errors import InputError
from tumbler.lockfile.artifacts import digest_file
from tumbler.surface.fetch import (
    WheelRef,
    choose_wheel,
    is_pure,
    is_stub_only,
    read_surfaces,
    wheel_ref,
)
from tumbler.surface.members import ImportSurface, NameChanges, name_changes

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from packaging.pylock import Package, Pylock

    from tumbler.net.cache import Cache
    from tumbler.net.http import Http
    from tumbler.project.indexes import IndexConfig

__all__ = [
    "PackageSurface",
    "Upgrade",
    "surface_of_locked",
    "surface_of_release",
    "surface_of_wheel",
    "surface_upgrades",
]


@dataclass(frozen=True, slots=True)
class PackageSurface:
    """One distribution's surfaces, as ``tumbler surface`` shows them."""

    name: str
    version: str | None
    wheel: str | None
    surfaces: tuple[ImportSurface, ...]
    #: Why there is no surface at all (no wheel), else None.
    missing: str | None = None


def surface_of_wheel(path: Path, http: Http, cache: Cache | None) -> PackageSurface:
    """The surfaces of a wheel file on disk."""
    from packaging.utils import InvalidWheelFilename

    try:
        name, version, _, _ = parse_wheel_filename(path.name)
    except InvalidWheelFilename as error:
        raise InputError(f"{path}: {error}") from None
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with path.open("rb") as handle:
        _, digests = digest_file(handle, ["sha256"])
    ref = WheelRef(str(name), path.name, path=path, sha256=digests["sha256"])
    return PackageSurface(
        str(name), str(version), path.name, read_surfaces([ref], http, cache)[ref]
    )


def surface_of_locked(
    pylock: Pylock, name: str, http: Http, cache: Cache | None, lock_dir: Path | None
) -> PackageSurface:
    """The surfaces of ``name`` as locked in ``pylock`` (the wheel ``lock --surface`` reads)."""
    from packaging.tags import sys_tags
    from packaging.utils import canonicalize_name

    wanted = canonicalize_name(name)
    packages = [p for p in pylock.packages if p.name == wanted]
    if not packages:
        raise InputError(f"{name}: not in the lock")
    package = packages[0]
    version = None if package.version is None else str(package.version)
    wheel = choose_wheel(package, [list(sys_tags())])
    if wheel is None:
        return PackageSurface(str(package.name), version, None, (), "the lock has no wheel for it")
    ref = wheel_ref(package, wheel, lock_dir)
    stubs = _stub_refs(pylock, lock_dir, exclude=package.name)
    found = read_surfaces([ref], http, cache, stub_refs=stubs)
    return PackageSurface(str(package.name), version, ref.filename, found[ref])


def _stub_refs(pylock: Pylock, lock_dir: Path | None, exclude: str = "") -> list[WheelRef]:
    out = []
    for package in pylock.packages:
        if is_stub_only(package.name) and package.name != exclude:
            wheel = choose_wheel(package, [])
            if wheel is not None:
                out.append(wheel_ref(package, wheel, lock_dir))
    return out


def surface_of_release(
    requirement: str,
    http: Http,
    cache: Cache | None,
    indexes: IndexConfig,
    *,
    exclude_newer: datetime | None = None,
) -> PackageSurface:
    """The surfaces of the newest release matching ``requirement`` (``httpx``,
    ``httpx==0.27.2``) on the indexes: its pure-Python wheel, else the host's best."""
    from packaging.requirements import InvalidRequirement, Requirement

    from tumbler.env.targets import parse_target
    from tumbler.index.finder import Finder

    try:
        parsed = Requirement(requirement)
    except InvalidRequirement as error:
        reason = str(error).splitlines()[0]
        raise InputError(
            f"{requirement!r} is not a package name or requirement: {reason}"
        ) from None
    finder = Finder(
        http, indexes, parse_target("host"), exclude_newer=exclude_newer, speculate=False
    )
    project = finder.project(parsed.name)
    if not project.found:
        raise InputError(f"{parsed.name}: not found on the index")
    pinned = any(s.operator in {"==", "==="} for s in parsed.specifier)
    for release in project.iter_releases():
        if not parsed.specifier.contains(release.version, prereleases=pinned or None):
            continue
        wheels = [f for f in release.files if f.is_wheel]
        pure = [f for f in wheels if is_pure(f.filename)]
        if not wheels:
            return PackageSurface(
                str(release.name), str(release.version), None, (), "no wheel for this platform"
            )
        best = (pure or wheels)[0]
        ref = WheelRef(
            str(release.name), best.filename, url=best.url, sha256=best.hashes.get("sha256")
        )
        return PackageSurface(
            str(release.name),
            str(release.version),
            best.filename,
            read_surfaces([ref], http, cache)[ref],
        )
    raise InputError(f"{requirement}: no release on the index matches")


@dataclass(frozen=True, slots=True)
class Upgrade:
    """One package whose surface is compared name by name (``diff --surface``)."""

    name: str
    old_version: str | None
    new_version: str | None
    changes: tuple[NameChanges, ...]
    #: Why it could not be compared, else None.
    missing: str | None = None


def surface_upgrades(
    old: Pylock,
    new: Pylock,
    http: Http,
    cache: Cache | None,
    *,
    old_dir: Path | None = None,
    new_dir: Path | None = None,
) -> tuple[Upgrade, ...]:
    """For each package whose version or surface changed, the public names added, removed
    and changed, read from both locks' wheels (cached by hash)."""
    from packaging.tags import sys_tags

    from tumbler.lockfile.diff import ChangeKind, diff_locks

    diff = diff_locks(old, new)
    names = {
        c.name
        for c in diff.packages
        if c.kind in {ChangeKind.UPGRADED, ChangeKind.DOWNGRADED, ChangeKind.CHANGED}
    } | {c.key.split(":", 1)[0] for c in diff.surfaces if c.kind is ChangeKind.CHANGED}
    tags = [list(sys_tags())]
    pairs: list[tuple[str, Package, Package]] = []
    for name in sorted(names):
        a = next((p for p in old.packages if p.name == name), None)
        b = next((p for p in new.packages if p.name == name), None)
        if a is not None and b is not None:
            pairs.append((name, a, b))
    refs: dict[tuple[str, int], WheelRef | None] = {}
    for name, a, b in pairs:
        wa, wb = choose_wheel(a, tags), choose_wheel(b, tags)
        refs[name, 0] = None if wa is None else wheel_ref(a, wa, old_dir)
        refs[name, 1] = None if wb is None else wheel_ref(b, wb, new_dir)
    wanted = [r for r in refs.values() if r is not None]
    stubs = _stub_refs(old, old_dir) + _stub_refs(new, new_dir)
    found = read_surfaces(list(dict.fromkeys(wanted)), http, cache, stub_refs=stubs)
    out = []
    for name, a, b in pairs:
        ra, rb = refs[name, 0], refs[name, 1]
        versions = (
            None if a.version is None else str(a.version),
            None if b.version is None else str(b.version),
        )
        if ra is None or rb is None:
            out.append(Upgrade(name, *versions, (), "no wheel locked on one side"))
            continue
        sa = {s.key: s for s in found[ra]}
        sb = {s.key: s for s in found[rb]}
        changes = tuple(
            name_changes(
                key,
                sa[key].symbols if key in sa else (),
                sb[key].symbols if key in sb else (),
            )
            for key in sorted(sa.keys() | sb.keys())
        )
        out.append(Upgrade(name, *versions, tuple(c for c in changes if not c.empty)))
    return tuple(out)
