"""tumbler.formats.pdm: a real ``pdm.lock`` imported keeps what pdm installs.

pdm (installed into a venv of its own; hishel held below 2, see tests/resolver/test_pdm.py)
locks a project with an extra and a development group against the loopback index, named
as the project's ``[[tool.pdm.source]]``. The imported lock selects, on this
interpreter, exactly what ``pdm sync --dry-run`` would add for the same choice of
groups, validates strictly, and holds every sha256 of ``pdm.lock``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from packaging.pylock import Pylock

from tests.support.lockfixtures import write_project
from tests.support.tools import clean_env, install_tool
from tumbler.formats import pdm as pdm_lock
from tumbler.formats.registry import detect

if TYPE_CHECKING:
    from tests.conftest import CLI
    from tests.support.pkgindex import PackageIndex

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("lock_env")]

#: pdm's choice of groups (its ``sync`` options) → the same choice in the imported lock
#: (extras, dependency groups; None: the lock's default groups).
CHOICES: dict[str, tuple[list[str], tuple[str, ...], tuple[str, ...] | None]] = {
    "plain": ([], (), None),  # pdm installs its dev groups unless --prod
    "prod": (["--prod"], (), ()),
    "prod-viz": (["--prod", "-G", "viz"], ("viz",), ()),
    "all": (["-G", ":all"], ("viz",), ("dev",)),
}


@pytest.fixture(scope="session")
def pdm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_tool(tmp_path_factory, "pdm", ["pdm>=2.29", "hishel<2"])


def _env(directory: Path) -> dict[str, str]:
    return clean_env(
        {
            "PDM_IGNORE_SAVED_PYTHON": "1",
            "PDM_CHECK_UPDATE": "false",
            "PDM_CACHE_DIR": str(directory / "pdm-cache"),
            "PDM_CONFIG_FILE": str(directory / "pdm-config.toml"),
            "XDG_STATE_HOME": str(directory / "state"),
        }
    )


def _pdm(pdm: Path, directory: Path, *args: str) -> str:
    done = subprocess.run(
        [str(pdm), *args], cwd=directory, capture_output=True, text=True, check=False,
        env=_env(directory), timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _project(directory: Path, index: PackageIndex) -> Path:
    """A project with an extra (viz) and a development group (dev) on the loopback index."""
    path = write_project(
        directory,
        ["delta", "backport; python_version < '3.11'", "patchy"],
        extras={"viz": ["top"]},
        groups={"dev": ["churn", "beta[fast]"]},
        requires_python=">=3.9",
    )
    with path.open("a", encoding="utf-8") as out:
        out.write(
            "\n[tool.pdm]\ndistribution = false\n\n[[tool.pdm.source]]\n"
            f'name = "pypi"\nurl = "{index.url}"\nverify_ssl = false\n'
        )
    subprocess.run([sys.executable, "-m", "venv", str(directory / ".venv")], check=True)
    return path


def _locked(pdm: Path, directory: Path, index: PackageIndex, *options: str) -> Path:
    _project(directory, index)
    _pdm(pdm, directory, "lock", "-G", ":all", *options)
    return directory / "pdm.lock"


@pytest.fixture(scope="module")
def locked(pdm: Path, index: PackageIndex, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pdm.lock`` of the project, made once for the module."""
    return _locked(pdm, tmp_path_factory.mktemp("pdm-project"), index)


def _copy(lock: Path, directory: Path) -> Path:
    """The project (lock, pyproject, venv) in the test's own directory."""
    shutil.copy(lock, directory / "pdm.lock")
    shutil.copy(lock.parent / "pyproject.toml", directory / "pyproject.toml")
    return directory / "pdm.lock"


def _read(path: Path) -> Pylock:
    return Pylock.from_dict(tomllib.loads(path.read_text(encoding="utf-8")))


def _source_hashes(lock: Path) -> set[str]:
    """Every file sha256 of ``pdm.lock``."""
    document = tomllib.loads(lock.read_text(encoding="utf-8"))
    return {
        f["hash"].removeprefix("sha256:")
        for package in document["package"]
        for f in package.get("files", [])
    }


def _hashes(pylock: Pylock) -> set[str]:
    """Every file sha256 of an imported lock."""
    found = {w.hashes["sha256"] for p in pylock.packages for w in p.wheels or ()}
    found |= {p.sdist.hashes["sha256"] for p in pylock.packages if p.sdist}
    return found | {p.archive.hashes["sha256"] for p in pylock.packages if p.archive}


