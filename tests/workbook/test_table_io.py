"""Headless table I/O on real workbook files: read_tables, write_tables, and the refusals.

Workbooks are built here with XlsxWriter (an .xlsm with a real vbaProject.bin taken from
xlwings' quickstart_standalone.xlsm, a button, data validations including an x14 one,
an output table with a chart, a user-added sheet and defined name), then refreshed.
Each test names the zip members it allows to change; every other member must come back
byte-identical, both inflated and as stored.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from collections.abc import Collection
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from workbook import table_reader
from workbook.errors import (
    NotAWorkbook,
    TableNotFound,
    UnsafeToUpdate,
    WorkbookBusy,
    WorkbookError,
    WorkbookTooLarge,
)
from workbook.package import (
    WorkbookLock,
    XlsxPackage,
    lock_path,
    open_package,
    plan,
    save,
    worksheet,
    write_tables,
    writer,
    xmlsafety,
)
from workbook.table_reader import read_tables

REPO = Path(__file__).resolve().parents[2]
OUTPUT_SHEET = "xl/worksheets/sheet2.xml"
OUTPUT_TABLE = "xl/tables/table2.xml"
OUTPUT_CHART = "xl/charts/chart1.xml"
# The only members a refresh of tblStageStats may change; everything else is byte-identical.
ALLOWED_TO_CHANGE = {OUTPUT_SHEET, OUTPUT_TABLE, OUTPUT_CHART}

X14_VALIDATION = (
    b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
    b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    b'<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
    b'<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1">'
    b"<x14:formula1><xm:f>Lists!$A$1:$A$4</xm:f></x14:formula1><xm:sqref>E3:E6</xm:sqref>"
    b"</x14:dataValidation></x14:dataValidations></ext></extLst>"
)


def _vba_project(tmp_path: Path) -> Path:
    import xlwings

    source = Path(xlwings.__file__).parent / "quickstart_standalone.xlsm"
    if not source.exists():
        pytest.skip(f"xlwings' {source.name} is not installed here; it supplies the vbaProject.bin")
    out = tmp_path / "vbaProject.bin"
    with zipfile.ZipFile(source) as z:
        out.write_bytes(z.read("xl/vbaProject.bin"))
    return out


def _rezip(path: Path, edits: dict[str, callable]) -> None:
    # Rewrite some members of a freshly built test workbook (the source file, not the SUT).
    with zipfile.ZipFile(path) as zin:
        items = [(i, zin.read(i.filename)) for i in zin.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in items:
            if info.filename in edits:
                data = edits[info.filename](data)
            zout.writestr(info, data)


def build_book(path: Path, vba: Path | None, stage_rows: list[tuple] | None = None) -> Path:
    """The test workbook: Input (tblOpportunities), Stage statistics (tblStageStats + chart),
    Lists, Notes (user-added) and a user defined name."""
    wb = xlsxwriter.Workbook(str(path))
    if vba is not None:
        wb.add_vba_project(str(vba))
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    money = wb.add_format({"num_format": "#,##0.00"})
    inp = wb.add_worksheet("Input")
    inp.add_table(
        "B2:E6",
        {
            "name": "tblOpportunities",
            "columns": [
                {"header": "id"},
                {"header": "amount"},
                {"header": "close_date", "format": date_fmt},
                {"header": "stage"},
            ],
            "data": [
                ["O-1", 1200.0, dt.date(2024, 1, 31), "Lead"],
                ["O-2", 50.5, dt.datetime(2024, 2, 29, 0, 0), "Won"],
                ["O-3", None, None, "Lost"],
                ["O-4", 7, dt.date(2023, 12, 1), None],
            ],
        },
    )
    inp.data_validation("D3:D6", {"validate": "list", "source": ["Lead", "Won", "Lost"]})
    inp.data_validation("E3:E6", {"validate": "list", "source": "=Lists!$A$1:$A$4"})
    inp.insert_button("G2", {"macro": "refresh", "caption": "Refresh", "width": 120, "height": 30})
    out = wb.add_worksheet("Stage statistics")
    out.set_column("C:C", 12, money)
    out.write("A6", "left of the table")
    out.write("F5", "right of the table")
    rows = stage_rows or [("Lead", 3, 100.0), ("Won", 2, 50.0), ("Lost", 1, 25.0)]
    out.add_table(
        3,
        1,
        3 + len(rows),
        3,
        {
            "name": "tblStageStats",
            "columns": [{"header": "stage"}, {"header": "count"}, {"header": "value"}],
            "data": [list(r) for r in rows],
        },
    )
    last = 4 + len(rows)
    chart = wb.add_chart({"type": "column"})
    chart.add_series(
        {
            "name": "='Stage statistics'!$C$4",
            "categories": f"='Stage statistics'!$B$5:$B${last}",
            "values": f"='Stage statistics'!$C$5:$C${last}",
        }
    )
    out.insert_chart("H2", chart)
    lists = wb.add_worksheet("Lists")
    lists.write_column("A1", ["Lead", "Qualify", "Won", "Lost"])
    notes = wb.add_worksheet("Notes")
    notes.write("A1", "the user's own sheet")
    notes.write_formula("A2", "=1+1", None, 2)
    wb.define_name("MyStages", "=Lists!$A$1:$A$4")
    wb.close()
    # An x14 list validation in the input sheet, as Excel 2010+ saves one (XlsxWriter 3.3
    # writes cross-sheet lists as plain dataValidation, so it is added here).
    _rezip(
        path,
        {
            "xl/worksheets/sheet1.xml": lambda d: d.replace(b"</worksheet>", X14_VALIDATION + b"</worksheet>"),
        },
    )
    return path


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return build_book(tmp_path / "funnel.xlsm", _vba_project(tmp_path))


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _raw_entries(path: Path) -> dict[str, bytes]:
    with open_package(path) as pkg:
        return {m.name: pkg.read_entry_bytes(m) for m in pkg.members}


def _stage_frame(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "stage": [f"S{i}" for i in range(n)],
            "count": [float(i + 1) for i in range(n)],
            "value": [100.0 * (i + 1) for i in range(n)],
        }
    )


def _assert_only_allowed_changed(before: Path, after: Path, allowed: set[str]) -> None:
    old, new = _members(before), _members(after)
    assert list(old) == list(new), "member list or order changed"
    changed = {n for n in old if old[n] != new[n]}
    assert changed <= allowed, f"members changed that the refresh does not own: {sorted(changed - allowed)}"
    raw_old, raw_new = _raw_entries(before), _raw_entries(after)
    for name in old:
        if name not in allowed:
            assert raw_old[name] == raw_new[name], f"{name}: stored bytes differ"


# ---- write: grow and shrink ------------------------------------------------------------------------
@pytest.mark.parametrize("n", [8, 2, 0])
def test_refresh_rewrites_only_what_it_owns(book: Path, tmp_path: Path, n: int) -> None:
    dst = tmp_path / "out.xlsm"
    frame = _stage_frame(n)
    write_tables(book, dst, {"tblStageStats": frame})

    _assert_only_allowed_changed(book, dst, ALLOWED_TO_CHANGE)
    files = _members(dst)
    assert b"vbaProject.bin" in b"".join(n.encode() for n in files)
    last = 4 + max(n, 1)
    table = files[OUTPUT_TABLE].decode()
    assert f'ref="B4:D{last}"' in table
    assert f'<autoFilter ref="B4:D{last}"/>' in table
    sheet = files[OUTPUT_SHEET].decode()
    # Cells outside the table's column span stay (A6 left, F5 right of it).
    assert re.search(r'<c r="A6" t="s">', sheet) and re.search(r'<c r="F5" t="s">', sheet)
    assert f'<dimension ref="A4:F{max(last, 6)}"/>' in sheet
    chart = files[OUTPUT_CHART].decode()
    assert f"'Stage statistics'!$B$5:$B${last}" in chart
    assert f"'Stage statistics'!$C$5:$C${last}" in chart
    assert "'Stage statistics'!$C$4" in chart  # the series name (header) is untouched
    assert f'<c:ptCount val="{max(n, 1)}"/>' in chart

    # openpyxl and calamine read the new values back.
    ws = openpyxl.load_workbook(dst, data_only=True)["Stage statistics"]
    got = [[c.value for c in row] for row in ws[f"B5:D{last}"]]
    expected = frame.values.tolist() if n else [[None, None, None]]
    assert [[v if v is not None else None for v in r] for r in got] == expected
    assert ws["A6"].value == "left of the table" and ws["F5"].value == "right of the table"
    assert ws["C4"].value == "count"
    with CalamineWorkbook.from_path(str(dst), load_tables=True) as cb:
        t = cb.get_table_by_name("tblStageStats")
        assert t.end == (last - 1, 3)
        if n:
            assert t.to_python() == frame.values.tolist()
    # Our reader too, with sheet rows as the index.
    back = read_tables(dst, ["tblStageStats"])["tblStageStats"]
    assert list(back.index) == list(range(5, last + 1))
    if n:
        pd.testing.assert_frame_equal(back.reset_index(drop=True), frame, check_dtype=False)


def test_new_cells_take_the_column_style(book: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.xlsm"
    write_tables(book, dst, {"tblStageStats": _stage_frame(6)})
    sheet = _members(dst)[OUTPUT_SHEET].decode()
    style = re.search(r'<col min="3" max="3"[^>]*style="(\d+)"', sheet).group(1)
    for r in range(5, 11):
        assert re.search(rf'<c r="C{r}" s="{style}">', sheet), f"C{r} lost the column format"
    ws = openpyxl.load_workbook(dst)["Stage statistics"]
    assert ws["C10"].number_format == "#,##0.00"


def test_formula_looking_text_stays_text(book: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.xlsm"
    texts = ["=SUM(A1:A9)", "+1", "-2", "@x", "=HYPERLINK(\"http://x\")", "a\x01b", "_x0041_"]
    frame = pd.DataFrame({"stage": texts, "count": range(len(texts)), "value": [None] * len(texts)})
    write_tables(book, dst, {"tblStageStats": frame})
    sheet = _members(dst)[OUTPUT_SHEET].decode()
    assert "<f>" not in sheet and "<f " not in sheet
    ws = openpyxl.load_workbook(dst)["Stage statistics"]
    got = [ws.cell(row=5 + i, column=2) for i in range(len(texts))]
    assert all(c.data_type == "s" for c in got)
    assert [c.value for c in got[:5]] == texts[:5]
    back = read_tables(dst, "tblStageStats")["tblStageStats"]
    assert back["stage"].tolist()[:5] == texts[:5]
    assert back["stage"].tolist()[6] == "_x0041_"  # a literal escape-looking text survives


def test_values_dates_and_blanks(book: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.xlsm"
    frame = pd.DataFrame(
        {
            "stage": ["a", None, "c"],
            "count": [True, np.nan, 3],
            "value": [pd.Timestamp("2024-03-01 12:00"), dt.date(1900, 1, 1), dt.date(1900, 3, 1)],
        }
    )
    write_tables(book, dst, {"tblStageStats": frame})
    sheet = _members(dst)[OUTPUT_SHEET].decode()
    style = re.search(r'<col min="3" max="3"[^>]*style="(\d+)"', sheet).group(1)
    assert f'<c r="C5" s="{style}" t="b"><v>1</v></c>' in sheet
    assert 'r="B6"' not in sheet and 'r="C6"' not in sheet  # None/NaN: no cell
    assert '<c r="D5"><v>45352.5</v></c>' in sheet
    assert '<c r="D6"><v>1</v></c>' in sheet  # 1900-01-01 is serial 1
    assert '<c r="D7"><v>61</v></c>' in sheet  # after Excel's fictitious 1900-02-29


def test_repeated_values_render_alike_but_equal_instants_in_other_zones_do_not(book: Path, tmp_path: Path) -> None:
    # Each distinct value of a column is rendered once and reused; 1 and True and 1.0 are
    # equal in Python yet different cells, and a time keeps its own wall clock.
    dst = tmp_path / "out.xlsm"
    utc = pd.Timestamp("2024-03-01 12:00", tz="UTC")
    frame = pd.DataFrame(
        {
            "stage": ["a", "a", "b", "a"],
            "count": pd.Series([1, True, 1.0, True], dtype=object),
            "value": pd.Series([utc, utc.tz_convert("Asia/Shanghai"), utc, None], dtype=object),
        }
    )
    write_tables(book, dst, {"tblStageStats": frame})
    sheet = _members(dst)[OUTPUT_SHEET].decode()
    style = re.search(r'<col min="3" max="3"[^>]*style="(\d+)"', sheet).group(1)
    assert [re.search(rf'<c r="B{r}"[^>]*><is><t[^>]*>(\w)</t>', sheet).group(1) for r in range(5, 9)] == ["a", "a", "b", "a"]
    assert f'<c r="C5" s="{style}"><v>1</v></c>' in sheet and f'<c r="C6" s="{style}" t="b"><v>1</v></c>' in sheet
    assert f'<c r="C7" s="{style}"><v>1</v></c>' in sheet and f'<c r="C8" s="{style}" t="b"><v>1</v></c>' in sheet
    assert '<c r="D5"><v>45352.5</v></c>' in sheet and '<c r="D7"><v>45352.5</v></c>' in sheet
    assert '<c r="D6"><v>45352.833333333336</v></c>' in sheet  # 20:00 in Shanghai
    assert 'r="D8"' not in sheet


def test_in_place_refresh_and_roundtrip(book: Path) -> None:
    before = book.read_bytes()
    write_tables(book, book, {"tblStageStats": _stage_frame(4)})
    assert book.read_bytes() != before
    assert not lock_path(book).exists()
    assert not list(book.parent.glob("*.funnel-tmp"))
    back = read_tables(book, ["tblStageStats", "tblOpportunities"])
    assert back["tblStageStats"]["stage"].tolist() == ["S0", "S1", "S2", "S3"]


@pytest.mark.parametrize("rows", [2, 3, 9])
def test_old_rows_fast_path_writes_the_same_bytes(book: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: int) -> None:
    # A second refresh meets rows holding only the table's old cells and replaces them
    # without walking cell by cell (whole runs of rows, or row by row); the careful walk
    # must produce the very same file.
    write_tables(book, book, {"tblStageStats": _stage_frame(5)})
    fast, careful = tmp_path / "fast.xlsm", tmp_path / "careful.xlsm"
    write_tables(book, fast, {"tblStageStats": _stage_frame(rows)})
    monkeypatch.setattr(worksheet, "_plain_old_rows", lambda body, rows, order, changes: set())
    monkeypatch.setattr(worksheet, "_old_table_row", lambda content, r, changes: False)
    write_tables(book, careful, {"tblStageStats": _stage_frame(rows)})
    assert fast.read_bytes() == careful.read_bytes()


def test_headers_must_match(book: Path, tmp_path: Path) -> None:
    frame = _stage_frame(2).rename(columns={"value": "Value"})
    with pytest.raises(UnsafeToUpdate, match="headers"):
        write_tables(book, tmp_path / "out.xlsm", {"tblStageStats": frame})
    assert not (tmp_path / "out.xlsm").exists()


def test_growing_over_user_data_is_refused(tmp_path: Path) -> None:
    path = build_book(tmp_path / "b.xlsx", None)
    _rezip(
        path,
        {OUTPUT_SHEET: lambda d: d.replace(b"</sheetData>", b'<row r="12"><c r="C12"><v>9</v></c></row></sheetData>')},
    )
    with pytest.raises(UnsafeToUpdate, match="C12"):
        write_tables(path, tmp_path / "out.xlsx", {"tblStageStats": _stage_frame(10)})
    write_tables(path, tmp_path / "out.xlsx", {"tblStageStats": _stage_frame(5)})  # stops short: fine


def test_missing_table_names_sheets(book: Path) -> None:
    with pytest.raises(TableNotFound) as err:
        read_tables(book, ["tblForecast"])
    msg = str(err.value)
    assert "tblForecast" in msg and "'Stage statistics'" in msg and "'Notes'" in msg
    assert isinstance(err.value, LookupError)


def test_read_tables_types_and_index(book: Path) -> None:
    df = read_tables(book, ["TBLOPPORTUNITIES"])["TBLOPPORTUNITIES"]
    assert list(df.columns) == ["id", "amount", "close_date", "stage"]
    assert list(df.index) == [3, 4, 5, 6]
    assert df["amount"].dtype == np.float64 and np.isnan(df.loc[5, "amount"])
    assert df.loc[3, "close_date"] == dt.date(2024, 1, 31) or df.loc[3, "close_date"] == dt.datetime(2024, 1, 31)
    assert df.loc[5, "close_date"] is None and df.loc[6, "stage"] is None
    assert df["id"].tolist() == ["O-1", "O-2", "O-3", "O-4"]


# ---- calcChain and recalculation --------------------------------------------------------------------
def test_calc_chain_and_full_calc_on_load(tmp_path: Path) -> None:
    path = build_book(tmp_path / "b.xlsx", None)
    chain = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<c r="C6" i="2"/><c r="A2" i="4"/></calcChain>'
    )
    with zipfile.ZipFile(path) as z:
        items = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in items:
            if info.filename == "xl/workbook.xml":
                data = data.replace(b' fullCalcOnLoad="1"', b"")
            if info.filename == "xl/worksheets/sheet4.xml":  # Notes: a formula reading the output table
                data = data.replace(b"<f>1+1</f>", b"<f>SUM(tblStageStats[count])</f>")
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    b'relationships/calcChain" Target="calcChain.xml"/></Relationships>',
                )
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxmlformats-'
                    b'officedocument.spreadsheetml.calcChain+xml"/></Types>',
                )
            z.writestr(info, data)
        z.writestr("xl/calcChain.xml", chain)
    dst = tmp_path / "out.xlsx"
    write_tables(path, dst, {"tblStageStats": _stage_frame(5)})
    files = _members(dst)
    assert b'<c r="C6"' not in files["xl/calcChain.xml"] and b'<c r="A2" i="4"/>' in files["xl/calcChain.xml"]
    assert b'fullCalcOnLoad="1"' in files["xl/workbook.xml"]
    _assert_only_allowed_changed(path, dst, ALLOWED_TO_CHANGE | {"xl/calcChain.xml", "xl/workbook.xml"})

    # Without a dependent formula, workbook.xml stays byte-identical.
    _rezip(path, {"xl/worksheets/sheet4.xml": lambda d: d.replace(b"SUM(tblStageStats[count])", b"1+1")})
    write_tables(path, dst, {"tblStageStats": _stage_frame(5)})
    assert _members(dst)["xl/workbook.xml"] == _members(path)["xl/workbook.xml"]


# ---- crash safety and locking ---------------------------------------------------------------------
def test_failure_before_replace_leaves_original(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = book.read_bytes()

    def boom(tmp: Path, dst: Path) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr(save, "_before_replace", boom)
    with pytest.raises(RuntimeError):
        write_tables(book, book, {"tblStageStats": _stage_frame(9)})
    assert book.read_bytes() == before
    assert not list(book.parent.glob("*.funnel-tmp")) and not lock_path(book).exists()


_KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import pandas as pd
    from workbook.package import save, write_tables

    def stall(tmp, dst):
        Path(sys.argv[2]).write_text("ready")
        time.sleep(60)

    save._before_replace = stall
    frame = pd.DataFrame({"stage": ["x"] * 50, "count": [1.0] * 50, "value": [2.0] * 50})
    write_tables(sys.argv[1], sys.argv[1], {"tblStageStats": frame})
    """
)


