"""The workbook's layout: every sheet, table, header, anchor and format, named once.

Tables are the key: code finds data by Excel Table name (``tblOpportunities``), never by
sheet name or cell address, so users may rename sheets, move tables and rename the file.
Headers are shown in the workbook's language (en / zh-CN); reading accepts a header in
either language or the contract's snake_case name, so a workbook built in one language
still reads after a colleague types headers in the other.

Output tables sit side by side on their sheets (never stacked) so that each can grow
downwards at refresh without running into another.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    "REFRESH_ENTRY_POINT",
    "UDF_MODULES",
    "YES_NO",
]

LANGUAGES = ("en", "zh-CN")

# The macro every Refresh button runs, and the Python it calls through xlwings' RunPython.
REFRESH_MACRO = "RefreshFunnel"
REFRESH_ENTRY_POINT = "udfs.macros"
UDF_MODULES = "udfs.functions"

YES_NO = {"en": ("yes", "no"), "zh-CN": ("是", "否")}


@dataclass(frozen=True)
class Col:
    """One column of a workbook table: its contract key, headers and display format."""

    key: str
    en: str
    zh: str
    fmt: str = "text"  # text, money, number, int, percent, date, flag, prob
    width: float | None = None

    def header(self, language: str) -> str:
        return self.zh if language == "zh-CN" else self.en


@dataclass(frozen=True)
class TableLayout:
    """An Excel Table: where it sits and what columns it has."""

    name: str  # Excel Table name, the stable key
    table: str  # canonical table / output name
    sheet_en: str
    sheet_zh: str
    anchor: tuple[int, int]  # (row, col) of the header row's first cell, 0-based
    columns: tuple[Col, ...]
    title_en: str = ""
    title_zh: str = ""
    wide: bool = False  # extra columns allowed (tblComparison's vendor columns)

    def sheet(self, language: str) -> str:
        return self.sheet_zh if language == "zh-CN" else self.sheet_en

    def title(self, language: str) -> str:
        return self.title_zh if language == "zh-CN" else self.title_en

    def headers(self, language: str) -> list[str]:
        return [c.header(language) for c in self.columns]


def _c(key, en, zh, fmt="text", width=None) -> Col:
    return Col(key, en, zh, fmt, width)


# --- Inputs -------------------------------------------------------------------------

_OPPORTUNITY_COLS = (
    _c("id", "Deal ID", "商机编号", width=12),
    _c("account", "Account", "客户", width=24),
    _c("name", "Deal name", "商机名称", width=32),
    _c("owner", "Owner", "负责人", width=14),
    _c("team", "Team", "团队", width=12),
    _c("stage", "Stage", "阶段", width=8),
    _c("amount", "Amount", "金额", "money", 14),
    _c("created", "Created", "创建日期", "date", 12),
    _c("close_date", "Close date", "预计成交日期", "date", 12),
    _c("probability_override", "Probability override", "手动概率", "prob", 12),
    _c("forecast_category", "Forecast category", "预测类别", width=14),
    _c("source", "Source", "来源", width=14),
    _c("product", "Product", "产品", width=16),
    _c("industry", "Industry", "行业", width=16),
    _c("competitors", "Competitors", "竞争对手", width=18),
    _c("next_step", "Next step", "下一步", width=18),
    _c("last_activity", "Last activity", "最近活动", "date", 12),
    _c("lost_reason", "Lost reason", "丢单原因", width=16),
    _c("q_why_need", "Why a new system? (W)", "为什么需要新系统(W)", "flag", 10),
    _c("q_budget", "Budget planned? (P)", "是否有预算(P)", "flag", 10),
    _c("q_decision_maker", "Who decides? (W)", "谁是决策者(W)", "flag", 10),
    _c("q_decision_process", "Decision process? (W)", "决策流程(W)", "flag", 10),
    _c("q_decision_criteria", "Decision criteria? (W)", "决策标准(W)", "flag", 10),
    _c("q_timeline", "Timetable? (P)", "时间表(P)", "flag", 10),
    _c("q_competition", "Competitors known? (W)", "竞争对手(W)", "flag", 10),
    _c("q_why_us", "Why us? (W)", "为什么选我们(W)", "flag", 10),
    _c("man_money", "MAN: Money", "MAN:购买力", "flag", 10),
    _c("man_authority", "MAN: Authority", "MAN:决策权", "flag", 10),
    _c("man_need", "MAN: Need", "MAN:需求", "flag", 10),
    _c("go_real", "Go: real opportunity?", "是否有机会", "flag", 10),
    _c("go_solution", "Go: our solution fits?", "是否有方案", "flag", 10),
    _c("go_win", "Go: can we win?", "能否赢", "flag", 10),
    _c("go_worth", "Go: worth winning?", "是否值得赢", "flag", 10),
)

INPUTS: dict[str, TableLayout] = {
    t.name: t
    for t in (
        TableLayout("tblSettings", "settings", "Settings", "设置", (0, 0), (
            _c("key", "Setting", "设置项", width=26),
            _c("value", "Value", "值", width=16),
            _c("description", "What it does", "说明", width=60),
        )),
        TableLayout("tblStages", "stages", "Stage scheme", "阶段方案", (0, 0), (
            _c("code", "Code", "代码", width=8),
            _c("name", "Stage", "阶段名称", width=26),
            _c("order", "Order", "顺序", "int", 8),
            _c("probability", "Probability", "赢单概率", "prob", 12),
            _c("forecast_category", "Forecast category", "预测类别", width=16),
            _c("is_won", "Won?", "赢单?", "flag", 8),
            _c("is_lost", "Lost?", "丢单?", "flag", 8),
            _c("entry_criteria", "Enters when", "进入标准", width=70),
        )),
        TableLayout("tblOpportunities", "opportunities", "Opportunities", "商机", (0, 0), _OPPORTUNITY_COLS),
        TableLayout("tblStageHistory", "stage_history", "Stage history", "阶段历史", (0, 0), (
            _c("opportunity_id", "Deal ID", "商机编号", width=12),
            _c("stage", "Stage", "阶段", width=8),
            _c("entered", "Entered", "进入日期", "date", 12),
        )),
        TableLayout("tblQuotas", "quotas", "Quotas", "指标", (0, 0), (
            _c("owner", "Owner", "负责人", width=14),
            _c("team", "Team", "团队", width=14),
            _c("period", "Period", "期间", width=10),
            _c("quota", "Quota", "指标", "money", 14),
        )),
        TableLayout("tblCompetitors", "competitors", "Competitors", "竞争对手", (0, 0), (
            _c("competitor", "Competitor", "竞争对手", width=16),
            _c("strengths", "Strengths", "优势", width=40),
            _c("weaknesses", "Weaknesses", "劣势", width=40),
            _c("notes", "Notes", "备注", width=40),
        )),
        TableLayout("tblComparison", "comparison", "Comparison", "比较表", (0, 0), (
            _c("opportunity_id", "Deal ID", "商机编号", width=12),
            _c("factor", "Decision factor", "决策因素", width=26),
            _c("weight", "Weight", "权重", "number", 8),
        ), wide=True),
        TableLayout("tblStakeholders", "stakeholders", "Stakeholders", "决策链", (0, 0), (
            _c("opportunity_id", "Deal ID", "商机编号", width=12),
            _c("name", "Name", "姓名", width=14),
            _c("title", "Title", "职务", width=18),
            _c("role", "Role", "角色", width=14),
            _c("attitude", "Attitude", "态度", width=12),
            _c("relationship", "Relationship", "关系阶段", width=12),
            _c("style", "Style", "沟通风格", width=12),
        )),
    )
}

# --- Outputs ------------------------------------------------------------------------

_FORECAST_VALUE_COLS = (
    _c("open_deals", "Open deals", "在途商机数", "int", 10),
    _c("open_amount", "Open amount", "在途金额", "money", 14),
    _c("weighted", "Weighted", "加权金额", "money", 14),
    _c("pipeline", "Pipeline", "管道", "money", 13),
    _c("best_case", "Best case", "最佳情况", "money", 13),
    _c("commit", "Commit", "承诺", "money", 13),
    _c("won_deals", "Won deals", "赢单数", "int", 9),
    _c("closed_won", "Closed won", "已赢金额", "money", 14),
    _c("lost_deals", "Lost deals", "丢单数", "int", 9),
    _c("quota", "Quota", "指标", "money", 13),
    _c("attainment", "Attainment", "完成率", "percent", 11),
    _c("coverage", "Coverage", "覆盖倍数", "number", 10),
)
_PERIOD = _c("period", "Period", "期间", width=13)
_WIN_COLS = (
    _c("won", "Won", "赢", "int", 7),
    _c("lost", "Lost", "丢", "int", 7),
    _c("closed", "Closed", "已关闭", "int", 8),
    _c("win_rate", "Win rate", "赢率", "percent", 9),
    _c("ci_low", "95% low", "95%下限", "percent", 9),
    _c("ci_high", "95% high", "95%上限", "percent", 9),
)

OUTPUTS: dict[str, TableLayout] = {
    t.name: t
    for t in (
        TableLayout("tblSummary", "summary", "Summary", "总览", (3, 0), (
            _c("metric", "Figure", "指标", width=30),
            _c("value", "Value", "数值", "money", 18),
        ), "Headline figures", "关键指标"),
        TableLayout("tblForecastPeriods", "forecast_periods", "Forecast", "预测", (24, 0),
                    (_PERIOD, *_FORECAST_VALUE_COLS), "By period", "按期间"),
        TableLayout("tblForecast", "forecast", "Forecast", "预测", (24, 14),
                    (_PERIOD, _c("team", "Team", "团队", width=12), _c("owner", "Owner", "负责人", width=14), *_FORECAST_VALUE_COLS),
                    "By period, team and owner", "按期间、团队、负责人"),
        TableLayout("tblForecastTeams", "forecast_teams", "Forecast", "预测", (24, 31),
                    (_PERIOD, _c("team", "Team", "团队", width=12), *_FORECAST_VALUE_COLS), "By period and team", "按期间、团队"),
        TableLayout("tblStageStats", "stage_stats", "Stages", "阶段统计", (3, 0), (
            _c("code", "Code", "代码", width=7),
            _c("name", "Stage", "阶段", width=22),
            _c("order", "Order", "顺序", "int", 7),
            _c("open_deals", "Open deals", "在途商机数", "int", 10),
            _c("open_amount", "Open amount", "在途金额", "money", 14),
            _c("weighted", "Weighted", "加权金额", "money", 14),
            _c("configured", "Configured", "设定概率", "percent", 11),
            _c("empirical", "Empirical", "历史概率", "percent", 11),
            _c("blended", "Blended", "融合概率", "percent", 11),
            _c("used", "Used", "采用概率", "percent", 9),
            _c("reached_closed", "Closed that reached", "到达并关闭", "int", 10),
            _c("reached_won", "Won that reached", "到达并赢单", "int", 10),
            _c("reached", "Deals that reached", "到达商机数", "int", 10),
            _c("conversion_to_next", "Conversion to next", "转化率", "percent", 11),
            _c("median_days", "Median days in stage", "停留天数中位数", "number", 11),
            _c("stays", "Finished stays", "已完成停留数", "int", 10),
        ), "Stage statistics", "阶段统计"),
        TableLayout("tblWinRates", "win_rates", "Win rates", "赢率", (3, 0), (
            _c("dimension", "By", "维度", width=18),
            _c("segment", "Segment", "细分", width=22),
            *_WIN_COLS,
            _c("won_amount", "Won amount", "赢单金额", "money", 14),
            _c("lost_amount", "Lost amount", "丢单金额", "money", 14),
        ), "Win rates", "赢率"),
        TableLayout("tblWinTrend", "win_rate_trend", "Win rates", "赢率", (3, 15), (
            _PERIOD, *_WIN_COLS, _c("change", "Change", "变化", "percent", 9),
        ), "Trend", "趋势"),
        TableLayout("tblRange", "range_forecast", "Summary", "总览", (3, 3), (
            _PERIOD,
            _c("closed_won", "Closed won", "已赢金额", "money", 13),
            _c("open_deals", "Open deals", "在途商机数", "int", 9),
            _c("open_amount", "Open amount", "在途金额", "money", 13),
            _c("expected", "Expected", "期望值", "money", 13),
            _c("p10", "P10", "P10", "money", 13),
            _c("p50", "P50", "P50", "money", 13),
            _c("p90", "P90", "P90", "money", 13),
            _c("quota", "Quota", "指标", "money", 13),
            _c("prob_reach_quota", "Chance to reach quota", "完成指标概率", "percent", 11),
            _c("worst_case", "Worst case", "最差情况", "money", 13),
            _c("commit", "Commit", "承诺", "money", 13),
            _c("best_case", "Best case", "最佳情况", "money", 13),
        ), "What will book: range by period (current and later)", "预计成交区间（本期及以后）"),
        TableLayout("tblDealScores", "deal_scores", "Deal scores", "商机评分", (3, 0), (
            _c("id", "Deal ID", "商机编号", width=12),
            _c("account", "Account", "客户", width=22),
            _c("name", "Deal name", "商机名称", width=28),
            _c("owner", "Owner", "负责人", width=13),
            _c("stage", "Stage", "阶段", width=7),
            _c("amount", "Amount", "金额", "money", 13),
            _c("stage_probability", "Stage probability", "阶段概率", "percent", 10),
            _c("model_probability", "Model probability", "模型概率", "percent", 10),
            _c("used_probability", "Used probability", "采用概率", "percent", 10),
            _c("basis", "Basis", "依据", width=16),
            _c("factors_for", "Factors for", "有利因素", width=40),
            _c("factors_against", "Factors against", "不利因素", width=40),
            _c("days_in_stage", "Days in stage", "本阶段天数", "int", 9),
            _c("stage_median_days", "Stage median days", "阶段中位天数", "number", 9),
            _c("stale", "Stale", "停滞", "flag", 7),
            _c("days_overdue", "Days overdue", "逾期天数", "int", 9),
            _c("overdue", "Overdue", "逾期", "flag", 8),
            _c("step_backs", "Step backs", "倒退次数", "int", 8),
            _c("pushed", "Pushed", "被推迟", "flag", 8),
            _c("days_since_activity", "Days since activity", "距上次活动天数", "int", 9),
            _c("inactive", "Inactive", "无活动", "flag", 8),
            _c("urgency", "Urgency", "紧迫度", width=10),
            _c("importance", "Importance", "重要度", width=10),
            _c("completeness_6w2p", "6W+2P answered", "6W+2P完成度", "percent", 10),
            _c("man_ok", "MAN complete", "MAN齐备", "flag", 8),
            _c("go_ok", "Go (4 questions)", "四问通过", "flag", 8),
            _c("role_coverage", "Role coverage", "角色覆盖", "percent", 9),
            _c("dm_supportive", "Decision maker supports", "决策者支持", "flag", 9),
            _c("risks", "Decision-chain risks", "决策链风险", width=36),
        ), "Open deals: model probability, reasons, health and qualification", "在途商机：模型概率、原因、健康度与资格"),
        TableLayout("tblCalibration", "calibration", "Win rates", "赢率", (3, 25), (
            _c("method", "Method", "方法", width=12),
            _c("brier", "Brier score", "Brier分数", "number", 10),
            _c("log_loss", "Log loss", "对数损失", "number", 10),
            _c("deals", "Deals predicted", "预测商机数", "int", 9),
            _c("predictions", "Predictions", "预测次数", "int", 9),
            _c("won_share", "Won share", "赢单占比", "percent", 9),
            _c("cutoff", "Learned before", "学习截止日", "date", 12),
            _c("train_deals", "Deals learned from", "学习商机数", "int", 9),
            _c("note", "Note", "备注", width=30),
        ), "Calibration backtest (lower is better)", "校准回测（越低越好）"),
        TableLayout("tblReliability", "reliability_chart", "Win rates", "赢率", (3, 36), (
            _c("bin", "Predicted", "预测概率区间", width=10),
            _c("bin_mid", "Perfect", "理想", "percent", 9),
            _c("configured", "Configured", "设定概率", "percent", 10),
            _c("empirical", "Empirical", "历史概率", "percent", 10),
            _c("blended", "Blended", "融合概率", "percent", 10),
            _c("model", "Model", "模型", "percent", 10),
        ), "Reliability: observed win rate by predicted probability", "可靠性：按预测概率的实际赢率"),
        TableLayout("tblHeadToHead", "head_to_head", "Competition", "竞争", (3, 0), (
            _c("competitor", "Competitor", "竞争对手", width=18),
            _c("met", "Closed deals met", "交手已关闭商机", "int", 9),
            _c("won", "Won", "赢", "int", 7),
            _c("lost", "Lost", "丢", "int", 7),
            _c("win_rate", "Win rate", "赢率", "percent", 9),
            _c("ci_low", "95% low", "95%下限", "percent", 9),
            _c("ci_high", "95% high", "95%上限", "percent", 9),
            _c("won_amount", "Won amount", "赢单金额", "money", 13),
            _c("lost_amount", "Lost amount", "丢单金额", "money", 13),
            _c("median_cycle_days", "Median cycle (days)", "周期中位数(天)", "number", 10),
            _c("top_lost_reasons", "Top lost reasons", "主要丢单原因", width=30),
            _c("open_deals", "Open deals contested", "在途竞争商机", "int", 9),
            _c("open_amount", "Open amount", "在途金额", "money", 13),
            _c("open_weighted", "Open weighted", "在途加权", "money", 13),
            _c("strengths", "Strengths", "优势", width=30),
            _c("weaknesses", "Weaknesses", "劣势", width=30),
        ), "Head-to-head record", "对战记录"),
        TableLayout("tblComparisonResult", "comparison_result", "Competition", "竞争", (3, 17), (
            _c("opportunity_id", "Deal ID", "商机编号", width=12),
            _c("vendor", "Vendor", "厂商", width=14),
            _c("weighted_total", "Weighted total", "加权总分", "number", 10),
            _c("rank", "Rank", "排名", "int", 6),
            _c("tied", "Tied", "并列", "flag", 6),
            _c("factors_scored", "Factors scored", "已评分因素", "int", 8),
            _c("factors", "Factors", "因素数", "int", 7),
            _c("weight_coverage", "Weight scored", "已评分权重", "percent", 9),
            _c("gap_to_us", "Gap to us", "与我方差距", "number", 9),
        ), "The comparison table that decides (weighted totals)", "决定生死的比较表（加权总分）"),
        TableLayout("tblComparisonGaps", "comparison_gaps", "Competition", "竞争", (3, 27), (
            _c("opportunity_id", "Deal ID", "商机编号", width=12),
            _c("factor", "Decision factor", "决策因素", width=22),
            _c("weight", "Weight", "权重", "percent", 8),
            _c("our_score", "Our score", "我方得分", "number", 8),
            _c("best_rival", "Best rival", "最强对手", width=14),
            _c("rival_score", "Rival score", "对手得分", "number", 8),
            _c("gap", "Gap", "差距", "number", 7),
            _c("weighted_gap", "Weighted gap", "加权差距", "number", 9),
            _c("position_label", "We", "我方", width=10),
        ), "Where we lead and trail (biggest weighted gaps first)", "领先与落后（加权差距从大到小）"),
        TableLayout("tblQualification", "qualification", "Qualification", "资格评估", (3, 0), (
            _c("id", "Deal ID", "商机编号", width=12),
            _c("account", "Account", "客户", width=22),
            _c("name", "Deal name", "商机名称", width=26),
            _c("owner", "Owner", "负责人", width=13),
            _c("stage", "Stage", "阶段", width=7),
            _c("amount", "Amount", "金额", "money", 13),
            _c("close_date", "Decision date", "预计决策日", "date", 12),
            _c("days_to_close", "Days to decision", "距决策天数", "int", 9),
            _c("urgency_label", "Urgency", "紧迫度", width=12),
            _c("importance_label", "Importance", "重要度", width=11),
            _c("completeness_5w2p", "5W+2P answered", "5W+2P完成度", "percent", 10),
            _c("completeness_6w2p", "6W+2P answered", "6W+2P完成度", "percent", 10),
            _c("unanswered", "Unanswered questions", "未回答问题", width=40),
            _c("man_ok", "MAN complete", "MAN齐备", "flag", 9),
            _c("man_missing", "MAN missing", "MAN缺项", width=18),
            _c("go_ok", "Go (4 questions)", "四问通过", "flag", 9),
            _c("go_missing", "Go questions open", "未通过问题", width=22),
            _c("account_stars", "Account stars", "客户星级", "int", 8),
        ), "Qualification of open deals (5W+2P, MAN, go/no-go, urgency, importance)", "在途商机资格评估（5W+2P、MAN、四问、紧迫度、重要度）"),
        TableLayout("tblAccounts", "accounts", "Qualification", "资格评估", (3, 19), (
            _c("account", "Account", "客户", width=22),
            _c("deals", "Deals", "商机数", "int", 7),
            _c("open_deals", "Open deals", "在途商机数", "int", 8),
            _c("open_amount", "Open amount", "在途金额", "money", 13),
            _c("won_deals", "Won deals", "赢单数", "int", 8),
            _c("lost_deals", "Lost deals", "丢单数", "int", 8),
            _c("won_amount", "Won amount", "赢单金额", "money", 13),
            _c("win_rate", "Win rate", "赢率", "percent", 9),
            _c("revenue_share", "Share of won", "赢单占比", "percent", 9),
            _c("cumulative_share", "Cumulative share", "累计占比", "percent", 10),
            _c("in_top_80", "Makes the 80%", "属于80%", "flag", 9),
            _c("stars_label", "Stars", "星级", width=10),
        ), "Accounts: 80/20 and star grades", "客户：80/20与星级"),
        TableLayout("tblDecisionChain", "decision_chain", "Qualification", "资格评估", (3, 32), (
            _c("id", "Deal ID", "商机编号", width=12),
            _c("account", "Account", "客户", width=20),
            _c("owner", "Owner", "负责人", width=12),
            _c("stage", "Stage", "阶段", width=7),
            _c("amount", "Amount", "金额", "money", 13),
            _c("stakeholders", "Stakeholders", "干系人数", "int", 9),
            _c("role_coverage", "Role coverage", "角色覆盖", "percent", 9),
            _c("roles_missing", "Roles missing", "缺失角色", width=26),
            _c("dm_met", "Decision maker met", "已接触决策者", "flag", 9),
            _c("dm_supportive", "Decision maker supports", "决策者支持", "flag", 9),
            _c("dm_relationship_label", "DM relationship", "与决策者关系", width=11),
            _c("supporters", "Supporters", "支持者", "int", 8),
            _c("hostile", "Hostile", "敌对者", "int", 7),
            _c("risk_count", "Risks", "风险数", "int", 6),
            _c("risks", "Risk flags", "风险提示", width=40),
        ), "Decision chain coverage and risks", "决策链覆盖与风险"),
        TableLayout("tblIssues", "issues", "Issues", "问题", (3, 0), (
            _c("table", "Table", "表", width=16),
            _c("row", "Row", "行", "int", 7),
            _c("column", "Column", "列", width=20),
            _c("value", "Value", "值", width=20),
            _c("problem", "Problem", "问题", width=60),
            _c("action", "What was done", "处理方式", width=28),
        ), "Problems found in the input tables", "输入数据中的问题"),
    )
}

ALL_TABLES: dict[str, TableLayout] = {**INPUTS, **OUTPUTS}


_METRIC_LABELS = {
    "as_of": ("As of", "截至日期"),
    "open_deals": ("Open deals", "在途商机数"),
    "open_amount": ("Open amount", "在途金额"),
    "weighted_pipeline": ("Weighted pipeline", "加权管道"),
    "won_deals": ("Won deals", "赢单数"),
    "won_amount": ("Won amount", "赢单金额"),
    "lost_deals": ("Lost deals", "丢单数"),
    "win_rate": ("Win rate", "赢率"),
    "probability_method": ("Probability method", "概率方法"),
    "currency": ("Currency", "货币"),
    "issues": ("Problems in the data (see Issues)", "数据问题（见问题表）"),
}


def metric_label(metric: str, language: str) -> str:
    """The Summary sheet's label for a metric key."""
    en, zh = _METRIC_LABELS.get(metric, (metric.replace("_", " ").capitalize(), metric))
    return zh if language == "zh-CN" else en


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
