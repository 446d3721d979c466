"""Diff stage: two locks → a typed, sorted set of changes (no I/O, no formatting).

Packages are paired by name and marker, so same-name entries under different markers
diff independently; when one entry of a name is left on each side, they pair as one
entry whose marker changed. A pair whose version differs is upgraded or downgraded;
otherwise it is changed, with every differing field named. The same file name with a
different hash or size is flagged ``loud``: the file behind a pinned name changed.

API surface entries (``[packages.tool.tumbler] surface``, ``surface.md``) compare by their
``<distribution>:<import>`` key, like packages: added, removed, or changed with the fields
that differ (``surface-sha256``, ``capabilities``, in that order). Digests made under
different ``surface-version`` rules are not compared.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from packaging.utils import parse_wheel_filename

from tumbler.lockfile.render import datetime_text, marker_text
from tumbler.lockfile.tables import entries_of, lock_tool, requirement_name, without_surface

if TYPE_CHECKING:
    from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock

    from tumbler.lockfile.tables import SurfaceEntry

__all__ = [
    "SURFACE_FIELDS",
    "ChangeKind",
    "FieldChange",
    "LockDiff",
    "PackageChange",
    "SurfaceChange",
    "diff_locks",
    "surface_changes",
]

#: A surface entry's fields, in the order changes name them.
SURFACE_FIELDS = ("surface-sha256", "capabilities")


class ChangeKind(enum.Enum):
    """What happened to one package entry."""

    ADDED = "added"
    REMOVED = "removed"
    UPGRADED = "upgraded"
    DOWNGRADED = "downgraded"
    CHANGED = "changed"


@dataclass(frozen=True, slots=True, order=True)
class FieldChange:
    """One field whose value differs. ``old``/``new`` are ``None`` when absent on that side."""

    field: str
    old: str | None
    new: str | None
    #: Security-relevant: the same file name now has another hash or size, or the
    #: publisher identities changed.
    loud: bool = False


@dataclass(frozen=True, slots=True, order=True)
class PackageChange:
    """One package entry that differs between the two locks."""

    name: str
    marker: str | None
    kind: ChangeKind
    old_version: str | None
    new_version: str | None
    fields: tuple[FieldChange, ...] = ()

    @property
    def loud(self) -> bool:
        """Whether any field change is security-relevant."""
        return any(f.loud for f in self.fields)


@dataclass(frozen=True, slots=True, order=True)
class SurfaceChange:
    """One API surface entry (``httpx:httpx``) added, removed or changed."""

    key: str
    kind: ChangeKind
    #: The fields that differ, from :data:`SURFACE_FIELDS` (empty when added or removed).
    fields: tuple[str, ...] = ()
    old: SurfaceEntry | None = None
    new: SurfaceEntry | None = None


@dataclass(frozen=True, slots=True)
class LockDiff:
    """All differences between two locks."""

    lock: tuple[FieldChange, ...]
    packages: tuple[PackageChange, ...]
    surfaces: tuple[SurfaceChange, ...] = ()

    @property
    def equal(self) -> bool:
        """Whether the two locks mean the same."""
        return not self.lock and not self.packages and not self.surfaces

    def of_kind(self, kind: ChangeKind) -> tuple[PackageChange, ...]:
        """The package changes of one kind, in name order."""
        return tuple(c for c in self.packages if c.kind is kind)


def _text(value: object) -> str | None:
    """A value as a reviewer reads it: TOML's ``true``/``false``, tables as ``key=value``
    pairs, lists as their items (never JSON)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return datetime_text(value)
    if isinstance(value, Mapping):
        return _table_text(value)
    if isinstance(value, list | tuple):
        return ", ".join(str(_text(v)) for v in value)
    return str(value)


def _marker(package: Package) -> str | None:
    return None if package.marker is None else marker_text(package.marker)


def _scalar(field: str, old: object, new: object, *, loud: bool = False) -> list[FieldChange]:
    a, b = _text(old), _text(new)
    return [] if a == b else [FieldChange(field, a, b, loud)]


