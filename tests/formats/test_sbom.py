"""tumbler export --format cyclonedx / spdx / github: bills of materials of a real lock.

One universal lock is made on the loopback index for a project with an extra (``fast``:
``beta[fast]``), two dependency groups (``dev``, ``docs``) and chains (``top`` → ``mid`` →
``base``; ``beta``/``delta`` → ``alpha``, ``gamma``). Each document is checked by its
format's own validator (CycloneDX's JSON schema through ``cyclonedx-python-lib``, SPDX's
rules through ``spdx-tools``, GitHub's published snapshot schema through ``jsonschema``),
then against the lock read independently with ``tomllib``; and each validation is shown to
reject a deliberately broken copy.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from jsonschema import Draft202012Validator

from tests.support.lockfixtures import write_project
from tumbler.cli.app import main
from tumbler.formats.base import ExportOptions
from tumbler.formats.registry import exporter

if TYPE_CHECKING:
    from tests.conftest import CLI
    from tests.support.pkgindex import PackageIndex

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "schemas"
EVERYTHING = {"alpha", "base", "beta", "churn", "delta", "gamma", "mid", "modern", "top"}
#: What each choice covers, worked out by hand from the catalogue (the oracle).
COVERED = {
    (): EVERYTHING,
    ("--extra", "fast"): EVERYTHING - {"churn", "modern"},
    ("--group", "dev"): EVERYTHING - {"beta", "modern"},
}
#: The lock's ``dependencies`` between these entries.
EDGES = {
    "beta": {"alpha", "gamma"},
    "delta": {"alpha", "gamma"},
    "top": {"base", "mid"},
    "mid": {"base"},
}
#: Named by the project's inputs (dependencies, the extra's, the groups').
DIRECT = {"beta", "churn", "delta", "mid", "modern", "top"}
#: Brought only by a dependency group.
DEVELOPMENT = {"churn", "modern"}


def _clean_environment(monkeypatch: pytest.MonkeyPatch, cache: Path) -> None:
    for key in list(os.environ):
        if key.startswith(("PIP_", "UV_", "TUMBLER_", "GITHUB_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("TUMBLER_CACHE_DIR", str(cache))


@pytest.fixture(scope="module")
def made(index: PackageIndex, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project and its universal lock, made once for the module."""
    directory = tmp_path_factory.mktemp("sbom-project")
    with pytest.MonkeyPatch.context() as monkeypatch:
        _clean_environment(monkeypatch, directory.parent / "sbom-cache")
        monkeypatch.chdir(directory)
        write_project(
            directory,
            ["delta", "top", "mid"],
            extras={"fast": ["beta[fast]"]},
            groups={"dev": ["churn", "delta"], "docs": ["modern"]},
        )
        argv = ["lock", "--index-url", index.url, "--exclude-newer", "2024-01-01", "-q"]
        assert main(argv) == 0
    return directory


