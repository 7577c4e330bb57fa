"""Pipeline flow between two snapshots: how a period's open pipeline went from start to end.

For a forecast period P, a deal is in P's pipeline at a snapshot when it is open there with
its close date in P. Between the first snapshot and the second, each deal's part is one of:

    start             in P's pipeline at the first snapshot (its first amount)
    created           not in the first snapshot at all, in P at the second
    reopened          closed at the first, open in P at the second
    pulled_in         open at the first with its close date outside P, in P at the second
    amount_increased  in P at the first and still there, won or lost: its amount went up
    amount_decreased  ... or down (the change, as a positive amount)
    pushed_out        in P at the first, open at the second with its close date after P (or blank)
    pulled_out        ... open at the second with its close date before P
    won, lost         in P at the first, closed at the second, whatever its close date then
    removed           in P at the first, no longer in the table
    end               in P's pipeline at the second snapshot (its second amount)

Conventions: exits (pushed, pulled out, removed) count at their first-snapshot amount;
entries (created, reopened, pulled in) at their second-snapshot amount; won and lost at the
closing amount, the change from the first snapshot booked as an amount change. A deal that
enters P and closes between the snapshots (created and won, say) shows both. A deal already
closed at the first snapshot takes no part unless it was reopened. A blank amount counts as
0. A deal is counted under its owner and team at the second snapshot (at the first when it
was removed). So, in amounts and per owner and team as in total::

    start + created + reopened + pulled_in + amount_increased - amount_decreased
          - pushed_out - pulled_out - won - lost - removed = end

and the same in deals, without the two amount changes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnel.inputs.periods import NO_CLOSE_DATE, period_labels
from funnel.inputs.settings import Settings

__all__ = ["FLOW_CHANGES", "FLOW_COLUMNS", "pipeline_flow", "flow_balance"]

FLOW_CHANGES = ("start", "created", "reopened", "pulled_in", "amount_increased", "amount_decreased", "pushed_out",
                "pulled_out", "won", "lost", "removed", "end")
FLOW_COLUMNS = ("period", "owner", "team", "change", "deals", "amount")
# How each change moves the pipeline from start to end.
_SIGN = {"start": 1, "created": 1, "reopened": 1, "pulled_in": 1, "amount_increased": 1, "amount_decreased": -1,
         "pushed_out": -1, "pulled_out": -1, "won": -1, "lost": -1, "removed": -1}


def pipeline_flow(first: pd.DataFrame, second: pd.DataFrame, settings: Settings,
                  periods: list[str] | None = None) -> pd.DataFrame:
    """The flow of each period's pipeline from one snapshot's deals to another's.

    Args:
        first, second: the deals at the two snapshots (``deal_id`` and ``TRACKED``, as
            ``tracked_fields`` or a store's state gives them).
        settings: the period and fiscal year the periods follow.
        periods: the periods to show; None: every period an open deal of either snapshot
            closes in.

    Returns:
        ``FLOW_COLUMNS``: per period, for each owner × team the deals touch and then in total
        (owner and team ""), one row per change in ``FLOW_CHANGES`` order with its deals and
        amount (every amount positive: the sign is the change's).
    """
    both = first.merge(second, on="deal_id", how="outer", suffixes=("_a", "_b"), indicator=True)
    in_a = (both["_merge"] != "right_only").to_numpy()
    in_b = (both["_merge"] != "left_only").to_numpy()
    open_a = in_a & both["is_open_a"].eq(True).to_numpy()
    open_b = in_b & both["is_open_b"].eq(True).to_numpy()
    closed_a, closed_b = in_a & ~open_a, in_b & ~open_b
    won_b = closed_b & both["is_won_b"].eq(True).to_numpy()
    amount_a = both["amount_a"].fillna(0.0).to_numpy(float)
    amount_b = both["amount_b"].fillna(0.0).to_numpy(float)
    # Each deal's period at either snapshot as its place among all the labels in text order
    # (which is time order, a blank close date last): numbers compared, not texts.
    label_a, label_b = period_labels(both["close_date_a"], settings), period_labels(both["close_date_b"], settings)
    labels = np.array(sorted({str(c) for c in label_a.cat.categories} | {str(c) for c in label_b.cat.categories}),
                      dtype=object)
    code_a, code_b = (np.searchsorted(labels, np.asarray(label.cat.categories.astype(str), dtype=object))
                      [label.cat.codes.to_numpy()] for label in (label_a, label_b))
    owner = np.where(in_b, both["owner_b"].to_numpy(object), both["owner_a"].to_numpy(object))
    team = np.where(in_b, both["team_b"].to_numpy(object), both["team_a"].to_numpy(object))
    owner, team = _words(owner), _words(team)
    # Each deal's owner x team as a number, numbered in the names' sorted order (what grouping
    # by the names themselves sorts by): grouping numbers is what takes the time.
    # (Each name factorized in sorted order, the pair numbered by its two codes: the same
    # numbering as a MultiIndex factorized with sort, without building the tuples.)
    owner_code, owners = pd.factorize(owner, sort=True)
    team_code, teams = pd.factorize(team, sort=True)
    pair_codes, who = np.unique(owner_code.astype(np.int64) * len(teams) + team_code, return_inverse=True)
    who_owner = np.asarray(owners, dtype=object)[pair_codes // max(len(teams), 1)]
    who_team = np.asarray(teams, dtype=object)[pair_codes % max(len(teams), 1)]
    if periods is None:
        periods = sorted(set(labels[np.union1d(code_a[open_a], code_b[open_b])]) - {NO_CLOSE_DATE})
    parts = []
    for period in periods:
        place = int(np.searchsorted(labels, period))
        known = place < len(labels) and labels[place] == period
        in_a_period = code_a == place if known else np.zeros(len(code_a), dtype=bool)
        in_b_period = code_b == place if known else np.zeros(len(code_b), dtype=bool)
        start = open_a & in_a_period
        end = open_b & in_b_period
        closes_in = closed_b & in_b_period
        stays, won, lost = start & end, start & won_b, start & closed_b & ~won_b
        moved = start & open_b & ~end
        # Labels sort in time order, a blank close date last: after the period.
        after = code_b > place if known else code_b >= place
        pushed, pulled_out = moved & after, moved & ~after & ~in_b_period
        enters = ~start & ~closed_a & (end | closes_in)
        kept = stays | won | lost
        change = np.where(kept, amount_b - amount_a, 0.0)
        masks = {
            "start": (start, amount_a),
            "created": (enters & ~in_a, amount_b),
            "reopened": (~start & closed_a & end, amount_b),
            "pulled_in": (enters & in_a, amount_b),
            "amount_increased": (kept & (change > 0), change),
            "amount_decreased": (kept & (change < 0), -change),
            "pushed_out": (pushed, amount_a),
            "pulled_out": (pulled_out, amount_a),
            "won": (won | (enters & closes_in & won_b), amount_b),
            "lost": (lost | (enters & closes_in & ~won_b), amount_b),
            "removed": (start & ~in_b, amount_a),
            "end": (end, amount_b),
        }
        touched = np.zeros(len(both), dtype=bool)
        for mask, _ in masks.values():
            touched |= mask
        columns = {"who": who[touched]}
        for name, (mask, amount) in masks.items():
            columns[f"{name}:deals"] = mask[touched].astype(np.int64)
            columns[f"{name}:amount"] = np.where(mask, amount, 0.0)[touched]
        deals = pd.DataFrame(columns)
        groups = deals.groupby("who", sort=True).sum()
        total = deals.drop(columns=["who"]).sum()
        # Each owner x team row (then the total) as one row per change, in FLOW_CHANGES order.
        codes = groups.index.to_numpy()
        counted = [f"{name}:deals" for name in FLOW_CHANGES]
        summed = [f"{name}:amount" for name in FLOW_CHANGES]
        parts.append((period, who_owner[codes].tolist() + [""], who_team[codes].tolist() + [""],
                      np.vstack([groups[counted].to_numpy(float), total[counted].to_numpy(float)[None, :]]).astype(np.int64),
                      np.vstack([groups[summed].to_numpy(float), total[summed].to_numpy(float)[None, :]])))
    if not parts:
        return pd.DataFrame({col: pd.Series(dtype=object if col in ("period", "owner", "team", "change") else
                                            (np.int64 if col == "deals" else float)) for col in FLOW_COLUMNS})
    changes = len(FLOW_CHANGES)
    return pd.DataFrame({
        "period": [period for period, who, _, _, _ in parts for _ in range(len(who) * changes)],
        "owner": [w for _, who, _, _, _ in parts for w in who for _ in range(changes)],
        "team": [w for _, _, which, _, _ in parts for w in which for _ in range(changes)],
        "change": list(FLOW_CHANGES) * sum(len(who) for _, who, _, _, _ in parts),
        "deals": np.concatenate([deals.ravel() for _, _, _, deals, _ in parts]),
        "amount": np.concatenate([amounts.ravel() for _, _, _, _, amounts in parts]),
    }).loc[:, list(FLOW_COLUMNS)]


def _words(values: np.ndarray) -> np.ndarray:
    # Owner or team names as text, a blank as "" (one call per name only when some are not str).
    blank = pd.isna(values)
    if not blank.any() and pd.api.types.infer_dtype(values, skipna=True) == "string":
        return values.astype(object)
    return np.array(["" if b else str(v) for v, b in zip(values, blank)], dtype=object)


def flow_balance(flow: pd.DataFrame) -> pd.DataFrame:
    """Per period, owner and team: start and the changes summed with their signs, beside end.

    Returns:
        period, owner, team, amount (start + entries + increases - decreases - exits),
        end_amount, deals (the same in deals, without the amount changes), end_deals.
    """
    sign = flow["change"].map(_SIGN)
    counts = sign.where(~flow["change"].isin(["amount_increased", "amount_decreased"]), 0)
    moved = flow.assign(amount=flow["amount"] * sign.fillna(0), deals=flow["deals"] * counts.fillna(0))
    keys = ["period", "owner", "team"]
    summed = moved[flow["change"] != "end"].groupby(keys, sort=False)[["amount", "deals"]].sum()
    end = flow[flow["change"] == "end"].set_index(keys)[["amount", "deals"]].add_prefix("end_")
    return summed.join(end).reset_index()
