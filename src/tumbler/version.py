"""tumbler's version, for the modules that name it (user agent, cache keys, ``--version``)."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
