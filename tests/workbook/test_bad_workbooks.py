"""A refresh survives what users do to a workbook's input sheets.

Each test builds the demo workbook with ``new_workbook`` (60 deals, inputs only), makes
one edit a user makes in Excel (zip-level, see ``tests.support.hostile``), refreshes it
with the Refresh button's macro over a ``FileBook``, and checks three things:

* the exact problem the Issues sheet shows (or that there is none);
* the rest of the work still happens: every output table is written, and equals the
  untouched workbook's refresh wherever the edit should not matter;
* nothing the user had is lost: every zip member outside the output tables' own parts
  (their sheets, table parts and charts) comes back byte-identical.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from funnel import catalog
from funnel.demo.data import demo_tables
from funnel.inputs.refusals import RefreshRefused
from tests.support import hostile
from tests.support.readiness import is_readiness
from udfs.macros import refresh
from workbook.build import new_workbook
from workbook.filebook import FileBook
from workbook.layout import OUTPUTS
from workbook.mapping import read_inputs
from workbook.package import open_package
from workbook.table_reader import read_tables

SIZE, SEED = 60, 3
# The demo's own problems (stage step-backs in the history) are in every refresh below.
N_OUTPUTS = len(OUTPUTS)
# Snapshots off: these books are about bad tables; what a refresh records is tests/udfs/test_refresh_snapshot.py's.
OFF = {"store": "off"}


@pytest.fixture(scope="module")
def demo_inputs() -> dict[str, pd.DataFrame]:
    return demo_tables(size=SIZE, seed=SEED)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, demo_inputs) -> Path:
    """The demo workbook as built: input tables filled, output tables empty."""
    return new_workbook(tmp_path_factory.mktemp("pristine") / "book.xlsm", "en", demo_inputs)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory, pristine: Path) -> dict[str, pd.DataFrame]:
    """Every output table of the untouched workbook's refresh, read back from the file."""
    path = tmp_path_factory.mktemp("baseline") / "book.xlsm"
    shutil.copy(pristine, path)
    refresh(FileBook(path), OFF)
    return read_tables(path, list(OUTPUTS))


@pytest.fixture
def book(tmp_path: Path, pristine: Path) -> Path:
    path = tmp_path / "book.xlsm"
    shutil.copy(pristine, path)
    return path


def _issues(frame: pd.DataFrame) -> list[tuple]:
    # The Issues table as (table, row, column, value, problem, action), blanks as "".
    rows = []
    for r in frame.itertuples(index=False):
        table, row, column, value, problem, action = (None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in r)
        rows.append((table or "", None if row is None else int(row), column or "", value or "", problem or "", action or ""))
    return [r for r in rows if any(v not in ("", None) for v in r)]


def _cells(issues: list[tuple]) -> list[tuple]:
    # Without the rows on what the book lacks (no close dates, no quotas), which come first and
    # change when a test takes a table or a date away (tests/funnel/test_readiness.py pins them).
    return [r for r in issues if not is_readiness(r[4])]


def _refresh(path: Path) -> tuple[str, dict[str, pd.DataFrame], list[tuple]]:
    # Refresh as the button does; the message, every output table read back, the issues.
    before = hostile.members(path)
    book = FileBook(path)
    message = refresh(book, OFF)  # the snapshot store's part: tests/udfs/test_refresh_snapshot.py
    outputs = read_tables(path, list(OUTPUTS))
    _assert_nothing_lost(before, path)
    return _without_snapshot(book.message or message), outputs, _issues(outputs["tblIssues"])


def _without_snapshot(message: str) -> str:
    # The closing message without the sentence on the snapshot store (off here).
    return message.replace(f" {catalog.text('message.refresh_snapshot_off', 'en')}", "")


def _owned_parts(path: Path) -> set[str]:
    # The parts a refresh rewrites: output table parts, their sheets, the charts on those sheets.
    with open_package(path) as pkg:
        owned = set()
        for name in OUTPUTS:
            info = pkg.table(name)
            owned |= {info.part, info.sheet_part, *pkg.drawing_charts(info.sheet_part)}
    return owned


