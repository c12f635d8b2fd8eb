"""The true parameters behind a generated campaign, for tests that check recovery.

Population-average rates are **exact**: the covariates are independent with finite support
(categorical levels, binomial features, on-time/late follow-up), so each expectation is a
weighted sum over the grid of every combination. Only ``expected_by_deadline`` needs the
distribution of summed stage delays; it uses a fixed-seed Monte Carlo sample of 200,000
delays, independent of the campaign's seed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from ..results import ResultMixin
from . import _model
from .settings import GeneratorSettings

DELAY_DRAWS = 200_000
_DELAY_SEED = 20_250_101


@dataclass(frozen=True)
class TransitionTruth(ResultMixin):
    """True model of one transition.

    ``odds_ratios[factor][level]`` is relative to ``references[factor]`` (which has 1.0);
    ``log_odds_per_unit[feature]`` is the slope of a numeric feature; ``rate`` is the
    population-average eventual conversion rate among leads that entered ``from_stage``.
    """

    name: str
    from_stage: str
    to_stage: str
    intercept: float
    odds_ratios: dict[str, dict[str, float]]
    references: dict[str, str]
    log_odds_per_unit: dict[str, float]
    rate: float
    target: float
    window_days: int
    median_delay_days: float

    @property
    def late_follow_up_odds_ratio(self) -> float:
        return self.odds_ratios[_model.FOLLOW_UP_FACTOR][_model.LATE]

    def to_frame(self) -> pd.DataFrame:
        rows = [{"factor": f, "level": level, "reference": self.references[f], "odds_ratio": ratio,
                 "log_odds": math.log(ratio)}
                for f, levels in self.odds_ratios.items() for level, ratio in levels.items()
                if level != self.references[f]]
        rows += [{"factor": f, "level": "per unit", "reference": "0", "odds_ratio": math.exp(slope),
                  "log_odds": slope} for f, slope in self.log_odds_per_unit.items()]
        return pd.DataFrame(rows).assign(transition=self.name)


@dataclass(frozen=True, eq=False)
class CampaignTruth(ResultMixin):
    """Everything known by construction about a generated campaign.

    Fields
    ------
    transitions : per transition name (``"mql->sql"``), a :class:`TransitionTruth`.
    cumulative_rates : per stage, the probability that a new lead eventually reaches it.
    level_rates : DataFrame (factor, level, transition, share, rate): the true rate among the
        transition's entrants at each level, and that level's share of the entrants.
    expected_leads : expected number of leads created in the period.
    expected_by_deadline : per stage, expected number of the period's leads that reach it by the end.
    late_follow_up_share, rep_late_share : probability that a lead is touched later than the
        promise or never (overall, and per rep).
    cost_per_lead : per paid channel; ``expected_spend`` over the period.
    rate_method : how the rates were computed (exact).
    """

    transitions: dict[str, TransitionTruth]
    cumulative_rates: dict[str, float]
    level_rates: pd.DataFrame
    expected_leads: float
    expected_by_deadline: dict[str, float]
    late_follow_up_share: float
    rep_late_share: dict[str, float]
    cost_per_lead: dict[str, float]
    expected_spend: float
    revenue_median: float
    revenue_mean: float
    rate_method: str
    title: str = "True parameters of the generated campaign"

    @property
    def rates(self) -> dict[str, float]:
        """Population-average eventual conversion rate of each transition, among its entrants."""
        return {name: t.rate for name, t in self.transitions.items()}

    @property
    def lead_to_customer_rate(self) -> float:
        """Probability that a new lead eventually reaches the last stage (first -> last stage)."""
        return list(self.cumulative_rates.values())[-1]

    def odds_ratio(self, transition: str, factor: str, level: str, reference: str | None = None) -> float:
        """True odds ratio of ``level`` against ``reference`` (default: the factor's reference level)."""
        ratios = self.transitions[transition].odds_ratios[factor]
        return ratios[level] / (ratios[reference] if reference is not None else 1.0)

    def to_frame(self) -> pd.DataFrame:
        frames = [t.to_frame() for t in self.transitions.values()]
        return pd.concat(frames, ignore_index=True)[["transition", "factor", "level", "reference", "odds_ratio",
                                                     "log_odds"]]


def compute_truth(settings: GeneratorSettings) -> CampaignTruth:
    """The true parameters implied by ``settings`` (no random data involved)."""
    axes = _model.build_axes(settings)
    intercepts = _model.intercepts(settings)
    reach = _reach_probabilities(axes, intercepts)
    weights = _grid_weights(axes)
    stages = settings.stages
    cumulative = {stage: float((reach[i] * weights).sum()) for i, stage in enumerate(stages)}
    step_rates = [cumulative[b] / cumulative[a] for a, b in zip(stages, stages[1:])]
    level_rates = _level_rates(axes, reach, weights, settings.transition_names)
    rates_by_day = _model.daily_rates(settings)
    expected_leads = float(rates_by_day.sum())
    cost_per_lead = {c.name: c.cost_per_lead for c in settings.population.channels if c.paid}
    shares = dict(zip(axes[0].levels, axes[0].probabilities))
    transitions = {}
    for i, (name, t) in enumerate(zip(settings.transition_names, settings.transitions)):
        odds_ratios = {a.factor: {lv: float(math.exp(a.log_odds[i, j])) for j, lv in enumerate(a.levels)}
                       for a in axes if not a.numeric}
        slopes = {a.factor: float(a.log_odds[i, 1]) for a in axes if a.numeric}
        target = float(np.clip(round(t.target_ratio * step_rates[i], 2), 0.01, 0.99))
        transitions[name] = TransitionTruth(
            name=name, from_stage=stages[i], to_stage=stages[i + 1], intercept=float(intercepts[i]),
            odds_ratios=odds_ratios, references={a.factor: a.reference for a in axes if not a.numeric},
            log_odds_per_unit=slopes, rate=step_rates[i], target=target, window_days=t.delay.window_days,
            median_delay_days=t.delay.median_days)
    return CampaignTruth(
        transitions=transitions, cumulative_rates=cumulative, level_rates=level_rates,
        expected_leads=expected_leads,
        expected_by_deadline=_expected_by_deadline(settings, cumulative, rates_by_day),
        late_follow_up_share=_model.late_follow_up_probability(settings.follow_up),
        rep_late_share=_model.rep_late_probabilities(settings.follow_up),
        cost_per_lead=cost_per_lead,
        expected_spend=float(sum(cpl * shares[c] * expected_leads for c, cpl in cost_per_lead.items())),
        revenue_median=settings.revenue.median,
        revenue_mean=settings.revenue.median * math.exp(settings.revenue.sigma ** 2 / 2),
        rate_method="exact: weighted sums over every combination of the (independent, finite) covariate levels")


def _grid_weights(axes: list[_model.Axis]) -> np.ndarray:
    weights = np.ones(())
    for axis in axes:
        weights = np.multiply.outer(weights, axis.probabilities)
    return weights


def _reach_probabilities(axes: list[_model.Axis], intercepts: np.ndarray) -> list[np.ndarray]:
    """Per stage, the probability of reaching it in every grid cell (stage 0: 1)."""
    shape = tuple(len(a.levels) for a in axes)
    reach = [np.ones(shape)]
    for i, intercept in enumerate(intercepts):
        logit = np.full(shape, intercept)
        for k, axis in enumerate(axes):
            index = [None] * len(axes)
            index[k] = slice(None)
            logit = logit + axis.log_odds[i][tuple(index)]
        reach.append(reach[-1] * special.expit(logit))
    return reach


def _level_rates(axes, reach, weights, transition_names) -> pd.DataFrame:
    rows = []
    for k, axis in enumerate(axes):
        if axis.numeric:
            continue
        other = tuple(j for j in range(len(axes)) if j != k)
        mass = [(r * weights).sum(axis=other) for r in reach]
        for i, name in enumerate(transition_names):
            entered, converted = mass[i], mass[i + 1]
            for j, level in enumerate(axis.levels):
                rows.append({"factor": axis.factor, "level": level, "transition": name,
                             "share": float(entered[j] / entered.sum()), "rate": float(converted[j] / entered[j])})
    return pd.DataFrame(rows)


def _expected_by_deadline(settings: GeneratorSettings, cumulative: dict[str, float],
                          rates_by_day: np.ndarray) -> dict[str, float]:
    """Expected leads reaching each stage by the end of the period (delays by Monte Carlo)."""
    rng = np.random.default_rng(_DELAY_SEED)
    days = len(rates_by_day)
    elapsed = _model.time_of_day_seconds(rng, DELAY_DRAWS) / 86_400.0
    room = days - np.arange(days)  # days from each creation day's midnight to the period end
    out = {}
    for i, stage in enumerate(settings.stages):
        if i > 0:
            delay = settings.transitions[i - 1].delay
            elapsed = elapsed + _model.truncated_lognormal(rng, DELAY_DRAWS, delay.median_days, delay.sigma,
                                                           delay.window_days)
        in_time = np.searchsorted(np.sort(elapsed), room, side="right") / DELAY_DRAWS
        out[stage] = float(cumulative[stage] * (rates_by_day * in_time).sum())
    return out
