"""Reverse funnel: how many leads (MQLs, SQLs, ...) the customer objective needs.

``needed(stage k) = customers / (r_k * r_k+1 * ... )`` with the observed censoring-aware step
rates (:func:`sla_toolkit.survival.conversion_rates`), next to the same figure at the spec's
assumed target rates.

Interval (default 90 %): Monte Carlo. Each step rate is drawn from its Jeffreys posterior
``Beta(x + 1/2, n - x + 1/2)``; for a rate that rests on a Kaplan–Meier projection, ``x`` and
``n`` are the effective counts whose binomial standard error equals Greenwood's. The step
rates are conditionally independent binomials, so their posteriors are independent and the
product of draws is a draw of the overall rate. Quantiles of ``customers / product`` give the
interval; the simulation count and seed come from ``spec.analysis``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import Reason
from .funnel import stage_counts
from .lead_plan import LeadPlan, PlanBasis, plan_leads, rate_draws_by_deadline
from .outcomes import as_of_view
from .results import ResultMixin
from .spec import SlaSpec
from .stats import beta_posterior_draws, effective_counts
from .survival import ConversionResult, RateBasis, conversion_rates
from .types import transition_name

METHOD = ("Monte Carlo over Jeffreys Beta posteriors of each observed step rate "
          "(effective counts for Kaplan–Meier projections)")


@dataclass(frozen=True)
class ReverseFunnelResult(ResultMixin):
    """Leads needed at each stage for the customer objective.

    Attributes
    ----------
    table : DataFrame
        Per stage: ``needed`` (at observed rates), ``low``/``high`` (interval), ``needed_at_target_rates``
        (what the spec's assumed rates imply; NaN when a rate is not set), ``reached_so_far``.
    rates : DataFrame
        Per transition: the observed rate used, its basis, effective counts, the spec's target rate.
    """

    target_customers: int | None
    table: pd.DataFrame
    rates: pd.DataFrame
    confidence: float
    simulations: int
    seed: int
    method: str = METHOD
    reason: Reason = Reason.OK
    plan: LeadPlan | None = None
    title = "Reverse funnel: volume needed for the customer objective"

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def needed(self, stage: str) -> tuple[float, float, float]:
        """``(needed, low, high)`` at one stage."""
        row = self.table.loc[self.table["stage"] == stage].iloc[0]
        return float(row["needed"]), float(row["low"]), float(row["high"])


def reverse_funnel(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp,
                   conversions: ConversionResult | None = None, confidence: float = 0.90) -> ReverseFunnelResult:
    """Volume needed at every stage for ``spec.objectives.customers``.

    Parameters
    ----------
    conversions : censoring-aware rates already computed for the same ``as_of`` (computed if None).
    confidence : coverage of the interval (0.90 by default, as the SLA report states it).
    """
    stages = spec.funnel.stages
    as_of = pd.Timestamp(as_of)
    conversions = conversions or conversion_rates(leads, spec, as_of, list(zip(stages, stages[1:])))
    rates = _rate_table(conversions, spec)
    customers = spec.objectives.customers
    analysis = spec.analysis
    if customers is None:
        return ReverseFunnelResult(None, pd.DataFrame(), rates, confidence, analysis.simulations, analysis.seed,
                                   reason=Reason.NO_TARGET)
    rng = np.random.default_rng(analysis.seed)
    draws = beta_posterior_draws(rates["successes"], rates["n"], analysis.simulations, rng)
    # needed at stage k = customers / product of the rates from k to the end: reverse cumulative products
    draw_products = np.cumprod(draws[:, ::-1], axis=1)[:, ::-1]
    point_products = np.cumprod(rates["rate"].to_numpy()[::-1])[::-1]
    target_products = np.cumprod(rates["target_rate"].to_numpy()[::-1])[::-1]
    tail = (1 - confidence) / 2
    with np.errstate(divide="ignore"):
        needed_draws = customers / draw_products
        low, high = np.quantile(needed_draws, [tail, 1 - tail], axis=0)
        needed = customers / point_products
        at_targets = customers / target_products
    reached = stage_counts(as_of_view(leads, spec, as_of), stages)
    table = pd.DataFrame({"stage": stages[:-1], "needed": needed, "low": low, "high": high,
                          "needed_at_target_rates": _direct_targets(spec, at_targets, customers),
                          "reached_so_far": reached.iloc[:-1].to_numpy()})
    last = pd.DataFrame([{"stage": stages[-1], "needed": float(customers), "low": float(customers),
                          "high": float(customers), "needed_at_target_rates": float(customers),
                          "reached_so_far": int(reached.iloc[-1])}])
    plan = _lead_plan(leads, spec, as_of, draw_products[:, 0], rng)
    return ReverseFunnelResult(customers, pd.concat([table, last], ignore_index=True), rates, confidence,
                               analysis.simulations, analysis.seed, plan=plan)


def _lead_plan(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp, overall_draws: np.ndarray,
               rng: np.random.Generator) -> LeadPlan:
    """The next cycle's lead target at ``analysis.plan_confidence`` (see :mod:`sla_toolkit.lead_plan`)."""
    by_deadline = rate_draws_by_deadline(leads, spec, as_of, spec.analysis.simulations, rng)
    basis = PlanBasis.OVERALL_RATE if by_deadline is None else PlanBasis.BY_DEADLINE
    draws = overall_draws if by_deadline is None else by_deadline
    return plan_leads(spec.objectives.customers, draws, spec.analysis.plan_confidence, basis, spec.period.days)


def _rate_table(conversions: ConversionResult, spec: SlaSpec) -> pd.DataFrame:
    rows = []
    for a, b in zip(spec.funnel.stages, spec.funnel.stages[1:]):
        item = conversions.get(transition_name(a, b))
        if item.basis is RateBasis.PROJECTED:
            successes, n = effective_counts(item.projected.estimate, item.projected.standard_error)
        else:
            chosen = item.matured if item.basis is RateBasis.MATURED else item.naive
            successes, n = chosen.successes, chosen.n
        rows.append({"transition": item.transition, "rate": item.estimate, "basis": item.basis.value,
                     "successes": float(successes), "n": float(n),
                     "target_rate": spec.funnel.targets.get(item.transition, np.nan)})
    return pd.DataFrame(rows)


def _direct_targets(spec: SlaSpec, at_targets: np.ndarray, customers: int) -> np.ndarray:
    """Use a direct ``stage->last`` target where the chain of step targets is incomplete."""
    stages, out = spec.funnel.stages, at_targets.astype(float).copy()
    for k, stage in enumerate(stages[:-1]):
        direct = spec.funnel.targets.get(transition_name(stage, stages[-1]))
        if not np.isfinite(out[k]) and direct:
            out[k] = customers / direct
    return out
