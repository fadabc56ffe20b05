"""The import graph of `ncst`: no cycle between modules, and each package imports only the layers below it.

Every import counts, including those inside functions (a lazy import still ties two modules together),
except those under `if TYPE_CHECKING:`. The allowed table is the one docs/architecture.md draws.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import ncst

SRC = Path(ncst.__file__).parent

#: Package (first component under ncst) -> the packages it may import. `cli` may import anything.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "io": {"errors"},
    "classes": {"errors", "io"},
    "taxonomy": {"errors", "io"},
    "paths": {"errors"},
    "layout": {"errors", "io", "paths"},
    "audio": {"errors", "io"},
    "codecs": {"audio", "classes", "errors", "io", "taxonomy"},
    "corpora": {"audio", "errors", "io", "layout", "paths"},
    "sets": {"classes", "corpora", "errors", "io", "layout", "paths"},
    "protocols": {"classes", "errors", "io", "layout"},
    "benchmark": {"classes", "errors", "io", "layout", "protocols", "sets", "taxonomy"},
    "build_dataset": {"ncst", "audio", "classes", "codecs", "corpora", "errors", "io", "layout", "paths", "sets"},
    "recipes": {
        "ncst",
        "audio",
        "build_dataset",
        "classes",
        "codecs",
        "corpora",
        "errors",
        "io",
        "layout",
        "paths",
        "sets",
    },
    "verify": {"build_dataset", "errors", "io", "layout", "recipes", "sets"},
    "models": {"audio", "benchmark", "classes", "corpora", "errors", "io", "layout", "protocols", "sets", "taxonomy"},
    "export": {"audio", "build_dataset", "classes", "corpora", "errors", "io", "layout", "paths", "recipes"},
    "cards": {
        "ncst",
        "audio",
        "benchmark",
        "build_dataset",
        "classes",
        "codecs",
        "corpora",
        "errors",
        "io",
        "layout",
        "paths",
        "recipes",
    },
    "testing": {"audio", "codecs", "corpora", "errors", "io", "taxonomy"},
}
#: Modules that orchestrate several layers, like the CLI (the demo builds, trains and scores).
ORCHESTRATORS = {"ncst.models.demo"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, modules: set[str]) -> set[str]:
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    skip: set[int] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            skip.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                found.add(full if full in modules else target)
    return {m for m in found if m in modules and m != name}


def _graph() -> dict[str, set[str]]:
    paths = {_module_name(p): p for p in SRC.rglob("*.py")}
    modules = set(paths)
    return {name: _imports(path, modules) for name, path in paths.items()}


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "ncst"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_lower_layers(package: str) -> None:
    graph = _graph()
    wrong = sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        if _package(module) == package and module not in ORCHESTRATORS
        for target in targets
        if _package(target) not in ALLOWED[package] | {package}
    )
    assert wrong == []


def test_every_package_is_in_the_table() -> None:
    packages = {_package(m) for m in _graph()} - {"ncst", "cli"}
    assert packages <= set(ALLOWED)
