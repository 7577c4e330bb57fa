"""Tables as xlwings hands a range to a UDF, and the demo's UDF calls, for the UDF tests
and bench/worksheet_functions.py.

A 2-D list with the header row first, None for blank cells, floats for every number,
dates as datetimes (classic Excel) or serial numbers (Office.js), yes/no flags as the
words the workbook's dropdowns hold, and, for a whole-column reference, blank rows under
the data.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

import pandas as pd

from udfs.functions import (
    FUNNEL_DEAL_WIN_PROBABILITY,
    FUNNEL_FORECAST_RANGE,
    FUNNEL_HEAD_TO_HEAD,
    FUNNEL_STAGE_PROBABILITY,
    FUNNEL_WEIGHTED_PIPELINE,
    FUNNEL_WIN_RATE,
)
from workbook.layout import INPUTS, YES_NO

BLANK_ROWS = 3  # rows a whole-column reference brings under the data


def with_blank_rows(rows: list[list]) -> list[list]:
    """A table as a whole-column reference passes it: blank rows under the data."""
    return rows + [[None] * len(rows[0]) for _ in range(BLANK_ROWS)]


def excel_cells(table_name: str, frame: pd.DataFrame, dates_as_serials: bool = False) -> list[list]:
    """A canonical table as xlwings passes its range: header row, floats, None for blanks."""
    columns = [c for c in INPUTS[table_name].columns if c.key in frame.columns]
    yes, no = YES_NO["en"]
    rows = [[c.en for c in columns]]
    for record in frame[[c.key for c in columns]].itertuples(index=False):
        row = []
        for col, value in zip(columns, record):
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                row.append(None)
            elif isinstance(value, str):
                row.append(str(value))
            elif col.fmt == "flag":
                row.append(yes if value else no)
            elif col.fmt == "date" or isinstance(value, (pd.Timestamp, dt.date)):
                day = pd.Timestamp(value)
                row.append(float((day - pd.Timestamp("1899-12-30")).days) if dates_as_serials else day.to_pydatetime())
            elif isinstance(value, (int, float)) or hasattr(value, "item"):
                row.append(float(value))
            else:
                row.append(value)
        rows.append(row)
    return with_blank_rows(rows)


def demo_cells(tables: dict[str, pd.DataFrame]) -> dict[str, list[list]]:
    """The demo's input tables as Excel passes them to a UDF (history dates as serials)."""
    return {
        "opportunities": excel_cells("tblOpportunities", tables["opportunities"]),
        "stages": excel_cells("tblStages", tables["stages"]),
        "history": excel_cells("tblStageHistory", tables["stage_history"], dates_as_serials=True),
        "settings": excel_cells("tblSettings", tables["settings"]),
    }


def demo_calls(cells: dict[str, list[list]], open_deal: str) -> dict[str, Callable[[], object]]:
    """One call of each table-reading UDF on the demo's cells, by name."""
    opportunities, stages, history, settings = (cells[k] for k in ("opportunities", "stages", "history", "settings"))
    return {
        "FUNNEL_STAGE_PROBABILITY": lambda: FUNNEL_STAGE_PROBABILITY("I", stages, opportunities, history, None, None, settings),
        "FUNNEL_WEIGHTED_PIPELINE": lambda: FUNNEL_WEIGHTED_PIPELINE(opportunities, stages, "2026-Q4", "Li Wei", None, settings, history),
        "FUNNEL_WIN_RATE": lambda: FUNNEL_WIN_RATE(opportunities, stages, None, None, None, settings),
        "FUNNEL_WIN_RATE by owner": lambda: FUNNEL_WIN_RATE(opportunities, stages, "2025-01-01", None, "Owner", settings),
        "FUNNEL_FORECAST_RANGE": lambda: FUNNEL_FORECAST_RANGE(opportunities, stages, "2026-Q4", None, None, settings, history),
        "FUNNEL_HEAD_TO_HEAD": lambda: FUNNEL_HEAD_TO_HEAD(opportunities, stages, None, None, settings, history),
        "FUNNEL_DEAL_WIN_PROBABILITY": lambda: FUNNEL_DEAL_WIN_PROBABILITY(open_deal, opportunities, stages, history, settings),
    }
