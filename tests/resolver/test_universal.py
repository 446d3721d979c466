"""tumbler.resolver.universal and ``tumbler lock --universal`` / ``--environment`` on the local index.

The catalogue (tests/support/lockfixtures.py) has ``delta``, which needs ``alpha`` on Windows and
``gamma`` elsewhere, and ``recent``, whose 2.0 needs Python 3.12. Every universal lock is
checked against the standard: for each target it covers, ``packaging.pylock`` selects a
complete set without ambiguity, equal to what a single-target lock for it selects.
"""

from __future__ import annotations

import json
from datetime import date
from typing import TYPE_CHECKING

import pytest
from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tests.support.lockfixtures import NATIVE_WHEELS, read, write_project
from tumbler.env.targets import Target, parse_target
from tumbler.errors import UsageError
from tumbler.resolver.universal import describe, environments_of, grid

if TYPE_CHECKING:
    from pathlib import Path

    from packaging.pylock import Pylock

    from tests.conftest import CLI
    from tests.support.pkgindex import PackageIndex

pytestmark = pytest.mark.usefixtures("lock_env")

DATE = "2026-10-01"  # released by then: CPython 3.8 (tumbler's oldest) to 3.15


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
    """Every CPython released by the date, end of life included (3.8 from tumbler's floor):
    3.14 came out in October 2025, 3.15 in October 2026."""
    late = grid(None, today=date(2026, 11, 21))
    early = grid(None, today=date(2025, 6, 1))
    assert {t.environment["python_version"] for t in late} == {f"3.{m}" for m in range(8, 16)}
    assert {t.environment["python_version"] for t in early} == {f"3.{m}" for m in range(8, 14)}


def test_grid_starts_at_the_lower_bound_of_requires_python() -> None:
    pythons = {t.environment["python_version"] for t in _grid(">=3.9")}
    assert pythons == {f"3.{m}" for m in range(9, 16)}
    narrow = {t.environment["python_version"] for t in _grid(">=3.9,<3.12")}
    assert narrow == {"3.9", "3.10", "3.11"}


def test_grid_cuts_a_minor_version_where_patch_releases_differ() -> None:
    """A lower bound on a patch release (requires-python >=3.10.1) starts that minor's
    slot there; splits found while resolving (3.11.3) cut a minor in two."""
    targets = grid(SpecifierSet(">=3.10.1"), today=date(2026, 10, 1), splits=[Version("3.11.3")])
    slots = sorted({Version(t.environment["python_full_version"]) for t in targets})
    assert [str(v) for v in slots[:3]] == ["3.10.1", "3.11.0", "3.11.3"]
    assert len(targets) == len(slots) * 6
    names = {t.name for t in targets}
    assert {"linux-x86_64-3.10.1", "linux-x86_64-3.11", "linux-x86_64-3.11.3"} <= names


def test_environments_narrow_the_grid() -> None:
    targets = _grid(">=3.11", "sys_platform == 'linux' and python_version >= '3.13'")
    names = {t.name for t in targets}
    assert names == {f"linux-{a}-3.{m}" for a in ("x86_64", "aarch64") for m in (13, 14, 15)}


def test_no_target_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"requires-python >=3\.11 and"):
        _grid(">=3.11", "sys_platform == 'plan9'")
    with pytest.raises(UsageError, match=r"requires-python >=3\.11 and"):
        _grid(">=3.11", "python_version < '3.10'")


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
        f'implementation_name == "cpython" and sys_platform == "linux" and platform_system == '
        f'"Linux" and platform_machine == "{machine}" and python_version >= "3.13" and '
        'python_version <= "3.15"'
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
    assert ": 1 lock field changed" in same.out  # [tool.tumbler]: the date; no package moved
    assert "tool.tumbler.exclude-newer: - 2023-09-02T00:00:00Z" in same.out
    assert cli(*base, "--upgrade-package", "churn").code == 0
    assert versions() == {"alpha": "1.1", "churn": "1.1", "delta": "1.0", "gamma": "0.6"}
    moved = cli("diff", old, path)
    assert moved.code == 1
    assert "Upgraded (1)\n  ↑ churn  1.0 → 1.1" in moved.out
    assert "1 lock field changed" in moved.out  # and nothing else moved


