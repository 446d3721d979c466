"""The lockers ``bench/lock_bench.py`` runs: tumbler and its peers, and how to run each.

Every peer lives in its own virtual environment under ``bench/.peers/<venv>`` and is
installed there with ``pip install`` the first time it is needed. Each ``Peer`` knows its
command line, its environment (isolated from user configuration), the lock file it
writes and how to count the packages in it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

REPO = Path(__file__).resolve().parents[1]
PEERS_DIR = Path(__file__).resolve().parent / ".peers"
TUMBLER_EXE = REPO / ".venv" / "bin" / "tumbler"


def _default_index() -> str:
    """The public index's simple API, as pip publishes it (never written in this repo)."""
    from pip._internal.models.index import PyPI

    return str(PyPI.simple_url).rstrip("/") + "/"


#: The index every tool uses (each tool's own default).
INDEX = _default_index()
#: The stamp file that records what a peer venv was installed with.
STAMP = ".bench-requirements"
#: Environment variables that could carry user configuration into a tool run.
DROPPED_ENV_PREFIXES = ("PIP_", "UV_", "PDM_", "POETRY_", "NAB_", "TUMBLER_", "XDG_")
DROPPED_ENV = frozenset({"VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH", "PYTHONHOME"})
JSON_SIMPLE = "application/vnd.pypi.simple.v1+json"


class PeerUnavailableError(Exception):
    """A peer that cannot be installed or found."""


@dataclass(frozen=True, slots=True)
class Project:
    """One benchmark project, read from its ``pyproject.toml``."""

    label: str
    source: Path
    name: str
    dependencies: int
    extras: tuple[str, ...]
    groups: tuple[str, ...]

    @classmethod
    def read(cls, label: str, directory: Path) -> Project:
        """Read ``directory/pyproject.toml``."""
        doc = tomllib.loads((directory / "pyproject.toml").read_text(encoding="utf-8"))
        project: dict[str, Any] = doc.get("project", {})
        return cls(
            label=label,
            source=directory,
            name=str(project.get("name", label)),
            dependencies=len(project.get("dependencies", [])),
            extras=tuple(project.get("optional-dependencies", {})),
            groups=tuple(doc.get("dependency-groups", {})),
        )

    @property
    def summary(self) -> str:
        """``7 deps, extra viz, group dev``."""
        parts = [f"{self.dependencies} deps"]
        if self.extras:
            parts.append(f"extra{'s' if len(self.extras) > 1 else ''} {','.join(self.extras)}")
        if self.groups:
            parts.append(f"group{'s' if len(self.groups) > 1 else ''} {','.join(self.groups)}")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Context:
    """What one run of one tool gets: a project copy, a cache, a date and a Python."""

    project: Project
    workdir: Path
    #: The per-tool, per-project cache root. A cold run starts with it empty.
    cache: Path
    exclude_newer: str
    python: str
    #: Whether the index serves the PEP 691 JSON API (the only place pip, pdm and
    #: poetry read upload times from).
    index_json: bool


@dataclass(frozen=True, slots=True)
class Invocation:
    """One command line and its environment."""

    argv: list[str]
    env: dict[str, str]
    #: What this run does differently from the brief (date filter missing, ...).
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Peer:
    """One locker."""

    key: str
    label: str
    #: ``single`` (one environment) or ``universal`` (every platform and Python).
    scope: str
    lockfile: str
    #: Venv name under ``bench/.peers`` and what ``pip install`` puts in it; an empty
    #: ``venv`` means the tool is not installed by the benchmark (tumbler).
    venv: str
    requirements: tuple[str, ...]
    exe: str
    version_args: tuple[str, ...]
    command: Callable[[Path, Context], Invocation]
    #: Changes to the project copy before a run (poetry's HTML index source).
    prepare: Callable[[Context], tuple[str, ...]] | None = None
    #: Flags and caveats shown once under the tables.
    about: str = ""

    def executable(self) -> Path:
        """Where the tool's executable is (installed or not)."""
        if not self.venv:
            return TUMBLER_EXE
        return PEERS_DIR / self.venv / "bin" / self.exe


