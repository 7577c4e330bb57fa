"""Reading and validating the inputs: the data contract, the values people type, settings.

Everything a refresh reads passes through here once, at the boundary: ``validate`` takes
the raw tables (contract column names, index = the row the user sees) and returns typed
tables (``Inputs``) plus one issues table, so nothing downstream parses a cell again.

    contract    every canonical table, its columns and their kinds
    parsing     amounts, dates, yes/no and percents as people type them
    settings    the Settings table, checked with pydantic
    schemes     the stage schemes (P/I/B and the shipped presets)
    periods     forecast periods: months or fiscal quarters
    issues      the issues log: table, row, column, value, problem, action
    refusals    missing or unusable tables and columns: nothing is computed from them
    headers     which column a header people typed stands for
    validation  raw tables -> Inputs
    csvsource   a folder of CSVs as raw tables
"""

from funnel.inputs.contract import (
    FORECAST_CATEGORIES,
    GO_NO_GO_FLAGS,
    INPUT_TABLES,
    MAN_FLAGS,
    QUALIFICATION_5W2P,
    QUALIFICATION_6W2P,
    TABLES,
    Column,
    columns_of,
    required_columns,
)
from funnel.inputs.csvsource import read_csv_folder, write_csv_folder
from funnel.inputs.headers import closest, exact_key, loose_key, match_headers
from funnel.inputs.issues import ISSUE_COLUMNS, IssueLog, already_reported, blank_or_unread
from funnel.inputs.parsing import (
    DATE_ORDERS,
    EXCEL_EPOCH,
    EXCEL_ERRORS,
    DateReading,
    ParseError,
    date_reading,
    fold,
    parse_amount,
    parse_date,
    parse_flag,
    parse_probability,
    probability_outside_message,
)
from funnel.inputs.periods import NO_CLOSE_DATE, normalize_period_label, period_labels, period_of, period_start
from funnel.inputs.refusals import RefreshRefused, Refusal
from funnel.inputs.schemes import PRESETS, default_stages, open_stages, preset_stages, stage_positions
from funnel.inputs.settings import (
    Settings,
    apply_overrides,
    nearest_setting,
    parse_column_names,
    settings_from_table,
    settings_table,
)
from funnel.inputs.validation import Inputs, coerce_column, validate

__all__ = [
    "Column",
    "TABLES",
    "INPUT_TABLES",
    "QUALIFICATION_5W2P",
    "QUALIFICATION_6W2P",
    "MAN_FLAGS",
    "FORECAST_CATEGORIES",
    "GO_NO_GO_FLAGS",
    "columns_of",
    "required_columns",
    "read_csv_folder",
    "write_csv_folder",
    "closest",
    "exact_key",
    "loose_key",
    "match_headers",
    "Refusal",
    "RefreshRefused",
    "DATE_ORDERS",
    "DateReading",
    "date_reading",
    "nearest_setting",
    "parse_column_names",
    "ISSUE_COLUMNS",
    "IssueLog",
    "already_reported",
    "blank_or_unread",
    "ParseError",
    "EXCEL_ERRORS",
    "EXCEL_EPOCH",
    "fold",
    "parse_amount",
    "parse_date",
    "parse_flag",
    "parse_probability",
    "probability_outside_message",
    "NO_CLOSE_DATE",
    "period_labels",
    "period_of",
    "normalize_period_label",
    "period_start",
    "PRESETS",
    "preset_stages",
    "default_stages",
    "open_stages",
    "stage_positions",
    "Settings",
    "settings_from_table",
    "settings_table",
    "apply_overrides",
    "Inputs",
    "validate",
    "coerce_column",
]
