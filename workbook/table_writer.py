"""Rewriting output Excel Tables in a workbook file, touching nothing the refresh does not own.

This module owns the headless write of a refresh. For each output table it replaces the
data rows, and it changes only what must follow them:

* the worksheet's ``<sheetData>`` cells inside the table's columns, and ``<dimension>``;
* the table part's ``ref``, ``autoFilter``/``sortState`` refs;
* ``<c:f>`` series ranges (and their caches) in charts drawn on the rewritten sheets;
* ``calcChain.xml`` entries for cells that were cleared (the part, its content-type
  override and its relationship are removed if no entry is left);
* ``fullCalcOnLoad="1"`` in workbook.xml's ``<calcPr>``, only when some formula may depend
  on a rewritten table and the flag is not already set.

Every other zip entry is copied raw: local header, compressed bytes and data descriptor
byte for byte, central-directory record byte for byte except its offset, in the source
order. The file is written to a temporary file in the destination's folder, fsynced and
``os.replace``d, under an exclusive ``~$<name>.funnel-lock`` lock file.
"""

from __future__ import annotations

import bisect
import datetime as _dt
import decimal
import math
import os
import re
import stat
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import BinaryIO, Callable, Mapping
from xml.sax.saxutils import escape as _xml_escape
from xml.sax.saxutils import unescape as _xml_unescape

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

from funnel.analysis import Executor
from workbook.errors import UnsafeToUpdate, WorkbookBusy, WorkbookError
from workbook.xlsx_package import (
    EXCEL_MAX_ROWS,
    MAX_SHEET_PART_BYTES,
    PackageAssembler,
    TableInfo,
    XlsxPackage,
    check_sheet_cells,
    column_index,
    column_letters,
    deflate,
    format_range,
    open_package,
    parse_range,
    rels_part_of,
)

try:  # POSIX: the lock's liveness is the kernel's flock, released when its holder dies
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["write_tables", "lock_path", "WorkbookLock"]

MAX_TEXT_LENGTH = 32_767  # Excel's limit for one cell's text


# ---- public entry point ----------------------------------------------------------------------
def write_tables(
    src_path: str | os.PathLike[str],
    dst_path: str | os.PathLike[str],
    frames: Mapping[str, pd.DataFrame],
    executor: Executor | None = None,
) -> None:
    """Replace the data rows of output Excel Tables and save the workbook atomically.

    Each table grows or shrinks to ``len(frame)`` rows (Excel keeps at least one data
    row, so an empty frame leaves one blank row), keeping its header row, column styles
    and everything outside its column span. Values: numbers as numbers; ``str`` as inline
    strings (text starting with ``=``, ``+``, ``-``, ``@`` stays text, never a formula, and
    sharedStrings.xml is not touched); ``bool`` as booleans; dates, datetimes and
    timestamps as Excel serial numbers (workbookPr ``date1904`` honoured); timedeltas as
    days; ``None``/NaN/NaT as no cell; infinities as ``#NUM!``. Each new cell takes the
    style of its column's ``<col style>``, or else of the cell the builder left in the
    table's first data row.

    Args:
        src_path: the workbook to read.
        dst_path: where to save; may equal ``src_path`` (an in-place refresh).
        frames: table name -> frame whose columns are exactly the table's headers, in order.
        executor: renders the sheet with the most cells to write beside the others
            (``submit(fn)`` -> ``result()``; ``udfs.runtime`` forks a child where that is
            safe); None renders every sheet here. The bytes are the same either way.

    Raises:
        TableNotFound: a frame names no table.
        UnsafeToUpdate: headers differ, the table has a totals row or calculated column,
            growing would overwrite cells, merged cells or another table, a value cannot
            be stored, or a part cannot be patched safely.
        WorkbookBusy: another refresh holds the lock on ``dst_path``.
        NotAWorkbook, WorkbookTooLarge: the source is refused.
        WorkbookError: I/O failure (wrapped); the destination is then unchanged.
    """
    src = Path(src_path)
    dst = Path(dst_path)
    with WorkbookLock(dst):
        _remove_stale_temp_files(dst)
        # New parts are deflated in threads (zlib lets go of the GIL): a sheet as soon as it
        # is rewritten, while Python renders the next one.
        with open_package(src) as pkg, ThreadPoolExecutor(2) as deflater:
            plan = _plan(pkg, frames, deflater, executor)
            mode_from = dst if dst.exists() else src
            _atomic_write(dst, lambda out: _assemble(pkg, plan, out), mode_from)


# ---- the plan: every changed part, computed before anything is written ----------------------
@dataclass
class _TableChange:
    info: TableInfo
    frame: pd.DataFrame
    new_last: int  # new last data row
    cells: list[list[bytes | None]] = field(default_factory=list)  # per column, per row
    refs: list[bytes] = field(default_factory=list)  # per column: b'<c r="' + its letters

    @cached_property
    def letters(self) -> frozenset[bytes]:  # the table's column letters
        return frozenset(column_letters(col).encode() for col in range(self.info.first_col, self.info.last_col + 1))

    @property
    def old_last(self) -> int:
        return self.info.body_last_row

    @property
    def cleared_last(self) -> int:
        return max(self.old_last, self.new_last)


@dataclass
class _Plan:
    deflater: ThreadPoolExecutor
    replaced: dict[str, bytes] = field(default_factory=dict)  # part name -> new bytes
    removed: set[str] = field(default_factory=set)
    deflating: dict[str, tuple[bytes, Future[bytes]]] = field(default_factory=dict)  # part -> (bytes, stream)

    def deflated(self, part: str) -> Future[bytes]:
        """The deflate stream of a replaced part's bytes, started now unless it already was."""
        data = self.replaced[part]
        started = self.deflating.get(part)
        if started is None or started[0] is not data:
            started = self.deflating[part] = (data, self.deflater.submit(deflate, data))
        return started[1]


