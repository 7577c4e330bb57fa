"""Building a new funnel workbook (.xlsm, or a macro-free .xlsx) with XlsxWriter.

Owns the first shape of every sheet: output sheets (titles, Refresh buttons, empty
output tables, native charts over those tables) and input sheets (Excel Tables with
localized headers, number formats, dropdowns), the ``xlwings.conf`` sheet and the VBA
project (our ``workbook/vba/*.bas`` plus xlwings' standalone module taken from the
installed xlwings package). A path ending in ``.xlsx`` gets the same sheets and tables
with no macros: no VBA, no buttons, no ``xlwings.conf``; its output sheets say to refresh
from the Funnel tab (the add-in, ``workbook.addin``). A refresh fills the output tables later; the charts follow
their tables because the refresh writer moves chart ranges with the rows.
"""

from __future__ import annotations

import io
import os
from importlib import resources
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell

from funnel import catalog
from funnel.forecast.dashboard import FIGURES
from funnel.inputs.contract import CALL_CATEGORIES, forecast_category_words
from funnel.inputs.schemes import preset_stages
from funnel.inputs.settings import Settings, settings_table
from funnel.snapshots import FLOW_CHANGES
from workbook.layout import (
    INPUTS,
    OUTPUTS,
    REFRESH_MACRO,
    SNAPSHOT_MACRO,
    UDF_MODULES,
    YES_NO,
    TableLayout,
    header,
    metric_label,
)
from workbook.package.save import save_atomically, saving
from workbook.vba_project import VbaModule, build_vba_project

__all__ = ["new_workbook", "vba_modules", "XLWINGS_CONF"]

# Rows of input tables that get dropdowns ahead of the data, so new rows have them too.
_VALIDATION_ROWS = 5000

# xlwings' conventions for a workbook that carries its own settings (no add-in needed).
XLWINGS_CONF = (
    ("Interpreter_Win", ""),
    ("Interpreter_Mac", ""),
    ("PYTHONPATH", ""),
    ("UDF Modules", UDF_MODULES),
    ("Debug UDFs", "False"),
    ("Use UDF Server", "False"),
    ("Show Console", "False"),
    ("Conda Path", ""),
    ("Conda Env", ""),
)

# The output sheets in the order a user meets them; each has a heading (catalog: heading.<sheet>).
_OUTPUT_SHEETS = ("dashboard", "summary", "forecast", "stages", "win_rates", "deal_scores", "changes", "accuracy", "competition",
                  "qualification", "issues")


def _xlwings_dir() -> Path:
    import xlwings

    return Path(os.path.dirname(xlwings.__file__))


def vba_modules(sheet_code_names: list[str]) -> list[VbaModule]:
    """The workbook's VBA modules: document modules, our macros, xlwings' standalone module.

    xlwings' module (and its Dictionary class, which it uses on macOS) is read from the
    installed xlwings package at build time, never copied into this repository.
    """
    modules = [VbaModule("ThisWorkbook", "document", "")]
    modules += [VbaModule(name, "document", "") for name in sheet_code_names]
    for item in sorted(resources.files("workbook.vba").iterdir(), key=lambda p: p.name):
        if item.name.endswith(".bas"):
            modules.append(VbaModule(item.name[:-4], "standard", item.read_text(encoding="utf-8")))
    xw_dir = _xlwings_dir()
    modules.append(VbaModule("xlwings", "standard", (xw_dir / "xlwings.bas").read_text(encoding="utf-8")))
    dictionary = xw_dir / "addin" / "Dictionary.cls"
    if dictionary.exists():
        modules.append(VbaModule("Dictionary", "class", dictionary.read_text(encoding="utf-8")))
    return modules


