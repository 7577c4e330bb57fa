"""Weighted pipeline by close period, owner and team, against quota.

Per group: open deals and amount, weighted amount (amount x used probability), the
forecast categories, closed won to date, quota, attainment (closed won / quota) and
coverage (open amount / remaining quota, remaining = quota - closed won). Deals without a
close date land in an explicit ``no close date`` period instead of vanishing.

The categories roll up the way Salesforce's cumulative forecasts do, here and on every
sheet: commit = closed won + open Commit, best case = commit + open Best Case; pipeline is
the open Pipeline amount alone.

Blanks, on purpose: attainment and coverage are blank where the group has no quota, and
coverage is also blank once closed won >= quota (nothing remains to cover: a ratio over
zero or a negative remainder would mean nothing). A deal without an owner or team is
grouped under ``(none)`` (``funnel.forecast.deals.NONE_LABEL``), so the groups still add
up to the period's total.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnel.forecast.deals import NONE_LABEL
from funnel.inputs.keys import codes_and_labels
from funnel.inputs.periods import NO_CLOSE_DATE

__all__ = ["FORECAST_COLUMNS", "weighted_pipeline", "quota_table", "without_empty_past"]

FORECAST_COLUMNS = (
    "open_deals",
    "open_amount",
    "weighted",
    "pipeline",
    "best_case",
    "commit",
    "won_deals",
    "closed_won",
    "lost_deals",
    "quota",
    "attainment",
    "coverage",
)

_CATEGORY_COLUMN = {"Pipeline": "pipeline", "Best Case": "best_case", "Commit": "commit"}


def _team_of_owner(deals: pd.DataFrame) -> pd.Series:
    # Each named owner's team, the one most of the owner's deals carry: the pairs counted
    # on their codes, in text order, then ranked exactly as ``value_counts`` ranks them.
    owner, owners = codes_and_labels(deals["owner"])
    team, teams = codes_and_labels(deals["team"])
    named = (owner >= 0) & (team >= 0) & (np.append(owners != NONE_LABEL, False)[owner])
    pair, count = np.unique(owner[named].astype(np.int64) * max(len(teams), 1) + team[named], return_counts=True)
    index = pd.MultiIndex.from_arrays([owners[pair // max(len(teams), 1)], teams[pair % max(len(teams), 1)]], names=["owner", "team"])
    pairs = pd.Series(count, index=index, name="count").sort_values(ascending=False)
    return pairs.reset_index().drop_duplicates("owner").set_index("owner")["team"]


def quota_table(quotas: pd.DataFrame, deals: pd.DataFrame, by: list[str]) -> pd.Series:
    """Quota per group of ``by`` (a subset of period, team, owner).

    Owner rows give owner quotas. A team's quota is its own row when there is one, else
    the sum of its owners' quotas (an owner's team: the quota row's team, else the team
    of most of the owner's deals). A period's quota is the sum of its team quotas plus the
    quotas of owners in no team.
    """
    if quotas.empty:
        return pd.Series(dtype=float)
    owner_rows = quotas[quotas["owner"].notna()].copy()
    # Each owner's team: the one most of the owner's deals carry (counted, not looped).
    team_of = _team_of_owner(deals)
    # As objects: a blank column, or no owner with deals, reads as floats, and pandas
    # (differently by release) objects to filling floats with text.
    team = owner_rows["team"].astype(object)
    team = team.where(team.notna(), owner_rows["owner"].map(team_of).astype(object))
    owner_rows["team"] = team.where(team.notna(), NONE_LABEL)
    if by == ["period", "team", "owner"]:
        return owner_rows.groupby(by)["quota"].sum()
    team_rows = quotas[quotas["owner"].isna() & quotas["team"].notna()]
    explicit = team_rows.groupby(["period", "team"])["quota"].sum()
    derived = owner_rows.groupby(["period", "team"])["quota"].sum()
    teams = explicit.combine_first(derived)
    if by == ["period", "team"]:
        return teams
    if by == ["period"]:
        return teams.groupby(level="period").sum()
    raise ValueError(f"no quota for grouping {by}")


def _labelled_index(index: pd.Index, by: list[str], keys: dict[str, tuple[np.ndarray, np.ndarray]]) -> pd.Index:
    # The group-by's index of codes, as the text the codes stand for.
    if len(by) == 1:
        return pd.Index(keys[by[0]][1][index.to_numpy()], name=by[0])
    levels = [keys[key][1][index.get_level_values(key).to_numpy()] for key in by]
    return pd.MultiIndex.from_arrays(levels, names=by)


def weighted_pipeline(deals: pd.DataFrame, quotas: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The forecast table grouped by ``by`` (``["period"]``, ``["period", "team"]`` or
    ``["period", "team", "owner"]``).

    Returns:
        One row per group that has deals or a quota, sorted by the keys, with the columns
        of ``FORECAST_COLUMNS``. attainment and coverage are blank where there is no quota;
        coverage also once closed won >= quota (no quota remains). Blank owners and teams
        are the group ``(none)``.
    """
    d = deals
    amount = d["amount"].fillna(0.0)
    is_open = d["is_open"]
    # Grouped on the keys' integer codes, whose order is the text's (see funnel.inputs.keys).
    keys = {key: codes_and_labels(d[key]) for key in by}
    frame = pd.DataFrame({key: codes for key, (codes, _) in keys.items()}, index=d.index)
    frame["open_deals"] = is_open.astype(int)
    frame["open_amount"] = amount.where(is_open, 0.0)
    frame["weighted"] = d["weighted"].where(is_open, 0.0)
    # One pass over the category text, then integer comparisons per category.
    category_code, categories = pd.factorize(d["category"].to_numpy(dtype=object))
    for category, column in _CATEGORY_COLUMN.items():
        hit = np.flatnonzero(np.asarray(categories, dtype=object) == category)
        in_category = category_code == hit[0] if len(hit) else np.zeros(len(d), dtype=bool)
        frame[column] = amount.where(is_open & in_category, 0.0)
    frame["won_deals"] = d["is_won"].astype(int)
    frame["closed_won"] = amount.where(d["is_won"], 0.0)
    frame["lost_deals"] = d["is_lost"].astype(int)
    blank = (frame[by].to_numpy() < 0).any(axis=1)
    if blank.any():
        frame = frame[~blank]  # a group-by leaves blank keys out
    table = frame.groupby(by, sort=True).sum()
    table.index = _labelled_index(table.index, by, keys)
    # Cumulative, per group (so that the groupings still add up): what is won, plus what is called.
    table["commit"] = table["closed_won"] + table["commit"]
    table["best_case"] = table["commit"] + table["best_case"]
    quota = quota_table(quotas, deals, by)
    if not quota.empty:
        quota.index = quota.index.set_names(by)
        table = table.join(quota.rename("quota"), how="outer")
    else:
        table["quota"] = np.nan
    counts = ["open_deals", "won_deals", "lost_deals"]
    table[[c for c in FORECAST_COLUMNS[:9] if c not in counts]] = table[[c for c in FORECAST_COLUMNS[:9] if c not in counts]].fillna(0.0)
    table[counts] = table[counts].fillna(0).astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        has_quota = table["quota"] > 0
        table["attainment"] = np.where(has_quota, table["closed_won"] / table["quota"], np.nan)
        remaining = table["quota"] - table["closed_won"]
        table["coverage"] = np.where(has_quota & (remaining > 0), table["open_amount"] / remaining, np.nan)
    table = table.reset_index().sort_values(by, kind="stable").reset_index(drop=True)
    return table[[*by, *FORECAST_COLUMNS]]


def without_empty_past(table: pd.DataFrame, current: str) -> pd.DataFrame:
    """A forecast table without the rows of past periods that hold no deal at all (no open,
    won or lost deal: a quota alone), which would pad a table by owner with rows of zeros.

    Args:
        table: a ``weighted_pipeline`` table (period, ..., open_deals, won_deals, lost_deals).
        current: the current period's label; it and later periods, and the deals without a
            close date, keep every row.
    """
    if table.empty:
        return table
    period = table["period"].astype(str)
    past = (period < current) & (period != NO_CLOSE_DATE)
    empty = table[["open_deals", "won_deals", "lost_deals"]].fillna(0).eq(0).all(axis=1)
    return table[~(past & empty)]
