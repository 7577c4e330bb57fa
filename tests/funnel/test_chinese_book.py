"""A zh-CN book reads in Chinese: stage schemes and the demo's stages in the book's language."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from funnel.demo.data import demo_tables
from funnel.inputs.schemes import PRESETS, preset_stages
from funnel.inputs.settings import Settings, settings_table

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("scheme", list(PRESETS))
def test_a_chinese_scheme_names_its_stages_and_criteria_in_chinese_and_is_otherwise_the_same(scheme):
    en, zh = preset_stages(scheme, "en"), preset_stages(scheme, "zh-CN")
    assert list(en.columns) == list(zh.columns)
    assert (en["name"] != zh["name"]).all() and (en["entry_criteria"] != zh["entry_criteria"]).all()
    same = [c for c in en.columns if c not in ("name", "entry_criteria")]
    pd.testing.assert_frame_equal(en[same], zh[same])


def test_the_pib_scheme_in_chinese():
    zh = preset_stages("pib", "zh-CN")
    assert list(zh["name"]) == ["潜在客户", "客户进入考虑期", "商务谈判", "赢单", "丢单"]
    assert zh.loc[zh["code"] == "W", "entry_criteria"].item() == "合同已签订"


def test_the_chinese_demo_has_the_same_deals_under_chinese_stage_names():
    en, zh = demo_tables(size=40, seed=3), demo_tables(size=40, seed=3, language="zh-CN")
    assert list(zh["stages"]["name"]) == list(preset_stages("pib", "zh-CN")["name"])
    for name in ("opportunities", "stage_history", "quotas", "settings"):
        pd.testing.assert_frame_equal(en[name], zh[name])


def test_the_settings_table_says_what_each_setting_does_in_the_books_language():
    en = settings_table(Settings())
    zh = settings_table(Settings(language="zh-CN"))
    assert list(en["key"]) == list(zh["key"]) == list(Settings.model_fields)
    # The English wording stays as it was.
    assert en.set_index("key").loc["as_of", "description"] == "the day the figures are as of"
    assert zh.set_index("key").loc["as_of", "description"] == "数字所截至的日期"
    assert all(CHINESE.search(text) for text in zh["description"])
