"""What the resolver asks the world: releases of a project, and a release's dependencies.

:class:`Finder` fetches project pages and core metadata concurrently and speculatively:
as soon as a page arrives it fetches the metadata of the release the resolver will most
likely pick (the locked version, else the newest that fits), and as soon as that arrives
it fetches the pages of its dependencies. Resolution then mostly finds answers waiting.
Speculation never changes an answer, only when it is ready.

A release is usable on the target when it has a file the target can install (a wheel
whose tags it supports, or an sdist) whose ``Requires-Python`` admits the target's Python
and whose upload time is not after ``exclude_newer``. Why versions were passed over is
kept, to explain a failed resolution.
"""

from __future__ import annotations

import functools
import threading
from collections import Counter, defaultdict
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from tumbler.env.markers import holds
from tumbler.env.targets import python_splits, tag_texts
from tumbler.errors import NetworkError
from tumbler.index.binaries import Binaries
from tumbler.index.compact import CompactPage, Versions, keep_page, kept_page
from tumbler.index.metadata import MetadataFetcher
from tumbler.index.pages import (
    ACCEPT,
    Row,
    file_name_parts,
    group_rows,
    index_file,
    page_url,
    parse_page,
    tag_text,
    version_rows,
)
from tumbler.net.urls import redact

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
    from datetime import datetime

    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.tags import Tag

    from tumbler.env.targets import Target
    from tumbler.index.metadata import CoreMetadata
    from tumbler.index.pages import IndexFile
    from tumbler.net.cache import Cache
    from tumbler.net.http import Http, Response
    from tumbler.project.indexes import IndexConfig

__all__ = [
    "NO_BINARY",
    "NO_WHEEL",
    "ONLY_BINARY",
    "Binaries",
    "Catalog",
    "Finder",
    "Listing",
    "Project",
    "Release",
]

#: Why a release's wheel is passed over when none of its tags fits the target.
NO_WHEEL = "no wheel for this platform"
#: Why wheels and sdists are passed over by the binary policy.
NO_BINARY = "wheels not allowed (--no-binary)"
ONLY_BINARY = "sdists not allowed (--only-binary)"
_T = TypeVar("_T")
_R = TypeVar("_R")


class _Settled(Generic[_R]):
    """A finished result dressed as a future: what a finder that does not speculate hands
    out (a :class:`~concurrent.futures.Future` carries a lock and a condition, and a
    universal lock's targets ask for tens of thousands)."""

    __slots__ = ("_error", "_value")

    def __init__(self, value: _R | None, error: BaseException | None = None) -> None:
        self._value = value
        self._error = error

    def done(self) -> bool:
        return True

    def cancelled(self) -> bool:
        return False

    def exception(self) -> BaseException | None:
        return self._error

    def result(self) -> _R:
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def add_done_callback(self, function: Callable[[_Settled[_R]], object]) -> None:
        function(self)


#: What a finder hands out: a future while speculation may still be running it, else
#: the settled result.
_Pending: TypeAlias = "Future[_R] | _Settled[_R]"


@dataclass(frozen=True, slots=True)
class Release:
    """One version of a project with the files the target can use, best first."""

    name: NormalizedName
    version: Version
    #: Usable files: wheels by tag preference, then the sdist.
    files: tuple[IndexFile, ...]
    index: str
    yanked: bool
    #: When the target can use only the sdist: a wheel of the same release built for
    #: another platform, whose core metadata stands for the release (no sdist build).
    stand_in: IndexFile | None = None

    @property
    def best(self) -> IndexFile:
        """The file whose metadata stands for the release: the target's best file, or
        another platform's wheel rather than an sdist that would have to be built."""
        return self.stand_in or self.files[0]

    @property
    def sdist(self) -> IndexFile | None:
        """The release's sdist, if usable."""
        return next((f for f in self.files if not f.is_wheel), None)


#: A row of a release with its file name's parts and the tag lists it fits (bit mask).
_Entry: TypeAlias = "tuple[Row, tuple[str, Version, frozenset[Tag]], int]"