class Formats:
    """XlsxWriter formats shared by every sheet, created once per workbook."""

    def __init__(self, wb: xlsxwriter.Workbook, currency: str, language: str = "en") -> None:
        yes, no = (text.replace('"', "") for text in YES_NO[language])
        self.title = wb.add_format({"bold": True, "font_size": 16, "font_color": "#1F3864"})
        self.subtitle = wb.add_format({"italic": True, "font_color": "#595959"})
        self.caption = wb.add_format({"bold": True, "font_size": 12, "font_color": "#1F3864"})
        # Explicit header cells: readers that ignore Excel's table styles still show a header.
        self.header = wb.add_format({"bold": True, "bg_color": "#D9E1F2", "bottom": 1, "text_wrap": True, "valign": "top"})
        self.by_kind = {
            "text": wb.add_format({}),
            "money": wb.add_format({"num_format": "#,##0"}),
            "number": wb.add_format({"num_format": "#,##0.00"}),
            "int": wb.add_format({"num_format": "0"}),
            "percent": wb.add_format({"num_format": "0.0%"}),
            "prob": wb.add_format({"num_format": "0%"}),
            "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
            # An output table's flag is the number 1 or 0 (a conditional format over TRUE/FALSE
            # cells makes LibreOffice's PDF export fail), shown as the book's yes or no.
            "flag": wb.add_format({"align": "center", "num_format": f'"{yes}";"{yes}";"{no}"'}),
        }


def _table_data(layout: TableLayout, frame: pd.DataFrame | None, language: str) -> list[list]:
    # Rows for XlsxWriter in the layout's column order; blanks as None.
    if frame is None or frame.empty:
        return [[None] * len(layout.columns)]
    rows = []
    yes, no = YES_NO[language]
    for record in frame.itertuples(index=False):
        values = record._asdict()
        row = []
        for col in layout.columns:
            value = values.get(col.key)
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                row.append(None)
            elif col.fmt == "flag":
                row.append(yes if bool(value) else no)
            elif isinstance(value, pd.Timestamp):
                row.append(value.to_pydatetime())
            elif hasattr(value, "item"):
                row.append(value.item())
            else:
                row.append(value)
        rows.append(row)
    return rows


def _print_setup(ws, header_row: int, one_page: bool = False) -> None:
    # Printed, a sheet reads like a report: landscape, one page wide (as many tall as it
    # needs; the Dashboard one page in all), its table headers on every page, and a footer
    # with the sheet, the file and the page, so that a printed page can be traced back.
    ws.set_landscape()
    ws.fit_to_pages(1, 1 if one_page else 0)
    if not one_page:
        ws.repeat_rows(header_row)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.set_footer("&L&A&C&F&R&P / &N")


def _shared_columns(ws, layouts: list[TableLayout]) -> None:
    # Tables above one another share sheet columns: each column as wide as its widest
    # table's, and with no column style, so that a refresh gives a new cell the style of
    # its own table's first data row, not of whichever table set the column last.
    widths: dict[int, float] = {}
    for layout in layouts:
        for i, col in enumerate(layout.columns):
            c = layout.anchor[1] + i
            widths[c] = max(widths.get(c, 0), col.width or 10)
    for c, width in widths.items():
        ws.set_column(c, c, width)


def _add_table(ws, layout: TableLayout, fmt: Formats, language: str, frame: pd.DataFrame | None = None,
               extra_headers: tuple[str, ...] = ()) -> tuple[int, int, int, int]:
    """Write one Excel Table at its anchor; returns (first_row, first_col, last_row, last_col)."""
    row0, col0 = layout.anchor
    data = _table_data(layout, frame, language)
    headers = layout.headers(language) + list(extra_headers)
    if extra_headers:
        data = [r + [None] * len(extra_headers) for r in data]
        if frame is not None and not frame.empty:
            for i, extra in enumerate(extra_headers):
                for r, value in zip(data, frame[extra].tolist() if extra in frame.columns else []):
                    r[len(layout.columns) + i] = None if pd.isna(value) else value
    last_row = row0 + len(data)
    last_col = col0 + len(headers) - 1
    columns = []
    for i, name in enumerate(headers):
        kind = layout.columns[i].fmt if i < len(layout.columns) else "number"
        columns.append({"header": name, "format": fmt.by_kind[kind], "header_format": fmt.header})
    ws.add_table(row0, col0, last_row, last_col, {
        "name": layout.name, "columns": columns, "data": data, "style": "Table Style Medium 2",
    })
    for i, name in enumerate(headers):
        col = layout.columns[i] if i < len(layout.columns) else None
        kind = col.fmt if col else "number"
        width = (col.width if col and col.width else max(10, len(str(name)) + 2))
        ws.set_column(col0 + i, col0 + i, width, fmt.by_kind[kind])
    return row0, col0, last_row, last_col


