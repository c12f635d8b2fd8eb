"""Censoring-aware conversion and time to convert (Kaplan–Meier, statsmodels ``SurvfuncRight``).

A lead created near the as-of date has not had time to convert: it is open, not a failure.
For every transition this module reports, side by side,

* the **naive** rate (converted so far / entered), labelled as such: biased low while leads are young;
* the **matured-cohort** rate: conversion within the window among leads whose window has elapsed;
* the **Kaplan–Meier projection** ``1 - S(window)`` from all leads, lost leads staying at risk
  without converting (see :func:`sla_toolkit.outcomes.transition_outcomes`), with a pointwise
  interval on the complementary log-log scale, ``log(-log S)``, from Greenwood's standard error;
* the share of leads still open.

When losses are recorded (a ``lost_at`` date or a lost status), the projection and time to win are
the cumulative incidence of converting with loss as a competing event (Aalen–Johansen,
:mod:`sla_toolkit.incidence`) instead of Kaplan–Meier; ``method`` says which was used.

Which one a verdict uses (``basis``): the matured-cohort rate when it covers at least
``analysis.min_n`` leads *and* at least half of the leads that entered *and* the matured cohorts
convert at the same pace as the recent ones (log-rank test, :mod:`sla_toolkit.cohort_agreement`:
matured cohorts are the oldest, so a trend would make their rate describe only the start of the
period); otherwise the KM projection, and the note says why.
Stages known only as flags have nothing to censor: the plain rate is used (reason ``no_timestamps``).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import pandas as pd

from .check_labels import format_count, format_number, plural
from .cohort_agreement import cohort_agreement
from .decided import losses_recorded
from .errors import Reason
from .incidence import (ProjectionMethod, cif_conditional_median, cif_conversion_at, cif_event_table,
                        competing_outcomes, fit_cif)
from .outcomes import as_of_view, lost_mask, transition_outcomes
from .results import ResultMixin
from .spec import SlaSpec
from .memo import by_content
from .stats import RateEstimate, conversion_curve_frame, finite_by_duration, loglog_bounds, wilson_interval
from .types import transition_name

HORIZONS_DAYS = (7, 30, 90)
KM_TRANSFORM = "cloglog"
CURVE_POINTS = 200   # most points kept per Kaplan–Meier curve (see _thinned_curve)


class RateBasis(str, Enum):
    """Which estimate a verdict rests on."""

    MATURED = "matured_cohort"
    PROJECTED = "km_projection"
    PLAIN = "plain_rate"


@dataclass(frozen=True)
class KmProjection(ResultMixin):
    """The share converting within the window: ``1 - S(window)`` from a Kaplan–Meier fit, or, when
    losses are recorded, the cumulative incidence of converting with loss as a competing event
    (``method``)."""

    estimate: float
    low: float
    high: float
    standard_error: float
    n: int
    events: int
    window_days: float
    confidence: float
    transform: str = KM_TRANSFORM
    reason: Reason = Reason.OK
    method: ProjectionMethod = ProjectionMethod.KAPLAN_MEIER

    @property
    def title(self) -> str:
        return f"Projection within the window ({self.method.words})"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.to_dict()])


@dataclass(frozen=True)
class TransitionConversion(ResultMixin):
    """Naive, matured-cohort and projected conversion of one transition, and the verdict basis."""

    transition: str
    window_days: int
    naive: RateEstimate
    matured: RateEstimate
    projected: KmProjection
    n_open: int
    share_open: float
    basis: RateBasis
    reason: Reason = Reason.OK
    note: str = ""

    @property
    def title(self) -> str:
        return f"Conversion {self.transition}"

    @property
    def estimate(self) -> float:
        return self._chosen.estimate

    @property
    def low(self) -> float:
        return self._chosen.low

    @property
    def high(self) -> float:
        return self._chosen.high

    @property
    def n(self) -> int:
        return self._chosen.n

    @property
    def _chosen(self):
        return self.projected if self.basis is RateBasis.PROJECTED else \
            self.matured if self.basis is RateBasis.MATURED else self.naive

    def to_frame(self) -> pd.DataFrame:
        row = {"transition": self.transition, "window_days": self.window_days}
        for label, est in (("naive", self.naive), ("matured", self.matured), ("projected", self.projected)):
            row.update({f"{label}_rate": est.estimate, f"{label}_low": est.low, f"{label}_high": est.high,
                        f"{label}_n": est.n})
        row.update({"projected_method": self.projected.method.value,
                    "share_open": self.share_open, "n_open": self.n_open, "basis": self.basis.value,
                    "estimate": self.estimate, "low": self.low, "high": self.high, "n": self.n,
                    "reason": self.reason.value, "note": self.note})
        return pd.DataFrame([row])


@dataclass(frozen=True)
class ConversionResult(ResultMixin):
    """Censoring-aware conversion of every transition (one row each in ``to_frame``)."""

    transitions: tuple[TransitionConversion, ...]
    as_of: pd.Timestamp
    min_n: int
    title = "Conversion (naive, matured cohorts, Kaplan–Meier projection)"

    def to_frame(self) -> pd.DataFrame:
        return pd.concat([t.to_frame() for t in self.transitions], ignore_index=True)

    def get(self, transition: str) -> TransitionConversion:
        for item in self.transitions:
            if item.transition == transition:
                return item
        raise KeyError(f"transition {transition!r} not computed; have {[t.transition for t in self.transitions]}")


def fit_km(duration, event, *, remember: bool = True) -> SurvfuncRight | None:
    """statsmodels' Kaplan–Meier fit of time to convert (None when there are no durations).

    With ``remember``, equal inputs return the same (read-only) fit: a cycle fits each transition's curve
    on all its leads more than once. Fits that happen once (a channel's) pass ``remember=False``.
    """
    return _fit_km(np.asarray(duration, dtype=float), np.asarray(event, dtype=float), remember=remember)


@by_content()
def _fit_km(duration: np.ndarray, event: np.ndarray) -> SurvfuncRight | None:
    rows = finite_by_duration(duration, event)
    if rows is None:
        return None
    from statsmodels.duration.survfunc import SurvfuncRight   # deferred: heavy, not needed to show results

    return SurvfuncRight(*rows)


def km_conversion_at(survival: SurvfuncRight, times, confidence: float = 0.95) -> pd.DataFrame:
    """Conversion ``1 - S(t)`` at each time with its pointwise interval and standard error.

    The interval is computed for ``log(-log S(t))`` (Greenwood's standard error, delta method)
    and mapped back. Where no event has happened yet (S = 1) or everyone at risk converted
    (S = 0) that scale breaks down, and the Wilson interval of the leads still at risk is used.
    """
    times = np.atleast_1d(np.asarray(times, dtype=float))
    # position 0 stands for "before the first event": S = 1, no error
    index = np.searchsorted(survival.surv_times, times, side="right")
    surv = np.r_[1.0, survival.surv_prob][index]
    se = np.r_[0.0, survival.surv_prob_se][index]
    surv_low, surv_high, usable = loglog_bounds(surv, se, confidence)
    return conversion_curve_frame(times, 1 - surv, (1 - surv_high, 1 - surv_low, usable), se, survival.time,
                                  confidence)


def km_projection(duration, event, window_days: float, confidence: float = 0.95) -> KmProjection:
    """Projected share converting within ``window_days`` from durations and event flags."""
    survival = fit_km(duration, event)
    if survival is None:
        return KmProjection(float("nan"), 0.0, 1.0, float("nan"), 0, 0, window_days, confidence,
                            reason=Reason.INSUFFICIENT_N)
    at = km_conversion_at(survival, [window_days], confidence).iloc[0]
    events = int(np.asarray(survival.status)[survival.time <= window_days].sum())
    reason = Reason.NO_EVENTS if events == 0 else Reason.OK
    return KmProjection(float(at["conversion"]), float(at["low"]), float(at["high"]), float(at["standard_error"]),
                        int(survival.time.size), events, float(window_days), confidence, reason=reason)


def cif_projection(duration, status, window_days: float, confidence: float = 0.95) -> KmProjection:
    """Cumulative incidence of converting within ``window_days``, loss a competing event (status 1 won,
    2 lost, 0 open); the interval is on the log(-log) scale (see :mod:`sla_toolkit.incidence`)."""
    method = ProjectionMethod.CUMULATIVE_INCIDENCE
    fit = fit_cif(duration, status)
    if fit is None:
        return KmProjection(float("nan"), 0.0, 1.0, float("nan"), 0, 0, window_days, confidence,
                            reason=Reason.INSUFFICIENT_N, method=method)
    at = cif_conversion_at(fit, [window_days], confidence).iloc[0]
    events = int(((np.asarray(fit.status) == 1) & (np.asarray(fit.time) <= window_days)).sum())
    reason = Reason.NO_EVENTS if events == 0 else Reason.OK
    return KmProjection(float(at["conversion"]), float(at["low"]), float(at["high"]), float(at["standard_error"]),
                        int(np.asarray(fit.time).size), events, float(window_days), confidence, transform="loglog",
                        reason=reason, method=method)


def default_transitions(spec: SlaSpec) -> list[tuple[str, str]]:
    """Adjacent transitions, then first -> last, then any other transition the spec sets a target for."""
    stages = spec.funnel.stages
    pairs = list(zip(stages, stages[1:]))
    wanted = [(stages[0], stages[-1])] + [tuple(key.split("->")) for key in spec.funnel.targets]
    for pair in wanted:
        if pair not in pairs:
            pairs.append(pair)
    return pairs


def transition_conversion(leads: pd.DataFrame, spec: SlaSpec, from_stage: str, to_stage: str,
                          as_of: pd.Timestamp) -> TransitionConversion:
    """Naive, matured and projected conversion of one transition on a table already seen at ``as_of``."""
    confidence, min_n = spec.analysis.confidence, spec.analysis.min_n
    window = spec.funnel.window_between(from_stage, to_stage)
    outcomes = transition_outcomes(leads, spec, from_stage, to_stage, as_of)
    entered = outcomes["entered"]
    naive = wilson_interval(int(outcomes["converted"].sum()), int(entered.sum()), confidence)
    matured_leads = outcomes.loc[outcomes["matured"]]
    matured = wilson_interval(int(matured_leads["converted_in_window"].sum()), len(matured_leads), confidence)
    timed = entered & outcomes["duration_days"].notna()
    name = transition_name(from_stage, to_stage)
    if not timed.any():
        projected = KmProjection(naive.estimate, naive.low, naive.high, float("nan"), naive.n, naive.successes,
                                 float(window), confidence, transform="none (plain rate)",
                                 reason=Reason.NO_TIMESTAMPS)
        return TransitionConversion(name, window, naive, matured, projected, 0, 0.0, RateBasis.PLAIN,
                                    Reason.NO_TIMESTAMPS, "no timestamps for this transition: plain rate, "
                                    "nothing to censor on")
    competing = losses_recorded(leads)
    if competing:
        decided = competing_outcomes(outcomes, leads, spec, from_stage)
        projected = cif_projection(decided["duration_days"], decided["status"], window, confidence)
    else:
        projected = km_projection(outcomes.loc[timed, "duration_days"], outcomes.loc[timed, "event"], window,
                                  confidence)
    lost = lost_mask(leads, spec)
    still_open = entered & ~outcomes["converted"] & ~outcomes["matured"] & ~lost
    n_open = int(still_open.sum())
    share_open = n_open / naive.n if naive.n else float("nan")
    enough = matured.n >= min_n and matured.n >= 0.5 * int(timed.sum())
    agreement = cohort_agreement(outcomes, window, spec.analysis.alpha) if enough else None
    if enough and not agreement.differ:
        basis, note = RateBasis.MATURED, (f"matured cohorts hold {matured.n:,} of "
                                          f"{format_count(int(timed.sum()), 'lead')}; " + agreement.words)
    elif enough:
        basis, note = RateBasis.PROJECTED, (f"cohorts differ: {agreement.words}, so the matured rate would describe "
                                            "only the oldest leads; projection over all leads "
                                            f"({projected.method.words})")
    else:
        basis, note = RateBasis.PROJECTED, (f"only {matured.n:,} of {format_count(int(timed.sum()), 'lead')} "
                                            f"{plural('has', matured.n, 'have')} matured: "
                                            f"projection over all leads ({projected.method.words})")
    if basis is RateBasis.PROJECTED:
        longest = float(outcomes.loc[timed, "duration_days"].max())
        if longest < window:
            note += (f"; follow-up reaches {format_number(longest, 0)} of the {format_count(window, 'day')}, so "
                     "conversions later than that are not counted")
    return TransitionConversion(name, window, naive, matured, projected, n_open, share_open, basis, Reason.OK, note)


def conversion_rates(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp,
                     transitions: list[tuple[str, str]] | None = None) -> ConversionResult:
    """Censoring-aware conversion of every transition (default: :func:`default_transitions`).

    Example
    -------
    >>> result = conversion_rates(leads, spec, as_of="2027-03-31")  # doctest: +SKIP
    >>> result.get("lead->mql").estimate                             # doctest: +SKIP
    """
    as_of = pd.Timestamp(as_of)
    view = as_of_view(leads, spec, as_of)
    pairs = transitions or default_transitions(spec)
    return ConversionResult(tuple(transition_conversion(view, spec, a, b, as_of) for a, b in pairs), as_of,
                            spec.analysis.min_n)


@dataclass(frozen=True)
class TimeToConvert(ResultMixin):
    """Kaplan–Meier time to convert, per transition, overall and per channel.

    Attributes
    ----------
    summary : DataFrame
        Per transition and group: ``n``, ``events``; ``median_days_converted`` with an exact
        order-statistic interval (among leads converted so far: biased short while many leads
        are young); ``km_median_days`` with statsmodels' ``quantile_ci`` (cloglog): the median
        time among leads that convert within the window, from the KM curve; for each horizon h,
        ``converted_within_<h>`` (count) and ``share_within_<h>`` with its KM interval.
    curves : DataFrame
        The conversion curve ``1 - S(t)`` at every event time with its interval and n at risk.
    """

    summary: pd.DataFrame
    curves: pd.DataFrame
    horizons_days: tuple[int, ...]
    confidence: float
    as_of: pd.Timestamp
    notes: tuple[str, ...] = ()
    method: ProjectionMethod = ProjectionMethod.KAPLAN_MEIER

    @property
    def title(self) -> str:
        return f"Time to convert ({self.method.words})"

    def to_frame(self) -> pd.DataFrame:
        return self.summary


def time_to_convert(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp,
                    horizons_days: tuple[int, ...] = HORIZONS_DAYS) -> TimeToConvert:
    """Curves, medians and shares converted within each horizon, overall and per channel.

    Kaplan–Meier; cumulative incidence with loss as a competing event when losses are recorded.
    """
    as_of = pd.Timestamp(as_of)
    view = as_of_view(leads, spec, as_of)
    confidence, channel = spec.analysis.confidence, spec.channel_column
    method = ProjectionMethod.CUMULATIVE_INCIDENCE if losses_recorded(view) else ProjectionMethod.KAPLAN_MEIER
    rows, curves, notes = [], [], []
    channel_levels = None
    if channel in view:   # each lead's channel as a code into its text label, once for every transition
        codes, names = pd.factorize(view[channel].astype("str").fillna("(missing)"))
        channel_levels = codes, np.asarray(names, dtype=object)
    for from_stage, to_stage in default_transitions(spec):
        outcomes = transition_outcomes(view, spec, from_stage, to_stage, as_of)
        timed = outcomes["entered"] & outcomes["duration_days"].notna()
        name = transition_name(from_stage, to_stage)
        if not timed.any():
            notes.append(f"{name}: no timestamps, no time to convert")
            continue
        window = spec.funnel.window_between(from_stage, to_stage)
        timed = timed.to_numpy(bool)
        groups = [("all", timed)]
        if channel_levels is not None:
            codes, names = channel_levels
            present = sorted(np.unique(codes[timed]), key=lambda code: names[code])
            groups += [(names[code], timed & (codes == code)) for code in present]
        columns = ["duration_days", "event"]
        if method is ProjectionMethod.CUMULATIVE_INCIDENCE:
            decided = competing_outcomes(outcomes, view, spec, from_stage)
            outcomes = outcomes.assign(duration_days=decided["duration_days"], status=decided["status"])
            columns.append("status")
        outcomes = outcomes[columns]   # only what a group's summary reads: each group copies these rows
        for group, mask in groups:
            # the curve on all leads is also the conversion rate's (remembered); a channel's is fitted once
            row, curve = _time_summary(outcomes.loc[mask], window, horizons_days, confidence, method,
                                       remember=group == "all")
            rows.append({"transition": name, "group": group, **row})
            curves.append(curve.assign(transition=name, group=group))
    summary = pd.DataFrame(rows)
    curve_table = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(columns=["transition", "group"])
    if len(curve_table):
        keys = ["transition", "group"]
        curve_table = curve_table[keys + [c for c in curve_table if c not in keys]]
    return TimeToConvert(summary, curve_table, tuple(horizons_days), confidence, as_of, tuple(notes), method)


def _time_summary(outcomes: pd.DataFrame, window: float, horizons, confidence: float,
                  method: ProjectionMethod, remember: bool = True) -> tuple[dict, pd.DataFrame]:
    """One group's row; ``km_median_*`` and ``share_within_*`` come from the curve of ``method``."""
    duration = outcomes["duration_days"].to_numpy(float)
    event = outcomes["event"].to_numpy(bool)
    competing = method is ProjectionMethod.CUMULATIVE_INCIDENCE
    survival = (fit_cif(duration, outcomes["status"].to_numpy(int), remember=remember) if competing
                else fit_km(duration, event, remember=remember))
    converted_days = np.sort(duration[event])
    median, median_low, median_high = _median_with_interval(converted_days, confidence)
    row = {"n": int(duration.size), "events": int(event.sum()),
           "median_days_converted": median, "median_low": median_low, "median_high": median_high}
    conditional_median = cif_conditional_median if competing else _km_conditional_median
    km_median, km_low, km_high = conditional_median(survival, window, confidence)
    row.update({"km_median_days": km_median, "km_median_low": km_low, "km_median_high": km_high})
    conversion_at = cif_conversion_at if competing else km_conversion_at
    at = conversion_at(survival, list(horizons), confidence)
    for h, (_, point) in zip(horizons, at.iterrows()):
        row.update({f"converted_within_{h}": int((converted_days <= h).sum()), f"share_within_{h}": point["conversion"],
                    f"share_within_{h}_low": point["low"], f"share_within_{h}_high": point["high"]})
    return row, _thinned_curve(survival, confidence, competing)


def _thinned_curve(survival, confidence: float, competing: bool = False,
                   points: int = CURVE_POINTS) -> pd.DataFrame:
    """The curve at every event time, or at ``points`` evenly spaced times when there are more event times.

    The report draws the curve as a step line a few hundred pixels wide; a million leads have
    hundreds of thousands of event times, which would only make ``results.json`` large. ``events``
    counts the conversions since the previous point, so the column still sums to the total.
    """
    if competing:
        times, events = cif_event_table(survival)
    else:
        times = np.asarray(survival.surv_times, dtype=float)
        events = np.asarray(survival.n_events, dtype=float)
    if times.size > points:
        grid = np.linspace(times[0], times[-1], points)
        cumulative = np.cumsum(events)[np.searchsorted(times, grid, side="right") - 1]
        events, times = np.diff(cumulative, prepend=0.0), grid
    curve = (cif_conversion_at if competing else km_conversion_at)(survival, times, confidence)
    curve["events"] = events
    return curve


def _median_with_interval(sorted_values: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """Sample median with the distribution-free interval from binomial order statistics."""
    n = sorted_values.size
    if n == 0:
        return float("nan"), float("nan"), float("nan")
    from scipy import stats as scipy_stats

    k = int(scipy_stats.binom.ppf((1 - confidence) / 2, n, 0.5))  # lower rank, 0-based after the shift below
    low = sorted_values[max(k - 1, 0)] if k >= 1 else float("nan")
    high = sorted_values[n - k] if k >= 1 else float("nan")
    return float(np.median(sorted_values)), float(low), float(high)


def _km_conditional_median(survival, window: float, confidence: float) -> tuple[float, float, float]:
    """Median time among leads converting within the window: t with F(t) = F(window) / 2.

    The interval is statsmodels' ``quantile_ci`` at that probability; it treats F(window) as
    known, so it is slightly narrow.
    """
    if survival is None or survival.n_events.sum() == 0:
        return float("nan"), float("nan"), float("nan")
    within = float(km_conversion_at(survival, [window], confidence)["conversion"].iloc[0])
    if within <= 0:
        return float("nan"), float("nan"), float("nan")
    p = within / 2
    with np.errstate(divide="ignore", invalid="ignore"):  # S = 0 at the last time makes log(-log S) infinite
        low, high = survival.quantile_ci(p, alpha=1 - confidence, method=KM_TRANSFORM)
    return float(survival.quantile(p)), float(low), float(high)
