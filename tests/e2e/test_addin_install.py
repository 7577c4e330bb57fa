"""``funnel addin install`` / ``uninstall`` and ``funnel doctor`` on a home folder in tmp_path.

The platform is a parameter, so Windows' and macOS' layouts are checked here on real
files: the add-in lands in Excel's XLSTART, the config file is where xlwings' GetConfig
looks (``GetConfigFilePath``) and reads as its ``Input #`` reads (quoted CSV pairs).
Whether Excel then loads it can only be seen in Excel.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pytest
import xlwings
from typer.testing import CliRunner

from funnel_cli.main import app, doctor_report
from udfs.addin import functions_module, worksheet_functions
from workbook.addin import ExcelNotHere, build_addin, install_addin, uninstall_addin

runner = CliRunner()
PYTHON = r"C:\Users\ann\funnel\.venv\Scripts\python.exe"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("built") / "funnel.xlam"
    build_addin(path, functions_module(), "en")
    return path


def config_pairs(path: Path) -> dict[str, str]:
    with path.open(newline="", encoding="utf-8") as f:
        return {key: value for key, value in csv.reader(f)}


def test_windows_install_puts_the_addin_in_xlstart_and_the_config_in_the_users_folder(built, tmp_path):
    home, appdata = tmp_path / "ann", tmp_path / "ann" / "AppData" / "Roaming"
    where = install_addin(built, "win32", home, PYTHON, appdata)
    assert where.addin == appdata / "Microsoft" / "Excel" / "XLSTART" / "funnel.xlam"
    assert where.addin.read_bytes() == built.read_bytes()
    assert where.config == home / ".funnel" / "funnel.conf"
    assert config_pairs(where.config) == {"Interpreter_Win": PYTHON, "PYTHONPATH": "", "UDF Modules": "udfs.functions"}
    assert where.runpython is None


def test_macos_install_uses_the_sandboxed_excel_container(built, tmp_path):
    home = tmp_path / "ann"
    where = install_addin(built, "darwin", home, "/Users/ann/.venv/bin/python", None)
    container = home / "Library" / "Containers" / "com.microsoft.Excel" / "Data"
    assert where.addin == container / "Library" / "Application Support" / "Microsoft" / "Office" / "Excel" / "XLSTART" / "funnel.xlam"
    assert where.addin.is_file()
    assert config_pairs(container / "funnel.conf")["Interpreter_Mac"] == "/Users/ann/.venv/bin/python"
    # RunPython on macOS goes through xlwings' AppleScript, as `xlwings runpython install` puts it.
    script = home / "Library" / "Application Scripts" / "com.microsoft.Excel" / f"xlwings-{xlwings.__version__}.applescript"
    assert where.runpython == script and script.is_file()


def test_linux_has_no_excel_and_nothing_is_written(built, tmp_path):
    home = tmp_path / "ann"
    home.mkdir()
    with pytest.raises(ExcelNotHere):
        install_addin(built, "linux", home, "/usr/bin/python3")
    with pytest.raises(ExcelNotHere):
        uninstall_addin("linux", home)
    assert list(home.iterdir()) == []


def test_uninstall_removes_the_addin_and_its_config(built, tmp_path):
    home = tmp_path / "ann"
    where = install_addin(built, "win32", home, PYTHON)
    uninstall_addin("win32", home)
    assert not where.addin.exists() and not where.config.exists()
    with pytest.raises(FileNotFoundError):
        uninstall_addin("win32", home)


def test_install_of_a_missing_addin_says_so(tmp_path):
    with pytest.raises(FileNotFoundError):
        install_addin(tmp_path / "nowhere.xlam", "win32", tmp_path, PYTHON)
    assert not (tmp_path / ".funnel").exists()


def test_doctor_agrees_when_the_addin_calls_this_python(built, tmp_path):
    home = tmp_path / "ann"
    install_addin(built, "win32", home, PYTHON)
    rows, problems = doctor_report("win32", home, None, PYTHON)
    assert problems == []
    shown = dict(rows)
    assert shown["add-in's xlwings"] == shown["xlwings"] == xlwings.__version__
    assert shown["add-in's Python"] == PYTHON


def test_doctor_names_a_config_pointing_at_another_python(built, tmp_path):
    home = tmp_path / "ann"
    install_addin(built, "win32", home, r"C:\Python39\python.exe")
    _, problems = doctor_report("win32", home, None, PYTHON)
    assert len(problems) == 1 and r"C:\Python39\python.exe" in problems[0] and PYTHON in problems[0]


def test_doctor_says_when_no_addin_is_installed(tmp_path):
    _, problems = doctor_report("darwin", tmp_path, None, "/usr/bin/python3")
    assert len(problems) == 1 and "funnel.xlam" in problems[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux message")
def test_install_on_linux_exits_2_with_one_line(built):
    result = runner.invoke(app, ["addin", "install", str(built)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Excel does not run on linux" in lines[0] and str(built.resolve()) in lines[0]
    doctor = runner.invoke(app, ["doctor"])
    assert doctor.exit_code == 0 and xlwings.__version__ in doctor.output


def test_addin_build_from_the_command_line(tmp_path):
    out = tmp_path / "funnel.xlam"
    result = runner.invoke(app, ["addin", "build", "--out", str(out), "--lang", "zh-CN"])
    assert result.exit_code == 0, result.output
    assert f"{len(worksheet_functions())} worksheet functions" in " ".join(result.output.split()) and out.is_file()
    wrong = runner.invoke(app, ["addin", "build", "--out", str(tmp_path / "funnel.xlsm")])
    assert wrong.exit_code == 2 and "must end in .xlam" in wrong.output
    language = runner.invoke(app, ["addin", "build", "--lang", "fr"])
    assert language.exit_code == 2 and "--lang takes en or zh-CN" in language.output
