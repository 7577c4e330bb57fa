"""The worksheet functions, called with exactly what Excel passes them.

The tables are the worked example of tests/funnel/worked_example.py, typed out the way
xlwings hands a range to a UDF: a 2-D list with the header row first, None for blank
cells, floats for every number, dates as datetimes (classic Excel) or serial numbers
(Office.js), error cells as their text ("#N/A") and, for a whole-column reference, blank
rows under the data. Every figure is worked out by hand in a comment; the engine tests
pin the same figures (tests/funnel/test_engine.py).

Worked example: scheme P 0.20 / I 0.50 / B 0.80 / W / L, prior strength 10.

    deal  stage  amount  owner team  close       history
    D1    W      100     A     T1    2026-01-15  P I B W
    D2    L       50     A     T1    2026-02-10  P I L
    D3    L       80     B     T2    2026-03-01  P L
    D4    I      200     B     T2    2026-05-20  P I
    D5    B      300     A     T1    2026-06-30  P I B        override 0.9
    D6    P       40     B     T2    (none)      P

Reached (furthest open stage): D1 B (won), D2 I, D3 P. So closed deals reaching P: 3
(1 won), I: 2 (1 won), B: 1 (1 won).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import funnel.analysis as analysis_module
import udfs.functions as udf_module
from funnel.analysis import run
from funnel.demo.data import demo_tables
from funnel.forecast.ranges import range_forecast
from funnel.forecast.winrates import wilson_interval
from funnel.methods.competition import head_to_head
from funnel.winmodel.model import fit_win_model, score_deals
from tests.support.udf_cells import demo_calls, demo_cells, with_blank_rows
from udfs.functions import (
    FUNNEL_COMPARISON_TABLE,
    FUNNEL_CONCESSION_PLAN,
    FUNNEL_DEAL_WIN_PROBABILITY,
    FUNNEL_DELIVERED_VALUE,
    FUNNEL_FLOW_TOTAL,
    FUNNEL_FORECAST_ACCURACY,
    FUNNEL_FORECAST_RANGE,
    FUNNEL_HEAD_TO_HEAD,
    FUNNEL_LIFETIME_VALUE,
    FUNNEL_MAN_GATE,
    FUNNEL_QUALIFICATION_SCORE,
    FUNNEL_STAGE_PROBABILITY,
    FUNNEL_URGENCY,
    FUNNEL_WEIGHTED_PIPELINE,
    FUNNEL_WIN_RATE,
    UDF_PREFIX,
)
from workbook.layout import INPUTS

REPO = Path(__file__).resolve().parents[2]
UDFS = [
    FUNNEL_STAGE_PROBABILITY,
    FUNNEL_WEIGHTED_PIPELINE,
    FUNNEL_WIN_RATE,
    FUNNEL_DEAL_WIN_PROBABILITY,
    FUNNEL_FORECAST_RANGE,
    FUNNEL_CONCESSION_PLAN,
    FUNNEL_LIFETIME_VALUE,
    FUNNEL_DELIVERED_VALUE,
    FUNNEL_QUALIFICATION_SCORE,
    FUNNEL_MAN_GATE,
    FUNNEL_URGENCY,
    FUNNEL_COMPARISON_TABLE,
    FUNNEL_HEAD_TO_HEAD,
    FUNNEL_FLOW_TOTAL,
    FUNNEL_FORECAST_ACCURACY,
]

# Excel serial numbers (days since 1899-12-30): 2025-01-01 is 45658, 2026-01-01 is 46023.
SERIAL_2025_10_20 = 45950.0  # 45658 + 292 (day 293 of 2025)
SERIAL_2026_02_10 = 46063.0  # 46023 + 31 + 9
SERIAL_2026_05_20 = 46162.0  # 46023 + 31 + 28 + 31 + 30 + 19
SERIAL_2026_05_01 = 46143.0  # 46023 + 31 + 28 + 31 + 30
SERIAL_2025_11_01 = 45962.0  # 45658 + 304
SERIAL_2025_12_01 = 45992.0  # 45962 + 30
SERIAL_2026_03_01 = 46082.0  # 46023 + 31 + 28


def _d(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


OPPORTUNITIES = with_blank_rows(
    [
        ["Deal ID", "Account", "Stage", "Amount", "Owner", "Team", "Created", "Close date",
         "Probability override", "Source", "Competitors"],
        ["D1", "Huaxin", "W", 100.0, "A", "T1", _d("2025-09-20"), _d("2026-01-15"), None, "Referral", "Huikang"],
        ["D2", None, "L", 50.0, "A", "T1", SERIAL_2025_10_20, SERIAL_2026_02_10, None, "Website", "Huikang;Dingjie"],
        # Error cells in columns no figure needs: reported by validation, figures unchanged.
        ["D3", "#N/A", "L", 80.0, "B", "T2", _d("2025-11-20"), _d("2026-03-01"), None, "Website", "#N/A"],
        ["D4", None, "I", 200.0, "B", "T2", _d("2025-12-20"), SERIAL_2026_05_20, None, "Referral", None],
        ["D5", None, "B", 300.0, "A", "T1", _d("2026-01-05"), _d("2026-06-30"), 0.9, "Partner", "Dingjie"],
        ["D6", None, "P", 40.0, "B", "T2", _d("2026-03-25"), None, None, "Website", None],
    ]
)

STAGES = [
    ["Code", "Stage", "Order", "Probability", "Forecast category", "Won?", "Lost?", "Enters when"],
    ["P", "Prospect", 1.0, 0.2, "Pipeline", "no", "no", None],
    ["I", "In evaluation", 2.0, 0.5, "Best Case", "no", "no", None],
    ["B", "Business negotiation", 3.0, 0.8, "Commit", "no", "no", None],
    ["W", "Won", 4.0, 1.0, "Closed", True, False, None],  # TRUE/FALSE cells arrive as bools
    ["L", "Lost", 5.0, 0.0, "Omitted", "no", "yes", None],
]

HISTORY = with_blank_rows(
    [
        ["Deal ID", "Stage", "Entered"],
        ["D1", "P", _d("2025-10-01")], ["D1", "I", SERIAL_2025_11_01], ["D1", "B", SERIAL_2025_12_01],
        ["D1", "W", _d("2026-01-15")],
        ["D2", "P", SERIAL_2025_11_01], ["D2", "I", _d("2025-12-01")], ["D2", "L", _d("2026-02-10")],
        ["D3", "P", _d("2025-12-01")], ["D3", "L", SERIAL_2026_03_01],
        ["D4", "P", _d("2026-01-01")], ["D4", "I", _d("2026-03-01")],
        ["D5", "P", _d("2026-01-10")], ["D5", "I", _d("2026-02-01")], ["D5", "B", _d("2026-04-01")],
        ["D6", "P", _d("2026-04-01")],
    ]
)

SETTINGS = with_blank_rows(
    [
        ["Setting", "Value", "What it does"],
        ["as_of", _d("2026-04-30"), "the day the figures are as of"],
        ["period", "quarter", None],
        ["prior_strength", 10.0, None],
        ["probability_method", "blended", None],
    ]
)


def translated(rows: list[list], table_name: str) -> list[list]:
    """The same table with its header row in Chinese."""
    zh = {col.en: col.zh for col in INPUTS[table_name].columns}
    return [[zh.get(cell, cell) for cell in rows[0]], *rows[1:]]


def settings_with(**values) -> list[list]:
    """The Settings table with some values changed."""
    rows = [list(row) for row in SETTINGS]
    for row in rows:
        if row[0] in values:
            row[1] = values[row[0]]
    return rows


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test validates its own tables (the UDFs keep recent tables between calls)."""
    udf_module._ANALYSES.clear()
    yield
    udf_module._ANALYSES.clear()


