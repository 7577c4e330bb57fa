"""Benchmark: XlwingsBook.read_table on a 100k-row table, on xlwings' remote engine.

The book is what xlwings' VBA client posts for a workbook (tests/support/xlwings_json.py),
its table grown to ``--rows`` data rows as tests/udfs/test_xlwings_book.py grows it.
Times, interleaved and repeated, reporting the best of each:

* ours: ``XlwingsBook(book).read_table("tblDemo")`` (one read, numbers as float);
* xlwings' own DataFrame converter on the same range:
  ``table.range.options(pd.DataFrame, index=False).value``;
* the raw read: ``table.range.raw_value`` (the engine's values, no conversion).

Needs XLWINGS_LICENSE_KEY (``noncommercial`` for the PolyForm Noncommercial license).
Last line: read_table_s=<best s> ratio_vs_converter=<ours/converter> ratio_vs_raw=<ours/raw>

    python bench/xlwings_read.py [--rows 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402
import xlsxwriter  # noqa: E402
import xlwings as xw  # noqa: E402

from tests.support.xlwings_json import book_json_from_file  # noqa: E402
from udfs.xlwings_book import XlwingsBook  # noqa: E402

ROWS = [  # text, whole and fractional numbers, dates with and without a time, blanks, flags
    ["Acme", 1200, dt.datetime(2024, 1, 15), True],
    ["Globex", 2.5, dt.datetime(2024, 3, 1, 13, 30), False],
    ["Initech", None, None, None],
    ["Umbrella", 300, dt.datetime(2024, 2, 29), True],
]


def payload(rows: int) -> dict:
    """The client's JSON for a sheet holding tblDemo (B3:E...) with ``rows`` data rows."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo.xlsx"
        wb = xlsxwriter.Workbook(path)
        dates = wb.add_format({"num_format": "yyyy-mm-dd"})
        wb.add_worksheet("Data").add_table("B3:E7", {"name": "tblDemo", "data": ROWS, "columns": [
            {"header": "Deal"}, {"header": "Amount"}, {"header": "Close", "format": dates}, {"header": "Won"}]})
        wb.close()
        body = book_json_from_file(path)
    sheet = body["sheets"][0]
    template = sheet["values"][3:7]
    sheet["values"] = sheet["values"][:3] + [template[i % 4] for i in range(rows)]
    sheet["tables"][0]["range_address"] = f"$B$3:$E${3 + rows}"
    sheet["tables"][0]["data_body_range_address"] = f"$B$4:$E${3 + rows}"
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not os.environ.get("XLWINGS_LICENSE_KEY"):
        sys.exit("xlwings' remote engine needs XLWINGS_LICENSE_KEY (e.g. noncommercial)")
    book = xw.Book(json=payload(args.rows))
    try:
        table = book.sheets["Data"].tables["tblDemo"]
        runs = {
            "read_table": lambda: XlwingsBook(book).read_table("tblDemo"),
            "converter": lambda: table.range.options(pd.DataFrame, index=False).value,
            "raw": lambda: table.range.raw_value,
        }
        frame = runs["read_table"]()
        assert len(frame) == args.rows and frame["Amount"].dtype == "float64"
        best = dict.fromkeys(runs, float("inf"))
        for _ in range(args.repeat):
            for name, fn in runs.items():  # taking turns, so a burst of load hits all alike
                started = time.perf_counter()
                fn()
                best[name] = min(best[name], time.perf_counter() - started)
    finally:
        book.close()
    print(f"{args.rows:,} rows x 4 columns, best of {args.repeat}: read_table {best['read_table']:.3f} s, "
          f"xlwings DataFrame converter {best['converter']:.3f} s, raw values {best['raw']:.3f} s")
    print(f"read_table_s={best['read_table']:.3f} ratio_vs_converter={best['read_table'] / best['converter']:.2f} "
          f"ratio_vs_raw={best['read_table'] / best['raw']:.1f}")


if __name__ == "__main__":
    main()
