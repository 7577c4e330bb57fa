"""Between a workbook's tables and the engine's canonical tables, both ways.

``read_inputs`` turns the Excel Tables a ``Book`` holds into the contract's raw tables
(headers in either language -> snake_case keys); ``output_frames`` turns a report into
the output tables a refresh writes (snake_case -> the workbook language's headers,
metric keys -> labels). Both live here once, for the button and the command line.
"""

from __future__ import annotations

import pandas as pd

from funnel.analysis import Report
from funnel.inputs.issues import IssueLog
from funnel.inputs.parsing import fold
from funnel.inputs.periods import NO_CLOSE_DATE, period_of
from workbook.errors import TableNotFound
from workbook.layout import INPUTS, OUTPUTS, header_lookup, metric_label

__all__ = ["read_inputs", "to_canonical", "output_frames"]



def to_canonical(table_name: str, frame: pd.DataFrame, log: IssueLog) -> pd.DataFrame:
    """Rename a sheet table's headers to contract keys; unknown headers stay as they are.

    Two headers that mean the same column are reported and the second is ignored.
    """
    layout = INPUTS[table_name]
    lookup = header_lookup(table_name)
    renamed, seen = {}, {}
    for header in frame.columns:
        text = "" if header is None else str(header)
        key = lookup.get(fold(text).lower())
        if key is None:
            renamed[header] = text.strip() if layout.wide else text
            continue
        if key in seen:
            log.add(layout.table, None, text, "", f"column '{text}' repeats '{seen[key]}'", "second column ignored")
            renamed[header] = f"{text} (ignored)"
            continue
        seen[key] = text
        renamed[header] = key
    out = frame.rename(columns=renamed)
    return out.loc[:, [c for c in out.columns if not str(c).endswith(" (ignored)")]]


def read_inputs(book) -> tuple[dict[str, pd.DataFrame | None], IssueLog]:
    """Read every input table of ``book`` into the contract's raw tables.

    A missing table (a renamed or deleted sheet, a table renamed in Excel) is reported
    and the rest are still read. A book with a ``cell_errors()`` method (``FileBook``)
    has its Excel error values and its formulas without a saved value reported too.

    Returns:
        (raw tables by canonical name, problems found while reading).
    """
    log = IssueLog()
    raw: dict[str, pd.DataFrame | None] = {}
    for name, layout in INPUTS.items():
        try:
            frame = book.read_table(name)
        except TableNotFound as err:
            required = layout.table in ("opportunities",)
            log.add(layout.table, None, "", name, f"the Excel table {name} is missing ({err})",
                    "no deals to analyse" if required else "left out; defaults used")
            raw[layout.table] = None
            continue
        raw[layout.table] = to_canonical(name, frame, log)
    # A file-backed book also sees Excel error values (#N/A, #REF!) and formulas without a
    # saved value, which read as blanks.
    for name, row, header, error in getattr(book, "cell_errors", list)():
        key = header_lookup(name).get(fold(str(header)).lower(), header)
        if error.startswith("="):
            log.add(INPUTS[name].table, row, key, error, "the cell's formula has no saved value (the file was written by a program, "
                    "not saved by Excel)", "read as blank; recalculate in Excel and save, or enter the value")
        else:
            log.add(INPUTS[name].table, row, key, error, f"Excel error {error} in the cell", "read as blank")
    return raw, log


def _display(frame: pd.DataFrame, table_name: str, language: str) -> pd.DataFrame:
    layout = OUTPUTS[table_name]
    out = pd.DataFrame(index=range(len(frame)))
    for col in layout.columns:
        values = frame[col.key] if col.key in frame.columns else pd.Series([None] * len(frame))
        values = values.reset_index(drop=True)
        if col.fmt in ("int",):
            values = pd.to_numeric(values, errors="coerce")
        out[col.header(language)] = values.astype(object).where(values.notna(), None) if values.dtype == object else values
    return out


def _summary_value(metric: str, value):
    # One number format serves the Summary's value column (#,##0), so the as-of date and
    # the win rate are written the way they should read.
    if metric == "as_of":
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if metric == "win_rate":
        return "" if pd.isna(value) else f"{value:.1%}"
    return value


def output_frames(report: Report) -> dict[str, pd.DataFrame]:
    """Every output table a refresh writes, keyed by Excel Table name, headers localized."""
    language = report.settings.language
    frames = {}
    for name, layout in OUTPUTS.items():
        data = report.tables.get(layout.table)
        if data is None:
            continue
        if layout.table == "summary":
            data = data.assign(metric=[metric_label(m, language) for m in data["metric"]],
                               value=[_summary_value(m, v) for m, v in zip(data["metric"], data["value"])])
        if layout.table == "range_forecast":
            # The Summary shows what can still move: the current period and later ones.
            current = period_of(report.settings.as_of, report.settings)
            data = data[(data["period"] >= current) | (data["period"] == NO_CLOSE_DATE)]
        if layout.table == "win_rates":
            data = data.assign(dimension=data["dimension"].str.replace("_", " "))
        frames[name] = _display(data, name, language)
    return frames
