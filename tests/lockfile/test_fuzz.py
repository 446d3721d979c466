"""Fuzzing every command that reads a lock: valid locks mutated by type, depth and size
(structure-aware, with hypothesis), each command run in-process; it must exit 0, 1 or 2
and never raise. A fixed budget and a fixed seed keep CI's run bounded and repeatable."""

from __future__ import annotations

import copy
import datetime as dt
import sys
import tomllib
from typing import TYPE_CHECKING, Any

import pytest
import rtoml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import CORPUS, DATA

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import CLI

#: Valid locks of several generators to start from (uv, pdm, pip, pex, the spec's).
SEEDS = [
    CORPUS / name
    for name in (
        "pypa__packaging.python.org__source__specifications__pylock-toml__pylock.example.toml",
        "pdm-project__pdm__tests__fixtures__projects__demo__pylock.toml",
        "pypa__pip__tests__data__lockfiles__pylock.mixed.toml",
        "astral-sh__uv__crates__uv__tests__pip_install__pip_install.rs__pep_751_groups.toml",
        "Fuyukai__h11__pylock.toml",
    )
] + [DATA / "diff" / "old.toml", DATA / "diff" / "new.toml"]  # tumbler's, with its tables
DOCUMENTS = [tomllib.loads(p.read_text(encoding="utf-8")) for p in SEEDS]

#: Written into the TOML text in place of their placeholder: a 5,000-digit integer,
#: arrays and inline tables 1,000 deep.
RAW = {
    "__BIGINT__": "9" * 5000,
    "__DEEP_ARRAY__": "[" * 1000 + "]" * 1000,
    "__DEEP_TABLE__": "{a = " * 1000 + "1" + "}" * 1000,
}

#: Replacement values: every TOML type, nesting, and sizes past the readers' bounds.
VALUES = st.one_of(
    st.text(max_size=20),
    st.integers(),
    st.integers(min_value=10**45, max_value=10**60),
    st.sampled_from(sorted(RAW)),  # placeholders for what TOML writers refuse to write
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.just(dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
    st.just(dt.date(2024, 1, 1)),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(min_size=1, max_size=5), st.integers(), max_size=3),
    st.integers(min_value=60, max_value=90).map(lambda n: _nested(n, list)),
    st.integers(min_value=60, max_value=90).map(lambda n: _nested(n, dict)),
    st.just("x" * 70000),
    st.just(""),
)


def _nested(depth: int, kind: type) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if kind is list else {"k": value}
    return value


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in ``node`` a value sits (keys of tables, indexes of arrays)."""
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    """A seed lock with one to three places replaced, deleted or given an unknown key."""
    document: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(DOCUMENTS)))
    for _ in range(draw(st.integers(1, 3))):
        places = [p for p in _paths(document) if p]
        path = draw(st.sampled_from(places))
        parent: Any = document
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(VALUES)
        else:
            parent[path[-1]] = draw(VALUES)
    return document


def _write(document: dict[str, Any], path: Path) -> bool:
    """``document`` as TOML at ``path``; False when TOML cannot say it (then skipped)."""
    try:
        text = rtoml.dumps(document)
    except Exception:
        return False
    path.write_text(text, encoding="utf-8")
    return True


COMMANDS: list[tuple[str, ...]] = [
    ("validate", "--strict"),
    ("validate", "--environment", "linux-x86_64-3.12", "--format", "json"),
    ("audit",),
    ("format", "--check"),
    ("install", "--dry-run", "--offline"),
    ("sync", "--dry-run", "--offline", "--all-extras"),
]


@pytest.mark.usefixtures("lock_env")
@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=mutated())
def test_every_reader_exits_0_1_or_2_on_a_mutated_lock(
    cli: CLI, tmp_path: Path, document: dict[str, Any]
) -> None:
    lock = tmp_path / "pylock.toml"
    if not _write(document, lock):
        return
    original = tmp_path / "pylock.orig.toml"
    original.write_bytes(SEEDS[0].read_bytes())
    runs = [
        cli(*command[:1], lock, *command[1:])
        for command in COMMANDS
        if command[0] not in ("install", "sync")
    ]
    runs += [
        cli(command[0], lock, "--python", sys.executable, *command[1:])
        for command in COMMANDS
        if command[0] in ("install", "sync")
    ]
    runs.append(cli("diff", original, lock))
    runs.append(cli("diff", lock, lock, "--format", "json"))
    project = tmp_path / "pyproject.toml"  # the lock as the committed one of a project
    project.write_text('[project]\nname = "p"\nversion = "1"\ndependencies = ["a"]\n')
    runs.append(cli("lock", tmp_path, "--check", "--offline"))
    runs.append(cli("lock", tmp_path, "--offline", "-q"))
    for run in runs:
        assert run.code in (0, 1, 2), run.err
        assert "Traceback" not in run.err + run.out
