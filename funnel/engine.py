"""The engine: validated inputs in, every output table out.

One way for data to flow:

    raw tables ──validate──▶ Inputs ──stage_probabilities──▶ deal_table ──▶ output tables

``run`` is what ``funnel report``, ``funnel refresh`` and the Refresh button all call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from funnel.forecast.deals import deal_table
from funnel.forecast.pipeline import weighted_pipeline
from funnel.forecast.stages import history_keys, reached_order, stage_probabilities
from funnel.forecast.stagestats import stage_statistics
from funnel.forecast.winrates import win_rate_trend, win_rates
from funnel.gcpause import collector_paused
from funnel.inputs.issues import IssueLog
from funnel.inputs.settings import Settings
from funnel.inputs.validation import Inputs, validate
from funnel.methods.competition import competition_tables, deal_qualification_columns
from funnel.parallel import in_child
from funnel.winmodel.calibration import reliability_by_bin
from funnel.winmodel.model import model_probability
from funnel.winmodel.tables import win_tables

__all__ = ["Report", "run", "run_inputs", "summary_table", "OUTPUT_TABLES"]

# Every output table, in the order a report lists them.
OUTPUT_TABLES = (
    "summary",
    "stage_stats",
    "forecast",
    "forecast_teams",
    "forecast_periods",
    "win_rates",
    "win_rate_trend",
    "deal_scores",
    "range_forecast",
    "calibration",
    "reliability",
    "reliability_chart",
    "health_counts",
    "head_to_head",
    "comparison_result",
    "comparison_gaps",
    "qualification",
    "accounts",
    "decision_chain",
    "issues",
)


@dataclass
class Report:
    """The result of one engine run."""

    settings: Settings
    inputs: Inputs
    deals: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]


def summary_table(deals: pd.DataFrame, settings: Settings, issues: int) -> pd.DataFrame:
    """Headline figures as metric/value rows.

    open_deals, open_amount, weighted_pipeline, won_deals, won_amount, lost_deals,
    win_rate (won / (won + lost); blank with no closed deal), issues, as_of, currency.
    """
    is_open, won, lost = deals["is_open"], deals["is_won"], deals["is_lost"]
    amount = deals["amount"].fillna(0.0)
    closed = int(won.sum() + lost.sum())
    rows = [
        ("as_of", pd.Timestamp(settings.as_of)),
        ("open_deals", int(is_open.sum())),
        ("open_amount", float(amount[is_open].sum())),
        ("weighted_pipeline", float(deals.loc[is_open, "weighted"].sum())),
        ("won_deals", int(won.sum())),
        ("won_amount", float(amount[won].sum())),
        ("lost_deals", int(lost.sum())),
        ("win_rate", float(won.sum() / closed) if closed else np.nan),
        ("probability_method", settings.probability_method),
        ("currency", settings.currency),
        ("issues", int(issues)),
    ]
    return pd.DataFrame(rows, columns=["metric", "value"])


# What qualification adds to each row of the Deal scores table.
_DEAL_SCORE_QUALIFICATION = ("urgency", "importance", "completeness_6w2p", "man_ok", "go_ok", "role_coverage", "dm_supportive", "risks")


def _with_qualification(scores: pd.DataFrame, deals: pd.DataFrame, qualification: pd.DataFrame) -> pd.DataFrame:
    """Deal scores plus each deal's qualification and decision-chain columns, by deal id."""
    extra = qualification.reindex(columns=list(_DEAL_SCORE_QUALIFICATION)).set_axis(deals["id"].to_numpy())
    return scores.join(extra, on="id")


def run_inputs(inputs: Inputs) -> Report:
    """Run every analysis on validated inputs."""
    s = inputs.settings
    # Integer keys of the history rows, looked up once for every analysis below.
    keys = history_keys(inputs.opportunities, inputs.stage_history, inputs.stages)
    reached = reached_order(inputs.opportunities, inputs.stage_history, inputs.stages, keys)
    probabilities = stage_probabilities(inputs.opportunities, inputs.stage_history, inputs.stages, s.prior_strength, reached)
    deals = deal_table(inputs.opportunities, inputs.stages, probabilities, s)
    if s.forecast_method == "model":
        # The per-deal model replaces stage probabilities where it has learned enough;
        # overrides and closed deals keep theirs (deal_table sees to that).
        deals = deal_table(inputs.opportunities, inputs.stages, probabilities, s,
                           probability=model_probability(inputs, deals, reached=reached))
    # The win model, its backtest, the range forecast and the win-rate trend are pure: where
    # the platform forks they are computed in a child process beside the rest (at 100k
    # deals 0.66 s of work there, 0.70 s here).
    def win_side() -> dict[str, pd.DataFrame]:
        return {"win_rate_trend": win_rate_trend(deals, s), **win_tables(inputs, deals, reached=reached, keys=keys)}

    with in_child(win_side) as win:
        stage_stats = stage_statistics(deals, inputs.stage_history, inputs.stages, probabilities, s.probability_method, reached, keys)
        forecasts = {name: weighted_pipeline(deals, inputs.quotas, by) for name, by in
                     (("forecast", ["period", "team", "owner"]), ("forecast_teams", ["period", "team"]), ("forecast_periods", ["period"]))}
        rates = win_rates(deals)
        competition = competition_tables(inputs, deals)  # reports problems to inputs.log: here
        qualification = deal_qualification_columns(inputs, deals, accounts=competition["accounts"])
        tables = {"stage_stats": stage_stats, **forecasts, "win_rates": rates, **win.result()}
    tables["reliability_chart"] = reliability_by_bin(tables["reliability"])
    tables.update(competition)
    tables["deal_scores"] = _with_qualification(tables["deal_scores"], deals, qualification)
    issues = inputs.issues
    tables["summary"] = pd.concat([summary_table(deals, s, len(issues)), tables["health_counts"]], ignore_index=True)
    tables["issues"] = issues
    ordered = {name: tables[name] for name in OUTPUT_TABLES if name in tables}
    ordered.update({k: v for k, v in tables.items() if k not in ordered})
    return Report(settings=s, inputs=inputs, deals=deals, tables=ordered)


def run(
    raw: dict[str, pd.DataFrame | None],
    overrides: dict[str, str] | None = None,
    log: IssueLog | None = None,
) -> Report:
    """Validate raw tables and run every analysis.

    Args:
        raw: table name -> DataFrame in the contract's column names; index = the row the
            user sees.
        overrides: settings to override for this run (``--set KEY=VALUE``).
        log: problems found while reading the tables, reported with the rest.

    Raises:
        ValueError: an override names an unknown setting or has a bad value.
    """
    with collector_paused():
        return run_inputs(validate(raw, overrides, log))
