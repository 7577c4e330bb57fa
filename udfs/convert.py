"""Between what Excel hands a worksheet function and what ``funnel/`` works with.

A UDF receives cells, not tables: a range arrives as a 2-D list whose first row is the
header, blanks are None, numbers are floats (a deal id typed as 1001 arrives as 1001.0),
dates are datetimes or Excel serial numbers (Office.js does not know a cell's format),
error cells are None or their text ("#N/A"), and a whole-column reference such as
``Opportunities!A:AH`` brings every blank row under the data. This module turns that into
the contract's raw tables (snake_case columns, index = row number counting the first
data row as 2) and single arguments into plain values; funnel's own validation does the
rest and reports through its IssueLog. On the way back, ``spill_frame`` makes a frame
every xlwings engine writes the same way: blanks as None, plain Python numbers.

Nothing here raises anything but :class:`CellError`, whose text is what the cell shows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from funnel.inputs import parsing
from funnel.inputs.issues import IssueLog
from workbook.layout import INPUTS, LANGUAGES, OUTPUTS
from workbook.mapping import to_canonical

__all__ = [
    "CellError",
    "FIRST_DATA_ROW",
    "table_frame",
    "output_frame",
    "table_language",
    "one_cell",
    "text_arg",
    "number_arg",
    "date_arg",
    "spill_frame",
]

# Row number of the first data row: the header row of a table passed to a UDF is row 1.
FIRST_DATA_ROW = 2


class CellError(ValueError):
    """An argument a worksheet function cannot use; ``str(err)`` is what the cell shows."""


def table_frame(values: object, table_name: str, log: IssueLog) -> pd.DataFrame | None:
    """An input table as Excel passes it to a UDF, as the contract's raw table.

    The first row is the header; headers are matched to contract columns in English,
    Chinese or snake_case (``workbook.layout.header_lookup``), anything else is kept for
    validation to report. Blank rows at the bottom and blank unnamed columns on the right
    (whole-column references) are dropped.

    Args:
        values: The range's values: a 2-D list (one list per row), a single row, a single
            cell or None (an optional argument left out).
        table_name: The input table it should be, e.g. ``"tblOpportunities"``.
        log: Where a header that repeats another goes.

    Returns:
        The data rows with contract column names, indexed by row number (the first data
        row is 2); None when the argument was left out or is entirely blank.

    Raises:
        CellError: ``table_name`` is not an input table (a programming slip, named plainly).
    """
    if table_name not in INPUTS:
        raise CellError(f"{table_name} is not an input table")
    rows = _rows(values)
    if rows is None:
        return None
    header, body = rows[0], rows[1:]
    width = _used_width(header, body)
    if width == 0:
        return None
    header = [_header_text(cell) for cell in header[:width]]
    body = [list(row[:width]) + [None] * (width - len(row)) for row in body[: _used_height(body)]]
    index = pd.RangeIndex(FIRST_DATA_ROW, FIRST_DATA_ROW + len(body))
    # Built as XlwingsBook.read_table builds a sheet table, so the refresh and the UDFs
    # hand validation the same column types.
    frame = pd.DataFrame(body, columns=header, index=index)
    return to_canonical(table_name, frame, log)


def output_frame(values: object, table_name: str) -> pd.DataFrame:
    """A refreshed output table as Excel passes it to a UDF (header row first), by its keys.

    Headers are matched to the table's columns in English, Chinese or snake_case; others are
    dropped. Blank rows are dropped.

    Raises:
        CellError: the range is blank, or its first row holds none of the table's headers.
    """
    rows = _rows(values)
    layout = OUTPUTS.get(table_name)
    if rows is None or layout is None:
        raise CellError(f"{table_name}: the range is blank; select the table with its header row, e.g. {table_name}[#All]")
    lookup = {_key(col.key): col.key for col in layout.columns}
    lookup.update({_key(text): col.key for col in layout.columns for text in (col.en, col.zh)})  # a header wins
    keys = [lookup.get(_key(_header_text(cell))) for cell in rows[0]]
    if not any(keys):
        raise CellError(f"{table_name}: no known header in the first row; pass the table with its header row, "
                        f"e.g. {table_name}[#All]")
    body = [row for row in rows[1:] if not all(_blank(cell) for cell in row)]
    frame = pd.DataFrame([[row[i] if i < len(row) else None for i, key in enumerate(keys) if key] for row in body],
                         columns=[key for key in keys if key])
    return frame


def table_language(values: object, table_name: str) -> str:
    """The language a table's headers are written in: ``"zh-CN"`` or ``"en"``.

    Counts header cells that are a Chinese header of ``table_name`` against those that
    are an English one; a tie (or no header at all) is English.

    Args:
        values: The range's values, header row first (as for :func:`table_frame`).
        table_name: The input table it should be.

    Returns:
        One of ``workbook.layout.LANGUAGES``.
    """
    rows = _rows(values)
    if rows is None or table_name not in INPUTS:
        return LANGUAGES[0]
    layout = INPUTS[table_name]
    english = {_key(col.en) for col in layout.columns}
    chinese = {_key(col.zh) for col in layout.columns}
    cells = [_key(_header_text(cell)) for cell in rows[0]]
    zh = sum(cell in chinese for cell in cells)
    en = sum(cell in english for cell in cells)
    return "zh-CN" if zh > en else "en"


def one_cell(value: object, name: str) -> object:
    """The single value of an argument meant to be one cell.

    Args:
        value: What Excel passed: a value, or a 1x1 range as ``[[value]]`` or ``[value]``.
        name: The argument's name, for the message.

    Returns:
        The cell's value (None for a blank cell).

    Raises:
        CellError: A range of more than one cell.
    """
    while isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise CellError(f"{name}: give one cell, not a range")
        value = value[0]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def text_arg(value: object, name: str) -> str | None:
    """A text argument (an owner, a method, a column name), stripped.

    Whole numbers come back without ``.0`` (Excel passes the number 7 as 7.0).

    Returns:
        The text, or None for a blank cell.

    Raises:
        CellError: A range of more than one cell, or an Excel error value.
    """
    value = one_cell(value, name)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = parsing.fold(str(value))
    _refuse_error(text, name)
    return text or None


def number_arg(value: object, name: str) -> float | None:
    """A number argument (a prior strength); text such as ``"10"`` is read too.

    Returns:
        The number, or None for a blank cell.

    Raises:
        CellError: Not a number, or an Excel error value.
    """
    value = one_cell(value, name)
    if isinstance(value, str):
        _refuse_error(value, name)
    try:
        return parsing.parse_amount(value)
    except parsing.ParseError:
        raise CellError(f"{name}: '{value}' is not a number") from None


def date_arg(value: object, name: str) -> dt.date | None:
    """A date argument: a datetime, an Excel serial number or text such as ``2026-03-31``.

    Returns:
        The date, or None for a blank cell.

    Raises:
        CellError: Not a date, or an Excel error value.
    """
    value = one_cell(value, name)
    try:
        return parsing.parse_date(value)
    except parsing.ParseError as err:
        raise CellError(f"{name}: {err}") from None


def spill_frame(frame: pd.DataFrame, headers: Sequence[str]) -> pd.DataFrame:
    """A result table as the cells it should spill into, under ``headers``.

    Every engine writes None as an empty cell, while NaN would become #NUM! in Office.js;
    numpy numbers become plain int/float and timestamps datetimes.

    Args:
        frame: The result, one column per header, in order.
        headers: The header row to show.

    Returns:
        An object-typed frame with a fresh 0-based index and ``headers`` as columns.

    Raises:
        CellError: The number of headers does not match the number of columns.
    """
    if len(headers) != frame.shape[1]:
        raise CellError(f"{len(headers)} headers for {frame.shape[1]} result columns")
    rows = [[_cell(value) for value in row] for row in frame.itertuples(index=False, name=None)]
    return pd.DataFrame(rows, columns=list(headers), dtype=object) if rows else pd.DataFrame(
        columns=list(headers), dtype=object
    )


# The range as a list of row lists; None when nothing was passed or every cell is blank.
def _rows(values: object) -> list[list] | None:
    if values is None:
        return None
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if not isinstance(values, (list, tuple)):
        values = [[values]]
    elif values and not isinstance(values[0], (list, tuple)):
        values = [list(values)]
    rows = [list(row) for row in values]
    if not rows or all(_blank(cell) for row in rows for cell in row):
        return None
    return rows


# Columns up to the last one that has a header or any value.
def _used_width(header: list, body: list[list]) -> int:
    width = max([len(header), *(len(row) for row in body)])
    while width > 0:
        column = width - 1
        named = column < len(header) and not _blank(header[column])
        if named or any(column < len(row) and not _blank(row[column]) for row in body):
            break
        width -= 1
    return width


# Rows up to the last one with any value: what is under it is the rest of the column.
def _used_height(body: list[list]) -> int:
    height = len(body)
    while height and all(_blank(cell) for cell in body[height - 1]):
        height -= 1
    return height


def _blank(cell: object) -> bool:
    if cell is None:
        return True
    if isinstance(cell, float):
        return math.isnan(cell)
    return isinstance(cell, str) and not cell.strip()


def _header_text(cell: object) -> str:
    if _blank(cell):
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))  # a year typed as a header, 2026.0
    return str(cell).strip()


def _key(text: str) -> str:
    return parsing.fold(text).lower()


def _refuse_error(text: str, name: str) -> None:
    if text.strip().upper() in parsing.EXCEL_ERRORS:
        raise CellError(f"{name} is the Excel error {text.strip().upper()}")


# One result cell: None for blanks, plain Python numbers, datetimes for timestamps.
def _cell(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value

