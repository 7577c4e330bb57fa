"""Every engine figure pinned on the worked example (tests/funnel/worked_example.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from funnel.analysis import run
from funnel.forecast.winrates import wilson_interval
from tests.funnel.worked_example import worked_tables


@pytest.fixture(scope="module")
def report():
    return run(worked_tables())


def _row(frame: pd.DataFrame, **keys) -> pd.Series:
    mask = np.ones(len(frame), dtype=bool)
    for key, value in keys.items():
        mask &= (frame[key] == value).to_numpy()
    assert mask.sum() == 1, f"expected one row for {keys}"
    return frame[mask].iloc[0]


def test_worked_example_has_no_issues_but_says_d6_has_no_close_date(report):
    # D6 is open without a close date (on purpose: the "no close date" period): said, once.
    assert report["issues"][["table", "row", "column", "value"]].astype(object).values.tolist() == [
        ["opportunities", pd.NA, "close_date", "1 / 3"]]


def test_stage_probabilities(report):
    s = report["stage_stats"].set_index("code")
    # Reached: D1 won -> B(3); D2 lost, history to I(2); D3 lost at P(1).
    # P: 3 closed reached it, 1 won -> 1/3.  I: D1, D2 -> 1/2.  B: D1 -> 1/1.
    assert s.loc["P", "empirical"] == pytest.approx(1 / 3)
    assert s.loc["I", "empirical"] == pytest.approx(0.5)
    assert s.loc["B", "empirical"] == pytest.approx(1.0)
    # Blended, k = 10: P (1 + 10*0.2)/(3+10) = 3/13; I (1+5)/(2+10) = 0.5; B (1+8)/(1+10) = 9/11.
    assert s.loc["P", "blended"] == pytest.approx(3 / 13)
    assert s.loc["I", "blended"] == pytest.approx(0.5)
    assert s.loc["B", "blended"] == pytest.approx(9 / 11)
    assert list(s.loc[["P", "I", "B"], "reached_closed"]) == [3, 2, 1]
    assert list(s.loc[["P", "I", "B"], "reached_won"]) == [1, 1, 1]
    assert s.loc["W", "blended"] == 1.0 and s.loc["L", "blended"] == 0.0


def test_used_probability_and_weighted(report):
    d = report.deals.set_index("id")
    # D4 in I (blended 0.5); D5 override 0.9 wins; D6 in P (3/13); closed 1 and 0.
    assert d.loc["D4", "used_probability"] == pytest.approx(0.5)
    assert d.loc["D5", "used_probability"] == pytest.approx(0.9)
    assert d.loc["D6", "used_probability"] == pytest.approx(3 / 13)
    assert d.loc["D1", "used_probability"] == 1.0 and d.loc["D2", "used_probability"] == 0.0
    # weighted: 200*0.5 = 100; 300*0.9 = 270; 40*3/13 = 9.2308
    assert d.loc["D4", "weighted"] == pytest.approx(100)
    assert d.loc["D5", "weighted"] == pytest.approx(270)
    assert d.loc["D6", "weighted"] == pytest.approx(40 * 3 / 13)


def test_configured_and_empirical_methods():
    configured = run(worked_tables(), {"probability_method": "configured"}).deals.set_index("id")
    assert configured.loc["D6", "used_probability"] == pytest.approx(0.2)
    empirical = run(worked_tables(), {"probability_method": "empirical"}).deals.set_index("id")
    assert empirical.loc["D6", "used_probability"] == pytest.approx(1 / 3)
    assert empirical.loc["D4", "used_probability"] == pytest.approx(0.5)


def test_forecast_by_period(report):
    f = report["forecast_periods"]
    q1 = _row(f, period="2026-Q1")
    assert (q1.open_deals, q1.won_deals, q1.closed_won, q1.lost_deals) == (0, 1, 100.0, 2)
    # Cumulative categories: commit = closed won + open Commit; best case = commit + open Best Case.
    assert (q1.commit, q1.best_case) == (100.0, 100.0)
    q2 = _row(f, period="2026-Q2")
    # D4 (I, Best Case) 200 + D5 (B, Commit) 300; weighted 100 + 270.
    assert (q2.open_deals, q2.open_amount, q2.weighted) == (2, 500.0, pytest.approx(370.0))
    assert (q2.commit, q2.best_case, q2.pipeline) == (300.0, 500.0, 0.0)  # 0 won + 300; 300 + 200
    # Quota 400 + 300; nothing won yet -> attainment 0; coverage 500 / 700.
    assert q2.quota == 700.0 and q2.attainment == 0.0
    assert q2.coverage == pytest.approx(500 / 700)
    none = _row(f, period="no close date")
    assert (none.open_deals, none.open_amount, none.pipeline) == (1, 40.0, 40.0)
    assert none.weighted == pytest.approx(40 * 3 / 13)


def test_forecast_by_owner_and_team(report):
    f = report["forecast"]
    a = _row(f, period="2026-Q2", owner="A")
    assert (a.team, a.open_amount, a.quota) == ("T1", 300.0, 400.0)
    assert a.coverage == pytest.approx(300 / 400)
    b = _row(f, period="2026-Q2", owner="B")
    # B's quota row has no team: B's team comes from B's deals (T2).
    assert (b.team, b.open_amount, b.weighted, b.quota) == ("T2", 200.0, 100.0, 300.0)
    t = report["forecast_teams"]
    assert _row(t, period="2026-Q2", team="T2").quota == 300.0
    assert _row(t, period="2026-Q2", team="T1").weighted == pytest.approx(270.0)


def test_win_rates(report):
    w = report["win_rates"]
    overall = _row(w, dimension="overall", segment="all")
    assert (overall.won, overall.lost, overall.closed) == (1, 2, 3)
    assert overall.win_rate == pytest.approx(1 / 3)
    # Wilson 95% for 1 of 3, worked by hand: centre 0.42691, half-width 0.36543.
    assert overall.ci_low == pytest.approx(0.06149, abs=1e-4)
    assert overall.ci_high == pytest.approx(0.79234, abs=1e-4)
    assert _row(w, dimension="owner", segment="A").win_rate == 0.5
    assert _row(w, dimension="owner", segment="B").win_rate == 0.0
    assert _row(w, dimension="period", segment="2026-Q1").closed == 3
    # D1 (Huikang, won) and D2 (Huikang;Dingjie, lost) met competitors; D3 did not.
    comp = _row(w, dimension="competitor_present", segment="yes")
    assert (comp.won, comp.lost) == (1, 1)
    assert _row(w, dimension="source", segment="Website").lost == 2


def test_win_rate_trend(report):
    t = report["win_rate_trend"]
    assert list(t["period"]) == ["2026-Q1"]
    assert t["win_rate"].iloc[0] == pytest.approx(1 / 3)


def test_stage_statistics(report):
    s = report["stage_stats"].set_index("code")
    assert list(s.loc[["P", "I", "B"], "open_deals"]) == [1, 1, 1]
    assert list(s.loc[["P", "I", "B"], "open_amount"]) == [40.0, 200.0, 300.0]
    # P: 6 reached, D6 still there -> 5 left; D1, D2, D4, D5 reached I -> 4/5.
    # I: D1, D2, D4, D5 reached; D4 still there -> 3 left; D1, D5 reached B -> 2/3.
    # B: D1, D5 reached; D5 still there -> D1 left and won -> 1/1.
    assert s.loc["P", "conversion_to_next"] == pytest.approx(0.8)
    assert s.loc["I", "conversion_to_next"] == pytest.approx(2 / 3)
    assert s.loc["B", "conversion_to_next"] == pytest.approx(1.0)
    # Finished stays. P: 31, 30, 90, 59, 22 -> median 31. I: 30, 71, 59 -> 59. B: 45.
    assert s.loc["P", "median_days"] == 31
    assert s.loc["I", "median_days"] == 59
    assert s.loc["B", "median_days"] == 45
    assert s.loc["P", "stays"] == 5


def test_summary(report):
    s = dict(zip(report["summary"]["metric"], report["summary"]["value"]))
    assert s["open_deals"] == 3 and s["open_amount"] == 540.0
    assert s["weighted_pipeline"] == pytest.approx(100 + 270 + 40 * 3 / 13)
    assert (s["won_deals"], s["won_amount"], s["lost_deals"]) == (1, 100.0, 2)
    assert s["win_rate"] == pytest.approx(1 / 3)


def test_wilson_known_values():
    # 0 of 10: low 0, high = z^2/(n+z^2) = 3.8415/13.8415 = 0.27753.
    low, high = wilson_interval([0], [10])
    assert low[0] == 0.0 and high[0] == pytest.approx(0.27753, abs=1e-5)
    low, high = wilson_interval([5], [0])
    assert math.isnan(low[0]) and math.isnan(high[0])


def test_unknown_override_setting_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown setting 'nope'"):
        run(worked_tables(), {"nope": "1"})


def test_reliability_by_bin_turns_the_long_table():
    from funnel.winmodel.calibration import reliability_by_bin

    long = pd.DataFrame(
        [("configured", "0.2-0.3", 0.2, 0.25, 8), ("model", "0.2-0.3", 0.22, 0.3, 10), ("model", "0.9-1.0", 0.95, 1.0, 2)],
        columns=["method", "bin", "predicted_mean", "observed_rate", "count"],
    )
    wide = reliability_by_bin(long).set_index("bin")
    assert len(wide) == 10 and wide.loc["0.2-0.3", "bin_mid"] == pytest.approx(0.25)
    assert wide.loc["0.2-0.3", "configured"] == 0.25 and wide.loc["0.2-0.3", "model"] == 0.3
    assert wide.loc["0.9-1.0", "model"] == 1.0 and math.isnan(wide.loc["0.9-1.0", "configured"])
    assert wide["empirical"].isna().all()