class Listing:
    """A project's page on an index, parsed lazily; the same for every target of a run.

    Pages list thousands of files; a resolution looks at a few versions of each project.
    So files are grouped by version cheaply, once, when first needed; until then one
    version's rows can be found without grouping the whole page.
    """

    __slots__ = (
        "_by_version",
        "_entries",
        "_files",
        "_fitting",
        "_grouped",
        "_grouping",
        "_keep",
        "_page",
        "_picked",
        "_portable",
        "_targeted",
        "found",
        "index",
        "name",
        "portable_verdicts",
        "stand_ins",
    )

    def __init__(
        self,
        name: NormalizedName,
        *,
        found: bool,
        page: Callable[[], list[Row]] | None = None,
        targeted: Callable[[Version], list[Row] | None] | None = None,
        index: str | None = None,
        compact: CompactPage | None = None,
        keep: Callable[[list[tuple[Version, Sequence[Row]]]], None] | None = None,
    ) -> None:
        self.name = name
        self.found = found
        self.index = index
        self._page = page
        self._targeted = targeted
        #: Called with the grouped page once it is parsed (to keep its compact form).
        self._keep = keep
        self._grouped: Sequence[tuple[Version, Sequence[Row]]] | None = (
            None if compact is None else compact.versions
        )
        self._by_version: dict[Version, Sequence[Row]] | None = None
        self._grouping = threading.Lock()
        #: Versions found without grouping the page (each such search reads the page).
        self._picked: dict[Version, Sequence[Row]] = {}
        #: Each row's file, read once for every target (by row identity, the row kept).
        self._files: dict[int, tuple[Row, IndexFile | None]] = {}
        self._portable: dict[Version, bool] = {}
        self._entries: dict[Version, tuple[int, list[_Entry]]] = {}
        #: Verdicts on portable releases, by (version, (implementation, Python)).
        self.portable_verdicts: dict[tuple[Version, tuple[str, str]], Release | str] = {}
        #: Per (version, upload cut-off), the wheel standing in for an sdist's metadata.
        self.stand_ins: dict[tuple[Version, datetime | None], IndexFile | None] = {}
        #: Per version, the rows each tag list can use (:meth:`fitting`).
        self._fitting: dict[Version, tuple[int, dict[int, list[_Entry]]]] = {}

    def entries(self, version: Version, rows: Sequence[Row], catalog: Catalog) -> list[_Entry]:
        """The rows of ``version`` that are files of this project, each with its name's
        parts and the tag lists it fits (:meth:`Catalog.fits`): worked out once for every
        target (again only if tag lists were added since)."""
        registered = catalog.registered
        known = self._entries.get(version)
        if known is not None and known[0] == registered:
            return known[1]
        made = []
        for row in rows:
            parts = file_name_parts(row.filename)
            if parts is None or parts[0] != self.name:
                continue
            fits = catalog.fits(row.filename, parts[2]) if parts[2] else 0
            made.append((row, parts, fits))
        self._entries[version] = (registered, made)
        return made

    def fitting(
        self, version: Version, rows: Sequence[Row], catalog: Catalog, bit: int
    ) -> list[_Entry]:
        """The :meth:`entries` of ``version`` a target with tag list ``bit`` may use: its
        sdists and the wheels whose tags it has, in page order. Sorted out once per
        version for every tag list, so a target judging a release with fifty wheels looks
        at its own two."""
        registered = catalog.registered
        known = self._fitting.get(version)
        if known is None or known[0] != registered:
            by_bit: dict[int, list[_Entry]] = {}
            sdists: list[_Entry] = []
            for entry in self.entries(version, rows, catalog):
                fits = entry[2]
                if not entry[1][2]:
                    sdists.append(entry)
                    for listed in by_bit.values():
                        listed.append(entry)
                    continue
                number = 0
                while fits:
                    if fits & 1:
                        by_bit.setdefault(number, list(sdists)).append(entry)
                    fits >>= 1
                    number += 1
            by_bit[-1] = sdists
            known = self._fitting[version] = (registered, by_bit)
        by_bit = known[1]
        return by_bit.get(bit, by_bit[-1])

    def portable(self, version: Version, rows: Sequence[Row]) -> bool:
        """Whether every wheel of ``version`` runs on any platform (``*-none-any``): what
        a target makes of the release then depends on its Python alone."""
        known = self._portable.get(version)
        if known is None:
            known = True
            for row in rows:
                parts = file_name_parts(row.filename)
                if parts is not None and any(t.platform != "any" for t in parts[2]):
                    known = False
                    break
            self._portable[version] = known
        return known

    def file(
        self, row: Row, parts: tuple[str, Version, frozenset[Tag]] | None = None
    ) -> IndexFile | None:
        """The :class:`IndexFile` of ``row`` (None when it is not a file of this project)."""
        known = self._files.get(id(row))
        if known is not None and known[0] is row:
            return known[1]
        made = index_file(row, self.name, self.index or "", parts)
        self._files[id(row)] = (row, made)
        return made

    @property
    def versions(self) -> Sequence[tuple[Version, Sequence[Row]]]:
        """Every version on the page with its rows, newest first."""
        grouped = self._grouped
        if grouped is None:
            with self._grouping:  # speculation and resolution may both get here first
                if self._grouped is None:
                    page, keep = self._page, self._keep
                    made: list[tuple[Version, Sequence[Row]]] = []
                    if page is not None:
                        made = list(group_rows(page()))
                    if keep is not None:
                        keep(made)
                    self._grouped = made
                    # The rows keep what they need: let the page's bytes go.
                    self._page = self._targeted = self._keep = None
                grouped = self._grouped
        return grouped

    def rows(self, version: Version) -> Sequence[Row] | None:
        """The rows of ``version``, if the page lists it."""
        picked = self._picked.get(version)
        if picked is not None:
            return picked
        targeted = self._targeted  # read once: another thread may drop it meanwhile
        if self._grouped is None and targeted is not None:
            rows = targeted(version)
            if rows:
                self._picked[version] = rows
                return rows
        by_version = self._by_version
        if by_version is None:
            grouped = self.versions
            if isinstance(grouped, Versions):  # a kept page: no need to parse them all
                return grouped.rows_for(version)
            by_version = self._by_version = dict(grouped)
        return by_version.get(version)