def _assert_nothing_lost(before: dict[str, bytes], path: Path) -> None:
    after = hostile.members(path)
    assert list(after) == list(before), "zip members added, removed or reordered"
    changed = {name for name in before if before[name] != after[name]}
    assert changed <= _owned_parts(path), f"refresh changed parts it does not own: {sorted(changed - _owned_parts(path))}"


def _baseline_issues(baseline: dict[str, pd.DataFrame]) -> list[tuple]:
    return _issues(baseline["tblIssues"])


def _assert_outputs_equal(outputs: dict[str, pd.DataFrame], baseline: dict[str, pd.DataFrame], skip=("tblIssues",)) -> None:
    for name in OUTPUTS:
        if name in skip:
            continue
        pd.testing.assert_frame_equal(outputs[name], baseline[name], obj=name)


def _summary(outputs: dict[str, pd.DataFrame]) -> dict[str, object]:
    s = outputs["tblSummary"]
    return dict(zip(s["Figure"], s["Value"]))


def _message(deals: int, problems: int) -> str:
    return f"Refreshed {N_OUTPUTS} output tables from {deals} deals. {problems} problem(s) found in the data: see the Issues sheet."


# ---- sheets and tables renamed or deleted ------------------------------------------------------------
def test_renamed_input_sheet_still_reads(book: Path, baseline) -> None:
    # Tables are found by name, so the sheet's name does not matter.
    hostile.rename_sheet(book, "Opportunities", "Deals FY26")
    message, outputs, issues = _refresh(book)
    assert issues == _baseline_issues(baseline)
    assert message == _message(SIZE, len(issues))
    _assert_outputs_equal(outputs, baseline, skip=())


def _refused(path: Path, message: str) -> None:
    # The refresh refuses with exactly this message, before writing anything: the file is byte-identical.
    before = path.read_bytes()
    book = FileBook(path)
    with pytest.raises(RefreshRefused) as err:
        refresh(book, OFF)
    assert str(err.value) == message
    assert path.read_bytes() == before
    assert book.message == ""  # finish was never reached


def test_deleted_quotas_sheet_is_refused_so_last_weeks_attainment_stays(book: Path, baseline) -> None:
    hostile.delete_sheet(book, "Quotas")
    _refused(book, "no Excel table named tblQuotas in book.xlsm. Rename the table back to tblQuotas (Table Design > Table Name), "
                   "or undo the deletion")


def test_deleted_quotas_sheet_forced_refreshes_without_quotas(book: Path, baseline) -> None:
    hostile.delete_sheet(book, "Quotas")
    before = hostile.members(book)
    refresh(FileBook(book), OFF, force=True)
    _assert_nothing_lost(before, book)
    outputs = read_tables(book, list(OUTPUTS))
    issues = _cells(_issues(outputs["tblIssues"]))
    assert issues == [
        ("quotas", None, "", "tblQuotas", "no Excel table named tblQuotas in book.xlsm. Rename the table back to tblQuotas "
         "(Table Design > Table Name), or undo the deletion", "left out; defaults used"),
        *_cells(_baseline_issues(baseline)),
    ]
    periods, base = outputs["tblForecastPeriods"], baseline["tblForecastPeriods"]
    assert base["Quota"].notna().any(), "the demo has quotas, so the baseline shows some"
    assert periods[["Quota", "Attainment"]].isna().all().all()
    # Everything that does not depend on a quota is unchanged; periods that only had a
    # quota (no deals) are no longer listed.
    keep = [c for c in base.columns if c not in ("Quota", "Attainment", "Coverage")]
    with_deals = base[(base[["Open deals", "Won deals", "Lost deals"]].fillna(0) > 0).any(axis=1)]
    pd.testing.assert_frame_equal(periods[keep].reset_index(drop=True), with_deals[keep].reset_index(drop=True))
    assert outputs["tblDashFigures"][["Quota", "Of quota"]].isna().all().all()
    _assert_outputs_equal(outputs, baseline, skip=("tblIssues", "tblSummary", "tblForecastPeriods", "tblForecast",
                                                   "tblForecastTeams", "tblRange", "tblDashFigures", "tblDashOwners"))


