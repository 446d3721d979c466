"""Core metadata of a source tree or an sdist, through its PEP 517 build backend.

:func:`metadata_from_sdist` first tries PEP 643: an sdist whose PKG-INFO is Metadata-Version
2.2 or later and marks none of ``Requires-Dist``, ``Requires-Python`` or ``Provides-Extra``
``Dynamic`` already states what its wheels will say, so PKG-INFO is returned unbuilt.
Otherwise the sdist is unpacked safely and built like a tree.

:func:`metadata_from_tree` asks the project's backend for the wheel's METADATA in an isolated
build environment, through the ``build`` library (``ProjectBuilder`` over a
``DefaultIsolatedEnv``): ``prepare_metadata_for_build_wheel``, or ``build_wheel`` for backends
without it. Build requirements are installed with pip, with the caller's extra environment
(an index URL, say). No subprocess can prompt: stdin is ``/dev/null``, each runs in a new
session without a controlling terminal, and ``PIP_NO_INPUT`` / ``GIT_TERMINAL_PROMPT=0`` are
set. Every failure becomes one :class:`~tumbler.errors.InputError` line that names the
project and the last line the backend (or pip) printed.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tarfile
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal

from packaging.metadata import Metadata, parse_email
from packaging.version import InvalidVersion, Version

from tumbler.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator, Mapping, Sequence

    from build import ProjectBuilder
    from build.env import DefaultIsolatedEnv

__all__ = ["build_wheel", "metadata_from_sdist", "metadata_from_tree"]

#: The fields a resolver needs; when PKG-INFO marks none Dynamic it can stand in for METADATA.
_RESOLVER_FIELDS = frozenset({"requires-dist", "requires-python", "provides-extra"})
#: PEP 643 (Dynamic) arrived in core metadata 2.2.
_PEP_643 = Version("2.2")
#: Set for every build subprocess, over the caller's environment: never wait for input.
_NO_PROMPT = {
    "PIP_NO_INPUT": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "GIT_TERMINAL_PROMPT": "0",
}
_TAR_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar")


class _BuildError(Exception):
    """A build step failed; the message is the one line worth showing."""


def metadata_from_tree(
    path: Path, *, subdirectory: str | None = None, env: Mapping[str, str] | None = None
) -> bytes:
    """Core metadata (the METADATA file's bytes) of an unpacked project.

    The PEP 517 hooks run in an isolated build environment; nothing is installed when the
    project's build requirements are empty.

    Args:
        path: The project directory (a checkout, an unpacked sdist, a local directory).
        subdirectory: A relative path inside ``path`` where the project lives.
        env: Extra environment for installing build requirements (and for the backend),
            such as ``PIP_INDEX_URL``.

    Returns:
        The METADATA document as the backend wrote it.

    Raises:
        InputError: Not a project, a backend or installation failure, or metadata that
            does not parse.
    """
    root = _project_root(path, subdirectory)
    return _tree_metadata(root, str(root), env or {})


def metadata_from_sdist(archive: Path, *, env: Mapping[str, str] | None = None) -> bytes:
    """Core metadata of an sdist (``.tar.gz`` or another tar, or ``.zip``).

    PKG-INFO is returned as is when PEP 643 says it is final for the resolver's fields;
    otherwise the archive is unpacked into a temporary directory (tar members through the
    ``data`` filter; zip members with absolute paths or ``..`` are refused) and its single
    top-level directory is built as by :func:`metadata_from_tree`.

    Raises:
        InputError: Not a readable sdist, unsafe members, or any build failure.
    """
    origin = str(archive)
    if not archive.is_file():
        raise InputError(f"{origin}: no such sdist file")
    is_zip = archive.name.lower().endswith(".zip")
    if not is_zip and not archive.name.lower().endswith(_TAR_SUFFIXES):
        raise InputError(f"{origin}: not an sdist (expected .tar.gz or .zip)")
    pkg_info = _zip_pkg_info(archive) if is_zip else _tar_pkg_info(archive)
    if pkg_info is not None and _is_static(pkg_info):
        return pkg_info
    with tempfile.TemporaryDirectory(prefix="tumbler-sdist-") as scratch:
        unpacked = Path(scratch) / "src"
        unpacked.mkdir()
        if is_zip:
            _unpack_zip(archive, unpacked)
        else:
            _unpack_tar(archive, unpacked)
        entries = list(unpacked.iterdir())
        if len(entries) != 1 or not entries[0].is_dir():
            raise InputError(f"{origin}: an sdist must hold exactly one top-level directory")
        return _tree_metadata(entries[0], origin, env or {})


# --- the tree -------------------------------------------------------------------------------


def _project_root(path: Path, subdirectory: str | None) -> Path:
    if subdirectory is not None:
        relative = PurePosixPath(subdirectory.replace("\\", "/"))
        if not subdirectory or relative.is_absolute() or ".." in relative.parts:
            raise InputError(f"{path}: subdirectory {subdirectory!r} must be a relative path")
        path = path.joinpath(*relative.parts)
    if not path.is_dir():
        raise InputError(f"{path}: no such project directory")
    return path


def _tree_metadata(root: Path, origin: str, env: Mapping[str, str]) -> bytes:
    if not (root / "pyproject.toml").is_file() and not (root / "setup.py").is_file():
        raise InputError(f"{origin}: not a Python project (no pyproject.toml or setup.py)")
    try:
        data = _build_metadata(root, env)
    except _BuildError as error:
        raise InputError(f"{origin}: cannot get core metadata: {error}") from None
    problem = _metadata_problem(data)
    if problem is not None:
        raise InputError(f"{origin}: the build backend wrote unusable core metadata: {problem}")
    return data


def _build_metadata(root: Path, env: Mapping[str, str]) -> bytes:
    """Run the hooks for ``root`` in a fresh isolated environment; METADATA's bytes."""
    from build.env import DefaultIsolatedEnv

    with (
        _build_errors(),
        tempfile.TemporaryDirectory(prefix="tumbler-metadata-") as out,
        DefaultIsolatedEnv() as isolated,
    ):
        builder = _ready_builder(isolated, root, "wheel", env)
        dist_info = Path(builder.metadata_path(out))
        return (dist_info / "METADATA").read_bytes()


def _ready_builder(
    isolated: DefaultIsolatedEnv | _TargetEnv,
    root: Path,
    distribution: Literal["wheel", "editable"],
    env: Mapping[str, str],
) -> ProjectBuilder:
    """A ``build.ProjectBuilder`` for ``root`` in ``isolated``, its build requirements for
    ``distribution`` installed; no subprocess can prompt."""
    import build

    extra = {**env, **_NO_PROMPT}

    def runner(
        cmd: Sequence[str], cwd: str | None = None, extra_environ: Mapping[str, str] | None = None
    ) -> None:
        _run(cmd, cwd=cwd, env={**env, **(extra_environ or {}), **_NO_PROMPT})

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", build.TypoWarning)
        builder = build.ProjectBuilder.from_isolated_env(isolated, root, runner=runner)
    _install(isolated, builder.build_system_requires, extra, fresh=True)
    _install(isolated, builder.get_requires_for_build(distribution), extra)
    return builder


@contextlib.contextmanager
def _build_errors() -> Iterator[None]:
    """Turn whatever a PEP 517 build raises into one :class:`_BuildError` line."""
    import build
    import pyproject_hooks

    try:
        yield
    except build.BuildBackendException as error:
        cause = error.exception
        if isinstance(cause, subprocess.CalledProcessError):
            raise _BuildError(_last_line(cause.output, f"exit status {cause.returncode}")) from None
        if isinstance(cause, pyproject_hooks.BackendUnavailable):
            raise _BuildError(_last_line(cause.traceback, str(cause))) from None
        raise _BuildError(_last_line(str(cause), type(cause).__name__)) from None
    except build.FailedProcessError as error:
        raise _BuildError(_last_line(error.exception.output, str(error))) from None
    except subprocess.CalledProcessError as error:
        raise _BuildError(_last_line(error.output, f"exit status {error.returncode}")) from None
    except (build.BuildException, OSError, RuntimeError) as error:
        raise _BuildError(_last_line(str(error), type(error).__name__)) from None


def _install(
    isolated: DefaultIsolatedEnv | _TargetEnv,
    requirements: Collection[str],
    env: Mapping[str, str],
    *,
    fresh: bool = False,
) -> None:
    """Install build ``requirements`` into ``isolated`` with pip and the extra ``env``."""
    if not requirements:
        return
    python = isolated.python_executable
    own_pip = Path(python).parent / ("pip.exe" if os.name == "nt" else "pip")
    if own_pip.exists():
        command = [python, "-Im", "pip"]
    else:
        command = [sys.executable, "-m", "pip", "--python", python]
    command += ["install", "--no-input", "--no-warn-script-location", "--no-compile"]
    if fresh:
        command.append("--ignore-installed")
    listing = Path(isolated.path) / "tumbler-build-requirements.txt"
    listing.write_text("\n".join(sorted(requirements)) + "\n", encoding="utf-8")
    _run([*command, "-r", str(listing)], cwd=None, env=env)


def _run(command: Sequence[str], *, cwd: str | None, env: Mapping[str, str]) -> None:
    """Run ``command`` with no terminal and ``env`` over ours; its output is on the error."""
    done = subprocess.run(
        list(command),
        cwd=cwd,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        check=False,
    )
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, list(command), output=done.stdout)


