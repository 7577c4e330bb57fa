"""The size limits a workbook file must keep to be read at all, and Excel's grid.

Every refusal for size (``WorkbookTooLarge``) is decided against these, from sizes and
bytes, before anything big is inflated or parsed.
"""

from __future__ import annotations

__all__ = [
    "MAX_MEMBERS",
    "MAX_TOTAL_UNCOMPRESSED_BYTES",
    "MAX_COMPRESSION_RATIO",
    "RATIO_CHECK_MIN_BYTES",
    "MAX_XML_PART_BYTES",
    "MAX_SHEET_PART_BYTES",
    "MAX_SHEET_CELLS",
    "MAX_CENTRAL_DIRECTORY_BYTES",
    "EXCEL_MAX_ROWS",
    "EXCEL_MAX_COLS",
]

MAX_MEMBERS = 10_000  # zip entries in one package
MAX_TOTAL_UNCOMPRESSED_BYTES = 1 << 30  # 1 GiB inflated, all entries together
MAX_COMPRESSION_RATIO = 200  # inflated/compressed, for entries above RATIO_CHECK_MIN_BYTES
RATIO_CHECK_MIN_BYTES = 1 << 20  # small entries may compress as well as they like
MAX_XML_PART_BYTES = 64 << 20  # any part parsed as an XML tree (workbook, rels, tables, charts)
MAX_SHEET_PART_BYTES = 512 << 20  # one worksheet part, inflated
MAX_SHEET_CELLS = 20_000_000  # rows x columns spanned by a sheet's cells (calamine allocates it)
MAX_CENTRAL_DIRECTORY_BYTES = 16 << 20

EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLS = 16_384
