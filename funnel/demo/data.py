"""A deterministic demo: a believable key-account business with real signal in it.

Owners in teams sell software suites to accounts. Each deal has a hidden quality made of
its owner's skill, its source, its product, the competitors it meets and how well it is
qualified (5W+2P answers, MAN). Quality drives how far it moves through the funnel, so
the stage history, win rates and the per-deal model all have something true to find.
The same seed gives the same data; ``size`` scales the number of deals, so benchmarks
use the generator too.

Scenario ``noise`` is the same business where the outcome follows none of those factors:
a deal's quality is chance alone, so owners, sources, products, competitors and
qualification tell nothing about winning beyond the stage a deal reached. A per-deal
model can only learn noise there; ``forecast_method = auto`` should keep the stage
probability (``tests/funnel/test_choice.py``).
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd

from funnel.inputs.contract import GO_NO_GO_FLAGS, MAN_FLAGS, QUALIFICATION_6W2P, columns_of
from funnel.inputs.schemes import preset_stages

__all__ = ["DEMO_AS_OF", "SCENARIOS", "demo_tables", "chinese_part"]

DEMO_AS_OF = dt.date(2026, 11, 20)
SCENARIOS = ("default", "noise")
# The noise scenario's quality: about the default's mean factor effect, and a spread like
# the default's factors and noise together, so win rates and cycle lengths look alike.
_NOISE_MEAN = -0.2
_NOISE_SCALE = 2.0

_TEAMS = {
    "East 华东": ["Li Wei", "Wang Fang", "Zhang Min", "Liu Yang"],
    "North 华北": ["Chen Jing", "Yang Lei", "Zhao Qiang", "Huang Li"],
    "South 华南": ["Zhou Tao", "Wu Xia", "Xu Ming", "Sun Hui"],
}
_PRODUCTS = {  # name: (base amount, effect on winning)
    "ERP Suite": (600_000, 0.0),
    "Finance Cloud": (220_000, 0.35),
    "Supply Chain Cloud": (420_000, -0.2),
    "HR Cloud": (120_000, 0.25),
    "BI Analytics": (160_000, 0.1),
}
_SOURCES = {"Existing customer": 0.8, "Referral": 0.55, "Partner": 0.2, "Trade show": -0.15, "Website": -0.3, "Cold call": -0.6}
_INDUSTRIES = ["Manufacturing 制造", "Retail 零售", "Healthcare 医疗", "Energy 能源", "Finance 金融", "Education 教育"]
_COMPETITORS = {"Huikang": -0.9, "Yongyou": -0.35, "Dingjie": 0.25, "SAPiens": -0.15, "Oracular": 0.1}
_LOST_REASONS = ["Price", "Lost to competitor", "No budget", "No decision", "Timing", "Product fit"]
_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def chinese_part(text):
    """The Chinese half of a demo text written "English 中文" (the whole text when it has none)."""
    if not isinstance(text, str):
        return text
    found = _CJK.search(text)
    return text[found.start():].strip() if found else text


# The typed words of a zh-CN demo (the readers accept the Chinese forecast categories).
_IN_CHINESE = {
    "source": {"Existing customer": "老客户", "Referral": "转介绍", "Partner": "合作伙伴", "Trade show": "展会",
               "Website": "官网", "Cold call": "陌生拜访"},
    "lost_reason": {"Price": "价格", "Lost to competitor": "输给竞争对手", "No budget": "没有预算", "No decision": "未做决定",
                    "Timing": "时机不对", "Product fit": "产品不匹配"},
    "next_step": {"Demo to IT": "给 IT 部门演示", "Send proposal": "发送方案", "Reference visit": "参观样板客户",
                  "Price meeting": "价格洽谈", "Workshop": "需求研讨会"},
    "forecast_category": {"Commit": "承诺", "Best Case": "最佳情况"},
}
_ACCOUNT_A = ["Huaxin", "Dongfang", "Jinhai", "Tianrun", "Zhongke", "Hengtai", "Baiyun", "Xinghe", "Longteng", "Ruifeng",
              "Anda", "Kaiyuan", "Shengda", "Mingyang", "Yuanhang", "Fuxing", "Guotai", "Haitong", "Jiahe", "Wanli"]
_ACCOUNT_B = ["Manufacturing", "Pharma", "Retail Group", "Energy", "Logistics", "Bank", "Electronics", "Foods", "Auto Parts", "Hospital"]


def _owners(size: int) -> tuple[list[str], list[str], np.ndarray]:
    owners, teams = [], []
    for team, names in _TEAMS.items():
        for name in names:
            owners.append(name)
            teams.append(team)
    extra = max(0, size // 800 - len(owners))  # large books have more reps
    team_names = list(_TEAMS)
    for i in range(extra):
        owners.append(f"Rep {i + 1:03d}")
        teams.append(team_names[i % len(team_names)])
    skill = np.linspace(0.7, -0.7, len(owners))
    return owners, teams, skill


def demo_tables(
    size: int = 600,
    seed: int = 7,
    scheme: str = "pib",
    as_of: dt.date = DEMO_AS_OF,
    rework: float = 0.03,
    stage_days: float = 1.0,
    loss_rate: float = 1.0,
    scenario: str = "default",
    language: str = "en",
) -> dict[str, pd.DataFrame]:
    """Generate the demo workbook's input tables.

    Args:
        size: number of deals.
        seed: random seed; the same seed gives the same tables.
        scheme: stage scheme preset (pib, six_step, seven_stage).
        as_of: the day the book is as of; nothing happens after it.
        rework: chance at each step that a deal steps back one stage (real books have
            such back-and-forth; it adds history rows).
        stage_days: scale of the time spent in a stage (1 = 35 to 60 days on average).
        loss_rate: share of the steps that do not move a deal forward which lose it; the
            rest keep it waiting in its stage. 1 = a deal that does not advance is lost.
            Benchmarks use a low rate with short stages for long, busy histories.
        scenario: ``default`` (outcomes follow the deal's factors) or ``noise`` (chance
            alone; see the module docstring).
        language: ``en`` or ``zh-CN`` for the stage names and the words typed on the deals
            (source, next step, lost reason, forecast category); the deals are the same.

    Returns:
        settings, stages, opportunities, stage_history, quotas as canonical tables, each
        indexed by the sheet row it would occupy (header in row 1).

    Raises:
        ValueError: an unknown scenario.
    """
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown demo scenario '{scenario}' (use {' or '.join(SCENARIOS)})")
    rng = np.random.default_rng(seed)
    stages = preset_stages(scheme, language)
    open_stages = stages[~(stages["is_won"] | stages["is_lost"])].sort_values("order")
    open_codes = list(open_stages["code"])
    won_code = stages.loc[stages["is_won"], "code"].iloc[0]
    lost_code = stages.loc[stages["is_lost"], "code"].iloc[0]
    owners, owner_team, skill = _owners(size)
    n_accounts = max(20, size // 6)
    accounts = [f"{_ACCOUNT_A[i % len(_ACCOUNT_A)]} {_ACCOUNT_B[(i // len(_ACCOUNT_A)) % len(_ACCOUNT_B)]}"
                + (f" {i // (len(_ACCOUNT_A) * len(_ACCOUNT_B)) + 1}" if i >= len(_ACCOUNT_A) * len(_ACCOUNT_B) else "")
                for i in range(n_accounts)]
    account_size = rng.lognormal(0, 0.5, n_accounts)
    account_industry = rng.integers(0, len(_INDUSTRIES), n_accounts)

    as_of_ts = pd.Timestamp(as_of)
    start = as_of_ts - pd.Timedelta(days=900)
    # More deals are recent (the business grows), so a fair share is still open at as-of.
    created = start + pd.to_timedelta(np.sort((880 * rng.random(size) ** 0.6).astype(int)), unit="D")
    owner_idx = rng.integers(0, len(owners), size)
    account_idx = (rng.pareto(1.2, size) * n_accounts / 8).astype(int) % n_accounts  # a few accounts buy a lot
    product_names = list(_PRODUCTS)
    product_idx = rng.choice(len(product_names), size, p=[0.25, 0.2, 0.2, 0.2, 0.15])
    source_names = list(_SOURCES)
    source_idx = rng.choice(len(source_names), size, p=[0.18, 0.17, 0.15, 0.15, 0.2, 0.15])
    comp_names = list(_COMPETITORS)
    n_comp = rng.choice([0, 1, 1, 2, 2, 3], size)
    # Qualification: better-sourced deals get better answers; each answer adds quality.
    qual_base = 0.45 + 0.08 * np.array([_SOURCES[source_names[i]] for i in source_idx])
    quals = rng.random((size, len(QUALIFICATION_6W2P))) < qual_base[:, None]
    mans = rng.random((size, len(MAN_FLAGS))) < (qual_base[:, None] + 0.2)

    rows, hist_rows = [], []
    day = pd.Timedelta(days=1)
    stage_mean_days = np.linspace(35, 60, len(open_codes)) * stage_days
    for i in range(size):
        comps = list(rng.choice(comp_names, n_comp[i], replace=False)) if n_comp[i] else []
        factors = (
            skill[owner_idx[i]]
            + _PRODUCTS[product_names[product_idx[i]]][1]
            + _SOURCES[source_names[source_idx[i]]]
            + sum(_COMPETITORS[c] for c in comps)
            + 1.6 * (quals[i].mean() - 0.5)
            + (0.6 if mans[i].all() else -0.2)
        )
        chance = rng.normal(0, 0.5)
        quality = factors + chance if scenario == "default" else _NOISE_MEAN + _NOISE_SCALE * chance
        when = created[i]
        history = [(open_codes[0], when)]
        level = 0
        outcome = None
        while True:
            when = when + day * max(1, int(rng.gamma(2.0, stage_mean_days[level] / 2)))
            if when > as_of_ts:
                break
            # Chance to move on: higher quality and later stages move on more often.
            p_next = 1 / (1 + np.exp(-(quality + 0.35 + 0.45 * level)))
            if rng.random() < rework and level > 0:
                level -= 1
                history.append((open_codes[level], when))
                continue
            if rng.random() < p_next:
                if level + 1 < len(open_codes):
                    level += 1
                    history.append((open_codes[level], when))
                else:
                    outcome = won_code
                    history.append((won_code, when))
                    break
            elif loss_rate >= 1 or rng.random() < loss_rate:
                outcome = lost_code
                history.append((lost_code, when))
                break
        stage = outcome or history[-1][0]
        amount = round(_PRODUCTS[product_names[product_idx[i]]][0] * account_size[account_idx[i]] * rng.lognormal(0, 0.45), -3)
        if outcome:
            close = history[-1][1]
        else:
            # Expected close: mostly ahead, some already overdue, never before creation.
            close = max(as_of_ts + day * int(rng.integers(-45, 300)), created[i] + 14 * day)
        deal_id = f"OPP-{i + 1:06d}"
        row = {
            "id": deal_id,
            "account": accounts[account_idx[i]],
            "name": f"{accounts[account_idx[i]]} - {product_names[product_idx[i]]}",
            "owner": owners[owner_idx[i]],
            "team": owner_team[owner_idx[i]],
            "stage": stage,
            "amount": amount,
            "created": created[i],
            "close_date": close if (outcome or rng.random() > 0.02) else pd.NaT,
            "probability_override": (round(float(rng.uniform(0.3, 0.9)), 2) if not outcome and rng.random() < 0.03 else np.nan),
            "forecast_category": (rng.choice(["Commit", "Best Case"]) if not outcome and rng.random() < 0.05 else None),
            "source": source_names[source_idx[i]],
            "product": product_names[product_idx[i]],
            "industry": _INDUSTRIES[account_industry[account_idx[i]]],
            "competitors": ";".join(comps) if comps else None,
            "next_step": None if outcome else rng.choice(["Demo to IT", "Send proposal", "Reference visit", "Price meeting", "Workshop"]),
            "last_activity": (close if outcome else as_of_ts - day * int(rng.exponential(14))),
            "lost_reason": (("Lost to competitor" if comps and rng.random() < 0.5 else rng.choice(_LOST_REASONS)) if outcome == lost_code else None),
        }
        answered_share = min(1.0, 0.5 + 0.25 * level) if not outcome else 1.0
        for j, q in enumerate(QUALIFICATION_6W2P):
            row[q] = bool(quals[i, j] and rng.random() < answered_share + 0.2)
        for j, m in enumerate(MAN_FLAGS):
            row[m] = bool(mans[i, j])
        for g in GO_NO_GO_FLAGS:
            row[g] = bool(rng.random() < 0.5 + 0.1 * quality)
        rows.append(row)
        hist_rows.extend((deal_id, code, entered) for code, entered in history)

    opportunities = pd.DataFrame(rows, columns=list(columns_of("opportunities")))
    opportunities.index = pd.RangeIndex(2, 2 + len(opportunities))
    if language == "zh-CN":
        for column, words in _IN_CHINESE.items():
            opportunities[column] = opportunities[column].map(lambda v, w=words: w.get(v, v))
        for column in ("team", "industry"):  # "East 华东" -> "华东"
            opportunities[column] = opportunities[column].map(chinese_part)
    history = pd.DataFrame(hist_rows, columns=["opportunity_id", "stage", "entered"])
    history.index = pd.RangeIndex(2, 2 + len(history))
    settings = pd.DataFrame(
        [("as_of", as_of), ("currency", "CNY"), ("fiscal_year_start_month", 1), ("period", "quarter"),
         ("probability_method", "blended"), ("prior_strength", 10)],
        columns=["key", "value"],
        index=pd.RangeIndex(2, 8),
    )
    quotas = _quotas(opportunities, stages, as_of)
    people = _people(opportunities)
    calls = _calls(opportunities, stages, people, as_of, language)
    return {"settings": settings, "stages": stages, "opportunities": opportunities, "stage_history": history, "quotas": quotas,
            "people": people, "forecast_calls": calls}


# Each team's manager, and the head of sales they report to.
_MANAGERS = ("Ma Jun", "Gao Yan", "He Ping")
_HEAD_OF_SALES = "Lin Feng"


def _people(opportunities: pd.DataFrame) -> pd.DataFrame:
    teams = sorted(set(opportunities["team"].dropna()))
    manager_of_team = {team: _MANAGERS[i % len(_MANAGERS)] for i, team in enumerate(teams)}
    team_of = opportunities.groupby("owner", sort=False)["team"].first()
    rows = [(owner, manager_of_team[team]) for owner, team in team_of.items()]
    rows += [(manager, _HEAD_OF_SALES) for manager in dict.fromkeys(manager_of_team.values())]
    rows.append((_HEAD_OF_SALES, None))
    people = pd.DataFrame(rows, columns=["person", "manager"])
    people.index = pd.RangeIndex(2, 2 + len(people))
    return people


def _calls(opportunities: pd.DataFrame, stages: pd.DataFrame, people: pd.DataFrame, as_of: dt.date,
           language: str) -> pd.DataFrame:
    # The current quarter's calls, cumulative (closed won included): each rep commits to what
    # is won and part of what is open, a manager shades the team's calls, the head of sales
    # theirs. A few reps make no best case call, one no call at all, and one called twice
    # (the later call counts), so the roll-up shows each case.
    from funnel.inputs.contract import forecast_category_words

    said = forecast_category_words(language)
    as_of_ts = pd.Timestamp(as_of)
    start = pd.Timestamp(as_of_ts.year, 3 * ((as_of_ts.month - 1) // 3) + 1, 1)
    period = f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    in_period = opportunities["close_date"].between(start, start + pd.DateOffset(months=3) - pd.Timedelta(days=1))
    won_codes = set(stages.loc[stages["is_won"], "code"])
    closed_codes = won_codes | set(stages.loc[stages["is_lost"], "code"])
    deals = opportunities[in_period]
    won = deals[deals["stage"].isin(won_codes)].groupby("owner")["amount"].sum()
    open_ = deals[~deals["stage"].isin(closed_codes)].groupby("owner")["amount"].sum()
    manager_of = dict(zip(people["person"], people["manager"]))
    reps = [p for p in people["person"] if p not in set(people["manager"].dropna())]
    rows = []
    totals: dict[str, list[float]] = {}
    for i, rep in enumerate(reps):
        if i == len(reps) - 1:
            continue  # no call from this rep
        commit = round(float(won.get(rep, 0.0) + 0.5 * open_.get(rep, 0.0)), -4)
        best = round(float(won.get(rep, 0.0) + 0.8 * open_.get(rep, 0.0)), -4)
        day = as_of_ts - pd.Timedelta(days=3 + i % 3)
        if i == 0:
            rows.append((period, rep, said["Commit"], round(commit * 0.8, -4), day - pd.Timedelta(days=7)))
        rows.append((period, rep, said["Commit"], commit, day))
        if i % 4 != 3:
            rows.append((period, rep, said["Best Case"], best, day))
        sums = totals.setdefault(manager_of[rep], [0.0, 0.0])
        sums[0] += commit
        sums[1] += best
    head = [0.0, 0.0]
    for manager, (commit, best) in totals.items():
        commit, best = round(commit * 0.95, -4), round(best * 0.9, -4)
        rows.append((period, manager, said["Commit"], commit, as_of_ts - pd.Timedelta(days=2)))
        rows.append((period, manager, said["Best Case"], best, as_of_ts - pd.Timedelta(days=2)))
        head = [head[0] + commit, head[1] + best]
    rows.append((period, _HEAD_OF_SALES, said["Commit"], round(head[0] * 0.97, -4), as_of_ts - pd.Timedelta(days=1)))
    calls = pd.DataFrame(rows, columns=["period", "owner", "category", "amount", "submitted_on"])
    calls["note"] = None
    calls.index = pd.RangeIndex(2, 2 + len(calls))
    return calls


def _quotas(opportunities: pd.DataFrame, stages: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    # A quota per owner per quarter of the current and next year: a stretch over what
    # the owner won on average per quarter.
    won = opportunities[opportunities["stage"].isin(stages.loc[stages["is_won"], "code"])]
    per_quarter = won.groupby("owner")["amount"].sum() / 10
    rows = []
    for year in (as_of.year, as_of.year + 1):
        for q in range(1, 5):
            for owner, team in opportunities.groupby("owner")["team"].first().items():
                rows.append((owner, team, f"{year}-Q{q}", round(float(per_quarter.get(owner, 100_000)) * 1.2, -4)))
    quotas = pd.DataFrame(rows, columns=["owner", "team", "period", "quota"])
    quotas.index = pd.RangeIndex(2, 2 + len(quotas))
    return quotas
