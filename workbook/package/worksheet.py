"""A worksheet part's ``<sheetData>`` rewritten under output tables, and its ``<dimension>``.

The sheet's XML is patched as bytes: rows outside the tables' rows are copied as they
are, rows inside them keep every cell outside the tables' columns, and new cells take
the style of their column's ``<col style>``, or else of the cell the builder left in
the table's first data row. A row holding nothing but the tables' own cells (the usual
case, thousands of them on a second refresh) is proven so a run of rows at a time and
built a column at a time.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

import numpy as np

from workbook.errors import UnsafeToUpdate
from workbook.package.cellrefs import column_index, column_letters, format_range, parse_range
from workbook.package.cells import render_column
from workbook.package.plan import TableChange
from workbook.package.table_part import TableInfo

__all__ = ["rewrite_sheet"]

_SHEETDATA_OPEN_RE = re.compile(rb"<sheetData\b[^>]*?(/?)>")
_ROW_OPEN_RE = re.compile(rb"<row\b([^>]*?)(/?)>")
_CELL_ROW_RE = re.compile(rb'<c r="[A-Za-z]{1,3}([0-9]{1,7})"')
_CELL_RE = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_R_ATTR_RE = re.compile(rb'\sr="([^"]*)"')
_S_ATTR_RE = re.compile(rb'\ss="([0-9]+)"')
_SPANS_ATTR_RE = re.compile(rb'\s+spans="[^"]*"')
_ROW_ONLY_LAYOUT_RE = re.compile(rb'\s+(?:r|spans|x14ac:dyDescent)="[^"]*"')
_COL_RE = re.compile(rb"<col\b([^>]*?)/?>")
_MERGE_RE = re.compile(rb'<mergeCell\b[^>]*\sref="([^"]*)"')
_DIMENSION_RE = re.compile(rb'(<dimension\b[^>]*\sref=")([^"]*)(")')
# A conditional format's ranges: the 2007 element's sqref, and the 2010 extension's (data bars).
_CF_SQREF_RE = re.compile(rb'(<conditionalFormatting\b[^>]*\ssqref=")([^"]*)(")|(<xm:sqref>)([^<]*)(</xm:sqref>)')
_SHARED_F_RE = re.compile(rb"<f\b([^>]*)>")
_F_REF_RE = re.compile(rb'\sref="([^"]*)"')
_CELL_REF_SPLIT_RE = re.compile(rb"([A-Za-z]+)([0-9]+)")
_ALL_REFS_RE = re.compile(rb'<c r="([A-Za-z]+)([0-9]+)"')


def _attr(attrs: bytes, rx: re.Pattern[bytes]) -> bytes | None:
    m = rx.search(attrs)
    return m.group(1) if m else None


def _column_styles(data: bytes) -> dict[int, bytes]:
    # Column number -> style index from <cols><col min max style>.
    styles: dict[int, bytes] = {}
    cols_at = data.find(b"<cols>")
    if cols_at < 0:
        return styles
    cols_end = data.find(b"</cols>", cols_at)
    for m in _COL_RE.finditer(data, cols_at, cols_end):
        attrs = m.group(1)
        lo = re.search(rb'\smin="([0-9]+)"', attrs)
        hi = re.search(rb'\smax="([0-9]+)"', attrs)
        st = re.search(rb'\sstyle="([0-9]+)"', attrs)
        if lo and hi and st:
            for c in range(int(lo.group(1)), min(int(hi.group(1)), 16_384) + 1):
                styles.setdefault(c, st.group(1))
    return styles


def _intersects(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return not (a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])


def rewrite_sheet(
    part: str,
    data: bytes,
    changes: list[TableChange],
    others: list[TableInfo],
    date1904: bool,
) -> bytes:
    """Worksheet part ``data`` with the tables of ``changes`` holding their new rows.

    Only cells inside the tables' columns, from their first data row to the last row they
    had or now have, change; so does ``<dimension>``. ``others`` are the sheet's tables
    that stay as they are (a growing table must not reach them).

    Raises:
        UnsafeToUpdate: a table would grow over data, merged cells or another table; the
            sheet's rows cannot be followed; a value cannot be stored.
    """
    open_m = _SHEETDATA_OPEN_RE.search(data)
    if not open_m:
        raise UnsafeToUpdate(f"{part}: no <sheetData>")
    if open_m.group(1):  # <sheetData/>
        body_start = body_end = open_m.end()
        head, tail = data[: open_m.start()] + b"<sheetData>", b"</sheetData>" + data[open_m.end() :]
    else:
        body_start = open_m.end()
        body_end = data.find(b"</sheetData>", body_start)
        if body_end < 0:
            raise UnsafeToUpdate(f"{part}: truncated <sheetData>")
        head, tail = data[:body_start], data[body_end:]
    body = data[body_start:body_end]

    # Overlaps the refresh must not paper over.
    merged = [parse_range(m.group(1).decode()) for m in _MERGE_RE.finditer(data, body_end)]
    for i, ch in enumerate(changes):
        inf = ch.info
        area = (inf.body_first_row, inf.first_col, ch.cleared_last, inf.last_col)
        for other in changes[i + 1 :]:
            o = other.info
            if _intersects(area, (o.body_first_row, o.first_col, other.cleared_last, o.last_col)):
                raise UnsafeToUpdate(f"tables {inf.name!r} and {o.name!r} would overlap")
        for t in others:
            if _intersects(area, (t.first_row, t.first_col, t.last_row, t.last_col)):
                raise UnsafeToUpdate(f"table {inf.name!r} would grow into table {t.name!r} ({t.ref})")
        for mr in merged:
            if _intersects(area, mr):
                raise UnsafeToUpdate(f"table {inf.name!r} overlaps merged cells {format_range(*mr)}")

    rows = _scan_rows(part, body)
    order = list(rows)
    plain = _plain_old_rows(body, rows, order, changes)

    col_styles = _column_styles(data[:body_start])
    affected: set[int] = set()
    for ch in changes:
        affected.update(range(ch.info.body_first_row, ch.cleared_last + 1))
        _prepare_cells(part, ch, rows, col_styles, date1904)

    built = _simple_rows(changes, rows, plain)
    bounds = _Bounds()
    out = [head]
    pos = 0
    new_rows = sorted(affected | set(order))
    for r in new_rows:
        m = rows.get(r)
        if r not in affected:
            out.append(bounds.scan(body[pos : m.end]))
            pos = m.end
            continue
        if m is not None:
            out.append(bounds.scan(body[pos : m.start]))  # whitespace between rows, kept
            pos = m.end
        row, first_col, last_col = built.get(r) or _rebuild_row(part, r, m, changes, r in plain)
        bounds.add(r, first_col, last_col)
        out.append(row)
    out.append(bounds.scan(body[pos:]))
    out.append(_follow_highlights(tail, changes))
    return _update_dimension(b"".join(out), bounds)


def _follow_highlights(xml: bytes, changes: list[TableChange]) -> bytes:
    # A conditional format over a table's data rows (from its first data row, within its
    # columns) covers the table's new rows, as a format applied to a table column does in
    # Excel; any other range stays as the user typed it.
    def follow(ref: str) -> str:
        r1, c1, r2, c2 = parse_range(ref)
        for ch in changes:
            info = ch.info
            if r1 == info.body_first_row and info.first_col <= c1 and c2 <= info.last_col:
                return format_range(r1, c1, max(ch.new_last, r1), c2)
        return ref

    def rewrite(m: re.Match[bytes]) -> bytes:
        open_, refs, close = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5), m.group(6))
        return open_ + " ".join(follow(ref) for ref in refs.decode().split()).encode() + close

    return _CF_SQREF_RE.sub(rewrite, xml)


def _prepare_cells(
    part: str,
    ch: TableChange,
    rows: dict[int, _Row],
    col_styles: dict[int, bytes],
    date1904: bool,
) -> None:
    # Each column's style, then the frame rendered column by column into cell bodies
    # (without the r= reference).
    info = ch.info
    first_row_cells: dict[int, bytes] = {}
    m = rows.get(info.body_first_row)
    if m is not None and m.content:
        for cm in _CELL_RE.finditer(m.content):
            ref = _attr(cm.group(1), _R_ATTR_RE)
            s = _attr(cm.group(1), _S_ATTR_RE)
            if ref and s:
                rm = _CELL_REF_SPLIT_RE.fullmatch(ref)
                if rm:
                    first_row_cells[column_index(rm.group(1).decode())] = s
    ch.cells = []
    ch.refs = [b'<c r="' + letters for letters in map(str.encode, map(column_letters, range(info.first_col, info.last_col + 1)))]
    for j, col in enumerate(range(info.first_col, info.last_col + 1)):
        style = col_styles.get(col) or first_row_cells.get(col)
        s_attr = b' s="' + style + b'"' if style else b""
        ch.cells.append(render_column(ch.frame.iloc[:, j], s_attr, info, j, date1904))


def _rebuild_row(
    part: str, r: int, m: _Row | None, changes: list[TableChange], plain: bool = False
) -> tuple[bytes, int | None, int | None]:
    # One row of the rewritten area: kept cells plus new table cells, in column order, with
    # its first and last column (None, None: no cell left). ``plain``: the row is known to
    # hold only old table cells (``_plain_old_rows``).
    cells: list[tuple[int, bytes]] = []
    if m is not None and m.content and not plain and not _old_table_row(m.content, r, changes):
        for cm in _CELL_RE.finditer(m.content):
            ref = _attr(cm.group(1), _R_ATTR_RE)
            rm = _CELL_REF_SPLIT_RE.fullmatch(ref) if ref else None
            if rm is None or int(rm.group(2)) != r:
                raise UnsafeToUpdate(f"{part}: row {r} holds a cell without a proper reference")
            col = column_index(rm.group(1).decode())
            owner = next((ch for ch in changes if ch.info.first_col <= col <= ch.info.last_col
                          and ch.info.body_first_row <= r <= ch.cleared_last), None)
            if owner is None:
                cells.append((col, cm.group(0)))
                continue
            inner = cm.group(2) or b""
            if r > owner.old_last and (b"<v" in inner or b"<is" in inner or b"<f" in inner):
                raise UnsafeToUpdate(
                    f"table {owner.info.name!r} would grow over cell {ref.decode()} on its sheet, which holds data"
                )
            f = _SHARED_F_RE.search(inner)
            if f is not None:
                fref = _attr(f.group(1), _F_REF_RE)
                if fref:
                    fr = parse_range(fref.decode())
                    block = (owner.info.body_first_row, owner.info.first_col, owner.cleared_last, owner.info.last_col)
                    if not (block[0] <= fr[0] and fr[2] <= block[2] and block[1] <= fr[1] and fr[3] <= block[3]):
                        raise UnsafeToUpdate(
                            f"{part}: cell {ref.decode()} anchors a shared/array formula reaching outside table "
                            f"{owner.info.name!r}"
                        )
    row_number = str(r).encode()
    row_ref = row_number + b'"'
    sources = len(cells)  # kept cells, then each table with cells here: more than one -> sort
    for ch in changes:
        inf = ch.info
        if inf.body_first_row <= r <= ch.new_last:
            i = r - inf.body_first_row
            sources += 1
            for j, column in enumerate(ch.cells):
                if i < len(column) and (rendered := column[i]) is not None:
                    cells.append((inf.first_col + j, ch.refs[j] + row_ref + rendered))
    if sources > 1:
        cells.sort(key=lambda t: t[0])
    if m is not None:
        attrs = _SPANS_ATTR_RE.sub(b"", m.attrs)
    else:
        attrs = b' r="' + row_number + b'"'
    if not cells:
        if m is None or not _ROW_ONLY_LAYOUT_RE.sub(b"", attrs).strip():
            return b"", None, None  # nothing left but the row number: drop the row
        return b"<row" + attrs + b"/>", None, None
    return _row_xml(r, m, cells[0][0], cells[-1][0], b"".join([c for _, c in cells])), cells[0][0], cells[-1][0]


def _row_xml(r: int, m: _Row | None, first_col: int, last_col: int, cells: bytes) -> bytes:
    # A rewritten row holding cells: its own attributes (a new row: just r=) with fresh spans.
    spans = b' spans="%d:%d"' % (first_col, last_col)
    if m is None:
        attrs = b' r="%d"' % r + spans
    else:
        attrs = _SPANS_ATTR_RE.sub(b"", m.attrs)
        r_attr = _R_ATTR_RE.search(attrs)
        attrs = attrs[: r_attr.end()] + spans + attrs[r_attr.end() :]
    return b"<row" + attrs + b">" + cells + b"</row>"


def _simple_rows(changes: list[TableChange], rows: dict[int, _Row], plain: set[int]) -> dict[int, tuple[bytes, int, int]]:
    # Rows keeping nothing but the tables' new cells (new rows, or old rows proven plain),
    # built a column at a time, each step a C loop over the column, into exactly the bytes
    # _rebuild_row gives: tables side by side join left to right (they never overlap).
    # Rows without a cell are left to _rebuild_row.
    pieces: dict[int, list[tuple[bytes, int, int]]] = {}
    for ch in sorted(changes, key=lambda c: c.info.first_col):
        first, last = ch.info.body_first_row, ch.new_last
        if last < first or not ch.cells:
            continue
        n = last - first + 1
        row_refs = np.array([b'%d"' % r for r in range(first, last + 1)], dtype=object)
        grid = np.full((n, len(ch.cells)), b"", dtype=object)
        first_j = np.full(n, -1)
        last_j = np.full(n, -1)
        for j, column in enumerate(ch.cells):
            values = np.full(n, None, dtype=object)
            values[: len(column)] = column
            present = ~np.equal(values, None)
            grid[present, j] = ch.refs[j] + row_refs[present] + values[present]
            first_j[present & (first_j < 0)] = j
            last_j[present] = j
        col0 = ch.info.first_col
        for r, cells, j0, j1 in zip(range(first, last + 1), map(b"".join, grid.tolist()), first_j.tolist(), last_j.tolist()):
            if j1 >= 0:
                pieces.setdefault(r, []).append((cells, col0 + j0, col0 + j1))
    built: dict[int, tuple[bytes, int, int]] = {}
    for r, found in pieces.items():
        m = rows.get(r)
        if m is None or r in plain:
            cells = found[0][0] if len(found) == 1 else b"".join([f[0] for f in found])
            built[r] = (_row_xml(r, m, found[0][1], found[-1][2], cells), found[0][1], found[-1][2])
    return built


class _Bounds:
    """The rectangle of a rewritten sheet's cells, gathered while it is assembled: kept
    XML is scanned, rewritten rows report their own columns."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.cols: list[int] = []

    def add(self, r: int, first_col: int | None, last_col: int | None) -> None:
        if first_col is not None:
            self.rows.append(r)
            self.cols += (first_col, last_col)

    def scan(self, xml: bytes) -> bytes:
        refs = _ALL_REFS_RE.findall(xml)
        if refs:
            self.cols += [column_index(c.decode()) for c in {c for c, _ in refs}]
            self.rows += [int(r) for r in {r for _, r in refs}]
        return xml


