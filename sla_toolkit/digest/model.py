"""The two-sided daily digest, computed (pure: no files, no printing).

Marketing -> sales: leads and first-qualified-stage leads (MQLs) delivered against what was promised *to
date*, the chance of reaching the customer objective and the leads needed per remaining day. Every
pacing figure is the :class:`~sla_toolkit.pacing.PacingResult` that ``sla-toolkit pace`` prints, not a
second computation. "Promised to date" is the objective pro-rated over the period, linearly: after 30 of
90 days, a third of the leads promised for the cycle.

Sales -> marketing: the follow-up promise (``follow_up`` in sla.yaml) kept today and this week, and the
leads waiting past it. A lead's follow-up is *due* ``within_hours`` after it reached the follow-up stage;
"today" holds the leads due in the 24 hours up to the as-of time, "this week" those due in the 7 days up to
it. A lead touched within the promise counts once its follow-up falls due, so a day's share is final.
Leads *waiting past the promise* are at the follow-up stage, not touched, past their due time, and not
lost (a lost lead needs no follow-up): exactly the ``never_touched`` leads of
:func:`~sla_toolkit.followup.follow_up_states`, minus the lost ones.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..followup import FollowUpState, follow_up_states
from ..outcomes import as_of_view
from ..pacing import PacingResult
from ..results import ResultMixin, jsonable
from ..spec import FollowUp, SlaSpec
from ..stats import RateEstimate, rate_columns, wilson_interval
from ..types import reached_column, stage_column

_DAY = pd.Timedelta(days=1)
_HOUR = pd.Timedelta(hours=1)


@dataclass(frozen=True)
class Delivery(ResultMixin):
    """Leads that reached ``stage`` so far, against the cycle's target and its pro-rated share to date."""

    stage: str
    delivered: int
    target: float | None
    promised_to_date: float | None
    title = "Delivered vs promised"

    @property
    def gap_to_date(self) -> float | None:
        """Delivered minus promised to date (negative: behind the promise)."""
        return None if self.promised_to_date is None else self.delivered - self.promised_to_date

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{**self.to_dict(), "gap_to_date": self.gap_to_date}])


@dataclass(frozen=True)
class MarketingSide(ResultMixin):
    """Marketing's delivery to sales at the as-of date; ``pacing`` is pace's own result."""

    pacing: PacingResult
    elapsed_share: float
    deliveries: tuple[Delivery, ...]
    title = "Marketing -> sales"

    def to_frame(self) -> pd.DataFrame:
        return pd.concat([d.to_frame() for d in self.deliveries], ignore_index=True)


@dataclass(frozen=True)
class FollowUpWindow(ResultMixin):
    """Follow-ups falling due in one window (today / this week): share kept within the promise."""

    label: str
    start: pd.Timestamp
    end: pd.Timestamp
    share: RateEstimate
    by_team: pd.DataFrame = field(default_factory=pd.DataFrame)
    title = "Follow-up within the promise"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"window": self.label, "within": self.share.successes, "n": self.share.n,
                              "share": self.share.estimate, "low": self.share.low, "high": self.share.high}])

    def to_dict(self) -> dict:
        return {"label": self.label, "start": jsonable(self.start), "end": jsonable(self.end),
                "share": self.share.to_dict(), "by_team": jsonable(self.by_team)}


@dataclass(frozen=True)
class WaitingLead:
    """A lead waiting past the follow-up promise: who, whose, since when, how long."""

    lead_id: str
    team: str | None
    reached_at: pd.Timestamp
    age_hours: float
    overdue_hours: float


