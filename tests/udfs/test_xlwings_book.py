"""XlwingsBook on xlwings' remote-interpreter engine, fed the payload VBA would send.

A real .xlsx is written with XlsxWriter, turned into the JSON body that xlwings' VBA
client (addin/Remote.bas) posts, and opened with ``xw.Book(json=...)``. Reads are checked
as frames; writes are checked as the actions in ``book.json()`` that the client replays
in Excel (positions are 0-based there: ``sheet_position``, ``start_row``, ``start_column``).

Workbook used throughout::

    Data (sheet_position 0)      A1 "Pipeline export"
                                 tblDemo B3:E7, header row 3, data rows 4-7
                                 Deal | Amount | Close | Won
    Output (sheet_position 1)    tblOut A1:C4, header row 1, data rows 2-4
                                 Stage | Deals | Weighted
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter
import xlwings as xw

NEEDS_KEY = (
    "xlwings' remote-interpreter engine needs XLWINGS_LICENSE_KEY=noncommercial "
    "(PolyForm Noncommercial); set it to run these tests"
)
try:
    from xlwings.pro import _xlremote
except xw.LicenseError:  # xlwings before 0.34 checks the key on import
    pytest.skip(NEEDS_KEY, allow_module_level=True)

from udfs.xlwings_book import XlwingsBook
from workbook.book import Book
from workbook.errors import TableNotFound

try:
    from tests.support.xlwings_json import book_json_from_file
except ModuleNotFoundError:
    # tests/ is not installed and tests/udfs has no __init__.py, so under pytest's default
    # "prepend" import mode the repository root may not be on sys.path.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from tests.support.xlwings_json import book_json_from_file

pytestmark = [
    pytest.mark.xlwings_remote,
    pytest.mark.skipif(
        os.environ.get("XLWINGS_LICENSE_KEY") is None,
        reason=NEEDS_KEY,
    ),
]

DEMO_ROWS = [
    ["Acme", 1200, dt.datetime(2024, 1, 15), True],
    ["Globex", 2.5, dt.datetime(2024, 3, 1, 13, 30), False],
    ["Initech", None, None, None],
    ["Umbrella", 300, dt.datetime(2024, 2, 29), True],
]
OUT_HEADERS = ["Stage", "Deals", "Weighted"]


@pytest.fixture
def xlsx_path(tmp_path):
    """The demo workbook on disk, written by XlsxWriter."""
    path = tmp_path / "demo.xlsx"
    workbook = xlsxwriter.Workbook(path)
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    data = workbook.add_worksheet("Data")
    data.write("A1", "Pipeline export")
    data.add_table(
        "B3:E7",
        {
            "name": "tblDemo",
            "columns": [
                {"header": "Deal"},
                {"header": "Amount"},
                {"header": "Close", "format": date_format},
                {"header": "Won"},
            ],
            "data": DEMO_ROWS,
        },
    )
    output = workbook.add_worksheet("Output")
    output.add_table(
        "A1:C4",
        {
            "name": "tblOut",
            "columns": [{"header": header} for header in OUT_HEADERS],
            "data": [["Lead", 3, 100.0], ["Won", 1, 50.0], ["Lost", 2, 0.0]],
        },
    )
    workbook.define_name("RefreshedAt", "=Output!$E$1")
    data.activate()
    workbook.close()
    return path


@pytest.fixture
def payload(xlsx_path):
    """What the VBA client would post for the demo workbook."""
    return book_json_from_file(xlsx_path)


@pytest.fixture
def remote_book(payload):
    """The remote engine's book, closed again so the process-wide app doesn't keep it."""
    book = xw.Book(json=payload)
    yield book
    book.close()


@pytest.fixture
def book(remote_book):
    """The Book under test."""
    return XlwingsBook(remote_book)


def actions(remote_book):
    """The queued actions, as the JSON the server would return."""
    return json.loads(json.dumps(remote_book.json()))["actions"]


def action_summary(action):
    """The fields the VBA client uses to replay one action, without the null ones."""
    return {key: value for key, value in action.items() if value not in (None, [None])}


def out_frame(rows):
    """A frame for tblOut with one row per (stage, deals, weighted) triple."""
    return pd.DataFrame(rows, columns=OUT_HEADERS)


class TestPayload:
    """The helper builds the body Remote.bas sends."""

    def test_top_level_matches_remote_bas(self, payload, xlsx_path):
        assert list(payload) == ["client", "version", "book", "names", "sheets"]
        assert payload["client"] == "VBA"
        assert payload["version"] == xw.__version__
        assert payload["book"] == {
            "name": xlsx_path.name,
            "active_sheet_index": 0,
            "selection": "A1",
        }

    def test_names_carry_range_names_only(self, payload):
        assert payload["names"] == [
            {
                "name": "RefreshedAt",
                "sheet_index": 1,
                "address": "E1",
                "book_scope": True,
                "scope_sheet_name": None,
                "scope_sheet_index": None,
            }
        ]

    def test_tables_carry_listobject_addresses(self, payload):
        sheets = {sheet["name"]: sheet for sheet in payload["sheets"]}
        assert list(sheets) == ["Data", "Output"]
        assert list(sheets["Data"]) == ["name", "pictures", "tables", "values"]
        (demo,) = sheets["Data"]["tables"]
        assert demo == {
            "name": "tblDemo",
            "range_address": "$B$3:$E$7",
            "header_row_range_address": "$B$3:$E$3",
            "data_body_range_address": "$B$4:$E$7",
            "total_row_range_address": None,
            "show_headers": True,
            "show_totals": False,
            "table_style": "TableStyleMedium9",
            "show_autofilter": True,
        }

    def test_values_start_at_a1_encoded_like_vba(self, payload):
        values = payload["sheets"][0]["values"]
        assert values[0] == ["Pipeline export", None, None, None, None]
        assert values[2] == [None, "Deal", "Amount", "Close", "Won"]
        assert values[3] == [None, "Acme", 1200, "2024-01-15T00:00:00.000Z", True]
        assert values[4] == [None, "Globex", 2.5, "2024-03-01T13:30:00.000Z", False]
        assert values[5] == [None, "Initech", None, None, None]
        assert len(values) == 7


class TestReadTable:
    """read_table gives sheet-row-indexed frames with the contract's types."""

    def test_is_a_book(self, book):
        assert isinstance(book, Book)

    def test_rows_indexed_by_sheet_row(self, book):
        frame = book.read_table("tblDemo")
        assert list(frame.columns) == ["Deal", "Amount", "Close", "Won"]
        assert list(frame.index) == [4, 5, 6, 7]
        assert frame.loc[4, "Deal"] == "Acme"
        assert frame.loc[7, "Deal"] == "Umbrella"

    def test_numbers_are_float_and_blanks_missing(self, book):
        amount = book.read_table("tblDemo")["Amount"]
        assert amount.dtype == "float64"
        assert amount.loc[4] == 1200.0 and isinstance(amount.loc[4], float)
        assert amount.loc[5] == 2.5
        assert pd.isna(amount.loc[6])

    def test_dates_are_datetimes(self, book):
        close = book.read_table("tblDemo")["Close"]
        assert pd.api.types.is_datetime64_dtype(close.dtype)
        assert close.loc[4] == pd.Timestamp("2024-01-15")
        assert close.loc[5] == pd.Timestamp("2024-03-01 13:30")
        assert pd.isna(close.loc[6])

    def test_booleans_stay_booleans(self, book):
        won = book.read_table("tblDemo")["Won"]
        assert won.loc[4] is True and won.loc[5] is False
        assert won.loc[6] is None

    def test_name_is_case_insensitive_across_sheets(self, book):
        frame = book.read_table("TBLOUT")
        assert list(frame.index) == [2, 3, 4]
        assert frame["Deals"].tolist() == [3.0, 1.0, 2.0]

    def test_missing_table(self, book):
        with pytest.raises(TableNotFound, match="tblNope"):
            book.read_table("tblNope")

    def test_table_without_data_rows_reads_empty(self, payload):
        # Excel reports no DataBodyRange for a table whose data rows were all deleted.
        table = payload["sheets"][1]["tables"][0]
        table["range_address"], table["data_body_range_address"] = "$A$1:$C$2", None
        remote_book = xw.Book(json=payload)
        try:
            frame = XlwingsBook(remote_book).read_table("tblOut")
        finally:
            remote_book.close()
        assert frame.empty and list(frame.columns) == OUT_HEADERS

    def test_reading_queues_no_actions(self, book, remote_book):
        book.read_table("tblDemo")
        assert actions(remote_book) == []