@pytest.fixture
def project(made: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the project and lock to work in (the current directory)."""
    _clean_environment(monkeypatch, tmp_path / "cache")
    directory = tmp_path / "demo"
    shutil.copytree(made, directory)
    monkeypatch.chdir(directory)
    return directory


def export(cli: CLI, fmt: str, *argv: str, lock: str = "pylock.toml") -> str:
    """``tumbler export --format fmt`` written to a file; the file's text."""
    out = Path(f"out-{fmt}-{len(list(Path().glob('out-*')))}.json")
    run = cli("export", "--format", fmt, "--lock", lock, "-o", out, *argv)
    assert run.code == 0, run.err
    return out.read_text(encoding="utf-8")


def locked_files(lock: Path) -> dict[str, list[tuple[str, str]]]:
    """Package name → (url, sha256) of every file, read from the TOML directly."""
    doc = tomllib.loads(lock.read_text(encoding="utf-8"))
    out: dict[str, list[tuple[str, str]]] = {}
    for package in doc["packages"]:
        files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        out[package["name"]] = [(f["url"], f["hashes"]["sha256"]) for f in files]
    return out


def version_of(lock: Path) -> dict[str, str]:
    doc = tomllib.loads(lock.read_text(encoding="utf-8"))
    return {p["name"]: p["version"] for p in doc["packages"]}


def purl(name: str, versions: dict[str, str]) -> str:
    return f"pkg:pypi/{name}@{versions[name]}"


def mutated(document: Any, where: tuple[str | int, ...], value: object) -> Any:
    """A deep copy of ``document`` with the value at ``where`` replaced by ``value``."""
    out = copy.deepcopy(document)
    target = out
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    return out


def _strip_tool_tables(lock: Path, target: Path) -> None:
    """``lock`` as another tool would have written it: no ``[tool.tumbler]`` tables."""
    text = lock.read_text(encoding="utf-8")
    target.write_text(text[: text.index("[tool.tumbler]")], encoding="utf-8")


def _rehost(lock: Path, target: Path) -> None:
    """``lock`` with its loopback URLs moved to a named host (files.example.com)."""
    text = re.sub(r"http://127\.0\.0\.1:\d+", "https://files.example.com", lock.read_text())
    target.write_text(text, encoding="utf-8")


# --- CycloneDX ---------------------------------------------------------------------------


def cyclonedx_errors(text: str) -> object:
    """What CycloneDX's strict 1.6 JSON schema finds wrong with ``text`` (None: nothing)."""
    return JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)


@pytest.mark.parametrize("choice", list(COVERED), ids=lambda c: " ".join(c) or "whole-lock")
def test_cyclonedx_is_valid_1_6_and_says_what_the_lock_says(
    choice: tuple[str, ...], cli: CLI, project: Path
) -> None:
    text = export(cli, "cyclonedx", *choice)
    assert cyclonedx_errors(text) is None
    bom = json.loads(text)
    assert (bom["bomFormat"], bom["specVersion"]) == ("CycloneDX", "1.6")
    versions, files = version_of(project / "pylock.toml"), locked_files(project / "pylock.toml")
    components = {c["name"]: c for c in bom["components"]}
    assert set(components) == COVERED[choice]
    for name, component in components.items():
        assert component["purl"] == component["bom-ref"] == purl(name, versions)
        assert {h["content"] for h in component["hashes"]} == {s for _, s in files[name]}
        assert {h["alg"] for h in component["hashes"]} == {"SHA-256"}
        distributions = {
            (r["url"], r["hashes"][0]["content"])
            for r in component["externalReferences"]
            if r["type"] == "distribution"
        }
        assert distributions == set(files[name])
        assert "licenses" not in component  # the lock records none
    edges = {d["ref"]: set(d.get("dependsOn", [])) for d in bom["dependencies"]}
    for name in COVERED[choice]:
        wanted = {purl(n, versions) for n in EDGES.get(name, set()) & COVERED[choice]}
        assert edges[purl(name, versions)] == wanted, name
    assert bom["metadata"]["component"]["name"] == "demo"
    assert bom["metadata"]["component"]["version"] == "0.1"
    assert edges["project:demo"] == {purl(n, versions) for n in DIRECT & COVERED[choice]}


def test_cyclonedx_properties_carry_the_marker_and_the_choices_it_names(
    cli: CLI, project: Path
) -> None:
    bom = json.loads(export(cli, "cyclonedx"))
    properties = {
        c["name"]: sorted((p["name"], p["value"]) for p in c.get("properties", []))
        for c in bom["components"]
    }
    index = tomllib.loads((project / "pylock.toml").read_text())["packages"][0]["index"]
    assert properties["beta"] == [
        ("tumbler:extra", "fast"),
        ("tumbler:index", index),
        ("tumbler:marker", "'fast' in extras"),
    ]
    assert ("tumbler:group", "dev") in properties["churn"]
    assert ("tumbler:marker", "'dev' in dependency_groups") in properties["churn"]
    assert [p for p in properties["top"] if p[0] == "tumbler:marker"] == []
    covers = {(p["name"], p["value"]) for p in bom["metadata"]["properties"]}
    assert ("tumbler:covers", "whole-lock") in covers


