"""What the experiments hand to the next-cycle proposal: the next test, and mix shifts backed by randomized
evidence (which may move further than an association)."""
from __future__ import annotations

from dataclasses import replace

import pandas as pd

from ..findings.proposal import ProposalInputs
from ..spec import SlaSpec
from ..types import reached_column
from .plan import next_test
from .result import ExperimentsResult, Verdict


def randomized_directions(spec: SlaSpec, experiments: ExperimentsResult) -> dict[str, int]:
    """+1 for channels a randomized test showed to be clearly better than its control on the primary
    metric, -1 for the control (when some arm beat it) and for arms clearly worse; only for tests that may
    claim a cause and whose arms are the channel column's levels."""
    votes: dict[str, int] = {}
    for result in experiments.items:
        if not result.may_claim_cause or result.experiment.arm_column != spec.channel_column:
            continue
        for c in result.primary:
            if c.verdict is Verdict.BETTER:
                votes[c.arm] = 1
                votes[result.experiment.control] = -1
            elif c.verdict is Verdict.WORSE:
                votes[c.arm] = -1
    return votes


def daily_inflow(leads: pd.DataFrame, as_of: pd.Timestamp) -> float:
    """Leads per day over the observed span (0 without creation dates)."""
    created = leads["created_at"].dropna() if "created_at" in leads else pd.Series(dtype="datetime64[us]")
    created = created[created <= as_of]
    if created.empty:
        return 0.0
    days = max((as_of - created.min()) / pd.Timedelta(days=1), 1.0)
    return len(created) / days


def with_experiment_evidence(inputs: ProposalInputs, experiments: ExperimentsResult, leads: pd.DataFrame,
                             as_of: pd.Timestamp) -> ProposalInputs:
    """``inputs`` with the next test and the randomized mix directions filled in."""
    baseline = inputs.lead_to_customer.estimate if inputs.lead_to_customer is not None else None
    if baseline is None:   # no customer objective: the plain share of leads that reached the last stage
        column = reached_column(inputs.spec.funnel.last)
        baseline = float(leads[column].mean()) if column in leads and len(leads) else None
    block, reason = next_test(inputs.spec, inputs.findings, experiments, baseline, daily_inflow(leads, as_of))
    return replace(inputs, next_experiment=block, next_experiment_reason=reason,
                   randomized_directions=randomized_directions(inputs.spec, experiments))
