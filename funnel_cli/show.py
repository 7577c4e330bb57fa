"""A report's tables on a terminal: each value in its column's format, as many columns as
the terminal holds, the first rows, and a caption saying what was left out.

The words come from the catalog in the book's language; the values are those the
workbook's output sheets show (``workbook.export.shown_tables``).
"""

from __future__ import annotations

import pandas as pd
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from funnel import catalog
from workbook.layout import OUTPUTS, Col

__all__ = ["formatted", "fitted_columns", "show_table"]

_LAYOUT_OF = {layout.table: layout for layout in OUTPUTS.values()}
_GAP = 3  # what rich puts between two columns (a space, the divider, a space)
_TEXT_WIDTH = 40  # a longer text (a problem, the risks) wraps within this width

# A wide table's columns most worth a narrow terminal's room, shown first; the rest follow
# in the sheet's order as far as they fit.
_FIRST_COLUMNS = {
    "forecast_periods": ("period", "open_deals", "weighted", "commit", "best_case", "closed_won", "quota", "attainment"),
    "forecast": ("period", "team", "owner", "weighted", "commit", "closed_won", "quota", "attainment"),
    "forecast_teams": ("period", "team", "weighted", "commit", "closed_won", "quota", "attainment"),
    "stage_stats": ("code", "name", "open_deals", "open_amount", "weighted", "configured", "empirical", "blended",
                    "used", "conversion_to_next"),
    "range_forecast": ("period", "closed_won", "expected", "p10", "p50", "p90", "quota", "prob_reach_quota"),
    "deal_scores": ("id", "stage", "amount", "amount_at_risk", "reason", "used_probability", "basis"),
    "qualification": ("id", "stage", "amount", "urgency_label", "importance_label", "completeness_5w2p", "man_ok",
                      "unanswered"),
    "decision_chain": ("id", "stage", "amount", "role_coverage", "dm_supportive", "roles_missing", "risks"),
    "head_to_head": ("competitor", "met", "won", "lost", "win_rate", "open_amount", "top_lost_reasons"),
    "issues": ("table", "row", "column", "problem", "action", "value"),
}


def formatted(value, fmt: str) -> str:
    """``value`` as its column's format reads: money without decimals and with thousands
    separators, percentages to one decimal, dates as YYYY-MM-DD, blanks empty."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, str) or isinstance(value, bool):
        return str(value)
    number = float(value)
    if fmt == "percent":
        return f"{number:.1%}"
    if fmt == "prob":
        return f"{number:.0%}"
    if fmt in ("money", "int") or number == round(number) and abs(number) >= 1:
        return f"{number:,.0f}"
    if abs(number) >= 100:
        return f"{number:,.0f}"
    return f"{number:.4g}"


def fitted_columns(widths: list[int], room: int) -> int:
    """How many of the leading columns, of these widths, fit side by side in ``room``
    characters (always at least one)."""
    used, count = 0, 0
    for width in widths:
        used += width + (_GAP if count else 0)
        if count and used > room:
            break
        count += 1
    return max(count, 1)


def show_table(console: Console, name: str, frame: pd.DataFrame, language: str, rows: int) -> None:
    """Print one shown table: its caption, the first ``rows`` rows, the columns that fit."""
    layout = _LAYOUT_OF[name]
    first = _FIRST_COLUMNS.get(name, ())
    order = sorted(range(len(layout.columns)), key=lambda i: (
        first.index(layout.columns[i].key) if layout.columns[i].key in first else len(first), i))
    columns: list[Col] = [layout.columns[i] for i in order]
    headers = [frame.columns[i] for i in order]
    cells = [[formatted(v, col.fmt) for v in frame[header].head(rows)] for col, header in zip(columns, headers)]
    widths = [max([cell_len(str(h)), *(cell_len(c) for c in column)]) for h, column in zip(headers, cells)]
    widths = [min(w, _TEXT_WIDTH) if col.fmt == "text" else w for w, col in zip(widths, columns)]
    shown = fitted_columns(widths, console.width - 4)
    title = layout.title(language) or layout.sheet(language)
    table = Table(title=f"{title} [dim]({name})[/]", title_justify="left")
    for col, header in zip(columns[:shown], headers[:shown]):
        right = col.fmt in ("money", "int", "number", "percent", "prob")
        table.add_column(str(header), justify="right" if right else "left", no_wrap=right,
                         max_width=None if right else _TEXT_WIDTH)
    for r in range(min(rows, len(frame))):
        table.add_row(*(cells[c][r] for c in range(shown)))
    notes = []
    if len(frame) > rows:
        notes.append(catalog.text("cli.more_rows", language, shown=rows, rows=len(frame)))
    if not len(frame):
        notes.append(catalog.text("cli.no_rows", language))
    if shown < len(columns):
        notes.append(catalog.text("cli.more_columns", language, columns=len(columns) - shown))
    if notes:
        table.caption = catalog.text("separator.list", language).join(notes)
        table.caption_justify = "left"
    console.print(table)
