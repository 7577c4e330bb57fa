"""Forecast accuracy: how close the recorded forecasts came to what was won.

For every closed period (it ended before the as-of date) the forecast is taken as it stood
at fixed points: the period's start and ``lead_days`` before its end (30 / 60 / 90 by
default). The forecast at a point is the one the latest snapshot on or before that day
recorded; a point with no snapshot by then has no row. Three forecasts are scored:

    weighted   closed won + the open weighted amount (the expected outcome)
    commit     the cumulative commit (closed won + open Commit)
    p50        the range forecast's median (period totals only)

against the actual won amount of the period (``closed_won`` of the actuals: by default the
latest snapshot's figures). Per row, HubSpot's formula and the bias::

    accuracy = max(0, 1 - |A - F| / A)      blank when A = 0
    bias     = (F - A) / A                   blank when A = 0

and over the periods (per point, level, team, owner and measure)::

    MAPE = mean(|A - F| / A)   over the periods with A > 0
    WAPE = sum|A - F| / sum A
    mean bias = mean((F - A) / A) over the periods with A > 0

The range is checked too: per period total, whether the actual fell inside P10-P90 at that
point; over the periods, the share that did (a calibrated 80% range: near 80%).

Levels: ``owner`` rows (team and owner), ``team`` rows (the team's owners summed, owner
"") and the ``total`` row (team and owner ""). An owner or team the forecast had no row
for forecast 0; one the actuals have no row for won 0.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from funnel.inputs.periods import NO_CLOSE_DATE, period_start
from funnel.inputs.settings import Settings

__all__ = ["MEASURES", "ACCURACY_COLUMNS", "SUMMARY_COLUMNS", "accuracy", "bias", "period_end", "forecast_points",
           "forecast_accuracy", "accuracy_summary"]

MEASURES = ("weighted", "commit", "p50")
ACCURACY_COLUMNS = ("period", "point", "lead_days", "as_of", "level", "team", "owner", "measure", "forecast", "actual",
                    "error", "accuracy", "bias", "p10", "p90", "in_range")
SUMMARY_COLUMNS = ("point", "lead_days", "level", "team", "owner", "measure", "periods", "mean_accuracy", "mape", "wape",
                   "mean_bias", "range_periods", "in_range_share")
_LEVELS = ("owner", "team", "total")


def accuracy(actual: float, forecast: float) -> float:
    """HubSpot's forecast accuracy, max(0, 1 - |A - F| / A); NaN when A is 0 or either is blank."""
    if actual is None or forecast is None or pd.isna(actual) or pd.isna(forecast) or actual == 0:
        return float("nan")
    return max(0.0, 1.0 - abs(actual - forecast) / abs(actual))


def bias(actual: float, forecast: float) -> float:
    """(F - A) / A: above 0 the forecast was too high; NaN when A is 0 or either is blank."""
    if actual is None or forecast is None or pd.isna(actual) or pd.isna(forecast) or actual == 0:
        return float("nan")
    return (forecast - actual) / abs(actual)


def period_end(label: str, settings: Settings) -> dt.date:
    """The last day of a period label (2026-Q1 -> 2026-03-31)."""
    months = 1 if settings.period == "month" else 3
    start = pd.Timestamp(period_start(label, settings))
    return (start + pd.DateOffset(months=months) - pd.Timedelta(days=1)).date()


def forecast_points(label: str, settings: Settings, lead_days: tuple[int, ...]) -> list[tuple[str, int | None, dt.date]]:
    """(point, lead days, day) of each point a period's forecast is scored at: ``start`` (the
    period's first day), then ``<n>d`` for each lead time, n days before the period's end."""
    end = period_end(label, settings)
    points: list[tuple[str, int | None, dt.date]] = [("start", None, period_start(label, settings))]
    for days in sorted(set(int(d) for d in lead_days), reverse=True):
        points.append((f"{days}d", days, end - dt.timedelta(days=days)))
    return points


def _empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({col: pd.Series(dtype=object) for col in columns})


