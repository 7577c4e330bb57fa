"""The amount at risk and its reason in words, on deals worked by hand; the Deal scores sorted by it."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from funnel.analysis import run
from funnel.demo.data import demo_tables
from funnel.forecast.risk import WARNING_SIGNS, risk_columns, sorted_by_risk


def _scores(rows):
    columns = ["id", "amount", "overdue", "pushed", "stale", "inactive", "days_overdue", "days_in_stage",
               "stage_median_days", "days_since_activity", "risks"]
    return pd.DataFrame(rows, columns=columns)


HAND = _scores([
    # id, amount, overdue, pushed, stale, inactive, days overdue, in stage, median, since activity, chain risks
    ("A", 500.0, True, False, True, False, 12, 90, 40.0, 3, "no decision maker known"),
    ("B", 800.0, False, False, False, False, 0, 10, 40.0, 2, "no contact known"),
    ("C", 300.0, False, True, False, True, 0, 20, 40.0, 45, ""),
    ("D", None, False, False, True, False, 0, 50, 20.5, 1, None),
])


def test_a_deals_reason_lists_its_signs_strongest_first_with_their_figures():
    risk = risk_columns(HAND, "en")
    assert risk["reason"].tolist() == [
        "close date passed 12 days ago; 90 days in stage (median 40); no decision maker known",
        "",                                   # no sign, and "no contact known" alone is no reason
        "close date pushed out; no activity for 45 days",
        "50 days in stage (median 20)",       # the median shown whole, as days read
    ]
    assert risk["warning_signs"].tolist() == [2, 0, 2, 1]
    assert risk["amount_at_risk"].tolist() == [500.0, 0.0, 300.0, 0.0]  # D's amount is blank


def test_the_reason_in_chinese():
    assert risk_columns(HAND, "zh-CN")["reason"][2] == "预计成交日期被推后；45 天没有活动"


def test_deals_sorted_by_amount_at_risk_then_signs_then_amount():
    table = HAND.join(risk_columns(HAND, "en"))
    assert sorted_by_risk(table)["id"].tolist() == ["A", "C", "D", "B"]


@given(st.lists(st.tuples(st.one_of(st.none(), st.floats(0, 1e7)), *[st.booleans()] * 4), max_size=12))
def test_amounts_at_risk_add_up_to_the_flagged_amount(rows):
    scores = _scores([(f"D{i}", amount, *flags, 1, 1, 1.0, 1, "") for i, (amount, *flags) in enumerate(rows)])
    risk = risk_columns(scores, "en")
    flagged = scores[list(WARNING_SIGNS)].any(axis=1).to_numpy(dtype=bool)
    amount = pd.to_numeric(scores["amount"]).fillna(0.0)
    assert np.isclose(risk["amount_at_risk"].sum(), amount[flagged].sum())
    assert (risk["amount_at_risk"] <= amount).all()
    assert ((risk["reason"] != "") == flagged).all()


def test_the_demos_deal_scores_start_with_the_most_at_risk_and_add_up_to_the_summarys_flagged_amount():
    report = run(demo_tables(size=300))
    scores = report["deal_scores"]
    assert scores["amount_at_risk"].is_monotonic_decreasing
    summary = report["summary"].set_index("metric")["value"]
    assert scores["amount_at_risk"].sum() == summary["flagged_amount"]
    assert (scores.loc[scores["amount_at_risk"] > 0, "reason"] != "").all()


def test_a_close_date_the_store_saw_pushed_says_how_often_and_how_far():
    seen = HAND.assign(close_pushes=[0, 0, 3, 0], days_slipped=pd.array([0, 0, 45, 0], dtype="Int64"))
    assert risk_columns(seen, "en")["reason"][2] == ("close date pushed 3 time(s), 45 days later than first recorded; "
                                                     "no activity for 45 days")
    assert risk_columns(seen, "zh-CN")["reason"][2] == "预计成交日期被推后 3 次，比首次记录晚 45 天；45 天没有活动"
    # Pushed and then pulled in further: no negative slip is said.
    back = seen.assign(days_slipped=pd.array([0, 0, -10, 0], dtype="Int64"))
    assert "0 days later" in risk_columns(back, "en")["reason"][2]
