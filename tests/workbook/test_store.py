"""The snapshot store on real databases: SQLite files in tmp_path and a throwaway PostgreSQL server.

The same tests run against both (``store_url``); what only one of them has (a journal file,
a file lock, a server to reach, concurrent writers on a server) is tested on that one.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from funnel.snapshots import FIGURE_COLUMNS, record, state_as_of
from tests.funnel.test_snapshot_versions import WEEK1, WEEK2, WEEK3, _deal, _state
from tests.support.postgres import start_server, why_no_server
from workbook.store import SCHEMA_VERSION, Store, StoreError, book_name, default_url
from workbook.store import store_url as url_of_store

ROOT = Path(__file__).resolve().parents[2]

DAYS = (dt.date(2026, 1, 5), dt.date(2026, 1, 12), dt.date(2026, 1, 19))
_NO_SERVER = why_no_server()


@pytest.fixture(scope="session")
def postgres():
    if _NO_SERVER:
        pytest.skip(_NO_SERVER)
    server = start_server()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    if request.param == "sqlite":
        return default_url(tmp_path / "Q4 Forecast.xlsm")
    return request.getfixturevalue("postgres").database()


def _figures(weighted: float) -> pd.DataFrame:
    rows = [("2026-Q1", "East", "Ann", 2, 300.0, weighted, 300.0, 0.0, 0.0, 0, 0.0, 0, 1000.0, np.nan, np.nan, np.nan),
            ("2026-Q1", "", "", 2, 300.0, weighted, 300.0, 0.0, 0.0, 0, 0.0, 0, 1000.0, 10.0, 60.0, 150.0)]
    return pd.DataFrame(rows, columns=list(FIGURE_COLUMNS))


def test_the_default_store_is_named_from_the_workbook(tmp_path):
    url = default_url(tmp_path / "Q4 Forecast.xlsm")
    assert url == "sqlite:///" + str((tmp_path / "Q4 Forecast.funnel.db").resolve())
    assert book_name(tmp_path / "Q4 Forecast.xlsm") == "Q4 Forecast"


def test_a_plain_path_is_a_sqlite_store(tmp_path):
    assert url_of_store(str(tmp_path / "team.db")) == "sqlite:///" + str((tmp_path / "team.db").resolve())
    assert url_of_store("postgresql+psycopg://db.example/funnel") == "postgresql+psycopg://db.example/funnel"


def test_versions_and_states_of_a_worked_example(store_url):
    with Store(store_url) as store:
        got = [store.record("Q4", day, week, _figures(w)) for day, week, w in zip(DAYS, (WEEK1, WEEK2, WEEK3), (75.0, 80.0, 0.0))]
        assert [(r.deals, r.changed, r.new_versions) for r in got] == [(3, 3, 3), (3, 3, 2), (3, 1, 1)]  # week 2: D1 pushed, D3 gone, D4 new
        ids = [r.id for r in got]
        # The database's versions are the reference rule's, snapshot for snapshot.
        expected = record(record(record(None, WEEK1, ids[0]), WEEK2, ids[1]), WEEK3, ids[2])
        stored = store.versions("Q4")
        key = ["deal_id", "valid_from"]
        pd.testing.assert_frame_equal(stored.sort_values(key).reset_index(drop=True),
                                      expected.sort_values(key).reset_index(drop=True), check_dtype=False)
        for snapshot, week in zip(ids, (WEEK1, WEEK2, WEEK3)):
            assert store.state("Q4", snapshot).equals(week)
            assert state_as_of(stored, snapshot).equals(week)
        assert store.state("Q4").equals(WEEK3)  # the latest
        assert store.state("Q4", as_of=dt.date(2026, 1, 13)).equals(WEEK2)  # the snapshot of the 12th
        assert store.state("Q4", as_of=dt.date(2026, 1, 4)).empty  # before the first
        history = store.history("Q4")
        assert list(history["changed"]) == [3, 3, 1]
        assert list(history["deals"]) == [3, 3, 3]
        # Week 3: D2 (200) and D4 (100) open; D1 won.
        assert history["open_deals"].iloc[-1] == 2 and history["open_amount"].iloc[-1] == 300.0
        assert history["weighted"].iloc[-1] == 75.0  # 200 x .25 + 100 x .25
        # Week 1: D3's blank amount counts as 0 in the open amount.
        assert history["open_amount"].iloc[0] == 300.0
        figures = store.figures(ids[1])
        assert list(figures.columns) == list(FIGURE_COLUMNS)
        total = figures[figures["owner"] == ""].iloc[0]
        assert (total["weighted"], total["p10"], total["p50"], total["p90"]) == (80.0, 10.0, 60.0, 150.0)
        assert figures[figures["owner"] == "Ann"]["p50"].isna().all()


def test_recording_the_same_data_twice_writes_nothing(store_url):
    with Store(store_url) as store:
        first = store.record("Q4", DAYS[0], WEEK2, _figures(1.0))
        before = (store.versions("Q4"), store.history("Q4"), store.figures(first.id))
        again = store.record("Q4", DAYS[0], WEEK2, _figures(1.0))
        assert (again.id, again.changed, again.new_versions, again.written) == (first.id, 0, 0, False)
        pd.testing.assert_frame_equal(store.versions("Q4"), before[0])
        pd.testing.assert_frame_equal(store.history("Q4"), before[1])
        pd.testing.assert_frame_equal(store.figures(first.id), before[2])


def test_the_same_deals_with_other_figures_or_on_a_later_date_are_a_snapshot(store_url):
    with Store(store_url) as store:
        store.record("Q4", DAYS[0], WEEK2, _figures(1.0))
        figures_moved = store.record("Q4", DAYS[0], WEEK2, _figures(2.0))  # a quota or a P50 changed
        later = store.record("Q4", DAYS[1], WEEK2, _figures(2.0))
        assert figures_moved.written and later.written
        assert [(r.changed, r.new_versions) for r in (figures_moved, later)] == [(0, 0), (0, 0)]
        # The snapshot rows alone: by those dates nothing had changed.
        assert len(store.history("Q4")) == 3 and len(store.versions("Q4")) == 3
        assert store.state("Q4", later.id).equals(WEEK2)


def test_a_deal_whose_digest_differs_but_fields_do_not_gets_no_version(store_url):
    # A digest only says which deals to compare: a stale one never makes a version.
    with Store(store_url) as store:
        store.record("Q4", DAYS[0], WEEK2, _figures(1.0))
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE deal_versions SET digest = 1"))
        again = store.record("Q4", DAYS[1], WEEK2, _figures(1.0))
        assert (again.changed, again.new_versions) == (0, 0)
        assert len(store.versions("Q4")) == 3


def test_books_in_one_store_keep_their_own_deals(store_url):
    with Store(store_url) as store:
        store.record("East", DAYS[0], WEEK1, _figures(1.0))
        store.record("West", DAYS[0], WEEK2, _figures(1.0))
        assert store.state("East").equals(WEEK1) and store.state("West").equals(WEEK2)
        assert len(store.history("East")) == 1


def test_a_failed_snapshot_leaves_the_store_as_it_was(store_url):
    with Store(store_url) as store:
        store.record("Q4", DAYS[0], WEEK1, _figures(1.0))
        before = (store.versions("Q4"), store.history("Q4"))
        twice = pd.concat([_figures(1.0), _figures(1.0)])  # the same figure row twice: its last insert fails
        with pytest.raises(StoreError) as caught:
            store.record("Q4", DAYS[1], WEEK2, twice)
        assert caught.value.key == "store.failed"
        pd.testing.assert_frame_equal(store.versions("Q4"), before[0])
        pd.testing.assert_frame_equal(store.history("Q4"), before[1])


def test_a_snapshot_before_the_latest_is_refused(store_url):
    with Store(store_url) as store:
        store.record("Q4", DAYS[1], WEEK1, _figures(1.0))
        with pytest.raises(StoreError) as caught:
            store.record("Q4", DAYS[0], WEEK2, _figures(1.0))
        assert caught.value.key == "store.earlier"
        assert "2026-01-05" in str(caught.value) and "2026-01-12" in caught.value.message("zh-CN")
        assert len(store.history("Q4")) == 1


def test_a_store_from_a_newer_version_is_refused(store_url):
    Store(store_url).close()
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE schema_version SET version = :v"), {"v": SCHEMA_VERSION + 1})
    engine.dispose()
    with pytest.raises(StoreError) as caught:
        Store(store_url)
    assert caught.value.key == "store.newer"
    assert f"schema version {SCHEMA_VERSION + 1}" in str(caught.value)


def test_a_store_reopened_keeps_its_history(store_url):
    with Store(store_url) as store:
        first = store.record("Q4", DAYS[0], WEEK1, _figures(1.0))
    with Store(store_url) as store:
        second = store.record("Q4", DAYS[1], WEEK2, _figures(1.0))
        assert second.id > first.id and store.state("Q4", first.id).equals(WEEK1)


# A store written by the first schema version, kept as it was written (two snapshots of
# WEEK1, WEEK2 on 2026-01-05 and -12, taken at 09:00): every later version must open it.
FIRST_VERSION_STORE = ROOT / "tests" / "workbook" / "stores" / "first_version.funnel.db"


def test_a_store_made_by_the_first_version_opens_and_takes_new_snapshots(tmp_path):
    copy = tmp_path / "Q4 Forecast.funnel.db"
    copy.write_bytes(FIRST_VERSION_STORE.read_bytes())
    with Store(f"sqlite:///{copy}") as store:
        history = store.history("Q4 Forecast")
        assert [str(d) for d in history["as_of"]] == ["2026-01-05", "2026-01-12"]
        assert store.state("Q4 Forecast", as_of=dt.date(2026, 1, 6)).equals(WEEK1)
        assert store.state("Q4 Forecast").equals(WEEK2)
        third = store.record("Q4 Forecast", DAYS[2], WEEK3, _figures(0.0))
        assert (third.changed, third.new_versions) == (1, 1)
        assert store.state("Q4 Forecast").equals(WEEK3)
    with sqlite3.connect(copy) as conn:
        # Opened to write, the store was brought to this schema: every current version has its digest.
        assert conn.execute("SELECT max(version) FROM schema_version").fetchone() == (SCHEMA_VERSION,)
        assert conn.execute("SELECT count(*) FROM deal_versions WHERE valid_to IS NULL AND digest IS NULL").fetchone() == (0,)


def test_a_first_version_store_opened_to_read_is_left_as_it_was(tmp_path):
    copy = tmp_path / "Q4 Forecast.funnel.db"
    copy.write_bytes(FIRST_VERSION_STORE.read_bytes())
    with Store(f"sqlite:///{copy}", create=False) as store:
        assert len(store.history("Q4 Forecast")) == 2
    assert copy.read_bytes() == FIRST_VERSION_STORE.read_bytes()


def test_the_first_version_store_is_migrated_once_and_its_snapshots_read_as_recorded(tmp_path):
    copy = tmp_path / "Q4 Forecast.funnel.db"
    copy.write_bytes(FIRST_VERSION_STORE.read_bytes())
    with Store(f"sqlite:///{copy}", create=False) as store:  # listing migrates nothing
        assert store.version == 1
        assert list(store.history("Q4 Forecast")["origin"]) == ["recorded", "recorded"]
    assert sqlite3.connect(copy).execute("SELECT version FROM schema_version").fetchall() == [(1,)]
    with Store(f"sqlite:///{copy}") as store:
        assert store.version == SCHEMA_VERSION == 3
        store.record("Q4 Forecast", DAYS[2], WEEK3, _figures(0.0), origin="reconstructed")
        assert list(store.history("Q4 Forecast")["origin"]) == ["recorded", "recorded", "reconstructed"]
    with Store(f"sqlite:///{copy}") as store:  # opened again: already version 3, nothing to do
        assert store.version == 3 and len(store.history("Q4 Forecast")) == 3
    assert sqlite3.connect(copy).execute("SELECT version FROM schema_version").fetchall() == [(3,)]


def test_a_version_2_store_gets_its_origin_column_on_either_database(store_url):
    with Store(store_url) as store:
        store.record("Q4", DAYS[0], WEEK1, _figures(1.0))
    engine = create_engine(store_url)
    with engine.begin() as conn:  # what version 2 wrote: no origin column
        conn.execute(text("ALTER TABLE snapshots DROP COLUMN origin"))
        conn.execute(text("UPDATE schema_version SET version = 2"))
    engine.dispose()
    with Store(store_url, create=False) as store:
        assert store.version == 2 and list(store.history("Q4")["origin"]) == ["recorded"]
    with Store(store_url) as store:
        assert store.version == 3
        store.record("Q4", DAYS[1], WEEK2, _figures(1.0), origin="imported")
        assert list(store.history("Q4")["origin"]) == ["recorded", "imported"]
        assert store.state("Q4").equals(WEEK2)


def test_a_snapshot_says_where_it_came_from(store_url):
    with Store(store_url) as store:
        store.record("Q4", DAYS[0], WEEK1, _figures(1.0), origin="reconstructed")
        store.record("Q4", DAYS[1], WEEK2, _figures(1.0), origin="imported")
        store.record("Q4", DAYS[2], WEEK3, _figures(1.0))
        assert list(store.history("Q4")["origin"]) == ["reconstructed", "imported", "recorded"]
        with pytest.raises(ValueError):
            store.record("Q4", DAYS[2], WEEK3, _figures(1.0), origin="guessed")


def test_a_book_replaced_by_another_takes_its_snapshots_in_one_go(store_url):
    with Store(store_url) as store:
        store.record("Q4", DAYS[2], WEEK3, _figures(3.0))
        store.record("Q4 scratch", DAYS[0], WEEK1, _figures(1.0))
        store.record("Q4 scratch", DAYS[1], WEEK2, _figures(2.0))
        store.record("East", DAYS[0], WEEK2, _figures(1.0))
        store.replace_book("Q4", "Q4 scratch")
        assert [str(d) for d in store.history("Q4")["as_of"]] == ["2026-01-05", "2026-01-12"]
        assert store.history("Q4 scratch").empty and store.state("Q4").equals(WEEK2)
        assert store.figures(int(store.history("Q4")["id"].iloc[-1]))["weighted"].iloc[-1] == 2.0
        assert store.state("East").equals(WEEK2)  # another book is left alone
        store.forget("Q4")
        assert store.history("Q4").empty and store.versions("Q4").empty and store.state("East").equals(WEEK2)
        store.record("Q4", DAYS[0], WEEK1, _figures(1.0))  # the name can be used again
        assert store.state("Q4").equals(WEEK1)


# --- SQLite only ---------------------------------------------------------------------------------

def test_sqlite_leaves_one_file_at_rest(tmp_path):
    url = default_url(tmp_path / "Q4 Forecast.xlsm")
    with Store(url) as store:
        store.record("Q4", DAYS[0], WEEK1, _figures(1.0))
        store.record("Q4", DAYS[1], WEEK2, _figures(1.0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Q4 Forecast.funnel.db"]
    with sqlite3.connect(tmp_path / "Q4 Forecast.funnel.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_store_left_in_wal_mode_is_put_back_in_rollback_mode(tmp_path):
    url = default_url(tmp_path / "b.xlsm")
    Store(url).close()
    with sqlite3.connect(tmp_path / "b.funnel.db") as conn:
        conn.execute("PRAGMA journal_mode = WAL")
    with Store(url) as store:
        store.record("b", DAYS[0], WEEK1, _figures(1.0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.funnel.db"]


def test_listing_a_store_that_does_not_exist_creates_nothing(tmp_path):
    with Store(default_url(tmp_path / "b.xlsm"), create=False) as store:
        assert store.history("b").empty and store.state("b").empty
    assert list(tmp_path.iterdir()) == []


def test_a_locked_sqlite_file_says_so(tmp_path):
    url = default_url(tmp_path / "b.xlsm")
    Store(url).close()
    other = sqlite3.connect(tmp_path / "b.funnel.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the file
    try:
        with Store(url, busy_seconds=0.1) as store:
            with pytest.raises(StoreError) as caught:
                store.record("b", DAYS[0], WEEK1, _figures(1.0))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert caught.value.key == "store.locked"
    assert "locked" in str(caught.value) and "b.funnel.db" in str(caught.value)


def test_an_unwritable_place_says_so(tmp_path):
    with pytest.raises(StoreError) as caught:
        Store("sqlite:///" + str(tmp_path / "no such folder" / "b.funnel.db"))
    assert caught.value.key == "store.unwritable"
    assert "cannot be written" in str(caught.value)


def test_a_file_that_is_no_store_says_so(tmp_path):
    (tmp_path / "b.funnel.db").write_bytes(b"this is not a database, it only has its name" * 50)
    with pytest.raises(StoreError) as caught:
        Store(default_url(tmp_path / "b.xlsm"))
    assert caught.value.key == "store.damaged"


def test_a_bad_url_says_so():
    with pytest.raises(StoreError) as caught:
        Store("nosuchdb://somewhere/x")
    assert caught.value.key == "store.bad_url"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.dictionaries(st.sampled_from(["A", "B", "C", "D"]),
                                st.tuples(st.sampled_from([10.0, 20.0, np.nan]), st.sampled_from(["2026-01-31", "2026-02-28"]),
                                          st.booleans()), max_size=4), min_size=1, max_size=5))
def test_any_sequence_of_snapshots_replays_from_sqlite(tmp_path_factory, weeks):
    url = default_url(tmp_path_factory.mktemp("replay") / "b.xlsm")
    states = [_state(*(_deal(k, amount=a, close=c, is_open=o) for k, (a, c, o) in week.items())) for week in weeks]
    with Store(url) as store:
        ids = [store.record("b", dt.date(2026, 1, 1) + dt.timedelta(days=7 * i), s, _figures(1.0)).id
               for i, s in enumerate(states)]
        for snapshot, state in zip(ids, states):
            assert store.state("b", snapshot).equals(state)


def many(n: int, amount: float) -> pd.DataFrame:
    """n open deals of one amount (what the kill test records)."""
    return _state(*(_deal(f"D{i:06d}", amount=amount) for i in range(n)))


_KILLED_WRITER = """
import datetime as dt, sys
from tests.workbook.test_store import _figures, many
from workbook.store import Store
state = many(int(sys.argv[2]), 2.0)
with Store(sys.argv[1]) as store:
    print("ready", flush=True)
    store.record("b", dt.date(2026, 2, 1) + dt.timedelta(days=int(sys.argv[3])), state, _figures(1.0))
