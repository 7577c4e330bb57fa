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

from funnel import catalog
from funnel.analysis import Report, run
from funnel.inputs.refusals import RefreshRefused
from udfs import runtime
from workbook.book import Book
from workbook.importing import book_language
from workbook.mapping import output_frames, read_inputs

__all__ = ["refresh", "refresh_report", "refused_message", "RefreshRefused"]


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
        message = refused_message(err, book_language(caller))
        caller.refuse(message)  # nothing was written: the box says why
        return message


def refused_message(err: RefreshRefused, language: str = "en") -> str:
    """What a refused refresh tells the user, in the book's ``language``: nothing changed,
    and the refusals' message."""
    return catalog.text("message.refused", language, reasons=err.said_in(language))


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
        language = book_language(book)  # what the progress lines are said in, before the settings are read
        book.status(catalog.text("progress.reading", language))
        raw, log = read_inputs(book)
        book.status(catalog.text("progress.computing", language))
        report = run(raw, overrides, log, executor, force=force)
        frames = output_frames(report)
        for i, (name, frame) in enumerate(frames.items(), 1):
            book.status(catalog.text("progress.writing", language, table=name, done=i, tables=len(frames)))
            book.write_table(name, frame)
        message = closing_message(report, len(frames))
        book.finish(message)
    return report, message


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
