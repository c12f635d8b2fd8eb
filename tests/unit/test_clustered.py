"""Clustered leads ([7] item 8): cluster-robust rate intervals, overdispersion, cluster-robust comparisons."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.special import expit
from scipy.stats import norm

from sla_toolkit.adjusted import adjusted_level_effects
from sla_toolkit.clustered import OVERDISPERSION_WARNING, cluster_rate
from sla_toolkit.datasets.clustered import ClusteredDesign, cluster_coverage, clustered_leads


def test_cluster_robust_interval_and_dispersion_match_statsmodels_on_the_leads_and_by_hand():
    leads = clustered_leads(seed=7)
    y, campaign = leads["converted"].to_numpy(), leads["campaign"].to_numpy()
    fit = cluster_rate(y, campaign)
    # statsmodels on one row per lead, clustered by campaign (the aggregated fit must agree)
    rows = sm.GLM(y.astype(float), np.ones((len(y), 1)), family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(campaign)[0]})
    z = norm.ppf(0.975)
    assert fit.robust_low == pytest.approx(expit(rows.params[0] - z * rows.bse[0]), rel=1e-3)
    assert fit.robust_high == pytest.approx(expit(rows.params[0] + z * rows.bse[0]), rel=1e-3)
    # by hand: Pearson chi-square of the campaigns' counts around the overall rate, over G - 1
    counts = leads.groupby("campaign")["converted"].agg(["sum", "count"])
    p = y.mean()
    chi2 = (((counts["sum"] - counts["count"] * p) ** 2) / (counts["count"] * p * (1 - p))).sum()
    assert fit.dispersion == pytest.approx(chi2 / (len(counts) - 1), rel=1e-9)
    # and the sandwich by hand: sum over campaigns of squared score, bread n p (1 - p), small-G correction
    score = counts["sum"] - counts["count"] * p
    g = len(counts)
    se_logit = np.sqrt(g / (g - 1) * (score ** 2).sum()) / (len(y) * p * (1 - p))
    assert fit.robust_high == pytest.approx(expit(np.log(p / (1 - p)) + z * se_logit), rel=2e-3)
    print(f"\nclustered leads seed 7: rate {fit.rate:.4f}, naive {fit.naive_low:.4f}-{fit.naive_high:.4f}, "
          f"cluster-robust {fit.robust_low:.4f}-{fit.robust_high:.4f} ({fit.se_ratio:.2f}x the SE), "
          f"Pearson chi2/df {fit.dispersion:.2f}")
    assert fit.overdispersed and fit.dispersion > OVERDISPERSION_WARNING and fit.se_ratio > 1.5


def test_independent_leads_are_not_overdispersed_and_few_clusters_give_no_robust_interval():
    rng = np.random.default_rng(1)
    y = rng.random(3000) < 0.1
    fit = cluster_rate(y, rng.integers(0, 40, 3000))
    assert fit.dispersion < OVERDISPERSION_WARNING and not fit.overdispersed
    assert 0.7 < fit.se_ratio < 1.3
    few = cluster_rate(y, rng.integers(0, 3, 3000))
    assert np.isnan(few.robust_low) and np.isnan(few.dispersion) and few.clusters == 3


def test_naive_interval_undercovers_and_cluster_robust_covers_on_clustered_data():
    # reduced seed count; the full 500-seed study is studies/cluster_coverage.py (92–98 % required)
    naive, robust = cluster_coverage(range(40), ClusteredDesign())
    print(f"\nclustered leads, 40 seeds: naive Wilson covered {100 * naive:.0f}%, cluster-robust {100 * robust:.0f}%")
    assert naive < 0.85 and robust >= 0.9


def test_adjusted_comparison_is_cluster_robust_and_matches_a_row_level_statsmodels_fit():
    leads = clustered_leads(seed=3)
    cohort = np.random.default_rng(4).choice(["2027-01", "2027-02", "2027-03"], len(leads))
    frame = pd.DataFrame({"y": leads["converted"].astype(float), "cohort": cohort, "region": leads["region"],
                          "(cluster)": leads["campaign"]})
    naive = adjusted_level_effects(frame, "region", ["north"], ["region"], 0.95)
    robust = adjusted_level_effects(frame, "region", ["north"], ["region"], 0.95, cluster="(cluster)")
    x = np.column_stack([np.ones(len(frame)), (frame["region"] == "north").to_numpy(float),
                         cohort == "2027-02", cohort == "2027-03"]).astype(float)
    rows = sm.GLM(frame["y"].to_numpy(), x, family=sm.families.Binomial()).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(frame["(cluster)"])[0]})
    print(f"\nregion north vs south (whole campaigns per region): naive p {naive.loc['north', 'adjusted_p_value']:.4f}, "
          f"cluster-robust p {robust.loc['north', 'adjusted_p_value']:.4f} (statsmodels rows {rows.pvalues[1]:.4f})")
    assert robust.loc["north", "adjusted_p_value"] == pytest.approx(rows.pvalues[1], rel=1e-3)
    assert robust.loc["north", "adjusted_p_value"] > naive.loc["north", "adjusted_p_value"]
    width = robust.loc["north", "adjusted_lift_high"] - robust.loc["north", "adjusted_lift_low"]
    assert width > naive.loc["north", "adjusted_lift_high"] - naive.loc["north", "adjusted_lift_low"]


def test_one_campaign_against_the_rest_clustered_by_campaign_is_not_falsely_significant():
    # no campaign differs in truth beyond the random campaign effects: a one-cluster level must not look
    # certain (its sandwich would be about zero); the quasi-binomial fallback keeps false findings rare
    leads = clustered_leads(seed=11)
    frame = pd.DataFrame({"y": leads["converted"].astype(float), "cohort": "(none)", "campaign": leads["campaign"],
                          "(cluster)": leads["campaign"]})
    levels = sorted(frame["campaign"].unique())[:10]
    robust = adjusted_level_effects(frame, "campaign", levels, ["campaign"], 0.95, cluster="(cluster)")
    naive = adjusted_level_effects(frame, "campaign", levels, ["campaign"], 0.95)
    print(f"\none campaign vs the rest, 10 campaigns: p < 0.05 in {(naive['adjusted_p_value'] < 0.05).sum()} naive, "
          f"{(robust['adjusted_p_value'] < 0.05).sum()} clustered (quasi-binomial fallback)")
    assert (robust["adjusted_p_value"] >= naive["adjusted_p_value"] - 1e-12).all()
    assert (robust["adjusted_p_value"] < 0.05).sum() <= 2


def test_sla_rate_check_judges_on_the_interval_widened_by_the_cluster_robust_ratio():
    from sla_toolkit.clustered import ClusteredRates
    from sla_toolkit.compare import Direction, Status, cluster_widened, judge

    clustered = ClusteredRates("campaign", pd.DataFrame({"transition": ["lead->mql", "mql->sql"],
                                                         "se_ratio": [2.5, 0.8]}))
    # by hand: each side of [0.30, 0.36] around 0.33 stretched 2.5 times -> [0.255, 0.405]
    low, high, note = cluster_widened(0.33, 0.30, 0.36, "lead->mql", clustered)
    assert (low, high) == (pytest.approx(0.255), pytest.approx(0.405)) and "2.5× for leads clustered by campaign" in note
    assert cluster_widened(0.33, 0.30, 0.36, "mql->sql", clustered)[:2] == (0.30, 0.36)   # never narrowed
    assert cluster_widened(0.33, 0.30, 0.36, "lead->mql", None) == (0.30, 0.36, "")
    assert cluster_widened(0.05, 0.02, 0.09, "lead->mql", clustered)[0] == 0.0            # clipped at zero
    # a target the naive interval excludes is no longer called missed once the clustering is counted
    assert judge(0.33, 0.30, 0.36, 0.38, Direction.AT_LEAST, 5_000, 30)[0] is Status.MISSED
    assert judge(0.33, low, high, 0.38, Direction.AT_LEAST, 5_000, 30)[0] is not Status.MISSED
