"""Whether the figures can be read as a forecast: what a new book or a CRM import lacks.

A workbook can be free of bad cells and still give a dashboard nobody can use: data two
years old seen as of today (every open deal looks stale, every period past), open deals
with no close date (they fall in no period), no quotas (no attainment, no coverage).
Each such finding is one Issues row, in the book's language, saying what it does to the
figures and what to fill in; nothing is changed.
"""

from __future__ import annotations

import pandas as pd

from funnel import catalog
from funnel.inputs.settings import Settings

__all__ = ["OLD_DATA_DAYS", "latest_data_date", "readiness_issues"]

# Data whose newest date lies more than a quarter before as-of is seen from the wrong day.
OLD_DATA_DAYS = 92

_ISSUE_COLUMNS = ["table", "row", "column", "value", "problem", "action"]


def latest_data_date(dates: list[pd.Series]) -> pd.Timestamp | None:
    """The newest of these date columns (None when they hold no date)."""
    latest = max((d.max() for d in dates if d.notna().any()), default=None)
    return None if latest is None else pd.Timestamp(latest)


def _recorded_dates(deals: pd.DataFrame, stage_history: pd.DataFrame) -> list[pd.Series]:
    # What the data records as done: a deal created, an activity, a stage entered, a deal
    # closed. An open deal's close date is a plan, not a record.
    dates = [deals[col] for col in ("created", "last_activity") if col in deals.columns]
    dates.append(deals.loc[~deals["is_open"], "close_date"])
    if "entered" in stage_history.columns:
        dates.append(stage_history["entered"])
    return dates


def readiness_issues(deals: pd.DataFrame, stage_history: pd.DataFrame, quotas: pd.DataFrame,
                     settings: Settings) -> pd.DataFrame:
    """Issues rows for what keeps the figures from reading as a forecast.

    - ``as_of`` more than ``OLD_DATA_DAYS`` after the newest date in the data;
    - open deals without a close date (counted: they are in no period's forecast);
    - no quota at all while there are open deals (attainment and coverage stay blank).

    Args:
        deals: the deal table (``funnel.forecast.deals.deal_table``).
        stage_history: the validated stage history (its ``entered`` dates).
        quotas: the validated quotas.
        settings: as-of and the language the rows are written in.

    Returns:
        Rows in the issues table's columns, with no row number (they are about a table).
    """
    language = settings.language
    rows = []
    as_of = pd.Timestamp(settings.as_of)
    latest = latest_data_date(_recorded_dates(deals, stage_history))
    if latest is not None and (as_of - latest).days > OLD_DATA_DAYS:
        rows.append(("settings", None, "as_of", f"{as_of:%Y-%m-%d}",
                     catalog.text("readiness.old_data", language, latest=f"{latest:%Y-%m-%d}",
                                  days=f"{(as_of - latest).days:,}"),
                     catalog.text("readiness.old_data_action", language, latest=f"{latest:%Y-%m-%d}")))
    is_open = deals["is_open"]
    no_date = int((is_open & deals["close_date"].isna()).sum())
    if no_date:
        rows.append(("opportunities", None, "close_date", f"{no_date:,} / {int(is_open.sum()):,}",
                     catalog.text("readiness.no_close_date", language, deals=f"{no_date:,}", open=f"{int(is_open.sum()):,}"),
                     catalog.text("readiness.no_close_date_action", language)))
    if is_open.any() and not len(quotas):
        rows.append(("quotas", None, "quota", "", catalog.text("readiness.no_quotas", language),
                     catalog.text("readiness.no_quotas_action", language)))
    return pd.DataFrame(rows, columns=_ISSUE_COLUMNS)
