"""One analysis of one set of validated inputs: every derived table, computed once, when asked.

Each derived table is a cached attribute of ``Analysis``; what it is computed from are the
attributes it reads, so asking for one table computes exactly what it needs, once::

    Inputs ─▶ keys, stages_in_use, reached ─▶ stage_probabilities ─▶ stage_deals ─▶ win_model
                                                          │              │
                                                          ▼              ▼
                                  deals (the forecast's probabilities: stage, or the model's)
                                    │
      ┌──────────────┬──────────────┼───────────────┬──────────────────┬─────────────────┐
      ▼              ▼              ▼               ▼                  ▼                 ▼
    stage_stats   forecast*     win_rates      model_scores,      comparison,       qualification,
                                win_rate_trend health, backtest    head_to_head      accounts, stakeholders
                                               ─▶ deal_scores,     (problems go      ─▶ decision_chain
                                               range_forecast,     to the log)
                                               calibration, ...
                                    └──────────────── issues ─▶ summary ────────────────┘

``tables()`` materialises every output table in report order: what the Refresh button,
``funnel refresh`` and ``funnel report`` show. A worksheet function asks one ``Analysis``
for the one table or figure it needs (``udfs.functions``).

How the work is run is the caller's choice, never this module's: ``tables(executor=...)``
hands the independent win-model branch to any executor with ``submit(fn)`` returning an
object with ``result()`` (``concurrent.futures`` executors; ``udfs.runtime`` forks a child
where that is safe). The tables are the same whichever runs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable, Protocol

import numpy as np
import pandas as pd

from funnel.forecast.calls import call_rollup
from funnel.forecast.dashboard import flag_counts, owner_attainment, period_figures, top_gaps, top_risks
from funnel.forecast.deals import deal_table, with_probability
from funnel.forecast.health import deal_health, health_counts, with_close_pushes
from funnel.forecast.pipeline import quota_table, weighted_pipeline
from funnel.forecast.ranges import range_forecast
from funnel.forecast.readiness import readiness_issues
from funnel.forecast.risk import risk_columns, sorted_by_risk
from funnel.forecast.stages import (
    HistoryKeys,
    history_keys,
    reached_order,
    stage_probabilities,
    stages_in_use,
)
from funnel.forecast.stagestats import stage_statistics
from funnel.forecast.winrates import win_rate_trend, win_rates
from funnel.inputs.issues import IssueLog
from funnel.inputs.periods import period_of
from funnel.inputs.refusals import RefreshRefused
from funnel.inputs.settings import Settings
from funnel.inputs.validation import Inputs, validate
from funnel.methods.competition import check_importance_settings, comparison_tables, head_to_head, read_comparison
from funnel.methods.decision_chain import chain_columns, decision_chain_table, read_stakeholders
from funnel.methods.labels import localize
from funnel.methods.qualification import account_grades, qualification_columns, qualification_table
from funnel.snapshots.history import HISTORY_TABLES, History, history_tables
from funnel.winmodel.calibration import BacktestPredictions, backtest_predictions, backtest_tables, reliability_by_bin
from funnel.winmodel.choice import Choice, choice_table, choose_method
from funnel.winmodel.model import WinModel, deal_scores_table, fit_win_model, model_probabilities, score_deals

__all__ = ["Analysis", "Report", "OUTPUT_TABLES", "WIN_BRANCH", "Executor", "run", "summary_table"]

# Every output table, in the order a report lists them.
OUTPUT_TABLES = (
    "dashboard_figures",
    "dashboard_flags",
    "dashboard_risks",
    "dashboard_owners",
    "dashboard_gaps",
    "summary",
    "stage_stats",
    "forecast",
    "forecast_teams",
    "forecast_periods",
    "forecast_calls_rollup",
    "win_rates",
    "win_rate_trend",
    "deal_scores",
    "range_forecast",
    "calibration",
    "reliability",
    "reliability_chart",
    "forecast_choice",
    "health_counts",
    "head_to_head",
    "comparison_result",
    "comparison_gaps",
    "qualification",
    "accounts",
    "decision_chain",
    *HISTORY_TABLES,
    "issues",
)

# Independent of the rest once ``deals`` is known, pure (they write nothing to the log), and
# a third of the work: what an executor may compute beside the rest.
WIN_BRANCH = ("model_scores", "health", "calibration", "reliability", "range_forecast", "health_counts", "win_rate_trend")

# What is computed here while an executor computes WIN_BRANCH (everything else that does
# not need the branch; the tables that report problems to the log among them).
_BESIDE_THE_BRANCH = ("stage_stats", "forecast", "forecast_teams", "forecast_periods", "forecast_calls_rollup", "win_rates", "comparison",
                      "head_to_head", "accounts", "qualification", "stakeholders", "chain", "decision_chain", "deal_qualification")

# What the store's history changes: the history's own tables and what reads the deal
# history (the pushed flag, the Deal scores, and what counts their flags).
_WITH_HISTORY = ("history", "history_frames", "deal_history", "health", "health_counts", "deal_scores", "dashboard_flags",
                 "dashboard_risks", "summary", *HISTORY_TABLES)
# What the deal history adds to each row of the Deal scores table.
_DEAL_SCORE_HISTORY = ("close_pushes", "days_slipped", "first_close_date", "amount_change", "days_in_stage_recorded",
                       "stage_backwards")

# What qualification adds to each row of the Deal scores table.
_DEAL_SCORE_QUALIFICATION = ("urgency", "importance", "completeness_6w2p", "man_ok", "go_ok", "role_coverage", "dm_supportive", "risks")


class Executor(Protocol):
    """Anything that runs ``fn()`` elsewhere and hands back an object with ``result()``."""

    def submit(self, fn: Callable[[], Any], /) -> Any:
        """Start ``fn()``; the returned object's ``result()`` gives its value (or raises its
        error) and ``cancel()`` says it is no longer wanted."""


def summary_table(deals: pd.DataFrame, settings: Settings, issues: int) -> pd.DataFrame:
    """Headline figures as metric/value rows.

    as_of, open_deals, open_amount, weighted_pipeline, won_deals, won_amount, lost_deals,
    win_rate (won / (won + lost); blank with no closed deal), probability_method,
    currency, issues.
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


