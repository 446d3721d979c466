"""tumbler.cli.views.diff: the diff as a reviewer reads it, in text, Markdown and JSON.

Three changes a team meets, each locked for real on the loopback index (or, for the
200-package upgrade, rendered by tumbler itself) and compared with a snapshot in
``tests/snapshots/diff-*`` (``TUMBLER_UPDATE_SNAPSHOTS=1`` rewrites them; the loopback
index's address is written ``http://index.invalid/simple`` there):

- one dependency added and another's requirement changed;
- a universal lock against a one-target lock of the same project;
- 200 packages upgraded.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest
from packaging.pylock import Package, PackageWheel, Pylock
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.conftest import check_snapshot
from tests.support.lockfixtures import write_project
from tumbler.lockfile.render import render

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import CLI
    from tests.support.pkgindex import PackageIndex

pytestmark = pytest.mark.usefixtures("lock_env")

FORMATS = ("text", "markdown", "json")
SUFFIX = {"text": "txt", "markdown": "md", "json": "json"}


def _lock(cli: CLI, project: Path, index: PackageIndex, *args: str) -> None:
    run = cli(
        "lock", project, "--index-url", index.url, "--exclude-newer", "2024-01-01", "-q", *args
    )
    assert run.code == 0, run.err


def _diffs(cli: CLI, index: PackageIndex, old: str, new: str) -> dict[str, str]:
    """The diff in each format, the loopback address written as a fixed one."""
    out = {}
    for fmt in FORMATS:
        run = cli("diff", "--format", fmt, "--color", "never", old, new)
        assert run.code == 1, run.err  # the locks differ
        assert run.err == ""
        out[fmt] = run.out.replace(index.url.rstrip("/"), "http://index.invalid/simple")
    return out


def _snapshots(case: str, diffs: dict[str, str]) -> None:
    for fmt, text in diffs.items():
        check_snapshot(f"diff-{case}.{SUFFIX[fmt]}", text)
    json.loads(diffs["json"])  # one document, with no JSON inside its strings
    assert '{"' not in diffs["text"] and '{"' not in diffs["markdown"]


def test_one_dependency_added_and_one_input_changed(
    cli: CLI, index: PackageIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`beta` → `beta>=1.0` and `delta` added: the inputs say so item by item, then the
    packages the new requirement brings; no line wider than 120 characters."""
    monkeypatch.chdir(tmp_path)
    project = write_project(tmp_path / "app", ["beta"])
    _lock(cli, project, index, "--target", "linux-x86_64-3.12")
    shutil.copy(tmp_path / "app" / "pylock.toml", tmp_path / "pylock.old.toml")
    write_project(tmp_path / "app", ["beta>=1.0", "delta"])
    _lock(cli, project, index)
    shutil.copy(tmp_path / "app" / "pylock.toml", tmp_path / "pylock.new.toml")
    diffs = _diffs(cli, index, "pylock.old.toml", "pylock.new.toml")
    _snapshots("added", diffs)
    text = diffs["text"]
    assert max(len(line) for line in text.splitlines()) <= 120
    assert "tool.tumbler.inputs.dependencies:\n      beta → beta>=1.0\n      + delta" in text
    fields = {(f["field"], f["old"], f["new"]) for f in json.loads(diffs["json"])["lock"]}
    assert ("tool.tumbler.inputs.dependencies", "beta", "beta>=1.0") in fields
    assert ("tool.tumbler.inputs.dependencies", None, "delta") in fields


def test_universal_against_one_target(
    cli: CLI, index: PackageIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same project locked for one environment, then for all: the environments one
    per line, the mode, and the packages other platforms need."""
    monkeypatch.chdir(tmp_path)
    project = write_project(tmp_path / "app", ["delta", "beta[fast]"], requires_python=">=3.11")
    _lock(cli, project, index, "--target", "linux-x86_64-3.12")
    shutil.copy(tmp_path / "app" / "pylock.toml", tmp_path / "pylock.single.toml")
    _lock(cli, project, index, "--universal")
    shutil.copy(tmp_path / "app" / "pylock.toml", tmp_path / "pylock.universal.toml")
    diffs = _diffs(cli, index, "pylock.single.toml", "pylock.universal.toml")
    _snapshots("universal", diffs)
    text = diffs["text"]
    assert text.splitlines()[0].startswith("tumbler diff pylock.single.toml → ")
    assert "\n  environments:\n      - " in text  # the one-target marker, then each new one
    assert "tool.tumbler.target: linux-x86_64-3.12 → universal" in text


def _upgraded(count: int, minor: int) -> Pylock:
    """``count`` packages at ``1.<minor>``, one wheel each, as tumbler renders them."""
    day = datetime(2024, 1, 1, tzinfo=UTC)
    packages = []
    for n in range(count):
        name = canonicalize_name(f"pkg-{n:03d}")
        filename = f"pkg_{n:03d}-1.{minor}-py3-none-any.whl"
        wheel = PackageWheel(
            name=filename,
            url=f"https://files.example.com/{filename}",
            upload_time=day,
            size=1000 + n,
            hashes={"sha256": f"{n:02x}{minor:02x}".ljust(64, "0")},
        )
        packages.append(
            Package(
                name=name,
                version=Version(f"1.{minor}"),
                index="https://example.com/simple",
                wheels=[wheel],
            )
        )
    return Pylock(lock_version=Version("1.0"), created_by="tumbler", packages=packages)


def test_two_hundred_upgrades_stay_readable(
    cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary comes first; each long section folds under its own summary line."""
    monkeypatch.chdir(tmp_path)
    old, new = tmp_path / "pylock.old.toml", tmp_path / "pylock.new.toml"
    old.write_text(render(_upgraded(200, 0)), encoding="utf-8")
    new.write_text(render(_upgraded(200, 1)), encoding="utf-8")
    diffs = {}
    for fmt in FORMATS:
        run = cli("diff", "--format", fmt, "--color", "never", old.name, new.name)
        assert run.code == 1, run.err
        diffs[fmt] = run.out
    _snapshots("upgrades", diffs)
    markdown = diffs["markdown"].splitlines()
    assert markdown[2] == "**200 upgraded**"
    assert "<summary><b>Upgraded (200)</b></summary>" in markdown
    assert diffs["text"].splitlines()[0].endswith(": 200 upgraded")
    assert json.loads(diffs["json"])["summary"]["upgraded"] == 200
