"""The shape of the house: one-way arrows, no cycle, parts that say what they own, no runtime tricks in the analytics."""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import import_graph  # noqa: E402


def test_arrows_go_one_way_without_cycles():
    assert import_graph.problems() == []


def test_the_checker_sees_a_cycle_and_a_wrong_arrow():
    # The rules above can fail: a cycle and an arrow into udfs/ are found.
    edges = {"funnel.a": {"funnel.b"}, "funnel.b": {"funnel.a"}, "funnel.c": set()}
    assert import_graph.cycles(edges) == [["funnel.a", "funnel.b"]]
    modules = import_graph.product_modules()
    found, _ = import_graph.imports_of("workbook.x", ROOT / "workbook" / "book.py", modules)
    assert "workbook.errors" in found  # imports inside the module are seen


def test_funnel_shows_its_parts():
    top = sorted(p.stem for p in (ROOT / "funnel").glob("*.py") if p.stem != "__init__")
    assert len(top) <= 10, top
    packages = [p.parent for p in (ROOT / "funnel").glob("*/__init__.py")]
    assert {p.name for p in packages} >= {"inputs", "forecast", "winmodel", "methods", "crm", "demo"}
    for package in packages:
        if not any(package.glob("*.py")) or package.name in ("layouts", "presets"):
            continue
        module = importlib.import_module(f"funnel.{package.name}")
        assert (module.__doc__ or "").strip(), f"funnel.{package.name} says nothing of what it owns"
        assert module.__all__, f"funnel.{package.name} exports nothing"
        for name in module.__all__:
            assert hasattr(module, name), f"funnel.{package.name}.__all__ names a missing {name}"


def _calls(path: Path) -> list[tuple[str, int]]:
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            name = f"{owner.id}.{node.func.attr}" if isinstance(owner, ast.Name) else node.func.attr
            found.append((name, node.lineno))
    return found


def test_the_analytics_never_fork_pause_the_collector_or_set_options():
    banned = {"os.fork", "os.pipe", "gc.disable", "gc.enable", "gc.collect", "pd.set_option", "set_option"}
    for path in (ROOT / "funnel").rglob("*.py"):
        hits = [(name, line) for name, line in _calls(path) if name in banned]
        assert not hits, f"{path.relative_to(ROOT)}: {hits}"


def test_no_module_sets_a_global_pandas_option_anywhere():
    for package in ("funnel", "workbook", "udfs", "funnel_cli"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body:
                for call in ast.walk(node):
                    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "set_option":
                        raise AssertionError(f"{path.relative_to(ROOT)}:{call.lineno} sets a global pandas option")
