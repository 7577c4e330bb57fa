"""CRM exports in: Salesforce reports, HubSpot deal exports, the Maven CRM sample, or any
CSV a mapping file describes, turned into the canonical ``opportunities`` table (and
``stage_history`` when the export carries stage dates).

A layout is data, not code: a JSON file saying which export header feeds which canonical
column, how the tool's stages map onto the workbook's stage codes, how its dates and
numbers are written, and which companion files to look values up in. Three ship in
``funnel/crm/layouts/`` (``maven``, ``salesforce``, ``hubspot``) plus ``funnel`` (a CSV already
in the workbook's own column names); ``layout="auto"`` picks the one whose columns the
headers match best. Anyone can write their own and pass its path.

Nothing in the export stops the import. A row that cannot be mapped (blank or duplicate
id, blank or unknown stage, a row whose values spill past the header) is left out and
reported; a cell that cannot be read (an amount, a date) is left blank and reported; the
rest import. Every reconciliation (a product spelled two ways, a misspelled sector,
list prices standing in for missing amounts) is reported once, with its count.

Line numbers: an issue's ``row`` is the row the user sees when the CSV opens in Excel
(header = 1, first data row = 2; blank lines count, a quoted cell spanning two lines does
not). The imported tables are indexed the same way, so validation issues point there too.
Stage history derived from date columns is numbered 2, 3, ... as the rows of the
``stage_history`` table it will be written to.

Layout file schema (every key but ``name``, ``columns`` and ``stages`` is optional)::

    {
      "name": "my_crm",                  # shown in the summary
      "description": "...", "notes": ["why a stage maps where it does", "..."],
      "columns": {                       # canonical opportunities column -> export header(s);
        "id": ["Deal ID", "Name"],       #   the first header present wins. id and stage are
        "stage": "Status",               #   required. Headers match ignoring case, spaces and
        "amount": "Value", ...           #   punctuation ("Close Date" = "close_date").
      },
      "extra_columns": {"Region": "region"},   # headers kept beside the deals (ImportResult.extra)
      "stages": {                        # export stage -> stage code, matched ignoring case,
        "Qualified": "P",                #   spaces and punctuation; or with the tool's default
        "Won": {"code": "W", "probability": 1.0}   # probability for the stage (see below)
      },
      "keep_unmapped_stages": false,     # true: pass unknown stages on as codes (validation
                                         #   then checks them against the workbook's scheme)
      "won_codes": ["W"], "lost_codes": ["L"],   # which codes are outcomes (history, summary)
      "date_order": "mdy" | "dmy",       # how to read 3/1/2026 when no date in the column
                                         #   tells (13/1/2026 tells); omitted: slashes are
                                         #   M/D/Y, dots and dashes D.M.Y. ISO dates always read.
      "decimal": "." | ",",              # the decimal separator of 1,234 and 1.234; omitted:
                                         #   guessed per cell. 4.800,00 says itself.
      "probability_scale": 100,          # the probability column holds 70 for 70% (default 1)
      "currency_columns": ["Currency"],  # more than one currency in it is reported
      "values": {"forecast_category": {"Not forecasted": "Omitted"}},  # translations
      "constants": {"team": "Inside Sales"},     # fills a canonical column where blank
      "history": [                       # stage history from date columns:
        {"date": "Date entered Demo", "stage": "I"},   # the deal entered I on that date
        {"date": "Closed On", "when_closed": true}     # a won/lost deal entered its stage
      ],
      "lookups": [{                      # companion CSVs beside the export
        "file": "teams.csv", "key": "rep",   # the companion's key column
        "on": "owner",                       # the deal column matched against it
        "match": "exact" | "loose",          # loose ignores spaces, case and punctuation
        "columns": {                         # companion column -> deal column, filled where
          "manager": "team",                 #   blank; a non-canonical name goes to extra;
          "list_price": {"to": "amount", "stages": ["P", "I", "B"]}   # only for these stages
        },
        "fix_values": {"sector": {"technolgy": "technology"}},  # corrections, reported
        "people": "manager"                  # this column is each key's manager: the rows
      }]                                     #   fill the People table (person, reports-to)
    }

With a stage's ``probability`` declared, a probability column equal to it is the tool's
stage default rather than the rep's judgement, so it is dropped and the workbook's own
stage probability applies; a different value is kept as ``probability_override``.

Exceptions::

    ExportError            the export cannot be read at all (missing, not text, no layout fits)
    └── LayoutError        a layout file is missing or not valid (also a ValueError)
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Callable, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from funnel import catalog
from funnel.inputs import parsing
from funnel.inputs.contract import TABLES, columns_of
from funnel.inputs.issues import IssueLog, each, words
from funnel.inputs.schemes import default_stages

__all__ = [
    "BUILTIN_LAYOUTS",
    "ExportError",
    "LayoutError",
    "Layout",
    "ImportResult",
    "load_layout",
    "detect_layout",
    "import_export",
    "merge_into",
]

BUILTIN_LAYOUTS = ("maven", "salesforce", "hubspot", "funnel")
SUMMARY_COLUMNS = ("item", "count", "detail")
_KIND = {c.name: c.kind for c in TABLES["opportunities"]}
_CANONICAL = set(_KIND)


class ExportError(Exception):
    """The export cannot be read at all."""


class LayoutError(ExportError, ValueError):
    """A layout file is missing or not valid."""


# ---------------------------------------------------------------- layouts


def _key(text: object) -> str:
    # Headers, stages and loose lookups match on letters and digits only, case-folded:
    # "Close Date" = "close_date" = "CloseDate", "GTXPro" = "GTX Pro".
    return "".join(ch for ch in parsing.fold(str(text)).casefold() if ch.isalnum())


def _names(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


class StageEntry(BaseModel):
    """One export stage: the code it maps to and, optionally, the tool's default probability."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1)
    probability: float | None = Field(None, ge=0, le=1)


class HistoryDate(BaseModel):
    """A date column that says when a deal entered a stage."""

    model_config = ConfigDict(extra="forbid")
    date: str | list[str]
    stage: str | None = None
    when_closed: bool = False

    @model_validator(mode="after")
    def _one_rule(self) -> "HistoryDate":
        if (self.stage is None) == (not self.when_closed):
            raise ValueError("give either 'stage' or 'when_closed': true")
        return self


