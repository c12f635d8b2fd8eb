"""Cost per customer: hand-computed figures and statsmodels' Poisson tools."""
from __future__ import annotations

import pandas as pd
import pytest
from scipy import stats

from sla_toolkit.costs import channel_costs
from sla_toolkit.spec import spec_from_dict

SPEC = spec_from_dict({"name": "c", "period": {"start": "2027-01-01", "end": "2027-03-31"},
                       "funnel": {"stages": ["lead", "customer"]}})


def _leads(counts):
    rows = []
    for channel, (n, won) in counts.items():
        rows += [{"channel": channel, "reached_lead": True, "reached_customer": i < won} for i in range(n)]
    return pd.DataFrame(rows)


def test_cost_per_customer_and_exact_interval():
    leads = _leads({"a": (100, 10), "b": (200, 40)})
    spend = pd.DataFrame({"date": pd.to_datetime(["2027-01-01"] * 2), "channel": ["a", "b"],
                          "campaign": ["x", "y"], "spend": [1000.0, 2000.0]})
    table = channel_costs(leads, spend, SPEC).table.set_index("channel")
    assert table.loc["a", "cost_per_customer"] == 100.0
    assert table.loc["a", "cost_per_lead"] == 10.0
    # Garwood interval of a count of 10 at 95%: chi2 quantiles / 2
    low_count, high_count = stats.chi2.ppf(0.025, 20) / 2, stats.chi2.ppf(0.975, 22) / 2
    assert table.loc["a", "low"] == pytest.approx(1000 / high_count, rel=1e-9)
    assert table.loc["a", "high"] == pytest.approx(1000 / low_count, rel=1e-9)
    # 10 customers per 1000 vs 40 per 2000: a rate ratio of 0.5, clearly significant
    assert table.loc["a", "p_value"] < 0.05
