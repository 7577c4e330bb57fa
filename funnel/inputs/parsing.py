"""Reading the values people actually type: amounts, dates, yes/no, percents.

Each parser takes one cell and returns the value or None, plus (through ``ParseError``)
a sentence a sales-ops user understands. The vectorized coercions in ``funnel.inputs.validation``
run pandas first and fall back to these only for the cells pandas could not read,
so clean data costs nothing extra.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from funnel.catalog import said

__all__ = [
    "ParseError",
    "EXCEL_ERRORS",
    "EXCEL_EPOCH",
    "fold",
    "parse_amount",
    "parse_date",
    "parse_flag",
    "parse_probability",
    "probability_outside_message",
    "DATE_ORDERS",
    "DateReading",
    "date_reading",
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

    @property
    def problem(self) -> str:
        """What is wrong, as a ``catalog.Said`` where the catalog has the words (str() loses them)."""
        return self.args[0] if self.args and isinstance(self.args[0], str) else str(self)


def fold(text: str) -> str:
    """Strip and fold full-width characters and odd spaces (NFKC), as typed in Chinese IMEs."""
    return unicodedata.normalize("NFKC", text).strip()


def _excel_error(value: object) -> str | None:
    if isinstance(value, str) and value.strip().upper() in EXCEL_ERRORS:
        return value.strip().upper()
    return None


_CURRENCY = re.compile(r"^(?:[A-Z]{3}|[$¥￥€£]|RMB|CN¥|US\$|元)\s*|\s*(?:[A-Z]{3}|元|[$¥￥€£]|RMB)$", re.I)


def parse_amount(value: object, decimal: str | None = None) -> float | None:
    """Read an amount: ``4800``, ``$4,800.00``, ``1.234,50``, ``¥12,000``, ``12000 USD``, ``(500)``.

    Minus signs may lead (``-$4,800``, ``$-4,800``), trail (``4,800-``, as SAP and some
    ledgers print them) or be the typographic minus ``−``.

    Args:
        value: the cell.
        decimal: the decimal separator the source uses, ``"."`` or ``","``, for text with
            only one kind of separator; None guesses from the text (``1,234`` and
            ``1.234.567`` group thousands, ``12,5`` is a decimal comma, ``1.234`` is one
            point two three four). Text with both (``4.800,00``, ``4,800.00``) is read by
            the last one, whatever ``decimal`` says.

    Returns:
        The number, or None for a blank cell.

    Raises:
        ParseError: text that is not an amount, or an Excel error value.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ParseError(said("parse.amount.not", value=value))
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return None
        if math.isinf(value):
            raise ParseError(said("parse.amount.infinite"))
        return float(value)
    text = fold(str(value)).replace("\u2212", "-")
    if not text:
        return None
    if err := _excel_error(text):
        raise ParseError(said("parse.amount.excel_error", error=err))
    negative = text.startswith("(") and text.endswith(")")
    text = text.strip("()").strip()
    if text.startswith("-"):
        negative, text = True, text[1:].strip()
    elif text.endswith("-"):
        negative, text = True, text[:-1].strip()
    for _ in range(2):
        text = _CURRENCY.sub("", text).strip()
    if text.startswith("-"):
        negative, text = True, text[1:].strip()
    text = text.replace(" ", "").replace("\u00a0", "").replace("'", "")
    if not re.fullmatch(r"[0-9.,]+", text) or not re.search(r"[0-9]", text):
        raise ParseError(said("parse.amount.not", value=value))
    # A declared decimal settles 1,234 and 1.234; text with both separators says itself
    # which is the decimal one (4.800,00), whatever the source usually writes.
    both = "." in text and "," in text
    number = _read_number(text, decimal if decimal in (".", ",") and not both else _guess_decimal(text))
    if number is None:
        # Separators in impossible places (1,234.5.6, 1,2,3) or against the declared decimal.
        raise ParseError(said("parse.amount.not", value=value))
    return -number if negative else number


def _guess_decimal(text: str) -> str:
    # The decimal separator of digits-and-separators text, or "" when it has none.
    last_dot, last_comma = text.rfind("."), text.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        # Whichever separator comes last is the decimal one: 1.234,50 or 1,234.50.
        return "," if last_comma > last_dot else "."
    if last_comma >= 0:
        # 1,234 / 12,000,000 are thousands; 12,5 is a decimal comma.
        return "," if len(text) - last_comma - 1 in (1, 2) and text.count(",") == 1 else ""
    if text.count(".") > 1:
        return ""  # 1.234.567 groups thousands with dots
    return "."


