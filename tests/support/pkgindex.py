"""A real package index for tests: wheels and sdists built on the fly, served two ways.

Nothing here is mocked. :func:`build_dists` writes small but real, byte-for-byte
deterministic wheels and sdists. Each sdist carries its own stdlib-only PEP 517 backend
(:data:`BACKEND_SOURCE`, ``requires = []``), so pip, uv or ``build`` can build it with build
isolation on and no index; :func:`write_source_tree` writes the same project unpacked, for
directory, editable and VCS tests. :func:`run_pypiserver` serves a directory of them with the
real ``pypiserver`` in a subprocess (PEP 503 HTML, Range support, no PEP 592/658/691);
:func:`serve_json_index` serves them from a stdlib ``ThreadingHTTPServer`` that speaks the
full simple API (PEP 503 HTML, PEP 691/700 JSON by ``Accept`` negotiation, PEP 592 yanks,
PEP 658/714 ``.metadata`` files, HTTP Range, HEAD). Both listen on ``127.0.0.1`` only.

Session-scoped pytest fixtures: ``dist_dir`` (a :class:`~pathlib.Path` holding the built
:func:`default_catalogue`), ``pypiserver_index`` and ``json_index`` (each a
:class:`PackageIndex`). To offer them to every test, ``tests/conftest.py`` (the top-level
one) must contain::

    pytest_plugins = ["tests.support.pkgindex"]

A test module may instead carry that same line itself; registration is by module name, so
doing both is harmless. The marker PYTEST_DONT_REWRITE keeps pytest from warning when a test
module imports helpers from here before the plugin is registered (this module needs no
assertion rewriting).
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import html
import http.client
import io
import json
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, unquote, urlsplit

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import (
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from pathlib import Path

__all__ = [
    "BACKEND_SOURCE",
    "JSON_V1",
    "Dist",
    "PackageIndex",
    "Response",
    "build_dists",
    "build_sdist",
    "build_wheel",
    "core_metadata",
    "default_catalogue",
    "dist_dir",
    "fetch",
    "json_index",
    "pypiserver_index",
    "run_pypiserver",
    "serve_json_index",
    "upload_time_text",
    "write_source_tree",
]

#: PEP 691 content types.
JSON_V1 = "application/vnd.pypi.simple.v1+json"
HTML_V1 = "application/vnd.pypi.simple.v1+html"
TEXT_HTML = "text/html"
#: The simple API version our server claims (PEP 700 adds size, upload-time, versions).
API_VERSION = "1.1"

#: 1980-01-01, the earliest time a zip file can record; also used for tar members.
EPOCH_1980 = (1980, 1, 1, 0, 0, 0)
EPOCH_1980_SECONDS = 315532800
DEFAULT_UPLOAD_TIME = datetime(2024, 1, 1, tzinfo=UTC)
LOCALHOST = "127.0.0.1"


def _escaped(name: str) -> str:
    """The file-name form of a project name: normalized, with ``_`` for runs of ``-_.``."""
    return canonicalize_name(name).replace("-", "_")


@dataclass(frozen=True)
class Dist:
    """One release of a project, built as a wheel and/or sdist.

    Attributes:
        name: Project name as written in the metadata (any spelling).
        version: Version; file names use its normalized form.
        requires_dist: ``Requires-Dist`` entries, markers allowed.
        requires_python: ``Requires-Python`` specifier, or None.
        extras: Extra name to its requirements; each gets ``extra == "<name>"`` appended.
        yanked: None when not yanked, else the PEP 592 reason (may be empty).
        upload_time: Time-zone aware upload time the JSON API reports.
        sdist: Whether to build an sdist.
        wheel: Whether to build the ``py3-none-any`` wheel.
        platform_wheels: Tags (``cp312-cp312-win_amd64``) of further wheels to build, one
            each, with the same contents: a release with wheels for some platforms only.
        scripts: Console-script names; each runs the module's ``main`` (wheels only).
        modules: Further wheel members as ``(path, text)`` (``pkg/api.pyi``, ``other.py``);
            a path equal to the default ``<import>/__init__.py`` replaces it (wheels only).
        project_urls: ``Project-URL`` entries as ``(label, url)``.
    """

    name: str
    version: str
    requires_dist: tuple[str, ...] = ()
    requires_python: str | None = None
    extras: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    yanked: str | None = None
    upload_time: datetime = DEFAULT_UPLOAD_TIME
    sdist: bool = True
    wheel: bool = True
    platform_wheels: tuple[str, ...] = ()
    scripts: tuple[str, ...] = ()
    modules: tuple[tuple[str, str], ...] = ()
    project_urls: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        """Validate the fields and freeze ``extras``."""
        Version(self.version)
        if self.requires_python is not None:
            SpecifierSet(self.requires_python)
        object.__setattr__(self, "requires_dist", tuple(self.requires_dist))
        frozen = {canonicalize_name(k): tuple(v) for k, v in sorted(self.extras.items())}
        object.__setattr__(self, "extras", MappingProxyType(frozen))
        for requirement in self.all_requires():
            Requirement(requirement)
        if self.upload_time.tzinfo is None:
            raise ValueError(f"{self.name} {self.version}: upload_time must be time-zone aware")
        object.__setattr__(self, "platform_wheels", tuple(self.platform_wheels))
        if not (self.sdist or self.wheel or self.platform_wheels):
            raise ValueError(f"{self.name} {self.version}: builds neither sdist nor wheel")

    @property
    def project(self) -> str:
        """The normalized (PEP 503) project name."""
        return canonicalize_name(self.name)

    @property
    def file_version(self) -> str:
        """The normalized version used in file names."""
        return str(Version(self.version))

    @property
    def import_name(self) -> str:
        """The top-level module the distribution ships."""
        return _escaped(self.name)

    @property
    def wheel_filename(self) -> str:
        """The wheel's file name, e.g. ``sdist_only-0.1-py3-none-any.whl``."""
        return self.wheel_filename_for("py3-none-any")

    def wheel_filename_for(self, tag: str) -> str:
        """The file name of the wheel tagged ``tag`` (``py3-none-any``, ``cp312-...``)."""
        return f"{_escaped(self.name)}-{self.file_version}-{tag}.whl"

    @property
    def wheel_tags(self) -> tuple[str, ...]:
        """The tags of every wheel this release builds."""
        return (("py3-none-any",) if self.wheel else ()) + self.platform_wheels

    @property
    def sdist_filename(self) -> str:
        """The sdist's file name, e.g. ``sdist_only-0.1.tar.gz``."""
        return f"{_escaped(self.name)}-{self.file_version}.tar.gz"

    @property
    def filenames(self) -> tuple[str, ...]:
        """The names of the files this release builds to."""
        names = []
        if self.sdist:
            names.append(self.sdist_filename)
        names.extend(self.wheel_filename_for(tag) for tag in self.wheel_tags)
        return tuple(names)

    def all_requires(self) -> tuple[str, ...]:
        """``requires_dist`` followed by every extra's requirements with its extra marker."""
        out = list(self.requires_dist)
        for extra, requirements in self.extras.items():
            for text in requirements:
                requirement = Requirement(text)
                marker = requirement.marker
                requirement.marker = None
                condition = f'extra == "{extra}"'
                if marker is not None:
                    condition = f"({marker}) and {condition}"
                out.append(f"{requirement}; {condition}")
        return tuple(out)


