"""The OSV API client against a loopback server speaking the batch API (paging included)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from tests.support.osvserver import serve_osv
from tumbler.advisories.query import (
    DEFAULT_OSV_URL,
    HttpTransport,
    osv_url,
    query_database,
    query_ids,
)
from tumbler.errors import NetworkError, UsageError
from tumbler.net.http import Http

PACKAGES = [("requests", "2.30.0"), ("urllib3", "1.26.17"), ("idna", "3.7")]


def test_ids_follow_next_page_token_until_every_page_is_read() -> None:
    """One id per page: requests 2.30.0's three advisories take three rounds."""
    http = Http()
    try:
        with serve_osv(page_size=1) as server:
            found = query_ids(HttpTransport(http), server.url, PACKAGES)
    finally:
        http.close()

    assert found == {
        ("requests", "2.30.0"): ("GHSA-9wx4-h78v-vm56", "GHSA-j8r2-6x86-q33q", "PYSEC-2023-74"),
        ("urllib3", "1.26.17"): ("PYSEC-2023-212",),
        ("idna", "3.7"): (),
    }
    assert len(server.batches) == 3
    later = [q for batch in server.batches[1:] for q in batch["queries"]]
    assert [q["page_token"] for q in later] == ["1", "2"]
    assert all(q["package"]["ecosystem"] == "PyPI" for q in server.batches[0]["queries"])


def test_the_database_holds_each_record_fetched_once() -> None:
    http = Http()
    try:
        with serve_osv(page_size=2) as server:
            database = query_database(HttpTransport(http), server.url, [*PACKAGES, *PACKAGES])
    finally:
        http.close()

    assert sorted(server.fetched) == [
        "GHSA-9wx4-h78v-vm56",
        "GHSA-j8r2-6x86-q33q",
        "PYSEC-2023-212",
        "PYSEC-2023-74",
    ]
    assert database.records == 4
    assert database.origin == f"OSV API at {server.url}"
    assert database.date == "2024-05-20"  # GHSA-9wx4-h78v-vm56's modified


class Broken:
    """A transport whose batch answers have the wrong shape."""

    def post_json(self, url: str, payload: Mapping[str, object]) -> object:
        return {"results": []}

    def get_json(self, url: str) -> object:
        raise AssertionError("not reached")


def test_an_answer_of_the_wrong_shape_is_a_network_error() -> None:
    with pytest.raises(NetworkError, match="expected 1 results"):
        query_ids(Broken(), "http://127.0.0.1:9", [("requests", "2.30.0")])


def test_a_server_error_is_a_network_error() -> None:
    http = Http(retries=0)
    try:
        with serve_osv() as server, pytest.raises(NetworkError, match="HTTP 404"):
            HttpTransport(http).get_json(f"{server.url}/v1/vulns/NOPE-1")
    finally:
        http.close()


def test_offline_refuses_the_api() -> None:
    with pytest.raises(NetworkError, match="--offline"):
        HttpTransport(Http(offline=True)).post_json("http://127.0.0.1:9/v1/querybatch", {})


def test_the_base_url_comes_from_the_option_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("TUMBLER_OSV_URL", raising=False)
    assert osv_url(None) == DEFAULT_OSV_URL
    monkeypatch.setenv("TUMBLER_OSV_URL", "http://127.0.0.1:8080/")
    assert osv_url(None) == "http://127.0.0.1:8080"
    assert osv_url("https://osv.example.com") == "https://osv.example.com"
    with pytest.raises(UsageError, match="expected an http"):
        osv_url("ftp://osv.example.com")
