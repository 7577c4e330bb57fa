"""Display text comes from the catalog only: no product module outside ``funnel/catalog.py``
holds Chinese text of its own, except the spellings the readers accept from users, and
every catalog entry is asked for somewhere."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from funnel.catalog import CATALOG

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("funnel", "workbook", "udfs", "funnel_cli")
# Chinese ideographs, CJK punctuation and full-width forms.
CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")

# Modules whose Chinese is data, not interface: the catalog itself, the demo's made-up deals.
WHOLE_MODULES = {"funnel/catalog.py", "funnel/demo/data.py", "funnel/demo/competition.py"}
# (module, top-level name) -> why its Chinese is not display text. "@NAME" is a function's decorators.
INPUT_SPELLINGS = {
    ("funnel/inputs/parsing.py", "_CURRENCY"): "currency marks a typed amount may carry",
    ("funnel/inputs/parsing.py", "_YEAR_FIRST"): "dates typed the Chinese way (2026年3月1日)",
    ("funnel/inputs/parsing.py", "_YES"): "what a typed yes looks like",
    ("funnel/inputs/parsing.py", "_NO"): "what a typed no looks like",
    ("funnel/inputs/periods.py", "_QUARTER"): "quarters typed the Chinese way (2026年第1季度)",
    ("funnel/inputs/periods.py", "_MONTH"): "months typed the Chinese way (2026年3月)",
    ("funnel/inputs/periods.py", "_CN_DIGITS"): "Chinese quarter numbers",
    ("funnel/inputs/validation.py", "_CATEGORY_ALIASES"): "forecast categories typed in Chinese",
    ("funnel/methods/competition.py", "US_NAMES"): "headers that mean our own comparison column",
    ("funnel/methods/competition.py", "NOTE_HEADERS"): "headers of note columns beside the scores",
    ("funnel/methods/competition.py", "_SPLIT"): "separators between typed competitor names",
    ("funnel/methods/labels.py", "_VARIANTS"): "the ways people write each enumeration code",
    ("funnel/methods/labels.py", "_key"): "punctuation folded away when reading a label",
    ("funnel/methods/labels.py", "normalize_language"): "language names a setting may hold",
    ("funnel/methods/labels.py", "parse_enum"): "brackets that start a note after a typed label",
    ("funnel/winmodel/model.py", "_split_competitors"): "separators between typed competitor names",
    ("workbook/importing.py", "_truthy"): "what a typed yes looks like in a CRM export",
    ("workbook/mapping.py", "ALIASES"): "other names people give a column's header (read, and reported)",
    ("funnel/inputs/headers.py", "_CURRENCY_UNIT"): "a currency in brackets after a typed header (金额（元）)",
    ("udfs/functions.py", "@FUNNEL_CONCESSION_PLAN"): "the function wizard's one (English) text, naming the Chinese "
                                                      "patterns a user may type",
}


def _modules() -> list[tuple[str, ast.Module]]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found.append((path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"), str(path))))
    return found


def _docstrings(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                ids.add(id(first.value))
    return ids


def _scopes(statement: ast.stmt):
    # (the top-level name a literal belongs to, the nodes of that scope)
    if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield f"@{statement.name}", statement.decorator_list
        yield statement.name, [n for n in ast.iter_child_nodes(statement) if n not in statement.decorator_list]
    elif isinstance(statement, (ast.Assign, ast.AnnAssign)):
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        yield (names[0] if names else None), [statement]
    else:
        yield None, [statement]


def _strings(tree: ast.Module):
    # (scope, line, text) of every string literal that is not a docstring, f-string parts included.
    skip = _docstrings(tree)
    for statement in tree.body:
        for scope, nodes in _scopes(statement):
            for top in nodes:
                for node in ast.walk(top):
                    if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                        yield scope, node.lineno, node.value


def test_no_chinese_display_text_outside_the_catalog():
    found = []
    for module, tree in _modules():
        if module in WHOLE_MODULES:
            continue
        for scope, line, value in _strings(tree):
            if CHINESE.search(value) and (module, scope) not in INPUT_SPELLINGS:
                found.append(f"{module}:{line} ({scope}): {value[:40]!r}")
    assert not found, (
        "Chinese text outside funnel/catalog.py. Words a user reads belong in the catalog (an entry "
        "with both languages, asked for with catalog.text); spellings a reader accepts from users "
        "go in INPUT_SPELLINGS here, with the reason:\n" + "\n".join(found)
    )


# Groups whose entries the layout and the labels ask for by building the key; their tests
# (tests/workbook/test_layout_words.py, tests/funnel/test_labels.py) match them one to one.
_BUILT_KEYS = ("header.", "sheet.", "title.", "heading.", "metric.", "label.")


def test_every_other_entry_is_asked_for_by_its_key_or_its_group():
    literals = {value for module, tree in _modules() if module != "funnel/catalog.py"
                for _, _, value in _strings(tree) if "." in value}
    unused = [
        key for key in CATALOG
        if not key.startswith(_BUILT_KEYS)
        and key not in literals
        and not any(key.startswith(prefix.rstrip(".") + ".") for prefix in literals if prefix.count(".") >= 1)
    ]
    assert not unused, f"catalog entries nothing asks for: {unused}"
