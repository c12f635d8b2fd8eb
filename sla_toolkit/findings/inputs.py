"""What the finding rules read: plain tables with fixed columns, built by the pipeline from result objects.

Keeping the rules on tables (not on the result classes) lets each rule be tested with a hand-written frame.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..spec import SlaSpec

CHECK_COLUMNS = ("name", "kind", "transition", "target", "direction", "estimate", "low", "high", "n", "status",
                 "reason", "label", "unit", "currency", "basis", "subject")
BREAKDOWN_COLUMNS = ("dimension", "level", "transition", "n", "successes", "rate", "rate_low", "rate_high",
                     "rest_n", "rest_rate", "lift", "lift_low", "lift_high", "p_value", "status", "crude_lift",
                     "min_effect", "adjusted_for")
# ``lift`` is the reported (adjusted, shrunk) effect with its interval; ``crude_lift`` the plain difference;
# ``min_effect`` the practical minimum in points (absent: the spec's absolute ``analysis.min_effect``).
COST_COLUMNS = ("channel", "spend", "customers", "cost_per_customer", "low", "high", "rest_customers",
                "rest_spend", "p_value", "basis", "customers_so_far")
# ``customers``: projected within the window (``basis`` "projected") or counted so far ("counted")


@dataclass(frozen=True)
class FollowUpEvidence:
    """Follow-up promise kept vs broken, and the downstream conversion of each group."""

    transition: str
    n_on_time: int
    rate_on_time: float
    n_late: int
    rate_late: float
    diff: float
    diff_low: float
    diff_high: float
    p_value: float
    within_hours: float


@dataclass(frozen=True)
class PacingEvidence:
    status: str
    probability: float
    expected: float
    low: float
    high: float
    target: float
    customers_so_far: int
    leads_needed_per_day: float
    days_left: int


@dataclass(frozen=True)
class FindingInputs:
    """Everything the rules need; any table may be empty when its analysis did not apply."""

    spec: SlaSpec
    checks: pd.DataFrame
    breakdowns: pd.DataFrame
    downstream_to_customer: dict[str, float]
    follow_up: FollowUpEvidence | None = None
    pacing: PacingEvidence | None = None
    costs: pd.DataFrame | None = None
    input_rows: int = 0
    quarantined_rows: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    hygiene: pd.DataFrame | None = None     # stale open deals per group (findings.decided_rules.HYGIENE_COLUMNS)
    decided: dict | None = None             # overall aging open deals (findings.decided_rules.decided_summary)
