"""Stages a scheme has but the data never records get no empirical figure, computed by hand.

Scheme P 0.2 / I 0.5 / B 0.8 / N 0.9 / W / L (rows 2-7), prior strength 10. B is never a
deal's stage and never in the history:

    deal  stage  history           reached (furthest open stage)
    E1    W      P, I, N, W        N (won: the furthest stage in use, not B's scheme place)
    E2    L      P, I, L           I
    E3    L      P, N, L           N
    E4    W      (none)            N (won)
    E5    I      P, I              I  (open, sitting in I)
    E6    P      (none)            P  (open, sitting in P)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel.analysis import run
from funnel.forecast.stages import reached_order, stages_in_use
from funnel.inputs.validation import validate
from tests.funnel.test_engine_properties import _book, _deal


def _tables(language: str = "en") -> dict[str, pd.DataFrame]:
    stages = pd.DataFrame(
        [("P", "Prospect", 1, 0.2, "Pipeline", False, False), ("I", "Evaluation", 2, 0.5, "Pipeline", False, False),
         ("B", "Negotiation", 3, 0.8, "Best Case", False, False), ("N", "Commitment", 4, 0.9, "Commit", False, False),
         ("W", "Won", 5, 1.0, "Closed", True, False), ("L", "Lost", 6, 0.0, "Omitted", False, True)],
        columns=["code", "name", "order", "probability", "forecast_category", "is_won", "is_lost"],
        index=pd.RangeIndex(2, 8))
    opps = pd.DataFrame(
        [("E1", "W", 100.0, "2026-01-15"), ("E2", "L", 50.0, "2026-02-10"), ("E3", "L", 80.0, "2026-03-01"),
         ("E4", "W", 70.0, "2026-03-10"), ("E5", "I", 200.0, "2026-06-20"), ("E6", "P", 40.0, "2026-06-30")],
        columns=["id", "stage", "amount", "close_date"], index=pd.RangeIndex(2, 8))
    history = pd.DataFrame(
        [("E1", "P", "2025-10-01"), ("E1", "I", "2025-11-01"), ("E1", "N", "2025-12-01"), ("E1", "W", "2026-01-15"),
         ("E2", "P", "2025-11-01"), ("E2", "I", "2025-12-01"), ("E2", "L", "2026-02-10"),
         ("E3", "P", "2025-12-01"), ("E3", "N", "2026-01-10"), ("E3", "L", "2026-03-01"),
         ("E5", "P", "2026-01-01"), ("E5", "I", "2026-03-01")],
        columns=["opportunity_id", "stage", "entered"], index=pd.RangeIndex(2, 14))
    settings_table = pd.DataFrame([("as_of", "2026-04-30"), ("prior_strength", 10), ("language", language)],
                                  columns=["key", "value"])
    return {"opportunities": opps, "stage_history": history, "stages": stages, "settings": settings_table}


@pytest.fixture(scope="module")
def report():
    return run(_tables())


def test_which_stages_are_in_use_and_how_far_deals_got():
    inputs = validate(_tables())
    used = stages_in_use(inputs.opportunities, inputs.stage_history, inputs.stages)
    assert used.tolist() == [True, True, False, True, True, True]
    reached = reached_order(inputs.opportunities, inputs.stage_history, inputs.stages, used=used)
    assert reached.to_dict() == {"E1": 4, "E2": 2, "E3": 4, "E4": 4, "E5": 2, "E6": 1}


def test_a_stage_without_data_has_no_empirical_figure(report):
    s = report["stage_stats"].set_index("code")
    # Closed E1 W(N), E2 L(I), E3 L(N), E4 W(N). P and I: 4 closed reached, 2 won -> 1/2.
    # B: no deal recorded -> nothing counted (it would be 2/3 if N's deals were credited to it).
    # N: E1, E3, E4 -> 2/3.
    assert list(s.loc[["P", "I", "B", "N"], "reached_closed"]) == [4, 4, 0, 3]
    assert list(s.loc[["P", "I", "B", "N"], "reached_won"]) == [2, 2, 0, 2]
    assert s.loc["P", "empirical"] == pytest.approx(0.5) and s.loc["N", "empirical"] == pytest.approx(2 / 3)
    assert np.isnan(s.loc["B", "empirical"])
    # Blended, k = 10: P (2 + 2) / 14 = 2/7; I (2 + 5) / 14 = 1/2; B the configured 0.8; N (2 + 9) / 13.
    assert s.loc["P", "blended"] == pytest.approx(2 / 7)
    assert s.loc["I", "blended"] == pytest.approx(0.5)
    assert s.loc["B", "blended"] == 0.8 and s.loc["B", "used"] == 0.8
    assert s.loc["N", "blended"] == pytest.approx(11 / 13)
    assert list(s["status"]) == ["", "", "no data", "", "", ""]


def test_conversions_walk_the_stages_in_use(report):
    s = report["stage_stats"].set_index("code")
    # P: 6 reached, E6 still there -> 5 left; E1..E5 reached I or won -> 5/5.
    # I: E1..E5 reached, E5 still there -> 4 left; next stage in use is N: E3 reached it, E1 and E4 won -> 3/4.
    # B: none. N (the last in use): E1, E3, E4 reached and left; E1, E4 won -> 2/3.
    assert s.loc["P", "conversion_to_next"] == pytest.approx(1.0)
    assert s.loc["I", "conversion_to_next"] == pytest.approx(3 / 4)
    assert np.isnan(s.loc["B", "conversion_to_next"]) and s.loc["B", "reached"] == 0
    assert s.loc["N", "conversion_to_next"] == pytest.approx(2 / 3)


def test_deals_and_methods_use_the_configured_figure_for_it(report):
    d = report.deals.set_index("id")
    assert d.loc["E5", "used_probability"] == pytest.approx(0.5)
    assert d.loc["E6", "used_probability"] == pytest.approx(2 / 7)
    empirical = run(_tables(), {"probability_method": "empirical"})["stage_stats"].set_index("code")
    assert empirical.loc["B", "used"] == 0.8 and empirical.loc["N", "used"] == pytest.approx(2 / 3)


def test_the_status_word_is_in_the_workbook_language():
    assert run(_tables("zh-CN"))["stage_stats"].set_index("code").loc["B", "status"] == "无数据"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_deal, min_size=1, max_size=20), st.floats(0, 50))
def test_a_stage_without_data_never_gets_an_empirical_figure(deals, k):
    raw = _book(deals)
    report = run(raw, {"prior_strength": str(k)})
    recorded = set(raw["opportunities"]["stage"]) | set(raw["stage_history"]["stage"])
    stats = report["stage_stats"].set_index("code")
    for col in ("configured", "blended", "used"):
        assert stats[col].between(0, 1).all()
    assert stats["empirical"].dropna().between(0, 1).all()
    assert stats["conversion_to_next"].dropna().between(0, 1).all()
    for code in ("P", "I", "B"):
        row = stats.loc[code]
        if code in recorded:
            assert row["status"] == ""
        else:
            assert np.isnan(row["empirical"]) and np.isnan(row["conversion_to_next"])
            assert row["blended"] == row["configured"] == row["used"] and row["status"] == "no data"
            assert (row["reached_closed"], row["reached_won"]) == (0, 0)
    # An open deal's stage is always in use; its probability is in [0, 1].
    assert report.deals["used_probability"].between(0, 1).all()
