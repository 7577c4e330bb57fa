"""What Excel must recalculate after a refresh: ``calcChain.xml`` and workbook.xml's ``<calcPr>``.

The calc chain lists every formula cell; entries for cells the refresh cleared are
dropped (the part, its content-type override and its relationship go when none is left).
``fullCalcOnLoad="1"`` is set only when some formula may read a rewritten table
(conservatively: through its sheet, its name, a defined name, ``INDIRECT`` or ``OFFSET``).
"""

from __future__ import annotations

import re
from xml.sax.saxutils import unescape as _xml_unescape

from workbook.errors import UnsafeToUpdate
from workbook.package.cellrefs import column_index
from workbook.package.limits import MAX_SHEET_PART_BYTES
from workbook.package.plan import Plan, TableChange
from workbook.package.relationships import CALC_CHAIN, rels_part_of, without_override, without_relationship
from workbook.package.workbook_part import XlsxPackage

__all__ = ["plan_calc_chain", "plan_full_calc"]

_CALC_ENTRY_RE = re.compile(rb"<c\b([^>]*?)/>")
_I_ATTR_RE = re.compile(rb'\si="([0-9]+)"')
_CALC_PR_RE = re.compile(rb"<calcPr\b[^>]*?/?>")
_FULL_CALC_RE = re.compile(rb'\sfullCalcOnLoad="([^"]*)"')
_FORMULA_RE = re.compile(rb"<f\b[^>]*>([^<]*)</f>")
_DEFINED_NAME_RE = re.compile(rb'<definedName\b[^>]*\sname="([^"]*)"[^>]*>([^<]*)</definedName>')
_R_ATTR_RE = re.compile(rb'\sr="([^"]*)"')  # a calc chain entry names its cell as the sheet does
_CELL_REF_SPLIT_RE = re.compile(rb"([A-Za-z]+)([0-9]+)")


def _attr(attrs: bytes, rx: re.Pattern[bytes]) -> bytes | None:
    m = rx.search(attrs)
    return m.group(1) if m else None


def _cleared_blocks(pkg: XlsxPackage, changes: list[TableChange]) -> dict[int, list[tuple[int, int, int, int]]]:
    # sheetId -> cell blocks whose old contents were cleared.
    ids = {s.part: s.sheet_id for s in pkg.sheet_infos()}
    out: dict[int, list[tuple[int, int, int, int]]] = {}
    for ch in changes:
        i = ch.info
        out.setdefault(ids[i.sheet_part], []).append((i.body_first_row, i.first_col, ch.cleared_last, i.last_col))
    return out


def plan_calc_chain(pkg: XlsxPackage, changes: list[TableChange], plan: Plan) -> None:
    """Drop from the calc chain the entries of cells the refresh clears (into ``plan``)."""
    chains = pkg.related(pkg.workbook_part, CALC_CHAIN)
    if not chains or not pkg.has_part(chains[0].target):
        return
    part = pkg.member(chains[0].target).name
    data = pkg.read_part(part)
    blocks = _cleared_blocks(pkg, changes)
    kept: list[bytes] = []
    dropped = 0
    current_i = None
    last_kept_i = None
    for m in _CALC_ENTRY_RE.finditer(data):
        attrs = m.group(1)
        i_text = _attr(attrs, _I_ATTR_RE)
        if i_text is not None:
            current_i = int(i_text)
        ref = _attr(attrs, _R_ATTR_RE)
        rm = _CELL_REF_SPLIT_RE.fullmatch(ref) if ref else None
        if rm is not None and current_i in blocks:
            r, c = int(rm.group(2)), column_index(rm.group(1).decode())
            if any(b[0] <= r <= b[2] and b[1] <= c <= b[3] for b in blocks[current_i]):
                dropped += 1
                continue
        el = m.group(0)
        if i_text is None and current_i is not None and current_i != last_kept_i:
            el = b"<c" + b' i="%d"' % current_i + el[2:]
        kept.append(el)
        last_kept_i = current_i
    if not dropped:
        return
    if kept:
        first = _CALC_ENTRY_RE.search(data)
        last_end = max(mm.end() for mm in _CALC_ENTRY_RE.finditer(data))
        plan.replaced[part] = data[: first.start()] + b"".join(kept) + data[last_end:]
        return
    # No formula left in the chain: remove the part, its override and its relationship.
    plan.removed.add(part)
    ct = pkg.read_part("[Content_Types].xml")
    new_ct = without_override(ct, part)
    plan.replaced[pkg.member("[Content_Types].xml").name] = new_ct
    rels_part = rels_part_of(pkg.workbook_part)
    rels = pkg.read_part(rels_part)
    new_rels = without_relationship(rels, chains[0].id)
    plan.replaced[pkg.member(rels_part).name] = new_rels


