"""Issue 26: ``tumbler audit --vulns`` against ``pip-audit``, on the same locks.

Run ``python bench/vulns_bench.py [--repeat 5] [--json] [--lock PATH]``.

**Not the same work.** tumbler reads OSV's PyPI data *offline* from a local ``all.zip``
(``--vuln-db``): it parses every record of the database, then matches the lock. pip-audit's
default service asks PyPI's JSON API *online*, one HTTP request per package version, and
keeps an HTTP cache (``--cache-dir``; *cold* = a fresh cache each run, *warm* = the cache of
an earlier run). The ratio says what each costs a CI job, not which matcher is faster.
Two more rows put both tools on the *same* data and the same transport: a loopback OSV API
(started by this script, ``127.0.0.1``) serving the synthetic database below, asked by
``pip-audit -s osv --osv-url`` (one ``POST /v1/query`` per package) and by
``tumbler audit --vulns --osv-url`` (``/v1/querybatch`` then ``/v1/vulns/<id>``).

**The database is synthetic.** OSV's own servers and data bucket are not reachable from the
benchmark machine, so the script writes a seeded, realistic-size stand-in: about 17,000
OSV-schema records (``PYSEC-SYNTH-N``, GHSA-style ids, ``MAL-SYNTH-N`` malware records;
ECOSYSTEM ranges with introduced/fixed/last_affected events, explicit ``versions`` lists,
aliases, summaries and details, CVSS v3/v4 vectors and GitHub-style severities) over about
8,000 package names, the names of both locks included so that matches occur, plus the real
records of ``tests/data/osv/``. Same seed, same bytes.

**The locks.** (1) ``large``: ``bench/projects/large`` locked by tumbler itself, universal,
``--exclude-newer 2026-10-01T00:00:00Z``, online against the default index (``--lock PATH``
reuses a lock instead); it is written into the temporary directory, never into the repo.
(2) ``synth-2000``: ``bench/synth.py``'s seeded 2,000-package lock. Its names are made up,
so PyPI's JSON API knows none of them: pip-audit's PyPI rows are "not comparable" there
(``--pip-audit-synthetic`` runs them once anyway); the loopback rows are comparable.

Each row is run once untimed (warm-up; it also fills the warm pip-audit cache), then the
rows of a lock are interleaved run by run, ``--repeat`` rounds; the table shows medians
(wall time from spawn to ``os.wait4``, user+system CPU, largest peak RSS), what each tool
found, and ``tumbler/row``: tumbler offline's median over the row's (below 1: tumbler
offline is faster). Exit 0 whatever the ratios; 2 when a tool fails (exit other than 0/1).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import Context, Invocation, Peer, PeerUnavailableError, ensure_installed

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from tumbler.advisories.osv import Advisory

REPO = Path(__file__).resolve().parent.parent
TUMBLER = REPO / ".venv" / "bin" / "tumbler"
OSV_DATA = REPO / "tests" / "data" / "osv"
LARGE = REPO / "bench" / "projects" / "large" / "pyproject.toml"
DATE = "2026-10-01T00:00:00Z"
SEED = 26
RECORDS = 17_000
NAMES = 8_000
OK_CODES = (0, 1)  # both tools exit 1 when they find something


def _no_command(exe: Path, ctx: Context) -> Invocation:
    raise NotImplementedError("pip-audit is not a locker")


#: pip-audit, installed by ``bench/peers.py``'s machinery into ``bench/.peers/pip-audit``
#: (not a locker, so not in ``peers.PEERS``).
PIP_AUDIT = Peer(
    "pip-audit", "pip-audit", "single", "", "pip-audit", ("pip-audit",), "pip-audit",
    ("--version",), _no_command,
)  # fmt: skip


# --------------------------------------------------------------------------- the database

_GHSA = "23456789cfghjmpqrvwx"
_WORDS = (
    "attacker", "crafted", "request", "header", "denial", "service", "remote", "input",
    "validation", "memory", "parser", "redirect", "token", "session", "path", "traversal",
    "injection", "template", "archive", "cookie", "certificate", "proxy", "regular",
    "expression", "backtracking", "leak", "credentials", "upload", "deserialization", "cache",
)  # fmt: skip
_CVSS3 = {
    "AV": "NALP", "AC": "LH", "PR": "NLH", "UI": "NR", "S": "UC", "C": "NLH", "I": "NLH",
    "A": "NLH",
}  # fmt: skip
_CVSS4 = {
    "AV": "NALP", "AC": "LH", "AT": "NP", "PR": "NLH", "UI": "NPA", "VC": "HLN", "VI": "HLN",
    "VA": "HLN", "SC": "HLN", "SI": "HLN", "SA": "HLN",
}  # fmt: skip
_LEVELS = ("LOW", "MODERATE", "HIGH", "CRITICAL")
_SYLLABLES = ("py", "lib", "net", "data", "fast", "web", "ml", "io", "aio", "json", "auth",
              "cloud", "kit", "tool", "db", "http", "crypt", "yaml", "cli", "test")  # fmt: skip


def _ghsa(rng: random.Random) -> str:
    return "GHSA-" + "-".join("".join(rng.choices(_GHSA, k=4)) for _ in range(3))


def _vector(rng: random.Random, metrics: Mapping[str, str], prefix: str) -> str:
    return prefix + "/" + "/".join(f"{k}:{rng.choice(v)}" for k, v in metrics.items())


def _when(rng: random.Random) -> str:
    start = datetime(2018, 1, 1, tzinfo=UTC)
    moment = start + timedelta(seconds=rng.randrange(int(8.8 * 365 * 86400)))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _release(version: str) -> tuple[str, int, int, int]:
    """``(epoch prefix, major, minor, patch)`` of a version (0.1.0 when unreadable)."""
    try:
        parsed = Version(version)
    except InvalidVersion:
        return "", 0, 1, 0
    parts = (*parsed.release, 0, 0)
    epoch = f"{parsed.epoch}!" if parsed.epoch else ""
    return epoch, parts[0], parts[1], parts[2]


def _range(rng: random.Random, version: str, hit: bool) -> tuple[list[dict[str, str]], list[str]]:
    """Events around ``version`` (affecting it when ``hit``) and the versions they cover."""
    e, major, minor, patch = _release(version)
    if hit:
        low = rng.choice(("0", f"{e}{major}.0.0", f"{e}{major}.{minor}.0"))
        low = "0" if low == f"{e}0.0.0" else low
        if rng.random() < 0.15:
            events = [{"introduced": low}, {"last_affected": version}]
            top = Version(version)
        else:
            fixed = rng.choice((f"{e}{major}.{minor}.{patch + 1}", f"{e}{major}.{minor + 1}.0"))
            events = [{"introduced": low}, {"fixed": fixed}]
            top = Version(fixed)
    elif rng.random() < 0.6 and (minor or patch):
        low = rng.choice(("0", f"{e}{max(major - 1, 0)}.0.0"))
        fixed = f"{e}{major}.{minor}.0" if patch else f"{e}{major}.{minor - 1}.{rng.randrange(9)}"
        events = [{"introduced": low}, {"fixed": fixed}]
        top = Version(fixed)
    else:
        events = [
            {"introduced": f"{e}{major + 1}.0.0"},
            {"fixed": f"{e}{major + 1}.0.{1 + rng.randrange(5)}"},
        ]
        top = Version(events[1]["fixed"])
    low_v = Version("0") if events[0]["introduced"] == "0" else Version(events[0]["introduced"])
    grid = {f"{e}{a}.{b}.{c}" for a in (major - 1, major, major + 1) if a >= 0
            for b in range(max(minor - 2, 0), minor + 2) for c in range(4)}  # fmt: skip
    if hit:
        grid.add(version)
    inside = [v for v in grid if low_v <= Version(v) < top or (hit and v == version)]
    return events, sorted(inside, key=Version)


def _record(
    rng: random.Random, ident: str, name: str, version: str, *, hit: bool, aliases: list[str]
) -> dict[str, Any]:
    events, covered = _range(rng, version, hit)
    affected: dict[str, Any] = {
        "package": {"name": name, "ecosystem": "PyPI", "purl": f"pkg:pypi/{name}"},
        "ranges": [{"type": "ECOSYSTEM", "events": events}],
    }
    if rng.random() < 0.4:
        affected["versions"] = covered
    words = " ".join(rng.choices(_WORDS, k=rng.randrange(40, 220)))
    published = _when(rng)
    record: dict[str, Any] = {
        "schema_version": "1.6.0",
        "id": ident,
        "modified": max(published, _when(rng)),
        "published": published,
        "aliases": aliases,
        "summary": f"Synthetic advisory {ident} for {name} (seeded, not real): "
        + " ".join(rng.choices(_WORDS, k=6)),
        "details": words.capitalize() + ".",
        "affected": [affected],
        "references": [
            {"type": "WEB", "url": f"https://example.com/advisories/{ident}"},
            {"type": "PACKAGE", "url": f"https://example.com/projects/{name}"},
        ],
    }
    if ident.startswith("GHSA-"):
        record["severity"] = [
            {"type": "CVSS_V4", "score": _vector(rng, _CVSS4, "CVSS:4.0")}
            if rng.random() < 0.2
            else {"type": "CVSS_V3", "score": _vector(rng, _CVSS3, "CVSS:3.1")}
        ]
        record["database_specific"] = {"severity": rng.choice(_LEVELS), "github_reviewed": True}
    elif ident.startswith("PYSEC-") and rng.random() < 0.3:
        record["severity"] = [{"type": "CVSS_V3", "score": _vector(rng, _CVSS3, "CVSS:3.1")}]
    if rng.random() < 0.005:
        record["withdrawn"] = record["modified"]
    return record


def _malware(rng: random.Random, ident: str, name: str) -> dict[str, Any]:
    versions = sorted(
        {f"{rng.randrange(3)}.{rng.randrange(5)}.{rng.randrange(5)}" for _ in range(3)}
    )
    when = _when(rng)
    return {
        "schema_version": "1.5.0",
        "id": ident,
        "modified": when,
        "published": when,
        "summary": f"Malicious code in {name} (PyPI) (synthetic, seeded, not real)",
        "details": "---\n_-= Per source details. Do not edit below this line.=-_\n",
        "affected": [
            {
                "package": {"name": name, "ecosystem": "PyPI"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                "versions": versions,
            }
        ],
        "database_specific": {"malicious-packages-origins": [{"source": "synthetic"}]},
    }


def synthetic_records(
    locks: Mapping[str, Mapping[str, str]], total: int = RECORDS, names: int = NAMES
) -> list[dict[str, Any]]:
    """About ``total`` seeded OSV records over ``names`` package names, every lock's included.

    ``locks`` maps a lock's label to its ``{name: version}``. Every name gets a record, then
    the rest are spread with the ``large`` lock's names 20 times as likely (popular packages
    collect many advisories). A record on a locked name affects the locked version 1 time in
    100 (``large``) or 1 in 20 (the others), else it covers other versions. About 45% of the
    non-malware records are PYSEC/GHSA twins (the same ranges; the PYSEC one aliases the
    GHSA id, both alias a CVE, as in OSV's data); 30% of the made-up names get ``MAL-``
    malware records instead.
    """
    rng = random.Random(SEED)
    versions: dict[str, str] = {}
    popular = set(locks.get("large", {}))
    for found in locks.values():
        versions.update(found)
    while len(versions) < names:
        stem = "-".join(rng.choices(_SYLLABLES, k=rng.choice((2, 2, 3))))
        versions.setdefault(
            f"{stem}{rng.randrange(100)}",
            f"{rng.randrange(5)}.{rng.randrange(20)}.{rng.randrange(10)}",
        )
    everyone = sorted(versions)
    rng.shuffle(everyone)
    weights = [20 if n in popular else 1 for n in everyone]
    in_lock = {n for found in locks.values() for n in found}
    out: list[dict[str, Any]] = []
    serial = 0
    while len(out) < total:
        name = everyone[serial] if serial < len(everyone) else rng.choices(everyone, weights)[0]
        serial += 1
        version = versions[name]
        if name not in in_lock and rng.random() < 0.3:
            out.append(_malware(rng, f"MAL-SYNTH-{serial}", name))
            continue
        hit = rng.random() < (0.01 if name in popular else 0.05 if name in in_lock else 0.2)
        cve = f"CVE-SYNTH-{serial}"
        if rng.random() < 0.45:
            pysec, ghsa = f"PYSEC-SYNTH-{serial}", _ghsa(rng)
            state = rng.getstate()
            out.append(_record(rng, pysec, name, version, hit=hit, aliases=[cve, ghsa]))
            rng.setstate(state)  # the twin: the same ranges
            out.append(_record(rng, ghsa, name, version, hit=hit, aliases=[cve]))
        else:
            ident = _ghsa(rng) if rng.random() < 0.6 else f"PYSEC-SYNTH-{serial}"
            out.append(_record(rng, ident, name, version, hit=hit, aliases=[cve]))
    return out[:total]


def write_database(path: Path, records: list[dict[str, Any]]) -> Path:
    """``path`` as OSV's ``all.zip``: ``<ID>.json`` each, the real test records included."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for real in sorted(OSV_DATA.glob("*.json")):
            archive.write(real, real.name)
        for record in records:
            archive.writestr(f"{record['id']}.json", json.dumps(record, indent=2))
    return path


# --------------------------------------------------------------------------- loopback OSV API


def prepare(root: Path, records: int) -> dict[str, Any]:
    """Write ``synth-2000/pylock.toml`` and ``all.zip`` under ``root`` (``large/pylock.toml``
    must be there); what they hold. Run in a child process (``--prepare``)."""
    from synth import synthetic_doc, to_toml

    synth = root / "synth-2000" / "pylock.toml"
    synth.parent.mkdir(parents=True, exist_ok=True)
    synth.write_text(to_toml(synthetic_doc(2000)), encoding="utf-8")
    locks = {label: versions_of(root / label / "pylock.toml") for label in ("large", "synth-2000")}
    made = synthetic_records(locks, records)
    database = write_database(root / "all.zip", made)
    names = {str(canonicalize_name(a["package"]["name"])) for r in made for a in r["affected"]}
    return {
        "database": f"{records} synthetic records (seed {SEED}) over {len(names)} names "
        f"+ {len(list(OSV_DATA.glob('*.json')))} real ones, "
        f"{database.stat().st_size / 2**20:.1f} MiB zip",
        "locks": {label: f"{len(found)} packages" for label, found in locks.items()},
    }


# --------------------------------------------------------------------------- loopback OSV API


@dataclass(frozen=True, slots=True)
class Known:
    """The database, for the loopback server: raw records by id, parsed ones by name."""

    raw: dict[str, dict[str, Any]]
    by_name: dict[str, list[Advisory]]

    @classmethod
    def read(cls, archive: Path) -> Known:
        from tumbler.advisories.osv import parse_advisory

        raw: dict[str, dict[str, Any]] = {}
        by_name: dict[str, list[Advisory]] = {}
        with zipfile.ZipFile(archive) as zipped:
            for info in zipped.infolist():
                data = json.loads(zipped.read(info))
                raw[data["id"]] = data
                advisory = parse_advisory(data, info.filename)
                for name in {a.name for a in advisory.affected}:
                    by_name.setdefault(name, []).append(advisory)
        return cls(raw, by_name)

    def matching(self, query: Mapping[str, Any]) -> list[Advisory]:
        """The advisories affecting one OSV query's package version (tumbler's matcher)."""
        from tumbler.advisories.osv import affects

        name, version = str(query["package"]["name"]), str(query["version"])
        found = self.by_name.get(canonicalize_name(name), [])
        return [a for a in found if affects(a, name, version)]


@contextmanager
def serving(known: Known) -> Iterator[str]:
    """OSV's ``/v1/query``, ``/v1/querybatch`` and ``/v1/vulns/<id>`` on loopback."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a client keeps to the real service
        disable_nagle_algorithm = True  # headers and body are two writes

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: object) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            if self.path == "/v1/query":
                found = known.matching(body)
                self._send(200, {"vulns": [known.raw[a.id] for a in found]} if found else {})
            elif self.path == "/v1/querybatch":
                results = []
                for query in body["queries"]:
                    found = known.matching(query)
                    ids = [{"id": a.id, "modified": known.raw[a.id]["modified"]} for a in found]
                    results.append({"vulns": ids} if ids else {})
                self._send(200, {"results": results})
            else:
                self._send(404, {"message": "not found"})

        def do_GET(self) -> None:
            ident = self.path.removeprefix("/v1/vulns/")
            if ident in known.raw:
                self._send(200, known.raw[ident])
            else:
                self._send(404, {"message": "Bug not found."})

    class Server(ThreadingHTTPServer):
        request_queue_size = 128  # tumbler opens 8 connections at once; 5 drops SYNs (1 s)
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def serve_until_eof(archive: Path) -> None:
    """``--serve``: print the server's URL, then serve until stdin closes."""
    with serving(Known.read(archive)) as url:
        print(url, flush=True)
        sys.stdin.read()


@contextmanager
def server_process(archive: Path) -> Iterator[str]:
    """The loopback OSV API in a child process (its memory and CPU stay out of the bench's)."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--serve", str(archive)]
    child = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    try:
        url = child.stdout.readline().strip()
        if not url.startswith("http://"):
            raise ToolFailedError("the loopback OSV server did not start")
        yield url
    finally:
        child.stdin.close()
        child.wait(timeout=30)


# --------------------------------------------------------------------------- running


@dataclass(frozen=True, slots=True)
class Sample:
    """One run: wall seconds, CPU seconds (user + system), peak RSS in MiB."""

    wall: float
    cpu: float
    peak: float


class ToolFailedError(Exception):
    """A tool exited with something other than 0 or 1."""


def run(argv: list[str], env: Mapping[str, str], cwd: Path, out: Path) -> Sample:
    """Run ``argv`` with stdout into ``out``; raise :class:`ToolFailedError` on failure."""
    with tempfile.TemporaryFile() as errors, out.open("wb") as stdout:
        started = time.perf_counter()
        child = subprocess.Popen(argv, cwd=cwd, env=dict(env), stdout=stdout, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        if code not in OK_CODES:
            errors.seek(0)
            shown = errors.read().decode(errors="replace")[-2000:]
            raise ToolFailedError(f"exit {code}: {' '.join(argv)}\n{shown}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def environment(root: Path) -> dict[str, str]:
    """This environment without user configuration of pip, uv, tumbler or XDG dirs."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PIP_", "UV_", "TUMBLER_", "XDG_")) and k != "VIRTUAL_ENV"
    }
    for name in ("config", "cache", "data", "state"):
        (root / f"xdg-{name}").mkdir(parents=True, exist_ok=True)
        env[f"XDG_{name.upper()}_HOME"] = str(root / f"xdg-{name}")
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1", NO_COLOR="1")
    env["TUMBLER_CACHE_DIR"] = str(root / "tumbler-cache")
    return env


