"""The workbook's layout: every sheet, table, column, anchor and format, named once.

Tables are the key: code finds data by Excel Table name (``tblOpportunities``), never by
sheet name or cell address, so users may rename sheets, move tables and rename the file.
Headers are shown in the workbook's language (en / zh-CN); reading accepts a header in
either language or the contract's snake_case name, so a workbook built in one language
still reads after a colleague types headers in the other.

Output tables sit side by side on their sheets (never stacked) so that each can grow
downwards at refresh without running into another.

This module holds the structure; the words (sheet names, table captions, headers, the
Summary's figure names, yes/no) come from the bilingual catalog, ``funnel/catalog.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from funnel import catalog
from funnel.catalog import LANGUAGES
from funnel.inputs.contract import TABLES
from funnel.inputs.parsing import fold

__all__ = [
    "LANGUAGES",
    "Col",
    "TableLayout",
    "INPUTS",
    "OUTPUTS",
    "ALL_TABLES",
    "header",
    "header_lookup",
    "metric_label",
    "REFRESH_MACRO",
    "SNAPSHOT_MACRO",
    "REFRESH_ENTRY_POINT",
    "UDF_MODULES",
    "YES_NO",
]

# The macro every Refresh button runs, and the Python it calls through xlwings' RunPython.
REFRESH_MACRO = "RefreshFunnel"
# The macro every Snapshot button runs: a snapshot into the store, no table rewritten.
SNAPSHOT_MACRO = "SnapshotFunnel"
REFRESH_ENTRY_POINT = "udfs.macros"
UDF_MODULES = "udfs.functions"

YES_NO = {language: (catalog.text("flag.yes", language), catalog.text("flag.no", language)) for language in LANGUAGES}


@dataclass(frozen=True)
class Col:
    """One column of a workbook table: its contract key and display format; its headers
    are the catalog's ``header.<table>.<key>``."""

    key: str
    fmt: str = "text"  # text, money, number, int, percent, date, flag, prob
    width: float | None = None
    table: str = ""  # the Excel Table it belongs to; set by TableLayout

    def header(self, language: str) -> str:
        return catalog.text(f"header.{self.table}.{self.key}", language)

    @property
    def en(self) -> str:
        return self.header("en")

    @property
    def zh(self) -> str:
        return self.header("zh-CN")


@dataclass(frozen=True)
class TableLayout:
    """An Excel Table: where it sits and what columns it has; its words are the catalog's
    ``sheet.<sheet_key>``, ``title.<name>`` (output tables) and ``header.<name>.<column>``."""

    name: str  # Excel Table name, the stable key
    table: str  # canonical table / output name
    sheet_key: str
    anchor: tuple[int, int]  # (row, col) of the header row's first cell, 0-based
    columns: tuple[Col, ...]
    wide: bool = False  # extra columns allowed (tblComparison's vendor columns)

    def __post_init__(self) -> None:
        # Columns shared by several tables (the forecast's value columns) take this table's headers.
        object.__setattr__(self, "columns", tuple(replace(c, table=self.name) for c in self.columns))

    def sheet(self, language: str) -> str:
        return catalog.text(f"sheet.{self.sheet_key}", language)

    def title(self, language: str) -> str:
        key = f"title.{self.name}"
        return catalog.text(key, language) if catalog.has(key) else ""

    def headers(self, language: str) -> list[str]:
        return [c.header(language) for c in self.columns]

    @property
    def sheet_en(self) -> str:
        return self.sheet("en")

    @property
    def sheet_zh(self) -> str:
        return self.sheet("zh-CN")

    @property
    def title_en(self) -> str:
        return self.title("en")

    @property
    def title_zh(self) -> str:
        return self.title("zh-CN")


def _c(key, fmt="text", width=None) -> Col:
    return Col(key, fmt, width)


# --- Inputs -------------------------------------------------------------------------