class Analysis:
    """Every derived table of one set of validated inputs, each computed once, when first read.

    Attributes are read-only results shared by whoever asks (a refresh, several worksheet
    functions on the same tables): never modify a frame you are given.
    """

    def __init__(self, inputs: Inputs, history: History | None = None) -> None:
        self.inputs = inputs
        self.settings: Settings = inputs.settings
        self.history = history

    def with_history(self, history: History | None) -> Analysis:
        """This analysis with the snapshot store's history: a new one that shares every table
        already computed except those the history changes (``_WITH_HISTORY``)."""
        other = Analysis(self.inputs, history)
        other.__dict__.update({k: v for k, v in self.__dict__.items() if k not in _WITH_HISTORY and k not in ("inputs", "settings")})
        return other

    # --- the shared start ------------------------------------------------------------------

    @cached_property
    def keys(self) -> HistoryKeys:
        """Integer keys of the history rows (deal and stage positions), looked up once."""
        i = self.inputs
        return history_keys(i.opportunities, i.stage_history, i.stages)

    @cached_property
    def stages_in_use(self) -> np.ndarray:
        """Per stage row: whether some deal is in it now or some history row records it."""
        i = self.inputs
        return stages_in_use(i.opportunities, i.stage_history, i.stages, self.keys)

    @cached_property
    def reached(self) -> pd.Series:
        """How far each deal got: the order of the furthest open stage it reached."""
        i = self.inputs
        return reached_order(i.opportunities, i.stage_history, i.stages, self.keys, self.stages_in_use)

    @cached_property
    def stage_probabilities(self) -> pd.DataFrame:
        """Per stage: configured, empirical and blended probability, with their support."""
        i = self.inputs
        return stage_probabilities(i.opportunities, i.stage_history, i.stages, self.settings.prior_strength, self.reached,
                                   self.stages_in_use)

    @cached_property
    def stage_deals(self) -> pd.DataFrame:
        """The deal table with the stage method's probabilities."""
        i = self.inputs
        return deal_table(i.opportunities, i.stages, self.stage_probabilities, self.settings)

    @cached_property
    def win_model(self) -> WinModel:
        """The per-deal win model, learned from the closed deals, through the calibration map
        the backtest picked: the very map it scored (fitted on out-of-fold predictions of the
        deals closed before its cut-off: ``funnel.winmodel.calibration``)."""
        i = self.inputs
        model = fit_win_model(self.stage_deals, i.stage_history, i.stages, self.settings, reached=self.reached)
        found = self.backtest_predictions
        if model.usable and found is not None and not found.model_fell_back and found.calibration != "none":
            model.calibration = found.maps[found.calibration]
        return model

    @cached_property
    def backtest_predictions(self) -> BacktestPredictions | None:
        """Every method's predictions of the deals closed after the backtest's cut-off.

        On the stage method's deal table: a closed deal's facts and outcome are the same in
        either, and the choice of method (``deals``) is made on this backtest."""
        i = self.inputs
        return backtest_predictions(self.stage_deals, i.stage_history, i.stages, self.settings, reached=self.reached, keys=self.keys)

    @cached_property
    def method_choice(self) -> Choice:
        """Which probability the forecast uses, and the backtest figures it was chosen on."""
        s = self.settings
        if s.forecast_method == "stage":  # nothing to learn or backtest to forecast by the stage
            return choose_method(None, s.probability_method, "stage")
        return choose_method(self.backtest_predictions, s.probability_method, s.forecast_method, self.win_model.usable)

    @cached_property
    def forecast_choice(self) -> pd.DataFrame:
        """The choice of ``method_choice`` as the Win rates sheet's one-row table."""
        return choice_table(self.method_choice, self.settings.language)

    @cached_property
    def deals(self) -> pd.DataFrame:
        """The deal table every forecast reads: the per-deal model's probability where
        ``method_choice`` chose the model (overrides and closed deals keep theirs); else
        the stage probabilities."""
        if self.method_choice.method != "model":
            return self.stage_deals
        return with_probability(self.stage_deals, model_probabilities(self.win_model, self.stage_deals, self.reached))

    # --- stages and forecasts ----------------------------------------------------------------

    @cached_property
    def stage_stats(self) -> pd.DataFrame:
        i = self.inputs
        return stage_statistics(self.deals, i.stage_history, i.stages, self.stage_probabilities,
                                self.settings.probability_method, self.reached, self.keys, self.settings.language)

    @cached_property
    def forecast(self) -> pd.DataFrame:
        return weighted_pipeline(self.deals, self.inputs.quotas, ["period", "team", "owner"])

    @cached_property
    def forecast_teams(self) -> pd.DataFrame:
        return weighted_pipeline(self.deals, self.inputs.quotas, ["period", "team"])

    @cached_property
    def forecast_periods(self) -> pd.DataFrame:
        return weighted_pipeline(self.deals, self.inputs.quotas, ["period"])

    @cached_property
    def forecast_calls_rollup(self) -> pd.DataFrame:
        """The calls of every level of the hierarchy beside the system's forecast over the
        people below (``funnel.forecast.calls``); the hierarchy's problems go to the log."""
        i = self.inputs
        return call_rollup(i.forecast_calls, i.people, self.forecast, i.log, self.deals)

    @cached_property
    def win_rates(self) -> pd.DataFrame:
        return win_rates(self.deals, self.settings)

    @cached_property
    def win_rate_trend(self) -> pd.DataFrame:
        return win_rate_trend(self.deals, self.settings)

    @cached_property
    def range_forecast(self) -> pd.DataFrame:
        deals = self.deals
        quota = quota_table(self.inputs.quotas, deals, ["period"]) if not deals.empty else pd.Series(dtype=float)
        return range_forecast(deals, quota)

    # --- the win model, deal health and the backtest -------------------------------------------

    @cached_property
    def model_scores(self) -> pd.DataFrame:
        """The model's probability of every open deal, with the factors that explain it."""
        i = self.inputs
        return score_deals(self.win_model, self.deals, i.stage_history, i.stages, reached=self.reached,
                           language=self.settings.language)

    @cached_property
    def health(self) -> pd.DataFrame:
        """Stale, overdue, pushed and inactive flags of every deal."""
        i = self.inputs
        health = deal_health(self.deals, i.stage_history, i.stages, self.settings, keys=self.keys)
        if self.history is None or self.history.empty:
            return health
        return with_close_pushes(health, self.deals, self.deal_history)

    @cached_property
    def backtest(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(calibration, reliability) of the stage methods and the model, on a time split."""
        return backtest_tables(self.backtest_predictions, self.settings.language)

    @cached_property
    def calibration(self) -> pd.DataFrame:
        return self.backtest[0]

    @cached_property
    def reliability(self) -> pd.DataFrame:
        return self.backtest[1]

    @cached_property
    def reliability_chart(self) -> pd.DataFrame:
        return reliability_by_bin(self.reliability)

    @cached_property
    def health_counts(self) -> pd.DataFrame:
        return health_counts(self.deals, self.health)

    @cached_property
    def deal_scores(self) -> pd.DataFrame:
        """One row per open deal: stage and model probability, its factors, health flags and
        the deal's qualification and decision-chain figures; the amount at risk and why,
        the most at risk first (``funnel.forecast.risk``)."""
        deals = self.deals
        scores = deal_scores_table(deals, self.model_scores, self.health)
        # The Deal scores rows are the open deals in the deals' order (ids are unique): their
        # qualification rows by position, not by hashing every id again.
        extra = self.deal_qualification.reindex(columns=list(_DEAL_SCORE_QUALIFICATION))
        extra = extra[deals["is_open"].to_numpy(dtype=bool)].set_axis(scores.index)
        if self.settings.language != "en":
            # A Chinese book reads the words, not the codes (an English one keeps its codes).
            for kind in ("urgency", "importance"):
                extra[kind] = localize(extra[kind], kind, self.settings.language)
        scores = scores.join(extra)
        dealt = self.deal_history.set_index("deal_id").reindex(columns=list(_DEAL_SCORE_HISTORY))
        scores = scores.join(dealt[~dealt.index.duplicated()], on="id")
        return sorted_by_risk(scores.join(risk_columns(scores, self.settings.language)))

    # --- the snapshot store's history (funnel.snapshots.history) ---------------------------------

    @cached_property
    def history_frames(self) -> dict[str, pd.DataFrame]:
        """The history's tables: changes, the forecast over time, accuracy, push rates and the
        deal history; empty with a note when there is no history."""
        actuals = pd.concat([self.forecast[["period", "team", "owner", "closed_won"]],
                             self.forecast_periods[["period", "closed_won"]].assign(team="", owner="")], ignore_index=True)
        actuals = actuals.assign(period=actuals["period"].astype(str), team=actuals["team"].astype(str),
                                 owner=actuals["owner"].astype(str))
        return history_tables(self.history, self.settings, actuals, self.inputs.stages)

    @cached_property
    def deal_history(self) -> pd.DataFrame:
        return self.history_frames["deal_history"]

    @cached_property
    def history_note(self) -> pd.DataFrame:
        return self.history_frames["history_note"]

    @cached_property
    def pipeline_flow(self) -> pd.DataFrame:
        return self.history_frames["pipeline_flow"]

    @cached_property
    def flow_chart(self) -> pd.DataFrame:
        return self.history_frames["flow_chart"]

    @cached_property
    def forecast_trend(self) -> pd.DataFrame:
        return self.history_frames["forecast_trend"]

    @cached_property
    def forecast_accuracy(self) -> pd.DataFrame:
        return self.history_frames["forecast_accuracy"]

    @cached_property
    def accuracy_summary(self) -> pd.DataFrame:
        return self.history_frames["accuracy_summary"]

    @cached_property
    def accuracy_chart(self) -> pd.DataFrame:
        return self.history_frames["accuracy_chart"]

    @cached_property
    def push_rates(self) -> pd.DataFrame:
        return self.history_frames["push_rates"]

    # --- competition (these report problems in their tables to the log) ------------------------

    @cached_property
    def comparison(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(comparison_result, comparison_gaps): the weighted comparison tables."""
        s, i = self.settings, self.inputs
        check_importance_settings(s, i.log)
        long, vendors, us = read_comparison(i.comparison, self.deals["id"], s.comparison_scale_max, i.log,
                                            getattr(s, "comparison_us", None))
        return comparison_tables(long, vendors, us, s.language)

    @cached_property
    def comparison_result(self) -> pd.DataFrame:
        return self.comparison[0]

    @cached_property
    def comparison_gaps(self) -> pd.DataFrame:
        return self.comparison[1]

    @cached_property
    def head_to_head(self) -> pd.DataFrame:
        return head_to_head(self.deals, self.inputs.competitors, self.settings.language, self.inputs.log)

    # --- qualification and the decision chain ---------------------------------------------------

    @cached_property
    def accounts(self) -> pd.DataFrame:
        return account_grades(self.deals, self.settings.language)

    @cached_property
    def qualification_columns(self) -> pd.DataFrame:
        """Per deal: 5W+2P / 6W+2P answers, MAN, go/no-go, urgency, importance, account grade."""
        return qualification_columns(self.deals, self.settings, self.accounts)

    @cached_property
    def qualification(self) -> pd.DataFrame:
        return qualification_table(self.deals, self.settings, self.qualification_columns)

    @cached_property
    def stakeholders(self) -> pd.DataFrame:
        """The usable rows of the Stakeholders table (problems go to the log)."""
        return read_stakeholders(self.inputs.stakeholders, self.deals["id"], self.inputs.log)

    @cached_property
    def chain(self) -> pd.DataFrame:
        """Each deal's decision-chain columns, indexed like ``deals``."""
        return chain_columns(self.stakeholders, self.deals, self.settings.language)

    @cached_property
    def decision_chain(self) -> pd.DataFrame:
        return decision_chain_table(self.stakeholders, self.deals, self.settings.language, self.chain)

    @cached_property
    def deal_qualification(self) -> pd.DataFrame:
        """``qualification_columns`` and each deal's decision-chain columns, indexed like ``deals``."""
        return self.qualification_columns.join(self.chain)

    # --- the Dashboard: the current period at a glance (funnel.forecast.dashboard) ------------

    @cached_property
    def current_period(self) -> str:
        """The period as-of falls in."""
        return period_of(self.settings.as_of, self.settings)

    @cached_property
    def dashboard_figures(self) -> pd.DataFrame:
        return period_figures(self.range_forecast, self.current_period, self.settings.language)

    @cached_property
    def dashboard_flags(self) -> pd.DataFrame:
        return flag_counts(self.health_counts, self.settings.language)

    @cached_property
    def dashboard_risks(self) -> pd.DataFrame:
        return top_risks(self.deal_scores)

    @cached_property
    def dashboard_owners(self) -> pd.DataFrame:
        return owner_attainment(self.forecast, self.current_period)

    @cached_property
    def dashboard_gaps(self) -> pd.DataFrame:
        return top_gaps(self.comparison_gaps)

    # --- what was wrong, and the headline ------------------------------------------------------

    @cached_property
    def issues(self) -> pd.DataFrame:
        """Every problem in the inputs: first what keeps the figures from reading as a forecast
        (``readiness_issues``), then validation's and those the tables above found."""
        self.compute(("comparison", "stakeholders", "head_to_head", "forecast_calls_rollup"))  # each reports to the log once
        found = self.inputs.issues
        ready = readiness_issues(self.deals, self.inputs.stage_history, self.inputs.quotas, self.settings)
        if not len(ready):
            return found
        ready["row"] = ready["row"].astype("Int64")
        return pd.concat([ready, found], ignore_index=True) if len(found) else ready

    @cached_property
    def summary(self) -> pd.DataFrame:
        return pd.concat([summary_table(self.deals, self.settings, len(self.issues)), self.health_counts], ignore_index=True)

    # --- all of it -------------------------------------------------------------------------------

    def compute(self, names: tuple[str, ...]) -> dict[str, Any]:
        """The named attributes, computed here (what an executor runs)."""
        return {name: getattr(self, name) for name in names}

    def tables(self, executor: Executor | None = None) -> dict[str, pd.DataFrame]:
        """Every output table, in report order (``OUTPUT_TABLES``).

        Args:
            executor: runs ``WIN_BRANCH`` beside the rest (``submit(fn)`` -> ``result()``);
                None computes everything here, in order.
        """
        if executor is not None:
            self.compute(("deals", "keys"))  # the shared start, computed once, before the branch sees it
            branch = executor.submit(lambda: self.compute(WIN_BRANCH))
            try:
                self.compute(_BESIDE_THE_BRANCH)
                self.__dict__.update(branch.result())
            finally:
                branch.cancel()  # a child whose result is no longer wanted (an error here) is stopped
        return self.compute(OUTPUT_TABLES)


@dataclass
class Report:
    """The output tables of one analysis, with what they came from."""

    analysis: Analysis
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        return self.analysis.settings

    @property
    def inputs(self) -> Inputs:
        return self.analysis.inputs

    @property
    def deals(self) -> pd.DataFrame:
        return self.analysis.deals

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def with_history(self, history: History | None) -> Report:
        """The report with the snapshot store's history: only what the history changes is
        computed again (``Analysis.with_history``)."""
        analysis = self.analysis.with_history(history)
        return Report(analysis, analysis.tables())


def run(
    raw: dict[str, pd.DataFrame | None],
    overrides: dict[str, str] | None = None,
    log: IssueLog | None = None,
    executor: Executor | None = None,
    force: bool = False,
    history: History | None = None,
) -> Report:
    """Validate raw tables and compute every output table.

    Args:
        raw: table name -> DataFrame in the contract's column names; index = the row the
            user sees.
        overrides: settings to override for this run (``--set KEY=VALUE``).
        log: problems found while reading the tables, reported with the rest (and the
            reader's refusals: a missing table or column).
        executor: see ``Analysis.tables``.
        force: compute what can be computed even when inputs were refused; the refusals
            are then issue rows.
        history: what the snapshot store holds of this book (``funnel.snapshots.History``),
            read by the caller; None: the history tables are empty with a note.

    Raises:
        RefreshRefused: a required table or column is missing or unusable (unless
            ``force``); nothing is computed.
        ValueError: an override names an unknown setting or has a bad value.
    """
    inputs = validate(raw, overrides, log)
    if inputs.refusals and not force:
        raise RefreshRefused(inputs.refusals)
    analysis = Analysis(inputs, history)
    return Report(analysis, analysis.tables(executor))
