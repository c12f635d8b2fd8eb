"""Censoring-aware conversion and time to convert: hand-computed KM, statsmodels cross-checks, Olist."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats
from statsmodels.duration.survfunc import SurvfuncRight

from sla_toolkit.errors import Reason
from sla_toolkit.incidence import ProjectionMethod
from sla_toolkit.spec import load_spec, spec_from_dict
from sla_toolkit.survival import (RateBasis, _median_with_interval, conversion_rates, default_transitions, fit_km,
                                  km_conversion_at, km_projection, time_to_convert)

DURATIONS = np.array([1, 2, 2, 3, 4, 5, 6, 7], dtype=float)
EVENTS = np.array([1, 1, 0, 1, 0, 1, 0, 0], dtype=bool)
AS_OF = pd.Timestamp("2027-02-01")


def test_km_values_equal_statsmodels_and_hand_product():
    # hand: S(1) = 7/8, S(2) = 7/8 * 6/7, S(3) = S(2) * 4/5, S(5) = S(3) * 2/3
    hand = {0.5: 1.0, 1: 7 / 8, 2: 6 / 8, 3: 0.6, 4: 0.6, 5: 0.4, 7: 0.4}
    reference = SurvfuncRight(DURATIONS, EVENTS.astype(float))
    at = km_conversion_at(fit_km(DURATIONS, EVENTS), list(hand))
    for (t, surv), conversion in zip(hand.items(), at["conversion"]):
        assert abs(conversion - (1 - surv)) < 1e-9
        index = np.searchsorted(reference.surv_times, t, side="right") - 1
        assert abs(conversion - (1 - (reference.surv_prob[index] if index >= 0 else 1.0))) < 1e-9
    curve = km_conversion_at(reference, reference.surv_times)
    np.testing.assert_allclose(curve["conversion"], 1 - reference.surv_prob, atol=1e-9, rtol=0)
    np.testing.assert_allclose(curve["standard_error"], reference.surv_prob_se, atol=1e-9, rtol=0)


def test_km_interval_is_cloglog_with_greenwood_error():
    # Greenwood at t = 3: S^2 * (1/(8*7) + 1/(7*6) + 1/(5*4))
    surv = 0.6
    se = surv * math.sqrt(1 / 56 + 1 / 42 + 1 / 20)
    theta_se = se / (surv * abs(math.log(surv)))
    z = scipy_stats.norm.ppf(0.975)
    surv_low = math.exp(-math.exp(math.log(-math.log(surv)) + z * theta_se))
    surv_high = math.exp(-math.exp(math.log(-math.log(surv)) - z * theta_se))
    projection = km_projection(DURATIONS, EVENTS, window_days=4)
    print(f"\nKM 1-S(4) = {projection.estimate:.6f} [{projection.low:.6f}, {projection.high:.6f}] (cloglog)")
    assert projection.estimate == pytest.approx(0.4, abs=1e-12)
    assert projection.standard_error == pytest.approx(se, abs=1e-12)
    assert projection.low == pytest.approx(1 - surv_high, abs=1e-12)
    assert projection.high == pytest.approx(1 - surv_low, abs=1e-12)
    assert (projection.n, projection.events, projection.transform) == (8, 3, "cloglog")


def test_no_conversion_yet_falls_back_to_wilson_on_those_at_risk():
    projection = km_projection([3.0, 5.0, 8.0], [False, False, False], window_days=4)
    assert projection.estimate == 0.0 and projection.low == 0.0
    assert projection.reason is Reason.NO_EVENTS
    # two leads were followed for at least 4 days: Wilson upper bound of 0/2
    assert projection.high == pytest.approx(scipy_stats.norm.ppf(0.975) ** 2 / (2 + scipy_stats.norm.ppf(0.975) ** 2))


def two_stage_spec(min_n=3, **extra):
    return spec_from_dict({"name": "t", "period": {"start": "2027-01-01", "end": "2027-02-28"},
                           "funnel": {"stages": ["lead", "customer"], "windows_days": {"customer": 10}},
                           "analysis": {"min_n": min_n}, **extra})


def two_stage_leads():
    """Hand-made: see test_transition_rates_by_hand for each lead's fate at 2027-02-01."""
    created = ["2027-01-01", "2027-01-02", "2027-01-03", "2027-01-05", "2027-01-25", "2027-01-28", "2027-01-30",
               "2027-02-05", "2027-01-10"]
    won = ["2027-01-05", "2027-01-20", None, None, "2027-01-27", None, None, None, "2027-02-10"]
    lost = [None, None, None, "2027-01-08", None, None, "2027-01-31", None, None]
    leads = pd.DataFrame({"lead_id": list("ABCDEFGHI"),
                          "created_at": pd.to_datetime(created).astype("datetime64[us]"),
                          "customer_at": pd.to_datetime(won).astype("datetime64[us]"),
                          "lost_at": pd.to_datetime(lost).astype("datetime64[us]"),
                          "channel": ["x", "x", "y", "y", "x", "y", "x", "x", "y"]})
    leads["reached_lead"], leads["lead_at"] = True, leads["created_at"]
    leads["reached_customer"] = leads["customer_at"].notna()
    return leads