class TestStageProbability:
    @pytest.mark.parametrize(
        ("stage", "expected"),
        [
            ("P", 3 / 13),  # (1 won + 10 x 0.2) / (3 closed + 10)
            ("I", 0.5),  # (1 + 10 x 0.5) / (2 + 10) = 6/12
            ("B", 9 / 11),  # (1 + 10 x 0.8) / (1 + 10)
            ("W", 1.0),  # a won stage is certain
            ("L", 0.0),  # a lost stage is impossible
        ],
    )
    def test_blended_from_the_workbook_settings(self, stage, expected):
        got = FUNNEL_STAGE_PROBABILITY(stage, STAGES, OPPORTUNITIES, HISTORY, None, None, SETTINGS)
        assert got == pytest.approx(expected)

    @pytest.mark.parametrize(
        ("method", "expected"),
        [
            ("configured", 0.2),
            ("empirical", 1 / 3),  # 1 won of the 3 closed deals that reached P
            ("Empirical", 1 / 3),
            ("历史概率", 1 / 3),  # the Stages sheet's Chinese header for empirical
            ("blended", 3 / 13),
        ],
    )
    def test_a_given_method(self, method, expected):
        got = FUNNEL_STAGE_PROBABILITY("P", STAGES, OPPORTUNITIES, HISTORY, method)
        assert got == pytest.approx(expected)

    def test_the_given_method_beats_the_settings_table(self):
        settings = settings_with(probability_method="configured")
        assert FUNNEL_STAGE_PROBABILITY("P", STAGES, OPPORTUNITIES, HISTORY, None, None, settings) == 0.2
        got = FUNNEL_STAGE_PROBABILITY("P", STAGES, OPPORTUNITIES, HISTORY, "empirical", None, settings)
        assert got == pytest.approx(1 / 3)

    @pytest.mark.parametrize(
        ("strength", "expected"),
        [
            (0.0, 1 / 3),  # (1 + 0) / (3 + 0): the empirical rate
            (2.0, 0.28),  # (1 + 2 x 0.2) / (3 + 2) = 1.4 / 5
            ("2", 0.28),  # typed as text
        ],
    )
    def test_prior_strength(self, strength, expected):
        got = FUNNEL_STAGE_PROBABILITY("P", STAGES, OPPORTUNITIES, HISTORY, "blended", strength)
        assert got == pytest.approx(expected)

    def test_without_deals_blended_is_the_configured_probability(self):
        # No closed deal: (0 + 10 x 0.2) / (0 + 10).
        assert FUNNEL_STAGE_PROBABILITY("P", STAGES) == pytest.approx(0.2)

    def test_without_history_lost_deals_only_reached_the_first_stage(self):
        # D2 and D3 count as lost at P, so only D1 reached I: (1 + 10 x 0.5) / (1 + 10).
        assert FUNNEL_STAGE_PROBABILITY("I", STAGES, OPPORTUNITIES) == pytest.approx(6 / 11)

    @pytest.mark.parametrize("stage", ["b", " B ", "Ｂ", [["B"]]])
    def test_stage_codes_are_read_like_the_opportunities_table_reads_them(self, stage):
        got = FUNNEL_STAGE_PROBABILITY(stage, STAGES, OPPORTUNITIES, HISTORY)
        assert got == pytest.approx(9 / 11)

    def test_chinese_headers(self):
        got = FUNNEL_STAGE_PROBABILITY(
            "P", translated(STAGES, "tblStages"), translated(OPPORTUNITIES, "tblOpportunities"),
            translated(HISTORY, "tblStageHistory"),
        )
        assert got == pytest.approx(3 / 13)

    @pytest.mark.parametrize(
        ("stage", "message"),
        [
            ("Z", "unknown stage 'Z' (known: P, I, B, W, L)"),
            (None, "stage is blank"),
            ("#N/A", "stage is the Excel error #N/A"),
            ([["P", "I"]], "stage: give one cell, not a range"),
        ],
    )
    def test_bad_stage(self, stage, message):
        assert FUNNEL_STAGE_PROBABILITY(stage, STAGES, OPPORTUNITIES, HISTORY) == message

    def test_bad_method_and_strength_in_the_settings_check_words(self):
        got = FUNNEL_STAGE_PROBABILITY("P", STAGES, None, None, "gut feeling")
        assert got == "setting 'probability_method': Input should be 'configured', 'empirical' or 'blended'"
        got = FUNNEL_STAGE_PROBABILITY("P", STAGES, None, None, None, -1.0)
        assert got == "setting 'prior_strength': Input should be greater than or equal to 0"

    def test_stages_table_needed(self):
        blank = [[None] * 8 for _ in range(4)]
        assert FUNNEL_STAGE_PROBABILITY("P", blank) == (
            "stages: the range is blank; select the table with its header row"
        )
        assert FUNNEL_STAGE_PROBABILITY("P", STAGES[:1]) == "stages: the stages table is empty"


