"""Forecast calls along the hierarchy (funnel.forecast.calls), on a hand-computed example."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from funnel.forecast.calls import SYSTEM_COLUMNS, call_rollup, hierarchy
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