def _levels(rows: pd.DataFrame, values: list[str]) -> pd.DataFrame:
    # A snapshot's (or the actuals') rows of one period as owner, team and total rows, keyed
    # by (level, team, owner); the total row is the recorded one where there is one.
    owners = rows[(rows["owner"] != "") | (rows["team"] != "")]
    owner_rows = owners.groupby(["team", "owner"], sort=True)[values].sum(min_count=1).reset_index().assign(level="owner")
    team_rows = owners.groupby("team", sort=True)[values].sum(min_count=1).reset_index().assign(owner="", level="team")
    total = rows[(rows["owner"] == "") & (rows["team"] == "")]
    if len(total):
        total_rows = total[values].iloc[:1].assign(team="", owner="", level="total")
    else:
        total_rows = owners[values].sum(min_count=1).to_frame().T.assign(team="", owner="", level="total")
    out = pd.concat([owner_rows, team_rows, total_rows], ignore_index=True)
    return out.set_index(["level", "team", "owner"])


def forecast_accuracy(snapshots: pd.DataFrame, figures: pd.DataFrame, settings: Settings, as_of: dt.date,
                      actuals: pd.DataFrame | None = None, lead_days: tuple[int, ...] = (30, 60, 90)) -> pd.DataFrame:
    """Every closed period's forecasts at each point, scored against the actual won amount.

    Args:
        snapshots: the book's snapshots (``id``, ``as_of``), as the store lists them.
        figures: the forecast figures of those snapshots (``FIGURE_COLUMNS`` and
            ``snapshot_id``).
        settings: the period and fiscal year.
        as_of: today: a period is closed when it ended before this day.
        actuals: what was won: ``period``, ``team``, ``owner``, ``closed_won`` rows as the
            figures have them (total rows with team and owner ""); None: the latest
            snapshot's figures.
        lead_days: the lead times before a period's end.

    Returns:
        ``ACCURACY_COLUMNS``, by period, point (start first, then the longest lead), level
        (owner, team, total), team, owner and measure; p10, p90 and in_range only on the
        total rows of p50.
    """
    if snapshots is None or len(snapshots) == 0 or figures is None or len(figures) == 0:
        return _empty(ACCURACY_COLUMNS)
    snaps = snapshots.assign(as_of=pd.to_datetime(snapshots["as_of"]).dt.date).sort_values(["as_of", "id"], kind="stable")
    figures = figures.assign(team=figures["team"].fillna("").astype(str), owner=figures["owner"].fillna("").astype(str))
    if actuals is None:
        actuals = figures[figures["snapshot_id"] == snaps["id"].iloc[-1]]
    actuals = actuals.assign(team=actuals["team"].fillna("").astype(str), owner=actuals["owner"].fillna("").astype(str))
    periods = sorted({p for p in actuals["period"].astype(str) if p != NO_CLOSE_DATE and period_end(p, settings) < as_of})
    rows = []
    first_day = snaps["as_of"].iloc[0]
    for period in periods:
        points = forecast_points(period, settings, lead_days)
        if first_day > max(day for _, _, day in points):
            continue  # over before the first snapshot: nothing recorded to score
        actual = _levels(actuals[actuals["period"] == period], ["closed_won"])["closed_won"].fillna(0.0)
        for point, lead, day in points:
            taken = snaps[snaps["as_of"] <= day]
            if taken.empty:
                continue
            snap = taken.iloc[-1]
            recorded = figures[(figures["snapshot_id"] == snap["id"]) & (figures["period"] == period)]
            cols = ["weighted", "commit", "closed_won", "p10", "p50", "p90"]
            if recorded.empty:
                said = pd.DataFrame(columns=cols, index=pd.MultiIndex.from_tuples([], names=["level", "team", "owner"]))
            else:
                said = _levels(recorded.assign(**{c: pd.to_numeric(recorded[c], errors="coerce") for c in cols}), cols)
            keys = said.index.union(actual.index)
            said, got = said.reindex(keys), actual.reindex(keys).fillna(0.0).to_numpy(float)
            level = keys.get_level_values("level").to_numpy(object)
            values = {c: said[c].to_numpy(float) for c in cols}
            for measure in MEASURES:
                if measure == "weighted":
                    forecast = np.nan_to_num(values["closed_won"]) + np.nan_to_num(values["weighted"])
                    keep = np.ones(len(keys), dtype=bool)
                elif measure == "commit":
                    forecast, keep = np.nan_to_num(values["commit"]), np.ones(len(keys), dtype=bool)
                else:
                    # The range's median on the totals; a period the snapshot's range left out
                    # has none (a snapshot without the period at all forecast 0).
                    forecast = values["p50"] if len(recorded) else np.zeros(len(keys))
                    keep = (level == "total") & ~np.isnan(forecast)
                if not keep.any():
                    continue
                f, a = forecast[keep], got[keep]
                p10 = values["p10"][keep] if measure == "p50" else np.full(len(f), np.nan)
                p90 = values["p90"][keep] if measure == "p50" else np.full(len(f), np.nan)
                known = ~(np.isnan(p10) | np.isnan(p90))
                inside = [bool(lo <= x <= hi) if k else None for lo, x, hi, k in zip(p10, a, p90, known)]
                with np.errstate(divide="ignore", invalid="ignore"):
                    acc = np.where(a != 0, np.maximum(0.0, 1.0 - np.abs(a - f) / np.abs(a)), np.nan)
                    off = np.where(a != 0, (f - a) / np.abs(a), np.nan)
                rows.append(pd.DataFrame({
                    "period": period, "point": point, "lead_days": lead, "as_of": snap["as_of"], "level": level[keep],
                    "team": keys.get_level_values("team")[keep], "owner": keys.get_level_values("owner")[keep],
                    "measure": measure, "forecast": f, "actual": a, "error": f - a, "accuracy": acc, "bias": off,
                    "p10": p10, "p90": p90, "in_range": pd.Series(inside, dtype=object)}))
    if not rows:
        return _empty(ACCURACY_COLUMNS)
    out = pd.concat(rows, ignore_index=True).loc[:, list(ACCURACY_COLUMNS)]
    out["lead_days"] = pd.array([None if pd.isna(v) else int(v) for v in out["lead_days"]], dtype="Int64")
    out["as_of"] = pd.to_datetime(out["as_of"])
    order = {name: i for i, name in enumerate(_LEVELS)}
    measure_order = {name: i for i, name in enumerate(MEASURES)}
    point_rank = out["lead_days"].fillna(10**6).astype(int)
    out = out.assign(_p=-point_rank, _l=out["level"].map(order), _m=out["measure"].map(measure_order))
    out = out.sort_values(["period", "_p", "_l", "team", "owner", "_m"], kind="stable").drop(columns=["_p", "_l", "_m"])
    return out.reset_index(drop=True)


