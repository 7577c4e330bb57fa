"""The file-backed Book: the refresh macro's boundary over a .xlsm on disk.

``funnel refresh`` hands the very macro the Refresh button runs (``udfs.macros.refresh``)
a FileBook instead of an xlwings Book. Reads come from python-calamine (all input tables
in one pass over the file); writes are collected and land in one atomic save at
``finish`` through the in-place writer, which rewrites only the output tables' parts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd

from udfs.book import TableMissing
from workbook.errors import TableNotFound
from workbook.layout import INPUTS
from workbook.table_reader import read_tables
from workbook.xlsx_package import open_package
from workbook.table_writer import write_tables

__all__ = ["FileBook"]


class FileBook:
    """A workbook file seen through the ``Book`` protocol.

    Args:
        path: the workbook to read.
        out: where ``finish`` saves (the same file for an in-place refresh).
        report: where status lines go (the console's status line, say).
    """

    def __init__(self, path: str | Path, out: str | Path | None = None, report: Callable[[str], None] | None = None) -> None:
        self.path = Path(path)
        self.out = Path(out) if out is not None else self.path
        self._report = report or (lambda text: None)
        self._written: dict[str, pd.DataFrame] = {}
        self._cache: dict[str, pd.DataFrame] | None = None
        self.message = ""

    def _load(self) -> dict[str, pd.DataFrame]:
        # One pass over the file for every input table: reading the zip once is the cost.
        if self._cache is None:
            with open_package(self.path) as pkg:
                present = {name.lower(): name for name in pkg.tables()}
            wanted = [name for name in INPUTS if name.lower() in present]
            self._cache = read_tables(self.path, wanted)
        return self._cache

    def read_table(self, name: str) -> pd.DataFrame:
        """The data rows of table ``name`` (see ``udfs.book.Book``)."""
        tables = self._load() if name in INPUTS else None
        if tables is not None:
            if name not in tables:
                raise TableMissing(f"no Excel table named {name} in {self.path.name}")
            return tables[name]
        try:
            return read_tables(self.path, [name])[name]
        except TableNotFound as err:
            raise TableMissing(str(err)) from None

    def write_table(self, name: str, frame: pd.DataFrame) -> None:
        """Queue ``frame`` as the new body of output table ``name``."""
        self._written[name] = frame

    def status(self, text: str) -> None:
        """Pass progress to the console."""
        self._report(text)

    def finish(self, message: str) -> None:
        """Write every queued table in one atomic save, then report ``message``."""
        write_tables(self.path, self.out, self._written)
        self.message = message
        self._report(message)
