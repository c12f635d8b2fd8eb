"""The recipe of one cycle: load spec -> load and validate data -> funnel -> models -> checks -> findings.

Example
-------
>>> from sla_toolkit.datasets import example_paths
>>> result = run_cycle(example_paths().sla, example_paths().source)
>>> sorted(result.checks.counts())[:2]
['AT_RISK', 'INSUFFICIENT_DATA']
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

from .breakdowns import BreakdownResult, breakdowns
from .clustered import ClusteredRates, clustered_rates
from .compare import ChecksResult, sla_checks
from .decided import DecidedDeals, decided_deals
from .costs import ChannelCosts, channel_costs
from .coverage import CoverageGap, coverage_gap, covered_leads, with_coverage_finding
from .experiments import ExperimentsResult, evaluate_experiments, with_experiment_findings
from .experiments.proposal import with_experiment_evidence
from .findings import Findings, NextCycleProposal, derive_findings, propose_next_cycle
from .findings.adapters import finding_inputs, proposal_inputs
from .followup import FollowUpResult, follow_up_sla
from .funnel import FunnelResult, funnel_summary
from .io import DataQuality, LeadData, load_leads
from .io.gate import enforce_quarantine_share
from .memo import forget_all
from .models.suite import ModelSuite, fit_models
from .pacing import PacingResult, pace
from .results import jsonable
from .spec import SlaSpec, load_spec
from .survival import ConversionResult, TimeToConvert, conversion_rates, time_to_convert
from .targets import ReverseFunnelResult, reverse_funnel
from .scope import AsOfError, apply_scope, known_at, resolve_as_of
from .types import Status

#: what :func:`analyse` takes to fit the model suite: called with the scoped leads, the spec, the as-of date and
#: whether models are wanted, before the first step; it returns the call that yields the suite at the models
#: step (:class:`sla_toolkit.run.worker.ModelWorker` has lead scoring cross-validated in a second process meanwhile)
ModelFitter = Callable[[pd.DataFrame, SlaSpec, pd.Timestamp, bool], Callable[[], ModelSuite]]

__all__ = ["AsOfError", "CycleResult", "ModelFitter", "analyse", "apply_scope", "fit_in_process",
           "lead_data_from_frames", "resolve_as_of", "run_cycle"]


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
    experiments: ExperimentsResult = ExperimentsResult(())
    decided: DecidedDeals | None = None
    clustered: ClusteredRates | None = None   # analysis.cluster: cluster-robust rates and overdispersion
    coverage: CoverageGap | None = None       # conversions missing from the export before some date

    @property
    def quality(self) -> DataQuality:
        return self.data.quality

    def _repr_html_(self) -> str:
        """Typing ``result`` in a notebook shows the report: headline, contents and every section, charts included."""
        from .report.layout import report_html

        return report_html(self)

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
            "experiments": self.experiments.to_dict(),
            "decided_deals": None if self.decided is None else self.decided.to_dict(),
            "clustered": None if self.clustered is None else self.clustered.to_dict(),
            "coverage": None if self.coverage is None else self.coverage.to_dict(),
        }


def lead_data_from_frames(spec: SlaSpec, leads: pd.DataFrame, spend: pd.DataFrame | None = None,
                          source: str = "<generated>") -> LeadData:
    """Wrap an already-canonical lead table (e.g. from :mod:`sla_toolkit.datasets`) for :func:`analyse`."""
    quality = DataQuality(input_rows=len(leads), accepted_rows=len(leads), quarantined_rows=0,
                          quarantine_reasons={}, flagged={}, implied_stage_fills={}, joins=[],
                          spend_rows=0 if spend is None else len(spend), spend_quarantined=0)
    return LeadData(spec, leads, pd.DataFrame(columns=["table", "reason"]), spend, quality, source)


def run_cycle(sla: str | Path | SlaSpec, source: str | Path, *, as_of: str | dt.date | None = None,
              files: list[str | Path] | None = None, cycle_id: str | None = None,
              with_models: bool = True) -> CycleResult:
    """Run the whole cycle analysis on the data ``source`` describes; pure apart from reading the input.

    Parameters
    ----------
    as_of:
        Cut-off date of the analysis. Default: the latest timestamp in the data (the export's date).
    cycle_id:
        Label of the run folder (default: ``as_of`` as YYYY-MM-DD).
    """
    spec = sla if isinstance(sla, SlaSpec) else load_spec(sla)
    data = load_leads(spec, source, files=files)   # future dates are judged against today, not as_of
    enforce_quarantine_share(data)
    return analyse(data, as_of=as_of, cycle_id=cycle_id, with_models=with_models)


class _Clock:
    """Adds the wall seconds since the previous lap to ``timings[name]`` (nothing when ``timings`` is None)."""

    def __init__(self, timings: dict[str, float] | None):
        self.timings, self.last = timings, time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[name] = self.timings.get(name, 0.0) + now - self.last
        self.last = now


def fit_in_process(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp,
                   enabled: bool) -> Callable[[], ModelSuite]:
    """The default :data:`ModelFitter`: fit at the models step, in this process."""
    return lambda: fit_models(leads, spec, as_of, enabled=enabled)


def analyse(data: LeadData, *, as_of: str | dt.date | None = None, cycle_id: str | None = None,
            with_models: bool = True, timings: dict[str, float] | None = None,
            fitter: ModelFitter = fit_in_process,
            on_results: Callable[[dict[str, object]], None] | None = None) -> CycleResult:
    """Every analysis step on already-loaded data (no file I/O): the body of :func:`run_cycle`.

    ``timings``, when given, receives the wall seconds of each group of steps (for run.log and benchmarks).
    ``fitter`` fits the model suite (see :data:`ModelFitter`); it is handed the scoped leads before the
    first step, so a fitter working elsewhere overlaps the steps before the models. ``on_results``, when
    given, receives each group of results (:class:`CycleResult` field names) as soon as it is computed:
    ``sla-toolkit run`` has its kernel draw their charts meanwhile (:mod:`sla_toolkit.report.predraw`).
    """
    clock = _Clock(timings)
    try:
        return _analyse(data, clock, as_of=as_of, cycle_id=cycle_id, with_models=with_models, fitter=fitter,
                        on_results=on_results or (lambda results: None))
    finally:
        forget_all()   # fits remembered between the steps below are not needed once the result exists


def _analyse(data: LeadData, clock: _Clock, *, as_of, cycle_id, with_models: bool, fitter: ModelFitter,
             on_results: Callable[[dict[str, object]], None]) -> CycleResult:
    spec = data.spec
    cutoff = resolve_as_of(data, as_of)
    leads, scope_note = apply_scope(data.leads, spec)
    # Nothing after the as-of date enters any figure: later leads out, later events undone.
    leads, spend, scope_note = known_at(leads, data.spend, spec, cutoff, scope_note)
    fitted_models = fitter(leads, spec, cutoff, with_models)
    funnel = funnel_summary(leads, spec, cutoff)
    # conversions missing from the export before some date: rates and comparisons rest on the covered leads
    coverage = coverage_gap(leads, spec, cutoff)
    covered = covered_leads(leads, coverage)
    conversion = conversion_rates(covered, spec, cutoff)
    timing = time_to_convert(covered, spec, cutoff)
    follow_up = follow_up_sla(leads, spec, cutoff)
    needed = reverse_funnel(covered, spec, cutoff, conversions=conversion)
    clock.lap("funnel and survival")
    on_results({"time_to_convert": timing, "conversion": conversion})
    pacing = pace(leads, spec, cutoff)
    clustered = clustered_rates(leads, spec, cutoff)
    checks = sla_checks(leads, spec, cutoff, spend, conversions=conversion, pacing=pacing, clustered=clustered,
                        follow_up=follow_up)
    clock.lap("pacing and checks")
    on_results({"pacing": pacing, "funnel": funnel, "conversion": conversion, "checks": checks})
    compared = breakdowns(covered, spec, cutoff)
    clock.lap("breakdowns")
    on_results({"breakdowns": compared})
    models = fitted_models()
    clock.lap("models")
    on_results({"models": dataclasses.replace(models, open_scores=None)})   # charts never read per-lead scores
    costs = channel_costs(leads, spend, spec, cutoff) if spend is not None else None
    decided = decided_deals(leads, spec, cutoff)
    findings = derive_findings(finding_inputs(spec, data.quality, conversion, checks, compared, follow_up,
                                              pacing, costs, decided))
    experiments = evaluate_experiments(leads, spec, cutoff)
    findings = with_coverage_finding(with_experiment_findings(findings, experiments), coverage)
    proposal = propose_next_cycle(with_experiment_evidence(proposal_inputs(spec, findings, conversion, needed, leads),
                                                           experiments, leads, cutoff))
    clock.lap("findings")
    return CycleResult(spec, cutoff, cycle_id or f"{cutoff:%Y-%m-%d}", data, scope_note, len(leads), funnel,
                       conversion, timing, follow_up, needed, pacing, checks, compared, models, costs, findings,
                       proposal, experiments, decided, clustered, coverage)
