"""Platt scaling and isotonic regression of the model's probabilities, pinned by hand; the fitted
map the forecast applies, and how the backtest picks it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funnel.winmodel.recalibration import Calibration, fit_calibration, fit_isotonic, fit_platt, isotonic, pick, platt


def test_platt_with_one_prediction_learns_the_observed_rate():
    # logit(0.5) = 0, so only b moves: sigmoid(b) = 1/4 gives b = -ln 3.
    a, b = fit_platt([0.5] * 4, [1, 0, 0, 0])
    assert b == pytest.approx(-math.log(3)) and platt([0.5], (a, b))[0] == pytest.approx(0.25)


def test_platt_with_two_predictions_fits_both_rates():
    # x = logit 0.2 = -ln 4 (won 1 of 4) and logit 0.8 = +ln 4 (won 2 of 4): two points, two
    # parameters, so sigmoid(-a ln4 + b) = 1/4 and sigmoid(a ln4 + b) = 1/2:
    # b = -ln3 / 2, a = ln3 / (2 ln4) = 0.39624.
    a, b = fit_platt([0.2] * 4 + [0.8] * 4, [1, 0, 0, 0, 1, 1, 0, 0])
    assert a == pytest.approx(math.log(3) / (2 * math.log(4))) and b == pytest.approx(-math.log(3) / 2)
    assert platt([0.2, 0.8], (a, b)) == pytest.approx([0.25, 0.5])


def test_platt_never_reverses_the_order():
    # 0.2 won both times, 0.8 lost both: the best slope is negative, so a = 0 and b = logit of
    # the observed rate 1/2 = 0: every prediction becomes 1/2.
    assert fit_platt([0.2, 0.2, 0.8, 0.8], [1, 1, 0, 0]) == (0.0, 0.0)
    # Won 3 of 4 with the order backwards (0.8 lost): a = 0, b = ln 3.
    a, b = fit_platt([0.2, 0.2, 0.2, 0.8], [1, 1, 1, 0])
    assert a == 0.0 and b == pytest.approx(math.log(3))


def test_platt_with_one_outcome_is_the_identity():
    assert fit_platt([0.3, 0.6], [1, 1]) == (1.0, 0.0)


def test_isotonic_pools_the_violators():
    # Outcomes 0, 1, 0, 1 at 0.1 .. 0.4: the middle pair violates the order and pools to 0.5.
    fit = fit_isotonic([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1])
    assert fit[1].tolist() == [0.0, 0.5, 0.5, 1.0]
    # Between fitted predictions: the step at or below; below all of them: the first.
    assert isotonic([0.05, 0.25, 0.35, 0.9], fit).tolist() == [0.0, 0.5, 0.5, 1.0]
    # Equal predictions are one point, weighted by their count: 0.2 won 1 of 2, 0.6 won 1 of 1;
    # 0.7 won 0 of 3 pools with 0.6: (1 + 0) / (1 + 3) = 0.25, then with 0.2: 1/2 > 1/4, so
    # all pool: 2 / 6.
    fit = fit_isotonic([0.2, 0.2, 0.6, 0.7, 0.7, 0.7], [1, 0, 1, 0, 0, 0])
    assert fit[0].tolist() == [0.2, 0.6, 0.7] and fit[1] == pytest.approx([1 / 3] * 3)


def test_isotonic_pools_predictions_to_four_decimals():
    # 0.12341 and 0.12344 are one point (0.1234): won 1 of 2; 0.5 won 1 of 1. A prediction
    # rounding onto the point takes its step, one just below it (0.12334 -> 0.1233) the first.
    fit = fit_isotonic([0.12341, 0.12344, 0.5], [1, 0, 1])
    assert fit[0].tolist() == [0.1234, 0.5] and fit[1].tolist() == [0.5, 1.0]
    assert isotonic([0.12336, 0.12334, 0.49996], fit).tolist() == [0.5, 0.5, 1.0]


def test_a_fitted_map_is_what_the_forecast_applies():
    # Platt on the two-point example above: 0.2 -> 1/4, 0.8 -> 1/2.
    fitted = fit_calibration("platt", [0.2] * 4 + [0.8] * 4, [1, 0, 0, 0, 1, 1, 0, 0], deals=8)
    assert (fitted.method, fitted.deals) == ("platt", 8)
    assert fitted.apply(np.array([0.2, 0.8])) == pytest.approx([0.25, 0.5])
    # Isotonic on the pooling example: 0.25 -> the step at 0.2, 1/2.
    fitted = fit_calibration("isotonic", [0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1])
    assert fitted.apply(np.array([0.25, 0.9])).tolist() == [0.5, 1.0]
    # One outcome only, or none asked for: no map, the probabilities as they are.
    assert fit_calibration("platt", [0.3, 0.6], [1, 1]) == Calibration()
    assert fit_calibration("none", [0.3, 0.6], [1, 0]).apply(np.array([0.3])).tolist() == [0.3]
    with pytest.raises(ValueError, match="unknown calibration 'plat'"):
        fit_calibration("plat", [0.3, 0.6], [1, 0])


def test_the_backtest_picks_the_best_map_and_a_map_must_beat_the_raw_model():
    assert pick({"none": 0.24, "platt": 0.23, "isotonic": 0.235}) == "platt"
    assert pick({"none": 0.24, "platt": 0.25, "isotonic": 0.235}) == "isotonic"
    assert pick({"none": 0.24, "platt": 0.24, "isotonic": 0.25}) == "none"  # a tie keeps the raw model
    assert pick({"none": 0.24, "platt": 0.23, "isotonic": 0.23}) == "platt"  # a tie between maps: Platt
    assert pick({"none": 0.24, "platt": float("nan"), "isotonic": 0.25}) == "none"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.booleans()), min_size=1, max_size=40))
def test_maps_are_probabilities_and_isotonic_never_decreases(rows):
    p = np.array([r[0] for r in rows])
    won = np.array([r[1] for r in rows])
    values, fitted = fit_isotonic(p, won)
    assert np.all(np.diff(fitted) >= -1e-12) and np.all((fitted >= 0) & (fitted <= 1))
    # The fit keeps the total: as many wins as the outcomes hold (over the fit's points: the
    # predictions to 4 decimals).
    counts = np.unique(np.round(p, 4), return_counts=True)[1]
    assert float(np.sum(fitted * counts)) == pytest.approx(float(won.sum()))
    mapped = platt(p, fit_platt(p, won))
    assert np.all((mapped >= 0) & (mapped <= 1))
    for name in ("platt", "isotonic"):
        fitted = fit_calibration(name, p, won).apply(p)
        assert np.all((fitted >= 0) & (fitted <= 1))
        # A map never reverses the order of two predictions.
        order = np.argsort(p, kind="stable")
        assert np.all(np.diff(fitted[order]) >= -1e-12)
