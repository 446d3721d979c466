"""The typed public surface read from source (surface.md): tokens, skips, digest stability."""

from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path

import pytest

from tumbler.lockfile.tables import TOKENS
from tumbler.surface import pyapi
from tumbler.surface.members import ImportSurface, wheel_surfaces
from tumbler.surface.pyapi import strip_bodies


def read(files: dict[str, str], distribution: str = "dist") -> dict[str, ImportSurface]:
    """The surfaces of a wheel made of ``files`` (path → source), by import name."""
    data = {path: textwrap.dedent(text).encode() for path, text in files.items()}
    return {s.import_name: s for s in wheel_surfaces(distribution, list(data), data)}


def one(source: str, path: str = "pkg/__init__.py") -> ImportSurface:
    return read({path: source})["pkg"]


def lines(surface: ImportSurface) -> list[str]:
    return [s.line for s in surface.symbols]


def test_the_vocabulary_is_the_thirteen_tokens_of_the_spec() -> None:
    assert sorted(TOKENS) == [
        "async",
        "callable",
        "constant",
        "dataclass",
        "list",
        "map",
        "optional",
        "protocol",
        "set",
        "stream",
        "sum",
        "tuple",
        "typevar",
    ]


TOKEN_CASES = [
    ("async", "async def fetch(url: str) -> bytes: ..."),
    ("async", "from typing import Awaitable\ndef later() -> Awaitable[int]: ..."),
    ("async", "import typing\ndef co() -> typing.Coroutine[None, None, int]: ..."),
    ("dataclass", "from dataclasses import dataclass\n@dataclass\nclass Point:\n    x: int"),
    (
        "dataclass",
        "import dataclasses\n@dataclasses.dataclass(frozen=True)\nclass Point:\n    x: int",
    ),
    ("dataclass", "import attr\n@attr.s\nclass Point:\n    x = attr.ib()"),
    ("dataclass", "from attrs import define\n@define\nclass Point:\n    x: int"),
    ("dataclass", "from attrs import frozen\n@frozen\nclass Point:\n    x: int"),
    ("dataclass", "from typing import TypedDict\nclass Movie(TypedDict):\n    title: str"),
    (
        "dataclass",
        "from typing_extensions import dataclass_transform\n"
        "@dataclass_transform()\nclass ModelBase: ...\n"
        "class User(ModelBase):\n    name: str",
    ),
    (
        "dataclass",
        "from typing import dataclass_transform\n"
        "@dataclass_transform()\ndef model(cls): ...\n"
        "@model\nclass User:\n    name: str",
    ),
    (
        "dataclass",
        "from typing_extensions import dataclass_transform\n"
        "@dataclass_transform(field_specifiers=())\ndef define(maybe_cls=None): ...\n",
    ),
    (
        "dataclass",
        "from typing import dataclass_transform\n"
        "@dataclass_transform()\nclass Meta(type): ...\n"
        "class User(metaclass=Meta):\n    name: str",
    ),
    (
        "protocol",
        "from typing import Protocol\nclass Reader(Protocol):\n    def read(self) -> bytes: ...",
    ),
    ("callable", "from typing import Callable\ndef on(hook: Callable[[int], str]) -> None: ..."),
    ("callable", "import collections.abc\ndef on(hook: collections.abc.Callable[..., None]): ..."),
    ("stream", "from typing import Iterator\ndef rows() -> Iterator[int]: ..."),
    ("stream", "from collections.abc import AsyncIterable\ndef rows() -> AsyncIterable[int]: ..."),
    ("stream", "from typing import Generator\ndef gen() -> Generator[int, None, None]: ..."),
    ("map", "def headers() -> dict[str, str]: ..."),
    ("map", "from typing import Mapping\ndef headers(h: Mapping[str, str]) -> None: ..."),
    ("map", "from typing import Dict\ndef headers() -> Dict[str, str]: ..."),
    ("set", "def tags() -> frozenset[str]: ..."),
    ("set", "from typing import AbstractSet\ndef tags(t: AbstractSet[str]) -> None: ..."),
    ("list", "def names() -> list[str]: ..."),
    ("list", "from typing import Sequence\ndef names(n: Sequence[str]) -> None: ..."),
    ("optional", "from typing import Optional\ndef find(key: str) -> Optional[int]: ..."),
    ("optional", "def find(key: str) -> int | None: ..."),
    ("sum", "def parse(text: str) -> int | str: ..."),
    ("sum", "import enum\nclass Colour(enum.Enum):\n    RED = 1"),
    ("tuple", "def pair() -> tuple[int, str]: ..."),
    ("tuple", "from typing import NamedTuple\nclass Pair(NamedTuple):\n    a: int\n    b: str"),
    ("constant", "TIMEOUT: float = 5.0"),
    ("constant", "MAX_RETRIES = 3"),
    ("constant", "from typing import Final\nlimit: Final = 3"),
    ("typevar", "from typing import TypeVar\nT = TypeVar('T')"),
    (
        "typevar",
        "from typing import Generic, TypeVar\n_T = TypeVar('_T')\nclass Box(Generic[_T]): ...",
    ),
    ("typevar", "from typing import ParamSpec\nP = ParamSpec('P')"),
]


