"""Read stage: bytes → TOML document → :class:`~tumbler.lockfile.model.Lock` plus every finding.

The fast path is one ``tomllib.loads`` and one ``Pylock.from_dict``, then tumbler's own
static rules (:mod:`tumbler.lockfile.rules`). Only when packaging refuses the file does
:mod:`tumbler.lockfile.collect` run to find every other error too.
"""

from __future__ import annotations

import dataclasses
import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import rtoml
from packaging.pylock import Package, Pylock, PylockValidationError
from packaging.version import Version

from tumbler.errors import InputError, LockInvalidError
from tumbler.findings import Finding, Severity, has_errors, sort_findings
from tumbler.lockfile.model import Lock
from tumbler.lockfile.rules import SOURCE_KEYS, static_findings
from tumbler.project.toml import check_bounds

if TYPE_CHECKING:
    from tumbler.lockfile.source import LockSource

__all__ = ["Loaded", "load", "load_lock", "load_valid", "parse_document"]

# packaging logs "pylock minor version ... is not supported" through logging; tumbler
# reports that itself (R10), so keep Python's last-resort handler from printing it.
logging.getLogger("packaging.pylock").addHandler(logging.NullHandler())
logging.getLogger("packaging.pylock").propagate = False

_PLACEHOLDER = {"path": "."}


@dataclass(frozen=True, slots=True)
class Loaded:
    """What reading one lock file found: the lock (when valid enough) and every finding."""

    source: LockSource
    document: Mapping[str, Any]
    lock: Lock | None
    findings: tuple[Finding, ...]


def parse_document(source: LockSource) -> dict[str, Any]:
    """Decode and parse the TOML; a file that is not UTF-8 TOML is an input error (R5).

    What no real lock has (nesting, integers or strings beyond
    :mod:`tumbler.project.toml`'s bounds) is refused first, naming the line.
    ``rtoml`` (Rust) parses; it is 5 to 8 times faster than ``tomllib`` on real locks and
    gives the same values (tests/test_load.py checks the corpus). When it refuses a file,
    ``tomllib`` parses it again for its precise message, and has the last word.
    """
    try:
        text = source.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source.origin}: not a text file (byte {exc.start} is not UTF-8); "
            "a pylock.toml is UTF-8 TOML (R5)",
            rule="R5",
        ) from None
    check_bounds(source.data, source.origin)
    try:
        return dict(rtoml.loads(text))
    except (rtoml.TomlParsingError, ValueError):
        pass
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{source.origin}: not valid TOML: {exc} (R5)", rule="R5") from None


def _major_version_error(doc: Mapping[str, Any]) -> Finding | None:
    raw = doc.get("lock-version")
    if not isinstance(raw, str):
        return None
    try:
        version = Version(raw)
    except ValueError:  # InvalidVersion, or more digits than int() takes
        return None
    if version.major == 1:
        return None
    return Finding(
        location="lock-version",
        rule="R9",
        severity=Severity.ERROR,
        message=f"lock-version {raw!r} is not supported: tumbler reads major version 1",
        hint="upgrade tumbler, or regenerate the lock with lock-version 1.x",
    )


def _sourceless(packages: object) -> list[int]:
    if not isinstance(packages, list):
        return []
    return [
        i
        for i, p in enumerate(packages)
        if isinstance(p, Mapping)
        and isinstance(p.get("name"), str)
        and not any(k in p for k in SOURCE_KEYS)
    ]


