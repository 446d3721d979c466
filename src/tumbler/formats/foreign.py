"""What the readers of other tools' locks share: when a package is needed, and its files.

**When.** Most lock formats say when a package is needed only along the edges of their
graph (uv: ``{ name = "tzdata", marker = "sys_platform == 'win32'" }`` under pandas);
PEP 751 says it per package. A :data:`Condition` is a marker in disjunctive normal form
(a set of terms, each a set of comparisons that all hold), so the conditions met along
every path to a package can be joined (:func:`both`), gathered (:func:`either`) and
pruned (a term that holds whenever a shorter one does adds nothing; a term that asks one
variable for two values never holds) until every package's condition stops growing
(:func:`reach`). Extras and groups become the standard's ``'x' in extras`` and
``'dev' in dependency_groups`` comparisons (:func:`choice`).

**Files.** A format that names a file only by hash (poetry, pdm, Pipfile) gets its name,
URL, size and upload time from the index (:func:`complete`), matched by sha256; a hash no
file of the release has is an error naming the place; with nothing to ask (``--offline``
and no cache) the file cannot be written, and that is the error.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packaging.markers import InvalidMarker, Marker
from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock
from packaging.utils import canonicalize_name
from packaging.version import Version

from tumbler.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Hashable, Iterable, Mapping, Sequence
    from datetime import datetime

    from tumbler.formats.base import FileLookup, ReadOptions
    from tumbler.index.pages import IndexFile

__all__ = [
    "FALSE",
    "TRUE",
    "Condition",
    "FileRef",
    "assemble",
    "both",
    "choice",
    "complete",
    "condition",
    "either",
    "expect_array",
    "expect_table",
    "expect_text",
    "fallback_index",
    "load_toml",
    "marker_of",
    "reach",
]

#: One comparison: (left, operator, right), each as packaging serialises it.
Atom = tuple[str, str, str]
#: A marker in disjunctive normal form: it holds when every atom of some term holds.
Condition = frozenset[frozenset[Atom]]

TRUE: Condition = frozenset({frozenset()})
FALSE: Condition = frozenset()

#: A condition with more terms than this is not pruned further (it stays exact, only long).
_MANY = 256
#: More terms than this where conditions join is more than any real lock needs (each term
#: is a line of the package's marker): refused, where expanding on would take minutes and
#: gigabytes (a chain of ``a != 'x' or b != 'y'`` edges doubles at every step).
_LIMIT = 2048


def _bounded(held: Condition) -> Condition:
    if len(held) > _LIMIT:
        raise InputError(
            f"a package's marker grows past {_LIMIT} alternatives where the lock's conditions "
            "join along its graph; tumbler cannot write it as one PEP 751 marker"
        )
    return held


def _atoms(markers: list[Any]) -> Condition:
    """packaging's parsed form (``and`` binds within the groups ``or`` separates)."""
    groups: list[Condition] = [TRUE]
    for item in markers:
        if isinstance(item, list):
            groups[-1] = both(groups[-1], _atoms(item))
        elif isinstance(item, tuple):
            left, op, right = item
            atom = (left.serialize(), op.serialize(), right.serialize())
            groups[-1] = both(groups[-1], frozenset({frozenset({atom})}))
        elif item == "or":
            groups.append(TRUE)
    result = FALSE
    for group in groups:
        result = either(result, group)
    return result


def condition(marker: Marker | str | None, where: str = "") -> Condition:
    """``marker`` as a condition (no marker: always)."""
    if marker is None or marker == "":
        return TRUE
    if isinstance(marker, str):
        try:
            marker = Marker(marker)
        except InvalidMarker as error:
            raise InputError(f"{where}: not a marker ({str(error).splitlines()[0]})") from None
    return _atoms(marker._markers)  # packaging's parsed form


def choice(kind: str, name: str) -> Condition:
    """``'name' in extras`` (``kind="extras"``) or ``in dependency_groups``."""
    atom = (f'"{canonicalize_name(name)}"', "in", kind)
    return frozenset({frozenset({atom})})


