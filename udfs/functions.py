"""Worksheet functions: funnel's figures in a cell, or a table that spills.

Each function is a thin wrapper: turn the cells Excel passes into raw tables
(``udfs.convert``), validate them with ``funnel.inputs.validation`` exactly as the Refresh button
does, call one ``funnel/`` function, turn the result back into cells. So a UDF and the
refreshed sheets agree on every figure, and a row the refresh leaves out (an unknown
stage, a duplicate deal id) is left out here too.

The functions (tables are passed with their header row, e.g. ``tblOpportunities[#All]``):

    FUNNEL_STAGE_PROBABILITY(stage, stages, [opportunities, history, method, prior_strength, settings])
    FUNNEL_WEIGHTED_PIPELINE(opportunities, stages, period, [owner, team, settings, history])
    FUNNEL_WIN_RATE(opportunities, stages, [from_date, to_date, segment_column, settings])   spills by segment
    FUNNEL_FORECAST_RANGE(opportunities, stages, period, [owner, team, settings, history])    spills P10/P50/P90
    FUNNEL_DEAL_WIN_PROBABILITY(deal_id, opportunities, stages, [history, settings])
    FUNNEL_QUALIFICATION_SCORE(deal_id, opportunities, [stages, questions])
    FUNNEL_MAN_GATE(deal_id, opportunities, [stages])
    FUNNEL_URGENCY(close_date, [as_of, language])
    FUNNEL_COMPARISON_TABLE(comparison, [deal_id, settings])                                 spills the ranking
    FUNNEL_HEAD_TO_HEAD(opportunities, stages, [competitor, competitors, settings, history])  spills the record
    FUNNEL_CONCESSION_PLAN(quote, floor, [steps, pattern, round_to, language])               spills the steps
    FUNNEL_LIFETIME_VALUE(expected_purchases, average_amount)
    FUNNEL_DELIVERED_VALUE(total_value, total_cost)
    FUNNEL_FLOW_TOTAL(flow, change, [period, owner, team, count])                            from the Changes sheet
    FUNNEL_FORECAST_ACCURACY(accuracy, period, [measure, days_before_end, owner, team])      from the Accuracy sheet

Excel finds these through xlwings' "UDF Modules" setting (``workbook.layout.UDF_MODULES``):
Import Functions in classic xlwings (Windows), or the add-in's metadata on xlwings Server /
Lite (``xlwings.server.custom_functions_meta``). Elsewhere ``xw.func`` leaves a function
as it is, so the functions stay plain Python and the tests call them directly.

A recalculation calls many UDFs on the same tables, so the last few sets of tables are kept
as one ``funnel.analysis.Analysis`` each, keyed by a fingerprint of their cells: what two
functions share (validation, stage probabilities, the deal table, the win model) is
computed once, by the same code as the Refresh button; changed cells start a new one.

Conventions, all pinned by ``tests/udfs/test_functions.py``:

* Names start with ``FUNNEL_`` (no Excel built-in does; a dot is not allowed in a
  classic VBA function name).
* Decorators stack as ``@xw.func``, one ``@xw.arg(..., doc=...)`` per argument,
  ``@xw.ret(...)``, then ``@_cell_message``. The docstring is the description Excel's
  function wizard shows (classic Excel cuts it at 255 characters), so it is written
  for a sales-ops reader; ``_cell_message`` folds its line breaks.
* Tables come in with their header row (``ndim=2``) and error cells as their text
  (``err_to_str=True``), so "#N/A" is reported instead of silently read as blank.
* Table results are DataFrames written with their header row and no index
  (``@xw.ret(index=False, header=True)``); Excel 365 spills them as a native dynamic
  array. ``expand="table"`` is not used: it is classic xlwings' emulation for Excel
  versions without dynamic arrays, which overwrites neighbouring cells.
* A problem becomes a short sentence in the cell, never a traceback.
* Parameters carry no type annotations: xlwings would turn them into converters.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import pickle
from collections import OrderedDict

import numpy as np
import pandas as pd
import xlwings as xw

from funnel import catalog
from funnel.analysis import Analysis
from funnel.forecast.pipeline import weighted_pipeline
from funnel.forecast.ranges import range_forecast
from funnel.forecast.stages import used_probability
from funnel.forecast.winrates import SEGMENTS, win_rates
from funnel.inputs import parsing
from funnel.inputs.contract import MAN_FLAGS, QUALIFICATION_6W2P, columns_of, required_columns
from funnel.inputs.issues import IssueLog
from funnel.inputs.periods import NO_CLOSE_DATE, normalize_period_label
from funnel.inputs.settings import Settings
from funnel.inputs.validation import Inputs, coerce_column, validate
from funnel.methods.competition import GENERAL as GENERAL_COMPARISON
from funnel.methods.competition import comparison_tables, head_to_head, read_comparison
from funnel.methods.labels import label, normalize_language
from funnel.methods.negotiation import concession_plan, delivered_value, lifetime_value
from funnel.methods.qualification import man_gate, question_completeness, urgency
from funnel.snapshots import FLOW_CHANGES
from funnel.snapshots.accuracy import MEASURES
from funnel.snapshots.history import flow_total, period_accuracy
from udfs.convert import (
    CellError,
    date_arg,
    number_arg,
    one_cell,
    output_frame,
    spill_frame,
    table_frame,
    table_language,
    text_arg,
)
from workbook.layout import INPUTS, LANGUAGES, OUTPUTS, header, header_lookup

__all__ = [
    "UDF_PREFIX",
    "FUNNEL_STAGE_PROBABILITY",
    "FUNNEL_WEIGHTED_PIPELINE",
    "FUNNEL_WIN_RATE",
    "FUNNEL_DEAL_WIN_PROBABILITY",
    "FUNNEL_FORECAST_RANGE",
    "FUNNEL_CONCESSION_PLAN",
    "FUNNEL_LIFETIME_VALUE",
    "FUNNEL_DELIVERED_VALUE",
    "FUNNEL_QUALIFICATION_SCORE",
    "FUNNEL_MAN_GATE",
    "FUNNEL_URGENCY",
    "FUNNEL_COMPARISON_TABLE",
    "FUNNEL_HEAD_TO_HEAD",
    "FUNNEL_FLOW_TOTAL",
    "FUNNEL_FORECAST_ACCURACY",
]

UDF_PREFIX = "FUNNEL_"

logger = logging.getLogger(__name__)

# Longest message a cell shows; the rest of an unexpected error goes to the log.
_MESSAGE_LIMIT = 250

# Table-level problems after which a figure would be computed from the wrong data
# (a table not read at all, or the default stage scheme in place of the user's).
_UNUSABLE = frozenset({"table not used", "no deals to analyse", "used the default P/I/B/W/L scheme", "defaults used"})

_METHODS = ("configured", "empirical", "blended")

# Opportunity columns each figure reads (id, stage and amount are always read).
_WEIGHTED_COLUMNS = ("close_date", "probability_override", "forecast_category", "owner", "team")

# The competition tables a UDF spills show the same columns, in the same words, as the
# Competition sheet's tables (workbook/layout.py, its words from the catalog).
_COMPARISON_KEYS = ("vendor", "weighted_total", "rank", "tied", "weight_coverage", "gap_to_us")
_HEAD_TO_HEAD_KEYS = tuple(c.key for c in OUTPUTS["tblHeadToHead"].columns)
# Opportunity columns the head-to-head record reads, beyond the forecast's.
_HEAD_TO_HEAD_COLUMNS = ("competitors", "created", "lost_reason")

# What the per-deal win model learns from (funnel.winmodel.model.MODEL_FIELDS and competitors).
_MODEL_COLUMNS = ("owner", "team", "source", "product", "industry", "competitors", *QUALIFICATION_6W2P, *MAN_FLAGS)
_SEGMENT_COLUMNS = {"competitor_present": ("competitors",), **{k: (k,) for k in ("owner", "team", "source", "product", "industry")}}


def _period_deals(opportunities, stages, period, owner, team, settings, history):
    """The forecast UDFs' common start: validated deals, the period label, the owner/team mask."""
    analysis, _ = _analysis(
        {"tblOpportunities": opportunities, "tblStages": stages, "tblSettings": settings, "tblStageHistory": history},
        required=("tblOpportunities", "tblStages"),
        columns=_WEIGHTED_COLUMNS,
        follows_forecast_method=True,
    )
    label = _period_label(period, analysis.settings)
    deals = analysis.deals
    chosen = _having(deals, "owner", text_arg(owner, "owner")) & _having(deals, "team", text_arg(team, "team"))
    return analysis, label, deals, chosen


