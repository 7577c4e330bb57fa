"""The L2 logistic regression held against the naive Bayes model, pinned on hand-worked examples
and checked against an independent solve; its probabilities are probabilities."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funnel.winmodel.calibration import backtest, backtest_predictions
from funnel.winmodel.logistic import fit_logistic, fit_logistic_model, logistic_learner
from funnel.winmodel.model import deal_facts
from tests.funnel.test_calibration import _deal_table, hand_book

# Six deals: an intercept and one yes/no fact; without the fact 1 of 3 won, with it 2 of 3.
X6 = np.array([[1, 0], [1, 0], [1, 0], [1, 1], [1, 1], [1, 1]], dtype=float)
Y6 = np.array([1, 0, 0, 1, 1, 0], dtype=float)


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def _root(f, low: float, high: float) -> float:
    # Bisection of an increasing f: independent of Newton's method.
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if f(mid) < 0 else (low, mid)
    return (low + high) / 2


def test_six_points_unpenalised_give_the_two_rates():
    # Two groups, two weights: the fit reproduces each group's rate, so b0 = logit(1/3) = -ln 2
    # and b0 + b1 = logit(2/3) = ln 2: b1 = 2 ln 2.
    b0, b1 = fit_logistic(X6, Y6, np.zeros(2))
    assert b0 == pytest.approx(-math.log(2)) and b1 == pytest.approx(2 * math.log(2))


def test_six_points_penalised_match_an_independent_solve():
    # Penalty 1 on the fact's weight only. The optimum has a zero gradient:
    #   sum (q - y) = 0 (the intercept)  and  sum over the fact's deals (q - y) + b1 = 0.
    # Solved by nested bisection: for each b1 the b0 that zeroes the first, then the b1 that
    # zeroes the second.
    def b0_for(b1):
        return _root(lambda b0: 3 * _sigmoid(b0) + 3 * _sigmoid(b0 + b1) - 3, -20, 20)

    def second(b1):
        return 3 * _sigmoid(b0_for(b1) + b1) - 2 + b1

    b1 = _root(second, -20, 20)
    b0 = b0_for(b1)
    got = fit_logistic(X6, Y6, np.array([0.0, 1.0]))
    assert got == pytest.approx([b0, b1], abs=1e-9)
    # By symmetry b0 = -b1 / 2, so b1 solves 3 sigmoid(b1 / 2) - 2 + b1 = 0: 0.3639 (3 x 0.54549
    # - 2 + 0.36391 = 0); the penalty pulls the fact's weight from 2 ln 2 = 1.386 to 0.3639.
    assert got[1] == pytest.approx(0.3639, abs=1e-4) and got[0] == pytest.approx(-got[1] / 2)


def test_a_stage_only_model_learns_each_stages_rate():
    # In the hand book every fact is shared, so the model has only the stage columns (barely
    # penalised): the rows are each training deal at every stage up to its furthest, so a stage's
    # weight gives its rate among the deals that reached it: P 2 of 4, I 2 of 3 (T1, T2, T4).
    inputs, deals = _deal_table(hand_book(), {"model_min_closed": "2"})
    train = deals[deals["id"].str.startswith("T")]
    from funnel.forecast.stages import reached_order

    model = fit_logistic_model(train, inputs.stages, inputs.settings, reached_order(train, inputs.stage_history, inputs.stages))
    assert model.levels == {} and model.usable
    p = model.probability(deal_facts(train.iloc[:2]), np.array([0, 1]))
    assert p == pytest.approx([1 / 2, 2 / 3], abs=1e-5)
    # The backtest of this learner: S1 at P and I, S2 and S3 at P -> 1/2, 2/3, 1/2, 1/2: the
    # empirical stage rates, so the same Brier, (3 x 1/4 + 1/9) / 4.
    c = backtest(deals, inputs.stage_history, inputs.stages, inputs.settings)[0].set_index("method")
    found = backtest_predictions(deals, inputs.stage_history, inputs.stages, inputs.settings, learner=logistic_learner())
    assert found.predictions["model"] == pytest.approx([1 / 2, 2 / 3, 1 / 2, 1 / 2], abs=1e-5)
    assert c.loc["empirical", "brier"] == pytest.approx((0.75 + 1 / 9) / 4)


def test_a_deals_contributions_add_up_to_its_log_odds():
    from funnel.demo.data import demo_tables
    from funnel.forecast.stages import reached_order

    inputs, deals = _deal_table(demo_tables(size=300, seed=3))
    closed = deals[deals["is_won"] | deals["is_lost"]]
    model = fit_logistic_model(closed, inputs.stages, inputs.settings, reached_order(closed, inputs.stage_history, inputs.stages))
    facts = deal_facts(closed)
    stage_idx = np.zeros(len(closed), dtype=np.intp)
    parts = model.contributions(facts, stage_idx)
    p = model.probability(facts, stage_idx)
    assert parts.shape == (len(closed), len(model.weights))
    assert 1 / (1 + np.exp(-parts.sum(axis=1))) == pytest.approx(p)
    assert "owner" in model.levels and len(model.competitor_keys) > 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.booleans(), st.booleans()), min_size=1, max_size=30),
       st.floats(0.1, 100))
def test_fitted_probabilities_are_probabilities(rows, penalty):
    # Any outcomes, separable ones among them: with the facts penalised the weights stay finite.
    group = np.array([r[0] for r in rows])
    x = np.column_stack([np.ones(len(rows)), group == 1, group == 2, [r[1] for r in rows]]).astype(float)
    y = np.array([r[2] for r in rows], dtype=float)
    beta = fit_logistic(x, y, np.array([penalty, penalty, penalty, penalty]))
    assert np.all(np.isfinite(beta))
    q = 1 / (1 + np.exp(-(x @ beta)))
    assert np.all((q >= 0) & (q <= 1))
    # The penalised optimum: gradient zero.
    assert np.abs(x.T @ (q - y) + penalty * beta).max() < 1e-6
