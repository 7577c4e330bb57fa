"""The Dashboard's tables, picked by hand from small tables; on the demo, the same figures as
the sheets they come from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from funnel.analysis import run
from funnel.demo.competition import demo_competition_tables
from funnel.demo.data import demo_tables
from funnel.forecast.dashboard import FIGURES, flag_counts, owner_attainment, period_figures, top_gaps, top_risks

RANGE = pd.DataFrame({
    "period": ["2026-Q3", "2026-Q4"],
    "closed_won": [50.0, 100.0], "commit": [60.0, 300.0], "best_case": [70.0, 450.0], "expected": [55.0, 380.0],
    "p10": [50.0, 250.0], "p50": [55.0, 370.0], "p90": [62.0, 500.0], "quota": [np.nan, 400.0],
})


def test_the_periods_figures_against_its_quota():
    table = period_figures(RANGE, "2026-Q4", "en")
    assert table["amount"].tolist() == [100.0, 300.0, 450.0, 380.0, 250.0, 370.0, 500.0]
    assert table["of_quota"].tolist() == [0.25, 0.75, 1.125, 0.95, 0.625, 0.925, 1.25]
    assert (table["quota"] == 400.0).all() and (table["period"] == "2026-Q4").all()
    assert table["figure"].tolist()[:3] == ["Closed won", "Commit (won + commit)", "Best case (commit + best case)"]


def test_a_period_without_quota_or_deals():
    no_quota = period_figures(RANGE, "2026-Q3", "zh-CN")
    assert no_quota["of_quota"].isna().all() and no_quota["quota"].isna().all()
    assert no_quota["figure"][0] == "已赢单"
    empty = period_figures(RANGE, "2027-Q1", "en")
    assert len(empty) == len(FIGURES) and (empty["amount"] == 0).all()


def test_flags_counted_from_health_counts():
    counts = pd.DataFrame({"metric": [f"{f}_{k}" for f in ("stale", "overdue", "pushed", "inactive", "flagged")
                                      for k in ("deals", "amount")],
                           "value": [2, 30.0, 1, 10.0, 0, 0.0, 3, 45.0, 4, 60.0]})
    table = flag_counts(counts, "en")
    assert table.values.tolist() == [["too long in stage", 2, 30.0], ["close date passed", 1, 10.0],
                                     ["close date pushed out", 0, 0.0], ["no recent activity", 3, 45.0],
                                     ["any of these", 4, 60.0]]


def test_top_risks_keep_the_deal_scores_order_and_only_deals_at_risk():
    scores = pd.DataFrame({"id": list("ABCD"), "owner": "Ann", "stage": "P", "amount_at_risk": [90.0, 50.0, 0.0, 0.0],
                           "used_probability": 0.2, "reason": ["x", "y", "", ""], "amount": [90.0, 50.0, 70.0, 10.0]})
    assert top_risks(scores, n=1)["id"].tolist() == ["A"]
    assert top_risks(scores)["id"].tolist() == ["A", "B"]


def test_owners_of_the_period_largest_quota_first_without_empty_rows():
    forecast = pd.DataFrame({
        "period": ["2026-Q4"] * 4 + ["2026-Q3"], "team": ["T1", "T1", "T2", "T2", "T1"],
        "owner": ["Ann", "Bob", "Cy", "Dee", "Ann"], "open_deals": [1, 0, 0, 2, 5], "won_deals": [0, 1, 0, 0, 1],
        "closed_won": [0.0, 80.0, 0.0, 0.0, 9.0], "quota": [100.0, 100.0, np.nan, np.nan, 50.0],
        "attainment": [0.0, 0.8, np.nan, np.nan, 0.18], "commit": [10.0, 80.0, 0.0, 5.0, 9.0],
        "weighted": [20.0, 0.0, 0.0, 7.0, 3.0], "coverage": [0.5, 1.0, np.nan, np.nan, 2.0],
    })
    table = owner_attainment(forecast, "2026-Q4")
    # Cy has nothing this period; Bob and Ann tie on quota: more closed won first.
    assert table["owner"].tolist() == ["Bob", "Ann", "Dee"]


def test_the_biggest_gaps_where_we_trail():
    gaps = pd.DataFrame({"opportunity_id": ["O1", "O1", "O2", "O3"], "factor": ["price", "fit", "fit", "service"],
                         "best_rival": ["R", "R", "S", "R"], "gap": [-2.0, 1.0, -1.0, -1.0],
                         "weighted_gap": [-0.6, 0.3, -0.4, -0.1]})
    assert top_gaps(gaps, n=2)[["opportunity_id", "factor"]].values.tolist() == [["O1", "price"], ["O2", "fit"]]
    assert top_gaps(gaps.iloc[0:0]).empty


@pytest.fixture(scope="module")
def demo():
    tables = demo_tables(size=400)
    tables.update(demo_competition_tables(tables))
    return run(tables)


def test_the_demos_dashboard_holds_the_sheets_own_figures(demo):
    current = demo.analysis.current_period
    figures = demo["dashboard_figures"].set_index("figure")["amount"]
    period = demo["range_forecast"].set_index("period").loc[current]
    assert figures["Closed won"] == period["closed_won"] and figures["P50 (median)"] == period["p50"]
    forecast = demo["forecast_periods"].set_index("period").loc[current]
    assert figures["Commit (won + commit)"] == pytest.approx(forecast["commit"])
    owners = demo["dashboard_owners"]
    assert owners["closed_won"].sum() == pytest.approx(forecast["closed_won"])
    flagged = demo["summary"].set_index("metric")["value"]["flagged_deals"]
    assert demo["dashboard_flags"]["deals"].iloc[-1] == flagged
    assert len(demo["dashboard_risks"]) <= 10 and len(demo["dashboard_gaps"]) <= 5
    assert (demo["dashboard_gaps"]["gap"] < 0).all()


def test_past_periods_without_a_deal_leave_the_tables_by_owner():
    # Ann has a quota in 2026-Q2 and Q3 but no deal there; Bob lost one in Q2. The current
    # period (Q4), a later quota-only one (2027-Q1) and the deals without a close date stay.
    from funnel.forecast.pipeline import without_empty_past

    table = pd.DataFrame({
        "period": ["2026-Q2", "2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1", "no close date"],
        "owner": ["Ann", "Bob", "Ann", "Ann", "Ann", "Ann"],
        "open_deals": [0, 0, 0, 0, 0, 0], "won_deals": [0, 0, 0, 0, 0, 0], "lost_deals": [0, 1, 0, 0, 0, 0],
        "quota": [100.0, 100.0, 100.0, 100.0, 100.0, None],
    })
    kept = without_empty_past(table, "2026-Q4")
    assert list(zip(kept["period"], kept["owner"])) == [("2026-Q2", "Bob"), ("2026-Q4", "Ann"), ("2027-Q1", "Ann"),
                                                        ("no close date", "Ann")]
