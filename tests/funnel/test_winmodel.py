"""The per-deal win model, pinned on a book small enough to count by hand.

Scheme P/I/B/W/L. Six closed deals, four open; every closed deal has the same amount band,
no qualification answers and MAN incomplete, so only the stage, the owner and the
competitor Huikang carry information.

    deal  stage  owner  competitors  history          reached
    C1    W      A      Huikang      -                B (won: every open stage)
    C2    W      A      -            -                B
    C3    W      B      -            -                B
    C4    L      A      Huikang      P, I, L          I
    C5    L      B      Huikang      -                P
    C6    L      B      -            -                P
    O1    P      A      -                             P
    O2    I      B      Huikang                       I
    O3    B      A      -                             B
    O4    P      C      Huikang                       P   (owner C never closed a deal)

Counts (Laplace a = 1). Won 3, lost 3: base log odds log(4/4) = 0.
Reached at least   P: won 3, lost 3   I: won 3, lost 1   B: won 3, lost 0
Stage log odds     P: log(4/4) = 0    I: log(4/2) = log 2   B: log(4/1) = log 4
Owner over all closed deals (K = 2): won A 2, B 1; lost A 1, B 2.
    A: (2+1)/(3+2) / ((1+1)/(3+2)) = 3/2        B: (1+1)/5 / ((2+1)/5) = 2/3
Huikang (K = 2): present in won 1 of 3 (C1), in lost 2 of 3 (C4, C5).
    present: (1+1)/5 / ((2+1)/5) = 2/3          absent: (2+1)/5 / ((1+1)/5) = 3/2
Odds of the open deals:
    O1  P, A, absent:   1 x 3/2 x 3/2 = 9/4      -> 9/13
    O2  I, B, present:  2 x 2/3 x 2/3 = 8/9      -> 8/17
    O3  B, A, absent:   4 x 3/2 x 3/2 = 9        -> 9/10
    O4  P, C, present:  1 x (no owner effect) x 2/3 = 2/3 -> 2/5
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel.analysis import Analysis
from funnel.forecast.deals import deal_table
from funnel.forecast.stages import reached_order, stage_probabilities
from funnel.inputs.schemes import default_stages
from funnel.inputs.validation import validate
from funnel.winmodel.model import (
    DEAL_SCORE_COLUMNS,
    SCORE_COLUMNS,
    deal_facts,
    deal_scores_table,
    factor_effects,
    fit_win_model,
    model_probabilities,
    score_deals,
)

WIN_TABLES = ("deal_scores", "calibration", "reliability", "range_forecast", "health_counts")


def small_book(min_closed: int = 5, override: float | None = None) -> dict[str, pd.DataFrame]:
    """The raw tables of the hand-counted book above."""
    rows = [
        ("C1", "W", "A", "Huikang"), ("C2", "W", "A", None), ("C3", "W", "B", None),
        ("C4", "L", "A", "Huikang"), ("C5", "L", "B", "huikang "), ("C6", "L", "B", None),
        ("O1", "P", "A", None), ("O2", "I", "B", "Huikang"), ("O3", "B", "A", None), ("O4", "P", "C", "Huikang"),
    ]
    opps = pd.DataFrame(rows, columns=["id", "stage", "owner", "competitors"])
    opps["amount"] = 100.0
    opps["close_date"] = "2026-06-30"
    opps["probability_override"] = [None] * 8 + [override, None]
    opps.index = pd.RangeIndex(2, 2 + len(opps))
    history = pd.DataFrame(
        [("C4", "P", "2026-01-01"), ("C4", "I", "2026-02-01"), ("C4", "L", "2026-03-01")],
        columns=["opportunity_id", "stage", "entered"],
        index=pd.RangeIndex(2, 5),
    )
    settings_table = pd.DataFrame([("as_of", "2026-04-30"), ("model_min_closed", min_closed)], columns=["key", "value"])
    return {"opportunities": opps, "stage_history": history, "stages": default_stages(), "settings": settings_table}


def _model_probability(inputs, deals):
    reached = reached_order(deals, inputs.stage_history, inputs.stages)
    model = fit_win_model(deals, inputs.stage_history, inputs.stages, inputs.settings, reached=reached)
    return model_probabilities(model, deals, reached)


def _win_tables(raw) -> dict[str, pd.DataFrame]:
    analysis = Analysis(validate(raw))
    return {name: getattr(analysis, name) for name in WIN_TABLES}


def _deals(raw):
    inputs = validate(raw)
    s = inputs.settings
    probabilities = stage_probabilities(inputs.opportunities, inputs.stage_history, inputs.stages, s.prior_strength)
    return inputs, probabilities, deal_table(inputs.opportunities, inputs.stages, probabilities, s)


@pytest.fixture(scope="module")
def book():
    inputs, probabilities, deals = _deals(small_book())
    model = fit_win_model(deals, inputs.stage_history, inputs.stages, inputs.settings)
    scores = score_deals(model, deals, inputs.stage_history, inputs.stages)
    return inputs, deals, model, scores.set_index(deals["id"])


def test_counts_and_effects(book):
    _, _, model, _ = book
    assert (model.closed_deals, model.won_deals) == (6, 3)
    assert model.base_log_odds == pytest.approx(0.0)
    assert model.stage_log_odds == pytest.approx([0.0, math.log(2), math.log(4)])
    owner = model.fields["owner"]
    a, b = owner.values.get_loc("A"), owner.values.get_loc("B")
    assert owner.effect[a] == pytest.approx(math.log(3 / 2))
    assert owner.effect[b] == pytest.approx(math.log(2 / 3))
    # "Huikang" and "huikang " are one competitor, shown as first written.
    assert model.competitor_names == ("Huikang",)
    assert model.competitor_present[0] == pytest.approx(math.log(2 / 3))
    assert model.competitor_absent[0] == pytest.approx(math.log(3 / 2))
    # Every closed deal shares team, source, product, industry, band, qualification, MAN.
    assert set(model.fields) == {"owner"}


def test_model_probabilities(book):
    _, _, _, scores = book
    p = scores["model_probability"]
    assert p["O1"] == pytest.approx(9 / 13)
    assert p["O2"] == pytest.approx(8 / 17)
    assert p["O3"] == pytest.approx(9 / 10)
    assert p["O4"] == pytest.approx(2 / 5)
    assert p[["C1", "C4"]].isna().all()  # closed deals are not scored
    assert (scores.loc[["O1", "O2"], "basis"] == "model").all()
    assert scores.loc["O3", "log_odds"] == pytest.approx(math.log(9))


def test_explanations(book):
    _, _, _, scores = book
    o2 = scores.loc["O2"]
    assert o2["factors_for"] == "stage I reached: +"
    # Equal effects keep the factor order: owner before competitors.
    assert o2["factors_against"] == "owner B: -; competitor Huikang present: -"
    assert o2["for_1"] == "stage I reached" and o2["for_1_effect"] == pytest.approx(math.log(2))
    assert o2["against_1_effect"] == pytest.approx(math.log(2 / 3))
    assert o2["against_2_effect"] == pytest.approx(math.log(2 / 3))
    assert pd.isna(o2["for_2"]) and math.isnan(o2["for_2_effect"])
    assert scores.loc["O3", "factors_for"] == "stage B reached: +; owner A: +; competitor Huikang not present: +"
    assert scores.loc["O1", "factors_for"] == "owner A: +; competitor Huikang not present: +"
    assert scores.loc["O1", "factors_against"] == ""
    # An owner who never closed a deal adds nothing either way; the stage P adds 0.
    assert scores.loc["O4", "factors_for"] == ""
    assert scores.loc["O4", "factors_against"] == "competitor Huikang present: -"


def test_fallback_below_minimum():
    inputs, _, deals = _deals(small_book(min_closed=7))
    model = fit_win_model(deals, inputs.stage_history, inputs.stages, inputs.settings)
    assert not model.usable
    scores = score_deals(model, deals, inputs.stage_history, inputs.stages).set_index(deals["id"])
    assert (scores["basis"] == "stage (only 6 closed deals)").all()
    # Blended P with k = 10: reached P 6 closed, 3 won -> (3 + 10 * 0.2) / (6 + 10) = 5/16.
    assert scores.loc["O1", "model_probability"] == pytest.approx(5 / 16)
    assert scores.loc["O1", "factors_for"] == ""
    assert _model_probability(inputs, deals) is None


def test_model_probability_feeds_deal_table_but_override_wins():
    inputs, probabilities, deals = _deals(small_book(override=0.3))
    model_p = _model_probability(inputs, deals)
    assert model_p.index.equals(deals.index)
    used = deal_table(inputs.opportunities, inputs.stages, probabilities, inputs.settings, probability=model_p)
    used = used.set_index("id")["used_probability"]
    assert used["O1"] == pytest.approx(9 / 13)
    assert used["O3"] == pytest.approx(0.3)  # the deal's own override
    assert used["C1"] == 1.0 and used["C4"] == 0.0


def test_deal_scores_table(book):
    inputs, deals, _, scores = book
    table = deal_scores_table(deals, scores.set_axis(deals.index))
    assert list(table.columns) == list(DEAL_SCORE_COLUMNS)
    assert list(table["id"]) == ["O1", "O2", "O3", "O4"]
    assert table.loc[1, "model_probability"] == pytest.approx(8 / 17)
    # Blended I: reached I 4 closed (C1-C4), 3 won -> (3 + 10 * 0.5) / (4 + 10) = 8/14.
    assert table.loc[1, "stage_probability"] == pytest.approx(8 / 14)


def test_all_closed_deals_won_stays_below_one():
    raw = small_book(min_closed=1)
    raw["opportunities"].loc[raw["opportunities"]["stage"] == "L", "stage"] = "W"
    inputs, _, deals = _deals(raw)
    model = fit_win_model(deals, inputs.stage_history, inputs.stages, inputs.settings)
    p = score_deals(model, deals, inputs.stage_history, inputs.stages)["model_probability"].dropna()
    assert ((p > 0) & (p < 1)).all()
    # 6 won, 0 lost, nothing else varies: odds (6 + 1) / (0 + 1) at every stage.
    assert p.to_numpy() == pytest.approx([7 / 8] * 4)


# --- invariants on random books ----------------------------------------------------

_closed = st.tuples(
    st.sampled_from(["W", "L", "P", "I", "B"]),
    st.sampled_from(["A", "B", "C", None]),
    st.sampled_from(["Web", "Referral", None]),
    st.sampled_from([None, "Huikang", "Huikang;Yongyou", "Dingjie"]),
    st.floats(0, 2e6),
    st.lists(st.booleans(), min_size=11, max_size=11),
    st.lists(st.sampled_from(["P", "I", "B"]), max_size=3),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_closed, min_size=1, max_size=40), st.floats(0.1, 5))
def test_probabilities_inside_and_effects_add_up(rows, alpha):
    opps, hist = [], []
    flags = ["q_why_need", "q_budget", "q_decision_maker", "q_decision_process", "q_decision_criteria",
             "q_timeline", "q_competition", "q_why_us", "man_money", "man_authority", "man_need"]
    for i, (stage, owner, source, comps, amount, answers, path) in enumerate(rows):
        opps.append({"id": f"D{i}", "stage": stage, "owner": owner, "source": source, "competitors": comps,
                     "amount": amount, **dict(zip(flags, answers))})
        hist += [{"opportunity_id": f"D{i}", "stage": s, "entered": pd.Timestamp("2026-01-01") + pd.Timedelta(days=j)}
                 for j, s in enumerate(path)]
    raw = {"opportunities": pd.DataFrame(opps), "stages": default_stages(),
           "stage_history": pd.DataFrame(hist, columns=["opportunity_id", "stage", "entered"]),
           "settings": pd.DataFrame([("model_min_closed", 1)], columns=["key", "value"])}
    inputs, _, deals = _deals(raw)
    model = fit_win_model(deals, inputs.stage_history, inputs.stages, inputs.settings, alpha=alpha)
    scores = score_deals(model, deals, inputs.stage_history, inputs.stages)
    assert list(scores.columns) == list(SCORE_COLUMNS)
    is_open = deals["is_open"].to_numpy()
    p = scores["model_probability"].to_numpy(dtype=float)
    assert np.isnan(p[~is_open]).all()
    if not model.usable:
        return
    assert ((p[is_open] > 0) & (p[is_open] < 1)).all()
    if is_open.any():
        open_deals = deals[is_open]
        effects, _ = factor_effects(model, deal_facts(open_deals), model.stage_index(reached_order(open_deals, inputs.stage_history, inputs.stages).to_numpy()))
        assert scores["log_odds"].to_numpy(dtype=float)[is_open] == pytest.approx(model.base_log_odds + effects.sum(axis=1))
        # The named factors are the strongest ones, in order, with the right sign.
        for_1 = scores["for_1_effect"].to_numpy(dtype=float)[is_open]
        for_2 = scores["for_2_effect"].to_numpy(dtype=float)[is_open]
        top = np.where(effects.max(axis=1) > 1e-12, effects.max(axis=1), np.nan)
        assert np.allclose(for_1, top, equal_nan=True)
        both = ~np.isnan(for_2)
        assert (for_1[both] >= for_2[both]).all() and (for_2[both] > 0).all()
        against = scores["against_1_effect"].to_numpy(dtype=float)[is_open]
        assert (against[~np.isnan(against)] < 0).all()


# --- the win tables of an analysis -----------------------------------------------------

def test_win_tables_on_the_hand_book():
    tables = _win_tables(small_book())
    scores = tables["deal_scores"].set_index("id")
    assert list(scores.index) == ["O1", "O2", "O3", "O4"]
    assert scores.loc["O2", "model_probability"] == pytest.approx(8 / 17)
    assert scores.loc["O2", "factors_against"] == "owner B: -; competitor Huikang present: -"
    assert {"stale", "overdue", "pushed", "inactive"} <= set(scores.columns)
    # All ten deals close 2026-06-30: one period, four open deals of 100 each.
    rng = tables["range_forecast"].set_index("period")
    assert rng.loc["2026-Q2", "open_deals"] == 4 and rng.loc["2026-Q2", "open_amount"] == 400.0
    # One close date: nothing closes before the cut-off, so there is no backtest.
    assert tables["calibration"].empty
    assert list(tables["health_counts"]["metric"])[:2] == ["stale_deals", "stale_amount"]


def test_win_tables_on_books_with_little_in_them():
    empty = small_book()
    empty["opportunities"] = empty["opportunities"].iloc[:0]
    empty["stage_history"] = empty["stage_history"].iloc[:0]
    tables = _win_tables(empty)
    assert tables["deal_scores"].empty and tables["range_forecast"].empty

    only_open = small_book(min_closed=1)
    only_open["opportunities"] = only_open["opportunities"].iloc[6:]
    only_open["stage_history"] = None
    scores = _win_tables(only_open)["deal_scores"]
    assert (scores["basis"] == "stage (only 0 closed deals)").all()
    assert list(scores["model_probability"]) == pytest.approx([0.2, 0.5, 0.8, 0.2])  # configured: no deal has closed


def test_the_analysis_scores_as_the_model_functions_do():
    # One model, fitted once, gives both the forecast's probabilities and the explained scores.
    inputs, _, deals = _deals(small_book())
    analysis = Analysis(validate(small_book()))
    scores = score_deals(fit_win_model(deals, inputs.stage_history, inputs.stages, inputs.settings), deals,
                         inputs.stage_history, inputs.stages)
    pd.testing.assert_frame_equal(analysis.model_scores, scores)
    is_open = deals["is_open"].to_numpy()
    np.testing.assert_allclose(_model_probability(inputs, deals).to_numpy()[is_open],
                               scores["model_probability"].to_numpy(dtype=float)[is_open])
