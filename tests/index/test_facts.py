"""Release records (:mod:`tumbler.index.facts`): a requirement kept and read back."""

from __future__ import annotations

import dataclasses

import pytest
from packaging.requirements import Requirement

from tumbler.index.facts import Needs, _needs, _row

REQUIREMENTS = [
    "c",
    "A_b[Y,x]>=1,<2; python_version < '3.10' and extra == 'z'",
    "b @ https://example.com/b-1.0-py3-none-any.whl ; sys_platform == 'win32'",
    "d==1.*",
]


@pytest.mark.parametrize("text", REQUIREMENTS)
def test_a_row_holds_the_fields_in_order(text: str) -> None:
    needs = Needs.of(Requirement(text))
    name, extras, *rest = dataclasses.astuple(needs)
    assert _row(needs) == [name, list(extras), *rest]


@pytest.mark.parametrize("text", REQUIREMENTS)
def test_a_row_reads_back_as_the_same_requirement(text: str) -> None:
    needs = Needs.of(Requirement(text))
    assert _needs(_row(needs)) == needs