def test_transition_rates_by_hand():
    # at 02-01: H not created yet; I's win (02-10) not happened yet. Entered: A B C D E F G I (8).
    # naive: A, B, E converted -> 3/8. Matured (created by 01-22): A B C D I; within 10 days: A only -> 1/5.
    # Losses are recorded (D lost 01-08, G 01-31): cumulative incidence, loss a competing event.
    # Times: G 1 (lost), E 2 (won), D 3 (lost), A 4 (won), F 4 (open), B 18 (won), I 22, C 29 (open).
    #   F(2) = S(1) * 1/7 = 7/8 * 1/7 = 1/8; S(3) = 7/8 * 6/7 * 5/6 = 5/8; F(4) = 1/8 + 5/8 * 1/5 = 1/4.
    #   Projection within 10 days: 1/4. Open: F only.
    item = conversion_rates(two_stage_leads(), two_stage_spec(), AS_OF).get("lead->customer")
    print(f"\nhand table: naive {item.naive.estimate:.4f}, matured {item.matured.estimate:.4f}, "
          f"projected {item.projected.estimate:.4f}, open {item.share_open:.4f}")
    assert (item.naive.successes, item.naive.n) == (3, 8)
    assert (item.matured.successes, item.matured.n) == (1, 5)
    assert item.projected.estimate == pytest.approx(1 / 4, abs=1e-12)
    assert item.projected.method is ProjectionMethod.CUMULATIVE_INCIDENCE
    assert (item.n_open, item.share_open) == (1, pytest.approx(1 / 8))
    # without recorded losses, Kaplan–Meier: D and G are open (durations 27 and 2):
    #   S(2) = 7/8, S(4) = 7/8 * 5/6 = 35/48 -> 13/48
    unrecorded = conversion_rates(two_stage_leads().drop(columns=["lost_at"]), two_stage_spec(), AS_OF)
    assert unrecorded.get("lead->customer").projected.estimate == pytest.approx(13 / 48, abs=1e-12)
    assert unrecorded.get("lead->customer").projected.method is ProjectionMethod.KAPLAN_MEIER
    # 5 matured >= min_n 3 and >= half of 8: the matured-cohort rate is the verdict basis
    assert item.basis is RateBasis.MATURED and item.estimate == pytest.approx(0.2) and item.n == 5


def test_projection_is_the_basis_when_few_leads_have_matured():
    item = conversion_rates(two_stage_leads(), two_stage_spec(min_n=6), AS_OF).get("lead->customer")
    assert item.basis is RateBasis.PROJECTED
    assert (item.estimate, item.n) == (pytest.approx(1 / 4), 8)
    assert "only 5 of 8 leads have matured" in item.note
    assert "cumulative incidence, losses as a competing event" in item.note


