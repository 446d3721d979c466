"""The gate's verdict kept, so that asking again about the same bytes answers at once.

``lock --check`` is what every pre-commit run and CI job pays. When the resolver-free gate
finds a lock up to date, the verdict is a function of what the run read: the lock, the
project's files, the cached release records, and the run's own setting (command line,
working directory, tumbler's and pip's/uv's variables, the day, the interpreter, the code
of tumbler and of ``packaging``). This module keeps that verdict with a list of every file
the run opened (Python's audit hook, :pep:`578`, sees each ``open``, including the ones
that failed), and answers a later identical question by checking that list instead of
importing the checker:

- a file outside the cache by the sha256 of its bytes (a checkout rewrites files with new
  times but the same bytes); for the project's own files (in the working folder, or a
  ``pyproject.toml``, ``pylock.*`` or ``requirements*`` anywhere) also the names in its
  folder (a file appearing beside the project is a change even if nothing opened it yet);
- a folder the run listed by its names (not the interpreter's own folders: code is in
  the signature);
- a file in the cache by its inode, size and time (the cache never edits a file in place:
  every write is a new file renamed into place, see :mod:`tumbler.net.cache`);
- a file that was absent must still be absent.

Only a clean verdict (exit 0, from the records gate, no subprocess, no network) is kept;
drift, errors and ``--full`` always run the checker. Nothing here changes an answer: a
kept verdict is replayed byte for byte, and any difference in what the run would read
makes it run. ``TUMBLER_NO_MEMO=1`` turns it off. The entries live under
``<cache>/memo/`` and are dropped after a week unused.

This module imports only what the interpreter has already loaded (``marshal`` is
built in; ``hashlib`` only when a kept verdict is found), so a kept answer costs the
interpreter's start-up and a few milliseconds.
"""

from __future__ import annotations

import marshal
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["Recorder", "applies", "recall", "vouch"]

#: Bumped whenever what an entry holds changes meaning.
_FORMAT = 1
#: Variables an answer may depend on: tumbler's, the index configuration pip and uv read,
#: where the cache is, and reproducible time.
_PREFIXES = ("TUMBLER_", "PIP_", "UV_")
_NAMES = ("SOURCE_DATE_EPOCH", "XDG_CACHE_HOME", "HOME", "NO_COLOR", "FORCE_COLOR")
#: Audit events after which the verdict is not a function of the files read.
_OUTSIDE = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "socket.connect")
#: Audit events that read a folder's names.
_LISTING = ("os.listdir", "os.scandir")
#: Files the interpreter opens to import code (covered by the code signature).
_CODE = (".py", ".pyc", ".so", ".pyd", ".pth")
#: Files that belong to a project wherever they are: their folder's names are watched.
_PROJECT = ("pyproject.toml", "pylock.", "requirements")
#: An entry unused this long is removed (seconds).
_STALE = 7 * 24 * 3600

_vouched = False


def vouch() -> None:
    """Called by the command when its answer may be kept (the records gate said yes)."""
    global _vouched  # noqa: PLW0603 - one flag for the one command this process runs
    _vouched = True


def applies(argv: Sequence[str]) -> bool:
    """Whether ``argv`` may be answered from a kept verdict (``lock --check``, not
    ``--full``, the memo not turned off)."""
    return (
        bool(argv)
        and argv[0] == "lock"
        and "--check" in argv
        and "--full" not in argv
        and not os.environ.get("TUMBLER_NO_MEMO")
    )


