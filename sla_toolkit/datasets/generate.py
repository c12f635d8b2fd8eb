"""Draw a synthetic campaign: leads with every eventual outcome, the view at ``as_of``, spend.

The recipe (all vectorised numpy, one ``default_rng(seed)`` stream):

1. Leads arrive as a Poisson process: a daily count with a linear rate, a time of day.
2. Each lead draws its covariates (channel, campaign, region, lead type, features, sales rep
   and response time) independently.
3. Each transition converts *eventually* with a logistic probability of those covariates
   (late follow-up included); a lead that stops is closed as lost with some probability.
4. Stage times are the previous stage's time plus a lognormal delay truncated to the stage's
   conversion window, so every eventual conversion falls inside its window.
5. ``leads`` is ``full_leads`` replayed at ``as_of`` (:func:`sla_toolkit.outcomes.as_of_view`).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from ..outcomes import as_of_view
from ..spec import SlaSpec
from ..types import reached_column, stage_column
from . import _model
from .campaign_spec import build_spec
from .settings import GeneratorSettings
from .truth import CampaignTruth, compute_truth

_SECONDS_PER_DAY = 86_400
_LOST_DELAY_SIGMA = 0.8


@dataclass(frozen=True, eq=False)
class Campaign:
    """A generated campaign: observed data, complete data, spec, and the truth behind them.

    ``leads`` and ``spend`` are what an export at ``as_of`` would contain; ``full_leads`` and
    ``full_spend`` hold the whole period with every eventual outcome (ground truth).
    """

    leads: pd.DataFrame
    full_leads: pd.DataFrame
    spend: pd.DataFrame
    full_spend: pd.DataFrame
    spec: SlaSpec
    truth: CampaignTruth
    settings: GeneratorSettings
    as_of: pd.Timestamp

    def observed_at(self, as_of: pd.Timestamp | str) -> pd.DataFrame:
        """The lead table as an export at another moment would show it (e.g. each day of a pacing study)."""
        return observe(self.full_leads, self.spec, pd.Timestamp(as_of), self.settings)


def observation_time(settings: GeneratorSettings) -> pd.Timestamp:
    """The moment the data is observed: ``period.as_of``, or midnight after the period's end."""
    if settings.period.as_of is None:
        return pd.Timestamp(settings.period.end + dt.timedelta(days=1))
    return pd.Timestamp(settings.period.as_of)


def generate_campaign(settings: GeneratorSettings | None = None) -> Campaign:
    """Generate a campaign from ``settings`` (default: :class:`GeneratorSettings` ()).

    Examples
    --------
    >>> campaign = generate_campaign(GeneratorSettings.planted(seed=1))
    >>> campaign.truth.transitions["mql->sql"].late_follow_up_odds_ratio
    0.5
    """
    settings = settings if settings is not None else GeneratorSettings()
    rng = np.random.default_rng(settings.seed)
    truth = compute_truth(settings)
    spec = build_spec(settings, truth)
    as_of = observation_time(settings)
    full_leads = _draw_leads(settings, rng)
    full_spend = _draw_spend(settings, rng)
    return Campaign(
        leads=observe(full_leads, spec, as_of, settings),
        full_leads=full_leads,
        spend=full_spend.loc[full_spend["date"] + pd.Timedelta(days=1) <= as_of].reset_index(drop=True),
        full_spend=full_spend, spec=spec, truth=truth, settings=settings, as_of=as_of)


def observe(full_leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp,
            settings: GeneratorSettings) -> pd.DataFrame:
    """The lead table as a CRM export at ``as_of`` shows it (later events have not happened)."""
    view = as_of_view(full_leads, spec, as_of).reset_index(drop=True)
    last = stage_column(settings.stages[-1])
    view.loc[view[last].isna(), "revenue"] = np.nan
    view.loc[view[stage_column(settings.follow_up.stage)].isna(), settings.follow_up.team_column] = pd.NA
    return view


def _strings(codes: np.ndarray, labels: list[str]) -> pd.Series:
    """A pandas ``str`` column from integer codes (-1 = missing: it picks the trailing None)."""
    return pd.Series(np.array([*labels, None], dtype=object)[codes], dtype="str")


def _timestamps(seconds: np.ndarray, present: np.ndarray) -> np.ndarray:
    stamps = seconds.astype("datetime64[s]")
    stamps[~present] = np.datetime64("NaT")
    return stamps.astype("datetime64[us]")


def _arrivals(settings: GeneratorSettings, rng: np.random.Generator) -> np.ndarray:
    """Creation times (seconds since the epoch), sorted."""
    counts = rng.poisson(_model.daily_rates(settings))
    day = np.repeat(np.arange(len(counts)), counts)
    start = np.datetime64(settings.period.start, "s").astype(np.int64)
    return np.sort(start + day * _SECONDS_PER_DAY + _model.time_of_day_seconds(rng, int(counts.sum())))


