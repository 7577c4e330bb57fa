"""The worksheet cell-span guard: how many cells a sheet part can make a reader allocate.

The check matters beyond memory: python-calamine allocates the whole rectangle between a
sheet's outermost cells and aborts the process (it does not raise) when that allocation
fails, so a sheet with one cell at A1 and one at XFD1048576 must be refused before
calamine sees it. A declared ``<dimension>`` or an actual cell span above
``MAX_SHEET_CELLS`` cells refuses the file (``WorkbookTooLarge``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workbook.errors import TRIM_FIX, UNTRUSTED_FIX, NotAWorkbook, WorkbookTooLarge
from workbook.package.cellrefs import column_index, parse_range
from workbook.package.limits import EXCEL_MAX_COLS, EXCEL_MAX_ROWS, MAX_SHEET_CELLS
from workbook.package.xmlsafety import check_utf8, prolog_end

__all__ = ["CellSpan", "check_sheet_cells"]


@dataclass(frozen=True)
class CellSpan:
    """Upper bounds on the cells of a sheet part, as ``check_sheet_cells`` found them."""

    max_row: int
    max_col: int
    cells: int  # max_row * max_col: the rectangle a dense reader may allocate


_DIMENSION_RE = re.compile(rb'<dimension\s+ref="([^"]*)"')
_PREFIXED_CELL_RE = re.compile(rb":(?:c|row)[\s/>]")
_NAME_BEFORE_RE = re.compile(rb"<[A-Za-z_][\w.\-]*$")
# One pass over every cell start: (wide column letters, their row) | long single-letter
# row | a cell whose first attribute is not r= ("" groups otherwise never match).
_CELL_SCAN = rb'<c(?: r="(?:([A-Za-z]{2,})([0-9]+)|[A-Za-z]([0-9]{%d,}))|(?! r=")([\s/>]))'
_LAST_ROW_RE = re.compile(rb'<row r="([0-9]+)"')


def check_sheet_cells(part: str, data: bytes, sheet: str | None = None) -> CellSpan:
    """Bound the cell rectangle a worksheet part spans, refusing hostile or oversized sheets.

    Every ``<c>`` element must carry its ``r="A1"`` reference first, as Excel, XlsxWriter,
    openpyxl and LibreOffice write it; the largest row and column over *all* cells are
    found with a few C-speed passes (no per-cell Python work).

    Args:
        part: the sheet's package path, for messages.
        data: the inflated worksheet part.
        sheet: the sheet's name, which messages lead with when given.

    Returns:
        The bounds found.

    Raises:
        NotAWorkbook: DTD in the prolog, prefixed or reference-less cells, non-UTF-8
            encoding, truncated sheetData.
        WorkbookTooLarge: declared dimension or actual cells span more than
            ``MAX_SHEET_CELLS`` positions, or lie outside Excel's grid.
    """
    part = f"sheet {sheet!r} ({part})" if sheet else part  # what the user can find
    check_utf8(part, data[:256])
    root_at, prefix = prolog_end(part, data)
    if prefix:
        raise NotAWorkbook(f"{part}: namespace-prefixed worksheet XML is not supported")
    head = data[root_at : root_at + (1 << 16)]
    dim = _DIMENSION_RE.search(head)
    if dim:
        try:
            r1, c1, r2, c2 = parse_range(dim.group(1).decode("ascii", "replace"))
        except ValueError:
            r1 = c1 = r2 = c2 = 1
        declared = (r2 - r1 + 1) * (c2 - c1 + 1)
        if declared > MAX_SHEET_CELLS:
            raise WorkbookTooLarge(
                f"{part}: declares a used range {dim.group(1).decode()} of {declared:,} cells "
                f"(limit {MAX_SHEET_CELLS:,}){TRIM_FIX}"
            )
    start = data.find(b"<sheetData", root_at)
    if start < 0:
        return CellSpan(0, 0, 0)
    tag_end = data.find(b">", start)
    if tag_end < 0:
        raise NotAWorkbook(f"{part}: truncated sheetData")
    if data[tag_end - 1 : tag_end] == b"/":
        return CellSpan(0, 0, 0)
    end = data.rfind(b"</sheetData>")
    if end < tag_end:
        raise NotAWorkbook(f"{part}: truncated sheetData")
    region = memoryview(data)[tag_end + 1 : end]
    for m in _PREFIXED_CELL_RE.finditer(region):
        lo = max(0, m.start() - 64)
        if _NAME_BEFORE_RE.search(bytes(region[lo : m.start()])):
            raise NotAWorkbook(f"{part}: namespace-prefixed cells are not supported")
    last_row = 0
    tail_at = data.rfind(b'<row r="', tag_end, end)
    if tail_at >= 0:
        m = _LAST_ROW_RE.match(data, tail_at)
        last_row = int(m.group(1)) if m else 0
    # Fast path: one regex pass that matches nothing in a normal sheet, proving every
    # cell lies within simple bounds (rows <= row_cap, columns <= col_cap) whose
    # rectangle fits the limit. Anything else takes the exact (slower) path.
    if last_row:
        row_cap, digits_re = _row_bound(last_row)
        col_cap, letters_re = _column_bound(min(EXCEL_MAX_COLS, MAX_SHEET_CELLS // row_cap))
        if col_cap:
            outlier = re.compile(rb'<c(?! r="(?:' + letters_re + rb")(?:" + digits_re + rb')")[\s/>]')
            if not outlier.search(region):
                return CellSpan(row_cap, col_cap, row_cap * col_cap)
    max_row, max_col = _exact_span(part, region, last_row)
    if max_row > EXCEL_MAX_ROWS or max_col > EXCEL_MAX_COLS:
        raise WorkbookTooLarge(
            f"{part}: a cell lies outside Excel's grid (row {max_row:,}, column {max_col:,}){UNTRUSTED_FIX}"
        )
    cells = max_row * max_col
    if cells > MAX_SHEET_CELLS:
        raise WorkbookTooLarge(
            f"{part}: cells span {max_row:,} rows x {max_col:,} columns = {cells:,} positions "
            f"(limit {MAX_SHEET_CELLS:,}){TRIM_FIX}"
        )
    return CellSpan(max_row, max_col, cells)


def _exact_span(part: str, region: memoryview, last_row: int) -> tuple[int, int]:
    # Slow path for unusual sheets: the largest row and column over every cell.
    # Only cells with two or more column letters, or as many row digits as the last
    # <row r=...>, can exceed it; a findall returns just those.
    digits = max(1, len(str(last_row)))
    found = re.compile(_CELL_SCAN % digits).findall(region)
    max_row, max_col = last_row, 0
    wide: set[bytes] = set()
    if found:
        letters, row_digits, long_rows, bad = (set(g) - {b""} for g in zip(*found))
        if bad:
            raise NotAWorkbook(f"{part}: a cell without a leading r= reference ({min(bad)!r})")
        wide = letters
        rows = {r for r in row_digits | long_rows if len(r) >= digits}
        if rows:
            longest = max(map(len, rows))
            max_row = max(max_row, int(max(r for r in rows if len(r) == longest)))
    if wide:
        max_col = column_index(max(wide, key=lambda s: (len(s), s.upper())).decode("ascii"))
    elif bytes(region).find(b'<c r="') >= 0:
        max_col = 26
    return max_row, max_col


def _row_bound(last_row: int) -> tuple[int, bytes]:
    # A round upper bound >= last_row (1xxxxx -> 199999) and a regex for numerals within it.
    text = str(last_row)
    width, lead = len(text), int(text[0])
    shorter = b"[0-9]{1,%d}|" % (width - 1) if width > 1 else b""
    if lead == 9:
        return 10**width - 1, b"[0-9]{1,%d}" % width
    return (lead + 1) * 10 ** (width - 1) - 1, shorter + b"[0-%d][0-9]{%d}" % (lead, width - 1)


def _column_bound(cap: int) -> tuple[int, bytes]:
    # A round column bound <= cap and a regex for column letters (either case) within it.
    if cap >= 16_250:  # up to WZZ
        return 16_250, b"[A-Za-z]{1,2}|[A-Wa-w][A-Za-z]{2}"
    if cap >= 702:  # up to ZZ
        return 702, b"[A-Za-z]{1,2}"
    if cap >= 52:  # up to <letter>Z
        first = min(25, (cap - 26) // 26)
        hi = chr(64 + first)
        return 26 + 26 * first, f"[A-Za-z]|[A-{hi}a-{hi.lower()}][A-Za-z]".encode()
    if cap >= 1:
        hi = chr(64 + min(cap, 26))
        return min(cap, 26), f"[A-{hi}a-{hi.lower()}]".encode()
    return 0, b""