def _items(
    field: str,
    old: Iterable[str] | None,
    new: Iterable[str] | None,
    *,
    key: Callable[[str], str] = str,
    loud: bool = False,
) -> list[FieldChange]:
    """A list-valued field item by item: one change per item removed (``old`` only),
    added (``new`` only) or replaced (an item of each side with the same ``key``: the
    same requirement's name, ``rich`` → ``rich>=14``), in key order. A list that appears
    or goes away empty is one change (``[]``)."""
    a, b = set(old or ()), set(new or ())
    if a == b:
        if (old is None) == (new is None):
            return []
        return [FieldChange(field, None if old is None else "[]", None if new is None else "[]")]
    gone: dict[str, list[str]] = defaultdict(list)
    came: dict[str, list[str]] = defaultdict(list)
    for item in a - b:
        gone[key(item)].append(item)
    for item in b - a:
        came[key(item)].append(item)
    out: list[FieldChange] = []
    for name in sorted(gone.keys() | came.keys()):
        removed, added = sorted(gone.get(name, ())), sorted(came.get(name, ()))
        if len(removed) == 1 and len(added) == 1:
            out.append(FieldChange(field, removed[0], added[0], loud))
            continue
        out += [FieldChange(field, item, None, loud) for item in removed]
        out += [FieldChange(field, None, item, loud) for item in added]
    return out


def _requirement_key(text: str) -> str:
    """What pairs two items of a requirement list: the project's name."""
    return requirement_name(text)


def _source_kind(package: Package) -> str:
    for kind in ("vcs", "directory", "archive"):
        if getattr(package, kind) is not None:
            return kind
    parts = [k for k in ("sdist", "wheels") if getattr(package, k)]
    return "+".join(parts) or "none"


def _hash_text(hashes: Mapping[str, str]) -> str:
    return ", ".join(f"{k}:{v}" for k, v in sorted(hashes.items()))


def _hashes_differ(a: Mapping[str, str], b: Mapping[str, str]) -> bool:
    common = set(a) & set(b)
    return any(a[k] != b[k] for k in common) if common else dict(a) != dict(b)


def _file(
    where: str, old: PackageWheel | PackageSdist, new: PackageWheel | PackageSdist
) -> list[FieldChange]:
    out: list[FieldChange] = []
    if _hashes_differ(old.hashes, new.hashes):
        out.append(
            FieldChange(f"{where}.hashes", _hash_text(old.hashes), _hash_text(new.hashes), True)
        )
    elif dict(old.hashes) != dict(new.hashes):
        out.append(FieldChange(f"{where}.hashes", _hash_text(old.hashes), _hash_text(new.hashes)))
    if old.size is not None and new.size is not None:
        out += _scalar(f"{where}.size", old.size, new.size, loud=True)
    else:
        out += _scalar(f"{where}.size", old.size, new.size)
    out += _scalar(f"{where}.url", old.url, new.url)
    out += _scalar(f"{where}.path", old.path, new.path)
    out += _scalar(f"{where}.upload-time", old.upload_time, new.upload_time)
    return out


def _wheels(old: Package, new: Package) -> list[FieldChange]:
    a = {w.filename: w for w in old.wheels or ()}
    b = {w.filename: w for w in new.wheels or ()}
    out = [FieldChange("wheels", name, None) for name in sorted(a.keys() - b.keys())]
    out += [FieldChange("wheels", None, name) for name in sorted(b.keys() - a.keys())]
    for name in sorted(a.keys() & b.keys()):
        out += _file(f"wheels[{name}]", a[name], b[name])
    return out


def _wheel_tags(package: Package) -> set[str]:
    tags: set[str] = set()
    for wheel in package.wheels or ():
        _, _, _, parsed = parse_wheel_filename(wheel.filename)
        tags.update(str(t) for t in parsed)
    return tags


def _sdist(old: Package, new: Package) -> list[FieldChange]:
    if old.sdist is None or new.sdist is None:
        return _scalar(
            "sdist",
            old.sdist and old.sdist.filename,
            new.sdist and new.sdist.filename,
        )
    if old.sdist.filename != new.sdist.filename:
        return _scalar("sdist", old.sdist.filename, new.sdist.filename)
    return _file("sdist", old.sdist, new.sdist)


def _direct(old: Package, new: Package) -> list[FieldChange]:
    out: list[FieldChange] = []
    for kind in ("vcs", "directory", "archive"):
        a, b = getattr(old, kind), getattr(new, kind)
        if a is None or b is None:
            continue
        for field in a.__dataclass_fields__:
            if field == "hashes":
                if _hashes_differ(a.hashes, b.hashes):
                    out.append(
                        FieldChange(
                            f"{kind}.hashes",
                            _hash_text(a.hashes),
                            _hash_text(b.hashes),
                            a.url == b.url and a.path == b.path,
                        )
                    )
                continue
            out += _scalar(
                f"{kind}.{field.replace('_', '-')}", getattr(a, field), getattr(b, field)
            )
    return out


def _table_text(table: Mapping[str, Any], lead: str | None = None) -> str:
    """A table as ``key=value`` pairs in key order, ``lead``'s value first and bare
    (``GitHub repository=pallets/click workflow=publish.yaml``)."""
    head = [] if lead is None else [str(table.get(lead, "?"))]
    rest = sorted((str(k), v) for k, v in table.items() if k != lead)
    return " ".join([*head, *(f"{k}={_text(v)}" for k, v in rest)])


