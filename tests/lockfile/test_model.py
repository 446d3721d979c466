"""tumbler's own tables: typed, advisory views of [tool.tumbler] and [packages.tool.tumbler]."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tumbler.findings import Severity
from tumbler.lockfile.load import load, load_lock
from tumbler.lockfile.model import Lock
from tumbler.lockfile.source import LockSource
from tumbler.lockfile.tables import SurfaceEntry, TumblerLockTool, TumblerPackageTool

_LOCK = """
lock-version = "1.0"
created-by = "tumbler"
[[packages]]
name = "a"
directory = { path = "a" }
[packages.tool.tumbler]
direct = true
surface = [{ import = "a", sha256 = "abababababababababababababababababababababababababababababababab", capabilities = ["async", "map"] }]
[tool.tumbler]
version = "0.1.0"
exclude-newer = 2026-01-01T00:00:00Z
surface-version = 1
[tool.tumbler.inputs]
"pyproject.toml" = "ff"
"""


def test_typed_views() -> None:
    """The lock's and each package's tumbler table parse into frozen typed values."""
    lock = load_lock(LockSource("t", _LOCK.encode()))
    assert lock.tumbler == TumblerLockTool(
        version="0.1.0",
        inputs={"pyproject.toml": "ff"},
        exclude_newer=datetime(2026, 1, 1, tzinfo=UTC),
        surface_version=1,
    )
    assert Lock.package_tumbler(lock.pylock.packages[0]) == TumblerPackageTool(
        direct=True, surface=(SurfaceEntry("a", "a", "ab" * 32, ("async", "map")),)
    )


def test_wrong_types_are_warnings_and_ignored() -> None:
    """A mistyped key in tumbler's table warns (R18/R38) and reads as absent, never an error."""
    text = _LOCK.replace("direct = true", 'direct = "yes"').replace(
        'version = "0.1.0"', "version = 1"
    )
    loaded = load(LockSource("t", text.encode()))
    assert [(f.location, f.rule, f.severity) for f in loaded.findings] == [
        ("packages[0].tool.tumbler.direct", "R38", Severity.WARNING),
        ("tool.tumbler.version", "R18", Severity.WARNING),
    ]
    assert loaded.lock is not None
    assert loaded.lock.tumbler is not None
    assert loaded.lock.tumbler.version is None
    package = Lock.package_tumbler(loaded.lock.pylock.packages[0])
    assert package is not None
    assert package.direct is None
    assert [e.capabilities for e in package.surface] == [("async", "map")]


def test_a_token_outside_the_vocabulary_is_named_and_never_stops_an_install() -> None:
    """surface.md: reading a token outside the 13 is an error naming it. In validate it is
    a warning at its place (the table is advisory, R38: an install must not depend on it);
    the commands that read surfaces (diff, lock --check) refuse it, naming the token."""
    from packaging.pylock import Package

    from tumbler.errors import InputError
    from tumbler.lockfile.tables import entries_of

    text = _LOCK.replace('"async", "map"', '"async", "network"')
    loaded = load(LockSource("t", text.encode()))
    [finding] = loaded.findings
    assert finding.location == "packages[0].tool.tumbler.surface[0].capabilities"
    assert (finding.rule, finding.severity) == ("R38", Severity.WARNING)
    assert "'network' is not a capability token" in finding.message
    assert loaded.lock is not None
    package = loaded.lock.pylock.packages[0]
    assert isinstance(package, Package)
    with pytest.raises(InputError, match=r"surface\[0\]\.capabilities: 'network' is not"):
        entries_of(package, "packages[0]")


def test_no_tumbler_table() -> None:
    """A lock from another tool has no tumbler views."""
    lock = load_lock(
        LockSource("t", _LOCK.split("[packages.tool.tumbler]", maxsplit=1)[0].encode())
    )
    assert lock.tumbler is None
    assert Lock.package_tumbler(lock.pylock.packages[0]) is None
