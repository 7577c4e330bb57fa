"""A workbook file as a zip of parts, vetted before anything is inflated.

Refusals (see ``workbook.errors``), all decided from sizes and bytes:

* not a zip, truncated, overlapping or duplicated entries  -> ``NotAWorkbook``
* an entry name that is absolute, holds a ``..`` segment or a backslash -> ``NotAWorkbook``
* an entry failing its CRC, or whose deflate stream is corrupt -> ``WorkbookDamaged`` (``zipinflate``)
* an OLE compound file (encrypted "EncryptedPackage", or legacy .xls) -> ``NotAWorkbook``
* encrypted zip entries, compression other than stored/deflate -> ``NotAWorkbook``
* more than ``MAX_MEMBERS`` entries, more than ``MAX_TOTAL_UNCOMPRESSED_BYTES`` in all,
  an entry inflating more than ``MAX_COMPRESSION_RATIO`` times, an entry inflating past
  its declared size -> ``WorkbookTooLarge`` / ``NotAWorkbook``
"""

from __future__ import annotations

import os
import re
import struct
import threading
from pathlib import Path
from typing import BinaryIO, Iterator, Self

from workbook.errors import NOT_A_ZIP_FIX, UNTRUSTED_FIX, NotAWorkbook, WorkbookError, WorkbookTooLarge
from workbook.package.limits import (
    MAX_CENTRAL_DIRECTORY_BYTES,
    MAX_COMPRESSION_RATIO,
    MAX_MEMBERS,
    MAX_TOTAL_UNCOMPRESSED_BYTES,
    MAX_XML_PART_BYTES,
    RATIO_CHECK_MIN_BYTES,
)
from workbook.package.zipformat import (
    CENTRAL,
    CENTRAL_SIG,
    DEFLATED,
    EOCD,
    EOCD_SIG,
    FLAG_ENCRYPTED,
    FLAG_STRONG_ENCRYPTION,
    FLAG_UTF8,
    LOCAL,
    LOCAL_SIG,
    STORED,
    Z64_EOCD,
    Z64_EOCD_SIG,
    Z64_LOCATOR,
    Z64_LOCATOR_SIG,
    ZipMember,
)
from workbook.package.zipinflate import inflate_entry

__all__ = ["ZipArchive", "part_key"]

_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_DRIVE_RE = re.compile(r"[A-Za-z]:")


def part_key(name: str) -> str:
    """The key a part name is looked up by: OPC part names compare case-insensitively,
    and zips sometimes use backslashes."""
    return name.replace("\\", "/").lstrip("/").lower()


def _unsafe_entry_name(name: str) -> str | None:
    # Why a zip entry's name could point outside the package, or None for a plain part name.
    if name.startswith(("/", "\\")) or _DRIVE_RE.match(name):
        return "is an absolute path"
    if "\\" in name:
        return "uses backslashes, which part names never do"
    if ".." in name.split("/"):
        return "climbs out of the package with '..'"
    return None


