"""Read an import package's typed public surface from its source text; nothing is imported
or run.

Input: the modules of one import package as ``dotted name → (source bytes, is_stub)``.
Output (:func:`read_surface`): one :class:`Symbol` per public name (module, class, function,
method, attribute, constant, type alias) with a normalised signature, the capability tokens
the surface uses, and what could not be read (:class:`Skip`), each with a reason.

The rules are those of ``surface.md``: ``.pyi`` before ``.py``; names starting with ``_`` are
private, except a class's dunder methods (``__init__`` is the constructor's signature); a
literal ``__all__`` decides a module's exports; re-exports (``from x import y as y``, names in
``__all__``, star imports of the package's own modules) count; annotations are normalised
(``typing.List[int]`` is ``list[int]``, ``Optional[X]`` is ``X | None``, unions sorted) and
default values are reduced to "has a default".
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

__all__ = ["Skip", "Surface", "Symbol", "is_test_module", "read_surface", "strip_bodies"]


@dataclass(frozen=True, slots=True, order=True)
class Symbol:
    """One public name: ``httpx.get function(url: URL | str, *, params: ... = ...) -> Response``."""

    name: str
    kind: str
    signature: str = ""

    @property
    def line(self) -> str:
        """The symbol's line in the canonical surface text."""
        return f"{self.name} {self.kind}{self.signature}"


@dataclass(frozen=True, slots=True, order=True)
class Skip:
    """Something that could not be read, and why; never part of the digest."""

    item: str
    reason: str


@dataclass(frozen=True, slots=True)
class Surface:
    """What :func:`read_surface` found in one import package."""

    symbols: tuple[Symbol, ...]
    capabilities: tuple[str, ...]
    skipped: tuple[Skip, ...]


# --- names -----------------------------------------------------------------------------------

_TYPING = ("typing_extensions.", "collections.abc.", "typing.")
_RENAMED = {
    "typing.List": "list",
    "typing.Dict": "dict",
    "typing.Set": "set",
    "typing.FrozenSet": "frozenset",
    "typing.Tuple": "tuple",
    "typing.Type": "type",
    "typing.Text": "str",
    "typing.Deque": "collections.deque",
    "typing.DefaultDict": "collections.defaultdict",
    "typing.OrderedDict": "collections.OrderedDict",
    "typing.Counter": "collections.Counter",
    "typing.ChainMap": "collections.ChainMap",
    "typing.Pattern": "re.Pattern",
    "typing.Match": "re.Match",
}
#: ``collections.abc.Set`` is typing's ``AbstractSet`` (typing's ``Set`` is the builtin).
_ABC_RENAMED = {"collections.abc.Set": "typing.AbstractSet"}

#: Canonical annotation names → the token they show.
_TOKEN_OF = {
    "typing.Awaitable": "async",
    "typing.Coroutine": "async",
    "typing.Callable": "callable",
    "typing.Iterator": "stream",
    "typing.Iterable": "stream",
    "typing.Generator": "stream",
    "typing.AsyncIterator": "stream",
    "typing.AsyncIterable": "stream",
    "typing.AsyncGenerator": "stream",
    "dict": "map",
    "typing.Mapping": "map",
    "typing.MutableMapping": "map",
    "set": "set",
    "frozenset": "set",
    "typing.AbstractSet": "set",
    "typing.MutableSet": "set",
    "list": "list",
    "typing.Sequence": "list",
    "typing.MutableSequence": "list",
    "tuple": "tuple",
}
_ENUMS = {"enum.Enum", "enum.IntEnum", "enum.StrEnum", "enum.Flag", "enum.IntFlag", "enum.ReprEnum"}
_RECORD_DECORATORS = {
    "dataclasses.dataclass",
    "attr.s",
    "attr.attrs",
    "attr.define",
    "attr.frozen",
    "attr.mutable",
    "attr.dataclass",
    "attrs.define",
    "attrs.frozen",
    "attrs.mutable",
    "pydantic.dataclasses.dataclass",
}
_TYPEVARS = {"typing.TypeVar", "typing.ParamSpec", "typing.TypeVarTuple"}
#: Class-level dunder names that are bookkeeping, not API.
_DUNDER_DATA = {"__slots__", "__match_args__", "__module__", "__doc__", "__annotations__"}


def canonical(name: str) -> str:
    """``typing_extensions.List`` → ``list``; ``collections.abc.Mapping`` → ``typing.Mapping``."""
    if name in _ABC_RENAMED:
        return _ABC_RENAMED[name]
    for prefix in _TYPING:
        if name.startswith(prefix):
            name = "typing." + name[len(prefix) :]
            break
    if name.startswith("builtins."):
        name = name[len("builtins.") :]
    return _RENAMED.get(name, name)


def is_test_module(dotted: str) -> bool:
    """Whether ``dotted`` lies in a test suite (``pkg.tests``, ``pkg.test``): not API."""
    return any(part in {"tests", "test"} for part in dotted.split(".")[1:])


def _public(dotted: str) -> bool:
    return not any(part.startswith("_") for part in dotted.split(".")) and not is_test_module(
        dotted
    )


class _Unreadable(Exception):
    """An annotation or statement that the rules cannot read."""


class _Dynamic:
    """An ``__all__`` that is not a literal list of strings."""

    def __init__(self, statement: str) -> None:
        self.statement = statement


