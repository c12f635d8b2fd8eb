"""Cox's partial likelihood on tied event-time counts (Efron's or Breslow's ties), for times in whole days.

With times in whole days a million leads share a few hundred distinct event times and a few dozen
covariate patterns. Every term of the partial likelihood depends on the rows only through, per
covariate pattern ``p`` and event time ``t``, the number of events ``d[p, t]`` and the number of leads
still at risk ``n[p, t]``. With ``w_p = exp(x_p @ beta)``, ``R_t = sum_p n[p, t] w_p`` and
``D_t = sum_p d[p, t] w_p``, Efron's log partial likelihood is::

    sum_{p, t} d[p, t] x_p @ beta  -  sum_t sum_{j < d_t} log(R_t - (j / d_t) D_t)

(Breslow's drops the ``j / d_t`` term). Its gradient and information need, per event time, the
first and second moments of ``x`` over the risk set and over the events, and five sums over ``j``,
so the cost follows patterns × event times, not leads. statsmodels' ``PHReg`` has no case weights,
which is why the Newton iterations are written here; ``tests/unit/test_cox.py`` checks the estimates
and standard errors against ``PHReg`` on every row to 1e-8.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

# Above this many pattern × event-time cells the count fit is no cheaper than PHReg on every row.
MAX_CELLS = 5_000_000


@dataclass(frozen=True)
class RiskSetCounts:
    """Events and leads at risk per covariate pattern and distinct event time (cells with leads at risk)."""

    pattern: np.ndarray
    time_index: np.ndarray
    events: np.ndarray
    at_risk: np.ndarray
    n_times: int

    @classmethod
    def from_rows(cls, durations: np.ndarray, events: np.ndarray, pattern_of_row: np.ndarray,
                  n_patterns: int) -> "RiskSetCounts":
        """Count, per pattern, the events at each event time and the leads whose time is at least it."""
        times, time_of_row = np.unique(durations, return_inverse=True)
        time_of_row = time_of_row.reshape(-1)
        cell = pattern_of_row * len(times) + time_of_row
        size = n_patterns * len(times)
        leaving = np.bincount(cell, minlength=size).reshape(n_patterns, len(times))
        happening = np.bincount(cell, weights=events, minlength=size).reshape(n_patterns, len(times))
        # at risk at t: every lead whose time (event or censoring) is t or later
        at_risk = np.cumsum(leaving[:, ::-1], axis=1)[:, ::-1]
        event_times = np.flatnonzero(happening.sum(axis=0) > 0)
        at_risk, happening = at_risk[:, event_times], happening[:, event_times]
        pattern, time_index = np.nonzero(at_risk > 0)
        return cls(pattern, time_index, happening[pattern, time_index], at_risk[pattern, time_index].astype(float),
                   len(event_times))

    @staticmethod
    def cells(durations: np.ndarray, events: np.ndarray, n_patterns: int) -> int:
        """An upper bound on the number of cells, before counting."""
        return n_patterns * len(np.unique(durations[events.astype(bool)]))


@dataclass(frozen=True)
class CountCoxFit:
    """Coefficients, standard errors, p-values and Wald intervals, shaped like a statsmodels result."""

    params: np.ndarray
    bse: np.ndarray
    converged: bool
    iterations: int
    loglike: float

    @property
    def pvalues(self) -> np.ndarray:
        return 2 * norm.sf(np.abs(self.params / self.bse))

    def conf_int(self, alpha: float = 0.05) -> np.ndarray:
        z = norm.ppf(1 - alpha / 2)
        return np.column_stack([self.params - z * self.bse, self.params + z * self.bse])


def _efron_terms(counts: RiskSetCounts, ties: str) -> tuple[np.ndarray, np.ndarray]:
    """Per event time, the position ``j / d_t`` (Efron) or 0 (Breslow) of each tied event; and its time."""
    d_per_time = np.bincount(counts.time_index, weights=counts.events, minlength=counts.n_times).astype(np.int64)
    time_of_term = np.repeat(np.arange(counts.n_times), d_per_time)
    if ties == "breslow":
        return np.zeros(len(time_of_term)), time_of_term
    first = np.concatenate([[0], np.cumsum(d_per_time)[:-1]])
    rank = np.arange(len(time_of_term)) - first[time_of_term]
    return rank / d_per_time[time_of_term], time_of_term


def _moments(counts: RiskSetCounts, matrix: np.ndarray, weight: np.ndarray, per_cell: np.ndarray):
    """Per event time: sum of ``per_cell * w``, of ``per_cell * w * x``, and of ``per_cell * w * x x'``."""
    x = matrix[counts.pattern]
    cell_weight = per_cell * weight[counts.pattern]
    zeroth = np.bincount(counts.time_index, weights=cell_weight, minlength=counts.n_times)
    first = np.zeros((counts.n_times, matrix.shape[1]))
    np.add.at(first, counts.time_index, cell_weight[:, None] * x)
    second = np.zeros((counts.n_times, matrix.shape[1], matrix.shape[1]))
    np.add.at(second, counts.time_index, cell_weight[:, None, None] * x[:, :, None] * x[:, None, :])
    return zeroth, first, second