class LookupColumn(BaseModel):
    """Where one companion column goes, and for which stages."""

    model_config = ConfigDict(extra="forbid")
    to: str = Field(min_length=1)
    stages: list[str] | None = None


class Lookup(BaseModel):
    """A companion CSV beside the export, joined to the deals on one column."""

    model_config = ConfigDict(extra="forbid")
    file: str
    key: str
    on: str
    match: Literal["exact", "loose"] = "exact"
    columns: dict[str, str | LookupColumn]
    fix_values: dict[str, dict[str, str]] = {}
    # The companion column naming each key's manager: the companion's rows (key = a person)
    # become the People table (person -> reports-to), for the calls roll-up.
    people: str | None = None

    def targets(self) -> dict[str, LookupColumn]:
        """Companion column -> where it goes."""
        return {src: LookupColumn(to=t) if isinstance(t, str) else t for src, t in self.columns.items()}


class Layout(BaseModel):
    """How one CRM's export maps onto the canonical opportunities table (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    description: str = ""
    notes: list[str] | str = []
    columns: dict[str, str | list[str]]
    extra_columns: dict[str, str] = {}
    stages: dict[str, str | StageEntry]
    keep_unmapped_stages: bool = False
    won_codes: list[str] = ["W"]
    lost_codes: list[str] = ["L"]
    date_order: Literal["mdy", "dmy"] | None = None
    decimal: Literal[".", ","] | None = None
    probability_scale: float = Field(1, gt=0)
    currency_columns: list[str] = []
    values: dict[str, dict[str, str]] = {}
    constants: dict[str, str] = {}
    history: list[HistoryDate] = []
    lookups: list[Lookup] = []

    @field_validator("columns")
    @classmethod
    def _canonical_columns(cls, value: dict) -> dict:
        unknown = [c for c in value if c not in _CANONICAL]
        if unknown:
            raise ValueError(f"not opportunities columns: {', '.join(unknown)} (known: {', '.join(columns_of('opportunities'))})")
        for needed in ("id", "stage"):
            if needed not in value:
                raise ValueError(f"'{needed}' must be mapped")
        return value

    @field_validator("extra_columns")
    @classmethod
    def _extra_not_canonical(cls, value: dict) -> dict:
        clash = [t for t in value.values() if t in _CANONICAL]
        if clash:
            raise ValueError(f"extra column names that are opportunities columns: {', '.join(clash)} (map them in 'columns')")
        return value

    @field_validator("constants", "values")
    @classmethod
    def _keys_canonical(cls, value: dict) -> dict:
        unknown = [c for c in value if c not in _CANONICAL]
        if unknown:
            raise ValueError(f"not opportunities columns: {', '.join(unknown)}")
        return value

    def stage_map(self) -> dict[str, StageEntry]:
        """Stage key (letters and digits, case-folded) -> entry, codes folded and upper-cased."""
        out = {}
        for name, entry in self.stages.items():
            entry = StageEntry(code=entry) if isinstance(entry, str) else entry
            out[_key(name)] = StageEntry(code=parsing.fold(entry.code).upper(), probability=entry.probability)
        return out


def load_layout(spec: str | Path | Layout) -> Layout:
    """Load a shipped layout by name or a user's mapping file by path.

    Args:
        spec: ``maven``, ``salesforce``, ``hubspot``, ``funnel``, a path to a JSON layout
            file, or a Layout (returned as it is).

    Returns:
        The layout.

    Raises:
        LayoutError: unknown name, unreadable file, or a file that breaks the schema
            (the message names the key).
    """
    if isinstance(spec, Layout):
        return spec
    if str(spec) in BUILTIN_LAYOUTS:
        text = resources.files("funnel.crm.layouts").joinpath(f"{spec}.json").read_text(encoding="utf-8")
        source = f"layout '{spec}'"
    else:
        path = Path(spec)
        if path.suffix.lower() != ".json" and not path.exists():
            raise LayoutError(f"unknown layout '{spec}' (use {', '.join(BUILTIN_LAYOUTS)}, auto, or a path to a .json mapping file)")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except OSError as err:
            raise LayoutError(f"cannot read layout file {path}: {err.strerror or err}") from None
        source = f"layout file {path.name}"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise LayoutError(f"{source} is not valid JSON: {err.msg} at line {err.lineno}") from None
    try:
        return Layout.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise LayoutError(f"{source}: {where}: {first['msg']}") from None


def _find_columns(headers: list[str], layout: Layout) -> dict[str, int]:
    # canonical column -> position of the first of its headers present in the export.
    position = {}
    for i, header in enumerate(headers):
        position.setdefault(_key(header), i)
    found = {}
    for canonical, names in layout.columns.items():
        for name in _names(names):
            if _key(name) in position:
                found[canonical] = position[_key(name)]
                break
    return found


def detect_layout(headers: list[str], layouts: list[Layout] | None = None) -> Layout | None:
    """The layout whose columns the headers match best; None when none maps both id and stage.

    Args:
        headers: the export's header row.
        layouts: candidates; the shipped layouts when None. Ties go to the earlier one.
    """
    best, best_score = None, (0, 0)
    for layout in layouts if layouts is not None else [load_layout(n) for n in BUILTIN_LAYOUTS]:
        found = _find_columns(headers, layout)
        if "id" not in found or "stage" not in found:
            continue
        # More columns matched wins; then more headers spelled exactly as the layout has them.
        exact = sum(1 for c, i in found.items() if headers[i].strip() in _names(layout.columns[c]))
        if (len(found), exact) > best_score:
            best, best_score = layout, (len(found), exact)
    return best


# ---------------------------------------------------------------- reading CSV text


def _decode(path: Path) -> tuple[str, str]:
    # Exports come as UTF-8 (often with a BOM), UTF-16 (Excel's "Unicode text") or the
    # Windows code page of the machine that saved them: GBK in China, cp1252 in the West.
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExportError(f"export file not found: {path}") from None
    except OSError as err:
        raise ExportError(f"cannot read {path}: {err.strerror or err}") from None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16"), "UTF-16"
    if data[:4] == b"PK\x03\x04":
        raise ExportError(f"{path.name} is an Excel workbook or zip file, not CSV: save it as CSV (UTF-8) and import that")
    for encoding, label in (("utf-8-sig", "UTF-8"), ("gb18030", "GB18030 (Chinese Windows)"), ("cp1252", "Windows-1252")):
        try:
            return data.decode(encoding), label
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "Latin-1"


def _records(text: str, name: str) -> list[list[str]]:
    # Every CSV record, blank ones included, so record i is row i + 1 in Excel.
    text = text.replace("\x00", "")
    delimiter = None
    first_line = text.split("\n", 1)[0].strip().strip("\r")
    skipped_sep_line = False
    if first_line.lower().startswith("sep=") and len(first_line) == 5:
        delimiter, skipped_sep_line = first_line[4], True  # Excel's "sep=;" hint line
    if delimiter is None:
        sample = next((line for line in text.splitlines() if line.strip()), "")
        outside_quotes = re.sub(r'"[^"]*"', "", sample)
        counts = {d: outside_quotes.count(d) for d in (",", ";", "\t", "|")}
        delimiter = max(counts, key=counts.get) if max(counts.values()) > 0 else ","
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as err:
        raise ExportError(f"{name} is not readable as CSV: {err}") from None
    if skipped_sep_line:
        records[0] = []  # keep the numbering: the hint line is row 1 in Excel
    return records


def _find_header(records: list[list[str]], layouts: list[Layout]) -> tuple[int, Layout] | None:
    # The header is the first of the first twenty non-blank records that a layout fits;
    # report exports sometimes put a title or filter line above it.
    seen = 0
    for i, record in enumerate(records):
        if not any(cell.strip() for cell in record):
            continue
        layout = detect_layout(record, layouts)
        if layout is not None:
            return i, layout
        seen += 1
        if seen >= 20:
            break
    return None


# ---------------------------------------------------------------- the result


@dataclass
class ImportResult:
    """What an import produced.

    Attributes:
        tables: ``opportunities`` (and ``stage_history`` when the export has stage dates)
            in canonical columns, indexed by the line the user sees, ready for
            ``funnel.analysis.run``.
        log: rows and cells that could not be mapped, and every reconciliation, each with
            what was done. ``run(result.tables, log=result.log)`` puts them in the
            report's issues table beside validation's.
        summary: what the import did, one line per step: item, count, detail.
        layout: the layout used.
        extra: non-canonical columns the layout keeps (region, deal type...), indexed like
            the imported opportunities.
    """

    tables: dict[str, pd.DataFrame]
    log: IssueLog
    summary: pd.DataFrame
    layout: str
    extra: pd.DataFrame = field(default_factory=pd.DataFrame)
    currency: str | None = None  # the one currency code of the export's currency column, if it has one

    @property
    def issues(self) -> pd.DataFrame:
        """The issues table (table, row, column, value, problem, action)."""
        return self.log.table()

    @property
    def opportunities(self) -> pd.DataFrame:
        """The imported opportunities."""
        return self.tables["opportunities"]


class _Summary:
    """Collects the summary lines in the order the import does its steps."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, int, str]] = []

    def add(self, item: str, count: int, detail: str = "") -> None:
        self.rows.append((item, int(count), detail))

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=list(SUMMARY_COLUMNS))