# --------------------------------------------------------------------------- environment


def base_env(ctx: Context) -> dict[str, str]:
    """The current environment without user configuration, with XDG dirs in the cache.

    The XDG directories live under the cache root, so a cold run also starts without any
    state a tool keeps outside its cache directory (logs, config, virtualenvs).
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(DROPPED_ENV_PREFIXES) and k not in DROPPED_ENV
    }
    for name in ("config", "cache", "data", "state"):
        path = ctx.cache / f"xdg-{name}"
        path.mkdir(parents=True, exist_ok=True)
        env[f"XDG_{name.upper()}_HOME"] = str(path)
    env["NO_COLOR"] = "1"
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    return env


def tool_cache(ctx: Context) -> Path:
    """The tool's own cache directory (under the per-tool cache root)."""
    path = ctx.cache / "tool"
    path.mkdir(parents=True, exist_ok=True)
    return path


def index_serves_json(url: str = INDEX, timeout: float = 30) -> bool:
    """Whether ``url`` answers a PEP 691 JSON request with JSON.

    pip, pdm and poetry read upload times only from the JSON API; on an HTML-only index
    (some mirrors) their date filters cannot work and the benchmark runs them without.
    """
    request = urllib.request.Request(url.rstrip("/") + "/pip/", headers={"Accept": JSON_SIMPLE})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            content_type = str(response.headers.get("Content-Type", ""))
            head = response.read(64).lstrip()
    except (urllib.error.URLError, OSError):
        return True
    return content_type.startswith(JSON_SIMPLE) and head.startswith(b"{")


def _days_before_now(date: str) -> int:
    """Whole days from ``date`` to now (poetry's ``solver.min-release-age`` is in days)."""
    when = datetime.fromisoformat(date.replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0, (datetime.now(UTC) - when).days)


# --------------------------------------------------------------------------- commands


def _tumbler(exe: Path, ctx: Context) -> Invocation:
    env = base_env(ctx)
    env["TUMBLER_CACHE_DIR"] = str(tool_cache(ctx))
    argv = [str(exe), "lock", "pyproject.toml", "-o", "pylock.toml"]
    argv += ["--exclude-newer", ctx.exclude_newer, "--quiet"]
    return Invocation([*argv, "--target", "host"], env)


def _tumbler_universal(exe: Path, ctx: Context) -> Invocation:
    env = base_env(ctx)
    env["TUMBLER_CACHE_DIR"] = str(tool_cache(ctx))
    argv = [str(exe), "lock", "pyproject.toml", "-o", "pylock.toml"]
    argv += ["--exclude-newer", ctx.exclude_newer, "--quiet", "--universal"]
    return Invocation(argv, env)


def tumbler_check(exe: Path, ctx: Context) -> Invocation:
    """``tumbler lock --check --offline`` against the lock the previous run wrote."""
    env = base_env(ctx)
    env["TUMBLER_CACHE_DIR"] = str(tool_cache(ctx))
    argv = [str(exe), "lock", "pyproject.toml", "-o", "pylock.toml", "--check", "--offline"]
    return Invocation([*argv, "--exclude-newer", ctx.exclude_newer, "--quiet"], env)


def _uv_env(ctx: Context) -> dict[str, str]:
    env = base_env(ctx)
    env.update(UV_NO_CONFIG="1", UV_PYTHON_DOWNLOADS="never", UV_NO_PROGRESS="1")
    return env


def _uv_compile(exe: Path, ctx: Context) -> Invocation:
    argv = [str(exe), "pip", "compile", "pyproject.toml"]
    if ctx.project.extras:
        argv.append("--all-extras")
    for group in ctx.project.groups:
        argv += ["--group", group]
    argv += ["--python", ctx.python, "--exclude-newer", ctx.exclude_newer]
    argv += ["--cache-dir", str(tool_cache(ctx)), "--format", "pylock.toml", "-o", "pylock.toml"]
    return Invocation([*argv, "--quiet"], _uv_env(ctx))