def _plan(pkg: XlsxPackage, frames: Mapping[str, pd.DataFrame], deflater: ThreadPoolExecutor, executor: Executor | None) -> _Plan:
    plan = _Plan(deflater)
    changes: list[_TableChange] = []
    for name, frame in frames.items():
        info = pkg.table(name)
        _check_table(info, frame)
        n = len(frame)
        new_last = info.body_first_row + max(n, 1) - 1
        if new_last > EXCEL_MAX_ROWS:
            raise UnsafeToUpdate(f"table {info.name!r}: {n:,} rows do not fit on a sheet")
        changes.append(_TableChange(info=info, frame=frame, new_last=new_last))
    if not changes:
        return plan
    by_sheet: dict[str, list[_TableChange]] = {}
    for ch in changes:
        by_sheet.setdefault(ch.info.sheet_part, []).append(ch)
    all_tables = pkg.tables()

    def rewrite(sheet_part: str, data: bytes) -> Callable[[], bytes]:
        sheet_changes = by_sheet[sheet_part]
        check_sheet_cells(sheet_part, data)
        others = [t for t in all_tables.values() if t.sheet_part == sheet_part and t.name not in {c.info.name for c in sheet_changes}]
        return lambda: _rewrite_sheet(sheet_part, data, sheet_changes, others, pkg.date1904)

    # With an executor, the sheet with the most cells to write is rendered beside the
    # others (the same bytes, or error, either way). Its XML is read first: a forked child
    # and this process must not share the file's position.
    cells = {part: sum(ch.frame.size for ch in chs) for part, chs in by_sheet.items()}
    biggest = max(cells, key=cells.get)
    beside = None
    if executor is not None and len(cells) > 1:
        beside = executor.submit(rewrite(biggest, pkg.read_part(biggest, limit=MAX_SHEET_PART_BYTES)))
    try:
        for sheet_part in by_sheet:
            if beside is None or sheet_part != biggest:
                plan.replaced[sheet_part] = rewrite(sheet_part, pkg.read_part(sheet_part, limit=MAX_SHEET_PART_BYTES))()
                plan.deflated(sheet_part)
        if beside is not None:
            plan.replaced[biggest] = beside.result()
            plan.deflated(biggest)
    finally:
        if beside is not None:
            beside.cancel()  # a child whose result is no longer wanted (an error here) is stopped
    for ch in changes:
        plan.replaced[ch.info.part] = _rewrite_table_part(ch, pkg.read_part(ch.info.part))
    for sheet_part in by_sheet:
        for chart in pkg.drawing_charts(sheet_part):
            new = _rewrite_chart(pkg.read_part(chart), changes, pkg.date1904)
            if new is not None:
                plan.replaced[chart] = new
    _plan_calc_chain(pkg, changes, plan)
    _plan_full_calc(pkg, changes, plan)
    return plan


def _check_table(info: TableInfo, frame: pd.DataFrame) -> None:
    # Refuse what a plain row rewrite cannot keep correct.
    got = [str(c) for c in frame.columns]
    if got != list(info.columns):
        raise UnsafeToUpdate(
            f"table {info.name!r} on sheet {info.sheet!r}: frame columns {got} differ from the "
            f"table's headers {list(info.columns)}"
        )
    if info.totals_rows:
        raise UnsafeToUpdate(f"table {info.name!r} has a totals row; remove it or let Excel resize the table")
    if info.calculated_columns:
        raise UnsafeToUpdate(
            f"table {info.name!r} has calculated columns {list(info.calculated_columns)}; "
            "an output table must hold values only"
        )


# ---- cell values -------------------------------------------------------------------------------
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


def _text_xml(text: str) -> bytes:
    # Inline-string body: OOXML escapes control characters as _xHHHH_ (and a literal
    # "_xHHHH_" as "_x005F_xHHHH_"), then XML escaping.
    if len(text) > MAX_TEXT_LENGTH:
        raise ValueError(f"text of {len(text):,} characters (Excel's limit is {MAX_TEXT_LENGTH:,})")
    if _PLAIN_TEXT_RE.fullmatch(text):  # most text needs no escaping at all
        return text.encode("utf-8")
    text = _LITERAL_ESCAPE_RE.sub(r"_x005F_\1", text)
    text = _ILLEGAL_XML_RE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    return _xml_escape(text).encode("utf-8")


def _cell_body(value: object, date1904: bool) -> tuple[bytes, bytes] | None:
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
        return b' t="inlineStr"', b'<is><t xml:space="preserve">' + _text_xml(value) + b"</t></is>"
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


# ---- the worksheet ------------------------------------------------------------------------------
_SHEETDATA_OPEN_RE = re.compile(rb"<sheetData\b[^>]*?(/?)>")
_ROW_OPEN_RE = re.compile(rb"<row\b([^>]*?)(/?)>")
_CELL_ROW_RE = re.compile(rb'<c r="[A-Za-z]{1,3}([0-9]{1,7})"')
_CELL_RE = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_R_ATTR_RE = re.compile(rb'\sr="([^"]*)"')
_S_ATTR_RE = re.compile(rb'\ss="([0-9]+)"')
_SPANS_ATTR_RE = re.compile(rb'\s+spans="[^"]*"')
_ROW_ONLY_LAYOUT_RE = re.compile(rb'\s+(?:r|spans|x14ac:dyDescent)="[^"]*"')
_COL_RE = re.compile(rb"<col\b([^>]*?)/?>")
_MERGE_RE = re.compile(rb'<mergeCell\b[^>]*\sref="([^"]*)"')
_DIMENSION_RE = re.compile(rb'(<dimension\b[^>]*\sref=")([^"]*)(")')
_SHARED_F_RE = re.compile(rb"<f\b([^>]*)>")
_F_REF_RE = re.compile(rb'\sref="([^"]*)"')
_CELL_REF_SPLIT_RE = re.compile(rb"([A-Za-z]+)([0-9]+)")
_ALL_REFS_RE = re.compile(rb'<c r="([A-Za-z]+)([0-9]+)"')


def _attr(attrs: bytes, rx: re.Pattern[bytes]) -> bytes | None:
    m = rx.search(attrs)
    return m.group(1) if m else None