# --- one module ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Import:
    module: str
    attr: str | None
    #: ``import x as x`` / ``from m import y as y``: an explicit re-export.
    explicit: bool


@dataclass(slots=True)
class _Module:
    name: str
    stub: bool
    package: bool
    tree: ast.Module
    bindings: dict[str, list[ast.stmt]] = field(default_factory=dict)
    imports: dict[str, _Import] = field(default_factory=dict)
    stars: list[str] = field(default_factory=list)
    exported: tuple[str, ...] | _Dynamic | None = None

    def absolute(self, module: str | None, level: int) -> str:
        if not level:
            return module or ""
        parts = self.name.split(".")
        if not self.package:
            parts = parts[:-1]
        base = parts[: len(parts) - (level - 1)] if level > 1 else parts
        return ".".join([*base, *([module] if module else [])])


def _top_statements(body: Iterable[ast.stmt]) -> Iterator[ast.stmt]:
    """A body's statements, with ``if``/``try``/``with`` blocks opened (every branch)."""
    for statement in body:
        if isinstance(statement, ast.If):
            yield from _top_statements(statement.body)
            yield from _top_statements(statement.orelse)
        elif isinstance(statement, ast.Try | ast.TryStar):
            yield from _top_statements(statement.body)
            for handler in statement.handlers:
                yield from _top_statements(handler.body)
            yield from _top_statements(statement.orelse)
            yield from _top_statements(statement.finalbody)
        elif isinstance(statement, ast.With):
            yield from _top_statements(statement.body)
        else:
            yield statement


def _literal_strings(node: ast.expr) -> list[str] | None:
    if isinstance(node, ast.List | ast.Tuple) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
    ):
        return [e.value for e in node.elts]  # type: ignore[attr-defined]
    return None


def _short(node: ast.AST) -> str:
    text = ast.unparse(node).replace("\n", " ")
    return text if len(text) <= 80 else text[:77] + "..."


def _all_of(statement: ast.stmt, current: list[str] | _Dynamic | None) -> object:
    """Apply one statement that touches ``__all__``; returns the new state."""
    if isinstance(current, _Dynamic):
        return current
    value: ast.expr | None = None
    if isinstance(statement, ast.Assign | ast.AnnAssign):
        value = statement.value
        names = _literal_strings(value) if value is not None else None
        return list(names) if names is not None else _Dynamic(_short(statement))
    if isinstance(statement, ast.AugAssign):
        names = _literal_strings(statement.value)
        if names is None or current is None:
            return _Dynamic(_short(statement))
        return [*current, *names]
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        call = statement.value
        assert isinstance(call.func, ast.Attribute)
        if current is None or len(call.args) != 1:
            return _Dynamic(_short(statement))
        argument = call.args[0]
        if (
            call.func.attr == "append"
            and isinstance(argument, ast.Constant)
            and isinstance(argument.value, str)
        ):
            return [*current, argument.value]
        if call.func.attr == "extend":
            names = _literal_strings(argument)
            if names is not None:
                return [*current, *names]
        return _Dynamic(_short(statement))
    return current


def _touches_all(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == "__all__" for t in statement.targets)
    if isinstance(statement, ast.AnnAssign | ast.AugAssign):
        return isinstance(statement.target, ast.Name) and statement.target.id == "__all__"
    if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
        func = statement.value.func
        return (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "__all__"
        )
    return False


@functools.cache
def _scanner() -> re.Pattern[bytes]:
    """Strings, comments, brackets and newlines (compiled when first needed: it costs
    milliseconds that a command reading no source should not pay)."""
    return re.compile(
        rb"""(?P<s>[rRbBuUfF]{0,2}(?:\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''"""
        rb"""|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'))|(?P<c>\#[^\n]*)|(?P<o>[(\[{])|(?P<x>[)\]}])|(?P<n>\n)""",
        re.S,
    )


#: A ``def`` line, or a simple assignment whose value opens a bracket that the line leaves
#: open (``tokens = {``): where big tables are written.
_HEADER = re.compile(
    rb"^[ \t]*(?:(?:async[ \t]+)?def[ \t]"
    rb"|(?P<name>[A-Za-z_]\w*)[ \t]*=[ \t]*(?P<open>[\[{(])[ \t]*(?:\#[^\n]*)?\r?$)",
    re.M,
)
#: Values shorter than this are kept as written: shortening them would save nothing.
_SHORTEN_FROM = 256


@functools.cache
def _dropper() -> re.Pattern[bytes]:
    """Complete strings and comments, to drop. An unclosed triple quote is not matched
    (a one-quote string never starts with three quotes), so a quote left over says that
    a span ends inside a string."""
    return re.compile(
        rb"""\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''"""
        rb"""|"(?!"")(?:[^"\\\n]|\\.)*"|'(?!'')(?:[^'\\\n]|\\.)*'|\#[^\n]*""",
        re.S,
    )


