"""The win-probability outputs in one call, for the engine.

``win_tables`` returns deal_scores, calibration, reliability, range_forecast and
health_counts from validated inputs and the deal table; ``model_probability`` (from
``funnel.winmodel.model``) is what the engine passes to ``deal_table(probability=...)`` when
``forecast_method`` is ``model``.
"""

from __future__ import annotations

import pandas as pd

from funnel.forecast.health import deal_health, health_counts
from funnel.forecast.pipeline import quota_table
from funnel.forecast.ranges import range_forecast
from funnel.forecast.stages import HistoryKeys, reached_order
from funnel.winmodel.calibration import backtest
from funnel.winmodel.model import deal_scores_table, fit_win_model, model_probability, score_deals

__all__ = ["WIN_TABLES", "win_tables", "model_probability"]

WIN_TABLES = ("deal_scores", "calibration", "reliability", "range_forecast", "health_counts")


def win_tables(inputs, deals: pd.DataFrame, reached: pd.Series | None = None,
               keys: HistoryKeys | None = None) -> dict[str, pd.DataFrame]:
    """Every output of the win-probability issue.

    Args:
        inputs: validated inputs (``funnel.inputs.validation.Inputs``).
        deals: the deal table (``funnel.forecast.deals.deal_table``), with the used probability the
            engine chose (stage or model).
        reached: ``reached_order(inputs.opportunities, ...)`` when the engine already has it
            (same rows as ``deals``); computed otherwise.
        keys: ``funnel.forecast.stages.history_keys(deals, ...)`` when the engine already has them.

    Returns:
        ``WIN_TABLES`` name -> table: deal_scores (one row per open deal: model
        probability, its reasons, health flags), calibration and reliability (the
        backtest), range_forecast (per period), health_counts (metric, value).
    """
    s = inputs.settings
    history, stages = inputs.stage_history, inputs.stages
    reached = reached_order(deals, history, stages, keys) if reached is None else reached
    model = fit_win_model(deals, history, stages, s, reached=reached)
    scores = score_deals(model, deals, history, stages, reached=reached)
    health = deal_health(deals, history, stages, s, keys=keys)
    calibration, reliability = backtest(deals, history, stages, s, reached=reached, keys=keys)
    quota = quota_table(inputs.quotas, deals, ["period"]) if not deals.empty else pd.Series(dtype=float)
    return {
        "deal_scores": deal_scores_table(deals, scores, health),
        "calibration": calibration,
        "reliability": reliability,
        "range_forecast": range_forecast(deals, quota),
        "health_counts": health_counts(deals, health),
    }
