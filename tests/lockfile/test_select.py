"""Targets and the install-time selection check behind ``validate --environment``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from packaging.tags import Tag

from tests.conftest import CLI, CORPUS
from tumbler.env.targets import parse_target
from tumbler.errors import UsageError
from tumbler.lockfile.load import load_lock
from tumbler.lockfile.select import select
from tumbler.lockfile.source import read_source

INVALID = CORPUS / "invalid"


def test_parse_target() -> None:
    """Named targets carry CPython's marker values and the platform's tags, best first."""
    linux = parse_target("linux-x86_64-3.12")
    assert linux.environment["sys_platform"] == "linux"
    assert linux.environment["python_full_version"] == "3.12.0"
    assert linux.tags[0] == Tag("cp312", "cp312", "manylinux_2_40_x86_64")
    assert Tag("py3", "none", "any") in linux.tags
    windows = parse_target("windows-amd64-3.11.4")
    assert (
        windows.environment["platform_machine"],
        windows.environment["python_full_version"],
    ) == (
        "AMD64",
        "3.11.4",
    )
    assert Tag("cp311", "abi3", "win_amd64") in windows.tags
    mac = parse_target("macos-arm64-3.13")
    assert any(t.platform.startswith("macosx_") and t.platform.endswith("_arm64") for t in mac.tags)
    assert parse_target("host").name == "host"
    with pytest.raises(UsageError, match="unknown environment 'linux'"):
        parse_target("linux")
    # one vocabulary for machines: amd64 is x86_64 and arm64 is aarch64 on every system
    for alias, name in [
        ("windows-x86_64-3.12", "windows-amd64-3.12"),
        ("linux-amd64-3.12", "linux-x86_64-3.12"),
        ("linux-arm64-3.12", "linux-aarch64-3.12"),
        ("macos-aarch64-3.12", "macos-arm64-3.12"),
        ("macos-amd64-3.12", "macos-x86_64-3.12"),
    ]:
        assert parse_target(alias) == parse_target(name)
        assert parse_target(alias).name == name
    with pytest.raises(UsageError, match=r"unknown environment 'windows-ppc64-3\.12'"):
        parse_target("windows-ppc64-3.12")


@pytest.mark.parametrize(
    ("name", "rule", "env"),
    [
        ("install-duplicate-unconditional.toml", "I5c", "linux-x86_64-3.12"),
        ("install-environments-none-match.toml", "I4", "linux-x86_64-3.12"),
        ("install-no-compatible-wheel.toml", "I6", "linux-x86_64-3.12"),
        ("install-package-requires-python.toml", "I5b", "macos-arm64-3.12"),
        ("install-requires-python-unsatisfiable.toml", "I3", "windows-amd64-3.12"),
    ],
)
def test_selection_failures(name: str, rule: str, env: str, tmp_path: Path, cli: CLI) -> None:
    """validate --environment refuses each install-time case with its rule."""
    lock = tmp_path / "pylock.toml"
    shutil.copyfile(INVALID / name, lock)
    run = cli("validate", "--format", "json", "--environment", env, lock)
    assert run.code == 1
    findings = json.loads(run.out)["files"][0]["findings"]
    assert [f["rule"] for f in findings] == [rule]
    assert findings[0]["message"].startswith(f"[{env}] ")


def test_no_compatible_wheel_is_fine_where_a_wheel_fits() -> None:
    """The win_amd64-only lock selects its wheel on Windows."""
    lock = load_lock(read_source(str(INVALID / "install-no-compatible-wheel.toml")))
    selection = select(lock.pylock, parse_target("windows-amd64-3.12"))
    assert selection.findings == ()
    assert [p.name for p, _ in selection.chosen] == ["numpy"]


def test_all_selection_problems_in_one_run(tmp_path: Path) -> None:
    """After one package fails, the others are still checked."""
    text = """
lock-version = "1.0"
created-by = "x"
[[packages]]
name = "a"
version = "1.0"
wheels = [{ url = "https://example.com/a-1.0-cp312-cp312-win_amd64.whl", hashes = { sha256 = "HASH" } }]
[[packages]]
name = "b"
version = "1.0"
requires-python = "<3"
wheels = [{ url = "https://example.com/b-1.0-py3-none-any.whl", hashes = { sha256 = "HASH" } }]
[[packages]]
name = "c"
version = "1.0"
wheels = [{ url = "https://example.com/c-1.0-py3-none-any.whl", hashes = { sha256 = "HASH" } }]
[[packages]]
name = "c"
version = "2.0"
wheels = [{ url = "https://example.com/c-2.0-py3-none-any.whl", hashes = { sha256 = "HASH" } }]
""".replace("HASH", "0" * 64)
    path = tmp_path / "pylock.toml"
    path.write_text(text, encoding="utf-8")
    selection = select(load_lock(read_source(str(path))).pylock, parse_target("linux-x86_64-3.12"))
    assert [(f.rule, f.location) for f in selection.findings] == [
        ("I6", "packages[0].wheels"),
        ("I5b", "packages[1].requires-python"),
        ("I5c", "packages[3]"),
    ]
    assert [p.name for p, _ in selection.chosen] == ["c"]


def test_extras_and_groups_select(tmp_path: Path, cli: CLI) -> None:
    """Markers on extras and groups: a clash appears only when both are chosen."""
    text = """
lock-version = "1.0"
created-by = "x"
extras = ["x"]
dependency-groups = ["g"]
[[packages]]
name = "a"
version = "1.0"
marker = "'x' in extras"
wheels = [{ url = "https://example.com/a-1.0-py3-none-any.whl", hashes = { sha256 = "HASH" } }]
[[packages]]
name = "a"
version = "2.0"
marker = "'g' in dependency_groups"
wheels = [{ url = "https://example.com/a-2.0-py3-none-any.whl", hashes = { sha256 = "HASH" } }]
""".replace("HASH", "0" * 64)
    path = tmp_path / "pylock.toml"
    path.write_text(text, encoding="utf-8")
    env = ("--environment", "linux-x86_64-3.12")
    assert cli("validate", *env, "--extras", "x", path).code == 0
    assert cli("validate", *env, "--groups", "g", path).code == 0
    clash = cli("validate", *env, "--extras", "x", "--groups", "g", path)
    assert clash.code == 1
    assert "error[I5c]" in clash.out
