"""The gate without a resolver (``lock --check`` on an up-to-date lock).

End to end: an up-to-date lock passes from the project and the cached records alone, with
no index reachable; a cold cache still passes on the lock's own edges; every tampering
(a ghost entry, a flipped sha256 digit, a dropped dependency, a marker that selects
nothing) is named exactly as the full re-lock names it; ``--full`` always re-locks.
Pure: :func:`tumbler.resolver.gate.verify` on small locks, one problem kind each.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.pylock import Pylock

from tests.conftest import CLI, Run
from tests.support.lockfixtures import write_project
from tests.support.pkgindex import PackageIndex
from tumbler.env.targets import parse_target
from tumbler.index.facts import FileFacts, Needs, ReleaseFacts
from tumbler.resolver.gate import GateInput, verify

#: Nothing listens here: a gate that touched the network would fail.
NOWHERE = "http://127.0.0.1:9/simple"
DATE = "2024-01-01"


@pytest.fixture
def locked(cli: CLI, tmp_path: Path, index: PackageIndex, lock_env: None) -> Path:
    project = write_project(
        tmp_path / "p",
        ["beta", "delta"],
        extras={"viz": ["top"]},
        groups={"dev": ["churn"], "docs": ["gamma"]},
    )
    run = cli("lock", project, "--index-url", index.url, "-q", "--exclude-newer", DATE)
    assert run.code == 0, run.err
    return project


def _check(cli: CLI, project: Path, *args: str, index: str = NOWHERE) -> Run:
    return cli("lock", project, "--check", "--index-url", index, "--exclude-newer", DATE, *args)


def _json(run: Run) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(run.out)
    return result


def test_an_up_to_date_lock_passes_without_the_index_or_a_resolution(
    cli: CLI, locked: Path
) -> None:
    run = _check(cli, locked, "--format", "json")
    assert run.code == 0, run.out + run.err
    result = _json(run)
    assert result["up_to_date"] is True
    assert result["method"] == "records"
    assert result["unrecorded"] == []


def test_a_cold_cache_still_passes_on_the_locks_own_edges(
    cli: CLI, locked: Path, tmp_path: Path
) -> None:
    run = _check(cli, locked, "--format", "json", "--cache-dir", str(tmp_path / "cold"))
    assert run.code == 0, run.out + run.err
    result = _json(run)
    assert result["method"] == "records"
    lock = tomllib.loads((locked.parent / "pylock.toml").read_text(encoding="utf-8"))
    assert sorted(result["unrecorded"]) == sorted(p["name"] for p in lock["packages"])


def test_full_always_compares_with_a_fresh_lock(
    cli: CLI, locked: Path, index: PackageIndex
) -> None:
    run = _check(cli, locked, "--full", "--format", "json", index=index.url)
    assert run.code == 0, run.out + run.err
    assert _json(run)["method"] == "re-lock"
    assert _check(cli, locked, "--full", "--offline", index=index.url).code == 0
    lone = cli("lock", locked, "--full")
    assert lone.code == 2
    assert "--full goes with --check" in lone.err


def _content(run: Run) -> list[str]:
    assert run.code == 1, run.out + run.err
    return run.out.split("content changed:\n", 1)[1].split("run 'tumbler lock'", 1)[0].splitlines()


def _edit(lock: Path, old: str, new: str) -> None:
    text = lock.read_text(encoding="utf-8")
    assert old in text, old
    lock.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_flipped_sha256_digit_is_named_offline(
    cli: CLI, locked: Path, index: PackageIndex
) -> None:
    lock = locked.parent / "pylock.toml"
    document = tomllib.loads(lock.read_text(encoding="utf-8"))
    delta = next(p for p in document["packages"] if p["name"] == "delta")
    digest = delta["wheels"][0]["hashes"]["sha256"]
    _edit(lock, digest, digest[:-1] + ("0" if digest[-1] != "0" else "1"))
    assert _content(_check(cli, locked, "--offline", index=index.url)) == [
        "  changed delta (wheels)"
    ]


def test_a_ghost_entry_is_named(cli: CLI, locked: Path, index: PackageIndex) -> None:
    lock = locked.parent / "pylock.toml"
    ghost = (
        '\n[[packages]]\nname = "ghost"\nversion = "1.0"\n'
        'sdist = { name = "ghost-1.0.tar.gz", url = "http://127.0.0.1/ghost-1.0.tar.gz", '
        f'hashes = {{ sha256 = "{"0" * 64}" }} }}\n'
    )
    _edit(lock, "\n[tool.tumbler]", ghost + "\n[tool.tumbler]")
    assert _content(_check(cli, locked, "--offline", index=index.url)) == ["  removed ghost (1.0)"]


def test_a_dropped_dependency_is_named(cli: CLI, locked: Path, index: PackageIndex) -> None:
    lock = locked.parent / "pylock.toml"
    document = tomllib.loads(lock.read_text(encoding="utf-8"))
    owner = next(p for p in document["packages"] if p.get("dependencies"))
    first = owner["dependencies"][0]["name"]
    text = lock.read_text(encoding="utf-8")
    start = text.index(f'name = "{owner["name"]}"')
    entry = f'    {{ name = "{first}" }},\n'
    at = text.index(entry, start)
    lock.write_text(text[:at] + text[at + len(entry) :], encoding="utf-8")
    assert _content(_check(cli, locked, "--offline", index=index.url)) == [
        f"  changed {owner['name']} (dependencies)"
    ]


def test_a_marker_that_drops_a_needed_package_is_named(
    cli: CLI, locked: Path, index: PackageIndex
) -> None:
    lock = locked.parent / "pylock.toml"
    _edit(lock, 'name = "delta"\n', 'name = "delta"\nmarker = "sys_platform == \'plan9\'"\n')
    assert _content(_check(cli, locked, "--offline", index=index.url)) == [
        "  changed delta (marker)"
    ]


# --- the pure core ------------------------------------------------------------------------

LINUX = parse_target("linux-x86_64-3.12")
WINDOWS = parse_target("windows-amd64-3.12")
SHA = "a" * 64


def _wheel(name: str, version: str, tag: str = "py3-none-any") -> dict[str, Any]:
    filename = f"{name.replace('-', '_')}-{version}-{tag}.whl"
    return {
        "name": filename,
        "url": f"https://files.example.com/{filename}",
        "size": 10,
        "hashes": {"sha256": SHA},
    }


def _package(name: str, version: str, **extra: Any) -> dict[str, Any]:
    table: dict[str, Any] = {"name": name, "version": version, "index": "https://example.com"}
    table["wheels"] = extra.pop("wheels", [_wheel(name, version)])
    table.update(extra)
    return table


def _facts(table: dict[str, Any], *requires: str) -> ReleaseFacts:
    from packaging.requirements import Requirement

    files = {
        w["name"]: FileFacts(w["name"], w["url"], SHA, 10, False, None, None)
        for w in table["wheels"]
    }
    return ReleaseFacts(files, tuple(Needs.of(Requirement(r)) for r in requires), None)


def _verify(
    packages: list[tuple[dict[str, Any], tuple[str, ...]]],
    roots: tuple[str, ...] = ("app-lib>=1",),
    *,
    environments: list[str] | None = None,
) -> tuple[str, ...]:
    from packaging.requirements import Requirement

    document: dict[str, Any] = {
        "lock-version": "1.0",
        "created-by": "tumbler",
        "packages": [table for table, _ in packages],
    }
    if environments is not None:
        document["environments"] = environments
    return verify(
        GateInput(
            pylock=Pylock.from_dict(document),
            roots={"": tuple(Needs.of(Requirement(r)) for r in roots)},
            universe=(LINUX, WINDOWS),
            facts=[_facts(table, *requires) for table, requires in packages],
        )
    ).problems


def test_a_consistent_lock_has_no_problem() -> None:
    lib = _package("app-lib", "1.2", dependencies=[{"name": "helper"}])
    helper = _package("helper", "2.0")
    assert _verify([(lib, ("helper>=2",)), (helper, ())]) == ()


def test_each_kind_of_inconsistency_is_a_problem() -> None:
    lib = _package("app-lib", "1.2", dependencies=[{"name": "helper"}])
    helper = _package("helper", "2.0")
    # A version outside what the metadata asks for.
    (problem,) = _verify([(lib, ("helper>=3",)), (helper, ())])
    assert "asks for helper>=3: helper 2.0 is locked" in problem
    # A requirement no entry meets.
    missing = _verify([(_package("app-lib", "1.2"), ("helper>=2",))])
    assert any("no entry for it" in p for p in missing)
    # An entry nothing needs.
    stray = _verify([(_package("app-lib", "1.2"), ()), (helper, ())])
    assert any("helper 2.0: locked but not needed" in p for p in stray)
    # Two entries of one name at once.
    twice = _verify([(lib, ("helper>=2",)), (helper, ()), (_package("helper", "2.1"), ())])
    assert any("two entries selected at once" in p for p in twice)
    # Recorded dependencies that are not what the metadata asks.
    edges = _verify([(_package("app-lib", "1.2"), ("helper>=2",)), (helper, ())])
    assert any("recorded dependencies" in p for p in edges)


def test_files_and_targets() -> None:
    linux_only = _package(
        "app-lib", "1.2", wheels=[_wheel("app-lib", "1.2", "cp312-cp312-manylinux_2_17_x86_64")]
    )
    # Selected on Windows with no file for it.
    assert any("no file for a target" in p for p in _verify([(linux_only, ())]))
    # Claimed for Linux alone: Windows is left out, and has a reason (no file).
    linux = "sys_platform == 'linux'"
    assert _verify([(linux_only, ())], environments=[linux]) == ()
    # A target left out although nothing stops it.
    anywhere = _package("app-lib", "1.2")
    (problem,) = _verify([(anywhere, ())], environments=[linux])
    assert problem == "left out without a reason: windows-amd64-3.12"


def test_a_file_unlike_the_index_record_is_a_problem() -> None:
    from packaging.requirements import Requirement

    table = _package("app-lib", "1.2")
    facts = _facts(table)
    wheel = next(iter(facts.files.values()))
    other = FileFacts(wheel.filename, wheel.url, "b" * 64, 10, False, None, None)
    problems = verify(
        GateInput(
            pylock=Pylock.from_dict(
                {"lock-version": "1.0", "created-by": "t", "packages": [table]}
            ),
            roots={"": (Needs.of(Requirement("app-lib")),)},
            universe=(LINUX,),
            facts=[ReleaseFacts({wheel.filename: other}, (), None)],
        )
    ).problems
    assert problems == ("app-lib: app_lib-1.2-py3-none-any.whl has another sha256 on the index",)


def test_a_dropped_wheel_is_named(
    cli: CLI, tmp_path: Path, index: PackageIndex, lock_env: None
) -> None:
    """The sdist still serves every target: only the record of the files locking takes
    from the release tells a wheel is missing."""
    project = write_project(tmp_path / "n", ["native==1.0"], requires_python=">=3.11")
    base = ("lock", project, "--index-url", index.url, "--exclude-newer", DATE)
    assert cli(*base, "-q").code == 0
    lock = project.parent / "pylock.toml"
    document = tomllib.loads(lock.read_text(encoding="utf-8"))
    native = next(p for p in document["packages"] if p["name"] == "native")
    assert len(native["wheels"]) > 1 and "sdist" in native
    text = lock.read_text(encoding="utf-8")
    line_start = text.index(f'    {{ name = "{native["wheels"][-1]["name"]}"')
    line_end = text.index("\n", line_start) + 1
    lock.write_text(text[:line_start] + text[line_end:], encoding="utf-8")
    assert _content(cli(*base, "--check", "--offline")) == ["  changed native (wheels)"]


def test_a_one_target_lock_beside_takes_nothing_from_the_gate(
    cli: CLI, tmp_path: Path, index: PackageIndex, lock_env: None
) -> None:
    """Locks of different coverage sharing a cache keep their own records: a one-target
    lock of the same release (one of its wheels, not all) made after the universal lock
    does not send the universal lock's gate to a re-lock."""
    project = write_project(tmp_path / "n", ["native==1.0"], requires_python=">=3.11")
    base = ("lock", project, "--index-url", index.url, "--exclude-newer", DATE, "-q")
    assert cli(*base).code == 0
    host = project.parent / "pylock.host.toml"
    assert cli(*base, "--target", "linux-x86_64-3.12", "-o", host).code == 0
    wheels = [
        len(
            next(p for p in tomllib.loads(f.read_text())["packages"] if p["name"] == "native")[
                "wheels"
            ]
        )
        for f in (project.parent / "pylock.toml", host)
    ]
    assert wheels[0] > wheels[1] == 1
    run = cli(*base[:-1], "--check", "--format", "json")
    assert run.code == 0, run.out
    assert (_json(run)["method"], _json(run)["doubts"]) == ("records", [])


