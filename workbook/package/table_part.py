"""An Excel Table's part (``xl/tables/tableN.xml``): what it says, and moving its ref.

Reading gives a ``TableInfo``: where the table lives and what its columns are called.
Writing changes only the ``ref`` of ``<table>`` and of the ``autoFilter``/``sortState``
elements that followed the old last row; every other byte of the part is kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from workbook.errors import NotAWorkbook, UnsafeToUpdate
from workbook.package.cellrefs import decode_ooxml_escapes, format_range, parse_range
from workbook.package.xmlsafety import child, children

__all__ = ["TableInfo", "read_table_part", "rewrite_table_part"]


@dataclass(frozen=True)
class TableInfo:
    """An Excel Table: where it lives and what its columns are called."""

    name: str  # displayName: what formulas and the Name Manager show
    internal_name: str  # the name attribute (usually equal)
    part: str  # table part, e.g. "xl/tables/table2.xml"
    sheet: str
    sheet_part: str
    ref: str  # e.g. "B4:D7", header and totals rows included
    first_row: int  # 1-based, inclusive
    first_col: int
    last_row: int
    last_col: int
    header_rows: int  # headerRowCount (0 or 1)
    totals_rows: int  # totalsRowCount
    columns: tuple[str, ...]
    calculated_columns: tuple[str, ...] = ()

    @property
    def body_first_row(self) -> int:
        """Sheet row of the first data row."""
        return self.first_row + self.header_rows

    @property
    def body_last_row(self) -> int:
        """Sheet row of the last data row (Excel keeps at least one)."""
        return self.last_row - self.totals_rows


def read_table_part(part: str, root: ET.Element, sheet: str, sheet_part: str) -> TableInfo:
    """The table a parsed table part declares, on sheet ``sheet`` (part ``sheet_part``).

    Raises:
        NotAWorkbook: its ref is not a range, or its columns do not fill it.
    """
    name = root.get("displayName") or root.get("name") or ""
    ref = root.get("ref", "")
    try:
        r1, c1, r2, c2 = parse_range(ref)
    except ValueError:
        raise NotAWorkbook(f"{part}: table {name!r} has a bad ref {ref!r}") from None
    cols_el = child(root, "tableColumns")
    columns: list[str] = []
    calculated: list[str] = []
    for col in children(cols_el, "tableColumn") if cols_el is not None else []:
        col_name = decode_ooxml_escapes(col.get("name", ""))
        columns.append(col_name)
        if child(col, "calculatedColumnFormula") is not None:
            calculated.append(col_name)
    if len(columns) != c2 - c1 + 1:
        raise NotAWorkbook(f"{part}: table {name!r} has {len(columns)} columns but its ref {ref} spans {c2 - c1 + 1}")
    return TableInfo(
        name=name,
        internal_name=root.get("name", name),
        part=part,
        sheet=sheet,
        sheet_part=sheet_part,
        ref=ref,
        first_row=r1,
        first_col=c1,
        last_row=r2,
        last_col=c2,
        header_rows=int(root.get("headerRowCount", "1") or 1),
        totals_rows=int(root.get("totalsRowCount", "0") or 0),
        columns=tuple(columns),
        calculated_columns=tuple(calculated),
    )


# ---- moving the ref ------------------------------------------------------------------------------
_TABLE_OPEN_RE = re.compile(rb"<table\b[^>]*>")
_REF_ATTR_RE = re.compile(rb'(\sref=")([^"]*)(")')
_RANGE_ELEMENT_RE = re.compile(rb"<(autoFilter|sortState|sortCondition)\b[^>]*>")


def rewrite_table_part(info: TableInfo, new_last: int, data: bytes) -> bytes:
    """The table part ``data`` of ``info`` with its ref, and the autoFilter/sortState refs that
    ended on its last data row, moved to end on ``new_last``."""
    old_last = info.body_last_row
    new_ref = format_range(info.first_row, info.first_col, new_last, info.last_col).encode()
    m = _TABLE_OPEN_RE.search(data)
    if not m:
        raise UnsafeToUpdate(f"{info.part}: no <table> element")
    tag = _REF_ATTR_RE.sub(lambda a: a.group(1) + new_ref + a.group(3), m.group(0), count=1)
    data = data[: m.start()] + tag + data[m.end() :]

    def fix(el: re.Match[bytes]) -> bytes:
        def one(a: re.Match[bytes]) -> bytes:
            try:
                r1, c1, r2, c2 = parse_range(a.group(2).decode())
            except ValueError:
                return a.group(0)
            if r2 == old_last and info.first_row <= r1 <= old_last:
                return a.group(1) + format_range(r1, c1, max(r1, new_last), c2).encode() + a.group(3)
            return a.group(0)

        return _REF_ATTR_RE.sub(one, el.group(0), count=1)

    return _RANGE_ELEMENT_RE.sub(fix, data)
