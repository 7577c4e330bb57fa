"""The words the product shows, English and Chinese side by side: the bilingual catalog.

Each entry is a stable dotted key and its two texts, ``(English, Chinese)``, on one line.
The keys are grouped by what the words are:

    sheet.<sheet>                   a sheet's name (summary, stage_scheme, ..)
    heading.<sheet>                 the title at the top of an output sheet
    note.*, button.*                the line under it, the Refresh button's caption
    title.<Excel Table>             the caption above an output table
    header.<Excel Table>.<column>   a table's column headers (header.concession_plan.*: the
                                    table FUNNEL_CONCESSION_PLAN spills)
    metric.<metric>                 the figures the Summary lists
    flag.yes, flag.no               what a yes/no column shows
    chart.<chart>                   chart titles
    alert.*                         the messages of a sheet's cell checks
    sample.*                        the placeholder columns of an empty input table
    label.<kind>.<code>             the enumerations' labels (``funnel.methods.labels``), in
                                    their natural order
    status.*                        status words an output table shows in a cell
    separator.*                     how a list of labels is joined
    issue.*                         Issues rows an import adds (problem, action)
    message.*                       what a refresh says when it is done
    cli.*                           what the command line prints around its tables
    readiness.*                     what keeps the figures from reading as a forecast
    risk.*                          why a deal is at risk (the Deal scores' reason)
    dashboard.*                     the Dashboard's figures and warning signs
    import.*                        the settings chosen for a workbook built around an import
    choice.<reason>                 why the forecast uses the model or the stage probability
    advice.*, warning.*             what the negotiation course says about a concession plan

``text(key, language, **fields)`` gives one text; ``{name}`` fields are filled from the
keyword arguments, and both languages of an entry have the same fields. Layout code
(``workbook.layout``) holds the structure and asks here for the words; what a user may
*type* (the Chinese and English spellings the readers accept) is parsing data and stays
with the parsers.

To add a string: add one line with both texts here and ask for it by its key. The tests
check that every entry has both languages and the same fields, that the words of one
table, sheet list or enumeration never read alike (``tests/funnel/test_catalog.py``), that
the layout and the catalog name the same columns (``tests/workbook/test_layout_words.py``),
and that no product module outside this one carries Chinese display text of its own and
every entry is asked for (``tests/test_words_in_catalog.py``).
"""

from __future__ import annotations

import string
from types import MappingProxyType

__all__ = ["LANGUAGES", "CATALOG", "text", "entry", "group", "has", "fields", "check", "Said", "said", "given"]

LANGUAGES = ("en", "zh-CN")

