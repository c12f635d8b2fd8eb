"""Next-cycle proposal: round trip, lead target arithmetic, bounded channel mix, nothing without a finding."""
from __future__ import annotations

import math

from sla_toolkit.findings import (Evidence, Finding, Findings, ProposalInputs, RateEstimateView,
                                  propose_next_cycle)
from sla_toolkit.findings.model import Confidence
from sla_toolkit.spec import load_spec, spec_from_dict
from sla_toolkit.types import FindingKind

SPEC = spec_from_dict({
    "name": "q1", "period": {"start": "2027-01-01", "end": "2027-03-31"},
    "funnel": {"stages": ["lead", "mql", "customer"], "targets": {"lead->mql": 0.4, "mql->customer": 0.2}},
    "objectives": {"customers": 120}, "analysis": {"max_mix_shift": 0.2},
})


def _finding(kind, topic, rule):
    return Finding(kind, topic, "s", Evidence(0.1, 0.0, 0.2, 100), "a", "src", Confidence.MEDIUM, 1.0, rule)


def _proposal(findings, counts=None):
    inputs = ProposalInputs(
        spec=SPEC, findings=Findings(tuple(findings)),
        lead_to_customer=RateEstimateView(0.0712, 0.065, 0.078), leads_needed_90=(1685.0, 1540.0, 1850.0),
        step_rates={"lead->mql": RateEstimateView(0.47, 0.45, 0.49), "mql->customer": RateEstimateView(0.15, 0.13, 0.17)},
        channel_counts=counts or {"paid_search": 500, "email": 300, "social": 200},
    )
    return propose_next_cycle(inputs)


def test_round_trip_and_lead_target(tmp_path):
    proposal = _proposal([])
    path = tmp_path / "next_sla.yaml"
    path.write_text(proposal.yaml_text)
    loaded = load_spec(path)
    assert loaded == proposal.spec
    assert loaded.objectives.leads == math.ceil(120 / 0.0712) == 1686
    assert str(loaded.period.start) == "2027-04-01" and str(loaded.period.end) == "2027-06-30"
    assert "1,540–1,850" in proposal.yaml_text
    # no findings: targets kept and the mix equals this cycle's shares
    assert loaded.funnel.targets == SPEC.funnel.targets
    assert loaded.channel_mix == {"paid_search": 0.5, "email": 0.3, "social": 0.2}


def test_targets_change_only_with_a_finding():
    proposal = _proposal([_finding(FindingKind.WORKED, "check:rate:lead->mql", "check_met"),
                          _finding(FindingKind.ADJUST, "check:rate:mql->customer", "check_missed")])
    assert proposal.spec.funnel.targets["lead->mql"] == 0.45          # raised to the lower bound
    assert proposal.spec.funnel.targets["mql->customer"] == 0.2       # missed: kept
    assert "kept: missed this cycle" in proposal.yaml_text


def test_channel_mix_moves_within_the_bound():
    proposal = _proposal([_finding(FindingKind.WORKED, "breakdown:channel=paid_search:mql->customer", "breakdown"),
                          _finding(FindingKind.ADJUST, "breakdown:channel=email:mql->customer", "breakdown")])
    before = {"paid_search": 0.5, "email": 0.3, "social": 0.2}
    after = proposal.spec.channel_mix
    for channel, share in before.items():
        assert abs(after[channel] - share) <= 0.2 * share + 1e-4
    assert after["email"] < 0.3 and after["paid_search"] > 0.5 and after["social"] == 0.2
    assert math.isclose(sum(after.values()), 1.0, abs_tol=1e-9)
    assert "hypothesis" in proposal.yaml_text


HOSTILE_CHANNELS = {"paid\nsearch: 1\nobjectives: {customers: 1}": 500, "email: x # y": 300,
                    "so'ci\"al\r\n- z": 150, "#\u2028tab\there": 50}


def test_hostile_level_names_cannot_add_keys_or_break_the_file(tmp_path):
    """next_sla.yaml comes from a YAML emitter: names with newlines, colons and quotes round-trip as data."""
    worked, adjust = list(HOSTILE_CHANNELS)[:2]
    proposal = _proposal([_finding(FindingKind.WORKED, f"breakdown:channel={worked}:mql->customer", "breakdown"),
                          _finding(FindingKind.ADJUST, f"breakdown:channel={adjust}:mql->customer", "breakdown")],
                         counts=HOSTILE_CHANNELS)
    path = tmp_path / "next_sla.yaml"
    path.write_text(proposal.yaml_text, encoding="utf-8")
    loaded = load_spec(path)
    assert loaded == proposal.spec
    assert set(loaded.channel_mix) == set(HOSTILE_CHANNELS)
    assert loaded.objectives.customers == 120                 # the planted "objectives" key stayed text
    assert loaded.channel_mix[worked] > 0.5 and loaded.channel_mix[adjust] < 0.3
    header = [line for line in proposal.yaml_text.splitlines() if line.startswith("#")]
    assert any("channel_mix" in line for line in header)
    assert all(line.startswith("#") or ":" in line or line.startswith(("  ", "- ", "? ")) or line == ""
               for line in proposal.yaml_text.splitlines())
