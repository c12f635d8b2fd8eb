"""Levers vs descriptions ([7] item 11): actions on what teams control, where-to-look notes on the rest."""
from __future__ import annotations

import pytest

from sla_toolkit.findings import FindingInputs, derive_findings
from sla_toolkit.findings.inputs import SegmentComparison
from sla_toolkit.findings.proposal import ProposalInputs, RateEstimateView, propose_next_cycle
from sla_toolkit.spec import spec_from_dict
from sla_toolkit.types import FindingKind


def _spec(levers=None):
    data = {"name": "t", "period": {"start": "2027-01-01", "end": "2027-03-31"},
            "funnel": {"stages": ["lead", "customer"], "targets": {"lead->customer": 0.1}},
            "objectives": {"customers": 100}, "segments": ["region", "campaign"],
            "analysis": {"min_n": 30, "alpha": 0.05, "min_effect": 0.02}}
    return spec_from_dict(data if levers is None else {**data, "levers": levers})


def _row(dimension, level, rate, rest_rate, p):
    lift = rate - rest_rate
    return SegmentComparison(dimension, level, "lead->customer", 500, round(500 * rate), rate, rate - 0.02,
                             rate + 0.02, 2000, rest_rate, lift, lift - 0.03, lift + 0.03, p, tested=True)


ROWS = (_row("channel", "paid_search", 0.20, 0.10, 1e-8), _row("channel", "email", 0.04, 0.13, 1e-8),
        _row("region", "Rural", 0.19, 0.10, 1e-7), _row("campaign", "spring_promo", 0.05, 0.12, 1e-6))


def _findings(spec):
    inputs = FindingInputs(spec=spec, checks=(), breakdowns=ROWS,
                           downstream_to_customer={"customer": 1.0})
    return {f.topic.split(":")[1]: f for f in derive_findings(inputs).items}, derive_findings(inputs)


def test_without_levers_the_channel_is_the_lever_and_the_report_says_so():
    found, findings = _findings(_spec())
    rural, promo, paid = found["region=Rural"], found["campaign=spring_promo"], found["channel=paid_search"]
    print("\n" + findings.levers_note + "\nlever:       " + paid.action + "\ndescription: " + rural.action)
    assert paid.kind is FindingKind.WORKED and paid.action.startswith("Keep Paid search in the mix")
    assert found["channel=email"].kind is FindingKind.ADJUST and found["channel=email"].action.startswith(
        "Review Email's targeting")
    for note in (rural, promo):
        assert note.kind is FindingKind.WATCH and note.rule == "segment_note"
        assert note.action.startswith("Where to look:") and "mix" not in note.action.replace("channel mix", "")
        assert "Keep" not in note.action and "Review" not in note.action
    assert rural.action.startswith("Where to look: conversion is higher where region is Rural.")
    assert promo.action.startswith("Where to look: conversion is lower where campaign is Spring promo.")
    assert findings.levers_note.startswith("No levers: declared in sla.yaml, so the channel column (channel)")
    assert "region, campaign are descriptive" in findings.levers_note
    assert findings.to_dict()["levers_note"] == findings.levers_note and "No levers" in findings._repr_html_()


def test_declared_levers_get_actions_and_descriptions_never_reach_the_mix_proposal():
    found, findings = _findings(_spec(levers=["campaign"]))
    promo, rural, paid = found["campaign=spring_promo"], found["region=Rural"], found["channel=paid_search"]
    assert promo.kind is FindingKind.ADJUST and promo.action.startswith("Review Spring promo's targeting")
    assert rural.rule == paid.rule == "segment_note" and paid.kind is FindingKind.WATCH
    assert findings.levers_note.startswith("Levers (declared in levers:): campaign;")
    better_campaign = _findings(_spec(levers=["channel", "campaign"]))[0]
    assert better_campaign["channel=paid_search"].rule == "breakdown"

    def proposal(spec, findings):
        return propose_next_cycle(ProposalInputs(
            spec=spec, findings=findings, lead_to_customer=RateEstimateView(0.1, 0.09, 0.11),
            leads_needed_90=(1000.0, 900.0, 1100.0), step_rates={"lead->customer": RateEstimateView(0.1, 0.09, 0.11)},
            channel_counts={"paid_search": 500, "email": 500}))

    as_lever = proposal(_spec(), _findings(_spec())[1])
    as_description = proposal(_spec(levers=["campaign"]), findings)
    shifted = {c.path for c in as_lever.changes}
    assert {"channel_mix.paid_search", "channel_mix.email"} <= shifted
    assert not any(c.path.startswith("channel_mix.") and c.old != c.new for c in as_description.changes)


def test_a_lever_that_is_no_segment_is_refused_with_a_suggestion():
    from sla_toolkit.errors import SpecError

    with pytest.raises(SpecError, match=r"levers\.1: 'chanel' is neither the channel column nor a segment .*"
                                        r"did you mean 'channel'\?"):
        _spec(levers=["campaign", "chanel"])
    assert _spec(levers=["channel", "region", "campaign"]).lever_columns == ("channel", "region", "campaign")
