"""The funnel Excel add-in (``funnel.xlam``): a Funnel ribbon tab for any open workbook.

Built the way ``xlwings quickstart NAME --addin --ribbon`` lays out its add-in, so that
xlwings' own VBA runs it unchanged:

* the workbook part has the add-in content type (``ADDIN_CONTENT_TYPE``), and the
  package's ``_rels/.rels`` links a ribbon part, ``customUI/customUI14.xml`` (the Office
  2010+ schema; Excel 2007 is out of scope);
* the VBA project holds xlwings' custom add-in module (``xlwings_custom_addin.bas`` of
  the installed xlwings, its ``PROJECT_NAME`` set to ``funnel``), the ribbon's callbacks
  (``FunnelRibbon``: ``Sub X(control As IRibbonControl)``, most calling ``RunPython``),
  and a declaration of every ``FUNNEL_*`` worksheet function (given by the caller, see
  ``udfs.addin.functions_module``), so formulas work in any workbook while the add-in is
  loaded, with no *Import Functions* step;
* one sheet, ``_funnel.conf``, with xlwings' config keys. As in xlwings' template its name
  starts with ``_``, which keeps it inactive: the settings that depend on the machine
  (the Python to run) are written by ``funnel addin install`` to the user's config file
  (``config_path``), which xlwings' ``GetConfig`` reads next.

The ribbon's buttons are declared once, in ``RIBBON_BUTTONS``: the XML, the callbacks and
the tests all come from that list, so a new button (Snapshot, say) is one line.
Labels are in the build's language (``--lang``): one build per language.
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import quoteattr

import xlsxwriter

from funnel import catalog
from workbook.build import XLWINGS_CONF, _xlwings_dir
from workbook.layout import UDF_MODULES
from workbook.package.save import save_atomically, saving
from workbook.vba_project import VbaModule, build_vba_project, read_vba_project

__all__ = [
    "ADDIN_CONTENT_TYPE",
    "ADDIN_NAME",
    "ExcelNotHere",
    "Placement",
    "CONF_SHEET",
    "CUSTOM_UI_PART",
    "PROJECT_NAME",
    "RIBBON_BUTTONS",
    "RibbonButton",
    "build_addin",
    "configured_interpreter",
    "install_addin",
    "placement",
    "uninstall_addin",
    "callback_module",
    "config_lines",
    "config_path",
    "addin_xlwings_version",
    "ribbon_xml",
    "xlstart_dir",
]

PROJECT_NAME = "funnel"  # xlwings' PROJECT_NAME: names the config sheet and the user's config file
ADDIN_NAME = f"{PROJECT_NAME}.xlam"
CONF_SHEET = f"_{PROJECT_NAME}.conf"
ADDIN_CONTENT_TYPE = "application/vnd.ms-excel.addin.macroEnabled.main+xml"
_XLSM_CONTENT_TYPE = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CUSTOM_UI_PART = "customUI/customUI14.xml"
CUSTOM_UI_NAMESPACE = "http://schemas.microsoft.com/office/2009/07/customui"
# Open XML SDK's RibbonAndBackstageCustomizationsPart (customUI14); 2006/... is the 2007 part's.
CUSTOM_UI_RELATIONSHIP = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"

_GROUPS = ("workbook", "go_to", "help")  # ribbon groups, left to right (catalog: ribbon.group.<key>)


@dataclass(frozen=True)
class RibbonButton:
    """One button of the Funnel tab.

    Attributes:
        key: its catalog key under ``ribbon.`` (label ``ribbon.<key>``, tip ``ribbon.<key>.tip``).
        group: which group it sits in (one of ``_GROUPS``).
        callback: the VBA Sub its ``onAction`` names, in ``FunnelRibbon``.
        body: the Sub's VBA statements (``control`` is the ribbon control).
        image: a built-in Office icon (``imageMso``).
    """

    key: str
    group: str
    callback: str
    body: str
    image: str


RIBBON_BUTTONS = (
    RibbonButton("refresh", "workbook", "FunnelRefresh", 'RunPython "import udfs.addin; udfs.addin.refresh()"', "RefreshAll"),
    RibbonButton("snapshot", "workbook", "FunnelSnapshot", 'RunPython "import udfs.addin; udfs.addin.snapshot()"',
                 "FileSave"),
    RibbonButton("import", "workbook", "FunnelImport", "ImportExport", "ImportTextFile"),
    RibbonButton("new", "workbook", "FunnelNew", "NewFunnelWorkbook", "FileNew"),
    RibbonButton("issues", "go_to", "FunnelGoToIssues", 'GoToTable "tblIssues"', "ErrorChecking"),
    RibbonButton("settings", "go_to", "FunnelSettings", 'GoToTable "tblSettings"', "ControlProperties"),
    RibbonButton("about", "help", "FunnelAbout", 'RunPython "import udfs.addin; udfs.addin.about()"', "Info"),
)

# Every key the buttons above ask the catalog for, spelt out (tests/test_words_in_catalog.py).
_BUTTON_TEXTS = {
    "refresh": ("ribbon.refresh", "ribbon.refresh.tip"),
    "snapshot": ("ribbon.snapshot", "ribbon.snapshot.tip"),
    "import": ("ribbon.import", "ribbon.import.tip"),
    "new": ("ribbon.new", "ribbon.new.tip"),
    "issues": ("ribbon.issues", "ribbon.issues.tip"),
    "settings": ("ribbon.settings", "ribbon.settings.tip"),
    "about": ("ribbon.about", "ribbon.about.tip"),
}
_GROUP_TEXTS = {"workbook": "ribbon.group.workbook", "go_to": "ribbon.group.go_to", "help": "ribbon.group.help"}


def ribbon_xml(language: str = "en") -> str:
    """The Funnel tab as ``customUI14.xml`` text, labels in ``language``."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        f'<customUI xmlns="{CUSTOM_UI_NAMESPACE}">',
        "  <ribbon>",
        "    <tabs>",
        f'      <tab id="funnelTab" label={quoteattr(catalog.text("ribbon.tab", language))}>',
    ]
    for group in _GROUPS:
        lines.append(f'        <group id="funnelGroup_{group}" label={quoteattr(catalog.text(_GROUP_TEXTS[group], language))}>')
        for button in (b for b in RIBBON_BUTTONS if b.group == group):
            label, tip = _BUTTON_TEXTS[button.key]
            lines.append(
                f'          <button id="funnel_{button.key}" label={quoteattr(catalog.text(label, language))} '
                f'screentip={quoteattr(catalog.text(label, language))} supertip={quoteattr(catalog.text(tip, language))} '
                f'size="large" imageMso="{button.image}" onAction="{button.callback}"/>'
            )
        lines.append("        </group>")
    lines += ["      </tab>", "    </tabs>", "  </ribbon>", "</customUI>", ""]
    return "\n".join(lines)


