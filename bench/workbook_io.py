"""Benchmark: a 100k-deal workbook's input read and its refresh, end to end.

Builds the demo workbook at 100,000 deals (``demo_tables`` + ``new_workbook``, as
``funnel demo --size 100000`` does) in a temp folder, then times, interleaved and
repeated, reporting medians:

* the input read a refresh does: ``read_inputs(FileBook(path))`` (every input table,
  headers mapped to the contract), against a raw python-calamine read of the same sheets
  (``CalamineWorkbook.from_path(path)``, then ``get_sheet_by_name(sheet).to_python()`` for
  each input sheet): target ratio <= 1.3;
* the refresh, in process: ``udfs.macros.refresh(FileBook(path, out))`` (read, engine,
  output tables, atomic save): target <= 5 s; with a breakdown of one run by step;
* the refresh again, in place, of a workbook already refreshed once (every click after
  the first: the writer then replaces 30k old output rows);
* the refresh through the command line, ``funnel refresh path --out out``, in a
  subprocess (interpreter start and imports included).

    python bench/workbook_io.py [--deals 100000] [--repeat 5] [--book PATH] [--profile]

``--book`` keeps the built workbook at PATH and reuses it when it exists (the build takes
a minute; delete it after the layout changes). ``--profile`` prints cProfile's top
functions of one in-process refresh. On Linux the refresh forks child processes for part
of the engine and the writer (``udfs/runtime.py``); ``FUNNEL_NO_FORK=1`` times it without
them, as it runs on Windows and macOS. The last line is
``read_ratio_vs_calamine=<x> refresh_s=<median s>``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from python_calamine import CalamineWorkbook  # noqa: E402

from funnel.analysis import run  # noqa: E402
from funnel.demo.data import demo_tables  # noqa: E402
from udfs import runtime  # noqa: E402
from udfs.macros import refresh  # noqa: E402
from workbook.build import new_workbook  # noqa: E402
from workbook.filebook import FileBook  # noqa: E402
from workbook.layout import INPUTS  # noqa: E402
from workbook.mapping import output_frames, read_inputs  # noqa: E402

READ_TARGET = 1.3
REFRESH_TARGET_S = 5.0


def build(path: Path, deals: int) -> float:
    """Write the demo workbook with ``deals`` deals to ``path``; seconds taken."""
    started = time.perf_counter()
    new_workbook(path, "en", demo_tables(size=deals))
    return time.perf_counter() - started


def input_sheets(path: Path) -> list[str]:
    """The sheets holding the workbook's input tables (the English layout's names)."""
    names = CalamineWorkbook.from_path(str(path)).sheet_names
    return [layout.sheet_en for layout in INPUTS.values() if layout.sheet_en in names]


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` takes, after a garbage collection (kept out of the time)."""
    gc.collect()
    started = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - started
    del result
    return elapsed


def interleaved(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, list[float]]:
    """Each function ``repeat`` times, taking turns, so a burst of load hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            times[name].append(timed(fn))
    return times


def refresh_steps(path: Path, out: Path) -> dict[str, float]:
    """One refresh split into the macro's steps (the same calls ``udfs.macros.refresh`` makes)."""
    with runtime.for_refresh() as executor:
        return _steps(path, out, executor)


def _steps(path: Path, out: Path, executor) -> dict[str, float]:
    steps = {}
    book = FileBook(path, out, executor=executor)
    started = time.perf_counter()
    raw, log = read_inputs(book)
    steps["read inputs"] = time.perf_counter() - started
    started = time.perf_counter()
    report = run(raw, None, log, executor)
    steps["engine"] = time.perf_counter() - started
    started = time.perf_counter()
    frames = output_frames(report)
    steps["output frames"] = time.perf_counter() - started
    started = time.perf_counter()
    for name, frame in frames.items():
        book.write_table(name, frame)
    book.finish("")
    steps["write tables"] = time.perf_counter() - started
    return steps


def funnel_command() -> list[str]:
    """The ``funnel`` console script of this interpreter's environment, else ``-m``."""
    script = Path(sys.executable).with_name("funnel")
    if script.exists():
        return [str(script)]
    found = shutil.which("funnel")
    return [found] if found else [sys.executable, "-m", "funnel_cli.main"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--book", type=Path, default=None, help="keep (and reuse) the built workbook here")
    parser.add_argument("--profile", action="store_true", help="cProfile one in-process refresh")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="funnel_bench_") as tmp:
        tmp = Path(tmp)
        path = args.book or tmp / "bench.xlsm"
        if path.exists():
            print(f"reusing {path} ({path.stat().st_size / 1e6:.1f} MB)")
        else:
            seconds = build(path, args.deals)
            print(f"built {args.deals:,}-deal workbook in {seconds:.1f} s ({path.stat().st_size / 1e6:.1f} MB)")
        sheets = input_sheets(path)
        out = tmp / "refreshed.xlsm"

        def raw_calamine() -> object:
            book = CalamineWorkbook.from_path(str(path))
            return [book.get_sheet_by_name(sheet).to_python() for sheet in sheets]

        def filebook_read() -> object:
            return read_inputs(FileBook(path))

        def refresh_in_process() -> object:
            return refresh(FileBook(path, out))

        again = tmp / "again.xlsm"
        shutil.copy(path, again)
        refresh(FileBook(again))

        def refresh_again() -> object:
            return refresh(FileBook(again))

        raw, _ = filebook_read()
        rows = {name: len(frame) for name, frame in raw.items() if frame is not None}
        print(f"input tables: {rows}")
        print(f"input sheets read raw: {sheets}")
        print(f"child processes: {'on (Linux fork)' if runtime.FORKS else 'off'}")

        command = funnel_command() + ["refresh", str(path), "--out", str(tmp / "cli.xlsm")]
        said: list[str] = []

        def refresh_command() -> object:
            done = subprocess.run(command, capture_output=True, text=True)
            said[:] = [f"exit {done.returncode}: " + ((done.stdout or done.stderr).strip().splitlines() or [""])[-1]]
            return done

        times = interleaved({"raw calamine": raw_calamine, "FileBook read_inputs": filebook_read,
                             "refresh (in process)": refresh_in_process, "refresh again (in place)": refresh_again,
                             "funnel refresh (command)": refresh_command},
                            args.repeat)
        for name, values in times.items():
            print(f"{name:26s} median {statistics.median(values):6.3f} s   runs {', '.join(f'{v:.3f}' for v in values)}")
        ratio = statistics.median(times["FileBook read_inputs"]) / statistics.median(times["raw calamine"])
        refresh_s = statistics.median(times["refresh (in process)"])

        steps = refresh_steps(path, out)
        print("one refresh by step: " + ", ".join(f"{k} {v:.3f} s" for k, v in steps.items()))

        print(f"funnel refresh (command), last run: {said[0] if said else ''}")

        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            refresh(FileBook(path, out))
            profiler.disable()
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(30)
            print(text.getvalue())

        verdict = []
        if ratio > READ_TARGET:
            verdict.append(f"read ratio {ratio:.2f} misses the {READ_TARGET} target")
        if refresh_s > REFRESH_TARGET_S:
            verdict.append(f"refresh {refresh_s:.2f} s misses the {REFRESH_TARGET_S:.0f} s target")
        print("; ".join(verdict) if verdict else "targets met")
        print(f"read_ratio_vs_calamine={ratio:.3f} refresh_s={refresh_s:.3f}")


if __name__ == "__main__":
    main()
