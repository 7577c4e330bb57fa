"""Reading Excel Tables out of a workbook file into DataFrames, headless and fast.

This module owns turning a table's data rows into a ``pd.DataFrame``. Cell values come
from fastexcel (typed Arrow columns, no Python object per cell) or, for the sheets it
would read differently, python-calamine (one Python value per cell); where a table lives
comes from the package's table parts (``workbook.package``). Both are built on the
calamine parser; fastexcel is used only where it yields exactly calamine's Python values:
a column mixing kinds of value (a number typed as text, "TBD" among amounts), error
cells, ISO-dated cells and times of day go to python-calamine, so every table reads the
same either way (``tests/workbook/test_fast_read.py``).

Safety and speed come from the same trick: neither reader opens the user's file. We
inflate and vet each worksheet we need (``check_sheet_cells``: calamine aborts the whole
process on a sheet whose cells span too much), then hand the readers private packages
holding only the validated parts they read, with the worksheet *stored* rather than
deflated. They then read exactly the bytes we checked, even if the file is replaced
meanwhile, and skip a second inflate, which pays for the checks.

A big sheet is cut at row boundaries into slices of about ``SLICE_BYTES`` and each slice
goes to its own reader in a thread pool: both parse without holding the GIL, so the
slices parse on every core while Python turns finished ones into columns.
"""

from __future__ import annotations

import html
import io
import logging
import os
import re
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Iterable, NamedTuple

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype
from python_calamine import CalamineError, CalamineWorkbook

from workbook.errors import WorkbookError
from workbook.package import (
    MAX_SHEET_PART_BYTES,
    PackageAssembler,
    TableInfo,
    XlsxPackage,
    ZipMember,
    check_sheet_cells,
    check_xml_prolog,
    column_index,
    column_letters,
    open_package,
    rels_part_of,
)

__all__ = ["read_tables", "read_table", "uncached_formulas", "SLICE_BYTES"]


class _BlankColumnNotice(logging.Filter):
    # fastexcel logs a warning for every column of a slice that is blank throughout (it
    # then types it as text); in an input table that is normal, and it is read as blank.
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Could not determine dtype")


logging.getLogger("fastexcel.types.dtype").addFilter(_BlankColumnNotice())

_NUMERIC_KINDS = frozenset({"floating", "integer", "mixed-integer-float"})
SLICE_BYTES = 24 << 20  # sheet XML per reader: big enough that its fixed costs stay small
_DIMENSION_RE = re.compile(rb"<dimension\b[^>]*/>")


def _workers() -> int:
    # Threads beyond the cores still help: one converts values under the GIL while the
    # others parse.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(2, min(8, 2 * cores))


