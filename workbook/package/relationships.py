"""Relationships (``_rels/*.rels``) and content types (``[Content_Types].xml``): how parts find each other.

A relationship's type is matched by its last path segment, so transitional and strict
OOXML URIs (``.../officeDocument/2006/relationships/worksheet`` and
``http://purl.oclc.org/ooxml/...``) are read alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from xml.etree import ElementTree as ET

from workbook.package.xmlsafety import tag_name

__all__ = [
    "Relationship",
    "OFFICE_DOCUMENT",
    "TABLE",
    "DRAWING",
    "CHART",
    "CALC_CHAIN",
    "rels_part_of",
    "resolve_target",
    "parse_relationships",
    "without_relationship",
    "without_override",
]

# Relationship types, by the end of their URI (transitional and strict alike).
OFFICE_DOCUMENT = "/officeDocument"
TABLE = "/table"
DRAWING = "/drawing"
CHART = "/chart"
CALC_CHAIN = "/calcChain"


@dataclass(frozen=True)
class Relationship:
    """One relationship of a part: id, type URI, resolved target part (or external URI)."""

    id: str
    type: str
    target: str
    external: bool = False


def resolve_target(source_part: str, target: str) -> str:
    """A relationship target resolved against its source part's folder, as a part name."""
    if target.startswith("/"):
        return target.lstrip("/")
    base = PurePosixPath(source_part).parent
    parts: list[str] = []
    for piece in (base / target).parts:
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in (".", ""):
            parts.append(piece)
    return "/".join(parts)


def rels_part_of(part: str) -> str:
    """The relationships part of ``part`` (``xl/workbook.xml`` -> ``xl/_rels/workbook.xml.rels``)."""
    p = PurePosixPath(part)
    return str(p.parent / "_rels" / (p.name + ".rels")) if str(p.parent) != "." else f"_rels/{p.name}.rels"


def parse_relationships(part: str, root: ET.Element) -> list[Relationship]:
    """The relationships a parsed ``_rels/*.rels`` part of ``part`` declares, internal targets resolved."""
    out: list[Relationship] = []
    for rel in root:
        if tag_name(rel.tag) != "Relationship":
            continue
        external = rel.get("TargetMode") == "External"
        target = rel.get("Target", "")
        out.append(
            Relationship(
                id=rel.get("Id", ""),
                type=rel.get("Type", ""),
                target=target if external else resolve_target(part, target),
                external=external,
            )
        )
    return out


def without_relationship(rels: bytes, rel_id: str) -> bytes:
    """The bytes of a ``.rels`` part with relationship ``rel_id`` removed, the rest untouched."""
    return re.sub(rb'<Relationship\b[^>]*Id="' + re.escape(rel_id.encode()) + rb'"[^>]*/>', b"", rels)


def without_override(content_types: bytes, part: str) -> bytes:
    """The bytes of ``[Content_Types].xml`` with the ``<Override>`` of ``part`` removed, the rest untouched."""
    return re.sub(rb'<Override\b[^>]*PartName="/' + re.escape(part.encode()) + rb'"[^>]*/>', b"", content_types, flags=re.I)
