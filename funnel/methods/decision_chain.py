"""The customer's decision chain (客户决策链): who is in it, where they stand, what is at risk.

``tblStakeholders`` lists, per deal, the people we know: their role (decision maker 决策者,
user 使用者, buyer 采购者, influencer 影响者, gatekeeper 守门人, ...), their attitude to
us (support 接受 .. hostile 恶意拆台), our relationship stage (met 认识, dating 约会,
trusted 信赖, ally 同盟) and their communication style. Every value is read through
``funnel.methods.labels.parse_enum``, so English, Chinese and the usual variants all work; what
cannot be read is reported and left blank.

Per deal the chain gives: which of the five core roles are known (coverage), whether a
decision maker is known, met and supportive, how many are hostile, and four risk flags:

    no_decision_maker    nobody with the decision-maker role is known
    dm_not_supportive    a decision maker is known but none is known to support us
                         (a blank attitude is not support)
    hostile_present      at least one stakeholder is hostile (恶意拆台)
    single_threaded      we know exactly one person in the deal

A deal with no stakeholder rows has no chain to judge: its flags are blank, not "no".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from funnel.inputs.issues import IssueLog, already_reported, blank_or_unread, each, words
from funnel.inputs.keys import plain
from funnel.methods.labels import codes, label, labels, localize, parse_enum
from funnel.methods.qualification import join_labels

__all__ = [
    "CORE_ROLES",
    "RISK_FLAGS",
    "ENUM_COLUMNS",
    "read_stakeholders",
    "chain_columns",
    "decision_chain_table",
]

# The five roles every key-account deal should have a name for.
CORE_ROLES = ("decision_maker", "user", "buyer", "influencer", "gatekeeper")
RISK_FLAGS = ("no_decision_maker", "dm_not_supportive", "hostile_present", "single_threaded")
# stakeholders column -> label kind its values are read as.
ENUM_COLUMNS = {"role": "role", "attitude": "attitude", "relationship": "relationship", "style": "style"}

_STAKEHOLDER_COLUMNS = ("opportunity_id", "name", "title", "role", "attitude", "relationship", "style")


def _blank(series: pd.Series) -> pd.Series:
    return series.isna() | series.astype(str).str.strip().eq("")


def read_stakeholders(stakeholders: pd.DataFrame, deal_ids: pd.Series, log: IssueLog) -> pd.DataFrame:
    """Read the validated stakeholders table into codes, reporting what cannot be used.

    Reported (table ``stakeholders``): a blank deal id or name (row left out), a deal id
    that is not among the deals (row left out), the same person twice on one deal (the
    later row left out), and a role, attitude, relationship or style that cannot be read
    (left blank, with the accepted values in the problem).

    Args:
        stakeholders: the validated ``stakeholders`` table; index = sheet row.
        deal_ids: the ids of the deals (opportunities) the rows may refer to.
        log: where problems go.

    Returns:
        The usable rows (same index): opportunity_id, name, title, and role, attitude,
        relationship, style as codes (None where blank or unreadable).
    """
    table = stakeholders.reindex(columns=list(_STAKEHOLDER_COLUMNS)).copy()
    if table.empty:
        return table.astype(object)
    reported = already_reported(log, "stakeholders")
    keep = pd.Series(True, index=table.index)
    for col, what in (("opportunity_id", "deal_id"), ("name", "stakeholder_name")):
        blank = _blank(table[col])
        log.add_many("stakeholders", table.index[blank], col, [""] * int(blank.sum()),
                     blank_or_unread(table.index[blank], reported.get(col, set()), what), words("issue.action.row_left_out"))
        keep &= ~blank
    ids = table["opportunity_id"].where(keep).astype(object)
    unknown = keep & ~ids.isin(set(deal_ids))
    log.add_many("stakeholders", table.index[unknown], "opportunity_id", ids[unknown],
                 words("issue.stakeholders.unknown_deal"), words("issue.action.row_left_out"))
    keep &= ~unknown
    person = ids.astype(str) + "\x00" + table["name"].astype(str).str.strip().str.casefold()
    dup = keep & person.where(keep).duplicated()
    log.add_many("stakeholders", table.index[dup], "name", table["name"][dup],
                 each("issue.stakeholders.twice", name=table["name"][dup], deal=ids[dup]), words("issue.action.later_row_left_out"))
    keep &= ~dup
    table = table[keep]
    for col, kind in ENUM_COLUMNS.items():
        raw = table[col]
        parsed = raw.map(lambda v, k=kind: parse_enum(k, v)).astype(object)
        bad = parsed.isna() & ~_blank(raw)
        known = ", ".join(labels(kind, "en").values())
        log.add_many("stakeholders", table.index[bad], col, raw[bad],
                     each(f"issue.stakeholders.unknown.{col}", value=raw[bad], known=[known] * int(bad.sum())),
                     words("issue.action.left_blank"))
        table[col] = parsed.where(parsed.notna(), None)
    return table


def _per_deal(stakeholders: pd.DataFrame) -> pd.DataFrame:
    # Counts and flags per deal id, from the read stakeholders.
    s = stakeholders
    role, attitude = s["role"], s["attitude"]
    is_dm = role.eq("decision_maker")
    rel_order = {code: i for i, code in enumerate(codes("relationship"))}
    frame = pd.DataFrame(
        {
            "opportunity_id": s["opportunity_id"].to_numpy(),
            "stakeholders": 1,
            "decision_makers": is_dm.astype(int).to_numpy(),
            "dm_met": (is_dm & s["relationship"].notna()).astype(int).to_numpy(),
            "dm_supportive": (is_dm & attitude.eq("support")).astype(int).to_numpy(),
            "supporters": attitude.eq("support").astype(int).to_numpy(),
            "hostile": attitude.eq("hostile").astype(int).to_numpy(),
            "dm_relationship_rank": s["relationship"].map(rel_order).where(is_dm).to_numpy(dtype=float),
        }
    )
    for code in CORE_ROLES:
        frame[f"_role_{code}"] = role.eq(code).astype(int).to_numpy()
    grouped = frame.groupby("opportunity_id", sort=False)
    sums = grouped[[c for c in frame.columns if c not in ("opportunity_id", "dm_relationship_rank")]].sum()
    sums["dm_relationship_rank"] = grouped["dm_relationship_rank"].max()
    return sums


def chain_columns(stakeholders: pd.DataFrame, deals: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """Decision-chain figures for every deal, indexed like ``deals`` (for the deal scores).

    Args:
        stakeholders: the output of ``read_stakeholders``.
        deals: the deal table (its ``id`` column links the stakeholders).
        language: language of the text columns.

    Returns:
        stakeholders (count), roles_covered (0..5 of the core roles), role_coverage
        (roles_covered / 5), roles_known, roles_missing (readable), decision_makers,
        dm_met (a decision maker with a relationship stage recorded), dm_supportive,
        dm_relationship (best stage reached with a decision maker, code), supporters,
        hostile, the four risk flags, risk_count and risks (readable). Deals with no
        stakeholder rows have 0 stakeholders and blank flags.
    """
    ids = deals["id"]
    stats = _per_deal(stakeholders) if not stakeholders.empty else pd.DataFrame()
    stats = stats.reindex(ids.to_numpy())
    known = stats["stakeholders"].fillna(0).to_numpy(dtype=int) if not stats.empty else np.zeros(len(ids), dtype=int)
    has_chain = known > 0
    out = pd.DataFrame(index=deals.index)
    out["stakeholders"] = known

    def count(col: str) -> np.ndarray:
        return stats[col].fillna(0).to_numpy(dtype=int) if col in stats.columns else np.zeros(len(ids), dtype=int)

    role_known = np.column_stack([count(f"_role_{c}") > 0 for c in CORE_ROLES]) if len(ids) else np.zeros((0, len(CORE_ROLES)), dtype=bool)
    role_names = [label("role", c, language) for c in CORE_ROLES]
    out["roles_covered"] = role_known.sum(axis=1).astype(int)
    out["role_coverage"] = out["roles_covered"] / len(CORE_ROLES)
    out["roles_known"] = _pattern_text(role_known, role_names, language, deals.index)
    out["roles_missing"] = _pattern_text(~role_known, role_names, language, deals.index)
    for col in ("decision_makers", "supporters", "hostile"):
        out[col] = count(col)

    def flag(values: np.ndarray) -> pd.Series:
        # Blank where no stakeholder is known: nothing to judge, which is not "no risk".
        series = pd.Series(values, index=deals.index, dtype="boolean")
        series[~has_chain] = pd.NA
        return series

    out["dm_met"] = flag(count("dm_met") > 0)
    out["dm_supportive"] = flag(count("dm_supportive") > 0)
    rel_rank = stats["dm_relationship_rank"].to_numpy(dtype=float) if "dm_relationship_rank" in stats.columns else np.full(len(ids), np.nan)
    rel_codes = codes("relationship")
    out["dm_relationship"] = pd.Series([rel_codes[int(r)] if r == r else None for r in rel_rank], index=deals.index, dtype=object)
    dms = out["decision_makers"].to_numpy()
    out["no_decision_maker"] = flag(dms == 0)
    out["dm_not_supportive"] = flag((dms > 0) & (count("dm_supportive") == 0))
    out["hostile_present"] = flag(out["hostile"].to_numpy() > 0)
    out["single_threaded"] = flag(known == 1)
    risk_frame = out[list(RISK_FLAGS)].fillna(False).to_numpy(dtype=bool)
    risk_count = pd.Series(risk_frame.sum(axis=1), index=deals.index, dtype="Int64")
    risk_count[~has_chain] = pd.NA
    out["risk_count"] = risk_count
    risk_names = [label("risk", f, language) for f in RISK_FLAGS]
    none_known = label("risk", "no_stakeholders", language)
    risks = _pattern_text(risk_frame, risk_names, language, deals.index)
    risks[~has_chain] = none_known
    out["risks"] = risks
    return out


def _pattern_text(marks: np.ndarray, names: list[str], language: str, index: pd.Index) -> pd.Series:
    # The names marked in each row, joined; each distinct pattern is joined once.
    code = marks.astype(np.int64) @ (1 << np.arange(len(names), dtype=np.int64)) if len(marks) else np.zeros(0, dtype=np.int64)
    patterns, which = np.unique(code, return_inverse=True)
    text = np.array([join_labels([n for i, n in enumerate(names) if c >> i & 1], language) for c in patterns.tolist()]
                    + [""], dtype=object)  # the spare "" keeps an empty table's lookup an object array
    return pd.Series(text[which.reshape(-1)], index=index, dtype=object)


def decision_chain_table(stakeholders: pd.DataFrame, deals: pd.DataFrame, language: str = "en",
                         chain: pd.DataFrame | None = None) -> pd.DataFrame:
    """The decision-chain table: one row per open deal that has stakeholders, riskiest first.

    Args:
        stakeholders: the output of ``read_stakeholders``.
        deals: the deal table.
        language: language of the text columns.
        chain: ``chain_columns(stakeholders, deals, language)`` when already computed.

    Returns:
        id, account, name, owner, stage, amount, and the ``chain_columns`` (with
        dm_relationship_label), sorted by risk_count (highest first), then amount.
    """
    columns = ["id", "account", "name", "owner", "stage", "amount", "stakeholders", "roles_covered", "role_coverage",
               "roles_known", "roles_missing", "decision_makers", "dm_met", "dm_supportive", "dm_relationship",
               "dm_relationship_label", "supporters", "hostile", *RISK_FLAGS, "risk_count", "risks"]
    chain = chain_columns(stakeholders, deals, language) if chain is None else chain
    rows = deals["is_open"].to_numpy(dtype=bool) & (chain["stakeholders"].to_numpy() > 0)
    table = plain(deals.loc[rows, ["id", "account", "name", "owner", "stage", "amount"]]).join(chain[rows])
    table["dm_relationship_label"] = localize(table["dm_relationship"], "relationship", language)
    table = table.sort_values(["risk_count", "amount", "id"], ascending=[False, False, True], na_position="last", kind="stable")
    return table.reindex(columns=columns).reset_index(drop=True)
