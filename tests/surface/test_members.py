"""Surfaces per wheel and import package, the lock table, and name-level changes."""

from __future__ import annotations

import textwrap

import pytest
from packaging.pylock import Package
from packaging.utils import canonicalize_name

from tumbler.errors import InputError
from tumbler.lockfile.tables import entries_of
from tumbler.surface.members import (
    ImportSurface,
    WheelSources,
    analyse,
    from_json,
    name_changes,
    surface_table,
    to_json,
    wanted_members,
    wheel_surfaces,
)
from tumbler.surface.pyapi import Symbol


def wheel(files: dict[str, str]) -> tuple[list[str], dict[str, bytes]]:
    data = {path: textwrap.dedent(text).encode() for path, text in files.items()}
    names = [*data, "dist-1.0.dist-info/METADATA", "dist-1.0.dist-info/RECORD"]
    return names, data


def surfaces(distribution: str, files: dict[str, str], **kw: object) -> dict[str, ImportSurface]:
    names, data = wheel(files)
    return {s.key: s for s in wheel_surfaces(distribution, names, data, **kw)}  # type: ignore[arg-type]


def test_two_import_packages_of_one_distribution_are_two_entries() -> None:
    found = surfaces(
        "setuptools",
        {
            "setuptools/__init__.py": "def setup(**attrs: object) -> None: ...\n",
            "pkg_resources/__init__.py": "def require(name: str) -> list[str]: ...\n",
            "_distutils_hack/__init__.py": "def shim() -> None: ...\n",
        },
    )
    assert sorted(found) == ["setuptools:pkg_resources", "setuptools:setuptools"]
    assert found["setuptools:pkg_resources"].capabilities == ("list",)
    assert found["setuptools:setuptools"].sha256 != found["setuptools:pkg_resources"].sha256


def test_a_single_module_distribution_is_one_entry() -> None:
    found = surfaces("six", {"six.py": "MAXSIZE = 1\ndef b(s: str) -> bytes: ...\n"})
    assert [s.line for s in found["six:six"].symbols] == [
        "six module",
        "six.MAXSIZE constant",
        "six.b function (s: str) -> bytes",
    ]


def test_public_reexports_from_a_private_top_level_package() -> None:
    found = surfaces(
        "pytest",
        {
            "pytest/__init__.py": "from _pytest.fixtures import fixture as fixture\n",
            "_pytest/__init__.py": "",
            "_pytest/fixtures.py": "def fixture(scope: str = 'function') -> object: ...\n",
        },
    )
    assert list(found) == ["pytest:pytest"]
    assert "pytest.fixture function (scope: str = ...) -> object" in {
        s.line for s in found["pytest:pytest"].symbols
    }


def test_purelib_data_members_count_and_metadata_does_not() -> None:
    found = surfaces("odd", {"odd-1.0.data/purelib/odd/__init__.py": "def f() -> int: ...\n"})
    assert [s.line for s in found["odd:odd"].symbols] == ["odd module", "odd.f function () -> int"]


def test_stub_only_distribution_describes_the_package_it_stubs() -> None:
    found = surfaces(
        "types-requests",
        {
            "requests-stubs/__init__.pyi": "def get(url: str) -> Response: ...\nclass Response: ...\n"
        },
    )
    assert list(found) == ["types-requests:requests"]
    assert found["types-requests:requests"].source == "stubs"


def test_a_locked_stub_distribution_stands_in_for_missing_stubs() -> None:
    stub_names, stub_data = wheel(
        {"requests-stubs/__init__.pyi": "def get(url: str) -> bytes: ...\n"}
    )
    found = surfaces(
        "requests",
        {"requests/__init__.py": "def get(url, **kwargs):\n    return b''\n"},
        stubs={"requests": ("types-requests", stub_data, stub_names)},
    )
    surface = found["requests:requests"]
    assert "requests.get function (url: str) -> bytes" in {s.line for s in surface.symbols}
    assert surface.source == "stubs from types-requests"