def test_deleted_optional_sheet_is_reported_and_the_rest_refreshes(book: Path, baseline) -> None:
    # The competition tables are optional: without Stakeholders, only the decision chain is empty.
    hostile.delete_sheet(book, "Stakeholders")
    message, outputs, issues = _refresh(book)
    assert ("stakeholders", None, "", "tblStakeholders", "the Excel table tblStakeholders is missing "
            "(no Excel table named tblStakeholders in book.xlsm)", "left out; defaults used") in issues
    assert message == _message(SIZE, len(issues))


def test_renamed_opportunities_table_is_refused_naming_the_table_and_the_fix(book: Path, baseline) -> None:
    hostile.rename_table(book, "tblOpportunities", "tblDeals")
    _refused(book, "no Excel table named tblOpportunities in book.xlsm; tables with other names: tblDeals. Rename the table back "
                   "to tblOpportunities (Table Design > Table Name), or undo the deletion")


def test_renamed_opportunities_table_forced_writes_zero_deals_and_says_why(book: Path, baseline) -> None:
    hostile.rename_table(book, "tblOpportunities", "tblDeals")
    book_ = FileBook(book)
    refresh(book_, OFF, force=True)
    outputs = read_tables(book, list(OUTPUTS))
    issues = _issues(outputs["tblIssues"])
    assert issues[0] == (
        "opportunities", None, "", "tblOpportunities",
        "no Excel table named tblOpportunities in book.xlsm; tables with other names: tblDeals. Rename the table back "
        "to tblOpportunities (Table Design > Table Name), or undo the deletion",
        "no deals to analyse",
    )
    assert _without_snapshot(book_.message) == _message(0, len(issues))
    summary = _summary(outputs)
    assert summary["Open deals"] == 0 and summary["Won deals"] == 0
    # The renamed table is the user's data, still there under its new name.
    deals = read_tables(book, "tblDeals")["tblDeals"]
    assert len(deals) == SIZE and deals["Deal ID"].iloc[0] == "OPP-000001"


# ---- cells and headers the user edited --------------------------------------------------------------
def test_merged_cells_in_the_stage_column(book: Path, baseline) -> None:
    # Merging F3:F4 keeps F3's value; F4 becomes blank, as Excel does it.
    hostile.merge_cells(book, "Opportunities", "F3:F4")
    message, outputs, issues = _refresh(book)
    assert ("opportunities", 4, "stage", "", "stage is blank", "row left out") in issues
    assert message == _message(SIZE - 1, len(issues))
    sheet = hostile.members(book)[hostile.sheet_part(book, "Opportunities")]
    assert b'<mergeCell ref="F3:F4"/>' in sheet


def test_headers_typed_in_the_other_language(book: Path, baseline) -> None:
    hostile.rename_headers(book, "tblOpportunities", {"Owner": "负责人", "Amount": "金额", "Stage": "阶段"})
    message, outputs, issues = _refresh(book)
    assert issues == _baseline_issues(baseline)
    _assert_outputs_equal(outputs, baseline, skip=())


def test_a_header_renamed_to_unknown_text_is_refused_naming_the_header_it_may_be(book: Path, baseline) -> None:
    hostile.rename_headers(book, "tblOpportunities", {"Amount": "Amout"})
    _refused(book, "tblOpportunities has no column Amount (found Amout): rename it back to Amount, "
                   "or map it in Settings (column_names: Amount=Amout)")


def test_a_deleted_header_is_refused_listing_what_is_there(book: Path, baseline) -> None:
    hostile.rename_headers(book, "tblOpportunities", {"Stage": "Phase"})
    _refused(book, "tblOpportunities has no column Stage (headers not recognised: Phase): rename the one that holds it to Stage, "
                   "or map it in Settings (column_names: Stage=that header)")