def _contradicts(term: frozenset[Atom]) -> bool:
    """Whether ``term`` asks one variable for two values (``== a`` and ``== b``, or
    ``== a`` and ``!= a``), so it never holds."""
    equal: dict[str, str] = {}
    unequal: set[tuple[str, str]] = set()
    for left, op, right in term:
        if op == "==":
            if equal.setdefault(left, right) != right:
                return True
        elif op == "!=":
            unequal.add((left, right))
    return any((left, right) in unequal for left, right in equal.items())


def _implied_dropped(term: frozenset[Atom]) -> frozenset[Atom]:
    """``term`` without the ``!= b`` a ``== a`` of the same variable already implies."""
    equal = {left for left, op, _ in term if op == "=="}
    if not equal:
        return term
    return frozenset(a for a in term if not (a[1] == "!=" and a[0] in equal))


#: An atom's opposite, by operator (``a < b`` fails exactly where ``a >= b`` holds).
_NEGATION = {
    "<": ">=",
    ">=": "<",
    ">": "<=",
    "<=": ">",
    "==": "!=",
    "!=": "==",
    "in": "not in",
    "not in": "in",
}
#: Variables whose values compare as versions, so bounds on them can be tightened.
_PYTHON = frozenset({"python_version", "python_full_version"})


def _bound(atom: Atom) -> tuple[str, str, Version] | None:
    """(variable, operator, version) of a range comparison on a Python version."""
    left, op, right = atom
    if left not in _PYTHON or op not in ("<", "<=", ">", ">="):
        return None
    try:
        return left, op, Version(right.strip("\"'"))
    except ValueError:  # InvalidVersion, or more digits than int() takes
        return None


def _tightened(term: frozenset[Atom]) -> frozenset[Atom] | None:
    """``term`` with only the strongest lower and upper bound per Python variable
    (``>= 3.11 and >= 3.12`` is ``>= 3.12``); None when the bounds leave nothing
    (``< 3.11 and >= 3.12``)."""
    lower: dict[str, tuple[tuple[Version, int], Atom]] = {}
    upper: dict[str, tuple[tuple[Version, int], Atom]] = {}
    rest: set[Atom] = set()
    for atom in term:
        bound = _bound(atom)
        if bound is None:
            rest.add(atom)
            continue
        variable, op, version = bound
        if op in (">", ">="):
            key = (version, 1 if op == ">" else 0)
            if variable not in lower or key > lower[variable][0]:
                lower[variable] = (key, atom)
        else:
            key = (version, 0 if op == "<" else 1)
            if variable not in upper or key < upper[variable][0]:
                upper[variable] = (key, atom)
    for variable, ((low, strict_low), _) in lower.items():
        if variable in upper:
            (high, inclusive_high), _ = upper[variable]
            if low > high or (low == high and (strict_low or not inclusive_high)):
                return None
    return frozenset(rest | {a for _, a in lower.values()} | {a for _, a in upper.values()})


def _absorbed(terms: Iterable[frozenset[Atom]]) -> list[frozenset[Atom]]:
    """Without the terms a shorter one covers (``a or (a and b)`` is ``a``)."""
    result: list[frozenset[Atom]] = []
    for term in sorted(set(terms), key=len):
        if not any(shorter <= term for shorter in result):
            result.append(term)
    return result


def _merge_opposites(terms: list[frozenset[Atom]]) -> list[frozenset[Atom]]:
    """``(t and a) or (t and not a)`` as ``t``, until no two terms merge."""
    kept = set(terms)
    merged = True
    while merged:
        merged = False
        for term in sorted(kept, key=lambda t: (len(t), sorted(t))):
            for atom in sorted(term):
                op = _NEGATION.get(atom[1])
                if op is None:
                    continue
                rest = term - {atom}
                partner = rest | {(atom[0], op, atom[2])}
                if partner in kept:
                    kept -= {term, partner}
                    kept.add(rest)
                    merged = True
                    break
            if merged:
                break
        if merged:
            kept = set(_absorbed(kept))
    return list(kept)


