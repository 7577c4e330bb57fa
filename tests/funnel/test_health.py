"""Deal health flags, pinned on a hand-worked book (as of 2026-04-30, stale x2, inactive 30 days).

    deal  stage  history                                            other
    H1    I      P 01-01, I 02-01                                   close 04-30, no activity date
    H2    W      P 25-10-01, I 25-11-01, B 25-11-21, W 25-12-01
    H3    L      P 25-10-01, I 25-10-11, L 25-11-10
    H4    B      P 01-01, I 02-01, B 03-01, I 03-20, B 04-25        activity 04-29
    H5    P      -                                                  created 01-15, close 04-15, activity 03-31
    H6    I      -                                                  nothing dated

Finished stays (days to the next recorded stage):
    P: H1 31, H2 31, H3 10, H4 31          -> median 31
    I: H2 20, H3 30, H4 28 and 36          -> median (28 + 30) / 2 = 29
    B: H2 10, H4 19                        -> median 14.5
Days in the current stage: H1 in I since 02-01 = 88 (> 2 x 29: stale); H4 back in B since
04-25 = 5; H5 has no history but sits in the first stage: since created 01-15 = 105
(> 2 x 31: stale); H6 unknown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from funnel.demo.data import demo_tables
from funnel.forecast.deals import deal_table
from funnel.forecast.health import HEALTH_COLUMNS, deal_health, health_counts, step_backs
from funnel.forecast.stages import stage_probabilities
from funnel.forecast.stagestats import stage_statistics
from funnel.inputs.schemes import default_stages
from funnel.inputs.validation import validate


def _deals(raw):
    inputs = validate(raw)
    s = inputs.settings
    probabilities = stage_probabilities(inputs.opportunities, inputs.stage_history, inputs.stages, s.prior_strength)
    return inputs, probabilities, deal_table(inputs.opportunities, inputs.stages, probabilities, s)


def hand_book():
    opps = pd.DataFrame(
        [
            ("H1", "I", 100.0, None, "2026-04-30", None),
            ("H2", "W", 50.0, None, "2025-12-01", None),
            ("H3", "L", 50.0, None, "2025-11-10", None),
            ("H4", "B", 200.0, None, "2026-06-30", "2026-04-29"),
            ("H5", "P", 300.0, "2026-01-15", "2026-04-15", "2026-03-31"),
            ("H6", "I", 400.0, None, "2026-05-31", None),
        ],
        columns=["id", "stage", "amount", "created", "close_date", "last_activity"],
    )
    history = pd.DataFrame(
        [("H1", "P", "2026-01-01"), ("H1", "I", "2026-02-01"),
         ("H2", "P", "2025-10-01"), ("H2", "I", "2025-11-01"), ("H2", "B", "2025-11-21"), ("H2", "W", "2025-12-01"),
         ("H3", "P", "2025-10-01"), ("H3", "I", "2025-10-11"), ("H3", "L", "2025-11-10"),
         ("H4", "P", "2026-01-01"), ("H4", "I", "2026-02-01"), ("H4", "B", "2026-03-01"), ("H4", "I", "2026-03-20"),
         ("H4", "B", "2026-04-25")],
        columns=["opportunity_id", "stage", "entered"],
    )
    settings = pd.DataFrame([("as_of", "2026-04-30"), ("stale_multiple", 2), ("inactive_days", 30)], columns=["key", "value"])
    return {"opportunities": opps, "stage_history": history, "stages": default_stages(), "settings": settings}


@pytest.fixture(scope="module")
def health():
    inputs, _, deals = _deals(hand_book())
    return deals, deal_health(deals, inputs.stage_history, inputs.stages, inputs.settings).set_axis(deals["id"])


def test_days_in_stage_and_stale(health):
    _, h = health
    assert list(h.columns) == list(HEALTH_COLUMNS)
    assert h.loc["H1", "days_in_stage"] == 88 and h.loc["H1", "stage_median_days"] == 29 and h.loc["H1", "stale"]
    assert h.loc["H4", "days_in_stage"] == 5 and h.loc["H4", "stage_median_days"] == 14.5 and not h.loc["H4", "stale"]
    assert h.loc["H5", "days_in_stage"] == 105 and h.loc["H5", "stage_median_days"] == 31 and h.loc["H5", "stale"]
    assert np.isnan(h.loc["H6", "days_in_stage"]) and not h.loc["H6", "stale"]
    assert not h.loc["H2", "stale"] and np.isnan(h.loc["H2", "days_in_stage"])  # closed deals are not flagged


def test_overdue(health):
    _, h = health
    # H5 expected 04-15: 15 days late. H1 closes on the as-of day: not late yet.
    assert h.loc["H5", "overdue"] and h.loc["H5", "days_overdue"] == 15
    assert not h.loc["H1", "overdue"] and not h.loc["H6", "overdue"]
    assert not h.loc["H3", "overdue"]


def test_pushed_counts_stage_step_backs(health):
    _, h = health
    # H4: B 03-01 -> I 03-20 is one step back.
    assert h.loc["H4", "step_backs"] == 1 and h.loc["H4", "pushed"]
    assert h.loc["H1", "step_backs"] == 0 and not h.loc["H1", "pushed"]
    # Entering W or L after an open stage is not a step back.
    assert h.loc["H2", "step_backs"] == 0 and h.loc["H3", "step_backs"] == 0


def test_inactive(health):
    _, h = health
    # H1: no activity date, last stage entry 02-01 -> 88 days. H5: 03-31 -> exactly 30 days.
    assert h.loc["H1", "days_since_activity"] == 88 and h.loc["H1", "inactive"]
    assert h.loc["H5", "days_since_activity"] == 30 and h.loc["H5", "inactive"]
    assert h.loc["H4", "days_since_activity"] == 1 and not h.loc["H4", "inactive"]
    assert np.isnan(h.loc["H6", "days_since_activity"]) and not h.loc["H6", "inactive"]


def test_health_counts(health):
    deals, h = health
    counts = dict(zip(*health_counts(deals, h.set_axis(deals.index)).T.to_numpy()))
    # stale H1 100 + H5 300; overdue H5; pushed H4; inactive H1 + H5; any: H1, H4, H5.
    assert (counts["stale_deals"], counts["stale_amount"]) == (2, 400.0)
    assert (counts["overdue_deals"], counts["overdue_amount"]) == (1, 300.0)
    assert (counts["pushed_deals"], counts["pushed_amount"]) == (1, 200.0)
    assert (counts["inactive_deals"], counts["inactive_amount"]) == (2, 400.0)
    assert (counts["flagged_deals"], counts["flagged_amount"]) == (3, 600.0)


def test_reopened_deal_counts_as_a_step_back():
    raw = hand_book()
    raw["stage_history"] = pd.concat(
        [raw["stage_history"], pd.DataFrame([("H3", "B", "2025-12-01")], columns=["opportunity_id", "stage", "entered"])],
        ignore_index=True,
    )
    inputs, _, deals = _deals(raw)
    counts = step_backs(deals, inputs.stage_history, inputs.stages)
    assert counts[list(deals["id"]).index("H3")] == 1  # L (order 5) -> B (order 3)


def test_no_history_at_all():
    raw = hand_book()
    raw["stage_history"] = raw["stage_history"].iloc[:0]
    inputs, _, deals = _deals(raw)
    h = deal_health(deals, inputs.stage_history, inputs.stages, inputs.settings).set_axis(deals["id"])
    assert (h["step_backs"] == 0).all() and h["stage_median_days"].isna().all() and not h["stale"].any()
    assert h.loc["H5", "days_in_stage"] == 105 and h.loc["H5", "inactive"]


def test_medians_agree_with_stage_statistics():
    inputs, probabilities, deals = _deals(demo_tables(size=600))
    h = deal_health(deals, inputs.stage_history, inputs.stages, inputs.settings)
    stats = stage_statistics(deals, inputs.stage_history, inputs.stages, probabilities, "blended").set_index("code")
    open_deals = deals["is_open"].to_numpy()
    expected = deals.loc[open_deals, "stage"].map(stats["median_days"]).to_numpy(dtype=float)
    assert np.allclose(h.loc[open_deals, "stage_median_days"].to_numpy(dtype=float), expected, equal_nan=True)
    assert h["stale"].any() and h["pushed"].any() and h["overdue"].any() and h["inactive"].any()
