"""The byte format of a zip entry (APPNOTE.TXT 4.3), shared by the reader and the assembler."""

from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = [
    "ZipMember",
    "EOCD", "EOCD_SIG", "Z64_LOCATOR", "Z64_LOCATOR_SIG", "Z64_EOCD", "Z64_EOCD_SIG",
    "CENTRAL", "CENTRAL_SIG", "LOCAL", "LOCAL_SIG",
    "FLAG_ENCRYPTED", "FLAG_DATA_DESCRIPTOR", "FLAG_STRONG_ENCRYPTION", "FLAG_UTF8", "STORED", "DEFLATED",
]

EOCD = struct.Struct("<4s4H2LH")
EOCD_SIG = b"PK\x05\x06"
Z64_LOCATOR = struct.Struct("<4sLQL")
Z64_LOCATOR_SIG = b"PK\x06\x07"
Z64_EOCD = struct.Struct("<4sQ2H2L4Q")
Z64_EOCD_SIG = b"PK\x06\x06"
CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
CENTRAL_SIG = b"PK\x01\x02"
LOCAL = struct.Struct("<4s2B4HL2L2H")
LOCAL_SIG = b"PK\x03\x04"
FLAG_ENCRYPTED = 0x0001
FLAG_DATA_DESCRIPTOR = 0x0008
FLAG_STRONG_ENCRYPTION = 0x0040
FLAG_UTF8 = 0x0800
STORED = 0
DEFLATED = 8


@dataclass(frozen=True)
class ZipMember:
    """One zip entry, as its central directory record describes it."""

    name: str
    flags: int
    method: int
    crc: int
    compressed_size: int
    file_size: int
    header_offset: int
    data_offset: int  # first byte of the compressed data
    entry_end: int  # end of this entry's local bytes (next entry or central directory)
    central_record: bytes  # raw central directory record, copied when the entry is
    offset_field: int | None  # where in central_record the 8-byte zip64 offset sits, if any
    dos_time: int
    dos_date: int
