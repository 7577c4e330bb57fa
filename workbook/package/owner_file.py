"""Excel's owner file: ``~$Book.xlsm`` beside a workbook while Excel has it open.

Excel (and Word and PowerPoint, each slightly differently) writes the owner file when it
opens a document for editing and deletes it on close; a crash leaves it behind. Its format
is not documented; as LibreOffice reads and writes it (``svl/source/misc/msodocumentlockfile.cxx``),
the file is 165 bytes for Excel and PowerPoint, 162 for Word:

* byte 0: the length of the user's name (at most 52), then the name in the Windows 8-bit
  code page, padded to byte 55 with spaces (Excel), a zero then spaces (PowerPoint) or
  zeros to byte 54 (Word);
* at byte 55 (Word: 54) the length again as a 2-byte little-endian word, then the name in
  UTF-16-LE, then spaces or garbage to the end.

The parser is tolerant: it takes the UTF-16 copy where one is found (it holds any name,
Chinese included), else the 8-bit copy, else no name; a file it cannot make out still
means the workbook may be open.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["owner_file_of", "read_owner_name", "excel_owner"]

MAX_NAME = 52  # Office refuses longer user names
_UTF16_AT = (55, 54)  # Excel and PowerPoint, then Word
_HEAD = 256  # owner files are 162 or 165 bytes; never read a big file that merely has the name
# The 8-bit copy is in the Windows code page of the machine that wrote it: on Windows, most
# likely this one's ("mbcs"); elsewhere Western European is the best guess.
_ANSI = "mbcs" if os.name == "nt" else "cp1252"


def owner_file_of(workbook: Path) -> Path:
    """Where Excel puts the owner file of ``workbook``: ``~$`` and its name, in its folder."""
    return workbook.with_name("~$" + workbook.name)


def read_owner_name(data: bytes) -> str | None:
    """The user name an owner file's bytes hold, or None when none can be made out.

    Args:
        data: the owner file's first bytes (all of it: it is 162 or 165 bytes long).
    """
    length = data[0] if data else 0
    found = [_utf16_at(data, at, length) for at in _UTF16_AT]
    # The UTF-16 copy whose length agrees with the first byte, then any UTF-16 copy.
    for name in [n for n in found if n and len(n) == length] + [n for n in found if n]:
        return name
    if 1 <= length <= MAX_NAME and len(data) > length:
        name = data[1 : 1 + length].decode(_ANSI, "replace").strip()
        # Letters the code page lacks were written as "?": a name of nothing else is none.
        if name.strip("?") and name.isprintable():
            return name
    return None


def _utf16_at(data: bytes, at: int, length: int) -> str | None:
    # The UTF-16-LE copy of the name whose 2-byte length sits at ``at``, if it reads as text.
    if len(data) < at + 2:
        return None
    n = data[at] | data[at + 1] << 8
    if not 1 <= n <= MAX_NAME or len(data) < at + 2 + 2 * n:
        return None
    try:
        name = data[at + 2 : at + 2 + 2 * n].decode("utf-16-le")
    except UnicodeDecodeError:
        return None
    name = name.strip()
    return name if name and name.isprintable() else None


def excel_owner(workbook: Path) -> tuple[Path, str | None] | None:
    """The owner file of ``workbook`` and the user it names, when there is one.

    Both the folder of ``workbook`` and, for a symbolic link, that of the file it points
    to are looked in: Excel may have opened either.
    """
    places = [workbook]
    real = Path(os.path.realpath(workbook))
    if real != workbook and real.name and owner_file_of(real) != owner_file_of(workbook):
        places.append(real)
    for place in places:
        owner = owner_file_of(place)
        try:
            with open(owner, "rb") as f:
                return owner, read_owner_name(f.read(_HEAD))
        except FileNotFoundError:
            continue
        except OSError:  # there, but unreadable (Excel holds it on Windows): still open
            if owner.exists():
                return owner, None
    return None
