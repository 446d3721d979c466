"""Time ``tumbler lock`` side by side with its peers (uv, pip, poetry, pdm, nab).

Run ``python bench/lock_bench.py [--quick] [--json] [--tools ...] [--projects ...]``. See
``bench/README.md`` ("Locking benchmark"). Every tool locks a fresh copy of the same
project with the same ``--exclude-newer`` date and its own cache directory: cold runs
start with an empty cache, warm runs reuse it after the previous lock is deleted. A tool
that fails is reported as ``failed: <last stderr line>`` and the script carries on; it
exits 0 unless the arguments are wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import (
    PEER_KEYS,
    REPO,
    Context,
    Invocation,
    Peer,
    PeerUnavailableError,
    Project,
    count_packages,
    ensure_installed,
    index_serves_json,
    peer,
    scrubbed,
    tool_version,
    tumbler_check,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

PROJECTS = REPO / "bench" / "projects"
PROJECT_NAMES = ("small", "medium", "large")
DEFAULT_DATE = "2026-10-01T00:00:00Z"
#: The peer each scope's ratios are over: uv pip compile for one environment, uv lock for
#: universal locks.
BASELINES = {"single": "uv-compile", "universal": "uv-lock"}


def _base(result: Result, results: Sequence[Result]) -> Result | None:
    """The baseline row ``result`` is compared with (same scope), if it ran."""
    key = BASELINES.get(result.scope)
    return next((r for r in results if r.key == key and r.status == "ok"), None)


CHECK_KEY = "tumbler-check"
CHECK_SECONDS = 0.3
STATUS_WIDTH = 90
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True, slots=True)
class Run:
    """One process run: wall time, peak RSS and how it ended."""

    seconds: float
    #: ``ru_maxrss`` of the process and its waited-for descendants, in KiB: the largest
    #: single process of the tree, not the sum of processes alive at the same time.
    peak_kib: int
    returncode: int | None
    error: str = ""

    @property
    def ok(self) -> bool:
        """Exit 0 within the time limit."""
        return self.returncode == 0 and not self.error


@dataclass(slots=True)
class Result:
    """Every run of one tool on one project."""

    key: str
    label: str
    scope: str
    version: str = "?"
    cold: list[Run] = field(default_factory=list)
    warm: list[Run] = field(default_factory=list)
    packages: int | None = None
    status: str = "ok"
    notes: list[str] = field(default_factory=list)
    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def cold_best(self) -> float | None:
        """Fastest successful cold run."""
        return min((r.seconds for r in self.cold if r.ok), default=None)

    @property
    def warm_best(self) -> float | None:
        """Fastest successful warm run."""
        return min((r.seconds for r in self.warm if r.ok), default=None)

    @property
    def peak_mib(self) -> float | None:
        """Highest peak RSS over the successful runs, in MiB."""
        peaks = [r.peak_kib for r in (*self.cold, *self.warm) if r.ok]
        return max(peaks) / 1024 if peaks else None

    def as_json(self, base: Result | None) -> dict[str, Any]:
        """This result as plain JSON data (seconds and MiB)."""

        def runs(items: list[Run]) -> list[dict[str, Any]]:
            return [
                {
                    "seconds": round(r.seconds, 4),
                    "peak_mib": round(r.peak_kib / 1024, 1),
                    "returncode": r.returncode,
                    **({"error": r.error} if r.error else {}),
                }
                for r in items
            ]

        return {
            "tool": self.key,
            "label": self.label,
            "version": self.version,
            "scope": self.scope,
            "status": self.status,
            "packages": self.packages,
            "cold_best_s": _round(self.cold_best),
            "warm_best_s": _round(self.warm_best),
            "peak_mib": None if self.peak_mib is None else round(self.peak_mib, 1),
            "ratio_cold": _round(_ratio(self.cold_best, base.cold_best if base else None)),
            "ratio_warm": _round(_ratio(self.warm_best, base.warm_best if base else None)),
            "cold_runs": runs(self.cold),
            "warm_runs": runs(self.warm),
            "notes": self.notes,
            "argv": self.argv,
            "env": self.env,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _ratio(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base <= 0:
        return None
    return value / base


# --------------------------------------------------------------------------- running


def _tail(path: Path) -> str:
    """The last non-empty line a tool printed (stderr, or stdout if stderr is empty)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    lines = [ANSI.sub("", line).strip() for line in text.splitlines()]
    lines = [line for line in lines if line and not set(line) <= set("-=~^│╰─> ")]
    errors = [line for line in lines if "error" in line.lower()]
    return (errors or lines or [""])[-1][:200]


