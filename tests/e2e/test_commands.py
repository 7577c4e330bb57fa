"""The README's commands and every subcommand, run as a user would (typer's runner)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from funnel.analysis import run
from funnel.demo.competition import demo_competition_tables
from funnel.demo.data import demo_tables
from funnel.inputs.csvsource import write_csv_folder
from funnel_cli.main import app
from workbook.filebook import FileBook
from workbook.importing import sheet_frame
from workbook.layout import OUTPUTS
from workbook.mapping import read_inputs
from workbook.package import write_tables

MAVEN = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "maven_crm" / "sales_pipeline.csv"
runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _words(text: str) -> str:
    return " ".join(re.sub(r"[':.]", " ", text).lower().split())


def _said(result) -> str:
    # The console wraps long lines at the terminal's width: compare words, not line breaks.
    return " ".join(result.output.split())


def test_demo_builds_and_refreshes_the_workbook(tmp_path):
    out = tmp_path / "demo.xlsm"
    result = _invoke("demo", "--out", str(out), "--size", "200")
    assert result.exit_code == 0, result.output
    assert f"Refreshed {len(OUTPUTS)} output tables from 200 deals" in _said(result)
    expected_choice = "Forecast by {} (forecast_method auto): backtest Brier model"
    assert expected_choice.format("model") in _said(result) or expected_choice.format("stage") in _said(result)
    # What the workbook now says is exactly what the engine computes from the demo tables.
    tables = demo_tables(size=200, seed=7)
    tables.update(demo_competition_tables(tables))
    expected = run(tables)
    reported = json.loads(_invoke("report", str(out), "--format", "json").output)
    summary = {row["metric"]: row["value"] for row in reported["summary"]}
    want = dict(zip(expected["summary"]["metric"], expected["summary"]["value"]))
    assert summary["open_deals"] == want["open_deals"] == int(expected.deals["is_open"].sum())
    assert summary["weighted_pipeline"] == pytest.approx(want["weighted_pipeline"])
    assert len(reported["forecast_periods"]) == len(expected["forecast_periods"])


def test_demo_refuses_to_replace_a_workbook_excel_has_open(tmp_path):
    from tests.support import hostile

    out = tmp_path / "demo.xlsm"
    out.write_bytes(b"the user's edits")
    hostile.excel_owner_file(out, "Li Wei")
    done = _command("demo", "--out", str(out), "--size", "60")
    assert done.returncode == 2, done.stdout + done.stderr
    assert ("demo.xlsm is open in Excel by Li Wei (owner file ~$demo.xlsm); close it there and try again, "
            "or pass --force if Excel is not running") in " ".join(done.stderr.split())
    assert out.read_bytes() == b"the user's edits"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.xlsm", "~$demo.xlsm"]
    assert _command("demo", "--out", str(out), "--size", "60", "--force").returncode == 0
    assert out.read_bytes()[:2] == b"PK"


def test_import_leaves_a_workbook_excel_has_open_unchanged_unless_forced(tmp_path):
    from tests.funnel.test_importers import SALESFORCE_REPORT
    from tests.support import hostile

    export = tmp_path / "report.csv"
    export.write_text(SALESFORCE_REPORT, encoding="utf-8")
    book = tmp_path / "pipeline.xlsm"
    assert _invoke("new", str(book)).exit_code == 0
    before = book.read_bytes()
    hostile.excel_owner_file(book, "Li Wei")
    done = _command("import", str(export), "--into", str(book))
    assert done.returncode == 2, done.stdout + done.stderr
    assert ("pipeline.xlsm is open in Excel by Li Wei (owner file ~$pipeline.xlsm); close it there and try again, "
            "or pass --force if Excel is not running") in " ".join(done.stderr.split())
    assert book.read_bytes() == before
    forced = _command("import", str(export), "--into", str(book), "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "Deals: 7 added" in " ".join(forced.stdout.split())  # the report's seven deals


def test_new_then_refresh_in_place_then_report_with_a_setting(tmp_path):
    book = tmp_path / "Q4 Forecast.xlsm"
    assert _invoke("new", str(book), "--demo", "--lang", "zh-CN").exit_code == 0
    refreshed = _invoke("refresh", str(book))
    assert refreshed.exit_code == 0, refreshed.output
    assert "已刷新" in _said(refreshed)
    assert "预测采用" in _said(refreshed) and "（forecast_method auto）" in _said(refreshed)  # the method chosen, and why
    monthly = json.loads(_invoke("report", str(book), "--format", "json", "--set", "period=month").output)
    assert monthly["settings"]["period"] == "month"
    assert all(len(p) == 7 for p in pd.DataFrame(monthly["forecast_periods"])["period"] if p != "no close date")


def test_bad_setting_and_missing_file_are_one_line_errors(tmp_path):
    book = tmp_path / "b.xlsm"
    _invoke("new", str(book))
    bad = _invoke("report", str(book), "--set", "period=week")
    assert bad.exit_code == 2 and "setting 'period'" in _said(bad) and "Traceback" not in bad.output
    missing = _invoke("refresh", str(tmp_path / "nope.xlsm"))
    assert missing.exit_code == 2 and "no such workbook" in _said(missing)
    exists = _invoke("new", str(book))
    assert exists.exit_code == 2 and "--force" in _said(exists)


def test_report_reads_a_folder_of_csvs(tmp_path):
    write_csv_folder(demo_tables(size=120), tmp_path / "csv")
    result = _invoke("report", str(tmp_path / "csv"), "--format", "json", "--table", "summary")
    payload = json.loads(result.output)
    assert set(payload) == {"summary", "settings"}
    expected = run(demo_tables(size=120))
    assert {r["metric"]: r["value"] for r in payload["summary"]}["won_deals"] == int(expected.deals["is_won"].sum())


@pytest.mark.skipif(not MAVEN.exists(), reason="the shared Maven CRM sample is not beside this checkout")
def test_import_the_maven_sample_twice_never_duplicates(tmp_path):
    book = tmp_path / "maven.xlsm"
    first = _invoke("import", str(MAVEN), "--into", str(book), "--layout", "maven")
    assert first.exit_code == 0, first.output
    assert "8,800 added" in _said(first) and "15,011 stage-history rows added" in _said(first)
    # sales_teams.csv's managers fill the People sheet: 35 agents, then their 6 managers at the top.
    people = read_inputs(FileBook(book))[0]["people"]
    assert len(people) == 41 and people["person"].is_unique and people["manager"].isna().sum() == 6
    # The user moves one agent to another manager: a re-import keeps that and adds nobody twice.
    moved = people.copy()
    moved.loc[moved["person"] == "Anna Snelling", "manager"] = "Cara Losch"
    write_tables(book, book, {"tblPeople": sheet_frame("tblPeople", moved, "en")})
    again = _invoke("import", str(MAVEN), "--into", str(book))
    assert "0 added, 0 updated, 8,800 unchanged" in _said(again)
    raw, log = read_inputs(FileBook(book))
    assert len(raw["opportunities"]) == 8_800 and raw["opportunities"]["id"].is_unique
    assert len(raw["people"]) == 41
    assert raw["people"].set_index("person").loc["Anna Snelling", "manager"] == "Cara Losch"
    refreshed = _invoke("refresh", str(book), "--set", "as_of=2017-12-31")
    assert refreshed.exit_code == 0 and "8800 deals" in _said(refreshed)
    # The calls roll-up works on the import: each manager's subtree adds up their agents.
    rollup = read_inputs(FileBook(book))  # inputs unchanged by the refresh
    report = run(rollup[0], {"as_of": "2017-12-31"}, rollup[1])
    table = report.tables["forecast_calls_rollup"]
    tops = table[table["level"] == 0]
    assert set(tops["person"]) == set(people.loc[people["manager"].isna(), "person"])
    for period, rows in table.groupby("period"):
        assert rows.loc[rows["level"] == 0, "closed_won"].sum() == pytest.approx(rows.loc[rows["level"] == 1, "closed_won"].sum())


@pytest.mark.skipif(not MAVEN.exists(), reason="the shared Maven CRM sample is not beside this checkout")
def test_a_book_built_around_an_old_export_is_as_of_its_data_and_says_what_it_lacks(tmp_path):
    book = tmp_path / "maven.xlsm"
    done = _invoke("import", str(MAVEN), "--into", str(book), "--layout", "maven", "--currency", "usd")
    assert done.exit_code == 0, done.output
    assert "as_of set to 2017-12-31, the newest date in the export" in _said(done)
    report = json.loads(_invoke("report", str(book), "--format", "json", "--table", "issues").output)
    assert report["settings"]["as_of"] == "2017-12-31" and report["settings"]["currency"] == "USD"
    said = [(r["table"], r["problem"]) for r in report["issues"]]
    assert said == [
        ("opportunities", "2,089 of 2,089 open deals have no close date: they are in no period's forecast "
                          "(shown under 'no close date')"),
        ("quotas", "no quotas: attainment, coverage and the chance of reaching quota stay blank"),
    ]
    again = _invoke("import", str(MAVEN), "--into", str(book), "--currency", "EUR")
    assert "--currency EUR is for a new workbook" in _said(again)
    bad = _invoke("import", str(MAVEN), "--into", str(tmp_path / "x.xlsm"), "--currency", "US Dollar")
    assert bad.exit_code == 2 and "--currency takes a currency code" in _said(bad)


def _command(*args: str) -> subprocess.CompletedProcess:
    """The installed ``funnel`` console script (what a user types), run as a process."""
    script = Path(sys.executable).with_name("funnel")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "funnel_cli.main"]
    # Hang guard only: each of these answers at once; 120 s means something is stuck.
    return subprocess.run([*argv, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})


@pytest.mark.parametrize("args, said, usage", [
    ((), "Commands", True),                                   # no command: the help, as a usage error
    (("refresh",), "Missing argument 'path'", True),
    (("demo", "--bogus"), "No such option: --bogus", True),
    (("nosuch",), "No such command 'nosuch'", True),
    (("demo", "--scenario", "nope"), "Invalid value for '--scenario'", True),
    (("report", "x.xlsm", "--format"), "Option '--format' requires an argument", False),  # typer shows no usage line here
])
def test_command_line_mistakes_are_usage_errors(args, said, usage):
    done = _command(*args)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    shown = done.stdout + done.stderr
    # The words are click's, and its punctuation and case change between releases
    # ("No such option: --bogus", "No such option '--bogus'."): compare the words.
    assert _words(said) in _words(shown)
    assert ("Usage: funnel" in shown or "Usage: python -m funnel_cli.main" in shown) or not usage
    assert "Traceback" not in shown and "unexpected error" not in shown


def test_version_prints_the_installed_version():
    from importlib.metadata import version

    done = _command("--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"funnel {version('funnel-excel')}"


def test_report_json_writes_a_whole_number_column_with_blanks_as_integers():
    # An account's revenue rank is 8, not 8.0 (pandas 2's to_json writes Int64 with NA as floats).
    from funnel.inputs.settings import Settings
    from funnel_cli.main import report_json

    class Result:
        tables = {"accounts": pd.DataFrame({"revenue_rank": pd.array([8, None], dtype="Int64")})}
        settings = Settings()

    rows = json.loads(report_json(Result()))["accounts"]
    assert [(type(r["revenue_rank"]), r["revenue_rank"]) for r in rows] == [(int, 8), (type(None), None)]


def test_a_command_prints_no_warning(tmp_path):
    # A library's warning (pydantic before 2.10 on a field named model_*, a pandas
    # deprecation) lands on the user's terminal: the console script says nothing on stderr.
    write_csv_folder(demo_tables(size=60), tmp_path / "csv")
    done = _command("report", str(tmp_path / "csv"), "--format", "json")
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert json.loads(done.stdout)["summary"]


def test_demo_runs_the_engine_once(tmp_path, monkeypatch):
    import udfs.macros

    runs = []
    real = udfs.macros.run
    monkeypatch.setattr(udfs.macros, "run", lambda *a, **k: runs.append(1) or real(*a, **k))
    result = _invoke("demo", "--out", str(tmp_path / "d.xlsm"), "--size", "100")
    assert result.exit_code == 0, result.output
    assert len(runs) == 1