def test_headers_close_to_known_ones_are_read_and_said(book: Path, baseline) -> None:
    # An alias, a currency in brackets, other spacing: read, each said once; every figure as before.
    hostile.rename_headers(book, "tblOpportunities", {"Amount": "Amt", "Owner": "Sales rep", "Close date": "Close-Date"})
    hostile.rename_headers(book, "tblStages", {"Probability": "Probability (%)"})
    message, outputs, issues = _refresh(book)
    assert sorted(issues, key=repr) == sorted([
        ("opportunities", None, "owner", "Sales rep", "column 'Sales rep' read as Owner", "read; rename it Owner to silence this"),
        ("opportunities", None, "amount", "Amt", "column 'Amt' read as Amount", "read; rename it Amount to silence this"),
        ("opportunities", None, "close_date", "Close-Date", "column 'Close-Date' read as Close date",
         "read; rename it Close date to silence this"),
        ("stages", None, "probability", "Probability (%)", "column 'Probability (%)' read as Probability",
         "read; rename it Probability to silence this"),
        *_baseline_issues(baseline),
    ], key=repr)
    _assert_outputs_equal(outputs, baseline, skip=("tblIssues", "tblSummary"))


def test_a_header_mapped_in_settings_is_read_silently(book: Path, baseline) -> None:
    hostile.rename_headers(book, "tblOpportunities", {"Amount": "Betrag"})
    _refused(book, "tblOpportunities has no column Amount (headers not recognised: Betrag): rename the one that holds it to Amount, "
                   "or map it in Settings (column_names: Amount=that header)")
    settings = read_tables(book, "tblSettings")["tblSettings"]
    row = int(settings.index[settings["Setting"] == "column_names"][0])  # a new workbook lists it, blank
    hostile.set_cells(book, "Settings", {f"B{row}": f'<c r="B{row}" t="inlineStr"><is><t>Amount=Betrag</t></is></c>'})
    message, outputs, issues = _refresh(book)
    assert issues == _baseline_issues(baseline)
    _assert_outputs_equal(outputs, baseline, skip=())


def test_extra_columns_added_by_the_user(book: Path, baseline) -> None:
    hostile.add_column(book, "tblOpportunities", "My notes", ["call back", "=not a formula", "", "wait"])
    message, outputs, issues = _refresh(book)
    assert _cells(issues) == [
        ("opportunities", None, "My notes", "", "unknown column(s)", "ignored; check the header spelling"),
        *_cells(_baseline_issues(baseline)),
    ]
    assert message == _message(SIZE, len(issues))
    _assert_outputs_equal(outputs, baseline, skip=("tblIssues", "tblSummary"))
    notes = read_tables(book, "tblOpportunities")["tblOpportunities"]["My notes"]
    assert notes.head(4).tolist() == ["call back", "=not a formula", None, "wait"]


def test_input_tables_with_only_their_blank_row(tmp_path: Path, demo_inputs) -> None:
    # new_workbook leaves one blank data row in a table it has no data for, as Excel does.
    path = new_workbook(tmp_path / "empty.xlsm", "en", {"settings": demo_inputs["settings"], "stages": demo_inputs["stages"]})
    message, outputs, issues = _refresh(path)
    assert issues == [("opportunities", None, "", "", "the opportunities table has no rows", "no deals to analyse")]
    assert message == _message(0, 1)
    summary = _summary(outputs)
    assert (summary["Open deals"], summary["Open amount"], summary["Won deals"]) == (0, 0, 0)
    assert len(outputs["tblStageStats"]) == len(demo_inputs["stages"])


