"""Demo competition data for the demo book: competitors, comparison tables and decision chains.

Built from the demo's own opportunities (``funnel.demo.data.demo_tables``), so every deal id
and competitor name it mentions exists. Deterministic: the same demo tables give the
same rows. There is signal in it, as in the demo itself: the strong competitor (Huikang)
out-scores us on price and relationships and brings hostile stakeholders more often;
later-stage deals have their decision maker known and closer relationships.

Role, attitude, relationship and style cells are written mostly in English and some
in Chinese, as a mixed team would type them; both read back through
``funnel.methods.labels.parse_enum``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnel.demo.data import chinese_part
from funnel.methods.competition import split_competitors
from funnel.methods.labels import label

__all__ = ["DEMO_SEED", "DEMO_FACTORS", "demo_competition_tables"]

DEMO_SEED = 20_261_120
# The customer's decision factors (English / Chinese) and the general comparison's weights.
DEMO_FACTORS = (
    ("Functional fit 功能匹配", 0.25),
    ("Price 价格", 0.20),
    ("Implementation 实施能力", 0.20),
    ("Service 服务", 0.15),
    ("References 成功案例", 0.10),
    ("Relationship 客户关系", 0.10),
)
US = "Us"
# Per competitor: mean score per factor (in DEMO_FACTORS order), strengths, weaknesses.
_PROFILES = {
    "huikang": ((3.6, 4.6, 3.4, 3.5, 3.8, 4.6), "Low prices; strong relationships with senior leaders 价格低，高层关系强",
                "Thin implementation team; custom code hard to upgrade 实施力量薄弱，二次开发难升级"),
    "yongyou": ((4.0, 3.6, 3.8, 3.8, 4.4, 3.8), "Large installed base and references 客户基础大，案例多",
                "Slow to customize; generic proposals 定制慢，方案缺乏针对性"),
    "dingjie": ((3.2, 3.8, 3.0, 3.2, 2.8, 3.0), "Flexible on price 价格灵活",
                "Few references in large accounts 大客户案例少"),
    "sapiens": ((4.4, 2.4, 3.4, 3.0, 4.2, 3.0), "Deep functionality for manufacturing 制造业功能深",
                "Expensive; long implementations 价格高，实施周期长"),
    "oracular": ((4.0, 2.8, 3.2, 3.0, 3.6, 2.8), "Strong database and analytics 数据库与分析能力强",
                 "Weak local service network 本地服务网络弱"),
}
_OUR_MEANS = (4.0, 3.4, 4.0, 4.2, 3.6, 3.6)
_DEFAULT_PROFILE = ((3.4, 3.4, 3.4, 3.4, 3.4, 3.4), None, None)

_SURNAMES = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma", "Zhu", "Hu", "Guo"]
_GIVEN = ["Jun", "Hua", "Ping", "Gang", "Yan", "Jie", "Lin", "Bo", "Hong", "Qing", "Tao", "Ying", "Kai", "Rui", "Xin", "Dong"]
_TITLES = {
    "decision_maker": ["General Manager 总经理", "CIO 信息中心主任", "Vice President 分管副总"],
    "user": ["Finance Manager 财务经理", "Plant Manager 生产部长", "Sales Director 销售总监"],
    "buyer": ["Purchasing Manager 采购经理", "Procurement Lead 采购主管"],
    "influencer": ["External Expert 外部专家", "IT Lead IT主管", "Chief Engineer 总工程师"],
    "gatekeeper": ["Project Team Member 项目组成员", "Assistant to the GM 总经理助理"],
    "coach": ["IT Engineer 工程师"],
}
_ROLE_ORDER = ("decision_maker", "user", "buyer", "influencer", "gatekeeper", "coach")
_STYLES = ("analytical", "driver", "amiable", "expressive")


def _rows_from_2(frame: pd.DataFrame) -> pd.DataFrame:
    frame.index = pd.RangeIndex(2, 2 + len(frame))
    return frame


def _cell(rng: np.random.Generator, kind: str, code: str | None, language: str = "en") -> str | None:
    # Most cells in English, about one in four in Chinese; all in Chinese in a zh-CN book.
    if code is None:
        return None
    mixed = "zh-CN" if rng.random() < 0.25 else "en"
    return label(kind, code, "zh-CN" if language == "zh-CN" else mixed)


def _weights(rng: np.random.Generator, n: int) -> list[float]:
    # Weights in twentieths that add up to exactly 1, each at least 0.05.
    parts = 1 + rng.multinomial(20 - n, np.full(n, 1 / n))
    return [round(p / 20, 2) for p in parts]


def _score(rng: np.random.Generator, mean: float) -> int:
    return int(np.clip(round(mean + rng.normal(0, 0.6)), 1, 5))


def demo_competition_tables(tables: dict, language: str = "en") -> dict[str, pd.DataFrame]:
    """Competitors, comparison and stakeholders tables for the demo book.

    Args:
        tables: the demo's input tables (``funnel.demo.data.demo_tables()``): its
            opportunities and stages are used.
        language: ``zh-CN`` writes the typed words in Chinese only (factors, titles,
            strengths, labels, our column 我方); the numbers are the same.

    Returns:
        ``competitors`` (competitor, strengths, weaknesses, notes), ``comparison``
        (opportunity_id, factor, weight, then Us and one score column per competitor:
        a general comparison and one per selected open deal), ``stakeholders``
        (opportunity_id, name, title, role, attitude, relationship, style for a few
        dozen open deals), each indexed by sheet row from 2.
    """
    rng = np.random.default_rng(DEMO_SEED)
    opps = tables["opportunities"]
    stages = tables["stages"]
    closed_codes = set(stages.loc[stages["is_won"] | stages["is_lost"], "code"])
    open_order = stages[~stages["code"].isin(closed_codes)].sort_values("order")["code"].tolist()
    names: list[str] = []
    for cell in opps["competitors"]:
        for name in split_competitors(cell):
            if name.casefold() not in {n.casefold() for n in names}:
                names.append(name)
    names.sort(key=str.casefold)

    competitors = _rows_from_2(pd.DataFrame(
        [(n, *(_PROFILES.get(n.casefold(), _DEFAULT_PROFILE)[1:]), None) for n in names],
        columns=["competitor", "strengths", "weaknesses", "notes"],
    ))

    open_deals = opps[~opps["stage"].isin(closed_codes)].sort_values("id")
    chosen = open_deals.iloc[np.sort(rng.choice(len(open_deals), size=min(36, len(open_deals)), replace=False))]

    # The comparison: a general one over every vendor, then six contested deals.
    vendors = [US, *names]
    rows = []
    for j, (factor, weight) in enumerate(DEMO_FACTORS):
        row = {"opportunity_id": None, "factor": factor, "weight": weight, US: _score(rng, _OUR_MEANS[j])}
        for n in names:
            row[n] = _score(rng, _PROFILES.get(n.casefold(), _DEFAULT_PROFILE)[0][j])
        rows.append(row)
    contested = chosen[chosen["competitors"].map(lambda c: bool(split_competitors(c)))].head(6)
    for _, deal in contested.iterrows():
        picked = sorted(rng.choice(len(DEMO_FACTORS), size=4, replace=False))
        for j, weight in zip(picked, _weights(rng, 4)):
            row = {"opportunity_id": deal["id"], "factor": DEMO_FACTORS[j][0], "weight": weight,
                   US: _score(rng, _OUR_MEANS[j])}
            for n in split_competitors(deal["competitors"]):
                row[n] = _score(rng, _PROFILES.get(n.casefold(), _DEFAULT_PROFILE)[0][j])
            rows.append(row)
    comparison = _rows_from_2(pd.DataFrame(rows, columns=["opportunity_id", "factor", "weight", *vendors]))

    people = []
    used_names: set[tuple[str, str]] = set()
    for _, deal in chosen.iterrows():
        level = open_order.index(deal["stage"]) / max(1, len(open_order) - 1) if deal["stage"] in open_order else 0.0
        strong_rival = "huikang" in {n.casefold() for n in split_competitors(deal["competitors"])}
        count = int(rng.choice([1, 2, 3, 4, 5], p=[0.15, 0.25, 0.3, 0.2, 0.1]))
        # Later stages know the decision maker more often.
        roles = ["decision_maker"] if rng.random() < 0.45 + 0.5 * level else []
        while len(roles) < count:
            roles.append(str(rng.choice(_ROLE_ORDER[1:], p=[0.25, 0.25, 0.25, 0.15, 0.10])))
        for role in roles:
            while True:
                name = f"{rng.choice(_SURNAMES)} {rng.choice(_GIVEN)}"
                if (deal["id"], name) not in used_names:
                    used_names.add((deal["id"], name))
                    break
            hostile_p = 0.18 if strong_rival else 0.04
            support_p = 0.25 + 0.4 * level
            rest = 1 - hostile_p - support_p
            attitude = str(rng.choice(["support", "doubt", "resist", "indifferent", "hostile"],
                                      p=[support_p, rest * 0.45, rest * 0.25, rest * 0.30, hostile_p]))
            stage_p = np.array([1.2 - level, 1.0, 0.4 + level, 0.1 + level])
            relationship = str(rng.choice(["met", "dating", "trusted", "ally"], p=stage_p / stage_p.sum()))
            people.append({
                "opportunity_id": deal["id"],
                "name": name,
                "title": str(rng.choice(_TITLES[role])),
                "role": _cell(rng, "role", role, language),
                "attitude": _cell(rng, "attitude", attitude if rng.random() > 0.08 else None, language),
                "relationship": _cell(rng, "relationship", relationship if rng.random() > 0.1 else None, language),
                "style": _cell(rng, "style", str(rng.choice(_STYLES)) if rng.random() > 0.2 else None, language),
            })
    stakeholders = _rows_from_2(pd.DataFrame(
        people, columns=["opportunity_id", "name", "title", "role", "attitude", "relationship", "style"]))
    if language == "zh-CN":
        for frame, columns in ((competitors, ("strengths", "weaknesses")), (comparison, ("factor",)), (stakeholders, ("title",))):
            for column in columns:
                frame[column] = frame[column].map(chinese_part)
        comparison = comparison.rename(columns={US: "我方"})
    return {"competitors": competitors, "comparison": comparison, "stakeholders": stakeholders}