def read_tables(
    path: str | os.PathLike[str],
    names: Iterable[str] | str,
    sheet_hook: Callable[[str, bytes], None] | None = None,
) -> dict[str, pd.DataFrame]:
    """Read the data rows of Excel Tables, by table name.

    Args:
        path: the .xlsx/.xlsm file.
        names: Excel Table names (case-insensitive, as Excel compares them); a single
            name may be passed as a string.
        sheet_hook: called with (sheet part, its XML) for every worksheet read, in the
            order of ``names``, so a caller can look at the sheet without inflating it
            a second time.

    Returns:
        One DataFrame per requested name (keyed as requested). Columns are the table's
        header names in order; the index is the 1-based sheet row of each data row
        (totals row excluded). Numbers are ``float64`` columns (NaN where blank) when a
        column holds only numbers; every other column is ``object`` holding ``str``,
        ``bool``, ``datetime.date``/``datetime.datetime``/``datetime.time``, ``float``,
        with ``None`` for blank cells. Excel keeps at least one data row in a table, so
        an "empty" table reads as one all-``None`` row.

    Raises:
        TableNotFound: a name matches no table; the message lists sheets and tables.
        NotAWorkbook, WorkbookTooLarge: the file is refused (see ``workbook.package``).
        WorkbookError: calamine could not read a value range (wrapped).
    """
    wanted = [names] if isinstance(names, str) else list(names)
    with open_package(path) as pkg:
        infos = {name: pkg.table(name) for name in wanted}
        if not infos:
            return {}
        common = _common_members(pkg)
        tables_on: dict[str, list[TableInfo]] = {}
        for info in infos.values():
            tables_on.setdefault(info.sheet_part, []).append(info)
        # Biggest sheets first, so their slices are parsing while the small ones inflate.
        order = sorted(tables_on, key=lambda part: -pkg.member(part).file_size)
        with ThreadPoolExecutor(_workers()) as pool:
            jobs: list[tuple[set[str], Future[list[_Blocks]]]] = []  # (sheets read, job)
            small: list[tuple[str, bytes]] = []
            whole: dict[str, bytes] = {}
            for part in order:
                # A big sheet's first slices parse while the rest of it still inflates.
                def parse(piece: bytes, part: str = part) -> None:
                    jobs.append(({part}, pool.submit(_parse_job, pkg, common, [(part, piece)], tables_on)))

                whole[part], sliced = _inflate_in_slices(pkg, part, parse)
                if sliced:
                    continue
                if len(whole[part]) < SLICE_BYTES // 2:
                    small.append((part, whole[part]))  # read together with the other small sheets
                else:
                    parse(whole[part])
            if small:
                jobs.append(({part for part, _ in small}, pool.submit(_parse_job, pkg, common, small, tables_on)))
            if sheet_hook is not None:
                for part in tables_on:
                    sheet_hook(part, whole[part])
            del whole, small
            # A sheet's tables become frames as soon as its jobs are done, while the pool
            # still parses the sheets after it.
            blocks: dict[str, list[_Block]] = {}
            frames: dict[str, pd.DataFrame] = {}
            for part in order:
                for entry in [entry for entry in jobs if part in entry[0]]:
                    jobs.remove(entry)
                    for name, found in entry[1].result():
                        blocks.setdefault(name, []).extend(found)
                for name, info in infos.items():
                    if info.sheet_part == part:
                        frames[name] = _frame_of(pkg, common, info, blocks.get(info.name, []))
        return {name: frames[name] for name in infos}


def _frame_of(pkg: XlsxPackage, common: list[ZipMember], info: TableInfo, blocks: list[_Block]) -> pd.DataFrame:
    found = sorted(blocks, key=lambda b: b.top)
    if any(a.top + a.rows > b.top for a, b in zip(found, found[1:])):
        # Excel writes rows in order; rows out of order are read again in one piece
        # rather than risk mixing slices up.
        data = _vetted_sheet(pkg, info.sheet_part)
        found = dict(_parse_job(pkg, common, [(info.sheet_part, data)], {info.sheet_part: [info]}))[info.name]
    return _table_frame(info, found)


def read_table(path: str | os.PathLike[str], name: str) -> pd.DataFrame:
    """Read one Excel Table (see ``read_tables``)."""
    return read_tables(path, [name])[name]


class _Block(NamedTuple):
    """A run of a table's rows one read found: one array per table column (None: all blank)."""

    top: int  # sheet row of the first
    rows: int
    columns: list[np.ndarray | None]


_Blocks = tuple[str, list[_Block]]


def _common_members(pkg: XlsxPackage) -> list[ZipMember]:
    # The vetted parts every private package needs besides its worksheets.
    parts = ["[Content_Types].xml", "_rels/.rels", pkg.workbook_part, rels_part_of(pkg.workbook_part)]
    for rel in pkg.relationships(pkg.workbook_part):
        if not rel.external and rel.type.endswith(("/styles", "/sharedStrings")):
            parts.append(rel.target)
    members = []
    for part in dict.fromkeys(parts):
        if pkg.has_part(part):
            check_xml_prolog(pkg.member(part).name, pkg.read_part(part, limit=MAX_SHEET_PART_BYTES))
            members.append(pkg.member(part))
    return members


# A cell whose body is a formula and no saved value (no <v>, or an empty one): what a
# program writes that never calculated the sheet (openpyxl, a script). Excel itself always
# saves the value. check_sheet_cells has made sure every cell starts with r=.
_UNCACHED_FORMULA_RE = re.compile(
    rb'<c r="([A-Z]{1,3})([0-9]{1,7})"[^>]*>\s*<f\b[^>]*?(?:/>|>([^<]*)</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>')