def test_flag_only_stages_fall_back_to_the_plain_rate():
    leads = two_stage_leads().drop(columns=["customer_at", "lead_at"]).assign(created_at=pd.NaT)
    item = conversion_rates(leads, two_stage_spec(), AS_OF).get("lead->customer")
    assert item.basis is RateBasis.PLAIN and item.reason is Reason.NO_TIMESTAMPS
    assert item.projected.reason is Reason.NO_TIMESTAMPS
    # nothing can be replayed without dates: every lead and every flag is kept (4 won of 9)
    assert (item.naive.successes, item.naive.n) == (4, 9) and item.estimate == pytest.approx(4 / 9)


def test_default_transitions_add_overall_and_targeted_pairs():
    spec = spec_from_dict({"name": "t", "period": {"start": "2027-01-01", "end": "2027-02-28"},
                           "funnel": {"stages": ["lead", "mql", "sql", "customer"], "targets": {"lead->sql": 0.2}}})
    assert default_transitions(spec) == [("lead", "mql"), ("mql", "sql"), ("sql", "customer"),
                                         ("lead", "customer"), ("lead", "sql")]


def test_time_to_convert_by_hand():
    result = time_to_convert(two_stage_leads(), two_stage_spec(), AS_OF)
    row = result.summary.set_index(["transition", "group"]).loc[("lead->customer", "all")]
    # converted so far: E 2, A 4, B 18 days -> median 4. Cumulative incidence (see
    # test_transition_rates_by_hand): F(2) = 1/8, F(4) = 1/4, F(18) = 1/4 + S(4) * 1/3 = 1/4 + 1/2 * 1/3;
    # F(10) = 1/4, half of it (1/8) is reached at t = 2
    assert result.method is ProjectionMethod.CUMULATIVE_INCIDENCE
    assert "competing event" in result.title
    assert row["median_days_converted"] == 4 and row["km_median_days"] == 2
    assert row["converted_within_7"] == 2 and row["converted_within_30"] == 3
    assert row["share_within_7"] == pytest.approx(1 / 4)
    assert set(result.summary["group"]) == {"all", "x", "y"}
    curve = result.curves.query("group == 'all'")
    assert curve["conversion"].tolist() == pytest.approx([1 / 8, 1 / 4, 5 / 12])
    # without recorded losses: Kaplan–Meier, F(10) = 13/48, half of it reached at t = 4
    km = time_to_convert(two_stage_leads().drop(columns=["lost_at"]), two_stage_spec(), AS_OF)
    km_row = km.summary.set_index(["transition", "group"]).loc[("lead->customer", "all")]
    assert km.method is ProjectionMethod.KAPLAN_MEIER and km_row["km_median_days"] == 4
    assert km_row["share_within_7"] == pytest.approx(13 / 48)
    assert km.curves.query("group == 'all'")["conversion"].tolist() == pytest.approx([1 / 8, 13 / 48, 1 - 105 / 192])


def test_median_interval_from_order_statistics():
    # n = 10: lower rank k = 2 (P(Bin(10, .5) <= 1) = 0.0107 < 0.025), so [x(2), x(9)], coverage 97.9 %
    median, low, high = _median_with_interval(np.arange(1.0, 11.0), 0.95)
    assert (median, low, high) == (5.5, 2.0, 9.0)


def olist_table(folder):
    """The canonical table built directly: MQLs left-joined with won deals on mql_id."""
    mqls = pd.read_csv(folder / "olist_marketing_qualified_leads_dataset.csv")
    deals = pd.read_csv(folder / "olist_closed_deals_dataset.csv", usecols=["mql_id", "won_date"])
    joined = mqls.merge(deals, on="mql_id", how="left", validate="one_to_one")
    leads = pd.DataFrame({"lead_id": joined["mql_id"],
                          "created_at": pd.to_datetime(joined["first_contact_date"]).astype("datetime64[us]"),
                          "channel": joined["origin"]})
    leads["reached_mql"], leads["mql_at"] = True, leads["created_at"]
    leads["customer_at"] = pd.to_datetime(joined["won_date"]).astype("datetime64[us]")
    leads["reached_customer"] = leads["customer_at"].notna()
    return leads


