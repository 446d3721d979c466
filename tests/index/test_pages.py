"""tumbler.index.pages: project pages into rows; a malformed page is one clear error; file
names read as packaging reads them."""

from __future__ import annotations

import json
from urllib.parse import urljoin

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from tumbler.errors import NetworkError
from tumbler.index.pages import _file_url, file_name_parts, parse_page

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


def _packaging_parts(filename: str) -> tuple[str, object, frozenset[object]] | None:
    try:
        name, version, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return None
    return name, version, tags


_PART = st.text(alphabet="abZ09._+!_", min_size=0, max_size=6)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_PART, min_size=4, max_size=7).map("-".join).map(lambda stem: f"{stem}.whl")
    | st.sampled_from(
        [
            "Foo.Bar-1.0-py3-none-any.whl",
            "foo__bar-1.0-py3-none-any.whl",
            "foo-1.0-1build-py3-none-any.whl",
            "foo-not.a.version!-py3-none-any.whl",
            "foo-1.0-py2.py3-none-any.whl",
            "foo-1.0--none-any.whl",
            "foo-1.0-cp311-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "-1.0-py3-none-any.whl",
        ]
    )
)
def test_wheel_names_read_as_packaging_reads_them(filename: str) -> None:
    """file_name_parts parses each part of a wheel name once per run: the answer, and
    what is refused, stay packaging's."""
    assert file_name_parts(filename) == _packaging_parts(filename)


@settings(max_examples=2000, deadline=None)
@given(
    st.sampled_from(["https://", "http://", "HTTPS://", "ftp://", "", "/", "../", "https:/"]),
    st.text(alphabet="ab/.?#;: \t\n%@[]-_A\x00\x7f\u00e9\uff03", max_size=20),
)
def test_a_file_url_joins_as_urljoin_joins(prefix: str, rest: str) -> None:
    """Absolute links skip the parse; every link still ends as urljoin makes it."""
    url = prefix + rest
    for base in ("https://example.com/simple/demo/", "http://127.0.0.1:9/s/"):
        try:
            expected = urljoin(base, url).partition("#")[0]
        except ValueError:
            with pytest.raises(ValueError):
                _file_url(base, url)
        else:
            assert _file_url(base, url) == expected
