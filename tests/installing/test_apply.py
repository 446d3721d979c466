"""Staging wheels in the cache (installer into a staging tree), linking them into an
environment, and all-or-nothing apply: a failure undoes every file and restores what was
replaced."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.pkgindex import Dist, build_wheel
from tumbler.env.interpreter import inspect_python
from tumbler.installing.apply import InstallFailed, Ready, apply_plan
from tumbler.installing.installed import find_installed
from tumbler.installing.plan import Action, Plan, Step
from tumbler.installing.unpack import Staged, damaged, install_staged, stage, staged
from tumbler.net.cache import Cache


def venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    return path / "bin" / "python"


def staged_wheel(dist: Dist, tmp_path: Path, cache: Path) -> Staged:
    tmp_path.mkdir(parents=True, exist_ok=True)
    wheel = build_wheel(dist, tmp_path)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    return stage(wheel, cache, "sha256", digest)


def listing(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()}


def test_stage_once_then_link_with_record_and_launcher(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    dist = Dist("tool", "1.0", scripts=("tool",))
    first = staged_wheel(dist, tmp_path, cache)
    assert staged(cache, "sha256", first.root.name) == first  # found again by its digest
    assert first.manifest["entry_points"] == [["tool", "tool", "main", "console"]]
    interpreter = inspect_python(venv(tmp_path / "env"))
    written = install_staged(first, interpreter, {"INSTALLER": b"tumbler\n"}, mode="hardlink")
    site = Path(interpreter.scheme["purelib"])
    module = site / "tool" / "__init__.py"
    assert str(module) in written
    assert (
        module.stat().st_ino
        == (first.root / "tree" / "purelib" / "tool" / "__init__.py").stat().st_ino
    )
    record = (site / "tool-1.0.dist-info" / "RECORD").read_text()
    assert (
        "../../../bin/tool,sha256=" in record and "tool-1.0.dist-info/INSTALLER,sha256=" in record
    )
    out = subprocess.run(
        [str(tmp_path / "env" / "bin" / "tool")], capture_output=True, text=True, check=True
    )
    assert out.stdout == "tool 1.0\n"


@pytest.mark.parametrize("mode", ["auto", "copy", "clone"])
def test_an_edit_to_an_installed_file_never_reaches_the_cache(tmp_path: Path, mode: str) -> None:
    """The default (a copy-on-write clone where the file system has one, else a copy):
    appending to an installed file leaves the staged file, and the next environment, as
    they were; the staged tree stays undamaged."""
    cache = tmp_path / "cache"
    first = staged_wheel(Dist("tool", "1.0"), tmp_path, cache)
    staged_file = first.root / "tree" / "purelib" / "tool" / "__init__.py"
    before = staged_file.read_bytes()
    one = inspect_python(venv(tmp_path / "one"))
    install_staged(first, one, {"INSTALLER": b"tumbler\n"}, mode=mode)
    installed = Path(one.scheme["purelib"]) / "tool" / "__init__.py"
    assert installed.stat().st_ino != staged_file.stat().st_ino
    with installed.open("ab") as handle:
        handle.write(b"raise SystemExit('edited')\n")
    assert staged_file.read_bytes() == before
    assert damaged(first) == []
    two = inspect_python(venv(tmp_path / "two"))
    install_staged(first, two, {"INSTALLER": b"tumbler\n"}, mode=mode)
    assert (Path(two.scheme["purelib"]) / "tool" / "__init__.py").read_bytes() == before


def test_a_changed_staged_file_is_found_cheaply_or_by_its_hash(tmp_path: Path) -> None:
    """An edit shows by size or time (cheap); one that keeps both shows only by hash."""
    import os

    cache = tmp_path / "cache"
    first = staged_wheel(Dist("tool", "1.0"), tmp_path, cache)
    staged_file = first.root / "tree" / "purelib" / "tool" / "__init__.py"
    stamp = staged_file.stat()
    text = staged_file.read_bytes()
    same_size = text[:-2] + b"#\n"
    staged_file.write_bytes(same_size)
    assert damaged(first) == ["tool/__init__.py"]  # the time moved
    os.utime(staged_file, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert damaged(first) == []  # size and time as staged: the cheap check is fooled
    assert damaged(first, full=True) == ["tool/__init__.py"]
    staged_file.unlink()
    assert damaged(first) == ["tool/__init__.py"]


def test_a_failed_apply_puts_everything_back(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    interpreter = inspect_python(venv(tmp_path / "env"))
    old = staged_wheel(Dist("keepme", "1.0"), tmp_path / "a", cache)
    install_staged(old, interpreter, {"INSTALLER": b"tumbler\n"})
    before = listing(tmp_path / "env")
    installed = find_installed(interpreter.site_dirs)["keepme"]
    good = staged_wheel(Dist("keepme", "2.0"), tmp_path / "b", cache)
    broken = staged_wheel(Dist("other", "1.0"), tmp_path / "c", cache)
    (broken.root / "tree" / "purelib" / "other" / "__init__.py").unlink()  # cannot be linked
    plan = Plan(
        (
            Step(Action.UPGRADE, installed.name, "2.0", "1.0", "wheel", installed=installed),
            Step(Action.ADD, "other", "1.0", None, "wheel"),  # type: ignore[arg-type]
        )
    )
    ready = [Ready(plan.steps[0], good, None), Ready(plan.steps[1], broken, None)]
    with pytest.raises(InstallFailed, match=r"cannot install other 1\.0"):
        apply_plan(plan, ready, interpreter)
    assert listing(tmp_path / "env") == before
    assert str(find_installed(interpreter.site_dirs)["keepme"].version) == "1.0"


def test_interpreter_answers_are_cached_by_fingerprint(tmp_path: Path) -> None:
    python = venv(tmp_path / "env")
    cache = Cache(tmp_path / "cache")
    first = inspect_python(python, cache)
    stored = [p for p in (cache.root / "blob" / "interpreter").rglob("*") if p.is_file()]
    assert len(stored) == 1
    again = inspect_python(python, cache)
    assert again == first
    assert first.is_venv and first.environment["python_version"] == "{}.{}".format(
        *sys.version_info[:2]
    )
    assert Path(first.scheme["scripts"]) == tmp_path / "env" / "bin"


@pytest.mark.parametrize("mode", ["auto", "hardlink"])
def test_two_wheels_writing_the_same_files_at_once_each_leave_whole_files(
    tmp_path: Path, mode: str
) -> None:
    """As mlflow and mlflow-skinny do: both ship ``shared/...``; installed at the same time
    (the apply step's threads), every file ends up whole, from one of them."""
    from concurrent.futures import ThreadPoolExecutor

    cache = tmp_path / "cache"
    files = tuple((f"shared/m{i}.py", f"VALUE = {i}\n" * 50) for i in range(400))
    one = staged_wheel(Dist("one", "1.0", modules=files), tmp_path / "a", cache)
    two = staged_wheel(Dist("two", "1.0", modules=files), tmp_path / "b", cache)
    interpreter = inspect_python(venv(tmp_path / "env"))
    with ThreadPoolExecutor(2) as pool:
        futures = [
            pool.submit(install_staged, w, interpreter, {"INSTALLER": b"t\n"}, mode=mode)
            for w in (one, two)
        ]
        for future in futures:
            future.result()
    site = Path(interpreter.scheme["purelib"])
    for path, text in files:
        assert (site / path).read_text() == text
    assert not list(site.rglob("*.tumbler-tmp"))
