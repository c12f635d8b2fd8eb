"""Synthetic campaigns with known true effects, and the bundled sample data.

>>> from sla_toolkit.datasets import GeneratorSettings, generate_campaign
>>> campaign = generate_campaign(GeneratorSettings.planted(seed=7))
>>> sorted(campaign.truth.rates)
['lead->mql', 'mql->sql', 'sql->customer']
"""
from .examples import example_paths, load_example_leads
from .generate import Campaign, generate_campaign, observation_time
from .settings import (BinomialFeature, ChannelSettings, DelaySettings, FollowUpSettings, GeneratorSettings,
                       InflowSettings, PeriodSettings, PopulationSettings, RevenueSettings, TransitionSettings)
from .truth import CampaignTruth, TransitionTruth, compute_truth
from .writers import CampaignPaths, write_campaign

__all__ = [
    "BinomialFeature", "Campaign", "CampaignPaths", "CampaignTruth", "ChannelSettings", "DelaySettings",
    "FollowUpSettings", "GeneratorSettings", "InflowSettings", "PeriodSettings", "PopulationSettings",
    "RevenueSettings", "TransitionSettings", "TransitionTruth", "compute_truth", "example_paths",
    "generate_campaign", "load_example_leads", "observation_time", "write_campaign",
]
