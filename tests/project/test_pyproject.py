"""tumbler.project.pyproject: a project file read into requirements and settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tumbler.errors import InputError
from tumbler.project.pyproject import read_project

if TYPE_CHECKING:
    from pathlib import Path


def _write(directory: Path, text: str) -> Path:
    path = directory / "pyproject.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_self_reference_keeps_its_marker(tmp_path: Path) -> None:
    """``me[win]; sys_platform == 'win32'`` brings the extra's requirements on Windows only."""
    path = _write(
        tmp_path,
        """
[project]
name = "me"
version = "1"
dependencies = ["me[win]; sys_platform == 'win32'", "me[all]"]
[project.optional-dependencies]
win = ["pywin32", "colorama; python_version < '3.12'"]
all = ["rich"]
""",
    )
    project = read_project(path)
    assert [str(r) for r in project.dependencies] == [
        'pywin32; sys_platform == "win32"',
        'colorama; sys_platform == "win32" and python_version < "3.12"',
        "rich",
    ]


@pytest.mark.parametrize(
    ("key", "example"), [("python-version", "3.12"), ("platform", "linux-x86_64")]
)
def test_target_settings_must_be_strings(tmp_path: Path, key: str, example: str) -> None:
    """TOML ``python-version = 3.10`` is the float 3.1: refused, not used."""
    path = _write(
        tmp_path, f'[project]\nname = "me"\nversion = "1"\n[tool.tumbler]\n{key} = 3.10\n'
    )
    with pytest.raises(InputError) as caught:
        read_project(path)
    assert str(caught.value).endswith(
        f'tool.tumbler.{key}: expected a string, e.g. {key} = "{example}"'
    )


def test_requirements_options_tumbler_cannot_honour_are_refused(tmp_path: Path) -> None:
    """``--no-index`` and ``-f`` would be silently ignored: say so instead."""
    path = tmp_path / "requirements.in"
    path.write_text("--no-index\n-f ./wheels\nalpha\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_project(path)
    assert str(caught.value) == (
        f"{path}: --no-index and --find-links: tumbler locks from package indexes only; "
        "serve the files as an index and name it with --index-url or --extra-index-url"
    )


def test_a_directory_with_requirements_in_alone_is_that_project(tmp_path: Path) -> None:
    (tmp_path / "requirements.in").write_text("alpha>=1\n", encoding="utf-8")
    project = read_project(tmp_path)
    assert project.path == tmp_path / "requirements.in"
    assert [str(r) for r in project.dependencies] == ["alpha>=1"]
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "1"\ndependencies = ["beta"]\n', encoding="utf-8"
    )
    assert read_project(tmp_path).path == tmp_path / "pyproject.toml"  # the project file first
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError) as caught:
        read_project(empty)
    assert str(caught.value) == (
        f"{empty}: no pyproject.toml or requirements.in here; name the project file to lock"
    )
