"""Stage schemes and stage probabilities: configured, learned from history, and blended.

The schemes themselves (presets, positions of codes) are inputs: ``funnel.inputs.schemes``.

Stages the data uses: a stage is in use when some deal sits in it now or some stage-history
row records it. A scheme may have stages a book never records (an import whose layout maps
nothing to B): those have no data, so no empirical figure, and nothing is credited to them.

How far a deal got ("reached"): a deal reached every stage it has history for and every
earlier stage in the scheme's order. A won deal reached every open stage the data uses
(the furthest one in use). A lost deal reached the highest open stage in its history (or,
with no history, the first stage: it was in the funnel).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from funnel.inputs.keys import looked_up, positions
from funnel.inputs.schemes import open_stages, stage_positions

__all__ = [
    "reached_order",
    "stages_in_use",
    "HistoryKeys",
    "history_keys",
    "deal_time_order",
    "stage_probabilities",
    "used_probability",
]

@dataclass(frozen=True)
class HistoryKeys:
    """Integer keys of each stage-history row, worked out once per run.

    deal: the row position of the row's deal in the deal table (-1: not one of its deals);
    stage: the row position of the row's stage in the stage table (-1: not a stage);
    entered: each row's ``entered`` (datetime64[ns]), for ``by_time``.
    Analyses that take ``keys`` use them instead of looking the text up again; they must
    come from ``history_keys`` on the same deals (rows in the same order), history and
    stages.
    """

    deal: np.ndarray
    stage: np.ndarray
    entered: np.ndarray | None = None

    @cached_property
    def by_time(self) -> np.ndarray:
        """``deal_time_order(deal, entered)``: the rows by deal, then time, sorted once for
        every analysis that walks a deal's history in order."""
        return deal_time_order(self.deal, self.entered)

    def fits(self, deals: pd.DataFrame, history: pd.DataFrame) -> bool:
        """Whether these keys can belong to ``deals`` and ``history`` (same history length,
        deal positions inside the deal table)."""
        n = len(self.deal)
        return n == len(history) == len(self.stage) and (n == 0 or int(self.deal.max()) < len(deals))


def history_keys(deals: pd.DataFrame, history: pd.DataFrame, stages: pd.DataFrame) -> HistoryKeys:
    """The ``HistoryKeys`` of ``history`` against ``deals`` and ``stages``.

    Args:
        deals: the opportunities or the deal table (unique ids, as validated).
        history: stage history (opportunity_id, stage, entered).
        stages: the stage scheme.

    Returns:
        The keys: one lookup per distinct deal id and stage code (the history's key
        columns are categorical once validated).
    """
    if history.empty:
        return HistoryKeys(np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), np.zeros(0, dtype="datetime64[ns]"))
    return HistoryKeys(positions(pd.Index(deals["id"]), history["opportunity_id"]), stage_positions(stages, history["stage"]),
                       history["entered"].to_numpy(dtype="datetime64[ns]"))


def _keys_for(keys: HistoryKeys | None, deals: pd.DataFrame, history: pd.DataFrame, stages: pd.DataFrame) -> HistoryKeys:
    # The given keys when they fit, else fresh ones.
    return keys if keys is not None and keys.fits(deals, history) else history_keys(deals, history, stages)


def deal_time_order(deal: np.ndarray, entered: np.ndarray) -> np.ndarray:
    """Row positions sorted by deal, then entered day/time, ties in the given order.

    Args:
        deal: integer deal key per row.
        entered: ``datetime64[ns]`` per row (no NaT).

    Returns:
        The stable sort permutation (``np.lexsort((entered, deal))``), found with one
        integer sort, or none when the rows are already in that order.
    """
    n = len(deal)
    if n < 2:
        return np.arange(n)
    deal = np.asarray(deal, dtype=np.int64)
    entered = np.asarray(entered, dtype="datetime64[ns]")
    if np.isnat(entered).any():
        return np.lexsort((entered, deal))  # NaT sorts last there, as before
    stamp = entered.view(np.int64)
    day_ns = 86_400 * 10**9
    if (stamp % day_ns == 0).all():
        stamp = stamp // day_ns  # dates only (as validated): a much smaller key span
    d_lo, t_lo = int(deal.min()), int(stamp.min())
    t_span = int(stamp.max()) - t_lo + 1
    if (int(deal.max()) - d_lo + 1) * t_span < 2**62:
        key = (deal - d_lo) * t_span + (stamp - t_lo)
        if (key[1:] >= key[:-1]).all():
            return np.arange(n)
        return np.argsort(key, kind="stable")
    return np.lexsort((stamp, deal))


