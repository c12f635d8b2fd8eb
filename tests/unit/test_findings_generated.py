"""Findings on generated campaigns: planted effects are named (and nothing else), A/A data stays quiet."""
from __future__ import annotations

import numpy as np
import pytest

from sla_toolkit.breakdowns import breakdowns
from sla_toolkit.compare import sla_checks
from sla_toolkit.costs import channel_costs
from sla_toolkit.datasets import GeneratorSettings, generate_campaign
from sla_toolkit.findings import derive_findings
from sla_toolkit.findings.adapters import finding_inputs
from sla_toolkit.findings.wording import is_causal
from sla_toolkit.followup import follow_up_sla
from sla_toolkit.pipeline import analyse, lead_data_from_frames
from sla_toolkit.survival import conversion_rates
from sla_toolkit.types import FindingKind

SEGMENT_RULES = {"breakdown", "cost"}


def _comparison_findings(campaign):
    """The finding rules fed with everything they read, without the models (fast enough for 200 seeds)."""
    leads, spec, as_of = campaign.leads, campaign.spec, campaign.as_of
    conversion = conversion_rates(leads, spec, as_of)
    data = lead_data_from_frames(spec, leads, campaign.spend)
    inputs = finding_inputs(spec, data.quality, conversion,
                            sla_checks(leads, spec, as_of, campaign.spend, conversions=conversion),
                            breakdowns(leads, spec, as_of), follow_up_sla(leads, spec, as_of),
                            _no_pacing(), channel_costs(leads, campaign.spend, spec, as_of))
    return derive_findings(inputs)


def _no_pacing():
    from sla_toolkit.pacing import PacingResult  # noqa: F401  (pacing is not a comparison)

    class _Absent:
        target_customers = None
        probability = float("nan")
        days_remaining = 0
    return _Absent()


@pytest.mark.parametrize("seed", [11, 12])
def test_planted_effects_are_found_and_nothing_else(seed):
    campaign = generate_campaign(GeneratorSettings.planted(seed).with_expected_leads(20_000))
    result = analyse(lead_data_from_frames(campaign.spec, campaign.leads, campaign.spend), as_of=campaign.as_of,
                     with_models=False)
    found = result.findings
    planted = {"better channel referral": ("worked", "channel=referral"),
               "worse channel social": ("adjust", "channel=social"),
               "slow follow-up hurts": ("adjust", "follow_up:response_time"),
               "sql->customer under target": ("adjust", "check:rate sql->customer")}
    print(f"\nseed {seed}: planted {sorted(planted)}")
    for f in found.items:
        print(f"  found {f.kind.value:6} {f.rule:13} {f.topic}")
    for what, (kind, topic) in planted.items():
        assert any(f.kind.value == kind and topic in f.topic for f in found.items), what
    breakdown_topics = {f.topic.split(":")[1] for f in found.items if f.rule == "breakdown"}
    assert breakdown_topics == {"channel=referral", "channel=social"}
    directions = {f.topic.split(":")[1]: f.kind for f in found.items if f.rule == "breakdown"}
    assert directions == {"channel=referral": FindingKind.WORKED, "channel=social": FindingKind.ADJUST}
    missed_rates = {f.topic for f in found.adjust if f.topic.startswith("check:rate")}
    assert missed_rates == {"check:rate sql->customer"}
    bottleneck = [f for f in found.items if f.rule == "bottleneck"]
    assert [f.topic for f in bottleneck] == ["check:rate sql->customer"]
    assert not any(is_causal(f.sentence) for f in found.items)


@pytest.mark.slow
def test_aa_data_gives_channel_or_segment_findings_in_at_most_5_percent_of_seeds():
    # 40 seeds here (every comparison is a GLM fit); 200 seeds with drift and a late channel in
    # studies/comparisons.py aa
    seeds = range(40)
    flagged = 0
    for seed in seeds:
        campaign = generate_campaign(GeneratorSettings.null(seed, n_channels=8, expected_leads=3_000))
        findings = _comparison_findings(campaign)
        flagged += any(f.rule in SEGMENT_RULES and f.kind in (FindingKind.WORKED, FindingKind.ADJUST)
                       for f in findings.items)
    rate = flagged / len(seeds)
    error = 2 * np.sqrt(0.05 * 0.95 / len(seeds))
    print(f"\nA/A: a worked/adjust finding about a channel or segment in {flagged}/{len(seeds)} seeds "
          f"({rate:.1%}); bound 5% + {error:.1%} simulation error")
    assert rate <= 0.05 + error


def test_finding_sentences_never_claim_causes():
    campaign = generate_campaign(GeneratorSettings.planted(3).with_expected_leads(20_000))
    result = analyse(lead_data_from_frames(campaign.spec, campaign.leads, campaign.spend), as_of=campaign.as_of,
                     with_models=False)
    texts = [f.sentence for f in result.findings.items] + [f.action for f in result.findings.items]
    assert texts
    # exempt exactly the findings of a randomized test that passed its checks (none here: no experiment)
    offending = [t for f in result.findings.items for t in (f.sentence, f.action) if is_causal(t) and not f.causal]
    assert offending == [] and not any(f.causal for f in result.findings.items)
    assert is_causal("Paid search drove conversions") and is_causal("caused by slow follow-up")
