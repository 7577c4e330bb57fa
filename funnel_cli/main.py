"""The ``funnel`` command line: shell code over funnel/, workbook/ and udfs/.

Every command prints a clear message and exits non-zero on a problem the user can fix
(a missing file, a bad setting); no command ends in a traceback for bad input.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Optional

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

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


def _show(report, names: list[str] | None = None, rows: int = 15) -> None:
    for name, frame in report.tables.items():
        if names and name not in names:
            continue
        table = Table(title=f"{name} ({len(frame)} rows)", title_justify="left", show_lines=False)
        for col in frame.columns:
            table.add_column(str(col), overflow="fold")
        for record in frame.head(rows).itertuples(index=False):
            table.add_row(*(_fmt(v) for v in record))
        console.print(table)


def _fmt(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:,.4f}" if abs(value) < 10 else f"{value:,.0f}"
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    return str(value)


def _forecast_glance(report) -> None:
    """The forecast by period around as-of, in a table narrow enough for a terminal."""
    from funnel.inputs.periods import period_of

    f = report["forecast_periods"]
    current = period_of(report.settings.as_of, report.settings)
    shown = f[(f["period"] >= current) | (f["period"] == f["period"].max())].head(6)
    table = Table(title="Forecast by period", title_justify="left")
    for name in ("period", "open deals", "weighted", "commit", "closed won", "quota", "attainment"):
        table.add_column(name, justify="left" if name == "period" else "right")
    for r in shown.itertuples(index=False):
        table.add_row(r.period, f"{r.open_deals:,}", f"{r.weighted:,.0f}", f"{r.commit:,.0f}", f"{r.closed_won:,.0f}",
                      "" if pd.isna(r.quota) else f"{r.quota:,.0f}", "" if pd.isna(r.attainment) else f"{r.attainment:.0%}")
    console.print(table)


def _headline(report) -> None:
    s = dict(zip(report["summary"]["metric"], report["summary"]["value"]))
    cur = report.settings.currency
    console.print(
        f"[bold]As of {pd.Timestamp(s['as_of']):%Y-%m-%d}[/]: {s['open_deals']:,} open deals, "
        f"open {cur} {s['open_amount']:,.0f}, weighted {cur} {s['weighted_pipeline']:,.0f}; "
        f"won {s['won_deals']:,} ({cur} {s['won_amount']:,.0f}), lost {s['lost_deals']:,}, "
        f"win rate {s['win_rate']:.1%}; {s['issues']} problem(s) in the data."
    )


@app.command()
def demo(
    out: Path = typer.Option(Path("demo.xlsm"), help="Where to write the demo workbook."),
    size: int = typer.Option(2000, min=10, help="Number of deals to generate."),
    lang: str = typer.Option("en", help="Language of the workbook: en or zh-CN."),
    seed: int = typer.Option(7, help="Random seed (the same seed gives the same data)."),
    force: bool = typer.Option(False, "--force", help="Overwrite the output even when Excel's owner file (~$name) "
                               "says it is open."),
) -> None:
    """Generate the demo data, build the demo workbook and refresh it."""
    from funnel.demo.competition import demo_competition_tables
    from funnel.demo.data import demo_tables
    from udfs.macros import refresh_report
    from workbook.build import new_workbook
    from workbook.errors import WorkbookError
    from workbook.filebook import FileBook

    if lang not in ("en", "zh-CN"):
        _fail(f"--lang takes en or zh-CN, got '{lang}'")
    started = time.perf_counter()
    try:
        with console.status("Generating demo data...") as status:
            tables = demo_tables(size=size, seed=seed)
            tables.update(demo_competition_tables(tables))
            status.update("Building the workbook...")
            new_workbook(out, lang, tables, force=force)
            book = FileBook(out, report=lambda text: status.update(text), force=force,
                            executor=runtime.default_executor())
            report, message = refresh_report(book)  # the one engine run: its figures are what the file now holds
    except WorkbookError as err:
        _fail(_naming(out, err))
    _forecast_glance(report)
    _headline(report)
    console.print(f"{message}\nWrote [bold]{out}[/] in {time.perf_counter() - started:.1f} s.")


def _report_of(path: Path, overrides: dict[str, str] | None = None, force: bool = False):
    from funnel.analysis import run

    with runtime.for_refresh() as executor:
        raw, log = _read_source(path)
        return run(raw, overrides, log, executor, force=force)


# Said after a refusal: the one flag that computes anyway.
_FORCE_HINT = "(--force: go ahead with what can be computed)"


@app.command()
def new(
    path: Path = typer.Argument(..., help="The .xlsm to create."),
    demo_data: bool = typer.Option(False, "--demo", help="Fill the input tables with demo data."),
    lang: str = typer.Option("en", help="Language: en or zh-CN."),
    scheme: str = typer.Option("pib", help="Stage scheme: pib, six_step or seven_stage."),
    force: bool = typer.Option(False, help="Overwrite an existing file (even one Excel's owner file says is open)."),
) -> None:
    """Build a new funnel workbook (.xlsm)."""
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
    if path.suffix.lower() != ".xlsm":
        _fail(f"{path} must end in .xlsm (the workbook carries macros)")
    if demo_data:
        tables = demo_tables(2000, scheme=scheme)
        tables.update(demo_competition_tables(tables))
    else:
        tables = {"stages": preset_stages(scheme, lang)}
    try:
        new_workbook(path, lang, tables, force=force)
    except WorkbookError as err:
        _fail(_naming(path, err))
    console.print(f"Wrote [bold]{path}[/]. Open it in Excel and press Refresh, or run: funnel refresh {path}")


@app.command()
def refresh(
    path: Path = typer.Argument(..., help="The workbook to refresh."),
    out: Optional[Path] = typer.Option(None, help="Write the refreshed workbook here instead of in place."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Override a setting for this run: KEY=VALUE."),
    force: bool = typer.Option(False, "--force", help="Refresh even when a required table or column is missing (write what "
                               "can be computed, the problem listed in Issues), or when Excel's owner file (~$name) says "
                               "the book is open."),
) -> None:
    """Refresh a workbook headless: the same macro the Refresh button runs."""
    from udfs.macros import RefreshRefused, refused_message
    from udfs.macros import refresh as refresh_macro
    from workbook.errors import WorkbookError
    from workbook.filebook import FileBook

    if not path.exists():
        _fail(f"no such workbook: {path}")
    started = time.perf_counter()
    try:
        with console.status("Refreshing...") as status:
            book = FileBook(path, out, report=lambda text: status.update(text), force=force,
                            executor=runtime.default_executor())
            refresh_macro(book, _overrides(set_), force=force)
            message = book.message  # the macro's message, plus what the save had to leave out
    except RefreshRefused as err:
        _fail(f"{path.name}: {refused_message(err)} {_FORCE_HINT}")
    except WorkbookError as err:
        _fail(_naming(path, err))
    except ValueError as err:
        _fail(str(err))
    console.print(f"{message} ({time.perf_counter() - started:.2f} s, saved to {out or path})")


@app.command()
def report(
    source: Path = typer.Argument(..., help="A workbook (.xlsm/.xlsx) or a folder of CSVs named like the tables."),
    format: str = typer.Option("table", "--format", help="json or table."),
    set_: Optional[list[str]] = typer.Option(None, "--set", help="Override a setting for this run: KEY=VALUE."),
    only: Optional[list[str]] = typer.Option(None, "--table", help="Show only these tables."),
    force: bool = typer.Option(False, "--force", help="Report even when a required table or column is missing: "
                               "what can be computed, the problem listed in issues."),
) -> None:
    """Every output table, as JSON keyed by table name or as readable tables. Writes nothing."""
    from funnel.inputs.refusals import RefreshRefused
    from workbook.errors import WorkbookError

    if not source.exists():
        _fail(f"no such workbook or folder: {source}")
    if format not in ("json", "table"):
        _fail(f"--format takes json or table, got '{format}'")
    try:
        result = _report_of(source, _overrides(set_), force)
    except RefreshRefused as err:
        _fail(f"{source.name}: no report: {err} {_FORCE_HINT}")
    except WorkbookError as err:
        _fail(_naming(source, err))
    except ValueError as err:
        _fail(str(err))
    if format == "json":
        sys.stdout.write(report_json(result, only) + "\n")
    else:
        _show(result, only)
        _headline(result)


@app.command("import")
def import_(
    export: Path = typer.Argument(..., help="The CRM export (CSV)."),
    into: Path = typer.Option(..., "--into", help="The workbook to import into (built when it does not exist)."),
    layout: str = typer.Option("auto", help="maven, salesforce, hubspot, auto, or a mapping JSON file."),
    lang: str = typer.Option("en", help="Language of a new workbook: en or zh-CN."),
    force: bool = typer.Option(False, "--force", help="Write even when Excel's owner file (~$name) says the workbook "
                               "is open."),
) -> None:
    """Import a CRM export into a workbook's input tables; re-importing never duplicates deals."""
    from funnel.crm.importers import ExportError, import_export
    from workbook.errors import WorkbookError
    from workbook.importing import import_into_workbook

    if lang not in ("en", "zh-CN"):
        _fail(f"--lang takes en or zh-CN, got '{lang}'")
    try:
        with console.status(f"Reading {export.name}..."):
            result = import_export(export, layout)
        with console.status(f"Writing into {into.name}..."):
            counts = import_into_workbook(result, into, lang, force=force)
    except (ExportError, WorkbookError) as err:
        _fail(str(err))
    table = Table(title=f"Import of {export.name} ({result.layout})", title_justify="left")
    for name in ("item", "count", "detail"):
        table.add_column(name)
    for item, count, detail in result.summary.itertuples(index=False):
        table.add_row(str(item), f"{count:,}", str(detail))
    console.print(table)
    issues = result.issues
    if len(issues):
        console.print(f"[yellow]{len(issues)} problem(s) in the export[/] (first 10):")
        for r in issues.head(10).itertuples(index=False):
            console.print(f"  {r.table} row {r.row}, {r.column}: {r.problem} ({r.action})")
    console.print(
        f"Deals: {counts['added']:,} added, {counts['updated']:,} updated, {counts['unchanged']:,} unchanged, "
        f"{counts['skipped']:,} skipped; {counts['history_added']:,} stage-history rows added to {into}. "
        f"Next: funnel refresh {into}"
    )


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
        with console.status(f"Reading {path.name}..."):
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
    _say(catalog.text("message.snapshot_recorded", settings.language, id=recorded.id, book=book_name(path),
                      as_of=recorded.as_of.isoformat(), deals=recorded.deals, changed=recorded.changed,
                      versions=recorded.new_versions, store=where))


def _plain(value):
    # A value as JSON writes it: dates as ISO text, numpy numbers as Python's.
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value.item() if hasattr(value, "item") else value


# The columns ``funnel history`` lists, in order.
_HISTORY_COLUMNS = ("id", "taken_at", "as_of", "deals", "changed", "open_deals", "open_amount", "weighted")


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
                      f"{r.deals:,}", f"{r.changed:,}", f"{r.open_deals:,}", f"{r.open_amount:,.0f}", f"{r.weighted:,.0f}")
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
            result = pipeline_flow(opened.state(name, int(first["id"])), opened.state(name, int(second["id"])), settings,
                                   periods)
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
