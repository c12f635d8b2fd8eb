"""The synthetic campaign generator: determinism, invariants, and recovery of its known truth."""
from __future__ import annotations

import dataclasses
import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import yaml
from scipy import special

from sla_toolkit.datasets import (ChannelSettings, GeneratorSettings, PopulationSettings, example_paths,
                                  generate_campaign, write_campaign)
from sla_toolkit.outcomes import as_of_view, transition_outcomes
from sla_toolkit.spec import load_spec
from sla_toolkit.types import reached_column, stage_column

REPO = Path(__file__).resolve().parents[2]
STAGES = ["lead", "mql", "sql", "customer"]


@pytest.fixture(scope="module")
def small():
    return generate_campaign(GeneratorSettings(seed=11).with_expected_leads(3_000).at_mid_period())


@pytest.fixture(scope="module")
def large():
    """200k leads with the default (moderate, everywhere) effects, observed at the period end."""
    return generate_campaign(GeneratorSettings(seed=5).with_expected_leads(200_000))


# -- determinism -----------------------------------------------------------------------------
def test_same_seed_gives_identical_data(small):
    again = generate_campaign(small.settings)
    pd.testing.assert_frame_equal(again.full_leads, small.full_leads)
    pd.testing.assert_frame_equal(again.leads, small.leads)
    pd.testing.assert_frame_equal(again.spend, small.spend)
    assert again.spec == small.spec


def test_different_seeds_give_different_data(small):
    other = generate_campaign(small.settings.with_seed(12))
    assert len(other.full_leads) != len(small.full_leads) or not other.full_leads.equals(small.full_leads)
    assert not np.array_equal(other.full_leads["pages_viewed"].to_numpy()[:500],
                              small.full_leads["pages_viewed"].to_numpy()[:500])
    assert other.truth.rates == small.truth.rates  # the truth depends on the settings, not the seed


# -- the canonical table's invariants --------------------------------------------------------
@pytest.mark.parametrize("table", ["leads", "full_leads"])
def test_contract_invariants(small, table):
    leads = getattr(small, table)
    assert isinstance(leads.index, pd.RangeIndex) and leads["lead_id"].is_unique
    assert leads["lead_id"].dtype == "str" and leads["channel"].dtype == "str"
    assert leads["created_at"].dtype == "datetime64[us]"
    assert (leads["lead_at"] == leads["created_at"]).all() and leads["reached_lead"].all()
    counts = [int(leads[reached_column(s)].sum()) for s in STAGES]
    assert counts == sorted(counts, reverse=True) and counts[-1] > 0
    for earlier, later in zip(STAGES, STAGES[1:]):
        assert (leads[reached_column(later)] <= leads[reached_column(earlier)]).all()
        assert (leads[reached_column(later)] == leads[stage_column(later)].notna()).all()
        both = leads[stage_column(later)].notna()
        assert (leads.loc[both, stage_column(later)] >= leads.loc[both, stage_column(earlier)]).all()
    touched = leads["first_touch_at"].notna()
    assert (leads.loc[touched, "first_touch_at"] >= leads.loc[touched, "mql_at"]).all()
    assert leads["sales_rep"].notna().eq(leads["reached_mql"]).all()
    assert leads["revenue"].notna().eq(leads["reached_customer"]).all() and (leads["revenue"].dropna() > 0).all()
    lost = leads["lost_at"].notna()
    assert not (lost & leads["reached_customer"]).any()
    last_stage_at = leads[[stage_column(s) for s in STAGES]].max(axis=1)
    assert (leads.loc[lost, "lost_at"] > last_stage_at[lost]).all()


def test_observed_table_is_the_full_table_replayed_at_as_of(small):
    assert small.as_of == pd.Timestamp("2025-02-15")
    replayed = as_of_view(small.full_leads, small.spec, small.as_of).reset_index(drop=True)
    pd.testing.assert_frame_equal(small.leads.drop(columns=["revenue", "sales_rep"]),
                                  replayed.drop(columns=["revenue", "sales_rep"]))
    pd.testing.assert_frame_equal(small.observed_at(small.as_of), small.leads)
    events = small.leads.select_dtypes("datetime64[us]")
    assert (events.max() <= small.as_of).all()
    assert small.full_leads["created_at"].max() > small.as_of
    assert (small.spend["date"] < small.as_of).all() and small.full_spend["date"].max() == pd.Timestamp("2025-03-31")