@pytest.mark.parametrize(("token", "source"), TOKEN_CASES)
def test_each_token_is_found_in_its_construct(token: str, source: str) -> None:
    assert token in one(source).capabilities


@pytest.mark.skipif(sys.version_info < (3, 12), reason="PEP 695 syntax needs Python 3.12")
def test_pep_695_type_parameters_are_typevar() -> None:
    assert "typevar" in one("def first[T](items: list[T]) -> T: ...").capabilities


@pytest.mark.parametrize(
    "source",
    [
        "def add(a: int, b: int) -> int: ...",  # plain functions are not 'callable'
        "retries = 3",  # not all-caps, not annotated: no constant
        "from typing import TypeVar\n_T = TypeVar('_T')",  # private type variable
        "class _Hidden:\n    async def run(self) -> dict[str, int]: ...",  # private class
        "def _helper() -> list[int] | None: ...",  # private function
    ],
)
def test_no_token_without_a_public_construct(source: str) -> None:
    assert one(source).capabilities == ()


def test_tokens_are_sorted_deduplicated_and_only_from_the_vocabulary() -> None:
    surface = one(
        "from typing import Optional\n"
        "async def a(x: Optional[int]) -> dict[str, int]: ...\n"
        "async def b(y: int | None) -> dict[str, int]: ..."
    )
    assert surface.capabilities == ("async", "map", "optional")
    assert set(surface.capabilities) <= TOKENS


# --- skipped, with a reason -----------------------------------------------------------------


def skips(surface: ImportSurface) -> dict[str, str]:
    return {s.item: s.reason for s in surface.skipped}


def test_a_compiled_module_without_stub_or_source_is_skipped() -> None:
    surface = read(
        {
            "pkg/__init__.py": "from .fast import go as go\n",
            "pkg/fast.cpython-311-x86_64-linux-gnu.so": "\x7fELF",
        }
    )["pkg"]
    assert skips(surface)["pkg.fast"] == "compiled module with no .pyi stub or .py source"
    assert "pkg.fast" not in {s.name for s in surface.symbols}


def test_a_compiled_module_with_a_stub_is_read_from_the_stub() -> None:
    surface = read(
        {
            "pkg/__init__.py": "",
            "pkg/fast.cpython-311-x86_64-linux-gnu.so": "\x7fELF",
            "pkg/fast.pyi": "def go(n: int) -> int: ...\n",
        }
    )["pkg"]
    assert "pkg.fast.go function (n: int) -> int" in lines(surface)
    assert surface.skipped == ()


def test_a_dynamic_all_is_skipped_and_exports_are_read_by_name() -> None:
    surface = one("from . import base\n__all__ = base.__all__ + ['extra']\ndef extra(): ...\n")
    assert skips(surface)["pkg.__all__"].startswith("not a literal list of strings")
    assert "pkg.extra function ()" in lines(surface)


def test_an_unparseable_annotation_skips_that_symbol_only() -> None:
    surface = one("def broken(x: 'not valid(') -> None: ...\ndef fine(x: int) -> None: ...\n")
    assert skips(surface)["pkg.broken"] == "annotation 'not valid(' cannot be read"
    assert [s.name for s in surface.symbols] == ["pkg", "pkg.fine"]


def test_a_star_import_of_an_unknown_module_is_skipped() -> None:
    surface = one("from os.path import *\n", "pkg/__init__.pyi")
    assert skips(surface)["pkg.*"] == "star import from os.path, which is not in this package"


def test_a_star_import_of_the_packages_own_module_is_followed() -> None:
    surface = read(
        {"pkg/__init__.pyi": "from ._impl import *\n", "pkg/_impl.pyi": "def run() -> int: ...\n"}
    )["pkg"]
    assert "pkg.run function () -> int" in lines(surface)
    assert surface.skipped == ()


