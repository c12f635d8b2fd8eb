"""Lead targets you can plan with: the smallest lead count that reaches the customer objective with a stated confidence.

``customers ÷ rate`` reaches the objective about half the time: the customers won from ``N`` leads
vary (binomially) around ``N × p`` and ``p`` itself is only estimated. The plan is the smallest
``N`` with ``P(customers ≥ target) ≥ analysis.plan_confidence`` under the posterior predictive:
``P(N) = E_p[P(Binomial(N, p) ≥ target)]``, the expectation over draws of ``p`` from its posterior
(a Beta-binomial mixture when ``p`` is one Beta rate).

Which ``p``:

- **by the deadline** (``created_at`` and last-stage timestamps): the objective counts customers
  won by the period's end, so a lead arriving ``u`` days into a period of ``L`` days counts with
  ``1 - S(L - u)``, ``S`` being the Kaplan–Meier curve of time to the last stage (lost leads stay at
  risk, never converting: ``1 - S`` is the cumulative incidence of winning). Leads are assumed to
  arrive evenly over a period as long as this one. Each draw of ``S`` comes from independent Beta
  posteriors of the discrete hazard at each event time (as in :mod:`sla_toolkit.pacing`).
- **overall rate** (stages known only as flags): the product of the step rates' Jeffreys Beta
  posteriors (the same draws as the reverse funnel's interval).

Calibrated by ``studies/plan_target.py``: simulating the next cycle with the planned leads reaches
the target in a share of seeds close to ``plan_confidence``.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import pandas as pd

from .outcomes import as_of_view, has_timestamps, transition_outcomes
from .pacing import km_events
from .results import ResultMixin
from .spec import SlaSpec

_CHUNK = 500        # simulations per block (memory: block x event times)
_MAX_FACTOR = 1000   # give up beyond this many times customers / rate: the rate is too uncertain to plan with


class PlanBasis(str, Enum):
    """What a planned lead is assumed to deliver."""

    BY_DEADLINE = "by_deadline"     # conversion within the period, leads arriving evenly
    OVERALL_RATE = "overall_rate"   # the eventual first-to-last rate (no timestamps)


@dataclass(frozen=True)
class LeadPlan(ResultMixin):
    """The planned lead target and what it rests on.

    Attributes
    ----------
    leads : smallest lead count reaching ``target_customers`` with probability ``confidence`` (None when
        the rate is too uncertain or zero).
    probability : that probability at ``leads`` (predictive, so including the rate's uncertainty).
    rate, rate_low, rate_high : posterior mean and 90 % interval of the per-lead rate used.
    leads_at_rate : ``ceil(customers / rate)``, the plan at the point estimate, and ``probability_at_rate``
        its chance of reaching the target (about one half).
    """

    target_customers: int
    leads: int | None
    confidence: float
    probability: float
    basis: PlanBasis
    rate: float
    rate_low: float
    rate_high: float
    leads_at_rate: int | None
    probability_at_rate: float
    period_days: int
    simulations: int
    title = "Lead target for the next cycle"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.to_dict()])

    @property
    def basis_words(self) -> str:
        if self.basis is PlanBasis.BY_DEADLINE:
            return f"a lead converts by the deadline (leads arriving evenly over {self.period_days} days)"
        return "a lead converts"


def rate_draws_by_deadline(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp, size: int,
                           rng: np.random.Generator) -> np.ndarray | None:
    """Posterior draws of the chance that a lead arriving evenly over a period converts by its end.

    None without ``created_at`` and last-stage timestamps (or without a timed lead).
    """
    first, last = spec.funnel.first, spec.funnel.last
    if "created_at" not in leads or leads["created_at"].isna().all() or not has_timestamps(leads, last):
        return None
    outcomes = transition_outcomes(as_of_view(leads, spec, as_of), spec, first, last, as_of)
    timed = outcomes["entered"] & outcomes["duration_days"].notna()
    if not timed.any():
        return None
    # durations to the hour (rounding up would bias the rate down: about 1 % on a 91-day period)
    duration = np.round(outcomes.loc[timed, "duration_days"].to_numpy(float) * 24) / 24
    curve = km_events(duration, outcomes.loc[timed, "event"])
    length = spec.period.days
    keep = curve.times < length
    times, events, at_risk = curve.times[keep], curve.events[keep], curve.at_risk[keep]
    if times.size == 0:
        return np.zeros(size)
    survivors = at_risk - events
    # a lead arriving in the middle of day u (0-based) has L - u - 1/2 days left
    index = np.searchsorted(times, length - (np.arange(length) + 0.5), side="right")
    out = np.empty(size)
    for begin in range(0, size, _CHUNK):
        rows = min(_CHUNK, size - begin)
        hazards = rng.beta(events, np.where(survivors > 0, survivors, 1.0), size=(rows, times.size))
        hazards = np.where(survivors > 0, np.minimum(hazards, 1 - 1e-12), 1.0)
        survival = np.hstack([np.ones((rows, 1)), np.exp(np.cumsum(np.log1p(-hazards), axis=1))])
        out[begin:begin + rows] = 1 - survival[:, index].mean(axis=1)
    return out


def plan_leads(customers: int, rate_draws: np.ndarray, confidence: float, basis: PlanBasis,
               period_days: int) -> LeadPlan:
    """Smallest ``N`` with ``mean(P(Binomial(N, p_s) >= customers)) >= confidence`` over the draws ``p_s``."""
    draws = np.clip(np.asarray(rate_draws, dtype=float), 0.0, 1.0)
    mean = float(draws.mean()) if draws.size else float("nan")
    low, high = (np.quantile(draws, [0.05, 0.95]) if draws.size else (np.nan, np.nan))
    base = dict(target_customers=customers, confidence=confidence, basis=basis, rate=mean, rate_low=float(low),
                rate_high=float(high), period_days=period_days, simulations=int(draws.size))
    if not mean > 0:
        return LeadPlan(**base, leads=None, probability=float("nan"), leads_at_rate=None,
                        probability_at_rate=float("nan"))
    at_rate = int(np.ceil(customers / mean))
    leads = _smallest_n(customers, draws, confidence, ceiling=_MAX_FACTOR * at_rate)
    return LeadPlan(**base, leads=leads, probability=_reach_probability(leads, customers, draws) if leads else
                    float("nan"), leads_at_rate=at_rate,
                    probability_at_rate=_reach_probability(at_rate, customers, draws))


def _reach_probability(n: int, customers: int, draws: np.ndarray) -> float:
    from scipy.stats import binom   # deferred, as every scipy import: a report kernel never needs it

    return float(binom.sf(customers - 1, n, draws).mean())


def _smallest_n(customers: int, draws: np.ndarray, confidence: float, ceiling: int) -> int | None:
    """Bisection on ``N`` (the reach probability grows with ``N``)."""
    low, high = customers - 1, max(customers, int(np.ceil(customers / draws.mean())))
    while _reach_probability(high, customers, draws) < confidence:
        low, high = high, high * 2
        if high > ceiling:
            return None
    while high - low > 1:
        middle = (low + high) // 2
        if _reach_probability(middle, customers, draws) >= confidence:
            high = middle
        else:
            low = middle
    return high
