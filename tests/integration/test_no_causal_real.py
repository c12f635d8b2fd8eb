"""Bank marketing has no `experiment:` block: no causal wording anywhere (findings, proposal, experiments)."""
from __future__ import annotations

from pathlib import Path

from sla_toolkit.findings.wording import is_causal
from sla_toolkit.pipeline import run_cycle

EXAMPLE = Path(__file__).resolve().parents[2] / "data" / "examples" / "bank_marketing"


def test_bank_marketing_runs_unchanged_and_never_claims_a_cause(bank_dir):
    result = run_cycle(EXAMPLE / "sla.yaml", EXAMPLE / "source.yaml", with_models=False)
    assert not result.experiments and result.findings.items
    texts = [t for f in result.findings.items for t in (f.sentence, f.action)]
    texts += [c.reason for c in result.proposal.changes] + [result.proposal.yaml_text]
    assert not any(f.causal for f in result.findings.items)
    assert [t for t in texts if is_causal(t)] == []
    assert "experiment" not in result.proposal.spec.to_dict()
