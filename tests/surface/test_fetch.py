"""Surfaces end to end: lock --surface from a real local index, check, diff, tumbler surface.

The index is the real pypiserver (HTML, HTTP range requests, no metadata files) serving
wheels built here; a plain file server that ignores ``Range`` covers the whole-download path.
"""

from __future__ import annotations

import json
import random
import threading
import time
import tomllib
from typing import TYPE_CHECKING

import pytest

from tests.support.fileserver import serve
from tests.support.lockfixtures import write_project
from tests.support.pkgindex import Dist, build_dists, run_pypiserver
from tumbler.errors import InputError
from tumbler.net.cache import Cache
from tumbler.net.http import Http
from tumbler.net.store import Store
from tumbler.surface.fetch import (
    SurfaceStats,
    WheelRef,
    _Job,
    _Parsers,
    choose_wheel,
    read_surfaces,
)
from tumbler.surface.members import WheelSources, analyse

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.conftest import CLI, Run
    from tests.support.pkgindex import PackageIndex

pytestmark = pytest.mark.usefixtures("lock_env")

_ASYNC_V1 = '''\
"""An async client."""

async def fetch(url: str, timeout: float = 10.0) -> bytes:
    """Fetch ``url``."""
    return b""


class Session:
    async def close(self) -> None: ...
'''
_ASYNC_V2 = '''\
"""An async client, version 2."""
from typing import AsyncIterator

async def fetch(url: str, *, timeout: float = 10.0, retries: int = 0) -> bytes:
    return b""


async def stream(url: str) -> AsyncIterator[bytes]:
    yield b""


class Session:
    async def aclose(self) -> None: ...
'''
_RECORDS = """\
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Point:
    x: int
    y: int = 0
    tags: list[str] = field(default_factory=list)


def origin() -> Point:
    return Point(0)
"""
#: Not Python: what a range read skips (random, so it does not compress away).
_BLOB = random.Random(7).randbytes(300_000).hex()

DISTS = (
    Dist("async-client", "1.0", modules=(("async_client/__init__.py", _ASYNC_V1),)),
    Dist("async-client", "2.0", modules=(("async_client/__init__.py", _ASYNC_V2),)),
    Dist(
        "record-kit",
        "1.0",
        modules=(
            ("record_kit/__init__.py", _RECORDS),
            ("record_kit/py.typed", ""),
            ("record_kit/tables.dat", _BLOB),
            ("record_tools/__init__.py", "from record_kit import Point as Point\n"),
        ),
    ),
)


@pytest.fixture(scope="module")
def surface_dists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("surface-dists")
    build_dists(DISTS, directory)
    return directory


@pytest.fixture(scope="module")
def surface_index(surface_dists: Path) -> Iterator[PackageIndex]:
    with run_pypiserver(surface_dists, dists=DISTS) as served:
        yield served


def _lock(cli: CLI, project: Path, index: PackageIndex, *args: str) -> Run:
    return cli("lock", project, "--index-url", index.url, "--quiet", *args)


def _surface_of(path: Path) -> dict[str, dict[str, object]]:
    data = tomllib.loads(path.read_text())
    out = {}
    for package in data["packages"]:
        for entry in package.get("tool", {}).get("tumbler", {}).get("surface", []):
            out[f"{package['name']}:{entry['import']}"] = entry
    return out


def test_lock_surface_records_read_back_and_check_passes(
    cli: CLI, tmp_path: Path, surface_index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["async-client==1.0", "record-kit"])
    run = _lock(cli, project, surface_index, "--surface")
    assert run.code == 0, run.err
    lock = tmp_path / "pylock.toml"
    entries = _surface_of(lock)
    assert sorted(entries) == [
        "async-client:async_client",
        "record-kit:record_kit",
        "record-kit:record_tools",
    ]
    assert entries["async-client:async_client"]["capabilities"] == ["async"]
    assert entries["record-kit:record_kit"]["capabilities"] == ["dataclass", "list"]
    assert "capabilities" in entries["record-kit:record_tools"]  # re-exports a record class
    text = lock.read_text()
    assert "surface-version = 1" in text
    assert '{ import = "async_client", sha256 = "' in text  # spec order: import, sha256, ...
    # Read back: validate (packaging.pylock loads it) and the gate both accept it.
    assert cli("validate", lock).code == 0
    check = _lock(cli, project, surface_index, "--surface", "--check")
    assert check.code == 0, check.out + check.err
    # Written through the settings too, the same lock.
    settings = write_project(
        tmp_path / "settings", ["async-client==1.0", "record-kit"], tool="surface = true"
    )
    assert _lock(cli, settings, surface_index).code == 0
    assert _surface_of(tmp_path / "settings" / "pylock.toml") == entries


