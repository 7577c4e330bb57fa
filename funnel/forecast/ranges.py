"""A forecast is a range: the distribution of what a period will book.

Per period, booked = closed won so far in the period + the sum over its open deals of
amount x Bernoulli(used probability), the deals independent. We report the expected
value, P10 / P50 / P90 and the probability of reaching the period's quota, next to the
category view: worst case = closed won, commit = closed won + open Commit, best case =
commit + open Best Case (Salesforce's forecast-category roll-up). Every open deal of the
period counts in the range, as in the weighted pipeline (an Omitted one too, at its
probability); only the category view reads the categories.

How the distribution is computed (``open_total``). A period with at most ``EXACT_DEALS``
uncertain deals is enumerated exactly (every subset that could close), with discrete
quantiles: P10 is the smallest total reached with probability at least 10%. Larger
periods are computed on a fine grid by Fourier transform, every approximation bounded:

1. Window. The open total T has mean mu and variance s^2. By Bernstein's inequality,
   P(|T - mu| >= t) <= 2 exp(-t^2 / (2 (s^2 + b t / 3))) with b the largest amount; we
   choose t so that this is at most 1e-12 and put a grid of M = 2^10..2^20 points over
   [mu - t, mu + t] (over the whole range [0, total] when that is narrower). The grid is
   cyclic: the at most 1e-12 of probability outside wraps around.
2. Grid amounts. The step h is at most s / 512 and small enough that rounding adds at
   most 0.1% to the variance. Each amount a = (k + f) h is split between the grid points
   k and k + 1 with weights 1 - f and f, so the mean is exact; the variance grows by the
   known sum of p f (1 - f) h^2, which is undone at the end by shrinking the result
   around the mean by sqrt(s^2 / (s^2 + that sum)). When every amount is a whole multiple
   of a common step (whole thousands, one list price), the grid uses that step instead:
   nothing is rounded and the result is exact and discrete. That path is taken when the
   step is at least as coarse as the grid's (window up to 2^20 points), or finer but the
   window needs at most ``EXACT_POINTS`` = 2^16 points on it: whole thousands for a total
   whose window is under about 65 million (the demo's periods). Otherwise the rounded
   grid above is used (a window needing more than 2^20 points gets a coarser step).
3. Transform. The total's discrete Fourier transform is the product over deals of
   1 - p + p e^(-i theta k) (1 - f + f e^(-i theta)). Most frequencies are negligible: since
   |1 - p + p u|^2 <= 1 - 2 p (1 - p) (1 - Re u) for |u| <= 1, every frequency's modulus is
   bounded by exp(-sum p (1 - p) (1 - Re u)), and that sum for all frequencies at once is
   one FFT of a histogram. Frequencies whose bound is below 1e-12 / M are dropped (the
   distribution function moves by at most 1e-12); the product is taken only at the
   others (typically a few dozen; more when amounts sit on a lattice, e.g. one price).
4. Back. An inverse FFT gives the probabilities on the grid; each grid point's mass is
   spread evenly over its cell, so quantiles are read off a piecewise linear
   distribution function (error at most one cell, h <= s / 512).

Checked against plain Monte Carlo in the tests and in ``bench/range_forecast.py``
(100,000 deals over 12 periods: differences at the simulation's own noise level).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["OpenTotal", "open_total", "range_forecast", "RANGE_COLUMNS", "TAIL", "RESOLUTION", "EXACT_DEALS", "EXACT_POINTS"]

RANGE_COLUMNS = (
    "period",
    "closed_won",
    "open_deals",
    "open_amount",
    "expected",
    "p10",
    "p50",
    "p90",
    "quota",
    "prob_reach_quota",
    "worst_case",
    "commit",
    "best_case",
)
# Probability allowed outside the window, and dropped with the negligible frequencies.
TAIL = 1e-12
# Grid points per standard deviation of the total, at least.
RESOLUTION = 512
# Rounding may add at most this share to the variance (before it is corrected).
_ROUNDING_VARIANCE = 1e-3
_MIN_POINTS, _MAX_POINTS = 2**10, 2**20
# Complex numbers held at once while multiplying the deals' transforms.
_CHUNK = 2**20
# Books of up to this many uncertain deals are enumerated exactly (2^14 outcomes).
EXACT_DEALS = 14
# Amounts on a step finer than the grid needs are still summed exactly on that step when
# the window needs at most this many points (the demo's whole thousands: 2^15); beyond it
# the rounded grid is as accurate and much cheaper (a 100,000-deal book: 2^19 points, 3x the time).
EXACT_POINTS = 2**16
# Probabilities this close to 0 or 1 are reported as 0 or 1.
_NOISE = 1e-9
# Relative difference below which two totals are the same amount.
_SAME = 1e-9


@dataclass(frozen=True)
class OpenTotal:
    """The distribution of an open total: its mean, variance and distribution function.

    Continuous (``discrete`` False): P(T <= values[i]) = cdf[i], linear in between.
    Discrete (small books, computed exactly): T takes exactly the ``values``, and
    P(T <= values[i]) = cdf[i].
    """

    expected: float
    variance: float
    values: np.ndarray
    cdf: np.ndarray
    discrete: bool = False

    def quantile(self, level: float | np.ndarray) -> np.ndarray | float:
        """The amount the total stays at or below with probability ``level`` (0.1 = P10).

        Discrete: the smallest value whose cumulative probability reaches the level.
        """
        if self.discrete:
            # A hair below the level so that 0.1 reached by 0.05 + 0.05 counts as reached.
            at = np.searchsorted(self.cdf, np.asarray(level) - 1e-12, side="left")
            found = self.values[np.minimum(at, len(self.values) - 1)]
            return found if np.ndim(level) else float(found)
        return np.interp(level, self.cdf, self.values)

    def prob_at_least(self, amount: float) -> float:
        """P(total >= amount)."""
        if self.discrete:
            below = np.searchsorted(self.values, amount - _SAME * max(1.0, abs(amount)), side="left")
            chance = 1.0 - (self.cdf[below - 1] if below > 0 else 0.0)
        else:
            chance = 1.0 - np.interp(amount, self.values, self.cdf, left=0.0, right=1.0)
        # Below the method's error (about 1e-12) a chance is rounding noise: show 0 or 1.
        return float(0.0 if chance < _NOISE else 1.0 if chance > 1.0 - _NOISE else chance)


def _point(value: float) -> OpenTotal:
    return OpenTotal(float(value), 0.0, np.array([float(value)]), np.array([1.0]), discrete=True)


def _enumerate(a: np.ndarray, p: np.ndarray, sure: float) -> OpenTotal:
    # Every subset of deals that could close: exact for small books.
    n = len(a)
    bits = ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)
    totals = bits @ a
    chance = np.prod(np.where(bits, p[None, :], 1.0 - p[None, :]), axis=1)
    order = np.argsort(totals, kind="stable")
    totals, chance = totals[order], chance[order]
    # Sums of different deals that are equal but for float rounding are one value.
    new = np.concatenate([[True], np.diff(totals) > _SAME * np.maximum(1.0, np.abs(totals[1:]))])
    group = np.cumsum(new) - 1
    values = totals[new]
    mass = np.bincount(group, weights=chance)
    cdf = np.minimum(np.cumsum(mass), 1.0)
    cdf[-1] = 1.0
    mu = float(a @ p)
    return OpenTotal(sure + mu, float((a * a) @ (p * (1 - p))), sure + values, cdf, discrete=True)


def _window(mu: float, var: float, b: float, top: float) -> tuple[float, float]:
    # Bernstein: t with 2 exp(-t^2 / (2 (var + b t / 3))) = TAIL, clipped to the support.
    log_term = np.log(2.0 / TAIL)
    c = log_term * b / 3.0
    t = c + np.sqrt(c * c + 2.0 * log_term * var)
    return max(0.0, mu - t), min(top, mu + t)


def _lattice_step(a: np.ndarray) -> tuple[float, np.ndarray] | None:
    # The largest step every amount is a whole multiple of (in cents), and the multiples;
    # None when amounts carry fractions of a cent or are too large to count in cents.
    cents = np.round(a * 100.0)
    if cents.max() > 2**53 or np.any(np.abs(a * 100.0 - cents) > 1e-6 * np.maximum(1.0, cents)):
        return None
    whole = cents.astype(np.int64)
    step = int(np.gcd.reduce(whole))
    return (step / 100.0, whole // step) if step > 0 else None


def _grid_mass(k: np.ndarray, f: np.ndarray, p: np.ndarray, points: int, offset: int) -> np.ndarray:
    """Probabilities of the gridded total's positions (see the module docstring, steps 3-4).

    Deal i adds k_i + Bernoulli(f_i) grid steps with probability p_i; position m holds
    the total (offset + m) steps, modulo ``points``.
    """
    w = p * (1.0 - p)
    kmod = k % points
    # Bound on every frequency's modulus from one FFT of a weighted histogram.
    hist = np.bincount(kmod, weights=w * (1 - f), minlength=points) + np.bincount((kmod + 1) % points, weights=w * f, minlength=points)
    log_bound = -(w.sum() - np.fft.rfft(hist).real)
    keep = np.flatnonzero(log_bound >= np.log(TAIL / points))
    roots = np.exp(-2j * np.pi * np.arange(points) / points)
    one_step = roots[keep]
    transform = np.ones(len(keep), dtype=complex)
    rows = max(1, _CHUNK // len(keep))
    for start in range(0, len(k), rows):
        kk, pp, ff = kmod[start : start + rows, None], p[start : start + rows, None], f[start : start + rows, None]
        factor = (1 - pp) + pp * roots[(kk * keep[None, :]) % points] * ((1 - ff) + ff * one_step[None, :])
        transform *= factor.prod(axis=0)
    transform *= roots[(-offset * keep) % points]
    spectrum = np.zeros(points // 2 + 1, dtype=complex)
    spectrum[keep] = transform
    return np.fft.irfft(spectrum, n=points)


def _points(width: float, step: float) -> int:
    return int(min(max(2 ** int(np.ceil(np.log2(width / step + 4))), _MIN_POINTS), _MAX_POINTS))


def open_total(amounts: np.ndarray, probabilities: np.ndarray) -> OpenTotal:
    """The distribution of the sum of amount x Bernoulli(probability), deals independent.

    Args:
        amounts: deal amounts (blank or negative counted as 0).
        probabilities: win probabilities (blank counted as 0; clipped to 0..1).

    Returns:
        The distribution (see the module docstring for the method and its error bounds).
        Discrete when exact: at most ``EXACT_DEALS`` uncertain deals, or amounts on a
        common step (e.g. all whole thousands) at least as coarse as the grid would be or
        needing at most ``EXACT_POINTS`` points over the window.
    """
    a = np.nan_to_num(np.asarray(amounts, dtype=float), nan=0.0)
    p = np.clip(np.nan_to_num(np.asarray(probabilities, dtype=float), nan=0.0), 0.0, 1.0)
    a = np.maximum(a, 0.0)
    sure = float(a[(p >= 1.0)].sum())
    chance = (p > 0.0) & (p < 1.0) & (a > 0.0)
    a, p = a[chance], p[chance]
    if len(a) == 0:
        return _point(sure)
    if len(a) <= EXACT_DEALS:
        return _enumerate(a, p, sure)
    mu = float(a @ p)
    var = float((a * a) @ (p * (1.0 - p)))
    step = min(np.sqrt(var) / RESOLUTION, np.sqrt(4.0 * _ROUNDING_VARIANCE * var / p.sum()))

    lattice = _lattice_step(a)
    if lattice is not None:
        # Amounts are whole multiples of one step: grid on that step, no rounding at all, and
        # the result is exact (discrete). A step finer than the grid needs is taken while it
        # costs little (at most EXACT_POINTS points), a coarser one always.
        h, k = lattice
        lo, hi = _window(mu, var, float(a.max()), float(a.sum()))
        points = _points(hi - lo, h)
        if (hi - lo) / h + 4 <= points <= (_MAX_POINTS if h >= step else EXACT_POINTS):
            offset = int(np.floor(lo / h)) - 2
            mass = _grid_mass(k, np.zeros(len(k)), p, points, offset)
            cdf = np.clip(np.maximum.accumulate(np.cumsum(mass)), 0.0, 1.0)
            cdf[-1] = 1.0
            return OpenTotal(sure + mu, var, sure + (offset + np.arange(points)) * h, cdf, discrete=True)

    # Rounding adds at most p h^2 / 4 variance per deal and h to each deal's range.
    lo, hi = _window(mu, var + p.sum() * step * step / 4.0, float(a.max()) + step, float(a.sum()) + len(a) * step)
    points = _points(hi - lo, step)
    h = (hi - lo) / (points - 4)
    offset = int(np.floor(lo / h)) - 2
    x = a / h
    k = np.floor(x)
    f = x - k
    mass = _grid_mass(k.astype(np.int64), f, p, points, offset)
    cdf = np.clip(np.maximum.accumulate(np.cumsum(mass)), 0.0, 1.0)
    # Each grid point's mass spread over its cell: the CDF reaches cdf[m] at the cell's upper edge.
    edges = (offset + np.arange(-1, points) + 0.5) * h
    cdf = np.concatenate([[0.0], cdf])
    cdf[-1] = 1.0
    # Undo the variance the split added, around the (exact) mean.
    added = float(p @ (f * (1 - f))) * h * h
    values = mu + (edges - mu) * np.sqrt(var / (var + added))
    return OpenTotal(sure + mu, var, sure + values, cdf)


def range_forecast(deals: pd.DataFrame, quota: pd.Series | None = None) -> pd.DataFrame:
    """The range forecast per close period.

    Args:
        deals: the deal table (``deal_table``): period, amount, is_open, is_won, category,
            used_probability.
        quota: quota by period label (e.g. ``funnel.forecast.pipeline.quota_table(quotas, deals,
            ["period"])``), or None.

    Returns:
        One row per period with a won or open deal or a quota, in period order, with
        ``RANGE_COLUMNS``: closed_won, open_deals, open_amount, expected, p10/p50/p90 of
        the booked total (closed won included), quota, prob_reach_quota (blank without a
        quota), worst_case, commit, best_case.
    """
    quota = quota if quota is not None else pd.Series(dtype=float)
    amount = deals["amount"].fillna(0.0).to_numpy(dtype=float)
    probability = deals["used_probability"].to_numpy(dtype=float)
    category = deals["category"].to_numpy()
    is_open, is_won = deals["is_open"].to_numpy(dtype=bool), deals["is_won"].to_numpy(dtype=bool)
    counted = is_open | is_won
    rows_of = pd.Series(np.arange(len(deals))[counted]).groupby(deals["period"].to_numpy()[counted]).indices if counted.any() else {}
    periods = sorted(set(rows_of) | set(quota.index))
    none = np.array([], dtype=int)
    rows = []
    for period in periods:
        at = np.arange(len(deals))[counted][rows_of.get(period, none)]
        won = float(amount[at[is_won[at]]].sum())
        open_at = at[is_open[at]]
        open_amounts = amount[open_at]
        total = open_total(open_amounts, probability[open_at])
        p10, p50, p90 = (won + q for q in np.atleast_1d(total.quantile(np.array([0.1, 0.5, 0.9]))))
        target = float(quota.get(period, np.nan))
        open_category = category[open_at]
        commit = won + float(open_amounts[open_category == "Commit"].sum())
        rows.append(
            {
                "period": period,
                "closed_won": won,
                "open_deals": len(open_at),
                "open_amount": float(open_amounts.sum()),
                "expected": won + total.expected,
                "p10": float(p10),
                "p50": float(p50),
                "p90": float(p90),
                "quota": target,
                "prob_reach_quota": total.prob_at_least(target - won) if np.isfinite(target) else np.nan,
                "worst_case": won,
                "commit": commit,
                "best_case": commit + float(open_amounts[open_category == "Best Case"].sum()),
            }
        )
    return pd.DataFrame(rows, columns=list(RANGE_COLUMNS))
