"""Reading Excel Tables out of a workbook file into DataFrames, headless and fast.

This module owns turning a table's data rows into a ``pd.DataFrame``. Cell values come
from python-calamine; where a table lives comes from the package's table parts
(``workbook.xlsx_package``).

Safety and speed come from the same trick: calamine never opens the user's file. We
inflate and vet each worksheet we need (``check_sheet_cells``: calamine aborts the whole
process on a sheet whose cells span too much), then hand calamine private packages
holding only the validated parts it reads, with the worksheet *stored* rather than
deflated. Calamine then reads exactly the bytes we checked, even if the file is replaced
meanwhile, and skips a second inflate, which pays for the checks.

A big sheet is cut at row boundaries into slices of about ``SLICE_BYTES`` and each slice
goes to its own calamine in a thread pool: calamine parses without holding the GIL, so
the slices parse on every core while Python turns finished ones into columns.
"""

from __future__ import annotations

import io
import os
import re
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Iterable

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype
from python_calamine import CalamineError, CalamineWorkbook

from funnel.gcpause import collector_paused
from workbook.errors import WorkbookError
from workbook.xlsx_package import (
    MAX_SHEET_PART_BYTES,
    PackageAssembler,
    TableInfo,
    XlsxPackage,
    ZipMember,
    check_sheet_cells,
    check_xml_prolog,
    open_package,
    rels_part_of,
)

__all__ = ["read_tables", "read_table", "SLICE_BYTES"]

_NUMERIC_KINDS = frozenset({"floating", "integer", "mixed-integer-float"})
SLICE_BYTES = 24 << 20  # sheet XML per calamine: big enough that its fixed costs stay small
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
        sheet_hook: called with (sheet part, its vetted XML) for every worksheet read,
            in the order of ``names``, so a caller can look at the sheet without
            inflating it a second time.

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
        NotAWorkbook, WorkbookTooLarge: the file is refused (see ``workbook.xlsx_package``).
        WorkbookError: calamine could not read a value range (wrapped).
    """
    wanted = [names] if isinstance(names, str) else list(names)
    with collector_paused(), open_package(path) as pkg:  # millions of cell objects, no cycles
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
            vetted = {part: pool.submit(_vetted_sheet, pkg, part) for part in order}
            jobs: list[Future[list[_Blocks]]] = []
            small: list[tuple[str, bytes]] = []
            for part in order:
                data = vetted[part].result()
                pieces = _row_slices(data)
                if len(pieces) == 1 and len(data) < SLICE_BYTES // 2:
                    small.append((part, data))  # read together with the other small sheets
                    continue
                jobs.extend(pool.submit(_parse_job, pkg, common, [(part, piece)], tables_on) for piece in pieces)
            if small:
                jobs.append(pool.submit(_parse_job, pkg, common, small, tables_on))
            if sheet_hook is not None:
                for part in tables_on:
                    sheet_hook(part, vetted[part].result())
            del vetted, small
            blocks: dict[str, list[tuple[int, np.ndarray]]] = {}
            for job in jobs:
                for name, found in job.result():
                    blocks.setdefault(name, []).extend(found)
        frames = {}
        for name, info in infos.items():
            found = sorted(blocks.get(info.name, []), key=lambda b: b[0])
            if any(a[0] + len(a[1]) > b[0] for a, b in zip(found, found[1:])):
                # Excel writes rows in order; rows out of order are read again in one piece
                # rather than risk mixing slices up.
                data = _vetted_sheet(pkg, info.sheet_part)
                found = dict(_parse_job(pkg, common, [(info.sheet_part, data)], {info.sheet_part: [info]}))[info.name]
            frames[name] = _table_frame(info, found)
        return frames


def read_table(path: str | os.PathLike[str], name: str) -> pd.DataFrame:
    """Read one Excel Table (see ``read_tables``)."""
    return read_tables(path, [name])[name]


# Per table: (first sheet row, 2-D object array of the table's columns) for each run of
# rows one calamine read found.
_Blocks = tuple[str, list[tuple[int, np.ndarray]]]


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


def _vetted_sheet(pkg: XlsxPackage, part: str) -> bytes:
    data = pkg.read_part(part, limit=MAX_SHEET_PART_BYTES)
    check_sheet_cells(pkg.member(part).name, data)
    return data


def _row_slices(data: bytes, size: int | None = None) -> list[bytes]:
    # The sheet cut at <row> boundaries into worksheets of about ``size`` bytes, each the
    # original head (less <dimension>, which would be wrong) + some rows + the original tail.
    size = size or SLICE_BYTES
    open_at = data.find(b"<sheetData>")
    end = data.rfind(b"</sheetData>")
    if len(data) <= size or open_at < 0 or end < 0:
        return [data]
    body = open_at + len(b"<sheetData>")
    head, tail = _DIMENSION_RE.sub(b"", data[:body], count=1), data[end:]
    cuts = [body]
    while True:
        # "<row " cannot occur inside a value (text escapes "<"), so any match starts a row.
        at = data.find(b"<row ", cuts[-1] + size, end)
        if at < 0 or end - at < size // 4:
            break
        cuts.append(at)
    cuts.append(end)
    return [head + data[a:b] + tail for a, b in zip(cuts, cuts[1:])]


def _parse_job(
    pkg: XlsxPackage, common: list[ZipMember], sheets: list[tuple[str, bytes]], tables_on: dict[str, list[TableInfo]]
) -> list[_Blocks]:
    # Worksheets (or a slice of one) read by one calamine, in a pool thread: the values
    # inside each table on them, as object arrays.
    view = io.BytesIO()
    asm = PackageAssembler(view)
    for member in common:
        asm.copy_entry(pkg, member)
    for part, xml in sheets:
        asm.add_entry(pkg.member(part), xml, compress=False)
    asm.finish()
    found: list[_Blocks] = []
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(view.getbuffer()), load_tables=False)
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


def _crop(info: TableInfo, rows: list[list[object]], start: tuple[int, int] | None) -> list[tuple[int, np.ndarray]]:
    # The part of calamine's rows (whose first cell is at 0-based ``start``) inside the
    # table's data rows and columns: [] or [(first sheet row, object array)].
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
    return [(r0, block)]


def _table_frame(info: TableInfo, blocks: list[tuple[int, np.ndarray]]) -> pd.DataFrame:
    # One table's data rows as a DataFrame indexed by sheet row.
    first, last = info.body_first_row, info.body_last_row
    ncols = info.last_col - info.first_col + 1
    nrows = max(0, last - first + 1)
    if len(blocks) == 1 and blocks[0][0] == first and len(blocks[0][1]) == nrows:
        grid = blocks[0][1]
    else:  # rows no calamine read returned are blank
        grid = np.full((nrows, ncols), "", dtype=object)
        for top, block in blocks:
            grid[top - first : top - first + len(block)] = block
    index = pd.RangeIndex(first, first + nrows)
    columns = {name: _column(grid[:, j], index) for j, name in enumerate(info.columns)}
    return pd.DataFrame(columns, index=index, copy=False)


def _column(values: np.ndarray, index: pd.RangeIndex) -> pd.Series:
    # calamine gives "" for a blank cell: make it None (NaN in a numeric column).
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