class Project:
    """A project as one target sees it: its :class:`Listing`'s releases, judged lazily
    (tags, Requires-Python, upload time, yanks) for the target, newest first."""

    __slots__ = ("_judge", "_judged", "listing")

    def __init__(
        self,
        listing: Listing,
        judge: Callable[[Project, Version, Sequence[Row]], Release | str] | None = None,
    ) -> None:
        self.listing = listing
        self._judge = judge
        self._judged: dict[Version, Release | str] = {}

    @property
    def name(self) -> NormalizedName:
        """The project's normalized name."""
        return self.listing.name

    @property
    def found(self) -> bool:
        """Whether an index has the project."""
        return self.listing.found

    @property
    def index(self) -> str | None:
        """The index the project's files come from."""
        return self.listing.index

    def _verdict(self, version: Version, rows: Sequence[Row]) -> Release | str:
        verdict = self._judged.get(version)
        if verdict is None:
            assert self._judge is not None
            verdict = self._judge(self, version, rows)
            self._judged[version] = verdict
        return verdict

    def iter_releases(self) -> Iterator[Release]:
        """Usable releases, newest first."""
        for version, rows in self.listing.versions:
            verdict = self._verdict(version, rows)
            if not isinstance(verdict, str):
                yield verdict

    def release(self, version: Version) -> Release | None:
        """The usable release of ``version``, if any."""
        known = self._judged.get(version)
        if known is None:
            rows = self.listing.rows(version)
            if rows is None:
                return None
            known = self._verdict(version, rows)
        return None if isinstance(known, str) else known

    @property
    def releases(self) -> tuple[Release, ...]:
        """Every usable release (judges every version: for explanations, not the hot path)."""
        return tuple(self.iter_releases())

    def skipped(self) -> dict[str, tuple[Version, ...]]:
        """Reason → the versions passed over for it."""
        out: dict[str, list[Version]] = defaultdict(list)
        for version, rows in self.listing.versions:
            verdict = self._verdict(version, rows)
            if isinstance(verdict, str):
                out[verdict].append(version)
        return {k: tuple(v) for k, v in out.items()}