def _cache_root(argv: Sequence[str]) -> str:
    """The cache folder ``argv`` names (``--cache-dir``), else the default's place."""
    for index, word in enumerate(argv):
        if word == "--cache-dir" and index + 1 < len(argv):
            return os.path.abspath(argv[index + 1])
        if word.startswith("--cache-dir="):
            return os.path.abspath(word.partition("=")[2])
    explicit = os.environ.get("TUMBLER_CACHE_DIR")
    if explicit:
        return os.path.abspath(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return os.path.join(xdg or os.path.join(os.path.expanduser("~"), ".cache"), "tumbler")


def _code_signature() -> list[tuple[str, int, int]]:
    """Every source file of tumbler and ``packaging`` by size and time: an edited
    checkout (same version) answers afresh."""
    import importlib.util

    folders = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
    spec = importlib.util.find_spec("packaging")
    folders += list(spec.submodule_search_locations or ()) if spec is not None else []
    signature = []
    for folder in folders:
        for place, _, names in os.walk(folder):
            for name in sorted(names):
                if name.endswith(".py"):
                    path = os.path.join(place, name)
                    status = os.stat(path)
                    signature.append((path, status.st_size, status.st_mtime_ns))
    return sorted(signature)


def _question(argv: Sequence[str]) -> bytes:
    """Everything besides the files read that the answer to ``argv`` may depend on
    (asked once per run: the recall and the recorder share it)."""
    key = tuple(argv)
    if key not in _asked:
        _asked[key] = _ask(argv)
    return _asked[key]


_asked: dict[tuple[str, ...], bytes] = {}


def _ask(argv: Sequence[str]) -> bytes:
    import time

    setting = sorted(
        (name, value)
        for name, value in os.environ.items()
        if name.startswith(_PREFIXES) or name in _NAMES
    )
    today = time.strftime("%Y-%m-%d", time.gmtime())
    terminals = (sys.stdout.isatty(), sys.stderr.isatty())
    question = (_FORMAT, list(argv), os.getcwd(), setting, today, sys.executable, sys.version)
    # repr, not marshal: marshal's bytes depend on reference counts, repr of plain
    # strings, numbers and containers does not
    return repr((*question, terminals, _code_signature())).encode()


def _entry_path(argv: Sequence[str], question: bytes) -> str:
    import hashlib

    name = hashlib.sha256(question).hexdigest()
    return os.path.join(_cache_root(argv), "memo", name[:2], name)


def _digest(path: str) -> str | None:
    import hashlib

    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None


def _stat(path: str) -> tuple[int, int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_ino, status.st_size, status.st_mtime_ns)


def _listing(folder: str) -> tuple[str, ...] | None:
    try:
        return tuple(sorted(os.listdir(folder)))
    except OSError:
        return None


#: How each kind of entry is looked at now: file by content, cache file by status,
#: folder by its names.
_LOOK = {"h": _digest, "s": _stat, "d": _listing}


def recall(argv: Sequence[str]) -> tuple[int, str, str] | None:
    """The kept answer to ``argv`` (exit code, stdout, stderr) if every file it read is
    as it was, else None."""
    question = _question(argv)
    path = _entry_path(argv, question)
    try:
        with open(path, "rb") as handle:
            entry = marshal.load(handle)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(entry, tuple) or len(entry) != 5 or entry[0] != question:
        return None
    _, reads, code, out, err = entry
    for kind, place, seen in reads:
        if _LOOK[kind](place) != seen:
            return None
    try:
        os.utime(path)  # used: not stale
    except OSError:
        return code, out, err  # an entry that cannot be marked used is pruned sooner
    return code, out, err


class _Tee:
    """A text stream that also keeps what was written to it."""

    def __init__(self, stream: object) -> None:
        self._stream = stream
        self.kept: list[str] = []

    def write(self, text: str) -> int:
        self.kept.append(text)
        written: int = self._stream.write(text)  # type: ignore[attr-defined]
        return written

    def __getattr__(self, name: str) -> object:
        return getattr(self._stream, name)


class Recorder:
    """Watch one run of the checker: the files it opens, whether it reached outside
    (a subprocess, a socket), what it printed; then keep the verdict if it may be."""

    def __init__(self, argv: Sequence[str]) -> None:
        self.argv = list(argv)
        self.question = _question(argv)
        self.opened: dict[str, None] = {}
        self.listed: dict[str, None] = {}
        self.outside = False
        self.watching = True
        self.out = _Tee(sys.stdout)
        self.err = _Tee(sys.stderr)

    def __enter__(self) -> Recorder:
        sys.addaudithook(self._hear)
        sys.stdout, sys.stderr = self.out, self.err
        return self

    def __exit__(self, *exc: object) -> None:
        self.watching = False
        sys.stdout, sys.stderr = self.out._stream, self.err._stream

    def _hear(self, event: str, args: tuple[object, ...]) -> None:
        if not self.watching:
            return
        if event == "open":
            path = args[0]
            if isinstance(path, bytes):
                path = os.fsdecode(path)
            if isinstance(path, str) and not path.endswith(_CODE):
                self.opened[os.path.abspath(path)] = None
        elif event in _LISTING:
            folder = args[0] if args and args[0] is not None else "."
            if isinstance(folder, bytes):
                folder = os.fsdecode(folder)
            if isinstance(folder, str):
                self.listed[os.path.abspath(folder)] = None
        elif event.startswith(_OUTSIDE):
            self.outside = True

    def keep(self, code: int) -> bool:
        """Keep the verdict if the command vouched for it; whether it was kept."""
        out, err = "".join(self.out.kept), "".join(self.err.kept)
        if code != 0 or not _vouched or self.outside or "\r" in err or "\x1b" in err:
            return False
        entry = marshal.dumps((self.question, self._reads(), code, out, err))
        return _write(_entry_path(self.argv, self.question), entry)

    def _reads(self) -> list[tuple[str, str, object]]:
        """What to look at again: each file opened, each folder listed that is not code,
        and the folder of each project file (a file appearing beside the project)."""
        cache = _cache_root(self.argv) + os.sep
        here = os.getcwd() + os.sep
        code = tuple(_code_folders())
        reads: list[tuple[str, str, object]] = []
        folders = {folder: None for folder in self.listed if not _under(folder, code)}
        for path in self.opened:
            if path.startswith(cache):
                reads.append(("s", path, _stat(path)))
                continue
            reads.append(("h", path, _digest(path)))
            if path.startswith(here) or os.path.basename(path).startswith(_PROJECT):
                folders[os.path.dirname(path)] = None
        reads += [("d", folder, _listing(folder)) for folder in sorted(folders)]
        return reads


def _code_folders() -> set[str]:
    """Where the interpreter and installed code live: listing them is import machinery
    (code is in the signature)."""
    places = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    places.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return {os.path.abspath(place) for place in places}


def _under(folder: str, places: tuple[str, ...]) -> bool:
    return any(folder == place or folder.startswith(place + os.sep) for place in places)


def _write(path: str, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically; drop stale entries; False if it cannot."""
    import tempfile

    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    except OSError:
        return False  # a cache that cannot be written only loses the shortcut
    _prune(os.path.dirname(folder))
    return True


def _prune(root: str) -> None:
    import time

    limit = time.time() - _STALE
    try:
        for shard in os.scandir(root):
            for entry in os.scandir(shard.path) if shard.is_dir() else ():
                if entry.stat().st_mtime < limit:
                    os.unlink(entry.path)
    except OSError:
        return
