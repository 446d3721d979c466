"""``tumbler lock`` against real indexes on 127.0.0.1: the resolver, the lock it writes,
and real installers consuming it. Each behaviour the issue names has its test here:
backtracking, conflicts, extras, markers, groups with include-group, yanked files,
requires-python, pre-releases, sdist-only projects, exclude-newer, minimal churn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from packaging.pylock import PackageSdist, PackageWheel

from tests.conftest import CLI, Run
from tests.support.lockfixtures import pins, read, write_project
from tests.support.pkgindex import PackageIndex
from tumbler.lockfile.render import marker_text

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.usefixtures("lock_env")


def lock(cli: CLI, project: Path, index: PackageIndex, *args: str) -> Run:
    """One-target locks for this interpreter (universal ones: tests/test_universal.py)."""
    target = (
        () if {"--python-version", "--platform", "--target"} & set(args) else ("--target", "host")
    )
    return cli("lock", project, "--index-url", index.url, "--quiet", *target, *args)


def markers(path: Path) -> dict[str, str | None]:
    return {
        p.name: None if p.marker is None else marker_text(p.marker) for p in read(path).packages
    }


# --- what gets picked ------------------------------------------------------------------------


def test_lock_writes_a_valid_complete_lock(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    project = write_project(tmp_path, ["beta[fast]", "delta"])
    run = lock(cli, project, index)
    assert run.code == 0, run.err
    path = tmp_path / "pylock.toml"
    assert pins(path) == {"alpha": "1.1", "beta": "1.0", "delta": "1.0", "gamma": "0.6"}
    assert cli("validate", "--strict", path).code == 0
    pylock = read(path)
    assert pylock.created_by == "tumbler"
    for package in pylock.packages:
        assert package.index == index.url.rstrip("/")
        assert package.wheels and package.sdist
        files: list[PackageWheel | PackageSdist] = [*package.wheels, package.sdist]
        for file in files:
            assert file.name is not None and file.url == index.file_url(file.name)
            assert file.hashes == {"sha256": index.sha256(file.name)}
            assert file.size == index.files[file.name].stat().st_size
            assert file.upload_time is not None
    beta = next(p for p in pylock.packages if p.name == "beta")
    assert beta.dependencies == [{"name": "alpha"}, {"name": "gamma"}]


def test_pypiserver_html_index_gives_the_same_versions(
    cli: CLI, tmp_path: Path, index: PackageIndex, pypiserver: PackageIndex
) -> None:
    """HTML only, metadata read by HTTP range requests, sizes by one-byte range requests: same answer.

    (pypiserver knows no yanks, so alpha's yanked 2.0 is kept out by hand.)"""
    first = write_project(tmp_path / "a", ["beta[fast]", "delta", "modern", "alpha<2"])
    second = write_project(tmp_path / "b", ["beta[fast]", "delta", "modern", "alpha<2"])
    assert lock(cli, first, index).code == 0
    run = lock(cli, second, pypiserver)
    assert run.code == 0, run.err
    assert pins(tmp_path / "a" / "pylock.toml") == pins(tmp_path / "b" / "pylock.toml")
    for package in read(tmp_path / "b" / "pylock.toml").packages:
        assert package.sdist is not None and package.sdist.size is not None


def test_backtracking_finds_the_older_version_that_fits(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["top"])
    assert lock(cli, project, index).code == 0
    assert pins(tmp_path / "pylock.toml") == {"top": "1.0", "mid": "1.0", "base": "2.0"}


def test_conflict_is_explained_and_the_old_lock_kept(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["clash", "base>=2"])
    existing = tmp_path / "pylock.toml"
    existing.write_text("# the committed lock\n", encoding="utf-8")
    run = lock(cli, project, index)
    assert run.code == 2
    assert "Traceback" not in run.err
    assert "base: no version matches all of" in run.err
    assert "base<2 ← clash 1.0 ← clash in [project.dependencies]" in run.err
    assert "base>=2 (from [project.dependencies])" in run.err
    assert "versions available: 2.0, 1.0" in run.err
    assert existing.read_text(encoding="utf-8") == "# the committed lock\n"


def test_yanked_release_skipped_unless_pinned(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    plain = write_project(tmp_path / "plain", ["alpha"])
    pinned = write_project(tmp_path / "pinned", ["alpha==2.0"])
    assert lock(cli, plain, index).code == 0
    assert pins(tmp_path / "plain" / "pylock.toml") == {"alpha": "1.1"}
    taken = lock(cli, pinned, index)
    assert taken.code == 0
    assert pins(tmp_path / "pinned" / "pylock.toml") == {"alpha": "2.0"}
    assert "alpha 2.0 is yanked" in taken.err and "pins it exactly" in taken.err
    assert "yanked" not in lock(cli, plain, index).err
    # a wildcard is a range, not a pin: the yanked 2.0 stays out (PEP 592)
    wildcard = write_project(tmp_path / "wildcard", ["alpha==2.*"])
    run = lock(cli, wildcard, index)
    assert run.code == 2
    assert "alpha" in run.err
    assert "Traceback" not in run.err


@pytest.mark.parametrize("server", ["index", "pypiserver"])
def test_requires_python_filters_releases(
    cli: CLI, tmp_path: Path, server: str, request: pytest.FixtureRequest
) -> None:
    """modern 2.0 needs Python >= 3.99: from the page (JSON) or the metadata (pypiserver)."""
    served: PackageIndex = request.getfixturevalue(server)
    project = write_project(tmp_path, ["modern"])
    assert lock(cli, project, served).code == 0
    assert pins(tmp_path / "pylock.toml") == {"modern": "1.0"}


@pytest.mark.parametrize(
    ("requirement", "options", "expected"),
    [
        ("pre", (), "1.0"),
        ("pre>=2.0b1", (), "2.0b1"),
        ("onlypre", (), "0.1a1"),
        ("pre", ("--prereleases", "allow"), "2.0b1"),
    ],
)
def test_prereleases(
    cli: CLI,
    tmp_path: Path,
    index: PackageIndex,
    *,
    requirement: str,
    options: tuple[str, ...],
    expected: str,
) -> None:
    project = write_project(tmp_path, [requirement])
    assert lock(cli, project, index, *options).code == 0
    assert (
        pins(tmp_path / "pylock.toml")[
            requirement[:3] if requirement.startswith("pre") else "onlypre"
        ]
        == expected
    )


def test_prereleases_disallowed_leaves_nothing(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["onlypre"])
    run = lock(cli, project, index, "--prereleases", "disallow")
    assert run.code == 2
    assert "onlypre: no version matches onlypre (from [project.dependencies])" in run.err
    assert "relax" not in run.err


def test_sdist_only_dependency(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    project = write_project(tmp_path, ["needs-sdist"])
    assert lock(cli, project, index).code == 0
    package = next(p for p in read(tmp_path / "pylock.toml").packages if p.name == "sdist-only")
    assert str(package.version) == "0.1"
    assert package.wheels is None and package.sdist is not None


def test_exclude_newer(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    project = write_project(tmp_path, ["alpha"])
    assert lock(cli, project, index, "--exclude-newer", "2023-03-01").code == 0
    path = tmp_path / "pylock.toml"
    assert pins(path) == {"alpha": "1.0"}
    table = tomllib.loads(path.read_text(encoding="utf-8"))["tool"]["tumbler"]
    assert table["exclude-newer"] == datetime(2023, 3, 1, tzinfo=UTC)


def test_exclude_newer_without_upload_times_is_reported(
    cli: CLI, tmp_path: Path, pypiserver: PackageIndex
) -> None:
    project = write_project(tmp_path, ["alpha"])
    run = cli("lock", project, "--index-url", pypiserver.url, "--exclude-newer", "2023-03-01")
    assert run.code == 0
    assert "gives no upload times: --exclude-newer could not be applied" in run.err


def test_extras_groups_and_include_group_become_markers(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    project = write_project(
        tmp_path,
        ["delta"],
        extras={"viz": ["beta[fast]"]},
        groups={"dev": ["alpha<1.1"], "test": [{"include-group": "dev"}, "gamma"]},
    )
    assert lock(cli, project, index).code == 0
    path = tmp_path / "pylock.toml"
    pylock = read(path)
    assert pylock.extras == ["viz"]
    assert pylock.dependency_groups == ["dev", "test"]
    assert pylock.default_groups == []
    assert pins(path) == {"alpha": "1.0", "beta": "1.0", "delta": "1.0", "gamma": "0.6"}
    assert markers(path) == {
        "alpha": "'viz' in extras or 'dev' in dependency_groups or 'test' in dependency_groups",
        "beta": "'viz' in extras",
        "delta": None,
        "gamma": None,
    }
    linux = {"sys_platform": "linux", "platform_machine": "x86_64"}

    def selected(extras: set[str], groups: set[str]) -> set[str]:
        from tumbler.env.targets import parse_target

        environment = parse_target("host").environment | linux
        chosen = pylock.select(
            environment=environment,  # type: ignore[arg-type]
            extras=extras,
            dependency_groups=groups,
        )
        return {p.name for p, _ in chosen}

    assert selected(set(), set()) == {"delta", "gamma"}
    assert selected({"viz"}, set()) == {"alpha", "beta", "delta", "gamma"}
    assert selected(set(), {"test"}) == {"alpha", "delta", "gamma"}
    inputs = tomllib.loads(path.read_text(encoding="utf-8"))["tool"]["tumbler"]["inputs"]
    assert inputs["groups"] == {"dev": ["alpha<1.1"], "test": ["alpha<1.1", "gamma"]}


def test_default_groups_use_the_synthetic_default_group(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    project = write_project(
        tmp_path, ["delta"], groups={"dev": ["alpha"]}, tool='default-groups = ["dev"]'
    )
    assert lock(cli, project, index).code == 0
    path = tmp_path / "pylock.toml"
    assert read(path).default_groups == ["default"]
    assert markers(path)["alpha"] == "'dev' in dependency_groups or 'default' in dependency_groups"
    assert cli("validate", "--strict", path).code == 0


def test_markers_follow_the_target_platform(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    """delta needs alpha on Windows and gamma elsewhere."""
    linux = write_project(tmp_path / "linux", ["delta"])
    windows = write_project(tmp_path / "windows", ["delta"])
    assert (
        lock(cli, linux, index, "--platform", "linux-x86_64", "--python-version", "3.12").code == 0
    )
    assert (
        lock(cli, windows, index, "--platform", "windows-amd64", "--python-version", "3.12").code
        == 0
    )
    assert pins(tmp_path / "linux" / "pylock.toml") == {"delta": "1.0", "gamma": "0.6"}
    assert pins(tmp_path / "windows" / "pylock.toml") == {"delta": "1.0", "alpha": "1.1"}
    environments = read(tmp_path / "windows" / "pylock.toml").environments
    assert environments is not None
    assert 'sys_platform == "win32"' in str(environments[0])


# --- minimal churn and determinism -------------------------------------------------------------


def test_relock_keeps_pins_until_released(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    project = write_project(tmp_path, ["alpha", "churn"])
    path = tmp_path / "pylock.toml"
    assert lock(cli, project, index, "--exclude-newer", "2023-02-01").code == 0
    assert pins(path) == {"alpha": "1.0", "churn": "1.0"}
    assert lock(cli, project, index).code == 0  # newer versions exist; the pins stay
    assert pins(path) == {"alpha": "1.0", "churn": "1.0"}
    write_project(tmp_path, ["alpha", "churn", "gamma"])
    assert lock(cli, project, index).code == 0
    assert pins(path) == {"alpha": "1.0", "churn": "1.0", "gamma": "0.6"}
    assert lock(cli, project, index, "--upgrade-package", "churn").code == 0
    assert pins(path) == {"alpha": "1.0", "churn": "1.1", "gamma": "0.6"}
    assert lock(cli, project, index, "--upgrade").code == 0
    assert pins(path) == {"alpha": "1.1", "churn": "1.1", "gamma": "0.6"}


def test_lock_is_deterministic(
    cli: CLI, tmp_path: Path, index: PackageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write_project(tmp_path / "a", ["beta[fast]", "delta", "top"])
    second = write_project(tmp_path / "b", ["beta[fast]", "delta", "top"])
    assert lock(cli, first, index).code == 0
    monkeypatch.setenv("TUMBLER_CACHE_DIR", str(tmp_path / "other-cache"))
    assert lock(cli, second, index).code == 0
    text = (tmp_path / "a" / "pylock.toml").read_bytes()
    assert text == (tmp_path / "b" / "pylock.toml").read_bytes()
    run = cli("lock", first, "--index-url", index.url)
    assert run.code == 0
    assert "unchanged:" in run.err
    assert (tmp_path / "a" / "pylock.toml").read_bytes() == text


def test_two_processes_share_a_cache(tmp_path: Path, index: PackageIndex) -> None:
    project = write_project(tmp_path, ["beta[fast]", "delta", "top", "churn"])
    env = {**os.environ, "TUMBLER_CACHE_DIR": str(tmp_path / "shared-cache")}
    outputs = [tmp_path / f"pylock.out{i}.toml" for i in range(2)]
    processes = [
        subprocess.Popen(
            [
                str(BIN / "tumbler"),
                "lock",
                str(project),
                "--index-url",
                index.url,
                "-o",
                str(out),
                "-q",
            ],
            env=env,
            stderr=subprocess.PIPE,
        )
        for out in outputs
    ]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert outputs[0].read_text(encoding="utf-8").replace("out0", "") == outputs[1].read_text(
        encoding="utf-8"
    ).replace("out1", "")


def test_offline_uses_the_cache_and_says_what_is_missing(
    cli: CLI, tmp_path: Path, index: PackageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = write_project(tmp_path, ["beta"])
    assert lock(cli, project, index).code == 0
    before = (tmp_path / "pylock.toml").read_bytes()
    (tmp_path / "pylock.toml").unlink()
    assert lock(cli, project, index, "--offline").code == 0
    assert (tmp_path / "pylock.toml").read_bytes() == before
    monkeypatch.setenv("TUMBLER_CACHE_DIR", str(tmp_path / "empty"))
    run = lock(cli, project, index, "--offline")
    assert run.code == 2
    assert "not in the cache and --offline forbids fetching" in run.err


def test_credentials_are_used_but_never_written(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    secret_url = index.url.replace("http://", "http://reader:s3cret@")
    project = write_project(tmp_path, ["beta"])
    run = cli("lock", project, "--index-url", secret_url, "-q")
    assert run.code == 0, run.err
    text = (tmp_path / "pylock.toml").read_text(encoding="utf-8")
    assert "s3cret" not in text and "reader" not in text
    assert pins(tmp_path / "pylock.toml") == {"alpha": "1.1", "beta": "1.0"}


# --- bad input ----------------------------------------------------------------------------------


def _keeps_old_lock(tmp_path: Path, run: Run) -> None:
    assert run.code == 2
    assert "Traceback" not in run.err
    assert run.err.startswith("tumbler: error:")
    assert (tmp_path / "pylock.toml").read_text(encoding="utf-8") == "# keep me\n"


def test_broken_pyproject(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    (tmp_path / "pyproject.toml").write_text("[project\nname = 'x'\n", encoding="utf-8")
    (tmp_path / "pylock.toml").write_text("# keep me\n", encoding="utf-8")
    run = lock(cli, tmp_path / "pyproject.toml", index)
    _keeps_old_lock(tmp_path, run)
    assert "pyproject.toml: not valid TOML" in run.err


def test_bad_requirement_names_its_place(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    project = write_project(tmp_path, ["alpha>="])
    (tmp_path / "pylock.toml").write_text("# keep me\n", encoding="utf-8")
    run = lock(cli, project, index)
    _keeps_old_lock(tmp_path, run)
    assert "project.dependencies[0]: cannot parse 'alpha>='" in run.err


def test_unknown_package(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    project = write_project(tmp_path, ["alpha", "no-such-thing"])
    (tmp_path / "pylock.toml").write_text("# keep me\n", encoding="utf-8")
    run = lock(cli, project, index)
    _keeps_old_lock(tmp_path, run)
    assert f"no project named 'no-such-thing' on {index.url}" in run.err


def test_a_typo_is_a_missing_project_with_the_name_meant(
    cli: CLI, tmp_path: Path, index: PackageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a conflict to relax: the project is missing, the one meant is named, and an
    index this machine's pip configuration adds is searched but not shown."""
    elsewhere = index.url.replace("/simple/", "/elsewhere/simple/")  # answers 404 to all
    monkeypatch.setenv("PIP_EXTRA_INDEX_URL", elsewhere)
    project = write_project(tmp_path, ["alpah", "beta"])
    run = lock(cli, project, index)
    assert run.code == 2
    assert run.err.splitlines() == [
        f"tumbler: error: no project named 'alpah' on {index.url}: alpah (from "
        "[project.dependencies])",
        "  hint: did you mean 'alpha'?",
    ]
    assert "elsewhere" not in run.err
    assert "relax" not in run.err
    # a name whose slips are not all names ('x-y' → '-xy'): still one clear error
    write_project(tmp_path, ["x-y"])
    odd = lock(cli, project, index)
    assert (odd.code, odd.err.splitlines()) == (
        2,
        [
            f"tumbler: error: no project named 'x-y' on {index.url}: x-y (from [project.dependencies])"
        ],
    )


def test_one_requirement_no_version_meets_is_not_a_conflict(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["beta", "mid>=3"])
    run = lock(cli, project, index)
    assert run.code == 2
    assert "mid: no version matches mid>=3 (from [project.dependencies])" in run.err
    assert "versions available: 2.0, 1.0" in run.err
    assert "relax" not in run.err


def test_output_that_is_a_directory(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    project = write_project(tmp_path, ["alpha"])
    out = tmp_path / "pylock.out.toml"
    out.mkdir()
    run = lock(cli, project, index, "-o", str(out))
    assert run.code == 2
    assert "Traceback" not in run.err
    assert run.err.startswith(f"tumbler: error: {out}: cannot write")
    assert out.is_dir()


def test_output_named_against_the_standard_is_refused(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    """-o x.toml would write a lock that validate then rejects (R1): refused up front,
    nothing written."""
    project = write_project(tmp_path, ["alpha"])
    for name in ("x.toml", "pylock.a.b.toml", "lock.toml"):
        run = lock(cli, project, index, "-o", str(tmp_path / name))
        assert run.code == 2
        assert run.err == (
            f"tumbler: error: -o {tmp_path / name}: not a lock file name (R1): name it "
            "pylock.toml or pylock.<name>.toml (<name> without dots)\n"
        )
        assert not (tmp_path / name).exists()


def test_an_old_lock_that_is_not_utf8_is_replaced(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["alpha"])
    (tmp_path / "pylock.toml").write_bytes(b"\xff\xfe not a lock")
    run = lock(cli, project, index)
    assert run.code == 0, run.err
    assert pins(tmp_path / "pylock.toml") == {"alpha": "1.1"}


def test_unreachable_index(cli: CLI, tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    project = write_project(tmp_path, ["alpha"])
    (tmp_path / "pylock.toml").write_text("# keep me\n", encoding="utf-8")
    run = cli("lock", project, "--index-url", f"http://127.0.0.1:{port}/simple/", "-q")
    _keeps_old_lock(tmp_path, run)
    assert f"cannot reach 127.0.0.1:{port}" in run.err


def test_unsatisfiable_requires_python_is_explained(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["modern>=2"])
    (tmp_path / "pylock.toml").write_text("# keep me\n", encoding="utf-8")
    run = lock(cli, project, index)
    _keeps_old_lock(tmp_path, run)
    assert "modern: no version matches modern>=2 (from [project.dependencies])" in run.err
    assert "skipped (Requires-Python >=3.99): 2.0" in run.err


# --- installers consume the lock ---------------------------------------------------------------


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env["UV_NO_CONFIG"] = "1"
    return env


def _installed(python: Path) -> dict[str, str]:
    listed = subprocess.run(
        [str(BIN / "uv"), "pip", "list", "--python", str(python), "--format", "json"],
        capture_output=True, text=True, check=True, env=_env(),
    )  # fmt: skip
    return {p["name"]: p["version"] for p in json.loads(listed.stdout)}


@pytest.fixture
def grouped_lock(cli: CLI, tmp_path: Path, index: PackageIndex) -> Path:
    project = write_project(
        tmp_path / "project",
        ["delta"],
        extras={"viz": ["beta[fast]"]},
        groups={"dev": ["churn"]},
    )
    assert lock(cli, project, index).code == 0
    return tmp_path / "project" / "pylock.toml"


@pytest.mark.parametrize(
    ("selection", "expected"),
    [
        ((), {"delta": "1.0", "gamma": "0.6"}),
        (("--extra", "viz"), {"delta": "1.0", "gamma": "0.6", "beta": "1.0", "alpha": "1.1"}),
        (("--group", "dev"), {"delta": "1.0", "gamma": "0.6", "churn": "1.1"}),
    ],
)
def test_uv_installs_the_lock_with_extras_and_groups(
    grouped_lock: Path, tmp_path: Path, selection: tuple[str, ...], expected: dict[str, str]
) -> None:
    venv = tmp_path / "venv"
    uv = str(BIN / "uv")
    subprocess.run([uv, "venv", "-q", str(venv)], check=True, env=_env())
    python = venv / "bin" / "python"
    proc = subprocess.run(
        [uv, "pip", "install", "-q", "--no-cache", "--python", str(python), "-r", str(grouped_lock), *selection],
        capture_output=True, text=True, check=False, env=_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert _installed(python) == expected


def test_pip_installs_the_lock(grouped_lock: Path, tmp_path: Path) -> None:
    """pip installs the default selection (it has no extra or group choice for locks yet)."""
    target = tmp_path / "target"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--isolated", "--no-cache-dir", "-q",
         "--target", str(target), "-r", str(grouped_lock)],
        capture_output=True, text=True, check=False, env=_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    installed = sorted(p.name for p in target.glob("*.dist-info"))
    assert installed == ["delta-1.0.dist-info", "gamma-0.6.dist-info"]


def test_a_directory_with_requirements_in_and_either_machine_name(
    cli: CLI, tmp_path: Path, index: PackageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tumbler lock` in a folder holding requirements.in alone locks it; Windows' machine
    may be called x86_64 as on the other systems (or amd64 as Windows says)."""
    (tmp_path / "requirements.in").write_text("delta\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    run = cli(
        "lock", "--index-url", index.url, "--platform", "windows-x86_64", "--python-version",
        "3.12", "-q",
    )  # fmt: skip
    assert run.code == 0, run.err
    assert pins(tmp_path / "pylock.toml") == {"alpha": "1.1", "delta": "1.0"}  # win32: alpha
    assert "windows-amd64-3.12" in (tmp_path / "pylock.toml").read_text(encoding="utf-8")
