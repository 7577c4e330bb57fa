"""LibreOffice from the project's Python: run ``lo_probe.py`` under the UNO Python.

LibreOffice's UNO bridge lives in the system Python (``/usr/bin/python3``), not in the
project's venv, so tests and tools never import ``uno``: they hand a request to
``tests/support/lo_probe.py`` in a subprocess and read its JSON answer.

    from tests.support.libreoffice import probe, requires_libreoffice

    @requires_libreoffice
    def test_something(tmp_path):
        seen = probe("book.xlsm", tables=["tblSummary"], modules=True)

``FUNNEL_UNO_PYTHON`` and ``FUNNEL_SOFFICE`` point at another Python or soffice.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

__all__ = [
    "UNO_PYTHON",
    "SOFFICE",
    "PROBE_SCRIPT",
    "LibreOfficeFailed",
    "libreoffice_missing",
    "requires_libreoffice",
    "probe",
    "render_sheet_png",
]

UNO_PYTHON = os.environ.get("FUNNEL_UNO_PYTHON", "/usr/bin/python3")
SOFFICE = os.environ.get("FUNNEL_SOFFICE", "/usr/bin/soffice")
PROBE_SCRIPT = Path(__file__).with_name("lo_probe.py")

# Seconds soffice may take for a whole session; the subprocess gets a little more, so the
# probe's own watchdog (which also kills soffice) normally fires first.
DEFAULT_TIMEOUT = 180.0
_GRACE = 30.0


class LibreOfficeFailed(RuntimeError):
    """The probe ended badly: soffice refused the workbook, never started, or timed out."""


@functools.lru_cache(maxsize=None)
def libreoffice_missing() -> str | None:
    """Why LibreOffice cannot be used here, or None when it can.

    Returns:
        A sentence naming what is missing (soffice, the UNO Python, its ``uno`` module).
    """
    soffice = shutil.which(SOFFICE) if os.sep not in SOFFICE else (SOFFICE if os.access(SOFFICE, os.X_OK) else None)
    if soffice is None:
        return f"LibreOffice is not installed ({SOFFICE} not found; apt-get install libreoffice-calc)"
    if not os.access(UNO_PYTHON, os.X_OK):
        return f"no Python with LibreOffice's UNO bridge at {UNO_PYTHON} (set FUNNEL_UNO_PYTHON)"
    try:
        check = subprocess.run([UNO_PYTHON, "-c", "import uno"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"{UNO_PYTHON} cannot be run: {err}"
    if check.returncode != 0:
        return f"{UNO_PYTHON} cannot import uno (apt-get install python3-uno)"
    return None


# Evaluated once at import: the reason names exactly what is missing on this machine.
requires_libreoffice = pytest.mark.skipif(
    libreoffice_missing() is not None,
    reason=libreoffice_missing() or "LibreOffice available",
)


def probe(
    workbook: str | Path,
    *,
    tables: list[str] | tuple[str, ...] = (),
    ranges: dict[str, str] | None = None,
    modules: bool = False,
    charts: bool = False,
    controls: bool = False,
    pdf: str | Path | None = None,
    sheet_images: list[dict] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict:
    """Open ``workbook`` in a private headless LibreOffice, recalculate it and report.

    One soffice session does everything asked; see ``lo_probe.py`` for the answer's shape.

    Args:
        workbook: the .xlsx/.xlsm to open (read-only; never saved).
        tables: Excel Table names whose cells to return (header row, then data rows).
        ranges: key -> ``Sheet!A1:B5`` plain ranges whose cells to return.
        modules: return the VBA modules Calc imported.
        charts: return every sheet's charts with their series' ranges.
        controls: return every sheet's form controls with their assigned macros.
        pdf: export the whole workbook to this PDF.
        sheet_images: ``{"sheet", "png"?, "text"?, "columns"?, "dpi"?}``: sheets to render
            on one page each, to a PNG and/or to the text as printed.
        timeout: seconds for the whole session.

    Returns:
        The probe's JSON answer as a dict.

    Raises:
        LibreOfficeFailed: the probe exited non-zero or timed out (its stderr is in the message).
    """
    request = {
        "workbook": str(Path(workbook).resolve()),
        "timeout": timeout,
        "tables": list(tables),
        "ranges": dict(ranges or {}),
        "modules": modules,
        "charts": charts,
        "controls": controls,
        "pdf": str(Path(pdf).resolve()) if pdf else None,
        "sheet_images": [
            {**spec, **({"png": str(Path(spec["png"]).resolve())} if spec.get("png") else {})}
            for spec in (sheet_images or [])
        ],
    }
    try:
        done = subprocess.run(
            [UNO_PYTHON, str(PROBE_SCRIPT), "-"],
            input=json.dumps(request, ensure_ascii=False),
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout + _GRACE,
            env={**os.environ, "FUNNEL_SOFFICE": SOFFICE},
        )
    except subprocess.TimeoutExpired as err:
        raise LibreOfficeFailed(f"lo_probe.py did not finish in {timeout + _GRACE:.0f} s") from err
    if done.returncode != 0:
        raise LibreOfficeFailed(f"lo_probe.py exited with status {done.returncode}: {done.stderr.strip()[-2000:]}")
    return json.loads(done.stdout)


def render_sheet_png(
    workbook: str | Path, sheet: str, png: str | Path, columns: str | None = None, dpi: int = 80,
    timeout: float = DEFAULT_TIMEOUT,
) -> dict:
    """Render one sheet of ``workbook`` (optionally only ``columns`` such as ``A:M``) to a PNG.

    The image covers the sheet's used cells and the charts over them, on one page sized to
    fit (LibreOffice's PDF export, then poppler's ``pdftoppm``).

    Returns:
        ``{"sheet", "png", "range", "pdf_pages"}`` as the probe reports it.

    Raises:
        LibreOfficeFailed: as ``probe``.
    """
    spec = {"sheet": sheet, "png": str(png), "dpi": dpi}
    if columns:
        spec["columns"] = columns
    return probe(workbook, sheet_images=[spec], timeout=timeout)["sheet_images"][0]
