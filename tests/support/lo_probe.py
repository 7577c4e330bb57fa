"""Open a workbook in a private headless LibreOffice and report what it sees, as JSON.

Run with the system Python that has LibreOffice's UNO bridge (not the project's venv):

    /usr/bin/python3 tests/support/lo_probe.py request.json      # or - for stdin

The request names the workbook and what to do, all in one soffice session (starting
soffice is the slow part):

    {"workbook": "/abs/book.xlsm",
     "timeout": 180,                         # seconds for the whole session
     "tables": ["tblSummary", ...],          # Excel Tables (Calc database ranges) to dump
     "ranges": {"key": "Sheet!A1:B5"},       # plain sheet ranges to dump
     "modules": true,                        # the Basic/VBA modules Calc imported
     "charts": true,                         # charts of every sheet, series by series
     "controls": true,                       # form controls (buttons) and their macros
     "pdf": "/abs/book.pdf",                 # the whole workbook as PDF
     "sheet_images": [{"sheet": "Summary", "png": "/abs/summary.png",   # optional
                       "text": true,         # optional: the text as printed (pdftotext)
                       "columns": "A:M",     # optional: only these columns
                       "dpi": 80}]}          # a sheet on one PDF page, then PNG and/or text

It loads the workbook hidden and read-only (Calc's VBA import switched on, macros allowed
but none run), recalculates it (``calculateAll``) and prints one JSON object:

    {"loaded": true, "load_s": 1.2, "recalc_s": 0.1,
     "sheets": ["Summary", ...], "null_date": "1899-12-30",
     "tables": {"tblSummary": {"sheet": "Summary", "address": [sheet, c0, r0, c1, r1],
                               "header": [...], "rows": [[cell, ...], ...]}},
     "ranges": {"key": {... same shape, "header" is the first row ...}},
     "modules": {"library": "VBAProject", "modules": {"Module": {"type": 1, "code": "..."}}},
     "charts": {"Stages": [{"name": "Object 2", "title": "...",
                            "ranges": [[sheet, c0, r0, c1, r1], ...],   # XTableChart.getRanges
                            "categories": {"role": "categories", "range": "$Stages.$B$5:$B$9",
                                           "address": [sheet, c0, r0, c1, r1]},
                            "series": [{"chart_type": "...", "label": "Open deals",
                                        "sequences": [{"role": "values-y", ...}]}]}]},
     "controls": {"Summary": [{"kind": "com.sun.star.form.OButtonModel", "label": "Refresh",
                               "events": [{"listener": "XActionListener", "method": "actionPerformed",
                                           "type": "Script", "code": "vnd.sun.star.script:..."}]}]},
     "pdf": {"path": "...", "pages": 12, "bytes": 34567},
     "sheet_images": [{"sheet": "Summary", "range": [sheet, c0, r0, c1, r1], "pdf_pages": 1,
                       "png": "...", "text": "Funnel summary ..."}]}

A cell is ``null`` (empty), a number, a string, or ``{"error": "#NUM!"}``; a number whose
cell shows a date or time format comes as ``{"date": serial, "shown": "2026-11-20"}``, so
the caller sees both the value and that Calc displays it as a date. Addresses are 0-based
(sheet index, first column, first row, last column, last row), inclusive.

Exit status: 0 done; 1 a request LibreOffice refused (message on stderr); 2 soffice never
answered; 3 the timeout passed (soffice killed).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uno
from com.sun.star.table.CellContentType import EMPTY, FORMULA, TEXT
from lo_session import (
    ALWAYS_EXECUTE_NO_WARN,
    OfficeDidNotStart,
    OfficeSession,
    enable_vba_import,
    prop,
)

VBA_LIBRARY = "VBAProject"
DATE_FORMAT = 2  # com.sun.star.util.NumberFormat.DATE (DATETIME = DATE | TIME)
TIME_FORMAT = 4  # com.sun.star.util.NumberFormat.TIME
TEXT_RESULT = 2  # com.sun.star.sheet.FormulaResult.STRING
PAGE_MARGIN = 500  # 5 mm, in Calc's 1/100 mm, around a sheet image


class ProbeError(RuntimeError):
    """LibreOffice refused something the request asked for."""


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) == 2 else 1
    text = sys.stdin.read() if argv[1] == "-" else Path(argv[1]).read_text(encoding="utf-8")
    request = json.loads(text)
    try:
        with OfficeSession(float(request.get("timeout", 180))) as context:
            result = probe(context, request)
    except OfficeDidNotStart as err:
        print(err, file=sys.stderr)
        return 2
    except ProbeError as err:
        print(err, file=sys.stderr)
        return 1
    json.dump(result, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def probe(context, request: dict) -> dict:
    """Do everything ``request`` asks on one loaded workbook; see the module docstring."""
    workbook = Path(request["workbook"]).resolve()
    if not workbook.is_file():
        raise ProbeError(f"no such workbook: {workbook}")
    enable_vba_import(context)
    desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
    started = time.monotonic()
    doc = desktop.loadComponentFromURL(
        workbook.as_uri(),
        "_blank",
        0,
        (prop("Hidden", True), prop("ReadOnly", True), prop("MacroExecutionMode", ALWAYS_EXECUTE_NO_WARN)),
    )
    if doc is None:
        raise ProbeError(f"LibreOffice could not open {workbook}")
    try:
        result = {"loaded": True, "load_s": round(time.monotonic() - started, 3)}
        started = time.monotonic()
        doc.calculateAll()
        result["recalc_s"] = round(time.monotonic() - started, 3)
        sheets = doc.Sheets
        result["sheets"] = [sheets.getByIndex(i).Name for i in range(sheets.Count)]
        null = doc.NullDate
        result["null_date"] = f"{null.Year:04d}-{null.Month:02d}-{null.Day:02d}"
        reader = _CellReader(doc)
        if request.get("tables"):
            result["tables"] = {name: _dump_table(doc, reader, name) for name in request["tables"]}
        if request.get("ranges"):
            result["ranges"] = {key: _dump_range(doc, reader, spec) for key, spec in request["ranges"].items()}
        if request.get("modules"):
            result["modules"] = _modules(doc)
        if request.get("charts"):
            result["charts"] = {name: _charts(doc, sheets.getByName(name)) for name in result["sheets"]}
        if request.get("controls"):
            result["controls"] = {name: _controls(sheets.getByName(name)) for name in result["sheets"]}
        if request.get("pdf"):
            result["pdf"] = _export_pdf(doc, Path(request["pdf"]))
        if request.get("sheet_images"):
            result["sheet_images"] = [_sheet_image(doc, spec) for spec in request["sheet_images"]]
        return result
    finally:
        doc.close(True)


# ---- cells ----------------------------------------------------------------------------------
class _CellReader:
    """Cell values as JSON, with the number-format lookups cached per format key."""

    def __init__(self, doc) -> None:
        self._formats = doc.NumberFormats
        self._is_date: dict[int, bool] = {}

    def _date_format(self, key: int) -> bool:
        # A date, time or date-time format: Calc then shows the serial number as a date.
        if key not in self._is_date:
            kind = self._formats.getByKey(key).Type
            self._is_date[key] = bool(kind & (DATE_FORMAT | TIME_FORMAT))
        return self._is_date[key]

    def value(self, cell):
        kind = cell.Type
        if kind == EMPTY:
            return None
        if kind == FORMULA and cell.getError():
            return {"error": cell.getString()}
        if kind == TEXT or (kind == FORMULA and cell.FormulaResultType2 == TEXT_RESULT):
            return cell.getString()
        number = cell.getValue()
        if self._date_format(cell.NumberFormat):
            return {"date": number, "shown": cell.getString()}
        return number

    def rows(self, cell_range) -> list[list]:
        address = cell_range.RangeAddress
        width = address.EndColumn - address.StartColumn + 1
        height = address.EndRow - address.StartRow + 1
        return [[self.value(cell_range.getCellByPosition(c, r)) for c in range(width)] for r in range(height)]


def _address(a) -> list[int]:
    return [a.Sheet, a.StartColumn, a.StartRow, a.EndColumn, a.EndRow]


def _dump_block(doc, reader: _CellReader, address) -> dict:
    sheet = doc.Sheets.getByIndex(address.Sheet)
    cells = sheet.getCellRangeByPosition(address.StartColumn, address.StartRow, address.EndColumn, address.EndRow)
    rows = reader.rows(cells)
    return {"sheet": sheet.Name, "address": _address(address), "header": rows[0], "rows": rows[1:]}


def _dump_table(doc, reader: _CellReader, name: str) -> dict:
    # Calc imports each Excel Table as a database range of the same name, header included.
    ranges = doc.DatabaseRanges
    if not ranges.hasByName(name):
        raise ProbeError(f"LibreOffice sees no table (database range) named {name}; it sees {list(ranges.ElementNames)}")
    return _dump_block(doc, reader, ranges.getByName(name).DataArea)


def _dump_range(doc, reader: _CellReader, spec: str) -> dict:
    sheet_name, _, cells = spec.rpartition("!")
    sheet_name = sheet_name.strip("'")
    if not doc.Sheets.hasByName(sheet_name):
        raise ProbeError(f"no sheet named {sheet_name!r} for range {spec}")
    sheet = doc.Sheets.getByName(sheet_name)
    return _dump_block(doc, reader, sheet.getCellRangeByName(cells).RangeAddress)


# ---- VBA, charts, controls ------------------------------------------------------------------
def _modules(doc) -> dict:
    libraries = doc.BasicLibraries
    result = {"library": None, "modules": {}}
    if libraries.hasByName(VBA_LIBRARY):
        libraries.loadLibrary(VBA_LIBRARY)
        library = libraries.getByName(VBA_LIBRARY)
        result["library"] = VBA_LIBRARY
        for name in library.ElementNames:
            result["modules"][name] = {"type": library.getModuleInfo(name).ModuleType, "code": library.getByName(name)}
    return result


def _range_address(doc, representation: str) -> list[int] | None:
    """Calc's range text "$'Win rates'.$B$5:$B$9" as numbers; None if it names no sheet."""
    sheet_part, _, cells = representation.rpartition(".")
    name = sheet_part.lstrip("$")
    if name.startswith("'") and name.endswith("'"):
        name = name[1:-1].replace("''", "'")
    if not doc.Sheets.hasByName(name):
        return None
    return _address(doc.Sheets.getByName(name).getCellRangeByName(cells).RangeAddress)