_ENTRIES: dict[str, tuple[str, str]] = {
    # --- The workbook's sheets ------------------------------------------------------
    "sheet.settings": ("Settings", "设置"),
    "sheet.stage_scheme": ("Stage scheme", "阶段方案"),
    "sheet.opportunities": ("Opportunities", "商机"),
    "sheet.stage_history": ("Stage history", "阶段历史"),
    "sheet.quotas": ("Quotas", "指标"),
    "sheet.competitors": ("Competitors", "竞争对手"),
    "sheet.comparison": ("Comparison", "比较表"),
    "sheet.stakeholders": ("Stakeholders", "决策链"),
    "sheet.forecast_calls": ("Forecast calls", "预测提报"),
    "sheet.people": ("People", "人员"),
    "sheet.dashboard": ("Dashboard", "仪表板"),
    "sheet.summary": ("Summary", "总览"),
    "sheet.forecast": ("Forecast", "预测"),
    "sheet.stages": ("Stages", "阶段统计"),
    "sheet.win_rates": ("Win rates", "赢率"),
    "sheet.deal_scores": ("Deal scores", "商机评分"),
    "sheet.competition": ("Competition", "竞争"),
    "sheet.qualification": ("Qualification", "资格评估"),
    "sheet.issues": ("Issues", "问题"),
    "heading.dashboard": ("This period at a glance", "本期一览"),
    "heading.summary": ("Funnel summary", "销售漏斗总览"),
    "heading.forecast": ("Weighted pipeline forecast", "加权管道预测"),
    "heading.stages": ("Stage statistics", "阶段统计"),
    "heading.win_rates": ("Win rates", "赢率"),
    "heading.deal_scores": ("Deal scores", "商机评分"),
    "heading.competition": ("Competition", "竞争分析"),
    "heading.qualification": ("Qualification and decision chain", "资格评估与决策链"),
    "heading.issues": ("Problems found in the input tables", "输入数据中的问题"),
    "note.refresh": ("Press Refresh to recompute from the input sheets.", "按“刷新”按钮重新计算。"),
    "button.refresh": ("Refresh", "刷新"),
    "button.snapshot": ("Snapshot", "记录快照"),  # issue 16, record: records without rewriting tables
    "note.refresh_tab": ("Refresh from the Funnel tab to recompute from the input sheets (the funnel add-in).",
                         "在“销售漏斗”选项卡上点“刷新”重新计算（需加载 funnel 加载项）。"),
    # --- The add-in's ribbon tab (workbook/addin.py) ---------------------------------
    "ribbon.tab": ("Funnel", "销售漏斗"),
    "ribbon.group.workbook": ("Workbook", "工作簿"),
    "ribbon.group.go_to": ("Go to", "转到"),
    "ribbon.group.help": ("Help", "帮助"),
    "ribbon.refresh": ("Refresh", "刷新"),
    "ribbon.import": ("Import CRM export...", "导入 CRM 导出..."),
    "ribbon.new": ("New funnel workbook...", "新建漏斗工作簿..."),
    "ribbon.issues": ("Go to Issues", "转到问题"),
    "ribbon.settings": ("Settings", "设置"),
    "ribbon.about": ("About", "关于"),
    "ribbon.snapshot": ("Snapshot", "记录快照"),
    "ribbon.snapshot.tip": ("Record a snapshot of the deals and the forecast in the snapshot store, without rewriting "
                            "any table.", "把商机和预测记录为快照存入快照库，不改写任何表。"),
    "ribbon.refresh.tip": ("Recompute every output table of the active workbook from its input tables.",
                           "根据活动工作簿的输入表重新计算所有结果表。"),
    "ribbon.import.tip": ("Merge a CRM export (CSV) into the active workbook's Opportunities and Stage history.",
                          "将 CRM 导出（CSV）合并到活动工作簿的商机与阶段历史表。"),
    "ribbon.new.tip": ("Build a new funnel workbook (.xlsx, no macros) and open it.",
                       "新建一个漏斗工作簿（.xlsx，无宏）并打开。"),
    "ribbon.issues.tip": ("Show the Issues sheet: the problems found in the input tables.",
                          "显示“问题”表：输入数据中发现的问题。"),
    "ribbon.settings.tip": ("Show the Settings table of the active workbook.", "显示活动工作簿的设置表。"),
    "ribbon.about.tip": ("The add-in's version, the Python it uses and where its log is.",
                         "加载项版本、所用的 Python 及日志位置。"),
    "ribbon.not_funnel": ("The active workbook has no {table} table: open a funnel workbook, or build one with New funnel workbook.",
                          "活动工作簿中没有 {table} 表：请打开漏斗工作簿，或用“新建漏斗工作簿”创建。"),
    # --- Output tables' captions ----------------------------------------------------
    "title.tblDashFigures": ("This period against quota", "本期与指标对比"),
    "title.tblDashFlags": ("Warning signs on open deals", "在途商机预警"),
    "title.tblDashRisks": ("Deals most at risk", "风险最大的商机"),
    "title.tblDashGaps": ("Where we trail the best rival most", "与最强对手差距最大的因素"),
    "title.tblDashOwners": ("This period by owner", "本期按负责人"),
    "title.tblSummary": ("Headline figures", "关键指标"),
    "title.tblForecastPeriods": ("By period", "按期间"),
    "title.tblForecast": ("By period, team and owner", "按期间、团队、负责人"),
    "title.tblForecastTeams": ("By period and team", "按期间、团队"),
    "title.tblCallRollup": ("Calls along the hierarchy (cumulative: commit = closed won + commit; best case = commit + best case)",
                            "按汇报层级的提报（累计口径：承诺 = 已赢 + 承诺；最佳 = 承诺 + 最佳）"),
    "title.tblStageStats": ("Stage statistics", "阶段统计"),
    "title.tblWinRates": ("Win rates", "赢率"),
    "title.tblWinTrend": ("Trend", "趋势"),
    "title.tblRange": ("What will book: range by period (current and later)", "预计成交区间（本期及以后）"),
    "title.tblDealScores": ("Open deals: model probability, reasons, health and qualification", "在途商机：模型概率、原因、健康度与资格"),
    "title.tblCalibration": ("Calibration backtest (lower is better)", "校准回测（越低越好）"),
    "title.tblForecastChoice": ("Forecast method: model or stage probability, chosen by the backtest",
                                "预测方法：模型或阶段概率（由回测选择）"),
    "title.tblReliability": ("Reliability: observed win rate by predicted probability", "可靠性：按预测概率的实际赢率"),
    "title.tblHeadToHead": ("Head-to-head record", "对战记录"),
    "title.tblComparisonResult": ("The comparison table that decides (weighted totals)", "决定生死的比较表（加权总分）"),
    "title.tblComparisonGaps": ("Where we lead and trail (biggest weighted gaps first)", "领先与落后（加权差距从大到小）"),
    "title.tblQualification": ("Qualification of open deals (5W+2P, MAN, go/no-go, urgency, importance)", "在途商机资格评估（5W+2P、MAN、四问、紧迫度、重要度）"),
    "title.tblAccounts": ("Accounts: 80/20 and star grades", "客户：80/20与星级"),
    "title.tblDecisionChain": ("Decision chain coverage and risks", "决策链覆盖与风险"),
    "title.tblIssues": ("Problems found in the input tables", "输入数据中的问题"),
    # --- Column headers, table by table ---------------------------------------------
    # tblSettings
    "header.tblSettings.key": ("Setting", "设置项"),
    "header.tblSettings.value": ("Value", "值"),
    "header.tblSettings.description": ("What it does", "说明"),
    # tblStages
    "header.tblStages.code": ("Code", "代码"),
    "header.tblStages.name": ("Stage", "阶段名称"),
    "header.tblStages.order": ("Order", "顺序"),
    "header.tblStages.probability": ("Probability", "赢单概率"),
    "header.tblStages.forecast_category": ("Forecast category", "预测类别"),
    "header.tblStages.is_won": ("Won?", "赢单?"),
    "header.tblStages.is_lost": ("Lost?", "丢单?"),
    "header.tblStages.entry_criteria": ("Enters when", "进入标准"),
    # tblOpportunities
    "header.tblOpportunities.id": ("Deal ID", "商机编号"),
    "header.tblOpportunities.account": ("Account", "客户"),
    "header.tblOpportunities.name": ("Deal name", "商机名称"),
    "header.tblOpportunities.owner": ("Owner", "负责人"),
    "header.tblOpportunities.team": ("Team", "团队"),
    "header.tblOpportunities.stage": ("Stage", "阶段"),
    "header.tblOpportunities.amount": ("Amount", "金额"),
    "header.tblOpportunities.created": ("Created", "创建日期"),
    "header.tblOpportunities.close_date": ("Close date", "预计成交日期"),
    "header.tblOpportunities.probability_override": ("Probability override", "手动概率"),
    "header.tblOpportunities.forecast_category": ("Forecast category", "预测类别"),
    "header.tblOpportunities.source": ("Source", "来源"),
    "header.tblOpportunities.product": ("Product", "产品"),
    "header.tblOpportunities.industry": ("Industry", "行业"),
    "header.tblOpportunities.competitors": ("Competitors", "竞争对手"),
    "header.tblOpportunities.next_step": ("Next step", "下一步"),
    "header.tblOpportunities.last_activity": ("Last activity", "最近活动"),
    "header.tblOpportunities.lost_reason": ("Lost reason", "丢单原因"),
    "header.tblOpportunities.q_why_need": ("Why a new system? (W)", "为什么需要新系统(W)"),
    "header.tblOpportunities.q_budget": ("Budget planned? (P)", "是否有预算(P)"),
    "header.tblOpportunities.q_decision_maker": ("Who decides? (W)", "谁是决策者(W)"),
    "header.tblOpportunities.q_decision_process": ("Decision process? (W)", "决策流程(W)"),
    "header.tblOpportunities.q_decision_criteria": ("Decision criteria? (W)", "决策标准(W)"),
    "header.tblOpportunities.q_timeline": ("Timetable? (P)", "时间表(P)"),
    "header.tblOpportunities.q_competition": ("Competitors known? (W)", "竞争对手(W)"),
    "header.tblOpportunities.q_why_us": ("Why us? (W)", "为什么选我们(W)"),
    "header.tblOpportunities.man_money": ("MAN: Money", "MAN:购买力"),
    "header.tblOpportunities.man_authority": ("MAN: Authority", "MAN:决策权"),
    "header.tblOpportunities.man_need": ("MAN: Need", "MAN:需求"),
    "header.tblOpportunities.go_real": ("Go: real opportunity?", "是否有机会"),
    "header.tblOpportunities.go_solution": ("Go: our solution fits?", "是否有方案"),
    "header.tblOpportunities.go_win": ("Go: can we win?", "能否赢"),
    "header.tblOpportunities.go_worth": ("Go: worth winning?", "是否值得赢"),
    # tblStageHistory
    "header.tblStageHistory.opportunity_id": ("Deal ID", "商机编号"),
    "header.tblStageHistory.stage": ("Stage", "阶段"),
    "header.tblStageHistory.entered": ("Entered", "进入日期"),
    # tblQuotas
    "header.tblQuotas.owner": ("Owner", "负责人"),
    "header.tblQuotas.team": ("Team", "团队"),
    "header.tblQuotas.period": ("Period", "期间"),
    "header.tblQuotas.quota": ("Quota", "指标"),
    # tblForecastCalls
    "header.tblForecastCalls.period": ("Period", "期间"),
    "header.tblForecastCalls.owner": ("Person", "人员"),
    "header.tblForecastCalls.category": ("Category", "类别"),
    "header.tblForecastCalls.amount": ("Amount (cumulative)", "金额（累计）"),
    "header.tblForecastCalls.submitted_on": ("Submitted on", "提报日期"),
    "header.tblForecastCalls.note": ("Note", "备注"),
    # tblPeople
    "header.tblPeople.person": ("Person", "人员"),
    "header.tblPeople.manager": ("Reports to", "汇报对象"),
    # tblCompetitors
    "header.tblCompetitors.competitor": ("Competitor", "竞争对手"),
    "header.tblCompetitors.strengths": ("Strengths", "优势"),
    "header.tblCompetitors.weaknesses": ("Weaknesses", "劣势"),
    "header.tblCompetitors.notes": ("Notes", "备注"),
    # tblComparison
    "header.tblComparison.opportunity_id": ("Deal ID", "商机编号"),
    "header.tblComparison.factor": ("Decision factor", "决策因素"),
    "header.tblComparison.weight": ("Weight", "权重"),
    # tblStakeholders
    "header.tblStakeholders.opportunity_id": ("Deal ID", "商机编号"),
    "header.tblStakeholders.name": ("Name", "姓名"),
    "header.tblStakeholders.title": ("Title", "职务"),
    "header.tblStakeholders.role": ("Role", "角色"),
    "header.tblStakeholders.attitude": ("Attitude", "态度"),
    "header.tblStakeholders.relationship": ("Relationship", "关系阶段"),
    "header.tblStakeholders.style": ("Style", "沟通风格"),
    # tblSummary
    "header.tblDashFigures.period": ("Period", "期间"),
    "header.tblDashFigures.figure": ("Figure", "指标"),
    "header.tblDashFigures.amount": ("Amount", "金额"),
    "header.tblDashFigures.quota": ("Quota", "指标额"),
    "header.tblDashFigures.of_quota": ("Of quota", "占指标"),
    "header.tblDashFlags.flag": ("Warning sign", "预警"),
    "header.tblDashFlags.deals": ("Open deals", "在途商机数"),
    "header.tblDashFlags.amount": ("Their amount", "涉及金额"),
    "header.tblDashRisks.id": ("Deal ID", "商机编号"),
    "header.tblDashRisks.owner": ("Owner", "负责人"),
    "header.tblDashRisks.stage": ("Stage", "阶段"),
    "header.tblDashRisks.amount_at_risk": ("Amount at risk", "风险金额"),
    "header.tblDashRisks.used_probability": ("Probability", "概率"),
    "header.tblDashRisks.reason": ("Why at risk", "风险原因"),
    "header.tblDashGaps.opportunity_id": ("Deal ID", "商机编号"),
    "header.tblDashGaps.factor": ("Factor", "因素"),
    "header.tblDashGaps.best_rival": ("Best rival", "最强对手"),
    "header.tblDashGaps.gap": ("Gap", "差距"),
    "header.tblDashGaps.weighted_gap": ("Weighted gap", "加权差距"),
    "header.tblDashOwners.owner": ("Owner", "负责人"),
    "header.tblDashOwners.team": ("Team", "团队"),
    "header.tblDashOwners.closed_won": ("Closed won", "已赢单金额"),
    "header.tblDashOwners.quota": ("Quota", "指标额"),
    "header.tblDashOwners.attainment": ("Attainment", "达成率"),
    "header.tblDashOwners.commit": ("Commit (won + commit)", "承诺（已赢+承诺）"),
    "header.tblDashOwners.weighted": ("Weighted", "加权金额"),
    "header.tblDashOwners.coverage": ("Coverage", "覆盖率"),
    "header.tblSummary.metric": ("Figure", "指标"),
    "header.tblSummary.value": ("Value", "数值"),
    # tblForecastPeriods
    "header.tblForecastPeriods.period": ("Period", "期间"),
    "header.tblForecastPeriods.open_deals": ("Open deals", "在途商机数"),
    "header.tblForecastPeriods.open_amount": ("Open amount", "在途金额"),
    "header.tblForecastPeriods.weighted": ("Weighted", "加权金额"),
    "header.tblForecastPeriods.pipeline": ("Pipeline", "管道"),
    "header.tblForecastPeriods.best_case": ("Best case (commit + best case)", "最佳情况（承诺+最佳）"),
    "header.tblForecastPeriods.commit": ("Commit (won + commit)", "承诺（已赢+承诺）"),
    "header.tblForecastPeriods.won_deals": ("Won deals", "赢单数"),
    "header.tblForecastPeriods.closed_won": ("Closed won", "已赢金额"),
    "header.tblForecastPeriods.lost_deals": ("Lost deals", "丢单数"),
    "header.tblForecastPeriods.quota": ("Quota", "指标"),
    "header.tblForecastPeriods.attainment": ("Attainment", "完成率"),
    "header.tblForecastPeriods.coverage": ("Coverage", "覆盖倍数"),
    # tblForecast
    "header.tblForecast.period": ("Period", "期间"),
    "header.tblForecast.team": ("Team", "团队"),
    "header.tblForecast.owner": ("Owner", "负责人"),
    "header.tblForecast.open_deals": ("Open deals", "在途商机数"),
    "header.tblForecast.open_amount": ("Open amount", "在途金额"),
    "header.tblForecast.weighted": ("Weighted", "加权金额"),
    "header.tblForecast.pipeline": ("Pipeline", "管道"),
    "header.tblForecast.best_case": ("Best case (commit + best case)", "最佳情况（承诺+最佳）"),
    "header.tblForecast.commit": ("Commit (won + commit)", "承诺（已赢+承诺）"),
    "header.tblForecast.won_deals": ("Won deals", "赢单数"),
    "header.tblForecast.closed_won": ("Closed won", "已赢金额"),
    "header.tblForecast.lost_deals": ("Lost deals", "丢单数"),
    "header.tblForecast.quota": ("Quota", "指标"),
    "header.tblForecast.attainment": ("Attainment", "完成率"),
    "header.tblForecast.coverage": ("Coverage", "覆盖倍数"),
    # tblForecastTeams
    "header.tblForecastTeams.period": ("Period", "期间"),
    "header.tblForecastTeams.team": ("Team", "团队"),
    "header.tblForecastTeams.open_deals": ("Open deals", "在途商机数"),
    "header.tblForecastTeams.open_amount": ("Open amount", "在途金额"),
    "header.tblForecastTeams.weighted": ("Weighted", "加权金额"),
    "header.tblForecastTeams.pipeline": ("Pipeline", "管道"),
    "header.tblForecastTeams.best_case": ("Best case (commit + best case)", "最佳情况（承诺+最佳）"),
    "header.tblForecastTeams.commit": ("Commit (won + commit)", "承诺（已赢+承诺）"),
    "header.tblForecastTeams.won_deals": ("Won deals", "赢单数"),
    "header.tblForecastTeams.closed_won": ("Closed won", "已赢金额"),
    "header.tblForecastTeams.lost_deals": ("Lost deals", "丢单数"),
    "header.tblForecastTeams.quota": ("Quota", "指标"),
    "header.tblForecastTeams.attainment": ("Attainment", "完成率"),
    "header.tblForecastTeams.coverage": ("Coverage", "覆盖倍数"),
    # tblCallRollup
    "header.tblCallRollup.period": ("Period", "期间"),
    "header.tblCallRollup.person": ("Person", "人员"),
    "header.tblCallRollup.manager": ("Reports to", "汇报对象"),
    "header.tblCallRollup.level": ("Level (0 = top)", "层级（0 为最高）"),
    "header.tblCallRollup.closed_won": ("Closed won", "已赢金额"),
    "header.tblCallRollup.commit": ("System commit (won + commit)", "系统承诺（已赢+承诺）"),
    "header.tblCallRollup.best_case": ("System best case (commit + best case)", "系统最佳（承诺+最佳）"),
    "header.tblCallRollup.weighted": ("Weighted", "加权金额"),
    "header.tblCallRollup.p50": ("P50 (range over the subtree's deals)", "P50（下属全部商机的区间预测）"),  # manager: P50 per level
    "header.tblCallRollup.commit_call": ("Commit call", "承诺提报"),
    "header.tblCallRollup.commit_below": ("Commit calls of direct reports", "直接下属的承诺提报合计"),
    "header.tblCallRollup.commit_adjustment": ("Commit adjustment", "承诺调整"),
    "header.tblCallRollup.best_case_call": ("Best case call", "最佳提报"),
    "header.tblCallRollup.best_case_below": ("Best case calls of direct reports", "直接下属的最佳提报合计"),
    "header.tblCallRollup.best_case_adjustment": ("Best case adjustment", "最佳调整"),
    "header.tblCallRollup.pipeline_call": ("Pipeline call", "管道提报"),
    # tblStageStats
    "header.tblStageStats.code": ("Code", "代码"),
    "header.tblStageStats.name": ("Stage", "阶段"),
    "header.tblStageStats.order": ("Order", "顺序"),
    "header.tblStageStats.open_deals": ("Open deals", "在途商机数"),
    "header.tblStageStats.open_amount": ("Open amount", "在途金额"),
    "header.tblStageStats.weighted": ("Weighted", "加权金额"),
    "header.tblStageStats.configured": ("Configured", "设定概率"),
    "header.tblStageStats.empirical": ("Empirical", "历史概率"),
    "header.tblStageStats.blended": ("Blended", "融合概率"),
    "header.tblStageStats.used": ("Used", "采用概率"),
    "header.tblStageStats.status": ("Data", "数据"),
    "header.tblStageStats.reached_closed": ("Closed that reached", "到达并关闭"),
    "header.tblStageStats.reached_won": ("Won that reached", "到达并赢单"),
    "header.tblStageStats.reached": ("Deals that reached", "到达商机数"),
    "header.tblStageStats.conversion_to_next": ("Conversion to next", "转化率"),
    "header.tblStageStats.median_days": ("Median days in stage", "停留天数中位数"),
    "header.tblStageStats.stays": ("Finished stays", "已完成停留数"),
    # tblWinRates
    "header.tblWinRates.dimension": ("By", "维度"),
    "header.tblWinRates.segment": ("Segment", "细分"),
    "header.tblWinRates.won": ("Won", "赢"),
    "header.tblWinRates.lost": ("Lost", "丢"),
    "header.tblWinRates.closed": ("Closed", "已关闭"),
    "header.tblWinRates.win_rate": ("Win rate", "赢率"),
    "header.tblWinRates.ci_low": ("95% low", "95%下限"),
    "header.tblWinRates.ci_high": ("95% high", "95%上限"),
    "header.tblWinRates.won_amount": ("Won amount", "赢单金额"),
    "header.tblWinRates.lost_amount": ("Lost amount", "丢单金额"),
    "header.tblWinRates.status": ("Status", "状态"),
    # tblWinTrend
    "header.tblWinTrend.period": ("Period", "期间"),
    "header.tblWinTrend.won": ("Won", "赢"),
    "header.tblWinTrend.lost": ("Lost", "丢"),
    "header.tblWinTrend.closed": ("Closed", "已关闭"),
    "header.tblWinTrend.win_rate": ("Win rate", "赢率"),
    "header.tblWinTrend.ci_low": ("95% low", "95%下限"),
    "header.tblWinTrend.ci_high": ("95% high", "95%上限"),
    "header.tblWinTrend.change": ("Change", "变化"),
    "header.tblWinTrend.status": ("Status", "状态"),
    # tblRange
    "header.tblRange.period": ("Period", "期间"),
    "header.tblRange.closed_won": ("Closed won", "已赢金额"),
    "header.tblRange.open_deals": ("Open deals", "在途商机数"),
    "header.tblRange.open_amount": ("Open amount", "在途金额"),
    "header.tblRange.expected": ("Expected", "期望值"),
    "header.tblRange.p10": ("P10", "P10"),
    "header.tblRange.p50": ("P50", "P50"),
    "header.tblRange.p90": ("P90", "P90"),
    "header.tblRange.quota": ("Quota", "指标"),
    "header.tblRange.prob_reach_quota": ("Chance to reach quota", "完成指标概率"),
    "header.tblRange.worst_case": ("Worst case", "最差情况"),
    "header.tblRange.commit": ("Commit (won + commit)", "承诺（已赢+承诺）"),
    "header.tblRange.best_case": ("Best case (commit + best case)", "最佳情况（承诺+最佳）"),
    # tblDealScores
    "header.tblDealScores.id": ("Deal ID", "商机编号"),
    "header.tblDealScores.account": ("Account", "客户"),
    "header.tblDealScores.name": ("Deal name", "商机名称"),
    "header.tblDealScores.owner": ("Owner", "负责人"),
    "header.tblDealScores.stage": ("Stage", "阶段"),
    "header.tblDealScores.amount": ("Amount", "金额"),
    "header.tblDealScores.amount_at_risk": ("Amount at risk", "风险金额"),
    "header.tblDealScores.warning_signs": ("Warning signs", "预警数"),
    "header.tblDealScores.reason": ("Why at risk (strongest first)", "风险原因（最严重的在前）"),
    "header.tblDealScores.stage_probability": ("Stage probability", "阶段概率"),
    "header.tblDealScores.model_probability": ("Model probability", "模型概率"),
    "header.tblDealScores.used_probability": ("Used probability", "采用概率"),
    "header.tblDealScores.basis": ("Basis", "依据"),
    "header.tblDealScores.factors_for": ("Factors for", "有利因素"),
    "header.tblDealScores.factors_against": ("Factors against", "不利因素"),
    "header.tblDealScores.days_in_stage": ("Days in stage", "本阶段天数"),
    "header.tblDealScores.stage_median_days": ("Stage median days", "阶段中位天数"),
    "header.tblDealScores.stale": ("Stale", "停滞"),
    "header.tblDealScores.days_overdue": ("Days overdue", "逾期天数"),
    "header.tblDealScores.overdue": ("Overdue", "逾期"),
    "header.tblDealScores.step_backs": ("Step backs", "倒退次数"),
    "header.tblDealScores.pushed": ("Pushed", "被推迟"),
    "header.tblDealScores.days_since_activity": ("Days since activity", "距上次活动天数"),
    "header.tblDealScores.inactive": ("Inactive", "无活动"),
    "header.tblDealScores.urgency": ("Urgency", "紧迫度"),
    "header.tblDealScores.importance": ("Importance", "重要度"),
    "header.tblDealScores.completeness_6w2p": ("6W+2P answered", "6W+2P完成度"),
    "header.tblDealScores.man_ok": ("MAN complete", "MAN齐备"),
    "header.tblDealScores.go_ok": ("Go (4 questions)", "四问通过"),
    "header.tblDealScores.role_coverage": ("Role coverage", "角色覆盖"),
    "header.tblDealScores.dm_supportive": ("Decision maker supports", "决策者支持"),
    "header.tblDealScores.risks": ("Decision-chain risks", "决策链风险"),
    # tblCalibration
    "header.tblCalibration.method": ("Method", "方法"),
    "header.tblCalibration.brier": ("Brier score", "Brier分数"),
    "header.tblCalibration.log_loss": ("Log loss", "对数损失"),
    "header.tblCalibration.deals": ("Deals predicted", "预测商机数"),
    "header.tblCalibration.predictions": ("Predictions", "预测次数"),
    "header.tblCalibration.won_share": ("Won share", "赢单占比"),
    "header.tblCalibration.cutoff": ("Learned before", "学习截止日"),
    "header.tblCalibration.train_deals": ("Deals learned from", "学习商机数"),
    "header.tblCalibration.note": ("Note", "备注"),
    # tblForecastChoice
    "header.tblForecastChoice.setting": ("Setting", "设置"),
    "header.tblForecastChoice.method": ("Forecast uses", "预测采用"),
    "header.tblForecastChoice.baseline": ("Stage probability compared", "对比的阶段概率"),
    "header.tblForecastChoice.calibration": ("Calibration", "校准方法"),
    "header.tblForecastChoice.brier_raw": ("Model Brier uncalibrated", "模型Brier分数（未校准）"),
    "header.tblForecastChoice.brier_model": ("Model Brier", "模型Brier分数"),
    "header.tblForecastChoice.brier_stage": ("Stage Brier", "阶段Brier分数"),
    "header.tblForecastChoice.difference": ("Difference (model - stage)", "差值（模型-阶段）"),
    "header.tblForecastChoice.ci_low": ("95% low", "95%下限"),
    "header.tblForecastChoice.ci_high": ("95% high", "95%上限"),
    "header.tblForecastChoice.deals": ("Deals predicted", "预测商机数"),
    "header.tblForecastChoice.predictions": ("Predictions", "预测次数"),
    "header.tblForecastChoice.reason": ("Why", "原因"),
    # tblReliability
    "header.tblReliability.bin": ("Predicted", "预测概率区间"),
    "header.tblReliability.bin_mid": ("Perfect", "理想"),
    "header.tblReliability.configured": ("Configured", "设定概率"),
    "header.tblReliability.empirical": ("Empirical", "历史概率"),
    "header.tblReliability.blended": ("Blended", "融合概率"),
    "header.tblReliability.model": ("Model", "模型"),
    "header.tblReliability.model_platt": ("Model (Platt)", "模型（Platt校准）"),
    "header.tblReliability.model_isotonic": ("Model (isotonic)", "模型（保序校准）"),
    # tblHeadToHead
    "header.tblHeadToHead.competitor": ("Competitor", "竞争对手"),
    "header.tblHeadToHead.met": ("Closed deals met", "交手已关闭商机"),
    "header.tblHeadToHead.won": ("Won", "赢"),
    "header.tblHeadToHead.lost": ("Lost", "丢"),
    "header.tblHeadToHead.win_rate": ("Win rate", "赢率"),
    "header.tblHeadToHead.ci_low": ("95% low", "95%下限"),
    "header.tblHeadToHead.ci_high": ("95% high", "95%上限"),
    "header.tblHeadToHead.won_amount": ("Won amount", "赢单金额"),
    "header.tblHeadToHead.lost_amount": ("Lost amount", "丢单金额"),
    "header.tblHeadToHead.median_cycle_days": ("Median cycle (days)", "周期中位数(天)"),
    "header.tblHeadToHead.top_lost_reasons": ("Top lost reasons", "主要丢单原因"),
    "header.tblHeadToHead.open_deals": ("Open deals contested", "在途竞争商机"),
    "header.tblHeadToHead.open_amount": ("Open amount", "在途金额"),
    "header.tblHeadToHead.open_weighted": ("Open weighted", "在途加权"),
    "header.tblHeadToHead.strengths": ("Strengths", "优势"),
    "header.tblHeadToHead.weaknesses": ("Weaknesses", "劣势"),
    # tblComparisonResult
    "header.tblComparisonResult.opportunity_id": ("Deal ID", "商机编号"),
    "header.tblComparisonResult.vendor": ("Vendor", "厂商"),
    "header.tblComparisonResult.weighted_total": ("Weighted total", "加权总分"),
    "header.tblComparisonResult.rank": ("Rank", "排名"),
    "header.tblComparisonResult.tied": ("Tied", "并列"),
    "header.tblComparisonResult.factors_scored": ("Factors scored", "已评分因素"),
    "header.tblComparisonResult.factors": ("Factors", "因素数"),
    "header.tblComparisonResult.weight_coverage": ("Weight scored", "已评分权重"),
    "header.tblComparisonResult.gap_to_us": ("Gap to us", "与我方差距"),
    # tblComparisonGaps
    "header.tblComparisonGaps.opportunity_id": ("Deal ID", "商机编号"),
    "header.tblComparisonGaps.factor": ("Decision factor", "决策因素"),
    "header.tblComparisonGaps.weight": ("Weight", "权重"),
    "header.tblComparisonGaps.our_score": ("Our score", "我方得分"),
    "header.tblComparisonGaps.best_rival": ("Best rival", "最强对手"),
    "header.tblComparisonGaps.rival_score": ("Rival score", "对手得分"),
    "header.tblComparisonGaps.gap": ("Gap", "差距"),
    "header.tblComparisonGaps.weighted_gap": ("Weighted gap", "加权差距"),
    "header.tblComparisonGaps.position_label": ("We", "我方"),
    # tblQualification
    "header.tblQualification.id": ("Deal ID", "商机编号"),
    "header.tblQualification.account": ("Account", "客户"),
    "header.tblQualification.name": ("Deal name", "商机名称"),
    "header.tblQualification.owner": ("Owner", "负责人"),
    "header.tblQualification.stage": ("Stage", "阶段"),
    "header.tblQualification.amount": ("Amount", "金额"),
    "header.tblQualification.close_date": ("Decision date", "预计决策日"),
    "header.tblQualification.days_to_close": ("Days to decision", "距决策天数"),
    "header.tblQualification.urgency_label": ("Urgency", "紧迫度"),
    "header.tblQualification.importance_label": ("Importance", "重要度"),
    "header.tblQualification.completeness_5w2p": ("5W+2P answered", "5W+2P完成度"),
    "header.tblQualification.completeness_6w2p": ("6W+2P answered", "6W+2P完成度"),
    "header.tblQualification.unanswered": ("Unanswered questions", "未回答问题"),
    "header.tblQualification.man_ok": ("MAN complete", "MAN齐备"),
    "header.tblQualification.man_missing": ("MAN missing", "MAN缺项"),
    "header.tblQualification.go_ok": ("Go (4 questions)", "四问通过"),
    "header.tblQualification.go_missing": ("Go questions open", "未通过问题"),
    "header.tblQualification.account_stars": ("Account stars", "客户星级"),
    # tblAccounts
    "header.tblAccounts.account": ("Account", "客户"),
    "header.tblAccounts.deals": ("Deals", "商机数"),
    "header.tblAccounts.open_deals": ("Open deals", "在途商机数"),
    "header.tblAccounts.open_amount": ("Open amount", "在途金额"),
    "header.tblAccounts.won_deals": ("Won deals", "赢单数"),
    "header.tblAccounts.lost_deals": ("Lost deals", "丢单数"),
    "header.tblAccounts.won_amount": ("Won amount", "赢单金额"),
    "header.tblAccounts.win_rate": ("Win rate", "赢率"),
    "header.tblAccounts.revenue_share": ("Share of won", "赢单占比"),
    "header.tblAccounts.cumulative_share": ("Cumulative share", "累计占比"),
    "header.tblAccounts.in_top_80": ("Makes the 80%", "属于80%"),
    "header.tblAccounts.stars_label": ("Stars", "星级"),
    # tblDecisionChain
    "header.tblDecisionChain.id": ("Deal ID", "商机编号"),
    "header.tblDecisionChain.account": ("Account", "客户"),
    "header.tblDecisionChain.owner": ("Owner", "负责人"),
    "header.tblDecisionChain.stage": ("Stage", "阶段"),
    "header.tblDecisionChain.amount": ("Amount", "金额"),
    "header.tblDecisionChain.stakeholders": ("Stakeholders", "干系人数"),
    "header.tblDecisionChain.role_coverage": ("Role coverage", "角色覆盖"),
    "header.tblDecisionChain.roles_missing": ("Roles missing", "缺失角色"),
    "header.tblDecisionChain.dm_met": ("Decision maker met", "已接触决策者"),
    "header.tblDecisionChain.dm_supportive": ("Decision maker supports", "决策者支持"),
    "header.tblDecisionChain.dm_relationship_label": ("DM relationship", "与决策者关系"),
    "header.tblDecisionChain.supporters": ("Supporters", "支持者"),
    "header.tblDecisionChain.hostile": ("Hostile", "敌对者"),
    "header.tblDecisionChain.risk_count": ("Risks", "风险数"),
    "header.tblDecisionChain.risks": ("Risk flags", "风险提示"),
    # tblIssues
    "header.tblIssues.table": ("Table", "表"),
    "header.tblIssues.row": ("Row", "行"),
    "header.tblIssues.column": ("Column", "列"),
    "header.tblIssues.value": ("Value", "值"),
    "header.tblIssues.problem": ("Problem", "问题"),
    "header.tblIssues.action": ("What was done", "处理方式"),
    # concession_plan (spilled by FUNNEL_CONCESSION_PLAN; no sheet holds it)
    "header.concession_plan.step": ("Step", "步骤"),
    "header.concession_plan.concession": ("Concession", "让步"),
    "header.concession_plan.cumulative": ("Conceded so far", "累计让步"),
    "header.concession_plan.price_after": ("Price after", "让步后价格"),
    "header.concession_plan.share_of_room": ("Share of room", "占让步空间"),
    "header.concession_plan.advice": ("What the course says", "课程提示"),
    # --- The Summary's figures ------------------------------------------------------
    "metric.as_of": ("As of", "截至日期"),
    "metric.open_deals": ("Open deals", "在途商机数"),
    "metric.open_amount": ("Open amount", "在途金额"),
    "metric.weighted_pipeline": ("Weighted pipeline", "加权管道"),
    "metric.won_deals": ("Won deals", "赢单数"),
    "metric.won_amount": ("Won amount", "赢单金额"),
    "metric.lost_deals": ("Lost deals", "丢单数"),
    "metric.win_rate": ("Win rate", "赢率"),
    "metric.probability_method": ("Probability method", "概率方法"),
    "metric.currency": ("Currency", "货币"),
    "metric.issues": ("Problems in the data (see Issues)", "数据问题（见问题表）"),
    # The deal-health counts under them (funnel.forecast.health_counts).
    "metric.stale_deals": ("Stale deals", "停滞商机数"),
    "metric.stale_amount": ("Stale amount", "停滞金额"),
    "metric.overdue_deals": ("Overdue deals", "逾期商机数"),
    "metric.overdue_amount": ("Overdue amount", "逾期金额"),
    "metric.pushed_deals": ("Pushed deals", "被推迟商机数"),
    "metric.pushed_amount": ("Pushed amount", "被推迟金额"),
    "metric.inactive_deals": ("Inactive deals", "无活动商机数"),
    "metric.inactive_amount": ("Inactive amount", "无活动金额"),
    "metric.flagged_deals": ("Flagged deals", "有风险提示的商机数"),
    "metric.flagged_amount": ("Flagged amount", "有风险提示的金额"),
    # --- What each setting does (the Settings sheet's description column) -------------
    "setting.as_of": ("the day the figures are as of", "数字所截至的日期"),
    "setting.currency": ("currency shown next to amounts", "金额旁显示的货币"),
    "setting.fiscal_year_start_month": ("first month of the fiscal year", "财年的第一个月"),
    "setting.period": ("forecast period", "预测期间（month 月 / quarter 季度）"),
    "setting.probability_method": ("which stage probability forecasts use", "预测采用哪种阶段概率（configured 设定 / empirical 历史 / blended 融合）"),
    "setting.prior_strength": ("weight of the configured probability when blending", "融合时设定概率的权重"),
    "setting.forecast_method": ("auto: the per-deal model where its backtest beats the stage probability, else the "
                                "stage probability; model or stage: always that one",
                                "auto：逐单模型的回测优于阶段概率时用模型，否则用阶段概率；model 或 stage：始终用该方法"),
    "setting.model_min_closed": ("closed deals needed before the model is used", "启用模型前所需的已关闭商机数"),
    "setting.stale_multiple": ("stale when days in stage exceed this x the median", "本阶段天数超过中位数的这个倍数即为停滞"),
    "setting.inactive_days": ("no activity for this many days flags a deal", "这么多天没有活动即提示商机无活动"),
    "setting.importance_key_amount": ("amount at or above which a deal is key", "金额达到此值的商机为关键"),
    "setting.importance_important_amount": ("amount at or above which a deal is important", "金额达到此值的商机为重要"),
    "setting.amount_bands": ("amount band edges, ';'-separated", "金额分段的边界，用“;”分隔"),
    "setting.trend_periods": ("periods in the win-rate trend", "赢率趋势包含的期间数"),
    "setting.comparison_scale_max": ("top of the comparison score scale (5 or 10)", "比较表评分的满分（5 或 10）"),
    "setting.comparison_us": ("header of our column in the comparison table (blank: {us} or the first score column)",
                              "比较表中我方列的表头（留空：{us}或第一个评分列）"),
    "setting.language": ("language of labels", "界面语言（en 英文 / zh-CN 中文）"),
    "setting.date_order": ("how to read dates such as 05/12/2026: DMY, MDY or YMD; auto tells from each column's own dates",
                           "如何读取 05/12/2026 这样的日期：DMY（日月年）、MDY（月日年）或 YMD（年月日）；auto 按每列自身的日期判断"),
    "setting.column_names": ("your headers for columns, e.g. Amount=Deal value; Stage=Phase",
                             "自定义列的表头，例如 金额=合同额; 阶段=进展"),
    # The snapshot store a refresh records into (issue 16, record)
    "setting.store": ("where each refresh records a snapshot: a file (beside the workbook unless the path says "
                      "otherwise) or a URL such as postgresql+psycopg://host/database; blank: BOOK.funnel.db beside "
                      "the workbook; off: no snapshots",
                      "每次刷新记录快照的位置：一个文件（相对路径从工作簿所在文件夹算起）或一个数据库服务器的地址；"
                      "留空：工作簿旁与其同名的快照文件；关闭：不记录快照"),
    # --- Cells, charts, cell checks, placeholders -----------------------------------
    "flag.yes": ("yes", "是"),
    "flag.no": ("no", "否"),
    "chart.funnel_count": ("Funnel: open deals by stage", "漏斗：各阶段商机数"),
    "chart.funnel_amount": ("Funnel: open amount by stage", "漏斗：各阶段金额"),
    "chart.forecast": ("Forecast by period", "按期间预测"),
    "chart.dashboard": ("This period: booked, called and the range, against quota", "本期：已赢、预测与区间，对比指标"),
    "chart.reliability": ("Reliability: predicted vs won", "可靠性：预测 vs 实际"),
    "alert.stage.title": ("Stage", "阶段"),
    "alert.stage.message": ("Pick a stage code from the Stage scheme sheet.", "请从阶段方案中选择阶段代码。"),
    "alert.probability.message": ("A probability is between 0 and 1 (0% to 100%).", "概率应在0到1之间。"),
    # An empty comparison table's vendor columns: ours (a header the comparison reads as us) and a rival.
    "sample.comparison.us": ("Us", "我方"),
    "sample.comparison.rival": ("Competitor A", "竞争对手A"),
    # --- Enumeration labels (the Chinese wording follows the source courses) ---------
    # role
    "label.role.decision_maker": ("decision maker", "决策者"),
    "label.role.user": ("user", "使用者"),
    "label.role.buyer": ("buyer", "采购者"),
    "label.role.influencer": ("influencer", "影响者"),
    "label.role.gatekeeper": ("gatekeeper", "守门人"),
    "label.role.informed": ("informed", "知情者"),
    "label.role.senior_leader": ("senior leader", "高层领导"),
    "label.role.superior_leader": ("superior leader", "上级领导"),
    "label.role.design_institute": ("design institute", "设计院"),
    "label.role.coach": ("coach", "向导"),
    # attitude
    "label.attitude.support": ("support", "接受"),
    "label.attitude.doubt": ("doubt", "怀疑"),
    "label.attitude.resist": ("resist", "抵触"),
    "label.attitude.indifferent": ("indifferent", "冷淡"),
    "label.attitude.hostile": ("hostile", "恶意拆台"),
    # relationship
    "label.relationship.met": ("met", "认识"),
    "label.relationship.dating": ("dating", "约会"),
    "label.relationship.trusted": ("trusted", "信赖"),
    "label.relationship.ally": ("ally", "同盟"),
    # style
    "label.style.analytical": ("analytical", "分析型"),
    "label.style.driver": ("driver", "支配型"),
    "label.style.amiable": ("amiable", "友善型"),
    "label.style.expressive": ("expressive", "表达型"),
    # urgency
    "label.urgency.eager": ("eager (within 1 month)", "渴望型(1个月内)"),
    "label.urgency.hopeful": ("hopeful (within 2 months)", "有望型(2个月内)"),
    "label.urgency.watching": ("watching (within 3 months)", "观望型(3个月内)"),
    "label.urgency.later": ("later (beyond 3 months)", "3个月以后"),
    "label.urgency.overdue": ("overdue (close date passed)", "已逾期(预计日期已过)"),
    "label.urgency.none": ("no close date", "无预计日期"),
    # importance
    "label.importance.key": ("key", "关键"),
    "label.importance.important": ("important", "重要"),
    "label.importance.general": ("general", "一般"),
    "label.importance.none": ("no amount", "无金额"),
    # stars
    "label.stars.5": ("five-star", "五星级"),
    "label.stars.4": ("four-star", "四星级"),
    "label.stars.3": ("three-star", "三星级"),
    "label.stars.2": ("two-star", "二星级"),
    # concession
    "label.concession.shrinking": ("shrinking steps", "递减让步"),
    "label.concession.equal": ("equal steps", "等额让步"),
    "label.concession.growing": ("growing steps", "递增让步"),
    "label.concession.single": ("one single concession", "一次性让步"),
    # outcome
    "label.outcome.win": ("win", "赢"),
    "label.outcome.draw": ("draw", "和"),
    "label.outcome.lose": ("lose", "输"),
    "label.outcome.break_off": ("break off", "破"),
    "label.outcome.stall": ("stall", "拖"),
    # question
    "label.question.q_why_need": ("Why do they need or want a new system?", "为什么他们需要或想要一个新系统?"),
    "label.question.q_budget": ("Is the budget planned?", "财政有计划吗?"),
    "label.question.q_decision_maker": ("Who decides, and does he want it?", "谁是决策人物?他想要吗?"),
    "label.question.q_decision_process": ("What is the decision process?", "决策过程怎样?"),
    "label.question.q_decision_criteria": ("What are the basic decision criteria?", "什么是基本决策因素?"),
    "label.question.q_timeline": ("What is the rough timetable?", "大致时间表?"),
    "label.question.q_competition": ("Who are the competitors?", "谁是竞争对手?"),
    "label.question.q_why_us": ("Why should it be us?", "为什么应该是我们?"),
    # man
    "label.man.man_money": ("money (can buy)", "金钱(有购买能力)"),
    "label.man.man_authority": ("authority (can decide or influence)", "决定权(能决定或影响购买)"),
    "label.man.man_need": ("need", "需求"),
    # go
    "label.go.go_real": ("Is there an opportunity?", "存在销售机会吗?"),
    "label.go.go_solution": ("Do we have a solution?", "有解决方案吗?"),
    "label.go.go_win": ("Can we win?", "能赢吗?"),
    "label.go.go_worth": ("Is it worth winning?", "值得赢吗?"),
    # risk
    "label.risk.no_stakeholders": ("no contact known", "没有已知联系人"),
    "label.risk.no_decision_maker": ("no decision maker known", "未找到决策者"),
    "label.risk.dm_not_supportive": ("decision maker not supportive", "决策者未表示接受"),
    "label.risk.hostile_present": ("hostile stakeholder present", "有人恶意拆台"),
    "label.risk.single_threaded": ("only one contact (single-threaded)", "只有一个联系人(单线联系)"),
    # position
    "label.position.lead": ("lead", "领先"),
    "label.position.trail": ("trail", "落后"),
    "label.position.even": ("even", "持平"),
    # marker
    "label.marker.general": ("general", "通用"),
    "label.marker.no_competitor": ("(no known competitor)", "(无已知竞争对手)"),
    "label.marker.no_account": ("(none)", "(无)"),
    # --- Status words in output tables ----------------------------------------------
    "status.stage.no_data": ("no data", "无数据"),
    "status.period.in_progress": ("in progress", "进行中"),
    # --- Sentences ------------------------------------------------------------------
    "separator.list": ("; ", "；"),
    # The Issues row of an import whose layout maps nothing to a stage of the scheme.
    "issue.stage_not_mapped.problem": (
        "the {layout} layout maps no export stage to stage {code}",
        "{layout} 导入格式没有把任何导出阶段对应到阶段 {code}"),
    "issue.stage_not_mapped.action": (
        "no imported deal will be in stage {code}: it will show its configured probability, marked no data",
        "导入的商机都不会处于阶段 {code}：该阶段显示设定概率，并标注无数据"),
    "message.refreshed": ("Refreshed {tables} output tables from {deals} deals. {outcome}",
                          "已刷新 {tables} 张结果表（{deals} 个商机）。{outcome}"),
    "message.problems_found": ("{problems} problem(s) found in the data: see the Issues sheet.",
                               "发现 {problems} 个数据问题，见“问题”表。"),
    "message.no_problems": ("No problems found in the data.", "未发现数据问题。"),
    # The Dashboard's figures and warning signs (funnel.forecast.dashboard).
    "dashboard.closed_won": ("Closed won", "已赢单"),
    "dashboard.commit": ("Commit (won + commit)", "承诺（已赢+承诺）"),
    "dashboard.best_case": ("Best case (commit + best case)", "最佳情况（承诺+最佳）"),
    "dashboard.expected": ("Expected (won + weighted)", "期望（已赢+加权）"),
    "dashboard.p10": ("P10 (9 in 10 above)", "P10（九成把握高于此）"),
    "dashboard.p50": ("P50 (median)", "P50（中位数）"),
    "dashboard.p90": ("P90 (1 in 10 above)", "P90（一成可能高于此）"),
    "dashboard.flag.stale": ("too long in stage", "在本阶段停留过久"),
    "dashboard.flag.overdue": ("close date passed", "预计成交日期已过"),
    "dashboard.flag.pushed": ("close date pushed out", "预计成交日期被推后"),
    "dashboard.flag.inactive": ("no recent activity", "近期无活动"),
    "dashboard.flag.flagged": ("any of these", "任一预警"),
    # Why a deal is at risk, strongest sign first (funnel.forecast.risk).
    "risk.overdue": ("close date passed {days} days ago", "预计成交日期已过 {days} 天"),
    "risk.pushed": ("close date pushed out", "预计成交日期被推后"),
    "risk.pushed_times": ("close date pushed {times} time(s), {days} days later than first recorded",
                          "预计成交日期被推后 {times} 次，比首次记录晚 {days} 天"),
    "risk.stale": ("{days} days in stage (median {median})", "在本阶段 {days} 天（中位数 {median} 天）"),
    "risk.inactive": ("no activity for {days} days", "{days} 天没有活动"),
    # --- The Issues sheet: a problem found in the input tables, and what was done -------
    "issue.action.ignored": ("ignored", "已忽略"),
    "issue.action.used": ("used {value}", "采用 {value}"),
    "issue.action.row_left_out": ("row left out", "该行未计入"),
    "issue.action.row_skipped": ("row skipped", "该行已跳过"),
    "issue.action.left_blank": ("left blank", "按空白处理"),
    "issue.action.read_as_no": ("read as no", "按“否”处理"),
    "issue.action.read_as_lost": ("read as lost", "按丢单处理"),
    "issue.action.no_deals": ("no deals to analyse", "没有可分析的商机"),
    "issue.action.default_scheme": ("used the default P/I/B/W/L scheme", "采用默认的 P/I/B/W/L 阶段方案"),
    "issue.action.no_win_rates": ("win rates will be empty", "赢率将为空"),
    "issue.action.check_header": ("ignored; check the header spelling", "已忽略；请检查表头拼写"),
    "issue.action.read_rename": ("read; rename it {column} to silence this", "已读取；改名为 {column} 即不再提示"),
    "issue.action.check_dates": ("kept; check the dates", "已保留；请检查日期"),
    "issue.action.check_date_as_of": ("kept; check the date (or as_of in Settings)", "已保留；请检查日期（或“设置”中的 as_of）"),
    "issue.action.zero_pipeline": ("counted as a deal; adds 0 to the pipeline", "计为商机；管道金额加 0"),
    "issue.action.history_left_out": ("history left out", "阶段历史未计入"),
    "issue.action.step_back": ("kept; counted as a step back", "已保留；计为一次倒退"),
    "issue.action.check_history": ("kept; check the history", "已保留；请检查阶段历史"),
    "issue.setting.unknown": ("unknown setting '{setting}'", "未知的设置项“{setting}”"),
    "issue.setting.unknown_near": ("unknown setting '{setting}' (did you mean {near}?)", "未知的设置项“{setting}”（是否应为 {near}？）"),
    "issue.setting.rename": ("ignored; rename it {near} to use it", "已忽略；改名为 {near} 才会生效"),
    "issue.setting.bad_value": ("setting '{setting}': {why}", "设置项“{setting}”的值无效：{why}"),
    "issue.column.unknown": ("unknown column(s)", "未知的列"),
    "issue.column.read_as": ("column '{header}' read as {column}", "列“{header}”按 {column} 读取"),
    "issue.stages.empty": ("the stages table is empty", "阶段方案表是空的"),
    "issue.stages.unreadable": ("the stages table cannot be read", "无法读取阶段方案表"),
    "issue.stages.code_blank": ("stage code is blank", "阶段代码为空"),
    "issue.stages.duplicate_code": ("duplicate stage code", "阶段代码重复"),
    "issue.stages.won_and_lost": ("a stage cannot be both won and lost", "一个阶段不能既是赢单又是丢单"),
    "issue.stages.no_rows": ("no usable stage rows", "没有可用的阶段行"),
    "issue.stages.no_open": ("no open stage is left (every usable stage is won or lost)",
                             "没有在途阶段（所有可用阶段都是赢单或丢单）"),
    "issue.stages.no_won": ("no stage is marked won, so no deal can count as won", "没有标记为赢单的阶段，因此没有商机能计为赢单"),
    "issue.deals.none": ("the opportunities table has no rows", "商机表没有数据行"),
    "issue.deals.id_blank": ("deal id is blank", "商机编号为空"),
    "issue.deals.duplicate_id": ("duplicate deal id '{id}' (first at row {row})", "商机编号“{id}”重复（首次出现在第 {row} 行）"),
    "issue.deals.unknown_stage": ("unknown stage '{stage}' (known: {codes})", "未知的阶段“{stage}”（已有：{codes}）"),
    "issue.deals.stage_blank": ("stage is blank", "阶段为空"),
    "issue.deals.negative_amount": ("amount is negative", "金额为负数"),
    "issue.deals.huge_amount": ("amount is larger than 100,000,000,000", "金额大于 100,000,000,000"),
    "issue.deals.close_before_created": ("close date is before the created date {created}", "预计成交日期早于创建日期 {created}"),
    "issue.deals.no_amount": ("open deal has no amount", "在途商机没有金额"),
    "issue.deals.created_after_as_of": ("created date is after the as-of date {as_of}", "创建日期晚于截至日期 {as_of}"),
    "issue.deals.activity_after_as_of": ("last activity date is after the as-of date {as_of}", "最近活动日期晚于截至日期 {as_of}"),
    "issue.history.no_deals": ("{rows} history row(s) but no usable deal in the opportunities table",
                               "有 {rows} 行阶段历史，但商机表中没有可用的商机"),
    "issue.history.opportunity_id_blank": ("opportunity id is blank", "商机编号为空"),
    "issue.history.stage_blank": ("stage is blank", "阶段为空"),
    "issue.history.entered_blank": ("entered is blank", "进入日期为空"),
    "issue.history.deal_left_out": ("history for a deal that was left out of the opportunities table (see its issue)",
                                    "该商机已从商机表中剔除（见其问题行），其阶段历史未计入"),
    "issue.history.deal_not_listed": ("history for a deal that is not in the opportunities table", "该商机不在商机表中"),
    "issue.history.unknown_stage": ("unknown stage in history", "阶段历史中有未知的阶段"),
    "issue.history.entered_after_as_of": ("entered date is after the as-of date {as_of}", "进入日期晚于截至日期 {as_of}"),
    "issue.history.moved_back": ("deal {id} moved back to {stage} on {day} after {previous}",
                                 "商机 {id} 于 {day} 从 {previous} 退回到 {stage}"),
    "issue.history.moved_back_often": ("deal {id} moved back {times} times, first to {stage} on {day} after {previous}",
                                       "商机 {id} 倒退了 {times} 次，第一次于 {day} 从 {previous} 退回到 {stage}"),
    "issue.history.after_close": ("deal {id} entered {stage} after it was closed ({previous})",
                                  "商机 {id} 关闭（{previous}）后又进入了 {stage}"),
    "issue.history.after_close_often": ("deal {id} entered stages {times} times after it was closed, first {stage} (after {previous})",
                                        "商机 {id} 关闭后又进入阶段 {times} 次，第一次是 {stage}（在 {previous} 之后）"),
    "issue.blank.deal_id": ("deal id is blank", "商机编号为空"),
    "issue.unread.deal_id": ("deal id could not be read (see the issue above)", "无法读取商机编号（见上面的问题行）"),
    "issue.blank.stakeholder_name": ("stakeholder name is blank", "干系人姓名为空"),
    "issue.unread.stakeholder_name": ("stakeholder name could not be read (see the issue above)", "无法读取干系人姓名（见上面的问题行）"),
    "issue.blank.factor": ("factor is blank", "决策因素为空"),
    "issue.unread.factor": ("factor could not be read (see the issue above)", "无法读取决策因素（见上面的问题行）"),
    "issue.blank.weight": ("weight is blank", "权重为空"),
    "issue.unread.weight": ("weight could not be read (see the issue above)", "无法读取权重（见上面的问题行）"),
    "issue.blank.competitor_name": ("competitor name is blank", "竞争对手名称为空"),
    "issue.unread.competitor_name": ("competitor name could not be read (see the issue above)", "无法读取竞争对手名称（见上面的问题行）"),
    "issue.action.later_row_left_out": ("later row left out", "后一行未计入"),
    "issue.action.later_column_ignored": ("later column ignored", "后一列已忽略"),
    "issue.action.used_as_us": ("used '{vendor}' as us", "把“{vendor}”作为我方"),
    "issue.action.factor_left_out": ("factor left out of the comparison", "该因素未计入比较"),
    "issue.action.own_comparison": ("kept as its own comparison", "保留为单独的比较"),
    "issue.action.not_scored": ("not scored (left out of this vendor's total)", "不计分（不计入该厂商的总分）"),
    "issue.action.left_out_of_total": ("left out of this vendor's total (see weight_coverage)",
                                       "不计入该厂商的总分（见已评分权重）"),
    "issue.action.equal_weights": ("equal weights used", "改用相等的权重"),
    "issue.action.weights_divided": ("each weight divided by {total}", "每个权重都除以 {total}"),
    "issue.action.no_gaps": ("no gaps for this comparison", "该比较不计算差距"),
    "issue.action.check_settings": ("kept; check the settings", "已保留；请检查设置"),
    "issue.stakeholders.unknown_deal": ("stakeholder of a deal that is not in the opportunities table (or was left out of it)",
                                        "该干系人所属的商机不在商机表中（或已被剔除）"),
    "issue.stakeholders.twice": ("{name} is listed twice for deal {deal}", "{name} 在商机 {deal} 下列了两次"),
    "issue.stakeholders.unknown.role": ("unknown role '{value}' (use {known}, or the Chinese terms)",
                                        "未知的角色“{value}”（请用 {known}，或相应的中文）"),
    "issue.stakeholders.unknown.attitude": ("unknown attitude '{value}' (use {known}, or the Chinese terms)",
                                            "未知的态度“{value}”（请用 {known}，或相应的中文）"),
    "issue.stakeholders.unknown.relationship": ("unknown relationship '{value}' (use {known}, or the Chinese terms)",
                                                "未知的关系阶段“{value}”（请用 {known}，或相应的中文）"),
    "issue.stakeholders.unknown.style": ("unknown style '{value}' (use {known}, or the Chinese terms)",
                                         "未知的沟通风格“{value}”（请用 {known}，或相应的中文）"),
    "issue.comparison.no_us_column": ("no vendor column is headed '{us}' (comparison_us)", "没有表头为“{us}”的厂商列（comparison_us）"),
    "issue.comparison.vendor_twice": ("vendor column '{vendor}' appears twice", "厂商列“{vendor}”出现了两次"),
    "issue.comparison.negative_weight": ("weight is negative", "权重为负数"),
    "issue.comparison.unknown_deal": ("comparison for a deal that is not in the opportunities table", "该比较所属的商机不在商机表中"),
    "issue.comparison.score_outside": ("score {score} is outside 0..{top} (comparison_scale_max)",
                                       "评分 {score} 不在 0..{top} 之间（comparison_scale_max）"),
    "issue.comparison.no_scores": ("vendor column '{vendor}' has no scores", "厂商列“{vendor}”没有评分"),
    "issue.comparison.no_score": ("no score for {vendor} on '{factor}'", "{vendor} 在“{factor}”上没有评分"),
    "issue.comparison.general.weights_zero": ("weights of the general comparison add up to 0", "通用比较的权重合计为 0"),
    "issue.comparison.deal.weights_zero": ("weights of the comparison for {deal} add up to 0", "{deal} 的比较权重合计为 0"),
    "issue.comparison.general.weights_sum": ("weights of the general comparison add up to {total}, not 1",
                                             "通用比较的权重合计为 {total}，而不是 1"),
    "issue.comparison.deal.weights_sum": ("weights of the comparison for {deal} add up to {total}, not 1",
                                          "{deal} 的比较权重合计为 {total}，而不是 1"),
    "issue.comparison.general.us_unscored": ("{us} (us) has no score in the general comparison", "{us}（我方）在通用比较中没有评分"),
    "issue.comparison.deal.us_unscored": ("{us} (us) has no score in the comparison for {deal}", "{us}（我方）在 {deal} 的比较中没有评分"),
    "issue.competitors.twice": ("competitor listed twice (names are matched without regard to case)",
                                "竞争对手列了两次（名称比较时不区分大小写）"),
    "issue.setting.important_above_key": ("the important amount is above the key amount ({key_amount}), so no deal can be "
                                          "graded important", "“重要”金额高于“关键”金额（{key_amount}），因此没有商机能评为重要"),
    "issue.action.second_column_ignored": ("second column ignored", "第二列已忽略"),
    "issue.action.defaults_used": ("left out; defaults used", "未使用；采用默认值"),
    "issue.action.recalculate": ("read as blank; recalculate in Excel and save, or enter the value",
                                 "按空白处理；请在 Excel 中重新计算并保存，或直接输入数值"),
    "issue.action.read_as_blank": ("read as blank", "按空白处理"),
    "issue.column.repeats": ("column '{header}' repeats '{first}'", "列“{header}”与“{first}”重复"),
    "issue.table.missing": ("the Excel table {table} is missing ({error})", "缺少 Excel 表 {table}（{error}）"),
    "issue.cell.no_saved_value": ("the cell's formula has no saved value (the file was written by a program, not saved by Excel)",
                                  "单元格的公式没有保存的值（文件由程序写入，未经 Excel 保存）"),
    "issue.cell.excel_error": ("Excel error {error} in the cell", "单元格中有 Excel 错误 {error}"),
    # What a cell that cannot be read is said to be (funnel.inputs.parsing, validation)
    "parse.amount.not": ("'{value}' is not an amount", "“{value}”不是金额"),
    "parse.amount.infinite": ("amount is infinite", "金额为无穷大"),
    "parse.amount.excel_error": ("Excel error {error} instead of an amount", "应为金额，却是 Excel 错误 {error}"),
    "parse.number.not": ("'{value}' is not a number", "“{value}”不是数字"),
    "parse.number.excel_error": ("Excel error {error} instead of a number", "应为数字，却是 Excel 错误 {error}"),
    "parse.number.not_whole": ("{value} is not a whole number", "{value} 不是整数"),
    "parse.date.not_real": ("'{value}' is not a real date", "“{value}”不是真实存在的日期"),
    "parse.date.not_real_as.mdy": ("'{value}' is not a real date (read as month/day/year)", "“{value}”不是真实存在的日期（按月/日/年读取）"),
    "parse.date.not_real_as.dmy": ("'{value}' is not a real date (read as day/month/year)", "“{value}”不是真实存在的日期（按日/月/年读取）"),
    "parse.date.not_real_as.ymd": ("'{value}' is not a real date (read as year/month/day)", "“{value}”不是真实存在的日期（按年/月/日读取）"),
    "parse.date.not": ("'{value}' is not a date", "“{value}”不是日期"),
    "parse.date.number": ("{value} is not a date", "{value} 不是日期"),
    "parse.date.excel_error": ("Excel error {error} instead of a date", "应为日期，却是 Excel 错误 {error}"),
    "parse.date.not_iso": ("'{value}' is not a date (use YYYY-MM-DD)", "“{value}”不是日期（请写成 YYYY-MM-DD）"),
    "parse.date.outside_years": ("'{value}' is outside the years {first}-{last}", "“{value}”不在 {first}-{last} 年之间"),
    "parse.flag.number": ("{value} is not yes/no", "{value} 不是“是/否”"),
    "parse.flag.excel_error": ("Excel error {error} instead of yes/no", "应为“是/否”，却是 Excel 错误 {error}"),
    "parse.flag.not": ("'{value}' is not yes/no", "“{value}”不是“是/否”"),
    "parse.probability.excel_error": ("Excel error {error} instead of a probability", "应为概率，却是 Excel 错误 {error}"),
    "parse.probability.not": ("'{value}' is not a probability", "“{value}”不是概率"),
    "parse.probability.outside": ("probability {value} is outside 0..1 (write 70% or 0.7)", "概率 {value} 不在 0..1 之间（请写 70% 或 0.7）"),
    "parse.category.unknown": ("unknown forecast category '{value}' (use {known})", "未知的预测类别“{value}”（请用 {known}，或相应的中文）"),
    "parse.text.excel_error": ("Excel error {error} instead of text", "应为文字，却是 Excel 错误 {error}"),
    "scheme.pib": ("P/I/B", "P/I/B 漏斗"),
    "scheme.six_step": ("six-step", "六步法"),
    "scheme.seven_stage": ("seven-stage", "七阶段"),
    "issue.stages.order_blank": ("stage order is blank", "阶段顺序为空"),
    "issue.stages.probability_blank": ("stage probability is blank", "阶段概率为空"),
    "issue.stages.won_one": ("won (1)", "赢单 (1)"),
    "issue.action.order_between": ("used order {order}, between the rows around it", "采用顺序 {order}，位于上下两行之间"),
    "issue.action.no_free_order": ("row skipped (no free order between the rows around it)", "该行已跳过（上下两行之间没有空余的顺序）"),
    "issue.action.flag_as_shipped.yes": ("read as yes, as for {code} in the {scheme} scheme", "按“是”处理，与{scheme}方案中的 {code} 相同"),
    "issue.action.flag_as_shipped.no": ("read as no, as for {code} in the {scheme} scheme", "按“否”处理，与{scheme}方案中的 {code} 相同"),
    "issue.action.probability_of_every.won": ("used 1, as for every won stage", "采用 1，与所有赢单阶段相同"),
    "issue.action.probability_of_every.lost": ("used 0, as for every lost stage", "采用 0，与所有丢单阶段相同"),
    "issue.action.probability_as_shipped": ("used {probability}, the {scheme} scheme's probability for {code}",
                                            "采用 {probability}，即{scheme}方案中 {code} 的概率"),
    "issue.action.probability_halfway": ("used {probability}, halfway between {low} and {high}", "采用 {probability}，取 {low} 与 {high} 的中间值"),
    "issue.quotas.nobody": ("quota has neither an owner nor a team", "指标既没有负责人也没有团队"),
    "issue.quotas.negative": ("quota is negative", "指标为负数"),
    "issue.quotas.blank": ("quota is blank", "指标为空"),
    "issue.calls.owner_blank": ("the call names no person", "提报没有写人员"),
    "issue.calls.period_blank": ("the call names no period", "提报没有写期间"),
    "issue.calls.amount_blank": ("the call has no amount", "提报没有金额"),
    "issue.calls.category_blank": ("the call has no category (use Commit, Best Case or Pipeline)",
                                   "提报没有类别（请用 承诺、最佳情况 或 管道）"),
    "issue.calls.negative": ("the call's amount is negative", "提报金额为负数"),
    "issue.calls.not_a_call": ("'{category}' is not a call (use Commit, Best Case or Pipeline)",
                               "“{category}”不是提报类别（请用 承诺、最佳情况 或 管道）"),
    "issue.people.person_blank": ("the row names no person", "该行没有写人员"),
    "issue.people.twice": ("{person} is listed twice", "{person} 出现了两次"),
    "issue.people.manager_not_listed": ("{manager} manages someone but has no row of their own",
                                        "{manager} 是别人的汇报对象，但自己没有一行"),
    "issue.people.cycle": ("reporting lines run in a circle: {loop}", "汇报关系形成了循环：{loop}"),
    "issue.action.top_of_hierarchy": ("placed at the top of the hierarchy", "放在层级的最高处"),
    "issue.action.cycle_cut": ("this line ignored; the person placed at the top", "忽略这一汇报关系；该人员放在最高处"),
    # --- Forecast categories as a book offers them (Stage scheme, the dropdowns); the readers
    # accept either language (funnel.inputs.validation)
    "category.pipeline": ("Pipeline", "管道"),
    "category.best_case": ("Best Case", "最佳情况"),
    "category.commit": ("Commit", "承诺"),
    "category.closed": ("Closed", "已关闭"),
    "category.omitted": ("Omitted", "忽略"),
    # --- The engine's words in the output tables, as a zh-CN book shows them (workbook.mapping)
    "shown.period.no_close_date": ("no close date", "无预计成交日期"),
    "shown.dimension.overall": ("overall", "总体"),
    "shown.dimension.period": ("period", "期间"),
    "shown.dimension.owner": ("owner", "负责人"),
    "shown.dimension.team": ("team", "团队"),
    "shown.dimension.source": ("source", "来源"),
    "shown.dimension.product": ("product", "产品"),
    "shown.dimension.industry": ("industry", "行业"),
    "shown.dimension.amount_band": ("amount band", "金额区间"),
    "shown.dimension.competitor_present": ("competitor present", "有竞争对手"),
    "shown.segment.all": ("all", "全部"),
    "shown.segment.yes": ("yes", "是"),
    "shown.segment.no": ("no", "否"),
    "shown.segment.(none)": ("(none)", "(无)"),
    "shown.method.configured": ("configured", "设定概率"),
    "shown.method.empirical": ("empirical", "历史概率"),
    "shown.method.blended": ("blended", "融合概率"),
    "shown.method.model": ("model", "模型"),
    "shown.method.model_platt": ("model_platt", "模型（Platt 校准）"),
    "shown.method.model_isotonic": ("model_isotonic", "模型（保序回归校准）"),
    # calibration maps (funnel.winmodel.recalibration), tblForecastChoice's calibration column
    "shown.calibration.none": ("none", "无"),
    "shown.calibration.platt": ("platt", "Platt 校准"),
    "shown.calibration.isotonic": ("isotonic", "保序回归校准"),
    "shown.deal.general": ("general", "通用比较"),
    # --- Why the model scores a deal as it does (Deal scores: basis, factors for and against)
    "factor.basis.model": ("model", "模型"),
    "factor.basis.model_calibrated": ("model, {calibration} calibrated", "模型（{calibration}）"),
    "factor.basis.stage_one": ("stage (only {deals} closed deal)", "阶段概率（仅 {deals} 个已关闭商机）"),
    "factor.basis.stage": ("stage (only {deals} closed deals)", "阶段概率（仅 {deals} 个已关闭商机）"),
    "factor.stage": ("stage {stage} reached", "已到达阶段 {stage}"),
    "factor.owner": ("owner {value}", "负责人 {value}"),
    "factor.team": ("team {value}", "团队 {value}"),
    "factor.source": ("source {value}", "来源 {value}"),
    "factor.product": ("product {value}", "产品 {value}"),
    "factor.industry": ("industry {value}", "行业 {value}"),
    "factor.amount_band": ("amount {value}", "金额 {value}"),
    "factor.qualification": ("qualification {low}-{high} of {total} answered", "资格问题回答了 {low}-{high} 个（共 {total} 个）"),
    "factor.man.complete": ("MAN complete", "MAN 齐备"),
    "factor.man.incomplete": ("MAN incomplete", "MAN 不齐"),
    "factor.competitor.present": ("competitor {competitor} present", "有竞争对手 {competitor}"),
    "factor.competitor.absent": ("competitor {competitor} not present", "没有竞争对手 {competitor}"),
    # What keeps the figures from reading as a forecast (funnel.forecast.readiness).
    "readiness.old_data": ("the newest date in the data is {latest}, {days} days before as-of: every open deal looks "
                           "stale and the current period has no deals",
                           "数据中最新的日期是 {latest}，比截至日期早 {days} 天：所有在途商机都显得停滞，当期没有商机"),
    "readiness.old_data_action": ("to see the data as of its own time, set as_of = {latest} in Settings",
                                  "如需按数据当时的情况查看，在“设置”中把 as_of 设为 {latest}"),
    "readiness.no_close_date": ("{deals} of {open} open deals have no close date: they are in no period's forecast "
                                "(shown under 'no close date')",
                                "{open} 个在途商机中有 {deals} 个没有预计成交日期：不计入任何期间的预测（列在“无预计成交日期”下）"),
    "readiness.no_close_date_action": ("fill in Close date on the Opportunities sheet",
                                       "在“商机”表中填写预计成交日期"),
    "readiness.no_quotas": ("no quotas: attainment, coverage and the chance of reaching quota stay blank",
                            "没有指标：达成率、覆盖率和完成指标的概率均为空"),
    "readiness.no_quotas_action": ("fill in the Quotas table (owner, team, period, quota)",
                                   "在“指标”表中填写负责人、团队、期间和指标"),
    # The settings of a workbook built around a CRM export (funnel.crm.book_settings).
    "import.as_of_from_data": ("as_of set to {as_of}, the newest date in the export ({days} days ago), so that the "
                               "figures read as of the data's own time: change it in Settings to see today",
                               "as_of 设为导出数据中最新的日期 {as_of}（{days} 天前），使数字按数据当时的情况计算：如需按今天查看，请在“设置”中修改"),
    "import.currency_from_export": ("currency set to {currency}, the code in the export's currency column",
                                    "货币设为导出数据货币列中的 {currency}"),
    "import.currency_default": ("currency left at {currency} (the export names none): set currency in Settings, "
                                "or import with --currency CODE",
                                "货币保持为 {currency}（导出数据未注明货币）：可在“设置”中修改，或导入时加 --currency 代码"),
    # What the command line prints around the tables (funnel report, demo, refresh).
    "cli.headline": ("As of {as_of}: {open_deals} open deals, open {currency} {open_amount}, weighted {currency} "
                     "{weighted}; won {won_deals} ({currency} {won_amount}), lost {lost_deals}, win rate {win_rate}; "
                     "{issues} problem(s) in the data.",
                     "截至 {as_of}：在途商机 {open_deals} 个，在途金额 {currency} {open_amount}，加权 {currency} "
                     "{weighted}；赢单 {won_deals} 个（{currency} {won_amount}），丢单 {lost_deals} 个，赢率 {win_rate}；"
                     "数据问题 {issues} 个。"),
    "cli.no_win_rate": ("n/a (no closed deal)", "暂无（没有已关闭的商机）"),
    "cli.more_rows": ("first {shown} of {rows} rows", "显示前 {shown} 行，共 {rows} 行"),
    "cli.no_rows": ("no rows", "无数据"),
    "cli.more_columns": ("{columns} more column(s) do not fit: --format xlsx or csv shows every column",
                         "另有 {columns} 列放不下：用 --format xlsx 或 csv 查看全部列"),
    # --- manager (issue 18 item 5): refusals, progress and the command line's own lines in the
    # book's language. Refusals: a required table or column missing (funnel.inputs.refusals).
    "refusal.column_found": ("{table} has no column {column} (found {found}): rename it back to {column}, "
                             "or map it in Settings (column_names: {column}={found})",
                             "{table} 缺少列 {column}（找到了 {found}）：请改回 {column}，"
                             "或在“设置”中映射（column_names: {column}={found}）"),
    "refusal.column_unrecognised": ("{table} has no column {column} (headers not recognised: {others}): rename the one "
                                    "that holds it to {column}, or map it in Settings (column_names: {column}=that header)",
                                    "{table} 缺少列 {column}（无法识别的表头：{others}）：请把存放这项数据的列改名为 {column}，"
                                    "或在“设置”中映射（column_names: {column}=该表头）"),
    "refusal.column_gone": ("{table} has no column {column}: add it back (or undo the deletion), or map a header to it "
                            "in Settings (column_names: {column}=that header)",
                            "{table} 缺少列 {column}：请把它加回来（或撤销删除），或在“设置”中把某个表头映射给它"
                            "（column_names: {column}=该表头）"),
    "refusal.table_missing": ("no Excel table named {table} in {book}{others}. Rename the table back to {table} "
                              "(Table Design > Table Name), or undo the deletion",
                              "{book} 中没有名为 {table} 的 Excel 表{others}。请把表名改回 {table}（表设计 > 表名称），"
                              "或撤销删除"),
    "issue.table.not_found": ("no Excel table named {table} in {book}{others}", "{book} 中没有名为 {table} 的 Excel 表{others}"),
    "refusal.other_tables": ("; tables with other names: {tables}", "；名称不同的表：{tables}"),
    "refusal.raw_column_found": ("the {table} table has no column {column} (found {found}): rename it {column}",
                                 "{table} 表缺少列 {column}（找到了 {found}）：请改名为 {column}"),
    "refusal.raw_column_unrecognised": ("the {table} table has no column {column} (headers not recognised: {others}): "
                                        "rename the one that holds it {column}",
                                        "{table} 表缺少列 {column}（无法识别的表头：{others}）：请把存放这项数据的列改名为 {column}"),
    "refusal.raw_column_gone": ("the {table} table has no column {column}: add a column headed {column}",
                                "{table} 表缺少列 {column}：请添加表头为 {column} 的一列"),
    "refusal.no_usable_deal": ("none of the {rows} deals in the opportunities table can be used: correct those cells, "
                               "or the stage scheme if the stage codes are right",
                               "商机表中的 {rows} 个商机都无法使用：请更正这些单元格；如果阶段代码无误，请检查阶段方案"),
    "refusal.no_usable_deal_at": ("none of the {rows} deals in the opportunities table can be used (row {row}: {problem}): "
                                  "correct those cells, or the stage scheme if the stage codes are right",
                                  "商机表中的 {rows} 个商机都无法使用（第 {row} 行：{problem}）：请更正这些单元格；"
                                  "如果阶段代码无误，请检查阶段方案"),
    "refusal.no_opportunities": ("the opportunities table is missing: give the deals (opportunities.csv in a folder of CSVs)",
                                 "缺少商机表：请提供商机数据（CSV 文件夹中的 opportunities.csv）"),
    "issue.action.table_not_used": ("table not used", "该表未使用"),
    # Issues rows of a CRM import (funnel.crm.importers), said in the book's language.
    "issue.import.footer": ("{lines} line(s) after the data look like a report footer", "数据之后的 {lines} 行看起来是报表页脚"),
    "issue.import.row_width": ("the row has {values} values but the header has {columns} columns (an unquoted comma in a value?)",
                               "该行有 {values} 个值，但表头只有 {columns} 列（某个值里有没加引号的逗号？）"),
    "issue.import.no_amount": ("the export has no amount column (looked for: {headers})", "导出数据没有金额列（找过：{headers}）"),
    "issue.import.id_blank": ("deal id is blank", "商机编号为空"),
    "issue.import.stage_blank": ("stage is blank", "阶段为空"),
    "issue.import.stage_unknown": ("stage '{stage}' is not in the {layout} layout's stage list", "阶段“{stage}”不在 {layout} 布局的阶段列表中"),
    "issue.import.duplicate_id": ("duplicate deal id '{id}' (first at line {line})", "商机编号“{id}”重复（第一次出现在第 {line} 行）"),
    "issue.import.currencies": ("amounts are in more than one currency", "金额使用了不止一种货币"),
    "issue.import.spelled": ("{column} '{value}' is written '{right}' in {file}", "{column}“{value}”在 {file} 中写作“{right}”"),
    "issue.import.not_in_companion": ("{column} '{value}' is not in {file}", "{column}“{value}”不在 {file} 中"),
    "issue.import.companion_missing": ("companion file {file} not found beside {export}", "在 {export} 旁边找不到配套文件 {file}"),
    "issue.import.companion_no_column": ("{file} has no column {columns}", "{file} 缺少列 {columns}"),
    "issue.import.key_twice": ("{column} '{value}' appears twice in {file}", "{column}“{value}”在 {file} 中出现了两次"),
    "issue.import.misspelled": ("{column} '{value}' is misspelled in {file}", "{column}“{value}”在 {file} 中拼写有误"),
    "issue.action.skipped": ("skipped", "已跳过"),
    "issue.action.row_not_imported": ("row not imported", "该行未导入"),
    "issue.action.map_the_stage": ("row not imported; map the stage in a layout file", "该行未导入；请在布局文件中映射该阶段"),
    "issue.action.amounts_blank": ("amounts left blank", "金额留空"),
    "issue.action.not_converted": ("not converted: amounts add up as they are", "未换算：金额按原值相加"),
    "issue.action.matched_loosely": ("matched ignoring spaces and case; read as '{right}' ({rows} rows)",
                                     "忽略空格和大小写后匹配上；按“{right}”读取（{rows} 行）"),
    "issue.action.columns_blank_rows": ("{columns} left blank ({rows} rows)", "{columns} 留空（{rows} 行）"),
    "issue.action.columns_blank": ("{columns} left blank", "{columns} 留空"),
    "issue.action.first_row_used": ("the first row is used", "采用第一行"),
    "issue.action.read_as_rows": ("read as '{right}' ({rows} rows)", "按“{right}”读取（{rows} 行）"),
    "message.refused": ("Nothing was refreshed, the workbook is unchanged: {reasons}", "没有刷新，工作簿保持不变：{reasons}"),
    # What a refresh says while it works (Excel's status bar, the command line's spinner).
    "progress.reading": ("funnel: reading the input tables...", "funnel：正在读取输入表……"),
    "progress.computing": ("funnel: computing...", "funnel：正在计算……"),
    "progress.writing": ("funnel: writing {table} ({done}/{tables})...", "funnel：正在写入 {table}（{done}/{tables}）……"),
    "progress.refreshing": ("Refreshing...", "正在刷新……"),
    "progress.recording_snapshot": ("funnel: recording the snapshot...", "funnel：正在记录快照……"),
    "progress.demo_history": ("Writing the demo's past weekly snapshots...", "正在写入演示数据过去每周的快照……"),
    "progress.recording_history": ("Recording the imported history...", "正在记录导入的历史……"),
    "progress.demo_data": ("Generating demo data...", "正在生成演示数据……"),
    "progress.building": ("Building the workbook...", "正在生成工作簿……"),
    "progress.reading_file": ("Reading {file}...", "正在读取 {file}……"),
    "progress.writing_into": ("Writing into {file}...", "正在写入 {file}……"),
    # The command line's own lines around a refresh, a report and an import.
    "cli.wrote_demo": ("Wrote {path} in {seconds} s.", "已写入 {path}，用时 {seconds} 秒。"),
    "cli.force_hint": ("(--force: go ahead with what can be computed)", "（加 --force：照样计算能算的部分）"),
    "cli.no_workbook": ("no such workbook: {path}", "没有这个工作簿：{path}"),
    "cli.no_source": ("no such workbook or folder: {path}", "没有这个工作簿或文件夹：{path}"),
    "cli.refreshed_in": ("{message} ({seconds} s, saved to {path})", "{message}（用时 {seconds} 秒，已保存到 {path}）"),
    "cli.no_report": ("{book}: no report: {reasons} {hint}", "{book}：无法生成报告：{reasons} {hint}"),
    "cli.import_title": ("Import of {file} ({layout})", "导入 {file}（{layout}）"),
    "cli.import_column.item": ("item", "项目"),
    "cli.import_column.count": ("count", "数量"),
    "cli.import_column.detail": ("detail", "说明"),
    "cli.import_problems": ("{problems} problem(s) in the export (first 10):", "导出数据中有 {problems} 个问题（前 10 个）："),
    "cli.import_problem": ("{table} row {row}, {column}: {problem} ({action})", "{table} 第 {row} 行，{column}：{problem}（{action}）"),
    "cli.import_problem_no_row": ("{table}, {column}: {problem} ({action})", "{table}，{column}：{problem}（{action}）"),
    "cli.imported": ("Deals: {added} added, {updated} updated, {unchanged} unchanged, {skipped} skipped; {history} "
                     "stage-history rows added to {book}, {people} people to its People sheet. Next: funnel refresh {book}",
                     "商机：新增 {added}，更新 {updated}，未变 {unchanged}，跳过 {skipped}；新增阶段历史 {history} 行、"
                     "人员 {people} 位，已写入 {book}。下一步：funnel refresh {book}"),
    "message.imported": ("Deals: {added} added, {updated} updated, {unchanged} unchanged, {skipped} skipped; "
                         "{history} stage-history rows added. Press Refresh to recompute.",
                         "商机：新增 {added}，更新 {updated}，未变 {unchanged}，跳过 {skipped}；新增阶段历史 {history} 行。"
                         "请点“刷新”重新计算。"),
    "message.about": ("funnel add-in {addin}. Python {python} at {executable}; funnel {funnel}, xlwings {xlwings}. "
                      "Log: {log}",
                      "funnel 加载项 {addin}。Python {python}（{executable}）；funnel {funnel}，xlwings {xlwings}。"
                      "日志：{log}"),
    # --- The add-in on the command line (funnel addin ..., funnel doctor) -------------
    "addin.built": ("Wrote {path}: the Funnel tab, {functions} worksheet functions. Install it with: funnel addin install {path}",
                    "已写入 {path}：“销售漏斗”选项卡，{functions} 个工作表函数。安装：funnel addin install {path}"),
    "addin.installed": ("Installed {path}; config written to {config}. Restart Excel to see the Funnel tab.",
                        "已安装 {path}；配置已写入 {config}。重启 Excel 即可看到“销售漏斗”选项卡。"),
    "addin.uninstalled": ("Removed {path} and its config {config}. Restart Excel.",
                          "已删除 {path} 及其配置 {config}。请重启 Excel。"),
    "addin.not_installed": ("The add-in is not installed: nothing at {path}.", "加载项未安装：{path} 处没有文件。"),
    "addin.no_excel": ("Excel does not run on {platform}, so the add-in cannot be installed here; the built add-in is {path} "
                       "(copy it to a Windows or macOS machine and run funnel addin install there).",
                       "{platform} 上没有 Excel，无法在此安装加载项；已生成的加载项是 {path}"
                       "（复制到 Windows 或 macOS 上再运行 funnel addin install）。"),
    "addin.missing_file": ("No add-in at {path}: build it first with funnel addin build --out {path}",
                           "{path} 处没有加载项：请先运行 funnel addin build --out {path}"),
    "doctor.agree": ("The pieces agree: the add-in calls this Python, which has funnel and the xlwings the add-in was built with.",
                     "各部分一致：加载项调用此 Python，其中装有 funnel 及构建加载项所用的 xlwings。"),
    "doctor.xlwings_differs": ("The add-in was built with xlwings {addin} but this Python has xlwings {installed}: "
                               "run funnel addin build and funnel addin install again.",
                               "加载项以 xlwings {addin} 构建，而此 Python 装的是 xlwings {installed}："
                               "请重新运行 funnel addin build 与 funnel addin install。"),
    "doctor.no_addin": ("No installed add-in found at {path}.", "未在 {path} 找到已安装的加载项。"),
    "doctor.other_python": ("The add-in's config names the Python {configured}, not this one ({executable}).",
                            "加载项配置指定的 Python 是 {configured}，不是当前的 {executable}。"),
    "message.forecast_choice": (
        "Forecast by {method} (forecast_method {setting}): backtest Brier model {brier_model} (calibration {calibration}; "
        "uncalibrated {brier_raw}), {baseline} {brier_stage}, difference 95% interval {low} to {high} over {deals} deals; "
        "{reason}.",
        "预测采用 {method}（forecast_method {setting}）：回测Brier分数 模型 {brier_model}（校准 {calibration}；"
        "未校准 {brier_raw}），{baseline} {brier_stage}，差值95%区间 {low} 至 {high}（{deals} 个商机）；{reason}。"),
    # The calibration table's note on the calibrated model rows (funnel.winmodel.calibration).
    "note.calibration.used": ("map fitted on out-of-fold predictions of {deals} training deals; the forecast's model uses this map",
                              "校准映射拟合于 {deals} 个训练商机的交叉（留出折）预测；预测所用模型采用此映射"),
    "note.calibration.fitted": ("map fitted on out-of-fold predictions of {deals} training deals; not used (the raw model or the other map scores better)",
                                "校准映射拟合于 {deals} 个训练商机的交叉（留出折）预测；未采用（原始模型或另一映射得分更好）"),
    "note.calibration.unfitted": ("no map: a fold's model had too few training deals, or one outcome only; the raw model",
                                  "无校准映射：某一折的模型训练商机太少，或只有一种结果；即原始模型"),
    "message.forecast_choice_alone": ("Forecast by {method} (forecast_method {setting}): {reason}.",
                                      "预测采用 {method}（forecast_method {setting}）：{reason}。"),
    # Why the forecast uses what it uses (funnel.winmodel.choice); {baseline}: blended, empirical or configured.
    "choice.model_better": (
        "the model's backtest beats the {baseline} stage probability by more than its uncertainty "
        "(the 95% interval of the Brier difference lies below 0)",
        "模型的回测优于{baseline}阶段概率，且超出其不确定性（Brier差值的95%区间整体低于0）"),
    "choice.model_not_better": (
        "the model's backtest does not beat the {baseline} stage probability by more than its uncertainty "
        "(the 95% interval of the Brier difference reaches 0 or above), so the stage probability is used",
        "模型的回测未能超出不确定性地优于{baseline}阶段概率（Brier差值的95%区间触及或高于0），故采用阶段概率"),
    "choice.no_backtest": (
        "no backtest is possible (no closed deals both before and after the cut-off), so the {baseline} stage "
        "probability is used",
        "无法回测（截止日前后没有都已关闭的商机），故采用{baseline}阶段概率"),
    "choice.model_fell_back": (
        "too few deals closed before the backtest's cut-off for the model to be tested, so the {baseline} stage "
        "probability is used",
        "回测截止日前关闭的商机太少，无法检验模型，故采用{baseline}阶段概率"),
    "choice.model_not_usable": (
        "too few closed deals for the model (setting model_min_closed), so the {baseline} stage probability is used",
        "已关闭商机太少，模型不可用（设置 model_min_closed），故采用{baseline}阶段概率"),
    "choice.set_model": ("forecast_method is set to model: the per-deal model is used whatever its backtest "
                         "(compared with the {baseline} stage probability)",
                         "forecast_method 设为 model：无论回测如何都采用逐单模型（对比{baseline}阶段概率）"),
    "choice.set_stage": ("forecast_method is set to stage: the {baseline} stage probability is used",
                         "forecast_method 设为 stage：采用{baseline}阶段概率"),
    # --- The snapshot store (funnel snapshot, funnel history) ------------------------
    "message.snapshot_recorded": (
        "Snapshot {id} of {book} as of {as_of}: {deals} deals, {changed} changed since the last snapshot "
        "({versions} new deal versions), in {store}.",
        "已记录 {book} 截至 {as_of} 的快照 {id}：{deals} 个商机，自上次快照以来变化 {changed} 个"
        "（新增 {versions} 个商机版本），存于 {store}。"),
    "message.no_snapshots": ("No snapshots of {book} in {store} yet: funnel snapshot records one.",
                             "{store} 中还没有 {book} 的快照：用 funnel snapshot 记录一个。"),
    # --- Backfill: past snapshots reconstructed or imported (funnel backfill, demo, import) ---
    "message.backfilled": (
        "Backfilled {book}: {count} past snapshots, as of {first} to {last} ({versions} deal versions), in {store}.",
        "已为 {book} 回填 {count} 个过去的快照，截至 {first} 至 {last}（{versions} 个商机版本），存于 {store}。"),
    "message.backfill_skipped": (
        "{count} past days of {book} were left out: the store already has a snapshot as of each of them.",
        "{book} 有 {count} 个过去的日期未回填：快照库中已有这些日期的快照。"),
    "issue.history_import.blank_id": ("the deal id is blank", "商机编号为空"),
    "issue.history_import.unknown_id": ("no deal of this id in the book's Opportunities table (import the deals first, "
                                        "then their history)", "工作簿的商机表中没有此编号的商机（请先导入商机，再导入其历史）"),
    "issue.history_import.unknown_stage": ("a stage that maps to no stage of the book's scheme",
                                           "该阶段对应不到工作簿阶段方案中的任何阶段"),
    "message.history_imported": (
        "Read {kept} of {rows} history rows of {file} ({layout}) for {deals} deals; {problems} problem(s).",
        "已读取 {file}（{layout}）{rows} 行历史中的 {kept} 行，涉及 {deals} 个商机；{problems} 个问题。"),
    "message.history_import_issue": ("  {file} row {row}, {column}: {problem} ({action})",
                                     "  {file} 第 {row} 行，{column}：{problem}（{action}）"),
    "message.history_ignored_properties": ("Properties that are not stage, amount or close date were passed over: {names}.",
                                           "非阶段、金额、预计成交日期的属性未导入：{names}。"),
    "message.history_needs_book": ("{book} does not exist: import the deals first (funnel import DEALS.csv --into {book}), "
                                   "then their history", "{book} 不存在：请先导入商机（funnel import DEALS.csv --into {book}），"
                                   "再导入其历史"),
    "message.backfill_none": ("Nothing to backfill for {book}: no past day to record in the {weeks} weeks before {as_of}.",
                              "{book} 无需回填：截至 {as_of} 之前的 {weeks} 周内没有可记录的过去日期。"),
    "history.column.origin": ("Origin", "来源"),
    "history.origin.recorded": ("recorded", "记录"),
    "history.origin.reconstructed": ("reconstructed", "重建"),
    "history.origin.imported": ("imported", "导入"),
    "history.title": ("Snapshots of {book} ({store})", "{book} 的快照（{store}）"),
    "history.column.id": ("Snapshot", "快照"),
    "history.column.taken_at": ("Taken (UTC)", "记录时间（UTC）"),
    "history.column.as_of": ("As of", "截至日期"),
    "history.column.deals": ("Deals", "商机数"),
    "history.column.changed": ("Changed deals", "变化商机数"),
    "history.column.open_deals": ("Open deals", "在途商机数"),
    "history.column.open_amount": ("Open amount", "在途金额"),
    "history.column.weighted": ("Weighted", "加权金额"),
    "flow.title": ("Pipeline flow of {book}: snapshot {first} (as of {first_date}) to snapshot {second} (as of {second_date})",
                   "{book} 的管道变化：快照 {first}（截至 {first_date}）到快照 {second}（截至 {second_date}）"),
    "flow.no_snapshot_by": ("no snapshot of {book} as of {date} or before (the first is as of {first})",
                            "{book} 在 {date} 及之前没有快照（第一个快照截至 {first}）"),
    "flow.column.period": ("Period", "期间"),
    "flow.column.owner": ("Owner", "负责人"),
    "flow.column.team": ("Team", "团队"),
    "flow.column.change": ("Change", "变化"),
    "flow.column.deals": ("Deals", "商机数"),
    "flow.column.amount": ("Amount", "金额"),
    "flow.total": ("(total)", "（合计）"),
    "flow.change.start": ("start", "期初"),
    "flow.change.created": ("created", "新建"),
    "flow.change.reopened": ("reopened", "重新打开"),
    "flow.change.pulled_in": ("pulled in", "提前移入"),
    "flow.change.amount_increased": ("amount increased", "金额增加"),
    "flow.change.amount_decreased": ("amount decreased", "金额减少"),
    "flow.change.pushed_out": ("pushed out", "推迟移出"),
    "flow.change.pulled_out": ("pulled out", "提前移出"),
    "flow.change.won": ("won", "赢单"),
    "flow.change.lost": ("lost", "丢单"),
    "flow.change.removed": ("removed", "已删除"),
    "flow.change.end": ("end", "期末"),
    # --- The snapshot store's history in the workbook (issue 16 items 4-6: history) -------------
    "sheet.changes": ("Changes", "变化"),
    "sheet.accuracy": ("Accuracy", "预测准确度"),
    "heading.changes": ("What changed: pipeline flow and the forecast over time", "变化：管道流动与预测走势"),
    "heading.accuracy": ("How good were our forecasts", "历史预测的准确度"),
    "title.tblChangesNote": ("Snapshots compared", "比较的快照"),
    "title.tblAccuracyNote": ("Snapshots scored", "评估的快照"),
    "title.tblFlowChart": ("This period's flow, start to end (the waterfall's data)", "本期管道从期初到期末（瀑布图数据）"),
    "title.tblForecastTrend": ("This period's forecast at each snapshot", "本期预测在各快照时的数值"),
    "title.tblFlow": ("Pipeline flow per period, owner and team", "按期间、负责人和团队的管道流动"),
    "title.tblAccuracyChart": ("Closed periods: won against the earliest forecast scored", "已结束期间：实际赢单与最早评估的预测"),
    "title.tblAccuracySummary": ("Accuracy over the closed periods", "已结束期间的整体准确度"),
    "title.tblAccuracy": ("Each closed period's forecasts, scored", "各已结束期间的预测评分"),
    "title.tblPushRates": ("Close-date pushes per owner (snapshot store)", "按负责人的成交日期推迟（快照库）"),
    "header.tblChangesNote.snapshots": ("Snapshots", "快照数"),
    "header.tblChangesNote.note": ("Note", "说明"),
    "header.tblAccuracyNote.snapshots": ("Snapshots", "快照数"),
    "header.tblAccuracyNote.note": ("Note", "说明"),
    "header.tblFlowChart.change": ("Change", "变化"),
    "header.tblFlowChart.amount": ("Amount", "金额"),
    "header.tblFlowChart.base": ("Base", "基线"),
    "header.tblFlowChart.increase": ("Increase", "增加"),
    "header.tblFlowChart.decrease": ("Decrease", "减少"),
    "header.tblFlowChart.total": ("Start / end", "期初/期末"),
    "header.tblForecastTrend.snapshot": ("Snapshot", "快照"),
    "header.tblForecastTrend.as_of": ("As of", "截至日期"),
    "header.tblForecastTrend.weighted": ("Weighted (won + open weighted)", "加权（已赢+在途加权）"),
    "header.tblForecastTrend.commit": ("Commit (won + commit)", "承诺（已赢+承诺）"),
    "header.tblForecastTrend.p50": ("P50", "P50（中位数）"),
    "header.tblForecastTrend.quota": ("Quota", "指标"),
    "header.tblForecastTrend.closed_won": ("Closed won", "已赢金额"),
    "header.tblFlow.period": ("Period", "期间"),
    "header.tblFlow.owner": ("Owner", "负责人"),
    "header.tblFlow.team": ("Team", "团队"),
    "header.tblFlow.change": ("Change", "变化"),
    "header.tblFlow.deals": ("Deals", "商机数"),
    "header.tblFlow.amount": ("Amount", "金额"),
    "header.tblAccuracyChart.period": ("Period", "期间"),
    "header.tblAccuracyChart.point": ("When", "预测时点"),
    "header.tblAccuracyChart.actual": ("Won", "实际赢单"),
    "header.tblAccuracyChart.weighted": ("Weighted forecast", "加权预测"),
    "header.tblAccuracyChart.commit": ("Commit forecast", "承诺预测"),
    "header.tblAccuracyChart.p50": ("P50 forecast", "P50 预测"),
    "header.tblAccuracySummary.point": ("When", "预测时点"),
    "header.tblAccuracySummary.level": ("Level", "层级"),
    "header.tblAccuracySummary.team": ("Team", "团队"),
    "header.tblAccuracySummary.owner": ("Owner", "负责人"),
    "header.tblAccuracySummary.measure": ("Forecast type", "预测口径"),
    "header.tblAccuracySummary.periods": ("Periods", "期间数"),
    "header.tblAccuracySummary.mean_accuracy": ("Mean accuracy", "平均准确度"),
    "header.tblAccuracySummary.mape": ("MAPE", "平均绝对百分比误差"),
    "header.tblAccuracySummary.wape": ("WAPE", "加权绝对百分比误差"),
    "header.tblAccuracySummary.mean_bias": ("Mean bias", "平均偏差"),
    "header.tblAccuracySummary.range_periods": ("Periods with a range", "有区间的期间数"),
    "header.tblAccuracySummary.in_range_share": ("Won inside P10-P90", "实际落在 P10-P90 内的比例"),
    "header.tblAccuracy.period": ("Period", "期间"),
    "header.tblAccuracy.point": ("When", "预测时点"),
    "header.tblAccuracy.as_of": ("Snapshot as of", "快照日期"),
    "header.tblAccuracy.level": ("Level", "层级"),
    "header.tblAccuracy.team": ("Team", "团队"),
    "header.tblAccuracy.owner": ("Owner", "负责人"),
    "header.tblAccuracy.measure": ("Forecast type", "预测口径"),
    "header.tblAccuracy.forecast": ("Forecast amount", "预测金额"),
    "header.tblAccuracy.actual": ("Won", "实际赢单"),
    "header.tblAccuracy.error": ("Forecast - won", "预测-实际"),
    "header.tblAccuracy.accuracy": ("Accuracy", "准确度"),
    "header.tblAccuracy.bias": ("Bias", "偏差"),
    "header.tblAccuracy.p10": ("P10", "P10（低）"),
    "header.tblAccuracy.p90": ("P90", "P90（高）"),
    "header.tblAccuracy.in_range": ("Won inside P10-P90", "实际落在区间内"),
    "header.tblPushRates.owner": ("Owner", "负责人"),
    "header.tblPushRates.deals": ("Deals seen twice", "至少两次快照的商机"),
    "header.tblPushRates.pushed_deals": ("Pushed deals", "被推迟的商机"),
    "header.tblPushRates.push_rate": ("Push rate", "推迟率"),
    "header.tblPushRates.close_pushes": ("Pushes", "推迟次数"),
    "header.tblPushRates.mean_days_slipped": ("Mean days slipped", "平均推迟天数"),
    "header.tblDealScores.close_pushes": ("Close-date pushes", "成交日期推迟次数"),
    "header.tblDealScores.days_slipped": ("Days slipped", "推迟天数"),
    "header.tblDealScores.first_close_date": ("First close date", "最初预计成交日期"),
    "header.tblDealScores.amount_change": ("Amount change since first seen", "首次记录以来金额变化"),
    "header.tblDealScores.days_in_stage_recorded": ("Days in stage (snapshots)", "本阶段天数（快照）"),
    "header.tblDealScores.stage_backwards": ("Stage moved back (snapshots)", "阶段倒退次数（快照）"),
    "chart.waterfall": ("This period's pipeline: start to end", "本期管道：从期初到期末"),
    "chart.forecast_trend": ("This period's forecast over time against quota", "本期预测走势与指标"),
    "chart.accuracy": ("Closed periods: won against the earliest forecast", "已结束期间：实际赢单与最早的预测"),
    "note.history.no_snapshots": ("No snapshot of this workbook yet: each refresh records one; these tables fill from the "
                                  "second", "尚无本工作簿的快照：每次刷新记录一个；从第二个快照起这些表格会有内容"),
    "note.history.unreadable": ("The snapshot store could not be read, so these tables are empty: {problem}",
                                "无法读取快照库，这些表格为空：{problem}"),
    "note.history.one_snapshot": ("One snapshot so far (as of {second_date}): the flow of {period} shows where it starts; "
                                  "changes appear from the next refresh",
                                  "目前只有一个快照（截至 {second_date}）：{period} 的管道流动只显示期初；下次刷新后显示变化"),
    "note.history.window": ("{period}: snapshot {first} (as of {first_date}) to snapshot {second} (as of {second_date}); "
                            "{snapshots} snapshots, {periods} closed period(s) scored",
                            "{period}：快照 {first}（截至 {first_date}）到快照 {second}（截至 {second_date}）；"
                            "共 {snapshots} 个快照，已评估 {periods} 个已结束期间"),
    "accuracy.point.start": ("period start", "期初"),
    "accuracy.point.lead": ("{days} days before end", "期末前 {days} 天"),
    "accuracy.level.owner": ("owner", "负责人"),
    "accuracy.level.team": ("team", "团队"),
    "accuracy.level.total": ("total", "合计"),
    "accuracy.measure.weighted": ("weighted", "加权"),
    "accuracy.measure.commit": ("commit", "承诺"),
    "accuracy.measure.p50": ("P50", "P50 中位数"),
    "setting.accuracy_lead_days": ("days before a period's end its forecast is scored at (and at its start)",
                                   "在期末前多少天评估预测（另加期初）"),
    "store.bad_url": ("the store {store} cannot be opened: {detail} (a store is a path or a URL such as "
                      "sqlite:///forecast.funnel.db or postgresql+psycopg://host/database)",
                      "无法打开快照库 {store}：{detail}（快照库是一个路径，或如 sqlite:///forecast.funnel.db、"
                      "postgresql+psycopg://host/database 的 URL）"),
    "store.unwritable": ("the snapshot store {store} cannot be written: {detail}; check that the folder and the file "
                         "may be written, or pass --store",
                         "无法写入快照库 {store}：{detail}；请检查文件夹和文件是否可写，或用 --store 指定其他位置"),
    "store.locked": ("the snapshot store {store} is locked by another program that is writing it; try again when it "
                     "is done", "快照库 {store} 正被另一个程序写入而锁定；请待其完成后重试"),
    "store.damaged": ("the snapshot store {store} is not a store funnel can read: {detail}",
                      "快照库 {store} 不是 funnel 能读取的快照库：{detail}"),
    "store.unreachable": ("the snapshot store's server {store} cannot be reached: {detail}; check the address, "
                          "that the server runs, and the network",
                          "无法连接快照库服务器 {store}：{detail}；请检查地址、服务器是否运行以及网络"),
    "store.newer": ("the snapshot store {store} was written by a newer funnel (schema version {found}, this one knows "
                    "up to {known}); upgrade funnel to use it",
                    "快照库 {store} 由更新版本的 funnel 写入（结构版本 {found}，本版本最高支持 {known}）；请升级 funnel 后使用"),
    "store.earlier": ("a snapshot as of {as_of} comes before this book's latest snapshot ({latest}): snapshots are "
                      "recorded in date order", "截至 {as_of} 的快照早于本工作簿最新的快照（{latest}）：快照须按日期顺序记录"),
    "store.failed": ("the snapshot store {store} failed: {detail}", "快照库 {store} 出错：{detail}"),
    # What a refresh says of its snapshot (issue 16, record)
    "message.refresh_snapshot": ("Snapshot {id} as of {as_of} recorded: {changed} deals changed since the last one.",
                                 "已记录截至 {as_of} 的快照 {id}：自上次以来变化 {changed} 个商机。"),
    "message.refresh_snapshot_same": ("The snapshot store already holds these figures as of {as_of} (snapshot {id}): "
                                      "nothing new recorded.",
                                      "快照库已有截至 {as_of} 的相同数据（快照 {id}）：未新增记录。"),
    "message.refresh_snapshot_unsaved": ("No snapshot recorded: the workbook has no file here (it has not been saved "
                                         "yet, or it came through the remote engine), so it has no folder for its "
                                         "store; save it and refresh again.",
                                         "未记录快照：此处没有该工作簿的文件（尚未保存，或经远程引擎传来），没有存放快照库的"
                                         "文件夹；请保存后再刷新。"),
    "message.refresh_snapshot_off": ("No snapshot recorded: the store setting is off.", "未记录快照：设置 store 为关闭。"),
    # What the store setting reads as "no snapshots" (besides "none"): a team that keeps no history
    "setting.store.off": ("off", "关闭"),
    "message.refresh_snapshot_failed": ("No snapshot recorded ({why}); the refresh itself is complete.",
                                        "未记录快照（{why}）；刷新本身已完成。"),
    "issue.action.no_snapshot": ("refreshed without recording a snapshot", "已刷新，但未记录快照"),
    "message.refresh_snapshot_forced": ("No snapshot recorded: a required table or column is missing (see Issues).",
                                        "未记录快照：缺少必需的表或列（见“问题”表）。"),
    "message.snapshot_failed": ("No snapshot recorded: {why}", "未记录快照：{why}"),
    "message.snapshot_refused": ("No snapshot recorded, nothing was changed: {why}", "未记录快照，未做任何改动：{why}"),
    # Why the recommended concession pattern works, and what goes wrong with the others.
    "advice.concession.shrinking": (
        "Recommended: big first, then smaller steps make the buyer feel the price has reached its floor.",
        "推荐：先大后小，刺激对方求成欲望，让对方觉得已砍到价格最底线。"),
    "warning.concession.single": (
        "One concession of the whole room shows your floor at once: the buyer doubts it is "
        "really the floor and keeps pushing until you cannot hold.",
        "一次让出全部空间：给出底线反遭怀疑，对方步步紧逼，让你难以招架。"),
    "warning.concession.growing": (
        "Growing steps start with small concessions that look insincere and then give more "
        "each time: the buyer resents them, does not accept them and learns that pushing pays.",
        "让步由小到大：小额渗透不实际，遭对方反感，对手不买账，而且越压让得越多。"),
    "warning.concession.equal": (
        "Equal steps set a steady rhythm: the buyer learns the pattern and keeps asking for "
        "one more step.",
        "等额让步：四平八稳落价格，对手摸透规律更宰你。"),
}


