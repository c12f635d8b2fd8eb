"""Lead scoring that holds going forward ([7] item 9) and the leak detector ([7] item 10)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from sla_toolkit.models import LeadScorer
from sla_toolkit.models.leaks import leak_table
from sla_toolkit.models.validation import plan_validation, resolve_time_order


def drifting_frame(n: int, seed: int) -> pd.DataFrame:
    """Leads in creation order whose base rate rises over time, with three comparably useful inputs."""
    rng = np.random.default_rng(seed)
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(rng.uniform(0, 365, n)), unit="D")
    t = np.linspace(0, 1, n)
    channel = rng.choice(["ads", "email", "events", "web"], n)
    pages, visits = rng.uniform(0, 10, n), rng.poisson(3, n).astype(float)
    log_odds = (-2.5 + 1.2 * t + 0.15 * pages + 0.25 * visits
                + np.select([channel == "email", channel == "events"], [-0.7, 0.7], 0.0))
    converted = rng.random(n) < 1 / (1 + np.exp(-log_odds))
    return pd.DataFrame({"lead_id": [f"L{i}" for i in range(n)], "created_at": created, "channel": channel,
                         "pages": pages, "visits": visits, "converted_in_window": converted}).astype({"channel": "str"})


def test_forward_chaining_trains_on_the_past_only_and_tests_the_latest_fifth_last():
    y = np.random.default_rng(0).random(1000) < 0.2
    plan = plan_validation(y, "row", folds=5, seed=0)
    assert plan.time_ordered and len(plan.splits) == 4
    for train, test in plan.splits:
        assert train.max() < test.min() and len(test) == 200
    assert list(plan.latest[1]) == list(range(800, 1000)) and list(plan.latest[0]) == list(range(800))
    random_plan = plan_validation(y, "random", folds=5, seed=0)
    assert not random_plan.time_ordered and len(random_plan.splits) == 5
    # a latest block with no conversions cannot give an out-of-time AUC: random folds, said so
    late_zero = y.copy()
    late_zero[800:] = False
    fallback = plan_validation(late_zero, "row", folds=5, seed=0)
    assert not fallback.time_ordered and "random stratified folds are used instead" in fallback.notes[0]


def test_auto_order_uses_creation_dates_when_every_lead_has_one():
    frame = drifting_frame(50, seed=1)
    assert resolve_time_order("auto", frame) == "created_at"
    assert resolve_time_order("auto", frame.drop(columns="created_at")) == "random"
    assert resolve_time_order("row", frame) == "row"
    with pytest.raises(ValueError, match="some leads have no creation date"):
        resolve_time_order("created_at", frame.assign(created_at=pd.NaT))


def test_out_of_time_auc_is_the_latest_fifth_scored_by_a_model_of_the_earlier_leads_and_decides():
    frame = drifting_frame(2000, seed=2)
    shuffled = frame.sample(frac=1, random_state=3)           # the scorer sorts by created_at itself
    scorer = LeadScorer(["channel", "pages", "visits"], time_order="created_at").fit(shuffled)
    result = scorer.result_
    s = result.summary.set_index("model")
    print("\ndrifting leads, forward chaining: " + "; ".join(
        f"{m} out-of-time AUC {r.out_of_time_auc:.3f} [{r.out_of_time_low:.3f}, {r.out_of_time_high:.3f}], "
        f"pooled {r.auc:.3f}" for m, r in s.iterrows()) + f"; chosen {scorer.chosen_}")
    assert result.time_order == "created_at" and "forward-chaining" in result.validation
    assert scorer.chosen_ == s["out_of_time_auc"].idxmax() and s["chosen"].sum() == 1
    # by hand: fit on the earliest 80% (by date), score the latest 20%
    inputs, y = scorer._inputs(frame), frame["converted_in_window"].to_numpy()
    for name, pipeline in scorer._pipelines().items():
        model = clone(pipeline).fit(inputs.iloc[:1600], y[:1600])
        by_hand = roc_auc_score(y[1600:], model.predict_proba(inputs.iloc[1600:])[:, 1])
        assert s.loc[name, "out_of_time_auc"] == pytest.approx(by_hand, abs=1e-9)
        assert s.loc[name, "out_of_time_low"] < by_hand < s.loc[name, "out_of_time_high"]
    assert result.possible_leaks == () and not result.leak_check["possible_leak"].any()   # clean data
    assert result.leak_refit.empty


def test_a_leaking_field_is_flagged_by_name_and_the_refit_without_it_is_shown():
    frame = drifting_frame(1500, seed=4)
    rng = np.random.default_rng(5)
    converted = frame["converted_in_window"].to_numpy()
    # filled in by sales once the deal is decided: "closed" almost only for won leads
    frame["lead_quality"] = np.where(converted & (rng.random(len(frame)) < 0.95), "closed",
                                     rng.choice(["cold", "warm"], len(frame)))
    scorer = LeadScorer(["channel", "pages", "visits", "lead_quality"], time_order="random").fit(frame)
    result = scorer.result_
    refit = result.leak_refit.set_index("inputs")
    print("\nleak check:\n" + result.leak_check.round(3).to_string() + "\n" + result.leak_refit.round(3).to_string())
    assert result.possible_leaks == ("lead_quality",)
    flagged = result.leak_check.set_index("feature").loc["lead_quality"]
    assert flagged["single_feature_auc"] >= 0.95 and "AUC on its own" in flagged["why"]
    assert refit.loc["all", "auc"] > 0.95 > refit.loc["without lead_quality", "auc"] > 0.6
    assert any(n.startswith("possible leak: lead_quality") for n in result.notes)
    saved = json.loads(json.dumps(result.to_dict()))
    assert saved["possible_leaks"] == ["lead_quality"] and len(saved["leak_refit"]) == 2


def test_leak_table_flags_a_column_carrying_most_of_the_importance_of_a_strong_model():
    single = pd.Series({"a": 0.7, "b": 0.6, "c": 0.55})
    importance = pd.DataFrame({"feature": ["a", "b", "c"], "importance_mean": [0.12, 0.05, -0.01]})
    table = leak_table(single, importance, model_auc=0.91).set_index("feature")
    assert table["possible_leak"].to_dict() == {"a": True, "b": False, "c": False}
    assert table.loc["a", "importance_share"] == pytest.approx(0.12 / 0.17)
    assert table.loc["a", "why"] == "71% of the permutation importance of a model with AUC 0.91"
    alone = leak_table(pd.Series({"a": 0.7}), importance.head(1), model_auc=0.91)
    assert not alone["possible_leak"].any()            # a single input always carries all the importance
    weak = leak_table(single, importance, model_auc=0.63)   # the main signal of a weak model is no leak ...
    assert not weak["possible_leak"].any() and weak.set_index("feature").loc["a", "importance_share"] > 0.5
    near = pd.Series({"a": 0.96, "b": 0.6, "c": 0.55})     # ... but a column separating on its own always is
    assert leak_table(near, importance, model_auc=0.63).set_index("feature")["possible_leak"]["a"]


def test_the_strongest_channel_of_a_weak_scorer_is_not_called_a_leak():
    rng = np.random.default_rng(11)
    n = 6_000
    channel = rng.choice(["ads", "email", "events", "web"], n)
    pages = rng.integers(0, 5, n).astype(float)
    log_odds = -1.6 + np.select([channel == "events", channel == "email"], [0.9, -0.6], 0.0) + 0.02 * pages
    frame = pd.DataFrame({"channel": pd.Series(channel, dtype="str"), "pages": pages,
                          "converted_in_window": rng.random(n) < 1 / (1 + np.exp(-log_odds))})
    result = LeadScorer(["channel", "pages"], folds=3, time_order="random").fit(frame).result_
    checked = result.leak_check.set_index("feature")
    assert checked.loc["channel", "importance_share"] > 0.5 and result.summary["auc"].max() < 0.8
    assert result.possible_leaks == () and result.leak_refit.empty


def test_new_spec_keys_are_in_the_json_schema_and_the_readme():
    from pathlib import Path

    from sla_toolkit.schemas import json_schema

    schema = json_schema("sla")
    analysis = schema["$defs"]["Analysis"]["properties"]
    assert {"time_order", "cluster"} <= set(analysis) and "levers" in schema["properties"]
    assert schema["$defs"]["TimeOrder"]["enum"] == ["auto", "created_at", "row", "random"]
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for key in ("analysis.time_order", "analysis.cluster", "levers:"):
        assert key in readme, key
