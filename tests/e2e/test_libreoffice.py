"""The refreshed demo workbook as LibreOffice Calc sees it: real software no one here wrote.

Each language's demo workbook is built (``new_workbook``), refreshed headless by the very
macro the Refresh button runs (``udfs.macros.refresh`` on a ``FileBook``), then opened
once in a private headless LibreOffice (``tests/support/lo_probe.py``). What Calc reads
back must be the engine's figures, computed here independently from the same demo
tables (``funnel.analysis.run`` + ``output_frames``), not read back from the workbook.

What the comparisons ignore, named where it matters: Calc holds every number as a
double (so an engine integer 32 is Calc's 32.0: compared as numbers), holds a date as a
serial day count (compared through Calc's own null date), and drops a cell holding empty
text on import (an engine "" is Calc's empty cell; Excel would keep a "" text cell, which
looks the same). An empty output table reads back as the one blank data row Excel keeps.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from funnel.analysis import run
from funnel.demo.data import demo_tables
from tests.support.libreoffice import SOFFICE, probe, requires_libreoffice
from udfs.macros import refresh_report
from workbook.build import new_workbook
from workbook.filebook import FileBook
from workbook.layout import OUTPUTS, REFRESH_MACRO, SNAPSHOT_MACRO, metric_label
from workbook.mapping import output_frames

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow, requires_libreoffice]

DEMO_SIZE = 300
# Every output table is read back; these must be among them (a refresh that silently
# dropped one of them would otherwise pass).
MUST_HAVE = ("tblSummary", "tblStageStats", "tblForecastPeriods", "tblWinRates", "tblIssues")
REL_TOL = 1e-9
MACRO_MODULE = "FunnelMacros"
# Calc turns an Excel form button's macro "[0]!RefreshFunnel" into this script URL, with
# the module that defines the Sub filled in.
BUTTON_SCRIPT = f"vnd.sun.star.script:VBAProject.{MACRO_MODULE}.{REFRESH_MACRO}?language=Basic&location=document"
SNAPSHOT_SCRIPT = BUTTON_SCRIPT.replace(REFRESH_MACRO, SNAPSHOT_MACRO)
# Which table columns each chart plots: (table, category column, value columns in series order).
CHARTS = {
    "Stages": [("tblStageStats", "name", ("open_deals",)), ("tblStageStats", "name", ("open_amount",))],
    "Forecast": [("tblForecastPeriods", "period", ("closed_won", "weighted", "commit"))],
}


@pytest.fixture(scope="module", params=["en", "zh-CN"])
def book(request, tmp_path_factory):
    """The refreshed demo workbook of one language, the engine's frames and Calc's view of it."""
    language = request.param
    folder = tmp_path_factory.mktemp(f"lo_{language}")
    path = folder / f"demo_{language}.xlsm"
    tables = demo_tables(size=DEMO_SIZE)
    new_workbook(path, language, tables)
    report, message = refresh_report(FileBook(path))
    # The engine's own frames for this refresh (its snapshot store's history included), which
    # the same data computed afresh must match outside the history's tables.
    expected = output_frames(report)
    afresh = output_frames(run(demo_tables(size=DEMO_SIZE), {"language": language}))
    for name in ("tblSummary", "tblForecastPeriods", "tblStageStats", "tblWinRates"):
        pd.testing.assert_frame_equal(afresh[name], expected[name], obj=name, check_dtype=False)  # text read back: other storage
    summary = OUTPUTS["tblSummary"]
    seen = probe(path, tables=list(expected), modules=True, charts=True, controls=True, pdf=folder / "demo.pdf",
                 # the Summary's headline table alone, as printed
                 sheet_images=[{"sheet": summary.sheet(language), "text": True, "columns": _columns(summary)}])
    return {"language": language, "path": path, "message": message, "expected": expected, "seen": seen}


def _sheet(name_en: str, language: str) -> str:
    # The sheet's name in the workbook's language, from the layout (never typed twice).
    layout = next(t for t in OUTPUTS.values() if t.sheet_en == name_en)
    return layout.sheet(language)


def _output_sheets(language: str) -> list[str]:
    return list(dict.fromkeys(t.sheet(language) for t in OUTPUTS.values()))


def _columns(layout) -> str:
    # "A:B": the sheet columns a table spans (A..Z is enough for the tables rendered here).
    first = layout.anchor[1]
    return f"{chr(65 + first)}:{chr(65 + first + len(layout.columns) - 1)}"


def test_workbook_loads_and_recalculates(book):
    seen = book["seen"]
    assert seen["loaded"] is True
    # calculateAll ran to the end (its time is a figure, not judged); what the sheets hold
    # after it: test_output_table_reads_back_as_the_engines_figures.
    assert "recalc_s" in seen
    # Output sheets come first: they are what a sales-ops user opens the workbook for.
    outputs = _output_sheets(book["language"])
    assert set(seen["sheets"][: len(outputs)]) == set(outputs)


def test_pdf_export_has_a_page_for_every_sheet(book):
    pdf = book["seen"]["pdf"]
    assert pdf["bytes"] > 10_000
    with open(pdf["path"], "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    # Every visible sheet has content (at least its table's header), so at least a page
    # each; xlwings.conf is hidden and does not print.
    visible = [name for name in book["seen"]["sheets"] if name != "xlwings.conf"]
    assert pdf["pages"] >= len(visible)


def _printed_pages(pdf: str) -> tuple[dict[str, int], list[str]]:
    # Calc's PDF of the workbook, page by page (poppler's pdftotext): each page's footer reads
    # "<sheet>   <file>   <page> / <pages>"; pages counted per sheet, and the pages without one.
    text = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True, check=True).stdout
    footer = re.compile(r"^\s*(.+?)\s{2,}\S+\.xlsm\s{2,}(\d+) / (\d+)\s*$")
    per_sheet: dict[str, int] = {}
    unmarked = []
    for number, page in enumerate(text.split("\f")[:-1], start=1):
        lines = [line for line in page.splitlines() if line.strip()]
        found = footer.match(lines[-1]) if lines else None
        if found is None:
            unmarked.append(f"page {number}")
            continue
        per_sheet[found.group(1)] = per_sheet.get(found.group(1), 0) + 1
    return per_sheet, unmarked


@pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None,
                    reason="poppler-utils (pdftotext, pdfinfo) is not installed")
def test_every_output_sheet_prints_on_a_few_landscape_pages_with_a_footer(book):
    # Printing the demo once gave 621 pages (no page setup): now each output sheet is one
    # page wide, landscape, its headers repeated, every page saying its sheet, file and number.
    pdf = book["seen"]["pdf"]["path"]
    per_sheet, unmarked = _printed_pages(pdf)
    assert unmarked == []
    for sheet in _output_sheets(book["language"]):
        assert 1 <= per_sheet.get(sheet, 0) <= 3, (sheet, per_sheet.get(sheet))
    assert per_sheet[_sheet("Dashboard", book["language"])] == 1  # the Dashboard: one page in all
    sizes = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", pdf], capture_output=True, text=True, check=True).stdout
    pages = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", sizes)
    assert pages and all(float(w) > float(h) for w, h in pages)


# The red and amber fills of Deal scores' flag rules (workbook.build._flag_colours).
_RED, _AMBER = (0xFF, 0xC7, 0xCE), (0xFF, 0xEB, 0x9C)


def _page_of(pdf: str, sheet: str) -> int:
    # The first printed page whose footer names the sheet.
    text = subprocess.run(["pdftotext", "-layout", pdf, "-"], capture_output=True, text=True, check=True).stdout
    footer = re.compile(rf"^\s*{re.escape(sheet)}\s{{2,}}\S+\.xlsm\s{{2,}}\d+ / \d+\s*$")
    for number, page in enumerate(text.split("\f")[:-1], start=1):
        lines = [line for line in page.splitlines() if line.strip()]
        if lines and footer.match(lines[-1]):
            return number
    raise AssertionError(f"no printed page of {sheet}")


def _pixels(pdf: str, page: int, folder) -> np.ndarray:
    # The page as poppler draws it: a binary PPM (P6), height x width x RGB.
    out = folder / "page"
    subprocess.run(["pdftoppm", "-f", str(page), "-l", str(page), "-r", "60", "-singlefile", pdf, str(out)], check=True)
    data = (folder / "page.ppm").read_bytes()
    magic, width, height, top, rest = data.split(maxsplit=4)
    assert magic == b"P6" and top == b"255"
    return np.frombuffer(rest[: int(width) * int(height) * 3], dtype=np.uint8).reshape(int(height), int(width), 3)


@pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
                    reason="poppler-utils (pdftotext, pdftoppm) is not installed")
def test_flags_stand_out_red_and_amber_in_the_printed_deal_scores(book, tmp_path):
    # The flags' conditional formats survive LibreOffice's PDF export and show: some cells
    # of the first Deal scores page are filled red (a warning sign), some amber (a missing
    # qualification, one warning sign).
    pdf = book["seen"]["pdf"]["path"]
    pixels = _pixels(pdf, _page_of(pdf, _sheet("Deal scores", book["language"])), tmp_path)
    for colour in (_RED, _AMBER):
        hits = (np.abs(pixels.astype(int) - np.array(colour)).max(axis=2) <= 6).sum()
        assert hits > 50, (colour, hits)


def test_soffice_convert_to_pdf_exports_the_refreshed_book(book, tmp_path):
    # The plain command line a user runs: a conditional format over TRUE/FALSE cells made it
    # fail ("Unspecified Application Error", no PDF) on a refreshed book; the flags are 1 / 0.
    out = tmp_path / "pdf"
    done = subprocess.run([SOFFICE, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}", "--headless",
                           "--convert-to", "pdf", "--outdir", str(out), str(book["path"])],
                          capture_output=True, text=True, timeout=600)
    pdf = out / (book["path"].stem + ".pdf")
    assert pdf.exists() and pdf.read_bytes()[:5] == b"%PDF-", done.stdout + done.stderr
    assert "Error" not in done.stderr


def test_vba_modules_are_read_by_libreoffice(book):
    modules = book["seen"]["modules"]
    assert modules["library"] == "VBAProject"
    found = modules["modules"]
    # com.sun.star.script.ModuleType: 1 normal, 2 class, 4 document.
    assert found[MACRO_MODULE]["type"] == 1
    assert re.search(rf"^\s*(Public\s+)?Sub\s+{REFRESH_MACRO}\s*\(\s*\)", found[MACRO_MODULE]["code"], re.M)
    assert "RunPython" in found[MACRO_MODULE]["code"]
    assert found["xlwings"]["type"] == 1
    assert re.search(r"^\s*(Public\s+)?Function\s+RunPython\b", found["xlwings"]["code"], re.M | re.I)
    assert found["ThisWorkbook"]["type"] == 4
    sheet_modules = {name for name, module in found.items() if module["type"] == 4} - {"ThisWorkbook"}
    assert len(sheet_modules) == len(book["seen"]["sheets"])


def _serial(value, null_date: str) -> float:
    # Calc's day count for a date: days since its null date (1899-12-30 for xlsx).
    day = pd.Timestamp(value)
    return (day - pd.Timestamp(null_date)) / pd.Timedelta(days=1)


def _same(expected, got, null_date: str) -> bool:
    """One engine value against the cell Calc reads back (see the module docstring)."""
    if expected is None or (not isinstance(expected, str) and pd.isna(expected)):
        return got is None
    if isinstance(expected, (pd.Timestamp, dt.date, np.datetime64)):
        number = got["date"] if isinstance(got, dict) and "date" in got else got
        return isinstance(number, float) and number == _serial(expected, null_date)
    if expected == "":
        return got in (None, "")
    if isinstance(expected, str):
        return got == expected
    if isinstance(expected, (bool, np.bool_)):
        return got == float(expected)
    number = float(expected)
    if math.isinf(number):
        return got == {"error": "#NUM!"}
    return isinstance(got, float) and math.isclose(got, number, rel_tol=REL_TOL, abs_tol=0.0)


def test_every_output_table_is_read_back(book):
    assert set(MUST_HAVE) <= set(book["expected"])
    assert set(book["seen"]["tables"]) == set(book["expected"])


@pytest.mark.parametrize("table", list(OUTPUTS))
def test_output_table_reads_back_as_the_engines_figures(book, table):
    if table not in book["expected"]:
        pytest.skip(f"the engine gives no {table} for the demo")
    expected: pd.DataFrame = book["expected"][table]
    seen = book["seen"]["tables"][table]
    layout = OUTPUTS[table]
    assert seen["sheet"] == layout.sheet(book["language"])
    assert seen["header"] == list(expected.columns) == layout.headers(book["language"])
    assert seen["address"][1:3] == [layout.anchor[1], layout.anchor[0]]  # (column, row) of the header
    if expected.empty:
        # Excel keeps at least one data row in a table: an empty result is one blank row.
        assert seen["rows"] == [[None] * len(expected.columns)]
        return
    assert len(seen["rows"]) == len(expected)
    wrong = [
        (r, column, value, got)
        for r, (record, row) in enumerate(zip(expected.itertuples(index=False), seen["rows"]))
        for column, value, got in zip(expected.columns, record, row)
        if not _same(value, got, book["seen"]["null_date"])
    ]
    assert not wrong, f"{len(wrong)} cells differ, first: {wrong[:5]}"


def _summary_shown(book) -> dict[str, str]:
    # The Summary as printed (pdftotext of Calc's PDF): label -> the text shown beside it.
    shown = {}
    for line in book["seen"]["sheet_images"][0]["text"].splitlines():
        parts = re.split(r"\s{2,}", line.strip())
        if len(parts) == 2:
            shown[parts[0]] = parts[1]
    return shown


def test_summary_prints_every_headline_figure(book):
    shown = _summary_shown(book)
    for label, value in book["expected"]["tblSummary"].itertuples(index=False):
        assert label in shown, f"{label!r} is not printed on the Summary sheet"
        if isinstance(value, str):
            assert shown[label] == value


def test_summary_shows_the_as_of_date_as_a_date_and_the_win_rate_as_a_percent(book):
    # One number format serves the Summary's value column: these two once printed as
    # 46,346.00 and 0.28, then were written as text; now they are a date and a number,
    # their rows' conditional formats (workbook.build._summary_formats) giving their look.
    shown = _summary_shown(book)
    assert shown[metric_label("as_of", book["language"])] == "2026-11-20"
    # 75 won of 268 closed in the 300-deal demo: 75 / 268 = 0.2799 -> 28.0%.
    assert shown[metric_label("win_rate", book["language"])] == "28.0%"


def _data_rows(layout, rows: int) -> tuple[int, int]:
    # 0-based first and last data row of a table with ``rows`` data rows.
    return layout.anchor[0] + 1, layout.anchor[0] + rows


def _column_address(book, table: str, key: str) -> list[int]:
    layout = OUTPUTS[table]
    sheet_index = book["seen"]["sheets"].index(layout.sheet(book["language"]))
    column = layout.anchor[1] + [c.key for c in layout.columns].index(key)
    first, last = _data_rows(layout, len(book["expected"][table]))
    return [sheet_index, column, first, column, last]


@pytest.mark.parametrize("sheet_en", sorted(CHARTS))
def test_charts_plot_exactly_the_refreshed_rows(book, sheet_en):
    charts = book["seen"]["charts"][_sheet(sheet_en, book["language"])]
    assert len(charts) == len(CHARTS[sheet_en])
    # Charts come back in no promised order: match each by the value columns it plots.
    by_values = {
        tuple(tuple(seq["address"]) for s in chart["series"] for seq in s["sequences"] if seq["role"] == "values-y"): chart
        for chart in charts
    }
    for table, category, values in CHARTS[sheet_en]:
        wanted = tuple(tuple(_column_address(book, table, key)) for key in values)
        assert wanted in by_values, f"no chart plots {values} of {table}; charts plot {list(by_values)}"
        chart = by_values[wanted]
        assert chart["categories"]["address"] == _column_address(book, table, category)
        labels = [s["label"] for s in chart["series"]]
        headers = {c.key: c.header(book["language"]) for c in OUTPUTS[table].columns}
        assert labels == [headers[key] for key in values]
        # LibreOffice's own summary of the chart's data (XTableChart.getRanges) agrees.
        assert sorted(chart["ranges"]) == sorted([_column_address(book, table, category)]
                                                 + [list(a) for a in wanted])


def test_every_chart_plots_whole_columns_of_one_refreshed_table(book):
    # Any chart on any sheet: each range it plots is one column of an output table, from
    # its first data row to its last after the refresh (not the builder's one-row stub).
    tables = book["seen"]["tables"]
    charts = [chart for found in book["seen"]["charts"].values() for chart in found]
    assert len(charts) >= sum(len(c) for c in CHARTS.values())
    for chart in charts:
        sequences = [chart["categories"]] + [q for s in chart["series"] for q in s["sequences"]]
        for seq in filter(None, sequences):
            sheet, c0, r0, c1, r1 = seq["address"]
            # The table whose columns hold it and whose body holds its first row (the
            # Dashboard's tables sit above one another).
            homes = [name for name, t in tables.items()
                     if t["address"][0] == sheet and t["address"][1] <= c0 == c1 <= t["address"][3]
                     and t["address"][2] < r0 <= t["address"][4]]
            assert len(homes) == 1, f"{chart['title']}: {seq['range']} lies in no single output table"
            table = tables[homes[0]]
            assert (r0, r1) == (table["address"][2] + 1, table["address"][4]), (
                f"{chart['title']}: {seq['range']} does not span the {len(table['rows'])} rows of {homes[0]}")


def test_every_output_sheet_has_a_refresh_button_bound_to_the_macro(book):
    zh = book["language"] == "zh-CN"
    captions = {"刷新" if zh else "Refresh": BUTTON_SCRIPT, "记录快照" if zh else "Snapshot": SNAPSHOT_SCRIPT}
    controls = book["seen"]["controls"]
    outputs = _output_sheets(book["language"])
    for name in outputs:
        buttons = [c for c in controls[name] if c["kind"].endswith("ButtonModel")]
        assert sorted(b["label"] for b in buttons) == sorted(captions), f"{name}: {buttons}"
        for button in buttons:
            clicks = [e for e in button["events"] if e["method"] == "actionPerformed"]
            script = captions[button["label"]]
            assert clicks and all(e["type"] == "Script" and e["code"] == script for e in clicks), clicks
    inputs = [name for name in book["seen"]["sheets"] if name not in outputs]
    assert inputs and all(not controls[name] for name in inputs)
