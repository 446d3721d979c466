"""I/O edge: carry out a plan on an environment, all or nothing.

Every wheel is ready and verified before this runs. First the distributions being
replaced or removed are moved into a stash beside the environment
(:class:`~tumbler.installing.installed.Stash`); then each wheel is installed with ``installer``
(RECORD, ``INSTALLER``, entry-point scripts, ``direct_url.json`` for direct sources),
several at once. If anything fails, every file written is deleted and the stash is
put back, so the environment is as it was; on success the stash is dropped.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from installer.exceptions import InstallerError

from tumbler.errors import TumblerError
from tumbler.installing.installed import Stash, prune
from tumbler.installing.unpack import Staged, install_staged

if TYPE_CHECKING:
    from tumbler.env.interpreter import Interpreter
    from tumbler.installing.plan import Plan, Step

__all__ = ["InstallFailed", "apply_plan"]

#: Written to each installed distribution's INSTALLER file.
INSTALLER_NAME = b"tumbler\n"
_WORKERS = min(8, (os.cpu_count() or 2) * 2)


class InstallFailed(TumblerError):
    """A wheel could not be installed; the environment was put back as it was (exit 2)."""


@dataclass(frozen=True, slots=True)
class Ready:
    """A step with its wheel staged in the cache and the metadata to add."""

    step: Step
    staged: Staged
    direct_url: dict[str, Any] | None


def _install_one(
    ready: Ready, interpreter: Interpreter, levels: tuple[int, ...], written: list[str], mode: str
) -> None:
    extra = {"INSTALLER": INSTALLER_NAME}
    if ready.direct_url is not None:
        extra["direct_url.json"] = json.dumps(ready.direct_url, sort_keys=True).encode()
    try:
        install_staged(ready.staged, interpreter, extra, levels=levels, written=written, mode=mode)
    except (InstallerError, OSError, ValueError, KeyError) as error:
        raise InstallFailed(
            f"cannot install {ready.step.name} {ready.step.version or ''} from "
            f"{ready.staged.manifest.get('wheel', 'its wheel')}: {error}; "
            "the environment was left as it was"
        ) from None


def _undo(paths: list[str], keep: tuple[Path, ...]) -> None:
    """Delete every file written, then the directories that leaves empty."""
    parents: set[Path] = set()
    for text in reversed(paths):
        with contextlib.suppress(OSError):
            Path(text).unlink()
        parents.add(Path(text).parent)
    prune(parents, keep)


def apply_plan(
    plan: Plan,
    ready: list[Ready],
    interpreter: Interpreter,
    *,
    compile_bytecode: bool = False,
    link_mode: str = "auto",
) -> None:
    """Replace, remove and install as ``plan`` says, files put in place by ``link_mode``
    (:data:`tumbler.installing.unpack.LINK_MODES`); undo everything on failure."""
    from tumbler.installing.plan import Action

    keep = (interpreter.prefix, *(Path(p) for p in interpreter.scheme.values()))
    stash_root = Path(tempfile.mkdtemp(prefix=".tumbler-stash-", dir=interpreter.site_dirs[0]))
    stash = Stash(stash_root, keep)
    written: list[list[str]] = [[] for _ in ready]  # one list per wheel: no shared appends
    levels = (0,) if compile_bytecode else ()
    try:
        for step in plan.of(Action.UPGRADE, Action.DOWNGRADE, Action.REINSTALL, Action.REMOVE):
            if step.installed is not None:
                stash.remove(step.installed)
        if ready:
            with ThreadPoolExecutor(min(_WORKERS, len(ready))) as pool:
                futures = [
                    pool.submit(_install_one, r, interpreter, levels, paths, link_mode)
                    for r, paths in zip(ready, written, strict=True)
                ]
                for future in futures:
                    future.result()  # the pool waits for every wheel before leaving
    except BaseException:
        _undo([p for paths in written for p in paths], keep)
        stash.restore()
        raise
    stash.clear()
