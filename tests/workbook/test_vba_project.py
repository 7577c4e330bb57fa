"""workbook/vba_project.py: VBA source compiled into a vbaProject.bin, checked by other readers.

The independent readers: oletools (its MS-OVBA decompressor and its VBA parser, the
engine of ``olevba``), olefile (the compound file) and LibreOffice (the whole .xlsm,
through its own CFB reader and VBA importer). Excel-written reference parts come from
xlwings' shipped ``quickstart_standalone.xlsm``. What each comparison ignores is named
where it is made.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import struct
import subprocess
import warnings
import zipfile
from pathlib import Path

import olefile
import pytest
import xlsxwriter
import xlwings
from hypothesis import given, settings
from hypothesis import strategies as st

with warnings.catch_warnings():  # oletools' pyparsing grammar warns on import
    warnings.simplefilter("ignore", DeprecationWarning)
    from oletools.olevba import VBA_Parser, decompress_stream

from workbook.vba_project import (
    VbaModule,
    VbaProjectError,
    _compound_file,  # the CFB writer, tested alone on shapes the VBA project never needs
    build_vba_project,
    compress,
    decompress,
    macro_names,
    read_vba_project,
)

XLWINGS_DIR = Path(xlwings.__file__).parent
XLWINGS_BAS = XLWINGS_DIR / "xlwings.bas"
EXCEL_REFERENCE = XLWINGS_DIR / "quickstart_standalone.xlsm"  # saved by Excel, shipped by xlwings
LO_SCRIPT = Path(__file__).parents[1] / "support" / "lo_vba_modules.py"
SYSTEM_PYTHON = "/usr/bin/python3"
SOFFICE = "/usr/bin/soffice"

FUNNEL_BAS = '''Attribute VB_Name = "Funnel"
Option Explicit

' Button macros for the sales-funnel workbook. Each one hands the work to Python
' (xlwings' RunPython) and reports back on the Issues sheet.

Private Const ISSUES_SHEET As String = "Issues"
Private Const PIPELINE_SHEET As String = "Pipeline"

Sub RefreshAll()
    ' Recompute stage probabilities, win rates and the weighted pipeline.
    Application.ScreenUpdating = False
    On Error GoTo Failed
    RunPython "from udfs.macros import refresh_all; refresh_all()"
    Application.StatusBar = "Funnel refreshed " & Format(Now, "yyyy-mm-dd hh:nn")
    GoTo Done
Failed:
    ReportIssue "RefreshAll", Err.Description
Done:
    Application.ScreenUpdating = True
End Sub

Sub ClearIssues()
    ' Empty the Issues sheet below its header row.
    Dim lastRow As Long
    With ThisWorkbook.Worksheets(ISSUES_SHEET)
        lastRow = .Cells(.Rows.Count, 1).End(xlUp).Row
        If lastRow > 1 Then .Range(.Cells(2, 1), .Cells(lastRow, 6)).ClearContents
    End With
End Sub

Public Sub ImportDeals(Optional ByVal path As String = "")
    ' Import a CRM export (CSV) into the Deals table; asks for the file if none given.
    If Len(path) = 0 Then
        path = Application.GetOpenFilename("CSV files (*.csv),*.csv")
        If path = "False" Then Exit Sub
    End If
    RunPython "from udfs.macros import import_deals; import_deals(r'" & path & "')"
End Sub

Sub ExportForecast(ByVal quarter As String)
    ' Not a button macro: it needs a quarter, so only other code can call it.
    RunPython "from udfs.macros import export_forecast; export_forecast('" & quarter & "')"
End Sub

Function WeightedPipeline(amounts As Range, probabilities As Range) As Double
    ' Sum of amount x stage probability over matching rows.
    Dim i As Long, total As Double
    For i = 1 To amounts.Cells.Count
        total = total + amounts.Cells(i).Value * probabilities.Cells(i).Value
    Next i
    WeightedPipeline = total
End Function

Private Sub ReportIssue(ByVal source As String, ByVal message As String)
    ' Append one row to the Issues sheet: when, where, what.
    Dim nextRow As Long
    With ThisWorkbook.Worksheets(ISSUES_SHEET)
        nextRow = .Cells(.Rows.Count, 1).End(xlUp).Row + 1
        .Cells(nextRow, 1).Value = Now
        .Cells(nextRow, 2).Value = source
        .Cells(nextRow, 3).Value = message
    End With
End Sub

Sub ShowPipeline()
    ThisWorkbook.Worksheets(PIPELINE_SHEET).Activate
    ThisWorkbook.Worksheets(PIPELINE_SHEET).Range("A1").Select
End Sub

Sub HighlightStaleDeals()
    ' Shade deals whose next step is more than 30 days old, so reviews start there.
    Dim cell As Range, lastRow As Long
    With ThisWorkbook.Worksheets(PIPELINE_SHEET)
        lastRow = .Cells(.Rows.Count, 1).End(xlUp).Row
        For Each cell In .Range(.Cells(2, 5), .Cells(lastRow, 5)).Cells
            If IsDate(cell.Value) Then
                If Date - cell.Value > 30 Then
                    cell.EntireRow.Interior.Color = RGB(255, 235, 156)
                Else
                    cell.EntireRow.Interior.ColorIndex = xlColorIndexNone
                End If
            End If
        Next cell
    End With
End Sub
'''

THIS_WORKBOOK = """Option Explicit

