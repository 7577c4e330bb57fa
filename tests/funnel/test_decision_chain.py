"""The decision chain, pinned on a small book of stakeholders counted by hand.

    row  deal  name   role            attitude   relationship  style
    2    O1    Wang   决策者           接受        信赖           分析型
    3    O1    Li     buyer           doubt      met           driver
    4    O1    Zhao   influencer      恶意拆台     -             -
    5    O1    Sun    gatekeeper      冷淡        约会           amiable
    6    O2    Chen   decision maker  resist     met           -
    7    O2    Ma     user            support    ally          expressive
    8    O3    Hu     user            support    -             -
    9    O9    Xu     user            -          -             -          unknown deal: left out
    10   O1    wang   user            -          -             -          Wang again: left out
    11   O2    Guo    boss            support    -             -          unknown role: left blank
    12   O2    -      user            -          -             -          no name: left out
    13   O4    Yu     decision maker  support    -             -          closed deal: kept, not listed

Deals: O1 open 500, O2 open 300, O3 open 100, O4 won 50, O5 open 80 (nobody known).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel.analysis import run
from funnel.inputs.issues import IssueLog
from funnel.inputs.schemes import default_stages
from funnel.methods.decision_chain import CORE_ROLES, RISK_FLAGS, chain_columns, decision_chain_table, read_stakeholders
from funnel.methods.labels import codes

_PEOPLE = [
    ("O1", "Wang", "CIO", "决策者", "接受", "信赖", "分析型"),
    ("O1", "Li", None, "buyer", "doubt", "met", "driver"),
    ("O1", "Zhao", None, "influencer", "恶意拆台", None, None),
    ("O1", "Sun", None, "gatekeeper", "冷淡", "约会", "amiable"),
    ("O2", "Chen", None, "decision maker", "resist", "met", None),
    ("O2", "Ma", None, "user", "support", "ally", "expressive"),
    ("O3", "Hu", None, "user", "support", None, None),
    ("O9", "Xu", None, "user", None, None, None),
    ("O1", "wang ", None, "user", None, None, None),
    ("O2", "Guo", None, "boss", "support", None, None),
    ("O2", None, None, "user", None, None, None),
    ("O4", "Yu", None, "decision maker", "support", None, None),
]


def book(language: str = "en") -> dict[str, pd.DataFrame]:
    opps = pd.DataFrame(
        [("O1", "I", 500.0), ("O2", "B", 300.0), ("O3", "P", 100.0), ("O4", "W", 50.0), ("O5", "P", 80.0)],
        columns=["id", "stage", "amount"], index=pd.RangeIndex(2, 7),
    )
    people = pd.DataFrame(_PEOPLE, columns=["opportunity_id", "name", "title", "role", "attitude", "relationship", "style"],
                          index=pd.RangeIndex(2, 2 + len(_PEOPLE)))
    settings_rows = pd.DataFrame([("as_of", "2026-04-30"), ("language", language)], columns=["key", "value"], index=[2, 3])
    return {"opportunities": opps, "stages": default_stages(), "stakeholders": people, "settings": settings_rows}


@pytest.fixture(scope="module")
def read():
    rep = run(book())
    log = IssueLog()
    people = read_stakeholders(rep.inputs.stakeholders, rep.deals["id"], log)
    return rep, people, log.table()


def test_problems_are_reported(read):
    _, _, issues = read
    by_row = {int(r): (c, p, a) for r, c, p, a in zip(issues["row"], issues["column"], issues["problem"], issues["action"])}
    assert set(by_row) == {9, 10, 11, 12}
    assert by_row[9][0] == "opportunity_id" and by_row[9][2] == "row left out"
    assert by_row[10] == ("name", "wang is listed twice for deal O1", "later row left out")  # validation trims
    assert by_row[11][0] == "role" and by_row[11][1].startswith("unknown role 'BOSS'") and by_row[11][2] == "left blank"
    assert by_row[12][:2] == ("name", "stakeholder name is blank")


def test_values_are_read_to_codes(read):
    _, people, _ = read
    # Rows 9, 10, 12 are left out; Guo stays with a blank role.
    assert list(people.index) == [2, 3, 4, 5, 6, 7, 8, 11, 13]
    wang = people.loc[2]
    assert (wang["role"], wang["attitude"], wang["relationship"], wang["style"]) == ("decision_maker", "support", "trusted", "analytical")
    assert people.loc[4, "attitude"] == "hostile" and people.loc[5, "relationship"] == "dating"
    assert people.loc[11, "role"] is None and people.loc[11, "attitude"] == "support"


def test_chain_per_deal(read):
    rep, people, _ = read
    c = chain_columns(people, rep.deals).set_axis(rep.deals["id"])
    # O1: Wang (DM), Li (buyer), Zhao (influencer), Sun (gatekeeper): 4 of 5 core roles.
    assert c.loc["O1", "stakeholders"] == 4 and c.loc["O1", "roles_covered"] == 4
    assert c.loc["O1", "role_coverage"] == 0.8 and c.loc["O1", "roles_missing"] == "user"
    assert c.loc["O1", "roles_known"] == "decision maker; buyer; influencer; gatekeeper"
    assert c.loc["O1", "dm_met"] and c.loc["O1", "dm_supportive"] and c.loc["O1", "dm_relationship"] == "trusted"
    assert (c.loc["O1", "supporters"], c.loc["O1", "hostile"]) == (1, 1)
    assert list(c.loc["O1", list(RISK_FLAGS)]) == [False, False, True, False]
    assert c.loc["O1", "risk_count"] == 1 and c.loc["O1", "risks"] == "hostile stakeholder present"
    # O2: Chen (DM, resists, met), Ma (user, ally), Guo (no role, supports): DM known, not supportive.
    assert (c.loc["O2", "stakeholders"], c.loc["O2", "roles_covered"], c.loc["O2", "supporters"]) == (3, 2, 2)
    assert c.loc["O2", "dm_met"] and not c.loc["O2", "dm_supportive"] and c.loc["O2", "dm_relationship"] == "met"
    assert list(c.loc["O2", list(RISK_FLAGS)]) == [False, True, False, False]
    # O3: only Hu, a user: no decision maker, single-threaded.
    assert list(c.loc["O3", list(RISK_FLAGS)]) == [True, False, False, True]
    assert c.loc["O3", "risk_count"] == 2
    assert c.loc["O3", "risks"] == "no decision maker known; only one contact (single-threaded)"
    assert c.loc["O3", "dm_relationship"] is None
    # O5: nobody known: nothing to judge, so the flags are blank, not "no risk".
    assert c.loc["O5", "stakeholders"] == 0
    assert c.loc["O5", list(RISK_FLAGS)].isna().all() and pd.isna(c.loc["O5", "risk_count"])
    assert c.loc["O5", "risks"] == "no contact known"


def test_decision_chain_table(read):
    rep, people, _ = read
    t = decision_chain_table(people, rep.deals)
    # Open deals with stakeholders, riskiest first, then by amount: O3 (2), O1 (1, 500), O2 (1, 300).
    assert list(t["id"]) == ["O3", "O1", "O2"]
    assert list(t["risk_count"]) == [2, 1, 1]
    assert t.set_index("id").loc["O1", "dm_relationship_label"] == "trusted"


def test_chinese_texts():
    rep = run(book("zh-CN"))
    people = read_stakeholders(rep.inputs.stakeholders, rep.deals["id"], IssueLog())
    c = chain_columns(people, rep.deals, "zh-CN").set_axis(rep.deals["id"])
    assert c.loc["O3", "risks"] == "未找到决策者；只有一个联系人(单线联系)"
    assert c.loc["O1", "roles_missing"] == "使用者"
    t = decision_chain_table(people, rep.deals, "zh-CN").set_index("id")
    assert t.loc["O1", "dm_relationship_label"] == "信赖"


def test_empty_stakeholders_give_blank_chains():
    rep = run({k: v for k, v in book().items() if k != "stakeholders"})
    people = read_stakeholders(rep.inputs.stakeholders, rep.deals["id"], IssueLog())
    c = chain_columns(people, rep.deals)
    assert (c["stakeholders"] == 0).all() and c["risk_count"].isna().all()
    assert decision_chain_table(people, rep.deals).empty


_person = st.tuples(
    st.sampled_from(["D0", "D1", "D2", "D3", "X"]),
    st.sampled_from(["A", "B", "C", "D", None]),
    st.one_of(st.none(), st.sampled_from(codes("role")), st.just("nobody")),
    st.one_of(st.none(), st.sampled_from(codes("attitude"))),
    st.one_of(st.none(), st.sampled_from(codes("relationship"))),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_person, max_size=25))
def test_chain_invariants(rows):
    deals = pd.DataFrame({"id": ["D0", "D1", "D2", "D3"], "is_open": [True, True, False, True],
                          "account": "a", "name": "n", "owner": "o", "stage": "P", "amount": [1.0, 2.0, 3.0, 4.0]},
                         index=pd.RangeIndex(2, 6))
    people = pd.DataFrame(rows, columns=["opportunity_id", "name", "role", "attitude", "relationship"],
                          index=pd.RangeIndex(2, 2 + len(rows)))
    log = IssueLog()
    read = read_stakeholders(people, deals["id"], log)
    # Every row is either used or reported as left out.
    left_out = log.table()
    left_out = left_out[left_out["action"].str.contains("left out")]
    assert len(read) + left_out["row"].nunique() == len(people)
    c = chain_columns(read, deals)
    # Counts conserved: every read row belongs to exactly one deal.
    assert c["stakeholders"].sum() == len(read)
    assert (c["roles_covered"] <= np.minimum(len(CORE_ROLES), c["stakeholders"])).all()
    assert (c["hostile"] + c["supporters"] <= c["stakeholders"]).all()
    assert (c["decision_makers"] <= c["stakeholders"]).all()
    known = c["stakeholders"] > 0
    assert c.loc[~known, "risk_count"].isna().all()
    flags = c.loc[known, list(RISK_FLAGS)].astype(bool)
    assert (flags.sum(axis=1) == c.loc[known, "risk_count"].astype(int)).all()
    assert (flags["single_threaded"] == (c.loc[known, "stakeholders"] == 1)).all()
    assert (flags["no_decision_maker"] == (c.loc[known, "decision_makers"] == 0)).all()
    assert not (flags["no_decision_maker"] & flags["dm_not_supportive"]).any()
    t = decision_chain_table(read, deals)
    assert set(t["id"]) == set(c.index[known & deals["is_open"]].map(deals["id"]))
