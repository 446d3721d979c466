"""I/O edge: wheels unpacked once into the cache, then put into each environment.

``installer`` does the wheel's work twice over, split in two:

- :func:`stage` runs ``installer.install`` into a staging destination in the cache
  (``unpacked/<algorithm>/<aa>/<digest>/``, named by the wheel's verified hash): every
  file lands under ``tree/<scheme>/<path>`` as installer maps it (root to purelib or
  platlib, ``.data/*`` to its scheme), and a ``manifest.json`` records each file's hash,
  size and modification time as staged, the entry points, the root scheme, and the name
  and version the wheel's ``METADATA`` and file name give. Nothing that depends on the
  target interpreter (shebangs, launchers) is written there.
- :func:`damaged` checks a staged wheel against its manifest before it is used: every
  file's size and modification time (cheap), or its hash too (``--verify-cache``). A
  damaged entry is removed and staged again from the verified wheel.
- :func:`install_staged` installs a staged wheel into an environment through installer's
  own ``SchemeDictionaryDestination``: scripts (``.data/scripts``, shebangs fixed) and
  entry-point launchers are written by it, ``INSTALLER`` and ``direct_url.json`` too, and
  its ``finalize_installation`` writes RECORD; every other file is put in place by the
  link mode (:data:`LINK_MODES`): a copy-on-write clone where the file system has them,
  else a copy (``auto``, the default: an edit to an installed file never reaches the
  cache or another environment), or a hard link (``hardlink``: fastest, but the file is
  shared with the cache, so an edit in place changes every environment that links it).

A warm install therefore reads no wheel at all, as uv's does.
"""

# Linking runs once per installed file (thousands per environment): plain os.path strings
# there, not pathlib, whose per-call parsing cost more than the link itself.
# ruff: noqa: PTH100, PTH102, PTH103, PTH105, PTH108, PTH116

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.records import Hash, RecordEntry
from installer.sources import WheelFile
from installer.utils import copyfileobj_with_hashing, make_file_executable

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from installer.scripts import ScriptSection
    from installer.utils import Scheme

    from tumbler.env.interpreter import Interpreter

__all__ = [
    "LINK_MODES",
    "Staged",
    "damaged",
    "inflate_with_zlib_ng",
    "install_staged",
    "stage",
    "staged",
]

_SCHEMES = ("purelib", "platlib", "headers", "scripts", "data")
_MANIFEST = "manifest.json"
#: Bumped when the staged layout changes: older entries are then ignored.
_LAYOUT = 2
#: How staged files are put into an environment: ``auto`` (clone, else copy), ``clone``
#: (copy-on-write; a copy where the file system cannot), ``copy``, ``hardlink``.
LINK_MODES = ("auto", "clone", "copy", "hardlink")
#: ``FICLONE`` (Linux): make the target share the source's blocks, copy-on-write.
_FICLONE = 0x40049409
#: Whether clones may work here: False once one failed for want of them (by these errors),
#: so that each later wheel does not try again (one process installs into one place).
_CLONES = [True]
_NO_CLONE = frozenset({errno.EOPNOTSUPP, errno.EXDEV, errno.EINVAL, errno.ENOTTY, errno.ENOSYS})


@dataclass(frozen=True, slots=True)
class Staged:
    """A wheel unpacked in the cache."""

    root: Path
    manifest: Mapping[str, Any]

    @property
    def size(self) -> int:
        """The size of the wheel file it was unpacked from."""
        return int(self.manifest["wheel_size"])

    @property
    def identity(self) -> tuple[str, str, str, str]:
        """(name, version) its METADATA gives, then its file name's."""
        found = self.manifest.get("identity") or ["", "", "", ""]
        return (str(found[0]), str(found[1]), str(found[2]), str(found[3]))