Private Sub Workbook_Open()
    Application.StatusBar = "Sales funnel ready"
End Sub
"""

SHEET1 = """Option Explicit

Private Sub Worksheet_Change(ByVal Target As Range)
    If Target.Column = 1 Then Application.StatusBar = "Pipeline edited"
End Sub
"""

BUTTONS = {"B2": ("RefreshAll", "Refresh"), "D2": ("ClearIssues", "Clear issues")}


def visible_source(code: str) -> str:
    """What the VBA editor shows for `code`: exported-file header dropped, \\n line ends.

    The header is the class ``VERSION``/``BEGIN``/``END`` block and the leading
    ``Attribute VB_...`` lines; a missing final line end is added (VBA stores whole lines).
    """
    lines = code.replace("\r\n", "\n").split("\n")
    if lines[0].startswith("VERSION ") and "BEGIN" in lines[1]:
        lines = lines[lines.index("END") + 1 :]
    while lines and lines[0].startswith("Attribute VB_"):
        lines.pop(0)
    text = "\n".join(lines)
    return text if text == "" or text.endswith("\n") else text + "\n"


def attribute_header(stream_text: str) -> list[str]:
    """The leading ``Attribute VB_...`` lines of a module stream's text."""
    header = []
    for line in stream_text.replace("\r\n", "\n").split("\n"):
        if not line.startswith("Attribute VB_"):
            break
        header.append(line)
    return header


@pytest.fixture(scope="module")
def modules() -> list[VbaModule]:
    """ThisWorkbook, two worksheets, our ~3 KB button module and xlwings' own module."""
    xlwings_bas = XLWINGS_BAS.read_text(encoding="cp1252")
    assert 3000 <= len(FUNNEL_BAS) <= 3500 and len(xlwings_bas) > 40_000
    return [
        VbaModule("ThisWorkbook", "document", THIS_WORKBOOK),
        VbaModule("Sheet1", "document", SHEET1),
        VbaModule("Sheet2", "document", ""),
        VbaModule("Funnel", "standard", FUNNEL_BAS),
        VbaModule("xlwings", "standard", xlwings_bas),
    ]


@pytest.fixture(scope="module")
def vba_bytes(modules) -> bytes:
    return build_vba_project(modules)


@pytest.fixture(scope="module")
def xlsm(vba_bytes, tmp_path_factory) -> Path:
    """An .xlsm made by XlsxWriter around our vbaProject.bin, with two macro buttons."""
    path = tmp_path_factory.mktemp("vba") / "funnel.xlsm"
    book = xlsxwriter.Workbook(path)
    book.add_vba_project(io.BytesIO(vba_bytes), is_stream=True)
    book.set_vba_name("ThisWorkbook")
    pipeline = book.add_worksheet("Pipeline")
    pipeline.set_vba_name("Sheet1")
    issues = book.add_worksheet("Issues")
    issues.set_vba_name("Sheet2")
    for cell, (macro, caption) in BUTTONS.items():
        pipeline.insert_button(cell, {"macro": macro, "caption": caption})
    book.close()
    return path


# ---------------------------------------------------------------------------------------
# Compression
# ---------------------------------------------------------------------------------------

