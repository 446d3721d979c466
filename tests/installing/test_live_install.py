"""Live (bounded): locks of the small bench project written by tumbler and by uv against
the real index, as of :data:`~tests.support.livehelpers.EXCLUDE_NEWER`, installed by ``tumbler
install`` into fresh environments with the project's extra and group; ``pip check`` is
clean and the installed set is what ``packaging.pylock`` selects. The corpus' attrs
hash and size cases are refused against the real file (I7), one finding each."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.pylock import Pylock
from packaging.utils import canonicalize_name

from tests.conftest import CLI, CORPUS
from tests.support.livehelpers import EXCLUDE_NEWER, PROJECTS, TUMBLER, UV, ok, run

pytestmark = pytest.mark.live


def _env(root: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "TUMBLER_"))}
    return base | {
        "UV_NO_CONFIG": "1",
        "PIP_CONFIG_FILE": os.devnull,
        "UV_CACHE_DIR": str(root / "uv-cache"),
        "TUMBLER_CACHE_DIR": str(root / "tumbler-cache"),
    }


def _installed(python: Path) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "list", "--format", "json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return {canonicalize_name(d["name"]): d["version"] for d in json.loads(done.stdout)}


def _selected(lock: Path, extras: tuple[str, ...], groups: tuple[str, ...]) -> dict[str, str]:
    pylock = Pylock.from_dict(tomllib.loads(lock.read_text(encoding="utf-8")))
    chosen = pylock.select(extras=extras, dependency_groups=groups)
    return {canonicalize_name(p.name): str(p.version) for p, _ in chosen}


@pytest.mark.parametrize("writer", ["tumbler", "uv"])
def test_small_project_lock_installs_and_matches_select(tmp_path: Path, writer: str) -> None:
    project = tmp_path / "small"
    project.mkdir()
    shutil.copy(PROJECTS / "small" / "pyproject.toml", project / "pyproject.toml")
    document = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    extra = next(iter(document["project"]["optional-dependencies"]))
    group = next(iter(document["dependency-groups"]))
    env = _env(tmp_path)
    lock = project / "pylock.toml"
    if writer == "tumbler":
        ok(run([TUMBLER, "lock", project, "-q", "--exclude-newer", EXCLUDE_NEWER], project, env))
        extras: tuple[str, ...] = (extra,)
        groups: tuple[str, ...] = (group,)
    else:
        ok(run([UV, "lock", "--exclude-newer", EXCLUDE_NEWER], project, env))
        ok(run([UV, "export", "--format", "pylock.toml", "--extra", extra, "--group", group,
                "--no-emit-project", "-o", "pylock.toml"], project, env))  # fmt: skip
        extras, groups = (), ()  # uv's export is single-use: the choice is already made
    venv = tmp_path / "venv"
    args: list[str | Path] = [TUMBLER, "install", lock, "--venv", venv, "--format", "json"]
    args += [a for e in extras for a in ("--extra", e)] + [
        a for g in groups for a in ("--group", g)
    ]
    report = json.loads(ok(run(args, project, env)))
    python = venv / "bin" / "python"
    installed = _installed(python)
    assert installed == _selected(lock, extras, groups)
    assert {"requests", "click", "rich", "pytest"} <= set(installed)
    assert report["counts"]["add"] == len(installed)
    ok(run([sys.executable, "-m", "pip", "--python", python, "check"], project, env))


@pytest.mark.parametrize(
    ("name", "location"),
    [
        ("install-hash-mismatch.toml", "packages[0].wheels[0].hashes.sha256"),
        ("install-size-mismatch.toml", "packages[0].wheels[0].size"),
    ],
)
def test_corpus_mismatches_refuse_the_real_file(
    cli: CLI, tmp_path: Path, name: str, location: str
) -> None:
    """The corpus scrubs the file host to files.example.com; pip publishes the real one."""
    from pip._internal.models.index import PyPI

    text = (CORPUS / "invalid" / name).read_text(encoding="utf-8")
    lock = tmp_path / "pylock.toml"
    lock.write_text(text.replace("files.example.com", PyPI.file_storage_domain), encoding="utf-8")
    venv = tmp_path / "venv"
    result = cli("install", lock, "--venv", venv, "--format", "json",
                 "--cache-dir", tmp_path / "cache")  # fmt: skip
    assert result.code == 2
    findings = json.loads(result.out)["findings"]
    assert [(f["rule"], f["location"]) for f in findings] == [("I7", location)]
    assert not list((venv / "lib").glob("python3.*/site-packages/*.dist-info"))
