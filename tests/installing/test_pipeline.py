"""``tumbler install`` and ``tumbler sync`` end to end: locks written by tumbler, uv, pip
and pdm against the loopback index, installed into fresh virtual environments; what is
installed equals what ``packaging.pylock`` selects and ``pip check`` is clean; every bad
file refuses the whole install and leaves the environment as it was (I1-I11)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.pylock import Pylock
from packaging.utils import canonicalize_name

from tests.conftest import CLI, CORPUS, Run, rules_named
from tests.support.fileserver import serve
from tests.support.lockfixtures import read, write_project
from tests.support.pkgindex import Dist, PackageIndex, write_source_tree

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.usefixtures("lock_env")


# --- helpers ---------------------------------------------------------------------------------


def make_venv(path: Path) -> Path:
    """A fresh virtual environment without pip; its interpreter."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path / "bin" / "python"


def pip_list(python: Path) -> dict[str, str]:
    """What real pip says is installed: normalized name → version."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "list", "--format", "json"],
        capture_output=True, text=True, check=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )  # fmt: skip
    return {canonicalize_name(d["name"]): d["version"] for d in json.loads(done.stdout)}


def pip_check(python: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "check"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def selected(
    lock: Path, extras: tuple[str, ...] = (), groups: tuple[str, ...] | None = None
) -> dict[str, str]:
    """What ``packaging.pylock`` selects for this interpreter (the venvs' base Python)."""
    pylock = Pylock.from_dict(tomllib.loads(lock.read_text(encoding="utf-8")))
    chosen = pylock.select(extras=extras, dependency_groups=groups)
    return {canonicalize_name(p.name): str(p.version) for p, _ in chosen}


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root``: relative path → (size, inode)."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_ino)
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def site_packages(venv: Path) -> Path:
    return next((venv / "lib").glob("python3.*/site-packages"))


def tumbler_lock(cli: CLI, project: Path, index: PackageIndex, *args: str) -> Path:
    run = cli("lock", project, "--index-url", index.url, "-q", *args)
    assert run.code == 0, run.err
    return project.parent / "pylock.toml" if project.is_file() else project / "pylock.toml"


def install(cli: CLI, lock: Path, venv: Path, *args: str | Path) -> Run:
    return cli("install", lock, "--venv", venv, *args)


@pytest.fixture(scope="session")
def pdm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """pdm in a venv of its own (``pdm[locked]``: pdm's own pins; its deps clash with ours)."""
    venv = tmp_path_factory.mktemp("pdm-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "pdm[locked]"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return venv / "bin" / "pdm"


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "PDM_"))}
    return {**env, "UV_NO_CONFIG": "1", "PIP_CONFIG_FILE": os.devnull, **extra}


