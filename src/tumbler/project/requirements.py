"""Read pip-style ``requirements.in`` files: the requirement input of ``tumbler lock``.

The reader follows pip's requirement-file format (``pip._internal.req.req_file``):
backslash continuation, then ``#`` comments (at line start or after whitespace, so a
URL fragment such as ``#egg=`` or ``#sha256=`` stays), then ``${NAME}`` environment
variables, then each line split into a requirement and the options after it.

Where pip is loose, tumbler is strict and says so: an unknown option, a stray word
after the options, or a global option (``--index-url``) written after a requirement,
which pip silently ignores, are errors. Relative paths (``-r``, ``-c``, ``-f``, bare
project paths) are relative to the file that names them, never to the working
directory, so reading the same files always gives the same result.

Every problem raises :class:`~tumbler.errors.InputError` with one line that names
``file:line`` and what to do. Nothing here touches the network.
"""

from __future__ import annotations

import os
import re
import shlex
import tomllib
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from tumbler.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Entry", "RequirementsFile", "read_requirements"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One requirement line.

    ``requirement`` is PEP 508; a local path or bare URL becomes ``name @ <url>``,
    a path with an absolute ``file://`` URL. ``origin`` is ``file:line``, the file
    relative to the top file's directory and the line 1-based (the first line of a
    continued line).
    """

    requirement: Requirement
    editable: bool = False
    origin: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RequirementsFile:
    """Everything a requirements file and the files it includes say."""

    #: The top file, as given.
    path: Path
    #: In file order, ``-r`` includes expanded in place.
    requirements: tuple[Entry, ...]
    #: From ``-c`` files, recursively (a ``-r`` inside a ``-c`` file gives constraints too).
    constraints: tuple[Entry, ...]
    #: The last ``--index-url`` / ``-i`` seen, as pip does.
    index_url: str | None
    #: Every ``--extra-index-url``, in order, without duplicates.
    extra_index_urls: tuple[str, ...]
    no_index: bool
    #: Every ``--find-links``, in order, without duplicates; local paths made absolute.
    find_links: tuple[str, ...]
    #: ``--pre`` seen anywhere.
    prereleases: bool
    #: Every file read (absolute), top first, each once.
    files: tuple[Path, ...]


def read_requirements(path: Path) -> RequirementsFile:
    """Read ``path`` and every file it includes; raise :class:`InputError` on any problem."""
    reader = _Reader(path)
    reader.read(reader.top, constraint=False, stack=(), where=None)
    return RequirementsFile(
        path=path,
        requirements=tuple(reader.requirements),
        constraints=tuple(reader.constraints),
        index_url=reader.index_url,
        extra_index_urls=tuple(reader.extra_index_urls),
        no_index=reader.no_index,
        find_links=tuple(reader.find_links),
        prereleases=reader.prereleases,
        files=tuple(reader.files.values()),
    )


# --- lines ----------------------------------------------------------------------------

#: pip's comment rule: ``#`` at the start or after whitespace, to the end of the line.
_COMMENT = re.compile(r"(^|\s+)#.*$")
#: pip's variable rule: only ``${NAME}`` with uppercase letters, digits and ``_``.
_ENV_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")
#: Where the options start: the first word that begins with ``-``.
_OPTION_START = re.compile(r"(?:^|\s)(?=-)")


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield ``(first line number, line)``: continued, comment-free, variables expanded."""
    for number, joined in _join_lines(text.splitlines()):
        line = _COMMENT.sub("", joined).strip()
        if line:
            yield number, _ENV_VAR.sub(_expand, line)


def _join_lines(lines: list[str]) -> Iterator[tuple[int, str]]:
    """Join a line ending in ``\\`` with the next, as pip does (a comment never continues)."""
    first = 0
    parts: list[str] = []
    for number, raw in enumerate(lines, start=1):
        is_comment = _COMMENT.match(raw) is not None
        if raw.endswith("\\") and not is_comment:
            if not parts:
                first = number
            parts.append(raw[:-1])
            continue
        line = " " + raw if is_comment else raw  # keeps the comment a comment once joined
        if parts:
            yield first, "".join([*parts, line])
            parts = []
        else:
            yield number, line
    if parts:
        yield first, "".join(parts)


