"""Between a workbook's tables and the engine's canonical tables, both ways.

``read_inputs`` turns the Excel Tables a ``Book`` holds into the contract's raw tables
(headers in either language -> snake_case keys); ``output_frames`` turns a report into
the output tables a refresh writes (snake_case -> the workbook language's headers,
metric keys -> labels). Both live here once, for the button and the command line.
"""

from __future__ import annotations

import pandas as pd

from funnel import catalog
from funnel.analysis import Report
from funnel.forecast.pipeline import without_empty_past
from funnel.inputs.contract import OPTIONAL_TABLES, required_columns
from funnel.inputs.headers import closest, exact_key, match_headers
from funnel.inputs.issues import IssueLog, words
from funnel.inputs.periods import NO_CLOSE_DATE, period_of
from funnel.inputs.refusals import Refusal
from funnel.inputs.settings import parse_column_names
from workbook.errors import TableNotFound
from workbook.layout import INPUTS, OUTPUTS, TableLayout, metric_label

__all__ = ["ALIASES", "REQUIRED_TABLES", "read_inputs", "to_canonical", "header_keys", "output_frames"]

# Tables every funnel workbook has and every figure depends on: one that is missing is a
# refusal. The competition tables are optional: without them, their own tables are empty.
REQUIRED_TABLES = ("tblSettings", "tblStages", "tblOpportunities", "tblStageHistory", "tblQuotas")
# Tables that came later: a book made before them lacks them without a word, and works as before.
_LATER_TABLES = tuple(name for name, layout in INPUTS.items() if layout.table in OPTIONAL_TABLES)

# Other names people give a column, read as the column and reported (``funnel.inputs.headers``,
# step 3). Kept short and explicit: each must be unmistakable within its table.
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "tblOpportunities": {
        "id": ("ID", "Deal", "Deal no", "Deal number", "Opportunity ID", "Opportunity no", "商机ID", "商机号", "编号"),
        "account": ("Customer", "Client", "Company", "Account name", "客户名称", "公司"),
        "name": ("Opportunity name", "Opportunity", "Deal title", "项目名称", "商机"),
        "owner": ("Rep", "Sales rep", "Salesperson", "Deal owner", "Opportunity owner", "销售", "销售代表", "业务员"),
        "stage": ("Deal stage", "Sales stage", "Stage code", "销售阶段", "阶段代码"),
        "amount": ("Amt", "Value", "Deal value", "Deal size", "Deal amount", "Opportunity amount",
                   "商机金额", "合同金额", "预计金额", "销售金额"),
        "created": ("Created date", "Create date", "Created on", "Date created", "创建时间"),
        "close_date": ("Close", "Expected close", "Expected close date", "Closing date", "成交日期", "预计成交日", "预计签约日期"),
        "probability_override": ("Probability", "Win probability", "概率", "赢单概率"),
        "last_activity": ("Last activity date", "Last contact", "最近活动日期", "最后跟进"),
    },
    "tblStageHistory": {
        "opportunity_id": ("ID", "Deal", "Opportunity ID", "商机ID"),
        "entered": ("Date", "Entered on", "Date entered", "Entered date", "日期", "进入时间"),
    },
    "tblStages": {
        "code": ("Stage code", "阶段代码"),
        "probability": ("Win probability", "概率"),
    },
    "tblQuotas": {
        "quota": ("Target", "Quota amount", "目标", "销售指标"),
    },
}


def _check_aliases() -> None:
    # An alias must not be (loosely) another column's own name in its table.
    from funnel.inputs.headers import loose_key

    for name, aliases in ALIASES.items():
        own = {loose_key(n): c.key for c in INPUTS[name].columns for n in (c.key, c.en, c.zh)}
        for key, others in aliases.items():
            for alias in others:
                assert own.get(loose_key(alias), key) == key, f"{name}: alias {alias!r} of {key} is another column's name"


_check_aliases()


