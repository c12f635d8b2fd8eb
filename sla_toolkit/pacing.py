"""Daily pacing: will the customer objective be reached by the deadline?

Customers at the deadline = customers so far
+ conversions of leads already in the funnel: for an open lead created ``a`` days before the
  as-of date and ``h`` days before the deadline, ``P = 1 - S(h) / S(a)``, from the Kaplan–Meier
  curve of time from entering the funnel to the last stage, conditioned on the time elapsed.
  The curve keeps lost leads at risk without converting, so ``1 - S`` is the cumulative incidence
  of winning with losses as a competing outcome. Lost leads are decided: they leave this group and
  never count as possible future wins. A lead still open at age ``a`` then converts by ``h`` with
  ``(S(a) - S(h)) / Q(a)``, ``Q`` being the share neither won nor lost by ``a`` (Kaplan–Meier of
  the first decision, won or lost; a loss without a date counts as decided at the as-of date);
+ conversions of leads still to arrive: daily arrivals follow the model of
  :mod:`sla_toolkit.arrivals` (the last 28 whole days, a weekday pattern, a trend held within
  4x, overdispersion, parameter uncertainty); a lead arriving ``u`` days from now converts by the
  deadline with ``1 - S(R - u)``, ``R`` being the days left.

Uncertainty is simulated (``analysis.simulations`` runs, seed ``analysis.seed``), including the
uncertainty of the estimates: each run draws the arrival model's coefficients, and the survival
curve from independent Beta posteriors of the discrete hazard at each event time (their product has the KM curve as its mean). Conversions later than the
longest follow-up seen are not projected (the curve is flat beyond it): early in a period the
forecast is conservative, and the result says so.

The module imports neither statsmodels nor scipy, so that the daily ``pace`` command starts
fast: its Kaplan–Meier event table is computed here with numpy (tested equal to statsmodels').
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .arrivals import INFLOW_WINDOW_DAYS, ArrivalModel, fit_arrivals, simulate_arrivals
from .check_labels import format_count, format_number
from .errors import Reason
from .outcomes import as_of_view, has_timestamps, lost_mask, transition_outcomes
from .results import ResultMixin
from .spec import SlaSpec
from .types import Status, reached_column, stage_column

PREDICTION_CONFIDENCE = 0.90
FAN_QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
_DAY = pd.Timedelta(days=1)
_MAX_CURVE_POINTS = 1500
_CHUNK = 500


@dataclass(frozen=True)
class PacingResult(ResultMixin):
    """Pace to the deadline at one as-of date. ``low``/``high`` bound a 90 % prediction interval
    (calibrated by ``studies/pacing_coverage.py``); after the deadline the figures are the final result."""

    name: str
    as_of: pd.Timestamp
    deadline: pd.Timestamp
    days_remaining: float
    target_customers: int | None
    customers_so_far: int
    expected_from_open: float
    expected_from_new: float
    expected_customers: float
    low: float
    high: float
    probability: float
    status: Status
    gap: float
    leads_so_far: int
    daily_leads: float
    leads_needed_per_day: float
    new_lead_conversion: float
    n_not_converted: int
    expected_leads: float = float("nan")
    leads_low: float = float("nan")
    leads_high: float = float("nan")
    leads_probability: float = float("nan")
    revenue_so_far: float = float("nan")
    expected_revenue: float = float("nan")
    revenue_low: float = float("nan")        # 90% prediction interval of revenue by the deadline
    revenue_high: float = float("nan")
    revenue_probability: float = float("nan")
    simulations: int = 0
    seed: int = 0
    reason: Reason = Reason.OK
    note: str = ""
    #: simulated customers at the deadline at the quantiles :data:`FAN_QUANTILES` (the burn-up chart's fan)
    fan: tuple[float, ...] = ()
    #: ``(day, customers reached by the end of that day)`` from the period start to the as-of date
    cumulative: tuple[tuple[str, int], ...] = ()
    title = "Pacing to the deadline"

    def to_frame(self) -> pd.DataFrame:
        row = self.to_dict()
        for series in ("fan", "cumulative"):
            row.pop(series)
        return pd.DataFrame([row])


def pace(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp) -> PacingResult:
    """Pacing of the customer objective at ``as_of`` (any date in the period, so it can run daily).

    Example
    -------
    >>> print(format_pacing(pace(leads, spec, "2027-02-15")))  # doctest: +SKIP
    """
    start = pd.Timestamp(spec.period.start)
    deadline = pd.Timestamp(spec.period.end) + _DAY
    as_of = min(pd.Timestamp(as_of), deadline)
    first, last = spec.funnel.first, spec.funnel.last
    base = dict(name=spec.name, as_of=as_of, deadline=deadline, target_customers=spec.objectives.customers,
                simulations=spec.analysis.simulations, seed=spec.analysis.seed)
    if "created_at" not in leads or leads["created_at"].isna().all() or not has_timestamps(leads, last):
        return _neutral(base, Reason.NO_TIMESTAMPS, Status.NOT_APPLICABLE,
                        f"pacing needs created_at and {stage_column(last)} timestamps")
    if as_of < start:
        return _neutral(base, Reason.NOT_STARTED, Status.NOT_APPLICABLE, f"the period starts on {start.date()}")
    view = as_of_view(leads, spec, as_of)
    outcomes = transition_outcomes(view, spec, first, last, as_of)
    timed = outcomes["entered"] & outcomes["duration_days"].notna()
    curve = km_events(outcomes.loc[timed, "duration_days"], outcomes.loc[timed, "event"])
    customers_so_far = int(view[reached_column(last)].astype(bool).sum())
    remaining = max((deadline - as_of) / _DAY, 0.0)
    created = view["created_at"]
    leads_so_far, recent_leads, inflow_days = _inflow(created, start, as_of)
    lost = lost_mask(view, spec)
    open_mask = timed & ~outcomes["converted"] & ~lost
    waited = outcomes.loc[open_mask, "duration_days"].to_numpy(float)
    horizon = ((deadline - created[open_mask]) / _DAY).to_numpy(float)
    factor = open_share_factor(curve, outcomes.loc[timed], view.loc[timed], lost[timed], waited)
    arrivals = fit_arrivals(created, start, as_of)
    draws = _simulate(curve, waited, horizon, arrivals, remaining, spec, factor)
    totals = customers_so_far + draws["open"] + draws["new"]
    target = spec.objectives.customers
    tail = (1 - PREDICTION_CONFIDENCE) / 2
    low, high = np.quantile(totals, [tail, 1 - tail])
    expected = float(totals.mean())
    probability = float((totals >= target).mean()) if target else float("nan")
    status, reason, note = _status(probability, curve, int(timed.sum()), spec)
    expected_open = float(draws["open"].mean())
    new_conversion = float(draws["new_conversion"].mean())
    needed_new = (target - customers_so_far - expected_open) if target else float("nan")
    per_day = _leads_per_day(needed_new, new_conversion, remaining)
    if curve.n and curve.longest < max(horizon.max(initial=0.0), remaining):
        longest = format_count(curve.longest, "day", digits=0)
        note = (note + "; " if note else "") + (f"conversions later than {longest} after entry "
                                                "(the longest follow-up so far) are not projected")
    leads_total = leads_so_far + draws["arrivals"]
    extra = _optional_objectives(view, spec, customers_so_far, totals, leads_total)
    return PacingResult(
        **base, days_remaining=remaining, customers_so_far=customers_so_far, expected_from_open=expected_open,
        expected_from_new=float(draws["new"].mean()), expected_customers=expected, low=float(low), high=float(high),
        probability=probability, status=status, gap=(target - expected) if target else float("nan"),
        leads_so_far=leads_so_far, daily_leads=recent_leads / inflow_days, leads_needed_per_day=per_day,
        new_lead_conversion=new_conversion, n_not_converted=int(open_mask.sum()), reason=reason, note=note,
        fan=tuple(float(q) for q in np.quantile(totals, FAN_QUANTILES)),
        cumulative=_cumulative_customers(view, last, start, as_of, customers_so_far), **extra)


def _cumulative_customers(view: pd.DataFrame, last: str, start: pd.Timestamp, as_of: pd.Timestamp,
                          customers_so_far: int) -> tuple[tuple[str, int], ...]:
    """Customers reached by the end of each day from the period start to the as-of date.

    Customers without a date (or dated before the start) count from the first day, so the last value is
    ``customers_so_far``.
    """
    reached = view[reached_column(last)].astype(bool)
    days = pd.date_range(start.normalize(), as_of.normalize(), freq="D")
    dated = view.loc[reached, stage_column(last)].dropna().dt.normalize()
    dated = dated[(dated >= days[0]) & (dated <= days[-1])] if len(days) else dated.iloc[:0]
    per_day = dated.value_counts().reindex(days, fill_value=0).cumsum()
    offset = customers_so_far - int(per_day.iloc[-1]) if len(per_day) else customers_so_far
    return tuple((f"{day:%Y-%m-%d}", int(count) + offset) for day, count in per_day.items())


def _inflow(created: pd.Series, start: pd.Timestamp, as_of: pd.Timestamp) -> tuple[int, int, float]:
    """Leads since the period start, leads in the recent inflow window, and that window's length in days."""
    inflow_start = max(start, as_of - pd.Timedelta(days=INFLOW_WINDOW_DAYS))
    return int((created >= start).sum()), int((created >= inflow_start).sum()), max((as_of - inflow_start) / _DAY, 1.0)