def _cell_message(udf):
    """Turn anything raised inside ``udf`` into the short message its cell shows."""

    @functools.wraps(udf)
    def boundary(*args, **kwargs):
        try:
            return udf(*args, **kwargs)
        except CellError as err:
            return _short(str(err))
        except Exception as err:  # the cell must show a sentence, whatever went wrong
            logger.exception("%s failed", udf.__name__)
            return _short(f"{udf.__name__} failed ({type(err).__name__}: {err}); see the xlwings log")

    # Excel's function wizard shows the docstring as one paragraph.
    boundary.__doc__ = " ".join((udf.__doc__ or "").split())
    return boundary


@xw.func
@xw.arg("stage", err_to_str=True, doc="The stage code, e.g. P, I or B (a cell or text).")
@xw.arg("stages", ndim=2, err_to_str=True, doc="The Stage scheme table with its header row, e.g. tblStages[#All].")
@xw.arg("opportunities", ndim=2, err_to_str=True, doc="Optional. The Opportunities table with its header row; needed for the empirical and blended methods.")
@xw.arg("history", ndim=2, err_to_str=True, doc="Optional. The Stage history table with its header row: how far each closed deal got.")
@xw.arg("method", err_to_str=True, doc="Optional. configured, empirical or blended (empirical uses configured until a closed deal reached the stage). Blank: the Settings table's method, else blended.")
@xw.arg("prior_strength", err_to_str=True, doc="Optional. How many closed deals the configured probability counts as when blending. Blank: the Settings value, else 10.")
@xw.arg("settings", ndim=2, err_to_str=True, doc="Optional. The Settings table with its header row, for the method and prior strength.")
@xw.ret()
@_cell_message
def FUNNEL_STAGE_PROBABILITY(stage, stages, opportunities=None, history=None, method=None, prior_strength=None, settings=None):
    """Chance of winning a deal in this stage. configured: the scheme's number; empirical:
    won / closed among closed deals that reached the stage; blended: the two mixed, so
    few closed deals lean on the configured number."""
    code = _stage_code(stage)
    overrides = {}
    if (chosen := _method(method)) is not None:
        overrides["probability_method"] = chosen
    if (strength := number_arg(prior_strength, "prior_strength")) is not None:
        overrides["prior_strength"] = strength
    analysis, _ = _analysis(
        {"tblStages": stages, "tblOpportunities": opportunities, "tblStageHistory": history, "tblSettings": settings},
        required=("tblStages",),
        overrides=overrides,
    )
    inputs = analysis.inputs
    known = list(inputs.stages["code"])
    if code not in known:
        raise CellError(f"unknown stage '{code}' (known: {', '.join(known)})")
    # Asked as if for a deal in that stage without an override: the number a forecast uses.
    deal = pd.DataFrame({"stage": [code], "probability_override": [np.nan]})
    method = inputs.settings.probability_method
    return float(used_probability(deal, inputs.stages, analysis.stage_probabilities, method).iloc[0])


