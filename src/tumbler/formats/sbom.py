"""What the bill-of-materials exporters (``cyclonedx``, ``spdx``, ``github``) share, pure:
which entries of a lock an export covers, each with its package URL, the entries it depends
on, whether the project asks for it directly and whether only a dependency group brings it;
and the serial number and time a document carries.

What an export covers. With no ``--extra`` and no ``--group`` it is *the whole lock*: every
entry, as an auditor expects of a bill of materials (requirements.txt, which is installed,
takes the lock's default groups instead). With a choice, it is the entries the choice
selects: the chosen extras, and the chosen groups (the lock's ``default-groups`` when only
extras are chosen), decided as :func:`~tumbler.formats.requirements.settle_marker` decides
them; environment markers are kept (an entry for some platforms only is still covered).

Edges are each entry's ``dependencies`` (PEP 751: the keys given, here ``name`` and
``version``, identify the entries meant; a name with no version names every entry of it)
between covered entries. *Direct*: named by a requirement the lock records as the project's
input (``[tool.tumbler.inputs]``: its dependencies, and the covered extras' and groups'),
or ``[packages.tool.tumbler] direct``; for another tool's lock, an entry no other covered
entry depends on. *Development*: covered only because of a dependency group (its marker,
with the groups left out, excludes it).

Reproducible values (:func:`stamp`): a UUID5 of the lock's content (in tumbler's canonical
layout), the format and the choice, so a changed lock or choice gives another serial; the
time is the newest ``upload-time`` the lock records, else the Unix epoch. Otherwise a
fresh UUID4 and the current time.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

from tumbler.formats.requirements import settle_marker
from tumbler.lockfile.render import marker_text
from tumbler.lockfile.tables import package_tool, recorded_inputs, requirement_name

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from packaging.markers import Marker
    from packaging.pylock import Package, Pylock

    from tumbler.formats.base import ExportOptions

__all__ = [
    "EPOCH",
    "Entry",
    "LockedFile",
    "Selection",
    "files_of",
    "primary_file",
    "purl_of",
    "select",
    "stamp",
]

#: The time of a reproducible document when the lock records no upload time.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: The marker variables that name a lock's install-time choices (PEP 751, and the legacy
#: ``extra`` of Requires-Dist).
_EXTRA_VARIABLES = ("extras", "extra")
_GROUP_VARIABLE = "dependency_groups"


@dataclass(frozen=True, slots=True, kw_only=True)
class LockedFile:
    """One file a lock entry records: an sdist, a wheel or an archive."""

    kind: str
    name: str | None
    url: str | None
    sha256: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One covered lock entry, as the exporters describe it."""

    #: Its position in the lock's ``packages``.
    index: int
    package: Package
    #: ``pkg:pypi/<name>@<version>`` (with ``vcs_url`` / ``download_url`` for direct sources).
    purl: str
    #: An identifier unique within the export: the purl, suffixed when two entries share it.
    ref: str
    #: The lock's marker, as the lock writes it.
    marker: str | None
    #: The extras and dependency groups the marker names.
    extras: tuple[str, ...]
    groups: tuple[str, ...]
    direct: bool
    development: bool
    #: What it depends on: positions in :attr:`Selection.entries`.
    dependencies: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    """The entries one export covers, and the choice that covers them."""

    entries: tuple[Entry, ...]
    #: True: no extra or group was chosen, so the whole lock is covered.
    whole: bool
    #: The extras and groups chosen (for the whole lock: every one it offers).
    extras: tuple[str, ...]
    groups: tuple[str, ...]

    @property
    def roots(self) -> tuple[Entry, ...]:
        """The direct entries; if none is, those nothing depends on; else every entry."""
        direct = tuple(e for e in self.entries if e.direct)
        if direct:
            return direct
        needed = {j for e in self.entries for j in e.dependencies}
        tops = tuple(e for i, e in enumerate(self.entries) if i not in needed)
        return tops or self.entries

    def describe(self) -> str:
        """One line saying what is covered."""
        if self.whole:
            return "the whole lock (every entry, for every extra and dependency group)"
        return (
            f"the lock's selection for extras: {', '.join(self.extras) or '(none)'}; "
            f"groups: {', '.join(self.groups) or '(none)'}"
        )


