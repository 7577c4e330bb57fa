"""What the snapshot store remembers, as the report's tables: changes, the forecast over time, accuracy.

The store's history comes in as data, a ``History`` (the deal versions, the list of
snapshots and their forecast figures), read by whoever opened the store; nothing here opens
one. From it ``history_tables`` builds, in the book's language:

    history_note        one line: which snapshots the tables compare, or why they are empty
    pipeline_flow       the flow of every period for the default window: the last snapshot
                        before the current period began -> the latest (``funnel.snapshots.flow``),
                        the changes of no deal and no amount left out (start and end kept)
    flow_chart          the current period's total flow as a waterfall: each change's bar on
                        an invisible base (start and end from 0)
    forecast_trend      the current period's total forecast at each snapshot: weighted
                        (closed won + open weighted), commit, P50, quota, closed won
    forecast_accuracy   each closed period's forecasts scored (``funnel.snapshots.accuracy``)
    accuracy_summary    over the periods: MAPE, WAPE, mean bias, the P10-P90 hit share
    accuracy_chart      per closed period: actual won beside the three forecasts at the
                        earliest point scored
    push_rates          per owner: the share of deals whose close date was pushed
    deal_history        per deal: pushes, slip, amount change, time in stage (``slips``)

With no store, an empty store or one snapshot, the tables are empty (the flow of one
snapshot is its start = end) and the note says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from funnel import catalog
from funnel.inputs.periods import period_of, period_start
from funnel.inputs.settings import Settings
from funnel.snapshots.accuracy import MEASURES, accuracy_summary, forecast_accuracy
from funnel.snapshots.figures import FIGURE_COLUMNS
from funnel.snapshots.flow import _SIGN, FLOW_CHANGES, FLOW_COLUMNS, pipeline_flow
from funnel.snapshots.slips import DEAL_HISTORY_COLUMNS, PUSH_RATE_COLUMNS, deal_history, push_rates
from funnel.snapshots.versions import TRACKED, VERSION_COLUMNS, state_as_of

__all__ = ["History", "HISTORY_TABLES", "WATERFALL_COLUMNS", "TREND_COLUMNS", "default_window", "waterfall",
           "forecast_trend", "accuracy_chart", "history_tables", "flow_total", "period_accuracy", "history_from_frames"]

# The report's tables built from the history, in report order.
HISTORY_TABLES = ("history_note", "pipeline_flow", "flow_chart", "forecast_trend", "forecast_accuracy", "accuracy_summary",
                  "accuracy_chart", "push_rates")
WATERFALL_COLUMNS = ("change", "amount", "base", "increase", "decrease", "total")
TREND_COLUMNS = ("snapshot", "as_of", "weighted", "commit", "p50", "quota", "closed_won")
CHART_COLUMNS = ("period", "point", "actual", "weighted", "commit", "p50")


def _no_frame(columns) -> pd.DataFrame:
    return pd.DataFrame({col: pd.Series(dtype=object) for col in columns})


@dataclass(frozen=True)
class History:
    """What a store holds of one book, as frames.

    Attributes:
        versions: every deal version (``VERSION_COLUMNS``).
        snapshots: the snapshots, oldest first (``id``, ``as_of``, ...: ``Store.history``).
        figures: the forecast figures of every snapshot (``FIGURE_COLUMNS`` and ``snapshot_id``).
        where: the store as a user can name it (for the note).
        problem: why the store could not be read ("" when it could).
    """

    versions: pd.DataFrame = field(default_factory=lambda: _no_frame(VERSION_COLUMNS))
    snapshots: pd.DataFrame = field(default_factory=lambda: _no_frame(("id", "as_of")))
    figures: pd.DataFrame = field(default_factory=lambda: _no_frame((*FIGURE_COLUMNS, "snapshot_id")))
    where: str = ""
    problem: str = ""

    @property
    def empty(self) -> bool:
        return len(self.snapshots) == 0

    def state(self, snapshot: int) -> pd.DataFrame:
        """The deals as they stood at one snapshot (``state_as_of``)."""
        if len(self.versions) == 0:
            return _no_frame(("deal_id", *TRACKED))
        return state_as_of(self.versions, snapshot)


def default_window(snapshots: pd.DataFrame, settings: Settings) -> tuple[pd.Series, pd.Series] | None:
    """(first, second) snapshot rows of the default flow window: the latest snapshot, and the
    last one before the period it is in began (else the first); None without snapshots.
    ``funnel flow``'s default."""
    if snapshots is None or len(snapshots) == 0:
        return None
    ordered = snapshots.sort_values("id", kind="stable")
    second = ordered.iloc[-1]
    as_of = pd.to_datetime(ordered["as_of"]).dt.date
    began = period_start(period_of(pd.Timestamp(second["as_of"]).date(), settings), settings)
    before = ordered[(as_of < began).to_numpy()]
    return (before.iloc[-1] if len(before) else ordered.iloc[0]), second