class TestWeightedPipeline:
    @pytest.mark.parametrize(
        "period",
        ["2026-Q2", "2026Q2", "Q2 2026", _d("2026-05-01"), SERIAL_2026_05_01, [["2026-Q2"]]],
    )
    def test_a_quarter_however_it_is_written(self, period):
        # D4 in I: 200 x 0.5 = 100; D5 in B with override 0.9: 300 x 0.9 = 270. 100 + 270.
        got = FUNNEL_WEIGHTED_PIPELINE(OPPORTUNITIES, STAGES, period, None, None, SETTINGS, HISTORY)
        assert got == pytest.approx(370.0)

    @pytest.mark.parametrize(
        ("owner", "team", "expected"),
        [
            ("A", None, 270.0),  # D5 only
            ("a", None, 270.0),  # names match whatever the case
            ("B", None, 100.0),  # D4 only
            (None, "T2", 100.0),  # D4 (D6 has no close date)
            ("A", "T1", 270.0),
            ("A", "T2", 0.0),  # both exist, but no deal of A's is in T2
        ],
    )
    def test_one_owner_or_team(self, owner, team, expected):
        got = FUNNEL_WEIGHTED_PIPELINE(OPPORTUNITIES, STAGES, "2026-Q2", owner, team, SETTINGS, HISTORY)
        assert got == pytest.approx(expected)

    def test_a_period_with_only_closed_deals_is_zero(self):
        # 2026-Q1: D1 won, D2 and D3 lost; closed deals carry no weight.
        assert FUNNEL_WEIGHTED_PIPELINE(OPPORTUNITIES, STAGES, "2026-Q1", None, None, SETTINGS, HISTORY) == 0.0

    def test_deals_without_a_close_date(self):
        # D6 in P: 40 x 3/13.
        got = FUNNEL_WEIGHTED_PIPELINE(OPPORTUNITIES, STAGES, "no close date", None, None, SETTINGS, HISTORY)
        assert got == pytest.approx(40 * 3 / 13)

    def test_monthly_settings(self):
        # By month, 2026-05 holds D4 only: 200 x 0.5.
        got = FUNNEL_WEIGHTED_PIPELINE(OPPORTUNITIES, STAGES, "2026-05", None, None, settings_with(period="month"), HISTORY)
        assert got == pytest.approx(100.0)

    def test_without_history(self):
        # I blended becomes 6/11 (see TestStageProbability): 200 x 6/11 + 270.
        got = FUNNEL_WEIGHTED_PIPELINE(OPPORTUNITIES, STAGES, "2026-Q2")
        assert got == pytest.approx(200 * 6 / 11 + 270)

    def test_rows_the_refresh_leaves_out_are_left_out_here_too(self):
        rows = [list(row) for row in OPPORTUNITIES]
        rows[4][2] = "Z"  # D4 (sheet row 5) gets a stage the scheme does not have
        got = FUNNEL_WEIGHTED_PIPELINE(rows, STAGES, "2026-Q2", None, None, SETTINGS, HISTORY)
        assert got == pytest.approx(270.0)

    @pytest.mark.parametrize(
        ("period", "owner", "message"),
        [
            ("2026-05", None, "period '2026-05' is a month but the workbook forecasts by quarter"),
            ("next quarter", None, "period 'next quarter' cannot be read (write it like 2026-Q1)"),
            (None, None, "period is blank (write it like 2026-Q2)"),
            ("#N/A", None, "period is the Excel error #N/A"),
            ("2026-Q2", "Zed", "no deal has owner 'Zed'"),
        ],
    )
    def test_bad_arguments(self, period, owner, message):
        assert FUNNEL_WEIGHTED_PIPELINE(OPPORTUNITIES, STAGES, period, owner, None, SETTINGS, HISTORY) == message

    def test_a_missing_required_column_is_named(self):
        without_stage = [[cell for i, cell in enumerate(row) if i != 2] for row in OPPORTUNITIES]
        got = FUNNEL_WEIGHTED_PIPELINE(without_stage, STAGES, "2026-Q2")
        assert got == ("tblOpportunities has no column Stage: add it back (or undo the deletion), "
                       "or map a header to it in Settings (column_names: Stage=that header)")

    def test_a_table_without_its_header_row_says_so(self):
        # =FUNNEL_WEIGHTED_PIPELINE(tblOpportunities, ...): Excel passes the data rows only.
        got = FUNNEL_WEIGHTED_PIPELINE(OPPORTUNITIES[1:], STAGES, "2026-Q2")
        assert got == (
            "opportunities: no known header in the first row; pass the table with its header row, "
            "e.g. tblOpportunities[#All]"
        )

    def test_opportunities_needed(self):
        got = FUNNEL_WEIGHTED_PIPELINE(None, STAGES, "2026-Q2")
        assert got == "opportunities: the range is blank; select the table with its header row"


class TestWinRate:
    def test_overall(self):
        # D1 won; D2 and D3 lost: 1 / 3.
        assert FUNNEL_WIN_RATE(OPPORTUNITIES, STAGES) == pytest.approx(1 / 3)

    @pytest.mark.parametrize(
        ("start", "end", "expected"),
        [
            ("2026-02-01", "2026-03-31", 0.0),  # D2 (02-10) and D3 (03-01), both lost
            (_d("2026-01-01"), _d("2026-01-31"), 1.0),  # D1 (01-15), won
            (46023.0, None, 1 / 3),  # serial for 2026-01-01: every closed deal
            (None, SERIAL_2026_02_10, 0.5),  # D1 won, D2 lost: the end day counts
        ],
    )
    def test_close_date_range(self, start, end, expected):
        assert FUNNEL_WIN_RATE(OPPORTUNITIES, STAGES, start, end) == pytest.approx(expected)

    def test_by_owner_spills_a_table_with_its_header(self):
        table = FUNNEL_WIN_RATE(OPPORTUNITIES, STAGES, None, None, "Owner")
        assert list(table.columns) == [
            "Owner", "Won", "Lost", "Closed", "Win rate", "95% low", "95% high", "Won amount", "Lost amount",
        ]
        # Wilson 95% for 1 of 2, z = 1.95996: denominator 1 + z^2/2 = 2.92073, centre
        # (0.5 + z^2/4) / 2.92073 = 0.5, half-width z x sqrt(0.125 + z^2/16) / 2.92073
        # = 0.405469, so 0.094531..0.905469. For 0 of 1: 0 .. z^2 / (1 + z^2) = 0.793451.
        a, b = table.values.tolist()
        assert a[:5] == ["A", 1, 1, 2, 0.5] and a[7:] == [100.0, 50.0]
        assert a[5:7] == [pytest.approx(0.094531, abs=1e-6), pytest.approx(0.905469, abs=1e-6)]
        assert b[:5] == ["B", 0, 1, 1, 0.0] and b[7:] == [0.0, 80.0]
        assert b[5:7] == [0.0, pytest.approx(0.793451, abs=1e-6)]

    def test_by_period_says_which_period_is_in_progress(self):
        # All three closed deals close in 2026-Q1: over as of 2026-04-30, in progress as of 2026-02-20.
        table = FUNNEL_WIN_RATE(OPPORTUNITIES, STAGES, None, None, "Period", SETTINGS)
        assert list(table.columns)[-1] == "Status" and table.values.tolist()[0][:5] == ["2026-Q1", 1, 2, 3, pytest.approx(1 / 3)]
        assert table["Status"].tolist() == [""]
        early = [row if row[0] != "as_of" else ["as_of", _d("2026-02-20"), row[2]] for row in SETTINGS]
        assert FUNNEL_WIN_RATE(OPPORTUNITIES, STAGES, None, None, "Period", early)["Status"].tolist() == ["in progress"]

    def test_spilled_cells_are_plain_python(self):
        table = FUNNEL_WIN_RATE(OPPORTUNITIES, STAGES, None, None, "Owner")
        kinds = {type(cell) for row in table.values.tolist() for cell in row}
        assert kinds <= {str, int, float}

    def test_by_competitor_present(self):
        # D1 (Huikang, won) and D2 (Huikang;Dingjie, lost) met a competitor; D3's cell is #N/A.
        table = FUNNEL_WIN_RATE(OPPORTUNITIES, STAGES, None, None, "competitor present")
        rows = {row[0]: row[1:4] for row in table.values.tolist()}
        assert rows == {"no": [0, 1, 1], "yes": [1, 1, 2]}

    def test_by_period_within_a_range(self):
        table = FUNNEL_WIN_RATE(OPPORTUNITIES, STAGES, "2026-01-01", "2026-02-28", "Period", SETTINGS)
        assert table.values.tolist()[0][:5] == ["2026-Q1", 1, 1, 2, 0.5]

    def test_chinese_headers_spill_chinese_headers(self):
        table = FUNNEL_WIN_RATE(translated(OPPORTUNITIES, "tblOpportunities"), translated(STAGES, "tblStages"),
                                None, None, "负责人")
        assert list(table.columns) == ["负责人", "赢", "丢", "已关闭", "赢率", "95%下限", "95%上限", "赢单金额", "丢单金额"]
        assert table.values.tolist()[0][:5] == ["A", 1, 1, 2, 0.5]

    def test_wilson_figures_are_the_engines(self):
        table = FUNNEL_WIN_RATE(OPPORTUNITIES, STAGES, None, None, "Team")
        low, high = wilson_interval([1, 0], [2, 1])
        assert [row[5] for row in table.values.tolist()] == pytest.approx(list(low))
        assert [row[6] for row in table.values.tolist()] == pytest.approx(list(high))

    @pytest.mark.parametrize(
        ("start", "end", "segment", "message"),
        [
            ("2027-01-01", None, None, "no won or lost deal closes from 2027-01-01"),
            ("2026-03-02", "2026-03-31", None, "no won or lost deal closes between 2026-03-02 and 2026-03-31"),
            ("2026-03-31", "2026-01-01", None, "from_date 2026-03-31 is after to_date 2026-01-01"),
            ("someday", None, None, "from_date: 'someday' is not a date (use YYYY-MM-DD)"),
            (None, None, "Mood", "cannot split win rates by 'Mood' (use Owner, Team, Source, Product, Industry, "
                                 "Period, Amount band or Competitor present)"),
        ],
    )
    def test_bad_arguments(self, start, end, segment, message):
        assert FUNNEL_WIN_RATE(OPPORTUNITIES, STAGES, start, end, segment) == message


