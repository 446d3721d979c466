"""The command line: exit codes, bad input, format in place, entry points."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import CLI, REAL, as_lock
from tumbler.lockfile.atomic import write_atomic

GOOD = next(p for p in REAL if p.name.startswith("pypa__packaging.python.org"))


@pytest.fixture
def garbage(tmp_path: Path) -> dict[str, Path]:
    """Inputs a user may hand us by mistake."""
    not_toml = tmp_path / "pylock.toml"
    not_toml.write_text("requests==2.31.0\nclick>=8\n", encoding="utf-8")
    binary = tmp_path / "pylock.bin.toml"
    binary.write_bytes(bytes(range(256)) * 64)
    big = tmp_path / "pylock.big.toml"
    with big.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    return {
        "not TOML": not_toml,
        "a directory": tmp_path,
        "a missing file": tmp_path / "nope" / "pylock.toml",
        "binary garbage": binary,
        "a 50 MB file": big,
    }


@pytest.mark.parametrize("command", ["validate", "audit", "format", "diff"])
@pytest.mark.parametrize(
    "kind", ["not TOML", "a directory", "a missing file", "binary garbage", "a 50 MB file"]
)
def test_bad_input_one_line_exit_2(
    kind: str, command: str, garbage: dict[str, Path], cli: CLI
) -> None:
    """Every command answers bad input with one clear line on stderr and exit 2."""
    bad = garbage[kind]
    args = [command, bad] if command != "diff" else [command, GOOD, bad]
    run = cli(*args)
    assert run.code == 2
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    assert lines[0].startswith(f"tumbler: error: {bad}")
    assert "Traceback" not in run.err + run.out
    expected = {
        "not TOML": "not valid TOML",
        "a directory": "is a directory",
        "a missing file": "no such file",
        "binary garbage": "not a text file",
        "a 50 MB file": "larger than tumbler's 32 MiB limit",
    }[kind]
    assert expected in lines[0]


def test_bad_input_through_the_real_process(garbage: dict[str, Path]) -> None:
    """The installed entry point behaves the same: no traceback, exit 2."""
    proc = subprocess.run(
        [sys.executable, "-m", "tumbler", "validate", str(garbage["binary garbage"])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr


def test_usage_errors_exit_2(cli: CLI, capsys: pytest.CaptureFixture[str]) -> None:
    """argparse mistakes and impossible requests are usage errors."""
    with pytest.raises(SystemExit) as info:
        cli("validate", "--strict=yes")
    assert info.value.code == 2
    capsys.readouterr()
    assert cli("diff", GOOD).code == 2
    assert cli("validate", "--environment", "beos-m68k", GOOD).code == 2


def test_console_script_and_module(tmp_path: Path) -> None:
    """``tumbler`` and ``python -m tumbler`` both run, and report the version."""
    lock = as_lock(GOOD, tmp_path)
    script = Path(sys.executable).with_name("tumbler")
    for argv in ([str(script)], [sys.executable, "-m", "tumbler"]):
        proc = subprocess.run(
            [*argv, "validate", str(lock)], capture_output=True, text=True, check=False
        )
        assert (proc.returncode, proc.stdout.strip().splitlines()[-1]) == (
            0,
            f"{lock}: valid (0 errors, 0 warnings)",
        )
    version = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("tumbler 0.")


def test_validate_from_stdin() -> None:
    """``-`` reads the lock from standard input (the name rule R1 does not apply)."""
    proc = subprocess.run(
        [sys.executable, "-m", "tumbler", "validate", "--format", "json", "-"],
        input=GOOD.read_bytes(),
        capture_output=True,
        check=False,
    )
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["files"][0]["valid"] is True


def test_validate_many_files_and_strict(tmp_path: Path, cli: CLI) -> None:
    """All files are reported in one run; --strict turns warnings (R20 here) into errors."""
    uv_vcs = next(p for p in REAL if "pep_751_git_dependency" in p.name)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = as_lock(GOOD, tmp_path / "a"), as_lock(uv_vcs, tmp_path / "b")
    run = cli("validate", "--format", "json", a, b)
    files = json.loads(run.out)["files"]
    assert [(f["valid"], f["warnings"]) for f in files] == [(True, 0), (True, 1)]
    assert run.code == 0
    strict = cli("validate", "--strict", a, b)
    assert strict.code == 1
    assert "error[R20]" in strict.out


def test_validate_markdown(tmp_path: Path, cli: CLI) -> None:
    """Markdown output is a table per file."""
    bad = tmp_path / "pylock.toml"
    bad.write_text('lock-version = "1.0"\ncreated-by = "x"\npackages = 3\n', encoding="utf-8")
    run = cli("validate", "--format", "markdown", bad)
    assert run.code == 1
    assert f"### `{bad}`: not valid" in run.out
    assert "| error | R17 | `packages` | expected an array of tables, found int |" in run.out


def test_format_rewrites_atomically_and_check_reports(tmp_path: Path, cli: CLI) -> None:
    """format --check only reports (exit 1); format rewrites; then both are no-ops."""
    lock = as_lock(next(p for p in REAL if "pdm__tests" in p.name), tmp_path)
    before = lock.read_bytes()
    lock.chmod(0o640)
    check = cli("format", "--check", lock)
    assert (check.code, lock.read_bytes()) == (1, before)
    assert f"{lock}: would be reformatted" in check.out
    assert cli("format", lock).code == 0
    after = lock.read_bytes()
    assert after != before
    assert stat.S_IMODE(lock.stat().st_mode) == 0o640
    assert cli("format", "--check", lock).code == 0
    assert json.loads(cli("format", "--format", "json", lock).out) == {
        "changed": [],
        "check": False,
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == [lock.name]


def test_format_refuses_invalid_lock_and_keeps_it(tmp_path: Path, cli: CLI) -> None:
    """An invalid lock is not rewritten: exit 2, the file is byte-for-byte the same."""
    lock = tmp_path / "pylock.toml"
    body = b'lock-version = "1.0"\ncreated-by = "x"\n[[packages]]\nname = "Bad"\n'
    lock.write_bytes(body)
    run = cli("format", lock)
    assert run.code == 2
    assert "not a valid lock file" in run.err
    assert lock.read_bytes() == body


def test_write_atomic_leaves_old_file_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that fails midway leaves the previous content and no temporary file."""
    target = tmp_path / "pylock.toml"
    target.write_text("old\n", encoding="utf-8")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    from tumbler.errors import InputError

    with pytest.raises(InputError, match=r"pylock.toml: cannot write \(No space left"):
        write_atomic(target, "new\n")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["pylock.toml"]


