"""Audit stage: what a reviewer wants flagged even in a valid lock (tumbler's lints A1 to A6).

Lints are warnings with tumbler's own ids; they never change validity. Each reads the
typed lock only (no I/O).

* A1 a file whose hashes are all insecure (md5, sha1) or unknown algorithms
* A2 an sdist-only package: installing it runs its build code
* A3 a lock declaring several platforms whose wheels cover only one
* A4 credentials or tokens inside a URL
* A5 the legacy ``extra ==`` marker form (in ``environments``; package markers are R45)
* A6 a package that no environment the lock supports can select
"""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from packaging.markers import Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.specifiers import SpecifierSet
from packaging.utils import parse_wheel_filename

from tumbler.env.targets import PLATFORMS, marker_environment
from tumbler.findings import Finding, Severity

if TYPE_CHECKING:
    from collections.abc import Iterator

    from packaging.pylock import Package, Pylock

__all__ = ["audit"]

_INSECURE = frozenset({"md5", "sha1"})
_SECURE = frozenset(hashlib.algorithms_guaranteed) - _INSECURE
_SECRET_QUERY = re.compile(
    r"(token|secret|password|passwd|api[-_]?key|access[-_]?key|signature|sig|auth|credential)",
    re.IGNORECASE,
)
_TOKEN_SHAPES = re.compile(r"(ghp_|gho_|github_pat_|glpat-|pypi-AgE|xox[abp]-|AKIA[0-9A-Z]{12})")
#: Python versions tried when asking whether any environment selects a package: the first
#: and a late patch release of each minor, plus every version requires-python names.
_PYTHONS = tuple(f"3.{minor}.{patch}" for minor in range(8, 16) for patch in (0, 99))
_IMPLEMENTATIONS = (("CPython", "cpython"), ("PyPy", "pypy"))
_FAMILY = {"manylinux": "linux", "musllinux": "linux", "linux": "linux", "macosx": "macos",
           "win": "windows"}  # fmt: skip


def _warn(location: str, rule: str, message: str, hint: str) -> Finding:
    return Finding(
        location=location, rule=rule, severity=Severity.WARNING, message=message, hint=hint
    )


def _files(index: int, package: Package) -> Iterator[tuple[str, str | None, dict[str, str]]]:
    where = f"packages[{index}]"
    if package.archive is not None:
        yield f"{where}.archive", package.archive.url, dict(package.archive.hashes)
    if package.sdist is not None:
        yield f"{where}.sdist", package.sdist.url, dict(package.sdist.hashes)
    for i, wheel in enumerate(package.wheels or ()):
        yield f"{where}.wheels[{i}]", wheel.url, dict(wheel.hashes)


def _hashes(pylock: Pylock) -> Iterator[Finding]:
    for index, package in enumerate(pylock.packages):
        for where, _, hashes in _files(index, package):
            if not {a.lower() for a in hashes} & _SECURE:
                names = ", ".join(sorted(hashes))
                yield _warn(
                    f"{where}.hashes",
                    "A1",
                    f"{package.name}: no secure hash, only {names}; a forged file could match",
                    "record a sha256 digest (R34)",
                )


def _sdist_only(pylock: Pylock) -> Iterator[Finding]:
    for index, package in enumerate(pylock.packages):
        if package.sdist is not None and not package.wheels:
            yield _warn(
                f"packages[{index}]",
                "A2",
                f"{package.name} {package.version or ''} has only an sdist: installing it runs "
                "the package's build code",
                "prefer a version with wheels, or build and host a wheel yourself",
            )


def _urls(pylock: Pylock) -> Iterator[tuple[str, str]]:
    for index, package in enumerate(pylock.packages):
        where = f"packages[{index}]"
        if package.index:
            yield f"{where}.index", package.index
        if package.vcs is not None and package.vcs.url:
            yield f"{where}.vcs.url", package.vcs.url
        for location, url, _ in _files(index, package):
            if url:
                yield f"{location}.url", url


def _credentials(pylock: Pylock) -> Iterator[Finding]:
    for location, url in _urls(pylock):
        parts = urlsplit(url)
        secret = [key for key, _ in parse_qsl(parts.query) if _SECRET_QUERY.search(key)]
        if parts.username or parts.password or secret or _TOKEN_SHAPES.search(url):
            what = (
                "a user name and password"
                if parts.password
                else ("a user name or token" if parts.username else "a token")
            )
            safe = parts._replace(netloc=parts.hostname or "", query="").geturl()
            yield _warn(
                location,
                "A4",
                f"URL carries {what} ({safe}…): anyone who reads the lock can use it",
                "remove it from the lock and give credentials through netrc or the environment",
            )


