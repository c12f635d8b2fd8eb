"""Reverse funnel: leads needed for the customer objective, with a Monte Carlo interval."""
import math

import numpy as np
import pandas as pd
import pytest

from simulated_leads import hand_table
from sla_toolkit.errors import Reason
from sla_toolkit.spec import spec_from_dict
from sla_toolkit.survival import conversion_rates
from sla_toolkit.targets import reverse_funnel

AS_OF = pd.Timestamp("2027-03-31")


def make_spec(customers=50, targets=None, **analysis):
    return spec_from_dict({
        "name": "t", "period": {"start": "2027-01-01", "end": "2027-03-31"},
        "funnel": {"stages": ["lead", "mql", "customer"],
                   "targets": targets if targets is not None else {"lead->mql": 0.5, "mql->customer": 0.2}},
        "objectives": {"customers": customers} if customers else {},
        "analysis": {"simulations": 20000, "seed": 7, **analysis}})


def flag_leads():
    """200 leads, 80 MQLs, 20 customers, flags only: plain rates 0.4 and 0.25, overall 0.1."""
    index = np.arange(200)
    return pd.DataFrame({"lead_id": [f"F{i}" for i in index], "created_at": pd.NaT, "reached_lead": True,
                         "reached_mql": index < 80, "reached_customer": index < 20})


def test_needed_by_hand_and_at_the_spec_rates():
    result = reverse_funnel(flag_leads(), make_spec(), AS_OF)
    table = result.table.set_index("stage")
    print("\n" + result.table.to_string() + "\n" + result.rates.to_string())
    # observed: 50 / (0.4 * 0.25) = 500 leads, 50 / 0.25 = 200 MQLs; spec rates: 50 / 0.1 = 500, 50 / 0.2 = 250
    assert table.loc["lead", "needed"] == pytest.approx(500) and table.loc["mql", "needed"] == pytest.approx(200)
    assert table.loc["lead", "needed_at_target_rates"] == pytest.approx(500)
    assert table.loc["mql", "needed_at_target_rates"] == pytest.approx(250)
    assert table["reached_so_far"].tolist() == [200, 80, 20]
    assert result.rates["basis"].tolist() == ["plain_rate", "plain_rate"]
    assert result.confidence == 0.90 and "Jeffreys" in result.method


def test_interval_matches_an_independent_posterior_simulation_and_the_delta_method():
    result = reverse_funnel(flag_leads(), make_spec(), AS_OF)
    needed, low, high = result.needed("lead")
    rng = np.random.default_rng(12345)
    overall = rng.beta(80.5, 120.5, 400_000) * rng.beta(20.5, 60.5, 400_000)
    ref_low, ref_high = np.quantile(50 / overall, [0.05, 0.95])
    # delta method on the log scale: var(log r) ~ (1 - r) / (r n)
    se = math.sqrt(0.6 / (0.4 * 200) + 0.75 / (0.25 * 80))
    print(f"\nleads needed {needed:.1f}, 90% interval [{low:.1f}, {high:.1f}]; independent simulation "
          f"[{ref_low:.1f}, {ref_high:.1f}]; delta method [{500 * math.exp(-1.645 * se):.1f}, "
          f"{500 * math.exp(1.645 * se):.1f}]")
    assert low == pytest.approx(ref_low, rel=0.02) and high == pytest.approx(ref_high, rel=0.02)
    assert low == pytest.approx(500 * math.exp(-1.645 * se), rel=0.06)
    assert high == pytest.approx(500 * math.exp(1.645 * se), rel=0.06)
    mql_needed, mql_low, mql_high = result.needed("mql")
    assert mql_low < 200 < mql_high and result.needed("customer") == (50.0, 50.0, 50.0)


def test_same_seed_same_interval():
    first = reverse_funnel(flag_leads(), make_spec(), AS_OF).needed("lead")
    assert reverse_funnel(flag_leads(), make_spec(), AS_OF).needed("lead") == first


def test_direct_target_fills_an_incomplete_chain():
    spec = make_spec(targets={"lead->customer": 0.08})
    table = reverse_funnel(flag_leads(), spec, AS_OF).table.set_index("stage")
    assert table.loc["lead", "needed_at_target_rates"] == pytest.approx(50 / 0.08)
    assert math.isnan(table.loc["mql", "needed_at_target_rates"])


def test_without_a_customer_objective_there_is_nothing_to_reverse():
    result = reverse_funnel(flag_leads(), make_spec(customers=None), AS_OF)
    assert result.reason is Reason.NO_TARGET and result.table.empty
    assert len(result.rates) == 2


def test_projected_rates_enter_through_effective_counts():
    # every lead ten days old at the as-of date, windows of 30 days: nothing has matured, the KM projection is used
    rows = [("customer" if i < 10 else "mql" if i < 40 else "lead", "a", "2027-03-21") for i in range(100)]
    leads = hand_table(rows, ("lead", "mql", "customer"), delays_days=(1, 5))
    spec = spec_from_dict({"name": "t", "period": {"start": "2027-03-01", "end": "2027-04-30"},
                           "funnel": {"stages": ["lead", "mql", "customer"],
                                      "windows_days": {"mql": 30, "customer": 30}},
                           "objectives": {"customers": 10}, "analysis": {"min_n": 5}})
    conversions = conversion_rates(leads, spec, AS_OF)
    result = reverse_funnel(leads, spec, AS_OF, conversions=conversions)
    rates = result.rates.set_index("transition")
    assert rates["basis"].tolist() == ["km_projection", "km_projection"]
    projected = conversions.get("lead->mql").projected
    # effective n reproduces Greenwood's error: sqrt(r (1 - r) / n) = se
    n = rates.loc["lead->mql", "n"]
    assert math.sqrt(projected.estimate * (1 - projected.estimate) / n) == pytest.approx(projected.standard_error)
    assert rates.loc["lead->mql", "rate"] == pytest.approx(0.4)
    assert rates.loc["mql->customer", "rate"] == pytest.approx(0.25)
    assert result.needed("lead")[0] == pytest.approx(100)
