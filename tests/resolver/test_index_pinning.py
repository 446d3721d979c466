"""Index pinning and dependency-confusion protection, on two real loopback indexes.

``common`` is on both: 1.0 on the default index, 2.0 on the extra one; ``private-lib``
1.0 is the company's own, on the internal index, and the public index serves the same
name at 9.0 (an attacker's higher version).
"""

from __future__ import annotations

import tomllib
from typing import TYPE_CHECKING

import pytest

from tests.support.lockfixtures import write_project
from tests.support.pkgindex import Dist, build_dists, serve_json_index

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.conftest import CLI
    from tests.support.pkgindex import PackageIndex

PUBLIC = (
    Dist("common", "1.0"),
    Dist("uses-common", "1.0", requires_dist=("common",)),
    Dist("private-lib", "9.0"),
)
INTERNAL = (Dist("common", "2.0"), Dist("private-lib", "1.0"), Dist("private-cli", "0.5"))

pytestmark = pytest.mark.usefixtures("lock_env")


def _serve(factory: pytest.TempPathFactory, dists: tuple[Dist, ...]) -> Iterator[PackageIndex]:
    directory = factory.mktemp("dists")
    build_dists(dists, directory)
    with serve_json_index(directory, dists) as served:
        yield served


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackageIndex]:
    yield from _serve(tmp_path_factory, PUBLIC)


@pytest.fixture(scope="module")
def internal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackageIndex]:
    yield from _serve(tmp_path_factory, INTERNAL)


def _entries(lock: Path) -> dict[str, tuple[str, str]]:
    document = tomllib.loads(lock.read_text(encoding="utf-8"))
    return {p["name"]: (p["version"], p["index"] + "/") for p in document["packages"]}


def _lock(cli: CLI, project: Path, *args: str) -> dict[str, tuple[str, str]]:
    run = cli("lock", project, "--target", "host", "-q", *args)
    assert run.code == 0, run.err
    return _entries(project.parent / "pylock.toml")


def test_a_name_comes_from_the_first_index_that_has_it(
    cli: CLI, tmp_path: Path, public: PackageIndex, internal: PackageIndex
) -> None:
    """The extra index's higher ``common`` 2.0 is never taken over the default's 1.0."""
    project = write_project(tmp_path, ["uses-common", "private-cli"])
    found = _lock(cli, project, "--index-url", public.url, "--extra-index-url", internal.url)
    assert found["common"] == ("1.0", public.url)
    assert found["private-cli"] == ("0.5", internal.url)


def test_a_pinned_private_name_is_never_taken_from_the_public_index_and_audit_flags_one_that_was(
    cli: CLI, tmp_path: Path, public: PackageIndex, internal: PackageIndex
) -> None:
    """Unpinned, the public index (first) serves ``private-lib`` 9.0: the confusion the
    pin prevents. Pinned, the lock takes the internal 1.0; audit, given the pin (the
    project's, beside the lock), flags the lock that took the public one (P1)."""
    plain = f'index-url = "{public.url}"\nextra-index-url = ["{internal.url}"]'
    project = write_project(tmp_path, ["private-lib"], tool=plain)
    assert _lock(cli, project)["private-lib"] == ("9.0", public.url)
    pinned = plain + f'\n[tool.tumbler.package-index]\n"private-*" = "{internal.url}"'
    write_project(tmp_path, ["private-lib"], tool=pinned)
    audit = cli("audit", tmp_path / "pylock.toml")
    assert audit.code == 1
    assert f"private-lib 9.0 comes from {public.url.rstrip('/')}, but it is pinned to" in audit.out
    assert "P1" in audit.out
    assert _lock(cli, project, "--upgrade")["private-lib"] == ("1.0", internal.url)
    assert cli("audit", tmp_path / "pylock.toml").code == 0


