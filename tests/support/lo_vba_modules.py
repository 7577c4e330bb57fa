"""List the VBA modules LibreOffice reads from a workbook, as JSON on stdout.

Run with the system Python that has LibreOffice's UNO bridge (not the project's venv):

    /usr/bin/python3 tests/support/lo_vba_modules.py book.xlsm [--timeout 90] [--filter NAME] [--library NAME]

Starts a private headless soffice (its own throw-away profile, its own pipe), turns on
Calc's "load VBA code" options, opens the workbook hidden with macros allowed, and prints

    {"library": "VBAProject",
     "modules": {"Module1": {"type": 1, "code": "..."}, ...},
     "code_names": {"Sheet1": "Sheet1", ...}}

``type`` is ``com.sun.star.script.ModuleType`` (1 normal, 2 class, 4 document) and
``code_names`` maps each sheet's name to its VBA code name. soffice is killed (its whole
process group) on every exit path, and a watchdog kills it and exits with status 3 when
the timeout passes. Exit status 2: soffice never answered.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# Run as a script: this folder is on sys.path, so the shared session helpers import directly.
from lo_session import ALWAYS_EXECUTE_NO_WARN, OfficeDidNotStart, OfficeSession, enable_vba_import, prop

VBA_LIBRARY = "VBAProject"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook", type=Path)
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds before giving up")
    parser.add_argument("--library", default=VBA_LIBRARY, help="the Basic library: the VBA project's name")
    parser.add_argument("--filter", default=None,
                        help="import filter, e.g. 'Calc MS Excel 2007 VBA XML' for an .xlam (no type detection for it)")
    args = parser.parse_args()
    try:
        with OfficeSession(timeout=args.timeout) as context:
            print(json.dumps(read_modules(context, args.workbook.resolve(), args.filter, args.library), indent=1))
    except OfficeDidNotStart as err:
        print(err, file=sys.stderr)
        return 2
    return 0


def read_modules(context, workbook: Path, filter_name: str | None = None, library_name: str = VBA_LIBRARY) -> dict:
    """Open `workbook` in the remote soffice (with import filter `filter_name`, if given) and
    read its VBA library and sheet code names."""
    smgr = context.ServiceManager
    enable_vba_import(context)
    desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", context)
    document = desktop.loadComponentFromURL(
        workbook.as_uri(),
        "_blank",
        0,
        (
            prop("Hidden", True),
            prop("ReadOnly", True),
            prop("MacroExecutionMode", ALWAYS_EXECUTE_NO_WARN),
        )
        + ((prop("FilterName", filter_name),) if filter_name else ()),
    )
    if document is None:
        raise RuntimeError(f"LibreOffice could not open {workbook}")
    try:
        libraries = document.BasicLibraries
        result = {"library": None, "modules": {}, "code_names": {}}
        if libraries.hasByName(library_name):
            libraries.loadLibrary(library_name)
            library = libraries.getByName(library_name)
            result["library"] = library_name
            for name in library.ElementNames:
                result["modules"][name] = {
                    "type": library.getModuleInfo(name).ModuleType,
                    "code": library.getByName(name),
                }
        sheets = document.Sheets
        for index in range(sheets.Count):
            sheet = sheets.getByIndex(index)
            result["code_names"][sheet.Name] = sheet.CodeName
        return result
    finally:
        document.close(True)


if __name__ == "__main__":
    sys.exit(main())
