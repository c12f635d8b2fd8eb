"""The experiment simulation study (studies/experiment_study.py) on fewer seeds than its full run.

The full 200-seed figures are printed by the script; here each criterion gets a looser bound that still
fails for a broken estimator (e.g. a plain Wald interval on a 1% rate, or causal wording on A/A data)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "studies"))
import experiment_study as study  # noqa: E402


def test_intervals_cover_the_true_lifts():
    shares = study.coverage(range(30), n_leads=30_000)
    for name, share in shares.items():
        assert 0.88 <= share.rate <= 1.0, f"{name}: {share}"


def test_no_true_lift_rarely_gives_a_causal_worked_finding():
    share = study.causal_worked_without_effect(range(30), n_leads=30_000)
    assert share.hits <= 4, share     # Binomial(30, .05) exceeds 4 with probability about 2%


def test_a_planted_sample_ratio_mismatch_is_caught_and_blocks_causal_words():
    caught, causal = study.planted_mismatch(range(10), n_leads=30_000)
    assert caught.hits == caught.total and causal.hits == 0


def test_a_test_sized_by_the_plan_reaches_significance_about_80_percent_of_the_time():
    leads, power = study.planned_test_power(range(40))
    assert leads == pytest.approx(2 * 11_552, rel=0.02)
    assert 0.62 <= power.rate <= 0.95, power
