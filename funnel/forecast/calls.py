"""Forecast calls rolled up the reports-to hierarchy, beside the system's forecast.

Each person (a rep, a manager, a director) submits a *call* per period and category: the
amount they commit to. A manager's call is compared with the sum of the calls of their
direct reports; the difference is the manager's adjustment. Beside it stand the system's
figures (``funnel.forecast.pipeline``) summed over everyone below the person.

Calls follow Salesforce's cumulative convention, as the system's figures do: a commit call
is closed won + open commit; a best case call is closed won + commit + best case. A
pipeline call is the open pipeline alone.

A level's P50 is the range forecast's (``funnel.forecast.ranges``) over the deals of the
person's whole subtree: closed won below the person plus the median of the sum of their
open deals, each closing with its used probability. It is not the sum of the reports'
P50s: medians do not add (two reps each at even odds on one deal have a P50 of nothing
each, their manager one deal's amount or more).

The hierarchy comes from (person, manager) pairs. Problems in it are reported and worked
around, never fatal: a person listed twice keeps the first manager; a manager not listed
as a person stands at the top; a cycle (A reports to B, B to A) is cut at the row that
closes it, whose person then stands at the top.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnel.forecast.ranges import open_total
from funnel.inputs.contract import CALL_CATEGORIES as _CALLED
from funnel.inputs.issues import IssueLog, words

__all__ = ["ROLLUP_COLUMNS", "SYSTEM_COLUMNS", "CALL_CATEGORIES", "call_rollup", "hierarchy", "subtree_p50"]

# The system's figures summed over a person's subtree.
SYSTEM_COLUMNS = ("closed_won", "commit", "best_case", "weighted")
# The call categories and the column of each person's own call.
CALL_CATEGORIES = {category: category.lower().replace(" ", "_") + "_call" for category in _CALLED}
ROLLUP_COLUMNS = (
    "period", "person", "manager", "level", *SYSTEM_COLUMNS, "p50",
    "commit_call", "commit_below", "commit_adjustment",
    "best_case_call", "best_case_below", "best_case_adjustment",
    "pipeline_call",
)


def _empty() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.Series(dtype=float) for c in ROLLUP_COLUMNS})
    for c in ("period", "person", "manager"):
        out[c] = out[c].astype(object)
    out["level"] = out["level"].astype(int)
    return out


def _name(value: object) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value).strip()
    return text or None


def hierarchy(people: pd.DataFrame, log: IssueLog | None = None) -> dict[str, str | None]:
    """Each person's manager (None at the top), problems reported to ``log``.

    ``people`` has columns person and manager; its index is the row the user sees. Every
    manager is a person of the result too.
    """
    log = log if log is not None else IssueLog()
    manager_of: dict[str, str | None] = {}
    row_of: dict[str, object] = {}
    for row, person, manager in zip(people.index, people["person"], people["manager"]):
        person, manager = _name(person), _name(manager)
        if person is None:
            continue  # validation reported it and left the row out
        if person in manager_of:
            log.add("people", row, "person", person, words("issue.people.twice", person=person), words("issue.action.later_row_left_out"))
            continue
        manager_of[person] = manager
        row_of[person] = row
    # A manager nobody lists as a person: at the top, said once (at the first row naming them).
    for person in list(manager_of):
        manager = manager_of[person]
        if manager is not None and manager not in manager_of:
            manager_of[manager] = None
            log.add("people", row_of[person], "manager", manager, words("issue.people.manager_not_listed", manager=manager),
                    words("issue.action.top_of_hierarchy"))
    # Cycles: walk up from each person; a walk that meets itself is cut at the member whose
    # row comes last (the row that closed the loop).
    done: set[str] = set()
    for start in list(manager_of):
        path: list[str] = []
        on_path: set[str] = set()
        node: str | None = start
        while node is not None and node not in done and node not in on_path:
            path.append(node)
            on_path.add(node)
            node = manager_of[node]
        if node is not None and node in on_path:
            loop = path[path.index(node):]
            cut = max(loop, key=lambda p: _row_key(row_of.get(p)))
            log.add("people", row_of.get(cut), "manager", manager_of[cut],
                    words("issue.people.cycle", loop=" → ".join([*loop, loop[0]])),
                    words("issue.action.cycle_cut"))
            manager_of[cut] = None
        done.update(path)
    return manager_of


def _row_key(row: object) -> float:
    try:
        return float(row)
    except (TypeError, ValueError):
        return -np.inf


def _latest_calls(calls: pd.DataFrame) -> pd.DataFrame:
    """Each (period, owner, category)'s latest call: by submitted_on, a later row winning a tie
    (an undated call counts as the earliest)."""
    frame = pd.DataFrame({
        "period": calls["period"].astype(object).to_numpy(),
        "owner": [_name(o) for o in calls["owner"]],
        "category": calls["category"].astype(object).to_numpy(),
        "amount": pd.to_numeric(calls["amount"], errors="coerce").to_numpy(dtype=float),
        "submitted_on": pd.to_datetime(calls["submitted_on"]).to_numpy(),
        "position": np.arange(len(calls)),
    })
    frame = frame[frame["owner"].notna() & frame["period"].notna() & frame["amount"].notna()
                  & frame["category"].isin(list(CALL_CATEGORIES))]
    frame = frame.sort_values(["submitted_on", "position"], na_position="first", kind="stable")
    latest = frame.groupby(["period", "owner", "category"], sort=False).tail(1)
    wide = latest.pivot(index=["period", "owner"], columns="category", values="amount")
    return wide.reindex(columns=list(CALL_CATEGORIES)).rename(columns=CALL_CATEGORIES)


def subtree_p50(deals: pd.DataFrame, owners: list[str]) -> float:
    """The range forecast's P50 over the deals of ``owners`` (one period's deals): closed won
    plus the median of the open deals' total, each deal closing with its used probability.

    Args:
        deals: one period's deal table rows: owner, amount, is_open, is_won, used_probability.
        owners: the people of a subtree.
    """
    return _SubtreeP50(deals)(owners)


class _SubtreeP50:
    """``subtree_p50`` for many subtrees of one period's deals: each owner's deals split out
    once (not filtered again per subtree), and a subtree whose open deals are another's (a
    manager above one active rep) reuses its distribution."""

    def __init__(self, deals: pd.DataFrame) -> None:
        amount = deals["amount"].fillna(0.0).to_numpy(dtype=float)
        is_open = deals["is_open"].to_numpy(dtype=bool)
        won = np.where(deals["is_won"].to_numpy(dtype=bool), amount, 0.0)
        probability = deals["used_probability"].to_numpy(dtype=float)
        owner = deals["owner"].astype(object).to_numpy()
        self.won: dict[object, float] = {}
        self.open: dict[object, tuple[np.ndarray, np.ndarray]] = {}
        codes, names = pd.factorize(owner)
        for code, name in enumerate(names):
            rows = codes == code
            self.won[name] = float(won[rows].sum())
            mine = rows & is_open
            if mine.any():
                self.open[name] = (amount[mine], probability[mine])
        self.medians: dict[tuple, float] = {}

    def __call__(self, owners: list[str]) -> float:
        won = float(sum(self.won.get(o, 0.0) for o in owners))
        active = tuple(sorted({o for o in owners if o in self.open}, key=str))
        if not active:
            return won
        if active not in self.medians:
            amounts = np.concatenate([self.open[o][0] for o in active])
            probabilities = np.concatenate([self.open[o][1] for o in active])
            self.medians[active] = float(open_total(amounts, probabilities).quantile(0.5))
        return won + self.medians[active]


def call_rollup(calls: pd.DataFrame, people: pd.DataFrame, system: pd.DataFrame, log: IssueLog | None = None,
                deals: pd.DataFrame | None = None) -> pd.DataFrame:
    """The calls and the system's figures, per period and person, along the hierarchy.

    Args:
        calls: period, owner, category (Commit, Best Case or Pipeline), amount, submitted_on
            (the latest call of a person, period and category counts).
        people: person, manager (reports-to); its index is the row the user sees.
        system: the forecast by period and owner (``weighted_pipeline`` by period, team,
            owner): closed_won, commit, best_case, weighted, cumulative as calls are.
        log: where the hierarchy's problems go.
        deals: the deal table (period, owner, amount, is_open, is_won, used_probability)
            for each level's P50 (``subtree_p50``); None leaves p50 blank.

    Returns:
        One row per period and person whose subtree has a figure (not all zero: a quota
        alone is none) or a call that period, each period's people top-down (a manager,
        then each report and theirs, by name), with ``ROLLUP_COLUMNS``: level (0 at the top), the system's figures summed over the
        person's subtree, p50 over the subtree's deals, the person's own calls, ``<category>_below`` (the sum of the
        direct reports' calls; blank when none of them called) and ``<category>_adjustment``
        (own call − below; blank when either is blank). Empty without calls and people.
    """
    if calls.empty and people.empty:
        return _empty()
    manager_of = hierarchy(people, log)
    own = system.groupby(["period", "owner"], sort=True)[list(SYSTEM_COLUMNS)].sum() if not system.empty else None
    called = _latest_calls(calls) if not calls.empty else None
    for frame in (own, called):
        for owner in ([] if frame is None else frame.index.get_level_values("owner").unique()):
            manager_of.setdefault(owner, None)  # a rep with deals or a call and no People row: at the top
    reports: dict[str | None, list[str]] = {}
    for person, manager in manager_of.items():
        reports.setdefault(manager, []).append(person)
    order: list[tuple[str, int]] = []  # depth first, reports by name
    stack = [(p, 0) for p in sorted(reports.get(None, []), reverse=True)]
    while stack:
        person, level = stack.pop()
        order.append((person, level))
        stack.extend((r, level + 1) for r in sorted(reports.get(person, []), reverse=True))
    periods = sorted(set(() if own is None else own.index.get_level_values("period"))
                     | set(() if called is None else called.index.get_level_values("period")), key=str)
    by_period = {} if deals is None or deals.empty else {
        period: _SubtreeP50(rows) for period, rows in deals.groupby("period", sort=False, observed=True)}
    # Looked up per period and person below: a dict of rows, not a MultiIndex lookup each time.
    own_rows = {} if own is None else dict(zip(own.index, own.to_numpy(dtype=float)))
    called_rows = {} if called is None else {key: dict(zip(called.columns, values))
                                             for key, values in zip(called.index, called.to_numpy(dtype=float).tolist())}
    rows = []
    for period in periods:
        figures = {p: own_rows[(period, p)] if (period, p) in own_rows else np.zeros(len(SYSTEM_COLUMNS)) for p, _ in order}
        # A period's row needs a figure or a call: a quota alone (the forecast lists it) adds none.
        has = {p: bool(figures[p].any()) for p, _ in order}
        mine = {p: called_rows.get((period, p)) for p, _ in order}
        for p, _ in order:
            has[p] = has[p] or mine[p] is not None
        # Subtree sums, reports before their managers (the reverse of top-down order).
        subtree = dict(figures)
        for p, _ in reversed(order):
            for r in reports.get(p, []):
                subtree[p] = subtree[p] + subtree[r]
                has[p] = has[p] or has[r]
        # Each person's subtree: themselves and everyone below (reports before managers).
        team_of: dict[str, list[str]] = {}
        for p, _ in reversed(order):
            team_of[p] = [p, *(q for r in reports.get(p, []) for q in team_of[r])]
        period_p50 = by_period.get(period)
        for p, level in order:
            if not has[p]:
                continue
            row = {"period": period, "person": p, "manager": manager_of[p], "level": level,
                   **dict(zip(SYSTEM_COLUMNS, subtree[p]))}
            row["p50"] = (np.nan if deals is None else 0.0 if period_p50 is None
                          else period_p50(team_of[p]))
            for column in CALL_CATEGORIES.values():
                row[column] = np.nan if mine[p] is None else float(mine[p][column])
            for category in ("commit", "best_case"):
                below = [mine[r][f"{category}_call"] for r in reports.get(p, []) if mine[r] is not None]
                below = [b for b in below if not pd.isna(b)]
                row[f"{category}_below"] = float(sum(below)) if below else np.nan
                row[f"{category}_adjustment"] = row[f"{category}_call"] - row[f"{category}_below"]
            rows.append(row)
    if not rows:
        return _empty()
    out = pd.DataFrame(rows, columns=list(ROLLUP_COLUMNS))
    out["level"] = out["level"].astype(int)
    return out
