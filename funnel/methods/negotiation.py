"""Negotiation and customer value: concession plans, lifetime value, delivered value.

A concession plan spreads the room between the quote and the floor price over a few
steps. The course (a quote of 120 million against a floor of 110 million) compares four
ways to give up the 10 million and advises against three of them:

    single     all of it at once      the buyer doubts it is the floor and keeps pushing
    growing    100, 200, 300, 400     small first steps look insincere; the buyer balks
    equal      200 x 5                the buyer learns the rhythm and cuts deeper
    shrinking  big first, then less   recommended: it signals the floor is near

Shrinking steps here are proportional to n, n-1, .., 1 (a room of 10 over 4 steps gives
4, 3, 2, 1); growing steps are the reverse (1, 2, 3, 4, the course's example); equal
steps are room / n; single is one step of the whole room, whatever the step count.

Customer value (客户价值): lifetime value = expected number of purchases x average
purchase amount; delivered value (让渡价值) = total customer value - total customer cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from funnel.catalog import LANGUAGES, entry, group
from funnel.methods.labels import codes, parse_enum

__all__ = ["PATTERNS", "WARNINGS", "ConcessionPlan", "concession_plan", "lifetime_value", "delivered_value"]

PATTERNS = codes("concession")

# What the course says happens with each pattern (en, zh-CN); shrinking is the one it advises.
WARNINGS: dict[str, dict[str, str]] = {
    code: dict(zip(LANGUAGES, pair)) for code, pair in group("warning.concession").items()
}
# Why the recommended pattern works, shown instead of a warning.
ADVICE: dict[str, str] = dict(zip(LANGUAGES, entry("advice.concession.shrinking")))


@dataclass(frozen=True)
class ConcessionPlan:
    """A concession plan: the steps, and what the course says about the pattern."""

    pattern: str
    quote: float
    floor: float
    steps: pd.DataFrame
    recommended: bool
    warning: dict[str, str] = field(default_factory=dict)
    advice: dict[str, str] = field(default_factory=dict)

    @property
    def room(self) -> float:
        """The room to concede: quote - floor."""
        return self.quote - self.floor


def _number(value, name: str) -> float:
    # A finite number, or a ValueError naming the argument.
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, not {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, not {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    return number


def concession_plan(quote, floor, steps=4, pattern: str = "shrinking", round_to: float | None = None) -> ConcessionPlan:
    """Spread the room between a quote and the floor price over concession steps.

    Args:
        quote: the price quoted (the starting price).
        floor: the lowest price we may accept (the floor, 底价).
        steps: how many concessions (a whole number >= 1; ignored by ``single``).
        pattern: ``shrinking`` (recommended), ``equal``, ``growing`` or ``single``;
            the Chinese names and common variants are accepted too (``递减``, ``一次性``).
        round_to: round the prices to this unit (e.g. 1000); the rounding is done on the
            running total, so the concessions still add up to the room exactly.

    Returns:
        A ``ConcessionPlan``: its ``steps`` table has step (1..n), concession,
        cumulative (conceded so far), price_after (quote - cumulative) and share_of_room;
        ``recommended`` is True only for shrinking steps; ``warning`` holds the course's
        warning (``en`` and ``zh-CN``) for the patterns it advises against, ``advice``
        the reason shrinking steps work.

    Raises:
        ValueError: a quote, floor or unit that is not a finite number, a negative
            price, a floor above the quote, a step count that is not a whole number of
            at least 1, or an unknown pattern.
    """
    quote = _number(quote, "quote")
    floor = _number(floor, "floor")
    if quote < 0 or floor < 0:
        raise ValueError(f"prices cannot be negative (quote {quote:g}, floor {floor:g})")
    if floor > quote:
        raise ValueError(f"the floor price {floor:g} is above the quote {quote:g}: there is no room to concede")
    code = parse_enum("concession", pattern)
    if code is None:
        raise ValueError(f"unknown concession pattern {pattern!r} (use {', '.join(PATTERNS)})")
    count = _number(steps, "steps")
    if count < 1 or not count.is_integer():
        raise ValueError(f"steps must be a whole number of at least 1, not {steps!r}")
    n = 1 if code == "single" else int(count)
    if round_to is not None:
        round_to = _number(round_to, "round_to")
        if round_to <= 0:
            raise ValueError(f"round_to must be above 0, not {round_to:g}")
    room = quote - floor
    ramp = np.arange(1, n + 1, dtype=float)
    shape = {"shrinking": ramp[::-1], "growing": ramp, "equal": np.ones(n), "single": np.ones(1)}[code]
    cumulative = room * np.cumsum(shape) / shape.sum()
    cumulative[-1] = room  # exact: the last step lands on the floor
    if round_to is not None:
        cumulative = np.round(cumulative / round_to) * round_to
        # A unit as big as the room could round past the floor or backwards: never give back.
        cumulative = np.maximum.accumulate(np.clip(cumulative, 0.0, room))
        cumulative[-1] = room
    concession = np.diff(cumulative, prepend=0.0)
    table = pd.DataFrame({
        "step": np.arange(1, n + 1),
        "concession": concession,
        "cumulative": cumulative,
        "price_after": quote - cumulative,
        "share_of_room": concession / room if room > 0 else np.zeros(n),
    })
    recommended = code == "shrinking"
    return ConcessionPlan(
        pattern=code,
        quote=quote,
        floor=floor,
        steps=table,
        recommended=recommended,
        warning=dict(WARNINGS.get(code, {})),
        advice=dict(ADVICE) if recommended else {},
    )


def _values(value, name: str):
    # Scalars stay scalars, sequences become float arrays; blanks (NaN) pass through.
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number, not {value!r}")
    if np.isscalar(value) or value is None:
        try:
            number = float(value) if value is not None else math.nan
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a number, not {value!r}") from None
        if math.isinf(number):
            raise ValueError(f"{name} must be finite, not {value!r}")
        if number < 0:
            raise ValueError(f"{name} cannot be negative ({number:g})")
        return number
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers") from None
    if np.isinf(array).any():
        raise ValueError(f"{name} must be finite")
    if (array < 0).any():
        raise ValueError(f"{name} cannot be negative (found {array[array < 0][0]:g})")
    return array


def lifetime_value(expected_purchases, average_amount):
    """Customer lifetime value: expected number of purchases x average purchase amount.

    Args:
        expected_purchases: how many purchases the customer is expected to make (a number
            or an array / Series of them; blank gives blank).
        average_amount: the average amount of one purchase.

    Returns:
        The product (same shape as the inputs; a Series keeps its index).

    Raises:
        ValueError: a negative, infinite or non-numeric input.
    """
    index = expected_purchases.index if isinstance(expected_purchases, pd.Series) else None
    result = _values(expected_purchases, "expected_purchases") * _values(average_amount, "average_amount")
    return pd.Series(result, index=index) if index is not None else result


def delivered_value(total_value, total_cost):
    """Customer delivered value (让渡价值): total customer value - total customer cost.

    Args:
        total_value: what the customer gets (product, service, staff and image value).
        total_cost: what it costs the customer (money, time, effort, worry).

    Returns:
        The difference (negative when the customer pays more than it gets); same shape as
        the inputs, a Series keeps its index.

    Raises:
        ValueError: a negative, infinite or non-numeric input.
    """
    index = total_value.index if isinstance(total_value, pd.Series) else None
    result = _values(total_value, "total_value") - _values(total_cost, "total_cost")
    return pd.Series(result, index=index) if index is not None else result
