"""Time to convert (Cox PH): statsmodels cross-check, recovery of known hazard ratios, censoring from the lead table."""
from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from sla_toolkit.models import TimeToConvert, outcome_frame
from sla_toolkit.spec import spec_from_dict

matplotlib.use("Agg")

HAZARD_RATIOS = {"web": 1.0, "events": 2.0, "email": 0.5}


def exponential_frame(n: int, seed: int) -> pd.DataFrame:
    """Conversion times with channel hazard ratios; censored at a uniform follow-up time."""
    rng = np.random.default_rng(seed)
    channel = rng.choice(list(HAZARD_RATIOS), n, p=[0.5, 0.3, 0.2])
    region = rng.choice(["north", "south"], n)
    rate = 0.02 * np.vectorize(HAZARD_RATIOS.get)(channel) * np.where(region == "south", 1.5, 1.0)
    time = rng.exponential(1 / rate)
    follow_up = rng.uniform(10, 120, n)
    return pd.DataFrame({"channel": channel, "region": region, "duration_days": np.minimum(time, follow_up),
                         "event": time <= follow_up}).astype({"channel": "str", "region": "str"})


def test_matches_statsmodels_phreg_formula():
    frame = exponential_frame(1500, seed=1)
    model = TimeToConvert(["channel", "region"], whole_days=False).fit(frame)
    ref = model.reference_levels_
    assert ref["channel"] == "web"                             # the most frequent channel
    reference = smf.phreg(f"duration_days ~ C(channel, Treatment('{ref['channel']}')) + "
                          f"C(region, Treatment('{ref['region']}'))", data=frame,
                          status=frame["event"].astype(int).to_numpy(), ties="efron").fit()
    names = reference.model.exog_names
    expected = {f"{n[2:n.index(',')]}[{n.split('[T.')[1][:-1]}]": v for n, v in zip(names, reference.params)}
    expected_se = {f"{n[2:n.index(',')]}[{n.split('[T.')[1][:-1]}]": v for n, v in zip(names, reference.bse)}
    assert model.params_.to_dict() == pytest.approx(expected, abs=1e-8)
    s = model.summary.set_index("term")
    assert s.loc[list(expected_se), "std_err"].to_dict() == pytest.approx(expected_se, rel=1e-6)


def test_recovers_known_hazard_ratios():
    frame = exponential_frame(6000, seed=2)
    model = TimeToConvert(["channel", "region"]).fit(frame)
    s = model.summary.set_index("term")
    print("\nCox hazard ratios (true events 2.0, email 0.5, south 1.5): " + ", ".join(
        f"{t} {r.hazard_ratio:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]" for t, r in s.iterrows() if r.role == "level"))
    for term, truth in [("channel[events]", 2.0), ("channel[email]", 0.5), ("region[south]", 1.5)]:
        assert abs(s.loc[term, "coef"] - np.log(truth)) < 3 * s.loc[term, "std_err"]
        assert s.loc[term, "ci_low"] < truth < s.loc[term, "ci_high"]
    assert s.loc["channel[web]", "role"] == "reference" and s.loc["channel[web]", "n"] == (frame.channel == "web").sum()
    assert s.loc["channel[email]", "events"] == frame.loc[frame.channel == "email", "event"].sum()


def test_fits_on_the_outcome_frame_with_censoring_at_as_of():
    spec = spec_from_dict({"name": "t", "period": {"start": "2024-01-01", "end": "2024-06-30"},
                           "funnel": {"stages": ["mql", "customer"], "windows_days": {"customer": 60}},
                           "segments": ["region"]})
    rng = np.random.default_rng(3)
    n = 600
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 150, n), unit="D")
    delay = pd.to_timedelta(rng.exponential(40, n).round(), unit="D")
    won = (created + delay).where(rng.random(n) < 0.5)
    as_of = pd.Timestamp("2024-06-30")
    won = won.where(won <= as_of)
    leads = pd.DataFrame({"lead_id": [f"L{i}" for i in range(n)], "created_at": created, "reached_mql": True,
                          "mql_at": created, "reached_customer": won.notna(), "customer_at": won,
                          "channel": rng.choice(["a", "b"], n), "region": rng.choice(["x", "y"], n)})
    frame = outcome_frame(leads, spec, as_of)
    model = TimeToConvert.from_spec(spec).fit(frame)
    assert model.fitted_ and model.result_.n_rows == n and model.result_.n_events == int(won.notna().sum())
    open_lead = frame.loc[~frame["converted"]].iloc[0]
    assert open_lead["duration_days"] == (as_of - leads.loc[~leads["reached_customer"], "created_at"].iloc[0]).days
    assert set(model.reference_levels_) == {"channel", "region"}


