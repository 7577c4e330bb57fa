"""Benchmark: the full engine on 100k deals / ~1M stage-history rows, against references.

Times, in one run on the same data:
- ours: the full engine (validation plus every output table), median of several runs;
- the weighted-pipeline and empirical-conversion aggregates three ways: our pandas
  functions, the same aggregates as DuckDB SQL, and a plain per-row Python loop.
All three aggregate implementations are checked to agree before any ratio is printed.

Last line: compute_s=<median s> ratio_vs_duckdb=<ours/duckdb> ratio_vs_loop=<loop/ours>
Run: python bench/engine.py [--deals 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import duckdb
import numpy as np

from funnel.deals import deal_table
from funnel.demo import demo_tables
from funnel.engine import run
from funnel.forecast import weighted_pipeline
from funnel.stages import stage_probabilities
from funnel.validate import validate


def _median_time(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def ours(deals, history, stages, quotas, k):
    return (weighted_pipeline(deals, quotas, ["period", "team", "owner"]),
            stage_probabilities(deals, history, stages, k))


def duckdb_version(con):
    pipeline = con.execute("""
        SELECT period, team, owner,
               sum(CASE WHEN is_open THEN 1 ELSE 0 END) AS open_deals,
               sum(CASE WHEN is_open THEN coalesce(amount, 0) ELSE 0 END) AS open_amount,
               sum(CASE WHEN is_open THEN weighted ELSE 0 END) AS weighted,
               sum(CASE WHEN is_won THEN coalesce(amount, 0) ELSE 0 END) AS closed_won
        FROM deals GROUP BY ALL ORDER BY ALL
    """).df()
    conversion = con.execute("""
        WITH open_stages AS (SELECT code, "order" FROM stages WHERE NOT is_won AND NOT is_lost),
        bounds AS (SELECT min("order") AS first, max("order") AS last FROM open_stages),
        hist AS (SELECT h.opportunity_id, max(s."order") AS furthest
                 FROM history h JOIN open_stages s ON h.stage = s.code GROUP BY 1),
        reached AS (
            SELECT d.id, d.is_won, d.is_won OR d.is_lost AS is_closed,
                   CASE WHEN d.is_won THEN b.last
                        ELSE coalesce(greatest(s."order", hist.furthest), s."order", hist.furthest, b.first) END AS furthest
            FROM deals d CROSS JOIN bounds b
            LEFT JOIN open_stages s ON d.stage = s.code
            LEFT JOIN hist ON hist.opportunity_id = d.id)
        SELECT s.code, sum(CASE WHEN r.is_closed THEN 1 ELSE 0 END) AS reached_closed,
               sum(CASE WHEN r.is_won THEN 1 ELSE 0 END) AS reached_won
        FROM open_stages s JOIN reached r ON r.furthest >= s."order"
        GROUP BY s.code ORDER BY s.code
    """).df()
    return pipeline, conversion


def loop_version(deals, history, stages):
    order = dict(zip(stages["code"], stages["order"]))
    open_codes = {c for c, w, l in zip(stages["code"], stages["is_won"], stages["is_lost"]) if not (w or l)}
    first = min(order[c] for c in open_codes)
    last = max(order[c] for c in open_codes)
    furthest = {}
    for opp, stage in zip(history["opportunity_id"].tolist(), history["stage"].tolist()):
        if stage in open_codes:
            o = order[stage]
            if o > furthest.get(opp, 0):
                furthest[opp] = o
    groups = {}
    closed_at, won_at = {}, {}
    for rec in deals[["id", "stage", "period", "team", "owner", "amount", "weighted", "is_open", "is_won", "is_lost"]].itertuples(index=False):
        key = (rec.period, rec.team, rec.owner)
        g = groups.setdefault(key, [0, 0.0, 0.0, 0.0])
        amount = 0.0 if rec.amount != rec.amount else rec.amount
        if rec.is_open:
            g[0] += 1
            g[1] += amount
            g[2] += rec.weighted
        if rec.is_won:
            g[3] += amount
        reach = last if rec.is_won else max(furthest.get(rec.id, 0), order[rec.stage] if rec.stage in open_codes else 0) or first
        if rec.is_won or rec.is_lost:
            closed_at[reach] = closed_at.get(reach, 0) + 1
            if rec.is_won:
                won_at[reach] = won_at.get(reach, 0) + 1
    conversion = {}
    for code in open_codes:
        o = order[code]
        conversion[code] = (sum(v for k, v in closed_at.items() if k >= o), sum(v for k, v in won_at.items() if k >= o))
    return groups, conversion


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    started = time.perf_counter()
    raw = demo_tables(args.deals, scheme="seven_stage", rework=0.35, stage_days=0.15, loss_rate=0.1)
    print(f"generated {len(raw['opportunities']):,} deals and {len(raw['stage_history']):,} stage-history rows "
          f"in {time.perf_counter() - started:.1f} s")

    compute_s, report = _median_time(lambda: run(raw), args.repeat)
    validate_s, inputs = _median_time(lambda: validate(raw), args.repeat)
    print(f"full engine (validation + every table): median {compute_s:.3f} s; validation alone {validate_s:.3f} s; "
          f"{len(report['issues']):,} issues")

    s = inputs.settings
    probabilities = stage_probabilities(inputs.opportunities, inputs.stage_history, inputs.stages, s.prior_strength)
    deals = deal_table(inputs.opportunities, inputs.stages, probabilities, s)
    history, stages, quotas = inputs.stage_history, inputs.stages, inputs.quotas

    ours_s, (pipe, conv) = _median_time(lambda: ours(deals, history, stages, quotas, s.prior_strength), args.repeat)
    con = duckdb.connect()
    con.register("deals", deals[["id", "stage", "period", "team", "owner", "amount", "weighted", "is_open", "is_won", "is_lost"]])
    con.register("history", history)
    con.register("stages", stages[["code", "order", "is_won", "is_lost"]])
    duck_s, (dpipe, dconv) = _median_time(lambda: duckdb_version(con), args.repeat)
    loop_s, (lgroups, lconv) = _median_time(lambda: loop_version(deals, history, stages), max(1, args.repeat // 2))

    # The three must agree before their times mean anything.
    with_deals = pipe[(pipe["open_deals"] + pipe["won_deals"] + pipe["lost_deals"]) > 0]
    assert np.isclose(pipe["weighted"].sum(), dpipe["weighted"].sum()) and len(with_deals) == len(dpipe) == len(lgroups)
    assert np.isclose(pipe["open_amount"].sum(), sum(g[1] for g in lgroups.values()))
    ours_conv = conv.set_index("code")
    for code, closed, won in dconv.itertuples(index=False):
        assert (ours_conv.loc[code, "reached_closed"], ours_conv.loc[code, "reached_won"]) == (closed, won) == lconv[code], code

    print(f"aggregates (weighted pipeline + empirical conversion): ours {ours_s:.3f} s, "
          f"duckdb {duck_s:.3f} s, python loop {loop_s:.3f} s")
    print(f"compute_s={compute_s:.3f} ratio_vs_duckdb={ours_s / duck_s:.2f} ratio_vs_loop={loop_s / ours_s:.1f}")


if __name__ == "__main__":
    main()
