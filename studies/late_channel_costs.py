"""A channel launched late, at the same true cost per customer: how often is it a cost finding?

The generator (independent of :mod:`sla_toolkit.datasets`): a 120-day cycle, 1,000 spent per day on
each channel from its launch; leads per day are Poisson (spend ÷ cost per lead); a lead converts with
the channel's probability after a lognormal delay (median 15 days, capped at the 60-day window).
``search`` (50 leads a day, p = 0.10) and ``social`` (100 a day, p = 0.05) run from day 0; ``video``
(40 a day, p = 0.125) launches on day ``LAUNCH_DAY``. All three cost 200 per customer. The report runs
as of the cycle's end, so video's leads are young: counted so far it looks dearer.

Per seed the cost rules see the cost table alone (their own Benjamini–Hochberg family) and a finding
is any ``worked``/``adjust`` about a channel's cost. Scenarios:

* ``same_cost``: the acceptance criterion, cost findings in at most 5 % of seeds; the share with the
  old "customers so far" basis is printed beside it.
* ``cheaper``: video converts at p = 0.25 (100 per customer, half the others'): power, the share of
  seeds where video is a ``worked`` cost finding.

Run: ``nice -n 10 .venv/bin/python studies/late_channel_costs.py [n_seeds [scenario ...]]`` (default 200).

Last run (2026-12-02, 200 seeds): ``same_cost`` cost findings in 0.025 of seeds (customers so far: 0.47);
``cheaper`` video a ``worked`` cost finding in 1.00.
"""
from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from sla_toolkit.costs import channel_costs
from sla_toolkit.findings import derive_findings
from sla_toolkit.findings.inputs import CostComparison, FindingInputs, records
from sla_toolkit.spec import spec_from_dict
from sla_toolkit.types import FindingKind

START, DAYS, LAUNCH_DAY, DAILY_SPEND = pd.Timestamp("2025-01-06"), 120, 50, 1000.0
AS_OF = START + pd.Timedelta(days=DAYS)
CHANNELS = {"search": (0, 50.0, 0.10), "social": (0, 100.0, 0.05), "video": (LAUNCH_DAY, 40.0, 0.125)}
SPEC = spec_from_dict({
    "name": "late channel costs", "period": {"start": str(START.date()),
                                             "end": str((AS_OF - pd.Timedelta(days=1)).date())},
    "funnel": {"stages": ["lead", "customer"], "windows_days": {"customer": 60}},
    "objectives": {"customers": 1000}, "analysis": {"min_n": 30}})


def campaign(seed: int, video_rate: float = 0.125) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Leads (as seen at the as-of date) and daily spend."""
    rng = np.random.default_rng(seed)
    leads, spend = [], []
    for name, (launch, per_day, rate) in CHANNELS.items():
        rate = video_rate if name == "video" else rate
        days = np.arange(launch, DAYS)
        counts = rng.poisson(per_day, days.size)
        day = np.repeat(days, counts) + rng.random(counts.sum())
        created = START + pd.to_timedelta(day, unit="D")
        delay = np.minimum(rng.lognormal(np.log(15), 0.8, day.size), 60)
        won_at = pd.Series(created + pd.to_timedelta(delay, unit="D")).where(rng.random(day.size) < rate)
        won_at = won_at.where(won_at < AS_OF)
        leads.append(pd.DataFrame({"created_at": created, "lead_at": created, "reached_lead": True,
                                   "customer_at": won_at, "reached_customer": won_at.notna(), "channel": name}))
        spend.append(pd.DataFrame({"date": START + pd.to_timedelta(days, unit="D"), "channel": name,
                                   "campaign": name, "spend": DAILY_SPEND}))
    table = pd.concat(leads, ignore_index=True)
    table.insert(0, "lead_id", pd.Series([f"L{i}" for i in range(len(table))], dtype="str"))
    return table, pd.concat(spend, ignore_index=True)


def cost_findings(leads: pd.DataFrame, spend: pd.DataFrame, as_of: pd.Timestamp | None) -> dict[str, str]:
    """Channel -> kind of its cost finding (``as_of`` None: the old basis, customers counted so far)."""
    costs = channel_costs(leads, spend, SPEC, as_of)
    inputs = FindingInputs(SPEC, (), (), {}, costs=records(CostComparison, costs.table))
    return {f.topic.split(":", 1)[1]: f.kind.value for f in derive_findings(inputs).items
            if f.rule == "cost" and f.kind in (FindingKind.WORKED, FindingKind.ADJUST)}


def study(scenario: str, n_seeds: int) -> dict:
    video_rate = 0.25 if scenario == "cheaper" else 0.125
    any_new, any_old, video_worked = 0, 0, 0
    for seed in range(n_seeds):
        leads, spend = campaign(seed, video_rate)
        new = cost_findings(leads, spend, AS_OF)
        any_new += bool(new)
        any_old += bool(cost_findings(leads, spend, None))
        video_worked += new.get("video") == "worked"
    return {"scenario": scenario, "seeds": n_seeds, "launch_day": LAUNCH_DAY,
            "cost_finding_share": any_new / n_seeds, "old_basis_cost_finding_share": any_old / n_seeds,
            "video_worked_share": video_worked / n_seeds}


def main(n_seeds: int, scenarios: tuple[str, ...]) -> None:
    for scenario in scenarios:
        result = study(scenario, n_seeds)
        print(", ".join(f"{k} = {v:.3f}" if isinstance(v, float) else f"{k} = {v}" for k, v in result.items()),
              flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200, tuple(sys.argv[2:]) or ("same_cost", "cheaper"))
