"""The attack suite by family: how many cases each kind of bad input or hostile condition has.

Collects the tests (nothing runs) and counts the cases of each family, each family being
the test functions that attack it:

    python tools/attack_families.py

The README's reliability table is this script's output.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# family -> (what it attacks, test-id prefixes whose cases belong to it)
FAMILIES = {
    "bad cells and values": ("a bad value in any input table: exact issues, the rest still computed", (
        "tests/corpus/test_bad_input.py::test_bad_input",)),
    "CRM exports": ("whole export files: bad rows, encodings, layouts, separators", (
        "tests/corpus/test_bad_input.py::test_bad_export",)),
    "structure refused": ("renamed or deleted tables and columns, unusable deals: exit 2, file unchanged", (
        "tests/e2e/test_cli.py::test_a_missing_table_or_column_is_refused",
        "tests/e2e/test_cli.py::test_a_refused_csv_folder_report",
        "tests/e2e/test_cli.py::test_the_funnel_script_exits_2_on_refused_inputs",
        "tests/e2e/test_cli.py::test_force_refreshes_what_can_be_computed",
        "tests/workbook/test_bad_workbooks.py::test_renamed_opportunities_table_is_refused",)),
    "hostile files": ("zip and entity bombs, huge sheets, truncated, encrypted, not a workbook", (
        "tests/e2e/test_cli.py::test_hostile_file_is_refused_in_one_line",
        "tests/e2e/test_cli.py::test_file_book_refuses_with_the_workbook_error_tree",
        "tests/e2e/test_cli.py::test_report_reads_only_inputs_but_refresh_refuses",
        "tests/e2e/test_cli.py::test_the_funnel_script_exits_non_zero_on_a_refused_file",
        "tests/workbook/test_table_io.py::test_refuses_",)),
    "damaged and traversal zips": ("flipped bits, corrupt streams, entry names outside the package", (
        "tests/workbook/test_damaged_files.py::",)),
    "saving: disks, links, owner files": ("full and read-only disks, permissions, links, Excel's owner file", (
        "tests/workbook/test_saving.py::",
        "tests/e2e/test_cli.py::test_a_file_that_cannot_be_saved_safely",
        "tests/e2e/test_cli.py::test_force_refreshes_a_workbook_whose_owner_file",
        "tests/e2e/test_cli.py::test_refresh_keeps_a_hard_link",
        "tests/e2e/test_cli.py::test_refresh_through_a_symbolic_link",)),
    "kills and concurrency": ("a refresh killed at each step and at timed moments; two refreshes at once", (
        "tests/e2e/test_cli.py::test_a_refresh_killed",
        "tests/e2e/test_cli.py::test_a_second_refresh",
        "tests/e2e/test_cli.py::test_two_refreshes",
        "tests/workbook/test_table_io.py::test_killed_writer",
        "tests/workbook/test_table_io.py::test_concurrent_writer",
        "tests/workbook/test_table_io.py::test_failure_before_replace",)),
    "preservation": ("everything the refresh does not own survives, byte for byte", (
        "tests/workbook/test_inplace_refresh.py::",
        "tests/workbook/test_table_io.py::test_refresh_rewrites_only_what_it_owns",
        "tests/workbook/test_table_io.py::test_growing_over_user_data_is_refused",
        "tests/workbook/test_table_io.py::test_headers_must_match",)),
    "injection": ("text that looks like a formula stays text: in the workbook, in CSV, in JSON", (
        "tests/workbook/test_table_io.py::test_formula_looking_text_stays_text",
        "tests/e2e/test_cli.py::test_formula_text_",)),
}


def collected() -> list[str]:
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests"],
                          cwd=ROOT, capture_output=True, text=True)
    return [line.strip() for line in done.stdout.splitlines() if "::" in line]


def main() -> int:
    ids = collected()
    counts = Counter()
    for test in ids:
        for family, (_, prefixes) in FAMILIES.items():
            if test.startswith(prefixes):
                counts[family] += 1
                break
    print("| family | what it attacks | cases |\n|---|---|---|")
    for family, (what, _) in FAMILIES.items():
        print(f"| {family} | {what} | {counts[family]} |")
    print(f"| all | | {sum(counts.values())} |")
    return 0 if all(counts[f] for f in FAMILIES) else 1


if __name__ == "__main__":
    sys.exit(main())
