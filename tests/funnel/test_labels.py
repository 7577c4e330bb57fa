"""Localized labels: every code has both languages, and typed text reads back to its code."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from funnel.methods.labels import KINDS, codes, label, labels, localize, normalize_language, parse_enum


def test_every_code_has_an_english_and_a_chinese_label():
    for kind in KINDS:
        for code in codes(kind):
            en, zh = label(kind, code, "en"), label(kind, code, "zh-CN")
            assert en and zh and en != zh, (kind, code)


@pytest.mark.parametrize("kind", [k for k in KINDS if k not in ("question", "man", "go", "risk", "marker")])
def test_labels_and_codes_read_back_in_both_languages(kind):
    for code in codes(kind):
        assert parse_enum(kind, code) == code
        assert parse_enum(kind, label(kind, code, "en")) == code
        assert parse_enum(kind, label(kind, code, "zh-CN")) == code


def test_course_wording():
    # The Chinese terms of the source decks (DOMAIN.md sections 3 and 4).
    assert label("role", "decision_maker", "zh-CN") == "决策者"
    assert label("role", "gatekeeper", "zh-CN") == "守门人"
    assert label("attitude", "hostile", "zh-CN") == "恶意拆台"
    assert [label("relationship", c, "zh-CN") for c in codes("relationship")] == ["认识", "约会", "信赖", "同盟"]
    assert label("style", "driver", "zh-CN") == "支配型"
    assert label("urgency", "eager", "zh-CN").startswith("渴望型")
    assert label("importance", "key", "zh-CN") == "关键"
    assert label("stars", 5, "zh-CN") == "五星级"
    assert label("question", "q_budget", "zh-CN") == "财政有计划吗?"


@pytest.mark.parametrize(
    "kind, text, code",
    [
        ("role", "DECISION MAKER", "decision_maker"),  # validation upper-cases code cells
        ("role", "decision-maker", "decision_maker"),
        ("role", "Decision_Maker", "decision_maker"),
        ("role", "ＤＭ", "decision_maker"),  # full width
        ("role", "決策者", "decision_maker"),  # traditional characters
        ("role", "决策人", "decision_maker"),
        ("role", "决策者（CFO）", "decision_maker"),  # a note in full-width brackets
        ("role", "economic buyer", "decision_maker"),
        ("role", "設計院", "design_institute"),
        ("attitude", "冷談", "indifferent"),  # the deck's own spelling
        ("attitude", "Supportive", "support"),
        ("attitude", " neutral ", "indifferent"),
        ("relationship", "同盟。", "ally"),  # trailing punctuation
        ("stars", 5, "5"),
        ("stars", 4.0, "4"),
        ("stars", "５星", "5"),
        ("stars", "★★★", "3"),
        ("concession", "先大后小", "shrinking"),
        ("outcome", "破裂", "break_off"),
    ],
)
def test_parse_enum_variants(kind, text, code):
    assert parse_enum(kind, text) == code


@pytest.mark.parametrize("text", [None, "", "   ", float("nan"), "somebody", "决策"])
def test_parse_enum_blank_or_unknown_is_none(text):
    assert parse_enum("role", text) is None


def test_unknown_kind_code_or_language_raise():
    with pytest.raises(ValueError, match="unknown label kind"):
        label("colour", "red")
    with pytest.raises(ValueError, match="unknown label kind"):
        parse_enum("colour", "red")
    with pytest.raises(ValueError, match="unknown role code 'boss'"):
        label("role", "boss")
    with pytest.raises(ValueError, match="unknown language"):
        label("role", "user", "fr")


def test_language_variants():
    assert normalize_language("zh") == "zh-CN"
    assert normalize_language("ZH-cn") == "zh-CN"
    assert normalize_language("中文") == "zh-CN"
    assert normalize_language(None) == "en"
    assert label("role", "user", "zh") == "使用者"


def test_labels_keep_the_enumeration_order():
    assert list(labels("relationship", "en")) == ["met", "dating", "trusted", "ally"]
    assert list(labels("stars")) == ["5", "4", "3", "2"]


def test_localize_keeps_blanks():
    import pandas as pd

    out = localize(pd.Series(["eager", None, "overdue"], index=[7, 8, 9]), "urgency", "zh-CN")
    assert list(out.index) == [7, 8, 9]
    assert out[7].startswith("渴望型") and out[8] is None and out[9].startswith("已逾期")
    assert localize(["key", float("nan")], "importance") == ["key", None]


@given(st.sampled_from([k for k in KINDS]), st.data())
def test_label_round_trip_any_case_and_width(kind, data):
    code = data.draw(st.sampled_from(codes(kind)))
    text = label(kind, code, data.draw(st.sampled_from(["en", "zh-CN"])))
    if kind in ("question", "go"):
        return  # whole questions are shown, not typed
    variant = data.draw(st.sampled_from([text.upper(), text.lower(), f"  {text} ", text.replace(" ", "_")]))
    assert parse_enum(kind, variant) == code