def test_a_drifted_surface_is_reported_as_exactly_its_lines(
    cli: CLI, tmp_path: Path, surface_index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["async-client==1.0", "record-kit"])
    assert _lock(cli, project, surface_index, "--surface").code == 0
    lock = tmp_path / "pylock.toml"
    text = lock.read_text()
    digest = _surface_of(lock)["record-kit:record_kit"]["sha256"]
    assert isinstance(digest, str)
    flipped = digest[:-1] + ("0" if digest[-1] != "0" else "1")
    text = text.replace(digest, flipped)
    text = text.replace(
        '{ import = "async_client", ',
        '{ import = "ghost" },\n    { import = "async_client", ',
    )
    lock.write_text(text)
    check = cli("lock", project, "--index-url", surface_index.url, "--surface", "--check")
    assert check.code == 1
    content = check.out.split("content changed:\n", 1)[1].split("\nrun 'tumbler lock'")[0]
    assert content.splitlines() == [
        "  changed record-kit:record_kit (surface-sha256)",
        "  removed async-client:ghost",
    ]
    report = json.loads(
        cli(
            "lock",
            project,
            "--index-url",
            surface_index.url,
            "--surface",
            "--check",
            "--format",
            "json",
        ).out
    )
    assert report["inputs"] == []
    assert report["content"] == [
        {"kind": "changed", "subject": "record-kit:record_kit", "fields": ["surface-sha256"]},
        {"kind": "removed", "subject": "async-client:ghost", "fields": []},
    ]


def test_check_without_surface_says_the_record_would_go(
    cli: CLI, tmp_path: Path, surface_index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["record-kit"])
    assert _lock(cli, project, surface_index, "--surface").code == 0
    check = cli("lock", project, "--index-url", surface_index.url, "--check")
    assert check.code == 1
    assert (
        "the lock records API surfaces (surface-version 1) but this run does not: "
        "pass --surface or set surface = true in [tool.tumbler]"
    ) in check.out
    assert "removed record-kit:record_kit" in check.out


def test_diff_reports_surface_entries_and_diff_surface_lists_names(
    cli: CLI, tmp_path: Path, surface_index: PackageIndex
) -> None:
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    old = write_project(old_dir, ["async-client==1.0"])
    new = write_project(new_dir, ["async-client==2.0"])
    assert _lock(cli, old, surface_index, "--surface").code == 0
    assert _lock(cli, new, surface_index, "--surface").code == 0
    run = cli("diff", old_dir / "pylock.toml", new_dir / "pylock.toml")
    assert run.code == 1
    assert "changed async-client:async_client (surface-sha256,capabilities: +stream)" in run.out
    names = cli("diff", "--surface", old_dir / "pylock.toml", new_dir / "pylock.toml")
    section = names.out.split("Public names\n", 1)[1]
    assert section.splitlines() == [
        "async-client 1.0 → 2.0",
        "  async-client:async_client: +2 -1 ~1",
        "    + async_client.Session.aclose method async (self) -> None",
        "    + async_client.stream function async (url: str) -> typing.AsyncIterator[bytes]",
        "    - async_client.Session.close method async (self) -> None",
        "    ~ async_client.fetch function async "
        "(url: str, *, timeout: float = ..., retries: int = ...) -> bytes",
        "      was async_client.fetch function async (url: str, timeout: float = ...) -> bytes",
    ]
    as_json = json.loads(
        cli(
            "diff",
            "--surface",
            "--format",
            "json",
            old_dir / "pylock.toml",
            new_dir / "pylock.toml",
        ).out
    )
    [upgrade] = as_json["names"]
    assert upgrade["imports"][0]["removed"] == [
        "async_client.Session.close method async (self) -> None"
    ]
    assert as_json["surfaces"][0]["fields"] == ["surface-sha256", "capabilities"]


def test_surface_command_shows_names_tokens_and_skips(
    cli: CLI, surface_index: PackageIndex
) -> None:
    run = cli("surface", "record-kit", "--index-url", surface_index.url)
    assert run.code == 0, run.err
    assert "record-kit:record_kit" in run.out
    assert "  capabilities:   dataclass, list" in run.out
    assert "    record_kit.Point class @dataclass" in run.out
    report = json.loads(
        cli(
            "surface", "async-client==1.0", "--index-url", surface_index.url, "--format", "json"
        ).out
    )
    assert report["version"] == "1.0"
    [entry] = report["imports"]
    assert entry["key"] == "async-client:async_client"
    assert entry["capabilities"] == ["async"]
    assert [s["line"] for s in entry["symbols"]][:2] == [
        "async_client module",
        "async_client.Session class",
    ]
    missing = cli("surface", "no-such-thing", "--index-url", surface_index.url)
    assert missing.code == 2
    assert "no-such-thing: not found on the index" in missing.err


