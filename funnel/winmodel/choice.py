"""Which probability the forecast uses: the per-deal model only where it has earned it.

``forecast_method = auto`` (the default) uses the model only where the time-split backtest
(``funnel.winmodel.calibration``) on the workbook's own closed deals shows it better than
the stage baseline (the ``probability_method`` stage probability) by more than its
uncertainty; else the stage probability. ``model`` and ``stage`` choose by the setting.

Better by more than its uncertainty: the model's Brier score minus the baseline's, over the
test snapshots, has a paired bootstrap interval that lies entirely below 0. Paired: both
methods are scored on the same resampled snapshots. The resampled unit is the test *deal*
with all its snapshots (a deal predicted at three stages is one outcome seen three times,
not three outcomes), so the statistic of one resample is the sum of its deals' squared-error
differences over the number of their snapshots: on all the deals, exactly the difference
of the two Brier scores. The model compared is the model as the forecast uses it: through
the calibration map the backtest picked (``BacktestPredictions.model_method``); the table
and the line name that map. The interval is the percentile interval (2.5% and 97.5% of
``RESAMPLES`` resamples with numpy's default generator seeded ``SEED``): the same inputs
always give the same choice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from funnel import catalog
from funnel.winmodel.calibration import BacktestPredictions, brier_score

__all__ = ["RESAMPLES", "SEED", "LEVEL", "REASONS", "CHOICE_COLUMNS", "Choice", "paired_bootstrap_interval", "choose_method",
           "choice_table", "choice_line"]

RESAMPLES = 1000
SEED = 19
LEVEL = 0.95
# Why a method was chosen; each has a catalog text ``choice.<reason>``.
REASONS = ("model_better", "model_not_better", "no_backtest", "model_fell_back", "set_model", "set_stage", "model_not_usable")
CHOICE_COLUMNS = ("setting", "method", "baseline", "calibration", "brier_raw", "brier_model", "brier_stage", "difference",
                  "ci_low", "ci_high", "deals", "predictions", "reason")
# Resamples drawn at once: bounds the memory a large book's bootstrap takes.
_CELLS_AT_ONCE = 4_000_000


@dataclass(frozen=True)
class Choice:
    """The method the forecast uses, and the backtest figures it was chosen on.

    setting: the ``forecast_method`` setting (auto, model, stage); method: model or stage;
    reason: one of ``REASONS``; baseline: the stage probability compared (blended, ...);
    brier_model, brier_stage, low, high: the two Brier scores and the interval of their
    difference (model - stage), NaN without a backtest; deals, predictions: test deals and
    snapshots scored (0 without a backtest). calibration: the map the model's probabilities
    go through (none, platt, isotonic; ``funnel.winmodel.recalibration``); brier_raw: the
    model's Brier score without it (brier_model is with it).
    """

    setting: str
    method: str
    reason: str
    baseline: str
    brier_model: float = np.nan
    brier_stage: float = np.nan
    low: float = np.nan
    high: float = np.nan
    deals: int = 0
    predictions: int = 0
    calibration: str = "none"
    brier_raw: float = np.nan

    @property
    def difference(self) -> float:
        return self.brier_model - self.brier_stage


def paired_bootstrap_interval(
    loss_a: np.ndarray,
    loss_b: np.ndarray,
    group: np.ndarray,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> tuple[float, float]:
    """Percentile bootstrap interval of mean(loss_a) - mean(loss_b), resampling whole groups.

    Args:
        loss_a, loss_b: the two methods' loss of each prediction (same predictions).
        group: the group of each prediction, 0 .. groups - 1 (the test deal); a resample
            draws ``groups`` groups with replacement, each with all its predictions.
        resamples: number of resamples.
        seed: seed of ``numpy.random.default_rng``; resample r draws
            ``rng.integers(0, groups, groups)`` in order.
        level: coverage; 0.95 takes the 2.5% and 97.5% quantiles (numpy's linear rule).

    Returns:
        (low, high) with low <= high; (nan, nan) without a prediction.
    """
    group = np.asarray(group, dtype=np.intp)
    if len(group) == 0:
        return np.nan, np.nan
    groups = int(group.max()) + 1
    diff = np.bincount(group, weights=np.asarray(loss_a, dtype=float) - np.asarray(loss_b, dtype=float), minlength=groups)
    count = np.bincount(group, minlength=groups).astype(float)
    rng = np.random.default_rng(seed)
    stats = np.empty(resamples)
    step = max(1, _CELLS_AT_ONCE // groups)
    for start in range(0, resamples, step):
        n = min(step, resamples - start)
        drawn = rng.integers(0, groups, (n, groups))
        # A resample with no prediction (only empty groups drawn) is a difference of 0.
        total = count[drawn].sum(axis=1)
        stats[start:start + n] = np.divide(diff[drawn].sum(axis=1), total, out=np.zeros(n), where=total > 0)
    tail = (1 - level) / 2
    low, high = np.quantile(stats, [tail, 1 - tail])
    return float(low), float(high)


def choose_method(
    found: BacktestPredictions | None,
    baseline: str,
    setting: str = "auto",
    model_usable: bool = True,
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Choice:
    """The method the forecast uses (see the module docstring).

    Args:
        found: the backtest's predictions (``backtest_predictions``); None: no backtest.
        baseline: the stage probability compared, a method of the backtest (blended, ...).
        setting: the ``forecast_method`` setting: auto, model or stage.
        model_usable: the model learned from all closed deals has learned enough
            (``WinModel.usable``); a model that has not is never chosen.
        resamples, seed: of the bootstrap.

    Returns:
        The choice, with the backtest's figures where there is a backtest.
    """
    figures = {}
    if found is not None:
        model, stage = found.predictions[found.model_method], found.predictions[baseline]
        y = found.won.astype(float)
        low, high = paired_bootstrap_interval((model - y) ** 2, (stage - y) ** 2, found.deal, resamples, seed)
        figures = {"brier_model": brier_score(model, y), "brier_stage": brier_score(stage, y), "low": low, "high": high,
                   "deals": found.deals, "predictions": len(y), "calibration": found.calibration,
                   "brier_raw": brier_score(found.predictions["model"], y)}

    def chosen(method: str, reason: str) -> Choice:
        return Choice(setting, method, reason, baseline, **figures)

    if setting == "stage":
        return chosen("stage", "set_stage")
    if not model_usable:
        return chosen("stage", "model_not_usable")
    if setting == "model":
        return chosen("model", "set_model")
    if found is None:
        return chosen("stage", "no_backtest")
    if found.model_fell_back:
        return chosen("stage", "model_fell_back")
    if figures["high"] < 0:
        return chosen("model", "model_better")
    return chosen("stage", "model_not_better")


def _reason(choice: Choice, language: str) -> str:
    return catalog.text(f"choice.{choice.reason}", language, baseline=choice.baseline)


def choice_table(choice: Choice, language: str) -> pd.DataFrame:
    """The choice as the one-row table the Win rates sheet shows (``CHOICE_COLUMNS``).

    calibration: the map the model goes through; brier_raw, brier_model: the model's
    Brier score without and with it; difference = brier_model - brier_stage; ci_low, ci_high its interval; reason in the
    workbook's language. Figures are blank without a backtest.
    """
    row = {
        "setting": choice.setting, "method": choice.method, "baseline": choice.baseline,
        "calibration": choice.calibration, "brier_raw": choice.brier_raw, "brier_model": choice.brier_model, "brier_stage": choice.brier_stage, "difference": choice.difference,
        "ci_low": choice.low, "ci_high": choice.high, "deals": choice.deals, "predictions": choice.predictions,
        "reason": _reason(choice, language),
    }
    return pd.DataFrame([row], columns=list(CHOICE_COLUMNS))


def choice_line(choice: Choice, language: str) -> str:
    """The choice in one line (the command line's headline)."""
    reason = _reason(choice, language)
    if np.isnan(choice.brier_model):
        return catalog.text("message.forecast_choice_alone", language, method=choice.method, setting=choice.setting,
                            reason=reason)
    return catalog.text(
        "message.forecast_choice", language, method=choice.method, setting=choice.setting, baseline=choice.baseline,
        calibration=catalog.text(f"shown.calibration.{choice.calibration}", language), brier_raw=f"{choice.brier_raw:.4f}",
        brier_model=f"{choice.brier_model:.4f}", brier_stage=f"{choice.brier_stage:.4f}", low=f"{choice.low:+.4f}",
        high=f"{choice.high:+.4f}", deals=f"{choice.deals:,}", reason=reason,
    )
