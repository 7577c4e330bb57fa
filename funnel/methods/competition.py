"""Competition: the comparison table that decides (决定生死的比较表) and the head-to-head record.

**The comparison table** (``tblComparison``) is wide: ``factor``, ``weight``, an optional
``opportunity_id`` and one score column per vendor, headed by the vendor's name. Rows
without a deal id form the *general* comparison; rows of one deal form that deal's.

- *Which column is us*: the column headed ``Us``, ``We``, ``Our company``, ``我方``,
  ``我们``, ``我司`` or ``本公司`` (any case or width); failing that, the first score
  column. A ``comparison_us`` setting, when the settings carry one, names it instead.
- *Weights* are normalized per comparison to sum 1; when they did not (percentages that
  add up to 100, say), an issue row says so and what they were divided by.
- *Scores* must lie in 0..``comparison_scale_max``. A score outside it or unreadable,
  and a blank score of a vendor scored on other factors of the same comparison, are
  reported and left out, never read as zero: that vendor's ``weighted_total`` is the
  weighted mean over the factors it was scored on, and ``weight_coverage`` shows the
  share of the weight those factors carry (1 = fully scored). A vendor with no score at
  all in a comparison is simply not part of it.
- *Rank* 1 is the highest total; equal totals are ranked in column order and flagged
  ``tied``, so ranks are always 1..n.

**Head to head**: for each competitor named in the deals' ``competitors`` cell (names
split on ``;`` ``,`` ``、`` and their full-width forms, matched without regard to case,
shown with the first spelling met), the closed deals it was in: met, won, lost, win rate
with its 95% Wilson interval, amounts, median cycle (created to close date, days) and
the three most common lost reasons; plus the open pipeline it contests. One more row
gathers the deals with no known competitor. A deal naming two competitors counts for
both, so the competitor rows add up to mentions, not deals.

``funnel.analysis.Analysis`` puts these together with the qualification and decision-chain
tables (``funnel.methods.qualification``, ``funnel.methods.decision_chain``).
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from funnel.forecast.winrates import wilson_interval
from funnel.inputs.issues import IssueLog, already_reported, blank_or_unread, each, words
from funnel.inputs.keys import codes_and_labels, in_order_of_appearance
from funnel.inputs.settings import Settings
from funnel.inputs.validation import coerce_column  # the same number reading as every other table
from funnel.methods.labels import label, localize
from funnel.methods.qualification import join_labels

__all__ = [
    "GENERAL",
    "US_NAMES",
    "COMPARISON_RESULT_COLUMNS",
    "COMPARISON_GAPS_COLUMNS",
    "HEAD_TO_HEAD_COLUMNS",
    "NOTE_HEADERS",
    "read_comparison",
    "comparison_tables",
    "split_competitors",
    "head_to_head",
    "check_importance_settings",
]

# The opportunity_id shown for the comparison that belongs to no deal.
GENERAL = "general"
# Headers that mean "our own column" in a comparison table (compared folded, lower case).
US_NAMES = ("us", "we", "our company", "ours", "our", "我方", "我们", "我司", "本公司", "我公司")

COMPARISON_RESULT_COLUMNS = ["opportunity_id", "vendor", "is_us", "weighted_total", "rank", "tied", "factors_scored",
                             "factors", "weight_coverage", "gap_to_us"]
COMPARISON_GAPS_COLUMNS = ["opportunity_id", "factor", "weight", "our_score", "best_rival", "rival_score", "gap",
                           "weighted_gap", "position", "position_label"]
HEAD_TO_HEAD_COLUMNS = ["competitor", "met", "won", "lost", "win_rate", "ci_low", "ci_high", "won_amount", "lost_amount",
                        "median_cycle_days", "top_lost_reasons", "open_deals", "open_amount", "open_weighted",
                        "strengths", "weaknesses"]

_FIXED = ("opportunity_id", "factor", "weight")
# Headers of columns people add beside the scores; they are not vendors.
NOTE_HEADERS = ("notes", "note", "comment", "comments", "remarks", "description", "备注", "说明", "注释")
_SPLIT = re.compile(r"[;,、]")


def _fold(text) -> str:
    # NFKC folds full-width letters and punctuation (；，) to their plain forms.
    return unicodedata.normalize("NFKC", str(text)).strip()


def _match_key(text: str) -> str:
    return re.sub(r"\s+", " ", _fold(text)).casefold()


def _is_blank(value) -> bool:
    if value is None:
        return True
    try:
        if pd.isna(value):
            return True
    except (TypeError, ValueError):
        pass
    return str(value).strip() == ""


# ---------------------------------------------------------------------------------------
# The comparison table that decides


def _which_is_us(vendors: list[str], us: str | None, log: IssueLog) -> str | None:
    # The named column when given and present, else a header meaning "us", else the first.
    if not vendors:
        return None
    keys = {_match_key(v): v for v in vendors}
    if us and not _is_blank(us):
        if _match_key(us) in keys:
            return keys[_match_key(us)]
        log.add("comparison", None, str(us), us, words("issue.comparison.no_us_column", us=us),
                words("issue.action.used_as_us", vendor=vendors[0]))
    for name in US_NAMES:
        if name in keys:
            return keys[name]
    return vendors[0]


def read_comparison(
    comparison: pd.DataFrame,
    deal_ids: pd.Series,
    scale_max: float,
    log: IssueLog,
    us: str | None = None,
) -> tuple[pd.DataFrame, list[str], str | None]:
    """Read the wide comparison table into one row per (row, vendor) with usable scores.

    Reported (table ``comparison``): a blank factor or a blank or negative weight (row
    left out), a deal id not among the deals (kept as its own comparison), a vendor
    column with no score at all (ignored), an unreadable or out-of-range score and a
    blank score of a vendor scored elsewhere in the same comparison (left out of that
    vendor's total), weights that do not add up to 1 (normalized) or add up to 0 (equal
    weights used), and a comparison where we have no score.

    Args:
        comparison: the validated ``comparison`` table (vendor columns as typed).
        deal_ids: ids of the deals a comparison may belong to.
        scale_max: the top of the score scale (``comparison_scale_max``).
        log: where problems go.
        us: the header of our column, when the settings name it.

    Returns:
        (long, vendors, us): ``long`` has row (sheet row), opportunity_id (``general``
        for none), factor, weight (normalized within its comparison), vendor, score
        (NaN where not usable); ``vendors`` in column order; ``us`` the vendor that is us.
    """
    empty = pd.DataFrame({"row": pd.Series(dtype=int), "opportunity_id": pd.Series(dtype=object),
                          "factor": pd.Series(dtype=object), "weight": pd.Series(dtype=float),
                          "vendor": pd.Series(dtype=object), "score": pd.Series(dtype=float)})
    if comparison is None or comparison.empty:
        return empty, [], None

    table = comparison.copy()
    if "opportunity_id" not in table.columns:
        table["opportunity_id"] = None
    vendor_cols, seen = [], set()
    for col in table.columns:
        if col in _FIXED or _is_blank(col) or _match_key(col) in NOTE_HEADERS:
            continue
        if _match_key(col) in seen:
            log.add("comparison", None, _fold(col), "", words("issue.comparison.vendor_twice", vendor=_fold(col)),
                    words("issue.action.later_column_ignored"))
            continue
        seen.add(_match_key(col))
        vendor_cols.append(col)
    reported = already_reported(log, "comparison")
    keep = pd.Series(True, index=table.index)
    blank_factor = table["factor"].map(_is_blank)
    log.add_many("comparison", table.index[blank_factor], "factor", [""] * int(blank_factor.sum()),
                 blank_or_unread(table.index[blank_factor], reported.get("factor", set()), "factor"),
                 words("issue.action.row_left_out"))
    keep &= ~blank_factor
    weight = pd.to_numeric(table["weight"], errors="coerce")
    no_weight = keep & weight.isna()
    log.add_many("comparison", table.index[no_weight], "weight", [""] * int(no_weight.sum()),
                 blank_or_unread(table.index[no_weight], reported.get("weight", set()), "weight"),
                 words("issue.action.factor_left_out"))
    negative = keep & (weight < 0)
    log.add_many("comparison", table.index[negative], "weight", weight[negative], words("issue.comparison.negative_weight"),
                 words("issue.action.factor_left_out"))
    keep &= ~no_weight & ~negative
    group = table["opportunity_id"].map(lambda v: GENERAL if _is_blank(v) else str(v).strip())
    known = set(deal_ids)
    unknown = keep & (group != GENERAL) & ~group.isin(known)
    log.add_many("comparison", table.index[unknown], "opportunity_id", group[unknown],
                 words("issue.comparison.unknown_deal"), words("issue.action.own_comparison"))
    table, weight, group = table[keep], weight[keep], group[keep]

    scores: dict[str, pd.Series] = {}
    vendors: list[str] = []
    for col in vendor_cols:
        raw = table[col]
        values, bad, why = coerce_column(raw, "number")
        name = _fold(col)
        if bad.any():
            log.add_many("comparison", table.index[bad], name, raw[bad], why[bad], words("issue.action.not_scored"))
        outside = values.notna() & ~values.between(0, scale_max)
        log.add_many("comparison", table.index[outside], name, values[outside],
                     each("issue.comparison.score_outside", score=[f"{v:g}" for v in values[outside]],
                          top=[f"{scale_max:g}"] * int(outside.sum())),
                     words("issue.action.not_scored"))
        values = values.where(~outside)
        if values.isna().all() and not bad.any() and not outside.any():
            log.add("comparison", None, name, "", words("issue.comparison.no_scores", vendor=name), words("issue.action.ignored"))
            continue
        # Blank cells count only where the vendor was scored on other factors of the comparison.
        scored_groups = set(group[values.notna() | bad | outside])
        blank = values.isna() & ~bad & ~outside & group.isin(scored_groups)
        log.add_many("comparison", table.index[blank], name, [""] * int(blank.sum()),
                     each("issue.comparison.no_score", vendor=[name] * int(blank.sum()), factor=table["factor"][blank]),
                     words("issue.action.left_out_of_total"))
        scores[name] = values
        vendors.append(name)
    us_name = _which_is_us(vendors, us, log)

    normalized = pd.Series(np.nan, index=table.index)
    for key, rows in table.groupby(group, sort=False).groups.items():
        w = weight[rows]
        total = float(w.sum())
        # the general comparison, or one deal's: two lines of the catalog each
        which, deal = ("general", {}) if key == GENERAL else ("deal", {"deal": key})
        if total <= 0:
            log.add("comparison", rows[0], "weight", total, words(f"issue.comparison.{which}.weights_zero", **deal),
                    words("issue.action.equal_weights"))
            normalized[rows] = 1.0 / len(rows)
            continue
        if not np.isclose(total, 1.0, rtol=0, atol=1e-9):
            log.add("comparison", rows[0], "weight", f"{total:g}",
                    words(f"issue.comparison.{which}.weights_sum", total=f"{total:g}", **deal),
                    words("issue.action.weights_divided", total=f"{total:g}"))
        normalized[rows] = w / total
        if us_name is not None and scores[us_name][rows].isna().all():
            log.add("comparison", rows[0], us_name, "", words(f"issue.comparison.{which}.us_unscored", us=us_name, **deal),
                    words("issue.action.no_gaps"))

    parts = [
        pd.DataFrame({"row": table.index.to_numpy(), "opportunity_id": group.to_numpy(),
                      "factor": table["factor"].astype(str).str.strip().to_numpy(),
                      "weight": normalized.to_numpy(), "vendor": name, "score": scores[name].to_numpy(dtype=float)})
        for name in vendors
    ]
    if not parts:
        return empty, [], None
    long = pd.concat(parts, ignore_index=True)
    # Keep a vendor only in the comparisons it takes part in.
    took_part = long.groupby(["opportunity_id", "vendor"], sort=False)["score"].transform(lambda s: s.notna().any())
    return long[took_part.to_numpy(dtype=bool)].reset_index(drop=True), vendors, us_name


def comparison_tables(long: pd.DataFrame, vendors: list[str], us: str | None, language: str = "en") -> tuple[pd.DataFrame, pd.DataFrame]:
    """Weighted totals, ranks and factor gaps from the read comparison.

    Args:
        long: the first result of ``read_comparison``.
        vendors: the vendors in column order.
        us: the vendor that is us.
        language: language of ``position_label``.

    Returns:
        (comparison_result, comparison_gaps).

        comparison_result, one row per (comparison, vendor), best first within each
        comparison: opportunity_id (``general`` for the general one), vendor, is_us,
        weighted_total (weighted mean of the vendor's usable scores), rank (1 = best),
        tied, factors_scored, factors, weight_coverage (weight share of the factors
        scored), gap_to_us (this total minus ours).

        comparison_gaps, one row per factor, the biggest absolute weighted gap first
        within each comparison: opportunity_id, factor, weight (normalized), our_score,
        best_rival, rival_score, gap (ours - best rival), weighted_gap (gap x weight),
        position (lead, trail, even; blank when either side is not scored), position_label.
    """
    if long.empty:
        return (pd.DataFrame({c: pd.Series(dtype=object) for c in COMPARISON_RESULT_COLUMNS}),
                pd.DataFrame({c: pd.Series(dtype=object) for c in COMPARISON_GAPS_COLUMNS}))
    order = {v: i for i, v in enumerate(vendors)}
    groups = list(dict.fromkeys(long["opportunity_id"]))
    frame = long.assign(_scored=long["score"].notna(), _ws=long["score"] * long["weight"])
    frame["_w_scored"] = frame["weight"].where(frame["_scored"], 0.0)
    agg = frame.groupby(["opportunity_id", "vendor"], sort=False).agg(
        weighted_sum=("_ws", "sum"), weight_coverage=("_w_scored", "sum"),
        factors_scored=("_scored", "sum"), factors=("factor", "size"),
        lowest=("score", "min"), highest=("score", "max"),
    ).reset_index()
    # A weighted mean lies between the scores it averages; a tiny (subnormal) weight's
    # rounding could push it outside, so it is held there.
    agg["weighted_total"] = (agg["weighted_sum"] / agg["weight_coverage"].where(agg["weight_coverage"] > 0)).clip(
        agg["lowest"], agg["highest"])
    agg["is_us"] = agg["vendor"].eq(us)
    agg["_group"] = agg["opportunity_id"].map({g: i for i, g in enumerate(groups)})
    agg["_col"] = agg["vendor"].map(order)
    # Totals equal but for float noise (0.6*4 + 0.4*2 against 0.6*2 + 0.4*5) are ties.
    agg["_key"] = agg["weighted_total"].round(9)
    agg = agg.sort_values(["_group", "_key", "_col"], ascending=[True, False, True], na_position="last", kind="stable")
    agg["rank"] = agg.groupby("_group").cumcount() + 1
    agg["rank"] = agg["rank"].astype("Int64").where(agg["weighted_total"].notna(), pd.NA)
    counts = agg.groupby(["_group", "_key"])["vendor"].transform("size")
    agg["tied"] = (counts > 1) & agg["weighted_total"].notna()
    ours = agg[agg["is_us"]].set_index("opportunity_id")["weighted_total"]
    agg["gap_to_us"] = agg["weighted_total"] - agg["opportunity_id"].map(ours)
    agg["factors_scored"] = agg["factors_scored"].astype(int)
    agg["factors"] = agg["factors"].astype(int)
    result = agg[COMPARISON_RESULT_COLUMNS].reset_index(drop=True)

    # Gaps: our score against the best rival's on each factor row.
    meta = long.drop_duplicates("row").set_index("row")[["opportunity_id", "factor", "weight"]]
    scores = long.pivot(index="row", columns="vendor", values="score")
    scores = scores.reindex(columns=[v for v in vendors if v in scores.columns])
    wide = meta.join(scores).reset_index(drop=True)
    rivals = [v for v in vendors if v != us and v in wide.columns]
    our = wide[us] if us in wide.columns else pd.Series(np.nan, index=wide.index)
    if rivals:
        rival_scores = wide[rivals]
        best_pos = np.argmax(np.nan_to_num(rival_scores.to_numpy(dtype=float), nan=-np.inf), axis=1)
        any_rival = rival_scores.notna().any(axis=1).to_numpy()
        best = np.where(any_rival, np.asarray(rivals, dtype=object)[best_pos], None)
        best_score = np.where(any_rival, rival_scores.to_numpy(dtype=float)[np.arange(len(wide)), best_pos], np.nan)
    else:
        best = np.full(len(wide), None, dtype=object)
        best_score = np.full(len(wide), np.nan)
    gaps = pd.DataFrame({
        "opportunity_id": wide["opportunity_id"], "factor": wide["factor"], "weight": wide["weight"],
        "our_score": our.to_numpy(dtype=float), "best_rival": best, "rival_score": best_score,
    })
    gaps["gap"] = gaps["our_score"] - gaps["rival_score"]
    gaps["weighted_gap"] = gaps["gap"] * gaps["weight"]
    gaps["position"] = np.select([gaps["gap"] > 0, gaps["gap"] < 0, gaps["gap"] == 0], ["lead", "trail", "even"], default="")
    gaps["position"] = gaps["position"].replace("", None).astype(object)
    gaps["position_label"] = localize(gaps["position"], "position", language)
    gaps["_group"] = gaps["opportunity_id"].map({g: i for i, g in enumerate(groups)})
    gaps["_abs"] = gaps["weighted_gap"].abs()
    gaps = gaps.sort_values(["_group", "_abs"], ascending=[True, False], na_position="last", kind="stable")
    return result, gaps[COMPARISON_GAPS_COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# Head to head


def split_competitors(cell) -> list[str]:
    """The competitor names in one cell, in order, each once (case-insensitively).

    Args:
        cell: a ``competitors`` cell, e.g. ``"Huikang; Dingjie"`` or ``"汇康、鼎捷"``; names
            are split on ``;`` ``,`` ``、`` (and full-width ``；`` ``，``), trimmed, and
            inner runs of spaces made one.

    Returns:
        The names as first spelled in the cell; an empty list for a blank cell.
    """
    if _is_blank(cell):
        return []
    seen, names = set(), []
    for part in _SPLIT.split(_fold(cell)):
        name = re.sub(r"\s+", " ", part).strip()
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
    return names


def _reason_text(reason) -> str | None:
    # A lost reason as counted: folded, inner spaces collapsed; None when blank.
    return None if _is_blank(reason) else re.sub(r"\s+", " ", _fold(reason))


def _reason_texts(reasons: pd.Series) -> np.ndarray:
    # ``_reason_text`` of each cell, worked out once per distinct reason.
    codes, uniques = pd.factorize(reasons.astype(object))
    texts = np.array([_reason_text(u) for u in uniques] + [None], dtype=object)
    return texts[codes]


def _top_reason_codes(codes: np.ndarray, texts: np.ndarray, language: str, top: int = 3) -> str:
    # "Price (3); Timing (1)" of the folded reasons ``texts[codes]`` (code -1: blank):
    # grouped case-insensitively and shown as first spelled, most frequent first, then by
    # name. Counted on the codes: each distinct reason is handled once, not each deal.
    codes = codes[codes >= 0]
    if not len(codes):
        return ""
    used, first_at, count = np.unique(codes, return_index=True, return_counts=True)
    first: dict[str, tuple[int, str]] = {}
    counts: dict[str, int] = {}
    for code, at, n in zip(used.tolist(), first_at.tolist(), count.tolist()):
        text = texts[code]
        key = text.casefold()
        if key not in first or at < first[key][0]:
            first[key] = (at, text)
        counts[key] = counts.get(key, 0) + n
    ranked = sorted(counts, key=lambda k: (-counts[k], k))[:top]
    return join_labels([f"{first[k][1]} ({counts[k]})" for k in ranked], language)


def _read_competitors(competitors: pd.DataFrame | None, log: IssueLog) -> pd.DataFrame:
    # The competitors table keyed by folded name; blanks and repeats reported.
    if competitors is None or competitors.empty:
        return pd.DataFrame(columns=["competitor", "strengths", "weaknesses"], index=pd.Index([], name="key"))
    table = competitors.reindex(columns=["competitor", "strengths", "weaknesses"]).copy()
    blank = table["competitor"].map(_is_blank).astype(bool)
    unread = already_reported(log, "competitors").get("competitor", set())
    log.add_many("competitors", table.index[blank], "competitor", [""] * int(blank.sum()),
                 blank_or_unread(table.index[blank], unread, "competitor_name"), words("issue.action.row_left_out"))
    table = table[~blank]
    table["key"] = table["competitor"].map(_match_key)
    dup = table["key"].duplicated()
    log.add_many("competitors", table.index[dup], "competitor", table["competitor"][dup],
                 words("issue.competitors.twice"), words("issue.action.later_row_left_out"))
    table = table[~dup]
    table["competitor"] = table["competitor"].map(lambda v: re.sub(r"\s+", " ", _fold(v)))
    return table.set_index("key")


def head_to_head(deals: pd.DataFrame, competitors: pd.DataFrame | None = None, language: str = "en",
                 log: IssueLog | None = None) -> pd.DataFrame:
    """How we fare against each competitor, and what each contests in the open pipeline.

    Args:
        deals: the deal table (competitors, is_open/is_won/is_lost, amount, weighted,
            created, close_date, lost_reason).
        competitors: the validated competitors table, for strengths and weaknesses and to
            list competitors not met yet.
        language: language of the no-competitor row and of the lost-reason list.
        log: where problems of the competitors table go.

    Returns:
        One row per competitor, most met first, then the no-competitor row: competitor,
        met, won, lost (closed deals naming it), win_rate (won / met), ci_low, ci_high
        (95% Wilson), won_amount, lost_amount, median_cycle_days (created to close date
        of those closed deals), top_lost_reasons ("reason (count)" of the three most
        common), open_deals, open_amount, open_weighted, strengths, weaknesses.
    """
    log = log if log is not None else IssueLog()
    known = _read_competitors(competitors, log)
    cells = deals["competitors"] if "competitors" in deals.columns else pd.Series(None, index=deals.index, dtype=object)
    # Books repeat the same few cells: split each distinct cell once (in order of first
    # appearance, which names competitors in the row order too).
    no_comp_key = "\x00none"
    codes, uniques = in_order_of_appearance(*codes_and_labels(cells, sort=False))
    names_of = [split_competitors(cell) if not _is_blank(cell) else [] for cell in uniques.tolist()]
    keys_of = [[n.casefold() for n in ns] or [no_comp_key] for ns in names_of] + [[no_comp_key]]
    display: dict[str, str] = {}
    for ns in names_of:
        for n in ns:
            display.setdefault(n.casefold(), n)
    for key, row in known.iterrows():
        display.setdefault(key, row["competitor"])
    all_keys = [k for k in display] + [no_comp_key]
    # Which competitors each distinct cell names (last row: a blank cell, code -1).
    column = {key: j for j, key in enumerate(all_keys)}
    names = np.zeros((len(keys_of), len(all_keys)), dtype=bool)
    for u, ks in enumerate(keys_of):
        names[u, [column[k] for k in ks]] = True
    amount = deals["amount"].astype(float).fillna(0.0).to_numpy()
    weighted = deals["weighted"].fillna(0.0).to_numpy(dtype=float) if "weighted" in deals.columns else np.zeros(len(deals))
    cycle = (pd.to_datetime(deals["close_date"]) - pd.to_datetime(deals["created"])).dt.days.astype(float).to_numpy()
    is_won, is_lost = deals["is_won"].to_numpy(dtype=bool), deals["is_lost"].to_numpy(dtype=bool)
    is_open, closed = deals["is_open"].to_numpy(dtype=bool), is_won | is_lost
    reasons = _reason_texts(deals["lost_reason"]) if "lost_reason" in deals.columns else np.full(len(deals), None, dtype=object)
    reason_code, reason_texts = pd.factorize(reasons)
    rows = []
    for key in all_keys:
        # The deals naming this competitor, in row order (all of them for a key that no
        # deal names: none).
        of_key = names[codes, column[key]]
        met, won, lost, open_ = of_key & closed, of_key & is_won, of_key & is_lost, of_key & is_open
        cycles = pd.Series(cycle[met])
        rows.append({
            "key": key,
            "competitor": label("marker", "no_competitor", language) if key == no_comp_key else display[key],
            "met": int(met.sum()), "won": int(won.sum()), "lost": int(lost.sum()),
            "won_amount": float(amount[won].sum()), "lost_amount": float(amount[lost].sum()),
            "median_cycle_days": float(cycles.median()) if cycles.notna().any() else np.nan,
            "top_lost_reasons": _top_reason_codes(reason_code[lost], reason_texts, language),
            "open_deals": int(open_.sum()), "open_amount": float(amount[open_].sum()),
            "open_weighted": float(weighted[open_].sum()),
            "strengths": known["strengths"].get(key) if key in known.index else None,
            "weaknesses": known["weaknesses"].get(key) if key in known.index else None,
        })
    table = pd.DataFrame(rows)
    table["win_rate"] = (table["won"] / table["met"].where(table["met"] > 0)).astype(float)
    table["ci_low"], table["ci_high"] = wilson_interval(table["won"], table["met"])
    table["_last"] = table["key"].eq(no_comp_key)
    table["_name"] = table["competitor"].str.casefold()
    table = table.sort_values(["_last", "met", "open_deals", "_name"], ascending=[True, False, False, True], kind="stable")
    for col in ("met", "won", "lost", "open_deals"):
        table[col] = table[col].astype(int)
    return table[HEAD_TO_HEAD_COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------------------------------
# Entry points


def check_importance_settings(settings: Settings, log: IssueLog) -> None:
    """With the important amount above the key amount no deal can be "important": say so once."""
    if settings.importance_important_amount > settings.importance_key_amount:
        log.add("settings", None, "importance_important_amount", settings.importance_important_amount,
                words("issue.setting.important_above_key", key_amount=f"{settings.importance_key_amount:g}"),
                words("issue.action.check_settings"))
