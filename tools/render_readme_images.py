"""Regenerate the README's pictures of the demo workbook: docs/img/dashboard.png, dashboard-zh.png, summary.png and forecast.png.

    python tools/render_readme_images.py [--out docs/img] [--size N] [--seed N] [--dpi 80]

Builds and refreshes the English demo workbook exactly as ``funnel demo`` does (the same
generator, and by default the command's own size and seed; the refresh is the Refresh
button's macro on the file), then renders sheets with LibreOffice headless
(``tests/support/lo_probe.py``: PDF export of the cells on one page sized to them, then
poppler's ``pdftoppm -png -singlefile``):

* dashboard.png, dashboard-zh.png: the Dashboard (English and Chinese demo), its chart
  and tables;
* summary.png: the Summary sheet's headline table (tblSummary's columns);
* forecast.png: the Forecast sheet's by-period table and the chart under it.

Each picture keeps to its table's columns: the tables beside them (the range forecast on
Summary, the forecast by team and owner) would make a picture too wide to read once a
README shrinks it to the page.

Needs LibreOffice with its Python-UNO (``/usr/bin/python3``) and poppler-utils.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere: the repo's packages and tests/support

from xlsxwriter.utility import xl_col_to_name  # noqa: E402

from funnel.demo.competition import demo_competition_tables  # noqa: E402
from funnel.demo.data import demo_tables  # noqa: E402
from funnel_cli.main import demo as demo_command  # noqa: E402
from tests.support.libreoffice import libreoffice_missing, probe  # noqa: E402
from udfs.macros import refresh  # noqa: E402
from workbook.build import new_workbook  # noqa: E402
from workbook.filebook import FileBook  # noqa: E402
from workbook.layout import OUTPUTS  # noqa: E402


def table_columns(table_name: str) -> str:
    """The sheet columns an output table spans, such as ``A:M``."""
    layout = OUTPUTS[table_name]
    first = layout.anchor[1]
    return f"{xl_col_to_name(first)}:{xl_col_to_name(first + len(layout.columns) - 1)}"


def _dashboard_columns() -> str:
    # Every column of the Dashboard's tables.
    tables = [t for t in OUTPUTS.values() if t.sheet_key == "dashboard"]
    last = max(t.anchor[1] + len(t.columns) - 1 for t in tables)
    return f"A:{xl_col_to_name(last)}"


def demo_default(option: str):
    """``funnel demo``'s default for one option (``size``, ``seed``), read from the command."""
    return inspect.signature(demo_command).parameters[option].default.default


def render(out: Path, size: int | None = None, seed: int | None = None, dpi: int = 80) -> list[dict]:
    """Build, refresh and render the demo workbook's Dashboard (in both languages), Summary
    and Forecast sheets.

    Args:
        out: folder for the PNGs (created if missing).
        size: number of demo deals; by default ``funnel demo``'s.
        seed: demo random seed; by default ``funnel demo``'s.
        dpi: resolution of the PNGs.

    Returns:
        What the probe reports for each image (sheet, png, cell range rendered).

    Raises:
        RuntimeError: LibreOffice is missing.
        tests.support.libreoffice.LibreOfficeFailed: LibreOffice failed to render.
    """
    size = demo_default("size") if size is None else size
    seed = demo_default("seed") if seed is None else seed
    missing = libreoffice_missing()
    if missing:
        raise RuntimeError(missing)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="funnel_readme_") as tmp:
        books = {}
        for language in ("en", "zh-CN"):  # as funnel demo builds them: deals and competition
            tables = demo_tables(size=size, seed=seed)
            tables.update(demo_competition_tables(tables))
            books[language] = Path(tmp) / f"demo_{language}.xlsm"
            new_workbook(books[language], language, tables)
            refresh(FileBook(books[language]))
        board = OUTPUTS["tblDashRisks"]
        seen = probe(books["zh-CN"], sheet_images=[{"sheet": board.sheet("zh-CN"), "png": str(out / "dashboard-zh.png"),
                                                     "dpi": dpi, "columns": _dashboard_columns()}])["sheet_images"]
        book = books["en"]
        images = [
            {"sheet": board.sheet_en, "png": str(out / "dashboard.png"), "dpi": dpi, "columns": _dashboard_columns()},
            {"sheet": OUTPUTS["tblSummary"].sheet_en, "png": str(out / "summary.png"), "dpi": dpi,
             "columns": table_columns("tblSummary")},
            {"sheet": OUTPUTS["tblForecastPeriods"].sheet_en, "png": str(out / "forecast.png"), "dpi": dpi,
             "columns": table_columns("tblForecastPeriods")},
        ]
        return seen + probe(book, sheet_images=images)["sheet_images"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--size", type=int, default=None, help="demo deals (default: funnel demo's)")
    parser.add_argument("--seed", type=int, default=None, help="demo seed (default: funnel demo's)")
    parser.add_argument("--dpi", type=int, default=80)
    args = parser.parse_args()
    try:
        for image in render(args.out, args.size, args.seed, args.dpi):
            print(f"{image['png']}: sheet {image['sheet']}, cells {image['range']}")
    except RuntimeError as err:
        print(f"render_readme_images: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