def test_killed_writer_leaves_original_and_a_stale_lock_is_taken_over(book: Path, tmp_path: Path) -> None:
    before = book.read_bytes()
    flag = tmp_path / "ready"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(book), str(flag)], env=env)
    try:
        deadline = time.monotonic() + 120  # hang guard only: the writer gets there in about a second
        while not flag.exists():
            assert proc.poll() is None, "writer died early"
            assert time.monotonic() < deadline, "hung: the writer never reached the replace step in 120 s"
            time.sleep(0.05)
        # Mid-refresh: the lock is held, a second writer is refused.
        with pytest.raises(WorkbookBusy, match=str(proc.pid)):
            write_tables(book, book, {"tblStageStats": _stage_frame(2)})
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=120)  # hang guard: SIGKILL cannot be ignored
    finally:
        if proc.poll() is None:
            proc.kill()
    assert book.read_bytes() == before
    assert lock_path(book).exists()  # left behind by the killed process
    assert list(book.parent.glob("*.funnel-tmp"))  # its half-done temp file
    write_tables(book, book, {"tblStageStats": _stage_frame(2)})  # takes the stale lock over
    assert read_tables(book, "tblStageStats")["tblStageStats"]["stage"].tolist() == ["S0", "S1"]
    assert not lock_path(book).exists() and not list(book.parent.glob("*.funnel-tmp"))


