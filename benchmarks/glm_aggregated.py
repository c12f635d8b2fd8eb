"""Time and peak memory of the aggregated (sufficient-statistics) GLM fit on 1,000,000 generated leads.

Run: ``.venv/bin/python benchmarks/glm_aggregated.py [--leads N] [--row-level]``. Inputs are only
categorical (channel, region, lead type, company size), so the fit groups leads by covariate pattern
and fits conversions/trials. Time is the best of three runs; peak memory is traced (tracemalloc) in a
separate run so that tracing does not slow the timed ones. ``--row-level`` also fits the same data
lead by lead and prints the largest coefficient difference (slow: about 15 s and several GB at 1M).
"""
from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import pandas as pd

from sla_toolkit.models import AdjustedEffects

COLUMNS = {
    "channel": (["paid_search", "organic", "social", "email", "referral", "events", "partners", "display"],
                [0.0, 0.3, -0.5, -0.8, 0.4, 0.2, 0.6, -0.3]),
    "region": (["north", "south", "east", "west", "central"], [0.0, 0.1, -0.2, 0.15, -0.05]),
    "lead_type": (["inbound", "outbound", "partner"], [0.0, -0.4, 0.25]),
    "company_size": (["small", "medium", "large", "enterprise"], [0.0, 0.2, 0.35, 0.5]),
}


def generate(n: int, seed: int = 0) -> pd.DataFrame:
    """Leads with categorical attributes and a logistic conversion outcome (intercept -2.2)."""
    rng = np.random.default_rng(seed)
    frame, log_odds = {}, np.full(n, -2.2)
    for name, (levels, effects) in COLUMNS.items():
        codes = rng.integers(0, len(levels), n)
        frame[name] = pd.Series(np.asarray(levels, dtype=object)[codes], dtype="str")
        log_odds += np.asarray(effects)[codes]
    frame["converted_in_window"] = rng.random(n) < 1 / (1 + np.exp(-log_odds))
    return pd.DataFrame(frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--row-level", action="store_true")
    args = parser.parse_args()
    frame = generate(args.leads)
    model = AdjustedEffects(list(COLUMNS))
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        model.fit(frame)
        timings.append(time.perf_counter() - start)
    tracemalloc.start()
    AdjustedEffects(list(COLUMNS)).fit(frame)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result = model.result_
    print(f"leads: {len(frame):,}; covariate patterns: {result.n_patterns}; fitted: {result.fitted}")
    print(f"aggregated fit time: best {min(timings):.3f} s (runs: {', '.join(f'{t:.3f}' for t in timings)})")
    print(f"aggregated fit peak traced memory: {peak / 2**20:.1f} MB")
    print(model.summary[["term", "n", "odds_ratio", "ci_low", "ci_high"]].to_string(index=False))
    if args.row_level:
        start = time.perf_counter()
        row_level = AdjustedEffects(list(COLUMNS), aggregate=False).fit(frame)
        print(f"row-level fit time: {time.perf_counter() - start:.1f} s")
        print(f"largest coefficient difference: {(row_level.params_ - model.params_).abs().max():.2e}")


if __name__ == "__main__":
    main()