class Catalog:
    """What the finders of one run share, whatever their target: project listings (each
    page fetched and parsed once) and core metadata (each file's fetched once).

    A universal lock resolves for many targets; they all read the same pages and mostly
    the same metadata.
    """

    def __init__(self, http: Http) -> None:
        self.http = http
        self.fetcher = MetadataFetcher(http, http.cache)
        self.lock = threading.Lock()
        self.listings: dict[NormalizedName, Future[Listing]] = {}
        #: The listings fetched, for finders to read without the lock.
        self.ready: dict[NormalizedName, Listing] = {}
        #: By release (index, name, version): core metadata describes a release, so the
        #: first target to ask reads it from its best file and the others share it.
        self.metadata: dict[tuple[str, NormalizedName, Version], _Pending[CoreMetadata]] = {}
        #: Metadata read, by the release object asked with (read without the lock).
        self.metadata_ready: dict[int, tuple[Release, CoreMetadata]] = {}
        #: Indexes that gave no upload times although ``exclude_newer`` is set.
        self.untimed_indexes: set[str] = set()
        #: What the run should tell its user (targets a universal lock left out).
        self.notes: list[str] = []
        #: What to tell only when the lock's coverage changes (end-of-life Pythons).
        self.coverage_notes: list[str] = []
        #: How many targets a universal lock covers (None until it is made).
        self.covered: int | None = None
        #: How many targets it was made for (patch-release slots included).
        self.targets: int | None = None
        #: Per project, the patch releases the ``Requires-Python`` of its files judged so
        #: far tells apart (``3.11.4``): where a newer release starts or stops fitting.
        self.splits: dict[NormalizedName, set[Version]] = defaultdict(set)
        #: (project, Requires-Python specifier by identity: its file keeps it) whose
        #: splits are in already; a universal lock meets each once per target.
        self.split_seen: set[tuple[NormalizedName, int]] = set()
        #: Wheel file name → (the tag lists known then, those it fits), bit ``n`` for the
        #: tag list numbered ``n`` (:meth:`tags_id`): two small ints per file name.
        self.tag_verdicts: dict[str, tuple[int, int]] = {}
        #: Tag list key (:attr:`Target.tags_key`, or the texts themselves) → its number
        #: and each tag's rank in it (0 for the best). Tags are kept as text
        #: (``cp312-cp312-manylinux_2_17_x86_64``): a universal lock's three dozen lists
        #: hold some 35,000 tags, slow to build as objects and to hash and compare.
        self._tag_lists: dict[object, tuple[int, dict[str, int]]] = {}
        #: Tag lists as text kept by an earlier run (:meth:`register`), by key.
        self._kept_texts: dict[str, tuple[str, ...]] = {}
        #: Tag text → the tag lists holding it; and every tag list registered, as bits.
        self._tag_index: dict[str, int] = {}
        self.registered = 0

    def register(self, targets: Sequence[Target]) -> None:
        """Number the tag lists of ``targets`` at once (each then known to
        :meth:`fits`), their texts from the cache when a run with the same targets
        kept them."""
        keys = sorted({t.tags_key for t in targets if t.tags_key})
        cache = self.http.cache
        if keys and cache is not None:
            self._kept_texts = _kept_tag_texts(cache, keys, targets)
        for target in targets:
            self.tags_id(target)

    def tags_id(self, target: Target) -> int:
        """A small number naming the target's tag list (the same for equal keys)."""
        return self._tag_list(target)[0]

    def tag_ranks(self, target: Target) -> dict[str, int]:
        """Each tag of the target's list, as text, by its place (0 for the best), shared
        by every finder of the list."""
        return self._tag_list(target)[1]

    def _tag_list(self, target: Target) -> tuple[int, dict[str, int]]:
        key: object = target.tags_key
        known = self._tag_lists.get(key) if key else None
        if known is not None:
            return known
        texts = self._kept_texts.get(target.tags_key) if key else None
        if texts is None:
            texts = tag_texts(target)
        key = key or texts
        with self.lock:
            known = self._tag_lists.get(key)
            if known is None:
                number = len(self._tag_lists)
                bit = 1 << number
                index = self._tag_index
                for text in texts:
                    index[text] = index.get(text, 0) | bit
                ranks: dict[str, int] = {}
                for rank, text in enumerate(texts):
                    ranks.setdefault(text, rank)
                known = self._tag_lists[key] = (number, ranks)
                self.registered |= bit
            return known

    def fits(self, filename: str, tags: frozenset[Tag]) -> int:
        """The tag lists (bit ``n`` for :meth:`tags_id` ``n``) a wheel with ``tags`` installs
        on: worked out once per file name, again only when new tag lists came since."""
        registered = self.registered
        known = self.tag_verdicts.get(filename)
        if known is not None and known[0] == registered:
            return known[1]
        index = self._tag_index
        mask = 0
        for tag in tags:
            mask |= index.get(tag_text(tag), 0)
        self.tag_verdicts[filename] = (registered, mask)
        return mask


