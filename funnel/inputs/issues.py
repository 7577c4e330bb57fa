"""The issues table: every problem found in the user's data, in one place.

Columns: table, row, column, value, problem, action. ``row`` is the row the user sees
(sheet row or CSV line); ``action`` says what was done about it (row skipped, value
ignored, default used), so nothing disappears without a word.

The log also keeps the refusals (``funnel.inputs.refusals``): each is an issue row too, so a
forced run lists it with the rest.

A problem or action is a plain text, or ``Words``: a catalog entry and its fields, said in
the book's language when the table is drawn up (``IssueLog.table(language)``). Problems are
often found before the settings say which language the book is in.
"""

from __future__ import annotations

from functools import lru_cache
from string import Formatter
from typing import Any, Iterable, NamedTuple

import numpy as np
import pandas as pd

from funnel import catalog
from funnel.inputs.refusals import Refusal

__all__ = ["ISSUE_COLUMNS", "IssueLog", "Words", "words", "Each", "each", "already_reported", "blank_or_unread"]

ISSUE_COLUMNS = ("table", "row", "column", "value", "problem", "action")


class Words(NamedTuple):
    """A catalog text with its fields, said in whichever language the issues table is for."""

    key: str
    fields: tuple[tuple[str, Any], ...]

    def said(self, language: str = "en") -> str:
        # a field may be Words itself (a scheme's name), said in the same language
        return catalog.text(self.key, language, **{name: value.said(language) if isinstance(value, Words) else value
                                                   for name, value in self.fields})


def words(key: str, /, **fields: Any) -> Words:
    """The catalog text ``key`` with its fields, for an issue's problem or action."""
    catalog.text(key, "en", **{name: "" for name in fields})  # a wrong key or field fails here, where it is written
    return Words(key, tuple(fields.items()))


class Each(NamedTuple):
    """A catalog text said once per row, its fields given row by row (``add_many``); ``key``
    is one key for every row, or a tuple of one key per row."""

    key: str | tuple[str, ...]
    names: tuple[str, ...]
    columns: tuple[list, ...]

    def said(self, language: str = "en") -> list[str]:
        at = catalog.LANGUAGES.index(language)
        # format per row, not catalog.text: tens of thousands of rows, one check (in each())
        if isinstance(self.key, str):
            template = catalog.entry(self.key)[at]
            positional = _positional(template, self.names)
            if positional is not None:  # the same text, without a dict of fields per row
                return [positional.format(*row) for row in zip(*self.columns)]
            return [template.format(**dict(zip(self.names, row))) for row in zip(*self.columns)]
        return [catalog.entry(key)[at].format(**dict(zip(self.names, row)))
                for key, row in zip(self.key, zip(*self.columns) if self.names else ((),) * len(self.key))]


@lru_cache(maxsize=256)
def _positional(template: str, names: tuple[str, ...]) -> str | None:
    """``template`` with each named field ``{name...}`` as ``{i...}``, i its place in ``names``;
    None when a field is not one of ``names`` or its format has fields of its own."""
    out = []
    for literal, name, spec, conversion in Formatter().parse(template):
        out.append(literal.replace("{", "{{").replace("}", "}}"))
        if name is None:
            continue
        if name not in names or "{" in (spec or ""):
            return None
        out.append("{" + str(names.index(name)) + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}")
    return "".join(out)


def each(key: str, /, **columns: Iterable[Any]) -> Each:
    """The catalog text ``key`` for every row, field ``name`` taking its values from ``columns[name]``."""
    lists = tuple(_as_list(values) for values in columns.values())
    catalog.text(key, "en", **{name: values[0] if values else "" for name, values in zip(columns, lists)})
    return Each(key, tuple(columns), lists)


def _said(text: Any, language: str) -> Any:
    if isinstance(text, (Words, Each)):
        return text.said(language)
    return text.said_in(language) if isinstance(text, catalog.Said) and language != "en" else text


def _said_column(values: pd.Series, language: str) -> pd.Series:
    # Texts that keep their catalog words (catalog.Said) said in another language; the rest as they are.
    if language == "en":
        return values
    return values.map(lambda v: v.said_in(language) if isinstance(v, catalog.Said) else v)


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


def _objects(values: Iterable[Any]) -> pd.Series:
    # Texts as objects: pandas would store a list of str as its string type, dropping what a
    # catalog.Said keeps (its words in the other language).
    values = _as_list(values)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return pd.Series(out, dtype=object)


def _as_list(values: Iterable[Any]) -> list:
    # pandas columns in one call (iterating a string column goes cell by cell); anything
    # else, numpy arrays included, element by element as before.
    if isinstance(values, (pd.Series, pd.Index)):
        return values.tolist()
    return list(values)


class IssueLog:
    """Collects problems lazily; many rows at once for vectorized checks."""

    def __init__(self) -> None:
        # (frame, problem, action): Words said for every row of the frame when the table is drawn up
        self._frames: list[tuple[pd.DataFrame, Words | Each | None, Words | None]] = []
        self._rows: list[tuple] = []
        self.refusals: list[Refusal] = []

    def add(self, table: str, row: Any, column: str, value: Any, problem: str | Words, action: str | Words) -> None:
        """Record one problem."""
        self._rows.append((table, _row_number(row), column, _shown(value), problem, action))

    def add_many(
        self,
        table: str,
        rows: Iterable[Any],
        column: str,
        values: Iterable[Any],
        problem: str | Words | Each | Iterable[str],
        action: str | Words,
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
                "problem": "" if isinstance(problem, (Words, Each)) else problem if isinstance(problem, str) else _objects(problem),
                "action": "" if isinstance(action, Words) else action,
            }
        )
        self._frames.append((frame, problem if isinstance(problem, (Words, Each)) else None,
                             action if isinstance(action, Words) else None))

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
        return len(self._rows) + sum(len(f) for f, _, _ in self._frames)

    def table(self, language: str = "en") -> pd.DataFrame:
        """All problems as one DataFrame, in table then row order, said in ``language``."""
        parts = []
        for frame, problem, action in self._frames:
            if problem is not None or action is not None:
                frame = frame.assign(**{name: text.said(language) for name, text in
                                        (("problem", problem), ("action", action)) if text is not None})
            if problem is None and language != "en":
                frame = frame.assign(problem=_said_column(frame["problem"], language))
            parts.append(frame)
        if self._rows:
            rows = [(*row[:4], _said(row[4], language), _said(row[5], language)) for row in self._rows]
            parts.append(pd.DataFrame(rows, columns=list(ISSUE_COLUMNS)))
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


def blank_or_unread(rows, unread: set, what: str) -> Each:
    """What to say of blank cells: a cell validation could not read (and reported) is
    blank now, so say which it was. ``what``: the catalog's ``issue.blank.<what>`` and
    ``issue.unread.<what>`` (deal_id, stakeholder_name, factor, weight, competitor_name)."""
    keys = tuple(f"issue.unread.{what}" if int(r) in unread else f"issue.blank.{what}" for r in rows)
    for key in set(keys):
        catalog.text(key, "en")  # an unknown what fails here
    return Each(keys, (), ())
