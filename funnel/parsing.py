"""Reading the values people actually type: amounts, dates, yes/no, percents.

Each parser takes one cell and returns the value or None, plus (through ``ParseError``)
a sentence a sales-ops user understands. The vectorized coercions in ``funnel.validate``
run pandas first and fall back to these only for the cells pandas could not read,
so clean data costs nothing extra.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata

__all__ = [
    "ParseError",
    "EXCEL_ERRORS",
    "EXCEL_EPOCH",
    "fold",
    "parse_amount",
    "parse_date",
    "parse_flag",
    "parse_probability",
]

EXCEL_ERRORS = frozenset(
    {"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!", "#CALC!", "#GETTING_DATA"}
)
# Excel's day zero in the 1900 system (the phantom 1900-02-29 makes it the 30th).
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
# Serials from 1900-03-01 to 9999-12-31; smaller numbers are more likely not dates.
_SERIAL_MIN, _SERIAL_MAX = 61, 2_958_465


class ParseError(ValueError):
    """A cell could not be read as the kind of value its column holds."""


def fold(text: str) -> str:
    """Strip and fold full-width characters and odd spaces (NFKC), as typed in Chinese IMEs."""
    return unicodedata.normalize("NFKC", text).strip()


def _excel_error(value: object) -> str | None:
    if isinstance(value, str) and value.strip().upper() in EXCEL_ERRORS:
        return value.strip().upper()
    return None


_CURRENCY = re.compile(r"^(?:[A-Z]{3}|[$¥￥€£]|RMB|CN¥|US\$|元)\s*|\s*(?:[A-Z]{3}|元|[$¥￥€£]|RMB)$", re.I)


def parse_amount(value: object) -> float | None:
    """Read an amount: ``4800``, ``$4,800.00``, ``1.234,50``, ``¥12,000``, ``12000 USD``, ``(500)``.

    Returns:
        The number, or None for a blank cell.

    Raises:
        ParseError: text that is not an amount, or an Excel error value.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ParseError(f"'{value}' is not an amount")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return None
        if math.isinf(value):
            raise ParseError("amount is infinite")
        return float(value)
    text = fold(str(value))
    if not text:
        return None
    if err := _excel_error(text):
        raise ParseError(f"Excel error {err} instead of an amount")
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()").strip()
    for _ in range(2):
        text = _CURRENCY.sub("", text).strip()
    if text.startswith("-"):
        negative, text = True, text[1:].strip()
    text = text.replace(" ", "").replace("\u00a0", "").replace("'", "")
    if not re.fullmatch(r"[0-9.,]+", text) or not re.search(r"[0-9]", text):
        raise ParseError(f"'{value}' is not an amount")
    last_dot, last_comma = text.rfind("."), text.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        # Whichever separator comes last is the decimal one: 1.234,50 or 1,234.50.
        decimal = "," if last_comma > last_dot else "."
    elif last_comma >= 0:
        # 1,234 / 12,000,000 are thousands; 12,5 is a decimal comma.
        decimal = "," if len(text) - last_comma - 1 in (1, 2) and text.count(",") == 1 else None
    elif text.count(".") > 1:
        decimal = None  # 1.234.567 groups thousands with dots
    else:
        decimal = "."
    if decimal == ",":
        text = text.replace(".", "").replace(",", ".")
    elif decimal == ".":
        text = text.replace(",", "")
    else:
        text = text.replace(",", "").replace(".", "")
    number = float(text)
    return -number if negative else number


_DATE_PATTERNS = (
    (re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"), ("y", "m", "d")),
    (re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"), ("y", "m", "d")),
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"), ("m", "d", "y")),  # US exports: M/D/YYYY
    (re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$"), ("d", "m", "y")),  # European: D.M.YYYY
    (re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})$"), ("d", "m", "y")),
    (re.compile(r"^(\d{4})(\d{2})(\d{2})$"), ("y", "m", "d")),
)
_TIME_TAIL = re.compile(r"(?:[T\s]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?(?:Z|[+-]\d{2}:?\d{2})?)$")


def parse_date(value: object) -> dt.date | None:
    """Read a date: ISO, ``M/D/YYYY``, ``D.M.YYYY``, ``2026年3月1日``, with times, or an Excel serial.

    Returns:
        The date, or None for a blank cell.

    Raises:
        ParseError: text that is not a date, or a date that cannot exist (2026-02-30).
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise ParseError(f"'{value}' is not a date")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return None
        if not _SERIAL_MIN <= value <= _SERIAL_MAX:
            raise ParseError(f"{value:g} is not a date")
        return (EXCEL_EPOCH + dt.timedelta(days=int(value))).date()
    text = fold(str(value))
    if not text:
        return None
    if err := _excel_error(text):
        raise ParseError(f"Excel error {err} instead of a date")
    core = _TIME_TAIL.sub("", text).strip()
    for pattern, order in _DATE_PATTERNS:
        match = pattern.match(core)
        if match:
            parts = dict(zip(order, (int(g) for g in match.groups())))
            try:
                return dt.date(parts["y"], parts["m"], parts["d"])
            except ValueError:
                raise ParseError(f"'{value}' is not a real date") from None
    if re.fullmatch(r"\d+(\.\d+)?", core):
        return parse_date(float(core))
    raise ParseError(f"'{value}' is not a date (use YYYY-MM-DD)")


_YES = {"y", "yes", "true", "t", "1", "x", "✓", "✔", "√", "是", "有", "对", "已", "已确认", "ok", "1.0"}
_NO = {"n", "no", "false", "f", "0", "否", "无", "没有", "未", "-", "0.0"}


def parse_flag(value: object) -> bool:
    """Read a yes/no cell; blank is no.

    Raises:
        ParseError: anything that is neither yes nor no.
    """
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return False
        if value in (0, 1):
            return bool(value)
        raise ParseError(f"{value:g} is not yes/no")
    text = fold(str(value)).lower()
    if not text:
        return False
    if text in _YES:
        return True
    if text in _NO:
        return False
    if err := _excel_error(text.upper()):
        raise ParseError(f"Excel error {err} instead of yes/no")
    raise ParseError(f"'{value}' is not yes/no")


def parse_probability(value: object) -> float | None:
    """Read a probability: ``0.7``, ``70%``; blank is None.

    Raises:
        ParseError: not a number, or outside 0..1.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = fold(value)
        if not text:
            return None
        if err := _excel_error(text):
            raise ParseError(f"Excel error {err} instead of a probability")
        percent = text.endswith("%")
        try:
            number = float(text.rstrip("%").strip())
        except ValueError:
            raise ParseError(f"'{value}' is not a probability") from None
        if percent:
            number /= 100
    elif isinstance(value, bool):
        raise ParseError(f"'{value}' is not a probability")
    else:
        number = float(value)
        if math.isnan(number):
            return None
    if not 0 <= number <= 1:
        raise ParseError(f"probability {value} is outside 0..1")
    return number
