"""The demo's deal history: deterministic, ending at the deals as they are, with pushes and amount changes."""

from __future__ import annotations

import pandas as pd

from funnel.demo.data import DEMO_AS_OF, demo_tables
from funnel.demo.history import demo_deal_history
from funnel.snapshots import HISTORY_COLUMNS, deals_on


def test_the_same_seed_gives_the_same_history_and_another_seed_another():
    tables = demo_tables(size=80, seed=7)
    first = demo_deal_history(tables, DEMO_AS_OF, seed=7)
    assert list(first.columns) == list(HISTORY_COLUMNS)
    pd.testing.assert_frame_equal(first, demo_deal_history(tables, DEMO_AS_OF, seed=7))
    assert not first.equals(demo_deal_history(tables, DEMO_AS_OF, seed=8))


def test_the_history_ends_at_the_deals_now_and_changes_nothing_after_as_of():
    tables = demo_tables(size=200, seed=7)
    history = demo_deal_history(tables, DEMO_AS_OF, seed=7)
    assert history["changed_on"].max() <= pd.Timestamp(DEMO_AS_OF)
    opps = tables["opportunities"]
    now = deals_on(opps, history, DEMO_AS_OF)
    pd.testing.assert_frame_equal(now[["id", "stage", "amount", "close_date"]], opps[["id", "stage", "amount", "close_date"]],
                                  check_dtype=False)
    # Each deal is there from its created date.
    assert deals_on(opps, history, pd.Timestamp(opps["created"].min()).date() - pd.Timedelta(days=1)).empty


def test_the_history_pushes_close_dates_and_revises_amounts():
    tables = demo_tables(size=300, seed=7)
    history = demo_deal_history(tables, DEMO_AS_OF, seed=7)
    moves = history[history["close_date"].notna()].groupby("deal_id")["close_date"].agg(list)
    pushes = moves.map(lambda dates: sum(b > a for a, b in zip(dates, dates[1:])))
    pulls = moves.map(lambda dates: sum(b < a for a, b in zip(dates, dates[1:])))
    assert (pushes >= 3).any() and (pushes == 1).any() and pulls.sum() > 0
    revised = history[history["amount"].notna()].groupby("deal_id")["amount"].agg(list)
    assert revised.map(lambda a: any(y > x for x, y in zip(a, a[1:]))).any()
    assert revised.map(lambda a: any(y < x for x, y in zip(a, a[1:]))).any()
    # Stage rows are the Stage history table's, one for one.
    assert history["stage"].notna().sum() == len(tables["stage_history"])
