"""Level-vs-rest effects adjusted for creation time and mix, shrunk across levels.

A crude comparison of one channel with the rest is confounded when the base rate drifts over the
period and the channel's leads arrive at other times (a channel launched mid-period), or when its
leads differ in the other declared segments. For each tested level this module fits a binomial GLM
(statsmodels, on counts grouped by covariate pattern)::

    logit P(converted in window) = a + b * [level] + creation cohort + other segments

on the matured leads, and reports

* ``adjusted_p_value``: the Wald test of ``b = 0`` (the p-value the verdict rests on);
* ``adjusted_lift``: ``b`` turned into points on the level's own leads, the mean of
  ``expit(eta) - expit(eta - b)`` (what the level's leads convert at minus what the model says
  they would at the rest's rate), with the interval from ``b``'s Wald interval;
* ``effect`` with ``effect_low``/``effect_high``: the same after **empirical-Bayes shrinkage** of
  ``b`` across the levels of one column (normal prior with mean 0 and variance ``tau^2`` estimated
  by the method of moments, ``tau^2 = max(0, mean(b^2 - se^2))``; posterior mean
  ``b * tau^2 / (tau^2 + se^2)`` and posterior interval). Selected effects are inflated (the
  winner's curse); the shrunk effect is the one reported.

The creation cohort is the ISO week when the matured leads span at most 26 weeks, else the
calendar month, so that drift within a short period is adjusted for as well.

With ``analysis.cluster`` the patterns are also split by cluster and the GLM's covariance is
cluster-robust (statsmodels ``cov_type="cluster"``), so the p-value and intervals allow for leads of
one campaign or landing page converting alike.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

MAX_WEEKLY_COHORTS = 26
MIN_CLUSTERS_EACH_SIDE = 5
NO_COHORT = "(none)"
ADJUSTED_COLUMNS = ("adjusted_lift", "adjusted_lift_low", "adjusted_lift_high", "adjusted_p_value", "effect",
                    "effect_low", "effect_high", "adjusted_for")


def creation_cohorts(created: pd.Series) -> tuple[pd.Series, str]:
    """Week (short spans) or month of creation as text, and which one was used."""
    if created.isna().all():
        return pd.Series(NO_COHORT, index=created.index, dtype=object), ""
    span_weeks = (created.max() - created.min()) / pd.Timedelta(weeks=1)
    unit = "week" if span_weeks <= MAX_WEEKLY_COHORTS else "month"
    # formatted once per distinct period, not per lead
    codes, periods = pd.factorize(created.dt.to_period("W" if unit == "week" else "M"), use_na_sentinel=True)
    names = np.array([str(p) for p in periods] + [NO_COHORT], dtype=object)
    return pd.Series(names[codes], index=created.index, dtype=object), f"creation {unit}"


def adjusted_level_effects(frame: pd.DataFrame, column: str, levels: list[str], others: list[str],
                           confidence: float, cluster: str | None = None) -> pd.DataFrame:
    """Adjusted and shrunk lift of each of ``levels`` of ``column`` against the rest.

    Parameters
    ----------
    frame:
        One row per matured lead: ``y`` (converted within the window, bool), ``cohort`` (text),
        ``column`` and every one of ``others`` (level labels as text).
    levels:
        The levels to test (each is compared with all other leads).
    others:
        Other declared segments to adjust for.
    cluster:
        Column of ``frame`` holding each lead's cluster: the covariance becomes cluster-robust.

    Returns
    -------
    DataFrame indexed by level with :data:`ADJUSTED_COLUMNS` (NaN where the model cannot be fitted).
    """
    keys = [column, *[o for o in others if o not in (column, cluster)], "cohort"]
    grouped = frame.groupby(keys + ([cluster] if cluster else []), observed=True, sort=True)["y"] \
        .agg(["sum", "count"]).reset_index()
    adjust_names = [k for k in keys[1:] if grouped[k].nunique() > 1]
    groups = pd.factorize(grouped[cluster])[0] if cluster else None
    base = pd.get_dummies(grouped[adjust_names].astype(str), drop_first=True, dtype=float) if adjust_names \
        else pd.DataFrame(index=grouped.index)
    successes, trials = grouped["sum"].to_numpy(float), grouped["count"].to_numpy(float)
    fits = {level: _fit_one(grouped[column].to_numpy() == level, base, successes, trials, groups)
            for level in levels}
    from scipy.stats import norm   # deferred: heavy, not needed to show results

    z = norm.ppf(0.5 + confidence / 2)
    betas = np.array([fits[level][0] for level in levels])
    ses = np.array([fits[level][1] for level in levels])
    shrink, posterior_se = _shrinkage(betas, ses)
    rows = []
    for i, level in enumerate(levels):
        beta, se, p_value, eta, weight = fits[level]
        row = dict.fromkeys(ADJUSTED_COLUMNS, np.nan)
        row["adjusted_for"] = ", ".join(adjust_names) if adjust_names else "nothing (no other segment or cohort)"
        if np.isfinite(beta) and np.isfinite(se):
            to_points = _points(eta, weight, beta)
            row.update(adjusted_lift=to_points(beta), adjusted_lift_low=to_points(beta - z * se),
                       adjusted_lift_high=to_points(beta + z * se), adjusted_p_value=p_value)
            shrunk = beta * shrink[i]
            row.update(effect=to_points(shrunk), effect_low=to_points(shrunk - z * posterior_se[i]),
                       effect_high=to_points(shrunk + z * posterior_se[i]))
        rows.append(row)
    table = pd.DataFrame(rows, index=pd.Index(levels, dtype=object), columns=list(ADJUSTED_COLUMNS))
    return table


def _fit_one(in_level: np.ndarray, base: pd.DataFrame, successes: np.ndarray, trials: np.ndarray,
             groups: np.ndarray | None = None):
    """(b, se, p, linear predictor of the level's patterns, their lead counts) of one level-vs-rest GLM.

    ``groups`` (a cluster code per pattern) makes the covariance cluster-robust. A sandwich needs several
    clusters on both sides: when the level (or the rest) spans fewer than :data:`MIN_CLUSTERS_EACH_SIDE`
    (a campaign compared with the rest, clustered by campaign), its score sums to zero within its one
    cluster and the sandwich would be far too small; the model-based standard error is then scaled by the
    square root of the overdispersion (Pearson chi-square / df of the cluster patterns, quasi-binomial).
    """
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM
    from scipy.stats import norm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    nan = (np.nan, np.nan, np.nan, np.array([]), np.array([]))
    design = base.copy()
    design.insert(0, "level", in_level.astype(float))
    design.insert(0, "const", 1.0)
    design = design.loc[:, design.to_numpy().any(axis=0)]   # a dummy absent from every pattern carries nothing
    if "level" not in design or in_level.all():
        return nan
    endog = np.column_stack([successes, trials - successes])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PerfectSeparationWarning)
            warnings.filterwarnings("ignore", category=RuntimeWarning)
            sandwich = groups is not None and min(len(np.unique(groups[in_level])),
                                                  len(np.unique(groups[~in_level]))) >= MIN_CLUSTERS_EACH_SIDE
            robust = dict(cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False}) if sandwich \
                else {}
            result = GLM(endog, design.to_numpy(), family=families.Binomial()).fit(**robust)
    except (PerfectSeparationWarning, np.linalg.LinAlgError, ValueError):
        return nan
    position = list(design.columns).index("level")
    beta, se, p_value = float(result.params[position]), float(result.bse[position]), float(result.pvalues[position])
    if sandwich:
        # statsmodels' small-sample factor would count patterns as observations; count leads instead
        clusters, leads = len(np.unique(groups)), float(trials.sum())
        se *= np.sqrt(clusters / (clusters - 1) * (leads - 1) / (leads - design.shape[1]))
        p_value = float(2 * norm.sf(abs(beta / se)))
    elif groups is not None and result.df_resid > 0:
        se *= np.sqrt(max(1.0, result.pearson_chi2 / result.df_resid))
        p_value = float(2 * norm.sf(abs(beta / se)))
    if not (np.isfinite(beta) and np.isfinite(se)) or se > 10:
        return nan
    eta = (design.to_numpy() @ result.params)[in_level]
    return beta, se, p_value, eta, trials[in_level]


def _points(eta: np.ndarray, weight: np.ndarray, beta: float):
    """Function turning a log-odds effect into points on the level's own leads."""
    from scipy.special import expit   # deferred: heavy, not needed to show results

    eta_rest = eta - beta

    def to_points(effect: float) -> float:
        return float(np.average(expit(eta_rest + effect) - expit(eta_rest), weights=weight))
    return to_points


def _shrinkage(betas: np.ndarray, ses: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Empirical-Bayes factors ``tau^2 / (tau^2 + se^2)`` and posterior standard errors (mean-0 normal prior)."""
    ok = np.isfinite(betas) & np.isfinite(ses)
    factor, posterior_se = np.full(betas.shape, np.nan), np.full(betas.shape, np.nan)
    if not ok.any():
        return factor, posterior_se
    tau2 = max(0.0, float(np.mean(betas[ok] ** 2 - ses[ok] ** 2)))
    factor[ok] = tau2 / (tau2 + ses[ok] ** 2)
    posterior_se[ok] = np.sqrt(factor[ok]) * ses[ok]
    return factor, posterior_se