"""


@pytest.mark.slow
def test_a_snapshot_killed_midway_leaves_the_store_as_it_was(tmp_path):
    url, n = default_url(tmp_path / "b.xlsm"), 20_000
    before, after = many(n, 1.0), many(n, 2.0)
    with Store(url) as store:
        store.record("b", dt.date(2026, 1, 1), before, _figures(1.0))
    finished, cut_short = 0, 0
    for day, delay in enumerate((0.0, 0.05, 0.15, 0.3, 0.6, 1.0, 2.0)):
        # Each writer a day later: the same data on the same date would write nothing.
        writer = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, url, str(n), str(day)], cwd=ROOT,
                                  stdout=subprocess.PIPE)
        assert writer.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        writer.kill()
        writer.wait()
        with Store(url) as store:  # opening rolls back a half-written snapshot
            history = store.history("b")
            latest = store.state("b")
            assert latest.equals(before) or latest.equals(after)
            cut_short += len(history) - 1 == finished
            finished = len(history) - 1
            # Either the second snapshot is whole (every deal changed once) or absent.
            assert len(store.versions("b")) == n * (2 if finished else 1)
            assert list(history["changed"]) == ([n, n] + [0] * (finished - 1) if finished else [n])
    assert cut_short >= 1  # the kills did land inside snapshots
    # A writer killed before its journal was whole may leave that (harmless) journal file; the
    # next snapshot's commit removes it: one file at rest again.
    with Store(url) as store:
        store.record("b", dt.date(2026, 3, 1), before, _figures(1.0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.funnel.db"]


# --- PostgreSQL only -------------------------------------------------------------------------------

def test_an_unreachable_server_says_so(postgres):
    with pytest.raises(StoreError) as caught:
        Store(f"postgresql+psycopg://postgres:secret@127.0.0.1:{postgres.port + 1 if postgres.port < 65535 else 1}/x")
    assert caught.value.key == "store.unreachable"
    assert "secret" not in str(caught.value)  # the password is never shown


def test_two_writers_at_once_neither_duplicate_nor_lose_a_version(postgres):
    url = postgres.database()
    Store(url).close()
    # Each writer records its own sequence of states of the same book, at the same moments.
    plans = {
        "a": [_state(_deal("D1", amount=float(i)), _deal("D2"), _deal(f"A{i}")) for i in range(8)],
        "b": [_state(_deal("D1", amount=100.0 + i), _deal("D2", owner="Bo"), _deal(f"B{i}")) for i in range(8)],
    }
    done: dict[str, list[tuple[int, pd.DataFrame]]] = {"a": [], "b": []}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def write(name):
        try:
            with Store(url) as store:
                start.wait()
                for state in plans[name]:
                    done[name].append((store.record("Q4", DAYS[0], state, _figures(1.0)).id, state))
        except BaseException as err:  # reported below, in the test's thread
            errors.append(err)

    threads = [threading.Thread(target=write, args=(name,)) for name in plans]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    with Store(url) as store:
        versions = store.versions("Q4")
        recorded = sorted(done["a"] + done["b"], key=lambda pair: pair[0])
        assert len(recorded) == 16 and len(store.history("Q4")) == 16
        # Every snapshot's state is exactly what its writer recorded: nothing lost, nothing doubled.
        for snapshot, state in recorded:
            assert store.state("Q4", snapshot).equals(state)
        # The versions are exactly what recording those states in that order makes.
        expected = None
        for snapshot, state in recorded:
            expected = record(expected, state, snapshot)
        key = ["deal_id", "valid_from"]
        pd.testing.assert_frame_equal(versions.sort_values(key).reset_index(drop=True),
                                      expected.sort_values(key).reset_index(drop=True), check_dtype=False)
        assert not versions[versions["valid_to"].isna()]["deal_id"].duplicated().any()


def test_the_states_at_several_snapshots_are_each_snapshot_s_state(store_url):
    with Store(store_url) as store:
        ids = [store.record("Q4", day, week, _figures(1.0)).id for day, week in zip(DAYS, (WEEK1, WEEK2, WEEK3))]
        for pair in ([ids[0], ids[2]], [ids[2], ids[0]], [ids[1], ids[1]], ids):
            got = store.states("Q4", pair)
            assert len(got) == len(pair)
            for snapshot, state in zip(pair, got):
                assert state.equals(store.state("Q4", snapshot))
        assert store.states("Q4", []) == []
