"""Pipeline flow between two snapshots: a worked example by hand, and the balance on random pairs."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from funnel.inputs.settings import Settings
from funnel.snapshots import FLOW_CHANGES, flow_balance, pipeline_flow
from tests.funnel.test_snapshot_versions import _deal, _state

QUARTERS = Settings()  # calendar quarters


def _open(i, amount, close, owner="Ann"):
    return _deal(i, amount=amount, close=close, owner=owner, team="East" if owner == "Ann" else "West")


def _closed(i, amount, close, owner="Ann", won=True):
    return _deal(i, stage="Won" if won else "Lost", amount=amount, close=close, owner=owner,
                 team="East" if owner == "Ann" else "West", is_open=False, is_won=won)


FIRST = _state(
    _open("D1", 100.0, "2026-02-15"), _open("D2", 200.0, "2026-03-10"), _open("D3", 300.0, "2026-01-31", "Bo"),
    _open("D4", 50.0, "2026-03-31", "Bo"), _open("D5", 400.0, "2026-04-20"), _closed("D6", 70.0, "2026-02-01", "Bo", won=False),
    _closed("D7", 500.0, "2026-02-02"), _open("D9", 90.0, "2026-02-20", "Bo"), _open("D10", 10.0, "2026-01-20"),
)
SECOND = _state(
    _open("D1", 150.0, "2026-02-15"),  # raised
    _open("D2", 200.0, "2026-05-10"),  # pushed into Q2
    _closed("D3", 280.0, "2026-01-31", "Bo"),  # won, for less
    # D4 deleted
    _open("D5", 400.0, "2026-03-01"),  # pulled in from Q2
    _open("D6", 70.0, "2026-02-01", "Bo"),  # reopened
    _closed("D7", 500.0, "2026-02-02"),  # won before the first snapshot: no part
    _open("D8", 60.0, "2026-03-15"),  # new
    _closed("D9", 90.0, "2026-02-20", "Bo", won=False),  # lost
    _open("D10", 10.0, "2025-12-31"),  # pulled out, into the quarter before
    _closed("D11", 25.0, "2026-03-30", "Bo"),  # new and won between the snapshots
)


def _rows(flow, period, owner=""):
    part = flow[(flow["period"] == period) & (flow["owner"] == owner)]
    return {r.change: (r.deals, r.amount) for r in part.itertuples()}


def test_the_flow_of_a_worked_example():
    flow = pipeline_flow(FIRST, SECOND, QUARTERS)
    assert _rows(flow, "2026-Q1") == {
        "start": (6, 750.0), "created": (2, 85.0), "reopened": (1, 70.0), "pulled_in": (1, 400.0),
        "amount_increased": (1, 50.0), "amount_decreased": (1, 20.0), "pushed_out": (1, 200.0), "pulled_out": (1, 10.0),
        "won": (2, 305.0), "lost": (1, 90.0), "removed": (1, 50.0), "end": (4, 680.0),
    }
    ann = _rows(flow, "2026-Q1", "Ann")
    assert ann["start"] == (3, 310.0) and ann["created"] == (1, 60.0) and ann["pulled_in"] == (1, 400.0)
    assert ann["end"] == (3, 610.0) and ann["won"] == (0, 0.0)
    bo = _rows(flow, "2026-Q1", "Bo")
    assert bo["won"] == (2, 305.0) and bo["amount_decreased"] == (1, 20.0) and bo["end"] == (1, 70.0)
    q2 = _rows(flow, "2026-Q2")
    assert q2["start"] == (1, 400.0) and q2["pulled_in"] == (1, 200.0) and q2["pulled_out"] == (1, 400.0)
    assert q2["end"] == (1, 200.0)
    assert list(flow[(flow["period"] == "2026-Q1") & (flow["owner"] == "")]["change"]) == list(FLOW_CHANGES)
    assert set(flow["period"]) == {"2025-Q4", "2026-Q1", "2026-Q2"}


def test_the_worked_example_balances():
    balance = flow_balance(pipeline_flow(FIRST, SECOND, QUARTERS))
    assert (balance["amount"] == balance["end_amount"]).all()
    assert (balance["deals"] == balance["end_deals"]).all()


def test_no_change_is_no_flow():
    flow = pipeline_flow(FIRST, FIRST, QUARTERS)
    moving = flow[~flow["change"].isin(["start", "end"])]
    assert (moving["deals"] == 0).all() and (moving["amount"] == 0).all()


def test_a_chosen_period_and_an_empty_pair():
    flow = pipeline_flow(FIRST, SECOND, QUARTERS, periods=["2026-Q1"])
    assert set(flow["period"]) == {"2026-Q1"}
    empty = pipeline_flow(FIRST.iloc[0:0], SECOND.iloc[0:0], QUARTERS)
    assert empty.empty and list(empty.columns) == ["period", "owner", "team", "change", "deals", "amount"]


_CLOSES = ["2026-01-15", "2026-02-20", "2026-05-05", "2025-11-30", None]
_deal_now = st.tuples(st.integers(0, 10_000), st.sampled_from(_CLOSES), st.sampled_from(["open", "won", "lost"]),
                      st.sampled_from(["Ann", "Bo"]), st.booleans())


def _make(d):
    out = []
    for key, (amount, close, status, owner, blank) in d.items():
        a = np.nan if blank and amount % 3 == 0 else float(amount)
        close = close or pd.NaT
        if status == "open":
            out.append(_deal(key, amount=a, close=close, owner=owner))
        else:
            out.append(_deal(key, amount=a, close=close, owner=owner, is_open=False, is_won=status == "won"))
    return _state(*out)


_pairs = st.tuples(st.dictionaries(st.sampled_from([f"D{i}" for i in range(12)]), _deal_now, max_size=12),
                   st.dictionaries(st.sampled_from([f"D{i}" for i in range(12)]), _deal_now, max_size=12))


@settings(max_examples=100, deadline=None)
@given(_pairs)
def test_start_plus_flows_is_end_on_any_pair(pair):
    first, second = _make(pair[0]), _make(pair[1])
    flow = pipeline_flow(first, second, QUARTERS)
    balance = flow_balance(flow)
    # Whole amounts: the identity holds exactly, in every period, owner and team and in total.
    assert (balance["amount"] == balance["end_amount"]).all()
    assert (balance["deals"] == balance["end_deals"]).all()
    assert (flow["amount"] >= 0).all() and (flow["deals"] >= 0).all()
    for period in set(flow["period"]):
        total = _rows(flow, period)
        in_first = first[first["is_open"] & (first["close_date"].dt.to_period("Q").astype(str) == period.replace("-", ""))]
        in_second = second[second["is_open"] & (second["close_date"].dt.to_period("Q").astype(str) == period.replace("-", ""))]
        assert total["start"] == (len(in_first), float(in_first["amount"].fillna(0).sum()))
        assert total["end"] == (len(in_second), float(in_second["amount"].fillna(0).sum()))


@settings(max_examples=60, deadline=None)
@given(_pairs)
def test_deals_closed_at_the_first_snapshot_take_no_part_unless_reopened(pair):
    first, second = _make(pair[0]), _make(pair[1])
    closed_before = first.loc[~first["is_open"], "deal_id"]
    stays_closed = set(closed_before) & set(second.loc[~second["is_open"], "deal_id"])
    without = pipeline_flow(first[~first["deal_id"].isin(stays_closed)], second[~second["deal_id"].isin(stays_closed)],
                            QUARTERS)
    with_them = pipeline_flow(first, second, QUARTERS)
    key = ["period", "owner", "team", "change"]
    merged = with_them.merge(without, on=key, how="outer", suffixes=("", "_without")).fillna(0)
    assert (merged["deals"] == merged["deals_without"]).all()
    assert (merged["amount"] == merged["amount_without"]).all()
