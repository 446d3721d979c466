"""Time tumbler side by side with the plain ``tomllib`` + ``packaging.pylock`` baseline.

Run ``python bench/bench.py [--quick] [--json]``. See ``bench/README.md`` for what each
row measures. Targets are reported, not asserted: the script exits 0 unless an input is
broken (the synthetic locks do not load, or a subprocess fails with exit code 2).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import packaging
from packaging.pylock import Pylock, PylockValidationError

import tumbler
from tumbler.errors import TumblerError
from tumbler.findings import Severity
from tumbler.lockfile.diff import diff_locks
from tumbler.lockfile.load import load, load_lock, load_valid
from tumbler.lockfile.source import read_source

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth import synthetic_pair, to_toml

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "corpus"
REAL_INPUTS = 3
SYNTH_PACKAGES = 2000
VALIDATE_RATIO = 1.3
DIFF_SECONDS = 0.3
EXIT_BROKEN = 2

#: The whole-process baseline: what a bare ``tomllib`` + ``Pylock.from_dict`` script costs.
BASELINE_SCRIPT = (
    "import sys, tomllib\n"
    "from pathlib import Path\n"
    "from packaging.pylock import Pylock\n"
    "for arg in sys.argv[1:]:\n"
    "    Pylock.from_dict(tomllib.loads(Path(arg).read_text()))\n"
)
#: The same for a file packaging rejects: it stops at the first error.
BASELINE_TOLERANT_SCRIPT = (
    "import sys, tomllib\n"
    "from pathlib import Path\n"
    "from packaging.pylock import Pylock, PylockValidationError\n"
    "for arg in sys.argv[1:]:\n"
    "    try:\n"
    "        Pylock.from_dict(tomllib.loads(Path(arg).read_text()))\n"
    "    except PylockValidationError:\n"
    "        pass\n"
)


class BrokenInputError(Exception):
    """An input the benchmark cannot use at all."""


@dataclass(frozen=True, slots=True)
class Timing:
    """Every run of one timed callable, in seconds."""

    runs: tuple[float, ...]

    @property
    def best(self) -> float:
        """The fastest run."""
        return min(self.runs)

    @property
    def median(self) -> float:
        """The median run."""
        return statistics.median(self.runs)


@dataclass(frozen=True, slots=True)
class Input:
    """One lock file the benchmark reads, copied under a valid lock file name."""

    label: str
    path: Path
    packages: int
    wheels: int
    #: Why packaging rejects the file, when it does (then there is no fair baseline).
    rejected: str | None = None
    findings: str = ""


@dataclass(slots=True)
class Row:
    """One line of the results table."""

    measure: str
    input: str
    packages: int
    wheels: int
    baseline: Timing | None
    tumbler: Timing
    #: ``ratio`` (tumbler/baseline must be at most ``limit``), ``seconds`` (tumbler's
    #: median must be under ``limit``) or ``info`` (no target).
    target_kind: str
    limit: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """tumbler's median over the baseline's median."""
        if self.baseline is None:
            return None
        return self.tumbler.median / self.baseline.median

    @property
    def target(self) -> str:
        """The target as shown in the table."""
        if self.target_kind == "ratio":
            return f"ratio <= {self.limit}"
        if self.target_kind == "seconds" and self.limit is not None:
            return f"< {self.limit * 1000:.0f} ms"
        return "-"

    @property
    def passed(self) -> bool | None:
        """Whether the target is met (``None`` when there is none)."""
        if self.target_kind == "ratio" and self.ratio is not None and self.limit is not None:
            return self.ratio <= self.limit
        if self.target_kind == "seconds" and self.limit is not None:
            return self.tumbler.median < self.limit
        return None

    @property
    def result(self) -> str:
        """PASS, FAIL or info."""
        return {True: "PASS", False: "FAIL", None: "info"}[self.passed]

    def as_json(self) -> dict[str, Any]:
        """This row as plain JSON data (milliseconds)."""

        def ms(timing: Timing | None) -> dict[str, Any] | None:
            if timing is None:
                return None
            return {
                "best_ms": round(timing.best * 1000, 3),
                "median_ms": round(timing.median * 1000, 3),
                "runs_ms": [round(r * 1000, 3) for r in timing.runs],
            }

        return {
            "measure": self.measure,
            "input": self.input,
            "packages": self.packages,
            "wheels": self.wheels,
            "baseline": ms(self.baseline),
            "tumbler": ms(self.tumbler),
            "ratio_median": None if self.ratio is None else round(self.ratio, 4),
            "ratio_best": (
                None if self.baseline is None else round(self.tumbler.best / self.baseline.best, 4)
            ),
            "target": self.target,
            "result": self.result,
            "note": self.note,
            **self.extra,
        }


# --------------------------------------------------------------------------- timing


def _time_once(fn: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def time_pair(
    baseline: Callable[[], object] | None, candidate: Callable[[], object], repeat: int
) -> tuple[Timing | None, Timing]:
    """Time both callables ``repeat`` times, interleaved, after one untimed warm-up each.

    Interleaving spreads the noise of a shared machine evenly over the two sides.
    """
    if baseline is not None:
        baseline()
    candidate()
    base_runs: list[float] = []
    cand_runs: list[float] = []
    for _ in range(repeat):
        if baseline is not None:
            base_runs.append(_time_once(baseline))
        cand_runs.append(_time_once(candidate))
    return (Timing(tuple(base_runs)) if baseline is not None else None), Timing(tuple(cand_runs))


# --------------------------------------------------------------------------- the two sides


def baseline_load(path: Path) -> Pylock:
    """The baseline: what any tool reading a pylock.toml with packaging has to do."""
    doc = tomllib.loads(path.read_text())
    return Pylock.from_dict(doc)


def baseline_load_or_fail(path: Path) -> Pylock | None:
    """The baseline on a file packaging rejects: the time to its first error."""
    try:
        return baseline_load(path)
    except PylockValidationError:
        return None


def tumbler_validate(path: Path) -> object:
    """tumbler's validate core: read, parse, validate with packaging, run its own rules."""
    return load(read_source(str(path)))


