"""CycloneDX 1.6 JSON: a lock as a software bill of materials, built with the CycloneDX
project's own ``cyclonedx-python-lib``.

What is covered (:mod:`tumbler.formats.sbom`): with no ``--extra``/``--group``, every entry
of the lock; with a choice, the entries it selects. Each entry is a ``library`` component:

* ``purl`` ``pkg:pypi/<name>@<version>`` (the ``bom-ref`` too, suffixed ``#2`` ... when two
  entries share it, as a universal lock's entries for several platforms may);
* ``hashes``: every locked file's SHA-256; ``externalReferences``: each file's URL as a
  ``distribution`` with its own hash and file name (a git source as ``vcs``);
* ``properties``: ``tumbler:marker`` (the lock's marker, verbatim), ``tumbler:extra`` /
  ``tumbler:group`` for each extra and dependency group it names, ``tumbler:index``;
* licences: none — a lock records none, and none is guessed.

``dependencies`` are the lock's ``[[packages]].dependencies`` between covered entries; the
project (``[project] name``/``version`` beside the lock, when known) is
``metadata.component`` and depends on the direct entries. ``metadata.properties`` say what
was covered. ``--reproducible``: the serial number and timestamp come from the lock
(:func:`~tumbler.formats.sbom.stamp`), so the same lock gives the same bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tumbler.formats.sbom import Entry, files_of, select, stamp

if TYPE_CHECKING:
    from cyclonedx.model.component import Component
    from packaging.pylock import Pylock

    from tumbler.formats.base import ExportOptions
    from tumbler.formats.sbom import Selection

__all__ = ["EXPORTER"]


def _component(entry: Entry) -> Component:
    """The ``library`` component of one covered entry."""
    from cyclonedx.model import (
        ExternalReference,
        ExternalReferenceType,
        HashAlgorithm,
        HashType,
        Property,
        XsUri,
    )
    from cyclonedx.model.component import Component, ComponentType
    from packageurl import PackageURL

    package = entry.package
    files = files_of(package)
    hashes = sorted({f.sha256 for f in files if f.sha256})
    references = [
        ExternalReference(
            type=ExternalReferenceType.DISTRIBUTION,
            url=XsUri(f.url),
            comment=f.name,
            hashes=[HashType(alg=HashAlgorithm.SHA_256, content=f.sha256)] if f.sha256 else [],
        )
        for f in files
        if f.url
    ]
    if package.vcs is not None and package.vcs.url:
        references.append(
            ExternalReference(
                type=ExternalReferenceType.VCS,
                url=XsUri(package.vcs.url),
                comment=f"{package.vcs.type} commit {package.vcs.commit_id}",
            )
        )
    properties = [Property(name="tumbler:marker", value=entry.marker)] if entry.marker else []
    properties += [Property(name="tumbler:extra", value=e) for e in entry.extras]
    properties += [Property(name="tumbler:group", value=g) for g in entry.groups]
    if package.index:
        properties.append(Property(name="tumbler:index", value=str(package.index)))
    return Component(
        type=ComponentType.LIBRARY,
        name=str(package.name),
        version=None if package.version is None else str(package.version),
        purl=PackageURL.from_string(entry.purl),
        bom_ref=entry.ref,
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=h) for h in hashes],
        external_references=references,
        properties=properties,
    )


def _metadata_properties(selection: Selection) -> list[tuple[str, str]]:
    """What the document covers, as ``metadata.properties``."""
    rows = [("tumbler:covers", "whole-lock" if selection.whole else "selection")]
    rows += [("tumbler:selected-extra", e) for e in selection.extras]
    rows += [("tumbler:selected-group", g) for g in selection.groups]
    return rows


class _Exporter:
    name = "cyclonedx"

    def export(self, pylock: Pylock, options: ExportOptions) -> str:
        from cyclonedx.model import Property
        from cyclonedx.model.bom import Bom, BomMetaData
        from cyclonedx.model.component import Component, ComponentType
        from cyclonedx.model.tool import ToolRepository
        from cyclonedx.output.json import JsonV1Dot6

        from tumbler.version import __version__

        selection = select(pylock, options)
        serial, when = stamp(pylock, options, self.name)
        project = None
        if options.project_name:
            project = Component(
                type=ComponentType.APPLICATION,
                name=options.project_name,
                version=options.project_version,
                bom_ref=f"project:{options.project_name}",
            )
        tool = Component(type=ComponentType.APPLICATION, name="tumbler", version=__version__)
        metadata = BomMetaData(
            timestamp=when,
            tools=ToolRepository(components=[tool]),
            component=project,
            properties=[Property(name=k, value=v) for k, v in _metadata_properties(selection)],
        )
        bom = Bom(serial_number=serial, metadata=metadata)
        components = [_component(e) for e in selection.entries]
        for component in components:
            bom.components.add(component)
        for entry, component in zip(selection.entries, components, strict=True):
            bom.register_dependency(component, [components[j] for j in entry.dependencies])
        if project is not None:
            index = {e.ref: c for e, c in zip(selection.entries, components, strict=True)}
            bom.register_dependency(project, [index[e.ref] for e in selection.roots])
        return str(JsonV1Dot6(bom).output_as_string(indent=2)) + "\n"


EXPORTER = _Exporter()
