"""The library face, used as a user would: ``import tumbler`` and call it."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

import tumbler
from tests.support.lockfixtures import write_project
from tumbler.findings import Severity

if TYPE_CHECKING:
    from pathlib import Path

    from tests.support.pkgindex import PackageIndex

pytestmark = pytest.mark.usefixtures("lock_env")


def test_importing_tumbler_imports_nothing_else() -> None:
    code = "import sys, tumbler; print(sorted(m for m in sys.modules if m.startswith('tumbler')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['tumbler']"
    assert set(tumbler.__all__) == {
        "TumblerError", "__version__", "check", "diff", "export", "install", "load", "lock",
        "validate",
    }  # fmt: skip
    assert tumbler.__version__ and issubclass(tumbler.TumblerError, Exception)


def test_lock_check_validate_diff_install_export(
    tmp_path: Path, index: PackageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = write_project(tmp_path / "p", ["delta"], groups={"dev": ["churn"]})
    done = tumbler.lock(project, index_url=index.url, target="host")
    assert done.written and done.packages == 3
    lock = project.parent / "pylock.toml"
    assert tumbler.check(project, index_url=index.url).ok
    assert tumbler.validate(lock) == ()
    selected = tumbler.validate(lock, environments=["windows-amd64-3.12"])
    assert [f.rule for f in selected if f.severity is Severity.ERROR] == ["I4"]
    loaded = tumbler.load(lock)
    assert {p.name for p in loaded.pylock.packages} == {"churn", "delta", "gamma"}
    old = tmp_path / "old.pylock.toml"
    old.write_bytes(lock.read_bytes())
    write_project(tmp_path / "p", ["delta", "alpha"], groups={"dev": ["churn"]})
    tumbler.lock(project, index_url=index.url)
    changes = tumbler.diff(old, lock)
    assert [c.name for c in changes.packages] == ["alpha"]
    plan = tumbler.install(lock, venv=tmp_path / "venv", dry_run=True, groups=["dev"])
    assert plan.dry_run and {a.name for a in plan.plan.changes} >= {"alpha", "churn", "delta"}
    done_install = tumbler.install(lock, venv=tmp_path / "venv")  # the stage's package is
    assert done_install.created and not done_install.dry_run  # named apart: still callable
    with pytest.raises(tumbler.TumblerError, match="no exporter for 'nope'"):
        tumbler.export(lock, "nope")
    from tumbler.formats import registry

    monkeypatch.setitem(registry.EXPORTERS, "fake-lock", "tests.formats.fake_format")
    text = tumbler.export(lock, "fake-lock")
    assert text.startswith("# fake-lock 1\n") and " delta 1.0 " not in text
    assert "delta 1.0 http://127.0.0.1" in text


def test_errors_are_tumbler_errors_with_an_exit_code(tmp_path: Path) -> None:
    with pytest.raises(tumbler.TumblerError) as raised:
        tumbler.load(tmp_path / "missing" / "pylock.toml")
    assert raised.value.exit_code == 2
