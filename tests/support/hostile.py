"""Builders of bad and hostile workbook files, for the refusal and bad-input tests.

Everything here writes test *input*: a workbook the product built (``new_workbook``),
then edited at the zip level the way Excel or an attacker would leave it, or raw bytes
that only pretend to be a workbook. Edits go through ``zipfile`` and byte patches, never
through the product's writer, so a bug in the writer cannot hide in a fixture.

Two groups:

* workbook-level edits a user makes in Excel: ``rename_sheet``, ``delete_sheet``,
  ``rename_table``, ``set_cells``, ``merge_cells``, ``rename_headers``, ``add_column``,
  ``drop_last_column``;
* what Excel 2010+ adds that other libraries drop, written as Excel writes it:
  ``add_user_sheet``, ``add_defined_name``, ``add_x14_validation``, ``add_form_control``;
* hostile or broken files: ``zip_bomb``, ``lying_zip_bomb``, ``entity_bomb``,
  ``huge_sheet``, ``truncated``, ``encrypted_by_msoffcrypto``, ``encrypted_ole``,
  ``png_file``, ``csv_file``, ``empty_file``, ``damaged`` (a flipped byte),
  ``odd_entry_name`` (absolute, ``..`` or backslash entry names);
* what lies beside a workbook: ``owner_file_bytes`` / ``excel_owner_file`` (the ``~$``
  owner file Excel writes while the book is open);
* hostile places to save to: ``mount_tmpfs`` / ``unmount`` (a small disk to fill with
  ``fill_disk``), ``set_immutable`` (a file or folder even root may not change).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path
from typing import Callable, Mapping
from xml.sax.saxutils import escape

Edit = Callable[[bytes], bytes] | bytes | None

__all__ = [
    "members",
    "rezip",
    "sheet_part",
    "table_part",
    "rename_sheet",
    "delete_sheet",
    "rename_table",
    "set_cells",
    "merge_cells",
    "rename_headers",
    "add_column",
    "drop_last_column",
    "add_user_sheet",
    "add_defined_name",
    "add_x14_validation",
    "add_form_control",
    "X14_MAIN",
    "zip_bomb",
    "lying_zip_bomb",
    "entity_bomb",
    "huge_sheet",
    "truncated",
    "encrypted_by_msoffcrypto",
    "encrypted_ole",
    "png_file",
    "csv_file",
    "empty_file",
    "damaged",
    "odd_entry_name",
    "owner_file_bytes",
    "excel_owner_file",
    "mount_tmpfs",
    "unmount",
    "fill_disk",
    "set_immutable",
]

_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


# ---- zip-level editing of test inputs ------------------------------------------------------------
def members(path: Path) -> dict[str, bytes]:
    """Every zip member's inflated bytes, in archive order."""
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def rezip(path: Path, edits: Mapping[str, Edit], add: Mapping[str, bytes] | None = None, dst: Path | None = None) -> Path:
    """Rewrite a workbook with some members edited (a function or new bytes), removed (None) or added.

    Args:
        path: the workbook to edit.
        edits: member name -> function of its bytes, replacement bytes, or None to remove it.
        add: new members appended at the end.
        dst: where to write (default: in place).

    Returns:
        The path written.
    """
    with zipfile.ZipFile(path) as zin:
        items = [(i, zin.read(i.filename)) for i in zin.infolist()]
    missing = set(edits) - {i.filename for i, _ in items}
    assert not missing, f"no such members to edit: {sorted(missing)}"
    out = dst or path
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info, data in items:
            if info.filename in edits:
                edit = edits[info.filename]
                if edit is None:
                    continue
                data = edit(data) if callable(edit) else edit
            zout.writestr(info, data)
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return out


def _workbook_rels(path: Path) -> dict[str, str]:
    # relationship id -> target part of xl/workbook.xml
    rels = members(path)["xl/_rels/workbook.xml.rels"].decode()
    return {m.group(1): "xl/" + m.group(2).lstrip("/").removeprefix("xl/")
            for m in re.finditer(r'<Relationship Id="([^"]+)" Type="[^"]+" Target="([^"]+)"', rels)}


def sheet_part(path: Path, sheet: str) -> str:
    """The worksheet part holding sheet ``sheet`` (e.g. ``xl/worksheets/sheet8.xml``)."""
    wb = members(path)["xl/workbook.xml"].decode()
    m = re.search(rf'<sheet name="{re.escape(escape(sheet))}" sheetId="\d+"[^>]*?r:id="([^"]+)"', wb)
    assert m, f"no sheet {sheet!r}"
    return _workbook_rels(path)[m.group(1)]


