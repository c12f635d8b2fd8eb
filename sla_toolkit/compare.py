"""SLA checks: one verdict per target in the spec (DESIGN.md section 4).

Status rules, for a target that is a floor (``at_least``; mirrored for a ceiling):

* ``INSUFFICIENT_DATA`` when the estimate rests on fewer than ``analysis.min_n`` leads;
* ``MET`` when the estimate meets the target;
* ``AT_RISK`` when it misses, but the interval still contains the target;
* ``MISSED`` when the interval excludes the target;
* ``NOT_APPLICABLE`` when the data lacks what the check needs (the reason says what).

Rates are judged on the censoring-aware estimate (:mod:`sla_toolkit.survival`), never the
naive one. Volume objectives before the deadline are judged on the pacing probability
(``on_track_probability`` / ``at_risk_probability``); after it, on the actual count.
Costs treat spend as fixed and the count it is divided by as Poisson: the exact (Garwood)
interval of the count gives ``[spend / upper, spend / lower]``.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .errors import Reason
from .followup import FollowUpResult, follow_up_sla
from .funnel import stage_counts
from .outcomes import as_of_view
from .pacing import PacingResult, pace
from .results import ResultMixin
from .spec import SlaSpec
from .stats import poisson_count_bounds
from .survival import ConversionResult, conversion_rates
from .check_labels import check_label, format_number, unit_of
from .types import CheckKind, Direction, Status, Unit, reached_column


@dataclass(frozen=True)
class SlaCheck(ResultMixin):
    """One target, its estimate with interval and n, the status and why."""

    name: str
    target: float
    direction: Direction
    estimate: float
    low: float
    high: float
    n: int
    status: Status
    reason: str
    basis: str = ""
    code: Reason = Reason.OK
    kind: CheckKind = CheckKind.KPI
    subject: str = ""              # the transition, volume, follow-up stage or KPI the check is about
    unit: Unit = Unit.COUNT
    currency: str | None = None
    label: str = ""                # what people read (sla_toolkit.check_labels), never parsed back
    probability: float = float("nan")   # P(reaching the target) for volume checks judged on pacing

    @property
    def title(self) -> str:
        return f"SLA check: {self.label or self.name}"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.to_dict()])


@dataclass(frozen=True)
class ChecksResult(ResultMixin):
    """Every SLA check of one run."""

    checks: tuple[SlaCheck, ...]
    as_of: pd.Timestamp
    title = "SLA checks"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([c.to_dict() for c in self.checks])

    def get(self, name: str) -> SlaCheck:
        for check in self.checks:
            if check.name == name:
                return check
        raise KeyError(f"no check {name!r}; have {[c.name for c in self.checks]}")

    def counts(self) -> dict[str, int]:
        """Number of checks per status (every status listed, zero included)."""
        return {s.value: sum(c.status is s for c in self.checks) for s in Status}


def judge(estimate: float, low: float, high: float, target: float, direction: Direction, n: int,
          min_n: int) -> tuple[Status, str]:
    """Status and reason of an estimate against a target (the rules in the module docstring)."""
    if n < min_n:
        return Status.INSUFFICIENT_DATA, f"n = {format_number(n)} is below the minimum of {format_number(min_n)}"
    if not np.isfinite(estimate):
        return Status.INSUFFICIENT_DATA, "no estimate"
    meets = estimate >= target if direction is Direction.AT_LEAST else estimate <= target
    if meets:
        return Status.MET, f"estimate {_figure(estimate)} meets the target {_figure(target)}"
    if low <= target <= high:
        return Status.AT_RISK, (f"estimate {_figure(estimate)} misses {_figure(target)}; "
                                f"interval [{_figure(low)}, {_figure(high)}] contains it")
    return Status.MISSED, f"interval [{_figure(low)}, {_figure(high)}] excludes the target {_figure(target)}"


def _figure(value: float) -> str:
    """A figure in a reason: four significant digits for rates (``0.1235``), separators for large values."""
    return format_number(value, 4 if abs(value) < 1 else 1)


def described(check: SlaCheck, kind: CheckKind, subject: str, spec: SlaSpec, **label_options) -> SlaCheck:
    """The check with its kind, subject, unit, currency and human label set."""
    return replace(check, kind=kind, subject=subject, unit=unit_of(kind, subject), currency=spec.currency,
                   label=check_label(kind, subject, **label_options))


def not_applicable(name: str, target: float, direction: Direction, why: str, code: Reason) -> SlaCheck:
    """A check the data cannot support, with the reason."""
    nan = float("nan")
    return SlaCheck(name, target, direction, nan, nan, nan, 0, Status.NOT_APPLICABLE, why, code=code)


def sla_checks(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp, spend: pd.DataFrame | None = None, *,
               conversions: ConversionResult | None = None, pacing: PacingResult | None = None,
               clustered=None, follow_up: FollowUpResult | None = None) -> ChecksResult:
    """One check per target: stage rates, volume objectives, follow-up share, KPIs.

    Parameters
    ----------
    spend : canonical spend table (date, channel, campaign, spend), for cost KPIs.
    conversions, pacing, follow_up : results already computed for the same ``as_of`` (computed when None).
    clustered : :class:`~sla_toolkit.clustered.ClusteredRates` when ``analysis.cluster`` is declared: rate
        checks then judge on intervals widened by each step's cluster-robust / naive standard-error ratio.
    """
    as_of = pd.Timestamp(as_of)
    conversions = conversions or conversion_rates(leads, spec, as_of)
    checks = rate_checks(conversions, spec, clustered)
    checks += volume_checks(leads, spec, as_of, pacing)
    if spec.follow_up is not None:
        checks.append(follow_up_check(leads, spec, as_of, follow_up))
    checks += kpi_checks(as_of_view(leads, spec, as_of), spec, as_of, spend)
    return ChecksResult(tuple(checks), as_of)


def rate_checks(conversions: ConversionResult, spec: SlaSpec, clustered=None) -> list[SlaCheck]:
    """One check per ``funnel.targets`` entry, on the censoring-aware estimate (cluster-widened when declared)."""
    checks = []
    for transition, target in spec.funnel.targets.items():
        item = conversions.get(transition)
        low, high, widened = cluster_widened(item.estimate, item.low, item.high, transition, clustered)
        status, why = judge(item.estimate, low, high, target, Direction.AT_LEAST, item.n, spec.analysis.min_n)
        code = Reason.INSUFFICIENT_N if status is Status.INSUFFICIENT_DATA else item.reason
        check = SlaCheck(f"rate {transition}", target, Direction.AT_LEAST, item.estimate, low,
                         high, item.n, status, f"{why} ({item.basis.value}{widened}; naive rate "
                         f"{_figure(item.naive.estimate)} shown for reference only)", item.basis.value, code)
        checks.append(described(check, CheckKind.RATE, transition, spec))
    return checks


def cluster_widened(estimate: float, low: float, high: float, transition: str,
                    clustered) -> tuple[float, float, str]:
    """The interval widened by the step's cluster-robust / naive standard-error ratio (never narrowed).

    Leads of one cluster (campaign, week, landing page) convert alike, so an interval that treats them as
    independent is too narrow; the ratio of standard errors from the cluster-robust binomial fit is the
    design effect's square root, applied to each side of the censoring-aware interval.
    """
    if clustered is None or clustered.summary.empty:
        return low, high, ""
    row = clustered.summary.loc[clustered.summary["transition"] == transition]
    ratio = float(row["se_ratio"].iloc[0]) if len(row) else float("nan")
    if not np.isfinite(ratio) or ratio <= 1.0 or not np.isfinite(low) or not np.isfinite(high):
        return low, high, ""
    wide_low, wide_high = max(0.0, estimate - (estimate - low) * ratio), min(1.0, estimate + (high - estimate) * ratio)
    return wide_low, wide_high, f"; interval widened {ratio:.1f}× for leads clustered by {clustered.column}"


def volume_checks(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp,
                  pacing: PacingResult | None = None) -> list[SlaCheck]:
    """Customers / leads / revenue objectives: projected before the deadline, actual after it."""
    objectives = spec.objectives
    if not (objectives.customers or objectives.leads or objectives.revenue):
        return []
    pacing = pacing or pace(leads, spec, as_of)
    checks: list[SlaCheck] = []
    wanted = [("customers", objectives.customers, pacing.expected_customers, pacing.low, pacing.high,
               pacing.probability, pacing.customers_so_far),
              ("leads", objectives.leads, pacing.expected_leads, pacing.leads_low, pacing.leads_high,
               pacing.leads_probability, pacing.leads_so_far),
              ("revenue", objectives.revenue, pacing.expected_revenue, pacing.revenue_low, pacing.revenue_high,
               pacing.revenue_probability, pacing.revenue_so_far)]
    for what, target, expected, low, high, probability, so_far in wanted:
        if not target:
            continue
        name = f"volume {what}"
        if pacing.status is Status.NOT_APPLICABLE and pacing.reason is not Reason.NO_TARGET:
            checks.append(not_applicable(name, target, Direction.AT_LEAST, pacing.note, pacing.reason))
        elif what == "revenue" and not np.isfinite(so_far):
            checks.append(not_applicable(name, target, Direction.AT_LEAST, "no revenue column mapped",
                                         Reason.NO_COLUMN))
        elif pacing.days_remaining <= 0:
            status = Status.MET if so_far >= target else Status.MISSED
            checks.append(SlaCheck(name, target, Direction.AT_LEAST, float(so_far), float(so_far), float(so_far),
                                   pacing.leads_so_far, status, f"actual {so_far:,.4g} at the deadline vs "
                                   f"target {target:,.4g}", "actual"))
        else:
            checks.append(_paced_check(name, target, expected, low, high, probability, pacing, spec))
        checks[-1] = described(checks[-1], CheckKind.VOLUME, what, spec, final=checks[-1].basis == "actual")
    return checks


def _paced_check(name, target, expected, low, high, probability, pacing: PacingResult, spec: SlaSpec) -> SlaCheck:
    analysis = spec.analysis
    if pacing.status is Status.INSUFFICIENT_DATA:
        return SlaCheck(name, target, Direction.AT_LEAST, expected, low, high, pacing.leads_so_far,
                        Status.INSUFFICIENT_DATA, pacing.note, "pacing", pacing.reason)
    if probability >= analysis.on_track_probability:
        status = Status.MET
    elif probability >= analysis.at_risk_probability:
        status = Status.AT_RISK
    else:
        status = Status.MISSED
    why = (f"projected {expected:,.4g} by the deadline; P(reach {target:,.4g}) = {probability:.0%} "
           f"(on track at >= {analysis.on_track_probability:.0%}, at risk at >= {analysis.at_risk_probability:.0%})")
    return SlaCheck(name, target, Direction.AT_LEAST, expected, low, high, pacing.leads_so_far, status, why,
                    "pacing", probability=probability)


def follow_up_check(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp,
                    result: FollowUpResult | None = None) -> SlaCheck:
    """Share of leads at the follow-up stage touched within the promised hours (``result``: already computed)."""
    result = follow_up_sla(leads, spec, as_of) if result is None else result
    name = f"follow-up {result.stage} within {result.within_hours:g}h"
    return described(_follow_up_check(name, result, spec), CheckKind.FOLLOW_UP, result.stage, spec,
                     hours=result.within_hours)


def _follow_up_check(name: str, result, spec: SlaSpec) -> SlaCheck:
    if result.reason in (Reason.NO_COLUMN, Reason.NO_TIMESTAMPS):
        return not_applicable(name, result.target_share, Direction.AT_LEAST, "; ".join(result.notes[-1:]),
                              result.reason)
    share = result.share
    status, why = judge(share.estimate, share.low, share.high, result.target_share, Direction.AT_LEAST, share.n,
                        spec.analysis.min_n)
    code = Reason.INSUFFICIENT_N if status is Status.INSUFFICIENT_DATA else Reason.OK
    return SlaCheck(name, result.target_share, Direction.AT_LEAST, share.estimate, share.low, share.high, share.n,
                    status, why, "wilson", code)


def kpi_checks(view: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp, spend: pd.DataFrame | None) -> list[SlaCheck]:
    """Cost per lead / per stage, CAC and revenue KPIs, one check per bound."""
    checks = []
    counts = stage_counts(view, spec.funnel.stages)
    period_spend = _period_spend(spend, spec, as_of)
    for kpi, bound in spec.kpis.items():
        for direction, target in ((Direction.AT_MOST, bound.max), (Direction.AT_LEAST, bound.min)):
            if target is None:
                continue
            both = bound.min is not None and bound.max is not None
            side = "max" if direction is Direction.AT_MOST else "min"
            name = f"kpi {kpi}" + (f" ({side})" if both else "")
            if kpi == "revenue":
                check = _revenue_check(name, target, direction, view, spec)
            elif period_spend is None:
                check = not_applicable(name, target, direction, "no spend table", Reason.NO_SPEND)
            else:
                stage = spec.funnel.first if kpi == "cost_per_lead" else spec.funnel.last if kpi == "cac" \
                    else kpi[len("cost_per_"):]
                check = _cost_check(name, target, direction, period_spend, int(counts[stage]), stage, spec)
            checks.append(described(check, CheckKind.KPI, kpi, spec, bound=side if both else ""))
    return checks


def _cost_check(name, target, direction, spend_total: float, count: int, stage: str, spec: SlaSpec) -> SlaCheck:
    lower, upper = poisson_count_bounds(count, spec.analysis.confidence)
    estimate = spend_total / count if count else float("inf")
    low = spend_total / upper
    high = spend_total / lower if lower > 0 else float("inf")
    status, why = judge(estimate, low, high, target, direction, count, spec.analysis.min_n)
    code = Reason.INSUFFICIENT_N if status is Status.INSUFFICIENT_DATA else Reason.OK
    return SlaCheck(name, target, direction, estimate, low, high, count, status,
                    f"{why}; spend {spend_total:,.2f} over {count} {stage} (to date)", "spend / Poisson count", code)


def _revenue_check(name, target, direction, view: pd.DataFrame, spec: SlaSpec) -> SlaCheck:
    if "revenue" not in view:
        return not_applicable(name, target, direction, "no revenue column mapped", Reason.NO_COLUMN)
    won = view[reached_column(spec.funnel.last)].astype(bool)
    revenue = view.loc[won, "revenue"]
    total = float(revenue.sum())
    n = int(revenue.notna().sum())
    status, why = judge(total, total, total, target, direction, n, spec.analysis.min_n)
    code = Reason.INSUFFICIENT_N if status is Status.INSUFFICIENT_DATA else Reason.OK
    return SlaCheck(name, target, direction, total, total, total, n, status, f"{why} (observed total to date)",
                    "observed", code)


def _period_spend(spend: pd.DataFrame | None, spec: SlaSpec, as_of: pd.Timestamp) -> float | None:
    """Spend in the period up to ``as_of``, within the scope's channels and campaigns (None without a table)."""
    if spend is None:
        return None
    deadline = pd.Timestamp(spec.period.end) + pd.Timedelta(days=1)
    keep = (spend["date"] >= pd.Timestamp(spec.period.start)) & (spend["date"] <= as_of) & (spend["date"] < deadline)
    if spec.scope.channels and "channel" in spend:
        keep &= spend["channel"].isin(spec.scope.channels)
    if spec.scope.campaigns and "campaign" in spend:
        keep &= spend["campaign"].isin(spec.scope.campaigns)
    return float(spend.loc[keep, "spend"].sum())
