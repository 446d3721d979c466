"""Git sources: URL parsing, revision resolution, the checkout cache, offline use, errors.

Every repository is a local one made in tmp_path and reached through ``git+file://`` URLs,
so nothing here uses the network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.metadata import Metadata

from tests.support.pkgindex import Dist, write_source_tree
from tumbler.errors import InputError
from tumbler.index.build import metadata_from_tree
from tumbler.index.vcs import Checkout, _rename_into_place, checkout_git, parse_vcs_url

#: A fixed identity and clock, and no user or system git configuration.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.invalid",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00+00:00",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.invalid",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00+00:00",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with the fixed identity; its stdout, stripped."""
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"git {args}: {done.stderr}"
    return done.stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    """Commit everything in ``repo``; the new commit id."""
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message", message)
    return git(repo, "rev-parse", "HEAD")


@dataclass(frozen=True, slots=True)
class Repo:
    """A local repository: main (c2) on top of c1 (tag v1.0), and feature (c3) off c1."""

    path: Path
    url: str
    c1: str
    c2: str
    c3: str


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """The repository of :class:`Repo`, with a second project under ``sub/``."""
    path = tmp_path / "upstream"
    path.mkdir()
    git(path, "init", "--quiet", "--initial-branch", "main")
    write_source_tree(Dist("vcs-demo", "1.0"), path)
    write_source_tree(Dist("sub-demo", "0.1"), path / "sub")
    c1 = commit_all(path, "one")
    git(path, "tag", "--annotate", "v1.0", "--message", "release 1.0")
    write_source_tree(Dist("vcs-demo", "2.0"), path)
    c2 = commit_all(path, "two")
    git(path, "switch", "--quiet", "--create", "feature", c1)
    write_source_tree(Dist("vcs-demo", "1.5"), path)
    c3 = commit_all(path, "three")
    git(path, "switch", "--quiet", "main")
    return Repo(path=path, url=path.as_uri(), c1=c1, c2=c2, c3=c3)


def version_in(checkout: Checkout) -> str:
    """The Version line of the checkout's PKG-INFO."""
    for line in (checkout.path / "PKG-INFO").read_text().splitlines():
        if line.startswith("Version: "):
            return line.removeprefix("Version: ")
    raise AssertionError("no Version")


def move_away(repo: Repo) -> None:
    """Make the upstream unreachable, as if the network were down."""
    repo.path.rename(repo.path.with_name("gone"))


# --- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "git+https://host/r.git@v1#subdirectory=sub",
            ("https://host/r.git", "v1", "sub"),
        ),
        ("git+https://host/r.git", ("https://host/r.git", None, None)),
        (
            "git+ssh://git@host/org/r.git@feature/x#egg=r&subdirectory=a/b",
            ("ssh://git@host/org/r.git", "feature/x", "a/b"),
        ),
        ("git+file:///srv/repos/r@" + "a" * 40, ("file:///srv/repos/r", "a" * 40, None)),
        (
            "git+https://user:token@host:8443/r.git@refs/pull/1/head",
            ("https://user:token@host:8443/r.git", "refs/pull/1/head", None),
        ),
        ("git+http://host/r@v%201", ("http://host/r", "v 1", None)),
    ],
)
def test_parse_vcs_url(url: str, expected: tuple[str, str | None, str | None]) -> None:
    """Repository URL, revision and subdirectory come apart like pip splits them."""
    assert parse_vcs_url(url) == expected


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("https://host/r.git", "not a git URL"),
        ("git+ftp://host/r.git", "not a git URL"),
        ("git+https:///r.git", "not a git URL"),
        ("git+https://host/r.git@", "empty revision"),
        ("git+https://host/r.git#subdirectory=../up", "must be a relative path"),
        ("git+https://host/r.git#subdirectory=/abs", "must be a relative path"),
    ],
)
def test_parse_vcs_url_errors(url: str, match: str) -> None:
    """Malformed URLs are InputErrors."""
    with pytest.raises(InputError, match=match):
        parse_vcs_url(url)