def stages_in_use(opportunities: pd.DataFrame, history: pd.DataFrame, stages: pd.DataFrame,
                  keys: HistoryKeys | None = None) -> np.ndarray:
    """Per row of ``stages``: whether the data uses the stage.

    A stage is in use when some deal's current stage is it or some stage-history row
    records it (see the module docstring).

    Args:
        opportunities: the deals (stage).
        history: stage history (stage).
        stages: the stage scheme.
        keys: ``history_keys(opportunities, history, stages)`` when already computed.

    Returns:
        A boolean array, one entry per stage row.
    """
    used = np.zeros(len(stages), dtype=bool)
    current = stage_positions(stages, opportunities["stage"])
    used[current[current >= 0]] = True
    if not history.empty:
        recorded = keys.stage if keys is not None and len(keys.stage) == len(history) else stage_positions(stages, history["stage"])
        used[recorded[recorded >= 0]] = True
    return used


def reached_order(opportunities: pd.DataFrame, history: pd.DataFrame, stages: pd.DataFrame,
                  keys: HistoryKeys | None = None, used: np.ndarray | None = None) -> pd.Series:
    """For each deal (indexed by id), the order of the furthest open stage it reached.

    See the module docstring for the rule. Deals whose furthest stage is unknown get the
    first open stage's order, and so do won deals when the data uses no open stage.

    Args:
        opportunities: the deals (id, stage).
        history: stage history.
        stages: the stage scheme.
        keys: ``history_keys(opportunities, history, stages)`` when already computed.
        used: ``stages_in_use`` of the book these deals belong to; None counts every stage
            as used (a subset of a book, such as a backtest's training deals, cannot tell
            which stages the book uses: pass the book's).
    """
    scheme_open = open_stages(stages)
    first = int(scheme_open["order"].min())
    is_open_row = ~(stages["is_won"] | stages["is_lost"]).to_numpy(dtype=bool)
    in_use = np.ones(len(stages), dtype=bool) if used is None else np.asarray(used, dtype=bool)
    in_use_orders = stages["order"].to_numpy()[is_open_row & in_use]
    # A won deal is credited only with stages the data records: never with one no deal was in.
    last = int(in_use_orders.max()) if len(in_use_orders) else first
    # Open stages' orders by stage position; NaN for won, lost and unknown stages.
    is_open_stage = ~(stages["is_won"] | stages["is_lost"]).to_numpy(dtype=bool)
    open_order = np.append(np.where(is_open_stage, stages["order"].to_numpy(dtype=float), np.nan), np.nan)
    ids = opportunities["id"]
    current = opportunities["stage"]
    reached = open_order[stage_positions(stages, current)]  # position -1 picks the NaN
    if not history.empty:
        keys = _keys_for(keys, opportunities, history, stages)
        hist_order = open_order[keys.stage]
        # Deal positions by one hash lookup; a per-deal maximum without grouping strings.
        position = keys.deal
        keep = ~np.isnan(hist_order) & (position >= 0)
        furthest = np.full(len(ids), -np.inf)
        np.maximum.at(furthest, position[keep], hist_order[keep])
        furthest[np.isinf(furthest)] = np.nan
        reached = np.fmax(reached, furthest)
    reached = pd.Series(reached, index=ids.to_numpy())
    won_codes = set(stages.loc[stages["is_won"], "code"])
    is_won = current.isin(won_codes).to_numpy()
    reached[is_won] = last
    return reached.fillna(first).astype(int)


