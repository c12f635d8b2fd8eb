"""Per-lead outcomes of a stage transition, the shared input of funnel, models and breakdowns.

A lead created near the as-of date has not had time to convert: it is *open*, not a failure.
:func:`transition_outcomes` says for every lead whether it entered the transition's source
stage, whether its window has elapsed (matured), whether it converted within the window,
and its follow-up time for survival analysis (duration, event).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .spec import SlaSpec
from .types import reached_column, stage_column

_DAY = np.timedelta64(1, "D")


def as_of_view(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp) -> pd.DataFrame:
    """The lead table as it looked at ``as_of``: later leads removed, later stage events undone.

    Values that only exist once a stage is reached are undone with it: ``revenue`` with the last
    stage, the follow-up team column with the follow-up stage.

    Used to replay a campaign at any date inside its period (daily pacing, calibration tests).
    Flag-only stages (no timestamp) cannot be replayed and are kept as they are.
    """
    as_of = pd.Timestamp(as_of)
    if not _anything_after(leads, spec, as_of):
        return leads.copy(deep=False)   # nothing to undo (the pipeline has already cut at as_of): no copy
    if "created_at" in leads and leads["created_at"].notna().any():
        view = leads.loc[leads["created_at"].isna() | (leads["created_at"] <= as_of)].copy()
    else:
        view = leads.copy()
    team = spec.follow_up.team_column if spec.follow_up else None
    for stage in spec.funnel.stages[1:]:
        ts, flag = stage_column(stage), reached_column(stage)
        if ts in view and view[ts].notna().any():
            later = view[ts] > as_of
            view.loc[later, ts] = pd.NaT
            view.loc[later, flag] = False
            # values that only exist once the stage is reached were not known either
            if stage == spec.funnel.last and "revenue" in view:
                view.loc[later, "revenue"] = np.nan
            if team and team in view and stage == spec.follow_up_stage:
                view.loc[later, team] = pd.NA
    if "lost" in view and "lost_at" in view:
        view.loc[view["lost_at"] > as_of, "lost"] = False
    for optional in ("lost_at", "first_touch_at"):
        if optional in view:
            view.loc[view[optional] > as_of, optional] = pd.NaT
    return view


def _anything_after(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp) -> bool:
    """True when any date :func:`as_of_view` looks at is later than ``as_of``."""
    columns = ["created_at", *(stage_column(s) for s in spec.funnel.stages[1:]), "lost_at", "first_touch_at"]
    return any(bool((leads[c] > as_of).any()) for c in dict.fromkeys(columns) if c in leads)


def lost_mask(leads: pd.DataFrame, spec: SlaSpec | None = None) -> pd.Series:
    """True for leads decided as lost by the as-of date (a lost date, or a status saying lost).

    A lead that reached the last stage is won, whatever its status says.
    """
    if "lost" in leads:
        lost = leads["lost"].fillna(False).astype(bool)
    elif "lost_at" in leads:
        lost = leads["lost_at"].notna()
    else:
        return pd.Series(False, index=leads.index)
    if spec is not None and reached_column(spec.funnel.stages[-1]) in leads:
        lost = lost & ~leads[reached_column(spec.funnel.stages[-1])].astype(bool)
    return lost


def has_timestamps(leads: pd.DataFrame, stage: str) -> bool:
    """True when the stage's timestamp column exists and holds at least one value."""
    column = stage_column(stage)
    return column in leads and bool(leads[column].notna().any())


def transition_outcomes(leads: pd.DataFrame, spec: SlaSpec, from_stage: str, to_stage: str,
                        as_of: pd.Timestamp) -> pd.DataFrame:
    """Outcome columns of ``from_stage -> to_stage`` for every lead (same index as ``leads``).

    Columns
    -------
    entered : bool
        The lead reached ``from_stage`` (the transition's denominator).
    matured : bool
        Entered, and the window of ``to_stage`` has fully elapsed by ``as_of``
        (always True when either stage has no timestamps: nothing to censor on).
    converted : bool
        Reached ``to_stage`` (at any time up to ``as_of``).
    converted_in_window : bool
        Reached ``to_stage`` within the window after entering ``from_stage``
        (stages known only as flags count as within the window).
    duration_days : float
        Days from entering ``from_stage`` to converting, or to ``as_of`` when still open
        (NaN without timestamps). Negative gaps (data quirks kept by the mapping) become 0.
    event : bool
        Converted, with a known conversion time.
    """
    as_of = pd.Timestamp(as_of)
    window = pd.Timedelta(days=spec.funnel.window_between(from_stage, to_stage))
    entered = leads[reached_column(from_stage)].astype(bool).to_numpy()
    converted = leads[reached_column(to_stage)].astype(bool).to_numpy() & entered
    columns = {"entered": entered, "converted": converted}
    start = leads[stage_column(from_stage)] if stage_column(from_stage) in leads else None
    end = _event_time(leads, spec, to_stage)
    # Timed when the source stage has dates and the target stage either has dates or has had no
    # conversion yet (early in a period nobody may have converted: everyone is open, not "untimed").
    timed = start is not None and end is not None and bool(start.notna().any()) and (
        bool(end.notna().any()) or not bool(converted.any()))
    if not timed:
        columns.update(matured=entered, converted_in_window=converted, duration_days=np.nan, event=False)
        return pd.DataFrame(columns, index=leads.index)
    # on numpy datetimes: NaT gives NaN in differences and False in comparisons, as pandas does
    start, end, now = _datetimes(start), _datetimes(end), _naive_utc(as_of).to_datetime64()
    has_start, has_end = ~np.isnat(start), ~np.isnat(end)
    gap = np.maximum((end - start) / _DAY, 0)     # negative gaps (data quirks) count as 0
    known_time = converted & has_end
    duration = np.where(known_time, gap, np.maximum((now - start) / _DAY, 0))
    duration[~entered | ~has_start] = np.nan
    columns.update(matured=entered & has_start & (start + window.to_timedelta64() <= now),
                   converted_in_window=converted & (~has_end | (gap <= window / _DAY)),
                   duration_days=duration, event=known_time & has_start)
    return pd.DataFrame(columns, index=leads.index)


def _datetimes(when: pd.Series) -> np.ndarray:
    """A datetime column as numpy ``datetime64``: time-zone-aware ones in UTC (as :func:`_naive_utc`)."""
    if isinstance(when.dtype, pd.DatetimeTZDtype):
        when = when.dt.tz_convert("UTC").dt.tz_localize(None)
    return when.to_numpy()


def _naive_utc(when: pd.Timestamp) -> pd.Timestamp:
    return when if when.tzinfo is None else when.tz_convert("UTC").tz_localize(None)


def _event_time(leads: pd.DataFrame, spec: SlaSpec, stage: str) -> pd.Series | None:
    """When a lead reached ``stage``; a stage known only by implication (a later stage was reached,
    its own date is missing) takes the date of the next later stage that has one: an upper bound,
    so the lead counts as converted, slightly late, rather than as never converting."""
    column = stage_column(stage)
    if column not in leads:
        return None
    when = leads[column]
    for later in spec.funnel.stages[spec.funnel.stages.index(stage) + 1:]:
        if not when.isna().any():
            break
        if stage_column(later) in leads:
            when = when.fillna(leads[stage_column(later)])
    return when