@xw.func
@xw.arg("opportunities", ndim=2, err_to_str=True, doc="The Opportunities table with its header row, e.g. tblOpportunities[#All].")
@xw.arg("stages", ndim=2, err_to_str=True, doc="The Stage scheme table with its header row, e.g. tblStages[#All].")
@xw.arg("period", err_to_str=True, doc="The close period: 2026-Q2 or 2026-06 (as the Settings period says), any date in it, or no close date.")
@xw.arg("owner", err_to_str=True, doc="Optional. Only this owner's deals.")
@xw.arg("team", err_to_str=True, doc="Optional. Only this team's deals.")
@xw.arg("settings", ndim=2, err_to_str=True, doc="Optional. The Settings table with its header row: period, fiscal year start, probability method.")
@xw.arg("history", ndim=2, err_to_str=True, doc="Optional. The Stage history table with its header row; give it to match the refreshed Forecast sheet.")
@xw.ret()
@_cell_message
def FUNNEL_WEIGHTED_PIPELINE(opportunities, stages, period, owner=None, team=None, settings=None, history=None):
    """Weighted pipeline of the open deals closing in a period: each amount times its
    win probability (the deal's override, else its stage's, or the deal model's when
    Settings says so), added up. Optionally for one owner or team."""
    analysis, label, deals, chosen = _period_deals(opportunities, stages, period, owner, team, settings, history)
    table = weighted_pipeline(deals[chosen], analysis.inputs.quotas, ["period"])
    row = table[table["period"] == label]
    return float(row["weighted"].iloc[0]) if len(row) else 0.0


@xw.func
@xw.arg("opportunities", ndim=2, err_to_str=True, doc="The Opportunities table with its header row, e.g. tblOpportunities[#All].")
@xw.arg("stages", ndim=2, err_to_str=True, doc="The Stage scheme table with its header row: which stages count as won and lost.")
@xw.arg("from_date", err_to_str=True, doc="Optional. First close date counted. Blank: from the first closed deal.")
@xw.arg("to_date", err_to_str=True, doc="Optional. Last close date counted. Blank: up to the last closed deal.")
@xw.arg("segment_column", err_to_str=True, doc="Optional. Split by Owner, Team, Source, Product, Industry, Period, Amount band or Competitor present; the result spills as a table.")
@xw.arg("settings", ndim=2, err_to_str=True, doc="Optional. The Settings table with its header row: periods and amount bands.")
@xw.ret(index=False, header=True)
@_cell_message
def FUNNEL_WIN_RATE(opportunities, stages, from_date=None, to_date=None, segment_column=None, settings=None):
    """Win rate: won / (won + lost) of the deals closed between two dates. With a segment
    column it spills one row per segment with the counts, amounts and a 95% range that
    is wide when few deals closed."""
    start = date_arg(from_date, "from_date")
    end = date_arg(to_date, "to_date")
    if start is not None and end is not None and start > end:
        raise CellError(f"from_date {start:%Y-%m-%d} is after to_date {end:%Y-%m-%d}")
    segment = text_arg(segment_column, "segment_column")
    dimension = _dimension(segment) if segment is not None else None
    analysis, _ = _analysis(
        {"tblOpportunities": opportunities, "tblStages": stages, "tblSettings": settings},
        required=("tblOpportunities", "tblStages"),
        columns=("close_date", *_SEGMENT_COLUMNS.get(dimension, ())),
    )
    deals = _closing_between(analysis.stage_deals, start, end)
    # Only the period rows carry a status (a period not over yet): asked for only by them.
    rates = win_rates(deals, analysis.settings) if dimension == "period" else win_rates(deals)
    if rates.empty:
        raise CellError(_no_closed_deal(start, end))
    if dimension is None:
        return float(rates.loc[rates["dimension"] == "overall", "win_rate"].iloc[0])
    columns = [c for c in OUTPUTS["tblWinRates"].columns if c.key != "dimension" and (c.key != "status" or dimension == "period")]
    language = table_language(opportunities, "tblOpportunities")
    headers = [segment] + [c.header(language) for c in columns[1:]]
    part = rates.loc[rates["dimension"] == dimension, [c.key for c in columns]]
    return spill_frame(part, headers)



@xw.func
@xw.arg("deal_id", err_to_str=True, doc="The deal's ID, as in the Deal ID column.")
@xw.arg("opportunities", ndim=2, err_to_str=True, doc="The Opportunities table with its header row, e.g. tblOpportunities[#All]: the closed deals the model learns from.")
@xw.arg("stages", ndim=2, err_to_str=True, doc="The Stage scheme table with its header row, e.g. tblStages[#All].")
@xw.arg("history", ndim=2, err_to_str=True, doc="Optional. The Stage history table with its header row: how far each deal got.")
@xw.arg("settings", ndim=2, err_to_str=True, doc="Optional. The Settings table with its header row: model_min_closed, the closed deals needed before the model is used (else 20).")
@xw.ret()
@_cell_message
def FUNNEL_DEAL_WIN_PROBABILITY(deal_id, opportunities, stages, history=None, settings=None):
    """Chance of winning one open deal, learned from closed deals like it: stage reached,
    owner, team, source, product, industry, amount, 6W+2P answers, MAN and competitors.
    Until enough deals have closed it is the deal's stage probability."""
    analysis, raw = _analysis(
        {"tblOpportunities": opportunities, "tblStages": stages, "tblStageHistory": history, "tblSettings": settings},
        required=("tblOpportunities", "tblStages"),
        columns=_MODEL_COLUMNS,
    )
    row = _deal_row(analysis, raw, deal_id)
    deals = analysis.stage_deals
    if not deals.at[row, "is_open"]:
        outcome = "won" if deals.at[row, "is_won"] else "lost"
        raise CellError(f"deal '{deals.at[row, 'id']}' is closed ({outcome})")
    return float(analysis.model_scores.at[row, "model_probability"])