def test_the_imported_lock_selects_what_pdm_installs(
    cli: CLI, locked: Path, pdm: Path, tmp_path: Path
) -> None:
    source = _copy(locked, tmp_path)
    run = cli("import", source, "-o", tmp_path / "pylock.toml")
    assert run.code == 0, run.err
    pylock = _read(tmp_path / "pylock.toml")
    assert (pylock.extras, pylock.dependency_groups, pylock.default_groups) == (
        ["viz"],
        ["dev"],
        ["default"],
    )
    for options, extras, groups in CHOICES.values():
        listed = _pdm(pdm, locked.parent, "sync", "--dry-run", *options)
        added = {
            "==".join(line.strip().removeprefix("- ").split()[:2])
            for line in listed.split("Packages to add:", 1)[1].splitlines()
            if line.strip().startswith("- ")
        }
        chosen = pylock.select(extras=extras, dependency_groups=groups)
        assert {f"{p.name}=={p.version}" for p, _ in chosen} == added, options


def test_the_imported_lock_validates_strictly_and_keeps_every_hash(
    cli: CLI, locked: Path, tmp_path: Path
) -> None:
    source = _copy(locked, tmp_path)
    assert cli("import", source, "-o", tmp_path / "pylock.toml").code == 0
    assert cli("validate", "--strict", tmp_path / "pylock.toml").code == 0
    wanted = _source_hashes(source)
    assert wanted
    assert wanted == _hashes(_read(tmp_path / "pylock.toml"))
    names = {(p["name"], p["version"]) for p in tomllib.loads(source.read_text())["package"]}
    assert names == {(p.name, str(p.version)) for p in _read(tmp_path / "pylock.toml").packages}


def test_static_urls_are_kept(cli: CLI, pdm: Path, index: PackageIndex, tmp_path: Path) -> None:
    """``pdm lock --static-urls`` writes each file's URL: the import keeps it."""
    source = _locked(pdm, tmp_path, index, "--static-urls")
    urls = set(re.findall(r'url = "([^"]+)"', source.read_text(encoding="utf-8")))
    urls -= {index.url}
    run = cli("import", source, "-o", tmp_path / "pylock.toml")
    assert run.code == 0, run.err
    pylock = _read(tmp_path / "pylock.toml")
    written = {str(w.url) for p in pylock.packages for w in p.wheels or ()}
    written |= {str(p.sdist.url) for p in pylock.packages if p.sdist}
    assert urls and written == urls
    assert cli("validate", "--strict", tmp_path / "pylock.toml").code == 0


def test_without_a_pyproject_groups_are_dependency_groups_with_a_note() -> None:
    """(Pure: without a pyproject the files would be looked up on the default index.)"""
    project = pdm_lock._project(None)
    choices, notes = pdm_lock._choices(project, ["default", "dev"], ["default", "dev", "viz"])
    assert (choices.extras, choices.groups, choices.defaults) == (
        frozenset(),
        frozenset({"dev", "viz"}),
        frozenset({"dev"}),
    )
    assert notes == [
        "no pyproject.toml beside pdm.lock: groups dev, viz taken as dependency groups "
        "(pdm does not say which are extras)"
    ]


def _broken(text: str) -> tuple[str, int]:
    """``text`` with the first file entry's hash left unquoted, and that line's number."""
    lines = text.splitlines()
    number = next(i for i, line in enumerate(lines) if '{file = "' in line)
    lines[number] = lines[number].replace('hash = "sha256:', "hash = sha256:")
    return "\n".join(lines) + "\n", number + 1


def test_a_malformed_or_truncated_pdm_lock_is_one_line_and_writes_nothing(
    cli: CLI, locked: Path, tmp_path: Path
) -> None:
    text = locked.read_text(encoding="utf-8")
    broken, line = _broken(text)
    cut = text.index('{file = "', len(text) // 2) + 12
    wrong_type = text.replace("files = [", 'files = "none"\nignored = [', 1)
    cases = [
        (broken, rf"pdm\.lock:{line}: not TOML \("),
        (text[:cut], r"pdm\.lock:\d+: not TOML \("),
        (wrong_type, r"pdm\.lock: package\[0\] \(name 'alpha'\): files: expected an array"),
    ]
    for content, message in cases:
        (tmp_path / "pdm.lock").write_text(content, encoding="utf-8")
        run = cli("import", tmp_path / "pdm.lock", "-o", tmp_path / "pylock.toml")
        assert run.code == 2
        assert re.match(rf"tumbler: error: .*{message}", run.err), run.err
        assert len(run.err.strip().splitlines()) == 1
        assert not (tmp_path / "pylock.toml").exists()


def test_detection_picks_the_pdm_reader(cli: CLI, locked: Path, tmp_path: Path) -> None:
    source = _copy(locked, tmp_path)
    found = detect(source, source.read_bytes())
    assert found is not None and found.name == "pdm.lock"
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
