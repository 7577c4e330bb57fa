"""The macro-free .xlsx path: ``funnel new PATH.xlsx``, then refresh, report and import in place.

An .xlsx has the .xlsm's sheets and tables but no VBA, no buttons and no xlwings.conf;
its output sheets say to refresh from the Funnel tab (the add-in). A refresh or an
import rewrites only the parts it owns, as on an .xlsm: every other zip member stays
byte-identical. Every workbook made here passes openxml-audit with no findings.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openxml_audit import FileFormat, OpenXmlValidator
from typer.testing import CliRunner

from funnel import catalog
from funnel_cli.main import app
from workbook.layout import INPUTS, OUTPUTS
from workbook.package import open_package
from workbook.table_reader import read_tables

runner = CliRunner()
XLSX_MAIN = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
EXPORT = "id,name,stage,amount,close_date,owner\nD1,Alpha,P,1000,2026-03-31,Ann\nD2,Beta,W,2500,2026-02-15,Bo\nD3,Gamma,L,800,2026-01-20,Ann\n"


def _invoke(*args: str):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def audit(path: Path) -> list[str]:
    result = OpenXmlValidator(file_format=FileFormat.MICROSOFT_365, max_errors=0).validate(str(path))
    return [f"{e.part_uri or ''}: {e.description}" for e in result.errors]


def entries(path: Path) -> dict[str, bytes]:
    # Each member as stored (compressed bytes and all), so "unchanged" means byte for byte.
    with open_package(path) as pkg:
        return {m.name: pkg.read_entry_bytes(m) for m in pkg.members}


def owned(path: Path, tables) -> set[str]:
    # The parts writing these tables may change: the table part, its sheet, the sheet's charts.
    parts: set[str] = set()
    with open_package(path) as pkg:
        for name in tables:
            info = pkg.table(name)
            parts |= {info.part, info.sheet_part, *pkg.drawing_charts(info.sheet_part)}
    return parts


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_new_xlsx_has_no_macros_and_points_to_the_funnel_tab(tmp_path, language):
    book = tmp_path / "book.xlsx"
    said = _invoke("new", str(book), "--lang", language)
    assert "Funnel tab" in " ".join(said.output.split())
    with zipfile.ZipFile(book) as package:
        names = set(package.namelist())
        types = package.read("[Content_Types].xml").decode()
    assert f'PartName="/xl/workbook.xml" ContentType="{XLSX_MAIN}"' in types
    assert not any("vbaProject" in n or "vmlDrawing" in n or "ctrlProp" in n for n in names)
    wb = openpyxl.load_workbook(book)
    assert "xlwings.conf" not in wb.sheetnames
    for sheet in {t.sheet(language) for t in OUTPUTS.values()}:
        assert wb[sheet]["A2"].value == catalog.text("note.refresh_tab", language)
    for sheet in {t.sheet(language) for t in INPUTS.values()}:
        assert sheet in wb.sheetnames
    assert audit(book) == []


def test_refresh_of_an_xlsx_rewrites_only_the_output_parts(tmp_path):
    book = tmp_path / "book.xlsx"
    _invoke("new", str(book), "--demo")
    before = entries(book)
    _invoke("refresh", str(book), "--set", "as_of=2026-06-30")
    after = entries(book)
    mine = owned(book, OUTPUTS)
    assert set(before) == set(after)
    changed = {name for name in before if before[name] != after[name]}
    assert changed and changed <= mine, sorted(changed - mine)
    assert audit(book) == []
    summary = read_tables(book, ["tblSummary"])["tblSummary"]
    reported = json.loads(_invoke("report", str(book), "--format", "json", "--set", "as_of=2026-06-30").output)
    won = {r["metric"]: r["value"] for r in reported["summary"]}["won_deals"]
    assert won in summary.iloc[:, 1].tolist()  # the refreshed sheet holds the figure report computes


def test_refresh_of_xlsx_and_xlsm_writes_the_same_tables(tmp_path):
    xlsx, xlsm = tmp_path / "book.xlsx", tmp_path / "book.xlsm"
    for book in (xlsx, xlsm):
        _invoke("new", str(book), "--demo")
        _invoke("refresh", str(book), "--set", "as_of=2026-06-30")
    names = [name for name in OUTPUTS if name != "tblIssues"]
    got, expected = read_tables(xlsx, names), read_tables(xlsm, names)
    for name in names:
        assert got[name].equals(expected[name]), name
    assert audit(xlsm) == []


def test_import_into_an_xlsx_rewrites_only_the_input_tables_it_fills(tmp_path):
    book, export = tmp_path / "book.xlsx", tmp_path / "crm.csv"
    export.write_text(EXPORT, encoding="utf-8")
    _invoke("new", str(book))
    before = entries(book)
    said = _invoke("import", str(export), "--into", str(book))
    assert "3 added" in " ".join(said.output.split())
    after = entries(book)
    mine = owned(book, ["tblOpportunities", "tblStageHistory"])
    changed = {name for name in before if before[name] != after[name]}
    assert changed and changed <= mine, sorted(changed - mine)
    assert audit(book) == []
    again = _invoke("import", str(export), "--into", str(book))
    assert "0 added, 0 updated, 3 unchanged" in " ".join(again.output.split())
    _invoke("refresh", str(book))
    assert audit(book) == []


def test_import_builds_a_missing_xlsx_without_macros(tmp_path):
    book, export = tmp_path / "new.xlsx", tmp_path / "crm.csv"
    export.write_text(EXPORT, encoding="utf-8")
    _invoke("import", str(export), "--into", str(book))
    with zipfile.ZipFile(book) as package:
        assert "xl/vbaProject.bin" not in package.namelist()
    assert audit(book) == []


def test_the_demo_xlsm_passes_openxml_audit(tmp_path):
    book = tmp_path / "demo.xlsm"
    _invoke("demo", "--out", str(book), "--size", "200")
    assert audit(book) == []


def test_a_reports_xlsx_passes_openxml_audit(tmp_path):
    book, report = tmp_path / "demo.xlsm", tmp_path / "report tables.xlsx"
    _invoke("demo", "--out", str(book), "--size", "200", "--lang", "zh-CN")
    _invoke("report", str(book), "--format", "xlsx", "--out", str(report))
    assert audit(report) == []
