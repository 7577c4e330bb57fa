"""Forecast calls along the hierarchy (funnel.forecast.calls), on a hand-computed example."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from funnel.forecast.calls import SYSTEM_COLUMNS, call_rollup, hierarchy, subtree_p50
from funnel.forecast.ranges import range_forecast
from funnel.inputs.issues import IssueLog

# Ann and Bob report to Mia, Mia to Dan (the director).
PEOPLE = pd.DataFrame({"person": ["Ann", "Bob", "Mia", "Dan"], "manager": ["Mia", "Mia", "Dan", None]}, index=[2, 3, 4, 5])
SYSTEM = pd.DataFrame({
    "period": ["2026-Q4"] * 3,
    "team": ["East", "East", "East"],
    "owner": ["Ann", "Bob", "Mia"],
    "closed_won": [100.0, 50.0, 0.0],
    "commit": [300.0, 150.0, 20.0],
    "best_case": [500.0, 400.0, 20.0],
    "weighted": [250.0, 200.0, 10.0],
})
CALLS = pd.DataFrame({
    "period": ["2026-Q4"] * 7,
    "owner": ["Ann", "Ann", "Ann", "Bob", "Mia", "Mia", "Dan"],
    "category": ["Commit", "Commit", "Best Case", "Commit", "Commit", "Best Case", "Commit"],
    "amount": [280.0, 320.0, 450.0, 140.0, 500.0, 900.0, 480.0],
    # Ann's second commit call is the later one: it counts.
    "submitted_on": pd.to_datetime(["2026-10-01", "2026-10-08", "2026-10-01", "2026-10-02", "2026-10-09", "2026-10-09", "2026-10-10"]),
    "note": [None] * 7,
}, index=range(2, 9))


def test_three_levels_by_hand():
    out = call_rollup(CALLS, PEOPLE, SYSTEM).set_index("person")
    assert list(out.index) == ["Dan", "Mia", "Ann", "Bob"]  # top-down, reports by name
    assert out["level"].to_dict() == {"Dan": 0, "Mia": 1, "Ann": 2, "Bob": 2}
    assert out["manager"].isna()["Dan"] and out["manager"].drop("Dan").to_dict() == {"Mia": "Dan", "Ann": "Mia", "Bob": "Mia"}
    # The system's figures over each subtree: Mia's own deal counts at Mia and Dan.
    assert out.loc["Dan", list(SYSTEM_COLUMNS)].tolist() == [150.0, 470.0, 920.0, 460.0]
    assert out.loc["Mia", list(SYSTEM_COLUMNS)].tolist() == [150.0, 470.0, 920.0, 460.0]
    assert out.loc["Ann", list(SYSTEM_COLUMNS)].tolist() == [100.0, 300.0, 500.0, 250.0]
    # Commit: Mia 500 against her reports' 320 + 140; Dan 480 against Mia's 500.
    assert out["commit_call"].to_dict() == {"Dan": 480.0, "Mia": 500.0, "Ann": 320.0, "Bob": 140.0}
    assert out.loc["Mia", "commit_below"] == 460.0 and out.loc["Mia", "commit_adjustment"] == 40.0
    assert out.loc["Dan", "commit_below"] == 500.0 and out.loc["Dan", "commit_adjustment"] == -20.0
    # Best case: only Ann called below Mia; Dan made no best case call (blank), his reports' is shown.
    assert out.loc["Mia", "best_case_below"] == 450.0 and out.loc["Mia", "best_case_adjustment"] == 450.0
    assert np.isnan(out.loc["Dan", "best_case_call"]) and out.loc["Dan", "best_case_below"] == 900.0
    assert np.isnan(out.loc["Dan", "best_case_adjustment"])
    # A rep has nobody below: blank below and adjustment.
    assert np.isnan(out.loc["Ann", "commit_below"]) and np.isnan(out.loc["Ann", "commit_adjustment"])
    assert np.isnan(out.loc["Bob", "best_case_call"])


# Each level's P50 by hand: Dan <- Mia <- (Ann, Bob), and Cy reports to Dan directly.
#   Ann: won 50, open 100 at 50%        P50 = 50 + 0     (the open total is 0 or 100, even odds)
#   Bob: open 200 at 60%                P50 = 200        (0 has 40%, short of half)
#   Mia: Ann's and Bob's deals          open 0 / 100 / 200 / 300 with 20 / 20 / 30 / 30%:
#                                        the median is 200, P50 = 50 + 200 = 250
#   Cy:  open 300 at 30%                P50 = 0
#   Dan: everyone's                     with Cy's 300 (70% not): 0 .14, 100 .14, 200 .21, 300 .27, ...
#                                        cumulative .14 .28 .49 .76: the median is 300, P50 = 350
# Dan's 350 is not Mia's 250 + Cy's 0: medians do not add. A deal of 2027-Q1 counts there only.
P50_PEOPLE = pd.DataFrame({"person": ["Ann", "Bob", "Mia", "Cy", "Dan"], "manager": ["Mia", "Mia", "Dan", "Dan", None]},
                          index=range(2, 7))
P50_DEALS = pd.DataFrame({
    "period": ["2026-Q4", "2026-Q4", "2026-Q4", "2026-Q4", "2027-Q1"],
    "owner": ["Ann", "Ann", "Bob", "Cy", "Ann"],
    "amount": [50.0, 100.0, 200.0, 300.0, 1000.0],
    "is_open": [False, True, True, True, True],
    "is_won": [True, False, False, False, False],
    "used_probability": [1.0, 0.5, 0.6, 0.3, 0.9],
})


def _system_of(deals: pd.DataFrame) -> pd.DataFrame:
    # The system's figures per period and owner (no calls by category here: commit = best case = won).
    won = deals["amount"].where(deals["is_won"], 0.0)
    weighted = (deals["amount"] * deals["used_probability"]).where(deals["is_open"], 0.0)
    frame = pd.DataFrame({"period": deals["period"], "team": "T", "owner": deals["owner"], "closed_won": won,
                          "commit": won, "best_case": won, "weighted": weighted})
    return frame.groupby(["period", "team", "owner"], as_index=False).sum()


def test_each_levels_p50_is_the_range_over_its_subtrees_deals_by_hand():
    calls = CALLS.iloc[:0]
    out = call_rollup(calls, P50_PEOPLE, _system_of(P50_DEALS), deals=P50_DEALS)
    q4 = out[out["period"] == "2026-Q4"].set_index("person")["p50"].to_dict()
    assert q4 == {"Dan": 350.0, "Mia": 250.0, "Ann": 50.0, "Bob": 200.0, "Cy": 0.0}
    q1 = out[out["period"] == "2027-Q1"].set_index("person")["p50"].to_dict()
    assert q1 == {"Dan": 1000.0, "Mia": 1000.0, "Ann": 1000.0}  # 90%: the median is the deal's amount
    assert subtree_p50(P50_DEALS[P50_DEALS["period"] == "2026-Q4"], ["Ann", "Bob"]) == 250.0


def test_without_deals_p50_is_blank():
    out = call_rollup(CALLS, PEOPLE, SYSTEM)
    assert out["p50"].isna().all()


@st.composite
def _trees_with_deals(draw):
    people, _ = draw(_trees())
    names = list(people["person"])
    n = draw(st.integers(1, 12))
    deals = pd.DataFrame({
        "period": "2026-Q1",
        "owner": [names[draw(st.integers(0, len(names) - 1))] for _ in range(n)],
        "amount": [float(draw(st.integers(0, 50)) * 10) for _ in range(n)],
        "is_won": [draw(st.booleans()) for _ in range(n)],
        "used_probability": [draw(st.floats(0, 1)) for _ in range(n)],
    })
    deals["is_open"] = ~deals["is_won"]
    deals["category"] = "Pipeline"
    return people, deals


@settings(max_examples=60, deadline=None)
@given(_trees_with_deals())
def test_p50_lies_between_won_and_everything_and_the_top_is_the_range_forecast(tree):
    people, deals = tree
    out = call_rollup(CALLS.iloc[:0], people, _system_of(deals), deals=deals).set_index("person")
    everything = out["closed_won"] + (deals.groupby("owner")["amount"].sum().sum())
    assert ((out["p50"] >= out["closed_won"] - 1e-9) & (out["p50"] <= everything + 1e-9)).all()
    # One tree with everyone in it: the top's P50 is the range forecast's for the period.
    tops = out[out["level"] == 0]
    if len(tops) == 1:
        assert tops["p50"].iloc[0] == range_forecast(deals)["p50"].iloc[0]


def test_a_period_with_only_a_quota_has_no_rows():
    quota_only = pd.DataFrame({"period": ["2027-Q1"], "team": ["East"], "owner": ["Ann"], "closed_won": [0.0], "commit": [0.0],
                               "best_case": [0.0], "weighted": [0.0]})
    out = call_rollup(CALLS, PEOPLE, pd.concat([SYSTEM, quota_only], ignore_index=True))
    assert out["period"].unique().tolist() == ["2026-Q4"]


def test_no_calls_and_no_people_is_empty():
    empty_calls = CALLS.iloc[:0]
    assert call_rollup(empty_calls, PEOPLE.iloc[:0], SYSTEM).empty


def test_a_cycle_is_cut_and_said():
    people = pd.DataFrame({"person": ["A", "B", "C"], "manager": ["B", "C", "A"]}, index=[2, 3, 4])
    log = IssueLog()
    managers = hierarchy(people, log)
    # Cut at the row that closed the loop (C, row 4): C is at the top.
    assert managers == {"A": "B", "B": "C", "C": None}
    issues = log.table("en")
    assert issues[["table", "row", "column"]].values.tolist() == [["people", 4, "manager"]]
    assert "circle" in issues["problem"][0] and "A → B → C → A" in issues["problem"][0]
    assert "循环" in log.table("zh-CN")["problem"][0]


def test_manager_missing_from_people_is_the_top():
    people = pd.DataFrame({"person": ["Ann", "Ann"], "manager": ["Zoe", "Mia"]}, index=[2, 3])
    log = IssueLog()
    assert hierarchy(people, log) == {"Ann": "Zoe", "Zoe": None}
    issues = log.table("en")
    assert issues[["row", "column", "value"]].values.tolist() == [[2, "manager", "Zoe"], [3, "person", "Ann"]]


def test_a_self_manager_is_a_cycle():
    log = IssueLog()
    assert hierarchy(pd.DataFrame({"person": ["A"], "manager": ["A"]}, index=[2]), log) == {"A": None}
    assert len(log.table("en")) == 1


@st.composite
def _trees(draw):
    n = draw(st.integers(1, 8))
    managers = [None] + [draw(st.one_of(st.none(), st.integers(0, i - 1))) for i in range(1, n)]
    names = [f"P{i}" for i in range(n)]
    people = pd.DataFrame({"person": names, "manager": [None if m is None else names[m] for m in managers]})
    amounts = draw(st.lists(st.integers(0, 1000), min_size=n, max_size=n))
    system = pd.DataFrame({"period": "2026-Q1", "team": "T", "owner": names, "closed_won": [float(a) for a in amounts],
                           "commit": [2.0 * a for a in amounts], "best_case": [3.0 * a for a in amounts],
                           "weighted": [a / 2 for a in amounts]})
    return people, system


@settings(max_examples=60, deadline=None)
@given(_trees())
def test_system_figures_add_up_the_hierarchy(tree):
    people, system = tree
    calls = pd.DataFrame(columns=["period", "owner", "category", "amount", "submitted_on", "note"])
    out = call_rollup(calls, people, system).set_index("person")
    own = system.set_index("owner")
    for person, row in out.iterrows():
        reports = out.index[out["manager"] == person]
        for column in SYSTEM_COLUMNS:
            expected = own.loc[person, column] + out.loc[reports, column].sum()
            assert row[column] == expected
    # The top's figures are everyone's.
    tops = out[out["level"] == 0]
    assert tops["closed_won"].sum() == system["closed_won"].sum()


# --- the input tables, through validation and the analysis -------------------------------

def _deals() -> pd.DataFrame:
    return pd.DataFrame({"id": ["1", "2"], "owner": ["Ann", "Bob"], "stage": ["W", "P"], "amount": [100.0, 80.0],
                         "close_date": pd.to_datetime(["2026-11-01", "2026-12-01"])}, index=[2, 3])


def test_bad_calls_and_people_rows_are_said_and_left_out():
    from funnel.analysis import run

    calls = pd.DataFrame({"period": ["2026-Q4", "2026-Q4", "2026-Q4", "2026-Q4", "2026-Q4"],
                          "owner": ["Ann", "Bob", "  ", "Bob", "Mia"],
                          "category": ["Commit", "Closed", "Commit", "hmm", "承诺"],
                          "amount": ["120", "50", "30", "40", "lots"]}, index=[2, 3, 4, 5, 6])
    people = pd.DataFrame({"person": ["Ann", None, "Bob"], "manager": ["Mia", "Mia", "Mia"]}, index=[2, 3, 4])
    report = run({"opportunities": _deals(), "forecast_calls": calls, "people": people})
    found = report["issues"]
    mine = found[found["table"].isin(["forecast_calls", "people"])]
    assert mine[["table", "row", "column"]].values.tolist() == [
        ["forecast_calls", 3, "category"],   # Closed is no call
        ["forecast_calls", 4, "owner"],      # blank person
        ["forecast_calls", 5, "category"],   # unknown category
        ["forecast_calls", 6, "amount"],     # not an amount
        ["people", 2, "manager"],            # Mia manages Ann but has no row: at the top
        ["people", 3, "person"],             # blank person
    ]
    assert mine["action"].tolist() == ["row left out"] * 4 + ["placed at the top of the hierarchy", "row left out"]
    rollup = report["forecast_calls_rollup"].set_index("person")
    q4 = rollup[rollup["period"] == "2026-Q4"]
    # Ann's call is the only one left; Mia (top, no row of her own) sums her reports' deals and calls.
    assert q4.loc["Ann", "commit_call"] == 120.0 and q4.loc["Mia", "commit_below"] == 120.0
    assert q4.loc["Mia", "closed_won"] == 100.0 and q4.loc["Mia", "level"] == 0


def test_a_book_without_calls_or_people_is_as_before():
    from funnel.analysis import run

    report = run({"opportunities": _deals()})
    assert report["forecast_calls_rollup"].empty
    assert not report["issues"]["table"].isin(["forecast_calls", "people"]).any()
