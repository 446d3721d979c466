"""The API surface record (``surface.md``): per distribution and public import package, the
digest of the canonical surface text and the capability tokens.

Pure: a wheel's member names and the bytes of the members it needs go in
(:func:`wanted_members`, :func:`wheel_surfaces`), values come out. The rows of the lock
table (``[packages.tool.tumbler] surface = [{import, sha256, capabilities}]``) are made by
:func:`surface_table`; :mod:`tumbler.lockfile.tables` reads and writes the table itself.
"""

from __future__ import annotations

import gc
import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tumbler.errors import InputError
from tumbler.surface.pyapi import Skip, Symbol, is_test_module, read_surface

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence


__all__ = [
    "ImportSurface",
    "NameChanges",
    "WheelSources",
    "analyse",
    "from_json",
    "import_names",
    "name_changes",
    "ready",
    "stub_target",
    "surface_table",
    "to_json",
    "wanted_members",
    "wheel_surfaces",
]

_SOURCE = (".pyi", ".py")
_COMPILED = re.compile(r"\.(?:[\w-]+\.)?(?:so|pyd)$")
_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")


@dataclass(frozen=True, slots=True)
class ImportSurface:
    """The surface of one public import package of one distribution."""

    distribution: str
    import_name: str
    symbols: tuple[Symbol, ...]
    capabilities: tuple[str, ...]
    skipped: tuple[Skip, ...]
    #: Where it was read from: ``"stubs"``, ``"stubs from types-requests"``,
    #: ``"annotated sources (py.typed)"``, ``"sources without py.typed"``, or a mix.
    source: str

    @property
    def key(self) -> str:
        """``beautifulsoup4:bs4``."""
        return f"{self.distribution}:{self.import_name}"

    @property
    def text(self) -> str:
        """The canonical surface text: one line per public symbol, sorted."""
        return "".join(symbol.line + "\n" for symbol in self.symbols)

    @property
    def sha256(self) -> str | None:
        """The digest of :attr:`text`; None for an empty surface."""
        if not self.symbols:
            return None
        return hashlib.sha256(self.text.encode()).hexdigest()


# --- which members -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Member:
    path: str
    module: str
    kind: str  # "pyi", "py", "compiled"
    package: bool


def stub_target(top: str) -> str | None:
    """``requests-stubs`` → ``requests``: the import package a stub-only directory stubs."""
    return top[: -len("-stubs")] if top.endswith("-stubs") else None


def _installed_path(name: str) -> str | None:
    """Where a wheel member lands relative to site-packages, or None (metadata, scripts)."""
    first, _, rest = name.partition("/")
    if first.endswith(".dist-info"):
        return None
    if first.endswith(".data"):
        kind, _, inner = rest.partition("/")
        return inner if kind in {"purelib", "platlib"} and inner else None
    return name


def _members(names: Iterable[str]) -> list[_Member]:
    """The wheel's Python modules, as import paths; directories below the top that are not
    regular packages (no ``__init__``: data, vendored stub trees) are left out."""
    paths = {p for n in names if (p := _installed_path(n)) is not None}
    packages = {
        p.rsplit("/", 1)[0]
        for p in paths
        if p.rsplit("/", 1)[-1] in {"__init__.py", "__init__.pyi"}
    }
    out = []
    for path in sorted(paths):
        directory, _, filename = path.rpartition("/")
        if filename.endswith(_SOURCE):
            stem, kind = filename.rsplit(".", 1)
        elif _COMPILED.search(filename):
            stem, kind = filename.split(".", 1)[0], "compiled"
        else:
            continue
        parts = directory.split("/") if directory else []
        if parts and (target := stub_target(parts[0])) is not None:
            parts[0] = target
        if any(not _IDENTIFIER.match(p) for p in parts) or not _IDENTIFIER.match(stem):
            continue
        segments = path.split("/")[:-1]
        if any("/".join(segments[: i + 1]) not in packages for i in range(1, len(segments))):
            continue
        package = stem == "__init__"
        module = ".".join(parts if package else [*parts, stem])
        if module:
            out.append(_Member(path, module, kind, package))
    return out


