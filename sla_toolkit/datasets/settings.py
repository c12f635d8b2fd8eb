"""Settings of the synthetic campaign generator: who arrives, how they convert, how fast.

Everything is a frozen dataclass with defaults that give a realistic B2B quarter. The named
constructors give the three shapes tests need: :meth:`GeneratorSettings.null` (no true
differences), :meth:`GeneratorSettings.planted` (a few known, clear effects) and
:meth:`GeneratorSettings.heavy_censoring` (many leads still open at the cut-off).

Conventions
-----------
* The first level listed for a factor (channel, region, lead type) is its reference level;
  odds ratios are relative to it. The default level lists are alphabetical, so the reference
  is also what a formula interface picks by default.
* ``reference_rate`` is the eventual conversion probability of a lead at every reference
  level, with every numeric feature at 0 and a prompt sales follow-up.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..types import transition_name


@dataclass(frozen=True)
class ChannelSettings:
    """One acquisition channel: its share of leads, what a lead costs, its campaigns."""

    name: str
    share: float
    cost_per_lead: float = 0.0
    campaigns: tuple[str, ...] = ()

    @property
    def paid(self) -> bool:
        return self.cost_per_lead > 0


@dataclass(frozen=True)
class BinomialFeature:
    """A numeric lead feature drawn as Binomial(trials, probability), e.g. pages viewed."""

    name: str
    trials: int
    probability: float

    @property
    def mean(self) -> float:
        return self.trials * self.probability


@dataclass(frozen=True)
class DelaySettings:
    """Time from the previous stage: lognormal, truncated to the stage's conversion window.

    The truncation makes "converted within the window" the same event as "converted
    eventually", so the true odds ratios hold exactly for the within-window outcome.
    """

    median_days: float
    sigma: float
    window_days: int


@dataclass(frozen=True)
class TransitionSettings:
    """How leads move from one stage to the next (logistic model of eventual conversion).

    Parameters
    ----------
    reference_rate:
        Eventual conversion probability at the reference levels (see module notes).
    channel_odds_ratios, segment_odds_ratios:
        Odds ratios against the reference level; levels not named have odds ratio 1.
        ``segment_odds_ratios`` is keyed by column (``"region"``, ``"lead_type"``).
    feature_log_odds:
        Change in log-odds per unit of a numeric feature.
    late_follow_up_odds_ratio:
        Odds ratio for leads first touched later than the follow-up promise, or never.
    target_ratio:
        The spec's target for this transition is ``round(target_ratio * true rate, 2)``:
        below 1 the target is met in expectation, above 1 it is missed.
    lost_share, lost_median_days:
        Share of the non-converters that are closed as lost, and the lognormal median
        time from entering the stage to ``lost_at``.
    """

    reference_rate: float
    delay: DelaySettings
    channel_odds_ratios: Mapping[str, float] = field(default_factory=dict)
    segment_odds_ratios: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    feature_log_odds: Mapping[str, float] = field(default_factory=dict)
    late_follow_up_odds_ratio: float = 1.0
    target_ratio: float = 0.9
    lost_share: float = 0.3
    lost_median_days: float = 20.0


@dataclass(frozen=True)
class PeriodSettings:
    """The cycle's dates and the moment the data is observed.

    ``as_of=None`` means the moment the period ends (midnight after ``end``). A date means
    midnight at its start, as ``pandas.Timestamp(date)`` does.
    """

    start: dt.date = dt.date(2025, 1, 1)
    end: dt.date = dt.date(2025, 3, 31)
    as_of: dt.date | dt.datetime | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class InflowSettings:
    """Daily lead arrivals: Poisson with a rate moving linearly from start to end of the period."""

    leads_per_day_at_start: float = 40.0
    leads_per_day_at_end: float = 40.0


@dataclass(frozen=True)
class FollowUpSettings:
    """Sales follow-up after ``stage``: the promise, and how fast each rep really is.

    Response times are lognormal with the rep's median (hours) and a common ``sigma``;
    ``never_touched_share`` of the leads get no recorded first touch at all.
    A rep influences conversion only through whether the touch was late.
    """

    stage: str = "mql"
    within_hours: float = 24.0
    promised_share: float = 0.9
    team_column: str = "sales_rep"
    rep_median_hours: Mapping[str, float] = field(default_factory=lambda: {
        "Alex Moreno": 4.0, "Priya Shah": 7.0, "Sam Carter": 12.0, "Jordan Lee": 20.0, "Chris Novak": 36.0})
    sigma: float = 1.0
    never_touched_share: float = 0.05


@dataclass(frozen=True)
class PopulationSettings:
    """Who arrives: channel mix, segments and numeric features, all independent of each other."""

    channels: tuple[ChannelSettings, ...] = (
        ChannelSettings("email", 0.15, 15.0, ("Monthly Newsletter", "Nurture Sequence")),
        ChannelSettings("events", 0.10, 140.0, ("Spring Trade Show", "Partner Webinar")),
        ChannelSettings("organic_search", 0.25, 0.0),
        ChannelSettings("paid_search", 0.25, 85.0, ("Brand Search", "Competitor Keywords")),
        ChannelSettings("referral", 0.10, 40.0, ("Customer Referral Program",)),
        ChannelSettings("social", 0.15, 60.0, ("LinkedIn Lead Gen", "Retargeting Ads")),
    )
    regions: Mapping[str, float] = field(default_factory=lambda: {
        "APAC": 0.15, "EMEA": 0.35, "LATAM": 0.10, "North America": 0.40})
    lead_types: Mapping[str, float] = field(default_factory=lambda: {
        "content_download": 0.5, "contact_form": 0.3, "demo_request": 0.2})
    features: tuple[BinomialFeature, ...] = (
        BinomialFeature("pages_viewed", 24, 0.15), BinomialFeature("email_opens", 8, 0.35))
    missing_region_share: float = 0.02

    @property
    def segments(self) -> dict[str, Mapping[str, float]]:
        """Segment column -> level shares (first level is the reference)."""
        return {"region": self.regions, "lead_type": self.lead_types}

    @property
    def channel_names(self) -> list[str]:
        return [c.name for c in self.channels]


@dataclass(frozen=True)
class RevenueSettings:
    """Deal value of a customer: lognormal with this median and shape."""

    median: float = 12_000.0
    sigma: float = 0.6


def _default_transitions() -> tuple[TransitionSettings, ...]:
    return (
        TransitionSettings(
            reference_rate=0.3, delay=DelaySettings(2.0, 1.0, 14),
            channel_odds_ratios={"events": 1.3, "organic_search": 1.1, "paid_search": 1.2,
                                 "referral": 1.6, "social": 0.8},
            segment_odds_ratios={"lead_type": {"contact_form": 1.5, "demo_request": 2.5},
                                 "region": {"EMEA": 1.0, "LATAM": 0.9, "North America": 1.1}},
            feature_log_odds={"pages_viewed": 0.08}, target_ratio=0.9, lost_share=0.3, lost_median_days=20),
        TransitionSettings(
            reference_rate=0.45, delay=DelaySettings(6.0, 0.8, 30),
            channel_odds_ratios={"events": 1.1, "paid_search": 0.9, "referral": 1.4, "social": 0.8},
            segment_odds_ratios={"lead_type": {"demo_request": 1.4}, "region": {"LATAM": 0.8}},
            late_follow_up_odds_ratio=0.6, target_ratio=1.05, lost_share=0.5, lost_median_days=15),
        TransitionSettings(
            reference_rate=0.25, delay=DelaySettings(20.0, 0.7, 60),
            channel_odds_ratios={"events": 1.2, "referral": 1.3},
            segment_odds_ratios={"lead_type": {"demo_request": 1.3}},
            feature_log_odds={"email_opens": 0.1}, target_ratio=0.9, lost_share=0.6, lost_median_days=25),
    )


@dataclass(frozen=True)
class GeneratorSettings:
    """Everything :func:`~sla_toolkit.datasets.generate_campaign` needs; the defaults give a realistic quarter.

    Examples
    --------
    >>> settings = GeneratorSettings.planted(seed=3).with_expected_leads(20_000)
    >>> settings.at_mid_period().period.as_of
    datetime.date(2025, 2, 15)
    """

    seed: int = 0
    name: str = "Synthetic Q1 campaign"
    stages: tuple[str, ...] = ("lead", "mql", "sql", "customer")
    period: PeriodSettings = field(default_factory=PeriodSettings)
    inflow: InflowSettings = field(default_factory=InflowSettings)
    population: PopulationSettings = field(default_factory=PopulationSettings)
    transitions: tuple[TransitionSettings, ...] = field(default_factory=_default_transitions)
    follow_up: FollowUpSettings = field(default_factory=FollowUpSettings)
    revenue: RevenueSettings = field(default_factory=RevenueSettings)
    objective_ratio: float = 1.0

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ValueError("invalid GeneratorSettings:\n" + "\n".join(f"  - {p}" for p in problems))

    @property
    def transition_names(self) -> list[str]:
        return [transition_name(a, b) for a, b in zip(self.stages, self.stages[1:])]

    # -- small modifiers -------------------------------------------------------------------
    def with_seed(self, seed: int) -> GeneratorSettings:
        return dataclasses.replace(self, seed=seed)

    def with_as_of(self, as_of: dt.date | dt.datetime | None) -> GeneratorSettings:
        return dataclasses.replace(self, period=dataclasses.replace(self.period, as_of=as_of))

    def at_mid_period(self) -> GeneratorSettings:
        """Observe the campaign half-way through its period (for pacing studies)."""
        return self.with_as_of(self.period.start + dt.timedelta(days=self.period.days // 2))

    def with_expected_leads(self, expected_leads: float) -> GeneratorSettings:
        """Scale the inflow so that the period's expected number of leads is ``expected_leads``."""
        current = (self.inflow.leads_per_day_at_start + self.inflow.leads_per_day_at_end) / 2 * self.period.days
        factor = expected_leads / current
        inflow = InflowSettings(self.inflow.leads_per_day_at_start * factor, self.inflow.leads_per_day_at_end * factor)
        return dataclasses.replace(self, inflow=inflow)

    # -- named shapes ----------------------------------------------------------------------
    @classmethod
    def sample(cls) -> GeneratorSettings:
        """The bundled ``data/sample`` campaign: about 4,000 leads, Q1 2025, observed on 24 March."""
        base = cls.planted(seed=20250324, odds_ratio=1.8, late_follow_up_odds_ratio=0.6,
                           missed_transition="mql->sql")
        return dataclasses.replace(base, name="Q1 2025 demand generation", objective_ratio=1.1,
                                   period=PeriodSettings(as_of=dt.date(2025, 3, 24)),
                                   inflow=InflowSettings(38.0, 50.0))

    @classmethod
    def null(cls, seed: int = 0, n_channels: int = 8, expected_leads: float = 20_000) -> GeneratorSettings:
        """No true differences: equal channels, no segment, feature or follow-up effects."""
        names = ["display", "email", "events", "organic_search", "paid_search", "partner", "referral", "social",
                 "video", "affiliate", "podcast", "direct_mail"]
        if not 2 <= n_channels <= len(names):
            raise ValueError(f"n_channels must be between 2 and {len(names)}, got {n_channels}")
        chosen = sorted(names[:n_channels])
        channels = tuple(ChannelSettings(n, 1 / n_channels, 50.0, (f"{n.replace('_', ' ').title()} Campaign",))
                         for n in chosen)
        transitions = tuple(dataclasses.replace(t, channel_odds_ratios={}, segment_odds_ratios={},
                                                feature_log_odds={}, late_follow_up_odds_ratio=1.0)
                            for t in _default_transitions())
        return cls(seed=seed, name="Null campaign", population=PopulationSettings(channels=channels),
                   transitions=transitions).with_expected_leads(expected_leads)

    @classmethod
    def planted(cls, seed: int = 0, better_channel: str = "referral", worse_channel: str = "social",
                odds_ratio: float = 2.0, late_follow_up_odds_ratio: float = 0.5,
                missed_transition: str = "sql->customer") -> GeneratorSettings:
        """Known effects and nothing else.

        ``better_channel`` has odds ratio ``odds_ratio`` and ``worse_channel`` ``1/odds_ratio``
        on every transition (against the reference channel, ``email``); late follow-up has
        ``late_follow_up_odds_ratio`` on the transition out of the follow-up stage;
        ``missed_transition`` gets a target 30 % above its true rate, the others 20 % below.
        Segments and features have no effect.
        """
        base = cls()
        if missed_transition not in base.transition_names:
            raise ValueError(f"missed_transition {missed_transition!r} is not one of {base.transition_names}")
        follow_up_exit = transition_name(base.follow_up.stage, base.stages[base.stages.index(base.follow_up.stage) + 1])
        transitions = tuple(
            dataclasses.replace(
                t, channel_odds_ratios={better_channel: odds_ratio, worse_channel: 1 / odds_ratio},
                segment_odds_ratios={}, feature_log_odds={},
                late_follow_up_odds_ratio=late_follow_up_odds_ratio if name == follow_up_exit else 1.0,
                target_ratio=1.3 if name == missed_transition else 0.8)
            for name, t in zip(base.transition_names, base.transitions))
        return dataclasses.replace(base, seed=seed, name="Planted-effects campaign", transitions=transitions)

    @classmethod
    def heavy_censoring(cls, seed: int = 0, expected_leads: float = 20_000, growth: float = 5.0) -> GeneratorSettings:
        """Many recent leads: the daily rate grows ``growth``-fold over the period, observed at its end."""
        base = cls(seed=seed, name="Heavily censored campaign", inflow=InflowSettings(1.0, growth))
        return base.with_expected_leads(expected_leads)


