"""Historical win rates: won / (won + lost), by close period and by segment.

Each rate comes with its counts and a 95% Wilson score interval, which stays inside
0..1 and is honest for the small samples a key-account book has (3 won of 4 is not 75%
"for sure"). The trend looks at the last few periods up to the as-of date. The period
holding the as-of date is not over (unless the as-of date is its last day): it is labelled
"in progress" and has no change, so a half-finished quarter never moves the trend.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnel import catalog
from funnel.inputs.keys import codes_and_labels, decoded
from funnel.inputs.settings import Settings

__all__ = ["Z95", "wilson_interval", "win_rates", "win_rate_trend", "periods_not_over", "SEGMENTS", "competitor_present"]

Z95 = 1.959963984540054

SEGMENTS = ("owner", "team", "source", "product", "industry", "amount_band", "competitor_present")


def wilson_interval(won, closed, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson score interval for won of closed (arrays or numbers); NaN where closed is 0."""
    won = np.asarray(won, dtype=float)
    n = np.asarray(closed, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = won / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
        low = np.where(n > 0, np.clip(centre - half, 0, 1), np.nan)
        high = np.where(n > 0, np.clip(centre + half, 0, 1), np.nan)
    return low, high


def competitor_present(deals: pd.DataFrame) -> pd.Series:
    """``yes`` where the deal names at least one competitor, else ``no``."""
    return pd.Series(np.where(_names_competitor(deals), "yes", "no"), index=deals.index)


def _names_competitor(deals: pd.DataFrame) -> np.ndarray:
    # Once per distinct cell: a book repeats a few competitor lists many times.
    codes, cells = codes_and_labels(deals["competitors"], sort=False)
    named = [not _blank_cell(cell) and str(cell).replace(";", "").strip() != "" for cell in cells.tolist()]
    return np.array([*named, False], dtype=bool)[codes]


def _blank_cell(cell) -> bool:
    return cell is None or (isinstance(cell, float) and np.isnan(cell)) or cell is pd.NA


def _rates(closed: pd.DataFrame, codes: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
    # Grouped on the integer codes of the segment (row i in segment labels[codes[i]],
    # -1: none), in the labels' order: the text order a group-by on the text gives.
    amount = closed["amount"].fillna(0.0)
    frame = pd.DataFrame(
        {
            "segment": codes,
            "won": closed["is_won"].astype(int).to_numpy(),
            "lost": closed["is_lost"].astype(int).to_numpy(),
            "won_amount": amount.where(closed["is_won"], 0.0).to_numpy(),
            "lost_amount": amount.where(closed["is_lost"], 0.0).to_numpy(),
        }
    )
    if (codes < 0).any():
        frame = frame[codes >= 0]  # a group-by leaves blank keys out
    table = frame.groupby("segment", sort=True).sum()
    table.index = pd.Index(labels[table.index.to_numpy()], name="segment")
    table = table.reset_index()
    table["closed"] = table["won"] + table["lost"]
    table["win_rate"] = table["won"] / table["closed"]
    table["ci_low"], table["ci_high"] = wilson_interval(table["won"], table["closed"])
    return table


def _segment_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    # The segment's codes and labels as its text (``astype(str)``) groups: a key column
    # of text without blanks (every segment of the deal table) is its own text.
    codes, labels = codes_and_labels(values)
    if (codes >= 0).all() and all(type(v) is str for v in labels.tolist()):
        return codes, labels
    return codes_and_labels(pd.Series(decoded(values), index=values.index).astype(str))


def periods_not_over(settings: Settings) -> tuple[str, str | None]:
    """(the as-of date's period, that period when it is not over yet, else None).

    The period holding the as-of date is over only when as-of is its last day.
    """
    from funnel.inputs.periods import period_of

    as_of = pd.Timestamp(settings.as_of).date()
    current = period_of(as_of, settings)
    return current, current if period_of(as_of + pd.Timedelta(days=1), settings) == current else None


def win_rates(deals: pd.DataFrame, settings: Settings | None = None) -> pd.DataFrame:
    """Win rates overall, by close period and by each segment of ``SEGMENTS``.

    Args:
        deals: the deal table.
        settings: for the status of period rows (as-of, periods, language); None leaves
            every status blank.

    Returns:
        Long table: dimension, segment, won, lost, closed, win_rate, ci_low, ci_high,
        won_amount, lost_amount, status ("in progress" on a period row whose period is not
        over at as-of: the as-of period, or a later one a deal closed in early; else blank).
        dimension ``overall`` has one row ``all``.
    """
    wanted = ["is_won", "is_lost", "amount", "period", "competitors", *SEGMENTS]
    # Only the columns read here: cutting the whole deal table would copy every column.
    closed = deals.loc[deals["is_won"] | deals["is_lost"], [c for c in wanted if c in deals.columns]]
    columns = ["dimension", "segment", "won", "lost", "closed", "win_rate", "ci_low", "ci_high", "won_amount", "lost_amount", "status"]
    if closed.empty:
        return pd.DataFrame(columns=columns)
    everyone = np.zeros(len(closed), dtype=np.intp)
    parts = [_rates(closed, everyone, np.array(["all"], dtype=object)).assign(dimension="overall")]
    parts.append(_rates(closed, *codes_and_labels(closed["period"])).assign(dimension="period"))
    for segment in SEGMENTS:
        if segment == "competitor_present":
            codes, labels = _names_competitor(closed).astype(np.intp), np.array(["no", "yes"], dtype=object)
        else:
            codes, labels = _segment_codes(closed[segment])
        parts.append(_rates(closed, codes, labels).assign(dimension=segment))
    table = pd.concat(parts, ignore_index=True)
    table["status"] = ""
    if settings is not None:
        from funnel.inputs.periods import NO_CLOSE_DATE

        current, in_progress = periods_not_over(settings)
        period = (table["dimension"] == "period") & (table["segment"] != NO_CLOSE_DATE)
        unfinished = period & ((table["segment"] > current) | (table["segment"] == in_progress))
        table.loc[unfinished, "status"] = catalog.text("status.period.in_progress", settings.language)
    return table[columns]


def win_rate_trend(deals: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Win rate of each of the last ``settings.trend_periods`` periods up to as-of.

    The period holding the as-of date is in progress unless the as-of date is its last
    day: its status says so and it has no change (nor does the change of the period after
    it compare with it: none is shown after as-of).

    Returns:
        period, won, lost, closed, win_rate, ci_low, ci_high, change (vs the period before,
        in percentage points as a fraction; blank for a period in progress), status
        ("in progress" in the workbook's language, else blank).
    """
    from funnel.inputs.periods import NO_CLOSE_DATE

    closed = deals.loc[(deals["is_won"] | deals["is_lost"]) & (deals["period"] != NO_CLOSE_DATE), ["is_won", "is_lost", "amount", "period"]]
    columns = ["period", "won", "lost", "closed", "win_rate", "ci_low", "ci_high", "change", "status"]
    if closed.empty:
        return pd.DataFrame(columns=columns)
    current, in_progress = periods_not_over(settings)
    table = _rates(closed, *codes_and_labels(closed["period"])).rename(columns={"segment": "period"})
    table = table[table["period"] <= current].tail(settings.trend_periods).reset_index(drop=True)
    unfinished = (table["period"] == in_progress).to_numpy()
    table["change"] = table["win_rate"].diff().where(~unfinished)
    table["status"] = np.where(unfinished, catalog.text("status.period.in_progress", settings.language), "")
    return table[columns]