def table_part(path: Path, table: str) -> str:
    """The table part of Excel Table ``table`` (e.g. ``xl/tables/table11.xml``)."""
    for name, data in members(path).items():
        if name.startswith("xl/tables/") and f'displayName="{table}"'.encode() in data:
            return name
    raise AssertionError(f"no table {table!r}")


def rename_sheet(path: Path, old: str, new: str) -> None:
    """Rename a sheet as Excel does: the name in workbook.xml and in docProps/app.xml."""
    rezip(path, {
        "xl/workbook.xml": lambda d: d.replace(f'<sheet name="{escape(old)}"'.encode(), f'<sheet name="{escape(new)}"'.encode()),
        "docProps/app.xml": lambda d: d.replace(f"<vt:lpstr>{escape(old)}</vt:lpstr>".encode(), f"<vt:lpstr>{escape(new)}</vt:lpstr>".encode()),
    })


def delete_sheet(path: Path, sheet: str) -> None:
    """Delete a sheet and every part only it reaches (tables, drawings, charts), with their
    relationships and content-type overrides."""
    files = members(path)
    part = sheet_part(path, sheet)
    owned, todo = [], [part]
    while todo:  # follow relationships: sheet -> drawing -> chart -> chart style...
        name = todo.pop()
        if name in owned or name not in files:
            continue
        owned.append(name)
        rels_name = _rels_of(name)
        if rels_name in files:
            owned.append(rels_name)
            folder = name.rsplit("/", 1)[0]
            for target in re.findall(rb'Target="([^"]+)"', files[rels_name]):
                todo.append(_resolve(folder, target.decode()))
    wb = files["xl/workbook.xml"].decode()
    rid = re.search(rf'<sheet name="{re.escape(escape(sheet))}" sheetId="\d+"[^>]*?r:id="([^"]+)"/>', wb)

    def drop_overrides(d: bytes) -> bytes:
        for name in owned:
            d = re.sub(rb'<Override PartName="/' + re.escape(name.encode()) + rb'"[^>]*/>', b"", d)
        return d

    rezip(path, {
        **{name: None for name in owned},
        "xl/workbook.xml": lambda d: d.replace(rid.group(0).encode(), b""),
        "xl/_rels/workbook.xml.rels": lambda d: re.sub(rb'<Relationship Id="' + rid.group(1).encode() + rb'"[^>]*/>', b"", d),
        "[Content_Types].xml": drop_overrides,
    })


def _rels_of(part: str) -> str:
    # "xl/worksheets/sheet1.xml" -> "xl/worksheets/_rels/sheet1.xml.rels"
    folder, name = part.rsplit("/", 1)
    return f"{folder}/_rels/{name}.rels"


def _resolve(folder: str, target: str) -> str:
    # A relationship target relative to its source part's folder.
    parts = folder.split("/")
    for piece in target.split("/"):
        if piece == "..":
            parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def rename_table(path: Path, old: str, new: str) -> None:
    """Rename an Excel Table as the Name Manager does (name and displayName)."""
    part = table_part(path, old)
    rezip(path, {part: lambda d: d.replace(f'name="{old}" displayName="{old}"'.encode(), f'name="{new}" displayName="{new}"'.encode())})


def set_cells(path: Path, sheet: str, cells: Mapping[str, str]) -> None:
    """Replace cells of a sheet with raw cell XML (``{"G3": '<c r="G3" t="e"><v>#N/A</v></c>'}``).

    The cell must already exist in the sheet (XlsxWriter wrote it); its style is kept
    when the replacement carries no ``s=`` of its own.
    """
    part = sheet_part(path, sheet)

    def edit(d: bytes) -> bytes:
        for ref, xml in cells.items():
            pattern = re.compile(rb'<c r="' + ref.encode() + rb'"(?P<attrs>[^>]*?)(?:/>|>.*?</c>)', re.S)
            m = pattern.search(d)
            assert m, f"{sheet}!{ref} has no cell to replace"
            style = re.search(rb' s="\d+"', m.group("attrs"))
            new = xml.encode()
            if style and b" s=" not in new:
                new = new.replace(b'<c r="%s"' % ref.encode(), b'<c r="%s"%s' % (ref.encode(), style.group(0)), 1)
            d = d[: m.start()] + new + d[m.end() :]
        return d

    rezip(path, {part: edit})


