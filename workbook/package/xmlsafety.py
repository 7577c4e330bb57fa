"""Parsing package parts as XML without trusting them.

OPC forbids DTDs, so any ``<!DOCTYPE``/``<!ENTITY`` (the billion-laughs bomb) refuses the
file; Excel writes only UTF-8, and the writer patches bytes as UTF-8, so any other
encoding refuses it too. Small parts are parsed into trees here (``parse_xml``); big ones
that calamine reads are checked only up to their root element (``check_xml_prolog``).
"""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

from workbook.errors import UNTRUSTED_FIX, NotAWorkbook

__all__ = ["parse_xml", "check_xml_prolog", "check_utf8", "prolog_end", "tag_name", "attribute", "children", "child"]

_DTD_RE = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_XML_DECL_ENCODING_RE = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def check_utf8(part: str, head: bytes) -> None:
    """Refuse a part whose first bytes say it is not UTF-8 (we parse and patch bytes as UTF-8;
    Excel never writes anything else)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) > 1 and head[1:2] == b"\x00"):
        raise NotAWorkbook(f"{part}: UTF-16 XML is not supported (Excel writes UTF-8)")
    body = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    m = _XML_DECL_ENCODING_RE.match(body)
    if m and m.group(1).lower() not in (b"utf-8", b"utf8"):
        raise NotAWorkbook(f"{part}: XML encoding {m.group(1).decode()} is not supported")


def parse_xml(part: str, data: bytes) -> ET.Element:
    """Parse a small package part into an element tree, refusing any DTD or entity declaration.

    Args:
        part: the part's package path, for messages.
        data: the part's bytes.

    Returns:
        The root element.

    Raises:
        NotAWorkbook: DTD/entity declarations, non-UTF-8 encoding, or malformed XML.
    """
    check_utf8(part, data[:256])
    if _DTD_RE.search(data):
        raise NotAWorkbook(f"{part}: XML DTD/entity declarations are not allowed in a workbook (Excel never writes them){UNTRUSTED_FIX}")
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise NotAWorkbook(f"{part}: malformed XML ({exc})") from None


def tag_name(tag: str) -> str:
    """An element's or attribute's local name: ``"{ns}name"`` -> ``"name"``."""
    return tag.rpartition("}")[2]


def attribute(el: ET.Element, local_name: str, default: str | None = None) -> str | None:
    """Attribute by local name, whatever its namespace (transitional or strict ``r:id``)."""
    if local_name in el.attrib:
        return el.attrib[local_name]
    for key, value in el.attrib.items():
        if key.startswith("{") and tag_name(key) == local_name:
            return value
    return default


def children(el: ET.Element, local_name: str) -> list[ET.Element]:
    """The child elements of ``el`` with this local name."""
    return [c for c in el if tag_name(c.tag) == local_name]


def child(el: ET.Element, local_name: str) -> ET.Element | None:
    """The first child element of ``el`` with this local name, or None."""
    for c in el:
        if tag_name(c.tag) == local_name:
            return c
    return None


# ---- the prolog of a part another parser reads ---------------------------------------------------
_ROOT_RE = re.compile(rb"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)[\s/>]")


def prolog_end(part: str, data: bytes) -> tuple[int, bytes]:
    """Index of the root element's ``<`` and its namespace prefix; DTDs may only live before it.

    Raises:
        NotAWorkbook: a DTD/entity declaration before the root, or no root in the first 64 KiB.
    """
    pos = 0
    n = len(data)
    while True:
        lt = data.find(b"<", pos)
        if lt < 0 or lt > (1 << 16):
            raise NotAWorkbook(f"{part}: no root element in the first 64 KiB")
        nxt = data[lt + 1 : lt + 2]
        if nxt == b"?":
            end = data.find(b"?>", lt)
            pos = n if end < 0 else end + 2
        elif nxt == b"!":
            if data.startswith(b"<!--", lt):
                end = data.find(b"-->", lt)
                pos = n if end < 0 else end + 3
            else:
                raise NotAWorkbook(f"{part}: XML DTD/entity declarations are not allowed in a workbook (Excel never writes them){UNTRUSTED_FIX}")
        else:
            m = _ROOT_RE.match(data, lt)
            return lt, (m.group(1) or b"") if m else b""


def check_xml_prolog(part: str, data: bytes) -> None:
    """Refuse a part whose prolog declares a DTD or entities, or that is not UTF-8.

    Cheap for any size: DTDs may only appear before the root element. Use this for parts
    another parser (calamine) reads; ``parse_xml`` checks the whole text of small parts.

    Raises:
        NotAWorkbook: DTD/entity declarations, non-UTF-8 encoding, no root element.
    """
    check_utf8(part, data[:256])
    prolog_end(part, data)