def default_catalogue() -> tuple[Dist, ...]:
    """A small world: yanks, extras, markers, Requires-Python and an sdist-only project."""

    def day(year: int, month: int, date: int) -> datetime:
        return datetime(year, month, date, 12, 0, tzinfo=UTC)

    return (
        Dist("alpha", "1.0", upload_time=day(2023, 1, 10)),
        Dist("alpha", "1.1", upload_time=day(2023, 6, 1)),
        Dist(
            "alpha",
            "2.0",
            upload_time=day(2024, 1, 15),
            yanked='broken import; use "alpha<2" & wait',
        ),
        Dist(
            "beta",
            "1.0",
            requires_dist=("alpha>=1.0",),
            extras={"fast": ("gamma",)},
            upload_time=day(2023, 7, 1),
        ),
        Dist("gamma", "0.5", requires_python=">=3.8", upload_time=day(2023, 2, 1)),
        Dist("gamma", "0.6", requires_python=">=3.8", upload_time=day(2023, 8, 1)),
        Dist(
            "delta",
            "1.0",
            requires_dist=(
                'alpha>=1.1; sys_platform == "win32"',
                'gamma>=0.5; sys_platform != "win32"',
            ),
            upload_time=day(2023, 9, 1),
        ),
        Dist("sdist-only", "0.1", wheel=False, upload_time=day(2023, 3, 1)),
    )


# --- building -------------------------------------------------------------------------------


def core_metadata(dist: Dist) -> bytes:
    """The core metadata (``METADATA`` / ``PKG-INFO``) for ``dist``, Metadata-Version 2.3."""
    lines = [
        "Metadata-Version: 2.3",
        f"Name: {dist.name}",
        f"Version: {dist.version}",
        f"Summary: Test distribution {dist.name} {dist.version}.",
    ]
    if dist.requires_python is not None:
        lines.append(f"Requires-Python: {dist.requires_python}")
    lines.extend(f"Requires-Dist: {requirement}" for requirement in dist.all_requires())
    lines.extend(f"Provides-Extra: {extra}" for extra in dist.extras)
    lines.extend(f"Project-URL: {label}, {url}" for label, url in dist.project_urls)
    return ("\n".join(lines) + "\n").encode()