class ZipArchive:
    """An open zip whose central directory has been vetted entry by entry.

    Parts are inflated on demand, each checked against its declared size and CRC. All
    reads go through the one file handle opened here, so every part comes from the same
    file even if the path is replaced meanwhile.

    Use as a context manager, or call ``close()``.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Open ``path`` and vet its zip directory.

        Args:
            path: an .xlsx/.xlsm file.

        Raises:
            NotAWorkbook: not a zip, truncated, encrypted, hostile.
            WorkbookTooLarge: a size limit is exceeded.
            WorkbookError: the file cannot be opened (wraps OSError).
        """
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self._f: BinaryIO = open(self.path, "rb")
        except OSError as exc:
            raise WorkbookError(f"cannot open {self.path}: {exc.strerror or exc}") from exc
        try:
            self.file_size = os.fstat(self._f.fileno()).st_size
            self._refuse_ole()
            (self._members, self.cd_offset, self.archive_comment) = self._read_directory()
            self._by_name = {part_key(m.name): m for m in self._members}
        except BaseException:
            self._f.close()
            raise

    # -- context management
    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying file."""
        self._f.close()

    # -- zip level
    def _refuse_ole(self) -> None:
        head = self._f.read(8)
        if head != _OLE_MAGIC:
            return
        # An encrypted OOXML file is an OLE compound file holding "EncryptedPackage".
        marker = "EncryptedPackage".encode("utf-16-le")
        self._f.seek(0)
        seen = b""
        remaining = min(self.file_size, 64 << 20)
        while remaining > 0:
            chunk = self._f.read(min(1 << 20, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            if marker in seen[-64:] + chunk:
                raise NotAWorkbook(
                    f"{self.path.name} is password-protected (encrypted); remove the password in Excel"
                )
            seen = chunk
        raise NotAWorkbook(f"{self.path.name} is an OLE compound file (legacy .xls?), not an xlsx/xlsm")

    def _read_at(self, offset: int, size: int) -> bytes:
        with self._lock:  # one handle, shared by the reader's threads
            self._f.seek(offset)
            data = self._f.read(size)
        if len(data) != size:
            raise NotAWorkbook(f"{self.path.name} is truncated (wanted {size} bytes at {offset})")
        return data

    def _read_directory(self) -> tuple[list[ZipMember], int, bytes]:
        size = self.file_size
        name = self.path.name
        if size < EOCD.size:
            raise NotAWorkbook(f"{name} is not a zip file (too short){NOT_A_ZIP_FIX}")
        tail_len = min(size, EOCD.size + 0xFFFF)
        tail = self._read_at(size - tail_len, tail_len)
        pos = tail.rfind(EOCD_SIG)
        while pos >= 0:
            if pos + EOCD.size <= len(tail):
                fields = EOCD.unpack_from(tail, pos)
                if pos + EOCD.size + fields[7] == len(tail):
                    break
            pos = tail.rfind(EOCD_SIG, 0, pos)
        if pos < 0:
            raise NotAWorkbook(f"{name} is not a zip file, or is truncated (no end of central directory){NOT_A_ZIP_FIX}")
        eocd_at = size - tail_len + pos
        _, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, clen = EOCD.unpack_from(tail, pos)
        comment = tail[pos + EOCD.size : pos + EOCD.size + clen]
        directory_end = eocd_at
        if n_total == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
            if eocd_at < Z64_LOCATOR.size:
                raise NotAWorkbook(f"{name}: broken zip64 directory")
            sig, _, z64_at, _ = Z64_LOCATOR.unpack(self._read_at(eocd_at - Z64_LOCATOR.size, Z64_LOCATOR.size))
            if sig != Z64_LOCATOR_SIG or z64_at + Z64_EOCD.size > eocd_at:
                raise NotAWorkbook(f"{name}: broken zip64 directory")
            rec = Z64_EOCD.unpack(self._read_at(z64_at, Z64_EOCD.size))
            if rec[0] != Z64_EOCD_SIG:
                raise NotAWorkbook(f"{name}: broken zip64 directory")
            disk, cd_disk, n_disk, n_total, cd_size, cd_offset = rec[4], rec[5], rec[6], rec[7], rec[8], rec[9]
            directory_end = z64_at
        if disk != 0 or cd_disk != 0 or n_disk != n_total:
            raise NotAWorkbook(f"{name}: multi-volume zip archives are not supported")
        if n_total > MAX_MEMBERS:
            raise WorkbookTooLarge(f"{name}: {n_total:,} zip entries (limit {MAX_MEMBERS:,})")
        if cd_size > MAX_CENTRAL_DIRECTORY_BYTES or cd_offset + cd_size != directory_end:
            raise NotAWorkbook(f"{name}: inconsistent zip central directory")
        cd = self._read_at(cd_offset, cd_size)
        members: list[dict] = []
        at = 0
        total = 0
        seen: set[str] = set()
        for _ in range(n_total):
            if at + CENTRAL.size > len(cd) or cd[at : at + 4] != CENTRAL_SIG:
                raise NotAWorkbook(f"{name}: corrupt zip central directory")
            f = CENTRAL.unpack_from(cd, at)
            flags, method, dos_time, dos_date, crc = f[5], f[6], f[7], f[8], f[9]
            csize, usize, n, m, k, disk_start, header_offset = f[10], f[11], f[12], f[13], f[14], f[15], f[18]
            end = at + CENTRAL.size + n + m + k
            if end > len(cd):
                raise NotAWorkbook(f"{name}: corrupt zip central directory")
            raw_name = cd[at + CENTRAL.size : at + CENTRAL.size + n]
            extra = cd[at + CENTRAL.size + n : at + CENTRAL.size + n + m]
            offset_field = None
            if 0xFFFFFFFF in (csize, usize, header_offset):
                usize, csize, header_offset, offset_field = self._zip64_extra(
                    extra, usize, csize, header_offset, at_extra=CENTRAL.size + n
                )
            member_name = raw_name.decode("utf-8" if flags & FLAG_UTF8 else "cp437", "replace")
            # Refused, not dropped: dropping would silently lose a part a relationship may
            # name, and a copied entry would carry the name on to whatever unzips the saved
            # file (a "zip slip"); no tool that writes workbooks makes such names.
            why = _unsafe_entry_name(member_name)
            if why:
                raise NotAWorkbook(
                    f"{name} is refused: its zip entry {member_name!r} {why} "
                    "(a workbook never has one; re-save it from Excel or restore a backup)"
                )
            key = part_key(member_name)
            if key in seen:
                raise NotAWorkbook(f"{name}: duplicate zip entry {member_name!r}")
            seen.add(key)
            if flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION):
                raise NotAWorkbook(f"{name}: zip entry {member_name!r} is encrypted")
            if method not in (STORED, DEFLATED):
                raise NotAWorkbook(f"{name}: zip entry {member_name!r} uses unsupported compression {method}")
            if method == STORED and csize != usize:
                raise NotAWorkbook(f"{name}: stored entry {member_name!r} has inconsistent sizes")
            if disk_start not in (0, 0xFFFF):
                raise NotAWorkbook(f"{name}: multi-volume zip archives are not supported")
            total += usize
            if total > MAX_TOTAL_UNCOMPRESSED_BYTES:
                raise WorkbookTooLarge(
                    f"{name}: inflates to more than {MAX_TOTAL_UNCOMPRESSED_BYTES:,} bytes (zip bomb?){UNTRUSTED_FIX}"
                )
            if usize > RATIO_CHECK_MIN_BYTES and usize > MAX_COMPRESSION_RATIO * max(csize, 1):
                raise WorkbookTooLarge(
                    f"{name}: entry {member_name!r} inflates {usize / max(csize, 1):,.0f}x "
                    f"(limit {MAX_COMPRESSION_RATIO}x; zip bomb?){UNTRUSTED_FIX}"
                )
            members.append(
                dict(
                    name=member_name,
                    raw_name=raw_name,
                    flags=flags,
                    method=method,
                    crc=crc,
                    compressed_size=csize,
                    file_size=usize,
                    header_offset=header_offset,
                    central_record=cd[at:end],
                    offset_field=offset_field,
                    dos_time=dos_time,
                    dos_date=dos_date,
                )
            )
            at = end
        # Local headers: must name the same entry, and entries must not overlap.
        for mem in members:
            if mem["header_offset"] + LOCAL.size > cd_offset:
                raise NotAWorkbook(f"{name}: zip entry {mem['name']!r} points outside the archive")
            h = LOCAL.unpack(self._read_at(mem["header_offset"], LOCAL.size))
            if h[0] != LOCAL_SIG:
                raise NotAWorkbook(f"{name}: corrupt local header for {mem['name']!r}")
            n, m = h[10], h[11]
            local_name = self._read_at(mem["header_offset"] + LOCAL.size, n)
            if local_name != mem["raw_name"]:
                raise NotAWorkbook(f"{name}: local and central names differ for {mem['name']!r}")
            mem["data_offset"] = mem["header_offset"] + LOCAL.size + n + m
        ordered = sorted(members, key=lambda d: d["header_offset"])
        for i, mem in enumerate(ordered):
            nxt = ordered[i + 1]["header_offset"] if i + 1 < len(ordered) else cd_offset
            if mem["data_offset"] + mem["compressed_size"] > nxt:
                raise NotAWorkbook(f"{name}: zip entries overlap or run past the directory (zip bomb?){UNTRUSTED_FIX}")
            mem["entry_end"] = nxt
        out = []
        for mem in members:
            mem.pop("raw_name")
            out.append(ZipMember(**mem))
        return out, cd_offset, comment

    def _zip64_extra(
        self, extra: bytes, usize: int, csize: int, offset: int, at_extra: int
    ) -> tuple[int, int, int, int | None]:
        # Read the zip64 extended-information field (id 0x0001) of a central record.
        i = 0
        while i + 4 <= len(extra):
            tag, size = struct.unpack_from("<HH", extra, i)
            if tag == 0x0001:
                j = i + 4
                offset_field = None
                if usize == 0xFFFFFFFF:
                    (usize,) = struct.unpack_from("<Q", extra, j)
                    j += 8
                if csize == 0xFFFFFFFF:
                    (csize,) = struct.unpack_from("<Q", extra, j)
                    j += 8
                if offset == 0xFFFFFFFF:
                    (offset,) = struct.unpack_from("<Q", extra, j)
                    offset_field = at_extra + j
                    j += 8
                if j > i + 4 + size:
                    break
                return usize, csize, offset, offset_field
            i += 4 + size
        raise NotAWorkbook(f"{self.path.name}: broken zip64 extra field")

    @property
    def members(self) -> list[ZipMember]:
        """All zip entries, in central directory order."""
        return list(self._members)

    def member(self, part: str) -> ZipMember:
        """The zip entry of ``part`` (case-insensitive).

        Raises:
            KeyError: no such part.
        """
        return self._by_name[part_key(part)]

    def has_part(self, part: str) -> bool:
        """Whether the package holds ``part``."""
        return part_key(part) in self._by_name

    def read_raw(self, member: ZipMember) -> bytes:
        """The compressed bytes of ``member``, exactly as stored."""
        return self._read_at(member.data_offset, member.compressed_size)

    def read_entry_bytes(self, member: ZipMember) -> bytes:
        """Everything the archive stores for ``member`` before the next entry: local header,
        compressed data and data descriptor, byte for byte."""
        return self._read_at(member.header_offset, member.entry_end - member.header_offset)

    def read_part(self, part: str, *, limit: int = MAX_XML_PART_BYTES) -> bytes:
        """Inflate one part, checking its declared size, the deflate stream's end and the CRC.

        Args:
            part: package path, e.g. ``"xl/workbook.xml"`` (case-insensitive).
            limit: refuse parts declaring more bytes than this.

        Returns:
            The part's bytes.

        Raises:
            KeyError: no such part.
            WorkbookTooLarge: the part declares more than ``limit`` bytes.
            WorkbookDamaged: corrupt, cut short, or failing its CRC.
            NotAWorkbook: inflating far past its declared size (a zip bomb).
        """
        return b"".join(self.inflate_part(part, limit=limit))  # one piece: joined without a copy

    def check_part(self, part: str, *, limit: int = MAX_XML_PART_BYTES) -> None:
        """Inflate ``part`` only to make ``read_part``'s checks, keeping at most 4 MiB at a time.

        Raises:
            KeyError, WorkbookTooLarge, WorkbookDamaged, NotAWorkbook: as ``read_part``.
        """
        for _ in self.inflate_part(part, limit=limit, piece=4 << 20):
            pass

    def inflate_part(self, part: str, *, limit: int = MAX_XML_PART_BYTES, piece: int | None = None) -> Iterator[bytes]:
        """``read_part`` in pieces of at most ``piece`` bytes (the whole part at once when
        None), so a caller can work on the start of a big part while the rest inflates.
        Every check ``read_part`` makes is made; those on the whole part (its length,
        the deflate stream's end, the CRC) when the last piece has been taken.
        """
        m = self.member(part)
        if m.file_size > limit:
            raise WorkbookTooLarge(f"{m.name}: {m.file_size:,} bytes (limit {limit:,})")
        yield from inflate_entry(self.path.name, m, self.read_raw(m), piece)
