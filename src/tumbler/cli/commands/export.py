"""`tumbler export --format FORMAT`: a lock in a format other tools read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tumbler.cli.common import EXIT_OK, emit, names

if TYPE_CHECKING:
    import argparse
    from pathlib import Path

__all__ = ["arguments", "run"]


def arguments(parser: argparse.ArgumentParser) -> None:
    """``export``'s options."""
    from tumbler.formats.registry import EXPORTERS

    parser.add_argument(
        "--format", required=True, choices=sorted(EXPORTERS), help="the format to write"
    )
    parser.add_argument(
        "--lock", metavar="LOCK", default="pylock.toml", help="the lock (default: ./pylock.toml)"
    )
    parser.add_argument("--extra", action="append", metavar="NAME", help="select an extra")
    parser.add_argument(
        "--group",
        action="append",
        metavar="NAME",
        help="select a dependency group (default: the lock's default-groups)",
    )
    parser.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    parser.add_argument(
        "--reproducible",
        action="store_true",
        help="serial numbers and times from the lock itself: the same lock, the same bytes",
    )


def run(args: argparse.Namespace) -> int:
    """Write the lock's selection for the chosen extras and groups in ``--format``."""
    from pathlib import Path

    from tumbler.errors import UsageError
    from tumbler.formats.base import ExportOptions
    from tumbler.formats.registry import exporter
    from tumbler.lockfile.load import load_valid
    from tumbler.lockfile.source import read_source

    loaded = load_valid(read_source(args.lock))
    assert loaded.lock is not None
    pylock = loaded.lock.pylock
    extras, groups = tuple(names(args.extra)), names(args.group)
    offered = (
        {str(e) for e in pylock.extras or ()},
        {str(g) for g in pylock.dependency_groups or ()},
    )
    for asked, known, kind in ((extras, offered[0], "extra"), (groups, offered[1], "group")):
        unknown = sorted(set(asked) - known)
        if unknown:
            raise UsageError(
                f"the lock has no {kind} {', '.join(map(repr, unknown))} "
                f"(it offers: {', '.join(sorted(known)) or 'none'})"
            )
    project_name, project_version = _project(loaded.lock.path)
    options = ExportOptions(
        extras=extras,
        groups=tuple(groups) if args.group else None,
        project_name=project_name,
        project_version=project_version,
        reproducible=args.reproducible,
        context=_context(),
        lock_path=_manifest_path(args.lock),
    )
    text = exporter(args.format).export(pylock, options)
    if args.output is None:
        emit(text.rstrip("\n"))
    else:
        from tumbler.lockfile.atomic import write_atomic

        write_atomic(Path(args.output), text)
    return EXIT_OK


#: The environment variables of a GitHub Actions job an export may name (``github``).
_CONTEXT = (
    "GITHUB_SHA",
    "GITHUB_REF",
    "GITHUB_RUN_ID",
    "GITHUB_WORKFLOW",
    "GITHUB_JOB",
    "GITHUB_SERVER_URL",
    "GITHUB_REPOSITORY",
)


def _context() -> dict[str, str]:
    """The run's surroundings an exporter may name, read here so exporters stay pure."""
    import os

    return {key: os.environ[key] for key in _CONTEXT if os.environ.get(key)}


def _project(lock: Path | None) -> tuple[str | None, str | None]:
    """``[project] name`` and ``version`` of the ``pyproject.toml`` beside ``lock``, when
    it has them (an unreadable file: neither)."""
    import tomllib

    if lock is None:
        return None, None
    try:
        table = tomllib.loads((lock.parent / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None, None
    project = table.get("project")
    if not isinstance(project, dict):
        return None, None
    name, version = project.get("name"), project.get("version")
    return (
        name if isinstance(name, str) else None,
        version if isinstance(version, str) and isinstance(name, str) else None,
    )


def _manifest_path(lock: str) -> str:
    """The lock's path as a manifest names it: relative to ``GITHUB_WORKSPACE`` when the
    lock is inside it, else as given (with ``/``)."""
    import os
    from pathlib import Path

    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace and lock != "-":
        try:
            return Path(lock).resolve().relative_to(Path(workspace).resolve()).as_posix()
        except ValueError:
            pass
    return Path(lock).as_posix() if lock != "-" else "pylock.toml"
