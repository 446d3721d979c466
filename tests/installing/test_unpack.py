"""Staging in the unpacking workers inflates with zlib-ng (issue 23): the same staged tree,
byte for byte, as the standard zlib gives; a damaged member is still refused; and only the
worker processes switch, never the command's own."""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.support.pkgindex import Dist, build_wheel
from tumbler.installing.unpack import stage, staged
from tumbler.installing.workers import Workers

pytestmark = pytest.mark.skipif(
    sys.implementation.name != "cpython", reason="zlib-ng is a dependency on CPython only"
)


def _big_wheel(directory: Path) -> tuple[Path, str]:
    """A wheel whose members need many inflate calls (megabytes, some barely compressible)
    and its sha256."""
    rng = random.Random(23)
    noisy = "".join(rng.choice("0123456789abcdef") for _ in range(1_500_000))
    repetitive = "def f(x):\n    return x + 1\n" * 60_000
    dist = Dist(
        "bulky",
        "1.0",
        modules=(("bulky/noisy.py", f"DATA = {noisy!r}\n"), ("bulky/plain.py", repetitive)),
    )
    directory.mkdir(parents=True, exist_ok=True)
    wheel = build_wheel(dist, directory)
    return wheel, hashlib.sha256(wheel.read_bytes()).hexdigest()


def _tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _without_times(files: list[list[object]]) -> list[list[object]]:
    return [entry[:5] for entry in files]


def test_the_command_process_keeps_zlib_and_the_switch_is_to_zlib_ng() -> None:
    code = (
        "import zipfile\n"
        "import tumbler.installing.unpack as unpack\n"
        "before = zipfile.zlib.__name__\n"
        "switched = unpack.inflate_with_zlib_ng()\n"
        "print(before, switched, zipfile.zlib.__name__, zipfile.crc32.__module__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.split() == ["zlib", "True", "zlib_ng.zlib_ng", "zlib_ng.zlib_ng"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/<pid>/maps: Linux")
def test_a_worker_stages_byte_for_byte_what_the_standard_zlib_stages(tmp_path: Path) -> None:
    wheel, digest = _big_wheel(tmp_path / "wheels")
    assert getattr(zipfile, "zlib").__name__ == "zlib"  # noqa: B009 - here, the standard one
    by_zlib = stage(wheel, tmp_path / "zlib", "sha256", digest)
    with Workers(1) as workers:
        by_worker = workers.stage(wheel, tmp_path / "worker", "sha256", digest)
        pid = workers._processes[0].pid  # which libraries the worker loaded
        maps = Path(f"/proc/{pid}/maps").read_text(encoding="utf-8")
    assert "zlib_ng" in maps, "the worker did not load zlib-ng"
    files = by_zlib.manifest["files"]
    assert _without_times(by_worker.manifest["files"]) == _without_times(files)
    assert {entry[1] for entry in files} >= {"bulky/noisy.py", "bulky/plain.py"}
    assert _tree(by_worker.root / "tree") == _tree(by_zlib.root / "tree")


def test_a_damaged_member_is_refused_by_the_worker(tmp_path: Path) -> None:
    wheel, _ = _big_wheel(tmp_path / "wheels")
    data = bytearray(wheel.read_bytes())
    with zipfile.ZipFile(wheel) as archive:
        info = archive.getinfo("bulky/plain.py")
    name_length = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_length = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_length + extra_length
    middle = start + info.compress_size // 2
    data[middle] ^= 0xFF  # the zip's directory is intact: only inflating finds out
    wheel.write_bytes(bytes(data))
    digest = hashlib.sha256(data).hexdigest()
    with Workers(1) as workers, pytest.raises(ValueError) as refused:
        workers.stage(wheel, tmp_path / "cache", "sha256", digest)
    assert str(refused.value)
    assert staged(tmp_path / "cache", "sha256", digest) is None
    assert not list((tmp_path / "cache").rglob(".stage-*")), "a scratch tree was left behind"
