"""Do the matured cohorts describe the whole period? A log-rank test of matured against recent cohorts.

Matured cohorts are the *oldest* leads. Their rate (conversion within the window, no model needed)
describes the period only when the leads created later convert at the same pace. The test compares
the time to convert of the two groups of creation cohorts, censored at the window, with the log-rank
test (statsmodels ``survdiff``): it uses every day of follow-up both groups share, so recent leads
count although their window has not elapsed. A p-value below ``analysis.alpha`` means the cohorts
differ, and the verdict then rests on the Kaplan–Meier projection over all leads.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class CohortAgreement:
    """Log-rank comparison of matured and recent cohorts (``p_value`` NaN when it cannot be computed)."""

    p_value: float
    matured_n: int
    recent_n: int
    alpha: float

    @property
    def differ(self) -> bool:
        return bool(self.p_value < self.alpha)

    @property
    def words(self) -> str:
        if self.matured_n == 0 or self.recent_n == 0:
            return "no recent cohort to compare with"
        if np.isnan(self.p_value):
            return (f"matured cohorts ({self.matured_n:,} leads) and recent ones ({self.recent_n:,}) cannot be "
                    "compared in time to convert: no conversion within the window falls on a day when both "
                    "have leads followed up")
        verdict = "differ from" if self.differ else "agree with"
        return (f"matured cohorts ({self.matured_n:,} leads) {verdict} recent ones ({self.recent_n:,}) "
                f"in time to convert (log-rank p = {self.p_value:.2g})")


def cohort_agreement(outcomes: pd.DataFrame, window_days: float, alpha: float) -> CohortAgreement:
    """Compare matured and not-yet-matured leads (rows of :func:`sla_toolkit.outcomes.transition_outcomes`).

    Only leads that entered with a known duration take part; durations are censored at the window.
    """
    from statsmodels.duration.survfunc import survdiff   # deferred: a report kernel never needs statsmodels

    timed = outcomes["entered"] & outcomes["duration_days"].notna()
    frame = outcomes.loc[timed]
    matured = frame["matured"].to_numpy(bool)
    n_matured, n_recent = int(matured.sum()), int((~matured).sum())
    if n_matured == 0 or n_recent == 0:
        return CohortAgreement(float("nan"), n_matured, n_recent, alpha)
    duration = frame["duration_days"].to_numpy(float)
    event = frame["event"].to_numpy(bool) & (duration <= window_days)
    if not event.any():
        return CohortAgreement(float("nan"), n_matured, n_recent, alpha)
    try:
        _, p_value = survdiff(np.minimum(duration, window_days), event.astype(float), matured.astype(int))
    except np.linalg.LinAlgError:   # every conversion at a time only one group is followed at: variance 0
        p_value = float("nan")
    return CohortAgreement(float(p_value), n_matured, n_recent, alpha)
