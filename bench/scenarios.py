"""Run the packse resolver scenarios against ``tumbler lock`` and ``uv``.

Run ``python bench/scenarios.py [--only NAME] [-k TEXT] [--jobs N] [--tools tumbler,uv]
[--format text|json] [--output FILE]`` from the repository root. The scenarios are the
ones uv tests its resolver with, copied from packse into ``bench/data/packse/scenarios``
(see the README there).

Every package of every scenario is built once with the repository's own deterministic
builders (:mod:`tests.support.pkgindex`) and served from one loopback index. Names carry the
scenario's name as a prefix, as packse's ``--no-hash`` builds do (``fork-basic-a``), so
the scenarios share the index without clashing. Then, for each scenario:

- **tumbler** locks a ``pyproject.toml`` holding the root requirements. Universal
  scenarios get ``--universal`` (and one ``--environment`` per required environment) and
  the root's ``requires-python``; the others get ``--python-version`` and ``--platform``
  (``linux-x86_64`` unless the scenario names a platform). Resolver options tumbler may
  not have (``no_build``, ``no_binary``, pre-releases) are passed as the flags one would
  expect; a flag tumbler rejects fails the scenario as an unsupported option.
- **uv** runs ``uv lock`` on the same project (universal scenarios) or ``uv pip compile``
  on a ``requirements.in`` (the others), as uv's own generated tests do.

A tool passes when it succeeds exactly when the scenario is satisfiable and, when the
scenario lists the versions it expects, it picks exactly those versions for the
scenario's environment. The run prints one row per scenario and the totals; it exits 0
unless the arguments or the data are broken. No tool may reach anything but the loopback
index: ``--index-url`` is the only index, user configuration is ignored, Python
downloads are off and proxies point nowhere outside loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, cast

from packaging.pylock import Pylock
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.pkgindex import Dist, build_dists, serve_json_index

from tumbler.env.targets import parse_target

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    from packaging.markers import Environment
    from packaging.pylock import Package

    from tumbler.env.targets import Target

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "packse"
SCENARIOS = DATA / "scenarios"
TUMBLER_EXE = REPO / ".venv" / "bin" / "tumbler"
UV_EXE = REPO / ".venv" / "bin" / "uv"

#: packse's defaults (``src/packse/scenario.py``).
DEFAULT_REQUIRES_PYTHON = ">=3.12"
DEFAULT_ENVIRONMENT_PYTHON = "3.12"
#: The platform non-universal scenarios resolve for unless they name one.
DEFAULT_PLATFORM = "linux-x86_64"
#: The project name both tools lock (uv's scenario tests use the same).
PROJECT_NAME = "project"

#: tumbler platform → the uv ``--python-platform`` with the same tags (tumbler's Linux
#: targets accept manylinux up to glibc 2.40; its macOS targets are macOS 15).
UV_PLATFORMS: dict[str, str] = {
    "linux-x86_64": "x86_64-manylinux_2_40",
    "linux-aarch64": "aarch64-manylinux_2_40",
    "macos-arm64": "aarch64-apple-darwin",
    "macos-x86_64": "x86_64-apple-darwin",
    "windows-amd64": "x86_64-pc-windows-msvc",
    "windows-arm64": "aarch64-pc-windows-msvc",
}
#: uv's shorthand platform names and the architecture each stands for.
UV_SHORTHANDS: dict[str, str] = {
    "linux": "x86_64-unknown-linux-gnu",
    "macos": "aarch64-apple-darwin",
    "windows": "x86_64-pc-windows-msvc",
}
#: Environment variable prefixes dropped so no user configuration reaches a tool.
DROPPED_ENV_PREFIXES = ("PIP_", "UV_", "TUMBLER_", "VIRTUAL_ENV", "CONDA_", "PYTHON")
#: A proxy nothing listens on: any request that is not to loopback fails at once.
DEAD_PROXY = "http://127.0.0.1:9"

Tool = Literal["tumbler", "uv"]
TOOLS: tuple[Tool, ...] = ("tumbler", "uv")


# --------------------------------------------------------------------------- scenarios


@dataclass(frozen=True)
class PackageVersion:
    """One version of one scenario package (packse's ``PackageMetadata``)."""

    version: str
    requires: tuple[str, ...] = ()
    requires_python: str | None = DEFAULT_REQUIRES_PYTHON
    extras: tuple[tuple[str, tuple[str, ...]], ...] = ()
    sdist: bool = True
    wheel: bool = True
    yanked: bool = False
    wheel_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResolverOptions:
    """How a scenario asks to be resolved (packse's ``ResolverOptions``)."""

    universal: bool = False
    python: str | None = None
    python_platform: str | None = None
    required_environments: tuple[str, ...] = ()
    prereleases: bool = False
    #: Packages that must come from wheels (packse's name: they may not be built).
    no_build: tuple[str, ...] = ()
    #: Packages that must come from sdists.
    no_binary: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    """One packse scenario, as read from its file."""

    name: str
    path: str
    root_requires: tuple[str, ...]
    root_requires_python: str | None
    packages: tuple[tuple[str, tuple[PackageVersion, ...]], ...]
    options: ResolverOptions
    environment_python: str
    satisfiable: bool
    expected: tuple[tuple[str, str], ...]
    explanation: str | None = None

    def prefixed(self, name: str) -> str:
        """The index name of the scenario's package ``name``."""
        return f"{self.name}-{name}"

    def requirement(self, text: str) -> str:
        """``text`` with its package name prefixed (extras and markers kept)."""
        requirement = Requirement(text)
        requirement.name = self.prefixed(requirement.name)
        return str(requirement)

    def unprefixed(self, name: str) -> NormalizedName:
        """The scenario's own name for the index name ``name``."""
        prefix = canonicalize_name(self.name) + "-"
        normalized = canonicalize_name(name)
        return canonicalize_name(normalized.removeprefix(prefix))


def _package_version(version: str, raw: Mapping[str, Any]) -> PackageVersion:
    extras = raw.get("extras", {})
    return PackageVersion(
        version=version,
        requires=tuple(raw.get("requires", ())),
        requires_python=raw.get("requires_python", DEFAULT_REQUIRES_PYTHON),
        extras=tuple((extra, tuple(reqs)) for extra, reqs in extras.items()),
        sdist=raw.get("sdist", True),
        wheel=raw.get("wheel", True),
        yanked=raw.get("yanked", False),
        wheel_tags=tuple(raw.get("wheel_tags", ())),
    )


def _resolver_options(raw: Mapping[str, Any]) -> ResolverOptions:
    return ResolverOptions(
        universal=raw.get("universal", False),
        python=raw.get("python"),
        python_platform=raw.get("python_platform"),
        required_environments=tuple(raw.get("required_environments") or ()),
        prereleases=raw.get("prereleases", False),
        no_build=tuple(raw.get("no_build", ())),
        no_binary=tuple(raw.get("no_binary", ())),
    )


def scenario_from_dict(raw: Mapping[str, Any], path: str) -> Scenario:
    """A :class:`Scenario` from the decoded file ``path``."""
    root = raw.get("root", {})
    expected = raw["expected"]
    packages = tuple(
        (name, tuple(_package_version(v, meta) for v, meta in package["versions"].items()))
        for name, package in raw.get("packages", {}).items()
    )
    return Scenario(
        name=raw["name"],
        path=path,
        root_requires=tuple(root.get("requires", ())),
        root_requires_python=root.get("requires_python", DEFAULT_REQUIRES_PYTHON),
        packages=packages,
        options=_resolver_options(raw.get("resolver_options", {})),
        environment_python=raw.get("environment", {}).get("python", DEFAULT_ENVIRONMENT_PYTHON),
        satisfiable=expected["satisfiable"],
        expected=tuple(expected.get("packages", {}).items()),
        explanation=expected.get("explanation"),
    )


def _decode(path: Path) -> list[dict[str, Any]]:
    """The scenario tables in ``path`` (a JSON file may hold a list of them)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".toml":
        return [tomllib.loads(text)]
    if path.suffix == ".json":
        loaded = json.loads(text)
        return loaded if isinstance(loaded, list) else [loaded]
    raise ValueError(f"{path}: only TOML and JSON scenarios are read")


def load_scenarios(directory: Path) -> list[Scenario]:
    """Every scenario under ``directory``, sorted by name; ``example*`` ones left out,
    as uv's generator does."""
    found: list[Scenario] = []
    for path in sorted([*directory.rglob("*.toml"), *directory.rglob("*.json")]):
        relative = path.relative_to(directory).as_posix()
        found.extend(scenario_from_dict(raw, relative) for raw in _decode(path))
    kept = [s for s in found if not s.name.startswith("example")]
    names = [s.name for s in kept]
    if len(set(names)) != len(names):
        raise ValueError("two scenarios share a name")
    return sorted(kept, key=lambda s: s.name)


def chosen(
    scenarios: Sequence[Scenario], only: Sequence[str], substrings: Sequence[str]
) -> list[Scenario]:
    """The scenarios named by ``only`` or containing one of ``substrings`` (all when
    neither is given)."""
    if not (only or substrings):
        return list(scenarios)
    unknown = set(only) - {s.name for s in scenarios}
    if unknown:
        raise SystemExit(f"unknown scenario: {', '.join(sorted(unknown))}")
    return [s for s in scenarios if s.name in only or any(k in s.name for k in substrings)]


# --------------------------------------------------------------------------- the index


def _wheel_split(meta: PackageVersion) -> tuple[bool, tuple[str, ...]]:
    """Whether to build the ``py3-none-any`` wheel, and the other wheel tags (packse's
    ``wheel_tags`` replace the default tag unless they list it)."""
    if not meta.wheel:
        return False, ()
    if not meta.wheel_tags:
        return True, ()
    others = tuple(tag for tag in meta.wheel_tags if tag != "py3-none-any")
    return "py3-none-any" in meta.wheel_tags, others


def scenario_dists(scenario: Scenario) -> list[Dist]:
    """The releases ``scenario`` puts on the index (a version with no files is left out,
    as packse publishes nothing for it)."""
    dists = []
    for name, versions in scenario.packages:
        for meta in versions:
            plain, others = _wheel_split(meta)
            if not (meta.sdist or plain or others):
                continue
            extras = {
                extra: tuple(scenario.requirement(r) for r in reqs) for extra, reqs in meta.extras
            }
            dists.append(
                Dist(
                    name=scenario.prefixed(name),
                    version=meta.version,
                    requires_dist=tuple(scenario.requirement(r) for r in meta.requires),
                    requires_python=meta.requires_python,
                    extras=extras,
                    yanked="" if meta.yanked else None,
                    sdist=meta.sdist,
                    wheel=plain,
                    platform_wheels=others,
                )
            )
    return dists


# --------------------------------------------------------------------------- targets


def tumbler_platform(python_platform: str | None) -> str:
    """tumbler's ``--platform`` for packse's (uv's) ``python_platform``."""
    if python_platform is None:
        return DEFAULT_PLATFORM
    text = UV_SHORTHANDS.get(python_platform, python_platform)
    arm = text.startswith(("aarch64", "arm64"))
    if "windows" in text:
        return "windows-arm64" if arm else "windows-amd64"
    if "darwin" in text or "macos" in text:
        return "macos-arm64" if arm else "macos-x86_64"
    if "linux" in text:
        return "linux-aarch64" if arm else "linux-x86_64"
    raise ValueError(f"no tumbler platform for {python_platform!r}")


def uv_platform(scenario: Scenario) -> str:
    """uv's ``--python-platform`` for a non-universal scenario."""
    given = scenario.options.python_platform
    return given if given is not None else UV_PLATFORMS[DEFAULT_PLATFORM]


def target_python(scenario: Scenario) -> str:
    """The Python a non-universal scenario resolves for: the resolver's override, else
    the environment's."""
    return scenario.options.python or scenario.environment_python


def target_of(scenario: Scenario) -> Target:
    """The environment whose selection is checked against ``expected.packages``."""
    platform = tumbler_platform(scenario.options.python_platform)
    python = scenario.environment_python if scenario.options.universal else target_python(scenario)
    return parse_target(f"{platform}-{python}")


# --------------------------------------------------------------------------- processes


@dataclass(frozen=True)
class Completed:
    """One tool run: its exit code, output and wall time."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def tool_env(home: Path) -> dict[str, str]:
    """The environment every tool runs in: no user configuration, loopback only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED_ENV_PREFIXES)}
    for name in ("config", "cache", "data", "state"):
        env[f"XDG_{name.upper()}_HOME"] = str(home / f"xdg-{name}")
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[key] = env[key.lower()] = DEAD_PROXY
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(
        NO_COLOR="1",
        PIP_CONFIG_FILE=os.devnull,
        UV_NO_CONFIG="1",
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_PROGRESS="1",
    )
    return env


