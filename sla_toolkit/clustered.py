"""Clustered leads: cluster-robust intervals for conversion rates, and overdispersion.

Leads from one campaign, landing page or week share what happened to that cluster, so they are not
independent: a binomial (Wilson) interval that treats them as independent is too narrow. With
``analysis.cluster: <column>`` each rate's interval comes from an intercept-only binomial GLM on the
clusters' counts with a cluster-robust (sandwich) covariance (statsmodels, ``cov_type="cluster"``),
on the logit scale and turned back into a rate. The Pearson chi-square of the same GLM divided by its
degrees of freedom measures overdispersion between clusters: about 1 when clusters differ only by
chance; above :data:`OVERDISPERSION_WARNING` the naive intervals are too narrow and the report warns.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pandas as pd

from .outcomes import transition_outcomes
from .results import ResultMixin
from .spec import SlaSpec
from .stats import wilson_interval
from .types import transition_name

OVERDISPERSION_WARNING = 1.5
MIN_CLUSTERS = 5
CLUSTERED_COLUMNS = ["transition", "n", "conversions", "clusters", "rate", "naive_low", "naive_high", "robust_low",
                     "robust_high", "se_ratio", "dispersion", "overdispersed"]


@dataclass(frozen=True)
class ClusterRate:
    """One rate with its naive (Wilson) and cluster-robust intervals and the overdispersion of its clusters."""

    n: int
    conversions: int
    clusters: int
    rate: float
    naive_low: float
    naive_high: float
    robust_low: float = float("nan")
    robust_high: float = float("nan")
    se_ratio: float = float("nan")       # cluster-robust / naive standard error of the rate
    dispersion: float = float("nan")     # Pearson chi-square / df between clusters

    @property
    def overdispersed(self) -> bool:
        return bool(self.dispersion > OVERDISPERSION_WARNING)


def cluster_rate(converted: np.ndarray, clusters: np.ndarray, confidence: float = 0.95) -> ClusterRate:
    """Rate of ``converted`` (bool per lead) with a cluster-robust interval by ``clusters`` (a label per lead).

    With fewer than :data:`MIN_CLUSTERS` clusters, or no conversions (or only conversions), the
    robust interval and the dispersion are NaN: a sandwich from so few clusters is not trustworthy.
    """
    from scipy.special import expit   # deferred, as every scipy import: a report kernel never needs it
    from scipy.stats import norm

    converted = np.asarray(converted, bool)
    n, k = len(converted), int(converted.sum())
    counts = pd.DataFrame({"y": converted, "c": np.asarray(clusters)}).groupby("c", observed=True)["y"] \
        .agg(["sum", "count"])
    naive = wilson_interval(k, n, confidence)
    rate, low, high = (naive.estimate, naive.low, naive.high) if n else (np.nan, np.nan, np.nan)
    result = ClusterRate(n, k, len(counts), rate, float(low), float(high))
    if len(counts) < MIN_CLUSTERS or k in (0, n):
        return result
    robust_se_logit, dispersion = _intercept_fit(counts["sum"].to_numpy(float), counts["count"].to_numpy(float))
    z = norm.ppf(0.5 + confidence / 2)
    logit = np.log(rate / (1 - rate))
    naive_se_rate = np.sqrt(rate * (1 - rate) / n)
    robust_se_rate = robust_se_logit * rate * (1 - rate)        # delta method
    return ClusterRate(n, k, len(counts), rate, float(low), float(high), float(expit(logit - z * robust_se_logit)),
                       float(expit(logit + z * robust_se_logit)), float(robust_se_rate / naive_se_rate),
                       dispersion)


def _intercept_fit(successes: np.ndarray, trials: np.ndarray) -> tuple[float, float]:
    """Cluster-robust standard error of the logit intercept, and Pearson chi-square / df, from cluster counts."""
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    endog = np.column_stack([successes, trials - successes])
    exog = np.ones((len(successes), 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = GLM(endog, exog, family=families.Binomial())
        plain = model.fit()
        robust = model.fit(cov_type="cluster", cov_kwds={"groups": np.arange(len(successes))})
    dispersion = float(plain.pearson_chi2 / plain.df_resid) if plain.df_resid > 0 else float("nan")
    return float(robust.bse[0]), dispersion


@dataclass(frozen=True)
class ClusteredRates(ResultMixin):
    """Each funnel step's rate among matured leads, naive and cluster-robust, with overdispersion."""

    title: ClassVar[str] = "Clustered leads: cluster-robust intervals and overdispersion"
    column: str
    summary: pd.DataFrame
    confidence: float = 0.95
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        return self.summary

    @property
    def warnings(self) -> list[str]:
        """Plain sentences for each overdispersed step (Pearson chi-square / df above the warning level)."""
        rows = self.summary.loc[self.summary["overdispersed"].astype(bool)]
        return [f"{r.transition}: leads of one {self.column} convert alike (overdispersion χ²/df = "
                f"{r.dispersion:.2f} > {OVERDISPERSION_WARNING}); the cluster-robust interval is {r.se_ratio:.1f}× "
                "as wide as one that treats leads as independent, so read differences between groups with care"
                for r in rows.itertuples()]

    def to_dict(self) -> dict:
        return {**super().to_dict(), "warnings": self.warnings}


def clustered_rates(leads: pd.DataFrame, spec: SlaSpec, as_of) -> ClusteredRates | None:
    """Cluster-robust rates of every funnel step by ``analysis.cluster`` (None when no cluster is declared)."""
    column = spec.analysis.cluster
    if column is None:
        return None
    from .breakdowns import level_labels

    stages = spec.funnel.stages
    pairs = list(zip(stages, stages[1:])) + ([(stages[0], stages[-1])] if len(stages) > 2 else [])
    labels = level_labels(leads[column])
    rows, notes = [], []
    for a, b in pairs:
        outcomes = transition_outcomes(leads, spec, a, b, as_of)
        matured = (outcomes["entered"] & outcomes["matured"]).to_numpy()
        fit = cluster_rate(outcomes.loc[matured, "converted_in_window"].to_numpy(bool), labels[matured].to_numpy(),
                           spec.analysis.confidence)
        rows.append({"transition": transition_name(a, b), **{k: getattr(fit, k) for k in CLUSTERED_COLUMNS[1:-1]},
                     "overdispersed": fit.overdispersed})
        if fit.clusters < MIN_CLUSTERS:
            notes.append(f"{transition_name(a, b)}: {fit.clusters} {column} clusters among matured leads, fewer than "
                         f"{MIN_CLUSTERS}: no cluster-robust interval")
    return ClusteredRates(column, pd.DataFrame(rows, columns=CLUSTERED_COLUMNS), spec.analysis.confidence,
                          tuple(notes))
