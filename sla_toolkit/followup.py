"""The sales follow-up SLA: share of leads at a stage first touched within the promised hours.

Each lead at the follow-up stage (with a known stage time) is one of

* ``within``: first touched within ``within_hours`` of reaching the stage (a touch before the
  stage counts as within);
* ``late``: touched, but after the promise;
* ``never_touched``: not touched and the promise time has passed by the as-of date: a breach;
* ``open``: not touched yet, promise time still running: left out of the share.

The association of response (within vs late or never) with conversion to the next stage is
measured on matured leads only, with Fisher's exact test. It is an association: fast-answered
leads may differ in other ways, so it does not show that answering faster causes conversion.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats
from statsmodels.stats.proportion import confint_proportions_2indep

from .check_labels import format_count
from .errors import Reason
from .outcomes import as_of_view, transition_outcomes
from .results import ResultMixin
from .spec import FollowUp, SlaSpec
from .stats import RateEstimate, rate_columns, wilson_interval
from .types import reached_column, stage_column

RESPONSE_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
_HOUR = pd.Timedelta(hours=1)


class FollowUpState(str, Enum):
    WITHIN = "within"
    LATE = "late"
    NEVER_TOUCHED = "never_touched"
    OPEN = "open"


@dataclass(frozen=True)
class ResponseAssociation(ResultMixin):
    """Conversion to ``outcome_stage`` for leads answered within the promise vs late or never."""

    outcome_transition: str
    within: RateEstimate
    late: RateEstimate
    difference: float
    difference_low: float
    difference_high: float
    p_value: float
    test: str = "Fisher's exact test (two-sided); difference interval: Newcombe"
    sufficient: bool = False
    reason: Reason = Reason.OK
    wording: str = "association, not a causal effect"
    title = "Response time and conversion (association)"

    def to_frame(self) -> pd.DataFrame:
        rows = [{"response": label, "converted": r.successes, "n": r.n, "rate": r.estimate, "low": r.low,
                 "high": r.high} for label, r in (("within promise", self.within), ("late or never", self.late))]
        return pd.DataFrame(rows).assign(difference=self.difference, p_value=self.p_value)


@dataclass(frozen=True)
class FollowUpResult(ResultMixin):
    """Follow-up SLA: share touched within the promise, by team, response-time distribution."""

    stage: str
    within_hours: float
    target_share: float
    share: RateEstimate
    counts: dict[str, int]
    by_team: pd.DataFrame
    response_hours: pd.DataFrame
    association: ResponseAssociation | None
    reason: Reason = Reason.OK
    notes: tuple[str, ...] = field(default_factory=tuple)
    title = "Follow-up SLA"

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"stage": self.stage, "within_hours": self.within_hours, "target": self.target_share,
                              "share": self.share.estimate, "low": self.share.low, "high": self.share.high,
                              "n": self.share.n, **self.counts, "reason": self.reason.value}])


def follow_up_states(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per lead at the follow-up stage (with a stage time): ``state`` and ``response_hours``.

    Expects a table already seen at ``as_of`` and a ``first_touch_at`` column.
    """
    promise = spec.follow_up or FollowUp()
    stage = spec.follow_up_stage
    at_stage = leads[reached_column(stage)].astype(bool) & leads[stage_column(stage)].notna()
    reached_at = leads.loc[at_stage, stage_column(stage)]
    touched_at = leads.loc[at_stage, "first_touch_at"]
    hours = ((touched_at - reached_at) / _HOUR).clip(lower=0)
    promise_passed = reached_at + pd.Timedelta(hours=promise.within_hours) <= pd.Timestamp(as_of)
    state = np.select(
        [touched_at.notna() & (hours <= promise.within_hours), touched_at.notna(), promise_passed],
        [FollowUpState.WITHIN.value, FollowUpState.LATE.value, FollowUpState.NEVER_TOUCHED.value],
        default=FollowUpState.OPEN.value)
    return pd.DataFrame({"state": state, "response_hours": hours}, index=reached_at.index)