def _legacy_extra(pylock: Pylock) -> Iterator[Finding]:
    for index, marker in enumerate(pylock.environments or ()):
        if re.search(r"\bextra\b", str(marker)):
            yield _warn(
                f"environments[{index}]",
                "A5",
                f"environment {str(marker)!r} uses the legacy 'extra' variable",
                "environments describe platforms; move extras to package markers "
                "('name' in extras)",
            )


def _platform_of(tag_platform: str) -> str | None:
    if tag_platform == "any":
        return None
    return _FAMILY.get(tag_platform.split("_", 1)[0])


def _families(targets: list[str]) -> set[str]:
    return {name.split("-", 1)[0] for name in targets}


def _supported_targets(pylock: Pylock) -> list[tuple[str, dict[str, str]]]:
    """Every (target, environment) the lock's ``environments`` and ``requires-python`` allow."""
    requires = pylock.requires_python or SpecifierSet()
    pythons = {*_PYTHONS, *(s.version for s in requires if s.version.count(".") == 2)}
    out = []
    for name in PLATFORMS:
        for python in sorted(p for p in pythons if requires.contains(p, prereleases=True)):
            base = marker_environment(name, python)
            for implementation, short in _IMPLEMENTATIONS:
                env = {
                    **base,
                    "platform_python_implementation": implementation,
                    "implementation_name": short,
                }
                if pylock.environments and not any(
                    _safe_eval(m, env, "requirement") for m in pylock.environments
                ):
                    continue
                out.append((name, env))
    return out


def _safe_eval(marker: Marker, env: dict[str, str], context: str) -> bool:
    try:
        return marker.evaluate(env, context=context)  # type: ignore[arg-type]
    except (UndefinedComparison, UndefinedEnvironmentName):
        return False


def _one_platform_wheels(
    pylock: Pylock, targets: list[tuple[str, dict[str, str]]]
) -> Iterator[Finding]:
    declared = _families([name for name, _ in targets])
    if not pylock.environments or len(declared) < 2:
        return
    covered: set[str] = set()
    for package in pylock.packages:
        for wheel in package.wheels or ():
            _, _, _, tags = parse_wheel_filename(wheel.filename)
            covered.update(f for f in (_platform_of(t.platform) for t in tags) if f)
    if len(covered) == 1:
        (only,) = covered
        missing = ", ".join(sorted(declared - covered))
        yield _warn(
            "environments",
            "A3",
            f"the lock declares environments on {', '.join(sorted(declared))} but every "
            f"platform-specific wheel is for {only}; installs on {missing} need sdists or fail",
            "lock for every declared platform (package locking) or narrow environments",
        )


def _unselectable(pylock: Pylock, targets: list[tuple[str, dict[str, str]]]) -> Iterator[Finding]:
    all_extras = set(pylock.extras or ())
    all_groups = set(pylock.dependency_groups or ()) | set(pylock.default_groups or ())
    choices = [(set(), set(pylock.default_groups or ())), (all_extras, all_groups), (set(), set())]
    for index, package in enumerate(pylock.packages):
        if package.marker is None:
            continue
        selectable = any(
            _safe_eval(
                package.marker,
                {**env, "extras": extras, "dependency_groups": groups},  # type: ignore[dict-item]
                "lock_file",
            )
            for _, env in targets
            for extras, groups in choices
        )
        if not selectable:
            yield _warn(
                f"packages[{index}].marker",
                "A6",
                f"{package.name}: no environment this lock supports selects it "
                f"(marker {str(package.marker)!r})",
                "drop the entry, or widen environments / requires-python if it is needed",
            )


def audit(pylock: Pylock) -> list[Finding]:
    """Every lint finding for ``pylock``."""
    targets = _supported_targets(pylock)
    return [
        *_hashes(pylock),
        *_sdist_only(pylock),
        *_one_platform_wheels(pylock, targets),
        *_credentials(pylock),
        *_legacy_extra(pylock),
        *_unselectable(pylock, targets),
    ]
