"""Resolution: requirements → one version per project, by backtracking (``resolvelib``).

The provider asks a :class:`~tumbler.index.finder.Finder` for releases and metadata. Candidates
are ordered: the version an existing lock pins (a preference, not a constraint), then
newest first; pre-releases and yanked releases follow the standards (packaging's
specifier semantics, PEP 592). A project with extras is its own node (``name[extra]``)
depending on the plain project at the same version, as pip does.

When no solution exists, :class:`~tumbler.errors.ResolutionError` carries an explanation
a person can act on: each conflicting requirement with the chain of packages that led to
it, back to the project's own table, and why versions that exist were passed over.
"""

from __future__ import annotations

import copy
from collections import defaultdict, deque
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import resolvelib
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from tumbler.env.markers import holds, names_read
from tumbler.errors import ResolutionError, TumblerError, UnsupportedTargetError
from tumbler.index.finder import NO_WHEEL, ONLY_BINARY

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

    from tumbler.index.direct import DirectSource
    from tumbler.index.finder import Finder, Project, Release
    from tumbler.index.metadata import CoreMetadata

__all__ = [
    "Candidate",
    "Req",
    "Resolution",
    "project_of",
    "replay",
    "requirements_of",
    "resolve",
    "settle",
]

#: The identifier of the target interpreter: a release's Requires-Python is a dependency on it.
PYTHON = NormalizedName("<python>")
#: Pre-release policies (see :data:`tumbler.project.pyproject.PRERELEASE_POLICIES`).
_ALLOW, _DISALLOW = "allow", "disallow"


@dataclass(frozen=True, slots=True)
class Req:
    """A requirement in the resolver: a PEP 508 requirement plus where it came from."""

    name: NormalizedName
    extras: frozenset[NormalizedName]
    specifier: SpecifierSet
    #: ``"[project.dependencies]"``, ``"extra 'viz'"``, ``"group 'dev'"``, or None for a
    #: dependency of another package.
    origin: str | None = None
    url: str | None = None
    text: str = ""

    @classmethod
    def of(cls, requirement: Requirement, origin: str | None = None) -> Req:
        """The resolver's view of ``requirement`` (its marker already evaluated).

        Remembered per requirement object: the metadata a universal lock's targets share
        yields the same requirements for each of them."""
        key = (id(requirement), origin)
        known = _MADE.get(key)
        if known is not None and known[0] is requirement:
            return known[1]
        shown = copy.copy(requirement)  # without its marker: no need to parse it again
        shown.marker = None
        made = cls(
            name=canonicalize_name(requirement.name),
            extras=frozenset(canonicalize_name(e) for e in requirement.extras),
            specifier=requirement.specifier,
            origin=origin,
            url=requirement.url,
            text=str(shown),
        )
        _MADE[key] = (requirement, made)  # the requirement is kept: its id stays its own
        return made

    @property
    def key(self) -> str:
        """The resolver identifier: ``name`` or ``name[a,b]``."""
        return _key(self.name, self.extras)


#: ``Req.of`` results by requirement object (and origin), with the object kept alive.
_MADE: dict[tuple[int, str | None], tuple[Requirement, Req]] = {}


def _key(name: str, extras: frozenset[str]) -> str:
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


def project_of(key: str) -> NormalizedName:
    """The project of a resolver identifier (``name`` or ``name[a,b]``: the name in it is
    normalized already, see :func:`_key`)."""
    return NormalizedName(key.partition("[")[0])


@dataclass(frozen=True, slots=True)
class Candidate:
    """One version of a project (with extras, for an extras node)."""

    name: NormalizedName
    version: Version
    extras: frozenset[NormalizedName] = frozenset()
    release: Release | None = field(default=None, compare=False)
    direct: DirectSource | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        """The resolver identifier of this candidate."""
        return _key(self.name, self.extras)

    def __str__(self) -> str:
        return f"{self.key} {self.version}"