def merge_cells(path: Path, sheet: str, ref: str) -> None:
    """Merge a range as Excel does: keep the top-left cell's value, blank the others, add ``<mergeCell>``."""
    part = sheet_part(path, sheet)
    first, last = ref.split(":")

    def cell_pos(a1: str) -> tuple[int, int]:
        m = re.fullmatch(r"([A-Z]+)(\d+)", a1)
        col = 0
        for ch in m.group(1):
            col = col * 26 + ord(ch) - 64
        return int(m.group(2)), col

    (r1, c1), (r2, c2) = cell_pos(first), cell_pos(last)

    def edit(d: bytes) -> bytes:
        def blank(m: re.Match) -> bytes:
            r, c = cell_pos(m.group(1).decode())
            if r1 <= r <= r2 and c1 <= c <= c2 and (r, c) != (r1, c1):
                return b'<c r="%s"%s/>' % (m.group(1), m.group(2) or b"")
            return m.group(0)

        d = re.sub(rb'<c r="([A-Z]+\d+)"( s="\d+")?[^>]*?(?:/>|>.*?</c>)', blank, d, flags=re.S)
        merge = f'<mergeCells count="1"><mergeCell ref="{ref}"/></mergeCells>'.encode()
        # mergeCells follows sheetData (and autoFilter/sortState, which XlsxWriter puts in tables instead).
        return d.replace(b"</sheetData>", b"</sheetData>" + merge, 1)

    rezip(path, {part: edit})


def rename_headers(path: Path, table: str, renames: Mapping[str, str]) -> None:
    """Retype header cells of a table, as a user typing over them in Excel leaves the file:
    the header cell (an inline string) and the table part's column name both change."""
    part = table_part(path, table)
    files = members(path)
    tdata = files[part].decode()
    ref = re.search(r' ref="([A-Z]+)(\d+):', tdata)
    header_row, col0 = ref.group(2), _index(ref.group(1))
    names = re.findall(r'<tableColumn id="\d+" name="([^"]*)"', tdata)
    sheet = _sheet_of_table(files, part)

    def edit_sheet(d: bytes) -> bytes:
        for old, new in renames.items():
            a1 = f"{_letters(col0 + names.index(old))}{header_row}"
            cell = re.compile(rb'<c r="' + a1.encode() + rb'"( s="\d+")?[^>]*?(?:/>|>.*?</c>)', re.S)
            m = cell.search(d)
            assert m, f"no header cell {a1}"
            new_cell = b'<c r="%s"%s t="inlineStr"><is><t>%s</t></is></c>' % (a1.encode(), m.group(1) or b"", escape(new).encode())
            d = d[: m.start()] + new_cell + d[m.end() :]
        return d

    def edit_table(d: bytes) -> bytes:
        for old, new in renames.items():
            d = re.sub(rb'(<tableColumn id="\d+" name=")' + re.escape(escape(old, {'"': "&quot;"}).encode()) + rb'"',
                       lambda m: m.group(1) + escape(new, {'"': "&quot;"}).encode() + b'"', d, count=1)
        return d

    rezip(path, {sheet: edit_sheet, part: edit_table})


def add_column(path: Path, table: str, header: str, values: list[str]) -> None:
    """Add a column at the right edge of a table, as a user typing a header next to it does:
    the header and value cells (inline strings), the table's ref, autoFilter and columns."""
    part = table_part(path, table)
    files = members(path)
    tdata = files[part].decode()
    ref = re.search(r' ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"', tdata)
    first_row, last_col, last_row = int(ref.group(2)), ref.group(3), int(ref.group(4))
    col = _letters(_index(last_col) + 1)
    new_ref = f"{ref.group(1)}{first_row}:{col}{last_row}"
    sheet = _sheet_of_table(files, part)
    cells = {first_row: header, **{first_row + 1 + i: v for i, v in enumerate(values)}}

    def edit_sheet(d: bytes) -> bytes:
        for r, text in cells.items():
            cell = b'<c r="%s%d" t="inlineStr"><is><t>%s</t></is></c>' % (col.encode(), r, escape(text).encode())
            row = re.search(rb'<row r="%d"[^>]*>.*?</row>' % r, d, re.S)
            assert row, f"no row {r}"
            d = d[: row.end() - len(b"</row>")] + cell + d[row.end() - len(b"</row>") :]
        return re.sub(rb'<dimension ref="([A-Z]+\d+):[A-Z]+(\d+)"/>',
                      lambda m: b'<dimension ref="%s:%s%s"/>' % (m.group(1), col.encode(), m.group(2)), d, count=1)

    def edit_table(d: bytes) -> bytes:
        d = d.replace(f'ref="{ref.group(0)[6:-1]}"'.encode(), f'ref="{new_ref}"'.encode())
        count = int(re.search(rb'<tableColumns count="(\d+)"', d).group(1))
        d = d.replace(b'<tableColumns count="%d"' % count, b'<tableColumns count="%d"' % (count + 1))
        return d.replace(b"</tableColumns>", b'<tableColumn id="%d" name="%s"/></tableColumns>'
                         % (count + 1, escape(header, {'"': "&quot;"}).encode()))

    rezip(path, {sheet: edit_sheet, part: edit_table})