_OPPORTUNITY_COLS = (
    _c("id", width=12),
    _c("account", width=24),
    _c("name", width=32),
    _c("owner", width=14),
    _c("team", width=12),
    _c("stage", width=8),
    _c("amount", "money", 14),
    _c("created", "date", 12),
    _c("close_date", "date", 12),
    _c("probability_override", "prob", 12),
    _c("forecast_category", width=14),
    _c("source", width=14),
    _c("product", width=16),
    _c("industry", width=16),
    _c("competitors", width=18),
    _c("next_step", width=18),
    _c("last_activity", "date", 12),
    _c("lost_reason", width=16),
    _c("q_why_need", "flag", 10),
    _c("q_budget", "flag", 10),
    _c("q_decision_maker", "flag", 10),
    _c("q_decision_process", "flag", 10),
    _c("q_decision_criteria", "flag", 10),
    _c("q_timeline", "flag", 10),
    _c("q_competition", "flag", 10),
    _c("q_why_us", "flag", 10),
    _c("man_money", "flag", 10),
    _c("man_authority", "flag", 10),
    _c("man_need", "flag", 10),
    _c("go_real", "flag", 10),
    _c("go_solution", "flag", 10),
    _c("go_win", "flag", 10),
    _c("go_worth", "flag", 10),
)

INPUTS: dict[str, TableLayout] = {
    t.name: t
    for t in (
        TableLayout("tblSettings", "settings", "settings", (0, 0), (
            _c("key", width=26),
            _c("value", width=16),
            _c("description", width=60),
        )),
        TableLayout("tblStages", "stages", "stage_scheme", (0, 0), (
            _c("code", width=8),
            _c("name", width=26),
            _c("order", "int", 8),
            _c("probability", "prob", 12),
            _c("forecast_category", width=16),
            _c("is_won", "flag", 8),
            _c("is_lost", "flag", 8),
            _c("entry_criteria", width=70),
        )),
        TableLayout("tblOpportunities", "opportunities", "opportunities", (0, 0), _OPPORTUNITY_COLS),
        TableLayout("tblStageHistory", "stage_history", "stage_history", (0, 0), (
            _c("opportunity_id", width=12),
            _c("stage", width=8),
            _c("entered", "date", 12),
        )),
        TableLayout("tblQuotas", "quotas", "quotas", (0, 0), (
            _c("owner", width=14),
            _c("team", width=14),
            _c("period", width=10),
            _c("quota", "money", 14),
        )),
        TableLayout("tblCompetitors", "competitors", "competitors", (0, 0), (
            _c("competitor", width=16),
            _c("strengths", width=40),
            _c("weaknesses", width=40),
            _c("notes", width=40),
        )),
        TableLayout("tblComparison", "comparison", "comparison", (0, 0), (
            _c("opportunity_id", width=12),
            _c("factor", width=26),
            _c("weight", "number", 8),
        ), wide=True),
        TableLayout("tblStakeholders", "stakeholders", "stakeholders", (0, 0), (
            _c("opportunity_id", width=12),
            _c("name", width=14),
            _c("title", width=18),
            _c("role", width=14),
            _c("attitude", width=12),
            _c("relationship", width=12),
            _c("style", width=12),
        )),
        TableLayout("tblForecastCalls", "forecast_calls", "forecast_calls", (0, 0), (
            _c("period", width=10),
            _c("owner", width=14),
            _c("category", width=12),
            _c("amount", "money", 14),
            _c("submitted_on", "date", 12),
            _c("note", width=40),
        )),
        TableLayout("tblPeople", "people", "people", (0, 0), (
            _c("person", width=16),
            _c("manager", width=16),
        )),
    )
}

# --- Outputs ------------------------------------------------------------------------

_FORECAST_VALUE_COLS = (
    _c("open_deals", "int", 10),
    _c("open_amount", "money", 14),
    _c("weighted", "money", 14),
    _c("pipeline", "money", 13),
    _c("best_case", "money", 13),
    _c("commit", "money", 13),
    _c("won_deals", "int", 9),
    _c("closed_won", "money", 14),
    _c("lost_deals", "int", 9),
    _c("quota", "money", 13),
    _c("attainment", "percent", 11),
    _c("coverage", "number", 10),
)
_PERIOD = _c("period", width=13)
_WIN_COLS = (
    _c("won", "int", 7),
    _c("lost", "int", 7),
    _c("closed", "int", 8),
    _c("win_rate", "percent", 9),
    _c("ci_low", "percent", 9),
    _c("ci_high", "percent", 9),
)