def test_a_module_that_does_not_parse_is_skipped() -> None:
    surface = read({"pkg/__init__.py": "", "pkg/bad.py": "def (:\n"})["pkg"]
    assert skips(surface)["pkg.bad"].startswith("does not parse with this Python")


def test_a_name_in_all_that_is_not_defined_is_skipped() -> None:
    surface = one("__all__ = ['ghost', 'real']\ndef real(): ...\n")
    assert skips(surface)["pkg.ghost"] == "listed in __all__ but not defined"


def test_a_reexport_from_a_module_not_in_the_wheel_is_skipped() -> None:
    surface = one("from .missing import thing as thing\n")
    assert skips(surface)["pkg.thing"] == "re-exported from a module that is not in the wheel"


def test_a_test_suite_is_skipped_as_not_api() -> None:
    surface = read(
        {
            "pkg/__init__.py": "",
            "pkg/tests/__init__.py": "",
            "pkg/tests/test_x.py": "def test_x(): ...\n",
        }
    )["pkg"]
    assert skips(surface) == {"pkg.tests": "test suite, not API"}
    assert lines(surface) == ["pkg module"]


# --- what is public -------------------------------------------------------------------------


def test_literal_all_decides_and_reexports_count() -> None:
    surface = read(
        {
            "pkg/__init__.py": (
                "from ._core import Client as Client\n"
                "from ._core import helper\n"  # plain import: not a re-export
                "import os\n"
                "def local() -> None: ...\n"
            ),
            "pkg/_core.py": "class Client:\n    def get(self, url: str) -> bytes: ...\n"
            "def helper() -> None: ...\n",
        }
    )["pkg"]
    assert lines(surface) == [
        "pkg module",
        "pkg.Client class",
        "pkg.Client.get method (self, url: str) -> bytes",
        "pkg.local function () -> None",
    ]
    limited = one("__all__ = ['b']\ndef a(): ...\ndef b(): ...\n")
    assert [s.name for s in limited.symbols] == ["pkg", "pkg.b"]


def test_private_names_are_left_out_but_dunder_methods_count() -> None:
    surface = one(
        "class C:\n"
        "    def __init__(self, x: int) -> None: ...\n"
        "    def _private(self) -> None: ...\n"
        "    __slots__ = ('x',)\n"
        "def _helper() -> None: ...\n"
        "__version__ = '1.0'\n"
    )
    assert lines(surface) == [
        "pkg module",
        "pkg.C class",
        "pkg.C.__init__ method (self, x: int) -> None",
    ]


def test_pyi_stubs_win_over_py_sources() -> None:
    surface = read(
        {
            "pkg/__init__.py": "def f(x): return x\n",
            "pkg/__init__.pyi": "def f(x: int) -> int: ...\n",
        }
    )["pkg"]
    assert lines(surface) == ["pkg module", "pkg.f function (x: int) -> int"]
    assert surface.source == "stubs"


def test_signatures_keep_kinds_and_default_presence() -> None:
    surface = one(
        "import typing as t\n"
        "def f(a: int, /, b: str = 'x', *args: int, c: bool, d: t.Optional[t.List[int]] = None,"
        " **kw: object) -> None: ...\n"
        "class K:\n"
        "    @property\n    def size(self) -> int: ...\n"
        "    @size.setter\n    def size(self, v: int) -> None: ...\n"
        "    @classmethod\n    def make(cls) -> 'K': ...\n"
        "    @staticmethod\n    async def ping() -> None: ...\n"
    )
    assert lines(surface) == [
        "pkg module",
        "pkg.K class",
        "pkg.K.make method @classmethod (cls) -> K",
        "pkg.K.ping method async @staticmethod () -> None",
        "pkg.K.size attribute: int (settable)",
        "pkg.f function (a: int, /, b: str = ..., *args: int, c: bool, "
        "d: list[int] | None = ..., **kw: object) -> None",
    ]


def test_overloads_are_the_signatures() -> None:
    surface = one(
        "from typing import overload\n"
        "@overload\ndef get(k: int) -> int: ...\n"
        "@overload\ndef get(k: str) -> str: ...\n"
        "def get(k): return k\n"
    )
    assert lines(surface) == [
        "pkg module",
        "pkg.get function (k: int) -> int",
        "pkg.get function (k: str) -> str",
    ]


# --- the digest -----------------------------------------------------------------------------