def _chosen(members: Iterable[_Member]) -> dict[str, _Member]:
    """Module → the member to read: ``.pyi`` before ``.py`` before a compiled module."""
    order = {"pyi": 0, "py": 1, "compiled": 2}
    best: dict[str, _Member] = {}
    for member in members:
        if is_test_module(member.module):
            continue
        current = best.get(member.module)
        if current is None or order[member.kind] < order[current.kind]:
            best[member.module] = member
    return best


def wanted_members(names: Iterable[str]) -> list[str]:
    """The members of a wheel whose bytes the surface needs (``py.typed`` markers too)."""
    names = list(names)
    chosen = [m.path for m in _chosen(_members(names)).values() if m.kind != "compiled"]
    markers = [n for n in names if n.endswith("/py.typed") and n.count("/") == 1]
    original = {_installed_path(n): n for n in names}
    return sorted({original[p] for p in chosen if p in original} | set(markers))


# --- surfaces ------------------------------------------------------------------------------


def _tops(members: Iterable[_Member]) -> list[str]:
    return sorted({m.module.split(".")[0] for m in members})


def import_names(names: Iterable[str]) -> list[str]:
    """The top-level import names a wheel with these members provides (``X-stubs`` → X)."""
    return _tops(_members(names))


def wheel_surfaces(
    distribution: str,
    names: Iterable[str],
    data: Mapping[str, bytes],
    *,
    stubs: Mapping[str, tuple[str, Mapping[str, bytes], Iterable[str]]] | None = None,
) -> tuple[ImportSurface, ...]:
    """The surfaces of every public import package in one wheel.

    ``names`` are all member names, ``data`` the bytes of :func:`wanted_members`. ``stubs``
    maps an import name to a locked stub-only distribution's ``(name, data, names)``: its
    ``.pyi`` files stand in for modules this wheel ships without one. Private import
    packages (``_pytest``) have no entry, but public ones may re-export from them.
    """
    names = list(names)
    members = _members(names)
    chosen = _chosen(members)
    original = {_installed_path(n): n for n in names}
    typed = {n.split("/", 1)[0] for n in names if n.endswith("/py.typed") and n.count("/") == 1}
    sources: dict[str, tuple[bytes, bool, bool]] = {}
    origin: dict[str, str] = {}
    skipped: dict[str, list[Skip]] = {}
    stub_modules: dict[str, tuple[str, bytes, bool]] = {}
    for top, (stub_name, stub_data, stub_names) in (stubs or {}).items():
        for member in _chosen(_members(stub_names)).values():
            raw = stub_data.get(member.path)
            if member.kind == "pyi" and raw is not None and member.module.split(".")[0] == top:
                stub_modules[member.module] = (stub_name, raw, member.package)
    for module, member in chosen.items():
        top = module.split(".")[0]
        if member.kind != "pyi" and module in stub_modules:
            stub_name, raw, package = stub_modules[module]
            sources[module] = (raw, True, package)
            origin[module] = f"stubs from {stub_name}"
        elif member.kind == "compiled":
            skipped.setdefault(top, []).append(
                Skip(module, "compiled module with no .pyi stub or .py source")
            )
        else:
            raw = data.get(original.get(member.path, member.path))
            if raw is None:
                raise InputError(f"{distribution}: {member.path} was not read from the wheel")
            sources[module] = (raw, member.kind == "pyi", member.package)
            top_dir = member.path.split("/", 1)[0]
            origin[module] = (
                "stubs"
                if member.kind == "pyi"
                else "annotated sources (py.typed)"
                if top_dir in typed
                else "sources without py.typed"
            )
    for root in sorted({_test_root(m.module) for m in members if is_test_module(m.module)}):
        skipped.setdefault(root.split(".")[0], []).append(Skip(root, "test suite, not API"))
    out = []
    for top in _tops(members):
        if top.startswith("_"):
            continue
        surface = read_surface(top, sources)
        kinds = sorted({origin[m] for m in sources if m == top or m.startswith(top + ".")})
        out.append(
            ImportSurface(
                distribution=distribution,
                import_name=top,
                symbols=surface.symbols,
                capabilities=surface.capabilities,
                skipped=tuple(sorted({*surface.skipped, *skipped.get(top, [])})),
                source=" and ".join(kinds) or "nothing readable",
            )
        )
    return tuple(out)


def _test_root(module: str) -> str:
    parts = module.split(".")
    index = next(i for i, p in enumerate(parts) if i and p in {"tests", "test"})
    return ".".join(parts[: index + 1])