def measure(argv: Sequence[str], cwd: Path, env: dict[str, str], timeout: float) -> Run:
    """Run ``argv`` once: wall time and peak RSS of its process tree (``wait4``).

    The child gets its own session so a timed-out run is killed with everything it
    started, and only that.
    """
    out = cwd.parent / "stdout.txt"
    err = cwd.parent / "stderr.txt"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        except OSError as exc:
            return Run(0.0, 0, None, f"cannot start: {exc}")
        box: dict[str, Any] = {}

        def reap() -> None:
            _, status, usage = os.wait4(proc.pid, 0)
            box["end"] = time.perf_counter()
            box["status"] = status
            box["usage"] = usage

        reaper = threading.Thread(target=reap, daemon=True)
        reaper.start()
        reaper.join(timeout)
        timed_out = reaper.is_alive()
        if timed_out:
            os.killpg(proc.pid, signal.SIGKILL)
            reaper.join()
    code = os.waitstatus_to_exitcode(box["status"])
    proc.returncode = code  # reaped by wait4 above: Popen must not wait for it again
    seconds = box["end"] - start
    peak = int(box["usage"].ru_maxrss)
    if timed_out:
        return Run(seconds, peak, None, f"timeout (> {timeout:.0f} s)")
    if code != 0:
        return Run(seconds, peak, code, f"exit {code}: {_tail(err) or _tail(out)}")
    return Run(seconds, peak, code)


def fresh_copy(project: Project, workdir: Path) -> None:
    """A clean copy of the project in ``workdir`` (any earlier lock and state are gone)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    shutil.copytree(project.source, workdir)


@dataclass(frozen=True, slots=True)
class Options:
    """What the command line asked for."""

    exclude_newer: str
    cold_repeat: int
    warm_repeat: int
    timeout: float
    index_json: bool
    reinstall: bool


def bench_tool(
    item: Peer, project: Project, scratch: Path, opts: Options, log: Callable[[str], None]
) -> list[Result]:
    """Cold and warm runs of one tool on one project (and tumbler's check row)."""
    result = Result(item.key, item.label, item.scope)
    try:
        exe = ensure_installed(item, log, opts.reinstall)
    except PeerUnavailableError as exc:
        result.status = f"failed: {exc}"
        return [result]
    result.version = tool_version(item, exe)
    root = scratch / f"{project.label}-{item.key}"
    ctx = Context(
        project=project,
        workdir=root / "project",
        cache=root / "cache",
        exclude_newer=opts.exclude_newer,
        python=sys.executable,
        index_json=opts.index_json,
    )

    def one(kind: str, invocation_of: Callable[[], Invocation], copy: bool = True) -> Run:
        if copy:
            fresh_copy(project, ctx.workdir)
            if item.prepare is not None:
                _add_notes(result, item.prepare(ctx))
        invocation = invocation_of()
        _add_notes(result, invocation.notes)
        result.argv = invocation.argv
        result.env = scrubbed(invocation.env)
        run = measure(invocation.argv, ctx.workdir, invocation.env, opts.timeout)
        if run.ok and not (ctx.workdir / item.lockfile).is_file():
            run = Run(run.seconds, run.peak_kib, run.returncode, f"no {item.lockfile} written")
        state = "ok" if run.ok else run.error
        log(f"lock-bench:   {project.label} {item.key} {kind}: {run.seconds:.2f} s, {state}")
        return run

    for _ in range(opts.cold_repeat):
        if ctx.cache.exists():
            shutil.rmtree(ctx.cache)
        ctx.cache.mkdir(parents=True)
        run = one("cold", lambda: item.command(exe, ctx))
        result.cold.append(run)
        if not run.ok:
            result.status = _failure(run)
            return [result]
    for _ in range(opts.warm_repeat):
        run = one("warm", lambda: item.command(exe, ctx))
        result.warm.append(run)
        if not run.ok:
            result.status = _failure(run)
            return [result]
    result.packages = count_packages(ctx.workdir / item.lockfile, project.name)
    if item.key != "tumbler":
        return [result]
    check = Result(CHECK_KEY, "tumbler lock --check", "single", result.version)
    for _ in range(opts.warm_repeat):
        run = one("check", lambda: tumbler_check(exe, ctx), copy=False)
        check.warm.append(run)
        check.argv = result.argv
        if not run.ok:
            check.status = _failure(run)
            break
    check.argv = tumbler_check(exe, ctx).argv
    check.packages = result.packages
    target = "under" if (check.warm_best or 1e9) < CHECK_SECONDS else "over"
    if check.status == "ok":
        check.notes.append(f"{target} the {CHECK_SECONDS * 1000:.0f} ms target")
    return [result, check]


def _add_notes(result: Result, notes: Sequence[str]) -> None:
    for note in notes:
        if note not in result.notes:
            result.notes.append(note)


def _failure(run: Run) -> str:
    if run.returncode is None and run.error.startswith("timeout"):
        return run.error
    detail = run.error.split(": ", 1)[-1] if run.error.startswith("exit ") else run.error
    return f"failed: {detail}"


# --------------------------------------------------------------------------- output


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.3f}" if value < 1 else f"{value:.2f}"