def _module_source(dist: Dist) -> bytes:
    text = f'"""Test distribution {dist.name}."""\n\n__version__ = "{dist.version}"\n'
    if dist.scripts:
        text += f'\n\ndef main() -> None:\n    print("{dist.name} {dist.version}")\n'
    return text.encode()


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _wheel_members(dist: Dist, tag: str = "py3-none-any") -> list[tuple[str, bytes]]:
    dist_info = f"{_escaped(dist.name)}-{dist.file_version}.dist-info"
    pure = tag == "py3-none-any"
    wheel_file = b"".join(
        [
            b"Wheel-Version: 1.0\n",
            b"Generator: tests.support.pkgindex\n",
            b"Root-Is-Purelib: " + (b"true" if pure else b"false") + b"\n",
            b"Tag: " + tag.encode() + b"\n",
        ]
    )
    given = {path: text.encode() for path, text in dist.modules}
    default = f"{dist.import_name}/__init__.py"
    payload = sorted({default: _module_source(dist), **given}.items())
    meta = sorted(
        [(f"{dist_info}/METADATA", core_metadata(dist)), (f"{dist_info}/WHEEL", wheel_file)]
    )
    if dist.scripts:
        lines = "".join(f"{name} = {dist.import_name}:main\n" for name in dist.scripts)
        meta.append((f"{dist_info}/entry_points.txt", f"[console_scripts]\n{lines}".encode()))
    members = payload + meta
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for path, data in members:
        writer.writerow([path, _record_hash(data), str(len(data))])
    writer.writerow([f"{dist_info}/RECORD", "", ""])
    return [*members, (f"{dist_info}/RECORD", record.getvalue().encode())]


def _zip_bytes(members: Iterable[tuple[str, bytes]]) -> bytes:
    """A deterministic zip of ``members`` in the order given (1980 times, mode 0644)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in members:
            info = zipfile.ZipInfo(path, date_time=EPOCH_1980)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever the host
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def _tar_gz_bytes(members: Iterable[tuple[str, bytes]]) -> bytes:
    """A deterministic PAX tar, gzipped, of ``members`` in the order given."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, data in members:
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mtime = EPOCH_1980_SECONDS
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            archive.addfile(info, io.BytesIO(data))
    return gzip.compress(buffer.getvalue(), compresslevel=9, mtime=0)


def build_wheel(dist: Dist, directory: Path, tag: str = "py3-none-any") -> Path:
    """Write ``dist``'s wheel tagged ``tag`` into ``directory`` and return its path."""
    target = directory / dist.wheel_filename_for(tag)
    target.write_bytes(_zip_bytes(_wheel_members(dist, tag)))
    return target


#: Where sdists and source trees keep the in-tree PEP 517 backend (``backend-path``).
BACKEND_DIR = "_backend"
#: The backend module's name (``build-backend``).
BACKEND_MODULE = "tumbler_test_backend"
#: The backend's path inside an sdist or source tree.
BACKEND_PATH = f"{BACKEND_DIR}/{BACKEND_MODULE}.py"

