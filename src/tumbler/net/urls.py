"""URL helpers every stage may use: credentials out of a URL, a ``file:`` URL's path.

Page parsers, the locker and the install steps need these without the HTTP client that
fetches (:mod:`tumbler.net.http.http`).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

__all__ = ["file_path", "redact"]


def redact(url: str) -> str:
    """``url`` without credentials (``user:pass@``), even when it does not parse."""
    if "@" not in url:
        return url  # nothing to take out (and no parse: locks redact every file's URL)
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed host ("http://[::1/simple"): cut what precedes "@"
        return re.sub(r"//[^/@]*@", "//", url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def file_path(url: str) -> Path:
    """The local path of a ``file:`` URL."""
    from urllib.request import url2pathname  # deferred: it imports http.client

    return Path(url2pathname(urlsplit(url).path))
