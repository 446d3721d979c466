"""Live (bounded): API surfaces of real packages from the real index, as of
:data:`~tests.support.livehelpers.EXCLUDE_NEWER`: httpx is ``async``, attrs is ``dataclass`` (and
ships two import packages), and httpx 0.27.2 → 0.28.1, which dropped ``proxies`` and
``app`` from its clients, shows it in ``diff --surface``."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

import pytest

from tests.support.livehelpers import EXCLUDE_NEWER
from tests.support.lockfixtures import write_project

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import CLI

pytestmark = [pytest.mark.live, pytest.mark.usefixtures("lock_env")]


def _surface(cli: CLI, requirement: str) -> dict[str, dict[str, object]]:
    run = cli("surface", requirement, "--exclude-newer", EXCLUDE_NEWER, "--format", "json")
    assert run.code == 0, run.err
    return {entry["key"]: entry for entry in json.loads(run.out)["imports"]}


def test_httpx_is_async_and_attrs_is_dataclass(cli: CLI) -> None:
    httpx = _surface(cli, "httpx==0.28.1")
    assert list(httpx) == ["httpx:httpx"]
    assert "async" in httpx["httpx:httpx"]["capabilities"]  # type: ignore[operator]
    attrs = _surface(cli, "attrs==25.3.0")
    assert sorted(attrs) == ["attrs:attr", "attrs:attrs"]
    for entry in attrs.values():
        assert "dataclass" in entry["capabilities"]  # type: ignore[operator]
        assert entry["surface-sha256"] != httpx["httpx:httpx"]["surface-sha256"]


def test_a_known_api_change_shows_in_diff_surface(cli: CLI, tmp_path: Path) -> None:
    if os.environ.get("TUMBLER_INDEX_URL"):
        pytest.skip("TUMBLER_INDEX_URL points elsewhere")
    locks = []
    for version in ("0.27.2", "0.28.1"):
        project = write_project(tmp_path / version, [f"httpx=={version}"], requires_python=">=3.9")
        run = cli("lock", project, "--surface", "--exclude-newer", EXCLUDE_NEWER, "--quiet")
        assert run.code == 0, run.err
        locks.append(tmp_path / version / "pylock.toml")
    drift = cli("diff", *locks)
    assert "changed httpx:httpx (surface-sha256)" in drift.out
    report = json.loads(cli("diff", "--surface", "--format", "json", *locks).out)
    upgrade = next(u for u in report["names"] if u["name"] == "httpx")
    assert (upgrade["old_version"], upgrade["new_version"]) == ("0.27.2", "0.28.1")
    [changes] = [i for i in upgrade["imports"] if i["key"] == "httpx:httpx"]
    changed = {pair["new"][0].split(" ", 1)[0]: pair for pair in changes["changed"]}
    client = changed["httpx.Client.__init__"]
    assert "proxies:" in client["old"][0]
    assert "proxies:" not in client["new"][0]
    assert "app:" not in client["new"][0]