def _sequence(doc, sequence, role: str | None = None) -> dict:
    representation = sequence.getSourceRangeRepresentation()
    return {"role": role or sequence.Role, "range": representation,
            "address": _range_address(doc, representation) if representation else None}


def _label(labeled) -> str | None:
    # A series name typed in the chart comes as a quoted literal, one from a cell as data.
    title = labeled.getLabel()
    if title is None:
        return None
    data = [str(x) for x in title.getData()]
    return " ".join(data) if data else title.getSourceRangeRepresentation().strip('"')


def _charts(doc, sheet) -> list[dict]:
    charts = sheet.getCharts()
    found = []
    for name in charts.ElementNames:
        chart = charts.getByName(name)
        model = chart.getEmbeddedObject()
        title = model.getTitleObject()
        entry = {"name": name, "title": "".join(t.String for t in title.getText()) if title else None,
                 "ranges": [_address(a) for a in chart.getRanges()], "categories": None, "series": []}
        diagram = model.getFirstDiagram()
        for system in diagram.getCoordinateSystems() if diagram else ():
            categories = system.getAxisByDimension(0, 0).getScaleData().Categories
            if categories is not None and entry["categories"] is None:
                entry["categories"] = _sequence(doc, categories.getValues(), "categories")
            for chart_type in system.getChartTypes():
                for series in chart_type.getDataSeries():
                    labeled = series.getDataSequences()
                    entry["series"].append({
                        "chart_type": chart_type.ChartType,
                        "label": next((x for x in map(_label, labeled) if x is not None), None),
                        "sequences": [_sequence(doc, one.getValues()) for one in labeled],
                    })
        found.append(entry)
    return found