@dataclass(frozen=True, slots=True)
class Resolution:
    """The outcome: a candidate per project and the dependency edges among them."""

    #: Project → its chosen (plain) candidate.
    pins: Mapping[NormalizedName, Candidate]
    #: Identifier (``name`` or ``name[extras]``) → the identifiers its dependencies resolve to.
    edges: Mapping[str, tuple[str, ...]]
    #: Identifiers chosen, including extras nodes.
    chosen: frozenset[str]
    #: Identifier → its candidate (extras nodes too).
    candidates: Mapping[str, Candidate] = field(default_factory=dict)
    #: Identifier → what its candidate requires on the target (markers evaluated).
    requirements: Mapping[str, tuple[Req, ...]] = field(default_factory=dict)
    #: What the walk that found it started from (settled resolutions only).
    roots: tuple[Req, ...] = ()


def _exact(specifier: SpecifierSet) -> bool:
    """Whether ``specifier`` pins one version (``==1.2``, ``===1.2``; not ``==1.*``)."""
    return any(s.operator in ("==", "===") and "*" not in s.version for s in specifier)


def _pinned_by_user(reqs: Iterable[Req]) -> bool:
    """Whether the project's own requirements pin this exact version: PEP 592 lets a
    yanked release be taken then (as pip and uv read it), never for a dependency's pin."""
    return any(r.origin is not None and _exact(r.specifier) for r in reqs)


class _Provider(resolvelib.AbstractProvider):  # type: ignore[type-arg]
    def __init__(
        self,
        finder: Finder,
        *,
        prereleases: str,
        constraints: Mapping[NormalizedName, SpecifierSet],
        directs: Mapping[NormalizedName, DirectSource],
        fail_fast: bool = False,
    ) -> None:
        self.finder = finder
        self.fail_fast = fail_fast
        self.prereleases = prereleases
        self.constraints = constraints
        self.directs = directs
        self._satisfied: dict[tuple[int, Version], tuple[Req, bool]] = {}
        self.environment: Mapping[str, str] = finder.target.environment
        self.dependencies: dict[Candidate, tuple[Req, ...]] = {}
        #: Project → the first requirement that asked for it and the candidate that asked.
        self.required_by: dict[NormalizedName, tuple[Req, Candidate | None]] = {}

    def identify(self, requirement_or_candidate: Req | Candidate) -> str:
        return requirement_or_candidate.key

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> Any:
        infos = list(information[identifier])
        pinned = any(_exact(info.requirement.specifier) for info in infos)
        direct = any(info.parent is None for info in infos)
        causes = {c.requirement.name for c in backtrack_causes}
        return (
            identifier.split("[", maxsplit=1)[0] not in causes,
            not pinned,
            not direct,
            identifier,
        )

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Req]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> list[Candidate]:
        reqs = list(requirements[identifier])
        name = canonicalize_name(identifier.split("[", maxsplit=1)[0])
        extras = frozenset(e for r in reqs for e in r.extras)
        bad = {c.version for c in incompatibilities[identifier]}
        if name == PYTHON:
            python = Version(self.environment["python_full_version"])
            candidate = Candidate(PYTHON, python)
            return [candidate] if all(self.is_satisfied_by(r, candidate) for r in reqs) else []
        direct = self.directs.get(name)
        if direct is not None:
            if direct.version in bad:
                return []
            candidate = Candidate(name, direct.version, extras, direct=direct)
            return [candidate] if all(self.is_satisfied_by(r, candidate) for r in reqs) else []
        project = self.finder.project(name)
        pinned = _pinned_by_user(reqs)
        asked_pre = any(r.specifier.prereleases for r in reqs)
        finals_only = self.prereleases != _ALLOW and not asked_pre
        preferred = self.finder.preferences.get(name)  # --upgrade left them out already

        constraint = self.constraints.get(name)

        def fits(release: Release) -> bool:
            return (
                release.version not in bad
                and (not release.yanked or pinned)
                and _admits(release, reqs, constraint)
            )

        def matches() -> Iterator[Candidate]:
            yielded = False
            for release in _in_order(
                project, preferred, fits, finals_only=finals_only, prereleases=self.prereleases
            ):
                yielded = True
                yield Candidate(name, release.version, extras, release=release)
            if not yielded and self.fail_fast and project.found:
                self._check_target(project, reqs)

        return matches  # type: ignore[return-value]

    def _check_target(self, project: Project, reqs: list[Req]) -> None:
        _check_target(project, reqs, self.required_by)

    def is_satisfied_by(self, requirement: Req, candidate: Candidate) -> bool:
        if requirement.url is not None and candidate.direct is None:
            return False
        if not requirement.specifier:
            return True
        # resolvelib re-checks every pin against every criterion after each pin: remember
        # answers (the entry keeps ``requirement`` alive, so its id is not reused).
        key = (id(requirement), candidate.version)
        known = self._satisfied.get(key)
        if known is None:
            known = (
                requirement,
                requirement.specifier.contains(candidate.version, prereleases=True),
            )
            self._satisfied[key] = known
        return known[1]

    def metadata(self, candidate: Candidate) -> CoreMetadata:
        if candidate.direct is not None:
            return candidate.direct.metadata
        assert candidate.release is not None
        return self.finder.metadata(candidate.release)

    def get_dependencies(self, candidate: Candidate) -> list[Req]:
        cached = self.dependencies.get(candidate)
        if cached is not None:
            return list(cached)
        if candidate.name == PYTHON:
            return []
        out = list(requirements_of(candidate, self.metadata(candidate), self.environment))
        for req in out:
            if req.name not in (PYTHON, candidate.name):
                self.required_by.setdefault(req.name, (req, candidate))
        self.dependencies[candidate] = tuple(out)
        self.finder.prefetch(
            Requirement(r.text)
            for r in out
            if r.url is None and r.name not in self.directs and r.name != PYTHON
        )
        return out


