"""The test package index: real files, two real servers, real installers consuming them."""

from __future__ import annotations

import ast
import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin

import pytest
from packaging.metadata import Metadata
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import Version

from tests.support.pkgindex import (
    BACKEND_SOURCE,
    HTML_V1,
    JSON_V1,
    Dist,
    PackageIndex,
    build_dists,
    build_sdist,
    build_wheel,
    core_metadata,
    default_catalogue,
    fetch,
    upload_time_text,
    write_source_tree,
)

# Registers the fixtures even before tests/conftest.py does; by module name, so both is fine.
pytest_plugins = ["tests.support.pkgindex"]

SERVERS = ["pypiserver_index", "json_index"]
ALPHA_WHEEL = "alpha-1.0-py3-none-any.whl"
YANK_REASON = 'broken import; use "alpha<2" & wait'


class _Anchors(HTMLParser):
    """Collect ``<a>`` elements: their attributes (unescaped) and text."""

    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self._open: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open, self._text = dict(attrs), []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            self.anchors.append((self._open, "".join(self._text)))
            self._open = None


def anchors(page: str) -> dict[str, dict[str, str | None]]:
    """The anchors of a simple API HTML page, by link text (the file name)."""
    parser = _Anchors()
    parser.feed(page)
    parser.close()
    return {text: attributes for attributes, text in parser.anchors}


def index_named(request: pytest.FixtureRequest, name: str) -> PackageIndex:
    """The session index fixture called ``name``."""
    index = request.getfixturevalue(name)
    assert isinstance(index, PackageIndex)
    return index


def wheel_metadata(path: Path) -> bytes:
    """The ``.dist-info/METADATA`` bytes inside the wheel at ``path``."""
    with zipfile.ZipFile(path) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return archive.read(name)


def sha256(data: bytes) -> str:
    """Hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def clean_env(tmp_path: Path) -> dict[str, str]:
    """The environment for installer subprocesses: no user config, proxies or caches."""
    dropped = ("UV_", "PIP_", "VIRTUAL_ENV", "PYTHONPATH", "CONDA_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env.pop(proxy, None)
        env.pop(proxy.lower(), None)
    env.update(
        NO_PROXY="127.0.0.1,localhost",
        UV_CACHE_DIR=str(tmp_path / "uv-cache"),
        UV_PYTHON_DOWNLOADS="never",
        UV_NO_PROGRESS="1",
    )
    return env


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``command``, failing the test with its output when it fails."""
    done = subprocess.run(
        command, check=False, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


# --- the built files ------------------------------------------------------------------------


def test_catalogue_builds_every_file(dist_dir: Path) -> None:
    """Every release builds the files its Dist asks for, and nothing else."""
    expected = {name for dist in default_catalogue() for name in dist.filenames}
    assert {p.name for p in dist_dir.iterdir()} == expected
    assert "sdist_only-0.1.tar.gz" in expected
    assert not any(name.startswith("sdist_only") and name.endswith(".whl") for name in expected)


def test_wheels_are_valid(dist_dir: Path) -> None:
    """Wheel names parse, METADATA validates, WHEEL is right and RECORD hashes every file."""
    dists = {(d.project, Version(d.version)): d for d in default_catalogue()}
    wheels = sorted(dist_dir.glob("*.whl"))
    assert len(wheels) == 7
    for wheel in wheels:
        name, version, build, tags = parse_wheel_filename(wheel.name)
        assert build == ()
        assert {str(t) for t in tags} == {"py3-none-any"}
        dist = dists[name, version]
        dist_info = f"{wheel.name.split('-')[0]}-{version}.dist-info"
        with zipfile.ZipFile(wheel) as archive:
            names = archive.namelist()
            files = {n: archive.read(n) for n in names}
            assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in archive.infolist())
        assert names[-1] == f"{dist_info}/RECORD"
        metadata = Metadata.from_email(files[f"{dist_info}/METADATA"], validate=True)
        assert metadata.metadata_version == "2.3"
        assert canonicalize_name(metadata.name) == name
        assert metadata.version == version
        assert [str(r) for r in metadata.requires_dist or []] == list(dist.all_requires())
        assert metadata.provides_extra == list(dist.extras) or (
            not dist.extras and metadata.provides_extra is None
        )
        wheel_file = files[f"{dist_info}/WHEEL"].decode()
        for line in ("Wheel-Version: 1.0", "Root-Is-Purelib: true", "Tag: py3-none-any"):
            assert line in wheel_file.splitlines()
        assert "Generator: " in wheel_file
        module = files[f"{dist.import_name}/__init__.py"].decode()
        assert f'__version__ = "{dist.version}"' in module
        record = files[f"{dist_info}/RECORD"].decode().splitlines()
        assert record[-1] == f"{dist_info}/RECORD,,"
        listed: dict[str, tuple[str, int]] = {}
        for row in record[:-1]:
            path, digest, size_text = row.split(",")
            listed[path] = (digest, int(size_text))
        assert set(listed) == set(names) - {f"{dist_info}/RECORD"}
        for path, (digest, size) in listed.items():
            data = files[path]
            raw = hashlib.sha256(data).digest()
            assert digest == "sha256=" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
            assert size == len(data)


