"""Supply-chain policy over any lock, whichever tool wrote it: findings as values.

- **C1** a locked file was uploaded after the cut-off (a cooldown: ``--min-age 7d``, a
  lock's recorded ``exclude-newer``), and its package is not exempt;
- **C2** a locked file has no ``upload-time``, so its age cannot be told (a warning;
  an error under ``--strict``);
- **P1** an entry pinned to one index (the lock's recorded pins, the project's) names
  another;
- **P2** the lock's packages come from several indexes and the lock pins none of them
  to its index (``[tool.tumbler] package-indexes``): a name could be taken over from
  another index (dependency confusion).

What needs the index itself (a file its index no longer lists, P1 too; a release gone,
P3; a file yanked since, Y1) is :mod:`tumbler.index.standing`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tumbler.findings import Finding, Severity

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from datetime import datetime

    from packaging.pylock import Package, PackageSdist, PackageWheel, Pylock

__all__ = ["cooldown_findings", "index_findings"]


def _files(package: Package, index: int) -> Iterator[tuple[str, PackageWheel | PackageSdist]]:
    """Each distribution file of ``package`` (the ``index``-th entry) with its place."""
    for number, wheel in enumerate(package.wheels or ()):
        yield f"packages[{index}].wheels[{number}]", wheel
    if package.sdist is not None:
        yield f"packages[{index}].sdist", package.sdist


def _moment(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _name(file: PackageWheel | PackageSdist) -> str:
    try:
        return file.filename
    except Exception:  # packaging raises its own error for a nameless file
        return "a file"


def cooldown_findings(
    pylock: Pylock, cutoff: datetime, exempts: Callable[[str], bool] | None = None
) -> list[Finding]:
    """C1 for each file uploaded after ``cutoff`` (its package not exempt), C2 for each
    file without an upload time."""
    found = []
    for index, package in enumerate(pylock.packages):
        if exempts is not None and exempts(package.name):
            continue
        label = f"{package.name} {package.version}" if package.version else str(package.name)
        for place, file in _files(package, index):
            uploaded = file.upload_time
            if uploaded is None:
                found.append(
                    Finding(
                        location=place,
                        rule="C2",
                        severity=Severity.WARNING,
                        message=f"{label}: {_name(file)} has no upload-time; its age "
                        "cannot be told",
                        hint="lock with a tool that records upload-time (the index's "
                        "JSON API gives it), or exempt the package",
                    )
                )
            elif uploaded > cutoff:
                found.append(
                    Finding(
                        location=place,
                        rule="C1",
                        severity=Severity.ERROR,
                        message=f"{label}: {_name(file)} was uploaded {_moment(uploaded)}, "
                        f"after the cut-off {_moment(cutoff)}",
                        hint="lock again to take an older release, or exempt the package "
                        "(min-release-age-exempt)",
                    )
                )
    return found


def index_findings(pylock: Pylock, pins: Mapping[str, str] | None = None) -> list[Finding]:
    """P1 for each entry pinned (by name or glob pattern: ``pins``, the lock's recorded
    pins and the project's) to an index other than the one it names: a name taken from
    the wrong index, as a dependency-confusion attack would have it; P2 once when the
    lock's packages come from several indexes and nothing is pinned."""
    from packaging.utils import NormalizedName

    from tumbler.project.indexes import IndexConfig

    found = []
    config = IndexConfig(
        (), package_indexes={NormalizedName(k): v for k, v in (pins or {}).items()}
    )
    for index, package in enumerate(pylock.packages):
        pin = config.pinned(package.name) if pins else None
        if pin is None or package.index is None:
            continue
        if str(package.index).rstrip("/") != pin.rstrip("/"):
            found.append(
                Finding(
                    location=f"packages[{index}]",
                    rule="P1",
                    severity=Severity.ERROR,
                    message=f"{package.name} {package.version} comes from {package.index}, but "
                    f"it is pinned to {pin}",
                    hint="lock again: a pinned name must only ever come from its index "
                    "(another index serving it may be an attack)",
                )
            )
    indexes = sorted({str(p.index).rstrip("/") for p in pylock.packages if p.index})
    if len(indexes) < 2 or pins:
        return found
    return [
        *found,
        Finding(
            location="packages",
            rule="P2",
            severity=Severity.WARNING,
            message=f"packages come from {len(indexes)} indexes ({', '.join(indexes)}) "
            "and none is pinned to its index",
            hint="pin private names to their index ([tool.tumbler.package-index]) so no "
            "other index can serve them",
        ),
    ]
