"""``requirements.txt`` with hashes: a lock for installers that do not read ``pylock.toml``,
and the way in from pip-compile, ``uv pip compile`` and ``pip freeze``.

Import (:data:`READER`): every ``name==version`` line with its ``--hash`` values and marker
becomes an entry whose files are the release's files with those hashes (their names, URLs,
sizes and upload times from the index the file names: ``--index-url``,
``--extra-index-url``, else the default). Nothing is resolved; a line that is not a pin,
a hash no file of the release has, an option or a source the reader does not take is an
error naming the line. A line without hashes is refused unless ``allow_unhashed`` (then
every file of the release is taken, as the index lists it).

Export: one pinned line per entry the chosen extras and groups select, with every file's
hash, installable with ``pip install --require-hashes --no-deps -r``. A lock's markers
are kept for what an installer can evaluate (platform, Python); the parts naming
``extras`` and ``dependency_groups`` — which pip cannot evaluate in a requirements file —
are decided here for the chosen extras and groups (:func:`settle_marker`). The indexes
the lock's packages come from are named at the top (``--index-url``, then
``--extra-index-url``). Sources pip cannot check by hash (git, directories) are written
as direct references with a comment saying so.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from packaging.markers import Marker
from packaging.utils import canonicalize_name
from packaging.version import Version

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator, Mapping, Sequence
    from pathlib import Path

    from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock

    from tumbler.formats.base import ExportOptions, FileLookup, Imported, ReadOptions
    from tumbler.index.pages import IndexFile

__all__ = ["EXPORTER", "READER", "RequirementsReader", "settle_marker"]

#: The marker variables a lock file uses for its install-time choices (PEP 751), and the
#: legacy ``extra`` of Requires-Dist.
_CHOICES = ("extras", "dependency_groups", "extra")


def _name(node: Any) -> str:
    return type(node).__name__


def _atom(atom: tuple[Any, Any, Any], chosen: Mapping[str, frozenset[str]]) -> bool | str:
    """One comparison: decided when it names a choice, else its text."""
    left, op, right = atom
    variable = left if _name(left) == "Variable" else right if _name(right) == "Variable" else None
    if variable is None or variable.value not in _CHOICES:
        return f"{left.serialize()} {op.serialize()} {right.serialize()}"
    value = canonicalize_name(str((right if variable is left else left).value))
    names = chosen["extras" if variable.value == "extra" else variable.value]
    if op.value in ("in", "=="):
        return value in names
    if op.value in ("not in", "!="):
        return value not in names
    return f"{left.serialize()} {op.serialize()} {right.serialize()}"


def _settle(markers: list[Any], chosen: Mapping[str, frozenset[str]]) -> bool | str:
    """``markers`` (packaging's parsed form: ``and`` binds within groups that ``or``
    separates) with the choices decided: True, False, or the rest as text."""
    groups: list[list[bool | str]] = [[]]
    for item in markers:
        if isinstance(item, list):
            settled = _settle(item, chosen)
            groups[-1].append(f"({settled})" if isinstance(settled, str) else settled)
        elif isinstance(item, tuple):
            groups[-1].append(_atom(item, chosen))
        elif item == "or":
            groups.append([])
    rest: list[str] = []
    for group in groups:
        if any(part is False for part in group):
            continue
        texts = [part for part in group if isinstance(part, str)]
        if not texts:
            return True  # a group that holds whatever the environment
        rest.append(" and ".join(texts))
    if not rest:
        return False
    if len(rest) == 1:
        return rest[0]
    return " or ".join(f"({r})" if " and " in r else r for r in rest)


def settle_marker(
    marker: Marker | None, extras: Collection[str], groups: Collection[str]
) -> bool | str:
    """``marker`` with its ``extras`` / ``dependency_groups`` parts decided for these
    choices: True (no marker left), False (not selected), or the environment part."""
    if marker is None:
        return True
    chosen = {
        "extras": frozenset(canonicalize_name(e) for e in extras),
        "dependency_groups": frozenset(canonicalize_name(g) for g in groups),
    }
    settled = _settle(marker._markers, chosen)  # packaging's parsed form
    return str(Marker(settled)) if isinstance(settled, str) else settled


def _hashes(package: Package) -> list[str]:
    files: list[PackageWheel | PackageSdist] = [
        *(package.wheels or ()),
        *([package.sdist] if package.sdist else []),
    ]
    found = {f"{k}:{v}" for f in files for k, v in f.hashes.items() if k == "sha256"}
    return sorted(found)


def _line(package: Package, marker: str | None) -> list[str]:
    """The requirement lines of one entry."""
    suffix = f" ; {marker}" if marker else ""
    name = str(package.name)
    if package.vcs is not None:
        vcs = package.vcs
        url = f"{vcs.type}+{vcs.url or vcs.path}@{vcs.commit_id}"
        sub = f"#subdirectory={vcs.subdirectory}" if vcs.subdirectory else ""
        return [f"# {name}: a git source, not checkable by hash", f"{name} @ {url}{sub}{suffix}"]
    if package.directory is not None:
        editable = "-e " if package.directory.editable else ""
        return [
            f"# {name}: a source tree, not checkable by hash",
            f"{editable}{package.directory.path}{suffix}",
        ]
    if package.archive is not None:
        archive = package.archive
        hashes = [f"{k}:{v}" for k, v in sorted(archive.hashes.items()) if k == "sha256"]
        head = f"{name} @ {archive.url or archive.path}{suffix}"
        return [head + "".join(f" \\\n    --hash={h}" for h in hashes)]
    head = f"{name}=={package.version}{suffix}"
    return [head + "".join(f" \\\n    --hash={h}" for h in _hashes(package))]


class _Exporter:
    name = "requirements.txt"

    def export(self, pylock: Pylock, options: ExportOptions) -> str:
        if options.groups is None:
            groups = tuple(str(g) for g in pylock.default_groups or ())
        else:
            groups = tuple(options.groups)
        chosen: list[tuple[Package, str | None]] = []
        for package in pylock.packages:
            settled = settle_marker(package.marker, options.extras, groups)
            if settled is not False:
                chosen.append((package, None if settled is True else settled))
        indexes = Counter(str(p.index).rstrip("/") for p, _ in chosen if p.index)
        lines = [
            "# Exported by tumbler from a PEP 751 lock: install with",
            "#   pip install --require-hashes --no-deps -r <this file>",
            f"# extras: {', '.join(options.extras) or '(none)'}; "
            f"groups: {', '.join(groups) or '(none)'}",
        ]
        ranked = [url for url, _ in sorted(indexes.items(), key=lambda i: (-i[1], i[0]))]
        if ranked:
            lines.append(f"--index-url {ranked[0]}/")
            lines += [f"--extra-index-url {url}/" for url in ranked[1:]]
        for package, marker in chosen:
            lines += _line(package, marker)
        return "\n".join(lines) + "\n"


EXPORTER = _Exporter()


def _logical(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, line) with continuations joined and comments cut."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        line = raw if not raw.lstrip().startswith("#") else ""
        if " #" in line:
            line = line[: line.index(" #")]
        if line.rstrip().endswith("\\"):
            pending.append(line.rstrip()[:-1])
            continue
        pending.append(line)
        joined = " ".join(part.strip() for part in pending).strip()
        pending = []
        if joined:
            yield start, joined


def _split_options(line: str) -> tuple[str, list[str]]:
    """The requirement text and its ``--hash`` values."""
    parts = line.split(" --hash")
    hashes = [p.lstrip("=").strip() for p in parts[1:]]
    return parts[0].strip(), hashes


class RequirementsReader:
    """A hashed requirements file into a lock (see the module)."""

    name = "requirements.txt"

    def detect(self, path: Path, data: bytes) -> bool:
        return path.name.startswith("requirements") or (
            path.suffix == ".txt" and b"--hash=" in data[:65536]
        )

    def read(self, path: Path, data: bytes, files: FileLookup, options: ReadOptions) -> Imported:
        from packaging.pylock import Pylock as Lock

        from tumbler.errors import InputError
        from tumbler.formats.base import Imported

        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InputError(f"{path}: not UTF-8 text ({error})") from None
        indexes: list[str] = []
        pins: list[tuple[int, str, list[str]]] = []
        for number, line in _logical(text):
            where = f"{path}:{number}"
            if line.startswith(("--index-url", "-i ", "--extra-index-url")):
                option, _, value = line.replace("=", " ", 1).partition(" ")
                if not value.strip():
                    raise InputError(f"{where}: {option} needs a URL")
                url = value.strip()
                if option == "--extra-index-url":
                    indexes.append(url)
                else:
                    indexes.insert(0, url)
                continue
            if line.startswith("-"):
                option = line.split()[0]
                raise InputError(f"{where}: {option} is not imported (pins with --hash are)")
            requirement, hashes = _split_options(line)
            pins.append((number, requirement, hashes))
        if not indexes:
            from tumbler.formats.foreign import fallback_index

            indexes = [fallback_index(options)]
        unhashed = options.allow_unhashed
        packages = [self._package(path, n, r, h, indexes, files, unhashed) for n, r, h in pins]
        packages.sort(key=lambda p: (p.name, str(p.marker or "")))
        return Imported(Lock(lock_version=Version("1.0"), created_by="tumbler", packages=packages))

    def _package(  # noqa: PLR0917
        self,
        path: Path,
        number: int,
        text: str,
        hashes: list[str],
        indexes: Sequence[str],
        files: FileLookup,
        allow_unhashed: bool,
    ) -> Package:
        from packaging.pylock import Package as Entry
        from packaging.pylock import PackageSdist, PackageWheel
        from packaging.requirements import InvalidRequirement, Requirement
        from packaging.utils import canonicalize_name as normal

        from tumbler.errors import InputError

        where = f"{path}:{number}"
        try:
            requirement = Requirement(text)
        except InvalidRequirement as error:
            first = str(error).splitlines()[0]
            raise InputError(f"{where}: not a requirement ({first})") from None
        if requirement.url:
            raise InputError(
                f"{where}: a direct reference ({requirement.name} @ ...) is not imported"
            )
        pinned = [s for s in requirement.specifier if s.operator in ("==", "===")]
        if len(pinned) != 1 or "*" in pinned[0].version:
            raise InputError(f"{where}: {text!r} is not pinned to one version (name==version)")
        version = pinned[0].version
        try:
            exact = Version(version)
        except ValueError:  # InvalidVersion, and digits beyond Python's int conversion
            raise InputError(f"{where}: {version[:40]!r} is not a version") from None
        if not hashes and not allow_unhashed:
            raise InputError(
                f"{where}: {requirement.name}=={version} has no --hash (R34: a locked file has "
                "a hash; pass --allow-unhashed to take the index's)"
            )
        wanted = {h.partition(":")[2] for h in hashes if h.startswith("sha256:")}
        if hashes and not wanted:
            raise InputError(f"{where}: only sha256 hashes are imported")
        listed = files(str(requirement.name), version, indexes)
        chosen: list[IndexFile] = [
            f for f in listed if not wanted or f.hashes.get("sha256") in wanted
        ]
        missing = wanted - {f.hashes.get("sha256") for f in chosen}
        if missing or not chosen:
            shown = ", ".join(sorted(missing)) or "any file"
            raise InputError(
                f"{where}: {requirement.name}=={version}: no file with sha256 {shown} on "
                f"{', '.join(indexes)}"
            )

        def fields(file: IndexFile) -> dict[str, Any]:
            return {
                "name": file.filename,
                "url": file.url,
                "size": file.size,
                "upload_time": file.upload_time,
                "hashes": {"sha256": file.hashes["sha256"]},
            }

        wheels = [PackageWheel(**fields(f)) for f in chosen if f.is_wheel]
        sdists = [f for f in chosen if not f.is_wheel]
        return Entry(
            name=normal(requirement.name),
            version=exact,
            marker=requirement.marker,
            index=chosen[0].index,
            wheels=sorted(wheels, key=lambda w: str(w.name)) or None,
            sdist=PackageSdist(**fields(sdists[0])) if sdists else None,
        )


READER = RequirementsReader()