@xw.func
@xw.arg("opportunities", ndim=2, err_to_str=True, doc="The Opportunities table with its header row, e.g. tblOpportunities[#All].")
@xw.arg("stages", ndim=2, err_to_str=True, doc="The Stage scheme table with its header row, e.g. tblStages[#All].")
@xw.arg("period", err_to_str=True, doc="The close period: 2026-Q2 or 2026-06 (as the Settings period says), any date in it, or no close date.")
@xw.arg("owner", err_to_str=True, doc="Optional. Only this owner's deals.")
@xw.arg("team", err_to_str=True, doc="Optional. Only this team's deals.")
@xw.arg("settings", ndim=2, err_to_str=True, doc="Optional. The Settings table with its header row: period, fiscal year start, probability and forecast method.")
@xw.arg("history", ndim=2, err_to_str=True, doc="Optional. The Stage history table with its header row; give it to match the refreshed sheets.")
@xw.ret(index=False, header=True)
@_cell_message
def FUNNEL_FORECAST_RANGE(opportunities, stages, period, owner=None, team=None, settings=None, history=None):
    """What a period will book, as a range: closed won plus each open deal won with its
    probability. Spills P10, P50 and P90: 1 time in 10 the period books less than P10,
    half the time less than P50, 9 times in 10 less than P90."""
    analysis, label, deals, chosen = _period_deals(opportunities, stages, period, owner, team, settings, history)
    # Only the period's deals: the range of every other period is not needed.
    table = range_forecast(deals[chosen & (deals["period"] == label)])
    levels = ["p10", "p50", "p90"]
    found = table.loc[table["period"] == label, levels]
    if found.empty:
        found = pd.DataFrame([[0.0, 0.0, 0.0]], columns=levels)  # nothing won or open: a sure 0
    return spill_frame(found, [level.upper() for level in levels])


@xw.func
@xw.arg("quote", err_to_str=True, doc="The price quoted: where the negotiation starts.")
@xw.arg("floor", err_to_str=True, doc="The lowest price you may accept (the floor).")
@xw.arg("steps", err_to_str=True, doc="Optional. How many concessions to plan (blank: 4).")
@xw.arg("pattern", err_to_str=True, doc="Optional. shrinking (recommended, blank), equal, growing or single; 递减, 等额, 递增, 一次性 work too.")
@xw.arg("round_to", err_to_str=True, doc="Optional. Round the prices to this unit, e.g. 1000; the steps still add up to the whole room.")
@xw.arg("language", err_to_str=True, doc="Optional. en (blank) or zh-CN: the language of the headers and of the advice.")
@xw.ret(index=False, header=True)
@_cell_message
def FUNNEL_CONCESSION_PLAN(quote, floor, steps=None, pattern=None, round_to=None, language=None):
    """Plan the concessions from the quote down to the floor price: one row per step with
    the concession, the total conceded and the price after it, plus what the course says
    about the pattern (big first, then smaller steps is the one it recommends)."""
    chosen_language = _language(language)
    count = number_arg(steps, "steps")
    plan = _funnel_call(
        concession_plan,
        _required_number(quote, "quote"),
        _required_number(floor, "floor"),
        4 if count is None else count,
        text_arg(pattern, "pattern") or "shrinking",
        number_arg(round_to, "round_to"),
    )
    table = plan.steps.assign(advice=None)
    note = plan.advice or plan.warning
    table["advice"] = [note.get(chosen_language)] + [None] * (len(table) - 1)
    # No sheet holds this table: its headers are the catalog's header.concession_plan.*.
    return spill_frame(table, [catalog.text(f"header.concession_plan.{key}", chosen_language) for key in table.columns])


@xw.func
@xw.arg("expected_purchases", err_to_str=True, doc="How many purchases the customer is expected to make.")
@xw.arg("average_amount", err_to_str=True, doc="The average amount of one purchase.")
@xw.ret()
@_cell_message
def FUNNEL_LIFETIME_VALUE(expected_purchases, average_amount):
    """Customer lifetime value: the expected number of purchases times the average amount
    of one purchase."""
    return float(_funnel_call(
        lifetime_value,
        _required_number(expected_purchases, "expected_purchases"),
        _required_number(average_amount, "average_amount"),
    ))


@xw.func
@xw.arg("total_value", err_to_str=True, doc="What the customer gets: product, service, staff and image value.")
@xw.arg("total_cost", err_to_str=True, doc="What it costs the customer: money, time, effort and worry.")
@xw.ret()
@_cell_message
def FUNNEL_DELIVERED_VALUE(total_value, total_cost):
    """Customer delivered value: what the customer gets minus what it costs them.
    Negative when the customer pays more than they get."""
    return float(_funnel_call(
        delivered_value,
        _required_number(total_value, "total_value"),
        _required_number(total_cost, "total_cost"),
    ))


@xw.func
@xw.arg("deal_id", err_to_str=True, doc="The deal's ID, as in the Deal ID column.")
@xw.arg("opportunities", ndim=2, err_to_str=True, doc="The Opportunities table with its header row, e.g. tblOpportunities[#All]: the yes/no question columns.")
@xw.arg("stages", ndim=2, err_to_str=True, doc="Optional. The Stage scheme table with its header row (blank: the P/I/B/W/L scheme).")
@xw.arg("questions", err_to_str=True, doc="Optional. 6W+2P (blank: all eight questions, with Why us?) or 5W+2P (the first seven).")
@xw.ret()
@_cell_message
def FUNNEL_QUALIFICATION_SCORE(deal_id, opportunities, stages=None, questions=None):
    """Share of the 6W+2P qualification questions answered for a deal: why a new system,
    budget, who decides, decision process, decision criteria, timetable, competitors and
    why us. 5W+2P leaves out why us."""
    share = f"completeness_{_question_set(questions)}"
    analysis, raw = _analysis(
        {"tblOpportunities": opportunities, "tblStages": stages},
        required=("tblOpportunities",),
        columns=QUALIFICATION_6W2P,
    )
    row = _deal_row(analysis, raw, deal_id)
    answers = question_completeness(analysis.inputs.opportunities.loc[[row]])
    return float(answers.at[row, share])


