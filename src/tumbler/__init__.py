"""tumbler: one tool for the whole life of a PEP 751 lock file (``pylock.toml``)."""

from __future__ import annotations

from tumbler.errors import TumblerError

__version__ = "0.1.0"

__all__ = ["TumblerError", "__version__"]