class TestForecastRange:
    def test_a_period_spills_p10_p50_p90_under_a_header(self):
        table = FUNNEL_FORECAST_RANGE(OPPORTUNITIES, STAGES, "2026-Q2", None, None, SETTINGS, HISTORY)
        assert list(table.columns) == ["P10", "P50", "P90"]
        # D4 200 at 0.5, D5 300 at 0.9, nothing won yet. Outcomes 0 (0.5 x 0.1 = 0.05),
        # 200 (0.05), 300 (0.45), 500 (0.45); cumulative 0.05, 0.10, 0.55, 1.
        assert table.values.tolist() == [[200.0, 300.0, 500.0]]

    @pytest.mark.parametrize(
        ("period", "owner", "expected"),
        [
            ("2026-Q2", "A", [0.0, 300.0, 300.0]),  # D5 only: 0 with 0.1, 300 with 0.9
            ("2026-Q1", None, [100.0, 100.0, 100.0]),  # D1 won 100, nothing open: a point
            ("no close date", None, [0.0, 0.0, 40.0]),  # D6 40 at 3/13: 0 with 10/13 = 0.77
            ("2027-Q1", None, [0.0, 0.0, 0.0]),  # no deal at all
        ],
    )
    def test_other_periods_and_owners(self, period, owner, expected):
        table = FUNNEL_FORECAST_RANGE(OPPORTUNITIES, STAGES, period, owner, None, SETTINGS, HISTORY)
        assert table.values.tolist() == [expected]

    def test_bad_period(self):
        got = FUNNEL_FORECAST_RANGE(OPPORTUNITIES, STAGES, "soon", None, None, SETTINGS, HISTORY)
        assert got == "period 'soon' cannot be read (write it like 2026-Q1)"


