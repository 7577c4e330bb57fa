"""Input tables are read by fastexcel (typed columns, no Python object per cell) where it
reads the cells exactly as python-calamine's Python values do, and by python-calamine
everywhere else (``workbook.table_reader``). Either way a table must read the same:
same columns, dtypes, and the same Python type and value in every cell.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter

from workbook import table_reader
from workbook.table_reader import read_tables

TABLES = ["tblDeals", "tblNotes", "tblMixed", "tblOdd", "tblSet"]


def _book(path: Path, date_1904: bool = False) -> Path:
    wb = xlsxwriter.Workbook(str(path), {"date_1904": date_1904})
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    stamp = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    ws = wb.add_worksheet("Deals")
    ws.write("A1", "a note above the table")
    rows = []
    for i in range(80):
        if i % 19 == 7:
            rows.append([None] * 7)  # a blank data row
            continue
        rows.append([
            f"D-{i:03d}", ["Rep 1", "Rep 2", "王芳"][i % 3], float(i * 10.5) if i % 6 else None,
            dt.date(2024, 1 + i % 12, 1 + i % 28), dt.datetime(2024, 3, 1, 9 + i % 8, 15, 30) if i % 5 else None,
            bool(i % 2) if i % 4 else None, None,
        ])
    ws.add_table(f"B3:H{3 + len(rows)}", {
        "name": "tblDeals",
        "columns": [{"header": "id"}, {"header": "owner"}, {"header": "amount"}, {"header": "close", "format": day},
                    {"header": "touched", "format": stamp}, {"header": "won"}, {"header": "empty"}],
        "data": rows,
    })
    for r in range(5, 80, 11):
        ws.write(r, 10, f"beside {r}")  # column K, outside the table
    ws.write(95, 2, 123)  # a number far below, under a text column
    # A second table on the same sheet, right of the first.
    ws.add_table("M3:N6", {"name": "tblNotes", "columns": [{"header": "k"}, {"header": "v"}],
                           "data": [["a", 1.0], ["b", None], ["  padded  ", 3.5]]})

    mixed = wb.add_worksheet("Mixed")
    mixed.add_table("A1:D6", {
        "name": "tblMixed",
        "columns": [{"header": "amount"}, {"header": "id"}, {"header": "when"}, {"header": "text"}],
        "data": [[1.0, "X-1", dt.date(2024, 5, 1), "a"], ["TBD", 1001, "2024-05-02", "b"],
                 [None, "X-3", None, ""], [4.0, None, dt.date(2024, 5, 4), "d"], [True, "X-5", 45000, "e"]],
    })
    odd = wb.add_worksheet("Odd")
    odd.add_table("A1:C4", {"name": "tblOdd", "columns": [{"header": "err"}, {"header": "time"}, {"header": "x"}],
                            "data": [[None, dt.time(9, 30), "a"], [None, dt.time(0, 0), "b"], [None, None, "c"]]})
    odd.write_formula("A2", "=NA()", None, "#N/A")
    for r in (2, 3, 4):
        odd.write(r - 1, 1, [dt.time(9, 30), dt.time(0, 0), None][r - 2], wb.add_format({"num_format": "hh:mm"}))

    small = wb.add_worksheet("Settings")
    small.add_table("A1:B3", {"name": "tblSet", "columns": [{"header": "key"}, {"header": "value"}],
                              "data": [["language", "en"], ["prior", 5]]})
    wb.close()
    return path


def _read(path: Path, monkeypatch: pytest.MonkeyPatch, slice_bytes: int, fast: bool) -> dict[str, pd.DataFrame]:
    with monkeypatch.context() as patch:
        patch.setattr(table_reader, "SLICE_BYTES", slice_bytes)
        if not fast:
            patch.setattr(table_reader, "_row_windows", lambda sheets: None)
        return read_tables(path, TABLES)


def _assert_same(got: dict[str, pd.DataFrame], expected: dict[str, pd.DataFrame]) -> None:
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(got[name], frame)
        for col in frame.columns:  # the same Python type in every cell, not just equal values
            assert [type(v) for v in got[name][col]] == [type(v) for v in frame[col]], (name, col)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which reader read each job: 'fast' or 'calamine'."""
    taken: list[str] = []
    real = table_reader._fast_blocks

    def fast_blocks(data, sheets, tables_on, windows):
        try:
            found = real(data, sheets, tables_on, windows)
        except table_reader._NotFast:
            taken.append("calamine")
            raise
        taken.append("fast")
        return found

    monkeypatch.setattr(table_reader, "_fast_blocks", fast_blocks)
    return taken


