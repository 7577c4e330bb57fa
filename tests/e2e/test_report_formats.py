"""`funnel report` in its four formats: readable tables that fit, CSV and .xlsx a colleague
opens, JSON for machines; every one holds the same figures."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook
from rich.console import Console
from typer.testing import CliRunner

from funnel_cli.main import app
from funnel_cli.show import fitted_columns, formatted, show_table
from workbook.export import TABLE_NAMES, table_csv
from workbook.layout import OUTPUTS

runner = CliRunner()
STAGE_STATS = OUTPUTS["tblStageStats"]


def _invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _said(result) -> str:
    return " ".join(result.output.split())


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "demo.xlsm"
    assert _invoke("demo", "--out", str(path), "--size", "200").exit_code == 0
    return path


@pytest.fixture(scope="module")
def figures(book) -> dict:
    return json.loads(_invoke("report", str(book), "--format", "json").output)


@pytest.mark.parametrize(("value", "fmt", "shown"), [
    (1234567.891, "money", "1,234,568"),
    (0.28, "percent", "28.0%"),
    (0.5, "prob", "50%"),
    (0.24138, "number", "0.2414"),
    (27.5, "number", "27.5"),
    (3.0, "number", "3"),
    (1234.6, "number", "1,235"),
    (12, "int", "12"),
    (float("nan"), "money", ""),
    (None, "text", ""),
    (pd.NaT, "date", ""),
    (pd.Timestamp("2026-11-20"), "date", "2026-11-20"),
    ("OPP-1", "text", "OPP-1"),
])
def test_a_value_reads_as_its_columns_format(value, fmt, shown):
    assert formatted(value, fmt) == shown


def test_the_leading_columns_that_fit_side_by_side():
    # 10 + 3 (rich's gap) + 10 = 23 fits 23; a third column would need 36.
    assert fitted_columns([10, 10, 10], 23) == 2
    assert fitted_columns([10, 10, 10], 36) == 3
    assert fitted_columns([50, 5], 20) == 1  # a table always shows its first column


def test_a_narrow_terminal_shows_the_columns_that_fit_and_says_how_many_more():
    frame = pd.DataFrame({h: ["x" * 8] * 3 for h in STAGE_STATS.headers("en")})
    console = Console(file=io.StringIO(), width=60, color_system=None)
    show_table(console, "stage_stats", frame, "en", rows=2)
    text = console.file.getvalue()
    assert "first 2 of 3 rows" in text
    lines = [line for line in text.splitlines() if line.strip()]
    assert max(len(line) for line in lines) <= 60
    shown = sum(1 for h in STAGE_STATS.headers("en") if h in text)
    assert f"{len(STAGE_STATS.columns) - shown} more column(s) do not fit" in " ".join(text.split())


def test_table_format_prints_percentages_and_money_not_raw_floats(book, figures):
    result = _invoke("report", str(book), "--table", "stage_stats", "--table", "win_rates")
    assert result.exit_code == 0, result.output
    assert f"{figures['stage_stats'][0]['open_amount']:,.0f}" in result.output
    assert f"{figures['win_rates'][0]['win_rate']:.1%}" in result.output
    assert "0.0000" not in result.output and "nan" not in result.output.lower()


def test_an_unknown_table_is_refused_with_the_names_there_are(book):
    result = _invoke("report", str(book), "--table", "stage_stat")
    assert result.exit_code == 2
    said = _said(result)
    assert "no table stage_stat" in said and "stage_stats" in said and "deal_scores" in said


@pytest.mark.parametrize("args", [
    ("--format", "html"),
    ("--format", "xlsx"),                              # a file to write is needed
    ("--format", "xlsx", "--out", "report.csv"),
    ("--format", "csv"),                               # one table, or a folder
])
def test_a_format_without_what_it_needs_exits_2(book, args):
    result = _invoke("report", str(book), *args)
    assert result.exit_code == 2
    assert "--format" in _said(result)


def test_an_empty_book_says_there_is_no_win_rate_yet(tmp_path):
    path = tmp_path / "empty.xlsm"
    assert _invoke("new", str(path)).exit_code == 0
    result = _invoke("report", str(path), "--table", "summary")
    assert result.exit_code == 0, result.output
    assert "win rate n/a (no closed deal)" in _said(result)
    assert "nan" not in result.output.lower()


def test_a_chinese_book_reports_in_chinese(tmp_path):
    path = tmp_path / "zh.xlsm"
    assert _invoke("demo", "--out", str(path), "--size", "150", "--lang", "zh-CN").exit_code == 0
    result = _invoke("report", str(path), "--table", "stage_stats")
    assert result.exit_code == 0, result.output
    assert "阶段统计" in result.output and "截至" in result.output and "赢率" in result.output


def test_csv_of_one_table_holds_the_workbooks_headers_and_the_reports_figures(book, figures):
    result = _invoke("report", str(book), "--format", "csv", "--table", "stage_stats")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0] == STAGE_STATS.headers("en")
    got = {row[0]: row for row in rows[1:]}
    for want in figures["stage_stats"]:
        row = got[want["code"]]
        assert int(row[rows[0].index("Open deals")]) == want["open_deals"]
        assert float(row[rows[0].index("Weighted")]) == pytest.approx(want["weighted"])


def test_csv_keeps_formula_text_as_text_and_whole_amounts_without_decimals():
    frame = pd.DataFrame({"Deal name": ["=HYPERLINK(1)", "Plain"], "Amount": [1000.0, None], "Share": [0.25, 0.5]})
    assert table_csv(frame).splitlines() == ["Deal name,Amount,Share", "'=HYPERLINK(1),1000,0.25", "Plain,,0.5"]


def test_csv_folder_and_xlsx_hold_every_table_with_the_same_figures(book, figures, tmp_path):
    folder, xlsx = tmp_path / "csv", tmp_path / "report.xlsx"
    assert _invoke("report", str(book), "--format", "csv", "--out", str(folder)).exit_code == 0
    assert sorted(p.stem for p in folder.glob("*.csv")) == sorted(TABLE_NAMES)
    periods = pd.read_csv(folder / "forecast_periods.csv", encoding="utf-8-sig")
    assert periods["Weighted"].sum() == pytest.approx(sum(r["weighted"] for r in figures["forecast_periods"]))

    result = _invoke("report", str(book), "--format", "xlsx", "--out", str(xlsx))
    assert result.exit_code == 0, result.output
    calamine = CalamineWorkbook.from_path(str(xlsx))
    assert len(calamine.sheet_names) == len(TABLE_NAMES)
    title = OUTPUTS["tblForecastPeriods"].title("en")
    rows = calamine.get_sheet_by_name(title).to_python()
    assert rows[0][0] == title and rows[2][0] == "Period"
    weighted = rows[2].index("Weighted")
    assert sum(r[weighted] for r in rows[3:] if r[weighted] != "") == pytest.approx(
        sum(r["weighted"] for r in figures["forecast_periods"]))
    sheet = openpyxl.load_workbook(xlsx)[title]
    assert sheet.freeze_panes == "A4" and sheet.auto_filter.ref.startswith("A3")


def test_xlsx_of_chosen_tables_has_only_those_sheets(book, tmp_path):
    xlsx = tmp_path / "two.xlsx"
    assert _invoke("report", str(book), "--format", "xlsx", "--out", str(xlsx),
                   "--table", "summary", "--table", "issues").exit_code == 0
    assert CalamineWorkbook.from_path(str(xlsx)).sheet_names == [OUTPUTS["tblSummary"].title("en"),
                                                                  "Issues"]  # its caption is too long for a tab
