"""The words the product shows, English and Chinese side by side: the bilingual catalog.

Each entry is a stable dotted key and its two texts, ``(English, Chinese)``, on one line.
The keys are grouped by what the words are:

    header.<table>.<column>         a table's column headers (header.concession_plan.*: the
                                    table FUNNEL_CONCESSION_PLAN spills)
    label.<kind>.<code>             the enumerations' labels (``funnel.methods.labels``), in
                                    their natural order
    separator.*                     how a list of labels is joined
    message.*                       what a refresh says when it is done
    advice.*, warning.*             what the negotiation course says about a concession plan

``text(key, language, **fields)`` gives one text; ``{name}`` fields are filled from the
keyword arguments, and both languages of an entry have the same fields. What a user may
*type* (the Chinese and English spellings the readers accept) is parsing data and stays
with the parsers.

To add a string: add one line with both texts here and ask for it by its key. The tests
(``tests/funnel/test_catalog.py``) check that every entry has both languages and the same
fields, and that the words of one table or enumeration never read alike.
"""

from __future__ import annotations

import string
from types import MappingProxyType

__all__ = ["LANGUAGES", "CATALOG", "text", "entry", "group", "has", "fields", "check"]

LANGUAGES = ("en", "zh-CN")

_ENTRIES: dict[str, tuple[str, str]] = {
    # --- Column headers -------------------------------------------------------------
    # concession_plan (spilled by FUNNEL_CONCESSION_PLAN; no sheet holds it)
    "header.concession_plan.step": ("Step", "步骤"),
    "header.concession_plan.concession": ("Concession", "让步"),
    "header.concession_plan.cumulative": ("Conceded so far", "累计让步"),
    "header.concession_plan.price_after": ("Price after", "让步后价格"),
    "header.concession_plan.share_of_room": ("Share of room", "占让步空间"),
    "header.concession_plan.advice": ("What the course says", "课程提示"),
    # --- Enumeration labels (the Chinese wording follows the source courses) ---------
    # role
    "label.role.decision_maker": ("decision maker", "决策者"),
    "label.role.user": ("user", "使用者"),
    "label.role.buyer": ("buyer", "采购者"),
    "label.role.influencer": ("influencer", "影响者"),
    "label.role.gatekeeper": ("gatekeeper", "守门人"),
    "label.role.informed": ("informed", "知情者"),
    "label.role.senior_leader": ("senior leader", "高层领导"),
    "label.role.superior_leader": ("superior leader", "上级领导"),
    "label.role.design_institute": ("design institute", "设计院"),
    "label.role.coach": ("coach", "向导"),
    # attitude
    "label.attitude.support": ("support", "接受"),
    "label.attitude.doubt": ("doubt", "怀疑"),
    "label.attitude.resist": ("resist", "抵触"),
    "label.attitude.indifferent": ("indifferent", "冷淡"),
    "label.attitude.hostile": ("hostile", "恶意拆台"),
    # relationship
    "label.relationship.met": ("met", "认识"),
    "label.relationship.dating": ("dating", "约会"),
    "label.relationship.trusted": ("trusted", "信赖"),
    "label.relationship.ally": ("ally", "同盟"),
    # style
    "label.style.analytical": ("analytical", "分析型"),
    "label.style.driver": ("driver", "支配型"),
    "label.style.amiable": ("amiable", "友善型"),
    "label.style.expressive": ("expressive", "表达型"),
    # urgency
    "label.urgency.eager": ("eager (within 1 month)", "渴望型(1个月内)"),
    "label.urgency.hopeful": ("hopeful (within 2 months)", "有望型(2个月内)"),
    "label.urgency.watching": ("watching (within 3 months)", "观望型(3个月内)"),
    "label.urgency.later": ("later (beyond 3 months)", "3个月以后"),
    "label.urgency.overdue": ("overdue (close date passed)", "已逾期(预计日期已过)"),
    "label.urgency.none": ("no close date", "无预计日期"),
    # importance
    "label.importance.key": ("key", "关键"),
    "label.importance.important": ("important", "重要"),
    "label.importance.general": ("general", "一般"),
    "label.importance.none": ("no amount", "无金额"),
    # stars
    "label.stars.5": ("five-star", "五星级"),
    "label.stars.4": ("four-star", "四星级"),
    "label.stars.3": ("three-star", "三星级"),
    "label.stars.2": ("two-star", "二星级"),
    # concession
    "label.concession.shrinking": ("shrinking steps", "递减让步"),
    "label.concession.equal": ("equal steps", "等额让步"),
    "label.concession.growing": ("growing steps", "递增让步"),
    "label.concession.single": ("one single concession", "一次性让步"),
    # outcome
    "label.outcome.win": ("win", "赢"),
    "label.outcome.draw": ("draw", "和"),
    "label.outcome.lose": ("lose", "输"),
    "label.outcome.break_off": ("break off", "破"),
    "label.outcome.stall": ("stall", "拖"),
    # question
    "label.question.q_why_need": ("Why do they need or want a new system?", "为什么他们需要或想要一个新系统?"),
    "label.question.q_budget": ("Is the budget planned?", "财政有计划吗?"),
    "label.question.q_decision_maker": ("Who decides, and does he want it?", "谁是决策人物?他想要吗?"),
    "label.question.q_decision_process": ("What is the decision process?", "决策过程怎样?"),
    "label.question.q_decision_criteria": ("What are the basic decision criteria?", "什么是基本决策因素?"),
    "label.question.q_timeline": ("What is the rough timetable?", "大致时间表?"),
    "label.question.q_competition": ("Who are the competitors?", "谁是竞争对手?"),
    "label.question.q_why_us": ("Why should it be us?", "为什么应该是我们?"),
    # man
    "label.man.man_money": ("money (can buy)", "金钱(有购买能力)"),
    "label.man.man_authority": ("authority (can decide or influence)", "决定权(能决定或影响购买)"),
    "label.man.man_need": ("need", "需求"),
    # go
    "label.go.go_real": ("Is there an opportunity?", "存在销售机会吗?"),
    "label.go.go_solution": ("Do we have a solution?", "有解决方案吗?"),
    "label.go.go_win": ("Can we win?", "能赢吗?"),
    "label.go.go_worth": ("Is it worth winning?", "值得赢吗?"),
    # risk
    "label.risk.no_stakeholders": ("no contact known", "没有已知联系人"),
    "label.risk.no_decision_maker": ("no decision maker known", "未找到决策者"),
    "label.risk.dm_not_supportive": ("decision maker not supportive", "决策者未表示接受"),
    "label.risk.hostile_present": ("hostile stakeholder present", "有人恶意拆台"),
    "label.risk.single_threaded": ("only one contact (single-threaded)", "只有一个联系人(单线联系)"),
    # position
    "label.position.lead": ("lead", "领先"),
    "label.position.trail": ("trail", "落后"),
    "label.position.even": ("even", "持平"),
    # marker
    "label.marker.general": ("general", "通用"),
    "label.marker.no_competitor": ("(no known competitor)", "(无已知竞争对手)"),
    "label.marker.no_account": ("(none)", "(无)"),
    # --- Sentences ------------------------------------------------------------------
    "separator.list": ("; ", "；"),
    "message.refreshed": ("Refreshed {tables} output tables from {deals} deals. {outcome}",
                          "已刷新 {tables} 张结果表（{deals} 个商机）。{outcome}"),
    "message.problems_found": ("{problems} problem(s) found in the data: see the Issues sheet.",
                               "发现 {problems} 个数据问题，见“问题”表。"),
    "message.no_problems": ("No problems found in the data.", "未发现数据问题。"),
    # Why the recommended concession pattern works, and what goes wrong with the others.
    "advice.concession.shrinking": (
        "Recommended: big first, then smaller steps make the buyer feel the price has reached its floor.",
        "推荐：先大后小，刺激对方求成欲望，让对方觉得已砍到价格最底线。"),
    "warning.concession.single": (
        "One concession of the whole room shows your floor at once: the buyer doubts it is "
        "really the floor and keeps pushing until you cannot hold.",
        "一次让出全部空间：给出底线反遭怀疑，对方步步紧逼，让你难以招架。"),
    "warning.concession.growing": (
        "Growing steps start with small concessions that look insincere and then give more "
        "each time: the buyer resents them, does not accept them and learns that pushing pays.",
        "让步由小到大：小额渗透不实际，遭对方反感，对手不买账，而且越压让得越多。"),
    "warning.concession.equal": (
        "Equal steps set a steady rhythm: the buyer learns the pattern and keeps asking for "
        "one more step.",
        "等额让步：四平八稳落价格，对手摸透规律更宰你。"),
}


