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
  times but the same bytes; an unchanged inode, size and time spare the hashing unless
  the time is too close to the entry's making, git's racy-clean rule); for the
  project's own files (in the working folder, or a ``pyproject.toml``, ``pylock.*`` or
  ``requirements*`` anywhere) also the names in its folder (a file appearing beside the
  project is a change even if nothing opened it yet);
- a folder the run listed by its names (not the interpreter's own folders: code is in
  the signature);
- a file in the cache by its inode, size and time (the cache never edits a file in place:
  every write is a new file renamed into place, see :mod:`tumbler.net.cache`);
- a file that was absent must still be absent.

Only a clean verdict (exit 0, from the records gate, no subprocess, no network, no file
changed while the run read it) is kept; drift, errors and ``--full`` always run the
checker. Nothing here changes an answer: a kept verdict is replayed byte for byte, and
any difference in what the run would read makes it run. ``TUMBLER_NO_MEMO=1`` turns it
off. The entries live under ``<cache>/memo/`` and are dropped after a week unused.

This module imports only what the interpreter has already loaded (``marshal`` is
built in, ``binascii`` names an entry; ``hashlib`` only when a file must be hashed), so
a kept answer costs the interpreter's start-up and a few milliseconds.
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
#: A file whose time is this close to the entry's making is hashed again (nanoseconds).
_RACY = 2_000_000_000
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
    folders = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
    folders += _packaging_folders()
    signature = []
    for folder in folders:
        for place, _, names in os.walk(folder):
            for name in sorted(names):
                if name.endswith(".py"):
                    path = os.path.join(place, name)
                    status = os.stat(path)
                    signature.append((path, status.st_size, status.st_mtime_ns))
    return sorted(signature)


def _packaging_folders() -> list[str]:
    """Where ``packaging`` imports from (the first ``sys.path`` entry holding it, as the
    import system looks; ``importlib.util`` would cost 3 ms of every answer)."""
    for entry in sys.path:
        folder = os.path.join(os.path.abspath(entry or "."), "packaging")
        if os.path.isfile(os.path.join(folder, "__init__.py")):
            return [folder]
    return []


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
    """Where the entry for ``question`` lives. The name needs no strength: the entry
    holds the whole question and answers only that one (a clash only costs a miss)."""
    import binascii

    name = f"{binascii.crc32(question):08x}{len(question):x}"
    return os.path.join(_cache_root(argv), "memo", name[:2], name)


def _digest(path: str) -> str | None:
    import hashlib

    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return None


def _stat(path: str) -> tuple[int, int, int] | None:
    """A file's inode, size and time; None if absent. A device (``/dev/null`` as
    ``PIP_CONFIG_FILE``) is only its inode: its time moves with every write to it."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    if status.st_mode & 0o170000 != 0o100000:
        return (status.st_ino, -1, -1)
    return (status.st_ino, status.st_size, status.st_mtime_ns)


def _listing(folder: str) -> tuple[str, ...] | None:
    try:
        return tuple(sorted(os.listdir(folder)))
    except OSError:
        return None


def _same_bytes(path: str, seen: object) -> bool:
    """Whether the file at ``path`` holds the bytes it held (``seen``: its status and
    sha256 then). An unchanged inode, size and time are enough unless the time was
    within :data:`_RACY` of the moment the entry was made (a write in the same clock
    tick keeps the time: the racy-git rule); else the bytes are hashed again."""
    if not isinstance(seen, tuple) or len(seen) != 3:
        return False
    status, digest, made = seen
    now = _stat(path)
    if now is None or status is None:
        return now is None and status is None
    if now == status and isinstance(made, int) and now[2] < made - _RACY:
        return True
    return bool(_digest(path) == digest)


def _same_status(path: str, seen: object) -> bool:
    return _stat(path) == seen


def _same_names(folder: str, seen: object) -> bool:
    return _listing(folder) == seen


#: How each kind of entry is looked at now: file by its bytes, cache file by status,
#: folder by its names.
_LOOK = {"h": _same_bytes, "s": _same_status, "d": _same_names}


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
        if not _LOOK[kind](place, seen):
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
        #: each file opened, with its status when first opened
        self.opened: dict[str, tuple[int, int, int] | None] = {}
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
                path = os.path.abspath(path)
                if path not in self.opened:
                    self.opened[path] = _stat(path)
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
        reads = self._reads()
        if reads is None:
            return False
        entry = marshal.dumps((self.question, reads, code, out, err))
        return _write(_entry_path(self.argv, self.question), entry)

    def _reads(self) -> list[tuple[str, str, object]] | None:
        """What to look at again: each file opened, each folder listed that is not code,
        and the folder of each project file (a file appearing beside the project). None
        when a file outside the cache changed while the run read it (the verdict may be
        about neither). The cache may gain files during the run (records the run worked
        out and kept): the status it ends with is the one to find again."""
        import time

        made = time.time_ns()
        cache = _cache_root(self.argv) + os.sep
        here = os.getcwd() + os.sep
        code = tuple(_code_folders())
        reads: list[tuple[str, str, object]] = []
        folders = {folder: None for folder in self.listed if not _under(folder, code)}
        for path, opened in self.opened.items():
            status = _stat(path)
            if path.startswith(cache):  # written only by renaming a new file into place
                reads.append(("s", path, status))
                continue
            if status != opened:
                return None
            reads.append(("h", path, (status, _digest(path), made)))
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