def test_renders_dict_html_and_plot():
    model = TimeToConvert(["channel", "region"]).fit(exponential_frame(1000, seed=4))
    payload = json.loads(json.dumps(model.to_dict()))
    assert payload["model"] == "time_to_convert" and payload["fitted"] is True
    assert "hazard_ratio" in model._repr_html_()
    assert len(model.plot_hazard_ratios().get_yticklabels()) == 3
    import matplotlib.pyplot as plt
    plt.close("all")


def test_whole_days_equal_phreg_on_every_row_in_days_and_stay_close_to_exact_times():
    """100,000 leads: the default fit (times in whole days) is statsmodels' PHReg on every row with
    ceil(duration) to 1e-8; on 20,000 it is within a tenth of a standard error of the fit on exact times
    (the exact-time fit is the slow one this option avoids)."""
    from statsmodels.duration.hazard_regression import PHReg

    frame = exponential_frame(100_000, seed=5)
    days = TimeToConvert(["channel", "region"]).fit(frame)
    assert "whole days" in days.result_.message
    design = np.column_stack([frame["channel"] == "events", frame["channel"] == "email", frame["region"] == "south"])
    reference = PHReg(np.ceil(frame["duration_days"].to_numpy()), design.astype(float),
                      status=frame["event"].astype(int).to_numpy(), ties="efron").fit()
    terms = ["channel[events]", "channel[email]", "region[south]"]
    assert days.params_[terms].to_numpy() == pytest.approx(reference.params, abs=1e-8)
    s = days.summary.set_index("term")
    assert s.loc[terms, "std_err"].to_numpy() == pytest.approx(reference.bse, rel=1e-6)
    small = frame.iloc[:20_000]
    days = TimeToConvert(["channel", "region"]).fit(small)
    exact = TimeToConvert(["channel", "region"], whole_days=False).fit(small)
    assert list(days.params_.index) == list(exact.params_.index)
    estimated = days.summary.set_index("term").loc[days.params_.index, "std_err"]
    assert (days.params_ - exact.params_).abs().max() < 0.1 * estimated.min()


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_counts_fit_equals_phreg_on_every_row_with_a_numeric_covariate(ties):
    """The partial likelihood from tied counts (patterns × days) is PHReg on every row: estimates and
    standard errors to 1e-8, for either handling of ties, with a count-valued numeric covariate."""
    frame = exponential_frame(20_000, seed=6)
    frame["visits"] = np.random.default_rng(6).poisson(2, len(frame)).astype(float)
    on_counts = TimeToConvert(["channel", "region", "visits"], ties=ties).fit(frame)
    on_rows = TimeToConvert(["channel", "region", "visits"], ties=ties, on_counts=False).fit(frame)
    assert "tied event-time counts" in on_counts.result_.message
    assert "tied event-time counts" not in on_rows.result_.message
    assert list(on_counts.params_.index) == list(on_rows.params_.index)
    assert (on_counts.params_ - on_rows.params_).abs().max() < 1e-8
    a, r = on_counts.summary.set_index("term"), on_rows.summary.set_index("term")
    assert a["std_err"].to_numpy() == pytest.approx(r["std_err"].to_numpy(), rel=1e-8, nan_ok=True)
    assert a["p_value"].to_numpy() == pytest.approx(r["p_value"].to_numpy(), rel=1e-6, abs=1e-300, nan_ok=True)
    assert a[["n", "events"]].equals(r[["n", "events"]])
