"""Issue 25: importing other tools' locks and exporting, tumbler side by side with uv.

Run ``python bench/formats_bench.py [--projects medium,large] [--repeat 5] [--json]``.

For each bench project (``bench/projects``), untimed first: uv locks it (``uv lock
--exclude-newer DATE``) and Poetry locks it (``poetry lock``; Poetry reads no upload
times from this index's HTML pages, so its versions may be newer than uv's: each import
reads its own tool's lock); tumbler imports each once online, filling its cache with the
pages Poetry's hashes are looked up in. Then interleaved (tumbler, uv, tumbler, uv …),
medians of ``--repeat`` runs, wall seconds:

- **import uv.lock**: ``tumbler import uv.lock --offline`` against ``uv export --format
  pylock.toml --frozen`` (uv's own reading of the same lock into the same standard);
- **import poetry.lock**: ``tumbler import poetry.lock --offline`` (file names, URLs and
  sizes from the kept index pages) against the same uv row;
- **export FORMAT**: ``tumbler export --format FORMAT`` of the lock imported from
  ``uv.lock`` against ``uv export --format requirements.txt --frozen`` (CycloneDX against
  ``uv export --format cyclonedx1.5 --preview-features sbom-export``).

Tools run with no user configuration (``PIP_CONFIG_FILE=/dev/null``, ``UV_NO_CONFIG=1``).
The script prints a table with the ratio tumbler/uv per row and exits 0 whatever the
ratios; 2 when a tool fails.
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
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import peers  # noqa: E402

PROJECTS = REPO / "bench" / "projects"
TUMBLER = REPO / ".venv" / "bin" / "tumbler"
DATE = "2026-10-01T00:00:00Z"
EXPORTS = ("requirements.txt", "cyclonedx", "spdx", "github")


@dataclass(frozen=True, slots=True)
class Setup:
    """One project's working copy and the tools' executables and environment."""

    work: Path
    uv: Path
    poetry: Path
    env: dict[str, str]


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(peers.DROPPED_ENV_PREFIXES)}
    env |= {
        "PIP_CONFIG_FILE": os.devnull,
        "UV_NO_CONFIG": "1",
        "UV_CACHE_DIR": str(root / "uv-cache"),
        "UV_PYTHON_DOWNLOADS": "never",
        "TUMBLER_CACHE_DIR": str(root / "tumbler-cache"),
        "POETRY_CACHE_DIR": str(root / "poetry-cache"),
        "POETRY_CONFIG_DIR": str(root / "poetry-config"),
        "POETRY_VIRTUALENVS_CREATE": "false",
        "POETRY_KEYRING_ENABLED": "false",
        "NO_COLOR": "1",
    }
    return env


def _run(argv: list[str | Path], setup: Setup) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [str(a) for a in argv], cwd=setup.work, env=setup.env,
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(f"formats-bench: {' '.join(map(str, argv))} failed:\n{done.stderr}\n")
        raise SystemExit(2)
    return elapsed


def _log(line: str) -> None:
    sys.stderr.write(line + "\n")


def prepare(project: str, root: Path) -> Setup:
    """Lock with uv and Poetry, import both once (untimed)."""
    work = root / project
    work.mkdir(parents=True)
    shutil.copy(PROJECTS / project / "pyproject.toml", work / "pyproject.toml")
    uv = peers.ensure_installed(peers.peer("uv-lock"), _log)
    poetry = peers.ensure_installed(peers.peer("poetry"), _log)
    setup = Setup(work, uv, poetry, _env(root))
    _run([uv, "lock", "--exclude-newer", DATE, "-q"], setup)
    _run([poetry, "lock", "--no-interaction", "--no-ansi", "-q"], setup)
    _run([TUMBLER, "import", "uv.lock", "-o", "pylock.toml", "-q"], setup)
    _run([TUMBLER, "import", "poetry.lock", "-o", "pylock.poetry.toml", "-q"], setup)
    return setup


def rows(setup: Setup) -> dict[str, tuple[list[str | Path], list[str | Path]]]:
    """Row label → (tumbler's command, uv's command)."""
    uv_pylock: list[str | Path] = [setup.uv, "export", "--format", "pylock.toml", "--frozen"]
    uv_pylock += ["-q", "-o", "pylock.uv.toml"]
    uv_requirements: list[str | Path] = [setup.uv, "export", "--frozen", "-q"]
    uv_requirements += ["--format", "requirements.txt", "-o", "uv-requirements.txt"]
    uv_sbom: list[str | Path] = [setup.uv, "export", "--frozen", "-q", "--format"]
    uv_sbom += ["cyclonedx1.5", "--preview-features", "sbom-export", "-o", "uv-sbom.json"]
    table: dict[str, tuple[list[str | Path], list[str | Path]]] = {
        "import uv.lock": (
            [TUMBLER, "import", "uv.lock", "--offline", "-q", "-o", "pylock.again.toml"],
            uv_pylock,
        ),
        "import poetry.lock": (
            [TUMBLER, "import", "poetry.lock", "--offline", "-q", "-o", "pylock.p2.toml"],
            uv_pylock,
        ),
    }
    for fmt in EXPORTS:
        ours: list[str | Path] = [TUMBLER, "export", "--format", fmt, "-o", f"out.{fmt}"]
        table[f"export {fmt}"] = (ours, uv_sbom if fmt == "cyclonedx" else uv_requirements)
    return table


@dataclass(frozen=True, slots=True)
class Row:
    """One row's medians."""

    row: str
    tumbler: float
    uv: float

    @property
    def ratio(self) -> float:
        return self.tumbler / self.uv


def measure(setup: Setup, repeat: int) -> list[Row]:
    """Interleaved medians per row."""
    out = []
    for label, (ours, theirs) in rows(setup).items():
        a, b = [], []
        for _ in range(repeat):
            a.append(_run(ours, setup))
            b.append(_run(theirs, setup))
        mine, uv = statistics.median(a), statistics.median(b)
        out.append(Row(label, mine, uv))
    return out


def packages(setup: Setup) -> dict[str, int]:
    """How many entries each imported lock has."""
    import tomllib

    counts = {}
    for name in ("pylock.toml", "pylock.poetry.toml"):
        data = tomllib.loads((setup.work / name).read_text(encoding="utf-8"))
        counts[name] = len(data["packages"])
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--projects", default="medium,large")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results: dict[str, tuple[dict[str, int], list[Row]]] = {}
    with tempfile.TemporaryDirectory(prefix="formats-bench-") as tmp:
        for project in args.projects.split(","):
            setup = prepare(project, Path(tmp))
            results[project] = (packages(setup), measure(setup, args.repeat))
    if args.json:
        shown = {
            p: {
                "packages": c,
                "rows": [{"row": r.row, "tumbler": r.tumbler, "uv": r.uv} for r in rows],
            }
            for p, (c, rows) in results.items()
        }
        print(json.dumps(shown, indent=2))
        return 0
    for project, (counts, found) in results.items():
        print(f"\n{project}: imported {counts}")
        print(f"{'row':<26} {'tumbler':>9} {'uv':>9} {'ratio':>7}")
        for row in found:
            print(f"{row.row:<26} {row.tumbler:>8.3f}s {row.uv:>8.3f}s {row.ratio:>6.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
