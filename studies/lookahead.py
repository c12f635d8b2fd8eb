"""Look-ahead study: a report as of D from an export cut at D equals the full export analysed as of D.

For each seed a campaign is generated, an export is cut at a mid-period date D (leads created later
absent, later stage events, losses, touches and revenue not yet there, spend of completed days only),
and both are analysed as of D. Every figure of ``results.json`` must agree except the data-quality
counts and the scope note (they describe the rows the full export holds).

Run: ``.venv/bin/python studies/lookahead.py [n_seeds]`` (default 20).
"""
from __future__ import annotations

import json
import math
import sys

import pandas as pd

from sla_toolkit.datasets import GeneratorSettings, generate_campaign
from sla_toolkit.pipeline import analyse, lead_data_from_frames

IGNORED = ("data_quality", "scope", "cycle_id")


def differences(left, right, path: str = "") -> list[str]:
    """Paths where two JSON-like values differ (floats compared to 1e-9 relative)."""
    if isinstance(left, dict) and isinstance(right, dict):
        keys = sorted(set(left) | set(right))
        return [d for k in keys for d in differences(left.get(k), right.get(k), f"{path}.{k}")]
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return [f"{path}: {len(left)} vs {len(right)} items"]
        return [d for i, (a, b) in enumerate(zip(left, right)) for d in differences(a, b, f"{path}[{i}]")]
    if isinstance(left, float) and isinstance(right, float):
        same = (math.isnan(left) and math.isnan(right)) or math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-12)
        return [] if same else [f"{path}: {left!r} vs {right!r}"]
    return [] if left == right else [f"{path}: {left!r} vs {right!r}"]


def one_seed(seed: int, expected_leads: float = 3_000, with_models: bool = True) -> list[str]:
    """Differences between the cut export and the full export as of the same mid-period date."""
    campaign = generate_campaign(GeneratorSettings(seed=seed).with_expected_leads(expected_leads))
    start, end = pd.Timestamp(campaign.spec.period.start), pd.Timestamp(campaign.spec.period.end)
    as_of = start + (end - start) * (0.35 + 0.3 * ((seed * 7919) % 100) / 100)
    as_of = as_of.floor("D") + pd.Timedelta(hours=13)
    cut_spend = campaign.full_spend.loc[campaign.full_spend["date"] + pd.Timedelta(days=1) <= as_of]
    cut = lead_data_from_frames(campaign.spec, campaign.observed_at(as_of), cut_spend.reset_index(drop=True))
    full = lead_data_from_frames(campaign.spec, campaign.full_leads, campaign.full_spend)
    reports = [json.loads(json.dumps(analyse(data, as_of=as_of, with_models=with_models).to_dict(), default=str))
               for data in (cut, full)]
    for report in reports:
        for key in IGNORED:
            report.pop(key, None)
    return differences(*reports)


def main(n_seeds: int) -> None:
    failing = 0
    for seed in range(n_seeds):
        found = one_seed(seed)
        failing += bool(found)
        print(f"seed {seed}: {'identical' if not found else f'{len(found)} differences, e.g. {found[:3]}'}")
    print(f"look-ahead study: {n_seeds - failing} of {n_seeds} seeds give identical reports")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
