"""udfs.convert: the cells Excel hands a UDF, as the contract's tables and plain values.

Inputs are shaped the way xlwings passes a range: a 2-D list with the header row first,
None for blank cells, floats for numbers, datetimes or Excel serial numbers for dates,
"#N/A" for error cells (``err_to_str=True``) and, for a whole-column reference, every
blank row under the data.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from funnel.inputs.issues import IssueLog
from udfs.convert import (
    FIRST_DATA_ROW,
    CellError,
    date_arg,
    number_arg,
    one_cell,
    spill_frame,
    table_frame,
    table_language,
    text_arg,
)

HISTORY_EN = [
    ["Deal ID", "Stage", "Entered"],
    ["D1", "P", dt.datetime(2025, 10, 1)],
    [1001.0, "I", 45962.0],  # an id typed as a number; 2025-11-01 as a serial number
    ["D2", "#N/A", None],
]


class TestTableFrame:
    def test_headers_become_contract_columns_and_rows_count_from_two(self):
        frame = table_frame(HISTORY_EN, "tblStageHistory", IssueLog())
        assert list(frame.columns) == ["opportunity_id", "stage", "entered"]
        assert list(frame.index) == [2, 3, 4]
        assert FIRST_DATA_ROW == 2

    def test_cells_are_handed_on_as_excel_passed_them(self):
        # Validation reads ids, serial dates and error text; convert must not pre-judge them.
        frame = table_frame(HISTORY_EN, "tblStageHistory", IssueLog())
        assert frame.loc[3, "opportunity_id"] == 1001.0
        assert frame.loc[3, "entered"] == 45962.0
        assert frame.loc[2, "entered"] == dt.datetime(2025, 10, 1)
        assert frame.loc[4, "stage"] == "#N/A"
        assert frame.loc[4, "entered"] is None or pd.isna(frame.loc[4, "entered"])

    def test_chinese_and_snake_case_headers_are_read_too(self):
        values = [["商机编号", "stage", "进入日期"], ["D1", "P", dt.datetime(2025, 10, 1)]]
        frame = table_frame(values, "tblStageHistory", IssueLog())
        assert list(frame.columns) == ["opportunity_id", "stage", "entered"]

    def test_whole_column_reference_drops_trailing_blank_rows_and_columns(self):
        # Stage history!A:E: three named columns, two blank ones, 1,000 blank rows.
        values = [row + [None, None] for row in HISTORY_EN] + [[None] * 5 for _ in range(1000)]
        values[0][4] = "   "  # a header cell holding only spaces is blank too
        frame = table_frame(values, "tblStageHistory", IssueLog())
        assert list(frame.columns) == ["opportunity_id", "stage", "entered"]
        assert list(frame.index) == [2, 3, 4]

    def test_a_blank_row_inside_the_table_keeps_the_numbering(self):
        values = [HISTORY_EN[0], HISTORY_EN[1], [None, None, None], HISTORY_EN[2]]
        frame = table_frame(values, "tblStageHistory", IssueLog())
        assert list(frame.index) == [2, 3, 4]
        assert frame.loc[4, "stage"] == "I"

    def test_unknown_headers_stay_for_validation_to_report(self):
        values = [["Deal ID", "Stage", "Entered", "Comment"], ["D1", "P", 45962.0, "x"]]
        frame = table_frame(values, "tblStageHistory", IssueLog())
        assert list(frame.columns) == ["opportunity_id", "stage", "entered", "Comment"]

    def test_a_repeated_header_is_reported_and_the_second_ignored(self):
        log = IssueLog()
        values = [["Deal ID", "Stage", "阶段", "Entered"], ["D1", "P", "I", 45962.0]]
        frame = table_frame(values, "tblStageHistory", log)
        assert frame.loc[2, "stage"] == "P"
        problems = list(log.table()["problem"])
        assert problems == ["column '阶段' repeats 'Stage'"]

    def test_header_only_table_is_empty_not_missing(self):
        frame = table_frame([HISTORY_EN[0], [None, None, None]], "tblStageHistory", IssueLog())
        assert frame is not None and frame.empty
        assert list(frame.columns) == ["opportunity_id", "stage", "entered"]

    @pytest.mark.parametrize("values", [None, [[None]], [[None, ""], [None, None]], ""])
    def test_a_left_out_or_blank_argument_is_no_table(self, values):
        assert table_frame(values, "tblStageHistory", IssueLog()) is None

    def test_a_single_row_is_a_header_row(self):
        frame = table_frame(["Deal ID", "Stage", "Entered"], "tblStageHistory", IssueLog())
        assert frame.empty and list(frame.columns) == ["opportunity_id", "stage", "entered"]

    def test_only_input_tables_are_read(self):
        with pytest.raises(CellError, match="tblSummary is not an input table"):
            table_frame(HISTORY_EN, "tblSummary", IssueLog())


class TestTableLanguage:
    def test_chinese_headers(self):
        assert table_language([["商机编号", "阶段", "金额"]], "tblOpportunities") == "zh-CN"

    def test_english_headers(self):
        assert table_language([["Deal ID", "Stage", "金额"]], "tblOpportunities") == "en"

    def test_nothing_passed_is_english(self):
        assert table_language(None, "tblOpportunities") == "en"


class TestSingleArguments:
    @pytest.mark.parametrize("value", ["P", ["P"], [["P"]]])
    def test_one_cell_unwraps_a_one_cell_range(self, value):
        assert one_cell(value, "stage") == "P"

    def test_one_cell_refuses_a_range(self):
        with pytest.raises(CellError, match="^stage: give one cell, not a range$"):
            one_cell([["P", "I"]], "stage")

    def test_one_cell_reads_nan_as_blank(self):
        assert one_cell(math.nan, "owner") is None

    @pytest.mark.parametrize(
        ("value", "expected"),
        [(7.0, "7"), ("  Li Wei ", "Li Wei"), ("ＡＢ", "AB"), ("", None), (None, None), (2.5, "2.5")],
    )
    def test_text(self, value, expected):
        assert text_arg(value, "owner") == expected

    def test_text_refuses_an_error_cell(self):
        with pytest.raises(CellError, match=r"^owner is the Excel error #N/A$"):
            text_arg("#n/a", "owner")

    @pytest.mark.parametrize(("value", "expected"), [(10.0, 10.0), ("10", 10.0), ("2,5", 2.5), (None, None)])
    def test_number(self, value, expected):
        assert number_arg(value, "prior_strength") == expected

    @pytest.mark.parametrize(
        ("value", "message"),
        [("ten", "prior_strength: 'ten' is not a number"), ("#DIV/0!", "prior_strength is the Excel error #DIV/0!")],
    )
    def test_number_refuses_text_and_errors(self, value, message):
        with pytest.raises(CellError) as err:
            number_arg(value, "prior_strength")
        assert str(err.value) == message

    @pytest.mark.parametrize(
        "value",
        # 2026-01-01 is serial 46023 (2025-01-01 = 45658, + 365); + 31 + 28 + 31 + 29 = 46142.
        [dt.datetime(2026, 4, 30), 46142.0, "2026-04-30", [[46142.0]]],
    )
    def test_date(self, value):
        assert date_arg(value, "from_date") == dt.date(2026, 4, 30)

    @pytest.mark.parametrize(
        ("value", "message"),
        [("soon", "from_date: 'soon' is not a date (use YYYY-MM-DD)"), ("#N/A", "from_date: Excel error #N/A instead of a date")],
    )
    def test_date_refuses_text_and_errors(self, value, message):
        with pytest.raises(CellError) as err:
            date_arg(value, "from_date")
        assert str(err.value) == message


class TestSpillFrame:
    def test_blanks_become_none_and_numbers_plain_python(self):
        frame = pd.DataFrame(
            {
                "segment": ["A", "B"],
                "won": np.array([1, 0], dtype="int64"),
                "win_rate": [0.5, np.nan],
                "when": [pd.Timestamp("2026-04-30"), pd.NaT],
            }
        )
        out = spill_frame(frame, ["Owner", "Won", "Win rate", "When"])
        assert list(out.columns) == ["Owner", "Won", "Win rate", "When"]
        rows = out.values.tolist()
        assert rows == [["A", 1, 0.5, dt.datetime(2026, 4, 30)], ["B", 0, None, None]]
        assert type(rows[0][1]) is int and type(rows[0][2]) is float
        assert type(rows[0][3]) is dt.datetime

    def test_an_empty_result_is_just_the_header(self):
        out = spill_frame(pd.DataFrame({"a": [], "b": []}), ["A", "B"])
        assert list(out.columns) == ["A", "B"] and out.empty

    def test_headers_must_match_the_columns(self):
        with pytest.raises(CellError, match="1 headers for 2 result columns"):
            spill_frame(pd.DataFrame({"a": [1], "b": [2]}), ["A"])
