"""The reader: every real corpus file loads; every invalid one is refused with its rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import BROKEN_REAL, CLI, INVALID, INVALID_REAL, REAL, as_lock, rules_named
from tumbler.errors import InputError, LockInvalidError
from tumbler.findings import Severity
from tumbler.lockfile.load import load, load_lock
from tumbler.lockfile.source import LockSource, read_source


@pytest.mark.parametrize("corpus_file", REAL, ids=lambda p: p.name[:60])
def test_real_files_validate(corpus_file: Path, tmp_path: Path, cli: CLI) -> None:
    """Real files validate without errors, except those the corpus README calls broken (R19)."""
    lock = as_lock(corpus_file, tmp_path)
    run = cli("validate", "--format", "json", lock)
    report = json.loads(run.out)["files"][0]
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    if corpus_file.name in BROKEN_REAL:
        assert run.code == 1
        assert {f["rule"] for f in errors} >= {BROKEN_REAL[corpus_file.name]}
    else:
        assert errors == []
        assert run.code == 0


@pytest.mark.parametrize("invalid_file", INVALID, ids=lambda p: p.name)
def test_invalid_files_refused_with_their_rule(
    invalid_file: Path, tmp_path: Path, cli: CLI
) -> None:
    """Each hand-made invalid file is refused, naming the rule line 1 names.

    ``install-*`` files pass ``validate`` and are refused by the selection check that
    ``validate --environment`` runs (or, for hash/size, by ``--verify-files``: see
    test_verify.py).
    """
    lock = tmp_path / "pylock.toml"
    lock.write_bytes(invalid_file.read_bytes())
    named = rules_named(invalid_file)
    run = cli("validate", "--format", "json", lock)
    if invalid_file.name.startswith("install-"):
        assert run.code == 0, run.out
        if invalid_file.name.startswith(("install-hash", "install-size")):
            return
        env = "windows-amd64-3.12" if "no-compatible-wheel" not in invalid_file.name else "host"
        run = cli("validate", "--format", "json", "--environment", env, lock)
    if "toml-syntax" in invalid_file.name:
        assert run.code == 2
        finding = json.loads(run.out)["files"][0]["findings"][0]
        assert finding["rule"] in named
        return
    assert run.code == 1, run.out
    findings = json.loads(run.out)["files"][0]["findings"]
    errors = {f["rule"] for f in findings if f["severity"] == "error"}
    assert errors & named, (errors, named)


@pytest.mark.parametrize("real_invalid", INVALID_REAL, ids=lambda p: p.name[:50])
def test_broken_real_files_refused(real_invalid: Path, tmp_path: Path, cli: CLI) -> None:
    """Broken real files: not TOML (exit 2, R5), or no lock-version (exit 1, R8)."""
    lock = tmp_path / "pylock.toml"
    lock.write_bytes(real_invalid.read_bytes())
    run = cli("validate", "--format", "json", lock)
    rules = {f["rule"] for f in json.loads(run.out)["files"][0]["findings"]}
    assert (run.code, rules & {"R5", "R8"}) in [(2, {"R5"}), (1, {"R8"})]


def test_every_error_is_reported_in_one_run() -> None:
    """packaging stops at the first error; tumbler reports each, with location and rule."""
    text = """
lock-version = "1.0"
created-by = 3
requires-python = ">>3"
[[packages]]
name = "Bad_Name"
version = "1.0"
wheels = [{ url = "https://example.com/bad_name-1.0-py3-none-any.whl", hashes = {} }]
[[packages]]
name = "ok"
version = "1.0"
sdist = { url = "https://example.com/other-1.0.tar.gz", size = "12", hashes = { sha256 = "x" } }
[[packages]]
name = "third"
marker = "python_version >>> '3'"
directory = { path = ".", editable = "yes" }
"""
    loaded = load(LockSource("t", text.encode()))
    got = [(f.location, f.rule) for f in loaded.findings if f.severity is Severity.ERROR]
    assert got == [
        ("created-by", "R16"),
        ("packages[0].name", "R19"),
        ("packages[1].sdist", "R32"),
        ("packages[1].sdist.size", "R35"),
        ("packages[2].directory.editable", "R26"),
        ("packages[2].marker", "R21"),
        ("requires-python", "R12"),
    ]


def test_packages_after_bad_name_still_checked() -> None:
    """An unnormalized name stops that package's checks but not the next package's."""
    text = """
lock-version = "1.0"
created-by = "x"
[[packages]]
name = "A.B"
[[packages]]
name = "c"
wheels = [{ url = "https://example.com/c-1.0-py3-none-any.whl", hashes = { sha256 = 1 } }]
"""
    got = [(f.location, f.rule) for f in load(LockSource("t", text.encode())).findings]
    assert got == [
        ("packages[0]", "R24"),
        ("packages[0].name", "R19"),
        ("packages[1].wheels[0].hashes", "R34"),
    ]


def test_sourceless_package_with_marker_is_a_warning_and_loads() -> None:
    """uv writes entries with no files when no file matches their marker: warn, keep the entry."""
    text = """