@xw.func
@xw.arg("deal_id", err_to_str=True, doc="The deal's ID, as in the Deal ID column.")
@xw.arg("opportunities", ndim=2, err_to_str=True, doc="The Opportunities table with its header row, e.g. tblOpportunities[#All]: the MAN columns.")
@xw.arg("stages", ndim=2, err_to_str=True, doc="Optional. The Stage scheme table with its header row (blank: the P/I/B/W/L scheme).")
@xw.ret()
@_cell_message
def FUNNEL_MAN_GATE(deal_id, opportunities, stages=None):
    """TRUE when the deal passes the MAN gate: the buyer has the money, the authority to
    decide and the need, all three confirmed; FALSE when any is missing."""
    analysis, raw = _analysis(
        {"tblOpportunities": opportunities, "tblStages": stages},
        required=("tblOpportunities",),
        columns=MAN_FLAGS,
    )
    row = _deal_row(analysis, raw, deal_id)
    return bool(man_gate(analysis.inputs.opportunities.loc[[row]]).at[row, "man_ok"])


@xw.func
@xw.arg("close_date", err_to_str=True, doc="The expected decision (close) date.")
@xw.arg("as_of", err_to_str=True, doc="Optional. The day to count from (blank: today).")
@xw.arg("language", err_to_str=True, doc="Optional. en (blank) or zh-CN.")
@xw.ret()
@_cell_message
def FUNNEL_URGENCY(close_date, as_of=None, language=None):
    """How urgent a deal is from its expected decision date: eager within 1 month, hopeful
    within 2, watching within 3, later beyond; overdue once the date has passed."""
    chosen_language = _language(language)
    day = date_arg(close_date, "close_date")
    today = date_arg(as_of, "as_of") or Settings().as_of
    code = urgency(pd.Series([pd.Timestamp(day) if day else pd.NaT]), today).iloc[0]
    return label("urgency", code, chosen_language)


@xw.func
@xw.arg("comparison", ndim=2, err_to_str=True, doc="The Comparison table with its header row, e.g. tblComparison[#All]: factor, weight and one score column per vendor.")
@xw.arg("deal_id", err_to_str=True, doc="Optional. The deal whose comparison to rank (blank: the general comparison, rows without a deal ID).")
@xw.arg("settings", ndim=2, err_to_str=True, doc="Optional. The Settings table with its header row: comparison_scale_max, the top score (else 5).")
@xw.ret(index=False, header=True)
@_cell_message
def FUNNEL_COMPARISON_TABLE(comparison, deal_id=None, settings=None):
    """The comparison table that decides: each vendor's weighted score over the decision
    factors, best first, with its rank and its gap to us. A vendor not scored on every
    factor is averaged over the factors it was scored on."""
    analysis, _ = _analysis({"tblComparison": comparison, "tblSettings": settings}, required=("tblComparison",))
    inputs = analysis.inputs
    log = IssueLog()
    ids = inputs.comparison["opportunity_id"].dropna().astype(str).str.strip()
    # As the report reads it: the settings may name our column (comparison_us).
    long, vendors, us = read_comparison(inputs.comparison, ids, inputs.settings.comparison_scale_max, log,
                                        getattr(inputs.settings, "comparison_us", None))
    result, _ = comparison_tables(long, vendors, us)
    wanted = text_arg(deal_id, "deal_id")
    part = result[result["opportunity_id"] == (wanted or GENERAL_COMPARISON)]
    if part.empty:
        where = f"deal '{wanted}'" if wanted else "the general comparison (rows without a deal ID)"
        raise CellError(f"no scored comparison for {where}")
    language = table_language(comparison, "tblComparison")
    return spill_frame(part[list(_COMPARISON_KEYS)], [header("tblComparisonResult", k, language) for k in _COMPARISON_KEYS])


@xw.func
@xw.arg("opportunities", ndim=2, err_to_str=True, doc="The Opportunities table with its header row, e.g. tblOpportunities[#All]: the Competitors column names who we met.")
@xw.arg("stages", ndim=2, err_to_str=True, doc="The Stage scheme table with its header row, e.g. tblStages[#All].")
@xw.arg("competitor", err_to_str=True, doc="Optional. One competitor's row only (blank: every competitor, then deals with none).")
@xw.arg("competitors", ndim=2, err_to_str=True, doc="Optional. The Competitors table with its header row: strengths and weaknesses, and competitors not met yet.")
@xw.arg("settings", ndim=2, err_to_str=True, doc="Optional. The Settings table with its header row: probability and forecast method for the open weighted amount.")
@xw.arg("history", ndim=2, err_to_str=True, doc="Optional. The Stage history table with its header row; give it to match the refreshed sheets.")
@xw.ret(index=False, header=True)
@_cell_message
def FUNNEL_HEAD_TO_HEAD(opportunities, stages, competitor=None, competitors=None, settings=None, history=None):
    """Our record against each competitor: closed deals where we met them, won, lost, win
    rate with a 95% range, amounts, cycle, top lost reasons, and the open pipeline each
    still contests. A deal naming two competitors counts for both."""
    analysis, _ = _analysis(
        {"tblOpportunities": opportunities, "tblStages": stages, "tblCompetitors": competitors,
         "tblSettings": settings, "tblStageHistory": history},
        required=("tblOpportunities", "tblStages"),
        columns=(*_WEIGHTED_COLUMNS, *_HEAD_TO_HEAD_COLUMNS),
        follows_forecast_method=True,
    )
    language = table_language(opportunities, "tblOpportunities")
    competitors_table = analysis.inputs.competitors if competitors is not None else None
    table = head_to_head(analysis.deals, competitors_table, language)
    wanted = text_arg(competitor, "competitor")
    if wanted is not None:
        table = table[table["competitor"].map(lambda v: parsing.fold(str(v)).casefold()) == parsing.fold(wanted).casefold()]
        if table.empty:
            raise CellError(f"no deal names competitor '{wanted}'")
    return spill_frame(table[list(_HEAD_TO_HEAD_KEYS)], [header("tblHeadToHead", k, language) for k in _HEAD_TO_HEAD_KEYS])