def _identities(package: Package) -> set[str] | None:
    if package.attestation_identities is None:
        return None
    return {_table_text(i, "kind") for i in package.attestation_identities}


def _attestations(old: Package, new: Package) -> list[FieldChange]:
    """Publisher identities item by item; every item loud when one was lost or replaced."""
    a, b = _identities(old), _identities(new)
    if a == b:
        return []
    loud = bool(a) and bool((a or set()) - (b or set()))
    return _items("attestation-identities", a, b, key=lambda t: t.split(" ")[0], loud=loud)


def _tool(
    field: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None
) -> list[FieldChange]:
    """A tool table key by key, down to the values that changed, each by its dotted path
    (``tool.tumbler.inputs.dependencies``); lists item by item (:func:`_items`)."""
    a, b = old or {}, new or {}
    out: list[FieldChange] = []
    for key in sorted(a.keys() | b.keys(), key=str):
        x, y = a.get(key), b.get(key)
        path = f"{field}.{key}"
        if _is(x, Mapping) and _is(y, Mapping) and (x is not None or y is not None):
            out += _tool(path, x, y)
        elif _is(x, list | tuple) and _is(y, list | tuple) and (x is not None or y is not None):
            out += _items(
                path,
                None if x is None else [str(_text(v)) for v in x],
                None if y is None else [str(_text(v)) for v in y],
                key=_item_key,
            )
        else:
            out += _scalar(path, x, y)
    return out


def _is(value: object, kind: Any) -> bool:
    """Whether ``value`` is absent or of ``kind``."""
    return value is None or isinstance(value, kind)


def _item_key(text: str) -> str:
    """What pairs two items of a tool table's list: a table's ``name=``, else a
    requirement's project name."""
    if "=" in text and " " in text:
        for part in text.split(" "):
            if part.startswith("name="):
                return part
    return requirement_name(text)


def _dependencies(package: Package) -> set[str] | None:
    if package.dependencies is None:
        return None
    return {_table_text(d, "name") for d in package.dependencies}


def _fields(old: Package, new: Package, *, version_changed: bool) -> tuple[FieldChange, ...]:
    out: list[FieldChange] = []
    if not version_changed:
        out += _scalar("version", old.version, new.version)
    out += _scalar("marker", _marker(old), _marker(new))
    out += _scalar("requires-python", old.requires_python, new.requires_python)
    out += _scalar("source", _source_kind(old), _source_kind(new))
    out += _scalar("index", old.index, new.index)
    if version_changed:
        a, b = _wheel_tags(old), _wheel_tags(new)
        out += [FieldChange("wheel-tags", tag, None) for tag in sorted(a - b)]
        out += [FieldChange("wheel-tags", None, tag) for tag in sorted(b - a)]
    else:
        out += _wheels(old, new)
        out += _sdist(old, new)
        out += _direct(old, new)
    out += _items(
        "dependencies", _dependencies(old), _dependencies(new), key=lambda t: t.split(" ")[0]
    )
    out += _attestations(old, new)
    out += _tool("tool", without_surface(old.tool), without_surface(new.tool))
    return tuple(out)


def _surface_version(lock: Pylock) -> object:
    tool = lock_tool(lock)
    return None if tool is None else tool.surface_version


def _surface_entries(lock: Pylock) -> dict[str, SurfaceEntry]:
    """Key → entry; a distribution locked more than once is told apart by its marker."""

    names = [p.name for p in lock.packages]
    out: dict[str, SurfaceEntry] = {}
    for index, package in enumerate(lock.packages):
        suffix = ""
        if names.count(package.name) > 1 and package.marker is not None:
            suffix = f" ; {marker_text(package.marker)}"
        for entry in entries_of(package, f"packages[{index}]"):
            out[entry.key + suffix] = entry
    return out


def surface_changes(old: Pylock, new: Pylock) -> tuple[SurfaceChange, ...]:
    """The surface entries that differ; none when the two locks' rules differ."""
    a, b = _surface_entries(old), _surface_entries(new)
    if a and b and _surface_version(old) != _surface_version(new):
        return ()
    out = [SurfaceChange(k, ChangeKind.ADDED, new=b[k]) for k in b.keys() - a.keys()]
    out += [SurfaceChange(k, ChangeKind.REMOVED, old=a[k]) for k in a.keys() - b.keys()]
    for key in a.keys() & b.keys():
        fields = tuple(
            name
            for name, differs in zip(
                SURFACE_FIELDS,
                (a[key].sha256 != b[key].sha256, a[key].capabilities != b[key].capabilities),
                strict=True,
            )
            if differs
        )
        if fields:
            out.append(SurfaceChange(key, ChangeKind.CHANGED, fields, a[key], b[key]))
    return tuple(sorted(out, key=lambda c: c.key))