@dataclass
class _Staging(SchemeDictionaryDestination):
    """installer's destination for the cache: no shebangs, no launchers, no RECORD."""

    files: list[list[Any]] = field(default_factory=list)
    entry_points: list[list[str]] = field(default_factory=list)
    root_scheme: str = ""

    _made: set[str] = field(default_factory=set)

    def write_to_fs(
        self, scheme: Scheme, path: str, stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        """installer's own, with strings for paths (a wheel has thousands of files)."""
        _check_inside(path)
        target = f"{self.scheme_dict[scheme]}/{path}"
        parent = target.rpartition("/")[0]
        if parent not in self._made:
            os.makedirs(parent, exist_ok=True)
            self._made.add(parent)
        with open(target, "wb") as handle:  # noqa: PTH123
            digest, size = copyfileobj_with_hashing(stream, handle, self.hash_algorithm)
        if is_executable:
            make_file_executable(Path(target))
        return RecordEntry(path, Hash(self.hash_algorithm, digest), size)

    def write_file(
        self, scheme: Scheme, path: str | os.PathLike[str], stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        record = self.write_to_fs(scheme, os.fspath(path), stream, is_executable)
        self.files.append([scheme, record.path, _hash_text(record), record.size, is_executable])
        return record

    def write_script(
        self, name: str, module: str, attr: str, section: ScriptSection
    ) -> RecordEntry:
        self.entry_points.append([name, module, attr, section])
        return RecordEntry(name, None, None)  # not written here; installed per environment

    def finalize_installation(
        self, scheme: Scheme, record_file_path: str, records: Iterable[tuple[Scheme, RecordEntry]]
    ) -> None:
        self.root_scheme = scheme


def _link(source: str, target: str) -> None:
    """Hard-link ``source`` at ``target``, replacing a file already there (one of the
    distribution this one replaces, or another's that shares the path) in one rename."""
    try:
        os.link(source, target)
    except FileExistsError:
        scratch = _scratch_name(target)
        os.link(source, scratch)
        os.replace(scratch, target)


def _clone(source: str, target: str) -> None:
    """A copy-on-write clone of ``source`` at ``target`` (OSError where the file system
    or the platform has none), with the source's mode; in one rename (see :func:`_copy`)."""
    import fcntl

    scratch = _scratch_name(target)
    try:
        with open(source, "rb") as src, open(scratch, "wb") as dst:  # noqa: PTH123
            fcntl.ioctl(dst.fileno(), _FICLONE, src.fileno())
        shutil.copymode(source, scratch)
        os.replace(scratch, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(scratch)
        raise


def _copy(source: str, target: str, mode: int | None = None) -> None:
    """A copy of ``source`` at ``target`` with its mode, in one rename: never through a
    link, and two wheels writing the same path at once (``mlflow`` and ``mlflow-skinny``)
    each leave a whole file.

    With ``mode`` (the staged file's, known from the manifest) a ``target`` not there yet
    is written in place, created exclusively: one ``open`` each, the bytes copied by the
    kernel, no ``stat``, ``chmod`` or rename. Whoever finds it already there (``EEXIST``)
    writes a scratch file and renames it over, so the last writer's whole file stays."""
    if mode is not None:
        try:
            _copy_new(source, target, mode)
            return
        except FileExistsError:
            pass
    scratch = _scratch_name(target)
    try:
        shutil.copyfile(source, scratch)
        shutil.copymode(source, scratch)
        os.replace(scratch, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(scratch)
        raise


#: Flags for a file copied into an environment: created here, never opened through a link.
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
#: Whether ``copy_file_range`` works here (False once it did not: old kernels, some file
#: systems, another platform).
_RANGE = [hasattr(os, "copy_file_range")]


def _copy_new(source: str, target: str, mode: int) -> None:
    """Copy ``source`` to ``target``, which must not exist (``FileExistsError``), with
    ``mode`` (less the umask)."""
    given = os.open(source, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        made = os.open(target, _CREATE, mode)
        try:
            _pump(given, made)
        except BaseException:
            os.close(made)
            with contextlib.suppress(OSError):
                os.unlink(target)
            raise
        os.close(made)
    finally:
        os.close(given)


def _pump(given: int, made: int) -> None:
    """Every byte of ``given`` into ``made`` (both at offset 0), in the kernel where it can."""
    if _RANGE[0]:
        try:
            while os.copy_file_range(given, made, 1 << 30):
                pass
            return
        except OSError as error:
            if error.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                raise
            _RANGE[0] = False
            os.lseek(given, 0, os.SEEK_SET)
            os.lseek(made, 0, os.SEEK_SET)
            os.ftruncate(made, 0)
    with open(given, "rb", closefd=False) as reader, open(made, "wb", closefd=False) as writer:
        shutil.copyfileobj(reader, writer)


def _make_directory(path: str) -> None:
    """``path`` made: one ``mkdir`` when its parent is there (``os.makedirs`` first asks
    whether the parent exists); something already at ``path`` is left for the file
    written into it to fail on, if it is not a directory."""
    try:
        os.mkdir(path)
    except FileExistsError:
        pass
    except FileNotFoundError:
        os.makedirs(path, exist_ok=True)


def _scratch_name(target: str) -> str:
    """A name beside ``target`` no other thread or process writes."""
    return f"{target}.{os.getpid()}-{threading.get_ident()}.tumbler-tmp"


def _check_inside(path: str) -> None:
    """Refuse a wheel path that would land outside its scheme directory."""
    if "/../" in f"/{path}/" or path.startswith("/") or "\\" in path:
        raise ValueError(f"Attempting to write {path} outside of the target directory")


def _hash_text(record: RecordEntry) -> str:
    return "" if record.hash_ is None else str(record.hash_)


def _location(cache_root: Path, algorithm: str, digest: str) -> Path:
    return cache_root / "unpacked" / algorithm / digest[:2] / digest


def staged(cache_root: Path, algorithm: str, digest: str) -> Staged | None:
    """The staged wheel with this digest, or None when it is not in the cache."""
    root = _location(cache_root, algorithm, digest)
    try:
        manifest = json.loads((root / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("layout") != _LAYOUT:
        return None
    return Staged(root, manifest)


def stage(wheel: Path, cache_root: Path, algorithm: str, digest: str) -> Staged:
    """Unpack the verified ``wheel`` into the cache under its digest (atomic: a rename)."""
    found = staged(cache_root, algorithm, digest)
    if found is not None:
        return found
    target = _location(cache_root, algorithm, digest)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".stage-", dir=target.parent))
    try:
        destination = _Staging(
            scheme_dict={s: str(scratch / "tree" / s) for s in _SCHEMES},
            interpreter="python",
            script_kind="posix",
            overwrite_existing=True,
        )
        with WheelFile.open(wheel) as source:
            install(source, destination, additional_metadata={})
            dist_info = source.dist_info_dir
            identity = [*_metadata_identity(source.read_dist_info("METADATA")),
                        source.distribution, source.version]  # fmt: skip
        tree = scratch / "tree"
        for entry in destination.files:
            entry.append(os.stat(f"{tree}/{entry[0]}/{entry[1]}").st_mtime_ns)
        manifest = {
            "layout": _LAYOUT,
            "wheel": wheel.name,
            "wheel_size": wheel.stat().st_size,
            "root_scheme": destination.root_scheme,
            "dist_info": dist_info,
            "identity": identity,
            "files": destination.files,
            "entry_points": destination.entry_points,
        }
        (scratch / _MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        try:
            scratch.rename(target)
        except OSError as error:
            if error.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            shutil.rmtree(scratch, ignore_errors=True)  # another process staged it first
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    found = staged(cache_root, algorithm, digest)
    assert found is not None
    return found


def inflate_with_zlib_ng() -> bool:
    """Have :mod:`zipfile` inflate (and CRC-check) members with zlib-ng in this process,
    when it is installed: about twice as fast as the zlib CPython links (a large project's
    wheels: 4.8 s of inflating become 2.2 s). zlib-ng's module is a drop-in replacement for
    :mod:`zlib` (same functions, same output), so only where ``zipfile`` looks its inflater
    up changes. Called by the unpacking worker processes, whose one job is staging; the
    command's own process keeps the standard module. False when zlib-ng is not there."""
    try:
        from zlib_ng import zlib_ng
    except ImportError:
        return False
    import zipfile

    setattr(zipfile, "zlib", zlib_ng)  # noqa: B010 - module globals zipfile reads per call
    setattr(zipfile, "crc32", zlib_ng.crc32)  # noqa: B010
    return True


def _metadata_identity(text: str) -> tuple[str, str]:
    """The ``Name`` and ``Version`` a METADATA file gives (empty where missing)."""
    from email.parser import HeaderParser

    headers = HeaderParser().parsestr(text)
    return str(headers.get("Name") or ""), str(headers.get("Version") or "")


def damaged(staged_wheel: Staged, *, full: bool = False) -> list[str]:
    """The staged files that are no longer what was staged: missing, or of another size
    or modification time; with ``full``, of another hash (each file read again)."""
    tree = staged_wheel.root / "tree"
    bad: list[str] = []
    for scheme, path, hash_text, size, _, stamp in staged_wheel.manifest["files"]:
        where = f"{tree}/{scheme}/{path}"
        try:
            found = os.stat(where)
        except OSError:
            bad.append(path)
            continue
        changed = found.st_size != size or found.st_mtime_ns != stamp
        if changed or (full and hash_text and _record_hash(where, hash_text) != hash_text):
            bad.append(path)
    return bad


def _record_hash(path: str, like: str) -> str:
    """The file's hash as a RECORD writes it (``sha256=<urlsafe base64>``), by the
    algorithm ``like`` names."""
    import base64
    import hashlib

    algorithm = like.partition("=")[0]
    hasher = hashlib.new(algorithm)
    with open(path, "rb") as stream:  # noqa: PTH123
        while chunk := stream.read(1 << 20):
            hasher.update(chunk)
    return f"{algorithm}={base64.urlsafe_b64encode(hasher.digest()).decode().rstrip('=')}"


@dataclass
class _Target(SchemeDictionaryDestination):
    """installer's destination for the environment, remembering every path written
    (strings: there are thousands)."""

    written: list[str] = field(default_factory=list)
    #: How files are put in place (:data:`LINK_MODES`); becomes ``copy`` once a clone
    #: or a link fails (another file system, or none to be had).
    mode: str = "auto"

    def write_to_fs(
        self, scheme: Scheme, path: str, stream: BinaryIO, is_executable: bool
    ) -> RecordEntry:
        target = self._path_with_destdir(scheme, path)
        self.written.append(str(target))
        with contextlib.suppress(FileNotFoundError):
            target.unlink()  # never write through a hard link into the cache
        return super().write_to_fs(scheme, path, stream, is_executable)

    def link_all(self, tree: Path, files: Iterable[tuple[str, str, bool]]) -> None:
        """Put each staged ``tree/<scheme>/<path>`` at ``path`` in ``scheme`` by the link
        mode (``executable``: its mode as staged). Plain strings and one ``mkdir`` per new
        directory: an environment takes thousands of files, and ``pathlib`` per file costs
        more than the link."""
        roots = {k: os.path.abspath(v) for k, v in self.scheme_dict.items()}
        made: set[str] = set()
        base = str(tree)
        for scheme, path, executable in files:
            _check_inside(path)
            target = f"{roots[scheme]}/{path}"
            source = f"{base}/{scheme}/{path}"
            parent = target.rpartition("/")[0]
            if parent not in made:
                _make_directory(parent)
                made.add(parent)
            self.written.append(target)
            self._place(source, target, 0o777 if executable else 0o666)

    def _place(self, source: str, target: str, mode: int) -> None:
        if self.mode == "hardlink":
            try:
                _link(source, target)
                return
            except OSError:
                self.mode = "copy"  # another file system, or links refused
        elif self.mode in ("auto", "clone"):
            if _CLONES[0]:
                try:
                    _clone(source, target)
                    return
                except OSError as error:
                    _CLONES[0] = error.errno not in _NO_CLONE
                except ImportError:
                    _CLONES[0] = False
            self.mode = "copy"  # no copy-on-write here: copies from now on
        _copy(source, target, mode)


def install_staged(
    staged_wheel: Staged,
    interpreter: Interpreter,
    additional_metadata: Mapping[str, bytes],
    *,
    written: list[str] | None = None,
    mode: str = "auto",
) -> list[str]:
    """Install a staged wheel into ``interpreter``'s environment; the paths written.

    Every path is appended to ``written`` as it is written, so that on failure the caller
    knows what to take away (:func:`tumbler.installing.apply.apply_plan` does).
    """
    from installer.utils import Scheme as SchemeName

    manifest = staged_wheel.manifest
    destination = _Target(
        scheme_dict=dict(interpreter.scheme),
        interpreter=interpreter.executable,
        script_kind="win-amd64" if os.name == "nt" else "posix",
        overwrite_existing=True,
        written=[] if written is None else written,
        mode=mode,
    )
    tree = staged_wheel.root / "tree"
    root_scheme = SchemeName(manifest["root_scheme"])
    dist_info = str(manifest["dist_info"])
    # RECORD rows as (path in its scheme, scheme, hash, size), written at once at the end.
    rows: list[tuple[str, str, str, str]] = []
    for name, module, attr, section in manifest["entry_points"]:
        rows.append(_row("scripts", destination.write_script(name, module, attr, section)))
    linked: list[tuple[str, str, bool]] = []
    for scheme, path, hash_text, size, is_executable, _ in manifest["files"]:
        if scheme == "scripts":
            with (tree / scheme / path).open("rb") as stream:
                rows.append(_row(scheme, destination.write_file(scheme, path, stream,
                                                                is_executable)))  # fmt: skip
        else:
            rows.append((path, scheme, hash_text, str(size)))
            linked.append((scheme, path, bool(is_executable)))
    destination.link_all(tree, linked)
    for filename, contents in sorted(additional_metadata.items()):
        path = f"{dist_info}/{filename}"
        with io.BytesIO(contents) as stream:
            rows.append(_row(root_scheme, destination.write_file(root_scheme, path, stream, False)))
    record_path = f"{dist_info}/RECORD"
    rows.append((record_path, root_scheme, "", ""))
    text = _record_text(rows, root_scheme, destination.scheme_dict)
    with io.BytesIO(text.encode("utf-8")) as stream:
        destination.write_to_fs(root_scheme, record_path, stream, is_executable=False)
    return destination.written


def _row(scheme: str, entry: RecordEntry) -> tuple[str, str, str, str]:
    size = "" if entry.size is None else str(entry.size)
    return (entry.path, scheme, _hash_text(entry), size)


def _record_text(
    rows: list[tuple[str, str, str, str]], root_scheme: str, scheme_dict: Mapping[str, str]
) -> str:
    """RECORD as installer writes it (rows sorted by path in their scheme; a path in
    another scheme than the root's relative to the root's directory), in one pass."""
    import csv

    prefixes = {root_scheme: ""}
    for scheme in {row[1] for row in rows} - {root_scheme}:
        if os.name == "nt":
            relative = os.path.abspath(scheme_dict[scheme])
        else:
            relative = os.path.relpath(scheme_dict[scheme], start=scheme_dict[root_scheme])
        prefixes[scheme] = f"{relative}/".replace(os.sep, "/")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=",", quotechar='"', lineterminator="\n")
    rows.sort(key=lambda row: row[0])
    writer.writerows((f"{prefixes[scheme]}{path}", digest, size)
                     for path, scheme, digest, size in rows)  # fmt: skip
    return buffer.getvalue()