def _code(value, prefix: str, codes, name: str) -> str:
    """A code typed as itself (pushed_out) or as the sheets show it, in either language
    (pushed out, 推迟移出); refused with the words there are."""
    text = parsing.fold(str(value)).casefold().replace("_", " ")
    for code in codes:
        said = {code.replace("_", " ").casefold(), *(parsing.fold(catalog.text(f"{prefix}.{code}", lang)).casefold()
                                                     for lang in LANGUAGES)}
        if text in said:
            return code
    known = ", ".join(catalog.text(f"{prefix}.{code}", "en") for code in codes)
    raise CellError(f"{name}: '{value}' is not one of {known}")


def _shown(frame: pd.DataFrame, column: str, prefix: str, codes) -> pd.Series:
    # A column of the sheet's words back to codes (words of either language).
    back = {}
    for code in codes:
        for lang in LANGUAGES:
            back[parsing.fold(catalog.text(f"{prefix}.{code}", lang)).casefold()] = code
    return frame[column].map(lambda v: back.get(parsing.fold(str(v)).casefold(), v) if v is not None else v)


def _totals_blank(frame: pd.DataFrame) -> pd.DataFrame:
    # The total rows' owner as the sheet shows it ("(total)") back to blank, blanks as "".
    total = {parsing.fold(catalog.text("flow.total", lang)).casefold() for lang in LANGUAGES}
    def blank(v) -> bool:
        return v is None or (not isinstance(v, str) and pd.isna(v))
    owner = frame["owner"].map(lambda v: "" if blank(v) or parsing.fold(str(v)).casefold() in total else str(v))
    return frame.assign(owner=owner, team=frame["team"].map(lambda v: "" if blank(v) else str(v)))


@xw.func
@xw.arg("flow", ndim=2, err_to_str=True, doc="The Changes sheet's flow table with its header row, e.g. tblFlow[#All].")
@xw.arg("change", err_to_str=True, doc="start, created, reopened, pulled in, amount increased, amount decreased, pushed out, pulled out, won, lost, removed or end (as the table shows them).")
@xw.arg("period", err_to_str=True, doc="Optional. Only this period, e.g. 2026-Q4 (blank: every period in the table).")
@xw.arg("owner", err_to_str=True, doc="Optional. Only this owner's rows (blank: the total rows).")
@xw.arg("team", err_to_str=True, doc="Optional. Only this team's rows.")
@xw.arg("count", err_to_str=True, doc="Optional. TRUE: the number of deals instead of the amount.")
@xw.ret()
@_cell_message
def FUNNEL_FLOW_TOTAL(flow, change, period=None, owner=None, team=None, count=None):
    """How much of the pipeline one change moved between the two snapshots the Changes sheet
    compares: the amount pushed out, won, created, ..., or the start and end of a period."""
    frame = output_frame(flow, "tblFlow")
    missing = {"period", "owner", "team", "change", "deals", "amount"} - set(frame.columns)
    if missing:
        raise CellError(f"tblFlow: no column {', '.join(sorted(missing))}; pass the whole table, tblFlow[#All]")
    wanted = _code(text_arg(change, "change") or "", "flow.change", FLOW_CHANGES, "change")
    frame = _totals_blank(frame.assign(change=_shown(frame, "change", "flow.change", FLOW_CHANGES)))
    try:
        counted = parsing.parse_flag(one_cell(count, "count"))
    except parsing.ParseError as err:
        raise CellError(f"count: {err}") from None
    return flow_total(frame, wanted, text_arg(period, "period"), text_arg(owner, "owner"), text_arg(team, "team"),
                      deals=bool(counted))


