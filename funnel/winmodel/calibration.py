"""Calibration: would these probabilities have been right? A backtest with a time split.

The deals closed before a cut-off date teach; the deals closed on or after it are
predicted and scored. Default cut-off: the close date at the 70th percentile of the
closed deals' close dates ("lower" rule: an actual close date), so roughly 70% teach and
30% are predicted.

What a prediction may use (leakage). A closed deal's furthest stage is known only
because it closed: a won deal has by definition passed every stage. So test deals are
not scored at their furthest stage. Instead each test deal is predicted once per stage
it is *recorded* to have entered, as of that entry: a snapshot (deal, stage) uses only
the stage and the deal's facts (owner, source, competitors, ...), never its outcome. A
snapshot exists for every stage the deal's stage history shows it entering, and for the
first stage (every deal starts in the funnel); without history a deal gives only that
first-stage snapshot. A won deal without history is *not* credited with the later
stages it must have passed, because that credit would leak its outcome.

Limits stated plainly: (1) deal facts are read as they stand today; a CRM that fills in
fields after the outcome (a lost reason, a competitor named at the loss, an amount
blanked on loss) leaks, and no backtest can see that without field history; (2) a
snapshot taken before the cut-off is scored by a model that also learned from deals
that closed between the snapshot and the cut-off, i.e. slightly later knowledge, never
the deal's own outcome.

Methods compared: ``configured`` (the scheme's stage probabilities), ``empirical``
(won / closed among training deals that reached the stage; the configured value where
no training deal did), ``blended`` (the two mixed with ``prior_strength``), ``model``
(the naive Bayes model of ``funnel.winmodel.model`` fitted on the training deals; below
``model_min_closed`` training deals it falls back to the stage probability of
``probability_method`` and says so in ``note``), ``model_platt`` and ``model_isotonic``
(the model's probabilities through a Platt or isotonic map learned on held-out deals:
the training deals are dealt into ``FOLDS`` folds in close-date order (1st, 4th, 7th, ...
closed deal in fold 0, and so on), each fold's snapshots are predicted by a model learned
from the other folds, and the maps are fitted on those out-of-fold predictions; no map
sees a test deal's outcome: ``funnel.winmodel.recalibration``).
``calibration`` names the map the backtest scores best (none where neither beats the
raw model); the forecast's model uses that map (``funnel.analysis``), so the choice of
method compares the model as the forecast uses it (``model_method``).

Scores: Brier score (mean squared error of the probability; lower is better; always
predicting 0.5 scores 0.25) and log loss (mean of -log of the probability given to what
happened; probabilities are clipped to [1e-15, 1 - 1e-15] so a configured 0 or 1 stays
finite). Reliability: predictions in ten equal-width bins (0-0.1, ..., 0.9-1.0), the mean
prediction against the observed win rate in each bin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from funnel import catalog
from funnel.forecast.stages import HistoryKeys, reached_order, stage_probabilities
from funnel.inputs.schemes import stage_positions
from funnel.inputs.settings import Settings
from funnel.winmodel.model import DealFacts, deal_facts, fact_columns, fit_win_model, score_rows
from funnel.winmodel.recalibration import CALIBRATORS, Calibration, fit_calibration, pick

__all__ = [
    "METHODS",
    "FOLDS",
    "CALIBRATION_COLUMNS",
    "RELIABILITY_COLUMNS",
    "default_cutoff",
    "snapshots",
    "brier_score",
    "log_loss",
    "reliability_table",
    "backtest",
    "Fitted",
    "Learner",
    "naive_bayes",
    "BacktestPredictions",
    "backtest_predictions",
    "backtest_tables",
]

METHODS = ("configured", "empirical", "blended", "model", "model_platt", "model_isotonic")
CALIBRATION_COLUMNS = ("method", "brier", "log_loss", "deals", "predictions", "won_share", "cutoff", "train_deals", "note")
RELIABILITY_COLUMNS = ("method", "bin", "predicted_mean", "observed_rate", "count")
# Folds of the held-out predictions the calibration maps learn from. Folds, not a second
# time split: a map fitted on the latest training deals also learns how their win rate
# differs from the earlier ones' and carries that shift into the test period (Maven: the
# later 30% won 0.658, the test deals 0.608; Platt 0.2411 against 0.2396 with folds).
FOLDS = 3
_EPS = 1e-15
_BINS = 10


def default_cutoff(close_dates: pd.Series, share: float = 0.7) -> pd.Timestamp | None:
    """The close date at the ``share`` quantile of the closed deals' close dates.

    Args:
        close_dates: close dates of the closed deals (blanks ignored).
        share: the quantile; 0.7 = the 70th percentile.

    Returns:
        An actual close date (the lower one where the quantile falls between two), or
        None when there is no close date.
    """
    dates = pd.to_datetime(close_dates).dropna().sort_values().to_numpy()
    if len(dates) == 0:
        return None
    return pd.Timestamp(dates[int(np.floor(share * (len(dates) - 1)))])


def brier_score(probability: np.ndarray, won: np.ndarray) -> float:
    """Mean of (probability - outcome)^2, outcome 1 for won and 0 for lost."""
    p = np.asarray(probability, dtype=float)
    y = np.asarray(won, dtype=float)
    return float(np.mean((p - y) ** 2)) if len(p) else np.nan


def log_loss(probability: np.ndarray, won: np.ndarray) -> float:
    """Mean of -log(probability given to the outcome), probabilities clipped to [1e-15, 1 - 1e-15]."""
    p = np.clip(np.asarray(probability, dtype=float), _EPS, 1 - _EPS)
    y = np.asarray(won, dtype=bool)
    return float(-np.mean(np.where(y, np.log(p), np.log1p(-p)))) if len(p) else np.nan


def reliability_table(method: str, probability: np.ndarray, won: np.ndarray) -> pd.DataFrame:
    """Predictions in ten equal-width bins: mean prediction vs observed win rate.

    Returns:
        ``RELIABILITY_COLUMNS``, one row per non-empty bin; ``bin`` reads ``0.2-0.3``.
        A prediction of exactly 1 falls in the last bin.
    """
    p = np.asarray(probability, dtype=float)
    y = np.asarray(won, dtype=float)
    which = np.minimum((p * _BINS).astype(int), _BINS - 1)
    count = np.bincount(which, minlength=_BINS)
    sum_p = np.bincount(which, weights=p, minlength=_BINS)
    sum_y = np.bincount(which, weights=y, minlength=_BINS)
    used = count > 0
    bins = np.arange(_BINS)[used]
    return pd.DataFrame(
        {
            "method": method,
            "bin": [f"{b / _BINS:.1f}-{(b + 1) / _BINS:.1f}" for b in bins],
            "predicted_mean": sum_p[used] / count[used],
            "observed_rate": sum_y[used] / count[used],
            "count": count[used].astype(int),
        }
    )


def snapshots(test: pd.DataFrame, history: pd.DataFrame, stages: pd.DataFrame) -> pd.DataFrame:
    """The (deal, stage) moments each test deal is predicted at (see the module docstring).

    Args:
        test: the deals to predict (rows of the deal table).
        history: validated stage history.
        stages: the stage scheme.

    Returns:
        position (row number in ``test``), stage (open stage code), order; one row per
        stage the history shows the deal entering, plus the first open stage, no repeats.
    """
    open_stages = stages[~(stages["is_won"] | stages["is_lost"])].sort_values("order")
    ids = pd.Index(test["id"])
    if not (open_stages["code"].is_unique and ids.is_unique):
        return _snapshots_by_text(test, history, open_stages)
    if history.empty:
        return _snapshots_of(len(test), np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), open_stages)
    return _snapshots_of(len(test), ids.get_indexer(history["opportunity_id"]),
                         stage_positions(open_stages, history["stage"]), open_stages)


def _snapshots_of(n: int, deal: np.ndarray, stage: np.ndarray, open_stages: pd.DataFrame) -> pd.DataFrame:
    # ``snapshots`` on integer keys: each history row's test deal position and open stage
    # position (-1: none), open stages in order, codes unique.
    entered = (deal >= 0) & (stage >= 0)
    position = np.concatenate([np.arange(n), deal[entered]])
    stage = np.concatenate([np.zeros(n, dtype=np.intp), stage[entered]])  # first: the first open stage
    # No repeats, first occurrence kept, then (position, order) order as a stable sort.
    _, first = np.unique(position.astype(np.int64) * len(open_stages) + stage, return_index=True)
    first.sort()
    position, stage = position[first], stage[first]
    order = open_stages["order"].to_numpy(dtype=int)[stage]
    by = np.lexsort((order, position))
    return pd.DataFrame({
        "position": position[by].astype(np.int64),
        "stage": open_stages["code"].to_numpy(dtype=object)[stage[by]],
        "order": order[by],
    })


def _snapshots_by_text(test: pd.DataFrame, history: pd.DataFrame, open_stages: pd.DataFrame) -> pd.DataFrame:
    # The general path, for repeated deal ids or stage codes.
    first = open_stages["code"].iloc[0]
    position_of = pd.Series(np.arange(len(test)), index=test["id"].to_numpy())
    parts = [pd.DataFrame({"position": np.arange(len(test)), "stage": first})]
    if not history.empty:
        entered = history[history["opportunity_id"].isin(position_of.index) & history["stage"].isin(open_stages["code"])]
        parts.append(pd.DataFrame({"position": entered["opportunity_id"].map(position_of).to_numpy(), "stage": entered["stage"].to_numpy()}))
    snaps = pd.concat(parts, ignore_index=True).drop_duplicates()
    snaps["order"] = snaps["stage"].map(open_stages.set_index("code")["order"]).astype(int)
    return snaps.sort_values(["position", "order"], kind="stable").reset_index(drop=True)


def _empty_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    return pd.DataFrame(columns=list(CALIBRATION_COLUMNS)), pd.DataFrame(columns=list(RELIABILITY_COLUMNS))


@dataclass(frozen=True)
class Fitted:
    """A learner fitted on the training deals, as the backtest uses it.

    closed_deals: the closed deals it learned from; usable: it learned enough to be used
    (else the backtest falls back to the stage probability); predict(facts, orders): the
    probability of each snapshot given its deal's facts (``deal_facts`` rows, one per
    snapshot) and its stage order."""

    closed_deals: int
    usable: bool
    predict: Callable[[DealFacts, np.ndarray], np.ndarray]


# A learner: (training deals, their facts, history, stages, settings, how far each training
# deal got) -> Fitted.
Learner = Callable[[pd.DataFrame, DealFacts, pd.DataFrame, pd.DataFrame, Settings, pd.Series], Fitted]


def naive_bayes(train: pd.DataFrame, facts: DealFacts, history: pd.DataFrame, stages: pd.DataFrame, settings: Settings,
                reached: pd.Series) -> Fitted:
    """The win model of ``funnel.winmodel.model`` as a backtest learner (the default)."""
    model = fit_win_model(train, history, stages, settings, reached=reached, facts=facts)

    def predict(snap_facts: DealFacts, orders: np.ndarray) -> np.ndarray:
        scored = score_rows(model, snap_facts, model.stage_index(orders), explain=False)
        return scored["model_probability"].to_numpy()
    return Fitted(model.closed_deals, model.usable, predict)


@dataclass(frozen=True)
class BacktestPredictions:
    """What a backtest predicted, one entry per snapshot (see the module docstring).

    deal: the test deal's position (0 .. deals - 1) of each snapshot; won: its outcome;
    predictions: method of ``METHODS`` -> the probability each snapshot was given.
    calibration: the map the forecast's model uses (none, platt or isotonic: the best
    scored, none unless a map beats the raw model); calibration_deals: the training deals
    whose out-of-fold predictions the maps were fitted on (0: no map could be fitted);
    maps: each calibrator's fitted map (the forecast applies ``maps[calibration]``).
    """

    cutoff: pd.Timestamp
    train_deals: int
    deals: int
    deal: np.ndarray
    won: np.ndarray
    predictions: dict[str, np.ndarray]
    note: str = ""  # why the model fell back, blank when it did not
    calibration: str = "none"
    calibration_deals: int = 0
    maps: dict[str, Calibration] = field(default_factory=dict)  # calibrator -> the map scored

    @property
    def model_fell_back(self) -> bool:
        return bool(self.note)

    @property
    def model_method(self) -> str:
        """The method of ``METHODS`` that is the model as the forecast uses it."""
        return "model" if self.calibration == "none" else f"model_{self.calibration}"


def backtest(
    deals: pd.DataFrame,
    history: pd.DataFrame,
    stages: pd.DataFrame,
    settings: Settings,
    cutoff: pd.Timestamp | None = None,
    reached: pd.Series | None = None,
    keys: HistoryKeys | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Backtest the stage probabilities and the win model on deals closed after a cut-off.

    Args: as ``backtest_predictions``.

    Returns:
        (calibration, reliability). calibration: one row per method of ``METHODS`` with
        ``CALIBRATION_COLUMNS`` (deals = test deals, predictions = snapshots scored,
        won_share = share of snapshots whose deal was won, train_deals = deals learned
        from). reliability: ``RELIABILITY_COLUMNS`` per method. Both are empty when there
        is nothing to learn from or nothing to predict.
    """
    return backtest_tables(backtest_predictions(deals, history, stages, settings, cutoff, reached, keys))


