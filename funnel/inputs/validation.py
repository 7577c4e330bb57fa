"""Checking every input table at the boundary, lazily and vectorized.

``validate`` takes the raw tables (canonical column names, index = the row the user sees)
and returns typed, clean tables plus one issues table. A bad cell never stops the work:
it is reported with what was done about it, and the valid rows flow on. pandas does the
bulk of each column at once; the cell-by-cell parsers in ``funnel.inputs.parsing`` see only
the cells pandas could not read.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from funnel import catalog
from funnel.inputs import parsing
from funnel.inputs.contract import CALL_CATEGORIES, FORECAST_CATEGORIES, TABLES, Column, columns_of, required_columns
from funnel.inputs.headers import closest, match_headers
from funnel.inputs.issues import IssueLog, already_reported, each, words
from funnel.inputs.keys import KEY_COLUMNS, encode_keys, positions
from funnel.inputs.refusals import Refusal
from funnel.inputs.schemes import default_stages, stage_positions
from funnel.inputs.settings import Settings, apply_overrides, settings_from_table

__all__ = ["Inputs", "validate", "validate_stages", "coerce_column"]


@dataclass
class Inputs:
    """Validated inputs: typed tables the engine can trust, plus what was wrong."""

    settings: Settings
    stages: pd.DataFrame
    opportunities: pd.DataFrame
    stage_history: pd.DataFrame
    quotas: pd.DataFrame
    competitors: pd.DataFrame
    comparison: pd.DataFrame
    stakeholders: pd.DataFrame
    forecast_calls: pd.DataFrame = field(default_factory=lambda: _empty_table("forecast_calls"))
    people: pd.DataFrame = field(default_factory=lambda: _empty_table("people"))
    log: IssueLog = field(default_factory=IssueLog)

    @property
    def issues(self) -> pd.DataFrame:
        """The issues table, in the book's language."""
        return self.log.table(self.settings.language)

    @property
    def refusals(self) -> list[Refusal]:
        """Required tables or columns missing or unusable: nothing should be computed from these inputs."""
        return self.log.refusals


_CATEGORY_ALIASES = {c.lower(): c for c in FORECAST_CATEGORIES} | {
    "best": "Best Case",
    "bestcase": "Best Case",
    "best_case": "Best Case",
    "管道": "Pipeline",
    "渠道": "Pipeline",
    "最佳": "Best Case",
    "最佳情况": "Best Case",
    "承诺": "Commit",
    "已关闭": "Closed",
    "关闭": "Closed",
    "忽略": "Omitted",
    "排除": "Omitted",
}


def _per_value(series: pd.Series, fn: Callable[[pd.Series], tuple]) -> list[np.ndarray]:
    """Apply ``fn`` once per distinct non-missing value and spread its outputs back.

    Big tables repeat a few owners, stages and deal ids many times: working on the
    distinct values keeps string handling off the hot path. ``fn`` returns one
    ``(values per distinct value, value for missing)`` pair per output; an empty list of
    values means every row gets the missing value.
    """
    codes, uniques = _factorized(series)
    return _spread(codes, fn(pd.Series(uniques, dtype=object)))


def _with(why: pd.Series, where, values: list) -> pd.Series:
    """``why`` with ``values`` at the rows of the boolean mask ``where``. Set in numpy: a
    pandas setitem may turn the texts into plain str, dropping what a catalog.Said keeps
    (its words in the other language)."""
    out = why.to_numpy(dtype=object, copy=True)
    mask = np.asarray(where, dtype=bool)
    if mask.any():
        put = np.empty(int(mask.sum()), dtype=object)
        put[:] = values
        out[mask] = put
    return pd.Series(out, index=why.index, dtype=object)


def _spread(codes: np.ndarray, outputs) -> list[np.ndarray]:
    # Each output's value per distinct value, gathered to the rows by their codes.
    spread = []
    for out, missing in outputs:
        out = np.asarray(out, dtype=object)
        if len(out) == 0 or not (out != missing).any():
            # The usual case for problem columns (nothing wrong): no 1M-row gather needed.
            spread.append(np.full(len(codes), missing, dtype=object))
            continue
        # Code -1 (missing) picks the appended last element: one gather, no second pass.
        spread.append(np.append(out, np.array([missing], dtype=object))[codes])
    return spread


def _factorized(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct non-missing values as objects) of one column; code -1 is missing.

    Text read by pandas is Arrow-backed: it is dictionary-encoded where it lies, not
    first copied out as a million Python strings and hashed again.
    """
    if isinstance(series.dtype, pd.StringDtype):
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    else:
        codes, uniques = pd.factorize(series.astype("object"), use_na_sentinel=True)
    return np.asarray(codes, dtype=np.intp), np.asarray(uniques, dtype=object)


def _as_text(value: object) -> str:
    # Whole numbers typed in a text column (ids such as 1001) arrive from Excel as 1001.0.
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _blank(series: pd.Series) -> pd.Series:
    """Missing, or text that is only spaces."""
    if not (series.dtype == object or pd.api.types.is_string_dtype(series)):
        return series.isna()
    (blank,) = _per_value(series, lambda u: [([isinstance(v, str) and not v.strip() for v in u.tolist()], True)])
    return pd.Series(blank.astype(bool), index=series.index)


def _blank_where(series: pd.Series, where: pd.Series, blank: bool = True) -> pd.Series:
    """``where & (_blank(series) == blank)``, looking only at the rows in ``where``.

    The rows asked about are few (values that did not read); a whole 100k-row column of
    distinct ids need not be hashed to find them.
    """
    out = pd.Series(False, index=where.index)
    if where.any():
        out[where] = _blank(series[where.to_numpy(dtype=bool)]).to_numpy() == blank
    return out


def _text_of_uniques(u: pd.Series, code: bool):
    values = u.tolist()
    if set(map(type, values)) <= {str}:
        # The usual book: text only. Whole-list string methods run in C; only a "#" can
        # start an Excel error, and ASCII needs no full-width folding.
        text = list(map(str.strip, values))
        folded = not code
        if code and "".join(text).isascii():
            text = list(map(str.upper, text))
            folded = True
        if folded and "#" not in "".join(text):
            cleaned = [t or None for t in text] if "" in text else text
            return [(cleaned, None), ([], False), ([], "")]  # no value is an Excel error
    # A plain loop over the distinct values: cheaper than a chain of pandas string methods.
    errors_known = parsing.EXCEL_ERRORS
    cleaned, errors, why = [], [], []
    for value in values:
        text = (value if type(value) is str else _as_text(value)).strip()
        if code:
            # Full-width letters and stray spaces are common from Chinese input methods.
            text = parsing.fold(text).upper()
        upper = text.upper()
        if upper in errors_known:
            cleaned.append(None)
            errors.append(True)
            why.append(catalog.said("parse.text.excel_error", error=upper))
        else:
            cleaned.append(text if text != "" else None)
            errors.append(False)
            why.append("")
    return [(cleaned, None), (errors, False), (why, "")]


def _coerce_text(series: pd.Series, code: bool = False, as_key: bool = False) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Text (or, with ``code``, a code) per cell; ``as_key``: as a categorical column whose
    categories are the distinct texts in text order, from the one factorize done here."""
    codes, uniques = _factorized(series)
    (cleaned, _), *problems = _text_of_uniques(pd.Series(uniques, dtype=object), code)
    bad, why = _spread(codes, problems)
    index = series.index
    if as_key:
        text = pd.Series(_key_codes(codes, cleaned), index=index)
    else:
        (spread,) = _spread(codes, [(cleaned, None)])
        text = pd.Series(spread, index=index, dtype="object")
    return text, pd.Series(bad.astype(bool), index=index), pd.Series(why, index=index, dtype="object")