def _expand(match: re.Match[str]) -> str:
    """An environment variable's value; an unset or empty one stays as written (pip)."""
    return os.environ.get(match.group(1)) or match.group(0)


# --- options --------------------------------------------------------------------------

#: Every option pip allows in a requirements file, by long name: does it take a value?
_TAKES_VALUE = {
    "--index-url": True,
    "--extra-index-url": True,
    "--no-index": False,
    "--constraint": True,
    "--requirement": True,
    "--editable": True,
    "--find-links": True,
    "--pre": False,
    "--hash": True,
    "--config-settings": True,
    # accepted and not used by tumbler
    "--no-binary": True,
    "--only-binary": True,
    "--prefer-binary": False,
    "--require-hashes": False,
    "--no-require-hashes": False,
    "--all-releases": True,
    "--only-final": True,
    "--trusted-host": True,
    "--use-feature": True,
}
_ALIASES = {
    "-i": "--index-url",
    "--pypi-url": "--index-url",
    "-c": "--constraint",
    "-r": "--requirement",
    "-e": "--editable",
    "-f": "--find-links",
    "-C": "--config-settings",
}
#: Options that may follow a requirement on its line (pip's per-requirement options).
_PER_REQUIREMENT = frozenset({"--hash", "--config-settings"})
_HASH = re.compile(r"^[A-Za-z0-9_-]+:[0-9A-Za-z+/=_-]+$")


class _LineError(Exception):
    """A problem on one line; the reader adds ``file:line`` in front."""


@dataclass(frozen=True, slots=True)
class _Option:
    name: str  # the long name, e.g. --requirement
    spelled: str  # as written, e.g. -r
    value: str | None


def _split_line(line: str) -> tuple[str, list[_Option]]:
    """``(requirement text, options)``: the words before the first ``-word`` are the requirement.

    Only the options are shell-split; the requirement is kept whole, since shell
    quoting would spoil markers (pip does the same).
    """
    match = _OPTION_START.search(line)
    if match is None:
        return line, []
    text, rest = line[: match.start()].strip(), line[match.end() :]
    try:
        words = shlex.split(rest)
    except ValueError as exc:
        raise _LineError(f"cannot split the options {rest!r} ({exc}); fix the quoting") from None
    return text, _parse_options(words)


def _parse_options(words: list[str]) -> list[_Option]:
    options: list[_Option] = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word.startswith("--"):
            spelled, equals, inline = word.partition("=")
        elif word.startswith("-") and len(word) > 1:
            spelled, inline = word[:2], word[2:]
            equals = "=" if inline else ""
        else:
            raise _LineError(
                f"unexpected {word!r} after the options; put each requirement "
                "and each option on a line of its own"
            )
        name = _ALIASES.get(spelled, spelled)
        if name not in _TAKES_VALUE:
            raise _LineError(
                f"unknown option {spelled!r}; a requirements file takes the options pip "
                "allows there (-r, -c, -e, -i, --extra-index-url, --no-index, -f, --pre, "
                "--hash, ...): remove it or fix its spelling"
            )
        value: str | None = None
        if _TAKES_VALUE[name]:
            if equals:
                value = inline
            elif index < len(words):
                value = words[index]
                index += 1
            if not value:
                raise _LineError(f"option {spelled!r} needs a value")
        elif equals:
            raise _LineError(f"option {spelled!r} takes no value; write it alone")
        options.append(_Option(name, spelled, value))
    return options


# --- requirements ---------------------------------------------------------------------

#: A URL scheme; two letters at least, so ``C:`` is a drive, not a scheme.
_ANY_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_PLAIN_SCHEMES = frozenset({"http", "https", "file", "ftp"})
_VCS = frozenset({"git", "hg", "svn", "bzr"})
_ARCHIVES = (
    ".whl",
    ".zip",
    ".tar.gz",
    ".tgz",
    ".tar",
    ".tar.bz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
    ".tar.lzma",
)
_EXTRAS = re.compile(r"^(.+?)(\[[^\]]+\])$")
#: ``name @``, ``name[extras] @``: the start of a PEP 508 URL requirement.
_NAMED_URL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(?:\[[^\]]*\])?\s*@")