def _clip(text: str) -> str:
    return text if len(text) <= STATUS_WIDTH else text[: STATUS_WIDTH - 3] + "..."


def _times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def table(project: Project, results: Sequence[Result]) -> str:
    """One project's results as a plain-text table."""
    header = (
        "tool",
        "version",
        "scope",
        "pkgs",
        "cold s",
        "warm s",
        "peak MB",
        "cold/uv",
        "warm/uv",
        "status",
    )
    lines: list[tuple[str, ...]] = [header]
    for r in results:
        base = _base(r, results)
        lines.append(
            (
                r.label,
                r.version,
                r.scope,
                "-" if r.packages is None else str(r.packages),
                _seconds(r.cold_best),
                _seconds(r.warm_best),
                "-" if r.peak_mib is None else f"{r.peak_mib:.0f}",
                _times(_ratio(r.cold_best, base.cold_best if base else None)),
                _times(_ratio(r.warm_best, base.warm_best if base else None)),
                _clip(r.status),
            )
        )
    numeric = {3, 4, 5, 6, 7, 8}
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]

    def fmt(line: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        return "  ".join(cells).rstrip()

    title = f"{project.label} ({project.name}: {project.summary})"
    out = [title, fmt(lines[0]), "  ".join("-" * w for w in widths)]
    out += [fmt(line) for line in lines[1:]]
    notes = [f"  {r.label}: {'; '.join(r.notes)}" for r in results if r.notes]
    return "\n".join(out + notes)


def about(keys: Sequence[str]) -> str:
    """The flags and caveats of every tool in ``keys``."""
    return "\n".join(f"  {peer(k).label}: {peer(k).about}" for k in keys)


def environment(opts: Options) -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "python": platform.python_version(),
        "interpreter": sys.executable,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "exclude_newer": opts.exclude_newer,
        "cold_repeat": opts.cold_repeat,
        "warm_repeat": opts.warm_repeat,
        "timeout_s": opts.timeout,
        "index_serves_json": opts.index_json,
        "timer": "time.perf_counter around fork/exec..wait4; best run shown",
        "peak": "ru_maxrss from wait4: the largest single process of the tree",
    }


# --------------------------------------------------------------------------- main


def _csv(value: str, allowed: Sequence[str], what: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in items if v not in allowed]
    if unknown or not items:
        msg = f"unknown {what} {', '.join(unknown) or '(none)'}; choose from {', '.join(allowed)}"
        raise argparse.ArgumentTypeError(msg)
    return items


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--projects",
        type=lambda v: _csv(v, PROJECT_NAMES, "project"),
        default=list(PROJECT_NAMES),
        help=f"comma-separated, from {','.join(PROJECT_NAMES)} (default: all)",
    )
    parser.add_argument(
        "--tools",
        type=lambda v: _csv(v, PEER_KEYS, "tool"),
        default=list(PEER_KEYS),
        help=f"comma-separated, from {','.join(PEER_KEYS)} (default: all)",
    )
    parser.add_argument("--quick", action="store_true", help="the small project only")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--save-json", type=Path, default=None, help="also write the JSON to this file"
    )
    parser.add_argument(
        "--exclude-newer", default=DEFAULT_DATE, help=f"upload cut-off (default {DEFAULT_DATE})"
    )
    parser.add_argument("--repeat", type=int, default=3, help="warm runs, best shown (3)")
    parser.add_argument("--cold-repeat", type=int, default=1, help="cold runs, best shown (1)")
    parser.add_argument(
        "--timeout", type=float, default=300, help="seconds per run before a tool is skipped"
    )
    parser.add_argument(
        "--projects-dir", type=Path, default=PROJECTS, help="where small/medium/large live"
    )
    parser.add_argument(
        "--reinstall-peers", action="store_true", help="pip install --upgrade every peer"
    )
    return parser


