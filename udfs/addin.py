"""The Python side of the add-in's ribbon (``workbook.addin``), and its function declarations.

Each ribbon button's VBA callback runs one function here through xlwings' ``RunPython``.
xlwings' add-in module passes the *active* workbook, so ``xw.Book.caller()`` is the
workbook the user is looking at (an .xlsx without macros works as well as an .xlsm).

``functions_module`` writes the VBA declaration of every ``FUNNEL_*`` worksheet function,
in the form xlwings' *Import Functions* generates (``xlwings.udfs.generate_vba_wrapper``:
``XLPy.CallUDF`` with the active workbook, the cell's error text on failure). It is built
from the functions' Python signatures, so it runs on any platform, not only where xlwings
can import its Windows-only UDF machinery.
"""

from __future__ import annotations

import datetime
import functools
import inspect
import logging
import platform
import sys
import traceback
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from funnel import catalog
from udfs import functions
from udfs.macros import refresh as refresh_macro
from udfs.macros import snapshot as snapshot_macro
from workbook.importing import book_language, merged_tables
from workbook.layout import UDF_MODULES
from workbook.vba_project import VbaModule

__all__ = ["FUNCTIONS_MODULE", "about", "about_text", "functions_module", "import_export", "log_path", "new_workbook",
           "refresh", "worksheet_functions"]

FUNCTIONS_MODULE = "FunnelFunctions"
DISTRIBUTION = "funnel-excel"

logger = logging.getLogger(__name__)


def worksheet_functions() -> dict[str, inspect.Signature]:
    """Every ``FUNNEL_*`` worksheet function and its signature, in ``udfs.functions.__all__`` order."""
    return {name: inspect.signature(getattr(functions, name)) for name in functions.__all__
            if name.startswith(functions.UDF_PREFIX)}


def functions_module() -> VbaModule:
    """``FunnelFunctions``: the VBA declaration of each worksheet function, calling Python."""
    lines = [
        f'Attribute VB_Name = "{FUNCTIONS_MODULE}"',
        "' The funnel worksheet functions, as xlwings' Import Functions declares them (written by",
        "' funnel addin build from udfs.functions). While the add-in is loaded they work in any workbook.",
        "#Const App = \"Microsoft Excel\" 'Adjust when using outside of Excel",
    ]
    for name, signature in worksheet_functions().items():
        params = [("Optional " if p.default is not inspect.Parameter.empty else "") + p.name
                  for p in signature.parameters.values()]
        args = ", ".join(signature.parameters)
        lines += [
            f"Function {name}({', '.join(params)})",
            '        #If App = "Microsoft Excel" Then',
            "            If TypeOf Application.Caller Is Range Then On Error GoTo failed",
            f'            {name} = XLPy.CallUDF("{UDF_MODULES}", "{name}", Array({args}), ActiveWorkbook, Application.Caller)',
            "            Exit Function",
            "        #Else",
            f'            {name} = XLPy.CallUDF("{UDF_MODULES}", "{name}", Array({args}))',
            "            Exit Function",
            "        #End If",
            "failed:",
            f"        {name} = Err.Description",
            "End Function",
        ]
    return VbaModule(FUNCTIONS_MODULE, "standard", "\n".join(lines) + "\n")


def log_path() -> Path:
    """Where the ribbon's Python side logs what went wrong: ``~/.funnel/funnel.log``."""
    return Path.home() / ".funnel" / "funnel.log"


def _logged(callback):
    # What went wrong in a ribbon callback is appended to the log (xlwings shows the box).
    @functools.wraps(callback)
    def run(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except Exception:
            try:
                log_path().parent.mkdir(parents=True, exist_ok=True)
                with log_path().open("a", encoding="utf-8") as log:
                    log.write(f"{datetime.datetime.now():%Y-%m-%d %H:%M:%S} {callback.__name__}\n{traceback.format_exc()}\n")
            except OSError:
                logger.exception("%s failed and the log could not be written", callback.__name__)
            raise
    return run


@_logged
def refresh(book=None) -> str:
    """Refresh: the active workbook's output tables from its input tables (``udfs.macros.refresh``)."""
    return refresh_macro(book)


@_logged
def snapshot(book=None) -> str:
    """Snapshot: record the active workbook's deals and forecast in its snapshot store, no
    table rewritten (``udfs.macros.snapshot``)."""
    return snapshot_macro(book)


@_logged
def import_export(export: str, book=None) -> str:
    """Import CRM export...: merge the export at ``export`` into the workbook's input tables.

    Deals are merged by id (re-importing changes nothing) and new stage-history rows
    added, as ``funnel import`` does to a file; the tables are written into the open
    workbook, which the user saves.
    """
    from funnel.crm.importers import import_export as read_export
    from udfs.xlwings_book import XlwingsBook, caller_book

    target = caller_book() if book is None else XlwingsBook(book)
    language = book_language(target)
    frames, counts = merged_tables(read_export(Path(export), "auto"), target, language)
    for name, frame in frames.items():
        target.write_table(name, frame)
    message = catalog.text("message.imported", language, added=counts["added"], updated=counts["updated"],
                           unchanged=counts["unchanged"], skipped=counts["skipped"], history=counts["history_added"])
    target.finish(message)
    return message


@_logged
def new_workbook(path: str, language: str = "en") -> str:
    """New funnel workbook...: build an empty funnel workbook at ``path`` (its VBA opens it)."""
    from workbook.build import new_workbook as build

    build(path, language)
    return path


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def about_text(addin_version: str, language: str = "en") -> str:
    """About: the add-in's version, the Python running it, funnel's and xlwings' versions, the log."""
    return catalog.text("message.about", language, addin=addin_version, python=platform.python_version(),
                        executable=sys.executable, funnel=_version(DISTRIBUTION), xlwings=_version("xlwings"),
                        log=log_path())


@_logged
def about(book=None) -> str:
    """Show ``about_text`` in a box in Excel."""
    import xlwings as xw

    from udfs.xlwings_book import XlwingsBook

    target = XlwingsBook(book if book is not None else xw.Book.caller())
    text = about_text(_version(DISTRIBUTION), book_language(target))
    target.finish(text)
    return text
