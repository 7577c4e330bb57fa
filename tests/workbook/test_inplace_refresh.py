"""``funnel refresh`` in place on a workbook a user has worked in: nothing of theirs is lost.

The demo workbook (300 deals) gets what Excel users add and what a load-and-save library
such as openpyxl would drop: a sheet of their own with a formula over an output table, a
defined name, an Excel 2010+ (x14) list validation on an input sheet, and the Excel 2010+
form-control record of the Refresh button (``<controls>`` plus ``xl/ctrlProps/ctrlProp1.xml``).
After the refresh, every zip member outside the parts the refresh owns is byte-identical,
inflated and as stored. The parts it owns, and why each may change:

* an output table's part (``xl/tables/tableN.xml``): its ``ref`` and ``autoFilter`` follow
  the number of rows;
* an output table's sheet: the table's cells and the sheet's ``<dimension>``;
* a chart drawn on an output sheet: its series ranges and cached points follow the rows.

Then a workbook whose output tables shrink and grow across refreshes keeps its charts on
exactly the rows of their tables.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from funnel.demo.data import demo_tables
from funnel_cli.main import app
from tests.support import hostile
from udfs.macros import refresh
from workbook.build import new_workbook
from workbook.filebook import FileBook
from workbook.layout import OUTPUTS
from workbook.package import column_index, open_package, write_tables
from workbook.table_reader import read_tables

SIZE = 300


def _owned(path: Path) -> dict[str, str]:
    # Every part a refresh may change, with the reason.
    owned: dict[str, str] = {}
    with open_package(path) as pkg:
        for name in OUTPUTS:
            info = pkg.table(name)
            owned[info.part] = f"{name}: ref and autoFilter follow the rows"
            owned.setdefault(info.sheet_part, f"sheet {info.sheet!r}: cells of {name} and <dimension>")
            for chart in pkg.drawing_charts(info.sheet_part):
                owned[chart] = f"chart on {info.sheet!r}: series ranges and caches follow the rows"
    return owned


def _raw_entries(path: Path) -> dict[str, bytes]:
    with open_package(path) as pkg:
        return {m.name: pkg.read_entry_bytes(m) for m in pkg.members}


@pytest.fixture(scope="module")
def touched(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The demo workbook as built (output tables still empty), then worked in by a user."""
    path = new_workbook(tmp_path_factory.mktemp("touched") / "funnel.xlsm", "en", demo_tables(size=SIZE, seed=11))
    user_part = hostile.add_user_sheet(path, "My notes", {
        "A1": '<c r="A1" t="inlineStr"><is><t>Pipeline review, Monday</t></is></c>',
        "A2": '<c r="A2" t="inlineStr"><is><t>Deals scored</t></is></c>',
        "B2": '<c r="B2"><f>COUNTA(tblDealScores[Deal ID])</f><v>0</v></c>',
    })
    hostile.add_defined_name(path, "ReviewCount", "'My notes'!$B$2")
    x14 = hostile.add_x14_validation(path, "Opportunities", f"F2:F{SIZE + 1}", "'Stage scheme'!$A$2:$A$6")
    controls = hostile.add_form_control(path, "Summary")
    return {"path": path, "user_part": user_part, "x14": x14, "controls": controls}


def test_refresh_in_place_changes_only_the_parts_it_owns(touched: dict, tmp_path: Path) -> None:
    path = Path(shutil.copy(touched["path"], tmp_path / "funnel.xlsm"))
    before, raw_before = hostile.members(path), _raw_entries(path)

    result = CliRunner().invoke(app, ["refresh", str(path)])

    assert result.exit_code == 0, result.output
    assert f"Refreshed {len(OUTPUTS)} output tables from {SIZE} deals." in result.output
    after, raw_after = hostile.members(path), _raw_entries(path)
    assert list(after) == list(before), "members added, removed or reordered"
    owned = _owned(path)
    changed = {name for name in before if before[name] != after[name]}
    assert changed <= set(owned), f"changed without owning: {sorted(changed - set(owned))}"
    for name in set(before) - set(owned):
        assert raw_after[name] == raw_before[name], f"{name}: stored bytes differ"
    # The refresh did fill the outputs: every output table part and sheet was rewritten,
    # and the charts moved with their tables.
    with open_package(path) as pkg:
        tables = [pkg.table(name) for name in OUTPUTS]
        charts = {c for t in tables for c in pkg.drawing_charts(t.sheet_part)}
    assert {t.sheet_part for t in tables} <= changed
    assert charts and charts <= changed
    # Named: what the user added is among the untouched members.
    untouched = set(before) - changed
    for name in ("xl/vbaProject.bin", touched["user_part"], "xl/ctrlProps/ctrlProp1.xml", "xl/workbook.xml",
                 "[Content_Types].xml", hostile.sheet_part(path, "Opportunities"), "xl/drawings/vmlDrawing1.vml"):
        assert name in untouched, name