_GROUPED = {
    ",": re.compile(r"\d{1,3}(?:,\d{3})+|\d{1,2}(?:,\d{2})*,\d{3}"),  # 1,234,567 and Indian 12,34,567
    ".": re.compile(r"\d{1,3}(?:\.\d{3})+"),
}


def _read_number(text: str, decimal: str) -> float | None:
    # None when thousands separators are not in groups of three or follow the decimal part.
    whole, _, fraction = text.partition(decimal) if decimal else (text, "", "")
    if fraction and not fraction.isdigit():
        return None
    separators = set(re.sub(r"\d", "", whole))
    if separators:
        if len(separators) > 1:
            return None
        sep = separators.pop()
        if sep == decimal or not _GROUPED[sep].fullmatch(whole):
            return None
        whole = whole.replace(sep, "")
    return float(f"{whole or '0'}.{fraction or '0'}")


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",),
            ("jun", "june"), ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"),
            ("oct", "october"), ("nov", "november"), ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_MONTH_NAME = r"([A-Za-z]{3,9})\.?"
# Year first: never ambiguous.
_YEAR_FIRST = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$"),
    re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
# Year last, with the separator that tells the default reading of the first two numbers.
_YEAR_LAST = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})$")
_DEFAULT_ORDER = {"/": "mdy", ".": "dmy", "-": "dmy"}  # US exports M/D/YYYY; European D.M.YYYY
# Month names, as Excel's d-mmm-yy and US long dates print them: 1-Mar-26, 1 Mar 2026, Mar 1, 2026.
_DAY_MONTH_NAME = re.compile(r"^(\d{1,2})[-\s/]+" + _MONTH_NAME + r"[-\s/,]+(\d{4}|\d{2})$")
_MONTH_NAME_DAY = re.compile(r"^" + _MONTH_NAME + r"[-\s/]+(\d{1,2})(?:st|nd|rd|th)?[,\s]+(\d{4}|\d{2})$", re.I)
_TIME_TAIL = re.compile(
    r"(?:[T\s]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp]\.?[Mm]\.?)?\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})?)$"
)
_ORDER_WORDS = {"mdy": "month/day/year", "dmy": "day/month/year", "ymd": "year/month/day"}
_ORDER_KEYS = {words: order for order, words in _ORDER_WORDS.items()}


def _full_year(text: str) -> int:
    # Two-digit years follow Excel's rule: 00-29 are 2000-2029, 30-99 are 1930-1999.
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 30 else 1900
    return year


def _make_date(value: object, year: int, month: int, day: int, reading: str = "") -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        key = f"parse.date.not_real_as.{_ORDER_KEYS[reading]}" if reading else "parse.date.not_real"
        raise ParseError(said(key, value=value)) from None


