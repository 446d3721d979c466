"""`tumbler completion SHELL`: the script that gives a shell tab completion for tumbler.

The script comes from argcomplete: the shell asks tumbler itself what may follow what is
typed (commands, options, their choices), so it always matches the installed version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tumbler.cli.common import EXIT_OK, emit

if TYPE_CHECKING:
    import argparse

__all__ = ["arguments", "run"]

#: The shells argcomplete writes a script for.
SHELLS = ("bash", "zsh", "fish")


def arguments(parser: argparse.ArgumentParser) -> None:
    """``completion``'s argument."""
    parser.add_argument(
        "shell",
        choices=SHELLS,
        help='the shell; e.g. eval "$(tumbler completion bash)" in ~/.bashrc, '
        "tumbler completion fish > ~/.config/fish/completions/tumbler.fish",
    )


def run(args: argparse.Namespace) -> int:
    """Print the completion script for ``args.shell``."""
    from argcomplete.shell_integration import shellcode

    emit(shellcode(["tumbler"], shell=args.shell).rstrip("\n"))
    return EXIT_OK