def _column_styles(data: bytes) -> dict[int, bytes]:
    # Column number -> style index from <cols><col min max style>.
    styles: dict[int, bytes] = {}
    cols_at = data.find(b"<cols>")
    if cols_at < 0:
        return styles
    cols_end = data.find(b"</cols>", cols_at)
    for m in _COL_RE.finditer(data, cols_at, cols_end):
        attrs = m.group(1)
        lo = re.search(rb'\smin="([0-9]+)"', attrs)
        hi = re.search(rb'\smax="([0-9]+)"', attrs)
        st = re.search(rb'\sstyle="([0-9]+)"', attrs)
        if lo and hi and st:
            for c in range(int(lo.group(1)), min(int(hi.group(1)), 16_384) + 1):
                styles.setdefault(c, st.group(1))
    return styles


def _intersects(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return not (a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])


def _rewrite_sheet(
    part: str,
    data: bytes,
    changes: list[_TableChange],
    others: list[TableInfo],
    date1904: bool,
) -> bytes:
    open_m = _SHEETDATA_OPEN_RE.search(data)
    if not open_m:
        raise UnsafeToUpdate(f"{part}: no <sheetData>")
    if open_m.group(1):  # <sheetData/>
        body_start = body_end = open_m.end()
        head, tail = data[: open_m.start()] + b"<sheetData>", b"</sheetData>" + data[open_m.end() :]
    else:
        body_start = open_m.end()
        body_end = data.find(b"</sheetData>", body_start)
        if body_end < 0:
            raise UnsafeToUpdate(f"{part}: truncated <sheetData>")
        head, tail = data[:body_start], data[body_end:]
    body = data[body_start:body_end]

    # Overlaps the refresh must not paper over.
    merged = [parse_range(m.group(1).decode()) for m in _MERGE_RE.finditer(data, body_end)]
    for i, ch in enumerate(changes):
        inf = ch.info
        area = (inf.body_first_row, inf.first_col, ch.cleared_last, inf.last_col)
        for other in changes[i + 1 :]:
            o = other.info
            if _intersects(area, (o.body_first_row, o.first_col, other.cleared_last, o.last_col)):
                raise UnsafeToUpdate(f"tables {inf.name!r} and {o.name!r} would overlap")
        for t in others:
            if _intersects(area, (t.first_row, t.first_col, t.last_row, t.last_col)):
                raise UnsafeToUpdate(f"table {inf.name!r} would grow into table {t.name!r} ({t.ref})")
        for mr in merged:
            if _intersects(area, mr):
                raise UnsafeToUpdate(f"table {inf.name!r} overlaps merged cells {format_range(*mr)}")

    rows = _scan_rows(part, body)
    order = list(rows)
    plain = _plain_old_rows(body, rows, order, changes)

    col_styles = _column_styles(data[:body_start])
    affected: set[int] = set()
    for ch in changes:
        affected.update(range(ch.info.body_first_row, ch.cleared_last + 1))
        _prepare_cells(part, ch, rows, col_styles, date1904)

    built = _simple_rows(changes, rows, plain)
    bounds = _Bounds()
    out = [head]
    pos = 0
    new_rows = sorted(affected | set(order))
    for r in new_rows:
        m = rows.get(r)
        if r not in affected:
            out.append(bounds.scan(body[pos : m.end]))
            pos = m.end
            continue
        if m is not None:
            out.append(bounds.scan(body[pos : m.start]))  # whitespace between rows, kept
            pos = m.end
        row, first_col, last_col = built.get(r) or _rebuild_row(part, r, m, changes, r in plain)
        bounds.add(r, first_col, last_col)
        out.append(row)
    out.append(bounds.scan(body[pos:]))
    out.append(tail)
    return _update_dimension(b"".join(out), bounds)


def _prepare_cells(
    part: str,
    ch: _TableChange,
    rows: dict[int, _Row],
    col_styles: dict[int, bytes],
    date1904: bool,
) -> None:
    # Render the frame column by column into cell bodies (without the r= reference).
    info = ch.info
    first_row_cells: dict[int, bytes] = {}
    m = rows.get(info.body_first_row)
    if m is not None and m.content:
        for cm in _CELL_RE.finditer(m.content):
            ref = _attr(cm.group(1), _R_ATTR_RE)
            s = _attr(cm.group(1), _S_ATTR_RE)
            if ref and s:
                rm = _CELL_REF_SPLIT_RE.fullmatch(ref)
                if rm:
                    first_row_cells[column_index(rm.group(1).decode())] = s
    ch.cells = []
    ch.refs = [b'<c r="' + letters for letters in map(str.encode, map(column_letters, range(info.first_col, info.last_col + 1)))]
    for j, col in enumerate(range(info.first_col, info.last_col + 1)):
        style = col_styles.get(col) or first_row_cells.get(col)
        s_attr = b' s="' + style + b'"' if style else b""
        column = ch.frame.iloc[:, j]
        fast = _render_numbers(column, s_attr)
        if fast is None:
            fast = _render_texts(column, s_attr, info, j)
        if fast is not None:
            ch.cells.append(fast)
            continue
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
                body = _cell_body(value, date1904)
            except ValueError as exc:
                raise UnsafeToUpdate(
                    f"table {info.name!r}, column {info.columns[j]!r}, row {i + 1}: {exc}"
                ) from None
            cell = None if body is None else s_attr + body[0] + b">" + body[1] + b"</c>"
            if key is not None:
                memo[key] = cell
            rendered.append(cell)
        ch.cells.append(rendered)


def _render_numbers(column: pd.Series, s_attr: bytes) -> list[bytes | None] | None:
    # A whole column of plain numbers rendered without the per-value type dispatch of
    # _cell_body (same bytes); None for any other column, which takes the general path.
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
            rendered.append(s_attr + b' t="inlineStr"><is><t xml:space="preserve">' + _text_xml(text) + b"</t></is></c>")
        except ValueError as exc:
            row = int(np.flatnonzero(codes == k)[0])
            raise UnsafeToUpdate(f"table {info.name!r}, column {info.columns[j]!r}, row {row + 1}: {exc}") from None
    return np.array(rendered + [None], dtype=object)[codes].tolist()  # code -1 (blank) -> None


