"""Benchmark: read_tables on a 100k x 30 Excel Table vs a raw python-calamine read of the sheet.

Builds the workbook once (XlsxWriter) in a temp folder, then times each
reader several times, interleaved, and prints the best of each and their ratio. The
target is read_tables <= 1.3 x raw calamine (``to_python()`` of the same sheet).

    python bench/workbook_read.py [--rows 100000] [--cols 30] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import xlsxwriter  # noqa: E402
from python_calamine import CalamineWorkbook  # noqa: E402

from workbook.table_reader import read_tables  # noqa: E402


def build(path: Path, rows: int, cols: int) -> None:
    """A sheet "Data" holding table tblBig: text, float, int, date and sparse-text columns."""
    wb = xlsxwriter.Workbook(str(path))  # add_table() needs the default (in-memory) mode
    ws = wb.add_worksheet("Data")
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    base = dt.date(2020, 1, 1)
    headers = [f"c{j}" for j in range(cols)]
    ws.write_row(0, 0, headers)
    for i in range(rows):
        r = i + 1
        for j in range(cols):
            k = j % 5
            if k == 0:
                ws.write_string(r, j, f"s{i % 977}_{j}")
            elif k == 1:
                ws.write_number(r, j, (i * 7919 % 100_000) / 7.0)
            elif k == 2:
                ws.write_number(r, j, i * 7 + j)
            elif k == 3:
                ws.write_datetime(r, j, dt.datetime.combine(base + dt.timedelta(days=i % 2000), dt.time()), date_fmt)
            elif i % 7:
                ws.write_string(r, j, "x")
    ws.add_table(0, 0, rows, cols - 1, {"name": "tblBig", "columns": [{"header": h} for h in headers], "autofilter": True})
    wb.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cols", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.xlsx"
        t0 = time.perf_counter()
        build(path, args.rows, args.cols)
        print(f"built {args.rows:,} x {args.cols} table in {time.perf_counter() - t0:.1f} s ({path.stat().st_size / 1e6:.1f} MB)")

        def raw() -> object:
            return CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Data").to_python()

        def ours() -> object:
            return read_tables(path, ["tblBig"])

        best = {"raw calamine": float("inf"), "read_tables": float("inf")}
        for _ in range(args.repeat):
            for name, fn in (("raw calamine", raw), ("read_tables", ours)):
                gc.collect()
                start = time.perf_counter()
                result = fn()
                best[name] = min(best[name], time.perf_counter() - start)
                del result
        frame = read_tables(path, ["tblBig"])["tblBig"]
        assert frame.shape == (args.rows, args.cols)
        for name, seconds in best.items():
            print(f"{name:>13}: {seconds:.3f} s (best of {args.repeat})")
        print(f"        ratio: {best['read_tables'] / best['raw calamine']:.2f} (target <= 1.30)")


if __name__ == "__main__":
    main()
