"""Time to win when losses are recorded: cumulative incidence with loss as a competing event.

When the mapping records losses (a ``lost_at`` date or a lost status), a lead that was lost can no
longer convert. Kaplan–Meier would have to either censor it at its loss (as if it might still win:
``1 - S`` then overstates conversion) or keep it at risk forever. The Aalen–Johansen estimate of the
cumulative incidence function (CIF) treats the loss as what it is, a competing event:

    F_win(t) = sum over event times s <= t of S(s-) * wins(s) / at_risk(s),

``S`` being the Kaplan–Meier curve of the first decision (won or lost). statsmodels'
``CumIncidenceRight`` computes it with its delta-method standard error (Marubini and Valsecchi,
as in Stata's ``stcompet``). The pointwise interval is computed on the log(-log F) scale and
mapped back, so it stays inside [0, 1]; where F is 0 or 1 or the standard error is not defined,
the Wilson interval of the leads still at risk is used, as for Kaplan–Meier.

A loss with a date is a competing event on that date (clipped to the follow-up); a loss known only
from a status column has no date and counts as a competing event at the as-of date, the end of
its follow-up: the lead stays at risk until then without converting.
"""
from __future__ import annotations

from enum import Enum

import weakref

import numpy as np
import pandas as pd

from .outcomes import lost_mask
from .spec import SlaSpec
from .memo import by_content
from .stats import ascending, conversion_curve_frame, finite_by_duration, loglog_bounds, wilson_bounds
from .types import stage_column

CENSORED, WON, LOST = 0, 1, 2
_DAY = pd.Timedelta(days=1)


class ProjectionMethod(str, Enum):
    """How the share converting within a window is projected from leads still open."""

    KAPLAN_MEIER = "kaplan_meier"
    CUMULATIVE_INCIDENCE = "cumulative_incidence"

    @property
    def words(self) -> str:
        return METHOD_WORDS[self]

    @property
    def short(self) -> str:
        return "cumulative incidence" if self is ProjectionMethod.CUMULATIVE_INCIDENCE else "Kaplan–Meier"


METHOD_WORDS = {
    ProjectionMethod.KAPLAN_MEIER: "Kaplan–Meier, open leads censored",
    ProjectionMethod.CUMULATIVE_INCIDENCE: "cumulative incidence, losses as a competing event",
}


def competing_outcomes(outcomes: pd.DataFrame, leads: pd.DataFrame, spec: SlaSpec, from_stage: str) -> pd.DataFrame:
    """``duration_days`` and ``status`` (0 open, 1 converted, 2 lost first) of the timed leads of a transition.

    ``outcomes`` is :func:`~sla_toolkit.outcomes.transition_outcomes` on ``leads`` (already seen at the
    as-of date): open leads keep their follow-up time, converted leads their conversion time, and a lead
    lost before converting gets its loss time (days from entering ``from_stage`` to ``lost_at``, within
    its follow-up; without a loss date, its whole follow-up).
    """
    timed = outcomes["entered"] & outcomes["duration_days"].notna()
    duration = outcomes["duration_days"].astype(float)
    lost_first = lost_mask(leads, spec) & ~outcomes["event"] & timed
    if "lost_at" in leads and stage_column(from_stage) in leads:
        to_loss = ((leads["lost_at"] - leads[stage_column(from_stage)]) / _DAY).astype(float).clip(lower=0)
        dated = lost_first & to_loss.notna()
        duration = duration.where(~dated, np.minimum(to_loss, duration))
    status = np.where(outcomes["event"], WON, np.where(lost_first, LOST, CENSORED))
    frame = pd.DataFrame({"duration_days": duration, "status": status}, index=outcomes.index)
    return frame.loc[timed]


def fit_cif(duration, status, *, remember: bool = True) -> CumIncidenceRight | None:
    """statsmodels' Aalen–Johansen fit (status 1 won, 2 lost, 0 censored); None without durations.

    With ``remember``, equal inputs return the same (read-only) fit: a cycle fits each transition's curve
    on all its leads more than once. Fits that happen once (a channel's) pass ``remember=False``.
    """
    return _fit_cif(np.asarray(duration, dtype=float), np.asarray(status, dtype=int), remember=remember)


@by_content()
def _fit_cif(duration: np.ndarray, status: np.ndarray) -> CumIncidenceRight | None:
    rows = finite_by_duration(duration, status)
    if rows is None:
        return None
    from statsmodels.duration.survfunc import CumIncidenceRight   # deferred: heavy, not needed to show results

    with np.errstate(divide="ignore", invalid="ignore"):   # n = d at a last time: see win_standard_error
        return CumIncidenceRight(*rows)


_WIN_ARRAYS: "weakref.WeakKeyDictionary[CumIncidenceRight, tuple[np.ndarray, np.ndarray]]" = \
    weakref.WeakKeyDictionary()


def _win_arrays(fit: CumIncidenceRight) -> tuple[np.ndarray, np.ndarray]:
    """The CIF of winning and its standard error at ``fit.times`` (zeros when nobody won), once per fit."""
    if fit not in _WIN_ARRAYS:
        _WIN_ARRAYS[fit] = _compute_win_arrays(fit)
    return _WIN_ARRAYS[fit]