def _uv_lock(exe: Path, ctx: Context) -> Invocation:
    argv = [str(exe), "lock", "--python", ctx.python, "--exclude-newer", ctx.exclude_newer]
    argv += ["--cache-dir", str(tool_cache(ctx)), "--quiet"]
    return Invocation(argv, _uv_env(ctx))


def _pip(exe: Path, ctx: Context) -> Invocation:
    extras = ctx.project.extras
    target = f".[{','.join(extras)}]" if extras else "."
    argv = [str(exe), "lock", target]
    for group in ctx.project.groups:
        argv += ["--group", group]
    notes: tuple[str, ...] = ()
    if ctx.index_json:
        argv += ["--uploaded-prior-to", ctx.exclude_newer]
    else:
        notes = ("no date filter: the index serves no JSON upload times",)
    argv += ["--no-build-isolation", "--cache-dir", str(tool_cache(ctx))]
    argv += ["-o", "pylock.toml", "--quiet", "--progress-bar", "off"]
    return Invocation(argv, base_env(ctx), notes)


def _poetry_source(ctx: Context) -> tuple[str, ...]:
    """Point poetry at the index as an HTML ("legacy") source when it serves no JSON.

    poetry's built-in PyPI source parses the simple index as JSON and fails on an
    HTML-only mirror; a ``[[tool.poetry.source]]`` in the *copy* is the only way round.
    """
    if ctx.index_json:
        return ()
    path = ctx.workdir / "pyproject.toml"
    text = path.read_text(encoding="utf-8")
    text += f'\n[[tool.poetry.source]]\nname = "bench-index"\nurl = "{INDEX}"\n'
    text += 'priority = "primary"\n'
    path.write_text(text, encoding="utf-8")
    return ("index added as an HTML [[tool.poetry.source]] in the copy",)


def _poetry(exe: Path, ctx: Context) -> Invocation:
    env = base_env(ctx)
    env.update(
        POETRY_CACHE_DIR=str(tool_cache(ctx)),
        POETRY_CONFIG_DIR=str(ctx.cache / "xdg-config" / "pypoetry"),
        POETRY_DATA_DIR=str(ctx.cache / "xdg-data" / "pypoetry"),
        POETRY_VIRTUALENVS_CREATE="false",
        POETRY_KEYRING_ENABLED="false",
    )
    notes: tuple[str, ...] = ()
    if ctx.index_json:
        env["POETRY_SOLVER_MIN_RELEASE_AGE"] = str(_days_before_now(ctx.exclude_newer))
        notes = ("date filter = solver.min-release-age in whole days",)
    else:
        notes = ("no date filter: poetry reads no upload times from an HTML index",)
    argv = [str(exe), "lock", "--no-interaction", "--no-ansi", "--quiet"]
    return Invocation(argv, env, notes)


def _pdm(exe: Path, ctx: Context) -> Invocation:
    env = base_env(ctx)
    env.update(
        PDM_CACHE_DIR=str(tool_cache(ctx)),
        PDM_CONFIG_FILE=str(ctx.cache / "xdg-config" / "pdm-config.toml"),
        PDM_LOG_DIR=str(ctx.cache / "xdg-state" / "pdm-log"),
        PDM_CHECK_UPDATE="false",
        PDM_NON_INTERACTIVE="1",
        PDM_PYTHON=ctx.python,
    )
    argv = [str(exe), "lock", "-G", ":all"]
    notes: tuple[str, ...] = ()
    if ctx.index_json:
        argv += ["--exclude-newer", ctx.exclude_newer]
    else:
        notes = ("no date filter: the index serves no JSON upload times",)
    return Invocation([*argv, "--quiet"], env, notes)


def _nab(exe: Path, ctx: Context) -> Invocation:
    argv = [str(exe), "--quiet", "--no-progress", "--no-color", "lock", "pyproject.toml"]
    if ctx.project.extras:
        argv.append("--all-extras")
    if ctx.project.groups:
        argv += ["--groups", *ctx.project.groups]
    argv += ["--project-uploaded-prior-to", ctx.exclude_newer]
    argv += ["--cache-dir", str(tool_cache(ctx)), "--output", "pylock.toml"]
    return Invocation(argv, base_env(ctx))


