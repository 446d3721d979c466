"""``python -m tumbler``."""

from __future__ import annotations

from tumbler.cli.entry import console

console()
