"""The layout of the code: which package may import which, no import loops, and the picture of it in
docs/architecture.md drawn from the imports as they are.

Every import counts: at the top of a module, inside a function, under ``TYPE_CHECKING``, and a module
named to :func:`importlib.import_module` as a string. Run this file (``python
tests/test_architecture.py``) to print the picture for docs/architecture.md.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import defaultdict
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent

#: Each package (or module standing alone) and the packages it may import.
ALLOWED: dict[str, set[str]] = {
    "lineage.errors": set(),
    "lineage.config": set(),
    "lineage.graph": {"lineage.config", "lineage.errors"},
    "lineage.recall": {"lineage.graph", "lineage.config", "lineage.errors"},
    "lineage.complaints": {"lineage.graph", "lineage.config", "lineage.errors"},
    "lineage.interchange": {"lineage.graph", "lineage.recall", "lineage.config", "lineage.errors"},
    "lineage.loading": {"lineage.graph", "lineage.interchange", "lineage.config", "lineage.errors"},
    "lineage.samples": {"lineage.graph"},
    # The package itself: the public names (imported when first used) and the version.
    "lineage": {"lineage.graph", "lineage.loading", "lineage.config", "lineage.errors"},
}
LIBRARY = set(ALLOWED) - {"lineage"}
ALLOWED["lineage.cli"] = {*LIBRARY, "lineage"}
ALLOWED["api"] = {*LIBRARY, "lineage"}


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module of lineage and api by dotted name (a package by its own name)."""
    found = {}
    for path in [*root.glob("lineage/**/*.py"), *root.glob("api/**/*.py")]:
        parts = path.relative_to(root).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(root: Path = ROOT) -> nx.DiGraph:
    """Module to module, for every import of one of ours, wherever in the module it is."""
    known = modules(root)

    def ours(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    graph = nx.DiGraph()
    graph.add_nodes_from(known)
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # from ..graph import x, inside lineage.cli: lineage.graph
                    parts = package.split(".")
                    base = ".".join([*parts[: len(parts) - node.level + 1], base]).rstrip(".")
                targets = [f"{base}.{alias.name}" for alias in node.names]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "import_module"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                targets = [str(node.args[0].value)]
            for target in targets:
                module = ours(target)
                if module and module != name:
                    graph.add_edge(name, module)
    return graph


def package_of(module: str) -> str:
    """The entry of :data:`ALLOWED` a module belongs to: its longest listed prefix."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in ALLOWED:
            return ".".join(parts[:n])
    raise AssertionError(f"{module} is in no package of ALLOWED: place it, and say what it may import")


def packages() -> nx.DiGraph:
    graph = nx.DiGraph()
    for a, b in imports().edges:
        if package_of(a) != package_of(b):
            graph.add_edge(package_of(a), package_of(b))
    return graph


#: Imported by every layer; left out of the picture, which would be mostly their arrows.
FOUNDATION = {"lineage.config", "lineage.errors"}


def mermaid() -> str:
    """The package graph as a Mermaid flowchart, one edge per line, sorted; :data:`FOUNDATION` left out."""
    short = {name: name.removeprefix("lineage.") for name in ALLOWED}
    lines = ["flowchart TD"]
    for a, b in sorted(packages().edges):
        if b in FOUNDATION:
            continue
        lines.append(
            f"    {short[a].replace('.', '_')}[{short[a]}] --> {short[b].replace('.', '_')}[{short[b]}]"
        )
    return "\n".join(lines)


def loops(graph: nx.DiGraph) -> list[list[str]]:
    """Groups of modules that import each other, directly or around a loop."""
    return sorted(sorted(group) for group in nx.strongly_connected_components(graph) if len(group) > 1)


def broken_rules(graph: nx.DiGraph) -> dict[str, list[str]]:
    """Each import from one package into another that :data:`ALLOWED` does not let it make."""
    broken = defaultdict(list)
    for a, b in sorted(graph.edges):
        pa, pb = package_of(a), package_of(b)
        if pa != pb and pb not in ALLOWED[pa]:
            broken[f"{pa} may not import {pb}"].append(f"{a} -> {b}")
    return dict(broken)


def test_no_import_loops() -> None:
    assert loops(imports()) == []


def test_every_import_keeps_to_the_layers() -> None:
    graph = imports()
    assert graph.number_of_edges() > 200  # the walk saw the imports, not an empty tree
    assert broken_rules(graph) == {}


def test_the_checks_catch_a_loop_and_a_forbidden_import(tmp_path: Path) -> None:
    """A core module that imports recall work lazily, under TYPE_CHECKING or by name, is caught."""
    files = {
        "lineage/graph/__init__.py": "",
        "lineage/graph/a.py": "def f():\n    from lineage.recall.b import g\n",
        "lineage/graph/c.py": "import importlib\nimportlib.import_module('lineage.cli.d')\n",
        "lineage/recall/__init__.py": "",
        "lineage/recall/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from lineage.graph import a\n",
        "lineage/cli/d.py": "from ..graph import c\n",
        "api/e.py": "from lineage.graph.a import f\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = imports(tmp_path)
    assert loops(graph) == [["lineage.cli.d", "lineage.graph.c"], ["lineage.graph.a", "lineage.recall.b"]]
    assert broken_rules(graph) == {
        "lineage.graph may not import lineage.cli": ["lineage.graph.c -> lineage.cli.d"],
        "lineage.graph may not import lineage.recall": ["lineage.graph.a -> lineage.recall.b"],
    }


def test_every_package_says_what_it_owns_and_may_import() -> None:
    for package in ALLOWED:
        if package in ("lineage.errors", "lineage.config", "lineage", "api"):
            continue
        init = ROOT / package.replace(".", "/") / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "May import" in doc, f"{init} does not say what the package may import"


def test_the_architecture_picture_is_the_imports_as_they_are() -> None:
    text = (ROOT / "docs/architecture.md").read_text(encoding="utf-8")
    drawn = re.search(r"```mermaid\n(.*?)\n```", text, re.S)
    assert drawn, "docs/architecture.md has no mermaid picture"
    assert drawn.group(1) == mermaid(), "redraw it: python tests/test_architecture.py"


def test_modules_read_in_one_sitting() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in modules().values()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert long == {}


if __name__ == "__main__":
    sys.stdout.write(mermaid() + "\n")