# Deal scores' flags that are warning signs when TRUE (red), and qualifications missing when FALSE (amber).
FLAG_WARNINGS = ("stale", "overdue", "pushed", "inactive")
FLAG_QUALIFIED = ("man_ok", "go_ok", "dm_supportive")

# The Dashboard chart's bars: closed won green, the calls amber, expected blue, the range grey.
_FIGURE_COLORS = ("#70AD47", "#FFC000", "#FFD966", "#4472C4", "#BFBFBF", "#7F7F7F", "#BFBFBF")


def _column_range(sheet: str, layout: TableLayout, key: str, rows: int) -> str:
    # An absolute A1 range over one column of a table's data rows (charts need these).
    idx = [c.key for c in layout.columns].index(key)
    row0, col0 = layout.anchor
    first = xl_rowcol_to_cell(row0 + 1, col0 + idx, row_abs=True, col_abs=True)
    last = xl_rowcol_to_cell(row0 + rows, col0 + idx, row_abs=True, col_abs=True)
    return f"='{sheet}'!{first}:{last}"


def _column_cells(layout: TableLayout, key: str) -> tuple[int, int, int, int]:
    # (first_row, col, last_row, col) of a column's one data row in a new workbook: a refresh
    # moves the range with the table's rows (workbook.package.worksheet).
    col = layout.anchor[1] + [c.key for c in layout.columns].index(key)
    return layout.anchor[0] + 1, col, layout.anchor[0] + 1, col


def _highlights(wb, sheets: dict[str, object], language: str) -> None:
    # Risk that stands out as data bars: the used probability and the amounts at risk, the
    # owners' attainment and coverage; a refresh moves each range with its table's rows.
    # Red / amber on the flags: _flag_colours.
    bars = {"type": "data_bar", "bar_solid": True, "min_type": "num", "min_value": 0}
    scores = OUTPUTS["tblDealScores"]
    ws = sheets[scores.sheet(language)]
    ws.conditional_format(*_column_cells(scores, "used_probability"),
                          {**bars, "bar_color": "#9BC2E6", "max_type": "num", "max_value": 1})
    ws.conditional_format(*_column_cells(scores, "amount_at_risk"), {**bars, "bar_color": "#F4B183"})
    risks, owners = OUTPUTS["tblDashRisks"], OUTPUTS["tblDashOwners"]
    board = sheets[risks.sheet(language)]
    board.conditional_format(*_column_cells(risks, "amount_at_risk"), {**bars, "bar_color": "#F4B183"})
    board.conditional_format(*_column_cells(owners, "attainment"),
                             {**bars, "bar_color": "#A9D08E", "max_type": "num", "max_value": 1})
    board.conditional_format(*_column_cells(owners, "coverage"), {**bars, "bar_color": "#9BC2E6"})
    _flag_colours(wb, ws, scores)
    _summary_formats(wb, sheets, language)


def _summary_formats(wb, sheets: dict[str, object], language: str) -> None:
    # The Summary's value column holds amounts, counts, the as-of date and the win rate:
    # each stored as what it is, the date's and the rate's rows given their look by a rule
    # on the metric's label beside them (the column's own format is #,##0).
    summary = OUTPUTS["tblSummary"]
    first_row, col, last_row, _ = _column_cells(summary, "value")
    label = xl_rowcol_to_cell(first_row, col - 1, col_abs=True)
    for metric, num_format in (("as_of", "yyyy-mm-dd"), ("win_rate", "0.0%")):
        text = metric_label(metric, language).replace('"', '""')
        sheets[summary.sheet(language)].conditional_format(first_row, col, last_row, col, {
            "type": "formula", "criteria": f'={label}="{text}"', "format": wb.add_format({"num_format": num_format})})

