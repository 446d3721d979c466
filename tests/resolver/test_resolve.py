"""tumbler.resolver.resolve: ``settle`` against ``resolve``, ``replay`` against ``settle``, and
failing fast on a target.

Both run on the loopback index of tests/support/lockfixtures.py. ``settle`` must give exactly
what ``resolve`` gives whenever it gives anything, and give up (None) where ``resolve``
has to backtrack, so a universal lock's targets may settle without changing the lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tumbler.env.targets import parse_target
from tumbler.errors import ResolutionError, UnsupportedTargetError
from tumbler.index.finder import Finder
from tumbler.net.http import Http
from tumbler.project.indexes import IndexConfig
from tumbler.resolver.resolve import Req, Resolution, replay, resolve, settle

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.support.pkgindex import PackageIndex

pytestmark = pytest.mark.usefixtures("lock_env")


@pytest.fixture
def http() -> Iterator[Http]:
    client = Http()
    yield client
    client.close()


def _finder(
    http: Http, index: PackageIndex, target: str = "linux-x86_64-3.12", **preferred: str
) -> Finder:
    return Finder(
        http,
        IndexConfig((index.url,)),
        parse_target(target),
        preferences={canonicalize_name(k): Version(v) for k, v in preferred.items()},
    )


def _roots(*texts: str) -> list[Req]:
    return [Req.of(Requirement(t), "[project.dependencies]") for t in texts]


def _pins(resolution: Resolution) -> dict[str, str]:
    return {str(k): str(c.version) for k, c in resolution.pins.items()}


@pytest.mark.parametrize(
    ("roots", "preferred"),
    [
        (("delta", "beta[fast]"), {}),
        (("delta", "beta[fast]"), {"alpha": "1.1", "gamma": "0.5"}),
        (("recent", "churn"), {"churn": "1.0"}),
        (("native",), {"native": "1.0"}),
        (("needs-sdist",), {}),
        # base 2.0 is taken first; clash then asks base<2: settle learns it and walks again.
        (("base", "clash"), {}),
    ],
)
def test_settle_gives_what_resolve_gives(
    http: Http, index: PackageIndex, roots: tuple[str, ...], preferred: dict[str, str]
) -> None:
    settled = settle(_finder(http, index, **preferred), _roots(*roots))
    resolved = resolve(_finder(http, index, **preferred), _roots(*roots))
    assert settled is not None
    assert _pins(settled) == _pins(resolved)
    assert settled.chosen == resolved.chosen
    assert settled.edges == resolved.edges
    for key, candidate in settled.candidates.items():  # the same releases and requirements
        assert candidate.release == resolved.candidates[key].release
        assert settled.requirements[key] == resolved.requirements[key]


def test_settle_gives_up_where_resolve_backtracks(http: Http, index: PackageIndex) -> None:
    """top needs mid>=1 and base>=2; mid 2.0 (newest) needs base<2: resolve backtracks to
    mid 1.0, settle (which never backtracks) gives up."""
    assert settle(_finder(http, index), _roots("top")) is None
    assert _pins(resolve(_finder(http, index), _roots("top")))["mid"] == "1.0"
    # Preferring the version resolve lands on, there is nothing to backtrack over.
    settled = settle(_finder(http, index, mid="1.0"), _roots("top"))
    assert settled is not None
    assert _pins(settled) == {"base": "2.0", "mid": "1.0", "top": "1.0"}


def test_settle_gives_up_on_python_and_missing_projects(http: Http, index: PackageIndex) -> None:
    # recent 2.0 needs Python 3.12: preferred on 3.11 it does not fit; 1.0 is taken.
    older = settle(_finder(http, index, "linux-x86_64-3.11", recent="2.0"), _roots("recent"))
    assert older is not None and _pins(older) == {"recent": "1.0"}
    assert settle(_finder(http, index), _roots("no-such-project")) is None
    assert settle(_finder(http, index), _roots("clash", "base>=2")) is None


def test_fail_fast_names_the_package_without_files(http: Http, index: PackageIndex) -> None:
    """linux-only has Linux wheels only; binding needs it: macOS has nothing to install.
    Failing fast names it and the chain that needs it, without trying older bindings."""
    roots = _roots("binding")
    with pytest.raises(UnsupportedTargetError) as caught:
        resolve(_finder(http, index, "macos-arm64-3.12"), roots, fail_fast=True)
    message = str(caught.value)
    assert "linux-only has no file for it (no wheel for this platform)" in message
    assert "binding 2.0 ← binding in [project.dependencies]" in message
    # Without fail_fast it is an ordinary resolution error, after trying binding 1.0 too.
    with pytest.raises(ResolutionError) as plain:
        resolve(_finder(http, index, "macos-arm64-3.12"), roots)
    assert not isinstance(plain.value, UnsupportedTargetError)
    # Where the wheels are, nothing fails.
    linux = resolve(_finder(http, index, "linux-aarch64-3.12"), roots, fail_fast=True)
    assert _pins(linux) == {"binding": "2.0", "linux-only": "1.0"}


def test_speculation_after_the_run_closed_is_dropped_not_a_traceback(
    index: PackageIndex, capfd: pytest.CaptureFixture[str]
) -> None:
    """A fetch's callback that wants more after the command closed its HTTP client (an
    error ended the run) is dropped: no "cannot schedule new futures after shutdown"."""
    import logging
    import threading

    client = Http()
    finder = Finder(client, IndexConfig((index.url,)), parse_target("linux-x86_64-3.12"),
                    speculate=True)  # fmt: skip
    errors: list[BaseException | None] = []

    def hook(args: threading.ExceptHookArgs) -> None:
        errors.append(args.exc_value)

    threading.excepthook = hook
    try:
        finder.project("delta")  # resolved once, with speculation running
        client.close()
        finder.prefetch([Requirement("top"), Requirement("alpha[fast]")])
        finder.metadata_fetcher.sizes.probe([])
    finally:
        threading.excepthook = threading.__excepthook__
    logging.shutdown()
    assert errors == []
    assert "Traceback" not in capfd.readouterr().err


def _same(replayed: Resolution | None, settled: Resolution | None) -> None:
    assert replayed is not None and settled is not None
    assert _pins(replayed) == _pins(settled)
    assert (replayed.chosen, replayed.edges) == (settled.chosen, settled.edges)
    for key, candidate in replayed.candidates.items():  # this target's own releases
        assert candidate.release == settled.candidates[key].release
        assert replayed.requirements[key] == settled.requirements[key]


def _prefs(resolution: Resolution, **more: str) -> dict[str, str]:
    return {**_pins(resolution), **more}


@pytest.mark.parametrize(
    ("roots", "targets", "preferred"),
    [
        # nothing the graph reads differs between the platforms
        (("delta", "beta[fast]", "recent"), ("linux-x86_64-3.12", "macos-arm64-3.12"), {}),
        # recent 2.0 (preferred) fits neither Python 3.11: both take 1.0
        (("recent", "churn"), ("linux-x86_64-3.11", "windows-amd64-3.11"), {"recent": "2.0"}),
        # a marker on the platform that holds alike on both (Linux x86_64 and arm64)
        (("native",), ("linux-x86_64-3.12", "linux-aarch64-3.12"), {"native": "1.0"}),
    ],
)
def test_replay_gives_what_settle_gives_on_the_other_target(
    http: Http,
    index: PackageIndex,
    roots: tuple[str, ...],
    targets: tuple[str, str],
    preferred: dict[str, str],
) -> None:
    first, then = targets
    source = _finder(http, index, first, **preferred)
    done = settle(source, _roots(*roots))
    assert done is not None and done.roots
    prefs = _prefs(done, **preferred)
    replayed = replay(_finder(http, index, then, **prefs), _roots(*roots), done, source)
    _same(replayed, settle(_finder(http, index, then, **prefs), _roots(*roots)))


def test_replay_walks_where_the_other_target_differs(http: Http, index: PackageIndex) -> None:
    """Each refusal is a case where settling the second target gives another graph."""
    source = _finder(http, index, "linux-x86_64-3.12")
    native = settle(source, _roots("native"))
    assert native is not None and _pins(native) == {"native": "2.0"}
    # native 2.0 has a Linux x86_64 wheel only: arm64 takes 1.0
    arm = _finder(http, index, "linux-aarch64-3.12", **_prefs(native))
    assert replay(arm, _roots("native"), native, source) is None
    assert _pins(settle(arm, _roots("native")) or native) == {"native": "1.0"}
    # native's dependency on alpha holds on macOS only
    linux = _finder(http, index, "linux-aarch64-3.12", native="1.0")
    on_linux = settle(linux, _roots("native"))
    assert on_linux is not None
    mac = _finder(http, index, "macos-arm64-3.12", native="1.0")
    assert replay(mac, _roots("native"), on_linux, linux) is None
    assert "alpha" in _pins(settle(mac, _roots("native")) or on_linux)
    # recent 2.0 (preferred) fits 3.12 but not 3.11, where 1.0 was taken
    old = _finder(http, index, "linux-x86_64-3.11", recent="2.0")
    held = settle(old, _roots("recent"))
    assert held is not None and _pins(held) == {"recent": "1.0"}
    new = _finder(http, index, "linux-x86_64-3.12", recent="2.0")
    assert replay(new, _roots("recent"), held, old) is None
    # other roots, and a resolution that took more than one walk, are never retraced
    assert replay(new, _roots("recent", "churn"), held, old) is None
    relearned = settle(_finder(http, index), _roots("base", "clash"))
    assert relearned is not None and relearned.roots == ()
    again = _finder(http, index, "macos-arm64-3.12", **_pins(relearned))
    assert replay(again, _roots("base", "clash"), relearned, source) is None
