"""tumbler.lockfile.graph (and ``tumbler why`` / ``tumbler tree``): the requirement chains
a lock records, from the lock alone."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from packaging.pylock import Package, PackageWheel, Pylock
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.support.lockfixtures import write_project
from tumbler.lockfile.graph import tree, why
from tumbler.lockfile.render import render

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import CLI
    from tests.support.pkgindex import PackageIndex


@pytest.fixture
def locked(
    cli: CLI, index: PackageIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lock_env: None
) -> Path:
    """A universal lock: delta needs alpha on Windows and gamma elsewhere; beta[fast]
    needs gamma everywhere; the dev group asks for churn."""
    monkeypatch.chdir(tmp_path)
    write_project(tmp_path, ["delta", "beta[fast]"], groups={"dev": ["churn"]})
    run = cli("lock", "--index-url", index.url, "--exclude-newer", "2024-01-01", "-q")
    assert run.code == 0, run.err
    return tmp_path / "pylock.toml"


def test_why_names_each_chain_per_root(cli: CLI, locked: Path) -> None:
    run = cli("why", "gamma")
    assert run.code == 0, run.err
    assert run.out.splitlines() == [  # the roots in recorded (name) order
        "gamma 0.6 ← beta 1.0 ← beta[fast] (from [project.dependencies])",
        "gamma 0.6 ← delta 1.0 ← delta (from [project.dependencies])",
    ]
    assert cli("why", "alpha").out.splitlines() == [
        "alpha 1.1 ← beta 1.0 ← beta[fast] (from [project.dependencies])",
        "alpha 1.1 ← delta 1.0 ← delta (from [project.dependencies])",
    ]
    document = json.loads(cli("why", "churn", "--format", "json").out)
    assert document["chains"] == [
        {
            "root": {"origin": "group 'dev'", "requirement": "churn"},
            "entries": [
                {"name": "churn", "version": "1.0", "marker": "'dev' in dependency_groups"}
            ],
        }
    ]
    nothing = cli("why", "modern")
    assert (nothing.code, nothing.out) == (1, "modern: nothing the project asks for needs it\n")


def test_tree_expands_each_entry_once(cli: CLI, locked: Path) -> None:
    run = cli("tree")
    assert run.code == 0, run.err
    assert run.out.splitlines() == [
        "beta[fast] (from [project.dependencies])",
        "└── beta 1.0",
        "    ├── alpha 1.1",
        "    └── gamma 0.6",
        "delta (from [project.dependencies])",
        "└── delta 1.0",
        "    ├── alpha 1.1 (*)",
        "    └── gamma 0.6 (*)",
        "churn (from group 'dev')",
        "└── churn 1.0 ; 'dev' in dependency_groups",
        "(*) shown above",
    ]
    roots = json.loads(cli("tree", "--format", "json").out)
    assert [r["requirement"] for r in roots] == ["beta[fast]", "delta", "churn"]


def test_another_tools_lock_roots_at_what_nothing_needs() -> None:
    """No recorded inputs: the roots are the entries no other entry depends on; a
    dependency naming a version picks that entry (R23)."""

    def package(name: str, version: str, *deps: dict[str, str]) -> Package:
        wheel = PackageWheel(
            name=f"{name}-{version}-py3-none-any.whl",
            url=f"https://files.example.com/{name}-{version}-py3-none-any.whl",
            hashes={"sha256": "0" * 64},
        )
        return Package(
            name=canonicalize_name(name),
            version=Version(version),
            wheels=[wheel],
            dependencies=list(deps) or None,
        )

    pylock = Pylock(
        lock_version=Version("1.0"),
        created_by="other",
        packages=[
            package("app", "1.0", {"name": "lib", "version": "2.0"}),
            package("lib", "1.0"),
            package("lib", "2.0", {"name": "six"}),
            package("six", "1.16"),
        ],
    )
    assert render(pylock)  # a lock tumbler can write
    chains = why(pylock, "six")
    assert [[str(e) for e in c.entries] for c in chains] == [["app 1.0", "lib 2.0", "six 1.16"]]
    assert {(r.origin, r.requirement) for r, _ in tree(pylock)} == {
        ("the lock", "app"),
        ("the lock", "lib"),  # lib 1.0: nothing depends on that entry
    }
