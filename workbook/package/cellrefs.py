"""A1 cell references and OOXML's ``_xHHHH_`` escapes, as every part writes them."""

from __future__ import annotations

import re

__all__ = ["column_index", "column_letters", "split_ref", "parse_range", "format_range", "decode_ooxml_escapes"]

_REF_RE = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]{1,7})$")


def column_index(letters: str) -> int:
    """1-based column number of column letters (``"A"`` -> 1, ``"AD"`` -> 30)."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


def column_letters(index: int) -> str:
    """Column letters of a 1-based column number (30 -> ``"AD"``)."""
    out = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


def split_ref(ref: str) -> tuple[int, int]:
    """(row, column), both 1-based, of an A1 cell reference such as ``"$C$5"``.

    Raises:
        ValueError: not a cell reference.
    """
    m = _REF_RE.match(ref.strip())
    if not m:
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(m.group(2)), column_index(m.group(1))


def parse_range(ref: str) -> tuple[int, int, int, int]:
    """(first_row, first_col, last_row, last_col) of ``"B4:D7"`` or ``"B4"``.

    Raises:
        ValueError: not an A1 range.
    """
    head, _, tail = ref.strip().partition(":")
    r1, c1 = split_ref(head)
    r2, c2 = split_ref(tail) if tail else (r1, c1)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def format_range(first_row: int, first_col: int, last_row: int, last_col: int) -> str:
    """``"B4:D7"`` for the given corners; a single cell is written as ``"B4"``."""
    a = f"{column_letters(first_col)}{first_row}"
    if (first_row, first_col) == (last_row, last_col):
        return a
    return f"{a}:{column_letters(last_col)}{last_row}"


_ESCAPE_RE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def decode_ooxml_escapes(text: str) -> str:
    """Undo OOXML's ``_xHHHH_`` escapes (Excel writes a line break in a header as ``_x000a_``)."""
    return _ESCAPE_RE.sub(lambda m: chr(int(m.group(1), 16)), text)
