"""Which package indexes to use, from the command line, the project and the environment.

The default index, first match wins:

1. ``--index-url``; 2. ``TUMBLER_INDEX_URL``; 3. ``[tool.tumbler] index-url`` (or ``-i`` in a
requirements file); 4. ``PIP_INDEX_URL``; 5. ``UV_DEFAULT_INDEX`` / ``UV_INDEX_URL``;
6. ``index-url`` in pip's configuration files; 7. the public index pip itself defaults to
(read from pip, never written here).

Extra indexes are the union, in that order, of ``--extra-index-url``,
``TUMBLER_EXTRA_INDEX_URL``, the project's, ``PIP_EXTRA_INDEX_URL``, ``UV_INDEX`` /
``UV_EXTRA_INDEX_URL`` and pip's configuration. A package comes from the first index that
has it (like uv's ``first-index``: a name on the default index cannot be taken over from an
extra one), unless ``[tool.tumbler.package-index]`` pins it (by name or glob pattern) to
one index: a URL, or the name of a ``[[tool.tumbler.index]]`` (an index searched only for
the packages pinned to it).

Only the indexes the project declares (``[tool.tumbler]``, a requirements file's
``--index-url``) are lock inputs: the others are this machine's way of reaching packages,
used to fetch and never recorded or compared (:attr:`IndexConfig.declared`). A ``file:``
index from this machine's configuration (pip's configuration files, ``PIP_*`` / ``UV_*``
variables) is not used for locking at all: its paths would end up in the lock.
"""

from __future__ import annotations

import configparser
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from packaging.utils import NormalizedName

    from tumbler.project.pyproject import Settings

__all__ = ["IndexConfig", "check_url", "default_index_url", "index_config", "pip_config"]


def default_index_url() -> str:
    """The public index's simple API URL, as pip publishes it."""
    from pip._internal.models.index import PyPI

    return str(PyPI.simple_url)


def _pip_config_files() -> list[Path]:
    explicit = os.environ.get("PIP_CONFIG_FILE")
    if explicit == os.devnull:
        return []
    home = Path.home()
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    files = [Path("/etc/xdg/pip/pip.conf"), Path("/etc/pip.conf")]
    files += [home / ".pip" / "pip.conf", xdg / "pip" / "pip.conf"]
    files.append(Path(sys.prefix) / "pip.conf")
    if explicit:
        files.append(Path(explicit))
    return files


def pip_config() -> dict[str, str]:
    """``index-url`` and ``extra-index-url`` from pip's configuration files (global, install)."""
    if os.environ.get("PIP_ISOLATED") or os.environ.get("PIP_NO_CONFIG"):
        return {}
    parser = configparser.RawConfigParser()
    for path in _pip_config_files():
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, OSError, UnicodeDecodeError):
            continue
    found: dict[str, str] = {}
    for section in ("global", "install"):
        if parser.has_section(section):
            for key in ("index-url", "extra-index-url"):
                if parser.has_option(section, key):
                    found[key] = parser.get(section, key)
    return found


def _split(value: str | None) -> list[str]:
    return value.split() if value else []


@dataclass(frozen=True, slots=True)
class IndexConfig:
    """The indexes to search, default first, with credentials as given."""

    urls: tuple[str, ...]
    package_indexes: Mapping[NormalizedName, str] = field(default_factory=dict)
    #: The indexes the project itself declares, in order: the lock's recorded inputs.
    declared: tuple[str, ...] = ()
    #: The indexes this machine's pip or uv configuration added: searched, never named
    #: in messages (their paths mean nothing on another machine).
    machine: frozenset[str] = frozenset()

    def shown_for(self, name: NormalizedName) -> tuple[str, ...]:
        """The indexes ``name`` may come from that a message may name."""
        return tuple(u for u in self.for_package(name) if u not in self.machine)

    def for_package(self, name: NormalizedName) -> tuple[str, ...]:
        """The indexes ``name`` may come from, in order: its pin (the name itself, else
        the first glob pattern that matches it, in the order the project gives them),
        else every index."""
        pinned = self.pinned(name)
        return (pinned,) if pinned is not None else self.urls

    def pinned(self, name: NormalizedName) -> str | None:
        """The one index ``name`` is pinned to, if any."""
        exact = self.package_indexes.get(name)
        if exact is not None or not self.package_indexes:
            return exact
        from fnmatch import fnmatchcase

        return next(
            (
                url
                for key, url in self.package_indexes.items()
                if "*" in key and fnmatchcase(name, key)
            ),
            None,
        )


def index_config(
    settings: Settings,
    *,
    index_url: str | None = None,
    extra_index_urls: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
) -> IndexConfig:
    """The indexes for a project with ``settings`` and these command-line options."""
    env = os.environ if environ is None else environ
    pip = pip_config()
    uv_default = env.get("UV_DEFAULT_INDEX") or env.get("UV_INDEX_URL")
    machine_default = env.get("PIP_INDEX_URL") or uv_default or pip.get("index-url")
    default = (
        index_url
        or env.get("TUMBLER_INDEX_URL")
        or settings.index_url
        or _remote(machine_default)
        or default_index_url()
    )
    machine = [
        *_split(env.get("PIP_EXTRA_INDEX_URL")),
        *_split(env.get("UV_INDEX")),
        *_split(env.get("UV_EXTRA_INDEX_URL")),
        *_split(pip.get("extra-index-url")),
    ]
    extras = [
        *extra_index_urls,
        *_split(env.get("TUMBLER_EXTRA_INDEX_URL")),
        *settings.extra_index_urls,
        *(url for url in machine if _remote(url)),
    ]
    urls = _unique([default, *extras])
    declared = _unique([*filter(None, [settings.index_url]), *settings.extra_index_urls])
    for url in (*urls, *settings.package_indexes.values()):
        _check_url(url)
    explicit = index_url or env.get("TUMBLER_INDEX_URL") or settings.index_url
    given = {
        explicit,
        *extra_index_urls,
        *_split(env.get("TUMBLER_EXTRA_INDEX_URL")),
        *settings.extra_index_urls,
    }
    if explicit or not _remote(machine_default):
        given.add(default)  # the option's, or the public default: not this machine's
    return IndexConfig(
        urls=tuple(urls),
        package_indexes=dict(settings.package_indexes),
        declared=tuple(declared),
        machine=frozenset(u for u in urls if u not in given),
    )


def _check_url(url: str) -> None:
    """A usage error naming ``url`` when it is not an http(s) or file URL that parses
    (control characters refused: curl would stop at a NUL)."""
    from urllib.parse import urlsplit

    from tumbler.errors import UsageError
    from tumbler.net.urls import redact

    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        raise UsageError(f"index URL {redact(url)!r} holds a control character")
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  (a bad port or host raises only when read)
    except ValueError as error:
        raise UsageError(f"index URL {redact(url)!r} does not parse: {error}") from None
    if parts.scheme not in ("http", "https", "file") or not (parts.netloc or parts.path):
        raise UsageError(
            f"index URL {redact(url)!r} is not an http, https or file URL of a simple index"
        )


def _remote(url: str | None) -> str | None:
    """``url`` unless it names a local path (``file:``), which a lock must not carry."""
    if url is None or url.strip().lower().startswith("file:"):
        return None
    return url


def _unique(urls: Sequence[str]) -> list[str]:
    out: list[str] = []
    for url in urls:
        if url.strip() and url.strip() not in out:
            out.append(url.strip())
    return out


#: Whether ``url`` may be used as an index (a usage error naming it when not).
check_url = _check_url
