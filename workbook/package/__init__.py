"""A workbook file, part by part: read safely, refreshed in place, saved atomically.

One module per part of the package, as XlsxWriter has one per part it writes:

reading and vetting
    ``limits``         the size limits a file must keep, and Excel's grid
    ``zipformat``      the byte format of a zip entry (shared by reader and assembler)
    ``zipreader``      the zip: central directory vetted entry by entry (bombs, overlaps,
                       encryption, entry names pointing outside the package)
    ``zipinflate``     one entry inflated with its size, stream end and CRC checked
                       (damaged or a bomb)
    ``xmlsafety``      parsing parts as XML without DTDs or entities, UTF-8 only
    ``relationships``  ``_rels/*.rels`` and ``[Content_Types].xml``: how parts find each other
    ``workbook_part``  ``xl/workbook.xml`` and the package opened through it (``XlsxPackage``):
                       sheets, date system, tables, charts of a sheet
    ``table_part``     an Excel Table's part: ``TableInfo``, and moving its ref
    ``sheetguard``     how many cells a worksheet part can make a reader allocate
    ``cellrefs``       A1 references and ``_xHHHH_`` escapes

writing a refresh
    ``writer``         ``write_tables``: plans every changed part, assembles the new file
    ``plan``           what a refresh changes, per table and per part
    ``worksheet``      a worksheet's ``<sheetData>`` under the output tables, ``<dimension>``
    ``cells``          what each value becomes in a ``<c>`` element
    ``charts``         series ranges and caches of charts on rewritten sheets
    ``calculation``    ``calcChain.xml`` and ``<calcPr fullCalcOnLoad>``
    ``zipwriter``      the new zip: untouched entries copied raw, changed ones deflated
    ``save``           the atomic save: temporary file, fsync, verify, replace; through
                       symbolic links, keeping hard links, permissions and owner
    ``lock``           ``~$<name>.funnel-lock``: one refresh of a workbook at a time
    ``owner_file``     Excel's ``~$<name>``: the workbook is open in Excel, and by whom

Refusals are the exceptions of ``workbook.errors``; the names below are the surface the
rest of the product uses.
"""

from __future__ import annotations

from workbook.package.cellrefs import (
    column_index,
    column_letters,
    decode_ooxml_escapes,
    format_range,
    parse_range,
    split_ref,
)
from workbook.package.limits import (
    EXCEL_MAX_COLS,
    EXCEL_MAX_ROWS,
    MAX_COMPRESSION_RATIO,
    MAX_MEMBERS,
    MAX_SHEET_CELLS,
    MAX_SHEET_PART_BYTES,
    MAX_TOTAL_UNCOMPRESSED_BYTES,
    MAX_XML_PART_BYTES,
    RATIO_CHECK_MIN_BYTES,
)
from workbook.package.lock import WorkbookLock, lock_path
from workbook.package.owner_file import excel_owner, owner_file_of, read_owner_name
from workbook.package.relationships import Relationship, rels_part_of
from workbook.package.save import recover_interrupted_save
from workbook.package.sheetguard import CellSpan, check_sheet_cells
from workbook.package.table_part import TableInfo
from workbook.package.workbook_part import SheetInfo, XlsxPackage, open_package
from workbook.package.writer import write_tables
from workbook.package.xmlsafety import check_xml_prolog, parse_xml
from workbook.package.zipformat import ZipMember
from workbook.package.zipwriter import PackageAssembler

__all__ = [
    "MAX_MEMBERS",
    "MAX_TOTAL_UNCOMPRESSED_BYTES",
    "MAX_COMPRESSION_RATIO",
    "RATIO_CHECK_MIN_BYTES",
    "MAX_XML_PART_BYTES",
    "MAX_SHEET_PART_BYTES",
    "MAX_SHEET_CELLS",
    "EXCEL_MAX_ROWS",
    "EXCEL_MAX_COLS",
    "ZipMember",
    "Relationship",
    "SheetInfo",
    "TableInfo",
    "CellSpan",
    "XlsxPackage",
    "PackageAssembler",
    "open_package",
    "parse_xml",
    "check_sheet_cells",
    "check_xml_prolog",
    "rels_part_of",
    "column_index",
    "column_letters",
    "split_ref",
    "parse_range",
    "format_range",
    "decode_ooxml_escapes",
    "write_tables",
    "lock_path",
    "WorkbookLock",
    "excel_owner",
    "owner_file_of",
    "read_owner_name",
    "recover_interrupted_save",
]
