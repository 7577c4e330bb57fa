"""The product's import graph: the arrows between its parts, and any cycle.

Counts every import, also those inside functions, and the import of a module's parent
packages that Python performs first (importing ``funnel.inputs.validation`` runs
``funnel/inputs/__init__.py``). Checks the project's rules:

- ``funnel/`` imports nothing of ``workbook/``, ``udfs/``, ``funnel_cli/`` and no Excel or
  file library;
- ``workbook/`` imports nothing of ``udfs/`` or ``funnel_cli/``; ``udfs/`` nothing of
  ``funnel_cli/``;
- no cycle between modules.

    python tools/import_graph.py            # the arrows between packages, then the verdict
    python tools/import_graph.py --modules  # every module's imports

Exit status 1 when a rule is broken. ``tests/test_architecture.py`` runs the same checks.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("funnel", "workbook", "udfs", "funnel_cli")
# What each top-level package may import of the others (one way: funnel at the bottom).
MAY_IMPORT = {
    "funnel": {"funnel"},
    "workbook": {"funnel", "workbook"},
    "udfs": {"funnel", "workbook", "udfs"},
    "funnel_cli": {"funnel", "workbook", "udfs", "funnel_cli"},
}
# Libraries that read or write workbooks or databases, or fork and pause the collector: never in funnel/.
NOT_IN_FUNNEL = {"xlwings", "openpyxl", "xlsxwriter", "python_calamine", "fastexcel", "pyarrow", "olefile", "zipfile", "gc",
                "sqlalchemy", "sqlite3", "psycopg"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def product_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> tuple[set[str], set[str]]:
    """(product modules, third-party top-level names) that ``name`` imports, anywhere in it."""
    is_package = path.name == "__init__.py"
    own, other = set(), set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the module's package
                base = name.split(".")[: len(name.split(".")) - node.level + (1 if is_package else 0)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            targets = [source] + [f"{source}.{alias.name}" for alias in node.names]
        for target in targets:
            top = target.split(".")[0]
            if top in PACKAGES:
                own.update(p for p in _parents(target) if p in modules)
            elif top and top != "__future__" and top not in sys.stdlib_module_names:
                other.add(top)
            elif top in NOT_IN_FUNNEL:
                other.add(top)
    # Python imports a module's parent packages before the module itself.
    parents = {p for p in _parents(name)[:-1] if p in modules}
    return (own | parents) - {name}, other


def graph() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    modules = product_modules()
    edges, libraries = {}, {}
    for name, path in modules.items():
        edges[name], libraries[name] = imports_of(name, path, modules)
    return edges, libraries


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each a cycle or more."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            # A package's __init__ re-exporting its own submodules is not a cycle through
            # them: Python runs the submodule while the package is still being imported.
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def _without_own_submodules(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    # An __init__ importing its own submodules (to re-export them) and those submodules
    # "importing" their parent package is how every package works, not a cycle; what
    # counts is a module reaching back into itself through *other* modules.
    out = {}
    for name, targets in edges.items():
        out[name] = {t for t in targets if not (name.startswith(t + ".") and t in edges)}
    return out


def problems() -> list[str]:
    edges, libraries = graph()
    found = []
    for name, targets in sorted(edges.items()):
        top = name.split(".")[0]
        for target in sorted(targets):
            if target.split(".")[0] not in MAY_IMPORT[top]:
                found.append(f"{name} imports {target}: {top}/ may import only {', '.join(sorted(MAY_IMPORT[top]))}")
        if top == "funnel":
            for library in sorted(libraries[name] & NOT_IN_FUNNEL):
                found.append(f"{name} imports {library}: funnel/ stays free of Excel, file and runtime libraries")
    for group in cycles(_without_own_submodules(edges)):
        found.append("import cycle: " + " <-> ".join(group))
    return found


def package_arrows(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """Arrows between packages (funnel.inputs, funnel.forecast, workbook, ...)."""
    def package(name: str) -> str:
        parts = name.split(".")
        return ".".join(parts[:2]) if parts[0] == "funnel" and len(parts) > 2 else parts[0] if parts[0] != "funnel" else name

    arrows = defaultdict(set)
    for name, targets in edges.items():
        for target in targets:
            a, b = package(name), package(target)
            if a != b and not a.startswith(b + "."):
                arrows[a].add(b)
    return arrows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", action="store_true", help="list every module's imports")
    args = parser.parse_args()
    edges, _ = graph()
    shown = edges if args.modules else package_arrows(edges)
    for name in sorted(shown):
        print(f"{name} -> {', '.join(sorted(shown[name])) or '(nothing)'}")
    found = problems()
    print("\n".join(found) if found else "one-way arrows, no cycle")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