# [MS-OVBA] 3.2: the spec's worked example, its decompressed and its compressed bytes.
SPEC_TEXT = b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa"
SPEC_COMPRESSED = bytes.fromhex(
    "01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A 01 38 08 61 6B 6C 00 30"
    " 6D 6E 6F 70 06 71 02 70 04 10 72 73 74 75 76 10 77 78 79 7A 00 3C"
)


def sample(kind: str, length: int) -> bytes:
    """Deterministic test input: random bytes, random text, or repetitive VBA."""
    rng = random.Random(f"{kind}:{length}")
    if kind == "random bytes":
        return rng.randbytes(length)
    if kind == "random text":
        return bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz ETAOIN\r\n") for _ in range(length))
    line = b'    Range("A%d").Value = WorksheetFunction.Sum(Range("B1:B%d"))\r\n'
    text = b"".join(line % (i % 7, i % 13) for i in range(length // 40 + 1))
    return text[:length]


@pytest.mark.parametrize("length", [0, 1, 650, 651, 4095, 4096, 4097, 50_000])
@pytest.mark.parametrize("kind", ["random bytes", "random text", "repetitive vba"])
def test_compression_round_trips_through_oletools(kind, length):
    data = sample(kind, length)
    compressed = compress(data)
    assert bytes(decompress_stream(bytearray(compressed))) == data
    assert decompress(compressed) == data


def test_spec_example_decompresses_and_compresses_no_larger():
    """The spec's own output reads back; ours (all-position matching) is no longer."""
    assert decompress(SPEC_COMPRESSED) == SPEC_TEXT
    ours = compress(SPEC_TEXT)
    assert bytes(decompress_stream(bytearray(ours))) == SPEC_TEXT
    assert len(ours) <= len(SPEC_COMPRESSED)


def test_copy_token_reaches_the_maximum_length():
    """Max length is (0xFFFF >> bit_count) + 3: 4095 bytes in one token at bit_count 4.

    The buggy ms-ovba package computes 0xFFFF << bit_count + 3 and corrupts long runs.
    Expected: signature 01, header B003 (compressed, 6 bytes), flags 02, literal 'a',
    copy token 0x0FFC (offset 1, length 4092 + 3 = 4095).
    """
    assert compress(b"a" * 4096) == bytes.fromhex("01 03 B0 02 61 FC 0F")


def test_incompressible_chunk_is_stored_raw():
    data = sample("random bytes", 4096)
    compressed = compress(data)
    assert compressed[1:3] == struct.pack("<H", 0x3FFF)  # raw flag, signature, size 4098
    assert compressed[3:] == data


def test_decompress_rejects_garbage():
    with pytest.raises(VbaProjectError, match="signature"):
        decompress(b"\x02\x00")
    with pytest.raises(VbaProjectError, match="chunk signature"):
        decompress(b"\x01\x00\x00")


VBA_FRAGMENTS = [b"Sub ", b"End Sub\r\n", b"    ", b"Dim x As Long\r\n", b"a", b"'", b"\r\n", b"x"]
vba_like = st.lists(st.sampled_from(VBA_FRAGMENTS), max_size=1500).map(b"".join)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=9000), vba_like))
def test_compression_round_trips_property(data):
    compressed = compress(data)
    assert bytes(decompress_stream(bytearray(compressed))) == data
    assert decompress(compressed) == data


# ---------------------------------------------------------------------------------------
# Compound file
# ---------------------------------------------------------------------------------------


RED, BLACK = 0, 1  # [MS-CFB] 2.6.1 directory entry colors


def check_sibling_tree(ole: olefile.OleFileIO, sid: int) -> tuple[list[str], int]:
    """In-order names and black height of a red-black sibling tree; asserts its rules."""
    if sid == olefile.NOSTREAM:
        return [], 1
    entry = ole.direntries[sid]
    left, left_height = check_sibling_tree(ole, entry.sid_left)
    right, right_height = check_sibling_tree(ole, entry.sid_right)
    assert left_height == right_height, f"unequal black height under {entry.name!r}"
    if entry.color == RED:
        for child in (entry.sid_left, entry.sid_right):
            assert child == olefile.NOSTREAM or ole.direntries[child].color == BLACK
    return left + [entry.name] + right, left_height + (entry.color == BLACK)


