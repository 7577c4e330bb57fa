"""Localized labels (en / zh-CN) for every enumeration of the competition and qualification tables.

Each enumeration ("kind") has stable snake_case codes that the engine, the deal scores
and any formula can rely on; what a user reads is ``label(kind, code, language)``. What a
user types is read back with ``parse_enum(kind, text)``, which accepts the English or the
Chinese label (simplified or traditional, as the course decks mix both), the code itself
and the common variants, with full-width characters folded and case ignored.

The labels themselves live in the catalog (``funnel/catalog.py``, ``label.<kind>.<code>``);
this module adds what people type for them. Kinds and their codes (the Chinese wording
follows the source courses, see DOMAIN.md):

    role          decision_maker 决策者, user 使用者, buyer 采购者, influencer 影响者,
                  gatekeeper 守门人, informed 知情者, senior_leader 高层领导,
                  superior_leader 上级领导, design_institute 设计院, coach 向导
    attitude      support 接受, doubt 怀疑, resist 抵触, indifferent 冷淡, hostile 恶意拆台
    relationship  met 认识, dating 约会, trusted 信赖, ally 同盟 (in this order)
    style         analytical 分析型, driver 支配型, amiable 友善型, expressive 表达型
    urgency       eager 渴望型, hopeful 有望型, watching 观望型, later, overdue, none
    importance    key 关键, important 重要, general 一般, none
    stars         "5" .. "2" (five-star to two-star accounts)
    concession    shrinking, equal, growing, single
    outcome       win 赢, draw 和, lose 输, break_off 破, stall 拖 (endings of a negotiation)
    question      the eight 6W+2P questions, by their column (q_why_need ..)
    man           money, authority, need
    go            the four go/no-go questions, by their column (go_real ..)
    risk          decision-chain risk flags
    position      lead, trail, even (our score against the best rival on a factor)
    marker        words the tables show in place of a value (general comparison, no competitor)
"""

from __future__ import annotations

import re
import unicodedata

from funnel.catalog import LANGUAGES, group

__all__ = ["LANGUAGES", "KINDS", "label", "labels", "codes", "parse_enum", "localize", "normalize_language"]


def _by_kind() -> dict[str, dict[str, tuple[str, str]]]:
    # kind -> code -> (English, Chinese), from the catalog's label.<kind>.<code> entries;
    # catalog order is the enumeration's natural order.
    kinds: dict[str, dict[str, tuple[str, str]]] = {}
    for name, pair in group("label").items():
        kind, code = name.split(".", 1)
        kinds.setdefault(kind, {})[code] = pair
    return kinds


_LABELS = _by_kind()

KINDS = tuple(_LABELS)