# ---------------------------------------------------------------- the import


def import_export(path: str | Path, layout: str | Path | Layout = "auto", stages: pd.DataFrame | None = None,
                  language: str = "en") -> ImportResult:
    """Import a CRM export (CSV) into canonical opportunities (and stage history).

    Args:
        path: the export file (CSV; UTF-8, UTF-16, GB18030 or Windows-1252; comma,
            semicolon, tab or pipe separated). Companion files a layout looks up are read
            from the same folder.
        layout: ``auto`` (detect from the headers), a shipped layout name (``maven``,
            ``salesforce``, ``hubspot``, ``funnel``), a path to a JSON mapping file, or
            a Layout.
        stages: the stage scheme the deals go into (validated; None: the default
            P/I/B/W/L). Each open stage the layout maps no export stage to is an issue row:
            no imported deal can be in it, so it will have no data.
        language: the language of that issue row (the workbook's).

    Returns:
        The ImportResult: tables for ``funnel.analysis.run``, the issues log, the summary and
        the extra columns.

    Raises:
        ExportError: the file is missing or not CSV text, or no layout fits its headers
            (the message lists the headers it found).
        LayoutError: the layout named cannot be loaded.
    """
    path = Path(path)
    layouts = [load_layout(n) for n in BUILTIN_LAYOUTS] if str(layout) == "auto" else [load_layout(layout)]
    text, encoding = _decode(path)
    records = _records(text, path.name)
    found = _find_header(records, layouts)
    if found is None:
        header = next((r for r in records if any(c.strip() for c in r)), [])
        shown = ", ".join(h for h in header[:12] if h.strip()) or "none"
        if str(layout) == "auto":
            raise ExportError(
                f"cannot tell which CRM {path.name} comes from: no layout finds both a deal id and a stage column "
                f"among its headers ({shown}); pass a layout file that maps them"
            )
        chosen = layouts[0]
        raise ExportError(
            f"{path.name} does not fit the {chosen.name} layout: it needs a deal id column "
            f"({', '.join(_names(chosen.columns['id']))}) and a stage column ({', '.join(_names(chosen.columns['stage']))}); "
            f"headers found: {shown}"
        )
    header_at, chosen = found
    result = _Importer(path, chosen, records, header_at, encoding, detected=str(layout) == "auto").run()
    _report_unmapped_stages(result, path.name, chosen, default_stages() if stages is None else stages, language)
    return result