def _language_of(layout: TableLayout, headers: list[str]) -> str:
    # The language the table's own headers are in, to name its columns the same way.
    texts = {exact_key(h) for h in headers}
    zh = sum(exact_key(c.zh) in texts for c in layout.columns)
    en = sum(exact_key(c.en) in texts for c in layout.columns)
    return "zh-CN" if zh > en else "en"


def _matched(table_name: str, headers: list[str], column_names: dict[str, str] | None):
    # How a table's headers read (funnel.inputs.headers), and each column's name in the
    # language the table's headers are written in.
    layout = INPUTS[table_name]
    names = {c.key: (c.en, c.zh) for c in layout.columns}
    chosen = {}
    for target, header in (column_names or {}).items():
        key = next((c.key for c in layout.columns if exact_key(target) in {exact_key(n) for n in (c.key, c.en, c.zh)}), None)
        if key is not None:
            chosen[key] = header
    language = _language_of(layout, headers)
    return match_headers(headers, names, ALIASES.get(table_name), chosen), {c.key: c.header(language) for c in layout.columns}


def header_keys(table_name: str, headers: list[object], column_names: dict[str, str] | None = None) -> dict[str, str]:
    """Each header as shown -> the contract column it is read as (only those read as one)."""
    texts = ["" if h is None else str(h) for h in headers]
    match, _ = _matched(table_name, texts, column_names)
    return {texts[p]: key for p, key in match.columns.items()}


def to_canonical(table_name: str, frame: pd.DataFrame, log: IssueLog, column_names: dict[str, str] | None = None) -> pd.DataFrame:
    """Rename a sheet table's headers to contract keys; unknown headers stay as they are.

    Headers are matched as ``funnel.inputs.headers.match_headers`` says: a close header or
    an alias is read and reported; two headers that mean the same column are reported and
    the second is ignored. A required column with no header is a refusal (in the
    workbook's names, with the header that may have been meant).

    Args:
        table_name: the Excel Table (``tblOpportunities``).
        frame: its data rows under the headers as shown.
        log: where the reports and refusals go.
        column_names: the user's headers for columns (``column_names`` in Settings), by
            the column's header or key as written there.
    """
    layout = INPUTS[table_name]
    headers = ["" if h is None else str(h) for h in frame.columns]
    match, shown = _matched(table_name, headers, column_names)
    for position, first in match.repeats.items():
        log.add(layout.table, None, headers[position], "", words("issue.column.repeats", header=headers[position], first=headers[first]),
                words("issue.action.second_column_ignored"))
    for position in match.close:
        key = match.columns[position]
        log.add(layout.table, None, key, headers[position], words("issue.column.read_as", header=headers[position], column=shown[key]),
                words("issue.action.read_rename", column=shown[key]))
    kept = [p for p in range(len(headers)) if p not in match.repeats]
    out = frame if len(kept) == len(headers) else frame.iloc[:, kept]
    out = out.copy(deep=False)
    out.columns = [match.columns.get(p, headers[p].strip() if layout.wide else headers[p]) for p in kept]
    unknown = [headers[p] for p in kept if p not in match.columns and headers[p].strip()]
    for key in required_columns(layout.table):
        if key not in match.columns.values():
            log.refuse(_missing_column(layout, key, shown[key], unknown), words("issue.action.table_not_used"))
    return out


def _missing_column(layout: TableLayout, key: str, shown: str, unknown: list[str]) -> Refusal:
    col = next(c for c in layout.columns if c.key == key)
    found = closest((key, col.en, col.zh, *ALIASES.get(layout.name, {}).get(key, ())), unknown)
    # Said in the book's language when shown (catalog.Said): the headers are the book's own.
    if found:
        message = catalog.said("refusal.column_found", table=layout.name, column=shown, found=found)
    elif unknown and not layout.wide:
        others = ", ".join(unknown[:3]) + (", ..." if len(unknown) > 3 else "")
        message = catalog.said("refusal.column_unrecognised", table=layout.name, column=shown, others=others)
    else:
        message = catalog.said("refusal.column_gone", table=layout.name, column=shown)
    return Refusal(layout.table, key, found or "", message)