def _nab_universal(exe: Path, ctx: Context) -> Invocation:
    invocation = _nab(exe, ctx)
    matrix = ["--project-mode", "universal", "--project-matrix-python", ">=3.10,<3.16"]
    matrix += ["--project-matrix-platforms", *NAB_PLATFORMS]
    return Invocation([*invocation.argv, *matrix], invocation.env)


#: nab's ids for the six platforms of tumbler's default grid.
NAB_PLATFORMS = (
    "linux_x86_64",
    "linux_aarch64",
    "macos_arm64",
    "macos_x86_64",
    "windows_amd64",
    "windows_arm64",
)


PEERS: tuple[Peer, ...] = (
    Peer(
        "tumbler",
        "tumbler lock",
        "single",
        "pylock.toml",
        "",
        (),
        "tumbler",
        ("--version",),
        _tumbler,
        about=(
            "repo .venv/bin/tumbler: lock pyproject.toml -o pylock.toml --exclude-newer DATE "
            "--quiet, TUMBLER_CACHE_DIR=<cache>; the check row is lock --check --offline "
            "after the warm lock"
        ),
    ),
    Peer(
        "tumbler-universal",
        "tumbler lock --universal",
        "universal",
        "pylock.toml",
        "",
        (),
        "tumbler",
        ("--version",),
        _tumbler_universal,
        about=(
            "repo .venv/bin/tumbler: lock pyproject.toml -o pylock.toml --exclude-newer DATE "
            "--quiet --universal (every CPython requires-python allows released by DATE, patch "
            "releases told apart where they differ, six platforms); "
            "TUMBLER_CACHE_DIR=<cache>"
        ),
    ),
    Peer(
        "uv-compile",
        "uv pip compile",
        "single",
        "pylock.toml",
        "uv",
        ("uv",),
        "uv",
        ("--version",),
        _uv_compile,
        about=(
            "uv pip compile pyproject.toml --all-extras --group <each group> --python <this "
            "interpreter> --exclude-newer DATE --cache-dir <cache> --format pylock.toml; "
            "UV_NO_CONFIG=1; the project itself is not in the output"
        ),
    ),
    Peer(
        "uv-lock",
        "uv lock",
        "universal",
        "uv.lock",
        "uv",
        ("uv",),
        "uv",
        ("--version",),
        _uv_lock,
        about=(
            "uv lock --python <this interpreter> --exclude-newer DATE --cache-dir <cache>; "
            "universal (all platforms, requires-python), every extra and group by default; "
            "the count leaves out the project itself"
        ),
    ),
    Peer(
        "pip",
        "pip lock",
        "single",
        "pylock.toml",
        "pip",
        ("pip>=25.1", "setuptools>=70.1"),
        "pip",
        ("--version",),
        _pip,
        about=(
            "pip lock '.[<extras>]' --group <each group> --no-build-isolation "
            "--uploaded-prior-to DATE --cache-dir <cache>; PIP_CONFIG_FILE=/dev/null; pip "
            "must build the project's metadata: --no-build-isolation uses the setuptools "
            "in the pip venv instead of installing one per run; the count leaves out the "
            "project itself"
        ),
    ),
    Peer(
        "poetry",
        "poetry lock",
        "universal",
        "poetry.lock",
        "poetry",
        ("poetry>=2",),
        "poetry",
        ("--version",),
        _poetry,
        prepare=_poetry_source,
        about=(
            "poetry lock --no-interaction; reads [project] and PEP 735 [dependency-groups] "
            "(poetry >= 2.2), locks every extra and group, universal over requires-python; "
            "POETRY_CACHE_DIR/CONFIG_DIR/DATA_DIR under the cache, virtualenvs.create=false, "
            "keyring off; no --exclude-newer: solver.min-release-age (days) is the nearest"
        ),
    ),
    Peer(
        "pdm",
        "pdm lock",
        "universal",
        "pdm.lock",
        "pdm",
        ("pdm[locked]",),
        "pdm",
        ("--version",),
        _pdm,
        about=(
            "pdm lock -G :all --exclude-newer DATE; PDM_CACHE_DIR, PDM_CONFIG_FILE, "
            "PDM_PYTHON=<this interpreter>; universal (cross-platform, requires-python); "
            "installed as pdm[locked] because pdm 2.29.3 with hishel 2 fails on import"
        ),
    ),
    Peer(
        "nab",
        "nab lock",
        "single",
        "pylock.toml",
        "nab",
        ("nab",),
        "nab",
        ("--version",),
        _nab,
        about=(
            "nab lock pyproject.toml --all-extras --groups <groups> "
            "--project-uploaded-prior-to DATE --cache-dir <cache> --output pylock.toml; "
            "specific mode (this interpreter) is nab's default"
        ),
    ),
    Peer(
        "nab-universal",
        "nab lock (universal)",
        "universal",
        "pylock.toml",
        "nab",
        ("nab",),
        "nab",
        ("--version",),
        _nab_universal,
        about=(
            "as nab lock, with --project-mode universal --project-matrix-python "
            "'>=3.10,<3.16' and the same six platforms as tumbler's grid (36 targets)"
        ),
    ),
)
PEER_KEYS = tuple(p.key for p in PEERS)


