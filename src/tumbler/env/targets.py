"""Target environments: the marker values and wheel tags of one platform and Python.

``host`` is the running interpreter. Other targets are written
``<os>-<arch>[-<python>]``: ``linux-x86_64-3.12``, ``macos-arm64``, ``windows-amd64-3.11``,
``linux-x86_64-3.11.3`` (a patch release: ``python_full_version`` is then that release;
else ``X.Y.0``). Without a Python version the host's ``major.minor`` is used. The tags
come from ``packaging.tags``; marker values are what CPython reports on that platform.
"""

from __future__ import annotations

import functools
import platform
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging import tags
from packaging.markers import Marker, default_environment
from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from tumbler.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from packaging.tags import Tag

__all__ = [
    "PLATFORMS",
    "Target",
    "marker_environment",
    "marker_python_splits",
    "mode_name",
    "parse_target",
    "platform_of",
    "python_splits",
    "tag_masks",
    "target_marker",
    "target_name",
]

#: os-arch → (sys_platform, platform_system, os_name, platform_machine).
PLATFORMS: dict[str, tuple[str, str, str, str]] = {
    "linux-x86_64": ("linux", "Linux", "posix", "x86_64"),
    "linux-aarch64": ("linux", "Linux", "posix", "aarch64"),
    "macos-arm64": ("darwin", "Darwin", "posix", "arm64"),
    "macos-x86_64": ("darwin", "Darwin", "posix", "x86_64"),
    "windows-amd64": ("win32", "Windows", "nt", "AMD64"),
    "windows-arm64": ("win32", "Windows", "nt", "ARM64"),
}
#: Other names of the same machines: ``x86_64`` is Windows' ``amd64``, ``arm64`` Linux's
#: ``aarch64``; either is accepted for every operating system.
_MACHINE_NAMES = {"amd64": "x86_64", "x86_64": "amd64", "arm64": "aarch64", "aarch64": "arm64"}
_SPEC = re.compile(r"^(?P<platform>[a-z]+-[a-z0-9_]+)(?:-(?:py|cp)?(?P<python>3\.\d+(?:\.\d+)?))?$")
_NEWEST_GLIBC_MINOR = 40
_MACOS_VERSION = (15, 0)


@dataclass(frozen=True, slots=True)
class Target:
    """One environment to select for: marker values and supported tags, best first."""

    name: str
    environment: dict[str, str]
    #: The tags, or how to list them when first asked (a tag list is slow to build and
    #: the gate needs few of them).
    supported: tuple[Tag, ...] | Callable[[], tuple[Tag, ...]] = field(compare=False)
    #: Names the tag list among other targets' (platform and CPython minor version:
    #: ``linux-x86_64-3.12``), so that it can be kept as text; "" when only the list
    #: itself tells (the host).
    tags_key: str = field(default="", compare=False)

    @property
    def tags(self) -> tuple[Tag, ...]:
        """The tags a wheel may carry to install here, best first."""
        supported = self.supported
        return supported if isinstance(supported, tuple) else supported()


def _platform_tags(name: str) -> list[str]:
    machine = PLATFORMS[name][3]
    if name.startswith("linux"):
        arch = machine
        glibc = [f"manylinux_2_{minor}_{arch}" for minor in range(_NEWEST_GLIBC_MINOR, 16, -1)]
        legacy = [f"manylinux2014_{arch}"]
        if arch == "x86_64":
            glibc += [f"manylinux_2_{minor}_{arch}" for minor in range(16, 4, -1)]
            legacy += [f"manylinux2010_{arch}", f"manylinux1_{arch}"]
        return [*glibc, *legacy, f"linux_{arch}"]
    if name.startswith("macos"):
        return list(tags.mac_platforms(_MACOS_VERSION, machine))
    return ["win_amd64" if machine == "AMD64" else "win_arm64"]


def _host() -> Target:
    environment = {k: str(v) for k, v in default_environment().items()}
    return Target("host", environment, tuple(tags.sys_tags()))


