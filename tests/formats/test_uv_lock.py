"""tumbler.formats.uv: a ``uv.lock`` made by the real uv on the loopback index, imported.

What uv itself exports for a selection (``uv export --format pylock.toml``, this machine's
view of it through ``packaging``) is what the imported universal lock selects for the
same extras and groups; every hash uv recorded is kept; ``diff``, ``validate`` and
``audit`` read the ``uv.lock`` itself through the same reader.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from packaging.pylock import Pylock
from packaging.utils import canonicalize_name

from tests.support.lockfixtures import write_project
from tests.support.pkgindex import Dist, write_source_tree
from tests.support.tools import clean_env

if TYPE_CHECKING:
    from tests.conftest import CLI
    from tests.support.pkgindex import PackageIndex

pytestmark = [pytest.mark.usefixtures("lock_env")]

UV = str(Path(sys.executable).with_name("uv"))

#: Extras and groups asked of both tools: (extras, groups).
CHOICES = [((), ()), (("viz",), ()), ((), ("dev",)), (("viz",), ("dev", "docs"))]


def _uv(*args: str | Path, cwd: Path) -> str:
    done = subprocess.run(
        [UV, *map(str, args), "--cache-dir", str(cwd / ".uv-cache")],
        cwd=cwd, env=clean_env(), capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def uv_project(tmp_path: Path, index: PackageIndex) -> Path:
    """A project locked by uv: markers, a fork (recent 1.0 / 2.0 by Python), an extra,
    two groups, an editable path dependency, a git dependency (a local repository) and a
    direct URL to a wheel."""
    write_source_tree(Dist("localpkg", "0.3", requires_dist=("base",)), tmp_path / "localpkg")
    repo = write_source_tree(Dist("gitpkg", "0.7"), tmp_path / "gitrepo")
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "gitpkg 0.7"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *command],
            cwd=repo, check=True, capture_output=True,
        )  # fmt: skip
    wheel = index.file_url("alpha-1.1-py3-none-any.whl")
    write_project(
        tmp_path,
        [
            "top",
            "patchy",
            "native; sys_platform != 'win32'",
            "backport; python_version < '3.11'",
            "uses-recent",
            "localpkg",
            "gitpkg",
            f"alpha @ {wheel}",
        ],
        extras={"viz": ["churn"]},
        groups={"dev": ["delta"], "docs": ["clitool"]},
        requires_python=">=3.9",
        tool="",
    )
    with (tmp_path / "pyproject.toml").open("a", encoding="utf-8") as file:
        file.write(
            f'\n[tool.uv]\nindex-url = "{index.url}"\npackage = false\n'
            '\n[tool.uv.sources]\nlocalpkg = { path = "localpkg", editable = true }\n'
            f'gitpkg = {{ git = "{repo.as_uri()}" }}\n'
        )
    _uv("lock", cwd=tmp_path)
    return tmp_path


def _selected(pylock: Pylock, extras: tuple[str, ...], groups: tuple[str, ...]) -> set[str]:
    """name==version of what ``pylock`` selects here; a source tree or checkout by name
    (uv writes its version beside ``vcs``; the import leaves it out, R20)."""
    chosen = pylock.select(extras=extras, dependency_groups=groups)
    return {
        str(canonicalize_name(p.name))
        if p.vcs or p.directory
        else f"{canonicalize_name(p.name)}=={p.version}"
        for p, _ in chosen
    }


def _read(path: Path) -> Pylock:
    return Pylock.from_dict(tomllib.loads(path.read_text(encoding="utf-8")))


def test_the_import_selects_what_uv_exports_for_each_choice(uv_project: Path, cli: CLI) -> None:
    done = cli("import", uv_project / "uv.lock", "-o", uv_project / "pylock.toml")
    assert done.code == 0, done.err
    assert "(uv.lock)" in done.err  # detected from the file
    imported = _read(uv_project / "pylock.toml")
    assert sorted(str(g) for g in imported.dependency_groups or ()) == ["dev", "docs"]
    assert [str(e) for e in imported.extras or ()] == ["viz"]
    for extras, groups in CHOICES:
        flags = [a for e in extras for a in ("--extra", e)]
        flags += ["--no-default-groups", *[a for g in groups for a in ("--group", g)]]
        exported = uv_project / "pylock.uvexport.toml"
        _uv("export", "--format", "pylock.toml", *flags, "-o", exported, cwd=uv_project)
        theirs = _selected(_read(exported), (), ())  # uv decided the choices already
        assert _selected(imported, extras, groups) == theirs, (extras, groups)
    # the fork is kept: both versions of recent, each for its Pythons
    recent = {str(p.version): str(p.marker) for p in imported.packages if p.name == "recent"}
    assert recent == {
        "1.0": 'python_full_version < "3.12"',
        "2.0": 'python_full_version >= "3.12"',
    }
    local = next(p for p in imported.packages if p.name == "localpkg")
    assert local.directory is not None and local.directory.editable
    assert local.directory.path == "localpkg"
    git = next(p for p in imported.packages if p.name == "gitpkg")
    assert git.vcs is not None and git.version is None  # R20: a checkout's version unrecorded
    assert (git.vcs.type, git.vcs.url) == ("git", (uv_project / "gitrepo").as_uri())
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"],
        cwd=uv_project / "gitrepo",
        capture_output=True,
        text=True,
        check=True,
    )
    assert git.vcs.commit_id == head.stdout.strip()
    alpha = next(p for p in imported.packages if p.name == "alpha")
    assert alpha.archive is not None and alpha.archive.url is not None
    assert alpha.archive.url.endswith("alpha-1.1-py3-none-any.whl")
    assert "gitpkg 0.7: a git checkout, so its version is not recorded" in done.err


def test_every_hash_uv_recorded_is_kept_and_the_lock_is_strictly_valid(
    uv_project: Path, cli: CLI
) -> None:
    assert cli("import", uv_project / "uv.lock", "-q").code == 0
    text = (uv_project / "uv.lock").read_text(encoding="utf-8")
    theirs = {part.split('"')[0] for part in text.split('hash = "sha256:')[1:]}
    assert len(theirs) > 20
    written = (uv_project / "pylock.toml").read_text(encoding="utf-8")
    ours = {part.split('"')[0] for part in written.split('sha256 = "')[1:]}
    assert theirs <= ours
    valid = cli("validate", "--strict", uv_project / "pylock.toml")
    assert valid.code == 0, valid.out


def test_diff_validate_and_audit_read_the_uv_lock_itself(uv_project: Path, cli: CLI) -> None:
    assert cli("import", uv_project / "uv.lock", "-q").code == 0
    same = cli("diff", uv_project / "uv.lock", uv_project / "pylock.toml")
    assert same.code == 0 and "no changes" in same.out, same.out
    assert cli("validate", "--strict", uv_project / "uv.lock").code == 0
    assert cli("audit", uv_project / "uv.lock").code == 0
    # an upgrade uv makes shows as a difference against the imported lock
    text = (uv_project / "pyproject.toml").read_text(encoding="utf-8")
    (uv_project / "pyproject.toml").write_text(text.replace('"patchy",', '"patchy", "churn<1.1",'))
    _uv("lock", cwd=uv_project)
    changed = cli("diff", uv_project / "pylock.toml", uv_project / "uv.lock")
    assert changed.code == 1
    assert "churn" in changed.out


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda t: t[: len(t) // 2], r"uv\.lock:\d+: not TOML"),
        (lambda t: t.replace("version = 1\n", "version = 7\n", 1), r"uv\.lock version 7"),
        (
            lambda t: t.replace('hash = "sha256:', 'hash = "', 1),
            r"uv\.lock: package\[\d+\] \('\w+'\): (sdist|wheels\[\d+\]): expected a hash "
            "'algorithm:digest'",
        ),
        (
            lambda t: t.replace('{ name = "base" }', '{ name = "nowhere" }', 1),
            r"package\[\d+\] \('\w+'\): dependency 'nowhere' matches no package",
        ),
    ],
)
def test_a_broken_uv_lock_is_one_line_and_writes_nothing(
    uv_project: Path, cli: CLI, edit: object, expected: str
) -> None:
    import re

    source = uv_project / "uv.lock"
    assert callable(edit)
    source.write_text(edit(source.read_text(encoding="utf-8")), encoding="utf-8")
    out = uv_project / "out" / "pylock.toml"
    done = cli("import", source, "-o", out)
    assert done.code == 2
    assert len(done.err.strip().splitlines()) == 1, done.err
    assert re.search(expected, done.err), done.err
    assert not out.exists() and not out.parent.exists()