#: The in-tree backend every sdist ships: stdlib only, so ``requires = []`` and building needs
#: no index. It turns PKG-INFO into METADATA and makes the same bytes as :func:`build_wheel`.
BACKEND_SOURCE = r'''"""A stdlib-only PEP 517 build backend for tumbler's test distributions.

The hooks run in the project root. ``[tool.tumbler-test-backend]`` in ``pyproject.toml``
names the distribution (escaped name and normalized version, as in file names) and the
package directory. The wheel is ``py3-none-any``: that package plus a ``.dist-info`` whose
METADATA is the tree's PKG-INFO without its ``Dynamic`` lines (only sdists carry those).
Wheels and sdists are byte-for-byte deterministic; editable wheels add the root to sys.path.
"""

from __future__ import annotations

import base64
import csv
import gzip
import hashlib
import io
import os
import tarfile
import tomllib
import zipfile

EPOCH_1980 = (1980, 1, 1, 0, 0, 0)
EPOCH_1980_SECONDS = 315532800
BACKEND = "_backend/tumbler_test_backend.py"
WHEEL = (
    b"Wheel-Version: 1.0\n"
    b"Generator: tests.support.pkgindex\n"
    b"Root-Is-Purelib: true\n"
    b"Tag: py3-none-any\n"
)


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


def _config():
    with open("pyproject.toml", "rb") as handle:
        table = tomllib.load(handle)["tool"]["tumbler-test-backend"]
    return table["distribution"], table["package"]


def _metadata():
    head, blank, body = _read("PKG-INFO").partition(b"\n\n")
    lines = head.splitlines(keepends=True)
    kept = [line for line in lines if not line.lower().startswith(b"dynamic:")]
    return b"".join(kept) + blank + body


def _package_files(package):
    if not os.path.isdir(package):
        raise FileNotFoundError(f"package directory {package!r} is missing")
    found = []
    for root, dirs, files in os.walk(package):
        dirs[:] = sorted(name for name in dirs if name != "__pycache__")
        for name in files:
            if not name.endswith((".pyc", ".pyo")):
                path = os.path.join(root, name)
                found.append((path.replace(os.sep, "/"), _read(path)))
    return sorted(found)


def _record_hash(data):
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _wheel(distribution, payload):
    dist_info = f"{distribution}.dist-info"
    meta = [(f"{dist_info}/METADATA", _metadata()), (f"{dist_info}/WHEEL", WHEEL)]
    members = sorted(payload) + sorted(meta)
    record = io.StringIO()
    writer = csv.writer(record, lineterminator="\n")
    for path, data in members:
        writer.writerow([path, _record_hash(data), str(len(data))])
    writer.writerow([f"{dist_info}/RECORD", "", ""])
    members.append((f"{dist_info}/RECORD", record.getvalue().encode()))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in members:
            info = zipfile.ZipInfo(path, date_time=EPOCH_1980)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data, compresslevel=9)
    return buffer.getvalue()


def _write(directory, name, data):
    with open(os.path.join(directory, name), "wb") as handle:
        handle.write(data)
    return name


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    distribution, _package = _config()
    dist_info = f"{distribution}.dist-info"
    os.makedirs(os.path.join(metadata_directory, dist_info), exist_ok=True)
    _write(metadata_directory, f"{dist_info}/METADATA", _metadata())
    _write(metadata_directory, f"{dist_info}/WHEEL", WHEEL)
    return dist_info


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    return prepare_metadata_for_build_wheel(metadata_directory, config_settings)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    distribution, package = _config()
    data = _wheel(distribution, _package_files(package))
    return _write(wheel_directory, f"{distribution}-py3-none-any.whl", data)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    distribution, package = _config()
    _package_files(package)
    root = os.path.abspath(os.getcwd())
    payload = [(f"__editable__.{distribution}.pth", (root + "\n").encode())]
    return _write(wheel_directory, f"{distribution}-py3-none-any.whl", _wheel(distribution, payload))


def build_sdist(sdist_directory, config_settings=None):
    distribution, package = _config()
    files = [
        ("PKG-INFO", _read("PKG-INFO")),
        ("pyproject.toml", _read("pyproject.toml")),
        (BACKEND, _read(BACKEND)),
        *_package_files(package),
    ]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for path, data in sorted(files):
            info = tarfile.TarInfo(f"{distribution}/{path}")
            info.size = len(data)
            info.mtime = EPOCH_1980_SECONDS
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            archive.addfile(info, io.BytesIO(data))
    data = gzip.compress(buffer.getvalue(), compresslevel=9, mtime=0)
    return _write(sdist_directory, f"{distribution}.tar.gz", data)
'''


def _pyproject(dist: Dist) -> bytes:
    def toml_list(items: Iterable[str]) -> str:
        return "[" + ", ".join(json.dumps(item) for item in items) + "]"

    lines = [
        "[build-system]",
        "requires = []",
        f"build-backend = {json.dumps(BACKEND_MODULE)}",
        f"backend-path = {toml_list([BACKEND_DIR])}",
        "",
        "[project]",
        f"name = {json.dumps(dist.name)}",
        f"version = {json.dumps(dist.version)}",
        f"description = {json.dumps(f'Test distribution {dist.name} {dist.version}.')}",
    ]
    if dist.requires_python is not None:
        lines.append(f"requires-python = {json.dumps(dist.requires_python)}")
    lines.append(f"dependencies = {toml_list(dist.requires_dist)}")
    if dist.extras:
        lines += ["", "[project.optional-dependencies]"]
        lines.extend(f"{extra} = {toml_list(reqs)}" for extra, reqs in dist.extras.items())
    lines += [
        "",
        "[tool.tumbler-test-backend]",
        f"distribution = {json.dumps(f'{_escaped(dist.name)}-{dist.file_version}')}",
        f"package = {json.dumps(dist.import_name)}",
    ]
    return ("\n".join(lines) + "\n").encode()


def _source_files(dist: Dist, pkg_info: bytes | None) -> list[tuple[str, bytes]]:
    """The files of ``dist``'s project, by path relative to its root, sorted."""
    return sorted(
        [
            ("PKG-INFO", core_metadata(dist) if pkg_info is None else pkg_info),
            ("pyproject.toml", _pyproject(dist)),
            (BACKEND_PATH, BACKEND_SOURCE.encode()),
            (f"{dist.import_name}/__init__.py", _module_source(dist)),
        ]
    )


