"""Time to win with losses as a competing event: Aalen–Johansen by hand, statsmodels' standard error,
a generated pipeline where Kaplan–Meier overstates and the cumulative incidence recovers the truth."""
import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats
from statsmodels.duration.survfunc import CumIncidenceRight, SurvfuncRight

from sla_toolkit.datasets.deals import competing_deals, competing_truth, pipeline_spec
from sla_toolkit.incidence import (LOST, ProjectionMethod, cif_conversion_at, competing_outcomes, fit_cif,
                                   win_standard_error)
from sla_toolkit.outcomes import transition_outcomes
from sla_toolkit.report.sections import conversion_table, time_to_convert_block
from sla_toolkit.survival import cif_projection, conversion_rates, time_to_convert

# ten deals: (days, outcome) with W won, L lost, C still open; ties of a win and a loss at 2, two losses at 4
TABLE = [(1, "W"), (2, "L"), (2, "W"), (3, "C"), (4, "L"), (4, "L"), (5, "W"), (6, "C"), (7, "W"), (8, "L")]
pytestmark = pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning",
                                        "ignore:invalid value:RuntimeWarning")  # statsmodels at n = d, see below
DAYS = np.array([d for d, _ in TABLE], dtype=float)
STATUS = np.array([{"C": 0, "W": 1, "L": 2}[o] for _, o in TABLE])


def aalen_johansen_by_hand() -> dict[float, float]:
    """F(t) = sum over event times s <= t of S(s-) * wins(s) / at_risk(s), S the KM of either decision.

    t=1: n 10, 1 win          F = 1/10            S = 9/10
    t=2: n 9, 1 win, 1 loss   F += 9/10 * 1/9     S = 9/10 * 7/9 = 7/10
    t=3: open lead leaves
    t=4: n 6, 2 losses                            S = 7/10 * 4/6 = 7/15
    t=5: n 4, 1 win           F += 7/15 * 1/4     S = 7/15 * 3/4 = 7/20
    t=6: open lead leaves
    t=7: n 2, 1 win           F += 7/20 * 1/2     S = 7/40
    t=8: n 1, 1 loss                              S = 0
    """
    f1 = 1 / 10
    f2 = f1 + 9 / 10 * 1 / 9
    f5 = f2 + 7 / 15 * 1 / 4
    f7 = f5 + 7 / 20 * 1 / 2
    return {0.5: 0.0, 1: f1, 2: f2, 3: f2, 4: f2, 5: f5, 6: f5, 7: f7, 8: f7, 9: f7}


def test_cumulative_incidence_equals_aalen_johansen_by_hand():
    hand = aalen_johansen_by_hand()
    assert hand[9] == pytest.approx(59 / 120, abs=1e-15)
    at = cif_conversion_at(fit_cif(DAYS, STATUS), list(hand))
    np.testing.assert_allclose(at["conversion"], list(hand.values()), atol=1e-10, rtol=0)
    # Kaplan–Meier censoring the losses at their date overstates: S(7) = 9/10 * 8/9 * 3/4 * 1/2 = 3/10,
    # so 1 - S = 0.7 against a cumulative incidence of 59/120 = 0.49
    censored_at_loss = SurvfuncRight(DAYS, (STATUS == 1).astype(float))
    assert 1 - censored_at_loss.surv_prob[-1] == pytest.approx(0.7, abs=1e-12)


def test_standard_error_is_statsmodels_and_defined_after_a_last_tied_decision():
    fit = fit_cif(DAYS, STATUS)
    reference = CumIncidenceRight(DAYS, STATUS)
    defined = np.isfinite(reference.cinc_se[0])
    # at t = 8 the one lead at risk is lost (n = d): statsmodels' expansion gives inf - inf there
    assert not defined[-1] and defined[:-1].all()
    mine = win_standard_error(fit, np.asarray(reference.cinc[0]))
    np.testing.assert_allclose(mine[defined], reference.cinc_se[0][defined], atol=1e-12, rtol=0)
    assert math.isfinite(mine[-1]) and mine[-1] == pytest.approx(mine[-2], rel=0.5)
    rng = np.random.default_rng(4)
    days, status = np.round(rng.exponential(10, 60)), rng.choice([0, 1, 2], 60)
    other = CumIncidenceRight(days, status)
    ok = np.isfinite(other.cinc_se[0])
    np.testing.assert_allclose(win_standard_error(other, np.asarray(other.cinc[0]))[ok], other.cinc_se[0][ok],
                               atol=1e-12, rtol=0)