def fields(template: str) -> set[str]:
    """The ``{name}`` fields of a text.

    Raises:
        ValueError: a malformed field (an unmatched brace).
    """
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def check(entries: dict[str, tuple[str, str]]) -> list[str]:
    """What is wrong with catalog entries: one line per problem, none when they are sound.

    Each entry needs a dotted key, a non-blank English and Chinese text, and the same named
    fields in both (``{tables}``, never ``{}`` or ``{0}``).
    """
    problems = []
    for key, pair in entries.items():
        if not isinstance(key, str) or "." not in key or key != key.strip() or not all(key.split(".")):
            problems.append(f"{key!r}: a key is dotted words (sheet.summary)")
        if not (isinstance(pair, tuple) and len(pair) == len(LANGUAGES) and all(isinstance(t, str) for t in pair)):
            problems.append(f"{key}: needs an (English, Chinese) pair of texts")
            continue
        for language, template in zip(LANGUAGES, pair):
            if not template.strip():
                problems.append(f"{key}: the {language} text is blank")
        try:
            found = [fields(template) for template in pair]
        except ValueError as error:
            problems.append(f"{key}: {error}")
            continue
        if found[0] != found[1]:
            problems.append(f"{key}: English has the fields {sorted(found[0])}, Chinese {sorted(found[1])}")
        bad = sorted(name for name in found[0] | found[1] if not name.isidentifier())
        if bad:
            problems.append(f"{key}: fields are named ({{tables}}), not {bad}")
    return problems


