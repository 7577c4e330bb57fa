"""Benchmark: the full engine on 100k deals / ~1M stage-history rows, against references.

Times, in one run, on the same data:
- the full engine (``funnel.analysis.run``: validation plus every output table) in this
  process, and with the win-model branch in a forked child (``udfs.runtime.ForkExecutor``,
  Linux only), interleaved, medians; validation alone beside them;
- the weighted-pipeline and empirical-conversion aggregates two ways, interleaved: our
  pandas functions and the same aggregates as DuckDB SQL. A plain per-row Python loop
  computes them a third way, only to check that all three agree before any ratio is
  printed (a loop is no speed reference);
- scaling: the full engine in process at 10k, 100k and 1M deals (about 10 history rows a
  deal), each size in a fresh child process so that its peak memory is its own: the
  process's peak RSS, and the peak while the engine ran (Linux: reset after the data
  was generated).

CPU times (time.process_time) are printed beside the wall times, and a line of the
main figures in CPU time before the last line.

Last line: compute_s=<in-process s> ratio_vs_duckdb=<ours/duckdb> scale_10x=<t(1M)/t(100k)> peak_gib=<at 1M>
(compute_s is the in-process median at --deals; scale_10x and peak_gib come from the
scaling children, the peak being the whole child process's.)

Run: python bench/engine.py [--deals 100000] [--repeat 5] [--scale 10000,100000,1000000]
The 1M-deal child generates its data for several minutes; --scale "" skips the scaling.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

# The checkout first, when run from it without an install.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402

from funnel.analysis import run  # noqa: E402
from funnel.demo.data import demo_tables  # noqa: E402
from funnel.forecast.deals import deal_table  # noqa: E402
from funnel.forecast.pipeline import weighted_pipeline  # noqa: E402
from funnel.forecast.stages import stage_probabilities  # noqa: E402
from funnel.inputs.validation import validate  # noqa: E402
from udfs.runtime import FORKS, ForkExecutor, collector_paused, pandas_options  # noqa: E402


def bench_tables(deals: int) -> dict:
    """The benchmark book: seven stages, long and busy histories (about 10 rows a deal)."""
    return demo_tables(deals, scheme="seven_stage", rework=0.35, stage_days=0.15, loss_rate=0.1)


def _interleaved(fns: dict, repeat: int, cpu: dict[str, list[float]] | None = None) -> dict[str, list[float]]:
    # Each round runs every function once, so a busy minute slows them all alike. Wall
    # times are returned; ``cpu`` (when given) gets each run's CPU time of this process
    # (time.process_time: all its threads, DuckDB's too), which a busy machine inflates less.
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            fn()
            times[name].append(time.perf_counter() - started)
            if cpu is not None:
                cpu.setdefault(name, []).append(time.process_time() - started_cpu)
    return times


def _summary(times: list[float]) -> str:
    return f"median {statistics.median(times):.3f} s (range {min(times):.3f}-{max(times):.3f})"


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


def _peak_gib() -> float | None:
    # This process's peak RSS since it started or since the last reset (Linux: VmHWM).
    # getrusage's ru_maxrss would not do in a child: it keeps the parent's peak at fork.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20  # kB
    except OSError:
        pass
    return None


def child(deals: int, repeat: int) -> None:
    """One scaling point, in a fresh process: prints one JSON line."""
    started = time.perf_counter()
    raw = bench_tables(deals)
    generated_s = time.perf_counter() - started
    gc.collect()
    generating_peak = _peak_gib()
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak: from here on it is the engine's
        reset = True
    except OSError:
        reset = False
    cpu: dict[str, list[float]] = {}
    times = _interleaved({"run": lambda: run(raw)}, repeat, cpu)["run"]
    engine_peak = _peak_gib() if reset else None
    if generating_peak is None:  # no /proc: the whole process's peak, as the platform counts it
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**30 if sys.platform == "darwin" else 2**20)
    else:
        peak = max(generating_peak, engine_peak or 0.0)
    print(json.dumps({
        "deals": len(raw["opportunities"]), "history": len(raw["stage_history"]), "generated_s": generated_s,
        "times": times, "cpu_times": cpu["run"], "peak_gib": peak, "engine_peak_gib": engine_peak,
    }))


def scaling(sizes: list[int], repeat: int) -> dict[int, dict]:
    found = {}
    for size in sizes:
        runs = max(1, repeat if size <= 100_000 else repeat // 2)
        done = subprocess.run([sys.executable, __file__, "--child", str(size), "--repeat", str(runs)],
                              check=True, capture_output=True, text=True)
        point = json.loads(done.stdout.strip().splitlines()[-1])
        found[size] = point
        engine_peak = f"{point['engine_peak_gib']:.2f}" if point["engine_peak_gib"] is not None else "n/a"
        print(f"scaling {point['deals']:>9,} deals / {point['history']:>10,} history rows: engine {_summary(point['times'])} (cpu {_summary(point['cpu_times'])}), "
              f"{len(point['times'])} run(s); peak RSS {point['peak_gib']:.2f} GiB (while the engine ran {engine_peak} GiB); "
              f"data generated in {point['generated_s']:.0f} s", flush=True)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scale", default="10000,100000,1000000", help="deal counts for the scaling line; empty: none")
    parser.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.repeat)
        return

    started = time.perf_counter()
    raw = bench_tables(args.deals)
    print(f"generated {len(raw['opportunities']):,} deals and {len(raw['stage_history']):,} stage-history rows "
          f"in {time.perf_counter() - started:.1f} s", flush=True)

    report = run(raw)  # warm-up, and the issue count
    engine = {"in_process": lambda: run(raw), "validation": lambda: validate(raw)}
    if FORKS:
        engine["with_children"] = lambda: run(raw, executor=ForkExecutor())

    def as_refresh():
        with collector_paused(), pandas_options():
            run(raw)

    engine["refresh_runtime"] = as_refresh
    cpu: dict[str, list[float]] = {}
    times = _interleaved(engine, args.repeat, cpu)
    compute_s = statistics.median(times["in_process"])
    print(f"full engine in process (validation + every table): {_summary(times['in_process'])}, cpu {_summary(cpu['in_process'])}; "
          f"{len(report['issues']):,} issues")
    print(f"  of which validation alone: {_summary(times['validation'])}, cpu {_summary(cpu['validation'])}")
    if FORKS:
        print(f"full engine with the win-model branch in a forked child: {_summary(times['with_children'])}")
    else:
        print("full engine with children: not on this platform (no safe fork)")
    print(f"full engine in process as a refresh runs it (collector paused, Python strings): {_summary(times['refresh_runtime'])}",
          flush=True)

    inputs = validate(raw)
    s = inputs.settings
    probabilities = stage_probabilities(inputs.opportunities, inputs.stage_history, inputs.stages, s.prior_strength)
    deals = deal_table(inputs.opportunities, inputs.stages, probabilities, s)
    history, stages, quotas = inputs.stage_history, inputs.stages, inputs.quotas
    con = duckdb.connect()
    con.register("deals", deals[["id", "stage", "period", "team", "owner", "amount", "weighted", "is_open", "is_won", "is_lost"]])
    con.register("history", history)
    con.register("stages", stages[["code", "order", "is_won", "is_lost"]])
    pipe, conv = ours(deals, history, stages, quotas, s.prior_strength)
    dpipe, dconv = duckdb_version(con)
    lgroups, lconv = loop_version(deals, history, stages)

    # The three must agree before their times mean anything.
    with_deals = pipe[(pipe["open_deals"] + pipe["won_deals"] + pipe["lost_deals"]) > 0]
    assert np.isclose(pipe["weighted"].sum(), dpipe["weighted"].sum()) and len(with_deals) == len(dpipe) == len(lgroups)
    assert np.isclose(pipe["open_amount"].sum(), sum(g[1] for g in lgroups.values()))
    ours_conv = conv.set_index("code")
    for code, closed, won in dconv.itertuples(index=False):
        assert (ours_conv.loc[code, "reached_closed"], ours_conv.loc[code, "reached_won"]) == (closed, won) == lconv[code], code

    aggregates_cpu: dict[str, list[float]] = {}
    aggregates = _interleaved({
        "ours": lambda: ours(deals, history, stages, quotas, s.prior_strength),
        "duckdb": lambda: duckdb_version(con),
    }, args.repeat, aggregates_cpu)
    ratio = statistics.median(aggregates["ours"]) / statistics.median(aggregates["duckdb"])
    ratio_cpu = statistics.median(aggregates_cpu["ours"]) / statistics.median(aggregates_cpu["duckdb"])
    print(f"aggregates (weighted pipeline + empirical conversion), checked against a per-row loop: "
          f"ours {_summary(aggregates['ours'])}, duckdb {_summary(aggregates['duckdb'])}; ours / duckdb {ratio:.2f} "
          f"(cpu: ours {_summary(aggregates_cpu['ours'])}, duckdb {_summary(aggregates_cpu['duckdb'])} over its threads; {ratio_cpu:.2f})",
          flush=True)

    sizes = [int(n) for n in args.scale.split(",") if n.strip()]
    points = scaling(sizes, args.repeat) if sizes else {}
    scale = scale_cpu = peak = float("nan")
    if 100_000 in points and 1_000_000 in points:
        scale = statistics.median(points[1_000_000]["times"]) / statistics.median(points[100_000]["times"])
        scale_cpu = statistics.median(points[1_000_000]["cpu_times"]) / statistics.median(points[100_000]["cpu_times"])
    if 1_000_000 in points:
        peak = points[1_000_000]["peak_gib"]
    # The same figures in CPU time (what a busy machine inflates less), then the line in wall time.
    print(f"cpu: compute_cpu_s={statistics.median(cpu['in_process']):.3f} ratio_cpu_vs_duckdb={ratio_cpu:.2f} scale_10x_cpu={scale_cpu:.1f}")
    print(f"compute_s={compute_s:.3f} ratio_vs_duckdb={ratio:.2f} scale_10x={scale:.1f} peak_gib={peak:.2f}")


if __name__ == "__main__":
    main()
