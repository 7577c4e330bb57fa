"""The cell parsers: amounts, dates, probabilities and yes/no as real tools write them."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from funnel.inputs.parsing import (
    DateReading,
    ParseError,
    date_reading,
    fold,
    parse_amount,
    parse_date,
    parse_flag,
    parse_probability,
    probability_outside_message,
)

# ---------------------------------------------------------------- amounts

@pytest.mark.parametrize(
    "cell, expected",
    [
        ("$4,800.00", 4800.0),
        ("1.234,50", 1234.5),
        ("¥12,000", 12000.0),
        ("￥12,000", 12000.0),  # full-width yen from a Chinese IME
        ("12000 USD", 12000.0),
        ("USD 12,000.00", 12000.0),
        ("US$1,000", 1000.0),
        ("CN¥12", 12.0),
        ("€ 1.234,50", 1234.5),
        ("1 234,50", 1234.5),  # French thousands spaces
        ("1\u00a0234,50", 1234.5),  # the same with the no-break space Excel writes
        ("1'234.50", 1234.5),  # Swiss
        ("12,34,567.00", 1234567.0),  # Indian lakh grouping
        ("4800元", 4800.0),
        ("RMB 4800", 4800.0),
        ("＄１２，０００", 12000.0),  # full-width digits
        ("(500)", -500.0),  # accounting negative
        ("($500)", -500.0),
        ("-$4,800", -4800.0),
        ("$-4,800", -4800.0),
        ("4,800-", -4800.0),  # SAP-style trailing minus
        ("\u2212500", -500.0),  # typographic minus
        ("1,234", 1234.0),  # one comma and three digits: thousands
        ("12,5", 12.5),  # one comma and one or two digits: decimal comma
        ("1.234.567", 1234567.0),
        (".5", 0.5),
        (4800, 4800.0),
        (4800.5, 4800.5),
        (np.int64(7), 7.0),
    ],
)
def test_parse_amount_reads_what_tools_export(cell, expected):
    assert parse_amount(cell) == pytest.approx(expected)


@pytest.mark.parametrize("cell", [None, "", "   ", float("nan")])
def test_parse_amount_blank_is_none(cell):
    assert parse_amount(cell) is None


@pytest.mark.parametrize(
    "cell, message",
    [
        ("lots", "'lots' is not an amount"),
        ("$", "'$' is not an amount"),
        ("1,234.5.6", "'1,234.5.6' is not an amount"),  # used to escape as a bare ValueError
        ("1.2.3,4,5", "'1.2.3,4,5' is not an amount"),
        ("1,2,3", "'1,2,3' is not an amount"),
        ("1e6", "'1e6' is not an amount"),
        ("nan", "'nan' is not an amount"),
        ("₩1000", "'₩1000' is not an amount"),
        ("#N/A", "Excel error #N/A instead of an amount"),
        ("#value!", "Excel error #VALUE! instead of an amount"),
        (True, "'True' is not an amount"),
        (float("inf"), "amount is infinite"),
    ],
)
def test_parse_amount_rejects_with_a_sentence(cell, message):
    with pytest.raises(ParseError) as err:
        parse_amount(cell)
    assert str(err.value) == message


@pytest.mark.parametrize(
    "cell, decimal, expected",
    [
        ("1.234", ",", 1234.0),  # German thousands: ambiguous without the declaration
        ("1.234", ".", 1.234),
        ("1,234", ",", 1.234),
        ("1,234", ".", 1234.0),
        ("1.234,50", ",", 1234.5),
        ("$4,800.00", ".", 4800.0),
    ],
)
def test_parse_amount_declared_decimal_resolves_ambiguity(cell, decimal, expected):
    assert parse_amount(cell, decimal=decimal) == pytest.approx(expected)


@pytest.mark.parametrize("cell, decimal", [("12,5", "."), ("1.2.3", ","), ("1,23,4", ".")])
def test_parse_amount_against_the_declared_decimal_is_an_error(cell, decimal):
    with pytest.raises(ParseError):
        parse_amount(cell, decimal=decimal)


@pytest.mark.parametrize("cell, decimal, expected", [("4.800,00 €", ".", 4800.0), ("1.234,50", ".", 1234.5),
                                                     ("$4,800.00", ",", 4800.0), ("EUR 1.234.567,8", ".", 1234567.8)])
def test_parse_amount_with_both_separators_reads_the_last_as_the_decimal_whatever_is_declared(cell, decimal, expected):
    # A European cell in an export whose layout declares "." (and the reverse): the text says itself.
    assert parse_amount(cell, decimal=decimal) == pytest.approx(expected)


@given(
    st.decimals(min_value=0, max_value=10**11, places=2, allow_nan=False, allow_infinity=False),
    st.sampled_from(["us", "eu", "plain"]),
)
def test_parse_amount_round_trips_formatted_amounts(amount, style):
    us = f"{amount:,.2f}"  # 1,234,567.89
    text = {"us": us, "eu": us.replace(",", "_").replace(".", ",").replace("_", "."), "plain": f"{amount:.2f}"}[style]
    decimal = {"us": ".", "eu": ",", "plain": "."}[style]
    assert parse_amount(text, decimal=decimal) == pytest.approx(float(amount))
    assert parse_amount(f"${text}", decimal=decimal) == pytest.approx(float(amount))


# ---------------------------------------------------------------- dates

@pytest.mark.parametrize(
    "cell, expected",
    [
        ("2026-03-01", dt.date(2026, 3, 1)),
        ("2026/3/1", dt.date(2026, 3, 1)),
        ("2026.03.01", dt.date(2026, 3, 1)),
        ("20260301", dt.date(2026, 3, 1)),
        ("2026年3月1日", dt.date(2026, 3, 1)),
        ("2026 年 3 月 1 日", dt.date(2026, 3, 1)),
        ("２０２６年３月１日", dt.date(2026, 3, 1)),  # full-width digits
        ("3/1/2026", dt.date(2026, 3, 1)),  # slashes default to US month/day/year
        ("1.3.2026", dt.date(2026, 3, 1)),  # dots default to European day.month.year
        ("3/1/26", dt.date(2026, 3, 1)),  # Excel's short year
        ("3/1/45", dt.date(1945, 3, 1)),  # 30-99 are 19xx, as in Excel
        ("2026-03-01T10:00:00Z", dt.date(2026, 3, 1)),
        ("2026-03-01 10:15:00+08:00", dt.date(2026, 3, 1)),
        ("2026-03-01 10:15 UTC", dt.date(2026, 3, 1)),
        ("3/1/2026 10:15 AM", dt.date(2026, 3, 1)),
        ("3/1/2026 10:15 p.m.", dt.date(2026, 3, 1)),
        ("1-Mar-26", dt.date(2026, 3, 1)),
        ("01-MAR-2026", dt.date(2026, 3, 1)),
        ("1 March 2026", dt.date(2026, 3, 1)),
        ("Mar 1, 2026", dt.date(2026, 3, 1)),
        ("March 1st, 2026", dt.date(2026, 3, 1)),
        ("Sept 30, 2026", dt.date(2026, 9, 30)),
        ("46082", dt.date(2026, 3, 1)),  # Excel serial as text: 46082 days after 1899-12-30
        (46082, dt.date(2026, 3, 1)),
        (46082.75, dt.date(2026, 3, 1)),  # the time of day is dropped
        (np.int64(46082), dt.date(2026, 3, 1)),
        (dt.datetime(2026, 3, 1, 9, 30), dt.date(2026, 3, 1)),
        (pd.Timestamp("2026-03-01 09:30"), dt.date(2026, 3, 1)),
        (np.datetime64("2026-03-01T10:00"), dt.date(2026, 3, 1)),
    ],
)
def test_parse_date_reads_what_tools_export(cell, expected):
    assert parse_date(cell) == expected


def test_excel_serial_arithmetic():
    # Day zero is 1899-12-30 (Excel counts a 1900-02-29 that never was, so from serial 61
    # on this epoch is right). To 2026-03-01: 1899-12-30 -> 1900-01-01 is 2 days;
    # 1900 -> 2026 is 126*365 = 45990 days plus 31 leap days (1904..2024; 1900 is not
    # leap) = 46021; January + February 2026 = 31 + 28 = 59. 2 + 46021 + 59 = 46082.
    assert parse_date(46082) == dt.date(2026, 3, 1)
    assert parse_date(61) == dt.date(1900, 3, 1)  # 61 = 2 + 31 (Jan) + 28 (Feb)


@pytest.mark.parametrize(
    "cell, order, expected",
    [
        ("3/1/2026", "mdy", dt.date(2026, 3, 1)),
        ("3/1/2026", "dmy", dt.date(2026, 1, 3)),
        ("1.3.2026", "mdy", dt.date(2026, 1, 3)),
        ("1.3.2026", "dmy", dt.date(2026, 3, 1)),
        ("13/1/2026", "dmy", dt.date(2026, 1, 13)),
        ("1-13-2026", "mdy", dt.date(2026, 1, 13)),
        ("2026-03-01", "dmy", dt.date(2026, 3, 1)),  # year first is never ambiguous
        ("1-Mar-26", "mdy", dt.date(2026, 3, 1)),  # nor is a month name
    ],
)
def test_parse_date_declared_order_resolves_ambiguity(cell, order, expected):
    assert parse_date(cell, order=order) == expected


@pytest.mark.parametrize("cell", [None, "", "  ", float("nan"), pd.NaT, np.datetime64("NaT", "ns")])
def test_parse_date_blank_is_none(cell):
    assert parse_date(cell) is None


@pytest.mark.parametrize(
    "cell, order, message",
    [
        ("2026-02-30", None, "'2026-02-30' is not a real date"),
        ("2026-13-01", None, "'2026-13-01' is not a real date"),
        ("13/1/2026", None, "'13/1/2026' is not a real date (read as month/day/year)"),
        ("1-13-2026", "dmy", "'1-13-2026' is not a real date (read as day/month/year)"),
        ("31-Feb-26", None, "'31-Feb-26' is not a real date"),
        ("next week", None, "'next week' is not a date (use YYYY-MM-DD)"),
        ("Foo 1, 2026", None, "'Foo 1, 2026' is not a date (use YYYY-MM-DD)"),
        ("#REF!", None, "Excel error #REF! instead of a date"),
        ("0", None, "0 is not a date"),  # serials below 61 fall in Excel's phantom 1900-02-29 era
        (True, None, "'True' is not a date"),
    ],
)
def test_parse_date_rejects_with_a_sentence(cell, order, message):
    with pytest.raises(ParseError) as err:
        parse_date(cell, order=order)
    assert str(err.value) == message


def test_parse_date_unknown_order_is_a_programming_error():
    with pytest.raises(ValueError, match="date order"):
        parse_date("3/1/2026", order="ydm")


def test_parse_date_year_month_day_order_reads_two_digit_years_first_and_month_before_day():
    assert parse_date("26/05/12", order="ymd") == dt.date(2026, 5, 12)
    assert parse_date("05/12/2026", order="ymd") == dt.date(2026, 5, 12)  # month before day, as in Y-M-D
    with pytest.raises(ParseError, match="read as month/day/year"):
        parse_date("26/05/12")  # without it the year is last: month 26 does not exist


@given(st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2099, 12, 31)), st.sampled_from(["mdy", "dmy"]))
def test_parse_date_round_trips_every_format(day, order):
    mdy = f"{day.month}/{day.day}/{day.year}"
    dmy = f"{day.day}.{day.month}.{day.year}"
    for text in (day.isoformat(), f"{day.year}年{day.month}月{day.day}日", day.strftime("%d-%b-%Y"), day.strftime("%B %d, %Y")):
        assert parse_date(text, order=order) == day
    assert parse_date(mdy if order == "mdy" else dmy.replace(".", "/"), order=order) == day
    assert parse_date(dmy, order="dmy") == day
    assert parse_date(mdy) == day and parse_date(dmy) == day  # the default conventions


# ---------------------------------------------------------------- probabilities and flags

@pytest.mark.parametrize(
    "cell, expected",
    [("0.7", 0.7), ("70%", 0.7), ("70 %", 0.7), ("１００％", 1.0), ("0,7", 0.7), ("70,5%", 0.705), (0.25, 0.25), (1, 1.0), ("0", 0.0)],
)
def test_parse_probability(cell, expected):
    assert parse_probability(cell) == pytest.approx(expected)


@pytest.mark.parametrize(
    "cell, message",
    [
        ("1.7", "probability 1.7 is outside 0..1 (write 70% or 0.7)"),
        ("70", "probability 70 is outside 0..1 (write 70% or 0.7)"),
        (1.7, "probability 1.7 is outside 0..1 (write 70% or 0.7)"),
        ("-0.1", "probability -0.1 is outside 0..1 (write 70% or 0.7)"),
        ("170%", "probability 1.7 is outside 0..1 (write 70% or 0.7)"),
        ("high", "'high' is not a probability"),
        ("nan", "'nan' is not a probability"),  # float() would have read it
        ("inf", "'inf' is not a probability"),
        ("#DIV/0!", "Excel error #DIV/0! instead of a probability"),
        (True, "'True' is not a probability"),
        (dt.date(2026, 1, 1), "'2026-01-01' is not a probability"),  # used to escape as a TypeError
    ],
)
def test_parse_probability_rejects_with_a_sentence(cell, message):
    with pytest.raises(ParseError) as err:
        parse_probability(cell)
    assert str(err.value) == message


def test_probability_outside_message_formats_compactly():
    assert probability_outside_message(70.0) == "probability 70 is outside 0..1 (write 70% or 0.7)"


@pytest.mark.parametrize("cell", [None, "", float("nan")])
def test_parse_probability_blank_is_none(cell):
    assert parse_probability(cell) is None


@pytest.mark.parametrize(
    "cell, expected",
    [("yes", True), ("Y", True), ("x", True), ("✓", True), ("是", True), ("TRUE", True), (1, True), ("1.0", True),
     ("no", False), ("否", False), ("-", False), (0, False), ("", False), (None, False), (float("nan"), False)],
)
def test_parse_flag(cell, expected):
    assert parse_flag(cell) is expected


@pytest.mark.parametrize(
    "cell, message",
    [("maybe", "'maybe' is not yes/no"), (2, "2 is not yes/no"), ("#REF!", "Excel error #REF! instead of yes/no")],
)
def test_parse_flag_rejects_with_a_sentence(cell, message):
    with pytest.raises(ParseError) as err:
        parse_flag(cell)
    assert str(err.value) == message


def test_fold_turns_full_width_and_odd_spaces_into_plain_text():
    assert fold("\u3000Ｐ ") == "P"
    assert fold("\u00a0p\u00a0") == "p"


@given(st.one_of(st.text(max_size=20), st.floats(allow_nan=True), st.integers(), st.booleans(), st.none()))
def test_parsers_only_ever_raise_parse_error(cell):
    # Whatever is in a cell, a parser answers with a value or a sentence, never a traceback.
    for parser in (parse_amount, parse_date, parse_probability, parse_flag):
        try:
            value = parser(cell)
        except ParseError:
            continue
        if parser is parse_probability and value is not None:
            assert 0 <= value <= 1 and not math.isnan(value)


# ---- how a column's year-last dates are read ---------------------------------------------------------
def test_a_date_that_can_only_be_day_first_decides_the_column_and_the_ambiguous_one_is_said():
    reading = date_reading([(2, "05/12/2026"), (7, "15/12/2026")])
    assert reading.order == "dmy"
    assert reading.note == (2, "05/12/2026", "dates read day-first (05/12/2026 = 5 Dec 2026), as 15/12/2026 in row 7 shows",
                            "read day-first; set date_order to change")
    assert parse_date("05/12/2026", reading.order) == dt.date(2026, 12, 5)


def test_a_date_that_can_only_be_month_first_decides_the_column():
    reading = date_reading([(2, "05/12/2026"), (9, "12/15/2026")])
    assert reading.order == "mdy"
    assert reading.note[2] == "dates read month-first (05/12/2026 = 12 May 2026), as 12/15/2026 in row 9 shows"


def test_a_wholly_ambiguous_column_follows_the_language_and_says_how_to_change_it():
    en = date_reading([(2, "05/12/2026")])
    assert en.order is None and parse_date("05/12/2026", en.order) == dt.date(2026, 5, 12)  # slashes: as US tools write them
    assert en.note == (2, "05/12/2026", "no date in the column tells whether 05/12/2026 is 12 May 2026 or 5 Dec 2026; "
                                        "read month-first (as US tools write them)",
                       "read month-first; set date_order to DMY if you meant 5 Dec 2026")
    dots = date_reading([(2, "05.12.2026")])
    assert parse_date("05.12.2026", dots.order) == dt.date(2026, 12, 5)
    assert dots.note[3] == "read day-first; set date_order to MDY if you meant 12 May 2026"
    zh = date_reading([(2, "05/12/2026")], language="zh-CN")
    assert zh.order == "dmy" and zh.note[2].endswith("read day-first (the default for Chinese workbooks)")



def test_a_layouts_order_is_used_without_a_word_unless_the_column_shows_the_other():
    assert date_reading([(2, "05.12.2026")], declared="mdy") == DateReading("mdy")
    assert date_reading([(2, "05/12/2026"), (3, "2/20/2026")], declared="mdy") == DateReading("mdy")
    overruled = date_reading([(2, "15.12.2026")], declared="mdy")
    assert overruled == DateReading("dmy", (2, "15.12.2026", "dates read day-first, as 15.12.2026 in row 2 shows, "
                                                              "not month-first as the layout says",
                                            "read day-first; set date_order to change"))


def test_the_setting_decides_and_nothing_is_said():
    for setting, order in (("DMY", "dmy"), ("MDY", "mdy"), ("YMD", "ymd")):
        assert date_reading([(2, "05/12/2026"), (3, "15/12/2026")], setting) == DateReading(order)


def test_nothing_is_said_when_no_date_is_ambiguous():
    assert date_reading([(2, "15/12/2026"), (3, "2026-01-05"), (4, "1/1/2026"), (5, 46082)]) == DateReading("dmy")
    assert date_reading([(2, "12/15/2026")]) == DateReading("mdy")
    assert date_reading([]) == DateReading(None)


def test_a_column_mixing_both_readings_follows_the_majority_and_says_so():
    reading = date_reading([(2, "15/12/2026"), (3, "16/12/2026"), (4, "12/13/2026")])
    assert reading.order == "dmy"
    assert reading.note == (2, "15/12/2026", "the column mixes day-first (15/12/2026 in row 2) and month-first (12/13/2026 in row 4) dates",
                            "read day-first, as most are; the month-first ones are reported; set date_order to change")
