"""`funnel backfill` and the demo's past snapshots, run as a user would."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from funnel.demo.data import demo_tables
from funnel.inputs.csvsource import write_csv_folder
from funnel_cli.main import app
from workbook.store import Store

runner = CliRunner()


def _invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _said(result) -> str:
    return " ".join(result.output.split())


def _history(book: Path) -> list[dict]:
    result = _invoke("history", str(book), "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_demo_leaves_a_store_of_its_past_weeks_beside_the_workbook(tmp_path):
    book = tmp_path / "demo.xlsm"
    result = _invoke("demo", "--out", str(book), "--size", "60")
    assert result.exit_code == 0, result.output
    assert "Backfilled demo: 26 past snapshots, as of 2026-05-22 to 2026-11-13" in _said(result)
    past = [r for r in _history(book) if r["origin"] == "reconstructed"]
    assert len(past) == 26 and past[0]["as_of"] == "2026-05-22" and past[-1]["as_of"] == "2026-11-13"
    assert all(r["changed"] > 0 for r in past[:1])
    # The demo again: a fresh store with the same past (the workbook is rebuilt too).
    assert _invoke("demo", "--out", str(book), "--size", "60").exit_code == 0
    again = [r for r in _history(book) if r["origin"] == "reconstructed"]
    assert [(r["as_of"], r["deals"], r["changed"], r["weighted"]) for r in again] == \
        [(r["as_of"], r["deals"], r["changed"], r["weighted"]) for r in past]


def test_backfill_reconstructs_past_weeks_once(tmp_path):
    folder = tmp_path / "east"
    write_csv_folder(demo_tables(size=40, seed=3), folder)
    result = _invoke("backfill", str(folder), "--weeks", "4")
    assert result.exit_code == 0, result.output
    assert "Backfilled east: 4 past snapshots, as of 2026-10-23 to 2026-11-13" in _said(result)
    assert [(r["as_of"], r["origin"]) for r in _history(folder)] == [
        ("2026-10-23", "reconstructed"), ("2026-10-30", "reconstructed"), ("2026-11-06", "reconstructed"),
        ("2026-11-13", "reconstructed")]
    with Store(f"sqlite:///{tmp_path / 'east.funnel.db'}") as store:
        versions = len(store.versions("east"))
    # Twice: nothing new.
    again = _invoke("backfill", str(folder), "--weeks", "4")
    assert again.exit_code == 0 and "4 past days of east were left out" in _said(again)
    assert len(_history(folder)) == 4
    with Store(f"sqlite:///{tmp_path / 'east.funnel.db'}") as store:
        assert len(store.versions("east")) == versions
    # The refresh's own snapshot follows, as of the book's as_of.
    assert _invoke("snapshot", str(folder)).exit_code == 0
    assert [r["origin"] for r in _history(folder)][-1] == "recorded"


def test_backfill_after_a_snapshot_of_today_puts_the_past_before_it(tmp_path):
    folder = tmp_path / "west"
    write_csv_folder(demo_tables(size=30, seed=4), folder)
    assert _invoke("snapshot", str(folder)).exit_code == 0
    store_url = f"sqlite:///{tmp_path / 'west.funnel.db'}"
    with Store(store_url) as store:
        today = store.state("west")
        first = store.history("west").iloc[0]
    result = _invoke("backfill", str(folder), "--weeks", "2")
    assert result.exit_code == 0, result.output
    assert "Backfilled west: 2 past snapshots, as of 2026-11-06 to 2026-11-13" in _said(result)
    assert [(r["as_of"], r["origin"]) for r in _history(folder)] == [
        ("2026-11-06", "reconstructed"), ("2026-11-13", "reconstructed"), ("2026-11-20", "recorded")]
    with Store(store_url) as store:
        after = store.history("west")
        assert store.state("west").equals(today)  # the refresh's snapshot, as it was
        assert after.iloc[-1]["taken_at"] == first["taken_at"] and after.iloc[-1]["deals"] == first["deals"]
        assert not any(name.endswith("(backfill in progress)") for name in _books(tmp_path / "west.funnel.db"))
    again = _invoke("backfill", str(folder), "--weeks", "2")
    assert "2 past days of west were left out: the store already has a snapshot as of each of them" in _said(again)
    assert len(_history(folder)) == 3


def _books(path: Path) -> list[str]:
    import sqlite3

    with sqlite3.connect(path) as conn:
        return [name for (name,) in conn.execute("SELECT name FROM books")]


def test_backfill_of_a_missing_book_says_so(tmp_path):
    result = _invoke("backfill", str(tmp_path / "nope.xlsm"))
    assert result.exit_code == 2 and "no such workbook or folder" in _said(result)


def _book_of_two_deals(folder: Path) -> None:
    import pandas as pd

    columns = demo_tables(size=10, seed=3)["opportunities"].columns
    deals = pd.DataFrame([{"id": "006A", "owner": "Ann", "team": "East", "stage": "B", "amount": 120000.0,
                           "created": pd.Timestamp("2026-01-02"), "close_date": pd.Timestamp("2026-04-30")},
                          {"id": "006B", "owner": "Bo", "team": "East", "stage": "L", "amount": 50000.0,
                           "created": pd.Timestamp("2026-01-05"), "close_date": pd.Timestamp("2026-02-03")}],
                         columns=columns, index=[2, 3])
    settings = pd.DataFrame([("as_of", "2026-02-10")], columns=["key", "value"], index=[2])
    write_csv_folder({"opportunities": deals, "settings": settings}, folder)


def test_a_salesforce_history_export_is_imported_into_the_store_once(tmp_path):
    from tests.funnel.test_history_import import SALESFORCE

    book = tmp_path / "book"
    _book_of_two_deals(book)
    export = tmp_path / "Opportunity History.csv"
    export.write_text(SALESFORCE, encoding="utf-8")
    result = _invoke("import", str(export), "--into", str(book))  # detected by its columns
    assert result.exit_code == 0, result.output
    said = _said(result)
    assert "Read 6 of 9 history rows of Opportunity History.csv (salesforce-history) for 2 deals; 5 problem(s)." in said
    assert "Opportunity History.csv row 8, Opportunity ID: no deal of this id" in said
    assert "Backfilled book: 6 past snapshots, as of 2026-01-02 to 2026-02-03" in said
    history = _history(book)
    assert [r["origin"] for r in history] == ["imported"] * 6
    assert [r["deals"] for r in history] == [1, 2, 2, 2, 2, 2]  # 006B from its created date, 5 January
    again = _invoke("import", str(export), "--into", str(book), "--layout", "salesforce-history")
    assert again.exit_code == 0 and len(_history(book)) == 6 and "6 past days of book were left out" in _said(again)


def test_a_history_export_needs_the_book_first(tmp_path):
    from tests.funnel.test_history_import import HUBSPOT

    export = tmp_path / "deal history.csv"
    export.write_text(HUBSPOT, encoding="utf-8")
    result = _invoke("import", str(export), "--into", str(tmp_path / "new.xlsm"))
    assert result.exit_code == 2 and "import the deals first" in _said(result)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deal history.csv"]


def test_a_history_of_deals_the_book_does_not_hold_records_nothing_and_says_so(tmp_path):
    from tests.funnel.test_history_import import HUBSPOT

    book = tmp_path / "book"
    _book_of_two_deals(book)
    export = tmp_path / "deal history.csv"
    export.write_text(HUBSPOT, encoding="utf-8")
    result = _invoke("import", str(export), "--into", str(book), "--layout", "hubspot-history")
    assert result.exit_code == 0, result.output
    said = _said(result)
    assert "Read 0 of 7 history rows of deal history.csv (hubspot-history) for 0 deals" in said
    assert "deal history.csv row 2, Record ID: no deal of this id" in said
    assert "Nothing to backfill for book: no past day to record in the 13 weeks before 2026-02-10." in said
    assert _history(book) == []


def test_a_demo_whose_store_cannot_be_written_still_builds_and_refreshes_the_workbook(tmp_path):
    book = tmp_path / "demo.xlsm"
    (tmp_path / "demo.funnel.db").mkdir()  # a folder where the store's file would go
    (tmp_path / "demo.funnel.db" / "keep").write_text("x")
    result = runner.invoke(app, ["demo", "--out", str(book), "--size", "40"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Refreshed" in _said(result) and book.exists()
    assert "snapshot store" in _said(result)


def test_the_demo_takes_the_weeks_of_past_it_is_told(tmp_path):
    from workbook.backfill import demo_weeks

    assert (demo_weeks(2000), demo_weeks(20_000), demo_weeks(100_000)) == (26, 26, 4)
    book = tmp_path / "demo.xlsm"
    assert _invoke("demo", "--out", str(book), "--size", "30", "--weeks", "3").exit_code == 0
    assert [r["as_of"] for r in _history(book) if r["origin"] == "reconstructed"] == ["2026-10-30", "2026-11-06", "2026-11-13"]
    result = _invoke("demo", "--out", str(book), "--size", "30", "--weeks", "0")
    assert result.exit_code == 0 and "Backfilled" not in _said(result)
    assert [r for r in _history(book) if r["origin"] == "reconstructed"] == []
