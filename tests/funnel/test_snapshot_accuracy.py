"""Forecast accuracy: hand-computed periods, points and summaries, and properties of the formulas."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from funnel.inputs.settings import Settings
from funnel.snapshots.accuracy import accuracy, accuracy_summary, bias, forecast_accuracy, forecast_points, period_end

QUARTERS = Settings()


def _row(snapshot, period, team, owner, weighted=0.0, commit=0.0, closed_won=0.0, p10=np.nan, p50=np.nan, p90=np.nan):
    return {"snapshot_id": snapshot, "period": period, "team": team, "owner": owner, "weighted": weighted, "commit": commit,
            "closed_won": closed_won, "p10": p10, "p50": p50, "p90": p90}


SNAPSHOTS = pd.DataFrame({"id": [1, 2, 3, 4], "as_of": [dt.date(2025, 12, 30), dt.date(2026, 2, 1), dt.date(2026, 3, 5),
                                                          dt.date(2026, 4, 2)]})
FIGURES = pd.DataFrame([
    # snapshot 1: before Q1 starts
    _row(1, "2026-Q1", "East", "Ann", weighted=80.0, commit=50.0),
    _row(1, "2026-Q1", "West", "Bo", weighted=40.0, commit=0.0),
    _row(1, "2026-Q1", "", "", weighted=120.0, commit=50.0, p10=60.0, p50=110.0, p90=170.0),
    # snapshot 2: 1 February (58 days before the end of March)
    _row(2, "2026-Q1", "East", "Ann", weighted=60.0, commit=90.0, closed_won=30.0),
    _row(2, "2026-Q1", "West", "Bo", weighted=20.0, commit=10.0, closed_won=10.0),
    _row(2, "2026-Q1", "", "", weighted=80.0, commit=100.0, closed_won=40.0, p10=70.0, p50=120.0, p90=150.0),
    # snapshot 3: 5 March (26 days before the end)
    _row(3, "2026-Q1", "East", "Ann", weighted=10.0, commit=100.0, closed_won=90.0),
    _row(3, "2026-Q1", "", "", weighted=10.0, commit=100.0, closed_won=90.0, p10=95.0, p50=100.0, p90=105.0),
    # snapshot 4: after the quarter: what was won
    _row(4, "2026-Q1", "East", "Ann", closed_won=100.0),
    _row(4, "2026-Q1", "West", "Bo", closed_won=20.0),
    _row(4, "2026-Q1", "", "", closed_won=120.0),
    _row(4, "2026-Q2", "", "", weighted=500.0, commit=100.0, p50=480.0),
])


def test_formulas_by_hand():
    assert accuracy(100.0, 80.0) == pytest.approx(0.8)
    assert accuracy(100.0, 130.0) == pytest.approx(0.7)
    assert accuracy(100.0, 250.0) == 0.0  # the error exceeds the actual
    assert math.isnan(accuracy(0.0, 10.0))
    assert bias(100.0, 130.0) == pytest.approx(0.3)
    assert bias(100.0, 80.0) == pytest.approx(-0.2)
    assert math.isnan(bias(0.0, 5.0))


def test_points_of_a_quarter():
    assert period_end("2026-Q1", QUARTERS) == dt.date(2026, 3, 31)
    assert period_end("2026-02", Settings(period="month")) == dt.date(2026, 2, 28)
    assert forecast_points("2026-Q1", QUARTERS, (30, 60, 90)) == [
        ("start", None, dt.date(2026, 1, 1)), ("90d", 90, dt.date(2025, 12, 31)), ("60d", 60, dt.date(2026, 1, 30)),
        ("30d", 30, dt.date(2026, 3, 1))]


def _one(scored, point, level, measure, owner=""):
    row = scored[(scored["point"] == point) & (scored["level"] == level) & (scored["measure"] == measure)
                 & (scored["owner"] == owner)]
    assert len(row) == 1, row
    return row.iloc[0]


def _one_team(scored, point, measure):
    return scored[(scored["point"] == point) & (scored["level"] == "team") & (scored["measure"] == measure)]


def test_a_closed_quarter_scored_at_each_point():
    scored = forecast_accuracy(SNAPSHOTS, FIGURES, QUARTERS, dt.date(2026, 4, 10))
    assert set(scored["period"]) == {"2026-Q1"}  # Q2 is not over
    # At the start (1 January) the latest snapshot is the first: weighted = 0 won + 120 open, actual 120.
    start = _one(scored, "start", "total", "weighted")
    assert (start["as_of"].date(), start["forecast"], start["actual"], start["accuracy"], start["bias"]) == (
        dt.date(2025, 12, 30), 120.0, 120.0, 1.0, 0.0)
    # Commit at the start: 50 against 120: accuracy 1 - 70/120, bias -70/120.
    commit = _one(scored, "start", "total", "commit")
    assert commit["accuracy"] == pytest.approx(5 / 12) and commit["bias"] == pytest.approx(-7 / 12)
    # 30 days before the end (1 March): still snapshot 2 (1 February): weighted 40 + 80 = 120; P50 120 in 70-150.
    p50 = _one(scored, "30d", "total", "p50")
    assert (p50["as_of"].date(), p50["forecast"], p50["p10"], p50["p90"], p50["in_range"]) == (
        dt.date(2026, 2, 1), 120.0, 70.0, 150.0, True)
    # Per owner at 30 days: Ann 30 + 60 = 90 against 100 won; Bo 10 + 20 = 30 against 20 (accuracy 0.5, bias 0.5).
    assert _one(scored, "30d", "owner", "weighted", "Ann")["accuracy"] == pytest.approx(0.9)
    bo = _one(scored, "30d", "owner", "weighted", "Bo")
    assert (bo["accuracy"], bo["bias"]) == (pytest.approx(0.5), pytest.approx(0.5))
    # The team rows sum their owners: East is Ann.
    assert set(_one_team(scored, "30d", "commit")["team"]) == {"East", "West"}
    east = scored[(scored["point"] == "30d") & (scored["level"] == "team") & (scored["team"] == "East")
                  & (scored["measure"] == "commit")].iloc[0]
    assert (east["forecast"], east["actual"]) == (90.0, 100.0)
    # 90 days before the end is 31 December: snapshot 1 again, the same as the start.
    assert _one(scored, "90d", "total", "weighted")["forecast"] == 120.0
    # P50 only on the total rows.
    assert set(scored.loc[scored["measure"] == "p50", "level"]) == {"total"}


def test_owner_without_a_forecast_row_forecasts_zero():
    # At snapshot 3 Bo had no row: his forecast is 0 against 20 won.
    later = SNAPSHOTS.assign(as_of=[dt.date(2025, 12, 30), dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 4, 2)])
    scored = forecast_accuracy(later, FIGURES, QUARTERS, dt.date(2026, 4, 10))
    bo = _one(scored, "30d", "owner", "weighted", "Bo")
    assert (bo["forecast"], bo["actual"], bo["accuracy"]) == (0.0, 20.0, 0.0)


def test_summary_over_two_periods_by_hand():
    scored = pd.DataFrame({
        "period": ["2026-Q1", "2026-Q2", "2026-Q3"], "point": "start", "lead_days": pd.array([None] * 3, dtype="Int64"),
        "as_of": pd.to_datetime(["2026-01-01"] * 3), "level": "total", "team": "", "owner": "", "measure": "p50",
        "forecast": [80.0, 330.0, 10.0], "actual": [100.0, 300.0, 0.0], "error": [-20.0, 30.0, 10.0],
        "accuracy": [0.8, 0.9, np.nan], "bias": [-0.2, 0.1, np.nan], "p10": [50.0, 310.0, 0.0], "p90": [120.0, 400.0, 20.0],
        "in_range": [True, False, True]})
    row = accuracy_summary(scored).iloc[0]
    assert row["periods"] == 2  # Q3 won nothing: no accuracy, no APE
    assert row["mean_accuracy"] == pytest.approx(0.85)
    assert row["mape"] == pytest.approx((0.2 + 0.1) / 2)
    assert row["wape"] == pytest.approx((20 + 30 + 10) / 400)
    assert row["mean_bias"] == pytest.approx(-0.05)
    assert (row["range_periods"], row["in_range_share"]) == (3, pytest.approx(2 / 3))


def test_no_snapshots_no_rows():
    assert forecast_accuracy(SNAPSHOTS.iloc[:0], FIGURES.iloc[:0], QUARTERS, dt.date(2026, 4, 10)).empty
    assert accuracy_summary(forecast_accuracy(SNAPSHOTS.iloc[:0], FIGURES, QUARTERS, dt.date(2026, 4, 10))).empty
    # A period with no snapshot by any of its points has no row.
    late = SNAPSHOTS[SNAPSHOTS["id"] == 4]
    assert forecast_accuracy(late, FIGURES, QUARTERS, dt.date(2026, 4, 10)).empty


amounts = st.floats(min_value=0, max_value=1e9, allow_nan=False)


@given(amounts, amounts)
def test_accuracy_in_0_1_and_bias_consistent(a, f):
    acc, b = accuracy(a, f), bias(a, f)
    if a == 0:
        assert math.isnan(acc) and math.isnan(b)
    else:
        assert 0.0 <= acc <= 1.0
        assert acc == pytest.approx(max(0.0, 1.0 - abs(b)), abs=1e-9)


money = amounts.map(lambda x: round(x, 2))  # amounts in cents, as a book holds them


@given(st.lists(st.tuples(money, money, st.booleans()), min_size=1, max_size=8))
def test_summary_figures_are_shares_and_wape_weighs_by_the_actual(periods):
    scored = pd.DataFrame({
        "period": [f"2026-{i + 1:02d}" for i in range(len(periods))], "point": "start",
        "lead_days": pd.array([None] * len(periods), dtype="Int64"), "level": "total", "team": "", "owner": "",
        "measure": "p50", "actual": [a for a, _, _ in periods], "forecast": [f for _, f, _ in periods],
        "in_range": [inside for _, _, inside in periods]})
    scored["accuracy"] = [accuracy(a, f) for a, f, _ in periods]
    row = accuracy_summary(scored).iloc[0]
    total = sum(a for a, _, _ in periods)
    if total > 0:
        assert row["wape"] == pytest.approx(sum(abs(a - f) for a, f, _ in periods) / total)
    else:
        assert math.isnan(row["wape"])
    assert 0.0 <= row["in_range_share"] <= 1.0 and row["range_periods"] == len(periods)
    if row["periods"]:
        assert 0.0 <= row["mean_accuracy"] <= 1.0 and row["mape"] >= 0.0
