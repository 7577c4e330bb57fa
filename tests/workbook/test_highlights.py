"""The data bars and the red / amber flag rules of a refreshed workbook cover exactly their
tables' rows, in both places data bars are written (the 2007 rule and the 2010 extension),
refresh after refresh; each flag rule colours what it should."""

from __future__ import annotations

import re
import zipfile

import pandas as pd

from funnel.demo.data import demo_tables
from udfs.macros import refresh
from workbook.build import FLAG_QUALIFIED, FLAG_WARNINGS, new_workbook
from workbook.filebook import FileBook
from workbook.layout import OUTPUTS
from workbook.package import open_package
from workbook.package.cellrefs import column_index, column_letters


def _ranges(path, sheet_part: str) -> list[str]:
    with zipfile.ZipFile(path) as package:
        xml = package.read(sheet_part).decode()
    return re.findall(r'<conditionalFormatting[^>]*sqref="([^"]*)"', xml) + re.findall(r"<xm:sqref>([^<]*)<", xml)


def _column(table, name: str, key: str) -> str:
    # The sheet column of a table's column (1-based letters).
    return column_letters(table.first_col + [c.key for c in OUTPUTS[name].columns].index(key))


def test_data_bars_follow_their_tables_rows_at_every_refresh(tmp_path):
    path = tmp_path / "book.xlsm"
    new_workbook(path, "en", demo_tables(size=200))
    for _ in range(2):
        refresh(FileBook(path))
        with open_package(path) as pkg:
            scores, owners = pkg.table("tblDealScores"), pkg.table("tblDashOwners")
        assert scores.body_last_row > scores.body_first_row + 5  # the table grew from its one row
        rows = f"{scores.body_first_row}:{{}}{scores.body_last_row}"
        want = {f"{c}{rows.format(c)}" for c in (_column(scores, "tblDealScores", "used_probability"),
                                                  _column(scores, "tblDealScores", "amount_at_risk"))}
        flags = {f"{c}{rows.format(c)}" for c in (_column(scores, "tblDealScores", key)
                                                   for key in (*FLAG_WARNINGS, *FLAG_QUALIFIED, "warning_signs"))}
        found = _ranges(path, scores.sheet_part)
        assert set(found) == want | flags
        assert len(found) == 4 + len(flags)  # each bar's rule and its extension, one element per flag column
        attainment = _column(owners, "tblDashOwners", "attainment")
        assert f"{attainment}{owners.body_first_row}:{attainment}{owners.body_last_row}" in _ranges(path, owners.sheet_part)


def _rules(path, sheet_part: str) -> dict[str, list[tuple[str, str, str]]]:
    # First column letter of each conditional format -> its rules with a dxf: (operator or
    # "expression", formula, fill colour).
    with zipfile.ZipFile(path) as package:
        xml = package.read(sheet_part).decode()
        styles = package.read("xl/styles.xml").decode()
    dxfs = re.findall(r"<dxf>(.*?)</dxf>", re.search(r"<dxfs[^>]*>(.*?)</dxfs>", styles, re.S).group(1), re.S)
    fill = [(re.findall(r'<bgColor rgb="FF([0-9A-F]{6})"', d) or [None])[0] for d in dxfs]  # tables' dxfs have none
    out: dict[str, list[tuple[str, str, str]]] = {}
    for sqref, body in re.findall(r'<conditionalFormatting sqref="([^"]*)">(.*?)</conditionalFormatting>', xml, re.S):
        for kind, dxf, operator, formula in re.findall(
                r'<cfRule type="(cellIs|expression)" dxfId="(\d+)" priority="\d+"(?: operator="(\w+)")?><formula>([^<]*)</formula>', body):
            out.setdefault(re.match(r"[A-Z]+", sqref).group(0), []).append((operator or kind, formula, fill[int(dxf)]))
    return out


def test_flags_are_red_when_a_warning_holds_and_amber_when_a_qualification_is_missing(tmp_path):
    # The flags are 1 / 0 in every language (shown as its yes / no): the rules compare with 1,
    # and with 0 only where the cell holds a number (a blank flag is not amber).
    for language in ("en", "zh-CN"):
        path = tmp_path / f"book_{language}.xlsm"
        new_workbook(path, language, demo_tables(size=80))
        refresh(FileBook(path))
        with open_package(path) as pkg:
            scores = pkg.table("tblDealScores")
        rules = _rules(path, scores.sheet_part)
        for key in FLAG_WARNINGS:
            assert rules[_column(scores, "tblDealScores", key)] == [("equal", "1", "FFC7CE")]
        for key in FLAG_QUALIFIED:
            cell = f"{_column(scores, 'tblDealScores', key)}{scores.body_first_row}"
            assert rules[_column(scores, "tblDealScores", key)] == [("expression", f"AND(ISNUMBER({cell}),{cell}=0)", "FFEB9C")]
        # The flags are numbers, shown as the book's yes / no.
        flags = pd.read_excel(path, sheet_name=OUTPUTS["tblDealScores"].sheet(language), header=None, engine="calamine")
        column = column_index(_column(scores, "tblDealScores", "stale")) - 1
        values = set(flags.iloc[scores.body_first_row - 1:scores.body_last_row, column])
        assert values <= {0, 1} and values
        assert rules[_column(scores, "tblDealScores", "warning_signs")] == [
            ("greaterThanOrEqual", "2", "FFC7CE"), ("equal", "1", "FFEB9C")]
