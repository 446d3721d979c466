"""Pure core of install and sync: what to add, change, keep and remove.

:func:`make_plan` compares what the lock selects (``(package, source)`` pairs, from
:mod:`tumbler.lockfile.select`) with what the environment has
(:mod:`tumbler.installing.installed`). A distribution is kept when its version and its
origin match: installed from an index for a wheel or sdist, the same commit for ``vcs``, the
same hashes for ``archive``, the same editable path for an editable ``directory``. A non-
editable directory is always rebuilt: its files may have changed under the same version.
``sync`` also removes what the lock does not select, except the environment's own installer
(pip), which a lock rarely names.

:func:`direct_url` is the ``direct_url.json`` a direct-URL install records (I11).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.utils import NormalizedName, canonicalize_name

from tumbler.lockfile.artifacts import source_kind

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from packaging.pylock import Package

    from tumbler.installing.installed import Installed
    from tumbler.lockfile.artifacts import Artifact

__all__ = ["Action", "Plan", "Step", "direct_url", "make_plan"]

#: Kept by ``sync`` even when the lock does not name them: the environment's installer.
PROTECTED: frozenset[str] = frozenset({"pip"})


class Action(enum.Enum):
    """What happens to one distribution."""

    ADD = "add"
    UPGRADE = "upgrade"
    DOWNGRADE = "downgrade"
    REINSTALL = "reinstall"
    REMOVE = "remove"
    KEEP = "keep"


@dataclass(frozen=True, slots=True)
class Step:
    """One distribution's fate."""

    action: Action
    name: NormalizedName
    #: The version the lock installs (None for remove, or a source tree without one).
    version: str | None
    #: The version installed now (None for add).
    installed_version: str | None
    #: wheel, sdist, vcs, directory or archive (empty for remove).
    source: str
    #: Why a same-version distribution is reinstalled, or why a removal is skipped.
    reason: str = ""
    package: Package | None = None
    artifact: Artifact | None = None
    installed: Installed | None = None

    def to_json(self) -> dict[str, Any]:
        """The step as a JSON-ready mapping."""
        out: dict[str, Any] = {"action": self.action.value, "name": self.name}
        if self.version is not None:
            out["version"] = self.version
        if self.installed_version is not None:
            out["installed"] = self.installed_version
        if self.source:
            out["source"] = self.source
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True, slots=True)
class Plan:
    """Every step, in the lock's order, then the removals by name."""

    steps: tuple[Step, ...]

    def of(self, *actions: Action) -> tuple[Step, ...]:
        """The steps with one of ``actions``."""
        return tuple(s for s in self.steps if s.action in actions)

    @property
    def changes(self) -> tuple[Step, ...]:
        """Every step that touches the environment."""
        return tuple(s for s in self.steps if s.action is not Action.KEEP)

    @property
    def installs(self) -> tuple[Step, ...]:
        """Steps that install a distribution."""
        return self.of(Action.ADD, Action.UPGRADE, Action.DOWNGRADE, Action.REINSTALL)

    def counts(self) -> dict[str, int]:
        """Steps per action, every action named."""
        return {a.value: len(self.of(a)) for a in Action}


def direct_url(
    artifact: Artifact, base: Path | None, *, editable: bool = True
) -> dict[str, Any] | None:
    """The ``direct_url.json`` for a vcs, directory or archive source; None otherwise. A
    directory recorded as editable is installed editable unless ``editable`` is False."""
    kind = source_kind(artifact)
    if kind not in ("vcs", "directory", "archive"):
        return None
    path_text = getattr(artifact, "path", None)
    url = getattr(artifact, "url", None)
    if path_text is not None and (url is None or kind == "directory"):
        path = Path(path_text)
        if base is not None and not path.is_absolute():
            path = base / path
        url = path.resolve().as_uri()
    out: dict[str, Any] = {"url": url}
    if kind == "vcs":
        info: dict[str, Any] = {"vcs": artifact.type, "commit_id": artifact.commit_id}  # type: ignore[union-attr]
        requested = getattr(artifact, "requested_revision", None)
        if requested:
            info["requested_revision"] = requested
        out["vcs_info"] = info
    elif kind == "directory":
        wanted = editable and bool(getattr(artifact, "editable", False))
        out["dir_info"] = {"editable": True} if wanted else {}
    else:
        hashes = {str(a).lower(): str(v).lower() for a, v in (artifact.hashes or {}).items()}  # type: ignore[union-attr]
        archive: dict[str, Any] = {"hashes": hashes}
        if "sha256" in hashes:
            archive["hash"] = f"sha256={hashes['sha256']}"
        out["archive_info"] = archive
    subdirectory = getattr(artifact, "subdirectory", None)
    if subdirectory:
        out["subdirectory"] = subdirectory
    return out


