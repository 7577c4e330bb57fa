"""Chart parts (``xl/charts/chartN.xml``) drawn on rewritten sheets: series ranges and caches.

Only ``<c:f>`` formulas inside ``numRef``/``strRef``/``multiLvlStrRef`` are followed, and
only their areas on a rewritten table's sheet and columns; the rest of the part is kept.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from xml.sax.saxutils import escape as _xml_escape
from xml.sax.saxutils import unescape as _xml_unescape

import numpy as np
import pandas as pd

from workbook.package.cellrefs import column_index
from workbook.package.cells import cell_body, text_xml
from workbook.package.plan import TableChange

__all__ = ["rewrite_chart"]

_SERIES_REF_RE = re.compile(
    rb"<(?P<p>(?:[A-Za-z_][\w.\-]*:)?)(?P<kind>numRef|strRef|multiLvlStrRef)>(?P<body>.*?)</(?P=p)(?P=kind)>",
    re.S,
)
_AREA_RE = re.compile(
    r"(?:'(?P<q>(?:[^']|'')+)'|(?P<u>[^\s'!(),:;{}\"]+))!"
    r"(?P<d1>\$?)(?P<c1>[A-Za-z]{1,3})(?P<d2>\$?)(?P<r1>[0-9]{1,7})"
    r"(?::(?P<d3>\$?)(?P<c2>[A-Za-z]{1,3})(?P<d4>\$?)(?P<r2>[0-9]{1,7}))?"
)


def rewrite_chart(data: bytes, changes: list[TableChange], date1904: bool) -> bytes | None:
    """Chart part ``data`` with its series following the rewritten tables, or None if no
    series reads one.

    A range ending on a table's last data row ends on its new last row; a one-column
    range gets a fresh cache of the new values, any other touched range loses its cache
    (Excel rebuilds it on open).
    """
    changed = False

    def one_series(m: re.Match[bytes]) -> bytes:
        nonlocal changed
        p, kind, body = m.group("p"), m.group("kind"), m.group("body")
        fm = re.search(rb"<" + re.escape(p) + rb"f>(.*?)</" + re.escape(p) + rb"f>", body, re.S)
        if not fm:
            return m.group(0)
        formula = _xml_unescape(fm.group(1).decode("utf-8"), {"&apos;": "'", "&quot;": '"'})
        touched = False
        areas: list[tuple[TableChange, int, int, int, int]] = []

        def area(a: re.Match[str]) -> str:
            nonlocal touched
            sheet = a.group("q").replace("''", "'") if a.group("q") is not None else a.group("u")
            r1, c1 = int(a.group("r1")), column_index(a.group("c1"))
            r2 = int(a.group("r2")) if a.group("r2") else r1
            c2 = column_index(a.group("c2")) if a.group("c2") else c1
            for ch in changes:
                inf = ch.info
                if sheet.lower() != inf.sheet.lower():
                    continue
                if not (inf.first_col <= c1 and c2 <= inf.last_col):
                    continue
                if r2 < inf.body_first_row or r1 > ch.cleared_last:
                    continue  # header-only or outside: values unchanged
                touched = True
                if a.group("r2") and r2 == ch.old_last and inf.first_row <= r1 <= ch.old_last:
                    r2 = max(ch.new_last, r1)
                    areas.append((ch, r1, c1, r2, c2))
                    return (
                        a.group(0)[: a.start("r2") - a.start(0)] + str(r2)
                    )
                areas.append((ch, r1, c1, r2, c2))
            return a.group(0)

        new_formula = _AREA_RE.sub(area, formula)
        if not touched:
            return m.group(0)
        changed = True
        f_xml = _xml_escape(new_formula).encode("utf-8")
        new_body = body[: fm.start(1)] + f_xml + body[fm.end(1) :]
        cache_re = re.compile(
            rb"<" + re.escape(p) + rb"(numCache|strCache|multiLvlStrCache)>.*?</" + re.escape(p) + rb"\1>", re.S
        )
        cache = None
        if len(areas) == 1 and kind != b"multiLvlStrRef":
            ch, r1, c1, r2, c2 = areas[0]
            if c1 == c2:
                old = cache_re.search(new_body)
                cache = _build_cache(p, kind, ch, r1, c1, r2, old.group(0) if old else b"", date1904)
        if cache is None:
            new_body = cache_re.sub(b"", new_body)
        elif cache_re.search(new_body):
            new_body = cache_re.sub(lambda _: cache, new_body, count=1)
        else:
            new_body = new_body + cache
        return b"<" + p + kind + b">" + new_body + b"</" + p + kind + b">"

    new = _SERIES_REF_RE.sub(one_series, data)
    return new if changed else None


def _build_cache(
    p: bytes, kind: bytes, ch: TableChange, r1: int, col: int, r2: int, old: bytes, date1904: bool
) -> bytes | None:
    # Values of a one-column range inside a rewritten table (header and body rows).
    inf = ch.info
    j = col - inf.first_col
    values: list[object] = []
    series = ch.frame.iloc[:, j].tolist()
    for r in range(r1, r2 + 1):
        if r < inf.body_first_row:
            values.append(inf.columns[j] if r == inf.first_row and inf.header_rows else None)
        else:
            i = r - inf.body_first_row
            values.append(series[i] if i < len(series) else None)
    pts = []
    for idx, v in enumerate(values):
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
            continue
        if kind == b"numRef":
            try:
                body = cell_body(v, date1904)
            except ValueError:
                continue
            if body is None or body[0] not in (b"", b' t="b"'):
                continue
            text = body[1][3:-4]
        else:
            try:
                text = text_xml(v if isinstance(v, str) else _display(v))
            except ValueError:
                continue
        pts.append(b'<%spt idx="%d"><%sv>%s</%sv></%spt>' % (p, idx, p, text, p, p))
    count = b'<%sptCount val="%d"/>' % (p, len(values))
    if kind == b"numRef":
        fc = re.search(rb"<" + re.escape(p) + rb"formatCode>.*?</" + re.escape(p) + rb"formatCode>", old, re.S)
        fmt = fc.group(0) if fc else b"<%sformatCode>General</%sformatCode>" % (p, p)
        return b"<%snumCache>" % p + fmt + count + b"".join(pts) + b"</%snumCache>" % p
    return b"<%sstrCache>" % p + count + b"".join(pts) + b"</%sstrCache>" % p


def _display(v: object) -> str:
    # Text a string cache shows for a non-text value.
    if isinstance(v, (bool, np.bool_)):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (float, np.floating)) and float(v) == int(v):
        return str(int(v))
    if isinstance(v, (_dt.datetime, _dt.date)):
        return v.isoformat()
    return str(v)
