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

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from funnel import catalog
from funnel.analysis import Analysis, Report, run
from funnel.inputs.issues import ISSUE_COLUMNS
from funnel.inputs.refusals import RefreshRefused
from funnel.inputs.settings import Settings
from funnel.inputs.validation import validate
from funnel.snapshots.history import History, history_from_frames
from udfs import runtime
from workbook.book import Book
from workbook.importing import book_language
from workbook.mapping import output_frames, read_inputs
from workbook.store import Recorded, StoreError, book_name, is_off, record_analysis, snapshot_url

__all__ = ["refresh", "refresh_report", "refused_message", "RefreshRefused", "record_snapshot", "Snapshot", "snapshot",
           "snapshot_message", "with_store_history", "history_beside", "read_history"]


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


def snapshot(book: Book | None = None) -> str:
    """The Snapshot button: record the deals and the forecast in the snapshot store without
    rewriting any table (what ``funnel snapshot`` does to a file).

    Args:
        book: the workbook; by default the one whose button called this macro, which then
            shows the message in a box.

    Returns:
        The message: the snapshot recorded, the store already holding it, or why none was.
    """
    if book is not None:
        return snapshot_message(book)
    from udfs.xlwings_book import caller_book

    caller = caller_book()
    message = snapshot_message(caller)
    caller.finish(message)  # nothing was written: the box alone
    return message


def snapshot_message(book: Book) -> str:
    """``snapshot`` on a given workbook: read, analyse, record; the message it shows."""
    with runtime.for_refresh():
        book.status(catalog.text("progress.reading", book_language(book)))
        raw, log = read_inputs(book)
        inputs = validate(raw, None, log)
        language = inputs.settings.language
        if inputs.refusals:
            return catalog.text("message.snapshot_refused", language, why=RefreshRefused(inputs.refusals).said_in(language))
        book.status(catalog.text("progress.recording_snapshot", language))
        report = Report(Analysis(inputs))  # the deals and the forecast only: no output table computed
        snapshot = record_snapshot(book, report, raw.get("settings"))
    if snapshot.problem is not None:
        return catalog.text("message.snapshot_failed", language, why=snapshot.problem)
    return snapshot.said


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
        book.status(catalog.text("progress.recording_snapshot", language))
        snapshot = record_snapshot(book, report, raw.get("settings"))
        # The store's history (read only) for the Changes and Accuracy sheets and the Deal
        # scores' pushes, this refresh's own snapshot included; then the store's Issues row,
        # if it could not be written (the history rebuilds the tables it changes).
        report = with_store_issue(with_store_history(book, report, snapshot.url), snapshot)
        frames = output_frames(report)
        for i, (name, frame) in enumerate(frames.items(), 1):
            book.status(catalog.text("progress.writing", language, table=name, done=i, tables=len(frames)))
            book.write_table(name, frame)
        message = f"{closing_message(report, len(frames))} {snapshot.said}".strip()
        book.finish(message)
    return report, message


@dataclass(frozen=True)
class Snapshot:
    """What a refresh did about its snapshot."""

    recorded: Recorded | None  # None: nothing recorded (no place for a store, or it failed)
    url: str | None  # the store; None when the book has no place for one
    said: str  # the sentence the closing message adds
    problem: str | None = None  # why the store could not be used, in the book's language
    issue: pd.DataFrame | None = None  # the Issues row saying so (``with_store_issue`` adds it)


def record_snapshot(book: Book, report: Report, settings_table: pd.DataFrame | None = None) -> Snapshot:
    """Record the refresh's snapshot (its deals and forecast figures) into the book's store.

    The store is the ``store`` setting, else ``BOOK.funnel.db`` beside the workbook
    (``workbook.store.snapshot_url``). A book never saved has no place for one: the
    snapshot is skipped with a word. A store that cannot be opened or written (locked,
    unwritable, unreachable, from a newer funnel) gives one Issues row (``with_store_issue``)
    and a sentence for the closing message; the refresh itself goes on either way.

    Args:
        book: the workbook refreshed.
        report: the refresh's analysis.
        settings_table: the Settings rows as read (so the Issues row names the ``store`` row).
    """
    settings = report.settings
    language = settings.language
    path = getattr(book, "path", None)
    if is_off(settings.store):
        return Snapshot(None, None, catalog.text("message.refresh_snapshot_off", language))
    if path is None:  # its snapshots would have no name to go under, nor a folder
        return Snapshot(None, None, catalog.text("message.refresh_snapshot_unsaved", language))
    if report.inputs.refusals:  # a forced refresh of refused inputs: no history of half a table
        return Snapshot(None, None, catalog.text("message.refresh_snapshot_forced", language))
    url = snapshot_url(settings.store, path)
    try:
        recorded = record_analysis(url, book_name(path), report.analysis)
    except StoreError as err:
        why = err.message(language)
        row = _setting_row(settings_table, "store")
        issue = pd.DataFrame([("settings", row, "value", settings.store or url, why,
                               catalog.text("issue.action.no_snapshot", language))], columns=list(ISSUE_COLUMNS))
        return Snapshot(None, url, catalog.text("message.refresh_snapshot_failed", language, why=why), why, issue)
    fields = {"id": recorded.id, "as_of": recorded.as_of.isoformat()}
    said = (catalog.text("message.refresh_snapshot", language, changed=recorded.changed, **fields) if recorded.written
            else catalog.text("message.refresh_snapshot_same", language, **fields))
    return Snapshot(recorded, url, said)


def _setting_row(table: pd.DataFrame | None, key: str):
    # The sheet row of a setting in the Settings table as read; None when it has none.
    if table is None or "key" not in table:
        return None
    found = [row for row, k in zip(table.index, table["key"]) if str(k).strip() == key]
    return int(found[0]) if found else None


def with_store_issue(report: Report, snapshot: Snapshot) -> Report:
    """The report with the store's Issues row, when its snapshot could not be recorded: the
    Issues table gains the row and the Summary counts it."""
    if snapshot.issue is None:
        return report
    issues = report.tables.get("issues")
    issues = pd.concat([issues, snapshot.issue], ignore_index=True) if issues is not None and len(issues) \
        else snapshot.issue.copy()
    issues["row"] = pd.to_numeric(issues["row"], errors="coerce").astype("Int64")
    report.tables["issues"] = issues
    summary = report.tables.get("summary")
    if summary is not None and "metric" in summary:  # the Summary counts the issues too
        counted = (summary["metric"] == "issues").to_numpy()
        summary = summary.copy()
        summary["value"] = [v + 1 if c else v for v, c in zip(summary["value"], counted)]
        report.tables["summary"] = summary
    return report


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
    url = snapshot_url(settings.store, path)
    if url is None:
        return None
    return read_history(url, book_name(path) if path is not None else "workbook", settings.language)


def with_store_history(book: Book, report: Report, url: str | None = None) -> Report:
    """The report with the history the book's snapshot store holds (the Changes and Accuracy
    sheets, the Deal scores' pushes); a book without a file, or a store not there, keeps the
    history tables empty with their note. Reads only: ``record_snapshot`` writes the store,
    whose ``url`` this reads where given."""
    path = book.path
    if url is None:
        return report.with_history(history_beside(path, report.settings))
    return report.with_history(read_history(url, book_name(path) if path is not None else "workbook",
                                            report.settings.language))


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
