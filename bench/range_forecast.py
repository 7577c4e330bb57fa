"""Benchmark: the range forecast on 100,000 open deals over 12 periods, against Monte Carlo.

The deals come from the demo generator: ``demo_tables(size=20000)`` is run through the
engine's steps (validate, stage probabilities, the per-deal model, ``deal_table``), and its
open deals (amount, used probability, forecast category) are resampled with replacement
to 100,000 deals, each given one of 12 monthly close periods at random. So amounts follow
the generator's product x account-size x noise distribution (whole thousands) and the
probabilities are the model's (``--probability stage`` uses the stage probabilities).

Probabilities are rounded to multiples of 1/65536 for both methods, so the simulation can
draw 16-bit random numbers (one simulated deal = one comparison) and still be exact for
the deals it is given. The simulation is plain: 100,000 trials, every deal drawn
independently in every trial, in chunks, on two threads.

Timing: ``range_forecast`` over all periods, median of ``--runs`` runs after one warm-up.
Error: for each period and each of P10 / P50 / P90, |ours - simulated| as a % of the
period's open amount; the largest is reported. For scale, the simulation's own standard
error at P10 / P90 is about 1.71 s / sqrt(trials) (s = the period's standard deviation),
printed per period.

Run: ``python bench/range_forecast.py``. The last line reads
``seconds=<median s for all periods> max_error_pct=<largest error as % of open amount>``.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from funnel.analysis import Analysis
from funnel.demo.data import demo_tables
from funnel.forecast.deals import deal_table
from funnel.forecast.ranges import open_total, range_forecast
from funnel.inputs.validation import validate
from funnel.winmodel.model import model_probabilities

LEVELS = np.array([0.1, 0.5, 0.9])


def open_deals_from_demo(size: int, seed: int, probability: str) -> pd.DataFrame:
    """The demo's open deals: amount, used_probability, category."""
    analysis = Analysis(validate(demo_tables(size=size, seed=seed)))
    deals = analysis.stage_deals
    if probability == "model":  # the model's probability of every open deal, whatever forecast_method would choose
        i = analysis.inputs
        probability_of = model_probabilities(analysis.win_model, deals, analysis.reached)
        deals = deal_table(i.opportunities, i.stages, analysis.stage_probabilities, analysis.settings, probability=probability_of)
    return deals.loc[deals["is_open"], ["amount", "used_probability", "category"]].reset_index(drop=True)


def bench_deals(source: pd.DataFrame, deals: int, periods: int, seed: int) -> pd.DataFrame:
    """``deals`` open deals resampled from ``source``, spread over ``periods`` months."""
    rng = np.random.default_rng(seed)
    picked = source.iloc[rng.integers(0, len(source), deals)].reset_index(drop=True)
    labels = np.array([f"2027-{m:02d}" for m in range(1, periods + 1)], dtype=object)
    picked["period"] = labels[rng.integers(0, periods, deals)]
    picked["amount"] = picked["amount"].fillna(0.0)
    picked["used_probability"] = np.round(picked["used_probability"].to_numpy() * 65536) / 65536
    picked["is_open"] = True
    picked["is_won"] = False
    return picked


def simulate(amounts: np.ndarray, probabilities: np.ndarray, trials: int, seed: int, threads: int = 2) -> np.ndarray:
    """Plain Monte Carlo totals: deal i closes in a trial when a 16-bit draw < p_i x 65536."""
    sure = float(amounts[probabilities >= 1].sum())
    chance = probabilities < 1
    a = amounts[chance].astype(np.float32)
    threshold = np.round(probabilities[chance] * 65536).astype(np.uint16)
    rows = max(1, 8_000_000 // max(1, len(a)))
    chunks = [(start, min(trials, start + rows)) for start in range(0, trials, rows)]
    seeds = np.random.SeedSequence(seed).spawn(len(chunks))
    out = np.empty(trials)

    def run(job):
        (start, end), child = job
        draws = np.random.default_rng(child).integers(0, 65536, size=(end - start, len(a)), dtype=np.uint16)
        out[start:end] = (draws < threshold).astype(np.float32) @ a

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, zip(chunks, seeds)))
    return out + sure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--periods", type=int, default=12)
    parser.add_argument("--trials", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--size", type=int, default=20_000, help="demo book the open deals are drawn from")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--probability", choices=["model", "stage"], default="model")
    args = parser.parse_args()

    source = open_deals_from_demo(args.size, args.seed, args.probability)
    deals = bench_deals(source, args.deals, args.periods, args.seed)
    print(f"{len(deals):,} open deals drawn from {len(source):,} open demo deals (size={args.size}), "
          f"{args.periods} periods, {args.probability} probabilities")

    range_forecast(deals)  # warm-up
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        table = range_forecast(deals)
        times.append(time.perf_counter() - start)
    seconds = float(np.median(times))
    print(f"range_forecast, all periods: median {seconds:.4f} s over {args.runs} runs (min {min(times):.4f}, max {max(times):.4f})")

    worst = 0.0
    start = time.perf_counter()
    print(f"{'period':>8} {'deals':>6} {'open_amount':>15} {'p10':>15} {'p50':>15} {'p90':>15} {'err_%open':>9} {'err/sd':>7} {'mc_se/sd':>8}")
    for i, row in table.iterrows():
        at = (deals["period"] == row["period"]).to_numpy()
        amounts, probabilities = deals.loc[at, "amount"].to_numpy(), deals.loc[at, "used_probability"].to_numpy()
        sims = simulate(amounts, probabilities, args.trials, args.seed + i)
        simulated = np.quantile(sims, LEVELS)
        ours = row[["p10", "p50", "p90"]].to_numpy(dtype=float)
        error = np.abs(ours - simulated).max()
        sd = np.sqrt(open_total(amounts, probabilities).variance)
        worst = max(worst, 100 * error / row["open_amount"])
        print(f"{row['period']:>8} {row['open_deals']:>6} {row['open_amount']:>15,.0f} {ours[0]:>15,.0f} {ours[1]:>15,.0f} "
              f"{ours[2]:>15,.0f} {100 * error / row['open_amount']:>9.5f} {error / sd:>7.4f} {1.71 / np.sqrt(args.trials):>8.4f}")
    print(f"Monte Carlo ({args.trials:,} trials per period): {time.perf_counter() - start:.1f} s")
    print(f"seconds={seconds:.4f} max_error_pct={worst:.4f}")


if __name__ == "__main__":
    main()