def tumbler_load_and_diff(old: Path, new: Path) -> bool:
    """``tumbler diff`` in-process, as the CLI does it: load OLD, load NEW validating only
    the package tables OLD does not share, and compare them."""
    a = load_valid(read_source(str(old)))
    b = load_valid(read_source(str(new)), reuse=a)
    assert a.lock is not None and b.lock is not None
    return diff_locks(a.lock.pylock, b.lock.pylock).equal


def _run(argv: Sequence[str]) -> int:
    proc = subprocess.run(
        list(argv),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    if proc.returncode not in (0, 1):
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise BrokenInputError(
            f"{' '.join(argv[1:])} exited {proc.returncode}: {detail[-1] if detail else ''}"
        )
    return proc.returncode


def tumbler_argv(*args: str) -> list[str]:
    """The command line of ``tumbler ARGS`` run by this interpreter."""
    return [sys.executable, "-m", "tumbler", *args]


def baseline_argv(*paths: Path) -> list[str]:
    """The command line of the baseline script loading ``paths``."""
    return [sys.executable, "-c", BASELINE_SCRIPT, *(str(p) for p in paths)]


# --------------------------------------------------------------------------- inputs


def _slug(text: str) -> str:
    kept = "".join(c if c.isalnum() else "-" for c in text.lower())
    return "-".join(part for part in kept.split("-") if part)[:60] or "lock"


def _describe(label: str, path: Path) -> Input:
    doc = tomllib.loads(path.read_text())
    loaded = load(read_source(str(path)))
    errors = sum(f.severity is Severity.ERROR for f in loaded.findings)
    warnings = len(loaded.findings) - errors
    findings = f"{errors} errors, {warnings} warnings" if loaded.findings else ""
    try:
        pylock = Pylock.from_dict(doc)
    except PylockValidationError as exc:
        packages = doc.get("packages")
        raw = packages if isinstance(packages, list) else []
        wheels = sum(len(p.get("wheels") or ()) for p in raw if isinstance(p, dict))
        return Input(label, path, len(raw), wheels, str(exc), findings)
    wheels = sum(len(p.wheels or ()) for p in pylock.packages)
    return Input(label, path, len(pylock.packages), wheels, None, findings)


def real_inputs(workdir: Path, count: int, log: Callable[[str], None]) -> list[Input]:
    """The ``count`` largest corpus locks packaging accepts, plus any larger it rejects.

    Each is copied into ``workdir`` as ``pylock.<name>.toml`` so the R1 name rule holds.
    """
    if not CORPUS.is_dir():
        log(f"bench: corpus {CORPUS} not found; skipping the real-lock inputs")
        return []
    files = sorted(CORPUS.glob("*.toml"), key=lambda p: (-p.stat().st_size, p.name))
    if not files:
        log(f"bench: corpus {CORPUS} has no *.toml files; skipping the real-lock inputs")
        return []
    out: list[Input] = []
    accepted = 0
    for source in files:
        if accepted >= count:
            break
        label = source.name.removesuffix(".toml")
        target = workdir / f"pylock.{_slug(label)}.toml"
        shutil.copyfile(source, target)
        try:
            item = _describe(label, target)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, TumblerError) as exc:
            log(f"bench: skipping {source.name}: not a readable lock ({exc})")
            continue
        if item.rejected is not None:
            log(
                f"bench: {source.name} is rejected by packaging ({item.rejected}); "
                "timed for information only, the next largest file replaces it"
            )
        else:
            accepted += 1
        out.append(item)
    return out


