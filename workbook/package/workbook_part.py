"""The workbook part (``xl/workbook.xml``) and the package it is found in: sheets and tables.

``XlsxPackage`` is the one way into a workbook file. Opening it vets the zip
(``workbook.package.zipreader``), then follows ``_rels/.rels`` to the workbook part and
reads its sheets; tables are read from their parts on first use. It reads; it never
changes a workbook.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from xml.etree import ElementTree as ET

from workbook.errors import NotAWorkbook, TableNotFound
from workbook.package.relationships import (
    CHART,
    DRAWING,
    OFFICE_DOCUMENT,
    TABLE,
    Relationship,
    parse_relationships,
    rels_part_of,
)
from workbook.package.table_part import TableInfo, read_table_part
from workbook.package.xmlsafety import attribute, child, children, parse_xml, tag_name
from workbook.package.zipreader import ZipArchive, part_key

__all__ = ["SheetInfo", "XlsxPackage", "open_package"]


@dataclass(frozen=True)
class SheetInfo:
    """A sheet as workbook.xml lists it."""

    name: str
    part: str  # package path, e.g. "xl/worksheets/sheet2.xml"
    sheet_id: int
    kind: str  # "worksheet", "chartsheet", "dialogsheet", "macrosheet"
    state: str  # "visible", "hidden", "veryHidden"


class XlsxPackage(ZipArchive):
    """An open, validated xlsx/xlsm package: its entries, sheets, tables and parts.

    Opening validates the whole central directory (see ``ZipArchive``) and the workbook
    part; parts are inflated on demand, each checked against its declared size and CRC.

    Use as a context manager, or call ``close()``.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Open and validate ``path``.

        Args:
            path: an .xlsx/.xlsm file.

        Raises:
            NotAWorkbook: not a zip/OOXML workbook, truncated, encrypted, hostile.
            WorkbookTooLarge: a size limit is exceeded.
            WorkbookError: the file cannot be opened (wraps OSError).
        """
        super().__init__(path)
        try:
            self._rels_cache: dict[str, list[Relationship]] = {}
            self._tables: dict[str, TableInfo] | None = None
            self._load_workbook()
        except BaseException:
            self.close()
            raise

    def read_xml(self, part: str) -> ET.Element:
        """Inflate and parse a small XML part (see ``parse_xml``).

        Raises:
            KeyError: no such part.
            NotAWorkbook, WorkbookTooLarge: as ``read_part`` and ``parse_xml``.
        """
        return parse_xml(self.member(part).name, self.read_part(part))

    def relationships(self, part: str) -> list[Relationship]:
        """Relationships of ``part`` (from its ``_rels/*.rels``), targets resolved to part names.

        Returns an empty list when the part has no relationships part.
        """
        key = part_key(part)
        if key in self._rels_cache:
            return self._rels_cache[key]
        rels_name = rels_part_of(part)
        out = parse_relationships(part, self.read_xml(rels_name)) if self.has_part(rels_name) else []
        self._rels_cache[key] = out
        return out

    def related(self, part: str, type_suffix: str) -> list[Relationship]:
        """Internal relationships of ``part`` whose type URI ends with ``type_suffix``."""
        return [r for r in self.relationships(part) if not r.external and r.type.endswith(type_suffix)]

    # -- workbook level
    def _load_workbook(self) -> None:
        if not self.has_part("[Content_Types].xml"):
            raise NotAWorkbook(f"{self.path.name} is a zip file but not an Office document")
        parse_xml("[Content_Types].xml", self.read_part("[Content_Types].xml"))
        docs = self.related("", OFFICE_DOCUMENT)
        if not docs or not self.has_part(docs[0].target):
            raise NotAWorkbook(f"{self.path.name} has no workbook part")
        self.workbook_part = self.member(docs[0].target).name
        root = self.read_xml(self.workbook_part)
        if tag_name(root.tag) != "workbook":
            raise NotAWorkbook(f"{self.path.name} is an Office document but not a workbook")
        self.workbook_root = root
        pr = child(root, "workbookPr")
        self.date1904 = pr is not None and (pr.get("date1904") or "").lower() in ("1", "true")
        rels = {r.id: r for r in self.relationships(self.workbook_part)}
        sheets: list[SheetInfo] = []
        sheets_el = child(root, "sheets")
        for el in children(sheets_el, "sheet") if sheets_el is not None else []:
            rid = attribute(el, "id") or ""
            rel = rels.get(rid)
            if rel is None or rel.external:
                continue
            part = self.member(rel.target).name if self.has_part(rel.target) else rel.target
            sheets.append(
                SheetInfo(
                    name=el.get("name", ""),
                    part=part,
                    sheet_id=int(el.get("sheetId", "0") or 0),
                    kind=rel.type.rpartition("/")[2],
                    state=el.get("state", "visible"),
                )
            )
        self._sheets = sheets

    def sheet_infos(self) -> list[SheetInfo]:
        """Every sheet in workbook order."""
        return list(self._sheets)

    def sheets(self) -> dict[str, str]:
        """Sheet name -> part path, in workbook order (all sheet kinds)."""
        return {s.name: s.part for s in self._sheets}

    def sheet_name_of(self, part: str) -> str | None:
        """The name on the tab of the sheet stored in ``part`` (None: no sheet points to it)."""
        return next((s.name for s in self._sheets if s.part == part), None)

    def sheet(self, name: str) -> SheetInfo:
        """The sheet called ``name`` (case-insensitive, as Excel compares sheet names).

        Raises:
            KeyError: no such sheet.
        """
        for s in self._sheets:
            if s.name.lower() == name.lower():
                return s
        raise KeyError(name)

    def tables(self) -> dict[str, TableInfo]:
        """Every Excel Table on a worksheet, by display name, in sheet order."""
        if self._tables is None:
            tables: dict[str, TableInfo] = {}
            for s in self._sheets:
                if s.kind != "worksheet" or not self.has_part(s.part):
                    continue
                for rel in self.related(s.part, TABLE):
                    if not self.has_part(rel.target):
                        continue
                    table_part = self.member(rel.target).name
                    info = read_table_part(table_part, self.read_xml(table_part), s.name, s.part)
                    tables[info.name] = info
            self._tables = tables
        return dict(self._tables)

    def table(self, name: str) -> TableInfo:
        """The Excel Table called ``name`` (case-insensitive, as Excel compares table names).

        Raises:
            TableNotFound: no such table; the message lists the sheets and tables present.
        """
        tables = self.tables()
        if name in tables:
            return tables[name]
        for key, info in tables.items():
            if key.lower() == name.lower() or info.internal_name.lower() == name.lower():
                return info
        sheets = ", ".join(repr(s.name) for s in self._sheets) or "none"
        present = ", ".join(repr(t) for t in tables) or "none"
        raise TableNotFound(
            f"no Excel Table named {name!r} in {self.path.name}; sheets present: {sheets}; "
            f"tables present: {present}"
        )

    def drawing_charts(self, sheet_part: str) -> list[str]:
        """Chart parts reached from the drawings of worksheet ``sheet_part``."""
        out: list[str] = []
        for d in self.related(sheet_part, DRAWING):
            if not self.has_part(d.target):
                continue
            for c in self.related(d.target, CHART):
                if self.has_part(c.target):
                    out.append(self.member(c.target).name)
        return out


def open_package(path: str | os.PathLike[str]) -> XlsxPackage:
    """Open and validate an xlsx/xlsm package (see ``XlsxPackage``).

    Raises:
        NotAWorkbook, WorkbookTooLarge, WorkbookError: see ``XlsxPackage``.
    """
    return XlsxPackage(path)