def follow_up_sla(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp) -> FollowUpResult:
    """Share of leads at ``spec.follow_up_stage`` first touched within ``follow_up.within_hours``.

    Returns a result with reason ``no_column`` when ``first_touch_at`` is not mapped and
    ``no_timestamps`` when the follow-up stage has no times.
    """
    as_of = pd.Timestamp(as_of)
    promise = spec.follow_up or FollowUp()
    stage, confidence = spec.follow_up_stage, spec.analysis.confidence
    notes = [] if spec.follow_up else ["no follow_up promise in the spec: default 24 h / 90 % used"]
    missing = None
    if "first_touch_at" not in leads:
        missing = (Reason.NO_COLUMN, "no first_touch_at column mapped")
    elif stage_column(stage) not in leads or leads[stage_column(stage)].notna().sum() == 0:
        missing = (Reason.NO_TIMESTAMPS, f"stage {stage!r} has no timestamps")
    if missing:
        return FollowUpResult(stage, promise.within_hours, promise.share, wilson_interval(0, 0, confidence), {},
                              pd.DataFrame(), pd.DataFrame(), None, missing[0], (*notes, missing[1]))
    view = as_of_view(leads, spec, as_of)
    states = follow_up_states(view, spec, as_of)
    counts = {s.value: int((states["state"] == s.value).sum()) for s in FollowUpState}
    untimed = int((view[reached_column(stage)].astype(bool) & view[stage_column(stage)].isna()).sum())
    if untimed:
        notes.append(f"{format_count(untimed, 'lead')} at {stage!r} without a stage time left out")
    decided = states["state"] != FollowUpState.OPEN.value
    within = states["state"] == FollowUpState.WITHIN.value
    share = wilson_interval(int(within.sum()), int(decided.sum()), confidence)
    by_team = _by_team(view, states, promise, spec, notes)
    reason = Reason.OK if share.n >= spec.analysis.min_n else Reason.INSUFFICIENT_N
    return FollowUpResult(stage, promise.within_hours, promise.share, share, counts, by_team,
                          _response_distribution(states), _association(view, states, spec, as_of), reason,
                          tuple(notes))


def _by_team(view, states, promise: FollowUp, spec: SlaSpec, notes: list[str]) -> pd.DataFrame:
    column = promise.team_column
    if not column:
        return pd.DataFrame()
    if column not in view:
        notes.append(f"team column {column!r} not in the data: no breakdown by team")
        return pd.DataFrame()
    decided = states.loc[states["state"] != FollowUpState.OPEN.value]
    team = view.loc[decided.index, column].astype("str").fillna("(missing)")
    grouped = (decided["state"] == FollowUpState.WITHIN.value).groupby(team.rename("team"))
    table = pd.DataFrame({"within": grouped.sum().astype(int), "n": grouped.size()}).reset_index()
    table = pd.concat([table, rate_columns(table["within"], table["n"], spec.analysis.confidence)], axis=1)
    table["sufficient"] = table["n"] >= spec.analysis.min_n
    return table.rename(columns={"rate": "share"})


def _response_distribution(states: pd.DataFrame) -> pd.DataFrame:
    hours = states["response_hours"].dropna()
    values = hours.quantile(list(RESPONSE_QUANTILES)).to_numpy() if len(hours) else np.full(len(RESPONSE_QUANTILES),
                                                                                               np.nan)
    return pd.DataFrame({"quantile": RESPONSE_QUANTILES, "hours": values, "n_touched": len(hours)})


def _association(view, states, spec: SlaSpec, as_of) -> ResponseAssociation | None:
    stages, stage = spec.funnel.stages, spec.follow_up_stage
    if stage == stages[-1]:
        return None
    outcome = stages[stages.index(stage) + 1]
    outcomes = transition_outcomes(view, spec, stage, outcome, as_of).loc[states.index]
    matured = outcomes["matured"] & (states["state"] != FollowUpState.OPEN.value)
    converted = outcomes.loc[matured, "converted_in_window"]
    fast = states.loc[matured, "state"] == FollowUpState.WITHIN.value
    a, n1 = int(converted[fast].sum()), int(fast.sum())
    b, n2 = int(converted[~fast].sum()), int((~fast).sum())
    confidence = spec.analysis.confidence
    within, late = wilson_interval(a, n1, confidence), wilson_interval(b, n2, confidence)
    if n1 == 0 or n2 == 0:
        return ResponseAssociation(f"{stage}->{outcome}", within, late, float("nan"), float("nan"), float("nan"),
                                   float("nan"), reason=Reason.SINGLE_LEVEL)
    p_value = float(scipy_stats.fisher_exact([[a, n1 - a], [b, n2 - b]]).pvalue)
    low, high = confint_proportions_2indep(a, n1, b, n2, method="newcomb", compare="diff", alpha=1 - confidence)
    sufficient = min(n1, n2) >= spec.analysis.min_n
    return ResponseAssociation(f"{stage}->{outcome}", within, late, a / n1 - b / n2, float(low), float(high), p_value,
                               sufficient=sufficient, reason=Reason.OK if sufficient else Reason.INSUFFICIENT_N)