def _problems(settings: GeneratorSettings) -> list[str]:
    """Every inconsistency in the settings (collected, not raised one by one)."""
    problems: list[str] = []
    s = settings
    if len(s.stages) < 2 or len(set(s.stages)) != len(s.stages):
        problems.append(f"stages must be at least two distinct names, got {list(s.stages)}")
    if len(s.transitions) != len(s.stages) - 1:
        problems.append(f"{len(s.stages)} stages need {len(s.stages) - 1} transitions, got {len(s.transitions)}")
    if s.period.end < s.period.start:
        problems.append(f"period.end ({s.period.end}) is before period.start ({s.period.start})")
    if min(s.inflow.leads_per_day_at_start, s.inflow.leads_per_day_at_end) < 0:
        problems.append("inflow rates must be >= 0")
    pop = s.population
    channel_names = pop.channel_names
    if not channel_names or len(set(channel_names)) != len(channel_names):
        problems.append(f"channel names must be distinct and non-empty, got {channel_names}")
    shares = {"channel": [c.share for c in pop.channels], "region": list(pop.regions.values()),
              "lead_type": list(pop.lead_types.values())}
    for factor, values in shares.items():
        if not values or min(values) < 0 or sum(values) <= 0:
            problems.append(f"{factor} shares must be >= 0 with a positive total, got {values}")
    if s.follow_up.stage not in s.stages[:-1]:
        problems.append(f"follow_up.stage {s.follow_up.stage!r} must be a stage before {s.stages[-1]!r}")
    if not s.follow_up.rep_median_hours:
        problems.append("follow_up.rep_median_hours needs at least one rep")
    feature_names = {f.name for f in pop.features}
    fu_index = s.stages.index(s.follow_up.stage) if s.follow_up.stage in s.stages else 0
    for i, (name, t) in enumerate(zip(s.transition_names, s.transitions)):
        if not 0 < t.reference_rate < 1:
            problems.append(f"{name}: reference_rate must be strictly between 0 and 1, got {t.reference_rate}")
        unknown = set(t.channel_odds_ratios) - set(channel_names)
        if unknown:
            problems.append(f"{name}: channel_odds_ratios names unknown channels {sorted(unknown)}")
        for factor, ratios in t.segment_odds_ratios.items():
            levels = pop.segments.get(factor)
            if levels is None:
                problems.append(f"{name}: segment_odds_ratios names unknown segment {factor!r}")
            elif set(ratios) - set(levels):
                problems.append(f"{name}: {factor} odds ratios name unknown levels {sorted(set(ratios) - set(levels))}")
        ratios = [*t.channel_odds_ratios.values(), *(v for r in t.segment_odds_ratios.values() for v in r.values()),
                  t.late_follow_up_odds_ratio]
        if min(ratios) <= 0:
            problems.append(f"{name}: odds ratios must be > 0")
        unknown_features = sorted(set(t.feature_log_odds) - feature_names)
        if unknown_features:
            problems.append(f"{name}: feature_log_odds names unknown features {unknown_features}")
        if t.late_follow_up_odds_ratio != 1.0 and i < fu_index:
            problems.append(f"{name}: a late follow-up effect needs the follow-up stage ({s.follow_up.stage}) "
                            "at or before the transition's source stage")
        if t.delay.median_days <= 0 or t.delay.sigma <= 0 or t.delay.window_days <= 0:
            problems.append(f"{name}: delay median, sigma and window must be > 0")
        if not 0 <= t.lost_share <= 1:
            problems.append(f"{name}: lost_share must be in [0, 1], got {t.lost_share}")
    return problems