_FORMULA_WITHOUT_VALUE_RE = re.compile(rb'(?:</f>|<f\b[^<>]*/>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>')


def uncached_formulas(data: bytes, tables: list[TableInfo]) -> list[tuple[str, int, str, str]]:
    """Formula cells without a saved value inside the tables' data rows of one sheet's XML.

    Both readers read such a cell as blank, which is not what the sheet shows once Excel
    calculates it, so the caller reports it.

    Returns:
        (table name, sheet row, header as shown, ``=`` and the formula) per cell, in sheet
        order; a shared formula's later cells, which carry no text, show ``=(shared formula)``.
    """
    found: list[tuple[str, int, str, str]] = []
    if not tables or b"<f" not in data:
        return found
    # Only the end of a formula with no value after it is looked for (in C); a sheet Excel
    # saved has none, however many formulas it holds.
    for tail in _FORMULA_WITHOUT_VALUE_RE.finditer(data):
        start = data.rfind(b"<c ", 0, tail.start())
        m = _UNCACHED_FORMULA_RE.match(data, start) if start >= 0 else None
        if m is None or m.end() != tail.end():  # not this cell's own formula
            continue
        row, col = int(m.group(2)), column_index(m.group(1).decode("ascii"))
        formula = html.unescape(m.group(3).decode("utf-8", "replace")) if m.group(3) else ""
        for info in tables:
            if info.body_first_row <= row <= info.body_last_row and info.first_col <= col <= info.last_col:
                found.append((info.name, row, info.columns[col - info.first_col], f"={formula or '(shared formula)'}"))
    return found


def _vetted_sheet(pkg: XlsxPackage, part: str) -> bytes:
    data = pkg.read_part(part, limit=MAX_SHEET_PART_BYTES)
    check_sheet_cells(pkg.member(part).name, data, pkg.sheet_name_of(part))
    return data


# Inflated a piece at a time: small enough that the first slice is ready early, big
# enough that zlib's per-call costs vanish.
_INFLATE_PIECE = 4 << 20
_SLICE_TAIL = b"</sheetData></worksheet>"


def _inflate_in_slices(pkg: XlsxPackage, part: str, ready: Callable[[bytes], None]) -> tuple[bytes, bool]:
    """Inflate one worksheet; if it is big, hand each slice, vetted, to ``ready`` as soon as
    it is whole.

    Returns:
        (the whole sheet XML, whether it went out in slices). A sheet not cut is vetted
        whole and not handed on.
    """
    name, sheet = pkg.member(part).name, pkg.sheet_name_of(part)
    cutter = _RowCutter(SLICE_BYTES)
    pieces = []
    for piece in pkg.inflate_part(part, limit=MAX_SHEET_PART_BYTES, piece=_INFLATE_PIECE):
        pieces.append(piece)
        for ready_slice in cutter.feed(piece):
            if cutter.cuts == 1:  # the head, with its declared <dimension>, checked once
                check_sheet_cells(name, cutter.original_head + _SLICE_TAIL, sheet)
            check_sheet_cells(name, ready_slice, sheet)
            ready(ready_slice)
    data = b"".join(pieces)
    del pieces
    last = cutter.finish(data)
    check_sheet_cells(name, last, sheet)
    if cutter.cuts:
        ready(last)
    return data, cutter.cuts > 0


