"""Since last cycle, on hand-made ledger rows: adoption diff, the move's interval, the wording."""
from __future__ import annotations

import math

import pytest

from sla_toolkit.history.trend import lineage, since_last_cycle

PROPOSAL = """# Next-cycle SLA proposed by sla_toolkit from this cycle's findings.
#   funnel.targets.sql->customer: 0.2 -> 0.22 (raised: observed clears the old target)
#   objectives.leads: None -> 900 (customers / rate)
name: Q-next
funnel:
  stages: [lead, sql, customer]
  targets: {lead->sql: 0.3, sql->customer: 0.22}
objectives: {customers: 50, leads: 900}
"""


def _check(name, est, low, high, status="MISSED"):
    return {"name": name, "target": 0.3, "direction": "at_least", "estimate": est, "low": low, "high": high,
            "n": 500, "status": status, "reason": ""}


def _past():
    return [{"cycle_id": "c1", "as_of": "2025-04-01T00:00:00", "checks": [_check("rate lead->sql", 0.25, 0.21, 0.29)],
             "findings": [{"topic": "check:rate lead->sql", "kind": "adjust"}], "proposal": PROPOSAL}]


def _current(leads=900, rate=(0.35, 0.31, 0.39)):
    spec = {"name": "Q-next", "funnel": {"stages": ["lead", "sql", "customer"],
                                         "targets": {"lead->sql": 0.3, "sql->customer": 0.22}},
            "objectives": {"customers": 50, "leads": leads}}
    return {"cycle_id": "c2", "as_of": "2025-07-01T00:00:00", "spec": spec,
            "checks": [_check("rate lead->sql", *rate, status="MET")], "findings": {"items": []}}


def test_adopted_proposal_and_the_flagged_step_followed_by_an_improvement():
    section = since_last_cycle(_current(), _past())
    assert section.previous_cycle == "c1" and section.adopted is True
    assert {c.path for c in section.changes} == {"funnel.targets.sql->customer", "objectives.leads"}
    (move,) = section.moves
    se = math.hypot(0.08, 0.08) / (2 * 1.959963984540054)
    assert move.difference == pytest.approx((0.10, 0.10 - 1.959963984540054 * se, 0.10 + 1.959963984540054 * se))
    assert move.verdict == "followed by an improvement" and "not proof" in move.sentence
    assert "+10.0 points (95% CI +4.3 to +15.7)" in move.sentence


def test_an_edited_proposal_is_adopted_only_in_part_and_an_overlapping_move_is_no_clear_change():
    section = since_last_cycle(_current(leads=1200, rate=(0.27, 0.23, 0.31)), _past())
    assert section.adopted is False
    assert [c.path for c in section.changes if not c.adopted] == ["objectives.leads"]
    assert section.moves[0].verdict == "followed by no clear change"


def test_first_cycle_has_nothing_to_compare_and_later_cycles_are_ignored():
    assert since_last_cycle(_current(), []).previous_cycle is None
    future = [dict(_past()[0], as_of="2030-01-01T00:00:00")]
    assert since_last_cycle(_current(), future).previous_cycle is None
    assert lineage("Q1 plan-next") == lineage("Q1 plan") == "Q1 plan"


def test_the_planned_randomized_test_is_quoted_with_its_causal_wording():
    import json
    from types import SimpleNamespace

    import pandas as pd
    import yaml

    from sla_toolkit.findings import Confidence, Evidence, Finding, Findings
    from sla_toolkit.history.trend import since_last_cycle_of
    from sla_toolkit.types import FindingKind

    block = {"name": "test email", "arm_column": "test_channel", "control": "current", "randomized": True}
    proposal = PROPOSAL.replace("#   objectives.leads", "#   experiment: None -> test email (a planned test)\n"
                                "#   objectives.leads") + yaml.safe_dump({"experiment": block})
    current = _current()
    current["spec"]["experiment"] = block
    sentence = "In the randomized test 'test email', Email caused a rise in conversion lead to customer."
    finding = Finding(FindingKind.WORKED, "experiment:test email:email:conversion", sentence,
                      Evidence(0.02, 0.01, 0.03, 2000), "roll it out", "experiments", Confidence.HIGH,
                      rule="experiment", causal=True)
    result = SimpleNamespace(cycle_id="c2", as_of=pd.Timestamp(current["as_of"]),
                             spec=SimpleNamespace(to_dict=lambda: current["spec"]),
                             checks=SimpleNamespace(to_frame=lambda: pd.DataFrame(current["checks"])),
                             findings=Findings((finding,)))
    past = [dict(_past()[0], proposal=proposal)]
    section = since_last_cycle_of(result, json.dumps(past))
    assert section.tested == (sentence,) and "caused a rise" in section._repr_html_()
    assert next(c for c in section.changes if c.path == "experiment").adopted
