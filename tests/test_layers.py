"""Imports point down the layers of docs/architecture.md and form no cycles: every `import` in src/ragft is read
(module level and inside functions alike) and checked against the layer of the package it names."""
from __future__ import annotations

import ast
from pathlib import Path

import ragft

SRC = Path(ragft.__file__).parent

# docs/architecture.md: faces -> evaluate -> rag / finetune / qa -> llm, costs, advise -> the ground floor.
LAYERS = {
    "cli": 4, "server": 4, "report": 4,
    "evaluate": 3,
    "rag": 2, "finetune": 2, "qa": 2,
    "llm": 1, "costs": 1, "advise": 1,
    "ragft": 1,     # the package root: __version__, the eager `advise` re-export, lazy names for the rest
    "errors": 0, "registry": 0, "adapters": 0, "text": 0, "files": 0, "jsonl": 0, "lazy": 0, "secrets": 0, "testing": 0, "cores": 0,
    "versions": 1,  # reads ragft.__version__ from the package root
}

KNOWN_UPWARD: set[tuple[str, str]] = set()
KNOWN_MODULE_CYCLES: set[frozenset[str]] = set()
KNOWN_PACKAGE_CYCLES: set[frozenset[str]] = set()


# The library reports progress through callbacks; only the faces draw (rich).
FACES = {"cli", "server", "report"}
KNOWN_DRAWING: set[str] = set()


def modules() -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package)."""
    found = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def imports(name: str, path: Path, package: bool, known: dict) -> set[str]:
    """The ragft modules `name` imports; `from X import Y` counts as X.Y when that is a module."""
    targets = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = name.split(".") if package else name.split(".")[:-1]
                base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
            targets.update(f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names)
    return {t for t in targets if t == "ragft" or t.startswith("ragft.")}


def unit(module: str) -> str:
    """The layer unit: a top-level subpackage or ground-floor module (`ragft.rag.engine` -> `rag`)."""
    return module.split(".")[1] if "." in module else module


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, package, known) for name, (path, package) in known.items()}


def cycles(edges: dict[str, set[str]]) -> set[frozenset[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = set()

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.add(frozenset(component))

    for node in list(edges):
        if node not in index:
            visit(node)
    return found


def test_every_package_and_ground_floor_module_has_a_layer():
    assert {unit(name) for name in modules()} - set(LAYERS) == set()


def test_imports_point_down_the_layers_only():
    edges = graph()
    upward = {(source, target) for source, targets in edges.items() for target in targets
              if LAYERS[unit(target)] > LAYERS[unit(source)]}
    assert sorted(upward - KNOWN_UPWARD) == [], "new upward imports (move the shared code down a layer)"
    assert sorted(KNOWN_UPWARD - upward) == [], "fixed: remove these from KNOWN_UPWARD"


def test_no_module_imports_itself_through_a_cycle():
    edges = graph()
    found = cycles({source: {t for t in targets if t in edges and t != source} for source, targets in edges.items()})
    assert sorted(map(sorted, found - KNOWN_MODULE_CYCLES)) == [], "new import cycles between modules"
    assert sorted(map(sorted, KNOWN_MODULE_CYCLES - found)) == [], "fixed: remove these from KNOWN_MODULE_CYCLES"


def test_no_two_packages_import_each_other():
    packages: dict[str, set[str]] = {}
    for source, targets in graph().items():
        packages.setdefault(unit(source), set()).update(unit(t) for t in targets if unit(t) != unit(source))
    found = cycles(packages)
    assert sorted(map(sorted, found - KNOWN_PACKAGE_CYCLES)) == [], "new import cycles between packages"
    assert sorted(map(sorted, KNOWN_PACKAGE_CYCLES - found)) == [], "fixed: remove these from KNOWN_PACKAGE_CYCLES"


def test_only_the_faces_import_rich():
    drawing = {name for name, (path, _) in modules().items() if unit(name) not in FACES
               and any(top == "rich" for top in third_party(path))}
    assert sorted(drawing - KNOWN_DRAWING) == [], "the library draws: report through a callback (ragft.rag.progress)"
    assert sorted(KNOWN_DRAWING - drawing) == [], "fixed: remove these from KNOWN_DRAWING"


def third_party(path: Path) -> set[str]:
    """The top-level names of every absolute import in `path` (`from rich.progress import Progress` -> rich)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_checker_sees_imports_inside_functions_and_relative_ones(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text("from . import files\n\ndef late():\n    from ragft.report import html\n    import ragft.cli\n")
    known = {"ragft.files": None, "ragft.report.html": None, "ragft.cli": None}
    assert imports("ragft.probe", source, False, known) == {"ragft.files", "ragft.report.html", "ragft.cli"}