@dataclass(frozen=True)
class KmEvents:
    """Kaplan–Meier event table: distinct event times, events at each, leads at risk just before."""

    times: np.ndarray
    events: np.ndarray
    at_risk: np.ndarray
    n: int
    longest: float

    @property
    def survival(self) -> np.ndarray:
        """The KM estimate ``S(t)`` just after each event time."""
        return np.cumprod(1 - self.events / self.at_risk)


def km_events(duration, event) -> KmEvents:
    """The event table statsmodels' ``SurvfuncRight`` builds (same times, events, risk sets)."""
    duration = np.asarray(duration, dtype=float)
    event = np.asarray(event, dtype=bool)
    keep = np.isfinite(duration)
    duration, event = duration[keep], event[keep]
    # two sorts and binary searches instead of a sort that must also return each row's position
    event_times = np.sort(duration[event])
    times = np.unique(event_times)
    events = (np.searchsorted(event_times, times, side="right")
              - np.searchsorted(event_times, times, side="left")).astype(float)
    at_risk = duration.size - np.searchsorted(np.sort(duration), times, side="left")
    return KmEvents(times, events, at_risk.astype(float), int(duration.size),
                    float(duration.max()) if duration.size else 0.0)


def format_pacing(result: PacingResult) -> str:
    """A few lines for the terminal: status, probability, expected customers, gap, leads per day."""
    head = (f"{result.name}: pacing as of {result.as_of:%Y-%m-%d}, deadline {result.deadline - _DAY:%Y-%m-%d} "
            f"({format_count(result.days_remaining, 'day', digits=0)} left)")
    if result.status is Status.NOT_APPLICABLE and result.reason is not Reason.NO_TARGET:
        return f"{head}\nStatus: NOT_APPLICABLE ({result.reason.value}): {result.note}"
    target = format_count(result.target_customers, "customer") if result.target_customers else ""
    gap = f"; gap {format_number(result.gap)}" if result.target_customers and np.isfinite(result.gap) else ""
    conversion = (f"; a new lead converts in time with p = {result.new_lead_conversion:.3f}"
                  if np.isfinite(result.new_lead_conversion) else "")
    lines = [head,
             f"Status: {result.status.value}  " + (f"P(reach {target} by the deadline) = "
                                                  f"{_percent(result.probability)}" if target else
                                                  "no target: no probability of reaching it"),
             f"Customers: {format_number(result.customers_so_far)} so far + {format_number(result.expected_from_open)} "
             f"expected from {format_count(result.n_not_converted, 'lead')} not converted yet + "
             f"{format_number(result.expected_from_new)} from new leads = {format_number(result.expected_customers)} "
             f"(90% PI {format_number(result.low, 0)}-{format_number(result.high, 0)}){gap}",
             f"Leads needed per remaining day: {_per_day(result.leads_needed_per_day)} "
             f"(recent inflow {format_number(result.daily_leads)} per day{conversion})"]
    if result.note:
        lines.append(f"Note: {result.note}")
    return "\n".join(lines)


