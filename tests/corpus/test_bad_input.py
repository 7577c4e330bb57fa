"""Every bad input in the corpus ends in exact issues and a finished report, never a traceback."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from funnel.analysis import OUTPUT_TABLES, run
from funnel.crm.importers import ExportError, import_export
from funnel.inputs import parsing
from funnel.inputs.refusals import RefreshRefused
from funnel.inputs.validation import validate
from tests.corpus.cases import CASES, EXPORT_CASES, Case, ExportCase
from tests.support.readiness import without_readiness

EXPORTS = Path(__file__).parent / "exports"


def _raw(spec: str | list[dict]) -> pd.DataFrame:
    # A table as a sheet hands it over: header on row 1, so the first row is row 2.
    if isinstance(spec, str):
        frame = pd.read_csv(io.StringIO(spec), dtype=str, keep_default_na=False)
    else:
        frame = pd.DataFrame(spec)
    frame.index = pd.RangeIndex(2, 2 + len(frame))
    return frame


def _issue_rows(issues: pd.DataFrame) -> list[tuple]:
    return [tuple(None if pd.isna(v) else (v.item() if isinstance(v, np.generic) else v) for v in row)
            for row in issues.itertuples(index=False)]


def _expected(issues: list[tuple]) -> list[tuple]:
    today = dt.date.today().isoformat()
    return [tuple(v.replace("{today}", today) if isinstance(v, str) else v for v in issue) for issue in issues]


def _ordered(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=repr)


def _report_is_whole(report, deal_ids: tuple[str, ...]) -> None:
    assert set(OUTPUT_TABLES) <= set(report.tables)
    assert sorted(report.deals["id"]) == sorted(deal_ids)
    deals = report.deals
    assert (deals["is_open"] | deals["is_won"] | deals["is_lost"]).all()
    assert deals["used_probability"].between(0, 1).all()
    assert (deals["weighted"] <= deals["amount"].fillna(0) + 1e-9).all()
    summary = report["summary"].set_index("metric")["value"]
    assert summary["open_deals"] + summary["won_deals"] + summary["lost_deals"] == len(deals)


def test_the_corpus_is_large_enough_and_names_are_unique():
    names = [c.name for c in CASES] + [c.name for c in EXPORT_CASES]
    assert len(names) >= 60 and len(set(names)) == len(names)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input(case: Case):
    raw = {name: _raw(spec) for name, spec in case.tables.items()}
    if case.refused is not None:
        with pytest.raises(RefreshRefused) as err:
            run(raw)
        assert str(err.value) == case.refused
        raw = {name: _raw(spec) for name, spec in case.tables.items()}
    report = run(raw, force=case.refused is not None)  # must finish: no case may end in a traceback
    # The rows saying the small book has no quotas and no close dates are checked, then set aside.
    assert _ordered(_issue_rows(without_readiness(report))) == _ordered(_expected(case.issues))
    _report_is_whole(report, case.deals)
    deals = report.deals.set_index("id")
    for (deal, column), value in case.values.items():
        got = deals.loc[deal, column]
        if isinstance(value, float):
            assert got == pytest.approx(value), (deal, column)
        else:
            assert got == value, (deal, column)


@pytest.mark.parametrize("case", EXPORT_CASES, ids=lambda c: c.name)
def test_bad_export(case: ExportCase):
    path = EXPORTS / case.file
    if case.error is not None:
        with pytest.raises(ExportError) as err:
            import_export(path, case.layout)
        assert str(err.value) == case.error
        return
    result = import_export(path, case.layout)
    assert _ordered(_issue_rows(result.issues)) == _ordered(_expected(case.issues))
    opportunities = result.opportunities.set_index("id")
    for (deal, column), value in case.values.items():
        assert opportunities.loc[deal, column] == value, (deal, column)
    report = run(result.tables)
    _report_is_whole(report, case.deals)


@pytest.mark.slow  # about 3-9 s on the development machine (bench/validate.py times it)
def test_a_million_rows_validate_with_the_parser_on_the_bad_cells_only(monkeypatch):
    # Only the columns a minimal export has; amounts as text, as a CSV would give them.
    n = 1_000_000
    rng = np.random.default_rng(11)
    ids = pd.Series(np.char.add("D", np.arange(n).astype(str)), dtype=object)
    stages = pd.Series(rng.choice(np.array(list("PIBWL"), dtype=object), n), dtype=object)
    amounts = pd.Series(rng.integers(0, 10**6, n).astype(str), dtype=object)
    # A sprinkle of bad cells, so the slow path runs too: every 100,000th row.
    bad = np.arange(0, n, 100_000)
    amounts.iloc[bad] = "#N/A"
    stages.iloc[bad + 1] = "Z"
    raw = pd.DataFrame({"id": ids, "stage": stages, "amount": amounts})
    raw.index = pd.RangeIndex(2, 2 + n)
    # What bounds the time: the vectorized path reads the million good amounts, and the
    # per-cell parser (a Python call per cell) sees only the cells it could not read.
    parsed = []
    parse_amount = parsing.parse_amount

    def counted(value, *args, **kwargs):
        parsed.append(value)
        return parse_amount(value, *args, **kwargs)

    monkeypatch.setattr(parsing, "parse_amount", counted)
    inputs = validate({"opportunities": raw})
    # 10 unreadable amounts (rows kept) and 10 unknown stages (rows left out).
    assert len(inputs.issues) == 20
    assert len(inputs.opportunities) == n - 10
    assert parsed == ["#N/A"] * 10


@pytest.mark.slow
def test_a_million_rows_run_through_the_engine():
    n = 1_000_000
    rng = np.random.default_rng(12)
    raw = pd.DataFrame({
        "id": pd.Series(np.char.add("D", np.arange(n).astype(str)), dtype=object),
        "stage": pd.Series(rng.choice(np.array(list("PIBWL"), dtype=object), n), dtype=object),
        "amount": rng.integers(0, 10**6, n).astype(float),
    })
    raw.index = pd.RangeIndex(2, 2 + n)
    report = run({"opportunities": raw})
    assert without_readiness(report).empty  # only that no deal has a close date and there are no quotas
    _report_is_whole(report, tuple(raw["id"]))
