"""Qualification (5W+2P, MAN, go/no-go, urgency, importance) and account grading, by hand.

The book, as of 2026-04-30, key amount 1000, important amount 200:

    deal  account  stage  amount  close        notes
    A1    Acme     W      600     2026-01-15
    A2    Acme     W      300     2026-02-01
    A3    Borg     W      200     2026-02-10
    A4    Cyan     W      100     2026-03-01
    A5    Cyan     L       50     2026-03-05
    A6    Dune     L       80     2026-03-10
    A13   Gala     W       20     2026-01-20
    A14   Gala     W       30     2026-02-20
    A7    Echo     P     1000     2026-05-20   q_* all but why-us; MAN all; go_real, go_solution
    A8    Borg     I      250     2026-06-30   q_budget, q_timeline; man_money
    A9    Acme     B      150     2026-07-30
    A10   (none)   P     blank    2026-07-31
    A11   Echo     P      199     2026-04-29
    A12   Fern     I      200     (none)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel.analysis import run
from funnel.inputs.contract import QUALIFICATION_5W2P, QUALIFICATION_6W2P
from funnel.inputs.schemes import default_stages
from funnel.methods.qualification import (
    account_grades,
    importance,
    qualification_columns,
    qualification_table,
    star_grade,
    urgency,
)

_ROWS = [
    # id, account, stage, amount, created, close
    ("A1", "Acme", "W", 600.0, "2025-10-01", "2026-01-15"),
    ("A2", "Acme", "W", 300.0, "2025-11-01", "2026-02-01"),
    ("A3", "Borg", "W", 200.0, "2025-11-01", "2026-02-10"),
    ("A4", "Cyan", "W", 100.0, "2025-12-01", "2026-03-01"),
    ("A5", "Cyan", "L", 50.0, "2025-12-01", "2026-03-05"),
    ("A6", "Dune", "L", 80.0, "2025-12-01", "2026-03-10"),
    ("A13", "Gala", "W", 20.0, "2025-10-01", "2026-01-20"),
    ("A14", "Gala", "W", 30.0, "2025-10-01", "2026-02-20"),
    ("A7", "Echo", "P", 1000.0, "2026-03-01", "2026-05-20"),
    ("A8", "Borg", "I", 250.0, "2026-01-01", "2026-06-30"),
    ("A9", "Acme", "B", 150.0, "2026-01-01", "2026-07-30"),
    ("A10", None, "P", None, "2026-04-01", "2026-07-31"),
    ("A11", "Echo", "P", 199.0, "2026-02-01", "2026-04-29"),
    ("A12", "Fern", "I", 200.0, "2026-02-01", None),
]


def book(language: str = "en", go: bool = True) -> dict[str, pd.DataFrame]:
    opps = pd.DataFrame(_ROWS, columns=["id", "account", "stage", "amount", "created", "close_date"])
    for q in QUALIFICATION_6W2P:
        opps[q] = False
    opps.loc[opps["id"] == "A7", list(QUALIFICATION_5W2P)] = True
    opps.loc[opps["id"] == "A8", ["q_budget", "q_timeline"]] = True
    opps["man_money"] = opps["id"].isin(["A7", "A8"])
    opps["man_authority"] = opps["id"].eq("A7")
    opps["man_need"] = opps["id"].eq("A7")
    for g in ("go_real", "go_solution", "go_win", "go_worth"):
        opps[g] = pd.Series("", index=opps.index, dtype=object)  # typed cells, read by validation
    if go:
        opps.loc[opps["id"] == "A7", ["go_real", "go_solution"]] = "yes"
    opps.index = pd.RangeIndex(2, 2 + len(opps))
    settings_rows = pd.DataFrame(
        [("as_of", "2026-04-30"), ("importance_key_amount", 1000), ("importance_important_amount", 200), ("language", language)],
        columns=["key", "value"], index=pd.RangeIndex(2, 6),
    )
    return {"opportunities": opps, "stages": default_stages(), "settings": settings_rows}


@pytest.fixture(scope="module")
def report():
    return run(book())


@pytest.fixture(scope="module")
def accounts(report):
    return account_grades(report.deals).set_index("account")


def test_book_is_clean_but_for_the_open_deal_without_an_amount(report):
    # A10 (sheet row 13) is open in P with no amount: said, and counted as a deal.
    assert report.inputs.issues[["row", "column", "problem"]].values.tolist() == [[13, "amount", "open deal has no amount"]]


def test_pareto_of_accounts(accounts):
    # Won: Acme 600+300 = 900, Borg 200, Cyan 100, Gala 20+30 = 50; total 1250.
    # Shares 0.72, 0.16, 0.08, 0.04; cumulative 0.72, 0.88, 0.96, 1.0.
    a = accounts
    assert a.loc["Acme", "won_amount"] == 900 and a.loc["Gala", "won_amount"] == 50
    assert list(a.loc[["Acme", "Borg", "Cyan", "Gala"], "revenue_share"]) == pytest.approx([0.72, 0.16, 0.08, 0.04])
    assert list(a.loc[["Acme", "Borg", "Cyan", "Gala"], "cumulative_share"]) == pytest.approx([0.72, 0.88, 0.96, 1.0])
    # Acme starts below 80% (0), Borg starts at 0.72 < 0.8 and crosses: both in; Cyan starts at 0.88: out.
    assert list(a.loc[["Acme", "Borg", "Cyan", "Gala", "Dune"], "in_top_80"]) == [True, True, False, False, False]
    # Ranks by won amount; ties at 0 by name: Dune, Echo, Fern.
    assert list(a.index[:7]) == ["Acme", "Borg", "Cyan", "Gala", "Dune", "Echo", "Fern"]
    assert list(a["revenue_rank"].iloc[:7]) == [1, 2, 3, 4, 5, 6, 7]
    # Deals without an account are counted under (none), never ranked or graded.
    assert a.index[-1] == "(none)" and a.loc["(none)", "deals"] == 1
    assert pd.isna(a.loc["(none)", "revenue_rank"]) and pd.isna(a.loc["(none)", "stars"])


def test_star_grades(accounts):
    a = accounts
    # Acme: top group, 2 won -> 5. Borg: top group, 1 won -> 4. Gala: outside, 2 won -> 4.
    # Cyan: outside, 1 won -> 3. Echo, Fern: nothing closed -> 3. Dune: lost only -> 2.
    expected = {"Acme": 5, "Borg": 4, "Gala": 4, "Cyan": 3, "Echo": 3, "Fern": 3, "Dune": 2}
    assert {k: int(a.loc[k, "stars"]) for k in expected} == expected
    assert a.loc["Acme", "stars_label"] == "five-star"


def test_account_history(accounts):
    a = accounts
    # Acme: 3 deals (A1, A2 won; A9 open 150). Cyan: 1 won of 2 closed -> 0.5.
    assert (a.loc["Acme", "deals"], a.loc["Acme", "open_deals"], a.loc["Acme", "open_amount"]) == (3, 1, 150.0)
    assert a.loc["Acme", "win_rate"] == 1.0 and a.loc["Cyan", "win_rate"] == 0.5
    assert a.loc["Dune", "win_rate"] == 0.0 and pd.isna(a.loc["Echo", "win_rate"])
    assert a.loc["Cyan", "lost_amount"] == 50.0


def test_urgency_boundaries():
    # As of 2026-04-30: +1 month = 05-30, +2 = 06-30, +3 = 07-30 (each inclusive).
    dates = pd.Series(pd.to_datetime(["2026-04-29", "2026-04-30", "2026-05-30", "2026-05-31", "2026-06-30",
                                      "2026-07-01", "2026-07-30", "2026-07-31", None]))
    got = list(urgency(dates, pd.Timestamp("2026-04-30").date()))
    assert got == ["overdue", "eager", "eager", "hopeful", "hopeful", "watching", "watching", "later", "none"]


def test_importance_thresholds():
    got = importance(pd.Series([1000.0, 999.99, 200.0, 199.0, 0.0, np.nan]), 1000, 200)
    assert list(got) == ["key", "important", "important", "general", "general", "none"]


def test_qualification_table(report):
    t = qualification_table(report.deals, report.settings).set_index("id")
    # Open deals only, soonest first; no close date last.
    assert list(t.index) == ["A11", "A7", "A8", "A9", "A10", "A12"]
    # Days from 2026-04-30: A11 -1; A7 20; A8 31+30 = 61; A9 31+30+30 = 91; A10 92.
    assert list(t["days_to_close"].iloc[:5]) == [-1, 20, 61, 91, 92]
    assert list(t["urgency"]) == ["overdue", "eager", "hopeful", "watching", "later", "none"]
    assert list(t["importance"]) == ["general", "key", "important", "general", "none", "important"]
    assert t.loc["A7", "urgency_label"] == "eager (within 1 month)"
    # A7: 7 of 7 (5W+2P), 7 of 8 (6W+2P); only "why us" unanswered.
    assert (t.loc["A7", "answered_5w2p"], t.loc["A7", "answered_6w2p"]) == (7, 7)
    assert t.loc["A7", "completeness_5w2p"] == 1.0 and t.loc["A7", "completeness_6w2p"] == 0.875
    assert t.loc["A7", "unanswered"] == "Why should it be us?"
    # A8: budget and timeline: 2/7 and 2/8; six questions listed.
    assert t.loc["A8", "completeness_5w2p"] == pytest.approx(2 / 7) and t.loc["A8", "completeness_6w2p"] == 0.25
    assert t.loc["A8", "unanswered"].count("; ") == 5
    assert t.loc["A8", "unanswered"].startswith("Why do they need or want a new system?; Who decides")
    # MAN: A7 has all three; A8 money only.
    assert t.loc["A7", "man_ok"] and t.loc["A7", "man_missing"] == ""
    assert not t.loc["A8", "man_ok"]
    assert t.loc["A8", "man_missing"] == "authority (can decide or influence); need"
    # Go/no-go: A7 real and solution yes -> 2 of 4.
    assert t.loc["A7", "go_yes"] == 2 and not t.loc["A7", "go_ok"]
    assert t.loc["A7", "go_missing"] == "Can we win?; Is it worth winning?"
    assert t.loc["A9", "go_yes"] == 0
    # The account's grade rides along.
    assert t.loc["A9", "account_stars"] == 5 and t.loc["A9", "account_in_top_80"]
    assert pd.isna(t.loc["A10", "account_stars"])


def test_texts_in_chinese():
    rep = run(book("zh-CN"))
    t = qualification_table(rep.deals, rep.settings).set_index("id")
    assert t.loc["A7", "unanswered"] == "为什么应该是我们?"
    assert t.loc["A8", "man_missing"] == "决定权(能决定或影响购买)；需求"
    assert t.loc["A7", "urgency_label"] == "渴望型(1个月内)"
    assert t.loc["A7", "importance_label"] == "关键"
    assert t.loc["A7", "go_missing"] == "能赢吗?；值得赢吗?"
    assert account_grades(rep.deals, "zh-CN").set_index("account").loc["Dune", "stars_label"] == "二星级"


def test_go_no_go_blank_when_the_book_does_not_use_it():
    rep = run(book(go=False))
    t = qualification_table(rep.deals, rep.settings)
    assert t["go_yes"].isna().all() and t["go_ok"].isna().all() and t["go_missing"].isna().all()


def test_columns_for_deal_scores_align_with_deals(report):
    cols = qualification_columns(report.deals, report.settings)
    assert cols.index.equals(report.deals.index)
    by_id = cols.set_axis(report.deals["id"])
    # Closed deals wait for no decision: urgency and days blank; importance still graded.
    assert by_id.loc["A1", "urgency"] is None and pd.isna(by_id.loc["A1", "days_to_close"])
    assert by_id.loc["A1", "importance"] == "important"  # 600 >= 200
    assert by_id.loc["A8", "man_missing_count"] == 2
    assert by_id.loc["A3", "account_stars"] == 4


def test_star_rule_table():
    # (in top, won, lost) -> stars, one row per branch of the rule.
    in_top = pd.Series([True, True, False, False, False, False])
    won = pd.Series([2, 1, 2, 1, 0, 0])
    lost = pd.Series([0, 5, 0, 3, 2, 0])
    assert list(star_grade(in_top, won, lost)) == [5, 4, 4, 3, 2, 3]


_account_deal = st.tuples(
    st.sampled_from(["A", "B", "C", "D", "E", None]),
    st.sampled_from(["P", "W", "W", "L"]),
    st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False)),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_account_deal, min_size=1, max_size=30))
def test_account_invariants(rows):
    # The deal table's columns account_grades reads (deal_table fills a blank account with "(none)").
    d = pd.DataFrame({
        "account": [a or "(none)" for a, _, _ in rows],
        "amount": [m for _, _, m in rows],
        "is_won": [s == "W" for _, s, _ in rows],
        "is_lost": [s == "L" for _, s, _ in rows],
        "is_open": [s == "P" for _, s, _ in rows],
    }, index=pd.RangeIndex(2, 2 + len(rows)))
    a = account_grades(d)
    # Counts and amounts are conserved.
    assert a["deals"].sum() == len(d)
    assert a["won_deals"].sum() == d["is_won"].sum() and a["lost_deals"].sum() == d["is_lost"].sum()
    assert np.isclose(a["won_amount"].sum(), d.loc[d["is_won"], "amount"].astype(float).sum())
    named = a[a["account"] != "(none)"]
    assert named["stars"].between(2, 5).all()
    total = named["won_amount"].sum()
    if total > 0:
        cum = named["cumulative_share"].to_numpy()
        assert (np.diff(cum) >= -1e-12).all() and np.isclose(cum[-1], 1.0)
        top = named[named["in_top_80"]]
        # The top group reaches 80%, and without its smallest member it would not.
        assert top["won_amount"].sum() / total >= 0.8 - 1e-9
        assert (top["won_amount"].sum() - top["won_amount"].iloc[-1]) / total < 0.8
        assert (top["stars"] >= 4).all()
    else:
        assert not named["in_top_80"].any()
