"""A small vectorised campaign generator with known truth, for the statistical tests.

Every lead's whole future is drawn (stage times may lie after the as-of date); tests then
replay the table at an as-of date with :func:`sla_toolkit.outcomes.as_of_view`, which is
exactly the censoring a real export has.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sla_toolkit.spec import SlaSpec, spec_from_dict
from sla_toolkit.types import reached_column, stage_column

START = pd.Timestamp("2027-01-01")


@dataclass(frozen=True)
class Campaign:
    """Generator settings. ``step_rates[i]`` is the eventual rate of stage i -> i+1; every
    conversion happens within that stage's window, so eventual rate = rate within the window."""

    stages: tuple[str, ...] = ("lead", "mql", "customer")
    step_rates: tuple[float, ...] = (0.4, 0.3)
    mean_delay_days: tuple[float, ...] = (5.0, 15.0)
    windows_days: tuple[int, ...] = (30, 90)
    period_days: int = 120
    daily_leads: float = 20.0
    recent_heavy: bool = False   # arrival density grows linearly over the period (many young leads)
    lost_share: float = 0.5      # share of non-converters marked lost some days after their last stage

    @property
    def overall_rate(self) -> float:
        return float(np.prod(self.step_rates))


def simulate(campaign: Campaign, seed: int) -> pd.DataFrame:
    """The complete (uncensored) lead table of one campaign."""
    rng = np.random.default_rng(seed)
    n = int(rng.poisson(campaign.daily_leads * campaign.period_days))
    fraction = rng.random(n)
    if campaign.recent_heavy:
        fraction = np.sqrt(fraction)
    created = START + pd.to_timedelta(np.sort(fraction) * campaign.period_days, unit="D")
    leads = pd.DataFrame({"lead_id": [f"L{i:06d}" for i in range(n)], "created_at": created.as_unit("us")})
    leads["channel"] = rng.choice(np.array(["search", "social", "email"]), size=n, p=[0.5, 0.3, 0.2])
    first = campaign.stages[0]
    leads[reached_column(first)] = True
    leads[stage_column(first)] = leads["created_at"]
    reached = np.ones(n, dtype=bool)
    at = leads["created_at"].to_numpy()
    last_seen = at.copy()
    for i, stage in enumerate(campaign.stages[1:]):
        mean, window = campaign.mean_delay_days[i], campaign.windows_days[i]
        converts = reached & (rng.random(n) < campaign.step_rates[i])
        u = rng.random(n)
        delay_days = -mean * np.log1p(-u * (1 - np.exp(-window / mean)))  # exponential truncated to the window
        at = at + pd.to_timedelta(delay_days, unit="D").to_numpy()
        leads[reached_column(stage)] = converts
        leads[stage_column(stage)] = pd.Series(np.where(converts, at, np.datetime64("NaT")),
                                               dtype="datetime64[us]")
        last_seen = np.where(converts, at, last_seen)
        reached = converts
    final = leads[reached_column(campaign.stages[-1])].to_numpy()
    lost = ~final & (rng.random(n) < campaign.lost_share)
    lost_delay = pd.to_timedelta(rng.exponential(10.0, n), unit="D").to_numpy()
    leads["lost_at"] = pd.Series(np.where(lost, last_seen + lost_delay, np.datetime64("NaT")),
                                 dtype="datetime64[us]")
    return leads


def spec_for(campaign: Campaign, **overrides) -> SlaSpec:
    """An SLA spec matching the campaign (targets and objectives may be overridden)."""
    stages = list(campaign.stages)
    data = {
        "name": "simulated",
        "period": {"start": START.date().isoformat(),
                   "end": (START + pd.Timedelta(days=campaign.period_days - 1)).date().isoformat()},
        "funnel": {"stages": stages,
                   "windows_days": dict(zip(stages[1:], campaign.windows_days)),
                   "targets": {f"{a}->{b}": r for a, b, r in zip(stages, stages[1:], campaign.step_rates)}},
        "objectives": {"customers": 100},
        "analysis": {"min_n": 30, "simulations": 2000, "seed": 1},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return spec_from_dict(data)


def hand_table(rows: list[tuple], stages: tuple[str, ...] = ("lead", "mql", "sql", "customer"),
               delays_days: tuple[float, ...] = (2, 3, 15)) -> pd.DataFrame:
    """A canonical table from ``(furthest_stage, channel, created)`` rows, for hand-computed tests.

    Stage ``i`` is reached ``sum(delays_days[:i])`` days after creation.
    """
    furthest = np.array([stages.index(r[0]) for r in rows])
    created = pd.to_datetime(pd.Series([r[2] for r in rows])).astype("datetime64[us]")
    leads = pd.DataFrame({"lead_id": [f"H{i}" for i in range(len(rows))], "created_at": created,
                          "channel": pd.Series([r[1] for r in rows], dtype="str")})
    offset = pd.Timedelta(0)
    for i, stage in enumerate(stages):
        if i:
            offset += pd.Timedelta(days=delays_days[i - 1])
        reached = furthest >= i
        leads[reached_column(stage)] = reached
        leads[stage_column(stage)] = (created + offset).where(reached)
    return leads
