"""Simulation study of the experiment evaluation on generated randomized e-mail tests.

Three arms, purchase around 1%, lognormal spend (revenue per lead mostly zeros). Over many seeds:

- coverage: how often the 95% intervals of the end-to-end (recipient -> purchase) lift and of the
  revenue-per-lead lift contain the true lift (both treatment arms);
- null: how often a causal "worked" finding appears when no arm has any effect (A/A/A);
- planted sample-ratio mismatch: how often it is caught, and whether any causal wording slips through;
- planned test: a two-arm test sized by the proposal's test plan (80% power at min_effect), run with that
  many leads and a true effect equal to min_effect: how often it reaches significance.

Run: ``OMP_NUM_THREADS=1 python studies/experiment_study.py [seeds]`` (default 200). The test suite runs the
same functions with fewer seeds (tests/unit/test_experiment_study.py).
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from sla_toolkit.datasets.email_test import ArmSettings, EmailTestSettings, generate_email_test
from sla_toolkit.experiment_spec import Metric
from sla_toolkit.experiments import Verdict, evaluate_experiments, with_experiment_findings
from sla_toolkit.experiments.plan import plan_two_arm_test
from sla_toolkit.findings import Findings
from sla_toolkit.findings.wording import is_causal

ARMS = ("mens_email", "womens_email")
METRICS = {"end-to-end conversion": (Metric.CONVERSION, "conversion"),
           "revenue per lead": (Metric.REVENUE_PER_LEAD, "revenue_per_lead")}


@dataclass(frozen=True)
class Share:
    hits: int
    total: int

    @property
    def rate(self) -> float:
        return self.hits / self.total if self.total else float("nan")

    def __str__(self) -> str:
        return f"{self.hits}/{self.total} = {self.rate:.1%}"


def _evaluated(test):
    experiments = evaluate_experiments(test.leads, test.spec, test.leads["created_at"].max())
    return experiments.items[0], with_experiment_findings(Findings(()), experiments)


def coverage(seeds: range, n_leads: int = 60_000) -> dict[str, Share]:
    """Share of 95% intervals containing the true absolute lift, per metric (both arms pooled)."""
    hits = {name: 0 for name in METRICS}
    total = 0
    for seed in seeds:
        test = generate_email_test(EmailTestSettings(seed=seed, n_leads=n_leads))
        result, _ = _evaluated(test)
        total += len(ARMS)
        for name, (metric, truth_name) in METRICS.items():
            for arm in ARMS:
                lift = result.comparison(arm, metric).lift
                hits[name] += lift.absolute_low <= test.true_lift(arm, truth_name) <= lift.absolute_high
    return {name: Share(h, total) for name, h in hits.items()}


def causal_worked_without_effect(seeds: range, n_leads: int = 60_000) -> Share:
    """Seeds of an A/A/A test in which any finding says an arm caused a lift."""
    flagged = 0
    for seed in seeds:
        _, findings = _evaluated(generate_email_test(EmailTestSettings.null(seed, n_leads)))
        flagged += any(f.causal or is_causal(f.sentence) for f in findings.worked)
    return Share(flagged, len(seeds))


def planted_mismatch(seeds: range, n_leads: int = 60_000, share: float = 0.35) -> tuple[Share, Share]:
    """(seeds where the mismatch was caught, seeds where causal wording appeared anyway)."""
    caught = causal = 0
    for seed in seeds:
        test = generate_email_test(EmailTestSettings(seed=seed, n_leads=n_leads).with_srm("mens_email", share))
        result, findings = _evaluated(test)
        caught += not result.sample_ratio.passed
        causal += any(f.causal or is_causal(f.sentence) for f in findings.items)
    return Share(caught, len(seeds)), Share(causal, len(seeds))


def planned_test_power(seeds: range, baseline: float = 0.01, min_effect: float = 0.004) -> tuple[int, Share]:
    """Leads the plan asks for, and the share of seeds in which that test's primary metric is significant
    when the true effect equals ``min_effect``."""
    plan = plan_two_arm_test(baseline, min_effect, alpha=0.05, daily_leads=1_000.0)
    visit = 0.125
    arms = {"control": ArmSettings(visit, baseline / visit), "new": ArmSettings(visit, (baseline + min_effect) / visit)}
    significant = 0
    for seed in seeds:
        settings = EmailTestSettings(seed=seed, n_leads=plan.total_leads, arms=arms, control="control")
        result, _ = _evaluated(generate_email_test(settings))
        significant += result.comparison("new", Metric.CONVERSION).verdict is Verdict.BETTER
    return plan.total_leads, Share(significant, len(seeds))


def main(n_seeds: int = 200) -> None:
    seeds = range(n_seeds)
    started = time.perf_counter()
    for name, share in coverage(seeds).items():
        print(f"coverage of 95% intervals, {name} lift (2 arms x {n_seeds} seeds): {share}  [target 93-97%]")
    print(f"no true lift: causal 'worked' in {causal_worked_without_effect(seeds)} of seeds  [target <= 5%]")
    caught, causal = planted_mismatch(seeds)
    print(f"planted sample-ratio mismatch (35% vs 32.5%/32.5%): caught in {caught}  [target >= 95%]; "
          f"causal wording in {causal}  [target 0]")
    leads, power = planned_test_power(seeds)
    print(f"planned test (1.0% -> 1.4%, {leads:,} leads): significant in {power}  [target 75-85%]")
    print(f"{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