@pytest.mark.parametrize("date_1904", [False, True])
@pytest.mark.parametrize("slice_bytes", [1 << 30, 400, 1200])
def test_fast_and_calamine_reads_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slice_bytes: int,
                                       date_1904: bool) -> None:
    book = _book(tmp_path / "b.xlsx", date_1904)
    expected = _read(book, monkeypatch, 1 << 30, fast=False)
    _assert_same(_read(book, monkeypatch, slice_bytes, fast=True), expected)
    deals = expected["tblDeals"]
    assert list(deals.index) == list(range(4, 84))
    assert deals["amount"].dtype == "float64" and pd.isna(deals.loc[4, "amount"]) and deals.loc[5, "amount"] == 10.5
    assert deals.loc[4, "close"] == dt.date(2024, 1, 1) and type(deals.loc[4, "close"]) is dt.date
    assert deals.loc[5, "touched"] == dt.datetime(2024, 3, 1, 10, 15, 30)
    assert deals.loc[5, "won"] is True and deals.loc[4, "won"] is None
    assert deals.loc[11].isna().all() and deals["empty"].isna().all()
    assert deals.loc[6, "owner"] == "王芳"
    assert expected["tblNotes"]["k"].tolist() == ["a", "b", "  padded  "]
    mixed = expected["tblMixed"]
    assert mixed["amount"].tolist() == [1.0, "TBD", None, 4.0, True]
    assert mixed["id"].tolist() == ["X-1", 1001.0, "X-3", None, "X-5"]
    assert mixed["text"].tolist() == ["a", "b", None, "d", "e"]
    odd = expected["tblOdd"]
    assert odd["time"].tolist() == [dt.time(9, 30), dt.time(0, 0), None] and odd["err"].isna().all()


def test_clean_sheets_take_the_fast_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spy: list[str]) -> None:
    # Deals (text, numbers, dates, date-times, flags, blanks, a second table) is read by
    # fastexcel. Mixed (kinds mixed in a column) is tried and handed to python-calamine;
    # Odd (an error cell) goes to python-calamine without trying.
    book = _book(tmp_path / "b.xlsx")
    monkeypatch.setattr(table_reader, "SLICE_BYTES", 2000)
    sheets = {}
    for name in TABLES:
        spy.clear()
        read_tables(book, [name])
        sheets[name] = set(spy)
    assert sheets["tblDeals"] == {"fast"} and sheets["tblNotes"] == {"fast"}
    assert sheets["tblMixed"] == {"calamine"} and sheets["tblOdd"] == set()


def _rewritten(book: Path, out: Path, edit) -> Path:
    with zipfile.ZipFile(book) as z:
        items = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in items:
            z.writestr(info, edit(data) if info.filename == "xl/worksheets/sheet1.xml" else data)
    return out


def test_a_row_out_of_place_is_not_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spy: list[str]) -> None:
    # The table's row 10 written after every other row: one slice's first and last rows
    # no longer bound its cells, so that slice goes to python-calamine and reads right.
    book = _book(tmp_path / "b.xlsx")

    def move_row_10(data: bytes) -> bytes:
        row = re.search(rb'<row r="10".*?</row>', data).group(0)
        return data.replace(row, b"").replace(b"</sheetData>", row + b"</sheetData>")

    moved = _rewritten(book, tmp_path / "moved.xlsx", move_row_10)
    expected = _read(book, monkeypatch, 1 << 30, fast=False)
    spy.clear()
    monkeypatch.setattr(table_reader, "SLICE_BYTES", 1 << 30)
    got = read_tables(moved, ["tblDeals", "tblNotes"])
    _assert_same(got, {k: expected[k] for k in ("tblDeals", "tblNotes")})
    assert "calamine" in spy



def test_a_table_column_blank_at_the_slice_edge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The last column is blank throughout and the first one blank in the later rows, so
    # some slices' cells do not reach the table's edges: those slices are read by column
    # position instead of by letter, and still read exactly as calamine does.
    import fastexcel

    path = tmp_path / "edge.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Edge")
    rows = [[f"E-{i}" if i < 20 else None, float(i), None] for i in range(60)]
    ws.add_table("B2:D62", {"name": "tblEdge", "columns": [{"header": "id"}, {"header": "x"}, {"header": "note"}], "data": rows})
    wb.close()
    retried = []
    real = fastexcel.ExcelReader.load_sheet

    def load_sheet(self, *args, **kwargs):
        try:
            return real(self, *args, **kwargs)
        except fastexcel.ColumnNotFoundError:
            retried.append(kwargs["use_columns"])
            raise

    monkeypatch.setattr(fastexcel.ExcelReader, "load_sheet", load_sheet)
    for slice_bytes in (1 << 30, 500):
        with monkeypatch.context() as patch:
            patch.setattr(table_reader, "SLICE_BYTES", slice_bytes)
            fast = read_tables(path, ["tblEdge"])
            patch.setattr(table_reader, "_row_windows", lambda sheets: None)
            _assert_same(fast, read_tables(path, ["tblEdge"]))
    assert retried and all(cols == "B:D" for cols in retried)
    edge = fast["tblEdge"]
    assert edge["note"].isna().all() and edge.loc[3, "id"] == "E-0" and edge["id"].iloc[20:].isna().all()
