"""Inflating one zip entry with every check: its declared size, the end of its stream, its CRC.

A damaged entry (a flipped byte, a file cut short) and a zip bomb both make a stream that
does not match its zip header; they are told apart by how far past its declared size the
stream goes: a damaged one ends or breaks within a few percent, a bomb goes on (and is not
inflated any further than that).
"""

from __future__ import annotations

import zlib
from typing import Iterator

from workbook.errors import UNTRUSTED_FIX, NotAWorkbook, WorkbookDamaged
from workbook.package.zipformat import STORED, ZipMember

__all__ = ["inflate_entry"]

# How far past its declared size a damaged stream may run: a quarter more, at least 64 KiB.
_OVERRUN_GRACE = 64 << 10


def inflate_entry(archive: str, m: ZipMember, raw: bytes, piece: int | None = None) -> Iterator[bytes]:
    """The inflated bytes of entry ``m`` from its compressed bytes ``raw``, in pieces of at most
    ``piece`` bytes (all at once when None); the checks on the whole entry are made when the
    last piece has been taken.

    Args:
        archive: the file's name, for messages.
        m: the entry, as its central directory record describes it.
        raw: its compressed bytes.
        piece: the largest piece to yield.

    Raises:
        WorkbookDamaged: corrupt deflate data, a stream cut short, a length or CRC that does
            not match the header.
        NotAWorkbook: the stream inflates far past its declared size (a zip bomb).
    """
    step = piece or m.file_size + 1
    size, crc = 0, 0
    if m.method == STORED:
        for at in range(0, len(raw), step) if raw else ():
            out = raw[at : at + step] if step < len(raw) else raw
            size, crc = size + len(out), zlib.crc32(out, crc)
            yield out
    else:
        d = zlib.decompressobj(-15)
        while True:
            try:
                out = d.decompress(raw, step)  # zlib lets go of the GIL while it inflates
            except zlib.error:
                raise _damaged(archive, m, "has corrupt compressed data") from None
            raw = d.unconsumed_tail
            size += len(out)
            if size > m.file_size:
                raise _overrun(archive, m, d, raw, size)
            if out:
                crc = zlib.crc32(out, crc)
                yield out
            if d.eof or not out:
                break
        if not d.eof:
            raise _damaged(archive, m, "has compressed data that ends too early")
    if size != m.file_size:
        raise _damaged(archive, m, f"inflates to {size:,} bytes, not the {m.file_size:,} its zip header declares")
    if crc != m.crc:
        raise _damaged(archive, m, "fails its checksum")


def _damaged(archive: str, m: ZipMember, what: str) -> WorkbookDamaged:
    return WorkbookDamaged(f"{archive} is damaged: {m.name} {what} (re-save it from Excel or restore a backup)")


def _overrun(archive: str, m: ZipMember, d: "zlib._Decompress", raw: bytes, size: int) -> NotAWorkbook:
    # Past its declared size: inflate a little further, output discarded. A damaged
    # stream (a flipped byte) ends or breaks within a few percent; a lying zip bomb
    # goes on, and is not inflated any further.
    grace = max(m.file_size // 4, _OVERRUN_GRACE)
    while size <= m.file_size + grace and not d.eof:
        try:
            out = d.decompress(raw, _OVERRUN_GRACE)
        except zlib.error:
            return _damaged(archive, m, "has corrupt compressed data")
        raw, size = d.unconsumed_tail, size + len(out)
        if not out:
            break
    if size <= m.file_size + grace:
        return _damaged(archive, m, f"inflates to {size:,} bytes, not the {m.file_size:,} its zip header declares")
    return NotAWorkbook(
        f"{archive}: {m.name} inflates far past the {m.file_size:,} bytes its zip header declares "
        f"(zip bomb?){UNTRUSTED_FIX}"
    )
