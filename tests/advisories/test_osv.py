"""Parsing real OSV records and matching versions against their ranges (tests/data/osv)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.osvserver import OSV_DATA
from tumbler.advisories.osv import Level, affects, fixed_versions, parse_advisory
from tumbler.errors import InputError


def record(ident: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((OSV_DATA / f"{ident}.json").read_text(encoding="utf-8"))
    return data


def test_a_pysec_record_with_a_cvss_vector_is_scored() -> None:
    """urllib3's PYSEC-2023-212: ids, the CVSS v3.1 base score and its band."""
    advisory = parse_advisory(record("PYSEC-2023-212"), "PYSEC-2023-212")

    assert advisory.id == "PYSEC-2023-212"
    assert advisory.aliases == ("CVE-2023-45803", "GHSA-g4mx-q9vg-27p4")
    assert advisory.rating is not None
    assert (advisory.rating.level, advisory.rating.score) == (Level.MODERATE, 4.2)
    assert not advisory.malware


@pytest.mark.parametrize(
    ("version", "hit", "fixed"),
    [
        ("1.26.17", True, ("1.26.18",)),
        ("1.26.18", False, ()),
        ("2.0.0", True, ("2.0.7",)),
        ("2.0.6", True, ("2.0.7",)),
        ("2.0.7", False, ()),
        ("1.0", True, ("1.26.18",)),
    ],
)
def test_unsorted_events_of_two_branches_are_walked_in_version_order(
    version: str, hit: bool, fixed: tuple[str, ...]
) -> None:
    """PYSEC-2023-212 lists ``introduced 2.0.0, fixed 2.0.7, introduced 0, fixed 1.26.18``
    in one range: each branch's own fix is the one reported."""
    advisory = parse_advisory(record("PYSEC-2023-212"), "PYSEC-2023-212")

    assert affects(advisory, "urllib3", version) is hit
    assert fixed_versions(advisory, "urllib3", version) == fixed


def test_a_ghsa_record_prefers_the_cvss_score_to_the_named_severity() -> None:
    advisory = parse_advisory(record("GHSA-9wx4-h78v-vm56"), "GHSA-9wx4-h78v-vm56")

    assert advisory.rating is not None
    assert advisory.rating.score == 5.6
    assert advisory.rating.level is Level.MODERATE
    assert advisory.title.startswith("Requests `Session` object does not verify")
    assert affects(advisory, "Requests", "2.31.0")  # names compare normalised
    assert not affects(advisory, "requests", "2.32.2")


def test_the_named_severity_is_used_when_no_vector_can_be_scored() -> None:
    data = record("GHSA-9wx4-h78v-vm56")
    data["severity"] = [{"type": "CVSS_V3", "score": "not a vector"}]

    advisory = parse_advisory(data, "x")

    assert advisory.rating is not None
    assert (advisory.rating.level, advisory.rating.score) == (Level.MODERATE, None)


def test_a_record_without_severity_has_no_rating_and_matches_its_version_list() -> None:
    advisory = parse_advisory(record("PYSEC-2021-66"), "PYSEC-2021-66")

    assert advisory.rating is None
    assert advisory.summary == ""
    assert advisory.title.startswith("This affects the package jinja2")
    assert affects(advisory, "jinja2", "2.11.2")
    assert affects(advisory, "Jinja2", "2.10")
    assert not affects(advisory, "jinja2", "2.11.3")


def test_a_mal_record_is_malware_for_its_listed_version_only() -> None:
    advisory = parse_advisory(record("MAL-2024-9934"), "MAL-2024-9934")

    assert advisory.malware
    assert advisory.rating is None
    assert affects(advisory, "3web-py", "1.0.0")
    assert not affects(advisory, "3web-py", "1.0.1")
    assert advisory.modified is not None and advisory.modified.isoformat().startswith(
        "2025-12-11T09:27:52"
    )


def test_last_affected_is_inclusive_and_withdrawn_records_match_nothing() -> None:
    """A made-up record: ``introduced 1.0, last_affected 1.4``."""
    data = {
        "id": "MADE-UP-1",
        "modified": "2024-01-01T00:00:00.123456789Z",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "demo"},
                "ranges": [
                    {
                        "type": "ECOSYSTEM",
                        "events": [{"introduced": "1.0"}, {"last_affected": "1.4"}],
                    }
                ],
            },
            {"package": {"ecosystem": "npm", "name": "demo"}, "versions": ["9.9"]},
        ],
    }
    advisory = parse_advisory(data, "made-up")

    assert [affects(advisory, "demo", v) for v in ("0.9", "1.0", "1.4", "1.4.1")] == [
        False, True, True, False,
    ]  # fmt: skip
    assert not affects(advisory, "demo", "9.9")  # another ecosystem's entry
    assert fixed_versions(advisory, "demo", "1.2") == ()
    withdrawn = parse_advisory({**data, "withdrawn": "2024-02-01T00:00:00Z"}, "made-up")
    assert not affects(withdrawn, "demo", "1.2")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "made-up: not an OSV record: not a JSON object"),
        ({"summary": "x"}, "made-up: not an OSV record: no 'id'"),
        ({"id": "X", "aliases": "CVE-1"}, "made-up: not an OSV record: 'aliases' is not a list of strings"),
        ({"id": "X", "modified": "yesterday"}, "made-up: not an OSV record: modified 'yesterday' is not an RFC 3339 time"),
    ],
)  # fmt: skip
def test_a_broken_record_is_an_input_error_naming_it(data: object, message: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_advisory(data, "made-up")

    assert str(raised.value) == message


def test_levels_read_ghsa_and_cvss_names_and_scores() -> None:
    assert Level.of_name("medium") is Level.MODERATE
    assert Level.of_name("CRITICAL") is Level.CRITICAL
    assert Level.of_name("unknown") is None
    assert [Level.of_score(s) for s in (0.0, 0.1, 4.0, 7.0, 9.0)] == [
        None, Level.LOW, Level.MODERATE, Level.HIGH, Level.CRITICAL,
    ]  # fmt: skip
