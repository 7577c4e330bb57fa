"""The range forecast: exact on hand-worked books, and checked against plain Monte Carlo.

Monte Carlo tolerance. With N independent trials the empirical q-quantile has standard
error sqrt(q (1 - q) / N) / f(x_q), f the density there. For a near-normal total with
standard deviation s, f(x_q) = phi(z_q) / s, so the error is 1.71 s / sqrt(N) at P10 and
P90 and 1.25 s / sqrt(N) at P50: with N = 100,000, 0.0054 s. We allow 0.03 s (more than
five standard errors), far below anything a forecast reader would notice, and far above
what the method itself loses (its bounds are about 1e-12 in probability and s / 512 in
amount). A probability estimated from N trials has standard error sqrt(p (1 - p) / N) <=
0.0016; we allow 0.008.
"""

from __future__ import annotations

from math import comb

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import funnel.forecast.ranges as rf
from funnel.forecast.deals import deal_table
from funnel.forecast.pipeline import quota_table
from funnel.forecast.ranges import RANGE_COLUMNS, open_total, range_forecast
from funnel.forecast.stages import stage_probabilities
from funnel.inputs.validation import validate
from tests.funnel.worked_example import worked_tables

TRIALS = 100_000


def monte_carlo(amounts: np.ndarray, probabilities: np.ndarray, trials: int = TRIALS, seed: int = 20261120) -> np.ndarray:
    """Plain simulation: each trial draws every deal independently."""
    rng = np.random.default_rng(seed)
    out = np.empty(trials)
    rows = max(1, 4_000_000 // len(amounts))
    for start in range(0, trials, rows):
        end = min(trials, start + rows)
        out[start:end] = (rng.random((end - start, len(amounts))) < probabilities) @ amounts
    return out


def test_worked_example_range():
    inputs = validate(worked_tables())
    s = inputs.settings
    probabilities = stage_probabilities(inputs.opportunities, inputs.stage_history, inputs.stages, s.prior_strength)
    deals = deal_table(inputs.opportunities, inputs.stages, probabilities, s)
    table = range_forecast(deals, quota_table(inputs.quotas, deals, ["period"]))
    assert list(table.columns) == list(RANGE_COLUMNS)
    assert list(table["period"]) == ["2026-Q1", "2026-Q2", "no close date"]
    q2 = table.set_index("period").loc["2026-Q2"]
    # D4 200 at 0.5 (I, Best Case), D5 300 at 0.9 (override, B, Commit); nothing won yet.
    # Outcomes: 0 (0.5 x 0.1 = 0.05), 200 (0.05), 300 (0.45), 500 (0.45).
    # Cumulative: 0.05, 0.10, 0.55, 1.00 -> P10 = 200 (reaches 0.10 exactly), P50 = 300, P90 = 500.
    assert (q2.closed_won, q2.open_deals, q2.open_amount) == (0.0, 2, 500.0)
    assert q2.expected == pytest.approx(370.0)  # 200 x 0.5 + 300 x 0.9
    assert (q2.p10, q2.p50, q2.p90) == (200.0, 300.0, 500.0)
    # Quota 700 > 500, the most the period can book.
    assert (q2.quota, q2.prob_reach_quota) == (700.0, 0.0)
    assert (q2.worst_case, q2.commit, q2.best_case) == (0.0, 300.0, 500.0)
    q1 = table.set_index("period").loc["2026-Q1"]
    # D1 won 100; no open deal: the range is a point; no quota row for Q1.
    assert (q1.closed_won, q1.expected, q1.p10, q1.p90) == (100.0, 100.0, 100.0, 100.0)
    assert np.isnan(q1.quota) and np.isnan(q1.prob_reach_quota)
    none = table.set_index("period").loc["no close date"]
    # D6 40 at 3/13: P(0) = 10/13 = 0.77 -> P10 = P50 = 0, P90 = 40.
    assert (none.p10, none.p50, none.p90) == (0.0, 0.0, 40.0)
    assert none.expected == pytest.approx(40 * 3 / 13)


def test_probability_of_reaching_a_quota_by_hand():
    total = open_total(np.array([200.0, 300.0]), np.array([0.5, 0.9]))
    assert total.discrete
    # Need 300: outcomes 300 and 500 -> 0.45 + 0.45. Need 500: 0.45. Need 0: certain.
    assert total.prob_at_least(300.0) == pytest.approx(0.9)
    assert total.prob_at_least(500.0) == pytest.approx(0.45)
    assert total.prob_at_least(500.01) == 0.0
    assert total.prob_at_least(0.0) == 1.0
    # Sure deals (probability 1) and hopeless ones (0) only shift or vanish.
    shifted = open_total(np.array([200.0, 300.0, 1000.0, 5000.0]), np.array([0.5, 0.9, 1.0, 0.0]))
    assert shifted.quantile(0.5) == 1300.0 and shifted.expected == pytest.approx(1370.0)


def test_empty_and_certain_periods():
    assert open_total(np.array([]), np.array([])).quantile(0.9) == 0.0
    certain = open_total(np.array([10.0, np.nan]), np.array([1.0, 0.5]))
    assert certain.quantile(0.1) == 10.0 and certain.variance == 0.0 and certain.prob_at_least(10.0) == 1.0


def _check_against_monte_carlo(amounts, probabilities):
    total = open_total(amounts, probabilities)
    sims = monte_carlo(amounts, probabilities)
    sd = np.sqrt(total.variance)
    levels = np.array([0.1, 0.5, 0.9])
    method = "inverted_cdf" if total.discrete else "linear"
    assert np.abs(total.quantile(levels) - np.quantile(sims, levels, method=method)).max() < 0.03 * sd
    assert total.expected == pytest.approx(float(amounts @ probabilities))
    for level in (0.2, 0.5, 0.8):
        threshold = np.quantile(sims, level)
        assert abs(total.prob_at_least(threshold) - (sims >= threshold).mean()) < 0.008
    return total


def test_continuous_amounts_match_monte_carlo():
    rng = np.random.default_rng(1)
    amounts = np.round(rng.lognormal(12, 0.9, 400), 2)  # to the cent: no common step worth a grid
    probabilities = rng.choice([0.27, 0.56, 0.83], 400)
    assert not _check_against_monte_carlo(amounts, probabilities).discrete


def test_whole_thousands_are_exact_and_match_monte_carlo():
    rng = np.random.default_rng(2)
    amounts = rng.integers(1, 30, 60) * 1000.0
    probabilities = rng.uniform(0.05, 0.95, 60)
    assert _check_against_monte_carlo(amounts, probabilities).discrete


def test_a_lattice_finer_than_the_grid_is_still_summed_exactly():
    # 10 deals of 1,000 and 10 of 1,001, each at 0.5: too many to enumerate (20 > 14), and
    # the common step 1 is far finer than the grid's s / 512 = 4.4, but the window needs
    # under 2^16 points on it, so the total is exact: T = 1000 N + Y, N ~ Bin(20, 1/2) deals
    # won, Y of them at 1,001 (hypergeometric given N).
    amounts = np.array([1000.0] * 10 + [1001.0] * 10)
    total = open_total(amounts, np.full(20, 0.5))
    assert total.discrete
    assert np.sqrt(total.variance) / rf.RESOLUTION > 1.0
    # P10: P(N <= 6) = 60460 / 2^20 = 0.0577 and P(N = 7) = 77520 / 2^20; given N = 7,
    # P(Y <= 3) = 38760 / 77520 = 0.5 and P(Y <= 4) = 63960 / 77520, so 0.1 is reached at
    # N = 7, Y = 4: 7,004. P50: P(N <= 9) = 0.4119, P(N = 10) = 0.1762; given N = 10 Y is
    # symmetric about 5, P(Y <= 4) = 0.328 and P(Y <= 5) = 0.672: 10,005. P90: P(N <= 12) =
    # 0.8684, P(N = 13) = 0.0739, given N = 13 P(Y <= 5) = 0.175, P(Y <= 6) = 0.5: 13,006.
    assert total.quantile(np.array([0.1, 0.5, 0.9])).tolist() == [7004.0, 10005.0, 13006.0]
    assert total.expected == 10005.0
    # P(T >= 10,005) = 1 - P(N <= 9) - P(N = 10) P(Y <= 4 | N = 10), exactly.
    below = (sum(comb(20, n) for n in range(10)) + comb(20, 10) * (1 - comb(10, 5) ** 2 / comb(20, 10)) / 2) / 2**20
    assert total.prob_at_least(10005.0) == pytest.approx(1 - below, abs=1e-12)
    # Through the table as well: the period's quantiles sit on whole amounts.
    deals = pd.DataFrame({"period": "2026-Q4", "amount": amounts, "used_probability": 0.5, "is_open": True,
                          "is_won": False, "category": "Pipeline"})
    row = range_forecast(deals).iloc[0]
    assert (row["p10"], row["p50"], row["p90"]) == (7004.0, 10005.0, 13006.0)


def test_one_price_lattice_matches_monte_carlo():
    # 500 deals of exactly 120,000: the total only takes multiples of 120,000.
    rng = np.random.default_rng(3)
    probabilities = rng.choice([0.27, 0.56, 0.83], 500)
    total = _check_against_monte_carlo(np.full(500, 120_000.0), probabilities)
    assert np.all(np.mod(total.quantile(np.array([0.1, 0.5, 0.9])), 120_000.0) == 0)


def test_chunked_product_gives_the_same_answer(monkeypatch):
    rng = np.random.default_rng(4)
    amounts = np.round(rng.lognormal(12, 0.9, 300), 2)
    probabilities = rng.uniform(0.1, 0.9, 300)
    whole = open_total(amounts, probabilities)
    monkeypatch.setattr(rf, "_CHUNK", 64)
    chunked = open_total(amounts, probabilities)
    assert chunked.quantile(np.array([0.1, 0.5, 0.9])) == pytest.approx(whole.quantile(np.array([0.1, 0.5, 0.9])), rel=1e-12)


_deals = st.lists(
    st.tuples(st.one_of(st.floats(0, 1e6), st.just(np.nan)), st.floats(0, 1), st.sampled_from(["Pipeline", "Best Case", "Commit"])),
    min_size=0,
    max_size=60,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_deals, st.floats(0, 2e6), st.floats(0, 5e6))
def test_range_invariants(rows, won, quota):
    frame = pd.DataFrame(rows, columns=["amount", "used_probability", "category"]).astype({"amount": float, "used_probability": float})
    frame["is_open"], frame["is_won"], frame["period"] = True, False, "2026-Q3"
    closed = pd.DataFrame({"amount": [won], "used_probability": [1.0], "category": ["Closed"], "is_open": [False],
                           "is_won": [True], "period": ["2026-Q3"]})
    deals = pd.concat([frame, closed], ignore_index=True)
    row = range_forecast(deals, pd.Series({"2026-Q3": quota})).iloc[0]
    amounts = frame["amount"].fillna(0.0)
    expected = won + float((amounts * frame["used_probability"]).sum())
    assert row.expected == pytest.approx(expected, rel=1e-9, abs=1e-6)
    tol = 1e-6 * max(1.0, row.closed_won + row.open_amount)
    assert row.closed_won - tol <= row.p10 <= row.p50 + tol <= row.p90 + 2 * tol <= row.closed_won + row.open_amount + 3 * tol
    assert 0.0 <= row.prob_reach_quota <= 1.0
    assert row.worst_case <= row.commit <= row.best_case <= row.closed_won + row.open_amount + tol
    total = open_total(amounts.to_numpy(), frame["used_probability"].to_numpy())
    probs = [total.prob_at_least(x) for x in np.linspace(0, float(amounts.sum()) + 1, 7)]
    assert all(a >= b - 1e-9 for a, b in zip(probs, probs[1:]))
