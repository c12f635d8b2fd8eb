"""Experiments: lifts against hand/scipy figures, the sample-ratio check, the error-control family, and
the causal wording rule on generated randomized tests with known lifts."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sla_toolkit.datasets.email_test import EmailTestSettings, email_test_spec, generate_email_test
from sla_toolkit.errors import SpecError
from sla_toolkit.experiment_spec import Experiment, Metric
from sla_toolkit.experiments import (Verdict, evaluate_experiments, mean_lift, proportion_lift,
                                     sample_ratio_check, with_experiment_findings)
from sla_toolkit.experiments.estimates import gatekept_p_values
from sla_toolkit.findings import Findings
from sla_toolkit.findings.wording import is_causal
from sla_toolkit.spec import spec_from_dict
from sla_toolkit.stats import wilson_interval


def test_absolute_lift_is_newcombes_hybrid_score_interval_built_from_wilson_bounds():
    lift = proportion_lift(150, 10_000, 100, 10_000)
    a, c = wilson_interval(150, 10_000), wilson_interval(100, 10_000)
    d = a.estimate - c.estimate
    low = d - math.sqrt((a.estimate - a.low) ** 2 + (c.high - c.estimate) ** 2)
    high = d + math.sqrt((a.high - a.estimate) ** 2 + (c.estimate - c.low) ** 2)
    assert lift.absolute == pytest.approx(0.005)
    assert (lift.absolute_low, lift.absolute_high) == pytest.approx((low, high), rel=1e-9)
    assert lift.relative == pytest.approx(0.5)
    # log risk-ratio interval with the usual delta-method SE, within the 0.5 adjustment of log-adjusted
    se = math.sqrt(1 / 150 - 1 / 10_000 + 1 / 100 - 1 / 10_000)
    assert lift.relative_low == pytest.approx(1.5 * math.exp(-1.96 * se) - 1, abs=0.01)
    assert 0.0005 < lift.p_value < 0.005


def test_no_conversions_in_either_arm_gives_no_lift_rather_than_a_crash():
    lift = proportion_lift(0, 500, 0, 500)
    assert math.isnan(lift.absolute) and math.isnan(lift.p_value)


def test_revenue_per_lead_is_welchs_t_interval_on_zero_heavy_data():
    rng = np.random.default_rng(4)
    arm = np.where(rng.random(5000) < 0.02, rng.lognormal(4, 1, 5000), 0.0)
    control = np.where(rng.random(4000) < 0.01, rng.lognormal(4, 1, 4000), 0.0)
    lift = mean_lift(arm, control)
    welch = stats.ttest_ind(arm, control, equal_var=False)
    ci = welch.confidence_interval(0.95)
    assert lift.absolute == pytest.approx(arm.mean() - control.mean())
    assert (lift.absolute_low, lift.absolute_high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert lift.p_value == pytest.approx(welch.pvalue, rel=1e-9)
    assert lift.relative_low < lift.relative < lift.relative_high


def test_sample_ratio_check_is_pearsons_chi_square_against_the_planned_split():
    check = sample_ratio_check({"a": 5_200, "b": 4_800}, {"a": 0.5, "b": 0.5})
    expected = stats.chisquare([5_200, 4_800], [5_000, 5_000])
    assert check.p_value == pytest.approx(expected.pvalue) and not check.passed
    assert sample_ratio_check({"a": 5_020, "b": 4_980}, {"a": 0.5, "b": 0.5}).passed
    assert not sample_ratio_check({"a": 10, "b": 10, "x": 1}, {"a": 0.5, "b": 0.5}).passed  # unplanned arm


def test_gatekeeping_holds_secondary_results_until_every_primary_one_is_clear():
    primary, secondary = gatekept_p_values([0.01, 0.02], [0.001, 0.3])
    assert primary == pytest.approx([0.02, 0.02])            # Holm over the arms
    assert secondary == pytest.approx([0.02, 0.3])            # never below the primary gate
    _, blocked = gatekept_p_values([0.01, 0.2], [0.0001])
    assert blocked == pytest.approx([0.2])


def test_experiment_block_loads_one_or_many_and_rejects_bad_splits():
    base = email_test_spec(EmailTestSettings())
    spec = spec_from_dict(base)
    assert len(spec.experiments) == 1 and spec.experiments[0].randomized
    many = dict(base, experiment=[base["experiment"], dict(base["experiment"], name="second")])
    assert len(spec_from_dict(many).experiments) == 2
    assert Experiment(arm_column="a", control="c", holdout=0.1).planned_shares(["c", "x", "y"]) == \
        pytest.approx({"c": 0.1, "x": 0.45, "y": 0.45})
    bad = dict(base, experiment=dict(base["experiment"], split={"no_email": 0.5, "mens_email": 0.3}, colour=1))
    with pytest.raises(SpecError) as caught:
        spec_from_dict(bad)
    assert "experiment.colour: unknown key" in str(caught.value)
    with pytest.raises(SpecError, match="must add up to 1"):
        spec_from_dict(dict(base, experiment=dict(base["experiment"], split={"no_email": 0.5, "mens_email": 0.3})))


def _evaluate(test):
    return evaluate_experiments(test.leads, test.spec, test.leads["created_at"].max()).items[0]


def test_known_lifts_are_recovered_and_worded_as_caused_only_where_randomisation_covers_them():
    test = generate_email_test(EmailTestSettings(seed=11))
    result = _evaluate(test)
    assert result.may_claim_cause and result.sample_ratio.passed
    conversion = result.comparison("mens_email", Metric.CONVERSION)
    assert conversion.primary and conversion.verdict is Verdict.BETTER
    assert conversion.lift.absolute_low < test.true_lift("mens_email", "conversion") < conversion.lift.absolute_high
    per_lead = result.comparison("mens_email", Metric.REVENUE_PER_LEAD)
    assert per_lead.lift.absolute_low < test.true_lift("mens_email", "revenue_per_lead") < per_lead.lift.absolute_high
    assert result.winner == "mens_email"
    findings = with_experiment_findings(Findings(()), evaluate_experiments(test.leads, test.spec,
                                                                           test.leads["created_at"].max()))
    causal = {f.topic for f in findings.items if f.causal}
    worded = {f.topic for f in findings.items if is_causal(f.sentence)}
    assert causal == worded and any(":conversion:" in t for t in causal)
    # a later step and revenue per customer compare leads selected by the outcome: associations only
    assert not any(":revenue_per_customer:" in t or "visit->purchase" in t for t in causal)


def test_a_test_not_declared_randomized_never_claims_a_cause():
    settings = EmailTestSettings(seed=11)
    test = generate_email_test(settings, randomized=False)
    findings = with_experiment_findings(Findings(()), evaluate_experiments(test.leads, test.spec,
                                                                           test.leads["created_at"].max()))
    assert findings.worked and not any(f.causal or is_causal(f.sentence) for f in findings.items)
    assert all("association" in f.sentence for f in findings.worked)


def test_a_sample_ratio_mismatch_is_flagged_and_blocks_causal_wording():
    test = generate_email_test(EmailTestSettings(seed=2).with_srm("mens_email", 0.36))
    result = _evaluate(test)
    assert not result.sample_ratio.passed and not result.may_claim_cause
    findings = with_experiment_findings(Findings(()), evaluate_experiments(test.leads, test.spec,
                                                                           test.leads["created_at"].max()))
    assert any(f.topic.endswith(":sample_ratio") for f in findings.watch)
    assert not any(f.causal or is_causal(f.sentence) for f in findings.items)


def test_an_undecided_primary_metric_says_how_many_more_leads_it_needs():
    test = generate_email_test(EmailTestSettings.null(seed=5, n_leads=6_000))
    result = _evaluate(test)
    undecided = [c for c in result.primary if c.verdict is Verdict.NO_CLEAR_DIFFERENCE]
    assert undecided and all(c.more_leads_needed and c.more_leads_needed > 0 for c in undecided)
    assert "more leads are needed" in result._repr_html_()


def test_holm_matches_statsmodels_and_leaves_untestable_p_values_out():
    from statsmodels.stats.multitest import multipletests

    from sla_toolkit.experiments.estimates import _holm

    p = [0.01, 0.04, 0.03, 0.2, 0.001]
    assert _holm(p[:2] + [math.nan] + p[2:]) == pytest.approx(
        list(multipletests(p, method="holm")[1][:2]) + [math.nan] + list(multipletests(p, method="holm")[1][2:]),
        nan_ok=True)