def check_storage(ole: olefile.OleFileIO, sid: int) -> None:
    """Every storage's children form a valid, correctly ordered red-black tree."""
    entry = ole.direntries[sid]
    if entry.sid_child == olefile.NOSTREAM:
        return
    assert ole.direntries[entry.sid_child].color == BLACK, "tree root must be black"
    names, _ = check_sibling_tree(ole, entry.sid_child)
    assert names == sorted(names, key=lambda n: (len(n), n.upper()))
    for kid in entry.kids:
        check_storage(ole, kid.sid)


def test_compound_file_reads_back_in_olefile():
    """Mini and regular streams on both sides of 4096 bytes, several FAT and mini FAT
    sectors, multi-sector directory, nested storages with many siblings."""
    rng = random.Random(7)
    tree = {
        "big": rng.randbytes(100_000),
        "edge4095": rng.randbytes(4095),
        "edge4096": rng.randbytes(4096),
        "one": b"x",
        "zero": b"",
        "mini64": rng.randbytes(64),
        "Storage": {f"s{i:03d}": rng.randbytes(100 + i) for i in range(150)},
        "Empty": {},
        "Nested": {"Deeper": {"leaf": b"leaf data"}, "ZZ": b"z" * 5000},
    }
    data = _compound_file(tree)
    assert len(data) % 512 == 0
    ole = olefile.OleFileIO(io.BytesIO(data))

    def walk(node, prefix=()):
        for name, value in node.items():
            if isinstance(value, dict):
                assert ole.get_type("/".join(prefix + (name,))) == olefile.STGTY_STORAGE
                walk(value, prefix + (name,))
            else:
                assert ole.openstream("/".join(prefix + (name,))).read() == value

    walk(tree)
    assert len(ole.listdir(streams=True, storages=False)) == 6 + 150 + 2
    check_storage(ole, 0)


def test_compound_file_has_no_timestamps_or_clsids():
    ole = olefile.OleFileIO(io.BytesIO(_compound_file({"A": {"b": b"1"}, "c": b"2"})))
    for entry in ole.direntries:
        if entry is not None:
            assert entry.createTime == entry.modifyTime == 0
            assert entry.clsid == ""


def test_compound_file_refuses_more_than_the_header_difat():
    with pytest.raises(VbaProjectError, match="too large"):
        _compound_file({"huge": bytes(7_200_000)})


# ---------------------------------------------------------------------------------------
# The VBA project, read by oletools (olevba)
# ---------------------------------------------------------------------------------------


def olevba_modules(path: Path) -> dict[str, str]:
    """olevba's decoded source per module (``VBA_Parser.extract_macros``), keyed by name."""
    parser = VBA_Parser(str(path))
    try:
        return {
            filename.rsplit(".", 1)[0]: code
            for _, stream_path, filename, code in parser.extract_macros()
            if stream_path.startswith("VBA/")
        }
    finally:
        parser.close()


def test_olevba_reads_every_module_source(xlsm, modules):
    """olevba's code minus its leading ``Attribute VB_`` lines, line ends as \\n, equals
    the module's source as the editor shows it (``visible_source``)."""
    found = olevba_modules(xlsm)
    assert set(found) == {m.name for m in modules}
    for module in modules:
        assert visible_source(found[module.name]) == visible_source(module.code), module.name


def test_module_streams_carry_excels_attribute_header(xlsm, modules):
    """Our hidden headers equal those Excel wrote in its own workbook (xlwings'
    quickstart): ThisWorkbook and a worksheet compared line for line, names swapped."""
    ours = olevba_modules(xlsm)
    excel = olevba_modules(EXCEL_REFERENCE)
    assert attribute_header(ours["ThisWorkbook"]) == attribute_header(excel["ThisWorkbook"])
    assert attribute_header(ours["Sheet1"]) == attribute_header(excel["Sheet1"])
    assert attribute_header(ours["Sheet2"]) == attribute_header(excel["Sheet2"])
    assert attribute_header(ours["Funnel"]) == ['Attribute VB_Name = "Funnel"']
    assert attribute_header(ours["xlwings"]) == attribute_header(excel["xlwings"])


def ole_of(vba: bytes) -> olefile.OleFileIO:
    return olefile.OleFileIO(io.BytesIO(vba))