def _rebuild_row(
    part: str, r: int, m: _Row | None, changes: list[_TableChange], plain: bool = False
) -> tuple[bytes, int | None, int | None]:
    # One row of the rewritten area: kept cells plus new table cells, in column order, with
    # its first and last column (None, None: no cell left). ``plain``: the row is known to
    # hold only old table cells (``_plain_old_rows``).
    cells: list[tuple[int, bytes]] = []
    if m is not None and m.content and not plain and not _old_table_row(m.content, r, changes):
        for cm in _CELL_RE.finditer(m.content):
            ref = _attr(cm.group(1), _R_ATTR_RE)
            rm = _CELL_REF_SPLIT_RE.fullmatch(ref) if ref else None
            if rm is None or int(rm.group(2)) != r:
                raise UnsafeToUpdate(f"{part}: row {r} holds a cell without a proper reference")
            col = column_index(rm.group(1).decode())
            owner = next((ch for ch in changes if ch.info.first_col <= col <= ch.info.last_col
                          and ch.info.body_first_row <= r <= ch.cleared_last), None)
            if owner is None:
                cells.append((col, cm.group(0)))
                continue
            inner = cm.group(2) or b""
            if r > owner.old_last and (b"<v" in inner or b"<is" in inner or b"<f" in inner):
                raise UnsafeToUpdate(
                    f"table {owner.info.name!r} would grow over cell {ref.decode()} on its sheet, which holds data"
                )
            f = _SHARED_F_RE.search(inner)
            if f is not None:
                fref = _attr(f.group(1), _F_REF_RE)
                if fref:
                    fr = parse_range(fref.decode())
                    block = (owner.info.body_first_row, owner.info.first_col, owner.cleared_last, owner.info.last_col)
                    if not (block[0] <= fr[0] and fr[2] <= block[2] and block[1] <= fr[1] and fr[3] <= block[3]):
                        raise UnsafeToUpdate(
                            f"{part}: cell {ref.decode()} anchors a shared/array formula reaching outside table "
                            f"{owner.info.name!r}"
                        )
    row_number = str(r).encode()
    row_ref = row_number + b'"'
    sources = len(cells)  # kept cells, then each table with cells here: more than one -> sort
    for ch in changes:
        inf = ch.info
        if inf.body_first_row <= r <= ch.new_last:
            i = r - inf.body_first_row
            sources += 1
            for j, column in enumerate(ch.cells):
                if i < len(column) and (rendered := column[i]) is not None:
                    cells.append((inf.first_col + j, ch.refs[j] + row_ref + rendered))
    if sources > 1:
        cells.sort(key=lambda t: t[0])
    if m is not None:
        attrs = _SPANS_ATTR_RE.sub(b"", m.attrs)
    else:
        attrs = b' r="' + row_number + b'"'
    if not cells:
        if m is None or not _ROW_ONLY_LAYOUT_RE.sub(b"", attrs).strip():
            return b"", None, None  # nothing left but the row number: drop the row
        return b"<row" + attrs + b"/>", None, None
    return _row_xml(r, m, cells[0][0], cells[-1][0], b"".join([c for _, c in cells])), cells[0][0], cells[-1][0]


def _row_xml(r: int, m: _Row | None, first_col: int, last_col: int, cells: bytes) -> bytes:
    # A rewritten row holding cells: its own attributes (a new row: just r=) with fresh spans.
    spans = b' spans="%d:%d"' % (first_col, last_col)
    if m is None:
        attrs = b' r="%d"' % r + spans
    else:
        attrs = _SPANS_ATTR_RE.sub(b"", m.attrs)
        r_attr = _R_ATTR_RE.search(attrs)
        attrs = attrs[: r_attr.end()] + spans + attrs[r_attr.end() :]
    return b"<row" + attrs + b">" + cells + b"</row>"


def _simple_rows(changes: list[_TableChange], rows: dict[int, _Row], plain: set[int]) -> dict[int, tuple[bytes, int, int]]:
    # Rows keeping nothing but the tables' new cells (new rows, or old rows proven plain),
    # built a column at a time, each step a C loop over the column, into exactly the bytes
    # _rebuild_row gives: tables side by side join left to right (they never overlap).
    # Rows without a cell are left to _rebuild_row.
    pieces: dict[int, list[tuple[bytes, int, int]]] = {}
    for ch in sorted(changes, key=lambda c: c.info.first_col):
        first, last = ch.info.body_first_row, ch.new_last
        if last < first or not ch.cells:
            continue
        n = last - first + 1
        row_refs = np.array([b'%d"' % r for r in range(first, last + 1)], dtype=object)
        grid = np.full((n, len(ch.cells)), b"", dtype=object)
        first_j = np.full(n, -1)
        last_j = np.full(n, -1)
        for j, column in enumerate(ch.cells):
            values = np.full(n, None, dtype=object)
            values[: len(column)] = column
            present = ~np.equal(values, None)
            grid[present, j] = ch.refs[j] + row_refs[present] + values[present]
            first_j[present & (first_j < 0)] = j
            last_j[present] = j
        col0 = ch.info.first_col
        for r, cells, j0, j1 in zip(range(first, last + 1), map(b"".join, grid.tolist()), first_j.tolist(), last_j.tolist()):
            if j1 >= 0:
                pieces.setdefault(r, []).append((cells, col0 + j0, col0 + j1))
    built: dict[int, tuple[bytes, int, int]] = {}
    for r, found in pieces.items():
        m = rows.get(r)
        if m is None or r in plain:
            cells = found[0][0] if len(found) == 1 else b"".join([f[0] for f in found])
            built[r] = (_row_xml(r, m, found[0][1], found[-1][2], cells), found[0][1], found[-1][2])
    return built


