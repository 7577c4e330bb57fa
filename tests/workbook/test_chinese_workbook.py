"""A refreshed zh-CN demo workbook reads in Chinese: every sheet's name and every cell of it
is walked and no English word is found outside the proper names and codes the book holds.

What may stay in Latin letters is taken from the book's own data where it can be (the
deal ids, accounts, owners, products, competitors and people the demo generator made up,
the stage codes, the currency), plus a short list of codes a user types (setting keys and
their values) and of abbreviations the course itself uses (MAN, Brier, Platt, P10)."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from funnel.demo.competition import demo_competition_tables
from funnel.demo.data import demo_tables
from funnel.inputs.settings import Settings
from udfs.macros import refresh
from workbook.build import new_workbook
from workbook.filebook import FileBook

# A word: two or more letters; a snake_case key (as_of, stale_deals) is one word.
WORD = re.compile(r"[A-Za-z][A-Za-z_]*[A-Za-z]")

# Abbreviations and names that read the same in a Chinese book: the product's name, the
# course's MAN and 5W+2P questions, a score's inventor, the range's percentiles, the IT
# department, and the comparison column a user may head Us (named in its setting's text).
ABBREVIATIONS = {"funnel", "MAN", "Brier", "Platt", "IT", "Us"}


def _tokens(values) -> set[str]:
    return {word for value in values if isinstance(value, str) for word in WORD.findall(value)}


def _setting_codes() -> set[str]:
    # The setting keys (the Settings sheet's first column) and the values they take
    # (quarter, blended, auto, zh-CN...): codes a user types, named in the descriptions too.
    words = _tokens(Settings.model_fields)
    for field in Settings.model_fields.values():
        words |= _tokens(str(choice) for choice in typing.get_args(field.annotation))
    return words | _tokens([Settings().currency])


def _proper_names(tables: dict) -> set[str]:
    opps = tables["opportunities"]
    names = _tokens(opps["id"]) | _tokens(opps["account"]) | _tokens(opps["name"]) | _tokens(opps["owner"])
    names |= _tokens(opps["product"]) | _tokens(opps["competitors"].dropna())
    names |= _tokens(tables["stages"]["code"]) | _tokens(tables["stakeholders"]["name"])
    names |= _tokens(tables["competitors"]["competitor"])
    names |= _tokens(tables["people"]["person"])  # the managers above the owners
    return names


def _english_left(path: Path, allowed: set[str]) -> dict[str, tuple[str, int, int, str]]:
    # word -> where it was first seen (sheet, row, column, cell text)
    found: dict[str, tuple[str, int, int, str]] = {}
    book = CalamineWorkbook.from_path(str(path))
    for sheet in book.sheet_names:
        if sheet == "xlwings.conf":  # hidden: xlwings' own settings, never shown
            continue
        for word in WORD.findall(sheet):  # the tab's name
            found.setdefault(word, (sheet, 0, 0, sheet))
        for r, row in enumerate(book.get_sheet_by_name(sheet).to_python()):
            for c, value in enumerate(row):
                if isinstance(value, str):
                    for word in WORD.findall(value):
                        if word not in allowed and word.upper() not in allowed:
                            found.setdefault(word, (sheet, r + 1, c + 1, value[:80]))
    return found


@pytest.fixture(scope="module")
def chinese_demo(tmp_path_factory) -> tuple[Path, dict]:
    tables = demo_tables(size=300, seed=7, language="zh-CN")
    tables.update(demo_competition_tables(tables, "zh-CN"))
    path = tmp_path_factory.mktemp("zh") / "demo.xlsx"
    new_workbook(path, "zh-CN", tables)
    refresh(FileBook(path))
    return path, tables


def test_a_refreshed_chinese_demo_shows_no_english_word_outside_names_and_codes(chinese_demo):
    path, tables = chinese_demo
    allowed = _proper_names(tables) | _setting_codes() | ABBREVIATIONS
    left = _english_left(path, allowed)
    assert not left, "English words in the zh-CN demo workbook:\n" + "\n".join(
        f"{word!r} at {sheet}!R{row}C{column}: {text!r}" for word, (sheet, row, column, text) in sorted(left.items()))


def test_the_walk_finds_english_where_there_is_some(chinese_demo, tmp_path):
    # The check itself: the same demo built in English is full of English words.
    tables = demo_tables(size=60, seed=7)
    tables.update(demo_competition_tables(tables))
    path = tmp_path / "en.xlsx"
    new_workbook(path, "en", tables)
    left = _english_left(path, _proper_names(chinese_demo[1]) | _setting_codes() | ABBREVIATIONS)
    assert {"Opportunities", "Amount", "Prospect", "Referral"} <= set(left)