def open_share_factor(curve: KmEvents, outcomes: pd.DataFrame, leads: pd.DataFrame, lost: pd.Series,
                      waited: np.ndarray) -> np.ndarray | None:
    """``S(a) / Q(a)`` for each open lead of age ``a`` (None when no lead is lost: the factor is 1).

    ``S`` is the win curve (lost leads at risk, never converting), ``Q`` the Kaplan–Meier share of
    leads neither won nor lost by ``a``. Dividing a conditional win probability computed on ``S`` by
    this factor's inverse moves the chance of the lost leads onto the leads still open.
    """
    if not bool(lost.any()) or waited.size == 0:
        return None
    duration = outcomes["duration_days"]
    lost_at = leads["lost_at"] if "lost_at" in leads else pd.Series(pd.NaT, index=leads.index)
    lost_days = ((lost_at - leads["created_at"]) / _DAY).where(lost_at.notna(), duration).clip(lower=0)
    decided_time = np.where(lost.to_numpy(bool), lost_days.to_numpy(float), duration.to_numpy(float))
    decided = (outcomes["event"].to_numpy(bool) | lost.to_numpy(bool))
    first_decision = km_events(decided_time, decided)
    share_open = np.r_[1.0, first_decision.survival][np.searchsorted(first_decision.times, waited, side="right")]
    win_surv = np.r_[1.0, curve.survival][np.searchsorted(curve.times, waited, side="right")]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(share_open > 0, win_surv / share_open, 1.0)