def test_module_streams_use_crlf_line_ends(vba_bytes, modules):
    ole = ole_of(vba_bytes)
    for module in modules:
        text = bytes(decompress_stream(bytearray(ole.openstream(f"VBA/{module.name}").read())))
        assert text.count(b"\n") == text.count(b"\r\n") > 0
        assert text.endswith(b"\r\n")


def test_storage_layout_and_version_independent_header(vba_bytes, modules):
    ole = ole_of(vba_bytes)
    expected = {("PROJECT",), ("PROJECTwm",), ("VBA", "dir"), ("VBA", "_VBA_PROJECT")}
    expected |= {("VBA", m.name) for m in modules}
    assert {tuple(p) for p in ole.listdir()} == expected
    check_storage(ole, 0)
    # Byte for byte what Excel's reference holds: 0x61CC, version 0xFFFF, 0x00, 0x0001.
    reference = ole_of(zipfile.ZipFile(EXCEL_REFERENCE).read("xl/vbaProject.bin"))
    ours = ole.openstream("VBA/_VBA_PROJECT").read()
    assert ours == bytes.fromhex("cc61ffff000100")
    assert ours == reference.openstream("VBA/_VBA_PROJECT").read()


def dir_records(vba: bytes) -> list[tuple[int, bytes]]:
    """The dir stream's (id, payload) records, decompressed by oletools."""
    data = bytes(decompress_stream(bytearray(ole_of(vba).openstream("VBA/dir").read())))
    records, pos = [], 0
    while pos < len(data):
        record_id, size = struct.unpack_from("<HI", data, pos)
        size = 6 if record_id == 0x0009 else size  # PROJECTVERSION's size field is fixed at 4
        records.append((record_id, data[pos + 6 : pos + 6 + size]))
        pos += 6 + size
    return records


def test_dir_stream_records(vba_bytes, modules):
    records = dir_records(vba_bytes)
    ids = [record_id for record_id, _ in records]
    values = dict(records)
    # PROJECTINFORMATION, in the spec's order.
    assert ids[:14] == [
        0x01, 0x02, 0x14, 0x03, 0x04, 0x05, 0x40, 0x06, 0x3D, 0x07, 0x08, 0x09, 0x0C, 0x3C
    ]  # fmt: skip
    assert values[0x01] == struct.pack("<I", 1)  # 32-bit Windows
    assert values[0x02] == values[0x14] == struct.pack("<I", 0x409)
    assert values[0x03] == struct.pack("<H", 1252)
    assert values[0x04] == b"VBAProject"
    # Two registered references: stdole, then Office.
    references = [(ids[i], records[i][1]) for i in range(len(ids)) if ids[i] in (0x16, 0x0D)]
    names = [payload for record_id, payload in references if record_id == 0x16]
    assert names == [b"stdole", b"Office"]
    libids = [payload for record_id, payload in references if record_id == 0x0D]
    assert b"{00020430-0000-0000-C000-000000000046}" in libids[0]
    assert b"{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}" in libids[1]
    # PROJECTMODULES: count, cookie, then per module its records up to the terminator.
    start = ids.index(0x0F)
    assert values[0x0F] == struct.pack("<H", len(modules))
    assert records[start + 1] == (0x13, b"\xff\xff")
    module_ids = [0x19, 0x47, 0x1A, 0x32, 0x1C, 0x48, 0x31, 0x1E, 0x2C]
    pos = start + 2
    for module in modules:
        chunk = records[pos : pos + len(module_ids) + 2]
        assert [record_id for record_id, _ in chunk[:-2]] == module_ids
        by_id = dict(chunk)
        assert by_id[0x19] == by_id[0x1A] == module.name.encode()
        assert by_id[0x47] == by_id[0x32] == module.name.encode("utf-16-le")
        assert by_id[0x31] == bytes(4)  # source at offset 0: no compiled code before it
        assert chunk[-2][0] == (0x21 if module.kind == "standard" else 0x22)
        assert chunk[-1] == (0x2B, b"")
        pos += len(module_ids) + 2
    assert records[pos:] == [(0x10, b"")]


