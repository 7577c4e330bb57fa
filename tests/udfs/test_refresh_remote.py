"""The Refresh button's macro on xlwings' remote engine, on a workbook we built.

``new_workbook`` writes the demo workbook (200 deals) in English and in Chinese, the VBA
client's JSON body is built from the file, ``xw.Book(json=...)`` opens it, and
``udfs.macros.refresh`` runs on it through ``XlwingsBook`` exactly as in Excel. What the
server would send back is ``book.json()``: per output table a ``resizeTable`` action and
a ``setValues`` action, then the closing message box. Every value must be the engine's
figure for the same demo tables (``funnel.analysis.run`` + ``workbook.mapping.output_frames``)
and land under the table's header, at the anchor ``workbook.layout`` gives it.

Positions in actions are 0-based (``sheet_position``, ``start_row``, ``start_column``);
table addresses are Excel's absolute A1 addresses.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xlwings as xw
from xlsxwriter.utility import xl_range_abs

from funnel import catalog
from funnel.analysis import run
from funnel.demo.competition import demo_competition_tables
from funnel.demo.data import DEMO_AS_OF, demo_tables
from udfs.macros import closing_message, refresh
from udfs.xlwings_book import XlwingsBook
from workbook.build import new_workbook
from workbook.layout import OUTPUTS, metric_label
from workbook.mapping import output_frames

try:
    from tests.support.xlwings_json import book_json_from_file
except ModuleNotFoundError:
    # As in test_xlwings_book.py: the repository root may not be on sys.path.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.support.xlwings_json import book_json_from_file

pytestmark = [
    pytest.mark.xlwings_remote,
    pytest.mark.skipif(
        os.environ.get("XLWINGS_LICENSE_KEY") is None,
        reason=(
            "xlwings' remote-interpreter engine needs XLWINGS_LICENSE_KEY=noncommercial "
            "(PolyForm Noncommercial); set it to run these tests"
        ),
    ),
]

DEMO_SIZE = 200

class Refreshed:
    """One workbook after a remote refresh: what was sent, what came back, what to expect."""

    def __init__(self, language: str, folder: Path) -> None:
        tables = demo_tables(size=DEMO_SIZE)
        tables.update(demo_competition_tables(tables))  # so that every output table has rows
        path = new_workbook(folder / "demo.xlsm", language, tables)
        self.language = language
        self.payload = book_json_from_file(path)
        book = xw.Book(json=self.payload)
        try:
            self.message = refresh(XlwingsBook(book))
            self.actions = json.loads(json.dumps(book.json()))["actions"]
        finally:
            book.close()
        # The engine on the very tables the workbook was built from.
        self.report = run(tables, {"language": language})
        self.expected = output_frames(self.report)

    def sheet_position(self, table: str) -> int:
        """Index of the table's sheet among the worksheets the client sent."""
        names = [sheet["name"] for sheet in self.payload["sheets"]]
        return names.index(OUTPUTS[table].sheet(self.language))

    def table_index(self, table: str) -> int:
        """Index of the table among its sheet's ListObjects (how VBA finds it again)."""
        sheet = self.payload["sheets"][self.sheet_position(table)]
        return [t["name"] for t in sheet["tables"]].index(table)

    def action(self, func: str, table: str) -> dict:
        """The one ``func`` action queued for ``table``."""
        position = self.sheet_position(table)
        if func == "resizeTable":
            found = [a for a in self.actions if a["func"] == func and a["sheet_position"] == position
                     and a["args"][0] == self.table_index(table)]
        else:
            # By where the values start: the table's first data row, at its anchor's column
            # (the Dashboard's tables sit above one another).
            row0, col0 = OUTPUTS[table].anchor
            found = [a for a in self.actions if a["func"] == func and a["sheet_position"] == position
                     and a["start_column"] == col0 and a["start_row"] == row0 + 1]
        assert len(found) == 1, f"{len(found)} {func} actions for {table}"
        return found[0]


@pytest.fixture(scope="module", params=["en", "zh-CN"])
def refreshed(request, tmp_path_factory) -> Refreshed:
    return Refreshed(request.param, tmp_path_factory.mktemp(request.param))


# The cell the VBA client receives for an engine value: blanks "", numbers plain, dates
# as "YYYY-MM-DD" (what xlwings' remote engine makes of a midnight timestamp).
def as_sent(value: object) -> object:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, np.generic):
        return value.item()
    return value


def assert_cells_equal(got: list[list], expected: pd.DataFrame, table: str) -> None:
    want = [[as_sent(v) for v in row] for row in expected.itertuples(index=False, name=None)]
    assert len(got) == len(want), f"{table}: {len(got)} rows written, {len(want)} expected"
    for number, (row, wanted) in enumerate(zip(got, want)):
        for column, cell, value in zip(expected.columns, row, wanted):
            where = f"{table} data row {number + 1}, {column}"
            if isinstance(value, float) and not isinstance(cell, str):
                assert cell == pytest.approx(value, rel=1e-12, abs=1e-9), where
            else:
                assert cell == value, where