def requirements_of(
    candidate: Candidate, metadata: CoreMetadata, environment: Mapping[str, str]
) -> tuple[Req, ...]:
    """What ``candidate`` requires where the marker values are ``environment``: its
    Requires-Python (plain node), the plain node at the same version (extras node), and
    the Requires-Dist entries whose markers hold (for one of its extras, if any).

    Remembered per candidate and the values its markers read: a universal lock's targets
    mostly agree on them (a marker on the Python version reads no platform)."""
    names = _names_read(metadata)
    key = (
        id(metadata),
        candidate.version,
        candidate.extras,
        tuple(environment.get(n) for n in names),
    )
    known = _REQUIRES.get(key)
    if known is not None and known[0] is metadata:
        return known[1]
    made = _requirements_of(candidate, metadata, environment)
    _REQUIRES[key] = (metadata, made)  # the metadata is kept: its id stays its own
    return made


#: requirements_of's answers, by (id(metadata), version, extras, the values read).
_REQUIRES: dict[
    tuple[int, Version, frozenset[NormalizedName], tuple[str | None, ...]],
    tuple[CoreMetadata, tuple[Req, ...]],
] = {}
_NAMES: dict[int, tuple[CoreMetadata, tuple[str, ...]]] = {}


def _names_read(metadata: CoreMetadata) -> tuple[str, ...]:
    """The environment names any Requires-Dist marker of ``metadata`` may read."""
    known = _NAMES.get(id(metadata))
    if known is not None and known[0] is metadata:
        return known[1]
    names = sorted({n for r in metadata.requires_dist if r.marker for n in names_read(r.marker)})
    _NAMES[id(metadata)] = (metadata, tuple(names))
    return tuple(names)


def _requirements_of(
    candidate: Candidate, metadata: CoreMetadata, environment: Mapping[str, str]
) -> tuple[Req, ...]:
    """What ``candidate`` requires where the marker values are ``environment``: its
    Requires-Python (plain node), the plain node at the same version (extras node), and
    the Requires-Dist entries whose markers hold (for one of its extras, if any)."""
    out: list[Req] = []
    if metadata.requires_python is not None and not candidate.extras:
        out.append(
            Req(
                PYTHON,
                frozenset(),
                metadata.requires_python,
                text=f"Python{metadata.requires_python}",
            )
        )
    if candidate.extras:
        exact = SpecifierSet(f"=={candidate.version}")
        out.append(
            Req(
                candidate.name,
                frozenset(),
                exact,
                text=f"{candidate.name}=={candidate.version}",
            )
        )
    for requirement in metadata.requires_dist:
        marker = requirement.marker
        if marker is not None:
            if not any(holds(marker, environment, e) for e in candidate.extras or ("",)):
                continue
        elif candidate.extras:
            continue  # the plain node carries the unconditional dependencies
        out.append(Req.of(requirement))
    return tuple(out)


