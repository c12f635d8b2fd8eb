"""Coverage gaps: conversions missing from the export before some date.

An export of won deals that starts months after the leads (Olist's closed-deals file starts in
December 2017, its leads in June 2017) makes the early cohorts look as if they hardly ever
convert. The gap shows as a date before which no (or almost no) conversion is recorded although
the leads already there should have produced many.

Test, for each of the first few recorded conversion dates ``t`` (candidates): the leads created on
or after ``t`` give the Kaplan–Meier curve ``F`` of time to convert (their conversions fall after
``t``, so the export covers them); a lead created at ``c < t`` would have converted before ``t``
with probability ``F(t - c)``, so ``E = Σ F(t - c)`` conversions were expected before ``t``. With
``k`` recorded, the Poisson probability ``P(X ≤ k | E)`` is the p-value. A gap is reported at the
candidate with the smallest p-value when it is below ``GAP_ALPHA`` and ``k ≤ E / 5`` (almost none of
the expected conversions are there). The verdicts then rest on the covered period: the leads created
on or after that date.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .check_labels import format_count, format_number, format_p, plural
from .findings.model import Confidence, Evidence, Finding, Findings
from .outcomes import as_of_view, has_timestamps, transition_outcomes
from .pacing import km_events
from .results import ResultMixin
from .spec import SlaSpec
from .types import FindingKind, stage_column

GAP_ALPHA = 1e-3      # strict: a gap removes leads from every verdict
MAX_CANDIDATES = 10   # the first recorded conversion dates tried as the start of coverage
MISSING_SHARE = 0.2   # at most this share of the expected conversions recorded before the date
_DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class CoverageGap(ResultMixin):
    """Where the export's conversions to ``stage`` start, when they start too late to be believed.

    ``missing_before`` is None when no gap is found; ``recorded`` and ``expected`` are the conversions
    before that date in the data and at the pace seen afterwards.
    """

    stage: str
    missing_before: pd.Timestamp | None
    first_recorded: pd.Timestamp | None
    recorded: int
    expected: float
    p_value: float
    leads_before: int
    leads_covered: int
    title = "Coverage of conversions in the export"

    @property
    def found(self) -> bool:
        return self.missing_before is not None

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.to_dict()])

    @property
    def sentence(self) -> str:
        if not self.found:
            return "No coverage gap: conversions are recorded from the start of the leads."
        first = (f"its first is on {self.first_recorded:%Y-%m-%d} and " if self.recorded else "")
        p_text = format_p(self.p_value)
        return (f"Conversions to {self.stage} are missing before {self.missing_before:%Y-%m-%d}: {first}the export "
                f"records {format_number(self.recorded)} before that date where about {format_number(self.expected, 0)}"
                f" {plural('was', self.expected, 'were')} expected from the "
                f"{format_count(self.leads_before, 'lead')} created earlier at the pace seen afterwards "
                f"(Poisson p {p_text if p_text.startswith('<') else '= ' + p_text}). Rates and comparisons rest on "
                f"the {format_count(self.leads_covered, 'lead')} created from that date on.")


def no_gap(stage: str) -> CoverageGap:
    return CoverageGap(stage, None, None, 0, float("nan"), float("nan"), 0, 0)


def coverage_gap(leads: pd.DataFrame, spec: SlaSpec, as_of: pd.Timestamp) -> CoverageGap:
    """Look for a date before which conversions to the last stage are missing (see the module docstring)."""
    from scipy.stats import poisson   # deferred, as every scipy import: a report kernel never needs it
    first, last = spec.funnel.first, spec.funnel.last
    if "created_at" not in leads or leads["created_at"].isna().all() or not has_timestamps(leads, last):
        return no_gap(last)
    view = as_of_view(leads, spec, as_of)
    outcomes = transition_outcomes(view, spec, first, last, as_of)
    timed = (outcomes["entered"] & outcomes["duration_days"].notna() & view["created_at"].notna()).to_numpy(bool)
    created = view["created_at"].to_numpy()[timed]
    duration = outcomes["duration_days"].to_numpy(float)[timed]
    event = outcomes["event"].to_numpy(bool)[timed]
    converted_at = np.sort(created[event] + pd.to_timedelta(duration[event], unit="D").to_numpy())
    if converted_at.size < 5:
        return no_gap(last)
    best = no_gap(last)
    days = np.unique(converted_at.astype("datetime64[D]"))[:MAX_CANDIDATES]
    for start in days.astype(converted_at.dtype):
        recorded = int(np.searchsorted(converted_at, start, side="left"))
        covered = created >= start
        if covered.sum() < spec.analysis.min_n or not event[covered].any() or covered.all():
            continue
        curve = km_events(duration[covered], event[covered])
        waited = (start - created[~covered]) / np.timedelta64(1, "D")
        conversion = 1 - np.r_[1.0, curve.survival][np.searchsorted(curve.times, waited, side="right")]
        expected = float(conversion.sum())
        p_value = float(poisson.cdf(recorded, expected))
        if p_value < GAP_ALPHA and recorded <= MISSING_SHARE * expected and \
                (not best.found or p_value < best.p_value):
            best = CoverageGap(last, pd.Timestamp(start), pd.Timestamp(converted_at[0]), recorded, expected, p_value,
                               int((~covered).sum()), int(covered.sum()))
    return best


def covered_leads(leads: pd.DataFrame, gap: CoverageGap) -> pd.DataFrame:
    """The leads the verdicts rest on: all of them, or those created on or after the gap's end."""
    if not gap.found:
        return leads
    return leads.loc[leads["created_at"] >= gap.missing_before]


def with_coverage_finding(findings: Findings, gap: CoverageGap) -> Findings:
    """Add the data-quality finding of a coverage gap (first among the adjust items)."""
    if not gap.found:
        return findings
    evidence = Evidence(float(gap.recorded), float("nan"), float("nan"), gap.leads_before, gap.p_value,
                        unit="count")
    finding = Finding(FindingKind.ADJUST, f"data_quality:coverage:{gap.stage}", gap.sentence, evidence,
                      f"Check the export of {stage_column(gap.stage)}: it seems to start on "
                      f"{gap.missing_before:%Y-%m-%d}; re-export the full history to judge the earlier leads.",
                      "Data quality", Confidence.HIGH, 0.0, "data_quality")
    return Findings((finding, *findings.items), findings.no_evidence)