# openpyxl says it would drop the x14 validation on save: the reason this refresh never saves through it.
@pytest.mark.filterwarnings("ignore:Data Validation extension is not supported:UserWarning")
def test_the_button_and_the_users_additions_survive(touched: dict, tmp_path: Path) -> None:
    path = Path(shutil.copy(touched["path"], tmp_path / "funnel.xlsm"))
    vba = hostile.members(path)["xl/vbaProject.bin"]
    assert CliRunner().invoke(app, ["refresh", str(path)]).exit_code == 0
    files = hostile.members(path)
    summary = files[hostile.sheet_part(path, "Summary")]
    # The output sheet kept its VML button (<legacyDrawing>) and its form-control record.
    assert re.search(rb'<legacyDrawing r:id="rId\d+"/>' + re.escape(touched["controls"]), summary)
    assert files["xl/ctrlProps/ctrlProp1.xml"].endswith(
        b'<formControlPr xmlns="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main" objectType="Button" lockText="1"/>')
    assert b'Target="../ctrlProps/ctrlProp1.xml"' in files[f"xl/worksheets/_rels/{hostile.sheet_part(path, 'Summary').rsplit('/', 1)[1]}.rels"]
    assert files["xl/vbaProject.bin"] == vba
    assert touched["x14"] in files[hostile.sheet_part(path, "Opportunities")]
    assert b"<definedName name=\"ReviewCount\">'My notes'!$B$2</definedName>" in files["xl/workbook.xml"]
    # Excel recalculates the user's formula over the refreshed table on open.
    assert b'fullCalcOnLoad="1"' in files["xl/workbook.xml"]
    wb = openpyxl.load_workbook(path, keep_vba=True)
    assert wb["My notes"]["B2"].value == "=COUNTA(tblDealScores[Deal ID])"
    assert wb.defined_names["ReviewCount"].attr_text == "'My notes'!$B$2"
    scores = read_tables(path, "tblDealScores")["tblDealScores"]
    assert len(scores) > 1 and scores["Deal ID"].notna().all()


# ---- output tables shrink and grow ---------------------------------------------------------------------
_SERIES_RE = re.compile(rb"<c:f>'?((?:[^'<]|'')+?)'?!\$([A-Z]+)\$(\d+):\$([A-Z]+)\$(\d+)</c:f>")


def _chart_ranges(path: Path) -> list[tuple[str, str, int, int, int]]:
    # (chart, sheet, column, first row, last row) of every range a chart plots.
    out = []
    with open_package(path) as pkg:
        charts = {c for name in OUTPUTS for c in pkg.drawing_charts(pkg.table(name).sheet_part)}
        for chart in sorted(charts):
            for m in _SERIES_RE.finditer(pkg.read_part(chart)):
                sheet, col, r1, col2, r2 = m.groups()
                assert col == col2
                out.append((chart, sheet.decode().replace("''", "'"), col.decode(), int(r1), int(r2)))
    return out


def _assert_charts_follow_tables(path: Path) -> int:
    # Every chart range over a table column spans exactly that table's data rows.
    with open_package(path) as pkg:
        tables = [pkg.table(name) for name in OUTPUTS]
    checked = 0
    for chart, sheet, col, r1, r2 in _chart_ranges(path):
        c = column_index(col)
        owner = [t for t in tables if t.sheet == sheet and t.first_col <= c <= t.last_col and t.first_row <= r1 <= t.last_row]
        assert len(owner) == 1, (chart, sheet, col, r1, r2)
        t = owner[0]
        if r1 == t.first_row:  # a series name: the header cell
            assert r2 == r1
            continue
        assert (r1, r2) == (t.body_first_row, t.body_last_row), f"{chart} plots {col}{r1}:{col}{r2}, {t.name} is {t.ref}"
        checked += 1
    return checked


def _rows(path: Path) -> dict[str, int]:
    with open_package(path) as pkg:
        return {name: pkg.table(name).body_last_row - pkg.table(name).body_first_row + 1 for name in OUTPUTS}


def test_output_tables_shrink_and_grow_and_the_charts_follow(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "funnel.xlsm", "en", demo_tables(size=SIZE, seed=11))
    # Snapshots off: the history tables would grow with each refresh (tests/workbook/test_history_sheets.py).
    refresh(FileBook(path), {"store": "off"})
    full_rows, full_outputs = _rows(path), read_tables(path, list(OUTPUTS))
    assert _assert_charts_follow_tables(path) >= 3

    # Most deals deleted: the input table rewritten by the same generic writer.
    deals = read_tables(path, "tblOpportunities")["tblOpportunities"]
    write_tables(path, path, {"tblOpportunities": deals.head(12)})
    refresh(FileBook(path), {"store": "off"})
    few_rows = _rows(path)
    assert few_rows["tblForecastPeriods"] < full_rows["tblForecastPeriods"]
    assert few_rows["tblForecast"] < full_rows["tblForecast"]
    assert few_rows["tblIssues"] > full_rows["tblIssues"]  # history of the deleted deals is reported
    assert _assert_charts_follow_tables(path) >= 3
    # Nothing of the longer tables is left below the shorter ones.
    with open_package(path) as pkg:
        periods = pkg.table("tblForecastPeriods")
    with CalamineWorkbook.from_path(str(path)) as wb:
        grid = wb.get_sheet_by_name(periods.sheet).to_python(skip_empty_area=False)
    below = [row[periods.first_col - 1 : periods.last_col] for row in grid[periods.body_last_row : periods.body_last_row + 40]]
    assert all(v == "" for row in below for v in row)

    # The deals come back: the tables grow to exactly what they were.
    write_tables(path, path, {"tblOpportunities": deals})
    refresh(FileBook(path), {"store": "off"})
    assert _rows(path) == full_rows
    assert _assert_charts_follow_tables(path) >= 3
    grown = read_tables(path, list(OUTPUTS))
    for name in OUTPUTS:
        pd.testing.assert_frame_equal(grown[name], full_outputs[name], obj=name)