OUTPUT_TABLES = list(OUTPUTS)


def test_every_output_table_is_written_once_then_the_message(refreshed):
    funcs = [a["func"] for a in refreshed.actions]
    assert funcs == ["resizeTable", "setValues"] * len(OUTPUT_TABLES) + ["alert"]
    tables = len(OUTPUT_TABLES)
    opening = (f"已刷新 {tables} 张结果表（200 个商机）" if refreshed.language == "zh-CN"
               else f"Refreshed {tables} output tables from 200 deals.")
    assert refreshed.message.startswith(opening)
    alert = refreshed.actions[-1]
    assert alert["args"] == [refreshed.message, "Funnel", "ok", "info", ""]


@pytest.mark.parametrize("table", OUTPUT_TABLES)
def test_resize_gives_the_table_its_new_address(refreshed, table):
    # Header row stays at the anchor; the body becomes one row per result row.
    (row0, col0), frame = OUTPUTS[table].anchor, refreshed.expected[table]
    action = refreshed.action("resizeTable", table)
    assert action["args"] == [
        refreshed.table_index(table),
        xl_range_abs(row0, col0, row0 + max(len(frame), 1), col0 + frame.shape[1] - 1),
    ]
    assert refreshed.action("setValues", table)["row_count"] == len(frame)


@pytest.mark.parametrize("table", OUTPUT_TABLES)
def test_values_land_under_the_header_at_the_anchor(refreshed, table):
    (row0, col0), frame = OUTPUTS[table].anchor, refreshed.expected[table]
    action = refreshed.action("setValues", table)
    assert (action["sheet_position"], action["start_row"], action["start_column"]) == (
        refreshed.sheet_position(table), row0 + 1, col0,
    )
    assert action["column_count"] == frame.shape[1]
    assert action["row_count"] == len(action["values"])
    # The header the values go under is the table's own, in the workbook's language.
    sheet = refreshed.payload["sheets"][refreshed.sheet_position(table)]
    assert sheet["values"][row0][col0 : col0 + frame.shape[1]] == list(frame.columns)


@pytest.mark.parametrize("table", OUTPUT_TABLES)
def test_values_are_the_engines_figures(refreshed, table):
    assert_cells_equal(refreshed.action("setValues", table)["values"], refreshed.expected[table], table)


def test_stage_totals_match_the_summary(refreshed):
    # The comparisons above compare real figures: the Stages sheet's open deals add up to
    # the summary's, and its weighted column to the weighted pipeline.
    stage_values = refreshed.action("setValues", "tblStageStats")["values"]
    summary = dict(zip(refreshed.report["summary"]["metric"], refreshed.report["summary"]["value"]))
    assert sum(row[3] for row in stage_values) == summary["open_deals"] > 0
    assert sum(row[5] for row in stage_values) == pytest.approx(summary["weighted_pipeline"])


def test_as_of_and_problems_survive_the_workbook(refreshed):
    # The Settings sheet's as-of date reaches the engine as the demo's, not today's; and
    # the closing message counts the same problems as the engine.
    values = refreshed.action("setValues", "tblSummary")["values"]
    assert values[0] == [metric_label("as_of", refreshed.language), DEMO_AS_OF.isoformat()]
    snapshot = refreshed.message
    assert snapshot.startswith(closing_message(refreshed.report, len(OUTPUT_TABLES)) + " ")
    # The remote engine sends the book, not its file: no folder for a snapshot store, and it says so.
    assert snapshot.endswith(catalog.text("message.refresh_snapshot_unsaved", refreshed.report.settings.language))


def test_the_button_shows_a_refusal_in_a_box_and_writes_nothing(tmp_path, monkeypatch):
    # The Refresh button calls refresh() with no book: the caller's. A renamed required
    # header refuses: the one action queued is a warning box naming the table, the column
    # and the fix; no table is resized or written, and no traceback reaches Excel.
    from tests.support import hostile
    from udfs import xlwings_book

    path = new_workbook(tmp_path / "demo.xlsm", "en", demo_tables(size=40))
    hostile.rename_headers(path, "tblOpportunities", {"Amount": "Amout"})
    book = xw.Book(json=book_json_from_file(path))
    try:
        monkeypatch.setattr(xlwings_book, "caller_book", lambda: XlwingsBook(book))
        message = refresh()
        actions = json.loads(json.dumps(book.json()))["actions"]
    finally:
        book.close()
    assert message == ("Nothing was refreshed, the workbook is unchanged: tblOpportunities has no column Amount (found Amout): "
                       "rename it back to Amount, or map it in Settings (column_names: Amount=Amout)")
    assert [a["func"] for a in actions] == ["alert"]
    assert actions[0]["args"] == [message, "Funnel", "ok", "critical", ""]