def test_concurrent_writer_gets_busy(book: Path) -> None:
    with WorkbookLock(book):
        with pytest.raises(WorkbookBusy, match="being refreshed"):
            write_tables(book, book, {"tblStageStats": _stage_frame(2)})
    write_tables(book, book, {"tblStageStats": _stage_frame(2)})


# ---- hostile files ----------------------------------------------------------------------------------
@pytest.fixture
def reached(monkeypatch: pytest.MonkeyPatch) -> dict[str, list]:
    """What a read or a write of a hostile file got to: the parts inflated and the XML
    handed to the parser, recorded; the cell readers (fastexcel, python-calamine), the
    sheet rewrite and the save fail at once, so a file that slips past a check fails the
    test instead of being read."""
    seen: dict[str, list] = {"inflated": [], "parsed": []}
    inflate_part, fromstring = XlsxPackage.inflate_part, xmlsafety.ET.fromstring

    def inflating(self, part, **kwargs):
        seen["inflated"].append(self.member(part).name)
        yield from inflate_part(self, part, **kwargs)

    def parsing(data, *args, **kwargs):
        seen["parsed"].append(data)
        return fromstring(data, *args, **kwargs)

    def unreachable(what: str):
        def reached_it(*args, **kwargs):
            raise AssertionError(f"{what} reached: the file was read before it was refused")
        return reached_it

    monkeypatch.setattr(XlsxPackage, "inflate_part", inflating)
    monkeypatch.setattr(xmlsafety.ET, "fromstring", parsing)
    monkeypatch.setattr(table_reader, "_private_package", unreachable("the cell readers"))
    monkeypatch.setattr(writer, "rewrite_sheet", unreachable("the sheet rewrite"))
    monkeypatch.setattr(writer, "save_atomically", unreachable("the save"))
    return seen


