"""SLA checks: every status, with hand-computed expectations."""
import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from simulated_leads import hand_table
from sla_toolkit.compare import ChecksResult, judge, kpi_checks, sla_checks, volume_checks
from sla_toolkit.errors import Reason
from sla_toolkit.pacing import pace
from sla_toolkit.spec import spec_from_dict
from sla_toolkit.types import Direction, Status

AS_OF = pd.Timestamp("2027-02-15")


def make_spec(**extra):
    data = {"name": "t", "period": {"start": "2027-01-01", "end": "2027-01-31"},
            "funnel": {"stages": ["lead", "customer"], "windows_days": {"customer": 10}},
            "analysis": {"min_n": 30}}
    for key, value in extra.items():
        data[key] = {**data[key], **value} if isinstance(data.get(key), dict) else value
    return spec_from_dict(data)


def flag_leads(n=100, won=40):
    """Flag-only table: no dates, so the verdict basis is the plain rate (40/100)."""
    return pd.DataFrame({"lead_id": [f"F{i}" for i in range(n)], "created_at": pd.NaT, "reached_lead": True,
                         "reached_customer": np.arange(n) < won})


def dated_leads():
    """40 leads, two a day 01-01..01-20; the 12 created 01-15..01-20 are won 15.5 days later.

    Wins fall on 01-30 12:00 (2), 01-31 12:00 (2), then 02-01 12:00 onwards: 4 by the deadline.
    """
    days = pd.date_range("2027-01-01", periods=20).strftime("%Y-%m-%d").tolist() * 2
    rows = [("customer" if i >= 28 else "lead", "a", day) for i, day in enumerate(sorted(days))]
    return hand_table(rows, ("lead", "customer"), delays_days=(15.5,))


@pytest.mark.parametrize("estimate,low,high,target,direction,n,expected", [
    (0.45, 0.40, 0.50, 0.40, Direction.AT_LEAST, 100, Status.MET),
    (0.35, 0.30, 0.41, 0.40, Direction.AT_LEAST, 100, Status.AT_RISK),
    (0.30, 0.25, 0.35, 0.40, Direction.AT_LEAST, 100, Status.MISSED),
    (0.90, 0.10, 0.99, 0.40, Direction.AT_LEAST, 29, Status.INSUFFICIENT_DATA),
    (45.0, 40.0, 50.0, 50.0, Direction.AT_MOST, 100, Status.MET),
    (55.0, 48.0, 62.0, 50.0, Direction.AT_MOST, 100, Status.AT_RISK),
    (70.0, 60.0, 80.0, 50.0, Direction.AT_MOST, 100, Status.MISSED),
])
def test_judge_rules(estimate, low, high, target, direction, n, expected):
    status, reason = judge(estimate, low, high, target, direction, n, min_n=30)
    assert status is expected
    if expected is Status.INSUFFICIENT_DATA:
        assert reason == "n = 29 is below the minimum of 30"


@pytest.mark.parametrize("target,min_n,expected", [
    (0.35, 30, Status.MET),            # 0.40 >= 0.35
    (0.45, 30, Status.AT_RISK),        # 0.40 < 0.45, Wilson [0.309, 0.498] contains 0.45
    (0.55, 30, Status.MISSED),         # the interval excludes 0.55
    (0.35, 101, Status.INSUFFICIENT_DATA),
])
def test_rate_check_statuses_on_40_of_100(target, min_n, expected):
    spec = make_spec(funnel={"targets": {"lead->customer": target}}, analysis={"min_n": min_n})
    check = sla_checks(flag_leads(), spec, AS_OF).get("rate lead->customer")
    low, high = proportion_confint(40, 100, alpha=0.05, method="wilson")
    print(f"\nrate 40/100 vs {target}: {check.status.value} [{check.low:.4f}, {check.high:.4f}] {check.reason}")
    assert check.status is expected
    assert (check.estimate, check.n, check.basis) == (0.4, 100, "plain_rate")
    assert abs(check.low - low) < 1e-9 and abs(check.high - high) < 1e-9
    assert check.code is (Reason.INSUFFICIENT_N if expected is Status.INSUFFICIENT_DATA else Reason.NO_TIMESTAMPS)


def test_not_applicable_when_the_data_lacks_what_a_check_needs():
    spec = make_spec(objectives={"customers": 30}, follow_up={"stage": "lead"},
                     kpis={"cost_per_lead": {"max": 50}, "revenue": {"min": 1000}})
    checks = sla_checks(flag_leads(), spec, AS_OF)
    na = {c.name: (c.status, c.reason, c.code) for c in checks.checks if c.status is Status.NOT_APPLICABLE}
    print("\n" + checks.to_frame()[["name", "status", "reason"]].to_string())
    assert na == {
        "volume customers": (Status.NOT_APPLICABLE, "pacing needs created_at and customer_at timestamps",
                             Reason.NO_TIMESTAMPS),
        "follow-up lead within 24h": (Status.NOT_APPLICABLE, "no first_touch_at column mapped", Reason.NO_COLUMN),
        "kpi cost_per_lead": (Status.NOT_APPLICABLE, "no spend table", Reason.NO_SPEND),
        "kpi revenue": (Status.NOT_APPLICABLE, "no revenue column mapped", Reason.NO_COLUMN),
    }
    assert checks.counts()["NOT_APPLICABLE"] == 4 and math.isnan(checks.get("kpi cost_per_lead").estimate)


