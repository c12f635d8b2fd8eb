"""Coverage of the 95% interval of the win rate among decided deals, over 200 generated pipelines.

Each seed draws 1,500 deals over H1 2025 (won with probability 0.35, else lost, after a delay with the
same distribution for wins and losses; deals not decided by the as-of date stay open) and runs
:func:`sla_toolkit.decided.decided_deals`, the estimator the cycle report uses. The printed coverage
must lie in 93–97 %. The test suite runs 60 seeds (tests/unit/test_decided.py).

Run: ``python studies/win_rate_coverage.py [seeds]``
"""
from __future__ import annotations

import sys
import time

import numpy as np

from sla_toolkit.datasets.deals import win_rate_covers


def main(seeds: int = 200, truth: float = 0.35) -> float:
    started = time.perf_counter()
    covered = np.array([win_rate_covers(seed, truth) for seed in range(seeds)])
    rate = covered.mean()
    se = np.sqrt(rate * (1 - rate) / seeds)
    print(f"win rate among decided deals, truth {truth}: 95% Wilson interval covered it in {covered.sum()} of "
          f"{seeds} seeds = {100 * rate:.1f}% (± {196 * se:.1f} points); {time.perf_counter() - started:.0f} s")
    return rate


if __name__ == "__main__":
    coverage = main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
    sys.exit(0 if 0.93 <= coverage <= 0.97 else 1)