def _report_unmapped_stages(result: ImportResult, file: str, layout: Layout, stages: pd.DataFrame, language: str) -> None:
    # Codes the layout can give a deal or a history row. A layout that keeps the export's
    # own stage codes restricts nothing: a stage its data lacks is reported at refresh.
    if layout.keep_unmapped_stages:
        return
    mapped = {entry.code for entry in layout.stage_map().values()}
    mapped |= {parsing.fold(h.stage).upper() for h in layout.history if h.stage}
    is_open = ~(stages["is_won"] | stages["is_lost"]).to_numpy(dtype=bool)
    column = ", ".join(_names(layout.columns["stage"]))
    for code in stages["code"].to_numpy()[is_open]:
        if str(code) not in mapped:
            result.log.add(file, None, column, code,
                           catalog.text("issue.stage_not_mapped.problem", language, layout=layout.name, code=code),
                           catalog.text("issue.stage_not_mapped.action", language, code=code))


class _Importer:
    """One import: the steps of ``import_export`` sharing the export, the layout and the log."""

    def __init__(self, path: Path, layout: Layout, records: list[list[str]], header_at: int, encoding: str, detected: bool):
        self.path, self.layout, self.file = path, layout, path.name
        self.log, self.summary = IssueLog(), _Summary()
        self.header = [h.strip() for h in records[header_at]]
        self.encoding, self.detected = encoding, detected
        self.header_at = header_at
        self.records = records
        self._date_cache: dict[int, pd.Series] = {}
        self.people: pd.DataFrame | None = None  # from a lookup with "people" (Lookup.people)

    # -- steps, in order

    def run(self) -> ImportResult:
        layout = self.layout
        how = "detected from the headers" if self.detected else "chosen"
        self.summary.add("layout", len(self.header), f"{layout.name} ({how}); {len(self.header)} columns in the header")
        if self.encoding != "UTF-8":
            self.summary.add("encoding", 0, f"read as {self.encoding}")
        if self.header_at > 0:
            self.summary.add("lines above the header", self.header_at, f"header found on line {self.header_at + 1}")
        frame = self._data_frame()
        self.columns = _find_columns(self.header, layout)
        self._report_columns()
        keep = self._rows_to_import(frame)
        frame = frame[keep]
        opps = pd.DataFrame(index=frame.index)
        for canonical in columns_of("opportunities"):
            if canonical in self.columns:
                opps[canonical] = self._column(frame, canonical)
        opps["stage"] = self._stage_codes
        opps = self._probabilities(frame, opps)
        opps = self._translate(opps)
        extra = self._extra(frame)
        opps, extra = self._lookups(opps, extra)
        opps = self._constants(opps)
        if "amount" not in opps:
            opps["amount"] = np.nan  # a required column: blank amounts still let deals count
        currency = self._currency(frame)
        self._outcome_amounts(opps)
        tables = {"opportunities": opps[[c for c in columns_of("opportunities") if c in opps]]}
        history = self._history(frame, tables["opportunities"])
        if history is not None:
            tables["stage_history"] = history
        if self.people is not None:
            tables["people"] = self.people
        self.summary.add("deals imported", len(opps))
        return ImportResult(tables=tables, log=self.log, summary=self.summary.table(), layout=layout.name, extra=extra,
                            currency=currency)

    def _data_frame(self) -> pd.DataFrame:
        # Data rows as text, indexed by Excel row; blank lines and a report footer dropped.
        width = len(self.header)
        body = self.records[self.header_at + 1:]
        lines = np.arange(self.header_at + 2, self.header_at + 2 + len(body))
        filled = [sum(1 for c in r if c.strip()) for r in body]
        last_data = max((i for i, n in enumerate(filled) if n >= 2), default=-1)
        tail = range(last_data + 1, len(body))
        footer = [i for i in tail if filled[i] == 1]
        if footer and filled[last_data + 1] == 0:
            # Salesforce ends a report with a blank line, then copyright and "Generated By" lines.
            first = next(c for c in body[footer[0]] if c.strip()).strip()
            self.log.add(self.file, lines[footer[0]], "", first, words("issue.import.footer", lines=len(footer)), words("issue.action.skipped"))
            self.summary.add("footer lines skipped", len(footer), f"from line {lines[footer[0]]}: {first[:60]}")
            body, lines, filled = body[: last_data + 1], lines[: last_data + 1], filled[: last_data + 1]
        blank = [n == 0 for n in filled]
        if any(blank):
            self.summary.add("blank lines skipped", sum(blank))
        rows, index, spill = [], [], []
        for record, line, is_blank in zip(body, lines, blank):
            if is_blank:
                continue
            cells = [c.strip() for c in record[:width]] + [""] * max(0, width - len(record))
            extra_cells = [c for c in record[width:] if c.strip()]
            if extra_cells:
                spill.append((line, len(record)))
            rows.append(cells)
            index.append(line)
        frame = pd.DataFrame(rows, index=pd.Index(index, dtype="int64"), columns=range(width), dtype=object)
        frame = frame.where(frame.ne(""), None)
        self.spilled = {line for line, _ in spill}
        for line, n in spill:
            self.log.add(
                self.file, line, "", "",
                words("issue.import.row_width", values=n, columns=width), words("issue.action.row_not_imported"),
            )
        self.summary.add("rows read", len(frame))
        return frame

    def _report_columns(self) -> None:
        layout, used = self.layout, set(self.columns.values())
        mapped = ", ".join(f"{self.header[i]} -> {c}" for c, i in self.columns.items())
        self.summary.add("columns mapped", len(self.columns), mapped)
        missing = [c for c in layout.columns if c not in self.columns]
        if "amount" in missing:
            self.log.add(
                self.file, None, "", "",
                words("issue.import.no_amount", headers=", ".join(_names(layout.columns["amount"]))),
                words("issue.action.amounts_blank"),
            )
        if missing:
            self.summary.add("columns the layout knows but the export lacks", len(missing), ", ".join(missing))
        extra_keys = {_key(h) for h in layout.extra_columns}
        history_keys = {_key(n) for h in layout.history for n in _names(h.date)}
        currency_keys = {_key(n) for n in layout.currency_columns}
        unused = [h for i, h in enumerate(self.header)
                  if i not in used and _key(h) not in extra_keys | history_keys | currency_keys and h]
        if unused:
            self.summary.add("columns not used", len(unused), ", ".join(unused))

    def _header_of(self, canonical: str) -> str:
        return self.header[self.columns[canonical]]

    def _rows_to_import(self, frame: pd.DataFrame) -> pd.Series:
        # Rows that cannot be mapped: spilled values, blank or duplicate id, blank or unknown stage.
        keep = pd.Series(~frame.index.isin(list(self.spilled)), index=frame.index)
        ids = frame[self.columns["id"]]
        stages = frame[self.columns["stage"]]
        id_header, stage_header = self._header_of("id"), self._header_of("stage")

        blank_id = ids.isna() & keep
        self.log.add_many(self.file, frame.index[blank_id], id_header, [""] * int(blank_id.sum()), words("issue.import.id_blank"),
                          words("issue.action.row_not_imported"))
        keep &= ~blank_id

        stage_map = self.layout.stage_map()
        keys = stages.map(_key, na_action="ignore")
        codes = keys.map(lambda k: stage_map[k].code if k in stage_map else None, na_action="ignore")
        blank_stage = stages.isna() & keep
        self.log.add_many(self.file, frame.index[blank_stage], stage_header, [""] * int(blank_stage.sum()), words("issue.import.stage_blank"),
                          words("issue.action.row_not_imported"))
        keep &= ~blank_stage
        unknown = codes.isna() & stages.notna() & keep
        if unknown.any() and self.layout.keep_unmapped_stages:
            codes = codes.where(~unknown, stages.map(lambda s: parsing.fold(s).upper(), na_action="ignore"))
        elif unknown.any():
            self.log.add_many(
                self.file, frame.index[unknown], stage_header, stages[unknown],
                each("issue.import.stage_unknown", stage=stages[unknown].tolist(), layout=[self.layout.name] * int(unknown.sum())),
                words("issue.action.map_the_stage"),
            )
            keep &= ~unknown

        candidates = ids[keep]
        dup = candidates.duplicated()
        if dup.any():
            first_line = pd.Series(candidates.index, index=candidates.to_numpy()).groupby(level=0).first()
            rows = candidates[dup]
            self.log.add_many(
                self.file, rows.index, id_header, rows,
                each("issue.import.duplicate_id", id=rows.tolist(), line=[first_line[i] for i in rows]),
                words("issue.action.row_not_imported"),
            )
            keep[rows.index] = False
        self._stage_codes = codes[keep].astype(object)
        self._stage_by_key = stage_map
        self._stage_keys = keys[keep]
        counts = stages[keep].value_counts(sort=False)
        for source, n in counts.items():
            code = codes[keep][stages[keep] == source].iloc[0]
            self.summary.add(f"stage '{source}' -> {code}", n)
        self.summary.add("rows not imported", int((~keep).sum()))
        return keep

    def _column(self, frame: pd.DataFrame, canonical: str) -> pd.Series:
        raw = frame[self.columns[canonical]]
        kind = _KIND[canonical]
        if canonical == "stage":
            return raw
        if kind == "money":
            return self._parsed(raw, canonical, lambda v: parsing.parse_amount(v, self.layout.decimal), "left blank").astype(float)
        if kind == "date":
            return self._dates(self.columns[canonical], frame)
        if kind == "prob":
            return raw  # read in _probabilities, where the stage default is known
        return raw  # text, codes, flags and categories: validation reads them

    def _parsed(self, raw: pd.Series, canonical: str | None, parser: Callable, action: str, header: str | None = None) -> pd.Series:
        # Parse each distinct value once (exports repeat dates and amounts), report failures per cell.
        header = header or self._header_of(canonical)
        values: dict[str, object] = {}
        problems: dict[str, str] = {}
        for text in raw.dropna().unique():
            try:
                values[text] = parser(text)
            except parsing.ParseError as err:
                problems[text] = str(err)
        bad = raw.isin(list(problems))
        if bad.any():
            self.log.add_many(self.file, raw.index[bad], header, raw[bad], [problems[v] for v in raw[bad]], action)
        return raw.map(lambda v: values.get(v), na_action="ignore").astype(object).where(~bad & raw.notna(), np.nan)

    def _dates(self, position: int, frame: pd.DataFrame) -> pd.Series:
        # A date column may feed a canonical column and the history both: read and report it once.
        if position not in self._date_cache:
            raw = frame[position]
            # Day or month first: the column's own dates tell, then the layout's order
            # (parsing.date_reading, as a workbook's cells are read).
            firsts = raw.dropna()
            firsts = firsts[~firsts.duplicated()]
            reading = parsing.date_reading(zip(firsts.index, firsts), declared=self.layout.date_order)
            if reading.note is not None:
                self.log.add(self.file, reading.note[0], self.header[position], *reading.note[1:])
            parsed = self._parsed(raw, None, lambda v: parsing.parse_date(v, reading.order), "left blank", header=self.header[position])
            self._date_cache[position] = pd.to_datetime(parsed, errors="coerce").astype("datetime64[ns]")
        return self._date_cache[position].reindex(frame.index)

    def _probabilities(self, frame: pd.DataFrame, opps: pd.DataFrame) -> pd.DataFrame:
        if "probability_override" not in self.columns:
            return opps
        scale = self.layout.probability_scale

        def read(text: str) -> float | None:
            # 70% is always a percent; a bare number follows the layout's scale (Salesforce: 0-100).
            if text.strip().endswith("%") or scale == 1:
                return parsing.parse_probability(text)
            try:
                number = parsing.parse_amount(text, self.layout.decimal)
            except parsing.ParseError:
                return parsing.parse_probability(text)  # raises with a probability's wording
            if number is not None and not 0 <= number <= scale:
                raise parsing.ParseError(f"probability {text} is outside 0..{scale:g}")
            return None if number is None else number / scale

        raw = frame[self.columns["probability_override"]]
        prob = self._parsed(raw, "probability_override", read, "ignored").astype(float)
        default = self._stage_keys.map(lambda k: self._stage_by_key[k].probability if k in self._stage_by_key else None)
        default = pd.to_numeric(default, errors="coerce").reindex(prob.index)
        same = prob.notna() & default.notna() & np.isclose(prob.fillna(-1), default.fillna(-2), atol=1e-9)
        kept = prob.notna() & ~same
        if same.any():
            self.summary.add(
                "probability equal to the stage default", int(same.sum()),
                f"{self._header_of('probability_override')} left to the workbook's stage probability",
            )
        if kept.any():
            self.summary.add("probability kept as the deal's override", int(kept.sum()), "differs from the tool's stage default")
        opps["probability_override"] = prob.where(~same)
        return opps

    def _translate(self, opps: pd.DataFrame) -> pd.DataFrame:
        for canonical, mapping in self.layout.values.items():
            if canonical not in opps:
                continue
            by_key = {_key(k): v for k, v in mapping.items()}
            keys = opps[canonical].map(_key, na_action="ignore")
            hit = keys.isin(list(by_key))
            for source in opps.loc[hit, canonical].unique():
                n = int((opps[canonical] == source).sum())
                self.summary.add(f"{canonical} '{source}' read as '{by_key[_key(source)]}'", n)
            opps.loc[hit, canonical] = keys[hit].map(by_key)
        return opps

    def _extra(self, frame: pd.DataFrame) -> pd.DataFrame:
        extra = pd.DataFrame(index=frame.index)
        position = {}
        for i, header in enumerate(self.header):
            position.setdefault(_key(header), i)
        for header, name in self.layout.extra_columns.items():
            if _key(header) in position and name not in extra:
                extra[name] = frame[position[_key(header)]]
        return extra

    def _constants(self, opps: pd.DataFrame) -> pd.DataFrame:
        for canonical, value in self.layout.constants.items():
            current = opps[canonical] if canonical in opps else pd.Series(None, index=opps.index, dtype=object)
            blank = current.isna()
            opps[canonical] = current.where(~blank, value)
            self.summary.add(f"{canonical} set to '{value}'", int(blank.sum()), "a constant of the layout, where blank")
        return opps

    def _currency(self, frame: pd.DataFrame) -> str | None:
        # The code of the export's currency column when all its amounts share one.
        position = {}
        for i, header in enumerate(self.header):
            position.setdefault(_key(header), i)
        for name in self.layout.currency_columns:
            if _key(name) in position:
                i = position[_key(name)]
                values = frame.loc[frame.index.isin(self._stage_codes.index), i].dropna().map(parsing.fold).str.upper()
                codes = sorted(values.unique())
                if len(codes) > 1:
                    self.log.add(self.file, None, self.header[i], ", ".join(codes), words("issue.import.currencies"),
                                 words("issue.action.not_converted"))
                if codes:
                    self.summary.add("currency", len(values), ", ".join(codes))
                return codes[0] if len(codes) == 1 else None
        return None

    def _outcome_amounts(self, opps: pd.DataFrame) -> None:
        codes = opps["stage"]
        amount = opps["amount"]
        for label, outcome in (("lost", self.layout.lost_codes), ("won", self.layout.won_codes)):
            zero = codes.isin(outcome) & amount.eq(0)
            if zero.any():
                self.summary.add(
                    f"{label} deals with amount 0", int(zero.sum()),
                    f"kept as 0 as the export has it, so {label} amounts read 0 for these deals",
                )
        open_blank = ~codes.isin(self.layout.won_codes + self.layout.lost_codes) & amount.isna()
        if open_blank.any():
            self.summary.add("open deals without an amount", int(open_blank.sum()), "they count in deal numbers but add 0 to the pipeline")

    # -- companions

    def _lookups(self, opps: pd.DataFrame, extra: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        for lookup in self.layout.lookups:
            opps, extra = self._lookup(lookup, opps, extra)
        return opps, extra

    def _lookup(self, lookup: Lookup, opps: pd.DataFrame, extra: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        targets = lookup.targets()
        filled_names = ", ".join(t.to for t in targets.values())
        deal_values = opps[lookup.on] if lookup.on in opps else extra.get(lookup.on)
        on_header = self._header_of(lookup.on) if lookup.on in self.columns else lookup.on
        if deal_values is None:
            self.summary.add(f"lookup {lookup.file}", 0, f"the export has no {lookup.on} column to match on")
            return opps, extra
        companion = self._read_companion(lookup, filled_names)
        if companion is None:
            return opps, extra
        by_key, spelled = companion
        if lookup.people:
            self._people(lookup, by_key, spelled)
        present = deal_values.notna()
        if lookup.match == "loose":
            keys = deal_values.map(_key, na_action="ignore")
        else:
            keys = deal_values.map(lambda v: parsing.fold(str(v)), na_action="ignore")
        matched = keys.isin(list(by_key)) & present
        # Report each spelling difference and each unknown value once, at its first line.
        if lookup.match == "loose":
            official = keys.map(lambda k: spelled.get(k), na_action="ignore")
            differs = matched & (deal_values != official)
            for value in deal_values[differs].unique():
                rows = deal_values.index[deal_values == value]
                right = official[rows[0]]
                self.log.add(
                    self.file, rows[0], on_header, value,
                    words("issue.import.spelled", column=lookup.on, value=value, right=right, file=lookup.file),
                    words("issue.action.matched_loosely", right=right, rows=len(rows)),
                )
                self.summary.add(f"{lookup.on} '{value}' read as '{right}'", len(rows), f"spelling of {lookup.file}")
            if lookup.on in opps:
                opps.loc[differs, lookup.on] = official[differs]
            else:
                extra.loc[differs, lookup.on] = official[differs]
        unmatched = present & ~matched
        for value in deal_values[unmatched].unique():
            rows = deal_values.index[deal_values == value]
            self.log.add(
                self.file, rows[0], on_header, value,
                words("issue.import.not_in_companion", column=lookup.on, value=value, file=lookup.file),
                words("issue.action.columns_blank_rows", columns=filled_names, rows=len(rows)),
            )
        self.summary.add(f"deals matched in {lookup.file}", int(matched.sum()), f"on {lookup.on}; {int(unmatched.sum())} not found, {int((~present).sum())} blank")
        for source, target in targets.items():
            values = keys.map(lambda k: by_key.get(k, {}).get(source), na_action="ignore")
            if target.to in _CANONICAL:
                kind = _KIND[target.to]
                if kind == "money":
                    values = values.map(lambda v: parsing.parse_amount(v, self.layout.decimal), na_action="ignore").astype(float)
                elif kind == "date":
                    values = pd.to_datetime(values.map(parsing.parse_date, na_action="ignore"), errors="coerce")
                current = opps[target.to] if target.to in opps else pd.Series(np.nan if kind == "money" else None, index=opps.index)
            else:
                current = extra[target.to] if target.to in extra else pd.Series(None, index=opps.index, dtype=object)
            allowed = opps["stage"].isin([parsing.fold(s).upper() for s in target.stages]) if target.stages else True
            fill = current.isna() & values.notna() & allowed
            merged = current.where(~fill, values)
            if not (target.to in _CANONICAL and _KIND[target.to] in ("money", "date")):
                merged = merged.astype(object).where(merged.notna(), None)
            if target.to in _CANONICAL:
                opps[target.to] = merged
            else:
                extra[target.to] = merged
            if target.to in _CANONICAL and target.stages:
                detail = f"where blank, for deals in {', '.join(target.stages)}"
            else:
                detail = "where blank"
            self.summary.add(f"{target.to} from {lookup.file} {source}", int(fill.sum()), detail)
        return opps, extra

    def _people(self, lookup: Lookup, by_key: dict[str, dict[str, str]], spelled: dict[str, str]) -> None:
        # Each companion row a person and their manager, in file order; then each manager
        # without a row of their own, at the top (blank reports-to), so that the hierarchy
        # has nobody it does not know.
        people = [(spelled[key], cells.get(lookup.people)) for key, cells in by_key.items()]
        listed = {person for person, _ in people}
        managers = list(dict.fromkeys(m for _, m in people if m))
        people += [(m, None) for m in managers if m not in listed]
        self.people = pd.DataFrame(people, columns=["person", "manager"], index=pd.RangeIndex(2, 2 + len(people)), dtype=object)
        self.summary.add(f"people from {lookup.file}", len(people), f"{lookup.people} as reports-to; {len(managers)} managers")

    def _read_companion(self, lookup: Lookup, filled_names: str) -> tuple[dict[str, dict[str, str]], dict[str, str]] | None:
        # key -> {column: value} and, for loose matching, key -> the companion's own spelling.
        path = self.path.parent / lookup.file
        if not path.exists():
            self.log.add(lookup.file, None, "", "", words("issue.import.companion_missing", file=lookup.file, export=self.file),
                         words("issue.action.columns_blank", columns=filled_names))
            return None
        try:
            text, _ = _decode(path)
            records = _records(text, lookup.file)
        except ExportError as err:
            self.log.add(lookup.file, None, "", "", str(err), words("issue.action.columns_blank", columns=filled_names))
            return None
        at = next((i for i, r in enumerate(records) if any(c.strip() for c in r)), None)
        header = [h.strip() for h in records[at]] if at is not None else []
        position = {}
        for i, h in enumerate(header):
            position.setdefault(_key(h), i)
        needed = list(dict.fromkeys([lookup.key, *lookup.targets(), *([lookup.people] if lookup.people else [])]))
        missing = [n for n in needed if _key(n) not in position]
        if missing:
            self.log.add(lookup.file, at + 1 if at is not None else None, ", ".join(missing), "",
                         words("issue.import.companion_no_column", file=lookup.file, columns=", ".join(missing)),
                         words("issue.action.columns_blank", columns=filled_names))
            return None
        fixes = {col: {_key(w): r for w, r in m.items()} for col, m in lookup.fix_values.items()}
        reported: set[tuple[str, str]] = set()
        fix_counts: dict[tuple[str, str], list] = {}
        by_key: dict[str, dict[str, str]] = {}
        spelled: dict[str, str] = {}
        for offset, record in enumerate(records[at + 1:], start=at + 2):
            cells = {n: (record[position[_key(n)]].strip() if position[_key(n)] < len(record) else "") for n in needed}
            if not any(cells.values()):
                continue
            raw_key = cells[lookup.key]
            key = _key(raw_key) if lookup.match == "loose" else parsing.fold(raw_key)
            if not key:
                continue
            for col, fix in fixes.items():
                if col in cells and _key(cells[col]) in fix:
                    wrong = cells[col]
                    fix_counts.setdefault((col, wrong), [offset, 0, fix[_key(wrong)]])[1] += 1
                    cells[col] = fix[_key(wrong)]
            if key in by_key:
                if (lookup.key, key) not in reported:
                    reported.add((lookup.key, key))
                    self.log.add(lookup.file, offset, lookup.key, raw_key, words("issue.import.key_twice", column=lookup.key, value=raw_key, file=lookup.file),
                                 words("issue.action.first_row_used"))
                continue
            by_key[key] = {n: (v or None) for n, v in cells.items()}
            spelled[key] = raw_key
        for (col, wrong), (line, n, right) in fix_counts.items():
            self.log.add(lookup.file, line, col, wrong, words("issue.import.misspelled", column=col, value=wrong, file=lookup.file),
                         words("issue.action.read_as_rows", right=right, rows=n))
            self.summary.add(f"{col} '{wrong}' read as '{right}'", n, f"correction in {lookup.file}")
        return by_key, spelled

    # -- history

    def _history(self, frame: pd.DataFrame, opps: pd.DataFrame) -> pd.DataFrame | None:
        if not self.layout.history:
            return None
        position = {}
        for i, header in enumerate(self.header):
            position.setdefault(_key(header), i)
        outcome = set(self.layout.won_codes) | set(self.layout.lost_codes)
        parts = []
        kept = frame.loc[opps.index]
        for entry in self.layout.history:
            at = next((position[_key(n)] for n in _names(entry.date) if _key(n) in position), None)
            if at is None:
                continue
            dates = self._dates(at, kept)
            if entry.when_closed:
                stage = opps["stage"].where(opps["stage"].isin(outcome))
            else:
                stage = pd.Series(parsing.fold(entry.stage).upper(), index=opps.index)
            part = pd.DataFrame({"opportunity_id": opps["id"], "stage": stage, "entered": dates, "_line": opps.index})
            parts.append(part.dropna(subset=["stage", "entered"]))
        if not parts:
            return None
        history = pd.concat(parts, ignore_index=True)
        if history.empty:
            return None
        # A deal enters a funnel stage once: when several source stages share a code, the earliest date counts.
        history = history.sort_values(["_line", "entered"], kind="stable").drop_duplicates(["opportunity_id", "stage"])
        history = history.drop(columns="_line")
        history.index = pd.RangeIndex(2, 2 + len(history))
        self.summary.add("stage history rows", len(history), "from the export's stage dates; numbered as rows of the stage_history table")
        return history


# ---------------------------------------------------------------- re-import


def _id_text(values: pd.Series) -> pd.Series:
    # Ids as text; whole numbers Excel hands back as 10023.0 read as 10023.
    def one(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        text = parsing.fold(str(v))
        return text or None

    return values.map(one).astype(object)


def _same(a: pd.Series, b: pd.Series, kind: str) -> pd.Series:
    # Cell by cell: blank = blank, numbers and dates compare as values, the rest as stripped text.
    a, b = a.astype(object), b.astype(object)
    blank_a = a.isna() | a.map(lambda v: isinstance(v, str) and not v.strip())
    blank_b = b.isna() | b.map(lambda v: isinstance(v, str) and not v.strip())
    same = blank_a & blank_b
    if kind in ("money", "number", "prob", "int"):
        na, nb = pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
        same |= na.notna() & nb.notna() & np.isclose(na.fillna(0), nb.fillna(0), rtol=1e-12, atol=1e-9)
    elif kind == "date":
        da = pd.to_datetime(a.where(~blank_a), errors="coerce", format="mixed").dt.normalize()
        db = pd.to_datetime(b.where(~blank_b), errors="coerce", format="mixed").dt.normalize()
        same |= da.notna() & db.notna() & da.eq(db)
    text = ~blank_a & ~blank_b
    same |= text & a.astype(str).str.strip().eq(b.astype(str).str.strip())
    return same


def merge_into(existing: pd.DataFrame | None, imported: pd.DataFrame | ImportResult) -> tuple[pd.DataFrame, dict[str, int]]:
    """Bring a (re-)import into the opportunities a workbook already has, keyed by deal id.

    A deal whose id is already there is updated in its row: the columns the import carries
    overwrite it (a CRM that cleared a value clears it here too), the columns only the
    workbook has (qualification flags, competitors, notes) are kept. A new id is appended
    after the last row. Deals the import does not mention stay as they are. Importing the
    same export twice changes nothing the second time.

    Args:
        existing: the workbook's opportunities (index = sheet row); None or empty for a
            first import.
        imported: the imported opportunities, or an ImportResult.

    Returns:
        (merged, counts): the merged table (existing rows keep their index, new rows
        continue after the last one) and counts ``added``, ``updated``, ``unchanged``,
        ``not_in_import`` (existing deals the import does not mention), ``skipped``
        (imported rows with a blank or repeated id).
    """
    new = imported.opportunities if isinstance(imported, ImportResult) else imported
    new = new.copy()
    new_ids = _id_text(new["id"]) if "id" in new else pd.Series(None, index=new.index, dtype=object)
    usable = new_ids.notna() & ~new_ids.duplicated()
    skipped = int((~usable).sum())
    new, new_ids = new[usable], new_ids[usable]
    if existing is None or len(existing) == 0:
        merged = new.copy()
        start = 2
        if existing is not None and len(existing.columns):
            merged = merged.reindex(columns=list(existing.columns) + [c for c in new.columns if c not in existing.columns])
        merged.index = pd.RangeIndex(start, start + len(merged))
        return merged, {"added": len(merged), "updated": 0, "unchanged": 0, "not_in_import": 0, "skipped": skipped}

    old = existing.copy()
    columns = list(old.columns) + [c for c in new.columns if c not in old.columns]
    old = old.reindex(columns=columns)
    old_ids = _id_text(old["id"]) if "id" in old else pd.Series(None, index=old.index, dtype=object)
    # The first row holding an id is the one an import updates; later repeats are the user's to sort out.
    row_of = pd.Series(old.index, index=old_ids.to_numpy())[old_ids.notna().to_numpy()]
    row_of = row_of[~row_of.index.duplicated()]
    known = new_ids.isin(row_of.index)
    updates, additions = new[known], new[~known]
    target_rows = row_of.reindex(new_ids[known].to_numpy()).to_numpy()

    changed = pd.Series(False, index=updates.index)
    for column in new.columns:
        if column == "id":
            continue
        before = old.loc[target_rows, column].set_axis(updates.index)
        changed |= ~_same(before, updates[column], _KIND.get(column, "text"))
    for column in new.columns:
        if column == "id":
            continue
        rows = target_rows[changed.to_numpy()]
        if len(rows):
            if old[column].dtype != object and updates[column].dtype != old[column].dtype:
                old[column] = old[column].astype(object)
            old.loc[rows, column] = updates.loc[changed, column].to_numpy()

    if len(additions):
        try:
            start = int(max(old.index)) + 1
        except (TypeError, ValueError):
            start = len(old) + 2
        additions = additions.reindex(columns=columns)
        additions.index = pd.RangeIndex(start, start + len(additions))
        # A column blank on one side and typed on the other is kept as objects: pandas
        # changed (2.x to 3) whether a blank side counts when the column's type is chosen.
        for column in columns:
            if old[column].dtype != additions[column].dtype and (old[column].isna().all() or additions[column].isna().all()):
                old[column], additions[column] = old[column].astype(object), additions[column].astype(object)
        merged = pd.concat([old, additions])
    else:
        merged = old
    counts = {
        "added": int(len(additions)),
        "updated": int(changed.sum()),
        "unchanged": int((~changed).sum()),
        "not_in_import": int((old_ids.notna() & ~old_ids.isin(new_ids)).sum()),
        "skipped": skipped,
    }
    return merged, counts
