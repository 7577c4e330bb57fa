"""The win-rate trend leaves the period that is not over out of its changes, computed by hand.

Closed deals (quarters): 2026-Q1 W L L L (1/4), 2026-Q2 W W L L (2/4), 2026-Q3 W L (1/2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from funnel.analysis import run


def _tables(as_of: str, language: str = "en") -> dict[str, pd.DataFrame]:
    closes = [("W", "2026-01-10"), ("L", "2026-02-10"), ("L", "2026-03-10"), ("L", "2026-03-20"),
              ("W", "2026-04-10"), ("W", "2026-05-10"), ("L", "2026-06-10"), ("L", "2026-06-20"),
              ("W", "2026-07-10"), ("L", "2026-08-10")]
    opps = pd.DataFrame([(f"T{i}", stage, 100.0, close) for i, (stage, close) in enumerate(closes)],
                        columns=["id", "stage", "amount", "close_date"], index=pd.RangeIndex(2, 2 + len(closes)))
    settings = pd.DataFrame([("as_of", as_of), ("period", "quarter"), ("language", language)], columns=["key", "value"])
    return {"opportunities": opps, "settings": settings}


def test_the_quarter_holding_as_of_is_in_progress_and_has_no_change():
    t = run(_tables("2026-08-15"))["win_rate_trend"].set_index("period")
    assert list(t.index) == ["2026-Q1", "2026-Q2", "2026-Q3"]
    assert list(t["win_rate"]) == [0.25, 0.5, 0.5]
    # Q2 - Q1 = 0.25; Q3 (1 of 2 so far) is not over: no change, not 0.5 - 0.5 = 0.
    assert np.isnan(t.loc["2026-Q1", "change"]) and t.loc["2026-Q2", "change"] == pytest.approx(0.25)
    assert np.isnan(t.loc["2026-Q3", "change"])
    assert list(t["status"]) == ["", "", "in progress"]


def test_a_quarter_is_over_on_its_last_day():
    t = run(_tables("2026-09-30"))["win_rate_trend"].set_index("period")
    assert t.loc["2026-Q3", "change"] == pytest.approx(0.0) and t.loc["2026-Q3", "status"] == ""


def test_in_progress_in_chinese():
    t = run(_tables("2026-08-15", "zh-CN"))["win_rate_trend"]
    assert t["status"].iloc[-1] == "进行中"


def test_the_win_rates_by_period_say_which_period_is_in_progress():
    w = run(_tables("2026-08-15"))["win_rates"]
    period = w[w["dimension"] == "period"].set_index("segment")
    assert period["status"].to_dict() == {"2026-Q1": "", "2026-Q2": "", "2026-Q3": "in progress"}
    assert period.loc["2026-Q3", "win_rate"] == 0.5  # still shown: only the status and the trend's change differ
    assert (w.loc[w["dimension"] != "period", "status"] == "").all()
    # As of 2026-05-15 Q2 is in progress, and Q3, where one deal already closed (early), is not over either.
    w = run(_tables("2026-05-15"))["win_rates"]
    assert w.loc[w["dimension"] == "period", "status"].tolist() == ["", "in progress", "in progress"]