def _check_target(
    project: Project,
    reqs: Sequence[Req],
    required_by: Mapping[NormalizedName, tuple[Req, Candidate | None]],
) -> None:
    """Raise :class:`UnsupportedTargetError` when no release of ``project`` has a file the
    target can use for platform or Python reasons: backtracking through every version of
    whatever needs it (fetching, even building, each) cannot help."""
    if next(project.iter_releases(), None) is not None:
        return
    reasons = project.skipped()
    if not reasons or any(
        r not in (NO_WHEEL, ONLY_BINARY) and not r.startswith("Requires-Python") for r in reasons
    ):
        return
    parent = required_by.get(project.name, (reqs[0], None))[1]
    chain = _describe_requirement(required_by, reqs[0], parent)
    why = "; ".join(sorted(reasons))
    raise UnsupportedTargetError(f"{project.name} has no file for it ({why}): {chain}")


def _describe_requirement(
    required_by: Mapping[NormalizedName, tuple[Req, Candidate | None]],
    requirement: Req,
    parent: Candidate | None,
) -> str:
    chain = [f"{requirement.text or requirement.name}"]
    seen: set[NormalizedName] = set()
    while parent is not None and parent.name not in seen:
        seen.add(parent.name)
        chain.append(f"{parent.name} {parent.version}")
        asked = required_by.get(parent.name)
        if asked is None:
            break
        requirement, parent = asked
        if parent is None:
            chain.append(f"{requirement.text} in {requirement.origin or 'the project'}")
    if len(chain) == 1 and requirement.origin:
        return f"{chain[0]} (from {requirement.origin})"
    return " ← ".join(chain)


def _skipped(provider: _Provider, name: NormalizedName) -> str:
    if name == PYTHON:
        return f"the target's Python is {provider.environment['python_full_version']}"
    if name in provider.directs:
        return f"the direct reference gives version {provider.directs[name].version}"
    try:
        project = provider.finder.project(name)
    except Exception:
        return ""
    if not project.found:
        return f"no project named {name!r} on {_where(provider.finder, name)}"
    parts = []
    shown = [str(r.version) for r in project.releases[:8]]
    more = len(project.releases) - len(shown)
    if shown:
        parts.append(
            "versions available: " + ", ".join(shown) + (f" and {more} older" if more > 0 else "")
        )
    yanked = [str(r.version) for r in project.releases if r.yanked]
    if yanked:
        parts.append("yanked: " + ", ".join(yanked[:5]))
    for reason, versions in sorted(project.skipped().items()):
        listed = ", ".join(str(v) for v in versions[:5]) + (" …" if len(versions) > 5 else "")
        parts.append(f"skipped ({reason}): {listed}")
    return "; ".join(parts)


def _redacted(text: str) -> str:
    from tumbler.net.urls import redact

    return ", ".join(redact(u.strip()) for u in text.split(","))


def _where(finder: Finder, name: NormalizedName) -> str:
    """The indexes searched for ``name`` as a message may name them: those of this
    machine's pip or uv configuration are left out."""
    shown = finder.indexes.shown_for(name)
    return _redacted(", ".join(shown)) if shown else "the configured indexes"


def _missing(provider: _Provider, names: Iterable[NormalizedName]) -> list[NormalizedName]:
    """The projects among ``names`` no index has (a typo, a private project)."""
    out = []
    for name in names:
        if name == PYTHON or name in provider.directs:
            continue
        try:
            found = provider.finder.project(name).found
        except TumblerError:  # an index that fails here is not the question
            continue
        if not found:
            out.append(name)
    return out