def test_a_pinned_name_comes_only_from_its_index(
    cli: CLI, tmp_path: Path, public: PackageIndex, internal: PackageIndex
) -> None:
    tool = f'index-url = "{public.url}"\n[tool.tumbler.package-index]\ncommon = "{internal.url}"'
    project = write_project(tmp_path, ["uses-common"], tool=tool)
    assert _lock(cli, project)["common"] == ("2.0", internal.url)


def test_a_glob_pattern_pins_names_to_a_named_index(
    cli: CLI, tmp_path: Path, public: PackageIndex, internal: PackageIndex
) -> None:
    tool = (
        f'index-url = "{public.url}"\n'
        f'[[tool.tumbler.index]]\nname = "internal"\nurl = "{internal.url}"\n'
        '[tool.tumbler.package-index]\n"Private_*" = "internal"'
    )
    project = write_project(tmp_path, ["uses-common", "private-lib", "private-cli"], tool=tool)
    found = _lock(cli, project)
    assert found["private-lib"] == ("1.0", internal.url)
    assert found["private-cli"] == ("0.5", internal.url)
    assert found["common"] == ("1.0", public.url)  # the named index is searched for pins only
    recorded = tomllib.loads((tmp_path / "pylock.toml").read_text())["tool"]["tumbler"]
    assert recorded["package-indexes"] == {"private-*": internal.url}


def test_a_pinned_name_missing_from_its_index_is_not_taken_elsewhere(
    cli: CLI, tmp_path: Path, public: PackageIndex, internal: PackageIndex
) -> None:
    tool = f'index-url = "{internal.url}"\n[tool.tumbler.package-index]\nuses-common = "{internal.url}"'
    project = write_project(tmp_path, ["uses-common"], tool=tool)
    run = cli("lock", project, "--target", "host", "--extra-index-url", public.url)
    assert run.code == 2
    assert "uses-common" in run.err
    assert not (tmp_path / "pylock.toml").exists()


@pytest.mark.parametrize(
    ("tool", "message"),
    [
        ('[tool.tumbler.package-index]\nx = "internal"', "neither a URL nor a named index"),
        ("[[tool.tumbler.index]]\nname = 3", r"index\[0\]: expected"),
    ],
)
def test_a_bad_pin_is_one_clear_error(cli: CLI, tmp_path: Path, tool: str, message: str) -> None:
    import re

    project = write_project(tmp_path, ["common"], tool=tool)
    run = cli("lock", project, "--target", "host")
    assert run.code == 2
    assert len(run.err.strip().splitlines()) == 1 and re.search(message, run.err), run.err


def test_install_refuses_a_pinned_package_from_another_index(
    cli: CLI, tmp_path: Path, public: PackageIndex, internal: PackageIndex
) -> None:
    """The lock pins ``common`` to the internal index; an entry edited to take it from the
    public one (its index and file URL) is refused before anything is fetched."""
    tool = f'index-url = "{public.url}"\n[tool.tumbler.package-index]\ncommon = "{internal.url}"'
    project = write_project(tmp_path, ["uses-common"], tool=tool)
    assert _lock(cli, project)["common"] == ("2.0", internal.url)
    lock = tmp_path / "pylock.toml"
    venv = tmp_path / "venv"
    assert cli("install", lock, "--venv", venv, "-q").code == 0
    text = lock.read_text(encoding="utf-8")
    inside, outside = internal.url.rstrip("/"), public.url.rstrip("/")
    moved = text.replace(f'index = "{inside}"', f'index = "{outside}"')
    moved = moved.replace(internal.files_url, public.files_url)
    assert f'common = "{internal.url}"' in moved  # the pin itself stays
    lock.write_text(moved, encoding="utf-8")
    run = cli("install", lock, "--venv", tmp_path / "other-venv")
    assert run.code == 2
    assert "pinned packages would come from another index" in run.err
    assert f"common: pinned to {internal.url}, but its entry names {outside}" in run.err
    assert not (tmp_path / "other-venv").exists()
