"""The bad-input corpus: small inputs, each with the exact issues a user must see.

A case is the raw tables a workbook (or a CSV) would hand the engine, the complete list
of issues expected (table, row, column, value, problem, action), and the deals that must
still reach the report. Tables are CSV text (read as text, the way a CSV or a text-typed
sheet arrives; rows are numbered as in the sheet: header 1, first row 2) or lists of
dicts when the cell's type matters (TRUE, a number, a datetime).

Export cases are whole files under ``exports/`` read by ``funnel.crm.importers``; their
issues are the importer's, then the imported tables go through the engine.

``{today}`` in an expected action stands for today's date (the default ``as_of``).

A case with ``refused`` is a required table or column missing or unusable: ``run`` must
raise ``RefreshRefused`` with exactly that message, and ``run(..., force=True)`` must
give the issues and deals listed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

OPP = "opportunities"
HIST = "stage_history"
LEFT_OUT = "row left out"


def opps(extra: str = "", *rows: str) -> str:
    """Opportunities CSV: A1 (P, 100) on row 2 and A2 (W, 200) on row 3, then ``rows`` from row 4."""
    header = "id,stage,amount" + (f",{extra}" if extra else "")
    blanks = "," * (len(extra.split(",")) if extra else 0)
    return "\n".join([header, f"A1,P,100{blanks}", f"A2,W,200{blanks}", *rows]) + "\n"


STAGES = (
    "code,name,order,probability,forecast_category,is_won,is_lost\n"
    "P,Prospect,1,0.2,Pipeline,no,no\n"
    "I,In evaluation,2,0.5,Best Case,no,no\n"
    "W,Won,3,1,Closed,yes,no\n"
    "L,Lost,4,0,Omitted,no,yes\n"
)


@dataclass(frozen=True)
class Case:
    """One bad input and what the user must be told."""

    name: str
    tables: dict[str, str | list[dict]]
    issues: list[tuple]
    deals: tuple[str, ...]
    values: dict[tuple[str, str], object] = field(default_factory=dict)  # (deal id, column) -> value in the report
    refused: str | None = None  # the refusal's exact message: nothing computed unless forced (issues: the forced run's)


@dataclass(frozen=True)
class ExportCase:
    """A whole export file and what the import must report (or the error it must raise)."""

    name: str
    file: str
    issues: list[tuple] = field(default_factory=list)
    deals: tuple[str, ...] = ()
    error: str | None = None
    layout: str = "auto"
    values: dict[tuple[str, str], object] = field(default_factory=dict)  # (deal id, column) -> imported value


D = dt.datetime

CASES: list[Case] = [
    # ------------------------------------------------ text where a number, date, probability or flag belongs
    Case("amount_text", {OPP: opps("", "A3,P,lots")},
         [(OPP, 4, "amount", "lots", "'lots' is not an amount", "left blank")], ("A1", "A2", "A3")),
    Case("amount_true", {OPP: [{"id": "A1", "stage": "P", "amount": 100}, {"id": "A2", "stage": "P", "amount": True}]},
         [(OPP, 3, "amount", "True", "'True' is not an amount", "left blank")], ("A1", "A2")),
    Case("amount_is_a_date", {OPP: opps("", "A3,P,2026-03-01")},
         [(OPP, 4, "amount", "2026-03-01", "'2026-03-01' is not an amount", "left blank")], ("A1", "A2", "A3")),
    Case("amount_bad_separators", {OPP: opps("", 'A3,P,"1,234.5.6"')},
         [(OPP, 4, "amount", "1,234.5.6", "'1,234.5.6' is not an amount", "left blank")], ("A1", "A2", "A3")),
    Case("created_text", {OPP: opps("created", "A3,P,1,next week")},
         [(OPP, 4, "created", "next week", "'next week' is not a date (use YYYY-MM-DD)", "left blank")], ("A1", "A2", "A3")),
    Case("created_small_number", {OPP: opps("created", "A3,P,1,12")},
         [(OPP, 4, "created", "12", "12 is not a date", "left blank")], ("A1", "A2", "A3")),
    Case("close_date_text", {OPP: opps("close_date", "A3,P,1,soon")},
         [(OPP, 4, "close_date", "soon", "'soon' is not a date (use YYYY-MM-DD)", "left blank")], ("A1", "A2", "A3")),
    Case("last_activity_text", {OPP: opps("last_activity", "A3,P,1,yesterday")},
         [(OPP, 4, "last_activity", "yesterday", "'yesterday' is not a date (use YYYY-MM-DD)", "left blank")], ("A1", "A2", "A3")),
    Case("probability_text", {OPP: opps("probability_override", "A3,P,1,high")},
         [(OPP, 4, "probability_override", "high", "'high' is not a probability", "ignored")], ("A1", "A2", "A3")),
    Case("probability_1_7", {OPP: opps("probability_override", "A3,P,1,1.7")},
         [(OPP, 4, "probability_override", "1.7", "probability 1.7 is outside 0..1 (write 70% or 0.7)", "ignored")],
         # Ignored, so A3 keeps P's blended probability: A2 won, reached P; (1 + 10 x 0.2) / (1 + 10) = 3/11.
         ("A1", "A2", "A3"), {("A3", "used_probability"): 3 / 11}),
    Case("probability_70_without_percent", {OPP: opps("probability_override", "A3,P,1,70")},
         [(OPP, 4, "probability_override", "70", "probability 70 is outside 0..1 (write 70% or 0.7)", "ignored")],
         ("A1", "A2", "A3")),
    Case("probability_70_percent_is_accepted", {OPP: opps("probability_override", "A3,P,1,70%", 'A4,P,1,"0,7"')},
         [], ("A1", "A2", "A3", "A4"), {("A3", "used_probability"): 0.7, ("A4", "used_probability"): 0.7}),
    Case("flag_text", {OPP: opps("q_budget", "A3,P,1,maybe")},
         [(OPP, 4, "q_budget", "maybe", "'maybe' is not yes/no", "read as no")], ("A1", "A2", "A3"),
         {("A3", "q_budget"): False}),
    Case("flag_number", {OPP: [{"id": "A1", "stage": "P", "amount": 1, "man_money": 2}]},
         [(OPP, 2, "man_money", "2", "2 is not yes/no", "read as no")], ("A1",)),
    Case("flag_words_accepted", {OPP: opps("q_budget,man_need,go_win", "A3,P,1,是,x,✓", "A4,P,1,否,-,no")},
         [], ("A1", "A2", "A3", "A4"), {("A3", "q_budget"): True, ("A3", "go_win"): True, ("A4", "man_need"): False}),
    # A bad value in the stage scheme degrades that value, never the stage: P keeps its
    # place (order 1, before I's 2), so the deal in P is still a deal.
    Case("stage_order_text", {"stages": STAGES.replace("P,Prospect,1,", "P,Prospect,first,"), OPP: opps()},
         [("stages", 2, "order", "first", "'first' is not a number", "used order 1, between the rows around it")], ("A1", "A2")),
    Case("stage_order_fraction", {"stages": STAGES.replace("I,In evaluation,2,", "I,In evaluation,2.5,"), OPP: opps()},
         [("stages", 3, "order", "2.5", "2.5 is not a whole number", "used order 2, between the rows around it")], ("A1", "A2")),
    Case("stage_order_without_room_is_skipped", {"stages": STAGES.replace("I,In evaluation,2,", "I,In evaluation,?,").replace(
        "W,Won,3,", "W,Won,2,"), OPP: opps()},
         [("stages", 3, "order", "?", "'?' is not a number", "row skipped (no free order between the rows around it)")], ("A1", "A2")),
    Case("stage_order_word_keeps_its_place", {"stages": "code,order,probability,forecast_category,is_won,is_lost\n"
                                                         "P,one,0.2,Pipeline,no,no\nW,2,1,Closed,yes,no\n", OPP: opps()},
         [("stages", 2, "order", "one", "'one' is not a number", "used order 1, between the rows around it")], ("A1", "A2")),
    Case("stages_without_an_open_stage", {"stages": "code,order,probability,forecast_category,is_won,is_lost\n"
                                                     "P,1,0.2,Pipeline,no,yes\nW,2,1,Closed,yes,no\n", OPP: opps()},
         [("stages", None, "", "", "no open stage is left (every usable stage is won or lost)", "used the default P/I/B/W/L scheme")],
         ("A1", "A2")),
    Case("stage_probability_outside_0_1", {"stages": STAGES.replace("P,Prospect,1,0.2,", "P,Prospect,1,1.5,"), OPP: opps("", "A3,P,50")},
         [("stages", 2, "probability", "1.5", "probability 1.5 is outside 0..1 (write 70% or 0.7)",
           "used 0.2, the P/I/B scheme's probability for P")],
         # P stays a stage: A1 and A3 are still deals, at (1 won + 10 x 0.2) / (1 closed + 10) = 3/11.
         ("A1", "A2", "A3"), {("A3", "used_probability"): 3 / 11}),
    Case("stage_probability_blank", {"stages": STAGES.replace("I,In evaluation,2,0.5,", "I,In evaluation,2,,"), OPP: opps("", "A3,I,50")},
         [("stages", 3, "probability", "", "stage probability is blank", "used 0.5, the P/I/B scheme's probability for I")],
         ("A1", "A2", "A3")),
    Case("custom_stage_probability_text", {"stages": STAGES.replace("I,In evaluation,2,0.5,", "Q,Qualified,2,high,"), OPP: opps("", "A3,Q,50")},
         [("stages", 3, "probability", "high", "'high' is not a probability", "used 0.6, halfway between P (0.2) and won (1)")],
         ("A1", "A2", "A3")),
    Case("comparison_weight_text", {OPP: opps(), "comparison": "factor,weight,Us,Huikang\nPrice,high,4,3\nService,0.5,5,2\n"},
         [("comparison", 2, "weight", "high", "'high' is not a number", "left blank"),
          ("comparison", 2, "weight", "", "weight could not be read (see the issue above)", "factor left out of the comparison"),
          # With Price's weight unreadable, Service's 0.5 is all the weight there is.
          ("comparison", 3, "weight", "0.5", "weights of the general comparison add up to 0.5, not 1", "each weight divided by 0.5")],
         ("A1", "A2")),
    Case("forecast_category_unknown", {OPP: opps("forecast_category", "A3,P,1,Maybe", "A4,P,1,最佳情况")},
         [(OPP, 4, "forecast_category", "Maybe",
           "unknown forecast category 'Maybe' (use Pipeline, Best Case, Commit, Closed, Omitted)", "ignored")],
         ("A1", "A2", "A3", "A4"), {("A3", "category"): "Pipeline", ("A4", "category"): "Best Case"}),
    # ------------------------------------------------ Excel error values in each kind of column
    Case("na_in_amount", {OPP: opps("", "A3,P,#N/A")},
         [(OPP, 4, "amount", "#N/A", "Excel error #N/A instead of an amount", "left blank")], ("A1", "A2", "A3")),
    Case("value_in_close_date", {OPP: opps("close_date", "A3,P,1,#VALUE!")},
         [(OPP, 4, "close_date", "#VALUE!", "Excel error #VALUE! instead of a date", "left blank")], ("A1", "A2", "A3")),
    Case("ref_in_probability", {OPP: opps("probability_override", "A3,P,1,#REF!")},
         [(OPP, 4, "probability_override", "#REF!", "Excel error #REF! instead of a probability", "ignored")], ("A1", "A2", "A3")),
    Case("na_in_flag", {OPP: opps("q_timeline", "A3,P,1,#N/A")},
         [(OPP, 4, "q_timeline", "#N/A", "Excel error #N/A instead of yes/no", "read as no")], ("A1", "A2", "A3")),
    Case("ref_in_stage", {OPP: opps("", "A3,#REF!,1")},
         [(OPP, 4, "stage", "#REF!", "Excel error #REF! instead of text", LEFT_OUT)], ("A1", "A2")),
    Case("na_in_id", {OPP: opps("", "#N/A,P,1")},
         [(OPP, 4, "id", "#N/A", "Excel error #N/A instead of text", LEFT_OUT)], ("A1", "A2")),
    Case("value_in_owner", {OPP: opps("owner", "A3,P,1,#VALUE!")},
         [(OPP, 4, "owner", "#VALUE!", "Excel error #VALUE! instead of text", "left blank")], ("A1", "A2", "A3"),
         {("A3", "owner"): "(none)"}),
    Case("div0_in_forecast_category", {OPP: opps("forecast_category", "A3,P,1,#DIV/0!")},
         [(OPP, 4, "forecast_category", "#DIV/0!", "Excel error #DIV/0! instead of text", "ignored")], ("A1", "A2", "A3")),
    Case("name_in_stage_order", {"stages": STAGES.replace("I,In evaluation,2,", "I,In evaluation,#NAME?,"), OPP: opps()},
         [("stages", 3, "order", "#NAME?", "Excel error #NAME? instead of a number", "used order 2, between the rows around it")],
         ("A1", "A2")),
    Case("na_in_quota", {OPP: opps(), "quotas": "owner,period,quota\nLi,2026-Q1,#N/A\nLi,2026-Q2,500\n"},
         [("quotas", 2, "quota", "#N/A", "Excel error #N/A instead of an amount", LEFT_OUT)], ("A1", "A2")),
    Case("spill_in_history_date", {OPP: opps(), HIST: "opportunity_id,stage,entered\nA1,P,#SPILL!\nA2,W,2026-01-05\n"},
         [(HIST, 2, "entered", "#SPILL!", "Excel error #SPILL! instead of a date", LEFT_OUT)], ("A1", "A2")),
    # ------------------------------------------------ stages
    Case("unknown_stage", {OPP: opps("", "A3,Z,1")},
         [(OPP, 4, "stage", "Z", "unknown stage 'Z' (known: P, I, B, W, L)", LEFT_OUT)], ("A1", "A2")),
    Case("stage_name_instead_of_code", {OPP: opps("", "A3,Won,1")},
         [(OPP, 4, "stage", "WON", "unknown stage 'WON' (known: P, I, B, W, L)", LEFT_OUT)], ("A1", "A2")),
    Case("stage_blank", {OPP: opps("", "A3,,1")},
         [(OPP, 4, "stage", "", "stage is blank", LEFT_OUT)], ("A1", "A2")),
    Case("stage_full_width_and_spaces", {OPP: opps("", "A3,Ｐ,1", "A4, p ,1", "A5,ｗ,1")},
         [], ("A1", "A2", "A3", "A4", "A5"), {("A3", "stage"): "P", ("A4", "stage"): "P", ("A5", "stage"): "W"}),
    Case("stage_code_both_won_and_lost", {"stages": STAGES.replace("L,Lost,4,0,Omitted,no,yes", "L,Lost,4,0,Omitted,yes,yes"),
                                          OPP: opps("", "A3,L,1")},
         [("stages", 5, "is_won", "L", "a stage cannot be both won and lost", "read as lost")], ("A1", "A2", "A3"),
         {("A3", "is_lost"): True}),
    Case("no_won_stage", {"stages": STAGES.replace("W,Won,3,1,Closed,yes,no", "W,Won,3,1,Closed,no,no"), OPP: opps()},
         [("stages", None, "is_won", "", "no stage is marked won, so no deal can count as won", "win rates will be empty")],
         ("A1", "A2")),
    Case("duplicate_stage_code", {"stages": STAGES + "p,Prospect again,5,0.3,Pipeline,no,no\n", OPP: opps()},
         [("stages", 6, "code", "P", "duplicate stage code", "row skipped")], ("A1", "A2")),
    Case("stages_table_empty", {"stages": "code,name,order,probability,forecast_category,is_won,is_lost\n", OPP: opps("", "A3,B,1")},
         [("stages", None, "", "", "the stages table is empty", "used the default P/I/B/W/L scheme")], ("A1", "A2", "A3")),
    # ------------------------------------------------ ids
    Case("blank_id", {OPP: opps("", ",P,1")},
         [(OPP, 4, "id", "", "deal id is blank", LEFT_OUT)], ("A1", "A2")),
    Case("spaces_only_id", {OPP: opps("", "   ,P,1")},
         [(OPP, 4, "id", "", "deal id is blank", LEFT_OUT)], ("A1", "A2")),
    Case("duplicate_id", {OPP: opps("", "A1,I,5")},
         [(OPP, 4, "id", "A1", "duplicate deal id 'A1' (first at row 2)", LEFT_OUT)], ("A1", "A2"),
         {("A1", "stage"): "P"}),
    Case("duplicate_id_with_trailing_space", {OPP: opps("", "A2 ,P,5")},
         [(OPP, 4, "id", "A2", "duplicate deal id 'A2' (first at row 3)", LEFT_OUT)], ("A1", "A2")),
    Case("duplicate_numeric_id", {OPP: [{"id": 1001.0, "stage": "P", "amount": 1}, {"id": "1001", "stage": "W", "amount": 2}]},
         [(OPP, 3, "id", "1001", "duplicate deal id '1001' (first at row 2)", LEFT_OUT)], ("1001",)),
    # ------------------------------------------------ dates
    Case("dates_in_many_formats", {OPP: opps("created", "A3,P,1,3/1/2026", "A4,P,1,1.3.2026", "A5,P,1,2026年3月1日",
                                             "A6,P,1,2026-03-01T10:00:00Z", "A7,P,1,1-Mar-26", "A8,P,1,46082",
                                             "A9,P,1,Mar 1 2026", "A10,P,1,2026/3/1 9:30")},
         # 3/1/2026 could be either way round and nothing in the column tells: said once.
         [(OPP, 4, "created", "3/1/2026", "no date in the column tells whether 3/1/2026 is 1 Mar 2026 or 3 Jan 2026; "
           "read month-first (as US tools write them)", "read month-first; set date_order to DMY if you meant 3 Jan 2026")],
         ("A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9", "A10"),
         {(f"A{i}", "created"): D(2026, 3, 1) for i in range(3, 11)}),
    Case("dates_typed_as_datetimes", {OPP: [{"id": "A1", "stage": "P", "amount": 1, "close_date": D(2026, 3, 1, 17, 30)},
                                            {"id": "A2", "stage": "P", "amount": 1, "close_date": 46082}]},
         [], ("A1", "A2"), {("A1", "close_date"): D(2026, 3, 1), ("A2", "close_date"): D(2026, 3, 1)}),
    Case("impossible_date", {OPP: opps("close_date", "A3,P,1,2026-02-30")},
         [(OPP, 4, "close_date", "2026-02-30", "'2026-02-30' is not a real date", "left blank")], ("A1", "A2", "A3")),
    # 13/1/2026 can only be day-first: the column is read that way (it used to be refused).
    Case("day_first_date_with_slashes", {OPP: opps("close_date", "A3,P,1,13/1/2026")}, [], ("A1", "A2", "A3"),
         {("A3", "close_date"): D(2026, 1, 13)}),
    Case("ambiguous_date_read_day_first_as_the_column_shows", {OPP: opps("close_date", "A3,P,1,05/12/2026", "A4,P,1,15/12/2026")},
         [(OPP, 4, "close_date", "05/12/2026", "dates read day-first (05/12/2026 = 5 Dec 2026), as 15/12/2026 in row 5 shows",
           "read day-first; set date_order to change")],
         ("A1", "A2", "A3", "A4"), {("A3", "close_date"): D(2026, 12, 5), ("A4", "close_date"): D(2026, 12, 15)}),
    Case("ambiguous_date_read_month_first_as_the_column_shows", {OPP: opps("close_date", "A3,P,1,05/12/2026", "A4,P,1,12/15/2026")},
         [(OPP, 4, "close_date", "05/12/2026", "dates read month-first (05/12/2026 = 12 May 2026), as 12/15/2026 in row 5 shows",
           "read month-first; set date_order to change")],
         ("A1", "A2", "A3", "A4"), {("A3", "close_date"): D(2026, 5, 12)}),
    Case("ambiguous_date_alone_in_an_english_book", {OPP: opps("close_date", "A3,P,1,05/12/2026")},
         [(OPP, 4, "close_date", "05/12/2026", "no date in the column tells whether 05/12/2026 is 12 May 2026 or 5 Dec 2026; "
           "read month-first (as US tools write them)", "read month-first; set date_order to DMY if you meant 5 Dec 2026")],
         ("A1", "A2", "A3"), {("A3", "close_date"): D(2026, 5, 12)}),
    Case("ambiguous_date_alone_in_a_chinese_book", {OPP: opps("close_date", "A3,P,1,05/12/2026"), "settings": "key,value\nlanguage,zh-CN\n"},
         [(OPP, 4, "close_date", "05/12/2026", "no date in the column tells whether 05/12/2026 is 5 Dec 2026 or 12 May 2026; "
           "read day-first (the default for Chinese workbooks)", "read day-first; set date_order to MDY if you meant 12 May 2026")],
         ("A1", "A2", "A3"), {("A3", "close_date"): D(2026, 12, 5)}),
    Case("date_order_setting_decides", {OPP: opps("close_date", "A3,P,1,05/12/2026", "A4,P,1,12/15/2026"),
                                        "settings": "key,value\ndate_order,dmy\n"},
         [(OPP, 5, "close_date", "12/15/2026", "'12/15/2026' is not a real date (read as day/month/year)", "left blank")],
         ("A1", "A2", "A3", "A4"), {("A3", "close_date"): D(2026, 12, 5)}),
    Case("date_order_setting_bad", {OPP: opps(), "settings": "key,value\ndate_order,DD/MM\n"},
         [("settings", 2, "value", "DD/MM", "setting 'date_order': Input should be 'auto', 'DMY', 'MDY' or 'YMD'", "used auto")],
         ("A1", "A2")),
    Case("european_dates_and_amounts_in_text_cells", {OPP: opps("close_date", 'A3,P,"4.800,00 €",15.12.2026', 'A4,P,"1.234,50",05.12.2026')},
         [(OPP, 5, "close_date", "05.12.2026", "dates read day-first (05.12.2026 = 5 Dec 2026), as 15.12.2026 in row 4 shows",
           "read day-first; set date_order to change")],
         ("A1", "A2", "A3", "A4"), {("A3", "amount"): 4800.0, ("A3", "close_date"): D(2026, 12, 15), ("A4", "amount"): 1234.5}),
    Case("created_in_the_future", {OPP: opps("created,last_activity", "A3,P,1,2027-01-01,2026-01-05", "A4,P,1,2026-01-05,2027-02-01"),
                                   "settings": "key,value\nas_of,2026-06-30\n"},
         [(OPP, 4, "created", "2027-01-01", "created date is after the as-of date 2026-06-30", "kept; check the date (or as_of in Settings)"),
          (OPP, 5, "last_activity", "2027-02-01", "last activity date is after the as-of date 2026-06-30",
           "kept; check the date (or as_of in Settings)")],
         ("A1", "A2", "A3", "A4")),
    Case("history_entered_in_the_future", {OPP: opps(), HIST: "opportunity_id,stage,entered\nA1,P,2026-01-05\nA2,W,2027-03-01\n",
                                           "settings": "key,value\nas_of,2026-06-30\n"},
         [(HIST, 3, "entered", "2027-03-01", "entered date is after the as-of date 2026-06-30",
           "kept; check the date (or as_of in Settings)")], ("A1", "A2")),
    Case("won_flag_mistyped", {"stages": STAGES.replace("W,Won,3,1,Closed,yes,no", "W,Won,3,1,Closed,oui,no"), OPP: opps()},
         # W is won in the shipped P/I/B scheme: a typo in its flag must not make A2 an open deal.
         [("stages", 4, "is_won", "oui", "'oui' is not yes/no", "read as yes, as for W in the P/I/B scheme")],
         ("A1", "A2"), {("A2", "is_won"): True}),
    Case("open_deal_without_an_amount", {OPP: opps("", "A3,P,", "A4,W,", "A5,P,n/a")},
         # A3 is open and blank: said. A4 is won (no amount is a record gap, not a pipeline hole);
         # A5's amount was unreadable and is reported once, as such.
         [(OPP, 4, "amount", "", "open deal has no amount", "counted as a deal; adds 0 to the pipeline"),
          (OPP, 6, "amount", "n/a", "'n/a' is not an amount", "left blank")],
         ("A1", "A2", "A3", "A4", "A5")),
    Case("never_date_9999", {OPP: opps("close_date", "A3,P,1,9999-12-31")},
         [(OPP, 4, "close_date", "9999-12-31", "'9999-12-31' is outside the years 1900-2199", "left blank")],
         ("A1", "A2", "A3"), {("A3", "period"): "no close date"}),
    Case("serial_beyond_2262", {OPP: [{"id": "A1", "stage": "P", "amount": 1, "close_date": 132321}]},
         [(OPP, 2, "close_date", "132321", "'132321' is outside the years 1900-2199", "left blank")], ("A1",)),
    Case("close_before_created", {OPP: opps("created,close_date", "A3,P,1,2026-03-01,2026-01-01")},
         [(OPP, 4, "close_date", "2026-01-01", "close date is before the created date 2026-03-01", "kept; check the dates")],
         ("A1", "A2", "A3")),
    # ------------------------------------------------ amounts
    Case("negative_amount", {OPP: opps("", "A3,P,-5")},
         [(OPP, 4, "amount", "-5.0", "amount is negative", "left blank")], ("A1", "A2", "A3")),
    Case("accounting_negative_amount", {OPP: opps("", "A3,P,($500)")},
         [(OPP, 4, "amount", "-500.0", "amount is negative", "left blank")], ("A1", "A2", "A3")),
    Case("huge_amount", {OPP: opps("", "A3,P,1000000000000")},
         [(OPP, 4, "amount", "1000000000000.0", "amount is larger than 100,000,000,000", "left blank")], ("A1", "A2", "A3")),
    Case("amounts_as_tools_write_them", {OPP: opps("", 'A3,P,"$4,800.00"', 'A4,P,"1.234,50"', 'A5,P,"¥12,000"',
                                                   "A6,P,12000 USD", "A7,P,", "A8,P,(0)")},
         [(OPP, 8, "amount", "", "open deal has no amount", "counted as a deal; adds 0 to the pipeline")],
         ("A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8"),
         {("A3", "amount"): 4800.0, ("A4", "amount"): 1234.5, ("A5", "amount"): 12000.0, ("A6", "amount"): 12000.0,
          ("A7", "amount_band"): "no amount", ("A8", "amount"): 0.0}),
    # ------------------------------------------------ headers: a missing required column is refused (nothing is
    # computed, the message names the fix); --force computes what it can, the refusal an issue row.
    Case("missing_stage_column", {OPP: "id,amount\nA1,100\n"},
         [(OPP, None, "stage", "", "the opportunities table has no column stage: add a column headed stage", "table not used")], (),
         refused="the opportunities table has no column stage: add a column headed stage"),
    Case("missing_amount_column", {OPP: "id,stage\nA1,P\n"},
         [(OPP, None, "amount", "", "the opportunities table has no column amount: add a column headed amount", "table not used")], (),
         refused="the opportunities table has no column amount: add a column headed amount"),
    Case("missing_id_and_stage", {OPP: "amount\n100\n"},
         [(OPP, None, "id", "", "the opportunities table has no column id: add a column headed id", "table not used"),
          (OPP, None, "stage", "", "the opportunities table has no column stage: add a column headed stage", "table not used")], (),
         refused="the opportunities table has no column id: add a column headed id; "
                 "the opportunities table has no column stage: add a column headed stage"),
    Case("extra_column", {OPP: "id,stage,amount,Region\nA1,P,100,East\n"},
         [(OPP, None, "Region", "", "unknown column(s)", "ignored; check the header spelling")], ("A1",)),
    Case("renamed_header", {OPP: "id,Stage Name,amount\nA1,P,100\n"},
         [(OPP, None, "Stage Name", "", "unknown column(s)", "ignored; check the header spelling"),
          (OPP, None, "stage", "Stage Name", "the opportunities table has no column stage (found Stage Name): rename it stage",
           "table not used")], (),
         refused="the opportunities table has no column stage (found Stage Name): rename it stage"),
    Case("amount_header_misspelt", {OPP: "id,stage,amout\nA1,P,100\n"},
         [(OPP, None, "amout", "", "unknown column(s)", "ignored; check the header spelling"),
          (OPP, None, "amount", "amout", "the opportunities table has no column amount (found amout): rename it amount",
           "table not used")], (),
         refused="the opportunities table has no column amount (found amout): rename it amount"),
    Case("capitalised_header", {OPP: "ID,Stage,Amount\nA1,P,100\n"}, [], ("A1",)),
    Case("header_with_other_spacing", {OPP: "id,stage,amount,Close-Date\nA1,P,100,2026-03-01\n"},
         [(OPP, None, "close_date", "Close-Date", "column 'Close-Date' read as close_date", "read; rename it close_date to silence this")],
         ("A1",), {("A1", "close_date"): D(2026, 3, 1)}),
    Case("history_without_entered_column", {OPP: opps(), HIST: "opportunity_id,stage,date\nA1,P,2026-01-01\n"},
         [(HIST, None, "date", "", "unknown column(s)", "ignored; check the header spelling"),
          (HIST, None, "entered", "", "the stage_history table has no column entered (headers not recognised: date): "
           "rename the one that holds it entered", "table not used")], ("A1", "A2"),
         refused="the stage_history table has no column entered (headers not recognised: date): rename the one that holds it entered"),
    # ------------------------------------------------ empty tables
    Case("opportunities_header_only", {OPP: "id,stage,amount\n"},
         [(OPP, None, "", "", "the opportunities table has no rows", "no deals to analyse")], ()),
    Case("opportunities_missing", {"stages": STAGES},
         [(OPP, None, "", "", "the opportunities table is missing: give the deals (opportunities.csv in a folder of CSVs)",
           "no deals to analyse")], (),
         refused="the opportunities table is missing: give the deals (opportunities.csv in a folder of CSVs)"),
    Case("no_deal_can_be_used", {OPP: "id,stage,amount\nA1,K1,100\nA2,K2,5\n"},
         [(OPP, 2, "stage", "K1", "unknown stage 'K1' (known: P, I, B, W, L)", LEFT_OUT),
          (OPP, 3, "stage", "K2", "unknown stage 'K2' (known: P, I, B, W, L)", LEFT_OUT),
          (OPP, None, "", "", "none of the 2 deals in the opportunities table can be used (row 2: unknown stage 'K1' "
           "(known: P, I, B, W, L)): correct those cells, or the stage scheme if the stage codes are right", "no deals to analyse")], (),
         refused="none of the 2 deals in the opportunities table can be used (row 2: unknown stage 'K1' (known: P, I, B, W, L)): "
                 "correct those cells, or the stage scheme if the stage codes are right"),
    Case("trailing_blank_rows", {OPP: opps("owner", ",,,", " , , , ")}, [], ("A1", "A2")),
    Case("empty_history_and_quotas", {OPP: opps(), HIST: "opportunity_id,stage,entered\n", "quotas": "owner,period,quota\n"},
         [], ("A1", "A2")),
    # ------------------------------------------------ stage history
    Case("history_step_back_listed_out_of_order", {OPP: opps("", "A3,I,1"),
                                                   HIST: "opportunity_id,stage,entered\nA3,P,2026-03-01\nA3,I,2026-02-01\n"},
         [(HIST, 2, "stage", "P", "deal A3 moved back to P on 2026-03-01 after I", "kept; counted as a step back")],
         ("A1", "A2", "A3")),
    Case("history_after_close", {OPP: opps(), HIST: "opportunity_id,stage,entered\nA2,W,2026-01-01\nA2,L,2026-02-01\n"},
         [(HIST, 3, "stage", "L", "deal A2 entered L after it was closed (W)", "kept; check the history")], ("A1", "A2")),
    Case("history_unknown_deal", {OPP: opps(), HIST: "opportunity_id,stage,entered\nZZ9,P,2026-01-01\n"},
         [(HIST, 2, "opportunity_id", "ZZ9", "history for a deal that is not in the opportunities table", LEFT_OUT)],
         ("A1", "A2")),
    Case("history_of_a_left_out_deal", {OPP: opps("", "A3,Z,1"), HIST: "opportunity_id,stage,entered\nA3,P,2026-01-01\n"},
         [(OPP, 4, "stage", "Z", "unknown stage 'Z' (known: P, I, B, W, L)", LEFT_OUT),
          (HIST, 2, "opportunity_id", "A3", "history for a deal that was left out of the opportunities table (see its issue)",
           LEFT_OUT)], ("A1", "A2")),
    Case("history_unknown_stage", {OPP: opps(), HIST: "opportunity_id,stage,entered\nA1,Q,2026-01-01\n"},
         [(HIST, 2, "stage", "Q", "unknown stage in history", LEFT_OUT)], ("A1", "A2")),
    Case("history_blank_and_bad_dates", {OPP: opps(), HIST: "opportunity_id,stage,entered\nA1,P,\nA1,P,someday\n,P,2026-01-01\n"},
         [(HIST, 2, "entered", "", "entered is blank", LEFT_OUT),
          (HIST, 3, "entered", "someday", "'someday' is not a date (use YYYY-MM-DD)", LEFT_OUT),
          (HIST, 4, "opportunity_id", "", "opportunity id is blank", LEFT_OUT)], ("A1", "A2")),
    # ------------------------------------------------ settings
    Case("setting_unknown_key", {OPP: opps(), "settings": "key,value\ncolour,blue\n"},
         [("settings", 2, "key", "colour", "unknown setting 'colour'", "ignored")], ("A1", "A2")),
    Case("setting_key_misspelt", {OPP: opps(), "settings": "key,value\nprior_strenght,0\n"},
         [("settings", 2, "key", "prior_strenght", "unknown setting 'prior_strenght' (did you mean prior_strength?)",
           "ignored; rename it prior_strength to use it")], ("A1", "A2")),
    Case("setting_bad_period", {OPP: opps(), "settings": "key,value\nperiod,week\n"},
         [("settings", 2, "value", "week", "setting 'period': Input should be 'month' or 'quarter'", "used quarter")], ("A1", "A2")),
    Case("setting_bad_as_of", {OPP: opps(), "settings": "key,value\nas_of,yesterday\n"},
         [("settings", 2, "value", "yesterday", "setting 'as_of': Input should be a valid date or datetime, input is too short",
           "used {today}")], ("A1", "A2")),
    Case("setting_negative_prior", {OPP: opps(), "settings": "key,value\nprior_strength,-3\n"},
         [("settings", 2, "value", "-3", "setting 'prior_strength': Input should be greater than or equal to 0", "used 10.0")],
         ("A1", "A2")),
    Case("setting_unknown_method", {OPP: opps(), "settings": "key,value\nprobability_method,magic\n"},
         [("settings", 2, "value", "magic",
           "setting 'probability_method': Input should be 'configured', 'empirical' or 'blended'", "used blended")],
         ("A1", "A2")),
    Case("settings_without_value_column", {OPP: opps(), "settings": "key,setting\nperiod,month\n"},
         [("settings", None, "value", "", "the settings table has no column value (headers not recognised: setting): "
           "rename the one that holds it value", "table not used"),
          ("settings", None, "setting", "", "unknown column(s)", "ignored; check the header spelling")], ("A1", "A2"),
         refused="the settings table has no column value (headers not recognised: setting): rename the one that holds it value"),
    # ------------------------------------------------ quotas
    Case("quota_period_unreadable", {OPP: opps(), "quotas": "owner,period,quota\nLi,next year,500\n"},
         [("quotas", 2, "period", "next year", "period 'next year' cannot be read (write it like 2026-Q1)", LEFT_OUT)],
         ("A1", "A2")),
    Case("quota_month_in_a_quarterly_book", {OPP: opps(), "quotas": "owner,period,quota\nLi,2026-03,500\n"},
         [("quotas", 2, "period", "2026-03", "period '2026-03' is a month but the workbook forecasts by quarter", LEFT_OUT)],
         ("A1", "A2")),
    Case("quota_period_error_value", {OPP: opps(), "quotas": "owner,period,quota\nLi,#N/A,500\n"},
         [("quotas", 2, "period", "#N/A", "Excel error #N/A instead of text", LEFT_OUT)], ("A1", "A2")),
    Case("quota_negative", {OPP: opps(), "quotas": "owner,period,quota\nLi,2026-Q1,-500\n"},
         [("quotas", 2, "quota", "-500.0", "quota is negative", LEFT_OUT)], ("A1", "A2")),
    Case("quota_nobody", {OPP: opps(), "quotas": "owner,team,period,quota\n,,2026-Q1,500\n"},
         [("quotas", 2, "owner", "", "quota has neither an owner nor a team", LEFT_OUT)], ("A1", "A2")),
    Case("quota_blank", {OPP: opps(), "quotas": "owner,period,quota\nLi,2026-Q1,\n"},
         [("quotas", 2, "quota", "", "quota is blank", LEFT_OUT)], ("A1", "A2")),
    Case("quota_periods_as_people_write_them", {OPP: opps(), "quotas": "owner,period,quota\nLi,Q1 2026,1\nLi,2026年第2季度,1\n"
                                                                         "Li,FY2026 Q3,1\nLi,2026q4,1\n"},
         [], ("A1", "A2")),
]


EXPORT_CASES: list[ExportCase] = [
    ExportCase("salesforce_custom_stage_and_bad_cells", "salesforce_custom_stage.csv", [
        ("salesforce_custom_stage.csv", 3, "Stage", "On Hold", "stage 'On Hold' is not in the salesforce layout's stage list",
         "row not imported; map the stage in a layout file"),
        ("salesforce_custom_stage.csv", 4, "Amount", "TBD", "'TBD' is not an amount", "left blank"),
        ("salesforce_custom_stage.csv", 4, "Close Date", "2/30/2026", "'2/30/2026' is not a real date (read as month/day/year)",
         "left blank"),
        ("salesforce_custom_stage.csv", 5, "Probability (%)", "170", "probability 170 is outside 0..100", "ignored"),
        ("salesforce_custom_stage.csv", 6, "Opportunity ID", "", "deal id is blank", "row not imported"),
        ("salesforce_custom_stage.csv", 9, "", "Confidential Information - Do Not Distribute",
         "3 line(s) after the data look like a report footer", "skipped"),
    ], deals=("006A1", "006A3", "006A4", "006A7")),
    ExportCase("hubspot_other_pipeline", "hubspot_other_pipeline.csv", [
        ("hubspot_other_pipeline.csv", 3, "Deal Stage", "1234567", "stage '1234567' is not in the hubspot layout's stage list",
         "row not imported; map the stage in a layout file"),
        ("hubspot_other_pipeline.csv", 4, "Deal Stage", "", "stage is blank", "row not imported"),
        ("hubspot_other_pipeline.csv", 5, "Record ID", "501", "duplicate deal id '501' (first at line 2)", "row not imported"),
    ], deals=("501", "504")),
    ExportCase("unquoted_comma_in_amount", "canonical_spilled_row.csv", [
        ("canonical_spilled_row.csv", 3, "", "", "the row has 4 values but the header has 3 columns (an unquoted comma in a value?)",
         "row not imported"),
    ], deals=("D1", "D3")),
    ExportCase("canonical_header_only", "canonical_header_only.csv", [], deals=()),
    # A European org's Salesforce export: the layout's month-first dates and decimal point
    # are what Salesforce usually writes, but these cells say otherwise, and are read so.
    ExportCase("salesforce_european_dates_and_amounts", "salesforce_european.csv", [
        ("salesforce_european.csv", 3, "Close Date", "05.12.2026",
         "dates read day-first (05.12.2026 = 5 Dec 2026), as 15.12.2026 in row 2 shows, not month-first as the layout says",
         "read day-first; set date_order to change"),
    ], deals=("006E1", "006E2", "006E3"),
        values={("006E1", "amount"): 4800.0, ("006E2", "amount"): 1234.5, ("006E3", "amount"): 12000.0,
                ("006E1", "close_date"): D(2026, 12, 15), ("006E2", "close_date"): D(2026, 12, 5)}),
    ExportCase("no_known_headers", "no_known_headers.csv",
               error="cannot tell which CRM no_known_headers.csv comes from: no layout finds both a deal id and a stage "
                     "column among its headers (Kunde, Betrag, Phase); pass a layout file that maps them"),
    ExportCase("empty_file", "empty.csv",
               error="cannot tell which CRM empty.csv comes from: no layout finds both a deal id and a stage column among "
                     "its headers (none); pass a layout file that maps them"),
    ExportCase("zip_posing_as_csv", "zip_posing_as_csv.csv",
               error="zip_posing_as_csv.csv is an Excel workbook or zip file, not CSV: save it as CSV (UTF-8) and import that"),
]
