"""Speed-ups of the analysis (round 4 of issue [9]) against the straightforward computation each replaces."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sla_toolkit.adjusted import NO_COHORT, creation_cohorts
from sla_toolkit.breakdowns import level_categories, level_labels
from sla_toolkit.incidence import fit_cif
from sla_toolkit.memo import by_content, content_key
from sla_toolkit.models.design import distinct_rows
from sla_toolkit.pacing import _open_lead_groups
from sla_toolkit.survival import fit_km

RNG = np.random.default_rng(7)


def test_open_lead_groups_equal_unique_over_rows():
    start = RNG.integers(0, 40, 5_000)
    end = start + RNG.integers(0, 60, 5_000)
    factor = RNG.choice([1.0, 1.2344, 1.23449, 2.5, 0.9995], 5_000)
    keys, counts = np.unique(np.stack([start, end, np.round(factor, 3)]), axis=1, return_counts=True)
    pairs, pair_factor, group_counts = _open_lead_groups(start, end, factor)
    np.testing.assert_array_equal(pairs, keys[:2].astype(int))
    np.testing.assert_array_equal(pair_factor, keys[2])
    np.testing.assert_array_equal(group_counts, counts)


def test_creation_cohorts_equal_text_of_each_period():
    created = pd.Series(pd.to_datetime("2025-01-01") + pd.to_timedelta(RNG.integers(0, 300 * 86_400, 2_000), "s"))
    created[::17] = pd.NaT
    for span in (pd.Timedelta(days=300), pd.Timedelta(days=60)):
        sample = created[created.isna() | (created < created.min() + span)]
        text, unit = creation_cohorts(sample)
        freq = "W" if unit == "creation week" else "M"
        expected = sample.dt.to_period(freq).astype(str).where(sample.notna(), NO_COHORT).astype(object)
        pd.testing.assert_series_equal(text, expected, check_names=False)


def test_level_categories_hold_the_labels_and_group_like_text():
    values = pd.Series(RNG.choice(np.array(["b", "a", "10", "2", None], dtype=object), 3_000), dtype=object)
    values[5] = 3   # a number among text: str() of it, as level_labels does
    categorical = level_categories(values)
    text = level_labels(values)
    assert categorical.astype(object).tolist() == text.tolist()
    assert list(categorical.cat.categories) == sorted(set(text))
    y = pd.Series(RNG.random(3_000))
    by_text = y.groupby(text, sort=True).agg(["sum", "count"])
    by_codes = y.groupby(categorical, sort=True, observed=True).agg(["sum", "count"])
    assert by_codes.index.astype(object).tolist() == by_text.index.tolist()
    np.testing.assert_allclose(by_codes.to_numpy(), by_text.to_numpy(), rtol=1e-12)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")   # statsmodels at a last time where n = d
def test_fits_do_not_depend_on_row_order_and_are_remembered():
    duration = RNG.exponential(20, 3_000)
    status = RNG.choice([0, 1, 2], 3_000)
    from statsmodels.duration.survfunc import CumIncidenceRight, SurvfuncRight

    km = fit_km(duration, status == 1)
    reference = SurvfuncRight(duration, (status == 1).astype(float))
    np.testing.assert_allclose(km.surv_prob, reference.surv_prob, rtol=1e-12)
    np.testing.assert_allclose(km.surv_prob_se, reference.surv_prob_se, rtol=1e-12)
    cif = fit_cif(duration, status)
    reference_cif = CumIncidenceRight(duration, status)
    np.testing.assert_allclose(cif.cinc[0], reference_cif.cinc[0], rtol=1e-12)
    np.testing.assert_allclose(cif.cinc_se[0], reference_cif.cinc_se[0], rtol=1e-12)
    assert fit_cif(duration.copy(), status.copy()) is cif        # equal content: the same fit
    assert fit_cif(duration, status, remember=False) is not cif
    changed = duration.copy()
    changed[0] += 1e-9
    assert fit_cif(changed, status) is not cif


def test_content_key_tells_dtype_shape_and_bytes_apart():
    a = np.arange(6, dtype=np.int64)
    assert content_key(a) == content_key(a.copy())
    assert content_key(a) != content_key(a.astype(np.float64))
    assert content_key(a) != content_key(a.reshape(2, 3))
    assert content_key(a, a) != content_key(a)
    calls = []

    @by_content(size=2)
    def twice(x):
        calls.append(1)
        return x * 2

    for values in ([1, 2], [1, 2], [3], [4], [1, 2]):
        twice(np.array(values))
    assert len(calls) == 4   # [1, 2] remembered once, then pushed out by [3] and [4]
    import threading

    other = threading.Thread(target=lambda: twice(np.array([1, 2])))
    other.start()
    other.join()
    assert len(calls) == 5   # another thread remembers its own results


def test_km_events_equal_the_table_of_statsmodels():
    from statsmodels.duration.survfunc import SurvfuncRight

    from sla_toolkit.pacing import km_events

    duration = np.round(RNG.exponential(10, 4_000), 1)   # many ties, events and censorings on the same days
    event = RNG.random(4_000) < 0.4
    duration[:5] = np.nan
    table = km_events(duration, event)
    fit = SurvfuncRight(duration[5:], event[5:].astype(float))
    np.testing.assert_array_equal(table.times, fit.surv_times)
    np.testing.assert_array_equal(table.events, fit.n_events)
    np.testing.assert_array_equal(table.at_risk, fit.n_risk)
    np.testing.assert_allclose(table.survival, fit.surv_prob, rtol=1e-12)
    assert table.n == 3_995 and table.longest == np.nanmax(duration)


def test_analyse_forgets_the_fits_it_remembered():
    from sla_toolkit.datasets import GeneratorSettings, generate_campaign
    from sla_toolkit.memo import remembered_count
    from sla_toolkit.pipeline import analyse, lead_data_from_frames

    campaign = generate_campaign(GeneratorSettings().with_expected_leads(600))
    data = lead_data_from_frames(campaign.spec, campaign.leads, campaign.spend)
    from sla_toolkit.survival import fit_km

    fit_km(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    assert remembered_count() >= 1
    analyse(data, as_of=campaign.as_of, with_models=False)
    assert remembered_count() == 0


def test_distinct_rows_rebuild_every_row_with_missing_values_equal():
    rng = np.random.default_rng(3)
    matrix = np.column_stack([rng.integers(0, 4, 500).astype(float), rng.choice([0.5, 1.5, np.nan], 500),
                              rng.integers(0, 3, 500).astype(float)])
    distinct, inverse = distinct_rows(matrix)
    np.testing.assert_array_equal(distinct[inverse], matrix)            # NaN compares equal here
    assert len(distinct) == len(pd.DataFrame(matrix).drop_duplicates()) <= 4 * 3 * 3


@pytest.mark.parametrize("nonlinear", [False, True])   # logistic regression, then gradient boosting, chosen
def test_scores_computed_once_per_distinct_input_equal_the_pipeline_on_every_row(nonlinear):
    from sla_toolkit.models import LeadScorer

    rng = np.random.default_rng(5)
    n = 4_000
    channel = rng.choice(["ads", "email", "events", "web"], n)
    pages = rng.integers(0, 12, n).astype(float)
    pages[rng.random(n) < 0.05] = np.nan
    log_odds = np.where((pages > 4) & (pages < 8), 1.8, -1.5) if nonlinear else -2.0 + 0.3 * np.nan_to_num(pages)
    frame = pd.DataFrame({"channel": pd.Series(channel, dtype="str"), "pages": pages,
                          "converted_in_window": rng.random(n) < 1 / (1 + np.exp(-log_odds))})
    scorer = LeadScorer(["channel", "pages"], folds=3).fit(frame)
    assert scorer.chosen_ == ("gradient_boosting" if nonlinear else "logistic_regression")
    unseen = frame.assign(channel=np.where(np.arange(n) % 7 == 0, "print", frame["channel"]))
    every_row = scorer.pipeline_.predict_proba(scorer._inputs(unseen).to_numpy(float))[:, 1]
    np.testing.assert_array_equal(scorer.predict_proba(unseen), every_row)


def _two_stage_spec():
    from sla_toolkit.spec import SlaSpec

    return SlaSpec.model_validate({"name": "t", "period": {"start": "2025-01-01", "end": "2025-03-31"},
                                   "funnel": {"stages": ["lead", "customer"], "targets": {"lead->customer": 0.2},
                                              "windows_days": {"customer": 10}}})


def test_transition_outcomes_by_hand_with_missing_dates_negative_gaps_and_time_zones():
    from sla_toolkit.outcomes import transition_outcomes

    created = pd.to_datetime(["2025-01-01", "2025-01-01", "2025-01-25", "2025-01-28", None, "2025-01-05"])
    won = pd.to_datetime(["2025-01-04 12:00", None, None, "2025-01-27 00:00", None, "2025-01-20 00:00"])
    leads = pd.DataFrame({"lead_at": created, "reached_lead": [True] * 5 + [False],
                          "customer_at": won, "reached_customer": [True, False, False, True, False, True]})
    as_of = pd.Timestamp("2025-02-04")
    out = transition_outcomes(leads, _two_stage_spec(), "lead", "customer", as_of)
    assert out["entered"].tolist() == [True, True, True, True, True, False]
    assert out["matured"].tolist() == [True, True, True, False, False, False]     # 10 days by Feb 4: Jan 25 yes
    assert out["converted_in_window"].tolist() == [True, False, False, True, False, False]
    np.testing.assert_array_equal(out["duration_days"], [3.5, 34.0, 10.0, 0.0, np.nan, np.nan])  # gap < 0 -> 0
    assert out["event"].tolist() == [True, False, False, True, False, False]
    aware = leads.assign(lead_at=created.tz_localize("UTC").tz_convert("America/New_York"),
                         customer_at=won.tz_localize("UTC").tz_convert("Asia/Tokyo"))
    pd.testing.assert_frame_equal(
        transition_outcomes(aware, _two_stage_spec(), "lead", "customer", as_of.tz_localize("UTC")), out)