def _typos(name: str) -> list[NormalizedName]:
    """Valid names one slip away from ``name``: two neighbouring letters swapped, one
    left out (``x-y`` gives ``-xy``, which is no name: left out)."""
    from packaging.utils import InvalidName

    swapped = [name[:i] + name[i + 1] + name[i] + name[i + 2 :] for i in range(len(name) - 1)]
    dropped = [name[:i] + name[i + 1 :] for i in range(len(name))]
    out: dict[NormalizedName, None] = {}
    for typo in (*swapped, *dropped):
        try:
            normal = canonicalize_name(typo, validate=True)
        except InvalidName:
            continue
        if normal != name:
            out[normal] = None
    return list(out)


def close_names(finder: Finder, name: NormalizedName, seen: Iterable[str] = ()) -> list[str]:
    """Projects that exist with a name close to ``name``: those this run met, and those one
    slip away that the index has (a few page requests, asked together)."""
    import difflib

    close = difflib.get_close_matches(name, sorted(set(seen) - {name}), n=3, cutoff=0.8)
    candidates = _typos(name)
    finder.prefetch(Requirement(n) for n in candidates)
    for candidate in candidates:
        if candidate not in close and finder.project(candidate).found:
            close.append(candidate)
    return close[:3]


def _not_found(
    provider: _Provider,
    missing: Sequence[NormalizedName],
    by_name: Mapping[NormalizedName, list[str]],
) -> str:
    """The error for projects no index has: each named with who asks for it and, when
    cheap to find, the names meant."""
    seen = [*provider.finder.preferences, *provider.required_by]
    lines = []
    for name in missing:
        asked = "; ".join(by_name[name])
        line = f"no project named {name!r} on {_where(provider.finder, name)}: {asked}"
        try:
            close = close_names(provider.finder, name, seen)
        except TumblerError:  # suggestions are a courtesy; the error stands
            close = []
        if close:
            line += "\n  hint: did you mean " + " or ".join(repr(n) for n in close) + "?"
        lines.append(line)
    return "\n".join(lines)


def _explain(provider: _Provider, error: resolvelib.ResolutionImpossible) -> str:  # type: ignore[type-arg]
    by_name: dict[NormalizedName, list[str]] = defaultdict(list)
    for cause in error.causes:
        text = _describe_requirement(provider.required_by, cause.requirement, cause.parent)
        if text not in by_name[cause.requirement.name]:
            by_name[cause.requirement.name].append(text)
    missing = _missing(provider, sorted(by_name))
    if missing:
        return _not_found(provider, missing, by_name)
    conflict = any(len(texts) > 1 for texts in by_name.values())
    lines = [
        "cannot find versions that satisfy every requirement:"
        if conflict
        else "no version matches what is asked:"
    ]
    for name in sorted(by_name):
        if len(by_name[name]) > 1:
            lines.append(f"  {name}: no version matches all of")
            lines.extend(f"    {text}" for text in by_name[name])
        else:
            lines.append(f"  {name}: no version matches {by_name[name][0]}")
        skipped = _skipped(provider, name)
        if skipped:
            lines.append(f"    ({skipped})")
    if conflict:
        lines.append(
            "  hint: relax one of these requirements, or add a version of the conflicting "
            "project to your own requirements that fits them all"
        )
    return "\n".join(lines)


def resolve(
    finder: Finder,
    roots: Sequence[Req],
    *,
    prereleases: str = "if-necessary",
    constraints: Mapping[NormalizedName, SpecifierSet] | None = None,
    directs: Mapping[NormalizedName, DirectSource] | None = None,
    fail_fast: bool = False,
) -> Resolution:
    """Resolve ``roots`` (markers already evaluated) for the finder's target.

    With ``fail_fast``, a needed project with no file at all for the target raises
    :class:`~tumbler.errors.UnsupportedTargetError` at once (a universal lock's target).
    """
    provider = _Provider(
        finder,
        prereleases=prereleases,
        constraints=constraints or {},
        directs=directs or {},
        fail_fast=fail_fast,
    )
    for root in roots:
        provider.required_by.setdefault(root.name, (root, None))
    finder.prefetch(Requirement(r.text) for r in roots if r.url is None)
    resolver = resolvelib.Resolver(provider, resolvelib.BaseReporter())
    try:
        result = resolver.resolve(roots, max_rounds=20000)
    except resolvelib.ResolutionImpossible as error:
        raise ResolutionError(_explain(provider, error)) from None
    except resolvelib.ResolutionTooDeep:
        raise ResolutionError(
            "resolution gave up after too many backtracking rounds; pin some of the "
            "project's dependencies more tightly"
        ) from None
    chosen: dict[str, Candidate] = dict(result.mapping)
    chosen.pop(PYTHON, None)
    pins = {c.name: c for c in chosen.values() if not c.extras}
    edges: dict[str, tuple[str, ...]] = {}
    for key, candidate in chosen.items():
        deps = provider.dependencies.get(candidate, ())
        edges[key] = tuple(sorted({d.key for d in deps if d.key in chosen}))
    return Resolution(
        pins=pins,
        edges=edges,
        chosen=frozenset(chosen),
        candidates=chosen,
        requirements={k: provider.dependencies.get(c, ()) for k, c in chosen.items()},
    )