class Finder:
    """Concurrent, speculative access to the indexes for one target environment."""

    def __init__(
        self,
        http: Http,
        indexes: IndexConfig,
        target: Target,
        *,
        exclude_newer: datetime | None = None,
        preferences: Mapping[NormalizedName, Version] | None = None,
        speculate: bool | None = None,
        catalog: Catalog | None = None,
        also_for: Iterable[Mapping[str, str]] = (),
        binaries: Binaries | None = None,
        exempt: Callable[[str], bool] | None = None,
    ) -> None:
        self.http = http
        #: Whether ``exclude_newer`` spares a project (``min-release-age-exempt``).
        self._exempt = exempt
        self._spared: dict[str, bool] = {}
        self.binaries = binaries or Binaries()
        #: Shared with the finders of the run's other targets.
        self.catalog = catalog or Catalog(http)
        #: Marker environments whose dependencies speculation follows too (the other
        #: targets of a universal lock), with each marker's verdict remembered.
        self._environments = [dict(target.environment), *(dict(e) for e in also_for)]
        self._followed: dict[tuple[str, frozenset[str]], bool] = {}
        self.indexes = indexes
        self.target = target
        self.exclude_newer = exclude_newer
        self.preferences = dict(preferences or {})
        self.speculate = not http.offline if speculate is None else speculate
        self._python = Version(target.environment["python_full_version"])
        #: What a portable release's verdict depends on besides the release.
        self._python_key = (
            target.environment.get("implementation_name", ""),
            target.environment["python_full_version"],
        )
        self._tag_rank = self.catalog.tag_ranks(target)
        self._tags_id = self.catalog.tags_id(target)
        #: id(a file's Requires-Python) → whether it admits the target's Python.
        self._admits: dict[int, bool] = {}
        self._lock = threading.Lock()
        self._projects: dict[NormalizedName, _Pending[Project]] = {}
        #: Projects loaded, by the name they were asked for with.
        self._ready: dict[str, Project] = {}
        self._expanded: set[tuple[str, str, frozenset[str]]] = set()
        #: Queued tasks by their future, for :meth:`_wait` to claim.
        self._claims: dict[Future[Any], Callable[[], None]] = {}
        self._claims_lock = threading.Lock()
        #: Indexes that gave no upload times although ``exclude_newer`` is set.
        self.untimed_indexes = self.catalog.untimed_indexes

    @property
    def metadata_fetcher(self) -> MetadataFetcher:
        """Fetches core metadata and learns file sizes (shared by the run's finders)."""
        return self.catalog.fetcher

    # --- projects ----------------------------------------------------------------------------

    def project(self, name: str) -> Project:
        """The project ``name`` (blocking until its pages are in)."""
        known = self._ready.get(name)  # a resolution asks for each project again and again
        if known is not None:
            return known
        project = self._wait(self._project_future(canonicalize_name(name)))
        self._ready[name] = project
        return project

    def known_metadata(self, index: str, name: str, version: Version) -> CoreMetadata | None:
        """The core metadata this run read for a release, if it read it (never fetches)."""
        key = (index, canonicalize_name(name), version)
        future = self.catalog.metadata.get(key)
        if future is None or not future.done() or future.exception() is not None:
            return None
        return future.result()

    def release_files(self, name: str, version: Version) -> list[IndexFile]:
        """Every file of ``name`` ``version`` its index lists (any platform), from the page
        the resolution read."""
        normalized = canonicalize_name(name)
        listing = self._listing(normalized)
        if not listing.found or listing.index is None:
            return []
        files = (listing.file(r) for r in listing.rows(version) or [])
        return [f for f in files if f is not None]

    def _project_future(self, name: NormalizedName) -> _Pending[Project]:
        known = self._projects.get(name)  # asked for again and again: no lock to read
        if known is not None:
            return known
        with self._lock:
            future = self._projects.get(name)
            if future is None:
                future = self._submit(self._load_project, name)
                self._projects[name] = future
        return future

    def _submit(self, function: Callable[[_T], _R], argument: _T) -> _Pending[_R]:
        """Run ``function`` on the pool, or at once when not speculating (offline: no
        latency to hide, so threads would only add contention).

        A task still queued when resolution comes to wait for it is claimed and run by the
        waiting thread (see :meth:`_wait`): what resolution needs now never waits behind
        speculation.
        """
        if not self.speculate:
            try:
                return _Settled(function(argument))
            except Exception as error:  # kept for whoever waits, as a Future keeps it
                return _Settled(None, error)
        future: Future[_R] = Future()
        claim = threading.Lock()

        def run() -> None:
            if not claim.acquire(blocking=False):
                return  # claimed by a waiting thread
            with self._claims_lock:
                self._claims.pop(future, None)
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = function(argument)
            except BaseException as error:
                future.set_exception(error)
            else:
                future.set_result(result)

        with self._claims_lock:
            self._claims[future] = run
        try:
            self.http.executor.submit(run)
        except RuntimeError:  # the pool is shut down: the run is over, or leaving
            with self._claims_lock:
                self._claims.pop(future, None)
            if not self.http.closed:
                raise
            future.cancel()
        return future

    def _wait(self, future: _Pending[_R]) -> _R:
        """The result of ``future``, running its task here if no worker has started it."""
        if isinstance(future, Future) and not future.done():
            with self._claims_lock:
                run = self._claims.pop(future, None)
            if run is not None:
                run()
        return future.result()

    def _load_project(self, name: NormalizedName) -> Project:
        project = Project(self._listing(name), self._judge)
        if project.found and self.speculate:
            self._speculate(project)
        return project

    def _listing(self, name: NormalizedName) -> Listing:
        """The catalog's listing of ``name``, fetched here if no finder has asked yet."""
        catalog = self.catalog
        ready = catalog.ready.get(name)  # read without the lock: set once, never changed
        if ready is not None:
            return ready
        with catalog.lock:
            future = catalog.listings.get(name)
            mine = future is None
            if future is None:
                future = catalog.listings[name] = Future()
        if not mine:
            return future.result()
        try:
            listing = self._fetch_listing(name)
        except BaseException as error:
            future.set_exception(error)
            raise
        future.set_result(listing)
        catalog.ready[name] = listing
        return listing

    def _fetch_listing(self, name: NormalizedName) -> Listing:
        for index in self.indexes.for_package(name):
            url = page_url(index, name)
            shown = redact(index).rstrip("/")
            kept = self._kept(url)
            if kept is not None:
                return Listing(name, found=True, index=shown, compact=kept)
            response = self.http.fetch_cached(url, {"Accept": ACCEPT})
            if response.status == 404:
                continue
            if response.status != 200:
                raise NetworkError(f"{redact(url)}: the index answered HTTP {response.status}")
            body, kind = response.body, response.headers.get("content-type", "")
            if "json" not in kind and b"<a" not in body and b"<A" not in body:
                continue  # an empty HTML page: the project has no files here
            return self._listed(name, shown, url, response)
        return Listing(name, found=False)

    def _kept(self, url: str) -> CompactPage | None:
        """The compact form of the page at ``url`` when the cache answers for it without
        the server and keeps its compact form: the page body is then not even read."""
        cache, digest = self.http.cache, self.http.cached_digest(url)
        return None if cache is None or digest is None else kept_page(cache, digest)

    def _listed(self, name: NormalizedName, shown: str, url: str, response: Response) -> Listing:
        """The listing of a fetched page, parsed when first needed; its compact form is
        kept then (:mod:`tumbler.index.compact`), or read back if kept already."""
        cache = self.http.cache
        body, kind = response.body, response.headers.get("content-type", "")
        page = functools.partial(parse_page, body, kind, url)
        targeted = functools.partial(version_rows, body, kind, url)
        if cache is None:
            return Listing(name, found=True, page=page, targeted=targeted, index=shown)
        digest = response.sha256 or _sha256(body)
        compact = kept_page(cache, digest)
        if compact is not None:
            return Listing(name, found=True, index=shown, compact=compact)
        keep = functools.partial(keep_page, cache, digest)
        return Listing(name, found=True, page=page, targeted=targeted, index=shown, keep=keep)

    def _judge(self, project: Project, version: Version, rows: Sequence[Row]) -> Release | str:
        """The release of ``version`` as the target sees it, or why it cannot use it.

        A release whose wheels all run on any platform (``py3-none-any``) looks the same
        to every target with the same Python: judged once for all of them."""
        listing = project.listing
        if not listing.portable(version, rows):
            return self._judged_here(project, version, rows)
        key = (version, self._python_key)
        verdict = listing.portable_verdicts.get(key)
        if verdict is None:
            verdict = listing.portable_verdicts[key] = self._judged_here(project, version, rows)
        return verdict

    def _judged_here(
        self, project: Project, version: Version, rows: Sequence[Row]
    ) -> Release | str:
        """:meth:`_judge` for this target: its usable files from the rows its tags fit;
        when none is usable, :meth:`_judged_every_row` says why."""
        usable: list[IndexFile] = []
        listing, name = project.listing, project.name
        wheels_allowed = self.binaries.wheels(name)
        sdists_allowed = self.binaries.sdists(name)
        for row, parts, _ in listing.fitting(version, rows, self.catalog, self._tags_id):
            if not (wheels_allowed if parts[2] else sdists_allowed):
                continue
            file = listing.file(row, parts)
            if file is None:
                continue
            if self.exclude_newer is not None and file.upload_time is None:
                self.untimed_indexes.add(file.index)
            if self._unusable_here(file, name) is None:
                usable.append(file)
        if not usable:
            return self._judged_every_row(project, version, rows)
        return self._release(project, version, rows, usable)

    def _release(
        self, project: Project, version: Version, rows: Sequence[Row], usable: list[IndexFile]
    ) -> Release:
        usable.sort(key=self._file_rank)
        yanked = all(f.yanked is not None for f in usable)
        if not yanked:
            usable = [f for f in usable if f.yanked is None]
        stand_in = None if usable[0].is_wheel else self._stand_in(project, version, rows)
        return Release(project.name, version, tuple(usable), project.index or "", yanked, stand_in)

    def _judged_every_row(self, project: Project, version: Version, rows: Sequence[Row]) -> str:
        """Why the target can use no file of ``version`` (:meth:`_judged_here` found
        none): the most common reason over every row (a wheel for another platform,
        Requires-Python, ...)."""
        reasons: Counter[str] = Counter()
        listing, name, bit = project.listing, project.name, self._tags_id
        wheels_allowed = self.binaries.wheels(name)
        sdists_allowed = self.binaries.sdists(name)
        for row, parts, fits in listing.entries(version, rows, self.catalog):
            if not (wheels_allowed if parts[2] else sdists_allowed):
                reasons[NO_BINARY if parts[2] else ONLY_BINARY] += 1
            elif parts[2] and not fits >> bit & 1:
                reasons[NO_WHEEL] += 1  # decided by the name alone
            elif (file := listing.file(row, parts)) is not None:
                reason = self._unusable_here(file, name)
                if reason is not None:  # always: the rows it fits were all refused
                    reasons[reason] += 1
        return reasons.most_common(1)[0][0] if reasons else "no files"

    def _stand_in(
        self, project: Project, version: Version, rows: Sequence[Row]
    ) -> IndexFile | None:
        """A wheel of the release for another platform, for its core metadata: core
        metadata describes the release, so building the sdist to learn it is waste (and
        fails where the build needs a compiler the machine lacks). The same for every
        target: found once."""
        key = (version, self.exclude_newer)
        stand_ins = project.listing.stand_ins
        if key not in stand_ins:
            stand_ins[key] = self._find_stand_in(project, rows)
        return stand_ins[key]

    def _find_stand_in(self, project: Project, rows: Sequence[Row]) -> IndexFile | None:
        wheels = []
        for row in rows:
            parts = file_name_parts(row.filename)
            if parts is None or parts[0] != project.name or not parts[2]:
                continue
            file = project.listing.file(row, parts)
            if file is None or (
                self.exclude_newer is not None
                and file.upload_time is not None
                and file.upload_time > self.exclude_newer
                and not self._spares(project.name)
            ):
                continue
            wheels.append(file)
        return min(wheels, key=lambda f: (f.yanked is not None, f.filename), default=None)

    def _fits_tags(self, filename: str, tags: frozenset[Tag]) -> bool:
        """Whether a wheel with these tags installs on the target (remembered per file
        name for every target with the same tags: patch releases of one minor version)."""
        return bool(self.catalog.fits(filename, tags) >> self._tags_id & 1)

    def _unusable(self, file: IndexFile, name: NormalizedName) -> str | None:
        if file.is_wheel and not self._fits_tags(file.filename, file.tags):
            return NO_WHEEL
        return self._unusable_here(file, name)

    def _unusable_here(self, file: IndexFile, name: NormalizedName) -> str | None:
        """Why the target cannot use ``file``, its tags aside (checked already)."""
        specifier = file.requires_python
        if specifier is not None:
            admits = self._admits.get(id(specifier))
            if admits is None:
                seen = (name, id(specifier))
                if seen not in self.catalog.split_seen:
                    self.catalog.split_seen.add(seen)
                    if splits := python_splits(specifier):
                        self.catalog.splits[name].update(splits)
                admits = specifier.contains(self._python, prereleases=True)
                self._admits[id(specifier)] = admits  # the file (kept) keeps the specifier
            if not admits:
                return f"Requires-Python {specifier}"
        if (
            self.exclude_newer is not None
            and file.upload_time is not None
            and file.upload_time > self.exclude_newer
            and not self._spares(name)
        ):
            return "uploaded after --exclude-newer"
        return None

    def _spares(self, name: str) -> bool:
        """Whether the cut-off does not apply to ``name`` (remembered per name)."""
        if self._exempt is None:
            return False
        spared = self._spared.get(name)
        if spared is None:
            spared = self._spared[name] = self._exempt(name)
        return spared

    def _file_rank(self, file: IndexFile) -> tuple[int, int, str]:
        if not file.is_wheel:
            return (1, 0, file.filename)
        ranks = self._tag_rank
        return (0, min(ranks.get(tag_text(t), 1 << 30) for t in file.tags), file.filename)

    # --- metadata ----------------------------------------------------------------------------

    def metadata(self, release: Release) -> CoreMetadata:
        """The core metadata of ``release`` (blocking)."""
        ready = self.catalog.metadata_ready
        known = ready.get(id(release))  # asked for again as each target locks it
        if known is not None and known[0] is release:
            return known[1]
        metadata = self._wait(self._metadata_future(release))
        ready[id(release)] = (release, metadata)  # the release kept: its id stays its own
        return metadata

    def _metadata_future(self, release: Release) -> _Pending[CoreMetadata]:
        file = release.best
        catalog = self.catalog
        with catalog.lock:
            key = (release.index, release.name, release.version)
            future = catalog.metadata.get(key)
            if future is None:
                future = self._submit(catalog.fetcher.get, file)
                catalog.metadata[key] = future
                fresh = True
            else:
                fresh = False
        if fresh and self.speculate:
            # A release whose metadata is wanted is likely locked: learn its files' sizes
            # now, while resolution goes on, rather than all at the end. Fetching an
            # unadvertised wheel's metadata learns that wheel's size on the way.
            self.metadata_fetcher.sizes.probe(
                f for f in release.files if f is not file or not file.is_wheel or file.metadata
            )
        return future

    # --- speculation -------------------------------------------------------------------------

    def prefetch(self, requirements: Iterable[Requirement]) -> None:
        """Start fetching what resolving ``requirements`` will need."""
        if not self.speculate:
            return
        for requirement in requirements:
            self._want(requirement.name, requirement.specifier, frozenset(requirement.extras))

    def _want(self, name: str, specifier: SpecifierSet, extras: frozenset[str]) -> None:
        key = canonicalize_name(name)
        future = self._project_future(key)
        if extras:
            future.add_done_callback(lambda f: self._expand_future(f, specifier, extras))

    def _speculate(self, project: Project) -> None:
        self._expand(project, None, frozenset())

    def _expand_future(
        self, future: _Pending[Project], specifier: SpecifierSet, extras: frozenset[str]
    ) -> None:
        if not future.cancelled() and future.exception() is None:
            self._expand(future.result(), specifier, extras)

    def _likely(self, project: Project, specifier: SpecifierSet | None) -> Release | None:
        preferred = self.preferences.get(project.name)
        if preferred is not None:
            release = project.release(preferred)
            if release is not None and (specifier is None or specifier.contains(preferred)):
                return release
        first_pre = None
        for release in project.iter_releases():
            if release.yanked or (
                specifier is not None and not specifier.contains(release.version, prereleases=True)
            ):
                continue
            if not release.version.is_prerelease:
                return release
            first_pre = first_pre or release
        return first_pre

    def _expand(
        self, project: Project, specifier: SpecifierSet | None, extras: frozenset[str]
    ) -> None:
        if self.http.closed:
            return
        release = self._likely(project, specifier)
        if release is None:
            return
        key = (project.name, str(release.version), extras)
        with self._lock:
            if key in self._expanded:
                return
            self._expanded.add(key)
        future = self._metadata_future(release)
        future.add_done_callback(lambda f: self._follow(f, extras))

    def _follow(self, future: _Pending[CoreMetadata], extras: frozenset[str]) -> None:
        if future.cancelled() or future.exception() is not None or self.http.closed:
            return
        for requirement in future.result().requires_dist:
            marker = requirement.marker
            if marker is not None:
                key = (str(marker), extras)
                wanted = self._followed.get(key)
                if wanted is None:
                    wanted = any(
                        holds(marker, environment, extra)
                        for environment in self._environments
                        for extra in extras or {""}
                    )
                    self._followed[key] = wanted
                if not wanted:
                    continue
            self._want(requirement.name, requirement.specifier, frozenset(requirement.extras))


