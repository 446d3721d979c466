"""Target environments: the marker values and wheel tags of one platform and Python.

``host`` is the running interpreter. Other targets are written
``<os>-<arch>[-<python>]``: ``linux-x86_64-3.12``, ``macos-arm64``, ``windows-amd64-3.11``.
Without a Python version the host's ``major.minor`` is used. The tags come from
``packaging.tags``; marker values are what CPython reports on that platform.
"""

from __future__ import annotations

import platform
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging import tags
from packaging.markers import default_environment

from tumbler.errors import UsageError

if TYPE_CHECKING:
    from packaging.tags import Tag

__all__ = ["PLATFORMS", "Target", "marker_environment", "parse_target"]

#: os-arch → (sys_platform, platform_system, os_name, platform_machine).
PLATFORMS: dict[str, tuple[str, str, str, str]] = {
    "linux-x86_64": ("linux", "Linux", "posix", "x86_64"),
    "linux-aarch64": ("linux", "Linux", "posix", "aarch64"),
    "macos-arm64": ("darwin", "Darwin", "posix", "arm64"),
    "macos-x86_64": ("darwin", "Darwin", "posix", "x86_64"),
    "windows-amd64": ("win32", "Windows", "nt", "AMD64"),
    "windows-arm64": ("win32", "Windows", "nt", "ARM64"),
}
_SPEC = re.compile(r"^(?P<platform>[a-z]+-[a-z0-9_]+)(?:-(?:py|cp)?(?P<python>3\.\d+(?:\.\d+)?))?$")
_NEWEST_GLIBC_MINOR = 40
_MACOS_VERSION = (15, 0)


@dataclass(frozen=True, slots=True)
class Target:
    """One environment to select for: marker values and supported tags, best first."""

    name: str
    environment: dict[str, str]
    tags: tuple[Tag, ...]


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
    match = _SPEC.match(spec)
    if match is None or match["platform"] not in PLATFORMS:
        known = ", ".join(sorted(PLATFORMS))
        raise UsageError(
            f"unknown environment {spec!r}: use 'host' or <os>-<arch>[-<python>] with one of "
            f"{known} (e.g. linux-x86_64-3.12)"
        )
    python = match["python"] or ".".join(platform.python_version_tuple()[:2])
    major, minor = (int(p) for p in python.split(".")[:2])
    environment = marker_environment(match["platform"], python)
    platforms = _platform_tags(match["platform"])
    version = (major, minor)
    interpreter = f"cp{major}{minor}"
    supported = [
        *tags.cpython_tags(version, [interpreter], platforms),
        *tags.compatible_tags(version, interpreter, platforms),
    ]
    return Target(f"{match['platform']}-{major}.{minor}", environment, tuple(supported))


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
