"""Each locked file against what its index says today (``tumbler audit --index``).

- **P1** a locked file its package's recorded index does not list (no file of the
  release with that sha256 there, or the same file served from another URL): the lock
  names an index its files did not come from, or the file was replaced;
- **Y1** a locked file the index has yanked since (PEP 592), with the reason it gives;
- **P3** the release is not on its recorded index at all.

The comparison is pure (:func:`standing_findings`); the caller passes a lookup that reads
the index (through the cache, ``--offline`` honoured).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tumbler.findings import Finding, Severity

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock

    from tumbler.index.pages import IndexFile

__all__ = ["standing_findings"]


def _files(package: Package, index: int) -> Iterator[tuple[str, PackageWheel | PackageSdist]]:
    for number, wheel in enumerate(package.wheels or ()):
        yield f"packages[{index}].wheels[{number}]", wheel
    if package.sdist is not None:
        yield f"packages[{index}].sdist", package.sdist


def _release(package: Package, index: int, listed: Sequence[IndexFile]) -> Iterator[Finding]:
    """P1 and Y1 for one entry, against the files its index lists."""
    by_hash = {f.hashes.get("sha256"): f for f in listed if f.hashes.get("sha256")}
    label = f"{package.name} {package.version}"
    for place, file in _files(package, index):
        digest = file.hashes.get("sha256")
        found = by_hash.get(digest)
        name = file.name or file.url or "a file"
        if found is None:
            yield Finding(
                location=place,
                rule="P1",
                severity=Severity.ERROR,
                message=f"{label}: {name} (sha256 {digest}) is not a file {package.index} "
                "lists for this release",
                hint="lock again from the package's index; a file replaced under the same "
                "name is a reason to look closer",
            )
            continue
        if file.url is not None and found.url != file.url:
            yield Finding(
                location=place,
                rule="P1",
                severity=Severity.ERROR,
                message=f"{label}: {name} is locked at {file.url}; its index serves it "
                f"at {found.url}",
                hint="lock again so the file comes from the index the lock names",
            )
        if found.yanked is not None:
            reason = f": {found.yanked}" if found.yanked else ""
            yield Finding(
                location=place,
                rule="Y1",
                severity=Severity.ERROR,
                message=f"{label}: {name} has been yanked{reason}",
                hint=f"move off this release (tumbler lock --upgrade-package {package.name})",
            )


def standing_findings(
    pylock: Pylock, lookup: Callable[[str, str, str], Sequence[IndexFile]]
) -> list[Finding]:
    """P1, P3 and Y1 for every entry that records its index and version."""
    found: list[Finding] = []
    for index, package in enumerate(pylock.packages):
        if package.index is None or package.version is None:
            continue
        listed = lookup(str(package.index), package.name, str(package.version))
        if not listed:
            found.append(
                Finding(
                    location=f"packages[{index}]",
                    rule="P3",
                    severity=Severity.ERROR,
                    message=f"{package.name} {package.version} is not on its index {package.index}",
                    hint="the release was removed or the lock names another index; lock again",
                )
            )
            continue
        found.extend(_release(package, index, listed))
    return found
