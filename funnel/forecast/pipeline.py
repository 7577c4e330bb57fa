"""Weighted pipeline by close period, owner and team, against quota.

Per group: open deals and amount, weighted amount (amount x used probability), open
amount per forecast category, closed won to date, quota, attainment (closed won / quota)
and coverage (open amount / remaining quota). Deals without a close date land in an
explicit ``no close date`` period instead of vanishing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnel.forecast.deals import NONE_LABEL

__all__ = ["FORECAST_COLUMNS", "weighted_pipeline", "quota_table"]

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
    pairs = deals.loc[deals["owner"] != NONE_LABEL, ["owner", "team"]].value_counts(sort=True)
    team_of = pairs.reset_index().drop_duplicates("owner").set_index("owner")["team"]
    owner_rows["team"] = owner_rows["team"].fillna(owner_rows["owner"].map(team_of)).fillna(NONE_LABEL)
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


def weighted_pipeline(deals: pd.DataFrame, quotas: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """The forecast table grouped by ``by`` (``["period"]``, ``["period", "team"]`` or
    ``["period", "team", "owner"]``).

    Returns:
        One row per group that has deals or a quota, sorted by the keys, with the columns
        of ``FORECAST_COLUMNS``. attainment and coverage are blank where there is no quota
        (coverage also where the quota is already met).
    """
    d = deals
    amount = d["amount"].fillna(0.0)
    is_open = d["is_open"]
    frame = pd.DataFrame({key: d[key] for key in by})
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
    table = frame.groupby(by, sort=True).sum()
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
