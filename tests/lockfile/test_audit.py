"""Lints (A1 to A6): what a reviewer wants flagged even in a valid lock."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import CLI, REAL, as_lock
from tumbler.lockfile.audit import audit
from tumbler.lockfile.load import load_lock
from tumbler.lockfile.source import LockSource

CLEAN = next(p for p in REAL if p.name.startswith("pypa__packaging.python.org"))

_LOCK = """
lock-version = "1.0"
created-by = "x"
environments = ["sys_platform == 'linux'", "sys_platform == 'win32'", "sys_platform == 'darwin'"]
requires-python = ">=3.10"
extras = ["cli"]

[[packages]]
name = "old-hash"
version = "1.0"
wheels = [{ url = "https://example.com/old_hash-1.0-py3-none-any.whl", hashes = { sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709" } }]

[[packages]]
name = "built"
version = "1.0"
sdist = { url = "https://example.com/built-1.0.tar.gz", hashes = { sha256 = "HASH" } }

[[packages]]
name = "native"
version = "1.0"
wheels = [{ url = "https://example.com/native-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", hashes = { sha256 = "HASH" } }]

[[packages]]
name = "private"
version = "1.0"
index = "https://user:s3cret@pypi.example.com/simple/"
wheels = [{ url = "https://files.example.com/private-1.0-py3-none-any.whl?token=abc", hashes = { sha256 = "HASH" } }]

[[packages]]
name = "ghost"
version = "1.0"
marker = "python_version < '3.8'"
wheels = [{ url = "https://example.com/ghost-1.0-py3-none-any.whl", hashes = { sha256 = "HASH" } }]

[[packages]]
name = "cli-only"
version = "1.0"
marker = "'cli' in extras and sys_platform == 'win32'"
wheels = [{ url = "https://example.com/cli_only-1.0-py3-none-any.whl", hashes = { sha256 = "HASH" } }]
""".replace("HASH", "a" * 64)


def test_each_lint() -> None:
    """Each lint fires on the package it is about, and only there."""
    lock = load_lock(LockSource("t", _LOCK.encode()))
    got = sorted((f.rule, f.location) for f in audit(lock.pylock))
    assert got == [
        ("A1", "packages[0].wheels[0].hashes"),
        ("A2", "packages[1]"),
        ("A3", "environments"),
        ("A4", "packages[3].index"),
        ("A4", "packages[3].wheels[0].url"),
        ("A6", "packages[4].marker"),
    ]


def test_credentials_are_not_echoed() -> None:
    """The A4 message names the host but never repeats the secret."""
    lock = load_lock(LockSource("t", _LOCK.encode()))
    messages = " ".join(f.message for f in audit(lock.pylock) if f.rule == "A4")
    assert "pypi.example.com" in messages
    assert "s3cret" not in messages
    assert "abc" not in messages


def test_legacy_extra_in_environments() -> None:
    """A5: the legacy extra variable in environments."""
    text = (
        'lock-version = "1.0"\ncreated-by = "x"\nenvironments = ["extra == \'x\'"]\npackages = []\n'
    )
    lock = load_lock(LockSource("t", text.encode()))
    assert [(f.rule, f.location) for f in audit(lock.pylock)] == [("A5", "environments[0]")]


def test_cli_audit(tmp_path: Path, cli: CLI) -> None:
    """A clean lock exits 0; findings exit 1 with JSON listing them; R45 shows up too."""
    clean = as_lock(CLEAN, tmp_path)
    assert cli("audit", clean).code == 0
    flagged = tmp_path / "pylock.flagged.toml"
    flagged.write_text(
        _LOCK + '\n[[packages]]\nname = "legacy"\nmarker = "extra == \'cli\'"\n'
        'directory = { path = "." }\n',
        encoding="utf-8",
    )
    run = cli("audit", "--format", "json", flagged)
    assert run.code == 1
    rules = {f["rule"] for f in json.loads(run.out)["files"][0]["findings"]}
    assert rules == {"A1", "A2", "A3", "A4", "A6", "R45"}