def accuracy_summary(scored: pd.DataFrame) -> pd.DataFrame:
    """Over the periods: per point, level, team, owner and measure, how good the forecasts were.

    Args:
        scored: ``forecast_accuracy`` output.

    Returns:
        ``SUMMARY_COLUMNS``: periods (scored periods with an actual above 0), mean_accuracy,
        mape, wape (sum|A - F| / sum A over every scored period; blank when sum A = 0),
        mean_bias; range_periods and in_range_share (the share of periods whose actual fell
        inside P10-P90) on the total rows of p50.
    """
    if scored is None or len(scored) == 0:
        return _empty(SUMMARY_COLUMNS)
    frame = scored.assign(lead_key=scored["lead_days"].fillna(-1).astype(int))
    rows = []
    for (point, lead_key, level, team, owner, measure), group in frame.groupby(
            ["point", "lead_key", "level", "team", "owner", "measure"], sort=False):
        a, f = group["actual"].to_numpy(float), group["forecast"].to_numpy(float)
        positive = a > 0
        ape = np.abs(a - f)[positive] / a[positive]
        total_a = a.sum()
        checked = group["in_range"].dropna()
        rows.append((point, None if lead_key < 0 else lead_key, level, team, owner, measure, int(positive.sum()),
                     float(group["accuracy"][positive].mean()) if positive.any() else np.nan,
                     float(ape.mean()) if positive.any() else np.nan,
                     float(np.abs(a - f).sum() / total_a) if total_a > 0 else np.nan,
                     float(((f - a)[positive] / a[positive]).mean()) if positive.any() else np.nan,
                     int(len(checked)) if measure == "p50" and level == "total" else None,
                     float(checked.astype(bool).mean()) if len(checked) else np.nan))
    out = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    out["lead_days"] = out["lead_days"].astype("Int64")
    out["range_periods"] = out["range_periods"].astype("Int64")
    order = {name: i for i, name in enumerate(_LEVELS)}
    measure_order = {name: i for i, name in enumerate(MEASURES)}
    out = out.assign(_p=-out["lead_days"].fillna(10**6).astype(int), _l=out["level"].map(order),
                     _m=out["measure"].map(measure_order))
    return out.sort_values(["_p", "_l", "team", "owner", "_m"], kind="stable").drop(columns=["_p", "_l", "_m"]).reset_index(drop=True)
