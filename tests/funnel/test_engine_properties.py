"""Invariants of the engine on random books (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel.analysis import run
from funnel.inputs.schemes import default_stages

_deal = st.tuples(
    st.sampled_from(["P", "I", "B", "W", "L"]),
    st.one_of(st.none(), st.floats(0, 1e7, allow_nan=False)),
    st.sampled_from(["A", "B", "C", None]),
    st.sampled_from(["T1", "T2", None]),
    st.one_of(st.none(), st.dates(pd.Timestamp("2025-01-01").date(), pd.Timestamp("2027-12-31").date())),
    st.one_of(st.none(), st.floats(0, 1)),
    st.lists(st.sampled_from(["P", "I", "B"]), max_size=3),
)


def _book(deals):
    rows, hist = [], []
    for i, (stage, amount, owner, team, close, override, path) in enumerate(deals):
        rows.append({"id": f"D{i}", "stage": stage, "amount": amount, "owner": owner, "team": team,
                     "close_date": close, "probability_override": override})
        for j, code in enumerate(path):
            hist.append({"opportunity_id": f"D{i}", "stage": code, "entered": pd.Timestamp("2025-01-01") + pd.Timedelta(days=10 * j)})
    opps = pd.DataFrame(rows, columns=["id", "stage", "amount", "owner", "team", "close_date", "probability_override"])
    opps.index = pd.RangeIndex(2, 2 + len(opps))
    history = pd.DataFrame(hist, columns=["opportunity_id", "stage", "entered"])
    history.index = pd.RangeIndex(2, 2 + len(history))
    quotas = pd.DataFrame([("A", "T1", "2026-Q1", 1000.0), (None, "T2", "2026-Q2", 500.0)], columns=["owner", "team", "period", "quota"])
    return {"opportunities": opps, "stage_history": history, "stages": default_stages(), "quotas": quotas}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_deal, min_size=1, max_size=25), st.sampled_from(["configured", "empirical", "blended"]),
       st.floats(0, 50))
def test_engine_invariants(deals, method, k):
    report = run(_book(deals), {"probability_method": method, "prior_strength": str(k)})
    d = report.deals
    # Probabilities stay in [0, 1]; weighted never exceeds the amount.
    assert d["used_probability"].between(0, 1).all()
    stats = report["stage_stats"]
    for col in ("configured", "blended", "used"):
        assert stats[col].between(0, 1).all()
    assert stats["empirical"].dropna().between(0, 1).all()
    assert (d["weighted"] <= d["amount"].fillna(0) + 1e-9).all()
    # Totals are conserved across groupings.
    by_owner, by_team, by_period = report["forecast"], report["forecast_teams"], report["forecast_periods"]
    for col in ("open_deals", "open_amount", "weighted", "closed_won", "won_deals", "lost_deals"):
        total = by_period[col].sum()
        assert np.isclose(by_owner[col].sum(), total) and np.isclose(by_team[col].sum(), total)
    assert by_period["open_deals"].sum() == int(d["is_open"].sum())
    assert np.isclose(by_period["weighted"].sum(), d.loc[d["is_open"], "weighted"].sum())
    for table in (by_owner, by_team, by_period):
        # Cumulative categories: won <= commit <= best case; the open part of each within the open amount.
        assert (table["closed_won"] <= table["commit"] + 1e-6).all() and (table["commit"] <= table["best_case"] + 1e-6).all()
        open_called = table["pipeline"] + table["best_case"] - table["closed_won"]
        assert (open_called <= table["open_amount"] + 1e-6).all()
    for col in ("pipeline", "best_case", "commit"):
        assert np.isclose(by_owner[col].sum(), by_period[col].sum()) and np.isclose(by_team[col].sum(), by_period[col].sum())
    # Win rates: counts add up and the interval holds the rate.
    w = report["win_rates"]
    if not w.empty:
        assert (w["won"] + w["lost"] == w["closed"]).all()
        assert ((w["ci_low"] <= w["win_rate"] + 1e-12) & (w["win_rate"] <= w["ci_high"] + 1e-12)).all()
        for dim, part in w.groupby("dimension"):
            assert part["closed"].sum() == int((d["is_won"] | d["is_lost"]).sum()), dim