def test_beta_declares_extra_and_marker(dist_dir: Path) -> None:
    """beta's METADATA carries ``Provides-Extra: fast`` and the extra-marked requirement."""
    metadata = Metadata.from_email(wheel_metadata(dist_dir / "beta-1.0-py3-none-any.whl"))
    assert metadata.provides_extra == ["fast"]
    assert [str(r) for r in metadata.requires_dist or []] == [
        "alpha>=1.0",
        'gamma; extra == "fast"',
    ]
    gamma = Metadata.from_email(wheel_metadata(dist_dir / "gamma-0.6-py3-none-any.whl"))
    assert str(gamma.requires_python) == ">=3.8"


def test_sdists_are_valid(dist_dir: Path) -> None:
    """Sdist names parse; each holds PKG-INFO, pyproject.toml and the module, deterministically."""
    sdists = sorted(dist_dir.glob("*.tar.gz"))
    assert len(sdists) == 8
    dists = {(d.project, Version(d.version)): d for d in default_catalogue()}
    for sdist in sdists:
        name, version = parse_sdist_filename(sdist.name)
        dist = dists[name, version]
        root = sdist.name.removesuffix(".tar.gz")
        with tarfile.open(sdist, "r:gz") as archive:
            members = archive.getmembers()
            files = {}
            for member in members:
                extracted = archive.extractfile(member)
                assert extracted is not None
                with extracted:
                    files[member.name] = extracted.read()
        assert all(m.mtime == 315532800 and m.uid == 0 and m.gid == 0 for m in members)
        assert set(files) == {
            f"{root}/PKG-INFO",
            f"{root}/pyproject.toml",
            f"{root}/_backend/tumbler_test_backend.py",
            f"{root}/{dist.import_name}/__init__.py",
        }
        assert [m.name for m in members] == sorted(files)
        pkg_info = Metadata.from_email(files[f"{root}/PKG-INFO"], validate=True)
        assert (canonicalize_name(pkg_info.name), pkg_info.version) == (name, version)
        pyproject = tomllib.loads(files[f"{root}/pyproject.toml"].decode())
        assert pyproject["project"]["name"] == dist.name
        assert pyproject["project"]["dependencies"] == list(dist.requires_dist)
        assert pyproject["build-system"] == {
            "requires": [],
            "build-backend": "tumbler_test_backend",
            "backend-path": ["_backend"],
        }
        assert files[f"{root}/_backend/tumbler_test_backend.py"] == BACKEND_SOURCE.encode()
    # gzip header: no file name, mtime 0
    header = (dist_dir / "alpha-1.0.tar.gz").read_bytes()[:10]
    assert header[3] == 0 and header[4:8] == b"\0\0\0\0"