def test_open_leads_exist_at_as_of(small):
    for a, b in zip(STAGES, STAGES[1:]):
        outcome = transition_outcomes(small.leads, small.spec, a, b, small.as_of)
        assert (outcome.entered & ~outcome.matured & ~outcome.converted).sum() > 0, f"{a}->{b}"


def test_delays_are_truncated_to_the_windows(large):
    leads = large.full_leads
    for a, b in zip(STAGES, STAGES[1:]):
        gap_days = ((leads[stage_column(b)] - leads[stage_column(a)]).dropna() / pd.Timedelta(days=1))
        window = large.spec.funnel.window(b)
        assert gap_days.max() <= window and gap_days.min() >= 0
        median = large.settings.transitions[STAGES.index(a)].delay.median_days
        assert gap_days.median() < median  # truncation only shortens the lognormal


def test_heavy_censoring_puts_many_leads_near_as_of():
    campaign = generate_campaign(GeneratorSettings.heavy_censoring(seed=2, expected_leads=10_000))
    created = campaign.leads["created_at"]
    last_third = created >= pd.Timestamp("2025-03-01")
    assert last_third.mean() > 0.45  # growth 1 -> 5 a day puts 30/54 of the mass in the last third
    outcome = transition_outcomes(campaign.leads, campaign.spec, "sql", "customer", campaign.as_of)
    entered = outcome.loc[outcome.entered]
    assert (~entered.matured).mean() > 0.8
    naive_rate = entered.converted.mean()
    assert naive_rate < campaign.truth.rates["sql->customer"] - 0.05  # censoring biases the naive rate low


# -- the truth ------------------------------------------------------------------------------
def test_truth_rates_match_hand_computation():
    channels = (ChannelSettings("a", 0.5), ChannelSettings("b", 0.5))
    base = GeneratorSettings.null(seed=0, n_channels=2)
    first = dataclasses.replace(base.transitions[0], reference_rate=0.2, channel_odds_ratios={"b": 3.0})
    settings = dataclasses.replace(base, population=PopulationSettings(channels=channels),
                                   transitions=(first, *base.transitions[1:]))
    truth = generate_campaign(settings.with_expected_leads(100)).truth
    p_b = special.expit(special.logit(0.2) + math.log(3.0))
    assert truth.rates["lead->mql"] == pytest.approx(0.5 * 0.2 + 0.5 * p_b, abs=1e-12)
    assert truth.rates["mql->sql"] == pytest.approx(0.45, abs=1e-12)  # null transitions: the reference rate
    assert truth.lead_to_customer_rate == pytest.approx((0.5 * 0.2 + 0.5 * p_b) * 0.45 * 0.25, abs=1e-12)
    assert truth.odds_ratio("lead->mql", "channel", "b") == pytest.approx(3.0)
    assert truth.transitions["lead->mql"].references["channel"] == "a"
    rate_b = truth.level_rates.query("factor == 'channel' and level == 'b' and transition == 'lead->mql'")
    assert rate_b["rate"].item() == pytest.approx(p_b)


def test_null_and_planted_truth():
    null = generate_campaign(GeneratorSettings.null(seed=0, expected_leads=1_000)).truth
    assert len(null.transitions) == 3 and set(null.to_frame()["odds_ratio"]) == {1.0}
    assert null.level_rates.query("factor == 'channel'")["level"].nunique() == 8
    planted = generate_campaign(GeneratorSettings.planted(seed=0).with_expected_leads(1_000))
    effects = planted.truth.to_frame().query("odds_ratio != 1")
    assert sorted(map(tuple, effects[["transition", "level", "odds_ratio"]].to_numpy())) == sorted(
        [(t, "referral", 2.0) for t in planted.truth.rates] + [(t, "social", 0.5) for t in planted.truth.rates]
        + [("mql->sql", "late", 0.5)])
    missed = {name for name, t in planted.truth.transitions.items() if t.rate < t.target}
    assert missed == {"sql->customer"}
    assert planted.spec.funnel.targets["sql->customer"] == round(1.3 * planted.truth.rates["sql->customer"], 2)


