"""Rewriting output Excel Tables in a workbook file, touching nothing the refresh does not own.

This module owns the headless write of a refresh: it plans every changed part, then
assembles the new package. For each output table it replaces the data rows, and it
changes only what must follow them:

* the worksheet's ``<sheetData>`` cells inside the table's columns, and ``<dimension>``
  (``worksheet``);
* the table part's ``ref``, ``autoFilter``/``sortState`` refs (``table_part``);
* ``<c:f>`` series ranges (and their caches) in charts drawn on the rewritten sheets
  (``charts``);
* ``calcChain.xml`` entries for cells that were cleared, and ``fullCalcOnLoad="1"`` in
  workbook.xml's ``<calcPr>`` when some formula may depend on a rewritten table
  (``calculation``).

Every other zip entry is copied raw (``zipwriter``), in the source order. The file is
saved atomically under the workbook's lock (``save``).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, Callable, Mapping

import pandas as pd

from funnel.analysis import Executor
from workbook.errors import UnsafeToUpdate
from workbook.package.calculation import plan_calc_chain, plan_full_calc
from workbook.package.charts import rewrite_chart
from workbook.package.limits import EXCEL_MAX_ROWS, MAX_SHEET_PART_BYTES
from workbook.package.plan import Plan, TableChange
from workbook.package.save import save_atomically, saving
from workbook.package.sheetguard import check_sheet_cells
from workbook.package.table_part import TableInfo, rewrite_table_part
from workbook.package.workbook_part import XlsxPackage, open_package
from workbook.package.worksheet import rewrite_sheet
from workbook.package.zipwriter import PackageAssembler

__all__ = ["write_tables"]


def write_tables(
    src_path: str | os.PathLike[str],
    dst_path: str | os.PathLike[str],
    frames: Mapping[str, pd.DataFrame],
    *,
    force: bool = False,
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
        force: save even when Excel's owner file says ``dst_path`` is open in Excel.
        executor: renders the sheet with the most cells to write beside the others
            (``submit(fn)`` -> ``result()``; ``udfs.runtime`` forks a child where that is
            safe); None renders every sheet here. The bytes are the same either way.

    Raises:
        TableNotFound: a frame names no table.
        UnsafeToUpdate: headers differ, the table has a totals row or calculated column,
            growing would overwrite cells, merged cells or another table, a value cannot
            be stored, or a part cannot be patched safely.
        OpenInExcel: Excel's owner file lies beside ``dst_path`` (unless ``force``).
        WorkbookBusy: another refresh holds the lock on ``dst_path``.
        NotAWorkbook, WorkbookTooLarge: the source is refused.
        SaveFailed: the disk is full, or writing is not permitted; the destination is
            then unchanged and no temporary or lock file is left.
    """
    src = Path(src_path)
    dst = Path(dst_path)
    with saving(dst, force=force) as target:
        # New parts are deflated in threads (zlib lets go of the GIL): a sheet as soon as it
        # is rewritten, while Python renders the next one.
        with open_package(src) as pkg, ThreadPoolExecutor(2) as deflater:
            plan = _plan(pkg, frames, deflater, executor)

            def write(out: BinaryIO) -> None:
                try:
                    _assemble(pkg, plan, out)
                finally:
                    pkg.close()  # before the replace: Windows cannot replace a file still open

            mode_from = target if target.exists() else src
            save_atomically(target, write, mode_from, workbook=dst, force=force)


# ---- the plan: every changed part, computed before anything is written ----------------------
def _plan(pkg: XlsxPackage, frames: Mapping[str, pd.DataFrame], deflater: ThreadPoolExecutor,
          executor: Executor | None) -> Plan:
    plan = Plan(deflater)
    changes: list[TableChange] = []
    for name, frame in frames.items():
        info = pkg.table(name)
        _check_table(info, frame)
        n = len(frame)
        new_last = info.body_first_row + max(n, 1) - 1
        if new_last > EXCEL_MAX_ROWS:
            raise UnsafeToUpdate(f"table {info.name!r}: {n:,} rows do not fit on a sheet")
        changes.append(TableChange(info=info, frame=frame, new_last=new_last))
    if not changes:
        return plan
    by_sheet: dict[str, list[TableChange]] = {}
    for ch in changes:
        by_sheet.setdefault(ch.info.sheet_part, []).append(ch)
    all_tables = pkg.tables()

    def rewrite(sheet_part: str, data: bytes) -> Callable[[], bytes]:
        sheet_changes = by_sheet[sheet_part]
        check_sheet_cells(sheet_part, data, pkg.sheet_name_of(sheet_part))
        others = [t for t in all_tables.values() if t.sheet_part == sheet_part and t.name not in {c.info.name for c in sheet_changes}]
        return lambda: rewrite_sheet(sheet_part, data, sheet_changes, others, pkg.date1904)

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
        plan.replaced[ch.info.part] = rewrite_table_part(ch.info, ch.new_last, pkg.read_part(ch.info.part))
    for sheet_part in by_sheet:
        for chart in pkg.drawing_charts(sheet_part):
            new = rewrite_chart(pkg.read_part(chart), changes, pkg.date1904)
            if new is not None:
                plan.replaced[chart] = new
    plan_calc_chain(pkg, changes, plan)
    plan_full_calc(pkg, changes, plan)
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


# ---- assembling the new package ---------------------------------------------------------------
def _assemble(pkg: XlsxPackage, plan: Plan, out: BinaryIO) -> None:
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
