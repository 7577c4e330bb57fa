"""The file-backed Book: the refresh macro's boundary over a .xlsm on disk.

``funnel refresh`` hands the very macro the Refresh button runs (``udfs.macros.refresh``)
a FileBook instead of an xlwings Book. Reads come from python-calamine (all input tables
in one pass over the file); writes are collected and land in one atomic save at
``finish`` through the in-place writer, which rewrites only the output tables' parts.

calamine reads an Excel error value (``#N/A``, ``#REF!``) as a blank cell, so the book
also finds those cells in the sheet XML (``cell_errors``) for the Issues table.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable

import pandas as pd

from funnel.analysis import Executor
from workbook.errors import TableNotFound, WorkbookDamaged, WorkbookError, WorkbookTooLarge
from workbook.layout import INPUTS, OUTPUTS
from workbook.package import (
    MAX_SHEET_PART_BYTES,
    TableInfo,
    column_index,
    open_package,
    recover_interrupted_save,
    write_tables,
)
from workbook.table_reader import read_tables, uncached_formulas

__all__ = ["FileBook"]

# An error cell's start tag (check_sheet_cells has made sure every cell starts with r=) and body.
_ERROR_CELL_RE = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"[^>]*?\st="e"[^>/]*(?:/>|>(.*?)</c>)', re.S)
_VALUE_RE = re.compile(rb"<v>([^<]*)</v>")


class FileBook:
    """A workbook file seen through the ``Book`` protocol.

    Args:
        path: the workbook to read.
        out: where ``finish`` saves (the same file for an in-place refresh).
        report: where status lines go (the console's status line, say).
        force: save even when Excel's owner file (``~$<name>`` beside ``out``) says the
            workbook is open in Excel; without it such a workbook is refused at ``finish``
            (``OpenInExcel``) and nothing is written. Reading never looks at it.
        executor: how the writer may render a sheet beside the others (``write_tables``);
            None: in this process.
    """

    def __init__(self, path: str | Path, out: str | Path | None = None, report: Callable[[str], None] | None = None,
                 *, force: bool = False, executor: Executor | None = None) -> None:
        self.path = Path(path)
        self.force = force
        self.executor = executor
        self.out = Path(out) if out is not None else self.path
        self._report = report or (lambda text: None)
        self._written: dict[str, pd.DataFrame] = {}
        self._cache: dict[str, pd.DataFrame] | None = None
        self._other_tables: list[str] = []
        self._errors: list[tuple[str, int, str, str]] = []
        self.message = ""

    def _load(self) -> dict[str, pd.DataFrame]:
        # One pass over the file for every input table: reading the zip once is the cost.
        if self._cache is None:
            recover_interrupted_save(self.path)  # a save killed while copying in place: undo it first
            with open_package(self.path) as pkg:
                present = {name.lower(): name for name in pkg.tables()}
                known = {name.lower() for name in (*INPUTS, *OUTPUTS)}
                self._other_tables = [name for key, name in present.items() if key not in known]
                wanted = [name for name in INPUTS if name.lower() in present]
                by_sheet: dict[str, list[TableInfo]] = {}
                for name in wanted:
                    info = pkg.table(name)
                    by_sheet.setdefault(info.sheet_part, []).append(info)
            self._errors = []
            # Error cells (and formulas without a saved value) are looked for in the sheet XML
            # the reader has already inflated.
            try:
                self._cache = read_tables(self.path, wanted, sheet_hook=lambda part, data: self._errors.extend(
                    _error_cells(data, by_sheet.get(part, [])) + uncached_formulas(data, by_sheet.get(part, []))))
            except (WorkbookDamaged, WorkbookTooLarge):
                raise
            except WorkbookError as exc:
                # A big sheet is read in slices before its CRC is known: garbage from a damaged
                # sheet trips a slice's checks first. Say it is damaged, when it is (only the
                # sheets the error names: an entity bomb elsewhere needs no sheet inflated).
                _refuse_if_damaged(self.path, [part for part in by_sheet if part in str(exc)], exc)
                raise
        return self._cache

    def other_tables(self) -> list[str]:
        """The Excel Tables of the book that are none of ours (after a read: a renamed table)."""
        return list(self._other_tables)

    def read_table(self, name: str) -> pd.DataFrame:
        """The data rows of table ``name`` (see ``workbook.book.Book``)."""
        tables = self._load() if name in INPUTS else None
        if tables is not None:
            if name not in tables:
                # A renamed table is the usual cause: name the tables we do not know.
                others = f"; tables with other names: {', '.join(self._other_tables)}" if self._other_tables else ""
                raise TableNotFound(f"no Excel table named {name} in {self.path.name}{others}")
            return tables[name]
        return read_tables(self.path, [name])[name]

    def cell_errors(self) -> list[tuple[str, int, str, str]]:
        """Excel error values and formulas without a saved value in the input tables'
        data rows, which read as blank cells.

        Returns:
            (table name, sheet row, header as shown, error text such as ``#N/A``, or ``=``
            and the formula) for every such cell, error cells first, in sheet order.
        """
        self._load()
        return list(self._errors)

    def write_table(self, name: str, frame: pd.DataFrame) -> None:
        """Queue ``frame`` as the new body of output table ``name``."""
        self._written[name] = frame

    def status(self, text: str) -> None:
        """Pass progress to the console."""
        self._report(text)

    def finish(self, message: str) -> None:
        """Write every queued table in one atomic save, then report ``message``.

        A workbook built by an older funnel may lack an output table, or columns of one,
        that this version computes; the user may also have deleted an output sheet or
        reordered an output table's columns. The tables present are still refreshed, in
        the column order they have, and the message names what could not be written.
        """
        with open_package(self.path) as pkg:
            present = {name.lower(): info for name, info in pkg.tables().items()}
        frames: dict[str, pd.DataFrame] = {}
        absent: list[str] = []
        narrower: list[str] = []
        for name, frame in self._written.items():
            info = present.get(name.lower())
            if info is None:
                absent.append(name)
                continue
            headers = list(info.columns)
            if [str(c) for c in frame.columns] != headers and set(headers) <= {str(c) for c in frame.columns}:
                extra = [str(c) for c in frame.columns if str(c) not in headers]
                if extra:
                    narrower.append(f"{name} ({', '.join(extra)})")
                frame = frame.rename(columns=str)[headers]
            frames[name] = frame
        write_tables(self.path, self.out, frames, force=self.force, executor=self.executor)
        if absent:
            message += f" Not in this workbook, so not written: {', '.join(absent)}."
        if narrower:
            message += f" Columns this workbook's tables lack, so not written: {'; '.join(narrower)}."
        self.message = message
        self._report(message)


def _refuse_if_damaged(path: Path, sheet_parts: list[str], error: WorkbookError) -> None:
    # Raise WorkbookDamaged (from ``error``) if one of the sheets fails its checks when inflated whole.
    try:
        with open_package(path) as pkg:
            for part in sheet_parts:
                pkg.check_part(part, limit=MAX_SHEET_PART_BYTES)
    except WorkbookDamaged as damaged:
        raise damaged from error
    except WorkbookError:
        pass  # no clearer story than the first error


def _error_cells(data: bytes, tables: list[TableInfo]) -> list[tuple[str, int, str, str]]:
    # Error cells inside the tables' data rows of one sheet's XML; only t="e" is parsed.
    found: list[tuple[str, int, str, str]] = []
    if tables:
        pos = data.find(b't="e"')
        while pos >= 0:
            start = data.rfind(b"<c ", 0, pos)
            m = _ERROR_CELL_RE.match(data, start) if start >= 0 else None
            if m is not None and data.find(b">", start) > pos:  # the t="e" is this cell's own
                row, col = int(m.group(2)), column_index(m.group(1).decode("ascii"))
                value = _VALUE_RE.search(m.group(3) or b"")
                for info in tables:
                    if info.body_first_row <= row <= info.body_last_row and info.first_col <= col <= info.last_col:
                        text = value.group(1).decode("utf-8", "replace") if value else "#error"
                        found.append((info.name, row, info.columns[col - info.first_col], text))
            pos = data.find(b't="e"', pos + 5)
    return found
