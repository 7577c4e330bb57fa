"""Backfill: past snapshots of a book, so that day one already has history.

A *deal history* says, row by row, what a deal's stage, amount or close date became on a
day (``HISTORY_COLUMNS``; a blank cell: that field did not change in this row). It comes
from the Stage history table (stage changes with dates, ``stage_changes``), from a CRM's
history export (Salesforce's Opportunity History, HubSpot's property history:
``funnel.crm.history``) or from the demo generator.

The deals as they stood on a past day (``deals_on``):

- a deal is there from its first known day (its ``created`` date or its first history row,
  whichever is earlier); a deal with neither is there all along;
- each of stage, amount and close date is the deal's last history value on or before the
  day; before its first value, that first value; a field the history never names is the
  deal's value now ("as known now");
- everything else (owner, team, overrides, ...) is as it is now.

``reconstructed_state`` then runs the deal table of the stage method over those deals and
keeps the tracked fields, the same fields a refresh records (``tracked_fields``), so that
the day's snapshot can be recorded like any other, marked as reconstructed in the store.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from funnel.forecast.deals import deal_table
from funnel.forecast.pipeline import quota_table, weighted_pipeline
from funnel.forecast.ranges import range_forecast
from funnel.inputs.periods import period_of
from funnel.inputs.settings import Settings
from funnel.snapshots.figures import forecast_figures
from funnel.snapshots.versions import tracked_fields

__all__ = ["HISTORY_COLUMNS", "HISTORY_FIELDS", "DEFAULT_WEEKS", "weekly_dates", "stage_changes", "deals_on",
           "reconstructed_state", "reconstructed_snapshot", "empty_history",
           "combined_history", "change_days", "ordered_history"]

# The fields a deal history can say changed; the rest of a deal is taken as known now.
HISTORY_FIELDS = ("stage", "amount", "close_date")
HISTORY_COLUMNS = ("deal_id", "changed_on", *HISTORY_FIELDS)
# How many weeks a backfill goes back unless told otherwise: a quarter.
DEFAULT_WEEKS = 13
# A reconstructed snapshot's range forecast covers the periods starting this many days after
# its day at most: forecast accuracy looks at most 90 days ahead of a period's end.
RANGE_AHEAD_DAYS = 92


def weekly_dates(as_of: dt.date, weeks: int) -> list[dt.date]:
    """The ``weeks`` days one, two, ... weeks before ``as_of``, oldest first (``as_of``
    itself is not one: that is the refresh's own snapshot)."""
    if weeks < 0:
        raise ValueError(f"weeks must be 0 or more, got {weeks}")
    return [as_of - dt.timedelta(days=7 * k) for k in range(weeks, 0, -1)]


def empty_history() -> pd.DataFrame:
    """A deal history without rows, typed."""
    return pd.DataFrame({"deal_id": pd.Series(dtype=object), "changed_on": pd.Series(dtype="datetime64[ns]"),
                         "stage": pd.Series(dtype=object), "amount": pd.Series(dtype=float),
                         "close_date": pd.Series(dtype="datetime64[ns]")})


def stage_changes(stage_history: pd.DataFrame) -> pd.DataFrame:
    """The Stage history table (``opportunity_id``, ``stage``, ``entered``) as a deal history
    of stage changes (amount and close date blank), in the table's row order."""
    out = empty_history().reindex(range(len(stage_history)))
    out["deal_id"] = stage_history["opportunity_id"].astype(object).to_numpy()
    out["changed_on"] = pd.to_datetime(stage_history["entered"]).dt.normalize().to_numpy()
    out["stage"] = stage_history["stage"].astype(object).to_numpy()
    return out


def combined_history(exact: pd.DataFrame, fallback: pd.DataFrame) -> pd.DataFrame:
    """A deal history from two: every row of ``exact`` (a CRM's history export), and the rows of
    ``fallback`` (the Stage history's stage changes) of the deals ``exact`` says nothing of."""
    covered = set(exact["deal_id"].astype(str))
    rest = fallback[~fallback["deal_id"].astype(str).isin(covered)]
    parts = [frame.loc[:, list(HISTORY_COLUMNS)] for frame in (exact, rest) if len(frame)]
    return pd.concat(parts, ignore_index=True) if parts else empty_history()


def change_days(history: pd.DataFrame, first: dt.date, before: dt.date) -> list[dt.date]:
    """The days on which the history changed something, from ``first`` on and before
    ``before``, in order: a snapshot on each gives the deals' exact versions."""
    days = pd.to_datetime(history["changed_on"]).dropna().dt.normalize()
    days = days[(days >= pd.Timestamp(first)) & (days < pd.Timestamp(before))]
    return [d.date() for d in sorted(set(days))]


def _ordered(history: pd.DataFrame) -> pd.DataFrame:
    # By deal, then day; rows of one day keep their order (the later row is the later change).
    # A history ordered already (``ordered_history``) is taken as it is.
    if "_row" in history.columns:
        return history
    h = history.loc[:, list(HISTORY_COLUMNS)].copy()
    h["changed_on"] = pd.to_datetime(h["changed_on"]).dt.normalize()
    h["deal_id"] = h["deal_id"].astype(str)
    h["_row"] = np.arange(len(h))
    return h.dropna(subset=["changed_on"]).sort_values(["deal_id", "changed_on", "_row"], kind="stable")


def ordered_history(history: pd.DataFrame) -> pd.DataFrame:
    """The history sorted once for ``deals_on`` on many days (by deal, then day, rows of one day
    in their order; a row without a day dropped): the same answers, without sorting per day."""
    return _ordered(history)


def deals_on(opportunities: pd.DataFrame, history: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """The opportunities as they stood on ``day`` (the module's rules), in their row order.

    Args:
        opportunities: validated opportunities (now).
        history: a deal history (``HISTORY_COLUMNS``); rows of deals not in
            ``opportunities`` are ignored.
        day: the past day.

    Returns:
        The rows of the deals there on ``day``, index kept, with stage, amount and close date
        as they were.
    """
    when = pd.Timestamp(day)
    h = _ordered(history)
    ids = opportunities["id"].astype(str)
    first_row = h.groupby("deal_id", sort=False)["changed_on"].min()
    born = pd.concat([pd.to_datetime(opportunities["created"]).dt.normalize().set_axis(ids.to_numpy()),
                      first_row]).groupby(level=0).min() if len(opportunities) else pd.Series(dtype="datetime64[ns]")
    born_of = born.reindex(ids.to_numpy()).to_numpy()
    there = pd.isna(born_of) | (born_of <= when.to_datetime64())
    out = opportunities[there].copy()
    out_ids = out["id"].astype(str)
    for field in HISTORY_FIELDS:
        known = h[h[field].notna()]
        if known.empty:
            continue
        before = known[known["changed_on"] <= when].groupby("deal_id", sort=False)[field].last()
        first = known.groupby("deal_id", sort=False)[field].first()
        value = before.reindex(out_ids.to_numpy())
        fallback = first.reindex(out_ids.to_numpy())
        value = value.where(value.notna(), fallback)
        has = value.notna().to_numpy()
        if field == "close_date":
            new = pd.to_datetime(value).to_numpy()
            out[field] = np.where(has, new, pd.to_datetime(out[field]).to_numpy())
            out[field] = pd.to_datetime(out[field])
        elif field == "amount":
            out[field] = np.where(has, pd.to_numeric(value, errors="coerce").to_numpy(float), out[field].to_numpy(float))
        else:
            out[field] = np.where(has, value.to_numpy(object), out[field].to_numpy(object))
    return out


def _stage_deals(opportunities: pd.DataFrame, stages: pd.DataFrame, probabilities: pd.DataFrame,
                 settings: Settings) -> pd.DataFrame:
    return deal_table(opportunities, stages, probabilities, settings)


def reconstructed_state(opportunities: pd.DataFrame, history: pd.DataFrame, day: dt.date, stages: pd.DataFrame,
                        probabilities: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """The tracked fields of the deals as they stood on ``day`` (``deals_on``), forecast by
    the stage method: the probability each deal's stage then has (``Analysis.stage_probabilities``
    under the Settings' probability method; an override as known now), its weighted amount,
    its stage's forecast category.

    Returns:
        ``tracked_fields`` of those deals: one row per deal, sorted by deal id.
    """
    return tracked_fields(_stage_deals(deals_on(opportunities, history, day), stages, probabilities, settings))


def reconstructed_snapshot(opportunities: pd.DataFrame, history: pd.DataFrame, day: dt.date, stages: pd.DataFrame,
                           probabilities: pd.DataFrame, settings: Settings,
                           quotas: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What a snapshot on ``day`` records, reconstructed: the tracked fields
    (``reconstructed_state``) and the forecast figures (``FIGURE_COLUMNS``) of the deals as
    they stood then, by the stage method: per period x team x owner, period totals and the
    range forecast's P10 / P50 / P90, as ``forecast_figures`` records them for a refresh, for the
    day's period and the periods starting within ``RANGE_AHEAD_DAYS`` after it."""
    deals = _stage_deals(deals_on(opportunities, history, day), stages, probabilities, settings)
    forecast = weighted_pipeline(deals, quotas, ["period", "team", "owner"])
    periods = weighted_pipeline(deals, quotas, ["period"])
    # The range (the costly part) only where forecast accuracy reads it: the day's period and
    # those starting within RANGE_AHEAD_DAYS of it; later periods' P10 / P50 / P90 stay blank.
    first, last = period_of(day, settings), period_of(day + dt.timedelta(days=RANGE_AHEAD_DAYS), settings)
    label = deals["period"].astype(str)
    near = deals[(label >= first) & (label <= last)]
    quota = quota_table(quotas, deals, ["period"]) if not deals.empty else pd.Series(dtype=float)
    quota = quota[(quota.index.astype(str) >= first) & (quota.index.astype(str) <= last)]
    return tracked_fields(deals), forecast_figures(forecast, periods, range_forecast(near, quota))
