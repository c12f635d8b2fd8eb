"""The generator's conversion model as arrays: shared by the data generator and the truth.

Every covariate is an *axis* with a finite set of levels, their probabilities and, per
transition, the log-odds each level adds. Because the axes are independent and finite, the
population averages in :mod:`.truth` are exact sums over the grid of all level combinations.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from .settings import FollowUpSettings, GeneratorSettings

ON_TIME, LATE = "on_time", "late"
FOLLOW_UP_FACTOR = "late_follow_up"

# Leads arrive mostly in office hours; weights per hour of the day (0..23).
_HOUR_WEIGHTS = np.array([1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 10, 9, 9, 10, 9, 8, 6, 5, 4, 3, 2, 2, 1], dtype=float)
HOUR_PROBABILITIES = _HOUR_WEIGHTS / _HOUR_WEIGHTS.sum()


@dataclass(frozen=True)
class Axis:
    """One covariate: levels, their probabilities, and log-odds per (transition, level)."""

    factor: str
    levels: tuple[str, ...]
    probabilities: np.ndarray
    log_odds: np.ndarray
    numeric: bool = False

    @property
    def reference(self) -> str:
        return self.levels[0]


def _normalised(values) -> np.ndarray:
    array = np.asarray(list(values), dtype=float)
    return array / array.sum()


def build_axes(settings: GeneratorSettings) -> list[Axis]:
    """Channel, segments, numeric features and follow-up lateness, in that order."""
    pop = settings.population
    transitions = settings.transitions
    axes = []
    names = pop.channel_names
    axes.append(Axis("channel", tuple(names), _normalised(c.share for c in pop.channels), np.log(np.array(
        [[t.channel_odds_ratios.get(n, 1.0) for n in names] for t in transitions]))))
    for factor, shares in pop.segments.items():
        levels = tuple(shares)
        axes.append(Axis(factor, levels, _normalised(shares.values()), np.log(np.array(
            [[t.segment_odds_ratios.get(factor, {}).get(level, 1.0) for level in levels] for t in transitions]))))
    for feature in pop.features:
        values = np.arange(feature.trials + 1)
        probabilities = stats.binom.pmf(values, feature.trials, feature.probability)
        slopes = np.array([[t.feature_log_odds.get(feature.name, 0.0)] for t in transitions])
        axes.append(Axis(feature.name, tuple(str(v) for v in values), probabilities, slopes * values, numeric=True))
    late = late_follow_up_probability(settings.follow_up)
    axes.append(Axis(FOLLOW_UP_FACTOR, (ON_TIME, LATE), np.array([1 - late, late]), np.array(
        [[0.0, math.log(t.late_follow_up_odds_ratio)] for t in transitions])))
    return axes


def intercepts(settings: GeneratorSettings) -> np.ndarray:
    """Log-odds at the reference levels, one per transition."""
    return special.logit(np.array([t.reference_rate for t in settings.transitions]))


def rep_late_probabilities(follow_up: FollowUpSettings) -> dict[str, float]:
    """Probability that a lead of each rep is touched later than the promise (or never)."""
    log_limit = math.log(follow_up.within_hours)
    out = {}
    for rep, median in follow_up.rep_median_hours.items():
        slower = float(special.ndtr(-(log_limit - math.log(median)) / follow_up.sigma))
        out[rep] = follow_up.never_touched_share + (1 - follow_up.never_touched_share) * slower
    return out


def late_follow_up_probability(follow_up: FollowUpSettings) -> float:
    """Late share over all reps (reps get equal shares of the leads)."""
    return float(np.mean(list(rep_late_probabilities(follow_up).values())))


def truncated_lognormal(rng: np.random.Generator, size: int, median: float, sigma: float,
                        upper: float) -> np.ndarray:
    """Lognormal draws conditioned on being at most ``upper`` (inverse-CDF sampling)."""
    top = special.ndtr((math.log(upper) - math.log(median)) / sigma)
    return median * np.exp(sigma * special.ndtri(rng.random(size) * top))


def time_of_day_seconds(rng: np.random.Generator, size: int) -> np.ndarray:
    """Seconds after midnight, office-hours heavy."""
    hours = rng.choice(24, size=size, p=HOUR_PROBABILITIES)
    return hours * 3600 + rng.integers(0, 3600, size=size)


def daily_rates(settings: GeneratorSettings) -> np.ndarray:
    """Expected leads per day of the period (linear from start to end)."""
    days = settings.period.days
    inflow = settings.inflow
    return np.linspace(inflow.leads_per_day_at_start, inflow.leads_per_day_at_end, days)