def _flag_colours(wb, ws, scores: TableLayout) -> None:
    # Flags that stand out: a warning sign that holds (stale, overdue, pushed, inactive) red,
    # a qualification that does not (MAN, GO, a supportive decision maker) amber, and the
    # count of warning signs red from two, amber at one. The flags are numbers, 1 or 0 (shown
    # as yes / no in the book's words), so the rules read alike in every language: a cell
    # rule = 1, and for 0 a formula that leaves a blank (unknown) cell uncoloured, as a cell
    # rule = 0 would not. Each rule has a dxf of its own fill and font colour. LibreOffice
    # renders and exports them to PDF (tests/e2e/test_libreoffice.py); over TRUE/FALSE cells
    # its PDF export fails ("Unspecified Application Error"), hence the numbers.
    red = wb.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
    amber = wb.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700"})
    for key in FLAG_WARNINGS:
        ws.conditional_format(*_column_cells(scores, key), {"type": "cell", "criteria": "==", "value": 1, "format": red})
    for key in FLAG_QUALIFIED:
        first_row, col, _, _ = cells = _column_cells(scores, key)
        cell = xl_rowcol_to_cell(first_row, col)
        ws.conditional_format(*cells, {"type": "formula", "criteria": f"=AND(ISNUMBER({cell}),{cell}=0)", "format": amber})
    signs = _column_cells(scores, "warning_signs")
    ws.conditional_format(*signs, {"type": "cell", "criteria": ">=", "value": 2, "format": red})
    ws.conditional_format(*signs, {"type": "cell", "criteria": "==", "value": 1, "format": amber})


def _charts(wb, sheets: dict[str, object], language: str) -> None:
    # Each series is named by the header of the column it plots.
    stage = OUTPUTS["tblStageStats"]
    stage_sheet = stage.sheet(language)
    def funnel_chart(key: str, title: str, color: str):
        # One bar per stage, top stage first, as a funnel reads.
        chart = wb.add_chart({"type": "bar"})
        chart.add_series({
            "name": header(stage.name, key, language),
            "categories": _column_range(stage_sheet, stage, "name", 1),
            "values": _column_range(stage_sheet, stage, key, 1),
            "fill": {"color": color},
        })
        chart.set_title({"name": catalog.text(title, language)})
        chart.set_y_axis({"reverse": True})
        chart.set_x_axis({"num_format": "#,##0"})
        chart.set_legend({"none": True})
        return chart

    count = funnel_chart("open_deals", "chart.funnel_count", "#4472C4")
    amount = funnel_chart("open_amount", "chart.funnel_amount", "#ED7D31")
    periods = OUTPUTS["tblForecastPeriods"]
    fc_sheet = periods.sheet(language)
    forecast = wb.add_chart({"type": "column"})
    for key, color in (
        ("closed_won", "#70AD47"),
        ("weighted", "#4472C4"),
        ("commit", "#FFC000"),
    ):
        forecast.add_series({
            "name": header(periods.name, key, language),
            "categories": _column_range(fc_sheet, periods, "period", 1),
            "values": _column_range(fc_sheet, periods, key, 1),
            "fill": {"color": color},
        })
    forecast.set_title({"name": catalog.text("chart.forecast", language)})
    forecast.set_y_axis({"num_format": "#,##0"})
    forecast.set_legend({"position": "bottom"})
    rel = OUTPUTS["tblReliability"]
    rel_sheet = rel.sheet(language)
    reliability = wb.add_chart({"type": "line"})
    for key, style in (
        ("bin_mid", {"color": "#7F7F7F", "dash_type": "dash"}),
        ("configured", {"color": "#A5A5A5"}),
        ("blended", {"color": "#4472C4"}),
        ("model", {"color": "#ED7D31"}),
    ):
        reliability.add_series({
            "name": header(rel.name, key, language),
            "categories": _column_range(rel_sheet, rel, "bin", 10),
            "values": _column_range(rel_sheet, rel, key, 10),
            "line": style, "marker": {"type": "circle", "size": 5},
        })
    reliability.set_title({"name": catalog.text("chart.reliability", language)})
    reliability.set_y_axis({"min": 0, "max": 1, "num_format": "0%"})
    reliability.set_legend({"position": "bottom"})
    sheets[rel_sheet].insert_chart(16, 36, reliability, {"x_scale": 1.3, "y_scale": 1.2})
    sheets[stage_sheet].insert_chart(3, 17, count, {"x_scale": 1.2, "y_scale": 1.1})
    sheets[stage_sheet].insert_chart(20, 17, amount, {"x_scale": 1.2, "y_scale": 1.1})
    # Above the forecast tables, which grow downwards at every refresh.
    sheets[fc_sheet].insert_chart(2, 0, forecast, {"x_scale": 1.6, "y_scale": 1.2})

    # The Dashboard: the period's figures as bars against its quota, a line across them.
    figures = OUTPUTS["tblDashFigures"]
    board_sheet = figures.sheet(language)
    booked = wb.add_chart({"type": "column"})
    booked.add_series({
        "name": header(figures.name, "amount", language),
        "categories": _column_range(board_sheet, figures, "figure", len(FIGURES)),
        "values": _column_range(board_sheet, figures, "amount", len(FIGURES)),
        "points": [{"fill": {"color": color}} for color in _FIGURE_COLORS],
    })
    quota_line = wb.add_chart({"type": "line"})
    quota_line.add_series({
        "name": header(figures.name, "quota", language),
        "categories": _column_range(board_sheet, figures, "figure", len(FIGURES)),
        "values": _column_range(board_sheet, figures, "quota", len(FIGURES)),
        "line": {"color": "#C00000", "width": 2.25, "dash_type": "dash"},
    })
    booked.combine(quota_line)
    booked.set_title({"name": catalog.text("chart.dashboard", language)})
    booked.set_y_axis({"num_format": "#,##0"})
    booked.set_legend({"position": "bottom"})
    sheets[board_sheet].insert_chart(2, 0, booked, {"x_scale": 1.9, "y_scale": 1.25})