class TestDealWinProbability:
    """The per-deal model on the book hand-counted in tests/funnel/test_winmodel.py.

    Six closed deals (C1-C3 won, C4-C6 lost), four open; only the stage reached, the
    owner and the competitor Huikang differ. Laplace smoothing (a = 1), facts counted over
    all closed deals. Stage odds: P (3+1)/(3+1) = 1, I (3+1)/(1+1) = 2, B (3+1)/(0+1) = 4.
    Owner A: won 2 of 3, lost 1 of 3 -> (3/5) / (2/5) = 3/2; B the reverse, 2/3.
    Huikang present: won 1 of 3, lost 2 of 3 -> 2/3; absent 3/2.
    O1 (P, owner A, no Huikang)  1 x 3/2 x 3/2 = 9/4   -> 9/13
    O2 (I, owner B, Huikang)     2 x 2/3 x 2/3 = 8/9   -> 8/17
    O3 (B, owner A, no Huikang)  4 x 3/2 x 3/2 = 9     -> 9/10
    O4 (P, owner C, Huikang)     1 x 1 x 2/3 = 2/3     -> 2/5 (C never closed a deal)
    """

    OPPORTUNITIES = [
        ["Deal ID", "Stage", "Owner", "Competitors", "Amount", "Close date"],
        *[
            [deal, stage, owner, competitors, 100.0, _d("2026-06-30")]
            for deal, stage, owner, competitors in (
                ("C1", "W", "A", "Huikang"), ("C2", "W", "A", None), ("C3", "W", "B", None),
                ("C4", "L", "A", "Huikang"), ("C5", "L", "B", "huikang "), ("C6", "L", "B", None),
                ("O1", "P", "A", None), ("O2", "I", "B", "Huikang"), ("O3", "B", "A", None),
                ("O4", "P", "C", "Huikang"),
            )
        ],
    ]
    HISTORY = [["Deal ID", "Stage", "Entered"], ["C4", "P", 46023.0], ["C4", "I", 46054.0], ["C4", "L", 46082.0]]
    SETTINGS = [["Setting", "Value"], ["as_of", _d("2026-04-30")], ["model_min_closed", 5.0]]

    @pytest.mark.parametrize(
        ("deal", "expected"), [("O1", 9 / 13), ("O2", 8 / 17), ("O3", 9 / 10), ("O4", 2 / 5), ([["o1 "]], 9 / 13)],
    )
    def test_learned_from_closed_deals(self, deal, expected):
        got = FUNNEL_DEAL_WIN_PROBABILITY(deal, self.OPPORTUNITIES, STAGES, self.HISTORY, self.SETTINGS)
        if isinstance(deal, list):
            # Ids are matched as written: "o1 " is stripped but not upper-cased.
            assert got == "no deal with id 'o1'"
        else:
            assert got == pytest.approx(expected)

    def test_too_few_closed_deals_for_the_model(self):
        # 6 closed < 20 (the default minimum): O1's stage probability, P blended:
        # all 6 closed deals reached P, 3 won: (3 + 10 x 0.2) / (6 + 10) = 5/16.
        got = FUNNEL_DEAL_WIN_PROBABILITY("O1", self.OPPORTUNITIES, STAGES, self.HISTORY)
        assert got == pytest.approx(5 / 16)

    def test_weighted_pipeline_follows_the_forecast_method(self):
        settings = self.SETTINGS + [["forecast_method", "model"]]
        got = FUNNEL_WEIGHTED_PIPELINE(self.OPPORTUNITIES, STAGES, "2026-Q2", None, None, settings, self.HISTORY)
        # Each open deal is 100: 100 x (9/13 + 8/17 + 9/10 + 2/5).
        assert got == pytest.approx(100 * (9 / 13 + 8 / 17 + 9 / 10 + 2 / 5))
        got = FUNNEL_WEIGHTED_PIPELINE(self.OPPORTUNITIES, STAGES, "2026-Q2", None, None, self.SETTINGS, self.HISTORY)
        # Stage method (blended, k = 10): P 5/16 twice; I 3 won of 4 closed reaching it,
        # (3 + 5) / 14 = 4/7; B 3 of 3, (3 + 8) / 13 = 11/13.
        assert got == pytest.approx(100 * (5 / 16 + 5 / 16 + 4 / 7 + 11 / 13))

    @pytest.mark.parametrize(
        ("deal", "message"),
        [
            ("C1", "deal 'C1' is closed (won)"),
            ("C5", "deal 'C5' is closed (lost)"),
            ("X9", "no deal with id 'X9'"),
            (None, "deal_id is blank"),
            ("#N/A", "deal_id is the Excel error #N/A"),
        ],
    )
    def test_bad_deal(self, deal, message):
        assert FUNNEL_DEAL_WIN_PROBABILITY(deal, self.OPPORTUNITIES, STAGES, self.HISTORY, self.SETTINGS) == message

    def test_an_id_typed_as_a_number(self):
        rows = [list(row) for row in self.OPPORTUNITIES]
        rows[7][0] = 1007.0  # O1's id is the number 1007: Excel passes 1007.0
        assert FUNNEL_DEAL_WIN_PROBABILITY(1007.0, rows, STAGES, self.HISTORY, self.SETTINGS) == pytest.approx(9 / 13)


class TestNegotiation:
    """The course's example: a quote of 120 (million) against a floor of 110."""

    def test_shrinking_steps_are_the_default(self):
        table = FUNNEL_CONCESSION_PLAN(120.0, 110.0)
        assert list(table.columns) == [
            "Step", "Concession", "Conceded so far", "Price after", "Share of room", "What the course says",
        ]
        # Room 10 in steps proportional to 4, 3, 2, 1 (of 10): 4, 3, 2, 1.
        rows = table.values.tolist()
        assert [row[:5] for row in rows] == [
            [1, 4.0, 4.0, 116.0, 0.4], [2, 3.0, 7.0, 113.0, 0.3], [3, 2.0, 9.0, 111.0, 0.2], [4, 1.0, 10.0, 110.0, 0.1],
        ]
        assert rows[0][5].startswith("Recommended: big first") and [row[5] for row in rows[1:]] == [None] * 3

    def test_growing_steps_in_chinese_carry_the_courses_warning(self):
        table = FUNNEL_CONCESSION_PLAN(120.0, 110.0, 4.0, "递增", None, "中文")
        assert list(table.columns) == ["步骤", "让步", "累计让步", "让步后价格", "占让步空间", "课程提示"]
        # 1, 2, 3, 4 of 10.
        assert [row[1] for row in table.values.tolist()] == [1.0, 2.0, 3.0, 4.0]
        assert table.values.tolist()[0][5].startswith("让步由小到大")

    @pytest.mark.parametrize(
        ("steps", "pattern", "expected"),
        [(5.0, "equal", [2.0] * 5), (4.0, "single", [10.0]), ("3", "Shrinking", [5.0, 10 / 3, 5 / 3])],
    )
    def test_other_patterns(self, steps, pattern, expected):
        table = FUNNEL_CONCESSION_PLAN(120.0, 110.0, steps, pattern)
        assert [row[1] for row in table.values.tolist()] == pytest.approx(expected)

    def test_rounded_prices_still_add_up_to_the_room(self):
        # Room 10,000 over 3, 2, 1 sixths: running totals 5,000, 8,333.33, 10,000,
        # rounded to thousands 5,000, 8,000, 10,000 -> steps 5,000, 3,000, 2,000.
        table = FUNNEL_CONCESSION_PLAN(120000.0, 110000.0, 3.0, None, 1000.0)
        assert [row[1:4] for row in table.values.tolist()] == [
            [5000.0, 5000.0, 115000.0], [3000.0, 8000.0, 112000.0], [2000.0, 10000.0, 110000.0],
        ]

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            ((110.0, 120.0), "the floor price 120 is above the quote 110: there is no room to concede"),
            ((120.0, 110.0, 2.5), "steps must be a whole number of at least 1, not 2.5"),
            ((120.0, 110.0, None, "zigzag"), "unknown concession pattern 'zigzag' (use shrinking, equal, growing, single)"),
            ((120.0, 110.0, None, None, None, "fr"), "unknown language 'fr' (use en or zh-CN)"),
            ((None, 110.0), "quote is blank"),
            (("#N/A", 110.0), "quote is the Excel error #N/A"),
        ],
    )
    def test_bad_plans(self, args, message):
        assert FUNNEL_CONCESSION_PLAN(*args) == message

    def test_lifetime_value(self):
        assert FUNNEL_LIFETIME_VALUE(5.0, 200000.0) == 1000000.0  # 5 purchases x 200,000
        assert FUNNEL_LIFETIME_VALUE("2.5", "1,000") == 2500.0
        assert FUNNEL_LIFETIME_VALUE(-1.0, 2.0) == "expected_purchases cannot be negative (-1)"
        assert FUNNEL_LIFETIME_VALUE(None, 2.0) == "expected_purchases is blank"

    def test_delivered_value(self):
        assert FUNNEL_DELIVERED_VALUE(900.0, 700.0) == 200.0
        assert FUNNEL_DELIVERED_VALUE(700.0, 900.0) == -200.0  # the customer pays more than it gets
        assert FUNNEL_DELIVERED_VALUE("9x", 900.0) == "total_value: '9x' is not a number"