def test_a_worker_gives_the_cache_form_and_the_entries_of_the_same_surfaces() -> None:
    """What a worker process sends back: the full surfaces (for the cache) and the lock's
    entries, made from the same reading, with a stub-only distribution standing in."""
    stub_names, stub_data = wheel(
        {"requests-stubs/__init__.pyi": "def get(url: str) -> bytes: ..."}
    )
    names, data = wheel({"requests/__init__.py": "def get(url, **kwargs):\n    return b''\n"})
    stubs = {"requests": ("types-requests", stub_data, stub_names)}
    cached, entries = analyse(WheelSources("requests", names, data, stubs))
    expected = wheel_surfaces("requests", names, data, stubs=stubs)
    assert from_json(cached) == expected
    assert entries == surface_table(expected)
    assert entries[0]["sha256"] == expected[0].sha256 and entries[0]["import"] == "requests"


def test_py_typed_is_noted_in_the_source() -> None:
    typed = surfaces("a", {"a/__init__.py": "def f() -> int: ...\n", "a/py.typed": ""})
    untyped = surfaces("b", {"b/__init__.py": "def f() -> int: ...\n"})
    assert typed["a:a"].source == "annotated sources (py.typed)"
    assert untyped["b:b"].source == "sources without py.typed"


def test_wanted_members_are_the_chosen_sources_only() -> None:
    names = [
        "pkg/__init__.py",
        "pkg/__init__.pyi",
        "pkg/core.py",
        "pkg/py.typed",
        "pkg/data/table.json",
        "pkg/tests/test_core.py",
        "pkg/fast.cpython-311-x86_64-linux-gnu.so",
        "pkg-1.0.dist-info/RECORD",
    ]
    assert wanted_members(names) == [
        "pkg/__init__.pyi",
        "pkg/core.py",
        "pkg/py.typed",
    ]


def test_directories_that_are_not_packages_are_not_read() -> None:
    names = ["mypy/__init__.py", "mypy/typeshed/stdlib/os/__init__.pyi"]
    assert wanted_members(names) == ["mypy/__init__.py"]


# --- the lock table -------------------------------------------------------------------------


def test_surface_table_and_json_round_trip() -> None:
    found = surfaces(
        "httpx",
        {
            "httpx/__init__.py": "async def get(url: str) -> dict[str, str]: ...\n",
            "empty/__init__.cpython-311-x86_64-linux-gnu.so": "",
        },
    )
    table = surface_table(found.values())
    assert table == [
        {"import": "empty"},
        {
            "import": "httpx",
            "sha256": found["httpx:httpx"].sha256,
            "capabilities": ["async", "map"],
        },
    ]
    assert from_json(to_json(found.values())) == tuple(found.values())
    package = Package(name=canonicalize_name("httpx"), tool={"tumbler": {"surface": table}})
    entries = entries_of(package, "packages[0]")
    assert [(e.key, e.sha256, e.capabilities) for e in entries] == [
        ("httpx:empty", None, ()),
        ("httpx:httpx", found["httpx:httpx"].sha256, ("async", "map")),
    ]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"import": "x", "capabilities": ["network"]}, "'network' is not a capability token"),
        ({"import": "x", "sha256": "XYZ"}, r"surface\[0\]\.sha256: expected 64 lower-case hex"),
        ({"sha256": "ab" * 32}, "expected a table with an 'import' name"),
        ({"import": "x", "digest": "1"}, "unknown key 'digest'"),
    ],
)
def test_malformed_entries_are_refused_by_name(entry: dict[str, object], message: str) -> None:
    package = Package(name=canonicalize_name("x"), tool={"tumbler": {"surface": [entry]}})
    with pytest.raises(InputError, match=message):
        entries_of(package, "packages[2]")


# --- names ----------------------------------------------------------------------------------


def test_name_changes_list_added_removed_and_changed() -> None:
    old = [
        Symbol("m", "module"),
        Symbol("m.get", "function", " (url: str) -> bytes"),
        Symbol("m.old", "function", " ()"),
    ]
    new = [
        Symbol("m", "module"),
        Symbol("m.get", "function", " (url: str, *, timeout: float = ...) -> bytes"),
        Symbol("m.new", "function", " ()"),
    ]
    changes = name_changes("d:m", old, new)
    assert [s.name for s in changes.added] == ["m.new"]
    assert [s.name for s in changes.removed] == ["m.old"]
    assert changes.changed == ((tuple(old[1:2]), tuple(new[1:2])),)
    assert name_changes("d:m", old, old).empty
