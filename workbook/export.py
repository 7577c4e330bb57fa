"""A report's tables as files a colleague opens without funnel: CSV and a plain .xlsx.

Both hold what the workbook's output sheets show (``workbook.mapping.output_frames``):
the same tables, headers in the book's language, the Summary's figures as they read on
the sheet. ``funnel report --format json`` is the machine's view (contract keys, raw
values); these are the reader's.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import pandas as pd
import xlsxwriter

from funnel.analysis import Report
from funnel.inputs.csvsource import safe_text
from workbook.build import Formats
from workbook.layout import OUTPUTS, YES_NO
from workbook.mapping import output_frames
from workbook.package.save import save_atomically, saving

__all__ = ["TABLE_NAMES", "shown_tables", "table_csv", "write_csv_tables", "export_xlsx"]

# The tables a report can be asked for by name, as ``--table`` and the JSON keys spell them
# (once each: the history's note shows on two sheets).
TABLE_NAMES = tuple(dict.fromkeys(layout.table for layout in OUTPUTS.values()))
_LAYOUT_OF = {layout.table: layout for layout in OUTPUTS.values()}


def shown_tables(report: Report, only: list[str] | None = None) -> dict[str, pd.DataFrame]:
    """The output sheets' tables (or only the named ones), keyed by report name, as shown.

    Flags read yes / no in the book's language, as on the sheet.
    """
    language = report.settings.language
    yes, no = YES_NO[language]
    frames = output_frames(report)
    shown = {}
    for name, layout in OUTPUTS.items():
        if name not in frames or (only and layout.table not in only):
            continue
        frame = frames[name].copy()
        if layout.table == "summary":  # one column of mixed values: the date and the rate as they read
            value = frame.columns[1]
            frame[value] = [_summary_text(m, v) for m, v in zip(report.tables["summary"]["metric"], frame[value])]
        for col, header in zip(layout.columns, frame.columns):
            if col.fmt == "flag":
                frame[header] = [None if v is None or pd.isna(v) else (yes if bool(v) else no) for v in frame[header]]
        shown[layout.table] = frame
    return shown


def _summary_text(metric: str, value):
    # The Summary's as-of date and win rate as the sheet shows them; the rest as they are.
    if metric == "as_of":
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if metric == "win_rate":
        return "" if pd.isna(value) else f"{value:.1%}"
    return value


def table_csv(frame: pd.DataFrame) -> str:
    """One shown table as CSV text: dates as YYYY-MM-DD, whole amounts without ``.0``,
    text that a spreadsheet would run as a formula (= + - @) kept as text."""
    out = frame.copy()
    for col in out.columns:
        values = out[col]
        if values.dtype == object or isinstance(values.dtype, pd.StringDtype):
            out[col] = values.map(safe_text)
        elif pd.api.types.is_float_dtype(values) and values.dropna().eq(values.dropna().round()).all():
            out[col] = values.astype("Int64")
    return out.to_csv(index=False, date_format="%Y-%m-%d", lineterminator="\n")


def write_csv_tables(tables: dict[str, pd.DataFrame], folder: Path) -> list[Path]:
    """Write each shown table as ``folder/<name>.csv`` (UTF-8 with a BOM, so that Excel reads
    Chinese headers right); returns the files written.

    Raises:
        OSError: the folder cannot be created or written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        path = folder / f"{name}.csv"
        path.write_text(table_csv(frame), encoding="utf-8-sig")
        written.append(path)
    return written


def export_xlsx(report: Report, path: Path, only: list[str] | None = None, *, force: bool = False) -> Path:
    """Save the shown tables as a plain .xlsx, one sheet per table, saved atomically.

    Each sheet: the table's caption, its headers frozen with a filter, the workbook's
    number formats and column widths.

    Raises:
        OpenInExcel: Excel has ``path`` open (unless ``force``).
        SaveFailed: the disk is full or writing is not permitted; ``path`` is unchanged.
    """
    tables = shown_tables(report, only)
    language = report.settings.language
    with saving(path, force=force) as target:
        save_atomically(target, lambda out: _write_xlsx(out, tables, language, report.settings.currency), target,
                        workbook=path, force=force)
    return path


def _write_xlsx(out: BinaryIO, tables: dict[str, pd.DataFrame], language: str, currency: str) -> None:
    wb = xlsxwriter.Workbook(out, {"strings_to_formulas": False, "strings_to_urls": False, "nan_inf_to_errors": True})
    fmt = Formats(wb, currency, language)
    used: set[str] = set()
    for name, frame in tables.items():
        layout = _LAYOUT_OF[name]
        # A tab holds 31 characters: a longer caption leaves the tab the output sheet's name.
        title = layout.title(language) or layout.sheet(language)
        ws = wb.add_worksheet(_sheet_name(title if len(title) <= 31 else layout.sheet(language), used))
        ws.write(0, 0, title, fmt.caption)
        for c, (col, header) in enumerate(zip(layout.columns, frame.columns)):
            ws.write(2, c, header, fmt.header)
            ws.set_column(c, c, col.width or 12, fmt.by_kind.get(col.fmt, fmt.by_kind["text"]))
            for r, value in enumerate(frame[header], start=3):
                _write_value(ws, r, c, value)
        ws.freeze_panes(3, 0)
        ws.autofilter(2, 0, 2 + max(len(frame), 1), max(len(frame.columns) - 1, 0))
    wb.close()


def _write_value(ws, row: int, col: int, value) -> None:
    # Blanks stay empty cells; the column's format gives numbers and dates their look.
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return
    if isinstance(value, pd.Timestamp):
        ws.write_datetime(row, col, value.to_pydatetime())
    elif hasattr(value, "item"):
        ws.write(row, col, value.item())
    else:
        ws.write(row, col, value)


def _sheet_name(title: str, used: set[str]) -> str:
    # Excel's rules: at most 31 characters, none of []:*?/\ , unique regardless of case.
    base = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip()[:31] or "Table"
    name, n = base, 2
    while name.lower() in used:
        suffix = f" ({n})"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    used.add(name.lower())
    return name