#: How many times :func:`settle` walks again after learning from a conflict.
_RELEARN = 8


def settle(
    finder: Finder,
    roots: Sequence[Req],
    *,
    prereleases: str = "if-necessary",
    constraints: Mapping[NormalizedName, SpecifierSet] | None = None,
    directs: Mapping[NormalizedName, DirectSource] | None = None,
    fail_fast: bool = False,
) -> Resolution | None:
    """The resolution :func:`resolve` would find, when a few greedy walks find it; else
    None (resolve then). With ``fail_fast``, a needed project with no file at all for the
    target raises :class:`~tumbler.errors.UnsupportedTargetError` here, as
    :func:`resolve` would after searching.

    Walks the graph from ``roots``, taking for each project the version the finder
    prefers (another target's choice, or the old lock's) when it fits what is asked of it
    so far, else the newest that fits, as :func:`resolve` orders candidates. At a conflict
    (a later requirement the version taken does not meet: ``websockets<17`` after 17.1 was
    taken) it walks again from the start with that requirement known in advance, at most
    :data:`_RELEARN` times. The outcome is kept only when every requirement learned this
    way is one the final walk asks too: each project then has the newest version meeting
    everything asked of it in the final graph, which is where resolvelib's search ends
    (packse's scenarios pass unchanged). Most targets of a universal lock settle in one
    walk; a fresh one-target lock in a few, instead of a backtracking search.
    """
    learned: dict[str, list[Req]] = defaultdict(list)
    for _ in range(_RELEARN + 1):
        walked = _walk(
            finder,
            roots,
            learned,
            prereleases=prereleases,
            constraints=constraints or {},
            directs=directs or {},
            fail_fast=fail_fast,
        )
        if walked is None:
            return None
        if isinstance(walked, Resolution):
            if learned:  # not one greedy walk: no other target may retrace it
                walked = replace(walked, roots=())
            return walked if _all_asked(learned, walked) else None
        key, requirement = walked
        if requirement in learned[key]:
            return None  # learning it again would walk the same way
        learned[key].append(requirement)
    return None


def _all_asked(learned: Mapping[str, list[Req]], resolution: Resolution) -> bool:
    """Whether every learned requirement is asked in ``resolution`` too."""
    asked: dict[str, set[Req]] = defaultdict(set)
    for needs in resolution.requirements.values():
        for need in needs:
            asked[need.key].add(need)
    return all(r in asked[key] or r.origin is not None for key, rs in learned.items() for r in rs)