def test_builds_are_byte_for_byte_deterministic(tmp_path: Path) -> None:
    """Building the catalogue twice, into different directories, gives identical bytes."""
    first = build_dists(default_catalogue(), tmp_path / "one")
    second = build_dists(default_catalogue(), tmp_path / "two")
    assert list(first) == list(second)
    for name in first:
        assert first[name].read_bytes() == second[name].read_bytes(), name
    assert first[ALPHA_WHEEL].parent != second[ALPHA_WHEEL].parent


def test_dist_rejects_bad_input() -> None:
    """Dist validates versions, requirements and time zones up front."""
    with pytest.raises(ValueError, match="Invalid version"):
        Dist("x", "not a version")
    with pytest.raises(ValueError, match="time-zone aware"):
        Dist("x", "1", upload_time=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="neither"):
        Dist("x", "1", sdist=False, wheel=False)
    odd = Dist("Odd.Name_Here", "1.0.0", extras={"Fast_Mode": ('gamma; os_name == "nt"',)})
    assert odd.wheel_filename == "odd_name_here-1.0.0-py3-none-any.whl"
    assert odd.sdist_filename == "odd_name_here-1.0.0.tar.gz"
    assert odd.all_requires() == ('gamma; (os_name == "nt") and extra == "fast-mode"',)
    assert b"Provides-Extra: fast-mode\n" in core_metadata(odd)


# --- both servers ---------------------------------------------------------------------------


@pytest.mark.parametrize("server", SERVERS)
def test_html_lists_files_with_sha256(server: str, request: pytest.FixtureRequest) -> None:
    """Each project page links every file with a sha256 fragment that matches the download."""
    index = index_named(request, server)
    for project in ("alpha", "gamma", "sdist-only"):
        page_url = index.project_url(project)
        page = fetch(page_url)
        assert page.status == 200
        assert page.headers["content-type"].startswith("text/html")
        links = anchors(page.text)
        expected = sorted(n for n in index.files if canonicalize_name(n.split("-")[0]) == project)
        assert sorted(links) == expected
        for filename, attributes in links.items():
            href = attributes["href"]
            assert href is not None
            url, fragment = urldefrag(urljoin(page_url, href))
            assert fragment == f"sha256={index.sha256(filename)}"
            assert url == index.file_url(filename)
            download = fetch(url)
            assert download.status == 200
            assert sha256(download.body) == index.sha256(filename)
            assert download.headers["content-length"] == str(len(download.body))


@pytest.mark.parametrize("server", SERVERS)
def test_range_requests(server: str, request: pytest.FixtureRequest) -> None:
    """Byte ranges come back exactly (206), suffix ranges too, and 416 beyond the end."""
    index = index_named(request, server)
    url = index.file_url(ALPHA_WHEEL)
    data = index.files[ALPHA_WHEEL].read_bytes()
    size = len(data)

    middle = fetch(url, headers={"Range": "bytes=10-29"})
    assert middle.status == 206
    assert middle.body == data[10:30]
    assert middle.headers["content-range"] == f"bytes 10-29/{size}"
    assert middle.headers["content-length"] == "20"
    assert middle.headers["accept-ranges"] == "bytes"

    tail = fetch(url, headers={"Range": "bytes=-22"})  # the zip end-of-central-directory
    assert tail.status == 206
    assert tail.body == data[-22:]
    assert tail.body.startswith(b"PK\x05\x06")
    assert tail.headers["content-range"] == f"bytes {size - 22}-{size - 1}/{size}"

    rest = fetch(url, headers={"Range": f"bytes={size - 5}-"})
    assert (rest.status, rest.body) == (206, data[-5:])

    clipped = fetch(url, headers={"Range": f"bytes={size - 3}-{size + 100}"})
    assert (clipped.status, clipped.body) == (206, data[-3:])

    beyond = fetch(url, headers={"Range": f"bytes={size}-{size + 10}"})
    assert beyond.status == 416

    head = fetch(url, method="HEAD")
    assert head.status == 200
    assert head.body == b""
    assert head.headers["content-length"] == str(size)


@pytest.mark.parametrize("server", SERVERS)
def test_unknown_project_is_404(server: str, request: pytest.FixtureRequest) -> None:
    """Neither server falls back anywhere for a project it does not have."""
    index = index_named(request, server)
    assert fetch(index.project_url("no-such-project")).status == 404
    assert fetch(index.files_url + "no_such-1.0-py3-none-any.whl").status == 404


