"""Test plans (power, leads, days) written into next_sla.yaml, and mix shifts that follow the evidence."""
from __future__ import annotations

import math

import pytest
import yaml
from scipy.stats import norm

from sla_toolkit.datasets import GeneratorSettings, generate_campaign
from sla_toolkit.datasets.email_test import EmailTestSettings, generate_email_test
from sla_toolkit.experiments import leads_for_power
from sla_toolkit.experiments.plan import plan_two_arm_test
from sla_toolkit.pipeline import analyse, lead_data_from_frames
from sla_toolkit.spec import spec_from_dict


def test_leads_for_power_is_the_normal_approximation_on_cohens_h():
    h = 2 * math.asin(math.sqrt(0.014)) - 2 * math.asin(math.sqrt(0.01))
    by_hand = 2 * ((norm.ppf(0.975) + norm.ppf(0.8)) / h) ** 2   # per arm: Var(h-hat) = 2/n
    assert leads_for_power(0.01, 0.004) == math.ceil(by_hand)
    plan = plan_two_arm_test(0.01, 0.004, alpha=0.05, daily_leads=500.0)
    assert plan.total_leads == 2 * math.ceil(by_hand) and plan.days == pytest.approx(plan.total_leads / 500)


def test_an_association_becomes_a_planned_randomized_test_in_next_sla_yaml():
    campaign = generate_campaign(GeneratorSettings.planted(3).with_expected_leads(20_000))
    spec = spec_from_dict({**campaign.spec.to_dict(),
                           "analysis": {**campaign.spec.analysis.model_dump(mode="json"), "min_effect": 0.01}})
    result = analyse(lead_data_from_frames(spec, campaign.leads, campaign.spend), as_of=campaign.as_of,
                     with_models=False)
    associations = [f for f in result.findings.items if f.rule == "breakdown"]
    assert associations and not any(f.causal for f in associations)
    proposed = yaml.safe_load(result.proposal.yaml_text)
    block = proposed["experiment"]
    assert block["randomized"] is True and block["control"] == "current"
    assert len(block["split"]) == 2 and "current" in block["split"] and set(block["split"].values()) == {0.5}
    # the test is sized on the observed rate (the lead target itself is planned at 80 % confidence)
    baseline = result.spec.objectives.customers / result.reverse_funnel.needed(result.spec.funnel.first)[0]
    assert block["planned_leads"] == pytest.approx(2 * leads_for_power(baseline, 0.01), rel=0.05)
    assert block["start"] == str(result.proposal.spec.period.start)
    change = next(c for c in result.proposal.changes if c.path == "experiment")
    assert "leads give 80% power" in change.reason and "days at" in change.reason
    assert "not yet proof of cause" in change.reason
    assert spec_from_dict(proposed).experiments[0].planned_leads == block["planned_leads"]   # the next cycle loads it


def test_a_randomized_winner_gains_share_and_may_move_further_than_an_association():
    test = generate_email_test(EmailTestSettings(seed=3, n_leads=30_000))
    result = analyse(lead_data_from_frames(test.spec, test.leads), with_models=False)
    winner = result.experiments.items[0].winner
    assert winner == "mens_email"
    shares = test.leads["arm"].value_counts(normalize=True)
    mix = result.proposal.spec.channel_mix
    assert mix[winner] > shares[winner] and mix["no_email"] < shares["no_email"]    # never the reverse
    bound = result.spec.analysis.max_mix_shift
    assert mix[winner] - shares[winner] > bound * shares[winner]                    # further than an association
    assert mix[winner] - shares[winner] <= 2 * bound * shares[winner] + 1e-4        # still bounded
