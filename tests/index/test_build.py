"""Core metadata of source trees and sdists: PEP 643 fast path, real PEP 517 builds, failures.

The projects come from tests.support.pkgindex: their in-tree backend needs no build requirements, so
the isolated builds here never touch an index.
"""

from __future__ import annotations

import io
import tarfile
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest
from packaging.metadata import Metadata

from tests.support.pkgindex import (
    BACKEND_SOURCE,
    Dist,
    build_dists,
    build_sdist,
    core_metadata,
    write_source_tree,
)
from tumbler.errors import InputError
from tumbler.index import build as sourcemeta
from tumbler.index.build import metadata_from_sdist, metadata_from_tree

BETA = Dist(
    "Beta.Pkg",
    "1.0",
    requires_dist=("alpha>=1.0", 'gamma; sys_platform == "win32"'),
    requires_python=">=3.9",
    extras={"fast": ("delta",)},
)
BACKEND = "_backend/tumbler_test_backend.py"


def dynamic_pkg_info(dist: Dist, *fields: str, version: str = "2.2") -> bytes:
    """``dist``'s PKG-INFO at Metadata-Version ``version`` with ``Dynamic: <field>`` lines."""
    lines = core_metadata(dist).decode().splitlines()
    lines[0] = f"Metadata-Version: {version}"
    lines[3:3] = [f"Dynamic: {field}" for field in fields]
    return ("\n".join(lines) + "\n").encode()


def without_dynamic(pkg_info: bytes) -> bytes:
    """What the test backend turns PKG-INFO into: the same without ``Dynamic`` lines."""
    lines = pkg_info.splitlines(keepends=True)
    return b"".join(line for line in lines if not line.startswith(b"Dynamic:"))


def no_build(*_args: object) -> bytes:
    """Stands in for the build step where the fast path must not build."""
    raise AssertionError("built although PKG-INFO was enough")


def with_backend(tree: Path, source: str) -> Path:
    """Replace the tree's in-tree backend with ``source``."""
    (tree / BACKEND).write_text(source, encoding="utf-8")
    return tree


def assert_one_clean_line(error: pytest.ExceptionInfo[InputError], *parts: str) -> str:
    """The error is one line, names every part and carries no traceback."""
    message = str(error.value)
    assert "\n" not in message
    assert "Traceback" not in message
    for part in parts:
        assert part in message, message
    return message


# --- sdists: the PEP 643 fast path ----------------------------------------------------------