def run(argv: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float) -> Completed:
    """Run ``argv`` in ``cwd``; a timeout counts as exit code -1."""
    start = time.perf_counter()
    try:
        done = subprocess.run(
            list(argv),
            cwd=cwd,
            env=dict(env),
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return Completed(tuple(argv), -1, "", f"timed out after {timeout:g}s", timeout)
    seconds = time.perf_counter() - start
    return Completed(tuple(argv), done.returncode, done.stdout, done.stderr, seconds)


def first_line(text: str) -> str:
    """The first non-blank line of ``text``, stripped (``""`` for none)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def headline(text: str, most: int = 3) -> str:
    """The first non-blank line of ``text``; while a line ends with ``:`` the next ones
    follow it (at most ``most`` lines in all), so ``error: cannot ...:`` keeps its why."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    taken = lines[:1]
    for line in lines[1:most]:
        if not taken[-1].endswith(":"):
            break
        taken.append(line)
    return " ".join(taken)


def last_line(text: str) -> str:
    """The last non-blank line of ``text``, stripped (``""`` for none)."""
    return next((line.strip() for line in reversed(text.splitlines()) if line.strip()), "")


@cache
def interpreter(version: str) -> str | None:
    """A working CPython ``version`` (``3.12``, ``3.9.21``) on this machine, the same
    patch release when there is one, else None. Looks on PATH and in pyenv's versions."""
    major_minor = ".".join(version.split(".")[:2])
    on_path = shutil.which(f"python{major_minor}")
    candidates = [] if on_path is None else [on_path]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    if pyenv.is_dir():
        candidates += [str(p) for p in sorted(pyenv.glob(f"*/bin/python{major_minor}"))]
    working = [(path, _reported(path)) for path in candidates]
    matching = [(path, full) for path, full in working if full is not None and _same(full, version)]
    exact = [path for path, full in matching if full == version]
    ranked = exact + [path for path, _ in matching]
    return ranked[0] if ranked else None


def _reported(path: str) -> str | None:
    """The ``X.Y.Z`` the interpreter at ``path`` reports, or None if it does not run."""
    code = "import sys; print('.'.join(map(str, sys.version_info[:3])))"
    try:
        done = subprocess.run(
            [path, "-c", code], check=False, capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _same(full: str, wanted: str) -> bool:
    return full.split(".")[:2] == wanted.split(".")[:2]


# --------------------------------------------------------------------------- projects


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string."""
    return json.dumps(text)


def pyproject(scenario: Scenario, *, uv_settings: bool) -> str:
    """The project both tools lock. Only universal scenarios carry the root's
    ``requires-python`` (uv's non-universal scenario tests never see it); uv's copy also
    carries ``[tool.uv] required-environments``."""
    deps = ",\n".join(f"  {toml_string(scenario.requirement(r))}" for r in scenario.root_requires)
    lines = [
        "[project]",
        f"name = {toml_string(PROJECT_NAME)}",
        'version = "0.1.0"',
        f"dependencies = [\n{deps}\n]" if deps else "dependencies = []",
    ]
    if scenario.options.universal and scenario.root_requires_python:
        lines.append(f"requires-python = {toml_string(scenario.root_requires_python)}")
    environments = scenario.options.required_environments
    if uv_settings and environments:
        listed = ", ".join(toml_string(e) for e in environments)
        lines += ["", "[tool.uv]", f"required-environments = [{listed}]"]
    return "\n".join(lines) + "\n"


def requirements_in(scenario: Scenario) -> str:
    """The root requirements as a requirements file (``uv pip compile``'s input)."""
    return "".join(scenario.requirement(r) + "\n" for r in scenario.root_requires)


def packages_named(scenario: Scenario, names: Iterable[str]) -> list[str]:
    """Index names of ``names`` (``:all:`` kept)."""
    return [name if name == ":all:" else scenario.prefixed(name) for name in names]


# --------------------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class Verdict:
    """Whether a tool passed a scenario, and why not."""

    passed: bool
    reason: str = ""
    seconds: float = 0.0
    returncode: int | None = None
    #: What the tool said first on stderr, pass or fail (for the JSON report).
    message: str = ""


def compare(scenario: Scenario, got: Mapping[NormalizedName, Sequence[str]]) -> Verdict | None:
    """A failing verdict when ``got`` (scenario name → versions picked) differs from the
    scenario's expected versions, else None."""
    wanted = {canonicalize_name(n): v for n, v in scenario.expected}
    problems = []
    for name, version in sorted(wanted.items()):
        found = got.get(name, ())
        if not found:
            problems.append(f"expected {name} {version}, got none")
        elif len(found) > 1 or not same_version(found[0], version):
            problems.append(f"expected {name} {version}, got {name} {' or '.join(found)}")
    for name in sorted(set(got) - set(wanted)):
        problems.append(f"unexpected {name} {' or '.join(got[name])}")
    return Verdict(False, "; ".join(problems)) if problems else None


def same_version(left: str, right: str) -> bool:
    """Whether two version strings name the same version."""
    try:
        return Version(left) == Version(right)
    except InvalidVersion:
        return left == right


def exit_verdict(scenario: Scenario, done: Completed) -> Verdict | None:
    """A failing verdict when the exit code says the wrong thing, else None."""
    if done.returncode == -1:
        return Verdict(False, done.stderr)
    if "Traceback (most recent call last)" in done.stderr:
        return Verdict(False, f"crashed: {last_line(done.stderr)}")
    if scenario.satisfiable and done.returncode != 0:
        return Verdict(False, headline(done.stderr) or f"exit code {done.returncode}")
    if not scenario.satisfiable and done.returncode == 0:
        return Verdict(False, "resolved, but the scenario has no solution")
    return None


def timed(verdict: Verdict, done: Completed) -> Verdict:
    """``verdict`` with the run's time, exit code and first words on stderr."""
    seconds = round(done.seconds, 3)
    return Verdict(verdict.passed, verdict.reason, seconds, done.returncode, headline(done.stderr))


# --------------------------------------------------------------------------- tumbler


def tumbler_option_flags(scenario: Scenario) -> list[str]:
    """The flags for the scenario's resolver options (some tumbler may not have)."""
    options = scenario.options
    flags = []
    if options.prereleases:
        flags += ["--prereleases", "allow"]
    for name in packages_named(scenario, options.no_build):
        flags += ["--no-build"] if name == ":all:" else ["--only-binary", name]
    for name in packages_named(scenario, options.no_binary):
        flags += ["--no-binary", name]
    return flags


def tumbler_argv(exe: Path, scenario: Scenario, project: Path, index_url: str) -> list[str]:
    """``tumbler lock`` for ``scenario``'s project, with explicit mode flags."""
    argv = [str(exe), "lock", str(project), "--index-url", index_url, "-q"]
    argv += ["--cache-dir", str(project / "tumbler-cache")]
    options = scenario.options
    if options.universal:
        argv.append("--universal")
        for marker in options.required_environments:
            argv += ["--environment", marker]
    else:
        argv += ["--python-version", target_python(scenario)]
        argv += ["--platform", tumbler_platform(options.python_platform)]
    return argv + tumbler_option_flags(scenario)


def unsupported(done: Completed) -> Verdict | None:
    """A failing verdict when argparse rejected the command line (an unknown flag is an
    unsupported option), else None: a usage error never counts as "no solution"."""
    line = next((ln for ln in done.stderr.splitlines() if "unrecognized arguments" in ln), None)
    if line is not None:
        flags = [word for word in line.split() if word.startswith("--")]
        return Verdict(False, f"unsupported option {' '.join(flags) or line.strip()}")
    if done.stderr.startswith("usage:"):
        return Verdict(False, f"usage error: {last_line(done.stderr)}")
    return None


def selected(pylock: Pylock, target: Target) -> list[tuple[Package, object]]:
    """What ``pylock`` installs on ``target`` (default extras and groups)."""
    environment = cast("Environment", target.environment)
    return list(pylock.select(environment=environment, tags=target.tags))


def wrong_kind(scenario: Scenario, picks: Sequence[tuple[Package, object]]) -> Verdict | None:
    """A failing verdict when a ``no_binary`` package installs from a wheel or a
    ``no_build`` package from an sdist."""
    no_binary = {canonicalize_name(n) for n in scenario.options.no_binary}
    no_build = {canonicalize_name(n) for n in scenario.options.no_build}
    for package, dist in picks:
        name = scenario.unprefixed(package.name)
        wheel = type(dist).__name__ == "PackageWheel"
        if wheel and (name in no_binary or ":all:" in no_binary):
            return Verdict(False, f"{name} installs from a wheel despite no_binary")
        if not wheel and (name in no_build or ":all:" in no_build):
            return Verdict(False, f"{name} installs from {type(dist).__name__} despite no_build")
    return None


def tumbler_verdict(scenario: Scenario, done: Completed, lock: Path) -> Verdict:
    """Judge one tumbler run."""
    failed = unsupported(done) or exit_verdict(scenario, done)
    if failed is not None or not scenario.satisfiable:
        return failed or Verdict(True)
    try:
        pylock = Pylock.from_dict(tomllib.loads(lock.read_text(encoding="utf-8")))
    except Exception as error:
        return Verdict(False, f"lock does not load: {first_line(str(error))}")
    if scenario.options.universal and not scenario.expected:
        return Verdict(True)
    target = target_of(scenario)
    try:
        picks = selected(pylock, target)
    except Exception as error:
        return Verdict(False, f"lock does not install on {target.name}: {first_line(str(error))}")
    got: dict[NormalizedName, list[str]] = {}
    for package, _ in picks:
        if canonicalize_name(package.name) != PROJECT_NAME:
            got.setdefault(scenario.unprefixed(package.name), []).append(str(package.version))
    mismatch = compare(scenario, got) if scenario.expected else None
    return mismatch or wrong_kind(scenario, picks) or Verdict(True)


def run_tumbler(scenario: Scenario, work: Path, settings: Settings) -> Verdict:
    """Lock ``scenario`` with tumbler in ``work`` and judge the result."""
    project = work / "tumbler"
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text(pyproject(scenario, uv_settings=False), "utf-8")
    argv = tumbler_argv(settings.tumbler, scenario, project, settings.index_url)
    done = run(argv, project, tool_env(project), settings.timeout)
    return timed(tumbler_verdict(scenario, done, project / "pylock.toml"), done)


# --------------------------------------------------------------------------- uv


def uv_lock_argv(exe: Path, scenario: Scenario, project: Path, index_url: str) -> list[str]:
    """``uv lock`` for a universal scenario."""
    python = interpreter(scenario.environment_python) or scenario.environment_python
    argv = [str(exe), "lock", "--index-url", index_url, "--python", python]
    argv += ["--cache-dir", str(project / "uv-cache")]
    if scenario.options.prereleases:
        argv += ["--prerelease", "allow"]
    for name in packages_named(scenario, scenario.options.no_build):
        argv += ["--no-build"] if name == ":all:" else ["--no-build-package", name]
    for name in packages_named(scenario, scenario.options.no_binary):
        argv += ["--no-binary"] if name == ":all:" else ["--no-binary-package", name]
    return argv


def uv_compile_argv(exe: Path, scenario: Scenario, project: Path, index_url: str) -> list[str]:
    """``uv pip compile`` for a non-universal scenario."""
    argv = [str(exe), "pip", "compile", "requirements.in", "--index-url", index_url]
    argv += ["--cache-dir", str(project / "uv-cache"), "--no-header", "--no-annotate"]
    argv += ["--python-version", target_python(scenario)]
    argv += ["--python-platform", uv_platform(scenario)]
    python = interpreter(scenario.environment_python)
    if python is not None:
        argv += ["--python", python]
    if scenario.options.prereleases:
        argv += ["--prerelease", "allow"]
    for name in packages_named(scenario, scenario.options.no_build):
        argv += ["--only-binary", name]
    for name in packages_named(scenario, scenario.options.no_binary):
        argv += ["--no-binary", name]
    return argv


def compiled_pins(scenario: Scenario, output: str) -> dict[NormalizedName, list[str]]:
    """Scenario name → version of each ``name==version`` line of ``uv pip compile``."""
    got: dict[NormalizedName, list[str]] = {}
    for line in output.splitlines():
        text = line.split("#", 1)[0].strip().rstrip("\\").strip()
        if "==" not in text or text.startswith("-"):
            continue
        name, _, version = text.partition("==")
        got.setdefault(scenario.unprefixed(name.split("[")[0]), []).append(version.strip())
    return got


def uv_lock_pins(scenario: Scenario, lock: Path) -> dict[NormalizedName, list[str]]:
    """Scenario name → versions of each package in ``uv.lock`` (the project left out)."""
    data = tomllib.loads(lock.read_text(encoding="utf-8"))
    got: dict[NormalizedName, list[str]] = {}
    for package in data.get("package", []):
        if canonicalize_name(package["name"]) != PROJECT_NAME:
            name = scenario.unprefixed(package["name"])
            got.setdefault(name, []).append(str(package.get("version", "?")))
    return got


def uv_verdict(scenario: Scenario, done: Completed, project: Path) -> Verdict:
    """Judge one uv run."""
    failed = exit_verdict(scenario, done)
    if failed is not None or not scenario.satisfiable:
        return failed or Verdict(True)
    if scenario.options.universal:
        try:
            got = uv_lock_pins(scenario, project / "uv.lock")
        except (OSError, tomllib.TOMLDecodeError, KeyError) as error:
            return Verdict(False, f"uv.lock does not load: {first_line(str(error))}")
    else:
        got = compiled_pins(scenario, done.stdout)
    mismatch = compare(scenario, got) if scenario.expected else None
    return mismatch or Verdict(True)


def run_uv(scenario: Scenario, work: Path, settings: Settings) -> Verdict:
    """Resolve ``scenario`` with uv in ``work`` and judge the result."""
    project = work / "uv"
    project.mkdir(parents=True)
    (project / "pyproject.toml").write_text(pyproject(scenario, uv_settings=True), "utf-8")
    (project / "requirements.in").write_text(requirements_in(scenario), "utf-8")
    build = uv_lock_argv if scenario.options.universal else uv_compile_argv
    argv = build(settings.uv, scenario, project, settings.index_url)
    done = run(argv, project, tool_env(project), settings.timeout)
    return timed(uv_verdict(scenario, done, project), done)


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class Settings:
    """What every tool run shares."""

    tumbler: Path
    uv: Path
    index_url: str
    work: Path
    timeout: float


@dataclass(frozen=True)
class Result:
    """Both tools' verdicts on one scenario."""

    scenario: str
    path: str
    universal: bool
    satisfiable: bool
    verdicts: Mapping[str, Verdict]


RUNNERS = {"tumbler": run_tumbler, "uv": run_uv}


def run_one(scenario: Scenario, tool: Tool, settings: Settings) -> tuple[str, Tool, Verdict]:
    """One tool on one scenario, in a fresh directory."""
    work = settings.work / scenario.name
    try:
        verdict = RUNNERS[tool](scenario, work, settings)
    except Exception as error:
        verdict = Verdict(False, f"bench error: {type(error).__name__}: {error}")
    return scenario.name, tool, verdict


def run_all(
    scenarios: Sequence[Scenario], tools: Sequence[Tool], settings: Settings, jobs: int
) -> list[Result]:
    """Every tool on every scenario, ``jobs`` runs at a time; progress on stderr."""
    pairs = [(s, tool) for s in scenarios for tool in tools]
    verdicts: dict[tuple[str, Tool], Verdict] = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_one, s, tool, settings) for s, tool in pairs]
        for count, future in enumerate(futures, 1):
            name, tool, verdict = future.result()
            verdicts[name, tool] = verdict
            mark = "pass" if verdict.passed else "FAIL"
            print(f"[{count}/{len(pairs)}] {tool:7} {mark} {name}", file=sys.stderr)
    return [
        Result(
            s.name,
            s.path,
            s.options.universal,
            s.satisfiable,
            MappingProxyType({tool: verdicts[s.name, tool] for tool in tools}),
        )
        for s in scenarios
    ]


@contextmanager
def scenario_index(scenarios: Sequence[Scenario], directory: Path) -> Iterator[str]:
    """Build every scenario's packages into ``directory`` and serve them; yield the index
    URL (PEP 691 JSON and PEP 503 HTML, PEP 592 yanks, PEP 658 metadata)."""
    dists = [dist for scenario in scenarios for dist in scenario_dists(scenario)]
    build_dists(dists, directory)
    with serve_json_index(directory, dists) as index:
        yield index.url


# --------------------------------------------------------------------------- reporting


def reason(result: Result) -> str:
    """Why the failing tools failed, ``tool: reason`` joined by `` | ``."""
    failed = [f"{tool}: {v.reason}" for tool, v in result.verdicts.items() if not v.passed]
    return " | ".join(failed)


def table(results: Sequence[Result], tools: Sequence[Tool]) -> str:
    """One row per scenario: name, each tool's pass/FAIL, the reasons."""
    width = max([len("scenario"), *(len(r.scenario) for r in results)])
    header = f"{'scenario':{width}}  " + "".join(f"{tool:8}" for tool in tools) + "reason"
    rows = [header, "-" * len(header)]
    for result in results:
        marks = "".join(f"{'pass' if result.verdicts[tool].passed else 'FAIL':8}" for tool in tools)
        rows.append(f"{result.scenario:{width}}  {marks}{reason(result)}".rstrip())
    return "\n".join(rows)


def passed(results: Sequence[Result], tool: Tool) -> int:
    """How many scenarios ``tool`` passed."""
    return sum(1 for result in results if result.verdicts[tool].passed)


def totals(results: Sequence[Result], tools: Sequence[Tool]) -> str:
    """``tumbler: N/147 pass, uv: M/147 pass``."""
    return ", ".join(f"{tool}: {passed(results, tool)}/{len(results)} pass" for tool in tools)


def tool_version(exe: Path) -> str:
    """The first line ``exe --version`` prints, or why there is none."""
    try:
        done = subprocess.run(
            [str(exe), "--version"], check=False, capture_output=True, text=True, timeout=60
        )
    except OSError as error:
        return f"unavailable: {error}"
    return first_line(done.stdout) or first_line(done.stderr)


def report_json(
    results: Sequence[Result], tools: Sequence[Tool], versions: Mapping[str, str]
) -> dict[str, Any]:
    """The whole run as JSON-ready data."""
    return {
        "source": "bench/data/packse/scenarios",
        "tools": {tool: versions[tool] for tool in tools},
        "totals": {tool: passed(results, tool) for tool in tools},
        "scenarios": len(results),
        "results": [
            {
                "scenario": r.scenario,
                "path": r.path,
                "universal": r.universal,
                "satisfiable": r.satisfiable,
                **{tool: asdict(r.verdicts[tool]) for tool in tools},
            }
            for r in results
        ],
    }


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--only", action="append", default=[], metavar="NAME", help="run this scenario (repeatable)"
    )
    parser.add_argument(
        "-k",
        action="append",
        default=[],
        metavar="TEXT",
        dest="substrings",
        help="run scenarios whose name contains TEXT (repeatable)",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 2,
        help="tool runs at a time (default: CPU count)",
    )
    parser.add_argument(
        "--tools",
        default=",".join(TOOLS),
        help="comma-separated tools to run (default: tumbler,uv)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--output", type=Path, metavar="FILE", help="write the report here (default: stdout)"
    )
    parser.add_argument("--timeout", type=float, default=300, help="seconds per tool run")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the projects, locks and index (their path goes to stderr)",
    )
    parser.add_argument("--scenarios", type=Path, default=SCENARIOS, help=argparse.SUPPRESS)
    parser.add_argument("--tumbler", type=Path, default=TUMBLER_EXE, help="tumbler executable")
    parser.add_argument("--uv", type=Path, default=UV_EXE, help="uv executable")
    return parser.parse_args(argv)