def test_parse_errors_hide_credentials() -> None:
    """A password in a rejected URL does not reach the message."""
    with pytest.raises(InputError) as error:
        parse_vcs_url("https://user:s3cret@host/r.git")
    assert "s3cret" not in str(error.value)
    assert "user" not in str(error.value)


# --- resolving and checking out -------------------------------------------------------------


def test_branch_tag_and_sha_resolution(repo: Repo, tmp_path: Path) -> None:
    """Branches, annotated tags, short and full ids and HEAD all resolve to full commit ids."""
    cache = tmp_path / "cache"
    cases = {
        "main": repo.c2,
        "feature": repo.c3,
        "v1.0": repo.c1,
        repo.c3[:7]: repo.c3,
        repo.c1.upper(): repo.c1,
        "refs/heads/feature": repo.c3,
        None: repo.c2,
    }
    for revision, commit in cases.items():
        checkout = checkout_git("git+" + repo.url, revision, cache)
        assert checkout.commit_id == commit, revision
        assert checkout.requested_revision == revision
        assert checkout.url == repo.url
        assert checkout.path == cache / "checkouts" / commit
        assert git(checkout.path, "rev-parse", "HEAD") == commit
        assert git(checkout.path, "status", "--porcelain") == ""
    assert version_in(checkout_git(repo.url, "v1.0", cache)) == "1.0"
    assert version_in(checkout_git(repo.url, "feature", cache)) == "1.5"
    assert version_in(checkout_git(repo.url, "main", cache)) == "2.0"
    checkouts = sorted(p.name for p in (cache / "checkouts").iterdir())
    assert checkouts == sorted({repo.c1, repo.c2, repo.c3})  # no scratch directories left


def test_checkout_keeps_history_and_tags(repo: Repo, tmp_path: Path) -> None:
    """The checkout is a real clone (for version-from-git backends), its origin the URL."""
    checkout = checkout_git(repo.url, "main", tmp_path / "cache")
    assert git(checkout.path, "describe", "--tags") == "v1.0-1-g" + repo.c2[:7]
    assert git(checkout.path, "remote", "get-url", "origin") == repo.url


def test_a_moved_branch_is_fetched_again(repo: Repo, tmp_path: Path) -> None:
    """Online, a branch is looked up each time: a new commit on main is seen."""
    cache = tmp_path / "cache"
    assert checkout_git(repo.url, "main", cache).commit_id == repo.c2
    write_source_tree(Dist("vcs-demo", "3.0"), repo.path)
    c4 = commit_all(repo.path, "four")
    moved = checkout_git(repo.url, "main", cache)
    assert moved.commit_id == c4
    assert version_in(moved) == "3.0"
    assert version_in(checkout_git(repo.url, repo.c2, cache)) == "2.0"


def test_full_sha_in_the_cache_needs_no_network(repo: Repo, tmp_path: Path) -> None:
    """A full id whose checkout, or whose commit in the mirror, is cached needs no upstream."""
    cache = tmp_path / "cache"
    checkout_git(repo.url, "main", cache)  # fetches every branch and tag; checks out c2
    move_away(repo)
    assert checkout_git(repo.url, repo.c2, cache).path == cache / "checkouts" / repo.c2
    fresh = checkout_git(repo.url, repo.c3, cache)  # in the mirror, not yet checked out
    assert version_in(fresh) == "1.5"
    with pytest.raises(InputError) as error:
        checkout_git(repo.url, "main", cache)  # a branch must be asked for online
    assert "git fetch failed: fatal:" in str(error.value)


