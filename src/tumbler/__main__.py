"""``python -m tumbler``."""

from __future__ import annotations

from tumbler.cli.app import console

console()