def _bare_url_scheme(text: str) -> str | None:
    """The scheme when ``text`` is a URL pip takes bare (http, https, file, ftp, VCS)."""
    match = _SCHEME.match(text)
    if match is None:
        return None
    scheme = match.group(1).lower()
    if scheme in _PLAIN_SCHEMES or scheme.split("+", 1)[0] in _VCS:
        return scheme
    return None


def _looks_like_path(text: str) -> bool:
    return "/" in text or "\\" in text or text.startswith(".")


def _to_requirement(text: str, base: Path, *, editable: bool) -> Requirement:
    """Turn one requirement as written into a PEP 508 requirement (paths made absolute)."""
    scheme = _bare_url_scheme(text)
    if scheme is not None:
        return _from_url(text, scheme, base, editable=editable)
    before, _, marker = text.partition(";")
    spot, extras = _strip_extras(before.strip())
    if _looks_like_path(spot) and (base / spot).is_dir():
        return _from_path(text, spot, extras, marker, base, editable=editable)
    if not _NAMED_URL.match(text) and (_looks_like_path(spot) or spot.lower().endswith(_ARCHIVES)):
        return _from_path(text, spot, extras, marker, base, editable=editable)
    if editable:
        raise _LineError(
            f"-e {text!r}: -e takes a local project directory or a VCS URL "
            "(git+https://host/repo#egg=NAME); drop the -e for anything else"
        )
    requirement = _parse(text, text)
    url = requirement.url
    if url is not None and not _ANY_SCHEME.match(url):
        # ``name @ ./pkg``: a path, relative to this file
        local = base / url
        if not local.exists():
            raise _LineError(
                f"{url!r} does not exist (paths are relative to the file that names them); "
                "fix the path"
            )
        requirement.url = local.resolve().as_uri()
    return requirement


def _strip_extras(text: str) -> tuple[str, str]:
    match = _EXTRAS.match(text)
    if match is None:
        return text, ""
    return match.group(1), match.group(2)


def _parse(text: str, written: str) -> Requirement:
    try:
        return Requirement(text)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "invalid"
        raise _LineError(
            f"cannot parse {written!r}: {reason}; write a PEP 508 requirement "
            "(such as 'name[extra]>=1.0; python_version >= \"3.11\"'), a path or a URL"
        ) from None


def _build(name: str, extras: str, url: str, marker: str, written: str) -> Requirement:
    marker = marker.strip()
    return _parse(f"{name}{extras} @ {url}" + (f" ; {marker}" if marker else ""), written)


def _from_path(
    written: str, spot: str, extras: str, marker: str, base: Path, *, editable: bool
) -> Requirement:
    """A bare local path: a project directory, or (not editable) a wheel or sdist."""
    local = base / spot
    if local.is_dir():
        if not (local / "pyproject.toml").is_file() and not (local / "setup.py").is_file():
            raise _LineError(
                f"{spot!r} is not a Python project (no pyproject.toml or setup.py in it); "
                "point at the project's directory"
            )
        name = _project_name(local, spot)
    elif local.is_file():
        if editable:
            raise _LineError(f"-e {spot!r}: -e takes a project directory, not a file")
        if not spot.lower().endswith(_ARCHIVES):
            raise _LineError(
                f"{spot!r} is not a wheel, sdist or project directory; "
                f"to include a requirements file write '-r {spot}'"
            )
        name = _archive_name(local.name, spot)
    else:
        raise _LineError(
            f"{spot!r} does not exist (paths are relative to the file that names them); "
            "fix the path"
        )
    return _build(name, extras, local.resolve().as_uri(), marker, written)


def _project_name(directory: Path, spot: str) -> str:
    """``[project].name`` from the directory's pyproject.toml."""
    pyproject = directory / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _LineError(
            f"cannot read the pyproject.toml of {spot!r} ({exc}); "
            f"fix it, or name the project: 'NAME @ {spot}'"
        ) from None
    project = data.get("project")
    name = project.get("name") if isinstance(project, dict) else None
    if not isinstance(name, str) or not name:
        raise _LineError(
            f"cannot tell the project name of {spot!r} (no [project].name in its "
            f"pyproject.toml); name it: 'NAME @ {spot}'"
        )
    return name


