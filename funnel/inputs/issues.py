"""The issues table: every problem found in the user's data, in one place.

Columns: table, row, column, value, problem, action. ``row`` is the row the user sees
(sheet row or CSV line); ``action`` says what was done about it (row skipped, value
ignored, default used), so nothing disappears without a word.

The log also keeps the refusals (``funnel.inputs.refusals``): each is an issue row too, so a
forced run lists it with the rest.
"""

from __future__ import annotations

from typing import Any, Iterable

import pandas as pd

from funnel.inputs.refusals import Refusal

__all__ = ["ISSUE_COLUMNS", "IssueLog", "already_reported", "blank_or_unread"]

ISSUE_COLUMNS = ("table", "row", "column", "value", "problem", "action")


def _shown(value: Any) -> str:
    # What the user typed, short enough to read in a cell.
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _shown_many(values: Iterable[Any], n: int) -> list[str]:
    # The vectorized _shown: one pass in pandas, Python only for the few long texts.
    series = pd.Series(list(values), dtype=object)
    if len(series) != n:
        raise ValueError("values and rows differ in length")
    text = series.where(series.notna(), "").astype(str)
    long = text.str.len() > 80
    if long.any():
        text[long] = text[long].str.slice(0, 77) + "..."
    return text.tolist()


def _as_list(values: Iterable[Any]) -> list:
    # pandas columns in one call (iterating a string column goes cell by cell); anything
    # else, numpy arrays included, element by element as before.
    if isinstance(values, (pd.Series, pd.Index)):
        return values.tolist()
    return list(values)


class IssueLog:
    """Collects problems lazily; many rows at once for vectorized checks."""

    def __init__(self) -> None:
        self._frames: list[pd.DataFrame] = []
        self._rows: list[tuple] = []
        self.refusals: list[Refusal] = []

    def add(self, table: str, row: Any, column: str, value: Any, problem: str, action: str) -> None:
        """Record one problem."""
        self._rows.append((table, _row_number(row), column, _shown(value), problem, action))

    def add_many(
        self,
        table: str,
        rows: Iterable[Any],
        column: str,
        values: Iterable[Any],
        problem: str | Iterable[str],
        action: str,
    ) -> None:
        """Record the same kind of problem for many rows (vectorized checks)."""
        if isinstance(rows, pd.Index) and pd.api.types.is_integer_dtype(rows.dtype):
            rows = pd.Series(rows.to_numpy())  # row numbers already: no per-row conversion
        else:
            rows = pd.to_numeric(pd.Series(_as_list(rows), dtype=object), errors="coerce")
        if rows.empty:
            return
        frame = pd.DataFrame(
            {
                "table": table,
                "row": rows.to_numpy(),
                "column": column,
                "value": _shown_many(_as_list(values), len(rows)),
                "problem": problem if isinstance(problem, str) else _as_list(problem),
                "action": action,
            }
        )
        self._frames.append(frame)

    def refuse(self, refusal: Refusal, action: str) -> None:
        """Record a refusal, and its issue row saying what a forced run does instead."""
        self.refusals.append(refusal)
        self.add(refusal.table, None, refusal.column, refusal.found, refusal.message, action)

    def refused(self, table: str) -> bool:
        """Whether a refusal names ``table`` already (the reader found it before validation)."""
        return any(r.table == table for r in self.refusals)

    def extend(self, other: "IssueLog") -> None:
        """Take over another log's problems."""
        self._frames.extend(other._frames)
        self._rows.extend(other._rows)
        self.refusals.extend(other.refusals)

    def __len__(self) -> int:
        return len(self._rows) + sum(len(f) for f in self._frames)

    def table(self) -> pd.DataFrame:
        """All problems as one DataFrame, in table then row order."""
        parts = list(self._frames)
        if self._rows:
            parts.append(pd.DataFrame(self._rows, columns=list(ISSUE_COLUMNS)))
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in ISSUE_COLUMNS})
        out = pd.concat(parts, ignore_index=True)
        out["row"] = pd.to_numeric(out["row"], errors="coerce").astype("Int64")
        return out.sort_values(["table", "row"], kind="stable", na_position="first").reset_index(drop=True)


def _row_number(row: Any) -> Any:
    try:
        return int(row)
    except (TypeError, ValueError):
        return None


def already_reported(log: IssueLog, table: str) -> dict[str, set]:
    """The rows of ``table`` the log already has a problem for, by column.

    Validation reports a cell it cannot read (an Excel error, text in a number column)
    and leaves it blank; the checks here then see a blank, and must not report it twice.
    """
    issues = log.table()
    issues = issues[(issues["table"] == table) & issues["row"].notna()]
    out: dict[str, set] = {}
    for column, row in zip(issues["column"], issues["row"]):
        out.setdefault(column, set()).add(int(row))
    return out


def blank_or_unread(rows, unread: set, what: str) -> list[str]:
    """What to say of blank cells: a cell validation could not read (and reported) is
    blank now, so say which it was."""
    return [f"{what} could not be read (see the issue above)" if int(r) in unread else f"{what} is blank" for r in rows]
