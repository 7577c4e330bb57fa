"""Per-deal win probability that explains itself: naive Bayes over the closed deals.

In the spirit of Odoo's predictive lead scoring. For every open deal the model starts
from the chance of winning at the furthest stage the deal has reached and adds, for each
of the deal's facts, how much more often that fact was seen among won deals than among
lost ones. Each addition is a log-likelihood ratio, so it is also the explanation:
"owner Li Wei: +" means deals of Li Wei were won more often than lost, "competitor
Huikang present: -" the reverse.

The facts (factors):
    stage reached        the furthest stage the deal reached (``funnel.forecast.stages.reached_order``)
    owner, team, source, product, industry, amount band
    competitor X         one yes/no factor per named competitor (the most frequent
                         ``MAX_COMPETITORS`` among closed deals; rarer ones are ignored)
    qualification        how many of the 6W+2P questions are answered, in bands
    MAN                  money, authority and need all confirmed, or not

How it is counted (Laplace smoothing, a = 1). Let W_s and L_s be the closed deals, won
and lost, that reached stage s (a won deal reached every open stage). The stage sets the
starting log odds, log((W_s + a) / (L_s + a)): the smoothed win rate of deals that got
that far. Each fact v of field f then adds log P(v | won) - log P(v | lost), with
P(v | won) = (won deals with v + a) / (won deals + a K_f), K_f = the number of values of f
seen among closed deals (2 for a competitor: present or not). A value never seen among
closed deals (a new owner) adds nothing, and a field every closed deal shares is left
out. Smoothing keeps every probability strictly between 0 and 1; the log odds are also
capped at +-30 so that rounding cannot make them 0 or 1.

Why frequencies over all closed deals, not within each stage: counting within the
stage would stop a fact that helps deals get further from counting twice, but it
splits small books into smaller samples. On the demo books the backtest (see
``funnel.winmodel.calibration``) scored the two alike at 3,000 deals and the all-deals counting
clearly better at 600-1,000 (mean Brier 0.148 against 0.161 on the six-step scheme with
600 deals), which is the size of a key-account book.

The probability used is the log odds' probability through a calibration map learned on
held-out deals (``funnel.winmodel.recalibration``): the factors explain the log odds, the
map corrects the overconfidence of counting correlated factors as independent.

Below ``settings.model_min_closed`` closed deals the model is not used: the model
probability is the stage probability and ``basis`` says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from funnel import catalog
from funnel.forecast.stages import reached_order
from funnel.inputs.contract import MAN_FLAGS, QUALIFICATION_6W2P
from funnel.inputs.keys import codes_and_labels, in_order_of_appearance, plain
from funnel.inputs.settings import Settings
from funnel.winmodel.recalibration import Calibration, probability_from_log_odds

__all__ = [
    "MAX_COMPETITORS",
    "MODEL_FIELDS",
    "QUALIFICATION_BANDS",
    "FieldEffects",
    "WinModel",
    "DealFacts",
    "deal_facts",
    "fact_columns",
    "factor_effects",
    "score_rows",
    "probability_from_log_odds",
    "fit_win_model",
    "score_deals",
    "model_probabilities",
    "deal_scores_table",
    "SCORE_COLUMNS",
    "DEAL_SCORE_COLUMNS",
]

# Competitors beyond the most frequent ones are too rare to learn from and would make
# the factor table as wide as a free-text column allows.
MAX_COMPETITORS = 30
# The categorical facts, in the order explanations list them when effects tie.
MODEL_FIELDS = ("owner", "team", "source", "product", "industry", "amount_band", "qualification", "man")
# Bands of the number of 6W+2P questions answered (of 8).
QUALIFICATION_BANDS = ((0, 2), (3, 4), (5, 6), (7, 8))
_TOP = 3

SCORE_COLUMNS = (
    "model_probability",
    "basis",
    "log_odds",
    "factors_for",
    "factors_against",
    *(f"{side}_{k}{suffix}" for side in ("for", "against") for k in range(1, _TOP + 1) for suffix in ("", "_effect")),
)


@dataclass(frozen=True)
class FieldEffects:
    """The effect of each value of one categorical fact."""

    values: pd.Index
    effect: np.ndarray  # (values,): log P(v | won) - log P(v | lost)


@dataclass
class WinModel:
    """A fitted naive Bayes win model (see the module docstring for the counting)."""

    closed_deals: int
    won_deals: int
    min_closed: int
    stage_codes: tuple[str, ...]
    stage_orders: np.ndarray
    base_log_odds: float
    stage_log_odds: np.ndarray  # (stages,)
    fields: dict[str, FieldEffects] = field(default_factory=dict)
    competitor_keys: tuple[str, ...] = ()
    competitor_names: tuple[str, ...] = ()
    competitor_present: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (competitors,)
    competitor_absent: np.ndarray = field(default_factory=lambda: np.zeros(0))
    alpha: float = 1.0
    # The map from the log odds' probability to the one used (``funnel.winmodel.recalibration``);
    # none as fitted: ``funnel.analysis`` sets the one the backtest picked.
    calibration: Calibration = field(default_factory=Calibration)

    @property
    def usable(self) -> bool:
        """True when enough deals have closed for the model to be used."""
        return self.closed_deals >= self.min_closed

    @property
    def basis(self) -> str:
        """``model``, or why the stage probability is used instead."""
        return self.basis_in("en")

    def basis_in(self, language: str) -> str:
        """``basis`` in ``language``."""
        if self.usable and self.calibration.method != "none":
            # The factors explain the log odds; the probability went through the map.
            return catalog.text("factor.basis.model_calibrated", language,
                                calibration=catalog.text(f"shown.calibration.{self.calibration.method}", language))
        if self.usable:
            return catalog.text("factor.basis.model", language)
        key = "factor.basis.stage_one" if self.closed_deals == 1 else "factor.basis.stage"
        return catalog.text(key, language, deals=self.closed_deals)

    def stage_index(self, orders: np.ndarray) -> np.ndarray:
        """The position in ``stage_codes`` of each stage order (orders must be open stages)."""
        idx = np.searchsorted(self.stage_orders, np.asarray(orders))
        return np.clip(idx, 0, len(self.stage_orders) - 1)


def _qualification_band(answered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Band position of each answered count, and the bands' names.
    total = len(QUALIFICATION_6W2P)
    names = np.array([f"{lo}-{hi} of {total} answered" for lo, hi in QUALIFICATION_BANDS], dtype=object)
    highs = np.array([hi for _, hi in QUALIFICATION_BANDS])
    return np.minimum(np.searchsorted(highs, answered, side="left"), len(highs) - 1), names


def _split_competitors(text: str) -> list[tuple[str, str]]:
    # "Huikang; Yongyou" -> [("huikang", "Huikang"), ("yongyou", "Yongyou")], no repeats.
    seen: dict[str, str] = {}
    for part in str(text).replace("；", ";").split(";"):
        name = part.strip()
        if name and name.casefold() not in seen:
            seen[name.casefold()] = name
    return list(seen.items())


@dataclass(frozen=True)
class DealFacts:
    """The model's facts of a set of deals, factorized (each distinct value handled once).

    ``fields`` maps each of ``MODEL_FIELDS`` to (codes, values): deal i has value
    ``values[codes[i]]``. Competitors: deal i names the competitors
    ``competitor_lists[competitor_codes[i]]`` (code -1: none), as (key, name) pairs with
    key the case-folded name.
    """

    fields: dict[str, tuple[np.ndarray, np.ndarray]]
    competitor_codes: np.ndarray
    competitor_lists: list[list[tuple[str, str]]]

    def __len__(self) -> int:
        return len(self.competitor_codes)

    def take(self, rows: np.ndarray) -> "DealFacts":
        """The facts of the given row positions (repeats allowed)."""
        return DealFacts(
            {name: (codes[rows], values) for name, (codes, values) in self.fields.items()},
            self.competitor_codes[rows],
            self.competitor_lists,
        )

    def presence(self, keys: tuple[str, ...]) -> np.ndarray:
        """(deals, len(keys)) yes/no: which of the competitors ``keys`` each deal names."""
        table = np.zeros((len(self.competitor_lists) + 1, len(keys)), dtype=bool)  # last row: names none
        column = {key: c for c, key in enumerate(keys)}
        for u, pairs in enumerate(self.competitor_lists):
            for key, _ in pairs:
                if key in column:
                    table[u, column[key]] = True
        return table[self.competitor_codes]

    def competitor_counts(self, rows: np.ndarray | None = None) -> pd.DataFrame:
        """Deals naming each competitor (among ``rows``, default all): key, name, deals."""
        codes = self.competitor_codes if rows is None else self.competitor_codes[rows]
        per_list = np.bincount(codes[codes >= 0], minlength=len(self.competitor_lists))
        counts: dict[str, list] = {}
        for u, pairs in enumerate(self.competitor_lists):
            for key, name in pairs:
                entry = counts.setdefault(key, [name, 0])
                entry[1] += int(per_list[u])
        frame = pd.DataFrame([(k, v[0], v[1]) for k, v in counts.items()], columns=["key", "name", "deals"])
        return frame[frame["deals"] > 0].reset_index(drop=True)


def fact_columns(deals: pd.DataFrame, *more: str) -> pd.DataFrame:
    """The columns of ``deals`` that ``deal_facts`` reads, and ``more``: a narrow frame is
    cheaper to cut into closed, open, training and test deals than the whole deal table."""
    wanted = [*more, *MODEL_FIELDS[:6], *QUALIFICATION_6W2P, *MAN_FLAGS, "competitors"]
    return deals[[c for c in dict.fromkeys(wanted) if c in deals.columns]]


def deal_facts(deals: pd.DataFrame) -> DealFacts:
    """The model's facts of each deal (see ``DealFacts``).

    Args:
        deals: the deal table (``funnel.forecast.deals.deal_table``); a blank owner, team, ...
            counts as the value ``(none)``.
    """
    fields = {}
    for name in MODEL_FIELDS[:6]:
        column = deals[name] if name in deals.columns else pd.Series(None, index=deals.index, dtype=object)
        fields[name] = _field_codes(column)
    answered = deals[list(QUALIFICATION_6W2P)].fillna(False).astype(bool).sum(axis=1).to_numpy()
    fields["qualification"] = _qualification_band(answered)
    man = deals[list(MAN_FLAGS)].fillna(False).astype(bool).all(axis=1).to_numpy()
    fields["man"] = (np.where(man, 0, 1), np.array(["MAN complete", "MAN incomplete"], dtype=object))
    # Distinct cells in order of first appearance: a competitor is named as first spelled.
    codes, texts = in_order_of_appearance(*codes_and_labels(deals["competitors"], sort=False))
    return DealFacts(fields, codes, [_split_competitors(t) for t in texts.tolist()])


def _field_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    # A field's (codes, values) from its key codes; a blank is the value "(none)".
    codes, values = codes_and_labels(column, sort=False)
    values = np.asarray([str(v) for v in values.tolist()], dtype=object)
    missing = codes < 0
    if missing.any():
        at = np.flatnonzero(values == "(none)")
        if not len(at):
            at, values = [len(values)], np.append(values, np.array(["(none)"], dtype=object))
        codes = np.where(missing, at[0], codes)
    return codes, values


def _reaching(counts_at: np.ndarray) -> np.ndarray:
    # Counts at the furthest stage -> counts of deals that reached at least each stage.
    return np.flip(np.cumsum(np.flip(counts_at, axis=0), axis=0), axis=0)


def _open_stage_orders(stages: pd.DataFrame) -> tuple[tuple[str, ...], np.ndarray]:
    open_stages = stages[~(stages["is_won"] | stages["is_lost"])].sort_values("order")
    if open_stages.empty:
        raise ValueError("the stage scheme has no open stage")
    return tuple(open_stages["code"]), open_stages["order"].to_numpy(dtype=int)


def fit_win_model(
    deals: pd.DataFrame,
    history: pd.DataFrame,
    stages: pd.DataFrame,
    settings: Settings,
    alpha: float = 1.0,
    reached: pd.Series | None = None,
    facts: DealFacts | None = None,
) -> WinModel:
    """Learn the win model from the closed deals.

    Args:
        deals: the deal table (``deal_table``); only its won and lost deals are used.
        history: validated stage history (for how far each deal got).
        stages: the stage scheme.
        settings: for ``model_min_closed``.
        alpha: additive (Laplace) smoothing; 1 adds one imaginary deal per value.
        reached: ``reached_order(deals, history, stages)`` when already computed.
        facts: ``deal_facts(deals)`` when already computed (the backtest factorizes the
            closed deals once and takes each fold's rows).

    Returns:
        The fitted model; ``model.usable`` is False below ``model_min_closed`` closed deals.

    Raises:
        ValueError: the scheme has no open stage.
    """
    codes, orders = _open_stage_orders(stages)
    n_stages = len(orders)
    closed_mask = (deals["is_won"] | deals["is_lost"]).to_numpy(dtype=bool)
    closed = fact_columns(deals, "id", "stage", "is_won", "is_lost")[closed_mask]
    won = closed["is_won"].to_numpy(dtype=bool)
    n_won, n_closed = int(won.sum()), len(closed)
    base = float(np.log((n_won + alpha) / (n_closed - n_won + alpha)))
    model = WinModel(
        closed_deals=n_closed,
        won_deals=n_won,
        min_closed=settings.model_min_closed,
        stage_codes=codes,
        stage_orders=orders,
        base_log_odds=base,
        stage_log_odds=np.full(n_stages, base),
        alpha=alpha,
    )
    if n_closed == 0:
        return model
    reached = reached_order(closed, history, stages).to_numpy() if reached is None else reached.to_numpy()[closed_mask]
    s_idx = model.stage_index(reached)
    won_at = _reaching(np.bincount(s_idx[won], minlength=n_stages).astype(float))
    lost_at = _reaching(np.bincount(s_idx[~won], minlength=n_stages).astype(float))
    model.stage_log_odds = np.log((won_at + alpha) / (lost_at + alpha))

    facts = deal_facts(closed) if facts is None else facts.take(np.flatnonzero(closed_mask))
    for name in MODEL_FIELDS:
        value_codes, values = facts.fields[name]
        # Only values some closed deal has count (the bands list them all); codes are small
        # non-negative integers, so counting finds them without a sort.
        present = np.bincount(value_codes, minlength=len(values)) > 0
        seen, dense = np.flatnonzero(present), (np.cumsum(present) - 1)[value_codes]
        k = len(seen)
        if k < 2:
            continue  # a fact every closed deal shares tells nothing
        n_w = np.bincount(dense[won], minlength=k)
        n_l = np.bincount(dense[~won], minlength=k)
        effect = np.log((n_w + alpha) / (n_won + alpha * k)) - np.log((n_l + alpha) / (n_closed - n_won + alpha * k))
        model.fields[name] = FieldEffects(values=pd.Index(values[seen]), effect=effect)

    counts = facts.competitor_counts()
    if not counts.empty:
        frequent = counts.sort_values("deals", ascending=False, kind="stable").head(MAX_COMPETITORS)
        keys = tuple(frequent["key"])
        present = facts.presence(keys)
        w_p = present[won].sum(axis=0)
        l_p = present[~won].sum(axis=0)
        n_lost = n_closed - n_won
        denom_w, denom_l = n_won + 2 * alpha, n_lost + 2 * alpha
        model.competitor_keys = keys
        model.competitor_names = tuple(frequent["name"])
        model.competitor_present = np.log((w_p + alpha) / denom_w) - np.log((l_p + alpha) / denom_l)
        model.competitor_absent = np.log((n_won - w_p + alpha) / denom_w) - np.log((n_lost - l_p + alpha) / denom_l)
    return model


def _value_names(name: str, values: np.ndarray, language: str) -> np.ndarray:
    # The readable name of each value of a field ("owner Li Wei", "MAN complete").
    if name == "qualification":  # the bands, in QUALIFICATION_BANDS order
        total = len(QUALIFICATION_6W2P)
        return np.asarray([catalog.text("factor.qualification", language, low=lo, high=hi, total=total)
                           for lo, hi in QUALIFICATION_BANDS[:len(values)]], dtype=object)
    if name == "man":  # complete, incomplete
        return np.asarray([catalog.text(f"factor.man.{state}", language) for state in ("complete", "incomplete")][:len(values)],
                          dtype=object)
    none = catalog.text("label.marker.no_account", language)
    return np.asarray([catalog.text(f"factor.{name}", language, value=none if v == "(none)" else v) for v in values], dtype=object)


def factor_effects(model: WinModel, facts: DealFacts, stage_idx: np.ndarray,
                   language: str = "en") -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """The effect of every factor on every row, and each row's value of each factor.

    Args:
        model: a fitted model.
        facts: ``deal_facts`` of the rows.
        stage_idx: each row's stage position in ``model.stage_codes``.
        language: the language of the factors' names.

    Returns:
        (effects, labels). effects: (rows, factors) log-likelihood ratios; column 0 is the
        stage (its log odds minus the overall log odds), then one column per field the
        model learned, then one per competitor; ``model.base_log_odds +
        effects.sum(axis=1)`` is each row's log odds. labels: per factor (codes, names),
        the readable name of row i's value being ``names[codes[i]]``.
    """
    rows = len(stage_idx)
    columns = [model.stage_log_odds[stage_idx] - model.base_log_odds]
    labels = [(stage_idx, np.array([catalog.text("factor.stage", language, stage=code) for code in model.stage_codes],
                                   dtype=object))]
    for name, table in model.fields.items():
        value_codes, values = facts.fields[name]
        known = table.values.get_indexer(values)  # each distinct value's column, -1 if never seen
        column = known[value_codes] if len(known) else np.full(rows, -1)
        seen = column >= 0
        effect = np.zeros(rows)
        effect[seen] = table.effect[column[seen]]
        columns.append(effect)
        labels.append((value_codes, _value_names(name, values, language)))
    if model.competitor_keys:
        present = facts.presence(model.competitor_keys)
        for c, shown in enumerate(model.competitor_names):
            columns.append(np.where(present[:, c], model.competitor_present[c], model.competitor_absent[c]))
            names = np.array([catalog.text(f"factor.competitor.{state}", language, competitor=shown)
                              for state in ("present", "absent")], dtype=object)
            labels.append((np.where(present[:, c], 0, 1), names))
    return np.column_stack(columns), labels


def _strongest(effects: np.ndarray, labels: list[tuple[np.ndarray, np.ndarray]], sign: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    # The _TOP factors pushing most strongly in the direction of ``sign`` (+1 for, -1 against).
    rows, factors = effects.shape
    # All factors' names in one table; row i's name of factor j is names[offset[j] + codes_j[i]].
    offsets = np.cumsum([0] + [len(names) for _, names in labels[:-1]])
    all_names = np.concatenate([names for _, names in labels])
    global_code = np.stack([offsets[j] + codes for j, (codes, _) in enumerate(labels)])  # (factors, rows)
    # Stable sort on the signed effect keeps the factor order for ties.
    order = np.argsort(-sign * effects, axis=1, kind="stable")[:, :_TOP]
    picked = np.take_along_axis(effects, order, axis=1)
    arange = np.arange(rows)
    names, values = [], []
    for k in range(_TOP):
        if k >= factors:
            names.append(np.full(rows, None, dtype=object))
            values.append(np.full(rows, np.nan))
            continue
        valid = sign * picked[:, k] > 1e-12
        names.append(np.where(valid, all_names[global_code[order[:, k], arange]], None))
        values.append(np.where(valid, picked[:, k], np.nan))
    return names, values


def _joined(names: list[np.ndarray], mark: str) -> np.ndarray:
    # "owner Li Wei: +; source Referral: +" from the per-slot names (None = no factor).
    rows = len(names[0])
    out = np.full(rows, "", dtype=object)
    for slot in names:
        has = pd.notna(slot)
        text = np.full(rows, "", dtype=object)
        text[has] = slot[has] + f": {mark}"
        sep = np.full(rows, "", dtype=object)
        sep[has & (out != "")] = "; "
        out = out + sep + text
    return out


def score_rows(model: WinModel, facts: DealFacts, stage_idx: np.ndarray, explain: bool = True,
               language: str = "en") -> pd.DataFrame:
    """Score rows given their facts and stage positions (used by ``score_deals`` and the backtest).

    Args:
        model: a fitted model (used whatever its ``usable`` flag says).
        facts: ``deal_facts`` of the rows.
        stage_idx: each row's stage position in ``model.stage_codes``.
        explain: also name the strongest factors (costs time; the backtest skips it).
        language: the language they are named in.

    Returns:
        model_probability, log_odds and, with ``explain``, the factor columns of
        ``SCORE_COLUMNS``; one row per row of ``facts`` (a RangeIndex). log_odds and the
        factors' effects are the naive Bayes sums; model_probability is their probability
        through ``model.calibration`` (a non-decreasing map: a factor for still raises it,
        a factor against lowers it, Platt by its slope a times the effect in log odds).
    """
    effects, labels = factor_effects(model, facts, stage_idx, language)
    log_odds = model.base_log_odds + effects.sum(axis=1)
    out = {"model_probability": model.calibration.apply(probability_from_log_odds(log_odds)), "log_odds": log_odds}
    if explain:
        for side, sign, mark in (("for", 1, "+"), ("against", -1, "-")):
            slot_names, slot_values = _strongest(effects, labels, sign)
            out[f"factors_{side}"] = _joined(slot_names, mark)
            for k in range(_TOP):
                out[f"{side}_{k + 1}"] = slot_names[k]
                out[f"{side}_{k + 1}_effect"] = slot_values[k]
    return pd.DataFrame(out)


def score_deals(
    model: WinModel,
    deals: pd.DataFrame,
    history: pd.DataFrame,
    stages: pd.DataFrame,
    reached: pd.Series | None = None,
    language: str = "en",
) -> pd.DataFrame:
    """Model probability and its explanation for every open deal.

    Args:
        model: from ``fit_win_model``.
        deals: the deal table (``deal_table``).
        history: validated stage history (the furthest stage reached is a factor).
        stages: the stage scheme.
        reached: ``reached_order(deals, history, stages)`` when already computed.
        language: the language of the basis and the factors.

    Returns:
        A frame indexed like ``deals`` with ``SCORE_COLUMNS``: model_probability (blank for
        closed deals), basis (``model`` or ``stage (only N closed deals)``), log_odds,
        factors_for / factors_against (the three strongest as text, e.g.
        ``owner Li Wei: +; source Referral: +``), and each factor's name and effect
        (for_1, for_1_effect, ...; effects are log-likelihood ratios, in log odds).
        Below the model's minimum the model probability is the deal's stage probability
        and the factor columns are blank.
    """
    is_open = deals["is_open"].to_numpy(dtype=bool)
    n = len(deals)
    out = {col: np.full(n, np.nan) if col.endswith("_effect") or col in ("model_probability", "log_odds") else np.full(n, None, dtype=object)
           for col in SCORE_COLUMNS}
    out["basis"] = np.full(n, model.basis_in(language), dtype=object)
    out["factors_for"] = np.full(n, "", dtype=object)
    out["factors_against"] = np.full(n, "", dtype=object)
    if not model.usable:
        out["model_probability"] = np.where(is_open, deals["stage_probability"].to_numpy(dtype=float), np.nan)
    elif is_open.any():
        open_deals = fact_columns(deals, "id", "stage")[is_open]
        orders = reached_order(open_deals, history, stages).to_numpy() if reached is None else reached.to_numpy()[is_open]
        scored = score_rows(model, deal_facts(open_deals), model.stage_index(orders), language=language)
        for col in scored.columns:
            column = out[col]
            column[is_open] = scored[col].to_numpy()
    # Text stays plain objects here: typing a text column (pandas' string inference) costs a
    # pass over every row, and only the open deals' rows are shown (``deal_scores_table``).
    out = {col: pd.Series(values, index=deals.index, dtype=object) if values.dtype == object else values
           for col, values in out.items()}
    return pd.DataFrame(out, index=deals.index, columns=list(SCORE_COLUMNS))


def model_probabilities(model: WinModel, deals: pd.DataFrame, reached: pd.Series) -> pd.Series | None:
    """The model's win probability of each deal, for ``deal_table(probability=...)``.

    Args:
        model: from ``fit_win_model``.
        deals: the deal table (``deal_table``).
        reached: ``reached_order`` of the same deals.

    Returns:
        A Series indexed like ``deals`` (blank for closed deals), or None when the model
        has not learned enough (fewer than ``settings.model_min_closed`` closed deals): the
        stage probability is used.
    """
    if not model.usable:
        return None
    is_open = deals["is_open"].to_numpy(dtype=bool)
    probability = np.full(len(deals), np.nan)
    if is_open.any():
        facts = deal_facts(fact_columns(deals)[is_open])
        scored = score_rows(model, facts, model.stage_index(reached.to_numpy()[is_open]), explain=False)
        probability[is_open] = scored["model_probability"].to_numpy()
    return pd.Series(probability, index=deals.index, name="model_probability")


DEAL_SCORE_COLUMNS = (
    "id",
    "account",
    "name",
    "owner",
    "stage",
    "amount",
    "stage_probability",
    "model_probability",
    "used_probability",
    "basis",
    "factors_for",
    "factors_against",
    *SCORE_COLUMNS[5:],
)


def _typed(shown: pd.Series, whole: pd.Series) -> pd.Series | np.ndarray:
    # A text column of ``score_deals`` typed as pandas types text built from it (its
    # string dtype, where pandas has one), looking only at the rows shown: the whole
    # column would be typed alike, since the rows left out hold text or nothing.
    if shown.dtype != object:
        return shown
    values = shown.to_numpy()
    if pd.notna(values).any() or not whole.notna().any():
        return values  # typed as the table is built
    return pd.Series(values, index=shown.index, dtype=pd.Series(np.array([""], dtype=object)).dtype)


def deal_scores_table(deals: pd.DataFrame, scores: pd.DataFrame, health: pd.DataFrame | None = None) -> pd.DataFrame:
    """The "Deal scores" output: one row per open deal, in the deals' order.

    Args:
        deals: the deal table (``deal_table``).
        scores: ``score_deals`` output for the same deals.
        health: ``funnel.forecast.health.deal_health`` output for the same deals (its columns are
            appended), or None.

    Returns:
        ``DEAL_SCORE_COLUMNS`` (id, account, name, owner, stage, amount, stage_probability,
        model_probability, used_probability, basis, factors_for, factors_against, the
        three strongest factors each way with their effects) plus the health columns.
    """
    is_open = deals["is_open"].to_numpy(dtype=bool)
    base = plain(deals.loc[is_open, ["id", "account", "name", "owner", "stage", "amount", "stage_probability", "used_probability"]])
    shown = scores.loc[is_open, list(SCORE_COLUMNS)].drop(columns=["log_odds"])
    table = base.join(pd.DataFrame({col: _typed(values, scores[col]) for col, values in shown.items()}, index=shown.index))
    if health is not None:
        table = table.join(health.loc[is_open])
    columns = [*DEAL_SCORE_COLUMNS, *([] if health is None else list(health.columns))]
    return table[columns].reset_index(drop=True)
