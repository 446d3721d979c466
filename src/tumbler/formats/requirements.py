"""``requirements.txt`` with hashes: a lock for installers that do not read ``pylock.toml``.

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

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock

    from tumbler.formats.base import ExportOptions

__all__ = ["EXPORTER", "settle_marker"]

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
