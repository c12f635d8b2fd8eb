"""Which leads belong to the cycle, and the analysis cut-off date."""
from __future__ import annotations

import pandas as pd

from .errors import SlaToolkitError
from .funnel import data_as_of
from .io import LeadData
from .outcomes import as_of_view
from .spec import SlaSpec


class AsOfError(SlaToolkitError):
    """The as-of date cannot be used with this spec."""


def resolve_as_of(data: LeadData, as_of) -> pd.Timestamp:
    """The analysis cut-off: the given date, else the latest timestamp in the data, else the deadline."""
    spec = data.spec
    if as_of is not None and str(as_of).strip():
        try:
            cutoff = pd.Timestamp(as_of)
        except (ValueError, TypeError):
            raise AsOfError(f"as_of {as_of!r} is not a date; use YYYY-MM-DD") from None
        if cutoff.date() < spec.period.start:
            raise AsOfError(f"as_of {cutoff.date()} is before the period start {spec.period.start} of "
                            f"{spec.name!r}; nothing can be measured yet")
        return cutoff
    latest = data_as_of(data.leads, spec)
    return pd.Timestamp(latest) if latest is not None else pd.Timestamp(spec.period.end) + pd.Timedelta(days=1)


def apply_scope(leads: pd.DataFrame, spec: SlaSpec) -> tuple[pd.DataFrame, str]:
    """Leads of this cycle: created in the period (when dates exist), and in the named campaigns/channels."""
    keep = pd.Series(True, index=leads.index)
    parts = []
    if spec.scope.created_in_period and leads["created_at"].notna().any():
        start = pd.Timestamp(spec.period.start)
        end = pd.Timestamp(spec.period.end) + pd.Timedelta(days=1)
        inside = leads["created_at"].isna() | ((leads["created_at"] >= start) & (leads["created_at"] < end))
        parts.append(f"{int((~inside).sum()):,} created outside {spec.period.start}..{spec.period.end}")
        keep &= inside
    for column, allowed in (("campaign", spec.scope.campaigns), (spec.channel_column, spec.scope.channels)):
        if allowed:
            if column not in leads:
                raise SlaToolkitError(f"scope names {column} values but the lead table has no {column!r} column; "
                                      f"map it in source.yaml or remove scope.{column}s")
            inside = leads[column].isin(allowed)
            parts.append(f"{int((keep & ~inside).sum()):,} outside the {column}s {allowed}")
            keep &= inside
    note = f"{int(keep.sum()):,} of {len(leads):,} accepted leads in scope" + (
        f" ({'; '.join(parts)})" if parts else "")
    return leads.loc[keep].reset_index(drop=True), note


def known_at(leads: pd.DataFrame, spend: pd.DataFrame | None, spec: SlaSpec, as_of: pd.Timestamp,
             note: str) -> tuple[pd.DataFrame, pd.DataFrame | None, str]:
    """Leads and spend as they were known at ``as_of`` (see :func:`sla_toolkit.outcomes.as_of_view`).

    Leads created after ``as_of`` leave the analysis; stage events, losses, touches and revenue
    after it are undone; spend is kept for the days completed by ``as_of``. The note says how many leads left.
    """
    view = as_of_view(leads, spec, as_of).reset_index(drop=True)
    later = len(leads) - len(view)
    if later:
        note += f"; {later:,} created after the as-of date {as_of:%Y-%m-%d} left out"
    if spend is not None and "date" in spend:
        # a day's spend is known once the day is over (the as-of date is an instant)
        spend = spend.loc[spend["date"] + pd.Timedelta(days=1) <= as_of].reset_index(drop=True)
    return view, spend, note