def parse_target(spec: str) -> Target:
    """The target named by ``spec`` (``host`` or ``<os>-<arch>[-<python>]``)."""
    if spec == "host":
        return _host()
    return _named_target(spec)


@functools.lru_cache(maxsize=1024)
def _named_target(spec: str) -> Target:
    """A named target, made once per run (its tag list is long to build; targets are
    never changed)."""
    match = _SPEC.match(spec)
    name = None if match is None else platform_name(match["platform"])
    if match is None or name is None:
        known = ", ".join(sorted(PLATFORMS))
        raise UsageError(
            f"unknown environment {spec!r}: use 'host' or <os>-<arch>[-<python>] with one of "
            f"{known} (e.g. linux-x86_64-3.12)"
        )
    python = match["python"] or ".".join(platform.python_version_tuple()[:2])
    parts = [int(p) for p in python.split(".")]
    major, minor = parts[:2]
    patch = parts[2] if len(parts) == 3 else 0
    environment = marker_environment(name, python)
    shown = f"{major}.{minor}" + (f".{patch}" if patch else "")
    supported = functools.partial(_supported, name, major, minor)
    return Target(f"{name}-{shown}", environment, supported, f"{name}-{major}.{minor}")


def platform_name(text: str) -> str | None:
    """The key of :data:`PLATFORMS` that ``text`` names (``windows-x86_64`` is
    ``windows-amd64``, ``linux-arm64`` is ``linux-aarch64``), or None."""
    if text in PLATFORMS:
        return text
    system, _, machine = text.partition("-")
    other = f"{system}-{_MACHINE_NAMES.get(machine, machine)}"
    return other if other in PLATFORMS else None


@functools.lru_cache(maxsize=256)
def _supported(platform_name: str, major: int, minor: int) -> tuple[Tag, ...]:
    """The tags a CPython minor version installs on a platform, best first (the same
    for every patch release)."""
    platforms = _platform_tags(platform_name)
    version = (major, minor)
    interpreter = f"cp{major}{minor}"
    return (
        *tags.cpython_tags(version, [interpreter], platforms),
        *tags.compatible_tags(version, interpreter, platforms),
    )


def platform_of(environment: Mapping[str, str]) -> str | None:
    """The key of :data:`PLATFORMS` whose ``sys_platform`` and ``platform_machine`` these
    marker values have, or None."""
    for name, (sys_platform, _, _, machine) in PLATFORMS.items():
        if environment.get("sys_platform") == sys_platform and (
            environment.get("platform_machine") == machine
        ):
            return name
    return None


def marker_environment(platform_name: str, python: str) -> dict[str, str]:
    """CPython's marker values on ``platform_name`` (a key of :data:`PLATFORMS`) and ``python``."""
    parts = python.split(".")
    full = python if len(parts) == 3 else f"{python}.0"
    major, minor = int(parts[0]), int(parts[1])
    sys_platform, system, os_name, machine = PLATFORMS[platform_name]
    return {
        "implementation_name": "cpython",
        "implementation_version": full,
        "os_name": os_name,
        "platform_machine": machine,
        "platform_release": "",
        "platform_system": system,
        "platform_version": "",
        "python_full_version": full,
        "platform_python_implementation": "CPython",
        "python_version": f"{major}.{minor}",
        "sys_platform": sys_platform,
    }


# --- naming targets ----------------------------------------------------------------------


def target_name(target: Target) -> str:
    """``linux-x86_64-3.11`` style name of a target (``host`` resolved to what it is)."""
    env = target.environment
    platform = platform_of(env) or f"{env.get('sys_platform')}-{env.get('platform_machine')}"
    return f"{platform}-{env['python_version']}"


def mode_name(target: Target) -> str:
    """How a one-target lock records its target: ``linux-x86_64-3.12``, with the patch
    release when one was asked for (``linux-x86_64-3.11.4``; ``--target host`` is this
    machine's platform and release); ``host`` on a machine outside the six platforms."""
    return target.name


