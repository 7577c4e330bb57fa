"""Refusals: inputs no figure should be computed from, because the result would look like success.

A bad cell degrades one value and becomes an issue row. A missing required table or
column is different: a header renamed from Amount to Amt leaves every deal without an
amount, and a refresh would overwrite last week's figures with zeros while saying it
succeeded. So such a problem is a *refusal*: ``funnel.analysis.run`` raises
``RefreshRefused`` before anything is computed, the refresh writes nothing, and the
message names the table, the column and the fix. With ``force`` the refusals are issue
rows like any other and whatever can be computed is.

Who refuses:

    workbook.mapping   a workbook table that is missing, or lacks a required column (in the
                       workbook's own names: tblOpportunities, Amount / 金额)
    validation         a raw table (CSV, UDF range) lacking a required column, no deals at
                       all, or deals of which not one can be used
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from funnel import catalog

__all__ = ["Refusal", "RefreshRefused"]


@dataclass(frozen=True)
class Refusal:
    """One required table or column that is missing or unusable."""

    table: str  # canonical table name (the Issues table's "table")
    column: str  # canonical column, "" for the whole table
    found: str  # what is there instead, as typed ("" when nothing like it)
    message: str  # one sentence: the table, the column, what is wrong and the fix (a catalog.Said
    #               where it was said from the catalog: said in the book's language by said_in)


class RefreshRefused(ValueError):
    """The inputs were refused: nothing was computed or written (``force`` computes anyway).

    ``str(err)`` is the one message to show: every refusal's sentence, joined.
    """

    def __init__(self, refusals: Iterable[Refusal]) -> None:
        self.refusals = tuple(refusals)
        super().__init__("; ".join(dict.fromkeys(r.message for r in self.refusals)))

    def said_in(self, language: str) -> str:
        """The message in ``language`` (``en`` or ``zh-CN``): each refusal said in it."""
        said = (r.message.said_in(language) if hasattr(r.message, "said_in") and language != "en" else r.message
                for r in self.refusals)
        return catalog.text("separator.list", language).join(dict.fromkeys(said))