def plan_full_calc(pkg: XlsxPackage, changes: list[TableChange], plan: Plan) -> None:
    """Ask Excel to recalculate on open (into ``plan``), only when a formula may read a rewritten table."""
    wb = pkg.read_part(pkg.workbook_part)
    calc = _CALC_PR_RE.search(wb)
    if calc is not None:
        flag = _attr(calc.group(0), _FULL_CALC_RE)
        if flag is not None and flag.lower() in (b"1", b"true"):
            return
    if not _formulas_depend_on(pkg, wb, changes):
        return
    if calc is not None:
        tag = calc.group(0)
        if _FULL_CALC_RE.search(tag):
            tag = _FULL_CALC_RE.sub(b' fullCalcOnLoad="1"', tag, count=1)
        else:
            end = len(tag) - (2 if tag.endswith(b"/>") else 1)
            tag = tag[:end] + b' fullCalcOnLoad="1"' + tag[end:]
        new = wb[: calc.start()] + tag + wb[calc.end() :]
    else:
        at = None
        for name in (b"<oleSize", b"<customWorkbookViews", b"<pivotCaches", b"<smartTagPr", b"<smartTagTypes",
                     b"<webPublishing", b"<fileRecoveryPr", b"<webPublishObjects", b"<extLst", b"</workbook>"):
            at = wb.find(name)
            if at >= 0:
                break
        if at is None or at < 0:
            raise UnsafeToUpdate(f"{pkg.workbook_part}: cannot place <calcPr>")
        new = wb[:at] + b'<calcPr fullCalcOnLoad="1"/>' + wb[at:]
    plan.replaced[pkg.workbook_part] = new


def _formulas_depend_on(pkg: XlsxPackage, wb: bytes, changes: list[TableChange]) -> bool:
    # Conservative: a formula on a rewritten sheet, or naming a rewritten table or sheet
    # (directly or through a defined name), or using INDIRECT/OFFSET, may depend on it.
    words = set()
    for ch in changes:
        words.add(re.escape(ch.info.name))
        sheet = ch.info.sheet
        words.add(re.escape("'" + sheet.replace("'", "''") + "'!"))
        words.add(re.escape(sheet) + "!")
    words.update(["INDIRECT\\(", "OFFSET\\("])

    def mentions(text: str) -> bool:
        return re.search(r"(?<![\w.])(?:" + "|".join(words) + r")", text, re.I) is not None

    names = [(n.decode("utf-8", "replace"), _xml_unescape(t.decode("utf-8", "replace"))) for n, t in _DEFINED_NAME_RE.findall(wb)]
    dependent = True
    while dependent:
        dependent = False
        for name, text in names:
            if re.escape(name) not in words and mentions(text):
                words.add(re.escape(name))
                dependent = True
    rewritten = {ch.info.sheet_part for ch in changes}
    for sheet in pkg.sheet_infos():
        if sheet.kind != "worksheet" or not pkg.has_part(sheet.part):
            continue
        data = pkg.read_part(sheet.part, limit=MAX_SHEET_PART_BYTES)
        if b"<f" not in data:
            continue
        for m in _FORMULA_RE.finditer(data):
            if sheet.part in rewritten and m.group(1).strip():
                return True
            if mentions(_xml_unescape(m.group(1).decode("utf-8", "replace"))):
                return True
    return False