def _run(argv: list[str | Path], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{argv}\n{done.stdout}\n{done.stderr}"
    return done.stdout


PROJECT_DEPS = ["beta", "delta", "sdist-only", "clitool"]
PROJECT_EXTRAS = {"fast": ["beta[fast]"], "more": ["churn"]}
PROJECT_GROUPS = {"dev": ["pre"], "docs": ["recent"]}


# --- installs from each tool's lock ----------------------------------------------------------


def test_install_tumbler_lock_with_extras_and_groups(
    cli: CLI, tmp_path: Path, index: PackageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = write_project(
        tmp_path / "p", PROJECT_DEPS, extras=PROJECT_EXTRAS, groups=PROJECT_GROUPS
    )
    lock = tumbler_lock(cli, project, index)
    venv = tmp_path / "venv"
    monkeypatch.chdir(tmp_path)
    run = install(cli, lock, venv, "--extra", "more", "--group", "dev", "--index-url", index.url)
    assert run.code == 0, run.err
    # the summary: the environment as the user would type it, and what was chosen
    summary = run.out.strip().splitlines()[-1]
    assert summary.startswith("venv: installed "), summary
    assert " with extra more, group dev in " in summary
    python = venv / "bin" / "python"
    assert python.exists()  # the venv was made
    assert pip_list(python) == selected(lock, ("more",), ("dev",))
    assert {"churn", "pre", "sdist-only", "clitool"} <= set(pip_list(python))
    assert "recent" not in pip_list(python)
    pip_check(python)
    # the console script runs, and RECORD, INSTALLER are right
    out = subprocess.run(
        [str(venv / "bin" / "clitool")], capture_output=True, text=True, check=True
    )
    assert out.stdout == "clitool 2.0\n"
    site = site_packages(venv)
    dist_info = site / "clitool-2.0.dist-info"
    assert (dist_info / "INSTALLER").read_text() == "tumbler\n"
    assert not (dist_info / "direct_url.json").exists()  # from an index, not a direct URL
    record = (dist_info / "RECORD").read_text()
    assert "../../../bin/clitool,sha256=" in record
    assert "clitool/__init__.py,sha256=" in record
    assert "clitool-2.0.dist-info/RECORD,," in record
    # the sdist was built through PEP 517 on the venv's interpreter
    assert (site / "sdist_only" / "__init__.py").is_file()
    # a second run has nothing to do
    again = install(cli, lock, venv, "--extra", "more", "--group", "dev", "--format", "json")
    assert again.code == 0, again.err
    report = json.loads(again.out)
    assert report["counts"]["keep"] == len(selected(lock, ("more",), ("dev",)))
    assert report["counts"]["add"] == 0


def test_install_without_a_group_or_with_no_default_groups(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    project = write_project(tmp_path / "p", ["alpha"], groups={"dev": ["pre"]})
    lock = tumbler_lock(cli, project, index)
    text = lock.read_text(encoding="utf-8")
    lock.write_text(text.replace("default-groups = []", 'default-groups = ["dev"]'))
    plain = tmp_path / "plain"
    assert install(cli, lock, plain).code == 0
    assert pip_list(plain / "bin" / "python") == {"alpha": "1.1", "pre": "1.0"}
    bare = tmp_path / "bare"  # dev is also the developer's group: --no-dev too
    assert install(cli, lock, bare, "--no-default-groups").code == 0
    assert pip_list(bare / "bin" / "python") == {"alpha": "1.1", "pre": "1.0"}
    production = tmp_path / "production"
    assert install(cli, lock, production, "--no-default-groups", "--no-dev").code == 0
    assert pip_list(production / "bin" / "python") == {"alpha": "1.1"}


def test_install_uv_lock(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    project = tmp_path / "p"
    write_project(project, PROJECT_DEPS, extras=PROJECT_EXTRAS, groups=PROJECT_GROUPS)
    env = _clean_env()
    _run([BIN / "uv", "lock", "--index-url", index.url, "--no-cache"], project, env)
    _run(
        [BIN / "uv", "export", "--format", "pylock.toml", "--extra", "more", "--group", "dev",
         "-o", "pylock.toml", "--no-cache", "--no-emit-project"],
        project, env,
    )  # fmt: skip
    lock = project / "pylock.toml"
    assert 'created-by = "uv"' in lock.read_text(encoding="utf-8")
    venv = tmp_path / "venv"
    run = install(cli, lock, venv)
    assert run.code == 0, run.err
    python = venv / "bin" / "python"
    assert pip_list(python) == selected(lock)
    assert {"churn", "pre", "clitool", "sdist-only"} <= set(pip_list(python))
    pip_check(python)


def test_install_pip_lock(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    (tmp_path / "requirements.in").write_text("beta[fast]\ndelta\nclitool\n", encoding="utf-8")
    _run(
        [sys.executable, "-m", "pip", "lock", "-q", "-r", "requirements.in", "--index-url",
         index.url, "-o", "pylock.toml"],
        tmp_path, _clean_env(),
    )  # fmt: skip
    lock = tmp_path / "pylock.toml"
    assert 'created-by = "pip"' in lock.read_text(encoding="utf-8")
    venv = tmp_path / "venv"
    run = install(cli, lock, venv)
    assert run.code == 0, run.err
    python = venv / "bin" / "python"
    assert pip_list(python) == selected(lock) == {
        "alpha": "1.1", "beta": "1.0", "clitool": "2.0", "delta": "1.0", "gamma": "0.6",
    }  # fmt: skip
    pip_check(python)


def test_install_pdm_lock_selects_extras_and_groups_by_marker(
    cli: CLI, tmp_path: Path, index: PackageIndex, pdm: Path
) -> None:
    project = tmp_path / "p"
    write_project(project, PROJECT_DEPS, extras=PROJECT_EXTRAS, groups=PROJECT_GROUPS)
    env = _clean_env(
        PDM_HOME=str(tmp_path / "pdm-home"),
        PDM_CONFIG_FILE=str(tmp_path / "pdm-config.toml"),
        PDM_CACHE_DIR=str(tmp_path / "pdm-cache"),
        PDM_PYPI_URL=index.url,
        PDM_CHECK_UPDATE="false",
        PDM_USE_VENV="false",
        PDM_PYTHON=sys.executable,
    )
    _run([pdm, "lock", "-G", ":all"], project, env)
    _run([pdm, "export", "-f", "pylock", "-o", "pylock.toml"], project, env)
    lock = project / "pylock.toml"
    text = lock.read_text(encoding="utf-8")
    assert 'created-by = "pdm"' in text and "in extras" in text and "in dependency_groups" in text
    for extras, groups in (((), ()), (("more",), ("dev",)), (("fast", "more"), ("dev", "docs"))):
        venv = tmp_path / f"venv-{len(extras)}"
        args = [a for e in extras for a in ("--extra", e)] + [
            a for g in groups for a in ("--group", g)
        ]
        run = install(cli, lock, venv, "--index-url", index.url, *args)
        assert run.code == 0, run.err
        python = venv / "bin" / "python"
        want = selected(lock, extras, ("default", "dev", *groups))  # dev: a developer's
        assert pip_list(python) == want
        pip_check(python)
    assert "churn" in want and "recent" in want and "gamma" in want


# --- plan, dry run, sync ----------------------------------------------------------------------


def test_dry_run_prints_the_plan_and_changes_nothing(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    old = tumbler_lock(cli, write_project(tmp_path / "old", ["clitool<2", "beta"]), index)
    new = tumbler_lock(cli, write_project(tmp_path / "new", ["clitool", "delta", "alpha"]), index)
    venv = tmp_path / "venv"
    first = install(cli, old, venv, "--dry-run", "--format", "json")
    assert first.code == 0, first.err
    assert not venv.exists()  # not even the venv is made
    plan = json.loads(first.out)
    assert plan["dry_run"] and plan["created"]
    assert {s["name"]: s["action"] for s in plan["steps"]} == {
        "alpha": "add", "beta": "add", "clitool": "add",
    }  # fmt: skip
    assert install(cli, old, venv).code == 0
    before = snapshot(venv)
    run = cli("sync", new, "--venv", venv, "--dry-run", "--format", "json")
    assert run.code == 0, run.err
    steps = {s["name"]: s for s in json.loads(run.out)["steps"]}
    assert steps["clitool"] == {
        "action": "upgrade", "name": "clitool", "version": "2.0", "installed": "1.0",
        "source": "wheel",
    }  # fmt: skip
    assert steps["beta"]["action"] == "remove"
    assert steps["alpha"]["action"] == "keep"
    assert steps["delta"]["action"] == "add"
    text = cli("sync", new, "--venv", venv, "--dry-run", "--color", "never")
    assert " ~ clitool 1.0 -> 2.0" in text.out
    assert " - beta==1.0" in text.out
    assert " + delta==1.0" in text.out
    assert "would install 3 packages, would remove 1" in text.out  # delta, gamma, clitool
    assert snapshot(venv) == before


def test_sync_removes_what_the_lock_no_longer_selects_and_nothing_else(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    full = tumbler_lock(
        cli, write_project(tmp_path / "full", ["beta[fast]", "delta", "clitool"]), index
    )
    less = tumbler_lock(cli, write_project(tmp_path / "less", ["beta"]), index)
    venv = tmp_path / "venv"
    python = make_venv(venv)
    assert install(cli, full, venv).code == 0
    kept_file = site_packages(venv) / "alpha" / "__init__.py"
    inode = kept_file.stat().st_ino
    # install (not sync) leaves extra distributions alone
    assert install(cli, less, venv).code == 0
    assert set(pip_list(python)) == {"alpha", "beta", "clitool", "delta", "gamma"}
    # sync says what it will remove, one line each, before anything goes
    plan = cli("sync", less, "--venv", venv, "--dry-run", "--color", "never")
    assert plan.code == 0, plan.err
    removals = [line for line in plan.out.splitlines() if line.startswith(" - ")]
    assert [line.split("==")[0] for line in removals] == [" - clitool", " - delta", " - gamma"]
    assert "would remove 3" in plan.out.splitlines()[-1]
    assert set(pip_list(python)) == {"alpha", "beta", "clitool", "delta", "gamma"}
    run = cli("sync", less, "--venv", venv, "--format", "json")
    assert run.code == 0, run.err
    assert pip_list(python) == selected(less) == {"alpha": "1.1", "beta": "1.0"}
    assert kept_file.stat().st_ino == inode  # kept distributions are not touched
    assert not (venv / "bin" / "clitool").exists()  # a removed script goes too
    assert not (site_packages(venv) / "clitool").exists()
    assert not (site_packages(venv) / "gamma").exists()
    assert sorted(p.name for p in site_packages(venv).iterdir()) == [
        "alpha", "alpha-1.1.dist-info", "beta", "beta-1.0.dist-info",
    ]  # fmt: skip
    assert (venv / "bin" / "python").exists()
    pip_check(python)


def test_sync_keeps_the_environments_pip(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    lock = tumbler_lock(cli, write_project(tmp_path / "p", ["alpha"]), index)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)  # with pip
    before = set(pip_list(venv / "bin" / "python"))
    assert "pip" in before
    run = cli("sync", lock, "--venv", venv, "--format", "json")
    assert run.code == 0, run.err
    after = pip_list(venv / "bin" / "python")
    assert set(after) == {"alpha"} | ({"pip"} & before)
    keep = [s for s in json.loads(run.out)["steps"] if s["name"] == "pip"]
    assert keep == [{"action": "keep", "name": "pip", "version": after["pip"],
                     "installed": after["pip"], "reason": "the environment's installer"}]  # fmt: skip


# --- refusals: the invalid corpus, bad files ---------------------------------------------------


INSTALL_INVALID = sorted((CORPUS / "invalid").glob("install-*.toml"))


@pytest.mark.parametrize("path", INSTALL_INVALID, ids=lambda p: p.stem)
def test_invalid_corpus_install_files_are_refused_with_their_rule(
    cli: CLI, tmp_path: Path, path: Path
) -> None:
    """Each is valid to load and fails only at install time, with the rule it breaks and
    nothing installed. The files' URLs point at ``files.example.com``: they are served
    from loopback here, with a stand-in file of the right name (the hash and size files
    must be refused after the download)."""
    wanted = rules_named(path)
    files = tmp_path / "files"
    files.mkdir()
    text = path.read_text(encoding="utf-8")
    for name in set(re.findall(r"/([^/\"]+\.(?:whl|tar\.gz))\"", text)):
        (files / name).write_bytes(b"stand-in for " + name.encode())
    with serve(files) as server:
        text = re.sub(r"https://files\.example\.com/[^\"]*/", f"{server.root}files/", text)
        lock = tmp_path / "pylock.toml"
        lock.write_text(text, encoding="utf-8")
        venv = tmp_path / "venv"
        make_venv(venv)
        before = snapshot(venv)
        run = install(cli, lock, venv, "--format", "json")
    assert run.code == 2, run.out + run.err
    report = json.loads(run.out)
    assert report["ok"] is False
    rules = {f["rule"] for f in report["findings"]}
    assert rules & wanted, (rules, wanted)
    assert snapshot(venv) == before


def test_unsupported_lock_version_is_refused(cli: CLI, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    run = install(cli, CORPUS / "invalid" / "lock-version-2.0.toml", venv)
    assert run.code == 2
    assert "R9" in run.err and "lock-version" in run.err
    assert not venv.exists()


@pytest.fixture
def upgrade_case(cli: CLI, tmp_path: Path, index: PackageIndex) -> Iterator[tuple[Path, Path]]:
    """A venv with alpha 1.0 installed, and the files of a lock that upgrades it to 1.1 and
    adds gamma, copied into a directory a test serves (and spoils) itself."""
    old = tumbler_lock(cli, write_project(tmp_path / "old", ["alpha<1.1"]), index)
    venv = tmp_path / "venv"
    assert install(cli, old, venv).code == 0
    new = tumbler_lock(cli, write_project(tmp_path / "new", ["alpha", "gamma"]), index)
    files = tmp_path / "files"
    files.mkdir()
    for name in ("alpha-1.1-py3-none-any.whl", "gamma-0.6-py3-none-any.whl"):
        shutil.copy(index.files[name], files / name)
    yield new, venv


def _served_lock(lock: Path, root: str, index: PackageIndex) -> str:
    return lock.read_text(encoding="utf-8").replace(index.root + "files/", root + "files/")


@pytest.mark.parametrize("spoil", ["hash", "size", "truncated", "missing"])
def test_a_bad_file_refuses_the_whole_install_and_changes_nothing(
    cli: CLI, tmp_path: Path, index: PackageIndex, upgrade_case: tuple[Path, Path], spoil: str
) -> None:
    lock, venv = upgrade_case
    bad = "gamma-0.6-py3-none-any.whl"
    before = snapshot(venv)
    truncate = frozenset({bad}) if spoil == "truncated" else frozenset()
    missing = frozenset({bad}) if spoil == "missing" else frozenset()
    with serve(tmp_path / "files", truncate=truncate, missing=missing) as server:
        text = _served_lock(lock, server.root, index)
        if spoil == "hash":
            digest = index.sha256(bad)
            text = text.replace(digest, digest[::-1])
        if spoil == "size":
            size = index.files[bad].stat().st_size
            text = text.replace(f"size = {size}", f"size = {size + 1}")
        spoiled = tmp_path / "spoiled" / "pylock.toml"
        spoiled.parent.mkdir()
        spoiled.write_text(text, encoding="utf-8")
        run = cli("install", spoiled, "--venv", venv, "--cache-dir", tmp_path / "fresh-cache")
    assert run.code == 2, run.err
    assert "nothing was changed" in run.err
    expected = {"hash": "I7", "size": "I7", "truncated": "I6", "missing": "I6"}[spoil]
    assert re.search(rf"packages\[\d+\]\.wheels\[0\]\S*: {expected}: ", run.err), run.err
    assert bad in run.err
    assert snapshot(venv) == before
    assert pip_list(venv / "bin" / "python") == {"alpha": "1.0"}


def test_offline_installs_from_the_cache_only(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    lock = tumbler_lock(cli, write_project(tmp_path / "p", ["beta", "clitool"]), index)
    cache = tmp_path / "shared-cache"
    assert install(cli, lock, tmp_path / "one", "--cache-dir", cache).code == 0
    run = install(cli, lock, tmp_path / "two", "--cache-dir", cache, "--offline")
    assert run.code == 0, run.err
    assert pip_list(tmp_path / "two" / "bin" / "python") == selected(lock)
    empty = install(cli, lock, tmp_path / "three", "--cache-dir", tmp_path / "empty", "--offline")
    assert empty.code == 2
    assert "I6" in empty.err and "--offline" in empty.err


def test_no_build_refuses_sources_that_need_building(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    lock = tumbler_lock(cli, write_project(tmp_path / "p", ["sdist-only", "alpha"]), index)
    venv = tmp_path / "venv"
    run = install(cli, lock, venv, "--no-build")
    assert run.code == 2
    assert "I10" in run.err and "sdist-only" in run.err
    assert not (venv / "lib").exists() or not list(site_packages(venv).glob("*.dist-info"))


def test_unknown_extra_or_group_is_a_usage_error(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    project = write_project(tmp_path / "p", ["alpha"], extras={"more": ["churn"]})
    lock = tumbler_lock(cli, project, index)
    run = install(cli, lock, tmp_path / "venv", "--extra", "nope")
    assert run.code == 2
    assert run.err == "tumbler: error: the lock has no extra 'nope' (it offers: more)\n"
    group = install(cli, lock, tmp_path / "venv", "--group", "dev")
    assert group.code == 2 and "no dependency group 'dev'" in group.err


# --- direct sources: vcs, directory, archive --------------------------------------------------

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
}  # fmt: skip


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, env={**os.environ, **GIT_ENV},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def _direct_url(venv: Path, name: str) -> dict[str, object]:
    dist_info = next(site_packages(venv).glob(f"{name}-*.dist-info"))
    result: dict[str, object] = json.loads((dist_info / "direct_url.json").read_text())
    return result


def test_direct_sources_vcs_directory_archive(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    repo = tmp_path / "repo"
    write_source_tree(Dist("gitpkg", "1.0", requires_dist=("alpha<1.1",)), repo / "sub")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "one")
    commit = _git(repo, "rev-parse", "HEAD")
    write_source_tree(Dist("editpkg", "2.0", requires_dist=("gamma",)), tmp_path / "editpkg")
    write_source_tree(Dist("dirpkg", "3.0"), tmp_path / "dirpkg")
    sdist = tmp_path / "archives"
    sdist.mkdir()
    from tests.support.pkgindex import build_sdist, build_wheel

    archive = build_sdist(Dist("archpkg", "4.0"), sdist)
    wheel = build_wheel(Dist("wheelpkg", "5.0"), sdist)
    project = write_project(
        tmp_path / "project",
        [
            f"gitpkg @ git+{repo.as_uri()}@main#subdirectory=sub",
            f"editpkg @ {(tmp_path / 'editpkg').as_uri()}",
            f"dirpkg @ {(tmp_path / 'dirpkg').as_uri()}",
            f"archpkg @ {archive.as_uri()}",
            f"wheelpkg @ {wheel.as_uri()}",
            f"churn @ {index.file_url('churn-1.0-py3-none-any.whl')}",
        ],
        tool='editable = ["editpkg"]',
    )
    lock = tumbler_lock(cli, project, index)
    # a later commit must not be what gets installed: the lock names its commit-id
    write_source_tree(Dist("gitpkg", "9.0"), repo / "sub")
    _git(repo, "commit", "-q", "-am", "two")
    venv = tmp_path / "venv"
    run = install(cli, lock, venv, "--index-url", index.url)
    assert run.code == 0, run.err
    python = venv / "bin" / "python"
    listed = pip_list(python)
    assert listed["gitpkg"] == "1.0" and listed["alpha"] == "1.0"
    assert listed == {**selected(lock), "gitpkg": "1.0", "editpkg": "2.0", "dirpkg": "3.0"}
    pip_check(python)
    assert _direct_url(venv, "gitpkg") == {
        "url": repo.as_uri(), "subdirectory": "sub",
        "vcs_info": {"vcs": "git", "commit_id": commit, "requested_revision": "main"},
    }  # fmt: skip
    assert _direct_url(venv, "editpkg") == {
        "url": (tmp_path / "editpkg").as_uri(), "dir_info": {"editable": True},
    }  # fmt: skip
    assert _direct_url(venv, "dirpkg") == {"url": (tmp_path / "dirpkg").as_uri(), "dir_info": {}}
    archived = _direct_url(venv, "archpkg")
    assert archived["url"] == archive.as_uri()
    assert _direct_url(venv, "churn")["url"] == index.file_url("churn-1.0-py3-none-any.whl")
    located = subprocess.run(
        [str(python), "-c", "import editpkg, dirpkg; print(editpkg.__file__); print(dirpkg.__file__)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    edit_file, dir_file = located.stdout.splitlines()
    assert edit_file.startswith(str(tmp_path / "editpkg"))  # editable: from the tree
    assert dir_file.startswith(str(site_packages(venv)))  # not editable: copied in
    # --no-editable installs the recorded editable directory as a regular one
    plain = tmp_path / "plain"
    assert install(cli, lock, plain, "--no-editable", "--index-url", index.url).code == 0
    assert _direct_url(plain, "editpkg") == {
        "url": (tmp_path / "editpkg").as_uri(), "dir_info": {},
    }  # fmt: skip


def test_install_finds_what_lock_downloaded_in_the_shared_store(
    cli: CLI, tmp_path: Path, pypiserver: PackageIndex
) -> None:
    """pypiserver serves no metadata files: locking reads sdist-only's metadata from its
    sdist, which lands in the file store; install then needs no network for it."""
    lock = tumbler_lock(cli, write_project(tmp_path / "p", ["sdist-only"]), pypiserver)
    venv = tmp_path / "venv"
    run = install(cli, lock, venv, "--offline")
    assert run.code == 0, run.err
    assert pip_list(venv / "bin" / "python") == {"sdist-only": "0.1"}


def test_progress_is_drawn_while_fetching_and_installing(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    """On a terminal the CLI passes a Progress; each stage shows its line, then erases it."""
    import io

    from tumbler.installing.pipeline import InstallOptions, run_install
    from tumbler.progress import Progress

    lock = tumbler_lock(cli, write_project(tmp_path / "p", ["beta", "sdist-only"]), index)
    screen = io.StringIO()
    outcome = run_install(
        InstallOptions(lock=lock, venv=tmp_path / "venv", progress=Progress(screen, interval=0.01))
    )
    assert outcome.plan.counts()["add"] == 3
    drawn = screen.getvalue()
    assert "fetching 3 files" in drawn
    assert "building 1 packages" in drawn
    assert "installing 3 packages" in drawn
    assert drawn.endswith("\r\x1b[2K")  # the line is erased at the end


def test_many_wheels_are_unpacked_in_worker_processes(
    cli: CLI, tmp_path: Path, index: PackageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past a threshold (24 wheels) unpacking moves to worker processes; lowered here so
    three wheels take that path, with the same result."""
    import tumbler.installing.pipeline

    monkeypatch.setattr(tumbler.installing.pipeline, "_PROCESS_UNPACK_FROM", 1)
    lock = tumbler_lock(cli, write_project(tmp_path / "p", ["beta[fast]", "clitool"]), index)
    venv = tmp_path / "venv"
    run = install(cli, lock, venv)
    assert run.code == 0, run.err
    assert pip_list(venv / "bin" / "python") == selected(lock)
    cache = Path(os.environ["TUMBLER_CACHE_DIR"])
    assert len(list(cache.glob("unpacked/sha256/*/*/manifest.json"))) == 4


def test_python_option_installs_into_that_interpreters_environment(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    lock = tumbler_lock(cli, write_project(tmp_path / "p", ["beta"]), index)
    python = make_venv(tmp_path / "venv")
    run = cli("install", lock, "--python", python, "--format", "json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["environment"] == str(tmp_path / "venv")
    assert pip_list(python) == {"alpha": "1.1", "beta": "1.0"}
    made = cli("install", lock, "--venv", tmp_path / "new", "--python", sys.executable)
    assert made.code == 0, made.err  # --python with a new --venv: the venv is made with it
    assert pip_list(tmp_path / "new" / "bin" / "python") == {"alpha": "1.1", "beta": "1.0"}


def test_an_unsupported_vcs_is_refused_up_front(cli: CLI, tmp_path: Path) -> None:
    """I10: a source kind this install cannot use is an error before anything is fetched."""
    lock = tmp_path / "pylock.toml"
    lock.write_text(
        'lock-version = "1.0"\ncreated-by = "handwritten"\n\n[[packages]]\nname = "hgpkg"\n'
        'vcs = { type = "hg", url = "https://example.invalid/hgpkg", '
        f'commit-id = "{"a" * 40}" }}\n',
        encoding="utf-8",
    )
    venv = tmp_path / "venv"
    make_venv(venv)
    before = snapshot(venv)
    run = install(cli, lock, venv)
    assert run.code == 2
    assert "packages[0].vcs: I10: hgpkg: vcs type 'hg' is not supported" in run.err
    assert snapshot(venv) == before


def test_a_python_that_cannot_run_is_one_line(cli: CLI, tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text('lock-version = "1.0"\ncreated-by = "handwritten"\npackages = []\n')
    missing = tmp_path / "no-such-python"
    # inspecting an existing environment's Python, and making a new venv with it
    for args in (("--python", missing), ("--venv", tmp_path / "new", "--python", missing)):
        run = cli("install", lock, *args)
        assert run.code == 2
        assert run.err.startswith(f"tumbler: error: cannot run the Python {missing}: ")
        assert run.err.count("\n") == 1


def _cpython(version: str) -> Path | None:
    """An interpreter of CPython ``version`` (``3.9``) on this machine: on the PATH, or
    under pyenv's versions (its shims are not needed)."""
    found = shutil.which(f"python{version}")
    candidates = [Path(found)] if found else []
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    candidates += sorted(root.glob(f"{version}.*/bin/python{version}"), reverse=True)
    for candidate in candidates:
        done = subprocess.run(
            [str(candidate), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode == 0 and done.stdout.strip() == version:
            return candidate
    return None


@pytest.mark.parametrize("version", ["3.8", "3.9", "3.10"])
def test_a_universal_lock_installs_into_older_pythons(
    cli: CLI, tmp_path: Path, index: PackageIndex, version: str
) -> None:
    """A requires-python >=3.8 project with a backport needed before 3.11: its universal
    lock installs into real CPython 3.8, 3.9 and 3.10 (the interpreter is asked with a
    packaging that runs there), and the marker-conditional package imports."""
    python = _cpython(version)
    if python is None:
        pytest.skip(f"no CPython {version} on this machine (PATH or pyenv)")
    project = write_project(
        tmp_path / "lib", ["delta", "backport; python_version < '3.11'"], requires_python=">=3.8"
    )
    locked = cli("lock", project, "--index-url", index.url, "-q", "--universal")
    assert locked.code == 0, locked.err
    lock = project.parent / "pylock.toml"
    venv = tmp_path / f"venv{version}"
    run = cli("install", lock, "--venv", venv, "--python", python)
    assert run.code == 0, run.err
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import backport, delta, gamma, sys; "
         "print(backport.__version__, sys.version_info[:2])"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "1.0"
    assert f"({version.replace('.', ', ')})" in done.stdout
    listed = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import importlib.metadata as m, json; "
         "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(listed.stdout) == {"backport": "1.0", "delta": "1.0", "gamma": "0.6"}


def test_a_refused_install_makes_no_environment(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    """A lock made for Windows only cannot be installed here: refused, and the --venv it
    would have made is not there."""
    project = write_project(tmp_path / "p", ["delta"])
    locked = cli("lock", project, "--index-url", index.url, "-q", "--target", "windows-amd64-3.12")
    assert locked.code == 0, locked.err
    venv = tmp_path / "never"
    run = cli("install", project.parent / "pylock.toml", "--venv", venv)
    assert run.code == 2
    assert "cannot be installed here" in run.err
    assert not venv.exists()


def test_a_developers_install_has_the_dev_group_and_the_project_itself(
    cli: CLI, tmp_path: Path, index: PackageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project with a build backend and a dev group: the lock holds the project as an
    editable entry that comes with the dev group (its default-groups stay empty, for
    production and for pip); install takes the dev group and the project (editable: the
    import reads the tree) unless told otherwise, and sync after it keeps them."""
    tree = write_source_tree(Dist("demo-app", "0.1", requires_dist=("beta",)), tmp_path / "app")
    with (tree / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[dependency-groups]\ndev = ["churn"]\ntest = ["delta"]\n')
    monkeypatch.chdir(tree)
    lock = tumbler_lock(cli, tree / "pyproject.toml", index)
    entry = next(p for p in read(lock).packages if p.name == "demo-app")
    assert entry.directory is not None and entry.directory.editable
    assert entry.directory.path == "." and entry.version is None
    assert str(entry.marker) == '"dev" in dependency_groups'
    assert read(lock).default_groups == []
    # the gate knows the project's own entry: up to date from the records, no index
    check = cli("lock", "--check", "--format", "json", "--index-url", "http://127.0.0.1:9/s/")
    assert check.code == 0, check.err
    assert json.loads(check.out)["method"] == "records"
    # pip installs the default selection: the dependencies, not the project's tree
    target = tmp_path / "pip-target"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--isolated", "--no-cache-dir", "-q",
         "--target", str(target), "-r", str(lock)],
        capture_output=True, text=True, check=False, env=_clean_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in target.glob("*.dist-info")) == [
        "alpha-1.1.dist-info", "beta-1.0.dist-info"
    ]  # fmt: skip
    venv = tmp_path / "venv"
    run = install(cli, lock, venv, "--index-url", index.url)
    assert run.code == 0, run.err
    python = venv / "bin" / "python"
    listed = pip_list(python)
    assert {"demo-app", "beta", "alpha", "churn"} <= set(listed)  # churn: the dev group
    assert "delta" not in listed
    located = subprocess.run(
        [str(python), "-c", "import demo_app; print(demo_app.__file__)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert located.stdout.strip().startswith(str(tree))  # editable: from the tree
    synced = cli("sync", lock, "--venv", venv)
    assert synced.code == 0, synced.err
    assert pip_list(python) == listed  # sync keeps the dev group and the project
    production = tmp_path / "production"
    run = install(cli, lock, production, "--no-dev", "--no-install-project")
    assert run.code == 0, run.err
    assert set(pip_list(production / "bin" / "python")) == {"alpha", "beta"}
    everything = tmp_path / "everything"
    assert install(cli, lock, everything, "--all-groups").code == 0
    assert {"churn", "delta", "demo-app"} <= set(pip_list(everything / "bin" / "python"))
