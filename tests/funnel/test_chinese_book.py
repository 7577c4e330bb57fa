"""A zh-CN book reads in Chinese: stage schemes and the demo's stages in the book's language."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from funnel.demo.competition import demo_competition_tables
from funnel.demo.data import demo_tables
from funnel.inputs.issues import IssueLog
from funnel.inputs.schemes import PRESETS, preset_stages
from funnel.inputs.settings import Settings, settings_table
from funnel.inputs.validation import validate
from funnel.methods.competition import read_comparison
from funnel.methods.decision_chain import read_stakeholders

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("scheme", list(PRESETS))
def test_a_chinese_scheme_names_its_stages_and_criteria_in_chinese_and_is_otherwise_the_same(scheme):
    en, zh = preset_stages(scheme, "en"), preset_stages(scheme, "zh-CN")
    assert list(en.columns) == list(zh.columns)
    assert (en["name"] != zh["name"]).all() and (en["entry_criteria"] != zh["entry_criteria"]).all()
    same = [c for c in en.columns if c not in ("name", "entry_criteria", "forecast_category")]
    pd.testing.assert_frame_equal(en[same], zh[same])
    # The categories in Chinese, read back as the same categories.
    assert zh["forecast_category"].map(CHINESE.search).all()
    read = validate({"stages": zh})
    assert list(read.stages["forecast_category"]) == list(en["forecast_category"])
    assert not (read.issues["table"] == "stages").any()


def test_the_pib_scheme_in_chinese():
    zh = preset_stages("pib", "zh-CN")
    assert list(zh["name"]) == ["潜在客户", "客户进入考虑期", "商务谈判", "赢单", "丢单"]
    assert zh.loc[zh["code"] == "W", "entry_criteria"].item() == "合同已签订"


def test_the_chinese_demo_has_the_same_deals_under_chinese_stage_names():
    en, zh = demo_tables(size=40, seed=3), demo_tables(size=40, seed=3, language="zh-CN")
    assert list(zh["stages"]["name"]) == list(preset_stages("pib", "zh-CN")["name"])
    for name in ("stage_history", "settings"):
        pd.testing.assert_frame_equal(en[name], zh[name])
    pd.testing.assert_frame_equal(en["quotas"].drop(columns="team"), zh["quotas"].drop(columns="team"))
    assert set(zh["quotas"]["team"]) == {"华东", "华北", "华南"}
    typed = ["source", "next_step", "lost_reason", "forecast_category", "team", "industry"]
    pd.testing.assert_frame_equal(en["opportunities"].drop(columns=typed), zh["opportunities"].drop(columns=typed))
    for column in typed:  # the same cells filled, in Chinese
        assert (en["opportunities"][column].isna() == zh["opportunities"][column].isna()).all()
        assert zh["opportunities"][column].dropna().map(CHINESE.search).all(), column


def test_the_settings_table_says_what_each_setting_does_in_the_books_language():
    en = settings_table(Settings())
    zh = settings_table(Settings(language="zh-CN"))
    assert list(en["key"]) == list(zh["key"]) == list(Settings.model_fields)
    # The English wording stays as it was.
    assert en.set_index("key").loc["as_of", "description"] == "the day the figures are as of"
    assert zh.set_index("key").loc["as_of", "description"] == "数字所截至的日期"
    assert all(CHINESE.search(text) for text in zh["description"])


def _rows(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame.index = pd.RangeIndex(2, 2 + len(frame))  # sheet rows under a header in row 1
    return frame


def _inputs(language: str):
    settings = _rows([{"key": "language", "value": language}, {"key": "prior_strenght", "value": 3}])
    deals = _rows([{"id": "A1", "stage": "P", "amount": 100}, {"id": "A1", "stage": "W", "amount": 5},
                   {"id": "A2", "stage": "X", "amount": -1}, {"id": "A3", "stage": "I", "amount": 9}])
    history = _rows([{"opportunity_id": "A3", "stage": "I", "entered": "2026-01-05"},
                     {"opportunity_id": "A3", "stage": "P", "entered": "2026-03-01"}])
    return validate({"settings": settings, "opportunities": deals, "stage_history": history})


def test_the_issues_of_a_chinese_book_are_said_in_chinese_and_an_english_book_keeps_its_words():
    en = _inputs("en").issues
    zh = _inputs("zh-CN").issues
    assert list(en[["table", "row", "column", "value"]].itertuples(index=False)) == \
        list(zh[["table", "row", "column", "value"]].itertuples(index=False))
    said = set(zh[["table", "row", "problem", "action"]].itertuples(index=False, name=None))
    assert ("settings", 3, "未知的设置项“prior_strenght”（是否应为 prior_strength？）", "已忽略；改名为 prior_strength 才会生效") in said
    assert ("opportunities", 3, "商机编号“A1”重复（首次出现在第 2 行）", "该行未计入") in said
    assert ("opportunities", 4, "未知的阶段“X”（已有：P, I, B, W, L）", "该行未计入") in said
    assert ("opportunities", 4, "金额为负数", "按空白处理") in said
    assert ("stage_history", 3, "商机 A3 于 2026-03-01 从 I 退回到 P", "已保留；计为一次倒退") in said
    english = set(en[["table", "row", "problem", "action"]].itertuples(index=False, name=None))
    assert ("stage_history", 3, "deal A3 moved back to P on 2026-03-01 after I", "kept; counted as a step back") in english
    assert ("opportunities", 3, "duplicate deal id 'A1' (first at row 2)", "row left out") in english
    assert ("opportunities", 4, "amount is negative", "left blank") in english


def test_the_chinese_demos_competition_tables_hold_the_same_scores_in_chinese_words():
    tables = demo_tables(size=300, seed=7, language="zh-CN")
    en, zh = demo_competition_tables(tables), demo_competition_tables(tables, "zh-CN")
    assert "我方" in zh["comparison"].columns and "Us" not in zh["comparison"].columns
    assert (en["comparison"]["Us"].to_numpy() == zh["comparison"]["我方"].to_numpy()).all()
    assert list(zh["comparison"]["factor"].unique()) == ["功能匹配", "价格", "实施能力", "服务", "成功案例", "客户关系"]
    for column in ("title", "role", "attitude", "relationship", "style"):
        assert zh["stakeholders"][column].dropna().map(CHINESE.search).all(), column
    assert (en["stakeholders"]["role"].isna() == zh["stakeholders"]["role"].isna()).all()


def test_the_competition_and_decision_chain_issues_are_said_in_either_language():
    log = IssueLog()
    comparison = pd.DataFrame({"factor": ["价格", None, "服务"], "weight": [0.5, 0.2, 0.6], "我方": [3, 4, 9], "Alpha": [4, 2, 3]},
                              index=[2, 3, 4])
    read_comparison(comparison, pd.Series([], dtype=object), 5, log)
    people = pd.DataFrame({"opportunity_id": ["A1", "A1"], "name": ["Li", "li"], "title": [None, None],
                           "role": ["boss", "决策者"], "attitude": [None, None], "relationship": [None, None],
                           "style": [None, None]}, index=[2, 3])
    read_stakeholders(people, pd.Series(["A1"]), log)
    en = set(log.table()[["row", "problem", "action"]].itertuples(index=False, name=None))
    zh = set(log.table("zh-CN")[["row", "problem", "action"]].itertuples(index=False, name=None))
    assert (3, "factor is blank", "row left out") in en and (3, "决策因素为空", "该行未计入") in zh
    assert (4, "score 9 is outside 0..5 (comparison_scale_max)", "not scored (left out of this vendor's total)") in en
    assert (4, "评分 9 不在 0..5 之间（comparison_scale_max）", "不计分（不计入该厂商的总分）") in zh
    assert (2, "weights of the general comparison add up to 1.1, not 1", "each weight divided by 1.1") in en
    assert (2, "通用比较的权重合计为 1.1，而不是 1", "每个权重都除以 1.1") in zh
    assert (3, "li is listed twice for deal A1", "later row left out") in en and (3, "li 在商机 A1 下列了两次", "后一行未计入") in zh


def test_a_cell_that_cannot_be_read_is_said_in_the_books_language():
    settings = _rows([{"key": "language", "value": "zh-CN"}])
    deals = _rows([{"id": "A1", "stage": "P", "amount": "lots", "created": "2026-02-30", "go_real": "maybe",
                    "probability_override": "70"},
                   {"id": "A2", "stage": "P", "amount": "#N/A", "created": "soon"}])
    for language, expected in (
        ("en", {("amount", "'lots' is not an amount", "left blank"), ("amount", "Excel error #N/A instead of an amount", "left blank"),
                ("created", "'2026-02-30' is not a real date", "left blank"), ("go_real", "'maybe' is not yes/no", "read as no"),
                ("probability_override", "probability 70 is outside 0..1 (write 70% or 0.7)", "ignored"),
                ("created", "'soon' is not a date (use YYYY-MM-DD)", "left blank")}),
        ("zh-CN", {("amount", "“lots”不是金额", "按空白处理"), ("amount", "应为金额，却是 Excel 错误 #N/A", "按空白处理"),
                   ("created", "“2026-02-30”不是真实存在的日期", "按空白处理"), ("go_real", "“maybe”不是“是/否”", "按“否”处理"),
                   ("probability_override", "概率 70 不在 0..1 之间（请写 70% 或 0.7）", "已忽略"),
                   ("created", "“soon”不是日期（请写成 YYYY-MM-DD）", "按空白处理")}),
    ):
        settings.loc[2, "value"] = language
        issues = validate({"settings": settings, "opportunities": deals}).issues
        found = set(issues.loc[issues["table"] == "opportunities", ["column", "problem", "action"]].itertuples(index=False, name=None))
        assert expected <= found, found


def test_a_stage_scheme_mended_from_the_shipped_one_is_said_in_either_language():
    stages = preset_stages("six_step").astype(object)
    stages.loc[stages["code"] == "S3", "order"] = None
    stages.loc[stages["code"] == "S4", "probability"] = None
    stages.loc[stages["code"] == "W", "is_won"] = "maybe"
    for language, expected in (
        ("en", {("order", "stage order is blank", "used order 3, between the rows around it"),
                ("probability", "stage probability is blank", "used 0.5, the six-step scheme's probability for S4"),
                ("is_won", "'maybe' is not yes/no", "read as yes, as for W in the P/I/B scheme")}),
        ("zh-CN", {("order", "阶段顺序为空", "采用顺序 3，位于上下两行之间"),
                   ("probability", "阶段概率为空", "采用 0.5，即六步法方案中 S4 的概率"),
                   ("is_won", "“maybe”不是“是/否”", "按“是”处理，与P/I/B 漏斗方案中的 W 相同")}),
    ):
        settings = _rows([{"key": "language", "value": language}])
        issues = validate({"settings": settings, "stages": stages}).issues
        found = set(issues.loc[issues["table"] == "stages", ["column", "problem", "action"]].itertuples(index=False, name=None))
        assert expected <= found, found