def _archive_name(filename: str, spot: str) -> str:
    """The project name in a wheel or sdist file name."""
    lower = filename.lower()
    try:
        if lower.endswith(".whl"):
            return parse_wheel_filename(filename)[0]
        if lower.endswith((".tar.gz", ".zip")):
            return parse_sdist_filename(filename)[0]
    except (InvalidWheelFilename, InvalidSdistFilename):
        pass
    raise _LineError(
        f"cannot tell the project name of {spot!r} from its file name; name it: 'NAME @ {spot}'"
    )


def _from_url(text: str, scheme: str, base: Path, *, editable: bool) -> Requirement:
    """A bare URL: the name from ``#egg=``, a wheel or sdist file name, or a file: directory."""
    url, _, marker = text.partition("; ")  # a URL may hold ';', so pip wants '; ' here
    url = url.strip()
    address, _, fragment = url.partition("#")
    items = [item for item in fragment.split("&") if item] if fragment else []
    eggs = [item.removeprefix("egg=") for item in items if item.startswith("egg=")]
    kept = [item for item in items if not item.startswith("egg=")]
    clean = address + ("#" + "&".join(kept) if kept else "")
    vcs = scheme.split("+", 1)[0] in _VCS
    if editable and not vcs and scheme != "file":
        raise _LineError(
            f"-e {url!r}: -e takes a local project directory or a VCS URL "
            "(git+https://host/repo#egg=NAME); drop the -e for an archive"
        )
    path = urllib.parse.urlsplit(address).path
    filename = urllib.parse.unquote(path.rsplit("/", 1)[-1])
    extras = ""
    if eggs:
        name, extras = _egg_name(eggs[-1])
    elif scheme == "file" and (base / urllib.request.url2pathname(path)).is_dir():
        name = _project_name(base / urllib.request.url2pathname(path), url)
    elif editable and scheme == "file":
        raise _LineError(f"-e {url!r}: -e takes a project directory, not a file")
    elif not vcs and filename.lower().endswith(_ARCHIVES) and not editable:
        name = _archive_name(filename, url)
    else:
        raise _LineError(
            f"cannot tell the project name of {url!r}; add '#egg=NAME' to the URL "
            f"or write 'NAME @ {url}'"
        )
    return _build(name, extras, clean, marker, text)


def _egg_name(egg: str) -> tuple[str, str]:
    """``(name, "[extras]")`` from an ``#egg=`` value."""
    try:
        parsed = Requirement(urllib.parse.unquote(egg))
    except InvalidRequirement:
        parsed = None
    if parsed is None or parsed.specifier or parsed.url or parsed.marker:
        raise _LineError(f"'#egg={egg}' is not a project name; write '#egg=NAME'")
    extras = f"[{','.join(sorted(parsed.extras))}]" if parsed.extras else ""
    return parsed.name, extras


# --- files ----------------------------------------------------------------------------


