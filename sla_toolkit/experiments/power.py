"""Sample sizes for a two-arm conversion test (statsmodels ``NormalIndPower`` on Cohen's h).

Example
-------
>>> leads_for_power(0.05, 0.01)   # leads per arm for 80% power to see 5% -> 6% at alpha 0.05
8143
"""
from __future__ import annotations

import math


def leads_for_power(baseline: float, effect: float, *, alpha: float = 0.05, power: float = 0.8,
                    ratio: float = 1.0) -> int | None:
    """Leads in the control arm (the other arm gets ``ratio`` times as many) to detect ``baseline`` ->
    ``baseline + effect`` with a two-sided test at ``alpha``; None when the rates are not usable."""
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    target = baseline + effect
    if not (0 < baseline < 1 and 0 < target < 1 and effect != 0 and ratio > 0):
        return None
    size = abs(proportion_effectsize(target, baseline))
    n = NormalIndPower().solve_power(effect_size=size, alpha=alpha, power=power, ratio=ratio,
                                     alternative="two-sided")
    return int(math.ceil(n))