@dataclass(slots=True)
class Row:
    """One way of auditing one lock: its command (given a fresh scratch dir), its samples."""

    lock: str
    label: str
    argv: Callable[[Path], list[str]] | None
    kind: str  # "tumbler" or "pip-audit"
    samples: list[Sample] = field(default_factory=list)
    found: str = ""
    note: str = ""


def _tumbler_found(path: Path) -> str:
    report = json.loads(path.read_text(encoding="utf-8"))["files"][0]
    hits = [f["details"] for f in report["findings"] if f["rule"] in ("V1", "V2")]
    flagged = {(h["package"], h["version"]) for h in hits}
    return f"{len(flagged)} pkgs flagged, {len(hits)} advisories"


def _pip_audit_found(path: Path) -> str:
    deps = json.loads(path.read_text(encoding="utf-8"))["dependencies"]
    skipped = sum(1 for d in deps if "skip_reason" in d)
    flagged = sum(1 for d in deps if d.get("vulns"))
    advisories = sum(len(d.get("vulns", [])) for d in deps)
    found = f"{flagged} pkgs flagged, {advisories} advisories"
    return f"{found}, {skipped}/{len(deps)} skipped" if skipped else found


def measure(rows: list[Row], env: Mapping[str, str], scratch: Path, repeat: int) -> None:
    """One untimed run of each row (what it found is read from it), then ``repeat``
    interleaved rounds."""
    for round_ in range(repeat + 1):
        for number, row in enumerate(rows):
            assert row.argv is not None
            work = scratch / f"{row.lock}-{number}-{round_}"
            work.mkdir(parents=True)
            out = work / "out.json"
            sample = run(row.argv(work), env, work, out)
            if round_:
                row.samples.append(sample)
            else:
                row.found = (_tumbler_found if row.kind == "tumbler" else _pip_audit_found)(out)
            shutil.rmtree(work, ignore_errors=True)


