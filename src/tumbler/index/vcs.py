"""Git sources: a ``git+`` URL and revision, resolved to a commit and checked out in a cache.

Layout under the cache directory::

    git/<sha256 of the URL>/        a bare mirror of the repository's branches and tags
    git/<sha256 of the URL>.lock    held (flock) while the mirror is fetched or read
    checkouts/<commit id>/          a full clone of the mirror, detached at that commit

A checkout is built in a temporary directory next to its final place and renamed there, so
a reader never sees half of one and two processes racing both end up with the same one. A
full 40-hex revision whose checkout (or commit) is cached needs no network. Credentials in
the URL are used to fetch but never recorded: :attr:`Checkout.url`, the cache key and every
message carry the URL without them. Git runs with ``GIT_TERMINAL_PROMPT=0``, stdin from
``/dev/null`` and no controlling terminal, so it fails instead of asking for a password.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit, urlunsplit

from tumbler.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = ["Checkout", "checkout_git", "parse_vcs_url"]

_FULL_SHA = re.compile(r"[0-9a-f]{40}")
_SHORT_SHA = re.compile(r"[0-9a-f]{4,39}")
_SCHEMES = frozenset({"https", "http", "ssh", "git", "file"})
#: Where the remote's HEAD is kept in a mirror (fetched only when no revision is asked for).
_HEAD_REF = "refs/tumbler/HEAD"
_BRANCHES_AND_TAGS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
_FETCH_FLAGS = ("--quiet", "--force", "--prune", "--no-tags")
#: Over the caller's environment for every git command: fail rather than prompt.
_NO_PROMPT = {"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never"}
#: Dropped from the caller's environment: they would point git at some other repository.
_REPOSITORY_VARIABLES = frozenset(
    {
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_OBJECT_DIRECTORY",
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_COMMON_DIR",
        "GIT_NAMESPACE",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkout:
    """One commit of a git repository, checked out in the cache.

    Attributes:
        url: The repository URL, without ``git+``, revision, fragment or credentials (an ssh
            user name stays: it is not a secret).
        requested_revision: The revision asked for (branch, tag, sha, ref), or None for HEAD.
        commit_id: The full 40-hex commit id it resolved to.
        path: The checkout (a git work tree, detached at ``commit_id``); do not modify it.
    """

    url: str
    requested_revision: str | None
    commit_id: str
    path: Path


def parse_vcs_url(url: str) -> tuple[str, str | None, str | None]:
    """Split a pip-style git URL into (repository URL, revision, subdirectory).

    ``git+https://host/r.git@v1#subdirectory=sub`` gives ``("https://host/r.git", "v1",
    "sub")``; ``git+ssh://`` and ``git+file://`` work alike. The repository URL keeps any
    credentials (they are needed to fetch); the revision and subdirectory are None when
    absent.

    Raises:
        InputError: Not a ``git+`` URL of a known scheme, an empty revision, or a
            subdirectory that is absolute or climbs out with ``..``.
    """
    if not url.startswith("git+"):
        raise InputError(f"{_redact(url)}: not a git URL (expected git+https://, git+ssh://, ...)")
    parts = urlsplit(url.removeprefix("git+"))
    if parts.scheme not in _SCHEMES or (parts.scheme != "file" and not parts.netloc):
        raise InputError(f"{_redact(url)}: not a git URL (expected git+https://, git+ssh://, ...)")
    path, revision = parts.path, None
    if "@" in path:
        path, _, text = path.rpartition("@")
        revision = unquote(text)
        if not revision:
            raise InputError(f"{_redact(url)}: empty revision after '@'")
    subdirectory = None
    for item in parts.fragment.split("&"):
        key, _, value = item.partition("=")
        if key == "subdirectory":
            subdirectory = _checked_subdirectory(unquote(value), url)
    repository = urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
    return repository, revision, subdirectory


def checkout_git(
    url: str, revision: str | None, cache_dir: Path, *, offline: bool = False
) -> Checkout:
    """Resolve ``revision`` of the repository at ``url`` to a commit and check it out.

    Args:
        url: The repository URL (a leading ``git+`` is ignored), credentials allowed.
        revision: A branch, tag, abbreviated or full commit id, or a full ref name
            (``refs/...``); None for the remote's HEAD. Branches win over tags, tags over
            abbreviated ids, as pip does.
        cache_dir: The cache root (see the module docstring for its layout).
        offline: Use only the cache: its last fetched branches and tags, and its commits.

    Returns:
        The checkout, in ``cache_dir/checkouts/<commit id>``.

    Raises:
        InputError: Git failed (the message carries git's own words), the revision names
            nothing, or ``offline`` and the cache lacks it.
    """
    fetch_url = url.removeprefix("git+")
    public = _redact(fetch_url)
    if not fetch_url or fetch_url.startswith("-"):
        raise InputError(f"{public!r}: not a git repository URL")
    if revision is not None and (
        not revision or revision.startswith("-") or any(c.isspace() for c in revision)
    ):
        raise InputError(f"{public}: invalid git revision {revision!r}")
    wanted = revision.lower() if revision and _FULL_SHA.fullmatch(revision.lower()) else None
    checkouts = cache_dir / "checkouts"
    if wanted is not None and (checkouts / wanted).is_dir():
        return Checkout(
            url=public, requested_revision=revision, commit_id=wanted, path=checkouts / wanted
        )
    try:
        return _checkout(fetch_url, public, revision, wanted, cache_dir, offline=offline)
    except OSError as error:
        raise InputError(f"{public}: cannot use the git cache {cache_dir}: {error}") from None


def _checkout(
    fetch_url: str,
    public: str,
    revision: str | None,
    wanted: str | None,
    cache_dir: Path,
    *,
    offline: bool,
) -> Checkout:
    """:func:`checkout_git` once the cheap cases are done; OSErrors escape."""
    checkouts = cache_dir / "checkouts"
    git = _Git(fetch_url, public)
    key = hashlib.sha256(public.encode()).hexdigest()
    mirror = cache_dir / "git" / key
    shown = revision or "HEAD"
    with _locked(cache_dir / "git" / f"{key}.lock"):
        if offline:
            commit = _resolve(git, mirror, revision) if (mirror / "HEAD").is_file() else None
            if commit is None:
                raise InputError(f"{public}: revision {shown} is not in the cache (offline)")
        else:
            _ensure_mirror(git, mirror)
            commit = _resolve(git, mirror, revision) if wanted is not None else None
            if commit is None:
                refspecs = list(_BRANCHES_AND_TAGS)
                if revision is None:
                    refspecs.insert(0, f"+HEAD:{_HEAD_REF}")
                elif revision.startswith("refs/") and not revision.startswith(
                    ("refs/heads/", "refs/tags/")
                ):
                    refspecs.append(f"+{revision}:{revision}")
                git.run(
                    "fetch", ["--git-dir", str(mirror), "fetch", *_FETCH_FLAGS, git.url, *refspecs]
                )
                commit = _resolve(git, mirror, revision)
            if commit is None and wanted is not None:
                # Not on any branch or tag: ask for the commit itself (servers may refuse).
                refspec = f"+{wanted}:refs/tumbler/commits/{wanted}"
                try:
                    git.run(
                        "fetch",
                        ["--git-dir", str(mirror), "fetch", *_FETCH_FLAGS, git.url, refspec],
                    )
                except InputError as error:
                    reason = str(error).rpartition(" failed: ")[2]
                    raise InputError(f"{public}: unknown revision {shown} ({reason})") from None
                commit = _resolve(git, mirror, revision)
            if commit is None:
                raise InputError(f"{public}: unknown revision {shown}")
        path = _materialize(git, mirror, commit, checkouts, offline=offline)
    return Checkout(url=public, requested_revision=revision, commit_id=commit, path=path)


# --- internals ------------------------------------------------------------------------------


class _Git:
    """Run git for one repository, turning failures into InputError without credentials."""

    def __init__(self, url: str, public: str) -> None:
        self.url = url
        self.public = public

    def run(self, what: str, args: Sequence[str]) -> str:
        """Run ``git ARGS``; its stdout, stripped. ``what`` names the step in errors."""
        environment = {k: v for k, v in os.environ.items() if k not in _REPOSITORY_VARIABLES}
        environment.update(_NO_PROMPT)
        environment.setdefault("SSH_ASKPASS_REQUIRE", "never")
        try:
            done = subprocess.run(
                ["git", *args],
                env=environment,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                errors="replace",
                start_new_session=True,
                check=False,
            )
        except OSError as error:
            raise InputError(f"{self.public}: cannot run git: {error.strerror}") from None
        if done.returncode != 0:
            raise InputError(f"{self.public}: git {what} failed: {self._reason(done)}")
        return done.stdout.strip()

    def succeeds(self, args: Sequence[str]) -> str | None:
        """Stdout of ``git ARGS`` when it exits 0, else None (for probing)."""
        try:
            return self.run("probe", args)
        except InputError:
            return None

    def _reason(self, done: subprocess.CompletedProcess[str]) -> str:
        """The most telling line git printed: its first ``fatal:``, else its last line.

        Before git's generic "Could not read from remote repository" the transport (ssh)
        said what went wrong; that line is shown instead.
        """
        lines = [line.strip() for line in (done.stderr + "\n" + done.stdout).splitlines()]
        lines = [line for line in lines if line]
        fatal = next((i for i, line in enumerate(lines) if line.startswith("fatal:")), None)
        if fatal is None:
            chosen = lines[-1] if lines else f"exit status {done.returncode}"
        elif "Could not read from remote repository" in lines[fatal] and fatal > 0:
            chosen = lines[fatal - 1]
        else:
            chosen = lines[fatal]
        if self.url != self.public:
            chosen = chosen.replace(self.url, self.public)
            userinfo = urlsplit(self.url).netloc.rpartition("@")[0]
            if userinfo:
                chosen = chosen.replace(f"{userinfo}@", "")
                password = userinfo.partition(":")[2]
                if password:
                    chosen = chosen.replace(password, "***")
        return chosen


def _redact(url: str) -> str:
    """``url`` without credentials: user and password go, except an ssh user name."""
    parts = urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url
    userinfo, _, host = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    keep = f"{user}@" if parts.scheme.endswith("ssh") and user else ""
    return urlunsplit(parts._replace(netloc=keep + host))


def _checked_subdirectory(value: str, url: str) -> str:
    relative = PurePosixPath(value)
    if not value or relative.is_absolute() or ".." in relative.parts:
        raise InputError(f"{_redact(url)}: subdirectory {value!r} must be a relative path")
    return value


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) for the block (POSIX only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        if sys.platform != "win32":
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield


def _ensure_mirror(git: _Git, mirror: Path) -> None:
    """Create the bare mirror if it is missing (built aside, then renamed into place)."""
    if (mirror / "HEAD").is_file():
        return
    if mirror.exists():  # a leftover without HEAD: not a repository
        shutil.rmtree(mirror, ignore_errors=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{mirror.name[:12]}-", dir=mirror.parent))
    try:
        git.run("init", ["init", "--quiet", "--bare", str(scratch)])
        _rename_into_place(scratch, mirror)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _resolve(git: _Git, mirror: Path, revision: str | None) -> str | None:
    """The commit ``revision`` names in the mirror, or None."""
    if revision is None:
        candidates = [_HEAD_REF]
    elif _FULL_SHA.fullmatch(revision.lower()):
        candidates = [revision.lower()]
    elif revision.startswith("refs/"):
        candidates = [revision]
    else:
        candidates = [f"refs/heads/{revision}", f"refs/tags/{revision}"]
        if _SHORT_SHA.fullmatch(revision.lower()):
            candidates.append(revision.lower())
    for candidate in candidates:
        found = git.succeeds(
            [
                "--git-dir",
                str(mirror),
                "rev-parse",
                "--verify",
                "--quiet",
                f"{candidate}^{{commit}}",
            ]
        )
        if found and _FULL_SHA.fullmatch(found):
            is_ref = candidate.startswith("refs/")
            if is_ref or found.startswith(candidate):
                return found
    return None


def _materialize(git: _Git, mirror: Path, commit: str, checkouts: Path, *, offline: bool) -> Path:
    """``checkouts/<commit>``, cloned from the mirror unless another run made it already."""
    target = checkouts / commit
    if target.is_dir():
        return target
    checkouts.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{commit[:12]}-", dir=checkouts))
    try:
        git.run("clone", ["clone", "--quiet", "--no-checkout", str(mirror), str(scratch)])
        git.run("checkout", ["-C", str(scratch), "checkout", "--quiet", "--detach", commit])
        if (scratch / ".gitmodules").is_file():
            if offline:
                raise InputError(f"{git.public}: {commit} has submodules; they need the network")
            git.run("remote", ["-C", str(scratch), "remote", "set-url", "origin", git.url])
            git.run(
                "submodule update",
                ["-C", str(scratch), "submodule", "update", "--init", "--recursive", "--quiet"],
            )
        git.run("remote", ["-C", str(scratch), "remote", "set-url", "origin", git.public])
        _rename_into_place(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _rename_into_place(scratch: Path, target: Path) -> None:
    """Rename ``scratch`` to ``target``; if another process got there first, keep theirs."""
    try:
        scratch.rename(target)
    except OSError:
        if not target.is_dir():
            raise
