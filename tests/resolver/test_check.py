"""``tumbler lock --check``: every kind of input drift and content drift is named, an
unchanged project passes offline, and the gate writes nothing."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.conftest import CLI, Run
from tests.support.lockfixtures import write_project
from tests.support.pkgindex import PackageIndex
from tumbler.lockfile.tables import LockInputs
from tumbler.resolver.inputs import input_drift

pytestmark = pytest.mark.usefixtures("lock_env")


BASE = {
    "dependencies": ["beta", "delta"],
    "extras": {"viz": ["top"]},
    "groups": {"dev": ["churn"], "docs": ["gamma"]},
}


@pytest.fixture
def locked(cli: CLI, tmp_path: Path, index: PackageIndex) -> Path:
    project = write_project(
        tmp_path,
        BASE["dependencies"],  # type: ignore[arg-type]
        extras=BASE["extras"],  # type: ignore[arg-type]
        groups=BASE["groups"],  # type: ignore[arg-type]
        requires_python=">=3.8",
    )
    run = cli(
        "lock", project, "--index-url", index.url, "-q", "--exclude-newer", "2024-01-01",
        "--target", "host",
    )  # fmt: skip
    assert run.code == 0, run.err
    return project


def check(cli: CLI, project: Path, index: PackageIndex, *args: str) -> Run:
    return cli(
        "lock", project, "--check", "--index-url", index.url, "--exclude-newer", "2024-01-01", *args
    )


def test_up_to_date_passes_offline_and_writes_nothing(
    cli: CLI, locked: Path, index: PackageIndex
) -> None:
    lock = locked.parent / "pylock.toml"
    before = lock.read_bytes(), lock.stat().st_mtime_ns
    run = check(cli, locked, index, "--offline")
    assert run.code == 0, run.out + run.err
    assert run.out == f"{lock} is up to date\n"
    assert (lock.read_bytes(), lock.stat().st_mtime_ns) == before


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            {"dependencies": ["beta", "delta", "alpha>=1"]},
            ["dependency 'alpha>=1' added to [project.dependencies]"],
        ),
        ({"dependencies": ["beta"]}, ["dependency 'delta' removed from [project.dependencies]"]),
        (
            {"dependencies": ["beta>=1", "delta"]},
            ["dependency 'beta' changed to 'beta>=1' in [project.dependencies]"],
        ),
        ({"requires_python": ">=3.9"}, ["requires-python changed from >=3.8 to >=3.9"]),
        ({"groups": {"dev": ["churn"]}}, ["group 'docs' removed"]),
        ({"groups": {**BASE["groups"], "lint": ["alpha"]}}, ["group 'lint' added"]),  # type: ignore[dict-item]
        (
            {"groups": {"dev": ["churn", "base"], "docs": ["gamma"]}},
            ["requirement 'base' added to [dependency-groups].dev"],
        ),
        ({"extras": {}}, ["extra 'viz' removed"]),
    ],
)
def test_input_drift_is_named(
    cli: CLI,
    locked: Path,
    index: PackageIndex,
    edit: dict[str, object],
    expected: list[str],
) -> None:
    settings: dict[str, object] = {**BASE, "requires_python": ">=3.8", **edit}
    write_project(
        locked.parent,
        settings["dependencies"],  # type: ignore[arg-type]
        extras=settings["extras"],  # type: ignore[arg-type]
        groups=settings["groups"],  # type: ignore[arg-type]
        requires_python=settings["requires_python"],  # type: ignore[arg-type]
    )
    lock = locked.parent / "pylock.toml"
    before = lock.read_bytes()
    run = check(cli, locked, index, "--format", "json")
    assert run.code == 1
    result = json.loads(run.out)
    assert result["up_to_date"] is False
    assert result["inputs"] == expected
    assert lock.read_bytes() == before


def test_option_drift_is_named(cli: CLI, locked: Path, index: PackageIndex) -> None:
    run = cli("lock", locked, "--check", "--index-url", index.url, "--exclude-newer", "2025-01-01")
    assert run.code == 1
    assert "exclude-newer changed from 2024-01-01T00:00:00Z to 2025-01-01T00:00:00Z" in run.out


def test_the_indexes_the_project_declares_are_inputs(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    other = index.url.replace("127.0.0.1", "localhost")
    write_project(tmp_path, ["delta"], tool=f"index-url = {json.dumps(index.url)}")
    assert cli("lock", tmp_path, "-q", "--target", "host").code == 0
    assert f'indexes = ["{index.url}"]' in (tmp_path / "pylock.toml").read_text()
    write_project(tmp_path, ["delta"], tool=f"index-url = {json.dumps(other)}")
    run = cli("lock", tmp_path, "--check")
    assert run.code == 1
    assert f"the indexes changed from {index.url} to {other}" in run.out


def test_the_same_files_from_another_index_are_no_drift(
    cli: CLI, locked: Path, index: PackageIndex
) -> None:
    """Another machine reaching the same files through another index (its mirror, its
    configuration): neither an input nor a content change."""
    other = index.url.replace("127.0.0.1", "localhost")
    run = cli("lock", locked, "--check", "--index-url", other, "--exclude-newer", "2024-01-01")
    assert run.code == 0, run.out
    assert "indexes" not in (locked.parent / "pylock.toml").read_text()  # none declared


def _tamper(lock: Path, old: str, new: str) -> None:
    text = lock.read_text(encoding="utf-8")
    assert old in text
    lock.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_content_drift_one_line_per_package(cli: CLI, locked: Path, index: PackageIndex) -> None:
    lock = locked.parent / "pylock.toml"
    text = lock.read_text(encoding="utf-8")
    document = tomllib.loads(text)
    gamma = next(p for p in document["packages"] if p["name"] == "gamma")
    wheel = gamma["wheels"][0]["name"]
    # A package the fresh lock does not have, a version that moved, a wheel that is gone.
    ghost = (
        '\n[[packages]]\nname = "ghost"\nversion = "1.0"\nindex = "http://127.0.0.1/simple"\nsdist = { name = "ghost-1.0.tar.gz", url = "http://127.0.0.1/ghost-1.0.tar.gz", hashes = { sha256 = "'
        + "0" * 64
        + '" } }\n'
    )
    text = text.replace("\n[tool.tumbler]", ghost + "\n[tool.tumbler]")
    lock.write_text(text, encoding="utf-8")
    # The committed lock pins alpha 2.0, since yanked: a re-lock moves off it.
    _tamper(lock, 'name = "alpha"\nversion = "1.1"', 'name = "alpha"\nversion = "2.0"')
    lock.write_text(
        lock.read_text(encoding="utf-8").replace("alpha-1.1", "alpha-2.0"), encoding="utf-8"
    )
    _tamper(lock, f'{{ name = "{wheel}"', '{ name = "gamma-0.6-py2-none-any.whl"')
    run = check(cli, locked, index, "--offline")
    assert run.code == 1
    content = run.out.split("content changed:\n", 1)[1].split("run 'tumbler lock'", 1)[0]
    assert content.splitlines() == [
        "  changed alpha (version)",
        "  changed gamma (wheels)",
        "  removed ghost (1.0)",
    ]
    markdown = check(cli, locked, index, "--offline", "--format", "markdown")
    assert "| removed | `ghost` | 1.0 |" in markdown.out


def test_missing_lock_is_drift(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    project = write_project(tmp_path, ["alpha"])
    run = check(cli, project, index)
    assert run.code == 1
    assert "no lock file: run 'tumbler lock' to create it" in run.out
    assert not (tmp_path / "pylock.toml").exists()


def test_invalid_committed_lock_is_an_error(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    project = write_project(tmp_path, ["alpha"])
    (tmp_path / "pylock.toml").write_text("lock-version = 1\n", encoding="utf-8")
    run = check(cli, project, index)
    assert run.code == 2
    assert "not a valid lock file" in run.err


def test_input_drift_without_network(tmp_path: Path) -> None:
    """The input comparison is pure: two records in, sentences out."""
    old = LockInputs(
        project="pyproject.toml", dependencies=("httpx>=0.27",), target="linux-x86_64-3.11"
    )
    new = LockInputs(
        project="pyproject.toml",
        dependencies=("httpx>=0.28",),
        indexes=("http://127.0.0.1/simple",),
        prereleases="allow",
        target="macos-arm64-3.12",
    )
    assert input_drift(old, new) == [
        "dependency 'httpx>=0.27' changed to 'httpx>=0.28' in [project.dependencies]",
        "the indexes changed from (none) to http://127.0.0.1/simple",
        "the pre-release policy changed from if-necessary to allow",
        "the lock's mode changed from linux-x86_64-3.11 to macos-arm64-3.12",
    ]
    assert input_drift(old, old) == []
    assert LockInputs.from_table(old.table()) == old


def test_a_mode_change_is_one_short_line() -> None:
    single = LockInputs(project="pyproject.toml", target="linux-x86_64-3.11")
    universal = LockInputs(project="pyproject.toml", target="universal")
    linux = LockInputs(
        project="pyproject.toml", target="universal", environments=("sys_platform == 'linux'",)
    )
    assert input_drift(universal, single) == [
        "the lock's mode changed from universal to linux-x86_64-3.11"
    ]
    assert input_drift(universal, linux) == [
        "the universal lock's environments changed from every platform to sys_platform == 'linux'"
    ]
    # An older tumbler recorded a universal lock's markers in its target.
    older = LockInputs.from_table(
        {"project": "pyproject.toml", "target": "universal: a ; b", "inputs": {}}
    )
    assert older is not None and input_drift(older, universal) == []
    assert LockInputs.from_table(linux.table()) == linux


@pytest.mark.parametrize(
    ("recorded", "current"),
    [
        ("typer", "Typer"),
        ("pydantic-settings>=2", "pydantic_settings>=2"),
        ("Foo.Bar[Extra_One]", "foo-bar[extra-one]"),
        ("zope.interface; python_version < '3.12'", 'Zope_Interface ; python_version < "3.12"'),
    ],
)
def test_requirement_spelling_is_not_drift(recorded: str, current: str) -> None:
    """Names and extras compare in normalised form: the same requirement spelt otherwise."""
    old = LockInputs(
        project="pyproject.toml", dependencies=(recorded,), groups={"dev": (recorded,)}
    )
    new = LockInputs(project="pyproject.toml", dependencies=(current,), groups={"dev": (current,)})
    assert input_drift(old, new) == []
    other = LockInputs(project="pyproject.toml", dependencies=(f"{Requirement(current).name}>=99",))
    assert input_drift(old, other)[0].startswith("dependency ")  # a real change still is one


def test_respelt_dependency_passes_the_gate(cli: CLI, locked: Path, index: PackageIndex) -> None:
    project = locked.read_text(encoding="utf-8")
    locked.write_text(project.replace('"beta"', '"BETA"'), encoding="utf-8")
    assert '"BETA"' in locked.read_text(encoding="utf-8")
    run = check(cli, locked, index, "--offline")
    assert run.code == 0, run.out


def test_input_drift_with_one_requirement_per_marker() -> None:
    """Two requirements on one name (split by marker) are each compared whole."""
    first = "foo<2; python_version < '3.10'"
    second = "foo>=2; python_version >= '3.10'"
    old = LockInputs(project="pyproject.toml", dependencies=(first, second))
    new = LockInputs(
        project="pyproject.toml", dependencies=("foo<1.5; python_version < '3.10'", second)
    )
    assert input_drift(old, new) == [
        f"dependency {first!r} removed from [project.dependencies]",
        "dependency \"foo<1.5; python_version < '3.10'\" added to [project.dependencies]",
    ]
    assert (
        input_drift(old, LockInputs(project="pyproject.toml", dependencies=(second, first))) == []
    )


def test_machine_configuration_is_neither_in_the_lock_nor_in_the_gate(
    cli: CLI, tmp_path: Path, index: PackageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock made with no pip configuration passes the gate on a machine whose pip
    configuration adds indexes (a local path among them), and the other way round; the
    machine's indexes are used to fetch, never recorded."""
    project = write_project(tmp_path / "p", ["delta"], extras={"viz": ["top"]})
    lock = project.parent / "pylock.toml"
    config = tmp_path / "pip.conf"
    config.write_text(
        "[global]\nextra-index-url =\n    file:///srv/wheelhouse/simple\n"
        f"    {index.url.replace('127.0.0.1', 'localhost')}\n",
        encoding="utf-8",
    )
    base = ("lock", project, "--index-url", index.url, "--exclude-newer", "2024-01-01")
    for made, checked in ((os.devnull, config), (config, os.devnull)):
        lock.unlink(missing_ok=True)
        monkeypatch.setenv("PIP_CONFIG_FILE", str(made))
        assert cli(*base, "-q").code == 0
        text = lock.read_text(encoding="utf-8")
        assert "file:" not in text and "localhost" not in text and "indexes" not in text
        monkeypatch.setenv("PIP_CONFIG_FILE", str(checked))
        run = cli(*base, "--check")
        assert run.code == 0, run.out


def test_a_local_path_index_from_the_machine_is_not_used_to_lock(
    cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file: index in pip's configuration would put this machine's paths in the lock:
    it is not used (the project that needs it names it itself)."""
    from tumbler.project.indexes import index_config
    from tumbler.project.pyproject import Settings

    monkeypatch.setenv(
        "PIP_EXTRA_INDEX_URL", "file:///srv/simple https://mirror.example.com/simple"
    )
    monkeypatch.setenv("PIP_INDEX_URL", "file:///opt/simple")
    found = index_config(Settings(), index_url=None)
    assert not any(u.startswith("file:") for u in found.urls)
    assert "https://mirror.example.com/simple" in found.urls
    assert found.declared == ()
    declared = index_config(
        Settings(
            index_url="file:///srv/project/simple", extra_index_urls=("https://x.example.com/s",)
        )
    )
    assert declared.urls[0] == "file:///srv/project/simple"
    assert declared.declared == ("file:///srv/project/simple", "https://x.example.com/s")
