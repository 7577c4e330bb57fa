"""Competition: the comparison table that decides, head to head, and the entry points.

The book (as of 2026-04-30, configured probabilities P 0.2 / I 0.5 / B 0.8):

    deal  stage  amount  created     close       days  competitors            lost reason
    H1    W      100     2025-10-01  2026-01-01   92   Huikang
    H2    L       50     2025-11-01  2026-02-01   92   huikang；Dingjie        Price
    H3    L       80     2025-12-01  2026-03-01   90   HUIKANG、 Yongyou       price
    H4    L       40     2026-01-01  2026-01-31   30   Huikang, Huikang       Timing
    H5    W      200     2025-09-01  2026-01-10  131   -
    H6    L       30     2025-12-15  2026-02-14   61   -                      No budget
    H7    I      300     2026-01-01  2026-06-30        Dingjie; Huikang
    H8    P      100     2026-02-01  2026-07-30        -
    H9    B      400     2026-02-01  2026-05-30        Oracular

Comparison (scale 0..5), general and per deal:

    row  deal  factor    weight  Us   Huikang  Dingjie  Oracular
    2    -     Function  0.5     4    5        3        -
    3    -     Price     0.3     3    4        5        -
    4    -     Service   0.2     5    2        4        -
    5    H7    Function  50      4    3        -        -
    6    H7    Price     30      6    4        -        -        6 is outside 0..5
    7    H7    Service   20      5    -        -        -        Huikang not scored
    8    H99   Price     1       3    2        -        -        unknown deal
    9    -     -         0.5     1    -        -        -        blank factor
    10   H8    Price     -       3    -        -        -        blank weight
    11   H8    Fit       -1      3    -        -        -        negative weight
    12   H9    Fit       1       abc  4        -        -        unreadable score
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel.analysis import Analysis, run
from funnel.forecast.winrates import wilson_interval
from funnel.inputs.issues import IssueLog
from funnel.inputs.schemes import default_stages
from funnel.inputs.validation import validate
from funnel.methods.competition import (
    comparison_tables,
    head_to_head,
    read_comparison,
    split_competitors,
)

_DEALS = [
    ("H1", "W", 100.0, "2025-10-01", "2026-01-01", "Huikang", None),
    ("H2", "L", 50.0, "2025-11-01", "2026-02-01", "huikang；Dingjie", "Price"),
    ("H3", "L", 80.0, "2025-12-01", "2026-03-01", "HUIKANG、 Yongyou", "price"),
    ("H4", "L", 40.0, "2026-01-01", "2026-01-31", "Huikang, Huikang", "Timing"),
    ("H5", "W", 200.0, "2025-09-01", "2026-01-10", None, None),
    ("H6", "L", 30.0, "2025-12-15", "2026-02-14", " ", "No budget"),
    ("H7", "I", 300.0, "2026-01-01", "2026-06-30", "Dingjie; Huikang", None),
    ("H8", "P", 100.0, "2026-02-01", "2026-07-30", None, None),
    ("H9", "B", 400.0, "2026-02-01", "2026-05-30", "Oracular", None),
]
_COMPARISON = [
    (None, "Function", 0.5, 4, 5, 3, None),
    (None, "Price", 0.3, 3, 4, 5, None),
    (None, "Service", 0.2, 5, 2, 4, None),
    ("H7", "Function", 50, 4, 3, None, None),
    ("H7", "Price", 30, 6, 4, None, None),
    ("H7", "Service", 20, 5, None, None, None),
    ("H99", "Price", 1, 3, 2, None, None),
    (None, None, 0.5, 1, None, None, None),
    ("H8", "Price", None, 3, None, None, None),
    ("H8", "Fit", -1, 3, None, None, None),
    ("H9", "Fit", 1, "abc", 4, None, None),
]


def book(**settings_values) -> dict[str, pd.DataFrame]:
    opps = pd.DataFrame(_DEALS, columns=["id", "stage", "amount", "created", "close_date", "competitors", "lost_reason"],
                        index=pd.RangeIndex(2, 2 + len(_DEALS)))
    comparison = pd.DataFrame(_COMPARISON, columns=["opportunity_id", "factor", "weight", "Us", "Huikang", "Dingjie", "Oracular"],
                              index=pd.RangeIndex(2, 2 + len(_COMPARISON)))
    competitors = pd.DataFrame(
        [("huikang", "Low price", "Thin delivery team"), ("Dingjie", None, "Few references"), ("SAPiens", "Deep features", None),
         ("HUIKANG", "again", None), (None, "nameless", None)],
        columns=["competitor", "strengths", "weaknesses"], index=pd.RangeIndex(2, 7),
    )
    values = {"as_of": "2026-04-30", "probability_method": "configured", **settings_values}
    settings_rows = pd.DataFrame(list(values.items()), columns=["key", "value"], index=pd.RangeIndex(2, 2 + len(values)))
    return {"opportunities": opps, "stages": default_stages(), "settings": settings_rows, "comparison": comparison,
            "competitors": competitors}


def mine(raw: dict[str, pd.DataFrame]):
    """The full run, and an analysis of freshly validated inputs asked for the competition
    and qualification tables only (each computed on its own, when first asked)."""
    rep = run(raw)
    analysis = Analysis(validate(raw))
    return rep, analysis.inputs, {name: getattr(analysis, name) for name in ENTRY_TABLES}


@pytest.fixture(scope="module")
def result():
    rep, inputs, tables = mine(book())
    return rep, tables, inputs.issues, inputs


def _issue(issues: pd.DataFrame, table: str, row, column: str) -> pd.Series:
    mask = (issues["table"] == table) & (issues["column"] == column)
    mask &= issues["row"].isna() if row is None else (issues["row"] == row)
    assert mask.sum() == 1, f"expected one issue for {table} row {row} column {column}"
    return issues[mask].iloc[0]


ENTRY_TABLES = ["comparison_result", "comparison_gaps", "head_to_head", "qualification", "accounts", "decision_chain"]


def test_the_engine_reports_the_same_tables_and_each_problem_once(result):
    rep, tables, issues, _ = result
    for name in ENTRY_TABLES:
        pd.testing.assert_frame_equal(rep.tables[name], tables[name])
    ours = issues[issues["table"].isin(["comparison", "competitors", "stakeholders"])]
    engine = rep.inputs.issues
    engine = engine[engine["table"].isin(["comparison", "competitors", "stakeholders"])]
    pd.testing.assert_frame_equal(engine.reset_index(drop=True), ours.reset_index(drop=True))


def test_general_comparison_totals_and_ranks(result):
    _, tables, _, _ = result
    r = tables["comparison_result"]
    general = r[r["opportunity_id"] == "general"].set_index("vendor")
    # Us 0.5*4 + 0.3*3 + 0.2*5 = 3.9; Huikang 2.5 + 1.2 + 0.4 = 4.1; Dingjie 1.5 + 1.5 + 0.8 = 3.8.
    assert general.loc["Us", "weighted_total"] == pytest.approx(3.9)
    assert general.loc["Huikang", "weighted_total"] == pytest.approx(4.1)
    assert general.loc["Dingjie", "weighted_total"] == pytest.approx(3.8)
    assert list(general.index) == ["Huikang", "Us", "Dingjie"]  # best first
    assert list(general["rank"]) == [1, 2, 3] and not general["tied"].any()
    assert list(general["gap_to_us"]) == pytest.approx([0.2, 0.0, -0.1])
    assert general.loc["Us", "is_us"] and not general.loc["Huikang", "is_us"]
    assert (general["weight_coverage"] == 1.0).all() and (general["factors_scored"] == 3).all()
    assert "Oracular" not in general.index  # no score anywhere: not a vendor


def test_deal_comparison_with_percent_weights_and_missing_scores(result):
    _, tables, _, _ = result
    r = tables["comparison_result"]
    h7 = r[r["opportunity_id"] == "H7"].set_index("vendor")
    # Weights 50/30/20 -> 0.5/0.3/0.2. Us: Price 6 is out of range, so Function 4 and Service 5:
    # (0.5*4 + 0.2*5) / 0.7 = 3 / 0.7 = 4.285714; coverage 0.7.
    assert h7.loc["Us", "weighted_total"] == pytest.approx(3 / 0.7)
    assert h7.loc["Us", "weight_coverage"] == pytest.approx(0.7) and h7.loc["Us", "factors_scored"] == 2
    # Huikang: Function 3, Price 4, Service blank: (1.5 + 1.2) / 0.8 = 3.375; coverage 0.8.
    assert h7.loc["Huikang", "weighted_total"] == pytest.approx(3.375)
    assert h7.loc["Huikang", "weight_coverage"] == pytest.approx(0.8)
    assert list(h7.index) == ["Us", "Huikang"] and list(h7["rank"]) == [1, 2]
    assert h7.loc["Huikang", "gap_to_us"] == pytest.approx(3.375 - 3 / 0.7)
    # Dingjie has no score in H7: it is not part of that comparison.
    assert "Dingjie" not in h7.index
    # The unknown deal keeps its own comparison; the unreadable score leaves Huikang alone in H9.
    h99 = r[r["opportunity_id"] == "H99"].set_index("vendor")
    assert list(h99["weighted_total"]) == [3.0, 2.0]
    h9 = r[r["opportunity_id"] == "H9"]
    assert list(h9["vendor"]) == ["Huikang"] and pd.isna(h9["gap_to_us"].iloc[0])
    assert list(dict.fromkeys(r["opportunity_id"])) == ["general", "H7", "H99", "H9"]


def test_gaps(result):
    _, tables, _, _ = result
    g = tables["comparison_gaps"]
    general = g[g["opportunity_id"] == "general"]
    # Price: 3 vs Dingjie 5 -> -2 x 0.3 = -0.6; Function: 4 vs Huikang 5 -> -1 x 0.5 = -0.5;
    # Service: 5 vs Dingjie 4 -> +1 x 0.2 = 0.2. Biggest absolute weighted gap first.
    assert list(general["factor"]) == ["Price", "Function", "Service"]
    assert list(general["best_rival"]) == ["Dingjie", "Huikang", "Dingjie"]
    assert list(general["gap"]) == [-2.0, -1.0, 1.0]
    assert list(general["weighted_gap"]) == pytest.approx([-0.6, -0.5, 0.2])
    assert list(general["position"]) == ["trail", "trail", "lead"]
    h7 = g[g["opportunity_id"] == "H7"].set_index("factor")
    # Function 4 vs 3: +1 x 0.5 = 0.5 lead; Price (ours out of range) and Service (no rival) have no gap.
    assert h7.loc["Function", "weighted_gap"] == pytest.approx(0.5) and h7.loc["Function", "position"] == "lead"
    assert pd.isna(h7.loc["Price", "gap"]) and pd.isna(h7.loc["Price", "position"])
    assert pd.isna(h7.loc["Service", "rival_score"]) and h7.loc["Service", "our_score"] == 5
    assert list(g[g["opportunity_id"] == "H7"]["factor"]) == ["Function", "Price", "Service"]  # blanks last


def test_comparison_problems_are_reported(result):
    _, _, issues, _ = result
    assert _issue(issues, "comparison", 6, "Us")["problem"] == "score 6 is outside 0..5 (comparison_scale_max)"
    assert _issue(issues, "comparison", 7, "Huikang")["problem"] == "no score for Huikang on 'Service'"
    note = _issue(issues, "comparison", 5, "weight")
    assert note["problem"] == "weights of the comparison for H7 add up to 100, not 1"
    assert note["action"] == "each weight divided by 100"
    assert _issue(issues, "comparison", 8, "opportunity_id")["action"] == "kept as its own comparison"
    assert _issue(issues, "comparison", 9, "factor")["problem"] == "factor is blank"
    assert _issue(issues, "comparison", 10, "weight")["problem"] == "weight is blank"
    assert _issue(issues, "comparison", 11, "weight")["problem"] == "weight is negative"
    # Row 12: "abc" cannot be read, which leaves us with no score at all in H9.
    row12 = issues[(issues["table"] == "comparison") & (issues["row"] == 12)]
    assert list(row12["column"]) == ["Us", "Us"]
    assert set(row12["action"]) == {"not scored (left out of this vendor's total)", "no gaps for this comparison"}
    assert "Us (us) has no score in the comparison for H9" in set(row12["problem"])
    assert _issue(issues, "comparison", None, "Oracular")["problem"] == "vendor column 'Oracular' has no scores"
    # Blank Dingjie cells in H7, where Dingjie takes no part, are not problems.
    assert not ((issues["table"] == "comparison") & (issues["column"] == "Dingjie")).any()


def test_head_to_head(result):
    _, tables, _, _ = result
    h = tables["head_to_head"]
    assert list(h["competitor"]) == ["Huikang", "Dingjie", "Yongyou", "Oracular", "SAPiens", "(no known competitor)"]
    hk = h.iloc[0]
    # Huikang: H1 won; H2, H3, H4 lost (H4 names it twice: once). 1 of 4 -> 0.25.
    assert (hk.met, hk.won, hk.lost, hk.win_rate) == (4, 1, 3, 0.25)
    assert (hk.won_amount, hk.lost_amount) == (100.0, 170.0)  # 50 + 80 + 40
    # Wilson 95% for 1 of 4: centre (0.25 + 1.9208/4)/1.9604 = 0.3725, half 0.3269.
    assert (hk.ci_low, hk.ci_high) == pytest.approx((0.0456, 0.6994), abs=1e-4)
    low, high = wilson_interval(1, 4)
    assert (hk.ci_low, hk.ci_high) == pytest.approx((float(low), float(high)))
    # Cycles 92, 92, 90, 30 -> median (90 + 92) / 2 = 91.
    assert hk.median_cycle_days == 91.0
    assert hk.top_lost_reasons == "Price (2); Timing (1)"
    # Open: H7 300 in I (0.5) -> 150.
    assert (hk.open_deals, hk.open_amount, hk.open_weighted) == (1, 300.0, 150.0)
    assert hk.strengths == "Low price" and hk.weaknesses == "Thin delivery team"
    dj = h.iloc[1]
    assert (dj.met, dj.lost, dj.lost_amount, dj.median_cycle_days, dj.top_lost_reasons) == (1, 1, 50.0, 92.0, "Price (1)")
    assert (dj.open_deals, dj.open_weighted, dj.weaknesses) == (1, 150.0, "Few references")
    yy = h.iloc[2]
    assert (yy.met, yy.lost_amount, yy.top_lost_reasons) == (1, 80.0, "price (1)")
    orc = h.iloc[3]
    # Oracular is only in the open H9: 400 in B (0.8) -> 320; nothing closed, no win rate.
    assert (orc.met, orc.open_deals, orc.open_weighted) == (0, 1, 320.0) and pd.isna(orc.win_rate)
    sap = h.iloc[4]
    assert (sap.met, sap.open_deals, sap.strengths) == (0, 0, "Deep features")
    none = h.iloc[5]
    # H5 won (131 days), H6 lost (61 days; a blank cell names nobody): median 96; open H8 100 x 0.2 = 20.
    assert (none.met, none.won, none.lost, none.won_amount, none.lost_amount) == (2, 1, 1, 200.0, 30.0)
    assert none.median_cycle_days == 96.0 and none.top_lost_reasons == "No budget (1)"
    assert (none.open_deals, none.open_amount, none.open_weighted) == (1, 100.0, 20.0)


def test_competitor_table_problems(result):
    _, _, issues, _ = result
    assert _issue(issues, "competitors", 5, "competitor")["action"] == "later row left out"
    assert _issue(issues, "competitors", 6, "competitor")["problem"] == "competitor name is blank"


def test_entry_point_tables_are_the_module_tables(result):
    rep, tables, _, _ = result
    assert list(tables["qualification"]["id"]) == ["H9", "H7", "H8"]  # soonest close first
    assert set(tables["accounts"]["account"]) == {"(none)"}
    assert tables["decision_chain"].empty  # no stakeholders in this book


def test_chinese_labels():
    _, _, tables = mine(book(language="zh-CN"))
    h = tables["head_to_head"]
    assert h["competitor"].iloc[-1] == "(无已知竞争对手)"
    assert h["top_lost_reasons"].iloc[0] == "Price (2)；Timing (1)"
    g = tables["comparison_gaps"]
    assert list(g[g["opportunity_id"] == "general"]["position_label"]) == ["落后", "落后", "领先"]


def test_us_is_found_by_name_or_taken_first():
    table = pd.DataFrame({"factor": ["a"], "weight": [1.0], "Huikang": [3], "我方": [4]}, index=[2])
    _, _, us = read_comparison(table, pd.Series([], dtype=object), 5, IssueLog())
    assert us == "我方"
    table = pd.DataFrame({"factor": ["a"], "weight": [1.0], "Alpha": [3], "Beta": [4]}, index=[2])
    _, _, us = read_comparison(table, pd.Series([], dtype=object), 5, IssueLog())
    assert us == "Alpha"
    log = IssueLog()
    _, _, us = read_comparison(table, pd.Series([], dtype=object), 5, log, us="Gamma")
    assert us == "Alpha" and log.table()["problem"].iloc[0] == "no vendor column is headed 'Gamma' (comparison_us)"


def test_notes_columns_twin_vendors_and_unreadable_weights():
    # Row 2: weight "#N/A" (validation reports it, we say the factor is left out); row 3 is fine.
    # "Ｕｓ" folds to "Us": the second "Us" column is a twin and is ignored; "备注" is not a vendor.
    raw = book()
    raw["comparison"] = pd.DataFrame({"factor": ["a", "b"], "weight": ["#N/A", 1.0], "Ｕｓ": [1, 2], "Us": [5, 5],
                                      "Rival": [3, 4], "备注": ["note", "note"]}, index=[2, 3])
    _, inputs, tables = mine(raw)
    r = tables["comparison_result"].set_index("vendor")
    assert list(r.index) == ["Rival", "Us"] and r.loc["Us", "weighted_total"] == 2.0  # from the first Us column
    issues = inputs.issues
    row2 = issues[(issues["table"] == "comparison") & (issues["row"] == 2)]
    assert list(row2["problem"]) == ["Excel error #N/A instead of a number", "weight could not be read (see the issue above)"]
    assert _issue(issues, "comparison", None, "Us")["problem"] == "vendor column 'Us' appears twice"
    assert not (issues["column"] == "备注").any()


def test_zero_weights_use_equal_weights():
    table = pd.DataFrame({"factor": ["a", "b"], "weight": [0.0, 0.0], "Us": [2, 4], "Rival": [5, 1]}, index=[2, 3])
    log = IssueLog()
    long, vendors, us = read_comparison(table, pd.Series([], dtype=object), 5, log)
    result, _ = comparison_tables(long, vendors, us)
    # Equal weights 0.5 / 0.5: Us (2 + 4) / 2 = 3; Rival (5 + 1) / 2 = 3: a tie, ranked in column order.
    assert list(result["weighted_total"]) == [3.0, 3.0] and list(result["vendor"]) == ["Us", "Rival"]
    assert list(result["rank"]) == [1, 2] and result["tied"].all()
    assert log.table()["action"].iloc[0] == "equal weights used"


def test_important_above_key_is_reported():
    _, inputs, _ = mine(book(importance_key_amount=100, importance_important_amount=500))
    issue = _issue(inputs.issues, "settings", None, "importance_important_amount")
    assert "no deal can be graded important" in issue["problem"]


def test_deal_columns_align_and_do_not_log_twice():
    analysis = Analysis(validate(book()))
    analysis.decision_chain  # reads the stakeholders, reporting their problems
    before = len(analysis.inputs.log)
    cols = analysis.deal_qualification
    rep = analysis  # the deal table is the analysis' own
    inputs = analysis.inputs
    assert cols.index.equals(rep.deals.index)
    assert len(inputs.log) == before
    for col in ("urgency", "importance", "completeness_5w2p", "man_ok", "account_stars", "stakeholders", "risk_count"):
        assert col in cols.columns
    assert cols.set_axis(rep.deals["id"]).loc["H9", "urgency"] == "eager"  # 2026-05-30 = as-of + 1 month


@pytest.mark.parametrize(
    "cell, names",
    [("A;B", ["A", "B"]), ("A；B，C、D", ["A", "B", "C", "D"]), (" a ; A ;; b ", ["a", "b"]), (None, []), ("  ", []),
     ("Big  Co; big co", ["Big Co"])],
)
def test_split_competitors(cell, names):
    assert split_competitors(cell) == names


def test_a_subnormal_weight_keeps_the_total_between_the_scores():
    # Found by hypothesis: 1.5 x 5e-324 rounds to 1e-323, and 1e-323 / 5e-324 = 2.0, above
    # the only score averaged. The total is held between the scores it averages.
    table = pd.DataFrame({"opportunity_id": ["O2", "O2"], "factor": ["price", "service"], "weight": [1.0, 5e-324],
                          "Us": [None, None], "R1": [None, 1.5], "R2": [0.0, None]}, index=pd.RangeIndex(2, 4))
    long, vendors, us = read_comparison(table, pd.Series(["O2"]), 5, IssueLog())
    result, _ = comparison_tables(long, vendors, us)
    totals = result.set_index("vendor")["weighted_total"]
    assert (totals["R1"], totals["R2"]) == (1.5, 0.0)


# Hypothesis: random comparison tables and random books.

_score = st.one_of(st.none(), st.integers(0, 5), st.floats(0, 5, allow_nan=False))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from([None, "O1", "O2"]), st.floats(0, 10, allow_nan=False), _score, _score, _score),
                min_size=1, max_size=15))
def test_comparison_invariants(rows):
    table = pd.DataFrame([{"opportunity_id": o, "factor": f"f{i}", "weight": w, "Us": a, "R1": b, "R2": c}
                          for i, (o, w, a, b, c) in enumerate(rows)], index=pd.RangeIndex(2, 2 + len(rows)))
    long, vendors, us = read_comparison(table, pd.Series(["O1", "O2"]), 5, IssueLog())
    result, gaps = comparison_tables(long, vendors, us)
    for (group, vendor), part in long.groupby(["opportunity_id", "vendor"]):
        row = result[(result["opportunity_id"] == group) & (result["vendor"] == vendor)].iloc[0]
        scored = part["score"].dropna()
        assert 0 <= row["weight_coverage"] <= 1 + 1e-9
        if pd.notna(row["weighted_total"]):
            # A weighted mean lies between the lowest and the highest score it averages.
            assert scored.min() - 1e-9 <= row["weighted_total"] <= scored.max() + 1e-9
    for group, part in result.groupby("opportunity_id"):
        ranked = part["rank"].dropna().astype(int).sort_values()
        assert list(ranked) == list(range(1, len(ranked) + 1))  # ranks are a permutation
        # Best first; totals equal to 9 decimals are ties, ranked in column order.
        assert part.loc[part["rank"].notna(), "weighted_total"].round(9).is_monotonic_decreasing
        # Normalized weights of a comparison add up to 1.
        weights = long[long["opportunity_id"] == group].drop_duplicates("row")["weight"]
        assert np.isclose(weights.sum(), 1.0)
    lead = gaps["position"] == "lead"
    assert (gaps.loc[lead, "gap"] > 0).all() and (gaps.loc[gaps["position"] == "trail", "gap"] < 0).all()


_names = st.sampled_from(["Huikang", "huikang", "Dingjie", "Yongyou", "Dingjie; Huikang", "Yongyou、huikang", None, ""])
_h2h_deal = st.tuples(st.sampled_from(["P", "I", "W", "L"]), st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False)), _names)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_h2h_deal, min_size=1, max_size=25))
def test_head_to_head_invariants(rows):
    deals = pd.DataFrame({
        "id": [f"D{i}" for i in range(len(rows))],
        "amount": [a for _, a, _ in rows],
        "competitors": [c for _, _, c in rows],
        "is_won": [s == "W" for s, _, _ in rows],
        "is_lost": [s == "L" for s, _, _ in rows],
        "is_open": [s in ("P", "I") for s, _, _ in rows],
        "weighted": [(a or 0) * 0.5 if s in ("P", "I") else 0.0 for s, a, _ in rows],
        "created": pd.Timestamp("2026-01-01"), "close_date": pd.Timestamp("2026-02-01"), "lost_reason": "why",
    }, index=pd.RangeIndex(2, 2 + len(rows)))
    h = head_to_head(deals)
    assert (h["won"] + h["lost"] == h["met"]).all()
    named = h.iloc[:-1]
    none = h.iloc[-1]
    closed = deals["is_won"] | deals["is_lost"]
    mentions = deals["competitors"].map(split_competitors).map(len)
    # Competitor rows add up to mentions; the no-competitor row takes the rest of the deals.
    assert named["met"].sum() == mentions[closed].sum()
    assert none["met"] + (closed & (mentions > 0)).sum() == closed.sum()
    assert named["open_deals"].sum() == mentions[deals["is_open"]].sum()
    assert none["open_deals"] + (deals["is_open"] & (mentions > 0)).sum() == deals["is_open"].sum()
    assert len(set(named["competitor"].str.casefold())) == len(named)  # one row per competitor, any case
    rates = h["win_rate"].dropna()
    assert rates.between(0, 1).all()
    assert (h.loc[rates.index, "ci_low"] <= rates + 1e-12).all() and (rates <= h.loc[rates.index, "ci_high"] + 1e-12).all()


# The demo's competition data.


@pytest.fixture(scope="module")
def demo():
    from funnel.demo.competition import demo_competition_tables
    from funnel.demo.data import demo_tables

    tables = demo_tables()
    extra = demo_competition_tables(tables)
    rep = run({**tables, **extra})
    return tables, extra, rep, {name: rep.tables[name] for name in ENTRY_TABLES}


def test_demo_is_deterministic_and_indexed_by_sheet_rows(demo):
    from funnel.demo.competition import demo_competition_tables

    tables, extra, _, _ = demo
    again = demo_competition_tables(tables)
    for name in ("competitors", "comparison", "stakeholders"):
        pd.testing.assert_frame_equal(extra[name], again[name])
        assert extra[name].index[0] == 2 and extra[name].index.is_monotonic_increasing


def test_demo_refers_to_open_deals_and_reads_cleanly(demo):
    tables, extra, rep, out = demo
    opps = tables["opportunities"].set_index("id")
    open_ids = set(opps.index[~opps["stage"].isin(["W", "L"])])
    people_deals = set(extra["stakeholders"]["opportunity_id"])
    assert people_deals <= open_ids and 24 <= len(people_deals) <= 48  # a few dozen open deals
    deal_comparisons = set(extra["comparison"]["opportunity_id"].dropna())
    assert deal_comparisons <= open_ids and len(deal_comparisons) >= 3
    assert extra["comparison"]["opportunity_id"].isna().any()  # plus the general one
    ours = rep.inputs.issues["table"].isin(["comparison", "competitors", "stakeholders"])
    assert not ours.any(), rep.inputs.issues[ours]
    # Every demo stakeholder makes it into the chain, and every open deal named there is listed.
    assert len(out["decision_chain"]) == len(people_deals)
    assert out["decision_chain"]["stakeholders"].sum() == len(extra["stakeholders"])
    assert set(out["comparison_result"]["opportunity_id"]) == deal_comparisons | {"general"}
    assert set(extra["competitors"]["competitor"]) <= set(out["head_to_head"]["competitor"])