def _pruned(terms: Iterable[frozenset[Atom]]) -> Condition:
    kept = []
    for term in terms:
        if _contradicts(term):
            continue
        tightened = _tightened(_implied_dropped(term))
        if tightened is not None:
            kept.append(tightened)
    if len(set(kept)) > _MANY:
        return frozenset(kept)
    return frozenset(_merge_opposites(_absorbed(kept)))


def both(left: Condition, right: Condition) -> Condition:
    """Both hold."""
    if left == TRUE:
        return right
    if right == TRUE:
        return left
    if len(left) * len(right) > _LIMIT * 8:
        raise InputError(
            f"a package's marker grows past {_LIMIT} alternatives where the lock's conditions "
            "join along its graph; tumbler cannot write it as one PEP 751 marker"
        )
    return _bounded(_pruned(a | b for a in left for b in right))


def either(left: Condition, right: Condition) -> Condition:
    """One of them holds."""
    if not left:
        return right
    if not right:
        return left
    return _bounded(_pruned(left | right))


def _term_text(term: frozenset[Atom]) -> str:
    return " and ".join(" ".join(atom) for atom in sorted(term))


def marker_of(held: Condition) -> Marker | None:
    """The marker saying ``held`` (None when it always holds; never asked for one that
    never holds: :func:`reach` leaves such nodes out)."""
    assert held, "a condition that never holds has no marker"
    if held >= TRUE:
        return None
    terms = sorted((_term_text(t), len(t)) for t in held)
    if len(terms) == 1:
        return Marker(terms[0][0])
    return Marker(" or ".join(f"({text})" if size > 1 else text for text, size in terms))


def reach(
    roots: Iterable[tuple[Hashable, Condition]],
    edges: Mapping[Hashable, Sequence[tuple[Hashable, Condition]]],
) -> dict[Hashable, Condition]:
    """When each node is needed: a root under its condition, a child whenever a parent
    is and the edge's condition holds; iterated until no condition grows (cycles end
    because a term already covered adds nothing)."""
    held: dict[Hashable, Condition] = defaultdict(lambda: FALSE)
    queue: deque[Hashable] = deque()
    for node, when in roots:
        grown = either(held[node], when)
        if grown != held[node]:
            held[node] = grown
            queue.append(node)
    while queue:
        node = queue.popleft()
        for child, when in edges.get(node, ()):
            grown = either(held[child], both(held[node], when))
            if grown != held[child]:
                held[child] = grown
                if child not in queue:
                    queue.append(child)
    return {node: when for node, when in held.items() if when}


@dataclass(frozen=True, slots=True, kw_only=True)
class FileRef:
    """One file as a foreign lock names it: a sha256 always, the rest when it says."""

    sha256: str
    name: str | None = None
    url: str | None = None
    size: int | None = None
    upload_time: datetime | None = None


def _by_name(ref: FileRef) -> str | None:
    if ref.name:
        return ref.name
    if ref.url:
        from packaging.pylock import _url_name  # the standard's own rule for a file's name

        return _url_name(ref.url)
    return None


