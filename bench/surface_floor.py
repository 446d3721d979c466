"""Surface floor: what reading a project's sources costs in CPU, against what a cold
``lock --surface`` under 2x the plain cold lock leaves for it on this machine.

The cold ``--surface`` run is CPU-bound (``surface_bench.py`` prints its CPU seconds). On
``N`` cores a run that ends within ``2 P`` (``P``: the plain cold lock's wall time) has at
most ``2 P N`` CPU seconds; the plain lock's own CPU and inflating the wheels' members come
off first, and what is left is the **budget** for parsing and reading the sources. This
script measures that budget and, on the same sources in one process (collector paused, as
in tumbler's workers), the CPU of:

- ``ast.parse``: CPython's parser over every source, whole (no surface read at all);
- ``tumbler parse``: what the surface pass parses (function bodies and big displays cut
  first, then ``ast.parse``);
- ``tumbler surface``: the whole surface reading (``wheel_surfaces``), parsing included;
- when installed (they are not tumbler's dependencies): ``tree-sitter`` with
  ``tree-sitter-python`` (parse only); ``ast-serialize``, mypy's Rust parser, with
  ``skip_function_bodies`` (parse only; its output is mypy's private binary form); mypy's
  ``nativeparse`` (that parser plus mypy's compiled reader, giving mypy's own tree).

The budget is generous: it assumes every core works on surfaces from the first instant,
while today the pass starts when the resolution has ended (the second, smaller budget
printed). A parser that alone takes more than the budget cannot give the target, whatever
reads its tree. The project is locked plainly (cold, ``--repeat`` times) first; the wheels
chosen for its surfaces are downloaded once to ``bench/results/surface/wheels/``
(gitignored).

    .venv/bin/python bench/surface_floor.py --project medium
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import gc
import importlib
import os
import statistics
import sys
import tempfile
import time
import tomllib
import urllib.request
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.pylock import Pylock
from packaging.tags import sys_tags

from tumbler.surface.fetch import choose_wheel
from tumbler.surface.members import wanted_members, wheel_surfaces

sys.path.insert(0, str(Path(__file__).resolve().parent))

from surface_bench import PROJECTS, RESULTS, _lock  # a sibling script

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

WHEELS = RESULTS / "wheels"


def _cpu() -> float:
    return time.process_time()


def _timed(work: Callable[[], object]) -> float:
    """CPU seconds of ``work``, the collector paused as in tumbler's workers."""
    gc.collect()
    gc.disable()
    try:
        started = _cpu()
        work()
        return _cpu() - started
    finally:
        gc.enable()


def _wheels(lock: Path) -> list[Path]:
    """The wheel each package's surface is read from, downloaded once."""
    pylock = Pylock.from_dict(tomllib.loads(lock.read_text(encoding="utf-8")))
    targets = [list(sys_tags())]
    WHEELS.mkdir(parents=True, exist_ok=True)
    out = []
    for package in pylock.packages:
        wheel = choose_wheel(package, targets)
        if wheel is None or wheel.url is None:
            continue
        target = WHEELS / wheel.url.rsplit("/", 1)[-1].split("#")[0]
        if not target.exists():
            with urllib.request.urlopen(wheel.url) as response:
                partial = target.with_suffix(".part")
                partial.write_bytes(response.read())
                partial.replace(target)
        out.append(target)
    return out


def _members(wheels: Iterable[Path]) -> list[tuple[str, list[str], dict[str, bytes]]]:
    out = []
    for path in wheels:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            data = {n: archive.read(n) for n in wanted_members(names)}
        out.append((path.name.split("-")[0].lower().replace("_", "-"), names, data))
    return out


def _sources(jobs: list[tuple[str, list[str], dict[str, bytes]]]) -> list[tuple[str, bytes]]:
    return [(n, raw) for _, _, data in jobs for n, raw in data.items()]


def _ast_parse(sources: list[tuple[str, bytes]]) -> None:
    for name, raw in sources:
        with contextlib.suppress(SyntaxError, ValueError):
            ast.parse(raw, filename=name)


def _tumbler_parse(sources: list[tuple[str, bytes]]) -> None:
    from tumbler.surface import pyapi

    for name, raw in sources:
        with contextlib.suppress(SyntaxError, ValueError):
            pyapi._parse(name, raw, stub=name.endswith(".pyi"))


def _surfaces(jobs: list[tuple[str, list[str], dict[str, bytes]]]) -> None:
    for distribution, names, data in jobs:
        wheel_surfaces(distribution, names, data)