def _sha256(body: bytes) -> str:
    import hashlib

    return hashlib.sha256(body).hexdigest()


def _kept_tag_texts(
    cache: Cache, keys: Sequence[str], targets: Sequence[Target]
) -> dict[str, tuple[str, ...]]:
    """The tag lists of ``keys`` as text: from the cache (a pure function of the keys,
    ``packaging``'s version and the interpreter's marshal format), else built and kept."""
    import hashlib
    import marshal
    import sys

    import packaging

    stamp = f"{packaging.__version__}\n{sys.version_info[:2]}\n" + "\n".join(keys)
    name = hashlib.sha256(stamp.encode()).hexdigest()
    data = cache.get_blob("tag-lists", name)
    if data is not None:
        try:
            found = marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            found = None
        if _tag_texts_shape(found, keys):
            return found  # type: ignore[no-any-return]
    made: dict[str, tuple[str, ...]] = {}
    for target in targets:
        if target.tags_key and target.tags_key not in made:
            made[target.tags_key] = tag_texts(target)
    cache.put_blob("tag-lists", name, marshal.dumps(made))
    return made


def _tag_texts_shape(found: object, keys: Sequence[str]) -> bool:
    return (
        isinstance(found, dict)
        and sorted(found) == list(keys)
        and all(
            isinstance(texts, tuple) and all(type(t) is str for t in texts)
            for texts in found.values()
        )
    )