def test_stage_codes_with_spaces_and_full_width_letters(tmp_path: Path, demo_inputs, baseline) -> None:
    # What users type: padding, a no-break or ideographic space, full-width letters, lower case.
    variants = {"W": [" W ", "Ｗ", "w", "W\u3000"], "L": ["\u00a0L", "Ｌ\t", "l"], "B": ["ｂ ", " B"],
                "I": ["Ｉ"], "P": ["p\u3000"]}
    opps = demo_inputs["opportunities"].copy()
    seen: dict[str, int] = {}
    for i, code in zip(opps.index, opps["stage"]):
        if i % 2:
            k = seen.get(code, 0)
            opps.loc[i, "stage"] = variants[code][k % len(variants[code])]
            seen[code] = k + 1
    assert set(seen) == set(variants)
    path = new_workbook(tmp_path / "codes.xlsm", "en", {**demo_inputs, "opportunities": opps})
    message, outputs, issues = _refresh(path)
    assert issues == _baseline_issues(baseline)
    _assert_outputs_equal(outputs, baseline, skip=())


def test_formulas_in_input_cells_are_read_as_their_cached_values(book: Path, baseline) -> None:
    # The cached <v> is what Excel last showed; the reader never evaluates a formula
    # (1+1 here would give 2; the cell shows 133000, so the deal's amount is 133000).
    original = read_tables(book, "tblOpportunities")["tblOpportunities"]
    amount, owner = original.loc[2, "Amount"], original.loc[3, "Owner"]
    assert amount == 133000
    hostile.set_cells(book, "Opportunities", {
        "G2": f'<c r="G2"><f>1+1</f><v>{amount:g}</v></c>',
        "D3": f'<c r="D3" t="str"><f>LEFT("{owner}",99)</f><v>{owner}</v></c>',
    })
    raw, log = read_inputs(FileBook(book))
    assert raw["opportunities"].loc[2, "amount"] == 133000 and raw["opportunities"].loc[3, "owner"] == owner
    message, outputs, issues = _refresh(book)
    assert issues == _baseline_issues(baseline)
    _assert_outputs_equal(outputs, baseline, skip=())


def test_excel_error_values_are_reported_not_silently_blank(book: Path, baseline) -> None:
    hostile.set_cells(book, "Opportunities", {
        "G3": '<c r="G3" t="e"><v>#N/A</v></c>',                      # a broken VLOOKUP's result
        "I4": '<c r="I4" t="e"><f>#REF!+1</f><v>#REF!</v></c>',       # a formula whose source was deleted
        "F5": '<c r="F5" t="e"><v>#VALUE!</v></c>',
    })
    message, outputs, issues = _refresh(book)
    assert _cells(issues)[:4] == [
        ("opportunities", 3, "amount", "#N/A", "Excel error #N/A in the cell", "read as blank"),
        ("opportunities", 4, "close_date", "#REF!", "Excel error #REF! in the cell", "read as blank"),
        ("opportunities", 5, "stage", "", "stage is blank", "row left out"),
        ("opportunities", 5, "stage", "#VALUE!", "Excel error #VALUE! in the cell", "read as blank"),
    ]
    assert message == _message(SIZE - 1, len(issues))


def test_formulas_without_a_saved_value_are_reported_not_silently_blank(book: Path, baseline) -> None:
    # What openpyxl or a script writes: the formula and no value, or an empty one; Excel always saves the value.
    hostile.set_cells(book, "Opportunities", {
        "G2": '<c r="G2"><f>133000*1</f></c>',
        "G3": '<c r="G3"><f>B3&amp;"x"</f><v/></c>',
    })
    message, outputs, issues = _refresh(book)
    problem = "the cell's formula has no saved value (the file was written by a program, not saved by Excel)"
    action = "read as blank; recalculate in Excel and save, or enter the value"
    assert _cells(issues)[:2] == [("opportunities", 2, "amount", "=133000*1", problem, action),
                          ("opportunities", 3, "amount", '=B3&"x"', problem, action)]
    assert message == _message(SIZE, len(issues))


def test_a_formula_typed_by_openpyxl_is_reported(book: Path, baseline) -> None:
    # The issue's case: a script sets an amount to a formula with openpyxl and saves; the
    # file then holds the formula and no value until Excel calculates it.
    import openpyxl

    wb = openpyxl.load_workbook(book, keep_vba=True)
    wb["Opportunities"]["G2"] = "=G3*2"
    wb.save(book)
    raw, log = read_inputs(FileBook(book))
    issues = log.table()
    assert issues.iloc[0].tolist() == [
        "opportunities", 2, "amount", "=G3*2",
        "the cell's formula has no saved value (the file was written by a program, not saved by Excel)",
        "read as blank; recalculate in Excel and save, or enter the value"]
    assert pd.isna(raw["opportunities"].loc[2, "amount"])