def test_offline_uses_the_cache(repo: Repo, tmp_path: Path) -> None:
    """Offline, branches and tags resolve as last fetched; nothing is asked upstream."""
    cache = tmp_path / "cache"
    checkout_git(repo.url, None, cache)
    move_away(repo)
    assert checkout_git(repo.url, "main", cache, offline=True).commit_id == repo.c2
    assert checkout_git(repo.url, None, cache, offline=True).commit_id == repo.c2
    tagged = checkout_git(repo.url, "v1.0", cache, offline=True)
    assert tagged.commit_id == repo.c1
    assert version_in(tagged) == "1.0"
    assert checkout_git(repo.url, repo.c3[:10], cache, offline=True).commit_id == repo.c3
    with pytest.raises(InputError, match="revision nope is not in the cache"):
        checkout_git(repo.url, "nope", cache, offline=True)


def test_offline_without_a_cache_is_an_input_error(repo: Repo, tmp_path: Path) -> None:
    """Offline with nothing cached fails clearly, for refs and full ids alike."""
    cache = tmp_path / "cache"
    with pytest.raises(InputError, match=r"revision main is not in the cache \(offline\)"):
        checkout_git(repo.url, "main", cache, offline=True)
    with pytest.raises(InputError, match="is not in the cache"):
        checkout_git(repo.url, repo.c1, cache, offline=True)
    with pytest.raises(InputError, match=r"revision HEAD is not in the cache"):
        checkout_git(repo.url, None, cache, offline=True)
    assert not (cache / "checkouts").exists()


def test_unknown_revisions(repo: Repo, tmp_path: Path) -> None:
    """Unknown names and ids, and unusable revisions, are InputErrors naming them."""
    cache = tmp_path / "cache"
    with pytest.raises(InputError, match="unknown revision no-such-branch"):
        checkout_git(repo.url, "no-such-branch", cache)
    with pytest.raises(InputError, match="unknown revision deadbeef"):
        checkout_git(repo.url, "deadbeef", cache)
    with pytest.raises(InputError, match="unknown revision " + "0" * 40):
        checkout_git(repo.url, "0" * 40, cache)
    with pytest.raises(InputError, match="couldn't find remote ref"):
        checkout_git(repo.url, "refs/pull/1/head", cache)
    for bad in ("--upload-pack=touch", "two words", ""):
        with pytest.raises(InputError, match="invalid git revision"):
            checkout_git(repo.url, bad, cache)


def test_git_errors_are_one_clean_line(tmp_path: Path) -> None:
    """A repository that is not there: git's own reason, on one line."""
    missing = (tmp_path / "nowhere").as_uri()
    with pytest.raises(InputError) as error:
        checkout_git(missing, "main", tmp_path / "cache")
    message = str(error.value)
    assert message.startswith(f"{missing}: git fetch failed: fatal: ")
    assert "does not appear to be a git repository" in message
    assert "\n" not in message
    with pytest.raises(InputError, match="not a git repository URL"):
        checkout_git("--upload-pack=touch", "main", tmp_path / "cache")


def test_credentials_stay_out_of_results_and_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A token in the URL is used for fetching only: never in messages or cache keys."""
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "*")
    url = "https://user:s3cret@127.0.0.1:9/r.git"  # discard port: refused at once
    with pytest.raises(InputError) as error:
        checkout_git("git+" + url, "main", tmp_path / "cache")
    message = str(error.value)
    assert message.startswith("https://127.0.0.1:9/r.git: git fetch failed:")
    assert "s3cret" not in message
    assert "user" not in message
    for path in (tmp_path / "cache").rglob("*"):
        if path.is_file():
            assert b"s3cret" not in path.read_bytes(), path


def test_subdirectory_project_in_a_checkout(repo: Repo, tmp_path: Path) -> None:
    """``#subdirectory=`` plus the checkout gives the inner project's metadata."""
    url, revision, subdirectory = parse_vcs_url(f"git+{repo.url}@v1.0#subdirectory=sub")
    assert (url, revision, subdirectory) == (repo.url, "v1.0", "sub")
    checkout = checkout_git(url, revision, tmp_path / "cache")
    metadata = Metadata.from_email(metadata_from_tree(checkout.path, subdirectory=subdirectory))
    assert (metadata.name, str(metadata.version)) == ("sub-demo", "0.1")
    outer = Metadata.from_email(metadata_from_tree(checkout.path))
    assert (outer.name, str(outer.version)) == ("vcs-demo", "1.0")