def parse_date(value: object, order: str | None = None) -> dt.date | None:
    """Read a date: ISO, ``M/D/YYYY``, ``D.M.YYYY``, ``2026年3月1日``, ``1-Mar-26``, with times, or an Excel serial.

    Args:
        value: the cell.
        order: how to read dates whose year comes last: ``"mdy"`` (3/1/2026 is 1 March)
            or ``"dmy"`` (3/1/2026 is 3 January); ``"ymd"`` reads three two-digit
            numbers year first (26/3/1 is 2026-03-01) and a four-digit year at the end
            month/day (month before day, as in year-month-day). None reads slashes as
            month/day/year (US exports) and dots or dashes as day.month.year (European
            exports). A four-digit year first and month names are never ambiguous. Two-digit
            years follow Excel: 00-29 are 20xx, 30-99 are 19xx. ``date_reading`` tells a
            column's order from its own dates.

    Returns:
        The date, or None for a blank cell.

    Raises:
        ParseError: text that is not a date, or a date that cannot exist (2026-02-30).
        ValueError: ``order`` is not mdy, dmy or None.
    """
    if order not in (None, "mdy", "dmy", "ymd"):
        raise ValueError(f"date order must be 'mdy', 'dmy' or 'ymd', not {order!r}")
    if value is None:
        return None
    if isinstance(value, dt.date) and value != value:  # NaT is a datetime that is not equal to itself
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else parse_date(value.astype("datetime64[D]").item())
    if isinstance(value, bool):
        raise ParseError(said("parse.date.not", value=value))
    if isinstance(value, (int, float, np.integer)):
        if isinstance(value, float) and math.isnan(value):
            return None
        if not _SERIAL_MIN <= value <= _SERIAL_MAX:
            raise ParseError(said("parse.date.number", value=f"{value:g}"))
        return (EXCEL_EPOCH + dt.timedelta(days=int(value))).date()
    text = fold(str(value))
    if not text:
        return None
    if err := _excel_error(text):
        raise ParseError(said("parse.date.excel_error", error=err))
    core = _TIME_TAIL.sub("", text).strip()
    for pattern in _YEAR_FIRST:
        match = pattern.match(core)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return _make_date(value, year, month, day)
    match = _YEAR_LAST.match(core)
    if match:
        first, sep, second, year = match.groups()
        if order == "ymd" and len(year) == 2 and len(first) == 2:
            return _make_date(value, _full_year(first), int(second), int(year), _ORDER_WORDS["ymd"])
        reading = {None: _DEFAULT_ORDER[sep], "ymd": "mdy"}.get(order, order)
        month, day = (first, second) if reading == "mdy" else (second, first)
        return _make_date(value, _full_year(year), int(month), int(day), _ORDER_WORDS[reading])
    for pattern, day_at, month_at in ((_DAY_MONTH_NAME, 0, 1), (_MONTH_NAME_DAY, 1, 0)):
        match = pattern.match(core)
        if match and match.group(month_at + 1).lower() in _MONTHS:
            groups = match.groups()
            month = _MONTHS[groups[month_at].lower()]
            return _make_date(value, _full_year(groups[2]), month, int(groups[day_at]))
    if re.fullmatch(r"\d+(\.\d+)?", core):
        return parse_date(float(core))
    raise ParseError(said("parse.date.not_iso", value=value))


DATE_ORDERS = ("DMY", "MDY", "YMD")


@dataclass(frozen=True)
class DateReading:
    """How one column's dates with the year last are read, and why.

    ``order`` is what ``parse_date`` takes (``"dmy"``, ``"mdy"``, ``"ymd"``, or None for
    each date by its separator); ``note`` is the one line the Issues table shows for the
    column, with the row and value it is about, or None when nothing in the column was
    ambiguous (or the user chose the order).
    """

    order: str | None
    note: tuple[object, str, str, str] | None = None  # (row, value, problem, action)


def _day_month(text: object) -> tuple[int, int, str] | None:
    # The first two numbers of a year-last date (05/12/2026 -> 5, 12, "/"), else None.
    if not isinstance(text, str):
        return None
    match = _YEAR_LAST.match(_TIME_TAIL.sub("", fold(text)).strip())
    if match is None or len(match.group(4)) != 4:
        return None
    return int(match.group(1)), int(match.group(3)), match.group(2)


