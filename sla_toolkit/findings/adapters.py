"""Turn the analysis result objects into the plain tables the finding rules and the proposal read."""
from __future__ import annotations

import math

import numpy as np
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
from ..types import CheckKind
from ..decided import DecidedDeals
from .decided_rules import decided_breakdown_rows, decided_summary, hygiene_rows
from .inputs import BREAKDOWN_COLUMNS, CHECK_COLUMNS, FindingInputs, FollowUpEvidence, PacingEvidence
from .model import Findings
from .proposal import ProposalInputs, RateEstimateView

def finding_inputs(spec: SlaSpec, quality: DataQuality, conversion: ConversionResult, checks: ChecksResult,
                   compared: BreakdownResult, follow_up: FollowUpResult, pacing: PacingResult,
                   costs: ChannelCosts | None, decided: DecidedDeals | None = None) -> FindingInputs:
    """The rules' tables; with recorded losses, win-rate comparisons rest on decided deals only."""
    table, hygiene, summary = breakdown_table(compared), None, None
    if decided is not None and decided.applicable:
        last = f"->{spec.funnel.last}"
        table = pd.concat([table.loc[~table["transition"].astype(str).str.endswith(last)],
                           decided_breakdown_rows(decided, spec)], ignore_index=True)
        hygiene, summary = hygiene_rows(decided, spec), decided_summary(decided)
    return FindingInputs(
        spec=spec, checks=checks_table(checks), breakdowns=table, hygiene=hygiene, decided=summary,
        downstream_to_customer=downstream_rates(conversion, spec), follow_up=follow_up_evidence(follow_up),
        pacing=pacing_evidence(pacing), costs=None if costs is None or costs.table.empty else costs.table,
        input_rows=quality.input_rows, quarantined_rows=quality.quarantined_rows,
        quarantine_reasons=dict(quality.quarantine_reasons),
    )


def checks_table(checks: ChecksResult) -> pd.DataFrame:
    """The checks as rows for the finding rules; kind, label and unit come from the check's fields."""
    rows = []
    for check in checks.checks:
        transition = check.subject if check.kind is CheckKind.RATE else None
        rows.append((check.name, check.kind.value, transition, check.target, check.direction.value, check.estimate,
                     check.low, check.high, check.n, check.status.value, check.reason, check.label,
                     check.unit.value, check.currency, check.basis, check.subject))
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def breakdown_table(compared: BreakdownResult) -> pd.DataFrame:
    s = compared.summary
    if s.empty:
        return pd.DataFrame(columns=BREAKDOWN_COLUMNS)
    tested = s["p_value"].notna()
    return pd.DataFrame({
        "dimension": s["column"], "level": s["level"].astype(str), "transition": s["transition"],
        "n": s["n_matured"], "successes": s["conversions"], "rate": s["rate"], "rate_low": s["rate_low"],
        "rate_high": s["rate_high"], "rest_n": s["n_rest"], "rest_rate": s["rate_rest"], "lift": s["effect"],
        "lift_low": s["effect_low"], "lift_high": s["effect_high"], "p_value": s["p_value"],
        "status": np.where(tested, "tested", "INSUFFICIENT_DATA"), "crude_lift": s["lift"],
        "min_effect": s["min_effect"], "adjusted_for": s["adjusted_for"],
    }, columns=list(BREAKDOWN_COLUMNS))


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