class _Bounds:
    """The rectangle of a rewritten sheet's cells, gathered while it is assembled: kept
    XML is scanned, rewritten rows report their own columns."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.cols: list[int] = []

    def add(self, r: int, first_col: int | None, last_col: int | None) -> None:
        if first_col is not None:
            self.rows.append(r)
            self.cols += (first_col, last_col)

    def scan(self, xml: bytes) -> bytes:
        refs = _ALL_REFS_RE.findall(xml)
        if refs:
            self.cols += [column_index(c.decode()) for c in {c for c, _ in refs}]
            self.rows += [int(r) for r in {r for _, r in refs}]
        return xml


@dataclass(slots=True)
class _Row:
    start: int  # where <row starts in the sheetData body
    end: int  # just past </row> (or <row/>)
    attrs: bytes
    content: bytes  # b"" for <row/>


def _scan_rows(part: str, body: bytes) -> dict[int, _Row]:
    # Every <row> of sheetData by row number. Finding "</row>" is a plain search: text
    # escapes "<", so nothing inside a row can look like it.
    rows: dict[int, _Row] = {}
    last = 0
    for m in _ROW_OPEN_RE.finditer(body):
        if m.start() < last:
            continue  # (no <row inside a row, but never read a row twice)
        if m.group(2):
            end, content = m.end(), b""
        else:
            close = body.find(b"</row>", m.end())
            if close < 0:
                raise UnsafeToUpdate(f"{part}: truncated <row>; re-save the workbook in Excel")
            end, content = close + 6, body[m.end() : close]
        r_text = _attr(m.group(1), _R_ATTR_RE)
        if r_text is None or not r_text.isdigit():
            raise UnsafeToUpdate(f"{part}: a row without a row number; re-save the workbook in Excel")
        r = int(r_text)
        if rows and r <= next(reversed(rows)):
            raise UnsafeToUpdate(f"{part}: rows out of order; re-save the workbook in Excel")
        rows[r] = _Row(m.start(), end, m.group(1), content)
        last = end
    return rows


def _plain_old_rows(body: bytes, rows: dict[int, _Row], order: list[int], changes: list[_TableChange]) -> set[int]:
    # Rows of the tables' old data areas holding nothing but those tables' cells and no
    # formula, proven a run of rows at a time with a few C-speed scans (a second refresh
    # meets thousands of them). Runs are cut where a table's old rows start or end, so
    # within a run the same tables own the same columns. The rest get _old_table_row.
    plain: set[int] = set()
    bounds = sorted({ch.info.body_first_row for ch in changes} | {ch.old_last + 1 for ch in changes})
    for lo, next_lo in zip(bounds, bounds[1:]):
        hi = next_lo - 1
        owners = [ch for ch in changes if ch.info.body_first_row <= lo and hi <= ch.old_last]
        inside = order[bisect.bisect_left(order, lo) : bisect.bisect_right(order, hi)]
        if not owners or not inside:
            continue
        block = body[rows[inside[0]].start : rows[inside[-1]].end]
        if b"<f" in block:
            continue
        letters = b"|".join(sorted(frozenset().union(*(ch.letters for ch in owners)), key=len, reverse=True))
        if re.search(rb'<c(?=[\s/>])(?! r="(?:' + letters + rb')[0-9])', block):
            continue  # a cell in another column, or one without r= first
        if not set(_CELL_ROW_RE.findall(block)) <= {str(r).encode() for r in inside}:
            continue  # a cell claiming a row outside the run
        plain.update(inside)
    return plain


def _old_table_row(content: bytes, r: int, changes: list[_TableChange]) -> bool:
    # The usual row: only cells of the tables' old data rows and no formula, so every cell
    # is simply replaced. Anything else takes the careful per-cell walk of _rebuild_row.
    if b"<f" in content:
        return False
    refs = _ALL_REFS_RE.findall(content)
    if len(refs) != content.count(b"<c"):  # a cell without r= first, or rich text (<color>)
        return False
    owned: set[bytes] = set()
    for ch in changes:
        if ch.info.body_first_row <= r <= ch.old_last:
            owned |= ch.letters
    row = str(r).encode()
    return all(n == row and c in owned for c, n in refs)


def _update_dimension(data: bytes, bounds: _Bounds) -> bytes:
    # <dimension ref> = the rectangle of all cells (Excel writes "A1" for an empty sheet).
    m = _DIMENSION_RE.search(data)
    if not m:
        return data
    if bounds.rows:
        ref = format_range(min(bounds.rows), min(bounds.cols), max(bounds.rows), max(bounds.cols)).encode()
    else:
        ref = b"A1"
    if ref == m.group(2):
        return data
    return data[: m.start(2)] + ref + data[m.end(2) :]


# ---- the table part -----------------------------------------------------------------------------
_TABLE_OPEN_RE = re.compile(rb"<table\b[^>]*>")
_REF_ATTR_RE = re.compile(rb'(\sref=")([^"]*)(")')
_RANGE_ELEMENT_RE = re.compile(rb"<(autoFilter|sortState|sortCondition)\b[^>]*>")


def _rewrite_table_part(ch: _TableChange, data: bytes) -> bytes:
    info = ch.info
    new_ref = format_range(info.first_row, info.first_col, ch.new_last, info.last_col).encode()
    m = _TABLE_OPEN_RE.search(data)
    if not m:
        raise UnsafeToUpdate(f"{info.part}: no <table> element")
    tag = _REF_ATTR_RE.sub(lambda a: a.group(1) + new_ref + a.group(3), m.group(0), count=1)
    data = data[: m.start()] + tag + data[m.end() :]

    def fix(el: re.Match[bytes]) -> bytes:
        def one(a: re.Match[bytes]) -> bytes:
            try:
                r1, c1, r2, c2 = parse_range(a.group(2).decode())
            except ValueError:
                return a.group(0)
            if r2 == ch.old_last and info.first_row <= r1 <= ch.old_last:
                return a.group(1) + format_range(r1, c1, max(r1, ch.new_last), c2).encode() + a.group(3)
            return a.group(0)

        return _REF_ATTR_RE.sub(one, el.group(0), count=1)

    return _RANGE_ELEMENT_RE.sub(fix, data)


# ---- charts --------------------------------------------------------------------------------------
_SERIES_REF_RE = re.compile(
    rb"<(?P<p>(?:[A-Za-z_][\w.\-]*:)?)(?P<kind>numRef|strRef|multiLvlStrRef)>(?P<body>.*?)</(?P=p)(?P=kind)>",
    re.S,
)
_AREA_RE = re.compile(
    r"(?:'(?P<q>(?:[^']|'')+)'|(?P<u>[^\s'!(),:;{}\"]+))!"
    r"(?P<d1>\$?)(?P<c1>[A-Za-z]{1,3})(?P<d2>\$?)(?P<r1>[0-9]{1,7})"
    r"(?::(?P<d3>\$?)(?P<c2>[A-Za-z]{1,3})(?P<d4>\$?)(?P<r2>[0-9]{1,7}))?"
)


def _rewrite_chart(data: bytes, changes: list[_TableChange], date1904: bool) -> bytes | None:
    # Follow series ranges into rewritten tables; rebuild or drop their stale caches.
    changed = False

    def one_series(m: re.Match[bytes]) -> bytes:
        nonlocal changed
        p, kind, body = m.group("p"), m.group("kind"), m.group("body")
        fm = re.search(rb"<" + re.escape(p) + rb"f>(.*?)</" + re.escape(p) + rb"f>", body, re.S)
        if not fm:
            return m.group(0)
        formula = _xml_unescape(fm.group(1).decode("utf-8"), {"&apos;": "'", "&quot;": '"'})
        touched = False
        areas: list[tuple[_TableChange, int, int, int, int]] = []

        def area(a: re.Match[str]) -> str:
            nonlocal touched
            sheet = a.group("q").replace("''", "'") if a.group("q") is not None else a.group("u")
            r1, c1 = int(a.group("r1")), column_index(a.group("c1"))
            r2 = int(a.group("r2")) if a.group("r2") else r1
            c2 = column_index(a.group("c2")) if a.group("c2") else c1
            for ch in changes:
                inf = ch.info
                if sheet.lower() != inf.sheet.lower():
                    continue
                if not (inf.first_col <= c1 and c2 <= inf.last_col):
                    continue
                if r2 < inf.body_first_row or r1 > ch.cleared_last:
                    continue  # header-only or outside: values unchanged
                touched = True
                if a.group("r2") and r2 == ch.old_last and inf.first_row <= r1 <= ch.old_last:
                    r2 = max(ch.new_last, r1)
                    areas.append((ch, r1, c1, r2, c2))
                    return (
                        a.group(0)[: a.start("r2") - a.start(0)] + str(r2)
                    )
                areas.append((ch, r1, c1, r2, c2))
            return a.group(0)

        new_formula = _AREA_RE.sub(area, formula)
        if not touched:
            return m.group(0)
        changed = True
        f_xml = _xml_escape(new_formula).encode("utf-8")
        new_body = body[: fm.start(1)] + f_xml + body[fm.end(1) :]
        cache_re = re.compile(
            rb"<" + re.escape(p) + rb"(numCache|strCache|multiLvlStrCache)>.*?</" + re.escape(p) + rb"\1>", re.S
        )
        cache = None
        if len(areas) == 1 and kind != b"multiLvlStrRef":
            ch, r1, c1, r2, c2 = areas[0]
            if c1 == c2:
                old = cache_re.search(new_body)
                cache = _build_cache(p, kind, ch, r1, c1, r2, old.group(0) if old else b"", date1904)
        if cache is None:
            new_body = cache_re.sub(b"", new_body)
        elif cache_re.search(new_body):
            new_body = cache_re.sub(lambda _: cache, new_body, count=1)
        else:
            new_body = new_body + cache
        return b"<" + p + kind + b">" + new_body + b"</" + p + kind + b">"

    new = _SERIES_REF_RE.sub(one_series, data)
    return new if changed else None


def _build_cache(
    p: bytes, kind: bytes, ch: _TableChange, r1: int, col: int, r2: int, old: bytes, date1904: bool
) -> bytes | None:
    # Values of a one-column range inside a rewritten table (header and body rows).
    inf = ch.info
    j = col - inf.first_col
    values: list[object] = []
    series = ch.frame.iloc[:, j].tolist()
    for r in range(r1, r2 + 1):
        if r < inf.body_first_row:
            values.append(inf.columns[j] if r == inf.first_row and inf.header_rows else None)
        else:
            i = r - inf.body_first_row
            values.append(series[i] if i < len(series) else None)
    pts = []
    for idx, v in enumerate(values):
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
            continue
        if kind == b"numRef":
            try:
                body = _cell_body(v, date1904)
            except ValueError:
                continue
            if body is None or body[0] not in (b"", b' t="b"'):
                continue
            text = body[1][3:-4]
        else:
            try:
                text = _text_xml(v if isinstance(v, str) else _display(v))
            except ValueError:
                continue
        pts.append(b'<%spt idx="%d"><%sv>%s</%sv></%spt>' % (p, idx, p, text, p, p))
    count = b'<%sptCount val="%d"/>' % (p, len(values))
    if kind == b"numRef":
        fc = re.search(rb"<" + re.escape(p) + rb"formatCode>.*?</" + re.escape(p) + rb"formatCode>", old, re.S)
        fmt = fc.group(0) if fc else b"<%sformatCode>General</%sformatCode>" % (p, p)
        return b"<%snumCache>" % p + fmt + count + b"".join(pts) + b"</%snumCache>" % p
    return b"<%sstrCache>" % p + count + b"".join(pts) + b"</%sstrCache>" % p


def _display(v: object) -> str:
    # Text a string cache shows for a non-text value.
    if isinstance(v, (bool, np.bool_)):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (float, np.floating)) and float(v) == int(v):
        return str(int(v))
    if isinstance(v, (_dt.datetime, _dt.date)):
        return v.isoformat()
    return str(v)


# ---- calcChain and recalculation ---------------------------------------------------------------
_CALC_ENTRY_RE = re.compile(rb"<c\b([^>]*?)/>")
_I_ATTR_RE = re.compile(rb'\si="([0-9]+)"')
_CALC_PR_RE = re.compile(rb"<calcPr\b[^>]*?/?>")
_FULL_CALC_RE = re.compile(rb'\sfullCalcOnLoad="([^"]*)"')
_FORMULA_RE = re.compile(rb"<f\b[^>]*>([^<]*)</f>")
_DEFINED_NAME_RE = re.compile(rb'<definedName\b[^>]*\sname="([^"]*)"[^>]*>([^<]*)</definedName>')


def _cleared_blocks(pkg: XlsxPackage, changes: list[_TableChange]) -> dict[int, list[tuple[int, int, int, int]]]:
    # sheetId -> cell blocks whose old contents were cleared.
    ids = {s.part: s.sheet_id for s in pkg.sheet_infos()}
    out: dict[int, list[tuple[int, int, int, int]]] = {}
    for ch in changes:
        i = ch.info
        out.setdefault(ids[i.sheet_part], []).append((i.body_first_row, i.first_col, ch.cleared_last, i.last_col))
    return out


def _plan_calc_chain(pkg: XlsxPackage, changes: list[_TableChange], plan: _Plan) -> None:
    chains = pkg.related(pkg.workbook_part, "/calcChain")
    if not chains or not pkg.has_part(chains[0].target):
        return
    part = pkg.member(chains[0].target).name
    data = pkg.read_part(part)
    blocks = _cleared_blocks(pkg, changes)
    kept: list[bytes] = []
    dropped = 0
    current_i = None
    last_kept_i = None
    for m in _CALC_ENTRY_RE.finditer(data):
        attrs = m.group(1)
        i_text = _attr(attrs, _I_ATTR_RE)
        if i_text is not None:
            current_i = int(i_text)
        ref = _attr(attrs, _R_ATTR_RE)
        rm = _CELL_REF_SPLIT_RE.fullmatch(ref) if ref else None
        if rm is not None and current_i in blocks:
            r, c = int(rm.group(2)), column_index(rm.group(1).decode())
            if any(b[0] <= r <= b[2] and b[1] <= c <= b[3] for b in blocks[current_i]):
                dropped += 1
                continue
        el = m.group(0)
        if i_text is None and current_i is not None and current_i != last_kept_i:
            el = b"<c" + b' i="%d"' % current_i + el[2:]
        kept.append(el)
        last_kept_i = current_i
    if not dropped:
        return
    if kept:
        first = _CALC_ENTRY_RE.search(data)
        last_end = max(mm.end() for mm in _CALC_ENTRY_RE.finditer(data))
        plan.replaced[part] = data[: first.start()] + b"".join(kept) + data[last_end:]
        return
    # No formula left in the chain: remove the part, its override and its relationship.
    plan.removed.add(part)
    ct = pkg.read_part("[Content_Types].xml")
    new_ct = re.sub(rb'<Override\b[^>]*PartName="/' + re.escape(part.encode()) + rb'"[^>]*/>', b"", ct, flags=re.I)
    plan.replaced[pkg.member("[Content_Types].xml").name] = new_ct
    rels_part = rels_part_of(pkg.workbook_part)
    rels = pkg.read_part(rels_part)
    new_rels = re.sub(rb'<Relationship\b[^>]*Id="' + re.escape(chains[0].id.encode()) + rb'"[^>]*/>', b"", rels)
    plan.replaced[pkg.member(rels_part).name] = new_rels


def _plan_full_calc(pkg: XlsxPackage, changes: list[_TableChange], plan: _Plan) -> None:
    # Ask Excel to recalculate on open only when a formula may read a rewritten table.
    wb = pkg.read_part(pkg.workbook_part)
    calc = _CALC_PR_RE.search(wb)
    if calc is not None:
        flag = _attr(calc.group(0), _FULL_CALC_RE)
        if flag is not None and flag.lower() in (b"1", b"true"):
            return
    if not _formulas_depend_on(pkg, wb, changes):
        return
    if calc is not None:
        tag = calc.group(0)
        if _FULL_CALC_RE.search(tag):
            tag = _FULL_CALC_RE.sub(b' fullCalcOnLoad="1"', tag, count=1)
        else:
            end = len(tag) - (2 if tag.endswith(b"/>") else 1)
            tag = tag[:end] + b' fullCalcOnLoad="1"' + tag[end:]
        new = wb[: calc.start()] + tag + wb[calc.end() :]
    else:
        at = None
        for name in (b"<oleSize", b"<customWorkbookViews", b"<pivotCaches", b"<smartTagPr", b"<smartTagTypes",
                     b"<webPublishing", b"<fileRecoveryPr", b"<webPublishObjects", b"<extLst", b"</workbook>"):
            at = wb.find(name)
            if at >= 0:
                break
        if at is None or at < 0:
            raise UnsafeToUpdate(f"{pkg.workbook_part}: cannot place <calcPr>")
        new = wb[:at] + b'<calcPr fullCalcOnLoad="1"/>' + wb[at:]
    plan.replaced[pkg.workbook_part] = new


def _formulas_depend_on(pkg: XlsxPackage, wb: bytes, changes: list[_TableChange]) -> bool:
    # Conservative: a formula on a rewritten sheet, or naming a rewritten table or sheet
    # (directly or through a defined name), or using INDIRECT/OFFSET, may depend on it.
    words = set()
    for ch in changes:
        words.add(re.escape(ch.info.name))
        sheet = ch.info.sheet
        words.add(re.escape("'" + sheet.replace("'", "''") + "'!"))
        words.add(re.escape(sheet) + "!")
    words.update(["INDIRECT\\(", "OFFSET\\("])

    def mentions(text: str) -> bool:
        return re.search(r"(?<![\w.])(?:" + "|".join(words) + r")", text, re.I) is not None

    names = [(n.decode("utf-8", "replace"), _xml_unescape(t.decode("utf-8", "replace"))) for n, t in _DEFINED_NAME_RE.findall(wb)]
    dependent = True
    while dependent:
        dependent = False
        for name, text in names:
            if re.escape(name) not in words and mentions(text):
                words.add(re.escape(name))
                dependent = True
    rewritten = {ch.info.sheet_part for ch in changes}
    for sheet in pkg.sheet_infos():
        if sheet.kind != "worksheet" or not pkg.has_part(sheet.part):
            continue
        data = pkg.read_part(sheet.part, limit=MAX_SHEET_PART_BYTES)
        if b"<f" not in data:
            continue
        for m in _FORMULA_RE.finditer(data):
            if sheet.part in rewritten and m.group(1).strip():
                return True
            if mentions(_xml_unescape(m.group(1).decode("utf-8", "replace"))):
                return True
    return False


# ---- assembling and saving ---------------------------------------------------------------------
def _assemble(pkg: XlsxPackage, plan: _Plan, out: BinaryIO) -> None:
    asm = PackageAssembler(out)
    replaced = {k.lower(): k for k in plan.replaced}
    removed = {k.lower() for k in plan.removed}
    for part in plan.replaced:  # the rest deflate while entries are copied
        plan.deflated(part)
    for member in pkg.members:
        key = member.name.lower()
        if key in removed:
            continue
        if key in replaced:
            part = replaced[key]
            asm.add_entry(member, plan.replaced[part], compress=True, deflated=plan.deflated(part).result())
        else:
            asm.copy_entry(pkg, member)
    asm.finish(pkg.archive_comment)


def lock_path(workbook: str | os.PathLike[str]) -> Path:
    """The lock file guarding ``workbook``: ``~$<name>.funnel-lock`` in the same folder."""
    p = Path(workbook)
    return p.with_name(f"~${p.name}.funnel-lock")


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:  # pragma: no cover - platforms without signal 0
        return True
    return True


class WorkbookLock:
    """Exclusive lock on a workbook for one refresh: ``~$<name>.funnel-lock`` holding our pid.

    The file is created with ``O_EXCL``. On POSIX the holder also keeps a ``flock`` on
    it, so a lock left by a killed process is recognised (its flock is gone, its pid is
    dead) and taken over; a lock whose holder is alive raises ``WorkbookBusy``.
    """

    def __init__(self, workbook: str | os.PathLike[str]) -> None:
        """Prepare (not take) the lock for ``workbook``."""
        self.path = lock_path(workbook)
        self._fd: int | None = None

    def __enter__(self) -> "WorkbookLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock.

        Raises:
            WorkbookBusy: a live process holds it.
            WorkbookError: the lock file cannot be created (wraps OSError).
        """
        for _ in range(10):
            created = True
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                created = False
                try:
                    fd = os.open(self.path, os.O_RDWR)
                except FileNotFoundError:
                    continue
            except OSError as exc:
                raise WorkbookError(f"cannot create lock file {self.path}: {exc.strerror or exc}") from exc
            try:
                if fcntl is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        raise WorkbookBusy(self._busy_message(_read_pid(fd))) from None
                    try:
                        same = os.path.samestat(os.fstat(fd), os.stat(self.path))
                    except FileNotFoundError:
                        same = False
                    if not same:  # released and unlinked under us: start again
                        os.close(fd)
                        continue
                if not created:
                    holder = _read_pid(fd)
                    if holder and holder != os.getpid() and _pid_alive(holder) and fcntl is None:
                        raise WorkbookBusy(self._busy_message(holder))
                    if fcntl is None:
                        os.close(fd)
                        os.unlink(self.path)  # stale: its process is gone
                        continue
                os.ftruncate(fd, 0)
                os.lseek(fd, 0, os.SEEK_SET)
                os.write(fd, f"{os.getpid()}\n".encode())
                os.fsync(fd)
                self._fd = fd
                return
            except BaseException:
                try:
                    os.close(fd)
                except OSError:
                    pass
                raise
        raise WorkbookBusy(f"could not take the lock {self.path} (it keeps changing hands)")

    def _busy_message(self, pid: int | None) -> str:
        who = f"process {pid}" if pid else "another process"
        return (
            f"{self.path.name[2:-len('.funnel-lock')]} is being refreshed by {who} "
            f"(lock file {self.path}); wait for it to finish"
        )

    def release(self) -> None:
        """Release the lock (unlink the file, then drop the flock)."""
        if self._fd is None:
            return
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        finally:
            os.close(self._fd)
            self._fd = None


