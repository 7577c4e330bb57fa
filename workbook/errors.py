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
    └── WorkbookBusy       another refresh holds the workbook's lock file
"""

from __future__ import annotations

__all__ = [
    "WorkbookError",
    "NotAWorkbook",
    "WorkbookTooLarge",
    "TableNotFound",
    "UnsafeToUpdate",
    "WorkbookBusy",
    "WorkbookDamaged",
]


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
