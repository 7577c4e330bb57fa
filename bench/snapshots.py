"""Benchmark: the snapshot store (``workbook.store``) on SQLite, against pandas and DuckDB.

Builds ``--deals`` synthetic deals (``deals``), then, in one temporary folder:

* snapshot: a store already holding one snapshot of the deals records the next, in which
  ``--changed`` (5%) of them changed a tracked field (stage, amount or close date); timed
  over ``--repeat`` fresh stores, median. References in the same run: the same change
  detection as a pandas merge of the two states in memory (nothing written), and DuckDB
  taking the new state into a table and finding the changed rows with one join.
* flow: the pipeline flow between the two snapshots, read from the store
  (``Store.states`` of the two, ``funnel.snapshots.pipeline_flow``: what ``funnel flow`` does); reference: the same two
  states handed to ``pipeline_flow`` from memory.
* store: 52 weekly snapshots of the deals, each week ``--changed`` of them changed, and
  the file's size at the end.

The store's answers are checked against the in-memory reference rule before any time is
printed. CPU time (``time.process_time``) is shown beside wall time: the machine may be busy.
Last line: snapshot_s=<median s> flow_s=<median s> store_mb=<MB>

    python bench/snapshots.py [--deals 100000] [--changed 0.05] [--repeat 3] [--weeks 52]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from funnel.inputs.settings import Settings  # noqa: E402
from funnel.snapshots import TRACKED, changes, forecast_figures, normalized, pipeline_flow  # noqa: E402
from workbook.store import Store, default_url  # noqa: E402

STAGES = ("Prospect", "Qualify", "Propose", "Negotiate", "Won", "Lost")
OWNERS = tuple(f"Owner {i:02d}" for i in range(40))
TEAMS = ("East", "West", "North", "South")
START = dt.date(2026, 1, 5)


def deals(n: int, seed: int = 7) -> pd.DataFrame:
    """n deals' tracked fields (``funnel.snapshots.TRACKED``), a few blanks among them."""
    rng = np.random.default_rng(seed)
    stage = rng.choice(len(STAGES), n, p=[0.3, 0.25, 0.15, 0.1, 0.1, 0.1])
    amount = rng.lognormal(10, 1, n).round(2)
    amount[rng.random(n) < 0.01] = np.nan
    close = pd.Timestamp(START) + pd.to_timedelta(rng.integers(-200, 400, n), unit="D")
    probability = np.array([0.1, 0.25, 0.5, 0.75, 1.0, 0.0])[stage]
    owner = rng.integers(0, len(OWNERS), n)
    return normalized(pd.DataFrame({
        "deal_id": [f"OPP-{i:07d}" for i in range(n)],
        "stage": np.array(STAGES, dtype=object)[stage],
        "amount": amount,
        "close_date": close,
        "owner": np.array(OWNERS, dtype=object)[owner],
        "team": np.array(TEAMS, dtype=object)[owner % len(TEAMS)],
        "forecast_category": np.where(stage >= 4, "Closed", np.where(stage >= 3, "Commit", "Pipeline")).astype(object),
        "probability": probability,
        "weighted": np.nan_to_num(amount) * probability,
        "is_open": stage < 4,
        "is_won": stage == 4,
    }))


def changed(state: pd.DataFrame, share: float, seed: int) -> pd.DataFrame:
    """The state with ``share`` of its deals changed: a third pushed a month, a third
    re-amounted, a third moved a stage on."""
    rng = np.random.default_rng(seed)
    out = state.copy()
    picked = rng.choice(len(out), int(len(out) * share), replace=False)
    kind = picked % 3
    push, amount, stage = picked[kind == 0], picked[kind == 1], picked[kind == 2]
    out.loc[push, "close_date"] = out.loc[push, "close_date"] + pd.Timedelta(days=30)
    out.loc[amount, "amount"] = (out.loc[amount, "amount"].fillna(1000.0) * 1.1).round(2)
    out.loc[stage, "stage"] = np.where(out.loc[stage, "stage"] == "Prospect", "Qualify", "Prospect")
    out["weighted"] = out["amount"].fillna(0.0) * out["probability"]
    return out


def figures(state: pd.DataFrame) -> pd.DataFrame:
    """A snapshot's forecast figures: one row per owner and a total, as a refresh has them."""
    open_ = state[state["is_open"]]
    by = open_.groupby(["owner", "team"], as_index=False).agg(open_deals=("deal_id", "size"), open_amount=("amount", "sum"),
                                                                weighted=("weighted", "sum"))
    forecast = by.assign(period="2026-Q1", pipeline=by["open_amount"], best_case=0.0, commit=0.0, won_deals=0,
                         closed_won=0.0, lost_deals=0, quota=1e6)
    totals = forecast.groupby("period", as_index=False)[["open_deals", "open_amount", "weighted", "pipeline", "best_case",
                                                         "commit", "won_deals", "closed_won", "lost_deals", "quota"]].sum()
    return forecast_figures(forecast, totals, pd.DataFrame(columns=["period", "p10", "p50", "p90"]))


