"""What a zh-CN book's user reads when something is wrong is Chinese too: the refusal of a
refresh (in the warning box, on the command line), its Issues rows, and the problems a CRM
import reports. Each text is scanned for English words; what may stay in Latin letters is
named: table and column codes, file names, the values quoted from the user's data, and a
few names (funnel, Excel, column_names, --force)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from funnel.analysis import run
from funnel.crm.importers import import_export, load_layout
from funnel.demo.data import demo_tables
from funnel.inputs.contract import TABLES
from funnel.inputs.refusals import RefreshRefused
from funnel_cli.main import app
from tests.support import hostile
from udfs.macros import refresh, refused_message
from workbook.build import new_workbook
from workbook.filebook import FileBook
from workbook.layout import INPUTS

WORD = re.compile(r"[A-Za-z][A-Za-z_]*[A-Za-z]")
HAN = re.compile(r"[\u4e00-\u9fff]")
# Names that read the same in Chinese: the product, Excel, the setting a user types, the option.
NAMES = {"funnel", "Excel", "column_names", "force"}
# The codes of the tables and their columns (tblOpportunities, opportunities.csv's stage).
CODES = set(INPUTS) | set(TABLES) | {c.name for columns in TABLES.values() for c in columns}


def _english(text: str, allowed: set[str]) -> set[str]:
    return {w for w in WORD.findall(text) if w not in allowed | NAMES | CODES}


@pytest.fixture(scope="module")
def chinese_book(tmp_path_factory) -> Path:
    return new_workbook(tmp_path_factory.mktemp("zh") / "book.xlsm", "zh-CN", demo_tables(size=60, seed=3))


def _book(chinese_book: Path, tmp_path: Path) -> Path:
    path = tmp_path / "book.xlsm"
    shutil.copy(chinese_book, path)
    return path


def test_a_refused_refresh_of_a_chinese_book_is_said_in_chinese(chinese_book, tmp_path):
    path = _book(chinese_book, tmp_path)
    hostile.rename_headers(path, "tblOpportunities", {"金额": "合同总额"})  # the amount column renamed
    hostile.delete_sheet(path, INPUTS["tblQuotas"].sheet("zh-CN"))  # and the quotas' sheet deleted
    with pytest.raises(RefreshRefused) as err:
        refresh(FileBook(path))
    english = str(err.value)  # the English, as before (tests and logs read it)
    assert "tblOpportunities has no column 金额" in english and "no Excel table named tblQuotas in book.xlsm" in english
    said = refused_message(err.value, "zh-CN")
    assert said.startswith("没有刷新，工作簿保持不变：")
    assert "tblOpportunities 缺少列 金额" in said and "没有名为 tblQuotas 的 Excel 表" in said
    assert _english(said, {"book", "xlsm"}) == set(), said
    # The command line says it in the book's language too, with its --force hint.
    done = CliRunner().invoke(app, ["refresh", str(path)], catch_exceptions=False)
    assert done.exit_code == 2
    line = " ".join(done.output.split())
    assert "没有刷新" in line and "--force" in line
    assert _english(line, {"book", "xlsm"}) == set(), line


def test_a_forced_refresh_lists_the_refusals_in_chinese_in_issues(chinese_book, tmp_path):
    path = _book(chinese_book, tmp_path)
    hostile.rename_headers(path, "tblOpportunities", {"金额": "合同总额"})
    from udfs.macros import refresh_report

    report, _ = refresh_report(FileBook(path), force=True)
    issues = report.tables["issues"]
    refused = issues[issues["column"].astype(str).str.contains("amount|金额")]
    assert len(refused)
    for problem, action in zip(refused["problem"], refused["action"]):
        assert HAN.search(problem) and HAN.search(action)
        assert _english(f"{problem} {action}", set()) == set(), (problem, action)


def test_no_usable_deal_is_said_in_chinese_quoting_the_first_rows_problem():
    deals = pd.DataFrame({"id": ["1", "2"], "stage": ["K1", "K2"], "amount": [10.0, 20.0]}, index=[2, 3])
    with pytest.raises(RefreshRefused) as err:
        run({"opportunities": deals}, {"language": "zh-CN"})
    said = err.value.said_in("zh-CN")
    assert "商机表中的 2 个商机都无法使用（第 2 行：" in said and "K1" in said
    assert _english(said, set()) == set(), said
    assert str(err.value).startswith("none of the 2 deals in the opportunities table can be used (row 2: unknown stage 'K1'")


def test_a_crm_imports_problems_are_said_in_chinese(tmp_path):
    # A Maven-like folder with a misspelled sector, a product spelled two ways, an agent,
    # a product and an account the companions lack, an unknown stage and a repeated id.
    files = {
        "products.csv": "product,series,sales_price\nGTX Pro,GTX,4821\n",
        "accounts.csv": "account,sector,year_established,revenue,employees,office_location,subsidiary_of\n"
                        "Cancity,technolgy,2001,1,2,Kenya,\n",
        "sales_teams.csv": "sales_agent,manager,regional_office\nMoses Frase,Dustin Brinkmann,Central\n",
        "sales_pipeline.csv": "opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n"
                              "A1,Moses Frase,GTXPro,Cancity,Won,2017-01-02,2017-02-01,4500\n"
                              "A2,Nobody Known,Widget,Unknown Co,Lost,2017-01-03,2017-02-02,0\n"
                              "A3,Moses Frase,GTX Pro,Cancity,Snoozing,2017-01-03,,\n"
                              "A1,Moses Frase,GTX Pro,Cancity,Won,2017-01-03,2017-02-02,10\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = import_export(tmp_path / "sales_pipeline.csv", language="zh-CN")
    issues = result.log.table("zh-CN")
    assert len(issues) >= 7
    quoted = {w for value in issues["value"] for w in WORD.findall(str(value))}  # the user's own values
    # The files' names and their headers (the companions' columns: sector), the layout's name, a fix.
    files_and_codes = {w for name, text in files.items() for w in WORD.findall(name + " " + text.splitlines()[0])}
    files_and_codes |= {"maven", "technology", "GTX", "Pro"}
    files_and_codes |= {t.to for lookup in load_layout("maven").lookups for t in lookup.targets().values()}  # region
    for problem, action in zip(issues["problem"], issues["action"]):
        assert HAN.search(problem), problem
        assert _english(f"{problem} {action}", quoted | files_and_codes) == set(), (problem, action)
    # The English texts are as they were.
    english = result.log.table("en")
    assert "product 'GTXPro' is written 'GTX Pro' in products.csv" in set(english["problem"])


def test_a_missing_optional_table_is_said_in_chinese(chinese_book, tmp_path):
    # The Stakeholders sheet deleted: not a refusal, an Issues row in the book's language.
    from udfs.macros import refresh_report

    path = _book(chinese_book, tmp_path)
    hostile.delete_sheet(path, INPUTS["tblStakeholders"].sheet("zh-CN"))
    report, _ = refresh_report(FileBook(path))
    issues = report.tables["issues"]
    row = issues[issues["value"] == "tblStakeholders"]
    assert len(row) == 1
    problem, action = row["problem"].iloc[0], row["action"].iloc[0]
    assert "book.xlsm 中没有名为 tblStakeholders 的 Excel 表" in problem
    assert _english(f"{problem} {action}", {"book", "xlsm"}) == set(), (problem, action)