_PROBLEMS = check(_ENTRIES)
if _PROBLEMS:
    raise RuntimeError("catalog: " + "; ".join(_PROBLEMS))

CATALOG = MappingProxyType(_ENTRIES)
_FIELDS = {key: fields(pair[0]) for key, pair in _ENTRIES.items()}


def entry(key: str) -> tuple[str, str]:
    """Both texts of a key: ``(English, Chinese)``.

    Raises:
        KeyError: the catalog has no such key.
    """
    try:
        return _ENTRIES[key]
    except KeyError:
        raise KeyError(f"the catalog has no text '{key}'") from None


def has(key: str) -> bool:
    """True when the catalog has a text for ``key``."""
    return key in _ENTRIES


def text(key: str, language: str, **values: object) -> str:
    """The text a user reads for ``key`` in ``language``, its fields filled in.

    Args:
        key: a catalog key (``header.tblOpportunities.amount``).
        language: ``en`` or ``zh-CN``.
        **values: one value per ``{name}`` field of the text, no more, no fewer.

    Returns:
        The text.

    Raises:
        KeyError: the catalog has no such key.
        ValueError: an unknown language, or values that do not match the text's fields.
    """
    en, zh = entry(key)
    if language not in LANGUAGES:
        raise ValueError(f"unknown language '{language}' (use en or zh-CN)")
    wanted = _FIELDS[key]
    if values.keys() != wanted:
        raise ValueError(f"'{key}' takes the fields {sorted(wanted)}, not {sorted(values)}")
    template = zh if language == "zh-CN" else en
    return template.format(**values) if wanted else template