def test_empirical_rates_by_channel_match_the_truth(large):
    leads = large.full_leads
    truth = large.truth.level_rates.query("factor == 'channel'").set_index(["transition", "level"])
    for a, b in zip(STAGES, STAGES[1:]):
        entered = leads.loc[leads[reached_column(a)]]
        observed = entered.groupby("channel")[reached_column(b)].agg(["mean", "size"])
        for channel, row in observed.iterrows():
            expected = truth.loc[(f"{a}->{b}", channel), "rate"]
            z = (row["mean"] - expected) / math.sqrt(expected * (1 - expected) / row["size"])
            assert abs(z) < 4, f"{a}->{b} {channel}: observed {row['mean']:.4f}, true {expected:.4f}"
    n = len(leads)
    p = large.truth.lead_to_customer_rate
    assert abs(leads["reached_customer"].mean() - p) < 4 * math.sqrt(p * (1 - p) / n)


def _design(entered: pd.DataFrame, truth, transition: str) -> tuple[pd.DataFrame, dict[str, float]]:
    """Dummy-coded design matrix (truth's reference levels) and the true coefficient of each column."""
    t = truth.transitions[transition]
    columns, true = {"const": np.ones(len(entered))}, {"const": t.intercept}
    for factor in ("channel", "region", "lead_type"):
        for level, ratio in t.odds_ratios[factor].items():
            if level != t.references[factor]:
                columns[f"{factor}={level}"] = (entered[factor] == level).to_numpy(dtype=float)
                true[f"{factor}={level}"] = math.log(ratio)
    for feature, slope in t.log_odds_per_unit.items():
        columns[feature], true[feature] = entered[feature].to_numpy(dtype=float), slope
    if transition == "mql->sql":
        gap = (entered["first_touch_at"] - entered["mql_at"]) / pd.Timedelta(hours=1)
        columns["late"] = (gap.isna() | (gap > 24)).to_numpy(dtype=float)
        true["late"] = math.log(t.late_follow_up_odds_ratio)
    return pd.DataFrame(columns, index=entered.index), true


@pytest.mark.parametrize("transition", ["lead->mql", "mql->sql", "sql->customer"])
def test_glm_recovers_the_true_odds_ratios(large, transition):
    a, b = transition.split("->")
    leads = large.full_leads
    entered = leads.loc[leads[reached_column(a)] & leads["region"].notna()]
    X, true = _design(entered, large.truth, transition)
    fit = sm.GLM(entered[reached_column(b)].to_numpy(dtype=float), X, family=sm.families.Binomial()).fit()
    interval = fit.conf_int(alpha=0.01)
    outside = [name for name, value in true.items() if not interval.loc[name, 0] <= value <= interval.loc[name, 1]]
    assert not outside, f"true values outside the 99% intervals: {outside}"
    assert len(true) >= 10


def test_follow_up_and_spend_match_the_truth(large):
    mqls = large.full_leads.loc[large.full_leads["reached_mql"]]
    gap = (mqls["first_touch_at"] - mqls["mql_at"]) / pd.Timedelta(hours=1)
    late = (gap.isna() | (gap > 24)).groupby(mqls["sales_rep"]).agg(["mean", "size"])
    for rep, row in late.iterrows():
        p = large.truth.rep_late_share[rep]
        assert abs(row["mean"] - p) < 4 * math.sqrt(p * (1 - p) / row["size"]), rep
    assert late["mean"].max() - late["mean"].min() > 0.3  # reps really differ in speed
    spend = large.full_spend.groupby("channel")["spend"].sum()
    leads = large.full_leads["channel"].value_counts()
    for channel, cost in large.truth.cost_per_lead.items():
        assert spend[channel] / leads[channel] == pytest.approx(cost, rel=0.05)
    revenue = large.full_leads["revenue"].dropna()
    assert np.log(revenue).median() == pytest.approx(math.log(large.truth.revenue_median), abs=0.05)