class TestWriteTable:
    """write_table queues resize, clear and setValues for the client to replay."""

    def test_more_rows_grows_the_table(self, book, remote_book):
        rows = [
            ["Lead", 5, 250.0],
            ["Qualified", 4, 400.0],
            ["Proposal", 3, 450.5],
            ["Won", 2, 800.0],
            ["Lost", 1, 0.0],
        ]
        book.write_table("tblOut", out_frame(rows))
        assert [action_summary(action) for action in actions(remote_book)] == [
            {"func": "resizeTable", "args": [0, "$A$1:$C$6"], "sheet_position": 1},
            {
                "func": "setValues",
                "values": [[stage, float(deals), value] for stage, deals, value in rows],
                "sheet_position": 1,
                "start_row": 1,
                "start_column": 0,
                "row_count": 5,
                "column_count": 3,
            },
        ]

    def test_fewer_rows_shrinks_and_clears_the_rest(self, book, remote_book):
        book.write_table("tblOut", out_frame([["Won", 7, 70.0]]))
        assert [action_summary(action) for action in actions(remote_book)] == [
            {"func": "resizeTable", "args": [0, "$A$1:$C$2"], "sheet_position": 1},
            {
                "func": "rangeClearContents",
                "sheet_position": 1,
                "start_row": 2,
                "start_column": 0,
                "row_count": 2,
                "column_count": 3,
            },
            {
                "func": "setValues",
                "values": [["Won", 7.0, 70.0]],
                "sheet_position": 1,
                "start_row": 1,
                "start_column": 0,
                "row_count": 1,
                "column_count": 3,
            },
        ]

    def test_second_write_clears_what_the_first_wrote(self, book, remote_book):
        # The snapshot still says 3 data rows; the 5 rows written first must be cleared.
        book.write_table("tblOut", out_frame([["Lead", 1, 1.0]] * 5))
        book.write_table("tblOut", out_frame([["Won", 2, 2.0]] * 2))
        resize, clear, write = [action_summary(a) for a in actions(remote_book)[2:]]
        assert resize["args"] == [0, "$A$1:$C$3"]
        assert (clear["func"], clear["start_row"], clear["row_count"]) == (
            "rangeClearContents",
            3,
            3,
        )
        assert (write["start_row"], write["row_count"]) == (1, 2)

    def test_empty_frame_keeps_one_blank_row(self, book, remote_book):
        book.write_table("tblOut", out_frame([]))
        assert [action_summary(action) for action in actions(remote_book)] == [
            {"func": "resizeTable", "args": [0, "$A$1:$C$2"], "sheet_position": 1},
            {
                "func": "rangeClearContents",
                "sheet_position": 1,
                "start_row": 1,
                "start_column": 0,
                "row_count": 3,
                "column_count": 3,
            },
        ]

    def test_offset_table_writes_at_its_own_anchor(self, book, remote_book):
        book.write_table(
            "tblDemo",
            pd.DataFrame(
                [["Hooli", 10.0, pd.Timestamp("2024-05-01"), True]],
                columns=["Deal", "Amount", "Close", "Won"],
            ),
        )
        resize, clear, write = [action_summary(a) for a in actions(remote_book)]
        assert resize["args"] == [0, "$B$3:$E$4"] and resize["sheet_position"] == 0
        assert (clear["start_row"], clear["start_column"], clear["row_count"]) == (4, 1, 3)
        assert (write["start_row"], write["start_column"]) == (3, 1)

    def test_dates_and_blanks_are_encoded_for_the_client(self, book, remote_book):
        frame = pd.DataFrame(
            {
                "Deal": ["Acme", None],
                "Amount": [1.5, float("nan")],
                "Close": [pd.Timestamp("2024-01-15"), pd.NaT],
                "Won": [True, None],
            }
        )
        book.write_table("tblDemo", frame)
        write = actions(remote_book)[-1]
        assert write["values"] == [["Acme", 1.5, "2024-01-15", True], ["", "", "", ""]]

    def test_columns_are_put_in_header_order(self, book, remote_book):
        frame = pd.DataFrame({"Weighted": [9.5], "Stage": ["Won"], "Deals": [1]})
        book.write_table("tblOut", frame)
        assert actions(remote_book)[-1]["values"] == [["Won", 1.0, 9.5]]

    def test_other_columns_are_refused(self, book, remote_book):
        frame = pd.DataFrame({"Stage": ["Won"], "Count": [1], "Weighted": [9.5]})
        expected = r"missing \['Deals'\], unexpected \['Count'\]"
        with pytest.raises(ValueError, match=expected):
            book.write_table("tblOut", frame)
        assert actions(remote_book) == []

    def test_missing_table(self, book):
        with pytest.raises(TableNotFound):
            book.write_table("tblNope", out_frame([]))

    def test_totals_row_is_refused(self, payload):
        table = payload["sheets"][1]["tables"][0]
        table["data_body_range_address"] = "$A$2:$C$3"
        table["total_row_range_address"], table["show_totals"] = "$A$4:$C$4", True
        remote_book = xw.Book(json=payload)
        try:
            with pytest.raises(ValueError, match="totals row"):
                XlwingsBook(remote_book).write_table("tblOut", out_frame([]))
            assert actions(remote_book) == []
        finally:
            remote_book.close()


