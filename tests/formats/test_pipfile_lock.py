"""tumbler.formats.pipfile: a real ``Pipfile.lock`` imported keeps what pipenv exports.

pipenv (installed into a venv of its own) locks a Pipfile with packages and
dev-packages against the loopback index, its only ``[[source]]``. The imported lock
selects, on this interpreter, exactly what ``pipenv requirements`` (and ``--dev``) lists
with its markers evaluated here, validates strictly, and holds every sha256 of
``Pipfile.lock``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from packaging.markers import Marker
from packaging.pylock import Pylock
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.tools import clean_env, install_tool
from tumbler.formats.registry import detect

if TYPE_CHECKING:
    from tests.conftest import CLI
    from tests.support.pkgindex import PackageIndex

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("lock_env")]


@pytest.fixture(scope="session")
def pipenv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_tool(tmp_path_factory, "pipenv", ["pipenv"])


def _env(directory: Path) -> dict[str, str]:
    return clean_env(
        {
            "PIPENV_VENV_IN_PROJECT": "1",
            "PIPENV_IGNORE_VIRTUALENVS": "1",
            "PIPENV_NOSPIN": "1",
            "PIPENV_YES": "1",
            "PIPENV_CACHE_DIR": str(directory / "pipenv-cache"),
            "PIP_CACHE_DIR": str(directory / "pip-cache"),
            "XDG_CACHE_HOME": str(directory / "xdg-cache"),
        }
    )


def _pipenv(pipenv: Path, directory: Path, *args: str) -> str:
    done = subprocess.run(
        [str(pipenv), *args], cwd=directory, capture_output=True, text=True, check=False,
        env=_env(directory), timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def locked(pipenv: Path, index: PackageIndex, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``Pipfile.lock`` of a Pipfile with packages and dev-packages, made once."""
    directory = tmp_path_factory.mktemp("pipenv-project")
    (directory / "Pipfile").write_text(
        f"""[[source]]
url = "{index.url}"
verify_ssl = false
name = "loopback"

[packages]
delta = "*"
patchy = "*"
backport = {{version = "*", markers = "python_version < '3.11'"}}
beta = {{version = "*", extras = ["fast"]}}

[dev-packages]
churn = "*"
top = "*"
""",
        encoding="utf-8",
    )
    _pipenv(pipenv, directory, "lock", "--python", sys.executable)
    return directory / "Pipfile.lock"


def _copy(lock: Path, directory: Path) -> Path:
    shutil.copy(lock, directory / "Pipfile.lock")
    return directory / "Pipfile.lock"


def _read(path: Path) -> Pylock:
    return Pylock.from_dict(tomllib.loads(path.read_text(encoding="utf-8")))


def _exported(text: str) -> set[str]:
    """``pipenv requirements``' lines that apply here, as name==version (a line without a
    pin is kept as it is, so that it shows in a comparison)."""
    found = set()
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "-")):
            continue
        requirement = Requirement(line)
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        pins = [s.version for s in requirement.specifier if s.operator == "=="]
        name = canonicalize_name(requirement.name)
        found.add(f"{name}=={pins[0]}" if len(pins) == 1 else line)
    return found


def test_the_imported_lock_selects_what_pipenv_exports(
    cli: CLI, locked: Path, pipenv: Path, tmp_path: Path
) -> None:
    source = _copy(locked, tmp_path)
    run = cli("import", source, "-o", tmp_path / "pylock.toml")
    assert run.code == 0, run.err
    pylock = _read(tmp_path / "pylock.toml")
    assert (pylock.extras, pylock.dependency_groups, pylock.default_groups) == (
        None,
        ["dev"],
        None,
    )
    for options, groups in (([], ()), (["--dev"], ("dev",))):
        exported = _exported(_pipenv(pipenv, locked.parent, "requirements", *options))
        chosen = pylock.select(dependency_groups=groups)
        assert {f"{p.name}=={p.version}" for p, _ in chosen} == exported, options
    if not Marker("python_version < '3.11'").evaluate():
        assert "default.backport: not pinned" in run.err  # pipenv locked nothing for it


def test_the_imported_lock_validates_strictly_and_keeps_every_hash(
    cli: CLI, locked: Path, tmp_path: Path
) -> None:
    source = _copy(locked, tmp_path)
    assert cli("import", source, "-o", tmp_path / "pylock.toml").code == 0
    assert cli("validate", "--strict", tmp_path / "pylock.toml").code == 0
    document = json.loads(source.read_text(encoding="utf-8"))
    wanted = {
        h.removeprefix("sha256:")
        for section in ("default", "develop")
        for entry in document[section].values()
        for h in entry.get("hashes", [])
    }
    pylock = _read(tmp_path / "pylock.toml")
    written = {w.hashes["sha256"] for p in pylock.packages for w in p.wheels or ()}
    written |= {p.sdist.hashes["sha256"] for p in pylock.packages if p.sdist}
    assert wanted and wanted == written
    pinned = {
        (str(canonicalize_name(name)), entry["version"].removeprefix("=="))
        for section in ("default", "develop")
        for name, entry in document[section].items()
        if entry.get("version", "*").startswith("==")
    }
    assert pinned == {(p.name, str(p.version)) for p in pylock.packages}


def test_a_malformed_or_truncated_pipfile_lock_is_one_line_and_writes_nothing(
    cli: CLI, locked: Path, tmp_path: Path
) -> None:
    text = locked.read_text(encoding="utf-8")
    lines = text.splitlines()
    number = next(i for i, line in enumerate(lines) if '"version": "==' in line)
    lines[number] = lines[number].replace('"version"', "version")
    document = json.loads(text)
    first = next(iter(document["default"]))
    document["default"][first]["hashes"] = "sha256:none"
    cases = [
        ("\n".join(lines), rf"Pipfile\.lock:{number + 1}: not JSON \("),
        (text[: len(text) // 2], r"Pipfile\.lock:\d+: not JSON \("),
        (
            json.dumps(document, indent=4),
            rf"Pipfile\.lock: default\.{first}: hashes: expected an array",
        ),
    ]
    for content, message in cases:
        (tmp_path / "Pipfile.lock").write_text(content, encoding="utf-8")
        run = cli("import", tmp_path / "Pipfile.lock", "-o", tmp_path / "pylock.toml")
        assert run.code == 2
        assert re.match(rf"tumbler: error: .*{message}", run.err), run.err
        assert len(run.err.strip().splitlines()) == 1
        assert not (tmp_path / "pylock.toml").exists()


def test_detection_picks_the_pipfile_reader(cli: CLI, locked: Path, tmp_path: Path) -> None:
    source = _copy(locked, tmp_path)
    found = detect(source, source.read_bytes())
    assert found is not None and found.name == "Pipfile.lock"
    run = cli("import", source, "-o", tmp_path / "pylock.toml")
    assert run.code == 0, run.err
    assert (tmp_path / "pylock.toml").exists()


def test_diff_of_the_source_and_the_import_shows_no_package_change(
    cli: CLI, locked: Path, tmp_path: Path
) -> None:
    source = _copy(locked, tmp_path)
    assert cli("import", source, "-o", tmp_path / "pylock.toml").code == 0
    run = cli("diff", source, tmp_path / "pylock.toml")
    assert run.code == 0, run.err
    assert run.out.rstrip().endswith(": no changes"), run.out
