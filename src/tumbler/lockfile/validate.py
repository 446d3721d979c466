"""``tumbler validate``: every problem a lock has against the standard, in one run.

Loading gives the static findings (packaging's and tumbler's rules); for each target asked
for, the install-time selection adds its own (I1-I6); a ``verify`` step given by the
caller (``validate --verify-files``: :func:`tumbler.installing.verify.verify_files`) checks
the files each selection chose (I7).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tumbler.findings import has_errors, sort_findings, strict
from tumbler.lockfile.load import load
from tumbler.lockfile.select import select

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from pathlib import Path

    from packaging.pylock import Package

    from tumbler.env.targets import Target
    from tumbler.findings import Finding
    from tumbler.lockfile.artifacts import Artifact
    from tumbler.lockfile.source import LockSource

    #: Checks the files a selection chose: (chosen, package index by id, lock directory).
    Verify = Callable[
        [Iterable[tuple[Package, Artifact]], dict[int, int], Path | None], list[Finding]
    ]

__all__ = ["validate"]


def validate(
    source: LockSource,
    targets: Sequence[Target] = (),
    *,
    extras: Sequence[str] = (),
    groups: Sequence[str] | None = None,
    verify: Verify | None = None,
    warnings_are_errors: bool = False,
) -> tuple[Finding, ...]:
    """Every finding for the lock in ``source``, sorted (an unreadable file raises
    :class:`~tumbler.errors.InputError`). Selections run only for a lock without errors."""
    loaded = load(source)
    findings = list(loaded.findings)
    if loaded.lock is not None and not has_errors(loaded.findings):
        pylock = loaded.lock.pylock
        index_of = {id(p): i for i, p in enumerate(pylock.packages)}
        base = source.path.parent if source.path else None
        for target in targets:
            selection = select(pylock, target, extras=extras, dependency_groups=groups)
            findings.extend(selection.findings)
            if verify is not None:
                findings.extend(verify(selection.chosen, index_of, base))
    result = sort_findings(findings)
    return strict(result) if warnings_are_errors else result
