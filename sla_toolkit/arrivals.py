"""Leads still to arrive before the deadline: a model of daily counts and its simulation.

Daily lead counts of the last 28 whole days before the as-of date (fewer early in a period) are
fitted by a log-linear Poisson regression with a weekday effect (from 14 days of history and 70
leads) and a trend (from 7 days and 30 leads), by iteratively reweighted least squares in numpy (the daily ``pace`` command
imports neither statsmodels nor scipy). Overdispersion is the Pearson chi-square per degree of
freedom (at least 1, quasi-Poisson). Each simulated run draws the coefficients from their normal
approximation (covariance scaled by the overdispersion), so the level, the trend and the weekday
pattern are uncertain, then draws each future day's count from a Gamma–Poisson (negative binomial)
with that day's mean and variance ``mean + k * mean^2``, ``k`` estimated by moments. Both spreads are
estimated from a few weeks of days, so each run also scales them by ``dof / chi2(dof)`` (``dof`` = days
minus coefficients, factor capped at 4): the coefficient draws become Student-t-like and ``k`` uncertain (calibrated by
``studies/pacing_coverage.py``). Without any lead in the window the rate falls back to its Jeffreys
Gamma posterior.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

INFLOW_WINDOW_DAYS = 28
_DAY = pd.Timedelta(days=1)
_MIN_DAYS_FOR_WEEKDAYS = 14
_MIN_DAYS_FOR_TREND = 7
_MIN_LEADS_PER_WEEKDAY = 10     # fewer leads than this per weekday: one level, no pattern
_MIN_LEADS_FOR_TREND = 30
MAX_SPREAD = 4.0                # a run's spread factor dof / chi2(dof) is capped here
_MAX_LOG_CHANGE = np.log(4.0)   # a simulated trend never moves the rate beyond 4x or 1/4 of today's


@dataclass(frozen=True)
class ArrivalModel:
    """Fitted daily-arrival model (log-linear Poisson with weekday and trend, overdispersed)."""

    coefficients: np.ndarray
    covariance: np.ndarray
    dispersion: float
    window_days: int
    leads_in_window: int
    weekdays: bool
    trend: bool
    as_of: pd.Timestamp
    day_variance: float = 0.0
    dof: int = 0                    # residual degrees of freedom of the fit (days - coefficients)

    @property
    def description(self) -> str:
        parts = ["weekday pattern" if self.weekdays else "", "trend" if self.trend else ""]
        shown = " and ".join(p for p in parts if p)
        return (f"daily arrivals of the last {self.window_days} days" + (f" with {shown}" if shown else "")
                + f", overdispersion {self.dispersion:.2f} (1 = Poisson)")


def fit_arrivals(created: pd.Series, start: pd.Timestamp, as_of: pd.Timestamp) -> ArrivalModel:
    """Fit the model on the whole days before ``as_of`` (at most 28, none before ``start``)."""
    window = int(min(INFLOW_WINDOW_DAYS, max((as_of - start) // _DAY, 1)))
    age = ((as_of - created.dropna()) / _DAY).to_numpy(float)
    age = age[(age > 0) & (age <= window)]
    # whole day i before as_of holds the ages in (i, i + 1]; reversed so that the last entry is the latest day
    counts = np.bincount(np.ceil(age).astype(int) - 1, minlength=window)[:window][::-1].astype(float)
    day_offset = np.arange(-window, 0, dtype=float)          # day i covers [as_of + i, as_of + i + 1)
    total = counts.sum()
    weekdays = window >= _MIN_DAYS_FOR_WEEKDAYS and total >= _MIN_LEADS_PER_WEEKDAY * 7
    trend = window >= _MIN_DAYS_FOR_TREND and total >= _MIN_LEADS_FOR_TREND
    design = _design(day_offset, as_of, weekdays, trend)
    if counts.sum() == 0:
        return ArrivalModel(np.array([np.nan]), np.zeros((1, 1)), 1.0, window, 0, False, False, as_of, 0.0)
    coefficients, covariance, dispersion = _poisson_irls(design, counts)
    mean = np.exp(np.clip(design @ coefficients, -30, 30))
    # NB2 variance mean + k * mean^2, k by moments (busy days vary more than quiet ones)
    # (residuals around fitted means understate the spread: scaled by n / (n - p) like the Pearson statistic)
    small_sample = len(counts) / max(len(counts) - design.shape[1], 1)
    day_variance = max(0.0, float(np.sum((counts - mean) ** 2 * small_sample - mean) / np.sum(mean ** 2)))
    return ArrivalModel(coefficients, covariance, dispersion, window, int(counts.sum()), weekdays, trend, as_of,
                        day_variance, max(len(counts) - design.shape[1], 1))


def simulate_arrivals(model: ArrivalModel, remaining: float, sims: int, rng: np.random.Generator
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Simulated arrivals per future day (``sims`` x days) and each day's midpoint in days from ``as_of``."""
    n_days = max(int(np.ceil(remaining)), 0)
    midpoints = np.arange(n_days) + 0.5
    exposure = np.clip(remaining - np.arange(n_days), 0, 1)
    midpoints = np.minimum(midpoints, remaining - exposure / 2) if n_days else midpoints
    if n_days == 0:
        return np.zeros((sims, 0)), midpoints
    if not np.isfinite(model.coefficients[0]):
        rate = rng.gamma(0.5, 1 / model.window_days, size=(sims, 1))
        return rng.poisson(rate * exposure).astype(float), midpoints
    design = _design(np.arange(n_days, dtype=float), model.as_of, model.weekdays, model.trend)
    # the spread (overdispersion, day variance) is itself estimated from ``dof`` days: each run scales it by
    # dof / chi2(dof), so the coefficients are t-like and the day-to-day variance is uncertain too
    # (capped at MAX_SPREAD: the inverse chi-square has no exponential moment, and a rare huge draw would
    # make the mean of the arrivals meaningless)
    spread = np.minimum(model.dof / rng.chisquare(model.dof, size=(sims, 1)), MAX_SPREAD)
    draws = model.coefficients + np.sqrt(spread) * rng.multivariate_normal(
        np.zeros_like(model.coefficients), model.covariance, size=sims, method="cholesky")
    log_mean = draws @ design.T
    today = draws @ _design(np.array([-0.5]), model.as_of, model.weekdays, model.trend).T
    log_mean = today + np.clip(log_mean - today, -_MAX_LOG_CHANGE, _MAX_LOG_CHANGE)
    mean = np.exp(np.minimum(log_mean, 30)) * exposure
    if model.day_variance > 0:
        # negative binomial days: a Gamma factor with mean 1 and variance ``day_variance`` on each day's mean
        shape = 1 / (model.day_variance * spread)
        mean = rng.gamma(shape, 1 / shape, size=mean.shape) * mean
    return rng.poisson(mean).astype(float), midpoints


