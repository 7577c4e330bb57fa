"""Qualifying deals and grading accounts, the course's way.

Per deal (from the opportunities' yes/no columns and dates):

- **5W+2P / 6W+2P**: how many of the seven (eight, with "why us") questions are answered,
  and which are not, as readable questions in the workbook's language.
- **MAN**: money, authority and need must all be there; what is missing.
- **Go/no-go**: the four questions (is there an opportunity, do we have a solution, can
  we win, is it worth winning). The columns are blank flags when a book does not use them,
  so they are shown only when at least one deal in the book answers one of them yes.
- **Urgency** from the expected decision date (close_date) against the as-of date:
  eager (渴望型) when it falls within one calendar month (on or before the same day next
  month), hopeful (有望型) within two, watching (观望型) within three, later beyond that;
  overdue when the date has passed, none when there is no date.
- **Importance** by amount: key (关键) at or above ``importance_key_amount``, important
  (重要) at or above ``importance_important_amount``, general (一般) below, none without
  an amount.

Per account (from every deal of the account):

- **80/20**: accounts ranked by won amount; ``cumulative_share`` is the running share of
  the won amount of all named accounts; ``in_top_80`` marks the accounts needed to reach
  80% of it (the account that crosses 80% is in). Accounts that never won are never in.
- **Star grade** (five to two stars), a rule from revenue and win history:

      5 stars  in the top-80% group and won at least 2 deals (a repeat buyer that
               carries the business: build a long-term strategic partner)
      4 stars  in the top-80% group with one won deal, or outside it with at least
               2 won deals (cultivate for loyalty)
      3 stars  won one deal outside the top group, or no closed deal yet (keep the
               relationship; not enough history to judge)
      2 stars  closed deals, none won (may be dropped, as the course allows)

  Deals without an account are grouped under ``(none)``: counted, never graded or ranked.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from funnel import catalog
from funnel.forecast.deals import NONE_LABEL
from funnel.inputs.contract import GO_NO_GO_FLAGS, MAN_FLAGS, QUALIFICATION_5W2P, QUALIFICATION_6W2P
from funnel.inputs.keys import codes_and_labels, filled, plain, positions
from funnel.inputs.settings import Settings
from funnel.methods.labels import label, localize, normalize_language

__all__ = [
    "TOP_SHARE",
    "question_completeness",
    "man_gate",
    "go_no_go",
    "urgency",
    "days_to_close",
    "importance",
    "account_grades",
    "star_grade",
    "qualification_table",
    "qualification_columns",
    "join_labels",
]

# The Pareto cut: the accounts that together make this share of the won amount.
TOP_SHARE = 0.8

QUALIFICATION_COLUMNS = (
    "days_to_close",
    "urgency",
    "importance",
    "answered_5w2p",
    "completeness_5w2p",
    "answered_6w2p",
    "completeness_6w2p",
    "man_ok",
    "man_missing_count",
    "go_yes",
    "go_ok",
    "account_stars",
    "account_in_top_80",
)


def join_labels(items: list[str], language: str) -> str:
    """Join labels into one cell.

    Args:
        items: the labels, in the order to show.
        language: ``en`` joins with ``"; "``, ``zh-CN`` with ``"；"``.

    Returns:
        One text; empty for no items.
    """
    return catalog.text("separator.list", normalize_language(language)).join(items)


def _flags(deals: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    # Flag columns as booleans; a column the table lacks reads as all no.
    out = pd.DataFrame(index=deals.index)
    for col in columns:
        out[col] = deals[col].fillna(False).astype(bool) if col in deals.columns else False
    return out


def _missing_text(flags: pd.DataFrame, kind: str, language: str) -> pd.Series:
    # The labels of the flags that are no, per row, in column order. Rows share at most
    # 2^8 patterns, so each pattern's text is built once and looked up by its bit code.
    names = [label(kind, col, language) for col in flags.columns]
    missing = ~flags.to_numpy(dtype=bool)
    code = missing.astype(np.int64) @ (1 << np.arange(missing.shape[1], dtype=np.int64))
    patterns, which = np.unique(code, return_inverse=True)
    text = np.array([join_labels([n for i, n in enumerate(names) if c >> i & 1], language) for c in patterns.tolist()]
                    + [""], dtype=object)  # the spare "" keeps an empty table's lookup an object array
    return pd.Series(text[which.reshape(-1)], index=flags.index, dtype=object)


def _localize_distinct(values: pd.Series, kind: str, language: str) -> pd.Series:
    # ``localize`` once per distinct code: big tables repeat a handful of codes.
    codes, uniques = pd.factorize(values.astype(object))
    labels = np.array(list(localize(pd.Series(np.asarray(uniques, dtype=object), dtype=object), kind, language)) + [None],
                      dtype=object)
    return pd.Series(labels[codes], index=values.index, dtype=object)


def question_completeness(deals: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """How much of 5W+2P and 6W+2P each deal has answered.

    Args:
        deals: deals with the ``q_*`` yes/no columns (missing columns read as no).
        language: language of the ``unanswered`` text.

    Returns:
        Indexed like ``deals``: answered_5w2p (0..7), completeness_5w2p (answered / 7),
        answered_6w2p (0..8), completeness_6w2p (answered / 8), unanswered (the 6W+2P
        questions not answered, as readable questions joined in one cell).
    """
    flags = _flags(deals, QUALIFICATION_6W2P)
    five = flags[list(QUALIFICATION_5W2P)].sum(axis=1).astype(int)
    six = flags.sum(axis=1).astype(int)
    return pd.DataFrame(
        {
            "answered_5w2p": five,
            "completeness_5w2p": five / len(QUALIFICATION_5W2P),
            "answered_6w2p": six,
            "completeness_6w2p": six / len(QUALIFICATION_6W2P),
            "unanswered": _missing_text(flags, "question", language),
        },
        index=deals.index,
    )


def man_gate(deals: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """The MAN gate: money, authority and need must all be present.

    Args:
        deals: deals with ``man_money``, ``man_authority``, ``man_need`` (missing read as no).
        language: language of the ``man_missing`` text.

    Returns:
        Indexed like ``deals``: man_ok (all three present), man_missing_count (0..3),
        man_missing (what is missing, readable).
    """
    flags = _flags(deals, MAN_FLAGS)
    return pd.DataFrame(
        {
            "man_ok": flags.all(axis=1),
            "man_missing_count": (~flags).sum(axis=1).astype(int),
            "man_missing": _missing_text(flags, "man", language),
        },
        index=deals.index,
    )


def go_no_go(deals: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """The four go/no-go questions, when the book uses them.

    A book uses them when at least one of its deals answers one of them yes; otherwise
    all four columns are blank flags and the result is blank rather than "no-go".

    Args:
        deals: deals with ``go_real``, ``go_solution``, ``go_win``, ``go_worth``.
        language: language of the ``go_missing`` text.

    Returns:
        Indexed like ``deals``: go_yes (0..4, nullable), go_ok (all four yes, nullable),
        go_missing (the questions not answered yes).
    """
    flags = _flags(deals, GO_NO_GO_FLAGS)
    used = bool(flags.to_numpy().any())
    if not used:
        return pd.DataFrame(
            {
                "go_yes": pd.Series(pd.NA, index=deals.index, dtype="Int64"),
                "go_ok": pd.Series(pd.NA, index=deals.index, dtype="boolean"),
                "go_missing": pd.Series(None, index=deals.index, dtype=object),
            }
        )
    return pd.DataFrame(
        {
            "go_yes": flags.sum(axis=1).astype("Int64"),
            "go_ok": flags.all(axis=1).astype("boolean"),
            "go_missing": _missing_text(flags, "go", language),
        },
        index=deals.index,
    )


def days_to_close(close_date: pd.Series, as_of: dt.date) -> pd.Series:
    """Days from the as-of date to each expected close date.

    Args:
        close_date: expected close dates.
        as_of: the day the figures are as of.

    Returns:
        Whole days (Int64): negative when overdue, blank without a date.
    """
    dates = pd.to_datetime(close_date)
    return (dates - pd.Timestamp(as_of)).dt.days.astype("Int64")


def urgency(close_date: pd.Series, as_of: dt.date) -> pd.Series:
    """Urgency code of each expected decision date.

    Args:
        close_date: expected decision (close) dates.
        as_of: the day the figures are as of.

    Returns:
        Codes: ``eager`` (on or before as-of + 1 calendar month), ``hopeful`` (+2),
        ``watching`` (+3), ``later`` (beyond), ``overdue`` (before as-of), ``none`` (no date).
    """
    dates = pd.to_datetime(close_date)
    today = pd.Timestamp(as_of)
    limits = [today + pd.DateOffset(months=m) for m in (1, 2, 3)]
    conditions = [
        dates.isna().to_numpy(),
        (dates < today).to_numpy(),
        (dates <= limits[0]).to_numpy(),
        (dates <= limits[1]).to_numpy(),
        (dates <= limits[2]).to_numpy(),
    ]
    codes = np.select(conditions, ["none", "overdue", "eager", "hopeful", "watching"], default="later")
    return pd.Series(codes.astype(object), index=close_date.index, dtype=object)


def importance(amount: pd.Series, key_amount: float, important_amount: float) -> pd.Series:
    """Importance code of each amount.

    Args:
        amount: deal amounts.
        key_amount: at or above this a deal is ``key``.
        important_amount: at or above this (and below key) it is ``important``.

    Returns:
        Codes ``key``, ``important``, ``general``, or ``none`` for a blank amount.
    """
    values = pd.to_numeric(amount, errors="coerce")
    conditions = [values.isna().to_numpy(), (values >= key_amount).to_numpy(), (values >= important_amount).to_numpy()]
    codes = np.select(conditions, ["none", "key", "important"], default="general")
    return pd.Series(codes.astype(object), index=amount.index, dtype=object)


def star_grade(in_top: pd.Series, won_deals: pd.Series, lost_deals: pd.Series) -> pd.Series:
    """Star grade (5..2) of accounts from the 80/20 group and their win history.

    Args:
        in_top: the account is in the group making 80% of the won amount.
        won_deals: deals won with the account.
        lost_deals: deals lost with the account.

    Returns:
        5, 4, 3 or 2 (see the module docstring for the rule), as Int64.
    """
    top = in_top.to_numpy(dtype=bool)
    won = won_deals.to_numpy(dtype=float)
    lost = lost_deals.to_numpy(dtype=float)
    stars = np.select(
        [top & (won >= 2), top | (won >= 2), won >= 1, lost >= 1],
        [5, 4, 3, 2],
        default=3,  # nothing closed yet: keep the relationship until there is history
    )
    return pd.Series(stars, index=in_top.index, dtype="Int64")


def account_grades(deals: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """Per account: revenue, history, 80/20 position and star grade.

    Args:
        deals: the deal table (``deal_table``): account, amount, is_open, is_won, is_lost.
        language: language of ``stars_label``.

    Returns:
        One row per account, ranked by won amount (highest first; ``(none)`` last):
        account, deals, open_deals, open_amount, won_deals, lost_deals, won_amount,
        lost_amount, win_rate (won / closed; blank with nothing closed), revenue_rank,
        revenue_share, cumulative_share, in_top_80, stars, stars_label.
    """
    columns = ["account", "deals", "open_deals", "open_amount", "won_deals", "lost_deals", "won_amount", "lost_amount",
               "win_rate", "revenue_rank", "revenue_share", "cumulative_share", "in_top_80", "stars", "stars_label"]
    if deals.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    amount = deals["amount"].astype(float).fillna(0.0)
    # Grouped on the account's integer codes (in text order), labelled afterwards.
    account_code, account_names = codes_and_labels(filled(deals["account"], NONE_LABEL))
    frame = pd.DataFrame(
        {
            "account": account_code,
            "deals": 1,
            "open_deals": deals["is_open"].astype(int).to_numpy(),
            "open_amount": amount.where(deals["is_open"], 0.0).to_numpy(),
            "won_deals": deals["is_won"].astype(int).to_numpy(),
            "lost_deals": deals["is_lost"].astype(int).to_numpy(),
            "won_amount": amount.where(deals["is_won"], 0.0).to_numpy(),
            "lost_amount": amount.where(deals["is_lost"], 0.0).to_numpy(),
        }
    )
    table = frame[account_code >= 0].groupby("account", sort=True).sum()
    table.index = pd.Index(account_names[table.index.to_numpy()], name="account")
    table = table.reset_index()
    closed = table["won_deals"] + table["lost_deals"]
    table["win_rate"] = (table["won_deals"] / closed.where(closed > 0)).astype(float)
    named = table["account"] != NONE_LABEL
    # Rank named accounts by won amount; ties by name so the order is stable.
    table = (table.assign(_named=named)
             .sort_values(["_named", "won_amount", "account"], ascending=[False, False, True], kind="stable")
             .drop(columns="_named").reset_index(drop=True))
    named = table["account"] != NONE_LABEL
    total = float(table.loc[named, "won_amount"].sum())
    rank = pd.Series(pd.NA, index=table.index, dtype="Int64")
    rank[named] = np.arange(1, int(named.sum()) + 1)
    table["revenue_rank"] = rank
    if total > 0:
        share = table["won_amount"].where(named) / total
        cumulative = share.where(named).cumsum().where(named)
        before = cumulative - share
        # The account that crosses 80% is in; tolerance keeps 0.8000000001 from excluding it.
        in_top = named & (table["won_amount"] > 0) & (before < TOP_SHARE - 1e-12)
    else:
        share = pd.Series(np.nan, index=table.index)
        cumulative = share.copy()
        in_top = pd.Series(False, index=table.index)
    table["revenue_share"] = share.astype(float)
    table["cumulative_share"] = cumulative.astype(float)
    table["in_top_80"] = in_top.astype(bool)
    stars = star_grade(table["in_top_80"], table["won_deals"], table["lost_deals"])
    stars[~named] = pd.NA
    table["stars"] = stars
    table["stars_label"] = _localize_distinct(table["stars"], "stars", language)
    for col in ("deals", "open_deals", "won_deals", "lost_deals"):
        table[col] = table[col].astype(int)
    return table[columns]


def qualification_columns(deals: pd.DataFrame, settings: Settings, accounts: pd.DataFrame | None = None) -> pd.DataFrame:
    """Qualification figures for every deal, indexed like ``deals`` (for the deal scores).

    Urgency and days to close are blank for closed deals: a closed deal waits for no decision.

    Args:
        deals: the deal table.
        settings: as_of, importance thresholds, language.
        accounts: ``account_grades(deals)`` when already computed.

    Returns:
        days_to_close, urgency, importance, answered_5w2p, completeness_5w2p, answered_6w2p,
        completeness_6w2p, man_ok, man_missing_count, go_yes, go_ok, account_stars,
        account_in_top_80, and the readable unanswered, man_missing, go_missing.
    """
    language = settings.language
    if accounts is None:
        accounts = account_grades(deals, language)
    is_open = deals["is_open"].to_numpy(dtype=bool) if "is_open" in deals.columns else np.ones(len(deals), dtype=bool)
    out = pd.DataFrame(index=deals.index)
    out["days_to_close"] = days_to_close(deals["close_date"], settings.as_of).where(is_open)
    out["urgency"] = urgency(deals["close_date"], settings.as_of).where(is_open, None)
    out["importance"] = importance(deals["amount"], settings.importance_key_amount, settings.importance_important_amount)
    out = out.join(question_completeness(deals, language)).join(man_gate(deals, language)).join(go_no_go(deals, language))
    by_account = accounts.set_index("account")
    account = filled(deals["account"], NONE_LABEL) if "account" in deals.columns else pd.Series(NONE_LABEL, index=deals.index)
    # Each deal's account row, looked up once per distinct account.
    row = positions(by_account.index, account)
    out["account_stars"] = pd.Series(by_account["stars"].astype("Int64").array.take(row, allow_fill=True), index=deals.index)
    out["account_in_top_80"] = np.append(by_account["in_top_80"].fillna(False).to_numpy(dtype=bool), False)[row]
    return out


def qualification_table(deals: pd.DataFrame, settings: Settings, per_deal: pd.DataFrame | None = None) -> pd.DataFrame:
    """The qualification table: one row per open deal, most urgent first.

    Args:
        deals: the deal table.
        settings: as_of, importance thresholds, language.
        per_deal: ``qualification_columns(deals, settings)`` when already computed.

    Returns:
        id, account, name, owner, stage, amount, close_date, days_to_close, urgency,
        urgency_label, importance, importance_label, answered_5w2p, completeness_5w2p,
        answered_6w2p, completeness_6w2p, unanswered, man_ok, man_missing, go_yes, go_ok,
        go_missing, account_stars, account_in_top_80. Sorted by days to close (no date last).
    """
    language = settings.language
    columns = ["id", "account", "name", "owner", "stage", "amount", "close_date", "days_to_close", "urgency",
               "urgency_label", "importance", "importance_label", "answered_5w2p", "completeness_5w2p",
               "answered_6w2p", "completeness_6w2p", "unanswered", "man_ok", "man_missing", "go_yes", "go_ok",
               "go_missing", "account_stars", "account_in_top_80"]
    open_deals = deals[deals["is_open"]]
    cols = (qualification_columns(deals, settings) if per_deal is None else per_deal).loc[open_deals.index]
    table = plain(open_deals.reindex(columns=["id", "account", "name", "owner", "stage", "amount", "close_date"])).join(cols)
    table["urgency_label"] = _localize_distinct(table["urgency"], "urgency", language)
    table["importance_label"] = _localize_distinct(table["importance"], "importance", language)
    table = table.sort_values(["days_to_close", "id"], na_position="last", kind="stable")
    return table[columns].reset_index(drop=True)
