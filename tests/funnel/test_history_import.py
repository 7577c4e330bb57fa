"""CRM history exports (Salesforce Opportunity History, HubSpot property history) read into exact deal versions."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel.analysis import Analysis
from funnel.crm.history import detect_history_layout, read_history_export, sniff_history_layout
from funnel.crm.importers import ExportError
from funnel.inputs.validation import validate
from funnel.snapshots import change_days, reconstructed_state, record

SALESFORCE = """Opportunity History report,,,,,,,
"Opportunity Name","Opportunity ID","Stage","Amount","Probability (%)","Close Date","Last Modified","Last Modified By"
"Acme - ERP","006A","Prospecting","100,000.00","10","3/31/2026","1/2/2026","Ann Lee"
"Acme - ERP","006A","Value Proposition","100,000.00","50","3/31/2026","1/9/2026","Ann Lee"
"Acme - ERP","006A","Value Proposition","120,000.00","50","4/30/2026","1/20/2026","Ann Lee"
"Acme - ERP","006A","Negotiation/Review","120,000.00","90","4/30/2026","1/28/2026","Ann Lee"
"Beta - HR","006B","Prospecting","50,000.00","10","not a date","1/12/2026","Bo Chen"
"Ghost","006Z","Prospecting","1.00","10","2/28/2026","1/5/2026","Bo Chen"
"Beta - HR","006B","Closed Lost","50,000.00","0","2/3/2026","yesterday","Bo Chen"
"Beta - HR","","Prospecting","50,000.00","10","2/3/2026","2/3/2026","Bo Chen"
"Beta - HR","006B","Limbo","50,000.00","0","2/3/2026","2/3/2026","Bo Chen"
"""

HUBSPOT = """Record ID,Property,Value,Timestamp,Source
9001,dealstage,appointmentscheduled,2026-01-02T09:00:00.000Z,CRM_UI
9001,amount,80000,2026-01-02T09:00:00.000Z,CRM_UI
9001,closedate,2026-03-15T00:00:00Z,2026-01-02T09:00:00.000Z,CRM_UI
9001,dealstage,presentationscheduled,2026-01-14T16:30:00.000Z,CRM_UI
9001,closedate,2026-04-15T00:00:00Z,1769904000000,CRM_UI
9001,dealname,Acme renewal,2026-01-02T09:00:00.000Z,CRM_UI
9001,amount,lots,2026-01-20T10:00:00.000Z,CRM_UI
"""


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_header_tells_a_history_export_from_a_deal_export():
    assert detect_history_layout(["Opportunity ID", "Stage", "Amount", "Close Date", "Last Modified"]) == "salesforce-history"
    assert detect_history_layout(["Record ID", "Property", "Value", "Timestamp"]) == "hubspot-history"
    # A deal export (one row per deal) has no history header: the deal importer reads it.
    assert detect_history_layout(["Opportunity ID", "Stage", "Amount", "Close Date", "Created Date"]) is None


def test_salesforce_rows_become_changes_and_messy_rows_issues(tmp_path):
    path = _write(tmp_path, "opp_history.csv", SALESFORCE)
    assert sniff_history_layout(path) == "salesforce-history"
    got = read_history_export(path, known_ids=["006A", "006B"])
    assert (got.layout, got.rows, got.kept) == ("salesforce-history", 9, 6)
    h = got.history
    assert h[h["deal_id"] == "006A"][["changed_on", "stage", "amount", "close_date"]].values.tolist() == [
        [pd.Timestamp("2026-01-02"), "P", 100000.0, pd.Timestamp("2026-03-31")],
        [pd.Timestamp("2026-01-09"), "I", 100000.0, pd.Timestamp("2026-03-31")],
        [pd.Timestamp("2026-01-20"), "I", 120000.0, pd.Timestamp("2026-04-30")],
        [pd.Timestamp("2026-01-28"), "B", 120000.0, pd.Timestamp("2026-04-30")]]
    issues = got.log.table("en")
    rows = [(r.table, r.row, r.column, r.action) for r in issues.itertuples()]
    # Excel rows: the title line is row 1, the header row 2.
    assert rows == [("opp_history.csv", 7, "Close Date", "left blank"), ("opp_history.csv", 8, "Opportunity ID", "row left out"),
                    ("opp_history.csv", 9, "Last Modified", "row left out"), ("opp_history.csv", 10, "Opportunity ID", "row left out"),
                    ("opp_history.csv", 11, "Stage", "left blank")]
    assert "no deal of this id" in issues.iloc[1]["problem"] and "not a date" in issues.iloc[2]["problem"]
    assert "没有此编号的商机" in got.log.table("zh-CN").iloc[1]["problem"]


def test_hubspot_property_history_becomes_changes(tmp_path):
    path = _write(tmp_path, "deal_history.csv", HUBSPOT)
    got = read_history_export(path, "auto", known_ids=["9001"])
    assert got.layout == "hubspot-history" and got.ignored_properties == {"dealname": 1}
    rows = got.history.values.tolist()
    day = pd.Timestamp
    assert [tuple(None if pd.isna(v) else v for v in r[1:]) for r in rows] == [
        (day("2026-01-02"), "P", None, None), (day("2026-01-02"), None, 80000.0, None),
        (day("2026-01-02"), None, None, day("2026-03-15")), (day("2026-01-14"), "I", None, None),
        (day("2026-02-01"), None, None, day("2026-04-15"))]  # 1769904000000 ms = 2026-02-01
    (issue,) = got.log.table("en").itertuples()
    assert (issue.row, issue.column, issue.value, issue.action) == (8, "Value", "lots", "left blank")


def test_no_history_header_is_an_export_error(tmp_path):
    path = _write(tmp_path, "deals.csv", "Opportunity ID,Stage,Amount\n006A,Prospecting,10\n")
    with pytest.raises(ExportError, match="no header of a CRM history export"):
        read_history_export(path)
    assert sniff_history_layout(path) is None


def test_imported_history_replays_into_exact_versions(tmp_path):
    got = read_history_export(_write(tmp_path, "h.csv", SALESFORCE), known_ids=["006A", "006B"])
    opps = pd.DataFrame([{"id": "006A", "owner": "Ann", "team": "East", "stage": "B", "amount": 120000.0,
                          "created": pd.Timestamp("2026-01-02"), "close_date": pd.Timestamp("2026-04-30")}], index=[2])
    inputs = validate({"opportunities": opps}, {"probability_method": "configured", "as_of": "2026-02-10"})
    probabilities = Analysis(inputs).stage_probabilities
    history = got.history[got.history["deal_id"] == "006A"]
    days = change_days(history, dt.date(2026, 1, 1), dt.date(2026, 2, 10))
    assert days == [dt.date(2026, 1, 2), dt.date(2026, 1, 9), dt.date(2026, 1, 20), dt.date(2026, 1, 28)]
    versions = None
    for n, day in enumerate(days, start=1):
        versions = record(versions, reconstructed_state(inputs.opportunities, history, day, inputs.stages, probabilities,
                                                        inputs.settings), n)
    # One version per change, each valid until the next: the export's four rows exactly.
    got_versions = [[r.stage, r.amount, int(r.valid_from), None if pd.isna(r.valid_to) else int(r.valid_to)]
                    for r in versions.itertuples()]
    assert got_versions == [
        ["P", 100000.0, 1, 2], ["I", 100000.0, 2, 3], ["I", 120000.0, 3, 4], ["B", 120000.0, 4, None]]
    assert list(versions["weighted"]) == [20000.0, 50000.0, 60000.0, 96000.0]  # configured P .2, I .5, B .8


_SF_STAGES = {"Prospecting": "P", "Value Proposition": "I", "Negotiation/Review": "B", "Closed Won": "W", "Closed Lost": "L"}


@st.composite
def _salesforce_exports(draw):
    # Deals each with 1-5 edits on distinct days in January 2026: stage, amount, close date after each edit.
    rows = []
    for n in range(draw(st.integers(1, 4))):
        days = sorted(draw(st.sets(st.integers(1, 31), min_size=1, max_size=5)))
        for day in days:
            rows.append((f"006{n}", draw(st.sampled_from(list(_SF_STAGES))), draw(st.integers(1, 9)) * 1000.0,
                         dt.date(2026, draw(st.integers(2, 6)), draw(st.integers(1, 28))), dt.date(2026, 1, day)))
    return rows


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(_salesforce_exports())
def test_any_salesforce_history_replays_into_one_version_per_change(tmp_path, rows):
    lines = ['"Opportunity ID","Stage","Amount","Close Date","Edit Date"']
    lines += [f'"{i}","{s}","{a:,.2f}","{c:%m/%d/%Y}","{d:%m/%d/%Y}"' for i, s, a, c, d in rows]
    path = tmp_path / "h.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    got = read_history_export(path)
    assert got.layout == "salesforce-history" and got.kept == len(rows) and len(got.log) == 0
    last = {}
    for i, s, a, c, d in rows:
        last[i] = (_SF_STAGES[s], a, pd.Timestamp(c))
    deals = pd.DataFrame([{"id": i, "owner": "Ann", "team": "East", "stage": v[0], "amount": v[1], "close_date": v[2],
                           "created": pd.NaT} for i, v in last.items()], index=range(2, 2 + len(last)))
    inputs = validate({"opportunities": deals}, {"as_of": "2026-02-10"})
    probabilities = Analysis(inputs).stage_probabilities
    days = change_days(got.history, dt.date(2026, 1, 1), dt.date(2026, 2, 10))
    versions = None
    for n, day in enumerate(days, start=1):
        versions = record(versions, reconstructed_state(inputs.opportunities, got.history, day, inputs.stages,
                                                        probabilities, inputs.settings), n)
    # Each deal's versions are its rows, one per edit (an edit that changes nothing adds none),
    # each valid from its edit's day; the last is the deal now.
    for deal in last:
        mine = [(_SF_STAGES[s], a, pd.Timestamp(c), d) for i, s, a, c, d in rows if i == deal]
        expected = [m for k, m in enumerate(mine) if k == 0 or m[:3] != mine[k - 1][:3]]
        v = versions[versions["deal_id"] == deal].sort_values("valid_from")
        assert [(r.stage, r.amount, r.close_date, days[int(r.valid_from) - 1]) for r in v.itertuples()] == expected
        assert v["valid_to"].isna().sum() == 1