def _design(day_offset: np.ndarray, as_of: pd.Timestamp, weekdays: bool, trend: bool) -> np.ndarray:
    columns = [np.ones_like(day_offset)]
    if trend:
        columns.append(day_offset / INFLOW_WINDOW_DAYS)
    if weekdays:
        weekday = (as_of.day_of_week + np.floor(day_offset).astype(int)) % 7
        columns += [(weekday == d).astype(float) for d in range(1, 7)]
    return np.column_stack(columns)


def _poisson_irls(design: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Poisson log-linear fit: coefficients, covariance scaled by overdispersion, the overdispersion."""
    beta = np.zeros(design.shape[1])
    beta[0] = np.log(counts.mean() + 0.5)
    for _ in range(50):
        mean = np.exp(np.clip(design @ beta, -30, 30))
        working = design @ beta + (counts - mean) / mean
        weighted = design.T * mean
        new = np.linalg.lstsq(weighted @ design, weighted @ working, rcond=None)[0]
        if np.max(np.abs(new - beta)) < 1e-8:
            beta = new
            break
        beta = new
    mean = np.exp(np.clip(design @ beta, -30, 30))
    dof = max(len(counts) - design.shape[1], 1)
    dispersion = max(1.0, float(np.sum((counts - mean) ** 2 / np.maximum(mean, 1e-9)) / dof))
    covariance = np.linalg.pinv((design.T * mean) @ design) * dispersion
    return beta, covariance, dispersion
