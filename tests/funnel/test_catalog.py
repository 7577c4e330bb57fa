"""The bilingual catalog: every entry in both languages, with the same fields, and no two
entries of one group that a user could not tell apart."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict

import pytest

from funnel.catalog import CATALOG, LANGUAGES, check, entry, fields, group, has, text

# Chinese ideographs, CJK punctuation and full-width forms.
_CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")
# Texts that read the same in both languages on purpose.
_SAME_IN_BOTH = {"header.tblRange.p10", "header.tblRange.p50", "header.tblRange.p90"}


def _fold(value: str) -> str:
    # How Excel and our readers compare names: width folded, case ignored, outer spaces dropped.
    return unicodedata.normalize("NFKC", value).strip().casefold()


def test_every_entry_has_an_english_and_a_chinese_text():
    for key, (en, zh) in CATALOG.items():
        assert en.strip() and zh.strip(), key
        # A Chinese slot left holding English (or the reverse) is the slip this catches.
        assert not _CHINESE.search(en), f"{key}: Chinese in the English text {en!r}"
        if key not in _SAME_IN_BOTH:
            assert _CHINESE.search(zh), f"{key}: no Chinese in the Chinese text {zh!r}"


def test_the_catalog_passes_its_own_check():
    assert check(dict(CATALOG)) == []


@pytest.mark.parametrize(
    "entries, problem",
    [
        ({"message.x": ("{deals} deals", "{tables} 个商机")}, "English has the fields ['deals'], Chinese ['tables']"),
        ({"message.x": ("{deals} deals", "个商机")}, "English has the fields ['deals'], Chinese []"),
        ({"message.x": ("{} deals", "{} 个商机")}, "fields are named"),
        ({"message.x": ("{0} deals", "{0} 个商机")}, "fields are named"),
        ({"message.x": ("{deals deals", "{deals} 个商机")}, "message.x: "),
        ({"message.x": ("deals", " ")}, "the zh-CN text is blank"),
        ({"message.x": ("", "商机")}, "the en text is blank"),
        ({"message.x": ("deals",)}, "needs an (English, Chinese) pair"),
        ({"message.x": ["deals", "商机"]}, "needs an (English, Chinese) pair"),
        ({"message": ("deals", "商机")}, "a key is dotted words"),
        ({"message..x": ("deals", "商机")}, "a key is dotted words"),
    ],
)
def test_check_names_each_broken_entry(entries, problem):
    found = check(entries)
    assert len(found) == 1 and problem in found[0], found


def test_text_fills_the_fields_in_either_language():
    assert text("message.problems_found", "en", problems=3) == "3 problem(s) found in the data: see the Issues sheet."
    assert text("message.problems_found", "zh-CN", problems=3) == "发现 3 个数据问题，见“问题”表。"
    # A value is put in as it is, braces and all.
    assert text("message.problems_found", "en", problems="{x}").startswith("{x} problem(s)")
    assert text("label.role.decision_maker", "zh-CN") == "决策者"
    assert entry("label.relationship.ally") == ("ally", "同盟")
    assert fields(CATALOG["message.refreshed"][1]) == {"tables", "deals", "outcome"}


def test_text_refuses_missing_or_unknown_fields_keys_and_languages():
    with pytest.raises(ValueError, match=r"takes the fields \['problems'\], not \[\]"):
        text("message.problems_found", "en")
    with pytest.raises(ValueError, match=r"takes the fields \[\], not \['deals'\]"):
        text("label.role.user", "en", deals=3)
    with pytest.raises(ValueError, match=r"takes the fields \['problems'\], not \['problem'\]"):
        text("message.problems_found", "en", problem=3)
    with pytest.raises(KeyError, match="no text 'label.role.boss'"):
        text("label.role.boss", "en")
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        text("label.role.user", "fr")
    assert has("label.role.user") and not has("label.role.boss")


def test_group_is_one_prefix_in_catalog_order():
    assert list(group("label.stars")) == ["5", "4", "3", "2"]
    assert group("label.stars.") == group("label.stars")
    assert group("label.relationship")["ally"] == ("ally", "同盟")
    assert group("label.star") == {}  # whole dotted parts only


def _groups_of(prefix: str, depth: int) -> dict[str, dict[str, tuple[str, str]]]:
    # Entries under ``prefix`` grouped by their next ``depth`` key parts (header.<table>).
    out: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
    for rest, pair in group(prefix).items():
        parts = rest.split(".")
        out[".".join(parts[:depth])][".".join(parts[depth:])] = pair
    return dict(out)


_DISTINCT = {
    # group: why two entries of it must never read the same
    **{f"header.{table}": "one table's headers (Excel refuses two equal column names)" for table in _groups_of("header", 1)},
    **{f"label.{kind}": "the labels of one enumeration (each reads back to its code)" for kind in _groups_of("label", 1)},
    "sheet": "sheet names (Excel refuses two equal sheet names)",
    "heading": "the output sheets' headings",
    "title": "output tables' captions",
    "metric": "the Summary's figures",
    "chart": "chart titles",
    "flag": "yes and no",
}


@pytest.mark.parametrize("prefix", sorted(_DISTINCT))
def test_no_two_entries_of_one_group_read_the_same(prefix):
    entries = group(prefix)
    assert len(entries) >= 2, prefix
    for at, language in enumerate(LANGUAGES):
        seen: dict[str, str] = {}
        for name, pair in entries.items():
            spelled = _fold(pair[at])
            assert spelled not in seen, f"{_DISTINCT[prefix]}: {prefix}.{seen.get(spelled)} and {prefix}.{name} both read {pair[at]!r}"
            seen[spelled] = name


def test_sheet_names_are_names_excel_accepts():
    for name, pair in group("sheet").items():
        for sheet in pair:
            assert len(sheet) <= 31, (name, sheet)
            assert not set(sheet) & set("[]:*?/\\"), (name, sheet)
            assert sheet == sheet.strip() and not sheet.startswith("'") and not sheet.endswith("'"), (name, sheet)
            assert _fold(sheet) != "history", (name, sheet)  # reserved by Excel


def test_cell_check_alerts_fit_excels_limits():
    # Excel caps a data validation's error title at 32 characters and its message at 255;
    # XlsxWriter drops a longer one with only a warning.
    for name, pair in group("alert").items():
        limit = 32 if name.endswith(".title") else 255
        assert all(len(t) <= limit for t in pair), name
