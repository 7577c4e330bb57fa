"""Each refresh records a snapshot (issue 16 item 1): the macro's step after the analysis, into the
``store`` setting or BOOK.funnel.db beside the workbook; a store that cannot be used is one Issues
row and one sentence, and the refresh itself completes."""

from __future__ import annotations

import re
import sqlite3
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from funnel.demo.data import demo_tables
from funnel.snapshots import tracked_fields
from funnel_cli.main import app
from tests.support import hostile
from tests.support.postgres import start_server, why_no_server
from udfs.macros import record_snapshot, refresh_report, snapshot
from workbook.build import new_workbook
from workbook.filebook import FileBook
from workbook.layout import REFRESH_MACRO, SNAPSHOT_MACRO, metric_label
from workbook.store import SCHEMA_VERSION, Store, default_url, snapshot_url
from workbook.vba_project import macro_names

SIZE = 40
_NO_SERVER = why_no_server()


@pytest.fixture(scope="module")
def postgres():
    if _NO_SERVER:
        pytest.skip(_NO_SERVER)
    server = start_server()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("built") / "Q4 Forecast.xlsm"
    new_workbook(out, "en", demo_tables(size=SIZE, seed=5))
    return out


def _book(built: Path, folder: Path) -> Path:
    book = folder / built.name
    book.write_bytes(built.read_bytes())
    return book


def _refresh(book: Path, **overrides: str):
    return refresh_report(FileBook(book), overrides or None)


def _issues(book: Path) -> pd.DataFrame:
    return FileBook(book).read_table("tblIssues")


def test_a_refresh_records_its_deals_beside_the_workbook(built, tmp_path):
    book = _book(built, tmp_path)
    report, message = _refresh(book)
    assert "Snapshot 1 as of" in message and f"{SIZE} deals changed since the last one" in message
    with Store(default_url(book), create=False) as store:
        (snapshot,) = store.history("Q4 Forecast").itertuples()
        assert (snapshot.deals, snapshot.changed) == (SIZE, SIZE)
        assert store.state("Q4 Forecast").equals(tracked_fields(report.deals))
        totals = store.figures(snapshot.id)
        assert (totals["owner"] == "").any()  # the forecast figures, the periods' totals among them
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Q4 Forecast.funnel.db", "Q4 Forecast.xlsm"]


def test_refreshing_the_same_data_again_records_nothing(built, tmp_path):
    book = _book(built, tmp_path)
    _refresh(book)
    before = (tmp_path / "Q4 Forecast.funnel.db").read_bytes()
    _, message = _refresh(book)
    assert "already holds these figures" in message and "nothing new recorded" in message
    assert (tmp_path / "Q4 Forecast.funnel.db").read_bytes() == before


def test_a_changed_deal_is_what_the_next_refresh_records(built, tmp_path):
    book = _book(built, tmp_path)
    _refresh(book, as_of="2026-11-20")
    opened = FileBook(book)
    deals = opened.read_table("tblOpportunities")
    amount = next(c for c in deals.columns if c.lower() == "amount")
    deals.loc[deals.index[0], amount] = float(deals.loc[deals.index[0], amount]) + 1000.0
    opened.write_table("tblOpportunities", deals.reset_index(drop=True))
    opened.finish("")
    _, message = _refresh(book, as_of="2026-11-27")
    assert "Snapshot 2 as of 2026-11-27 recorded: 1 deals changed" in message
    with Store(default_url(book)) as store:
        first, second = store.states("Q4 Forecast", [1, 2])
        moved = second.set_index("deal_id")["amount"] - first.set_index("deal_id")["amount"]
        assert list(moved[moved != 0]) == [1000.0]


