"""Backfill a book's snapshot store with past snapshots (``funnel backfill``, ``funnel demo``,
``funnel import --layout salesforce-history``).

The reconstruction itself is pure (``funnel.snapshots.backfill``); this module writes what
it gives, one ``Store.record`` per past day, marked with its origin (``reconstructed`` or
``imported``) for each day the book has no snapshot as of: running it twice writes nothing
the second time. Days after the book's latest snapshot are appended; days before some of its
snapshots are put in their place in time: the book is recorded again in date order under a
scratch name (its snapshots as they were) and swapped in, in one transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Protocol

import pandas as pd
from sqlalchemy.engine import make_url

from funnel.inputs.validation import Inputs
from funnel.snapshots import ordered_history, reconstructed_snapshot
from workbook.store import Recorded, Store, StoreError, book_name, default_url

__all__ = ["Backfilled", "DEMO_WEEKS", "demo_weeks", "record_past", "backfill_book", "backfill_demo"]


@dataclass(frozen=True)
class Backfilled:
    """What a backfill wrote: the snapshots recorded, the days left out because the book
    already had a snapshot as of them, and the book's latest day before (None: none)."""

    recorded: list[Recorded] = field(default_factory=list)
    skipped: list[dt.date] = field(default_factory=list)
    latest_before: dt.date | None = None


class Executor(Protocol):
    """What computes a function beside the caller (``udfs.runtime.ForkExecutor``)."""

    def submit(self, fn: Callable[[], Any], /) -> Any: ...


def record_past(store: Store, book: str, days: list[dt.date],
                snapshot_of: Callable[[dt.date], tuple[pd.DataFrame, pd.DataFrame]], *, origin: str,
                language: str = "en", executor: Executor | None = None) -> Backfilled:
    """Record one snapshot per day of ``days`` the book has none as of, oldest first, in date
    order among the book's snapshots.

    Args:
        store: the open store.
        book: the book's name in it.
        days: the past days (any order; repeated days count once).
        snapshot_of: a day's (tracked fields, forecast figures).
        origin: ``reconstructed`` or ``imported`` (``workbook.store.ORIGINS``).
        language: the workbook's language.
        executor: computes the older half of the days' snapshots beside the caller (None: all
            here); the snapshots are recorded in date order either way.
    """
    existing = store.history(book)
    had = {pd.Timestamp(d).date() for d in existing["as_of"]}
    latest = max(had) if had else None
    todo = sorted({d for d in days if d not in had})
    skipped = sorted({d for d in days if d in had})
    half = len(todo) // 2 if executor is not None and len(todo) > 1 else 0
    older = executor.submit(lambda: [snapshot_of(day) for day in todo[:half]]) if half else None
    newer = [snapshot_of(day) for day in todo[half:]]
    made = dict(zip(todo, (older.result() if older is not None else []) + newer))
    if latest is None or not todo or todo[0] > latest:  # after every snapshot there is: appended
        recorded = [store.record(book, day, *made[day], language=language, origin=origin) for day in todo]
        return Backfilled(recorded, skipped, latest)
    return Backfilled(_interleaved(store, book, existing, made, language, origin), skipped, latest)


# The scratch name a backfill records a book under before swapping it in.
_SCRATCH = "{book} (backfill in progress)"


def _interleaved(store: Store, book: str, existing: pd.DataFrame, made: dict, language: str,
                 origin: str) -> list[Recorded]:
    # Past days before some of the book's snapshots: everything recorded again in date order
    # under a scratch name (the existing snapshots as they were: their deals, figures, time,
    # language and origin), then swapped in for the book in one transaction.
    scratch = _SCRATCH.format(book=book)
    store.forget(scratch)  # what a killed backfill left
    timeline = [(pd.Timestamp(r.as_of).date(), 0, int(r.id), r) for r in existing.itertuples(index=False)]
    timeline += [(day, 1, 0, None) for day in made]
    recorded = []
    for day, new, _, row in sorted(timeline, key=lambda t: t[:3]):
        if new:
            recorded.append(store.record(scratch, day, *made[day], language=language, origin=origin))
        else:
            store.record(scratch, day, store.state(book, int(row.id)), store.figures(int(row.id)),
                         taken_at=pd.Timestamp(row.taken_at).to_pydatetime(), language=str(row.language),
                         origin=str(row.origin))
    store.replace_book(book, scratch)
    return recorded


def backfill_book(store: Store, book: str, inputs: Inputs, probabilities: pd.DataFrame, history: pd.DataFrame,
                  days: list[dt.date], *, origin: str = "reconstructed", executor: Executor | None = None) -> Backfilled:
    """Record the book's reconstructed past snapshots (``funnel.snapshots.reconstructed_snapshot``
    of ``history``) on ``days`` after its latest snapshot.

    Args:
        inputs: the validated book (its opportunities as now, stages, settings, quotas).
        probabilities: ``Analysis.stage_probabilities``.
        history: the deal history (``funnel.snapshots.HISTORY_COLUMNS``).
    """
    history = ordered_history(history)

    def snapshot_of(day: dt.date):
        return reconstructed_snapshot(inputs.opportunities, history, day, inputs.stages, probabilities, inputs.settings,
                                      inputs.quotas)

    return record_past(store, book, days, snapshot_of, origin=origin, language=inputs.settings.language,
                       executor=executor)


# How many weekly snapshots the demo's store starts with: two quarters, so that the last
# quarter's forecast accuracy and the current quarter's flow both have snapshots; a big demo
# (a benchmark's) gets a month, each past week costing about what a refresh's forecast does.
DEMO_WEEKS = 26
_BIG_DEMO, _BIG_DEMO_WEEKS = 20_000, 4


def demo_weeks(size: int) -> int:
    """The weeks of past a demo of ``size`` deals is given unless told: 26, 4 above 20,000 deals."""
    return DEMO_WEEKS if size <= _BIG_DEMO else _BIG_DEMO_WEEKS


def backfill_demo(book: Path, tables: dict[str, pd.DataFrame], seed: int, language: str = "en",
                  weeks: int = DEMO_WEEKS, executor: Executor | None = None) -> Backfilled:
    """The demo's past: a fresh store beside the demo workbook (``BOOK.funnel.db``; an old
    one is replaced, as the workbook is) with ``weeks`` weekly snapshots of the demo's
    generated deal history (``funnel.demo.history``), marked as reconstructed.

    Args:
        book: the demo workbook's path.
        tables: the demo's tables (``funnel.demo.data.demo_tables``).
        seed: the demo's seed.
        language: the demo workbook's language (its snapshots are listed in it).
    """
    from funnel.analysis import Analysis
    from funnel.demo.history import demo_deal_history
    from funnel.inputs.validation import validate
    from funnel.snapshots import weekly_dates

    inputs = validate(tables, {"language": language})
    url = default_url(book)
    path = Path(make_url(url).database)
    for leftover in (path, path.with_name(path.name + "-journal")):
        try:
            leftover.unlink(missing_ok=True)
        except OSError as err:  # a folder of that name, a file the user may not remove
            raise StoreError("store.unwritable", store=str(path), detail=err.strerror or str(err)) from err
    history = demo_deal_history(tables, inputs.settings.as_of, seed)
    with Store(url) as store:
        return backfill_book(store, book_name(book), inputs, Analysis(inputs).stage_probabilities, history,
                             weekly_dates(inputs.settings.as_of, weeks), executor=executor)