def waterfall(flow: pd.DataFrame, period: str) -> pd.DataFrame:
    """The period's total flow as a waterfall: ``WATERFALL_COLUMNS``, one row per change.

    start and end stand on 0 (``total``); each increase stands on the level before it, each
    decrease hangs from it (``base`` is the invisible part of the stacked column); every
    amount positive. The last level is the end's amount (the flow balances).
    """
    rows = flow[(flow["period"] == period) & (flow["owner"] == "") & (flow["team"] == "")]
    amounts = dict(zip(rows["change"], rows["amount"].astype(float)))
    out, level = [], 0.0
    for change in FLOW_CHANGES:
        amount = float(amounts.get(change, 0.0))
        if change in ("start", "end"):
            out.append((change, amount, 0.0, 0.0, 0.0, amount))
            level = amount
        elif _SIGN[change] > 0:
            out.append((change, amount, level, amount, 0.0, 0.0))
            level += amount
        else:
            level -= amount
            out.append((change, amount, max(level, 0.0), 0.0, amount, 0.0))
    return pd.DataFrame(out, columns=list(WATERFALL_COLUMNS))


def forecast_trend(snapshots: pd.DataFrame, figures: pd.DataFrame, period: str) -> pd.DataFrame:
    """The period's total forecast as each snapshot recorded it: ``TREND_COLUMNS``, oldest
    first; weighted is closed won + the open weighted amount. Snapshots without the period are
    left out."""
    if snapshots is None or len(snapshots) == 0 or figures is None or len(figures) == 0:
        return _no_frame(TREND_COLUMNS)
    totals = figures[(figures["period"] == period) & (figures["team"].fillna("") == "") & (figures["owner"].fillna("") == "")]
    rows = snapshots[["id", "as_of"]].merge(totals, left_on="id", right_on="snapshot_id", how="inner")
    rows = rows.sort_values(["as_of", "id"], kind="stable")
    number = {c: pd.to_numeric(rows[c], errors="coerce").astype(float) if c in rows else pd.Series(np.nan, index=rows.index)
              for c in ("weighted", "commit", "p50", "quota", "closed_won")}
    return pd.DataFrame({
        "snapshot": rows["id"].astype(int).to_numpy(),
        "as_of": pd.to_datetime(rows["as_of"]).to_numpy(),
        "weighted": (number["closed_won"].fillna(0.0) + number["weighted"].fillna(0.0)).to_numpy(),
        "commit": number["commit"].to_numpy(),
        "p50": number["p50"].to_numpy(),
        "quota": number["quota"].to_numpy(),
        "closed_won": number["closed_won"].to_numpy(),
    }).reset_index(drop=True)