class TestQualification:
    """Yes/no cells as people fill them: yes/no, 是, x, TRUE/FALSE, blanks (no)."""

    QUESTIONS = [
        ["Deal ID", "Stage", "Amount", "Why a new system? (W)", "Budget planned? (P)", "Who decides? (W)",
         "Decision process? (W)", "Decision criteria? (W)", "Timetable? (P)", "Competitors known? (W)",
         "Why us? (W)", "MAN: Money", "MAN: Authority", "MAN: Need"],
        ["Q1", "P", 100.0, "yes", "yes", "yes", "no", None, "是", "x", "yes", "yes", "yes", "yes"],
        ["Q2", "I", 100.0, True, False, None, None, None, None, None, None, "yes", "no", "yes"],
        ["Q3", "Z", 100.0, "yes", *[None] * 10],
        [1001.0, "B", 100.0, *["no"] * 11],
    ]

    @pytest.mark.parametrize(
        ("deal", "questions", "expected"),
        [
            # Q1 answers why-need, budget, who-decides, timetable, competitors, why-us:
            ("Q1", None, 6 / 8),  # of the eight 6W+2P questions
            ("Q1", "5W+2P", 5 / 7),  # why-us is not one of the seven
            ("Q2", "6w2p", 1 / 8),  # only TRUE in why-need
            (1001.0, None, 0.0),  # an id typed as a number; every answer no
        ],
    )
    def test_share_of_questions_answered(self, deal, questions, expected):
        assert FUNNEL_QUALIFICATION_SCORE(deal, self.QUESTIONS, None, questions) == pytest.approx(expected)

    @pytest.mark.parametrize(("deal", "expected"), [("Q1", True), ("Q2", False), (1001.0, False)])
    def test_man_gate(self, deal, expected):
        assert FUNNEL_MAN_GATE(deal, self.QUESTIONS) is expected

    def test_a_deal_validation_left_out_says_why(self):
        expected = "deal 'Q3' (row 4) is left out: unknown stage 'Z' (known: P, I, B, W, L)"
        assert FUNNEL_QUALIFICATION_SCORE("Q3", self.QUESTIONS) == expected
        assert FUNNEL_MAN_GATE("Q3", self.QUESTIONS) == expected

    def test_the_users_stage_scheme(self):
        # With a scheme that has stage Z, Q3 is read: one answer of eight.
        stages = [*STAGES, ["Z", "Zone", 6.0, 0.1, "Pipeline", "no", "no", None]]
        assert FUNNEL_QUALIFICATION_SCORE("Q3", self.QUESTIONS, stages) == pytest.approx(1 / 8)

    def test_bad_arguments(self):
        assert FUNNEL_QUALIFICATION_SCORE("Q1", self.QUESTIONS, None, "7") == "questions: '7' is neither 6W+2P nor 5W+2P"
        assert FUNNEL_MAN_GATE("Q9", self.QUESTIONS) == "no deal with id 'Q9'"

    @pytest.mark.parametrize(
        ("close", "language", "expected"),
        [
            (_d("2026-05-30"), None, "eager (within 1 month)"),  # on or before 2026-05-30
            (_d("2026-05-31"), None, "hopeful (within 2 months)"),
            (SERIAL_2026_05_20 + 10, "zh-CN", "渴望型(1个月内)"),  # 2026-05-30 as a serial
            ("2026-07-30", None, "watching (within 3 months)"),
            ("2026-07-31", None, "later (beyond 3 months)"),
            ("2026-04-29", None, "overdue (close date passed)"),
            (None, None, "no close date"),
        ],
    )
    def test_urgency_from_the_close_date(self, close, language, expected):
        assert FUNNEL_URGENCY(close, _d("2026-04-30"), language) == expected

    def test_urgency_counts_from_today_by_default(self):
        assert FUNNEL_URGENCY(dt.date.today() + dt.timedelta(days=1)) == "eager (within 1 month)"
        assert FUNNEL_URGENCY(dt.date.today() - dt.timedelta(days=1)) == "overdue (close date passed)"


class TestCompetition:
    COMPARISON = with_blank_rows(
        [
            ["Deal ID", "Decision factor", "Weight", "Us", "Huikang", "Dingjie"],
            [None, "Price", 0.5, 4.0, 5.0, 3.0],
            [None, "Service", 0.3, 5.0, 3.0, 4.0],
            [None, "Brand", 0.2, 3.0, 4.0, None],  # Dingjie not scored on brand
            ["D5", "Price", 60.0, 4.0, 2.0, None],  # weights typed as percentages
            ["D5", "Service", 40.0, 2.0, 5.0, None],
        ]
    )

    def test_general_comparison(self):
        table = FUNNEL_COMPARISON_TABLE(self.COMPARISON)
        assert list(table.columns) == ["Vendor", "Weighted total", "Rank", "Tied", "Weight scored", "Gap to us"]
        # Us 0.5 x 4 + 0.3 x 5 + 0.2 x 3 = 4.1; Huikang 2.5 + 0.9 + 0.8 = 4.2;
        # Dingjie over the 0.8 of weight it was scored on: (1.5 + 1.2) / 0.8 = 3.375.
        rows = table.values.tolist()
        assert [row[0] for row in rows] == ["Huikang", "Us", "Dingjie"]
        assert [row[1] for row in rows] == pytest.approx([4.2, 4.1, 3.375])
        assert [row[2:4] for row in rows] == [[1, False], [2, False], [3, False]]
        assert [row[4] for row in rows] == pytest.approx([1.0, 1.0, 0.8])
        assert [row[5] for row in rows] == pytest.approx([0.1, 0.0, -0.725])

    def test_a_deals_comparison_with_a_tie(self):
        # Weights 60/40 become 0.6/0.4: Us 2.4 + 0.8 = 3.2, Huikang 1.2 + 2.0 = 3.2: tied,
        # ranked in column order. Dingjie has no score here, so is not part of it.
        rows = FUNNEL_COMPARISON_TABLE(self.COMPARISON, "D5").values.tolist()
        assert [(row[0], row[2], row[3]) for row in rows] == [("Us", 1, True), ("Huikang", 2, True)]
        assert [row[1] for row in rows] == pytest.approx([3.2, 3.2])

    def test_chinese_headers(self):
        values = [["商机编号", "决策因素", "权重", "我方", "汇康"], [None, "价格", 1.0, 4.0, 5.0]]
        table = FUNNEL_COMPARISON_TABLE(values)
        assert list(table.columns) == ["厂商", "加权总分", "排名", "并列", "已评分权重", "与我方差距"]
        assert table.values.tolist()[0][:3] == ["汇康", 5.0, 1]

    def test_no_such_comparison(self):
        assert FUNNEL_COMPARISON_TABLE(self.COMPARISON, "D9") == "no scored comparison for deal 'D9'"

    def test_head_to_head(self):
        table = FUNNEL_HEAD_TO_HEAD(OPPORTUNITIES, STAGES, None, None, SETTINGS, HISTORY)
        assert list(table.columns)[:5] == ["Competitor", "Closed deals met", "Won", "Lost", "Win rate"]
        rows = {row[0]: row for row in table.values.tolist()}
        assert list(rows) == ["Huikang", "Dingjie", "(no known competitor)"]  # most met first
        # Huikang: D1 won (100), D2 lost (50). Cycles: D1 2025-09-20 to 2026-01-15 = 117
        # days, D2 2025-10-20 to 2026-02-10 = 113 days; median 115.
        assert rows["Huikang"][1:5] == [2, 1, 1, 0.5] and rows["Huikang"][7:10] == [100.0, 50.0, 115.0]
        # Dingjie: D2 lost; it still contests D5 (B, 300 at 0.9 = 270).
        assert rows["Dingjie"][1:5] == [1, 0, 1, 0.0] and rows["Dingjie"][11:14] == [1, 300.0, 270.0]
        # No competitor: D3 lost (its #N/A cell names none; 2025-11-20 to 2026-03-01 = 101 days),
        # D4 and D6 open: 200 x 0.5 + 40 x 3/13.
        none = rows["(no known competitor)"]
        assert none[1:4] == [1, 0, 1] and none[9] == 101.0
        assert none[11:14] == [2, 240.0, pytest.approx(100 + 40 * 3 / 13)]

    def test_one_competitor_with_its_strengths(self):
        competitors = [["Competitor", "Strengths", "Weaknesses"], ["Dingjie", "cheap", "small team"]]
        table = FUNNEL_HEAD_TO_HEAD(OPPORTUNITIES, STAGES, "dingjie", competitors, SETTINGS, HISTORY)
        (row,) = table.values.tolist()
        assert row[0] == "Dingjie" and row[-2:] == ["cheap", "small team"]

    def test_unknown_competitor(self):
        assert FUNNEL_HEAD_TO_HEAD(OPPORTUNITIES, STAGES, "Nobody") == "no deal names competitor 'Nobody'"


