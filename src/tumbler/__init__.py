"""tumbler: one tool for the whole life of a PEP 751 lock file (``pylock.toml``).

The library face, for use from Python; each call is what the command of the same name
does, with the same defaults, and raises :class:`TumblerError` (one message, an
``exit_code``) where the command prints one line and exits 2::

    import tumbler

    outcome = tumbler.lock("path/to/project")               # universal unless the lock says
    result = tumbler.check("path/to/project")               # result.ok, result.inputs, ...
    findings = tumbler.validate("pylock.toml", environments=["linux-x86_64-3.12"])
    changes = tumbler.diff("old/pylock.toml", "pylock.toml")  # or "HEAD~1:pylock.toml"
    lock = tumbler.load("pylock.toml")                       # lock.pylock: packaging's Pylock
    done = tumbler.install("pylock.toml", venv=".venv", extras=["viz"])
    text = tumbler.export("pylock.toml", "requirements.txt")  # a registered format

Importing :mod:`tumbler` imports nothing else: each call imports the stage it runs.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself costs 10 ms of every start-up
if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from pathlib import Path
    from typing import Any

    from tumbler.errors import TumblerError
    from tumbler.findings import Finding
    from tumbler.installing.pipeline import InstallOutcome
    from tumbler.lockfile.diff import LockDiff
    from tumbler.lockfile.model import Lock
    from tumbler.resolver.check import CheckResult
    from tumbler.resolver.workflow import LockOptions, LockOutcome
    from tumbler.version import __version__

__all__ = [
    "TumblerError",
    "__version__",
    "check",
    "diff",
    "export",
    "install",
    "load",
    "lock",
    "validate",
]

#: Names served lazily (PEP 562): name → module.
_LAZY = {"TumblerError": "tumbler.errors", "__version__": "tumbler.version"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'tumbler' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return list(__all__)


def load(path: str | Path) -> Lock:
    """The valid lock at ``path`` (a file, ``-`` or ``REV:path``); an invalid one raises
    :class:`~tumbler.errors.LockInvalidError` with its findings."""
    from tumbler.lockfile.load import load_lock
    from tumbler.lockfile.source import read_source

    return load_lock(read_source(str(path)))


def validate(
    path: str | Path,
    *,
    environments: Sequence[str] = (),
    extras: Sequence[str] = (),
    groups: Sequence[str] | None = None,
    strict: bool = False,
) -> tuple[Finding, ...]:
    """Every finding against the standard for the lock at ``path`` (``tumbler validate``);
    ``environments`` (``host``, ``linux-x86_64-3.12``) also run the install-time
    selection with these ``extras`` and ``groups``. Errors have
    ``severity is Severity.ERROR``."""
    from tumbler.env.targets import parse_target
    from tumbler.lockfile.source import read_source
    from tumbler.lockfile.validate import validate as validate_source

    targets = [parse_target(spec) for spec in environments]
    return validate_source(
        read_source(str(path)), targets, extras=extras, groups=groups, warnings_are_errors=strict
    )


def diff(old: str | Path, new: str | Path) -> LockDiff:
    """What changed from the lock ``old`` to ``new`` (files, ``-`` or ``REV:path``)."""
    from tumbler.lockfile.diff import diff_locks
    from tumbler.lockfile.load import load_valid
    from tumbler.lockfile.source import read_source

    before = load_valid(read_source(str(old)))
    after = load_valid(read_source(str(new)), reuse=before)
    assert before.lock is not None and after.lock is not None
    return diff_locks(before.lock.pylock, after.lock.pylock)


def _lock_options(project: str | Path, settings: dict[str, Any]) -> LockOptions:
    from pathlib import Path

    from tumbler.project.pyproject import parse_cutoff
    from tumbler.resolver.workflow import LockOptions

    exclude_newer = settings.pop("exclude_newer", None)
    if isinstance(exclude_newer, str):
        exclude_newer = parse_cutoff(exclude_newer, "exclude_newer")
    output = settings.pop("output", None)
    return LockOptions(
        project=Path(project),
        output=None if output is None else Path(output),
        exclude_newer=exclude_newer,
        **settings,
    )


def lock(
    project: str | Path = ".",
    *,
    output: str | Path | None = None,
    target: str | None = None,
    universal: bool = False,
    environments: Sequence[str] = (),
    index_url: str | None = None,
    exclude_newer: datetime | str | None = None,
    upgrade: bool = False,
    offline: bool = False,
) -> LockOutcome:
    """Lock ``project`` (a directory, ``pyproject.toml`` or requirements file) and write
    the lock if it changed (``tumbler lock``): its mode is ``target``
    (``host``, ``linux-x86_64-3.12``), else ``universal`` / ``environments``, else the
    existing lock's, else universal."""
    from tumbler.resolver.workflow import run_lock

    return run_lock(
        _lock_options(
            project,
            {
                "output": output,
                "target": target,
                "universal": universal,
                "environments": tuple(environments),
                "index_url": index_url,
                "exclude_newer": exclude_newer,
                "upgrade": upgrade,
                "offline": offline,
            },
        )
    )


def check(
    project: str | Path = ".",
    *,
    output: str | Path | None = None,
    index_url: str | None = None,
    exclude_newer: datetime | str | None = None,
    offline: bool = False,
    full: bool = False,
) -> CheckResult:
    """Whether the lock of ``project`` is what locking gives now (``tumbler lock
    --check``): ``result.ok``, else the input and content drift, one line each. ``full``:
    always compare with a fresh lock from the index (``--check --full``)."""
    from tumbler.resolver.workflow import run_check

    return run_check(
        _lock_options(
            project,
            {
                "output": output,
                "index_url": index_url,
                "exclude_newer": exclude_newer,
                "offline": offline,
                "full": full,
            },
        )
    )


def install(
    lock: str | Path = "pylock.toml",
    *,
    venv: str | Path | None = None,
    python: str | None = None,
    extras: Sequence[str] = (),
    groups: Sequence[str] = (),
    sync: bool = False,
    dry_run: bool = False,
    offline: bool = False,
) -> InstallOutcome:
    """Install (``sync``: and remove what the lock does not select) the lock at ``lock``
    into ``venv`` or ``python``'s environment (``tumbler install``); a refusal raises
    :class:`~tumbler.installing.pipeline.InstallRefused` with its findings."""
    from pathlib import Path

    from tumbler.installing.pipeline import InstallOptions, run_install

    return run_install(
        InstallOptions(
            lock=Path(lock),
            venv=None if venv is None else Path(venv),
            python=python,
            extras=tuple(extras),
            groups=tuple(groups),
            sync=sync,
            dry_run=dry_run,
            offline=offline,
        )
    )


def export(
    lock: str | Path,
    format: str,
    *,
    extras: Sequence[str] = (),
    groups: Sequence[str] | None = None,
) -> str:
    """The lock at ``lock`` in another tool's format (a name of
    :data:`tumbler.formats.registry.EXPORTERS`)."""
    from tumbler.formats.base import ExportOptions
    from tumbler.formats.registry import exporter

    chosen = exporter(format)
    return chosen.export(load(lock).pylock, ExportOptions(extras=extras, groups=groups))