# --- our server only ------------------------------------------------------------------------


def test_html_attributes(json_index: PackageIndex) -> None:
    """data-requires-python is HTML-escaped; alpha 2.0 carries its PEP 592 yank reason."""
    gamma = fetch(json_index.project_url("gamma"))
    assert 'data-requires-python="&gt;=3.8"' in gamma.text
    links = anchors(gamma.text)
    assert {a["data-requires-python"] for a in links.values()} == {">=3.8"}

    alpha = fetch(json_index.project_url("alpha"))
    assert "&quot;alpha&lt;2&quot; &amp; wait" in alpha.text
    links = anchors(alpha.text)
    assert links["alpha-2.0-py3-none-any.whl"]["data-yanked"] == YANK_REASON
    assert links["alpha-2.0.tar.gz"]["data-yanked"] == YANK_REASON
    assert "data-yanked" not in links[ALPHA_WHEEL]
    assert "data-requires-python" not in links[ALPHA_WHEEL]
    assert "data-core-metadata" not in links["alpha-1.0.tar.gz"]


def test_metadata_files_match_the_wheels(json_index: PackageIndex) -> None:
    """``<file>.metadata`` is the wheel's own METADATA; HTML and JSON advertise its sha256."""
    for project in ("alpha", "beta", "gamma", "delta"):
        links = anchors(fetch(json_index.project_url(project)).text)
        listing = fetch(json_index.project_url(project), headers={"Accept": JSON_V1}).json()
        by_name = {f["filename"]: f for f in listing["files"]}
        for filename, path in json_index.files.items():
            if not filename.startswith(f"{project}-") or not filename.endswith(".whl"):
                continue
            served = fetch(json_index.file_url(filename) + ".metadata")
            assert served.status == 200
            assert served.body == wheel_metadata(path)
            digest = f"sha256={sha256(served.body)}"
            assert links[filename]["data-core-metadata"] == digest
            assert links[filename]["data-dist-info-metadata"] == digest
            assert by_name[filename]["core-metadata"] == {"sha256": sha256(served.body)}
            assert by_name[filename]["dist-info-metadata"] == {"sha256": sha256(served.body)}
            part = fetch(
                json_index.file_url(filename) + ".metadata", headers={"Range": "bytes=0-9"}
            )
            assert (part.status, part.body) == (206, served.body[:10])
    assert fetch(json_index.file_url("alpha-1.0.tar.gz") + ".metadata").status == 404


def test_json_project_page(json_index: PackageIndex) -> None:
    """PEP 691 JSON (api 1.1, PEP 700): names, versions, hashes, sizes, times, yanks."""
    response = fetch(json_index.project_url("alpha"), headers={"Accept": JSON_V1})
    assert response.status == 200
    assert response.headers["content-type"] == JSON_V1
    assert response.headers["vary"] == "Accept"
    page = response.json()
    assert page["meta"] == {"api-version": "1.1"}
    assert page["name"] == "alpha"
    assert page["versions"] == ["1.0", "1.1", "2.0"]
    releases = {d.file_version: d for d in default_catalogue() if d.project == "alpha"}
    assert sorted(f["filename"] for f in page["files"]) == sorted(
        n for n in json_index.files if n.startswith("alpha-")
    )
    for item in page["files"]:
        filename = item["filename"]
        version = filename.split("-")[1].removesuffix(".tar.gz")
        dist = releases[version]
        assert item["url"] == json_index.file_url(filename)
        assert item["hashes"] == {"sha256": json_index.sha256(filename)}
        assert item["size"] == json_index.files[filename].stat().st_size
        assert item["upload-time"].endswith("Z")
        assert datetime.fromisoformat(item["upload-time"]) == dist.upload_time
        assert item["upload-time"] == upload_time_text(dist.upload_time)
        assert item["yanked"] == (YANK_REASON if version == "2.0" else False)
        assert "requires-python" not in item
        assert ("core-metadata" in item) == filename.endswith(".whl")

    gamma = fetch(json_index.project_url("gamma"), headers={"Accept": JSON_V1}).json()
    assert {f["requires-python"] for f in gamma["files"]} == {">=3.8"}
    only = fetch(json_index.project_url("sdist-only"), headers={"Accept": JSON_V1}).json()
    assert [f["filename"] for f in only["files"]] == ["sdist_only-0.1.tar.gz"]
    assert only["name"] == "sdist-only"