class Said(str):
    """An English text that keeps its catalog key and fields, so that a table drawn up for
    another language can say it in that language (``said_in``). It is, and compares as,
    the English text: code and tests that read the English see no difference."""

    key: str
    values: dict

    def said_in(self, language: str) -> str:
        # A field may be a Said itself (a problem quoted in a refusal), said in the same language.
        return text(self.key, language, **{name: value.said_in(language) if isinstance(value, Said) else value
                                           for name, value in self.values.items()})


class _Given(Said):
    # A text already said in each language (a table drawn up in both), kept as a Said.
    texts: dict

    def said_in(self, language: str) -> str:
        return self.texts.get(language, str(self))


def given(texts: dict[str, str]) -> Said:
    """A text already said in each language (``{"en": ..., "zh-CN": ...}``), as a ``Said``:
    a field of another ``said`` text that is said in its language too."""
    out = _Given(texts["en"])
    out.key, out.values, out.texts = "", {}, dict(texts)
    return out


def said(key: str, /, **values: object) -> Said:
    """``text(key, "en", ...)`` as a ``Said``: the English, with what it takes to say it in Chinese."""
    out = Said(text(key, "en", **values))
    out.key, out.values = key, values
    return out


def group(prefix: str) -> dict[str, tuple[str, str]]:
    """The entries under a key prefix, by the rest of their key, in catalog order.

    ``group("label.stars")`` is ``{"5": ("five-star", "五星级"), "4": ...}``.
    """
    start = prefix.rstrip(".") + "."
    return {key[len(start):]: pair for key, pair in _ENTRIES.items() if key.startswith(start)}