@xw.func
@xw.arg("accuracy", ndim=2, err_to_str=True, doc="The Accuracy sheet's scored forecasts with their header row, e.g. tblAccuracy[#All].")
@xw.arg("period", err_to_str=True, doc="The closed period, e.g. 2026-Q3.")
@xw.arg("measure", err_to_str=True, doc="Optional. weighted (blank), commit or P50.")
@xw.arg("days_before_end", err_to_str=True, doc="Optional. The forecast this many days before the period's end (30, 60, 90 by default); blank: at the period's start.")
@xw.arg("owner", err_to_str=True, doc="Optional. One owner's forecast (blank: the total).")
@xw.arg("team", err_to_str=True, doc="Optional. One team's forecast.")
@xw.ret()
@_cell_message
def FUNNEL_FORECAST_ACCURACY(accuracy, period, measure=None, days_before_end=None, owner=None, team=None):
    """How accurate a closed period's forecast was: max(0, 1 - |won - forecast| / won), the
    forecast as the snapshot store recorded it at the period's start or some days before its
    end. Blank when nothing was won or no snapshot was there by then."""
    frame = output_frame(accuracy, "tblAccuracy")
    missing = {"period", "point", "level", "owner", "team", "measure", "accuracy"} - set(frame.columns)
    if missing:
        raise CellError(f"tblAccuracy: no column {', '.join(sorted(missing))}; pass the whole table, tblAccuracy[#All]")
    wanted_period = text_arg(period, "period")
    if not wanted_period:
        raise CellError("period: give the closed period, e.g. 2026-Q3")
    which = _code(text_arg(measure, "measure") or "weighted", "accuracy.measure", MEASURES, "measure")
    days = number_arg(days_before_end, "days_before_end")
    point = "start" if days is None else f"{int(days)}d"
    starts = {parsing.fold(catalog.text("accuracy.point.start", lang)).casefold() for lang in LANGUAGES}

    def point_code(shown):
        text = parsing.fold(str(shown)).casefold()
        if text in starts or text == "start":
            return "start"
        digits = "".join(ch for ch in text if ch.isdigit())
        return f"{digits}d" if digits else text

    frame = _totals_blank(frame.assign(measure=_shown(frame, "measure", "accuracy.measure", MEASURES),
                                       level=_shown(frame, "level", "accuracy.level", ("owner", "team", "total")),
                                       point=frame["point"].map(point_code),
                                       accuracy=pd.to_numeric(frame["accuracy"], errors="coerce")))
    value = period_accuracy(frame, wanted_period, which, point, text_arg(owner, "owner"), text_arg(team, "team"))
    return None if np.isnan(value) else value


# --- Shared steps -------------------------------------------------------------------


# One analysis per distinct set of tables, by a fingerprint of the cells they came from. A
# recalculation calls several UDFs on the same tables (one per owner, say): validating and
# the derived tables they share are computed once, by the same ``Analysis`` the refresh uses.
_ANALYSES: OrderedDict[bytes, tuple[Analysis, dict[str, pd.DataFrame]]] = OrderedDict()
_ANALYSES_SIZE = 8


def _analysis(
    given: dict[str, object],
    required: tuple[str, ...],
    overrides: dict | None = None,
    columns: tuple[str, ...] = (),
    follows_forecast_method: bool = False,
) -> tuple[Analysis, dict[str, pd.DataFrame]]:
    """The analysis of the tables a UDF was given, one per distinct content, with the raw
    tables it came from (by canonical name, to say why a deal was left out).

    Args:
        given: Excel Table name -> the cells Excel passed (None for a left-out argument).
        required: Tables that must not be blank.
        overrides: Settings to override (the UDF's own method or prior strength).
        columns: The opportunity columns the figure depends on; the rest are not read.
            Only id and stage problems leave a row out, so this changes no figure.
        follows_forecast_method: The figure may use the per-deal model (forecast_method
            ``auto``, the default, lets the backtest decide; ``model``), so the model's
            columns are read too: always, since the setting is known only once the
            tables are validated and validating twice costs more.
    """
    try:
        key = hashlib.blake2b(pickle.dumps((given, required, overrides, columns, follows_forecast_method), protocol=5)).digest()
    except (pickle.PicklingError, TypeError, AttributeError):
        key = None  # a value pickle cannot take: work it out every time
    if key is not None and key in _ANALYSES:
        _ANALYSES.move_to_end(key)
        return _ANALYSES[key]
    if follows_forecast_method:
        columns = (*columns, *_MODEL_COLUMNS)
    inputs, raw = _validated(given, required, overrides, columns)
    found = Analysis(inputs), raw
    if key is not None:
        _ANALYSES[key] = found
        while len(_ANALYSES) > _ANALYSES_SIZE:
            _ANALYSES.popitem(last=False)
    return found


def _validated(
    given: dict[str, object], required: tuple[str, ...], overrides: dict | None, columns: tuple[str, ...]
) -> tuple[Inputs, dict[str, pd.DataFrame]]:
    """Convert and validate the tables a UDF was given, refusing unusable ones.

    Returns:
        The validated inputs, and the raw tables they came from by canonical name.
    """
    log = IssueLog()
    raw: dict[str, pd.DataFrame] = {}
    for table_name, values in given.items():
        frame = table_frame(values, table_name, log)
        canonical = INPUTS[table_name].table
        if frame is None and table_name in required:
            raise CellError(f"{canonical}: the range is blank; select the table with its header row")
        if frame is None:
            continue
        if not set(frame.columns) & set(columns_of(canonical)):
            # Typically tblOpportunities instead of tblOpportunities[#All]: Excel leaves the
            # header row out of a bare table reference.
            raise CellError(
                f"{canonical}: no known header in the first row; pass the table with its "
                f"header row, e.g. {table_name}[#All]"
            )
        if canonical == "opportunities":
            keep = set(columns) | set(required_columns("opportunities"))
            frame = frame.loc[:, [c for c in frame.columns if c in keep]]
        raw[canonical] = frame
    try:
        inputs = validate(raw, overrides, log)
    except ValueError as err:  # a bad method or prior strength, in pydantic's words
        raise CellError(str(err)) from None
    refused = [r.message for r in inputs.refusals if r.table in raw]
    if refused:  # a required column missing, no usable deal: the refresh would refuse too
        raise CellError("; ".join(dict.fromkeys(refused)))
    issues = inputs.log.table()
    unusable = issues[issues["row"].isna() & issues["action"].isin(_UNUSABLE) & issues["table"].isin(raw)]
    if len(unusable):
        raise CellError("; ".join(f"{t}: {p}" for t, p in zip(unusable["table"], unusable["problem"])))
    return inputs, raw


