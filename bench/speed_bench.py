"""Issue 23: the gate, resolver CPU and memory, tumbler side by side with uv.

Run ``python bench/speed_bench.py [--projects medium,large] [--repeat 5] [--json]``.

For each bench project (``bench/projects``) both tools lock once online with the same
``--exclude-newer`` date, each into its own cache (untimed: it fills the caches and writes
the up-to-date locks). Then, interleaved run by run (tumbler, uv, tumbler, uv ...) so that
the machine's noise falls on both, medians of ``--repeat`` runs:

- **check**: ``tumbler lock --check`` against ``uv lock --check``, both on their
  up-to-date universal lock (tumbler's index option points nowhere: the gate must not
  need the network). Two rows for tumbler: *first ask* with its kept verdicts off
  (``TUMBLER_NO_MEMO=1``: the records gate runs), and *asked again*, the run after an
  identical one (answered from the verdict :mod:`tumbler.cli.memo` kept). uv has no such
  memory: both rows hold the same uv runs;
- **single --offline**: one environment, warm cache, no previous lock:
  ``tumbler lock --target host --offline`` against ``uv pip compile --offline``;
- **universal --offline**: ``tumbler lock --universal --offline`` against
  ``uv lock --offline``, previous lock deleted;
- **universal online (CPU)**: the same, online (the pages are fetched again: the index
  serves no caching headers), reported as user+system CPU seconds;
- **peak memory**: the largest resident set of the universal offline runs.

Wall time and CPU come from ``os.wait4`` of each child. The script prints one table per
project with the ratio tumbler/uv per row and exits 0 whatever the ratios (it reports
targets, it does not assert them); 2 when a tool fails.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from usage import run_measured

REPO = Path(__file__).resolve().parent.parent
PROJECTS = REPO / "bench" / "projects"
UV = REPO / "bench" / ".peers" / "uv" / "bin" / "uv"
TUMBLER = REPO / ".venv" / "bin" / "tumbler"
DATE = "2026-10-01T00:00:00Z"
#: Nothing listens here: the gate must answer without the index.
NOWHERE = "http://127.0.0.1:9/simple"
#: Issue 23's targets, tumbler/uv.
TARGETS = {
    "check (first ask)": 1.0,
    "check (asked again)": 1.0,
    "single --offline": 3.0,
    "universal --offline": 3.0,
    "universal online (CPU)": 1.5,
    "peak memory (MiB)": 1.5,
}


@dataclass(frozen=True, slots=True)
class Sample:
    """One run: wall seconds, CPU seconds (user + system), peak RSS in MiB."""

    wall: float
    cpu: float
    peak: float


@dataclass(slots=True)
class Row:
    """One measure of one project: tumbler's and uv's samples."""

    measure: str
    tumbler: list[Sample] = field(default_factory=list)
    uv: list[Sample] = field(default_factory=list)

    def value(self, samples: list[Sample]) -> float:
        if self.measure.startswith("peak"):
            return max(s.peak for s in samples)
        if "CPU" in self.measure:
            return statistics.median(s.cpu for s in samples)
        return statistics.median(s.wall for s in samples)


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> Sample:
    """Run ``argv``; its wall time, CPU time and peak memory (exit 2 on failure)."""
    try:
        used = run_measured(argv, env, cwd)
    except SystemExit as failure:
        print(failure, file=sys.stderr)
        sys.exit(2)
    return Sample(used.wall, used.user + used.system, used.peak)


def environment(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "TUMBLER_"))}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        UV_NO_CONFIG="1",
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_PROGRESS="1",
        TUMBLER_CACHE_DIR=str(cache / "tumbler"),
    )
    return env


@dataclass(frozen=True, slots=True)
class Setup:
    """The two copies of one project and their caches."""

    tumbler_dir: Path
    uv_dir: Path
    cache: Path
    env: dict[str, str]


def prepare(project: str, root: Path) -> Setup:
    base = root / project
    tumbler_dir, uv_dir, cache = base / "tumbler", base / "uv", base / "cache"
    for directory in (tumbler_dir, uv_dir, cache):
        directory.mkdir(parents=True)
    for directory in (tumbler_dir, uv_dir):
        shutil.copy(PROJECTS / project / "pyproject.toml", directory / "pyproject.toml")
    setup = Setup(tumbler_dir, uv_dir, cache, environment(cache))
    run(tumbler_lock(setup, "--universal"), tumbler_dir, setup.env)
    run(uv_lock(setup), uv_dir, setup.env)
    run(tumbler_lock(setup, "--target", "host", "-o", "pylock.single.toml"), tumbler_dir, setup.env)
    groups = [a for g in groups_of(project) for a in ("--group", g)]
    run(uv_compile(setup, *groups), uv_dir, setup.env)
    return setup


def tumbler_lock(setup: Setup, *extra: str) -> list[str]:
    return [str(TUMBLER), "lock", "pyproject.toml", "--exclude-newer", DATE, "-q", *extra]


def uv_lock(setup: Setup, *extra: str) -> list[str]:
    argv = [str(UV), "lock", "--python", sys.executable, "--exclude-newer", DATE]
    return [*argv, "--cache-dir", str(setup.cache / "uv"), "-q", *extra]


def uv_compile(setup: Setup, *extra: str) -> list[str]:
    argv = [str(UV), "pip", "compile", "pyproject.toml", "--all-extras", "--python"]
    argv += [sys.executable, "--exclude-newer", DATE, "--cache-dir", str(setup.cache / "uv")]
    return [*argv, "--format", "pylock.toml", "-o", "pylock.single.toml", "-q", *extra]


def groups_of(project: str) -> list[str]:
    import tomllib

    data = tomllib.loads((PROJECTS / project / "pyproject.toml").read_text(encoding="utf-8"))
    return sorted(data.get("dependency-groups", {}))


def measure(project: str, setup: Setup, repeat: int, *, check_index: str = NOWHERE) -> list[Row]:
    t, u, env = setup.tumbler_dir, setup.uv_dir, setup.env
    groups = [a for g in groups_of(project) for a in ("--group", g)]
    rows = {name: Row(name) for name in TARGETS}
    for _ in range(repeat):
        check = [*tumbler_lock(setup), "--check"]
        check += ["--index-url", check_index] if check_index else []
        rows["check (first ask)"].tumbler.append(run(check, t, {**env, "TUMBLER_NO_MEMO": "1"}))
        run(check, t, env)  # asks once, so that the next run may answer from the kept verdict
        rows["check (asked again)"].tumbler.append(run(check, t, env))
        answer = run(uv_lock(setup, "--check"), u, env)
        rows["check (first ask)"].uv.append(answer)
        rows["check (asked again)"].uv.append(answer)
        single = rows["single --offline"]
        (t / "pylock.single.toml").unlink()
        single.tumbler.append(
            run(
                tumbler_lock(setup, "--target", "host", "--offline", "-o", "pylock.single.toml"),
                t,
                env,
            )
        )
        (u / "pylock.single.toml").unlink()
        single.uv.append(run(uv_compile(setup, "--offline", *groups), u, env))
        universal = rows["universal --offline"]
        (t / "pylock.toml").unlink()
        universal.tumbler.append(run(tumbler_lock(setup, "--universal", "--offline"), t, env))
        (u / "uv.lock").unlink()
        universal.uv.append(run(uv_lock(setup, "--offline"), u, env))
        rows["peak memory (MiB)"].tumbler.append(universal.tumbler[-1])
        rows["peak memory (MiB)"].uv.append(universal.uv[-1])
        online = rows["universal online (CPU)"]
        (t / "pylock.toml").unlink()
        online.tumbler.append(run(tumbler_lock(setup, "--universal"), t, env))
        (u / "uv.lock").unlink()
        online.uv.append(run(uv_lock(setup), u, env))
    return list(rows.values())


def report(project: str, rows: list[Row]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        mine, theirs = row.value(row.tumbler), row.value(row.uv)
        ratio = mine / theirs if theirs else float("inf")
        out.append(
            {
                "project": project,
                "measure": row.measure,
                "tumbler": round(mine, 3),
                "uv": round(theirs, 3),
                "ratio": round(ratio, 2),
                "target": TARGETS[row.measure],
                "met": ratio <= TARGETS[row.measure],
                "runs": {
                    "tumbler": [s.wall for s in row.tumbler],
                    "uv": [s.wall for s in row.uv],
                },
            }
        )
    return out


def table(results: list[dict[str, Any]]) -> str:
    lines = [f"{'project':8} {'measure':24} {'tumbler':>9} {'uv':>9} {'ratio':>7}  target"]
    for r in results:
        unit = "M" if r["measure"].startswith("peak") else "s"
        lines.append(
            f"{r['project']:8} {r['measure']:24} {r['tumbler']:>7.3f}{unit:>2} "
            f"{r['uv']:>7.3f}{unit:>2} {r['ratio']:>6.2f}x  <= {r['target']}x "
            f"{'met' if r['met'] else 'NOT met'}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--projects", default="medium,large")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR (kept) instead of a temp dir")
    parser.add_argument(
        "--check-online",
        action="store_true",
        help="let tumbler's check reach the index (for a tumbler whose gate re-locks)",
    )
    args = parser.parse_args(argv)
    if not UV.exists():
        print(f"uv is not installed at {UV}: run bench/lock_bench.py once", file=sys.stderr)
        return 2
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src")], check=False)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="tumbler-speed-") as temp:
        root = Path(args.keep) if args.keep else Path(temp)
        for project in args.projects.split(","):
            print(f"{project}: locking once to fill the caches", file=sys.stderr)
            setup = prepare(project, root)
            print(f"{project}: {args.repeat} interleaved rounds", file=sys.stderr)
            check_index = "" if args.check_online else NOWHERE
            results += report(
                project, measure(project, setup, args.repeat, check_index=check_index)
            )
    print(json.dumps(results, indent=2) if args.json else table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