class TestBoundary:
    def test_an_unexpected_error_is_a_sentence_in_the_cell(self, monkeypatch, caplog):
        def broken(deals):
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(udf_module, "win_rates", broken)
        with caplog.at_level(logging.ERROR, logger="udfs.functions"):
            got = FUNNEL_WIN_RATE(OPPORTUNITIES, STAGES)
        assert got == "FUNNEL_WIN_RATE failed (RuntimeError: disk on fire); see the xlwings log"
        assert "Traceback" in caplog.text  # the details go to the log, not the cell

    def test_long_messages_are_cut(self, monkeypatch):
        def broken(deals):
            raise RuntimeError("x" * 1000)

        monkeypatch.setattr(udf_module, "win_rates", broken)
        got = FUNNEL_WIN_RATE(OPPORTUNITIES, STAGES)
        assert len(got) == 250 and got.endswith("...")

    def test_same_tables_are_validated_once(self, monkeypatch):
        calls = []
        real = udf_module.validate
        monkeypatch.setattr(udf_module, "validate", lambda *a, **k: calls.append(1) or real(*a, **k))
        for owner in ("A", "B", None):
            FUNNEL_WEIGHTED_PIPELINE(OPPORTUNITIES, STAGES, "2026-Q2", owner, None, SETTINGS, HISTORY)
        assert len(calls) == 1
        changed = [list(row) for row in OPPORTUNITIES]
        changed[4][3] = 400.0  # D4's amount: new cells, validated again, new figure 400 x 0.5 + 270
        got = FUNNEL_WEIGHTED_PIPELINE(changed, STAGES, "2026-Q2", None, None, SETTINGS, HISTORY)
        assert len(calls) == 2 and got == pytest.approx(470.0)


# --- The refreshed sheets and the UDFs agree -----------------------------------------


@pytest.fixture(scope="module")
def demo():
    """The 1,000-deal demo, as the engine reports it and as Excel passes it to a UDF."""
    tables = demo_tables(size=1000)
    return run(tables), demo_cells(tables)


def test_udfs_agree_with_the_engine_on_the_demo(demo):
    report, cells = demo
    opportunities, stages, history, settings = (cells[k] for k in ("opportunities", "stages", "history", "settings"))
    for row in report["stage_stats"].itertuples():
        got = FUNNEL_STAGE_PROBABILITY(row.code, stages, opportunities, history, None, None, settings)
        assert got == pytest.approx(row.used), row.code
    for row in report["forecast_periods"].itertuples():
        got = FUNNEL_WEIGHTED_PIPELINE(opportunities, stages, row.period, None, None, settings, history)
        assert got == pytest.approx(row.weighted), row.period
    for row in report["forecast"].head(10).itertuples():
        got = FUNNEL_WEIGHTED_PIPELINE(opportunities, stages, row.period, row.owner, row.team, settings, history)
        assert got == pytest.approx(row.weighted), (row.period, row.owner)
    summary = dict(zip(report["summary"]["metric"], report["summary"]["value"]))
    assert FUNNEL_WIN_RATE(opportunities, stages) == pytest.approx(summary["win_rate"])
    ranges = range_forecast(report.deals)
    for row in ranges.itertuples():
        got = FUNNEL_FORECAST_RANGE(opportunities, stages, row.period, None, None, settings, history)
        assert got.values.tolist()[0] == pytest.approx([row.p10, row.p50, row.p90]), row.period
    record = head_to_head(report.deals)
    table = FUNNEL_HEAD_TO_HEAD(opportunities, stages, None, None, settings, history)
    assert [row[0] for row in table.values.tolist()] == list(record["competitor"])
    assert [row[1:4] for row in table.values.tolist()] == record[["met", "won", "lost"]].values.tolist()
    assert [row[13] for row in table.values.tolist()] == pytest.approx(list(record["open_weighted"]))
    inputs, deals = report.inputs, report.deals
    scores = score_deals(fit_win_model(deals, inputs.stage_history, inputs.stages, inputs.settings), deals,
                         inputs.stage_history, inputs.stages)
    for row in deals[deals["is_open"]].head(10).index:
        got = FUNNEL_DEAL_WIN_PROBABILITY(deals.at[row, "id"], opportunities, stages, history, settings)
        assert got == pytest.approx(scores.at[row, "model_probability"]), deals.at[row, "id"]
    by_owner = report["win_rates"].query("dimension == 'owner'")
    table = FUNNEL_WIN_RATE(opportunities, stages, None, None, "Owner", settings)
    assert [row[0] for row in table.values.tolist()] == list(by_owner["segment"])
    assert [row[4] for row in table.values.tolist()] == pytest.approx(list(by_owner["win_rate"]))


