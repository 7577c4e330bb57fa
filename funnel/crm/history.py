"""CRM history exports in: Salesforce's Opportunity History report and HubSpot's deal
property history, read into a deal history (``funnel.snapshots.HISTORY_COLUMNS``) whose
replay gives exact deal versions.

Salesforce (``salesforce-history``): the Opportunity History report (report type
"Opportunity History"), or the OpportunityHistory object exported by a data loader. Each row
is a change to a deal's Stage, Amount, Probability or Close Date, with the values *after* the
change and the day it was made::

    Opportunity ID, Opportunity Name, Stage, Amount, Probability (%), Close Date, Last Modified, ...

HubSpot (``hubspot-history``): a deal's property history, one row per value a property was
set to (what HubSpot's ``propertiesWithHistory`` returns, and the property-history streams
of export tools)::

    Record ID, Property, Value, Timestamp          (dealstage, amount, closedate; others ignored)

Stages map onto the book's stage codes as the deal layouts map them (``salesforce`` and
``hubspot`` in ``funnel/crm/layouts``), or are the book's codes already. The probability a CRM
stored is not kept: a snapshot forecasts each stage by the book's own method, as a refresh
does.

Nothing in the export stops the import. A row with a blank or unknown deal id (no deal of
that id in the book), or a change day that cannot be read, is left out; an amount, a close
date or a stage that cannot be read is left blank (the row does not change that field); each
is one Issues row naming the file, the row (as Excel shows the CSV: header = 1), the column
and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from funnel.crm.importers import ExportError, _decode, _key, _records, load_layout
from funnel.inputs import parsing
from funnel.inputs.issues import IssueLog, words
from funnel.snapshots.backfill import HISTORY_COLUMNS, empty_history

__all__ = ["HISTORY_LAYOUTS", "HistoryImport", "detect_history_layout", "read_history_export"]

HISTORY_LAYOUTS = ("salesforce-history", "hubspot-history")

# Canonical column -> the headers that feed it, the first present winning (matched ignoring
# case, spaces and punctuation). Salesforce's report labels, then the API's field names.
_SALESFORCE = {
    "deal_id": ["Opportunity ID", "Opportunity 18 Digit ID", "OpportunityId", "Opportunity.Id"],
    "changed_on": ["Edit Date", "Last Modified", "Last Modified Date", "Stage Change Date", "CreatedDate", "Created Date"],
    "stage": ["To Stage", "Stage", "StageName", "Stage Name"],
    "amount": ["To Amount", "Amount"],
    "close_date": ["To Close Date", "Close Date", "CloseDate"],
}
# Headers only a history export has: they make ``auto`` read the file as a history.
_SALESFORCE_ONLY = ["Edit Date", "Last Modified", "From Stage", "To Stage", "Previous Amount", "PrevAmount",
                    "Previous Close Date", "PrevCloseDate", "Stage Change Date", "Stage Duration"]
_HUBSPOT = {
    "deal_id": ["Record ID", "Deal ID", "dealId", "hs_object_id", "objectId"],
    "property": ["Property", "Property name", "Property internal name", "propertyName"],
    "value": ["Value", "New value", "Property value", "newValue"],
    "changed_on": ["Timestamp", "Changed at", "Change date", "Date", "timestamp"],
}
# HubSpot property (internal name or label) -> history field.
_HUBSPOT_PROPERTIES = {_key(name): f for names, f in ((("dealstage", "Deal Stage"), "stage"), (("amount", "Amount"), "amount"),
                                                      (("closedate", "Close Date"), "close_date")) for name in names}
_HEADER_SEARCH = 20


@dataclass
class HistoryImport:
    """What a history export gave.

    Attributes:
        layout: ``salesforce-history`` or ``hubspot-history``.
        history: the deal history (``HISTORY_COLUMNS``) of the rows kept, in file order.
        log: one Issues row per problem (table = the file's name).
        rows: the export's data rows; ``kept`` how many went into ``history``.
        ignored_properties: HubSpot properties that are not stage, amount or close date, and
            how many rows each had.
    """

    layout: str
    history: pd.DataFrame
    log: IssueLog
    rows: int = 0
    kept: int = 0
    ignored_properties: dict[str, int] = field(default_factory=dict)


def _position(header: list[str], names: list[str]) -> int | None:
    keys = [_key(h) for h in header]
    for name in names:
        if _key(name) in keys:
            return keys.index(_key(name))
    return None


def detect_history_layout(header: list[str]) -> str | None:
    """Which history layout a header row is (None: not a history export). Salesforce needs its
    deal id, a change day, a stage and a header only a history has (Edit Date, Last Modified,
    From Stage, ...); HubSpot its deal id, property, value and timestamp."""
    if all(_position(header, names) is not None for names in _HUBSPOT.values()):
        return "hubspot-history"
    needed = ("deal_id", "changed_on", "stage")
    if all(_position(header, _SALESFORCE[n]) is not None for n in needed) and _position(header, _SALESFORCE_ONLY) is not None:
        return "salesforce-history"
    return None


def _find_header(records: list[list[str]], layout: str | None) -> tuple[int, str] | None:
    seen = 0
    for i, record in enumerate(records):
        if not any(cell.strip() for cell in record):
            continue
        found = detect_history_layout(record)
        if found is None and layout == "salesforce-history":  # told: any header with id, day and stage
            if all(_position(record, _SALESFORCE[n]) is not None for n in ("deal_id", "changed_on", "stage")):
                found = layout
        if found is not None and (layout is None or found == layout):
            return i, found
        seen += 1
        if seen >= _HEADER_SEARCH:
            break
    return None


def sniff_history_layout(path: str | Path) -> str | None:
    """The history layout of the export at ``path`` when its header says it is one (None:
    not a history export, or not readable: the deal importer says why)."""
    try:
        text, _ = _decode(Path(path))
        records = _records(text, Path(path).name)
    except ExportError:
        return None
    found = _find_header(records, None)
    return None if found is None else found[1]


def _epoch_or_date(value: str, order: str | None):
    text = value.strip()
    if text.isdigit() and len(text) in (12, 13):  # HubSpot's milliseconds since 1970
        return pd.Timestamp(int(text), unit="ms").date()
    return parsing.parse_date(text, order)


class _Reader:
    def __init__(self, name: str, header: list[str], rows: list[tuple[int, list[str]]], log: IssueLog):
        self.name, self.header, self.rows, self.log = name, header, rows, log

    def column(self, position: int | None) -> pd.Series:
        index = [row for row, _ in self.rows]
        if position is None:
            return pd.Series([None] * len(index), index=index, dtype=object)
        values = [cells[position].strip() if position < len(cells) and cells[position].strip() else None for _, cells in self.rows]
        return pd.Series(values, index=index, dtype=object)

    def parsed(self, raw: pd.Series, header: str, parse, action) -> pd.Series:
        # Each distinct text parsed once; one Issues row per cell that cannot be read.
        values, problems = {}, {}
        for text in raw.dropna().unique():
            try:
                values[text] = parse(text)
            except parsing.ParseError as err:
                problems[text] = str(err)
        bad = raw.isin(list(problems))
        if bad.any():
            self.log.add_many(self.name, raw.index[bad], header, raw[bad], [problems[v] for v in raw[bad]], action)
        return raw.map(lambda v: values.get(v), na_action="ignore").where(~bad & raw.notna(), None)

    def dates(self, raw: pd.Series, header: str, declared: str | None, action) -> pd.Series:
        firsts = raw.dropna()
        firsts = firsts[~firsts.duplicated()]
        reading = parsing.date_reading(zip(firsts.index, firsts), declared=declared)
        if reading.note is not None:
            self.log.add(self.name, reading.note[0], header, *reading.note[1:])
        parsed = self.parsed(raw, header, lambda v: _epoch_or_date(v, reading.order), action)
        return pd.to_datetime(parsed, errors="coerce").astype("datetime64[ns]")


def _stage_codes(layout: str, codes: list[str] | None) -> dict[str, str]:
    # Export stage (key) -> code: the deal layout's map, and the book's own codes as they are.
    deal_layout = load_layout("salesforce" if layout == "salesforce-history" else "hubspot")
    out = {key: entry.code for key, entry in deal_layout.stage_map().items()}
    for code in codes if codes is not None else ["P", "I", "B", "W", "L"]:
        out[_key(code)] = parsing.fold(str(code)).upper()
    return out


def read_history_export(path: str | Path, layout: str = "auto", known_ids: list[str] | None = None,
                        stage_codes: list[str] | None = None) -> HistoryImport:
    """Read a Salesforce Opportunity History or HubSpot property-history export.

    Args:
        path: the CSV.
        layout: ``salesforce-history``, ``hubspot-history`` or ``auto`` (told by the header).
        known_ids: the book's deal ids; a row of any other deal is left out and reported
            (None: every id is kept).
        stage_codes: the book's stage codes (None: the default P/I/B/W/L scheme).

    Raises:
        ExportError: the file cannot be read, or has no header of a history export.
    """
    path = Path(path)
    if layout not in ("auto", *HISTORY_LAYOUTS):
        raise ExportError(f"unknown history layout '{layout}' (use {', '.join(HISTORY_LAYOUTS)} or auto)")
    text, _ = _decode(path)
    records = _records(text, path.name)
    found = _find_header(records, None if layout == "auto" else layout)
    if found is None:
        raise ExportError(f"{path.name} has no header of a CRM history export ({', '.join(HISTORY_LAYOUTS)}): "
                          "Salesforce's needs Opportunity ID, Stage and Edit Date or Last Modified; HubSpot's Record ID, "
                          "Property, Value and Timestamp")
    at, layout = found
    header = records[at]
    rows = [(i + 1, cells) for i, cells in enumerate(records) if i > at and any(c.strip() for c in cells)]
    log = IssueLog()
    reader = _Reader(path.name, header, rows, log)
    columns = _SALESFORCE if layout == "salesforce-history" else _HUBSPOT
    where = {name: _position(header, names) for name, names in columns.items()}
    named = {name: (header[p] if p is not None else "") for name, p in where.items()}
    left_out = words("issue.action.row_left_out")
    left_blank = words("issue.action.left_blank")

    ids = reader.column(where["deal_id"])
    day = reader.dates(reader.column(where["changed_on"]), named["changed_on"],
                       "mdy" if layout == "salesforce-history" else None, left_out)
    out = empty_history().reindex(range(len(rows)))
    out.index = ids.index
    out["deal_id"], out["changed_on"] = ids, day
    ignored: dict[str, int] = {}
    codes = _stage_codes(layout, stage_codes)
    if layout == "salesforce-history":
        raw_stage = reader.column(where["stage"])
        out["amount"] = pd.to_numeric(reader.parsed(reader.column(where["amount"]), named["amount"],
                                                    parsing.parse_amount, left_blank), errors="coerce").astype(float)
        out["close_date"] = reader.dates(reader.column(where["close_date"]), named["close_date"], "mdy", left_blank)
        stage_header = named["stage"]
    else:
        prop = reader.column(where["property"]).map(lambda v: _HUBSPOT_PROPERTIES.get(_key(v)), na_action="ignore")
        value = reader.column(where["value"])
        for name, count in reader.column(where["property"])[prop.isna()].dropna().value_counts().items():
            ignored[str(name)] = int(count)
        raw_stage = value.where(prop == "stage", None)
        amount = value.where(prop == "amount", None)
        out["amount"] = pd.to_numeric(reader.parsed(amount, named["value"], parsing.parse_amount, left_blank),
                                      errors="coerce").astype(float)
        out["close_date"] = reader.dates(value.where(prop == "close_date", None), named["value"], None, left_blank)
        stage_header = named["value"]
    stage = raw_stage.map(lambda v: codes.get(_key(v)), na_action="ignore")
    unknown = raw_stage.notna() & stage.isna()
    if unknown.any():
        log.add_many(path.name, raw_stage.index[unknown], stage_header, raw_stage[unknown],
                     words("issue.history_import.unknown_stage"), left_blank)
    out["stage"] = stage.where(stage.notna(), None)

    blank_id = ids.isna()
    log.add_many(path.name, ids.index[blank_id], named["deal_id"], [""] * int(blank_id.sum()),
                 words("issue.history_import.blank_id"), left_out)
    not_in_book = ~blank_id & (~ids.isin(list(known_ids)) if known_ids is not None else False)
    log.add_many(path.name, ids.index[not_in_book], named["deal_id"], ids[not_in_book],
                 words("issue.history_import.unknown_id"), left_out)
    if layout == "hubspot-history":
        # A row of a property we do not follow changes nothing: dropped without a word.
        keep_rows = prop.notna().to_numpy()
    else:
        keep_rows = np.ones(len(out), dtype=bool)
    keep = keep_rows & ~blank_id.to_numpy() & ~np.asarray(not_in_book, dtype=bool) & out["changed_on"].notna().to_numpy()
    history = out[keep]
    history = history[history[["stage", "amount", "close_date"]].notna().any(axis=1)]
    return HistoryImport(layout, history.loc[:, list(HISTORY_COLUMNS)].reset_index(drop=True), log, len(rows), len(history),
                         ignored)
