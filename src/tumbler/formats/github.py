"""A GitHub dependency-submission snapshot: the JSON body of ``POST
/repos/{owner}/{repo}/dependency-graph/snapshots``, so GitHub's dependency graph (and
Dependabot alerts) know what the lock installs.

What is covered (:mod:`tumbler.formats.sbom`): with no ``--extra``/``--group``, every entry
of the lock; with a choice, the entries it selects. One manifest, named and located by the
lock's path; its ``resolved`` table is keyed by package URL (``pkg:pypi/<name>@<version>``;
a universal lock's entries that share one are merged), each with:

* ``relationship``: ``direct`` when the project's recorded inputs name it
  (``[tool.tumbler.inputs]``, for the covered extras and groups), else ``indirect``; for
  another tool's lock, ``direct`` when no covered entry depends on it;
* ``scope``: ``development`` when only a dependency group brings it (its marker, groups left
  out, excludes it), else ``runtime``;
* ``dependencies``: the package URLs its lock ``dependencies`` name; ``metadata.marker``:
  the lock's marker.

The run comes from :attr:`~tumbler.formats.base.ExportOptions.context`, which the CLI fills
from the environment of a GitHub Actions job: ``sha`` (``GITHUB_SHA``), ``ref``
(``GITHUB_REF``), ``job.id`` (``GITHUB_RUN_ID``), ``job.correlator``
(``GITHUB_WORKFLOW``_``GITHUB_JOB``_``tumbler``_lock path), ``job.html_url``. Outside a job
they are placeholders that say so: the all-zero sha, ``refs/unknown``, ``local``.
``scanned`` is now, or with ``--reproducible`` the lock's newest upload time.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tumbler.formats.sbom import select, stamp

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from packaging.pylock import Pylock

    from tumbler.formats.base import ExportOptions
    from tumbler.formats.sbom import Entry, Selection

__all__ = ["EXPORTER", "PLACEHOLDER_REF", "PLACEHOLDER_SHA", "detector_url"]

#: ``sha`` and ``ref`` outside a GitHub Actions job (the schema needs 40 characters and
#: ``refs/``): values no repository has, which GitHub refuses rather than misfiles.
PLACEHOLDER_SHA = "0" * 40
PLACEHOLDER_REF = "refs/unknown"
#: The detector's URL when tumbler's metadata names no project URL (``.invalid``: RFC 2606).
_PLACEHOLDER_URL = "https://tumbler.invalid/"
#: The ``Project-URL`` labels that name a project's repository, preferred in this order.
_URL_LABELS = ("repository", "source", "source code", "homepage")


def detector_url() -> str:
    """tumbler's repository URL from its installed metadata, else a placeholder."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        fields = metadata("tumbler")
    except PackageNotFoundError:
        return _PLACEHOLDER_URL
    urls = {}
    for row in fields.get_all("Project-URL") or ():
        label, _, url = str(row).partition(",")
        urls[label.strip().lower()] = url.strip()
    for label in _URL_LABELS:
        if urls.get(label):
            return urls[label]
    return next(iter(fields.get_all("Home-page") or ()), "") or _PLACEHOLDER_URL


def _job(context: Mapping[str, str], lock_path: str) -> dict[str, str]:
    workflow, job = context.get("GITHUB_WORKFLOW"), context.get("GITHUB_JOB")
    parts = [p for p in (workflow, job) if p] or ["local"]
    out = {
        "correlator": "_".join([*parts, "tumbler", lock_path]),
        "id": context.get("GITHUB_RUN_ID") or "local",
    }
    server, repository, run = (
        context.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    if server and repository and run:
        out["html_url"] = f"{server.rstrip('/')}/{repository}/actions/runs/{run}"
    return out


def _row(purl: str, entries: Sequence[Entry], selection: Selection) -> dict[str, Any]:
    """One ``resolved`` row for the entries that share ``purl``."""
    children = {selection.entries[j].purl for e in entries for j in e.dependencies} - {purl}
    row: dict[str, Any] = {
        "package_url": purl,
        "relationship": "direct" if any(e.direct for e in entries) else "indirect",
        "scope": "development" if all(e.development for e in entries) else "runtime",
        "dependencies": sorted(children),
    }
    markers = [e.marker for e in entries if e.marker]
    if len(markers) == len(entries):  # every entry has one: the package is not everywhere
        either = markers[0] if len(markers) == 1 else " or ".join(f"({m})" for m in markers)
        row["metadata"] = {"marker": either}
    return row


def _resolved(selection: Selection) -> dict[str, dict[str, Any]]:
    """The manifest's ``resolved`` table, keyed by package URL."""
    by_purl: dict[str, list[Entry]] = {}
    for entry in selection.entries:
        by_purl.setdefault(entry.purl, []).append(entry)
    return {purl: _row(purl, rows, selection) for purl, rows in sorted(by_purl.items())}


class _Exporter:
    name = "github"

    def export(self, pylock: Pylock, options: ExportOptions) -> str:
        from tumbler.version import __version__

        selection = select(pylock, options)
        _, when = stamp(pylock, options, self.name)
        context = options.context
        path = options.lock_path
        snapshot = {
            "version": 0,
            "job": _job(context, path),
            "sha": context.get("GITHUB_SHA") or PLACEHOLDER_SHA,
            "ref": context.get("GITHUB_REF") or PLACEHOLDER_REF,
            "detector": {"name": "tumbler", "version": __version__, "url": detector_url()},
            "scanned": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "manifests": {
                path: {
                    "name": path,
                    "file": {"source_location": path},
                    "resolved": _resolved(selection),
                }
            },
        }
        return json.dumps(snapshot, indent=2) + "\n"


EXPORTER = _Exporter()