def _note(found: BacktestPredictions, method: str, language: str) -> str:
    # The note of a method's row: why the model fell back; for a map, what it was fitted on
    # and whether the forecast uses it.
    if not method.startswith("model"):
        return ""
    if found.note or method == "model":
        return found.note
    if not found.calibration_deals:
        return catalog.text("note.calibration.unfitted", language)
    key = "note.calibration.used" if method == found.model_method else "note.calibration.fitted"
    return catalog.text(key, language, deals=f"{found.calibration_deals:,}")


def backtest_tables(found: BacktestPredictions | None, language: str = "en") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(calibration, reliability) of ``backtest_predictions``' result (see ``backtest``);
    notes in ``language``."""
    if found is None:
        return _empty_tables()
    won = found.won
    calibration, reliability = [], []
    for method in METHODS:
        p = found.predictions[method]
        calibration.append(
            {
                "method": method,
                "brier": brier_score(p, won),
                "log_loss": log_loss(p, won),
                "deals": found.deals,
                "predictions": len(p),
                "won_share": float(won.mean()),
                "cutoff": found.cutoff,
                "train_deals": found.train_deals,
                "note": _note(found, method, language),
            }
        )
        reliability.append(reliability_table(method, p, won))
    return pd.DataFrame(calibration, columns=list(CALIBRATION_COLUMNS)), pd.concat(reliability, ignore_index=True)


def backtest_predictions(
    deals: pd.DataFrame,
    history: pd.DataFrame,
    stages: pd.DataFrame,
    settings: Settings,
    cutoff: pd.Timestamp | None = None,
    reached: pd.Series | None = None,
    keys: HistoryKeys | None = None,
    learner: Learner = naive_bayes,
) -> BacktestPredictions | None:
    """Every method's prediction of every snapshot of the deals closed after a cut-off.

    Args:
        deals: the deal table (``deal_table``); closed deals with a close date are used.
        history: validated stage history.
        stages: the stage scheme.
        settings: prior_strength, model_min_closed, probability_method.
        cutoff: learn from deals closed before this day, predict those closed on or after
            it; default ``default_cutoff`` of the closed deals.
        reached: ``reached_order(deals, history, stages)`` when already computed (same
            rows as ``deals``); how far a deal got is its own history, so the training
            deals' values are these.
        keys: ``funnel.forecast.stages.history_keys(deals, history, stages)`` when already computed.
        learner: what the ``model`` rows are (``naive_bayes``, the forecast's model, unless a
            benchmark compares another: ``funnel.winmodel.logistic``).

    Returns:
        The predictions, or None when there is nothing to learn from or nothing to predict.
    """
    closed_mask = ((deals["is_won"] | deals["is_lost"]) & deals["close_date"].notna()).to_numpy(dtype=bool)
    closed = fact_columns(deals, "id", "stage", "close_date", "is_won", "is_lost")[closed_mask]
    if cutoff is None:
        cutoff = default_cutoff(closed["close_date"])
    if cutoff is None:
        return None
    cutoff = pd.Timestamp(cutoff)
    in_train = (closed["close_date"] < cutoff).to_numpy(dtype=bool)
    train = closed[in_train]
    test = closed[~in_train]
    if train.empty or test.empty:
        return None

    open_rows = stages.assign(_row=np.arange(len(stages)))[~(stages["is_won"] | stages["is_lost"]).to_numpy()].sort_values("order")
    # Every closed deal's snapshots and facts, found once; each split takes its rows.
    if keys is not None and keys.fits(deals, history) and open_rows["code"].is_unique:
        # The run's keys, turned into closed-deal and open-stage positions by array lookups.
        closed_of_deal = np.full(len(deals) + 1, -1)
        closed_of_deal[np.flatnonzero(closed_mask)] = np.arange(len(closed))
        open_of_stage = np.full(len(stages) + 1, -1)
        open_of_stage[open_rows["_row"].to_numpy()] = np.arange(len(open_rows))
        all_snaps = _snapshots_of(len(closed), closed_of_deal[keys.deal], open_of_stage[keys.stage],
                                  open_rows.drop(columns="_row"))
    else:
        all_snaps = snapshots(closed, history, stages)
    snap_deal = all_snaps["position"].to_numpy()  # position in ``closed``
    snap_order = all_snaps["order"].to_numpy()
    closed_won = closed["is_won"].to_numpy(dtype=bool)
    facts = deal_facts(closed)
    in_test = ~in_train[snap_deal]
    test_snap = np.flatnonzero(in_test)
    rows = (np.cumsum(~in_train) - 1)[snap_deal[test_snap]]  # the test deal's position
    won = closed_won[snap_deal[test_snap]]
    snaps = all_snaps.iloc[test_snap]
    # A deal's furthest stage depends on its own history rows only, so reaching over the
    # whole history equals reaching over the training deals' rows.
    if reached is not None:
        train_reached = pd.Series(reached.to_numpy()[closed_mask][in_train], index=train["id"].to_numpy())
    else:
        train_reached = reached_order(train, history, stages)
    probs = stage_probabilities(train, history, stages, settings.prior_strength, train_reached)
    snap_stage = stage_positions(probs, snaps["stage"])
    empirical = probs["empirical"].fillna(probs["configured"])
    by_method = {"configured": probs["configured"], "empirical": empirical, "blended": probs["blended"]}
    predictions = {name: np.append(table.to_numpy(dtype=float), np.nan)[snap_stage] for name, table in by_method.items()}

    train_rows = np.flatnonzero(in_train)
    model = learner(train, facts.take(train_rows), history, stages, settings, train_reached)
    note = ""
    if model.usable:
        predictions["model"] = model.predict(facts.take(snap_deal[test_snap]), snap_order[test_snap])
    else:
        fallback = settings.probability_method
        predictions["model"] = predictions[fallback]
        deals_word = "deal" if model.closed_deals == 1 else "deals"
        note = f"fell back to the {fallback} stage probability: only {model.closed_deals} closed {deals_word} before the cut-off"

    # The maps, learned on out-of-fold predictions of the training deals; without them (or
    # with one outcome only among those predictions) the rows repeat the raw model.
    held_out = _held_out_predictions(train, train_reached, train_rows, facts, snap_deal, snap_order, closed_won, history,
                                     stages, settings, learner) if model.usable else None
    calibration_deals, maps = 0, {}
    for name in CALIBRATORS:
        maps[name] = fit_calibration(name, *held_out) if held_out is not None else Calibration()
        predictions[f"model_{name}"] = maps[name].apply(predictions["model"])
        calibration_deals = max(calibration_deals, maps[name].deals)
    scores = {"none": brier_score(predictions["model"], won)}
    scores.update({name: brier_score(predictions[f"model_{name}"], won) for name in CALIBRATORS})
    chosen = pick(scores) if calibration_deals else "none"
    return BacktestPredictions(cutoff, len(train), len(test), rows, won, predictions, note, chosen, calibration_deals, maps)


def _held_out_predictions(train, train_reached, train_rows, facts, snap_deal, snap_order, closed_won, history, stages,
                          settings, learner):
    # (probabilities, outcomes, deals) of every training deal's snapshots, each predicted by
    # a model learned from the other folds (``FOLDS`` folds, dealt in close-date order), or
    # None when some fold's model has not learned enough. ``train_rows``: the training
    # deals' positions among the closed deals, whose snapshots are ``snap_deal`` (position)
    # and ``snap_order``.
    order = np.argsort(train["close_date"].to_numpy(), kind="stable")
    fold = np.empty(len(train), dtype=np.intp)
    fold[order] = np.arange(len(train)) % FOLDS
    fold_of_closed = np.full(len(closed_won), -1)
    fold_of_closed[train_rows] = fold
    snap_fold = fold_of_closed[snap_deal]
    probabilities, outcomes = [], []
    for k in range(FOLDS):
        out = fold == k
        if not out.any():
            continue
        model = learner(train[~out], facts.take(train_rows[~out]), history, stages, settings, train_reached[~out])
        if not model.usable:
            return None
        mine = np.flatnonzero(snap_fold == k)
        probabilities.append(model.predict(facts.take(snap_deal[mine]), snap_order[mine]))
        outcomes.append(closed_won[snap_deal[mine]])
    return np.concatenate(probabilities), np.concatenate(outcomes), len(train)


def reliability_by_bin(reliability: pd.DataFrame) -> pd.DataFrame:
    """The reliability table turned for a chart: one row per bin, one column per method.

    Returns:
        bin (``0.0-0.1`` ... ``0.9-1.0``, all ten), bin_mid (the perfectly calibrated
        rate), and the observed win rate of each method in that bin (blank where the
        method made no prediction in the bin).
    """
    labels = [f"{b / _BINS:.1f}-{(b + 1) / _BINS:.1f}" for b in range(_BINS)]
    out = pd.DataFrame({"bin": labels, "bin_mid": (np.arange(_BINS) + 0.5) / _BINS})
    for method in METHODS:
        rates = reliability[reliability["method"] == method].set_index("bin")["observed_rate"]
        out[method] = out["bin"].map(rates).astype(float)
    return out
