"""Concession plans and customer value, pinned on the course's examples."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from funnel.methods.negotiation import PATTERNS, concession_plan, delivered_value, lifetime_value


def test_shrinking_room_of_ten_over_four_steps():
    # DOMAIN.md section 7: room 10 over 4 steps -> 4, 3, 2, 1 (weights 4,3,2,1 of 10).
    plan = concession_plan(110, 100, 4)
    assert plan.pattern == "shrinking" and plan.recommended
    assert list(plan.steps["concession"]) == pytest.approx([4, 3, 2, 1])
    assert list(plan.steps["price_after"]) == pytest.approx([106, 103, 101, 100])
    assert list(plan.steps["cumulative"]) == pytest.approx([4, 7, 9, 10])
    assert list(plan.steps["share_of_room"]) == pytest.approx([0.4, 0.3, 0.2, 0.1])
    assert plan.warning == {} and "先大后小" in plan.advice["zh-CN"]
    assert plan.room == 10


def test_growing_matches_the_course_example():
    # Quote 120 million, floor 110 million: 1, 2, 3, 4 tenths of 10 million = 100, 200, 300, 400 (x10k).
    plan = concession_plan(12_000, 11_000, 4, "growing")
    assert list(plan.steps["concession"]) == pytest.approx([100, 200, 300, 400])
    assert list(plan.steps["price_after"]) == pytest.approx([11_900, 11_700, 11_400, 11_000])
    assert not plan.recommended
    assert "不买账" in plan.warning["zh-CN"] and "resent" in plan.warning["en"]


def test_equal_matches_the_course_example():
    # 1000 over 5 equal steps: 200 each.
    plan = concession_plan(12_000, 11_000, 5, "equal")
    assert list(plan.steps["concession"]) == pytest.approx([200] * 5)
    assert "摸透规律" in plan.warning["zh-CN"] and "rhythm" in plan.warning["en"]


def test_single_gives_the_whole_room_in_one_step_whatever_steps_says():
    plan = concession_plan(12_000, 11_000, 4, "一次性")
    assert plan.pattern == "single"
    assert list(plan.steps["step"]) == [1]
    assert list(plan.steps["concession"]) == [1000.0]
    assert plan.steps["price_after"].iloc[0] == 11_000
    assert "反遭怀疑" in plan.warning["zh-CN"] and "doubts" in plan.warning["en"]


def test_rounding_is_on_the_running_total():
    # Room 10 over 3 shrinking: 3/6, 2/6, 1/6 -> cumulative 5, 8.33, 10 -> rounded 5, 8, 10 -> 5, 3, 2.
    plan = concession_plan(10, 0, 3, round_to=1)
    assert list(plan.steps["concession"]) == [5.0, 3.0, 2.0]
    # Unrounded: 5, 3.333.., 1.666..
    assert list(concession_plan(10, 0, 3).steps["concession"]) == pytest.approx([5, 10 / 3, 5 / 3])


def test_a_unit_bigger_than_the_room_never_overshoots():
    # Room 0.75 over 3 shrinking: cumulative 0.375, 0.625, 0.75 -> rounded to 1: 0, 1, 0.75;
    # capped at the room and never decreasing: 0, 0.75, 0.75 -> concessions 0, 0.75, 0.
    plan = concession_plan(0.75, 0, 3, round_to=1)
    assert list(plan.steps["concession"]) == [0.0, 0.75, 0.0]
    assert list(plan.steps["price_after"]) == [0.75, 0.0, 0.0]


def test_no_room_gives_zero_concessions():
    plan = concession_plan(100, 100, 3)
    assert list(plan.steps["concession"]) == [0.0, 0.0, 0.0]
    assert list(plan.steps["share_of_room"]) == [0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    "args, message",
    [
        ((100, 110, 3), "floor price 110 is above the quote 100"),
        ((100, 90, 0), "steps must be a whole number of at least 1"),
        ((100, 90, 2.5), "steps must be a whole number"),
        ((100, 90, "x"), "steps must be a number"),
        ((100, -5, 2), "prices cannot be negative"),
        ((float("nan"), 90, 2), "quote must be a finite number"),
        (("abc", 90, 2), "quote must be a number"),
        ((100, 90, 2, "zigzag"), "unknown concession pattern 'zigzag'"),
    ],
)
def test_bad_inputs_raise_clear_errors(args, message):
    with pytest.raises(ValueError, match=message):
        concession_plan(*args)


def test_bad_rounding_unit():
    with pytest.raises(ValueError, match="round_to must be above 0"):
        concession_plan(100, 90, 2, round_to=0)


@given(
    st.floats(0, 1e9, allow_nan=False),
    st.floats(0, 1e9, allow_nan=False),
    st.integers(1, 12),
    st.sampled_from(PATTERNS),
    st.sampled_from([None, 1.0, 1000.0]),
)
def test_plans_land_on_the_floor(a, b, steps, pattern, round_to):
    quote, floor = max(a, b), min(a, b)
    plan = concession_plan(quote, floor, steps, pattern, round_to)
    table = plan.steps
    # The concessions add up to the room and the last price is the floor.
    assert math.isclose(table["concession"].sum(), quote - floor, rel_tol=1e-9, abs_tol=1e-6)
    assert table["price_after"].iloc[-1] == pytest.approx(floor, abs=1e-6)
    assert (table["price_after"] <= quote + 1e-6).all() and (table["price_after"] >= floor - 1e-6).all()
    assert (table["concession"] >= -1e-9).all()  # a concession is never taken back
    if round_to is None:
        diffs = np.diff(table["concession"].to_numpy())
        if pattern == "shrinking":
            assert (diffs <= 1e-6 * max(1.0, quote)).all()
        if pattern == "growing":
            assert (diffs >= -1e-6 * max(1.0, quote)).all()


def test_lifetime_value():
    # 6 purchases x 250,000 on average = 1,500,000.
    assert lifetime_value(6, 250_000) == 1_500_000
    series = lifetime_value(pd.Series([2, 3], index=[5, 6]), 100)
    assert list(series.index) == [5, 6] and list(series) == [200, 300]
    assert math.isnan(lifetime_value(float("nan"), 100))  # blank in, blank out


def test_delivered_value():
    # Total customer value 900 - total customer cost 650 = 250; a cost above the value is negative.
    assert delivered_value(900, 650) == 250
    assert delivered_value(100, 160) == -60
    assert list(delivered_value(np.array([10.0, 20.0]), np.array([4.0, 25.0]))) == [6.0, -5.0]


@pytest.mark.parametrize("args, message", [((-1, 10), "expected_purchases cannot be negative"),
                                           ((1, "lots"), "average_amount must be a number"),
                                           ((1, float("inf")), "average_amount must be finite")])
def test_value_inputs_are_checked(args, message):
    with pytest.raises(ValueError, match=message):
        lifetime_value(*args)
    with pytest.raises(ValueError, match="total_cost cannot be negative"):
        delivered_value(10, -1)