def _draw_leads(settings: GeneratorSettings, rng: np.random.Generator) -> pd.DataFrame:
    created = _arrivals(settings, rng)
    n = len(created)
    axes = _model.build_axes(settings)
    pop, follow_up = settings.population, settings.follow_up
    codes = [rng.choice(len(a.levels), size=n, p=a.probabilities) for a in axes[:3]]
    codes += [rng.binomial(f.trials, f.probability, size=n) for f in pop.features]
    reps = list(follow_up.rep_median_hours)
    rep = rng.integers(0, len(reps), size=n)
    medians = np.array([follow_up.rep_median_hours[r] for r in reps])
    response_hours = medians[rep] * np.exp(follow_up.sigma * rng.standard_normal(n))
    never_touched = rng.random(n) < follow_up.never_touched_share
    late = never_touched | (response_hours > follow_up.within_hours)
    codes.append(late.astype(np.int64))

    stages = settings.stages
    intercepts = _model.intercepts(settings)
    reached = [np.ones(n, dtype=bool)]
    at = [created]
    for i, t in enumerate(settings.transitions):
        logit = intercepts[i] + sum(a.log_odds[i][c] for a, c in zip(axes, codes))
        reached.append(reached[-1] & (rng.random(n) < special.expit(logit)))
        delay_days = _model.truncated_lognormal(rng, n, t.delay.median_days, t.delay.sigma, t.delay.window_days)
        at.append(at[-1] + np.floor(delay_days * _SECONDS_PER_DAY).astype(np.int64))

    columns: dict[str, object] = {"lead_id": _lead_ids(n), "created_at": _timestamps(created, reached[0])}
    for stage, flag, seconds in zip(stages, reached, at):
        columns[reached_column(stage)] = flag
        columns[stage_column(stage)] = _timestamps(seconds, flag)

    fu = stages.index(follow_up.stage)
    touched = reached[fu] & ~never_touched
    touch_seconds = at[fu] + np.floor(response_hours * 3600).astype(np.int64)
    columns["first_touch_at"] = _timestamps(np.where(touched, touch_seconds, 0), touched)
    columns["lost_at"] = _lost_times(settings, rng, reached, at)

    channel_codes, region_codes, type_codes = codes[:3]
    columns["channel"] = _strings(channel_codes, list(axes[0].levels))
    columns["campaign"] = _campaigns(settings, rng, channel_codes)
    missing_region = rng.random(n) < pop.missing_region_share
    columns["region"] = _strings(np.where(missing_region, -1, region_codes), list(axes[1].levels))
    columns["lead_type"] = _strings(type_codes, list(axes[2].levels))
    columns[follow_up.team_column] = _strings(np.where(reached[fu], rep, -1), reps)
    for feature, values in zip(pop.features, codes[3:3 + len(pop.features)]):
        columns[feature.name] = values.astype(np.int64)
    revenue = settings.revenue.median * np.exp(settings.revenue.sigma * rng.standard_normal(n))
    columns["revenue"] = np.where(reached[-1], np.round(revenue, 2), np.nan)
    return pd.DataFrame(columns)


def _lead_ids(n: int) -> pd.Series:
    width = max(6, len(str(n)))
    return "L" + pd.Series(np.arange(1, n + 1)).astype("str").str.zfill(width)


def _lost_times(settings: GeneratorSettings, rng: np.random.Generator, reached: list[np.ndarray],
                at: list[np.ndarray]) -> np.ndarray:
    """Closed-lost time for a share of the leads that stopped before the last stage."""
    n = len(reached[0])
    last = np.sum(reached, axis=0) - 1  # index of the last stage reached
    stopped = last < len(settings.stages) - 1
    shares = np.array([t.lost_share for t in settings.transitions] + [0.0])
    medians = np.array([t.lost_median_days for t in settings.transitions] + [1.0])
    lost = stopped & (rng.random(n) < shares[last])
    delay_days = medians[last] * np.exp(_LOST_DELAY_SIGMA * rng.standard_normal(n))
    stage_seconds = np.choose(last, at)
    return _timestamps(stage_seconds + np.floor(delay_days * _SECONDS_PER_DAY).astype(np.int64), lost)


def _campaigns(settings: GeneratorSettings, rng: np.random.Generator, channel_codes: np.ndarray) -> pd.Series:
    """A campaign of the lead's channel, uniformly; missing for channels without campaigns."""
    channels = settings.population.channels
    names = [name for c in channels for name in c.campaigns]
    offsets = np.cumsum([0] + [len(c.campaigns) for c in channels])[:-1]
    counts = np.array([len(c.campaigns) for c in channels])
    pick = np.floor(rng.random(len(channel_codes)) * counts[channel_codes]).astype(np.int64)
    campaign_codes = np.where(counts[channel_codes] > 0, offsets[channel_codes] + pick, -1)
    return _strings(campaign_codes, names)


def _draw_spend(settings: GeneratorSettings, rng: np.random.Generator) -> pd.DataFrame:
    """Daily spend per paid campaign: cost per lead x expected leads, with gamma noise (mean 1, CV 15 %)."""
    rates = _model.daily_rates(settings)
    dates = pd.date_range(settings.period.start, periods=len(rates), freq="D").astype("datetime64[us]")
    shares = _model.build_axes(settings)[0].probabilities
    frames = []
    for channel, share in zip(settings.population.channels, shares):
        if not channel.paid:
            continue
        campaigns = channel.campaigns or (None,)
        for campaign in campaigns:
            expected = channel.cost_per_lead * rates * share / len(campaigns)
            noise = rng.gamma(shape=1 / 0.15 ** 2, scale=0.15 ** 2, size=len(rates))
            frames.append(pd.DataFrame({"date": dates, "channel": channel.name, "campaign": campaign,
                                        "spend": np.round(expected * noise, 2)}))
    if not frames:
        return pd.DataFrame({"date": pd.Series(dtype="datetime64[us]"), "channel": pd.Series(dtype="str"),
                             "campaign": pd.Series(dtype="str"), "spend": pd.Series(dtype=float)})
    spend = pd.concat(frames, ignore_index=True).sort_values(["date", "channel", "campaign"], kind="stable")
    spend["channel"] = spend["channel"].astype("str")
    spend["campaign"] = spend["campaign"].astype("str")
    return spend.reset_index(drop=True)
