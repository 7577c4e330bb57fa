"""Putting an imported CRM export into a workbook's input tables.

A new workbook is built around the import. An existing one has its ``tblOpportunities``
merged by deal id (``funnel.crm.importers.merge_into``: re-importing the same export changes
nothing), its ``tblStageHistory`` extended with the history rows it did not have and its
``tblPeople`` with the people it did not list (an export naming each rep's manager);
both are rewritten by the same in-place writer a refresh uses, so every other part of
the file (the user's sheets, VBA, buttons, validations) stays byte-identical.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from funnel.crm.importers import ImportResult, merge_into
from funnel.inputs.issues import IssueLog
from funnel.inputs.settings import Settings
from funnel.inputs.validation import validate_stages
from workbook.build import new_workbook
from workbook.filebook import FileBook
from workbook.layout import INPUTS, YES_NO
from workbook.mapping import to_canonical
from workbook.package import write_tables

__all__ = ["import_into_workbook", "merged_tables", "book_language", "book_scheme", "sheet_frame"]


def sheet_frame(table_name: str, frame: pd.DataFrame, language: str) -> pd.DataFrame:
    """A canonical input table in the sheet's shape: headers in ``language``, yes/no flags.

    Columns the layout does not know (a wide table's vendor columns) keep their names.
    """
    layout = INPUTS[table_name]
    yes, no = YES_NO[language]
    out = pd.DataFrame(index=range(len(frame)))
    for col in layout.columns:
        values = frame[col.key].reset_index(drop=True) if col.key in frame.columns else pd.Series([None] * len(frame))
        if col.fmt == "flag":
            values = values.map(lambda v: None if v is None or (not isinstance(v, str) and pd.isna(v)) else (yes if _truthy(v) else no))
        out[col.header(language)] = values.astype(object).where(values.notna(), None)
    return out


def _truthy(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"yes", "y", "true", "1", "是", "x"}
    return bool(value)


def book_language(book) -> str:
    """The language a workbook's Settings name (``en`` when they name none)."""
    try:
        settings = book.read_table("tblSettings")
    except LookupError:
        return "en"
    for key, value in zip(settings.iloc[:, 0], settings.iloc[:, 1]):
        if str(key).strip() == "language" and str(value).strip() in ("en", "zh-CN"):
            return str(value).strip()
    return "en"


def book_scheme(path: str | Path, language: str = "en") -> tuple[str, pd.DataFrame | None]:
    """The language and stage scheme an import into ``path`` goes into: an existing
    workbook's own (its Settings' language, its Stage scheme as a refresh reads it), else
    ``language`` and None (a new workbook gets the default scheme).

    Raises:
        workbook.errors.WorkbookError: the workbook exists but cannot be read.
    """
    path = Path(path)
    if not path.exists():
        return language, None
    book = FileBook(path)
    try:
        raw = book.read_table("tblStages")
    except LookupError:
        return book_language(book), None
    return book_language(book), validate_stages(to_canonical("tblStages", raw, IssueLog()))


def merged_tables(result: ImportResult, book, language: str) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """What an import leaves in ``book``'s input tables (a file or an open workbook: anything
    with ``read_table``), in the sheets' shape: ``tblOpportunities`` merged by deal id, and
    ``tblStageHistory`` with the rows it did not have (when the export has stage dates),
    ``tblPeople`` with the people it did not list (when the export names managers: a person
    the book lists keeps the reports-to the user gave).

    Returns:
        The tables to write, by Excel Table name, and the counts: added, updated, unchanged,
        not_in_import, skipped deals, history_added and people_added.
    """
    log = IssueLog()  # the book's own cells were checked when it was refreshed: not reported here
    existing = to_canonical("tblOpportunities", book.read_table("tblOpportunities"), log)
    existing = existing[existing.notna().any(axis=1)]  # the table's blank placeholder row
    merged, counts = merge_into(existing, result)
    frames = {"tblOpportunities": sheet_frame("tblOpportunities", merged, language)}
    counts["history_added"] = 0
    history = result.tables.get("stage_history")
    if history is not None and len(history):
        old = to_canonical("tblStageHistory", book.read_table("tblStageHistory"), log)
        old = old[old.notna().any(axis=1)]
        key = ["opportunity_id", "stage", "entered"]
        seen = set(map(tuple, old[key].astype(str).to_numpy())) if len(old) else set()
        fresh = history[[tuple(r) not in seen for r in history[key].astype(str).to_numpy()]]
        counts["history_added"] = len(fresh)
        frames["tblStageHistory"] = sheet_frame("tblStageHistory", pd.concat([old, fresh], ignore_index=True), language)
    counts["people_added"] = 0
    people = result.tables.get("people")
    if people is not None and len(people):
        try:
            old = to_canonical("tblPeople", book.read_table("tblPeople"), log)
        except LookupError:  # a book from before the People sheet: nowhere to put them
            return frames, counts
        old = old[old.notna().any(axis=1)]
        listed = set(old["person"].dropna().astype(str).str.strip()) if len(old) else set()
        fresh = people[~people["person"].astype(str).str.strip().isin(listed)]
        counts["people_added"] = len(fresh)
        if len(fresh):
            frames["tblPeople"] = sheet_frame("tblPeople", pd.concat([old, fresh], ignore_index=True), language)
    return frames, counts


def import_into_workbook(result: ImportResult, path: str | Path, language: str = "en", *,
                         force: bool = False, settings: Settings | None = None) -> dict[str, int]:
    """Write an import into the workbook at ``path`` (built first, with ``settings``, when it
    does not exist; an existing workbook keeps its own); ``force``: even when Excel's owner
    file says the workbook is open.

    Returns:
        Counts: added, updated, unchanged, not_in_import, skipped deals, history_added and
        people_added.

    Raises:
        workbook.errors.WorkbookError: the workbook cannot be read or updated safely.
    """
    path = Path(path)
    history = result.tables.get("stage_history")
    if not path.exists():
        merged, counts = merge_into(None, result)
        tables = {"opportunities": merged}
        if history is not None:
            tables["stage_history"] = history
        people = result.tables.get("people")
        if people is not None:
            tables["people"] = people
        new_workbook(path, language, tables, settings, force=force)
        counts["history_added"] = 0 if history is None else len(history)
        counts["people_added"] = 0 if people is None else len(people)
        return counts

    book = FileBook(path)
    frames, counts = merged_tables(result, book, book_language(book))
    write_tables(path, path, frames, force=force)
    return counts