def versions_of(lock: Path) -> dict[str, str]:
    """``{normalized name: version}`` of a ``pylock.toml``'s versioned packages."""
    doc = tomllib.loads(lock.read_text(encoding="utf-8"))
    return {
        str(canonicalize_name(p["name"])): str(p["version"])
        for p in doc.get("packages", [])
        if "version" in p
    }


def tool_version(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    lines = (done.stdout.strip() or done.stderr.strip()).splitlines()
    return lines[0] if done.returncode == 0 and lines else "?"


def _tumbler_argv(lock: Path, *extra: str) -> Callable[[Path], list[str]]:
    return lambda work: [str(TUMBLER), "audit", "--vulns", *extra, "--format", "json", str(lock)]


def _tumbler_online(lock: Path, api: str) -> Callable[[Path], list[str]]:
    return lambda work: _tumbler_argv(lock, "--osv-url", api, "--cache-dir", str(work / "c"))(work)


def _pip_audit_argv(
    exe: Path, lock: Path, *extra: str, cache: Path | None = None
) -> Callable[[Path], list[str]]:
    """``pip-audit --locked FOLDER``: it reads the folder's ``pylock.toml`` itself."""

    def argv(work: Path) -> list[str]:
        line = [str(exe), "--locked", str(lock.parent), "--progress-spinner", "off", *extra]
        line += ["--cache-dir", str(cache or work / "cache")]
        return [*line, "-f", "json", "-o", str(work / "out.json")]

    return argv


def build_rows(
    locks: Mapping[str, Path], *, database: Path, api: str, pip_audit: Path, warm: Path,
    synthetic_peer: bool,
) -> list[Row]:  # fmt: skip
    """The rows of each lock, in the order they are interleaved."""
    rows: list[Row] = []
    for label, lock in locks.items():
        offline = _tumbler_argv(lock, "--vuln-db", str(database))
        rows.append(Row(label, "tumbler offline (--vuln-db all.zip)", offline, "tumbler"))
        if label != "synth-2000" or synthetic_peer:
            cold = _pip_audit_argv(pip_audit, lock, "-s", "pypi")
            rows.append(Row(label, "pip-audit PyPI JSON API, cold cache", cold, "pip-audit"))
            hot = _pip_audit_argv(pip_audit, lock, "-s", "pypi", cache=warm / label)
            rows.append(Row(label, "pip-audit PyPI JSON API, warm cache", hot, "pip-audit"))
        else:
            note = "not comparable (synthetic names: PyPI knows none of them)"
            rows.append(Row(label, "pip-audit PyPI JSON API", None, "pip-audit", note=note))
        osv = _pip_audit_argv(pip_audit, lock, "-s", "osv", "--osv-url", f"{api}/v1/query")
        rows.append(Row(label, "pip-audit -s osv, loopback (same DB)", osv, "pip-audit"))
        online = _tumbler_online(lock, api)
        rows.append(Row(label, "tumbler --osv-url, loopback (same DB)", online, "tumbler"))
    return rows


def results(rows: list[Row]) -> list[dict[str, Any]]:
    """Each row's medians and ``tumbler/row`` (tumbler offline's median over the row's)."""
    out: list[dict[str, Any]] = []
    base: dict[str, float] = {}
    for row in rows:
        walls = [s.wall for s in row.samples]
        median = statistics.median(walls) if walls else None
        if row.label.startswith("tumbler offline") and median is not None:
            base[row.lock] = median
        out.append(
            {
                "lock": row.lock,
                "row": row.label,
                "median_s": median,
                "best_s": min(walls, default=None),
                "cpu_s": statistics.median(s.cpu for s in row.samples) if walls else None,
                "peak_mib": max((s.peak for s in row.samples), default=None),
                "ratio": base[row.lock] / median if median and row.lock in base else None,
                "found": row.found,
                "note": row.note,
                "runs": walls,
            }
        )
    return out


def table(found: list[dict[str, Any]]) -> str:
    """The results as a plain-text table."""
    head = f"{'lock':10} {'row':38} {'median':>8} {'best':>8} {'CPU':>7} {'MiB':>5}"
    head += f" {'tumbler/row':>11}  found"
    lines = [head, "-" * len(head)]
    for r in found:
        if r["median_s"] is None:
            lines.append(f"{r['lock']:10} {r['row']:38} {r['note']}")
            continue
        lines.append(
            f"{r['lock']:10} {r['row']:38} {r['median_s']:>7.2f}s {r['best_s']:>7.2f}s "
            f"{r['cpu_s']:>6.2f}s {r['peak_mib']:>5.0f} {r['ratio']:>10.2f}x  {r['found']}"
        )
    return "\n".join(lines)


def make_large_lock(root: Path, env: Mapping[str, str], given: Path | None) -> Path:
    """``large/pylock.toml``: a copy of ``given``, else locked now by tumbler (online)."""
    folder = root / "large"
    folder.mkdir(parents=True, exist_ok=True)
    if given is not None:
        return Path(shutil.copy(given, folder / "pylock.toml"))
    shutil.copy(LARGE, folder / "pyproject.toml")
    argv = [str(TUMBLER), "lock", "pyproject.toml", "--universal", "--exclude-newer", DATE, "-q"]
    run(argv, env, folder, root / "lock.out")
    (folder / "pyproject.toml").unlink()  # pip-audit --locked must read only the lock
    return folder / "pylock.toml"


def _log(text: str) -> None:
    print(text, file=sys.stderr)


def bench(args: argparse.Namespace, root: Path, pip_audit: Path) -> dict[str, Any]:
    """Make the locks and the database, run every row; the header and the rows."""
    env = environment(root)
    if args.lock is None:
        _log("large: tumbler lock --universal (online, about a minute when cold)")
    large = make_large_lock(root, env, args.lock)
    _log(f"database: {args.records} synthetic records (seed {SEED}) + tests/data/osv")
    # In a child process: the bench process stays small (a child's peak RSS counts the
    # parent's pages until it execs).
    script = [sys.executable, str(Path(__file__).resolve())]
    made = subprocess.run(
        [*script, "--prepare", str(root), "--records", str(args.records)],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        raise ToolFailedError(f"--prepare failed:\n{made.stderr[-2000:]}")
    header: dict[str, Any] = {
        "date": datetime.now(UTC).date().isoformat(),
        "python": sys.version.split()[0],
        "tumbler": tool_version([str(TUMBLER), "--version"]),
        "pip-audit": tool_version([str(pip_audit), "--version"]),
        **json.loads(made.stdout),
    }
    locks = {"large": large, "synth-2000": root / "synth-2000" / "pylock.toml"}
    database = root / "all.zip"
    with server_process(database) as api:
        rows = build_rows(
            locks, database=database, api=api, pip_audit=pip_audit, warm=root / "warm",
            synthetic_peer=args.pip_audit_synthetic,
        )  # fmt: skip
        for lock in locks:
            todo = [r for r in rows if r.lock == lock and r.argv is not None]
            _log(f"{lock}: a warm-up round, then {args.repeat} rounds of {len(todo)} rows")
            measure(todo, env, root / "runs", args.repeat)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    header["bench process peak RSS"] = f"{own / 1024:.0f} MiB (a floor of the MiB column)"
    return {"header": header, "rows": results(rows)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--lock", type=Path, help="audit this lock as 'large' instead of locking")
    parser.add_argument("--records", type=int, default=RECORDS)
    parser.add_argument("--keep", metavar="DIR", help="work in DIR (kept) instead of a temp dir")
    parser.add_argument(
        "--pip-audit-synthetic",
        action="store_true",
        help="run pip-audit's PyPI rows on the synthetic lock too (slow; PyPI knows no name)",
    )
    parser.add_argument("--prepare", metavar="ROOT", help=argparse.SUPPRESS)
    parser.add_argument("--serve", metavar="ZIP", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prepare:
        print(json.dumps(prepare(Path(args.prepare), args.records)))
        return 0
    if args.serve:
        serve_until_eof(Path(args.serve))
        return 0
    try:
        pip_audit = ensure_installed(PIP_AUDIT, _log)
    except PeerUnavailableError as error:
        _log(f"pip-audit: {error}")
        return 2
    with tempfile.TemporaryDirectory(prefix="tumbler-vulns-") as temp:
        root = Path(args.keep) if args.keep else Path(temp)
        root.mkdir(parents=True, exist_ok=True)
        try:
            found = bench(args, root, pip_audit)
        except ToolFailedError as error:
            _log(str(error))
            return 2
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        print("\n".join(f"{k}: {v}" for k, v in found["header"].items()))
        print(table(found["rows"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
