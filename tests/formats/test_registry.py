"""The formats seam: a format is one module plus one registry line, shown with a test-only
format registered here; the protocols are what ``tumbler.formats.base`` declares."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from tests.formats.fake_format import HEADER
from tumbler.errors import UsageError
from tumbler.formats import registry
from tumbler.formats.base import Exporter, ExportOptions, Reader, ReadOptions
from tumbler.lockfile.load import load_valid
from tumbler.lockfile.render import render
from tumbler.lockfile.source import read_source

SHA = "a" * 64


def no_files(name: str, version: str, indexes: object) -> tuple[()]:
    """A file lookup for a format that names its files itself."""
    return ()


FAKE = f"{HEADER}\nDemo_Pkg 1.0 https://files.example.com/demo_pkg-1.0-py3-none-any.whl {SHA}\n"


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The one registry line each table needs for the test-only format."""
    monkeypatch.setitem(registry.READERS, "fake-lock", "tests.formats.fake_format")
    monkeypatch.setitem(registry.EXPORTERS, "fake-lock", "tests.formats.fake_format")


@pytest.mark.usefixtures("registered")
def test_a_registered_reader_is_found_by_name_and_by_content(tmp_path: Path) -> None:
    path = tmp_path / "deps.fake"
    path.write_text(FAKE)
    found = registry.detect(path, path.read_bytes())
    assert found is not None and found is registry.reader("fake-lock")
    assert isinstance(found, Reader)
    assert registry.detect(tmp_path / "deps.txt", path.read_bytes()) is None
    pylock = found.read(path, path.read_bytes(), no_files, ReadOptions()).pylock
    lock = tmp_path / "pylock.toml"
    lock.write_text(render(pylock))
    loaded = load_valid(read_source(str(lock)))  # a valid lock, by packaging and tumbler
    assert loaded.lock is not None
    assert [(p.name, str(p.version)) for p in loaded.lock.pylock.packages] == [("demo-pkg", "1.0")]
    assert tomllib.loads(lock.read_text())["packages"][0]["wheels"][0]["hashes"] == {"sha256": SHA}


@pytest.mark.usefixtures("registered")
def test_a_registered_exporter_round_trips_through_its_reader(tmp_path: Path) -> None:
    path = tmp_path / "deps.fake"
    pylock = registry.reader("fake-lock").read(path, FAKE.encode(), no_files, ReadOptions()).pylock
    exporter = registry.exporter("fake-lock")
    assert isinstance(exporter, Exporter)
    text = exporter.export(pylock, ExportOptions())
    assert text == FAKE.replace("Demo_Pkg", "demo-pkg")


def test_an_unknown_format_is_a_usage_error_naming_the_known_ones() -> None:
    with pytest.raises(UsageError, match=r"no reader for 'nope'; formats: .*requirements\.txt"):
        registry.reader("nope")
    with pytest.raises(UsageError, match="no exporter for 'nope'"):
        registry.exporter("nope")


@pytest.mark.usefixtures("registered")
def test_a_bad_file_is_an_input_error_with_its_place(tmp_path: Path) -> None:
    from tumbler.errors import InputError

    with pytest.raises(InputError, match=r"deps\.fake:2: expected"):
        registry.reader("fake-lock").read(
            tmp_path / "deps.fake", f"{HEADER}\nbroken\n".encode(), no_files, ReadOptions()
        )