def _history_charts(wb, sheets: dict[str, object], language: str) -> None:
    # The Changes sheet: the current period's flow as a waterfall (a stacked column whose
    # base series has no fill, which every Excel and LibreOffice draws), and its forecast at
    # each snapshot against quota; the Accuracy sheet: won beside the forecasts per period.
    flow = OUTPUTS["tblFlowChart"]
    sheet = flow.sheet(language)
    rows = len(FLOW_CHANGES)
    falls = wb.add_chart({"type": "column", "subtype": "stacked"})
    for key, fill in (("base", None), ("increase", "#70AD47"), ("decrease", "#C00000"), ("total", "#4472C4")):
        falls.add_series({
            "name": header(flow.name, key, language),
            "categories": _column_range(sheet, flow, "change", rows),
            "values": _column_range(sheet, flow, key, rows),
            **({"fill": {"none": True}, "border": {"none": True}} if fill is None else {"fill": {"color": fill}}),
            "gap": 60,
        })
    falls.set_title({"name": catalog.text("chart.waterfall", language)})
    falls.set_y_axis({"num_format": "#,##0", "min": 0})
    falls.set_legend({"position": "bottom", "delete_series": [0]})
    sheets[sheet].insert_chart(2, 0, falls, {"x_scale": 1.35, "y_scale": 1.25})

    trend = OUTPUTS["tblForecastTrend"]
    over_time = wb.add_chart({"type": "line"})
    for key, style in (("weighted", {"color": "#4472C4"}), ("commit", {"color": "#FFC000"}), ("p50", {"color": "#7F7F7F"}),
                       ("quota", {"color": "#C00000", "dash_type": "dash"})):
        over_time.add_series({
            "name": header(trend.name, key, language),
            "categories": _column_range(sheet, trend, "as_of", 1),
            "values": _column_range(sheet, trend, key, 1),
            "line": style, "marker": {"type": "circle", "size": 4},
        })
    over_time.set_title({"name": catalog.text("chart.forecast_trend", language)})
    over_time.set_y_axis({"num_format": "#,##0"})
    over_time.set_x_axis({"num_format": "yyyy-mm-dd", "date_axis": False})
    over_time.set_legend({"position": "bottom"})
    sheets[sheet].insert_chart(2, 8, over_time, {"x_scale": 1.35, "y_scale": 1.25})

    chart = OUTPUTS["tblAccuracyChart"]
    accuracy_sheet = chart.sheet(language)
    scored = wb.add_chart({"type": "column"})
    for key, color in (("actual", "#70AD47"), ("weighted", "#4472C4"), ("commit", "#FFC000"), ("p50", "#7F7F7F")):
        scored.add_series({
            "name": header(chart.name, key, language),
            "categories": _column_range(accuracy_sheet, chart, "period", 1),
            "values": _column_range(accuracy_sheet, chart, key, 1),
            "fill": {"color": color},
        })
    scored.set_title({"name": catalog.text("chart.accuracy", language)})
    scored.set_y_axis({"num_format": "#,##0"})
    scored.set_legend({"position": "bottom"})
    sheets[accuracy_sheet].insert_chart(2, 0, scored, {"x_scale": 1.6, "y_scale": 1.25})


