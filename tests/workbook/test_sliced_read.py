"""A big sheet is read in row slices, each by its own calamine in a thread
(``workbook.table_reader``). Slices must give exactly what one whole-sheet read gives.

The slice size is shrunk to a few hundred bytes so small workbooks built here cut into
many slices, with slice edges falling on blank rows, on rows holding only cells beside
the table, and on the table's first and last rows.
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
from workbook.table_reader import _row_slices, read_tables


def _book(path: Path) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws = wb.add_worksheet("Deals")
    ws.write("A1", "a note above the table")
    rows = []
    for i in range(60):
        blank_row = i % 17 == 5  # whole blank data rows, some at slice edges
        rows.append([None] * 4 if blank_row else
                    [f"D-{i}", float(i * 10) if i % 7 else None, dt.date(2024, 1, 1 + i % 28), "Won" if i % 3 else None])
    ws.add_table(f"C3:F{3 + len(rows)}", {
        "name": "tblDeals",
        "columns": [{"header": "id"}, {"header": "amount"}, {"header": "close", "format": date_fmt}, {"header": "stage"}],
        "data": rows,
    })
    for r in range(4, 64, 9):
        ws.write(r, 8, f"beside {r}")  # column I, outside the table
    ws.write(80, 0, "a note far below")
    small = wb.add_worksheet("Settings")
    small.add_table("A1:B3", {"name": "tblSet", "columns": [{"header": "key"}, {"header": "value"}],
                              "data": [["language", "en"], ["prior", 5]]})
    wb.close()
    return path


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return _book(tmp_path / "sliced.xlsx")


def _read(path: Path, monkeypatch: pytest.MonkeyPatch, slice_bytes: int) -> dict[str, pd.DataFrame]:
    monkeypatch.setattr(table_reader, "SLICE_BYTES", slice_bytes)
    return read_tables(path, ["tblDeals", "tblSet"])


@pytest.mark.parametrize("slice_bytes", [200, 333, 700, 1500])
def test_slices_read_exactly_what_one_read_gives(book: Path, monkeypatch: pytest.MonkeyPatch, slice_bytes: int) -> None:
    whole = _read(book, monkeypatch, 1 << 30)
    sliced = _read(book, monkeypatch, slice_bytes)
    for name in whole:
        pd.testing.assert_frame_equal(sliced[name], whole[name])
    deals = whole["tblDeals"]
    assert list(deals.index) == list(range(4, 64))
    assert deals.loc[4, "id"] == "D-0" and deals.loc[63, "id"] == "D-59"
    assert deals.loc[9].isna().all()  # data row 5 is blank
    assert deals.loc[10, "close"] in (dt.date(2024, 1, 7), dt.datetime(2024, 1, 7))


def test_the_sheet_really_is_cut(book: Path) -> None:
    with zipfile.ZipFile(book) as z:
        data = z.read("xl/worksheets/sheet1.xml")
    pieces = _row_slices(data, 333)
    assert len(pieces) > 5
    # Every row of the sheet lands in exactly one slice, in order.
    rows = [r for piece in pieces for r in re.findall(rb'<row r="(\d+)"', piece)]
    assert rows == re.findall(rb'<row r="(\d+)"', data)
    assert all(p.startswith(data[:20]) and p.endswith(b"</worksheet>") for p in pieces)


def test_rows_out_of_order_are_read_in_one_piece(book: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Move the table's last row to the top of sheetData: slices would overlap, so the
    # reader falls back to one whole-sheet read and still gets every value right.
    with zipfile.ZipFile(book) as z:
        items = [(i, z.read(i.filename)) for i in z.infolist()]
    out = tmp_path / "shuffled.xlsx"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in items:
            if info.filename == "xl/worksheets/sheet1.xml":
                last = re.search(rb'<row r="63".*?</row>', data).group(0)
                data = data.replace(last, b"").replace(b"<sheetData>", b"<sheetData>" + last)
            z.writestr(info, data)
    expected = _read(book, monkeypatch, 1 << 30)["tblDeals"]
    vetted = []
    real = table_reader._vetted_sheet
    monkeypatch.setattr(table_reader, "_vetted_sheet", lambda pkg, part: vetted.append(part) or real(pkg, part))
    got = _read(out, monkeypatch, 300)["tblDeals"]
    pd.testing.assert_frame_equal(got, expected)
    assert vetted.count("xl/worksheets/sheet1.xml") == 1  # read in slices, then again whole
