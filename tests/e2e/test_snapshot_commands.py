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
    # The same workbook again: nothing written; on a later date, a snapshot row, no new deal version.
    again = _invoke("snapshot", str(book))
    assert "already holds these figures as of 2026-11-20 (snapshot 1): nothing new recorded" in _said(again)
    assert [r["changed"] for r in _history(book)] == [60]
    later = _invoke("snapshot", str(book), "--as-of", "2026-11-27")
    assert "0 changed since the last snapshot (0 new deal versions)" in _said(later)
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
    demo = _invoke("demo", "--out", str(book), "--size", "30", "--lang", "zh-CN")
    assert demo.exit_code == 0
    assert "已记录截至 2026-11-20 的快照 27" in _said(demo)  # the demo's refresh recorded it, after the 26 past weeks
    result = _invoke("snapshot", str(book))
    assert result.exit_code == 0, result.output
    # The demo's store holds its 26 past weeks; the refresh's own snapshot follows them.
    assert "快照库已有截至 2026-11-20 的相同数据（快照 27）：未新增记录。" in _said(result)
    result = _invoke("snapshot", str(book), "--as-of", "2026-11-27")
    assert "已记录 zh 截至 2026-11-27 的快照 28：30 个商机" in _said(result)
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


def _flow(folder: Path, *more: str) -> dict[tuple[str, str], tuple[int, float]]:
    result = _invoke("flow", str(folder), "--format", "json", *more)
    assert result.exit_code == 0, result.output
    return {(r["owner"], r["change"]): (r["deals"], r["amount"]) for r in json.loads(result.output)}


def test_the_flow_between_two_snapshots_is_the_changes_we_made(tmp_path):
    tables = demo_tables(size=60, seed=3)
    stages = tables["stages"]
    open_codes = set(stages.loc[~(stages["is_won"] | stages["is_lost"]), "code"])
    won, lost = stages.loc[stages["is_won"], "code"].iloc[0], stages.loc[stages["is_lost"], "code"].iloc[0]
    opps = tables["opportunities"].reset_index(drop=True)
    chosen = list(opps.index[opps["stage"].isin(open_codes)][:8])
    a, b, c, d, e, f, g, h = chosen
    # The first snapshot: seven open deals closing in 2026-Q4, one (h) in 2027-Q1.
    for i, day in zip(chosen, ["2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04", "2026-12-05", "2026-12-06",
                               "2026-12-07", "2027-02-15"]):
        opps.loc[i, "close_date"] = pd.Timestamp(day)
    folder = tmp_path / "east"
    write_csv_folder(tables | {"opportunities": opps}, folder)
    assert _invoke("snapshot", str(folder), "--as-of", "2026-11-20").exit_code == 0
    before = _flow(folder, "--period", "2026-Q4", "--from", "2026-11-20", "--to", "2026-11-20")
    amount = {i: float(opps.loc[i, "amount"]) for i in chosen}
    start = before[("", "start")]
    # What we change: a pushed to 2027, b raised, c lowered, d won, e lost, f deleted, h pulled in, one new deal.
    edited = opps.copy()
    edited.loc[a, "close_date"] = pd.Timestamp("2027-06-30")
    edited.loc[b, "amount"] = amount[b] + 1000
    edited.loc[c, "amount"] = amount[c] - 500
    edited.loc[d, "stage"], edited.loc[e, "stage"] = won, lost
    edited.loc[h, "close_date"] = pd.Timestamp("2026-12-20")
    new = edited.loc[[g]].assign(id="NEW-1", amount=777.0, close_date=pd.Timestamp("2026-12-21"))
    edited = pd.concat([edited.drop(index=f), new], ignore_index=True)
    write_csv_folder(tables | {"opportunities": edited}, folder)
    assert _invoke("snapshot", str(folder), "--as-of", "2026-11-27").exit_code == 0
    flow = _flow(folder, "--period", "2026-Q4", "--from", "2026-11-20", "--to", "2026-11-27")
    assert flow[("", "start")] == start
    assert flow[("", "pushed_out")] == (1, amount[a])
    assert flow[("", "amount_increased")] == (1, 1000.0)
    assert flow[("", "amount_decreased")] == (1, 500.0)
    assert flow[("", "won")] == (1, amount[d]) and flow[("", "lost")] == (1, amount[e])
    assert flow[("", "removed")] == (1, amount[f])
    assert flow[("", "pulled_in")] == (1, amount[h])
    assert flow[("", "created")] == (1, 777.0)
    assert flow[("", "reopened")] == (0, 0.0) and flow[("", "pulled_out")] == (0, 0.0)
    assert flow[("", "end")] == (start[0] - 4 + 2, start[1] - amount[a] + 500 - amount[d] - amount[e] - amount[f]
                                 + amount[h] + 777.0)
    # The default window (the last snapshot before 2026-Q4 began: none, so the first) is the same.
    assert _flow(folder, "--period", "2026-Q4") == flow


def test_flow_without_two_snapshots_or_with_a_bad_date_exits_2(tmp_path):
    folder = tmp_path / "west"
    write_csv_folder(demo_tables(size=20, seed=1), folder)
    none_yet = _invoke("flow", str(folder))
    assert none_yet.exit_code == 2 and "No snapshots of west" in _said(none_yet)
    assert _invoke("snapshot", str(folder), "--as-of", "2026-11-20").exit_code == 0
    too_early = _invoke("flow", str(folder), "--from", "2026-01-01")
    assert too_early.exit_code == 2 and "no snapshot of west as of 2026-01-01 or before" in _said(too_early)
    assert _invoke("flow", str(folder), "--to", "2026-02-30").exit_code == 2
    assert _invoke("flow", str(folder), "--period", "Q9").exit_code == 2