def new_workbook(
    path: str | Path,
    language: str = "en",
    tables: dict[str, pd.DataFrame] | None = None,
    settings: Settings | None = None,
    *,
    force: bool = False,
) -> Path:
    """Build a funnel workbook, saved atomically: a file that was at ``path`` stays whole
    until the new one is complete (see ``workbook.package.save``).

    Args:
        path: where to write: an .xlsm (its own Refresh buttons and macros), or an .xlsx
            (no macros; refreshed from the add-in's Funnel tab or ``funnel refresh``).
        language: ``en`` or ``zh-CN`` for sheet names, headers and labels.
        tables: canonical input tables to fill in (the demo); empty tables otherwise,
            with the default P/I/B/W/L stage scheme.
        settings: settings to write; defaults otherwise (the language is set to ``language``).
        force: replace ``path`` even when Excel's owner file says it is open.

    Returns:
        The path written.

    Raises:
        OpenInExcel: Excel has ``path`` open (unless ``force``).
        WorkbookBusy: a refresh is saving ``path`` right now.
        SaveFailed: the disk is full or writing is not permitted; ``path`` is unchanged.
    """
    path = Path(path)
    with saving(path, force=force) as target:
        macros = path.suffix.lower() != ".xlsx"
        save_atomically(target, lambda out: _write_workbook(out, language, tables, settings, macros), target,
                        workbook=path, force=force)
    return path