@dataclass(frozen=True)
class SalesSide(ResultMixin):
    """Sales' follow-up of the leads marketing delivered."""

    stage: str
    within_hours: float
    target_share: float
    team_column: str | None
    today: FollowUpWindow | None
    week: FollowUpWindow | None
    waiting: tuple[WaitingLead, ...]
    note: str = ""
    title = "Sales -> marketing"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([jsonable(w) for w in self.waiting],
                            columns=["lead_id", "team", "reached_at", "age_hours", "overdue_hours"])

    def to_dict(self) -> dict:
        return {"stage": self.stage, "within_hours": self.within_hours, "target_share": self.target_share,
                "team_column": self.team_column, "note": self.note,
                "today": None if self.today is None else self.today.to_dict(),
                "week": None if self.week is None else self.week.to_dict(),
                "waiting": jsonable(self.to_frame())}


@dataclass(frozen=True)
class Digest(ResultMixin):
    """One SLA's two-sided message at one as-of date."""

    sla: str
    as_of: pd.Timestamp
    marketing: MarketingSide
    sales: SalesSide
    title = "Daily digest"

    def to_frame(self) -> pd.DataFrame:
        return self.marketing.to_frame()

    def figures(self) -> dict:
        """The figures compared from one day's digest to the next (JSON-safe)."""
        pacing, sales = self.marketing.pacing, self.sales
        figures = {"status": pacing.status.value, "probability": pacing.probability,
                   "leads_probability": pacing.leads_probability, "expected_customers": pacing.expected_customers,
                   "customers_so_far": pacing.customers_so_far, "leads_needed_per_day": pacing.leads_needed_per_day,
                   "waiting_count": len(sales.waiting), "waiting_ids": [w.lead_id for w in sales.waiting]}
        for delivery in self.marketing.deliveries:
            figures[f"delivered_{delivery.stage}"] = delivery.delivered
        for window in (sales.today, sales.week):
            if window is not None:
                figures[f"follow_up_{window.label.replace(' ', '_')}"] = window.share.estimate
        return jsonable(figures)

    def to_dict(self) -> dict:
        return {"sla": self.sla, "as_of": jsonable(self.as_of), "marketing": {
            "pacing": self.marketing.pacing.to_dict(), "elapsed_share": self.marketing.elapsed_share,
            "deliveries": [d.to_dict() for d in self.marketing.deliveries]},
            "sales": self.sales.to_dict(), "figures": self.figures()}


# -- building it ------------------------------------------------------------------------------------------
def build_digest(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp, pacing: PacingResult) -> Digest:
    """The digest of ``leads`` (in scope, canonical) at ``as_of``; ``pacing`` is ``pace(leads, spec, as_of)``."""
    as_of = pd.Timestamp(as_of)
    view = as_of_view(leads, spec, as_of)
    return Digest(spec.name, as_of, marketing_side(view, spec, as_of, pacing), sales_side(view, spec, as_of))


def elapsed_share(spec: SlaSpec, as_of: pd.Timestamp) -> float:
    """Share of the period elapsed at ``as_of`` (0 before the start, 1 at the deadline)."""
    start = pd.Timestamp(spec.period.start)
    deadline = pd.Timestamp(spec.period.end) + _DAY
    return float(np.clip((as_of - start) / (deadline - start), 0.0, 1.0))


def stage_target(spec: SlaSpec, stage: str) -> float | None:
    """The cycle's target for leads reaching ``stage``, from the objectives and the funnel's target rates.

    The leads objective carried down the funnel (leads x rates up to ``stage``), else the customers
    objective carried up (customers / rates from ``stage`` on); None when a rate on the way is missing.
    """
    stages, targets = spec.funnel.stages, spec.funnel.targets
    index = stages.index(stage)
    rates_down = [targets.get(f"{a}->{b}") for a, b in zip(stages[:index], stages[1:index + 1])]
    if spec.objectives.leads and all(r is not None for r in rates_down):
        return float(spec.objectives.leads * np.prod(rates_down))
    rates_up = [targets.get(f"{a}->{b}") for a, b in zip(stages[index:-1], stages[index + 1:])]
    if spec.objectives.customers and all(r for r in rates_up):
        return float(spec.objectives.customers / np.prod(rates_up))
    return None