def fields(template: str) -> set[str]:
    """The ``{name}`` fields of a text.

    Raises:
        ValueError: a malformed field (an unmatched brace).
    """
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def check(entries: dict[str, tuple[str, str]]) -> list[str]:
    """What is wrong with catalog entries: one line per problem, none when they are sound.

    Each entry needs a dotted key, a non-blank English and Chinese text, and the same named
    fields in both (``{tables}``, never ``{}`` or ``{0}``).
    """
    problems = []
    for key, pair in entries.items():
        if not isinstance(key, str) or "." not in key or key != key.strip() or not all(key.split(".")):
            problems.append(f"{key!r}: a key is dotted words (sheet.summary)")
        if not (isinstance(pair, tuple) and len(pair) == len(LANGUAGES) and all(isinstance(t, str) for t in pair)):
            problems.append(f"{key}: needs an (English, Chinese) pair of texts")
            continue
        for language, template in zip(LANGUAGES, pair):
            if not template.strip():
                problems.append(f"{key}: the {language} text is blank")
        try:
            found = [fields(template) for template in pair]
        except ValueError as error:
            problems.append(f"{key}: {error}")
            continue
        if found[0] != found[1]:
            problems.append(f"{key}: English has the fields {sorted(found[0])}, Chinese {sorted(found[1])}")
        bad = sorted(name for name in found[0] | found[1] if not name.isidentifier())
        if bad:
            problems.append(f"{key}: fields are named ({{tables}}), not {bad}")
    return problems


