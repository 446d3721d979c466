"""Ignores: in force they silence a hit (by id or alias); expired they are V3 findings."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest
from packaging.pylock import Pylock

from tests.support.osvserver import LOCK, OSV_DATA
from tumbler.advisories.database import read_database
from tumbler.advisories.gate import refusals, refuses
from tumbler.advisories.ignores import apply_ignores, project_settings
from tumbler.advisories.match import Hit, match
from tumbler.errors import InputError
from tumbler.findings import Severity
from tumbler.project.pyproject import VulnerabilityIgnore

TODAY = date(2026, 12, 6)


def hits() -> tuple[Hit, ...]:
    return match(Pylock.from_dict(tomllib.loads(LOCK)), read_database(OSV_DATA))


def test_an_ignore_in_force_silences_by_alias_and_an_expired_one_is_a_finding() -> None:
    ignores = (
        VulnerabilityIgnore(id="cve-2023-32681", reason="no proxies", until=date(2027, 1, 31)),
        VulnerabilityIgnore(id="PYSEC-2021-66", reason="no urlize", until=date(2026, 12, 5)),
    )

    triage = apply_ignores(hits(), ignores, TODAY, "p/pyproject.toml")

    assert [(h.id, i.reason) for h, i in triage.ignored] == [("GHSA-j8r2-6x86-q33q", "no proxies")]
    assert "PYSEC-2021-66" in {h.id for h in triage.kept}  # expired: no longer silenced
    (expired,) = triage.expired
    assert expired.rule == "V3"
    assert expired.severity is Severity.WARNING
    assert expired.message == (
        "p/pyproject.toml: tool.tumbler.ignore-vulnerabilities[1]: the ignore of PYSEC-2021-66 "
        "expired on 2026-12-05 (reason given: no urlize)"
    )


def test_the_last_day_of_an_ignore_still_counts() -> None:
    ignores = (VulnerabilityIgnore(id="MAL-2024-9934", reason="r", until=TODAY),)

    assert apply_ignores(hits(), ignores, TODAY, "x").expired == ()


def test_settings_beside_the_lock_are_read_and_checked(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.tumbler]\ninstall-audit = 'Medium'\nignore-vulnerabilities = [\n"
        "  { id = 'GHSA-9wx4-h78v-vm56', reason = 'never verify=False', until = 2027-01-31 },\n]\n",
        encoding="utf-8",
    )

    settings, path = project_settings(tmp_path / "pylock.toml")

    assert path == tmp_path / "pyproject.toml"
    assert settings.install_audit == "moderate"
    assert settings.ignore_vulnerabilities == (
        VulnerabilityIgnore(
            id="GHSA-9wx4-h78v-vm56", reason="never verify=False", until=date(2027, 1, 31)
        ),
    )
    assert project_settings(tmp_path / "sub" / "pylock.toml")[1] is None


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{ id = 'X-1', until = 2027-01-31 }", "ignore-vulnerabilities[0]: no reason; every ignore needs"),
        ("{ id = 'X-1', reason = 'r' }", "ignore-vulnerabilities[0]: no until; every ignore needs"),
        ("{ id = 'X-1', reason = 'r', until = 'soon' }", "ignore-vulnerabilities[0].until: expected a date"),
        ("{ id = 'X-1', reason = 'r', until = 2027-01-31, why = 1 }", "unknown key 'why'"),
        ("'X-1'", "ignore-vulnerabilities[0]: expected a table"),
    ],
)  # fmt: skip
def test_a_bad_ignore_is_an_input_error(tmp_path: Path, entry: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f"[tool.tumbler]\nignore-vulnerabilities = [{entry}]\n", encoding="utf-8"
    )

    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        project_settings(tmp_path / "pylock.toml")


def test_a_bad_install_audit_level_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.tumbler]\ninstall-audit = 'severe'\n")

    with pytest.raises(InputError, match="'severe' is not one of malware, critical, high"):
        project_settings(tmp_path / "pylock.toml")


def test_malware_always_refuses_and_advisories_by_level() -> None:
    found = {h.id: h for h in hits()}
    malware, moderate, unrated = (
        found["MAL-2024-9934"], found["GHSA-j8r2-6x86-q33q"], found["PYSEC-2021-66"],
    )  # fmt: skip

    assert [refuses(malware, level) for level in ("malware", "critical")] == [True, True]
    assert [refuses(moderate, lv) for lv in ("high", "moderate", "low")] == [False, True, True]
    assert [refuses(unrated, lv) for lv in ("low", "any")] == [False, True]
    lines = refusals(found.values(), "moderate")
    assert [(f.location, f.rule) for f in lines] == [
        ("packages[0]", "V1"), ("packages[2]", "V1"), ("packages[3]", "V2"),
    ]  # fmt: skip
    assert lines[0].message == (
        "requests 2.30.0: GHSA-9wx4-h78v-vm56 (moderate, fixed in 2.32.2); "
        "GHSA-j8r2-6x86-q33q (moderate, fixed in 2.31.0)"
    )
    assert all(f.hint == "" for f in lines)
