"""The ``tumbler`` executable: a kept ``lock --check`` verdict first, else the app.

A check whose verdict :mod:`tumbler.cli.memo` kept is answered here, before the app and
its imports load; any other command, and a check whose inputs moved, runs
:func:`tumbler.cli.app.main` (a check while the memo watches what it reads).
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

__all__ = ["console"]


def console() -> NoReturn:
    """Run the command ``sys.argv`` names and exit with its code."""
    from tumbler.cli import memo

    argv = sys.argv[1:]
    if not memo.applies(argv):
        from tumbler.cli.app import console as run

        run()
    try:
        kept = memo.recall(argv)
    except Exception:  # a damaged entry only loses the shortcut
        kept = None
    if kept is not None:
        code, out, err = kept
        sys.stdout.write(out)
        sys.stderr.write(err)
        sys.stdout.flush()
        sys.stderr.flush()
        raise SystemExit(code)
    from tumbler.cli.app import main
    from tumbler.leaving import leave

    with memo.Recorder(argv) as recorder:
        code = main(argv)
    try:
        recorder.keep(code)
    except Exception:  # keeping the verdict never changes the answer
        leave(code)
    leave(code)