_PROBLEMS = check(_ENTRIES)
if _PROBLEMS:
    raise RuntimeError("catalog: " + "; ".join(_PROBLEMS))

CATALOG = MappingProxyType(_ENTRIES)
_FIELDS = {key: fields(pair[0]) for key, pair in _ENTRIES.items()}


def entry(key: str) -> tuple[str, str]:
    """Both texts of a key: ``(English, Chinese)``.

    Raises:
        KeyError: the catalog has no such key.
    """
    try:
        return _ENTRIES[key]
    except KeyError:
        raise KeyError(f"the catalog has no text '{key}'") from None


def has(key: str) -> bool:
    """True when the catalog has a text for ``key``."""
    return key in _ENTRIES


def text(key: str, language: str, **values: object) -> str:
    """The text a user reads for ``key`` in ``language``, its fields filled in.

    Args:
        key: a catalog key (``header.tblOpportunities.amount``).
        language: ``en`` or ``zh-CN``.
        **values: one value per ``{name}`` field of the text, no more, no fewer.

    Returns:
        The text.

    Raises:
        KeyError: the catalog has no such key.
        ValueError: an unknown language, or values that do not match the text's fields.
    """
    en, zh = entry(key)
    if language not in LANGUAGES:
        raise ValueError(f"unknown language '{language}' (use en or zh-CN)")
    wanted = _FIELDS[key]
    if values.keys() != wanted:
        raise ValueError(f"'{key}' takes the fields {sorted(wanted)}, not {sorted(values)}")
    template = zh if language == "zh-CN" else en
    return template.format(**values) if wanted else template


def group(prefix: str) -> dict[str, tuple[str, str]]:
    """The entries under a key prefix, by the rest of their key, in catalog order.

    ``group("label.stars")`` is ``{"5": ("five-star", "五星级"), "4": ...}``.
    """
    start = prefix.rstrip(".") + "."
    return {key[len(start):]: pair for key, pair in _ENTRIES.items() if key.startswith(start)}
