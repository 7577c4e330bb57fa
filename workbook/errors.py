"""Why a workbook file was refused: the one exception tree of the headless reader and writer.

Every refusal is raised before anything is written, and says what was found and where.
Low-level I/O and zip errors are wrapped at the edge, so callers catch only these::

    WorkbookError
    ├── NotAWorkbook       not a zip, truncated, encrypted, legacy .xls, DTD/entity declarations,
    │   │                  zip entry names that point outside the package
    │   └── WorkbookDamaged  a part fails its checksum or its compressed data is corrupt
    ├── WorkbookTooLarge   zip bomb, oversized part, sheet whose cells span too many positions
    ├── TableNotFound      no Excel Table of that name (also a LookupError)
    ├── UnsafeToUpdate     rewriting would lose or corrupt something (headers differ, user data
    │                      in the way, totals row, calculated column, unsupported encoding...)
    ├── WorkbookBusy       another refresh holds the workbook's lock file
    │   └── OpenInExcel    Excel's owner file (``~$Book.xlsm``) says the workbook is open
    └── SaveFailed         the disk is full, or writing is not permitted; nothing was changed
"""

from __future__ import annotations

import errno
from pathlib import Path

__all__ = [
    "WorkbookError",
    "NotAWorkbook",
    "WorkbookTooLarge",
    "TableNotFound",
    "UnsafeToUpdate",
    "WorkbookBusy",
    "WorkbookDamaged",
    "OpenInExcel",
    "SaveFailed",
    "UNTRUSTED_FIX",
    "NOT_A_ZIP_FIX",
    "TRIM_FIX",
]

# What a refusal tells the user to do, for the refusals that share one.
UNTRUSTED_FIX = "; refused: use a copy of the workbook you trust"
NOT_A_ZIP_FIX = ("; if it is a workbook, open it in Excel and save it as .xlsm (File > Save As), "
                 "or copy it again if this copy was cut short")
# A sheet whose used range is vast: a format or a stray value in a far cell.
TRIM_FIX = ("; in Excel, delete the rows and columns after the data on that sheet (Ctrl+End shows "
            "the last cell Excel keeps) and save")


class WorkbookError(Exception):
    """A workbook file could not be read or refreshed safely."""


class NotAWorkbook(WorkbookError):
    """The file is not an xlsx/xlsm package we can trust (not a zip, truncated, encrypted, hostile XML)."""


class WorkbookTooLarge(WorkbookError):
    """The package or one of its sheets exceeds a size limit (zip bomb, huge part, huge cell span)."""


class TableNotFound(WorkbookError, LookupError):
    """The workbook has no Excel Table of that name."""


class UnsafeToUpdate(WorkbookError):
    """Writing the new rows would lose or corrupt something the refresh does not own."""


class WorkbookBusy(WorkbookError):
    """Another refresh is writing this workbook (its lock file is held by a live process)."""


class WorkbookDamaged(NotAWorkbook):
    """A part of the file is damaged: it fails its CRC, or its compressed data is corrupt."""


class OpenInExcel(WorkbookBusy):
    """Excel has the workbook open (its owner file ``~$<name>`` lies beside it)."""


class SaveFailed(WorkbookError):
    """The new file could not be written (disk full, permission, read-only); the original is unchanged."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # "disk full", "permission", "read-only", "no folder" or "i/o"

    @classmethod
    def from_os_error(cls, workbook: Path, exc: OSError) -> "SaveFailed":
        """The one-line refusal for an ``OSError`` met while saving ``workbook``, saying which it was."""
        reason, what, fix = cls.describe(workbook, exc)
        return cls(f"could not save {workbook.name}: {what} (nothing was changed; {fix} and try again)", reason)

    @staticmethod
    def describe(workbook: Path, exc: OSError) -> tuple[str, str, str]:
        """(reason, what happened, what to do) for an ``OSError`` met while saving ``workbook``."""
        folder = workbook.parent.resolve()
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            return "disk full", "the disk is full", "free some space"
        if exc.errno in (errno.EACCES, errno.EPERM):
            return ("permission", f"permission denied in {folder}",
                    "make the folder and the workbook writable, or close the program that holds the file,")
        if exc.errno == errno.ENOENT and not folder.is_dir():
            return "no folder", f"the folder {folder} does not exist", "create it, or choose a path in a folder that exists,"
        if exc.errno == errno.EROFS:
            return ("read-only", f"{folder} is on a read-only file system",
                    "copy the workbook to a writable folder (or save elsewhere with --out)")
        return "i/o", exc.strerror or str(exc), "check the disk"
