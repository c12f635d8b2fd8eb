"""Lead scoring: DeLong AUC by hand, model choice, leaky exclusion, calibration, importance, open-lead scores."""
from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from sla_toolkit.errors import Reason
from sla_toolkit.models import LeadScorer, score_open_leads
from sla_toolkit.models.auc import auc_interval, delong_auc

matplotlib.use("Agg")


def scored_frame(n: int, seed: int, nonlinear: bool = False) -> tuple[pd.DataFrame, np.ndarray]:
    """Leads whose conversion depends on channel and pages (linearly, or through a threshold band)."""
    rng = np.random.default_rng(seed)
    channel = rng.choice(["ads", "email", "events", "web"], n)
    pages = rng.uniform(0, 10, n)
    noise = rng.normal(size=n)
    if nonlinear:
        log_odds = np.where((pages > 4) & (pages < 6), 2.0, -2.5) + np.where(channel == "events", 0.8, 0.0)
    else:
        log_odds = -2.0 + 0.35 * pages + np.select([channel == "email", channel == "events"], [-0.8, 0.7], 0.0)
    truth = 1 / (1 + np.exp(-log_odds))
    frame = pd.DataFrame({"lead_id": [f"L{i}" for i in range(n)], "channel": channel, "pages": pages,
                          "noise": noise, "converted_in_window": rng.random(n) < truth})
    return frame.astype({"channel": "str"}), truth


def test_delong_matches_pairwise_structural_components_and_sklearn_auc():
    rng = np.random.default_rng(0)
    y = rng.random(60) < 0.4
    score = np.round(rng.normal(size=60) + y, 1)             # rounding creates ties
    pos, neg = score[y], score[~y]
    wins = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = wins.mean(axis=1), wins.mean(axis=0)
    expected_var = v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg)
    auc, std_err = delong_auc(y, score)
    assert auc == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    assert auc == pytest.approx(wins.mean(), abs=1e-12)
    assert std_err == pytest.approx(np.sqrt(expected_var), rel=1e-12)
    low, high = auc_interval(auc, std_err, 0.95)
    assert high - auc == pytest.approx(norm.ppf(0.975) * std_err)
    assert auc_interval(0.99, 0.05) == (pytest.approx(0.99 - norm.ppf(0.975) * 0.05), 1.0)
    with pytest.raises(ValueError, match="at least 2 converters"):
        delong_auc(np.array([True, False, False]), np.array([0.1, 0.2, 0.3]))


def test_scorer_reaches_the_oracle_auc_on_a_linear_signal_and_beats_no_skill_brier():
    frame, truth = scored_frame(3000, seed=1)
    scorer = LeadScorer(["channel", "pages", "noise"]).fit(frame)
    s = scorer.summary.set_index("model")
    oracle = roc_auc_score(frame["converted_in_window"], truth)
    best = s.loc[scorer.chosen_]
    base = frame["converted_in_window"].mean()
    print(f"\nlinear signal: oracle AUC {oracle:.3f}; " + "; ".join(
        f"{m} AUC {r.auc:.3f} [{r.auc_low:.3f}, {r.auc_high:.3f}] Brier {r.brier:.4f}" for m, r in s.iterrows()))
    assert oracle - 0.03 < best["auc"] <= oracle + 0.02
    assert best["auc_low"] < best["auc"] < best["auc_high"] and best["fold_auc_min"] <= best["fold_auc_max"]
    assert (s["brier"] < base * (1 - base)).all()
    assert s["chosen"].sum() == 1 and s.loc[scorer.chosen_, "auc"] == s["auc"].max()
    importance = scorer.result_.importance
    assert importance["feature"].iloc[0] == "pages" and importance.set_index("feature").loc["noise",
                                                                                           "importance_mean"] < 0.01


def test_gradient_boosting_wins_on_a_nonlinear_signal():
    frame, _ = scored_frame(3000, seed=2, nonlinear=True)
    scorer = LeadScorer(["channel", "pages"]).fit(frame)
    s = scorer.summary.set_index("model")
    assert scorer.chosen_ == "gradient_boosting"
    assert s.loc["gradient_boosting", "auc"] > s.loc["logistic_regression", "auc"] + 0.1


