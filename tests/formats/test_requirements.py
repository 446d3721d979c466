"""tumbler.formats.requirements: a lock as a hashed requirements file that pip installs.

The round trip is real: a universal lock made on the loopback index, exported for a
choice of extras and groups, installed by pip with ``--require-hashes --no-deps``, gives
exactly what packaging's own selection of the lock gives on this interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from typing import TYPE_CHECKING

import pytest
from packaging.markers import Marker
from packaging.pylock import Pylock
from packaging.utils import canonicalize_name

from tests.support.lockfixtures import write_project
from tumbler.formats.requirements import settle_marker

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import CLI
    from tests.support.pkgindex import PackageIndex


@pytest.mark.parametrize(
    ("marker", "extras", "groups", "settled"),
    [
        (None, (), (), True),
        ("'viz' in extras", ("viz",), (), True),
        ("'viz' in extras", (), (), False),
        ("'dev' in dependency_groups or 'viz' in extras", (), ("dev",), True),
        (
            "python_version < '3.11' and 'viz' in extras",
            ("viz",),
            (),
            'python_version < "3.11"',
        ),
        ("python_version < '3.11' and 'viz' in extras", (), (), False),
        (
            "(sys_platform == 'win32' and 'Dev' in dependency_groups) or python_version < '3.11'",
            (),
            ("dev",),
            'sys_platform == "win32" or python_version < "3.11"',
        ),
        (
            "(sys_platform == 'win32' and 'dev' in dependency_groups) or python_version < '3.11'",
            (),
            (),
            'python_version < "3.11"',
        ),
        ("'viz' not in extras and os_name == 'nt'", (), (), 'os_name == "nt"'),
        ("extra == 'fast'", ("fast",), (), True),
        ("sys_platform == 'linux'", ("x",), ("y",), 'sys_platform == "linux"'),
    ],
)
def test_markers_keep_the_environment_and_decide_the_choices(
    marker: str | None, extras: tuple[str, ...], groups: tuple[str, ...], settled: object
) -> None:
    assert settle_marker(None if marker is None else Marker(marker), extras, groups) == settled


def _selected(lock: Path, extras: tuple[str, ...], groups: tuple[str, ...]) -> set[str]:
    pylock = Pylock.from_dict(tomllib.loads(lock.read_text(encoding="utf-8")))
    chosen = pylock.select(extras=extras, dependency_groups=groups)
    return {f"{canonicalize_name(p.name)}=={p.version}" for p, _ in chosen}


@pytest.mark.usefixtures("lock_env")
@pytest.mark.parametrize("choice", [((), ()), (("fast",), ()), (("fast",), ("dev", "docs"))])
def test_pip_installs_the_export_with_hashes_required(
    choice: tuple[tuple[str, ...], tuple[str, ...]],
    cli: CLI,
    index: PackageIndex,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    extras, groups = choice
    monkeypatch.chdir(tmp_path)
    write_project(
        tmp_path,
        ["delta", "recent"],
        extras={"fast": ["beta[fast]"]},
        groups={"dev": ["churn"], "docs": ["modern"]},
    )
    assert cli("lock", "--index-url", index.url, "--exclude-newer", "2024-01-01", "-q").code == 0
    argv = ["export", "--format", "requirements.txt", "-o", "requirements.txt"]
    argv += [a for e in extras for a in ("--extra", e)] + [
        a for g in groups for a in ("--group", g)
    ]
    run = cli(*argv)
    assert run.code == 0, run.err
    text = (tmp_path / "requirements.txt").read_text(encoding="utf-8")
    assert f"--index-url {index.url}" in text
    assert "in extras" not in text and "in dependency_groups" not in text
    target = tmp_path / "target"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--isolated", "--no-cache-dir", "-q",
         "--require-hashes", "--no-deps", "--target", str(target), "-r", "requirements.txt"],
        capture_output=True, text=True, check=False, env={**env, "PIP_CONFIG_FILE": os.devnull},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    installed = {
        p.name.removesuffix(".dist-info").replace("-", "==", 1) for p in target.glob("*.dist-info")
    }
    wanted = _selected(tmp_path / "pylock.toml", extras, groups)
    assert {
        canonicalize_name(i.split("==")[0]) + "==" + i.split("==")[1] for i in installed
    } == wanted


def test_unknown_choices_are_refused(
    cli: CLI, index: PackageIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lock_env: None
) -> None:
    monkeypatch.chdir(tmp_path)
    write_project(tmp_path, ["delta"], groups={"dev": ["churn"]})
    assert cli("lock", "--index-url", index.url, "-q").code == 0
    run = cli("export", "--format", "requirements.txt", "--group", "docs", "-o", "out.txt")
    assert (run.code, run.err) == (
        2,
        "tumbler: error: the lock has no group 'docs' (it offers: dev)\n",
    )
    assert not (tmp_path / "out.txt").exists()


@pytest.mark.usefixtures("lock_env")
def test_export_then_import_keeps_every_version_and_hash(
    cli: CLI, index: PackageIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exported file imported again: the same selection on this interpreter, the same
    files by sha256, a lock that validates strictly. (The file carries no dependency
    graph, so the imported lock has none: diff names that, not versions.)"""
    monkeypatch.chdir(tmp_path)
    write_project(tmp_path, ["delta", "recent"], extras={"fast": ["beta[fast]"]})
    assert cli("lock", "--index-url", index.url, "--exclude-newer", "2024-01-01", "-q").code == 0
    export = ["export", "--format", "requirements.txt", "--extra", "fast"]
    assert cli(*export, "-o", "requirements.txt").code == 0
    run = cli("import", "requirements.txt", "-o", "pylock.imported.toml")
    assert run.code == 0, run.err
    imported = tmp_path / "pylock.imported.toml"
    assert _selected(imported, (), ()) == _selected(tmp_path / "pylock.toml", ("fast",), ())
    assert cli("validate", "--strict", imported).code == 0
    original = Pylock.from_dict(tomllib.loads((tmp_path / "pylock.toml").read_text()))
    again = Pylock.from_dict(tomllib.loads(imported.read_text()))

    def hashes(lock: Pylock) -> set[tuple[str, str, str]]:
        out: set[tuple[str, str, str]] = {
            (p.name, str(p.version), w.hashes["sha256"])
            for p in lock.packages
            for w in p.wheels or ()
        }
        out |= {
            (p.name, str(p.version), p.sdist.hashes["sha256"]) for p in lock.packages if p.sdist
        }
        return out

    assert hashes(again) <= hashes(original)
    assert {(n, v) for n, v, _ in hashes(again)} == {
        (p.name, str(p.version)) for p in again.packages
    }
    diff = cli("diff", "--format", "json", "pylock.toml", imported.name)
    kinds = {c["kind"] for c in json.loads(diff.out)["packages"]}
    assert kinds <= {"changed"}  # no package added, removed, upgraded or downgraded
    # what an installer takes differs only where the export decided the extra
    installs = json.loads(
        cli("diff", "--installs", "--format", "json", "pylock.toml", imported.name).out
    )
    assert installs["lock"] == []
    fields = {(c["name"], f["field"]) for c in installs["packages"] for f in c["fields"]}
    assert {field for _, field in fields} == {"marker"}
    chosen = {c["name"] for c in installs["packages"]}
    assert chosen and all("fast" in c["fields"][0]["old"] for c in installs["packages"])