@dataclass(frozen=True, slots=True)
class WheelSources:
    """One wheel to read, as plain values (what a worker process is sent): its member
    names, the wanted members' bytes, and per stubbed import name the stub-only
    distribution's ``(name, data, names)``."""

    distribution: str
    names: Sequence[str]
    data: Mapping[str, bytes]
    stubs: Mapping[str, tuple[str, Mapping[str, bytes], Sequence[str]]]


def analyse(wheel: WheelSources) -> tuple[bytes, list[dict[str, Any]]]:
    """:func:`wheel_surfaces` in the cache's form and as the lock's entries (run in a
    worker process when there are many wheels: the digests are made there too, and the
    caller need not read the cache form back to write a lock).

    The cyclic garbage collector is paused meanwhile: syntax trees hold no cycles, and
    its passes over a large wheel's many live nodes cost a fifth of the time."""
    paused = gc.isenabled()
    gc.disable()
    try:
        surfaces = wheel_surfaces(wheel.distribution, wheel.names, wheel.data, stubs=wheel.stubs)
    finally:
        if paused:
            gc.enable()
    return to_json(surfaces), surface_table(surfaces)


def ready() -> None:
    """Nothing: a fresh worker process that runs it has loaded this module (and
    :mod:`tumbler.surface.pyapi`), so the first wheel does not wait for that."""


# --- cache form ----------------------------------------------------------------------------


def to_json(surfaces: Iterable[ImportSurface]) -> bytes:
    """Surfaces as JSON (the cache keeps them by wheel hash)."""
    return json.dumps(
        [
            {
                "distribution": s.distribution,
                "import": s.import_name,
                "symbols": [[y.name, y.kind, y.signature] for y in s.symbols],
                "capabilities": list(s.capabilities),
                "skipped": [[k.item, k.reason] for k in s.skipped],
                "source": s.source,
            }
            for s in surfaces
        ],
        separators=(",", ":"),
    ).encode()


def from_json(data: bytes) -> tuple[ImportSurface, ...]:
    """The inverse of :func:`to_json`."""
    return tuple(
        ImportSurface(
            distribution=item["distribution"],
            import_name=item["import"],
            symbols=tuple(Symbol(*s) for s in item["symbols"]),
            capabilities=tuple(item["capabilities"]),
            skipped=tuple(Skip(*k) for k in item["skipped"]),
            source=item["source"],
        )
        for item in json.loads(data)
    )


# --- in the lock ---------------------------------------------------------------------------


def surface_table(surfaces: Iterable[ImportSurface]) -> list[dict[str, Any]]:
    """The ``surface`` array of ``[packages.tool.tumbler]`` (empty keys left out)."""
    out = []
    for surface in sorted(surfaces, key=lambda s: s.import_name):
        entry: dict[str, Any] = {"import": surface.import_name}
        if surface.sha256 is not None:
            entry["sha256"] = surface.sha256
        if surface.capabilities:
            entry["capabilities"] = list(surface.capabilities)
        out.append(entry)
    return out


# --- name-level changes --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NameChanges:
    """Public names added, removed and changed between two surfaces of one entry."""

    key: str
    added: tuple[Symbol, ...]
    removed: tuple[Symbol, ...]
    #: ``(old, new)`` lines of names present on both sides with another kind or signature.
    changed: tuple[tuple[tuple[Symbol, ...], tuple[Symbol, ...]], ...]

    @property
    def empty(self) -> bool:
        """Whether nothing public changed."""
        return not (self.added or self.removed or self.changed)


def name_changes(key: str, old: Iterable[Symbol], new: Iterable[Symbol]) -> NameChanges:
    """Compare two surfaces name by name."""
    a: dict[str, set[Symbol]] = {}
    b: dict[str, set[Symbol]] = {}
    for symbol in old:
        a.setdefault(symbol.name, set()).add(symbol)
    for symbol in new:
        b.setdefault(symbol.name, set()).add(symbol)
    added = tuple(s for n in sorted(b.keys() - a.keys()) for s in sorted(b[n]))
    removed = tuple(s for n in sorted(a.keys() - b.keys()) for s in sorted(a[n]))
    changed = tuple(
        (tuple(sorted(a[n])), tuple(sorted(b[n])))
        for n in sorted(a.keys() & b.keys())
        if a[n] != b[n]
    )
    return NameChanges(key, added, removed, changed)