def test_a_bad_stage_probability_degrades_that_value_and_every_deal_stays(book: Path, baseline) -> None:
    # P = 1.5 used to drop the stage, and every P deal became "unknown stage 'P'".
    stages = read_tables(book, "tblStages")["tblStages"]
    row = int(stages.index[stages["Code"] == "P"][0])
    hostile.set_cells(book, "Stage scheme", {f"D{row}": f'<c r="D{row}"><v>1.5</v></c>'})
    message, outputs, issues = _refresh(book)
    assert issues == [*_baseline_issues(baseline), ("stages", row, "probability", "1.5", "probability 1.5 is outside 0..1 (write 70% or 0.7)",
                                                    "used 0.2, the P/I/B scheme's probability for P")]
    assert message == _message(SIZE, len(issues))
    _assert_outputs_equal(outputs, baseline, skip=("tblIssues", "tblSummary"))  # the demo's P is 0.2 too


# ---- output sheets and tables the user (or an older version) changed -----------------------------------
def test_deleted_output_sheet_leaves_the_other_outputs_refreshed(book: Path, baseline) -> None:
    with open_package(book) as pkg:
        gone = [name for name in OUTPUTS if pkg.table(name).sheet == "Win rates"]
    assert gone, "the layout puts some output tables on the Win rates sheet"
    hostile.delete_sheet(book, "Win rates")
    before = hostile.members(book)
    file_book = FileBook(book)
    refresh(file_book, OFF)
    outputs = read_tables(book, [n for n in OUTPUTS if n not in gone])
    issues = _issues(outputs["tblIssues"])
    assert issues == _baseline_issues(baseline)
    assert _without_snapshot(file_book.message) == f"{_message(SIZE, len(issues))} Not in this workbook, so not written: {', '.join(gone)}."
    for name in outputs:
        pd.testing.assert_frame_equal(outputs[name], baseline[name], obj=name)
    after = hostile.members(book)
    with open_package(book) as pkg:
        owned = {p for n in outputs for p in (pkg.table(n).part, pkg.table(n).sheet_part, *pkg.drawing_charts(pkg.table(n).sheet_part))}
    assert {n for n in before if before[n] != after[n]} <= owned


def test_output_table_of_an_older_workbook_lacks_a_column(book: Path, baseline) -> None:
    # A workbook built before tblStageStats gained its last column still refreshes.
    with open_package(book) as pkg:
        last = pkg.table("tblStageStats").columns[-1]
    hostile.drop_last_column(book, "tblStageStats")
    file_book = FileBook(book)
    refresh(file_book, OFF)
    assert file_book.message.endswith(f" Columns this workbook's tables lack, so not written: tblStageStats ({last}).")
    stats = read_tables(book, "tblStageStats")["tblStageStats"]
    pd.testing.assert_frame_equal(stats, baseline["tblStageStats"].drop(columns=[last]))


def test_output_columns_reordered_by_the_user_get_their_own_values(book: Path, baseline) -> None:
    # Swap the Won and Lost headers of tblWinRates: each column keeps its header's figures.
    hostile.rename_headers(book, "tblWinRates", {"Won": "(swap)"})
    hostile.rename_headers(book, "tblWinRates", {"Lost": "Won"})
    hostile.rename_headers(book, "tblWinRates", {"(swap)": "Lost"})
    message, outputs, issues = _refresh(book)
    rates, base = outputs["tblWinRates"], baseline["tblWinRates"]
    assert list(rates.columns).index("Lost") < list(rates.columns).index("Won")
    pd.testing.assert_frame_equal(rates[list(base.columns)], base)
    assert message == _message(SIZE, len(issues))