@pytest.mark.parametrize("max_cost,expected", [(45, Status.MET), (38, Status.AT_RISK), (30, Status.MISSED)])
def test_cost_per_lead_with_poisson_interval(max_cost, expected):
    # 100 leads, spend 4,000 in the period (a row outside it is ignored): 40 per lead.
    # Garwood 95 % for a count of 100: [81.364, 121.627] -> cost interval [4000/121.627, 4000/81.364] = [32.89, 49.16]
    spend = pd.DataFrame({"date": pd.to_datetime(["2027-01-05", "2027-01-20", "2026-12-31"]),
                          "channel": "a", "campaign": None, "spend": [1500.0, 2500.0, 999.0]})
    spec = make_spec(kpis={"cost_per_lead": {"max": max_cost}})
    check = kpi_checks(flag_leads(), spec, AS_OF, spend)[0]
    print(f"\ncost per lead {check.estimate:.2f} [{check.low:.2f}, {check.high:.2f}] vs max {max_cost}: "
          f"{check.status.value}")
    assert check.estimate == pytest.approx(40.0)
    assert check.low == pytest.approx(4000 / 121.627, abs=0.01) and check.high == pytest.approx(4000 / 81.364, abs=0.01)
    assert check.status is expected and check.direction is Direction.AT_MOST and check.n == 100


def test_cac_below_min_n_and_both_bounds_give_two_checks():
    spend = pd.DataFrame({"date": pd.to_datetime(["2027-01-05"]), "channel": "a", "campaign": None, "spend": [4000.0]})
    spec = make_spec(kpis={"cac": {"min": 50, "max": 200}})
    checks = {c.name: c for c in kpi_checks(flag_leads(won=20), spec, AS_OF, spend)}
    assert set(checks) == {"kpi cac (max)", "kpi cac (min)"}
    # 20 customers < min_n 30: no verdict, but the figures are kept (4000 / 20 = 200)
    assert all(c.status is Status.INSUFFICIENT_DATA and c.estimate == 200.0 for c in checks.values())


def test_revenue_kpi_is_the_observed_total():
    leads = flag_leads(100, 40).assign(revenue=np.where(np.arange(100) < 40, 50.0, np.nan))
    spec = make_spec(kpis={"revenue": {"min": 1500}})
    check = kpi_checks(leads, spec, AS_OF, None)[0]
    assert (check.estimate, check.n, check.status) == (2000.0, 40, Status.MET)
    low_spec = make_spec(kpis={"revenue": {"min": 2500}})
    assert kpi_checks(leads, low_spec, AS_OF, None)[0].status is Status.MISSED


@pytest.mark.parametrize("target,expected", [(4, Status.MET), (5, Status.MISSED)])
def test_volume_after_the_deadline_is_the_actual_count(target, expected):
    spec = make_spec(objectives={"customers": target})
    check = volume_checks(dated_leads(), spec, AS_OF)[0]
    assert (check.estimate, check.low, check.high, check.basis) == (4.0, 4.0, 4.0, "actual")
    assert check.status is expected


@pytest.mark.parametrize("probability,expected", [(0.85, Status.MET), (0.6, Status.AT_RISK), (0.3, Status.MISSED)])
def test_volume_before_the_deadline_uses_pacing_probability(probability, expected):
    spec = make_spec(objectives={"customers": 12})
    as_of = pd.Timestamp("2027-01-31")  # two wins so far, 40 leads >= min_n 30
    paced = pace(dated_leads(), spec, as_of)
    assert paced.status is not Status.INSUFFICIENT_DATA
    stub = paced.__class__(**{**{f: getattr(paced, f) for f in paced.__dataclass_fields__},
                              "probability": probability})
    check = volume_checks(dated_leads(), spec, as_of, pacing=stub)[0]
    assert check.status is expected and check.basis == "pacing"
    assert f"P(reach 12) = {probability:.0%}" in check.reason


def test_volume_with_too_few_leads_is_insufficient():
    spec = make_spec(objectives={"customers": 12}, analysis={"min_n": 50})
    check = volume_checks(dated_leads(), spec, pd.Timestamp("2027-01-21"))[0]
    assert check.status is Status.INSUFFICIENT_DATA and check.code is Reason.INSUFFICIENT_N


def test_results_collection_renders():
    spec = make_spec(funnel={"targets": {"lead->customer": 0.35}})
    checks = sla_checks(flag_leads(), spec, AS_OF)
    assert isinstance(checks, ChecksResult)
    assert checks.to_frame()["status"].tolist() == ["MET"]
    assert checks.to_dict()["checks"][0]["status"] == "MET"
    assert "<table" in checks._repr_html_()
    with pytest.raises(KeyError, match="no check 'x'; have \\['rate lead->customer'\\]"):
        checks.get("x")