def _cleaned(source: bytes, start: int, end: int) -> bytes | None:
    """``source[start:end]`` without its strings and comments, if the physical line at
    ``end`` starts a logical line given that one starts at ``start`` (no string or bracket
    left open between them, no backslash continuation); else None. Decided by C-level
    passes (drop strings and comments, count brackets); None also when it cannot be told
    that way, and the caller walks the span token by token."""
    clean = _dropper().sub(b"", source[start:end])
    if b'"' in clean or b"'" in clean or clean.rstrip(b"\r\n").endswith(b"\\"):
        return None
    opened = clean.count(b"(") + clean.count(b"[") + clean.count(b"{")
    closed = clean.count(b")") + clean.count(b"]") + clean.count(b"}")
    return clean if opened == closed else None


def _breaks_cleanly(source: bytes, start: int, end: int) -> bool:
    """Whether ``source[start:end]`` is whole logical lines (see :func:`_cleaned`)."""
    return _cleaned(source, start, end) is not None


def _logical_line(source: bytes, start: int) -> tuple[int, int]:
    """(end, code end) of the logical line at ``start``: brackets, strings, comments and
    backslash continuations join physical lines; the code end leaves out a comment."""
    depth = 0
    comment = None
    for match in _scanner().finditer(source, start):
        kind = match.lastgroup
        if kind == "o":
            depth += 1
        elif kind == "x":
            depth = max(0, depth - 1)
        elif kind == "c":
            if depth == 0:
                comment = match.start()
        elif kind == "n":
            continued = comment is None and source[match.start() - 1 : match.start()] == b"\\"
            if depth == 0 and not continued:
                return match.end(), match.start() if comment is None else comment
            comment = None
    return len(source), len(source) if comment is None else comment


def _blank(line: bytes) -> bool:
    stripped = line.lstrip(b" \t")
    return not stripped.strip() or stripped.startswith(b"#")


@functools.cache
def _atoms() -> tuple[re.Pattern[bytes], re.Pattern[bytes], re.Pattern[bytes]]:
    """What reduces a display's text to its shape: numbers and ``True``, ``False``,
    ``None`` become ``0``; an innermost bracket pair becomes ``0``; strings with their
    ``rb``-style prefix (an ``f`` is left: an f-string is no literal), or comments, go."""
    constants = re.compile(
        rb"(?<![\w.])(?:0[xXoObB][\da-fA-F_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)"
        rb"(?:[eE][-+]?\d[\d_]*)?[jJ]?|True|False|None)(?![\w.])"
    )
    groups = re.compile(rb"\([^()\[\]{}]*\)|\[[^()\[\]{}]*\]|\{[^()\[\]{}]*\}")
    # The dropper with prefixes: one left-to-right pass that takes each string whole from
    # its real start, so a letter and a quote inside a string are never taken for one.
    prefixed = re.compile(rb"(?:(?<![\w])[rRbBuU]{1,2})?(?:" + _dropper().pattern + rb")", re.S)
    return constants, groups, prefixed


def _literal_text(value: bytes, clean: bytes) -> bool | None:
    """Whether the display ``value`` (``clean``: without strings and comments) is what
    :func:`_literal` calls a literal; None when C-level passes cannot tell."""
    constants, _, prefixed = _atoms()
    flat = constants.sub(b"0", clean)
    if re.search(rb"[^0 \t\r\n\\,:()\[\]{}+-]", flat) is not None:
        # A name, an operator, an f-string: no literal -- unless a letter is only the
        # prefix of a string, which the same passes over the prefixed strings tell.
        if re.search(rb"[rRbBuU][\"']", value) is None:
            return False
        flat = constants.sub(b"0", prefixed.sub(b"", value))
        if re.search(rb"[^0 \t\r\n\\,:()\[\]{}+-]", flat) is not None:
            return False
    if b"+" in flat or b"-" in flat:
        return None  # unary or binary: a dropped string could have stood before the sign
    return True


def _placeholder(name: bytes, value: bytes, clean: bytes) -> bytes | None:
    """What can stand for the display assigned to ``name`` (``value``: from its opening
    bracket to the end of its logical line; ``clean``: the same without strings and
    comments) without changing the surface, or None to keep it as written.

    The surface reads a plain assignment's display only to ask whether it is a literal,
    and only for an all-caps name (a module constant); so a literal becomes ``0`` and any
    other ``[...]`` or ``{...}`` becomes ``[_]``. A parenthesised value that is not a
    literal may be no display at all (``(A | B)``, a call) and is kept, and so is anything
    these C-level passes cannot read with certainty."""
    _, groups, _ = _atoms()
    shape = clean
    for _ in range(32):
        shape, found = groups.subn(b"0", shape)
        if not found:
            break
    if re.fullmatch(rb"0[ \t\r\n\\]*", shape) is None:
        return None  # not one bracketed expression (or nested too deep to tell)
    if not name.isupper() and not value.startswith(b"("):
        return b"[_]"
    literal = _literal_text(value, clean)
    if literal is None or (literal is False and value.startswith(b"(")):
        return None
    return b"0" if literal else b"[_]"


@functools.cache
def _statement_end(indent: int) -> re.Pattern[bytes]:
    """A physical line indented ``indent`` or less that could start a statement: not
    blank, not a comment, and not opening with a closing bracket (the end of a display
    or call written at the statement's own indentation is never a new statement)."""
    return re.compile(rb"^[ \t]{0,%d}[^ \t\r\n#)\]}]" % indent, re.M)


