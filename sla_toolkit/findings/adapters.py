"""Turn the analysis result objects into the frozen records the finding rules and the proposal read."""
from __future__ import annotations

import math

import pandas as pd

from ..breakdowns import BreakdownResult
from ..compare import ChecksResult
from ..costs import ChannelCosts
from ..followup import FollowUpResult
from ..io import DataQuality
from ..pacing import PacingResult
from ..spec import SlaSpec
from ..survival import ConversionResult
from ..targets import ReverseFunnelResult
from ..decided import DecidedDeals
from .decided_rules import decided_breakdown_rows, decided_summary, hygiene_rows
from .inputs import (CostComparison, FindingInputs, FollowUpEvidence, PacingEvidence, SegmentComparison,
                     records)
from .model import Findings
from .proposal import ProposalInputs, RateEstimateView

def finding_inputs(spec: SlaSpec, quality: DataQuality, conversion: ConversionResult, checks: ChecksResult,
                   compared: BreakdownResult, follow_up: FollowUpResult, pacing: PacingResult,
                   costs: ChannelCosts | None, decided: DecidedDeals | None = None) -> FindingInputs:
    """The rules' records; with recorded losses, win-rate comparisons rest on decided deals only."""
    comparisons, hygiene, summary = segment_comparisons(compared), (), None
    if decided is not None and decided.applicable:
        last = f"->{spec.funnel.last}"
        comparisons = (*(c for c in comparisons if not c.transition.endswith(last)),
                       *decided_breakdown_rows(decided, spec))
        hygiene, summary = hygiene_rows(decided, spec), decided_summary(decided)
    return FindingInputs(
        spec=spec, checks=tuple(checks.checks), breakdowns=comparisons, hygiene=hygiene, decided=summary,
        downstream_to_customer=downstream_rates(conversion, spec), follow_up=follow_up_evidence(follow_up),
        pacing=pacing_evidence(pacing), costs=() if costs is None else records(CostComparison, costs.table),
        input_rows=quality.input_rows, quarantined_rows=quality.quarantined_rows,
        quarantine_reasons=dict(quality.quarantine_reasons),
    )


def segment_comparisons(compared: BreakdownResult) -> tuple[SegmentComparison, ...]:
    """Each level against the rest; ``lift`` is the reported (adjusted, shrunk) effect, ``crude_lift`` the plain one."""
    s = compared.summary
    if s.empty:
        return ()
    table = pd.DataFrame({
        "dimension": s["column"], "level": s["level"].astype(str), "transition": s["transition"],
        "n": s["n_matured"], "successes": s["conversions"], "rate": s["rate"], "rate_low": s["rate_low"],
        "rate_high": s["rate_high"], "rest_n": s["n_rest"], "rest_rate": s["rate_rest"], "lift": s["effect"],
        "lift_low": s["effect_low"], "lift_high": s["effect_high"], "p_value": s["p_value"],
        "tested": s["p_value"].notna(), "crude_lift": s["lift"], "min_effect": s["min_effect"],
        "adjusted_for": s["adjusted_for"]})
    return records(SegmentComparison, table)


def downstream_rates(conversion: ConversionResult, spec: SlaSpec) -> dict[str, float]:
    """For each stage, the observed rate from that stage to the last one (1 for the last)."""
    stages = spec.funnel.stages
    rates = {spec.funnel.last: 1.0}
    running = 1.0
    for a, b in reversed(list(zip(stages, stages[1:]))):
        try:
            step = conversion.get(f"{a}->{b}").estimate
        except KeyError:
            step = float("nan")
        running *= step
        rates[a] = running
    return rates


def follow_up_evidence(result: FollowUpResult) -> FollowUpEvidence | None:
    a = result.association
    if a is None or math.isnan(a.p_value):
        return None
    return FollowUpEvidence(a.outcome_transition, a.within.n, a.within.estimate, a.late.n, a.late.estimate,
                            -a.difference, -a.difference_high, -a.difference_low, a.p_value, result.within_hours)


def pacing_evidence(result: PacingResult) -> PacingEvidence | None:
    if result.target_customers is None or math.isnan(result.probability):
        return None
    if result.days_remaining <= 0:
        return None   # after the deadline the volume check says everything
    return PacingEvidence(result.status.value, result.probability, result.expected_customers, result.low,
                          result.high, float(result.target_customers), result.customers_so_far,
                          result.leads_needed_per_day, int(round(result.days_remaining)))


def proposal_inputs(spec: SlaSpec, findings: Findings, conversion: ConversionResult,
                    needed: ReverseFunnelResult, leads: pd.DataFrame) -> ProposalInputs:
    step_rates = {t.transition: RateEstimateView(t.estimate, t.low, t.high) for t in conversion.transitions}
    lead_rate, interval = None, None
    if needed.target_customers and not needed.table.empty:
        est, low, high = needed.needed(spec.funnel.first)
        if est and math.isfinite(est):
            customers = needed.target_customers
            lead_rate = RateEstimateView(customers / est, customers / high if high else float("nan"),
                                         customers / low if low else float("nan"))
            interval = (est, low, high)
    counts = {}
    if spec.channel_column in leads:
        counts = {str(k): int(v) for k, v in leads[spec.channel_column].dropna().astype(str).value_counts().items()}
    return ProposalInputs(spec, findings, lead_rate, interval, step_rates, counts, lead_plan=needed.plan)