def _same_origin(
    artifact: Artifact, installed: Installed, base: Path | None, *, editable: bool
) -> tuple[bool, str]:
    """Whether ``installed`` came from ``artifact``'s source; if not, why not."""
    kind = source_kind(artifact)
    have = installed.direct_url
    if kind in ("wheel", "sdist"):
        if have is None:
            return True, ""
        return False, f"installed from {have.get('url', 'a direct URL')}, the lock uses an index"
    want = direct_url(artifact, base)
    assert want is not None
    if have is None:
        return False, "installed from an index, the lock uses a direct source"
    if kind == "directory":
        if not (editable and getattr(artifact, "editable", False)):
            return False, "a directory is rebuilt on every install"
        same = have.get("url") == want["url"] and bool(have.get("dir_info", {}).get("editable"))
        return same, "" if same else "installed from elsewhere"
    if have.get("url") != want["url"] or have.get("subdirectory") != want.get("subdirectory"):
        return False, f"installed from {have.get('url')}"
    if kind == "vcs":
        same = have.get("vcs_info", {}).get("commit_id") == want["vcs_info"]["commit_id"]
        return same, "" if same else "installed from another commit"
    got = have.get("archive_info", {}).get("hashes") or {}
    if not got and "hash" in have.get("archive_info", {}):
        algorithm, _, value = str(have["archive_info"]["hash"]).partition("=")
        got = {algorithm: value}
    wanted = want["archive_info"]["hashes"]
    same = any(got.get(a) == v for a, v in wanted.items())
    return same, "" if same else "installed from another file"


def make_plan(
    chosen: Sequence[tuple[Package, Artifact]],
    installed: Mapping[str, Installed],
    *,
    sync: bool,
    base: Path | None = None,
    editable: bool = True,
    reinstall: bool = False,
) -> Plan:
    """The steps that turn ``installed`` into what ``chosen`` describes."""
    steps: list[Step] = []
    wanted: set[NormalizedName] = set()
    for package, artifact in chosen:
        name = canonicalize_name(package.name)
        wanted.add(name)
        version = None if package.version is None else str(package.version)
        kind = source_kind(artifact)
        have = installed.get(name)
        if have is None:
            steps.append(Step(Action.ADD, name, version, None, kind, "", package, artifact))
            continue
        have_version = None if have.version is None else str(have.version)
        if package.version is not None and have.version != package.version:
            newer = have.version is None or package.version > have.version
            action = Action.UPGRADE if newer else Action.DOWNGRADE
            steps.append(
                Step(action, name, version, have_version, kind, "", package, artifact, have)
            )
            continue
        same, reason = _same_origin(artifact, have, base, editable=editable)
        if reinstall:
            same, reason = False, "--reinstall"
        action = Action.KEEP if same else Action.REINSTALL
        steps.append(
            Step(
                action,
                name,
                version or have_version,
                have_version,
                kind,
                reason,
                package,
                artifact,
                have,
            )
        )
    if sync:
        for extra in sorted(set(installed) - wanted):
            have = installed[extra]
            name = have.name
            have_version = None if have.version is None else str(have.version)
            if name in PROTECTED:
                steps.append(
                    Step(
                        Action.KEEP,
                        name,
                        have_version,
                        have_version,
                        "",
                        "the environment's installer",
                        installed=have,
                    )
                )
                continue
            steps.append(Step(Action.REMOVE, name, None, have_version, "", "", installed=have))
    return Plan(tuple(steps))