def run_all(
    projects: Sequence[Project], keys: Sequence[str], opts: Options, log: Callable[[str], None]
) -> dict[str, list[Result]]:
    """Every tool on every project, in temporary directories that are removed after."""
    results: dict[str, list[Result]] = {}
    skipped: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="tumbler-lock-bench-") as tmp:
        scratch = Path(tmp)
        for project in projects:
            rows: list[Result] = []
            for key in keys:
                item = peer(key)
                if key in skipped:
                    rows.append(Result(key, item.label, item.scope, status=skipped[key]))
                    continue
                log(f"lock-bench: {project.label}: {item.label} ...")
                got = bench_tool(item, project, scratch, opts, log)
                if got[0].status.startswith("timeout"):
                    skipped[key] = f"skipped: timed out on {project.label}"
                rows += got
                shutil.rmtree(scratch / f"{project.label}-{key}", ignore_errors=True)
            results[project.label] = rows
    return results


def as_json(
    projects: Sequence[Project],
    keys: Sequence[str],
    results: dict[str, list[Result]],
    opts: Options,
) -> dict[str, Any]:
    """Everything as plain JSON data."""
    out: dict[str, Any] = {}
    for p in projects:
        rows = results[p.label]
        out[p.label] = {
            "name": p.name,
            "summary": p.summary,
            "results": [r.as_json(_base(r, rows)) for r in rows],
        }
    return {
        "environment": environment(opts),
        "projects": out,
        "tools": {k: peer(k).about for k in keys},
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the lock benchmark and print one table per project (or JSON)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.cold_repeat < 1:
        parser.error("--repeat and --cold-repeat must be at least 1")
    names: list[str] = ["small"] if args.quick else args.projects
    keys: list[str] = [k for k in PEER_KEYS if k in args.tools]

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    projects: list[Project] = []
    for name in (n for n in PROJECT_NAMES if n in names):
        directory = args.projects_dir / name
        if not (directory / "pyproject.toml").is_file():
            log(f"lock-bench: {directory}/pyproject.toml not found; skipping {name}")
            continue
        projects.append(Project.read(name, directory))
    if {"tumbler", "tumbler-universal"} & set(keys):
        # Like an installed tumbler, run from bytecode: an editable install compiles
        # nothing, and PYTHONDONTWRITEBYTECODE would make every run recompile the sources.
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "src")], check=False)
    needs_probe = bool({"pip", "pdm", "poetry"} & set(keys))
    opts = Options(
        exclude_newer=args.exclude_newer,
        cold_repeat=args.cold_repeat,
        warm_repeat=args.repeat,
        timeout=args.timeout,
        index_json=index_serves_json() if needs_probe else True,
        reinstall=args.reinstall_peers,
    )
    if not opts.index_json:
        log("lock-bench: the index serves HTML only: pip, pdm and poetry run without a date")
    results = run_all(projects, keys, opts, log)
    data = json.dumps(as_json(projects, keys, results, opts), indent=2)
    if args.save_json is not None:
        args.save_json.write_text(data + "\n", encoding="utf-8")
    if args.json:
        print(data)
        return 0
    print(
        f"tumbler lock vs peers (Python {platform.python_version()}, {os.cpu_count()} CPUs), "
        f"--exclude-newer {opts.exclude_newer}; best of {opts.cold_repeat} cold and "
        f"{opts.warm_repeat} warm runs; ratios over "
        f"{peer(BASELINES['single']).label} (one environment) and "
        f"{peer(BASELINES['universal']).label} (universal)"
    )
    for project in projects:
        print()
        print(table(project, results[project.label]))
    print()
    print("tools:")
    print(about(keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
