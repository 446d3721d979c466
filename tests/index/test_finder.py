"""tumbler.index.finder: the rows each target's tag list may use, sorted out once per release."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from packaging.version import Version

from tumbler.env.targets import parse_target
from tumbler.index.finder import Catalog, Listing
from tumbler.index.pages import Row
from tumbler.net.http import Http

if TYPE_CHECKING:
    from collections.abc import Iterator

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
    bits = [catalog.tags_id(parse_target(t).tags) for t in TARGETS]
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
    late = catalog.tags_id(parse_target("windows-amd64-3.12").tags)
    assert [e[0].filename for e in listing.fitting(version, rows, catalog, late)] == [
        "demo-1.0.tar.gz",
        "demo-1.0-cp312-cp312-win_amd64.whl",
    ]