def complete(  # noqa: PLR0917
    where: str,
    name: str,
    version: str,
    refs: Sequence[FileRef],
    indexes: Sequence[str],
    files: FileLookup,
) -> tuple[list[PackageWheel], PackageSdist | None, str | None]:
    """The wheels, the sdist and the index of one release: each ref as the lock gives it,
    what it lacks (name, URL, size, upload time) from the index's file with its hash."""
    listed: dict[str, IndexFile] = {}
    index: str | None = None
    if any(r.url is None or r.size is None or r.upload_time is None for r in refs) and indexes:
        for file in files(name, version, indexes):
            digest = file.hashes.get("sha256")
            if digest:
                listed[digest] = file
                index = index or file.index
    wheels: list[PackageWheel] = []
    sdist: PackageSdist | None = None
    for ref in refs:
        known = listed.get(ref.sha256)
        url = ref.url or (known.url if known else None)
        filename = _by_name(ref) or (known.filename if known else None)
        if url is None or filename is None:
            shown = f" ({ref.name})" if ref.name else ""
            raise InputError(
                f"{where}: {name} {version}: no file with sha256 {ref.sha256}{shown} on "
                f"{', '.join(indexes) or 'any index'} (its URL is needed: R30)"
            )
        fields: dict[str, Any] = {
            "name": filename,
            "url": url,
            "size": ref.size if ref.size is not None else (known.size if known else None),
            "upload_time": ref.upload_time or (known.upload_time if known else None),
            "hashes": {"sha256": ref.sha256},
        }
        if filename.endswith(".whl"):
            wheels.append(PackageWheel(**fields))
        elif sdist is None:
            sdist = PackageSdist(**fields)
    wheels.sort(key=lambda w: str(w.name))
    return wheels, sdist, index


def load_toml(place: str, data: bytes) -> dict[str, Any]:
    """``data`` (the file at ``place``) as TOML: what no real lock has (nesting, numbers or
    strings beyond :mod:`tumbler.project.toml`'s bounds) refused first, then ``rtoml``
    (Rust, several times faster) parses; when it refuses, ``tomllib`` parses again for
    its precise message: ``place:line: not TOML (why)``, the last line for a cut-off
    file."""
    import re
    import tomllib

    import rtoml

    from tumbler.project.toml import check_bounds

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(f"{place}: not UTF-8 text ({error})") from None
    check_bounds(data, place)
    try:
        return dict(rtoml.loads(text))
    except (rtoml.TomlParsingError, ValueError):
        pass
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        reason = str(error)
        found = re.search(r"\(at line (\d+), column \d+\)|\(at end of document\)", reason)
        if found is None:
            raise InputError(f"{place}: not TOML ({reason})") from None
        line = found.group(1) or str(max(1, len(text.splitlines())))
        raise InputError(f"{place}:{line}: not TOML ({reason[: found.start()].strip()})") from None


def expect_table(where: str, value: Any, kind: str = "table") -> dict[str, Any]:
    """``value`` when it is a table (a JSON ``object``); else an error naming ``where``."""
    if not isinstance(value, dict):
        raise InputError(f"{where}: expected {'an' if kind[0] in 'aeio' else 'a'} {kind}, "
                         f"got {type(value).__name__}")  # fmt: skip
    return value


def expect_array(where: str, value: Any) -> list[Any]:
    """``value`` when it is an array; else an error naming ``where``."""
    if not isinstance(value, list):
        raise InputError(f"{where}: expected an array, got {type(value).__name__}")
    return value


def expect_text(where: str, value: Any) -> str:
    """``value`` when it is a string; else an error naming ``where``."""
    if not isinstance(value, str):
        raise InputError(f"{where}: expected a string, got {type(value).__name__}")
    return value


def fallback_index(options: ReadOptions) -> str:
    """The index a foreign lock that names none came from: the caller's configured
    default, else the public default (read from pip, never written here)."""
    if options.default_index:
        return options.default_index
    from tumbler.project.indexes import default_index_url

    return default_index_url()


def assemble(
    packages: Iterable[Package],
    *,
    requires_python: Any = None,
    extras: Iterable[str] = (),
    groups: Iterable[str] = (),
    default_groups: Iterable[str] = (),
) -> Pylock:
    """The lock: packages in name, version and marker order, choices named once each."""
    ordered = sorted(
        packages, key=lambda p: (p.name, p.version or Version("0"), str(p.marker or ""))
    )
    return Pylock(
        lock_version=Version("1.0"),
        created_by="tumbler",
        requires_python=requires_python,
        extras=sorted({canonicalize_name(e) for e in extras}) or None,
        dependency_groups=sorted({canonicalize_name(g) for g in groups}) or None,
        default_groups=sorted({canonicalize_name(g) for g in default_groups}) or None,
        packages=ordered,
    )