def _controls(sheet) -> list[dict]:
    # Excel form buttons come in as form controls; their macro as a script event on the form.
    page = sheet.DrawPage
    found = []
    for i in range(page.Count):
        shape = page.getByIndex(i)
        if shape.ShapeType != "com.sun.star.drawing.ControlShape":
            continue
        model = shape.Control
        form = model.Parent
        events = []
        for j in range(form.Count):
            if form.getByIndex(j) == model:
                events = [
                    {"listener": e.ListenerType, "method": e.EventMethod, "type": e.ScriptType, "code": e.ScriptCode}
                    for e in form.getScriptEvents(j)
                ]
        found.append({"kind": model.ImplementationName, "name": model.Name,
                      "label": getattr(model, "Label", None), "events": events})
    return found


# ---- PDF and images -------------------------------------------------------------------------
def _pdf_filter(selection=None) -> tuple:
    data = () if selection is None else (prop("Selection", selection),)
    return (prop("FilterName", "calc_pdf_Export"),
            prop("FilterData", uno.Any("[]com.sun.star.beans.PropertyValue", data)))


def _pdf_pages(path: Path) -> int:
    # LibreOffice writes each page object uncompressed: count "/Type /Page" (not /Pages).
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", path.read_bytes()))


def _export_pdf(doc, path: Path) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.storeToURL(path.resolve().as_uri(), _pdf_filter())
    return {"path": str(path), "pages": _pdf_pages(path), "bytes": path.stat().st_size}


def _column_span(sheet, columns: str | None) -> tuple[int, int] | None:
    if not columns:
        return None
    first, _, last = columns.partition(":")
    address = sheet.getCellRangeByName(f"{first}1:{last or first}1").RangeAddress
    return address.StartColumn, address.EndColumn