def test_static_pkg_info_is_returned_as_is_without_building(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Metadata-Version 2.3 and nothing Dynamic: PKG-INFO itself, byte for byte, no build."""
    monkeypatch.setattr(sourcemeta, "_build_metadata", no_build)
    sdist = build_sdist(BETA, tmp_path)
    assert metadata_from_sdist(sdist) == core_metadata(BETA)
    zipped = build_sdist(BETA, tmp_path, archive_format="zip")
    assert metadata_from_sdist(zipped) == core_metadata(BETA)
    other = dynamic_pkg_info(BETA, "Summary", "Description")  # not a field the resolver needs
    assert metadata_from_sdist(build_sdist(BETA, tmp_path, pkg_info=other)) == other


@pytest.mark.parametrize("archive_format", ["tar.gz", "zip"])
@pytest.mark.parametrize("field", ["Requires-Dist", "requires-python", "Provides-Extra"])
def test_dynamic_resolver_field_forces_a_build(
    tmp_path: Path, archive_format: str, field: str
) -> None:
    """A Dynamic Requires-Dist, Requires-Python or Provides-Extra sends the sdist to its backend."""
    pkg_info = dynamic_pkg_info(BETA, field)
    sdist = build_sdist(
        BETA,
        tmp_path,
        pkg_info=pkg_info,
        archive_format="zip" if archive_format == "zip" else "tar.gz",
    )
    built = metadata_from_sdist(sdist)
    assert built != pkg_info
    assert built == without_dynamic(pkg_info)  # the backend's work: it drops Dynamic
    metadata = Metadata.from_email(built)
    assert [str(r) for r in metadata.requires_dist or []] == list(BETA.all_requires())


@pytest.mark.parametrize("version", ["1.2", "2.1"])
def test_pkg_info_before_pep_643_forces_a_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    """Before Metadata-Version 2.2 nothing is promised static, so the sdist is built."""
    built: list[Path] = []
    real = sourcemeta._build_metadata

    def spy(root: Path, env: Mapping[str, str]) -> bytes:
        built.append(root)
        return real(root, env)

    monkeypatch.setattr(sourcemeta, "_build_metadata", spy)
    pkg_info = dynamic_pkg_info(BETA, version=version)
    assert metadata_from_sdist(build_sdist(BETA, tmp_path, pkg_info=pkg_info)) == pkg_info
    assert [root.name for root in built] == ["beta_pkg-1.0"]
    assert metadata_from_sdist(build_sdist(BETA, tmp_path)) == core_metadata(BETA)
    assert len(built) == 1  # Metadata-Version 2.3, nothing Dynamic: not built


# --- trees ----------------------------------------------------------------------------------


def test_tree_metadata_comes_from_the_hooks(tmp_path: Path) -> None:
    """An unpacked project's METADATA is what prepare_metadata_for_build_wheel wrote."""
    tree = write_source_tree(BETA, tmp_path / "project")
    started = time.monotonic()
    data = metadata_from_tree(tree)
    elapsed = time.monotonic() - started
    assert data == core_metadata(BETA)
    metadata = Metadata.from_email(data)
    assert metadata.name == "Beta.Pkg"
    assert metadata.provides_extra == ["fast"]
    assert str(metadata.requires_python) == ">=3.9"
    assert elapsed < 30, f"an isolated metadata build took {elapsed:.1f}s"
    assert not (tree / "build").exists()


def test_backend_without_prepare_hook_falls_back_to_build_wheel(tmp_path: Path) -> None:
    """Without prepare_metadata_for_build_wheel, build's fallback builds the wheel."""
    tree = write_source_tree(BETA, tmp_path / "project", pkg_info=dynamic_pkg_info(BETA))
    source = BACKEND_SOURCE.replace(
        "def prepare_metadata_for_build_wheel(", "def _not_a_hook_prepare_metadata("
    )
    assert source != BACKEND_SOURCE
    with_backend(tree, source)
    assert metadata_from_tree(tree) == without_dynamic(dynamic_pkg_info(BETA))


def test_subdirectory(tmp_path: Path) -> None:
    """``subdirectory`` picks the project inside a bigger tree; climbing out is refused."""
    write_source_tree(Dist("inner", "0.1"), tmp_path / "repo" / "pkgs" / "inner")
    data = metadata_from_tree(tmp_path / "repo", subdirectory="pkgs/inner")
    assert Metadata.from_email(data).name == "inner"
    for bad in ("../elsewhere", "/abs", ""):
        with pytest.raises(InputError, match="must be a relative path"):
            metadata_from_tree(tmp_path / "repo", subdirectory=bad)
    with pytest.raises(InputError, match="no such project directory"):
        metadata_from_tree(tmp_path / "repo", subdirectory="pkgs/missing")


def test_build_requirements_are_installed_with_the_callers_environment(tmp_path: Path) -> None:
    """``env`` reaches pip: a find-links directory and no index provide the build requirement."""
    links = tmp_path / "links"
    build_dists([Dist("helper-lib", "4.2", sdist=False)], links)
    tree = write_source_tree(BETA, tmp_path / "project", pkg_info=dynamic_pkg_info(BETA))
    pyproject = (tree / "pyproject.toml").read_text()
    (tree / "pyproject.toml").write_text(
        pyproject.replace("requires = []", 'requires = ["helper-lib"]')
    )
    probe = BACKEND_SOURCE.replace(
        "def get_requires_for_build_wheel(config_settings=None):\n    return []",
        "def get_requires_for_build_wheel(config_settings=None):\n"
        "    import helper_lib\n"
        '    assert helper_lib.__version__ == "4.2"\n'
        "    return []",
    )
    assert probe != BACKEND_SOURCE
    with_backend(tree, probe)
    env = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(links)}
    assert metadata_from_tree(tree, env=env) == without_dynamic(dynamic_pkg_info(BETA))
    with pytest.raises(InputError) as missing:
        metadata_from_tree(tree, env={"PIP_NO_INDEX": "1"})
    assert_one_clean_line(missing, str(tree), "helper-lib")


# --- failures -------------------------------------------------------------------------------


def test_broken_backend_is_one_input_error_line(tmp_path: Path) -> None:
    """A backend that raises: the project path and the exception's last line, no traceback."""
    tree = write_source_tree(BETA, tmp_path / "project")
    with_backend(
        tree,
        "def get_requires_for_build_wheel(config_settings=None):\n    return []\n\n"
        "def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):\n"
        '    raise RuntimeError("the backend exploded")\n',
    )
    with pytest.raises(InputError) as error:
        metadata_from_tree(tree)
    assert_one_clean_line(error, str(tree), "RuntimeError: the backend exploded")


def test_missing_backend_module(tmp_path: Path) -> None:
    """A build-backend that cannot be imported is reported, not raised as a traceback."""
    tree = write_source_tree(BETA, tmp_path / "project")
    (tree / BACKEND).unlink()
    with pytest.raises(InputError) as error:
        metadata_from_tree(tree)
    assert_one_clean_line(error, str(tree), "tumbler_test_backend")


def test_backend_hooks_get_no_terminal_and_the_extra_environment(tmp_path: Path) -> None:
    """Hooks read an empty stdin, see GIT_TERMINAL_PROMPT=0 and the caller's ``env``."""
    tree = write_source_tree(BETA, tmp_path / "project")
    with_backend(
        tree,
        "import os, sys\n\n"
        "def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):\n"
        "    report = [os.environ.get('TUMBLER_PROBE'), sys.stdin.read(),\n"
        "              os.environ.get('GIT_TERMINAL_PROMPT'), os.getsid(0) == os.getpid()]\n"
        "    raise RuntimeError(repr(report))\n",
    )
    with pytest.raises(InputError) as error:
        metadata_from_tree(tree, env={"TUMBLER_PROBE": "here"})
    assert_one_clean_line(error, "RuntimeError: ['here', '', '0', True]")