def _read_pid(fd: int) -> int | None:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 64).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None


def _temp_prefix(dst: Path) -> str:
    return f"~${dst.name}."


_TEMP_SUFFIX = ".funnel-tmp"


def _remove_stale_temp_files(dst: Path) -> None:
    # Under the lock, any temp file of ours for this workbook belongs to a dead writer.
    try:
        for p in dst.parent.glob(f"{glob_escape(_temp_prefix(dst))}*{_TEMP_SUFFIX}"):
            try:
                p.unlink()
            except OSError:
                pass
    except OSError:
        pass


def glob_escape(text: str) -> str:
    """``text`` with glob metacharacters escaped (for names such as ``~$Book[1].xlsm``)."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def _before_replace(tmp: Path, dst: Path) -> None:
    """Hook between the fsynced temp file and ``os.replace`` (tests interrupt here)."""


def _atomic_write(dst: Path, write: Callable[[BinaryIO], None], mode_from: Path) -> None:
    # Temp file in the destination folder, fsync, verify, replace, fsync the folder.
    try:
        fd, tmp_name = tempfile.mkstemp(dir=dst.parent, prefix=_temp_prefix(dst), suffix=_TEMP_SUFFIX)
    except OSError as exc:
        raise WorkbookError(f"cannot create a temporary file next to {dst}: {exc.strerror or exc}") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.chmod(tmp, stat.S_IMODE(os.stat(mode_from).st_mode))
        except OSError:
            pass
        with open_package(tmp):  # the new file must read back as a valid package
            pass
        _before_replace(tmp, dst)
        os.replace(tmp, dst)
        _fsync_dir(dst.parent)
    except OSError as exc:
        _unlink_quietly(tmp)
        raise WorkbookError(f"cannot save {dst}: {exc.strerror or exc}") from exc
    except BaseException:
        _unlink_quietly(tmp)
        raise


def _unlink_quietly(p: Path) -> None:
    try:
        p.unlink()
    except OSError:
        pass


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