def build_sdist(
    dist: Dist,
    directory: Path,
    *,
    pkg_info: bytes | None = None,
    archive_format: Literal["tar.gz", "zip"] = "tar.gz",
) -> Path:
    """Write ``dist``'s sdist into ``directory`` and return its path.

    The sdist holds PKG-INFO, pyproject.toml, the in-tree backend (:data:`BACKEND_SOURCE`)
    and the package, under one ``<name>-<version>/`` directory; building it needs no index.

    Args:
        dist: The release.
        directory: Where to write the file.
        pkg_info: PKG-INFO to ship instead of :func:`core_metadata` (e.g. with ``Dynamic``).
        archive_format: ``"tar.gz"`` (PAX tar, gzip; :attr:`Dist.sdist_filename`) or
            ``"zip"`` (the same name ending in ``.zip``).
    """
    root = f"{_escaped(dist.name)}-{dist.file_version}"
    members = [(f"{root}/{path}", data) for path, data in _source_files(dist, pkg_info)]
    if archive_format == "zip":
        target = directory / f"{root}.zip"
        target.write_bytes(_zip_bytes(members))
    else:
        target = directory / dist.sdist_filename
        target.write_bytes(_tar_gz_bytes(members))
    return target


def write_source_tree(dist: Dist, directory: Path, *, pkg_info: bytes | None = None) -> Path:
    """Write ``dist``'s unpacked project (what its sdist holds) into ``directory``; return it.

    ``directory`` is created if needed and gets PKG-INFO, pyproject.toml, the in-tree backend
    and the package, ready for a directory, editable or VCS install that needs no index.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for path, data in _source_files(dist, pkg_info):
        target = directory.joinpath(*path.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return directory


def build_dists(dists: Iterable[Dist], directory: Path) -> dict[str, Path]:
    """Build every wheel and sdist of ``dists`` into ``directory``; map file name to path."""
    directory.mkdir(parents=True, exist_ok=True)
    built: dict[str, Path] = {}
    for dist in dists:
        for filename in dist.filenames:
            if filename in built:
                raise ValueError(f"two distributions build {filename}")
        if dist.sdist:
            built[dist.sdist_filename] = build_sdist(dist, directory)
        for tag in dist.wheel_tags:
            built[dist.wheel_filename_for(tag)] = build_wheel(dist, directory, tag)
    return dict(sorted(built.items()))


def _dist_files(directory: Path) -> dict[str, Path]:
    """The wheels and sdists in ``directory``, by file name."""
    found = [*directory.glob("*.whl"), *directory.glob("*.tar.gz")]
    return {path.name: path for path in sorted(found)}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def upload_time_text(moment: datetime) -> str:
    """``moment`` in the PEP 700 form, ``yyyy-mm-ddThh:mm:ss.ffffffZ``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- the index object and a small HTTP client -----------------------------------------------


@dataclass(frozen=True)
class PackageIndex:
    """A running index.

    Attributes:
        url: The simple API base URL, ending in ``/simple/``.
        root: The server's root URL, ending in ``/``.
        files: File name to the served file on disk.
        files_url: The URL files are downloaded under, ending in ``/``.
        dists: The releases the server describes (empty when it knows only the files).
    """

    url: str
    root: str
    files: Mapping[str, Path] = field(hash=False)
    files_url: str
    dists: tuple[Dist, ...] = ()

    def project_url(self, name: str) -> str:
        """The project page URL for ``name`` (normalized)."""
        return f"{self.url}{canonicalize_name(name)}/"

    def file_url(self, filename: str) -> str:
        """The download URL of ``filename`` (KeyError when the index does not serve it)."""
        if filename not in self.files:
            raise KeyError(filename)
        return self.files_url + quote(filename)

    def sha256(self, filename: str) -> str:
        """The hex sha256 of ``filename`` as served."""
        return _sha256(self.files[filename])


@dataclass(frozen=True)
class Response:
    """One HTTP response, read in full; header names are lower-cased."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)

    @property
    def text(self) -> str:
        """The body decoded as UTF-8."""
        return self.body.decode()


def fetch(
    url: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> Response:
    """Send one request to ``http://127.0.0.1`` (anything else is refused); no redirects."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname != LOCALHOST:
        raise ValueError(f"fetch only talks to http://{LOCALHOST}, not {url!r}")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPConnection(LOCALHOST, parts.port, timeout=timeout)
    try:
        connection.request(method, target, headers=dict(headers or {}))
        with connection.getresponse() as response:
            body = response.read()
            found = {name.lower(): value for name, value in response.getheaders()}
            return Response(response.status, MappingProxyType(found), body)
    finally:
        connection.close()