def files_of(package: Package) -> tuple[LockedFile, ...]:
    """Every file ``package`` records: its sdist, its wheels (lock order), its archive."""
    out = []
    if package.sdist is not None:
        sdist = package.sdist
        out.append(LockedFile(kind="sdist", name=sdist.filename, url=sdist.url, sha256=_sha(sdist)))
    for wheel in package.wheels or ():
        out.append(LockedFile(kind="wheel", name=wheel.filename, url=wheel.url, sha256=_sha(wheel)))
    if package.archive is not None:
        archive = package.archive
        name = (archive.url or archive.path or "").rstrip("/").rsplit("/", 1)[-1] or None
        out.append(LockedFile(kind="archive", name=name, url=archive.url, sha256=_sha(archive)))
    return tuple(out)


def _sha(table: Any) -> str | None:
    value = table.hashes.get("sha256")
    return None if value is None else str(value)


def primary_file(package: Package) -> LockedFile | None:
    """The file that stands for ``package`` where a format takes one: its sdist, else its
    first wheel, else its archive."""
    files = files_of(package)
    return files[0] if files else None


def purl_of(package: Package) -> str:
    """``package``'s package URL (``pkg:pypi/name@version``)."""
    from packageurl import PackageURL

    qualifiers: dict[str, str] = {}
    if package.vcs is not None and package.vcs.url:
        vcs = package.vcs
        qualifiers["vcs_url"] = f"{vcs.type}+{vcs.url}@{vcs.commit_id}"
    elif package.archive is not None and package.archive.url:
        qualifiers["download_url"] = package.archive.url
    version = None if package.version is None else str(package.version)
    purl = PackageURL(type="pypi", name=str(package.name), version=version, qualifiers=qualifiers)
    return str(purl.to_string())


def _named_choices(marker: Marker | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The extras and the dependency groups ``marker`` names."""
    extras: set[str] = set()
    groups: set[str] = set()

    def walk(items: Iterable[Any]) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
            elif isinstance(item, tuple):
                left, _, right = item
                swap = type(left).__name__ != "Variable"
                variable, value = (right, left) if swap else (left, right)
                if type(variable).__name__ != "Variable":
                    continue
                if variable.value in _EXTRA_VARIABLES:
                    extras.add(canonicalize_name(str(value.value)))
                elif variable.value == _GROUP_VARIABLE:
                    groups.add(canonicalize_name(str(value.value)))

    if marker is not None:
        walk(marker._markers)  # packaging's parsed form, as settle_marker reads it
    return tuple(sorted(extras)), tuple(sorted(groups))


def _choice(
    pylock: Pylock, options: ExportOptions
) -> tuple[bool, tuple[str, ...], tuple[str, ...]]:
    """(whole lock?, extras, groups) of an export."""
    if not options.extras and options.groups is None:
        extras = tuple(str(e) for e in pylock.extras or ())
        return True, extras, tuple(str(g) for g in pylock.dependency_groups or ())
    groups = pylock.default_groups or () if options.groups is None else options.groups
    return False, tuple(options.extras), tuple(str(g) for g in groups)


def _edges(covered: Sequence[Package]) -> list[tuple[int, ...]]:
    """Per covered entry, the covered entries its ``dependencies`` name."""
    by_name: dict[str, list[int]] = {}
    for i, package in enumerate(covered):
        by_name.setdefault(canonicalize_name(package.name), []).append(i)
    edges = []
    for package in covered:
        targets: set[int] = set()
        for dependency in package.dependencies or ():
            name = canonicalize_name(str(dependency.get("name", "")))
            version = dependency.get("version")
            targets.update(
                j
                for j in by_name.get(name, ())
                if version is None or str(covered[j].version) == str(version)
            )
        edges.append(tuple(sorted(targets)))
    return edges


def _asked_for(pylock: Pylock, extras: Sequence[str], groups: Sequence[str]) -> set[str] | None:
    """The names the project's recorded inputs ask for under this choice (None: the lock
    records no inputs)."""
    inputs = recorded_inputs(pylock)
    if inputs is None:
        return None
    texts = list(inputs.dependencies)
    for tables, chosen in ((inputs.extras, extras), (inputs.groups, groups)):
        wanted = {canonicalize_name(c) for c in chosen}
        texts += [t for k, v in tables.items() if canonicalize_name(k) in wanted for t in v]
    return {requirement_name(t) for t in texts}


def _refs(purls: Sequence[str]) -> list[str]:
    """The purls, made unique: a second entry with the same purl gets ``#2``, ..."""
    seen: dict[str, int] = {}
    out = []
    for purl in purls:
        seen[purl] = seen.get(purl, 0) + 1
        out.append(purl if seen[purl] == 1 else f"{purl}#{seen[purl]}")
    return out