def _last_line(output: str | bytes | None, fallback: str) -> str:
    """The last non-blank line of ``output``, stripped, else ``fallback``."""
    if isinstance(output, bytes):
        output = output.decode("utf-8", errors="replace")
    for line in reversed((output or "").splitlines()):
        if line.strip():
            return line.strip()
    return fallback


# --- wheels for an install ------------------------------------------------------------------


class _TargetEnv:
    """An isolated build environment on a given interpreter (``build``'s own is always on the
    interpreter tumbler runs on; a wheel for another Python must be built by that Python)."""

    def __init__(self, python: str) -> None:
        from tumbler.env.interpreter import create_venv, venv_python

        self.path = tempfile.mkdtemp(prefix="tumbler-build-env-")
        create_venv(Path(self.path), python)
        self._python = str(venv_python(Path(self.path)))

    @property
    def python_executable(self) -> str:
        return self._python

    def make_extra_environ(self) -> dict[str, str]:
        scripts = str(Path(self._python).parent)
        return {"PATH": os.pathsep.join([scripts, os.environ.get("PATH", "")])}

    def close(self) -> None:
        import shutil

        shutil.rmtree(self.path, ignore_errors=True)


def build_wheel(
    source: Path,
    out: Path,
    *,
    python: str,
    editable: bool = False,
    subdirectory: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Path:
    """Build a wheel (or an editable wheel) of ``source`` for the interpreter ``python``.

    ``source`` is an sdist (unpacked safely first) or a project directory; ``subdirectory``
    is where the project lives inside it (R25-R27). The PEP 517 hooks run in a fresh
    isolated environment made from ``python``; build requirements are installed by pip.

    Raises:
        InputError: Not a project, or the build failed (the last line the backend printed).
    """
    origin = str(source)
    with tempfile.TemporaryDirectory(prefix="tumbler-build-") as scratch:
        if source.is_file():
            unpacked = Path(scratch) / "src"
            unpacked.mkdir()
            if source.name.lower().endswith(".zip"):
                _unpack_zip(source, unpacked)
            else:
                _unpack_tar(source, unpacked)
            entries = list(unpacked.iterdir())
            if subdirectory is None:
                if len(entries) != 1 or not entries[0].is_dir():
                    raise InputError(
                        f"{origin}: an sdist must hold exactly one top-level directory"
                    )
                tree = entries[0]
            else:
                tree = entries[0] if len(entries) == 1 and entries[0].is_dir() else unpacked
        else:
            tree = source
        root = _project_root(tree, subdirectory)
        if not (root / "pyproject.toml").is_file() and not (root / "setup.py").is_file():
            raise InputError(f"{origin}: not a Python project (no pyproject.toml or setup.py)")
        try:
            return _build(root, out, python, "editable" if editable else "wheel", env or {})
        except _BuildError as error:
            raise InputError(f"{origin}: cannot build a wheel: {error}") from None


def _build(
    root: Path,
    out: Path,
    python: str,
    distribution: Literal["wheel", "editable"],
    env: Mapping[str, str],
) -> Path:
    isolated = _TargetEnv(python)
    try:
        with _build_errors():
            builder = _ready_builder(isolated, root, distribution, env)
            out.mkdir(parents=True, exist_ok=True)
            return Path(builder.build(distribution, out))
    finally:
        isolated.close()


# --- the metadata ---------------------------------------------------------------------------


def _metadata_problem(data: bytes) -> str | None:
    """Why ``data`` is not usable core metadata, or None when the fields tumbler reads parse."""
    try:
        metadata = Metadata.from_email(data, validate=False)
        _ = (metadata.name, metadata.version, metadata.requires_python)
        _ = (metadata.requires_dist, metadata.provides_extra)
    except ValueError as error:  # InvalidMetadata, bad requirements, undecodable bytes
        return _last_line(str(error), type(error).__name__)
    return None


def _is_static(pkg_info: bytes) -> bool:
    """Whether PEP 643 makes ``pkg_info`` final for the resolver's fields (and it parses)."""
    if _metadata_problem(pkg_info) is not None:
        return False
    raw, _unparsed = parse_email(pkg_info)
    try:
        if Version(raw.get("metadata_version", "")) < _PEP_643:
            return False
    except InvalidVersion:
        return False
    dynamic = {field.strip().lower() for field in raw.get("dynamic", [])}
    return not _RESOLVER_FIELDS & dynamic


# --- archives -------------------------------------------------------------------------------


def _relative(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name.rstrip("/")


def _single_top(names: Collection[str]) -> str | None:
    tops = {_relative(name).split("/", 1)[0] for name in names if _relative(name)}
    return next(iter(tops)) if len(tops) == 1 else None


def _tar_pkg_info(archive: Path) -> bytes | None:
    """PKG-INFO at the top of the tar's single directory, or None (then build)."""
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            top = _single_top([member.name for member in members])
            if top is None:
                return None
            for member in members:
                if _relative(member.name) == f"{top}/PKG-INFO" and member.isfile():
                    extracted = tar.extractfile(member)
                    if extracted is None:
                        return None
                    with extracted:
                        return extracted.read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise InputError(f"{archive}: not a readable sdist: {_last_line(str(error), '')}") from None
    return None


def _zip_pkg_info(archive: Path) -> bytes | None:
    """PKG-INFO at the top of the zip's single directory, or None (then build)."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            top = _single_top(zipped.namelist())
            if top is None or f"{top}/PKG-INFO" not in zipped.namelist():
                return None
            return zipped.read(f"{top}/PKG-INFO")
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
        raise InputError(f"{archive}: not a readable sdist: {_last_line(str(error), '')}") from None


def _unpack_tar(archive: Path, target: Path) -> None:
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(target, filter="data")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        message = _last_line(str(error), type(error).__name__)
        raise InputError(f"{archive}: cannot unpack the sdist safely: {message}") from None


def _unpack_zip(archive: Path, target: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as zipped:
            for name in zipped.namelist():
                parts = name.replace("\\", "/").split("/")
                if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
                    raise InputError(f"{archive}: unsafe path in the sdist: {name!r}")
            zipped.extractall(target)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as error:
        message = _last_line(str(error), type(error).__name__)
        raise InputError(f"{archive}: cannot unpack the sdist: {message}") from None