# --- pypiserver -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOCALHOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    try:
        return fetch(url, timeout=1.0).status == 200
    except OSError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def run_pypiserver(
    directory: Path, *, dists: Iterable[Dist] = (), startup_timeout: float = 30.0
) -> Iterator[PackageIndex]:
    """Serve ``directory`` with the real pypiserver on an ephemeral 127.0.0.1 port.

    Args:
        directory: The wheels and sdists to serve.
        dists: The releases the files came from, kept on the returned index for reference.
        startup_timeout: Seconds to wait for the server to answer.

    Yields:
        The running index; the subprocess is terminated on exit.
    """
    with tempfile.TemporaryFile() as log:
        for _attempt in range(3):  # the port is probed free, then bound by the child: retry
            port = _free_port()
            command = [
                sys.executable,
                "-m",
                "pypiserver",
                "run",
                "--host",
                LOCALHOST,
                "--port",
                str(port),
                "--authenticate",
                ".",
                "--passwords",
                ".",
                "--disable-fallback",
                "--hash-algo",
                "sha256",
                "--backend",
                "simple-dir",
                "--server",
                "wsgiref",
                str(directory),
            ]
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            root = f"http://{LOCALHOST}:{port}/"
            deadline = time.monotonic() + startup_timeout
            while process.poll() is None and time.monotonic() < deadline:
                if _answers(root + "health"):
                    break
                time.sleep(0.05)
            else:
                _stop(process)
                continue
            try:
                yield PackageIndex(
                    url=root + "simple/",
                    root=root,
                    files=MappingProxyType(_dist_files(directory)),
                    files_url=root + "packages/",
                    dists=tuple(dists),
                )
            finally:
                _stop(process)
            return
        log.seek(0)
        output = log.read().decode(errors="replace")
    raise RuntimeError(f"pypiserver did not start:\n{output}")


# --- our simple API server ------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    filename: str
    path: Path
    dist: Dist
    sha256: str
    size: int
    metadata: bytes | None

    @property
    def metadata_sha256(self) -> str | None:
        return None if self.metadata is None else hashlib.sha256(self.metadata).hexdigest()


def _wheel_metadata(path: Path) -> bytes:
    """The ``METADATA`` file inside the wheel at ``path``, byte for byte."""
    with zipfile.ZipFile(path) as archive:
        names = [
            n for n in archive.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")
        ]
        if len(names) != 1:
            raise ValueError(f"{path.name}: expected one .dist-info/METADATA, found {names}")
        return archive.read(names[0])


def _entries(directory: Path, dists: Iterable[Dist]) -> dict[str, _Entry]:
    entries: dict[str, _Entry] = {}
    for dist in dists:
        for filename in dist.filenames:
            path = directory / filename
            if not path.is_file():
                raise FileNotFoundError(f"{path} is missing; build it with build_dists()")
            data = path.read_bytes()
            metadata = _wheel_metadata(path) if filename.endswith(".whl") else None
            entries[filename] = _Entry(
                filename=filename,
                path=path,
                dist=dist,
                sha256=hashlib.sha256(data).hexdigest(),
                size=len(data),
                metadata=metadata,
            )
    return entries


def _file_sort_key(entry: _Entry) -> tuple[Version, str]:
    if entry.filename.endswith(".whl"):
        version = parse_wheel_filename(entry.filename)[1]
    else:
        version = parse_sdist_filename(entry.filename)[1]
    return version, entry.filename


class _IndexServer(ThreadingHTTPServer):
    """A threading HTTP server carrying the catalogue its handlers serve."""

    daemon_threads = True
    block_on_close = False  # a client's idle keep-alive connection must not stall teardown

    def __init__(
        self,
        entries: Mapping[str, _Entry],
        provenance: Mapping[str, bytes] | None = None,
        *,
        links: bool = True,
    ) -> None:
        super().__init__((LOCALHOST, 0), _Handler)
        self.entries = dict(entries)
        #: PEP 740 provenance by file name: linked from the pages when ``links``, and
        #: always at the integrity endpoint.
        self.provenance = dict(provenance or {})
        self.links = links
        projects: dict[str, list[_Entry]] = {}
        for entry in entries.values():
            projects.setdefault(entry.dist.project, []).append(entry)
        self.projects = {
            name: sorted(found, key=_file_sort_key) for name, found in sorted(projects.items())
        }
        self.root = f"http://{LOCALHOST}:{self.server_address[1]}/"

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up mid-answer is normal (a size request that got a whole file,
        speculation abandoned at exit); anything else is printed as usual."""
        error = sys.exc_info()[1]
        if not isinstance(error, (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class _RangeNotSatisfiableError(Exception):
    """The Range header asks for bytes the file does not have."""


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive ``(first, last)`` byte a single-range header asks for.

    Returns None when the header is absent, malformed or asks for several ranges (the whole
    file is then sent, as RFC 9110 allows); raises when the range cannot be satisfied.
    """
    if header is None:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first_text, dash, last_text = spec.strip().partition("-")
    if not dash or not (first_text or last_text):
        return None
    if not all(part.isdigit() for part in (first_text, last_text) if part):
        return None
    if not first_text:  # bytes=-N: the last N bytes
        count = int(last_text)
        if count == 0 or size == 0:
            raise _RangeNotSatisfiableError
        return max(0, size - count), size - 1
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None
    if first >= size:
        raise _RangeNotSatisfiableError
    last = min(int(last_text), size - 1) if last_text else size - 1
    return first, last


def _quality(parameters: str) -> float:
    for parameter in parameters.split(";"):
        key, _, value = parameter.strip().partition("=")
        if key.strip().lower() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


