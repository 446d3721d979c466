"""``tumbler update`` on a loopback index: a project with old pins gets the new versions
and a review summary (a snapshot: ages, advisories, surface and identity lines, changelog
links); nothing to update is exit 0 and no file changes; a named update moves only that
package and what it needs; bounds and exclusions."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from packaging.pylock import Package, PackageWheel, Pylock
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import check_snapshot
from tests.support.lockfixtures import pins, write_project
from tests.support.pkgindex import Dist, build_dists, serve_json_index
from tumbler.resolver.update import bounds_for, summarize

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.conftest import CLI
    from tests.support.pkgindex import PackageIndex


def _day(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


CHANGELOG = (("Changelog", "https://example.com/lib/changes"), ("Homepage", "https://example.com"))
OLD_API = (("lib/__init__.py", "def run(x: int) -> int:\n    return x\n"),)
NEW_API = (
    (
        "lib/__init__.py",
        "def run(x: int, y: int = 0) -> int:\n    return x\n\n\ndef stop() -> None: ...\n",
    ),
)
DISTS = (
    Dist("lib", "1.0", requires_dist=("dep>=1.0",), upload_time=_day(1, 10), modules=OLD_API),
    Dist("lib", "1.1", requires_dist=("dep>=1.0",), upload_time=_day(3, 1), modules=OLD_API),
    Dist(
        "lib",
        "2.0",
        requires_dist=("dep>=1.1",),
        upload_time=_day(11, 20),
        project_urls=CHANGELOG,
        modules=NEW_API,
    ),
    Dist("dep", "1.0", upload_time=_day(1, 1)),
    Dist("dep", "1.1", upload_time=_day(10, 1)),
    Dist("other", "1.0", upload_time=_day(2, 1)),
    Dist("other", "1.0.1", upload_time=_day(4, 1)),
    Dist("other", "1.5", upload_time=_day(9, 1)),
)
#: The summary's "now": 2026-12-01T00:00:00Z.
EPOCH = "1796083200"

pytestmark = pytest.mark.usefixtures("lock_env")


@pytest.fixture(scope="module")
def lib_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackageIndex]:
    directory = tmp_path_factory.mktemp("update")
    build_dists(DISTS, directory)
    with serve_json_index(directory, DISTS) as served:
        yield served


@pytest.fixture
def old_pins(cli: CLI, tmp_path: Path, lib_index: PackageIndex) -> Path:
    """A project whose lock pins the oldest releases (locked with exact pins, then the
    pins relaxed: a plain re-lock keeps them)."""
    tool = f'index-url = "{lib_index.url}"\nsurface = true'
    project = write_project(tmp_path, ["lib==1.0", "other==1.0", "dep==1.0"], tool=tool)
    assert cli("lock", project, "--target", "host", "-q").code == 0
    write_project(tmp_path, ["lib", "other"], tool=tool)
    assert cli("lock", project, "--target", "host", "-q").code == 0
    assert pins(tmp_path / "pylock.toml") == {"lib": "1.0", "other": "1.0", "dep": "1.0"}
    return project


def test_update_takes_new_versions_and_writes_the_summary(
    cli: CLI, tmp_path: Path, old_pins: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.chdir(tmp_path)
    summary = tmp_path / "summary.md"
    run = cli("update", "--project", old_pins, "--summary", summary, "-q")
    assert run.code == 1, run.err  # updated
    assert pins(tmp_path / "pylock.toml") == {"lib": "2.0", "other": "1.5", "dep": "1.1"}
    check_snapshot("update-summary.md", summary.read_text(encoding="utf-8"))
    again = cli("lock", old_pins, "--check")
    assert again.code == 0, again.out  # the updated lock is the project's lock


def test_nothing_to_update_is_exit_0_and_changes_no_file(
    cli: CLI, tmp_path: Path, old_pins: Path
) -> None:
    assert cli("update", "--project", old_pins, "-q").code == 1
    lock = (tmp_path / "pylock.toml").read_bytes()
    summary = tmp_path / "summary.md"
    run = cli("update", "--project", old_pins, "--summary", summary, "--format", "json")
    assert run.code == 0
    assert json.loads(run.out)["updated"] is False
    assert (tmp_path / "pylock.toml").read_bytes() == lock
    assert not summary.exists()


def test_a_named_update_moves_only_that_package_and_what_it_needs(
    cli: CLI, tmp_path: Path, old_pins: Path
) -> None:
    run = cli("update", "lib", "--project", old_pins, "--format", "json")
    assert run.code == 1
    assert pins(tmp_path / "pylock.toml") == {"lib": "2.0", "other": "1.0", "dep": "1.1"}
    moved = {p["name"]: (p["old"], p["new"]) for p in json.loads(run.out)["packages"]}
    assert moved == {"lib": ("1.0", "2.0"), "dep": ("1.0", "1.1")}


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (("--patch-only",), {"lib": "1.0", "other": "1.0.1", "dep": "1.0"}),
        (("--minor-only",), {"lib": "1.1", "other": "1.5", "dep": "1.1"}),
        (("--exclude", "other"), {"lib": "2.0", "other": "1.0", "dep": "1.1"}),
    ],
)
def test_bounds_and_exclusions(
    cli: CLI, tmp_path: Path, old_pins: Path, flags: tuple[str, ...], expected: dict[str, str]
) -> None:
    assert cli("update", "--project", old_pins, "-q", *flags).code == 1
    assert pins(tmp_path / "pylock.toml") == expected
    recorded = tomllib.loads((tmp_path / "pylock.toml").read_text())["tool"]["tumbler"]
    assert "bounds" not in json.dumps(recorded, default=str)  # never recorded as inputs
    assert cli("lock", old_pins, "--check").code == 0


def test_an_unknown_name_is_a_usage_error(cli: CLI, old_pins: Path) -> None:
    run = cli("update", "nothere", "--project", old_pins)
    assert (run.code, run.err) == (
        2,
        "tumbler: error: not in the lock: nothere (tumbler add NAME to add one)\n",
    )


def _pkg(name: str, version: str, digest: str) -> Package:
    wheel = PackageWheel(
        url=f"https://example.com/{name}-{version}-py3-none-any.whl",
        hashes={"sha256": digest * 64},
        upload_time=_day(11, 1),
    )
    return Package(name=canonicalize_name(name), version=Version(version), wheels=[wheel])


def test_the_summary_names_advisories_fixed_and_brought_in() -> None:
    old = Pylock(lock_version=Version("1.0"), created_by="t", packages=[_pkg("a", "1.0", "1")])
    new = Pylock(lock_version=Version("1.0"), created_by="t", packages=[_pkg("a", "2.0", "2")])
    table = {("a", "1.0"): ["GHSA-old"], ("a", "2.0"): ["GHSA-new"]}
    summary = summarize(
        "pylock.toml", old, new, now=_day(12, 1), advisories=lambda lock: {
            k: v for k, v in table.items() if any(
                (p.name, str(p.version)) == k for p in lock.packages
            )
        }, advisory_source="OSV test",
    )  # fmt: skip
    (update,) = summary.packages
    assert (update.fixed, update.introduced, update.age_days(_day(12, 1))) == (
        ("GHSA-old",),
        ("GHSA-new",),
        30,
    )


def test_the_summary_names_publisher_identity_changes() -> None:
    def signed(version: str, digest: str, who: str) -> Package:
        identity = {"kind": "GitHub", "repository": who, "workflow": "release.yml"}
        return Package(
            name=canonicalize_name("a"),
            version=Version(version),
            wheels=_pkg("a", version, digest).wheels,
            attestation_identities=[identity],
        )

    old = Pylock(lock_version=Version("1.0"), created_by="t", packages=[signed("1.0", "1", "o/a")])
    new = Pylock(lock_version=Version("1.0"), created_by="t", packages=[signed("1.1", "2", "x/a")])
    (update,) = summarize("pylock.toml", old, new, now=_day(12, 1)).packages
    assert update.identities
    assert "o/a" in " ".join(update.identities) and "x/a" in " ".join(update.identities)
    from tumbler.cli.views.update import summary_markdown

    assert "- publisher identity:" in summary_markdown(
        summarize("pylock.toml", old, new, now=_day(12, 1))
    )


def test_bounds_count_from_the_newest_locked_version() -> None:
    lock = Pylock(
        lock_version=Version("1.0"),
        created_by="t",
        packages=[_pkg("a", "1.2.3", "1"), _pkg("a", "1.4", "2"), _pkg("b", "0.9", "3")],
    )
    assert {k: str(v) for k, v in bounds_for(lock, "patch").items()} == {"a": "<1.5", "b": "<0.10"}
    assert {k: str(v) for k, v in bounds_for(lock, "minor").items()} == {"a": "<2", "b": "<1"}