# Further ways people write a code, beyond its code, English and Chinese labels. Keys are
# compared after _key() folding, so case, full width, spaces, '-' and '_' do not matter.
_VARIANTS: dict[str, dict[str, tuple[str, ...]]] = {
    "role": {
        "decision_maker": ("dm", "decider", "economic buyer", "decision-maker", "决策人", "决策人物", "拍板人",
                           "決策者", "決策人"),
        "user": ("end user", "user buyer", "最终用户", "用户", "使用人"),
        "buyer": ("purchaser", "procurement", "purchasing", "采购", "采购人", "采购经理", "採購者", "采購者"),
        "influencer": ("influence", "影响人", "影響者"),
        "gatekeeper": ("gate keeper", "technical buyer", "资格审查人", "把关人", "把关者", "守門人"),
        "informed": ("informer", "insider", "知情人"),
        "senior_leader": ("senior", "senior management", "executive", "高层", "買方高層領導", "高層領導"),
        "superior_leader": ("superior", "上级", "上級領導"),
        "design_institute": ("design unit", "designer", "设计单位", "設計院", "設計單位"),
        "coach": ("guide", "champion", "inside coach", "教练", "线人", "嚮導", "向導"),
    },
    "attitude": {
        "support": ("supportive", "supporter", "positive", "accept", "accepting", "支持", "赞同"),
        "doubt": ("doubtful", "skeptical", "sceptical", "questioning", "懷疑", "疑问"),
        "resist": ("resistant", "against", "opposed", "negative", "抵触", "抵觸", "反感", "反对"),
        "indifferent": ("neutral", "uninterested", "cold", "冷漠", "冷談", "冷谈"),
        "hostile": ("enemy", "saboteur", "sabotage", "恶意", "拆台", "惡意拆臺", "惡意拆台"),
    },
    "relationship": {
        "met": ("acquainted", "known", "acquaintance", "認識"),
        "dating": ("date", "meeting", "meetings", "約會"),
        "trusted": ("trust", "trusting", "信任", "信賴"),
        "ally": ("allied", "alliance", "partner", "联盟"),
    },
    "style": {
        "analytical": ("analytic", "analyst", "分析"),
        "driver": ("driving", "dominant", "director", "支配", "控制型"),
        "amiable": ("friendly", "友善", "和蔼型"),
        "expressive": ("expressing", "表达", "表現型", "表達型", "表现型"),
    },
    "urgency": {
        "eager": ("渴望型", "渴望", "1 month", "within 1 month"),
        "hopeful": ("有望型", "有望", "2 months", "within 2 months"),
        "watching": ("观望型", "观望", "觀望型", "3 months", "within 3 months"),
        "later": ("beyond 3 months", "以后", "later than 3 months"),
        "overdue": ("late", "past due", "逾期", "已逾期"),
        "none": ("no date", "blank", "无日期"),
    },
    "importance": {
        "key": ("关键客户", "關鍵", "critical"),
        "important": ("重要客户",),
        "general": ("一般客户", "normal", "ordinary"),
        "none": ("no amount",),
    },
    "stars": {
        "5": ("five", "5 stars", "5 star", "5星", "五星", "★★★★★", "五星級"),
        "4": ("four", "4 stars", "4 star", "4星", "四星", "★★★★", "四星級"),
        "3": ("three", "3 stars", "3 star", "3星", "三星", "★★★", "三星級"),
        "2": ("two", "2 stars", "2 star", "2星", "二星", "两星", "★★", "二星級"),
    },
    "concession": {
        "shrinking": ("shrinking", "decreasing", "descending", "recommended", "递减", "先大后小", "遞減"),
        "equal": ("even", "flat", "same", "等额", "等額", "平均"),
        "growing": ("increasing", "ascending", "递增", "先小后大", "遞增"),
        "single": ("one", "once", "one step", "all at once", "一次", "一次让出", "一次性"),
    },
    "outcome": {
        "win": ("won",),
        "draw": ("tie",),
        "lose": ("lost", "loss"),
        "break_off": ("broken off", "breakdown", "破裂"),
        "stall": ("stalled", "delay", "拖延"),
    },
    "position": {
        "lead": ("ahead", "leading"),
        "trail": ("behind", "trailing"),
        "even": ("tie", "tied", "equal"),
    },
}

_SEPARATORS = re.compile(r"[\s_\-]+")


def _key(text: str) -> str:
    # One spelling for comparison: folded width, lower case, separators as one space,
    # no trailing punctuation ("决策者:" or "ally." still read).
    folded = unicodedata.normalize("NFKC", text).strip().lower()
    folded = _SEPARATORS.sub(" ", folded).strip(" .,;:!?。,;:!?、")
    return folded


def _build_index() -> dict[str, dict[str, str]]:
    index: dict[str, dict[str, str]] = {}
    for kind, table in _LABELS.items():
        lookup: dict[str, str] = {}
        for code, (en, zh) in table.items():
            for spelling in (code, en, zh, *_VARIANTS.get(kind, {}).get(code, ())):
                key = _key(spelling)
                if key in lookup and lookup[key] != code:
                    raise RuntimeError(f"label table: '{spelling}' means two {kind} codes")
                lookup[key] = code
        index[kind] = lookup
    return index


_INDEX = _build_index()


