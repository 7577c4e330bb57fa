"""A private headless LibreOffice for one UNO script, killed on every exit path.

Import from a script run with the system Python that has LibreOffice's UNO bridge (not
the project's venv); the script's own folder is on ``sys.path``, so ``import lo_session``
works. The approach is the one ``lo_vba_modules.py`` takes, held once here:

* soffice gets a throw-away profile and its own named pipe, so it never joins (or
  disturbs) another soffice, a user's own or a parallel test's;
* it runs in its own process group, so killing the group also kills ``soffice.bin``;
* a watchdog kills it and ends the whole script with status 3 when the timeout passes
  (a dialog LibreOffice waits on forever cannot hang a test run);
* the pipes a killed soffice leaves in /tmp are removed.

    with OfficeSession(timeout=120) as context:
        desktop = context.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", context)

Raises ``OfficeDidNotStart`` when soffice never answers on its pipe.
"""

from __future__ import annotations

import hashlib
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

__all__ = [
    "SOFFICE",
    "ALWAYS_EXECUTE_NO_WARN",
    "TIMED_OUT",
    "OfficeDidNotStart",
    "OfficeSession",
    "connect",
    "ipc_pipe_name",
    "enable_vba_import",
    "prop",
]

SOFFICE = os.environ.get("FUNNEL_SOFFICE", "/usr/bin/soffice")
ALWAYS_EXECUTE_NO_WARN = 4  # com.sun.star.document.MacroExecMode
TIMED_OUT = 3  # exit status of a script whose soffice outlived its timeout


class OfficeDidNotStart(RuntimeError):
    """soffice never answered on its pipe before the deadline."""


class OfficeSession:
    """Start a private headless soffice; yield its remote component context.

    Args:
        timeout: seconds the whole session may take, start-up included; past it the
            watchdog kills soffice and exits the process with status ``TIMED_OUT``.
    """

    def __init__(self, timeout: float = 120.0) -> None:
        self.timeout = timeout
        self.profile = Path(tempfile.mkdtemp(prefix="lo_profile_"))
        self.pipe = f"lo_{uuid.uuid4().hex}"
        self.office: subprocess.Popen | None = None
        self._timer: threading.Timer | None = None

    def __enter__(self):
        self.office = subprocess.Popen(
            [
                SOFFICE,
                f"-env:UserInstallation={self.profile.as_uri()}",
                "--headless",
                "--invisible",
                "--norestore",
                "--nologo",
                "--nodefault",
                "--nolockcheck",
                f"--accept=pipe,name={self.pipe};urp;StarOffice.ComponentContext",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so soffice.bin dies with it
        )
        self._timer = threading.Timer(self.timeout, self._watchdog)
        self._timer.daemon = True
        self._timer.start()
        context = connect(self.pipe, deadline=time.monotonic() + self.timeout)
        if context is None:
            self.__exit__(None, None, None)
            raise OfficeDidNotStart("soffice did not answer on its pipe")
        return context

    def __exit__(self, *exc) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self.stop()

    def stop(self) -> None:
        """Kill soffice's process group and remove its profile and pipes (idempotent)."""
        if self.office is not None:
            try:
                os.killpg(self.office.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.office.wait()
        shutil.rmtree(self.profile, ignore_errors=True)
        for socket in (self.pipe, ipc_pipe_name(self.profile)):  # a killed soffice leaves them
            Path(f"/tmp/OSL_PIPE_{os.geteuid()}_{socket}").unlink(missing_ok=True)

    def _watchdog(self) -> None:
        print(f"timed out after {self.timeout:.0f}s", file=sys.stderr)
        self.stop()
        os._exit(TIMED_OUT)


def ipc_pipe_name(profile: Path) -> str:
    """The single-instance pipe soffice makes for a profile: MD5 of its URL, unpadded hex."""
    digest = hashlib.md5(profile.as_uri().encode("utf-16-le")).digest()
    return "SingleOfficeIPC_" + "".join(f"{byte:x}" for byte in digest)


def connect(pipe: str, deadline: float):
    """The remote component context of the soffice on ``pipe``, or None by the deadline."""
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


def enable_vba_import(context) -> None:
    """Turn on Tools > Options > Load/Save > VBA Properties for Excel: load, executable."""
    provider = context.ServiceManager.createInstanceWithContext(
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
