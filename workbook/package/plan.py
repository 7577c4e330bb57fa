"""What a refresh writes, decided before anything is written: per table, and per part.

``TableChange`` is one output table's new rows (and, once the worksheet has rendered
them, their cell XML); ``Plan`` the parts that change, with their deflate streams
started in a thread pool as soon as each part is ready.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from workbook.package.cellrefs import column_letters
from workbook.package.table_part import TableInfo
from workbook.package.zipwriter import deflate

__all__ = ["TableChange", "Plan"]


@dataclass
class TableChange:
    """One output table's new rows, and their cell XML once the worksheet has rendered them."""

    info: TableInfo
    frame: pd.DataFrame
    new_last: int  # new last data row
    cells: list[list[bytes | None]] = field(default_factory=list)  # per column, per row
    refs: list[bytes] = field(default_factory=list)  # per column: b'<c r="' + its letters

    @cached_property
    def letters(self) -> frozenset[bytes]:  # the table's column letters
        return frozenset(column_letters(col).encode() for col in range(self.info.first_col, self.info.last_col + 1))

    @property
    def old_last(self) -> int:
        """Sheet row of the last data row before the refresh."""
        return self.info.body_last_row

    @property
    def cleared_last(self) -> int:
        """Last sheet row whose table cells the refresh rewrites (old or new, whichever is lower)."""
        return max(self.old_last, self.new_last)


@dataclass
class Plan:
    """Every part a refresh replaces or removes; replaced parts deflate in ``deflater``'s threads."""

    deflater: ThreadPoolExecutor
    replaced: dict[str, bytes] = field(default_factory=dict)  # part name -> new bytes
    removed: set[str] = field(default_factory=set)
    deflating: dict[str, tuple[bytes, Future[bytes]]] = field(default_factory=dict)  # part -> (bytes, stream)

    def deflated(self, part: str) -> Future[bytes]:
        """The deflate stream of a replaced part's bytes, started now unless it already was."""
        data = self.replaced[part]
        started = self.deflating.get(part)
        if started is None or started[0] is not data:
            started = self.deflating[part] = (data, self.deflater.submit(deflate, data))
        return started[1]
