"""I/O edge: the environment an install goes into, asked of its own interpreter.

One subprocess runs the target Python with ``packaging`` (ours, put first on its path;
for Python 3.8 and 3.9, which ours does not run on, the copy of packaging 24.2 in
``tumbler/_vendor/legacy``) and reports its marker environment, its supported tags best
first and its install scheme (``sysconfig``). A virtual environment is made with the
standard ``venv`` module, without pip: tumbler installs into it itself.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging import tags

from tumbler.env.targets import Target
from tumbler.errors import UsageError

if TYPE_CHECKING:
    from tumbler.net.cache import Cache

__all__ = ["Interpreter", "create_venv", "inspect_python", "venv_python"]

#: The cache's blob kind for interpreters' answers.
_BLOB = "interpreter"

_PROBE = r"""
import json, os, sys, sysconfig
sys.path.insert(0, sys.argv[1] if sys.version_info >= (3, 10) else sys.argv[2])
from packaging import markers, tags
paths = sysconfig.get_paths()
print(json.dumps({
    "executable": sys.executable,
    "prefix": sys.prefix,
    "base_prefix": getattr(sys, "base_prefix", sys.prefix),
    "environment": {k: str(v) for k, v in markers.default_environment().items()},
    "tags": [str(t) for t in tags.sys_tags()],
    "paths": {k: paths[k] for k in ("purelib", "platlib", "scripts", "data", "include")},
    "stdlib": paths["stdlib"],
}))
"""


@dataclass(frozen=True, slots=True)
class Interpreter:
    """A Python to install for: how to run it, what it is, and where files go."""

    executable: str
    prefix: Path
    is_venv: bool
    environment: dict[str, str]
    tags: tuple[tags.Tag, ...]
    #: ``installer``'s scheme names to directories: purelib, platlib, scripts, data, headers.
    scheme: dict[str, str]
    #: Where the standard library lives (PEP 668's EXTERNALLY-MANAGED marker sits there).
    stdlib: Path

    @property
    def target(self) -> Target:
        """The selection target this interpreter is."""
        version = self.environment.get("python_full_version", "")
        return Target(f"{self.executable} (Python {version})", self.environment, self.tags)

    @property
    def site_dirs(self) -> tuple[Path, ...]:
        """The directories distributions are installed in (purelib first, no repeats)."""
        out: list[Path] = []
        for key in ("purelib", "platlib"):
            path = Path(self.scheme[key])
            if path not in out:
                out.append(path)
        return tuple(out)


def venv_python(venv: Path) -> Path:
    """The interpreter of the virtual environment at ``venv``."""
    if os.name == "nt":
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


#: packaging 24.2 (see ``_vendor/README.md``), for the Pythons ours does not run on.
_LEGACY = str(Path(__file__).resolve().parent / "_vendor" / "legacy")


def _packaging_root() -> str:
    import packaging

    return str(Path(packaging.__file__).resolve().parent.parent)


def _fingerprint(python: Path | str) -> str | None:
    """What identifies ``python``'s answers: the executable it resolves to and its stat, and
    the virtual environment's ``pyvenv.cfg``; None when it cannot be read."""
    try:
        real = Path(python).resolve()
        binary = real.stat()
        parts = [
            str(Path(python).absolute()),
            str(real),
            str(binary.st_mtime_ns),
            str(binary.st_size),
        ]
        config = Path(python).absolute().parent.parent / "pyvenv.cfg"
        if config.is_file():
            parts.append(config.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None
    from tumbler.version import __version__

    parts.append(__version__)
    import hashlib

    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def inspect_python(python: Path | str, cache: Cache | None = None) -> Interpreter:
    """Ask ``python`` what it is; a clear :class:`UsageError` when it cannot be run.

    With ``cache`` the answer is kept as a blob keyed by the interpreter's fingerprint and
    reused while the interpreter is unchanged.
    """
    key = None if cache is None else _fingerprint(python)
    if cache is not None and key is not None:
        known = cache.get_blob(_BLOB, key)
        if known is not None:
            try:
                return _interpreter(json.loads(known))
            except (ValueError, KeyError, TypeError):
                pass  # an entry from another layout: ask again
    facts = _ask(python)
    interpreter = _interpreter(facts)
    if cache is not None and key is not None:
        cache.put_blob(_BLOB, key, json.dumps(facts).encode())
    return interpreter


def _ask(python: Path | str) -> dict[str, Any]:
    try:
        done = subprocess.run(
            [str(python), "-I", "-c", _PROBE, _packaging_root(), _LEGACY],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise UsageError(f"cannot run the Python {python}: {error}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(f"cannot inspect the Python {python}: {last}")
    try:
        facts = json.loads(done.stdout)
    except ValueError:
        raise UsageError(f"cannot inspect the Python {python}: unexpected output") from None
    if not isinstance(facts, dict):
        raise UsageError(f"cannot inspect the Python {python}: unexpected output")
    return facts


def _interpreter(facts: dict[str, Any]) -> Interpreter:
    paths = facts["paths"]
    scheme = {
        "purelib": paths["purelib"],
        "platlib": paths["platlib"],
        "scripts": paths["scripts"],
        "data": paths["data"],
        # installer's "headers": a distribution's own include directory, as pip uses.
        "headers": str(Path(paths["include"]) / "site"),
    }
    return Interpreter(
        executable=facts["executable"],
        prefix=Path(facts["prefix"]),
        is_venv=facts["prefix"] != facts["base_prefix"],
        environment=facts["environment"],
        tags=tuple(tags.Tag(*t.split("-")) for t in facts["tags"]),
        scheme=scheme,
        stdlib=Path(facts["stdlib"]),
    )


def create_venv(path: Path, python: str | None = None) -> None:
    """Make a virtual environment at ``path`` without pip, from ``python`` (default: the
    interpreter tumbler runs on)."""
    if python is None:
        import venv

        try:
            venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt").create(path)
        except OSError as error:
            raise UsageError(f"cannot create a virtual environment at {path}: {error}") from None
        return
    try:
        done = subprocess.run(
            [python, "-m", "venv", "--without-pip", str(path)],
            capture_output=True,
            text=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except OSError as error:
        raise UsageError(f"cannot run the Python {python}: {error}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(f"cannot create a virtual environment at {path} with {python}: {last}")
