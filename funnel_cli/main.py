"""The ``funnel`` command line: shell code over funnel/, workbook/ and udfs/.

Every command prints a clear message and exits non-zero on a problem the user can fix
(a missing file, a bad setting); no command ends in a traceback for bad input.
"""

from __future__ import annotations

import json
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Optional

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from funnel import catalog
from udfs import runtime

# The name users install (``pip install funnel-excel``): "funnel" on PyPI is another project.
DISTRIBUTION = "funnel-excel"

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Sales-funnel analytics for Excel workbooks.",
)
console = Console()
err_console = Console(stderr=True)


def _fail(message: str, code: int = 2) -> None:
    # One line, printed as written: a file name such as Book[1].xlsm is not rich markup,
    # and a long message is not wrapped at the terminal's width.
    err_console.print(Text.assemble(("funnel:", "bold red"), " ", " ".join(message.splitlines())), soft_wrap=True)
    raise typer.Exit(code)


def _naming(path: Path, err: Exception) -> str:
    """The error's message, led by the file's name unless it already says which file."""
    text = str(err)
    return text if path.name in text else f"{path}: {text}"


def _overrides(pairs: list[str] | None) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        if "=" not in pair:
            _fail(f"--set takes KEY=VALUE, got '{pair}'")
        key, value = pair.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def _read_source(source: Path):
    """Raw tables and reading problems from a workbook or a folder of CSVs."""
    if source.is_dir():
        from funnel.inputs.csvsource import read_csv_folder

        return read_csv_folder(source)
    from workbook.filebook import FileBook
    from workbook.mapping import read_inputs

    return read_inputs(FileBook(source))


def _forecast_glance(report) -> None:
    """The forecast by period around as-of, in a table narrow enough for a terminal."""
    from funnel import catalog
    from funnel.inputs.periods import period_of
    from funnel_cli.show import formatted
    from workbook.layout import header

    language = report.settings.language
    f = report["forecast_periods"]
    current = period_of(report.settings.as_of, report.settings)
    shown = f[(f["period"] >= current) | (f["period"] == f["period"].max())].head(6)
    columns = {"period": "text", "open_deals": "int", "weighted": "money", "commit": "money", "closed_won": "money",
               "quota": "money", "attainment": "percent"}
    table = Table(title=catalog.text("title.tblForecastPeriods", language), title_justify="left")
    for key, fmt in columns.items():
        table.add_column(header("tblForecastPeriods", key, language), justify="left" if fmt == "text" else "right")
    for record in shown.to_dict("records"):
        table.add_row(*(formatted(record[key], fmt) for key, fmt in columns.items()))
    console.print(table)


def _headline(report) -> None:
    from funnel import catalog
    from funnel.winmodel.choice import choice_line
    from funnel_cli.show import formatted

    language = report.settings.language
    s = dict(zip(report["summary"]["metric"], report["summary"]["value"]))
    money = {k: formatted(s[k], "money") for k in ("open_amount", "weighted_pipeline", "won_amount")}
    win_rate = catalog.text("cli.no_win_rate", language) if pd.isna(s["win_rate"]) else formatted(s["win_rate"], "percent")
    console.print(Text(catalog.text(
        "cli.headline", language, as_of=f"{pd.Timestamp(s['as_of']):%Y-%m-%d}", open_deals=f"{s['open_deals']:,}",
        currency=report.settings.currency, open_amount=money["open_amount"], weighted=money["weighted_pipeline"],
        won_deals=f"{s['won_deals']:,}", won_amount=money["won_amount"], lost_deals=f"{s['lost_deals']:,}",
        win_rate=win_rate, issues=f"{s['issues']:,}")))
    console.print(Text(choice_line(report.analysis.method_choice, language)), soft_wrap=True)


class Scenario(str, Enum):
    """The demo's scenarios (``funnel.demo.data.SCENARIOS``); typer answers any other with usage and exit 2."""

    default = "default"
    noise = "noise"