def test_the_cyclonedx_validation_can_fail(cli: CLI, project: Path) -> None:
    """The validator used above rejects a broken copy: a component type CycloneDX does not
    have, a hash that is not hex, a property it does not know."""
    bom = json.loads(export(cli, "cyclonedx"))
    for where, value in (
        (("components", 0, "type"), "gadget"),
        (("components", 0, "hashes", 0, "content"), "not-hex"),
        (("metadata", "tumbler"), True),
    ):
        assert cyclonedx_errors(json.dumps(mutated(bom, where, value))) is not None


# --- SPDX --------------------------------------------------------------------------------


def spdx_errors(path: Path) -> list[Any]:
    """What SPDX's validator finds wrong with the SPDX JSON at ``path``, parsed back."""
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    messages: list[Any] = validate_full_spdx_document(parse_file(str(path)))
    return messages


def _spdx(cli: CLI, *argv: str, lock: str = "pylock.toml") -> tuple[dict[str, Any], Path]:
    text = export(cli, "spdx", *argv, lock=lock)
    path = Path("written.spdx.json")
    path.write_text(text, encoding="utf-8")
    assert spdx_errors(path) == []
    document: dict[str, Any] = json.loads(text)
    return document, path


def _by_name(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in document["packages"] if p["SPDXID"] != "SPDXRef-Project"}


def _relations(document: dict[str, Any], kind: str) -> set[tuple[str, str]]:
    names = {p["SPDXID"]: p["name"] for p in document["packages"]}
    names["SPDXRef-DOCUMENT"] = "DOCUMENT"
    return {
        (names[r["spdxElementId"]], names[r["relatedSpdxElement"]])
        for r in document["relationships"]
        if r["relationshipType"] == kind
    }


@pytest.mark.parametrize("choice", list(COVERED), ids=lambda c: " ".join(c) or "whole-lock")
def test_spdx_is_valid_2_3_and_says_what_the_lock_says(
    choice: tuple[str, ...], cli: CLI, project: Path
) -> None:
    document, _ = _spdx(cli, *choice)
    assert document["spdxVersion"] == "SPDX-2.3"
    versions, files = version_of(project / "pylock.toml"), locked_files(project / "pylock.toml")
    packages = _by_name(document)
    assert set(packages) == COVERED[choice]
    for name, package in packages.items():
        refs = [(r["referenceType"], r["referenceLocator"]) for r in package["externalRefs"]]
        assert refs == [("purl", purl(name, versions))]
        sdist = next((u, s) for u, s in files[name] if u.endswith(".tar.gz"))
        assert package["checksums"] == [{"algorithm": "SHA256", "checksumValue": sdist[1]}]
        assert package["packageFileName"] == sdist[0].rsplit("/", 1)[-1]
        assert package["downloadLocation"] == "NOASSERTION"  # a loopback URL: not SPDX's form
        assert all(f"sha256 {s} {u}" in package["sourceInfo"] for u, s in files[name])
        assert package["licenseConcluded"] == package["licenseDeclared"] == "NOASSERTION"
    wanted = {(a, b) for a, bs in EDGES.items() for b in bs if {a, b} <= COVERED[choice]}
    project_edges = {("demo", n) for n in DIRECT & COVERED[choice] - DEVELOPMENT}
    assert _relations(document, "DEPENDS_ON") == wanted | project_edges
    assert _relations(document, "DEV_DEPENDENCY_OF") == {
        (n, "demo") for n in DIRECT & DEVELOPMENT & COVERED[choice]
    }
    assert _relations(document, "DESCRIBES") == {("DOCUMENT", "demo")}


