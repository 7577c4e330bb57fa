"""``funnel.analysis.Analysis``: each table computed once, only what it needs, the same however it runs."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

import funnel.analysis as analysis_module
from funnel.analysis import OUTPUT_TABLES, WIN_BRANCH, Analysis, run
from funnel.demo.competition import demo_competition_tables
from funnel.demo.data import demo_tables
from funnel.inputs.validation import validate


@pytest.fixture(scope="module")
def raw():
    tables = demo_tables(size=400, seed=5)
    tables.update(demo_competition_tables(tables))
    return tables


def _computed(analysis: Analysis) -> set[str]:
    return set(vars(analysis)) - {"inputs", "settings", "history"}


def test_one_table_computes_only_what_it_reads(raw):
    analysis = Analysis(validate(raw, {"forecast_method": "stage"}))
    analysis.forecast_periods
    assert _computed(analysis) == {"keys", "stages_in_use", "reached", "stage_probabilities", "stage_deals",
                                   "method_choice", "deals", "forecast_periods"}
    analysis.head_to_head
    assert "win_model" not in _computed(analysis) and "backtest_predictions" not in _computed(analysis)


def test_auto_backtests_before_it_forecasts(raw):
    # forecast_method auto (the default): the forecast's probabilities depend on the backtest.
    analysis = Analysis(validate(raw))
    analysis.forecast_periods
    assert {"win_model", "backtest_predictions", "method_choice"} <= _computed(analysis)
    assert "backtest" not in _computed(analysis)  # its tables are made only when asked for


def test_the_model_forecast_fits_the_model_once(raw, monkeypatch):
    fits = []
    real = analysis_module.fit_win_model
    monkeypatch.setattr(analysis_module, "fit_win_model", lambda *a, **k: fits.append(1) or real(*a, **k))
    report = run(raw, {"forecast_method": "model"})
    assert len(fits) == 1
    # The forecast's probabilities are the model's where it has learned enough.
    open_deals = report.deals[report.deals["is_open"] & report.deals["probability_override"].isna()]
    scores = report.analysis.model_scores.loc[open_deals.index, "model_probability"]
    pd.testing.assert_series_equal(open_deals["used_probability"], scores, check_names=False)


def _tables_equal(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    assert list(left) == list(right) == list(OUTPUT_TABLES)
    for name in OUTPUT_TABLES:
        pd.testing.assert_frame_equal(left[name], right[name], obj=name)


def test_an_executor_changes_nothing(raw):
    here = Analysis(validate(raw)).tables()
    with ThreadPoolExecutor(1) as threads:
        beside = Analysis(validate(raw)).tables(threads)
    _tables_equal(here, beside)


def test_the_branch_given_to_an_executor_is_what_it_returns(raw):
    submitted = []

    class Recording:
        def submit(self, fn):
            result = fn()
            submitted.append(set(result))
            return type("Done", (), {"result": lambda self: result, "cancel": lambda self: None})()

    analysis = Analysis(validate(raw))
    analysis.tables(Recording())
    assert submitted == [set(WIN_BRANCH)]


def test_the_issues_do_not_depend_on_what_was_asked_first(raw):
    raw = {**raw, "comparison": raw["comparison"].assign(weight="heavy")}  # every weight unreadable
    first = Analysis(validate(raw)).tables()["issues"]
    analysis = Analysis(validate(raw))
    analysis.decision_chain, analysis.head_to_head  # the tables that report problems, out of order
    again = analysis.tables()["issues"]
    assert (first["table"] == "comparison").any()
    pd.testing.assert_frame_equal(first, again)
    assert not first.duplicated().any()  # each problem reported once


def test_an_error_beside_the_branch_cancels_it(raw, monkeypatch):
    cancelled = []

    class Pending:
        def result(self):
            raise AssertionError("the branch's result is never asked for when the rest failed")

        def cancel(self):
            cancelled.append(True)

    class Executor:
        def submit(self, fn):
            return Pending()

    def broken(*args, **kwargs):
        raise RuntimeError("broken")

    monkeypatch.setattr(analysis_module, "weighted_pipeline", broken)
    with pytest.raises(RuntimeError, match="broken"):
        Analysis(validate(raw)).tables(Executor())
    assert cancelled == [True]