def _index(letters: str) -> int:
    # "AG" -> 33
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _letters(index: int) -> str:
    # 34 -> "AH"
    out = ""
    while index:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def _sheet_of_table(files: Mapping[str, bytes], part: str) -> str:
    # The worksheet whose relationships point at table part ``part``.
    target = f'Target="../tables/{part.rsplit("/", 1)[1]}"'.encode()
    for name, data in files.items():
        if name.startswith("xl/worksheets/_rels/") and target in data:
            return "xl/worksheets/" + name.rsplit("/", 1)[1].removesuffix(".rels")
    raise AssertionError(f"no sheet holds {part}")


def drop_last_column(path: Path, table: str) -> None:
    """Remove a table's last column (table part and cells), as in a workbook built by an
    older version whose output table had one column fewer."""
    part = table_part(path, table)
    files = members(path)
    tdata = files[part].decode()
    ref = re.search(r' ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"', tdata)
    last = ref.group(3)
    narrower = f"{ref.group(1)}{ref.group(2)}:{_letters(_index(last) - 1)}{ref.group(4)}"
    sheet = _sheet_of_table(files, part)
    rows = range(int(ref.group(2)), int(ref.group(4)) + 1)

    def edit_sheet(d: bytes) -> bytes:
        for r in rows:
            d = re.sub(rb'<c r="%s%d"[^>]*?(?:/>|>.*?</c>)' % (last.encode(), r), b"", d, count=1, flags=re.S)
        return d

    def edit_table(d: bytes) -> bytes:
        d = d.replace(f'ref="{ref.group(0)[6:-1]}"'.encode(), f'ref="{narrower}"'.encode())
        count = int(re.search(rb'<tableColumns count="(\d+)"', d).group(1))
        d = d.replace(b'<tableColumns count="%d"' % count, b'<tableColumns count="%d"' % (count - 1))
        return re.sub(rb'<tableColumn id="\d+" name="[^"]*"[^>]*?(?:/>|>.*?</tableColumn>)</tableColumns>', b"</tableColumns>", d, flags=re.S)

    rezip(path, {sheet: edit_sheet, part: edit_table})


def _new_rel(rels: bytes, rel_id: str, rel_type: str, target: str) -> bytes:
    return rels.replace(b"</Relationships>", f'<Relationship Id="{rel_id}" Type="{_REL_NS}/{rel_type}" Target="{target}"/></Relationships>'.encode())


def _override(types: bytes, part: str, content_type: str) -> bytes:
    return types.replace(b"</Types>", f'<Override PartName="/{part}" ContentType="{content_type}"/></Types>'.encode())


def add_user_sheet(path: Path, name: str, cells: Mapping[str, str]) -> str:
    """Add a worksheet of the user's own, cells given as raw cell XML by A1 reference
    (``{"B2": '<c r="B2"><f>COUNTA(tblDealScores[Deal ID])</f><v>8</v></c>'}``).

    Returns:
        The new sheet's part name.
    """
    files = members(path)
    numbers = [int(m) for m in re.findall(r"^xl/worksheets/sheet(\d+)\.xml$", "\n".join(files), re.M)]
    part = f"xl/worksheets/sheet{max(numbers) + 1}.xml"
    sheet_id = max(int(i) for i in re.findall(rb'sheetId="(\d+)"', files["xl/workbook.xml"])) + 1
    rows: dict[int, list[str]] = {}
    for ref, xml in cells.items():
        rows.setdefault(int(re.sub(r"[A-Z]+", "", ref)), []).append(xml)
    body = "".join(f'<row r="{r}">{"".join(xs)}</row>' for r, xs in sorted(rows.items()))
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'xmlns:r="{_REL_NS}"><sheetData>{body}</sheetData>'
        '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>'
    ).encode()
    rezip(path, {
        "xl/workbook.xml": lambda d: d.replace(b"</sheets>", f'<sheet name="{escape(name)}" sheetId="{sheet_id}" r:id="rIdUser{sheet_id}"/></sheets>'.encode()),
        "xl/_rels/workbook.xml.rels": lambda d: _new_rel(d, f"rIdUser{sheet_id}", "worksheet", part.removeprefix("xl/")),
        "[Content_Types].xml": lambda d: _override(d, part, "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"),
    }, add={part: sheet})
    return part