def synthetic_inputs(workdir: Path, packages: int) -> tuple[Input, Input]:
    """The two synthetic locks, written with tumbler's renderer and checked to be clean."""
    docs = synthetic_pair(packages)
    out: list[Input] = []
    for name, doc in zip(("synth-a", "synth-b"), docs, strict=True):
        path = workdir / f"pylock.{name}.toml"
        path.write_text(to_toml(doc), encoding="utf-8")
        item = _describe(f"{name} ({packages} pkgs)", path)
        if item.rejected is not None or item.findings:
            msg = f"synthetic lock {path.name} is not clean: {item.rejected or item.findings}"
            raise BrokenInputError(msg)
        out.append(item)
    return out[0], out[1]


# --------------------------------------------------------------------------- measuring


def measure_validate(item: Input, repeat: int) -> list[Row]:
    """In-process and whole-process validate rows for one input."""
    path = item.path
    comparable = item.rejected is None
    kind = "ratio" if comparable else "info"
    limit = VALIDATE_RATIO if comparable else None
    note = item.findings
    if not comparable:
        note = "packaging rejects it: baseline stops at the first error"
        note += f"; tumbler finds {item.findings}" if item.findings else ""
    base_fn = (lambda: baseline_load(path)) if comparable else (lambda: baseline_load_or_fail(path))
    base, cand = time_pair(base_fn, lambda: tumbler_validate(path), repeat)
    rows = [
        Row(
            "validate (in-process)",
            item.label,
            item.packages,
            item.wheels,
            base,
            cand,
            kind,
            limit,
            note,
        )
    ]
    script = BASELINE_SCRIPT if comparable else BASELINE_TOLERANT_SCRIPT
    base_argv = [sys.executable, "-c", script, str(path)]
    base, cand = time_pair(
        lambda: _run(base_argv), lambda: _run(tumbler_argv("validate", str(path))), repeat
    )
    rows.append(
        Row(
            "validate (process)",
            item.label,
            item.packages,
            item.wheels,
            base,
            cand,
            kind,
            limit,
            note,
        )
    )
    return rows