def _package_key(raw: object) -> tuple[object, object, object]:
    """What a package table is looked up by (only strings: any other type, even one that
    cannot be hashed, stands for no key)."""
    if not isinstance(raw, Mapping):
        return (None, None, None)
    name, version, marker = (raw.get(k) for k in ("name", "version", "marker"))
    return (_text_or_none(name), _text_or_none(version), _text_or_none(marker))


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _build(prepared: Mapping[str, Any], reuse: Loaded | None) -> tuple[Pylock, frozenset[int]]:
    """``Pylock.from_dict(prepared)``, validating only packages ``reuse`` has not already.

    A package table equal to one in ``reuse``'s document gives the same validated
    :class:`~packaging.pylock.Package`, so ``diff`` of two similar locks validates the
    second one's changes only. Raises ``PylockValidationError`` like ``from_dict``.
    Also returns the indexes of the packages taken from ``reuse``.
    """
    packages = prepared.get("packages")
    if reuse is None or reuse.lock is None or not isinstance(packages, list):
        return Pylock.from_dict(prepared), frozenset()
    known: dict[tuple[object, object, object], list[tuple[object, Package]]] = {}
    old_raw = reuse.document.get("packages") or []
    for raw, package in zip(old_raw, reuse.lock.pylock.packages, strict=False):
        known.setdefault(_package_key(raw), []).append((raw, package))
    found: list[Package | None] = []
    fresh: list[object] = []
    for raw in packages:
        match = next((p for r, p in known.get(_package_key(raw), ()) if r == raw), None)
        found.append(match)
        if match is None:
            fresh.append(raw)
    built = Pylock.from_dict({**prepared, "packages": fresh})
    new = iter(built.packages)
    merged = [p if p is not None else next(new) for p in found]
    reused = frozenset(i for i, p in enumerate(found) if p is not None)
    return dataclasses.replace(built, packages=merged), reused


def load(source: LockSource, *, reuse: Loaded | None = None) -> Loaded:
    """Parse and validate ``source``; every problem becomes a finding.

    Raises :class:`~tumbler.errors.InputError` only when the bytes are not TOML at all.
    A package with no source (R24) is kept, with no source, instead of refusing the file
    as packaging does: the standard only fails an install that selects it (I5d).
    ``reuse``, another *valid* lock, spares validating package tables the two share:
    those tables gave no error there, so they give none here, and their warnings (already
    reported for ``reuse``) are not repeated.
    """
    doc = parse_document(source)
    unsupported = _major_version_error(doc)
    if unsupported is not None:
        return Loaded(source, doc, None, (unsupported,))
    sourceless = _sourceless(doc.get("packages"))
    prepared: Mapping[str, Any] = doc
    if sourceless:
        packages = list(doc["packages"])
        for i in sourceless:
            packages[i] = {**packages[i], "directory": _PLACEHOLDER}
        prepared = {**doc, "packages": packages}
    pylock: Pylock | None
    reused: frozenset[int] = frozenset()
    try:
        pylock, reused = _build(prepared, reuse)
    except PylockValidationError:
        from tumbler.lockfile.collect import packaging_findings

        pylock = None
        findings = packaging_findings(prepared)
    else:
        findings = []
        if sourceless:
            packages_model = list(pylock.packages)
            for i in sourceless:
                packages_model[i] = dataclasses.replace(packages_model[i], directory=None)
            pylock = dataclasses.replace(pylock, packages=packages_model)
    findings.extend(static_findings(doc, pylock, source.path, skip=reused))
    result = sort_findings(findings)
    lock = None if pylock is None else Lock(pylock=pylock, origin=source.origin, path=source.path)
    return Loaded(source, doc, lock, result)


def load_valid(source: LockSource, *, reuse: Loaded | None = None) -> Loaded:
    """``load``, refusing a lock with errors (:class:`~tumbler.errors.LockInvalidError`).

    Warnings do not stop a command; errors do. The file-name rule (R1) is left to
    ``validate``: ``diff`` and ``format`` work on any name.
    """
    loaded = load(dataclasses.replace(source, path=None), reuse=reuse)
    errors = tuple(f for f in loaded.findings if f.severity is Severity.ERROR)
    if loaded.lock is None or has_errors(errors):
        raise LockInvalidError(source.origin, errors)
    lock = dataclasses.replace(loaded.lock, path=source.path)
    return dataclasses.replace(loaded, source=source, lock=lock)


def load_lock(source: LockSource) -> Lock:
    """The valid lock in ``source``, or :class:`~tumbler.errors.LockInvalidError`."""
    lock = load_valid(source).lock
    assert lock is not None
    return lock
