"""The per-deal win model, its backtest, and the tables they give.

model          a naive-Bayes style model learned from closed deals, explaining each score
backtest       calibration with a time split: Brier score, log loss, reliability
recalibration  Platt and isotonic maps of the model's probabilities, learned on held-out deals
choice         which probability the forecast uses (``forecast_method``)
logistic       L2 logistic regression, the stronger learner the backtest holds naive Bayes against
tables         deal scores, calibration, reliability, range forecast and health counts
"""

from funnel.winmodel.calibration import (
    CALIBRATION_COLUMNS,
    METHODS,
    RELIABILITY_COLUMNS,
    backtest,
    brier_score,
    default_cutoff,
    log_loss,
    reliability_table,
    snapshots,
)
from funnel.winmodel.model import (
    DEAL_SCORE_COLUMNS,
    MAX_COMPETITORS,
    MODEL_FIELDS,
    QUALIFICATION_BANDS,
    SCORE_COLUMNS,
    DealFacts,
    FieldEffects,
    WinModel,
    deal_facts,
    deal_scores_table,
    factor_effects,
    fit_win_model,
    model_probabilities,
    probability_from_log_odds,
    score_deals,
    score_rows,
)

__all__ = [
    "METHODS",
    "CALIBRATION_COLUMNS",
    "RELIABILITY_COLUMNS",
    "default_cutoff",
    "snapshots",
    "brier_score",
    "log_loss",
    "reliability_table",
    "backtest",
    "MAX_COMPETITORS",
    "MODEL_FIELDS",
    "QUALIFICATION_BANDS",
    "FieldEffects",
    "WinModel",
    "DealFacts",
    "deal_facts",
    "factor_effects",
    "score_rows",
    "probability_from_log_odds",
    "fit_win_model",
    "score_deals",
    "model_probabilities",
    "deal_scores_table",
    "SCORE_COLUMNS",
    "DEAL_SCORE_COLUMNS",
]
