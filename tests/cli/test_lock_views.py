"""tumbler.cli.views.lock: ``tumbler lock`` says what changed, one line per package.

Locked for real on the loopback index (tests/support/lockfixtures.py): ``churn`` 1.1 came
out in June 2024, so moving ``--exclude-newer`` past it with ``--upgrade`` upgrades it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tests.support.lockfixtures import write_project

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import CLI, Run
    from tests.support.pkgindex import PackageIndex

pytestmark = pytest.mark.usefixtures("lock_env")


def _lock(cli: CLI, index: PackageIndex, *args: str) -> Run:
    return cli("lock", "--index-url", index.url, "--target", "linux-x86_64-3.12", *args)


def test_lock_lists_what_it_added_removed_and_upgraded(
    cli: CLI, index: PackageIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_project(tmp_path, ["churn", "alpha<2"])
    first = _lock(cli, index, "--exclude-newer", "2024-01-01")
    assert first.code == 0, first.err
    assert first.err.splitlines()[0].endswith("; wrote pylock.toml")  # a relative path
    assert first.err.splitlines()[1] == "2 added (a new lock)"
    write_project(tmp_path, ["churn", "delta"])
    again = _lock(cli, index, "--exclude-newer", "2024-07-01", "--upgrade")
    assert again.code == 0, again.err
    lines = again.err.splitlines()
    assert lines[1:] == [
        "  - alpha  1.1",
        "  ↑ churn  1.0 → 1.1",
        "  + delta  1.0",
        "  + gamma  0.6",
        "2 added, 1 removed, 1 upgraded",
    ]
    same = _lock(cli, index, "--exclude-newer", "2024-07-01")
    assert same.err.splitlines() == [same.err.splitlines()[0]]  # nothing changed: one line
    assert "unchanged: pylock.toml" in same.err


def test_lock_changes_in_json_and_quiet(
    cli: CLI, index: PackageIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_project(tmp_path, ["churn"])
    assert _lock(cli, index, "--exclude-newer", "2024-01-01", "--quiet").err == ""
    run = _lock(cli, index, "--exclude-newer", "2024-07-01", "--upgrade", "--format", "json")
    assert run.code == 0, run.err
    document = json.loads(run.out)
    assert document["new"] is False
    assert document["changes"] == [
        {
            "name": "churn",
            "marker": None,
            "kind": "upgraded",
            "old_version": "1.0",
            "new_version": "1.1",
        }
    ]
    assert _lock(cli, index, "--exclude-newer", "2024-01-01", "-q", "--upgrade").err == ""
