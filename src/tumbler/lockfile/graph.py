"""The requirement graph a lock records, read from the lock alone (pure).

Roots are what the project asks for, as tumbler records it (``[tool.tumbler.inputs]``:
its dependencies, each extra's, each group's); for a lock another tool made, the
entries nothing else depends on. Edges are each entry's ``dependencies`` (R23: a name,
and a version where several entries share the name). :func:`why` gives, per root that
reaches a package, the shortest chain from that root to it; :func:`tree` the graph from
every root, each entry expanded once.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from tumbler.lockfile.render import marker_text
from tumbler.lockfile.tables import recorded_inputs, requirement_name

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from packaging.pylock import Package, Pylock

__all__ = ["Branch", "Chain", "Entry", "Root", "tree", "why"]


@dataclass(frozen=True, slots=True)
class Entry:
    """One package entry of the lock."""

    index: int
    name: str
    version: str | None
    marker: str | None

    def __str__(self) -> str:
        text = self.name + (f" {self.version}" if self.version else "")
        return text + (f" ; {self.marker}" if self.marker else "")


@dataclass(frozen=True, slots=True)
class Root:
    """A requirement the project asks for and where (``[project.dependencies]``,
    ``extra 'viz'``, ``group 'dev'``; ``the lock`` for an entry nothing depends on)."""

    origin: str
    requirement: str


@dataclass(frozen=True, slots=True)
class Chain:
    """How a root reaches a package: the entries from the root's to the package's."""

    root: Root
    entries: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class Branch:
    """A node of :func:`tree`: an entry and what it depends on (``repeated``: shown
    already, not expanded again)."""

    entry: Entry
    children: tuple[Branch, ...] = ()
    repeated: bool = False


def _entries(pylock: Pylock) -> list[Entry]:
    return [
        Entry(
            i,
            str(p.name),
            None if p.version is None else str(p.version),
            None if p.marker is None else marker_text(p.marker),
        )
        for i, p in enumerate(pylock.packages)
    ]


def _edges(packages: Sequence[Package]) -> dict[int, list[int]]:
    """Entry → the entries its ``dependencies`` name (R23)."""
    by_name: dict[str, list[int]] = {}
    for i, package in enumerate(packages):
        by_name.setdefault(canonicalize_name(package.name), []).append(i)
    edges: dict[int, list[int]] = {}
    for i, package in enumerate(packages):
        targets: list[int] = []
        for dependency in package.dependencies or ():
            name = canonicalize_name(str(dependency.get("name", "")))
            version = dependency.get("version")
            targets += [
                j
                for j in by_name.get(name, ())
                if version is None or str(packages[j].version) == str(version)
            ]
        edges[i] = sorted(set(targets))
    return edges


def _roots(
    pylock: Pylock, entries: Sequence[Entry], edges: Mapping[int, list[int]]
) -> list[tuple[Root, list[int]]]:
    """Each root and the entries it starts from."""
    inputs = recorded_inputs(pylock)
    if inputs is None:
        needed = {j for targets in edges.values() for j in targets}
        return [(Root("the lock", e.name), [e.index]) for e in entries if e.index not in needed]
    tables: list[tuple[str, Sequence[str]]] = [("[project.dependencies]", inputs.dependencies)]
    tables += [(f"extra {k!r}", v) for k, v in sorted(inputs.extras.items())]
    tables += [(f"group {k!r}", v) for k, v in sorted(inputs.groups.items())]
    out = []
    for origin, texts in tables:
        for text in texts:
            project = requirement_name(text)
            starts = [e.index for e in entries if canonicalize_name(e.name) == project]
            out.append((Root(origin, text), starts))
    return out


def why(pylock: Pylock, name: str) -> list[Chain]:
    """Per root and per entry of ``name`` it reaches (one per environment where the
    entries fork), the shortest chain (roots in recorded order; the empty list when
    nothing asks for it)."""
    wanted = canonicalize_name(name)
    entries = _entries(pylock)
    edges = _edges(pylock.packages)
    chains = []
    for root, starts in _roots(pylock, entries, edges):
        parent: dict[int, int | None] = dict.fromkeys(starts)
        queue = deque(starts)
        found = []
        while queue:
            at = queue.popleft()
            if canonicalize_name(entries[at].name) == wanted:
                found.append(at)
                continue  # the package itself: what it needs is not why it is here
            for nxt in edges.get(at, ()):
                if nxt not in parent:
                    parent[nxt] = at
                    queue.append(nxt)
        for end in sorted(found):
            path = [end]
            while (step := parent[path[-1]]) is not None:
                path.append(step)
            chains.append(Chain(root, tuple(entries[i] for i in reversed(path))))
    return chains


def tree(pylock: Pylock) -> list[tuple[Root, list[Branch]]]:
    """Every root with the entries it names, each expanded into what it depends on;
    an entry shown once in full, later as ``repeated``."""
    entries = _entries(pylock)
    edges = _edges(pylock.packages)
    shown: set[int] = set()

    def branch(index: int, path: frozenset[int]) -> Branch:
        if index in shown or index in path:
            return Branch(entries[index], repeated=True)
        shown.add(index)
        children = tuple(branch(j, path | {index}) for j in edges.get(index, ()))
        return Branch(entries[index], children)

    out = []
    for root, starts in _roots(pylock, entries, edges):
        out.append((root, [branch(i, frozenset()) for i in starts]))
    return out
