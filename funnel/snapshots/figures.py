"""The forecast figures a snapshot keeps: per period × team × owner, and per period in total."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["FIGURE_COLUMNS", "forecast_figures"]

# The figures of one row; a period's total row has team and owner blank ("") and carries the
# range forecast's P10 / P50 / P90 where it has them (the current period and later).
FIGURE_COLUMNS = ("period", "team", "owner", "open_deals", "open_amount", "weighted", "pipeline", "best_case", "commit",
                  "won_deals", "closed_won", "lost_deals", "quota", "p10", "p50", "p90")


def forecast_figures(forecast: pd.DataFrame, forecast_periods: pd.DataFrame, ranges: pd.DataFrame) -> pd.DataFrame:
    """One frame of the figures a snapshot records.

    Args:
        forecast: ``Analysis.forecast`` (period × team × owner).
        forecast_periods: ``Analysis.forecast_periods`` (period totals).
        ranges: ``Analysis.range_forecast`` (P10 / P50 / P90 by period).

    Returns:
        ``FIGURE_COLUMNS``: the owners' rows, then one total row per period (team and owner
        ""), P10 / P50 / P90 blank on the owners' rows and on periods the range leaves out.
    """
    owners = forecast.assign(p10=np.nan, p50=np.nan, p90=np.nan)
    band = ranges.set_index("period")[["p10", "p50", "p90"]] if len(ranges) else pd.DataFrame(columns=["p10", "p50", "p90"])
    totals = forecast_periods.assign(team="", owner="").join(band.astype(float), on="period")
    out = pd.concat([owners.reindex(columns=list(FIGURE_COLUMNS)), totals.reindex(columns=list(FIGURE_COLUMNS))],
                    ignore_index=True)
    for col in ("period", "team", "owner"):
        out[col] = out[col].astype(str)
    for col in FIGURE_COLUMNS[3:]:
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    return out