_MEDIA_TYPES = {
    JSON_V1: JSON_V1,
    "application/vnd.pypi.simple.latest+json": JSON_V1,
    HTML_V1: HTML_V1,
    "application/vnd.pypi.simple.latest+html": HTML_V1,
    TEXT_HTML: TEXT_HTML,
    "text/*": TEXT_HTML,
    "*/*": TEXT_HTML,
}


def _negotiate(accept: str | None, format_param: str | None) -> str | None:
    """The content type to answer with (PEP 691), or None when none is acceptable."""
    if format_param is not None:
        return _MEDIA_TYPES.get(format_param.strip().lower())
    if not accept or not accept.strip():
        return TEXT_HTML
    best, best_quality = None, 0.0
    for item in accept.split(","):
        media, _, parameters = item.partition(";")
        chosen = _MEDIA_TYPES.get(media.strip().lower())
        quality = _quality(parameters)
        if chosen is not None and quality > best_quality:
            best, best_quality = chosen, quality
    return best


class _Handler(BaseHTTPRequestHandler):
    """Serve the simple API, the files and their ``.metadata``."""

    protocol_version = "HTTP/1.1"
    server_version = "tests-pkgindex/1.0"
    timeout = 10  # idle keep-alive connections close, so the server can shut down

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet; pytest captures nothing useful from access logs."""

    def do_GET(self) -> None:
        """Answer GET."""
        self._dispatch()

    def do_HEAD(self) -> None:
        """Answer HEAD: the GET headers, no body."""
        self._dispatch()

    @property
    def _index(self) -> _IndexServer:
        assert isinstance(self.server, _IndexServer)
        return self.server

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "text/plain; charset=utf-8",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _not_found(self) -> None:
        self._send(404, b"Not Found\n")

    def _redirect(self, location: str) -> None:
        self._send(301, b"Moved Permanently\n", headers={"Location": location})

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        segments = [unquote(s) for s in parts.path.split("/")]
        query = dict(pair.partition("=")[::2] for pair in parts.query.split("&") if pair)
        fmt = unquote(query["format"]) if "format" in query else None
        match segments:
            case ["", "simple"]:
                self._redirect("/simple/")
            case ["", "simple", ""]:
                self._simple_page(None, fmt)
            case ["", "simple", project]:
                self._redirect(f"/simple/{quote(project)}/")
            case ["", "simple", project, ""]:
                normalized = canonicalize_name(project)
                if project != normalized:
                    self._redirect(f"/simple/{quote(normalized)}/")
                elif normalized in self._index.projects:
                    self._simple_page(normalized, fmt)
                else:
                    self._not_found()
            case ["", "files", filename] if filename in self._index.entries:
                entry = self._index.entries[filename]
                self._send_bytes(entry.path.read_bytes())
            case ["", "files", filename] if (
                filename.removesuffix(".provenance") in self._index.provenance and self._index.links
            ):
                self._send(200, self._index.provenance[filename.removesuffix(".provenance")])
            case ["", "integrity", _, _, filename, "provenance"]:
                attested = self._index.provenance.get(filename)
                if attested is None:
                    self._not_found()
                else:
                    self._send(200, attested, "application/vnd.pypi.integrity.v1+json")
            case ["", "files", filename] if filename.endswith(".metadata"):
                found = self._index.entries.get(filename.removesuffix(".metadata"))
                if found is None or found.metadata is None:
                    self._not_found()
                else:
                    self._send_bytes(found.metadata)
            case _:
                self._not_found()

    def _send_bytes(self, data: bytes) -> None:
        size = len(data)
        plain = {"Accept-Ranges": "bytes"}
        try:
            wanted = _byte_range(self.headers.get("Range"), size)
        except _RangeNotSatisfiableError:
            refused = {**plain, "Content-Range": f"bytes */{size}"}
            self._send(416, b"Range Not Satisfiable\n", headers=refused)
            return
        if wanted is None:
            self._send(200, data, "application/octet-stream", plain)
            return
        first, last = wanted
        partial = {**plain, "Content-Range": f"bytes {first}-{last}/{size}"}
        self._send(206, data[first : last + 1], "application/octet-stream", partial)

    def _simple_page(self, project: str | None, fmt: str | None) -> None:
        chosen = _negotiate(self.headers.get("Accept"), fmt)
        vary = {"Vary": "Accept"}
        if chosen is None:
            body = f"Not Acceptable; available: {JSON_V1}, {HTML_V1}, {TEXT_HTML}\n".encode()
            self._send(406, body, headers=vary)
            return
        if chosen == JSON_V1:
            page: Any = self._json_root() if project is None else self._json_project(project)
            body = json.dumps(page, indent=2, sort_keys=True).encode()
            self._send(200, body, JSON_V1, vary)
            return
        text = self._html_root() if project is None else self._html_project(project)
        content_type = HTML_V1 if chosen == HTML_V1 else "text/html; charset=utf-8"
        self._send(200, text.encode(), content_type, vary)

    def _file_url(self, entry: _Entry) -> str:
        return f"{self._index.root}files/{quote(entry.filename)}"

    def _json_root(self) -> dict[str, Any]:
        names = [{"name": found[0].dist.name} for found in self._index.projects.values()]
        return {"meta": {"api-version": API_VERSION}, "projects": names}

    def _json_project(self, project: str) -> dict[str, Any]:
        entries = self._index.projects[project]
        files = []
        for entry in entries:
            dist = entry.dist
            item: dict[str, Any] = {
                "filename": entry.filename,
                "url": self._file_url(entry),
                "hashes": {"sha256": entry.sha256},
                "size": entry.size,
                "upload-time": upload_time_text(dist.upload_time),
                "yanked": False if dist.yanked is None else (dist.yanked or True),
            }
            if dist.requires_python is not None:
                item["requires-python"] = dist.requires_python
            if entry.filename in self._index.provenance and self._index.links:
                item["provenance"] = self._file_url(entry) + ".provenance"
            if entry.metadata_sha256 is not None:
                item["core-metadata"] = {"sha256": entry.metadata_sha256}
                item["dist-info-metadata"] = {"sha256": entry.metadata_sha256}
            files.append(item)
        versions = sorted({Version(e.dist.version) for e in entries})
        return {
            "meta": {"api-version": API_VERSION},
            "name": project,
            "versions": [str(v) for v in versions],
            "files": files,
        }

    def _html_root(self) -> str:
        links = "\n".join(
            f'    <a href="{quote(name)}/">{html.escape(name)}</a><br>'
            for name in self._index.projects
        )
        return _html_page("Simple index", links)

    def _html_project(self, project: str) -> str:
        links = []
        for entry in self._index.projects[project]:
            dist = entry.dist
            attributes = [f'href="{html.escape(self._file_url(entry))}#sha256={entry.sha256}"']
            if dist.requires_python is not None:
                attributes.append(f'data-requires-python="{html.escape(dist.requires_python)}"')
            if dist.yanked is not None:
                attributes.append(f'data-yanked="{html.escape(dist.yanked)}"')
            if entry.metadata_sha256 is not None:
                digest = f"sha256={entry.metadata_sha256}"
                attributes.append(f'data-dist-info-metadata="{digest}"')
                attributes.append(f'data-core-metadata="{digest}"')
            if entry.filename in self._index.provenance and self._index.links:
                link = html.escape(self._file_url(entry) + ".provenance")
                attributes.append(f'data-provenance="{link}"')
            anchor = f"<a {' '.join(attributes)}>{html.escape(entry.filename)}</a><br>"
            links.append(f"    {anchor}")
        return _html_page(f"Links for {project}", "\n".join(links))


def _html_page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        f'    <meta name="pypi:repository-version" content="{API_VERSION}">\n'
        f"    <title>{html.escape(title)}</title>\n  </head>\n  <body>\n"
        f"    <h1>{html.escape(title)}</h1>\n{body}\n  </body>\n</html>\n"
    )


@contextmanager
def serve_json_index(
    directory: Path,
    dists: Iterable[Dist],
    *,
    provenance: Mapping[str, bytes] | None = None,
    links: bool = True,
) -> Iterator[PackageIndex]:
    """Serve ``dists`` (already built into ``directory``) from a background thread.

    Args:
        directory: Where :func:`build_dists` wrote the files.
        dists: The releases to list; their files must exist in ``directory``.
        provenance: PEP 740 provenance objects by file name, served at the integrity
            endpoint and, when ``links``, linked from the pages (``data-provenance``).

    Yields:
        The running index on an ephemeral 127.0.0.1 port; shut down on exit.
    """
    catalogue = tuple(dists)
    entries = _entries(directory, catalogue)
    server = _IndexServer(entries, provenance, links=links)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield PackageIndex(
            url=server.root + "simple/",
            root=server.root,
            files=MappingProxyType({name: entry.path for name, entry in sorted(entries.items())}),
            files_url=server.root + "files/",
            dists=catalogue,
        )
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def dist_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the built :func:`default_catalogue` (wheels and sdists)."""
    directory = tmp_path_factory.mktemp("dists")
    build_dists(default_catalogue(), directory)
    return directory


@pytest.fixture(scope="session")
def pypiserver_index(dist_dir: Path) -> Iterator[PackageIndex]:
    """The real pypiserver serving ``dist_dir`` (HTML only, no yanks or metadata files)."""
    with run_pypiserver(dist_dir, dists=default_catalogue()) as index:
        yield index


@pytest.fixture(scope="session")
def json_index(dist_dir: Path) -> Iterator[PackageIndex]:
    """Our full simple API server (HTML and PEP 691 JSON) serving ``dist_dir``."""
    with serve_json_index(dist_dir, default_catalogue()) as index:
        yield index