def peer(key: str) -> Peer:
    """The peer called ``key``."""
    for item in PEERS:
        if item.key == key:
            return item
    raise KeyError(key)


# --------------------------------------------------------------------------- installing


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def ensure_installed(item: Peer, log: Callable[[str], None], reinstall: bool = False) -> Path:
    """The peer's executable, installed into ``bench/.peers/<venv>`` if it is not there."""
    exe = item.executable()
    if not item.venv:
        if not exe.exists():
            raise PeerUnavailableError(f"{exe} not found")
        return exe
    venv = PEERS_DIR / item.venv
    stamp = venv / STAMP
    wanted = "\n".join(item.requirements)
    if not reinstall and exe.exists() and stamp.exists() and stamp.read_text() == wanted:
        return exe
    log(f"lock-bench: installing {' '.join(item.requirements)} into {venv} ...")
    if not (venv / "bin" / "python").exists():
        made = subprocess.run(
            [sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, check=False
        )
        if made.returncode != 0:
            raise PeerUnavailableError(f"venv: {_last_line(made.stderr)}")
    argv = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--upgrade"]
    done = subprocess.run([*argv, *item.requirements], capture_output=True, text=True, check=False)
    if done.returncode != 0 or not exe.exists():
        raise PeerUnavailableError(f"pip install: {_last_line(done.stderr) or 'no executable'}")
    stamp.write_text(wanted)
    return exe


def tool_version(item: Peer, exe: Path) -> str:
    """The version the tool reports (first line of ``--version``, trimmed)."""
    try:
        done = subprocess.run(
            [str(exe), *item.version_args], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    line = (done.stdout.strip() or done.stderr.strip()).splitlines()
    if done.returncode != 0 or not line:
        return "?"
    words = line[0].replace("(", " ").replace(")", " ").replace(",", " ").split()
    numeric = [w for w in words if w[:1].isdigit()]
    return numeric[0] if numeric else line[0][:20]


# --------------------------------------------------------------------------- lock files


def count_packages(path: Path, project_name: str) -> int | None:
    """Packages in a ``pylock.toml``, ``uv.lock``, ``poetry.lock`` or ``pdm.lock``.

    The project itself (pip and uv lock list it) is not counted.
    """
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None
    key = "packages" if path.name.startswith("pylock") else "package"
    items = doc.get(key)
    if not isinstance(items, list):
        return None
    own = _normalize(project_name)
    return sum(
        1 for p in items if isinstance(p, dict) and _normalize(str(p.get("name", ""))) != own
    )


def _normalize(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def scrubbed(env: Mapping[str, str]) -> dict[str, str]:
    """The part of ``env`` a tool run sets or changes, for the JSON record."""
    return {k: v for k, v in env.items() if os.environ.get(k) != v and not k.startswith("XDG_")}