def test_leaky_column_is_excluded_automatically():
    frame, _ = scored_frame(2000, seed=3)
    frame["call_seconds"] = frame["converted_in_window"] * 300 + np.arange(len(frame)) % 50
    leaky = LeadScorer(["channel", "pages", "call_seconds"], leaky=["call_seconds"]).fit(frame)
    trusting = LeadScorer(["channel", "pages", "call_seconds"]).fit(frame)
    assert leaky.excluded_ == ("call_seconds",) and leaky.result_.excluded == ("call_seconds",)
    assert "call_seconds" not in leaky.result_.features
    assert "left out as leaky (spec.leaky): call_seconds" in leaky.result_.notes
    assert trusting.summary["auc"].max() > 0.99 > leaky.summary["auc"].max()


def test_calibration_curve_per_model():
    frame, _ = scored_frame(3000, seed=4)
    result = LeadScorer(["channel", "pages"], calibration_bins=5).fit(frame).result_
    calibration = result.calibration
    assert set(calibration["model"]) == {"logistic_regression", "gradient_boosting"}
    assert calibration.groupby("model").size().max() <= 5
    logistic = calibration.loc[calibration["model"] == "logistic_regression"]
    assert np.abs(logistic["observed"] - logistic["mean_predicted"]).max() < 0.08


def test_open_leads_are_scored_and_conditioned_on_time_already_open():
    frame, _ = scored_frame(2000, seed=5)
    frame["matured"] = True
    frame["converted"] = frame["converted_in_window"]
    frame["event"] = frame["converted"]
    frame["duration_days"] = np.where(frame["converted"], np.arange(len(frame)) % 4 + 1.0, 90.0)
    frame.loc[:19, ["matured", "converted", "event", "converted_in_window"]] = False
    frame.loc[:19, "duration_days"] = 2.0                     # open for 2 days so far
    frame.loc[20, "channel"] = "podcast"                    # a level never seen in training
    scorer = LeadScorer(["channel", "pages"]).fit(frame)
    scores = score_open_leads(scorer, frame)
    assert scores.fitted and scores.reason == Reason.OK and len(scores.scores) == 20
    p = scorer.predict_proba(frame.iloc[:20])
    assert np.allclose(scores.scores["probability"], p)
    past = frame.loc[frame["matured"] & frame["converted_in_window"], "duration_days"]
    elapsed = (past <= 2.0).mean()                             # share of past conversions made by day 2
    assert np.sort(past.to_numpy()) == pytest.approx(scorer.conversion_days_)
    assert np.allclose(scores.scores["probability_given_open"], p * (1 - elapsed) / (1 - p * elapsed))
    assert scores.expected_conversions == pytest.approx(scores.scores["probability_given_open"].sum())
    assert np.isfinite(scorer.predict_proba(frame.iloc[[20]])).all()


def test_renders_dict_html_and_plots():
    frame, _ = scored_frame(1500, seed=6)
    scorer = LeadScorer(["channel", "pages"]).fit(frame)
    payload = json.loads(json.dumps(scorer.to_dict()))
    assert payload["chosen"] == scorer.chosen_ and "DeLong" in payload["auc_interval"]
    assert "auc" in scorer._repr_html_()
    assert len(scorer.plot_calibration().lines) == 3
    assert len(scorer.plot_importance().patches) == 2
    import matplotlib.pyplot as plt
    plt.close("all")


def test_above_the_sample_size_the_scorer_fits_a_stratified_sample_whose_interval_holds_the_full_auc():
    """100,000 matured leads: the default fit uses a 50,000-row stratified sample, says so, keeps the
    conversion share, and the AUC of the same scorer on all rows lies inside the sample's interval."""
    from sla_toolkit.models.scoring import SCORING_SAMPLE_ROWS

    frame, _ = scored_frame(100_000, 11)
    frame["matured"] = True
    sampled = LeadScorer(["channel", "pages"], importance_repeats=1, folds=3).fit(frame).result_
    full = LeadScorer(["channel", "pages"], importance_repeats=1, folds=3, max_rows=None).fit(frame).result_
    assert sampled.n_rows == SCORING_SAMPLE_ROWS and sampled.sampled_from == 100_000 and full.sampled_from == 0
    share = frame["converted_in_window"].mean()
    assert abs(sampled.n_events / sampled.n_rows - share) < 1 / SCORING_SAMPLE_ROWS
    assert any("stratified random sample of 50,000 of the 100,000 matured leads" in n for n in sampled.notes)
    chosen = sampled.summary.set_index("model").loc[sampled.chosen]
    full_auc = full.summary.set_index("model").loc[sampled.chosen, "auc"]
    assert chosen["auc_low"] <= full_auc <= chosen["auc_high"]
    assert chosen["auc_high"] - chosen["auc_low"] < 0.02