def _simulate(curve: KmEvents, waited, horizon, arrival_model: ArrivalModel, remaining: float,
              spec: SlaSpec, open_factor: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Simulated conversions of open leads and of leads still to arrive (one value per run).

    ``open_factor`` (see :func:`open_share_factor`) scales each open lead's conditional probability
    when lost leads have left the open pool.
    """
    sims = spec.analysis.simulations
    rng = np.random.default_rng(spec.analysis.seed)
    daily, midpoints = simulate_arrivals(arrival_model, remaining, sims, rng)
    arrival_horizon = remaining - midpoints
    out = {"open": np.zeros(sims), "new": np.zeros(sims), "new_conversion": np.zeros(sims),
           "arrivals": daily.sum(axis=1)}
    if curve.events.sum() == 0:
        return out
    times, events, at_risk = _pooled_curve(curve, max(horizon.max(initial=0.0), remaining))
    factor = np.ones(len(waited)) if open_factor is None else np.asarray(open_factor, dtype=float)
    pairs, pair_factor, counts = _open_lead_groups(np.searchsorted(times, waited, side="right"),
                                                   np.searchsorted(times, horizon, side="right"), factor)
    arrival_index = np.searchsorted(times, arrival_horizon, side="right")
    for begin in range(0, sims, _CHUNK):
        size = min(_CHUNK, sims - begin)
        # column 0 of the curve is S(0) = 1: index i means "after the first i event times"
        log_surv = np.zeros((size, times.size + 1))
        log_surv[:, 1:] = np.cumsum(np.log1p(-_hazard_draws(events, at_risk, size, rng)), axis=1)
        surv = np.exp(log_surv)
        with np.errstate(divide="ignore", invalid="ignore"):
            p_open = np.where(surv[:, pairs[0]] > 0, 1 - surv[:, pairs[1]] / surv[:, pairs[0]], 0.0) * pair_factor
        out["open"][begin:begin + size] = rng.binomial(counts, np.clip(p_open, 0, 1)).sum(axis=1)
        p_new = np.clip(1 - surv[:, arrival_index], 0, 1)
        arrived = daily[begin:begin + size]
        out["new_conversion"][begin:begin + size] = p_new.mean(axis=1) if p_new.size else 0.0
        out["new"][begin:begin + size] = rng.binomial(arrived.astype(np.int64), p_new).sum(axis=1)
    return out


def _open_lead_groups(start: np.ndarray, end: np.ndarray, factor: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Open leads grouped by (curve index now, curve index at the horizon, factor to 3 decimals).

    Returns the index pairs (2 × groups), each group's factor and its number of leads, in the order of
    ``np.unique(..., axis=1)`` on the three rows, computed from one integer key per lead (a sort of
    integers, not of rows).
    """
    levels, factor_code = np.unique(np.round(factor, 3), return_inverse=True)
    span = int(max(start.max(initial=0), end.max(initial=0))) + 1
    key = (start.astype(np.int64) * span + end) * levels.size + factor_code
    unique_keys, counts = np.unique(key, return_counts=True)
    rest, code = np.divmod(unique_keys, levels.size)
    return np.stack(np.divmod(rest, span)).astype(int), levels[code], counts


def _pooled_curve(curve: KmEvents, max_time: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Event times up to ``max_time`` with events and n at risk; beyond 1,500 times, neighbours are pooled."""
    keep = curve.times <= max_time
    times, events, at_risk = curve.times[keep], curve.events[keep], curve.at_risk[keep]
    if times.size <= _MAX_CURVE_POINTS:
        return times, events.astype(float), at_risk.astype(float)
    block = np.arange(times.size) * _MAX_CURVE_POINTS // times.size
    starts = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
    ends = np.r_[starts[1:], times.size] - 1
    return times[ends], np.add.reduceat(events, starts).astype(float), at_risk[starts].astype(float)


def _hazard_draws(events: np.ndarray, at_risk: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Discrete hazards from Beta(d, n - d) (mean d / n, the KM factor); 1 where everyone at risk converted."""
    survivors = at_risk - events
    draws = rng.beta(events, np.where(survivors > 0, survivors, 1.0), size=(size, events.size))
    return np.where(survivors > 0, np.minimum(draws, 1 - 1e-12), 1.0 - 1e-12)


def _leads_per_day(needed_new: float, new_conversion: float, remaining: float) -> float:
    if not np.isfinite(needed_new):
        return float("nan")
    if needed_new <= 0:
        return 0.0
    if remaining <= 0 or new_conversion <= 0:
        return float("inf")
    return needed_new / (new_conversion * remaining)


def _status(probability: float, curve: KmEvents, n_timed: int, spec: SlaSpec) -> tuple[Status, Reason, str]:
    analysis = spec.analysis
    if spec.objectives.customers is None:
        return Status.NOT_APPLICABLE, Reason.NO_TARGET, "no customers objective in the spec"
    if n_timed < analysis.min_n:
        return Status.INSUFFICIENT_DATA, Reason.INSUFFICIENT_N, f"{format_count(n_timed, 'lead')} < min_n {analysis.min_n}"
    if curve.events.sum() == 0:
        return Status.INSUFFICIENT_DATA, Reason.NO_EVENTS, "no conversion yet: time to convert unknown"
    if probability >= analysis.on_track_probability:
        return Status.MET, Reason.OK, ""
    if probability >= analysis.at_risk_probability:
        return Status.AT_RISK, Reason.OK, ""
    return Status.MISSED, Reason.OK, ""


def _optional_objectives(view: pd.DataFrame, spec: SlaSpec, customers_so_far: int, totals: np.ndarray,
                         leads_total: np.ndarray) -> dict[str, float]:
    tail = (1 - PREDICTION_CONFIDENCE) / 2
    extra = {"expected_leads": float(leads_total.mean())}
    extra["leads_low"], extra["leads_high"] = (float(q) for q in np.quantile(leads_total, [tail, 1 - tail]))
    if spec.objectives.leads:
        extra["leads_probability"] = float((leads_total >= spec.objectives.leads).mean())
    if "revenue" in view:
        won = view[reached_column(spec.funnel.last)].astype(bool)
        revenue = view.loc[won, "revenue"]
        extra["revenue_so_far"] = float(revenue.sum())
        revenue_total = extra["revenue_so_far"] + _future_revenue(revenue.dropna().to_numpy(float),
                                                                  totals - customers_so_far, spec.analysis.seed)
        extra["expected_revenue"] = float(revenue_total.mean())
        extra["revenue_low"], extra["revenue_high"] = (float(q) for q in np.quantile(revenue_total,
                                                                                     [tail, 1 - tail]))
        if spec.objectives.revenue:
            extra["revenue_probability"] = float((revenue_total >= spec.objectives.revenue).mean())
    return extra


def _future_revenue(observed: np.ndarray, new_customers: np.ndarray, seed: int) -> np.ndarray:
    """Revenue of each simulation's future customers: their number times a revenue per customer drawn with its
    sampling uncertainty, plus the spread of a sum of that many customers (normal approximation).

    Without any observed revenue the future customers add nothing (the projection is revenue so far).
    """
    if observed.size == 0:
        return np.zeros_like(new_customers, dtype=float)
    rng = np.random.default_rng([seed, 7])
    spread = float(observed.std(ddof=1)) if observed.size > 1 else 0.0
    k = np.asarray(new_customers, dtype=float)
    mean_draws = observed.mean() + spread / np.sqrt(observed.size) * rng.standard_normal(k.size)
    return np.maximum(k * mean_draws + np.sqrt(k) * spread * rng.standard_normal(k.size), 0.0)


def _neutral(base: dict, reason: Reason, status: Status, note: str) -> PacingResult:
    nan = float("nan")
    return PacingResult(**base, days_remaining=nan, customers_so_far=0, expected_from_open=nan,
                        expected_from_new=nan, expected_customers=nan, low=nan, high=nan, probability=nan,
                        status=status, gap=nan, leads_so_far=0, daily_leads=nan, leads_needed_per_day=nan,
                        new_lead_conversion=nan, n_not_converted=0, reason=reason, note=note)


def _percent(value: float) -> str:
    return "n/a" if not np.isfinite(value) else f"{value:.0%}"


def _per_day(value: float) -> str:
    if not np.isfinite(value):
        return "n/a" if np.isnan(value) else "not reachable (new leads can no longer convert in time)"
    return format_number(value)
