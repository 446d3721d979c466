"""Attestation benchmark: what ``tumbler lock --attestations`` adds to a warm lock.

The live index serves no provenance, so the project is locked from a local copy of it:

1. the bench project (``bench/projects/<name>``) is locked plainly from the
   package index pip would use (fixed ``--exclude-newer``);
2. every file that lock pins is downloaded and served by the tests' simple-API server
   (``tests/support/pkgindex.py``) on loopback, each with a PEP 740 provenance object linked from
   the pages (the recorded ``gcb_attestation_test`` provenance from
   ``tests/data/attestations``: the lock records publishers, it does not verify them);
3. the project is locked from that index, plain and with ``--attestations``, warm (each
   cache filled by one untimed run, the lock deleted before every timed run), alternately.

Prints the medians and the added share (target: under 20%). Run:

    .venv/bin/python bench/attest_bench.py --project medium --repeat 7
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.pkgindex import Dist, serve_json_index  # noqa: E402

PROJECTS = REPO / "bench" / "projects"
PROVENANCE = (
    REPO / "tests" / "data" / "attestations" / "gcb_attestation_test-0.0.0.tar.gz.provenance"
)
TUMBLER = Path(sys.executable).parent / "tumbler"
DATE = "2026-10-01T00:00:00Z"


def _env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUMBLER_", "PIP_", "UV_"))}
    return env | {"TUMBLER_CACHE_DIR": str(cache), "PIP_CONFIG_FILE": os.devnull}


def _run(argv: list[str], cache: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=_env(cache), capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stdout}{done.stderr}")
    return seconds


def _mirror(lock: Path, files: Path) -> list[Dist]:
    """Download every file ``lock`` pins into ``files``; the releases to serve."""
    dists = []
    for package in tomllib.loads(lock.read_text())["packages"]:
        wheels = [
            (w["url"], _name(w).removesuffix(".whl").split("-", 2)[2])
            for w in package.get("wheels", [])
        ]
        found = package.get("sdist")
        sdist = found if found and _name(found).endswith(".tar.gz") else None
        dist = Dist(
            package["name"],
            package["version"],
            wheel=False,
            sdist=sdist is not None,
            platform_wheels=tuple(tag for _, tag in wheels),
        )
        # Saved under the names the test server lists (normalized project names).
        for url, tag in wheels:
            _fetch(url, files / dist.wheel_filename_for(tag))
        if sdist is not None:
            _fetch(sdist["url"], files / dist.sdist_filename)
        dists.append(dist)
    return dists


def _name(artifact: dict[str, str]) -> str:
    return artifact.get("name") or artifact["url"].rsplit("/", 1)[-1]


def _fetch(url: str, path: Path) -> None:
    if not path.exists():
        with urllib.request.urlopen(url) as response:
            path.write_bytes(response.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", default="medium")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="attest-bench-") as scratch:
        work = Path(scratch)
        live = work / "live"
        live.mkdir()
        shutil.copy(PROJECTS / args.project / "pyproject.toml", live / "pyproject.toml")
        _run(
            [str(TUMBLER), "lock", str(live), "--exclude-newer", DATE, "--target", "host"],
            work / "live-cache",
        )
        files = work / "files"
        files.mkdir()
        dists = _mirror(live / "pylock.toml", files)
        provenance = PROVENANCE.read_bytes()
        served = {f.name: provenance for f in files.iterdir()}
        with serve_json_index(files, dists, provenance=served) as index:
            times: dict[str, list[float]] = {"plain": [], "attestations": []}
            projects = {}
            for mode in times:
                project = work / mode
                project.mkdir()
                shutil.copy(live / "pyproject.toml", project / "pyproject.toml")
                projects[mode] = project

            def lock(mode: str) -> float:
                project = projects[mode]
                (project / "pylock.toml").unlink(missing_ok=True)
                argv = [str(TUMBLER), "lock", str(project), "--index-url", index.url, "--quiet"]
                argv += ["--target", "host"]
                if mode == "attestations":
                    argv.append("--attestations")
                return _run(argv, work / f"cache-{mode}")

            for mode in times:
                lock(mode)  # fill the cache
            recorded = (projects["attestations"] / "pylock.toml").read_text()
            identities = recorded.count('kind = "Google"')
            for _ in range(args.repeat):
                for mode, runs in times.items():
                    runs.append(lock(mode))
    plain = statistics.median(times["plain"])
    attested = statistics.median(times["attestations"])
    print(f"project: {args.project} ({len(dists)} packages, {identities} with identities)")
    print(f"warm plain lock:           {plain:.3f} s (median of {args.repeat})")
    print(f"warm lock --attestations:  {attested:.3f} s")
    print(f"added: {100 * (attested - plain) / plain:+.1f}% (target: under 20%)")


if __name__ == "__main__":
    main()