class _Reader:
    """Walks the files and gathers what they say, in order."""

    __slots__ = (
        "constraints",
        "extra_index_urls",
        "files",
        "find_links",
        "given",
        "index_url",
        "no_index",
        "prereleases",
        "requirements",
        "seen",
        "texts",
        "top",
        "top_dir",
    )

    def __init__(self, path: Path) -> None:
        self.given = path
        self.top = Path(os.path.normpath(path.absolute()))
        self.top_dir = self.top.parent
        self.requirements: list[Entry] = []
        self.constraints: list[Entry] = []
        self.seen: set[tuple[bool, Entry]] = set()
        self.index_url: str | None = None
        self.extra_index_urls: list[str] = []
        self.no_index = False
        self.find_links: list[str] = []
        self.prereleases = False
        self.files: dict[Path, Path] = {}
        self.texts: dict[Path, str] = {}

    def shown(self, path: Path) -> str:
        """``path`` relative to the top file's directory, with ``/``."""
        try:
            return Path(os.path.relpath(path, self.top_dir)).as_posix()
        except ValueError:  # another drive on Windows
            return path.as_posix()

    def read(
        self,
        path: Path,
        *,
        constraint: bool,
        stack: tuple[tuple[Path, str], ...],
        where: str | None,
    ) -> None:
        """Read one file; ``where`` is the ``file:line`` that includes it (None for the top)."""
        key = path.resolve()
        shown = self.shown(path)
        keys = [k for k, _ in stack]
        if key in keys:
            chain = " -> ".join([n for _, n in stack[keys.index(key) :]] + [shown])
            raise InputError(
                f"{where}: {shown!r} includes itself ({chain}); remove one of the -r/-c lines"
            )
        text = self.text(
            path, key, shown if where else str(self.given), where, constraint=constraint
        )
        self.files.setdefault(key, path)
        stack = (*stack, (key, shown))
        for number, line in _logical_lines(text):
            origin = f"{shown}:{number}"
            try:
                self.line(line, path, origin, constraint=constraint, stack=stack)
            except _LineError as exc:
                raise InputError(f"{origin}: {exc}") from None

    def text(self, path: Path, key: Path, name: str, where: str | None, *, constraint: bool) -> str:
        """The file's text, read once however often it is included."""
        if key in self.texts:
            return self.texts[key]
        kind = "constraints" if constraint else "requirements"
        prefix = f"{where}: cannot read {name!r}" if where else name
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise InputError(
                f"{prefix}: no such {kind} file; check the path"
                + (" (relative to the file that names it)" if where else "")
            ) from None
        except IsADirectoryError:
            raise InputError(f"{prefix}: a directory, not a {kind} file") from None
        except OSError as exc:
            raise InputError(f"{prefix}: {exc.strerror or exc}") from None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise InputError(
                f"{name}:{line}: not UTF-8 text (byte {exc.start}); save it as UTF-8"
            ) from None
        self.texts[key] = text
        return text

    def line(
        self,
        line: str,
        path: Path,
        origin: str,
        *,
        constraint: bool,
        stack: tuple[tuple[Path, str], ...],
    ) -> None:
        text, options = _split_line(line)
        editables = [o for o in options if o.name == "--editable"]
        if text or editables:
            self.requirement_line(text, editables, options, path, origin, constraint=constraint)
            return
        for option in options:
            value = option.value or ""
            match option.name:
                case "--requirement" | "--constraint":
                    target = self.include_path(value, path)
                    self.read(
                        target,
                        constraint=constraint or option.name == "--constraint",
                        stack=stack,
                        where=origin,
                    )
                case "--index-url":
                    self.index_url = value
                case "--extra-index-url":
                    if value not in self.extra_index_urls:
                        self.extra_index_urls.append(value)
                case "--no-index":
                    self.no_index = True
                case "--find-links":
                    if not _ANY_SCHEME.match(value):
                        value = os.path.normpath(path.parent / value)
                    if value not in self.find_links:
                        self.find_links.append(value)
                case "--pre":
                    self.prereleases = True
                case "--hash":
                    _check_hash(value)  # with no requirement: ignored, as pip does
                case _:
                    pass  # accepted, not used by tumbler

    def requirement_line(
        self,
        text: str,
        editables: list[_Option],
        options: list[_Option],
        path: Path,
        origin: str,
        *,
        constraint: bool,
    ) -> None:
        for option in options:
            if option.name not in _PER_REQUIREMENT and (option.name != "--editable" or text):
                raise _LineError(
                    f"option {option.spelled!r} cannot follow a requirement "
                    "(pip would ignore it); put it on a line of its own"
                )
        if len(editables) > 1:
            raise _LineError("one -e per line; put each on a line of its own")
        if editables and constraint:
            raise _LineError("a constraints file cannot hold -e; list the project by name")
        for option in options:
            if option.name == "--hash":
                _check_hash(option.value or "")
        editable = bool(editables)
        written = (editables[0].value or "") if editable else text
        entry = Entry(
            requirement=_to_requirement(written, path.parent, editable=editable),
            editable=editable,
            origin=origin,
        )
        if (constraint, entry) in self.seen:  # the same line, reached again by another -r
            return
        self.seen.add((constraint, entry))
        (self.constraints if constraint else self.requirements).append(entry)

    def include_path(self, value: str, path: Path) -> Path:
        scheme = _bare_url_scheme(value)
        if scheme == "file":
            value = urllib.request.url2pathname(urllib.parse.urlsplit(value).path)
        elif scheme is not None:
            raise _LineError(
                f"cannot read {value!r}: tumbler reads only local files; "
                "download it and name its path"
            )
        return Path(os.path.normpath(path.parent / value))


def _check_hash(value: str) -> None:
    if not _HASH.match(value):
        raise _LineError(
            f"--hash={value!r} is not a hash; write --hash=ALGORITHM:HEXDIGEST (sha256:...)"
        )
