"""Surface benchmark: ``tumbler lock --surface`` against a plain ``tumbler lock`` on the same
project, cold and warm, with the bytes the surface pass fetched against whole wheels.

For each project (``bench/projects``) and each mode (plain, ``--surface``):

- **cold**: a new, empty cache directory for every timed run;
- **warm**: the cache filled by one untimed run, the lock deleted before every timed run
  (so the lock is written again and every surface is looked up again).

Both modes lock with the same fixed ``--exclude-newer`` date. The surface run's note
(``surface: read N wheels (C cached), fetched X MB of Y MB``) gives the bytes fetched for
surfaces against the size of the wheels read. The lock files live under ``bench/results/``
(gitignored), never in the repository.

Targets (issue 6): a warm ``lock --surface`` adds under 10% to the warm lock time; a cold
one takes under 2x the cold plain lock. The script prints medians and ratios and exits 0
whether or not the targets are met.

    .venv/bin/python bench/surface_bench.py --projects medium --repeat 3 --cold-repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
PROJECTS = REPO / "bench" / "projects"
RESULTS = REPO / "bench" / "results" / "surface"
TUMBLER = Path(sys.executable).parent / "tumbler"
DATE = "2026-10-01T00:00:00Z"
_NOTE = re.compile(
    r"surface: read (\d+) wheels? \((\d+) cached\), fetched ([\d.]+) MB of ([\d.]+) MB"
)


def _env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUMBLER_", "PIP_", "UV_"))}
    return env | {"TUMBLER_CACHE_DIR": str(cache), "PIP_CONFIG_FILE": os.devnull}


def _cpu() -> float:
    """CPU seconds (user + system) of the waited-for children: tumbler and its workers."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _lock(project: Path, cache: Path, *, surface: bool) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds and stderr of one ``tumbler lock``."""
    (project / "pylock.toml").unlink(missing_ok=True)
    argv = [str(TUMBLER), "lock", str(project), "--exclude-newer", DATE, "--target", "host"]
    if surface:
        argv.append("--surface")
    cpu = _cpu()
    started = time.perf_counter()
    done = subprocess.run(argv, env=_env(cache), capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"tumbler lock failed: {done.stderr.strip().splitlines()[-1:]}")
    return seconds, _cpu() - cpu, done.stderr


def _runs(project: Path, root: Path, *, surface: bool, cold: int, warm: int) -> dict[str, Any]:
    cold_times, cold_cpu, notes = [], [], []
    for i in range(cold):
        cache = root / f"cold-{surface}-{i}"
        seconds, cpu, err = _lock(project, cache, surface=surface)
        cold_times.append(seconds)
        cold_cpu.append(cpu)
        notes.append(err)
        shutil.rmtree(cache, ignore_errors=True)
    cache = root / f"warm-{surface}"
    _lock(project, cache, surface=surface)
    warm_times = [_lock(project, cache, surface=surface)[0] for _ in range(warm)]
    out: dict[str, Any] = {"cold": cold_times, "cold_cpu": cold_cpu, "warm": warm_times}
    match = next((m for n in notes if (m := _NOTE.search(n))), None)
    if match:
        out["wheels"], out["fetched_mb"], out["whole_mb"] = (
            int(match.group(1)),
            float(match.group(3)),
            float(match.group(4)),
        )
    entries = (project / "pylock.toml").read_text().count("{ import = ")
    out["entries"] = entries
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", default="medium", help="comma-separated (default: medium)")
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per mode")
    parser.add_argument("--cold-repeat", type=int, default=2, help="cold runs per mode")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for name in args.projects.split(","):
        work = RESULTS / name
        work.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECTS / name / "pyproject.toml", work / "pyproject.toml")
        with tempfile.TemporaryDirectory(prefix="tumbler-surface-bench-") as temp:
            root = Path(temp)
            print(f"{name}: plain lock", file=sys.stderr)
            plain = _runs(work, root, surface=False, cold=args.cold_repeat, warm=args.repeat)
            print(f"{name}: lock --surface", file=sys.stderr)
            surface = _runs(work, root, surface=True, cold=args.cold_repeat, warm=args.repeat)
        results[name] = {"plain": plain, "surface": surface}
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    cores = os.cpu_count() or 1
    print("| project | plain cold | surface cold | ratio | cold CPU plain / surface "
          "| plain warm | surface warm | added | entries | fetched / whole wheels |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    floors = []
    for name, row in results.items():
        plain, surface = row["plain"], row["surface"]
        pc = statistics.median(plain["cold"])
        sc = statistics.median(surface["cold"])
        pw = statistics.median(plain["warm"])
        sw = statistics.median(surface["warm"])
        share = (
            f"{surface['fetched_mb']} / {surface['whole_mb']} MB "
            f"({100 * float(surface['fetched_mb']) / float(surface['whole_mb']):.0f}%)"
            if "whole_mb" in surface
            else "n/a"
        )
        pcpu = statistics.median(plain["cold_cpu"])
        scpu = statistics.median(surface["cold_cpu"])
        print(
            f"| {name} | {pc:.2f} s | {sc:.2f} s | {sc / pc:.1f}x | {pcpu:.2f} / {scpu:.2f} s "
            f"| {pw:.2f} s | {sw:.2f} s | {100 * (sw - pw) / pw:+.0f}% | {surface['entries']} "
            f"| {share} |"
        )
        floors.append(
            f"{name}: the cold --surface run needs {scpu:.2f} CPU s, so on {cores} cores it "
            f"cannot take less than {scpu / cores:.2f} s ({scpu / cores / pc:.1f}x the plain "
            "cold lock) however well it overlaps"
        )
    print("\ntargets: warm adds under 10%; cold under 2x the plain cold lock")
    print("\n".join(floors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
