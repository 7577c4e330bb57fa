"""Stage statistics: what sits in each stage, how deals move on, how long they stay.

- open deals and amount per stage (and weighted amount);
- conversion to the next stage: of the deals that reached a stage and have left it
  (moved on, or closed), the share that reached the next open stage the data uses (for
  the last such stage: the share won). Deals still sitting in the stage are not counted
  yet. Only stages the data uses count (``funnel.forecast.stages.stages_in_use``): a stage
  no deal was ever recorded in has no conversion, and the stage before it converts to the
  next stage in use;
- status: "no data" for an open stage no deal was ever recorded in; its probability is
  the configured one under every method;
- median days in the stage, from history: the days between entering a stage and
  entering the deal's next recorded stage (the stage a deal sits in now is unfinished
  and not counted).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnel import catalog
from funnel.forecast.stages import HistoryKeys, deal_time_order, reached_order
from funnel.inputs.keys import codes_and_labels, looked_up
from funnel.inputs.schemes import stage_positions

__all__ = ["stage_durations", "stage_statistics", "days_in_current_stage"]


def stage_durations(history: pd.DataFrame) -> pd.DataFrame:
    """Finished stays from history: opportunity_id, stage, entered, left, days."""
    if history.empty:
        return pd.DataFrame({"opportunity_id": [], "stage": [], "entered": [], "left": [], "days": []})
    # Sort on integer deal codes: sorting a million text ids is the slow way.
    deal, _ = pd.factorize(history["opportunity_id"])
    entered = history["entered"].to_numpy()
    order = np.lexsort((entered, deal))
    deal, entered = deal[order], entered[order]
    same = np.append(deal[1:] == deal[:-1], False)
    left = np.append(entered[1:], entered[-1:])
    rows = order[same]
    stays = pd.DataFrame({
        "opportunity_id": history["opportunity_id"].to_numpy()[rows],
        "stage": history["stage"].to_numpy()[rows],
        "entered": entered[same],
        "left": left[same],
    })
    stays["days"] = (stays["left"] - stays["entered"]).dt.days.astype(float)
    return stays


def _stays_by_stage(history: pd.DataFrame, stages: pd.DataFrame, keys: HistoryKeys | None = None) -> pd.DataFrame:
    """Median days and number of finished stays per stage code (as ``stage_durations``
    counts them), on integer deal and stage keys: no text is sorted or grouped."""
    if history.empty:
        return pd.DataFrame(columns=["median", "size"])
    # Every row counts, deal or not: the run's keys serve only when each row has a deal.
    usable = keys is not None and len(keys.deal) == len(history) == len(keys.stage) and bool((keys.deal >= 0).all())
    deal = keys.deal if usable else pd.factorize(history["opportunity_id"])[0]
    stage_of_row = keys.stage if usable else stage_positions(stages, history["stage"])
    entered = history["entered"].to_numpy(dtype="datetime64[ns]")
    order = keys.by_time if usable and keys.entered is not None else deal_time_order(deal, entered)
    deal, entered = deal[order], entered[order]
    same = np.append(deal[1:] == deal[:-1], False)
    left = np.append(entered[1:], entered[-1:])
    stage = stage_of_row[order][same]
    gap = (left[same] - entered[same])
    days = (gap // np.timedelta64(1, "D")).astype(float)
    days[np.isnat(gap)] = np.nan
    # Stays in stages outside the scheme never reach the table.
    known = stage >= 0
    med = pd.Series(days[known]).groupby(stage[known]).agg(["median", "size"])
    med.index = stages["code"].to_numpy()[med.index.to_numpy()]
    return med


def days_in_current_stage(deals: pd.DataFrame, history: pd.DataFrame, as_of) -> pd.Series:
    """Days each open deal has sat in its current stage (by id; NaN without history)."""
    as_of = pd.Timestamp(as_of)
    if history.empty:
        return pd.Series(np.nan, index=deals["id"].to_numpy())
    h = history.merge(deals[["id", "stage"]], left_on=["opportunity_id", "stage"], right_on=["id", "stage"])
    entered = h.groupby("opportunity_id")["entered"].max()
    days = (as_of - entered).dt.days.astype(float)
    return days.reindex(deals["id"].to_numpy())


def _open_by_stage(deals: pd.DataFrame) -> pd.DataFrame:
    # Open deals, their amount and weighted amount per stage, grouped on the stage codes.
    codes, labels = codes_and_labels(deals["stage"])
    rows = deals["is_open"].to_numpy(dtype=bool) & (codes >= 0)  # a group-by leaves blank keys out
    frame = pd.DataFrame({"stage": codes[rows], "amount": deals["amount"].to_numpy()[rows], "weighted": deals["weighted"].to_numpy()[rows]})
    grouped = frame.groupby("stage", sort=True)
    by_stage = pd.DataFrame({"open_deals": grouped.size(), "open_amount": grouped["amount"].sum(), "weighted": grouped["weighted"].sum()})
    by_stage.index = pd.Index(labels[by_stage.index.to_numpy()], name="stage")
    return by_stage


def stage_statistics(
    deals: pd.DataFrame,
    history: pd.DataFrame,
    stages: pd.DataFrame,
    probabilities: pd.DataFrame,
    method: str,
    reached: pd.Series | None = None,
    keys: HistoryKeys | None = None,
    language: str = "en",
) -> pd.DataFrame:
    """One row per stage in scheme order.

    ``reached`` (``reached_order``) and ``keys`` (``funnel.forecast.stages.history_keys`` of
    ``deals``) save the work when the caller already has them.

    Args:
        probabilities: ``stage_probabilities`` of the same data (its ``in_use`` says which
            stages the data uses).
        language: the language of the status word.

    Returns:
        code, name, order, open_deals, open_amount, weighted, configured, empirical,
        blended, used (the method's probability), status ("no data" for an open stage no
        deal was ever recorded in, else blank), reached_closed, reached_won, reached (all
        deals that reached it), conversion_to_next, median_days, stays (finished stays
        behind the median).
    """
    out = probabilities.copy()
    out = out.join(_open_by_stage(deals), on="code")
    out[["open_deals"]] = out[["open_deals"]].fillna(0).astype(int)
    out[["open_amount", "weighted"]] = out[["open_amount", "weighted"]].fillna(0.0)
    out["used"] = out[method] if method != "empirical" else out["empirical"].fillna(out["configured"])

    terminal = stages.set_index("code").loc[out["code"], ["is_won", "is_lost"]].any(axis=1).to_numpy()
    in_use = out["in_use"].to_numpy(dtype=bool) if "in_use" in out else np.ones(len(out), dtype=bool)
    no_data = ~terminal & ~in_use
    out["status"] = np.where(no_data, catalog.text("status.stage.no_data", language), "")
    if reached is None:
        reached = reached_order(deals, history, stages, keys, used=in_use if "in_use" in out else None)
    reached = reached.to_numpy()
    # Conversions walk the open stages the data uses; a stage without data has none.
    open_orders = out.loc[~terminal & in_use, "order"].to_numpy()
    sitting_order = np.where(deals["is_open"].to_numpy(dtype=bool), looked_up(deals["stage"], stages.set_index("code")["order"]), np.nan)
    won = deals["is_won"].to_numpy()
    reach_counts, conversions = [], []
    for order, empty in zip(out["order"], no_data):
        if empty:
            reach_counts.append(0)
            conversions.append(np.nan)
            continue
        if order not in open_orders:
            reach_counts.append(np.nan)
            conversions.append(np.nan)
            continue
        reached_it = reached >= order
        left_it = reached_it & ~(sitting_order == order)
        later = open_orders[open_orders > order]
        moved_on = (reached >= later.min()) & ~won if len(later) else np.zeros_like(won)
        converted = left_it & (moved_on | won) if len(later) else left_it & won
        reach_counts.append(int(reached_it.sum()))
        conversions.append(converted.sum() / left_it.sum() if left_it.sum() else np.nan)
    out["reached"] = reach_counts
    out["conversion_to_next"] = conversions
    med = _stays_by_stage(history, stages, keys)
    out["median_days"] = out["code"].map(med["median"]).astype(float)
    out["stays"] = out["code"].map(med["size"]).fillna(0).astype(int)
    columns = ["code", "name", "order", "open_deals", "open_amount", "weighted", "configured", "empirical", "blended",
               "used", "status", "reached_closed", "reached_won", "reached", "conversion_to_next", "median_days", "stays"]
    return out[columns]