def select(pylock: Pylock, options: ExportOptions) -> Selection:
    """The entries an export of ``pylock`` covers under ``options`` (see the module)."""
    whole, extras, groups = _choice(pylock, options)
    covered = [
        (i, p)
        for i, p in enumerate(pylock.packages)
        if whole or settle_marker(p.marker, extras, groups) is not False
    ]
    packages = [p for _, p in covered]
    edges = _edges(packages)
    needed = {j for targets in edges for j in targets}
    asked = _asked_for(pylock, extras, groups)
    purls = [purl_of(p) for p in packages]
    entries = []
    for k, ((index, package), ref) in enumerate(zip(covered, _refs(purls), strict=True)):
        direct = k not in needed if asked is None else canonicalize_name(package.name) in asked
        tool = package_tool(package)
        if tool is not None and tool.direct is not None:
            direct = tool.direct
        named_extras, named_groups = _named_choices(package.marker)
        entries.append(
            Entry(
                index=index,
                package=package,
                purl=purls[k],
                ref=ref,
                marker=None if package.marker is None else marker_text(package.marker),
                extras=named_extras,
                groups=named_groups,
                direct=direct,
                development=settle_marker(package.marker, extras, ()) is False
                and settle_marker(package.marker, extras, groups) is not False,
                dependencies=edges[k],
            )
        )
    return Selection(entries=tuple(entries), whole=whole, extras=extras, groups=groups)


def _content(pylock: Pylock) -> str:
    """The lock in tumbler's canonical layout: the same lock, the same text."""
    from tumbler.lockfile.render import render

    return render(pylock)


def _newest_upload(pylock: Pylock) -> datetime | None:
    """The newest ``upload-time`` of any file the lock records."""
    times: list[datetime] = []
    for package in pylock.packages:
        for table in (*(package.wheels or ()), package.sdist, package.archive):
            if table is not None and table.upload_time is not None:
                times.append(table.upload_time)
    return max(times, default=None)


def stamp(pylock: Pylock, options: ExportOptions, fmt: str) -> tuple[uuid.UUID, datetime]:
    """The serial number and time of a ``fmt`` document of ``pylock`` (see the module)."""
    if not options.reproducible:
        return uuid.uuid4(), datetime.now(UTC).replace(microsecond=0)
    choice = json.dumps(
        [
            fmt,
            list(options.extras),
            None if options.groups is None else list(options.groups),
            options.project_name,
            options.project_version,
        ]
    )
    digest = hashlib.sha256(f"{choice}\n{_content(pylock)}".encode()).hexdigest()
    serial = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:tumbler:export:{digest}")
    newest = _newest_upload(pylock)
    when = EPOCH if newest is None else newest.astimezone(UTC).replace(microsecond=0)
    return serial, when
