"""CRM exports in: Salesforce, HubSpot, the Maven sample, user layouts, and re-imports.

The Salesforce and HubSpot fixtures below are small but shaped like the real exports:
Salesforce's "Details Only" report CSV (quoted cells, US dates, currency-formatted
amounts, the copyright footer), HubSpot's deals export (internal stage ids and labels
mixed, "Date entered" columns, a second pipeline with numeric stage ids).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel.analysis import run
from funnel.crm.importers import (
    BUILTIN_LAYOUTS,
    ExportError,
    ImportResult,
    LayoutError,
    detect_layout,
    import_export,
    load_layout,
    merge_into,
)
from funnel.inputs import parsing
from funnel.inputs.schemes import default_stages
from tests.support.readiness import without_readiness

MAVEN = Path("/work/shared/datasets/maven_crm/sales_pipeline.csv")

SALESFORCE_REPORT = '''"Opportunity Owner","Account Name","Opportunity Name","Type","Stage","Fiscal Period","Amount","Probability (%)","Age","Close Date","Created Date","Next Step","Lead Source","Forecast Category","Opportunity ID"
"Maria Chen","Acme Corp","Acme - 500 Widgets","New Customer","Prospecting","Q2-2026","$48,000.00","10","12","6/30/2026","3/2/2026","Intro call","Web","Pipeline","0065g00000AbCdE1"
"Maria Chen","Globex","Globex - Renewal","Existing Customer - Upgrade","Negotiation/Review","Q2-2026","USD 12,500.00","80","40","5/15/2026","2/1/2026 9:15 AM","Send contract","Partner Referral","Commit","0065g00000AbCdE2"
"Tom Baker","Initech","Initech - Pilot","New Customer","On Hold","Q3-2026","$5,000.00","10","3","7/1/2026","3/10/2026","","Web","Pipeline","0065g00000AbCdE3"
"Tom Baker","Initech","Initech - Pilot (copy)","New Customer","Closed Won","Q1-2026","$5,000.00","100","60","3/31/2026","1/10/2026","","Web","Closed","0065g00000AbCdE2"
"Tom Baker","Umbrella","Umbrella - Suite","New Customer","Closed Lost","Q1-2026","","0","60","13/31/2026","1/10/2026","","Web","Omitted","0065g00000AbCdE5"
"Li Na","Hooli","Hooli - Analytics","New Customer","Value Proposition","Q2-2026","$120,000.00","50","20","4/30/2026","2/20/2026","Demo","Trade Show","Best Case","0065g00000AbCdE6"
"Li Na","Stark","Stark - Platform","New Customer","Id. Decision Makers","Q3-2026","$75,000.00","60","9","8/15/2026","3/1/2026","","Web","Pipeline","0065g00000AbCdE7"
"Li Na","Wayne","Wayne - Security","New Customer","Proposal/Price Quote","Q2-2026","$30,000.00","75","30","5/31/2026","1/20/2026","Quote sent","Partner Referral","Best Case","0065g00000AbCdE8"
"Li Na","Wonka","Wonka - Supply","New Customer","Closed Won","Q1-2026","$22,000.00","100","90","2/28/2026","11/30/2025","","Web","Closed","0065g00000AbCdE9"

"Confidential Information - Do Not Distribute"
"Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."
'''

HUBSPOT_DEALS = '''Record ID,Deal Name,Deal Stage,Amount,Close Date,Create Date,Deal owner,Associated Company,Pipeline,Deal probability,Forecast category,"Date entered ""Appointment Scheduled (Sales Pipeline)""","Date entered ""Qualified To Buy (Sales Pipeline)""","Date entered ""Presentation Scheduled (Sales Pipeline)""","Date entered ""Closed Won (Sales Pipeline)""","Date entered ""Closed Lost (Sales Pipeline)"""
9011,Northwind renewal,closedwon,24000,2026-02-27 16:00,2025-11-03 09:12,Ana Lima,Northwind,Sales Pipeline,1,Closed won,2025-11-03 09:12,2025-11-20 10:00,2025-12-05 15:00,2026-02-27 16:00,
9012,Contoso expansion,Qualified To Buy,"9,500.50",2026-05-31,2026-01-15 11:30,Ana Lima,Contoso,Sales Pipeline,0.5,Best case,2026-01-15 11:30,2026-02-01 08:00,,,
9013,Fabrikam pilot,appointmentscheduled,,2026-06-30,2026-03-01 14:00,Raj Patel,Fabrikam,Sales Pipeline,0.2,Not forecasted,2026-03-01 14:00,,,,
9014,Tailspin partner deal,33445566,12000,2026-06-30,2026-03-02 10:00,Raj Patel,Tailspin,Partner Pipeline,0.1,Pipeline,,,,,
9015,Litware suite,Presentation Scheduled,31000,2026-04-30,2025-12-01 09:00,Raj Patel,Litware,Sales Pipeline,0.6,Commit,2025-12-01 09:00,2025-12-10 09:00,2026-01-12 13:30,,
9016,Adatum upgrade,decisionmakerboughtin,18000,2026-04-15,2025-12-03 10:00,Ana Lima,Adatum,Sales Pipeline,0.8,Commit,2025-12-03 10:00,,,,
9017,Proseware trial,Closed Lost,7000,2026-01-31,2025-10-01 10:00,Ana Lima,Proseware,Sales Pipeline,0,Closed lost,2025-10-01 10:00,2025-10-15 10:00,,,2026-01-31 17:45
'''


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _issues(result: ImportResult) -> list[tuple]:
    table = result.issues
    return [tuple(None if pd.isna(v) else v for v in row) for row in table.itertuples(index=False)]


# The Maven layout maps nothing to B of the default P/I/B/W/L scheme: every Maven import says so.
_MAVEN_NO_B = ("sales_pipeline.csv", None, "deal_stage", "B", "the maven layout maps no export stage to stage B",
               "no imported deal will be in stage B: it will show its configured probability, marked no data")


def _summary(result: ImportResult) -> dict[str, tuple[int, str]]:
    return {item: (count, detail) for item, count, detail in result.summary.itertuples(index=False)}


# ---------------------------------------------------------------- Salesforce


@pytest.fixture
def salesforce(tmp_path) -> ImportResult:
    return import_export(_write(tmp_path, "report.csv", SALESFORCE_REPORT))


def test_salesforce_is_detected_and_stages_map_to_the_funnel(salesforce):
    assert salesforce.layout == "salesforce"
    opps = salesforce.opportunities.set_index("id")
    # Line 4 (On Hold) and line 5 (a repeated id) do not import: 9 rows - 2 = 7 deals.
    assert list(opps.index) == [f"0065g00000AbCdE{i}" for i in (1, 2, 5, 6, 7, 8, 9)]
    assert opps["stage"].to_dict() == {
        "0065g00000AbCdE1": "P",  # Prospecting
        "0065g00000AbCdE2": "B",  # Negotiation/Review
        "0065g00000AbCdE5": "L",  # Closed Lost
        "0065g00000AbCdE6": "I",  # Value Proposition
        "0065g00000AbCdE7": "I",  # Id. Decision Makers
        "0065g00000AbCdE8": "B",  # Proposal/Price Quote
        "0065g00000AbCdE9": "W",  # Closed Won
    }
    # The index is the line in the CSV: header 1, so the first deal is on line 2.
    assert list(salesforce.opportunities.index) == [2, 3, 6, 7, 8, 9, 10]


def test_salesforce_values_are_read_as_the_tool_writes_them(salesforce):
    opps = salesforce.opportunities.set_index("id")
    assert opps.loc["0065g00000AbCdE1", "amount"] == 48000.0  # "$48,000.00"
    assert opps.loc["0065g00000AbCdE2", "amount"] == 12500.0  # "USD 12,500.00"
    assert np.isnan(opps.loc["0065g00000AbCdE5", "amount"])  # blank
    assert opps.loc["0065g00000AbCdE1", "close_date"] == pd.Timestamp("2026-06-30")  # 6/30/2026, M/D/Y
    assert opps.loc["0065g00000AbCdE2", "created"] == pd.Timestamp("2026-02-01")  # "2/1/2026 9:15 AM"
    assert opps.loc["0065g00000AbCdE2", "owner"] == "Maria Chen"
    assert opps.loc["0065g00000AbCdE2", "account"] == "Globex"
    assert opps.loc["0065g00000AbCdE2", "name"] == "Globex - Renewal"
    assert opps.loc["0065g00000AbCdE6", "source"] == "Trade Show"
    assert opps.loc["0065g00000AbCdE6", "forecast_category"] == "Best Case"
    assert salesforce.extra.loc[3, "deal_type"] == "Existing Customer - Upgrade"


def test_salesforce_probability_is_an_override_only_where_the_rep_changed_it(salesforce):
    prob = salesforce.opportunities.set_index("id")["probability_override"]
    # Negotiation/Review defaults to 90%; the rep typed 80 -> kept as 0.8. Every other
    # row carries its stage's default (10, 0, 50, 60, 75, 100) -> dropped.
    assert prob["0065g00000AbCdE2"] == pytest.approx(0.8)
    assert prob.drop("0065g00000AbCdE2").isna().all()
    summary = _summary(salesforce)
    assert summary["probability equal to the stage default"][0] == 6
    assert summary["probability kept as the deal's override"][0] == 1


def test_salesforce_unmappable_rows_and_footer_are_reported(salesforce):
    assert _issues(salesforce) == [
        ("report.csv", 4, "Stage", "On Hold", "stage 'On Hold' is not in the salesforce layout's stage list",
         "row not imported; map the stage in a layout file"),
        ("report.csv", 5, "Opportunity ID", "0065g00000AbCdE2", "duplicate deal id '0065g00000AbCdE2' (first at line 3)",
         "row not imported"),
        ("report.csv", 6, "Close Date", "13/31/2026", "'13/31/2026' is not a real date (read as month/day/year)", "left blank"),
        ("report.csv", 12, "", "Confidential Information - Do Not Distribute",
         "2 line(s) after the data look like a report footer", "skipped"),
    ]
    summary = _summary(salesforce)
    assert summary["rows read"][0] == 9
    assert summary["rows not imported"][0] == 2
    assert summary["deals imported"][0] == 7
    assert summary["stage 'Closed Won' -> W"][0] == 1  # the second Closed Won row was the duplicate


def test_salesforce_import_runs_through_the_engine_without_issues(salesforce):
    report = run(salesforce.tables, overrides={"as_of": "2026-03-15"})
    # An export brings no quotas: the one row, saying what that leaves blank.
    assert report["issues"]["table"].tolist() == ["quotas"] and without_readiness(report).empty
    summary = report["summary"].set_index("metric")["value"]
    # Open: E1 48,000 + E2 12,500 + E6 120,000 + E7 75,000 + E8 30,000 = 285,500; won E9 22,000.
    assert summary["open_deals"] == 5
    assert summary["open_amount"] == pytest.approx(285_500)
    assert summary["won_amount"] == pytest.approx(22_000)
    assert summary["lost_deals"] == 1


def test_import_issues_join_the_report_issues(salesforce):
    report = run(salesforce.tables, overrides={"as_of": "2026-03-15"}, log=salesforce.log)
    assert report["issues"]["table"].tolist() == ["quotas"] + ["report.csv"] * 4
    assert report["summary"].set_index("metric").loc["issues", "value"] == 5


def test_salesforce_api_names_and_name_as_id(tmp_path):
    # A data-loader style export: API names, no Opportunity ID, so the name is the id.
    text = "Name,StageName,Amount,CloseDate,ForecastCategoryName,LeadSource\nBig deal,Qualification,1000,2026-05-01,Pipeline,Web\n"
    result = import_export(_write(tmp_path, "opps.csv", text))
    assert result.layout == "salesforce"
    row = result.opportunities.iloc[0]
    assert (row["id"], row["name"], row["stage"], row["amount"]) == ("Big deal", "Big deal", "P", 1000.0)


def test_salesforce_mixed_currencies_are_reported_not_converted(tmp_path):
    text = ("Opportunity ID,Stage,Amount,Opportunity Currency\n"
            "A,Prospecting,100,USD\nB,Prospecting,200,EUR\nC,Prospecting,300,usd\n")
    result = import_export(_write(tmp_path, "fx.csv", text))
    assert _issues(result) == [
        ("fx.csv", None, "Opportunity Currency", "EUR, USD", "amounts are in more than one currency",
         "not converted: amounts add up as they are"),
    ]
    assert _summary(result)["currency"] == (3, "EUR, USD")


# ---------------------------------------------------------------- HubSpot


@pytest.fixture
def hubspot(tmp_path) -> ImportResult:
    return import_export(_write(tmp_path, "hubspot-crm-exports-all-deals.csv", HUBSPOT_DEALS))


def test_hubspot_stage_ids_and_labels_both_map(hubspot):
    assert hubspot.layout == "hubspot"
    stages = hubspot.opportunities.set_index("id")["stage"].to_dict()
    assert stages == {"9011": "W", "9012": "P", "9013": "P", "9015": "I", "9016": "B", "9017": "L"}
    assert _issues(hubspot) == [
        ("hubspot-crm-exports-all-deals.csv", 5, "Deal Stage", "33445566",
         "stage '33445566' is not in the hubspot layout's stage list", "row not imported; map the stage in a layout file"),
    ]


def test_hubspot_values(hubspot):
    opps = hubspot.opportunities.set_index("id")
    assert opps.loc["9012", "amount"] == 9500.5  # "9,500.50"
    assert np.isnan(opps.loc["9013", "amount"])
    assert opps.loc["9011", "close_date"] == pd.Timestamp("2026-02-27")  # "2026-02-27 16:00"
    assert opps.loc["9011", "owner"] == "Ana Lima" and opps.loc["9011", "account"] == "Northwind"
    # HubSpot's categories translated: Closed won -> Closed, Not forecasted -> Omitted, Best case stays.
    assert opps["forecast_category"].to_dict() == {
        "9011": "Closed", "9012": "Best case", "9013": "Omitted", "9015": "Commit", "9016": "Commit", "9017": "Omitted",
    }
    # Qualified To Buy defaults to 0.4; 0.5 was typed, so it is the deal's override. The rest are defaults.
    assert opps.loc["9012", "probability_override"] == 0.5
    assert opps["probability_override"].drop("9012").isna().all()
    assert hubspot.extra["pipeline"].unique().tolist() == ["Sales Pipeline"]


def test_hubspot_date_entered_columns_become_stage_history(hubspot):
    history = hubspot.tables["stage_history"]
    rows = [(i, s, d.strftime("%Y-%m-%d")) for i, s, d in history.itertuples(index=False)]
    # 9011: Appointment (P) 11-03 and Qualified (P) 11-20 share P, so the earliest counts;
    # Presentation (I) 12-05; Closed Won 02-27. 9016 has only an appointment date.
    assert rows == [
        ("9011", "P", "2025-11-03"), ("9011", "I", "2025-12-05"), ("9011", "W", "2026-02-27"),
        ("9012", "P", "2026-01-15"),
        ("9013", "P", "2026-03-01"),
        ("9015", "P", "2025-12-01"), ("9015", "I", "2026-01-12"),
        ("9016", "P", "2025-12-03"),
        ("9017", "P", "2025-10-01"), ("9017", "L", "2026-01-31"),
    ]
    assert list(history.index) == list(range(2, 12))
    report = run(hubspot.tables, overrides={"as_of": "2026-03-15"})
    # 9013's amount is blank in the export, and it is open: the one problem.
    issues = without_readiness(report)
    assert issues[["row", "column", "problem"]].values.tolist() == [[4, "amount", "open deal has no amount"]]
    assert report.deals.set_index("id").loc["9013", "is_open"]
    assert len(report.deals) == 6


# ---------------------------------------------------------------- Maven


@pytest.mark.skipif(not MAVEN.exists(), reason="the Maven CRM sample is not on this machine")
def test_maven_full_sample_imports_every_row(monkeypatch):
    # How fast is bench/importers.py's question; here, that the dates of 8,800 rows are
    # parsed once per distinct text of each column (exports repeat them), not per row.
    parsed = []
    parse_date = parsing.parse_date

    def counted(text, *args, **kwargs):
        parsed.append(text)
        return parse_date(text, *args, **kwargs)

    monkeypatch.setattr(parsing, "parse_date", counted)
    result = import_export(MAVEN)
    assert result.layout == "maven"
    opps = result.opportunities
    summary = _summary(result)
    assert len(opps) == 8800 and summary["rows not imported"][0] == 0
    assert opps["stage"].value_counts().to_dict() == {"W": 4238, "L": 2473, "I": 1589, "P": 500}
    # Reconciliations, each reported once.
    assert _issues(result) == [
        ("accounts.csv", 2, "sector", "technolgy", "sector 'technolgy' is misspelled in accounts.csv", "read as 'technology' (12 rows)"),
        _MAVEN_NO_B,
        ("sales_pipeline.csv", 3, "product", "GTXPro", "product 'GTXPro' is written 'GTX Pro' in products.csv",
         "matched ignoring spaces and case; read as 'GTX Pro' (1480 rows)"),
    ]
    assert "GTXPro" not in set(opps["product"]) and (opps["product"] == "GTX Pro").sum() == 1480
    assert "technolgy" not in set(opps["industry"].dropna())
    # Open deals (1589 Engaging + 500 Prospecting = 2089) have no close_value: list price fills them.
    assert summary["amount from products.csv sales_price"][0] == 2089
    assert summary["lost deals with amount 0"][0] == 2473
    # History: 8300 deals engaged (8800 - 500 prospecting) -> I rows; 4238 + 2473 closed -> 6711.
    assert len(result.tables["stage_history"]) == 8300 + 6711
    dates = pd.read_csv(MAVEN, dtype=str, usecols=["engage_date", "close_date"])
    assert len(parsed) == dates["engage_date"].nunique() + dates["close_date"].nunique() == 421 + 306


@pytest.mark.skipif(not MAVEN.exists(), reason="the Maven CRM sample is not on this machine")
def test_maven_rows_by_hand():
    opps = import_export(MAVEN).opportunities
    # Line 2: 1C1I7A6R, Moses Frase (Dustin Brinkmann, Central), GTX Plus Basic, Cancity (retail), Won 1054.
    first = opps.loc[2]
    assert (first["id"], first["owner"], first["team"], first["stage"], first["amount"]) == (
        "1C1I7A6R", "Moses Frase", "Dustin Brinkmann", "W", 1054.0)
    assert (first["created"], first["close_date"]) == (pd.Timestamp("2016-10-20"), pd.Timestamp("2017-03-01"))
    assert first["industry"] == "retail"
    # Line 11: HAXMC4IX, Engaging, MG Advanced, no close_value -> list price 3393; no account.
    open_deal = opps.loc[11]
    assert (open_deal["stage"], open_deal["amount"], open_deal["account"]) == ("I", 3393.0, None)
    # Line 8302: 6CWZFOHJ, Prospecting, GTX Basic (550), Green-Plus (services), no engage date.
    prospect = opps.loc[8302]
    assert (prospect["id"], prospect["stage"], prospect["amount"], prospect["industry"]) == ("6CWZFOHJ", "P", 550.0, "services")
    assert pd.isna(prospect["created"])
    # Line 36: N4SD17JR at Acme Corporation, whose sector accounts.csv misspells.
    assert opps.loc[36, "industry"] == "technology"


@pytest.mark.skipif(not MAVEN.exists(), reason="the Maven CRM sample is not on this machine")
def test_maven_runs_through_the_engine():
    result = import_export(MAVEN)
    report = run(result.tables, overrides={"as_of": "2017-12-31"})
    # The layout maps nothing to B (the import said so): B shows no figure of its own. Not one
    # open deal has a close date, and an export brings no quotas: said, nothing else.
    assert report["issues"][["table", "column", "value"]].values.tolist() == [
        ["opportunities", "close_date", "2,089 / 2,089"], ["quotas", "quota", ""]]
    assert without_readiness(report).empty
    summary = report["summary"].set_index("metric")["value"]
    assert (summary["won_deals"], summary["lost_deals"], summary["open_deals"]) == (4238, 2473, 2089)
    # Every closed deal engaged, so stage I is reached by all 6711 of them: 4238 / 6711 won.
    stats = report["stage_stats"].set_index("code")
    assert stats.loc["I", "empirical"] == pytest.approx(4238 / 6711)
    # Not 4238 / 4238 = 1.0 for B: no deal was ever in it, so no empirical figure, the
    # configured 0.8 as blended and used, and I converts straight to won.
    b = stats.loc["B"]
    assert np.isnan(b["empirical"]) and np.isnan(b["conversion_to_next"]) and b["status"] == "no data"
    assert (b["reached_closed"], b["reached_won"], b["blended"], b["used"]) == (0, 0, 0.8, 0.8)
    assert stats.loc["I", "conversion_to_next"] == pytest.approx(4238 / 6711)
    # Nor does the win model start B at log(4239 / 1) = 8.35: no closed deal is credited with B.
    model = report.analysis.win_model
    assert model.stage_log_odds[list(model.stage_codes).index("B")] == pytest.approx(0.0)


def _maven_folder(tmp_path: Path, pipeline: str, teams: bool = True) -> Path:
    _write(tmp_path, "products.csv", "product,series,sales_price\nGTX Pro,GTX,4821\nMG Special,MG,55\n")
    _write(tmp_path, "accounts.csv", "account,sector,year_established,revenue,employees,office_location,subsidiary_of\n"
                                     "Cancity,retail,2001,718.62,2448,United States,\nAcme,technolgy,1996,1,2,Kenya,\n"
                                     "Betatech,technolgy,1986,1,2,Kenya,\n")
    if teams:
        _write(tmp_path, "sales_teams.csv", "sales_agent,manager,regional_office\nMoses Frase,Dustin Brinkmann,Central\n")
    return _write(tmp_path, "sales_pipeline.csv", pipeline)


def test_maven_small_folder_reports_every_reconciliation_once(tmp_path):
    path = _maven_folder(tmp_path, (
        "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
        "A1,Moses Frase,gtx pro,Cancity,Engaging,2017-01-02,,\n"
        "A2,Moses Frase,GTXPro,Acme,Won,2017-01-02,2017-02-01,4500\n"
        "A3,Moses Frase,GTXPro,Betatech,Prospecting,,,\n"
        "A4,Nobody Known,Widget,Unknown Co,Lost,2017-01-03,2017-02-02,0\n"
        "A5,Moses Frase,MG Special,Cancity,Snoozing,2017-01-03,,\n"
    ))
    result = import_export(path)
    assert _issues(result) == [
        ("accounts.csv", 3, "sector", "technolgy", "sector 'technolgy' is misspelled in accounts.csv", "read as 'technology' (2 rows)"),
        _MAVEN_NO_B,
        ("sales_pipeline.csv", 2, "product", "gtx pro", "product 'gtx pro' is written 'GTX Pro' in products.csv",
         "matched ignoring spaces and case; read as 'GTX Pro' (1 rows)"),
        ("sales_pipeline.csv", 3, "product", "GTXPro", "product 'GTXPro' is written 'GTX Pro' in products.csv",
         "matched ignoring spaces and case; read as 'GTX Pro' (2 rows)"),
        ("sales_pipeline.csv", 5, "sales_agent", "Nobody Known", "owner 'Nobody Known' is not in sales_teams.csv",
         "team, region left blank (1 rows)"),
        ("sales_pipeline.csv", 5, "product", "Widget", "product 'Widget' is not in products.csv",
         "product_series, amount left blank (1 rows)"),
        ("sales_pipeline.csv", 5, "account", "Unknown Co", "account 'Unknown Co' is not in accounts.csv",
         "industry, account_country left blank (1 rows)"),
        ("sales_pipeline.csv", 6, "deal_stage", "Snoozing", "stage 'Snoozing' is not in the maven layout's stage list",
         "row not imported; map the stage in a layout file"),
    ]
    opps = result.opportunities.set_index("id")
    # Open deals without close_value take the list price; the won deal keeps its own 4500.
    assert opps["amount"].to_dict() == {"A1": 4821.0, "A2": 4500.0, "A3": 4821.0, "A4": 0.0}
    assert opps["industry"].to_dict() == {"A1": "retail", "A2": "technology", "A3": "technology", "A4": None}
    assert opps["team"].to_dict() == {"A1": "Dustin Brinkmann", "A2": "Dustin Brinkmann", "A3": "Dustin Brinkmann", "A4": None}
    assert result.extra.loc[5, "region"] is None and result.extra.loc[2, "region"] == "Central"
    summary = _summary(result)
    assert summary["lost deals with amount 0"][0] == 1
    assert summary["amount from products.csv sales_price"] == (2, "where blank, for deals in P, I, B")
    report = run(result.tables, overrides={"as_of": "2017-03-01"})
    assert len(report.deals) == 4 and without_readiness(report).empty


def test_maven_managers_fill_the_people_table_and_the_roll_up_uses_it(tmp_path):
    # sales_teams.csv names each agent's manager: the agents and their managers become the
    # People table (each manager at the top, listed after the agents), and the calls
    # roll-up adds the agents' figures up to their manager.
    path = _maven_folder(tmp_path, (
        "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
        "A1,Moses Frase,MG Special,Cancity,Won,2017-01-02,2017-02-01,60\n"
        "A2,Anna Snelling,MG Special,Cancity,Won,2017-01-02,2017-02-10,40\n"
        "A3,Zane Hole,MG Special,Cancity,Won,2017-01-05,2017-03-01,7\n"
    ))
    _write(tmp_path, "sales_teams.csv", "sales_agent,manager,regional_office\nMoses Frase,Dustin Brinkmann,Central\n"
                                        "Anna Snelling,Dustin Brinkmann,Central\nZane Hole,Cara Losch,West\n")
    result = import_export(path)
    people = result.tables["people"]
    assert people.to_dict("list") == {"person": ["Moses Frase", "Anna Snelling", "Zane Hole", "Dustin Brinkmann", "Cara Losch"],
                                      "manager": ["Dustin Brinkmann", "Dustin Brinkmann", "Cara Losch", None, None]}
    assert list(people.index) == [2, 3, 4, 5, 6]  # the People sheet's rows
    assert _summary(result)["people from sales_teams.csv"] == (5, "manager as reports-to; 2 managers")
    assert result.opportunities["team"].tolist() == ["Dustin Brinkmann", "Dustin Brinkmann", "Cara Losch"]  # as before
    report = run(result.tables, overrides={"as_of": "2017-03-31"})
    rollup = report.tables["forecast_calls_rollup"].set_index("person")
    assert rollup.loc["Dustin Brinkmann", ["level", "closed_won", "p50"]].tolist() == [0, 100.0, 100.0]
    assert rollup.loc["Moses Frase", ["manager", "level", "closed_won"]].tolist() == ["Dustin Brinkmann", 1, 60.0]
    assert rollup.loc["Cara Losch", "closed_won"] == 7.0
    assert not report.tables["issues"]["table"].eq("people").any()  # every manager is listed


def test_maven_missing_companion_file_is_reported_and_the_rest_imports(tmp_path):
    path = _maven_folder(tmp_path, (
        "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
        "A1,Moses Frase,MG Special,Cancity,Won,2017-01-02,2017-02-01,60\n"
    ), teams=False)
    result = import_export(path)
    assert _issues(result) == [
        ("accounts.csv", 3, "sector", "technolgy", "sector 'technolgy' is misspelled in accounts.csv", "read as 'technology' (2 rows)"),
        _MAVEN_NO_B,
        ("sales_teams.csv", None, "", "", "companion file sales_teams.csv not found beside sales_pipeline.csv", "team, region left blank"),
    ]
    assert result.opportunities.loc[2, "industry"] == "retail"


# ---------------------------------------------------------------- layouts of one's own


CHINESE_LAYOUT = {
    "name": "kingdee_cn",
    "description": "A Chinese CRM's export: GB18030, semicolons, decimal commas, day-first dates.",
    "columns": {"id": "商机编号", "stage": "阶段", "amount": "金额", "close_date": "预计成交日期", "owner": "负责人"},
    "stages": {"初步接触": "P", "方案评估": "I", "商务谈判": "B", "赢单": "W", "输单": "L"},
    "date_order": "dmy",
    "decimal": ",",
    "constants": {"team": "华东"},
}


def test_user_layout_file_with_encoding_separator_and_formats(tmp_path):
    layout = _write(tmp_path, "kingdee.json", json.dumps(CHINESE_LAYOUT, ensure_ascii=False))
    text = ("商机编号;阶段;金额;预计成交日期;负责人\n"
            "S-1;初步接触;1.234,50;3/1/2026;李伟\n"
            "S-2; 商务谈判 ;¥12.000;2026年3月1日;王芳\n"
            "S-3;赢单;800;01.02.2026;\n")
    result = import_export(_write(tmp_path, "export.csv", text, encoding="gb18030"), layout=layout)
    assert result.layout == "kingdee_cn"
    opps = result.opportunities.set_index("id")
    assert opps["stage"].to_dict() == {"S-1": "P", "S-2": "B", "S-3": "W"}
    # Decimal comma: 1.234,50 = 1234.5 and ¥12.000 = 12000 (the dot groups thousands).
    assert opps["amount"].to_dict() == {"S-1": 1234.5, "S-2": 12000.0, "S-3": 800.0}
    # dmy: 3/1/2026 is 3 January; 01.02.2026 is 1 February.
    assert opps["close_date"].dt.strftime("%Y-%m-%d").to_dict() == {"S-1": "2026-01-03", "S-2": "2026-03-01", "S-3": "2026-02-01"}
    assert opps["team"].unique().tolist() == ["华东"]
    assert _summary(result)["encoding"] == (0, "read as GB18030 (Chinese Windows)")
    assert result.issues.empty


def test_auto_does_not_pick_a_user_layout_but_an_explicit_path_works(tmp_path):
    path = _write(tmp_path, "export.csv", "商机编号,阶段,金额\nS-1,赢单,5\n")
    with pytest.raises(ExportError) as err:
        import_export(path)
    assert str(err.value) == (
        "cannot tell which CRM export.csv comes from: no layout finds both a deal id and a stage column among its "
        "headers (商机编号, 阶段, 金额); pass a layout file that maps them"
    )
    layout = _write(tmp_path, "cn.json", json.dumps(CHINESE_LAYOUT, ensure_ascii=False))
    assert import_export(path, layout).opportunities["amount"].tolist() == [5.0]


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "layout file bad.json is not valid JSON: Expecting property name enclosed in double quotes at line 1"),
        ('{"name": "x", "columns": {"id": "a"}, "stages": {}}', "layout file bad.json: columns: Value error, 'stage' must be mapped"),
        ('{"name": "x", "columns": {"id": "a", "stage": "b", "deal_size": "c"}, "stages": {}}',
         "layout file bad.json: columns: Value error, not opportunities columns: deal_size (known: "
         "id, account, name, owner, team, stage, amount, created, close_date, probability_override, forecast_category, "
         "source, product, industry, competitors, next_step, last_activity, lost_reason, q_why_need, q_budget, "
         "q_decision_maker, q_decision_process, q_decision_criteria, q_timeline, q_competition, q_why_us, man_money, "
         "man_authority, man_need, go_real, go_solution, go_win, go_worth)"),
        ('{"name": "x", "columns": {"id": "a", "stage": "b"}, "stages": {}, "date_format": "dmy"}',
         "layout file bad.json: date_format: Extra inputs are not permitted"),
        ('{"name": "x", "columns": {"id": "a", "stage": "b"}, "stages": {}, "date_order": "ymd"}',
         "layout file bad.json: date_order: Input should be 'mdy' or 'dmy'"),
        ('{"name": "x", "columns": {"id": "a", "stage": "b"}, "stages": {"Won": {"code": "W", "probability": 2}}}',
         "layout file bad.json: stages.Won.str: Input should be a valid string"),
        ('{"name": "x", "columns": {"id": "a", "stage": "b"}, "stages": {}, "history": [{"date": "d"}]}',
         "layout file bad.json: history.0: Value error, give either 'stage' or 'when_closed': true"),
    ],
)
def test_bad_layout_files_say_what_is_wrong(tmp_path, content, message):
    path = _write(tmp_path, "bad.json", content)
    with pytest.raises(LayoutError) as err:
        load_layout(path)
    assert str(err.value) == message


def test_unknown_layout_name():
    with pytest.raises(LayoutError) as err:
        load_layout("pipedrive")
    assert str(err.value) == "unknown layout 'pipedrive' (use maven, salesforce, hubspot, funnel, auto, or a path to a .json mapping file)"


def test_every_shipped_layout_loads_and_detects_its_own_headers():
    for name in BUILTIN_LAYOUTS:
        layout = load_layout(name)
        first = lambda v: v if isinstance(v, str) else v[0]  # noqa: E731
        headers = [first(v) for v in layout.columns.values()]
        assert detect_layout(headers).name == name


def test_explicit_layout_that_does_not_fit(tmp_path):
    path = _write(tmp_path, "x.csv", "Deal,Status\n1,open\n")
    with pytest.raises(ExportError) as err:
        import_export(path, "hubspot")
    assert str(err.value) == (
        "x.csv does not fit the hubspot layout: it needs a deal id column (Record ID, Deal ID, hs_object_id) "
        "and a stage column (Deal Stage, dealstage); headers found: Deal, Status"
    )


# ---------------------------------------------------------------- reading the file


def test_line_numbers_count_blank_lines_and_a_title_above_the_header(tmp_path):
    text = ('Opportunities report\n\n'
            'id,stage,amount,next_step\n'
            'A,P,1,"call\nthen email"\n'  # one record on two physical lines: Excel shows one row
            '\n'
            'B,W,2,\n'
            ',P,3,\n')
    result = import_export(_write(tmp_path, "funnel.csv", text))
    assert result.layout == "funnel"
    assert list(result.opportunities.index) == [4, 6]
    assert result.opportunities.loc[4, "next_step"] == "call\nthen email"
    assert _issues(result) == [("funnel.csv", 7, "id", "", "deal id is blank", "row not imported")]
    summary = _summary(result)
    assert summary["lines above the header"] == (2, "header found on line 3")
    assert summary["blank lines skipped"][0] == 1


def test_a_row_that_spills_past_the_header_is_not_imported(tmp_path):
    text = "id,stage,amount\nA,P,4,800\nB,P,5\n"  # unquoted thousands comma on line 2
    result = import_export(_write(tmp_path, "funnel.csv", text))
    assert _issues(result) == [
        ("funnel.csv", 2, "", "", "the row has 4 values but the header has 3 columns (an unquoted comma in a value?)",
         "row not imported"),
    ]
    assert result.opportunities["id"].tolist() == ["B"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252"])
def test_encodings(tmp_path, encoding):
    text = "id,stage,amount,account\nA,P,1,Société Générale\n"
    result = import_export(_write(tmp_path, "e.csv", text, encoding=encoding))
    assert result.opportunities.loc[2, "account"] == "Société Générale"


def test_excel_sep_hint_line_and_semicolons(tmp_path):
    result = import_export(_write(tmp_path, "s.csv", "sep=;\nid;stage;amount\nA;P;1,5\n"))
    # The hint is row 1, the header row 2, the deal row 3; "1,5" is a decimal comma.
    assert list(result.opportunities.index) == [3]
    assert result.opportunities.loc[3, "amount"] == 1.5


def test_not_a_csv(tmp_path):
    path = tmp_path / "deals.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(ExportError, match="save it as CSV"):
        import_export(path)
    with pytest.raises(ExportError) as err:
        import_export(tmp_path / "missing.csv")
    assert str(err.value) == f"export file not found: {tmp_path / 'missing.csv'}"


def test_missing_amount_column_is_reported_and_deals_still_import(tmp_path):
    result = import_export(_write(tmp_path, "h.csv", "Record ID,Deal Stage\n1,closedwon\n"))
    assert _issues(result) == [
        ("h.csv", None, "", "", "the export has no amount column (looked for: Amount, Amount in company currency)", "amounts left blank"),
    ]
    report = run(result.tables)
    assert report["summary"].set_index("metric").loc["won_deals", "value"] == 1


# ---------------------------------------------------------------- re-import


def _opps(rows: list[dict], start: int = 2) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame.index = pd.RangeIndex(start, start + len(frame))
    return frame


def test_reimporting_the_same_export_changes_nothing(salesforce):
    merged, counts = merge_into(None, salesforce)
    assert counts == {"added": 7, "updated": 0, "unchanged": 0, "not_in_import": 0, "skipped": 0}
    assert list(merged.index) == list(range(2, 9))
    again, counts = merge_into(merged, salesforce)
    assert counts == {"added": 0, "updated": 0, "unchanged": 7, "not_in_import": 0, "skipped": 0}
    pd.testing.assert_frame_equal(again, merged)


def test_reimport_updates_by_id_keeps_workbook_columns_and_appends_new_deals():
    existing = _opps([
        {"id": "A", "stage": "P", "amount": 100.0, "q_budget": "yes"},
        {"id": "B", "stage": "I", "amount": 200.0, "q_budget": "no"},
        {"id": 10023.0, "stage": "I", "amount": 50.0, "q_budget": "yes"},  # Excel hands numeric ids as floats
        {"id": "D", "stage": "W", "amount": 9.0, "q_budget": None},
    ])
    imported = _opps([
        {"id": "B", "stage": "B", "amount": 250.0},  # moved on and grew: updated
        {"id": "A", "stage": "P", "amount": 100},  # same values (int vs float): unchanged
        {"id": "10023", "stage": "I", "amount": 50.0},  # the same deal as 10023.0: unchanged
        {"id": "E", "stage": "P", "amount": 70.0},  # new: appended after row 5
    ], start=2)
    merged, counts = merge_into(existing, imported)
    assert counts == {"added": 1, "updated": 1, "unchanged": 2, "not_in_import": 1, "skipped": 0}
    assert list(merged.index) == [2, 3, 4, 5, 6]
    assert merged.loc[3, ["stage", "amount", "q_budget"]].tolist() == ["B", 250.0, "no"]  # q_budget kept
    assert merged.loc[6, ["id", "stage", "amount"]].tolist() == ["E", "P", 70.0]
    assert merged.loc[5, "id"] == "D"  # not in the import: left alone


def test_reimport_dates_compare_as_dates():
    existing = _opps([{"id": "A", "stage": "P", "amount": 1.0, "close_date": "2026-03-01"}])
    imported = _opps([{"id": "A", "stage": "P", "amount": 1.0, "close_date": pd.Timestamp("2026-03-01")}])
    assert merge_into(existing, imported)[1]["unchanged"] == 1
    imported.loc[2, "close_date"] = pd.Timestamp("2026-03-02")
    merged, counts = merge_into(existing, imported)
    assert counts["updated"] == 1 and merged.loc[2, "close_date"] == pd.Timestamp("2026-03-02")


def test_reimport_skips_blank_and_repeated_ids():
    imported = _opps([{"id": "A", "stage": "P", "amount": 1.0}, {"id": None, "stage": "P", "amount": 2.0},
                      {"id": "A", "stage": "W", "amount": 3.0}])
    merged, counts = merge_into(None, imported)
    assert counts == {"added": 1, "updated": 0, "unchanged": 0, "not_in_import": 0, "skipped": 2}
    assert merged["amount"].tolist() == [1.0]


_deal = st.fixed_dictionaries({
    "id": st.sampled_from(list("ABCDEFGH")),
    "stage": st.sampled_from(list("PIBWL")),
    "amount": st.one_of(st.none(), st.integers(0, 10**6).map(float)),
})


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_deal, max_size=8), st.lists(_deal, max_size=8))
def test_merge_is_idempotent_and_conserves_deals(existing_rows, imported_rows):
    existing = _opps(existing_rows) if existing_rows else None
    imported = _opps(imported_rows) if imported_rows else _opps([], 2).reindex(columns=["id", "stage", "amount"])
    merged, counts = merge_into(existing, imported)
    n_existing = 0 if existing is None else len(existing)
    # Every existing row stays; each distinct new id adds exactly one row.
    assert len(merged) == n_existing + counts["added"]
    distinct_imported = len({r["id"] for r in imported_rows})
    assert counts["added"] + counts["updated"] + counts["unchanged"] == distinct_imported
    again, counts2 = merge_into(merged, imported)
    assert counts2["added"] == 0 and counts2["updated"] == 0
    pd.testing.assert_frame_equal(again, merged)


def test_an_import_says_which_stage_of_the_scheme_its_layout_maps_nothing_to(tmp_path):
    path = _maven_folder(tmp_path, (
        "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
        "A1,Moses Frase,MG Special,Cancity,Won,2017-01-02,2017-02-01,60\n"
    ))
    stage_row = [row for row in _issues(import_export(path, stages=default_stages(), language="zh-CN")) if row[2] == "deal_stage"]
    assert stage_row == [("sales_pipeline.csv", None, "deal_stage", "B", "maven 导入格式没有把任何导出阶段对应到阶段 B",
                          "导入的商机都不会处于阶段 B：该阶段显示设定概率，并标注无数据")]
    # A scheme without B: the layout maps every open stage, nothing to say.
    no_b = default_stages()
    no_b = no_b[no_b["code"] != "B"]
    assert not [row for row in _issues(import_export(path, stages=no_b)) if row[2] == "deal_stage"]
