"""Benchmark: validating a million opportunity rows, against two references.

The table is the one tests/corpus/test_bad_input.py validates: ids, stages and amounts
as text (as a CSV gives them), with a bad amount and an unknown stage every 100,000 rows.
Times, interleaved and repeated, reporting medians:

* ours: ``funnel.inputs.validation.validate`` (typed tables and the issues table);
* the pandas floor: ``to_numeric`` of the amounts, ``isin`` of the stages and
  ``duplicated`` of the ids, the bare vectorized checks with no issue reporting;
* a plain loop: ``parsing.parse_amount`` called on every amount cell (once, it is slow),
  what validation would cost without its vectorized path.

Last line: validate_s=<median s> ratio_vs_pandas=<ours/pandas> ratio_vs_loop=<loop/ours>

    python bench/validate.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from funnel.inputs import parsing  # noqa: E402
from funnel.inputs.validation import validate  # noqa: E402


def table(n: int) -> tuple[pd.DataFrame, int]:
    """n rows as test_bad_input builds them (every 100,000th amount "#N/A", the next
    stage "Z"), and how many bad cells they hold."""
    rng = np.random.default_rng(11)
    amounts = pd.Series(rng.integers(0, 10**6, n).astype(str), dtype=object)
    stages = pd.Series(rng.choice(np.array(list("PIBWL"), dtype=object), n), dtype=object)
    bad = np.arange(0, n, 100_000)
    amounts.iloc[bad] = "#N/A"
    unknown = (bad + 1)[bad + 1 < n]
    stages.iloc[unknown] = "Z"
    raw = pd.DataFrame({"id": pd.Series(np.char.add("D", np.arange(n).astype(str)), dtype=object),
                        "stage": stages, "amount": amounts})
    raw.index = pd.RangeIndex(2, 2 + n)
    return raw, len(bad) + len(unknown)


def pandas_floor(raw: pd.DataFrame) -> int:
    amounts = pd.to_numeric(raw["amount"], errors="coerce")
    known = raw["stage"].str.strip().str.upper().isin(list("PIBWL"))
    return int(amounts.isna().sum() + (~known).sum() + raw["id"].duplicated().sum())


def plain_loop(raw: pd.DataFrame) -> int:
    unread = 0
    for value in raw["amount"].tolist():
        try:
            parsing.parse_amount(value)
        except parsing.ParseError:
            unread += 1
    return unread


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    raw, bad = table(args.rows)
    # The three must find the same problems before their times mean anything.
    inputs = validate({"opportunities": raw})
    assert len(inputs.issues) == pandas_floor(raw) == bad, (len(inputs.issues), bad)

    times: dict[str, list[float]] = {"validate": [], "pandas": []}
    for _ in range(args.repeat):
        for name, fn in (("validate", lambda: validate({"opportunities": raw})), ("pandas", lambda: pandas_floor(raw))):
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    started = time.perf_counter()
    assert plain_loop(raw) == len(range(0, args.rows, 100_000))  # the "#N/A" amounts
    loop = time.perf_counter() - started
    ours, floor = statistics.median(times["validate"]), statistics.median(times["pandas"])
    print(f"{args.rows:,} rows, {len(inputs.issues)} issues")
    print(f"validate: median {ours:.3f} s ({args.rows / ours:,.0f} rows/s); pandas floor: median {floor:.3f} s; "
          f"parse_amount per cell: {loop:.3f} s")
    print(f"validate_s={ours:.3f} ratio_vs_pandas={ours / floor:.1f} ratio_vs_loop={loop / ours:.1f}")


if __name__ == "__main__":
    main()