def accuracy_chart(scored: pd.DataFrame) -> pd.DataFrame:
    """Per closed period: actual won and the total weighted, commit and P50 forecasts at the
    earliest point scored (its start where a snapshot was there by then, else the longest
    lead): ``CHART_COLUMNS``, the point as its code (``start``, ``90d``); a forecast that
    point did not have is blank."""
    if scored is None or len(scored) == 0:
        return _no_frame(CHART_COLUMNS)
    totals = scored[scored["level"] == "total"]
    rank = totals["lead_days"].fillna(10**6).astype(int)
    earliest = totals[rank.to_numpy() == rank.groupby(totals["period"]).transform("max").to_numpy()]
    wide = earliest.pivot_table(index="period", columns="measure", values="forecast", aggfunc="first")
    first = earliest.groupby("period")[["point", "actual"]].first()
    out = pd.DataFrame({"period": first.index, "point": first["point"].to_numpy(object), "actual": first["actual"].to_numpy(float)})
    for measure in MEASURES:
        out[measure] = wide[measure].reindex(first.index).to_numpy(float) if measure in wide else np.nan
    return out.reset_index(drop=True)


def flow_total(flow: pd.DataFrame, change: str, period: str | None = None, owner: str | None = None,
               team: str | None = None, deals: bool = False) -> float:
    """One change's amount (or deals) in a flow table: the total rows (owner and team "")
    unless an owner or team is given, over every period unless one is."""
    rows = flow[flow["change"] == change]
    if period:
        rows = rows[rows["period"] == period]
    if owner or team:
        rows = rows[(rows["owner"] != "") | (rows["team"] != "")]
        if owner:
            rows = rows[rows["owner"] == owner]
        if team:
            rows = rows[rows["team"] == team]
    else:
        rows = rows[(rows["owner"] == "") & (rows["team"] == "")]
    column = "deals" if deals else "amount"
    return float(pd.to_numeric(rows[column], errors="coerce").fillna(0.0).sum())


def period_accuracy(scored: pd.DataFrame, period: str, measure: str = "weighted", point: str = "start",
                    owner: str | None = None, team: str | None = None) -> float:
    """The accuracy of one period's forecast at one point (total, or an owner's or team's);
    NaN where it was not scored (no snapshot by then, or nothing won)."""
    level = "owner" if owner else "team" if team else "total"
    rows = scored[(scored["period"] == period) & (scored["measure"] == measure) & (scored["point"] == point)
                  & (scored["level"] == level)]
    if owner:
        rows = rows[rows["owner"] == owner]
    if team:
        rows = rows[rows["team"] == team]
    return float(rows["accuracy"].iloc[0]) if len(rows) else float("nan")


# --- the report's tables, in the book's language -------------------------------------------

def _words(values: pd.Series, prefix: str, language: str) -> pd.Series:
    return values.map(lambda v: catalog.text(f"{prefix}.{v}", language) if isinstance(v, str) and catalog.has(f"{prefix}.{v}")
                      else v)


def _point_words(points: pd.Series, language: str) -> pd.Series:
    def said(point):
        if point == "start":
            return catalog.text("accuracy.point.start", language)
        return catalog.text("accuracy.point.lead", language, days=str(point).rstrip("d"))
    return points.map(said)


def _total_words(frame: pd.DataFrame, language: str) -> pd.DataFrame:
    # A total row's blank owner reads as "(total)", as the command line prints it.
    total = catalog.text("flow.total", language)
    return frame.assign(owner=[total if o == "" and t == "" else o for o, t in zip(frame["owner"], frame["team"])])


def _note(snapshots: int, note: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"snapshots": [int(snapshots)], "note": note})


