"""Reading Excel Tables out of a workbook file into DataFrames, headless and fast.

This module owns turning a table's data rows into a ``pd.DataFrame``. Cell values come
from python-calamine; where a table lives comes from the package's table parts
(``workbook.xlsx_package``).

Safety and speed come from the same trick: calamine never opens the user's file. We
inflate and vet each worksheet we need (``check_sheet_cells``: calamine aborts the whole
process on a sheet whose cells span too much), then hand calamine a private package
holding only the validated parts calamine reads, with those worksheets *stored* rather
than deflated. Calamine then reads exactly the bytes we checked, even if the file is
replaced meanwhile, and skips a second inflate, which pays for the checks.
"""

from __future__ import annotations

import io
import os
from typing import Iterable

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype
from python_calamine import CalamineError, CalamineWorkbook

from workbook.errors import WorkbookError
from workbook.xlsx_package import (
    MAX_SHEET_PART_BYTES,
    PackageAssembler,
    TableInfo,
    XlsxPackage,
    check_sheet_cells,
    check_xml_prolog,
    open_package,
    rels_part_of,
)

__all__ = ["read_tables", "read_table"]

_NUMERIC_KINDS = frozenset({"floating", "integer", "mixed-integer-float"})


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
            so a caller can look at the sheet without inflating it a second time.

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
    with open_package(path) as pkg:
        infos = {name: pkg.table(name) for name in wanted}
        if not infos:
            return {}
        # The view lives in memory: a refresh killed while reading leaves nothing behind.
        view = io.BytesIO()
        _write_calamine_view(pkg, infos.values(), view, sheet_hook)
        view.seek(0)
        try:
            book = CalamineWorkbook.from_filelike(view, load_tables=True)
        except CalamineError as exc:
            raise WorkbookError(f"{pkg.path.name}: calamine could not open the workbook ({exc})") from exc
        try:
            return {name: _read_one(book, info, pkg.path.name) for name, info in infos.items()}
        finally:
            book.close()
            view.close()


def read_table(path: str | os.PathLike[str], name: str) -> pd.DataFrame:
    """Read one Excel Table (see ``read_tables``)."""
    return read_tables(path, [name])[name]


def _write_calamine_view(
    pkg: XlsxPackage, infos: Iterable[TableInfo], out: BinaryIO, sheet_hook: Callable[[str, bytes], None] | None = None
) -> None:
    # The private package calamine reads: vetted parts only, needed worksheets stored.
    sheet_parts = list(dict.fromkeys(info.sheet_part for info in infos))
    small = ["[Content_Types].xml", "_rels/.rels", pkg.workbook_part, rels_part_of(pkg.workbook_part)]
    for rel in pkg.relationships(pkg.workbook_part):
        if not rel.external and rel.type.endswith(("/styles", "/sharedStrings")):
            small.append(rel.target)
    for sp in sheet_parts:
        small.append(rels_part_of(sp))
        small.extend(r.target for r in pkg.related(sp, "/table"))
    members = []
    for part in dict.fromkeys(small):
        if not pkg.has_part(part):
            continue
        data = pkg.read_part(part, limit=MAX_SHEET_PART_BYTES)
        check_xml_prolog(pkg.member(part).name, data)
        members.append(pkg.member(part))
    asm = PackageAssembler(out)
    for member in members:
        asm.copy_entry(pkg, member)
    for sp in sheet_parts:
        member = pkg.member(sp)
        data = pkg.read_part(sp, limit=MAX_SHEET_PART_BYTES)
        check_sheet_cells(member.name, data)
        if sheet_hook is not None:
            sheet_hook(sp, data)
        asm.add_entry(member, data, compress=False, crc=member.crc)
        del data
    asm.finish()


def _read_one(book: CalamineWorkbook, info: TableInfo, file_name: str) -> pd.DataFrame:
    # One table's data rows as a DataFrame indexed by sheet row.
    first, last = info.body_first_row, info.body_last_row
    ncols = info.last_col - info.first_col + 1
    nrows = max(0, last - first + 1)
    rows = None
    try:
        table = book.get_table_by_name(info.name)
        if table.start == (first - 1, info.first_col - 1) and table.end == (last - 1, info.last_col - 1):
            rows = table.to_python()
    except CalamineError:
        rows = None
    try:
        if rows is None:
            # calamine disagrees about the table's range (no header row, totals row...):
            # slice the sheet ourselves.
            grid = book.get_sheet_by_name(info.sheet).to_python(skip_empty_area=False, nrows=last)
            rows = [r[info.first_col - 1 : info.last_col] for r in grid[first - 1 : last]]
    except CalamineError as exc:
        raise WorkbookError(f"{file_name}: calamine could not read table {info.name!r} ({exc})") from exc
    if len(rows) != nrows or any(len(r) != ncols for r in rows):
        rows = [list(r[:ncols]) + [""] * (ncols - len(r)) for r in rows[:nrows]]
        rows += [[""] * ncols for _ in range(nrows - len(rows))]
    grid = np.empty((nrows, ncols), dtype=object)
    if nrows:
        grid[:] = rows
    del rows
    index = pd.RangeIndex(first, first + nrows)
    columns = {name: _column(grid[:, j], index) for j, name in enumerate(info.columns)}
    return pd.DataFrame(columns, index=index, copy=False)


def _column(values: np.ndarray, index: pd.RangeIndex) -> pd.Series:
    # calamine gives "" for a blank cell: make it None (NaN in a numeric column).
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