@app.command()
def demo(
    out: Path = typer.Option(Path("demo.xlsm"), help="Where to write the demo workbook."),
    size: int = typer.Option(2000, min=10, help="Number of deals to generate."),
    lang: str = typer.Option("en", help="Language of the workbook: en or zh-CN."),
    seed: int = typer.Option(7, help="Random seed (the same seed gives the same data)."),
    scenario: Scenario = typer.Option(Scenario.default, help="default: outcomes follow the deals' owners, sources, "
                                      "products, competitors and qualification; noise: they follow none of them."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output even when Excel's owner file (~$name) "
                               "says it is open."),
    weeks: Optional[int] = typer.Option(None, "--weeks", min=0, max=520, help="Weekly snapshots of the demo's past "
                                        "written beside it (0: none); default 26, and 4 above 20,000 deals."),
) -> None:
    """Generate the demo data, build the demo workbook and refresh it; beside it, a fresh snapshot store
    (demo.funnel.db) with weekly snapshots of the demo's past (26 by default)."""
    from funnel.demo.competition import demo_competition_tables
    from funnel.demo.data import demo_tables
    from udfs.macros import refresh_report
    from workbook.backfill import backfill_demo, demo_weeks
    from workbook.build import new_workbook
    from workbook.errors import WorkbookError
    from workbook.filebook import FileBook
    from workbook.store import StoreError, book_name, default_url

    if lang not in ("en", "zh-CN"):
        _fail(f"--lang takes en or zh-CN, got '{lang}'")
    started = time.perf_counter()
    try:
        with console.status(catalog.text("progress.demo_data", lang)) as status:
            tables = demo_tables(size=size, seed=seed, scenario=scenario.value, language=lang)
            tables.update(demo_competition_tables(tables, lang))
            status.update(catalog.text("progress.building", lang))
            new_workbook(out, lang, tables, force=force)
            status.update(catalog.text("progress.demo_history", lang))
            past, store_problem = None, None
            try:  # the demo's past is a bonus: a store that cannot be written leaves the workbook to refresh
                with runtime.for_refresh() as executor:
                    past = backfill_demo(out, tables, seed, lang, weeks=demo_weeks(size) if weeks is None else weeks,
                                         executor=executor)
            except StoreError as err:
                store_problem = err.message(lang)
            book = FileBook(out, report=lambda text: status.update(text), force=force,
                            executor=runtime.default_executor())
            report, message = refresh_report(book)  # the one engine run: its figures are what the file now holds
    except WorkbookError as err:
        _fail(_naming(out, err))
    _forecast_glance(report)
    _headline(report)
    if past is not None and past.recorded:
        _say_backfilled(past, book_name(out), _store_where(default_url(out)), lang)
    if store_problem is not None:
        err_console.print(Text.assemble(("funnel:", "bold yellow"), " ", store_problem), soft_wrap=True)
    console.print(message)
    console.print(catalog.text("cli.wrote_demo", lang, path=out, seconds=f"{time.perf_counter() - started:.1f}"), highlight=False)


def _report_of(path: Path, overrides: dict[str, str] | None = None, force: bool = False):
    from funnel.analysis import run
    from udfs.macros import history_beside

    with runtime.for_refresh() as executor:
        raw, log = _read_source(path)
        report = run(raw, overrides, log, executor, force=force)
    return report.with_history(history_beside(path.resolve(), report.settings))  # the store's tables, read only


def _book_language(path: Path) -> str:
    # The language a workbook's Settings name, for the lines said about it; en for a folder
    # of CSVs or a book that cannot be read (its problem is said on its own).
    from workbook.filebook import FileBook
    from workbook.importing import book_language

    if path.is_dir():
        return "en"
    try:
        return book_language(FileBook(path))
    except Exception:  # the command's own handling says what is wrong with the book
        return "en"


@app.command()
def new(
    path: Path = typer.Argument(..., help="The workbook to create: .xlsm (with its own Refresh buttons) or .xlsx "
                                "(no macros: refresh from the add-in's Funnel tab or with funnel refresh)."),
    demo_data: bool = typer.Option(False, "--demo", help="Fill the input tables with demo data."),
    lang: str = typer.Option("en", help="Language: en or zh-CN."),
    scheme: str = typer.Option("pib", help="Stage scheme: pib, six_step or seven_stage."),
    force: bool = typer.Option(False, help="Overwrite an existing file (even one Excel's owner file says is open)."),
) -> None:
    """Build a new funnel workbook (.xlsm, or a macro-free .xlsx)."""
    from funnel.demo.competition import demo_competition_tables
    from funnel.demo.data import demo_tables
    from funnel.inputs.schemes import PRESETS, preset_stages
    from workbook.build import new_workbook
    from workbook.errors import WorkbookError

    if lang not in ("en", "zh-CN"):
        _fail(f"--lang takes en or zh-CN, got '{lang}'")
    if scheme not in PRESETS:
        _fail(f"--scheme takes one of {', '.join(PRESETS)}, got '{scheme}'")
    if path.exists() and not force:
        _fail(f"{path} exists; pass --force to overwrite it")
    if path.suffix.lower() not in (".xlsm", ".xlsx"):
        _fail(f"{path} must end in .xlsm (with its own Refresh buttons) or .xlsx (no macros: the add-in's Funnel tab)")
    if demo_data:
        tables = demo_tables(2000, scheme=scheme, language=lang)
        tables.update(demo_competition_tables(tables, lang))
    else:
        tables = {"stages": preset_stages(scheme, lang)}
    try:
        new_workbook(path, lang, tables, force=force)
    except WorkbookError as err:
        _fail(_naming(path, err))
    where = "press Refresh" if path.suffix.lower() == ".xlsm" else "press Refresh on the Funnel tab (funnel addin install)"
    console.print(f"Wrote [bold]{path}[/]. Open it in Excel and {where}, or run: funnel refresh {path}")