BASE = '''\
"""A module."""
from typing import Optional

# the default timeout
TIMEOUT: float = 5.0


def fetch(url: str, timeout: float = 1.0) -> Optional[bytes]:
    """Fetch a URL."""
    return None


def _helper() -> None:
    pass


class Client:
    """A client."""

    _cache: dict = {}

    def get(self, url: str) -> bytes:
        return b""
'''

SAME = {
    "docstrings": BASE.replace('"""Fetch a URL."""', '"""Fetch a URL, politely."""'),
    "comments": BASE.replace("# the default timeout", "# how long to wait\n# (seconds)"),
    "formatting": BASE.replace(
        "def fetch(url: str, timeout: float = 1.0)",
        "def fetch(\n    url:str,\n    timeout :float=1.0,\n)",
    ),
    "private names": BASE.replace("def _helper() -> None:", "def _other_helper(x: int) -> None:"),
    "default values": BASE.replace("timeout: float = 1.0", "timeout: float = 30.0"),
    "Optional spelling": BASE.replace("Optional[bytes]", "bytes | None"),
    "private annotations": BASE.replace("_cache: dict = {}", "_cache: 'Dict[str, int]' = {}"),
    "function bodies": BASE.replace('return b""', 'return b"changed"'),
}
DIFFERENT = {
    "renamed parameter": BASE.replace("def get(self, url: str)", "def get(self, address: str)"),
    "new public function": BASE + "\n\ndef post(url: str) -> None: ...\n",
    "changed annotation": BASE.replace(
        "def get(self, url: str) -> bytes", "def get(self, url: bytes) -> bytes"
    ),
    "default added": BASE.replace("def get(self, url: str)", "def get(self, url: str = '/')"),
    "parameter made keyword-only": BASE.replace("(url: str, timeout", "(url: str, *, timeout"),
    "public constant removed": BASE.replace("TIMEOUT: float = 5.0", ""),
}


@pytest.mark.parametrize("change", sorted(SAME))
def test_the_digest_ignores(change: str) -> None:
    assert one(SAME[change]).sha256 == one(BASE).sha256


@pytest.mark.parametrize("change", sorted(DIFFERENT))
def test_the_digest_changes_with(change: str) -> None:
    assert one(DIFFERENT[change]).sha256 != one(BASE).sha256


def test_the_digest_is_sha256_of_the_canonical_text() -> None:
    import hashlib

    surface = one(BASE)
    assert surface.text.splitlines() == [
        "pkg module",
        "pkg.Client class",
        "pkg.Client.get method (self, url: str) -> bytes",
        "pkg.TIMEOUT attribute: float",
        "pkg.fetch function (url: str, timeout: float = ...) -> bytes | None",
    ]
    assert surface.sha256 == hashlib.sha256(surface.text.encode()).hexdigest()


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("from typing import List\ndef f() -> List[int]: ...", "def f() -> list[int]: ..."),
        (
            "from typing import Optional\ndef f() -> Optional[int]: ...",
            "def f() -> int | None: ...",
        ),
        (
            "from typing import Union\ndef f() -> Union[str, int, None]: ...",
            "def f() -> None | int | str: ...",
        ),
        (
            "import collections.abc as abc\ndef f(m: abc.Mapping[str, int]) -> None: ...",
            "from typing import Mapping\ndef f(m: Mapping[str, int]) -> None: ...",
        ),
        ("def f() -> 'list[int]': ...", "def f() -> list[int]: ..."),
    ],
)
def test_equal_annotations_normalise_alike(left: str, right: str) -> None:
    assert lines(one(left)) == lines(one(right))


def test_an_empty_surface_has_no_digest() -> None:
    surface = read({"pkg/fast.cpython-311-x86_64-linux-gnu.so": "\x7fELF"})["pkg"]
    assert surface.symbols == ()
    assert surface.sha256 is None


def test_sources_are_read_never_imported_or_run(tmp_path: Path) -> None:
    """A module that would do something when imported is only read."""
    marker = tmp_path / "ran"
    surface = one(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
        "raise SystemExit('imported!')\n"
        "def still_read(x: int) -> int: ...\n"
    )
    assert "pkg.still_read function (x: int) -> int" in lines(surface)
    assert not marker.exists()


# --- function bodies are left out before parsing ----------------------------------------------


class _Bodies(ast.NodeTransformer):
    """Every function body made ``...``, to compare trees outside bodies."""

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        node.body = [ast.Expr(ast.Constant(...))]
        return node

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AsyncFunctionDef:
        node.body = [ast.Expr(ast.Constant(...))]
        return node