def test_json_root_page(json_index: PackageIndex) -> None:
    """The JSON root lists every project; the HTML root links them."""
    root = fetch(json_index.url, headers={"Accept": JSON_V1}).json()
    assert root["meta"] == {"api-version": "1.1"}
    names = ["alpha", "beta", "delta", "gamma", "sdist-only"]
    assert sorted(canonicalize_name(p["name"]) for p in root["projects"]) == names
    links = anchors(fetch(json_index.url).text)
    assert sorted(links) == names
    assert links["sdist-only"]["href"] == "sdist-only/"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "text/html; charset=utf-8"),
        ("text/html", "text/html; charset=utf-8"),
        ("*/*", "text/html; charset=utf-8"),
        (HTML_V1, HTML_V1),
        ("application/vnd.pypi.simple.latest+json", JSON_V1),
        (f"{JSON_V1}, {HTML_V1};q=0.2, text/html;q=0.01", JSON_V1),
        (f"text/html;q=0.5, {JSON_V1}", JSON_V1),
        (f"{JSON_V1};q=0.1, text/html", "text/html; charset=utf-8"),
        (f"{JSON_V1};q=0, text/html;q=0.3", "text/html; charset=utf-8"),
    ],
)
def test_content_negotiation(json_index: PackageIndex, accept: str | None, expected: str) -> None:
    """The Accept header picks the format, honouring q-values (PEP 691)."""
    headers = {} if accept is None else {"Accept": accept}
    response = fetch(json_index.project_url("beta"), headers=headers)
    assert response.status == 200
    assert response.headers["content-type"] == expected
    if expected == JSON_V1:
        assert response.json()["name"] == "beta"
    else:
        assert "beta-1.0-py3-none-any.whl" in anchors(response.text)


def test_negotiation_failures_and_format_param(json_index: PackageIndex) -> None:
    """Unsupported types get 406; ``?format=`` overrides Accept."""
    refused = fetch(json_index.project_url("beta"), headers={"Accept": "application/xml"})
    assert refused.status == 406
    assert refused.headers["content-length"] == str(len(refused.body))
    forced = fetch(json_index.project_url("beta") + "?format=" + JSON_V1)
    assert forced.headers["content-type"] == JSON_V1
    assert json.loads(forced.body)["name"] == "beta"


def test_paths_redirects_and_errors(json_index: PackageIndex) -> None:
    """Non-normalized names redirect (301); unknown paths are 404 with a Content-Length."""
    moved = fetch(json_index.url + "Sdist_Only/")
    assert moved.status == 301
    assert moved.headers["location"] == "/simple/sdist-only/"
    assert fetch(json_index.url + "beta").headers["location"] == "/simple/beta/"
    assert fetch(json_index.root + "simple").headers["location"] == "/simple/"
    for path in ("", "nope", "files/", "files/alpha-9.9.tar.gz", "simple/beta/extra/"):
        missing = fetch(json_index.root + path)
        assert missing.status == 404, path
        assert missing.headers["content-length"] == str(len(missing.body))
    head = fetch(json_index.project_url("beta"), method="HEAD")
    assert head.status == 200
    assert head.body == b""
    assert int(head.headers["content-length"]) == len(fetch(json_index.project_url("beta")).body)
    malformed = fetch(json_index.file_url(ALPHA_WHEEL), headers={"Range": "bytes=9-3"})
    assert malformed.status == 200  # an invalid range is ignored, as RFC 9110 allows
    empty_suffix = fetch(json_index.file_url(ALPHA_WHEEL), headers={"Range": "bytes=-0"})
    assert empty_suffix.status == 416
    size = json_index.files[ALPHA_WHEEL].stat().st_size
    assert empty_suffix.headers["content-range"] == f"bytes */{size}"


