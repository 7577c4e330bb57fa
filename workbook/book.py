"""The one boundary the refresh macro talks to a workbook through.

Two real implementations keep the macro code identical in live Excel and headless:

    Book (protocol)
    ├── XlwingsBook   udfs/xlwings_book.py   the xlwings object model (Excel, or xlwings' remote engine)
    └── FileBook      workbook/filebook.py   a .xlsm file on disk (``funnel refresh``)

The protocol lives on the workbook side, with its one error for a missing table
(``workbook.errors.TableNotFound``), so ``workbook/`` never imports ``udfs/``.

Tables are addressed by their Excel Table name (``tblOpportunities``); frames carry the
headers exactly as the sheet shows them, and the index of a frame read from a book is the
sheet row number of each data row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import pandas as pd

from workbook.errors import TableNotFound

__all__ = ["Book", "TableNotFound"]

@runtime_checkable
class Book(Protocol):
    """What the refresh macro needs from a workbook, nothing more."""

    def read_table(self, name: str) -> pd.DataFrame:
        """The data rows of Excel Table ``name``.

        Columns are the header cells as shown; the index is the sheet row number (1-based)
        of each data row. Empty cells are None/NaN, numbers float, dates datetime
        (or Excel serial numbers where the reader cannot tell).

        Raises:
            TableNotFound: no table of that name.
        """
        ...

    def write_table(self, name: str, frame: pd.DataFrame) -> None:
        """Replace the data rows of output Table ``name`` with ``frame``.

        ``frame``'s columns are the table's headers in order; the table grows or shrinks
        to fit, keeping its anchor cell, header row and column formats.
        """
        ...

    def status(self, text: str) -> None:
        """Show progress (Excel's status bar, or the console)."""
        ...

    def finish(self, message: str) -> None:
        """End the refresh: persist what was written and show the closing message."""
        ...

    @property
    def path(self) -> Path | None:
        """The workbook's file on disk (where its snapshot store goes beside it); None for a
        workbook never saved."""
        ...