def _loglike_gradient_information(beta: np.ndarray, counts: RiskSetCounts, matrix: np.ndarray,
                                  share: np.ndarray, time_of_term: np.ndarray):
    weight = np.exp(matrix @ beta)
    r0, r1, r2 = _moments(counts, matrix, weight, counts.at_risk)
    d0, d1, d2 = _moments(counts, matrix, weight, counts.events)
    denominator = r0[time_of_term] - share * d0[time_of_term]
    observed = counts.events @ (matrix[counts.pattern] @ beta)
    loglike = observed - np.log(denominator).sum()

    def per_time(values: np.ndarray) -> np.ndarray:
        return np.bincount(time_of_term, weights=values, minlength=counts.n_times)

    inv, share_inv = per_time(1 / denominator), per_time(share / denominator)
    inv2, share_inv2 = per_time(1 / denominator ** 2), per_time(share / denominator ** 2)
    share2_inv2 = per_time(share ** 2 / denominator ** 2)
    events_x = counts.events @ matrix[counts.pattern]
    gradient = events_x - (inv @ r1 - share_inv @ d1)
    outer_rr = np.einsum("ti,tj->tij", r1, r1)
    outer_rd = np.einsum("ti,tj->tij", r1, d1)
    outer_dd = np.einsum("ti,tj->tij", d1, d1)
    information = (np.einsum("t,tij->ij", inv, r2) - np.einsum("t,tij->ij", share_inv, d2)
                   - np.einsum("t,tij->ij", inv2, outer_rr)
                   + np.einsum("t,tij->ij", share_inv2, outer_rd + outer_rd.transpose(0, 2, 1))
                   - np.einsum("t,tij->ij", share2_inv2, outer_dd))
    return loglike, gradient, information


def fit_cox_on_counts(counts: RiskSetCounts, pattern_matrix: np.ndarray, *, ties: str = "efron",
                      max_iter: int = 100, tolerance: float = 1e-12) -> CountCoxFit:
    """Newton–Raphson with step halving on the partial likelihood of ``counts`` (covariates per pattern)."""
    share, time_of_term = _efron_terms(counts, ties)
    beta = np.zeros(pattern_matrix.shape[1])
    loglike, gradient, information = _loglike_gradient_information(beta, counts, pattern_matrix, share, time_of_term)
    converged = False
    for iteration in range(1, max_iter + 1):
        step = np.linalg.solve(information, gradient)
        for _ in range(30):   # halve the step until the likelihood does not fall
            candidate = _loglike_gradient_information(beta + step, counts, pattern_matrix, share, time_of_term)
            if np.isfinite(candidate[0]) and candidate[0] >= loglike - 1e-12 * abs(loglike):
                break
            step = step / 2
        beta = beta + step
        loglike, gradient, information = candidate
        if np.max(np.abs(step)) < tolerance or np.max(np.abs(gradient)) < tolerance * max(1.0, abs(loglike)):
            converged = True
            break
    try:
        covariance = np.linalg.inv(information)
        std_err = np.sqrt(np.diag(covariance))
    except np.linalg.LinAlgError:
        std_err = np.full(len(beta), np.nan)
    return CountCoxFit(beta, std_err, converged, iteration, float(loglike))