def decrypt(hex_text: str) -> tuple[int, bytes]:
    """[MS-OVBA] 2.4.3.3 Decryption, written from the spec: (project key, data)."""
    data = bytes.fromhex(hex_text)
    seed, version_enc, key_enc = data[:3]
    assert seed ^ version_enc == 2
    project_key = seed ^ key_enc
    state = [project_key, key_enc, version_enc]  # unencrypted_1, encrypted_1, encrypted_2
    plain = []
    for byte_enc in data[3:]:
        byte = byte_enc ^ ((state[2] + state[0]) & 0xFF)
        plain.append(byte)
        state = [byte, byte_enc, state[1]]
    ignored = (seed & 6) // 2
    (length,) = struct.unpack("<I", bytes(plain[ignored : ignored + 4]))
    payload = bytes(plain[ignored + 4 :])
    assert len(payload) == length
    return project_key, payload


def project_properties(vba: bytes) -> list[tuple[str, str]]:
    """The PROJECT stream's lines as (key, value); a line without '=' as (line, "")."""
    text = ole_of(vba).openstream("PROJECT").read().decode("cp1252")
    assert "\n" not in text.replace("\r\n", "")  # CRLF only
    return [tuple(line.split("=", 1)) if "=" in line else (line, "") for line in text.split("\r\n")]


def test_project_stream_means_unlocked_visible_and_matches_excels_shape(vba_bytes, modules):
    """Compared with Excel's PROJECT stream, ignoring the volatile values: the project
    ID, the encrypted CMG/DPB/GC (random per save) and window positions in [Workspace]."""
    ours = project_properties(vba_bytes)
    excel = project_properties(zipfile.ZipFile(EXCEL_REFERENCE).read("xl/vbaProject.bin"))

    assert ours[0][0] == "ID" and re.fullmatch(r'"\{[0-9A-F-]{36}\}"', ours[0][1])
    kinds = {"document": "Document", "standard": "Module", "class": "Class"}
    expected_modules = [
        (kinds[m.kind], m.name + ("/&H00000000" if m.kind == "document" else "")) for m in modules
    ]
    assert ours[1 : 1 + len(modules)] == expected_modules

    def keys_after_modules(properties):
        skip = {"ID", "Document", "Module", "Class"}
        return [key for key, _ in properties if key not in skip][:13]

    assert keys_after_modules(ours) == keys_after_modules(excel)  # Name ... [Workspace]
    for key in ("Name", "HelpContextID", "VersionCompatible32", "&H00000001"):
        assert dict(ours)[key] == dict(excel)[key]

    project_id = ours[0][1].strip('"')
    for key, meaning in (("CMG", bytes(4)), ("DPB", b"\0"), ("GC", b"\xff")):
        key_byte, payload = decrypt(dict(ours)[key].strip('"'))
        assert key_byte == sum(project_id.encode()) & 0xFF
        assert payload == meaning, key  # not locked / no password / visible
        # The decryptor is right: Excel's own values decrypt to the same meanings.
        assert decrypt(dict(excel)[key].strip('"'))[1] == meaning

    workspace = ours[ours.index(("[Workspace]", "")) + 1 :]
    assert [key for key, _ in workspace if key] == [m.name for m in modules]


def test_project_wm_stream_names_every_module_twice(vba_bytes, modules):
    expected = b"".join(
        m.name.encode() + b"\0" + m.name.encode("utf-16-le") + b"\0\0" for m in modules
    )
    assert ole_of(vba_bytes).openstream("PROJECTwm").read() == expected + b"\0\0"


def test_two_builds_give_identical_bytes(modules, vba_bytes):
    assert build_vba_project(list(modules)) == vba_bytes
    assert build_vba_project(modules[:2]) != build_vba_project(modules[:3])


def test_read_vba_project_round_trips(vba_bytes, modules):
    read = read_vba_project(vba_bytes)
    assert [(m.name, m.kind) for m in read] == [(m.name, m.kind) for m in modules]
    for ours, back in zip(modules, read):
        assert back.code == visible_source(ours.code)


def test_read_vba_project_reads_excels_own_file():
    """Excel's streams start with compiled code; the dir stream's offsets skip it."""
    vba = zipfile.ZipFile(EXCEL_REFERENCE).read("xl/vbaProject.bin")
    read = {m.name: m for m in read_vba_project(vba)}
    assert {name: m.kind for name, m in read.items()} == {
        "ThisWorkbook": "document",
        "Sheet1": "document",
        "Sheet2": "document",
        "Module1": "standard",
        "xlwings": "standard",
        "Dictionary": "class",
    }
    assert read["Module1"].code.startswith("Sub SampleCall()\n")
    assert "SampleCall" in macro_names(vba)