def _vba_string(text: str) -> str:
    # A VBA string expression for any text: non-ASCII as ChrW(), so no code page is involved.
    parts: list[str] = []
    plain = ""
    for char in text:
        if 32 <= ord(char) < 127:
            plain += '""' if char == '"' else char
            continue
        if plain:
            parts.append(f'"{plain}"')
            plain = ""
        parts.append(f"ChrW({ord(char)})")
    if plain or not parts:
        parts.append(f'"{plain}"')
    return " & ".join(parts)


def callback_module(language: str = "en") -> VbaModule:
    """``FunnelRibbon``: one ``Sub X(control As IRibbonControl)`` per button, and their helpers."""
    not_funnel = catalog.text("ribbon.not_funnel", language, table="\x00")
    before, after = not_funnel.split("\x00")
    subs = []
    for button in RIBBON_BUTTONS:
        subs.append(f"Public Sub {button.callback}(control As IRibbonControl)\n    {button.body}\nEnd Sub\n")
    code = f'''Attribute VB_Name = "FunnelRibbon"
' The Funnel tab's callbacks (customUI/customUI14.xml names them in onAction). Python runs
' through xlwings' RunPython, which works on the active workbook (xw.Book.caller()).
Option Explicit

Private Const FUNNEL_LANGUAGE As String = "{language}"

{chr(10).join(subs)}
' The Python string literal for a path: backslashes and quotes escaped.
Private Function PyString(text As String) As String
    PyString = "'" & Replace(Replace(text, "\\", "\\\\"), "'", "\\'") & "'"
End Function

Private Sub ImportExport()
    Dim path As Variant
    #If Mac Then
        path = Application.GetOpenFilename()
    #Else
        path = Application.GetOpenFilename("CSV (*.csv), *.csv")
    #End If
    If VarType(path) = vbBoolean Then Exit Sub
    RunPython "import udfs.addin; udfs.addin.import_export(" & PyString(CStr(path)) & ")"
End Sub

Private Sub NewFunnelWorkbook()
    Dim path As Variant
    #If Mac Then
        path = Application.GetSaveAsFilename("funnel.xlsx")
    #Else
        path = Application.GetSaveAsFilename("funnel.xlsx", "Excel (*.xlsx), *.xlsx")
    #End If
    If VarType(path) = vbBoolean Then Exit Sub
    RunPython "import udfs.addin; udfs.addin.new_workbook(" & PyString(CStr(path)) & ", '" & FUNNEL_LANGUAGE & "')"
    If Dir(CStr(path)) <> "" Then Workbooks.Open CStr(path)
End Sub

' Show the sheet holding an Excel Table of the active workbook, or say it has none.
Private Sub GoToTable(tableName As String)
    Dim sht As Worksheet, table As ListObject
    For Each sht In ActiveWorkbook.Worksheets
        For Each table In sht.ListObjects
            If LCase(table.Name) = LCase(tableName) Then
                sht.Activate
                table.Range.Cells(1, 1).Select
                Exit Sub
            End If
        Next table
    Next sht
    MsgBox {_vba_string(before)} & tableName & {_vba_string(after)}, vbExclamation, "Funnel"
End Sub
'''
    return VbaModule("FunnelRibbon", "standard", code)