@dataclass(slots=True)
class _Row:
    start: int  # where <row starts in the sheetData body
    end: int  # just past </row> (or <row/>)
    attrs: bytes
    content: bytes  # b"" for <row/>


def _scan_rows(part: str, body: bytes) -> dict[int, _Row]:
    # Every <row> of sheetData by row number. Finding "</row>" is a plain search: text
    # escapes "<", so nothing inside a row can look like it.
    rows: dict[int, _Row] = {}
    last = 0
    for m in _ROW_OPEN_RE.finditer(body):
        if m.start() < last:
            continue  # (no <row inside a row, but never read a row twice)
        if m.group(2):
            end, content = m.end(), b""
        else:
            close = body.find(b"</row>", m.end())
            if close < 0:
                raise UnsafeToUpdate(f"{part}: truncated <row>; re-save the workbook in Excel")
            end, content = close + 6, body[m.end() : close]
        r_text = _attr(m.group(1), _R_ATTR_RE)
        if r_text is None or not r_text.isdigit():
            raise UnsafeToUpdate(f"{part}: a row without a row number; re-save the workbook in Excel")
        r = int(r_text)
        if rows and r <= next(reversed(rows)):
            raise UnsafeToUpdate(f"{part}: rows out of order; re-save the workbook in Excel")
        rows[r] = _Row(m.start(), end, m.group(1), content)
        last = end
    return rows


