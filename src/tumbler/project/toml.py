"""TOML as tumbler reads it: bounded before it is parsed.

A project file or a lock is checked, in one pass over its bytes, for what no real file
has and what would make a parser or the code after it fail badly: arrays or inline
tables nested deeper than :data:`MAX_DEPTH` (a recursion error), an integer literal of
more than :data:`MAX_DIGITS` digits (Python refuses to convert it), a string longer than
:data:`MAX_STRING` bytes. Each is an :class:`~tumbler.errors.InputError` naming the line.
"""

from __future__ import annotations

import re

from tumbler.errors import InputError

__all__ = ["MAX_DEPTH", "MAX_DIGITS", "MAX_STRING", "check_bounds"]

#: Arrays and inline tables inside one another (a lock needs 4).
MAX_DEPTH = 64
#: Digits in one integer literal (sizes and counts need 20).
MAX_DIGITS = 40
#: Bytes in one string (URLs, markers, hashes; a tool table's text).
MAX_STRING = 1 << 20

#: Strings and comments, each whole (a ``#`` or bracket inside a string is text); the
#: first form for files without multi-line strings (nearly all), the second for the rest.
_TEXT = re.compile(rb'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|\'[^\'\n]*\'|#[^\n]*')
_TEXT_MULTILINE = re.compile(
    rb'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\']|\'(?!\'\'))*\'\'\''
    rb'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'|#[^\n]*',
    re.DOTALL,
)
_PAIR = re.compile(rb"\[\]|\{\}")
_LONG_INTEGER = re.compile(rb"(?<![\w.:+-])[0-9][0-9_]{%d,}" % MAX_DIGITS)
#: Everything but brackets, deleted by ``bytes.translate``.
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
#: Digits and ``_`` as ``0``, everything else as a space (a cheap first look for integers).
_DIGITS = bytes(48 if chr(c) in "0123456789_" else 32 for c in range(256))


def check_bounds(data: bytes, where: str) -> None:
    """Raise :class:`InputError` (``where:line: ...``) when ``data`` nests, counts or
    strings beyond the bounds; ``data`` need not be valid TOML (the parser says why not).

    Every pass runs in C (regular expressions, ``bytes.translate``): strings and comments
    are taken out, then the brackets left lose their innermost pairs once per level, so a
    file that nests four deep costs five passes over its brackets (about 10 ms a MB)."""
    multiline = b'"""' in data or b"'''" in data
    text = _TEXT_MULTILINE if multiline else _TEXT
    if len(data) > MAX_STRING and max(map(len, data.split(b"\n"))) > MAX_STRING:
        _locate(data, text, where)
    bare = text.sub(b'""', data)
    if b"0" * (MAX_DIGITS + 1) in bare.translate(_DIGITS):
        found = _LONG_INTEGER.search(bare)
        if found is not None:
            line = bare.count(b"\n", 0, found.start()) + 1
            raise InputError(f"{where}:{line}: an integer longer than {MAX_DIGITS} digits")
    brackets = bare.translate(None, _NOT_BRACKETS)
    for _ in range(MAX_DEPTH):
        inner = _PAIR.sub(b"", brackets)
        if inner == brackets or not inner:
            return  # all matched (or unbalanced: the parser says where)
        brackets = inner
    raise InputError(f"{where}:{_deep_line(bare)}: arrays or tables nested deeper than {MAX_DEPTH}")


def _deep_line(bare: bytes) -> int:
    """The line where nesting first passes :data:`MAX_DEPTH` (strings already taken out)."""
    depth, line = 0, 1
    for match in re.finditer(rb"[\[\]{}\n]", bare):
        token = match.group()
        if token == b"\n":
            line += 1
        elif token in b"[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line
        else:
            depth = max(depth - 1, 0)
    return line


def _locate(data: bytes, text: re.Pattern[bytes], where: str) -> None:
    """Raise for the first string longer than :data:`MAX_STRING`, naming its line."""
    for match in text.finditer(data):
        if len(match.group()) > MAX_STRING:
            line = data.count(b"\n", 0, match.start()) + 1
            raise InputError(f"{where}:{line}: a string longer than {MAX_STRING} bytes")