def _assignment(source: bytes, found: re.Match[bytes], out: list[bytes]) -> int:
    """Copy the assignment ``found`` (see :data:`_HEADER`) to ``out``, its display shortened
    when that changes nothing (:func:`_placeholder`); returns where its logical line ends."""
    start, opening = found.start(), found.start("open")
    finder = _statement_end(len(found.group()) - len(found.group().lstrip(b" \t")))
    search_from = found.end()
    for _ in range(16):
        candidate = finder.search(source, search_from)
        stop = len(source) if candidate is None else candidate.start()
        clean = _cleaned(source, start, stop)
        if clean is not None:
            name = found.group("name")
            value = source[opening:stop]
            shorter = (
                None
                if stop - start < _SHORTEN_FROM or name.startswith(b"__")
                else _placeholder(name, value, clean[opening - start :])
            )
            if shorter is None:
                out.append(source[start:stop])
            else:  # as many lines as before: line numbers stay true
                out.append(source[start:opening] + shorter + b"\n" * value.count(b"\n"))
            return stop
        if candidate is None:
            break
        search_from = candidate.end()
    end = _logical_line(source, start)[0]  # a string or bracket these passes cannot follow
    out.append(source[start:end])
    return end


def strip_bodies(source: bytes) -> bytes:
    """``source`` with every function body replaced by ``...``: the same syntax tree but
    for bodies, which the surface never reads, at a fraction of the cost to parse. Big
    displays assigned to a plain name (lexer token tables, code point maps) are shortened
    too, to what keeps the surface the same (:func:`_placeholder`).

    Fast where the code is plain: the next ``def`` line and the end of its body (the next
    line indented no deeper than the ``def``) are found by regular expressions, then
    checked to start logical lines; where that cannot be told (a string or bracket spans
    the candidate), the span is walked logical line by logical line."""
    out: list[bytes] = []
    pos = 0  # always the start of a logical line outside any body
    while (found := _HEADER.search(source, pos)) is not None:
        header = found.start()
        if not _breaks_cleanly(source, pos, header):
            # A "def" inside a string or brackets, or a true one the fast check cannot
            # vouch for: walk the logical lines up to it.
            line = pos
            while line < header:
                line = _logical_line(source, line)[0]
            out.append(source[pos:line])
            pos = line
            if line > header:
                continue
        out.append(source[pos:header])
        if found.group("open") is not None:
            pos = _assignment(source, found, out)
            continue
        newline = source.find(b"\n", header)
        if newline != -1 and _breaks_cleanly(source, header, newline + 1):
            end = newline + 1  # a one-line header, the common case
            comment = source.find(b"#", header, newline)
            code_end = newline if comment == -1 else _logical_line(source, header)[1]
        else:
            end, code_end = _logical_line(source, header)
        out.append(source[header:end])
        pos = end
        if not source[header:code_end].rstrip().endswith(b":"):
            continue  # a one-line function: nothing to cut
        indent = len(found.group()) - len(found.group().lstrip(b" \t"))
        out.append(found.group()[:indent] + b"    ...\n")  # the def's own tabs or spaces
        candidate = _statement_end(indent).search(source, pos)
        stop = len(source) if candidate is None else candidate.start()
        if not _breaks_cleanly(source, pos, stop):
            stop = pos
            while stop < len(source):
                line_end = _logical_line(source, stop)[0]
                text = source[stop:line_end]
                if not _blank(text) and len(text) - len(text.lstrip(b" \t")) <= indent:
                    break
                stop = line_end
        pos = stop
    out.append(source[pos:])
    return b"".join(out)


def _parse(name: str, source: bytes, *, stub: bool) -> ast.Module:
    """The module's syntax tree; a source's function bodies are left out first (stubs have
    none worth the scan). Should the shortened text not parse, the whole one is parsed,
    so an error names the real line."""
    if not stub:
        try:
            return ast.parse(strip_bodies(source), filename=name)
        except (SyntaxError, ValueError):
            pass
    return ast.parse(source, filename=name)


def _index(name: str, source: bytes, *, stub: bool, package: bool) -> _Module:
    tree = _parse(name, source, stub=stub)
    module = _Module(name=name, stub=stub, package=package, tree=tree)
    exported: object = None
    for statement in _top_statements(tree.body):
        if _touches_all(statement):
            exported = _all_of(statement, exported)  # type: ignore[arg-type]
            continue
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            module.bindings.setdefault(statement.name, []).append(statement)
        elif isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    module.bindings.setdefault(target.id, []).append(statement)
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            module.bindings.setdefault(statement.target.id, []).append(statement)
        elif type(statement).__name__ == "TypeAlias":  # PEP 695 ``type X = ...`` (3.12+)
            alias_name = statement.name  # type: ignore[attr-defined]
            module.bindings.setdefault(alias_name.id, []).append(statement)
        elif isinstance(statement, ast.Import):
            for alias in statement.names:
                if alias.asname:
                    module.imports[alias.asname] = _Import(
                        alias.name, None, alias.asname == alias.name
                    )
                else:
                    top = alias.name.split(".")[0]
                    module.imports.setdefault(top, _Import(top, None, explicit=False))
        elif isinstance(statement, ast.ImportFrom):
            source_module = module.absolute(statement.module, statement.level)
            for alias in statement.names:
                if alias.name == "*":
                    module.stars.append(source_module)
                    continue
                local = alias.asname or alias.name
                module.imports[local] = _Import(
                    source_module, alias.name, alias.asname == alias.name
                )
    if isinstance(exported, list):
        module.exported = tuple(dict.fromkeys(exported))
    elif isinstance(exported, _Dynamic):
        module.exported = exported
    return module


