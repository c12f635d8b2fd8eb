"""Models and breakdowns on the real datasets in ../shared/data/real (skipped outside CI when missing)."""
from __future__ import annotations

import functools
from pathlib import Path

import pandas as pd
import pytest

from sla_toolkit.breakdowns import MISSING_LEVEL, Verdict, breakdowns
from sla_toolkit.io import load_leads
from sla_toolkit.models import AdjustedEffects, LeadScorer, TimeToConvert, outcome_frame

# ../shared/data/README.md: MQLs and won deals by origin.
OLIST_BY_ORIGIN = {"organic_search": (2296, 271), "paid_search": (1586, 195), "social": (1350, 75),
                   "direct_traffic": (499, 56), "email": (493, 15), "referral": (284, 24),
                   "other": (150, 4), "display": (118, 6), "other_publicities": (65, 3), MISSING_LEVEL: (1099 + 60, 179 + 14)}  # "unknown" is mapped to missing


EXAMPLES = Path(__file__).resolve().parents[2] / "data" / "examples"


@functools.cache
def load_example(name: str):
    """The shipped example mapping through the normal ingest (loaded once per test session)."""
    return load_leads(EXAMPLES / name / "sla.yaml", EXAMPLES / name / "source.yaml")


@pytest.fixture
def bank(bank_dir):
    return load_example("bank_marketing")


@pytest.fixture
def olist(olist_dir):
    return load_example("olist")


def test_bank_marketing_scoring_without_duration_is_chosen_out_of_time(bank):
    leads, spec = bank.leads, bank.spec
    assert len(leads) == 41_176 and len(bank.quarantine) == 12          # the 12 duplicate rows
    assert "duration" in spec.features and spec.leaky == ["duration"] and spec.analysis.time_order == "row"
    frame = outcome_frame(leads, spec, as_of=None)
    scorer = LeadScorer.from_spec(spec).fit(frame)
    result = scorer.result_
    assert result.fitted and scorer.excluded_ == ("duration",) and "duration" not in result.features
    summary = result.summary.set_index("model")
    print("\nbank marketing in row (time) order, without duration; out-of-time = latest 20% of rows scored by a "
          "model of the earlier 80% (DeLong 95% interval): " + "; ".join(
              f"{m} out-of-time AUC {r.out_of_time_auc:.4f} [{r.out_of_time_low:.4f}, {r.out_of_time_high:.4f}], "
              f"forward-chaining folds {r.fold_auc_min:.3f}-{r.fold_auc_max:.3f}" for m, r in summary.iterrows())
          + f"; chosen {scorer.chosen_}")
    print("top permutation importance (latest rows): " + ", ".join(
        f"{f} {v:.4f}" for f, v in result.importance.head(5)[["feature", "importance_mean"]].itertuples(index=False)))
    assert result.time_order == "row" and scorer.chosen_ == "logistic_regression"
    logistic, boosting = summary.loc["logistic_regression"], summary.loc["gradient_boosting"]
    assert 0.72 < logistic.out_of_time_auc < 0.78 and 0.6 < boosting.out_of_time_auc < 0.7
    assert logistic.out_of_time_low > boosting.out_of_time_high
    assert result.possible_leaks == ()                                   # duration is declared leaky already


def test_bank_marketing_adjusted_effects_of_segments(bank):
    leads, spec = bank.leads, bank.spec
    frame = outcome_frame(leads, spec, as_of=None)
    model = AdjustedEffects(spec.segments).fit(frame)
    s = model.summary.set_index("term")
    telephone, success = s.loc["contact[telephone]", "odds_ratio"], s.loc["poutcome[success]", "odds_ratio"]
    print(f"\nbank marketing GLM on {spec.segments} ({model.result_.n_patterns} patterns): telephone vs "
          f"{model.reference_levels_['contact']} OR {telephone:.3f}, poutcome success vs "
          f"{model.reference_levels_['poutcome']} OR {success:.2f}")
    assert model.result_.aggregated and model.reference_levels_["contact"] == "cellular"
    assert s.loc["contact[telephone]", "ci_high"] < 1 < s.loc["poutcome[success]", "ci_low"]


def test_olist_origin_breakdown_counts_and_bh_flags(olist):
    leads, spec = olist.leads, olist.spec
    as_of = leads["customer_at"].max()                                # the last event in the data
    result = breakdowns(leads, spec, as_of)
    s = result.summary.set_index("level")
    counts = {level: (int(r.n_entered), int(r.n_converted)) for level, r in s.iterrows()}
    assert counts == OLIST_BY_ORIGIN
    with pd.option_context("display.width", 200, "display.max_columns", 30):
        print(f"\nOlist origin breakdown, as of {as_of:%Y-%m-%d}, window {spec.funnel.window('customer')} days, "
              f"min_n {spec.analysis.min_n}:")
        print(s[["n_entered", "n_converted", "n_matured", "conversions", "rate", "lift", "p_value", "q_value",
                 "verdict", "rank"]].round(4).to_string())
    assert s.loc["email", "verdict"] == Verdict.BELOW_REST and s.loc["social", "verdict"] == Verdict.BELOW_REST
    assert s.loc["email", "q_value"] < 0.05 and s.loc["social", "q_value"] < 0.05
    small = s.loc[s["n_matured"] < spec.analysis.min_n]
    assert set(small.index) == {"other_publicities"}   # missing origin (blank + "unknown") has 1,159 leads
    assert (small["verdict"] == Verdict.INSUFFICIENT_DATA).all() and small["rank"].isna().all()
    assert small["p_value"].isna().all() and s["rank"].notna().sum() == len(s) - len(small)


def test_olist_adjusted_effects_and_time_to_convert(olist):
    leads, spec = olist.leads, olist.spec
    frame = outcome_frame(leads, spec, leads["customer_at"].max())
    effects = AdjustedEffects.from_spec(spec).fit(frame)
    cox = TimeToConvert.from_spec(spec).fit(frame)
    e, c = effects.summary.set_index("term"), cox.summary.set_index("term")
    print(f"\nOlist vs {effects.reference_levels_['channel']}: email OR {e.loc['channel[email]', 'odds_ratio']:.3f} "
          f"[{e.loc['channel[email]', 'ci_low']:.3f}, {e.loc['channel[email]', 'ci_high']:.3f}], "
          f"HR {c.loc['channel[email]', 'hazard_ratio']:.3f}; social OR {e.loc['channel[social]', 'odds_ratio']:.3f}, "
          f"HR {c.loc['channel[social]', 'hazard_ratio']:.3f}")
    assert effects.fitted_ and cox.fitted_
    assert e.loc["channel[email]", "ci_high"] < 1 and c.loc["channel[social]", "ci_high"] < 1
    assert cox.result_.n_rows == 8000 and cox.result_.n_events == 842