def _same_tree(source: bytes) -> bool:
    """Everything outside function bodies is the same with and without stripping."""
    expected = ast.dump(_Bodies().visit(ast.parse(source)))
    return ast.dump(_Bodies().visit(ast.parse(strip_bodies(source)))) == expected


TRICKY = [
    'def f():\n    x = """\ndef fake():\n    pass\n"""\n    return x\ny = 1\n',
    "def f(a,\nb):  # a comment ending in a backslash \\\n    return [\n1,\n]\nclass C: ...\n",
    "def f(): return 1\ndef g(\n    x: int = (\n        2),\n) -> int:\n    pass\n",
    "class A:\n    @property\n    def p(self):\n        class Inner: ...\n        return 1\n    q = 2\n",
    "async def f():\n    async with x:\n        pass\n\n\n    # trailing comment\nz = '''\n'''\n",
    "x = 1 + \\\n    2\ndef h():\n    return f'{x!r:>{10}}' \\\n        'more'\nw = 3\n",
    "if True:\n    def f():\n        pass\nelse:\n    def f(y):\n        pass\n",
    # The fast path's candidates that are not where a body ends: a quote on the line that
    # opens a triple-quoted string, a bracket or a backslash closing at column 0, a
    # column-0 comment inside a body, a "def" line in a docstring.
    'def f():\n    x = """ "\nclass Fake:\n"""\n    return x\ny = 1\n',
    "def f():\n    x = (\n1,\n)\n    return x\nz = 2\n",
    "def f():\n    x = 1 + \\\n2\n    return x\nz = 2\n",
    "def f():\n    a = 1\n# column 0\n    return a\nz = 3\n",
    '"""\ndef fake():\n    pass\n"""\ndef real(a):\n    return a\n',
    "x = [\ndef_ := 1,\n]\ndef g():\n    return '' + \"'\"\nq = 1\n",
    # Headers: a comment or a string after the colon, a string holding "#" and ":".
    "def f(a):  # note (\n    return a\nb = 1\n",
    'def f(a="#:"):\n    return a\ndef g(): "doc"\nx = 1\n',
    # Line endings and tabs.
    "def f():\r\n    return 1\r\nx = 2\r\n",
    "class A:\n\tdef f(self):\n\t\treturn 1\n\tx = 2\n",
]


@pytest.fixture
def no_shortening(monkeypatch: pytest.MonkeyPatch) -> None:
    """Big displays kept as written: the trees then differ from the source's only in bodies."""
    monkeypatch.setattr(pyapi, "_SHORTEN_FROM", sys.maxsize)


@pytest.mark.usefixtures("no_shortening")
@pytest.mark.parametrize("source", TRICKY)
def test_stripping_bodies_keeps_the_rest_of_the_tree(source: str) -> None:
    assert _same_tree(source.encode())


@pytest.mark.usefixtures("no_shortening")
def test_stripping_bodies_keeps_the_tree_of_real_modules() -> None:
    """The standard library as a corpus: every module's tree is kept but for bodies."""
    import dataclasses
    import email
    import json
    import typing

    files = sorted(Path(typing.__file__).parent.glob("*.py"))
    for package in (json.__file__, email.__file__):
        assert package is not None
        files += sorted(Path(package).parent.glob("*.py"))
    assert len(files) > 150
    assert Path(dataclasses.__file__) in files
    for file in files:
        assert _same_tree(file.read_bytes()), file


# --- big displays are shortened before parsing ------------------------------------------------

