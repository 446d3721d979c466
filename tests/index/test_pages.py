"""tumbler.index.pages: project pages into rows; a malformed page is one clear error."""

from __future__ import annotations

import json

import pytest

from tumbler.errors import NetworkError
from tumbler.index.pages import parse_page

URL = "https://user:secret@example.com/simple/demo/"
JSON = "application/vnd.pypi.simple.v1+json"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "the index sent unreadable JSON"),
        (b"[1, 2]", "the index's JSON page has no 'files' list"),
        (b'{"files": "x"}', "the index's JSON page has no 'files' list"),
    ],
)
def test_a_malformed_json_page_is_a_network_error(body: bytes, message: str) -> None:
    with pytest.raises(NetworkError) as caught:
        parse_page(body, JSON, URL)
    assert str(caught.value).startswith(f"https://example.com/simple/demo/: {message}")
    assert "secret" not in str(caught.value)


def test_json_entries_without_a_name_or_url_are_left_out() -> None:
    files = [
        "not a table",
        {"filename": "demo-1.0.tar.gz"},  # no url
        {"filename": 3, "url": "demo-1.0.tar.gz"},
        {"filename": "demo-1.0-py3-none-any.whl", "url": "../../f/demo-1.0-py3-none-any.whl"},
    ]
    rows = parse_page(json.dumps({"files": files}).encode(), JSON, URL)
    assert [row.filename for row in rows] == ["demo-1.0-py3-none-any.whl"]


def test_an_unescaped_greater_than_in_an_attribute_keeps_the_row() -> None:
    """``data-requires-python=">=3.12"`` unescaped (pip and uv read it): the whole page, and
    one version's rows found without parsing it, keep every file and its attributes."""
    from packaging.version import Version

    from tumbler.index.pages import index_file, version_rows

    page = (
        b'<html><body><a href="/f/a-1.0-py3-none-any.whl#sha256=' + b"0" * 64 + b'" '
        b'data-requires-python=">=3.12">a-1.0-py3-none-any.whl</a>\n'
        b"<a href='/f/a-2.0.tar.gz#sha256=" + b"1" * 64 + b"' data-requires-python='>=3.8,<4'>"
        b"a-2.0.tar.gz</a></body></html>"
    )
    rows = parse_page(page, "text/html", "http://index.example.com/simple/a/")
    assert [r.filename for r in rows] == ["a-1.0-py3-none-any.whl", "a-2.0.tar.gz"]
    files = [index_file(r, "a", "http://index.example.com/simple") for r in rows]
    assert [str(f.requires_python) for f in files if f is not None] == [">=3.12", "<4,>=3.8"]
    (one,) = (
        version_rows(page, "text/html", "http://index.example.com/simple/a/", Version("1.0")) or []
    )
    assert one.filename == "a-1.0-py3-none-any.whl"
