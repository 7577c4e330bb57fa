"""The Forecast calls and People tables in a workbook: built, read back, and optional."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from workbook.build import new_workbook
from workbook.errors import TableNotFound
from workbook.filebook import FileBook
from workbook.layout import INPUTS, OUTPUTS
from workbook.mapping import read_inputs


def test_calls_and_people_read_back_from_a_built_book(tmp_path: Path) -> None:
    calls = pd.DataFrame({"period": ["2026-Q4"], "owner": ["Ann"], "category": ["承诺"], "amount": [120.0],
                          "submitted_on": pd.to_datetime(["2026-11-02"]), "note": ["firm"]})
    people = pd.DataFrame({"person": ["Ann", "Mia"], "manager": ["Mia", None]})
    path = new_workbook(tmp_path / "calls.xlsx", language="zh-CN", tables={"forecast_calls": calls, "people": people})
    raw, log = read_inputs(FileBook(path))
    assert raw["forecast_calls"][["period", "owner", "category", "amount"]].values.tolist() == [["2026-Q4", "Ann", "承诺", 120.0]]
    assert raw["people"]["person"].tolist() == ["Ann", "Mia"]
    assert log.table().empty


class _OldBook:
    """A book made before the calls: every table of today's layout but the two new ones."""

    def __init__(self, path: Path) -> None:
        self.book = FileBook(path)

    def read_table(self, name: str) -> pd.DataFrame:
        if name in ("tblForecastCalls", "tblPeople"):
            raise TableNotFound(f"no table {name}")
        return self.book.read_table(name)


def test_a_book_without_the_new_tables_reads_without_a_word(tmp_path: Path) -> None:
    path = new_workbook(tmp_path / "old.xlsx")
    raw, log = read_inputs(_OldBook(path))
    assert raw["forecast_calls"] is None and raw["people"] is None
    assert log.table().empty and not log.refusals


def test_the_rollup_sits_right_of_the_other_forecast_tables() -> None:
    rollup = OUTPUTS["tblCallRollup"]
    for layout in OUTPUTS.values():
        if layout.sheet_key == "forecast" and layout is not rollup:
            assert layout.anchor[1] + len(layout.columns) < rollup.anchor[1]
    assert {"tblForecastCalls", "tblPeople"} <= set(INPUTS)