def history_tables(history: History | None, settings: Settings, actuals: pd.DataFrame, stages: pd.DataFrame,
                   ) -> dict[str, pd.DataFrame]:
    """The report's history tables (``HISTORY_TABLES``) and ``deal_history``, in the book's language.

    Args:
        history: what the store holds, or None (no store).
        settings: the period, as-of day, language and accuracy lead times.
        actuals: what was won per period, team and owner (``period``, ``team``, ``owner``,
            ``closed_won``; total rows with team and owner ""): today's analysis.
        stages: the stage scheme (for the step-backs).
    """
    language = settings.language
    lead = settings.lead_days()
    out = {
        # The waterfall keeps its twelve rows (all 0 without history): its chart plots twelve.
        "pipeline_flow": _no_frame(FLOW_COLUMNS),
        "flow_chart": waterfall(_no_frame(FLOW_COLUMNS), "").assign(change=lambda f: _words(f["change"], "flow.change", language)),
        "forecast_trend": _no_frame(TREND_COLUMNS),
        "forecast_accuracy": _no_frame(("period", "point", "as_of", "level", "team", "owner", "measure", "forecast",
                                        "actual", "error", "accuracy", "bias", "p10", "p90", "in_range")),
        "accuracy_summary": _no_frame(("point", "level", "team", "owner", "measure", "periods", "mean_accuracy", "mape",
                                       "wape", "mean_bias", "range_periods", "in_range_share")),
        "accuracy_chart": _no_frame(CHART_COLUMNS), "push_rates": _no_frame(PUSH_RATE_COLUMNS),
        "deal_history": _no_frame(DEAL_HISTORY_COLUMNS),
    }
    if history is None:  # no store: as a store without snapshots
        history = History()
    if history.problem:
        out["history_note"] = _note(0, [catalog.text("note.history.unreadable", language, problem=history.problem)])
        return out
    window = default_window(history.snapshots, settings)
    if window is None:
        out["history_note"] = _note(0, [catalog.text("note.history.no_snapshots", language)])
        return out
    first, second = window
    current = period_of(pd.Timestamp(second["as_of"]).date(), settings)
    flow = pipeline_flow(history.state(int(first["id"])), history.state(int(second["id"])), settings)
    out["flow_chart"] = waterfall(flow, current).assign(change=lambda f: _words(f["change"], "flow.change", language))
    # The sheet shows what moved (start and end always): a change of no deal and no amount adds nothing.
    moved = flow[(flow["deals"] != 0) | (flow["amount"] != 0) | flow["change"].isin(["start", "end"])]
    out["pipeline_flow"] = _total_words(moved.assign(change=_words(moved["change"], "flow.change", language)), language)
    out["forecast_trend"] = forecast_trend(history.snapshots, history.figures, current)
    scored = forecast_accuracy(history.snapshots, history.figures, settings, settings.as_of, actuals, lead)
    summary = accuracy_summary(scored)
    chart = accuracy_chart(scored)
    out["accuracy_chart"] = chart.assign(point=_point_words(chart["point"], language)) if len(chart) else chart
    for name, frame in (("forecast_accuracy", scored), ("accuracy_summary", summary)):
        if len(frame):
            frame = _total_words(frame.assign(point=_point_words(frame["point"], language),
                                              level=_words(frame["level"], "accuracy.level", language),
                                              measure=_words(frame["measure"], "accuracy.measure", language)), language)
        out[name] = frame
    dealt = deal_history(history.versions, history.snapshots, stages, settings.as_of)
    out["deal_history"] = dealt
    out["push_rates"] = push_rates(dealt)
    periods = scored["period"].nunique() if len(scored) else 0
    key = "note.history.window" if int(first["id"]) != int(second["id"]) else "note.history.one_snapshot"
    said = {"period": current, "first": int(first["id"]), "second": int(second["id"]),
            "first_date": pd.Timestamp(first["as_of"]).strftime("%Y-%m-%d"),
            "second_date": pd.Timestamp(second["as_of"]).strftime("%Y-%m-%d"), "snapshots": len(history.snapshots),
            "periods": periods}
    out["history_note"] = _note(len(history.snapshots), [catalog.text(
        key, language, **{name: value for name, value in said.items() if name in catalog.fields(catalog.entry(key)[0])})])
    return out


def history_from_frames(versions: pd.DataFrame, snapshots: pd.DataFrame, figures: dict[int, pd.DataFrame] | pd.DataFrame,
                        where: str = "") -> History:
    """A ``History`` from what a store's reads give: figures per snapshot id, or one frame."""
    if isinstance(figures, dict):
        parts = [frame.assign(snapshot_id=int(i)) for i, frame in figures.items() if len(frame)]
        figures = pd.concat(parts, ignore_index=True) if parts else _no_frame((*FIGURE_COLUMNS, "snapshot_id"))
    return History(versions=versions, snapshots=snapshots, figures=figures, where=where)

