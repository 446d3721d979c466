"""SPDX 2.3 JSON: a lock as a software bill of materials, built and validated with the
SPDX project's own ``spdx-tools``.

What is covered (:mod:`tumbler.formats.sbom`): with no ``--extra``/``--group``, every entry
of the lock; with a choice, the entries it selects. Each entry is a package
(``filesAnalyzed: false``; licences and copyright ``NOASSERTION``: a lock records none):

* an external reference ``PACKAGE-MANAGER``/``purl`` ``pkg:pypi/<name>@<version>``;
* its *primary file* — the sdist, else the first wheel, else the archive — gives
  ``packageFileName``, the ``SHA256`` checksum and ``downloadLocation`` (the file's URL, a
  git source's ``git+URL@commit``; ``NOASSERTION`` when there is none or when it is not in
  the form SPDX's grammar takes, such as a loopback address);
* ``sourceInfo`` names the index and lists *every* locked file with its sha256 and URL;
  ``comment`` holds the lock's marker.

Relationships: ``DEPENDS_ON`` for the lock's ``[[packages]].dependencies`` between covered
entries; the document ``DESCRIBES`` the project (``[project] name``/``version`` beside the
lock, when known; it ``DEPENDS_ON`` the direct entries, and those only a dependency group
brings are its ``DEV_DEPENDENCY_OF``), else every top-level entry.
``documentNamespace`` is ``https://spdx.org/spdxdocs/tumbler-<name>-<uuid>``; with
``--reproducible`` the UUID and ``created`` come from the lock
(:func:`~tumbler.formats.sbom.stamp`), so the same lock gives the same bytes.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tumbler.formats.sbom import Entry, files_of, primary_file, select, stamp

if TYPE_CHECKING:
    from collections.abc import Sequence

    from packaging.pylock import Package, Pylock
    from spdx_tools.spdx.model.package import Package as SpdxPackage

    from tumbler.formats.base import ExportOptions

__all__ = ["EXPORTER"]

_NOT_ID = re.compile(r"[^A-Za-z0-9.-]+")


def _ids(entries: Sequence[Entry]) -> list[str]:
    """An SPDX identifier per entry (``SPDXRef-Package-<name>-<version>``), unique."""
    seen: dict[str, int] = {}
    out = []
    for entry in entries:
        package = entry.package
        stem = _NOT_ID.sub("-", f"{package.name}-{package.version or 'unversioned'}")
        base = f"SPDXRef-Package-{stem}"
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return out


def _download_location(package: Package) -> str | None:
    """Where the package is fetched from, if SPDX's download-location grammar takes it."""
    from spdx_tools.spdx.validation.uri_validators import validate_download_location

    location: str | None = None
    if package.vcs is not None and package.vcs.url:
        location = f"{package.vcs.type}+{package.vcs.url}@{package.vcs.commit_id}"
    elif (primary := primary_file(package)) is not None:
        location = primary.url
    if location is None or validate_download_location(location):
        return None
    return location


def _source_info(package: Package) -> str | None:
    """The index and every locked file, one line each."""
    lines = [f"index: {package.index}"] if package.index else []
    lines += [
        f"{f.kind} {f.name}: sha256 {f.sha256 or '(none)'} {f.url or ''}".rstrip()
        for f in files_of(package)
    ]
    return "\n".join(lines) or None


def _package(entry: Entry, spdx_id: str) -> SpdxPackage:
    """The SPDX package of one covered entry."""
    from spdx_tools.spdx.model.checksum import Checksum, ChecksumAlgorithm
    from spdx_tools.spdx.model.package import (
        ExternalPackageRef,
        ExternalPackageRefCategory,
        Package,
        PackagePurpose,
    )
    from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion

    package = entry.package
    primary = primary_file(package)
    location = _download_location(package)
    return Package(
        spdx_id=spdx_id,
        name=str(package.name),
        version=None if package.version is None else str(package.version),
        download_location=SpdxNoAssertion() if location is None else location,
        file_name=None if primary is None else primary.name,
        files_analyzed=False,
        checksums=[Checksum(ChecksumAlgorithm.SHA256, primary.sha256)]
        if primary is not None and primary.sha256
        else [],
        license_concluded=SpdxNoAssertion(),
        license_declared=SpdxNoAssertion(),
        copyright_text=SpdxNoAssertion(),
        source_info=_source_info(package),
        comment=f"marker: {entry.marker}" if entry.marker else None,
        external_references=[
            ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", entry.purl)
        ],
        primary_package_purpose=PackagePurpose.LIBRARY,
    )


def _project(name: str, version: str | None) -> SpdxPackage:
    """The SPDX package of the project the lock is for."""
    from spdx_tools.spdx.model.package import Package, PackagePurpose
    from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion

    return Package(
        spdx_id="SPDXRef-Project",
        name=name,
        version=version,
        download_location=SpdxNoAssertion(),
        files_analyzed=False,
        license_concluded=SpdxNoAssertion(),
        license_declared=SpdxNoAssertion(),
        copyright_text=SpdxNoAssertion(),
        primary_package_purpose=PackagePurpose.APPLICATION,
    )


class _Exporter:
    name = "spdx"

    def export(self, pylock: Pylock, options: ExportOptions) -> str:
        import io

        from spdx_tools.spdx.model.actor import Actor, ActorType
        from spdx_tools.spdx.model.document import CreationInfo, Document
        from spdx_tools.spdx.model.relationship import Relationship, RelationshipType
        from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

        from tumbler.version import __version__

        selection = select(pylock, options)
        serial, when = stamp(pylock, options, self.name)
        ids = _ids(selection.entries)
        packages = [_package(e, i) for e, i in zip(selection.entries, ids, strict=True)]
        relationships = [
            Relationship(ids[k], RelationshipType.DEPENDS_ON, ids[j])
            for k, entry in enumerate(selection.entries)
            for j in entry.dependencies
        ]
        by_ref = {e.ref: i for e, i in zip(selection.entries, ids, strict=True)}
        roots = [(by_ref[e.ref], e.development) for e in selection.roots]
        if options.project_name:
            packages.insert(0, _project(options.project_name, options.project_version))
            top = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, "SPDXRef-Project")]
            top += [
                Relationship(r, RelationshipType.DEV_DEPENDENCY_OF, "SPDXRef-Project")
                if development
                else Relationship("SPDXRef-Project", RelationshipType.DEPENDS_ON, r)
                for r, development in roots
            ]
        else:
            top = [
                Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, r) for r, _ in roots
            ]
        relationships[0:0] = top
        title = options.project_name or options.lock_path
        stem = _NOT_ID.sub("-", title).strip("-") or "lock"
        creation = CreationInfo(
            spdx_version="SPDX-2.3",
            spdx_id="SPDXRef-DOCUMENT",
            name=title,
            document_namespace=f"https://spdx.org/spdxdocs/tumbler-{stem}-{serial}",
            creators=[Actor(ActorType.TOOL, f"tumbler-{__version__}")],
            created=when,
            document_comment=f"Exported by tumbler from {options.lock_path}: "
            f"{selection.describe()}.",
        )
        document = Document(creation_info=creation, packages=packages, relationships=relationships)
        stream = io.StringIO()
        write_document_to_stream(document, stream, validate=True)
        return stream.getvalue() + "\n"


EXPORTER = _Exporter()