def parse_tools(text: str) -> list[Tool]:
    """The ``--tools`` list, validated."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    tools = [tool for tool in TOOLS if tool in names]
    if len(tools) != len(names) or not tools:
        raise SystemExit(f"--tools takes a comma-separated subset of {', '.join(TOOLS)}")
    return tools


def render(
    results: Sequence[Result], tools: Sequence[Tool], fmt: str, versions: Mapping[str, str]
) -> str:
    """The report in ``fmt`` (``text`` or ``json``)."""
    if fmt == "json":
        return json.dumps(report_json(results, tools, versions), indent=2) + "\n"
    return f"{table(results, tools)}\n\n{totals(results, tools)}\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen scenarios and print or write the report."""
    args = parse_args(argv)
    tools = parse_tools(args.tools)
    scenarios = chosen(load_scenarios(args.scenarios), args.only, args.substrings)
    work = Path(tempfile.mkdtemp(prefix="tumbler-packse-"))
    try:
        with scenario_index(scenarios, work / "dists") as index_url:
            settings = Settings(args.tumbler, args.uv, index_url, work / "runs", args.timeout)
            start = time.perf_counter()
            results = run_all(scenarios, tools, settings, max(1, args.jobs))
            print(f"ran in {time.perf_counter() - start:.1f}s", file=sys.stderr)
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    executables = {"tumbler": args.tumbler, "uv": args.uv}
    versions: dict[str, str] = {tool: tool_version(executables[tool]) for tool in tools}
    text = render(results, tools, args.format, versions)
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        print(totals(results, tools), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
