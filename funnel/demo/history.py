"""The demo's deal history: what its deals' stages, amounts and close dates were, day by day.

The Stage history table already says when each deal entered each stage (so past weeks have
new deals, wins, losses and stage moves); this adds what a CRM's field history would hold
besides: close dates pushed out (sometimes several times) or pulled in, and amounts revised
up or down. Replayed by ``funnel.snapshots.deals_on``, the history ends at each deal as it is
in the demo's Opportunities table, so the weekly snapshots it gives lead up to the workbook.
The same tables and seed give the same history.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnel.snapshots import HISTORY_COLUMNS, empty_history, stage_changes

__all__ = ["demo_deal_history", "PUSH_COUNTS", "AMOUNT_CHANGE_COUNTS"]

# How many times a deal's close date moved: its chance of 0, 1, 2, 3 moves (a move is a push
# out, or one time in six a pull in); three or more pushes is the sign practitioners watch.
PUSH_COUNTS = (0.5, 0.27, 0.14, 0.09)
_PULL_IN = 1 / 6
# How many times a deal's amount was revised: its chance of 0, 1, 2 revisions.
AMOUNT_CHANGE_COUNTS = (0.62, 0.28, 0.10)


def _days_between(rng: np.random.Generator, first: pd.Timestamp, last: pd.Timestamp, k: int) -> list[pd.Timestamp]:
    # k distinct days strictly after ``first`` and on or before ``last``, in order (fewer when
    # the span is too short).
    span = (last - first).days
    if span < 1 or k == 0:
        return []
    picks = np.sort(rng.choice(np.arange(1, span + 1), size=min(k, span), replace=False))
    return [first + pd.Timedelta(days=int(d)) for d in picks]


def demo_deal_history(tables: dict[str, pd.DataFrame], as_of, seed: int = 7) -> pd.DataFrame:
    """The demo's deal history (``funnel.snapshots.HISTORY_COLUMNS``): its stage changes, and
    for some deals earlier close dates and amounts, each set on its created date and changed
    on later days up to ``as_of``, ending at the deal's close date and amount now.

    Args:
        tables: ``funnel.demo.data.demo_tables``' tables (opportunities, stage_history).
        as_of: the demo's as-of day; nothing changes after it.
        seed: the random seed (the demo's).
    """
    rng = np.random.default_rng([seed, 16])
    as_of = pd.Timestamp(as_of)
    opps = tables["opportunities"]
    rows = []
    ids = opps["id"].astype(str).to_numpy()
    created = pd.to_datetime(opps["created"]).to_numpy()
    close = pd.to_datetime(opps["close_date"]).to_numpy()
    amount = pd.to_numeric(opps["amount"], errors="coerce").to_numpy(float)
    pushes = rng.choice(len(PUSH_COUNTS), size=len(opps), p=PUSH_COUNTS)
    revisions = rng.choice(len(AMOUNT_CHANGE_COUNTS), size=len(opps), p=AMOUNT_CHANGE_COUNTS)
    for i in range(len(opps)):
        if pd.isna(created[i]):
            continue
        born = pd.Timestamp(created[i])
        if not pd.isna(close[i]) and pushes[i]:
            last = min(as_of, max(pd.Timestamp(close[i]), born))
            days = _days_between(rng, born, last, int(pushes[i]))
            value = pd.Timestamp(close[i])
            dates = [value]
            for _ in days:  # back from the close date now: each move's earlier date
                step = pd.Timedelta(days=int(rng.integers(14, 76)))
                value = value + step if rng.random() < _PULL_IN else value - step
                value = max(value, born + pd.Timedelta(days=7))
                dates.append(value)
            dates = dates[::-1]  # the first close date, then each move's new one
            rows.append((ids[i], born, None, np.nan, dates[0]))
            rows += [(ids[i], day, None, np.nan, moved) for day, moved in zip(days, dates[1:])]
        if np.isfinite(amount[i]) and revisions[i]:
            last = min(as_of, pd.Timestamp(close[i])) if not pd.isna(close[i]) else as_of
            days = _days_between(rng, born, max(last, born), int(revisions[i]))
            value = amount[i]
            amounts = [value]
            for _ in days:
                value = max(1000.0, round(value * float(rng.lognormal(0.0, 0.25)), -3))
                amounts.append(value)
            amounts = amounts[::-1]
            rows.append((ids[i], born, None, amounts[0], pd.NaT))
            rows += [(ids[i], day, None, revised, pd.NaT) for day, revised in zip(days, amounts[1:])]
    changes = pd.DataFrame(rows, columns=list(HISTORY_COLUMNS)) if rows else empty_history()
    changes["close_date"] = pd.to_datetime(changes["close_date"])
    changes["amount"] = changes["amount"].astype(float)
    out = pd.concat([stage_changes(tables["stage_history"]), changes], ignore_index=True)
    return out.sort_values(["deal_id", "changed_on"], kind="stable").reset_index(drop=True)