def test_a_doubt_is_said_in_the_json(cli: CLI, locked: Path, index: PackageIndex) -> None:
    lock = locked.parent / "pylock.toml"
    _edit(lock, 'name = "delta"\n', 'name = "delta"\nmarker = "sys_platform == \'plan9\'"\n')
    result = _json(_check(cli, locked, "--offline", "--format", "json", index=index.url))
    assert result["method"] == "re-lock"
    assert any("delta" in doubt for doubt in result["doubts"])


def test_junk_in_the_cache_is_ignored_never_believed(
    cli: CLI, locked: Path, tmp_path: Path
) -> None:
    """Every record the gate and the resolver keep (release facts, tag tables, parsed
    metadata, compact pages) replaced by junk: the gate still answers, from the lock's own
    edges, and never with a traceback."""
    cache = tmp_path / "cache" / "blob"
    kinds = {"release", "tags", "metadata-parsed", "page"}
    spoilt = 0
    for kind in kinds:
        for entry in (cache / kind).rglob("*"):
            if entry.is_file():
                entry.write_bytes(b'{"files": [["x"]], "a": "b"}' if spoilt % 2 else b"\x00junk")
                spoilt += 1
    assert spoilt >= 4
    run = _check(cli, locked, "--format", "json")
    assert run.code == 0, run.out + run.err
    result = _json(run)
    assert result["method"] == "records"
    assert result["unrecorded"]


def test_a_version_edited_by_hand_is_named_with_a_cold_cache(
    cli: CLI, locked: Path, index: PackageIndex, tmp_path: Path
) -> None:
    """No record at hand, the entry's own files still tell: the version moved, its files
    did not, and the lock is refused before any gate runs (R32)."""
    lock = locked.parent / "pylock.toml"
    _edit(lock, 'name = "delta"\nversion = "', 'name = "delta"\nversion = "9')
    cold = str(tmp_path / "cold")
    run = _check(cli, locked, "--format", "json", "--cache-dir", cold, index=index.url)
    assert run.code == 2, run.out
    assert "R32" in run.err and "delta-1.0-py3-none-any.whl" in run.err
    assert "not a valid lock file" in run.err.splitlines()[0]
