"""Advisories online, through OSV's API (https://google.github.io/osv.dev/api/).

``POST {base}/v1/querybatch`` with one query per (package, version) answers the ids of the
advisories affecting each (a query with more answers than fit carries a
``next_page_token``, asked again with ``page_token``); ``GET {base}/v1/vulns/{id}`` gives
each full record. The base URL is configuration: ``--osv-url``, else ``TUMBLER_OSV_URL``,
else :data:`DEFAULT_OSV_URL`.

The paging and batching are pure over an :class:`OsvTransport`; :class:`HttpTransport`
puts it on :class:`tumbler.net.http.Http`.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote, urlsplit

from tumbler.advisories.database import build_database
from tumbler.advisories.osv import parse_advisory
from tumbler.errors import NetworkError, UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from tumbler.advisories.database import Database
    from tumbler.net.http import Http, Response

__all__ = [
    "DEFAULT_OSV_URL",
    "HttpTransport",
    "OsvTransport",
    "osv_url",
    "query_database",
    "query_ids",
]

#: The OSV service (not a package registry).
DEFAULT_OSV_URL = "https://api.osv.dev"
#: Queries per ``querybatch`` request (OSV's limit is 1,000).
BATCH = 1000
#: Rounds of ``next_page_token`` followed before giving up on a server that keeps paging.
_MAX_PAGES = 100


class OsvTransport(Protocol):
    """JSON over HTTP to the OSV API."""

    def post_json(self, url: str, payload: Mapping[str, object]) -> object:
        """POST ``payload`` as JSON; the decoded JSON answer."""
        ...

    def get_json(self, url: str) -> object:
        """GET ``url``; the decoded JSON answer."""
        ...


def osv_url(option: str | None) -> str:
    """The OSV API base: ``--osv-url``, else ``TUMBLER_OSV_URL``, else the service."""
    url = (option or os.environ.get("TUMBLER_OSV_URL") or DEFAULT_OSV_URL).rstrip("/")
    if urlsplit(url).scheme not in ("http", "https"):
        raise UsageError(f"--osv-url {url!r}: expected an http(s) URL, e.g. {DEFAULT_OSV_URL}")
    return url


def _answer(response: Response, what: str) -> object:
    if response.status != 200:
        raise NetworkError(f"{what}: HTTP {response.status}")
    try:
        return json.loads(response.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise NetworkError(f"{what}: the answer is not JSON") from None


class HttpTransport:
    """:class:`OsvTransport` on tumbler's HTTP client."""

    def __init__(self, http: Http) -> None:
        self._http = http

    def get_json(self, url: str) -> object:
        """GET through :meth:`Http.get` (retries, credentials, offline refusal)."""
        return _answer(self._http.get(url, {"Accept": "application/json"}), f"GET {url}")

    def post_json(self, url: str, payload: Mapping[str, object]) -> object:
        """POST a JSON body (:meth:`Http.post`: not retried, not cached)."""
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        return _answer(self._http.post(url, body, headers), f"POST {url}")


def _results(answer: object, count: int, url: str) -> list[Mapping[str, object]]:
    results = answer.get("results") if isinstance(answer, dict) else None
    if not isinstance(results, list) or len(results) != count:
        raise NetworkError(f"POST {url}: expected {count} results, the answer has another shape")
    return [r if isinstance(r, dict) else {} for r in results]


def _ids(result: Mapping[str, object]) -> list[str]:
    vulns = result.get("vulns")
    if not isinstance(vulns, list):
        return []
    return [v["id"] for v in vulns if isinstance(v, dict) and isinstance(v.get("id"), str)]


def query_ids(
    transport: OsvTransport, base: str, packages: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], tuple[str, ...]]:
    """The advisory ids affecting each (name, version), every page followed."""
    url = f"{base}/v1/querybatch"
    found: dict[tuple[str, str], list[str]] = {p: [] for p in packages}
    pending: list[tuple[tuple[str, str], str | None]] = [(p, None) for p in found]
    rounds = 0
    while pending:
        rounds += 1
        if rounds > _MAX_PAGES:
            raise NetworkError(f"POST {url}: still paging after {_MAX_PAGES} rounds")
        batch, pending = pending[:BATCH], pending[BATCH:]
        queries: list[dict[str, object]] = []
        for (name, version), token in batch:
            query: dict[str, object] = {
                "package": {"name": name, "ecosystem": "PyPI"},
                "version": version,
            }
            if token is not None:
                query["page_token"] = token
            queries.append(query)
        for (package, _), result in zip(
            batch,
            _results(transport.post_json(url, {"queries": queries}), len(batch), url),
            strict=True,
        ):
            found[package].extend(_ids(result))
            following = result.get("next_page_token")
            if isinstance(following, str) and following:
                pending.append((package, following))
    return {p: tuple(dict.fromkeys(ids)) for p, ids in found.items()}


def _records(transport: OsvTransport, base: str, ids: Iterable[str]) -> list[object]:
    urls = [f"{base}/v1/vulns/{quote(i, safe='')}" for i in ids]
    with ThreadPoolExecutor(8, thread_name_prefix="tumbler-osv") as pool:
        return list(pool.map(transport.get_json, urls))


def query_database(
    transport: OsvTransport, base: str, packages: Iterable[tuple[str, str]]
) -> Database:
    """A database of every advisory OSV knows for these (name, version) pairs."""
    wanted = sorted(set(packages))
    ids = sorted({i for found in query_ids(transport, base, wanted).values() for i in found})
    records = _records(transport, base, ids)
    advisories = (
        parse_advisory(r, f"{base}/v1/vulns/{i}") for i, r in zip(ids, records, strict=True)
    )
    return build_database(advisories, f"OSV API at {base}")
