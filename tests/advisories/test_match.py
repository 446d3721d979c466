"""A lock of real releases against the recorded OSV records: hits, merges, selection."""

from __future__ import annotations

import tomllib

import pytest
from packaging.pylock import Pylock

from tests.support.osvserver import LOCK, OSV_DATA
from tumbler.advisories.database import read_database
from tumbler.advisories.match import Hit, hit_finding, match, selected_by
from tumbler.advisories.osv import Level
from tumbler.findings import Severity


def lock(text: str = LOCK) -> Pylock:
    return Pylock.from_dict(tomllib.loads(text))


@pytest.fixture(scope="module")
def hits() -> dict[str, Hit]:
    return {h.id: h for h in match(lock(), read_database(OSV_DATA))}


def test_every_affected_release_is_hit_and_the_clean_one_is_not(hits: dict[str, Hit]) -> None:
    assert sorted((h.name, h.id) for h in hits.values()) == [
        ("3web-py", "MAL-2024-9934"),
        ("jinja2", "PYSEC-2021-66"),
        ("requests", "GHSA-9wx4-h78v-vm56"),
        ("requests", "GHSA-j8r2-6x86-q33q"),
        ("urllib3", "PYSEC-2023-212"),
    ]


def test_records_naming_each_other_are_one_hit(hits: dict[str, Hit]) -> None:
    """PYSEC-2023-74 and GHSA-j8r2-6x86-q33q are the same CVE: one hit, named by the GHSA
    record (it carries a severity), every id kept."""
    hit = hits["GHSA-j8r2-6x86-q33q"]

    assert hit.aliases == ("CVE-2023-32681", "PYSEC-2023-74")
    assert hit.fixed == ("2.31.0",)
    assert (hit.level, hit.score) == (Level.MODERATE, 6.1)
    assert hit.summary == "Unintended leak of Proxy-Authorization header in requests"
    assert hit.index == 0


def test_each_hit_says_which_installs_select_the_package(hits: dict[str, Hit]) -> None:
    assert hits["GHSA-9wx4-h78v-vm56"].selected_by == ("all environments",)
    assert hits["PYSEC-2021-66"].selected_by == ("extra docs",)
    assert hits["PYSEC-2023-212"].selected_by == ("group dev",)
    assert hits["MAL-2024-9934"].selected_by == (
        "some environments",
        'marker sys_platform == "win32"',
    )


def test_selection_names_default_groups_and_unselectable_packages() -> None:
    pylock = lock(LOCK.replace("default-groups = []", 'default-groups = ["dev"]'))
    urllib3 = next(p for p in pylock.packages if p.name == "urllib3")
    assert selected_by(pylock, urllib3) == ("group dev (default)",)

    windows_only = lock(
        LOCK.replace(
            'requires-python = ">=3.9"',
            'requires-python = ">=3.9"\nenvironments = ["sys_platform == \'linux\'"]',
        )
    )
    malware = next(p for p in windows_only.packages if p.name == "3web-py")
    assert selected_by(windows_only, malware) == (
        "no supported environment",
        'marker sys_platform == "win32"',
    )


def test_a_hit_is_an_error_finding_with_its_ids_severity_and_a_fix(hits: dict[str, Hit]) -> None:
    finding = hit_finding(hits["PYSEC-2023-212"])

    assert finding.location == "packages[2]"
    assert finding.rule == "V1"
    assert finding.severity is Severity.ERROR
    assert finding.message.startswith(
        "urllib3 1.26.17: PYSEC-2023-212 (CVE-2023-45803, GHSA-g4mx-q9vg-27p4): urllib3 is"
    )
    assert finding.message.endswith("[severity moderate 4.2]; selected by: group dev")
    assert finding.hint == "upgrade urllib3 to 1.26.18 or later"


def test_malware_is_v2_and_says_remove(hits: dict[str, Hit]) -> None:
    finding = hit_finding(hits["MAL-2024-9934"])

    assert finding.rule == "V2"
    assert "[malware]" in finding.message
    assert finding.hint.startswith("remove 3web-py from the project")


def test_a_hit_with_no_fix_says_so(hits: dict[str, Hit]) -> None:
    from dataclasses import replace

    finding = hit_finding(replace(hits["PYSEC-2021-66"], fixed=()))

    assert finding.hint.startswith("no fixed release is known: replace or remove jinja2")
    assert "[severity not given]" in finding.message
