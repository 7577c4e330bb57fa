"""The add-in (``funnel addin build``) read back as Excel would, from the built file.

The VBA is read with olevba (oletools), the package with zipfile and ElementTree, the
ribbon and every part checked by openxml-audit (which carries Microsoft's customUI
schemas), and LibreOffice opens the .xlam. What only Excel can show (the tab appears, its
buttons run Python, the functions recalculate) is not claimed here.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd
import pytest
from oletools.olevba import VBA_Parser
from openxml_audit import FileFormat, OpenXmlValidator

from funnel import catalog
from tests.support.libreoffice import libreoffice_missing
from udfs import functions
from udfs.addin import functions_module, worksheet_functions
from workbook.addin import (
    ADDIN_CONTENT_TYPE,
    CONF_SHEET,
    CUSTOM_UI_NAMESPACE,
    CUSTOM_UI_PART,
    CUSTOM_UI_RELATIONSHIP,
    RIBBON_BUTTONS,
    build_addin,
)
from workbook.build import XLWINGS_CONF

ROOT = Path(__file__).resolve().parents[2]
LO_SCRIPT = ROOT / "tests" / "support" / "lo_vba_modules.py"
CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
UI = "{" + CUSTOM_UI_NAMESPACE + "}"
# RibbonX attributes that name a VBA callback, and the arguments RibbonX calls it with.
ACTIONS = {"onAction"}
GETTERS = {"getLabel", "getEnabled", "getVisible", "getScreentip", "getSupertip", "getImage", "getPressed"}


@pytest.fixture(scope="module", params=["en", "zh-CN"])
def addin(request, tmp_path_factory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp(f"addin-{request.param}") / "funnel.xlam"
    build_addin(path, functions_module(), request.param)
    return path, request.param


def vba_code(path: Path) -> dict[str, str]:
    """Module name -> source, as olevba extracts it from the built file."""
    parser = VBA_Parser(str(path))
    try:
        assert parser.detect_vba_macros()
        return {name.rsplit(".", 1)[0]: code.replace("\r\n", "\n") for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def ribbon(path: Path) -> ElementTree.Element:
    with zipfile.ZipFile(path) as package:
        return ElementTree.fromstring(package.read(CUSTOM_UI_PART))


def audit(path: Path) -> list[str]:
    result = OpenXmlValidator(file_format=FileFormat.MICROSOFT_365, max_errors=0).validate(str(path))
    return [f"{e.part_uri or ''}: {e.description}" for e in result.errors]


def test_the_package_is_an_addin_with_a_ribbon(addin):
    path, _ = addin
    with zipfile.ZipFile(path) as package:
        types = ElementTree.fromstring(package.read("[Content_Types].xml"))
        rels = ElementTree.fromstring(package.read("_rels/.rels"))
        names = set(package.namelist())
    overrides = {o.get("PartName"): o.get("ContentType") for o in types.iter(CT + "Override")}
    assert overrides["/xl/workbook.xml"] == ADDIN_CONTENT_TYPE
    assert overrides["/" + CUSTOM_UI_PART] == "application/xml"
    links = {r.get("Type"): r.get("Target") for r in rels.iter(REL + "Relationship")}
    assert links[CUSTOM_UI_RELATIONSHIP] == CUSTOM_UI_PART
    assert CUSTOM_UI_PART in names and "xl/vbaProject.bin" in names


def test_every_callback_the_ribbon_names_is_in_the_vba_with_the_ribbonx_signature(addin):
    path, _ = addin
    code = "\n".join(vba_code(path).values())
    named = []
    for element in ribbon(path).iter():
        for attribute, callback in element.attrib.items():
            if attribute in ACTIONS | GETTERS:
                named.append((attribute, callback))
                args = r"control\s+As\s+IRibbonControl" + (r",\s*ByRef\s+returnedVal(\s+As\s+Variant)?" if attribute in GETTERS else "")
                signature = rf"^\s*(Public\s+)?Sub\s+{re.escape(callback)}\s*\(\s*{args}\s*\)\s*$"
                assert re.search(signature, code, re.I | re.M), f"{attribute}={callback}: no such Sub in the VBA"
    assert sorted(c for a, c in named if a == "onAction") == sorted(b.callback for b in RIBBON_BUTTONS)


def test_the_tab_has_the_buttons_of_the_list_labelled_in_the_build_language(addin):
    path, language = addin
    root = ribbon(path)
    tabs = list(root.iter(UI + "tab"))
    assert [t.get("label") for t in tabs] == [catalog.text("ribbon.tab", language)]
    buttons = {b.get("onAction"): b.get("label") for b in root.iter(UI + "button")}
    assert buttons == {b.callback: catalog.text(f"ribbon.{b.key}", language) for b in RIBBON_BUTTONS}
    assert len(RIBBON_BUTTONS) == 7  # Refresh, Snapshot, Import, New, Issues, Settings, About


def test_every_worksheet_function_is_declared_with_its_parameters(addin):
    path, _ = addin
    code = vba_code(path)["FunnelFunctions"]
    wanted = [name for name in functions.__all__ if name.startswith("FUNNEL_")]
    declared = re.findall(r"^Function (FUNNEL_\w+)\((.*)\)$", code, re.M)
    assert [name for name, _ in declared] == wanted
    for name, params in declared:
        signature = inspect.signature(getattr(functions, name))
        expected = [("Optional " if p.default is not inspect.Parameter.empty else "") + p.name
                    for p in signature.parameters.values()]
        assert [p.strip() for p in params.split(",")] == expected, name
        # The call xlwings' Import Functions writes: the module, the name, every argument, the active workbook.
        call = f'{name} = XLPy.CallUDF("udfs.functions", "{name}", Array({", ".join(signature.parameters)}), ActiveWorkbook'
        assert call in code


def test_the_vba_has_xlwings_addin_module_named_for_funnel(addin):
    path, _ = addin
    code = vba_code(path)
    assert re.search(r'Public Const PROJECT_NAME As String = "funnel"', code["xlwings"])
    assert re.search(r"^Public Function RunPython\(", code["xlwings"], re.M)
    assert "ActiveWorkbook.Name" in code["xlwings"]  # RunPython hands Python the active workbook


def test_the_config_sheet_holds_xlwings_keys(addin):
    path, _ = addin
    with zipfile.ZipFile(path) as package:
        workbook = package.read("xl/workbook.xml").decode()
        strings = re.findall(r"<t[^>]*>([^<]*)</t>", package.read("xl/sharedStrings.xml").decode())
    assert f'name="{CONF_SHEET}"' in workbook
    assert 'visibility="hidden"' in workbook
    keys = [key for key, _ in XLWINGS_CONF]
    assert {"Interpreter_Win", "Interpreter_Mac", "PYTHONPATH", "UDF Modules"} <= set(keys)
    assert set(keys) <= set(strings) and "udfs.functions" in strings


def test_openxml_audit_finds_nothing_in_the_addin(addin):
    path, _ = addin
    assert audit(path) == []


def test_openxml_audit_checks_the_ribbon_against_the_customui_schema(addin, tmp_path):
    # The clean result above means something only if a wrong ribbon is caught.
    path, _ = addin
    broken = tmp_path / "broken.xlam"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == CUSTOM_UI_PART:
                data = data.replace(b'size="large"', b'size="huge"', 1)
            dst.writestr(info, data)
    found = audit(broken)
    assert any("huge" in line for line in found), found


def test_worksheet_functions_are_the_funnel_ones():
    assert set(worksheet_functions()) == {n for n in functions.__all__ if n.startswith(functions.UDF_PREFIX)}


@pytest.mark.libreoffice
def test_libreoffice_opens_the_addin_and_lists_its_modules(addin):
    reason = libreoffice_missing()
    if reason:
        pytest.skip(reason)
    path, _ = addin
    run = subprocess.run(
        ["/usr/bin/python3", str(LO_SCRIPT), str(path), "--timeout", "120",
         "--filter", "Calc MS Excel 2007 VBA XML", "--library", "funnel"],
        capture_output=True, text=True, timeout=180,
        env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
    )
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    assert found["library"] == "funnel"
    assert set(found["modules"]) >= {"ThisWorkbook", "Sheet1", "FunnelRibbon", "FunnelFunctions", "xlwings"}
    assert "Sub FunnelRefresh(control As IRibbonControl)" in found["modules"]["FunnelRibbon"]["code"]
    assert found["code_names"] == {CONF_SHEET: "Sheet1"}


@pytest.mark.xlwings_remote
@pytest.mark.skipif(os.environ.get("XLWINGS_LICENSE_KEY") is None,
                    reason="xlwings' remote-interpreter engine needs XLWINGS_LICENSE_KEY=noncommercial")
def test_the_refresh_button_runs_on_an_xlsx_through_xlwings_and_writes_what_the_cli_writes(tmp_path, monkeypatch):
    # The ribbon's Refresh calls udfs.addin.refresh() with no book: xlwings' caller, here a
    # remote-engine Book on a macro-free .xlsx. What it queues is compared with the tables
    # `funnel refresh` writes into a copy of the same file.
    import shutil

    import xlwings as xw
    from typer.testing import CliRunner

    from funnel.demo.data import demo_tables
    from funnel_cli.main import app
    from tests.support.xlwings_json import book_json_from_file
    from tests.udfs.test_refresh_remote import as_sent
    from udfs import addin as ribbon
    from udfs import xlwings_book
    from workbook.build import new_workbook
    from workbook.layout import OUTPUTS
    from workbook.table_reader import read_tables

    path = new_workbook(tmp_path / "book.xlsx", "en", demo_tables(size=120))
    copy = tmp_path / "cli.xlsx"
    shutil.copyfile(path, copy)
    # The remote engine's book has no file, so it records no snapshot and reads no history:
    # the command line, compared with it, keeps no snapshots either.
    assert CliRunner().invoke(app, ["refresh", str(copy), "--set", "store=off"]).exit_code == 0
    book = xw.Book(json=book_json_from_file(path))
    try:
        monkeypatch.setattr(xlwings_book, "caller_book", lambda: xlwings_book.XlwingsBook(book))
        message = ribbon.refresh()
        actions = json.loads(json.dumps(book.json()))["actions"]
    finally:
        book.close()
    assert message.startswith("Refreshed ")
    written = [a for a in actions if a["func"] == "setValues"]
    cli = read_tables(copy, list(OUTPUTS))
    compared = 0
    for name, layout in OUTPUTS.items():
        rows = cli[name][cli[name].notna().any(axis=1)]  # an empty table keeps one blank row
        found = [a for a in written if a["start_row"] == layout.anchor[0] + 1
                 and a["start_column"] == layout.anchor[1] and a["column_count"] == len(rows.columns)]
        if rows.empty:
            continue  # nothing to write: the table is only resized to its one blank row
        compared += 1
        values = next(a["values"] for a in found if len(a["values"]) == len(rows))
        expected = [[as_sent(v) for v in row] for row in rows.itertuples(index=False, name=None)]
        for got, want in zip(values, expected):
            for cell, value in zip(got, want):
                if isinstance(value, float) and not isinstance(cell, str):
                    assert cell == pytest.approx(value, rel=1e-9, abs=1e-9), name
                elif isinstance(value, float) and re.fullmatch(r"\d{4}-\d\d-\d\d", cell):
                    # A date in a number-formatted column (the Summary's as-of, its look a
                    # conditional format): xlwings sends it as a date, the file holds its serial.
                    assert (pd.Timestamp(cell) - pd.Timestamp("1899-12-30")).days == value, name
                else:
                    assert cell == value or str(cell) == str(value), (name, cell, value)
    assert compared == len(written) > 10


def test_a_failing_ribbon_callback_is_logged_and_still_raises(tmp_path, monkeypatch):
    from udfs import addin as ribbon
    from workbook.errors import WorkbookError

    log = tmp_path / "funnel.log"
    monkeypatch.setattr(ribbon, "log_path", lambda: log)
    with pytest.raises(WorkbookError):
        ribbon.new_workbook(str(tmp_path / "no such folder" / "book.xlsx"))
    text = log.read_text(encoding="utf-8")
    assert "new_workbook" in text and "no such folder" in text


def test_new_funnel_workbook_from_the_ribbon_is_a_macro_free_xlsx(tmp_path):
    from udfs import addin as ribbon

    path = tmp_path / "book.xlsx"
    assert ribbon.new_workbook(str(path), "zh-CN") == str(path)
    with zipfile.ZipFile(path) as package:
        assert "xl/vbaProject.bin" not in package.namelist()
        assert catalog.text("note.refresh_tab", "zh-CN") in package.read("xl/sharedStrings.xml").decode()


@pytest.mark.xlwings_remote
@pytest.mark.skipif(os.environ.get("XLWINGS_LICENSE_KEY") is None,
                    reason="xlwings' remote-interpreter engine needs XLWINGS_LICENSE_KEY=noncommercial")
def test_import_from_the_ribbon_writes_the_deals_into_the_open_workbook(tmp_path):
    import xlwings as xw

    from tests.support.xlwings_json import book_json_from_file
    from udfs import addin as ribbon
    from workbook.build import new_workbook
    from workbook.layout import INPUTS

    path = new_workbook(tmp_path / "book.xlsx", "en")
    export = tmp_path / "crm.csv"
    export.write_text("id,name,stage,amount,close_date,owner\nD1,Alpha,P,1000,2026-03-31,Ann\n"
                      "D2,Beta,W,2500,2026-02-15,Bo\n", encoding="utf-8")
    book = xw.Book(json=book_json_from_file(path))
    try:
        message = ribbon.import_export(str(export), book)
        actions = json.loads(json.dumps(book.json()))["actions"]
    finally:
        book.close()
    assert message.startswith("Deals: 2 added, 0 updated, 0 unchanged, 0 skipped")
    anchor = INPUTS["tblOpportunities"].anchor
    written = [a for a in actions if a["func"] == "setValues" and a["start_row"] == anchor[0] + 1]
    assert len(written) == 1 and [row[0] for row in written[0]["values"]] == ["D1", "D2"]
    assert actions[-1]["func"] == "alert" and actions[-1]["args"][0] == message


def test_vba_strings_carry_any_text_without_a_code_page():
    # The message boxes' words go into the VBA as ASCII: quotes doubled, the rest as ChrW().
    from workbook.addin import _vba_string

    assert _vba_string('say "hi"') == '"say ""hi"""'
    assert _vba_string("问题 tbl") == 'ChrW(38382) & ChrW(39064) & " tbl"'
    assert _vba_string("") == '""'
