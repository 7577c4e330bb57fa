"""Slipped and changed deals from deal versions: a worked example by hand, and invariants on random histories."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from funnel.snapshots import record
from funnel.snapshots.slips import deal_history, push_rates
from tests.funnel.test_snapshot_versions import _deal, _state

STAGES = pd.DataFrame({"code": ["S1", "S2", "S3", "Won", "Lost"], "order": [1, 2, 3, 4, 5],
                       "is_won": [False, False, False, True, False], "is_lost": [False, False, False, False, True]})
SNAPSHOTS = pd.DataFrame({"id": [1, 2, 3, 4], "as_of": [dt.date(2026, 1, 5), dt.date(2026, 1, 12), dt.date(2026, 1, 19),
                                                          dt.date(2026, 1, 26)]})
WEEKS = [
    _state(_deal("D1", stage="S2", close="2026-03-31"), _deal("D2", stage="S1", amount=500.0, owner="Bo"),
           _deal("D3", stage="S3", close="2026-02-28")),
    # D1 pushed a month and raised; D2 to S2; D3 back to S1 and pulled in.
    _state(_deal("D1", stage="S2", amount=150.0, close="2026-04-30"), _deal("D2", stage="S2", amount=500.0, owner="Bo"),
           _deal("D3", stage="S1", close="2026-02-15")),
    # D1 pushed again and to S3; D2 back to S1; D3 forward to S2; D4 new.
    _state(_deal("D1", stage="S3", amount=150.0, close="2026-06-30"), _deal("D2", stage="S1", amount=400.0, owner="Bo"),
           _deal("D3", stage="S2", close="2026-02-15"), _deal("D4", stage="S1", owner="Bo")),
    # D1's probability changed (a version, same stage); D2 won.
    _state(_deal("D1", stage="S3", amount=150.0, close="2026-06-30", probability=0.5),
           _deal("D2", stage="Won", amount=400.0, owner="Bo", is_open=False, is_won=True),
           _deal("D3", stage="S2", close="2026-02-15"), _deal("D4", stage="S1", owner="Bo")),
]


def _versions(weeks=WEEKS):
    v = None
    for i, week in enumerate(weeks, 1):
        v = record(v, week, i)
    return v


def test_a_worked_example_by_hand():
    h = deal_history(_versions(), SNAPSHOTS, STAGES).set_index("deal_id")
    d1 = h.loc["D1"]
    assert (d1["close_pushes"], d1["days_slipped"]) == (2, 91)  # 31 March -> 30 April -> 30 June
    assert (d1["first_close_date"], d1["close_date"]) == (pd.Timestamp("2026-03-31"), pd.Timestamp("2026-06-30"))
    assert (d1["first_amount"], d1["amount_change"]) == (100.0, 50.0)
    # In S3 since snapshot 3 (19 January); the probability change of snapshot 4 keeps the run.
    assert (d1["stage_since"], d1["days_in_stage_recorded"], d1["stage_backwards"]) == (pd.Timestamp("2026-01-19"), 7, 0)
    assert (d1["first_seen"], d1["snapshots_seen"]) == (pd.Timestamp("2026-01-05"), 4)
    d2 = h.loc["D2"]
    assert (d2["close_pushes"], d2["amount_change"], d2["stage_backwards"], d2["stage"]) == (0, -100.0, 1, "Won")
    d3 = h.loc["D3"]
    assert (d3["close_pushes"], d3["days_slipped"], d3["stage_backwards"]) == (0, -13, 1)  # pulled in 13 days
    assert (d3["stage_since"], d3["days_in_stage_recorded"]) == (pd.Timestamp("2026-01-19"), 7)
    d4 = h.loc["D4"]
    assert (d4["first_seen"], d4["snapshots_seen"], d4["close_pushes"]) == (pd.Timestamp("2026-01-19"), 2, 0)


def test_days_in_stage_count_to_the_day_given():
    h = deal_history(_versions(), SNAPSHOTS, STAGES, as_of=dt.date(2026, 2, 1)).set_index("deal_id")
    assert h.loc["D1", "days_in_stage_recorded"] == 13


def test_push_rates_by_owner():
    rates = push_rates(deal_history(_versions(), SNAPSHOTS, STAGES)).set_index("owner")
    # Ann: D1 pushed, D3 not: 1 of 2; Bo: D2 and D4, none pushed.
    assert (rates.loc["Ann", "deals"], rates.loc["Ann", "pushed_deals"], rates.loc["Ann", "push_rate"]) == (2, 1, 0.5)
    assert (rates.loc["Ann", "close_pushes"], rates.loc["Ann", "mean_days_slipped"]) == (2, 91.0)
    assert (rates.loc["Bo", "deals"], rates.loc["Bo", "push_rate"]) == (2, 0.0)


def test_a_deal_seen_once_takes_no_part_in_the_push_rate():
    h = deal_history(_versions(WEEKS[:1]), SNAPSHOTS.iloc[:1], STAGES)
    assert (h["snapshots_seen"] == 1).all()
    assert push_rates(h).empty


def test_nothing_recorded():
    assert deal_history(None, SNAPSHOTS).empty
    assert push_rates(deal_history(None, SNAPSHOTS)).empty


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.tuples(st.integers(0, 5), st.sampled_from(["S1", "S2", "S3"]), st.integers(0, 120)),
                         min_size=0, max_size=6), min_size=1, max_size=5))
def test_pushes_and_slips_agree_with_the_close_dates(weeks):
    states = []
    for week in weeks:
        seen = {}
        for deal, stage, offset in week:
            seen[f"D{deal}"] = _deal(f"D{deal}", stage=stage, close=str((pd.Timestamp("2026-01-01") + pd.Timedelta(days=offset)).date()))
        states.append(_state(*seen.values()) if seen else _state())
    snaps = pd.DataFrame({"id": range(1, len(weeks) + 1),
                          "as_of": [dt.date(2026, 1, 1) + dt.timedelta(days=7 * i) for i in range(len(weeks))]})
    versions = _versions(states)
    h = deal_history(versions, snaps, STAGES)
    # Each push and step-back is a version change: never more than the deal's versions less one.
    changes_of = versions.groupby("deal_id").size().reindex(h["deal_id"]).to_numpy() - 1
    assert (h["close_pushes"].to_numpy() <= changes_of).all() and (h["stage_backwards"].to_numpy() <= changes_of).all()
    assert (h["close_pushes"] >= 0).all() and (h["stage_backwards"] >= 0).all()
    # A deal never pushed has not slipped later than it started.
    never = h[h["close_pushes"] == 0]
    assert (never["days_slipped"].fillna(0) <= 0).all()
    assert (h["days_in_stage_recorded"] >= 0).all()
    assert h["deal_id"].is_unique
    rates = push_rates(h)
    assert ((rates["push_rate"] >= 0) & (rates["push_rate"] <= 1)).all()
    assert rates["deals"].sum() == (h["snapshots_seen"] >= 2).sum()
