"""The recipe of one cycle: load spec -> load and validate data -> funnel -> models -> checks -> findings.

Example
-------
>>> from sla_toolkit.datasets import example_paths
>>> result = run_cycle(example_paths().sla, example_paths().source)
>>> sorted(result.checks.counts())[:2]
['AT_RISK', 'INSUFFICIENT_DATA']
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .breakdowns import BreakdownResult, breakdowns
from .compare import ChecksResult, sla_checks
from .costs import ChannelCosts, channel_costs
from .errors import SlaToolkitError
from .findings import Findings, NextCycleProposal, derive_findings, propose_next_cycle
from .findings.adapters import finding_inputs, proposal_inputs
from .followup import FollowUpResult, follow_up_sla
from .funnel import FunnelResult, data_as_of, funnel_summary
from .io import DataQuality, LeadData, load_leads
from .models.suite import ModelSuite, fit_models
from .pacing import PacingResult, pace
from .results import jsonable
from .spec import SlaSpec, load_spec
from .survival import ConversionResult, TimeToConvert, conversion_rates, time_to_convert
from .targets import ReverseFunnelResult, reverse_funnel
from .types import Status


class AsOfError(SlaToolkitError):
    """The as-of date cannot be used with this spec."""


@dataclass(frozen=True)
class CycleResult:
    """Everything one cycle computed; every section renders itself (``to_frame``, ``to_dict``, HTML)."""

    spec: SlaSpec
    as_of: pd.Timestamp
    cycle_id: str
    data: LeadData
    scope_note: str
    leads_in_scope: int
    funnel: FunnelResult
    conversion: ConversionResult
    time_to_convert: TimeToConvert
    follow_up: FollowUpResult
    reverse_funnel: ReverseFunnelResult
    pacing: PacingResult
    checks: ChecksResult
    breakdowns: BreakdownResult
    models: ModelSuite
    costs: ChannelCosts | None
    findings: Findings
    proposal: NextCycleProposal

    @property
    def quality(self) -> DataQuality:
        return self.data.quality

    @property
    def missed(self) -> bool:
        """True when any SLA check was MISSED (for alerting exit codes)."""
        return any(c.status is Status.MISSED for c in self.checks.checks)

    def to_dict(self) -> dict:
        """Every number in the report, JSON-safe (this is ``results.json``)."""
        return {
            "sla": self.spec.name, "cycle_id": self.cycle_id, "as_of": jsonable(self.as_of),
            "spec": self.spec.to_dict(), "scope": {"leads_in_scope": self.leads_in_scope, "note": self.scope_note},
            "data_quality": self.quality.to_dict(),
            "funnel": {"overall": jsonable(self.funnel.overall), "by_segment": jsonable(self.funnel.by_segment),
                       "by_cohort": jsonable(self.funnel.by_cohort)},
            "conversion": jsonable(self.conversion.to_frame()),
            "time_to_convert": self.time_to_convert.to_dict(),
            "follow_up": self.follow_up.to_dict(),
            "reverse_funnel": self.reverse_funnel.to_dict(),
            "pacing": self.pacing.to_dict(),
            "checks": jsonable(self.checks.to_frame()),
            "breakdowns": jsonable(self.breakdowns.to_frame()),
            "models": self.models.to_dict(),
            "costs": None if self.costs is None else jsonable(self.costs.to_frame()),
            "findings": self.findings.to_dict(),
            "next_cycle": self.proposal.to_dict(),
        }


def run_cycle(sla: str | Path | SlaSpec, source: str | Path, *, as_of: str | dt.date | None = None,
              files: list[str | Path] | None = None, cycle_id: str | None = None,
              fit_models_: bool = True) -> CycleResult:
    """Run the whole cycle analysis on the data ``source`` describes; pure apart from reading the input.

    Parameters
    ----------
    as_of:
        Cut-off date of the analysis. Default: the latest timestamp in the data (the export's date).
    cycle_id:
        Label of the run folder (default: ``as_of`` as YYYY-MM-DD).
    """
    spec = sla if isinstance(sla, SlaSpec) else load_spec(sla)
    data = load_leads(spec, source, as_of=as_of, files=files)
    cutoff = resolve_as_of(data, as_of)
    leads, scope_note = apply_scope(data.leads, spec)
    funnel = funnel_summary(leads, spec, cutoff)
    conversion = conversion_rates(leads, spec, cutoff)
    timing = time_to_convert(leads, spec, cutoff)
    follow_up = follow_up_sla(leads, spec, cutoff)
    needed = reverse_funnel(leads, spec, cutoff, conversions=conversion)
    pacing = pace(leads, spec, cutoff)
    checks = sla_checks(leads, spec, cutoff, data.spend, conversions=conversion, pacing=pacing)
    compared = breakdowns(leads, spec, cutoff)
    models = fit_models(leads, spec, cutoff, enabled=fit_models_)
    costs = channel_costs(leads, data.spend, spec) if data.spend is not None else None
    findings = derive_findings(finding_inputs(spec, data.quality, conversion, checks, compared, follow_up,
                                              pacing, costs))
    proposal = propose_next_cycle(proposal_inputs(spec, findings, conversion, needed, leads))
    return CycleResult(spec, cutoff, cycle_id or f"{cutoff:%Y-%m-%d}", data, scope_note, len(leads), funnel,
                       conversion, timing, follow_up, needed, pacing, checks, compared, models, costs, findings,
                       proposal)


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
