"""Experiment results as findings. The only place in the toolkit where a sentence may name a cause:
a randomized test whose arm sizes match the plan, with a lift that survives the family's error control.
Every such finding carries ``causal=True``; everything else stays worded as an association."""
from __future__ import annotations

import math

from ..experiment_spec import Metric
from ..findings.model import Confidence, Evidence, Finding, Findings, NoEvidence
from ..findings.wording import humanize, money, pct
from ..types import FindingKind
from .result import ArmComparison, ExperimentResult, ExperimentsResult, Verdict

_KIND_ORDER = {FindingKind.ADJUST: 0, FindingKind.WORKED: 1, FindingKind.WATCH: 2}


def with_experiment_findings(findings: Findings, experiments: ExperimentsResult) -> Findings:
    """``findings`` plus one finding per clear arm result (and a watch item per failed sample-ratio check)."""
    if not experiments:
        return findings
    items, quiet = list(findings.items), list(findings.no_evidence)
    for result in experiments.items:
        found, silent = experiment_findings(result)
        items += found
        quiet += silent
    items.sort(key=lambda f: (_KIND_ORDER[f.kind], -abs(f.impact_customers)))
    return Findings(tuple(items), tuple(quiet), findings.levers_note)


def experiment_findings(result: ExperimentResult) -> tuple[list[Finding], list[NoEvidence]]:
    items, quiet = [], []
    label = result.experiment.label
    if not result.sample_ratio.passed:
        items.append(Finding(
            FindingKind.WATCH, f"experiment:{label}:sample_ratio",
            f"Test '{label}': {result.sample_ratio.text}. Its lifts are reported as associations only.",
            Evidence(result.sample_ratio.statistic, math.nan, math.nan, sum(result.sample_ratio.observed.values()),
                     result.sample_ratio.p_value, unit="chi2"),
            "check how leads were assigned to arms (broken randomisation, lost tracking, bots) before trusting "
            "this test", "experiments", Confidence.HIGH, rule="experiment"))
    for comparison in result.comparisons:
        topic = f"experiment:{label}:{comparison.arm}:{comparison.metric.value}:{comparison.label}"
        if comparison.verdict in (Verdict.BETTER, Verdict.WORSE):
            items.append(_finding(result, comparison, topic))
        elif comparison.primary:
            quiet.append(NoEvidence(topic, _why_not(comparison),
                                    label=f"Test '{label}': {humanize(comparison.arm)} vs control, "
                                          f"{_measure_words(comparison)}"))
    return items, quiet


def _finding(result: ExperimentResult, c: ArmComparison, topic: str) -> Finding:
    better = c.verdict is Verdict.BETTER
    causal = result.may_claim_cause and c.over_all_leads
    arm, label = humanize(c.arm), result.experiment.label
    what = _measure_words(c)
    lift = _lift_words(c, result.confidence)
    if causal:
        claim = (f"In the randomized test '{label}', {arm} caused {'a rise' if better else 'a fall'} in {what} "
                 f"against {humanize(result.experiment.control)}: {lift}")
    else:
        why = ("the test was not declared randomized" if not result.experiment.randomized
               else "the arm sizes do not match the planned split" if not result.sample_ratio.passed
               else "it compares only leads that reached an earlier stage, which the arm itself changed")
        claim = (f"In test '{label}', {arm} was associated with {'higher' if better else 'lower'} {what} than "
                 f"{humanize(result.experiment.control)}: {lift}; an association, not proof of cause, "
                 f"because {why}")
    action = (("roll it out to more leads" if c.primary else "keep watching it with the primary metric")
              if better else ("stop it or rework it" if c.primary else "look into it before rolling out"))
    lift_obj = c.lift
    impact = lift_obj.absolute * (lift_obj.n_arm + lift_obj.n_control) if c.metric is Metric.CONVERSION else 0.0
    unit = "money" if c.metric in (Metric.REVENUE_PER_LEAD, Metric.REVENUE_PER_CUSTOMER) else "points"
    confidence = Confidence.HIGH if causal and c.adjusted_p < result.alpha / 10 else Confidence.MEDIUM
    return Finding(FindingKind.WORKED if better else FindingKind.ADJUST, topic, claim + ".",
                   Evidence(lift_obj.absolute, lift_obj.absolute_low, lift_obj.absolute_high,
                            lift_obj.n_arm + lift_obj.n_control, lift_obj.p_value, c.adjusted_p, unit),
                   action, "experiments", confidence, impact, rule="experiment", causal=causal)


def _measure_words(c: ArmComparison) -> str:
    if c.metric is Metric.CONVERSION:
        return f"conversion {c.label.replace('->', ' to ')}"
    if c.metric is Metric.STEP:
        return f"step conversion {c.label.replace('->', ' to ')}"
    return c.label


def _lift_words(c: ArmComparison, confidence: float = 0.95) -> str:
    lift, level = c.lift, round(100 * confidence)
    if c.metric in (Metric.REVENUE_PER_LEAD, Metric.REVENUE_PER_CUSTOMER):
        values = f"{money(lift.arm_value)} vs {money(lift.control_value)}"
        absolute = f"{lift.absolute:+,.2f} ({level}% CI {lift.absolute_low:+,.2f} to {lift.absolute_high:+,.2f})"
    else:
        values = f"{pct(lift.arm_value, 2)} vs {pct(lift.control_value, 2)}"
        absolute = (f"{100 * lift.absolute:+.2f} points ({level}% CI {100 * lift.absolute_low:+.2f} to "
                    f"{100 * lift.absolute_high:+.2f})")
    relative = ("" if math.isnan(lift.relative) else
                f", relative {lift.relative:+.0%}" + ("" if math.isnan(lift.relative_low) else
                                                     f" ({lift.relative_low:+.0%} to {lift.relative_high:+.0%})"))
    return (f"{values}, {absolute}{relative}; adjusted p = {c.adjusted_p:.3g}; n = {lift.n_arm:,} vs "
            f"{lift.n_control:,}")


def _why_not(c: ArmComparison) -> str:
    if c.verdict is Verdict.INSUFFICIENT_DATA:
        return f"too few leads ({c.lift.n_arm:,} in the arm, {c.lift.n_control:,} in control)"
    if c.verdict is Verdict.CANNOT_TEST:
        return "cannot test: no conversions (or no variation) in either arm"
    more = (f"; underpowered: about {c.more_leads_needed:,} more leads are needed for 80% power at the smallest "
            "effect worth acting on" if c.more_leads_needed else "")
    return (f"{humanize(c.arm)}: no clear difference from control on the primary metric "
            f"({_lift_words(c)}){more}")