def _plain_old_rows(body: bytes, rows: dict[int, _Row], order: list[int], changes: list[TableChange]) -> set[int]:
    # Rows of the tables' old data areas holding nothing but those tables' cells and no
    # formula, proven a run of rows at a time with a few C-speed scans (a second refresh
    # meets thousands of them). Runs are cut where a table's old rows start or end, so
    # within a run the same tables own the same columns. The rest get _old_table_row.
    plain: set[int] = set()
    bounds = sorted({ch.info.body_first_row for ch in changes} | {ch.old_last + 1 for ch in changes})
    for lo, next_lo in zip(bounds, bounds[1:]):
        hi = next_lo - 1
        owners = [ch for ch in changes if ch.info.body_first_row <= lo and hi <= ch.old_last]
        inside = order[bisect.bisect_left(order, lo) : bisect.bisect_right(order, hi)]
        if not owners or not inside:
            continue
        block = body[rows[inside[0]].start : rows[inside[-1]].end]
        if b"<f" in block:
            continue
        letters = b"|".join(sorted(frozenset().union(*(ch.letters for ch in owners)), key=len, reverse=True))
        if re.search(rb'<c(?=[\s/>])(?! r="(?:' + letters + rb')[0-9])', block):
            continue  # a cell in another column, or one without r= first
        if not set(_CELL_ROW_RE.findall(block)) <= {str(r).encode() for r in inside}:
            continue  # a cell claiming a row outside the run
        plain.update(inside)
    return plain


def _old_table_row(content: bytes, r: int, changes: list[TableChange]) -> bool:
    # The usual row: only cells of the tables' old data rows and no formula, so every cell
    # is simply replaced. Anything else takes the careful per-cell walk of _rebuild_row.
    if b"<f" in content:
        return False
    refs = _ALL_REFS_RE.findall(content)
    if len(refs) != content.count(b"<c"):  # a cell without r= first, or rich text (<color>)
        return False
    owned: set[bytes] = set()
    for ch in changes:
        if ch.info.body_first_row <= r <= ch.old_last:
            owned |= ch.letters
    row = str(r).encode()
    return all(n == row and c in owned for c, n in refs)


def _update_dimension(data: bytes, bounds: _Bounds) -> bytes:
    # <dimension ref> = the rectangle of all cells (Excel writes "A1" for an empty sheet).
    m = _DIMENSION_RE.search(data)
    if not m:
        return data
    if bounds.rows:
        ref = format_range(min(bounds.rows), min(bounds.cols), max(bounds.rows), max(bounds.cols)).encode()
    else:
        ref = b"A1"
    if ref == m.group(2):
        return data
    return data[: m.start(2)] + ref + data[m.end(2) :]
