"""Cell values as worksheet XML: what each Python value becomes in a ``<c>`` element.

Numbers as numbers; ``str`` as inline strings (text starting with ``=``, ``+``, ``-``,
``@`` stays text, never a formula, and sharedStrings.xml is never touched); ``bool`` as
booleans; dates, datetimes and timestamps as Excel serial numbers (``date1904``
honoured); timedeltas as days; ``None``/NaN/NaT as no cell; infinities as ``#NUM!``.
A column is rendered at once where it can be (numbers, texts), value by value otherwise.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
import re
from xml.sax.saxutils import escape as _xml_escape

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from workbook.errors import UnsafeToUpdate
from workbook.package.table_part import TableInfo

__all__ = ["MAX_TEXT_LENGTH", "cell_body", "text_xml", "render_column"]

MAX_TEXT_LENGTH = 32_767  # Excel's limit for one cell's text


_EPOCH_1900 = _dt.datetime(1899, 12, 30)
_EPOCH_1904 = _dt.datetime(1904, 1, 1)
_ILLEGAL_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_LITERAL_ESCAPE_RE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
# Text with none of: XML specials, "_" (of a literal _xHHHH_), control or non-characters.
_PLAIN_TEXT_RE = re.compile("[^&<>_\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]*")


def _excel_serial(value: _dt.datetime, date1904: bool) -> float:
    # Days since the workbook's epoch, with Excel's fictitious 1900-02-29 in the 1900 system.
    if value.tzinfo is not None:
        value = value.replace(tzinfo=None)  # wall-clock time, as the user sees it
    delta = value - (_EPOCH_1904 if date1904 else _EPOCH_1900)
    serial = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400.0
    if not date1904 and serial < 61:
        serial -= 1
    if serial < (0 if date1904 else 1):
        raise ValueError(f"{value:%Y-%m-%d} is before the workbook's first date")
    return serial


def _number_text(x: float) -> bytes:
    if x == int(x) and abs(x) < 1e15:
        return str(int(x)).encode()
    return repr(float(x)).encode()


def text_xml(text: str) -> bytes:
    # Inline-string body: OOXML escapes control characters as _xHHHH_ (and a literal
    # "_xHHHH_" as "_x005F_xHHHH_"), then XML escaping.
    if len(text) > MAX_TEXT_LENGTH:
        raise ValueError(f"text of {len(text):,} characters (Excel's limit is {MAX_TEXT_LENGTH:,})")
    if _PLAIN_TEXT_RE.fullmatch(text):  # most text needs no escaping at all
        return text.encode("utf-8")
    text = _LITERAL_ESCAPE_RE.sub(r"_x005F_\1", text)
    text = _ILLEGAL_XML_RE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    return _xml_escape(text).encode("utf-8")


def cell_body(value: object, date1904: bool) -> tuple[bytes, bytes] | None:
    # (type attribute, inner XML) for one value, or None for no cell.
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return b' t="b"', b"<v>1</v>" if value else b"<v>0</v>"
    if isinstance(value, (int, np.integer)):
        return b"", b"<v>" + str(int(value)).encode() + b"</v>"
    if isinstance(value, (float, np.floating, decimal.Decimal)):
        x = float(value)
        if math.isnan(x):
            return None
        if math.isinf(x):
            return b' t="e"', b"<v>#NUM!</v>"
        return b"", b"<v>" + _number_text(x) + b"</v>"
    if isinstance(value, str):
        return b' t="inlineStr"', b'<is><t xml:space="preserve">' + text_xml(value) + b"</t></is>"
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return None
        value = pd.Timestamp(value)
    if isinstance(value, (np.timedelta64, pd.Timedelta, _dt.timedelta)):
        td = pd.Timedelta(value)
        if pd.isna(td):
            return None
        return b"", b"<v>" + _number_text(td.total_seconds() / 86400.0) + b"</v>"
    if isinstance(value, _dt.datetime):
        return b"", b"<v>" + _number_text(_excel_serial(value, date1904)) + b"</v>"
    if isinstance(value, _dt.date):
        return b"", b"<v>" + _number_text(_excel_serial(_dt.datetime(value.year, value.month, value.day), date1904)) + b"</v>"
    if isinstance(value, _dt.time):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        return b"", b"<v>" + _number_text(seconds / 86400.0) + b"</v>"
    raise ValueError(f"cannot store a {type(value).__name__} in a cell")


def render_column(column: pd.Series, s_attr: bytes, info: TableInfo, j: int, date1904: bool) -> list[bytes | None]:
    """Column ``j`` of a table's new rows as cell XML after the ``r=`` reference (None: no cell).

    Args:
        column: the values, one per row.
        s_attr: the cells' style attribute (``b' s="3"'``, or empty).
        info: the table, for messages.
        j: the column's position in the table, for messages.
        date1904: the workbook's date system.

    Raises:
        UnsafeToUpdate: a value cannot be stored in a cell (the message names its row).
    """
    fast = _render_numbers(column, s_attr)
    if fast is None:
        fast = _render_texts(column, s_attr, info, j)
    if fast is not None:
        return fast
    # Columns repeat their values (owners, stages, flags): render each distinct value once.
    memo: dict[tuple[type, object], bytes | None] = {}
    rendered: list[bytes | None] = []
    for i, value in enumerate(column.tolist()):
        # Equal values render alike, except times in different zones (wall clock is kept).
        key = (value.__class__, value) if getattr(value, "tzinfo", None) is None else None
        try:
            rendered.append(memo[key])
            continue
        except KeyError:
            pass
        except TypeError:  # unhashable: rendered below, and refused there
            key = None
        try:
            body = cell_body(value, date1904)
        except ValueError as exc:
            raise UnsafeToUpdate(
                f"table {info.name!r}, column {info.columns[j]!r}, row {i + 1}: {exc}"
            ) from None
        cell = None if body is None else s_attr + body[0] + b">" + body[1] + b"</c>"
        if key is not None:
            memo[key] = cell
        rendered.append(cell)
    return rendered


def _render_numbers(column: pd.Series, s_attr: bytes) -> list[bytes | None] | None:
    # A whole column of plain numbers rendered without the per-value type dispatch of
    # cell_body (same bytes); None for any other column, which takes the general path.
    kind = column.dtype.kind
    if kind in "iu":  # nullable integer columns hold pd.NA where blank
        return [None if x is pd.NA or x is None else s_attr + b"><v>" + str(x).encode() + b"</v></c>" for x in column.tolist()]
    if kind != "f":
        return None
    values = column.to_numpy(dtype=float)
    if np.isinf(values).any():
        return None
    # _number_text a column at a time: whole numbers as integers, others as repr().
    out = np.full(len(values), None, dtype=object)
    whole = (values == np.floor(values)) & (np.abs(values) < 1e15)  # False where NaN
    fraction = ~whole & ~np.isnan(values)
    out[whole] = values[whole].astype(np.int64).astype("S20").astype(object)
    out[fraction] = [repr(x).encode() for x in values[fraction].tolist()]
    written = whole | fraction
    out[written] = s_attr + b"><v>" + out[written] + b"</v></c>"
    return out.tolist()


def _render_texts(column: pd.Series, s_attr: bytes, info: TableInfo, j: int) -> list[bytes | None] | None:
    # A column of text (and blanks): each distinct text rendered once, then spread over
    # the rows in one gather. None for any other column, which takes the general path.
    if not (column.dtype == object or pd.api.types.is_string_dtype(column)):
        return None
    values = column.to_numpy(dtype=object)
    if infer_dtype(values, skipna=True) not in ("string", "empty"):
        return None
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    rendered = []
    for k, text in enumerate(uniques.tolist()):
        try:
            rendered.append(s_attr + b' t="inlineStr"><is><t xml:space="preserve">' + text_xml(text) + b"</t></is></c>")
        except ValueError as exc:
            row = int(np.flatnonzero(codes == k)[0])
            raise UnsafeToUpdate(f"table {info.name!r}, column {info.columns[j]!r}, row {row + 1}: {exc}") from None
    return np.array(rendered + [None], dtype=object)[codes].tolist()  # code -1 (blank) -> None
