"""Benchmark: importing the Maven CRM sample (``funnel import``'s mapping), against pandas.

Copies the sample's pipeline ``--copies`` times into one export in a temp folder (deal
ids suffixed, so every row is a distinct deal; the companion accounts, products and
sales_teams files beside it), then times, interleaved and repeated, reporting medians:

* ours: ``import_export(export)`` (layout detection, companion lookups, stage mapping,
  parsing, stage history);
* the reference: ``pandas.read_csv`` of the same CSV files as text, no mapping at all.

The import is checked to have taken every row before any time is printed.
Last line: import_s=<median s> rows_per_s=<rows/s> ratio_vs_read_csv=<ours/pandas>

    python bench/importers.py [--sample PATH/sales_pipeline.csv] [--copies 10] [--repeat 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402

from funnel.crm.importers import import_export  # noqa: E402

MAVEN = Path("/work/shared/datasets/maven_crm/sales_pipeline.csv")


def build(sample: Path, folder: Path, copies: int) -> tuple[Path, int]:
    """The export with the sample's rows ``copies`` times over, and its row count."""
    for companion in sample.parent.glob("*.csv"):
        if companion != sample:
            shutil.copy(companion, folder / companion.name)
    rows = pd.read_csv(sample, dtype=str, keep_default_na=False)
    big = pd.concat([rows.assign(opportunity_id=rows["opportunity_id"] + f"-{k}") for k in range(copies)])
    export = folder / sample.name
    big.to_csv(export, index=False)
    return export, len(big)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, default=MAVEN)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not args.sample.exists():
        sys.exit(f"no Maven CRM sample at {args.sample}; pass --sample PATH/sales_pipeline.csv")
    with tempfile.TemporaryDirectory() as tmp:
        export, rows = build(args.sample, Path(tmp), args.copies)
        files = sorted(Path(tmp).glob("*.csv"))
        result = import_export(export)
        assert result.layout == "maven" and len(result.opportunities) == rows, len(result.opportunities)

        runs = {"ours": lambda: import_export(export),
                "read_csv": lambda: [pd.read_csv(f, dtype=str, keep_default_na=False) for f in files]}
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.repeat):
            for name, fn in runs.items():  # taking turns, so a burst of load hits both alike
                started = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - started)
        ours, ref = statistics.median(times["ours"]), statistics.median(times["read_csv"])
        print(f"{rows:,} deal rows ({args.copies} x the sample) and {len(files) - 1} companion files")
        print(f"import_export: median {ours:.3f} s; pandas read_csv of the same files: median {ref:.3f} s")
        print(f"import_s={ours:.3f} rows_per_s={rows / ours:,.0f} ratio_vs_read_csv={ours / ref:.1f}")


if __name__ == "__main__":
    main()