@pytest.mark.usefixtures("lock_env")
def test_a_round_trip_through_requirements_is_no_difference_an_installer_sees(
    cli: CLI, index: PackageIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A universal lock whose markers name only environments (Python, platform): export,
    import, and ``diff --installs`` finds nothing; plain ``diff`` names what a requirements
    file cannot carry (the graph, the lock's own fields), never a package."""
    monkeypatch.chdir(tmp_path)
    write_project(tmp_path, ["top", "patchy", "native", "uses-recent"], requires_python=">=3.9")
    assert cli("lock", "--index-url", index.url, "--universal", "-q").code == 0
    assert cli("export", "--format", "requirements.txt", "-o", "requirements.txt").code == 0
    assert cli("import", "requirements.txt", "-o", "pylock.back.toml", "-q").code == 0
    same = cli("diff", "--installs", "pylock.toml", "pylock.back.toml")
    assert (same.code, same.out.strip().splitlines()[0]) == (
        0,
        "tumbler diff pylock.toml → pylock.back.toml: no changes",
    )
    full = json.loads(cli("diff", "--format", "json", "pylock.toml", "pylock.back.toml").out)
    assert {c["kind"] for c in full["packages"]} == {"changed"}
    assert {f["field"] for c in full["packages"] for f in c["fields"]} <= {
        "dependencies",
        "requires-python",
    }


@pytest.mark.usefixtures("lock_env")
@pytest.mark.parametrize(
    "case",
    [
        (
            "beta>=1.0 --hash=sha256:" + "0" * 64 + "\n",
            "requirements.txt:1: 'beta>=1.0' is not pinned",
        ),
        ("# pinned\nbeta==1.0\n", "requirements.txt:2: beta==1.0 has no --hash (R34"),
        (
            "beta==1.0 \\\n    --hash=sha256:" + "0" * 64 + "\n",
            "requirements.txt:1: beta==1.0: no file with sha256 000",
        ),
        ("--no-binary :all:\nbeta==1.0\n", "requirements.txt:1: --no-binary is not imported"),
        ("beta===\n", "requirements.txt:1: not a requirement ("),
    ],
)
def test_a_malformed_requirements_file_is_one_line_and_writes_nothing(
    case: tuple[str, str],
    cli: CLI,
    index: PackageIndex,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text, message = case
    monkeypatch.chdir(tmp_path)
    (tmp_path / "requirements.txt").write_text(f"--index-url {index.url}\n{text}", encoding="utf-8")
    run = cli("import", "requirements.txt")
    assert run.code == 2
    assert run.err.startswith(
        "tumbler: error: "
        + message.replace(":1:", ":2:").replace(":2: beta==1.0 has", ":3: beta==1.0 has")
    ), run.err
    assert len(run.err.strip().splitlines()) == 1
    assert not (tmp_path / "pylock.toml").exists()


@pytest.mark.usefixtures("lock_env")
def test_a_file_naming_no_index_takes_the_one_given_on_the_command_line(
    cli: CLI, index: PackageIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``import --index-url``: where the files of a requirements file without
    ``--index-url`` are looked up; the lock records that index."""
    monkeypatch.chdir(tmp_path)
    write_project(tmp_path, ["delta"])
    assert cli("lock", "--index-url", index.url, "-q").code == 0
    assert cli("export", "--format", "requirements.txt", "-o", "requirements.txt").code == 0
    text = (tmp_path / "requirements.txt").read_text(encoding="utf-8")
    bare = "\n".join(line for line in text.splitlines() if not line.startswith("--index-url"))
    (tmp_path / "requirements.txt").write_text(bare + "\n", encoding="utf-8")
    run = cli("import", "requirements.txt", "-o", "pylock.back.toml", "--index-url", index.url)
    assert run.code == 0, run.err
    back = Pylock.from_dict(tomllib.loads((tmp_path / "pylock.back.toml").read_text()))
    assert {str(p.index) for p in back.packages} == {index.url.rstrip("/")}


@pytest.mark.usefixtures("lock_env")
def test_what_the_index_does_not_say_is_named_in_a_note(
    cli: CLI, pypiserver: PackageIndex, tmp_path: Path
) -> None:
    """pypiserver's pages give neither sizes nor upload times: the import writes the
    files without them (the standard does not require them) and says so."""
    from tests.support.pkgindex import fetch

    wheel = "alpha-1.1-py3-none-any.whl"
    digest = pypiserver.sha256(wheel)
    assert fetch(pypiserver.file_url(wheel)).status == 200
    source = tmp_path / "requirements.txt"
    source.write_text(f"--index-url {pypiserver.url}\nalpha==1.1 --hash=sha256:{digest}\n")
    run = cli("import", source, "-o", tmp_path / "pylock.toml")
    assert run.code == 0, run.err
    assert "1 without an upload time (the source lacks them; the index does not give them)" in (
        run.err
    )
