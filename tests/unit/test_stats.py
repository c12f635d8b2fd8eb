"""Rates, Wilson intervals, Poisson count intervals and posterior draws against statsmodels/scipy and hand figures."""
import math

import numpy as np
import pytest
from scipy import stats as scipy_stats
from statsmodels.stats.proportion import proportion_confint

from sla_toolkit.stats import (RateEstimate, beta_posterior_draws, effective_counts, poisson_count_bounds,
                               rate_columns, wilson_bounds, wilson_interval)

FIXED = [(0, 10), (1, 10), (5, 10), (10, 10), (842, 8000), (3, 7), (271, 2296)]


@pytest.mark.parametrize("successes,n", FIXED)
@pytest.mark.parametrize("confidence", [0.90, 0.95])
def test_wilson_interval_equals_statsmodels(successes, n, confidence):
    expected_low, expected_high = proportion_confint(successes, n, alpha=1 - confidence, method="wilson")
    rate = wilson_interval(successes, n, confidence)
    assert rate.estimate == pytest.approx(successes / n, abs=1e-12)
    assert abs(rate.low - expected_low) < 1e-9
    assert abs(rate.high - expected_high) < 1e-9
    assert (rate.successes, rate.n, rate.confidence) == (successes, n, confidence)


def test_wilson_hand_computed_for_olist_rate():
    # Wilson by hand: centre (p + z^2/2n) / (1 + z^2/n), half-width z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n)
    p, n, z = 842 / 8000, 8000, scipy_stats.norm.ppf(0.975)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    rate = wilson_interval(842, 8000)
    print(f"\nOlist MQL->customer naive: {rate.estimate:.4%} [{rate.low:.4%}, {rate.high:.4%}]")
    assert rate.estimate == pytest.approx(0.10525)
    assert rate.low == pytest.approx(centre - half, abs=1e-12)
    assert rate.high == pytest.approx(centre + half, abs=1e-12)


def test_vectorised_bounds_match_scalar_and_handle_empty_groups():
    successes, n = np.array([s for s, _ in FIXED] + [0]), np.array([m for _, m in FIXED] + [0])
    low, high = wilson_bounds(successes, n)
    table = rate_columns(successes, n, prefix="step_")
    for i, (s, m) in enumerate(FIXED):
        lo, hi = proportion_confint(s, m, alpha=0.05, method="wilson")
        assert abs(low[i] - lo) < 1e-9 and abs(high[i] - hi) < 1e-9
        assert table.loc[i, "step_rate"] == pytest.approx(s / m)
    assert (low[-1], high[-1]) == (0.0, 1.0)
    assert np.isnan(table.loc[len(FIXED), "step_rate"])
    assert list(table.columns) == ["step_rate", "step_low", "step_high"]


def test_empty_rate_has_no_estimate_and_full_interval():
    rate = wilson_interval(0, 0)
    assert math.isnan(rate.estimate) and (rate.low, rate.high) == (0.0, 1.0)


def test_rate_rejects_impossible_counts():
    with pytest.raises(ValueError, match="need 0 <= successes <= n, got successes=5, n=3"):
        wilson_interval(5, 3)


def test_rate_estimate_renders_itself():
    rate = wilson_interval(3, 10)
    assert isinstance(rate, RateEstimate)
    assert rate.to_frame().loc[0, "n"] == 10
    assert rate.to_dict()["successes"] == 3
    assert "<table" in rate._repr_html_()
    assert rate.contains(0.3) and not rate.contains(0.9)


def test_poisson_count_bounds_are_garwood():
    # zero events: upper bound -ln(0.025) = 3.6889 (hand); ten events: 4.7954 .. 18.3904 (tables)
    assert poisson_count_bounds(0) == (0.0, pytest.approx(-math.log(0.025), abs=1e-9))
    low, high = poisson_count_bounds(10)
    assert low == pytest.approx(4.795389, abs=1e-6) and high == pytest.approx(18.390356, abs=1e-6)
    assert low == pytest.approx(scipy_stats.chi2.ppf(0.025, 20) / 2, abs=1e-12)


def test_beta_posterior_draws_follow_jeffreys_posterior():
    rng = np.random.default_rng(3)
    draws = beta_posterior_draws([30, 5], [100, 50], 200_000, rng)
    assert draws.shape == (200_000, 2)
    assert draws.mean(axis=0) == pytest.approx([30.5 / 101, 5.5 / 51], abs=2e-3)


def test_effective_counts_reproduce_rate_and_standard_error():
    successes, n = effective_counts(0.2, 0.02)
    assert (successes, n) == (pytest.approx(80.0), pytest.approx(400.0))
    assert math.sqrt(0.2 * 0.8 / n) == pytest.approx(0.02)
    assert effective_counts(0.2, float("nan")) == (0.0, 0.0)
