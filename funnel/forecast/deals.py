"""The deal table every analysis starts from: one row per valid opportunity, enriched.

Adds to the validated opportunities: is_open / is_won / is_lost, the close period, the
forecast category (the stage's unless overridden), the used probability and the
weighted amount (amount x used probability). Computed once; every output reads it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnel.forecast.stages import used_probability
from funnel.inputs.keys import filled, labelled, looked_up
from funnel.inputs.periods import period_labels
from funnel.inputs.settings import Settings

__all__ = ["NONE_LABEL", "deal_table", "with_probability", "amount_band_labels"]

# Shown where a deal has no owner/team/source/product/industry/account: a blank segment is
# the group "(none)" in the forecast, win-rate and account tables, so groups still add up.
NONE_LABEL = "(none)"


def amount_band_labels(amounts: pd.Series, edges: list[float]) -> pd.Series:
    """The amount band of each amount, e.g. ``50,000-200,000``; blank amounts: ``no amount``
    (a categorical column)."""
    names = []
    bounds = [-np.inf, *edges, np.inf]
    for lo, hi in zip(bounds, bounds[1:]):
        if lo == -np.inf:
            names.append(f"< {hi:,.0f}")
        elif hi == np.inf:
            names.append(f">= {lo:,.0f}")
        else:
            names.append(f"{lo:,.0f}-{hi:,.0f}")
    values = amounts.to_numpy(dtype=float)
    band = np.minimum(np.searchsorted(np.asarray(edges, dtype=float), values, side="right"), len(names) - 1)
    band[np.isnan(values)] = len(names)
    return labelled(band, [*names, "no amount"], amounts.index)  # a key column like the others


def deal_table(
    opportunities: pd.DataFrame,
    stages: pd.DataFrame,
    probabilities: pd.DataFrame,
    settings: Settings,
    probability: pd.Series | None = None,
) -> pd.DataFrame:
    """Enrich validated opportunities for the analyses.

    Args:
        opportunities: validated opportunities.
        stages: validated stage scheme.
        probabilities: output of ``stage_probabilities``.
        settings: workbook settings (period, method, bands).
        probability: per-deal probability to use instead of the stage method (the
            per-deal model); overrides and closed deals still win.

    Returns:
        The opportunities plus is_open, is_won, is_lost, period, category, stage_probability,
        used_probability, weighted, amount_band; a blank owner, team, source, product,
        industry or account is ``(none)`` (``NONE_LABEL``), one group like any other.
    """
    deals = opportunities.copy()
    won_codes = stages.loc[stages["is_won"], "code"]
    lost_codes = stages.loc[stages["is_lost"], "code"]
    deals["is_won"] = deals["stage"].isin(won_codes)
    deals["is_lost"] = deals["stage"].isin(lost_codes)
    deals["is_open"] = ~(deals["is_won"] | deals["is_lost"])
    deals["period"] = period_labels(deals["close_date"], settings)
    stage_category = pd.Series(looked_up(deals["stage"], stages.set_index("code")["forecast_category"]), index=deals.index, dtype=object)
    category = deals["forecast_category"].where(deals["forecast_category"].notna(), stage_category)
    # A closed deal's category is fixed by its outcome, whatever override it carries.
    category = category.where(~deals["is_won"], "Closed").where(~deals["is_lost"], "Omitted")
    deals["category"] = category
    deals["stage_probability"] = used_probability(
        deals.assign(probability_override=np.nan), stages, probabilities, settings.probability_method
    )
    used = used_probability(deals, stages, probabilities, settings.probability_method)
    deals["used_probability"] = used
    deals["weighted"] = deals["amount"].fillna(0) * used
    for col in ("owner", "team", "source", "product", "industry", "account"):
        deals[col] = filled(deals[col], NONE_LABEL)
    deals["amount_band"] = amount_band_labels(deals["amount"], settings.band_edges())
    return deals if probability is None else with_probability(deals, probability)


def with_probability(deals: pd.DataFrame, probability: pd.Series | None) -> pd.DataFrame:
    """A deal table of the stage method (``deal_table`` without ``probability``) with
    ``probability`` used instead where a deal has one, as ``deal_table(..., probability)``
    makes it: overrides and closed deals keep theirs; used_probability and weighted change,
    nothing else (so the deal table need not be built twice)."""
    if probability is None:
        return deals
    model = probability.reindex(deals.index)
    keep_override = deals["probability_override"].notna() | ~deals["is_open"]
    used = deals["used_probability"].where(keep_override | model.isna(), model)
    out = deals.copy()
    out["used_probability"] = used
    out["weighted"] = out["amount"].fillna(0) * used
    return out