def test_surface_command_on_a_wheel_file_shows_skips(
    cli: CLI, tmp_path: Path, surface_dists: Path
) -> None:
    from tests.support.pkgindex import build_wheel

    dist = Dist(
        "mixed",
        "1.0",
        modules=(
            ("mixed/__init__.py", "__all__ = ['ghost']\n"),
            ("mixed/fast.cpython-311-x86_64-linux-gnu.so", "\x7fELF"),
        ),
    )
    path = build_wheel(dist, tmp_path)
    run = cli("surface", path)
    assert run.code == 0, run.err
    assert "    mixed.ghost: listed in __all__ but not defined" in run.out
    assert "    mixed.fast: compiled module with no .pyi stub or .py source" in run.out


# --- fetching ----------------------------------------------------------------------------------


def _record_kit(index: PackageIndex) -> WheelRef:
    name = "record_kit-1.0-py3-none-any.whl"
    return WheelRef("record-kit", name, url=index.file_url(name), sha256=index.sha256(name))


def test_range_requests_fetch_only_the_python_members(
    tmp_path: Path, surface_index: PackageIndex, surface_dists: Path
) -> None:
    ref = _record_kit(surface_index)
    size = (surface_dists / ref.filename).stat().st_size
    stats = SurfaceStats()
    http = Http(cache=Cache(tmp_path / "cache"))
    try:
        found = read_surfaces([ref], http, Cache(tmp_path / "cache"), stats=stats)
    finally:
        http.close()
    assert [s.key for s in found[ref]] == ["record-kit:record_kit", "record-kit:record_tools"]
    assert stats.whole == size > 300_000
    assert 0 < stats.received < 100_000  # the tail with the central directory, and the .py files


def test_without_range_support_the_whole_file_is_read_checked_and_stored(
    tmp_path: Path, surface_dists: Path, surface_index: PackageIndex
) -> None:
    ref = _record_kit(surface_index)
    cache = Cache(tmp_path / "cache")
    stats = SurfaceStats()
    with serve(surface_dists) as server:
        plain = WheelRef(
            ref.distribution, ref.filename, url=server.url(ref.filename), sha256=ref.sha256
        )
        http = Http(cache=cache)
        try:
            found = read_surfaces([plain], http, cache, stats=stats)
        finally:
            http.close()
    assert [s.key for s in found[plain]] == ["record-kit:record_kit", "record-kit:record_tools"]
    size = (surface_dists / ref.filename).stat().st_size
    assert stats.received == stats.whole == size
    assert ref.sha256 is not None
    assert Store(cache).lookup({"sha256": ref.sha256}) is not None  # install reuses it
    # A file that is not what the lock says is refused, not read.
    with serve(surface_dists) as server:
        bad = WheelRef(
            ref.distribution, ref.filename, url=server.url(ref.filename), sha256="0" * 64
        )
        http = Http(cache=Cache(tmp_path / "other"))
        try:
            with pytest.raises(Exception, match="does not match the lock's sha256"):
                read_surfaces([bad], http, Cache(tmp_path / "other"))
        finally:
            http.close()


def test_results_are_cached_by_file_hash(tmp_path: Path, surface_index: PackageIndex) -> None:
    ref = _record_kit(surface_index)
    cache = Cache(tmp_path / "cache")
    http = Http(cache=cache)
    try:
        first = read_surfaces([ref], http, cache)
    finally:
        http.close()
    stats = SurfaceStats()
    offline = Http(cache=cache, offline=True)  # any network use would raise
    try:
        again = read_surfaces([ref], offline, cache, stats=stats)
    finally:
        offline.close()
    assert again[ref] == first[ref]
    assert (stats.cached, stats.received) == (1, 0)


def test_the_wheel_read_is_the_pure_one_else_the_targets_best() -> None:
    from packaging.pylock import Package, PackageWheel
    from packaging.tags import Tag
    from packaging.utils import canonicalize_name

    def wheel(name: str) -> PackageWheel:
        return PackageWheel(name=name, url=f"https://example.com/{name}", hashes={"sha256": "00"})

    linux = wheel("x-1.0-cp312-cp312-manylinux_2_17_x86_64.whl")
    mac = wheel("x-1.0-cp312-cp312-macosx_11_0_arm64.whl")
    pure = wheel("x-1.0-py3-none-any.whl")
    tags = [Tag("cp312", "cp312", "macosx_11_0_arm64")]
    assert (
        choose_wheel(Package(name=canonicalize_name("x"), wheels=[linux, mac, pure]), [tags])
        is pure
    )
    assert choose_wheel(Package(name=canonicalize_name("x"), wheels=[linux, mac]), [tags]) is mac
    assert (
        choose_wheel(Package(name=canonicalize_name("x"), wheels=[mac, linux]), []) is mac
    )  # first by name
    assert choose_wheel(Package(name=canonicalize_name("x"), sdist=None), [tags]) is None


