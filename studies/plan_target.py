"""Does the proposed lead target reach the customer objective with probability ``plan_confidence``?

The generator (independent of :mod:`sla_toolkit.datasets`): a 91-day cycle; leads arrive evenly
(Poisson per day, uniform within the day); each converts eventually with probability ``p`` after a
lognormal delay (median 9 days, capped at 60 days), or never. The report runs at the end of the cycle
(as of the deadline: recent leads are still open) and proposes ``objectives.leads`` (the plan of
:mod:`sla_toolkit.lead_plan`). The next cycle is then simulated from the *true* process with exactly
that many leads, arriving evenly, and counts the customers won by its deadline.

Per seed two figures: ``reached`` (the simulated next cycle reached the target: the acceptance
criterion, a Bernoulli with the plan's real success probability) and ``true_probability``
(that success probability itself, exact: the customers by the deadline are Binomial(N, q) with ``q``
the true chance that an evenly arriving lead converts by the deadline). Their means over seeds should
both be ``plan_confidence`` ± 3 points; the second has far less noise.

Scenarios:

* ``deadline``: 40 leads a day, p = 0.12, target 300 customers; dated stages (by-deadline basis).
* ``small``: 6 leads a day, p = 0.10, target 40; dated stages, wide rate uncertainty.
* ``flags``: 3,000 leads, stages known only as flags (lead → mql 0.3, mql → customer 0.25), target 150
  (overall-rate basis; every conversion counts, there is no deadline to miss).

Run: ``nice -n 10 .venv/bin/python studies/plan_target.py [n_seeds [scenario ...]]`` (default 1000 seeds).

Last run (2026-12-02, 1,000 seeds, plan_confidence 0.8): ``deadline`` reached 0.821, mean true probability
0.802 (customers ÷ rate: 0.502).
"""
from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
from scipy.stats import binom, lognorm

from sla_toolkit.spec import spec_from_dict
from sla_toolkit.targets import reverse_funnel

START, DAYS = pd.Timestamp("2025-01-06"), 91
END = START + pd.Timedelta(days=DAYS - 1)
MEDIAN_DELAY, DELAY_SIGMA, MAX_DELAY = 9.0, 0.9, 60.0
SCENARIOS = {"deadline": dict(per_day=40, p=0.12, target=300),
             "small": dict(per_day=6, p=0.10, target=40),
             "flags": dict(leads=3000, steps=(0.3, 0.25), target=150)}


def make_spec(scenario: str, plan_confidence: float = 0.8, simulations: int = 4000):
    setting = SCENARIOS[scenario]
    stages = ["lead", "mql", "customer"] if scenario == "flags" else ["lead", "customer"]
    return spec_from_dict({
        "name": f"plan study {scenario}", "period": {"start": str(START.date()), "end": str(END.date())},
        "funnel": {"stages": stages, "windows_days": {"customer": 60}},
        "objectives": {"customers": setting["target"]},
        "analysis": {"simulations": simulations, "plan_confidence": plan_confidence, "seed": 1}})


def true_deadline_rate(p: float) -> float:
    """Chance that a lead arriving uniformly over the cycle converts before its end."""
    left = DAYS - (np.arange(200_000) + 0.5) / 200_000 * DAYS
    delay = lognorm(DELAY_SIGMA, scale=MEDIAN_DELAY)
    return float(p * np.where(left > MAX_DELAY, 1.0, delay.cdf(left)).mean())


def dated_cycle(per_day: float, p: float, rng: np.random.Generator) -> pd.DataFrame:
    counts = rng.poisson(per_day, DAYS)
    day = np.repeat(np.arange(DAYS), counts) + rng.random(counts.sum())
    n = day.size
    created = START + pd.to_timedelta(day, unit="D")
    delay = np.minimum(rng.lognormal(np.log(MEDIAN_DELAY), DELAY_SIGMA, n), MAX_DELAY)
    customer_at = pd.Series(created + pd.to_timedelta(delay, unit="D")).where(rng.random(n) < p)
    as_of = END + pd.Timedelta(days=1)
    customer_at = customer_at.where(customer_at < as_of)      # the report sees only what had happened
    return pd.DataFrame({"lead_id": pd.Series([f"L{i}" for i in range(n)], dtype="str"), "created_at": created,
                         "lead_at": created, "reached_lead": True, "customer_at": customer_at,
                         "reached_customer": customer_at.notna()})


def flag_cycle(leads: int, steps: tuple[float, float], rng: np.random.Generator) -> pd.DataFrame:
    mql = rng.random(leads) < steps[0]
    customer = mql & (rng.random(leads) < steps[1])
    return pd.DataFrame({"lead_id": pd.Series([f"F{i}" for i in range(leads)], dtype="str"), "created_at": pd.NaT,
                         "reached_lead": True, "reached_mql": mql, "reached_customer": customer})


def one_seed(scenario: str, seed: int, plan_confidence: float = 0.8) -> dict:
    """Plan from one generated cycle, then the next cycle simulated with the planned leads."""
    setting, rng = SCENARIOS[scenario], np.random.default_rng(seed)
    spec = make_spec(scenario, plan_confidence)
    if scenario == "flags":
        leads, q = flag_cycle(setting["leads"], setting["steps"], rng), float(np.prod(setting["steps"]))
    else:
        leads, q = dated_cycle(setting["per_day"], setting["p"], rng), true_deadline_rate(setting["p"])
    plan = reverse_funnel(leads, spec, END + pd.Timedelta(days=1)).plan
    n, target = plan.leads, setting["target"]
    if scenario == "flags":
        won = int(rng.binomial(n, q))
    else:
        arrival = rng.random(n) * DAYS
        delay = np.minimum(rng.lognormal(np.log(MEDIAN_DELAY), DELAY_SIGMA, n), MAX_DELAY)
        won = int(((rng.random(n) < setting["p"]) & (arrival + delay < DAYS)).sum())
    return {"leads": n, "reached": won >= target, "true_probability": float(binom.sf(target - 1, n, q)),
            "at_rate_probability": float(binom.sf(target - 1, plan.leads_at_rate, q)),
            "basis": plan.basis.value}


def study(scenario: str, n_seeds: int, plan_confidence: float = 0.8) -> dict:
    rows = pd.DataFrame([one_seed(scenario, seed, plan_confidence) for seed in range(n_seeds)])
    return {"scenario": scenario, "seeds": n_seeds, "plan_confidence": plan_confidence,
            "basis": rows["basis"].iloc[0], "reached_share": float(rows["reached"].mean()),
            "mean_true_probability": float(rows["true_probability"].mean()),
            "mean_leads": float(rows["leads"].mean()),
            "customers_over_rate_true_probability": float(rows["at_rate_probability"].mean())}


def main(n_seeds: int, scenarios: tuple[str, ...]) -> None:
    """One JSON line per scenario (probabilities to 3 decimals)."""
    for scenario in scenarios:
        figures = {k: round(v, 3) if isinstance(v, float) else v for k, v in study(scenario, n_seeds).items()}
        print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000, tuple(sys.argv[2:]) or tuple(SCENARIOS))