def add_defined_name(path: Path, name: str, refers_to: str) -> None:
    """Add a workbook-level defined name, as the Name Manager does."""
    element = f'<definedName name="{escape(name)}">{escape(refers_to)}</definedName>'.encode()

    def edit(d: bytes) -> bytes:
        if b"</definedNames>" in d:
            return d.replace(b"</definedNames>", element + b"</definedNames>")
        return d.replace(b"<calcPr", b"<definedNames>" + element + b"</definedNames><calcPr")

    rezip(path, {"xl/workbook.xml": edit})


X14_MAIN = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"


def add_x14_validation(path: Path, sheet: str, sqref: str, formula: str) -> bytes:
    """Add a list validation whose source is on another sheet, as Excel 2010+ saves it: in the
    worksheet's ``<extLst>`` (``x14:dataValidations``), which openpyxl drops.

    Returns:
        The ``<extLst>`` element added.
    """
    ext = (
        '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
        f'xmlns:x14="{X14_MAIN}">'
        '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
        '<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1">'
        f"<x14:formula1><xm:f>{escape(formula)}</xm:f></x14:formula1><xm:sqref>{sqref}</xm:sqref>"
        "</x14:dataValidation></x14:dataValidations></ext></extLst>"
    ).encode()
    part = sheet_part(path, sheet)
    rezip(path, {part: lambda d: d.replace(b"</worksheet>", ext + b"</worksheet>")})
    return ext


def add_form_control(path: Path, sheet: str, macro: str = "RefreshFunnel") -> bytes:
    """Give the sheet's VML button (XlsxWriter's ``insert_button``, shape 1025) the Excel
    2010+ form-control record Excel saves beside it: a ``<controls>`` element after
    ``<legacyDrawing>``, whose ``<control r:id>`` points at ``xl/ctrlProps/ctrlProp1.xml``
    (with its relationship and content-type override).

    Returns:
        The ``<mc:AlternateContent>`` element holding ``<controls>``.
    """
    part = sheet_part(path, sheet)
    files = members(path)
    assert b"<legacyDrawing " in files[part], f"{sheet} has no VML drawing (button) to attach a control to"
    mc = "http://schemas.openxmlformats.org/markup-compatibility/2006"
    controls = (
        f'<mc:AlternateContent xmlns:mc="{mc}" xmlns:x14="{X14_MAIN}" '
        'xmlns:xdr="http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing">'
        f'<mc:Choice Requires="x14"><controls><mc:AlternateContent xmlns:mc="{mc}"><mc:Choice Requires="x14">'
        '<control shapeId="1025" r:id="rIdCtrl1" name="Button 1">'
        f'<controlPr defaultSize="0" print="0" autoFill="0" autoPict="0" macro="[0]!{macro}">'
        '<anchor moveWithCells="1" sizeWithCells="1">'
        "<from><xdr:col>6</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>0</xdr:row><xdr:rowOff>0</xdr:rowOff></from>"
        "<to><xdr:col>7</xdr:col><xdr:colOff>133350</xdr:colOff><xdr:row>1</xdr:row><xdr:rowOff>114300</xdr:rowOff></to>"
        "</anchor></controlPr></control></mc:Choice></mc:AlternateContent></controls></mc:Choice></mc:AlternateContent>"
    ).encode()
    ctrl_prop = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        b'<formControlPr xmlns="' + X14_MAIN.encode() + b'" objectType="Button" lockText="1"/>'
    )
    rels = _rels_of(part)
    rezip(path, {
        part: lambda d: re.sub(rb'(<legacyDrawing r:id="[^"]+"/>)', lambda m: m.group(1) + controls, d, count=1),
        rels: lambda d: _new_rel(d, "rIdCtrl1", "ctrlProp", "../ctrlProps/ctrlProp1.xml"),
        "[Content_Types].xml": lambda d: _override(d, "xl/ctrlProps/ctrlProp1.xml", "application/vnd.ms-excel.controlproperties+xml"),
    }, add={"xl/ctrlProps/ctrlProp1.xml": ctrl_prop})
    return controls


# ---- hostile and broken files ---------------------------------------------------------------------
def _padded_sheet(sheet_xml: bytes, pad: int) -> bytes:
    # A valid worksheet that inflates to ``pad`` more bytes: whitespace between elements.
    at = sheet_xml.index(b"<sheetData")
    return sheet_xml[:at] + b" " * pad + sheet_xml[at:]