def measure_diff(old: Input, new: Input, repeat: int) -> list[Row]:
    """Rows for diffing the two synthetic locks: load+diff, diff alone, whole process."""
    label = f"synth-a -> synth-b ({old.packages}/{new.packages} pkgs)"
    packages = old.packages + new.packages
    wheels = old.wheels + new.wheels
    a = load_lock(read_source(str(old.path))).pylock
    b = load_lock(read_source(str(new.path))).pylock
    result = diff_locks(a, b)
    counts: dict[str, int] = {}
    for change in result.packages:
        counts[change.kind.value] = counts.get(change.kind.value, 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
    extra = {"changes": counts}

    def base_both() -> None:
        baseline_load(old.path)
        baseline_load(new.path)

    base, cand = time_pair(base_both, lambda: tumbler_load_and_diff(old.path, new.path), repeat)
    rows = [
        Row(
            "diff load+diff (in-proc)",
            label,
            packages,
            wheels,
            base,
            cand,
            "seconds",
            DIFF_SECONDS,
            f"baseline loads both; {summary}",
            extra,
        )
    ]
    _, alone = time_pair(None, lambda: diff_locks(a, b), repeat)
    rows.append(
        Row(
            "diff_locks alone",
            label,
            packages,
            wheels,
            None,
            alone,
            "info",
            note="already-loaded Pylock objects",
        )
    )
    base, cand = time_pair(
        lambda: _run(baseline_argv(old.path, new.path)),
        lambda: _run(tumbler_argv("diff", str(old.path), str(new.path))),
        repeat,
    )
    rows.append(
        Row(
            "diff (process)",
            label,
            packages,
            wheels,
            base,
            cand,
            "info",
            note=(
                f"{'under' if cand.median < DIFF_SECONDS else 'over'} "
                f"{DIFF_SECONDS * 1000:.0f} ms; baseline loads both"
            ),
        )
    )
    return rows


# --------------------------------------------------------------------------- output


def _ms(timing: Timing | None) -> str:
    return "-" if timing is None else f"{timing.median * 1000:.1f}"


def _best(timing: Timing | None) -> str:
    return "-" if timing is None else f"{timing.best * 1000:.1f}"


def table(rows: Sequence[Row]) -> str:
    """The results as a plain-text table."""
    header = (
        "measure",
        "input",
        "packages",
        "wheels",
        "baseline ms",
        "(best)",
        "tumbler ms",
        "(best)",
        "ratio",
        "target",
        "result",
    )
    lines: list[tuple[str, ...]] = [header]
    for row in rows:
        lines.append(
            (
                row.measure,
                row.input,
                str(row.packages),
                str(row.wheels),
                _ms(row.baseline),
                _best(row.baseline),
                _ms(row.tumbler),
                _best(row.tumbler),
                "-" if row.ratio is None else f"{row.ratio:.2f}",
                row.target,
                row.result,
            )
        )
    numeric = {2, 3, 4, 5, 6, 7, 8}
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]

    def fmt(line: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        return "  ".join(cells).rstrip()

    out = [fmt(lines[0]), "  ".join("-" * w for w in widths)]
    out += [fmt(line) for line in lines[1:]]
    grouped: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        if row.note:
            grouped.setdefault((row.input, row.note), []).append(row.measure)
    notes = [f"  {name} [{'; '.join(m)}]: {note}" for (name, note), m in grouped.items()]
    if notes:
        out += ["", "notes:", *notes]
    return "\n".join(out)


def environment(repeat: int) -> dict[str, Any]:
    """What the numbers were measured on."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "packaging": packaging.__version__,
        "tumbler": tumbler.__version__,
        "repeat": repeat,
        "timer": "time.perf_counter; median and best of repeat, after one warm-up run",
    }


# --------------------------------------------------------------------------- main


def run(repeat: int, log: Callable[[str], None]) -> list[Row]:
    """Build the inputs in a temporary directory and measure everything."""
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="tumbler-bench-") as tmp:
        workdir = Path(tmp)
        log("bench: generating the synthetic locks ...")
        synth_a, synth_b = synthetic_inputs(workdir, SYNTH_PACKAGES)
        reals = real_inputs(workdir, REAL_INPUTS, log)
        for item in (*reals, synth_a):
            log(f"bench: validate {item.label} ...")
            rows += measure_validate(item, repeat)
        log("bench: diff synth-a -> synth-b ...")
        rows += measure_diff(synth_a, synth_b, repeat)
    order = {"validate (in-process)": 0, "validate (process)": 1}
    rows.sort(key=lambda r: order.get(r.measure, 2))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a table (or JSON); exit 2 only for broken inputs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="3 runs per measurement, not 7")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--repeat", type=int, default=None, help="runs per measurement (overrides --quick)"
    )
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat must be at least 1")
    repeat = args.repeat or (3 if args.quick else 7)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        rows = run(repeat, log)
    except BrokenInputError as exc:
        log(f"bench: broken input: {exc}")
        return EXIT_BROKEN
    if args.json:
        data = {
            "environment": environment(repeat),
            "corpus": str(CORPUS),
            "targets": {
                "met": sum(r.passed is True for r in rows),
                "missed": sum(r.passed is False for r in rows),
            },
            "results": [r.as_json() for r in rows],
        }
        print(json.dumps(data, indent=2))
    else:
        env = environment(repeat)
        print(
            f"tumbler {env['tumbler']} vs tomllib + packaging {env['packaging']} "
            f"(Python {env['python']}, {env['cpus']} CPUs), median of {repeat} runs; "
            "ratio = tumbler median / baseline median"
        )
        print()
        print(table(rows))
        failed = [r for r in rows if r.passed is False]
        print()
        print(f"{len(failed)} of {sum(r.passed is not None for r in rows)} targets missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