def _pair(
    old: Sequence[Package], new: Sequence[Package]
) -> Iterator[tuple[Package | None, Package | None]]:
    """Pair same-name entries: identical ones, equal markers, a lone pair, equal versions."""
    left, right = list(old), list(new)
    for package in list(left):
        same = next((p for p in right if p is package or p == package), None) or next(
            (
                p
                for p in right
                if p.version == package.version and not _fields(package, p, version_changed=False)
            ),
            None,
        )
        if same is not None:
            left.remove(package)
            right.remove(same)
    for package in list(left):
        match = next((p for p in right if _marker(p) == _marker(package)), None)
        if match is not None:
            left.remove(package)
            right.remove(match)
            yield package, match
    if len(left) == 1 and len(right) == 1:
        yield left.pop(), right.pop()
    for package in list(left):
        match = next((p for p in right if p.version == package.version), None)
        if match is not None:
            left.remove(package)
            right.remove(match)
            yield package, match
    yield from ((p, None) for p in left)
    yield from ((None, p) for p in right)


def _change(old: Package | None, new: Package | None) -> PackageChange | None:
    if old is None and new is not None:
        return PackageChange(new.name, _marker(new), ChangeKind.ADDED, None, _text(new.version))
    if new is None and old is not None:
        return PackageChange(old.name, _marker(old), ChangeKind.REMOVED, _text(old.version), None)
    assert old is not None and new is not None
    version_changed = (
        old.version is not None and new.version is not None and old.version != new.version
    )
    fields = _fields(old, new, version_changed=version_changed)
    if version_changed:
        assert old.version is not None and new.version is not None
        kind = ChangeKind.UPGRADED if new.version > old.version else ChangeKind.DOWNGRADED
    elif fields:
        kind = ChangeKind.CHANGED
    else:
        return None
    return PackageChange(
        new.name, _marker(new), kind, _text(old.version), _text(new.version), fields
    )


def _top(old: Pylock, new: Pylock) -> list[FieldChange]:
    def markers(lock: Pylock) -> list[str] | None:
        return None if lock.environments is None else [marker_text(m) for m in lock.environments]

    out = _scalar("lock-version", old.lock_version, new.lock_version)
    out += _items("environments", markers(old), markers(new))
    out += _scalar("requires-python", old.requires_python, new.requires_python)
    out += _items("extras", old.extras, new.extras)
    out += _items("dependency-groups", old.dependency_groups, new.dependency_groups)
    out += _items("default-groups", old.default_groups, new.default_groups)
    out += _scalar("created-by", old.created_by, new.created_by)
    out += _tool("tool", old.tool, new.tool)
    return out


#: What ``installs`` leaves out of a package's changes: what installers do not take
#: from a lock (the graph, tool tables, publisher identities, a package's own
#: Requires-Python), so locks written through formats that cannot carry them compare.
_NOT_INSTALLED = ("requires-python", "dependencies", "attestation", "tool")


def _installed(change: PackageChange | None) -> PackageChange | None:
    if change is None or change.kind is not ChangeKind.CHANGED:
        return change
    fields = tuple(f for f in change.fields if not f.field.startswith(_NOT_INSTALLED))
    return replace(change, fields=fields) if fields else None


def diff_locks(old: Pylock, new: Pylock, *, installs: bool = False) -> LockDiff:
    """Every difference in meaning between ``old`` and ``new``; with ``installs``, only
    those an installer acts on (which packages, versions, markers, sources, files and
    hashes: not the lock's own fields, the graph or tool tables).

    Order, layout and the spelling of equal markers or specifiers are not differences.
    """
    by_name: dict[str, tuple[list[Package], list[Package]]] = defaultdict(lambda: ([], []))
    for package in old.packages:
        by_name[package.name][0].append(package)
    for package in new.packages:
        by_name[package.name][1].append(package)
    changes: list[PackageChange] = []
    for name in sorted(by_name):
        a, b = by_name[name]
        for pair in _pair(a, b):
            change = _change(*pair)
            if installs:
                change = _installed(change)
            if change is not None:
                changes.append(change)
    if installs:
        return LockDiff(lock=(), packages=tuple(changes))
    return LockDiff(
        lock=tuple(_top(old, new)), packages=tuple(changes), surfaces=surface_changes(old, new)
    )
