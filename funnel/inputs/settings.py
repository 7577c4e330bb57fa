"""Workbook settings: the key/value table, checked with pydantic.

A bad value never stops the work: it is reported in the issues table and the
default is used instead, so a typo in one setting does not blank the whole report.
"""

from __future__ import annotations

import datetime as dt
import difflib
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from funnel import catalog
from funnel.inputs.issues import IssueLog, words
from funnel.inputs.parsing import ParseError, fold, parse_date

__all__ = ["Settings", "settings_from_table", "settings_table", "apply_overrides", "parse_column_names", "nearest_setting"]


class Settings(BaseModel):
    """Every setting a workbook can carry, with its default; what each does is the catalog's
    ``setting.<key>`` text."""

    # protected_namespaces=(): "model_min_closed" is a setting, not pydantic's; without it
    # pydantic before 2.10 warns on the user's terminal at every start.
    model_config = ConfigDict(extra="ignore", validate_assignment=True, protected_namespaces=())

    as_of: dt.date = Field(default_factory=dt.date.today)
    currency: str = Field("CNY")
    fiscal_year_start_month: int = Field(1, ge=1, le=12)
    period: Literal["month", "quarter"] = Field("quarter")
    probability_method: Literal["configured", "empirical", "blended"] = Field("blended")
    prior_strength: float = Field(10.0, ge=0)
    # Per-deal model (win probability issue)
    forecast_method: Literal["auto", "model", "stage"] = Field("auto")
    model_min_closed: int = Field(20, ge=1)
    # Deal health
    stale_multiple: float = Field(2.0, gt=0)
    inactive_days: int = Field(30, ge=1)
    # Grading
    importance_key_amount: float = Field(1_000_000, ge=0)
    importance_important_amount: float = Field(200_000, ge=0)
    amount_bands: str = Field("50000;200000;1000000")
    trend_periods: int = Field(4, ge=2)
    comparison_scale_max: float = Field(5, gt=0)
    comparison_us: str = Field("")
    language: Literal["en", "zh-CN"] = Field("en")
    # Reading the inputs
    date_order: Literal["auto", "DMY", "MDY", "YMD"] = Field("auto")
    column_names: str = Field("")
    # Where each refresh records its snapshot (read by the shell, never by the analysis):
    # blank, the file BOOK.funnel.db beside the workbook.
    store: str = Field("")

    @field_validator("date_order", mode="before")
    @classmethod
    def _order_in_capitals(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) and value.strip().lower() != "auto" else value

    @field_validator("column_names")
    @classmethod
    def _pairs(cls, value: str) -> str:
        parse_column_names(value)
        return value

    @field_validator("amount_bands")
    @classmethod
    def _bands_are_increasing_numbers(cls, value: str) -> str:
        edges = [float(x) for x in str(value).replace(",", "").split(";") if x.strip()]
        if any(b <= a for a, b in zip(edges, edges[1:])):
            raise ValueError("band edges must increase")
        return value

    def band_edges(self) -> list[float]:
        """The amount band edges as numbers."""
        return [float(x) for x in self.amount_bands.replace(",", "").split(";") if x.strip()]


def settings_from_table(table: pd.DataFrame | None, log: IssueLog) -> Settings:
    """Build Settings from the key/value table, reporting unknown keys and bad values.

    Args:
        table: columns ``key`` and ``value``; the index is the row the user sees.
        log: where problems go.

    Returns:
        The settings, with defaults wherever a value was blank or bad.
    """
    settings = Settings()
    if table is None or table.empty:
        return settings
    fields = Settings.model_fields
    for row, key, value in zip(table.index, table["key"], table["value"]):
        key = str(key).strip() if key is not None and not pd.isna(key) else ""
        if not key:
            continue
        if key not in fields:
            near = nearest_setting(key)
            if near:
                log.add("settings", row, "key", key, words("issue.setting.unknown_near", setting=key, near=near),
                        words("issue.setting.rename", near=near))
            else:
                log.add("settings", row, "key", key, words("issue.setting.unknown", setting=key), words("issue.action.ignored"))
            continue
        if value is None or (not isinstance(value, str) and pd.isna(value)) or str(value).strip() == "":
            continue
        if fields[key].annotation is dt.date and isinstance(value, (int, float)) and not isinstance(value, bool):
            # A date typed in Excel arrives as its serial number when the cell has no date format.
            try:
                value = parse_date(value)
            except ParseError:
                pass
        try:
            setattr(settings, key, _setting_value(value))
        except ValidationError as err:
            why = err.errors()[0]["msg"]
            default = getattr(Settings(), key)
            log.add("settings", row, "value", value, words("issue.setting.bad_value", setting=key, why=why),
                    words("issue.action.used", value=default))
    return settings


def nearest_setting(key: str) -> str | None:
    """The known setting a mistyped key most likely means (prior_strenght -> prior_strength)."""
    found = difflib.get_close_matches(key.strip().lower(), list(Settings.model_fields), n=1, cutoff=0.75)
    return found[0] if found else None


def parse_column_names(text: str) -> dict[str, str]:
    """The ``column_names`` setting as column -> the user's header.

    ``Amount=Deal value; Stage=Phase``: each pair names the column (its header in either
    language, or its key) and the header that holds it; full-width ``＝`` and ``；`` work too.

    Raises:
        ValueError: a pair without ``=`` or with an empty side.
    """
    pairs: dict[str, str] = {}
    for part in fold(str(text or "")).split(";"):
        if not part.strip():
            continue
        column, sep, header = part.partition("=")
        if not sep or not column.strip() or not header.strip():
            raise ValueError(f"write each pair as Column=your header, separated by ';' (not '{part.strip()}')")
        pairs[column.strip()] = header.strip()
    return pairs


def _setting_value(value):
    # Excel hands dates as datetimes and whole numbers as floats; pydantic wants plain values.
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip()
    return value


def apply_overrides(settings: Settings, overrides: dict[str, str]) -> Settings:
    """Return settings with KEY=VALUE overrides (from the command line) applied.

    Raises:
        ValueError: an unknown key or a bad value, naming both.
    """
    data = settings.model_dump()
    for key, value in overrides.items():
        if key not in Settings.model_fields:
            near = nearest_setting(key)
            hint = f"did you mean {near}? " if near else ""
            raise ValueError(f"unknown setting '{key}' ({hint}known: {', '.join(Settings.model_fields)})")
        data[key] = value
    try:
        return Settings(**data)
    except ValidationError as err:
        first = err.errors()[0]
        raise ValueError(f"setting '{first['loc'][0]}': {first['msg']}") from None


# The headers an empty comparison table offers for our column, in both languages (Us/我方).
_OUR_COLUMN = "/".join(catalog.text("sample.comparison.us", language) for language in catalog.LANGUAGES)


def settings_table(settings: Settings) -> pd.DataFrame:
    """The settings as the key/value table a workbook keeps, with what each does in the
    settings' own language."""
    rows = []
    for key in Settings.model_fields:
        value = getattr(settings, key)
        if isinstance(value, dt.date):
            value = value.isoformat()  # text reads the same in every locale
        fields = {"us": _OUR_COLUMN} if key == "comparison_us" else {}
        rows.append({"key": key, "value": value, "description": catalog.text(f"setting.{key}", settings.language, **fields)})
    return pd.DataFrame(rows)