OUTPUTS: dict[str, TableLayout] = {
    t.name: t
    for t in (
        # The Dashboard's tables are bounded (a few rows each: funnel.forecast.dashboard)
        # except the owners', so they may sit above one another; the owners' grows downwards.
        TableLayout("tblDashFigures", "dashboard_figures", "dashboard", (20, 0), (
            _c("period", width=10),
            _c("figure", width=24),
            _c("amount", "money", 14),
            _c("quota", "money", 14),
            _c("of_quota", "percent", 10),
        )),
        TableLayout("tblDashFlags", "dashboard_flags", "dashboard", (30, 0), (
            _c("flag", width=24),
            _c("deals", "int", 10),
            _c("amount", "money", 14),
        )),
        TableLayout("tblDashRisks", "dashboard_risks", "dashboard", (20, 6), (
            _c("id", width=12),
            _c("owner", width=13),
            _c("stage", width=7),
            _c("amount_at_risk", "money", 13),
            _c("used_probability", "percent", 10),
            _c("reason", width=46),
        )),
        TableLayout("tblDashGaps", "dashboard_gaps", "dashboard", (34, 6), (
            _c("opportunity_id", width=12),
            _c("factor", width=20),
            _c("best_rival", width=13),
            _c("gap", "number", 8),
            _c("weighted_gap", "number", 10),
        )),
        TableLayout("tblDashOwners", "dashboard_owners", "dashboard", (42, 0), (
            _c("owner", width=14),
            _c("team", width=12),
            _c("closed_won", "money", 14),
            _c("quota", "money", 14),
            _c("attainment", "percent", 10),
            _c("commit", "money", 14),
            _c("weighted", "money", 14),
            _c("coverage", "number", 10),
        )),
        TableLayout("tblSummary", "summary", "summary", (3, 0), (
            _c("metric", width=30),
            _c("value", "money", 18),
        )),
        TableLayout("tblForecastPeriods", "forecast_periods", "forecast", (24, 0),
                    (_PERIOD, *_FORECAST_VALUE_COLS)),
        TableLayout("tblForecast", "forecast", "forecast", (24, 14),
                    (_PERIOD, _c("team", width=12), _c("owner", width=14), *_FORECAST_VALUE_COLS)),
        TableLayout("tblForecastTeams", "forecast_teams", "forecast", (24, 31),
                    (_PERIOD, _c("team", width=12), *_FORECAST_VALUE_COLS)),
        # Right of tblForecastTeams (columns 31-44), one column apart.
        TableLayout("tblCallRollup", "forecast_calls_rollup", "forecast", (24, 46), (
            _PERIOD,
            _c("person", width=14),
            _c("manager", width=14),
            _c("level", "int", 8),
            _c("closed_won", "money", 13),
            _c("commit", "money", 14),
            _c("best_case", "money", 14),
            _c("weighted", "money", 13),
            _c("p50", "money", 13),
            _c("commit_call", "money", 13),
            _c("commit_below", "money", 14),
            _c("commit_adjustment", "money", 13),
            _c("best_case_call", "money", 13),
            _c("best_case_below", "money", 14),
            _c("best_case_adjustment", "money", 13),
            _c("pipeline_call", "money", 13),
        )),
        TableLayout("tblStageStats", "stage_stats", "stages", (3, 0), (
            _c("code", width=7),
            _c("name", width=22),
            _c("order", "int", 7),
            _c("open_deals", "int", 10),
            _c("open_amount", "money", 14),
            _c("weighted", "money", 14),
            _c("configured", "percent", 11),
            _c("empirical", "percent", 11),
            _c("blended", "percent", 11),
            _c("used", "percent", 9),
            _c("status", width=9),
            _c("reached_closed", "int", 10),
            _c("reached_won", "int", 10),
            _c("reached", "int", 10),
            _c("conversion_to_next", "percent", 11),
            _c("median_days", "int", 11),
            _c("stays", "int", 10),
        )),
        TableLayout("tblWinRates", "win_rates", "win_rates", (3, 0), (
            _c("dimension", width=18),
            _c("segment", width=22),
            *_WIN_COLS,
            _c("won_amount", "money", 14),
            _c("lost_amount", "money", 14),
            _c("status", width=10),
        )),
        TableLayout("tblWinTrend", "win_rate_trend", "win_rates", (3, 15), (
            _PERIOD, *_WIN_COLS, _c("change", "percent", 9), _c("status", width=10),
        )),
        TableLayout("tblRange", "range_forecast", "summary", (3, 3), (
            _PERIOD,
            _c("closed_won", "money", 13),
            _c("open_deals", "int", 9),
            _c("open_amount", "money", 13),
            _c("expected", "money", 13),
            _c("p10", "money", 13),
            _c("p50", "money", 13),
            _c("p90", "money", 13),
            _c("quota", "money", 13),
            _c("prob_reach_quota", "percent", 11),
            _c("worst_case", "money", 13),
            _c("commit", "money", 13),
            _c("best_case", "money", 13),
        )),
        TableLayout("tblDealScores", "deal_scores", "deal_scores", (3, 0), (
            _c("id", width=12),
            _c("account", width=22),
            _c("name", width=28),
            _c("owner", width=13),
            _c("stage", width=7),
            _c("amount", "money", 13),
            _c("amount_at_risk", "money", 13),
            _c("warning_signs", "int", 8),
            _c("reason", width=44),
            _c("stage_probability", "percent", 10),
            _c("model_probability", "percent", 10),
            _c("used_probability", "percent", 10),
            _c("basis", width=16),
            _c("factors_for", width=40),
            _c("factors_against", width=40),
            _c("days_in_stage", "int", 9),
            _c("stage_median_days", "int", 9),
            _c("stale", "flag", 7),
            _c("days_overdue", "int", 9),
            _c("overdue", "flag", 8),
            _c("step_backs", "int", 8),
            _c("pushed", "flag", 8),
            _c("days_since_activity", "int", 9),
            _c("inactive", "flag", 8),
            _c("urgency", width=10),
            _c("importance", width=10),
            _c("completeness_6w2p", "percent", 10),
            _c("man_ok", "flag", 8),
            _c("go_ok", "flag", 8),
            _c("role_coverage", "percent", 9),
            _c("dm_supportive", "flag", 9),
            _c("risks", width=36),
            # From the snapshot store's deal versions (blank without a store).
            _c("close_pushes", "int", 9),
            _c("days_slipped", "int", 9),
            _c("first_close_date", "date", 12),
            _c("amount_change", "money", 13),
            _c("days_in_stage_recorded", "int", 10),
            _c("stage_backwards", "int", 9),
        )),
        # Right of tblDealScores (columns 0-37), one column apart.
        TableLayout("tblPushRates", "push_rates", "deal_scores", (3, 39), (
            _c("owner", width=14),
            _c("deals", "int", 9),
            _c("pushed_deals", "int", 9),
            _c("push_rate", "percent", 9),
            _c("close_pushes", "int", 9),
            _c("mean_days_slipped", "number", 10),
        )),
        TableLayout("tblCalibration", "calibration", "win_rates", (3, 25), (
            _c("method", width=12),
            _c("brier", "number", 10),
            _c("log_loss", "number", 10),
            _c("deals", "int", 9),
            _c("predictions", "int", 9),
            _c("won_share", "percent", 9),
            _c("cutoff", "date", 12),
            _c("train_deals", "int", 9),
            _c("note", width=30),
        )),
        TableLayout("tblReliability", "reliability_chart", "win_rates", (3, 36), (
            _c("bin", width=10),
            _c("bin_mid", "percent", 9),
            _c("configured", "percent", 10),
            _c("empirical", "percent", 10),
            _c("blended", "percent", 10),
            _c("model", "percent", 10),
            _c("model_platt", "percent", 10),
            _c("model_isotonic", "percent", 10),
        )),
        TableLayout("tblForecastChoice", "forecast_choice", "win_rates", (3, 45), (
            _c("setting", width=9),
            _c("method", width=10),
            _c("baseline", width=11),
            _c("calibration", width=11),
            _c("brier_raw", "number", 11),
            _c("brier_model", "number", 10),
            _c("brier_stage", "number", 10),
            _c("difference", "number", 11),
            _c("ci_low", "number", 9),
            _c("ci_high", "number", 9),
            _c("deals", "int", 9),
            _c("predictions", "int", 9),
            _c("reason", width=60),
        )),
        TableLayout("tblHeadToHead", "head_to_head", "competition", (3, 0), (
            _c("competitor", width=18),
            _c("met", "int", 9),
            _c("won", "int", 7),
            _c("lost", "int", 7),
            _c("win_rate", "percent", 9),
            _c("ci_low", "percent", 9),
            _c("ci_high", "percent", 9),
            _c("won_amount", "money", 13),
            _c("lost_amount", "money", 13),
            _c("median_cycle_days", "int", 10),
            _c("top_lost_reasons", width=30),
            _c("open_deals", "int", 9),
            _c("open_amount", "money", 13),
            _c("open_weighted", "money", 13),
            _c("strengths", width=30),
            _c("weaknesses", width=30),
        )),
        TableLayout("tblComparisonResult", "comparison_result", "competition", (3, 17), (
            _c("opportunity_id", width=12),
            _c("vendor", width=14),
            _c("weighted_total", "number", 10),
            _c("rank", "int", 6),
            _c("tied", "flag", 6),
            _c("factors_scored", "int", 8),
            _c("factors", "int", 7),
            _c("weight_coverage", "percent", 9),
            _c("gap_to_us", "number", 9),
        )),
        TableLayout("tblComparisonGaps", "comparison_gaps", "competition", (3, 27), (
            _c("opportunity_id", width=12),
            _c("factor", width=22),
            _c("weight", "percent", 8),
            _c("our_score", "number", 8),
            _c("best_rival", width=14),
            _c("rival_score", "number", 8),
            _c("gap", "number", 7),
            _c("weighted_gap", "number", 9),
            _c("position_label", width=10),
        )),
        TableLayout("tblQualification", "qualification", "qualification", (3, 0), (
            _c("id", width=12),
            _c("account", width=22),
            _c("name", width=26),
            _c("owner", width=13),
            _c("stage", width=7),
            _c("amount", "money", 13),
            _c("close_date", "date", 12),
            _c("days_to_close", "int", 9),
            _c("urgency_label", width=12),
            _c("importance_label", width=11),
            _c("completeness_5w2p", "percent", 10),
            _c("completeness_6w2p", "percent", 10),
            _c("unanswered", width=40),
            _c("man_ok", "flag", 9),
            _c("man_missing", width=18),
            _c("go_ok", "flag", 9),
            _c("go_missing", width=22),
            _c("account_stars", "int", 8),
        )),
        TableLayout("tblAccounts", "accounts", "qualification", (3, 19), (
            _c("account", width=22),
            _c("deals", "int", 7),
            _c("open_deals", "int", 8),
            _c("open_amount", "money", 13),
            _c("won_deals", "int", 8),
            _c("lost_deals", "int", 8),
            _c("won_amount", "money", 13),
            _c("win_rate", "percent", 9),
            _c("revenue_share", "percent", 9),
            _c("cumulative_share", "percent", 10),
            _c("in_top_80", "flag", 9),
            _c("stars_label", width=10),
        )),
        TableLayout("tblDecisionChain", "decision_chain", "qualification", (3, 32), (
            _c("id", width=12),
            _c("account", width=20),
            _c("owner", width=12),
            _c("stage", width=7),
            _c("amount", "money", 13),
            _c("stakeholders", "int", 9),
            _c("role_coverage", "percent", 9),
            _c("roles_missing", width=26),
            _c("dm_met", "flag", 9),
            _c("dm_supportive", "flag", 9),
            _c("dm_relationship_label", width=11),
            _c("supporters", "int", 8),
            _c("hostile", "int", 7),
            _c("risk_count", "int", 6),
            _c("risks", width=40),
        )),
        # The snapshot store's history: the Changes and Accuracy sheets. Charts sit above the
        # tables (rows 2-21); the one-line notes and the waterfall's twelve rows are bounded.
        TableLayout("tblChangesNote", "history_note", "changes", (22, 0), (
            _c("snapshots", "int", 18),
            _c("note", width=13),
        )),
        TableLayout("tblFlowChart", "flow_chart", "changes", (26, 0), (
            _c("change", width=18),
            _c("amount", "money", 13),
            _c("base", "money", 12),
            _c("increase", "money", 12),
            _c("decrease", "money", 12),
            _c("total", "money", 12),
        )),
        TableLayout("tblForecastTrend", "forecast_trend", "changes", (26, 7), (
            _c("snapshot", "int", 9),
            _c("as_of", "date", 12),
            _c("weighted", "money", 17),
            _c("commit", "money", 16),
            _c("p50", "money", 13),
            _c("quota", "money", 13),
            _c("closed_won", "money", 13),
        )),
        TableLayout("tblFlow", "pipeline_flow", "changes", (26, 15), (
            _PERIOD,
            _c("owner", width=14),
            _c("team", width=12),
            _c("change", width=16),
            _c("deals", "int", 8),
            _c("amount", "money", 13),
        )),
        TableLayout("tblAccuracyNote", "history_note", "accuracy", (22, 0), (
            _c("snapshots", "int", 13),
            _c("note", width=16),
        )),
        TableLayout("tblAccuracyChart", "accuracy_chart", "accuracy", (26, 0), (
            _PERIOD,
            _c("point", width=16),
            _c("actual", "money", 13),
            _c("weighted", "money", 13),
            _c("commit", "money", 13),
            _c("p50", "money", 13),
        )),
        TableLayout("tblAccuracySummary", "accuracy_summary", "accuracy", (26, 7), (
            _c("point", width=16),
            _c("level", width=9),
            _c("team", width=12),
            _c("owner", width=14),
            _c("measure", width=12),
            _c("periods", "int", 8),
            _c("mean_accuracy", "percent", 10),
            _c("mape", "percent", 9),
            _c("wape", "percent", 9),
            _c("mean_bias", "percent", 9),
            _c("range_periods", "int", 9),
            _c("in_range_share", "percent", 10),
        )),
        TableLayout("tblAccuracy", "forecast_accuracy", "accuracy", (26, 20), (
            _PERIOD,
            _c("point", width=16),
            _c("as_of", "date", 12),
            _c("level", width=9),
            _c("team", width=12),
            _c("owner", width=14),
            _c("measure", width=12),
            _c("forecast", "money", 13),
            _c("actual", "money", 13),
            _c("error", "money", 13),
            _c("accuracy", "percent", 9),
            _c("bias", "percent", 9),
            _c("p10", "money", 13),
            _c("p90", "money", 13),
            _c("in_range", "flag", 8),
        )),
        TableLayout("tblIssues", "issues", "issues", (3, 0), (
            _c("table", width=16),
            _c("row", "int", 7),
            _c("column", width=20),
            _c("value", width=20),
            _c("problem", width=60),
            _c("action", width=28),
        )),
    )
}

ALL_TABLES: dict[str, TableLayout] = {**INPUTS, **OUTPUTS}


def metric_label(metric: str, language: str) -> str:
    """The Summary sheet's label for a metric key."""
    key = f"metric.{metric}"
    if catalog.has(key):
        return catalog.text(key, language)
    return metric.replace("_", " ").capitalize() if language != "zh-CN" else metric


def header(table_name: str, key: str, language: str) -> str:
    """The header a table shows for a contract column."""
    for col in ALL_TABLES[table_name].columns:
        if col.key == key:
            return col.header(language)
    raise KeyError(f"{table_name} has no column {key}")


def header_lookup(table_name: str) -> dict[str, str]:
    """Folded header text (either language, or the snake_case key) -> contract column."""
    lookup: dict[str, str] = {}
    for col in ALL_TABLES[table_name].columns:
        for text in (col.key, col.en, col.zh):
            lookup[fold(text).lower()] = col.key
    return lookup


def _check_layout() -> None:
    # Every contract column has a place in its input table (a missing one would never be read).
    for layout in INPUTS.values():
        keys = {c.key for c in layout.columns}
        missing = [c.name for c in TABLES[layout.table] if c.name not in keys]
        assert not missing, f"{layout.name} lacks {missing}"


_check_layout()