class _RowCutter:
    """Cuts a worksheet's XML, fed as it inflates, at ``<row`` boundaries into worksheets of
    about ``size`` bytes: the head (less ``<dimension>``, which would be wrong for a slice)
    + some rows + a closing tail (the original one on the last slice)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.cuts = 0
        self.original_head = b""
        self._head: bytes | None = None
        self._rest = bytearray()  # fed but not yet handed out
        self._start = 0  # where rows begin in _rest

    def feed(self, piece: bytes) -> list[bytes]:
        """Take the next piece of the sheet; the slices now complete."""
        self._rest += piece
        if self._head is None:
            open_at = self._rest.find(b"<sheetData>")
            if open_at < 0:
                return []
            self._start = open_at + len(b"<sheetData>")
            self.original_head = bytes(self._rest[: self._start])
            self._head = _DIMENSION_RE.sub(b"", self.original_head, count=1)
        out = []
        while True:
            # "<row " cannot occur inside a value (text escapes "<"), so any match starts
            # a row. A quarter slice must lie beyond: the last slice is never a sliver.
            at = self._rest.find(b"<row ", self._start + self.size)
            if at < 0 or len(self._rest) - at < self.size // 4:
                return out
            out.append(self._head + bytes(self._rest[self._start : at]) + _SLICE_TAIL)
            del self._rest[:at]
            self._start = 0
            self.cuts += 1

    def finish(self, whole: bytes) -> bytes:
        """The last slice (rows to the original tail); ``whole`` itself when never cut."""
        if not self.cuts:
            return whole
        return self._head + bytes(self._rest)


def _row_slices(data: bytes, size: int | None = None) -> list[bytes]:
    """A whole sheet cut as ``_inflate_in_slices`` cuts it while inflating."""
    cutter = _RowCutter(size or SLICE_BYTES)
    return cutter.feed(data) + [cutter.finish(data)]


def _parse_job(
    pkg: XlsxPackage, common: list[ZipMember], sheets: list[tuple[str, bytes]], tables_on: dict[str, list[TableInfo]]
) -> list[_Blocks]:
    # Worksheets (or a slice of one) read in a pool thread: the values inside each table
    # on them, one array per table column. fastexcel gives typed columns without a Python
    # object per cell; a sheet it cannot read exactly as calamine would (a column mixing
    # kinds of value, error cells, times of day, ...) is read by python-calamine instead.
    windows = _row_windows(sheets)
    if windows is not None:
        try:
            return _fast_blocks(_private_package(pkg, common, sheets), sheets, tables_on, windows)
        except _NotFast:
            pass
    found: list[_Blocks] = []
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(_private_package(pkg, common, sheets)), load_tables=False)
        try:
            for part, _ in sheets:
                grid = book.get_sheet_by_name(tables_on[part][0].sheet)
                rows, start = grid.to_python(), grid.start
                found.extend((info.name, _crop(info, rows, start)) for info in tables_on[part])
        finally:
            book.close()
    except CalamineError as exc:
        raise WorkbookError(f"{pkg.path.name}: calamine could not read the workbook ({exc})") from exc
    return found


def _private_package(pkg: XlsxPackage, common: list[ZipMember], sheets: list[tuple[str, bytes]]) -> bytes:
    # The vetted parts a reader needs, worksheets stored (not deflated): it reads exactly
    # the bytes we checked.
    view = io.BytesIO()
    asm = PackageAssembler(view)
    for member in common:
        asm.copy_entry(pkg, member)
    for part, xml in sheets:
        asm.add_entry(pkg.member(part), xml, compress=False)
    asm.finish()
    return view.getvalue()


class _NotFast(Exception):
    """fastexcel would not read these cells exactly as calamine's Python values."""


# Error cells (calamine's Python values read them as blank) and ISO date cells: left to
# python-calamine, whose readings the rest of the code is built on.
_SLOW_CELL_TYPES = (b't="e"', b't="d"')
_ROW_NUMBER_RE = re.compile(rb'<row r="(\d+)"')


def _row_windows(sheets: list[tuple[str, bytes]]) -> dict[str, tuple[int, int] | None] | None:
    # Per sheet (slice), the sheet rows of its first and last <row>, None without rows;
    # None overall when a sheet should go to python-calamine.
    windows: dict[str, tuple[int, int] | None] = {}
    for part, xml in sheets:
        if any(kind in xml for kind in _SLOW_CELL_TYPES):
            return None
        first_at = xml.find(b"<row ", xml.find(b"<sheetData"))
        if first_at < 0:
            windows[part] = None
            continue
        first = _ROW_NUMBER_RE.match(xml, first_at)
        last = _ROW_NUMBER_RE.match(xml, xml.rfind(b"<row "))
        if first is None or last is None:
            return None
        windows[part] = (int(first.group(1)), int(last.group(1)))
    return windows