def _write_workbook(out: BinaryIO, language: str, tables: dict[str, pd.DataFrame] | None,
                    settings: Settings | None, macros: bool = True) -> None:
    tables = dict(tables or {})
    settings = (settings or Settings()).model_copy(update={"language": language})
    if tables.get("settings") is not None:
        typed = dict(zip(tables["settings"]["key"], tables["settings"]["value"]))
        settings = settings.model_copy(update={k: v for k, v in typed.items() if k in Settings.model_fields})
        settings = Settings(**{**settings.model_dump(), "language": language})
    tables["settings"] = settings_table(settings)
    if tables.get("stages") is None:
        tables["stages"] = preset_stages("pib", language)

    wb = xlsxwriter.Workbook(out, {"strings_to_formulas": False, "strings_to_urls": False})
    fmt = Formats(wb, settings.currency, language)
    sheets: dict[str, object] = {}
    code_names: list[str] = []

    def sheet(name: str):
        if name not in sheets:
            ws = wb.add_worksheet(name)
            code = f"Sheet{len(sheets) + 1}"
            if macros:  # the code names the VBA project's document modules attach to
                ws.set_vba_name(code)
            code_names.append(code)
            sheets[name] = ws
        return sheets[name]

    # Output sheets first: they are what a sales-ops user opens the workbook for.
    for sheet_key in _OUTPUT_SHEETS:
        layouts = [t for t in OUTPUTS.values() if t.sheet_key == sheet_key]
        ws = sheet(layouts[0].sheet(language))
        ws.write(0, 0, catalog.text(f"heading.{sheet_key}", language), fmt.title)
        if macros:
            ws.write(1, 0, catalog.text("note.refresh", language), fmt.subtitle)
            ws.insert_button(0, 6, {"macro": REFRESH_MACRO, "caption": catalog.text("button.refresh", language),
                                    "width": 110, "height": 32})
            ws.insert_button(0, 6, {"macro": SNAPSHOT_MACRO, "caption": catalog.text("button.snapshot", language),
                                    "width": 110, "height": 32, "x_offset": 120})
        else:
            ws.write(1, 0, catalog.text("note.refresh_tab", language), fmt.subtitle)
        for layout in layouts:
            if layout.title(language):
                ws.write(layout.anchor[0] - 1, layout.anchor[1], layout.title(language), fmt.caption)
            _add_table(ws, layout, fmt, language)
        if sheet_key in ("dashboard", "changes", "accuracy"):  # tables above one another
            _shared_columns(ws, layouts)
        if layouts[0].anchor[0] < 10:  # not where a chart sits above the tables
            ws.freeze_panes(layouts[0].anchor[0] + 1, 0)
        _print_setup(ws, header_row=layouts[0].anchor[0], one_page=sheet_key == "dashboard")
    _charts(wb, sheets, language)
    _history_charts(wb, sheets, language)
    _highlights(wb, sheets, language)

    yes_no = list(YES_NO[language])
    for name, layout in INPUTS.items():
        ws = sheet(layout.sheet(language))
        frame = tables.get(layout.table)
        extra = ()
        if layout.wide and frame is not None:
            extra = tuple(c for c in frame.columns if c not in {col.key for col in layout.columns})
        elif layout.wide:
            extra = (catalog.text("sample.comparison.us", language), catalog.text("sample.comparison.rival", language))
        row0, col0, last_row, last_col = _add_table(ws, layout, fmt, language, frame, extra)
        ws.freeze_panes(row0 + 1, 0)
        _print_setup(ws, header_row=row0)
        end = max(last_row, row0 + _VALIDATION_ROWS)
        for i, col in enumerate(layout.columns):
            c = col0 + i
            if col.fmt == "flag":
                ws.data_validation(row0 + 1, c, end, c, {"validate": "list", "source": yes_no})
            elif layout.table == "opportunities" and col.key == "stage" or layout.table == "stage_history" and col.key == "stage":
                ws.data_validation(row0 + 1, c, end, c, {"validate": "list", "source": "=StageCodes",
                                                         "error_title": catalog.text("alert.stage.title", language),
                                                         "error_message": catalog.text("alert.stage.message", language)})
            elif layout.table == "forecast_calls" and col.key == "category":
                # A call is Commit, Best Case or Pipeline (in the book's words), nothing else.
                called = forecast_category_words(language)
                ws.data_validation(row0 + 1, c, end, c, {"validate": "list",
                                                         "source": [called[k] for k in CALL_CATEGORIES]})
            elif col.key == "forecast_category":
                ws.data_validation(row0 + 1, c, end, c, {"validate": "list",
                                                         "source": list(forecast_category_words(language).values())})
            elif col.fmt == "prob":
                ws.data_validation(row0 + 1, c, end, c, {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": 1,
                                                         "error_message": catalog.text("alert.probability.message", language)})
    stages_layout = INPUTS["tblStages"]
    code_header = stages_layout.headers(language)[0]
    wb.define_name("StageCodes", f"=tblStages[{code_header}]")

    if macros:
        conf = sheet("xlwings.conf")
        for r, (key, value) in enumerate(XLWINGS_CONF):
            conf.write_string(r, 0, key)
            conf.write_string(r, 1, value)
        conf.hide()
        wb.set_vba_name("ThisWorkbook")
        wb.add_vba_project(io.BytesIO(build_vba_project(vba_modules(code_names))), is_stream=True)
    wb.set_properties({"title": "funnel", "comments": "Built by funnel"})
    wb.close()
