"""Benchmark: the table-reading worksheet functions on the demo, first call and again.

The demo's tables (``demo_tables(size=--deals)``) as Excel passes them to a UDF
(tests/support/udf_cells.py). For each UDF, best of ``--repeat``:

* first: the call on tables not seen before (the cache of validated tables cleared);
* again: the same call on equal cells, new lists as on every recalculation (answered
  from the cache);
* the reference: the full engine run on the same tables (``funnel.analysis.run``), what a
  Refresh computes for every figure at once.

Last line: engine_s=<best s> slowest_first_ms=<ms> slowest_again_ms=<ms>

    python bench/worksheet_functions.py [--deals 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import udfs.functions as udf_module  # noqa: E402
from funnel.analysis import run  # noqa: E402
from funnel.demo.data import demo_tables  # noqa: E402
from tests.support.udf_cells import demo_calls, demo_cells  # noqa: E402


def best(fn, repeat: int, before=lambda: None) -> tuple[float, object]:
    """The fastest of ``repeat`` calls of ``fn`` (``before`` run untimed ahead of each), and its result."""
    seconds, result = float("inf"), None
    for _ in range(repeat):
        before()
        started = time.perf_counter()
        result = fn()
        seconds = min(seconds, time.perf_counter() - started)
    return seconds, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tables = demo_tables(size=args.deals)
    engine_s, report = best(lambda: run(tables), args.repeat)
    open_deal = report.deals.loc[report.deals["is_open"], "id"].iloc[0]
    cells = demo_cells(tables)
    first_calls, again_calls = demo_calls(cells, open_deal), demo_calls(copy.deepcopy(cells), open_deal)
    print(f"{args.deals:,} deals; full engine run: {engine_s * 1000:.0f} ms (best of {args.repeat})")
    firsts, agains = [], []
    for name, call in first_calls.items():
        first, result = best(call, args.repeat, before=udf_module._PREPARED.clear)
        assert not isinstance(result, str), f"{name}: {result}"  # a figure, not a cell message
        call()  # these tables in the cache
        again, _ = best(again_calls[name], args.repeat)
        firsts.append(first)
        agains.append(again)
        print(f"{name:>28}: first {first * 1000:6.1f} ms ({first / engine_s:4.2f} x the engine run), "
              f"again {again * 1000:5.1f} ms ({first / again:.0f}x faster)")
    print(f"engine_s={engine_s:.3f} slowest_first_ms={max(firsts) * 1000:.0f} slowest_again_ms={max(agains) * 1000:.1f}")


if __name__ == "__main__":
    main()
