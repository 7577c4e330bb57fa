"""A stronger learner to hold the naive Bayes model against: L2-regularised logistic regression.

Naive Bayes adds each factor's log-likelihood ratio as if the factors were independent, so
correlated factors (an owner who works one industry) are counted twice and the model is
overconfident. Logistic regression fits all the factors' weights together, so shared
evidence is counted once; the L2 penalty pulls every value's weight towards 0 (towards
the stage's rate), more where a value has few deals: a hierarchical shrinkage of the
owner, product, ... effects towards the stage baseline.

The same facts as the naive Bayes model (``funnel.winmodel.model``): one column per
open stage (not penalised, so the stages' rates come from the data), one per value of each
of ``MODEL_FIELDS`` seen among the training deals, one per competitor among the
``MAX_COMPETITORS`` most named (present: 1). A value never seen in training has no column:
it adds nothing, as in naive Bayes. A deal's weights are also its explanation: each of its
values adds its weight to the log odds.

Rows: each closed training deal once for every open stage up to the furthest it reached
(``reached``; a won deal reached every stage), labelled with its outcome: the stage columns
then learn P(won | reached the stage), the naive Bayes stage odds.

Fitting: Newton's method (iteratively reweighted least squares) on the penalised
log-likelihood  sum_i [y_i log q_i + (1 - y_i) log(1 - q_i)] - (lambda / 2) sum_j beta_j^2
over the penalised columns, vectorised in numpy (one (p, p) solve per step).

Where it stands (``python bench/learners.py --book <the Maven import>``; each learner through
the calibration map its backtest picks): demo 0.1733 (Platt) against naive Bayes 0.1727,
Maven 0.2396 against 0.2396, the difference's paired bootstrap interval including 0 on
both (demo -0.0048 to +0.0053). It does not win on both, and as written (a dense design,
one row per deal and stage) it costs about 40 s of CPU at 100,000 deals against 0.3 s, so
the forecast keeps naive Bayes and this learner is measured, not used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from funnel.inputs.settings import Settings
from funnel.winmodel.calibration import Fitted
from funnel.winmodel.model import MAX_COMPETITORS, MODEL_FIELDS, DealFacts, _open_stage_orders, deal_facts, fact_columns
from funnel.winmodel.recalibration import probability_from_log_odds

__all__ = ["PENALTY", "fit_logistic", "LogisticModel", "design", "fit_logistic_model", "logistic_learner"]

# lambda: a value's weight has a prior standard deviation of 1 / sqrt(30) = 0.18 in log odds.
PENALTY = 30.0
_STAGE_PENALTY = 1e-6  # keeps the solve well posed where a stage has no row


def fit_logistic(x: np.ndarray, y: np.ndarray, penalty: np.ndarray, iterations: int = 50,
                 tolerance: float = 1e-10) -> np.ndarray:
    """The weights maximising the L2-penalised log-likelihood, by Newton's method.

    Args:
        x: (rows, columns) design; y: (rows,) outcomes 0/1; penalty: (columns,) lambda of
            each column (0: not penalised; an intercept column of ones takes 0).
        iterations, tolerance: stop after this many steps or when no weight moves more.

    Returns:
        (columns,) weights; probabilities are ``probability_from_log_odds(x @ weights)``.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    penalty = np.asarray(penalty, dtype=float)
    beta = np.zeros(x.shape[1])
    for _ in range(iterations):
        q = probability_from_log_odds(x @ beta)
        gradient = x.T @ (q - y) + penalty * beta
        hessian = (x * (q * (1 - q))[:, None]).T @ x + np.diag(penalty)
        step = np.linalg.solve(hessian + 1e-12 * np.eye(len(beta)), gradient)
        beta -= step
        if np.abs(step).max() < tolerance:
            break
    return beta


@dataclass(frozen=True)
class LogisticModel:
    """A fitted logistic model: its columns (stages, then each field's values, then competitors)."""

    closed_deals: int
    min_closed: int
    stage_orders: np.ndarray
    levels: dict[str, np.ndarray]  # field -> the values that have a column, in column order
    competitor_keys: tuple[str, ...]
    weights: np.ndarray

    @property
    def usable(self) -> bool:
        return self.closed_deals >= self.min_closed

    def stage_index(self, orders: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(self.stage_orders, np.asarray(orders)), 0, len(self.stage_orders) - 1)

    def contributions(self, facts: DealFacts, stage_idx: np.ndarray) -> np.ndarray:
        """(rows, columns): what each column adds to each row's log odds (their sum is it)."""
        return design(facts, stage_idx, len(self.stage_orders), self.levels, self.competitor_keys) * self.weights

    def probability(self, facts: DealFacts, stage_idx: np.ndarray) -> np.ndarray:
        x = design(facts, stage_idx, len(self.stage_orders), self.levels, self.competitor_keys)
        return probability_from_log_odds(x @ self.weights)