def target_marker(
    target: Target, lower: Version | None = None, upper: Version | None = None
) -> Marker:
    """The ``environments`` marker of a single-target lock: its platform and Python minor
    version, from patch release ``lower`` and before ``upper`` when given."""
    env = target.environment
    bounds = [
        *([f"python_full_version >= '{lower}'"] if lower else []),
        *([f"python_full_version < '{upper}'"] if upper else []),
    ]
    return Marker(
        " and ".join(
            [
                f"implementation_name == '{env['implementation_name']}'",
                f"python_version == '{env['python_version']}'",
                *bounds,
                f"sys_platform == '{env['sys_platform']}'",
                f"platform_system == '{env['platform_system']}'",
                f"platform_machine == '{env['platform_machine']}'",
            ]
        )
    )


# --- where Python patch releases differ ------------------------------------------------------

_FULL_VERSION = re.compile(
    r"python_full_version\s*(?P<op>===|==|!=|<=|>=|~=|<|>)\s*(?P<q>['\"])(?P<value>[^'\"]*)(?P=q)"
    r"|(?P<q2>['\"])(?P<value2>[^'\"]*)(?P=q2)\s*(?P<op2>===|==|!=|<=|>=|~=|<|>)\s*"
    r"python_full_version"
)
#: An operator read with the variable on its right (``'3.11.3' > python_full_version``).
_FLIPPED = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!=", "===": "==="}


def _patch_points(specifier: Specifier) -> set[Version]:
    """Patch releases at which ``specifier`` may start or stop holding."""
    text = specifier.version.removesuffix(".*")
    try:
        version = Version(text)
    except InvalidVersion:
        return set()
    release = (*version.release, 0, 0)[:3]
    base = Version(".".join(str(p) for p in release))
    after = Version(f"{release[0]}.{release[1]}.{release[2] + 1}")
    return {base, after}


@functools.lru_cache(maxsize=4096)
def python_splits(specifier: SpecifierSet) -> frozenset[Version]:
    """The patch releases (``3.11.3``, never ``X.Y.0``) at which final CPython releases of
    one minor version start or stop satisfying ``specifier``: where a universal lock must
    tell patch releases apart (``Requires-Python: >=3.11.4``)."""
    out = set()
    for single in specifier:
        for point in _patch_points(single):
            if point.micro == 0:
                continue
            before = Version(f"{point.major}.{point.minor}.{point.micro - 1}")
            if specifier.contains(point, prereleases=True) != specifier.contains(
                before, prereleases=True
            ):
                out.add(point)
    return frozenset(out)


@functools.lru_cache(maxsize=4096)
def marker_python_splits(marker_text: str) -> frozenset[Version]:
    """The patch releases at which a marker's ``python_full_version`` comparisons
    (``python_full_version < "3.11.3"``) change their answer; see :func:`python_splits`."""
    if "python_full_version" not in marker_text:
        return frozenset()
    out: set[Version] = set()
    for match in _FULL_VERSION.finditer(marker_text):
        operator = match["op"] or _FLIPPED[match["op2"]]
        value = match["value"] if match["op"] else match["value2"]
        try:
            specifier = SpecifierSet(f"{operator}{value}")
        except InvalidSpecifier:
            continue
        out |= python_splits(specifier)
    return frozenset(out)


def tag_texts(target: Target) -> tuple[str, ...]:
    """The target's tags as text (``cp312-cp312-manylinux_2_17_x86_64``), best first."""
    return tuple(str(tag) for tag in target.tags)


def tag_masks(targets: Sequence[Target]) -> dict[str, int]:
    """Each tag (``cp312-cp312-manylinux_2_17_x86_64``) any of ``targets`` supports → the
    targets supporting it, as a mask (bit ``i`` for ``targets[i]``)."""
    out: dict[str, int] = {}
    for bit, target in enumerate(targets):
        for tag in target.tags:
            text = str(tag)
            out[text] = out.get(text, 0) | 1 << bit
    return out