def _deflate(data_chunks, level: int = 6) -> tuple[bytes, int, int]:
    # Raw deflate of the concatenated chunks: (compressed, crc32, length)
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    out, crc, n = [], 0, 0
    for chunk in data_chunks:
        out.append(c.compress(chunk))
        crc = zlib.crc32(chunk, crc)
        n += len(chunk)
    out.append(c.flush())
    return b"".join(out), crc, n


def zip_bomb(src: Path, dst: Path, sheet: str = "Opportunities", inflated: int = 256 << 20) -> Path:
    """A copy of ``src`` whose input sheet is valid XML padded to ``inflated`` bytes of
    whitespace: honest sizes, compression ratio about 1000:1."""
    shutil.copy(src, dst)
    part = sheet_part(dst, sheet)
    return rezip(dst, {part: lambda d: _padded_sheet(d, inflated)})


def lying_zip_bomb(src: Path, dst: Path, sheet: str = "Opportunities", inflated: int = 256 << 20) -> Path:
    """Like ``zip_bomb``, but the zip headers declare the sheet's original small size, so
    only a reader that stops at the declared size is safe (CRC of the full stream is honest)."""
    part = sheet_part(src, sheet)
    files = members(src)
    original = files[part]
    at = original.index(b"<sheetData")
    chunks = [original[:at]] + [b" " * (1 << 20)] * (inflated >> 20) + [original[at:]]
    body, crc, _ = _deflate(chunks)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == part:
                data = b"\0" * len(original)  # placeholder, replaced byte for byte below
            zout.writestr(info, data)
    # Splice the bomb's deflate stream over the placeholder entry, keeping the lie.
    with zipfile.ZipFile(dst) as z:
        info = z.getinfo(part)
        raw = dst.read_bytes()
    local = info.header_offset
    name_len, extra_len = struct.unpack_from("<HH", raw, local + 26)
    data_at = local + 30 + name_len + extra_len
    old_end = data_at + info.compress_size
    delta = len(body) - info.compress_size
    out = bytearray(raw[:data_at] + body + raw[old_end:])
    struct.pack_into("<LL", out, local + 14, crc, len(body))  # crc, compressed size; the declared size stays
    # Central directory: this entry's crc and compressed size, and every later local offset.
    eocd = out.rindex(b"PK\x05\x06")
    count, cd_size, cd_offset = struct.unpack_from("<HLL", out, eocd + 10)
    cd_offset += delta
    pos = cd_offset
    for _ in range(count):
        n, e, k = struct.unpack_from("<HHH", out, pos + 28)
        name = bytes(out[pos + 46 : pos + 46 + n]).decode()
        offset = struct.unpack_from("<L", out, pos + 42)[0]
        if name == part:
            struct.pack_into("<LL", out, pos + 16, crc, len(body))
        elif offset > local:
            struct.pack_into("<L", out, pos + 42, offset + delta)
        pos += 46 + n + e + k
    struct.pack_into("<L", out, eocd + 16, cd_offset)
    dst.write_bytes(bytes(out))
    return dst


_LAUGHS = (
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10) for i in range(1, 10))
    + b"]>"
)


