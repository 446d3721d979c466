"""tumbler.universal and ``tumbler lock --universal`` / ``--environment`` on the local index.

The catalogue (tests/lockfixtures.py) has ``delta``, which needs ``alpha`` on Windows and
``gamma`` elsewhere, and ``recent``, whose 2.0 needs Python 3.12. Every universal lock is
checked against the standard: for each target it covers, ``packaging.pylock`` selects a
complete set without ambiguity, equal to what a single-target lock for it selects.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet

from tests.lockfixtures import NATIVE_WHEELS, read, write_project
from tumbler.errors import UsageError
from tumbler.targets import Target, parse_target
from tumbler.universal import describe, environments_of, grid

if TYPE_CHECKING:
    from pathlib import Path

    from packaging.pylock import Pylock

    from tests.conftest import CLI
    from tests.pkgindex import PackageIndex

pytestmark = pytest.mark.usefixtures("lock_env")

DATE = "2026-10-01"  # supported then: CPython 3.10 to 3.15


def _grid(requires: str = ">=3.11", *markers: str) -> tuple[Target, ...]:
    return grid(SpecifierSet(requires), [Marker(m) for m in markers], today=date(2026, 10, 1))


# --- the grid -------------------------------------------------------------------------------


def test_grid_is_supported_pythons_allowed_by_requires_python_on_six_platforms() -> None:
    targets = _grid(">=3.11")
    pythons = sorted({t.environment["python_version"] for t in targets})
    assert pythons == ["3.11", "3.12", "3.13", "3.14", "3.15"]
    assert len(targets) == 5 * 6
    assert targets[0].environment["python_version"] == "3.11"  # oldest first


def test_grid_follows_the_date() -> None:
    """3.10 reached end of life at the end of October 2026; 3.9 a year before."""
    late = grid(None, today=date(2026, 11, 21))
    early = grid(None, today=date(2025, 6, 1))
    assert {t.environment["python_version"] for t in late} == {f"3.{m}" for m in range(11, 16)}
    assert {t.environment["python_version"] for t in early} == {f"3.{m}" for m in range(9, 14)}


def test_environments_narrow_the_grid() -> None:
    targets = _grid(">=3.11", "sys_platform == 'linux' and python_version >= '3.13'")
    names = {t.name for t in targets}
    assert names == {f"linux-{a}-3.{m}" for a in ("x86_64", "aarch64") for m in (13, 14, 15)}


def test_no_target_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no supported CPython"):
        _grid(">=3.11", "sys_platform == 'plan9'")


# --- markers --------------------------------------------------------------------------------


def test_describe_gives_short_markers() -> None:
    every = _grid(">=3.11")

    def on(predicate: str) -> str | None:
        subset = [t for t in every if Marker(predicate).evaluate(t.environment)]
        marker = describe(subset, every)
        if marker is not None:  # it must say exactly that subset
            assert [t for t in every if marker.evaluate(t.environment)] == subset
        return None if marker is None else str(marker)

    assert on("python_version >= '3.0'") is None
    assert on("sys_platform == 'win32'") == 'sys_platform == "win32"'
    assert on("python_version < '3.13'") == 'python_version < "3.13"'
    assert on("python_version >= '3.13'") == 'python_version >= "3.13"'
    assert on("python_version == '3.12'") == 'python_version == "3.12"'
    assert on("sys_platform != 'win32'") == 'sys_platform == "linux" or sys_platform == "darwin"'
    mixed = on("sys_platform == 'linux' and python_version >= '3.14'")
    assert mixed == 'sys_platform == "linux" and python_version >= "3.14"'
    machine = on("platform_machine == 'aarch64'")
    assert machine == 'sys_platform == "linux" and platform_machine == "aarch64"'
    two = on("(sys_platform == 'win32' and python_version < '3.12') or sys_platform == 'linux'")
    assert two is not None and "sys_platform" in two


def test_environments_state_the_coverage() -> None:
    every = _grid(">=3.12")
    markers = environments_of(every)
    assert len(markers) == 6
    for target in every:
        assert sum(m.evaluate(target.environment) for m in markers) == 1
    outside = parse_target("linux-x86_64-3.11").environment
    assert not any(m.evaluate(outside) for m in markers)


# --- locking --------------------------------------------------------------------------------


def _selected(pylock: Pylock, target: Target, *, everything: bool = False) -> dict[str, str]:
    found = pylock.select(
        environment=target.environment,  # type: ignore[arg-type]  # a dict of marker values
        tags=target.tags,
        extras=["fast"] if everything else None,
        dependency_groups=["dev"] if everything else None,
    )
    return {str(p.name): str(p.version) for p, _ in found}


def _lock(cli: CLI, project: Path, index: PackageIndex, *extra: str) -> Pylock:
    run = cli("lock", project, "--index-url", index.url, "--exclude-newer", DATE, "-q", *extra)
    assert run.code == 0, run.err
    return read(project.parent / "pylock.toml")


def test_universal_lock_selects_like_single_target_locks(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    project = write_project(
        tmp_path / "u",
        ["delta", "recent"],
        extras={"fast": ["beta[fast]"]},
        groups={"dev": ["churn"]},
        requires_python=">=3.11",
    )
    universal = _lock(cli, project, index, "--universal")
    by_name = {(str(p.name), str(p.version)): p for p in universal.packages}
    assert str(by_name["alpha", "1.1"].marker) == 'sys_platform == "win32" or "fast" in extras'
    # Each Python gets the newest release supporting it (as uv forks on Python versions):
    # recent 2.0 needs 3.12, so 3.11 keeps 1.0.
    assert str(by_name["recent", "2.0"].marker) == 'python_version >= "3.12"'
    assert str(by_name["recent", "1.0"].marker) == 'python_version == "3.11"'
    assert len(universal.environments or ()) == 6
    for target in _grid(">=3.11"):
        python, platform = target.environment["python_version"], target.name.rsplit("-", 1)[0]
        single_dir = tmp_path / target.name
        single = write_project(
            single_dir,
            ["delta", "recent"],
            extras={"fast": ["beta[fast]"]},
            groups={"dev": ["churn"]},
            requires_python=">=3.11",
        )
        alone = _lock(cli, single, index, "--python-version", python, "--platform", platform)
        for everything in (False, True):
            assert _selected(universal, target, everything=everything) == _selected(
                alone, target, everything=everything
            )


def test_versions_split_only_where_requirements_force_it(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    project = write_project(
        tmp_path,
        ["recent>=2; python_version >= '3.12'", "recent<2; python_version < '3.12'"],
        requires_python=">=3.11",
    )
    universal = _lock(cli, project, index, "--universal")
    entries = sorted((str(p.version), str(p.marker)) for p in universal.packages)
    assert entries == [("1.0", 'python_version == "3.11"'), ("2.0", 'python_version >= "3.12"')]
    for target in _grid(">=3.11"):
        wanted = "2.0" if target.environment["python_version"] != "3.11" else "1.0"
        assert _selected(universal, target) == {"recent": wanted}


def _native(tag: str) -> str:
    return f"native-1.0-{tag}.whl"


def test_each_target_gets_the_wheels_it_can_use_and_nothing_else(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    """native 2.0 has one Linux x86_64 wheel and no sdist, so every other platform keeps
    1.0; 1.0 records the wheels some target uses plus the sdist (for macOS x86_64 and
    Windows arm64, which have no wheel), never its CPython 3.9 or 32-bit Windows wheels.
    The sdist cannot be built: the lock reads 1.0's metadata from another platform's wheel.
    """
    project = write_project(tmp_path / "u", ["native"], requires_python=">=3.11")
    universal = _lock(cli, project, index, "--universal")
    entries = {str(p.version): p for p in universal.packages if p.name == "native"}
    linux_x86 = 'sys_platform == "linux" and platform_machine == "x86_64"'
    assert str(entries["2.0"].marker) == linux_x86
    assert [w.name for w in entries["2.0"].wheels or ()] == [
        "native-2.0-cp311-abi3-manylinux_2_17_x86_64.whl"
    ]
    assert entries["2.0"].sdist is None
    one = entries["1.0"]
    assert one.marker is not None
    assert sorted(str(w.name) for w in one.wheels or ()) == sorted(
        _native(t) for t in NATIVE_WHEELS if "manylinux_2_17_x86_64" not in t
    )
    assert one.sdist is not None and one.sdist.name == "native-1.0.tar.gz"
    alpha = next(p for p in universal.packages if p.name == "alpha")
    assert str(alpha.marker) == 'sys_platform == "darwin"'
    for target in _grid(">=3.11"):
        env = target.environment
        on_linux_x86 = env["sys_platform"] == "linux" and env["platform_machine"] == "x86_64"
        assert one.marker.evaluate(env) is not on_linux_x86  # disjoint, and covering
        selected = universal.select(environment=env, tags=target.tags)  # type: ignore[arg-type]
        files = {str(p.name): str(getattr(f, "name", "")) for p, f in selected}
        native = files["native"]
        if target.name.startswith(("macos-x86_64", "windows-arm64")):
            assert native == "native-1.0.tar.gz"  # no wheel: the sdist
        else:
            assert native.endswith(".whl") and native in target_wheels(target)
        assert ("alpha" in files) is (env["sys_platform"] == "darwin")


def target_wheels(target: Target) -> set[str]:
    """The native wheels (either version) whose tags ``target`` supports."""
    from packaging.utils import parse_wheel_filename

    names = {_native(t) for t in NATIVE_WHEELS}
    names.add("native-2.0-cp311-abi3-manylinux_2_17_x86_64.whl")
    tags = set(target.tags)
    return {n for n in names if parse_wheel_filename(n)[3] & tags}


@pytest.mark.parametrize("server", ["index", "pypiserver"])
def test_a_target_without_a_wheel_takes_metadata_from_another_platforms_wheel(
    cli: CLI, tmp_path: Path, server: str, request: pytest.FixtureRequest
) -> None:
    """A single-target lock for macOS x86_64 (sdist only) succeeds on both servers, and
    records only the sdist: no wheel that target cannot use."""
    served: PackageIndex = request.getfixturevalue(server)
    project = write_project(tmp_path, ["native"], requires_python=">=3.11")
    alone = _lock(cli, project, served, "--python-version", "3.12", "--platform", "macos-x86_64")
    native = next(p for p in alone.packages if p.name == "native")
    assert str(native.version) == "1.0"
    assert native.wheels is None
    assert native.sdist is not None and native.sdist.name == "native-1.0.tar.gz"
    assert {str(p.name) for p in alone.packages} == {"alpha", "native"}  # darwin: alpha


def test_a_default_target_without_files_is_left_out_and_said(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    """binding needs linux-only, which has Linux wheels only: --universal covers Linux,
    says which targets it left out and why, and its environments say what it covers."""
    project = write_project(tmp_path, ["binding"], requires_python=">=3.13")
    run = cli("lock", project, "--index-url", index.url, "--exclude-newer", DATE, "--universal")
    assert run.code == 0, run.err
    assert "locked 2 packages for 6 of 18 environments" in run.err
    assert (
        "left out macos-arm64 (Python 3.13 to 3.15), macos-x86_64 (Python 3.13 to 3.15), "
        "windows-amd64 (Python 3.13 to 3.15), windows-arm64 (Python 3.13 to 3.15): "
        "linux-only has no file for it (no wheel for this platform): "
        "linux-only ← binding 2.0 ← binding in [project.dependencies]"
    ) in run.err
    pylock = read(project.parent / "pylock.toml")
    covered = pylock.environments or []
    assert sorted(str(m) for m in covered) == [
        f'implementation_name == "cpython" and sys_platform == "linux" and platform_machine '
        f'== "{machine}" and python_version >= "3.13" and python_version <= "3.15"'
        for machine in ("aarch64", "x86_64")
    ]
    assert all(p.marker is None for p in pylock.packages)  # needed on every covered target
    assert str(next(p for p in pylock.packages if p.name == "binding").version) == "2.0"
    base = ("lock", project, "--index-url", index.url, "--exclude-newer", DATE)
    assert cli(*base, "--universal", "--check").code == 0  # the same choice every time


def test_an_asked_for_target_without_files_is_an_error(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["binding"], requires_python=">=3.13")
    (project.parent / "pylock.toml").write_text("# kept\n")
    run = cli(
        "lock", project, "--index-url", index.url, "--environment", "python_version >= '3.14'"
    )
    assert run.code == 2
    assert "Traceback" not in run.err
    assert "cannot lock for linux" not in run.err  # Linux has its wheels
    assert "cannot lock for macos-arm64-3.15, which the environments select" in run.err
    assert "linux-only has no file for it" in run.err
    assert "hint: leave it out with an environments marker" in run.err
    assert (project.parent / "pylock.toml").read_text() == "# kept\n"
    linux = cli(
        "lock", project, "--index-url", index.url, "--environment", "sys_platform == 'linux'"
    )
    assert linux.code == 0, linux.err


def test_universal_relock_keeps_pins_and_diffs(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    """Minimal churn: a universal re-lock keeps every pin the old lock has until asked
    (--upgrade-package), and ``tumbler diff`` names what moved."""
    project = write_project(
        tmp_path,
        ["alpha", "churn", "delta"],
        requires_python=">=3.11",
        tool="environments = [\"python_version == '3.11'\"]",  # the same 6 targets on both dates
    )
    path = tmp_path / "pylock.toml"
    base = ("lock", project, "--index-url", index.url, "-q")

    def versions() -> dict[str, str]:
        return {str(p.name): str(p.version) for p in read(path).packages}

    assert cli(*base, "--exclude-newer", "2023-09-02").code == 0
    assert versions() == {"alpha": "1.1", "churn": "1.0", "delta": "1.0", "gamma": "0.6"}
    old = tmp_path / "old.pylock.toml"
    old.write_bytes(path.read_bytes())
    assert cli(*base).code == 0  # churn 1.1 exists now; the pin stays
    assert path.read_bytes() != b"" and versions()["churn"] == "1.0"
    same = cli("diff", old, path)
    assert same.code == 1  # only [tool.tumbler] inputs (the date) differ
    assert ": 1 lock-level change" in same.out  # [tool.tumbler]: the date; no package moved
    assert cli(*base, "--upgrade-package", "churn").code == 0
    assert versions() == {"alpha": "1.1", "churn": "1.1", "delta": "1.0", "gamma": "0.6"}
    moved = cli("diff", old, path)
    assert moved.code == 1
    assert "Upgraded (1)\n  ↑ churn  1.0 → 1.1" in moved.out
    assert "1 lock-level change" in moved.out  # and nothing else moved


def test_environment_option_and_setting(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    project = write_project(
        tmp_path,
        ["delta"],
        requires_python=">=3.11",
        tool="environments = [\"sys_platform == 'win32'\"]",
    )
    from_setting = _lock(cli, project, index)
    assert [str(m) for m in from_setting.environments or ()] == ['sys_platform == "win32"']
    names = {str(p.name): p.marker for p in from_setting.packages}
    assert set(names) == {"alpha", "delta"}  # gamma is for other platforms only
    assert all(marker is None for marker in names.values())
    from_option = _lock(cli, project, index, "--environment", "sys_platform == 'linux'")
    assert {str(p.name) for p in from_option.packages} == {"delta", "gamma"}
    # --python-version / --platform lock one target, whatever the setting says
    one = _lock(cli, project, index, "--python-version", "3.12", "--platform", "linux-x86_64")
    assert [str(m) for m in one.environments or ()] == [
        'implementation_name == "cpython" and python_version == "3.12" '
        'and sys_platform == "linux" and platform_machine == "x86_64"'
    ]


def test_universal_check_passes_then_names_drift(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["delta"], requires_python=">=3.11")
    _lock(cli, project, index, "--universal")
    base = ("lock", project, "--index-url", index.url, "--exclude-newer", DATE)
    assert cli(*base, "--universal", "--check").code == 0
    drift = cli(*base, "--environment", "sys_platform == 'linux'", "--check")
    assert drift.code == 1
    assert "target environment" in drift.out


def test_universal_rejects_a_single_target_option(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["delta"])
    for many in (["--universal"], ["--environment", "sys_platform == 'linux'"]):
        run = cli("lock", project, "--index-url", index.url, *many, "--platform", "linux-x86_64")
        assert run.code == 2
        assert "not with --universal or --environment" in run.err
        assert "Traceback" not in run.err
    bad = cli("lock", project, "--index-url", index.url, "--environment", "sys_platform ==")
    assert bad.code == 2
    assert "is not a marker expression" in bad.err
    extras = cli("lock", project, "--index-url", index.url, "--environment", "'x' in extras")
    assert extras.code == 2
    assert "Traceback" not in extras.err
    assert "can only use platform and Python variables" in extras.err