def _spelled(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def date_reading(cells: Iterable[tuple[object, object]], setting: str = "auto", language: str = "en",
                 declared: str | None = None) -> DateReading:
    """How to read one column's year-last dates (05/12/2026): day or month first.

    The user's ``date_order`` setting decides when set. Otherwise the column's own dates
    do: 15/12/2026 can only be day-first, 12/15/2026 only month-first. A column where no
    date tells (every one could be either) is read by ``declared`` (an import layout's
    order: how the tool writes dates) or the language's: day-first in a Chinese workbook;
    in an English one each date by its separator (slashes month-first as US tools write
    them, dots and dashes day-first). One line says which reading was used and how to
    change it when it was a guess (ambiguous dates read by the language's default), or
    when the column's dates overrule the layout's order or each other.

    Args:
        cells: (row, cell) of the column's cells the parser will read (text only counts).
        setting: ``date_order``: ``auto``, or one of ``DATE_ORDERS``.
        language: the workbook's language (``en`` / ``zh-CN``).
        declared: the order the source says it writes (``"dmy"``/``"mdy"``): used,
            without a word, unless the column's dates show the other.
    """
    if setting in DATE_ORDERS:
        return DateReading(setting.lower())
    example = None
    proofs: dict[str, tuple[object, str]] = {}
    counts = {"dmy": 0, "mdy": 0}
    for row, cell in cells:
        parts = _day_month(cell)
        if parts is None:
            continue
        first, second, _ = parts
        if first > 12 >= second:
            counts["dmy"] += 1
            proofs.setdefault("dmy", (row, str(cell).strip()))
        elif second > 12 >= first:
            counts["mdy"] += 1
            proofs.setdefault("mdy", (row, str(cell).strip()))
        elif first != second and first <= 12 and second <= 12 and example is None:
            example = (row, str(cell).strip(), parts)
    if proofs:
        order = max(counts, key=lambda k: (counts[k], k == "dmy"))
    else:
        order = declared or ("dmy" if language == "zh-CN" else None)
    if declared and set(proofs) <= {declared}:
        return DateReading(declared)  # the source writes dates as it says
    if example is None and len(proofs) < 2 and not (declared and proofs):
        return DateReading(order)
    words = {"dmy": "day-first", "mdy": "month-first"}
    if example is not None:
        row, text, (first, second, sep) = example
        reading = order or _DEFAULT_ORDER[sep]
        day = dt.date(2000, first, second) if reading == "mdy" else dt.date(2000, second, first)
        other = dt.date(2000, second, first) if reading == "mdy" else dt.date(2000, first, second)
        year = int(re.split(r"[-/.]", _TIME_TAIL.sub("", fold(text)).strip())[2])
        shown, other_shown = _spelled(day.replace(year=year)), _spelled(other.replace(year=year))
    else:
        row, text = proofs[order]
        reading = order
    if len(proofs) == 2:
        minority = "mdy" if order == "dmy" else "dmy"
        problem = (f"the column mixes day-first ({proofs['dmy'][1]} in row {proofs['dmy'][0]}) and month-first "
                   f"({proofs['mdy'][1]} in row {proofs['mdy'][0]}) dates")
        action = f"read {words[order]}, as most are; the {words[minority]} ones are reported; set date_order to change"
    elif proofs:
        proof_row, proof = proofs[order]
        against = f", not {words[declared]} as the layout says" if declared else ""
        if example is not None:
            problem = f"dates read {words[order]} ({text} = {shown}), as {proof} in row {proof_row} shows{against}"
        else:
            row, text = proof_row, proof
            problem = f"dates read {words[order]}, as {proof} in row {proof_row} shows{against}"
        action = f"read {words[order]}; set date_order to change"
    else:
        why = {"dmy": "the default for Chinese workbooks"}.get(order or "", "as US tools write them" if sep == "/" else "as European tools write them")
        problem = f"no date in the column tells whether {text} is {shown} or {other_shown}; read {words[reading]} ({why})"
        action = f"read {words[reading]}; set date_order to {'MDY' if reading == 'dmy' else 'DMY'} if you meant {other_shown}"
    return DateReading(order, (row, text, problem, action))


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
        raise ParseError(said("parse.flag.number", value=f"{value:g}"))
    text = fold(str(value)).lower()
    if not text:
        return False
    if text in _YES:
        return True
    if text in _NO:
        return False
    if err := _excel_error(text.upper()):
        raise ParseError(said("parse.flag.excel_error", error=err))
    raise ParseError(said("parse.flag.not", value=value))


def parse_probability(value: object) -> float | None:
    """Read a probability: ``0.7``, ``70%``, ``0,7``; blank is None.

    A bare ``70`` is not read as 70%: it is outside 0..1 and reported, because a
    probability column mixing 0.7 and 70 is more often a typo than a convention.

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
            raise ParseError(said("parse.probability.excel_error", error=err))
        percent = text.endswith("%")
        core = text.rstrip("%").strip()
        if re.fullmatch(r"[0-9]*,[0-9]+", core):
            core = core.replace(",", ".")  # decimal comma: 0,7 or 70,5%
        if not re.fullmatch(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", core):
            # float() would also take 'nan', 'inf' and '1e3', none of which a person means here.
            raise ParseError(said("parse.probability.not", value=value))
        number = float(core)
        if percent:
            number /= 100
    elif isinstance(value, bool):
        raise ParseError(said("parse.probability.not", value=value))
    else:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ParseError(said("parse.probability.not", value=value)) from None
        if math.isnan(number):
            return None
    if not 0 <= number <= 1:
        raise ParseError(probability_outside_message(number))
    return number


def probability_outside_message(number: float) -> str:
    """The problem sentence for a probability outside 0..1 (70 was probably meant as 70%)."""
    return said("parse.probability.outside", value=f"{number:g}")
