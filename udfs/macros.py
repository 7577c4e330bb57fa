"""The button macros: what the workbook's Refresh buttons run through xlwings' RunPython.

``refresh`` is the one entry point. It is the same code in live Excel (the book comes from
``xw.Book.caller()``) and headless (``funnel refresh`` passes a file-backed book): read
the input tables, run the analysis, write every output table, say what happened. It also
chooses how the work runs (``udfs.runtime.for_refresh``: the collector paused, pandas
options scoped, the win-model branch in a child process where that is safe).
"""

from __future__ import annotations

from funnel import catalog
from funnel.analysis import Report, run
from udfs import runtime
from workbook.book import Book
from workbook.mapping import output_frames, read_inputs

__all__ = ["refresh", "refresh_report"]


def refresh(book: Book | None = None, overrides: dict[str, str] | None = None) -> str:
    """Recompute every output table of the workbook from its input tables.

    Args:
        book: the workbook; by default the one whose button called this macro.
        overrides: settings to override for this run only.

    Returns:
        The closing message shown to the user.
    """
    return refresh_report(book, overrides)[1]


def refresh_report(book: Book | None = None, overrides: dict[str, str] | None = None) -> tuple[Report, str]:
    """``refresh``, also giving the analysis' report (the command line prints from it)."""
    if book is None:
        from udfs.xlwings_book import caller_book

        book = caller_book()
    with runtime.for_refresh() as executor:
        book.status("funnel: reading the input tables...")
        raw, log = read_inputs(book)
        book.status("funnel: computing...")
        report = run(raw, overrides, log, executor)
        frames = output_frames(report)
        for i, (name, frame) in enumerate(frames.items(), 1):
            book.status(f"funnel: writing {name} ({i}/{len(frames)})...")
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
