"""The import graph of ``src/goldsmith``: imports go down, never up, and never in a circle.

How the graph is built
----------------------
Every ``.py`` file under ``src/goldsmith`` is a node, named like its module; a package's
``__init__.py`` is the node of the package itself. ``import goldsmith.a.b`` and
``from goldsmith.a import b`` (where ``b`` is a submodule) give an edge to ``goldsmith.a.b``;
``from goldsmith.a import Name`` gives an edge to ``goldsmith.a`` (its ``__init__``, which
re-exports ``Name``). Relative imports are resolved the same way.

The parent packages Python runs implicitly before a submodule are *not* edges: counting them
would join every module to ``goldsmith/__init__.py``, which re-exports the whole public API,
and report a cycle everywhere. A package ``__init__`` still is a node with its real edges,
so a library module that imports from the ``goldsmith`` facade (``from goldsmith import
Project``) closes a real cycle through it and is reported.

Imports inside functions count too: hiding an import in a function does not remove the
dependency. The one exception (see DESIGN.md) is a lazy import of an optional heavy extra,
and those are never goldsmith modules. Heavy libraries and the modules a command needs only
when it runs (the server for ``serve``) are imported on first use through the one helper,
``goldsmith._lazy.lazy_module("name")`` / ``optional("name", extra)``: the scanner reads its
literal argument as a deferred import (an edge when it names a goldsmith module), and a
package ``__init__`` with a PEP 562 ``__getattr__`` gets real edges from the names it imports
under ``TYPE_CHECKING`` (that ``__getattr__`` loads them). Other imports under
``if TYPE_CHECKING:`` count as upward edges (a layering smell even for typing) but not as
cycle edges (they never run).
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

import goldsmith

SRC = Path(goldsmith.__file__).resolve().parent
TOP = {
    "goldsmith.cli",
    "goldsmith.cli_loop",
    "goldsmith.cli_qa",
    "goldsmith.cli_train",
    "goldsmith.cli_weak",
    "goldsmith._cli_common",
    "goldsmith.demo",
    "goldsmith._console",
    "goldsmith.client",
}  # top layers
OPTIONAL_EXTRAS = {
    "torch",
    "transformers",
    "peft",
    "trl",
    "ray",
    "sentence_transformers",
    "psycopg",
    "datasets",
}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    in_function: bool
    typing_only: bool


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _resolve_relative(module: str, level: int, name: str | None) -> str:
    package = module if _is_package(module) else module.rpartition(".")[0]
    for _ in range(level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{name}" if name else package


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


class _ImportVisitor(ast.NodeVisitor):
    def __init__(self, module: str) -> None:
        self.module = module
        self.edges: list[Edge] = []
        self.function_imports: list[tuple[str, int]] = []  # (imported name, line)
        self.helper_imports: list[tuple[str, str | None, int]] = []  # (helper, name, line)
        self._depth = 0
        self._typing = 0

    # scopes ---------------------------------------------------------------
    def _in_scope(self, node: ast.AST) -> None:
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _in_scope

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            self._typing += 1
            for child in node.body:
                self.visit(child)
            self._typing -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    # imports --------------------------------------------------------------
    def _add(self, target: str, node: ast.stmt) -> None:
        if self._depth:
            self.function_imports.append((target, node.lineno))
        if target == "goldsmith" or target.startswith("goldsmith."):
            while target not in MODULES and "." in target:
                target = target.rpartition(".")[0]  # a name re-exported by a package
            edge = Edge(self.module, target, node.lineno, self._depth > 0, self._typing > 0)
            self.edges.append(edge)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = (
            _resolve_relative(self.module, node.level, node.module)
            if node.level
            else node.module or ""
        )
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            self._add(sub if sub in MODULES else base, node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if called in LAZY_HELPERS:
            first = node.args[0] if node.args else None
            target = first.value if isinstance(first, ast.Constant) else None
            name = target if isinstance(target, str) else None
            self.helper_imports.append((called, name, node.lineno))
            if isinstance(target, str) and (
                target == "goldsmith" or target.startswith("goldsmith.")
            ):
                while target not in MODULES and "." in target:
                    target = target.rpartition(".")[0]
                self.edges.append(Edge(self.module, target, node.lineno, True, self._typing > 0))
        self.generic_visit(node)


LAZY_HELPERS = {"lazy_module", "optional"}  # goldsmith._lazy: deferred imports, by name
HELPER_CALLS: list[tuple[str, str, str | None, int]] = []  # (module, helper, name, line)


def _scan() -> tuple[list[Edge], list[tuple[str, str, int]]]:
    edges: list[Edge] = []
    lazy: list[tuple[str, str, int]] = []
    for module, path in MODULES.items():
        visitor = _ImportVisitor(module)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        visitor.visit(tree)
        if any(isinstance(n, ast.FunctionDef) and n.name == "__getattr__" for n in tree.body):
            # PEP 562: __getattr__ imports on first use what the module names under TYPE_CHECKING
            visitor.edges = [
                Edge(e.source, e.target, e.line, True, False) if e.typing_only else e
                for e in visitor.edges
            ]
        edges.extend(visitor.edges)
        lazy.extend((module, name, line) for name, line in visitor.function_imports)
        HELPER_CALLS.extend((module, *call) for call in visitor.helper_imports)
    return edges, lazy


EDGES, FUNCTION_IMPORTS = _scan()


def _is_top(module: str) -> bool:
    return module in TOP or module == "goldsmith.server" or module.startswith("goldsmith.server.")


def _cycles(edges: list[Edge]) -> list[list[str]]:
    """Strongly connected components with more than one module, or a self-import (Tarjan)."""
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for e in edges:
        graph[e.source].add(e.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


# --------------------------------------------------------------------------- the graph


def test_the_graph_sees_the_known_edges() -> None:
    """Guard against a scanner that silently finds nothing."""
    pairs = {(e.source, e.target) for e in EDGES}
    assert ("goldsmith.cli", "goldsmith.project") in pairs
    assert ("goldsmith.project", "goldsmith.store") in pairs
    assert ("goldsmith.store.base", "goldsmith.store.engine") in pairs
    assert ("goldsmith", "goldsmith.errors") in pairs


# The public facade re-exports the SDK (``from goldsmith import Client``). The SDK only speaks
# HTTP and imports nothing above ``errors``, so this edge cannot pull the server into a library.
FACADE_EXPORTS = {("goldsmith", "goldsmith.client")}


def _upward(edges: list[Edge]) -> list[str]:
    return [
        f"{e.source} imports {e.target} (line {e.line})"
        for e in edges
        if _is_top(e.target)
        and not _is_top(e.source)
        and (e.source, e.target) not in FACADE_EXPORTS
    ]


def test_the_sdk_needs_nothing_but_errors() -> None:
    targets = {e.target for e in EDGES if e.source == "goldsmith.client"}
    assert targets == {"goldsmith.errors"}


def test_no_upward_imports() -> None:
    upward = _upward(EDGES)
    assert upward == [], (
        "library modules must not import the CLI, the server or the console "
        "(imports go down, never up):\n  " + "\n  ".join(upward)
    )


def test_no_import_cycles() -> None:
    cycles = _cycles([e for e in EDGES if not e.typing_only])
    assert cycles == [], "import cycles among goldsmith modules:\n  " + "\n  ".join(
        " <-> ".join(c) for c in cycles
    )


def test_upward_check_flags_the_cli_console_and_server() -> None:
    fake = [
        Edge("goldsmith.project", "goldsmith.cli", 3, False, False),
        Edge("goldsmith.export.card", "goldsmith._console", 4, True, False),
        Edge("goldsmith.store.base", "goldsmith.server.app", 5, False, True),
        Edge("goldsmith.server.api", "goldsmith.cli", 6, False, False),
        Edge("goldsmith.cli", "goldsmith.project", 7, False, False),
    ]
    assert _upward(fake) == [
        "goldsmith.project imports goldsmith.cli (line 3)",
        "goldsmith.export.card imports goldsmith._console (line 4)",
        "goldsmith.store.base imports goldsmith.server.app (line 5)",
    ]


def test_cycle_finder_finds_a_cycle() -> None:
    fake = [
        Edge("goldsmith.schema", "goldsmith.errors", 1, False, False),
        Edge("goldsmith.errors", "goldsmith.schema", 1, True, False),
    ]
    assert _cycles(fake) == [["goldsmith.errors", "goldsmith.schema"]]


def test_imports_inside_functions_are_only_optional_extras() -> None:
    hidden = [
        f"{module}:{line} imports {name} inside a function"
        for module, name, line in FUNCTION_IMPORTS
        if name.split(".")[0] not in OPTIONAL_EXTRAS
    ]
    assert hidden == [], (
        "move these imports to the top of the module, or import them on first use through "
        "goldsmith._lazy.lazy_module / optional (only optional extras "
        f"{sorted(OPTIONAL_EXTRAS)} may be imported inside a function):\n  " + "\n  ".join(hidden)
    )


# --------------------------------------------------------------------------- floors

# Each top-level module or package of goldsmith sits on one floor and imports only its own
# floor or those below (DESIGN.md, "the one picture"). The CLI, the server and the SDK are
# above them all (``TOP``); ``goldsmith/__init__`` is the facade.
FLOORS: dict[str, int] = {
    # 0: the vocabulary and the store
    **dict.fromkeys(["errors", "schema", "kinds", "store", "progress", "ray_jobs", "_lazy"], 0),
    # 1: shared machinery every stage may use (arrays in, arrays out; text hygiene; labels)
    **dict.fromkeys(["models", "llm", "pii", "dedup", "labels", "config"], 1),
    # 2: the stages
    **dict.fromkeys(
        ["ingest", "weak", "active", "prelabel", "quality", "augment", "export", "train"], 2
    ),
    **dict.fromkeys(["annotation", "access", "browse"], 2),
    # 3: the workflow front and what it alone composes from several stages
    **dict.fromkeys(["simulation", "engines", "overview", "project"], 3),
}
STAGES = {name for name, floor in FLOORS.items() if floor == 2}

# The sideways edges between stages that are allowed, each by name and with its reason.
SIDEWAYS = {
    # augmentation is judged by the simulator's replay of labels (with and without synthetic)
    ("goldsmith.augment.evaluate", "goldsmith.active.simulate"),
    # the label-consistency filter asks the applied LFs and their label model
    ("goldsmith.augment.label_check", "goldsmith.weak.apply"),
    ("goldsmith.augment.label_check", "goldsmith.weak.label_models"),
    ("goldsmith.augment.label_check", "goldsmith.weak.lf"),
    ("goldsmith.augment.label_check", "goldsmith.weak.run"),
    ("goldsmith.augment.run", "goldsmith.weak.lf"),
    # gold honeypots are the queue's business, scored by quality's pure rule (no transaction)
    ("goldsmith.annotation.queue", "goldsmith.quality.honeypots"),
    # gold is sampled with the export's group-aware splitter, so gold never straddles splits
    ("goldsmith.quality.gold", "goldsmith.export.splits"),
    # annotator skill is Dawid-Skene, the same EM as the label model's
    ("goldsmith.quality.annotators", "goldsmith.weak.label_models"),
    # training rows are the export's rows and prompts: what is trained is what is exported
    ("goldsmith.train.chat", "goldsmith.export.prompts"),
    ("goldsmith.train.data", "goldsmith.export.plan"),
    ("goldsmith.train.evaluate", "goldsmith.export.prompts"),
    # the evaluation report reuses the QA report's figures and HTML shell
    ("goldsmith.train.report", "goldsmith.quality.figures"),
    ("goldsmith.train.report", "goldsmith.quality.report"),
}


def _floor(module: str) -> int | None:
    parts = module.split(".")
    return FLOORS.get(parts[1]) if len(parts) > 1 else None


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _floor_breaks(edges: list[Edge]) -> list[str]:
    out = []
    for e in edges:
        low, high = _floor(e.source), _floor(e.target)
        if low is None or high is None:
            continue
        if high > low:
            out.append(f"{e.source} (floor {low}) imports {e.target} (floor {high}), line {e.line}")
        elif (
            low == high == 2
            and _package(e.source) != _package(e.target)
            and (e.source, e.target) not in SIDEWAYS
        ):
            out.append(f"stage {e.source} imports stage {e.target} sideways, line {e.line}")
    return out


def test_every_top_level_module_has_a_floor() -> None:
    named = {m.split(".")[1] for m in MODULES if m.count(".") >= 1}
    unplaced = sorted(
        n for n in named if n not in FLOORS and not _is_top(f"goldsmith.{n}") and n != "__main__"
    )
    assert unplaced == [], f"give these a floor in FLOORS (tests/test_architecture.py): {unplaced}"


def test_floors_hold_and_stages_do_not_import_sideways() -> None:
    broken = _floor_breaks(EDGES)
    assert broken == [], (
        "imports go down the floors, and a stage uses another only through an edge named in "
        "SIDEWAYS:\n  " + "\n  ".join(broken)
    )


def test_every_allowed_sideways_edge_is_still_used() -> None:
    pairs = {(e.source, e.target) for e in EDGES}
    assert sorted(SIDEWAYS - pairs) == []


def test_floor_check_flags_upward_and_sideways_edges() -> None:
    fake = [
        Edge("goldsmith.models.classifier", "goldsmith.active.loop", 1, False, False),
        Edge("goldsmith.weak.fit", "goldsmith.quality.resolve", 2, False, False),
        Edge("goldsmith.train.report", "goldsmith.quality.report", 3, False, False),
        Edge("goldsmith.project", "goldsmith.weak.fit", 4, False, False),
    ]
    assert _floor_breaks(fake) == [
        "goldsmith.models.classifier (floor 1) imports goldsmith.active.loop (floor 2), line 1",
        "stage goldsmith.weak.fit imports stage goldsmith.quality.resolve sideways, line 2",
    ]


def test_no_transaction_crosses_a_package() -> None:
    """A store transaction is used only inside the package that opened it: no module outside
    ``store`` takes one from another package (``Nothing passes a database session across a
    module boundary except store``)."""
    takers = {}
    for module, path in MODULES.items():
        if _package(module) == "store":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                args = node.args.args + node.args.kwonlyargs
                if any(
                    a.annotation is not None and "Tx" in ast.unparse(a.annotation) for a in args
                ):
                    takers[f"{module}.{node.name}"] = _package(module)
    crossing = []
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    name = f"{node.module}.{alias.name}"
                    if name in takers and takers[name] != _package(module):
                        crossing.append(f"{module} imports {name}")
    assert crossing == [], "these pass a store transaction across packages:\n  " + "\n  ".join(
        crossing
    )


# --------------------------------------------------------------------------- public API


def _bound_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    nodes = list(tree.body)
    if any(isinstance(n, ast.FunctionDef) and n.name == "__getattr__" for n in tree.body):
        # PEP 562: the names imported under TYPE_CHECKING are the ones __getattr__ provides
        for n in tree.body:
            if isinstance(n, ast.If) and _is_type_checking(n.test):
                nodes.extend(n.body)
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
    names.discard("annotations")  # from __future__ import annotations
    return names


def _declared_all(tree: ast.Module) -> list[str] | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            return list(value)
    return None


PACKAGES_WITH_ALL = [
    m
    for m, p in MODULES.items()
    if p.name == "__init__.py" and _declared_all(ast.parse(p.read_text(encoding="utf-8")))
]


@pytest.mark.parametrize("package", PACKAGES_WITH_ALL)
def test_all_lists_exactly_the_public_names(package: str) -> None:
    tree = ast.parse(MODULES[package].read_text(encoding="utf-8"))
    declared = _declared_all(tree)
    assert declared is not None
    bound = _bound_names(tree) - {"__all__"}
    public = {n for n in bound if not n.startswith("_")}
    assert len(declared) == len(set(declared)), f"{package}.__all__ has duplicates"
    assert sorted(public - set(declared)) == [], f"public in {package} but missing from __all__"
    assert sorted(set(declared) - bound) == [], f"in {package}.__all__ but never defined"


def test_goldsmith_has_an_all() -> None:
    assert "goldsmith" in PACKAGES_WITH_ALL
    assert {"Project", "ImportOptions", "ExportOptions", "GoldsmithError"} <= set(goldsmith.__all__)


@pytest.mark.parametrize("package", PACKAGES_WITH_ALL)
def test_every_name_in_all_is_importable(package: str) -> None:
    mod = importlib.import_module(package)
    missing = [name for name in mod.__all__ if not hasattr(mod, name)]
    assert missing == []


def _harmless(node: ast.stmt) -> bool:
    """Docstring, imports, dunder constants, TYPE_CHECKING imports, a PEP 562 __getattr__."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
        return isinstance(node.value.value, str)
    if isinstance(node, ast.Assign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        dunder = all(
            isinstance(t, ast.Name) and t.id.startswith("__") and t.id.endswith("__")
            for t in targets
        )
        try:
            ast.literal_eval(node.value or ast.Constant(None))
        except ValueError:
            return False  # computed at import time
        return dunder
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        return all(isinstance(n, ast.Import | ast.ImportFrom) for n in node.body)
    return isinstance(node, ast.FunctionDef) and node.name in {"__getattr__", "__dir__"}


@pytest.mark.parametrize(
    "package", sorted(m for m, p in MODULES.items() if p.name == "__init__.py")
)
def test_package_inits_only_import(package: str) -> None:
    tree = ast.parse(MODULES[package].read_text(encoding="utf-8"))
    effects = [
        f"line {n.lineno}: {ast.unparse(n).splitlines()[0]}" for n in tree.body if not _harmless(n)
    ]
    assert effects == [], f"{package}/__init__.py must only import and declare __all__"


# --------------------------------------------------------------------------- import weight

BLOCK_EXTRAS = textwrap.dedent(
    """
    import importlib.abc, sys

    HEAVY = {"torch", "transformers", "ray", "peft", "trl", "sentence_transformers"}

    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in HEAVY:
                raise ImportError(f"blocked for this test: {name}")
            return None

    sys.meta_path.insert(0, Block())
    import goldsmith, goldsmith.cli
    loaded = sorted(HEAVY & {m.split(".")[0] for m in sys.modules})
    assert loaded == [], loaded
    assert 'torch' not in sys.modules
    print("ok")
    """
)


def test_core_imports_without_heavy_extras() -> None:
    result = subprocess.run(
        [sys.executable, "-c", BLOCK_EXTRAS],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


# Libraries that cost a CLI command seconds and hundreds of MB when imported up front. Every
# goldsmith module imports them on first use through goldsmith._lazy (DESIGN.md).
HEAVY_LIBRARIES = {
    "scipy",
    "sklearn",
    "openai",
    "matplotlib",
    "cleanlab",
    "pandas",
    "datasets",
    "torch",
    "ray",
    "transformers",
}

LOADED_BY_THE_CLI = textwrap.dedent(
    """
    import sys
    import goldsmith, goldsmith.cli
    print(" ".join(sorted({m.split(".")[0] for m in sys.modules})))
    """
)


def test_the_cli_loads_no_heavy_library() -> None:
    result = subprocess.run(
        [sys.executable, "-c", LOADED_BY_THE_CLI],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert "goldsmith" in loaded and "typer" in loaded  # the probe saw the real imports
    heavy = sorted(HEAVY_LIBRARIES & loaded)
    assert heavy == [], (
        f"`import goldsmith, goldsmith.cli` loads {heavy}: import them on first use with "
        "goldsmith._lazy.lazy_module (see its docstring)"
    )


def _top_level_imports(tree: ast.Module) -> list[tuple[str, int]]:
    """``(module, line)`` of each import that runs when the module is imported: not inside a
    function, not under ``if TYPE_CHECKING:`` (class bodies, ``try`` and other ``if`` count)."""
    found: list[tuple[str, int]] = []

    def walk(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.extend((alias.name, node.lineno) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.append((node.module, node.lineno))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            elif isinstance(node, ast.If) and _is_type_checking(node.test):
                walk(node.orelse)
            else:
                for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                    children = getattr(node, field, None)
                    if isinstance(children, list):
                        walk([c for c in children if isinstance(c, ast.stmt)])
                        for c in children:
                            if isinstance(c, ast.ExceptHandler | ast.match_case):
                                walk(c.body)

    walk(tree.body)
    return found


def _heavy_top_level_imports(modules: dict[str, Path]) -> list[str]:
    return [
        f"{module}:{line} imports {name}"
        for module, path in modules.items()
        for name, line in _top_level_imports(ast.parse(path.read_text(encoding="utf-8")))
        if name.split(".")[0] in HEAVY_LIBRARIES
    ]


def test_heavy_libraries_are_imported_on_first_use() -> None:
    found = _heavy_top_level_imports(MODULES)
    assert found == [], (
        "import these through goldsmith._lazy.lazy_module (real module under TYPE_CHECKING "
        "for the type checker), so that every CLI command starts at once:\n  " + "\n  ".join(found)
    )


def test_heavy_import_check_sees_through_blocks(tmp_path: Path) -> None:
    source = textwrap.dedent(
        """
        from typing import TYPE_CHECKING
        import numpy as np
        import scipy.sparse as sp
        try:
            from sklearn.cluster import KMeans
        except ImportError:
            import pandas
        if TYPE_CHECKING:
            import torch
        else:
            from goldsmith._lazy import lazy_module
        class A:
            from matplotlib.figure import Figure
        def f():
            import ray
        """
    )
    path = tmp_path / "m.py"
    path.write_text(source, encoding="utf-8")
    assert _heavy_top_level_imports({"goldsmith.m": path}) == [
        "goldsmith.m:4 imports scipy.sparse",
        "goldsmith.m:6 imports sklearn.cluster",
        "goldsmith.m:8 imports pandas",
        "goldsmith.m:14 imports matplotlib.figure",
    ]


def test_the_lazy_helper_is_called_with_a_literal_name() -> None:
    """The scanner reads ``lazy_module("name")``; a computed name would hide the dependency.
    (``optional`` may be handed a name: the ``require("torch")`` wrappers of an extra.)"""
    assert {name for _, _, name, _ in HELPER_CALLS} >= {"scipy.sparse", "goldsmith.server.app"}
    computed = [
        f"{module}:{line}"
        for module, helper, name, line in HELPER_CALLS
        if helper == "lazy_module" and name is None
    ]
    assert computed == [], "pass lazy_module a string literal:\n  " + "\n  ".join(computed)


def test_optional_names_no_goldsmith_module() -> None:
    """``optional`` is for extras; a goldsmith module is imported, or lazily by lazy_module."""
    ours = [
        f"{module}:{line} optional({name!r})"
        for module, helper, name, line in HELPER_CALLS
        if helper == "optional" and name and name.split(".")[0] == "goldsmith"
    ]
    assert ours == []


def test_a_lazy_goldsmith_import_is_an_edge() -> None:
    pairs = {(e.source, e.target) for e in EDGES if e.in_function}
    assert ("goldsmith.cli", "goldsmith.server.app") in pairs
    assert ("goldsmith", "goldsmith.project") in pairs  # loaded by the facade's __getattr__
