"""Deal health: which open deals are stuck, late, slipping back or forgotten.

Four flags per open deal (closed deals are never flagged):

- stale: days in the current stage above ``settings.stale_multiple`` x the median days
  deals spent in that stage (finished stays from the stage history: from entering a
  stage to entering the deal's next recorded stage, as ``funnel.forecast.stagestats`` counts them). Days in the current stage come from the history (the last
  entry into the deal's current stage); a deal without history that sits in the first
  stage counts the days since it was created; otherwise it is unknown and not flagged.
- overdue: the expected close date is already past (before the as-of day).
- pushed: the deal stepped back at least once. We count step-backs in the stage
  history: an entry into an open stage of lower order than the stage before it (a
  reopened deal counts too). A moved close date is the other classic sign of a pushed
  deal; the workbook keeps no history of close dates, but the snapshot store does:
  where it has the deal's versions, a close date pushed later at least once flags it
  too (``with_close_pushes``).
- inactive: no activity for ``settings.inactive_days`` days or more. The last activity
  is the ``last_activity`` date, else the latest stage entry, else the created date;
  a deal with none of them is not flagged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnel.forecast.stages import HistoryKeys, deal_time_order
from funnel.inputs.keys import decoded, looked_up, positions
from funnel.inputs.schemes import stage_positions
from funnel.inputs.settings import Settings

__all__ = ["HEALTH_COLUMNS", "deal_health", "step_backs", "health_counts", "with_close_pushes"]

HEALTH_COLUMNS = (
    "days_in_stage",
    "stage_median_days",
    "stale",
    "days_overdue",
    "overdue",
    "step_backs",
    "pushed",
    "days_since_activity",
    "inactive",
)


def _history_by_deal(deals: pd.DataFrame, history: pd.DataFrame, stages: pd.DataFrame,
                     keys: HistoryKeys | None = None) -> dict[str, np.ndarray]:
    # History rows of these deals with the deal's row position, the stage's row position
    # in ``stages`` (-1 unknown) and the stage order, in (deal, date) order, same-day rows
    # in the order they were given: columns as arrays, row i of each is row i. Integer keys
    # throughout: no text is hashed twice, and the stage's text comes along only for
    # stages outside the scheme.
    fit = keys is not None and keys.fits(deals, history)
    if fit:
        position, stage_pos = keys.deal, keys.stage
    else:
        position = positions(pd.Index(deals["id"]), history["opportunity_id"])
        stage_pos = stage_positions(stages, history["stage"])
    entered = history["entered"].to_numpy(dtype="datetime64[ns]")
    known = position >= 0
    rows = np.flatnonzero(known) if not known.all() else None
    if rows is not None:
        position, stage_pos, entered = position[rows], stage_pos[rows], entered[rows]
    sort = keys.by_time if fit and rows is None and keys.entered is not None else deal_time_order(position, entered)
    order_of = np.append(stages["order"].to_numpy(dtype=float), np.nan)
    frame = {"position": position[sort], "entered": entered[sort], "order": order_of[stage_pos[sort]], "stage_pos": stage_pos[sort]}
    if (stage_pos < 0).any():
        stage = decoded(history["stage"])
        frame["stage"] = (stage if rows is None else stage[rows])[sort]
    return frame


def step_backs(deals: pd.DataFrame, history: pd.DataFrame, stages: pd.DataFrame) -> np.ndarray:
    """Times each deal entered an open stage of lower order than the stage before it.

    History rows are taken in date order; same-day rows in stage order, as validation
    reads them.

    Returns:
        One count per deal, in the deals' order.
    """
    if history.empty:
        return np.zeros(len(deals), dtype=int)
    return _count_step_backs(_history_by_deal(deals, history, stages), stages, len(deals))


def _count_step_backs(frame: dict[str, np.ndarray], stages: pd.DataFrame, deals: int) -> np.ndarray:
    # Step-backs per deal position from ``_history_by_deal`` rows, same-day rows taken in
    # stage order (rows already in that order need no second sort).
    position, entered, order, stage_pos = frame["position"], frame["entered"], frame["order"], frame["stage_pos"]
    tie = (position[1:] == position[:-1]) & (entered[1:] == entered[:-1])
    if (tie & ~(order[1:] >= order[:-1])).any():
        resort = np.lexsort((order, entered, position))
        position, order, stage_pos = position[resort], order[resort], stage_pos[resort]
    open_stage = np.append(~(stages["is_won"] | stages["is_lost"]).to_numpy(dtype=bool), False)
    is_open = open_stage[stage_pos]
    back = np.zeros(len(position), dtype=bool)
    back[1:] = (position[1:] == position[:-1]) & is_open[1:] & (order[1:] < order[:-1])
    return np.bincount(position[back], minlength=deals).astype(int)


def deal_health(deals: pd.DataFrame, history: pd.DataFrame, stages: pd.DataFrame, settings: Settings,
                keys: HistoryKeys | None = None) -> pd.DataFrame:
    """The health flags of every deal.

    Args:
        deals: the deal table (``deal_table``).
        history: validated stage history.
        stages: the stage scheme.
        settings: as_of, stale_multiple, inactive_days.
        keys: ``funnel.forecast.stages.history_keys(deals, history, stages)`` when already computed.

    Returns:
        A frame indexed like ``deals`` with ``HEALTH_COLUMNS``: days_in_stage,
        stage_median_days, stale, days_overdue, overdue, step_backs, pushed,
        days_since_activity, inactive. Flags are False for closed deals; day counts are
        blank where unknown (and for closed deals).
    """
    as_of = pd.Timestamp(settings.as_of).to_datetime64()
    n = len(deals)
    is_open = deals["is_open"].to_numpy(dtype=bool)
    stage = decoded(deals["stage"])
    created = deals["created"].to_numpy(dtype="datetime64[ns]")
    out = pd.DataFrame(index=deals.index)

    def days_since(when: np.ndarray) -> np.ndarray:
        days = ((as_of - when) / np.timedelta64(1, "D")).astype(float)
        return np.floor(days)

    entered_current = np.full(n, np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
    latest_entry = np.full(n, np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
    median = pd.Series(dtype=float)
    backs = np.zeros(n, dtype=int)
    frame = _history_by_deal(deals, history, stages, keys) if not history.empty else None
    if frame is not None and len(frame["position"]):
        position, entered = frame["position"], frame["entered"]
        # Rows are in date order per deal: the last row of a deal is its latest entry.
        last_row = np.r_[position[1:] != position[:-1], True]
        latest_entry[position[last_row]] = entered[last_row]
        # Same stage as the deal's current one, by stage position (text only where unknown).
        stage_pos = frame["stage_pos"]
        in_current = (stage_pos == stage_positions(stages, deals["stage"])[position]) & (stage_pos >= 0)
        unknown = stage_pos < 0
        if unknown.any():
            in_current[unknown] = frame["stage"][unknown] == stage[position[unknown]]
        current_at = position[in_current]
        if len(current_at):
            last_current = np.r_[current_at[1:] != current_at[:-1], True]
            entered_current[current_at[last_current]] = entered[in_current][last_current]
        # Finished stays: from entering a stage to entering the deal's next recorded stage.
        same_next = np.r_[position[1:] == position[:-1], False]
        stay = (np.r_[entered[1:], entered[:1]] - entered) / np.timedelta64(1, "D")
        stays = pd.Series(stay[same_next].astype(float))
        if (stage_pos >= 0).all():
            # Grouped on stage positions, labelled with the codes afterwards.
            median = stays.groupby(stage_pos[same_next]).median()
            median.index = stages["code"].to_numpy()[median.index.to_numpy()]
        else:
            median = stays.groupby(frame["stage"][same_next]).median()
        backs = _count_step_backs(frame, stages, n)

    days = days_since(entered_current)
    first_stage = stages.loc[~(stages["is_won"] | stages["is_lost"])].sort_values("order")["code"].iloc[0]
    use_created = np.isnan(days) & (stage == first_stage)
    days = np.where(use_created, days_since(created), days)
    out["days_in_stage"] = np.where(is_open, days, np.nan)
    out["stage_median_days"] = np.where(is_open, looked_up(deals["stage"], median).astype(float), np.nan)
    with np.errstate(invalid="ignore"):
        out["stale"] = is_open & (out["days_in_stage"].to_numpy() > settings.stale_multiple * out["stage_median_days"].to_numpy())

    late = days_since(deals["close_date"].to_numpy(dtype="datetime64[ns]"))
    with np.errstate(invalid="ignore"):
        overdue = is_open & (late > 0)
    out["days_overdue"] = np.where(overdue, late, np.nan)
    out["overdue"] = overdue

    out["step_backs"] = backs
    out["pushed"] = is_open & (backs > 0)

    last = deals["last_activity"].to_numpy(dtype="datetime64[ns]")
    last = np.where(np.isnat(last), latest_entry, last)
    last = np.where(np.isnat(last), created, last)
    idle = days_since(last)
    out["days_since_activity"] = np.where(is_open, idle, np.nan)
    with np.errstate(invalid="ignore"):
        out["inactive"] = is_open & (idle >= settings.inactive_days)
    return out[list(HEALTH_COLUMNS)]


def with_close_pushes(health: pd.DataFrame, deals: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """The health flags with ``pushed`` also set for an open deal whose close date the
    snapshot store saw pushed later (``close_pushes`` > 0 in ``funnel.snapshots.slips.
    deal_history``); a deal the store has no versions of keeps its stage-history flag."""
    if history is None or len(history) == 0:
        return health
    pushes = history.drop_duplicates("deal_id").set_index("deal_id")["close_pushes"]
    found = pd.to_numeric(pd.Series(deals["id"].astype(str).to_numpy()).map(pushes), errors="coerce").fillna(0).to_numpy()
    is_open = deals["is_open"].to_numpy(dtype=bool)
    return health.assign(pushed=health["pushed"].to_numpy(dtype=bool) | (is_open & (found > 0)))


def health_counts(deals: pd.DataFrame, health: pd.DataFrame) -> pd.DataFrame:
    """How many open deals carry each flag, and their open amount, for the Summary sheet.

    Returns:
        metric, value rows: stale_deals, stale_amount, overdue_deals, overdue_amount,
        pushed_deals, pushed_amount, inactive_deals, inactive_amount, flagged_deals (any
        flag), flagged_amount.
    """
    amount = deals["amount"].fillna(0.0).to_numpy()
    rows = []
    any_flag = np.zeros(len(deals), dtype=bool)
    for flag in ("stale", "overdue", "pushed", "inactive"):
        mask = health[flag].to_numpy(dtype=bool)
        any_flag |= mask
        rows += [(f"{flag}_deals", int(mask.sum())), (f"{flag}_amount", float(amount[mask].sum()))]
    rows += [("flagged_deals", int(any_flag.sum())), ("flagged_amount", float(amount[any_flag].sum()))]
    # object keeps the counts whole numbers next to the amounts
    return pd.DataFrame({"metric": [r[0] for r in rows], "value": pd.Series([r[1] for r in rows], dtype=object)})
