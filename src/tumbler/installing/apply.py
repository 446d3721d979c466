"""I/O edge: carry out a plan on an environment, all or nothing.

Every wheel is ready and verified before this runs. First the distributions being
replaced or removed are moved into a stash beside the environment
(:class:`~tumbler.installing.installed.Stash`); then each wheel is installed with ``installer``
(RECORD, ``INSTALLER``, entry-point scripts, ``direct_url.json`` for direct sources),
several at once. If anything fails, every file written is deleted and the stash is
put back, so the environment is as it was; on success the stash is dropped. Bytecode
(``--compile``) is written last, by the environment's own interpreter (its cache tag and
magic number, not tumbler's), a few processes at once; a module that does not compile
(Python 2 syntax in a bundled test file) is skipped, as pip skips it.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
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
#: Threads putting wheels in place: one per core. Each file is a system call between two
#: short stretches of Python, so more threads than cores only fight over the GIL (medium,
#: warm, hard links, 2 cores: 8 threads 0.44-0.52 s, 2 threads 0.33-0.46 s; copies the
#: same way).
_WORKERS = max(2, min(8, os.cpu_count() or 2))


class InstallFailed(TumblerError):
    """A wheel could not be installed; the environment was put back as it was (exit 2)."""


@dataclass(frozen=True, slots=True)
class Ready:
    """A step with its wheel staged in the cache and the metadata to add."""

    step: Step
    staged: Staged
    direct_url: dict[str, Any] | None


def _install_one(ready: Ready, interpreter: Interpreter, written: list[str], mode: str) -> None:
    extra = {"INSTALLER": INSTALLER_NAME}
    if ready.direct_url is not None:
        extra["direct_url.json"] = json.dumps(ready.direct_url, sort_keys=True).encode()
    try:
        install_staged(ready.staged, interpreter, extra, written=written, mode=mode)
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
    try:
        for step in plan.of(Action.UPGRADE, Action.DOWNGRADE, Action.REINSTALL, Action.REMOVE):
            if step.installed is not None:
                stash.remove(step.installed)
        if ready:
            with ThreadPoolExecutor(min(_WORKERS, len(ready))) as pool:
                futures = [
                    pool.submit(_install_one, ready[i], interpreter, written[i], link_mode)
                    for i in _largest_first(ready)
                ]
                for future in futures:
                    future.result()  # the pool waits for every wheel before leaving
    except BaseException:
        _undo([p for paths in written for p in paths], keep)
        stash.restore()
        raise
    stash.clear()
    if compile_bytecode:
        compile_modules(interpreter, [p for paths in written for p in paths])


def _largest_first(ready: list[Ready]) -> list[int]:
    """Indexes of ``ready``, the wheels with the most files first: the threads then end
    together, not one of them left with a large wheel started last."""
    return sorted(range(len(ready)), key=lambda i: -len(ready[i].staged.manifest["files"]))


#: Modules per bytecode-compiling process, at least (a process costs ~20 ms to start).
_COMPILE_BATCH = 200


def compile_modules(interpreter: Interpreter, paths: list[str]) -> None:
    """Bytecode for each ``.py`` file of ``paths`` in the environment's import directories,
    written by ``interpreter`` itself (``compileall``, optimization level 0), in up to one
    process per core; what does not compile is left to be compiled (or not) on import."""
    # The same strings the link step wrote (os.path, not pathlib: thousands of paths).
    roots = tuple(f"{os.path.abspath(p)}{os.sep}" for p in interpreter.site_dirs)  # noqa: PTH100
    modules = [p for p in paths if p.endswith(".py") and p.startswith(roots)]
    if not modules:
        return
    count = max(1, min(os.cpu_count() or 2, len(modules) // _COMPILE_BATCH))
    command = [interpreter.executable, "-I", "-m", "compileall", "-q", "-q", "-i", "-"]
    processes = []
    try:
        for part in range(count):
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)  # fmt: skip
            processes.append(process)
            assert process.stdin is not None
            with contextlib.suppress(OSError):  # it stopped: those stay uncompiled
                process.stdin.write("\n".join(modules[part::count]).encode() + b"\n")
                process.stdin.close()
    finally:
        for process in processes:
            process.wait()
