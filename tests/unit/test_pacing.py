"""Pacing to the deadline: expected conversions by hand, statuses, edge dates, the terminal summary."""
import math
import time

import numpy as np
import pandas as pd
import pytest
from scipy.stats import invgamma

from simulated_leads import Campaign, START, simulate, spec_for
from sla_toolkit.errors import Reason
from sla_toolkit.pacing import format_pacing, pace
from sla_toolkit.spec import spec_from_dict
from sla_toolkit.types import Status

AS_OF = pd.Timestamp("2027-01-21")


def make_spec(customers=5, simulations=20000, min_n=1):
    return spec_from_dict({"name": "hand", "period": {"start": "2027-01-01", "end": "2027-01-30"},
                           "funnel": {"stages": ["lead", "customer"], "windows_days": {"customer": 30}},
                           "objectives": {"customers": customers} if customers else {},
                           "analysis": {"min_n": min_n, "simulations": simulations, "seed": 3}})


def hand_leads():
    """Six leads of 01-01 (won after 1, 3 and 12 days; three never) and G of 01-19, still open.

    At 01-21 the KM curve (days since creation) is S(1) = 6/7, S(3) = 24/35, S(12) = 18/35, flat after
    20 days of follow-up.
    """
    created = pd.to_datetime(["2027-01-01"] * 6 + ["2027-01-19"]).astype("datetime64[us]")
    won = pd.to_datetime(["2027-01-02", "2027-01-04", "2027-01-13", None, None, None, None]).astype("datetime64[us]")
    leads = pd.DataFrame({"lead_id": list("ABCDEFG"), "created_at": created, "customer_at": won})
    leads["reached_lead"], leads["lead_at"] = True, leads["created_at"]
    leads["reached_customer"] = leads["customer_at"].notna()
    return leads


def test_expected_conversions_by_hand():
    # open leads: G waited 2 days and has 12 to the deadline (01-31 00:00): 1 - S(12)/S(2) = 1 - (18/35)/(6/7) = 0.4;
    #   D, E, F waited 20 days, the curve is flat beyond: 0.
    # new leads: 7 arrived in 20 days (6 on the first day, 1 on day 19): too few for a weekday pattern or a
    #   trend, so one log rate log(0.35) with variance dispersion / 7, the dispersion being Pearson's
    #   chi2 / df = ((6 - .35)^2 / .35 + (1 - .35)^2 / .35 + 18 * .35) / 19 = 5.195; the mean rate is
    #   0.35 * exp(5.195 / 14) = 0.5072 a day (lognormal mean) over 10 days, a little more with the spread's
    #   own uncertainty (below);
    #   arriving u days from now a lead has 10 - u days: F(h) = 0 (h < 1), 1/7 (1 <= h < 3), 11/35 (3 <= h),
    #   averaged over h uniform on [0, 10]: (2 * 1/7 + 7 * 11/35) / 10 = 0.2485714
    result = pace(hand_leads(), make_spec(), AS_OF)
    new_conversion = (2 / 7 + 7 * 11 / 35) / 10
    dispersion = ((6 - .35) ** 2 / .35 + (1 - .35) ** 2 / .35 + 18 * .35) / 19
    # each run scales the variance by s = 19 / chi2(19) (19 residual days), capped at 4: the mean rate is
    # 0.35 * E[exp(s * dispersion / 14)] over that inverse-gamma law
    rate = 0.35 * invgamma(19 / 2, scale=19 / 2).expect(lambda s: math.exp(min(s, 4) * dispersion / 7 / 2))
    print(f"\n{format_pacing(result)}\nby hand: open 0.4, new {rate * 10 * new_conversion:.4f}, "
          f"total {3 + 0.4 + rate * 10 * new_conversion:.4f}")
    assert result.customers_so_far == 3 and result.n_not_converted == 4
    assert result.expected_from_open == pytest.approx(0.4, abs=0.02)
    assert result.new_lead_conversion == pytest.approx(new_conversion, abs=0.01)
    assert result.expected_from_new == pytest.approx(rate * 10 * new_conversion, abs=0.05)
    assert result.expected_customers == pytest.approx(3 + 0.4 + rate * 10 * new_conversion, abs=0.06)
    assert result.days_remaining == 10 and result.daily_leads == pytest.approx(7 / 20)
    # leads per remaining day to close the gap in expectation: (5 - 3 - 0.4) / (0.2486 * 10)
    assert result.leads_needed_per_day == pytest.approx(1.6 / (new_conversion * 10), rel=0.03)
    assert result.gap == pytest.approx(5 - result.expected_customers)
    assert result.low <= result.expected_customers <= result.high


def test_same_seed_same_answer():
    assert pace(hand_leads(), make_spec(), AS_OF) == pace(hand_leads(), make_spec(), AS_OF)


@pytest.mark.parametrize("customers,expected", [(3, Status.MET), (30, Status.MISSED)])
def test_status_follows_the_probability_thresholds(customers, expected):
    result = pace(hand_leads(), make_spec(customers=customers), AS_OF)
    # three customers already: P = 1; thirty is out of reach of ~1.3 expected more
    if customers == 3:
        assert result.probability == 1.0
    else:
        assert result.probability < 0.01     # overdispersed inflow leaves a sliver of a chance
    assert result.status is expected