def entity_bomb(src: Path, dst: Path, part: str = "xl/sharedStrings.xml", bom: bool = False) -> Path:
    """A copy of ``src`` whose ``part`` declares the billion-laughs entities and uses the
    biggest one in its first element's text (``bom``: behind a UTF-8 byte order mark)."""
    shutil.copy(src, dst)

    def edit(d: bytes) -> bytes:
        decl_end = d.index(b"?>") + 2 if d.startswith(b"<?xml") else 0
        body = d[decl_end:].lstrip()
        body = re.sub(rb"<t>[^<]*</t>", b"<t>&lol9;</t>", body, count=1) if b"<t>" in body else body.replace(
            b"<sheetData>", b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>', 1)
        return (b"\xef\xbb\xbf" if bom else b"") + d[:decl_end] + _LAUGHS + body

    return rezip(dst, {part: edit})


def huge_sheet(src: Path, dst: Path, sheet: str = "Opportunities", corners_only: bool = False) -> Path:
    """A copy of ``src`` whose sheet declares ``<dimension ref="A1:XFD1048576"/>`` and holds
    cells at A1 and XFD1048576 (``corners_only``: keep the honest dimension, add only the far cell)."""
    shutil.copy(src, dst)
    part = sheet_part(dst, sheet)

    def edit(d: bytes) -> bytes:
        if not corners_only:
            d = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:XFD1048576"/>', d)
        return d.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>')

    return rezip(dst, {part: edit})


def truncated(src: Path, dst: Path, keep: float = 0.5) -> Path:
    """The first ``keep`` fraction of ``src`` (a download or copy cut short)."""
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst


def encrypted_by_msoffcrypto(src: Path, dst: Path, password: str = "secret") -> Path | None:
    """``src`` saved with a password by msoffcrypto-tool (Excel's agile encryption), or None
    when msoffcrypto-tool is not installed."""
    try:
        from msoffcrypto.format.ooxml import OOXMLFile
    except ImportError:
        return None
    with open(src, "rb") as f, open(dst, "wb") as out:
        OOXMLFile(f).encrypt(password, out)
    return dst


def encrypted_ole(dst: Path) -> Path:
    """A minimal OLE compound file (CFB v3) holding the two streams of a password-protected
    workbook, ``EncryptionInfo`` and ``EncryptedPackage`` (random-looking bytes: the key is
    not needed to recognise one). olefile opens it."""
    sector = 512
    free, end, fat_sect, no_stream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    stream_sectors = 8  # 4096 bytes each: at the mini-stream cutoff, so in regular sectors
    package = struct.pack("<Q", 4096 - 8) + bytes((i * 37 + 11) % 256 for i in range(4096 - 8))
    info = struct.pack("<HHL", 4, 4, 0x40) + b"<encryption/>".ljust(4096 - 8, b"\0")
    # Sector 0: FAT; 1: directory; 2-9: EncryptedPackage; 10-17: EncryptionInfo.
    fat = [fat_sect, end]
    for start in (2, 10):
        fat += [start + i + 1 for i in range(stream_sectors - 1)] + [end]
    fat += [free] * (sector // 4 - len(fat))

    def entry(name: str, kind: int, left: int, right: int, child: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0"
        return (raw.ljust(64, b"\0") + struct.pack("<HBB3L", len(raw), kind, 1, left, right, child)
                + b"\0" * 16 + b"\0" * 4 + b"\0" * 16 + struct.pack("<LQ", start, size))

    directory = (
        entry("Root Entry", 5, no_stream, no_stream, 1, end, 0)
        # Siblings sort by name length first: EncryptionInfo (14) < EncryptedPackage (16).
        + entry("EncryptedPackage", 2, 2, no_stream, no_stream, 2, len(package))
        + entry("EncryptionInfo", 2, no_stream, no_stream, no_stream, 10, len(info))
        + (b"\0" * 64 + struct.pack("<HBB3L", 0, 0, 0, no_stream, no_stream, no_stream) + b"\0" * 48)
    )
    header = (
        bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 16
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
        + struct.pack("<LLLLLLLLL", 0, 1, 1, 0, 4096, end, 0, end, 0)
        + struct.pack("<L", 0) + struct.pack("<L", free) * 108
    )
    assert len(header) == sector and len(directory) == sector
    dst.write_bytes(header + struct.pack(f"<{sector // 4}L", *fat) + directory + package + info)
    return dst


def png_file(dst: Path) -> Path:
    """A real 1x1 PNG image (a picture saved with the wrong extension)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">L", len(data)) + kind + data + struct.pack(">L", zlib.crc32(kind + data))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">LLBBBBB", 1, 1, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(b"\0\xff\0\0")) + chunk(b"IEND", b""))
    dst.write_bytes(png)
    return dst


def csv_file(dst: Path) -> Path:
    """A CRM export in CSV saved under a workbook's name."""
    dst.write_text("Deal ID,Account,Stage,Amount\nOPP-1,Acme,P,1000\nOPP-2,Globex,W,2500\n", encoding="utf-8")
    return dst


def empty_file(dst: Path) -> Path:
    """A zero-byte file (a failed save, a placeholder)."""
    dst.write_bytes(b"")
    return dst


def _entry_data_span(raw: bytes, info: zipfile.ZipInfo) -> tuple[int, int]:
    # (first byte, end) of an entry's compressed data in the archive's bytes.
    name_len, extra_len = struct.unpack_from("<HH", raw, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    return start, start + info.compress_size


def damaged(src: Path, dst: Path, part: str, kind: str = "checksum") -> Path:
    """A copy of ``src`` with one bit flipped in the deflated data of ``part``, as a bad disk
    sector or a broken download leaves it. The flip is chosen (by zlib, here) so that the
    entry shows ``kind`` of damage: ``"checksum"`` (inflates to the right length, wrong
    CRC), ``"deflate"`` (zlib cannot inflate it), ``"shorter"`` or ``"longer"`` (inflates to
    fewer or a few more bytes than its header declares)."""
    raw = src.read_bytes()
    with zipfile.ZipFile(src) as z:
        info = z.getinfo(part)
    assert info.compress_type == zipfile.ZIP_DEFLATED, f"{part} is not deflated"
    start, end = _entry_data_span(raw, info)
    middle = (start + end) // 2
    for at in sorted(range(start, end), key=lambda i: abs(i - middle)):
        for bit in range(8):
            data = bytearray(raw[start:end])
            data[at - start] ^= 1 << bit
            try:
                out = zlib.decompressobj(-15).decompress(bytes(data))
            except zlib.error:
                found = "deflate"
            else:
                found = ("longer" if len(out) > info.file_size else "shorter" if len(out) < info.file_size
                         else "checksum" if zlib.crc32(out) != info.CRC else None)
            if found == kind:
                dst.write_bytes(raw[:start] + bytes(data) + raw[end:])
                return dst
    raise AssertionError(f"no single bit flip gives {kind} damage in {part}")


def odd_entry_name(src: Path, dst: Path, name: str, rename: str | None = None) -> Path:
    """A copy of ``src`` with a zip entry called ``name``: a new entry, or (``rename``) the
    entry ``rename`` under that name. Names such as ``../../evil.sh``, ``/etc/evil`` and
    ``xl\\worksheets\\sheet1.xml`` are what a zip-slip attack or a broken zip tool writes."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == rename:
                info.filename = name  # zipfile keeps it as given (it only changes os.sep)
            zout.writestr(info, data)
        if rename is None:
            zout.writestr(zipfile.ZipInfo(name), b"#!/bin/sh\necho pwned\n")
    with zipfile.ZipFile(dst) as z:
        assert name in z.namelist(), f"zipfile did not keep the name {name!r}"
    return dst


def owner_file_bytes(user: str, app: str = "excel") -> bytes:
    """The owner file Office writes beside a document it has open, for ``user``.

    The layout, as LibreOffice reads and writes it for interoperability: byte 0 the name's
    length, the name in the 8-bit code page (cp1252 here: other letters become ``?``),
    padding to byte 55 (Excel: spaces; PowerPoint: a zero, then spaces; Word: zeros to 54),
    the length again as a 2-byte word, the name in UTF-16-LE, then padding to 165 bytes
    (Word: 162) with space/zero pairs (Word: zeros).
    """
    name = user[:52]
    ansi = bytes([len(name)]) + name.encode("cp1252", "replace")
    utf16 = struct.pack("<H", len(name)) + name.encode("utf-16-le")
    if app == "word":
        return (ansi.ljust(54, b"\0") + utf16).ljust(162, b"\0")
    if app == "powerpoint":
        ansi += b"\0"
    elif app != "excel":
        raise ValueError(app)
    data = ansi.ljust(55, b" ") + utf16
    return data + (b" \0" * 165)[: 165 - len(data)]


def excel_owner_file(workbook: Path, user: str | None, data: bytes | None = None) -> Path:
    """Write the owner file Excel keeps beside ``workbook`` while ``user`` has it open
    (``data``: write these bytes instead, for damaged or foreign owner files)."""
    owner = workbook.with_name("~$" + workbook.name)
    owner.write_bytes(data if data is not None else owner_file_bytes(user or ""))
    return owner


def mount_tmpfs(folder: Path, size: int) -> bool:
    """Mount a tmpfs of ``size`` bytes on ``folder`` (made if needed); False when this
    process may not mount (not root, or no CAP_SYS_ADMIN in the container)."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "funnel-test", str(folder)],
                          capture_output=True, timeout=30)
    return done.returncode == 0


def unmount(folder: Path) -> None:
    """Undo ``mount_tmpfs``."""
    subprocess.run(["umount", "-l", str(folder)], capture_output=True, timeout=30)


def fill_disk(folder: Path, leave: int = 0) -> Path:
    """Fill the file system of ``folder`` with one file until not one more byte fits, then
    give back ``leave`` bytes (0: the disk is completely full)."""
    filler = folder / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for size in (1 << 20, 4096, 1):  # big writes, then the last page, then its last bytes
            chunk = b"\0" * size
            while True:
                try:
                    os.write(fd, chunk)
                except OSError:
                    break
    finally:
        os.close(fd)
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def set_immutable(path: Path, on: bool = True) -> bool:
    """``chattr +i`` (``on``) or ``-i`` on ``path``: not even root may then replace it (a
    file) or create in it (a folder). False when the file system or system cannot."""
    if shutil.which("chattr") is None:
        return False
    return subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True, timeout=30).returncode == 0
