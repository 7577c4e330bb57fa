"""`funnel snapshot` and `funnel history` run as a user would: on a demo workbook and on a folder
of CSVs whose deals we change between snapshots."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from funnel.demo.data import demo_tables
from funnel.inputs.csvsource import write_csv_folder
from funnel_cli import main
from funnel_cli.main import app
from workbook.store import SCHEMA_VERSION, Store

runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _said(result) -> str:
    return " ".join(result.output.split())


def _history(book: Path, *more: str) -> list[dict]:
    result = _invoke("history", str(book), "--format", "json", *more)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture(scope="module")
def demo_book(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "Q4 Forecast.xlsm"
    assert _invoke("demo", "--out", str(out), "--size", "60").exit_code == 0
    return out


def test_a_snapshot_of_a_workbook_records_its_figures_and_leaves_it_as_it_was(demo_book, tmp_path):
    book = tmp_path / demo_book.name
    book.write_bytes(demo_book.read_bytes())
    before = hashlib.sha256(book.read_bytes()).hexdigest()
    result = _invoke("snapshot", str(book))
    assert result.exit_code == 0, result.output
    assert "Snapshot 1 of Q4 Forecast as of 2026-11-20: 60 deals, 60 changed" in _said(result)
    assert hashlib.sha256(book.read_bytes()).hexdigest() == before  # the workbook is not rewritten
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Q4 Forecast.funnel.db", "Q4 Forecast.xlsm"]
    summary = json.loads(_invoke("report", str(book), "--format", "json", "--table", "summary").output)["summary"]
    figures = {row["metric"]: row["value"] for row in summary}
    (row,) = _history(book)
    assert (row["as_of"], row["deals"], row["changed"]) == ("2026-11-20", 60, 60)
    assert row["open_deals"] == figures["open_deals"]
    assert row["open_amount"] == pytest.approx(figures["open_amount"])
    assert row["weighted"] == pytest.approx(figures["weighted_pipeline"])
    # The same workbook again: a snapshot row, no new deal version.
    again = _invoke("snapshot", str(book))
    assert "0 changed since the last snapshot (0 new deal versions)" in _said(again)
    assert [r["changed"] for r in _history(book)] == [60, 0]


def test_history_lists_in_the_terminal(demo_book, tmp_path, monkeypatch):
    monkeypatch.setattr(main.console, "width", 200)
    book = tmp_path / demo_book.name
    book.write_bytes(demo_book.read_bytes())
    _invoke("snapshot", str(book))
    result = runner.invoke(app, ["history", str(book)])
    assert result.exit_code == 0, result.output
    assert "Snapshots of Q4 Forecast" in result.output and "Changed deals" in result.output
    assert "2026-11-20" in result.output


def test_changes_to_the_deals_are_what_the_next_snapshot_records(tmp_path):
    tables = demo_tables(size=40, seed=3)
    folder = tmp_path / "east"
    write_csv_folder(tables, folder)
    assert _invoke("snapshot", str(folder), "--as-of", "2026-11-20").exit_code == 0
    opportunities = pd.read_csv(folder / "opportunities.csv")
    ids = list(opportunities["id"])
    opportunities.loc[0, "amount"] = opportunities.loc[0, "amount"] + 1000  # raised
    opportunities.loc[1, "close_date"] = "2027-06-30"  # pushed
    opportunities = opportunities.drop(index=2)  # deleted
    opportunities.to_csv(folder / "opportunities.csv", index=False)
    result = _invoke("snapshot", str(folder), "--as-of", "2026-11-27")
    assert result.exit_code == 0, result.output
    assert "39 deals, 3 changed since the last snapshot (2 new deal versions)" in _said(result)
    with Store(f"sqlite:///{tmp_path / 'east.funnel.db'}") as store:
        first, now = store.state("east", 1), store.state("east", 2)
        assert sorted(set(first["deal_id"]) - set(now["deal_id"])) == [str(ids[2])]
        raised = now.set_index("deal_id").loc[str(ids[0]), "amount"] - first.set_index("deal_id").loc[str(ids[0]), "amount"]
        assert raised == 1000
        assert now.set_index("deal_id").loc[str(ids[1]), "close_date"] == pd.Timestamp("2027-06-30")
        # A date between the two is the first snapshot's state, exactly.
        assert store.state("east", as_of=pd.Timestamp("2026-11-22").date()).equals(first)
    assert [r["as_of"] for r in _history(folder)] == ["2026-11-20", "2026-11-27"]


def test_a_chinese_workbook_is_answered_in_chinese(tmp_path, monkeypatch):
    monkeypatch.setattr(main.console, "width", 200)
    book = tmp_path / "zh.xlsm"
    assert _invoke("demo", "--out", str(book), "--size", "30", "--lang", "zh-CN").exit_code == 0
    result = _invoke("snapshot", str(book))
    assert result.exit_code == 0, result.output
    assert "已记录 zh 截至 2026-11-20 的快照 1：30 个商机" in _said(result)
    listed = runner.invoke(app, ["history", str(book)])
    assert "zh 的快照" in listed.output and "变化商机数" in listed.output


def test_history_of_a_book_without_snapshots_says_so_and_creates_nothing(tmp_path):
    result = _invoke("history", str(tmp_path / "new.xlsm"))
    assert result.exit_code == 0
    assert "No snapshots of new" in _said(result)
    assert list(tmp_path.iterdir()) == []


def _store_problem(tmp_path: Path, demo_book: Path, *store: str) -> str:
    book = tmp_path / demo_book.name
    book.write_bytes(demo_book.read_bytes())
    before = book.read_bytes()
    result = _invoke("snapshot", str(book), *store)
    assert result.exit_code == 2, result.output
    assert book.read_bytes() == before
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("funnel: "), result.output
    return lines[0]


def test_a_store_from_a_newer_funnel_is_one_line(demo_book, tmp_path):
    db = tmp_path / "Q4 Forecast.funnel.db"
    Store(f"sqlite:///{db}").close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    conn.close()
    line = _store_problem(tmp_path, demo_book)
    assert f"written by a newer funnel (schema version {SCHEMA_VERSION + 1}" in line


def test_a_locked_store_is_one_line(demo_book, tmp_path, monkeypatch):
    monkeypatch.setattr("workbook.store.BUSY_SECONDS", 0.1)
    db = tmp_path / "Q4 Forecast.funnel.db"
    Store(f"sqlite:///{db}").close()
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        line = _store_problem(tmp_path, demo_book)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert "is locked by another program" in line


def test_an_unwritable_store_is_one_line(demo_book, tmp_path):
    line = _store_problem(tmp_path, demo_book, "--store", f"sqlite:///{tmp_path / 'gone' / 'x.db'}")
    assert "cannot be written" in line


def test_an_unreachable_server_is_one_line(demo_book, tmp_path):
    pytest.importorskip("psycopg", reason="the PostgreSQL driver (psycopg) is not installed")
    line = _store_problem(tmp_path, demo_book, "--store", "postgresql+psycopg://someone:pw@127.0.0.1:1/funnel")
    assert "cannot be reached" in line and "pw" not in line.split("reached")[0]


def test_bad_command_lines_exit_2(tmp_path):
    assert _invoke("snapshot", str(tmp_path / "none.xlsm")).exit_code == 2
    bad_date = _invoke("snapshot", str(tmp_path), "--as-of", "2026-13-01")
    assert bad_date.exit_code == 2 and "--as-of takes a date YYYY-MM-DD" in bad_date.output
    assert _invoke("history", str(tmp_path), "--format", "xml").exit_code == 2
    assert runner.invoke(app, ["snapshot"]).exit_code == 2