def _xlwings_module() -> VbaModule:
    # xlwings' module for custom add-ins, from the installed xlwings (never copied here).
    text = (_xlwings_dir() / "xlwings_custom_addin.bas").read_text(encoding="utf-8")
    text, count = re.subn(r'(Public Const PROJECT_NAME As String = )"[^"]*"', rf'\1"{PROJECT_NAME}"', text)
    if count != 1:
        raise RuntimeError("xlwings_custom_addin.bas has no PROJECT_NAME constant: this xlwings is not supported")
    return VbaModule("xlwings", "standard", text)


def _modules(functions: VbaModule, language: str) -> list[VbaModule]:
    modules = [VbaModule("ThisWorkbook", "document", ""), VbaModule("Sheet1", "document", "")]
    modules += [callback_module(language), functions, _xlwings_module()]
    dictionary = _xlwings_dir() / "addin" / "Dictionary.cls"  # xlwings' Dictionary, used on macOS
    if dictionary.exists():
        modules.append(VbaModule("Dictionary", "class", dictionary.read_text(encoding="utf-8")))
    return modules


def build_addin(path: str | Path, functions: VbaModule, language: str = "en", *, force: bool = False) -> Path:
    """Write the add-in to ``path``, atomically.

    Args:
        path: where to write (``funnel.xlam``).
        functions: the VBA module declaring the worksheet functions
            (``udfs.addin.functions_module()``: workbook/ does not import udfs/).
        language: ``en`` or ``zh-CN`` for the ribbon's labels.
        force: replace ``path`` even when Excel's owner file says it is open.

    Returns:
        The path written.
    """
    path = Path(path)
    with saving(path, force=force) as target:
        save_atomically(target, lambda out: out.write(_addin_bytes(functions, language)), target, workbook=path, force=force)
    return path


