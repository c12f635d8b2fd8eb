"""No look-ahead: an export cut at D and the full export analysed as of D give the same report.

The full study (20 seeds) is ``studies/lookahead.py``; here two seeds, one with the models.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import sla_toolkit.pipeline as pipeline

STUDY = Path(__file__).resolve().parents[2] / "studies" / "lookahead.py"


def _study():
    spec = importlib.util.spec_from_file_location("lookahead_study", STUDY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed, with_models", [(3, True), (8, False)])
def test_cut_export_and_full_export_as_of_d_agree(seed, with_models):
    found = _study().one_seed(seed, expected_leads=1_500, with_models=with_models)
    print(f"seed {seed}: {len(found)} differences")
    assert found == []


def test_the_study_detects_look_ahead(monkeypatch):
    """Without the as-of cut the same comparison finds later conversions in the breakdowns."""
    monkeypatch.setattr(pipeline, "known_at", lambda leads, spend, spec, as_of, note: (leads, spend, note))
    found = _study().one_seed(3, expected_leads=1_500, with_models=False)
    assert any(path.startswith(".breakdowns") for path in found)
    assert any(path.startswith(".costs") for path in found)