def test_at_risk_between_the_thresholds():
    # target 5 needs two more of ~1.33 expected (Poisson-like): P(at least 2 more) is between 0.2 and 0.5,
    # so with at_risk_probability 0.2 and on_track 0.9 the status is AT_RISK
    spec = make_spec(customers=5).model_copy(update={"analysis": make_spec().analysis.model_copy(
        update={"at_risk_probability": 0.2, "on_track_probability": 0.9})})
    result = pace(hand_leads(), spec, AS_OF)
    print(f"\nP(reach 5) = {result.probability:.3f}")
    assert 0.2 <= result.probability < 0.5 and result.status is Status.AT_RISK


def test_too_few_leads_and_no_conversions_are_insufficient_data():
    assert pace(hand_leads(), make_spec(min_n=10), AS_OF).reason is Reason.INSUFFICIENT_N
    early = pace(hand_leads(), make_spec(), pd.Timestamp("2027-01-01 12:00"))
    assert early.status is Status.INSUFFICIENT_DATA and early.reason is Reason.NO_EVENTS


def test_before_the_period_and_without_dates_it_says_why():
    before = pace(hand_leads(), make_spec(), pd.Timestamp("2026-12-01"))
    assert (before.status, before.reason) == (Status.NOT_APPLICABLE, Reason.NOT_STARTED)
    flags = hand_leads().drop(columns=["customer_at", "lead_at"]).assign(created_at=pd.NaT)
    undated = pace(flags, make_spec(), AS_OF)
    assert undated.reason is Reason.NO_TIMESTAMPS
    assert "NOT_APPLICABLE (no_timestamps): pacing needs created_at and customer_at timestamps" in \
        format_pacing(undated)


def test_after_the_deadline_only_actual_customers_count():
    result = pace(hand_leads(), make_spec(customers=3), pd.Timestamp("2027-03-01"))
    assert result.days_remaining == 0 and result.as_of == pd.Timestamp("2027-01-31")
    assert result.expected_customers == 3 and (result.low, result.high) == (3, 3) and result.probability == 1.0


def test_without_an_objective_it_still_projects():
    result = pace(hand_leads(), make_spec(customers=None), AS_OF)
    assert result.status is Status.NOT_APPLICABLE and result.reason is Reason.NO_TARGET
    assert math.isnan(result.probability) and result.expected_customers > 3
    assert "no target" in format_pacing(result)


def test_summary_is_a_few_lines_with_status_probability_gap_and_leads_per_day():
    text = format_pacing(pace(hand_leads(), make_spec(), AS_OF))
    lines = text.splitlines()
    assert 4 <= len(lines) <= 5
    assert lines[0] == "hand: pacing as of 2027-01-21, deadline 2027-01-30 (10 days left)"
    assert lines[1].startswith("Status: ") and "P(reach 5 customers by the deadline) = " in lines[1]
    assert "gap" in lines[2] and lines[3].startswith("Leads needed per remaining day: ")


def test_pacing_five_thousand_leads_is_vectorised():
    campaign = Campaign(daily_leads=40, period_days=120)
    leads = simulate(campaign, seed=5)
    spec = spec_for(campaign, objectives={"customers": 600}, analysis={"simulations": 4000})
    started = time.perf_counter()
    result = pace(leads, spec, START + pd.Timedelta(days=90))
    elapsed = time.perf_counter() - started
    print(f"\n{len(leads)} leads, 4000 simulations: {elapsed:.2f} s\n{format_pacing(result)}")
    assert len(leads) > 4500 and np.isfinite(result.expected_customers)


def test_event_table_equals_statsmodels():
    from statsmodels.duration.survfunc import SurvfuncRight

    from sla_toolkit.pacing import km_events

    rng = np.random.default_rng(11)
    duration = np.round(rng.exponential(10, 500), 1)  # rounded: many ties
    event = rng.random(500) < 0.6
    table, reference = km_events(duration, event), SurvfuncRight(duration, event.astype(float))
    np.testing.assert_array_equal(table.times, reference.surv_times)
    np.testing.assert_array_equal(table.events, reference.n_events)
    np.testing.assert_array_equal(table.at_risk, reference.n_risk)
    np.testing.assert_allclose(table.survival, reference.surv_prob, atol=1e-9, rtol=0)
    assert (table.n, table.longest) == (500, duration.max())


def test_revenue_projection_carries_an_interval_from_customers_and_revenue_per_customer():
    spec = make_spec(simulations=4000)
    same = hand_leads().assign(revenue=[1000.0, 1000.0, 1000.0, None, None, None, None])
    result = pace(same, spec, AS_OF)
    # every customer brings exactly 1,000: revenue is 1,000 x customers, so its quantiles are the customers'
    assert result.revenue_so_far == 3000.0
    assert (result.revenue_low, result.revenue_high) == (1000 * result.low, 1000 * result.high)
    assert result.expected_revenue == pytest.approx(1000 * result.expected_customers)
    # revenue per customer that varies widens the interval around the same centre
    varied = pace(hand_leads().assign(revenue=[200.0, 1000.0, 1800.0, None, None, None, None]), spec, AS_OF)
    assert varied.revenue_high - varied.revenue_low > result.revenue_high - result.revenue_low
    assert varied.expected_revenue == pytest.approx(result.expected_revenue, rel=0.05)
    assert varied.revenue_low >= varied.revenue_so_far
