"""Write stage: :class:`packaging.pylock.Pylock` → deterministic, diff-friendly TOML text.

The layout (R6): a short header comment; the standard's key order; packages sorted by
name, then version, then marker; each file table one line, as an inline table, wheels
sorted by file name; ``upload-time`` as a UTC TOML datetime; tool tables last, keys
sorted. ``render(load(render(x)))`` is byte-identical to ``render(x)``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from packaging.markers import Marker
    from packaging.pylock import (
        Package,
        PackageArchive,
        PackageDirectory,
        PackageSdist,
        PackageVcs,
        PackageWheel,
        Pylock,
    )

__all__ = ["datetime_text", "marker_text", "render", "toml_value"]

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f]')
_INDENT = "    "


def _string(text: str) -> str:
    def escape(match: re.Match[str]) -> str:
        char = match.group()
        return _ESCAPES.get(char) or f"\\u{ord(char):04x}"

    return '"' + _NEEDS_ESCAPE.sub(escape, text) + '"'


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


def datetime_text(value: datetime) -> str:
    """``value`` as the lock writes it: UTC with ``Z``, or as is when naive."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    return value.isoformat()


def toml_value(value: Any) -> str:
    """``value`` as one line of TOML (tables become inline tables, keys sorted)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, datetime):
        return datetime_text(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Mapping):
        return _inline(sorted(value.items(), key=_key_order))
    if isinstance(value, Sequence):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    msg = f"cannot write {type(value).__name__} as TOML"
    raise TypeError(msg)


#: Keys written first in inline tables, in this order (a name before what describes it:
#: tumbler's surface entries read ``{ import = ..., sha256 = ..., capabilities = [...] }``);
#: other keys follow, sorted.
_LEADING_KEYS = ("import", "sha256")


def _key_order(item: tuple[str, Any]) -> tuple[int, str]:
    key = item[0]
    return (_LEADING_KEYS.index(key), "") if key in _LEADING_KEYS else (len(_LEADING_KEYS), key)


def _inline(items: Sequence[tuple[str, Any]]) -> str:
    body = ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in items if v is not None)
    return "{ " + body + " }" if body else "{}"


def marker_text(marker: Marker) -> str:
    """A marker as tumbler writes it: normalized, with single quotes where possible."""
    text = str(marker)
    return text.replace('"', "'") if "'" not in text else text


def _hashes(hashes: Mapping[str, str]) -> dict[str, str]:
    return dict(sorted(hashes.items()))


def _file_items(table: PackageWheel | PackageSdist) -> list[tuple[str, Any]]:
    return [
        ("name", table.name),
        ("upload-time", table.upload_time),
        ("url", table.url),
        ("path", table.path),
        ("size", table.size),
        ("hashes", _hashes(table.hashes)),
    ]


def _vcs_items(vcs: PackageVcs) -> list[tuple[str, Any]]:
    return [
        ("type", vcs.type),
        ("url", vcs.url),
        ("path", vcs.path),
        ("requested-revision", vcs.requested_revision),
        ("commit-id", vcs.commit_id),
        ("subdirectory", vcs.subdirectory),
    ]


def _directory_items(directory: PackageDirectory) -> list[tuple[str, Any]]:
    return [
        ("path", directory.path),
        ("editable", directory.editable),
        ("subdirectory", directory.subdirectory),
    ]


def _archive_items(archive: PackageArchive) -> list[tuple[str, Any]]:
    return [
        ("url", archive.url),
        ("path", archive.path),
        ("size", archive.size),
        ("upload-time", archive.upload_time),
        ("hashes", _hashes(archive.hashes)),
        ("subdirectory", archive.subdirectory),
    ]


def _first_key_then_sorted(table: Mapping[str, Any], first: str) -> list[tuple[str, Any]]:
    head = [(first, table[first])] if first in table else []
    return head + sorted((k, v) for k, v in table.items() if k != first)


def _array_lines(key: str, lines: list[str]) -> list[str]:
    if not lines:
        return [f"{key} = []"]
    return [f"{key} = [", *(f"{_INDENT}{line}," for line in lines), "]"]


def _tool_lines(prefix: str, table: Mapping[str, Any]) -> list[str]:
    """A tool table as TOML: its plain values under ``[prefix]``, sub-tables after."""
    plain = [(k, v) for k, v in sorted(table.items()) if not isinstance(v, Mapping)]
    nested = [(k, v) for k, v in sorted(table.items()) if isinstance(v, Mapping)]
    lines = ["", f"[{prefix}]"] if plain or not nested else []
    for key, value in plain:
        if (
            isinstance(value, Sequence)
            and not isinstance(value, str)
            and any(isinstance(v, Mapping) for v in value)
        ):
            lines.extend(_array_lines(_key(key), [toml_value(v) for v in value]))
        else:
            lines.append(f"{_key(key)} = {toml_value(value)}")
    for key, value in nested:
        lines.extend(_tool_lines(f"{prefix}.{_key(key)}", value))
    return lines


def _package_lines(package: Package) -> list[str]:
    lines = ["", "[[packages]]", f"name = {_string(package.name)}"]
    if package.version is not None:
        lines.append(f"version = {_string(str(package.version))}")
    if package.marker is not None:
        lines.append(f"marker = {_string(marker_text(package.marker))}")
    if package.requires_python is not None:
        lines.append(f"requires-python = {_string(str(package.requires_python))}")
    if package.dependencies is not None:
        deps = sorted(_inline(_first_key_then_sorted(d, "name")) for d in package.dependencies)
        lines.extend(_array_lines("dependencies", deps))
    if package.vcs is not None:
        lines.append(f"vcs = {_inline(_vcs_items(package.vcs))}")
    if package.directory is not None:
        lines.append(f"directory = {_inline(_directory_items(package.directory))}")
    if package.archive is not None:
        lines.append(f"archive = {_inline(_archive_items(package.archive))}")
    if package.index is not None:
        lines.append(f"index = {_string(package.index)}")
    if package.sdist is not None:
        lines.append(f"sdist = {_inline(_file_items(package.sdist))}")
    if package.wheels is not None:
        wheels = sorted(package.wheels, key=lambda w: (w.filename, w.url or "", w.path or ""))
        lines.extend(_array_lines("wheels", [_inline(_file_items(w)) for w in wheels]))
    if package.attestation_identities is not None:
        identities = [
            _inline(_first_key_then_sorted(i, "kind")) for i in package.attestation_identities
        ]
        lines.extend(_array_lines("attestation-identities", sorted(identities)))
    if package.tool is not None:
        lines.extend(_tool_lines("packages.tool", package.tool))
    return lines


def _strings(key: str, values: Sequence[str]) -> str:
    return f"{key} = " + toml_value(sorted(values))


def _sort_key(package: Package) -> tuple[str, bool, Any, str]:
    return (
        package.name,
        package.version is not None,
        package.version,
        "" if package.marker is None else marker_text(package.marker),
    )


def render(pylock: Pylock, *, regenerate: str | None = None) -> str:
    """The lock as TOML text, in tumbler's canonical layout.

    ``regenerate`` is the command the header comment tells readers to run.
    """
    command = regenerate or ("tumbler lock" if pylock.created_by == "tumbler" else "tumbler format")
    creator = "".join(c if c.isprintable() else "?" for c in pylock.created_by)
    lines = [
        f"# A PEP 751 lock file, created by {creator}; do not edit it by hand.",
        f"# To regenerate it, run: {command}",
        f"lock-version = {_string(str(pylock.lock_version))}",
    ]
    if pylock.environments is not None:
        environments = sorted(_string(marker_text(m)) for m in pylock.environments)
        if len(environments) > 1:
            lines.extend(_array_lines("environments", environments))
        else:
            lines.append("environments = [" + ", ".join(environments) + "]")
    if pylock.requires_python is not None:
        lines.append(f"requires-python = {_string(str(pylock.requires_python))}")
    if pylock.extras is not None:
        lines.append(_strings("extras", pylock.extras))
    if pylock.dependency_groups is not None:
        lines.append(_strings("dependency-groups", pylock.dependency_groups))
    if pylock.default_groups is not None:
        lines.append(_strings("default-groups", pylock.default_groups))
    lines.append(f"created-by = {_string(pylock.created_by)}")
    if not pylock.packages:
        lines.append("packages = []")
    rendered = [(_sort_key(p), _package_lines(p)) for p in pylock.packages]
    rendered.sort(key=lambda item: (item[0], item[1]))
    for _, package_lines in rendered:
        lines.extend(package_lines)
    if pylock.tool is not None:
        lines.extend(_tool_lines("tool", pylock.tool))
    return "\n".join(lines) + "\n"