def _key_codes(codes: np.ndarray, cleaned: list) -> pd.Categorical:
    # Several typed values may read as one text (" A" and "a" as code A): the categories
    # are the distinct texts, sorted, as funnel.inputs.keys.categorical makes them.
    text_codes, labels = pd.factorize(np.asarray(cleaned, dtype=object), sort=True)
    rows = np.append(np.asarray(text_codes, dtype=np.intp), -1)[codes]
    return pd.Categorical.from_codes(rows, dtype=pd.CategoricalDtype(pd.Index(labels, dtype=object)))


def _coerce_code(series: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    return _coerce_text(series, code=True)


def _coerce_by_parser(
    series: pd.Series,
    fast: Callable[[pd.Series], pd.Series],
    parser: Callable[[object], object],
    empty,
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Run the vectorized ``fast`` path, then ``parser`` on the cells it left unread."""
    result = fast(series)
    unread = _blank_where(series, result.isna(), False)
    bad = pd.Series(False, index=series.index)
    why = pd.Series("", index=series.index, dtype="object")
    if unread.any():
        values, problems = [], []
        for raw in series[unread]:
            try:
                values.append(parser(raw))
                problems.append("")
            except parsing.ParseError as err:
                values.append(empty)
                problems.append(err.problem)
        parsed = pd.Series(values, index=series.index[unread], dtype="object")
        failed = pd.Series([p != "" for p in problems], index=parsed.index)
        result = result.astype("object")
        result[unread] = parsed
        bad[unread] = failed.to_numpy()
        why = _with(why, unread, problems)
    return result, bad, why


def _fast_number(series: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        return pd.Series(np.nan, index=series.index)
    if series.dtype == object:
        # TRUE/FALSE cells would pass as 1 and 0; leave them to the parser, which reports them.
        series = series.where(~series.map(lambda v: isinstance(v, (bool, np.bool_))), np.nan)
    return pd.to_numeric(series, errors="coerce") if series.dtype != float else series


def _coerce_number(series: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    result, bad, why = _coerce_by_parser(series, _fast_number, parsing.parse_amount, None)
    return pd.to_numeric(result, errors="coerce").astype(float), bad, why


def _coerce_plain_number(series: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    # A weight or an order is a number, not an amount: say so in the problem.
    result, bad, why = _coerce_number(series)
    return result, bad, why.map(_as_number)


_AS_NUMBER = {"parse.amount.not": "parse.number.not", "parse.amount.excel_error": "parse.number.excel_error"}


def _as_number(problem: str) -> str:
    # "'high' is not an amount" -> "'high' is not a number", in the catalog's words too.
    if isinstance(problem, catalog.Said) and problem.key in _AS_NUMBER:
        return catalog.said(_AS_NUMBER[problem.key], **problem.values)
    return problem.replace("an amount", "a number")


def _coerce_prob(series: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    result, bad, why = _coerce_by_parser(series, _fast_number, parsing.parse_probability, None)
    result = pd.to_numeric(result, errors="coerce").astype(float)
    outside = result.notna() & ~result.between(0, 1)
    why = _with(why, outside, [parsing.probability_outside_message(v) for v in result[outside]])
    bad |= outside
    return result.where(~outside), bad, why


# Dates a sales book can hold. 9999-12-31 is a common "never" placeholder in CRMs; pandas
# cannot hold it (nor anything after 2262) and it is not a close date anyone means.
_FIRST_YEAR, _LAST_YEAR = 1900, 2199
_LAST_SERIAL = (dt.date(_LAST_YEAR, 12, 31) - parsing.EXCEL_EPOCH.date()).days
# The same years as instants: comparing against them spares computing every date's year.
_FIRST_DAY, _AFTER_LAST_DAY = pd.Timestamp(_FIRST_YEAR, 1, 1), pd.Timestamp(_LAST_YEAR + 1, 1, 1)


def _in_years(dates: pd.Series) -> pd.Series:
    """Whether each (tz-naive) date lies in the years _FIRST_YEAR-_LAST_YEAR; NaT is not."""
    return (dates >= _FIRST_DAY) & (dates < _AFTER_LAST_DAY)


def _outside_years(value: object) -> str:
    shown = f"{value:g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value)
    return catalog.said("parse.date.outside_years", value=shown, first=_FIRST_YEAR, last=_LAST_YEAR)


def _parse_date_in_range(value: object, order: str | None = None) -> dt.date | None:
    day = parsing.parse_date(value, order)
    if day is not None and not _FIRST_YEAR <= day.year <= _LAST_YEAR:
        raise parsing.ParseError(_outside_years(value))
    return day


def _fast_date(series: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(series):
        series = series.dt.tz_localize(None) if getattr(series.dt, "tz", None) else series
        # Other units hold years nanoseconds cannot; those go to the parser, which says why.
        return series.where(_in_years(series)).astype("datetime64[ns]")
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        # Excel serial numbers (1900 date system); others go to the parser, which says why.
        ok = series.between(61, _LAST_SERIAL)
        days = series.where(ok)
        return pd.to_datetime(parsing.EXCEL_EPOCH) + pd.to_timedelta(np.floor(days), unit="D")
    obj = series.astype("object")
    if pd.api.types.infer_dtype(obj, skipna=True) in ("datetime", "date"):
        # A workbook's date column: every cell already a date; convert in one call.
        stamps = pd.to_datetime(obj, errors="coerce")
        if getattr(stamps.dt, "tz", None) is None and _in_years(stamps.dropna()).all():
            return stamps.astype("datetime64[ns]")
    is_dt = obj.map(
        lambda v: isinstance(v, (dt.date, pd.Timestamp)) and v == v and _FIRST_YEAR <= v.year <= _LAST_YEAR, na_action="ignore"
    ).eq(True)  # a missing cell (left NaN by the map) is no date
    out = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
    if is_dt.any():
        out[is_dt] = pd.to_datetime(obj[is_dt].map(lambda v: pd.Timestamp(v).tz_localize(None) if getattr(v, "tzinfo", None) else pd.Timestamp(v)))
    rest = ~is_dt & obj.notna()
    if rest.any():
        text = obj[rest]
        strings = text.map(lambda v: isinstance(v, str))
        iso = text[strings].str.strip().str.fullmatch(r"(?:19\d\d|2[01]\d\d)-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
        iso_idx = iso[iso].index
        if len(iso_idx):
            out[iso_idx] = pd.to_datetime(text[iso_idx].str.strip(), errors="coerce", format="ISO8601")
    return out


def _coerce_date(series: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    values, bad, why, _ = _coerce_dates(series)
    return values, bad, why


def _coerce_dates(series: pd.Series, date_order: str = "auto", language: str = "en"):
    """``_coerce_date`` with the column's reading of year-last dates (``parsing.date_reading``).

    Returns:
        (values, bad, why, note): the note is the Issues line saying how ambiguous dates
        were read, or None.
    """
    fast = _fast_date(series)
    unread = _blank_where(series, fast.isna(), False)
    reading = parsing.DateReading(None)
    if unread.any():
        texts = series[unread]
        firsts = ~texts.duplicated()  # each distinct text once, at its first row
        reading = parsing.date_reading(zip(texts.index[firsts], texts[firsts]), date_order, language)
    result, bad, why = _coerce_by_parser(series, lambda _: fast, lambda v: _parse_date_in_range(v, reading.order), None)
    result = pd.to_datetime(result, errors="coerce")
    if result.dt.tz is not None:
        result = result.dt.tz_localize(None)
    outside = result.notna() & ~_in_years(result)
    if outside.any():
        why = _with(why, outside, [_outside_years(f"{v:%Y-%m-%d}") for v in result[outside]])
        bad |= outside
        result = result.where(~outside)
    # Dates only: the time of day a CRM adds carries no meaning for a close date.
    return result.dt.normalize().astype("datetime64[ns]"), bad, why, reading.note


_FLAG_MAP = {**{k: True for k in parsing._YES}, **{k: False for k in parsing._NO}, "": False}


def _coerce_flag(series: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    bad = pd.Series(False, index=series.index)
    why = pd.Series("", index=series.index, dtype="object")
    if pd.api.types.is_bool_dtype(series):
        return series.fillna(False).astype(bool), bad, why
    if pd.api.types.is_numeric_dtype(series):
        known = series.isna() | series.isin([0, 1])
        bad = ~known
        why = _with(why, bad, [catalog.said("parse.flag.number", value=f"{v:g}") for v in series[bad]])
        return series.fillna(0).eq(1), bad, why
    # Each distinct cell text is read once: a workbook's yes/no columns repeat two values.
    answer, bad_cells, problem = _per_value(series, _flags_of_uniques)
    answer = pd.Series(answer.astype(bool), index=series.index)  # True/False per cell (missing: False)
    return answer, pd.Series(bad_cells.astype(bool), index=series.index), pd.Series(problem, index=series.index, dtype="object")


def _flags_of_uniques(u: pd.Series):
    answers, bad, why = [], [], []
    for v in u:
        key = ("true" if v else "false") if isinstance(v, (bool, np.bool_)) else parsing.fold(str(v)).lower()
        answer = _FLAG_MAP.get(key)
        answers.append(bool(answer))
        bad.append(answer is None)
        if answer is not None:
            why.append("")
        elif str(v).strip().upper() in parsing.EXCEL_ERRORS:
            why.append(catalog.said("parse.flag.excel_error", error=str(v).strip().upper()))
        else:
            why.append(catalog.said("parse.flag.not", value=v))
    return [(answers, False), (bad, False), (why, "")]


def _coerce_int(series: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    number, bad, why = _coerce_plain_number(series)
    fractional = number.notna() & (number != np.floor(number))
    why = _with(why, fractional, [catalog.said("parse.number.not_whole", value=f"{v:g}") for v in number[fractional]])
    return number.where(~fractional), bad | fractional, why


def _coerce_category(series: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    text, bad, why = _coerce_text(series)
    present = text.notna()
    mapped = text[present].map(lambda v: _CATEGORY_ALIASES.get(parsing.fold(v).lower()))
    unknown = mapped.isna()
    result = pd.Series(None, index=series.index, dtype="object")
    result[present] = mapped
    unknown_idx = unknown[unknown].index
    bad[unknown_idx] = True
    why = _with(why, why.index.isin(unknown_idx), [catalog.said("parse.category.unknown", value=v, known=", ".join(FORECAST_CATEGORIES))
                                                   for v in text[unknown_idx]])
    return result, bad, why


_COERCERS = {
    "text": _coerce_text,
    "code": _coerce_code,
    "money": _coerce_number,
    "number": _coerce_plain_number,
    "prob": _coerce_prob,
    "date": _coerce_date,
    "flag": _coerce_flag,
    "int": _coerce_int,
    "category": _coerce_category,
}

_ACTION = {
    "text": words("issue.action.left_blank"),
    "code": words("issue.action.left_blank"),
    "money": words("issue.action.left_blank"),
    "number": words("issue.action.left_blank"),
    "prob": words("issue.action.ignored"),
    "date": words("issue.action.left_blank"),
    "flag": words("issue.action.read_as_no"),
    "int": words("issue.action.left_blank"),
    "category": words("issue.action.ignored"),
}


def coerce_column(series: pd.Series, kind: str) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Coerce one column to its kind.

    Returns:
        (values, bad, why): the typed values (bad cells blank), a mask of cells that could
        not be read, and for those cells the reason.
    """
    return _COERCERS[kind](series)


# Tables whose rows are dropped when a must-have value is missing, and the action to report.
_ROW_DROPPED = {"opportunities": words("issue.action.row_left_out"), "stage_history": words("issue.action.row_left_out"),
                "stages": words("issue.action.row_skipped"), "quotas": words("issue.action.row_left_out"),
                "forecast_calls": words("issue.action.row_left_out"), "people": words("issue.action.row_left_out")}


def _date_order(settings: Settings) -> tuple[str, str]:
    # What reading a date column needs of the settings: the user's date_order and the language.
    return settings.date_order, settings.language


def _typed_table(table: str, raw: pd.DataFrame | None, log: IssueLog, extra_ok: bool = False,
                 date_order: tuple[str, str] = ("auto", "en"), held: dict | None = None,
                 keys: tuple[str, ...] = ()) -> pd.DataFrame | None:
    """Coerce every contract column of ``raw``; None when required headers are missing.

    ``date_order`` is (the date_order setting, the language), for year-last dates. The
    cells of a column named in ``held`` that could not be read are not reported here:
    ``held[column]`` gets (bad, why) for the caller, who says what it did instead. The
    text columns named in ``keys`` come out categorical (``_coerce_text``'s ``as_key``), so
    that ``encode_keys`` need not hash them again.
    """
    spec = TABLES[table]
    if raw is None:
        return None
    present = set(raw.columns)
    if any(c.required and c.name not in present for c in spec):
        return None  # refused by validate (or by the workbook's reader), which says what is missing
    out = pd.DataFrame(index=raw.index)
    for col in spec:
        if col.name not in present:
            out[col.name] = _empty_of(col, len(raw), raw.index)
            continue
        if col.kind == "date":
            values, bad, why, note = _coerce_dates(raw[col.name], *date_order)
            if note is not None:
                log.add(table, note[0], col.name, note[1], note[2], note[3])
        elif col.name in keys:
            values, bad, why = _coerce_text(raw[col.name], code=col.kind == "code", as_key=True)
        else:
            values, bad, why = coerce_column(raw[col.name], col.kind)
        if held is not None and col.name in held:
            held[col.name] = (bad, why)
        elif bad.any():
            action = _ROW_DROPPED[table] if col.not_blank and table in _ROW_DROPPED else _ACTION[col.kind]
            log.add_many(table, raw.index[bad], col.name, raw[col.name][bad], why[bad], action)
        out[col.name] = values
    if extra_ok:
        for name in raw.columns:
            if name not in out.columns:
                out[name] = raw[name]
    return out


def _empty_of(col: Column, n: int, index: pd.Index) -> pd.Series:
    if col.kind == "flag":
        return pd.Series(False, index=index)
    if col.kind in ("money", "number", "prob", "int"):
        return pd.Series(np.nan, index=index)
    if col.kind == "date":
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    return pd.Series(None, index=index, dtype="object")


def _is_text_column(series: pd.Series) -> bool:
    return series.dtype == object or pd.api.types.is_string_dtype(series)


def _drop_blank_rows(table: str, raw: pd.DataFrame | None) -> pd.DataFrame | None:
    # Trailing empty rows of an Excel Table are not data.
    if raw is None or raw.empty:
        return raw
    known = [c for c in columns_of(table) if c in raw.columns] or list(raw.columns)
    # A row is empty only when every column is blank: check the cheap (typed) columns
    # first, then look at text only in the rows still in doubt.
    known.sort(key=lambda name: _is_text_column(raw[name]))
    doubt = np.arange(len(raw))
    for name in known:
        column = raw[name]
        if len(doubt) < len(raw):
            column = column.iloc[doubt]
        doubt = doubt[_blank(column).to_numpy(dtype=bool)]
        if not len(doubt):
            return raw
    empty = np.zeros(len(raw), dtype=bool)
    empty[doubt] = True
    return raw[~empty]


def validate_stages(raw: pd.DataFrame | None, log: IssueLog | None = None) -> pd.DataFrame:
    """The stage scheme of a raw stages table, as ``validate`` reads it (the default P/I/B/W/L
    scheme when it is missing or unusable); problems go to ``log``."""
    return _validate_stages(raw, log if log is not None else IssueLog())


def _validate_stages(raw: pd.DataFrame | None, log: IssueLog) -> pd.DataFrame:
    if raw is None or raw.empty:
        if raw is not None:
            log.add("stages", None, "", "", words("issue.stages.empty"), words("issue.action.default_scheme"))
        return default_stages()
    held: dict = {"order": None, "probability": None, "is_won": None, "is_lost": None}
    stages = _typed_table("stages", raw, log, held=held)
    if stages is None:
        log.add("stages", None, "", "", words("issue.stages.unreadable"), words("issue.action.default_scheme"))
        return default_stages()
    def typed_blank(col: str) -> pd.Series:
        # Cells typed blank, as opposed to unreadable ones, which were reported when read.
        return _blank(raw[col]).reindex(stages.index, fill_value=False) if col in raw.columns else pd.Series(True, index=stages.index)

    blank = stages["code"].isna()
    said = blank & typed_blank("code")
    log.add_many("stages", stages.index[said], "code", [""] * int(said.sum()), words("issue.stages.code_blank"), words("issue.action.row_skipped"))
    stages = stages[~blank]
    dup = stages["code"].duplicated()
    log.add_many("stages", stages.index[dup], "code", stages["code"][dup], words("issue.stages.duplicate_code"), words("issue.action.row_skipped"))
    stages = stages[~dup]
    stages = _place_unordered(stages, raw, held["order"], log)
    _fill_flags(stages, raw, held, log)
    both = stages["is_won"] & stages["is_lost"]
    log.add_many("stages", stages.index[both], "is_won", stages["code"][both], words("issue.stages.won_and_lost"), words("issue.action.read_as_lost"))
    stages.loc[both, "is_won"] = False
    _fill_probabilities(stages, raw, held["probability"], log)
    # A won stage is certain and a lost one is impossible, whatever was typed.
    stages.loc[stages["is_won"], "probability"] = 1.0
    stages.loc[stages["is_lost"], "probability"] = 0.0
    closed = stages["is_won"] | stages["is_lost"]
    stages["forecast_category"] = stages["forecast_category"].where(stages["forecast_category"].notna(), np.where(closed, "Closed", "Pipeline"))
    stages.loc[stages["is_lost"], "forecast_category"] = "Omitted"
    stages.loc[stages["is_won"], "forecast_category"] = "Closed"
    stages["order"] = stages["order"].astype(int)
    stages["name"] = stages["name"].where(stages["name"].notna(), stages["code"])
    if stages.empty:
        log.add("stages", None, "", "", words("issue.stages.no_rows"), words("issue.action.default_scheme"))
        return default_stages()
    if (stages["is_won"] | stages["is_lost"]).all():
        # Every analysis needs at least one stage a deal can be open in.
        log.add("stages", None, "", "", words("issue.stages.no_open"), words("issue.action.default_scheme"))
        return default_stages()
    if not stages["is_won"].any():
        log.add("stages", None, "is_won", "", words("issue.stages.no_won"), words("issue.action.no_win_rates"))
    return stages.sort_values("order", kind="stable")


def _held_problem(raw: pd.DataFrame, held: tuple[pd.Series, pd.Series], column: str, row: object, blank: object) -> tuple[object, object]:
    # (value as typed, problem) of a cell a held column could not use: unreadable, or blank.
    bad, why = held
    if bool(bad.get(row, False)):
        return raw.at[row, column], why[row]
    return "", blank


def _place_unordered(stages: pd.DataFrame, raw: pd.DataFrame, held: tuple[pd.Series, pd.Series], log: IssueLog) -> pd.DataFrame:
    """A stage whose order is blank or unreadable keeps its place between the rows around
    it (the first free order after the row above, or before the row below); only a stage
    with no free order there is skipped."""
    orders = stages["order"].copy()
    if not orders.isna().any():
        return stages
    used = set(orders.dropna().astype(int))
    skipped = []
    for row in stages.index[orders.isna()]:
        value, problem = _held_problem(raw, held, "order", row, words("issue.stages.order_blank"))
        above, below = orders.loc[:row].dropna(), orders.loc[row:].dropna()
        a = int(above.iloc[-1]) if len(above) else None
        b = int(below.iloc[0]) if len(below) else None
        if a is not None and b is not None:
            candidates = list(range(a + 1, b))
        else:
            candidates = [a + 1] if a is not None else [b - 1] if b is not None else [1]
        free = [c for c in candidates if c not in used]
        if free:
            orders.loc[row] = free[0]
            used.add(free[0])
            log.add("stages", row, "order", value, problem, words("issue.action.order_between", order=free[0]))
        else:
            skipped.append(row)
            log.add("stages", row, "order", value, problem, words("issue.action.no_free_order"))
    stages["order"] = orders
    return stages.drop(index=skipped)


# A shipped scheme's name in an Issues sentence (the catalog's scheme.<preset>).
_SCHEME_NAMES = {name: words(f"scheme.{name}") for name in ("pib", "six_step", "seven_stage")}


@functools.lru_cache(maxsize=1)
def _shipped_stages() -> dict[str, dict]:
    """Each stage code of the shipped schemes: its probability and flags, and the scheme's name."""
    from funnel.inputs.schemes import PRESETS, preset_stages

    shipped: dict[str, dict] = {}
    for name in PRESETS:
        for row in preset_stages(name).itertuples(index=False):
            shipped.setdefault(row.code, {"probability": float(row.probability), "is_won": bool(row.is_won),
                                          "is_lost": bool(row.is_lost), "scheme": _SCHEME_NAMES[name]})
    return shipped


def _fill_flags(stages: pd.DataFrame, raw: pd.DataFrame, held: dict, log: IssueLog) -> None:
    """A won or lost flag that cannot be read is the shipped scheme's for the same code (W
    is won), else no: a typo in W's flag must not make every won deal open."""
    shipped = _shipped_stages()
    for flag in ("is_won", "is_lost"):
        bad, why = held[flag]
        for row in stages.index[bad.reindex(stages.index, fill_value=False).to_numpy(dtype=bool)]:
            code = stages.at[row, "code"]
            known = shipped.get(code)
            value = bool(known[flag]) if known else False
            action = (words(f"issue.action.flag_as_shipped.{'yes' if value else 'no'}", code=code, scheme=known["scheme"])
                      if known else words("issue.action.read_as_no"))
            stages.at[row, flag] = value
            log.add("stages", row, flag, raw.at[row, flag], why[row], action)


def _fill_probabilities(stages: pd.DataFrame, raw: pd.DataFrame, held: tuple[pd.Series, pd.Series], log: IssueLog) -> None:
    """A stage whose probability is blank or unusable is kept with a stand-in, said: won 1
    and lost 0; a stage of a shipped scheme that scheme's probability; any other stage
    halfway between the open stages around it (0 before the first, 1 after the last).
    The empirical and blended probabilities are learned from the deals as always."""
    bad = held[0].reindex(stages.index, fill_value=False)
    for row in stages.index[bad & (stages["is_won"] | stages["is_lost"])]:
        value, problem = _held_problem(raw, held, "probability", row, "")
        won = bool(stages.at[row, "is_won"])
        log.add("stages", row, "probability", value, problem, words(f"issue.action.probability_of_every.{'won' if won else 'lost'}"))
    missing = stages["probability"].isna() & ~stages["is_won"] & ~stages["is_lost"]
    if not missing.any():
        return
    shipped = _shipped_stages()
    open_ = stages[~stages["is_won"] & ~stages["is_lost"]].sort_values("order", kind="stable")
    for row in stages.index[missing]:
        value, problem = _held_problem(raw, held, "probability", row, words("issue.stages.probability_blank"))
        code = stages.at[row, "code"]
        if code in shipped:
            used, scheme = shipped[code]["probability"], shipped[code]["scheme"]
            action = words("issue.action.probability_as_shipped", probability=f"{used:g}", scheme=scheme, code=code)
        else:
            order = stages.at[row, "order"]
            known = open_[open_["probability"].notna() & ~open_.index.isin(stages.index[missing])]
            before, after = known[known["order"] < order].tail(1), known[known["order"] > order].head(1)
            low = (float(before["probability"].iloc[0]), f"{before['code'].iloc[0]} ({before['probability'].iloc[0]:g})") if len(before) else (0.0, "0")
            high = (float(after["probability"].iloc[0]), f"{after['code'].iloc[0]} ({after['probability'].iloc[0]:g})") if len(after) else (1.0, words("issue.stages.won_one"))
            used = round((low[0] + high[0]) / 2, 6)
            action = words("issue.action.probability_halfway", probability=f"{used:g}", low=low[1], high=high[1])
        stages.at[row, "probability"] = used
        log.add("stages", row, "probability", value, problem, action)


def _validate_opportunities(raw: pd.DataFrame | None, stages: pd.DataFrame, settings: Settings, log: IssueLog) -> pd.DataFrame:
    # The key columns come out categorical from their one factorize (encode_keys keeps them).
    opps = (_typed_table("opportunities", raw, log, date_order=_date_order(settings), keys=KEY_COLUMNS["opportunities"])
            if raw is not None else None)
    if opps is None:  # missing, or refused for a missing column
        return _typed_table("opportunities", pd.DataFrame(columns=list(columns_of("opportunities"))), IssueLog())
    if opps.empty:
        log.add("opportunities", None, "", "", words("issue.deals.none"), words("issue.action.no_deals"))
    keep = pd.Series(True, index=opps.index)

    blank_id = opps["id"].isna()
    said = _blank_where(raw["id"], blank_id)  # an unreadable id (#N/A) was reported when it was read
    log.add_many("opportunities", opps.index[said], "id", [""] * int(said.sum()), words("issue.deals.id_blank"), words("issue.action.row_left_out"))
    keep &= ~blank_id

    dup = opps["id"].duplicated() & ~blank_id
    if dup.any():
        first_row = opps[~blank_id].reset_index().drop_duplicates("id").set_index("id")["index"]
        firsts = opps["id"][dup].map(first_row)
        log.add_many(
            "opportunities", opps.index[dup], "id", opps["id"][dup],
            each("issue.deals.duplicate_id", id=opps["id"][dup], row=firsts),
            words("issue.action.row_left_out"),
        )
    keep &= ~dup

    stage_known = opps["stage"].isin(stages["code"])
    bad_stage = ~stage_known & opps["stage"].notna()
    codes = ", ".join(stages["code"])
    log.add_many(
        "opportunities", opps.index[bad_stage], "stage", opps["stage"][bad_stage],
        each("issue.deals.unknown_stage", stage=opps["stage"][bad_stage], codes=[codes] * int(bad_stage.sum())),
        words("issue.action.row_left_out"),
    )
    no_stage = _blank_where(raw["stage"], opps["stage"].isna()) & keep
    log.add_many("opportunities", opps.index[no_stage], "stage", [""] * int(no_stage.sum()), words("issue.deals.stage_blank"), words("issue.action.row_left_out"))
    keep &= stage_known

    negative = opps["amount"] < 0
    log.add_many("opportunities", opps.index[negative], "amount", opps["amount"][negative], words("issue.deals.negative_amount"), words("issue.action.left_blank"))
    huge = opps["amount"] > 1e11
    log.add_many("opportunities", opps.index[huge], "amount", opps["amount"][huge], words("issue.deals.huge_amount"), words("issue.action.left_blank"))
    opps.loc[negative | huge, "amount"] = np.nan

    backwards = opps["close_date"].notna() & opps["created"].notna() & (opps["close_date"] < opps["created"])
    log.add_many(
        "opportunities", opps.index[backwards], "close_date",
        opps["close_date"][backwards].dt.strftime("%Y-%m-%d"),
        each("issue.deals.close_before_created", created=[f"{c:%Y-%m-%d}" for c in opps["created"][backwards]]),
        words("issue.action.check_dates"),
    )
    if len(opps) and not keep.any():
        if not log.refused("stages"):  # a refused scheme is the cause, and already said
            _refuse_no_usable_deal(len(opps), log)
    kept = opps[keep]
    _report_implausible(kept, raw, stages, settings, log)
    return kept


def _refuse_no_usable_deal(rows: int, log: IssueLog) -> None:
    # Every row left out: the figures would be zeros, which look like a quiet quarter.
    issues = log.table()
    first = issues[(issues["table"] == "opportunities") & (issues["action"] == "row left out")].head(1)
    if len(first):
        # The first row's problem, quoted in the book's language as the Issues table says it.
        said = log.table("zh-CN").loc[first.index[0], "problem"]
        problem = catalog.given({"en": first["problem"].iloc[0], "zh-CN": said})
        message = catalog.said("refusal.no_usable_deal_at", rows=f"{rows:,}", row=first["row"].iloc[0], problem=problem)
    else:
        message = catalog.said("refusal.no_usable_deal", rows=f"{rows:,}")
    log.refuse(Refusal("opportunities", "", "", message), words("issue.action.no_deals"))


def _report_implausible(opps: pd.DataFrame, raw: pd.DataFrame, stages: pd.DataFrame, settings: Settings, log: IssueLog) -> None:
    """Values that read well but cannot be right: an open deal without an amount, a deal
    created or last active after the as-of date."""
    closed = set(stages.loc[stages["is_won"] | stages["is_lost"], "code"])
    candidates = opps["amount"].isna() & ~opps["stage"].isin(closed)
    if candidates.any():
        # Typed blank only: an unreadable amount (text, an error cell, a formula without
        # a saved value) was reported when it was read.
        candidates &= ~opps.index.isin(list(already_reported(log, "opportunities").get("amount", ())))
    no_amount = _blank_where(raw["amount"].loc[opps.index], candidates) if candidates.any() else candidates
    log.add_many("opportunities", opps.index[no_amount], "amount", [""] * int(no_amount.sum()), words("issue.deals.no_amount"),
                 words("issue.action.zero_pipeline"))
    as_of = pd.Timestamp(settings.as_of)
    for column, what in (("created", "issue.deals.created_after_as_of"), ("last_activity", "issue.deals.activity_after_as_of")):
        future = opps[column] > as_of
        log.add_many("opportunities", opps.index[future], column, opps[column][future].dt.strftime("%Y-%m-%d"),
                     words(what, as_of=f"{as_of:%Y-%m-%d}"), words("issue.action.check_date_as_of"))


def _validate_history(
    raw: pd.DataFrame | None, opps: pd.DataFrame, stages: pd.DataFrame, log: IssueLog,
    listed_ids: pd.Series | Callable[[], pd.Series | None] | None = None, date_order: tuple[str, str] = ("auto", "en"),
    as_of: dt.date | None = None,
) -> pd.DataFrame:
    empty = pd.DataFrame({"opportunity_id": pd.Series(dtype="object"), "stage": pd.Series(dtype="object"),
                          "entered": pd.Series(dtype="datetime64[ns]")})
    if raw is None or raw.empty:
        return empty
    if opps.empty:
        # No deal to attach history to: one line says so instead of one per history row.
        log.add("stage_history", None, "opportunity_id", "", words("issue.history.no_deals", rows=f"{len(raw):,}"),
                words("issue.action.history_left_out"))
        return empty
    hist = _typed_table("stage_history", raw, log, date_order=date_order, keys=KEY_COLUMNS["stage_history"])
    if hist is None:
        return empty
    keep = np.ones(len(hist), dtype=bool)
    for col in ("opportunity_id", "stage", "entered"):
        # Only missing values can be blank; checking just those keeps big histories cheap.
        missing = hist[col].isna().to_numpy()
        keep &= ~missing
        blank = missing.copy()
        if missing.any():
            blank[missing] = _blank(raw.loc[missing, col]).to_numpy()
        log.add_many("stage_history", hist.index[blank], col, [""] * int(blank.sum()), words(f"issue.history.{col}_blank"),
                     words("issue.action.row_left_out"))
    # Each history row's deal by one hash lookup (ids are unique by now); -1 = not a deal.
    deal = positions(pd.Index(opps["id"]), hist["opportunity_id"])
    unknown_deal = keep & (deal < 0)
    left_out = np.zeros(len(hist), dtype=bool)
    if unknown_deal.any():
        # Only rows of unknown deals need the list of every typed id (built on demand).
        listed = listed_ids() if callable(listed_ids) else listed_ids
        if listed is not None:
            left_out[unknown_deal] = hist["opportunity_id"][unknown_deal].isin(listed).to_numpy()
    log.add_many("stage_history", hist.index[left_out], "opportunity_id", hist["opportunity_id"][left_out],
                 words("issue.history.deal_left_out"), words("issue.action.row_left_out"))
    not_listed = unknown_deal & ~left_out
    log.add_many("stage_history", hist.index[not_listed], "opportunity_id", hist["opportunity_id"][not_listed],
                 words("issue.history.deal_not_listed"), words("issue.action.row_left_out"))
    # Each row's stage by position in the scheme (codes are unique by now); -1 = unknown.
    stage_pos = stage_positions(stages, hist["stage"])
    unknown_stage = keep & (stage_pos < 0)
    log.add_many("stage_history", hist.index[unknown_stage], "stage", hist["stage"][unknown_stage],
                 words("issue.history.unknown_stage"), words("issue.action.row_left_out"))
    valid = keep & ~unknown_deal & ~unknown_stage
    if not valid.all():
        hist = hist[valid]
    if hist.empty:
        return empty
    _report_history_order(hist, deal[valid], stage_pos[valid], stages, log)
    if as_of is not None:
        future = hist["entered"] > pd.Timestamp(as_of)
        log.add_many("stage_history", hist.index[future], "entered", hist["entered"][future].dt.strftime("%Y-%m-%d"),
                     words("issue.history.entered_after_as_of", as_of=f"{as_of:%Y-%m-%d}"),
                     words("issue.action.check_date_as_of"))
    return hist


def _report_history_order(hist: pd.DataFrame, deal: np.ndarray, stage_pos: np.ndarray, stages: pd.DataFrame, log: IssueLog) -> None:
    """Report, once per deal, steps back in the funnel and stages entered after closing.

    ``deal`` and ``stage_pos`` are each row's position in the deal and stage tables.
    """
    stage_order = stages["order"].to_numpy()
    stage_closed = (stages["is_won"] | stages["is_lost"]).to_numpy(dtype=bool)
    order = stage_order[stage_pos]
    entered = hist["entered"].to_numpy().astype("datetime64[ns]").view("int64")
    # Stage orders as dense ranks (same sort, small numbers) for the packed sort key.
    order_rank = np.unique(stage_order, return_inverse=True)[1].reshape(-1)[stage_pos]
    by_time = _by_deal_then_time(deal, entered, order_rank)
    d, o, p = deal[by_time], order[by_time], stage_pos[by_time]
    # Each row beside the row before it (np.concatenate: np.r_ parses its index each call).
    same = np.concatenate(([False], d[1:] == d[:-1]))
    prev_o = np.concatenate(([np.inf], o[:-1]))
    prev_p = np.concatenate(([0], p[:-1]))
    back = same & (o < prev_o)
    after_close = same & stage_closed[prev_p] & ~back
    stage_codes = stages["code"].to_numpy(dtype=object)
    for mask, action, once, often in ((back, "issue.action.step_back", "issue.history.moved_back", "issue.history.moved_back_often"),
                                      (after_close, "issue.action.check_history", "issue.history.after_close",
                                       "issue.history.after_close_often")):
        if not mask.any():
            continue
        positions = by_time[mask]
        # One line per deal: its first such row, and how many there were.
        _, first, counts = np.unique(d[mask], return_index=True, return_counts=True)
        picked = positions[first]
        ids = hist["opportunity_id"].iloc[picked].tolist()
        codes = hist["stage"].iloc[picked].tolist()
        prev = stage_codes[prev_p[mask][first]].tolist()
        days = np.datetime_as_string(hist["entered"].to_numpy()[picked].astype("datetime64[D]")).tolist()
        # Plain lists: tens of thousands of messages, no pandas text ops. A deal that did it
        # once and one that did it more often read differently (two lines of the catalog).
        n = counts.tolist()
        for key, rows in ((once, [k for k, c in enumerate(n) if c == 1]), (often, [k for k, c in enumerate(n) if c > 1])):
            if not rows:
                continue
            fields = {"id": [ids[k] for k in rows], "stage": [codes[k] for k in rows], "day": [days[k] for k in rows],
                      "previous": [prev[k] for k in rows]}
            if key == often:
                fields["times"] = [n[k] for k in rows]
            if action == "issue.action.check_history":
                del fields["day"]
            log.add_many("stage_history", hist.index[picked[rows]], "stage", [codes[k] for k in rows],
                         each(key, **fields), words(action))


def _by_deal_then_time(deal: np.ndarray, entered: np.ndarray, order_rank: np.ndarray) -> np.ndarray:
    """Row positions sorted by deal, then entered, then stage order (stable).

    ``order_rank`` is each row's stage order as a dense rank from 0.
    """
    n = len(deal)
    if n == 0:
        return np.arange(0)
    # Dates carry no time of day by now, so deal, day and order pack into one int64 key:
    # one integer sort (or none, when the history is already in order) instead of a lexsort.
    day_ns = 86_400 * 10**9
    days = entered // day_ns
    ranks = order_rank.astype(np.int64)
    d_lo, day_lo = int(deal.min()), int(days.min())
    d_span, day_span, o_span = int(deal.max()) - d_lo + 1, int(days.max()) - day_lo + 1, int(ranks.max()) + 1
    exact = bool((entered % day_ns == 0).all())
    if exact and d_span * day_span * o_span < 2**62:
        key = ((deal - d_lo).astype(np.int64) * day_span + (days - day_lo)) * o_span + ranks
        if (key[1:] >= key[:-1]).all():
            return np.arange(n)
        return np.argsort(key, kind="stable")
    return np.lexsort((order_rank, entered, deal))


def _validate_quotas(raw: pd.DataFrame | None, settings: Settings, log: IssueLog) -> pd.DataFrame:
    from funnel.inputs.periods import normalize_period_label

    empty = pd.DataFrame({"owner": pd.Series(dtype="object"), "team": pd.Series(dtype="object"),
                          "period": pd.Series(dtype="object"), "quota": pd.Series(dtype=float)})
    if raw is None or raw.empty:
        return empty
    quotas = _typed_table("quotas", raw, log)
    if quotas is None:
        return empty
    nobody = quotas["owner"].isna() & quotas["team"].isna()
    log.add_many("quotas", quotas.index[nobody], "owner", [""] * int(nobody.sum()), words("issue.quotas.nobody"), words("issue.action.row_left_out"))
    labels, problems = [], []
    unread = _blank_where(raw["period"], quotas["period"].isna(), False)  # an Excel error, reported when read
    for value, skip in zip(quotas["period"], unread):
        if skip:
            labels.append(None)
            problems.append("")
            continue
        try:
            labels.append(normalize_period_label(value, settings))
            problems.append("")
        except ValueError as err:
            labels.append(None)
            problems.append(str(err))
    quotas["period"] = labels
    bad = pd.Series([p != "" for p in problems], index=quotas.index)
    log.add_many("quotas", quotas.index[bad], "period", raw["period"][bad], [p for p in problems if p], words("issue.action.row_left_out"))
    negative = quotas["quota"] < 0
    log.add_many("quotas", quotas.index[negative], "quota", quotas["quota"][negative], words("issue.quotas.negative"), words("issue.action.row_left_out"))
    no_quota = _blank_where(raw["quota"], quotas["quota"].isna())
    log.add_many("quotas", quotas.index[no_quota], "quota", [""] * int(no_quota.sum()), words("issue.quotas.blank"), words("issue.action.row_left_out"))
    return quotas[~nobody & ~bad & ~unread & ~negative & quotas["quota"].notna()]


def _empty_table(table: str) -> pd.DataFrame:
    """A table of the contract with its columns typed and no rows."""
    return _typed_table(table, pd.DataFrame(columns=list(columns_of(table))), IssueLog())


def _validate_calls(raw: pd.DataFrame | None, settings: Settings, log: IssueLog) -> pd.DataFrame:
    """The usable forecast calls: a person, a period (as the forecast labels it), a call
    category and an amount >= 0; every row left out is said (table, row, column)."""
    from funnel.inputs.periods import normalize_period_label

    if raw is None or raw.empty:
        return _empty_table("forecast_calls")
    calls = _typed_table("forecast_calls", raw, log, date_order=_date_order(settings))
    if calls is None:
        return _empty_table("forecast_calls")
    keep = pd.Series(True, index=calls.index)
    for column in ("owner", "period", "amount"):
        blank = _blank_where(raw[column], calls[column].isna())  # an unreadable cell was reported when read
        log.add_many("forecast_calls", calls.index[blank], column, [""] * int(blank.sum()),
                     words(f"issue.calls.{column}_blank"), words("issue.action.row_left_out"))
        keep &= calls[column].notna()
    category_blank = _blank_where(raw["category"], calls["category"].isna())
    log.add_many("forecast_calls", calls.index[category_blank], "category", [""] * int(category_blank.sum()),
                 words("issue.calls.category_blank"), words("issue.action.row_left_out"))
    other = calls["category"].notna() & ~calls["category"].isin(list(CALL_CATEGORIES))
    for row, category in zip(calls.index[other], calls["category"][other]):
        log.add("forecast_calls", row, "category", category, words("issue.calls.not_a_call", category=category),
                words("issue.action.row_left_out"))
    keep &= calls["category"].isin(list(CALL_CATEGORIES))
    negative = calls["amount"] < 0
    log.add_many("forecast_calls", calls.index[negative], "amount", calls["amount"][negative], words("issue.calls.negative"),
                 words("issue.action.row_left_out"))
    keep &= ~negative
    labels = []
    for row, value, ok in zip(calls.index, calls["period"], keep):
        if not ok:
            labels.append(None)
            continue
        try:
            labels.append(normalize_period_label(value, settings))
        except ValueError as err:
            labels.append(None)
            log.add("forecast_calls", row, "period", value, str(err), words("issue.action.row_left_out"))
    calls["period"] = pd.Series(labels, index=calls.index, dtype=object)
    return calls[keep & calls["period"].notna()]


def _validate_people(raw: pd.DataFrame | None, log: IssueLog) -> pd.DataFrame:
    """The (person, manager) rows that name a person; a row without one is said."""
    if raw is None or raw.empty:
        return _empty_table("people")
    people = _typed_table("people", raw, log)
    if people is None:
        return _empty_table("people")
    blank = _blank_where(raw["person"], people["person"].isna())
    log.add_many("people", people.index[blank], "person", [""] * int(blank.sum()), words("issue.people.person_blank"),
                 words("issue.action.row_left_out"))
    return people[people["person"].notna()]


def _settings_rows(raw: pd.DataFrame | None, log: IssueLog) -> pd.DataFrame | None:
    # Values stay raw: each setting has its own type, checked by the pydantic model. A
    # table without its key and value columns was refused in validate.
    if raw is None or "key" not in raw.columns or "value" not in raw.columns:
        return None
    return raw[["key", "value"]]


def _contract_headers(table: str, frame: pd.DataFrame, log: IssueLog) -> pd.DataFrame:
    """A raw table's headers read as the contract's names: "Amount" or "close date" is read
    and reported (a workbook's reader has already done this in the workbook's names)."""
    headers = [str(h) for h in frame.columns]
    match = match_headers(headers, {c: () for c in columns_of(table)})
    if all(headers[p] == key for p, key in match.columns.items()):
        return frame
    for position in match.close:
        key = match.columns[position]
        log.add(table, None, key, headers[position], words("issue.column.read_as", header=headers[position], column=key),
                words("issue.action.read_rename", column=key))
    return frame.rename(columns={headers[p]: key for p, key in match.columns.items()})


def _refuse_missing_columns(table: str, frame: pd.DataFrame, log: IssueLog) -> None:
    # A raw table (a CSV, a table handed over in code) lacking a required column.
    present = {str(c) for c in frame.columns}
    unknown = [] if table == "comparison" else [c for c in map(str, frame.columns) if c not in columns_of(table) and c.strip()]
    for key in required_columns(table):
        if key in present:
            continue
        found = closest((key,), unknown)
        if found:
            message = catalog.said("refusal.raw_column_found", table=table, column=key, found=found)
        elif unknown:
            others = ", ".join(unknown[:3]) + (", ..." if len(unknown) > 3 else "")
            message = catalog.said("refusal.raw_column_unrecognised", table=table, column=key, others=others)
        else:
            message = catalog.said("refusal.raw_column_gone", table=table, column=key)
        log.refuse(Refusal(table, key, found or "", message), words("issue.action.table_not_used"))


def validate(
    raw: dict[str, pd.DataFrame | None],
    overrides: dict[str, str] | None = None,
    log: IssueLog | None = None,
) -> Inputs:
    """Check and type every input table.

    Args:
        raw: table name -> DataFrame with canonical column names; index = row the user sees.
            Missing tables may be absent or None.
        overrides: settings to override for this run (raises ValueError when bad).
        log: problems already found while reading (a missing sheet, say); they lead the
            issues table.

    Returns:
        Inputs with clean tables, the issues log and the refusals (``Inputs.refusals``: a
        required column missing, no deals table, not one usable deal). A refused table is
        left out, so what can still be computed is (``funnel.analysis.run`` refuses to,
        unless forced).
    """
    log = log if log is not None else IssueLog()
    raw = {name: _drop_blank_rows(name, frame) for name, frame in raw.items() if name in TABLES}
    for name, frame in raw.items():
        if frame is None or log.refused(name):
            continue
        raw[name] = frame = _contract_headers(name, frame, log)
        _refuse_missing_columns(name, frame, log)
    if raw.get("opportunities") is None and not log.refused("opportunities"):
        log.refuse(Refusal("opportunities", "", "", catalog.said("refusal.no_opportunities")), words("issue.action.no_deals"))
    for name, frame in raw.items():
        if frame is not None:
            extra = [c for c in frame.columns if c not in columns_of(name)]
            if extra and name not in ("comparison",):
                log.add(name, None, ", ".join(map(str, extra)), "", words("issue.column.unknown"), words("issue.action.check_header"))
    settings = settings_from_table(_settings_rows(raw.get("settings"), log), log)
    if overrides:
        settings = apply_overrides(settings, overrides)
    stages = _validate_stages(raw.get("stages"), log)
    opportunities = _validate_opportunities(raw.get("opportunities"), stages, settings, log)
    raw_opps, raw_history = raw.get("opportunities"), raw.get("stage_history")
    listed = None
    if raw_history is not None and not raw_history.empty and raw_opps is not None and "id" in raw_opps.columns:
        listed = lambda: _coerce_text(raw_opps["id"])[0]  # noqa: E731  every id typed, kept or not; read only if needed
    history = _validate_history(raw.get("stage_history"), opportunities, stages, log, listed, _date_order(settings), settings.as_of)
    quotas = _validate_quotas(raw.get("quotas"), settings, log)
    competitors = _typed_table("competitors", raw.get("competitors"), log)
    comparison = _typed_table("comparison", raw.get("comparison"), log, extra_ok=True)
    stakeholders = _typed_table("stakeholders", raw.get("stakeholders"), log)
    empty = lambda t: _typed_table(t, pd.DataFrame(columns=list(columns_of(t))), IssueLog())  # noqa: E731
    inputs = Inputs(
        settings=settings,
        stages=stages,
        opportunities=opportunities,
        stage_history=history,
        quotas=quotas,
        competitors=competitors if competitors is not None else empty("competitors"),
        comparison=comparison if comparison is not None else empty("comparison"),
        stakeholders=stakeholders if stakeholders is not None else empty("stakeholders"),
        forecast_calls=_validate_calls(raw.get("forecast_calls"), settings, log),
        people=_validate_people(raw.get("people"), log),
        log=log,
    )
    return encode_keys(inputs)  # the key columns as categorical codes, hashed once
