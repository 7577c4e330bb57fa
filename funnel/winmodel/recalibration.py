"""Recalibrating the model's probabilities on held-out closed deals: Platt scaling and isotonic.

The naive Bayes model counts correlated factors as independent evidence, so it is
overconfident (on the Maven CRM sample 0.72 predicted against 0.57 observed in one bin).
A calibration map learned from predictions of deals the model did not learn from corrects
that without touching the factors.

Platt scaling: p' = 1 / (1 + exp(-(a logit(p) + b))), a and b by maximum likelihood
(Newton's method; p clipped to [1e-6, 1 - 1e-6] so logit stays finite).
Isotonic: the non-decreasing step function of p closest to the outcomes in squared error
(pool adjacent violators over the distinct predictions, each weighted by its count); a
prediction between two fitted ones takes the step at or below it, one below all the first.

Cross-fitting in the backtest (``cross_fitted``): the test deals are cut in two by close
date; each half is recalibrated by the map learned on the other half, so every test
prediction is scored by a map that never saw its deal's outcome. A half whose other half
holds only wins or only losses keeps the raw probability (a map needs both outcomes).
"""

from __future__ import annotations

import numpy as np

from funnel.winmodel.model import probability_from_log_odds

__all__ = ["CALIBRATORS", "fit_platt", "platt", "fit_isotonic", "isotonic", "cross_fitted"]

CALIBRATORS = ("platt", "isotonic")
_CLIP = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), _CLIP, 1 - _CLIP)
    return np.log(p / (1 - p))


def fit_platt(p: np.ndarray, won: np.ndarray, iterations: int = 100) -> tuple[float, float]:
    """(a, b) of Platt scaling by maximum likelihood; (1, 0), the identity, when the
    outcomes are all one kind (no finite maximum)."""
    x, y = _logit(p), np.asarray(won, dtype=float)
    if len(y) == 0 or y.min() == y.max():
        return 1.0, 0.0
    a, b = 1.0, 0.0
    for _ in range(iterations):
        q = probability_from_log_odds(a * x + b)  # capped: outcomes a line separates push a up
        w = q * (1 - q)
        gradient = np.array([np.sum((q - y) * x), np.sum(q - y)])
        hessian = np.array([[np.sum(w * x * x), np.sum(w * x)], [np.sum(w * x), np.sum(w)]]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hessian, gradient)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-12:
            break
    return float(a), float(b)


def platt(p: np.ndarray, ab: tuple[float, float]) -> np.ndarray:
    """Platt scaling of ``p`` with ``ab`` from ``fit_platt``."""
    return probability_from_log_odds(ab[0] * _logit(p) + ab[1])


def fit_isotonic(p: np.ndarray, won: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(predictions, fitted values): the isotonic step function at the distinct predictions."""
    values, where = np.unique(np.asarray(p, dtype=float), return_inverse=True)
    weight = np.bincount(where, minlength=len(values)).astype(float)
    total = np.bincount(where, weights=np.asarray(won, dtype=float), minlength=len(values))
    # Pool adjacent violators: blocks of (sum of outcomes, weight, how many distinct values).
    sums, weights, sizes = [], [], []
    for s, w in zip(total.tolist(), weight.tolist()):  # Python floats: the same arithmetic, without numpy scalars
        sums.append(s)
        weights.append(w)
        sizes.append(1)
        while len(sums) > 1 and sums[-2] / weights[-2] > sums[-1] / weights[-1]:
            s2, w2, n2 = sums.pop(), weights.pop(), sizes.pop()
            sums[-1] += s2
            weights[-1] += w2
            sizes[-1] += n2
    fitted = np.repeat(np.array(sums) / np.array(weights), sizes) if sums else np.zeros(0)
    return values, fitted


def isotonic(p: np.ndarray, fit: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The isotonic step function ``fit`` (from ``fit_isotonic``) at ``p``."""
    values, fitted = fit
    at = np.clip(np.searchsorted(values, np.asarray(p, dtype=float), side="right") - 1, 0, len(values) - 1)
    return fitted[at]


def cross_fitted(p: np.ndarray, won: np.ndarray, half: np.ndarray) -> dict[str, np.ndarray]:
    """Each calibrator's predictions, every half mapped by what the other half taught.

    Args:
        p: raw probabilities; won: outcomes; half: True for the predictions of the later half.

    Returns:
        calibrator of ``CALIBRATORS`` -> the recalibrated probabilities.
    """
    p, y, half = np.asarray(p, dtype=float), np.asarray(won, dtype=bool), np.asarray(half, dtype=bool)
    out = {name: p.copy() for name in CALIBRATORS}
    for target in (half, ~half):
        source = ~target
        if not target.any() or not source.any() or y[source].all() or not y[source].any():
            continue  # the other half has no predictions or one outcome only: raw stays
        out["platt"][target] = platt(p[target], fit_platt(p[source], y[source]))
        out["isotonic"][target] = isotonic(p[target], fit_isotonic(p[source], y[source]))
    return out