def test_projection_interval_is_loglog_from_the_standard_error():
    projection = cif_projection(DAYS, STATUS, window_days=5)
    f5, se = aalen_johansen_by_hand()[5], float(CumIncidenceRight(DAYS, STATUS).cinc_se[0][4])
    z = scipy_stats.norm.ppf(0.975)
    theta, theta_se = math.log(-math.log(f5)), se / (f5 * abs(math.log(f5)))
    assert projection.estimate == pytest.approx(19 / 60, abs=1e-12)
    assert projection.standard_error == pytest.approx(se, abs=1e-12)
    assert projection.low == pytest.approx(math.exp(-math.exp(theta + z * theta_se)), abs=1e-12)
    assert projection.high == pytest.approx(math.exp(-math.exp(theta - z * theta_se)), abs=1e-12)
    assert projection.method is ProjectionMethod.CUMULATIVE_INCIDENCE
    assert (projection.n, projection.events, projection.transform) == (10, 3, "loglog")


def test_heavy_fast_losses_kaplan_meier_overstates_and_cumulative_incidence_recovers_the_truth():
    truth = competing_truth()              # 0.3 * P(Gamma(2, 10) <= 45) = 0.2817
    leads, as_of = competing_deals(seed=0), pd.Timestamp("2025-07-20")
    spec = pipeline_spec()                 # lead -> customer, 45-day window
    item = conversion_rates(leads, spec, as_of).get("lead->customer")
    projection = item.projected
    end = leads["customer_at"].fillna(leads["lost_at"]).fillna(as_of)
    naive = SurvfuncRight(((end - leads["created_at"]) / pd.Timedelta(days=1)).to_numpy(float),
                          leads["reached_customer"].to_numpy(float))
    naive_within = 1 - naive.surv_prob[np.searchsorted(naive.surv_times, 45, side="right") - 1]
    print(f"\ntruth {truth:.4f}; cumulative incidence {projection.estimate:.4f} [{projection.low:.4f}, "
          f"{projection.high:.4f}]; 1 - KM with losses censored at their date {naive_within:.4f}")
    assert projection.method is ProjectionMethod.CUMULATIVE_INCIDENCE
    assert projection.low <= truth <= projection.high
    assert abs(projection.estimate - truth) < 0.02
    assert naive_within > truth + 0.4


def test_a_loss_known_only_from_its_status_is_decided_at_the_end_of_its_follow_up():
    spec = pipeline_spec()
    as_of = pd.Timestamp("2025-07-20")
    leads = competing_deals(seed=1, n=200)
    status_only = leads.drop(columns=["lost_at"])
    outcomes = transition_outcomes(status_only, spec, "lead", "customer", as_of)
    decided = competing_outcomes(outcomes, status_only, spec, "lead")
    lost = status_only["lost"]
    assert (decided.loc[lost, "status"] == LOST).all()
    np.testing.assert_allclose(decided.loc[lost, "duration_days"], outcomes.loc[lost, "duration_days"])
    with_dates = competing_outcomes(transition_outcomes(leads, spec, "lead", "customer", as_of), leads, spec, "lead")
    assert (with_dates.loc[lost, "duration_days"] < decided.loc[lost, "duration_days"]).all()


def test_report_names_the_method():
    spec = pipeline_spec()
    as_of = pd.Timestamp("2025-07-20")
    leads = competing_deals(seed=2, n=400)
    competing = SimpleNamespace(time_to_convert=time_to_convert(leads, spec, as_of),
                                conversion=conversion_rates(leads, spec, as_of))
    text = time_to_convert_block(competing) + conversion_table(competing)
    assert "cumulative incidence, losses as a competing event" in text and "median days (CIF" in text
    assert "Kaplan–Meier projection" not in text
    without = leads.drop(columns=["lost", "lost_at"])
    plain = SimpleNamespace(time_to_convert=time_to_convert(without, spec, as_of),
                            conversion=conversion_rates(without, spec, as_of))
    text = time_to_convert_block(plain) + conversion_table(plain)
    assert "Kaplan–Meier, open leads censored" in text and "competing" not in text


def test_no_loss_and_no_win_gives_a_neutral_projection():
    projection = cif_projection([3.0, 5.0, 8.0], [0, 0, 0], window_days=4)
    assert projection.estimate == 0.0 and projection.low == 0.0 and projection.reason.value == "no_events"
    assert projection.high == pytest.approx(scipy_stats.norm.ppf(0.975) ** 2 / (2 + scipy_stats.norm.ppf(0.975) ** 2))