def _refused(path: Path, error: type[WorkbookError], reached: dict[str, list], may_inflate: Collection[str] | None = ()) -> str:
    # Both the reader and the writer refuse, before the file is read: no part inflated
    # but those in may_inflate (None: any, the sheet must be inflated to be measured),
    # no XML declaring entities parsed, nothing written (the spies of `reached`).
    out = path.with_name("out-" + path.name)
    with pytest.raises(error) as err:
        read_tables(path, ["tblStageStats"])
    with pytest.raises(error):
        write_tables(path, out, {"tblStageStats": _stage_frame(1)})
    if may_inflate is not None:
        assert set(reached["inflated"]) <= set(may_inflate), f"inflated {reached['inflated']} before refusing"
    assert not any(b"<!ENTITY" in doc for doc in reached["parsed"]), "entity declarations reached the XML parser"
    assert not out.exists()
    return str(err.value)


def test_refuses_plain_text(tmp_path: Path, reached: dict) -> None:
    p = tmp_path / "notes.xlsx"
    p.write_text("just some text, not a workbook\n" * 100)
    assert "not a zip" in _refused(p, NotAWorkbook, reached)


def test_refuses_truncated_zip(book: Path, reached: dict) -> None:
    data = book.read_bytes()
    book.write_bytes(data[: len(data) // 2])
    _refused(book, NotAWorkbook, reached)


def test_refuses_encrypted_ole(tmp_path: Path, reached: dict) -> None:
    p = tmp_path / "secret.xlsx"
    p.write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 4000 + "EncryptedPackage".encode("utf-16-le") + b"\0" * 4000)
    assert "password" in _refused(p, NotAWorkbook, reached)


def test_refuses_zip_bomb(book: Path, tmp_path: Path, reached: dict) -> None:
    p = tmp_path / "bomb.xlsx"
    shutil.copy(book, p)
    with zipfile.ZipFile(p, "a", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/media/bomb.bin", b"\0" * (64 << 20))
    assert "zip bomb" in _refused(p, WorkbookTooLarge, reached)  # from the zip directory: nothing inflated


def test_refuses_entity_declarations(book: Path, tmp_path: Path, reached: dict) -> None:
    p = tmp_path / "lol.xlsx"
    shutil.copy(book, p)
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
        + b"]>"
    )
    _rezip(p, {"xl/workbook.xml": lambda d: laughs + d[d.index(b"<workbook") :].replace(b'name="Lists"', b'name="&lol9;"')})
    # Refused from the workbook part's own bytes: the sheets are never inflated.
    assert "DTD" in _refused(p, NotAWorkbook, reached, {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml"})


def test_refuses_huge_dimension_and_corner_cells(book: Path, tmp_path: Path, reached: dict) -> None:
    p = tmp_path / "huge.xlsx"
    shutil.copy(book, p)
    _rezip(
        p,
        {
            OUTPUT_SHEET: lambda d: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', d).replace(
                b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
            )
        },
    )
    _refused(p, WorkbookTooLarge, reached, None)
    # Corner cells behind an honest-looking dimension are refused too (calamine would abort).
    q = tmp_path / "corner.xlsx"
    shutil.copy(book, q)
    _rezip(q, {OUTPUT_SHEET: lambda d: d.replace(b'<c r="D7">', b'<c r="XFD1048576"><v>1</v></c><c r="D7">')})
    assert "positions" in _refused(q, WorkbookTooLarge, reached, None)


# ---- LibreOffice reads what we wrote ------------------------------------------------------------------
SOFFICE = Path("/usr/bin/soffice")


@pytest.mark.libreoffice
@pytest.mark.skipif(not SOFFICE.exists(), reason="LibreOffice is not installed at /usr/bin/soffice")
def test_libreoffice_reads_the_refreshed_table(book: Path, tmp_path: Path) -> None:
    dst = tmp_path / "refreshed.xlsx"
    frame = pd.DataFrame({"stage": ["Lead", "=not a formula", "Won"], "count": [3.0, 4.5, 1.0], "value": [10.0, 20.0, 30.0]})
    write_tables(book, dst, {"tblStageStats": frame})
    outdir = tmp_path / "csv"
    outdir.mkdir()
    profile = tmp_path / f"lo_profile_{os.getpid()}"
    # Token 12 of the CSV filter options picks the sheet (2 = "Stage statistics").
    cmd = [
        str(SOFFICE),
        f"-env:UserInstallation=file://{profile}",
        "--headless",
        "--convert-to",
        "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,2",
        "--outdir",
        str(outdir),
        str(dst),
    ]
    try:
        subprocess.run(cmd, check=True, timeout=180, capture_output=True)
    except subprocess.TimeoutExpired:
        pytest.skip("LibreOffice did not finish within 180 s on this machine")
    produced = sorted(outdir.glob("*.csv"))
    assert produced, "LibreOffice wrote no CSV"
    rows = list(csv.reader(produced[0].read_text(encoding="utf-8").splitlines()))
    table = [r[1:4] for r in rows[3:7]]
    assert table[0] == ["stage", "count", "value"]
    assert [r[0] for r in table[1:]] == ["Lead", "=not a formula", "Won"]
    assert [float(r[2]) for r in table[1:]] == [10.0, 20.0, 30.0]
    assert [float(r[1].replace(",", "")) for r in table[1:]] == [3.0, 4.5, 1.0]


_PURE_ROWS = (  # tblStageStats' old data rows 5..7 (columns B:D) as a refresh wrote them
    b'<row r="4" spans="2:4"><c r="B4" t="s"><v>3</v></c><c r="C4" t="s"><v>13</v></c><c r="D4" t="s"><v>14</v></c></row>'
    b'<row r="5" spans="2:4"><c r="B5" t="inlineStr"><is><t>S0</t></is></c><c r="C5" s="2"><v>3</v></c><c r="D5"><v>100</v></c></row>'
    b'<row r="6" spans="2:4"><c r="B6" t="inlineStr"><is><t>S1</t></is></c><c r="C6" s="2"><v>2</v></c></row>'
    b'<row r="7" spans="2:4"><c r="B7" t="inlineStr"><is><t>S2</t></is></c><c r="D7"><v>25</v></c></row>'
)


@pytest.mark.parametrize(
    ("edit", "plain"),
    [
        (lambda b: b, {5, 6, 7}),
        (lambda b: b.replace(b"</row><row r=\"6\"", b'<c r="F5" t="s"><v>12</v></c></row><row r="6"'), set()),  # a note beside
        (lambda b: b.replace(b'<c r="D7"><v>25</v>', b'<c r="D7"><f>1+1</f><v>2</v>'), set()),  # a formula
        (lambda b: b.replace(b'<c r="D7">', b'<c r="D9">'), set()),  # a cell claiming a row below the table
        (lambda b: b.replace(b'<c r="D7">', b'<c s="1" r="D7">'), set()),  # r= not first: not provable
        (lambda b: b.replace(b"<t>S1</t>", b'<r><rPr><color rgb="FFFF0000"/></rPr><t>S1</t></r>'), {5, 6, 7}),  # rich text
    ],
)
def test_plain_old_rows_are_proven_a_run_at_a_time(book: Path, edit, plain: set[int]) -> None:
    # Which old rows a second refresh may replace wholesale: rows of the table's old data
    # area whose every cell is in the table's columns and rows, with no formula in the run.
    with open_package(book) as pkg:
        info = pkg.table("tblStageStats")
    body = edit(_PURE_ROWS)
    rows = worksheet._scan_rows(OUTPUT_SHEET, body)
    change = plan.TableChange(info=info, frame=_stage_frame(2), new_last=info.body_first_row + 1)
    assert (info.body_first_row, info.body_last_row) == (5, 7)
    assert worksheet._plain_old_rows(body, rows, list(rows), [change]) == plain
