"""tumbler.project.edit: requirements added and removed, everything else byte for byte."""

from __future__ import annotations

import pytest

from tumbler.errors import InputError, UsageError
from tumbler.project.edit import Place, add_requirements, remove_requirements

#: Comments, odd spacing, single quotes, inline tables, CRLF-free but unusual layout.
PYPROJECT = """\
# the demo project
[project]
name = 'demo'        # single quotes kept
version = "0.1"
dependencies = [
    # web
    "httpx>=0.27",  # http client
    'rich',
    "colorama; sys_platform == 'win32'",
]
  [project.optional-dependencies]   # indented header
  viz = [ "matplotlib" ]

[dependency-groups]
dev = [{include-group = "lint"}, "pytest"]
lint = ["ruff"]

[tool.other]
keep = { a = 1, b = [1,2,3] }   # untouched
"""


def _outside(text: str, start: str, end: str) -> tuple[str, str]:
    """The text before ``start`` and from ``end`` on."""
    head = text[: text.index(start)]
    return head, text[text.index(end, len(head)) :]


def test_add_appends_and_replaces_in_place() -> None:
    edit = add_requirements(PYPROJECT, ["tenacity", "rich>=14"], Place(), origin="pyproject.toml")
    assert edit.added == ("tenacity",)
    assert edit.replaced == (("rich", "rich>=14"),)
    assert '    "rich>=14",\n' in edit.text
    assert '    "tenacity",\n]' in edit.text
    # byte-equal outside the edited array
    assert _outside(edit.text, "dependencies = [", "  [project.optional") == _outside(
        PYPROJECT, "dependencies = [", "  [project.optional"
    )
    assert "# web\n" in edit.text and "# http client\n" in edit.text
    # the same requirement again changes nothing; another marker is another entry
    again = add_requirements(edit.text, ["rich>=14"], Place(), origin="pyproject.toml")
    assert again.text == edit.text and not again.added and not again.replaced
    windows = add_requirements(
        PYPROJECT, ["colorama>=0.4; sys_platform == 'win32'"], Place(), origin="p"
    )
    assert windows.replaced == (
        ("colorama; sys_platform == 'win32'", 'colorama>=0.4; sys_platform == "win32"'),
    )


def test_add_to_an_extra_or_a_group_by_normalised_name() -> None:
    viz = add_requirements(PYPROJECT, ["seaborn"], Place(extra="VIZ"), origin="p")
    assert '  viz = [ "matplotlib", "seaborn" ]\n' in viz.text
    dev = add_requirements(PYPROJECT, ["pytest>=8"], Place(group="dev"), origin="p")
    assert 'dev = [{include-group = "lint"}, "pytest>=8"]\n' in dev.text
    assert dev.text.replace('"pytest>=8"', '"pytest"') == PYPROJECT
    docs = add_requirements(PYPROJECT, ["sphinx"], Place(group="docs"), origin="p")
    assert docs.text.startswith(PYPROJECT.split("[tool.other]", maxsplit=1)[0].rstrip("\n"))
    assert 'docs = ["sphinx"]' in docs.text
    new_extra = add_requirements(PYPROJECT, ["boto3"], Place(extra="s3"), origin="p")
    assert 's3 = ["boto3"]' in new_extra.text


def test_remove_takes_every_entry_of_the_name_and_nothing_else() -> None:
    edit = remove_requirements(PYPROJECT, ["Colorama", "rich"], Place(), origin="p")
    assert edit.removed == ("colorama; sys_platform == 'win32'", "rich")
    assert "rich" not in edit.text.split("[project.optional")[0]
    assert "# http client" in edit.text
    assert _outside(edit.text, "dependencies = [", "  [project.optional") == _outside(
        PYPROJECT, "dependencies = [", "  [project.optional"
    )
    with pytest.raises(UsageError) as caught:
        remove_requirements(PYPROJECT, ["numpy"], Place(), origin="pyproject.toml")
    assert str(caught.value) == "numpy is not in [project.dependencies] of pyproject.toml"
    with pytest.raises(UsageError):
        remove_requirements(PYPROJECT, ["pytest"], Place(group="docs"), origin="p")


def test_bad_input_is_one_clear_error() -> None:
    with pytest.raises(UsageError) as caught:
        add_requirements(PYPROJECT, ["rich>="], Place(), origin="p")
    assert str(caught.value).startswith("'rich>=' is not a requirement: ")
    with pytest.raises(InputError) as broken:
        add_requirements("[project\n", ["rich"], Place(), origin="pyproject.toml")
    assert str(broken.value).startswith("pyproject.toml: not valid TOML (")
    with pytest.raises(InputError, match="no \\[project\\] table"):
        add_requirements("[tool.x]\na = 1\n", ["rich"], Place(), origin="p")