def test_olist_naive_matured_and_projected_rates(olist_dir, repo):
    spec = load_spec(repo / "data" / "examples" / "olist" / "sla.yaml")  # mql -> customer, window 180 days
    leads = olist_table(olist_dir)
    latest = leads["customer_at"].max()
    timing = time_to_convert(leads, spec, latest).summary.set_index(["transition", "group"])
    won = timing.loc[("mql->customer", "all")]
    print(f"\nOlist among won deals: median {won['median_days_converted']:.2f} days "
          f"[{won['median_low']:.2f}, {won['median_high']:.2f}], won within 30 days: {int(won['converted_within_30'])}, "
          f"KM median among those won within 180 days: {won['km_median_days']:.2f}")
    assert round(won["median_days_converted"], 1) == 14.7
    assert won["converted_within_30"] == 547
    assert (won["converted_within_90"], won["events"]) == (691, 842)
    for as_of in (latest, pd.Timestamp("2018-05-31")):
        item = conversion_rates(leads, spec, as_of).get("mql->customer")
        print(f"Olist as of {as_of:%Y-%m-%d}: naive {item.naive.estimate:.2%} ({item.naive.successes}/"
              f"{item.naive.n}), matured-cohort {item.matured.estimate:.2%} ({item.matured.successes}/"
              f"{item.matured.n}), KM projection {item.projected.estimate:.2%} [{item.projected.low:.2%}, "
              f"{item.projected.high:.2%}], still open {item.share_open:.1%}; verdict basis {item.basis.value}")
        assert item.matured.estimate != pytest.approx(item.naive.estimate, abs=0.005)
        assert item.projected.estimate != pytest.approx(item.naive.estimate, abs=0.005)
        if as_of == latest:
            assert (item.naive.successes, item.naive.n) == (842, 8000)
            assert item.naive.estimate == pytest.approx(0.10525)
    # at the period end the May cohorts are days old: the naive rate is far below the projection
    assert item.share_open > 0.5 and item.projected.estimate > item.naive.estimate + 0.01


def test_before_the_first_conversion_no_lead_counts_as_matured():
    # at 01-04 only A, B, C exist (created 01-01..01-03) and nobody has won yet: too early to tell,
    # not a 0 % rate over three "matured" leads
    item = conversion_rates(two_stage_leads(), two_stage_spec(min_n=1), pd.Timestamp("2027-01-04")) \
        .get("lead->customer")
    assert (item.naive.successes, item.naive.n) == (0, 3)
    assert item.matured.n == 0 and item.n_open == 3
    assert item.basis is RateBasis.PROJECTED and item.projected.reason is Reason.NO_EVENTS


def test_cohorts_that_share_no_follow_up_with_a_conversion_are_not_compared_instead_of_crashing():
    """Found by hypothesis (tests/property/test_funnel_properties.py): four leads created on day 0 that never
    converted, one created on day 15, one converted on day 16; at day 30 only the day-0 leads have matured and
    the one conversion falls when the recent lead is not yet followed, so the log-rank variance is 0."""
    from sla_toolkit.cohort_agreement import cohort_agreement

    outcomes = pd.DataFrame({"entered": [True] * 6, "matured": [True] * 4 + [False, True],
                             "duration_days": [30.0] * 4 + [15.0, 16.0], "event": [False] * 5 + [True]})
    agreement = cohort_agreement(outcomes, 30, 0.05)
    assert np.isnan(agreement.p_value) and not agreement.differ
    assert (agreement.matured_n, agreement.recent_n) == (5, 1) and "cannot be compared" in agreement.words
