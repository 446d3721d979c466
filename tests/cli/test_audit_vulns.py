"""``tumbler audit --vulns`` end to end, offline (--vuln-db zip and folder) and online (a
loopback OSV server), in every format; ``install``/``sync --audit-vulns`` refusing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.conftest import CLI, DATA
from tests.support.lockfixtures import write_project
from tests.support.osvserver import LOCK, OSV_DATA, OSV_DATE, serve_osv, write_zip
from tests.support.pkgindex import PackageIndex

SARIF_SCHEMA = DATA / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture
def lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TUMBLER_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "pylock.toml"
    path.write_text(LOCK, encoding="utf-8")
    return path


def ignores(lock: Path, *entries: tuple[str, str, date]) -> None:
    rows = ",\n".join(
        f"  {{ id = '{i}', reason = '{r}', until = {u.isoformat()} }}" for i, r, u in entries
    )
    (lock.parent / "pyproject.toml").write_text(
        f"[tool.tumbler]\nignore-vulnerabilities = [\n{rows}\n]\n", encoding="utf-8"
    )


def today() -> date:
    return datetime.now(UTC).date()


def test_text_names_each_advisory_what_selects_it_and_the_database_date(
    cli: CLI, lock: Path
) -> None:
    run = cli("audit", "--vulns", "--vuln-db", OSV_DATA, lock)

    assert run.code == 1, run.err
    lines = run.out.splitlines()
    assert lines[0] == (
        f"{lock}: vulnerability database: OSV PyPI data at {OSV_DATA}, dated {OSV_DATE} (6 records)"
    )
    assert (
        f"{lock}: packages[1]: error[V1] jinja2 2.11.2: PYSEC-2021-66 (CVE-2020-28493, "
        "GHSA-g3rq-g295-4j3m, SNYK-PYTHON-JINJA2-1012994)"
    ) in run.out
    assert "; selected by: extra docs" in run.out
    assert "; selected by: group dev" in run.out
    assert "error[V2] 3web-py 1.0.0: MAL-2024-9934" in run.out
    assert "    hint: upgrade requests to 2.32.2 or later" in lines
    assert lines[-1] == f"{lock}: not clean (5 errors, 0 warnings)"


def test_the_zip_gives_what_the_folder_gives(cli: CLI, lock: Path, tmp_path: Path) -> None:
    folder = cli("audit", "--vulns", "--vuln-db", OSV_DATA, "--format", "json", lock)
    archive = write_zip(tmp_path / "all.zip")
    zipped = cli("audit", "--vulns", "--vuln-db", archive, "--format", "json", lock)

    assert (folder.code, zipped.code) == (1, 1)
    first, second = json.loads(folder.out)["files"][0], json.loads(zipped.out)["files"][0]
    assert first["findings"] == second["findings"]
    assert second["database"] == {
        "source": f"OSV PyPI data at {archive}",
        "date": OSV_DATE,
        "records": 6,
    }


def test_json_carries_the_structured_advisory(cli: CLI, lock: Path) -> None:
    run = cli("audit", "--vulns", "--vuln-db", OSV_DATA, "--format", "json", lock)

    findings = json.loads(run.out)["files"][0]["findings"]
    urllib3 = next(f for f in findings if f["rule"] == "V1" and "urllib3" in f["message"])
    assert urllib3["location"] == "packages[2]"
    assert urllib3["hint"] == "upgrade urllib3 to 1.26.18 or later"
    assert urllib3["details"] == {
        "package": "urllib3",
        "version": "1.26.17",
        "id": "PYSEC-2023-212",
        "aliases": ["CVE-2023-45803", "GHSA-g4mx-q9vg-27p4"],
        "summary": urllib3["details"]["summary"],
        "fixed": ["1.26.18"],
        "severity": "moderate",
        "score": 4.2,
        "malware": False,
        "selected_by": ["group dev"],
    }
    assert urllib3["details"]["summary"].startswith("urllib3 is a user-friendly HTTP client")
    malware = next(f for f in findings if f["rule"] == "V2")
    assert malware["details"]["selected_by"] == [
        "some environments",
        'marker sys_platform == "win32"',
    ]


def test_markdown_has_the_database_line_and_a_row_per_finding(cli: CLI, lock: Path) -> None:
    run = cli("audit", "--vulns", "--vuln-db", OSV_DATA, "--format", "markdown", lock)

    assert run.code == 1
    assert f"Vulnerability database: OSV PyPI data at {OSV_DATA}, dated {OSV_DATE}" in run.out
    rows = [line for line in run.out.splitlines() if line.startswith("| error | V")]
    assert len(rows) == 5
    assert any("| V2 | `packages[3]` | 3web-py 1.0.0: MAL-2024-9934" in r for r in rows)


def test_sarif_is_valid_and_points_at_each_package_entry(cli: CLI, lock: Path) -> None:
    run = cli("audit", "--vulns", "--vuln-db", OSV_DATA, "--format", "sarif", lock)

    assert run.code == 1
    log: dict[str, Any] = json.loads(run.out)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(log, schema)
    (sarif_run,) = log["runs"]
    driver = sarif_run["tool"]["driver"]
    assert driver["name"] == "tumbler"
    assert [r["id"] for r in driver["rules"]] == ["V1", "V2"]
    lines = LOCK.splitlines()
    for result in sarif_run["results"]:
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == f"file://{lock}"
        line = location["region"]["startLine"]
        assert lines[line - 1] == "[[packages]]"
        name = result["properties"]["package"]
        assert lines[line] == f'name = "{name}"'
        assert result["level"] == "error"
    assert {r["ruleId"] for r in sarif_run["results"]} == {"V1", "V2"}


def test_sarif_schema_rejects_a_broken_log() -> None:
    """The schema check above can fail: a result without a message is refused."""
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t"}}, "results": [{}]}]}

    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_a_clean_lock_exits_0(cli: CLI, tmp_path: Path, lock: Path) -> None:
    clean = tmp_path / "clean" / "pylock.toml"
    clean.parent.mkdir()
    clean.write_text(
        LOCK[: LOCK.index("[[packages]]")] + LOCK[LOCK.index('[[packages]]\nname = "idna"') :]
    )

    run = cli("audit", "--vulns", "--vuln-db", OSV_DATA, clean)

    assert run.code == 0, run.out
    assert run.out.splitlines()[-1] == f"{clean}: clean (0 errors, 0 warnings)"


def test_an_unreadable_database_is_one_line_and_exit_2(
    cli: CLI, lock: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "all.zip"
    bad.write_bytes(b"PK not really")

    run = cli("audit", "--vulns", "--vuln-db", bad, lock)

    assert run.code == 2
    assert run.out == ""
    assert run.err.count("\n") == 1
    assert run.err.startswith(f"tumbler: error: {bad}: cannot read the vulnerability database")


def test_an_ignore_in_force_silences_one_and_an_expired_one_is_a_finding(
    cli: CLI, lock: Path
) -> None:
    ignores(
        lock,
        ("GHSA-9wx4-h78v-vm56", "we never pass verify=False", today() + timedelta(days=30)),
        ("CVE-2023-45803", "no redirects", today() - timedelta(days=1)),
    )

    run = cli("audit", "--vulns", "--vuln-db", OSV_DATA, lock)

    assert run.code == 1
    assert "GHSA-9wx4-h78v-vm56" not in run.out
    assert "PYSEC-2023-212" in run.out  # the expired ignore silences nothing
    assert (
        f"warning[V3] {lock.parent / 'pyproject.toml'}: tool.tumbler.ignore-vulnerabilities[1]: "
        f"the ignore of CVE-2023-45803 expired on {today() - timedelta(days=1)}"
    ) in run.out
    assert run.out.splitlines()[-1] == f"{lock}: not clean (4 errors, 1 warning)"


def test_an_ignore_without_a_reason_is_an_input_error(cli: CLI, lock: Path) -> None:
    (lock.parent / "pyproject.toml").write_text(
        "[tool.tumbler]\nignore-vulnerabilities = [{ id = 'X-1', until = 2027-01-31 }]\n"
    )

    run = cli("audit", "--vulns", "--vuln-db", OSV_DATA, lock)

    assert run.code == 2
    assert "ignore-vulnerabilities[0]: no reason; every ignore needs" in run.err


def test_online_against_a_local_osv_server(cli: CLI, lock: Path) -> None:
    with serve_osv(page_size=2) as server:
        run = cli("audit", "--vulns", "--osv-url", server.url, "--format", "json", lock)

    assert run.code == 1, run.err
    report = json.loads(run.out)["files"][0]
    assert report["database"] == {
        "source": f"OSV API at {server.url}",
        "date": OSV_DATE,
        "records": 6,
    }
    assert sorted(f["details"]["id"] for f in report["findings"]) == [
        "GHSA-9wx4-h78v-vm56",
        "GHSA-j8r2-6x86-q33q",
        "MAL-2024-9934",
        "PYSEC-2021-66",
        "PYSEC-2023-212",
    ]
    assert any("page_token" in q for b in server.batches for q in b["queries"])


def test_the_osv_url_may_come_from_the_environment(
    cli: CLI, lock: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve_osv() as server:
        monkeypatch.setenv("TUMBLER_OSV_URL", server.url)
        run = cli("audit", "--vulns", lock)

    assert run.code == 1, run.err
    assert f"vulnerability database: OSV API at {server.url}" in run.out
    assert server.batches


def test_without_vulns_audit_asks_nothing(cli: CLI, lock: Path) -> None:
    with serve_osv() as server:
        run = cli("audit", "--osv-url", server.url.replace("http", "ftp"), lock)

    assert run.code == 2  # --osv-url alone means --vulns: a bad URL is refused
    plain = cli("audit", lock)
    assert "V1" not in plain.out and "vulnerability database" not in plain.out
    assert server.batches == []


# --- install / sync -------------------------------------------------------------------------

#: A made-up advisory (not a real one) against the test index's ``top`` 1.0.
MADE_UP = {
    "id": "GHSA-made-up0-test",
    "modified": "2026-01-01T00:00:00Z",
    "summary": "MADE UP for tumbler's install test: top 1.0 is not really vulnerable",
    "affected": [
        {
            "package": {"ecosystem": "PyPI", "name": "top"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1"}]}],
        }
    ],
    "database_specific": {"severity": "HIGH"},
}


@pytest.fixture
def top_lock(cli: CLI, tmp_path: Path, index: PackageIndex, lock_env: None) -> Path:
    write_project(tmp_path / "p", ["top"])
    run = cli("lock", tmp_path / "p", "--index-url", index.url, "-q")
    assert run.code == 0, run.err
    return tmp_path / "p" / "pylock.toml"


@pytest.mark.parametrize("command", ["install", "sync"])
def test_install_refuses_a_flagged_package_and_installs_nothing(
    cli: CLI, top_lock: Path, tmp_path: Path, command: str
) -> None:
    db = write_zip(tmp_path / "all.zip", {"GHSA-made-up0-test": MADE_UP})
    venv = tmp_path / "venv"

    run = cli(command, top_lock, "--venv", venv, "--audit-vulns=high", "--vuln-db", db)

    assert run.code == 2, run.out + run.err
    lines = run.err.splitlines()
    assert lines[0] == (
        f"tumbler: error: {top_lock}: the vulnerability check (high) refuses 1 package: "
        "1 problem; nothing was changed"
    )
    assert lines[1].endswith(": V1: top 1.0: GHSA-made-up0-test (high, fixed in 1.1)")
    assert len(lines) == 2  # one line per refused package
    assert not venv.exists()


def test_a_lower_advisory_passes_a_higher_level_and_the_setting_turns_the_check_on(
    cli: CLI, top_lock: Path, tmp_path: Path
) -> None:
    db = write_zip(tmp_path / "all.zip", {"GHSA-made-up0-test": MADE_UP})
    venv = tmp_path / "venv"

    passing = cli(
        "install", top_lock, "--venv", venv, "--dry-run", "--audit-vulns=critical", "--vuln-db", db
    )
    assert passing.code == 0, passing.err

    pyproject = top_lock.parent / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n[tool.tumbler]\ninstall-audit = 'moderate'\n")
    refused = cli("install", top_lock, "--venv", venv, "--vuln-db", db)
    assert refused.code == 2
    assert "the vulnerability check (moderate) refuses 1 package" in refused.err
    skipped = cli("install", top_lock, "--venv", venv, "--dry-run", "--no-audit-vulns")
    assert skipped.code == 0, skipped.err
    assert not venv.exists()


def test_a_bad_level_is_a_usage_error(cli: CLI, lock: Path) -> None:
    with pytest.raises(SystemExit) as raised:
        cli("install", lock, "--audit-vulns=severe")

    assert raised.value.code == 2