def test_write_atomic_missing_directory(tmp_path: Path) -> None:
    """A directory that cannot take the file is an input error, not a traceback."""
    from tumbler.errors import InputError

    with pytest.raises(InputError, match="cannot write"):
        write_atomic(tmp_path / "missing" / "pylock.toml", "x")


def test_a_path_the_system_refuses_is_one_clear_line(cli: CLI) -> None:
    """A name longer than the file system allows (ENAMETOOLONG): exit 2, no traceback."""
    run = cli("validate", "a" * 300)
    assert run.code == 2
    assert "Traceback" not in run.err
    assert run.err == f"tumbler: error: {'a' * 300}: cannot read (File name too long)\n"


def test_bare_tumbler_lists_the_commands(cli: CLI) -> None:
    run = cli()
    assert run.code == 0
    assert run.out.startswith("usage: tumbler")
    for command in ("lock", "validate", "audit", "format", "diff", "install", "sync"):
        assert f"\n    {command} " in run.out


@pytest.mark.parametrize("command", ["validate", "audit", "format", "diff"])
def test_commands_that_read_a_lock_default_to_the_one_here(
    command: str, cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no file, ./pylock.toml (diff: against its last commit, tests/lockfile)."""
    monkeypatch.chdir(tmp_path)
    missing = cli(command)
    assert missing.code == 2
    assert missing.err.startswith("tumbler: error: ")
    assert "pylock.toml" in missing.err
    if command == "diff":
        return
    shutil.copyfile(GOOD, tmp_path / "pylock.toml")
    assert cli(command, *(["--check"] if command == "format" else [])).code in (0, 1)


def test_install_without_a_lock_says_how_to_make_one(
    cli: CLI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    run = cli("install")
    assert run.code == 2
    assert run.err == "tumbler: error: pylock.toml: no such file; run 'tumbler lock' to make it\n"
    assert not (tmp_path / ".venv").exists()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts(shell: str, cli: CLI) -> None:
    run = cli("completion", shell)
    assert run.code == 0
    assert "_ARGCOMPLETE" in run.out  # the script asks tumbler itself
    assert "tumbler" in run.out


def test_bash_completes_commands_and_options(tmp_path: Path) -> None:
    """In a real bash: the completion script, then what TAB offers."""
    script = Path(sys.executable).with_name("tumbler")
    env = {**os.environ, "PATH": f"{script.parent}{os.pathsep}{os.environ['PATH']}"}

    def offered(*words: str) -> list[str]:
        line = " ".join(words)
        program = (
            'source <(tumbler completion bash); COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}; '
            'read -ra COMP_WORDS <<< "$1"; '
            'if [[ "$1" == *" " ]]; then COMP_WORDS+=(""); fi; '
            "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_TYPE=9; "
            '_python_argcomplete tumbler; printf "%s\\n" "${COMPREPLY[@]}"'
        )
        proc = subprocess.run(
            ["bash", "-c", program, "bash", line],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=tmp_path,
        )
        return [w.strip() for w in proc.stdout.splitlines() if w.strip()]

    assert offered("tumbler", "di") == ["diff"]
    assert offered("tumbler", "lock", "--upgr") == ["--upgrade", "--upgrade-package"]
    assert {"bash", "zsh", "fish"} <= set(offered("tumbler", "completion", ""))