# ---------------------------------------------------------------------------------------
# Module headers, code pages, names
# ---------------------------------------------------------------------------------------


def stream_text(vba: bytes, name: str, encoding: str = "cp1252") -> str:
    raw = ole_of(vba).openstream(f"VBA/{name}").read()
    return bytes(decompress_stream(bytearray(raw))).decode(encoding)


def test_class_module_header_follows_an_exported_cls():
    cls = (
        "VERSION 1.0 CLASS\nBEGIN\n  MultiUse = -1  'True\nEND\n"
        'Attribute VB_Name = "Deal"\nAttribute VB_PredeclaredId = True\n'
        "Option Explicit\nPublic Amount As Currency\n"
    )
    vba = build_vba_project([VbaModule("Deal", "class", cls)])
    assert attribute_header(stream_text(vba, "Deal")) == [
        'Attribute VB_Name = "Deal"',
        'Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"',
        "Attribute VB_GlobalNameSpace = False",
        "Attribute VB_Creatable = False",
        "Attribute VB_PredeclaredId = True",  # from the file, as Excel's import keeps it
        "Attribute VB_Exposed = False",
        "Attribute VB_TemplateDerived = False",
        "Attribute VB_Customizable = False",
    ]
    assert read_vba_project(vba)[0].code == "Option Explicit\nPublic Amount As Currency\n"
    assert "Class=Deal\r\n" in ole_of(vba).openstream("PROJECT").read().decode()


def test_document_module_exported_as_cls_keeps_excels_header():
    """An exported Sheet1.cls (VERSION block, its own Attribute lines) imports as code only."""
    exported = (
        "VERSION 1.0 CLASS\r\nBEGIN\r\n  MultiUse = -1  'True\r\nEND\r\n"
        'Attribute VB_Name = "Sheet1"\r\nAttribute VB_GlobalNameSpace = False\r\n'
        + SHEET1.replace("\n", "\r\n")
    )
    from_file = build_vba_project([VbaModule("Sheet1", "document", exported)])
    from_code = build_vba_project([VbaModule("Sheet1", "document", SHEET1)])
    assert stream_text(from_file, "Sheet1") == stream_text(from_code, "Sheet1")
    assert read_vba_project(from_file)[0].code == SHEET1


def test_a_header_naming_another_module_is_refused():
    with pytest.raises(VbaProjectError, match="Funnel.*VB_Name = \"Other\""):
        build_vba_project([VbaModule("Funnel", "standard", 'Attribute VB_Name = "Other"\n')])


def test_character_outside_the_code_page_names_module_and_character():
    module = VbaModule("Greeting", "standard", 'Sub Hello()\n    MsgBox "Привет"\nEnd Sub\n')
    with pytest.raises(ValueError, match=r"module 'Greeting'.*'П' \(U\+041F\) on line 2.*cp1252"):
        build_vba_project([module])
    vba = build_vba_project([module], codepage=1251)
    assert read_vba_project(vba)[0].code == module.code
    assert 'MsgBox "Привет"' in stream_text(vba, "Greeting", "cp1251")


def test_bad_names_kinds_and_code_pages_are_refused():
    with pytest.raises(VbaProjectError, match="VBA identifier"):
        VbaModule("1st", "standard", "")
    with pytest.raises(VbaProjectError, match="at most 31"):
        VbaModule("A" * 32, "standard", "")
    with pytest.raises(VbaProjectError, match="kind must be"):
        VbaModule("Form1", "form", "")
    with pytest.raises(VbaProjectError, match="share a name"):
        build_vba_project([VbaModule("Funnel", "standard", ""), VbaModule("FUNNEL", "class", "")])
    with pytest.raises(VbaProjectError, match="code page 99999"):
        build_vba_project([], codepage=99999)
    with pytest.raises(VbaProjectError, match="project name"):
        build_vba_project([], project_name="My Project")
    with pytest.raises(VbaProjectError, match="named 'dir'"):
        build_vba_project([VbaModule("Dir", "standard", "")])
    with pytest.raises(VbaProjectError, match="not a readable VBA project"):
        read_vba_project(b"not an OLE file" * 100)


# ---------------------------------------------------------------------------------------
# Macros and buttons
# ---------------------------------------------------------------------------------------


