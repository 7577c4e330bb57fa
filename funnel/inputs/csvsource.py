"""A folder of CSVs in the contract's shape as a source of raw tables.

``opportunities.csv``, ``stage_history.csv``, ``stages.csv``, ``settings.csv``,
``quotas.csv`` (and the competition tables) with snake_case headers. Every cell is read as
text so that validation, not the CSV parser, decides what a value means; the index is the
line number the user sees in an editor (header on line 1).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from funnel.inputs.contract import TABLES
from funnel.inputs.issues import IssueLog

__all__ = ["read_csv_folder", "write_csv_folder", "safe_text"]


def read_csv_folder(folder: str | Path) -> tuple[dict[str, pd.DataFrame | None], IssueLog]:
    """Read every ``<table>.csv`` in ``folder``; absent files are absent tables."""
    folder = Path(folder)
    log = IssueLog()
    raw: dict[str, pd.DataFrame | None] = {}
    for table in TABLES:
        path = folder / f"{table}.csv"
        if not path.exists():
            continue
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
            log.add(table, None, "", path.name, f"cannot read {path.name}: {str(err).splitlines()[0]}", "table not used")
            continue
        frame.columns = [str(c).strip() for c in frame.columns]
        frame.index = pd.RangeIndex(2, 2 + len(frame))
        raw[table] = frame
    if "opportunities" not in raw:
        log.add("opportunities", None, "", str(folder), f"no opportunities.csv in {folder}", "no deals to analyse")
    return raw, log


_FORMULA_START = ("=", "+", "-", "@")


def safe_text(value):
    """``value``, led by an apostrophe when it is text a spreadsheet would run as a formula
    (it starts with = + - @): opening the CSV must never run a cell."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv_folder(tables: dict[str, pd.DataFrame], folder: str | Path) -> list[Path]:
    """Write tables as ``<name>.csv``; text starting with = + - @ is written as text."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in tables.items():
        out = frame.copy()
        for col in out.columns:
            if out[col].dtype == object or isinstance(out[col].dtype, pd.StringDtype):
                out[col] = out[col].map(safe_text)
        path = folder / f"{name}.csv"
        out.to_csv(path, index=False, date_format="%Y-%m-%d")
        written.append(path)
    return written
