"""The index side of importing: the files a release has, for readers whose format names
only hashes (:class:`~tumbler.formats.base.FileLookup`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from packaging.version import Version

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tumbler.index.pages import IndexFile
    from tumbler.net.http import Http

__all__ = ["IndexLookup"]


class IndexLookup:
    """Answers from the indexes' project pages (cached, ``--offline`` honoured), one
    finder per set of indexes."""

    def __init__(self, http: Http) -> None:
        self.http = http
        self._finders: dict[tuple[str, ...], object] = {}

    def __call__(self, name: str, version: str, indexes: Sequence[str]) -> Sequence[IndexFile]:
        from tumbler.env.targets import parse_target
        from tumbler.index.finder import Finder
        from tumbler.project.indexes import IndexConfig

        try:
            wanted = Version(version)
        except ValueError:  # InvalidVersion, or more digits than int() takes
            return []
        key = tuple(indexes)
        finder = self._finders.get(key)
        if finder is None:
            from tumbler.errors import InputError, UsageError
            from tumbler.project.indexes import check_url

            for url in key:
                try:
                    check_url(url)
                except UsageError as error:
                    raise InputError(f"{name} {version}: {error}") from None
        if finder is None:
            finder = self._finders[key] = Finder(
                self.http, IndexConfig(key), parse_target("host"), speculate=False
            )
        assert isinstance(finder, Finder)
        return finder.release_files(name, wanted)