def test_fetch_refuses_other_hosts() -> None:
    """The test client never leaves 127.0.0.1."""
    with pytest.raises(ValueError, match="only talks to"):
        fetch("http://example.com/simple/")


# --- real installers ------------------------------------------------------------------------


def _uv() -> str:
    """The uv next to this interpreter (the project venv), else on PATH."""
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert found is not None, "uv is not installed"
    return found


def test_uv_installs_from_our_json_index(json_index: PackageIndex, tmp_path: Path) -> None:
    """uv resolves ``beta[fast]`` over PEP 691 JSON, skipping the yanked alpha 2.0."""
    env = clean_env(tmp_path)
    uv = _uv()
    venv = tmp_path / "venv"
    run([uv, "venv", "--no-config", "--python", sys.executable, str(venv)], env)
    python = venv / "bin" / "python"
    run(
        [
            uv,
            "pip",
            "install",
            "--no-config",
            "--index-url",
            json_index.url,
            "--python",
            str(python),
            "beta[fast]",
        ],
        env,
    )
    script = (
        "import json, importlib.metadata as m, alpha, beta, gamma;"
        "print(json.dumps({d: [m.version(d), __import__(d).__version__]"
        " for d in ('alpha', 'beta', 'gamma')}))"
    )
    versions = json.loads(run([str(python), "-c", script], env).stdout)
    assert versions == {"alpha": ["1.1", "1.1"], "beta": ["1.0", "1.0"], "gamma": ["0.6", "0.6"]}


def test_pip_installs_from_pypiserver(pypiserver_index: PackageIndex, tmp_path: Path) -> None:
    """pip installs ``beta`` from pypiserver; it knows no yanks, so alpha 2.0 wins there."""
    env = clean_env(tmp_path)
    target = tmp_path / "target"
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--isolated",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--no-input",
            "--no-compile",
            "--index-url",
            pypiserver_index.url,
            "--target",
            str(target),
            "beta",
        ],
        env,
    )
    installed = sorted(p.name for p in target.glob("*.dist-info"))
    assert installed == ["alpha-2.0.dist-info", "beta-1.0.dist-info"]
    assert '__version__ = "2.0"' in (target / "alpha" / "__init__.py").read_text()
    assert '__version__ = "1.0"' in (target / "beta" / "__init__.py").read_text()
    assert not (target / "gamma").exists()


def test_builder_is_reusable_for_custom_worlds(tmp_path: Path) -> None:
    """Other tests can build their own worlds and inspect them without a server."""
    world = (Dist("solo", "3.0", requires_dist=('alpha; python_version < "3"',)),)
    built = build_dists(world, tmp_path)
    assert sorted(built) == ["solo-3.0-py3-none-any.whl", "solo-3.0.tar.gz"]
    with zipfile.ZipFile(io.BytesIO(built["solo-3.0-py3-none-any.whl"].read_bytes())) as archive:
        metadata = archive.read("solo-3.0.dist-info/METADATA").decode()
    assert 'Requires-Dist: alpha; python_version < "3"' in metadata


# --- the in-tree build backend --------------------------------------------------------------


def _catalogue_dist(name: str, version: str) -> Dist:
    return next(d for d in default_catalogue() if (d.name, d.version) == (name, version))


def test_backend_source_is_stdlib_only_python() -> None:
    """The backend compiles and imports nothing outside the standard library."""
    tree = ast.parse(BACKEND_SOURCE, "tumbler_test_backend.py")
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert imported <= sys.stdlib_module_names | {"__future__"}, imported