def timed(work) -> tuple[float, float, object]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def pandas_changes(before: pd.DataFrame, after: pd.DataFrame) -> int:
    """The reference: changed or new deals by one pandas merge of the two states in memory."""
    both = after.merge(before, on="deal_id", how="left", suffixes=("", "_b"), indicator=True)
    differs = both["_merge"] != "both"
    for col in TRACKED:
        a, b = both[col], both[f"{col}_b"]
        differs |= ~((a == b) | (a.isna() & b.isna()))
    return int(differs.sum())


def duckdb_changes(con, after: pd.DataFrame) -> int:
    """The reference: DuckDB takes the new state into a table and joins it to the stored one."""
    con.execute("CREATE OR REPLACE TABLE now AS SELECT * FROM after")
    where = " OR ".join(f"n.{c} IS DISTINCT FROM b.{c}" for c in TRACKED)
    return con.execute(f"SELECT count(*) FROM now n LEFT JOIN before b USING (deal_id) WHERE b.deal_id IS NULL OR {where}"
                       ).fetchone()[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--weeks", type=int, default=52)
    args = parser.parse_args(argv)

    import duckdb

    first = deals(args.deals)
    second = changed(first, args.changed, seed=1)
    figures_1, figures_2 = figures(first), figures(second)
    expected = pandas_changes(first, second)
    new, _ended = changes(first, second)
    assert len(new) == expected, (len(new), expected)
    settings = Settings(as_of=START)

    rows = {"snapshot": [], "pandas merge": [], "duckdb join": [], "flow": [], "flow in memory": []}
    with tempfile.TemporaryDirectory() as folder:
        con = duckdb.connect()
        con.register("before_frame", first)
        con.execute("CREATE TABLE before AS SELECT * FROM before_frame")
        con.register("after", second)
        for i in range(args.repeat):
            url = default_url(Path(folder) / f"run{i}.xlsm")
            with Store(url) as store:
                store.record("bench", START, first, figures_1)
                wall, cpu, recorded = timed(lambda: store.record("bench", START + dt.timedelta(days=7), second, figures_2))
                assert (recorded.changed, recorded.new_versions) == (expected, expected), recorded
                rows["snapshot"].append((wall, cpu))
                ids = list(store.history("bench")["id"])
                wall, cpu, flow = timed(lambda: pipeline_flow(*store.states("bench", ids[:2]), settings))
                rows["flow"].append((wall, cpu))
            wall, cpu, count = timed(lambda: pandas_changes(first, second))
            assert count == expected
            rows["pandas merge"].append((wall, cpu))
            wall, cpu, count = timed(lambda: duckdb_changes(con, second))
            assert count == expected, count
            rows["duckdb join"].append((wall, cpu))
            wall, cpu, reference = timed(lambda: pipeline_flow(first, second, settings))
            rows["flow in memory"].append((wall, cpu))
            pd.testing.assert_frame_equal(flow, reference)
        con.close()

        url = default_url(Path(folder) / "year.xlsm")
        state = first
        weekly = []
        with Store(url) as store:
            for week in range(args.weeks):
                if week:
                    state = changed(state, args.changed, seed=100 + week)
                wall, cpu, _ = timed(lambda: store.record("bench", START + dt.timedelta(days=7 * week), state,
                                                          figures(state)))
                weekly.append((wall, cpu))
            assert store.state("bench").equals(state)
            versions = len(store.versions("bench"))
        store_mb = Path(url.removeprefix("sqlite:///")).stat().st_size / 1e6

    med = {name: (statistics.median(w for w, _ in r), statistics.median(c for _, c in r)) for name, r in rows.items()}
    print(f"{args.deals:,} deals, {expected:,} changed ({args.changed:.0%}); median of {args.repeat}; "
          "the machine may be busy: CPU time beside wall time")
    for name, (wall, cpu) in med.items():
        print(f"  {name:<16} {wall:8.3f} s wall {cpu:8.3f} s CPU")
    print(f"  snapshot / pandas merge {med['snapshot'][0] / med['pandas merge'][0]:.1f}x, "
          f"/ duckdb join {med['snapshot'][0] / med['duckdb join'][0]:.1f}x; "
          f"flow / in memory {med['flow'][0] / med['flow in memory'][0]:.1f}x")
    print(f"  {args.weeks} weekly snapshots: {versions:,} versions, {store_mb:.1f} MB; "
          f"a week's snapshot median {statistics.median(w for w, _ in weekly[1:] or weekly):.3f} s wall")
    print(f"snapshot_s={med['snapshot'][0]:.3f} flow_s={med['flow'][0]:.3f} store_mb={store_mb:.1f}")


if __name__ == "__main__":
    main()
