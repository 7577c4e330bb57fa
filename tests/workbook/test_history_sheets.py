"""The store's history in the workbook: Changes and Accuracy sheets, Deal scores' pushes, after a refresh.

Snapshots are recorded here with ``Store.record`` (a refresh's own recording is another
step); the refresh then reads the store read-only and fills the history tables.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from funnel import catalog
from funnel.analysis import run
from funnel.demo.competition import demo_competition_tables
from funnel.demo.data import demo_tables
from funnel.snapshots import FLOW_CHANGES, flow_balance, forecast_figures, tracked_fields
from tests.support.libreoffice import libreoffice_missing, probe
from tests.workbook.test_chinese_workbook import ABBREVIATIONS, _english_left, _proper_names, _setting_codes
from udfs.macros import refresh_report
from workbook.build import new_workbook
from workbook.filebook import FileBook
from workbook.layout import OUTPUTS
from workbook.mapping import read_inputs
from workbook.store import Store, book_name, default_url

# Weeks before the book's as-of day a snapshot is recorded at; each earlier one has every
# third deal's close date that many weeks x 3 days earlier (so it was pushed since).
WEEKS_BACK = (20, 14, 8, 4, 1)


def _record_history(path: Path) -> None:
    raw, _ = read_inputs(FileBook(path))
    as_of = pd.Timestamp(dict(zip(raw["settings"]["key"], raw["settings"]["value"]))["as_of"]).date()
    with Store(default_url(path)) as store:
        for weeks in WEEKS_BACK:
            day = as_of - dt.timedelta(weeks=weeks)
            opportunities = raw["opportunities"].copy()
            moved = opportunities.index % 3 == 0
            opportunities.loc[moved, "close_date"] = (pd.to_datetime(opportunities.loc[moved, "close_date"])
                                                      - pd.Timedelta(days=3 * weeks))
            analysis = run({**raw, "opportunities": opportunities}, {"as_of": day.isoformat()}).analysis
            store.record(book_name(path), day, tracked_fields(analysis.deals),
                         forecast_figures(analysis.forecast, analysis.forecast_periods, analysis.range_forecast))


def _book(folder: Path, language: str) -> tuple[Path, dict]:
    tables = demo_tables(size=240, seed=7, language=language)
    tables.update(demo_competition_tables(tables, language))
    path = folder / f"history_{language}.xlsx"
    new_workbook(path, language, tables)
    return path, tables


@pytest.fixture(scope="module")
def english(tmp_path_factory):
    path, tables = _book(tmp_path_factory.mktemp("history_en"), "en")
    _record_history(path)
    report, message = refresh_report(FileBook(path))
    return path, report


def _table(path: Path, name: str) -> pd.DataFrame:
    return FileBook(path).read_table(name)


def test_the_changes_sheet_holds_the_flow_of_the_default_window(english):
    path, report = english
    flow = report.tables["pipeline_flow"]
    assert len(flow) and set(flow["period"]) >= {"2026-Q4"}
    # The report's flow balances, per period, owner and team (the words are the catalog's).
    codes = {catalog.text(f"flow.change.{c}", "en"): c for c in FLOW_CHANGES}
    total = catalog.text("flow.total", "en")
    raw = flow.assign(change=flow["change"].map(codes), owner=flow["owner"].replace(total, ""))
    balance = flow_balance(raw)
    assert (balance["amount"] - balance["end_amount"]).abs().max() < 1e-6
    assert (balance["deals"] == balance["end_deals"]).all()
    # Snapshot 3 (8 weeks back: the last before 2026-Q4 began on 1 October) -> snapshot 6, the
    # one the refresh itself recorded before reading the history.
    note = report.tables["history_note"].iloc[0]
    assert note["snapshots"] == len(WEEKS_BACK) + 1 and "snapshot 3 (as of 2026-09-25) to snapshot 6" in note["note"]
    # The file holds it, headers in the book's words.
    written = _table(path, "tblFlow")
    assert len(written) == len(flow)
    assert list(written.columns) == OUTPUTS["tblFlow"].headers("en")


def test_the_waterfall_stands_each_change_on_the_level_before(english):
    _, report = english
    falls = report.tables["flow_chart"]
    assert len(falls) == len(FLOW_CHANGES)
    start, end = falls.iloc[0], falls.iloc[-1]
    level = start["total"]
    for row in falls.iloc[1:-1].itertuples():
        if row.increase:
            assert row.base == pytest.approx(level)
            level += row.increase
        elif row.decrease:
            level -= row.decrease
            assert row.base == pytest.approx(level)
    assert level == pytest.approx(end["total"])


def test_the_forecast_over_time_has_a_row_per_snapshot(english):
    _, report = english
    trend = report.tables["forecast_trend"]
    assert list(trend["snapshot"]) == [1, 2, 3, 4, 5, 6]  # 6: the refresh's own
    assert (trend["weighted"] >= trend["closed_won"]).all()


def test_accuracy_scores_the_closed_quarter(english):
    _, report = english
    scored = report.tables["forecast_accuracy"]
    assert set(scored["period"]) == {"2026-Q3"}  # the one quarter over with a snapshot before its end
    total = scored[(scored["level"] == "total")]
    assert ((total["accuracy"] >= 0) & (total["accuracy"] <= 1)).all()
    # The actual is what today's analysis says was won in Q3.
    won = report.tables["forecast_periods"].set_index("period").loc["2026-Q3", "closed_won"]
    assert (total["actual"] == won).all()
    assert len(report.tables["accuracy_chart"]) == 1 and len(report.tables["accuracy_summary"])


def test_deal_scores_show_pushes_and_the_pushed_flag_reads_them(english):
    path, report = english
    scores = report.tables["deal_scores"]
    pushed = scores["close_pushes"].fillna(0) > 0
    assert pushed.any()
    assert (scores.loc[pushed, "pushed"]).all()  # a pushed close date flags the deal
    assert (scores["pushed"] == (pushed | (scores["step_backs"] > 0))).all()
    rates = report.tables["push_rates"]
    assert rates["pushed_deals"].sum() >= pushed.sum()
    written = _table(path, "tblPushRates")
    assert len(written) == len(rates)


def test_with_snapshots_off_the_tables_are_empty_with_a_note(tmp_path):
    path, _ = _book(tmp_path, "en")
    report, message = refresh_report(FileBook(path), {"store": "off"})
    assert not (tmp_path / "history_en.funnel.db").exists()  # nothing recorded, nothing created
    assert message.endswith(catalog.text("message.refresh_snapshot_off", "en"))
    for name in ("pipeline_flow", "forecast_trend", "forecast_accuracy", "push_rates"):
        assert report.tables[name].empty, name
    note = _table(path, "tblChangesNote")
    assert note.iloc[0, 1] == catalog.text("note.history.no_snapshots", "en")
    assert _table(path, "tblAccuracyNote").iloc[0, 1] == note.iloc[0, 1]


def test_a_first_refresh_records_the_one_snapshot_the_tables_start_from(tmp_path):
    path, _ = _book(tmp_path, "en")
    report, _ = refresh_report(FileBook(path))
    assert (tmp_path / "history_en.funnel.db").exists()
    note = report.tables["history_note"].iloc[0]
    assert note["snapshots"] == 1 and note["note"].startswith("One snapshot so far")
    assert report.tables["forecast_accuracy"].empty  # nothing to score before a second snapshot


def test_an_unreadable_store_says_so_and_the_refresh_completes(tmp_path):
    path, _ = _book(tmp_path, "en")
    (tmp_path / "history_en.funnel.db").write_bytes(b"this is not a database at all" * 100)
    report, message = refresh_report(FileBook(path))
    note = report.tables["history_note"].iloc[0]["note"]
    assert note.startswith("The snapshot store could not be read")
    assert report.tables["pipeline_flow"].empty and len(report.tables["deal_scores"])


def test_a_chinese_book_with_history_shows_no_english_word(tmp_path):
    path, tables = _book(tmp_path, "zh-CN")
    _record_history(path)
    refresh_report(FileBook(path))
    left = _english_left(path, _proper_names(tables) | _setting_codes() | ABBREVIATIONS)
    assert not left, left
    assert len(_table(path, "tblFlow")) > 1


@pytest.mark.skipif(libreoffice_missing() is not None or shutil.which("pdftotext") is None,
                    reason=libreoffice_missing() or "poppler-utils is not installed")
def test_libreoffice_opens_the_sheets_and_draws_their_charts(english, tmp_path):
    path, report = english
    changes, accuracy = OUTPUTS["tblFlow"].sheet("en"), OUTPUTS["tblAccuracy"].sheet("en")
    seen = probe(path, tables=["tblFlowChart", "tblForecastTrend", "tblAccuracy"], charts=True, pdf=tmp_path / "book.pdf",
                 sheet_images=[{"sheet": changes, "png": tmp_path / "changes.png", "text": True},
                               {"sheet": accuracy, "png": tmp_path / "accuracy.png"}])
    assert seen["loaded"] is True
    charts = {sheet: items for sheet, items in seen["charts"].items() if sheet in (changes, accuracy)}
    assert len(charts[changes]) == 2 and len(charts[accuracy]) == 1
    def rows(chart):
        # Rows of each values sequence: (first, last), 0-based.
        return [(q["address"][2], q["address"][4]) for s in chart["series"] for q in s["sequences"] if q["role"] == "values-y"]

    # The waterfall's four series (base, increase, decrease, start / end) read the twelve
    # rows under the flow chart table's header; the trend's lines follow the refreshed rows.
    headers = {c.key: c.header("en") for c in OUTPUTS["tblFlowChart"].columns}
    waterfall = next(c for c in charts[changes] if [s["label"] for s in c["series"]][0] == headers["base"])
    assert [s["label"] for s in waterfall["series"]] == [headers[k] for k in ("base", "increase", "decrease", "total")]
    first = OUTPUTS["tblFlowChart"].anchor[0] + 1
    assert set(rows(waterfall)) == {(first, first + len(FLOW_CHANGES) - 1)}
    trend = next(c for c in charts[changes] if c is not waterfall)
    assert set(rows(trend)) == {(first, first + len(report.tables["forecast_trend"]) - 1)}
    falls = seen["tables"]["tblFlowChart"]
    assert len(falls["rows"]) == len(FLOW_CHANGES) and falls["rows"][0][0] == "start"
    assert (tmp_path / "changes.png").stat().st_size > 5_000
    assert catalog.text("chart.waterfall", "en") in seen["sheet_images"][0]["text"]


def _cells(path: Path, name: str) -> list[list]:
    # A table as Excel passes it to a UDF: the header row, then the data rows.
    frame = _table(path, name)
    return [list(frame.columns)] + [[None if isinstance(v, float) and v != v else v for v in row]
                                    for row in frame.itertuples(index=False)]


def test_the_flow_and_accuracy_functions_read_the_refreshed_sheets(english):
    from funnel.snapshots.history import flow_total, period_accuracy
    from udfs.functions import FUNNEL_FLOW_TOTAL, FUNNEL_FORECAST_ACCURACY

    path, report = english
    flow = _cells(path, "tblFlow")
    codes = {catalog.text(f"flow.change.{c}", "en"): c for c in FLOW_CHANGES}
    raw = report.tables["pipeline_flow"].assign(change=lambda f: f["change"].map(codes),
                                                owner=lambda f: f["owner"].replace(catalog.text("flow.total", "en"), ""))
    for change in ("start", "pushed_out", "end"):
        assert FUNNEL_FLOW_TOTAL(flow, change, "2026-Q4") == pytest.approx(flow_total(raw, change, "2026-Q4"))
    assert FUNNEL_FLOW_TOTAL(flow, "pushed out", "2026-Q4") == FUNNEL_FLOW_TOTAL(flow, "pushed_out", "2026-Q4")
    assert FUNNEL_FLOW_TOTAL(flow, "推迟移出", "2026-Q4") == FUNNEL_FLOW_TOTAL(flow, "pushed_out", "2026-Q4")
    assert FUNNEL_FLOW_TOTAL(flow, "end", "2026-Q4", count=True) == flow_total(raw, "end", "2026-Q4", deals=True)
    assert "is not one of" in FUNNEL_FLOW_TOTAL(flow, "slipped")
    scored = report.analysis.history_frames  # the words; the codes come from the pure table below
    from funnel.snapshots.accuracy import forecast_accuracy

    h = report.analysis.history
    actuals = pd.concat([report.analysis.forecast[["period", "team", "owner", "closed_won"]],
                         report.analysis.forecast_periods[["period", "closed_won"]].assign(team="", owner="")])
    codes_table = forecast_accuracy(h.snapshots, h.figures, report.settings, report.settings.as_of,
                                    actuals.astype({"period": str, "team": str, "owner": str}))
    cells = _cells(path, "tblAccuracy")
    for measure, days in (("weighted", 60), ("commit", 30), ("P50", 60)):
        point = f"{days}d"
        want = period_accuracy(codes_table, "2026-Q3", measure.lower(), point)
        got = FUNNEL_FORECAST_ACCURACY(cells, "2026-Q3", measure, days)
        assert (got is None and np.isnan(want)) or got == pytest.approx(want), (measure, days)
    assert scored["forecast_accuracy"].shape[0] == codes_table.shape[0]
    owners = codes_table[(codes_table["level"] == "owner") & codes_table["accuracy"].notna()]
    one = owners.iloc[0]
    assert FUNNEL_FORECAST_ACCURACY(cells, one["period"], "weighted", one["lead_days"], owner=one["owner"]) == pytest.approx(
        period_accuracy(codes_table, one["period"], "weighted", one["point"], owner=one["owner"]))
    assert "blank" in FUNNEL_FORECAST_ACCURACY([["Period"]], "2026-Q3") or "column" in FUNNEL_FORECAST_ACCURACY([["Period"]], "2026-Q3")


def test_funnel_report_reads_the_store_as_the_refresh_does(english):
    import json

    from tests.e2e.test_report_formats import _invoke

    path, report = english
    result = _invoke("report", str(path), "--format", "json", "--table", "history_note", "--table", "push_rates")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["history_note"][0]["note"] == report.tables["history_note"]["note"].iloc[0]
    assert len(shown["push_rates"]) == len(report.tables["push_rates"]) > 0


def test_a_bad_lead_time_setting_is_an_issue_and_the_default_is_used():
    from funnel.inputs.issues import IssueLog
    from funnel.inputs.settings import settings_from_table

    log = IssueLog()
    settings = settings_from_table(pd.DataFrame({"key": ["accuracy_lead_days"], "value": ["30; soon"]}, index=[7]), log)
    assert settings.lead_days() == (90, 60, 30)
    issue = log.table().iloc[0]
    assert (issue["table"], issue["row"], issue["column"]) == ("settings", 7, "value")
    assert "soon" in str(issue["problem"])
