"""Small statistical building blocks shared by funnel, survival, follow-up, checks and pacing.

Every rate carries its Wilson interval (statsmodels ``proportion_confint(method="wilson")``)
and its denominator; every count-based cost carries an exact Poisson interval on the count.

statsmodels and scipy are imported inside the two functions that need them: importing them
costs seconds, and the daily ``pace`` command (which reaches this module through the funnel
helpers) never computes an interval.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from .results import ResultMixin


@dataclass(frozen=True)
class RateEstimate(ResultMixin):
    """A proportion ``successes / n`` with its Wilson interval.

    With ``n == 0`` the estimate is NaN and the interval is ``[0, 1]`` (no information).
    """

    successes: int
    n: int
    estimate: float
    low: float
    high: float
    confidence: float = 0.95
    title = "Rate"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"successes": self.successes, "n": self.n, "estimate": self.estimate,
                              "low": self.low, "high": self.high, "confidence": self.confidence}])

    def contains(self, value: float) -> bool:
        """True when ``value`` lies inside the interval (bounds included)."""
        return bool(self.low <= value <= self.high)


def wilson_bounds(successes, n, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised Wilson bounds; rows with ``n == 0`` get ``[0, 1]``."""
    successes = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    successes, n = np.broadcast_arrays(successes, n)
    low = np.zeros(n.shape)
    high = np.ones(n.shape)
    has_data = n > 0
    if has_data.any():
        from statsmodels.stats.proportion import proportion_confint

        lo, hi = proportion_confint(successes[has_data], n[has_data], alpha=1 - confidence, method="wilson")
        low[has_data] = lo
        high[has_data] = hi
    return low, high


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> RateEstimate:
    """Rate ``successes / n`` with its Wilson interval.

    Examples
    --------
    >>> r = wilson_interval(842, 8000)
    >>> round(r.estimate, 4), round(r.low, 4), round(r.high, 4)
    (0.1053, 0.0986, 0.1123)
    """
    successes, n = int(successes), int(n)
    if successes < 0 or n < 0 or successes > n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    low, high = wilson_bounds(successes, n, confidence)
    estimate = successes / n if n else float("nan")
    return RateEstimate(successes, n, estimate, float(low), float(high), confidence)


def rate_columns(successes, n, confidence: float = 0.95, prefix: str = "") -> pd.DataFrame:
    """Columns ``<prefix>rate, <prefix>low, <prefix>high`` for arrays of counts (NaN rate where n == 0)."""
    successes = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    low, high = wilson_bounds(successes, n, confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, successes / np.where(n > 0, n, 1), np.nan)
    return pd.DataFrame({f"{prefix}rate": rate, f"{prefix}low": low, f"{prefix}high": high})


def poisson_count_bounds(count: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) interval for the mean of a Poisson count observed as ``count``."""
    from scipy.stats import chi2

    alpha = 1 - confidence
    low = 0.0 if count == 0 else float(chi2.ppf(alpha / 2, 2 * count) / 2)
    high = float(chi2.ppf(1 - alpha / 2, 2 * (count + 1)) / 2)
    return low, high


def beta_posterior_draws(successes, n, size: int, rng: np.random.Generator) -> np.ndarray:
    """Draws of rates from Beta(successes + 1/2, n - successes + 1/2) (Jeffreys prior).

    ``successes`` and ``n`` may be arrays (one column per rate) and may be non-integer
    (effective counts from a Kaplan–Meier standard error). Returns shape ``(size, k)``.
    """
    successes = np.atleast_1d(np.asarray(successes, dtype=float))
    n = np.atleast_1d(np.asarray(n, dtype=float))
    failures = np.clip(n - successes, 0, None)
    return rng.beta(successes + 0.5, failures + 0.5, size=(size, successes.size))


def effective_counts(estimate: float, standard_error: float) -> tuple[float, float]:
    """Binomial counts ``(successes, n)`` whose rate and standard error match the given ones.

    Used to turn a Kaplan–Meier projection into a Beta posterior. Falls back to ``(0, 0)``
    (no information) when the standard error is missing or zero.
    """
    if not (np.isfinite(estimate) and np.isfinite(standard_error)) or standard_error <= 0:
        return 0.0, 0.0
    n = estimate * (1 - estimate) / standard_error ** 2
    return estimate * n, n


def loglog_bounds(probability, standard_error, confidence: float = 0.95):
    """Pointwise interval of a probability computed on the ``log(-log p)`` scale (delta method).

    Returns ``(low, high, usable)``; ``usable`` is False where that scale breaks down (p of 0 or 1, or no
    standard error), and the bounds there are meaningless.
    """
    from scipy import stats as scipy_stats

    p, se = np.asarray(probability, dtype=float), np.asarray(standard_error, dtype=float)
    z = scipy_stats.norm.ppf(0.5 + confidence / 2)
    usable = (p > 0) & (p < 1) & np.isfinite(se) & (se > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = np.log(p)
        theta, theta_se = np.log(-log_p), se / (p * np.abs(log_p))
        return np.exp(-np.exp(theta + z * theta_se)), np.exp(-np.exp(theta - z * theta_se)), usable


def ascending(values) -> np.ndarray:
    """``values`` as a float array in ascending order, sorted only when it is not already (fits keep theirs sorted)."""
    values = np.asarray(values, dtype=float)
    if values.size > 1 and not bool((values[1:] >= values[:-1]).all()):
        return np.sort(values)
    return values


def finite_by_duration(duration: np.ndarray, *columns: np.ndarray) -> tuple[np.ndarray, ...] | None:
    """``duration`` and ``columns`` on the rows with a finite duration, ordered by duration (None: no such row).

    Survival fits do not depend on row order; sorted durations let their readers skip a sort (:func:`ascending`).
    """
    keep = np.isfinite(duration)
    if not keep.any():
        return None
    order = np.argsort(duration[keep])
    return tuple(values[keep][order] for values in (duration, *columns))


def conversion_curve_frame(times, conversion, bounds, standard_error, durations,
                           confidence: float = 0.95) -> pd.DataFrame:
    """A conversion curve read at ``times``: ``bounds`` is ``(low, high, usable)`` of the conversion; where not
    usable, the Wilson interval of the leads still at risk (``durations`` at or beyond the time) stands in."""
    low, high, usable = bounds
    sorted_time = ascending(durations)
    at_risk = sorted_time.size - np.searchsorted(sorted_time, times, side="left")
    low, high = np.array(low, dtype=float), np.array(high, dtype=float)
    unusable = ~np.broadcast_to(np.asarray(usable, dtype=bool), low.shape)
    if unusable.any():   # the Wilson interval only where it stands in
        at = np.broadcast_to(np.asarray(conversion, dtype=float), low.shape)[unusable]
        low[unusable], high[unusable] = wilson_bounds(np.round(at * at_risk[unusable]), at_risk[unusable],
                                                      confidence)
    return pd.DataFrame({"time_days": times, "conversion": conversion, "low": low, "high": high,
                         "standard_error": standard_error, "at_risk": at_risk})

