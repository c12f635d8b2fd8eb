"""Degenerate data never crashes and never yields a silent nonsense estimate: every case gives a reason code."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from sla_toolkit.errors import Reason
from sla_toolkit.models import AdjustedEffects, LeadScorer, TimeToConvert, score_open_leads


def binomial_frame(n: int = 400, seed: int = 0, rate: float = 0.3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"channel": rng.choice(["a", "b", "c"], n), "region": rng.choice(["x", "y"], n),
                         "converted_in_window": rng.random(n) < rate})


def survival_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = binomial_frame(n, seed)
    frame["duration_days"] = rng.exponential(20, n).round(1)
    frame["event"] = rng.random(n) < 0.4
    return frame


def assert_cannot_fit(model, reason: Reason, message: str):
    result = model.result_
    assert not result.fitted and not model.fitted_
    assert result.reason == reason, result.message
    assert message in result.message
    json.dumps(result.to_dict())                       # still renders
    assert f"cannot fit ({reason.value})" in result._repr_html_()


# -- adjusted effects (GLM) -----------------------------------------------------------------------
def test_glm_no_conversions():
    frame = binomial_frame().assign(converted_in_window=False)
    model = AdjustedEffects(["channel", "region"]).fit(frame)
    assert_cannot_fit(model, Reason.NO_EVENTS, "none of the 400 leads converted")
    assert list(model.summary.columns)[:4] == ["term", "column", "level", "role"] and model.summary.empty
    assert model.params_.empty


def test_glm_all_conversions():
    model = AdjustedEffects(["channel"]).fit(binomial_frame().assign(converted_in_window=True))
    assert_cannot_fit(model, Reason.ALL_EVENTS, "all 400 leads converted")


def test_glm_single_level():
    model = AdjustedEffects(["channel"]).fit(binomial_frame().assign(channel="a"))
    assert_cannot_fit(model, Reason.SINGLE_LEVEL, "nothing to compare")
    assert "channel has a single value in the data and is left out" in model.result_.notes


def test_glm_single_level_column_is_dropped_while_others_fit():
    model = AdjustedEffects(["channel", "region"]).fit(binomial_frame().assign(region="x"))
    assert model.fitted_ and set(model.reference_levels_) == {"channel"}
    assert "region has a single value in the data and is left out" in model.result_.notes


def test_glm_no_matured_leads():
    frame = binomial_frame().assign(matured=False)
    assert_cannot_fit(AdjustedEffects(["channel"]).fit(frame), Reason.INSUFFICIENT_N, "no matured leads")


def test_glm_every_level_separated():
    frame = binomial_frame()
    frame["converted_in_window"] = frame["channel"] == "a"
    model = AdjustedEffects(["channel"]).fit(frame)
    assert_cannot_fit(model, Reason.PERFECT_SEPARATION, "every level is separated")
    assert set(model.summary["role"]) == {"separated"} and model.summary["odds_ratio"].isna().all()


def test_glm_numeric_column_separates_on_its_own():
    frame = binomial_frame()
    frame["score"] = np.linspace(0, 1, len(frame))
    frame["converted_in_window"] = frame["score"] > 0.5
    model = AdjustedEffects(["channel", "score"]).fit(frame)
    assert_cannot_fit(model, Reason.PERFECT_SEPARATION, "score alone separates converters")


def test_glm_combination_of_columns_separates():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x1": rng.normal(size=300), "x2": rng.normal(size=300)})
    frame["converted_in_window"] = frame["x1"] + frame["x2"] > 0      # neither column alone separates
    model = AdjustedEffects(["x1", "x2"]).fit(frame)
    assert_cannot_fit(model, Reason.PERFECT_SEPARATION, "fitted probabilities of 0 or 1")


def test_glm_fewer_rows_than_parameters():
    frame = pd.DataFrame({"channel": ["a", "b", "c", "d", "a"], "region": ["x", "y", "z", "x", "y"],
                          "converted_in_window": [True, False, True, False, False]})
    model = AdjustedEffects(["channel", "region"]).fit(frame)
    assert_cannot_fit(model, Reason.TOO_FEW_ROWS, "5 rows for 6 parameters")


def test_glm_not_converged():
    model = AdjustedEffects(["channel", "region"], max_iter=1).fit(binomial_frame())
    assert_cannot_fit(model, Reason.NOT_CONVERGED, "did not converge within 1 iterations")


# -- lead scoring ---------------------------------------------------------------------------------
@pytest.mark.parametrize("rate, reason, message", [
    (0.0, Reason.NO_EVENTS, "none of the 400 leads converted"),
    (1.0, Reason.ALL_EVENTS, "all 400 leads converted"),
])
def test_scoring_no_or_all_conversions(rate, reason, message):
    frame = binomial_frame().assign(converted_in_window=rate == 1.0)
    assert_cannot_fit(LeadScorer(["channel", "region"]).fit(frame), reason, message)


def test_scoring_too_few_conversions_for_cross_validation():
    frame = binomial_frame().assign(converted_in_window=False)
    frame.loc[:2, "converted_in_window"] = True
    model = LeadScorer(["channel", "region"]).fit(frame)
    assert_cannot_fit(model, Reason.INSUFFICIENT_N, "5-fold cross-validation needs at least 5 of each")


def test_scoring_single_level_and_no_columns():
    single = LeadScorer(["channel"]).fit(binomial_frame().assign(channel="a"))
    assert_cannot_fit(single, Reason.SINGLE_LEVEL, "every input column has a single value")
    leaky_only = LeadScorer(["channel"], leaky=["channel"]).fit(binomial_frame())
    assert_cannot_fit(leaky_only, Reason.NO_COLUMN, "no input column left")
    assert leaky_only.excluded_ == ("channel",)


def test_open_leads_of_an_unfitted_scorer_get_no_probability():
    frame = binomial_frame().assign(converted_in_window=False, matured=True, converted=False, lead_id="x")
    frame.loc[:9, "matured"] = False
    scorer = LeadScorer(["channel"]).fit(frame)
    scores = score_open_leads(scorer, frame)
    assert not scores.fitted and scores.reason == Reason.NO_EVENTS
    assert len(scores.scores) == 10 and scores.scores["probability"].isna().all()
    with pytest.raises(ValueError, match="no model to score with"):
        scorer.predict_proba(frame)


# -- time to convert (Cox) ------------------------------------------------------------------------
def test_cox_no_events():
    model = TimeToConvert(["channel"]).fit(survival_frame().assign(event=False))
    assert_cannot_fit(model, Reason.NO_EVENTS, "none of the 400 leads converted")


def test_cox_no_timestamps():
    model = TimeToConvert(["channel"]).fit(survival_frame().assign(duration_days=np.nan))
    assert_cannot_fit(model, Reason.NO_TIMESTAMPS, "no lead has a known time to convert")


def test_cox_single_level():
    model = TimeToConvert(["channel"]).fit(survival_frame().assign(channel="a"))
    assert_cannot_fit(model, Reason.SINGLE_LEVEL, "nothing to compare")


def test_cox_fewer_events_than_parameters():
    frame = survival_frame().assign(event=False)
    frame["x1"], frame["x2"] = np.linspace(0, 1, len(frame)), np.cos(np.arange(len(frame)))
    frame.loc[frame.index[frame["channel"] == "a"][0], "event"] = True
    frame.loc[frame.index[frame["channel"] == "b"][0], "event"] = True
    frame.loc[frame.index[frame["channel"] == "c"][0], "event"] = True
    model = TimeToConvert(["channel", "x1", "x2"]).fit(frame)
    assert_cannot_fit(model, Reason.TOO_FEW_ROWS, "3 conversions for 4 parameters")


def test_cox_level_without_conversions_is_left_out_and_every_level_but_one():
    frame = survival_frame()
    frame.loc[frame["channel"] == "c", "event"] = False
    model = TimeToConvert(["channel", "region"]).fit(frame)
    assert model.fitted_
    row = model.summary.set_index("term").loc["channel[c]"]
    assert row["role"] == "separated" and row["events"] == 0 and np.isnan(row["hazard_ratio"])
    frame.loc[frame["channel"] == "b", "event"] = False
    model = TimeToConvert(["channel"]).fit(frame)
    assert_cannot_fit(model, Reason.PERFECT_SEPARATION, "every level but one has no conversions")


def test_cox_not_converged():
    model = TimeToConvert(["channel", "region"], max_iter=1).fit(survival_frame())
    assert_cannot_fit(model, Reason.NOT_CONVERGED, "did not converge within 1 iterations")