def normalize_language(language: str | None) -> str:
    """The label language for a setting value: ``zh``, ``zh-cn``, ``中文`` -> ``zh-CN``; else ``en``.

    Args:
        language: a language tag or name; None means English.

    Returns:
        ``en`` or ``zh-CN``.

    Raises:
        ValueError: a language that is neither English nor Chinese.
    """
    if language is None:
        return "en"
    key = _key(str(language))
    if key in ("en", "english", "en us", "en gb", "英文", "英语"):
        return "en"
    if key.startswith("zh") or key in ("cn", "chinese", "中文", "汉语", "简体中文"):
        return "zh-CN"
    raise ValueError(f"unknown language '{language}' (use en or zh-CN)")


def _kind(kind: str) -> dict[str, tuple[str, str]]:
    if kind not in _LABELS:
        raise ValueError(f"unknown label kind '{kind}' (known: {', '.join(KINDS)})")
    return _LABELS[kind]


def label(kind: str, code, language: str = "en") -> str:
    """The label a user reads for one code.

    Args:
        kind: the enumeration, one of ``KINDS`` (role, attitude, urgency, stars, ...).
        code: its code (``decision_maker``, ``eager``, 5 or ``"5"`` for stars).
        language: ``en`` or ``zh-CN`` (variants such as ``zh`` are accepted).

    Returns:
        The label in that language.

    Raises:
        ValueError: unknown kind, code or language.
    """
    table = _kind(kind)
    key = str(int(code)) if kind == "stars" and isinstance(code, (int, float)) and code == code else str(code)
    if key not in table:
        raise ValueError(f"unknown {kind} code '{code}' (known: {', '.join(table)})")
    en, zh = table[key]
    return zh if normalize_language(language) == "zh-CN" else en


def labels(kind: str, language: str = "en") -> dict[str, str]:
    """Every code of a kind with its label, in the enumeration's order.

    Raises:
        ValueError: unknown kind or language.
    """
    return {code: label(kind, code, language) for code in _kind(kind)}


def codes(kind: str) -> tuple[str, ...]:
    """The codes of a kind, in the enumeration's order (relationship: met .. ally).

    Raises:
        ValueError: unknown kind.
    """
    return tuple(_kind(kind))


def parse_enum(kind: str, text) -> str | None:
    """Read what a user typed as a code of ``kind``.

    Accepts the code, the English or Chinese label, traditional characters and the
    common variants (``DM``, ``economic buyer``, ``决策人``, ``冷談``, ``５星``), in any
    case and width. Blank or unknown text gives None; the caller decides whether that
    is a problem to report.

    Args:
        kind: one of ``KINDS``.
        text: the typed value (any type; numbers are read as text, 5 -> stars "5").

    Returns:
        The code, or None.

    Raises:
        ValueError: unknown kind.
    """
    lookup = _INDEX.get(kind)
    if lookup is None:
        raise ValueError(f"unknown label kind '{kind}' (known: {', '.join(KINDS)})")
    if text is None:
        return None
    if isinstance(text, float):
        if text != text:  # NaN: a blank cell
            return None
        if text.is_integer():
            text = int(text)
    key = _key(str(text))
    if not key:
        return None
    if key in lookup:
        return lookup[key]
    # "决策者 (CFO)" or "Decision maker - final say": the part before a bracket or dash.
    head = _key(re.split(r"[(\[(【/]| - ", unicodedata.normalize("NFKC", str(text)))[0])
    return lookup.get(head) if head else None


def localize(values, kind: str, language: str = "en"):
    """Labels for a sequence of codes (a pandas Series stays a Series); blanks stay blank.

    Raises:
        ValueError: unknown kind, code or language.
    """
    import pandas as pd

    def one(code):
        if code is None or (isinstance(code, float) and code != code) or code is pd.NA:
            return None
        return label(kind, code, language)

    if isinstance(values, pd.Series):
        return pd.Series([one(v) for v in values], index=values.index, dtype=object)
    return [one(v) for v in values]