def test_expected_by_deadline_matches_the_realised_counts(large):
    end = pd.Timestamp("2025-04-01")
    for stage in STAGES[1:]:
        realised = int((large.full_leads[stage_column(stage)] < end).sum())
        expected = large.truth.expected_by_deadline[stage]
        assert abs(realised - expected) < 4 * math.sqrt(expected), stage


def test_truth_renders(small):
    frame = small.truth.to_frame()
    assert {"transition", "factor", "level", "reference", "odds_ratio"} <= set(frame.columns)
    assert small.truth.to_dict()["rate_method"].startswith("exact")
    assert "<table" in small.truth._repr_html_()


def test_bad_settings_list_every_problem():
    with pytest.raises(ValueError, match=r"(?s)reference_rate must be strictly between 0 and 1.*unknown channels"):
        base = GeneratorSettings()
        bad = dataclasses.replace(base.transitions[0], reference_rate=1.2, channel_odds_ratios={"tv": 2.0})
        dataclasses.replace(base, transitions=(bad, *base.transitions[1:]))


# -- files -----------------------------------------------------------------------------------
def test_written_files_map_back_to_the_canonical_table(small, tmp_path):
    paths = write_campaign(small, tmp_path)
    source = yaml.safe_load(paths.source.read_text())
    assert source["values"] == {"*": {"Select": None}}
    assert load_spec(paths.sla) == small.spec
    raw = pd.read_csv(paths.leads, dtype=str, keep_default_na=False)
    assert (raw["Region"] == "Select").sum() == small.leads["region"].isna().sum() > 0
    canonical = raw.rename(columns={v: k for k, v in source["columns"].items()})
    canonical = canonical.mask(canonical.isin(["Select", ""]))
    for column in ["created_at", "mql_at", "customer_at", "first_touch_at", "lost_at"]:
        parsed = pd.to_datetime(canonical[column], format="%Y-%m-%d %H:%M:%S").astype("datetime64[us]")
        pd.testing.assert_series_equal(parsed, small.leads[column], check_names=False)
    for column in ["lead_id", "channel", "campaign", "region", "sales_rep"]:
        assert canonical[column].fillna("<NA>").tolist() == small.leads[column].fillna("<NA>").tolist()
    spend = pd.read_csv(paths.spend)
    assert list(spend.columns) == ["Date", "Channel", "Campaign", "Spend"] and len(spend) == len(small.spend)


def test_sample_files_are_what_the_script_writes(tmp_path):
    paths = example_paths()
    for path in (paths.sla, paths.source, paths.leads, paths.spend, paths.folder / "README.md"):
        assert path.is_file(), path
    spec = importlib.util.spec_from_file_location("generate_sample", REPO / "data" / "generate_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    campaign = module.main(tmp_path)
    for name in ("leads.csv", "spend.csv", "sla.yaml", "source.yaml", "README.md"):
        assert (tmp_path / name).read_bytes() == (paths.folder / name).read_bytes(), name
    assert 3_000 <= len(campaign.leads) <= 5_000
    assert campaign.as_of < pd.Timestamp(campaign.spec.period.end)
    assert any(t.rate < t.target for t in campaign.truth.transitions.values())


def test_load_example_leads_reproduces_the_generated_table():
    pytest.importorskip("sla_toolkit.io", reason="sla_toolkit.io (the ingest layer) is not importable")
    from sla_toolkit.datasets import load_example_leads

    data = load_example_leads()
    expected = generate_campaign(GeneratorSettings.sample())
    assert len(data.quarantine) == 0
    pd.testing.assert_frame_equal(data.leads[list(expected.leads.columns)], expected.leads)
    pd.testing.assert_frame_equal(data.spend.reset_index(drop=True), expected.spend)

