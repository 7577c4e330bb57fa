"""What keeps the figures from reading as a forecast, on small books worked by hand, and the
settings a workbook built around a CRM export takes."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from funnel.analysis import run
from funnel.crm.book_settings import new_book_settings
from funnel.crm.importers import ImportResult
from funnel.forecast.readiness import OLD_DATA_DAYS, latest_data_date, readiness_issues
from funnel.inputs.issues import IssueLog
from funnel.inputs.settings import Settings

T = pd.Timestamp


def _deals(rows):
    # (is_open, created, close_date)
    frame = pd.DataFrame(rows, columns=["is_open", "created", "close_date"])
    frame["created"] = pd.to_datetime(frame["created"])
    frame["close_date"] = pd.to_datetime(frame["close_date"])
    frame["last_activity"] = pd.NaT
    return frame


HISTORY = pd.DataFrame({"entered": pd.to_datetime(["2017-03-01", "2017-06-30"])})
QUOTAS = pd.DataFrame({"owner": ["Ann"], "team": ["East"], "period": ["2017-Q2"], "quota": [100.0]})
NO_QUOTAS = QUOTAS.iloc[0:0]


def test_the_newest_recorded_date_ignores_an_open_deals_planned_close():
    deals = _deals([(True, "2017-01-05", "2027-01-01"), (False, "2017-02-01", "2017-07-15")])
    issues = readiness_issues(deals, HISTORY, QUOTAS, Settings(as_of=dt.date(2017, 9, 1)))
    assert issues.empty  # newest record 2017-07-15 (the closed deal), 48 days before as-of
    old = readiness_issues(deals, HISTORY, QUOTAS, Settings(as_of=dt.date(2017, 10, 16)))
    # 2017-07-15 -> 2017-10-16 is 93 days: one more than a quarter's 92.
    assert old[["table", "column", "value"]].values.tolist() == [["settings", "as_of", "2017-10-16"]]
    assert old["problem"][0] == ("the newest date in the data is 2017-07-15, 93 days before as-of: every open "
                                 "deal looks stale and the current period has no deals")
    assert old["action"][0] == "to see the data as of its own time, set as_of = 2017-07-15 in Settings"


def test_open_deals_without_a_close_date_are_counted_and_no_quotas_said_in_chinese():
    deals = _deals([(True, "2017-01-05", None), (True, "2017-02-05", None), (True, "2017-03-05", "2017-08-01"),
                    (False, "2017-01-01", None)])
    issues = readiness_issues(deals, HISTORY, NO_QUOTAS, Settings(as_of=dt.date(2017, 7, 1), language="zh-CN"))
    assert issues["table"].tolist() == ["opportunities", "quotas"]
    assert issues["value"][0] == "2 / 3"  # the closed deal without a date is not a forecast's concern
    assert issues["problem"][0].startswith("3 个在途商机中有 2 个没有预计成交日期")
    assert issues["problem"][1].startswith("没有指标")
    assert issues["row"].isna().all()


def test_no_open_deal_needs_no_quota():
    deals = _deals([(False, "2017-01-05", "2017-05-01")])
    assert readiness_issues(deals, HISTORY, NO_QUOTAS, Settings(as_of=dt.date(2017, 7, 1))).empty


@given(st.lists(st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)), min_size=1, max_size=8),
       st.integers(0, 400))
def test_old_data_is_said_exactly_when_as_of_is_more_than_a_quarter_after_the_newest_date(days, gap):
    deals = _deals([(False, d, d) for d in days])
    as_of = max(days) + dt.timedelta(days=gap)
    issues = readiness_issues(deals, HISTORY.iloc[0:0], QUOTAS, Settings(as_of=as_of))
    assert ("as_of" in issues["column"].tolist()) == (gap > OLD_DATA_DAYS)


def test_latest_data_date_of_no_dates_is_none():
    assert latest_data_date([pd.Series([pd.NaT]), pd.Series([], dtype="datetime64[ns]")]) is None
    assert latest_data_date([pd.Series([T("2017-01-02"), pd.NaT]), pd.Series([T("2016-05-01")])]) == T("2017-01-02")


def test_a_books_issues_start_with_what_keeps_it_from_a_forecast():
    tables = {
        "opportunities": pd.DataFrame({"id": ["A", "B"], "stage": ["P", "W"], "amount": ["100", "200"],
                                       "close_date": [None, "2026-01-10"], "owner": ["Ann", "Ann"]}),
        "settings": pd.DataFrame({"key": ["as_of"], "value": ["2026-02-01"]}),
    }
    issues = run(tables)["issues"]
    assert issues.loc[0, "problem"].startswith("1 of 1 open deals have no close date")
    assert issues.loc[1, "table"] == "quotas"
    summary = run(tables)["summary"].set_index("metric")["value"]
    assert summary["issues"] == len(issues)


def _import(opps: dict, history: dict | None = None, currency: str | None = None) -> ImportResult:
    tables = {"opportunities": pd.DataFrame(opps)}
    if history is not None:
        tables["stage_history"] = pd.DataFrame(history)
    return ImportResult(tables=tables, log=IssueLog(), summary=pd.DataFrame(), layout="test", currency=currency)


def test_a_book_around_an_old_export_is_as_of_the_exports_newest_date():
    result = _import({"id": ["1", "2"], "created": [T("2016-10-20"), T("2017-03-01")],
                      "close_date": [T("2017-12-31"), T("2030-01-01")]},
                     {"entered": [T("2017-06-01")]})
    settings, notes = new_book_settings(result, "en", today=dt.date(2026, 12, 4))
    assert settings.as_of == dt.date(2017, 12, 31)  # the close date before today; 2030 is a plan
    assert settings.currency == "CNY"
    assert notes[0].startswith("as_of set to 2017-12-31, the newest date in the export (3,260 days ago)")
    assert notes[1].startswith("currency left at CNY (the export names none)")


def test_a_recent_export_keeps_today_and_takes_its_currency_unless_one_is_given():
    result = _import({"id": ["1"], "created": [T("2026-11-01")], "close_date": [T("2026-12-20")]}, currency="USD")
    settings, notes = new_book_settings(result, "zh-CN", today=dt.date(2026, 12, 4))
    assert settings.as_of == Settings().as_of and settings.currency == "USD" and settings.language == "zh-CN"
    assert notes == ["货币设为导出数据货币列中的 USD"]
    given_settings, given_notes = new_book_settings(result, "en", currency="eur", today=dt.date(2026, 12, 4))
    assert given_settings.currency == "EUR" and given_notes == []
