"""Finding rules on hand-written records: criteria, wording, BH family, ranking."""
from __future__ import annotations

import math

import pytest
from statsmodels.stats.multitest import multipletests

from sla_toolkit.findings import FindingInputs, FollowUpEvidence, PacingEvidence, derive_findings
from sla_toolkit.check_labels import check_label, unit_of
from sla_toolkit.compare import SlaCheck
from sla_toolkit.findings.inputs import SegmentComparison
from sla_toolkit.findings.wording import is_causal
from sla_toolkit.spec import spec_from_dict
from sla_toolkit.types import CheckKind, Direction, FindingKind, Status

SPEC = spec_from_dict({
    "name": "t", "period": {"start": "2027-01-01", "end": "2027-03-31"},
    "funnel": {"stages": ["lead", "mql", "customer"], "targets": {"lead->mql": 0.4, "mql->customer": 0.2}},
    "objectives": {"customers": 100},
    "analysis": {"min_n": 30, "alpha": 0.05, "min_effect": 0.02},
})


def _breakdown(level, n, rate, rest_rate, lift_low, lift_high, p, tested=True, rest_n=1000):
    return SegmentComparison("channel", level, "mql->customer", n, round(n * rate), rate, rate - 0.02, rate + 0.02,
                             rest_n, rest_rate, rate - rest_rate, lift_low, lift_high, p, tested)


def _check(kind, subject, target, estimate, low, high, n, status, reason="", **label):
    return SlaCheck(f"{kind.value}:{subject}", target, Direction.AT_LEAST, estimate, low, high, n, status, reason,
                    "matured_cohort", kind=kind, subject=subject, unit=unit_of(kind, subject),
                    label=check_label(kind, subject, **label))


def _inputs(**overrides) -> FindingInputs:
    base = dict(spec=SPEC, checks=(), breakdowns=(), downstream_to_customer={"mql": 0.2, "customer": 1.0})
    base.update(overrides)
    return FindingInputs(**base)


def test_breakdown_findings_need_bh_q_n_and_effect():
    rows = [
        _breakdown("paid_search", 400, 0.30, 0.18, 0.07, 0.17, 1e-6),     # clearly better
        _breakdown("email", 300, 0.08, 0.21, -0.17, -0.09, 1e-7),         # clearly worse
        _breakdown("social", 500, 0.21, 0.20, -0.02, 0.04, 0.04),          # p < .05 but not after BH
        _breakdown("display", 12, 0.5, 0.2, 0.1, 0.5, float("nan"), tested=False),
        _breakdown("events", 400, 0.205, 0.20, 0.001, 0.009, 1e-5),       # significant, too small to matter
    ]
    findings = derive_findings(_inputs(breakdowns=tuple(rows)))
    named = {(f.kind, f.topic) for f in findings.items}
    assert named == {(FindingKind.WORKED, "breakdown:channel=paid_search:mql->customer"),
                     (FindingKind.ADJUST, "breakdown:channel=email:mql->customer")}
    quiet = {x.topic: x.reason for x in findings.no_evidence}
    assert "insufficient data" in quiet["breakdown:channel=display:mql->customer"]
    assert "no clear difference" in quiet["breakdown:channel=social:mql->customer"]
    assert "no clear difference" in quiet["breakdown:channel=events:mql->customer"]
    # q-values come from one BH family over the tested p-values
    _, expected_q, _, _ = multipletests([1e-6, 1e-7, 0.04, 1e-5], method="fdr_bh")
    worked = findings.worked[0]
    assert worked.evidence.q_value == pytest.approx(expected_q[0])
    assert worked.sentence.startswith("Paid search converted 30.0% of its leads from MQL to customer, 12.0 points above")
    assert worked.impact_customers == pytest.approx(0.12 * 400 * 1.0)


def test_checks_map_to_kinds_and_bottleneck_is_the_weakest_missed_step():
    nan = float("nan")
    checks = (_check(CheckKind.RATE, "lead->mql", 0.4, 0.30, 0.28, 0.32, 2000, Status.MISSED),
              _check(CheckKind.RATE, "mql->customer", 0.2, 0.18, 0.15, 0.21, 600, Status.AT_RISK),
              _check(CheckKind.FOLLOW_UP, "mql", 0.9, nan, nan, nan, 0, Status.NOT_APPLICABLE,
                     "no first_touch_at column mapped", hours=24))
    findings = derive_findings(_inputs(checks=checks))
    adjust = findings.adjust
    assert [f.topic for f in adjust] == ["check:rate:lead->mql"]
    assert adjust[0].rule == "bottleneck" and "weakest step" in adjust[0].sentence
    assert adjust[0].sentence.startswith("Lead → MQL conversion was 30.0% against a target of 40.0%")
    assert [f.topic for f in findings.watch] == ["check:rate:mql->customer"]
    assert [(x.shown, x.reason) for x in findings.no_evidence if x.topic == "check:follow_up:mql"] == [
        ("MQLs followed up within 24 h", "NOT_APPLICABLE: no first_touch_at column mapped")]


def test_follow_up_association_is_worded_as_association():
    follow = FollowUpEvidence("mql->customer", n_on_time=800, rate_on_time=0.25, n_late=400, rate_late=0.15,
                              diff=-0.10, diff_low=-0.15, diff_high=-0.05, p_value=1e-5, within_hours=24)
    findings = derive_findings(_inputs(follow_up=follow))
    (finding,) = findings.adjust
    assert "association" in finding.sentence and not is_causal(finding.sentence)
    assert finding.impact_customers == pytest.approx(-0.10 * 400 * 1.0)


def test_pacing_off_track_gives_adjust_with_leads_per_day():
    pacing = PacingEvidence("OFF_TRACK", probability=0.1, expected=80, low=70, high=91, target=100,
                            customers_so_far=50, leads_needed_per_day=42.4, days_left=30)
    (finding,) = derive_findings(_inputs(pacing=pacing)).adjust
    assert "10% chance" in finding.sentence and "42 new leads per day" in finding.action
    assert finding.impact_customers == -20


def test_quarantine_share_over_threshold_is_reported():
    findings = derive_findings(_inputs(input_rows=1000, quarantined_rows=80,
                                       quarantine_reasons={"duplicate lead_id": 80}))
    (finding,) = findings.adjust
    assert "80 of 1,000" in finding.sentence and "duplicate lead_id" in finding.sentence
    assert not derive_findings(_inputs(input_rows=1000, quarantined_rows=5)).items


def test_ranking_by_absolute_impact_within_kind():
    rows = [_breakdown("a", 100, 0.40, 0.2, 0.1, 0.3, 1e-6), _breakdown("b", 1000, 0.30, 0.2, 0.05, 0.15, 1e-6)]
    worked = derive_findings(_inputs(breakdowns=tuple(rows))).worked
    assert [f.topic.split("=")[1].split(":")[0] for f in worked] == ["b", "a"]
    assert math.isclose(worked[0].impact_customers, 100.0)
