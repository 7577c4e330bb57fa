"""Every figure the same to the last digit: `funnel report --format json` before and after a change.

Builds the demo workbooks (en and zh-CN) and imports the shared Maven CRM sample, then
saves each book's report as JSON; or compares against reports saved earlier, by any
version of funnel (pass its `funnel` command):

    python tools/same_figures.py --save /tmp/before --funnel /path/to/old/venv/bin/funnel
    python tools/same_figures.py --against /tmp/before          # this checkout's `funnel`

Exit status 1 and the first differences when a figure changed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The shared sample beside the checkout (/work/main) or beside a worktree's folder (/work/wt/NAME).
MAVEN = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared")
              if (p / "datasets" / "maven_crm" / "sales_pipeline.csv").exists()), ROOT.parent / "shared") / "datasets" / "maven_crm" / "sales_pipeline.csv"

# name -> (commands that build the book in DIR/name.xlsm, report options)
BOOKS = {
    "demo": ([["demo", "--out", "{book}"]], []),
    "demo-zh": ([["demo", "--out", "{book}", "--lang", "zh-CN", "--size", "600", "--seed", "3"]], []),
    "maven": ([["import", str(MAVEN), "--into", "{book}", "--layout", "maven"]], ["--set", "as_of=2017-12-31"]),
}


def reports(funnel: str, where: Path) -> dict[str, object]:
    found = {}
    for name, (builds, options) in BOOKS.items():
        book = where / f"{name}.xlsm"
        for build in builds:
            subprocess.run([funnel, *[a.format(book=book) for a in build]], check=True, capture_output=True)
        done = subprocess.run([funnel, "report", str(book), "--format", "json", *options], check=True, capture_output=True, text=True)
        found[name] = json.loads(done.stdout)
    return found


def differences(before: object, after: object, path: str = "") -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        out = [f"{path}/{k}: only before" for k in before.keys() - after.keys()]
        out += [f"{path}/{k}: only after" for k in after.keys() - before.keys()]
        for k in before.keys() & after.keys():
            out += differences(before[k], after[k], f"{path}/{k}")
        return out
    if isinstance(before, list) and isinstance(after, list):
        if len(before) != len(after):
            return [f"{path}: {len(before)} rows before, {len(after)} after"]
        return [d for i, (b, a) in enumerate(zip(before, after)) for d in differences(b, a, f"{path}[{i}]")]
    return [] if before == after and type(before) is type(after) else [f"{path}: {before!r} -> {after!r}"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--save", type=Path, help="write the reports here")
    mode.add_argument("--against", type=Path, help="compare with the reports saved here")
    parser.add_argument("--funnel", default=shutil.which("funnel") or "funnel", help="the funnel command to run")
    args = parser.parse_args()
    if not MAVEN.exists():
        print(f"the Maven sample is not at {MAVEN}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        found = reports(args.funnel, Path(tmp))
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for name, payload in found.items():
            (args.save / f"{name}.json").write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"saved {', '.join(found)} to {args.save}")
        return 0
    failed = False
    for name, payload in found.items():
        before = json.loads((args.against / f"{name}.json").read_text(encoding="utf-8"))
        diff = differences(before, payload)
        tables = sum(1 for k in payload if k != "settings")
        rows = sum(len(v) for k, v in payload.items() if k != "settings")
        print(f"{name}: {'identical' if not diff else f'{len(diff)} differences'} ({tables} tables, {rows} rows)")
        for line in diff[:20]:
            print("   ", line)
        failed |= bool(diff)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