def _optional(sources: list[tuple[str, bytes]]) -> list[tuple[str, Callable[[], object] | str]]:
    """Parsers that are not tumbler's dependencies: a timed callable, or why not."""
    out: list[tuple[str, Callable[[], object] | str]] = []
    try:
        import tree_sitter
        import tree_sitter_python

        parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_python.language()))
        out.append(("tree-sitter (parse only)", lambda: [parser.parse(s) for _, s in sources]))
    except ImportError:
        out.append(("tree-sitter (parse only)", "not installed"))
    try:
        import ast_serialize

        def serialize() -> None:
            for name, raw in sources:
                ast_serialize.parse(name, raw, skip_function_bodies=True)

        out.append(("ast-serialize, bodies skipped (parse only)", serialize))
    except ImportError:
        out.append(("ast-serialize, bodies skipped (parse only)", "not installed"))
    try:
        # mypy's internal modules, not a public API: reached untyped so that a mypy that
        # moves them fails this row (ImportError/AttributeError), not the type check.
        cache = importlib.import_module("mypy.cache")
        native = importlib.import_module("mypy.nativeparse")
        options = importlib.import_module("mypy.options").Options()

        def mypy_tree() -> None:
            for name, raw in sources:
                tree, _, _ = native.native_parse(name, options, raw, skip_function_bodies=True)
                data = cache.ReadBuffer(tree.raw_data.defs)
                state = native.State(options, name.endswith(".pyi"))
                native.read_statements(state, data, cache.read_int(data))

        out.append(("mypy nativeparse, bodies skipped (mypy's tree)", mypy_tree))
    except (ImportError, AttributeError):
        out.append(("mypy nativeparse, bodies skipped (mypy's tree)", "not installed"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", default="medium", help="a bench project (default: medium)")
    parser.add_argument("--repeat", type=int, default=3, help="cold plain locks to time")
    args = parser.parse_args()
    work = RESULTS / args.project
    work.mkdir(parents=True, exist_ok=True)
    (work / "pyproject.toml").write_bytes((PROJECTS / args.project / "pyproject.toml").read_bytes())
    walls, cpus = [], []
    with tempfile.TemporaryDirectory(prefix="tumbler-surface-floor-") as temp:
        for i in range(args.repeat):
            wall, cpu, _ = _lock(work, Path(temp) / str(i), surface=False)
            walls.append(wall)
            cpus.append(cpu)
    plain_wall, plain_cpu = statistics.median(walls), statistics.median(cpus)
    wheels = _wheels(work / "pylock.toml")
    jobs: list[tuple[str, list[str], dict[str, bytes]]] = []
    inflate = _timed(lambda: jobs.extend(_members(wheels)))
    sources = _sources(jobs)
    megabytes = sum(len(s) for _, s in sources) / 1e6
    cores = os.cpu_count() or 1
    budget = 2 * plain_wall * cores - plain_cpu - inflate
    print(
        f"{args.project}: plain cold lock {plain_wall:.2f} s wall, {plain_cpu:.2f} CPU s "
        f"(median of {args.repeat}); {len(wheels)} wheels, {len(sources)} sources, "
        f"{megabytes:.1f} MB; inflating them {inflate:.2f} CPU s"
    )
    after = plain_wall * cores - inflate
    print(
        f"budget for parsing and reading under 2x on {cores} cores, every core busy from the "
        f"start: 2 x {plain_wall:.2f} s x {cores} - {plain_cpu:.2f} - {inflate:.2f} = "
        f"{budget:.2f} CPU s; starting when the resolution ends (as now): "
        f"{plain_wall:.2f} s x {cores} - {inflate:.2f} = {after:.2f} CPU s"
    )
    print("\n| reading | CPU s | MB/s | against the budget (from the start) |")
    print("|---|---|---|---|")
    rows: list[tuple[str, Callable[[], object] | str]] = [
        ("ast.parse, whole sources", lambda: _ast_parse(sources)),
        ("tumbler parse (cut, then ast.parse)", lambda: _tumbler_parse(sources)),
        ("tumbler surface (parse and read)", lambda: _surfaces(jobs)),
        *_optional(sources),
    ]
    for name, work_or_why in rows:
        if isinstance(work_or_why, str):
            print(f"| {name} | {work_or_why} | | |")
            continue
        seconds = _timed(work_or_why)
        print(f"| {name} | {seconds:.2f} | {megabytes / seconds:.0f} | {seconds / budget:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