def _walk(
    finder: Finder,
    roots: Sequence[Req],
    learned: Mapping[str, list[Req]],
    *,
    prereleases: str,
    constraints: Mapping[NormalizedName, SpecifierSet],
    directs: Mapping[NormalizedName, DirectSource],
    fail_fast: bool,
) -> Resolution | tuple[str, Req] | None:
    """One greedy walk of :func:`settle`: the resolution, or the conflict met (the key
    and the requirement the version taken does not meet), or None (it cannot settle)."""
    environment = finder.target.environment
    python = Version(environment["python_full_version"])
    asked: dict[str, list[Req]] = defaultdict(list)
    for key, requirements_learned in learned.items():
        asked[key].extend(requirements_learned)
    chosen: dict[str, Candidate] = {}
    requirements: dict[str, tuple[Req, ...]] = {}
    queue = deque(roots)
    required_by: dict[NormalizedName, tuple[Req, Candidate | None]] = {}
    for root in roots:
        required_by.setdefault(root.name, (root, None))
    while queue:
        requirement = queue.popleft()
        key = requirement.key
        asked[key].append(requirement)
        taken = chosen.get(key)
        if taken is not None:
            if not _fits(requirement, taken):
                return key, requirement
            continue
        taken = _take(
            finder,
            requirement.name,
            asked[key],
            prereleases=prereleases,
            constraints=constraints,
            directs=directs,
        )
        if taken is None:
            if fail_fast and requirement.name not in directs:
                project = finder.project(requirement.name)
                if project.found:
                    _check_target(project, asked[key], required_by)
            return None
        if taken.direct is not None:
            metadata = taken.direct.metadata
        else:
            assert taken.release is not None
            metadata = finder.metadata(taken.release)
        needs = requirements_of(taken, metadata, environment)
        for need in needs:
            if need.name == PYTHON:
                if not need.specifier.contains(python, prereleases=True):
                    return None
            else:
                if need.name != taken.name:
                    required_by.setdefault(need.name, (need, taken))
                queue.append(need)
        chosen[key] = taken
        requirements[key] = needs
    return Resolution(
        pins={c.name: c for c in chosen.values() if not c.extras},
        edges={
            k: tuple(sorted({d.key for d in needs if d.key in chosen}))
            for k, needs in requirements.items()
        },
        chosen=frozenset(chosen),
        candidates=chosen,
        requirements=requirements,
        roots=tuple(roots),
    )


def replay(
    finder: Finder, roots: Sequence[Req], done: Resolution, source: Finder
) -> Resolution | None:
    """``done`` (another target's resolution) for the finder's target, when :func:`settle`
    would walk to exactly it there; else None (walk then).

    It would when the walk asks nothing whose answer differs: the same ``roots`` (their
    markers evaluated alike) and, for each chosen node, a usable release of its version
    (not yanked, whose files the target can use) with the same requirements (their
    markers hold alike) and a Requires-Python the target's Python meets. Each greedy step
    then takes what ``done`` took: the preferred version, which fits everything asked
    (it did in ``done``); or, where ``done`` took another, the same one, when the
    preferred version and every newer one look alike to both targets (usable or not,
    yanked or not; ``source`` is the finder ``done`` was walked with). A pre-release is
    retraced only where every requirement on it asks for pre-releases. So the walk
    retraces ``done``'s graph, and only the releases, seen by this target, are its own.
    A universal lock's targets mostly differ in nothing the graph reads."""
    if tuple(roots) != done.roots:
        return None
    environment = finder.target.environment
    python = Version(environment["python_full_version"])
    preferences = finder.preferences
    candidates: dict[str, Candidate] = {}
    for key, old in done.candidates.items():
        needs = done.requirements[key]
        if old.direct is not None:
            candidate, metadata = old, old.direct.metadata
        else:
            if old.version.is_prerelease and not _asks_prereleases(done, key):
                return None
            preferred = preferences.get(old.name)
            project = finder.project(old.name)
            if preferred != old.version and not _passed_alike(
                project, source.project(old.name), preferred, old.version
            ):
                return None
            release = project.release(old.version)
            if release is None or release.yanked:
                return None
            candidate = Candidate(old.name, old.version, old.extras, release=release)
            metadata = finder.metadata(release)
        seen = requirements_of(candidate, metadata, environment)
        if seen is not needs and seen != needs:
            return None
        if any(
            n.name == PYTHON and not n.specifier.contains(python, prereleases=True) for n in needs
        ):
            return None
        candidates[key] = candidate
    return Resolution(
        pins={c.name: c for c in candidates.values() if not c.extras},
        edges=done.edges,
        chosen=done.chosen,
        candidates=candidates,
        requirements=done.requirements,
        roots=done.roots,
    )


