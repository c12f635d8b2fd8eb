"""Coverage gaps in the export and the matured-vs-recent cohort test that picks the verdict basis."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sla_toolkit.coverage import coverage_gap, covered_leads, with_coverage_finding
from sla_toolkit.findings import Findings
from sla_toolkit.spec import spec_from_dict
from sla_toolkit.survival import conversion_rates

START = pd.Timestamp("2025-01-01")
SPEC = spec_from_dict({"name": "gap", "period": {"start": "2025-01-01", "end": "2025-12-31"},
                       "funnel": {"stages": ["lead", "customer"], "windows_days": {"customer": 60}},
                       "objectives": {"customers": 300}, "analysis": {"min_n": 30}})


def leads(seed: int, rate=lambda day: np.full(day.shape, 0.12), days: int = 300, per_day: int = 10):
    """Leads over ``days`` days converting with ``rate(day)`` after a gamma delay (mean 20 days)."""
    rng = np.random.default_rng(seed)
    day = np.sort(rng.uniform(0, days, days * per_day))
    created = START + pd.to_timedelta(day, unit="D")
    won = rng.random(day.size) < rate(day)
    customer_at = pd.Series(created + pd.to_timedelta(rng.gamma(2, 10, day.size), unit="D")).where(won)
    return pd.DataFrame({"lead_id": [f"L{i}" for i in range(day.size)], "created_at": created, "lead_at": created,
                         "reached_lead": True, "customer_at": customer_at, "reached_customer": customer_at.notna()})


def cut_before(frame: pd.DataFrame, date: str) -> pd.DataFrame:
    """The export of wins starts on ``date``: earlier wins are missing."""
    frame = frame.copy()
    missing = frame["customer_at"] < pd.Timestamp(date)
    frame.loc[missing, "customer_at"] = pd.NaT
    frame.loc[missing, "reached_customer"] = False
    return frame


AS_OF = START + pd.Timedelta(days=330)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_late_starting_export_is_found_and_the_verdicts_use_the_covered_leads(seed):
    data = cut_before(leads(seed), "2025-05-01")
    gap = coverage_gap(data, SPEC, AS_OF)
    print(f"\n{gap.sentence}")
    assert gap.found and pd.Timestamp("2025-05-01") <= gap.missing_before <= pd.Timestamp("2025-05-04")
    assert gap.recorded == 0 and gap.expected > 50 and gap.p_value < 1e-20
    kept = covered_leads(data, gap)
    assert len(kept) == gap.leads_covered and kept["created_at"].min() >= gap.missing_before
    # the covered leads give an unbiased rate; all leads would not
    covered_rate = conversion_rates(kept, SPEC, AS_OF).get("lead->customer")
    all_rate = conversion_rates(data, SPEC, AS_OF).get("lead->customer")
    assert covered_rate.low <= 0.12 <= covered_rate.high and all_rate.high < 0.12
    findings = with_coverage_finding(Findings(()), gap)
    assert findings.items[0].topic == "data_quality:coverage:customer" and "missing before" in findings.items[0].sentence


def test_complete_exports_have_no_gap():
    found = [coverage_gap(leads(seed), SPEC, AS_OF).found for seed in range(8)]
    # a slow start (few leads, delays) is not a gap either
    slow = leads(9, rate=lambda day: np.where(day < 30, 0.03, 0.12))
    assert not any(found) and not coverage_gap(slow, SPEC, AS_OF).found
    assert with_coverage_finding(Findings(()), coverage_gap(leads(0), SPEC, AS_OF)).items == ()


def test_matured_rate_only_when_cohorts_agree():
    # as of day 130 with a 60-day window: leads up to day 70 matured (more than half)
    as_of = START + pd.Timedelta(days=130)
    steady = conversion_rates(leads(3, days=120), SPEC, as_of).get("lead->customer")
    falling = conversion_rates(leads(3, days=120, rate=lambda day: np.where(day < 60, 0.2, 0.08)), SPEC,
                               as_of).get("lead->customer")
    print(f"\nsteady: {steady.basis.value} ({steady.note})\nfalling: {falling.basis.value} ({falling.note})")
    assert steady.basis.value == "matured_cohort" and "agree with recent ones" in steady.note
    assert falling.basis.value == "km_projection" and "cohorts differ" in falling.note
    assert falling.matured.estimate > 0.15    # the matured (oldest) cohorts alone would overstate the period
