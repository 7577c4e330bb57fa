"""Validation at the boundary: every bad cell reported once, with what was done; the rest flows on."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funnel.analysis import run
from funnel.inputs.refusals import RefreshRefused, Refusal
from funnel.inputs.schemes import default_stages
from funnel.inputs.validation import coerce_column, validate


def _table(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame.index = pd.RangeIndex(2, 2 + len(frame))  # sheet rows under a header in row 1
    return frame


def _issues(inputs) -> list[tuple]:
    return [tuple(None if pd.isna(v) else v for v in row) for row in inputs.issues.itertuples(index=False)]


BASE = [{"id": "A1", "stage": "P", "amount": 100}, {"id": "A2", "stage": "W", "amount": 200}]


# ---------------------------------------------------------------- coercion by kind


def test_coerce_money_reads_formatted_amounts_and_reports_the_rest():
    values, bad, why = coerce_column(pd.Series(["$4,800.00", "1.234,50", "", None, "lots", True, 12]), "money")
    assert values.tolist()[:2] == [4800.0, 1234.5]
    assert np.isnan(values[2]) and np.isnan(values[3]) and values[6] == 12.0
    assert bad.tolist() == [False, False, False, False, True, True, False]
    # TRUE in an amount cell used to pass silently as 1.
    assert why[4] == "'lots' is not an amount" and why[5] == "'True' is not an amount"


def test_coerce_number_says_number_not_amount():
    values, bad, why = coerce_column(pd.Series(["high", "2"]), "number")
    assert bad.tolist() == [True, False] and why[0] == "'high' is not a number" and values[1] == 2.0


def test_coerce_int_rejects_fractions():
    values, bad, why = coerce_column(pd.Series([1.5, "2", "first"]), "int")
    assert bad.tolist() == [True, False, True]
    assert why.tolist() == ["1.5 is not a whole number", "", "'first' is not a number"]
    assert values[1] == 2.0


def test_coerce_prob_accepts_percent_and_explains_out_of_range():
    values, bad, why = coerce_column(pd.Series(["70%", 0.25, 1.7, "70"]), "prob")
    assert values[0] == pytest.approx(0.7) and values[1] == 0.25
    assert bad.tolist() == [False, False, True, True]
    assert why[2] == "probability 1.7 is outside 0..1 (write 70% or 0.7)"
    assert why[3] == "probability 70 is outside 0..1 (write 70% or 0.7)"


def test_coerce_date_mixes_serials_text_and_datetimes():
    series = pd.Series([46082, "3/1/2026", "2026年3月1日", dt.datetime(2026, 3, 1, 15, 0), "2026-02-30"], dtype=object)
    values, bad, why = coerce_column(series, "date")
    assert values[:4].tolist() == [pd.Timestamp("2026-03-01")] * 4  # times of day dropped
    assert bad.tolist() == [False, False, False, False, True]
    assert why[4] == "'2026-02-30' is not a real date"


def test_coerce_code_folds_full_width_and_spaces():
    values, bad, _ = coerce_column(pd.Series(["Ｐ", " p ", "w"]), "code")
    assert values.tolist() == ["P", "P", "W"] and not bad.any()


def test_coerce_flag():
    values, bad, why = coerce_column(pd.Series(["yes", "否", "", "maybe", "#N/A"]), "flag")
    assert values.tolist() == [True, False, False, False, False]
    assert why[3] == "'maybe' is not yes/no" and why[4] == "Excel error #N/A instead of yes/no"


def test_coerce_text_reads_whole_number_ids_without_decimals():
    values, _, _ = coerce_column(pd.Series([10023.0, "  A7 "]), "text")
    assert values.tolist() == ["10023", "A7"]


# ---------------------------------------------------------------- opportunities


def test_an_unreadable_id_or_stage_is_reported_once_with_the_row_dropped():
    inputs = validate({"opportunities": _table(BASE + [
        {"id": "#N/A", "stage": "P", "amount": 1},
        {"id": "A4", "stage": "#REF!", "amount": 1},
        {"id": " ", "stage": "P", "amount": 1},
    ])})
    assert _issues(inputs) == [
        ("opportunities", 4, "id", "#N/A", "Excel error #N/A instead of text", "row left out"),
        ("opportunities", 5, "stage", "#REF!", "Excel error #REF! instead of text", "row left out"),
        ("opportunities", 6, "id", "", "deal id is blank", "row left out"),
    ]
    assert inputs.opportunities["id"].tolist() == ["A1", "A2"]


def test_an_empty_opportunities_table_is_said_out_loud():
    inputs = validate({"opportunities": pd.DataFrame(columns=["id", "stage", "amount"])})
    assert _issues(inputs) == [("opportunities", None, "", "", "the opportunities table has no rows", "no deals to analyse")]


def test_a_renamed_header_is_refused_naming_the_header_that_may_be_it():
    inputs = validate({"opportunities": _table([{"id": "A1", "Stage Name": "P", "amount": 1}])})
    message = "the opportunities table has no column stage (found Stage Name): rename it stage"
    assert inputs.refusals == [Refusal("opportunities", "stage", "Stage Name", message)]
    # Forced, the refusal is an issue row like the rest, and no deal is read.
    assert _issues(inputs) == [
        ("opportunities", None, "stage", "Stage Name", message, "table not used"),
        ("opportunities", None, "Stage Name", "", "unknown column(s)", "ignored; check the header spelling"),
    ]
    assert inputs.opportunities.empty
    with pytest.raises(RefreshRefused) as err:
        run({"opportunities": _table([{"id": "A1", "Stage Name": "P", "amount": 1}])})
    assert str(err.value) == message


def test_a_header_in_other_case_or_spacing_is_read_and_only_the_close_one_said():
    inputs = validate({"opportunities": _table([{"ID": "A1", "Stage": "P", "close-date": "2026-03-01", "amount": 1}])})
    assert inputs.refusals == []
    assert _issues(inputs) == [("opportunities", None, "close_date", "close-date", "column 'close-date' read as close_date",
                                "read; rename it close_date to silence this")]
    assert inputs.opportunities["close_date"].tolist() == [pd.Timestamp("2026-03-01")]


def test_deals_of_which_none_can_be_used_are_refused_not_reported_as_zeros():
    inputs = validate({"opportunities": _table([{"id": "A1", "stage": "K1", "amount": 1}, {"id": "A2", "stage": "K2", "amount": 2}])})
    assert [r.message for r in inputs.refusals] == [
        "none of the 2 deals in the opportunities table can be used (row 2: unknown stage 'K1' (known: P, I, B, W, L)): "
        "correct those cells, or the stage scheme if the stage codes are right"]


def test_no_opportunities_table_is_refused():
    inputs = validate({"stages": _table(_stage_rows())})
    assert [r.message for r in inputs.refusals] == [
        "the opportunities table is missing: give the deals (opportunities.csv in a folder of CSVs)"]
    assert validate({"opportunities": pd.DataFrame(columns=["id", "stage", "amount"])}).refusals == []  # empty is not missing


def test_every_row_is_either_kept_or_reported_left_out():
    rows = BASE + [
        {"id": "A1", "stage": "P", "amount": 5},  # duplicate
        {"id": "A4", "stage": "X", "amount": 5},  # unknown stage
        {"id": "A5", "stage": None, "amount": 5},  # blank stage
        {"id": "A6", "stage": "I", "amount": -5},  # kept, amount blanked
    ]
    inputs = validate({"opportunities": _table(rows)})
    left_out = set(inputs.issues.loc[inputs.issues["action"] == "row left out", "row"])
    assert set(inputs.opportunities.index) | left_out == set(range(2, 2 + len(rows)))
    assert set(inputs.opportunities.index) & left_out == set()
    assert np.isnan(inputs.opportunities.loc[7, "amount"])  # A6 is on row 7


# ---------------------------------------------------------------- stages, history, quotas


def _stage_rows(**changes) -> list[dict]:
    rows = [
        {"code": "P", "order": 1, "probability": 0.2, "forecast_category": "Pipeline", "is_won": "no", "is_lost": "no"},
        {"code": "W", "order": 2, "probability": 1, "forecast_category": "Closed", "is_won": "yes", "is_lost": "no"},
        {"code": "L", "order": 3, "probability": 0, "forecast_category": "Omitted", "is_won": "no", "is_lost": "yes"},
    ]
    rows[0].update(changes)
    return rows


@pytest.mark.parametrize(
    "order, problem",
    [("first", "'first' is not a number"), (1.5, "1.5 is not a whole number"), (None, "stage order is blank")],
)
def test_a_stage_whose_order_cannot_be_read_keeps_its_place_between_the_rows_around_it(order, problem):
    rows = _stage_rows()
    rows.insert(1, {"code": "I", "order": order, "probability": 0.5, "forecast_category": "", "is_won": "", "is_lost": ""})
    rows[2]["order"], rows[3]["order"] = 3, 4  # P 1, I ?, W 3, L 4: 2 is free between P and W
    inputs = validate({"stages": _table(rows), "opportunities": _table(BASE)})
    assert _issues(inputs) == [("stages", 3, "order", "" if order is None else str(order), problem,
                                "used order 2, between the rows around it")]
    assert inputs.stages[["code", "order"]].values.tolist() == [["P", 1], ["I", 2], ["W", 3], ["L", 4]]


def test_a_stage_order_with_no_free_place_is_skipped_and_said():
    rows = _stage_rows(order="first")  # P ?, W 2, L 3: 1 is free before W
    inputs = validate({"stages": _table(rows), "opportunities": _table(BASE)})
    assert _issues(inputs) == [("stages", 2, "order", "first", "'first' is not a number", "used order 1, between the rows around it")]
    rows = _stage_rows()
    rows.insert(1, {"code": "I", "order": "?", "probability": 0.5, "forecast_category": "", "is_won": "", "is_lost": ""})
    inputs = validate({"stages": _table(rows), "opportunities": _table(BASE)})  # P 1, I ?, W 2: no order between
    assert _issues(inputs) == [("stages", 3, "order", "?", "'?' is not a number", "row skipped (no free order between the rows around it)")]
    assert inputs.stages["code"].tolist() == ["P", "W", "L"]


def test_a_stage_table_left_without_an_open_stage_falls_back_instead_of_crashing():
    rows = _stage_rows(is_won="yes")  # P marked won: no stage left to be open in
    inputs = validate({"stages": _table(rows), "opportunities": _table(BASE)})
    assert _issues(inputs) == [
        ("stages", None, "", "", "no open stage is left (every usable stage is won or lost)", "used the default P/I/B/W/L scheme"),
    ]
    pd.testing.assert_frame_equal(inputs.stages, default_stages())


@pytest.mark.parametrize("probability, problem", [(1.5, "probability 1.5 is outside 0..1 (write 70% or 0.7)"),
                                                  ("high", "'high' is not a probability"), (None, "stage probability is blank")])
def test_a_stage_probability_that_cannot_be_used_falls_back_and_the_stage_stays(probability, problem):
    # P of the shipped P/I/B scheme is 0.2: the stand-in, so every P deal still counts.
    inputs = validate({"stages": _table(_stage_rows(probability=probability)), "opportunities": _table(BASE)})
    assert _issues(inputs) == [("stages", 2, "probability", "" if probability is None else str(probability), problem,
                                "used 0.2, the P/I/B scheme's probability for P")]
    assert inputs.stages.set_index("code").loc["P", "probability"] == 0.2
    assert inputs.opportunities["id"].tolist() == ["A1", "A2"]


def test_a_custom_stage_probability_that_cannot_be_used_is_halfway_between_its_neighbours():
    rows = [
        {"code": "Q1", "order": 1, "probability": 0.1, "forecast_category": "", "is_won": "no", "is_lost": "no"},
        {"code": "Q2", "order": 2, "probability": "#N/A", "forecast_category": "", "is_won": "no", "is_lost": "no"},
        {"code": "Q3", "order": 3, "probability": 0.5, "forecast_category": "", "is_won": "no", "is_lost": "no"},
        {"code": "Q4", "order": 4, "probability": 2, "forecast_category": "", "is_won": "no", "is_lost": "no"},
        {"code": "W", "order": 5, "probability": 7, "forecast_category": "", "is_won": "yes", "is_lost": "no"},
    ]
    inputs = validate({"stages": _table(rows), "opportunities": _table([{"id": "A1", "stage": "Q2", "amount": 1}])})
    assert _issues(inputs) == [
        ("stages", 3, "probability", "#N/A", "Excel error #N/A instead of a probability", "used 0.3, halfway between Q1 (0.1) and Q3 (0.5)"),
        ("stages", 5, "probability", "2", "probability 2 is outside 0..1 (write 70% or 0.7)", "used 0.75, halfway between Q3 (0.5) and won (1)"),
        ("stages", 6, "probability", "7", "probability 7 is outside 0..1 (write 70% or 0.7)", "used 1, as for every won stage"),
    ]
    assert inputs.stages.set_index("code")["probability"].to_dict() == {"Q1": 0.1, "Q2": 0.3, "Q3": 0.5, "Q4": 0.75, "W": 1.0}


def test_history_for_a_deal_left_out_is_not_called_missing():
    opps = _table(BASE + [{"id": "A3", "stage": "X", "amount": 1}])
    history = _table([
        {"opportunity_id": "A3", "stage": "P", "entered": "2026-01-01"},
        {"opportunity_id": "ZZ", "stage": "P", "entered": "2026-01-01"},
        {"opportunity_id": "A1", "stage": "P", "entered": "2026-01-01"},
    ])
    inputs = validate({"opportunities": opps, "stage_history": history})
    assert _issues(inputs) == [
        ("opportunities", 4, "stage", "X", "unknown stage 'X' (known: P, I, B, W, L)", "row left out"),
        ("stage_history", 2, "opportunity_id", "A3", "history for a deal that was left out of the opportunities table (see its issue)",
         "row left out"),
        ("stage_history", 3, "opportunity_id", "ZZ", "history for a deal that is not in the opportunities table", "row left out"),
    ]
    assert inputs.stage_history["opportunity_id"].tolist() == ["A1"]


def test_quotas_unreadable_or_blank_say_so_once():
    quotas = _table([
        {"owner": "Li", "period": "#N/A", "quota": 5},
        {"owner": "Li", "period": "2026-Q1", "quota": None},
        {"owner": "Li", "period": "2026-Q1", "quota": "lots"},
        {"owner": "Li", "period": "Q2 2026", "quota": "1,000"},
    ])
    inputs = validate({"opportunities": _table(BASE), "quotas": quotas})
    assert _issues(inputs) == [
        ("quotas", 2, "period", "#N/A", "Excel error #N/A instead of text", "row left out"),
        ("quotas", 3, "quota", "", "quota is blank", "row left out"),
        ("quotas", 4, "quota", "lots", "'lots' is not an amount", "row left out"),
    ]
    assert inputs.quotas[["period", "quota"]].values.tolist() == [["2026-Q2", 1000.0]]


# ---------------------------------------------------------------- invariants


_cell = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8), st.sampled_from(["#N/A", "#VALUE!", "#REF!", "70%", "2026-02-30", "Ｐ", " p ", "$4,800.00"]),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({
    "id": st.one_of(_cell, st.sampled_from(["A", "B", "C"])),
    "stage": st.one_of(_cell, st.sampled_from(list("PIBWL"))),
    "amount": _cell, "close_date": _cell, "probability_override": _cell, "q_budget": _cell,
}), max_size=12))
def test_any_cells_validate_and_every_row_is_accounted_for(rows):
    inputs = validate({"opportunities": _table(rows) if rows else pd.DataFrame(columns=["id", "stage", "amount"])})
    opps = inputs.opportunities
    left_out = set(inputs.issues.loc[inputs.issues["action"] == "row left out", "row"].dropna().astype(int))
    assert set(opps.index).isdisjoint(left_out)
    # Wholly blank rows are the empty tail of an Excel table, not data: dropped without a word.
    def blank(v):
        return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())
    data_rows = {i + 2 for i, row in enumerate(rows) if not all(blank(v) for v in row.values())}
    assert set(opps.index) | left_out == data_rows
    assert opps["probability_override"].dropna().between(0, 1).all()
    assert (opps["amount"].dropna() >= 0).all()
    assert opps["stage"].isin(list("PIBWL")).all() and opps["id"].notna().all() and not opps["id"].duplicated().any()


@pytest.mark.parametrize(
    "cell, problem",
    [
        ("9999-12-31", "'9999-12-31' is outside the years 1900-2199"),  # a CRM's "never"
        ("3/1/9999", "'3/1/9999' is outside the years 1900-2199"),
        (132321, "'132321' is outside the years 1900-2199"),  # an Excel serial in the year 2262
        (dt.datetime(9999, 1, 1), "'9999-01-01 00:00:00' is outside the years 1900-2199"),
        ("1850-01-01", "'1850-01-01' is outside the years 1900-2199"),
    ],
)
def test_dates_pandas_cannot_hold_are_reported_not_a_traceback(cell, problem):
    values, bad, why = coerce_column(pd.Series([cell, "2026-03-01"], dtype=object), "date")
    assert bad.tolist() == [True, False] and why[0] == problem
    assert pd.isna(values[0]) and values[1] == pd.Timestamp("2026-03-01")


def test_a_flag_column_of_nothing_readable_is_all_no():
    values, bad, _ = coerce_column(pd.Series(["maybe", "perhaps"]), "flag")
    assert values.tolist() == [False, False] and bad.all()
