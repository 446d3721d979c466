"""The formats tumbler reads and writes: one line per format, naming its module.

A format's module (``tumbler.formats.<name>``) holds ``READER`` (a
:class:`~tumbler.formats.base.Reader`) and/or ``EXPORTER`` (an
:class:`~tumbler.formats.base.Exporter`); it is imported only when that format is asked
for, or when a file's format is being detected.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from tumbler.errors import UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from tumbler.formats.base import Exporter, Reader

__all__ = ["EXPORTERS", "READERS", "detect", "exporter", "reader"]

#: Format name → the module holding its ``READER``, in the order detection tries them.
READERS: dict[str, str] = {
    "uv.lock": "tumbler.formats.uv",
    "pdm.lock": "tumbler.formats.pdm",
    "poetry.lock": "tumbler.formats.poetry",
    "Pipfile.lock": "tumbler.formats.pipfile",
    "requirements.txt": "tumbler.formats.requirements",
}
#: Format name → the module holding its ``EXPORTER``.
EXPORTERS: dict[str, str] = {
    "requirements.txt": "tumbler.formats.requirements",
    "cyclonedx": "tumbler.formats.cyclonedx",
    "spdx": "tumbler.formats.spdx",
    "github": "tumbler.formats.github",
}


def reader(name: str) -> Reader:
    """The reader of format ``name``; a usage error naming the formats known."""
    module = READERS.get(name)
    if module is None:
        raise UsageError(f"no reader for {name!r}; formats: {_known(READERS)}")
    found: Reader = importlib.import_module(module).READER
    return found


def exporter(name: str) -> Exporter:
    """The exporter of format ``name``; a usage error naming the formats known."""
    module = EXPORTERS.get(name)
    if module is None:
        raise UsageError(f"no exporter for {name!r}; formats: {_known(EXPORTERS)}")
    found: Exporter = importlib.import_module(module).EXPORTER
    return found


def detect(path: Path, data: bytes) -> Reader | None:
    """The first reader that recognises ``data`` (the file at ``path``), if any."""
    for name in READERS:
        candidate = reader(name)
        if candidate.detect(path, data):
            return candidate
    return None


def _known(table: dict[str, str]) -> str:
    return ", ".join(table) or "none yet"
