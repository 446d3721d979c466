"""The house's rooms: packages by stage, dependencies pointing down only, no import
cycle, a top level that holds only the face and the ground modules, package
``__init__`` files that import nothing (start-up and the surface workers stay light).

The order, lowest first, is declared once, here (docs/design.md explains it).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "tumbler"
#: Stages, lowest first; a module may import from its own stage and those before it.
ORDER = (
    "ground",
    "net",
    "project",
    "env",
    "lockfile",
    "index",
    "surface",
    "attest",
    "advisories",
    "formats",
    "resolver",
    "installing",
    "cli",
    "face",
)
#: The top level's modules besides the face (``__init__``, ``__main__``).
GROUND = frozenset({"errors", "findings", "progress", "leaving", "version"})


def _module(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _stage(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "__main__":
        return "face"
    return "ground" if parts[1] in GROUND else parts[1]


def _sources() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if "_vendor" not in p.parts]


def _imports(path: Path) -> set[str]:
    """Every tumbler module ``path`` imports, at any depth (deferred and typing-only
    imports are dependencies too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "tumbler":
                found.update(f"tumbler.{a.name}" for a in node.names)
            elif node.module.startswith("tumbler."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("tumbler."))
    return found


def _graph() -> dict[str, set[str]]:
    return {_module(p): _imports(p) for p in _sources()}


def test_every_module_is_in_a_known_stage() -> None:
    stages = {_stage(m) for m in _graph()}
    assert stages <= set(ORDER), stages - set(ORDER)


def test_dependencies_point_down() -> None:
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in _graph().items()
        for target in targets
        if ORDER.index(_stage(target)) > ORDER.index(_stage(module))
    )
    assert upward == []


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """A cycle of ``graph``, or [] (depth-first, colouring)."""
    colour: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str]:
        colour[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if colour.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in colour and (found := visit(target)):
                return found
        colour[node] = 2
        path.pop()
        return []

    for node in sorted(graph):
        if node not in colour and (found := visit(node)):
            return found
    return []


def test_no_import_cycle() -> None:
    assert _cycle(_graph()) == []


def test_the_cycle_finder_finds_cycles_and_the_order_check_finds_upward_imports() -> None:
    """The checks above can fail: a made-up graph with a cycle and an upward import."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []
    assert ORDER.index(_stage("tumbler.cli.app")) > ORDER.index(_stage("tumbler.net.http"))


def test_the_top_level_holds_the_face_and_the_ground_modules_only() -> None:
    modules = {p.stem for p in SRC.glob("*.py")}
    assert modules == {"__init__", "__main__", *GROUND}
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert packages == set(ORDER) - {"ground", "face"}


@pytest.mark.parametrize("init", sorted(SRC.glob("*/**/__init__.py")), ids=str)
def test_package_inits_import_nothing(init: Path) -> None:
    tree = ast.parse(init.read_text(encoding="utf-8"))
    imports = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Import) or (isinstance(n, ast.ImportFrom) and n.module != "__future__")
    ]
    assert imports == [], init


def test_a_surface_worker_loads_the_surface_reader_only() -> None:
    """What a surface worker process imports (``tumbler.surface.members``): the reader and
    the one ground module it needs; no lock model, network or resolver."""
    code = (
        "import sys, tumbler.surface.members; "
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('tumbler'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == [
        "tumbler",
        "tumbler.errors",
        "tumbler.surface",
        "tumbler.surface.members",
        "tumbler.surface.pyapi",
    ]