def test_write_source_tree_holds_what_the_sdist_holds(tmp_path: Path) -> None:
    """The tree has exactly the sdist's files, byte for byte, and is returned."""
    beta = _catalogue_dist("beta", "1.0")
    tree = write_source_tree(beta, tmp_path / "nested" / "beta")
    assert tree == tmp_path / "nested" / "beta"
    on_disk = {
        p.relative_to(tree).as_posix(): p.read_bytes() for p in tree.rglob("*") if p.is_file()
    }
    with tarfile.open(build_sdist(beta, tmp_path), "r:gz") as archive:
        in_sdist = {}
        for member in archive.getmembers():
            extracted = archive.extractfile(member)
            assert extracted is not None
            in_sdist[member.name.split("/", 1)[1]] = extracted.read()
    assert on_disk == in_sdist
    assert on_disk["PKG-INFO"] == core_metadata(beta)


def test_zip_sdist_has_the_same_members(tmp_path: Path) -> None:
    """``archive_format="zip"`` writes the same files, deterministically, as ``<root>.zip``."""
    gamma = _catalogue_dist("gamma", "0.6")
    first = build_sdist(gamma, tmp_path, archive_format="zip")
    assert first.name == "gamma-0.6.zip"
    (tmp_path / "again").mkdir()
    again = build_sdist(gamma, tmp_path / "again", archive_format="zip")
    assert again.read_bytes() == first.read_bytes()
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in archive.infolist())
        assert archive.read("gamma-0.6/PKG-INFO") == core_metadata(gamma)
    assert names == sorted(names)
    assert "gamma-0.6/_backend/tumbler_test_backend.py" in names


def test_backend_hooks_rebuild_the_same_bytes(tmp_path: Path) -> None:
    """Through ``build``, the backend makes exactly build_wheel's wheel and build_sdist's sdist."""
    from build import ProjectBuilder
    from pyproject_hooks import quiet_subprocess_runner

    beta = _catalogue_dist("beta", "1.0")
    tree = write_source_tree(beta, tmp_path / "tree")
    builder = ProjectBuilder(tree, runner=quiet_subprocess_runner)
    assert builder.build_system_requires == set()
    assert builder.get_requires_for_build("wheel") == set()
    out = tmp_path / "out"
    wheel = Path(builder.build("wheel", out))
    sdist = Path(builder.build("sdist", out))
    expected = tmp_path / "expected"
    expected.mkdir()
    assert wheel.read_bytes() == build_wheel(beta, expected).read_bytes()
    assert sdist.read_bytes() == build_sdist(beta, expected).read_bytes()
    metadata = Path(builder.prepare("wheel", tmp_path / "meta") or "")
    assert metadata.name == "beta-1.0.dist-info"
    assert (metadata / "METADATA").read_bytes() == core_metadata(beta)


def test_pip_builds_and_installs_the_sdist_without_an_index(tmp_path: Path) -> None:
    """Real pip, build isolation on, ``--no-index``: ``requires = []`` is all the sdist needs."""
    env = clean_env(tmp_path)
    sdist = build_sdist(Dist("lonely-pkg", "1.2", requires_python=">=3.8"), tmp_path)
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], env)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    quiet = ["--isolated", "--no-index", "--no-cache-dir", "--disable-pip-version-check"]
    run([*pip, "install", *quiet, "--no-input", str(sdist)], env)
    script = "import importlib.metadata as m, lonely_pkg; print(m.version('lonely-pkg'), lonely_pkg.__version__)"
    assert run([str(python), "-c", script], env).stdout.split() == ["1.2", "1.2"]


def test_pip_installs_a_source_tree_editable(tmp_path: Path) -> None:
    """``pip install -e`` of write_source_tree's directory uses build_editable; edits show."""
    env = clean_env(tmp_path)
    tree = write_source_tree(Dist("live-edit", "0.3"), tmp_path / "tree")
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], env)
    python = venv / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python)]
    quiet = ["--isolated", "--no-index", "--no-cache-dir", "--disable-pip-version-check"]
    run([*pip, "install", *quiet, "--no-input", "--editable", str(tree)], env)
    (tree / "live_edit" / "__init__.py").write_text('__version__ = "edited"\n')
    script = "import live_edit; print(live_edit.__version__, live_edit.__file__)"
    version, where = run([str(python), "-c", script], env).stdout.split()
    assert version == "edited"
    assert Path(where) == tree / "live_edit" / "__init__.py"
