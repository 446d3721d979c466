"""I/O edge: what an environment has installed, and taking a distribution out again.

Distributions are found by their ``.dist-info`` directories (the core metadata's
``Name`` and ``Version``, ``direct_url.json``, ``INSTALLER``). Removal follows the
``RECORD`` (the recording-installed-packages spec): every listed file, the bytecode
beside each ``.py``, then directories left empty. Files are *moved* into a stash so a
failed install can put them back.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

__all__ = ["Installed", "Stash", "find_installed", "prune", "record_paths", "record_problems"]


@dataclass(frozen=True, slots=True)
class Installed:
    """One distribution found in the environment."""

    name: NormalizedName
    display_name: str
    version: Version | None
    dist_info: Path
    #: ``direct_url.json``, parsed; None for a distribution installed from an index.
    direct_url: dict[str, Any] | None
    installer: str


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _one(dist_info: Path) -> Installed | None:
    try:
        with (dist_info / "METADATA").open("rb") as handle:
            headers = BytesHeaderParser().parse(handle)
    except OSError:
        return None
    name = headers.get("Name")
    if not name:
        return None
    try:
        version: Version | None = Version(str(headers.get("Version", "")))
    except InvalidVersion:
        version = None
    direct: dict[str, Any] | None = None
    text = _read_text(dist_info / "direct_url.json")
    if text is not None:
        try:
            loaded = json.loads(text)
        except ValueError:
            loaded = None
        direct = loaded if isinstance(loaded, dict) else None
    return Installed(
        name=canonicalize_name(str(name)),
        display_name=str(name),
        version=version,
        dist_info=dist_info,
        direct_url=direct,
        installer=(_read_text(dist_info / "INSTALLER") or "").strip(),
    )


def find_installed(site_dirs: tuple[Path, ...]) -> dict[str, Installed]:
    """Every distribution in ``site_dirs``, by normalized name (the first one found wins,
    as ``importlib.metadata`` would find it)."""
    out: dict[str, Installed] = {}
    for directory in site_dirs:
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if not entry.name.endswith(".dist-info") or not entry.is_dir():
                continue
            found = _one(Path(entry.path))
            if found is not None and found.name not in out:
                out[found.name] = found
    return out


def record_problems(installed: Installed) -> list[tuple[str, str]]:
    """Every file ``installed``'s RECORD lists with a hash that is missing or differs
    from it (hash or size), as (path as RECORD gives it, what is wrong); a missing or
    unreadable RECORD is one problem."""
    import base64
    import hashlib

    record = installed.dist_info / "RECORD"
    try:
        with record.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        return [(str(record.name), f"RECORD cannot be read: {error}")]
    base = installed.dist_info.parent
    out: list[tuple[str, str]] = []
    for row in rows:
        if len(row) < 3 or not row[1]:
            continue  # RECORD itself, bytecode: no hash to compare
        path, hash_text, size = row[0], row[1], row[2]
        algorithm, _, expected = hash_text.partition("=")
        try:
            hasher = hashlib.new(algorithm)
            with (base / path).open("rb") as stream:
                while chunk := stream.read(1 << 20):
                    hasher.update(chunk)
        except FileNotFoundError:
            out.append((path, "missing"))
            continue
        except (OSError, ValueError) as error:
            out.append((path, f"cannot be read: {error}"))
            continue
        found = base64.urlsafe_b64encode(hasher.digest()).decode().rstrip("=")
        if found != expected:
            actual = (base / path).stat().st_size
            changed = f"size {actual}, RECORD {size}" if size and str(actual) != size else ""
            out.append((path, f"changed ({algorithm} differs{'; ' + changed if changed else ''})"))
    return out


def record_paths(installed: Installed) -> list[Path]:
    """The files ``installed``'s RECORD lists, absolute, with each ``.py``'s bytecode."""
    base = installed.dist_info.parent
    record = installed.dist_info / "RECORD"
    paths: list[Path] = []
    try:
        with record.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
    except OSError:
        rows = []
    for row in rows:
        if not row or not row[0]:
            continue
        path = Path(os.path.normpath(base / row[0]))
        paths.append(path)
        if path.suffix == ".py":
            cache = path.parent / "__pycache__"
            if cache.is_dir():
                paths.extend(cache.glob(f"{path.stem}.*.pyc"))
    if not rows:  # no RECORD: the dist-info directory at least
        paths.extend(p for p in installed.dist_info.rglob("*") if p.is_file())
    return paths


def _protected(keep: tuple[Path, ...]) -> set[Path]:
    """``keep`` (normalized) and every directory above them."""
    out = {Path(os.path.normpath(k)) for k in keep}
    return out | {parent for k in out for parent in k.parents}


def prune(directories: set[Path], keep: tuple[Path, ...]) -> None:
    """Remove each of ``directories`` that is now empty (its ``__pycache__`` too) and the
    empty directories above it, deepest first; never ``keep`` (the scheme's own
    directories: site-packages, bin, ...) nor anything above them."""
    protected = _protected(keep)
    for directory in sorted(directories, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            (directory / "__pycache__").rmdir()
        current = directory
        while current not in protected and current != current.parent:
            try:
                current.rmdir()
            except OSError:
                break
            current = current.parent


class Stash:
    """Files moved out of the environment, to be put back (:meth:`restore`) or dropped
    (:meth:`clear`). The stash lives beside the environment, on the same file system."""

    def __init__(self, root: Path, keep: tuple[Path, ...]) -> None:
        self.root = root
        #: Directories never removed even when empty (see :func:`prune`).
        self._keep = keep
        self._moved: list[tuple[Path, Path]] = []
        self._dirs: set[Path] = set()

    def remove(self, installed: Installed) -> int:
        """Move ``installed``'s files into the stash; how many files were moved."""
        count = 0
        for path in record_paths(installed):
            if not path.is_file() and not path.is_symlink():
                continue
            held = self.root / str(len(self._moved))
            held.parent.mkdir(parents=True, exist_ok=True)
            path.replace(held)
            self._moved.append((path, held))
            self._dirs.add(path.parent)
            count += 1
        prune(self._dirs, self._keep)
        return count

    def restore(self) -> None:
        """Put every moved file back where it was."""
        for original, held in reversed(self._moved):
            original.parent.mkdir(parents=True, exist_ok=True)
            held.replace(original)
        self._moved.clear()
        self.clear()

    def clear(self) -> None:
        """Drop the stash for good."""
        shutil.rmtree(self.root, ignore_errors=True)