def _deal_row(analysis: Analysis, raw: dict[str, pd.DataFrame], deal_id: object) -> object:
    """The row (index label) of a deal among the validated opportunities.

    Raises:
        CellError: A blank id; an id no row has; or, for a row validation left out, the
            problem it found there (e.g. an unknown stage), in the Issues sheet's words.
    """
    wanted = text_arg(deal_id, "deal_id")
    if wanted is None:
        raise CellError("deal_id is blank")
    opportunities = analysis.inputs.opportunities
    found = opportunities.index[opportunities["id"] == wanted]
    if len(found):
        return found[0]
    given = raw.get("opportunities")
    if given is not None and "id" in given.columns:
        ids, _, _ = coerce_column(given["id"], "text")
        rows = ids.index[ids == wanted]
        if len(rows):
            issues = analysis.inputs.log.table()
            here = issues[(issues["table"] == "opportunities") & (issues["row"] == rows[0])]
            why = "; ".join(dict.fromkeys(here.loc[here["action"] == "row left out", "problem"]))
            raise CellError(f"deal '{wanted}' (row {rows[0]}) is left out: {why or 'see the Issues sheet'}")
    raise CellError(f"no deal with id '{wanted}'")


def _funnel_call(function, *args):
    """Call a funnel function whose ValueError is a sentence for the user."""
    try:
        return function(*args)
    except ValueError as err:
        raise CellError(str(err)) from None


def _required_number(value: object, name: str) -> float:
    number = number_arg(value, name)
    if number is None:
        raise CellError(f"{name} is blank")
    return number


def _language(value: object) -> str:
    """en or zh-CN, from a tag or a name (中文, Chinese, zh)."""
    return _funnel_call(normalize_language, text_arg(value, "language"))


def _question_set(value: object) -> str:
    """6w2p or 5w2p, however the user writes it (6W+2P, 5w2p, 5W2P)."""
    text = text_arg(value, "questions")
    if text is None:
        return "6w2p"
    key = "".join(ch for ch in text.lower() if ch.isalnum())
    if key in ("6w2p", "5w2p"):
        return key
    raise CellError(f"questions: '{text}' is neither 6W+2P nor 5W+2P")


def _stage_code(value: object) -> str:
    """A stage code as the scheme stores it (funnel's code coercion: folded, upper case)."""
    text = text_arg(value, "stage")
    if text is None:
        raise CellError("stage is blank")
    codes, _, _ = coerce_column(pd.Series([text], dtype=object), "code")
    return codes.iloc[0]


def _method(value: object) -> str | None:
    """configured / empirical / blended, also as the Stages sheet's headers in either language."""
    text = text_arg(value, "method")
    if text is None:
        return None
    key = header_lookup("tblStageStats").get(parsing.fold(text).lower(), text.lower())
    # Anything else goes on to the settings check, whose message lists the choices.
    return key if key in _METHODS else text


def _period_label(value: object, settings: Settings) -> str:
    """The engine's label for the period a user typed (or a date in it)."""
    value = _one_value(value, "period")
    if value is None:
        raise CellError("period is blank (write it like 2026-Q2)")
    if isinstance(value, str) and parsing.fold(value).lower() == NO_CLOSE_DATE:
        return NO_CLOSE_DATE
    try:
        return normalize_period_label(value, settings)
    except ValueError as err:
        raise CellError(str(err)) from None


def _one_value(value: object, name: str) -> object:
    # A period may be text or a date, so it is not read with text_arg.
    value = one_cell(value, name)
    if isinstance(value, str):
        text_arg(value, name)  # refuses Excel error values
    return value


def _having(deals: pd.DataFrame, column: str, wanted: str | None) -> pd.Series:
    """Which deals have ``column`` equal to ``wanted`` (case and full-width folded).

    Raises:
        CellError: No deal at all has that value: a typo, not a zero.
    """
    if wanted is None:
        return pd.Series(True, index=deals.index)
    folded = deals[column].map(lambda v: parsing.fold(str(v)).casefold())
    mask = folded == parsing.fold(wanted).casefold()
    if not mask.any():
        raise CellError(f"no deal has {column} '{wanted}'")
    return mask


def _closing_between(deals: pd.DataFrame, start, end) -> pd.DataFrame:
    """Deals whose close date is within [start, end]; undated deals only without bounds."""
    mask = pd.Series(True, index=deals.index)
    if start is not None:
        mask &= deals["close_date"] >= pd.Timestamp(start)
    if end is not None:
        mask &= deals["close_date"] <= pd.Timestamp(end)
    return deals[mask]


def _no_closed_deal(start, end) -> str:
    if start is None and end is None:
        return "no won or lost deal yet, so no win rate"
    span = " and ".join(f"{d:%Y-%m-%d}" for d in (start, end) if d is not None)
    where = "between" if start is not None and end is not None else ("from" if start is not None else "up to")
    return f"no won or lost deal closes {where} {span}"


def _segment_names() -> dict[str, str]:
    """Every way to name a win-rate segment -> its dimension in ``funnel.forecast.winrates``."""
    names = {}
    for key in ("period", *SEGMENTS):
        names[key] = key
        names[key.replace("_", " ")] = key
    for key in ("owner", "team", "source", "product", "industry"):
        for language in LANGUAGES:
            names[parsing.fold(header("tblOpportunities", key, language)).lower()] = key
    for language in LANGUAGES:
        names[parsing.fold(header("tblWinTrend", "period", language)).lower()] = "period"
    return names


_SEGMENT_NAMES = _segment_names()


def _dimension(segment: str) -> str:
    key = _SEGMENT_NAMES.get(parsing.fold(segment).lower())
    if key is None:
        raise CellError(
            f"cannot split win rates by '{segment}' (use Owner, Team, Source, Product, Industry, "
            "Period, Amount band or Competitor present)"
        )
    return key


def _short(message: str) -> str:
    return message if len(message) <= _MESSAGE_LIMIT else message[: _MESSAGE_LIMIT - 3] + "..."