def test_lock_notes_what_surfaces_cost_and_a_warm_lock_reads_nothing(
    cli: CLI, tmp_path: Path, surface_index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["record-kit"])
    first = cli("lock", project, "--index-url", surface_index.url, "--surface")
    assert "surface: read 1 wheel (0 cached), fetched" in first.err
    (tmp_path / "pylock.toml").unlink()
    second = cli("lock", project, "--index-url", surface_index.url, "--surface")
    assert second.code == 0
    assert "surface:" not in second.err
    assert _surface_of(tmp_path / "pylock.toml")["record-kit:record_kit"]["capabilities"] == [
        "dataclass",
        "list",
    ]


def test_surface_command_errors_are_one_line(cli: CLI, tmp_path: Path) -> None:
    for argument in ("bad name!!", str(tmp_path / "none-1.0-py3-none-any.whl")):
        run = cli("surface", argument, "--offline")
        assert run.code == 2
        assert len(run.err.strip().splitlines()) == 1, run.err


def _sources(name: str, lines: int) -> WheelSources:
    module = f"{name}/__init__.py"
    body = "".join(f"def f{i}(x: int) -> int: ...\n" for i in range(lines))
    return WheelSources(name, [module], {module: body.encode()}, {})


def test_a_free_worker_takes_the_biggest_wheel_that_has_arrived() -> None:
    # One worker: the first wheel is handed over alone; the others arrive while the worker
    # is still starting, and go by source bytes, biggest first, not by arrival.
    wheels = [_sources("first", 50), _sources("small", 1), _sources("big", 400)]
    wheels.append(_sources("middle", 100))
    finished: list[str] = []
    with _Parsers(len(wheels), workers=1) as parsers:
        for index, wheel in enumerate(wheels):
            parsers.submit(_Job(WheelRef(wheel.distribution, "x.whl"), stub_only=False), wheel)
            deadline = time.monotonic() + 30
            while index == 0 and parsers._waiting and time.monotonic() < deadline:
                time.sleep(0.001)  # until the feeder has given it to the pool
        for job, future in parsers._pending:
            name = job.ref.distribution
            future.add_done_callback(lambda _, name=name: finished.append(name))
        done = parsers.results()
    assert finished == ["first", "big", "middle", "small"]
    # Each result stays with its own job, in the order they were given.
    assert [job.ref.distribution for job, _ in done] == ["first", "small", "big", "middle"]
    for (_, result), wheel in zip(done, wheels, strict=True):
        assert result == analyse(wheel)


def test_a_wheel_that_fails_in_a_worker_fails_the_results_not_hangs() -> None:
    good = _sources("good", 3)
    # Its member was not read; with no bytes it is the last handed over, so by the time it
    # fails every other wheel is done.
    broken = WheelSources("broken", ["broken/__init__.py"], {}, {})
    with _Parsers(3, workers=1) as parsers:
        for wheel in (good, broken, good):
            parsers.submit(_Job(WheelRef(wheel.distribution, "x.whl"), stub_only=False), wheel)
        with pytest.raises(InputError, match=r"broken/__init__\.py was not read"):
            parsers.results()
        assert [f.done() for _, f in parsers._pending] == [True, True, True]


def test_a_killed_worker_fails_the_results_not_hangs() -> None:
    from concurrent.futures.process import BrokenProcessPool

    wheels = [_sources(f"w{i}", 2000) for i in range(6)]
    outcome: list[BaseException | None] = []
    with _Parsers(len(wheels), workers=1) as parsers:
        for wheel in wheels:
            parsers.submit(_Job(WheelRef(wheel.distribution, "x.whl"), stub_only=False), wheel)
        for process in list(parsers._pool._processes.values()):
            process.kill()

        def wait() -> None:
            try:
                parsers.results()
                outcome.append(None)
            except BaseException as error:  # what it was is asserted below
                outcome.append(error)

        waiter = threading.Thread(target=wait, daemon=True)
        waiter.start()
        waiter.join(60)
        assert outcome, "results() still waiting a minute after its worker was killed"
    assert isinstance(outcome[0], BrokenProcessPool)