def design(facts: DealFacts, stage_idx: np.ndarray, stages: int, levels: dict[str, np.ndarray],
           competitor_keys: tuple[str, ...]) -> np.ndarray:
    """The (rows, columns) 0/1 design of ``facts`` at stage positions ``stage_idx``."""
    rows = len(stage_idx)
    blocks = [np.zeros((rows, stages))]
    blocks[0][np.arange(rows), stage_idx] = 1.0
    for name, wanted in levels.items():
        codes, values = facts.fields[name]
        column_of_value = pd.Index(wanted).get_indexer(values)  # -1: a value with no column
        column = column_of_value[codes] if len(values) else np.full(rows, -1)
        block = np.zeros((rows, len(wanted)))
        has = column >= 0
        block[np.flatnonzero(has), column[has]] = 1.0
        blocks.append(block)
    if competitor_keys:
        blocks.append(facts.presence(competitor_keys).astype(float))
    return np.hstack(blocks)


def fit_logistic_model(train: pd.DataFrame, stages: pd.DataFrame, settings: Settings, reached: pd.Series,
                       penalty: float = PENALTY, facts: DealFacts | None = None) -> LogisticModel:
    """Fit on the closed deals of ``train`` (see the module docstring for the rows).

    Args:
        train: deal-table rows; its won and lost deals are learned from.
        stages: the stage scheme; settings: for ``model_min_closed``.
        reached: the order of the furthest open stage each row of ``train`` reached.
        penalty: lambda of every field value's and competitor's weight.
        facts: ``deal_facts(train)`` when already computed.
    """
    _, orders = _open_stage_orders(stages)
    closed_mask = (train["is_won"] | train["is_lost"]).to_numpy(dtype=bool)
    closed = fact_columns(train, "id", "is_won")[closed_mask]
    facts = deal_facts(closed) if facts is None else facts.take(np.flatnonzero(closed_mask))
    levels = {}
    for name in MODEL_FIELDS:
        codes, values = facts.fields[name]
        seen = np.unique(codes)
        if len(seen) >= 2:  # a fact every deal shares tells nothing (as in naive Bayes)
            levels[name] = values[seen]
    counts = facts.competitor_counts()
    keys = tuple(counts.sort_values("deals", ascending=False, kind="stable").head(MAX_COMPETITORS)["key"]) if len(counts) else ()
    model = LogisticModel(len(closed), settings.model_min_closed, orders, levels, keys, np.zeros(0))
    if closed.empty:
        return model
    reach = model.stage_index(np.asarray(reached)[closed_mask])
    deal = np.repeat(np.arange(len(closed)), reach + 1)  # each deal at stages 0 .. its furthest
    stage = np.arange(len(deal)) - np.repeat(np.cumsum(reach + 1) - (reach + 1), reach + 1)
    x = design(facts.take(deal), stage, len(orders), levels, keys)
    lam = np.full(x.shape[1], float(penalty))
    lam[:len(orders)] = _STAGE_PENALTY
    won = closed["is_won"].to_numpy(dtype=bool)[deal]
    return LogisticModel(len(closed), settings.model_min_closed, orders, levels, keys, fit_logistic(x, won, lam))


def logistic_learner(penalty: float = PENALTY):
    """The logistic model as a backtest learner (``funnel.winmodel.calibration.Learner``)."""
    def learn(train: pd.DataFrame, facts: DealFacts, history: pd.DataFrame, stages: pd.DataFrame, settings: Settings,
              reached: pd.Series) -> Fitted:
        model = fit_logistic_model(train, stages, settings, reached, penalty, facts)

        def predict(snap_facts: DealFacts, orders: np.ndarray) -> np.ndarray:
            return model.probability(snap_facts, model.stage_index(orders))
        return Fitted(model.closed_deals, model.usable, predict)
    return learn