# --- the package -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Local:
    module: _Module
    statements: tuple[ast.stmt, ...]


@dataclass(frozen=True, slots=True)
class _ModuleRef:
    name: str


@dataclass(frozen=True, slots=True)
class _External:
    name: str


_Target = _Local | _ModuleRef | _External


class _Reader:
    """Reads one import package; modules are parsed when first needed."""

    def __init__(self, sources: Mapping[str, tuple[bytes, bool, bool]]) -> None:
        self.sources = sources
        #: The distribution's top-level modules: names from them are its own.
        self.tops = {name.split(".")[0] for name in sources}
        self._modules: dict[str, _Module | None] = {}
        self.symbols: set[Symbol] = set()
        self.tokens: set[str] = set()
        self.skipped: set[Skip] = set()
        #: What each class is (``_class_flags``), by dotted name: asked once per use.
        self._flags: dict[str, set[str]] = {}

    # modules ---------------------------------------------------------------------------------

    def own(self, module: str) -> bool:
        return module.split(".", maxsplit=1)[0] in self.tops

    def module(self, name: str) -> _Module | None:
        if name not in self._modules:
            found = self.sources.get(name)
            if found is None:
                self._modules[name] = None
            else:
                source, stub, package = found
                try:
                    self._modules[name] = _index(name, source, stub=stub, package=package)
                except (SyntaxError, ValueError) as error:
                    detail = getattr(error, "msg", str(error))
                    line = getattr(error, "lineno", None)
                    where = f" (line {line})" if line else ""
                    self.skipped.add(
                        Skip(name, f"does not parse with this Python: {detail}{where}")
                    )
                    self._modules[name] = None
        return self._modules[name]

    def exports(self, module: _Module, seen: frozenset[str] = frozenset()) -> list[str]:
        """The names ``module`` exports, in source order."""
        if isinstance(module.exported, tuple):
            return list(module.exported)
        names = [n for n in module.bindings if not n.startswith("_")]
        names += [n for n, i in module.imports.items() if i.explicit and not n.startswith("_")]
        for star in module.stars:
            if not self.own(star):
                continue
            other = self.module(star)
            if other is not None and star not in seen:
                names += self.exports(other, seen | {module.name})
        return list(dict.fromkeys(n for n in names if not n.startswith("_")))

    def lookup(
        self, module: _Module, name: str, seen: frozenset[tuple[str, str]]
    ) -> _Target | None:
        """What ``name`` is bound to in ``module``."""
        key = (module.name, name)
        if key in seen:
            return None
        seen = seen | {key}
        if name in module.bindings:
            return _Local(module, tuple(module.bindings[name]))
        found = module.imports.get(name)
        if found is not None:
            if found.attr is None:
                return (
                    _ModuleRef(found.module) if self.own(found.module) else _External(found.module)
                )
            if not self.own(found.module):
                return _External(f"{found.module}.{found.attr}")
            if f"{found.module}.{found.attr}" in self.sources:
                return _ModuleRef(f"{found.module}.{found.attr}")
            other = self.module(found.module)
            return None if other is None else self.lookup(other, found.attr, seen)
        for star in module.stars:
            if not self.own(star):
                continue
            other = self.module(star)
            if other is not None and name in self.exports(other):
                return self.lookup(other, name, seen)
        if f"{module.name}.{name}" in self.sources:
            return _ModuleRef(f"{module.name}.{name}")
        return None

    # annotations -----------------------------------------------------------------------------

    def qualify(self, module: _Module, node: ast.expr) -> str:
        """The canonical dotted name of a Name/Attribute in ``module``."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            raise _Unreadable(_short(node))
        parts.reverse()
        found = module.imports.get(node.id)
        if found is None:
            return canonical(".".join([node.id, *parts]))
        base = found.module if found.attr is None else f"{found.module}.{found.attr}"
        full = ".".join([base, *parts])
        if self.own(base):
            return full.rsplit(".", 1)[-1]  # the package's own names: where they live is private
        return canonical(full)

    def annotation(self, module: _Module, node: ast.expr | None) -> str:
        """``node`` as normalised text; capability tokens it shows are collected."""
        if node is None:
            return ""
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                return self.annotation(module, _parse_string(node.value))
            if node.value is None:
                return "None"
            if node.value is Ellipsis:
                return "..."
            return repr(node.value)
        if isinstance(node, ast.Name | ast.Attribute):
            name = self.qualify(module, node)
            self._token(name)
            return name
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return self._union(module, [node.left, node.right])
        if isinstance(node, ast.List):
            return "[" + ", ".join(self.annotation(module, e) for e in node.elts) + "]"
        if isinstance(node, ast.Tuple):
            return ", ".join(self.annotation(module, e) for e in node.elts)
        if isinstance(node, ast.Subscript):
            base = self.qualify(module, node.value)
            arguments = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
            if base == "typing.Optional" and len(arguments) == 1:
                return self._union(module, [arguments[0], ast.Constant(None)])
            if base == "typing.Union":
                return self._union(module, arguments)
            if base == "typing.Annotated":
                return self.annotation(module, arguments[0])
            if base == "typing.Literal":
                values = sorted(_short(a) for a in arguments)
                return f"typing.Literal[{', '.join(values)}]"
            self._token(base)
            inner = ", ".join(self.annotation(module, a) for a in arguments)
            return f"{base}[{inner}]"
        raise _Unreadable(_short(node))

    def _members(self, module: _Module, node: ast.expr) -> Iterator[ast.expr]:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            yield from self._members(module, node.left)
            yield from self._members(module, node.right)
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name | ast.Attribute):
            base = self.qualify(module, node.value)
            arguments = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
            if base == "typing.Union":
                for argument in arguments:
                    yield from self._members(module, argument)
            elif base == "typing.Optional" and len(arguments) == 1:
                yield from self._members(module, arguments[0])
                yield ast.Constant(None)
            else:
                yield node
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield from self._members(module, _parse_string(node.value))
        else:
            yield node

    def _union(self, module: _Module, nodes: list[ast.expr]) -> str:
        texts: set[str] = set()
        for node in nodes:
            for member in self._members(module, node):
                texts.add(self.annotation(module, member))
        optional = "None" in texts
        rest = sorted(texts - {"None"})
        if optional:
            self.tokens.add("optional")
        if len(rest) >= 2:
            self.tokens.add("sum")
        return " | ".join([*rest, *(["None"] if optional else [])])

    def _token(self, name: str) -> None:
        token = _TOKEN_OF.get(name)
        if token is not None:
            self.tokens.add(token)

    # definitions -----------------------------------------------------------------------------

    def _decorators(
        self, module: _Module, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    ) -> list[str]:
        names = []
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            try:
                names.append(self.qualify(module, target))
            except _Unreadable:
                names.append("?")
        return names

    def _parameters(self, module: _Module, arguments: ast.arguments) -> str:
        positional = [*arguments.posonlyargs, *arguments.args]
        defaults = [None] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults)

        def one(argument: ast.arg, default: object) -> str:
            text = argument.arg
            if argument.annotation is not None:
                text += ": " + self.annotation(module, argument.annotation)
            return text + (" = ..." if default is not None else "")

        parts = []
        for i, (argument, default) in enumerate(zip(positional, defaults, strict=True)):
            parts.append(one(argument, default))
            if i == len(arguments.posonlyargs) - 1:
                parts.append("/")
        if arguments.vararg is not None:
            parts.append("*" + one(arguments.vararg, None))
        elif arguments.kwonlyargs:
            parts.append("*")
        for argument, kw_default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True):
            parts.append(one(argument, kw_default))
        if arguments.kwarg is not None:
            parts.append("**" + one(arguments.kwarg, None))
        return ", ".join(parts)

    def _type_params(self, module: _Module, node: ast.AST) -> str:
        params = getattr(node, "type_params", None) or []
        if not params:
            return ""
        self.tokens.add("typevar")
        texts = []
        for param in params:
            bound = getattr(param, "bound", None)
            texts.append(param.name + (f": {self.annotation(module, bound)}" if bound else ""))
        return "[" + ", ".join(texts) + "]"

    def _function(
        self, module: _Module, node: ast.FunctionDef | ast.AsyncFunctionDef, *, method: bool
    ) -> Symbol | None:
        decorators = self._decorators(module, node)
        marks = []
        kind = "method" if method else "function"
        if any(d in {"property", "functools.cached_property"} for d in decorators):
            returns = self.annotation(module, node.returns)
            return Symbol("", "attribute", f": {returns}" if returns else "")
        if any(d.endswith((".setter", ".deleter")) for d in decorators):
            return None
        if "typing.dataclass_transform" in decorators:
            self.tokens.add("dataclass")  # a record-class decorator (attrs' define, ...)
        if isinstance(node, ast.AsyncFunctionDef):
            self.tokens.add("async")
            marks.append("async ")
        for mark in ("staticmethod", "classmethod"):
            if mark in decorators:
                marks.append(f"@{mark} ")
        signature = f"({self._parameters(module, node.args)})"
        if node.returns is not None:
            signature += f" -> {self.annotation(module, node.returns)}"
        return Symbol("", kind, " " + "".join(marks) + self._type_params(module, node) + signature)

    def _functions(
        self,
        module: _Module,
        name: str,
        nodes: list[ast.FunctionDef | ast.AsyncFunctionDef],
        *,
        method: bool,
    ) -> None:
        overloads = [n for n in nodes if "typing.overload" in self._decorators(module, n)]
        settable = any(d == f"{n.name}.setter" for n in nodes for d in self._decorators(module, n))
        for node in overloads or nodes:
            try:
                symbol = self._function(module, node, method=method)
            except _Unreadable as error:
                self.skipped.add(Skip(name, f"annotation {error} cannot be read"))
                continue
            if symbol is None:
                continue
            signature = symbol.signature + (
                " (settable)" if settable and symbol.kind == "attribute" else ""
            )
            self.symbols.add(Symbol(name, symbol.kind, signature))

    def _class_flags(self, module: _Module, node: ast.ClassDef, seen: frozenset[str]) -> set[str]:
        """What ``node`` is, following the package's own base classes: ``enum``,
        ``transform`` (a ``dataclass_transform`` base or metaclass), ``typeddict``..."""
        key = f"{module.name}.{node.name}:{node.lineno}"  # conditional classes differ
        if key in seen:
            return set()
        if key in self._flags:
            return self._flags[key]
        flags: set[str] = set()
        if "typing.dataclass_transform" in self._decorators(module, node):
            flags.add("transform")
        expressions = [*node.bases, *(k.value for k in node.keywords if k.arg == "metaclass")]
        for expression in expressions:
            base = expression.value if isinstance(expression, ast.Subscript) else expression
            try:
                name = self.qualify(module, base)
            except _Unreadable:
                continue
            if name in _ENUMS:
                flags.add("enum")
            elif name == "typing.TypedDict":
                flags.add("typeddict")
            elif name == "typing.NamedTuple":
                flags.add("namedtuple")
            if isinstance(base, ast.Name):
                target = self.lookup(module, base.id, frozenset())
                if isinstance(target, _Local):
                    for statement in target.statements:
                        if isinstance(statement, ast.ClassDef):
                            inherited = self._class_flags(target.module, statement, seen | {key})
                            flags |= inherited & {"enum", "transform", "typeddict", "namedtuple"}
        self._flags[key] = flags
        return flags

    def _decorated_by_transform(self, module: _Module, node: ast.ClassDef) -> bool:
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if isinstance(target, ast.Name):
                found = self.lookup(module, target.id, frozenset())
                if isinstance(found, _Local) and any(
                    isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)
                    and "typing.dataclass_transform" in self._decorators(found.module, s)
                    for s in found.statements
                ):
                    return True
        return False

    def _class(self, module: _Module, name: str, node: ast.ClassDef) -> None:
        decorators = self._decorators(module, node)
        flags = self._class_flags(module, node, frozenset())
        record = (
            any(
                d in _RECORD_DECORATORS or d == "dataclass" or d.endswith(".dataclass")
                for d in decorators
            )
            or "typeddict" in flags
            or "transform" in flags
            or self._decorated_by_transform(module, node)
        )
        if record:
            self.tokens.add("dataclass")
        if "enum" in flags:
            self.tokens.add("sum")
        if "namedtuple" in flags:
            self.tokens.add("tuple")
        try:
            bases = []
            for base in node.bases:
                text = self.annotation(module, base)
                head = self.qualify(module, base.value if isinstance(base, ast.Subscript) else base)
                if head == "typing.Protocol":
                    self.tokens.add("protocol")
                if head in {"typing.Generic", "typing.Protocol"} and isinstance(
                    base, ast.Subscript
                ):
                    self.tokens.add("typevar")
                bases.append(text)
            bases += [f"{k.arg}={self.annotation(module, k.value)}" for k in node.keywords if k.arg]
            signature = self._type_params(module, node) + (f"({', '.join(bases)})" if bases else "")
        except _Unreadable as error:
            self.skipped.add(Skip(name, f"base class {error} cannot be read"))
            return
        marks = "@dataclass " if record else ""
        self.symbols.add(Symbol(name, "class", (" " + marks + signature).rstrip()))
        self._body(module, name, node.body)

    def _body(self, module: _Module, prefix: str, body: list[ast.stmt]) -> None:
        functions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]] = {}
        for statement in _top_statements(body):
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
                if _member_public(statement.name, method=True):
                    functions.setdefault(statement.name, []).append(statement)
            elif isinstance(statement, ast.ClassDef):
                if _member_public(statement.name, method=False):
                    self._class(module, f"{prefix}.{statement.name}", statement)
            elif isinstance(statement, ast.AnnAssign | ast.Assign):
                self._class_attribute(module, prefix, statement)
        for name, nodes in functions.items():
            self._functions(module, f"{prefix}.{name}", nodes, method=True)

    def _class_attribute(self, module: _Module, prefix: str, statement: ast.stmt) -> None:
        """A class-body assignment: each public target an attribute of ``prefix``."""
        targets: list[str] = []
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            targets = [statement.target.id]
        elif isinstance(statement, ast.Assign):
            targets = [t.id for t in statement.targets if isinstance(t, ast.Name)]
        for target in targets:
            if _member_public(target, method=False):
                self._record(module, f"{prefix}.{target}", statement, target, module_level=False)

    def _record(
        self, module: _Module, public: str, statement: ast.stmt, target: str, *, module_level: bool
    ) -> None:
        """Record the assignment to ``target`` under the dotted name ``public``."""
        try:
            symbol = self._value(module, statement, target, module_level=module_level)
        except _Unreadable as error:
            self.skipped.add(Skip(public, f"annotation {error} cannot be read"))
            return
        self.symbols.add(Symbol(public, symbol.kind, symbol.signature))

    def _value(
        self, module: _Module, statement: ast.stmt, target: str, *, module_level: bool
    ) -> Symbol:
        if isinstance(statement, ast.AnnAssign):
            head = (
                statement.annotation.value
                if isinstance(statement.annotation, ast.Subscript)
                else statement.annotation
            )
            try:
                qualified = self.qualify(module, head)
            except _Unreadable:
                qualified = ""
            if qualified == "typing.TypeAlias" and statement.value is not None:
                return Symbol("", "type alias", " = " + self.annotation(module, statement.value))
            text = self.annotation(module, statement.annotation)
            if module_level:
                self.tokens.add("constant")
            kind = "constant" if qualified == "typing.Final" else "attribute"
            return Symbol("", kind, f": {text}")
        if type(statement).__name__ == "TypeAlias":
            value = statement.value  # type: ignore[attr-defined]
            return Symbol(
                "",
                "type alias",
                self._type_params(module, statement) + " = " + self.annotation(module, value),
            )
        assert isinstance(statement, ast.Assign)
        value = statement.value
        if isinstance(value, ast.Call):
            try:
                called = self.qualify(module, value.func)
            except _Unreadable:
                called = ""
            if called in _TYPEVARS:
                if module_level:
                    self.tokens.add("typevar")
                return Symbol("", "attribute", f": {called}")
            if called in {"typing.NamedTuple", "collections.namedtuple"}:
                self.tokens.add("tuple")
                return Symbol("", "class", f" ({called})")
            if called == "typing.TypedDict":
                self.tokens.add("dataclass")
                return Symbol("", "class", " @dataclass (typing.TypedDict)")
            if called == "typing.NewType" and len(value.args) == 2:
                return Symbol(
                    "", "type alias", f" = NewType({self.annotation(module, value.args[1])})"
                )
            return Symbol("", "attribute")
        if module_level and target.isupper() and _literal(value):
            self.tokens.add("constant")
            return Symbol("", "constant")
        if isinstance(value, ast.Subscript | ast.BinOp) and module.stub:
            return Symbol("", "type alias", " = " + self.annotation(module, value))
        if isinstance(value, ast.Name | ast.Attribute):
            try:
                return Symbol("", "attribute", " = " + self.qualify(module, value))
            except _Unreadable:
                pass
        return Symbol("", "attribute")

    # exports ---------------------------------------------------------------------------------

    def emit(self, public: str, target: _Target) -> None:
        """Record ``target`` under the public dotted name ``public``."""
        if isinstance(target, _ModuleRef):
            self.symbols.add(Symbol(public, "module"))
            return
        if isinstance(target, _External):
            self.symbols.add(Symbol(public, "attribute", f" = {canonical(target.name)}"))
            return
        module = target.module
        functions = [
            s for s in target.statements if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        if functions:
            self._functions(module, public, functions, method=False)
        for statement in target.statements:
            if isinstance(statement, ast.ClassDef):
                self._class(module, public, statement)
            elif (original := _name_of(statement)) is not None:
                # A module-level assignment, under its own name or a re-export's.
                self._record(module, public, statement, original, module_level=True)

    def read_module(self, name: str) -> None:
        module = self.module(name)
        if module is None:
            return
        self.symbols.add(Symbol(name, "module"))
        if isinstance(module.exported, _Dynamic):
            self.skipped.add(
                Skip(
                    f"{name}.__all__",
                    f"not a literal list of strings ({module.exported.statement}); "
                    "exports read by name",
                )
            )
        for star in module.stars:
            if not self.own(star) and (module.stub or not isinstance(module.exported, tuple)):
                self.skipped.add(
                    Skip(f"{name}.*", f"star import from {star}, which is not in this package")
                )
        for export in self.exports(module):
            target = self.lookup(module, export, frozenset())
            if target is None:
                reason = (
                    "listed in __all__ but not defined"
                    if isinstance(module.exported, tuple)
                    else "re-exported from a module that is not in the wheel"
                )
                self.skipped.add(Skip(f"{name}.{export}", reason))
                continue
            self.emit(f"{name}.{export}", target)


def _parse_string(text: str) -> ast.expr:
    """A string annotation (``"list[int]"``) as an expression."""
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        raise _Unreadable(repr(text)) from None


def _name_of(statement: ast.stmt) -> str | None:
    if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
        return statement.target.id
    if isinstance(statement, ast.Assign):
        for target in statement.targets:
            if isinstance(target, ast.Name):
                return target.id
    if type(statement).__name__ == "TypeAlias":
        return str(statement.name.id)  # type: ignore[attr-defined]
    return None


def _member_public(name: str, *, method: bool) -> bool:
    if name.startswith("__") and name.endswith("__") and len(name) > 4:
        return method and name not in _DUNDER_DATA
    return not name.startswith("_")


def _literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return node.value is not Ellipsis
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return _literal(node.operand)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return all(_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is not None and _literal(k) for k in node.keys) and all(
            _literal(v) for v in node.values
        )
    return False


def read_surface(top: str, sources: Mapping[str, tuple[bytes, bool, bool]]) -> Surface:
    """The public surface of import package ``top``.

    ``sources`` maps each module of the distribution (every import package: a public one
    may re-export from a private one) to ``(source, is_stub, is_package)``; the caller has
    already chosen ``.pyi`` over ``.py`` for each module.
    """
    reader = _Reader(sources)
    for name in sorted(sources):
        if (name == top or name.startswith(top + ".")) and _public(name):
            reader.read_module(name)
    return Surface(
        # By field tuples: the same order as the dataclass's, compared in C.
        symbols=tuple(sorted(reader.symbols, key=lambda s: (s.name, s.kind, s.signature))),
        capabilities=tuple(sorted(reader.tokens)),
        skipped=tuple(sorted(reader.skipped)),
    )
