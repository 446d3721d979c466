"""The ``tumbler`` command: a lazy command table, the one place errors become exit codes.

Each command is a module of :mod:`tumbler.cli.commands` with ``arguments(parser)`` and
``run(args) -> int``; only the module of the command being run is imported (as pip's
``commands_dict``), so ``tumbler --version`` and every command start light. Exit codes:
0 ok, 1 findings or differences, 2 usage or input error. No domain logic lives here; a
:class:`~tumbler.errors.TumblerError` becomes one line on stderr.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from typing import TYPE_CHECKING, NoReturn

from tumbler.cli.common import EXIT_ERROR
from tumbler.errors import LockInvalidError, TumblerError
from tumbler.findings import Finding
from tumbler.version import __version__

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import ModuleType

__all__ = ["COMMANDS", "console", "main"]

#: Command → (the module that runs it, its one-line summary), in the order ``--help``
#: lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "lock": ("lock", "resolve a project into pylock.toml, or check that it is up to date"),
    "add": ("edit", "add requirements to pyproject.toml and lock"),
    "remove": ("edit", "remove requirements from pyproject.toml and lock"),
    "validate": ("validate", "check lock files against the standard (PEP 751)"),
    "audit": ("audit", "lint a lock for what a reviewer should see"),
    "format": ("format", "rewrite locks in tumbler's canonical layout"),
    "export": ("export", "write a lock in another format (requirements.txt with hashes)"),
    "import": ("import_", "another tool's lock as pylock.toml, every version and hash kept"),
    "update": ("update", "re-lock taking newer versions, with a review summary"),
    "diff": ("diff", "what changed between two locks"),
    "why": ("graph", "the requirement chains that bring a package into the lock"),
    "tree": ("graph", "the lock's packages as a tree from what the project asks for"),
    "install": (
        "install",
        "install a lock into an environment (no resolution, every file verified)",
    ),
    "sync": ("install", "install a lock and remove every distribution it does not select"),
    "surface": (
        "surface",
        "show a package's typed public API surface, capability tokens and what was skipped",
    ),
    "completion": ("completion", "print the shell completion script (bash, zsh or fish)"),
}


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(f"tumbler.cli.commands.{COMMANDS[name][0]}")


def _parser(argv: Sequence[str], *, every: bool = False) -> argparse.ArgumentParser:
    """The parser, with the arguments of the one command ``argv`` names (the others are
    listed by name and summary only); ``every``: all commands' (shell completion)."""
    parser = argparse.ArgumentParser(
        prog="tumbler",
        description="Lock, check, diff, validate, audit and install PEP 751 lock files.",
    )
    parser.add_argument("--version", action="version", version=f"tumbler {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (_, summary) in COMMANDS.items():
        sub = commands.add_parser(name, help=summary)
        if name == chosen or every:
            module = _command_module(name)
            module.arguments(sub)
            sub.set_defaults(run=module.run)
    return parser


#: The longest line of an error message printed whole; a longer one (a 5 MB string from
#: a file) keeps its head and tail.
_LONGEST = 600


def _short(message: str) -> str:
    """``message`` with each over-long line cut in the middle, saying how much was cut."""
    lines = []
    for line in message.splitlines() or [""]:
        cut = len(line) - _LONGEST
        short = f"{line[: _LONGEST - 100]} … ({cut} characters left out) … {line[-100:]}"
        lines.append(short if cut > 0 else line)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run tumbler with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    if "_ARGCOMPLETE" in os.environ:  # the shell asks what may come next (argcomplete)
        import argcomplete

        argcomplete.autocomplete(_parser((), every=True))
    if not arguments:
        print(_parser(arguments).format_help(), end="")
        return 0
    args = _parser(arguments).parse_args(arguments)
    # A short-lived command builds large acyclic graphs (a 2,000-package lock is ~10^6
    # objects); the cycle collector only slows that down. Reference counting still frees.
    collecting = gc.isenabled()
    gc.disable()
    try:
        code: int = args.run(args)
    except LockInvalidError as error:
        print(f"tumbler: error: {_short(str(error))}", file=sys.stderr)
        for finding in error.findings[:5]:
            if isinstance(finding, Finding):
                print(
                    f"  {finding.location or '(file)'}: {finding.rule}: {finding.message}",
                    file=sys.stderr,
                )
        return error.exit_code
    except TumblerError as error:
        print(f"tumbler: error: {_short(str(error))}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("tumbler: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except Exception as error:  # a bug: one line and exit 2, never a traceback
        if os.environ.get("TUMBLER_DEBUG"):
            raise
        where = error.__traceback__
        while where is not None and where.tb_next is not None:
            where = where.tb_next
        place = (
            f" at {where.tb_frame.f_code.co_filename.rpartition(os.sep)[2]}:{where.tb_lineno}"
            if where is not None
            else ""
        )
        print(
            f"tumbler: internal error: {type(error).__name__}: {str(error)[:200]}{place} "
            "(a bug: please report it; TUMBLER_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        return EXIT_ERROR
    finally:
        if collecting:
            gc.enable()
    return code


def console() -> NoReturn:
    """The ``tumbler`` command: :func:`main`, then exit without waiting for speculative
    fetches the finished command no longer needs (see :mod:`tumbler.leaving`)."""
    from tumbler.leaving import leave

    gc.disable()  # for good: main() turns it back on only if it found it on
    leave(main())


if __name__ == "__main__":
    console()