lock-version = "1.0"
created-by = "uv"
[[packages]]
name = "nvidia-cublas-cu12"
version = "12.1"
marker = "sys_platform == 'darwin' and platform_machine == 'x86_64'"
"""
    loaded = load(LockSource("t", text.encode()))
    assert [(f.rule, f.severity) for f in loaded.findings] == [("R24", Severity.WARNING)]
    assert loaded.lock is not None
    package = loaded.lock.pylock.packages[0]
    assert (package.directory, package.wheels, package.sdist) == (None, None, None)


def test_unknown_minor_version_warns_on_unknown_keys() -> None:
    """R10: a 1.1 file's unknown keys are warned about; a 2.0 file is an error (R9)."""
    text = 'lock-version = "1.1"\ncreated-by = "x"\nfuture-key = 1\npackages = []\n'
    findings = load(LockSource("t", text.encode())).findings
    assert [(f.location, f.rule, f.severity) for f in findings] == [
        ("future-key", "R10", Severity.WARNING)
    ]
    major = load(LockSource("t", text.replace("1.1", "2.0").encode())).findings
    assert [(f.rule, f.severity) for f in major] == [("R9", Severity.ERROR)]


def test_load_lock_refuses_invalid_and_not_toml(tmp_path: Path) -> None:
    """Commands that need a valid lock raise one error with every finding attached."""
    bad = tmp_path / "pylock.toml"
    bad.write_text('lock-version = "1.0"\n', encoding="utf-8")
    with pytest.raises(LockInvalidError) as info:
        load_lock(read_source(str(bad)))
    assert [f.rule for f in info.value.findings] == ["R16", "R17"]  # type: ignore[attr-defined]
    bad.write_text("[[[", encoding="utf-8")
    with pytest.raises(InputError, match=r"not valid TOML.*\(R5\)"):
        load_lock(read_source(str(bad)))


def test_file_name_rule(tmp_path: Path, cli: CLI) -> None:
    """R1: pylock.toml and pylock.<name>.toml (no dots in name) only."""
    body = (REAL[0]).read_bytes()
    results = {}
    for name in (
        "pylock.toml",
        "pylock.dev.toml",
        "pylock.py3.12.toml",
        "Pylock.toml",
        "lock.toml",
    ):
        path = tmp_path / name
        path.write_bytes(body)
        results[name] = cli("validate", "--format", "json", path).code
    assert results == {
        "pylock.toml": 0,
        "pylock.dev.toml": 0,
        "pylock.py3.12.toml": 1,
        "Pylock.toml": 1,
        "lock.toml": 1,
    }


_BASE = 'lock-version = "1.0"\ncreated-by = "x"\n'
_A = '[[packages]]\nname = "a"\ndirectory = { path = "a" }\n'
_B = (
    '[[packages]]\nname = "b"\nversion = "1.0"\nwheels = [{ url = "https://example.com/b-1.0-py3-none-any.whl", hashes = { sha256 = "%s" } }]\n'
    % ("1" * 64)
)
_C = '[[packages]]\nname = "c"\nvcs = { type = "fossil", url = "https://example.com/c", commit-id = "1" }\n'


def test_reuse_shares_unchanged_packages_and_means_the_same() -> None:
    """``load(new, reuse=old)`` takes unchanged packages from ``old`` and builds the same model."""
    old = load(LockSource("old", (_BASE + _A + _B).encode()))
    new_text = (_BASE + _A + _B.replace("1.0", "2.0")).encode()
    plain = load(LockSource("new", new_text))
    reused = load(LockSource("new", new_text), reuse=old)
    assert old.lock is not None and plain.lock is not None and reused.lock is not None
    assert reused.lock.pylock == plain.lock.pylock
    assert reused.lock.pylock.packages[0] is old.lock.pylock.packages[0]
    assert reused.lock.pylock.packages[1] is not old.lock.pylock.packages[1]


def test_reuse_still_refuses_a_broken_changed_package() -> None:
    """A package that is new or changed is validated in full even when the rest is reused."""
    old = load(LockSource("old", (_BASE + _A).encode()))
    assert old.findings == ()
    new = load(LockSource("new", (_BASE + _A + _C).encode()), reuse=old)
    assert [(f.location, f.rule, f.severity) for f in new.findings] == [
        ("packages[1].vcs.type", "R25", Severity.ERROR),
    ]


@pytest.mark.parametrize("corpus_file", REAL + INVALID, ids=lambda p: p.name[:50])
def test_fast_parser_agrees_with_tomllib(corpus_file: Path) -> None:
    """rtoml (the fast path) gives exactly tomllib's values on every corpus file."""
    import tomllib

    text = corpus_file.read_text(encoding="utf-8")
    try:
        expected = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        with pytest.raises(InputError, match=r"\(at line \d+, column \d+\) \(R5\)"):
            load(LockSource("t", text.encode()))
        return
    assert load(LockSource("t", text.encode())).document == expected
