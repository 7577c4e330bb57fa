"""The data contract: every canonical table, its columns and their kinds, declared once.

The workbook, the UDFs, the importers and the engine all speak these snake_case names.
A table's DataFrame index is the row number the user sees (the sheet row in a workbook,
the line in a CSV), so every problem found later can point back at it.

Column kinds (what validation coerces a cell to):
    text    free text, stripped; blank becomes missing
    code    short code (stage code, enumeration): stripped, full-width folded, upper-cased
            only where the table says so
    money   number >= 0 ("$4,800.00" style text is not accepted here: importers clean it)
    number  any number
    prob    number in 0..1
    date    a date (datetime64, time of day dropped)
    flag    yes/no; blank means no
    int     whole number
"""

from __future__ import annotations

from dataclasses import dataclass

from funnel import catalog

__all__ = [
    "Column",
    "TABLES",
    "INPUT_TABLES",
    "OPTIONAL_TABLES",
    "QUALIFICATION_5W2P",
    "QUALIFICATION_6W2P",
    "MAN_FLAGS",
    "FORECAST_CATEGORIES",
    "CALL_CATEGORIES",
    "GO_NO_GO_FLAGS",
    "columns_of",
    "required_columns",
]


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    name: str
    kind: str
    required: bool = False  # the header must be present
    not_blank: bool = False  # every row needs a value


FORECAST_CATEGORIES = ("Pipeline", "Best Case", "Commit", "Closed", "Omitted")
# What a forecast call may be (closed and omitted are no calls).
CALL_CATEGORIES = ("Commit", "Best Case", "Pipeline")


def forecast_category_words(language: str) -> dict[str, str]:
    """Each forecast category and how a book in ``language`` writes it (Best Case -> 最佳情况)."""
    return {category: catalog.text("category." + category.lower().replace(" ", "_"), language)
            for category in FORECAST_CATEGORIES}

# 5W+2P are the first seven; 6W+2P adds "why us".
QUALIFICATION_5W2P = (
    "q_why_need",
    "q_budget",
    "q_decision_maker",
    "q_decision_process",
    "q_decision_criteria",
    "q_timeline",
    "q_competition",
)
QUALIFICATION_6W2P = QUALIFICATION_5W2P + ("q_why_us",)
MAN_FLAGS = ("man_money", "man_authority", "man_need")
# The four go/no-go questions: is there an opportunity, do we have a solution,
# can we win, is it worth winning.
GO_NO_GO_FLAGS = ("go_real", "go_solution", "go_win", "go_worth")

TABLES: dict[str, tuple[Column, ...]] = {
    "opportunities": (
        Column("id", "text", required=True, not_blank=True),
        Column("account", "text"),
        Column("name", "text"),
        Column("owner", "text"),
        Column("team", "text"),
        Column("stage", "code", required=True, not_blank=True),
        Column("amount", "money", required=True),
        Column("created", "date"),
        Column("close_date", "date"),
        Column("probability_override", "prob"),
        Column("forecast_category", "category"),
        Column("source", "text"),
        Column("product", "text"),
        Column("industry", "text"),
        Column("competitors", "text"),
        Column("next_step", "text"),
        Column("last_activity", "date"),
        Column("lost_reason", "text"),
        *(Column(q, "flag") for q in QUALIFICATION_6W2P),
        *(Column(m, "flag") for m in MAN_FLAGS),
        *(Column(g, "flag") for g in GO_NO_GO_FLAGS),
    ),
    "stage_history": (
        Column("opportunity_id", "text", required=True, not_blank=True),
        Column("stage", "code", required=True, not_blank=True),
        Column("entered", "date", required=True, not_blank=True),
    ),
    "stages": (
        Column("code", "code", required=True, not_blank=True),
        Column("name", "text"),
        Column("order", "int", required=True, not_blank=True),
        Column("probability", "prob", required=True, not_blank=True),
        Column("forecast_category", "category", required=True),
        Column("is_won", "flag", required=True),
        Column("is_lost", "flag", required=True),
        Column("entry_criteria", "text"),
    ),
    "settings": (
        Column("key", "text", required=True, not_blank=True),
        Column("value", "text", required=True),
        Column("description", "text"),
    ),
    "quotas": (
        Column("owner", "text"),
        Column("team", "text"),
        Column("period", "text", required=True, not_blank=True),
        Column("quota", "money", required=True, not_blank=True),
    ),
    # Competition and the decision chain (issue: competition tables).
    "competitors": (
        Column("competitor", "text", required=True, not_blank=True),
        Column("strengths", "text"),
        Column("weaknesses", "text"),
        Column("notes", "text"),
    ),
    # tblComparison is wide: factor, weight, optional opportunity_id, then one score
    # column per vendor whose header is the vendor's name. Only the fixed part is here.
    "comparison": (
        Column("opportunity_id", "text"),
        Column("factor", "text", required=True, not_blank=True),
        Column("weight", "number", required=True),
    ),
    "stakeholders": (
        Column("opportunity_id", "text", required=True, not_blank=True),
        Column("name", "text", required=True, not_blank=True),
        Column("title", "text"),
        Column("role", "code"),
        Column("attitude", "code"),
        Column("relationship", "code"),
        Column("style", "code"),
    ),
    # Forecast calls and the reports-to hierarchy (optional: without them the roll-up is empty).
    "forecast_calls": (
        Column("period", "text", required=True, not_blank=True),
        Column("owner", "text", required=True, not_blank=True),
        Column("category", "category", required=True, not_blank=True),
        Column("amount", "money", required=True, not_blank=True),
        Column("submitted_on", "date"),
        Column("note", "text"),
    ),
    "people": (
        Column("person", "text", required=True, not_blank=True),
        Column("manager", "text"),
    ),
}

# Tables a book may lack without a word: they came later, and a book without them works as before.
OPTIONAL_TABLES = ("forecast_calls", "people")

INPUT_TABLES = tuple(TABLES)


def columns_of(table: str) -> tuple[str, ...]:
    """The canonical column names of a table, in order."""
    return tuple(c.name for c in TABLES[table])


def required_columns(table: str) -> tuple[str, ...]:
    """The columns whose header must be present for the table to be read at all."""
    return tuple(c.name for c in TABLES[table] if c.required)
