"""The project's import graph: no import of the project's own code inside a function, no circle.

Every module of the project is parsed with ``ast`` (nothing is imported). A
project import inside a function or method body hides a dependency and usually
props up a circle; a circle means two floors lean on each other. Relative
imports and ``importlib.import_module("<project module>")`` count the same.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("geo", "casefile", "layers", "app_pages", "wayhome", "vocab")
SINGLE_MODULES = ("dashboard.py", "app.py")
PROJECT = (*PACKAGES, "dashboard", "app")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _all_modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        base = ROOT / package
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            found[_module_name(path)] = path
    for name in SINGLE_MODULES:
        if (ROOT / name).exists():
            found[_module_name(ROOT / name)] = ROOT / name
    return found


MODULES = _all_modules()


def _is_project(name: str) -> bool:
    return name.split(".")[0] in PROJECT


def _resolve(module: str, node: ast.ImportFrom) -> str:
    """The absolute module a ``from … import`` names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    parts = package.split(".")
    if node.level > 1:
        parts = parts[: len(parts) - (node.level - 1)]
    return ".".join([*parts, node.module] if node.module else parts)


def _targets(module: str, node: ast.AST) -> Iterator[str]:
    """Project modules that one import statement (or ``importlib`` call) pulls in."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if _is_project(alias.name):
                yield alias.name
    elif isinstance(node, ast.ImportFrom):
        base = _resolve(module, node)
        if not _is_project(base):
            return
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            yield sub if sub in MODULES else base
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "import_module"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "importlib"
        and node.args
    ):
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            if _is_project(arg.value):
                yield arg.value


def _walk(module: str, tree: ast.Module) -> Iterator[tuple[str, int, bool]]:
    """(target, line, inside a function) for every project import of a module."""

    def visit(node: ast.AST, in_function: bool) -> Iterator[tuple[str, int, bool]]:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
            )
            for target in _targets(module, child):
                yield target, getattr(child, "lineno", 0), in_function
            yield from visit(child, inner)

    yield from visit(tree, False)


def _imports() -> dict[str, list[tuple[str, int, bool]]]:
    return {
        name: list(_walk(name, ast.parse(path.read_text(encoding="utf-8"), str(path))))
        for name, path in MODULES.items()
    }


IMPORTS = _imports()


def _package_of(module: str) -> str:
    return module.split(".")[0]


def _packages() -> list[str]:
    return sorted({_package_of(m) for m in MODULES})


@pytest.mark.parametrize("package", _packages())
def test_no_project_import_inside_a_function(package: str) -> None:
    found = sorted({
        f"{module}:{line} imports {target}"
        for module, rows in IMPORTS.items() if _package_of(module) == package
        for target, line, in_function in rows if in_function
    })
    assert not found, "imports of the project inside functions:\n" + "\n".join(found)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:  # Tarjan; the graph is small, recursion is fine
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def _graph(packages: set[str]) -> dict[str, set[str]]:
    return {
        module: {t for t, _, in_function in rows if not in_function and t in MODULES}
        for module, rows in IMPORTS.items() if _package_of(module) in packages
    }


def test_the_cycle_finder_finds_a_circle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_relative_and_importlib_imports_are_seen() -> None:
    tree = ast.parse(
        "def f():\n    from . import crs\n    import importlib\n"
        "    importlib.import_module('geo.shapes')\n"
    )
    rows = list(_walk("geo.overlap", tree))
    assert ("geo.crs", 2, True) in rows
    assert ("geo.shapes", 4, True) in rows


@pytest.mark.parametrize("package", _packages())
def test_no_import_circle(package: str) -> None:
    """No circle through the package (modules of the floors below are followed too)."""
    graph = _graph({_package_of(m) for m in MODULES})
    circles = [c for c in _cycles(graph) if any(_package_of(m) == package for m in c)]
    assert not circles, "import circles:\n" + "\n".join(" ↔ ".join(c) for c in circles)