def test_spdx_of_a_lock_with_named_hosts_and_no_project(cli: CLI, project: Path) -> None:
    """URLs SPDX's grammar takes are download locations; with no pyproject.toml beside the
    lock, the document describes the lock's top-level entries."""
    other = project / "elsewhere"
    other.mkdir()
    _rehost(project / "pylock.toml", other / "pylock.toml")
    document, _ = _spdx(cli, lock="elsewhere/pylock.toml")
    files = locked_files(other / "pylock.toml")
    for name, package in _by_name(document).items():
        sdist_url = next(u for u, _ in files[name] if u.endswith(".tar.gz"))
        assert sdist_url.startswith("https://files.example.com/")
        assert package["downloadLocation"] == sdist_url
    assert _relations(document, "DESCRIBES") == {("DOCUMENT", n) for n in DIRECT}
    assert "SPDXRef-Project" not in {p["SPDXID"] for p in document["packages"]}


def test_the_spdx_validation_can_fail(cli: CLI, project: Path) -> None:
    """The validator used above rejects a broken copy: a relationship to an element the
    document does not have, a checksum that is no SHA256."""
    document, path = _spdx(cli)
    for where, value in (
        (("relationships", 0, "relatedSpdxElement"), "SPDXRef-Nowhere"),
        (("packages", 1, "checksums", 0, "checksumValue"), "abc"),
    ):
        path.write_text(json.dumps(mutated(document, where, value)), encoding="utf-8")
        assert spdx_errors(path) != []


# --- GitHub dependency submission ----------------------------------------------------------