def test_the_store_setting_and_the_command_line_choose_the_store(built, tmp_path):
    book = _book(built, tmp_path)
    _, message = _refresh(book, store="shared.db")  # a path: from the workbook's folder
    assert "Snapshot 1 as of" in message
    with Store(f"sqlite:///{tmp_path / 'shared.db'}", create=False) as store:
        assert len(store.history("Q4 Forecast")) == 1
    assert snapshot_url("team/shared.db", book) == "sqlite:///" + str((tmp_path / "team" / "shared.db").resolve())
    elsewhere = tmp_path / "elsewhere.db"
    result = CliRunner().invoke(app, ["refresh", str(book), "--store", str(elsewhere)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    with Store(f"sqlite:///{elsewhere}", create=False) as store:
        assert len(store.history("Q4 Forecast")) == 1
    assert not (tmp_path / "Q4 Forecast.funnel.db").exists()


def test_the_store_url_rules():
    book = Path("/books/Q4 Forecast.xlsm")
    assert snapshot_url("", book) == default_url(book)
    assert snapshot_url("postgresql+psycopg://db/funnel", None) == "postgresql+psycopg://db/funnel"
    assert snapshot_url("/srv/funnel.db", None) == "sqlite:////srv/funnel.db"
    assert snapshot_url("", None) is None and snapshot_url("here.db", None) is None


def _failed(book: Path, **overrides: str) -> tuple[str, pd.Series]:
    report, message = _refresh(book, **overrides)
    issues = _issues(book)
    (row,) = [r for _, r in issues.iterrows() if r["What was done"] == "refreshed without recording a snapshot"]
    # The refresh itself completed: every output table written, the Summary among them.
    assert len(FileBook(book).read_table("tblSummary")) > 0
    assert "the refresh itself is complete" in message
    return message, row


def test_an_unwritable_store_is_an_issues_row_and_the_refresh_completes(built, tmp_path):
    book = _book(built, tmp_path)
    message, row = _failed(book, store=str(tmp_path / "gone" / "x.db"))
    assert "cannot be written" in message and "cannot be written" in row["Problem"]
    assert row["Table"] == "settings" and row["Column"] == "value"
    # The Summary and the closing message count the store's row with the others.
    summary = FileBook(book).read_table("tblSummary")
    counted = summary.set_index(summary.columns[0]).loc[metric_label("issues", "en")].iloc[0]
    assert int(counted) == len(_issues(book))
    assert f"{len(_issues(book))} problem(s) found" in message


def test_a_locked_store_is_an_issues_row(built, tmp_path, monkeypatch):
    monkeypatch.setattr("workbook.store.BUSY_SECONDS", 0.1)
    book = _book(built, tmp_path)
    db = tmp_path / "Q4 Forecast.funnel.db"
    Store(f"sqlite:///{db}").close()
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        message, row = _failed(book)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert "is locked by another program" in row["Problem"]


def test_a_store_from_a_newer_funnel_is_an_issues_row(built, tmp_path):
    book = _book(built, tmp_path)
    db = tmp_path / "Q4 Forecast.funnel.db"
    Store(f"sqlite:///{db}").close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    conn.close()
    message, row = _failed(book)
    assert f"schema version {SCHEMA_VERSION + 1}" in row["Problem"]


def test_an_unreachable_server_is_an_issues_row(built, tmp_path):
    pytest.importorskip("psycopg", reason="the PostgreSQL driver (psycopg) is not installed")
    book = _book(built, tmp_path)
    message, row = _failed(book, store="postgresql+psycopg://someone:pw@127.0.0.1:1/funnel")
    assert "cannot be reached" in row["Problem"] and ":pw@" not in row["Problem"]


def test_a_workbook_never_saved_skips_the_snapshot_with_a_word(built, tmp_path):
    book = _book(built, tmp_path)
    report, _ = _refresh(book)
    (tmp_path / "Q4 Forecast.funnel.db").unlink()

    class NoPath:
        path = None

    snapshot = record_snapshot(NoPath(), report)
    assert snapshot.recorded is None and snapshot.url is None
    assert "it has not been saved yet" in snapshot.said
    assert not (tmp_path / "Q4 Forecast.funnel.db").exists()


def test_a_chinese_workbook_says_its_snapshot_in_chinese(tmp_path):
    book = tmp_path / "预测.xlsm"
    new_workbook(book, "zh-CN", demo_tables(size=SIZE, seed=5, language="zh-CN"))
    _, message = _refresh(book)
    assert "已记录截至" in message and "快照 1" in message
    _, message = _refresh(book, store=str(tmp_path / "gone" / "x.db"))
    assert "未记录快照" in message and "刷新本身已完成" in message


def test_the_snapshot_button_records_without_rewriting_the_workbook(built, tmp_path):
    book = _book(built, tmp_path)
    before = book.read_bytes()
    message = snapshot(FileBook(book))
    assert message.startswith("Snapshot 1 as of") and f"{SIZE} deals changed" in message
    assert book.read_bytes() == before
    with Store(default_url(book), create=False) as store:
        assert len(store.history("Q4 Forecast")) == 1
    assert "already holds these figures" in snapshot(FileBook(book))
    assert snapshot(FileBook(book)).startswith("The snapshot store already holds")


def test_the_snapshot_button_says_why_when_the_store_cannot_be_used(built, tmp_path):
    book = _book(built, tmp_path)
    db = tmp_path / "Q4 Forecast.funnel.db"
    Store(f"sqlite:///{db}").close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    conn.close()
    before = book.read_bytes()
    message = snapshot(FileBook(book))
    assert message.startswith("No snapshot recorded: the snapshot store") and "newer funnel" in message
    assert book.read_bytes() == before


def test_every_output_sheet_of_an_xlsm_has_a_snapshot_button_its_project_can_run(built):
    with zipfile.ZipFile(built) as package:
        vml = "".join(package.read(n).decode() for n in package.namelist() if n.endswith(".vml"))
        vba = package.read("xl/vbaProject.bin")
    buttons = re.findall(r"<x:FmlaMacro>\[0\]!([^<]+)</x:FmlaMacro>", vml)
    assert buttons.count(SNAPSHOT_MACRO) == buttons.count(REFRESH_MACRO) > 0
    assert SNAPSHOT_MACRO in macro_names(vba)
    assert "Snapshot" in vml


def test_a_forced_refresh_of_refused_inputs_records_no_snapshot(built, tmp_path):
    book = _book(built, tmp_path)
    hostile.delete_sheet(book, "Quotas")  # a required table gone
    _, message = refresh_report(FileBook(book), force=True)
    assert "No snapshot recorded: a required table or column is missing" in message
    assert not (tmp_path / "Q4 Forecast.funnel.db").exists()


def test_a_refresh_records_into_a_postgresql_store_named_in_settings(built, tmp_path, postgres):
    url = postgres.database()
    book = _book(built, tmp_path)
    report, message = _refresh(book, store=url)
    assert "Snapshot 1 as of" in message
    _, again = _refresh(book, store=url)
    assert "nothing new recorded" in again
    with Store(url, create=False) as store:
        assert len(store.history("Q4 Forecast")) == 1
        assert store.state("Q4 Forecast").equals(tracked_fields(report.deals))
    assert not (tmp_path / "Q4 Forecast.funnel.db").exists()
