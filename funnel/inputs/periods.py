"""Forecast periods: months (``2026-03``) or fiscal quarters (``2026-Q1``).

A fiscal year is named by the calendar year it ends in, so with a fiscal year starting in
April, April-June 2026 is ``2027-Q1``. With the default January start, fiscal and
calendar years agree. Labels sort in time order as text.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from funnel.inputs import parsing
from funnel.inputs.keys import labelled
from funnel.inputs.settings import Settings

__all__ = ["NO_CLOSE_DATE", "period_labels", "period_of", "normalize_period_label", "period_start"]

NO_CLOSE_DATE = "no close date"


def period_labels(dates: pd.Series, settings: Settings) -> pd.Series:
    """The period label of each date; missing dates get ``NO_CLOSE_DATE``.

    A categorical column (categories in text order, which is time order): each distinct
    period's label is written once.
    """
    dates = pd.to_datetime(dates)
    missing = dates.isna().to_numpy()
    year = dates.dt.year.fillna(0).astype(int).to_numpy()
    month = dates.dt.month.fillna(1).astype(int).to_numpy()
    if settings.period == "month":
        key = year * 12 + (month - 1)
    else:
        start = settings.fiscal_year_start_month
        shifted = (month - start) % 12  # months into the fiscal year
        fy = year + ((month >= start) & (start != 1)).astype(int)
        key = fy * 4 + shifted // 3
    key = np.where(missing, np.iinfo(np.int64).max, key.astype(np.int64))
    distinct, codes = np.unique(key, return_inverse=True)
    if settings.period == "month":
        names = [f"{k // 12}-{k % 12 + 1:02d}" for k in distinct.tolist()]
    else:
        names = [f"{k // 4}-Q{k % 4 + 1}" for k in distinct.tolist()]
    if missing.any():
        names[-1] = NO_CLOSE_DATE
    return labelled(codes.reshape(-1), names, dates.index)


def period_of(day: dt.date, settings: Settings) -> str:
    """The period label of one date."""
    return period_labels(pd.Series([pd.Timestamp(day)]), settings).iloc[0]


def period_start(label: str, settings: Settings) -> dt.date:
    """The first day of a period label."""
    if settings.period == "month":
        year, month = label.split("-")
        return dt.date(int(year), int(month), 1)
    fy, q = label.split("-Q")
    start = settings.fiscal_year_start_month
    month0 = start - 1 + (int(q) - 1) * 3  # months after January of the fiscal start year
    year = int(fy) - (1 if start != 1 else 0) + month0 // 12
    return dt.date(year, month0 % 12 + 1, 1)


_QUARTER = (
    re.compile(r"^(?:FY)?\s*(\d{4})\s*[-/ ]?\s*Q([1-4])$", re.I),
    re.compile(r"^Q([1-4])\s*[-/ ]?\s*(?:FY)?\s*(\d{4})$", re.I),
    re.compile(r"^(\d{4})\s*年?\s*第?\s*([1-4一二三四])\s*季度?$"),
)
_MONTH = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$")
_CN_DIGITS = {"一": "1", "二": "2", "三": "3", "四": "4"}


def normalize_period_label(value: object, settings: Settings) -> str:
    """Read a period as typed in a quota table into the engine's label.

    Accepts ``2026-Q1``, ``2026Q1``, ``Q1 2026``, ``FY2026 Q1``, ``2026年第1季度``,
    ``2026-03``, ``2026年3月`` and dates (the period containing the date).

    Raises:
        ValueError: the period cannot be read, or is a month in a quarterly workbook
            (or the reverse), naming the value.
    """
    if isinstance(value, (dt.date, pd.Timestamp)):
        return period_of(value, settings)
    text = parsing.fold(str(value)) if value is not None else ""
    if not text:
        raise ValueError("period is blank")
    for i, pattern in enumerate(_QUARTER):
        match = pattern.match(text)
        if match:
            a, b = match.groups()
            year, quarter = (a, b) if i != 1 else (b, a)
            quarter = _CN_DIGITS.get(quarter, quarter)
            if settings.period != "quarter":
                raise ValueError(f"period '{value}' is a quarter but the workbook forecasts by month")
            return f"{int(year)}-Q{int(quarter)}"
    match = _MONTH.match(text)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            raise ValueError(f"period '{value}' has no month {month}")
        if settings.period == "month":
            return f"{year}-{month:02d}"
        raise ValueError(f"period '{value}' is a month but the workbook forecasts by quarter")
    try:
        day = parsing.parse_date(value)
    except parsing.ParseError:
        day = None
    if day is not None:
        return period_of(day, settings)
    example = "2026-Q1" if settings.period == "quarter" else "2026-03"
    raise ValueError(f"period '{value}' cannot be read (write it like {example})")
