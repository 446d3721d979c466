"""``tumbler audit`` as a supply-chain gate for any lock: a cooldown (``--min-age``: C1 a
file newer than the cut-off, C2 a file without an upload time), packages from several
indexes without a pin (P2), and each file against its index today (``--index``: P1 a file
it does not list, P3 a release it no longer has, Y1 a file yanked since)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import as_lock
from tests.support.lockfixtures import write_project

if TYPE_CHECKING:
    from tests.conftest import CLI
    from tests.support.pkgindex import PackageIndex

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
NOW = datetime.now(UTC).replace(microsecond=0)


def _time(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z")


def _lock(directory: Path, entries: list[tuple[str, str, str, str | None]]) -> Path:
    """A hand-written lock: (name, version, index, upload time or None) per package."""
    lines = ['lock-version = "1.0"', 'created-by = "hand"', ""]
    for number, (name, version, index, uploaded) in enumerate(entries):
        when = f"upload-time = {uploaded}, " if uploaded else ""
        lines += [
            "[[packages]]",
            f'name = "{name}"',
            f'version = "{version}"',
            f'index = "{index}"',
            f'wheels = [{{ url = "{index.split("/simple")[0]}/files/{name.replace("-", "_")}-{version}'
            f'-py3-none-any.whl", {when}hashes = {{ sha256 = "{str(number) * 64}" }} }}]',
            "",
        ]
    path = directory / "pylock.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _rules(cli: CLI, *args: str | Path) -> tuple[int, list[tuple[str, str, str]]]:
    run = cli("audit", "--format", "json", *args)
    files = json.loads(run.out)["files"]
    return run.code, [(f["rule"], f["severity"], f["message"]) for f in files[0]["findings"]]


def test_min_age_flags_new_files_and_files_without_an_upload_time(cli: CLI, tmp_path: Path) -> None:
    index = "https://example.com/simple"
    lock = _lock(
        tmp_path,
        [("fresh", "2.0", index, _time(2)), ("old", "1.0", index, _time(40)),
         ("untimed", "1.0", index, None), ("acme-tool", "1.1", index, _time(0.2))],
    )  # fmt: skip
    code, found = _rules(cli, lock, "--min-age", "7d")
    assert code == 1
    assert sorted((r, s, m.split(":")[0]) for r, s, m in found) == [
        ("C1", "error", "acme-tool 1.1"),
        ("C1", "error", "fresh 2.0"),
        ("C2", "warning", "untimed 1.0"),
    ]
    code, strict = _rules(
        cli, lock, "--min-age", "1 week", "--strict", "--min-age-exempt", "acme-*"
    )
    assert sorted((r, s) for r, s, _ in strict) == [("C1", "error"), ("C2", "error")]
    assert not any("acme-tool" in m for _, _, m in strict)
    assert _rules(cli, lock, "--min-age", "1h", "--min-age-exempt", "untimed")[1] == []


@pytest.mark.parametrize(
    "corpus",
    [
        "pypa__pip__build-project__pylock.toml",  # pip's
        "Comfy-Org__comfy-cli__pylock.toml",  # uv's
        "pdm-project__pdm__tests__fixtures__projects__demo__pylock.toml",  # pdm's
    ],
)
def test_min_age_reads_any_tools_lock(cli: CLI, tmp_path: Path, corpus: str) -> None:
    lock = as_lock(CORPUS / corpus, tmp_path)
    import tomllib

    from packaging.pylock import Pylock

    _, found = _rules(cli, lock, "--min-age", "P1D")
    rules = {r for r, _, _ in found}
    pylock = Pylock.from_dict(tomllib.loads(lock.read_text(encoding="utf-8")))
    files = [
        f for p in pylock.packages for f in (*(p.wheels or ()), *((p.sdist,) if p.sdist else ()))
    ]
    assert files
    assert sum(r == "C2" for r in rules) == (1 if any(f.upload_time is None for f in files) else 0)
    assert sum(r == "C2" for r, _, _ in found) == sum(f.upload_time is None for f in files)
    assert "C1" not in rules  # every file in the corpus is older than a day


def test_packages_from_several_indexes_without_a_pin_are_p2(cli: CLI, tmp_path: Path) -> None:
    lock = _lock(
        tmp_path,
        [("a", "1.0", "https://one.example.com/simple", _time(30)),
         ("b", "1.0", "https://two.example.com/simple", _time(30))],
    )  # fmt: skip
    code, found = _rules(cli, lock)
    assert code == 1
    assert [(r, s) for r, s, _ in found] == [("P2", "warning")]
    pinned = lock.read_text() + (
        '\n[tool.tumbler]\nproject = "pyproject.toml"\ninputs = { dependencies = ["a", "b"] }\n'
        '[tool.tumbler.package-indexes]\nb = "https://two.example.com/simple"\n'
    )
    lock.write_text(pinned)
    assert _rules(cli, lock)[1] == []


@pytest.mark.usefixtures("lock_env")
def test_index_flags_yanked_replaced_and_vanished_files(
    cli: CLI, tmp_path: Path, index: PackageIndex
) -> None:
    project = write_project(tmp_path, ["pinned==2.0", "base"], requires_python=">=3.11")
    assert cli("lock", project, "--index-url", index.url, "--target", "host", "-q").code == 0
    lock = tmp_path / "pylock.toml"
    code, found = _rules(cli, lock, "--index")
    assert code == 1
    assert sorted((r, m) for r, _, m in found) == [
        ("Y1", "pinned 2.0: pinned-2.0-py3-none-any.whl has been yanked: broken"),
        ("Y1", "pinned 2.0: pinned-2.0.tar.gz has been yanked: broken"),
    ]
    text = lock.read_text(encoding="utf-8")
    digest = text.split('sha256 = "')[1][:64]  # the first file: base's
    elsewhere = index.url.replace("/simple/", "/elsewhere/")
    edited = text.replace(digest, "f" * 64, 1)
    edited = edited.replace(
        f'name = "pinned"\nversion = "2.0"\nindex = "{index.url.rstrip("/")}"',
        f'name = "pinned"\nversion = "2.0"\nindex = "{elsewhere}"',
    )
    assert edited.count(elsewhere) == 1
    lock.write_text(edited, encoding="utf-8")
    _, found = _rules(cli, lock, "--index")
    assert sorted(r for r, _, _ in found) == ["P1", "P2", "P3"]  # two indexes now, no pin
    assert any(r == "P1" and "f" * 64 in m for r, _, m in found)
    assert any(r == "P3" and "pinned 2.0 is not on its index" in m for r, _, m in found)
