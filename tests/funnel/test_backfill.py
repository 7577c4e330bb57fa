"""Backfill: past snapshots reconstructed from a deal history, on hand-computed examples and as a property."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel.analysis import Analysis
from funnel.inputs.validation import validate
from funnel.snapshots import (
    deals_on,
    empty_history,
    reconstructed_snapshot,
    reconstructed_state,
    record,
    stage_changes,
    state_as_of,
    tracked_fields,
    weekly_dates,
)

AS_OF = dt.date(2026, 2, 10)


def _inputs(opportunities: list[dict], history: list[tuple]):
    opps = pd.DataFrame(opportunities)
    opps.index = pd.RangeIndex(2, 2 + len(opps))
    hist = pd.DataFrame(history, columns=["opportunity_id", "stage", "entered"])
    hist["entered"] = pd.to_datetime(hist["entered"])
    hist.index = pd.RangeIndex(2, 2 + len(hist))
    # Configured probabilities (P .2, I .5, B .8): the example is computed by hand.
    inputs = validate({"opportunities": opps, "stage_history": hist},
                      {"probability_method": "configured", "as_of": AS_OF.isoformat()})
    return inputs, Analysis(inputs).stage_probabilities


# D1 moves P -> I -> B and is won after the last weekly day; D2 is created on 16 January with no
# stage history; D3 has neither a created date nor history (there all along).
DEALS = [
    {"id": "D1", "owner": "Ann", "team": "East", "stage": "W", "amount": 100.0, "created": pd.Timestamp("2026-01-02"),
     "close_date": pd.Timestamp("2026-02-04")},
    {"id": "D2", "owner": "Bo", "team": "East", "stage": "P", "amount": 50.0, "created": pd.Timestamp("2026-01-16"),
     "close_date": pd.Timestamp("2026-03-31")},
    {"id": "D3", "owner": "Bo", "team": "West", "stage": "I", "amount": 200.0, "created": pd.NaT,
     "close_date": pd.Timestamp("2026-03-15")},
]
STAGES = [("D1", "P", "2026-01-02"), ("D1", "I", "2026-01-09"), ("D1", "B", "2026-01-20"), ("D1", "W", "2026-02-04")]


def test_weekly_days_go_back_from_as_of():
    assert weekly_dates(AS_OF, 3) == [dt.date(2026, 1, 20), dt.date(2026, 1, 27), dt.date(2026, 2, 3)]
    assert weekly_dates(AS_OF, 0) == []
    with pytest.raises(ValueError):
        weekly_dates(AS_OF, -1)


def test_three_stage_changes_give_the_exact_versions():
    inputs, probabilities = _inputs(DEALS, STAGES)
    history = stage_changes(inputs.stage_history)
    days = weekly_dates(AS_OF, 6)  # 30 Dec, 6, 13, 20, 27 Jan, 3 Feb
    states = [reconstructed_state(inputs.opportunities, history, day, inputs.stages, probabilities, inputs.settings)
              for day in days]
    assert [list(s["deal_id"]) for s in states] == [["D3"], ["D1", "D3"], ["D1", "D3"], ["D1", "D2", "D3"],
                                                    ["D1", "D2", "D3"], ["D1", "D2", "D3"]]
    versions = None
    for snapshot, state in enumerate(states, start=1):
        versions = record(versions, state, snapshot)
    rows = sorted((r.deal_id, r.stage, int(r.valid_from), None if pd.isna(r.valid_to) else int(r.valid_to), r.probability,
                   r.weighted, r.forecast_category) for r in versions.itertuples())
    # D1: P from 6 Jan (snapshot 2), I from 13 Jan (3), B from 20 Jan (4, entered that day);
    # won on 4 Feb, after the last weekly day. D2 appears on 20 Jan; D3 all along.
    assert rows == [("D1", "B", 4, None, 0.8, 80.0, "Commit"), ("D1", "I", 3, 4, 0.5, 50.0, "Best Case"),
                    ("D1", "P", 2, 3, 0.2, 20.0, "Pipeline"), ("D2", "P", 4, None, 0.2, 10.0, "Pipeline"),
                    ("D3", "I", 1, None, 0.5, 100.0, "Best Case")]
    assert versions["is_open"].all() and not versions["is_won"].any()
    # Amounts and close dates as known now.
    assert set(versions.loc[versions["deal_id"] == "D1", "close_date"]) == {pd.Timestamp("2026-02-04")}
    # On as-of, the reconstruction is the deals as they are: D1 won.
    now = reconstructed_state(inputs.opportunities, history, AS_OF, inputs.stages, probabilities, inputs.settings)
    assert now.equals(tracked_fields(Analysis(inputs).stage_deals))
    assert now.loc[now["deal_id"] == "D1", ["is_won", "forecast_category", "probability"]].values.tolist() == [[True, "Closed", 1.0]]


def test_amount_and_close_date_changes_replace_what_is_known_now():
    inputs, _ = _inputs(DEALS, STAGES)
    changes = pd.DataFrame([("D2", "2026-01-16", None, 40.0, "2026-02-28"), ("D2", "2026-01-30", None, 50.0, None),
                            ("D2", "2026-02-01", None, None, "2026-03-31"), ("D3", "2026-01-25", None, 150.0, None),
                            ("D1", "2026-01-25", None, 90.0, None),
                            ("NOPE", "2026-01-01", "B", 1.0, None)],  # a deal not in the book: ignored
                           columns=["deal_id", "changed_on", "stage", "amount", "close_date"])
    changes["changed_on"] = pd.to_datetime(changes["changed_on"])
    changes["close_date"] = pd.to_datetime(changes["close_date"])

    def on(day):
        d = deals_on(inputs.opportunities, changes, day).set_index("id")
        return {k: (d.at[k, "stage"], d.at[k, "amount"], d.at[k, "close_date"].date()) for k in d.index}

    # No stage in these rows: the stages are as known now (D1 won).
    assert on(dt.date(2026, 1, 27)) == {"D1": ("W", 90.0, dt.date(2026, 2, 4)), "D2": ("P", 40.0, dt.date(2026, 2, 28)),
                                        "D3": ("I", 150.0, dt.date(2026, 3, 15))}
    # Before D1's first amount row: that first amount; D3 is there from its first row (it has
    # no created date); after D2's last rows, the values they set.
    assert on(dt.date(2026, 1, 6)) == {"D1": ("W", 90.0, dt.date(2026, 2, 4))}
    assert on(dt.date(2026, 2, 3))["D2"] == ("P", 50.0, dt.date(2026, 3, 31))
    assert "D2" not in on(dt.date(2026, 1, 15))  # created on the 16th
    assert deals_on(inputs.opportunities, empty_history(), dt.date(2026, 1, 6))["id"].tolist() == ["D1", "D3"]


def test_a_reconstructed_snapshot_has_the_forecast_figures_of_its_day():
    inputs, probabilities = _inputs(DEALS, STAGES)
    state, figures = reconstructed_snapshot(inputs.opportunities, stage_changes(inputs.stage_history), dt.date(2026, 1, 27),
                                            inputs.stages, probabilities, inputs.settings, inputs.quotas)
    q1 = figures[(figures["period"] == "2026-Q1") & (figures["owner"] == "")].iloc[0]
    # D1 (B, 100 x .8), D2 (P, 50 x .2), D3 (I, 200 x .5), all closing in 2026-Q1.
    assert (q1["open_deals"], q1["open_amount"], q1["weighted"]) == (3, 350.0, 80.0 + 10.0 + 100.0)
    assert q1["commit"] == 100.0 and q1["closed_won"] == 0.0
    assert q1["p10"] <= q1["p50"] <= q1["p90"]
    assert state["weighted"].sum() == 190.0


_STAGE_CODES = ["P", "I", "B", "W", "L"]


@st.composite
def _books(draw):
    # Deals each with a stage history that ends in the deal's stage now, days in Dec 2025 - Feb 2026.
    deals, history = [], []
    for n in range(draw(st.integers(1, 6))):
        moves = draw(st.lists(st.tuples(st.sampled_from(_STAGE_CODES), st.integers(0, 70)), min_size=0, max_size=4))
        moves = sorted(moves, key=lambda m: m[1])
        start = pd.Timestamp("2025-12-01")
        stage = moves[-1][0] if moves else draw(st.sampled_from(_STAGE_CODES[:3]))
        created = start + pd.Timedelta(days=moves[0][1]) if moves and draw(st.booleans()) else pd.NaT
        deals.append({"id": f"D{n}", "owner": draw(st.sampled_from(["Ann", "Bo"])), "team": "East", "stage": stage,
                      "amount": float(draw(st.integers(0, 5)) * 100),
                      "created": created, "close_date": start + pd.Timedelta(days=draw(st.integers(30, 150)))})
        history += [(f"D{n}", code, start + pd.Timedelta(days=day)) for code, day in moves]
    return deals, history


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_books(), st.integers(1, 12))
def test_reconstructed_snapshots_replay_and_end_at_the_deals_now(book, weeks):
    deals, stage_rows = book
    inputs, probabilities = _inputs(deals, stage_rows)
    history = stage_changes(inputs.stage_history)
    days = [*weekly_dates(AS_OF, weeks), AS_OF]
    states = [reconstructed_state(inputs.opportunities, history, day, inputs.stages, probabilities, inputs.settings)
              for day in days]
    versions = None
    for snapshot, state in enumerate(states, start=1):
        versions = record(versions, state, snapshot)
    for snapshot, state in enumerate(states, start=1):
        assert state_as_of(versions, snapshot).equals(state)
    # The last (as-of) state is the deals now, as the stage method forecasts them.
    assert states[-1].equals(tracked_fields(Analysis(inputs).stage_deals))
    # Deals only appear (nothing is removed by a reconstruction), probabilities in [0, 1].
    for before, after in zip(states, states[1:]):
        assert set(before["deal_id"]) <= set(after["deal_id"])
    assert all(((s["probability"] >= 0) & (s["probability"] <= 1)).all() for s in states)
    assert np.isfinite(versions["weighted"].astype(float)).all()