def snapshot_errors(snapshot: object) -> list[str]:
    """What GitHub's published snapshot schema finds wrong with ``snapshot``."""
    schema = json.loads((SCHEMA / "github-dependency-snapshot.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [error.message for error in validator.iter_errors(snapshot)]


@pytest.mark.parametrize("choice", list(COVERED), ids=lambda c: " ".join(c) or "whole-lock")
def test_github_snapshot_matches_the_published_schema_and_the_lock(
    choice: tuple[str, ...], cli: CLI, project: Path
) -> None:
    snapshot = json.loads(export(cli, "github", *choice))
    assert snapshot_errors(snapshot) == []
    versions = version_of(project / "pylock.toml")
    manifest = snapshot["manifests"]["pylock.toml"]
    assert manifest["file"] == {"source_location": "pylock.toml"}
    resolved = manifest["resolved"]
    assert set(resolved) == {purl(n, versions) for n in COVERED[choice]}
    for name in COVERED[choice]:
        row = resolved[purl(name, versions)]
        assert row["relationship"] == ("direct" if name in DIRECT else "indirect"), name
        assert row["scope"] == ("development" if name in DEVELOPMENT else "runtime"), name
        children = EDGES.get(name, set()) & COVERED[choice]
        assert row["dependencies"] == sorted(purl(n, versions) for n in children)
    assert snapshot["detector"]["name"] == "tumbler"
    assert (snapshot["sha"], snapshot["ref"], snapshot["job"]["id"]) == (
        "0" * 40,
        "refs/unknown",
        "local",
    )


def test_github_snapshot_takes_the_run_from_the_actions_environment(
    cli: CLI, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha = "ddc951f4b1293222421f2c8df679786153acf689"
    for key, value in {
        "GITHUB_SHA": sha,
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_WORKFLOW": "deps",
        "GITHUB_JOB": "submit",
        "GITHUB_SERVER_URL": "https://github.example.com",
        "GITHUB_REPOSITORY": "octo/demo",
        "GITHUB_WORKSPACE": str(project.parent),
    }.items():
        monkeypatch.setenv(key, value)
    snapshot = json.loads(export(cli, "github", "--group", "dev"))
    assert snapshot_errors(snapshot) == []
    assert (snapshot["sha"], snapshot["ref"]) == (sha, "refs/heads/main")
    assert snapshot["job"] == {
        "correlator": "deps_submit_tumbler_demo/pylock.toml",
        "id": "4242",
        "html_url": "https://github.example.com/octo/demo/actions/runs/4242",
    }
    assert list(snapshot["manifests"]) == ["demo/pylock.toml"]


def test_another_tools_lock_counts_what_nothing_depends_on_as_direct(
    cli: CLI, project: Path
) -> None:
    """No recorded inputs: ``mid``, which the project asks for, is indirect (``top`` needs
    it); the entries nothing needs are direct."""
    _strip_tool_tables(project / "pylock.toml", project / "pylock.other.toml")
    snapshot = json.loads(export(cli, "github", lock="pylock.other.toml"))
    assert snapshot_errors(snapshot) == []
    versions = version_of(project / "pylock.toml")
    direct = {
        name
        for name in EVERYTHING
        if snapshot["manifests"]["pylock.other.toml"]["resolved"][purl(name, versions)][
            "relationship"
        ]
        == "direct"
    }
    assert direct == {"beta", "churn", "delta", "modern", "top"}


def test_the_github_schema_validation_can_fail(cli: CLI, project: Path) -> None:
    """The schema rejects a broken copy: an unknown relationship, a short sha, a ref that
    is no ref, a key the API does not take."""
    snapshot = json.loads(export(cli, "github"))
    row = next(iter(snapshot["manifests"]["pylock.toml"]["resolved"]))
    for where, value in (
        (("manifests", "pylock.toml", "resolved", row, "relationship"), "sideways"),
        (("sha",), "abc123"),
        (("ref",), "main"),
        (("detector", "homepage"), "https://example.com"),
    ):
        assert snapshot_errors(mutated(snapshot, where, value)) != []


# --- reproducible output -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx", "github"])
def test_reproducible_exports_are_byte_identical_and_follow_the_lock(
    fmt: str, cli: CLI, project: Path
) -> None:
    first = export(cli, fmt, "--reproducible")
    assert export(cli, fmt, "--reproducible") == first
    _rehost(project / "pylock.toml", project / "pylock.moved.toml")
    moved = export(cli, fmt, "--reproducible", lock="pylock.moved.toml")
    assert moved != first
    if fmt == "cyclonedx":
        assert json.loads(first)["serialNumber"] != json.loads(moved)["serialNumber"]
        # the newest upload time in the lock: delta 1.0's files
        assert json.loads(first)["metadata"]["timestamp"] == "2023-09-01T12:00:00+00:00"
    if fmt == "spdx":
        namespace = json.loads(first)["documentNamespace"]
        assert namespace != json.loads(moved)["documentNamespace"]
        assert namespace.startswith("https://spdx.org/spdxdocs/tumbler-demo-")
        assert json.loads(first)["creationInfo"]["created"] == "2023-09-01T12:00:00Z"
    if fmt == "github":
        assert json.loads(first)["scanned"] == "2023-09-01T12:00:00Z"


@pytest.mark.parametrize(
    ("fmt", "key"), [("cyclonedx", "serialNumber"), ("spdx", "documentNamespace")]
)
def test_without_reproducible_every_export_has_its_own_serial(
    fmt: str, key: str, cli: CLI, project: Path
) -> None:
    assert json.loads(export(cli, fmt))[key] != json.loads(export(cli, fmt))[key]


def test_a_different_choice_is_a_different_reproducible_document(cli: CLI, project: Path) -> None:
    whole = json.loads(export(cli, "cyclonedx", "--reproducible"))
    fast = json.loads(export(cli, "cyclonedx", "--reproducible", "--extra", "fast"))
    assert whole["serialNumber"] != fast["serialNumber"]


def test_the_exporters_are_registered_and_default_to_the_whole_lock() -> None:
    """Called as a library (no CLI): the defaults of ExportOptions export every entry."""
    from tumbler.lockfile.load import load_lock
    from tumbler.lockfile.source import read_source

    corpus = Path(__file__).resolve().parents[1] / "data" / "corpus"
    lock = load_lock(
        read_source(str(corpus / "pdm-project__pdm__tests__fixtures__projects__demo__pylock.toml"))
    )
    names = {str(p.name) for p in lock.pylock.packages}
    for fmt in ("cyclonedx", "spdx", "github"):
        text = exporter(fmt).export(lock.pylock, ExportOptions(reproducible=True))
        assert text == exporter(fmt).export(lock.pylock, ExportOptions(reproducible=True))
        assert all(f'"{name}"' in text or f"/{name}@" in text for name in names), fmt
