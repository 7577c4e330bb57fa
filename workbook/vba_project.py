"""The workbook's VBA project: VBA source text compiled into ``xl/vbaProject.bin``.

Owns the binary VBA part of an .xlsm, written from source text alone:

* [MS-OVBA] 2.4.1 compression and decompression (``compress`` / ``decompress``);
* the project streams: ``PROJECT`` and ``PROJECTwm`` at the root, and in the ``VBA``
  storage the ``dir`` stream, the ``_VBA_PROJECT`` stream and one stream per module;
* the [MS-CFB] compound file holding them (version 3, 512-byte sectors);
* reading such a project back (``read_vba_project``) far enough to list its modules
  and the macros a button can call (``macro_names``).

The project is written version-independent: ``_VBA_PROJECT`` carries no compiled code and
no performance cache, so Excel compiles every module from its source the first time it
opens the workbook. The output is deterministic: the same modules give the same bytes.

Errors: ``VbaProjectError`` (a ``ValueError``) for anything wrong with the modules given,
or with a project read back.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import struct
import uuid
from dataclasses import dataclass
from typing import Sequence

import olefile

__all__ = [
    "MODULE_KINDS",
    "VbaModule",
    "VbaProjectError",
    "build_vba_project",
    "read_vba_project",
    "macro_names",
    "compress",
    "decompress",
]

MODULE_KINDS = ("standard", "document", "class")  # .bas, ThisWorkbook/worksheet, .cls


class VbaProjectError(ValueError):
    """A VBA module or project that cannot be written or read back."""


@dataclass(frozen=True)
class VbaModule:
    """One VBA module as the user sees it in the VBA editor.

    Attributes:
        name: The module's name (its ``VB_Name``): a VBA identifier of at most 31
            characters. For a document module, a code name: ``ThisWorkbook`` is the
            workbook's module, any other name a worksheet's (``Sheet1``).
        kind: ``"standard"`` (a .bas module), ``"document"`` (``ThisWorkbook`` or a
            worksheet) or ``"class"`` (a .cls module).
        code: The source text, any line ends. It may start with the header of an
            exported file: ``Attribute VB_...`` lines, after a ``VERSION 1.0 CLASS`` /
            ``BEGIN`` ... ``END`` block in a .cls. As Excel's Import File does, the header
            is not kept as code: ``VB_Name`` must name this module, other attributes
            (say ``VB_PredeclaredId = True``) replace the defaults for the kind.
    """

    name: str
    kind: str
    code: str

    def __post_init__(self) -> None:
        if self.kind not in MODULE_KINDS:
            raise VbaProjectError(
                f"module {self.name!r}: kind must be one of {', '.join(MODULE_KINDS)}, "
                f"not {self.kind!r}"
            )
        if not _IDENTIFIER.fullmatch(self.name) or len(self.name) > 31:
            raise VbaProjectError(
                f"module name {self.name!r} is not a VBA identifier of at most 31 characters"
            )


# ---------------------------------------------------------------------------------------
# [MS-OVBA] 2.4.1 compression
# ---------------------------------------------------------------------------------------

_CHUNK_SIZE = 4096  # decompressed bytes per chunk
_CHUNK_HEADER_COMPRESSED = 0xB000  # flag bit 1, signature 0b011
_CHUNK_HEADER_RAW = 0x3000 | (4098 - 3)  # flag bit 0, signature 0b011, size 4098


def compress(data: bytes) -> bytes:
    """Compress bytes into an [MS-OVBA] 2.4.1 CompressedContainer.

    Follows the spec's compression algorithm (2.4.1.3.6): 4096-byte chunks, each encoded
    as literal and copy tokens using the longest earlier match in the chunk (the nearest
    one on a tie), or stored raw when encoding would not fit in 4096 bytes. One
    departure: when the *last*, shorter chunk does not fit, the spec stores it raw padded
    with zeros to 4096 bytes, which would add NULs to the decompressed text; it is instead
    split over two compressed chunks, which the spec's decompression algorithm (2.4.1.3.2)
    reads back exactly. Only incompressible data (not VBA source) ever needs this.

    Args:
        data: The bytes to compress (a module's source in its code page, or a ``dir``
            stream).

    Returns:
        The compressed container: the signature byte 0x01 followed by the chunks.
    """
    out = bytearray(b"\x01")
    start = 0
    while start < len(data):
        end = min(start + _CHUNK_SIZE, len(data))
        body, consumed = _compress_chunk(data, start, end)
        if consumed == end - start or end - start < _CHUNK_SIZE:
            out += struct.pack("<H", _CHUNK_HEADER_COMPRESSED | (len(body) + 2 - 3))
            out += body
        else:
            out += struct.pack("<H", _CHUNK_HEADER_RAW)
            out += data[start:end]
            consumed = end - start
        start += consumed
    return bytes(out)


def decompress(container: bytes) -> bytes:
    """Decompress an [MS-OVBA] 2.4.1 CompressedContainer.

    Args:
        container: The compressed bytes, starting with the signature byte 0x01.

    Returns:
        The decompressed bytes.

    Raises:
        VbaProjectError: The container is malformed (bad signature, bad chunk header,
            a copy token pointing before the start of its chunk).
    """
    if not container or container[0] != 0x01:
        raise VbaProjectError("not an MS-OVBA compressed container (signature byte is not 0x01)")
    out = bytearray()
    pos = 1
    while pos < len(container):
        if pos + 2 > len(container):
            raise VbaProjectError(f"truncated chunk header at byte {pos}")
        (header,) = struct.unpack_from("<H", container, pos)
        if header & 0x7000 != 0x3000:
            raise VbaProjectError(f"bad chunk signature at byte {pos}")
        chunk_end = min(pos + (header & 0x0FFF) + 3, len(container))
        pos += 2
        if not header & 0x8000:
            out += container[pos : pos + _CHUNK_SIZE]
            pos += _CHUNK_SIZE
            continue
        chunk_start = len(out)
        while pos < chunk_end:
            flags = container[pos]
            pos += 1
            for bit in range(8):
                if pos >= chunk_end:
                    break
                if not flags >> bit & 1:
                    out.append(container[pos])
                    pos += 1
                    continue
                if pos + 2 > chunk_end:
                    raise VbaProjectError(f"truncated copy token at byte {pos}")
                (token,) = struct.unpack_from("<H", container, pos)
                pos += 2
                bit_count = _copy_token_bit_count(len(out) - chunk_start)
                offset = (token >> (16 - bit_count)) + 1
                length = (token & (0xFFFF >> bit_count)) + 3
                source = len(out) - offset
                if source < chunk_start:
                    raise VbaProjectError(f"copy token before its chunk at byte {pos - 2}")
                for i in range(length):  # byte by byte: a copy may overlap its own output
                    out.append(out[source + i])
    return bytes(out)


# The spec's CopyToken Help (2.4.1.3.19.1): offset bits grow with the chunk position.
def _copy_token_bit_count(difference: int) -> int:
    return max((difference - 1).bit_length(), 4)


# Encode data[start:end] as token sequences; stop early if they would pass 4096 bytes.
def _compress_chunk(data: bytes, start: int, end: int) -> tuple[bytes, int]:
    body = bytearray()
    seen: dict[bytes, list[int]] = {}  # 3-byte prefix -> earlier positions in the chunk
    pos = start
    while pos < end:
        flag_at = len(body)
        body.append(0)
        for bit in range(8):
            if pos >= end:
                break
            bit_count = _copy_token_bit_count(pos - start)
            length, source = _longest_match(data, pos, end, (0xFFFF >> bit_count) + 3, seen)
            size = 2 if length else 1
            if len(body) + size > _CHUNK_SIZE:
                if bit == 0:
                    del body[flag_at]  # a token sequence must hold at least one token
                return bytes(body), pos - start
            if length:
                token = ((pos - source - 1) << (16 - bit_count)) | (length - 3)
                body += struct.pack("<H", token)
                body[flag_at] |= 1 << bit
            else:
                length = 1
                body.append(data[pos])
            for p in range(pos, min(pos + length, end - 2)):
                seen.setdefault(data[p : p + 3], []).append(p)
            pos += length
    return bytes(body), pos - start


# The spec's Matching (2.4.1.3.19.4): longest earlier match of >= 3 bytes, nearest wins ties.
def _longest_match(
    data: bytes, pos: int, end: int, max_length: int, seen: dict[bytes, list[int]]
) -> tuple[int, int]:
    limit = min(max_length, end - pos)
    best_length, best_source = 0, 0
    if limit < 3:
        return 0, 0
    for source in reversed(seen.get(data[pos : pos + 3], ())):
        # A candidate can only win if it also matches the byte that ends the best so far.
        if best_length and data[source + best_length] != data[pos + best_length]:
            continue
        length = 3
        while length < limit and data[source + length] == data[pos + length]:
            length += 1
        if length > best_length:
            best_length, best_source = length, source
            if length == limit:
                break
    return best_length, best_source


# ---------------------------------------------------------------------------------------
# [MS-CFB] compound file writer
# ---------------------------------------------------------------------------------------

_SECTOR = 512
_MINI_SECTOR = 64
_MINI_STREAM_CUTOFF = 4096
_IDS_PER_SECTOR = _SECTOR // 4
_HEADER_DIFAT_SLOTS = 109
_FREESECT = 0xFFFFFFFF
_ENDOFCHAIN = 0xFFFFFFFE
_FATSECT = 0xFFFFFFFD
_NOSTREAM = 0xFFFFFFFF
_STORAGE, _STREAM, _ROOT = 1, 2, 5
_RED, _BLACK = 0, 1


@dataclass
class _DirEntry:
    name: str
    kind: int
    data: bytes = b""
    left: int = _NOSTREAM
    right: int = _NOSTREAM
    child: int = _NOSTREAM
    color: int = _BLACK
    start: int = _ENDOFCHAIN
    size: int = 0


# A storage: name -> bytes (a stream) or another storage (a dict); the root is one.
_Storage = dict


# Lay out a storage tree as a CFB v3 file: [FAT][directory][mini FAT][mini stream][streams].
def _compound_file(root: _Storage) -> bytes:
    entries = [_DirEntry("Root Entry", _ROOT)]
    _add_children(entries, 0, root)

    mini_stream = bytearray()
    mini_fat: list[int] = []
    big: list[_DirEntry] = []
    for entry in entries:
        if entry.kind != _STREAM or not entry.data:
            continue
        entry.size = len(entry.data)
        if entry.size >= _MINI_STREAM_CUTOFF:
            big.append(entry)
            continue
        entry.start = len(mini_fat)
        count = -(-entry.size // _MINI_SECTOR)
        mini_fat += list(range(entry.start + 1, entry.start + count)) + [_ENDOFCHAIN]
        mini_stream += entry.data.ljust(count * _MINI_SECTOR, b"\0")

    directory_sectors = -(-len(entries) // 4)
    mini_fat_sectors = -(-len(mini_fat) // _IDS_PER_SECTOR)
    mini_stream_sectors = -(-len(mini_stream) // _SECTOR)
    big_sectors = [-(-entry.size // _SECTOR) for entry in big]
    others = directory_sectors + mini_fat_sectors + mini_stream_sectors + sum(big_sectors)
    fat_sectors = 1
    while fat_sectors * _IDS_PER_SECTOR < fat_sectors + others:
        fat_sectors += 1
    if fat_sectors > _HEADER_DIFAT_SLOTS:
        raise VbaProjectError("VBA project too large (over 6.8 MB) for a header-only DIFAT")

    fat: list[int] = [_FATSECT] * fat_sectors

    def chain(count: int) -> int:  # append a chain of `count` sectors, return its first
        first = len(fat)
        fat.extend(list(range(first + 1, first + count)) + [_ENDOFCHAIN])
        return first

    first_directory = chain(directory_sectors)
    first_mini_fat = chain(mini_fat_sectors) if mini_fat_sectors else _ENDOFCHAIN
    if mini_stream:
        entries[0].start, entries[0].size = chain(mini_stream_sectors), len(mini_stream)
    for entry, count in zip(big, big_sectors):
        entry.start = chain(count)
    fat += [_FREESECT] * (fat_sectors * _IDS_PER_SECTOR - len(fat))

    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        bytes(16),  # CLSID
        0x003E,  # minor version
        0x0003,  # major version 3: 512-byte sectors
        0xFFFE,  # little-endian
        9,  # sector shift: 2**9 = 512
        6,  # mini sector shift: 2**6 = 64
        bytes(6),
        0,  # number of directory sectors: always 0 in version 3
        fat_sectors,
        first_directory,
        0,  # transaction signature
        _MINI_STREAM_CUTOFF,
        first_mini_fat,
        mini_fat_sectors,
        _ENDOFCHAIN,  # first DIFAT sector: none, all FAT sectors are listed in the header
        0,
    )
    difat = list(range(fat_sectors)) + [_FREESECT] * (_HEADER_DIFAT_SLOTS - fat_sectors)
    parts = [header, struct.pack(f"<{_HEADER_DIFAT_SLOTS}I", *difat)]
    parts.append(struct.pack(f"<{len(fat)}I", *fat))
    unused = [None] * (directory_sectors * 4 - len(entries))
    parts += [_pack_entry(entry) for entry in entries + unused]
    mini_fat += [_FREESECT] * (mini_fat_sectors * _IDS_PER_SECTOR - len(mini_fat))
    parts.append(struct.pack(f"<{len(mini_fat)}I", *mini_fat))
    parts.append(bytes(mini_stream).ljust(mini_stream_sectors * _SECTOR, b"\0"))
    for entry, count in zip(big, big_sectors):
        parts.append(entry.data.ljust(count * _SECTOR, b"\0"))
    return b"".join(parts)


# Append a storage's children and hang them off their parent as a red-black tree.
def _add_children(entries: list[_DirEntry], parent: int, storage: _Storage) -> None:
    ids = []
    for name, value in storage.items():
        if len(name) > 31:
            raise VbaProjectError(f"compound-file name {name!r} is longer than 31 characters")
        is_storage = isinstance(value, dict)
        kind, data = (_STORAGE, b"") if is_storage else (_STREAM, value)
        entries.append(_DirEntry(name, kind, data))
        ids.append(len(entries) - 1)
    ids.sort(key=lambda i: _cfb_order(entries[i].name))
    for first, second in zip(ids, ids[1:]):
        if _cfb_order(entries[first].name) == _cfb_order(entries[second].name):
            raise VbaProjectError(f"compound-file names clash: {entries[second].name!r}")
    entries[parent].child = _balanced_tree(entries, ids, depth=0, red_depth=_red_depth(len(ids)))
    for i in ids:
        if entries[i].kind == _STORAGE:
            _add_children(entries, i, storage[entries[i].name])


# [MS-CFB] 2.6.4: siblings are ordered by name length first, then by upper-cased name.
def _cfb_order(name: str) -> tuple[int, str]:
    return len(name), name.upper()


# Nodes on an incomplete last level are red, the rest black: every path has equal black height.
def _red_depth(count: int) -> int:
    depth = count.bit_length() - 1  # depth of the deepest level of a size-balanced tree
    return depth if count != (1 << (depth + 1)) - 1 else -1


# Build a size-balanced binary search tree over sorted ids; return the id of its root.
def _balanced_tree(entries: list[_DirEntry], ids: list[int], depth: int, red_depth: int) -> int:
    if not ids:
        return _NOSTREAM
    middle = (len(ids) - 1) // 2
    node = entries[ids[middle]]
    node.color = _RED if depth == red_depth else _BLACK
    node.left = _balanced_tree(entries, ids[:middle], depth + 1, red_depth)
    node.right = _balanced_tree(entries, ids[middle + 1 :], depth + 1, red_depth)
    return ids[middle]


# One 128-byte directory entry; None packs an unused one. Times stay zero: deterministic.
def _pack_entry(entry: _DirEntry | None) -> bytes:
    if entry is None:
        entry = _DirEntry("", 0, color=_RED, start=0)
    name = (entry.name + "\0").encode("utf-16-le") if entry.name else b""
    start = entry.start if entry.kind != _STORAGE else 0
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        name,
        len(name),
        entry.kind,
        entry.color,
        entry.left,
        entry.right,
        entry.child,
        bytes(16),  # CLSID
        0,  # state bits
        0,  # creation time
        0,  # modified time
        start,
        entry.size,
    )


# ---------------------------------------------------------------------------------------
# The VBA project streams
# ---------------------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"[^\W\d_]\w*")
_ATTRIBUTE_LINE = re.compile(r"Attribute\s+(VB_\w+)\s*=\s*(.*?)\s*")
_VERSION_BLOCK = re.compile(  # opens an exported .cls file (class or document module)
    r"VERSION\s+[\d.]+\s+CLASS\s*\nBEGIN\s*\n.*?\nEND\s*\n", re.IGNORECASE | re.DOTALL
)

_WORKBOOK_BASE = '"0{00020819-0000-0000-C000-000000000046}"'
_WORKSHEET_BASE = '"0{00020820-0000-0000-C000-000000000046}"'
_CLASS_BASE = '"0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"'

# The hidden attributes Excel writes for each kind of module, after VB_Name, in its order.
_DOCUMENT_ATTRIBUTES = {
    "VB_GlobalNameSpace": "False",
    "VB_Creatable": "False",
    "VB_PredeclaredId": "True",
    "VB_Exposed": "True",
    "VB_TemplateDerived": "False",
    "VB_Customizable": "True",
}
_CLASS_ATTRIBUTES = {
    "VB_Base": _CLASS_BASE,
    "VB_GlobalNameSpace": "False",
    "VB_Creatable": "False",
    "VB_PredeclaredId": "False",
    "VB_Exposed": "False",
    "VB_TemplateDerived": "False",
    "VB_Customizable": "False",
}

_STDOLE_LIBID = (
    r"*\G{00020430-0000-0000-C000-000000000046}#2.0#0"
    r"#C:\Windows\System32\stdole2.tlb#OLE Automation"
)
_OFFICE_LIBID = (
    r"*\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0"
    r"#C:\Program Files\Common Files\Microsoft Shared\OFFICE16\MSO.DLL"
    r"#Microsoft Office 16.0 Object Library"
)
_VBE_HOST_EXTENDER = "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000"


def build_vba_project(
    modules: Sequence[VbaModule], project_name: str = "VBAProject", codepage: int = 1252
) -> bytes:
    """Compile VBA modules from source into the bytes of a ``vbaProject.bin``.

    The result is an OLE compound file laid out per [MS-OVBA] 2.2: ``PROJECT`` and
    ``PROJECTwm`` streams, and a ``VBA`` storage with the ``dir`` stream, a
    version-independent ``_VBA_PROJECT`` stream and one compressed stream per module.
    The project references OLE Automation (stdole) and the Office object library, is not
    locked or password-protected, and is identical for identical input.

    Args:
        modules: The modules, in the order the VBA editor should list them. Document
            modules must be named after the workbook's and worksheets' code names
            (``ThisWorkbook``, ``Sheet1``, ...) for Excel to attach them.
        project_name: The VBA project's name, a VBA identifier.
        codepage: The Windows code page the source is stored in (1252: Western).

    Returns:
        The ``vbaProject.bin`` bytes, ready for
        ``xlsxwriter.Workbook.add_vba_project(io.BytesIO(data), is_stream=True)``.

    Raises:
        VbaProjectError: (a ``ValueError``) two modules share a name (or one is named
            ``dir``), the project name is not a VBA identifier, the code page is unknown,
            a module's text holds a character the code page cannot store, or a module's
            header names a different module.
    """
    encoding = _codec_name(codepage)
    if not _IDENTIFIER.fullmatch(project_name) or len(project_name) > 128:
        raise VbaProjectError(f"project name {project_name!r} is not a VBA identifier")
    seen: dict[str, str] = {}
    for module in modules:
        if module.name.lower() in seen:
            raise VbaProjectError(
                f"modules {seen[module.name.lower()]!r} and {module.name!r} share a name"
            )
        seen[module.name.lower()] = module.name
        if module.name.lower() == "dir":
            raise VbaProjectError("a module cannot be named 'dir': the VBA storage's dir stream")
        _encode(module.name, encoding, f"module name {module.name!r}")
        _encode(module.code, encoding, f"module {module.name!r}")  # lines as the user numbers them

    vba: _Storage = {
        "dir": compress(_dir_stream(modules, project_name, codepage, encoding)),
        # Version 0xFFFF and no performance cache: Excel recompiles from source on open.
        "_VBA_PROJECT": struct.pack("<HHBH", 0x61CC, 0xFFFF, 0x00, 0x0001),
    }
    for module in modules:
        text = _module_stream_text(module)
        vba[module.name] = compress(_encode(text, encoding, f"module {module.name!r}"))
    root: _Storage = {
        "VBA": vba,
        "PROJECT": _project_stream(modules, project_name, encoding),
        "PROJECTwm": _project_wm_stream(modules, encoding),
    }
    return _compound_file(root)


# Python's codec for a Windows code page, checked once up front.
def _codec_name(codepage: int) -> str:
    try:
        return codecs.lookup(f"cp{codepage}").name
    except LookupError:
        raise VbaProjectError(f"unknown Windows code page {codepage}") from None


# Encode text, naming the offending character and its line when the code page lacks it.
def _encode(text: str, encoding: str, what: str) -> bytes:
    try:
        return text.encode(encoding)
    except UnicodeEncodeError as error:
        char = text[error.start]
        line = text.count("\n", 0, error.start) + 1
        raise VbaProjectError(
            f"{what}: character {char!r} (U+{ord(char):04X}) on line {line} is not in "
            f"code page {encoding}"
        ) from None


# Split off an exported file's header (class VERSION block, leading Attribute lines).
def _split_header(module: VbaModule) -> tuple[dict[str, str], str]:
    text = module.code.replace("\r\n", "\n").replace("\r", "\n")
    if module.kind != "standard" and (block := _VERSION_BLOCK.match(text)):
        text = text[block.end() :]
    attributes: dict[str, str] = {}
    lines = text.split("\n")
    while lines and (match := _ATTRIBUTE_LINE.fullmatch(lines[0])):
        attributes[match.group(1)] = match.group(2)
        lines.pop(0)
    body = "\n".join(lines)
    named = attributes.pop("VB_Name", None)
    if named is not None and named.strip('"') != module.name:
        raise VbaProjectError(
            f"module {module.name!r}: its code starts with Attribute VB_Name = {named}"
        )
    return attributes, body


# The module stream's text: Excel's hidden Attribute header, then the source, CRLF lines.
def _module_stream_text(module: VbaModule) -> str:
    given, body = _split_header(module)
    header = {"VB_Name": f'"{module.name}"'}
    if module.kind == "document":
        header["VB_Base"] = _WORKBOOK_BASE if module.name == "ThisWorkbook" else _WORKSHEET_BASE
        header.update(_DOCUMENT_ATTRIBUTES)
    elif module.kind == "class":
        header.update(_CLASS_ATTRIBUTES)
    header.update(given)
    lines = [f"Attribute {key} = {value}" for key, value in header.items()]
    if body:
        lines += body.removesuffix("\n").split("\n")
    return "".join(line + "\r\n" for line in lines)


# A dir-stream record: 2-byte id, 4-byte size, payload.
def _record(record_id: int, payload: bytes) -> bytes:
    return struct.pack("<HI", record_id, len(payload)) + payload


# A record holding a string twice: in the code page, then (under `unicode_id`) in UTF-16.
def _text_record(record_id: int, unicode_id: int, text: str, encoding: str) -> bytes:
    return _record(record_id, text.encode(encoding)) + _record(unicode_id, text.encode("utf-16-le"))


# The uncompressed dir stream ([MS-OVBA] 2.3.4.2): project information, references, modules.
def _dir_stream(
    modules: Sequence[VbaModule], project_name: str, codepage: int, encoding: str
) -> bytes:
    out = bytearray()
    out += _record(0x0001, struct.pack("<I", 0x00000001))  # SysKind: 32-bit Windows
    out += _record(0x0002, struct.pack("<I", 0x0409))  # Lcid: en-US, as VBA requires
    out += _record(0x0014, struct.pack("<I", 0x0409))  # LcidInvoke
    out += _record(0x0003, struct.pack("<H", codepage))
    out += _record(0x0004, project_name.encode(encoding))
    out += _text_record(0x0005, 0x0040, "", encoding)  # DocString
    out += _record(0x0006, b"") + _record(0x003D, b"")  # HelpFile1, HelpFile2
    out += _record(0x0007, struct.pack("<I", 0))  # HelpContext
    out += _record(0x0008, struct.pack("<I", 0))  # LibFlags
    out += struct.pack("<HIIH", 0x0009, 4, 1, 0)  # Version 1.0 (its size field is fixed at 4)
    out += _text_record(0x000C, 0x003C, "", encoding)  # Constants
    for name, libid in (("stdole", _STDOLE_LIBID), ("Office", _OFFICE_LIBID)):
        out += _text_record(0x0016, 0x003E, name, encoding)
        libid_bytes = libid.encode(encoding)
        out += _record(0x000D, struct.pack("<I", len(libid_bytes)) + libid_bytes + bytes(6))
    out += _record(0x000F, struct.pack("<H", len(modules)))
    out += _record(0x0013, struct.pack("<H", 0xFFFF))  # ProjectCookie
    for module in modules:
        out += _record(0x0019, module.name.encode(encoding))
        out += _record(0x0047, module.name.encode("utf-16-le"))
        out += _text_record(0x001A, 0x0032, module.name, encoding)  # stream name
        out += _text_record(0x001C, 0x0048, "", encoding)  # DocString
        out += _record(0x0031, struct.pack("<I", 0))  # source starts at offset 0
        out += _record(0x001E, struct.pack("<I", 0))  # HelpContext
        out += _record(0x002C, struct.pack("<H", 0xFFFF))  # Cookie
        out += _record(0x0021 if module.kind == "standard" else 0x0022, b"")
        out += _record(0x002B, b"")  # module terminator
    out += _record(0x0010, b"")  # dir terminator
    return bytes(out)


# The PROJECT stream ([MS-OVBA] 2.3.1): the project's properties as INI-like text.
def _project_stream(modules: Sequence[VbaModule], project_name: str, encoding: str) -> bytes:
    project_id = _project_id(project_name, modules)
    lines = [f'ID="{project_id}"']
    for module in modules:
        if module.kind == "document":
            lines.append(f"Document={module.name}/&H00000000")
        elif module.kind == "class":
            lines.append(f"Class={module.name}")
        else:
            lines.append(f"Module={module.name}")
    lines += [
        f'Name="{project_name}"',
        'HelpContextID="0"',
        'VersionCompatible32="393222000"',
        # Protection state 0 (not locked), no password, visible: [MS-OVBA] 2.3.1.15-17.
        'CMG="%s"' % _encrypt(bytes(4), project_id, "CMG"),
        'DPB="%s"' % _encrypt(bytes(1), project_id, "DPB"),
        'GC="%s"' % _encrypt(bytes([0xFF]), project_id, "GC"),
        "",
        "[Host Extender Info]",
        _VBE_HOST_EXTENDER,
        "",
        "[Workspace]",
    ]
    lines += [f"{module.name}=0, 0, 0, 0, C" for module in modules]
    return "".join(line + "\r\n" for line in lines).encode(encoding)


# A stable project GUID derived from the content, so equal input gives equal bytes.
def _project_id(project_name: str, modules: Sequence[VbaModule]) -> str:
    key = "\n".join([project_name] + [f"{m.kind}:{m.name}" for m in modules])
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "funnel-vba:" + key)).upper() + "}"


# [MS-OVBA] 2.4.3.2 data encryption, with a seed fixed per field instead of random.
def _encrypt(data: bytes, project_id: str, field: str) -> str:
    seed = hashlib.sha256(f"{project_id}:{field}".encode()).digest()[0]
    project_key = sum(project_id.encode("ascii")) & 0xFF
    version_enc = seed ^ 2
    key_enc = seed ^ project_key
    out = [seed, version_enc, key_enc]
    unencrypted_1, encrypted_1, encrypted_2 = project_key, key_enc, version_enc
    ignored = bytes((seed & 6) // 2)
    for byte in ignored + struct.pack("<I", len(data)) + data:
        byte_enc = byte ^ ((encrypted_2 + unencrypted_1) & 0xFF)
        out.append(byte_enc)
        encrypted_2, encrypted_1, unencrypted_1 = encrypted_1, byte_enc, byte
    return bytes(out).hex().upper()


# The PROJECTwm stream ([MS-OVBA] 2.3.3): each module name in the code page and in UTF-16.
def _project_wm_stream(modules: Sequence[VbaModule], encoding: str) -> bytes:
    out = bytearray()
    for module in modules:
        out += module.name.encode(encoding) + b"\0" + module.name.encode("utf-16-le") + b"\0\0"
    return bytes(out + b"\0\0")


# ---------------------------------------------------------------------------------------
# Reading a project back
# ---------------------------------------------------------------------------------------

_PROCEDURE = re.compile(
    r"^[ \t]*(?:(Public|Private|Friend)[ \t]+)?(?:Static[ \t]+)?(Sub|Function)[ \t]+"
    r"([^\W\d]\w*)[ \t]*(?:\((.*?)\))?",
    re.IGNORECASE | re.MULTILINE,
)


def read_vba_project(vba_bytes: bytes) -> list[VbaModule]:
    """Read the modules of a ``vbaProject.bin``, as the VBA editor would show them.

    Works on projects written by ``build_vba_project`` and by Excel (whose module
    streams start with compiled code before the compressed source).

    Args:
        vba_bytes: The ``vbaProject.bin`` bytes.

    Returns:
        The modules in the ``dir`` stream's order. Each ``code`` is the source without
        the hidden ``Attribute`` header lines, with ``\\n`` line ends.

    Raises:
        VbaProjectError: The bytes are not an OLE file holding a VBA project.
    """
    try:
        with olefile.OleFileIO(io.BytesIO(vba_bytes)) as ole:
            if not ole.exists("VBA/dir") or not ole.exists("PROJECT"):
                raise VbaProjectError("no VBA project: missing VBA/dir or PROJECT stream")
            codepage, found = _read_dir(decompress(ole.openstream("VBA/dir").read()))
            encoding = _codec_name(codepage)
            kinds = _module_kinds(ole.openstream("PROJECT").read().decode(encoding, "replace"))
            modules = []
            for name, stream, offset, procedural in found:
                source = decompress(ole.openstream(f"VBA/{stream}").read()[offset:])
                lines = source.decode(encoding, "replace").replace("\r\n", "\n").split("\n")
                while lines and _ATTRIBUTE_LINE.fullmatch(lines[0]):
                    lines.pop(0)
                kind = "standard" if procedural else kinds.get(name.lower(), "class")
                modules.append(VbaModule(name, kind, "\n".join(lines)))
            return modules
    except OSError as error:  # olefile: not a compound file, or a stream missing
        raise VbaProjectError(f"not a readable VBA project: {error}") from None


def macro_names(vba_bytes: bytes) -> set[str]:
    """Name every macro a button in the workbook can run (its ``OnAction``).

    A macro is a Sub that is not ``Private`` and takes no required argument (every
    parameter ``Optional`` or ``ParamArray``). Those in standard modules are named both
    bare (``RefreshAll``) and qualified (``Module1.RefreshAll``); those in document
    modules only qualified (``Sheet1.OnClick``). Functions (worksheet functions),
    procedures of class modules and ``Declare`` statements are not macros.

    Args:
        vba_bytes: The ``vbaProject.bin`` bytes.

    Returns:
        The macro names, as a button's macro setting would spell them.

    Raises:
        VbaProjectError: The bytes are not a VBA project.
    """
    names: set[str] = set()
    for module in read_vba_project(vba_bytes):
        if module.kind == "class":
            continue
        code = re.sub(r"[ \t]_[ \t]*\n", " ", module.code)  # join continued lines
        for match in _PROCEDURE.finditer(code):
            scope, procedure, name, parameters = match.groups()
            if (scope or "").lower() == "private" or procedure.lower() != "sub":
                continue
            if any(_is_required(p) for p in (parameters or "").split(",") if p.strip()):
                continue
            names.add(f"{module.name}.{name}")
            if module.kind == "standard":
                names.add(name)
    return names


# A parameter a caller must pass: neither Optional nor ParamArray.
def _is_required(parameter: str) -> bool:
    first = parameter.split()[0].lower()
    return first not in ("optional", "paramarray")


# Walk the dir stream's records: the code page, and per module (name, stream, offset, procedural).
def _read_dir(data: bytes) -> tuple[int, list[tuple[str, str, int, bool]]]:
    codepage = 1252
    modules: list[tuple[str, str, int, bool]] = []
    current: dict = {}
    pos = 0
    while pos + 6 <= len(data):
        record_id, size = struct.unpack_from("<HI", data, pos)
        pos += 6
        if record_id == 0x0009:  # PROJECTVERSION: its size field does not count its payload
            size = 6
        payload = data[pos : pos + size]
        pos += size
        if record_id == 0x0003:
            (codepage,) = struct.unpack("<H", payload)
        elif record_id == 0x0019:
            current = {"name": payload, "stream": payload, "offset": 0, "procedural": True}
        elif record_id == 0x001A:
            current["stream"] = payload
        elif record_id == 0x0031:
            (current["offset"],) = struct.unpack("<I", payload)
        elif record_id == 0x0022:
            current["procedural"] = False
        elif record_id == 0x002B:
            encoding = _codec_name(codepage)
            modules.append(
                (
                    current["name"].decode(encoding),
                    current["stream"].decode(encoding),
                    current["offset"],
                    current["procedural"],
                )
            )
        elif record_id == 0x0010:
            break
    return codepage, modules


_PROJECT_MODULE_KEYS = {
    "document": "document",
    "class": "class",
    "baseclass": "class",  # a UserForm: a class module with a designer
    "module": "standard",
}


# Document / class / standard per module name, from the PROJECT stream's module lines.
def _module_kinds(project_text: str) -> dict[str, str]:
    kinds = {}
    for line in project_text.splitlines():
        if line.startswith("["):  # the module lines come before [Host Extender Info]
            break
        key, _, value = line.partition("=")
        if key.strip().lower() in _PROJECT_MODULE_KEYS:
            name = value.split("/")[0].strip().lower()
            kinds[name] = _PROJECT_MODULE_KEYS[key.strip().lower()]
    return kinds
