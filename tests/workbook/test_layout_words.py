"""The layout takes its words from the catalog: every sheet, caption and header has its
entry, every such entry has its place in the layout, and headers read back unambiguously."""

from __future__ import annotations

import pandas as pd

from funnel.analysis import summary_table
from funnel.catalog import LANGUAGES, group, text
from funnel.forecast.health import health_counts
from funnel.inputs.issues import IssueLog
from funnel.inputs.parsing import fold
from funnel.inputs.settings import Settings
from funnel.methods.competition import read_comparison
from funnel.methods.negotiation import concession_plan
from workbook import build
from workbook.layout import ALL_TABLES, INPUTS, OUTPUTS, YES_NO, header, header_lookup, metric_label


def test_every_layout_column_has_its_header_and_every_header_entry_its_column():
    in_layout = {(t.name, c.key) for t in ALL_TABLES.values() for c in t.columns}
    in_catalog = {tuple(name.split(".", 1)) for name in group("header")}
    plan = {("concession_plan", key) for key in [*concession_plan(120, 110).steps.columns, "advice"]}
    assert in_catalog == in_layout | plan


def test_sheets_captions_and_headings_match_the_layout():
    assert set(group("sheet")) == {t.sheet_key for t in ALL_TABLES.values()}
    assert set(group("title")) == set(OUTPUTS)
    assert all(t.title(lang) == "" for t in INPUTS.values() for lang in LANGUAGES)
    output_sheets = {t.sheet_key for t in OUTPUTS.values()}
    assert set(group("heading")) == output_sheets
    assert sorted(build._OUTPUT_SHEETS) == sorted(output_sheets)  # each output sheet built once


def test_layout_words_are_the_catalogs():
    deals = OUTPUTS["tblDealScores"]
    assert deals.sheet("zh-CN") == "商机评分" and deals.sheet_en == "Deal scores"
    assert deals.title("en") == text("title.tblDealScores", "en")
    assert header("tblOpportunities", "amount", "zh-CN") == "金额"
    # The forecast's shared value columns take each table's own entry.
    assert [c.table for c in OUTPUTS["tblForecastTeams"].columns] == ["tblForecastTeams"] * len(OUTPUTS["tblForecastTeams"].columns)
    col = INPUTS["tblStakeholders"].columns[3]
    assert (col.key, col.en, col.zh) == ("role", "Role", "角色")
    assert YES_NO == {"en": ("yes", "no"), "zh-CN": ("是", "否")}


def test_a_header_in_either_language_means_one_column():
    # Reading takes English or Chinese: one column's Chinese must not be another's English.
    for layout in ALL_TABLES.values():
        seen: dict[str, str] = {}
        for col in layout.columns:
            for spelled in {fold(col.en).lower(), fold(col.zh).lower()}:
                assert seen.setdefault(spelled, col.key) == col.key, (layout.name, spelled, seen[spelled], col.key)
        for col in layout.columns:
            assert header_lookup(layout.name)[fold(col.zh).lower()] == col.key


def test_the_summary_labels_the_headline_figures():
    deals = pd.DataFrame({"is_open": [True], "is_won": [False], "is_lost": [False], "amount": [10.0], "weighted": [2.0]})
    health = pd.DataFrame({flag: [False] for flag in ("stale", "overdue", "pushed", "inactive")})
    figures = list(summary_table(deals, Settings(), 0)["metric"]) + list(health_counts(deals, health)["metric"])
    assert list(group("metric")) == figures
    assert metric_label("weighted_pipeline", "zh-CN") == "加权管道"
    # The deal-health counts under the headline figures, in both languages.
    assert metric_label("stale_deals", "en") == "Stale deals" and metric_label("stale_deals", "zh-CN") == "停滞商机数"
    assert metric_label("flagged_amount", "en") == "Flagged amount"
    # A figure without an entry keeps its key, readable in English.
    assert metric_label("some_new_figure", "en") == "Some new figure"


def test_the_sample_comparison_column_reads_as_ours():
    # An empty comparison table offers a rival's column and ours; ours must be recognised
    # as us even when it is not the first.
    for language in LANGUAGES:
        us, rival = text("sample.comparison.us", language), text("sample.comparison.rival", language)
        frame = pd.DataFrame({"opportunity_id": ["D1"], "factor": ["price"], "weight": [1.0], rival: [3.0], us: [4.0]})
        _, vendors, found = read_comparison(frame, pd.Series(["D1"]), 5.0, IssueLog())
        assert vendors == [rival, us] and found == us, language