_PAD = "    'padding to make the display worth shortening', " * 6 + "\n"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        # A literal (only strings, numbers, True/False/None, unary signs): "0", still one.
        ("TABLE", "[\n    1, 2.5e-3, 0x1F, 1_000j, None, True,\n]", b"0"),
        ("TABLE", "{\n    'a': (1, 2),  # a comment ( [\n    b'x': r'\\d', u'y': 3,\n}", b"0"),
        ("TABLE", "(\n    'one'\n    'two'\n)", b"0"),
        ("TABLE", "[\n    rb'x', Rb\"y\", U'z',\n]", b"0"),
        ("TABLE", "[\n    -1, +2, - -3,\n]", None),  # signs: kept, a string may stand before
        # Not a literal: "[_]" (a list holding a name), still no literal.
        ("TABLE", "[\n    A, B,\n]", b"[_]"),
        ("TABLE", "[\n    f'{x}',\n]", b"[_]"),
        ("TABLE", "[\n    rf'{x}', Fr'{y}',\n]", b"[_]"),
        # A letter and a quote inside a string are not a prefix: the name stays seen.
        ("TABLE", "[\n    'a r', x, 'b',\n]", b"[_]"),
        ("TABLE", '[\n    "bar", x, "baz",\n]', b"[_]"),
        ("TABLE", "[\n    ...,\n]", b"[_]"),
        ("TABLE", "[\n    1 * 2,\n]", b"[_]"),
        ("TABLE", "{\n    **other,\n}", b"[_]"),
        ("TABLE", "[\n    x for x in y\n]", b"[_]"),
        # Only an all-caps name is asked whether its value is a literal.
        ("table", "[\n    1, 2,\n]", b"[_]"),
        ("table", "{\n    'a': 1,\n}", b"[_]"),
        # A parenthesised value that is no literal may be no display at all: kept.
        ("Alias", "(\n    int | str\n)", None),
        ("TABLE", "(\n    'a'\n    + 'b'\n)", None),
        ("TABLE", "(\n    compute(1)\n)", None),
        # More than one expression: kept.
        ("TABLE", "[\n    1,\n] [0]", None),
        ("TABLE", "[\n    1,\n] + [2]", None),
        ("TABLE", "[\n    a,\n] = pair", None),
    ],
)
def test_what_stands_for_a_display(name: str, value: str, expected: bytes | None) -> None:
    raw = value.encode()
    clean = pyapi._dropper().sub(b"", raw)
    assert pyapi._placeholder(name.encode(), raw, clean) == expected


def test_shortened_displays_give_the_surface_read_from_the_whole_source() -> None:
    source = (
        "from typing import Final\n"
        f"LITERAL = [\n{_PAD}    -1,\n]\n"
        f"NAMES = [\n{_PAD}    LITERAL,\n]\n"
        f"PAIRS = (\n{_PAD}    (1, 2),\n)\n"
        f"JOINED = (\n    '{'x' * 300}'\n    + 'tail'\n)\n"
        f"lowercase = {{\n    'k': [\n{_PAD}    ],\n}}\n"
        f"__all__ = [\n    'LITERAL', 'NAMES', 'PAIRS', 'JOINED', 'lowercase', 'C'\n]\n"
        "class C:\n"
        f"    tokens = {{\n        'root': [\n    {_PAD}        ],\n    }}\n"
        "    def method(self, a: int) -> None:\n"
        f"        table = [\n{_PAD}]\n"
        f"    ROWS = [\n{_PAD}    ]\n"
    )
    assert len(strip_bodies(source.encode())) < len(source) / 2  # the tables went
    assert lines(one(source)) == [
        "pkg module",
        "pkg.C class",
        "pkg.C.ROWS attribute",
        "pkg.C.method method (self, a: int) -> None",
        "pkg.C.tokens attribute",
        "pkg.JOINED attribute",  # a sum of strings, not a literal: kept, then read
        "pkg.LITERAL constant",  # a sign: kept, then read
        "pkg.NAMES attribute",  # shortened to [_]
        "pkg.PAIRS constant",  # shortened to 0
        "pkg.lowercase attribute",
    ]


def test_shortened_displays_leave_every_surface_of_real_modules_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The standard library as a corpus: each module read with its big displays shortened
    (as always) and with none shortened gives the same surface, symbol for symbol."""
    import typing

    root = Path(typing.__file__).parent
    sources = {
        f"{f.parent.name}_{f.stem}" if f.parent != root else f.stem: f.read_bytes()
        for f in sorted(root.glob("*.py")) + sorted(root.glob("*/*.py"))
    }
    ways: dict[bytes | None, int] = {}
    real = pyapi._placeholder

    def counting(name: bytes, value: bytes, clean: bytes) -> bytes | None:
        result = real(name, value, clean)
        ways[result] = ways.get(result, 0) + 1
        return result

    monkeypatch.setattr(pyapi, "_placeholder", counting)
    shortened = {}
    for name, source in sources.items():
        before = sum(ways.values())
        surface = pyapi.read_surface(name, {name: (source, False, False)})
        if sum(ways.values()) > before:
            shortened[name] = surface
    # Every way was taken, many times: literals, other displays, and kept ones.
    assert ways[b"0"] > 50 and ways[b"[_]"] > 100 and ways[None] > 3
    assert len(shortened) > 50
    monkeypatch.setattr(pyapi, "_SHORTEN_FROM", sys.maxsize)
    for name, surface in shortened.items():
        assert pyapi.read_surface(name, {name: (sources[name], False, False)}) == surface, name
