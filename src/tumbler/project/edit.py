"""Input stage, editing: requirements added to or removed from a ``pyproject.toml``.

Pure: text in, text out. ``tomlkit`` keeps everything but the edited array byte for byte
(comments, key order, quoting, the array's own layout). A requirement naming a project
the table already lists with the same marker replaces that entry (``rich`` →
``rich>=14``); otherwise it is appended. Where: ``[project.dependencies]``, an extra
(``[project.optional-dependencies]``) or a dependency group (``[dependency-groups]``,
PEP 735), made when missing. Every problem is an :class:`~tumbler.errors.InputError`
naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from tumbler.errors import InputError, UsageError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["Edit", "Place", "add_requirements", "remove_requirements"]


@dataclass(frozen=True, slots=True)
class Place:
    """Which table of requirements: the project's own, an extra's or a group's."""

    extra: str | None = None
    group: str | None = None

    def __str__(self) -> str:
        if self.extra is not None:
            return f"[project.optional-dependencies] {self.extra}"
        if self.group is not None:
            return f"[dependency-groups] {self.group}"
        return "[project.dependencies]"


@dataclass(frozen=True, slots=True)
class Edit:
    """The edited text and what changed in it."""

    text: str
    added: tuple[str, ...] = ()
    #: (old entry, new entry).
    replaced: tuple[tuple[str, str], ...] = ()
    removed: tuple[str, ...] = ()


def _parse(text: str, origin: str) -> Any:
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        return tomlkit.parse(text)
    except TOMLKitError as error:
        raise InputError(f"{origin}: not valid TOML ({error})") from None


def _requirement(text: str) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement as error:
        raise UsageError(f"{text!r} is not a requirement: {error}") from None


def _same(entry: object, wanted: Requirement) -> bool:
    """Whether ``entry`` (an array item) asks for the same project under the same marker."""
    if not isinstance(entry, str):
        return False  # a group's {include-group = ...}
    try:
        present = Requirement(entry)
    except InvalidRequirement:
        return False
    return canonicalize_name(present.name) == canonicalize_name(wanted.name) and str(
        present.marker or ""
    ) == str(wanted.marker or "")


def _named(entry: object, name: str) -> bool:
    if not isinstance(entry, str):
        return False
    try:
        return canonicalize_name(Requirement(entry).name) == canonicalize_name(name)
    except InvalidRequirement:
        return False


def _table(doc: Any, key: str, origin: str) -> Any:
    """``doc[key]`` as a table, made when missing."""
    import tomlkit

    if key not in doc:
        doc[key] = tomlkit.table()
    table = doc[key]
    if not isinstance(table, dict):
        raise InputError(f"{origin}: {key} is not a table")
    return table


def _key(table: Any, name: str) -> str:
    """The key of ``table`` that names ``name`` (extras and groups compare normalised)."""
    wanted = canonicalize_name(name)
    return next((k for k in table if canonicalize_name(str(k)) == wanted), name)


def _array(doc: Any, place: Place, origin: str, *, create: bool) -> Any:
    """The array of requirements at ``place``; made when missing and ``create``."""
    import tomlkit

    if place.group is not None:
        table = _table(doc, "dependency-groups", origin) if create else doc.get("dependency-groups")
        name = place.group
    else:
        project = doc.get("project")
        if not isinstance(project, dict):
            raise InputError(f"{origin}: no [project] table to edit")
        if place.extra is None:
            if "dependencies" not in project and create:
                project["dependencies"] = tomlkit.array()
            array = project.get("dependencies")
            if array is not None and not isinstance(array, list):
                raise InputError(f"{origin}: project.dependencies is not an array")
            return array
        table = (
            _table(project, "optional-dependencies", origin)
            if create
            else project.get("optional-dependencies")
        )
        name = place.extra
    if table is None:
        return None
    key = _key(table, name)
    if key not in table:
        if not create:
            return None
        table[key] = tomlkit.array()
    array = table[key]
    if not isinstance(array, list):
        raise InputError(f"{origin}: {place} is not an array")
    return array


def add_requirements(text: str, requirements: Sequence[str], place: Place, *, origin: str) -> Edit:
    """``text`` with ``requirements`` in the array at ``place``: each replacing the entry
    for the same project and marker, else appended."""
    import tomlkit

    wanted = [_requirement(r) for r in requirements]
    doc = _parse(text, origin)
    array = _array(doc, place, origin, create=True)
    added: list[str] = []
    replaced: list[tuple[str, str]] = []
    for requirement in wanted:
        shown = str(requirement)
        index = next((i for i, e in enumerate(array) if _same(e, requirement)), None)
        if index is None:
            array.append(shown)
            added.append(shown)
        elif str(array[index]) != shown:
            replaced.append((str(array[index]), shown))
            array[index] = shown
    return Edit(tomlkit.dumps(doc), tuple(added), tuple(replaced))


def remove_requirements(text: str, names: Sequence[str], place: Place, *, origin: str) -> Edit:
    """``text`` without the entries of the array at ``place`` naming ``names``; an error
    naming any that is not there (nothing is changed then)."""
    import tomlkit

    doc = _parse(text, origin)
    array = _array(doc, place, origin, create=False)
    removed: list[str] = []
    for name in names:
        hits = [i for i, e in enumerate(array or ()) if _named(e, name)]
        if not hits:
            raise UsageError(f"{name} is not in {place} of {origin}")
        for index in reversed(hits):
            removed.append(str(array[index]))
            del array[index]
    return Edit(tomlkit.dumps(doc), removed=tuple(removed))
