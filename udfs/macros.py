"""The button macros: what the workbook's Refresh buttons run through xlwings' RunPython.

``refresh`` is the one entry point. It is the same code in live Excel (the book comes from
``xw.Book.caller()``) and headless (``funnel refresh`` passes a file-backed book): read
the input tables, run the analysis, write every output table, say what happened. It also
chooses how the work runs (``udfs.runtime.for_refresh``: the collector paused, pandas
options scoped, the win-model branch in a child process where that is safe).

When a required table or column is missing (``funnel.inputs.refusals``), nothing is
written: ``refresh_report`` raises ``RefreshRefused`` before the first write, and the
button shows its message in Excel instead of a traceback. ``force=True`` (``funnel refresh
--force``) writes what can be computed.
"""

from __future__ import annotations

from pathlib import Path

from funnel import catalog
from funnel.analysis import Report, run
from funnel.inputs.refusals import RefreshRefused
from funnel.inputs.settings import Settings
from funnel.snapshots.history import History, history_from_frames
from udfs import runtime
from workbook.book import Book
from workbook.mapping import output_frames, read_inputs

__all__ = ["refresh", "refresh_report", "refused_message", "RefreshRefused", "with_store_history", "history_beside", "read_history"]


def refresh(book: Book | None = None, overrides: dict[str, str] | None = None, force: bool = False) -> str:
    """Recompute every output table of the workbook from its input tables.

    Args:
        book: the workbook; by default the one whose button called this macro.
        overrides: settings to override for this run only.
        force: refresh even when inputs are refused (see ``refresh_report``).

    Returns:
        The closing message shown to the user.

    Raises:
        RefreshRefused: inputs refused and ``book`` was given (the button's own book
            shows the message in a box instead, and this returns it).
    """
    if book is not None:
        return refresh_report(book, overrides, force)[1]
    from udfs.xlwings_book import caller_book

    caller = caller_book()
    try:
        return refresh_report(caller, overrides, force)[1]
    except RefreshRefused as err:
        message = refused_message(err)
        caller.refuse(message)  # nothing was written: the box says why
        return message


def refused_message(err: RefreshRefused) -> str:
    """What a refused refresh tells the user: nothing changed, and the refusals' message."""
    return f"Nothing was refreshed, the workbook is unchanged: {err}"


def refresh_report(book: Book | None = None, overrides: dict[str, str] | None = None,
                   force: bool = False) -> tuple[Report, str]:
    """``refresh``, also giving the analysis' report (the command line prints from it).

    Raises:
        RefreshRefused: a required table or column is missing or unusable and not
            ``force``; raised before anything is written or ``book.finish`` is called.
    """
    if book is None:
        from udfs.xlwings_book import caller_book

        book = caller_book()
    with runtime.for_refresh() as executor:
        book.status("funnel: reading the input tables...")
        raw, log = read_inputs(book)
        book.status("funnel: computing...")
        report = run(raw, overrides, log, executor, force=force)
        # The store's history (read only) for the Changes and Accuracy sheets and the Deal
        # scores' pushes: after this refresh's own snapshot is recorded, where it is.
        report = with_store_history(book, report)
        frames = output_frames(report)
        for i, (name, frame) in enumerate(frames.items(), 1):
            book.status(f"funnel: writing {name} ({i}/{len(frames)})...")
            book.write_table(name, frame)
        message = closing_message(report, len(frames))
        book.finish(message)
    return report, message


def _book_path(book: Book):
    # The workbook's file: a file-backed book's path, an xlwings book's full name; None for a
    # book on a server or never saved (no folder of its own to keep a store beside).
    path = getattr(book, "path", None)
    if path is None:
        path = getattr(getattr(book, "_book", None), "fullname", None)
    return Path(path) if path is not None and Path(path).is_absolute() else None


def read_history(url: str, name: str, language: str = "en") -> History:
    """What the store at ``url`` holds of the book ``name``, read only (``create=False``: a
    store that is not there stays not there); a store that cannot be read gives an empty
    history saying why."""
    from workbook.store import Store, StoreError

    try:
        with Store(url, create=False) as store:
            snapshots = store.history(name)
            figures = {int(i): store.figures(int(i)) for i in snapshots["id"]}
            return history_from_frames(store.versions(name), snapshots, figures, store.where)
    except StoreError as err:
        return History(where=url, problem=err.message(language))
    except (OSError, ValueError) as err:  # a path the system cannot use: the refresh goes on without history
        return History(where=url, problem=str(err).splitlines()[0] if str(err) else type(err).__name__)


def history_beside(path: Path | None, settings: Settings) -> History | None:
    """What the snapshot store of the book at ``path`` (a workbook or a folder of CSVs) holds:
    the ``store`` setting's store where there is one, else the SQLite file beside the book
    (``workbook.store.default_url``); None for a book without a path and no such setting."""
    from workbook.store import book_name, default_url, store_url

    configured = str(getattr(settings, "store", "") or "").strip()
    if path is None and not configured:
        return None
    url = store_url(configured) if configured else default_url(path)
    return read_history(url, book_name(path) if path is not None else "workbook", settings.language)


def with_store_history(book: Book, report: Report) -> Report:
    """The report with the history the book's snapshot store holds (the Changes and Accuracy
    sheets, the Deal scores' pushes); a book without a file, or a store not there, keeps the
    history tables empty with their note. Reads only: the store is written elsewhere."""
    return report.with_history(history_beside(_book_path(book), report.settings))


def closing_message(report: Report, tables: int) -> str:
    """One short sentence: what was refreshed, how many problems and where to see them."""
    deals = len(report.deals)
    problems = len(report.tables["issues"])
    language = report.settings.language
    if problems:
        outcome = catalog.text("message.problems_found", language, problems=problems)
    else:
        outcome = catalog.text("message.no_problems", language)
    return catalog.text("message.refreshed", language, tables=tables, deals=deals, outcome=outcome)