def _fast_blocks(
    data: bytes, sheets: list[tuple[str, bytes]], tables_on: dict[str, list[TableInfo]],
    windows: dict[str, tuple[int, int] | None],
) -> list[_Blocks]:
    import fastexcel  # imports pyarrow: only when a workbook is read

    found: list[_Blocks] = []
    try:
        reader = fastexcel.read_excel(data)
        for part, _ in sheets:
            for info in tables_on[part]:
                # header_row=None with a number of rows to skip counts rows from the top of
                # the sheet, so row i of the result is sheet row body_first_row + i.
                rows = dict(header_row=None, skip_rows=info.body_first_row - 1, n_rows=info.body_last_row - info.body_first_row + 1,
                            schema_sample_rows=None, dtype_coercion="strict")
                try:
                    # Columns by letter: exactly the table's columns, in order (a quarter
                    # faster than the lazy sheet below)...
                    batch = reader.load_sheet(info.sheet, use_columns=f"{column_letters(info.first_col)}:{column_letters(info.last_col)}",
                                              eager=True, **rows)
                    by_col = dict(enumerate(batch.columns))
                except fastexcel.ColumnNotFoundError:
                    # ...unless a column at the table's edge is blank throughout the slice.
                    lo, hi = info.first_col - 1, info.last_col - 1
                    sheet = reader.load_sheet(info.sheet, use_columns=lambda col, lo=lo, hi=hi: lo <= col.absolute_index <= hi, **rows)
                    batch = sheet.to_arrow()
                    by_col = {c.absolute_index - lo: batch.column(k) for k, c in enumerate(sheet.selected_columns)}
                found.append((info.name, _window_block(info, windows[part], batch.num_rows, by_col)))
    except Exception as exc:
        # Kinds mixed in a column, a value it would read otherwise, or any error of
        # fastexcel or pyarrow: python-calamine reads these sheets. (Which sheets take
        # this path is pinned by test_clean_sheets_take_the_fast_path.)
        raise _NotFast from exc
    return found


def _window_block(info: TableInfo, window: tuple[int, int] | None, nrows: int, by_col: dict) -> list[_Block]:
    # The rows of this slice inside the table, proven to hold every cell found: a cell
    # claiming a row outside the slice's own rows sends the sheet to python-calamine.
    top = info.body_first_row
    a, b = (0, -1) if window is None else (max(window[0], top) - top, min(window[1] - top, nrows - 1))
    kept = max(0, b - a + 1)
    columns: list[np.ndarray | None] = []
    for j in range(info.last_col - info.first_col + 1):
        arr = by_col.get(j)
        if arr is None or arr.null_count == len(arr):
            columns.append(None)
            continue
        before, after = arr.slice(0, min(max(a, 0), len(arr))), arr.slice(max(b + 1, a, 0))
        if before.null_count != len(before) or after.null_count != len(after):
            raise _NotFast
        columns.append(_arrow_values(arr.slice(a, kept)) if kept else None)
    return [_Block(top + a, kept, columns)] if kept else []


_EPOCH_1900 = np.datetime64("1900-01-01", "ms")
_END_9999 = np.datetime64("10000-01-01", "ms")


def _arrow_values(arr) -> np.ndarray:
    # One column's cells as calamine's Python values would be: float64 for numbers (NaN
    # where blank), else objects with None where blank.
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = arr.type
    if pa.types.is_floating(kind) or pa.types.is_integer(kind):
        return arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        # Each distinct text becomes one Python string, shared by the cells that hold it.
        coded = pc.dictionary_encode(arr)
        uniques = np.array(coded.dictionary.to_pylist() + [None], dtype=object)
        return uniques[coded.indices.fill_null(len(uniques) - 1).to_numpy()]
    if pa.types.is_boolean(kind):
        return np.array(arr.to_pylist(), dtype=object)
    if pa.types.is_null(kind):
        return np.full(len(arr), None, dtype=object)
    if pa.types.is_timestamp(kind) and kind.tz is None:
        stamps = arr.cast(pa.timestamp("ms")).to_numpy(zero_copy_only=False)
        present = ~np.isnat(stamps)
        if ((stamps[present] < _EPOCH_1900) | (stamps[present] >= _END_9999)).any():
            raise _NotFast  # times of day and serials before 1900: calamine has its own reading
        days = stamps.astype("datetime64[D]")
        midnight = present & (days == stamps)
        out = np.full(len(stamps), None, dtype=object)
        out[midnight] = days[midnight].astype(object)  # datetime.date, as calamine gives a day
        timed = present & ~midnight
        out[timed] = stamps[timed].astype("datetime64[us]").astype(object)
        return out
    raise _NotFast