def _addin_bytes(functions: VbaModule, language: str) -> bytes:
    raw = io.BytesIO()
    wb = xlsxwriter.Workbook(raw, {"strings_to_formulas": False, "strings_to_urls": False})
    conf = wb.add_worksheet(CONF_SHEET)
    conf.set_vba_name("Sheet1")
    for row, (key, value) in enumerate(XLWINGS_CONF):
        conf.write_string(row, 0, key)
        conf.write_string(row, 1, UDF_MODULES if key == "UDF Modules" else value)
    conf.set_column(0, 0, 18)
    wb.set_vba_name("ThisWorkbook")
    wb.add_vba_project(io.BytesIO(build_vba_project(_modules(functions, language), project_name="funnel")), is_stream=True)
    wb.set_properties({"title": "funnel", "comments": "The funnel Excel add-in"})
    wb.close()
    return _as_addin(raw.getvalue(), ribbon_xml(language))


def _as_addin(xlsm: bytes, ribbon: str) -> bytes:
    # XlsxWriter writes a macro workbook: give it the add-in content type and the ribbon part.
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsm)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                text = data.decode("utf-8")
                if _XLSM_CONTENT_TYPE not in text:
                    raise RuntimeError("XlsxWriter wrote no macro-enabled workbook part")
                text = text.replace(_XLSM_CONTENT_TYPE, ADDIN_CONTENT_TYPE)
                text = text.replace("</Types>", f'<Override PartName="/{CUSTOM_UI_PART}" ContentType="application/xml"/></Types>')
                data = text.encode("utf-8")
            elif info.filename == "_rels/.rels":
                rel = f'<Relationship Id="rIdFunnelRibbon" Type="{CUSTOM_UI_RELATIONSHIP}" Target="{CUSTOM_UI_PART}"/>'
                data = data.decode("utf-8").replace("</Relationships>", rel + "</Relationships>").encode("utf-8")
            elif info.filename == "xl/workbook.xml":
                # An add-in's window is hidden, as in xlwings' template.
                data = data.replace(b"<workbookView ", b'<workbookView visibility="hidden" ', 1)
            dst.writestr(_stamped(info), data)
        dst.writestr(_stamped(zipfile.ZipInfo(CUSTOM_UI_PART)), ribbon.encode("utf-8"))
    return out.getvalue()


