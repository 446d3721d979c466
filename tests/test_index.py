"""tumbler.index: project pages into rows; a malformed page is one clear error."""

from __future__ import annotations

import json

import pytest

from tumbler.errors import NetworkError
from tumbler.index import parse_page

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
