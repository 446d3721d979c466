"""The pure install plan: what is kept, changed and removed, and direct_url.json (I11)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.pylock import (
    Package,
    PackageArchive,
    PackageDirectory,
    PackageVcs,
    PackageWheel,
)
from packaging.utils import canonicalize_name
from packaging.version import Version

from tumbler.installing.installed import Installed
from tumbler.installing.plan import Action, direct_url, make_plan

HASH = {"sha256": "ab" * 32}


def wheel_package(name: str, version: str) -> tuple[Package, PackageWheel]:
    wheel = PackageWheel(
        name=f"{name}-{version}-py3-none-any.whl",
        url=f"https://example.com/{name}-{version}-py3-none-any.whl",
        hashes=HASH,
    )
    return Package(name=canonicalize_name(name), version=Version(version), wheels=[wheel]), wheel


def have(name: str, version: str, direct: dict[str, Any] | None = None) -> Installed:
    return Installed(
        name=canonicalize_name(name),
        display_name=name,
        version=Version(version),
        dist_info=Path(f"/venv/site/{name}-{version}.dist-info"),
        direct_url=direct,
        installer="pip",
    )


def env(*items: Installed) -> dict[str, Installed]:
    return {i.name: i for i in items}


def actions(plan: object) -> dict[str, str]:
    return {s.name: s.action.value for s in plan.steps}  # type: ignore[attr-defined]


def test_add_upgrade_downgrade_keep_and_sync_removal() -> None:
    chosen = [wheel_package("a", "1.0"), wheel_package("b", "2.0"), wheel_package("c", "1.0")]
    installed = env(have("b", "1.0"), have("c", "3.0"), have("d", "1.0"), have("pip", "25.0"))
    plan = make_plan(chosen, installed, sync=False)
    assert actions(plan) == {"a": "add", "b": "upgrade", "c": "downgrade"}
    synced = make_plan(chosen, installed, sync=True)
    assert actions(synced) == {
        "a": "add", "b": "upgrade", "c": "downgrade", "d": "remove", "pip": "keep",
    }  # fmt: skip
    assert synced.counts()["remove"] == 1
    assert [s.name for s in synced.installs] == ["a", "b", "c"]


def test_same_version_from_another_origin_is_reinstalled() -> None:
    chosen = [wheel_package("a", "1.0")]
    direct = {"url": "file:///x/a-1.0-py3-none-any.whl", "archive_info": {}}
    plan = make_plan(chosen, env(have("a", "1.0", direct)), sync=False)
    step = plan.steps[0]
    assert step.action is Action.REINSTALL
    assert "file:///x/a-1.0-py3-none-any.whl" in step.reason
    assert make_plan(chosen, env(have("a", "1.0")), sync=False).steps[0].action is Action.KEEP
    forced = make_plan(chosen, env(have("a", "1.0")), sync=False, reinstall=True)
    assert forced.steps[0].action is Action.REINSTALL


def test_vcs_is_kept_only_at_the_same_commit(tmp_path: Path) -> None:
    vcs = PackageVcs(type="git", url="https://example.com/r.git", commit_id="1" * 40)
    package = Package(name=canonicalize_name("g"), vcs=vcs)
    same = {"url": "https://example.com/r.git", "vcs_info": {"vcs": "git", "commit_id": "1" * 40}}
    other = {"url": "https://example.com/r.git", "vcs_info": {"vcs": "git", "commit_id": "2" * 40}}
    assert (
        make_plan([(package, vcs)], env(have("g", "1.0", same)), sync=False).steps[0].action
        is Action.KEEP
    )
    step = make_plan([(package, vcs)], env(have("g", "1.0", other)), sync=False).steps[0]
    assert step.action is Action.REINSTALL and step.reason == "installed from another commit"


def test_directories_editable_kept_plain_rebuilt(tmp_path: Path) -> None:
    editable = PackageDirectory(path="src/pkg", editable=True)
    plain = PackageDirectory(path="src/pkg")
    package = Package(name=canonicalize_name("p"), directory=editable)
    url = (tmp_path / "src" / "pkg").resolve().as_uri()
    installed = env(have("p", "1.0", {"url": url, "dir_info": {"editable": True}}))
    kept = make_plan([(package, editable)], installed, sync=False, base=tmp_path)
    assert kept.steps[0].action is Action.KEEP
    rebuilt = make_plan([(package, plain)], installed, sync=False, base=tmp_path)
    assert rebuilt.steps[0].action is Action.REINSTALL
    assert rebuilt.steps[0].reason == "a directory is rebuilt on every install"
    no_editable = make_plan(
        [(package, editable)], installed, sync=False, base=tmp_path, editable=False
    )
    assert no_editable.steps[0].action is Action.REINSTALL


def test_direct_url_shapes(tmp_path: Path) -> None:
    vcs = PackageVcs(
        type="git", url="https://example.com/r.git", commit_id="1" * 40,
        requested_revision="main", subdirectory="sub",
    )  # fmt: skip
    assert direct_url(vcs, tmp_path) == {
        "url": "https://example.com/r.git",
        "vcs_info": {"vcs": "git", "commit_id": "1" * 40, "requested_revision": "main"},
        "subdirectory": "sub",
    }
    directory = PackageDirectory(path="pkg", editable=True)
    assert direct_url(directory, tmp_path) == {
        "url": (tmp_path / "pkg").resolve().as_uri(), "dir_info": {"editable": True},
    }  # fmt: skip
    archive = PackageArchive(path="a-1.0.tar.gz", hashes={"SHA256": "CD" * 32})
    assert direct_url(archive, tmp_path) == {
        "url": (tmp_path / "a-1.0.tar.gz").resolve().as_uri(),
        "archive_info": {"hashes": {"sha256": "cd" * 32}, "hash": "sha256=" + "cd" * 32},
    }
    _, wheel = wheel_package("a", "1.0")
    assert direct_url(wheel, tmp_path) is None  # from an index: no direct_url.json
