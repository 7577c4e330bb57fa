"""Deal versions: a new version only when a tracked field changed; any snapshot's state replays exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from funnel.snapshots import TRACKED, changes, normalized, record, state_as_of, tracked_fields


def _deal(deal_id, stage="S2", amount=100.0, close="2026-03-31", owner="Ann", team="East", category="Pipeline",
          probability=0.25, is_open=True, is_won=False):
    return {"deal_id": deal_id, "stage": stage, "amount": amount, "close_date": pd.Timestamp(close), "owner": owner,
            "team": team, "forecast_category": category, "probability": probability,
            "weighted": (0.0 if amount is None or np.isnan(amount) else amount) * probability, "is_open": is_open,
            "is_won": is_won}


def _state(*deals) -> pd.DataFrame:
    return normalized(pd.DataFrame(list(deals), columns=["deal_id", *TRACKED]))


# Week 1: three deals. Week 2: D1 pushed, D2 unchanged, D3 deleted, D4 new. Week 3: D1 won.
WEEK1 = _state(_deal("D1"), _deal("D2", amount=200.0), _deal("D3", amount=np.nan, probability=0.1))
WEEK2 = _state(_deal("D1", close="2026-04-30"), _deal("D2", amount=200.0), _deal("D4", owner="Bo"))
WEEK3 = _state(_deal("D1", stage="Won", close="2026-04-30", category="Closed", probability=1.0, is_open=False, is_won=True),
               _deal("D2", amount=200.0), _deal("D4", owner="Bo"))


def test_versions_of_a_worked_example():
    v = record(None, WEEK1, 1)
    v = record(v, WEEK2, 2)
    v = record(v, WEEK3, 3)
    rows = [(r.deal_id, int(r.valid_from), None if pd.isna(r.valid_to) else int(r.valid_to)) for r in v.itertuples()]
    # D1: three versions; D2: one, never ended; D3: ended by its deletion at 2; D4: new at 2.
    assert sorted(rows) == [("D1", 1, 2), ("D1", 2, 3), ("D1", 3, None), ("D2", 1, None), ("D3", 1, 2), ("D4", 2, None)]
    assert v.loc[(v["deal_id"] == "D1") & (v["valid_from"] == 3), "amount"].item() == 100.0
    assert v.loc[(v["deal_id"] == "D1") & (v["valid_from"] == 3), "weighted"].item() == 100.0  # 100 x 1.0


def test_changes_name_new_changed_and_removed_deals():
    new, ended = changes(WEEK1, WEEK2)
    assert list(new["deal_id"]) == ["D1", "D4"]  # D1's close date moved; D4 is new; D2 is as it was
    assert new.loc[0, "close_date"] == pd.Timestamp("2026-04-30")
    assert ended == ["D1", "D3"]  # D1 changed, D3 is gone


def test_a_blank_amount_equals_a_blank_amount():
    new, ended = changes(WEEK1, WEEK1.copy())
    assert new.empty and ended == []


def test_recording_the_same_state_twice_adds_nothing():
    v = record(record(None, WEEK1, 1), WEEK1, 2)
    assert len(v) == 3 and v["valid_to"].isna().all()
    assert state_as_of(v, 2).equals(WEEK1)


def test_state_as_of_each_snapshot():
    v = record(record(record(None, WEEK1, 1), WEEK2, 2), WEEK3, 3)
    assert state_as_of(v, 1).equals(WEEK1)
    assert state_as_of(v, 2).equals(WEEK2)
    assert state_as_of(v, 3).equals(WEEK3)
    assert state_as_of(v, 0).empty  # before the first snapshot there was nothing


def test_tracked_fields_of_a_deal_table():
    deals = pd.DataFrame({
        "id": ["B", "A"], "stage": ["S2", "Won"], "amount": [100.0, 50.0],
        "close_date": pd.to_datetime(["2026-03-31 15:00", "2026-01-10 00:00"]), "owner": ["Ann", "Bo"], "team": ["East", "(none)"],
        "category": ["Pipeline", "Closed"], "used_probability": [0.25, 1.0], "weighted": [25.0, 50.0],
        "is_open": [True, False], "is_won": [False, True], "account": ["x", "y"],
    })
    out = tracked_fields(deals)
    assert list(out.columns) == ["deal_id", *TRACKED]
    assert list(out["deal_id"]) == ["A", "B"]
    assert out.loc[1, "close_date"] == pd.Timestamp("2026-03-31")  # the date, without its time
    assert out.loc[0, "forecast_category"] == "Closed" and not out.loc[0, "is_open"] and out.loc[0, "is_won"]


# --- replaying random histories ------------------------------------------------------------

_ids = st.sampled_from([f"D{i}" for i in range(8)])
_row = st.fixed_dictionaries({
    "stage": st.sampled_from(["S1", "S2", "Won", None]),
    "amount": st.one_of(st.none(), st.sampled_from([0.0, 10.0, 99.5, 1e6])),
    "close": st.sampled_from(["2026-01-31", "2026-02-28", "2026-03-31"]),
    "owner": st.sampled_from(["Ann", "Bo"]),
    "probability": st.sampled_from([0.0, 0.1, 1.0]),
    "is_open": st.booleans(),
})
_states = st.dictionaries(_ids, _row, max_size=8).map(
    lambda d: _state(*(_deal(k, stage=r["stage"], amount=np.nan if r["amount"] is None else r["amount"], close=r["close"],
                             owner=r["owner"], probability=r["probability"], is_open=r["is_open"]) for k, r in d.items())))


@settings(max_examples=150, deadline=None)
@given(st.lists(_states, min_size=1, max_size=6), st.lists(st.booleans(), min_size=6, max_size=6))
def test_replaying_snapshots_reconstructs_every_state(states, repeat):
    versions, recorded = None, []
    for state, twice in zip(states, repeat):
        versions = record(versions, state, len(recorded) + 1)
        recorded.append(state)
        if twice:  # the same data again: a snapshot, no new version
            before = len(versions)
            versions = record(versions, state, len(recorded) + 1)
            recorded.append(state)
            assert len(versions) == before
    for number, state in enumerate(recorded, start=1):
        assert state_as_of(versions, number).equals(state)
    # At most one open version per deal, and a version never ends before it starts.
    open_ = versions[versions["valid_to"].isna()]
    assert not open_["deal_id"].duplicated().any()
    ended = versions.dropna(subset=["valid_to"])
    assert (ended["valid_to"] > ended["valid_from"]).all()