def test_concurrent_checkouts_agree(repo: Repo, tmp_path: Path) -> None:
    """Several checkouts of one URL at once: one mirror, one checkout, no leftovers."""
    cache = tmp_path / "cache"
    revisions = ["main", "v1.0", "main", repo.c3, "feature", "main"]
    with ThreadPoolExecutor(max_workers=len(revisions)) as pool:
        results = list(pool.map(lambda rev: checkout_git(repo.url, rev, cache), revisions))
    assert [r.commit_id for r in results] == [repo.c2, repo.c1, repo.c2, repo.c3, repo.c3, repo.c2]
    assert sorted(p.name for p in (cache / "checkouts").iterdir()) == sorted(
        {repo.c1, repo.c2, repo.c3}
    )
    assert len([p for p in (cache / "git").iterdir() if p.is_dir()]) == 1


def test_concurrent_processes_agree(repo: Repo, tmp_path: Path) -> None:
    """Separate processes racing on an empty cache all get the same complete checkout."""
    cache = tmp_path / "cache"
    code = (
        "import sys; from pathlib import Path; from tumbler.index.vcs import checkout_git;"
        "print(checkout_git(sys.argv[1], sys.argv[2], Path(sys.argv[3])).path)"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, repo.url, revision, str(cache)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for revision in ("main", repo.c2, "main", repo.c2[:8])
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0, 0], outputs
    assert {out.strip() for out, _err in outputs} == {str(cache / "checkouts" / repo.c2)}
    assert [p.name for p in (cache / "checkouts").iterdir()] == [repo.c2]
    assert version_in(checkout_git(repo.url, repo.c2, cache, offline=True)) == "2.0"


def test_rename_into_place_keeps_the_winner(tmp_path: Path) -> None:
    """Losing the race to rename leaves the winner's directory untouched, without error."""
    target = tmp_path / "target"
    first = tmp_path / "first"
    first.mkdir()
    (first / "file").write_text("first")
    _rename_into_place(first, target)
    assert (target / "file").read_text() == "first"
    second = tmp_path / "second"
    second.mkdir()
    (second / "file").write_text("second")
    _rename_into_place(second, target)
    assert (target / "file").read_text() == "first"
    with pytest.raises(OSError):
        _rename_into_place(tmp_path / "missing", tmp_path / "elsewhere")


@pytest.mark.skipif(shutil.which("ssh") is None, reason="no ssh client")
def test_ssh_failure_names_the_transport_error(tmp_path: Path) -> None:
    """Behind git's generic "Could not read from remote repository" is ssh's reason."""
    url = "ssh://git@127.0.0.1:9/r.git"  # discard port: refused at once
    with pytest.raises(InputError) as error:
        checkout_git(url, "main", tmp_path / "cache")
    message = str(error.value)
    assert message.startswith(f"{url}: git fetch failed: ")
    assert "Could not read from remote repository" not in message
    assert "\n" not in message


def test_a_racing_checkout_already_in_place_is_kept(repo: Repo, tmp_path: Path) -> None:
    """If another process finished the same checkout first, ours is dropped and theirs used."""
    cache = tmp_path / "cache"
    first = checkout_git(repo.url, "main", cache)
    marker = first.path / "theirs"
    marker.write_text("kept")
    # The same commit asked for by branch name: resolved online, then found in place.
    again = checkout_git(repo.url, "main", cache)
    assert again.path == first.path
    assert marker.read_text() == "kept"
    shutil.rmtree(first.path)
    assert checkout_git(repo.url, "main", cache).path == first.path  # rebuilt when gone
