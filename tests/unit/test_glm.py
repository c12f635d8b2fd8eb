"""Adjusted effects (binomial GLM): aggregated = row-level, statsmodels cross-checks, recovery and coverage."""
from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from sla_toolkit.models import MISSING_LEVEL, AdjustedEffects, NotFittedError, outcome_frame

matplotlib.use("Agg")

# Vectorised logistic generator: levels, sampling shares and log-odds effects per column.
TRUTH = {
    "channel": (["a", "b", "c", "d", "e"], [0.35, 0.25, 0.2, 0.12, 0.08], [0.0, 0.4, -0.3, 0.6, -0.5]),
    "region": (["x", "y", "z"], [0.5, 0.3, 0.2], [0.0, 0.25, -0.2]),
    "lead_type": (["in", "out"], [0.6, 0.4], [0.0, -0.35]),
}
INTERCEPT, PAGES_SLOPE = -1.5, 0.15


def generate(n: int, seed: int, numeric: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame, log_odds = {}, np.full(n, INTERCEPT)
    for name, (levels, shares, effects) in TRUTH.items():
        codes = rng.choice(len(levels), size=n, p=shares)
        frame[name] = np.asarray(levels, dtype=object)[codes]
        log_odds += np.asarray(effects)[codes]
    if numeric:
        frame["pages"] = rng.poisson(3.0, n).astype(float)
        log_odds += PAGES_SLOPE * frame["pages"]
    frame["converted_in_window"] = rng.random(n) < 1 / (1 + np.exp(-log_odds))
    return pd.DataFrame(frame).astype({name: "str" for name in TRUTH})


def true_odds_ratio(row: pd.Series, references: dict[str, str]) -> float:
    if row["role"] == "numeric":
        return float(np.exp(PAGES_SLOPE))
    levels, _, effects = TRUTH[row["column"]]
    effect = dict(zip(levels, effects))
    return float(np.exp(effect[row["level"]] - effect[references[row["column"]]]))


def test_aggregated_equals_row_level_on_sample_data():
    from sla_toolkit.datasets import load_example_leads

    data = load_example_leads()
    frame = outcome_frame(data.leads, data.spec, as_of=pd.Timestamp(data.spec.period.end), from_stage="lead",
                          to_stage="mql")
    columns = ["channel", "region", "lead_type"]
    aggregated = AdjustedEffects(columns).fit(frame)
    row_level = AdjustedEffects(columns, aggregate=False).fit(frame)
    assert aggregated.result_.aggregated and not row_level.result_.aggregated
    assert aggregated.result_.n_patterns < 100 < row_level.result_.n_patterns
    difference = (aggregated.params_ - row_level.params_).abs().max()
    print(f"\nsample data, lead->mql: {aggregated.result_.n_rows} matured leads in "
          f"{aggregated.result_.n_patterns} patterns; largest coefficient difference {difference:.1e}")
    assert difference < 1e-8
    a, r = aggregated.summary.set_index("term"), row_level.summary.set_index("term")
    assert np.allclose(a["std_err"].dropna(), r["std_err"].dropna(), rtol=1e-6)
    assert (a["n"] == r["n"]).all() and (a["conversions"] == r["conversions"]).all()


def test_row_level_fit_matches_statsmodels_formula_glm():
    frame = generate(4000, seed=11)
    model = AdjustedEffects(list(TRUTH), aggregate=False).fit(frame)
    refs = model.reference_levels_
    formula = "y ~ " + " + ".join(f"C({c}, Treatment(reference='{refs[c]}'))" for c in TRUTH)
    reference = smf.glm(formula, data=frame.assign(y=frame["converted_in_window"].astype(float)),
                        family=sm.families.Binomial()).fit()
    expected = {"Intercept": reference.params["Intercept"]}
    for name, value in reference.params.items():
        if name != "Intercept":
            column = name.split(",")[0][2:]
            expected[f"{column}[{name.split('[T.')[1][:-1]}]"] = value
    assert model.params_.to_dict() == pytest.approx(expected, abs=1e-8)
    s = model.summary.set_index("term")
    assert s.loc["channel[b]", "p_value"] == pytest.approx(
        reference.pvalues["C(channel, Treatment(reference='a'))[T.b]"], rel=1e-6)


def test_reference_is_most_frequent_level_and_missing_is_a_level():
    frame = generate(6000, seed=2)
    frame.loc[:299, "region"] = None
    model = AdjustedEffects(list(TRUTH)).fit(frame)
    assert model.reference_levels_ == {"channel": "a", "region": "x", "lead_type": "in"}
    s = model.summary.set_index("term")
    assert s.loc["channel[a]", "role"] == "reference" and s.loc["channel[a]", "odds_ratio"] == 1.0
    assert s.loc[f"region[{MISSING_LEVEL}]", "n"] == 300
    assert s.loc["channel[d]", "n"] == (frame["channel"] == "d").sum()
    assert any("reference levels (most frequent): channel=a" in note for note in model.result_.notes)


def test_recovers_known_odds_ratios_on_a_large_sample():
    frame = generate(200_000, seed=5)
    model = AdjustedEffects(list(TRUTH)).fit(frame)
    rows = model.summary.loc[model.summary["role"] == "level"]
    truth = rows.apply(true_odds_ratio, axis=1, references=model.reference_levels_)
    error = (np.log(rows["odds_ratio"]) - np.log(truth)).abs()
    assert (error < 3 * rows["std_err"]).all() and (rows["std_err"] < 0.04).all()


def test_numeric_features_on_patterns_equal_row_level_and_rows_missing_them_are_left_out():
    """A count feature (pages viewed) gives few patterns: the fit on patterns equals the row-level fit to 1e-8;
    a continuous feature gives as many patterns as rows, and the fit stays row-level."""
    frame = generate(5000, seed=8, numeric=True)
    frame.loc[:9, "pages"] = np.nan
    model = AdjustedEffects([*TRUTH, "pages"]).fit(frame)
    row_level = AdjustedEffects([*TRUTH, "pages"], aggregate=False).fit(frame)
    assert model.fitted_ and model.result_.aggregated and not row_level.result_.aggregated
    assert model.result_.n_patterns < 500 and model.result_.n_rows == row_level.result_.n_rows == 4990
    assert (model.params_ - row_level.params_).abs().max() < 1e-8
    a, r = model.summary.set_index("term"), row_level.summary.set_index("term")
    assert a["std_err"].to_numpy() == pytest.approx(r["std_err"].to_numpy(), rel=1e-6, nan_ok=True)
    assert a[["n", "conversions"]].equals(r[["n", "conversions"]])
    assert "10 rows missing a numeric value are left out" in model.result_.notes
    assert model.summary.set_index("term").loc["pages", "role"] == "numeric"
    frame["pages"] = frame["pages"] + np.random.default_rng(0).random(len(frame))
    continuous = AdjustedEffects([*TRUTH, "pages"]).fit(frame)
    assert continuous.fitted_ and not continuous.result_.aggregated


def test_aliased_level_is_left_out_with_a_note():
    frame = generate(3000, seed=4)
    frame["housing"] = np.where(np.arange(3000) < 100, "unknown", np.where(np.arange(3000) % 2, "yes", "no"))
    frame["loan"] = np.where(np.arange(3000) < 100, "unknown", np.where(np.arange(3000) % 3, "yes", "no"))
    model = AdjustedEffects(["channel", "housing", "loan"]).fit(frame)
    s = model.summary.set_index("term")
    assert model.fitted_
    assert s.loc["loan[unknown]", "role"] == "aliased" and np.isnan(s.loc["loan[unknown]", "coef"])
    assert s.loc["housing[unknown]", "role"] == "level" and np.isfinite(s.loc["housing[unknown]", "coef"])
    assert any(note.startswith("loan[unknown] is a linear combination") for note in model.result_.notes)


def test_leaky_columns_excluded_absent_columns_noted_and_open_leads_left_out():
    frame = generate(3000, seed=6).assign(revenue=1.0)
    frame["matured"] = np.arange(3000) >= 200
    model = AdjustedEffects(["channel", "revenue", "campaign"], leaky=["revenue"]).fit(frame)
    assert model.excluded_ == ("revenue",)
    assert model.result_.n_rows == 2800
    notes = " | ".join(model.result_.notes)
    assert "left out as leaky (spec.leaky): revenue" in notes and "not in the data, skipped: campaign" in notes
    assert "200 leads whose window has not elapsed are left out" in notes


def test_separated_level_is_reported_and_the_rest_fit_as_without_it():
    frame = generate(4000, seed=9)
    frame.loc[frame["channel"] == "e", "converted_in_window"] = False
    model = AdjustedEffects(list(TRUTH)).fit(frame)
    without = AdjustedEffects(list(TRUTH)).fit(frame.loc[frame["channel"] != "e"])
    row = model.summary.set_index("term").loc["channel[e]"]
    assert row["role"] == "separated" and np.isnan(row["odds_ratio"]) and row["conversions"] == 0
    assert "its rows are left out of the fit" in row["note"]
    assert model.params_.to_dict() == pytest.approx(without.params_.to_dict(), abs=1e-10)


def test_renders_and_refuses_results_before_fit():
    model = AdjustedEffects(list(TRUTH))
    with pytest.raises(NotFittedError, match=r"call \.fit\(frame\) first"):
        _ = model.summary
    model.fit(generate(3000, seed=1))
    payload = json.loads(json.dumps(model.to_dict()))
    assert payload["fitted"] is True and payload["reason"] == "ok" and payload["reference_levels"]["channel"] == "a"
    assert "odds_ratio" in model._repr_html_() and "fitted" in model._repr_html_()
    ax = model.plot_odds_ratios()
    assert len(ax.get_yticklabels()) == 7
    import matplotlib.pyplot as plt
    plt.close("all")


@pytest.mark.slow
@pytest.mark.parametrize("numeric", [False, True], ids=["categorical-aggregated", "with-numeric-row-level"])
def test_95_percent_intervals_cover_the_true_odds_ratios(numeric):
    seeds, covered, per_term = 200, [], {}
    for seed in range(seeds):
        frame = generate(3000, seed=1000 + seed, numeric=numeric)
        model = AdjustedEffects([*TRUTH, "pages"] if numeric else list(TRUTH)).fit(frame)
        assert model.fitted_
        rows = model.summary.loc[model.summary["role"].isin(["level", "numeric"])]
        truth = rows.apply(true_odds_ratio, axis=1, references=model.reference_levels_)
        inside = ((rows["ci_low"] <= truth) & (truth <= rows["ci_high"])).to_numpy()
        covered.extend(inside)
        for term, hit in zip(rows["term"], inside):
            per_term.setdefault(term, []).append(hit)
    coverage = float(np.mean(covered))
    detail = ", ".join(f"{t} {np.mean(h):.3f}" for t, h in per_term.items() if len(h) >= 150)
    print(f"\nGLM 95% interval coverage over {seeds} seeds ({'aggregated' if not numeric else 'row-level'}): "
          f"{coverage:.3f} of {len(covered)} intervals; per term: {detail}")
    assert 0.93 <= coverage <= 0.97
    assert all(np.mean(h) >= 0.9 for h in per_term.values() if len(h) >= 150)