# The work a recalculation must not repeat for every cell on the same tables: converting
# and validating them, and what the analyses derive from them.
# (module, name): the cells' conversion and validation in the UDF module, what the one
# Analysis derives from them in funnel.analysis.
_PREPARED_WORK = ((udf_module, "table_frame"), (udf_module, "validate"), (analysis_module, "stage_probabilities"),
                  (analysis_module, "deal_table"), (analysis_module, "model_probabilities"),
                  (analysis_module, "fit_win_model"), (analysis_module, "score_deals"))


def test_each_udf_answers_a_second_call_on_the_same_tables_from_the_cache(demo, monkeypatch):
    # A recalculation calls UDFs cell after cell on the same tables. The first call does
    # the work; a second with equal cells (new lists, as Excel passes them on each
    # recalculation) does none of it again, and answers the same.
    report, cells = demo
    open_deal = report.deals.loc[report.deals["is_open"], "id"].iloc[0]
    work = []

    def counted(name, real):
        def call(*args, **kwargs):
            work.append(name)
            return real(*args, **kwargs)
        return call

    for module, name in _PREPARED_WORK:
        monkeypatch.setattr(module, name, counted(name, getattr(module, name)))
    first_calls, again_calls = demo_calls(cells, open_deal), demo_calls(copy.deepcopy(cells), open_deal)
    for name, call in first_calls.items():
        udf_module._ANALYSES.clear()
        work.clear()
        first = call()
        assert not isinstance(first, str), first  # a figure, not a cell message
        assert "validate" in work and "table_frame" in work, (name, work)
        work.clear()
        again = again_calls[name]()
        assert work == [], f"{name} did {work} again on the same tables"
        if isinstance(first, pd.DataFrame):
            pd.testing.assert_frame_equal(again, first)
        else:
            assert again == first, name


# --- What xlwings registers ----------------------------------------------------------

# VBA keywords an argument name must not be: classic xlwings writes each argument into a
# VBA wrapper function (Function FUNNEL_X(stage, stages, ...)).
VBA_RESERVED = {
    "and", "as", "boolean", "byref", "byte", "byval", "call", "case", "close", "const", "currency", "date",
    "declare", "dim", "do", "double", "each", "else", "elseif", "end", "enum", "erase", "error", "event",
    "exit", "false", "for", "friend", "function", "get", "global", "gosub", "goto", "if", "implements", "in",
    "input", "integer", "is", "let", "like", "lock", "long", "loop", "me", "mod", "name", "new", "next",
    "not", "nothing", "object", "on", "open", "option", "optional", "or", "paramarray", "preserve", "print",
    "private", "property", "public", "put", "raiseevent", "redim", "rem", "resume", "return", "seek",
    "select", "set", "single", "static", "step", "stop", "string", "sub", "then", "to", "true", "type",
    "until", "variant", "wend", "while", "with", "withevents", "write", "xor",
}

_DUMP_METADATA = """
import json, sys
import xlwings as xw
import udfs.functions as module
from xlwings.server import custom_functions_meta

udfs = {name: getattr(module, name).__xlfunc__ for name in dir(module) if hasattr(getattr(module, name), "__xlfunc__")}
for info in udfs.values():
    del info["argmap"]  # the same dicts again, by name
    for arg in info["args"]:
        arg["options"] = {k: str(v) for k, v in arg["options"].items()}
json.dump({"udfs": udfs, "meta": custom_functions_meta(module)}, sys.stdout, default=str)
"""


@pytest.fixture(scope="module")
def registered():
    """What xlwings records for each UDF (``func.__xlfunc__``) and the add-in metadata.

    On Windows ``xw.func`` is classic xlwings' decorator; elsewhere it does nothing unless
    xlwings runs as xlwings Server (``XLWINGS_ON_SERVER=true``), whose decorator records
    the same ``__xlfunc__`` dictionary. That needs the license key, and a fresh process,
    because xlwings reads the variable on import.
    """
    if os.environ.get("XLWINGS_LICENSE_KEY") is None:
        pytest.skip("xlwings Server's decorators need XLWINGS_LICENSE_KEY=noncommercial (PolyForm Noncommercial)")
    env = {**os.environ, "XLWINGS_ON_SERVER": "true", "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", _DUMP_METADATA], capture_output=True, text=True, env=env, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.xlwings_remote
class TestRegistration:
    def test_every_udf_is_registered_under_the_prefix(self, registered):
        names = sorted(registered["udfs"])
        assert names == sorted(f.__name__ for f in UDFS)
        assert names == sorted(udf_module.__all__[1:])
        assert all(name.startswith(UDF_PREFIX) and name.replace("_", "").isalpha() and name.isupper() for name in names)
        # xlwings Server's add-in metadata: the same names, accepted without complaint.
        assert sorted(f["name"] for f in registered["meta"]["functions"]) == names

    def test_the_description_is_one_paragraph_excel_can_show(self, registered):
        for name, info in registered["udfs"].items():
            doc = info["ret"]["doc"]
            assert doc == getattr(udf_module, name).__doc__
            assert "\n" not in doc and "  " not in doc
            assert 40 < len(doc) <= 255, name  # classic Excel cuts descriptions at 255

    def test_every_argument_has_help(self, registered):
        for name, info in registered["udfs"].items():
            for arg in info["args"]:
                assert not arg["doc"].startswith("Positional argument"), (name, arg["name"])
                assert len(arg["doc"]) <= 255, (name, arg["name"])
                assert arg["name"].lower() not in VBA_RESERVED, (name, arg["name"])
                if "optional" in arg:
                    assert arg["doc"].startswith("Optional."), (name, arg["name"])

    def test_tables_come_in_two_dimensional_with_error_text(self, registered):
        tables = {"stages", "opportunities", "history", "settings", "comparison", "competitors", "flow", "accuracy"}
        for info in registered["udfs"].values():
            for arg in info["args"]:
                assert arg["options"].get("err_to_str") == "True"
                if arg["name"] in tables:
                    assert arg["options"].get("ndim") == "2"
                else:
                    assert "ndim" not in arg["options"]

    def test_tables_spill_with_a_header_and_no_index(self, registered):
        spilling = ("FUNNEL_WIN_RATE", "FUNNEL_FORECAST_RANGE", "FUNNEL_CONCESSION_PLAN", "FUNNEL_COMPARISON_TABLE",
                    "FUNNEL_HEAD_TO_HEAD")
        for name in spilling:
            assert registered["udfs"][name]["ret"]["options"] == {"index": False, "header": True}
        for info in registered["udfs"].values():
            assert "expand" not in info["ret"]["options"]  # native dynamic arrays, not the legacy emulation