def _image_range(sheet, columns: str | None):
    """The cells a sheet image shows: the used area (within ``columns``) and its drawings."""
    span = _column_span(sheet, columns)
    cursor = sheet.createCursor()
    cursor.gotoEndOfUsedArea(False)
    last_col, last_row = cursor.RangeAddress.EndColumn, cursor.RangeAddress.EndRow
    first_col = 0
    if span is not None:
        first_col, last_col = span
        # The used area of a narrower block: the last row with content in these columns.
        block = sheet.getCellRangeByPosition(first_col, 0, last_col, last_row)
        used = block.queryContentCells(1 | 2 | 4 | 16).RangeAddresses  # VALUE|DATETIME|STRING|FORMULA
        last_row = max((a.EndRow for a in used), default=0)
    page = sheet.DrawPage
    for i in range(page.Count):
        shape = page.getByIndex(i)
        if shape.ShapeType == "com.sun.star.drawing.ControlShape":
            continue  # the Refresh button sits beside the titles, inside the range anyway
        top_left = shape.Position
        bottom = top_left.Y + shape.Size.Height
        right = top_left.X + shape.Size.Width
        col_left = _column_at(sheet, top_left.X)
        if span is not None and not first_col <= col_left <= last_col:
            continue
        last_row = max(last_row, _row_at(sheet, bottom))
        if span is None:
            last_col = max(last_col, _column_at(sheet, right))
    return sheet.getCellRangeByPosition(first_col, 0, last_col, last_row)


def _row_at(sheet, y: int) -> int:
    # The row holding the vertical position y (1/100 mm); rows are summed from the top.
    rows, top = sheet.Rows, 0
    for r in range(rows.Count):
        top += rows.getByIndex(r).Height
        if top >= y:
            return r
    return rows.Count - 1


def _column_at(sheet, x: int) -> int:
    columns, left = sheet.Columns, 0
    for c in range(columns.Count):
        left += columns.getByIndex(c).Width
        if left >= x:
            return c
    return columns.Count - 1


def _sheet_image(doc, spec: dict) -> dict:
    """One sheet (or its columns) as one PDF page sized to the cells; then a PNG, its text."""
    pdftoppm, pdftotext = shutil.which("pdftoppm"), shutil.which("pdftotext")
    if pdftoppm is None or pdftotext is None:
        raise ProbeError("pdftoppm/pdftotext are missing (apt-get install poppler-utils)")
    if not doc.Sheets.hasByName(spec["sheet"]):
        raise ProbeError(f"no sheet named {spec['sheet']!r}")
    sheet = doc.Sheets.getByName(spec["sheet"])
    cells = _image_range(sheet, spec.get("columns"))
    # The sheet's page style sized to the cells, so the image has no blank page around it.
    style = doc.StyleFamilies.getByName("PageStyles").getByName(sheet.PageStyle)
    size = cells.Size
    style.HeaderIsOn = False
    style.FooterIsOn = False
    style.PageScale = 100
    for side in ("LeftMargin", "RightMargin", "TopMargin", "BottomMargin"):
        setattr(style, side, PAGE_MARGIN)
    style.IsLandscape = False
    style.Width = size.Width + 2 * PAGE_MARGIN + 100  # 1 mm slack: rounding must not spill a column
    style.Height = size.Height + 2 * PAGE_MARGIN + 100
    result = {"sheet": spec["sheet"], "range": _address(cells.RangeAddress)}
    with tempfile.TemporaryDirectory(prefix="lo_probe_") as tmp:
        pdf = Path(tmp) / "sheet.pdf"
        doc.storeToURL(pdf.as_uri(), _pdf_filter(cells))
        result["pdf_pages"] = _pdf_pages(pdf)
        if spec.get("text"):
            # The cells as printed: number formats, conditional formats and all applied.
            shown = subprocess.run([pdftotext, "-layout", str(pdf), "-"], check=True, timeout=60,
                                   capture_output=True)
            result["text"] = shown.stdout.decode("utf-8")
        if spec.get("png"):
            png = Path(spec["png"])
            png.parent.mkdir(parents=True, exist_ok=True)
            stem = Path(tmp) / "sheet"
            subprocess.run([pdftoppm, "-png", "-r", str(spec.get("dpi", 80)), "-singlefile", str(pdf), str(stem)],
                           check=True, timeout=60)
            shutil.move(str(stem.with_suffix(".png")), png)
            result["png"] = str(png)
    return result


if __name__ == "__main__":
    sys.exit(main(sys.argv))
