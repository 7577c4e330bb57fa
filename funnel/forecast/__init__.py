"""Stage and forecast analytics: how far deals get, what the pipeline is worth, and when.

stages          reached stages; configured / empirical / blended stage probabilities
deals           the deal table every analysis starts from (used probability, weighted)
pipeline        weighted pipeline by period, team and owner against quota
stagestats      per stage: open deals, conversion to next, days in stage
health          stale, overdue, pushed and inactive deals
range_forecast  P10 / P50 / P90 of what a period will book
winrates        win rates by period and segment with Wilson intervals
"""

from funnel.forecast.deals import NONE_LABEL, amount_band_labels, deal_table, with_probability
from funnel.forecast.health import HEALTH_COLUMNS, deal_health, health_counts, step_backs
from funnel.forecast.pipeline import FORECAST_COLUMNS, quota_table, weighted_pipeline
from funnel.forecast.ranges import (
    EXACT_DEALS,
    RANGE_COLUMNS,
    RESOLUTION,
    TAIL,
    OpenTotal,
    open_total,
    range_forecast,
)
from funnel.forecast.stages import (
    HistoryKeys,
    deal_time_order,
    history_keys,
    reached_order,
    stage_probabilities,
    used_probability,
)
from funnel.forecast.stagestats import days_in_current_stage, stage_durations, stage_statistics
from funnel.forecast.winrates import SEGMENTS, Z95, competitor_present, wilson_interval, win_rate_trend, win_rates

__all__ = [
    "NONE_LABEL",
    "deal_table",
    "with_probability",
    "amount_band_labels",
    "HEALTH_COLUMNS",
    "deal_health",
    "step_backs",
    "health_counts",
    "FORECAST_COLUMNS",
    "weighted_pipeline",
    "quota_table",
    "OpenTotal",
    "open_total",
    "range_forecast",
    "RANGE_COLUMNS",
    "TAIL",
    "RESOLUTION",
    "EXACT_DEALS",
    "reached_order",
    "HistoryKeys",
    "history_keys",
    "deal_time_order",
    "stage_probabilities",
    "used_probability",
    "stage_durations",
    "stage_statistics",
    "days_in_current_stage",
    "Z95",
    "wilson_interval",
    "win_rates",
    "win_rate_trend",
    "SEGMENTS",
    "competitor_present",
]