def test_environment_option_and_setting(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    project = write_project(
        tmp_path,
        ["delta"],
        requires_python=">=3.11",
        tool="environments = [\"sys_platform == 'win32'\"]",
    )
    from_setting = _lock(cli, project, index)
    # What the lock was resolved for, not the marker asked: Windows' two machines, each
    # with the Pythons locked (a bare 'sys_platform == "win32"' would claim any machine).
    assert [str(m) for m in from_setting.environments or ()] == [
        f'implementation_name == "cpython" and sys_platform == "win32" and platform_system == '
        f'"Windows" and platform_machine == "{machine}" and python_version >= "3.11" and '
        'python_version <= "3.15"'
        for machine in ("AMD64", "ARM64")
    ]
    recorded = read(project.parent / "pylock.toml").tool or {}
    assert recorded["tumbler"]["environments"] == ['sys_platform == "win32"']
    names = {str(p.name): p.marker for p in from_setting.packages}
    assert set(names) == {"alpha", "delta"}  # gamma is for other platforms only
    assert all(marker is None for marker in names.values())
    from_option = _lock(cli, project, index, "--environment", "sys_platform == 'linux'")
    assert {str(p.name) for p in from_option.packages} == {"delta", "gamma"}
    # --python-version / --platform lock one target, whatever the setting says
    one = _lock(cli, project, index, "--python-version", "3.12", "--platform", "linux-x86_64")
    assert [str(m) for m in one.environments or ()] == [
        'implementation_name == "cpython" and python_version == "3.12" and sys_platform == '
        '"linux" and platform_system == "Linux" and platform_machine == "x86_64"'
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
    assert (
        "the universal lock's environments changed from every platform to "
        'sys_platform == "linux"\n'
    ) in drift.out
    single = cli(*base, "--target", "linux-x86_64-3.12", "--check", "--format", "json")
    assert single.code == 1
    assert json.loads(single.out)["inputs"] == [
        "the lock's mode changed from universal to linux-x86_64-3.12"
    ]


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


# --- honest coverage (issue 20) -------------------------------------------------------------


def _select_at(pylock: Pylock, spec: str, **choose: list[str]) -> dict[str, str]:
    """What ``packaging.pylock`` selects for the target ``spec`` (``linux-x86_64-3.11.2``)."""
    target = parse_target(spec)
    found = pylock.select(
        environment=target.environment,  # type: ignore[arg-type]  # a dict of marker values
        tags=target.tags,
        extras=choose.get("extras"),
        dependency_groups=choose.get("groups"),
    )
    return {str(p.name): str(p.version) for p, _ in found}


def _pythons_covered(pylock: Pylock, platform: str = "linux-x86_64") -> list[str]:
    """The CPython minor versions the lock's environments admit on ``platform``."""
    return [
        f"3.{m}"
        for m in range(6, 17)
        if any(
            e.evaluate(parse_target(f"{platform}-3.{m}").environment)
            for e in pylock.environments or ()
        )
    ]


def test_every_python_requires_python_allows_is_locked(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    """requires-python >=3.9 and a backport needed before 3.11: the lock covers 3.9 to the
    newest CPython, the backport is locked for 3.9 and 3.10, and the end of life of 3.9
    is said (once: when the coverage changes)."""
    project = write_project(
        tmp_path, ["delta", "backport; python_version < '3.11'"], requires_python=">=3.9"
    )
    run = cli("lock", project, "--index-url", index.url, "--exclude-newer", DATE)
    assert run.code == 0, run.err
    assert "locked 4 packages for 42 environments" in run.err
    assert "Python 3.9 is past end of life" in run.err
    pylock = read(project.parent / "pylock.toml")
    assert _pythons_covered(pylock) == [f"3.{m}" for m in range(9, 16)]
    assert str(pylock.requires_python) == ">=3.9"
    backport = next(p for p in pylock.packages if p.name == "backport")
    assert str(backport.marker) == 'python_version < "3.11"'
    for python, wanted in (("3.9", True), ("3.10", True), ("3.11", False), ("3.15", False)):
        assert ("backport" in _select_at(pylock, f"linux-x86_64-{python}")) is wanted
    again = cli("lock", project, "--index-url", index.url, "--exclude-newer", DATE)
    assert again.code == 0 and "end of life" not in again.err  # said when it changed only
    validate = cli("validate", project.parent / "pylock.toml", "--environment", "linux-x86_64-3.9")
    assert validate.code == 0, validate.out


@pytest.mark.parametrize(
    "asked",
    [("--environment", "python_version >= '3.9'"), ("--environment", "sys_platform == 'linux'")],
)
def test_environments_asked_for_are_resolved_for_every_python_they_admit(
    cli: CLI, tmp_path: Path, index: PackageIndex, asked: tuple[str, str]
) -> None:
    """A marker naming a Python bound, or platforms only, is resolved for every Python it
    and requires-python admit, and the lock claims no more than it was resolved for."""
    project = write_project(
        tmp_path, ["delta", "backport; python_version < '3.11'"], requires_python=">=3.9"
    )
    pylock = _lock(cli, project, index, *asked)
    assert _pythons_covered(pylock) == [f"3.{m}" for m in range(9, 16)]
    assert _select_at(pylock, "linux-x86_64-3.9")["backport"] == "1.0"
    riscv = {**parse_target("linux-x86_64-3.12").environment, "platform_machine": "riscv64"}
    assert not any(e.evaluate(riscv) for e in pylock.environments or ())  # never resolved
    newer = parse_target("linux-x86_64-3.16").environment
    assert not any(e.evaluate(newer) for e in pylock.environments or ())  # not released


def test_patch_releases_are_told_apart(cli: CLI, tmp_path: Path, index: PackageIndex) -> None:
    """patchy needs timeouts before 3.11.3 (redis and async-timeout); newpatch 2.0 needs
    3.11.4. Each 3.11 release gets what it needs, and the markers say so."""
    project = write_project(tmp_path, ["patchy", "newpatch"], requires_python=">=3.11")
    pylock = _lock(cli, project, index, "--universal")
    entries = {(str(p.name), str(p.version)): str(p.marker) for p in pylock.packages}
    assert entries[("timeouts", "1.0")] == 'python_full_version < "3.11.3"'
    assert entries[("newpatch", "1.0")] == 'python_full_version < "3.11.4"'
    assert entries[("newpatch", "2.0")] == 'python_full_version >= "3.11.4"'
    for release, timeouts, newpatch in (
        ("3.11", True, "1.0"),
        ("3.11.2", True, "1.0"),
        ("3.11.3", False, "1.0"),
        ("3.11.4", False, "2.0"),
        ("3.11.9", False, "2.0"),
        ("3.12", False, "2.0"),
    ):
        chosen = _select_at(pylock, f"linux-x86_64-{release}")
        assert ("timeouts" in chosen) is timeouts, release
        assert chosen["newpatch"] == newpatch, release
    assert _pythons_covered(pylock) == [f"3.{m}" for m in range(11, 16)]
    check = ("lock", project, "--index-url", index.url, "--exclude-newer", DATE, "--check")
    assert cli(*check).code == 0  # the re-lock finds the same releases apart
    assert cli(*check, "--offline").code == 0


def test_a_one_target_lock_claims_only_the_patch_releases_it_was_resolved_for(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["patchy"], requires_python=">=3.11")
    args = ("lock", project, "--index-url", index.url, "--python-version", "3.11")
    run = cli(*args, "--platform", "linux-x86_64")
    assert run.code == 0, run.err
    assert "the lock covers Python 3.11 before 3.11.3 only" in run.err
    pylock = read(project.parent / "pylock.toml")
    (environment,) = pylock.environments or ()
    assert 'python_full_version < "3.11.3"' in str(environment)
    assert environment.evaluate(parse_target("linux-x86_64-3.11.2").environment)
    assert not environment.evaluate(parse_target("linux-x86_64-3.11.3").environment)
    assert cli(*args, "--platform", "linux-x86_64", "--check").code == 0
    assert cli("lock", project, "--index-url", index.url, "--check", "--offline").code == 0
    # newpatch 2.0 (Requires-Python >=3.11.4) exists, but the 1.0 locked holds on every
    # 3.11: no narrowing for a newer release the lock does not take.
    write_project(tmp_path, ["newpatch"], requires_python=">=3.11")
    plain = cli(*args, "--platform", "linux-x86_64")
    assert plain.code == 0 and "covers Python" not in plain.err
    assert "python_full_version" not in str(read(project.parent / "pylock.toml").environments)


def test_an_extra_without_files_on_a_platform_leaves_the_platform_its_base(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    """winonly has Windows wheels only: the extra needing it is recorded as unavailable on
    Linux and macOS, which keep the base dependencies; installing the extra there is
    refused by name, installing without it works."""
    project = write_project(
        tmp_path, ["delta"], extras={"win": ["winonly"]}, requires_python=">=3.11"
    )
    run = cli("lock", project, "--index-url", index.url, "--exclude-newer", DATE, "--universal")
    assert run.code == 0, run.err
    assert "locked 4 packages for 30 environments" in run.err  # every platform kept
    assert (
        "extra 'win' is not available on linux-x86_64 (Python 3.11 to 3.15), linux-aarch64 "
        "(Python 3.11 to 3.15), macos-arm64 (Python 3.11 to 3.15), macos-x86_64 (Python "
        "3.11 to 3.15): winonly has no file for it (no wheel for this platform)"
    ) in run.err
    pylock = read(project.parent / "pylock.toml")
    winonly = next(p for p in pylock.packages if p.name == "winonly")
    assert str(winonly.marker) == 'sys_platform == "win32" and "win" in extras'
    (row,) = (pylock.tool or {})["tumbler"]["unavailable"]
    assert row["extra"] == "win"
    assert row["marker"] == 'sys_platform == "linux" or sys_platform == "darwin"'
    assert "winonly has no file for it" in row["reason"]
    assert _select_at(pylock, "linux-x86_64-3.12", extras=["win"]) == {
        "delta": "1.0",
        "gamma": "0.6",
    }
    venv = tmp_path / "venv"
    refused = cli("install", project.parent / "pylock.toml", "--venv", venv, "--extra", "win")
    assert refused.code == 2
    assert "the extra 'win' is not available on this environment (linux" in refused.err
    assert "winonly has no file for it" in refused.err
    assert "Traceback" not in refused.err
    assert not venv.exists()  # a refused install makes nothing
    done = cli("install", project.parent / "pylock.toml", "--venv", venv, "-q")
    assert done.code == 0, done.err
    assert (venv / "bin" / "python").exists()


def test_dependencies_identify_one_entry_each(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    """recent has two entries (1.0 for 3.11, 2.0 for 3.12+): uses-recent names both by
    version; a bare name that matches both is reported (R23), an error under --strict."""
    project = write_project(tmp_path, ["uses-recent"], requires_python=">=3.11")
    pylock = _lock(cli, project, index, "--universal")
    uses = next(p for p in pylock.packages if p.name == "uses-recent")
    assert uses.dependencies == [
        {"name": "recent", "version": "1.0"},
        {"name": "recent", "version": "2.0"},
    ]
    lock = project.parent / "pylock.toml"
    assert cli("validate", lock, "--strict").code == 0
    text = lock.read_text(encoding="utf-8")
    ambiguous = text.replace('{ name = "recent", version = "1.0" }, ', "").replace(
        '{ name = "recent", version = "2.0" }', '{ name = "recent" }'
    )
    assert ambiguous != text
    lock.write_text(ambiguous, encoding="utf-8")
    warned = cli("validate", lock, "--format", "json")
    assert warned.code == 0
    assert "R23" in warned.out and "matches 2 package entries" in warned.out
    assert cli("validate", lock, "--strict").code == 1


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--python-version", "3.10"), "Python 3.10 (linux-x86_64-3.10) is outside the project's"),
        (("--target", "windows-amd64-3.9"), "Python 3.9 (windows-amd64-3.9) is outside the"),
        (("--environment", "python_version < '3.10'"), "matches the project's requires-python"),
    ],
)
def test_a_python_outside_requires_python_is_an_error_naming_it(
    cli: CLI, tmp_path: Path, index: PackageIndex, args: tuple[str, str], said: str
) -> None:
    project = write_project(tmp_path, ["delta"], requires_python=">=3.11")
    run = cli("lock", project, "--index-url", index.url, *args)
    assert run.code == 2
    assert said in run.err and "requires-python >=3.11" in run.err
    assert "Traceback" not in run.err and "RuntimeError" not in run.err
    assert len(run.err.strip().splitlines()) == 1
    assert not (tmp_path / "pylock.toml").exists()


def test_a_patch_release_lower_bound_locks_from_that_release(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["delta"], requires_python=">=3.10.1")
    pylock = _lock(cli, project, index, "--python-version", "3.10", "--platform", "linux-x86_64")
    assert (pylock.tool or {})["tumbler"]["target"] == "linux-x86_64-3.10.1"
    assert str(pylock.requires_python) == ">=3.10.1"


def test_a_new_lock_is_universal_and_the_mode_is_sticky(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    """No flag: a new lock covers every platform; a plain re-lock after adding a
    dependency keeps the mode; a one-target lock stays one; --check follows the lock."""
    project = write_project(tmp_path, ["delta"], requires_python=">=3.13")
    base = ("lock", project, "--index-url", index.url, "--exclude-newer", DATE)
    lock = project.parent / "pylock.toml"

    def platforms() -> int:
        return len(read(lock).environments or ())

    assert cli(*base, "-q").code == 0
    assert platforms() == 6
    write_project(tmp_path, ["delta", "churn"], requires_python=">=3.13")
    assert cli(*base, "-q").code == 0
    assert platforms() == 6 and "churn" in {p.name for p in read(lock).packages}
    assert cli(*base, "--check").code == 0
    assert cli(*base, "-q", "--target", "linux-x86_64-3.13").code == 0
    assert platforms() == 1
    assert cli(*base, "-q").code == 0
    assert platforms() == 1  # sticky
    assert cli(*base, "--check").code == 0
    changed = cli(*base, "--universal", "--check")
    assert changed.code == 1
    assert "  the lock's mode changed from linux-x86_64-3.13 to universal\n" in changed.out


def test_requirements_no_environment_needs_are_said(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["delta", "alpha; sys_platform == 'os1'"])
    run = cli("lock", project, "--index-url", index.url, "--exclude-newer", DATE)
    assert run.code == 0, run.err
    assert (
        """note: dependency 'alpha; sys_platform == "os1"' applies to none of the lock's """
        "environments: nothing is locked for it"
    ) in run.err


def test_a_yanked_release_is_taken_only_for_the_projects_own_pin(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    """PEP 592 as pip and uv read it: a dependency's ``pinned==2.0`` does not take the
    yanked 2.0; the project's own pin does."""
    by_dependency = write_project(tmp_path / "dep", ["pins-yanked"], requires_python=">=3.11")
    run = cli("lock", by_dependency, "--index-url", index.url, "--target", "host")
    assert run.code == 2
    assert "pinned" in run.err and "yanked: 2.0" in run.err
    own = write_project(tmp_path / "own", ["pinned==2.0"], requires_python=">=3.11")
    pylock = _lock(cli, own, index, "--target", "host")
    assert {p.name: str(p.version) for p in pylock.packages} == {"pinned": "2.0"}
    universal = cli("lock", own, "--index-url", index.url, "--exclude-newer", DATE, "-q")
    assert universal.code == 0
    assert universal.err.count("pinned 2.0 is yanked (broken): taken because") == 1


@pytest.mark.parametrize(
    "case",
    [
        (("--only-binary", ":all:"), True, False),
        (("--no-build",), True, False),
        (("--no-binary", "alpha"), False, True),
        (("--no-binary", ":all:", "--only-binary", "alpha"), True, False),
    ],
)
def test_binary_policy_decides_the_files_locked(
    cli: CLI, tmp_path: Path, index: PackageIndex, case: tuple[tuple[str, ...], bool, bool]
) -> None:
    flags, wheel, sdist = case
    project = write_project(tmp_path, ["alpha"], requires_python=">=3.11")
    pylock = _lock(cli, project, index, "--target", "host", *flags)
    (alpha,) = pylock.packages
    assert bool(alpha.wheels) is wheel
    assert (alpha.sdist is not None) is sdist
    recorded = (pylock.tool or {})["tumbler"]
    check = ("lock", project, "--index-url", index.url, "--exclude-newer", DATE, "--check")
    assert cli(*check, *flags).code == 0
    if recorded.get("no-binary") or recorded.get("only-binary"):
        drift = cli(*check)
        assert drift.code == 1
        assert "binary changed from" in drift.out


def test_only_binary_refuses_a_package_with_only_an_sdist(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["sdist-only"], requires_python=">=3.11")
    (tmp_path / "pylock.toml").write_text("# kept\n")
    run = cli("lock", project, "--index-url", index.url, "--target", "host", "--no-build")
    assert run.code == 2
    assert "sdists not allowed (--only-binary)" in run.err
    assert (tmp_path / "pylock.toml").read_text() == "# kept\n"


def test_an_environment_naming_an_operating_system_needs_one_of_its_machines(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    """``sys_platform == 'win32'`` asks for Windows, not for every Windows machine:
    amd64only has no ARM64 wheel, so that machine is left out and said; asking for
    Windows on ARM64 by name is an error."""
    project = write_project(tmp_path, ["amd64only"], requires_python=">=3.13")
    base = ("lock", project, "--index-url", index.url, "--exclude-newer", DATE)
    windows = cli(*base, "--environment", "sys_platform == 'win32'")
    assert windows.code == 0, windows.err
    assert "left out windows-arm64 (Python 3.13 to 3.15)" in windows.err
    pylock = read(project.parent / "pylock.toml")
    assert [str(m).split("platform_machine == ")[1][:7] for m in pylock.environments or ()] == [
        '"AMD64"'
    ]
    arm = cli(*base, "--environment", "sys_platform == 'win32' and platform_machine == 'ARM64'")
    assert arm.code == 2
    assert "cannot lock for windows-arm64-3.15, which the environments select" in arm.err


def test_markers_and_words_for_patch_release_slots() -> None:
    """Slots of one minor version: markers bound them with python_full_version, a whole
    minor still reads python_version, and people read ranges of minor versions."""
    from tumbler.resolver.universal import spoken

    every = grid(SpecifierSet(">=3.10"), today=date(2026, 10, 1), splits=[Version("3.11.3")])
    linux = [t for t in every if t.name.startswith("linux-x86_64")]

    def on(*names: str) -> str | None:
        subset = [t for t in every if t.name.split("-", 2)[2] in names]
        marker = describe(subset, every)
        if marker is not None:
            assert [t for t in every if marker.evaluate(t.environment)] == subset
        return None if marker is None else str(marker)

    assert on("3.10", "3.11") == 'python_full_version < "3.11.3"'
    assert on("3.11.3", "3.12", "3.13", "3.14", "3.15") == 'python_full_version >= "3.11.3"'
    assert on("3.11", "3.11.3") == 'python_version == "3.11"'
    assert on("3.11.3") == 'python_full_version >= "3.11.3" and python_version < "3.12"'
    assert spoken(linux, every) == "linux-x86_64 (Python 3.10 to 3.15)"
    assert spoken([t for t in linux if "3.11" in t.name], every) == "linux-x86_64 (Python 3.11)"
    assert spoken(linux[:2], every) == "linux-x86_64 (Python 3.10, 3.11.0)"
