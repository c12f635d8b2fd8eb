"""Pure estimators for arm-versus-control comparisons (no files, no printing).

- Proportions: the absolute lift gets Newcombe's hybrid score interval, the relative lift the log-scale
  interval of the risk ratio, the p-value the score test (all from
  ``statsmodels.stats.proportion``).
- Means (revenue per lead, robust to many zeros; revenue per customer): Welch's t-interval for the
  difference, and a delta-method interval on the log of the ratio of means for the relative lift.
- Sample-ratio mismatch: Pearson's χ² of the arm sizes against the planned split.

Example
-------
>>> lift = proportion_lift(120, 10_000, 100, 10_000)
>>> round(lift.absolute, 4), round(lift.absolute_low, 4) < 0 < round(lift.absolute_high, 4)
(0.002, True)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_NAN = float("nan")


@dataclass(frozen=True)
class Lift:
    """An arm's value of a metric against the control's, as absolute and relative lifts with intervals."""

    arm_value: float
    control_value: float
    absolute: float
    absolute_low: float
    absolute_high: float
    relative: float
    relative_low: float
    relative_high: float
    p_value: float
    n_arm: int
    n_control: int

    @classmethod
    def undefined(cls, arm_value: float, control_value: float, n_arm: int, n_control: int) -> "Lift":
        return cls(arm_value, control_value, _NAN, _NAN, _NAN, _NAN, _NAN, _NAN, _NAN, n_arm, n_control)


def proportion_lift(successes_arm: int, n_arm: int, successes_control: int, n_control: int,
                    confidence: float = 0.95) -> Lift:
    """Rate of the arm minus rate of the control (Newcombe) and arm ÷ control − 1 (log-scale risk ratio)."""
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    arm_rate = successes_arm / n_arm if n_arm else _NAN
    control_rate = successes_control / n_control if n_control else _NAN
    if not n_arm or not n_control or successes_arm + successes_control == 0 or \
            successes_arm + successes_control == n_arm + n_control:
        return Lift.undefined(arm_rate, control_rate, n_arm, n_control)
    alpha = 1 - confidence
    low, high = confint_proportions_2indep(successes_arm, n_arm, successes_control, n_control,
                                           method="newcomb", compare="diff", alpha=alpha)
    p_value = test_proportions_2indep(successes_arm, n_arm, successes_control, n_control,
                                      method="score", compare="diff").pvalue
    relative = rel_low = rel_high = _NAN
    if successes_control > 0:
        relative = arm_rate / control_rate - 1
        if successes_arm > 0:
            r_low, r_high = confint_proportions_2indep(successes_arm, n_arm, successes_control, n_control,
                                                       method="log-adjusted", compare="ratio", alpha=alpha)
            rel_low, rel_high = r_low - 1, r_high - 1
    return Lift(arm_rate, control_rate, arm_rate - control_rate, float(low), float(high), relative,
                float(rel_low), float(rel_high), float(p_value), int(n_arm), int(n_control))


def mean_lift(arm: np.ndarray, control: np.ndarray, confidence: float = 0.95) -> Lift:
    """Mean of the arm minus mean of the control (Welch t-interval and test) and the ratio of means − 1.

    The relative interval is the delta method on ``log(mean_arm / mean_control)``; it is NaN when either
    mean is 0.
    """
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    arm, control = np.asarray(arm, dtype=float), np.asarray(control, dtype=float)
    arm_mean = float(arm.mean()) if arm.size else _NAN
    control_mean = float(control.mean()) if control.size else _NAN
    if arm.size < 2 or control.size < 2 or (arm.var() == 0 and control.var() == 0):
        return Lift.undefined(arm_mean, control_mean, arm.size, control.size)
    compare = CompareMeans(DescrStatsW(arm), DescrStatsW(control))
    low, high = compare.tconfint_diff(alpha=1 - confidence, usevar="unequal")
    p_value = compare.ttest_ind(usevar="unequal")[1]
    relative = rel_low = rel_high = _NAN
    if control_mean > 0:
        relative = arm_mean / control_mean - 1
        if arm_mean > 0:
            from scipy.stats import norm

            se_log = math.sqrt(arm.var(ddof=1) / arm.size / arm_mean ** 2
                               + control.var(ddof=1) / control.size / control_mean ** 2)
            z = norm.ppf(0.5 + confidence / 2)
            log_ratio = math.log(arm_mean / control_mean)
            rel_low, rel_high = math.exp(log_ratio - z * se_log) - 1, math.exp(log_ratio + z * se_log) - 1
    return Lift(arm_mean, control_mean, arm_mean - control_mean, float(low), float(high), relative, rel_low,
                rel_high, float(p_value), int(arm.size), int(control.size))


@dataclass(frozen=True)
class SampleRatioCheck:
    """Do the arm sizes match the planned split? (Pearson χ²; a failure blocks causal wording.)"""

    observed: dict[str, int]
    planned: dict[str, float]
    statistic: float
    p_value: float
    alpha: float

    @property
    def passed(self) -> bool:
        return not (self.p_value < self.alpha)

    @property
    def text(self) -> str:
        shares = ", ".join(f"{arm} {n:,} ({self.planned.get(arm, 0):.0%} planned)" for arm, n in self.observed.items())
        verdict = "matches the plan" if self.passed else "does NOT match the plan (sample-ratio mismatch)"
        return f"arm sizes {shares}: χ² = {self.statistic:.2f}, p = {self.p_value:.3g}; {verdict}"


def sample_ratio_check(observed: dict[str, int], planned: dict[str, float], alpha: float = 0.001) -> SampleRatioCheck:
    """χ² of the observed arm sizes against the planned shares; an arm with no planned share fails at once."""
    from scipy.stats import chisquare

    arms = list(observed)
    counts = np.array([observed[a] for a in arms], dtype=float)
    shares = np.array([planned.get(a, 0.0) for a in arms], dtype=float)
    if counts.sum() == 0:
        return SampleRatioCheck(dict(observed), dict(planned), _NAN, _NAN, alpha)
    if (shares <= 0).any() and (counts[shares <= 0] > 0).any():
        return SampleRatioCheck(dict(observed), dict(planned), math.inf, 0.0, alpha)
    expected = counts.sum() * shares / shares.sum()
    statistic, p_value = chisquare(counts, expected)
    return SampleRatioCheck(dict(observed), dict(planned), float(statistic), float(p_value), alpha)


def gatekept_p_values(primary: list[float], secondary: list[float]) -> tuple[list[float], list[float]]:
    """Adjusted p-values of one error-control family: the primary metric first, then the rest.

    Serial gatekeeping (family-wise error at the chosen level over every arm and metric): Holm over the
    primary metric's arms; Holm over every other (arm, metric) test, each adjusted p raised to at least
    the largest adjusted primary p, so a secondary result counts only once every primary one does.
    NaN p-values (tests that could not be run) stay NaN and do not count in the family size.
    """
    primary_adjusted = _holm(primary)
    gate = max((p for p in primary_adjusted if not math.isnan(p)), default=1.0)
    if any(math.isnan(p) for p in primary):
        gate = 1.0
    secondary_adjusted = [p if math.isnan(p) else max(p, gate) for p in _holm(secondary)]
    return primary_adjusted, secondary_adjusted


def _holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values (matches ``statsmodels`` ``multipletests(method="holm")``,
    which runs a full garbage collection on every call: too slow inside a simulation study)."""
    values = np.asarray(p_values, dtype=float)
    out = np.full(values.shape, _NAN)
    finite = np.flatnonzero(~np.isnan(values))
    if finite.size:
        order = finite[np.argsort(values[finite], kind="stable")]
        m = order.size
        stepped = np.maximum.accumulate((m - np.arange(m)) * values[order])
        out[order] = np.minimum(stepped, 1.0)
    return [float(p) for p in out]
