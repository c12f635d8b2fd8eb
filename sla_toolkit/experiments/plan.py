"""The next test: what to randomise, how many leads it needs and how long that takes.

An association (a channel that converts better than the rest) says where to look, not what works. The
proposal turns the strongest one into a two-arm randomized test sized for 80% power at the smallest effect
worth acting on (``analysis.min_effect``, an absolute lift of end-to-end conversion), and writes it as an
``experiment:`` block of the next ``sla.yaml`` so the next cycle evaluates it.

>>> plan = plan_two_arm_test(0.02, 0.01, alpha=0.05, daily_leads=100.0)
>>> plan.total_leads, round(plan.days)
(7578, 76)
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace

from ..findings.model import Finding, Findings
from ..spec import SlaSpec
from ..types import FindingKind
from .power import leads_for_power
from .result import ExperimentsResult, Verdict

POWER = 0.8


@dataclass(frozen=True)
class TestPlan:
    """A two-arm test: ``arm`` against ``control`` in ``arm_column``, split evenly."""

    arm_column: str
    arm: str
    control: str
    baseline: float
    min_effect: float
    alpha: float
    leads_per_arm: int
    daily_leads: float
    reason: str

    @property
    def total_leads(self) -> int:
        return 2 * self.leads_per_arm

    @property
    def days(self) -> float:
        return self.total_leads / self.daily_leads if self.daily_leads > 0 else math.inf

    @property
    def text(self) -> str:
        days = "unknown (no inflow measured)" if math.isinf(self.days) else f"about {math.ceil(self.days):,} days"
        return (f"randomize leads 50/50 between {self.arm!r} and {self.control!r} (column {self.arm_column!r}): "
                f"{self.total_leads:,} leads give {POWER:.0%} power to detect {self.baseline:.2%} → "
                f"{self.baseline + self.min_effect:.2%} end-to-end at alpha {self.alpha:g}; {days} at "
                f"{self.daily_leads:,.1f} leads per day")

    def experiment_block(self, start) -> dict:
        """The ``experiment:`` entry of the next ``sla.yaml``."""
        return {"name": f"test {self.arm}", "arm_column": self.arm_column, "control": self.control,
                "randomized": True, "start": str(start), "unit": "lead",
                "split": {self.control: 0.5, self.arm: 0.5}, "primary_metric": "conversion",
                "min_effect": self.min_effect, "planned_leads": self.total_leads}


def plan_two_arm_test(baseline: float, min_effect: float, *, alpha: float, daily_leads: float,
                      arm_column: str = "test_arm", arm: str = "new", control: str = "current",
                      reason: str = "") -> TestPlan:
    """Size a 50/50 test of ``baseline`` -> ``baseline + min_effect`` (statsmodels ``NormalIndPower``)."""
    per_arm = leads_for_power(baseline, min_effect, alpha=alpha, power=POWER)
    if per_arm is None:
        raise ValueError(f"cannot size a test from baseline {baseline!r} and effect {min_effect!r}")
    return TestPlan(arm_column, arm, control, baseline, min_effect, alpha, per_arm, daily_leads, reason)


def association_to_test(findings: Findings, spec: SlaSpec) -> Finding | None:
    """The association-only worked/adjust finding about a channel or segment with the largest impact."""
    candidates = [f for f in findings.items if f.rule == "breakdown" and not f.causal
                  and f.kind in (FindingKind.WORKED, FindingKind.ADJUST)]
    return max(candidates, key=lambda f: abs(f.impact_customers)) if candidates else None


def next_test(spec: SlaSpec, findings: Findings, experiments: ExperimentsResult, baseline: float | None,
              daily_leads: float) -> tuple[dict | None, str]:
    """The ``experiment:`` block for the next cycle and the reason, or ``(None, why not)``.

    An undecided current test continues (with the leads it still needs); otherwise the strongest
    association becomes a new test, sized at ``analysis.min_effect``.
    """
    for result in experiments.items:
        undecided = [c for c in result.primary if c.verdict is Verdict.NO_CLEAR_DIFFERENCE and c.more_leads_needed]
        if undecided and result.may_claim_cause:
            more = max(c.more_leads_needed for c in undecided)
            block = result.experiment.model_dump(mode="json", exclude_none=True)
            block["planned_leads"] = more
            return block, (f"continue '{result.experiment.label}': no verdict yet, about {more:,} more leads give "
                           f"{POWER:.0%} power at the smallest effect worth acting on")
    finding = association_to_test(findings, spec)
    effect = spec.analysis.min_effect
    if finding is None:
        return None, "no association to test"
    if not effect or baseline is None or not 0 < baseline < 1:
        return None, ("no test planned: set analysis.min_effect (the smallest lift worth acting on) to size one"
                      if not effect else "no test planned: no end-to-end conversion rate to size it from")
    column, level = _column_level(finding)
    arm = level if finding.kind is FindingKind.WORKED else f"changed_{level}"
    try:
        plan = plan_two_arm_test(baseline, effect, alpha=spec.analysis.alpha, daily_leads=daily_leads,
                                 arm_column=f"test_{column}", arm=arm, control="current",
                                 reason=finding.sentence)
    except ValueError as exc:
        return None, f"no test planned: {exc}"
    plan = replace(plan, reason=finding.topic)
    what = "better" if finding.kind is FindingKind.WORKED else "worse"
    return plan.experiment_block(spec.period.end + dt.timedelta(days=1)), (
        f"a randomized test of what {column} {level!r} does, which went together with {what} conversion "
        f"(an association, not yet proof of cause): {plan.text}")


def _column_level(finding: Finding) -> tuple[str, str]:
    """``breakdown:channel=email:mql->sql`` -> ``("channel", "email")``."""
    column_level = finding.topic.split(":", 2)[1]
    column, _, level = column_level.partition("=")
    return column, level