def _asks_prereleases(done: Resolution, key: str) -> bool:
    """Whether every requirement on ``key`` in ``done``'s graph admits pre-releases by its
    own specifier (``==0.59b0``): a greedy step then treats the pre-release it took like
    a final release, whichever of them came first."""
    asked = [r for r in done.roots if r.key == key]
    asked += [n for needs in done.requirements.values() for n in needs if n.key == key]
    return bool(asked) and all(r.specifier.prereleases for r in asked)


#: How many newer releases :func:`replay` compares before it walks instead.
_PASSED = 16


def _passed_alike(
    mine: Project, theirs: Project, preferred: Version | None, taken: Version
) -> bool:
    """Whether the releases a greedy step tries before ``taken`` (the preferred one, every
    newer one) look the same to both targets, as usable or not and as yanked or not."""
    versions = [] if preferred is None else [preferred]
    for version, _ in mine.listing.versions:
        if version == taken:
            break
        versions.append(version)
        if len(versions) > _PASSED:
            return False
    for version in versions:
        a, b = mine.release(version), theirs.release(version)
        if (a is None) != (b is None) or (a is not None and b is not None and a.yanked != b.yanked):
            return False
    return True


def _fits(requirement: Req, candidate: Candidate) -> bool:
    if requirement.url is not None and candidate.direct is None:
        return False
    return requirement.specifier.contains(candidate.version, prereleases=True)


def _take(
    finder: Finder,
    name: NormalizedName,
    asked: list[Req],
    *,
    prereleases: str,
    constraints: Mapping[NormalizedName, SpecifierSet],
    directs: Mapping[NormalizedName, DirectSource],
) -> Candidate | None:
    """The first candidate ``resolve`` would try for ``name`` given ``asked``, if it fits."""
    extras = frozenset(e for r in asked for e in r.extras)
    direct = directs.get(name)
    if direct is not None:
        candidate = Candidate(name, direct.version, extras, direct=direct)
        return candidate if all(_fits(r, candidate) for r in asked) else None
    if any(r.url is not None for r in asked):
        return None  # a URL asked for a project that is not a direct reference
    pinned = _pinned_by_user(asked)
    finals_only = prereleases != _ALLOW and not any(r.specifier.prereleases for r in asked)
    constraint = constraints.get(name)

    def fits(release: Release) -> bool:
        return (not release.yanked or pinned) and _admits(release, asked, constraint)

    project = finder.project(name)
    preferred = finder.preferences.get(name)
    ordered = _in_order(project, preferred, fits, finals_only=finals_only, prereleases=prereleases)
    release = next(ordered, None)
    return None if release is None else Candidate(name, release.version, extras, release=release)


def _admits(release: Release, asked: Iterable[Req], constraint: SpecifierSet | None) -> bool:
    """Whether ``release``'s version meets every requirement and the project's constraint."""
    version = release.version
    return all(r.specifier.contains(version, prereleases=True) for r in asked) and (
        constraint is None or constraint.contains(version, prereleases=True)
    )


def _in_order(
    project: Project,
    preferred: Version | None,
    fits: Callable[[Release], bool],
    *,
    finals_only: bool,
    prereleases: str,
) -> Iterator[Release]:
    """The releases of ``project`` that fit, in the order resolution tries them (both
    :func:`resolve` and :func:`settle`): the preferred version first, then newest first;
    pre-releases when ``finals_only`` only if no final release fits (and they are allowed).
    """
    first = project.release(preferred) if preferred is not None else None
    if first is not None and fits(first) and not (finals_only and first.version.is_prerelease):
        yield first
    else:
        first = None
    any_final = first is not None
    pre: list[Release] = []
    for release in project.iter_releases():
        if release is first or not fits(release):
            continue
        if finals_only and release.version.is_prerelease:
            pre.append(release)
            continue
        any_final = True
        yield release
    if not any_final and prereleases != _DISALLOW:
        yield from pre


def roots_reaching(resolution: Resolution, roots: Iterable[Req]) -> set[NormalizedName]:
    """The projects reachable from ``roots`` in the resolved graph."""
    seen: set[str] = set()
    stack = [r.key for r in roots if r.key in resolution.chosen]
    while stack:
        key = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        stack.extend(resolution.edges.get(key, ()))
    return {project_of(k) for k in seen}