def _crop(info: TableInfo, rows: list[list[object]], start: tuple[int, int] | None) -> list[_Block]:
    # The part of calamine's rows (whose first cell is at 0-based ``start``) inside the
    # table's data rows and columns: [] or one block of object columns.
    if not rows or start is None:
        return []
    top, left = start[0] + 1, start[1] + 1
    r0, r1 = max(info.body_first_row, top), min(info.body_last_row, top + len(rows) - 1)
    c0, c1 = max(info.first_col, left), min(info.last_col, left + len(rows[0]) - 1)
    if r0 > r1 or c0 > c1:
        return []
    block = np.full((r1 - r0 + 1, info.last_col - info.first_col + 1), "", dtype=object)  # "" = blank, as calamine says
    a, b = c0 - left, c1 - left + 1
    piece = [row[a:b] for row in rows[r0 - top : r1 - top + 1]]
    if any(len(row) != b - a for row in piece):  # ragged rows: pad
        piece = [list(row) + [""] * (b - a - len(row)) for row in piece]
    block[:, c0 - info.first_col : c1 - info.first_col + 1] = piece
    return [_Block(r0, len(block), [block[:, j] for j in range(block.shape[1])])]


def _table_frame(info: TableInfo, blocks: list[_Block]) -> pd.DataFrame:
    # One table's data rows as a DataFrame indexed by sheet row.
    first, last = info.body_first_row, info.body_last_row
    nrows = max(0, last - first + 1)
    index = pd.RangeIndex(first, first + nrows)
    columns = {
        name: _column(_stitched([(b.top, b.rows, b.columns[j]) for b in blocks], first, nrows), index)
        for j, name in enumerate(info.columns)
    }
    return pd.DataFrame(columns, index=index, copy=False)


def _stitched(parts: list[tuple[int, int, np.ndarray | None]], first: int, nrows: int) -> np.ndarray:
    # One column from the blocks that hold some of its rows; rows no block holds are blank.
    present = sorted((p for p in parts if p[2] is not None), key=lambda p: p[0])
    if present and present[0][0] == first and sum(p[1] for p in present) == nrows \
            and all(a[0] + a[1] == b[0] for a, b in zip(present, present[1:])):
        if len(present) == 1:
            return present[0][2]
        if all(arr.dtype == np.float64 for _, _, arr in present):
            return np.concatenate([arr for _, _, arr in present])
    out = np.full(nrows, "", dtype=object)  # "" = blank, as calamine says
    for top, rows, arr in present:
        if arr.dtype == np.float64:
            values = arr.astype(object)
            values[np.isnan(arr)] = ""
            arr = values
        out[top - first : top - first + rows] = arr
    return out


def _column(values: np.ndarray, index: pd.RangeIndex) -> pd.Series:
    # calamine gives "" for a blank cell: make it None (NaN in a numeric column).
    if values.dtype == np.float64:
        return pd.Series(values, index=index, copy=False)
    values = np.ascontiguousarray(values)  # a column of the row-major grid: strided, slow to scan
    kind = infer_dtype(values, skipna=True)
    if kind in _NUMERIC_KINDS:
        return pd.Series(values.astype(np.float64), index=index, copy=False)
    if kind in ("string", "mixed", "mixed-integer", "empty"):
        blank = values == ""
        if blank.any():
            values = values.copy()
            values[blank] = None
            if kind == "mixed" and infer_dtype(values, skipna=True) in _NUMERIC_KINDS:
                return pd.Series(values.astype(np.float64), index=index, copy=False)
    return pd.Series(values, index=index, dtype=object, copy=False)
