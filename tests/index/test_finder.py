"""tumbler.index.finder: the rows each target's tag list may use, sorted out once per release."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from packaging.version import Version

from tumbler.env.targets import parse_target, tag_texts
from tumbler.index.finder import Catalog, Listing
from tumbler.index.pages import Row
from tumbler.net.cache import Cache
from tumbler.net.http import Http

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from packaging.tags import Tag

BASE = "https://example.com/simple/demo/"
#: One release as a page lists it: wheels for some platforms, an sdist between them.
FILES = (
    "demo-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
    "demo-1.0-cp312-cp312-macosx_11_0_arm64.whl",
    "demo-1.0.tar.gz",
    "demo-1.0-cp311-abi3-manylinux_2_17_x86_64.manylinux_2_17_aarch64.whl",
    "demo-1.0-cp312-cp312-win_amd64.whl",
    "other-1.0-py3-none-any.whl",  # another project's file: never an entry
)
TARGETS = ("linux-x86_64-3.12", "linux-aarch64-3.12", "macos-arm64-3.12", "windows-arm64-3.12")


@pytest.fixture
def catalog() -> Iterator[Catalog]:
    http = Http()
    yield Catalog(http)
    http.close()


def test_each_tag_list_gets_its_rows_in_page_order(catalog: Catalog) -> None:
    bits = [catalog.tags_id(parse_target(t)) for t in TARGETS]
    rows = [Row(f, {"url": f}, BASE) for f in FILES]
    listing = Listing("demo", found=True, index=BASE)  # type: ignore[arg-type]
    version = Version("1.0")
    entries = listing.entries(version, rows, catalog)
    names = {}
    for target, bit in zip(TARGETS, bits, strict=True):
        fitting = listing.fitting(version, rows, catalog, bit)
        # what the plain definition gives: the sdists, and the wheels whose tags it has
        assert fitting == [e for e in entries if not e[1][2] or e[2] >> bit & 1]
        names[target] = [e[0].filename.split("-", 2)[-1] for e in fitting]
    assert names == {
        "linux-x86_64-3.12": [
            "cp312-cp312-manylinux_2_17_x86_64.whl",
            "1.0.tar.gz",
            "cp311-abi3-manylinux_2_17_x86_64.manylinux_2_17_aarch64.whl",
        ],
        "linux-aarch64-3.12": [
            "1.0.tar.gz",
            "cp311-abi3-manylinux_2_17_x86_64.manylinux_2_17_aarch64.whl",
        ],
        "macos-arm64-3.12": ["cp312-cp312-macosx_11_0_arm64.whl", "1.0.tar.gz"],
        "windows-arm64-3.12": ["1.0.tar.gz"],  # no wheel of its own: the sdist
    }
    # a tag list registered later is sorted out too (the rows are looked at again)
    late = catalog.tags_id(parse_target("windows-amd64-3.12"))
    assert [e[0].filename for e in listing.fitting(version, rows, catalog, late)] == [
        "demo-1.0.tar.gz",
        "demo-1.0-cp312-cp312-win_amd64.whl",
    ]


def _verdicts(catalog: Catalog) -> list[tuple[int, ...]]:
    """Each target's number and each file's fitting lists, as the catalog sees them."""
    numbers = tuple(catalog.tags_id(parse_target(t)) for t in TARGETS)
    fits = tuple(catalog.fits(f, _tags(f)) for f in FILES if f.endswith(".whl"))
    return [numbers, fits]


def _tags(filename: str) -> frozenset[Tag]:
    from tumbler.index.pages import file_name_parts

    parts = file_name_parts(filename)
    assert parts is not None
    return parts[2]


def test_tag_lists_kept_as_text_give_the_same_verdicts(tmp_path: Path) -> None:
    """A universal lock's tag lists are kept in the cache as text; a later run reading
    them numbers the lists and fits the wheels exactly as one that built them, and a
    damaged entry is built again."""
    targets = [parse_target(t) for t in TARGETS]
    plain = Http()
    built = Catalog(plain)
    built.register(targets)
    expected = _verdicts(built)
    plain.close()
    cache = Cache(tmp_path / "cache")
    for _ in range(2):  # the first run builds and keeps them, the second reads them
        http = Http(cache=cache)
        catalog = Catalog(http)
        catalog.register(targets)
        assert _verdicts(catalog) == expected
        assert catalog.tag_ranks(targets[0]) == {
            text: rank for rank, text in reversed(list(enumerate(tag_texts(targets[0]))))
        }
        http.close()
    kept = [p for p in (tmp_path / "cache" / "blob" / "tag-lists").rglob("*") if p.is_file()]
    assert len(kept) == 1
    kept[0].write_bytes(b"\x00damaged")
    http = Http(cache=cache)
    catalog = Catalog(http)
    catalog.register(targets)
    assert _verdicts(catalog) == expected
    http.close()
    assert kept[0].read_bytes() != b"\x00damaged"
