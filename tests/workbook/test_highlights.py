"""The data bars of a refreshed workbook cover exactly their tables' rows, in both places
they are written (the 2007 rule and the 2010 extension), refresh after refresh."""

from __future__ import annotations

import re
import zipfile

from funnel.demo.data import demo_tables
from udfs.macros import refresh
from workbook.build import new_workbook
from workbook.filebook import FileBook
from workbook.layout import OUTPUTS
from workbook.package import open_package
from workbook.package.cellrefs import column_letters


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
        found = _ranges(path, scores.sheet_part)
        assert set(found) == want and len(found) == 4  # each bar's rule and its extension
        attainment = _column(owners, "tblDashOwners", "attainment")
        assert f"{attainment}{owners.body_first_row}:{attainment}{owners.body_last_row}" in _ranges(path, owners.sheet_part)