def stage_probabilities(
    opportunities: pd.DataFrame,
    history: pd.DataFrame,
    stages: pd.DataFrame,
    prior_strength: float,
    reached: pd.Series | None = None,
    used: np.ndarray | None = None,
) -> pd.DataFrame:
    """Configured, empirical and blended probability of winning from each stage.

    empirical = won / closed among closed deals that reached the stage;
    blended = (won + k * configured) / (closed + k), k = ``prior_strength``.
    Won stages are 1 and lost stages 0 under every method. An open stage the data does not
    use (``stages_in_use``) counts no deal: its empirical figure is blank and its blended
    one is the configured one.

    Args:
        reached: ``reached_order`` of the same deals, when already computed.
        used: ``stages_in_use`` of the book these deals belong to; None counts every
            stage as used (see ``reached_order``).

    Returns:
        One row per stage (scheme order): code, name, order, configured, reached_closed,
        reached_won, empirical (NaN without support), blended, in_use.
    """
    won_codes = set(stages.loc[stages["is_won"], "code"])
    lost_codes = set(stages.loc[stages["is_lost"], "code"])
    if used is None:
        used = np.ones(len(stages), dtype=bool)
    if reached is None:
        reached = reached_order(opportunities, history, stages, used=used)
    stage = opportunities["stage"]
    won = stage.isin(list(won_codes)).to_numpy(dtype=bool)
    closed = won | stage.isin(list(lost_codes)).to_numpy(dtype=bool)
    # Deals per furthest order, then "reached at least order o" by a reverse cumulative sum.
    orders = reached.to_numpy()
    all_orders = np.sort(stages["order"].unique())
    closed_at = pd.Series(closed.astype(int)).groupby(orders).sum().reindex(all_orders, fill_value=0)
    won_at = pd.Series(won.astype(int)).groupby(orders).sum().reindex(all_orders, fill_value=0)
    closed_reaching = closed_at[::-1].cumsum()[::-1]
    won_reaching = won_at[::-1].cumsum()[::-1]

    out = stages[["code", "name", "order", "probability", "is_won", "is_lost"]].rename(columns={"probability": "configured"})
    out = out.reset_index(drop=True)
    out["reached_closed"] = out["order"].map(closed_reaching).fillna(0).astype(int)
    out["reached_won"] = out["order"].map(won_reaching).fillna(0).astype(int)
    terminal = out["is_won"] | out["is_lost"]
    out["in_use"] = np.asarray(used, dtype=bool)
    # Terminal stages, and open stages no deal was ever recorded in, count no deal.
    out.loc[terminal | ~out["in_use"], ["reached_closed", "reached_won"]] = 0
    with np.errstate(invalid="ignore", divide="ignore"):
        out["empirical"] = np.where(out["reached_closed"] > 0, out["reached_won"] / out["reached_closed"], np.nan)
        k = float(prior_strength)
        denom = out["reached_closed"] + k
        out["blended"] = np.where(denom > 0, (out["reached_won"] + k * out["configured"]) / denom, out["configured"])
    # No data: the configured figure itself, not (0 + k c) / (0 + k) with its rounding.
    out.loc[~out["in_use"], "blended"] = out.loc[~out["in_use"], "configured"]
    for col in ("empirical", "blended"):
        out.loc[out["is_won"], col] = 1.0
        out.loc[out["is_lost"], col] = 0.0
    return out.drop(columns=["is_won", "is_lost"])


def used_probability(
    opportunities: pd.DataFrame,
    stages: pd.DataFrame,
    probabilities: pd.DataFrame,
    method: str,
) -> pd.Series:
    """The probability each deal is forecast with.

    Won deals 1, lost deals 0; otherwise the deal's override if set, else its stage's
    probability under ``method`` (configured, empirical or blended; an empirical value
    without support falls back to the configured one).
    """
    table = probabilities.set_index("code")
    by_method = table[method] if method != "empirical" else table["empirical"].fillna(table["configured"])
    prob = pd.Series(looked_up(opportunities["stage"], by_method), index=opportunities.index, dtype=float)
    override = opportunities["probability_override"]
    prob = override.where(override.notna(), prob)
    won = opportunities["stage"].isin(stages.loc[stages["is_won"], "code"])
    lost = opportunities["stage"].isin(stages.loc[stages["is_lost"], "code"])
    prob = prob.where(~won, 1.0).where(~lost, 0.0)
    return prob.clip(0, 1)