def test_macro_names_lists_what_a_button_can_run():
    vba = build_vba_project(
        [
            VbaModule(
                "ThisWorkbook",
                "document",
                "Sub OnOpen()\nEnd Sub\nPrivate Sub Workbook_Open()\nEnd Sub\n",
            ),
            VbaModule(
                "Tools",
                "standard",
                "Public Sub Refresh()\nEnd Sub\n"
                "Static Sub Counter()\nEnd Sub\n"
                "Private Sub Helper()\nEnd Sub\n"
                "Sub NeedsArg(x As Long)\nEnd Sub\n"
                "Sub OptionalOnly(Optional x As Long = 1, _\n    ParamArray rest())\nEnd Sub\n"
                "Function Total() As Double\nEnd Function\n"
                'Private Declare PtrSafe Sub Sleep Lib "kernel32" (ByVal ms As Long)\n'
                "' Sub Commented()\n",
            ),
            VbaModule("Deal", "class", "Public Sub Close()\nEnd Sub\n"),
        ]
    )
    assert macro_names(vba) == {
        "ThisWorkbook.OnOpen",
        "Refresh",
        "Tools.Refresh",
        "Counter",
        "Tools.Counter",
        "OptionalOnly",
        "Tools.OptionalOnly",
    }


def test_every_button_runs_a_macro_of_the_project(xlsm):
    with zipfile.ZipFile(xlsm) as package:
        vml = "".join(
            package.read(name).decode() for name in package.namelist() if name.endswith(".vml")
        )
        vba = package.read("xl/vbaProject.bin")
    buttons = re.findall(r"<x:FmlaMacro>\[0\]!([^<]+)</x:FmlaMacro>", vml)
    assert sorted(buttons) == sorted(macro for macro, _ in BUTTONS.values())
    names = macro_names(vba)
    assert set(buttons) <= names
    assert "ExportForecast" not in names and "ReportIssue" not in names  # arg / Private
    assert "ImportDeals" in names and "ImportPythonUDFs" in names  # Optional arg / xlwings


# ---------------------------------------------------------------------------------------
# LibreOffice
# ---------------------------------------------------------------------------------------


def libreoffice_missing() -> str | None:
    """Why the LibreOffice test cannot run here, or None."""
    if not Path(SOFFICE).exists():
        return f"{SOFFICE} not installed"
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} (the Python with LibreOffice's UNO bridge) not found"
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, env=system_env()
    )
    if probe.returncode:
        return f"{SYSTEM_PYTHON} cannot import uno (install python3-uno)"
    return None


def system_env() -> dict[str, str]:
    """The environment without this interpreter's Python settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}


# LibreOffice's VBA importer puts these lines before the module's own code.
LO_PREFIX = {
    1: ["Rem Attribute VBA_ModuleType=VBAModule", "Option VBASupport 1"],
    2: ["Rem Attribute VBA_ModuleType=VBAClassModule", "Option VBASupport 1", "Option ClassModule"],
    4: ["Rem Attribute VBA_ModuleType=VBADocumentModule", "Option VBASupport 1"],
}
LO_TYPE = {"standard": 1, "class": 2, "document": 4}


@pytest.mark.libreoffice
def test_libreoffice_reads_every_module(xlsm, modules):
    """LibreOffice's code for a module = its importer's prefix lines (``Rem Attribute
    VBA_ModuleType=...``, ``Option VBASupport 1``), then our visible source, then one
    extra line end it adds after the last line. Sheets carry the document modules'
    code names."""
    reason = libreoffice_missing()
    if reason:
        pytest.skip(reason)
    run = subprocess.run(
        [SYSTEM_PYTHON, str(LO_SCRIPT), str(xlsm), "--timeout", "120"],
        capture_output=True,
        text=True,
        timeout=180,
        env=system_env(),
    )
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    assert found["library"] == "VBAProject"
    assert set(found["modules"]) == {m.name for m in modules}
    for module in modules:
        entry = found["modules"][module.name]
        assert entry["type"] == LO_TYPE[module.kind], module.name
        prefix = "".join(line + "\n" for line in LO_PREFIX[entry["type"]])
        assert entry["code"] == prefix + visible_source(module.code) + "\n", module.name
    assert found["code_names"] == {"Pipeline": "Sheet1", "Issues": "Sheet2"}

