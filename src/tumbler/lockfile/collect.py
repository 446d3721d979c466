"""Every error ``packaging.pylock`` finds, not just its first.

``Pylock.from_dict`` stops at the first problem. Only when it fails does this module
run: it checks the top-level keys and each package on its own (a package is wrapped
in a minimal valid document), and after each error it puts a valid placeholder where
the bad value was and asks packaging again, until packaging accepts the rest. The
standard's schema therefore lives in one place, ``packaging.pylock``; this module
only knows how to step past an error it reported, and which rule each error breaks.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from packaging.pylock import Pylock, PylockUnsupportedVersionError, PylockValidationError
from packaging.utils import canonicalize_name

from tumbler.findings import Finding, Severity

__all__ = ["packaging_findings", "rule_for"]

_MAX_ROUNDS = 64
_ZERO_SHA256 = "0" * 64
_SECTION_RULES = {
    "vcs": "R25",
    "directory": "R26",
    "archive": "R27",
    "sdist": "R29",
    "wheels": "R31",
    "attestation-identities": "R37",
    "dependencies": "R23",
}
_TOP_RULES = {
    "lock-version": "R8",
    "environments": "R11",
    "requires-python": "R12",
    "extras": "R13",
    "dependency-groups": "R14",
    "default-groups": "R15",
    "created-by": "R16",
    "packages": "R17",
    "tool": "R18",
}
_PACKAGE_RULES = {
    "name": "R19",
    "version": "R20",
    "marker": "R21",
    "requires-python": "R22",
    "index": "R28",
    "tool": "R38",
}
_FILE_RULES = {"hashes": "R34", "size": "R35", "upload-time": "R36"}
_HINTS = {
    "R8": 'write lock-version = "1.0" (a string)',
    "R9": "this tool reads lock-version 1.x; upgrade the tool that reads this file",
    "R11": "environments is an array of marker strings",
    "R12": 'use PEP 440 specifiers, e.g. requires-python = ">=3.9"',
    "R16": "created-by names the tool that wrote the file",
    "R17": "every package is a [[packages]] table",
    "R18": "tool data goes in a [tool.<name>] table",
    "R19": "write the normalized name: lower-case, runs of '-', '_', '.' as one '-'",
    "R20": "use a PEP 440 version (e.g. 1.2.3)",
    "R21": "use a PEP 508 marker expression; in a lock file, extras and dependency_groups "
    "are sets: 'name' in extras",
    "R22": 'use PEP 440 specifiers, e.g. requires-python = ">=3.9"',
    "R24": "keep exactly one of vcs, directory, archive, or sdist and/or wheels",
    "R25": "a vcs table needs type, url or path, and the full commit-id",
    "R26": "a directory table needs path (relative to the lock file); editable is true/false",
    "R27": "an archive table needs url or path, and hashes",
    "R29": "an sdist table needs url or path, and hashes",
    "R31": "a wheel table needs url or path, and hashes",
    "R32": "the file name must be <name>-<version>... for this package's name and version",
    "R34": 'give at least one hash as a string: hashes = { sha256 = "<hex digest>" }',
    "R35": "size is an integer number of bytes",
    "R36": "upload-time is a TOML datetime in UTC, e.g. 2025-01-25T11:30:10Z (not a string)",
    "R37": 'each attestation identity needs a kind, e.g. kind = "GitHub"',
    "R38": "per-package tool data goes in a [packages.tool.<name>] table",
    "R46": "use only the standard marker variables (and extras/dependency_groups in lock files)",
}
_KNOWN_MARKER_WORDS = frozenset(
    {
        "and", "or", "not", "in",
        "python_version", "python_full_version", "os_name", "sys_platform",
        "platform_release", "platform_system", "platform_version", "platform_machine",
        "platform_python_implementation", "implementation_name",
        "implementation_version", "extra", "extras", "dependency_groups",
    }
)  # fmt: skip
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


def _split(context: str) -> list[str | int]:
    parts: list[str | int] = []
    for piece in context.split("."):
        name, *indexes = piece.split("[")
        if name:
            parts.append(name)
        parts.extend(int(index.rstrip("]")) for index in indexes)
    return parts


def unknown_marker_variables(text: str) -> list[str]:
    """Identifiers in a marker that are not marker variables (R46), e.g. ``platform_flavor``."""
    words = _WORD.findall(_QUOTED.sub(" ", text))
    return [word for word in words if word not in _KNOWN_MARKER_WORDS]


def rule_for(context: str, message: str, value: object = None) -> str:
    """The checklist rule an error at ``context`` with ``message`` breaks."""
    if message.startswith(("None of vcs", "Exactly one of vcs")):
        return "R24"
    if "filename" in message or "is not consistent with" in message:
        return "R32"
    if message.startswith("pylock version"):
        return "R9"
    parts = [p for p in _split(context) if isinstance(p, str)]
    if not parts:
        return "R17"
    last = parts[-1]
    if (
        last in ("marker", "environments")
        and isinstance(value, str)
        and unknown_marker_variables(value)
    ):
        return "R46"
    if last in _FILE_RULES and len(parts) > 1 and parts[0] == "packages":
        return _FILE_RULES[last]
    if parts[0] != "packages":
        return _TOP_RULES.get(parts[0], "R7")
    if len(parts) == 1:
        return "R17"
    for part in reversed(parts[1:]):
        if part in _SECTION_RULES:
            return _SECTION_RULES[part]
    return _PACKAGE_RULES.get(parts[1], "R17")


def _lookup(doc: Any, parts: list[str | int]) -> object:
    node = doc
    for part in parts:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _finding(error: PylockValidationError, value: object) -> Finding:
    context = error.context or ""
    message = error.message
    if isinstance(error, PylockUnsupportedVersionError):
        rule = "R9"
    else:
        rule = rule_for(context, message, value)
    if rule == "R46" and isinstance(value, str):
        names = ", ".join(repr(n) for n in unknown_marker_variables(value))
        message = f"unknown marker variable {names} in {value!r}"
    elif rule == "R21" and isinstance(value, str):
        message = f"invalid marker {value!r}: {message}"
    return Finding(
        location=context,
        rule=rule,
        severity=Severity.ERROR,
        message=message[0].lower() + message[1:] if message else message,
        hint=_HINTS.get(rule, ""),
    )


def _placeholder_table(section: str, package: Mapping[str, Any]) -> dict[str, Any]:
    name = str(package.get("name", "placeholder")).replace("-", "_")
    version = package.get("version") if isinstance(package.get("version"), str) else "0"
    hashes = {"sha256": _ZERO_SHA256}
    if section == "vcs":
        return {"type": "git", "url": "https://example.invalid/", "commit-id": "0" * 40}
    if section == "directory":
        return {"path": "."}
    if section == "archive":
        return {"url": "https://example.invalid/a.tar.gz", "hashes": hashes}
    if section == "sdist":
        return {
            "name": f"{name}-{version}.tar.gz",
            "url": "https://example.invalid/",
            "hashes": hashes,
        }
    # a wheel
    return {
        "name": f"{name}-{version}-py3-none-any.whl",
        "url": "https://example.invalid/",
        "hashes": hashes,
    }


_TOP_PLACEHOLDERS: dict[str, object] = {
    "lock-version": "1.0",
    "created-by": "tumbler",
    "environments": [],
    "extras": [],
    "dependency-groups": [],
    "default-groups": [],
}


def _repair_top(doc: dict[str, Any], parts: list[str | int]) -> bool:
    key = parts[0] if parts else None
    if not isinstance(key, str):
        return False
    if key in _TOP_PLACEHOLDERS:
        doc[key] = _TOP_PLACEHOLDERS[key]
    elif key in doc:
        del doc[key]
    else:
        return False
    return True


_REQUIRED_PLACEHOLDERS: dict[str, object] = {
    "type": "git",
    "commit-id": "0" * 40,
    "hashes": {"sha256": _ZERO_SHA256},
    "kind": "placeholder",
}


def _file_name_for(section: str, package: Mapping[str, Any]) -> str:
    name = _placeholder_table(section, package).get("name")
    return str(name) if name is not None else "placeholder"


def _repair_table(
    table: dict[str, Any], key: str | None, section: str, message: str, package: Mapping[str, Any]
) -> None:
    """Step past an error inside one source or file table, keeping its other keys."""
    if key is None:  # the error is about the table as a whole
        if "path or url" in message:
            table["url"] = f"https://example.invalid/{_file_name_for(section, package)}"
            if section == "directory":
                table["path"] = "."
        else:  # a file name that does not parse or does not match the package
            table["name"] = _file_name_for(section, package)
    elif key == "path" and section == "directory":
        table["path"] = "."
    elif key in _REQUIRED_PLACEHOLDERS:
        table[key] = _REQUIRED_PLACEHOLDERS[key]
    else:
        table.pop(key, None)


def _repair_package(package: dict[str, Any], parts: list[str | int], message: str) -> bool:
    """Put a valid value where packaging found an error; ``False`` when we cannot go on."""
    if not parts or parts[0] == "name":
        return False
    key = parts[0]
    if not isinstance(key, str) or key not in package:
        return False
    rest = parts[1:]
    if key in ("wheels", "attestation-identities"):
        items = package[key]
        if not rest or not isinstance(items, list) or not isinstance(rest[0], int):
            del package[key]
            return True
        items = list(items)
        package[key] = items
        item = items[rest[0]]
        if not isinstance(item, Mapping):
            items[rest[0]] = (
                {"kind": "placeholder"} if key != "wheels" else _placeholder_table(key, package)
            )
            return True
        items[rest[0]] = item = dict(item)
        inner = rest[1] if len(rest) > 1 and isinstance(rest[1], str) else None
        _repair_table(item, inner, key, message, package)
        return True
    if key in ("vcs", "directory", "archive", "sdist"):
        table = package[key]
        if not isinstance(table, Mapping):
            package[key] = _placeholder_table(key, package)
            return True
        package[key] = table = dict(table)
        inner = rest[0] if rest and isinstance(rest[0], str) else None
        _repair_table(table, inner, key, message, package)
        return True
    del package[key]
    return True


def _minimal(packages: list[Any]) -> dict[str, Any]:
    return {"lock-version": "1.0", "created-by": "tumbler", "packages": packages}


def _retarget(error: PylockValidationError, index: int) -> str:
    context = error.context or ""
    return f"packages[{index}]" + context.removeprefix("packages[0]")


def packaging_findings(doc: Mapping[str, Any]) -> list[Finding]:
    """Every error ``packaging.pylock`` reports for ``doc``, each once, with its rule."""
    findings: list[Finding] = []
    top = {k: v for k, v in doc.items() if k != "packages"}
    for _ in range(_MAX_ROUNDS):
        try:
            Pylock.from_dict({**top, "packages": []})
            break
        except PylockValidationError as error:
            parts = _split(error.context or "")
            findings.append(_finding(error, _lookup(top, parts)))
            if not _repair_top(top, parts):
                break
    packages = doc.get("packages")
    if "packages" not in doc:
        findings.append(
            Finding(
                location="packages",
                rule="R17",
                severity=Severity.ERROR,
                message="missing required value",
                hint=_HINTS["R17"],
            )
        )
    elif not isinstance(packages, list):
        findings.append(
            Finding(
                location="packages",
                rule="R17",
                severity=Severity.ERROR,
                message=f"expected an array of tables, found {type(packages).__name__}",
                hint=_HINTS["R17"],
            )
        )
    else:
        for index, package in enumerate(packages):
            findings.extend(_package_findings(index, package))
    return findings


def _package_findings(index: int, package: object) -> list[Finding]:
    if not isinstance(package, Mapping):
        return [
            Finding(
                location=f"packages[{index}]",
                rule="R17",
                severity=Severity.ERROR,
                message=f"expected a table, found {type(package).__name__}",
                hint=_HINTS["R17"],
            )
        ]
    findings: list[Finding] = []
    work = dict(package)
    seen: set[tuple[str | None, str]] = set()
    for _ in range(_MAX_ROUNDS):
        try:
            Pylock.from_dict(_minimal([work]))
            break
        except PylockValidationError as error:
            if (error.context, error.message) in seen:
                break  # a repair that did not take: stop rather than repeat ourselves
            seen.add((error.context, error.message))
            parts = _split(error.context or "")[2:]
            value = _lookup(work, parts)
            findings.append(replace(_finding(error, value), location=_retarget(error, index)))
            if not _repair_package(work, parts, error.message):
                break
    if "name" in work and isinstance(work.get("name"), str):
        canonical = canonicalize_name(work["name"])
        findings = [
            replace(f, hint=f"write name = {canonical!r}") if f.rule == "R19" else f
            for f in findings
        ]
    return findings
