"""Project pages kept compact: the same rows back, version by version; anything else in
the cache under that name is ignored; a warm offline lock reads no page body at all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from packaging.version import Version

from tests.conftest import CLI
from tests.support.lockfixtures import write_project
from tests.support.pkgindex import PackageIndex
from tumbler.errors import CacheError
from tumbler.index.compact import CompactPage, Versions, encode, keep_page, kept_page
from tumbler.index.pages import Row, group_rows, parse_page
from tumbler.net.cache import Cache

PAGE = {
    "meta": {"api-version": "1.1"},
    "name": "demo",
    "files": [
        {
            "filename": f"demo-{v}-py3-none-any.whl",
            "url": f"https://files.example.com/demo-{v}-py3-none-any.whl",
            "hashes": {"sha256": str(i) * 64},
            "requires-python": ">=3.8",
            "yanked": v == "1.1",
        }
        for i, v in enumerate(["1.0", "1.1", "2.0rc1", "2.0"])
    ]
    + [{"filename": "demo-2.0.tar.gz", "url": "demo-2.0.tar.gz", "hashes": {}}],
}
URL = "https://example.com/simple/demo/"


def _grouped() -> list[tuple[Version, list[Row]]]:
    return group_rows(
        parse_page(json.dumps(PAGE).encode(), "application/vnd.pypi.simple.v1+json", URL)
    )


def _kept(tmp_path: Path, grouped: list[tuple[Version, list[Row]]]) -> CompactPage:
    cache = Cache(tmp_path)
    keep_page(cache, "a" * 64, grouped)
    page = kept_page(cache, "a" * 64)
    assert page is not None
    return page


def test_the_rows_come_back_version_by_version(tmp_path: Path) -> None:
    grouped = _grouped()
    page = _kept(tmp_path, grouped)
    assert [v for v, _ in page.versions] == [v for v, _ in grouped]
    for (_, kept), (_, rows) in zip(page.versions, grouped, strict=True):
        assert list(kept) == rows
        assert [r.fields() for r in kept] == [r.fields() for r in rows]


def test_what_is_not_a_kept_page_is_ignored(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    assert kept_page(cache, "b" * 64) is None
    for junk in (b"", b"\xff" * 40, b"tumbler-page\n" + (10**12).to_bytes(8, "big")):
        cache.put_blob("page", "b" * 64, junk)
        assert kept_page(cache, "b" * 64) is None


def test_a_page_cut_short_under_a_run_is_one_clear_error(tmp_path: Path) -> None:
    data = encode(_grouped())
    assert data is not None
    path = tmp_path / "page"
    path.write_bytes(data)
    page = CompactPage.open(path)
    assert page is not None
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CacheError, match="changed while this run read it"):
        list(page.versions[-1][1])


def test_a_warm_offline_lock_reads_no_page_body(
    cli: CLI, tmp_path: Path, index: PackageIndex, lock_env: None
) -> None:
    project = write_project(tmp_path / "p", ["beta", "delta"])
    base = ("lock", project, "--index-url", index.url, "--exclude-newer", "2024-01-01", "-q")
    assert cli(*base, "--target", "host").code == 0
    lock = project.parent / "pylock.toml"
    first = lock.read_bytes()
    # Every cached page body is replaced by junk, its recorded digest kept: only the kept
    # compact pages can give the same lock now.
    pages = 0
    for entry in (tmp_path / "cache" / "http").rglob("*"):
        if entry.is_file():
            head, _, body = entry.read_bytes().partition(b"\n")
            if b'"sha256"' in head and body.lstrip().startswith(b"{"):
                entry.write_bytes(head + b"\n" + b"junk")
                pages += 1
    assert pages >= 2
    lock.unlink()
    run = cli(*base, "--target", "host", "--offline")
    assert run.code == 0, run.err
    assert lock.read_bytes() == first


def test_a_kept_page_parses_only_the_versions_reached(tmp_path: Path) -> None:
    """Versions are parsed as they are reached, and one version's rows are found by its
    text without parsing the others; every way of reading gives the grouped page."""
    grouped = _grouped()
    versions = _kept(tmp_path, grouped).versions
    assert isinstance(versions, Versions)
    oldest, rows = grouped[-1]
    assert list(versions.rows_for(oldest) or ()) == rows
    assert versions.rows_for(Version("9.9")) is None
    assert versions._parsed == [None] * len(grouped)  # nothing parsed to find them
    assert versions[0][0] == grouped[0][0]
    assert versions._parsed[1:] == [None] * (len(grouped) - 1)
    assert [v for v, _ in versions[-2:]] == [v for v, _ in grouped[-2:]]
    assert [v for v, _ in versions] == [v for v, _ in grouped]
    assert len(versions) == len(grouped)
