"""Install benchmark: ``tumbler install`` against ``pip install -r`` and ``uv pip install -r``
on the same ``pylock.toml``, into fresh virtual environments, cold and warm cache.

For each project (``bench/projects``), tumbler first locks it for this machine
with a fixed ``--exclude-newer`` date (untimed; the lock lives under ``bench/results/``,
never in the repository). Then, per tool:

- **cold**: a new, empty cache directory and a new venv (``python -m venv --without-pip``,
  untimed) for every timed run: downloads, unpacking and installing;
- **warm**: the cache filled by one untimed run, then a new venv for every timed run.

tumbler's default puts files in place as copies (copy-on-write clones where the file
system has them) after checking each cached file's size and time; ``--tools`` can add
``tumbler-hardlink`` (hard links, the behaviour before issue 22) and
``tumbler-verify-cache`` (every cached file re-hashed first). uv hard-links by default on
Linux; ``uv-copy`` runs it with ``UV_LINK_MODE=copy``. Each tool is also compared with its
peer at the same link mode (tumbler with ``uv-copy``, ``tumbler-hardlink`` with ``uv``).

Runs are interleaved: every tool's first cold run, then every tool's second, and so on
(warm likewise), so that the disk's drift over the minutes weighs on each tool alike.
Besides wall time each run's user and system CPU time is kept (``wait4``: the command and
every process it waited for); user time is what the tools' own work costs, system time is
mostly file creation, where this machine's disk noise shows.

Each tool gets its own cache directory. After the first run of each tool the installed
set is compared with what ``packaging.pylock`` selects (a tool that installs something
else is reported, not timed silently). pip runs with its defaults (it compiles bytecode;
tumbler and uv do not by default); the row notes say so.

Targets: issue 5, tumbler at least 3x faster than pip and within 2x of uv; issue 23, at
most 1.0x uv at the same link mode. The script prints medians and ratios and exits 0
whether or not targets are met.

    .venv/bin/python bench/install_bench.py --projects medium,large --repeat 3 --cold-repeat 3
    .venv/bin/python bench/install_bench.py --tools tumbler,uv-copy,tumbler-hardlink,uv
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tomllib
from dataclasses import asdict
from pathlib import Path

from packaging.pylock import Pylock
from packaging.utils import canonicalize_name

from usage import Usage, run_measured

REPO = Path(__file__).resolve().parents[1]
PROJECTS = REPO / "bench" / "projects"
WORK = REPO / "bench" / "results" / "install"
BIN = REPO / ".venv" / "bin"
#: uv from bench/bench.py's peer venv when it is there, else the repository venv's.
UV = next((p for p in (REPO / "bench" / ".peers" / "uv" / "bin" / "uv", BIN / "uv") if p.exists()),
          BIN / "uv")  # fmt: skip
DEFAULT_DATE = "2026-10-01T00:00:00Z"
TOOLS = ("tumbler", "uv", "pip")
#: tumbler's other ways of putting cached files in place (issue 22): the old hard links,
#: and every cached file re-hashed before use.
VARIANTS = {
    "tumbler-hardlink": ("--link-mode", "hardlink"),
    "tumbler-verify-cache": ("--verify-cache",),
}
#: uv's link modes other than its default (hard links on Linux), by environment.
UV_VARIANTS = {"uv-copy": {"UV_LINK_MODE": "copy"}, "uv-clone": {"UV_LINK_MODE": "clone"}}
#: Each row compared with its peer at the same link mode.
PEERS = {"tumbler": "uv-copy", "tumbler-hardlink": "uv"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _env(tool: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "TUMBLER_"))}
    base = {"UV_NO_CONFIG": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return env | base | UV_VARIANTS.get(tool, {})


def command(tool: str, lock: Path, venv: Path, cache: Path) -> list[str]:
    python = str(venv / "bin" / "python")
    if tool == "tumbler" or tool in VARIANTS:
        # --no-dev: the others install the lock's default groups only (tumbler adds the
        # project's dev group by default, like uv sync)
        return [str(BIN / "tumbler"), "install", str(lock), "--venv", str(venv),
                "--cache-dir", str(cache), "-q", "--no-dev", *VARIANTS.get(tool, ())]  # fmt: skip
    if tool == "uv" or tool in UV_VARIANTS:
        return [str(UV), "pip", "install", "-q", "-r", str(lock), "--python", python,
                "--cache-dir", str(cache)]  # fmt: skip
    return [str(BIN / "python"), "-m", "pip", "--python", python, "install", "-q", "-r",
            str(lock), "--cache-dir", str(cache)]  # fmt: skip


def fresh_venv(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)


def timed(argv: list[str], tool: str) -> Usage:
    return run_measured(argv, _env(tool))


def installed(venv: Path) -> dict[str, str]:
    done = subprocess.run(
        [str(BIN / "python"), "-m", "pip", "--python", str(venv / "bin" / "python"), "list",
         "--format", "json"],
        capture_output=True, text=True, check=True, env=_env(),
    )  # fmt: skip
    return {canonicalize_name(d["name"]): d["version"] for d in json.loads(done.stdout)}


def selected(lock: Path) -> dict[str, str]:
    pylock = Pylock.from_dict(tomllib.loads(lock.read_text(encoding="utf-8")))
    return {canonicalize_name(p.name): str(p.version) for p, _ in pylock.select()}


def make_lock(project: str, date: str) -> Path:
    where = WORK / project
    where.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECTS / project / "pyproject.toml", where / "pyproject.toml")
    log(f"install-bench: locking {project} (untimed)")
    subprocess.run(
        [str(BIN / "tumbler"), "lock", str(where), "-q", "--exclude-newer", date,
         "--target", "host", "--cache-dir", str(WORK / "lock-cache")],
        check=True, env=_env(),
    )  # fmt: skip
    return where / "pylock.toml"


Runs = dict[str, list[Usage]]


def measure(
    tools: list[str], lock: Path, scratch: Path, repeat: int, cold_repeat: int
) -> dict[str, Runs]:
    """Cold then warm runs of every tool, interleaved round by round (tool A, tool B, …,
    then again), so that a disk slowing down over the minutes weighs on each alike."""
    samples: dict[str, Runs] = {tool: {"cold": [], "warm": []} for tool in tools}
    venvs = {tool: scratch / f"venv-{tool}" for tool in tools}
    for run in range(cold_repeat):
        for tool in tools:
            cache = scratch / f"cache-{tool}-cold"
            shutil.rmtree(cache, ignore_errors=True)
            fresh_venv(venvs[tool])
            samples[tool]["cold"].append(timed(command(tool, lock, venvs[tool], cache), tool))
            if run == 0:
                got, want = installed(venvs[tool]), selected(lock)
                if got != want:
                    differ = sorted(set(got.items()) ^ set(want.items()))
                    raise SystemExit(
                        f"{tool} installed something else than the lock selects: {differ}"
                    )
            shutil.rmtree(cache, ignore_errors=True)
    warm_caches = {tool: scratch / f"cache-{tool}-warm" for tool in tools}
    for tool in tools:
        shutil.rmtree(warm_caches[tool], ignore_errors=True)
        fresh_venv(venvs[tool])
        timed(command(tool, lock, venvs[tool], warm_caches[tool]), tool)  # fill it, untimed
    for _ in range(repeat):
        for tool in tools:
            fresh_venv(venvs[tool])
            samples[tool]["warm"].append(
                timed(command(tool, lock, venvs[tool], warm_caches[tool]), tool)
            )
    for tool in tools:
        shutil.rmtree(warm_caches[tool], ignore_errors=True)
        shutil.rmtree(venvs[tool], ignore_errors=True)
        shown = {k: [round(s.wall, 2) for s in v] for k, v in samples[tool].items()}
        log(f"install-bench: {tool}: cold {shown['cold']}, warm {shown['warm']}")
    return samples


def median(runs: list[Usage], part: str = "wall") -> float:
    return statistics.median(getattr(s, part) for s in runs) if runs else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", default="medium,large")
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per tool")
    parser.add_argument("--cold-repeat", type=int, default=3, help="cold runs per tool")
    parser.add_argument("--exclude-newer", default=DEFAULT_DATE)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    tools = [t for t in args.tools.split(",") if t]
    results: dict[str, tuple[int, dict[str, Runs]]] = {}
    for project in [p for p in args.projects.split(",") if p]:
        lock = make_lock(project, args.exclude_newer)
        count = len(selected(lock))
        scratch = WORK / project / "scratch"
        scratch.mkdir(parents=True, exist_ok=True)
        results[project] = (count, measure(tools, lock, scratch, args.repeat, args.cold_repeat))
    if args.json:
        doc = {
            p: {"packages": c, "tools": {t: {k: [asdict(s) for s in v] for k, v in r.items()}
                                         for t, r in rows.items()}}
            for p, (c, rows) in results.items()
        }  # fmt: skip
        print(json.dumps(doc, indent=2))
        return
    date = args.exclude_newer
    print(f"install into a fresh venv; medians of interleaved runs (--exclude-newer {date})")
    head = ("project", "pkgs", "tool", "cold s", "user", "sys", "warm s", "user", "sys")
    print("{:<8} {:>4} {:<20} {:>7} {:>6} {:>6} {:>7} {:>6} {:>6}".format(*head))
    for project, (count, rows) in results.items():
        for tool, row in rows.items():
            cells = [
                median(row[k], part)
                for k in ("cold", "warm")
                for part in ("wall", "user", "system")
            ]
            print(f"{project:<8} {count:>4} {tool:<20} " + " ".join(
                f"{c:>{7 if i % 3 == 0 else 6}.2f}" for i, c in enumerate(cells)))  # fmt: skip
    same_mode(results)
    print("targets: tumbler/uv <= 1.0 at the same link mode, cold and warm (issue 23)")
    print("pip compiles bytecode by default; tumbler and uv do not (tumbler: --compile)")


def same_mode(results: dict[str, tuple[int, dict[str, Runs]]]) -> None:
    """tumbler against uv at the same link mode (copy: ``tumbler`` / ``uv-copy``; hard
    links: ``tumbler-hardlink`` / ``uv``): wall time (the target, at most 1.0x) and user
    CPU time, which the disk's noise does not reach."""
    for project, (_, rows) in results.items():
        for ours, theirs in PEERS.items():
            if ours not in rows or theirs not in rows:
                continue
            cells = []
            for kind in ("cold", "warm"):
                a, b = rows[ours][kind], rows[theirs][kind]
                wall = median(a) / median(b) if a and b else float("nan")
                user = median(a, "user") / median(b, "user") if a and b else float("nan")
                cells.append(f"{kind} {wall:.2f}x (user CPU {user:.2f}x)")
            print(f"{project}: {ours} / {theirs} (same link mode): {', '.join(cells)}")


if __name__ == "__main__":
    main()