def _stamped(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    # XlsxWriter's own entry date (1980-01-01) for every entry, the ribbon part too.
    stamped = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
    stamped.compress_type = zipfile.ZIP_DEFLATED
    return stamped


def addin_xlwings_version(addin: str | Path) -> str | None:
    """The xlwings version whose VBA the add-in at ``addin`` carries (``XLWINGS_VERSION``)."""
    with zipfile.ZipFile(addin) as package:
        modules = read_vba_project(package.read("xl/vbaProject.bin"))
    for module in modules:
        found = re.search(r'XLWINGS_VERSION As String = "([^"]+)"', module.code)
        if found:
            return found.group(1)
    return None


# --------------------------------------------------------------------------------------
# Where Excel looks: XLSTART and the user's config file, per platform
# --------------------------------------------------------------------------------------

_MAC_CONTAINER = Path("Library/Containers/com.microsoft.Excel/Data")


def xlstart_dir(platform: str, home: Path, appdata: Path | None = None) -> Path | None:
    """Excel's per-user start-up folder, whose workbooks and add-ins Excel opens at start.

    Args:
        platform: ``sys.platform`` (``win32``, ``darwin``, ``linux``...).
        home: the user's home folder.
        appdata: ``%APPDATA%`` on Windows (default: ``home/AppData/Roaming``).

    Returns:
        The folder, or None where Excel does not run.
    """
    if platform == "win32":
        return (appdata or home / "AppData" / "Roaming") / "Microsoft" / "Excel" / "XLSTART"
    if platform == "darwin":  # the sandboxed Excel's own container (Excel 2016 and later)
        return home / _MAC_CONTAINER / "Library" / "Application Support" / "Microsoft" / "Office" / "Excel" / "XLSTART"
    return None


def config_path(platform: str, home: Path) -> Path | None:
    """The user's config file xlwings' ``GetConfig`` reads for this add-in (``GetConfigFilePath``).

    Windows: ``%USERPROFILE%\\.funnel\\funnel.conf``; macOS: ``funnel.conf`` in the sandbox's
    home (the container's Data folder). None where Excel does not run.
    """
    if platform == "win32":
        return home / f".{PROJECT_NAME}" / f"{PROJECT_NAME}.conf"
    if platform == "darwin":
        return home / _MAC_CONTAINER / f"{PROJECT_NAME}.conf"
    return None


def config_lines(platform: str, interpreter: str, pythonpath: str = "") -> str:
    """The config file's text: ``"KEY","value"`` lines, as xlwings' ``GetConfigFromFile`` reads them."""
    key = "Interpreter_Win" if platform == "win32" else "Interpreter_Mac"
    pairs = [(key, interpreter), ("PYTHONPATH", pythonpath), ("UDF Modules", UDF_MODULES)]
    return "".join(f'"{k}","{v}"\n' for k, v in pairs)


class ExcelNotHere(RuntimeError):
    """This platform has no desktop Excel (Linux, say): nothing to install into."""


@dataclass(frozen=True)
class Placement:
    """Where the add-in and its config go for one user on one platform."""

    addin: Path  # the .xlam in XLSTART
    config: Path  # the user's config file xlwings' GetConfig reads
    runpython: Path | None = None  # macOS: the AppleScript RunPython needs (xlwings runpython install)


def placement(platform: str, home: Path, appdata: Path | None = None) -> Placement:
    """Where ``install_addin`` puts things for ``platform`` and the user whose home is ``home``.

    Raises:
        ExcelNotHere: ``platform`` is neither Windows nor macOS.
    """
    xlstart, config = xlstart_dir(platform, home, appdata), config_path(platform, home)
    if xlstart is None or config is None:
        raise ExcelNotHere(platform)
    runpython = None
    if platform == "darwin":
        import xlwings

        runpython = home / "Library" / "Application Scripts" / "com.microsoft.Excel" / f"xlwings-{xlwings.__version__}.applescript"
    return Placement(xlstart / ADDIN_NAME, config, runpython)


def install_addin(source: Path, platform: str, home: Path, interpreter: str, appdata: Path | None = None) -> Placement:
    """Copy the built add-in into Excel's XLSTART and write its config, as ``xlwings addin install`` does.

    Args:
        source: the built ``funnel.xlam``.
        platform: ``sys.platform``.
        home: the user's home folder.
        interpreter: the Python that has funnel installed (``sys.executable``).
        appdata: ``%APPDATA%`` on Windows.

    Raises:
        ExcelNotHere: no desktop Excel on ``platform``.
        FileNotFoundError: ``source`` does not exist.
    """
    where = placement(platform, home, appdata)
    if not source.is_file():
        raise FileNotFoundError(source)
    where.addin.parent.mkdir(parents=True, exist_ok=True)
    if where.addin.resolve() != source.resolve():
        shutil.copyfile(source, where.addin)
    where.config.parent.mkdir(parents=True, exist_ok=True)
    where.config.write_text(config_lines(platform, interpreter), encoding="utf-8")
    if where.runpython is not None:
        where.runpython.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_xlwings_dir() / where.runpython.name, where.runpython)
    return where


def uninstall_addin(platform: str, home: Path, appdata: Path | None = None) -> Placement:
    """Remove the add-in from XLSTART and its config file (xlwings' RunPython script stays: others use it).

    Raises:
        ExcelNotHere: no desktop Excel on ``platform``.
        FileNotFoundError: the add-in is not installed.
    """
    where = placement(platform, home, appdata)
    if not where.addin.exists():
        raise FileNotFoundError(where.addin)
    where.addin.unlink()
    if where.config.exists():
        where.config.unlink()
    return where


def configured_interpreter(config: Path, platform: str) -> str | None:
    """The Python the config file names for ``platform`` (None: no file, or no such line)."""
    if not config.is_file():
        return None
    key = "interpreter_win" if platform == "win32" else "interpreter_mac"
    for line in config.read_text(encoding="utf-8").splitlines():
        name, _, value = line.partition(",")
        if name.strip().strip('"').lower() == key:
            return value.strip().strip('"')
    return None
