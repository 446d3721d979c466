"""The writer: canonical layout, byte-identical round trips, meaning preserved."""

from __future__ import annotations

import string
import tomllib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.pylock import Pylock

from tests.conftest import BROKEN_REAL, REAL, check_snapshot
from tumbler.lockfile.diff import diff_locks
from tumbler.lockfile.load import load
from tumbler.lockfile.render import render, toml_value
from tumbler.lockfile.source import LockSource, read_source

VALID_REAL = [p for p in REAL if p.name not in BROKEN_REAL]


def _reload(text: str) -> Pylock:
    loaded = load(LockSource("rendered", text.encode()))
    assert loaded.lock is not None, loaded.findings
    return loaded.lock.pylock


@pytest.mark.parametrize("corpus_file", VALID_REAL, ids=lambda p: p.name[:60])
def test_corpus_round_trips_byte_identically(corpus_file: Path) -> None:
    """render(load(render(x))) == render(x), and the rendering means what the original meant."""
    original = load(read_source(str(corpus_file)))
    assert original.lock is not None
    text = render(original.lock.pylock)
    again = _reload(text)
    assert render(again) == text
    assert diff_locks(original.lock.pylock, again).equal
    assert tomllib.loads(text)["lock-version"] == "1.0"


def test_layout_snapshot() -> None:
    """The exact canonical layout of a lock that uses every table."""
    doc: dict[str, Any] = {
        "lock-version": "1.0",
        "created-by": "tumbler",
        "environments": ["sys_platform == 'win32'", 'sys_platform == "linux"'],
        "requires-python": "<4,>=3.9",
        "extras": ["tests", "cli"],
        "dependency-groups": ["dev"],
        "default-groups": ["default"],
        "packages": [
            {
                "name": "zeta",
                "version": "1.0",
                "wheels": [
                    {
                        "url": "https://example.com/zeta-1.0-py3-none-win_amd64.whl",
                        "hashes": {"sha256": "b" * 64},
                    },
                    {
                        "url": "https://example.com/zeta-1.0-py3-none-any.whl",
                        "upload-time": datetime(
                            2025, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))
                        ),
                        "size": 10,
                        "hashes": {"sha512": "c" * 128, "sha256": "a" * 64},
                    },
                ],
                "sdist": {
                    "name": "zeta-1.0.tar.gz",
                    "path": "dist/zeta-1.0.tar.gz",
                    "hashes": {"sha256": "d" * 64},
                },
                "index": "https://example.com/simple/",
                "attestation-identities": [
                    {"workflow": "release.yml", "kind": "GitHub", "repository": "o/zeta"}
                ],
                "tool": {"tumbler": {"direct": True, "capabilities": ["net", "fs"]}},
            },
            {
                "name": "alpha",
                "marker": "'cli' in extras",
                "vcs": {
                    "type": "git",
                    "url": "https://example.com/a.git",
                    "commit-id": "0" * 40,
                    "requested-revision": "main",
                },
            },
            {
                "name": "alpha",
                "marker": "'tests' in extras",
                "directory": {"path": "../alpha", "editable": True},
            },
            {
                "name": "beta",
                "version": "2.0",
                "requires-python": ">=3.10",
                "dependencies": [{"name": "zeta"}, {"name": "alpha", "marker": "x"}],
                "archive": {
                    "url": "https://example.com/beta-2.0.tar.gz#subdirectory=py",
                    "subdirectory": "py",
                    "hashes": {"sha256": "e" * 64},
                },
            },
        ],
        "tool": {
            "tumbler": {"version": "0.1.0", "inputs": {"pyproject.toml": "f" * 64}},
            "other": {"key with space": 'tab\there "quoted" \u00e9 \x01'},
        },
    }
    text = render(Pylock.from_dict(doc))
    check_snapshot("render_layout.toml", text)
    assert render(_reload(text)) == text


def test_upload_time_written_in_utc() -> None:
    """An offset datetime is converted to UTC and written with Z (R36)."""
    assert toml_value(datetime(2025, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2)))) == (
        "2025-01-01T00:00:00Z"
    )


# --- property: any lock tumbler can model survives render → load → render -------------

_names = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=6).map(lambda s: s + "x")
_versions = st.tuples(st.integers(0, 30), st.integers(0, 30)).map(lambda t: f"{t[0]}.{t[1]}")
_hex = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)
_times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)
_markers = st.sampled_from(
    [None, "sys_platform == 'linux'", "python_version < '3.12'", "'cli' in extras",
     "'dev' in dependency_groups and os_name == 'nt'"]
)  # fmt: skip
_tags = st.sampled_from(
    ["py3-none-any", "cp312-cp312-win_amd64", "cp311-abi3-manylinux_2_28_x86_64"]
)
_scalars = st.one_of(
    st.text(max_size=12),
    st.integers(-(2**63), 2**63 - 1),
    st.booleans(),
    st.floats(allow_nan=False),
    _times,
)
_tool_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(min_size=1, max_size=8), inner, max_size=3),
    ),
    max_leaves=8,
)


@st.composite
def _packages(draw: st.DrawFn) -> dict[str, Any]:
    name, version = draw(_names), draw(_versions)
    stem = f"{name}-{version}"
    package: dict[str, Any] = {"name": name, "version": version}
    marker = draw(_markers)
    if marker:
        package["marker"] = marker
    tags = draw(st.lists(_tags, min_size=1, max_size=3, unique=True))
    package["wheels"] = [
        {
            "url": f"https://example.com/{stem}-{tag}.whl",
            "upload-time": draw(_times),
            "size": draw(st.integers(0, 10**9)),
            "hashes": {"sha256": draw(_hex)},
        }
        for tag in tags
    ]
    if draw(st.booleans()):
        package["sdist"] = {
            "url": f"https://example.com/{stem}.tar.gz",
            "hashes": {"sha256": draw(_hex)},
        }
    if draw(st.booleans()):
        package["tool"] = {
            "t": draw(st.dictionaries(st.text(min_size=1, max_size=5), _tool_values, max_size=3))
        }
    return package


@st.composite
def _locks(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "lock-version": "1.0",
        "created-by": draw(st.text(min_size=1, max_size=10)),
        "packages": draw(st.lists(_packages(), max_size=6)),
    }
    if draw(st.booleans()):
        doc["extras"] = draw(st.lists(_names, max_size=3, unique=True))
    if draw(st.booleans()):
        doc["tool"] = {
            "x": draw(st.dictionaries(st.text(min_size=1, max_size=5), _tool_values, max_size=4))
        }
    return doc


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_locks())
def test_render_load_render_is_identity(doc: dict[str, Any]) -> None:
    """For generated locks: render(load(render(x))) is byte-identical and means the same."""
    pylock = Pylock.from_dict(doc)
    text = render(pylock)
    again = _reload(text)
    assert render(again) == text
    assert diff_locks(pylock, again).equal
