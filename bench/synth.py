"""Deterministic synthetic PEP 751 locks for the benchmark.

:func:`synthetic_doc` builds a realistic lock document (the dict ``tomllib`` would give):
every package has a name, version, ``requires-python``, index, one sdist and 1-6 wheels
with url, UTC upload-time, size and sha256; about 20% carry a marker. :func:`variant_doc`
derives a second lock from it: about 5% of packages upgraded, 2% added, 2% removed and
1% with a changed hash under the same file name. Both are seeded, so the same arguments
always give byte-identical TOML (:func:`to_toml` writes it with tumbler's own renderer).

All URLs point at ``files.example.com``; nothing here names a real package index.
"""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from packaging.pylock import Pylock

from tumbler.lockfile.render import render

__all__ = ["synthetic_doc", "synthetic_pair", "to_toml", "variant_doc"]

HOST = "https://files.example.com"
INDEX = f"{HOST}/simple/"

_SYLLABLES = (
    "ack", "bar", "cor", "dex", "fli", "gar", "hop", "jin", "kal", "lum", "mor", "nex",
    "orb", "pyx", "qua", "ras", "sol", "tor", "umb", "vex", "wil", "xan", "yor", "zed",
)  # fmt: skip
_SUFFIXES = ("", "", "", "-core", "-utils", "-client", "-plugin", "-types", "-cli", "-async")
_MARKERS = (
    'sys_platform == "win32"',
    'sys_platform != "win32"',
    'python_version < "3.12"',
    'platform_machine == "x86_64" and sys_platform == "linux"',
    'implementation_name == "cpython"',
    "'dev' in dependency_groups",
    "'docs' in extras",
)
_REQUIRES_PYTHON = (">=3.8", ">=3.9", ">=3.10", ">=3.11", ">=3.9,<4", ">=3.8,!=3.9.0")
_PLATFORM_TAGS = (
    "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
    "cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64",
    "cp312-cp312-musllinux_1_2_x86_64",
    "cp312-cp312-macosx_11_0_arm64",
    "cp312-cp312-macosx_10_13_x86_64",
    "cp312-cp312-win_amd64",
    "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
    "cp311-cp311-macosx_11_0_arm64",
    "cp311-cp311-win_amd64",
    "cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64",
)
_EPOCH = datetime(2019, 1, 1, tzinfo=UTC)
_SPAN_SECONDS = 6 * 365 * 24 * 3600


def _digest(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def _url(rng: random.Random, filename: str) -> str:
    path = f"{rng.getrandbits(256):064x}"
    return f"{HOST}/packages/{path[:2]}/{path[2:4]}/{path[4:]}/{filename}"


def _upload_time(rng: random.Random) -> datetime:
    return _EPOCH + timedelta(seconds=rng.randrange(_SPAN_SECONDS))


def _file(rng: random.Random, filename: str, size: tuple[int, int]) -> dict[str, Any]:
    return {
        "name": filename,
        "upload-time": _upload_time(rng),
        "url": _url(rng, filename),
        "size": rng.randrange(*size),
        "hashes": {"sha256": _digest(rng)},
    }


def _files(rng: random.Random, name: str, version: str) -> dict[str, Any]:
    """An sdist and 1-6 wheels for ``name`` ``version``."""
    dist = name.replace("-", "_")
    count = rng.choice((1, 1, 2, 3, 4, 5, 6))
    tags = ["py3-none-any"] if count == 1 else rng.sample(_PLATFORM_TAGS, count)
    wheels = [
        _file(rng, f"{dist}-{version}-{tag}.whl", (20_000, 12_000_000)) for tag in sorted(tags)
    ]
    return {
        "sdist": _file(rng, f"{dist}-{version}.tar.gz", (10_000, 4_000_000)),
        "wheels": wheels,
    }


def _names(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    out: list[str] = []
    while len(out) < count:
        stem = "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((2, 2, 3))))
        name = stem + rng.choice(_SUFFIXES)
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


def _version(rng: random.Random) -> str:
    return f"{rng.randrange(0, 30)}.{rng.randrange(0, 40)}.{rng.randrange(0, 20)}"


def _package(rng: random.Random, name: str) -> dict[str, Any]:
    version = _version(rng)
    package: dict[str, Any] = {"name": name, "version": version}
    if rng.random() < 0.2:
        package["marker"] = rng.choice(_MARKERS)
    package["requires-python"] = rng.choice(_REQUIRES_PYTHON)
    package["index"] = INDEX
    package.update(_files(rng, name, version))
    return package


def synthetic_doc(packages: int = 2000, *, seed: int = 751) -> dict[str, Any]:
    """A valid lock document of ``packages`` packages, the same for the same seed."""
    rng = random.Random(seed)
    names = _names(rng, packages, set())
    return {
        "lock-version": "1.0",
        "environments": ['sys_platform == "linux"', 'sys_platform == "darwin"'],
        "requires-python": ">=3.11",
        "extras": ["docs"],
        "dependency-groups": ["dev"],
        "default-groups": ["default"],
        "created-by": "tumbler-bench",
        "packages": [_package(rng, name) for name in names],
    }


def _bump(rng: random.Random, version: str) -> str:
    major, minor, patch = (int(part) for part in version.split("."))
    match rng.randrange(3):
        case 0:
            return f"{major}.{minor}.{patch + 1}"
        case 1:
            return f"{major}.{minor + 1}.0"
        case _:
            return f"{major + 1}.0.0"


def variant_doc(
    doc: dict[str, Any],
    *,
    seed: int = 752,
    upgraded: float = 0.05,
    added: float = 0.02,
    removed: float = 0.02,
    rehashed: float = 0.01,
) -> dict[str, Any]:
    """A copy of ``doc`` with some packages upgraded, added, removed and re-hashed."""
    rng = random.Random(seed)
    new = copy.deepcopy(doc)
    packages: list[dict[str, Any]] = new["packages"]
    total = len(packages)
    order = list(range(total))
    rng.shuffle(order)
    cut_up = round(total * upgraded)
    cut_hash = cut_up + round(total * rehashed)
    cut_rm = cut_hash + round(total * removed)
    for i in order[:cut_up]:
        old = packages[i]
        version = _bump(rng, old["version"])
        old["version"] = version
        old.pop("sdist")
        old.pop("wheels")
        old.update(_files(rng, old["name"], version))
    for i in order[cut_up:cut_hash]:
        target = rng.choice([packages[i]["sdist"], *packages[i]["wheels"]])
        target["hashes"] = {"sha256": _digest(rng)}
    gone = set(order[cut_hash:cut_rm])
    kept = [p for i, p in enumerate(packages) if i not in gone]
    taken = {p["name"] for p in packages}
    kept += [_package(rng, name) for name in _names(rng, round(total * added), taken)]
    new["packages"] = kept
    return new


def synthetic_pair(packages: int = 2000) -> tuple[dict[str, Any], dict[str, Any]]:
    """The benchmark's two locks: the base and its variant."""
    base = synthetic_doc(packages)
    return base, variant_doc(base)


def to_toml(doc: dict[str, Any]) -> str:
    """``doc`` written by tumbler's own renderer (validated by packaging on the way)."""
    return render(Pylock.from_dict(doc))
