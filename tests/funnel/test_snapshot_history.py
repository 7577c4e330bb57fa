"""The history tables: the waterfall, the forecast over time, the default window, and the analysis with a history."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from funnel.inputs.settings import Settings
from funnel.snapshots import FLOW_CHANGES, pipeline_flow, record
from funnel.snapshots.history import (
    History,
    accuracy_chart,
    default_window,
    flow_total,
    forecast_trend,
    history_tables,
    period_accuracy,
    waterfall,
)
from tests.funnel.test_snapshot_accuracy import FIGURES, SNAPSHOTS
from tests.funnel.test_snapshot_flow import FIRST, QUARTERS, SECOND


def test_the_waterfall_of_the_worked_flow_by_hand():
    flow = pipeline_flow(FIRST, SECOND, QUARTERS, ["2026-Q1"])
    falls = waterfall(flow, "2026-Q1").set_index("change")
    amounts = flow[(flow["owner"] == "") & (flow["period"] == "2026-Q1")].set_index("change")["amount"]
    # start 100 + 200 + 300 + 50 + 90 + 10 = 750 on 0.
    assert (falls.loc["start", "base"], falls.loc["start", "total"]) == (0.0, 750.0)
    # created (D8 60 + D11 25) stands on 750, reopened (D6, 70) on 835, pulled in (D5, 400)
    # on 905, amount increased (D1 +50) on 1305: the top is 1355.
    assert [falls.loc[c, "base"] for c in ("created", "reopened", "pulled_in", "amount_increased")] == [750.0, 835.0, 905.0, 1305.0]
    # Then each exit hangs from the level: amount decreased (D3 -20) down to 1335, pushed out
    # (D2, 200) to 1135, pulled out (D10, 10) to 1125, won 305 to 820, lost 90 to 730,
    # removed (D4, 50) to 680: the end.
    assert [(falls.loc[c, "base"], falls.loc[c, "decrease"]) for c in
            ("amount_decreased", "pushed_out", "pulled_out", "won", "lost", "removed")] == [
        (1335.0, 20.0), (1135.0, 200.0), (1125.0, 10.0), (820.0, 305.0), (730.0, 90.0), (680.0, 50.0)]
    assert falls.loc["end", "total"] == amounts["end"] == 680.0
    assert list(falls.index) == list(FLOW_CHANGES)


@given(st.lists(st.tuples(st.sampled_from(["2026-02-15", "2026-05-01", "2025-12-01", None]), st.floats(0, 1000),
                          st.booleans(), st.booleans()), min_size=1, max_size=12),
       st.lists(st.tuples(st.sampled_from(["2026-02-15", "2026-03-01", "2026-07-01", None]), st.floats(0, 1000),
                          st.booleans(), st.booleans()), min_size=1, max_size=12))
def test_the_waterfall_comes_down_to_the_end_and_stands_on_nothing_below_0(a, b):
    from tests.funnel.test_snapshot_versions import _deal, _state

    def state(rows):
        return _state(*[_deal(f"D{i}", amount=amt, close=close or "NaT", is_open=not shut, is_won=shut and won,
                              stage="Won" if shut and won else "Lost" if shut else "S2")
                        for i, (close, amt, shut, won) in enumerate(rows)])
    flow = pipeline_flow(state(a), state(b), QUARTERS, ["2026-Q1"])
    falls = waterfall(flow, "2026-Q1")
    assert (falls[["base", "increase", "decrease", "total"]] >= -1e-9).all().all()
    level = falls["total"].iloc[0] + falls["increase"].sum() - falls["decrease"].sum()
    assert level == pytest.approx(falls["total"].iloc[-1], abs=1e-6)


def test_the_forecast_over_time_of_a_period():
    trend = forecast_trend(SNAPSHOTS, FIGURES, "2026-Q1")
    # Snapshot 1: 0 won + 120 open; 2: 40 + 80; 3: 90 + 10; 4: 120 won.
    assert list(trend["snapshot"]) == [1, 2, 3, 4]
    assert list(trend["weighted"]) == [120.0, 120.0, 100.0, 120.0]
    assert list(trend["commit"]) == [50.0, 100.0, 100.0, 0.0]
    assert trend["p50"].tolist()[:3] == [110.0, 120.0, 100.0]


def test_the_default_window_starts_before_the_current_period():
    first, second = default_window(SNAPSHOTS, QUARTERS)
    # The latest (2 April) is in Q2; the last before 1 April is 5 March.
    assert (int(first["id"]), int(second["id"])) == (3, 4)
    only = default_window(SNAPSHOTS.iloc[1:3], QUARTERS)
    assert (int(only[0]["id"]), int(only[1]["id"])) == (2, 3)  # none before Q1 began: the first
    assert default_window(SNAPSHOTS.iloc[:0], QUARTERS) is None


def test_the_accuracy_chart_takes_each_period_at_its_earliest_point():
    from funnel.snapshots.accuracy import forecast_accuracy

    scored = forecast_accuracy(SNAPSHOTS, FIGURES, QUARTERS, dt.date(2026, 4, 10))
    chart = accuracy_chart(scored)
    assert chart.to_dict("records") == [{"period": "2026-Q1", "point": "start", "actual": 120.0, "weighted": 120.0,
                                         "commit": 50.0, "p50": 110.0}]
    # Without a snapshot by the start, the longest lead with one (60 days before: 30 January).
    later = forecast_accuracy(SNAPSHOTS[SNAPSHOTS["id"] > 1].assign(as_of=lambda f: f["as_of"].replace(
        {dt.date(2026, 2, 1): dt.date(2026, 1, 30)})), FIGURES, QUARTERS, dt.date(2026, 4, 10))
    assert accuracy_chart(later)["point"].tolist() == ["60d"]
    assert period_accuracy(scored, "2026-Q1", "commit", "start") == pytest.approx(5 / 12)
    assert np.isnan(period_accuracy(scored, "2026-Q2"))


def test_flow_totals_from_a_flow_table():
    flow = pipeline_flow(FIRST, SECOND, QUARTERS, ["2026-Q1"])
    assert flow_total(flow, "pushed_out") == 200.0
    assert flow_total(flow, "start", deals=True) == 6
    assert flow_total(flow, "start", owner="Bo") == 300.0 + 50.0 + 90.0


def _history():
    first = FIRST.assign(close_date=FIRST["close_date"])
    versions = record(record(None, first, 1), SECOND, 2)
    snapshots = pd.DataFrame({"id": [1, 2], "as_of": [dt.date(2025, 12, 20), dt.date(2026, 2, 10)]})
    return History(versions=versions, snapshots=snapshots, figures=FIGURES.iloc[:0].assign(snapshot_id=[]), where="test")


def test_history_tables_without_and_with_a_history():
    settings = Settings(as_of=dt.date(2026, 2, 10))
    actuals = pd.DataFrame(columns=["period", "team", "owner", "closed_won"])
    stages = pd.DataFrame({"code": ["S2", "Won", "Lost"], "order": [2, 4, 5], "is_won": [False, True, False],
                           "is_lost": [False, False, True]})
    none = history_tables(None, settings, actuals, stages)
    assert none["history_note"]["note"].iloc[0].startswith("No snapshot of this workbook yet")
    assert none["pipeline_flow"].empty and none["deal_history"].empty
    tables = history_tables(_history(), settings, actuals, stages)
    assert tables["history_note"]["snapshots"].iloc[0] == 2
    assert "snapshot 1 (as of 2025-12-20) to snapshot 2 (as of 2026-02-10)" in tables["history_note"]["note"].iloc[0]
    falls = tables["flow_chart"].set_index("change")
    assert falls.loc["pushed out", "decrease"] == 200.0  # the catalog's words
    assert "(total)" in set(tables["pipeline_flow"]["owner"])
    assert tables["deal_history"].set_index("deal_id").loc["D2", "close_pushes"] == 1
    zh = history_tables(_history(), settings.model_copy(update={"language": "zh-CN"}), actuals, stages)
    assert "推迟移出" in set(zh["flow_chart"]["change"])


def test_accuracy_lead_days_setting():
    assert Settings().lead_days() == (90, 60, 30)
    assert Settings(accuracy_lead_days="14, 7").lead_days() == (14, 7)
    with pytest.raises(ValueError):
        Settings(accuracy_lead_days="30; soon")


def test_an_analysis_with_history_recomputes_only_what_the_history_changes():
    from funnel.analysis import run
    from funnel.demo.data import demo_tables
    from funnel.snapshots import forecast_figures, tracked_fields

    tables = demo_tables(size=80, seed=3)
    report = run(tables)
    a = report.analysis
    state = tracked_fields(a.deals)
    earlier = state.assign(close_date=state["close_date"] - pd.Timedelta(days=20))  # every deal pushed 20 days since
    versions = record(record(None, earlier, 1), state, 2)
    figures = forecast_figures(a.forecast, a.forecast_periods, a.range_forecast)
    history = History(versions=versions, snapshots=pd.DataFrame({"id": [1, 2], "as_of": [a.settings.as_of - dt.timedelta(days=7),
                                                                                           a.settings.as_of]}),
                      figures=pd.concat([figures.assign(snapshot_id=1), figures.assign(snapshot_id=2)], ignore_index=True))
    later = report.with_history(history)
    assert later.analysis.deals is a.deals and later.analysis.forecast is a.forecast  # shared, not computed again
    fresh = run(tables, history=history)
    for name in ("deal_scores", "pipeline_flow", "forecast_trend", "push_rates", "summary"):
        pd.testing.assert_frame_equal(later.tables[name], fresh.tables[name])
    scores = later.tables["deal_scores"]
    open_with_date = scores["id"].isin(state.loc[state["is_open"] & state["close_date"].notna(), "deal_id"])
    assert scores.loc[open_with_date, "pushed"].all() and (scores.loc[open_with_date, "days_slipped"] == 20).all()
    assert not report.tables["deal_scores"]["pushed"].all()  # before: only step-backs
    assert report.tables["deal_scores"]["close_pushes"].isna().all()


def test_one_snapshot_is_its_own_start_and_end_and_the_note_says_so():
    settings = Settings(as_of=dt.date(2026, 2, 10))
    one = History(versions=record(None, FIRST, 1), snapshots=pd.DataFrame({"id": [1], "as_of": [dt.date(2026, 2, 10)]}))
    stages = pd.DataFrame({"code": ["S2"], "order": [2], "is_won": [False], "is_lost": [False]})
    tables = history_tables(one, settings, pd.DataFrame(columns=["period", "team", "owner", "closed_won"]), stages)
    assert tables["history_note"]["note"].iloc[0].startswith("One snapshot so far (as of 2026-02-10)")
    falls = tables["flow_chart"].set_index("change")
    assert falls.loc["start", "total"] == falls.loc["end", "total"] == 750.0
    assert (falls["increase"] == 0).all() and (falls["decrease"] == 0).all()
