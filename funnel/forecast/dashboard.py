"""The Dashboard: the current period at a glance, from tables computed elsewhere.

Nothing here computes a new figure; each table picks and orders what the forecast, the
range forecast, deal health, the Deal scores and the comparison tables already hold, for
the period as-of falls in:
- the period's figures against quota: closed won, commit and best case (cumulative, as on
  every sheet), expected (closed won + weighted open), P10 / P50 / P90 of what will book;
- the warning signs counted, with their open amount;
- the deals most at risk (amount at risk, the reason in words);
- per owner: closed won, quota, attainment, commit, weighted, coverage;
- the biggest gaps where we trail the best rival in the comparison table.
Each table is bounded (a few rows) except the owners', so that the sheet fits one page.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnel import catalog

__all__ = ["FIGURES", "TOP_RISKS", "TOP_GAPS", "period_figures", "flag_counts", "top_risks", "owner_attainment",
           "top_gaps"]

# The period's figures, in the order the chart shows them.
FIGURES = ("closed_won", "commit", "best_case", "expected", "p10", "p50", "p90")
TOP_RISKS = 10
TOP_GAPS = 5
_FLAGS = ("stale", "overdue", "pushed", "inactive", "flagged")


def period_figures(range_forecast: pd.DataFrame, period: str, language: str) -> pd.DataFrame:
    """The period's figures (``FIGURES``) as rows: period, figure (in words), amount, quota
    (the same on every row, for the chart's quota line) and of_quota (amount / quota; blank
    without a quota). A period with no deal and no quota shows zeros."""
    rows = range_forecast[range_forecast["period"] == period]
    row = rows.iloc[0] if len(rows) else None
    quota = np.nan if row is None else row["quota"]
    amounts = [0.0 if row is None or pd.isna(row[key]) else float(row[key]) for key in FIGURES]
    of_quota = [a / quota if pd.notna(quota) and quota > 0 else np.nan for a in amounts]
    return pd.DataFrame({
        "period": period,
        "figure": [catalog.text(f"dashboard.{key}", language) for key in FIGURES],
        "amount": amounts,
        "quota": float(quota) if pd.notna(quota) else np.nan,
        "of_quota": of_quota,
    })


def flag_counts(health_counts: pd.DataFrame, language: str) -> pd.DataFrame:
    """Each warning sign (and any of them): flag (in words), open deals carrying it, their amount."""
    value = dict(zip(health_counts["metric"], health_counts["value"]))
    return pd.DataFrame({
        "flag": [catalog.text(f"dashboard.flag.{flag}", language) for flag in _FLAGS],
        "deals": [int(value[f"{flag}_deals"]) for flag in _FLAGS],
        "amount": [float(value[f"{flag}_amount"]) for flag in _FLAGS],
    })


def top_risks(deal_scores: pd.DataFrame, n: int = TOP_RISKS) -> pd.DataFrame:
    """The ``n`` deals with the most amount at risk (Deal scores' order), with the reason."""
    columns = ["id", "owner", "stage", "amount_at_risk", "used_probability", "reason"]
    return deal_scores.loc[deal_scores["amount_at_risk"] > 0, columns].head(n).reset_index(drop=True)


def owner_attainment(forecast: pd.DataFrame, period: str) -> pd.DataFrame:
    """The period's row of each owner with a deal or a quota in it, largest quota first
    (then closed won, then name): owner, team, closed_won, quota, attainment, commit,
    weighted, coverage."""
    columns = ["owner", "team", "closed_won", "quota", "attainment", "commit", "weighted", "coverage"]
    rows = forecast[forecast["period"] == period]
    rows = rows[(rows["open_deals"] > 0) | (rows["won_deals"] > 0) | rows["quota"].notna()]
    rows = rows.sort_values(["quota", "closed_won", "owner"], ascending=[False, False, True], na_position="last",
                            kind="stable")
    return rows[columns].reset_index(drop=True)


def top_gaps(comparison_gaps: pd.DataFrame, n: int = TOP_GAPS) -> pd.DataFrame:
    """The ``n`` factors where we trail the best rival by the most weighted points:
    opportunity_id, factor, best_rival, gap, weighted_gap."""
    columns = ["opportunity_id", "factor", "best_rival", "gap", "weighted_gap"]
    if comparison_gaps.empty:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("opportunity_id", "factor", "best_rival") else float)
                             for c in columns})
    trailing = comparison_gaps[comparison_gaps["gap"] < 0]
    trailing = trailing.sort_values(["weighted_gap", "opportunity_id", "factor"], kind="stable")
    return trailing[columns].head(n).reset_index(drop=True)
