"""Simulation studies on generated campaigns with known truth (fixed seeds, cheap per seed).

* censoring: the censoring-aware rate recovers the eventual rate while the naive rate is biased low;
* reverse funnel: the 90 % interval of leads needed covers customers / true rate in 85-95 % of seeds;
* pacing at mid-period: the 90 % prediction interval covers the final customer count in 85-95 % of seeds.
"""
import numpy as np
import pandas as pd
import pytest

from simulated_leads import START, Campaign, simulate, spec_for
from sla_toolkit.pacing import pace
from sla_toolkit.survival import conversion_rates
from sla_toolkit.targets import reverse_funnel

pytestmark = pytest.mark.slow


def test_censoring_aware_rate_recovers_the_truth_and_naive_is_biased_low():
    # eventual rate 25 %, conversion 20 days after entry on average (within 90), arrivals growing over
    # 180 days so that many leads are young at the cut-off
    campaign = Campaign(stages=("lead", "customer"), step_rates=(0.25,), mean_delay_days=(20.0,),
                        windows_days=(90,), period_days=180, daily_leads=20, recent_heavy=True)
    spec = spec_for(campaign)
    as_of = START + pd.Timedelta(days=campaign.period_days)
    rows = []
    for seed in range(50):
        item = conversion_rates(simulate(campaign, seed), spec, as_of).get("lead->customer")
        rows.append((item.naive.estimate, item.matured.estimate, item.projected.estimate, item.estimate,
                     item.share_open))
    naive, matured, projected, aware, still_open = np.mean(rows, axis=0)
    print(f"\ntruth 25.00 %; mean over 50 seeds: censoring-aware {aware:.2%} (matured cohorts {matured:.2%}, "
          f"KM projection {projected:.2%}), naive {naive:.2%} (bias {naive - 0.25:+.2%}); "
          f"still open {still_open:.1%}")
    assert abs(aware - 0.25) < 0.01
    assert abs(matured - 0.25) < 0.01 and abs(projected - 0.25) < 0.01
    assert naive < 0.25 - 0.03


def test_reverse_funnel_interval_covers_the_true_leads_needed():
    campaign = Campaign(daily_leads=10, recent_heavy=True)  # lead->mql 40 %, mql->customer 30 %
    spec = spec_for(campaign, objectives={"customers": 100})
    truth = 100 / campaign.overall_rate
    as_of = START + pd.Timedelta(days=campaign.period_days)
    covered, widths = [], []
    for seed in range(200):
        needed, low, high = reverse_funnel(simulate(campaign, seed), spec, as_of).needed("lead")
        covered.append(low <= truth <= high)
        widths.append(high - low)
    coverage = float(np.mean(covered))
    print(f"\nreverse funnel: 90% interval of leads needed covers {truth:.1f} in {coverage:.1%} of 200 seeds "
          f"(median width {np.median(widths):.0f} leads)")
    assert 0.85 <= coverage <= 0.95


def test_pacing_prediction_interval_covers_the_final_count():
    campaign = Campaign(daily_leads=10)  # 120 days, about 1,200 leads, 12 % eventually customers
    spec = spec_for(campaign, objectives={"customers": 120})
    deadline = START + pd.Timedelta(days=campaign.period_days)
    mid_period = START + pd.Timedelta(days=campaign.period_days / 2)
    covered, errors = [], []
    for seed in range(200):
        leads = simulate(campaign, seed)
        final = int((leads["customer_at"] < deadline).sum())
        result = pace(leads, spec, mid_period)
        covered.append(result.low <= final <= result.high)
        errors.append(result.expected_customers - final)
    coverage = float(np.mean(covered))
    print(f"\npacing at mid-period: 90% prediction interval covers the final count in {coverage:.1%} of 200 "
          f"seeds (mean error {np.mean(errors):+.1f} customers, RMSE {np.sqrt(np.mean(np.square(errors))):.1f})")
    assert 0.85 <= coverage <= 0.95