def _where(book) -> tuple[str, list[str]]:
    # The book's file name (a FileBook's file, else an open workbook's name: XlwingsBook) and
    # the tables it has by other names (a renamed table is the usual cause), when it can say.
    path = getattr(book, "path", None)
    where = path.name if path is not None else getattr(getattr(book, "book", None), "name", "") or "?"
    return where, getattr(book, "other_tables", lambda: [])()


def _table_missing(book, name: str) -> catalog.Said:
    # A required Excel Table the book lacks: where to look, and how to bring it back.
    where, others = _where(book)
    return catalog.said("refusal.table_missing", table=name, book=where,
                        others=catalog.said("refusal.other_tables", tables=", ".join(others)) if others else "")


def _not_found(book, name: str):
    # An optional Excel Table the book lacks, said in the book's language inside its issue.
    where, others = _where(book)
    return words("issue.table.not_found", table=name, book=where,
                 others=words("refusal.other_tables", tables=", ".join(others)) if others else "")


def _column_names(settings: pd.DataFrame | None) -> dict[str, str]:
    # The user's column_names setting, read before the other tables (validation reports a bad one).
    if settings is None or "key" not in settings.columns or "value" not in settings.columns:
        return {}
    for key, value in zip(settings["key"], settings["value"]):
        if isinstance(key, str) and key.strip() == "column_names" and isinstance(value, str):
            try:
                return parse_column_names(value)
            except ValueError:
                return {}
    return {}


def read_inputs(book) -> tuple[dict[str, pd.DataFrame | None], IssueLog]:
    """Read every input table of ``book`` into the contract's raw tables.

    A missing required table (``REQUIRED_TABLES``: a renamed or deleted sheet, a table
    renamed in Excel) is a refusal; a missing optional one is reported. The rest are
    still read. A book with a ``cell_errors()`` method (``FileBook``) has its Excel error
    values and its formulas without a saved value reported too.

    Returns:
        (raw tables by canonical name, problems and refusals found while reading).
    """
    log = IssueLog()
    raw: dict[str, pd.DataFrame | None] = {}
    column_names: dict[str, str] = {}
    for name, layout in INPUTS.items():
        try:
            frame = book.read_table(name)
        except TableNotFound:
            raw[layout.table] = None
            if name in REQUIRED_TABLES:
                log.refuse(Refusal(layout.table, "", name, _table_missing(book, name)),
                           words("issue.action.no_deals" if layout.table == "opportunities" else "issue.action.defaults_used"))
            elif name not in _LATER_TABLES:
                log.add(layout.table, None, "", name, words("issue.table.missing", table=name, error=_not_found(book, name)),
                        words("issue.action.defaults_used"))
            continue
        raw[layout.table] = to_canonical(name, frame, log, column_names)
        if layout.table == "settings":
            column_names = _column_names(raw["settings"])
    # A file-backed book also sees Excel error values (#N/A, #REF!) and formulas without a
    # saved value, which read as blanks.
    keys: dict[str, dict[str, str]] = {}
    for name, row, header, error in getattr(book, "cell_errors", list)():
        layout = INPUTS[name]
        if name not in keys:
            frame = raw.get(layout.table)
            keys[name] = header_keys(name, list(book.read_table(name).columns), column_names) if frame is not None else {}
        key = keys[name].get(str(header), header)
        if error.startswith("="):
            log.add(layout.table, row, key, error, words("issue.cell.no_saved_value"), words("issue.action.recalculate"))
        else:
            log.add(layout.table, row, key, error, words("issue.cell.excel_error", error=error), words("issue.action.read_as_blank"))
    return raw, log


