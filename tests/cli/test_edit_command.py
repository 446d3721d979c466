"""``tumbler add`` and ``tumbler remove`` on the loopback index: edit, lock, report; a
failure leaves the project file and the lock byte for byte as they were."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tests.support.lockfixtures import read

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import CLI
    from tests.support.pkgindex import PackageIndex

pytestmark = pytest.mark.usefixtures("lock_env")

PYPROJECT = """\
[project]
name = "demo"  # comment kept
version = "0.1"
requires-python = ">=3.8"
dependencies = [
    "beta",   # needs alpha
]

[tool.tumbler]
platform = "linux-x86_64"
python-version = "3.12"
"""


def _pins(path: Path) -> dict[str, str]:
    return {p.name: str(p.version) for p in read(path).packages}


def test_add_then_remove(
    cli: CLI, index: PackageIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    base = ("--index-url", index.url, "--exclude-newer", "2024-01-01")
    assert cli("lock", *base[:2], *base[2:], "-q").code == 0
    assert _pins(tmp_path / "pylock.toml") == {"alpha": "1.1", "beta": "1.0"}
    added = cli("add", "delta", *base)
    assert added.code == 0, added.err
    assert added.err.splitlines()[0] == "[project.dependencies]: + delta"
    assert "  + delta  1.0" in added.err.splitlines()
    assert (tmp_path / "pyproject.toml").read_text() == PYPROJECT.replace(
        '    "beta",   # needs alpha\n', '    "beta",   # needs alpha\n    "delta",\n'
    )
    assert _pins(tmp_path / "pylock.toml") == {
        "alpha": "1.1", "beta": "1.0", "delta": "1.0", "gamma": "0.6"
    }  # fmt: skip
    grouped = cli("add", "churn", "--group", "dev", *base, "--format", "json")
    assert grouped.code == 0, grouped.err
    report = json.loads(grouped.out)
    assert report["edit"] == {
        "where": "[dependency-groups] dev", "added": ["churn"], "replaced": [], "removed": []
    }  # fmt: skip
    assert [c["name"] for c in report["changes"]] == ["churn"]
    removed = cli("remove", "delta", *base)
    assert removed.code == 0, removed.err
    assert removed.err.splitlines()[0] == "[project.dependencies]: - delta"
    assert "delta" not in _pins(tmp_path / "pylock.toml")
    assert '"delta"' not in (tmp_path / "pyproject.toml").read_text()


@pytest.mark.parametrize(
    "case",
    [
        (("add", "no-such-thing"), "no project named 'no-such-thing'"),
        (("add", "mid>=3"), "mid: no version matches mid>=3"),
        (("add", "beta>="), "'beta>=' is not a requirement"),
        (("remove", "numpy"), "numpy is not in [project.dependencies]"),
    ],
)
def test_a_failed_edit_changes_nothing(
    case: tuple[tuple[str, ...], str],
    cli: CLI,
    index: PackageIndex,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv, message = case
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    assert cli("lock", "--index-url", index.url, "-q").code == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    run = cli(*argv, "--index-url", index.url)
    assert run.code == 2
    assert message in run.err
    assert "Traceback" not in run.err
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before  # the same files, byte for byte, and no new one


def test_a_requirements_file_is_not_edited(
    cli: CLI, index: PackageIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "requirements.in").write_text("beta\n", encoding="utf-8")
    run = cli("add", "delta", "--project", "requirements.in", "--index-url", index.url)
    assert run.code == 2
    assert run.err == (
        "tumbler: error: requirements.in: no pyproject.toml to edit (a requirements file is "
        "edited by hand)\n"
    )
    assert (tmp_path / "requirements.in").read_text() == "beta\n"