def test_not_a_project(tmp_path: Path) -> None:
    """No pyproject.toml and no setup.py: refused before any build environment is made."""
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"not a Python project \(no pyproject.toml or setup.py\)"):
        metadata_from_tree(tmp_path / "empty")
    with pytest.raises(InputError, match="no such project directory"):
        metadata_from_tree(tmp_path / "missing")


def test_invalid_pyproject(tmp_path: Path) -> None:
    """pyproject.toml that is not TOML, or lacks build-system.requires, is an InputError."""
    tree = write_source_tree(BETA, tmp_path / "project")
    (tree / "pyproject.toml").write_text("[build-system\nrequires = [")
    with pytest.raises(InputError) as error:
        metadata_from_tree(tree)
    assert_one_clean_line(error, str(tree), "pyproject.toml")
    (tree / "pyproject.toml").write_text('[build-system]\nbuild-backend = "x"\n')
    with pytest.raises(InputError) as error:
        metadata_from_tree(tree)
    assert_one_clean_line(error, str(tree), "requires")


def test_unparseable_metadata_from_the_backend(tmp_path: Path) -> None:
    """METADATA whose Version or Requires-Dist does not parse is refused."""
    bad_version = core_metadata(BETA).replace(b"Version: 1.0", b"Version: one point oh")
    tree = write_source_tree(BETA, tmp_path / "a", pkg_info=bad_version)
    with pytest.raises(InputError) as error:
        metadata_from_tree(tree)
    assert_one_clean_line(error, str(tree), "unusable core metadata", "one point oh")
    bad_requirement = core_metadata(BETA) + b"Requires-Dist: alpha >>>= 1\n"
    tree = write_source_tree(BETA, tmp_path / "b", pkg_info=bad_requirement)
    with pytest.raises(InputError) as error:
        metadata_from_tree(tree)
    assert_one_clean_line(error, "unusable core metadata")
    # The same PKG-INFO in an sdist is not trusted by the fast path either: it is built.
    sdist = build_sdist(BETA, tmp_path, pkg_info=bad_requirement)
    with pytest.raises(InputError) as error:
        metadata_from_sdist(sdist)
    assert_one_clean_line(error, str(sdist), "unusable core metadata")


# --- unsafe or broken archives --------------------------------------------------------------


def tar_gz(members: dict[str, bytes]) -> bytes:
    """A gzipped tar of regular files."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """A zip of ``members``, names written as given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name), data)
    return buffer.getvalue()


@pytest.mark.parametrize("absolute", [False, True])
def test_unsafe_members_are_refused(tmp_path: Path, absolute: bool) -> None:
    """Members climbing out with ``..`` or absolute never land outside, in tars and zips."""
    (tmp_path / "work").mkdir()
    outside = tmp_path / "outside" / "evil.py"
    evil = str(outside) if absolute else "../outside/evil.py"
    members = {"pkg-1.0/PKG-INFO": b"Metadata-Version: 2.1\n", evil: b"boom\n"}
    tar_path = tmp_path / "work" / "pkg-1.0.tar.gz"
    tar_path.write_bytes(tar_gz(members))
    with pytest.raises(InputError) as error:
        metadata_from_sdist(tar_path)
    # The tar 'data' filter refuses '..' and strips a leading '/', which then makes a second
    # top-level directory: refused either way.
    message = assert_one_clean_line(error, str(tar_path))
    assert ("cannot unpack the sdist safely" in message) != absolute
    zip_path = tmp_path / "work" / "pkg-1.0.zip"
    zip_path.write_bytes(zip_bytes(members))
    with pytest.raises(InputError) as error:
        metadata_from_sdist(zip_path)
    assert_one_clean_line(error, str(zip_path), "unsafe path", evil)
    assert not outside.exists()


def test_archive_shape_and_kind_errors(tmp_path: Path) -> None:
    """Two top-level directories, a corrupt archive, an unknown suffix, a missing file."""
    two_tops = tmp_path / "two-1.0.tar.gz"
    two_tops.write_bytes(tar_gz({"a/PKG-INFO": b"x", "b/PKG-INFO": b"y"}))
    with pytest.raises(InputError, match="exactly one top-level directory"):
        metadata_from_sdist(two_tops)
    corrupt = tmp_path / "corrupt-1.0.tar.gz"
    corrupt.write_bytes(b"\x1f\x8b\x08 not really gzip")
    with pytest.raises(InputError, match="not a readable sdist"):
        metadata_from_sdist(corrupt)
    bad_zip = tmp_path / "corrupt-1.0.zip"
    bad_zip.write_bytes(b"PK not a zip")
    with pytest.raises(InputError, match="not a readable sdist"):
        metadata_from_sdist(bad_zip)
    wheel = tmp_path / "x-1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    with pytest.raises(InputError, match=r"not an sdist \(expected .tar.gz or .zip\)"):
        metadata_from_sdist(wheel)
    with pytest.raises(InputError, match="no such sdist file"):
        metadata_from_sdist(tmp_path / "missing-1.0.tar.gz")