class TestStatusAndFinish:
    """status has no status bar remotely; finish queues the closing message box."""

    def test_status_is_logged_not_queued(self, book, remote_book, caplog):
        with caplog.at_level(logging.INFO, logger="udfs.xlwings_book"):
            book.status("Reading opportunities...")
            book.status("Writing results...")
        assert caplog.messages == ["Reading opportunities...", "Writing results..."]
        assert actions(remote_book) == []

    def test_finish_queues_an_alert_last(self, book, remote_book):
        book.write_table("tblOut", out_frame([["Won", 1, 1.0]]))
        book.finish("Refreshed 3 tables.")
        last = action_summary(actions(remote_book)[-1])
        assert last == {
            "func": "alert",
            "args": ["Refreshed 3 tables.", "Funnel", "ok", "info", ""],
        }

    def test_finish_queues_on_its_own_book(self, book, remote_book, payload):
        # The remote App.alert would queue on the book opened last, i.e. `later`.
        later = xw.Book(json=payload)
        try:
            book.finish("Done.")
            assert [a["func"] for a in actions(remote_book)] == ["alert"]
            assert later.json()["actions"] == []
        finally:
            later.close()


def test_read_table_reads_100k_rows_in_one_call(payload, monkeypatch):
    """100,000 data rows come back from one read of the range: on the remote engine every
    read rebuilds the whole sheet's values, so a read per row or per column would cost a
    refresh minutes (bench/xlwings_read.py times it)."""
    rows = 100_000
    sheet = payload["sheets"][0]
    template = sheet["values"][3:7]
    sheet["values"] = sheet["values"][:3] + [template[i % 4] for i in range(rows)]
    sheet["tables"][0]["range_address"] = f"$B$3:$E${3 + rows}"
    sheet["tables"][0]["data_body_range_address"] = f"$B$4:$E${3 + rows}"
    reads = []  # the shape of every range whose values the remote engine handed over
    raw_value = _xlremote.Range.raw_value

    def counted(rng):
        reads.append(rng.shape)
        return raw_value.fget(rng)

    monkeypatch.setattr(_xlremote.Range, "raw_value", property(counted, raw_value.fset))
    remote_book = xw.Book(json=payload)
    try:
        frame = XlwingsBook(remote_book).read_table("tblDemo")
    finally:
        remote_book.close()
    assert reads == [(rows + 1, 4)]  # header and body together, once
    assert len(frame) == rows and frame.index[-1] == 3 + rows
    assert frame["Amount"].dtype == "float64"
    assert frame["Deal"].tolist()[:5] == ["Acme", "Globex", "Initech", "Umbrella", "Acme"]
