"""Channel/segment comparisons under drift and a mid-period launch: false findings, power, bias.

The generator (independent of :mod:`sla_toolkit.datasets`): leads arrive uniformly over a 26-week
period; four channels run all period and a fifth (``launch``) starts at mid-period; the base
conversion rate drifts from 8 % to 16 % over the period; the region mix drifts too (``north``
grows from 20 % to 60 %). Every lead's window has elapsed at the as-of date.

* ``aa``: no channel and no region effect. A finding about any channel or region is false.
* ``planted``: channel ``referral`` converts with odds ratio ``PLANTED_ODDS_RATIO``; its true
  effect in points is the mean over its leads of ``p(with) - p(without)``.

Run: ``.venv/bin/python studies/comparisons.py aa [n_seeds]`` or ``... planted [n_seeds]``
(default 200 seeds each).
"""
from __future__ import annotations

import sys

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from sla_toolkit.breakdowns import breakdowns
from sla_toolkit.spec import spec_from_dict

START, DAYS = pd.Timestamp("2025-01-01"), 182
CHANNELS = ("search", "social", "referral", "events", "launch")
PLANTED_ODDS_RATIO = 1.6
LEADS = 20_000      # the documented sample size of both studies (about 2,500 referral leads)
SPEC = spec_from_dict({
    "name": "comparison study", "period": {"start": "2025-01-01", "end": "2025-07-01"},
    "funnel": {"stages": ["lead", "customer"], "windows_days": {"customer": 30}},
    "segments": ["region"], "analysis": {"min_n": 30},
})
AS_OF = START + pd.Timedelta(days=DAYS + 31)


def campaign(seed: int, odds_ratio: float = 1.0, n: int = LEADS) -> tuple[pd.DataFrame, float]:
    """Leads of one seed and the true effect of ``referral`` in points (0 when ``odds_ratio`` is 1)."""
    rng = np.random.default_rng(seed)
    day = rng.uniform(0, DAYS, n)
    progress = day / DAYS
    launched = day >= DAYS / 2
    channel = np.where(launched & (rng.random(n) < 0.3), "launch",
                       rng.choice(CHANNELS[:4], size=n, p=[0.4, 0.3, 0.15, 0.15]))
    region = np.where(rng.random(n) < 0.2 + 0.4 * progress, "north", rng.choice(["south", "west"], size=n))
    base = logit(0.08 + 0.08 * progress)
    planted = channel == "referral"
    p0 = expit(base)
    p1 = expit(base + np.log(odds_ratio) * planted)
    converted = rng.random(n) < p1
    created = START + pd.to_timedelta(day, unit="D")
    delay = pd.to_timedelta(rng.uniform(0, 29, n), unit="D")
    leads = pd.DataFrame({
        "lead_id": pd.Series([f"L{i}" for i in range(n)], dtype="str"), "created_at": created,
        "lead_at": created, "reached_lead": True,
        "customer_at": pd.Series(created + delay).where(converted), "reached_customer": converted,
        "channel": pd.Series(channel, dtype="str"), "region": pd.Series(region, dtype="str")})
    truth = float((p1 - p0)[planted].mean()) if odds_ratio != 1 else 0.0
    return leads, truth


def flagged(leads: pd.DataFrame) -> pd.DataFrame:
    summary = breakdowns(leads, SPEC, AS_OF).summary
    return summary.loc[summary["verdict"].isin(["ABOVE_REST", "BELOW_REST"])]


def aa(n_seeds: int) -> dict[str, float]:
    """Share of seeds with any (false) finding, adjusted verdicts and crude p < 0.05 for reference."""
    false, crude_false = 0, 0
    for seed in range(n_seeds):
        leads, _ = campaign(seed)
        summary = breakdowns(leads, SPEC, AS_OF).summary
        false += bool(summary["verdict"].isin(["ABOVE_REST", "BELOW_REST"]).any())
        crude_false += bool((summary["crude_p_value"] < 0.05).any())
    return {"seeds": n_seeds, "false_finding_share": false / n_seeds, "crude_p_below_0.05_share": crude_false / n_seeds}


def planted(n_seeds: int) -> dict[str, float]:
    """Share of seeds flagging ``referral`` above the rest, and mean reported effect among them vs the truth."""
    found, effects, crude, truths, wrong = 0, [], [], [], 0
    for seed in range(n_seeds):
        leads, truth = campaign(10_000 + seed, PLANTED_ODDS_RATIO)
        truths.append(truth)
        rows = flagged(leads)
        rows = rows.loc[rows["column"] == "channel"]
        hit = rows.loc[rows["level"] == "referral"]
        if len(hit) and hit["verdict"].iloc[0] == "ABOVE_REST":
            found += 1
            effects.append(float(hit["effect"].iloc[0]))
            crude.append(float(hit["lift"].iloc[0]))
        wrong += int((rows["level"] != "referral").sum() > 0)
    truth = float(np.mean(truths))
    mean_effect = float(np.mean(effects)) if effects else float("nan")
    return {"seeds": n_seeds, "leads": LEADS, "true_effect_points": 100 * truth, "found_share": found / n_seeds,
            "mean_reported_effect_points": 100 * mean_effect,
            "relative_error": mean_effect / truth - 1 if effects else float("nan"),
            "mean_crude_lift_points": 100 * float(np.mean(crude)) if crude else float("nan"),
            "seeds_with_another_channel_flagged": wrong / n_seeds}


def main(which: str, n_seeds: int) -> None:
    result = {"aa": aa, "planted": planted}[which](n_seeds)
    print(f"{which}: " + ", ".join(f"{k} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                                   for k, v in result.items()))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "aa", int(sys.argv[2]) if len(sys.argv) > 2 else 200)
