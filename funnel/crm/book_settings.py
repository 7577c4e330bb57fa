"""The settings of a workbook built around a CRM export: as of the data's own time, in its currency.

An export is a picture of the past: the Maven CRM sample ends in 2017. Seen as of today,
every open deal would look stale and every period past, so a new workbook takes as-of
from the export when its newest date is more than ``OLD_DATA_DAYS`` old. Its currency is
the one the user names, else the single code of the export's currency column, else the
default; each choice is said in a note, in the workbook's language.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from funnel import catalog
from funnel.crm.importers import ImportResult
from funnel.forecast.readiness import OLD_DATA_DAYS, latest_data_date
from funnel.inputs.settings import Settings

__all__ = ["new_book_settings"]


def new_book_settings(result: ImportResult, language: str, currency: str | None = None,
                      today: dt.date | None = None) -> tuple[Settings, list[str]]:
    """Settings for a new workbook holding ``result``, and a note on each choice made.

    Args:
        result: the import.
        language: the workbook's language (``en`` or ``zh-CN``); the notes are in it.
        currency: the currency the user gave (``--currency``), if any.
        today: the day of the import (default: today).

    Returns:
        The settings, and the notes to show the user.
    """
    today = today or dt.date.today()
    opps = result.tables["opportunities"]
    dates = [pd.to_datetime(opps[col], errors="coerce") for col in ("created", "last_activity") if col in opps]
    if "close_date" in opps:  # a close date after today is a plan; one before it, a record or a plan gone by
        closes = pd.to_datetime(opps["close_date"], errors="coerce")
        dates.append(closes[closes <= pd.Timestamp(today)])
    history = result.tables.get("stage_history")
    if history is not None and "entered" in history:
        dates.append(pd.to_datetime(history["entered"], errors="coerce"))
    update: dict[str, object] = {"language": language}
    notes = []
    latest = latest_data_date(dates)
    if latest is not None and (pd.Timestamp(today) - latest).days > OLD_DATA_DAYS:
        update["as_of"] = latest.date()
        notes.append(catalog.text("import.as_of_from_data", language, as_of=f"{latest:%Y-%m-%d}",
                                  days=f"{(pd.Timestamp(today) - latest).days:,}"))
    if currency:
        update["currency"] = currency.strip().upper()
    elif result.currency:
        update["currency"] = result.currency
        notes.append(catalog.text("import.currency_from_export", language, currency=result.currency))
    else:
        notes.append(catalog.text("import.currency_default", language, currency=Settings().currency))
    return Settings().model_copy(update=update), notes