@app.command()
def refresh(
    path: Path = typer.Argument(..., help="The workbook to refresh."),
    out: Optional[Path] = typer.Option(None, help="Write the refreshed workbook here instead of in place."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Override a setting for this run: KEY=VALUE."),
    force: bool = typer.Option(False, "--force", help="Refresh even when a required table or column is missing (write what "
                               "can be computed, the problem listed in Issues), or when Excel's owner file (~$name) says "
                               "the book is open."),
    store: Optional[str] = typer.Option(None, "--store", help="Record this refresh's snapshot here: a file path or a URL "
                                        "(sqlite:///file.db, postgresql+psycopg://host/db); default: the store setting, "
                                        "else BOOK.funnel.db beside the workbook."),
) -> None:
    """Refresh a workbook headless: the same macro the Refresh button runs (it records a snapshot too)."""
    from funnel.winmodel.choice import choice_line
    from udfs.macros import RefreshRefused, refresh_report, refused_message
    from workbook.errors import WorkbookError
    from workbook.filebook import FileBook
    from workbook.store import store_url

    if not path.exists():
        _fail(catalog.text("cli.no_workbook", "en", path=path))
    started = time.perf_counter()
    language = _book_language(path)
    try:
        with console.status(catalog.text("progress.refreshing", language)) as status:
            book = FileBook(path, out, report=lambda text: status.update(text), force=force,
                            executor=runtime.default_executor())
            overrides = _overrides(set_)
            if store is not None:
                overrides["store"] = store_url(store)  # a path from here, not from the workbook's folder
            report, _ = refresh_report(book, overrides, force=force)  # what the Refresh button runs
            message = book.message  # the macro's message, plus what the save had to leave out
    except RefreshRefused as err:
        _fail(f"{path.name}: {refused_message(err, language)} {catalog.text('cli.force_hint', language)}")
    except WorkbookError as err:
        _fail(_naming(path, err))
    except ValueError as err:
        _fail(str(err))
    console.print(catalog.text("cli.refreshed_in", report.settings.language, message=message,
                               seconds=f"{time.perf_counter() - started:.2f}", path=out or path))
    console.print(Text(choice_line(report.analysis.method_choice, report.settings.language)), soft_wrap=True)


_REPORT_FORMATS = ("table", "json", "csv", "xlsx")


@app.command()
def report(
    source: Path = typer.Argument(..., help="A workbook (.xlsm/.xlsx) or a folder of CSVs named like the tables."),
    format: str = typer.Option("table", "--format", help="table (readable, on the terminal), json (every table, "
                               "contract keys), csv (one table to the terminal, or every table into --out FOLDER), "
                               "xlsx (every table into --out FILE.xlsx)."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Override a setting for this run: KEY=VALUE."),
    only: Optional[list[str]] = typer.Option(None, "--table", help="Show only these tables (names as in the JSON)."),
    rows: int = typer.Option(15, "--rows", min=1, help="Rows of each table shown by --format table."),
    out: Optional[Path] = typer.Option(None, "--out", help="Where --format csv (a folder) or xlsx (a file) writes."),
    force: bool = typer.Option(False, "--force", help="Report even when a required table or column is missing: "
                               "what can be computed, the problem listed in issues; replace --out even when Excel "
                               "has it open."),
) -> None:
    """Every output table, on the terminal, as JSON, CSV or a plain .xlsx. Writes nothing else."""
    from funnel.analysis import OUTPUT_TABLES
    from funnel.inputs.refusals import RefreshRefused
    from funnel_cli.show import show_table
    from workbook.errors import WorkbookError
    from workbook.export import TABLE_NAMES, export_xlsx, shown_tables, table_csv, write_csv_tables

    if not source.exists():
        _fail(catalog.text("cli.no_source", "en", path=source))
    if format not in _REPORT_FORMATS:
        _fail(f"--format takes {', '.join(_REPORT_FORMATS)}, got '{format}'")
    known = TABLE_NAMES if format != "json" else OUTPUT_TABLES
    unknown = [name for name in only or [] if name not in known]
    if unknown:
        _fail(f"--table: no table {', '.join(unknown)}; the tables are {', '.join(known)}")
    if format == "xlsx" and (out is None or out.suffix.lower() != ".xlsx"):
        _fail("--format xlsx writes a file: give it with --out FILE.xlsx")
    if format == "csv" and out is None and len(only or []) != 1:
        _fail("--format csv prints one table (--table NAME) or writes every table into a folder (--out FOLDER)")
    try:
        result = _report_of(source, _overrides(set_), force)
    except RefreshRefused as err:
        language = _book_language(source)
        _fail(catalog.text("cli.no_report", language, book=source.name, reasons=err.said_in(language),
                           hint=catalog.text("cli.force_hint", language)))
    except WorkbookError as err:
        _fail(_naming(source, err))
    except ValueError as err:
        _fail(str(err))
    if format == "json":
        sys.stdout.write(report_json(result, only) + "\n")
    elif format == "xlsx":
        try:
            export_xlsx(result, out, only, force=force)
        except WorkbookError as err:
            _fail(_naming(out, err))
        console.print(f"Wrote {len(only or TABLE_NAMES)} table(s) to {out}", highlight=False)
    elif format == "csv":
        tables = shown_tables(result, only)
        if out is None:
            sys.stdout.write(table_csv(next(iter(tables.values()))))
            return
        try:
            written = write_csv_tables(tables, out)
        except OSError as err:
            _fail(f"{out}: cannot write the CSV files: {err.strerror or err}")
        console.print(f"Wrote {len(written)} CSV file(s) into {out}", highlight=False)
    else:
        for name, frame in shown_tables(result, only).items():
            show_table(console, name, frame, result.settings.language, rows)
        _headline(result)


@app.command("import")
def import_(
    export: Path = typer.Argument(..., help="The CRM export (CSV)."),
    into: Path = typer.Option(..., "--into", help="The workbook to import into (built when it does not exist)."),
    layout: str = typer.Option("auto", help="maven, salesforce, hubspot, salesforce-history, hubspot-history, auto, "
                               "or a mapping JSON file."),
    lang: str = typer.Option("en", help="Language of a new workbook: en or zh-CN."),
    currency: Optional[str] = typer.Option(None, "--currency", help="Currency code of a new workbook (default: the "
                                           "export's currency column, else CNY)."),
    force: bool = typer.Option(False, "--force", help="Write even when Excel's owner file (~$name) says the workbook "
                               "is open."),
    store: Optional[str] = typer.Option(None, "--store", help="History exports: the snapshot store (a path or a URL); "
                                        "default: BOOK.funnel.db beside the workbook."),
    weeks: int = typer.Option(13, "--weeks", min=1, max=520, help="History exports: how many weeks before the "
                              "workbook's as_of to take snapshots of."),
) -> None:
    """Import a CRM export into a workbook's input tables; re-importing never duplicates deals.

    A new workbook is set as of the export's newest date when that is more than a quarter
    ago, in the export's currency; an existing one keeps its settings. A history export
    (Salesforce's Opportunity History report, HubSpot's deal property history) goes into the
    workbook's snapshot store instead: a snapshot on each day something changed, as imported.
    """
    from funnel.crm.history import HISTORY_LAYOUTS, sniff_history_layout

    if layout in HISTORY_LAYOUTS or (layout == "auto" and sniff_history_layout(export)):
        _import_history(export, into, layout, store, weeks)
        return
    from funnel.crm.book_settings import new_book_settings
    from funnel.crm.importers import ExportError, import_export
    from workbook.errors import WorkbookError
    from workbook.importing import book_scheme, import_into_workbook

    if lang not in ("en", "zh-CN"):
        _fail(f"--lang takes en or zh-CN, got '{lang}'")
    if currency is not None and not (currency.strip().isalpha() and 2 <= len(currency.strip()) <= 5):
        _fail(f"--currency takes a currency code such as USD or CNY, got '{currency}'")
    new_book = not into.exists()
    try:
        # The book's own scheme and language: its stages the layout maps nothing to are reported.
        language, stages = book_scheme(into, lang)
        with console.status(catalog.text("progress.reading_file", language, file=export.name)):
            result = import_export(export, layout, stages, language)
        settings, notes = new_book_settings(result, lang, currency) if new_book else (None, [])
        with console.status(catalog.text("progress.writing_into", language, file=into.name)):
            counts = import_into_workbook(result, into, lang, force=force, settings=settings)
    except (ExportError, WorkbookError) as err:
        _fail(str(err))
    table = Table(title=catalog.text("cli.import_title", language, file=export.name, layout=result.layout), title_justify="left")
    for name in ("item", "count", "detail"):
        table.add_column(catalog.text(f"cli.import_column.{name}", language))
    for item, count, detail in result.summary.itertuples(index=False):
        table.add_row(str(item), f"{count:,}", str(detail))
    console.print(table)
    issues = result.log.table(language)
    if len(issues):
        console.print(Text(catalog.text("cli.import_problems", language, problems=len(issues)), style="yellow"))
        for r in issues.head(10).itertuples(index=False):
            where = (catalog.text("cli.import_problem", language, table=r.table, row=r.row, column=r.column,
                                  problem=r.problem, action=r.action) if not pd.isna(r.row) else
                     catalog.text("cli.import_problem_no_row", language, table=r.table, column=r.column,
                                  problem=r.problem, action=r.action))
            console.print(Text("  " + where))
    for note in notes:
        console.print(Text(note))
    if currency is not None and not new_book:
        console.print(f"--currency {currency} is for a new workbook: {into.name} keeps its own (change it in Settings)",
                      highlight=False)
    console.print(catalog.text(
        "cli.imported", language, added=f"{counts['added']:,}", updated=f"{counts['updated']:,}",
        unchanged=f"{counts['unchanged']:,}", skipped=f"{counts['skipped']:,}", history=f"{counts['history_added']:,}",
        people=f"{counts['people_added']:,}", book=into))


def _import_history(export: Path, into: Path, layout: str, store: str | None, weeks: int) -> None:
    import datetime as dt

    from funnel import catalog
    from funnel.analysis import Analysis
    from funnel.crm.history import read_history_export
    from funnel.crm.importers import ExportError
    from funnel.inputs.refusals import RefreshRefused
    from funnel.inputs.validation import validate
    from funnel.snapshots import change_days, combined_history, stage_changes
    from workbook.backfill import backfill_book
    from workbook.errors import WorkbookError
    from workbook.store import Store, StoreError, book_name, default_url, store_url

    if not into.exists():
        _fail(catalog.text("message.history_needs_book", "en", book=into))
    try:
        with console.status(catalog.text("progress.reading_file", "en", file=into.name)):
            raw, log = _read_source(into)
            inputs = validate(raw, {}, log)
        if inputs.refusals:
            _fail(f"{into.name}: no history import: {RefreshRefused(inputs.refusals)}")
        language = inputs.settings.language
        with console.status(catalog.text("progress.reading_file", language, file=export.name)):
            result = read_history_export(export, layout, known_ids=list(inputs.opportunities["id"].astype(str)),
                                         stage_codes=list(inputs.stages["code"].astype(str)))
    except (ExportError, WorkbookError) as err:
        _fail(str(err))
    except ValueError as err:
        _fail(str(err))
    issues = result.log.table(language)
    _say(catalog.text("message.history_imported", language, kept=f"{result.kept:,}", rows=f"{result.rows:,}",
                      file=export.name, layout=result.layout, deals=f"{result.history['deal_id'].nunique():,}",
                      problems=f"{len(issues):,}"))
    for r in issues.head(10).itertuples(index=False):
        _say(catalog.text("message.history_import_issue", language, file=r.table, row=r.row, column=r.column,
                          problem=r.problem, action=r.action))
    if result.ignored_properties:
        _say(catalog.text("message.history_ignored_properties", language,
                          names=", ".join(f"{name} ({count})" for name, count in result.ignored_properties.items())))
    as_of = inputs.settings.as_of
    history = combined_history(result.history, stage_changes(inputs.stage_history))
    days = change_days(result.history, as_of - dt.timedelta(days=7 * weeks), as_of)
    name = book_name(into)
    try:
        with console.status(catalog.text("progress.recording_history", language)), \
                Store(store_url(store) if store else default_url(into)) as opened:
            with runtime.for_refresh() as executor:
                done = backfill_book(opened, name, inputs, Analysis(inputs).stage_probabilities, history, days,
                                     origin="imported", executor=executor)
            where = opened.where
    except StoreError as err:
        _fail(err.message(language))
    _say_backfilled(done, name, where, language, weeks, as_of)


addin_app = typer.Typer(no_args_is_help=True, help="The funnel Excel add-in (funnel.xlam): a Funnel ribbon tab for any workbook.")
app.add_typer(addin_app, name="addin")


@addin_app.command("build")
def addin_build(
    out: Path = typer.Option(Path("funnel.xlam"), help="Where to write the add-in."),
    lang: str = typer.Option("en", help="Language of the ribbon's labels: en or zh-CN."),
    force: bool = typer.Option(False, "--force", help="Overwrite even when Excel's owner file says it is open."),
) -> None:
    """Build funnel.xlam: the Funnel ribbon tab and every FUNNEL_* worksheet function."""
    from funnel import catalog
    from udfs.addin import functions_module, worksheet_functions
    from workbook.addin import build_addin
    from workbook.errors import WorkbookError

    if lang not in ("en", "zh-CN"):
        _fail(f"--lang takes en or zh-CN, got '{lang}'")
    if out.suffix.lower() != ".xlam":
        _fail(f"{out} must end in .xlam (Excel loads add-ins by that extension)")
    try:
        build_addin(out, functions_module(), lang, force=force)
    except WorkbookError as err:
        _fail(_naming(out, err))
    console.print(catalog.text("addin.built", "en", path=out, functions=len(worksheet_functions())), soft_wrap=True)


def _appdata() -> Path | None:
    import os

    return Path(os.environ["APPDATA"]) if os.environ.get("APPDATA") else None


@addin_app.command("install")
def addin_install(
    addin: Path = typer.Argument(Path("funnel.xlam"), help="The built add-in (funnel addin build)."),
) -> None:
    """Copy the add-in into Excel's XLSTART folder and write its config (this Python, the UDF module)."""
    from funnel import catalog
    from workbook.addin import ExcelNotHere, install_addin

    try:
        where = install_addin(addin, sys.platform, Path.home(), sys.executable, _appdata())
    except ExcelNotHere:
        _fail(catalog.text("addin.no_excel", "en", platform=sys.platform, path=addin.resolve()))
    except FileNotFoundError:
        _fail(catalog.text("addin.missing_file", "en", path=addin))
    except OSError as err:
        _fail(f"could not install the add-in: {err}")
    console.print(catalog.text("addin.installed", "en", path=where.addin, config=where.config), soft_wrap=True)


@addin_app.command("uninstall")
def addin_uninstall() -> None:
    """Remove the add-in from Excel's XLSTART folder, and its config."""
    from funnel import catalog
    from workbook.addin import ExcelNotHere, placement, uninstall_addin

    try:
        where = uninstall_addin(sys.platform, Path.home(), _appdata())
    except ExcelNotHere:
        _fail(catalog.text("addin.no_excel", "en", platform=sys.platform, path=Path("funnel.xlam").resolve()))
    except FileNotFoundError:
        _fail(catalog.text("addin.not_installed", "en", path=placement(sys.platform, Path.home(), _appdata()).addin))
    except OSError as err:
        _fail(f"could not uninstall the add-in: {err}")
    console.print(catalog.text("addin.uninstalled", "en", path=where.addin, config=where.config), soft_wrap=True)


def doctor_report(platform: str, home: Path, appdata: Path | None, executable: str) -> tuple[list[tuple[str, str]], list[str]]:
    """What ``funnel doctor`` shows: (item, value) rows, and what does not agree (empty: all agree)."""
    import platform as python_platform
    from importlib.metadata import version

    from funnel import catalog
    from workbook.addin import ExcelNotHere, addin_xlwings_version, configured_interpreter, placement

    xlwings_version = version("xlwings")
    rows = [("Python", f"{python_platform.python_version()} ({executable})"), ("funnel", _installed_version()),
            ("xlwings", xlwings_version)]
    problems: list[str] = []
    try:
        where = placement(platform, home, appdata)
    except ExcelNotHere:
        rows.append(("add-in", catalog.text("addin.no_excel", "en", platform=platform, path=Path("funnel.xlam").resolve())))
        return rows, problems
    if not where.addin.is_file():
        problems.append(catalog.text("doctor.no_addin", "en", path=where.addin))
        return rows, problems
    built_with = addin_xlwings_version(where.addin) or "unknown"
    configured = configured_interpreter(where.config, platform) or ""
    rows += [("add-in", str(where.addin)), ("add-in's xlwings", built_with), ("add-in's Python", configured or "(none)")]
    if built_with != xlwings_version:
        problems.append(catalog.text("doctor.xlwings_differs", "en", addin=built_with, installed=xlwings_version))
    if not configured or Path(configured) != Path(executable):
        problems.append(catalog.text("doctor.other_python", "en", configured=configured or "(none)", executable=executable))
    return rows, problems


@app.command()
def doctor() -> None:
    """Which Python, funnel and xlwings the add-in will use, and whether they agree (exit 1 when not)."""
    from funnel import catalog

    rows, problems = doctor_report(sys.platform, Path.home(), _appdata(), sys.executable)
    table = Table(title="funnel doctor", title_justify="left")
    table.add_column("item")
    table.add_column("value", overflow="fold")
    for item, value in rows:
        table.add_row(item, value)
    console.print(table)
    for problem in problems:
        err_console.print(Text(problem), soft_wrap=True)
    if problems:
        raise typer.Exit(1)
    if any(item == "add-in's Python" for item, _ in rows):
        console.print(catalog.text("doctor.agree", "en"), soft_wrap=True)
def _as_of_option(value: str | None) -> dict[str, str]:
    import datetime as dt

    if value is None:
        return {}
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        _fail(f"--as-of takes a date YYYY-MM-DD, got '{value}'")
    return {"as_of": value}


def _say(message: str) -> None:
    # A catalog sentence, printed as written (a book named Q4[1] is not rich markup).
    console.print(Text(message), soft_wrap=True)


@app.command()
def snapshot(
    path: Path = typer.Argument(..., help="The workbook (or folder of CSVs) to take a snapshot of."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="The date the figures are as of (YYYY-MM-DD); "
                                        "default: the workbook's as_of setting, else today."),
    store: Optional[str] = typer.Option(None, "--store", help="The store: a file path, or a URL (sqlite:///file.db, "
                                        "postgresql+psycopg://host/db); default: BOOK.funnel.db beside the workbook."),
) -> None:
    """Record a snapshot of the deals and the forecast in the snapshot store; the workbook is not rewritten."""
    from funnel import catalog
    from funnel.analysis import Analysis
    from funnel.inputs.refusals import RefreshRefused
    from funnel.inputs.validation import validate
    from funnel.snapshots import forecast_figures, tracked_fields
    from workbook.errors import WorkbookError
    from workbook.store import Store, StoreError, book_name, default_url, store_url

    if not path.exists():
        _fail(f"no such workbook or folder: {path}")
    overrides = _as_of_option(as_of)
    try:
        with console.status(catalog.text("progress.reading_file", "en", file=path.name)):
            raw, log = _read_source(path)
            inputs = validate(raw, overrides, log)
    except WorkbookError as err:
        _fail(_naming(path, err))
    except ValueError as err:
        _fail(str(err))
    if inputs.refusals:
        _fail(f"{path.name}: no snapshot: {RefreshRefused(inputs.refusals)}")
    settings = inputs.settings
    with console.status("Computing the forecast..."):
        analysis = Analysis(inputs)
        state = tracked_fields(analysis.deals)
        figures = forecast_figures(analysis.forecast, analysis.forecast_periods, analysis.range_forecast)
    try:
        with console.status("Recording the snapshot..."), Store(store_url(store) if store else default_url(path)) as opened:
            recorded = opened.record(book_name(path), settings.as_of, state, figures, language=settings.language)
            where = opened.where
    except StoreError as err:
        _fail(err.message(settings.language))
    if not recorded.written:  # the same data on the same date: nothing written
        _say(catalog.text("message.refresh_snapshot_same", settings.language, id=recorded.id,
                          as_of=recorded.as_of.isoformat()))
        return
    _say(catalog.text("message.snapshot_recorded", settings.language, id=recorded.id, book=book_name(path),
                      as_of=recorded.as_of.isoformat(), deals=recorded.deals, changed=recorded.changed,
                      versions=recorded.new_versions, store=where))


@app.command()
def backfill(
    path: Path = typer.Argument(..., help="The workbook (or folder of CSVs) whose past snapshots to reconstruct."),
    weeks: int = typer.Option(13, "--weeks", min=1, max=520, help="How many weekly snapshots to go back from the "
                              "workbook's as_of."),
    store: Optional[str] = typer.Option(None, "--store", help="The store: a file path, or a URL (sqlite:///file.db, "
                                        "postgresql+psycopg://host/db); default: BOOK.funnel.db beside the workbook."),
) -> None:
    """Reconstruct past weekly snapshots from the Stage history table (amounts and close dates as known now),
    marked as reconstructed; running it again writes nothing new. The workbook is not rewritten."""
    from funnel.analysis import Analysis
    from funnel.inputs.refusals import RefreshRefused
    from funnel.inputs.validation import validate
    from funnel.snapshots import stage_changes, weekly_dates
    from workbook.backfill import backfill_book
    from workbook.errors import WorkbookError
    from workbook.store import Store, StoreError, book_name, default_url, store_url

    if not path.exists():
        _fail(f"no such workbook or folder: {path}")
    try:
        with console.status(catalog.text("progress.reading_file", "en", file=path.name)):
            raw, log = _read_source(path)
            inputs = validate(raw, {}, log)
    except WorkbookError as err:
        _fail(_naming(path, err))
    except ValueError as err:
        _fail(str(err))
    if inputs.refusals:
        _fail(f"{path.name}: no backfill: {RefreshRefused(inputs.refusals)}")
    settings, name = inputs.settings, book_name(path)
    days = weekly_dates(settings.as_of, weeks)
    try:
        with console.status("Reconstructing past snapshots..."), \
                Store(store_url(store) if store else default_url(path)) as opened:
            with runtime.for_refresh() as executor:
                done = backfill_book(opened, name, inputs, Analysis(inputs).stage_probabilities,
                                     stage_changes(inputs.stage_history), days, executor=executor)
            where = opened.where
    except StoreError as err:
        _fail(err.message(settings.language))
    _say_backfilled(done, name, where, settings.language)


def _store_where(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).database or url


def _say_backfilled(done, name: str, where: str, language: str, weeks: int | None = None, as_of=None) -> None:
    from funnel import catalog

    if not done.recorded and not done.skipped and weeks is not None:
        _say(catalog.text("message.backfill_none", language, book=name, weeks=weeks, as_of=as_of.isoformat()))

    if done.recorded:
        first, last = done.recorded[0], done.recorded[-1]
        _say(catalog.text("message.backfilled", language, book=name, count=len(done.recorded),
                          first=first.as_of.isoformat(), last=last.as_of.isoformat(),
                          versions=sum(r.new_versions for r in done.recorded), store=where))
    if done.skipped:
        _say(catalog.text("message.backfill_skipped", language, book=name, count=len(done.skipped)))


def _plain(value):
    # A value as JSON writes it: dates as ISO text, numpy numbers as Python's.
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


# The columns ``funnel history`` lists, in order.
_HISTORY_COLUMNS = ("id", "taken_at", "as_of", "deals", "changed", "open_deals", "open_amount", "weighted", "origin")


@app.command()
def history(
    path: Path = typer.Argument(..., help="The workbook (or folder of CSVs) whose snapshots to list."),
    store: Optional[str] = typer.Option(None, "--store", help="The store's URL; default: BOOK.funnel.db beside the "
                                        "workbook."),
    format: str = typer.Option("table", "--format", help="json or table."),
) -> None:
    """List a workbook's snapshots: date, deals, changed deals, open amount, weighted. Writes nothing."""
    from funnel import catalog
    from workbook.store import Store, StoreError, book_name, default_url, store_url

    if format not in ("json", "table"):
        _fail(f"--format takes json or table, got '{format}'")
    name = book_name(path)
    try:
        with Store(store_url(store) if store else default_url(path), create=False) as opened:
            snapshots, where = opened.history(name), opened.where
    except StoreError as err:
        _fail(err.message("en"))
    language = str(snapshots["language"].iloc[-1]) if len(snapshots) else "en"
    if format == "json":
        rows = [{col: _plain(value) for col, value in zip(_HISTORY_COLUMNS, r)}
                for r in snapshots[list(_HISTORY_COLUMNS)].itertuples(index=False)]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
        return
    if snapshots.empty:
        _say(catalog.text("message.no_snapshots", language, book=name, store=where))
        return
    table = Table(title=catalog.text("history.title", language, book=name, store=where), title_justify="left")
    for col in _HISTORY_COLUMNS:
        table.add_column(catalog.text(f"history.column.{col}", language), justify="left" if col.endswith(("_at", "as_of"))
                         else "right")
    for r in snapshots.itertuples(index=False):
        table.add_row(str(r.id), pd.Timestamp(r.taken_at).strftime("%Y-%m-%d %H:%M"), pd.Timestamp(r.as_of).strftime("%Y-%m-%d"),
                      f"{r.deals:,}", f"{r.changed:,}", f"{r.open_deals:,}", f"{r.open_amount:,.0f}", f"{r.weighted:,.0f}",
                      catalog.text(f"history.origin.{r.origin}", language))
    console.print(table)


def _date_option(name: str, value: str | None):
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(f"{name} takes a date YYYY-MM-DD, got '{value}'")


@app.command()
def flow(
    path: Path = typer.Argument(..., help="The workbook (or folder of CSVs) whose snapshots to compare."),
    from_: Optional[str] = typer.Option(None, "--from", help="The first snapshot: the latest as of this date "
                                        "(YYYY-MM-DD) or before; default: the last before the current period began."),
    to: Optional[str] = typer.Option(None, "--to", help="The second snapshot: the latest as of this date or before; "
                                     "default: the latest."),
    period: Optional[str] = typer.Option(None, "--period", help="Only this period (2026-Q1, 2026-03); default: every "
                                         "period an open deal closes in."),
    store: Optional[str] = typer.Option(None, "--store", help="The store's URL; default: BOOK.funnel.db beside the "
                                        "workbook."),
    format: str = typer.Option("table", "--format", help="json or table."),
) -> None:
    """How each period's pipeline went from one snapshot to another: start, created, pulled in, pushed out, won, ..., end."""
    from funnel import catalog
    from funnel.inputs.periods import normalize_period_label, period_of, period_start
    from funnel.inputs.validation import validate
    from funnel.snapshots import pipeline_flow
    from workbook.errors import WorkbookError
    from workbook.store import Store, StoreError, book_name, default_url, store_url

    if format not in ("json", "table"):
        _fail(f"--format takes json or table, got '{format}'")
    first_date, second_date = _date_option("--from", from_), _date_option("--to", to)
    if not path.exists():
        _fail(f"no such workbook or folder: {path}")
    try:
        raw, log = _read_source(path)
        settings = validate(raw, None, log).settings  # the periods follow the book's settings
    except WorkbookError as err:
        _fail(_naming(path, err))
    except ValueError as err:
        _fail(str(err))
    language, name = settings.language, book_name(path)
    periods = None
    if period is not None:
        try:
            periods = [normalize_period_label(period, settings)]
        except ValueError as err:
            _fail(f"--period: {err}")
    try:
        with Store(store_url(store) if store else default_url(path), create=False) as opened:
            snapshots = opened.history(name)
            if snapshots.empty:
                _fail(catalog.text("message.no_snapshots", language, book=name, store=opened.where))
            as_of = pd.to_datetime(snapshots["as_of"]).dt.date

            def latest_by(day):
                found = snapshots[as_of <= day] if day is not None else snapshots
                if found.empty:
                    _fail(catalog.text("flow.no_snapshot_by", language, book=name, date=day.isoformat(),
                                       first=as_of.iloc[0].isoformat()))
                return found.iloc[-1]

            second = latest_by(second_date)
            if first_date is None:  # the last snapshot before the current period began, else the first
                began = period_start(period_of(pd.Timestamp(second["as_of"]).date(), settings), settings)
                before = snapshots[(as_of < began) & (snapshots["id"] <= second["id"])]
                first = before.iloc[-1] if len(before) else snapshots.iloc[0]
            else:
                first = latest_by(first_date)
            result = pipeline_flow(*opened.states(name, [int(first["id"]), int(second["id"])]), settings, periods)
    except StoreError as err:
        _fail(err.message(language))
    if format == "json":
        rows = [{col: _plain(value) for col, value in zip(result.columns, r)} for r in result.itertuples(index=False)]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
        return
    title = catalog.text("flow.title", language, book=name, first=int(first["id"]), second=int(second["id"]),
                         first_date=pd.Timestamp(first["as_of"]).strftime("%Y-%m-%d"),
                         second_date=pd.Timestamp(second["as_of"]).strftime("%Y-%m-%d"))
    table = Table(title=title, title_justify="left")
    for col in ("period", "owner", "team", "change", "deals", "amount"):
        table.add_column(catalog.text(f"flow.column.{col}", language), justify="right" if col in ("deals", "amount") else "left")
    total = catalog.text("flow.total", language)
    for r in result.itertuples(index=False):
        if r.deals == 0 and r.amount == 0 and r.change not in ("start", "end"):
            continue  # the terminal shows what moved; JSON has every row
        table.add_row(r.period, r.owner or total, r.team, catalog.text(f"flow.change.{r.change}", language), f"{r.deals:,}",
                      f"{r.amount:,.0f}")
    console.print(table)


def report_json(result, only: list[str] | None = None) -> str:
    """Every output table as JSON: {table name: [row objects]}; dates as ISO text."""
    payload = {}
    for name, frame in result.tables.items():
        if only and name not in only:
            continue
        # pandas 2 writes a nullable integer column that holds a blank as floats (8.0): as objects, 8.
        ints = {col: object for col, kind in frame.dtypes.items()
                if isinstance(kind, pd.api.extensions.ExtensionDtype) and kind.kind in "iu"}
        payload[name] = json.loads(frame.astype(ints).to_json(orient="records", date_format="iso", date_unit="s"))
    payload["settings"] = json.loads(result.settings.model_dump_json())
    return json.dumps(payload, ensure_ascii=False, indent=1)


def _version(value: bool) -> None:
    if value:
        console.print(f"funnel {_installed_version()}")
        raise typer.Exit()


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Sales-funnel analytics for Excel workbooks."""


def main() -> None:
    """Console entry: run the app; an unexpected error is one readable line, not a traceback.

    typer itself answers a command-line mistake (no command, a missing argument, an
    unknown option) with the usage line and exit code 2. Set FUNNEL_DEBUG=1 to see the
    traceback of an unexpected error.
    """
    import os

    try:
        app()  # standalone: exits with the command's code; usage errors exit 2
    except Exception as err:  # the last line of defence for the user's terminal
        if os.environ.get("FUNNEL_DEBUG"):
            raise
        err_console.print(Text.assemble(("funnel: unexpected error:", "bold red"), f" {type(err).__name__}: {err}\n"
                                        "Nothing was written. Run again with FUNNEL_DEBUG=1 for details and report it."),
                          soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