def marketing_side(view: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp, pacing: PacingResult) -> MarketingSide:
    share = elapsed_share(spec, as_of)
    stages = spec.funnel.stages[:2] if len(spec.funnel.stages) > 2 else spec.funnel.stages[:1]
    deliveries = []
    for stage in stages:
        if stage == spec.funnel.first:
            delivered = pacing.leads_so_far  # pace's own count (leads created since the period start)
        else:
            delivered = int(view[reached_column(stage)].astype(bool).sum())
        target = stage_target(spec, stage)
        deliveries.append(Delivery(stage, delivered, target, None if target is None else target * share))
    return MarketingSide(pacing, share, tuple(deliveries))


def sales_side(view: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp) -> SalesSide:
    promise = spec.follow_up or FollowUp()
    stage = spec.follow_up_stage
    team_column = promise.team_column if promise.team_column and promise.team_column in view else None
    base = dict(stage=stage, within_hours=promise.within_hours, target_share=promise.share, team_column=team_column)
    if "first_touch_at" not in view or stage_column(stage) not in view or view[stage_column(stage)].isna().all():
        return SalesSide(**base, today=None, week=None, waiting=(),
                         note=f"no follow-up figures: first_touch_at or {stage}_at is not in the data")
    states = follow_up_states(view, spec, as_of)
    due = view.loc[states.index, stage_column(stage)] + pd.Timedelta(hours=promise.within_hours)
    windows = [_window(label, as_of - length, as_of, states, due, view, team_column, spec)
               for label, length in (("today", _DAY), ("this week", 7 * _DAY))]
    lost = view.loc[states.index, "lost_at"].notna() if "lost_at" in view else pd.Series(False, index=states.index)
    waiting_mask = (states["state"] == FollowUpState.NEVER_TOUCHED.value) & ~lost
    waiting = [WaitingLead(str(view.at[i, "lead_id"]), None if team_column is None else _team(view.at[i, team_column]),
                           view.at[i, stage_column(stage)], (as_of - view.at[i, stage_column(stage)]) / _HOUR,
                           (as_of - due[i]) / _HOUR)
               for i in states.index[waiting_mask]]
    waiting.sort(key=lambda w: (-w.age_hours, w.lead_id))
    note = f"{int(lost[states['state'] == FollowUpState.NEVER_TOUCHED.value].sum())} lost leads never touched " \
           "are not listed (nobody needs to act on them)" if lost.any() else ""
    return SalesSide(**base, today=windows[0], week=windows[1], waiting=tuple(waiting), note=note)


def _team(value) -> str:
    return "(missing)" if pd.isna(value) else str(value)


def _window(label: str, start: pd.Timestamp, end: pd.Timestamp, states: pd.DataFrame, due: pd.Series,
            view: pd.DataFrame, team_column: str | None, spec: SlaSpec) -> FollowUpWindow:
    in_window = (due > start) & (due <= end) & (states["state"] != FollowUpState.OPEN.value)
    within = states.loc[in_window, "state"] == FollowUpState.WITHIN.value
    share = wilson_interval(int(within.sum()), int(in_window.sum()), spec.analysis.confidence)
    by_team = pd.DataFrame(columns=["team", "within", "n", "share", "low", "high"])
    if team_column is not None and in_window.any():
        team = view.loc[within.index, team_column].map(_team).rename("team")
        grouped = within.groupby(team)
        by_team = pd.DataFrame({"within": grouped.sum().astype(int), "n": grouped.size()}).reset_index()
        by_team = pd.concat([by_team, rate_columns(by_team["within"], by_team["n"], spec.analysis.confidence)], axis=1)
        by_team = by_team.rename(columns={"rate": "share"}).sort_values(["share", "team"]).reset_index(drop=True)
    return FollowUpWindow(label, start, end, share, by_team)
