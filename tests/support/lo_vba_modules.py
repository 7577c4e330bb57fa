"""List the VBA modules LibreOffice reads from a workbook, as JSON on stdout.

Run with the system Python that has LibreOffice's UNO bridge (not the project's venv):

    /usr/bin/python3 tests/support/lo_vba_modules.py book.xlsm [--timeout 90]

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
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException

SOFFICE = "/usr/bin/soffice"
ALWAYS_EXECUTE_NO_WARN = 4  # com.sun.star.document.MacroExecMode
VBA_LIBRARY = "VBAProject"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workbook", type=Path)
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds before giving up")
    args = parser.parse_args()

    profile = Path(tempfile.mkdtemp(prefix="lo_vba_profile_"))
    pipe = f"lo_vba_{uuid.uuid4().hex}"
    office = subprocess.Popen(
        [
            SOFFICE,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so soffice.bin dies with it
    )

    def stop_office() -> None:
        try:
            os.killpg(office.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        office.wait()
        shutil.rmtree(profile, ignore_errors=True)
        for socket in (pipe, ipc_pipe_name(profile)):  # a killed soffice leaves them in /tmp
            Path(f"/tmp/OSL_PIPE_{os.geteuid()}_{socket}").unlink(missing_ok=True)

    def watchdog() -> None:
        print(f"timed out after {args.timeout:.0f}s", file=sys.stderr)
        stop_office()
        os._exit(3)

    timer = threading.Timer(args.timeout, watchdog)
    timer.daemon = True
    timer.start()
    try:
        context = connect(pipe, deadline=time.monotonic() + args.timeout)
        if context is None:
            print("soffice did not answer on its pipe", file=sys.stderr)
            return 2
        print(json.dumps(read_modules(context, args.workbook.resolve()), indent=1))
        return 0
    finally:
        timer.cancel()
        stop_office()


def ipc_pipe_name(profile: Path) -> str:
    """The single-instance pipe soffice makes for a profile: MD5 of its URL, unpadded hex."""
    digest = hashlib.md5(profile.as_uri().encode("utf-16-le")).digest()
    return "SingleOfficeIPC_" + "".join(f"{byte:x}" for byte in digest)


def connect(pipe: str, deadline: float):
    """The remote component context of the soffice on `pipe`, or None by the deadline."""
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    while time.monotonic() < deadline:
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except NoConnectException:
            time.sleep(0.25)
    return None


def read_modules(context, workbook: Path) -> dict:
    """Open `workbook` in the remote soffice and read its VBA library and sheet code names."""
    smgr = context.ServiceManager
    enable_vba_import(smgr, context)
    desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", context)
    document = desktop.loadComponentFromURL(
        workbook.as_uri(),
        "_blank",
        0,
        (
            prop("Hidden", True),
            prop("ReadOnly", True),
            prop("MacroExecutionMode", ALWAYS_EXECUTE_NO_WARN),
        ),
    )
    if document is None:
        raise RuntimeError(f"LibreOffice could not open {workbook}")
    try:
        libraries = document.BasicLibraries
        result = {"library": None, "modules": {}, "code_names": {}}
        if libraries.hasByName(VBA_LIBRARY):
            libraries.loadLibrary(VBA_LIBRARY)
            library = libraries.getByName(VBA_LIBRARY)
            result["library"] = VBA_LIBRARY
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


def enable_vba_import(smgr, context) -> None:
    """Turn on Tools > Options > Load/Save > VBA Properties for Excel: load, executable."""
    provider = smgr.createInstanceWithContext(
        "com.sun.star.configuration.ConfigurationProvider", context
    )
    access = provider.createInstanceWithArguments(
        "com.sun.star.configuration.ConfigurationUpdateAccess",
        (prop("nodepath", "/org.openoffice.Office.Calc/Filter/Import/VBA"),),
    )
    access.setPropertyValue("Load", True)
    access.setPropertyValue("Executable", True)
    access.commitChanges()


def prop(name: str, value) -> PropertyValue:
    """A com.sun.star.beans.PropertyValue."""
    return PropertyValue(Name=name, Value=value)


if __name__ == "__main__":
    sys.exit(main())
