"""Shared test helpers: the corpus (tests/data), running the CLI, snapshots."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.pylock import is_valid_pylock_path

from tumbler.cli.app import main

ROOT = Path(__file__).resolve().parents[1]
#: Data the tests read, copied into the repository (tests/data/README.md says from where).
DATA = ROOT / "tests" / "data"
CORPUS = DATA / "corpus"
ATTESTATIONS = DATA / "attestations"
SNAPSHOTS = Path(__file__).parent / "snapshots"

#: Real lock files, and the one the corpus README says is broken (pipenv writes jaraco.classes).
REAL = sorted(CORPUS.glob("*.toml"))
BROKEN_REAL = {"pypa__pipenv__pylock.toml": "R19"}
INVALID = sorted((CORPUS / "invalid").glob("*.toml"))
INVALID_REAL = sorted((CORPUS / "invalid-real").glob("*.toml"))

pytest_plugins = ["tests.support.pkgindex", "tests.support.lockfixtures"]


def lock_name(corpus_file: Path) -> str:
    """The file's original lock name when the corpus name ends in one, else ``pylock.toml``."""
    last = corpus_file.name.rsplit("__", 1)[-1]
    return last if is_valid_pylock_path(Path(last)) else "pylock.toml"


def as_lock(corpus_file: Path, directory: Path) -> Path:
    """A copy of ``corpus_file`` in ``directory`` under a valid lock file name (R1)."""
    target = directory / lock_name(corpus_file)
    shutil.copyfile(corpus_file, target)
    return target


def rules_named(invalid_file: Path) -> set[str]:
    """The rule ids line 1 names: ``# INVALID (R27/R34): ...`` gives {R27, R34}."""
    first = invalid_file.read_text(encoding="utf-8").splitlines()[0]
    inside = first.split("(", 1)[1].split(")", 1)[0]
    return set(inside.split("/"))


@dataclass(frozen=True)
class Run:
    """The outcome of one in-process CLI run."""

    code: int
    out: str
    err: str


CLI = Callable[..., Run]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> CLI:
    """Run ``tumbler ARGS`` in-process: ``cli("validate", path)`` returns a :class:`Run`."""

    def run(*args: str | Path) -> Run:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def check_snapshot(name: str, actual: str) -> None:
    """Compare ``actual`` with ``tests/snapshots/<name>``; ``TUMBLER_UPDATE_SNAPSHOTS=1`` rewrites."""
    path = SNAPSHOTS / name
    if os.environ.get("TUMBLER_UPDATE_SNAPSHOTS") == "1" or not path.exists():
        if os.environ.get("CI") and not path.exists():
            pytest.fail(f"snapshot {name} is missing; run the tests locally to create it")
        path.write_text(actual, encoding="utf-8")
    assert actual == path.read_text(encoding="utf-8")
