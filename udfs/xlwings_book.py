"""The :class:`~workbook.book.Book` boundary on xlwings' object model.

One class serves two very different transports with the same code:

* **live Excel** (Windows/macOS, ``RunPython``): every call below goes straight to Excel;
* **xlwings' remote-interpreter engine** (xlwings Server / Lite, ``xw.Book(json=payload)``):
  the book is a *snapshot* the client sent as JSON, reads come from that snapshot, and
  every write is queued as an action in ``book.json()`` for the client to replay in Excel.

Only object-model calls both engines implement are used: ``book.sheets``,
``sheet.tables``, ``table.range`` / ``header_row_range`` / ``data_body_range`` /
``totals_row_range``, ``table.resize``, ``sheet.range(...).options(...).value``,
``range.clear_contents`` and ``app.status_bar`` / ``app.alert``. Where the remote engine
falls short the code says so in a one-line comment; ``docs/xlwings_remote.md`` has the
details (payload format, supported calls, limits).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import xlwings as xw

from workbook.errors import TableNotFound

__all__ = ["XlwingsBook", "caller_book"]

logger = logging.getLogger(__name__)

# Title of the closing message box.
_MESSAGE_TITLE = "Funnel"


@dataclass(frozen=True)
class _TableGeometry:
    """Where an Excel Table sits, in 1-based sheet coordinates."""

    sheet: xw.Sheet
    header_row: int | None  # None when the table's header row is switched off
    first_column: int
    column_count: int
    first_body_row: int  # the row right under the header, even while the table is empty
    body_rows: int  # 0 when Excel reports no DataBodyRange
    has_totals: bool

    @property
    def last_column(self) -> int:
        return self.first_column + self.column_count - 1


class XlwingsBook:
    """A workbook reached through xlwings: live Excel or xlwings' remote engine.

    Tables are looked up by name across all sheets (Excel Table names are unique per
    workbook and case-insensitive). A frame read from a table is indexed by sheet row
    number: the first data row is the header row + 1.

    Remote engine caveats (none of them apply to live Excel):

    * the book is the snapshot the client sent, so ``read_table`` after ``write_table``
      on the same table returns the values as they were *before* the write;
    * nothing reaches Excel until the server returns ``book.json()`` to the client.

    Args:
        book: An open ``xw.Book``, from ``xw.Book.caller()`` (live Excel) or
            ``xw.Book(json=payload)`` (remote engine).
    """

    def __init__(self, book: xw.Book) -> None:
        self._book = book
        # Flips to False the first time the engine refuses a status bar (remote engine).
        self._has_status_bar = True
        # Data rows each table has after our own write_table, by casefolded name: the
        # remote engine's snapshot does not see our resize, so a second write needs this.
        self._rows_written: dict[str, int] = {}

    @property
    def book(self) -> xw.Book:
        """The wrapped ``xw.Book`` (e.g. for ``book.json()`` in a server endpoint)."""
        return self._book

    @property
    def path(self) -> Path | None:
        """The workbook's file; None for one never saved (Excel names it "Book1", no folder)
        or one the remote engine sent (it has no file here)."""
        try:
            fullname = self._book.fullname
        except Exception:  # noqa: BLE001 - the remote engine may not know one
            return None
        path = Path(str(fullname)) if fullname else None
        return path if path is not None and path.is_absolute() and path.exists() else None

    def read_table(self, name: str) -> pd.DataFrame:
        """The data rows of Excel Table ``name``, read in one call.

        Columns are the header cells as shown; the index is the sheet row number of
        each data row (header row + 1, + 2, ...). Empty cells are NaN/NaT/None, numbers
        float, dates ``datetime64`` (the remote engine turns the ISO strings the client
        sends into datetimes, exactly as its ``.value`` conversion does). A table with no
        data rows gives an empty frame with the header columns.

        Args:
            name: The Excel Table name, e.g. ``"tblOpportunities"`` (any case).

        Returns:
            One row per data row of the table (a totals row is left out).

        Raises:
            TableNotFound: The workbook has no table of that name.
            ValueError: The table's header row is switched off, so it has no columns.
        """
        table, geometry = self._find_table(name)
        if geometry.header_row is None:
            raise ValueError(f"Excel Table {name!r} has its header row switched off.")
        # One read for header and body together: on the remote engine every .value call
        # rebuilds a tuple of the whole sheet, so two reads would double the cost.
        values = table.range.options(ndim=2).value
        headers = values[0]
        body = values[1 : 1 + geometry.body_rows]
        index = pd.RangeIndex(geometry.first_body_row, geometry.first_body_row + len(body))
        frame = pd.DataFrame(body, columns=headers, index=index)
        return _numbers_as_float(frame)

    def write_table(self, name: str, frame: pd.DataFrame) -> None:
        """Replace the data rows of output Table ``name`` with ``frame``.

        The table keeps its anchor cell and header row and grows or shrinks to
        ``len(frame)`` data rows (at least one: an Excel Table with a header keeps one
        data row, which stays blank for an empty frame). Rows it gives up are cleared
        (contents only). Values go in with one ``setValues`` per 100,000 cells.

        Args:
            name: The Excel Table name (any case).
            frame: Columns are the table's headers; if they come in another order they
                are put in header order. The index is not written.

        Raises:
            TableNotFound: The workbook has no table of that name.
            ValueError: The frame's columns are not the table's headers, the table has
                no header row, or it shows a totals row (not supported for output tables).
        """
        table, geometry = self._find_table(name)
        if geometry.header_row is None:
            raise ValueError(f"Excel Table {name!r} has its header row switched off.")
        if geometry.has_totals:
            # Resizing would have to move the totals row; output tables don't have one.
            raise ValueError(f"Output table {name!r} shows a totals row; switch it off.")
        headers = table.header_row_range.options(ndim=1).value
        frame = _in_header_order(frame, headers, name)

        key = name.casefold()
        old_rows = self._rows_written.get(key, geometry.body_rows)
        new_rows = max(len(frame), 1)
        sheet = geometry.sheet
        # Resize first: Excel does not stretch a table over values code writes below
        # it, and the remote client replays the queued actions in this order.
        table.resize(
            sheet.range(
                (geometry.header_row, geometry.first_column),
                (geometry.header_row + new_rows, geometry.last_column),
            )
        )
        if old_rows > len(frame):
            # Clear after the resize, as xlwings' own Table.update does: the freed rows
            # are then outside the table, and an empty frame blanks the row it keeps.
            sheet.range(
                (geometry.first_body_row + len(frame), geometry.first_column),
                (geometry.first_body_row + old_rows - 1, geometry.last_column),
            ).clear_contents()
        if len(frame):
            sheet.range((geometry.first_body_row, geometry.first_column)).options(
                index=False, header=False
            ).value = frame
        self._rows_written[key] = new_rows

    def status(self, text: str) -> None:
        """Show progress in Excel's status bar, or log it where there is none.

        Args:
            text: A short progress line, e.g. ``"Reading opportunities..."``.
        """
        if self._has_status_bar:
            try:
                self._book.app.status_bar = text
                return
            except NotImplementedError:
                # Office.js has no status bar, so the remote engine refuses the setter.
                self._has_status_bar = False
        logger.info("%s", text)

    def finish(self, message: str) -> None:
        """End the refresh: give the status bar back and show ``message`` in a box.

        Nothing needs saving here. In live Excel the writes are already in the open
        workbook, and saving it stays the user's decision (it would also commit their
        own unsaved edits). On the remote engine the writes are the queued actions that
        the server returns with ``book.json()``; the message box is queued as the last
        of them, so it appears once the client has applied the writes.

        Args:
            message: The closing message, e.g. ``"Refreshed 1,204 opportunities."``.
        """
        self._close(message, "info")

    def refuse(self, message: str) -> None:
        """End a refresh that wrote nothing: give the status bar back and show why.

        Like ``finish``, in a warning box; nothing was queued before it.

        Args:
            message: Why nothing was refreshed, naming the table, the column and the fix.
        """
        self._close(message, "critical")

    def _close(self, message: str, mode: str) -> None:
        # The status bar back to Excel, then the message box (queued last on the remote engine).
        if self._has_status_bar:
            try:
                # False hands the status bar back to Excel's own messages.
                self._book.app.status_bar = False
            except NotImplementedError:
                self._has_status_bar = False
        if self._book.app.engine.type == "remote":
            # The remote App.alert queues on whichever book was opened last in this
            # process, so queue the same "alert" action on this book directly.
            self._book.impl.append_json_action(
                func="alert", args=[message, _MESSAGE_TITLE, "ok", mode, ""]
            )
        else:
            self._book.app.alert(message, title=_MESSAGE_TITLE, buttons="ok", mode=mode)

    def _find_table(self, name: str) -> tuple[xw.main.Table, _TableGeometry]:
        # Iterating works on every engine; sheet.tables[name] raises engine-specific errors.
        wanted = name.casefold()
        for sheet in self._book.sheets:
            for table in sheet.tables:
                if table.name.casefold() == wanted:
                    return table, _geometry(sheet, table)
        raise TableNotFound(
            f"No Excel Table named {name!r} in workbook {self._book.name!r}."
        )


def caller_book() -> XlwingsBook:
    """The workbook that ran the macro (``xw.Book.caller()``), as a :class:`Book`.

    Returns:
        An :class:`XlwingsBook` on the calling workbook.
    """
    return XlwingsBook(xw.Book.caller())


# Position and size of a table, from the ranges both engines report.
def _geometry(sheet: xw.Sheet, table: xw.main.Table) -> _TableGeometry:
    whole = table.range
    header = table.header_row_range
    body = table.data_body_range
    header_row = header.row if header is not None else None
    return _TableGeometry(
        sheet=sheet,
        header_row=header_row,
        first_column=whole.column,
        column_count=whole.shape[1],
        first_body_row=body.row if body is not None else whole.row + (header is not None),
        body_rows=body.shape[0] if body is not None else 0,
        has_totals=table.totals_row_range is not None,
    )


# Whole-number columns arrive as int (the JSON client sends 3, not 3.0); the Book
# contract says numbers are float, so they become float like every other number.
def _numbers_as_float(frame: pd.DataFrame) -> pd.DataFrame:
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if pd.api.types.is_integer_dtype(column.dtype):
            frame.isetitem(position, column.astype("float64"))
        elif column.dtype == object:
            frame.isetitem(position, column.map(_int_as_float))
    return frame


# One cell of a mixed column: int to float, everything else (bool included) unchanged.
def _int_as_float(value: object) -> object:
    return float(value) if type(value) is int else value


# The frame with its columns in header order; anything else is refused, not guessed.
def _in_header_order(frame: pd.DataFrame, headers: list, name: str) -> pd.DataFrame:
    if list(frame.columns) == headers:
        return frame
    if len(frame.columns) == len(headers) and set(frame.columns) == set(headers):
        return frame[headers]
    missing = [h for h in headers if h not in set(frame.columns)]
    extra = [c for c in frame.columns if c not in set(headers)]
    raise ValueError(
        f"Columns do not match the headers of table {name!r}: "
        f"missing {missing}, unexpected {extra}."
    )
