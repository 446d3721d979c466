"""Resolution: requirements → one version per project, by backtracking (``resolvelib``).

The provider asks a :class:`~tumbler.finder.Finder` for releases and metadata. Candidates
are ordered: the version an existing lock pins (a preference, not a constraint), then
newest first; pre-releases and yanked releases follow the standards (packaging's
specifier semantics, PEP 592). A project with extras is its own node (``name[extra]``)
depending on the plain project at the same version, as pip does.

When no solution exists, :class:`~tumbler.errors.ResolutionError` carries an explanation
a person can act on: each conflicting requirement with the chain of packages that led to
it, back to the project's own table, and why versions that exist were passed over.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import resolvelib
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from tumbler.errors import ResolutionError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence

    from tumbler.direct import DirectSource
    from tumbler.finder import Finder, Release
    from tumbler.metadata import CoreMetadata

__all__ = ["Candidate", "Req", "Resolution", "resolve"]

#: The identifier of the target interpreter: a release's Requires-Python is a dependency on it.
PYTHON = NormalizedName("<python>")
#: Pre-release policies (see :data:`tumbler.project.PRERELEASE_POLICIES`).
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
        """The resolver's view of ``requirement`` (its marker already evaluated)."""
        shown = Requirement(str(requirement))
        shown.marker = None
        return cls(
            name=canonicalize_name(requirement.name),
            extras=frozenset(canonicalize_name(e) for e in requirement.extras),
            specifier=requirement.specifier,
            origin=origin,
            url=requirement.url,
            text=str(shown),
        )

    @property
    def key(self) -> str:
        """The resolver identifier: ``name`` or ``name[a,b]``."""
        return _key(self.name, self.extras)


def _key(name: str, extras: frozenset[str]) -> str:
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


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


def _exact(specifier: SpecifierSet) -> bool:
    """Whether ``specifier`` pins one version (``==1.2``, ``===1.2``; not ``==1.*``)."""
    return any(s.operator in ("==", "===") and "*" not in s.version for s in specifier)


class _Provider(resolvelib.AbstractProvider):  # type: ignore[type-arg]
    def __init__(
        self,
        finder: Finder,
        *,
        prereleases: str,
        constraints: Mapping[NormalizedName, SpecifierSet],
        directs: Mapping[NormalizedName, DirectSource],
    ) -> None:
        self.finder = finder
        self.prereleases = prereleases
        self.constraints = constraints
        self.directs = directs
        self._satisfied: dict[tuple[int, Version], tuple[Req, bool]] = {}
        self.environment: dict[str, Any] = dict(finder.target.environment)
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

    def _allowed(self, release: Release, requirements: list[Req]) -> bool:
        for requirement in requirements:
            if not requirement.specifier.contains(release.version, prereleases=True):
                return False
        constraint = self.constraints.get(release.name)
        return constraint is None or constraint.contains(release.version, prereleases=True)

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
        pinned = any(_exact(r.specifier) for r in reqs)  # PEP 592: a yank yields to a pin
        asked_pre = any(r.specifier.prereleases for r in reqs)
        finals_only = self.prereleases != _ALLOW and not asked_pre
        preferred = self.finder.preferences.get(name)  # --upgrade left them out already

        def fits(release: Release) -> bool:
            return (
                release.version not in bad
                and (not release.yanked or pinned)
                and self._allowed(release, reqs)
            )

        def matches() -> Iterator[Candidate]:
            first = project.release(preferred) if preferred is not None else None
            if (
                first is not None
                and fits(first)
                and not (finals_only and first.version.is_prerelease)
            ):
                yield Candidate(name, first.version, extras, release=first)
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
                yield Candidate(name, release.version, extras, release=release)
            if not any_final and self.prereleases != _DISALLOW:
                for release in pre:
                    yield Candidate(name, release.version, extras, release=release)

        return matches  # type: ignore[return-value]

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
        metadata = self.metadata(candidate)
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
        environment = self.environment
        for requirement in metadata.requires_dist:
            marker = requirement.marker
            if marker is not None:
                wanted = False
                for extra in candidate.extras or {""}:
                    environment["extra"] = extra
                    if marker.evaluate(environment):
                        wanted = True
                        break
                if not wanted:
                    continue
            elif candidate.extras:
                continue  # the plain node carries the unconditional dependencies
            req = Req.of(requirement)
            out.append(req)
            self.required_by.setdefault(req.name, (req, candidate))
        self.dependencies[candidate] = tuple(out)
        self.finder.prefetch(
            Requirement(r.text)
            for r in out
            if r.url is None and r.name not in self.directs and r.name != PYTHON
        )
        return out


def _describe_requirement(provider: _Provider, requirement: Req, parent: Candidate | None) -> str:
    chain = [f"{requirement.text or requirement.name}"]
    seen: set[NormalizedName] = set()
    while parent is not None and parent.name not in seen:
        seen.add(parent.name)
        chain.append(f"{parent.name} {parent.version}")
        asked = provider.required_by.get(parent.name)
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
        indexes = ", ".join(provider.finder.indexes.for_package(name))
        return f"no project named {name!r} on {_redacted(indexes)}"
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
    from tumbler.net import redact

    return ", ".join(redact(u.strip()) for u in text.split(","))


def _explain(provider: _Provider, error: resolvelib.ResolutionImpossible) -> str:  # type: ignore[type-arg]
    by_name: dict[NormalizedName, list[str]] = defaultdict(list)
    for cause in error.causes:
        text = _describe_requirement(provider, cause.requirement, cause.parent)
        if text not in by_name[cause.requirement.name]:
            by_name[cause.requirement.name].append(text)
    lines = ["cannot find versions that satisfy every requirement:"]
    for name in sorted(by_name):
        lines.append(f"  {name}: no version matches all of")
        lines.extend(f"    {text}" for text in by_name[name])
        skipped = _skipped(provider, name)
        if skipped:
            lines.append(f"    ({skipped})")
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
) -> Resolution:
    """Resolve ``roots`` (markers already evaluated) for the finder's target."""
    provider = _Provider(
        finder,
        prereleases=prereleases,
        constraints=constraints or {},
        directs=directs or {},
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
    return Resolution(pins=pins, edges=edges, chosen=frozenset(chosen))


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
    return {canonicalize_name(k.split("[")[0]) for k in seen}
