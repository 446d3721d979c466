"""Marker verdicts, each worked out once per marker, environment and extra.

A universal lock asks the same markers about the same few dozen environments thousands of
times (every target reads the same metadata). :func:`holds` answers from memory after the
first time, and evaluates against an environment prepared once
(``packaging.markers.prepare_environment``) rather than rebuilding the default environment
for every call as ``Marker.evaluate`` does.

The memory is keyed by object identity: a marker and an environment asked about are kept
alive with their verdicts, and an environment must not be changed once asked about (the
targets' environments never are).
"""

from __future__ import annotations

import functools
import re
import threading
from typing import TYPE_CHECKING, Any

from packaging.utils import canonicalize_name

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from packaging.markers import Marker

__all__ = ["Environments", "holds", "names_read", "parsed_marker"]

#: (id(environment), extra) → id(marker) → verdict.
_VERDICTS: dict[tuple[int, str], dict[int, bool]] = {}
#: What the ids above name, kept alive so an id is never reused for another object.
_KEPT: dict[int, object] = {}
#: (marker text, the values it reads, extra) → verdict.
_SHARED: dict[tuple[str, tuple[str | None, ...], str], bool] = {}
#: id(marker) → (marker, (its text, the names it reads)).
_READS: dict[int, tuple[Marker, tuple[str, tuple[str, ...]]]] = {}
#: Every marker variable (PEP 508 and PEP 751's lock-file names).
_NAME = re.compile(
    r"\b(python_version|python_full_version|os_name|sys_platform|platform_release|"
    r"platform_system|platform_version|platform_machine|platform_python_implementation|"
    r"implementation_name|implementation_version|os\.name|sys\.platform|"
    r"platform\.version|platform\.machine|platform\.python_implementation|"
    r"python_implementation|extras|dependency_groups)\b"
)
#: (id(environment), extra) → the environment ready for ``evaluate_prepared``.
_PREPARED: dict[tuple[int, str], dict[str, Any]] = {}
_LOCK = threading.Lock()


def holds(marker: Marker, environment: Mapping[str, str], extra: str = "") -> bool:
    """Whether ``marker`` holds in ``environment`` with ``extra`` requested ("" for none)."""
    verdicts = _VERDICTS.get((id(environment), extra))
    if verdicts is None:
        with _LOCK:
            _KEPT[id(environment)] = environment
            verdicts = _VERDICTS.setdefault((id(environment), extra), {})
    verdict = verdicts.get(id(marker))
    if verdict is None:
        # Environments that agree on what the marker reads share its verdict (targets of a
        # universal lock differ in a value or two; most markers read one of those).
        text, names = _reads(marker)
        shared = (text, tuple(environment.get(n) for n in names), extra)
        verdict = _SHARED.get(shared)
        if verdict is None:
            verdict = _evaluate(marker, environment, extra)
            _SHARED[shared] = verdict
        with _LOCK:
            _KEPT[id(marker)] = marker
            verdicts[id(marker)] = verdict
    return verdict


def names_read(marker: Marker) -> tuple[str, ...]:
    """The environment names ``marker`` may read (sorted; ``extra`` is asked apart)."""
    return _reads(marker)[1]


def _reads(marker: Marker) -> tuple[str, tuple[str, ...]]:
    """The marker's text and the environment names it may read (a name inside a quoted
    value counts too: a finer key, never a wrong one)."""
    known = _READS.get(id(marker))
    if known is not None and known[0] is marker:
        return known[1]
    text = str(marker)
    made = (text, tuple(sorted(set(_NAME.findall(text)))))
    with _LOCK:
        _READS[id(marker)] = (marker, made)
    return made


def _evaluate(marker: Marker, environment: Mapping[str, str], extra: str) -> bool:
    prepared = _prepared(environment, extra)
    if prepared is None:  # packaging before 26.4: the plain (slower) evaluation
        return marker.evaluate({**environment, "extra": extra})
    return marker.evaluate_prepared(prepared)  # type: ignore[arg-type,unused-ignore]


def _prepared(environment: Mapping[str, str], extra: str) -> dict[str, Any] | None:
    key = (id(environment), extra)
    known = _PREPARED.get(key)
    if known is not None:
        return known
    try:
        from packaging.markers import prepare_environment  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return None
    made: dict[str, Any] = prepare_environment(
        {**environment, "extra": canonicalize_name(extra) if extra else ""}
    )
    with _LOCK:
        _KEPT[id(environment)] = environment
        _PREPARED[key] = made
    return made


class Environments:
    """A fixed list of marker environments, asked which of them a marker holds in: the
    answer is a mask, bit ``i`` for ``environments[i]``.

    Environments that agree on every value a marker reads form one class and share one
    evaluation; a marker is parsed only when its text meets a class it has not met.
    ``lock_file``: a lock's markers (``extras`` and ``dependency_groups`` are sets in the
    environments), else core metadata's, with ``extra`` requested."""

    def __init__(self, environments: Sequence[Mapping[str, Any]], *, lock_file: bool = False):
        self.items = list(environments)
        self.every = (1 << len(self.items)) - 1
        self.lock_file = lock_file
        self._classes: dict[tuple[str, ...], list[tuple[tuple[object, ...], int, int]]] = {}
        self._masks: dict[tuple[str, str], int] = {}

    def mask(self, marker: str | Marker | None, extra: str = "") -> int:
        """Where ``marker`` (its text or itself) holds; everywhere for None."""
        if marker is None:
            return self.every
        text = marker if isinstance(marker, str) else str(marker)
        known = self._masks.get((text, extra))
        if known is not None:
            return known
        names = tuple(sorted(set(_NAME.findall(text))))
        out = 0
        for values, bits, first in self._partition(names):
            key = (text, values, extra, self.lock_file)
            verdict = _MASKED.get(key)
            if verdict is None:
                verdict = self._evaluate(parsed_marker(text), self.items[first], extra)
                _MASKED[key] = verdict
            if verdict:
                out |= bits
        self._masks[(text, extra)] = out
        return out

    def _partition(self, names: tuple[str, ...]) -> list[tuple[tuple[object, ...], int, int]]:
        """The classes of environments by the values of ``names``: (values, their bits,
        the first environment of the class)."""
        known = self._classes.get(names)
        if known is None:
            classes: dict[tuple[object, ...], list[int]] = {}
            for bit, environment in enumerate(self.items):
                values = tuple(_hashed(environment.get(n)) for n in names)
                found = classes.setdefault(values, [0, bit])
                found[0] |= 1 << bit
            known = self._classes[names] = [(v, b, f) for v, (b, f) in classes.items()]
        return known

    def _evaluate(self, marker: Marker, environment: Mapping[str, Any], extra: str) -> bool:
        if self.lock_file:
            return marker.evaluate(environment, context="lock_file")
        return _evaluate(marker, environment, extra)


@functools.lru_cache(maxsize=8192)
def parsed_marker(text: str) -> Marker:
    """``Marker(text)``, parsed once per distinct text (markers repeat across releases:
    ``extra == "test"``); the object is shared, so it is never to be changed.
    """
    from packaging.markers import Marker

    return Marker(text)


def _hashed(value: object) -> object:
    return tuple(sorted(value)) if isinstance(value, set | frozenset) else value


#: (marker text, the values it reads, extra, lock-file context) → verdict.
_MASKED: dict[tuple[str, tuple[object, ...], str, bool], bool] = {}