def _compute_win_arrays(fit: CumIncidenceRight) -> tuple[np.ndarray, np.ndarray]:
    if len(fit.cinc) < WON:   # no event of any kind: statsmodels returns no curve
        return np.zeros(len(fit.times)), np.zeros(len(fit.times))
    cif, se = np.asarray(fit.cinc[WON - 1], dtype=float), np.asarray(fit.cinc_se[WON - 1], dtype=float)
    if not np.isfinite(se).all():
        se = win_standard_error(fit, cif)
    return cif, se


def win_standard_error(fit: CumIncidenceRight, cif: np.ndarray) -> np.ndarray:
    """Delta-method standard error of the CIF of winning, as statsmodels computes it, at ``fit.times``.

    statsmodels expands ``(F(t) - F(t_j))^2 d_j / (n_j (n_j - d_j))`` into three sums; at a last time
    where every lead still at risk has an event (n = d) that gives inf - inf, so the standard error is
    NaN from there on. The weight ``(F(t) - F(t_j))^2`` is zero at that time, so the term is dropped here
    and the rest of the formula is unchanged (tested equal to statsmodels' wherever it is defined).
    """
    time = np.asarray(fit.time, dtype=float)
    status = np.asarray(fit.status)
    times = np.asarray(fit.times, dtype=float)
    position = np.searchsorted(times, time)
    at_risk = time.size - np.searchsorted(ascending(time), times, side="left")
    events = np.bincount(position, weights=(status > 0).astype(float), minlength=times.size)
    wins = np.bincount(position, weights=(status == WON).astype(float), minlength=times.size)
    all_cause = np.cumprod(1 - events / at_risk)
    before = np.r_[1.0, all_cause[:-1]] / at_risk
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(at_risk > events, events / (at_risk * (at_risk - events)), 0.0)
    variance = cif ** 2 * np.cumsum(ratio) - 2 * cif * np.cumsum(cif * ratio) + np.cumsum(cif ** 2 * ratio)
    variance += np.cumsum(before ** 2 * (at_risk - wins) * wins / at_risk)
    term = before * wins / at_risk
    variance += -2 * cif * np.cumsum(term) + 2 * np.cumsum(cif * term)
    return np.sqrt(np.clip(variance, 0, None))


def cif_conversion_at(fit: CumIncidenceRight, times, confidence: float = 0.95) -> pd.DataFrame:
    """Cumulative incidence of converting at each time, with its pointwise log(-log) interval.

    Columns as :func:`sla_toolkit.survival.km_conversion_at`: ``time_days``, ``conversion``, ``low``,
    ``high``, ``standard_error``, ``at_risk``.
    """
    times = np.atleast_1d(np.asarray(times, dtype=float))
    cif, cif_se = _win_arrays(fit)
    index = np.searchsorted(fit.times, times, side="right")   # 0: before the first time, F = 0
    value = np.r_[0.0, cif][index]
    se = np.r_[0.0, cif_se][index]
    return conversion_curve_frame(times, value, loglog_bounds(value, se, confidence), se, fit.time, confidence)


def cif_event_table(fit: CumIncidenceRight) -> tuple[np.ndarray, np.ndarray]:
    """Times at which somebody converted and the number of conversions at each."""
    time = np.asarray(fit.time, dtype=float)
    won = np.asarray(fit.status) == WON
    times, counts = np.unique(time[won], return_counts=True)
    return times, counts.astype(float)


def cif_conditional_median(fit: CumIncidenceRight | None, window: float,
                           confidence: float) -> tuple[float, float, float]:
    """Median time to win among leads winning within the window: the first t with F(t) >= F(window) / 2.

    The interval holds the times whose pointwise interval of F contains F(window) / 2 (test
    inversion, as statsmodels' ``quantile_ci`` does for Kaplan–Meier); it treats F(window) as known,
    so it is slightly narrow. An upper end not reached by the data is infinite ("or more").
    """
    nothing = (float("nan"),) * 3
    if fit is None:
        return nothing
    times, _ = cif_event_table(fit)
    if times.size == 0:
        return nothing
    within = float(cif_conversion_at(fit, [window], confidence)["conversion"].iloc[0])
    if within <= 0:
        return nothing
    p = within / 2
    # the curve at its own times, as cif_conversion_at(fit, fit.times) reads it, without building a table
    time = np.asarray(fit.times, dtype=float)
    value, se = _win_arrays(fit)
    low, high, usable = loglog_bounds(value, se, confidence)
    low, high = np.array(low, dtype=float), np.array(high, dtype=float)
    if not usable.all():   # Wilson of the leads still at risk where the log(-log) scale breaks down
        at_risk = len(fit.time) - np.searchsorted(ascending(fit.time), time[~usable], side="left")
        low[~usable], high[~usable] = wilson_bounds(np.round(value[~usable] * at_risk), at_risk, confidence)

    def first_time(where: np.ndarray, otherwise: float) -> float:
        hits = np.flatnonzero(where)
        return float(time[hits[0]]) if hits.size else otherwise

    return first_time(value >= p, float("nan")), first_time(high >= p, float("nan")), first_time(low > p, float("inf"))
