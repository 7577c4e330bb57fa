"""The JSON payload xlwings' VBA client would send for a workbook, built from a file.

``RunRemotePython``/``RunServerPython`` in xlwings' ``addin/Remote.bas`` posts this body to
the server, which turns it into a book with ``xw.Book(json=payload)``. Building it from a
real .xlsx (read with openpyxl) lets tests drive xlwings' remote engine without Excel.

What each part mirrors in Remote.bas (keys in the order VBA adds them)::

    client    "VBA"
    version   xlwings.__version__ (the engine refuses a VBA client of another version)
    book      name, active_sheet_index (0-based), selection (A1 without $, or None)
    names     range names only: name ("Sheet!x" when sheet-scoped), sheet_index, address
              (A1 without $), book_scope, scope_sheet_name, scope_sheet_index
    sheets    per worksheet: name, pictures, tables, values
      tables  per ListObject, in sheet order: name, range_address, header_row_range_address,
              data_body_range_address, total_row_range_address (absolute A1 or None),
              show_headers, show_totals, table_style, show_autofilter
      values  A1 to the bottom-right of the used range; [[]] for an empty sheet

Cell values are encoded as VBA's JSON converter (WebHelpers.ConvertToJson) does: empty
cells null, whole numbers as JSON integers (VBA prints 3# as "3"), dates and times as
"yyyy-mm-ddTHH:mm:ss.000Z" with no time-zone shift, cell errors as "#N/A" etc.

Not reproduced: ``pictures`` is always empty (openpyxl does not keep a picture's shape
name, which is all the payload identifies it by) and hidden built-in names such as
``_xlnm._FilterDatabase`` are left out.
"""

from __future__ import annotations

import datetime as dt
import json
from os import PathLike
from pathlib import Path

import openpyxl
import xlwings
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["book_json_from_file"]

# Day zero of Excel's 1900 date system: VBA dates a time-only cell on this day.
_EXCEL_DAY_ZERO = dt.datetime(1899, 12, 30)

# Whole numbers VBA's CStr still prints without an exponent (it switches to 1E+15 style).
_LARGEST_PLAIN_INTEGER = 10**15


def book_json_from_file(path: str | PathLike[str]) -> dict:
    """The payload xlwings' VBA client would post for the workbook at ``path``.

    Args:
        path: An .xlsx/.xlsm file. Formulas contribute their cached values, as
            ``Range.Value`` does in Excel.

    Returns:
        The request body, decoded from JSON (so only JSON types), ready for
        ``xw.Book(json=...)``.
    """
    path = Path(path)
    workbook = openpyxl.load_workbook(path, data_only=True)
    worksheets = workbook.worksheets
    active = workbook.active if workbook.active in worksheets else worksheets[0]
    payload = {
        "client": "VBA",
        "version": xlwings.__version__,
        "book": {
            "name": path.name,
            "active_sheet_index": worksheets.index(active),
            "selection": _selection(active),
        },
        "names": _names(workbook),
        "sheets": [
            {
                "name": sheet.title,
                "pictures": [],
                "tables": [_table(table) for table in sheet.tables.values()],
                "values": _values(sheet),
            }
            for sheet in worksheets
        ],
    }
    # A round trip through JSON leaves exactly what the server receives.
    return json.loads(json.dumps(payload))


# Selection.Address(False, False): relative A1, areas joined by commas.
def _selection(sheet: Worksheet) -> str | None:
    selections = sheet.sheet_view.selection
    sqref = selections[0].sqref if selections and selections[0].sqref else "A1"
    return str(sqref).replace(" ", ",")


