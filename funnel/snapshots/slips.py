"""Slipped and changed deals: what each deal's versions say about its close date, amount and stage.

From the deal versions a store keeps (``funnel.snapshots.versions``), per deal:

    first_seen              the as-of day of the snapshot the deal first appeared in
    snapshots_seen          how many snapshots it was in (from its first to its last)
    first_close_date        the first close date recorded for it
    close_date              its latest recorded close date
    close_pushes            how many times a recorded close date moved later (a blank date
                            is no move either way)
    days_slipped            close_date - first_close_date in days (negative: pulled in)
    first_amount, amount    its first and latest recorded amount
    amount_change           amount - first_amount (a blank amount counts as 0)
    stage                   its latest recorded stage
    stage_since             the as-of day of the first snapshot of its latest run in that
                            stage (a lower bound: it may have been there before it was seen)
    days_in_stage_recorded  as_of - stage_since in days
    stage_backwards         how many times it moved to an open stage of lower order than the
                            stage before (the stage scheme's order)

and per owner (the deal's latest owner) a push rate: of the deals seen in at least two
snapshots, the share whose close date was pushed at least once.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

__all__ = ["DEAL_HISTORY_COLUMNS", "PUSH_RATE_COLUMNS", "deal_history", "push_rates"]

DEAL_HISTORY_COLUMNS = ("deal_id", "owner", "first_seen", "snapshots_seen", "first_close_date", "close_date",
                        "close_pushes", "days_slipped", "first_amount", "amount", "amount_change", "stage", "stage_since",
                        "days_in_stage_recorded", "stage_backwards")
PUSH_RATE_COLUMNS = ("owner", "deals", "pushed_deals", "push_rate", "close_pushes", "mean_days_slipped")


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({col: pd.Series(dtype=object) for col in columns})


def deal_history(versions: pd.DataFrame, snapshots: pd.DataFrame, stages: pd.DataFrame | None = None,
                 as_of: dt.date | None = None) -> pd.DataFrame:
    """Per deal: its close-date pushes, slip, amount change, time in stage and step-backs.

    Args:
        versions: every version of the book's deals (``VERSION_COLUMNS``).
        snapshots: the book's snapshots (``id``, ``as_of``).
        stages: the stage scheme (``code``, ``order``, ``is_won``, ``is_lost``), for the
            step-backs; None counts none.
        as_of: the day days in stage are counted to; None: the latest snapshot's.

    Returns:
        ``DEAL_HISTORY_COLUMNS``, one row per deal, by deal id.
    """
    if versions is None or len(versions) == 0 or snapshots is None or len(snapshots) == 0:
        return _empty(DEAL_HISTORY_COLUMNS)
    ids = snapshots["id"].astype(int).to_numpy()
    days = pd.to_datetime(snapshots["as_of"]).to_numpy(dtype="datetime64[ns]")
    order = np.argsort(ids, kind="stable")
    ids, days = ids[order], days[order]
    until = pd.Timestamp(as_of).to_datetime64() if as_of is not None else days.max()
    v = versions.assign(valid_from=versions["valid_from"].astype(int)).sort_values(["deal_id", "valid_from"], kind="stable")
    v = v.reset_index(drop=True)
    deal = v["deal_id"].to_numpy(object)
    same = np.r_[False, deal[1:] == deal[:-1]]  # the row before is the same deal's earlier version
    first_row = ~same
    last_row = np.r_[deal[1:] != deal[:-1], True]
    from_day = days[np.searchsorted(ids, v["valid_from"].to_numpy(int))]
    close = pd.to_datetime(v["close_date"]).to_numpy(dtype="datetime64[ns]")
    prev_close = np.r_[np.datetime64("NaT", "ns"), close[:-1]]
    with np.errstate(invalid="ignore"):
        pushed = same & ~np.isnat(close) & ~np.isnat(prev_close) & (close > prev_close)
    stage = v["stage"].to_numpy(object)
    prev_stage = np.r_[None, stage[:-1]]
    new_run = first_row | (stage != prev_stage)
    backwards = np.zeros(len(v), dtype=bool)
    if stages is not None and len(stages):
        rank = dict(zip(stages["code"].astype(str), stages["order"].astype(float)))
        open_codes = set(stages.loc[~(stages["is_won"].astype(bool) | stages["is_lost"].astype(bool)), "code"].astype(str))
        now = np.array([rank.get(s, np.nan) if s is not None else np.nan for s in stage], dtype=float)
        before = np.r_[np.nan, now[:-1]]
        with np.errstate(invalid="ignore"):
            backwards = same & (now < before) & np.array([s in open_codes for s in stage], dtype=bool)
    group = np.cumsum(first_row) - 1
    run_start = np.where(new_run, from_day, np.datetime64("NaT", "ns"))
    # The first day of the latest run: the last run start of each deal.
    run_start = pd.Series(run_start).groupby(group).ffill().to_numpy(dtype="datetime64[ns]")
    # Snapshots seen: from the first version's snapshot to the last version's end (or the latest).
    valid_to = v["valid_to"].astype("Int64")
    end_id = np.where(valid_to.isna().to_numpy(), ids.max() + 1, valid_to.fillna(0).to_numpy(int))
    first_from = v["valid_from"].to_numpy(int)[first_row]
    seen = np.searchsorted(ids, end_id[last_row], side="left") - np.searchsorted(ids, first_from, side="left")
    amount = pd.to_numeric(v["amount"], errors="coerce").to_numpy(float)
    first_close = pd.Series(close).groupby(group).transform("first").to_numpy(dtype="datetime64[ns]")[last_row]
    out = pd.DataFrame({
        "deal_id": deal[last_row],
        "owner": v["owner"].to_numpy(object)[last_row],
        "first_seen": pd.to_datetime(from_day[first_row]),
        "snapshots_seen": seen.astype(int),
        "first_close_date": pd.to_datetime(first_close),
        "close_date": pd.to_datetime(close[last_row]),
        "close_pushes": np.bincount(group[pushed], minlength=group.max() + 1).astype(int),
        "first_amount": amount[first_row],
        "amount": amount[last_row],
        "stage": stage[last_row],
        "stage_since": pd.to_datetime(run_start[last_row]),
        "stage_backwards": np.bincount(group[backwards], minlength=group.max() + 1).astype(int),
    })
    out["days_slipped"] = ((out["close_date"] - out["first_close_date"]).dt.days).astype("Int64")
    out["amount_change"] = np.nan_to_num(out["amount"].to_numpy(float)) - np.nan_to_num(out["first_amount"].to_numpy(float))
    out["days_in_stage_recorded"] = ((pd.Timestamp(until) - out["stage_since"]).dt.days).astype("Int64")
    return out.loc[:, list(DEAL_HISTORY_COLUMNS)].reset_index(drop=True)


def push_rates(history: pd.DataFrame) -> pd.DataFrame:
    """Per owner: of their deals seen in two snapshots or more, how many had their close date
    pushed, the share, the pushes in all and the mean days slipped of the pushed ones.

    Args:
        history: ``deal_history`` output.

    Returns:
        ``PUSH_RATE_COLUMNS``, by owner; owners with no deal seen twice are left out.
    """
    if history is None or len(history) == 0:
        return _empty(PUSH_RATE_COLUMNS)
    seen = history[history["snapshots_seen"] >= 2]
    if seen.empty:
        return _empty(PUSH_RATE_COLUMNS)
    frame = seen.assign(owner=seen["owner"].fillna("").astype(str), pushed=seen["close_pushes"] > 0,
                        slipped=pd.to_numeric(seen["days_slipped"], errors="coerce").astype(float)
                        .where(seen["close_pushes"] > 0))
    grouped = frame.groupby("owner", sort=True)
    out = pd.DataFrame({
        "deals": grouped.size(),
        "pushed_deals": grouped["pushed"].sum().astype(int),
        "close_pushes": grouped["close_pushes"].sum().astype(int),
        "mean_days_slipped": grouped["slipped"].mean(),
    })
    out["push_rate"] = out["pushed_deals"] / out["deals"]
    return out.reset_index().loc[:, list(PUSH_RATE_COLUMNS)]