def _display(frame: pd.DataFrame, table_name: str, language: str) -> pd.DataFrame:
    layout = OUTPUTS[table_name]
    out = pd.DataFrame(index=range(len(frame)))
    for col in layout.columns:
        values = frame[col.key] if col.key in frame.columns else pd.Series([None] * len(frame))
        values = values.reset_index(drop=True)
        if col.fmt in ("int",):
            values = pd.to_numeric(values, errors="coerce")
        elif col.fmt == "flag" and values.dtype == bool:
            values = values.astype(int)  # 1 / 0 shown as yes / no by the column's format (workbook.build.Formats)
        elif col.fmt == "flag":
            values = values.map(lambda v: None if v is None or pd.isna(v) else int(bool(v)))
        out[col.header(language)] = values.astype(object).where(values.notna(), None) if values.dtype == object else values
    return out


# Columns whose values are the engine's words: shown in the book's words when it is not
# English (an English book shows them as they are). column -> catalog prefix of its values.
_VALUE_WORDS = {
    "period": "shown.period",
    "dimension": "shown.dimension",
    "segment": "shown.segment",
    "method": "shown.method",
    "calibration": "shown.calibration",
    "opportunity_id": "shown.deal",
}


def _in_words(values: pd.Series, prefix: str, language: str) -> pd.Series:
    # One catalog look-up per distinct value; a value without an entry is shown as it is.
    def said(value):
        key = f"{prefix}.{value}".replace(" ", "_") if isinstance(value, str) else ""
        return catalog.text(key, language) if catalog.has(key) else value
    return values.map({v: said(v) for v in values.dropna().unique()}).where(values.notna(), values)


def _issue_places(data: pd.DataFrame, language: str) -> pd.DataFrame:
    # An issue's table and column as the book's sheet and header ("opportunities" -> 商机).
    layouts = {layout.table: layout for layout in INPUTS.values()}
    def sheet(table):
        layout = layouts.get(table)
        return layout.sheet(language) if layout is not None else table

    def column(table, key):
        layout = layouts.get(table)
        headers = {col.key: col.header(language) for col in layout.columns} if layout is not None else {}
        return ", ".join(headers.get(part.strip(), part.strip()) for part in str(key).split(",")) if key else key
    return data.assign(column=[column(t, k) for t, k in zip(data["table"], data["column"])],
                       table=[sheet(t) for t in data["table"]])


def output_frames(report: Report) -> dict[str, pd.DataFrame]:
    """Every output table a refresh writes, keyed by Excel Table name, headers localized."""
    language = report.settings.language
    frames = {}
    for name, layout in OUTPUTS.items():
        data = report.tables.get(layout.table)
        if data is None:
            continue
        if layout.table == "summary":
            # The as-of date and the win rate stay a date and a number: their rows' conditional
            # formats give them their look (workbook.build._summary_formats).
            data = data.assign(metric=[metric_label(m, language) for m in data["metric"]])
        if layout.table == "range_forecast":
            # The Summary shows what can still move: the current period and later ones.
            current = period_of(report.settings.as_of, report.settings)
            data = data[(data["period"] >= current) | (data["period"] == NO_CLOSE_DATE)]
        if layout.table in ("forecast", "forecast_teams"):
            # Past periods with no deal in them (a quota alone) are left out of the tables by owner and team.
            data = without_empty_past(data, period_of(report.settings.as_of, report.settings))
        if layout.table == "win_rates":
            data = data.assign(dimension=data["dimension"].str.replace("_", " "))
        if language != "en":
            if layout.table == "summary":
                data = data.assign(value=[catalog.text(f"shown.method.{v}", language) if m == "probability_method"
                                          and catalog.has(f"shown.method.{v}") else v
                                          for m, v in zip(report.tables["summary"]["metric"], data["value"])])
            if layout.table == "issues":
                data = _issue_places(data, language)
            data = data.assign(**{column: _in_words(data[column], prefix, language)
                                  for column, prefix in _VALUE_WORDS.items() if column in data.columns})
        frames[name] = _display(data, name, language)
    return frames