# wb.Names as Remote.bas lists them: only names whose RefersToRange is one range.
def _names(workbook: Workbook) -> list[dict]:
    entries = []
    scopes = [(None, workbook.defined_names)] + [
        (index, sheet.defined_names) for index, sheet in enumerate(workbook.worksheets)
    ]
    for scope_index, defined_names in scopes:
        for name, definition in defined_names.items():
            target = _single_range(workbook, definition)
            if target is None or definition.hidden:
                continue
            sheet_index, address = target
            scope_sheet = None if scope_index is None else workbook.worksheets[scope_index]
            entries.append(
                {
                    "name": f"{_quoted(scope_sheet.title)}!{name}" if scope_sheet else name,
                    "sheet_index": sheet_index,
                    "address": address,
                    "book_scope": scope_sheet is None,
                    "scope_sheet_name": scope_sheet.title if scope_sheet else None,
                    "scope_sheet_index": scope_index,
                }
            )
    # Excel's Names collection is sorted by name.
    return sorted(entries, key=lambda entry: entry["name"].casefold())


# (sheet index, relative address) of a name that refers to one range, else None.
def _single_range(workbook: Workbook, definition) -> tuple[int, str] | None:
    try:
        destinations = list(definition.destinations)
    except Exception:  # constants, formulas: no RefersToRange in VBA either
        return None
    titles = [sheet.title for sheet in workbook.worksheets]
    if len(destinations) != 1 or destinations[0][0] not in titles:
        return None
    title, address = destinations[0]
    return titles.index(title), address.replace("$", "")


# A sheet name as Excel writes it in front of "!": quoted when it needs quoting.
def _quoted(title: str) -> str:
    plain = title.replace("_", "").isalnum()
    return title if plain else "'" + title.replace("'", "''") + "'"


# One ListObject's dictionary, addresses absolute as ListObject.Range.Address gives them.
def _table(table) -> dict:
    min_col, min_row, max_col, max_row = range_boundaries(table.ref)
    header_rows = 0 if table.headerRowCount == 0 else 1
    totals_rows = 1 if table.totalsRowCount else 0
    body_first, body_last = min_row + header_rows, max_row - totals_rows
    return {
        "name": table.displayName,
        "range_address": _absolute(min_col, min_row, max_col, max_row),
        "header_row_range_address": (
            _absolute(min_col, min_row, max_col, min_row) if header_rows else None
        ),
        "data_body_range_address": (
            _absolute(min_col, body_first, max_col, body_last)
            if body_last >= body_first
            else None
        ),
        "total_row_range_address": (
            _absolute(min_col, max_row, max_col, max_row) if totals_rows else None
        ),
        "show_headers": bool(header_rows),
        "show_totals": bool(totals_rows),
        "table_style": table.tableStyleInfo.name if table.tableStyleInfo else "",
        "show_autofilter": table.autoFilter is not None,
    }


# Range.Address: "$A$1" for one cell, "$A$1:$C$4" otherwise.
def _absolute(min_col: int, min_row: int, max_col: int, max_row: int) -> str:
    first = f"${get_column_letter(min_col)}${min_row}"
    if (min_col, min_row) == (max_col, max_row):
        return first
    return f"{first}:${get_column_letter(max_col)}${max_row}"


# Range("A1", last used cell).Value, or [[]] when UsedRange is a single empty cell.
def _values(sheet: Worksheet) -> list[list]:
    if sheet.max_row == 1 and sheet.max_column == 1 and sheet["A1"].value is None:
        return [[]]
    return [
        [_json_cell(value) for value in row]
        for row in sheet.iter_rows(
            min_row=1, max_row=sheet.max_row, max_col=sheet.max_column, values_only=True
        )
    ]


# One cell as VBA's ConvertToJson writes it.
def _json_cell(value: object) -> object:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        if float(value).is_integer() and abs(value) < _LARGEST_PLAIN_INTEGER:
            return int(value)
        return float(value)
    if isinstance(value, dt.datetime):
        return _iso(value)
    if isinstance(value, dt.date):
        return _iso(dt.datetime.combine(value, dt.time()))
    if isinstance(value, dt.time):
        return _iso(dt.datetime.combine(_EXCEL_DAY_ZERO.date(), value))
    if isinstance(value, dt.timedelta):
        return _iso(_EXCEL_DAY_ZERO + value)
    return str(value)


# ConvertToIso: Format$(d, "yyyy-mm-ddTHH:mm:ss.000Z"), whole seconds, no zone shift.
def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
