"""A test-only format, to show what adding a format takes: this module (a ``READER`` and
an ``EXPORTER``) plus one registry line. Lines ``name version url sha256`` under a
``# fake-lock 1`` header, one wheel each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from packaging.pylock import Package, PackageWheel, Pylock
from packaging.utils import canonicalize_name
from packaging.version import Version

from tumbler.errors import InputError
from tumbler.formats.base import Imported

if TYPE_CHECKING:
    from pathlib import Path

    from tumbler.formats.base import Exporter, ExportOptions, Reader

HEADER = "# fake-lock 1"


class FakeReader:
    name = "fake-lock"

    def detect(self, path: Path, data: bytes) -> bool:
        return path.suffix == ".fake" and data.startswith(HEADER.encode())

    def read(
        self, path: Path, data: bytes, files: object = None, options: object = None
    ) -> Imported:
        packages = []
        for number, line in enumerate(data.decode().splitlines()[1:], start=2):
            try:
                name, version, url, digest = line.split()
            except ValueError:
                raise InputError(f"{path}:{number}: expected 'name version url sha256'") from None
            wheel = PackageWheel(url=url, hashes={"sha256": digest})
            packages.append(
                Package(name=canonicalize_name(name), version=Version(version), wheels=[wheel])
            )
        return Imported(
            Pylock(lock_version=Version("1.0"), created_by="tumbler", packages=packages)
        )


class FakeExporter:
    name = "fake-lock"

    def export(self, pylock: Pylock, options: ExportOptions) -> str:
        lines = [HEADER]
        for package in pylock.packages:
            for wheel in package.wheels or ():
                lines.append(
                    f"{package.name} {package.version} {wheel.url} {wheel.hashes['sha256']}"
                )
        return "\n".join(lines) + "\n"


#: Typed as the protocols: mypy checks the format keeps to them.
READER: Reader = FakeReader()
EXPORTER: Exporter = FakeExporter()
