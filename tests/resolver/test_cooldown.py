"""Cooldowns you can prove: a relative cut-off (``7 days``) on an index whose files were
uploaded at known times before now; the moment it became is recorded and kept by a
re-lock; ``lock --check`` names a file newer than the cut-off, in a lock edited by hand
and in a lock another tool (uv) wrote; exemptions by name and pattern."""

from __future__ import annotations

import subprocess
import sys
import time
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support.lockfixtures import pins, write_project
from tests.support.pkgindex import Dist, build_dists, serve_json_index
from tests.support.tools import clean_env
from tumbler.errors import InputError
from tumbler.project.cooldown import Cooldown, parse_span, span_text

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.conftest import CLI
    from tests.support.pkgindex import PackageIndex

NOW = datetime.now(UTC).replace(microsecond=0)
#: fresh 2.0 is two days old, 1.0 forty; settled is old; ``acme-tool`` is new and ours.
DISTS = (
    Dist("fresh", "1.0", upload_time=NOW - timedelta(days=40)),
    Dist("fresh", "2.0", upload_time=NOW - timedelta(days=2)),
    Dist("settled", "1.0", requires_dist=("fresh",), upload_time=NOW - timedelta(days=90)),
    Dist("acme-tool", "1.0", upload_time=NOW - timedelta(days=30)),
    Dist("acme-tool", "1.1", upload_time=NOW - timedelta(hours=5)),
)


@pytest.fixture(scope="module")
def timed_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackageIndex]:
    directory = tmp_path_factory.mktemp("timed")
    build_dists(DISTS, directory)
    with serve_json_index(directory, DISTS) as served:
        yield served


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("7 days", timedelta(days=7)),
        ("1 week", timedelta(days=7)),
        ("36h", timedelta(hours=36)),
        ("P7D", timedelta(days=7)),
        ("p1w", timedelta(days=7)),
        ("PT12H", timedelta(hours=12)),
    ],
)
def test_spans_read_as_people_and_iso_8601_write_them(text: str, span: timedelta) -> None:
    assert parse_span(text, "x") == span
    assert parse_span(span_text(span), "x") == span


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("P1M", "months"),
        ("soon", "is not a date"),
        ("0 days", "more than nothing"),
        ("9999999 days", "at most a century"),
    ],
)
def test_a_bad_span_is_one_clear_error(text: str, why: str) -> None:
    with pytest.raises(InputError, match=why):
        parse_span(text, "--exclude-newer")


def test_exemptions_are_names_and_patterns_normalised() -> None:
    cooldown = Cooldown(span=timedelta(days=7), exempt=("Acme_*", "fresh"))
    assert cooldown.exempts("acme-tool") and cooldown.exempts("ACME.Tool")
    assert cooldown.exempts("Fresh") and not cooldown.exempts("settled")
    kept = NOW - timedelta(days=30)
    assert cooldown.cutoff(NOW, kept) == kept  # a recorded moment is kept
    assert cooldown.cutoff(NOW) == NOW - timedelta(days=7)


def _tool(lock: Path) -> dict[str, object]:
    table: dict[str, object] = tomllib.loads(lock.read_text(encoding="utf-8"))["tool"]["tumbler"]
    return table


@pytest.mark.usefixtures("lock_env")
def test_a_relative_cutoff_excludes_the_new_file_and_is_kept_by_a_relock(
    cli: CLI, tmp_path: Path, timed_index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["settled", "acme-tool"], tool='exclude-newer = "7 days"')
    lock = tmp_path / "pylock.toml"
    assert cli("lock", project, "--index-url", timed_index.url, "-q").code == 0
    assert pins(lock) == {"fresh": "1.0", "settled": "1.0", "acme-tool": "1.0"}
    recorded = _tool(lock)
    assert recorded["min-release-age"] == "P7D"
    moment = recorded["exclude-newer"]
    assert isinstance(moment, datetime)
    assert abs(moment - (datetime.now(UTC) - timedelta(days=7))) < timedelta(minutes=5)
    first = lock.read_bytes()
    time.sleep(1.1)  # a cut-off made again now would be another second
    assert cli("lock", project, "--index-url", timed_index.url, "-q").code == 0
    assert lock.read_bytes() == first
    assert cli("lock", project, "--check", "--index-url", timed_index.url).code == 0
    # an upgrade moves the cut-off to now - 7 days
    assert cli("lock", project, "--upgrade", "--index-url", timed_index.url, "-q").code == 0
    moved = _tool(lock)["exclude-newer"]
    assert isinstance(moved, datetime) and moved > moment


@pytest.mark.usefixtures("lock_env")
def test_exempt_names_and_patterns_take_new_files(
    cli: CLI, tmp_path: Path, timed_index: PackageIndex
) -> None:
    project = write_project(
        tmp_path,
        ["settled", "acme-tool"],
        tool='min-release-age = "1 week"\nmin-release-age-exempt = ["acme-*"]',
    )
    assert cli("lock", project, "--index-url", timed_index.url, "-q").code == 0
    assert pins(tmp_path / "pylock.toml") == {"fresh": "1.0", "settled": "1.0", "acme-tool": "1.1"}
    assert _tool(tmp_path / "pylock.toml")["min-release-age-exempt"] == ["acme-*"]


@pytest.mark.usefixtures("lock_env")
def test_check_names_a_file_newer_than_the_cutoff_in_a_lock_edited_by_hand(
    cli: CLI, tmp_path: Path, timed_index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["settled"], tool='exclude-newer = "7 days"')
    lock = tmp_path / "pylock.toml"
    assert cli("lock", project, "--index-url", timed_index.url, "-q").code == 0
    recent = (NOW - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    text = lock.read_text(encoding="utf-8")
    old = (NOW - timedelta(days=40)).isoformat().replace("+00:00", "Z")
    assert old in text
    lock.write_text(text.replace(old, recent), encoding="utf-8")
    check = cli("lock", project, "--check", "--index-url", timed_index.url)
    assert check.code == 1
    assert "policy broken:" in check.out
    assert "fresh 1.0: fresh-1.0-py3-none-any.whl was uploaded" in check.out
    assert "[C1]" in check.out


@pytest.mark.usefixtures("lock_env")
def test_check_names_a_file_newer_than_the_cutoff_in_a_lock_uv_wrote(
    cli: CLI, tmp_path: Path, timed_index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["settled"], tool='exclude-newer = "7 days"')
    uv = str(Path(sys.executable).with_name("uv"))
    made = subprocess.run(
        [uv, "pip", "compile", str(project), "--index-url", timed_index.url,
         "--format", "pylock.toml", "-o", str(tmp_path / "pylock.toml"), "-q",
         "--cache-dir", str(tmp_path / "uv-cache")],
        env=clean_env(), capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert pins(tmp_path / "pylock.toml")["fresh"] == "2.0"  # uv was asked for no cooldown
    check = cli("lock", project, "--check", "--index-url", timed_index.url, "--format", "json")
    assert check.code == 1
    import json

    policy = json.loads(check.out)["policy"]
    assert policy and all("[C1]" in line for line in policy)
    assert any(line.startswith("fresh 2.0: fresh-2.0") for line in policy)
