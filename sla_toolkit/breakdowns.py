"""Breakdowns by channel and segment: each level against the rest of its column, with honest significance.

The rate of a level is the **matured-cohort rate**: conversions within the window among the leads of
that level whose window has fully elapsed by ``as_of`` (leads still open are not counted as failures).
Each level is compared with all other matured leads of the same column: the lift is the difference in
rates, with a Newcombe (hybrid Wilson score) interval, and the test is a two-sided two-proportion z test
(pooled variance) when every expected cell count is at least 5, Fisher's exact test otherwise.
The crude comparison is shown, but verdicts rest on the comparison **adjusted for creation cohort and
the other segments** (a binomial GLM, :mod:`sla_toolkit.adjusted`), whose effect is reported after
empirical-Bayes shrinkage across the column's levels (``effect``). Benjamini–Hochberg control runs once
over the whole family of adjusted comparisons in the result (every column and every transition passed
in); q-values sit next to p-values. A level is flagged only when its shrunk effect also reaches the
practical minimum: ``max(analysis.min_effect, analysis.min_effect_relative * rate of the rest)``. Levels with fewer matured leads than
``spec.analysis.min_n`` (or whose rest has fewer) are ``INSUFFICIENT_DATA``: shown with their
denominators, never tested, never ranked. A missing value is its own level, ``"(missing)"``.

Example
-------
>>> result = breakdowns(leads, spec, as_of="2024-03-31")          # doctest: +SKIP
>>> result.flagged()                                               # doctest: +SKIP
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from enum import Enum
from typing import ClassVar, Sequence

import numpy as np
import pandas as pd

from .adjusted import ADJUSTED_COLUMNS, NO_COHORT, adjusted_level_effects, creation_cohorts
from .errors import Reason
from .outcomes import transition_outcomes
from .results import ResultMixin
from .spec import SlaSpec
from .types import transition_name

MISSING_LEVEL = "(missing)"
RATE_DEFINITION = ("matured-cohort rate: conversions within the window among leads whose window had "
                   "elapsed by the as-of date")
_MIN_EXPECTED = 5


class Verdict(str, Enum):
    """How one level compares with the rest of its column after FDR control."""

    ABOVE_REST = "ABOVE_REST"
    BELOW_REST = "BELOW_REST"
    NO_EVIDENCE = "NO_EVIDENCE"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"
    NOT_TESTED = "NOT_TESTED"


class ComparisonTest(str, Enum):
    TWO_PROPORTION_Z = "two_proportion_z"
    FISHER_EXACT = "fisher_exact"


def level_labels(series: pd.Series) -> pd.Series:
    """Values as plain strings (object dtype), missing values as the ``"(missing)"`` level."""
    # factorize once and convert each distinct value, not each row (a million rows, a handful of levels)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    names = np.array([str(u) for u in uniques] + [MISSING_LEVEL], dtype=object)
    return pd.Series(names[codes], index=series.index, name=series.name, dtype=object)


def level_categories(series: pd.Series) -> pd.Series:
    """:func:`level_labels` as a categorical whose categories are the labels in sorted order.

    Grouping, comparing and selecting then work on integer codes (the labels are formatted once per
    level, not per row) and sort exactly as the text labels would.
    """
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    names = [str(u) for u in uniques] + [MISSING_LEVEL]
    return _sorted_categorical(codes, names, series)


def _sorted_categorical(codes: np.ndarray, names: list[str], like: pd.Series) -> pd.Series:
    """Codes into ``names`` (-1: the last name) as a categorical Series with sorted, distinct categories."""
    categories = sorted(set(names))
    position = np.array([categories.index(name) for name in names], dtype=np.int64)
    values = pd.Categorical.from_codes(position[codes], categories=categories)
    return pd.Series(values, index=like.index, name=like.name)


@dataclass(frozen=True)
class BreakdownResult(ResultMixin):
    """Every level of every column and transition against the rest, one row each (see the module docstring)."""

    title: ClassVar[str] = "Breakdowns: each level against the rest"
    summary: pd.DataFrame
    as_of: pd.Timestamp | None
    n_tests: int
    alpha: float
    confidence: float
    min_n: int
    min_effect: float
    rate_definition: str = RATE_DEFINITION
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        return self.summary

    def flagged(self) -> pd.DataFrame:
        """Rows found above or below the rest after Benjamini–Hochberg control."""
        return self.summary.loc[self.summary["verdict"].isin([Verdict.ABOVE_REST.value, Verdict.BELOW_REST.value])]

    def _repr_html_(self) -> str:
        intro = (f"<p>Rate: {html.escape(self.rate_definition)} (crude, shown with its own two-proportion test). "
                 "Verdicts rest on a binomial GLM adjusted for creation cohort and the other segments; the "
                 "reported effect is shrunk across levels (empirical Bayes). Benjamini–Hochberg over "
                 f"{self.n_tests} comparisons, q &lt; {self.alpha:g}, and an effect of at least the practical "
                 f"minimum; levels with fewer than {self.min_n} matured leads are not tested.</p>")
        notes = "".join(f"<p><i>{html.escape(n)}</i></p>" for n in self.notes)
        return super()._repr_html_() + intro + notes

    def plot_rates(self, transition: str | None = None, column: str | None = None, ax=None):
        """Each level's rate with its interval; the dashed line is the overall rate. Returns the Axes."""
        from .models.plots import new_axes

        transition = transition or self.summary["transition"].iloc[0]
        column = column or self.summary["column"].iloc[0]
        rows = self.summary.loc[(self.summary["transition"] == transition) & (self.summary["column"] == column)
                                & (self.summary["n_matured"] > 0)].sort_values("rate")
        ax = new_axes(ax, height=max(2.5, 0.35 * len(rows) + 1))
        colours = {Verdict.ABOVE_REST.value: "C2", Verdict.BELOW_REST.value: "C3", Verdict.NO_EVIDENCE.value: "C0"}
        for y, row in enumerate(rows.itertuples()):
            colour = colours.get(row.verdict, "lightgrey")
            ax.errorbar(row.rate, y, xerr=[[row.rate - row.rate_low], [row.rate_high - row.rate]], fmt="o",
                        color=colour, capsize=3)
        ax.set_yticks(range(len(rows)), [f"{lv} (n={n:,})" for lv, n in zip(rows["level"], rows["n_matured"])])
        overall = rows["conversions"].sum() / max(rows["n_matured"].sum(), 1)
        ax.axvline(overall, color="grey", linestyle="--", linewidth=1)
        ax.set_xlabel(f"{transition} rate (matured leads); grey = insufficient data")
        ax.set_title(column)
        return ax


def breakdowns(leads: pd.DataFrame, spec: SlaSpec, as_of, transitions: Sequence[str | tuple[str, str]] | None = None,
               columns: Sequence[str] | None = None) -> BreakdownResult:
    """Compare every level of each column with the rest, for each transition, under one FDR family.

    Parameters
    ----------
    as_of:
        Cut-off date that decides which leads have matured (may be ``None`` for flag-only stages).
    transitions:
        ``"a->b"`` strings or ``(a, b)`` pairs; default: the funnel's adjacent transitions.
    columns:
        Default: the spec's channel column and its segments (columns absent from ``leads`` are
        skipped with a note).
    """
    pairs = [tuple(t.split("->")) if isinstance(t, str) else tuple(t) for t in transitions] if transitions \
        else list(zip(spec.funnel.stages, spec.funnel.stages[1:]))
    wanted = list(dict.fromkeys(columns if columns is not None else [spec.channel_column, *spec.segments]))
    present = [c for c in wanted if c in leads.columns]
    notes = [f"column {c!r} is not in the lead table: skipped" for c in wanted if c not in present]
    settings = spec.analysis
    labels = {column: level_categories(leads[column]) for column in present}
    cohorts, cohort_unit = creation_cohorts(leads["created_at"]) if "created_at" in leads else (
        pd.Series(NO_COHORT, index=leads.index, dtype=object), "")
    cohorts = level_categories(cohorts)
    cluster = settings.cluster if settings.cluster in leads.columns else None
    clusters = {CLUSTER_KEY: level_categories(leads[cluster])} if cluster else {}
    if cluster:
        notes.append(f"intervals and p-values are cluster-robust by {cluster} (leads of one {cluster} are not "
                     "independent)")
    tables = []
    for from_stage, to_stage in pairs:
        outcomes = transition_outcomes(leads, spec, from_stage, to_stage, as_of)
        matured = outcomes["entered"] & outcomes["matured"]
        frame = pd.DataFrame({"y": outcomes.loc[matured, "converted_in_window"].astype(float),
                              "cohort": cohorts[matured], **{c: labels[c][matured] for c in present},
                              **{k: v[matured] for k, v in clusters.items()}})
        for column in present:
            crude = _compare_levels(labels[column], outcomes, settings.min_n, settings.confidence,
                                    transition_name(from_stage, to_stage), column)
            if cluster:
                crude = _with_cluster_robust_rates(crude, frame, column, settings.confidence)
            tables.append(_with_adjusted(crude, frame, column, present, settings.confidence,
                                         CLUSTER_KEY if cluster else None))
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=_COLUMNS)
    table = _with_fdr(table, settings.alpha, settings.min_effect, settings.min_effect_relative)
    return BreakdownResult(summary=table, as_of=None if as_of is None else pd.Timestamp(as_of),
                           n_tests=int(table["p_value"].notna().sum()), alpha=settings.alpha,
                           confidence=settings.confidence, min_n=settings.min_n, min_effect=settings.min_effect,
                           notes=tuple(notes))


CLUSTER_KEY = "(cluster)"
_COLUMNS = ["transition", "column", "level", "n_entered", "n_converted", "n_open", "n_matured", "conversions",
            "rate", "rate_low", "rate_high", "n_rest", "conversions_rest", "rate_rest", "lift", "lift_low",
            "lift_high", "test", "crude_p_value", *ADJUSTED_COLUMNS, "p_value", "q_value", "min_effect", "verdict",
            "rank", "reason"]


def _with_cluster_robust_rates(table: pd.DataFrame, frame: pd.DataFrame, column: str,
                               confidence: float) -> pd.DataFrame:
    """Each level's rate interval made cluster-robust (where the level spans enough clusters)."""
    from .clustered import cluster_rate

    table = table.copy()
    for i, level in zip(table.index, table["level"]):
        rows = frame.loc[frame[column] == level]
        fit = cluster_rate(rows["y"].to_numpy(bool), rows[CLUSTER_KEY].to_numpy(), confidence)
        if np.isfinite(fit.robust_low):
            table.loc[i, ["rate_low", "rate_high"]] = [fit.robust_low, fit.robust_high]
    return table


def _with_adjusted(crude: pd.DataFrame, frame: pd.DataFrame, column: str, present: list[str],
                   confidence: float, cluster: str | None = None) -> pd.DataFrame:
    """Add the GLM-adjusted, shrunk effects of the tested levels; the verdict's p-value becomes the adjusted one."""
    table = crude.copy()
    table["crude_p_value"] = table["p_value"]
    for name in ADJUSTED_COLUMNS:
        table[name] = np.nan if name != "adjusted_for" else None
    tested = table["p_value"].notna().to_numpy()
    if not tested.any():
        return table
    levels = table.loc[tested, "level"].tolist()
    adjusted = adjusted_level_effects(frame, column, levels, present, confidence, cluster)
    for name in ADJUSTED_COLUMNS:
        table.loc[tested, name] = adjusted.loc[levels, name].to_numpy()
    fitted = tested & table["adjusted_p_value"].notna().to_numpy()
    table.loc[fitted, "p_value"] = table.loc[fitted, "adjusted_p_value"]
    # no adjusted model (separation, a single pattern): the crude comparison stands, and says so
    unadjusted = tested & ~fitted
    table.loc[unadjusted, "effect"] = table.loc[unadjusted, "lift"]
    table.loc[unadjusted, "effect_low"] = table.loc[unadjusted, "lift_low"]
    table.loc[unadjusted, "effect_high"] = table.loc[unadjusted, "lift_high"]
    table.loc[unadjusted, "adjusted_for"] = "nothing (adjusted model could not be fitted: crude comparison)"
    return table


def _compare_levels(labels: pd.Series, outcomes: pd.DataFrame, min_n: int, confidence: float,
                    transition: str, column: str) -> pd.DataFrame:
    """One row per level of ``column`` for one transition: counts, rate, and the test against the rest."""
    entered = outcomes["entered"].to_numpy(bool)
    matured = outcomes["matured"].to_numpy(bool)[entered]
    converted = outcomes["converted"].to_numpy(bool)[entered]
    in_window = outcomes["converted_in_window"].to_numpy(bool)[entered]
    codes, levels = pd.factorize(labels.array[entered], sort=True)
    size = len(levels)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=mask, minlength=size).astype(int)

    n, k = count(matured), count(matured & in_window)
    n_rest, k_rest = n.sum() - n, k.sum() - k
    with np.errstate(invalid="ignore", divide="ignore"):
        rate, rate_rest = np.where(n > 0, k / n, np.nan), np.where(n_rest > 0, k_rest / n_rest, np.nan)
    from statsmodels.stats.proportion import proportion_confint   # deferred: heavy, not needed to show results

    low, high = proportion_confint(k, np.maximum(n, 1), alpha=1 - confidence, method="wilson")
    enough = (n >= min_n) & (n_rest >= min_n)
    single = size < 2
    table = {"transition": transition, "column": column, "level": np.asarray(levels, dtype=object),
             "n_entered": np.bincount(codes, minlength=size), "n_converted": count(converted),
             "n_open": count(~matured & ~converted), "n_matured": n, "conversions": k, "rate": rate,
             "rate_low": np.where(n > 0, low, np.nan), "rate_high": np.where(n > 0, high, np.nan), "n_rest": n_rest,
             "conversions_rest": k_rest, "rate_rest": rate_rest,
             "lift": np.full(size, np.nan), "lift_low": np.full(size, np.nan), "lift_high": np.full(size, np.nan),
             "test": np.full(size, None, dtype=object), "p_value": np.full(size, np.nan),
             "verdict": np.where(single, Verdict.NOT_TESTED.value,
                                 np.where(enough, "", Verdict.INSUFFICIENT_DATA.value)).astype(object),
             "reason": np.where(single, Reason.SINGLE_LEVEL.value,
                                np.where(enough, Reason.OK.value, Reason.INSUFFICIENT_N.value)).astype(object)}
    tested = enough & (not single)
    if tested.any():
        for name, values in _two_proportion(k[tested], n[tested], k_rest[tested], n_rest[tested],
                                            1 - confidence).items():
            table[name][tested] = values
    return pd.DataFrame(table)


def _two_proportion(k, n, k_rest, n_rest, alpha: float) -> dict[str, np.ndarray]:
    """Lift with a Newcombe interval; p-value of the pooled z test, or Fisher's exact test for small expected counts."""
    from scipy.stats import fisher_exact, norm
    from statsmodels.stats.proportion import confint_proportions_2indep

    low, high = confint_proportions_2indep(k, n, k_rest, n_rest, method="newcomb", compare="diff", alpha=alpha)
    pooled = (k + k_rest) / (n + n_rest)
    expected = np.minimum.reduce([n * pooled, n * (1 - pooled), n_rest * pooled, n_rest * (1 - pooled)])
    small = expected < _MIN_EXPECTED
    lift = k / n - k_rest / n_rest
    with np.errstate(invalid="ignore", divide="ignore"):
        z = lift / np.sqrt(pooled * (1 - pooled) * (1 / n + 1 / n_rest))
    p_value = 2 * norm.sf(np.abs(z))
    for i in np.flatnonzero(small):
        p_value[i] = fisher_exact([[k[i], n[i] - k[i]], [k_rest[i], n_rest[i] - k_rest[i]]]).pvalue
    test = np.where(small, ComparisonTest.FISHER_EXACT.value, ComparisonTest.TWO_PROPORTION_Z.value)
    return dict(lift=lift, lift_low=np.atleast_1d(low), lift_high=np.atleast_1d(high), test=test, p_value=p_value)


def minimum_effect(rate_rest, min_effect: float, min_effect_relative: float):
    """The practical minimum difference in points: the larger of the absolute and the relative one."""
    return np.maximum(min_effect, min_effect_relative * np.asarray(rate_rest, dtype=float))


def _with_fdr(table: pd.DataFrame, alpha: float, min_effect: float, min_effect_relative: float = 0.0) -> pd.DataFrame:
    """Benjamini–Hochberg q-values over every tested row, then verdicts and ranks (tested rows only).

    A level is flagged when its (adjusted) q-value is below ``alpha`` and its reported (shrunk,
    adjusted) effect is at least the practical minimum (:func:`minimum_effect`).
    """
    table = table.copy()
    tested = table["p_value"].notna().to_numpy()
    table["q_value"] = np.nan
    table["min_effect"] = np.nan
    table["rank"] = pd.Series(pd.NA, index=table.index, dtype="Int64")
    for text in ("test", "verdict", "reason", "adjusted_for"):
        table[text] = table[text].astype(object)
    if tested.any():
        from statsmodels.stats.multitest import multipletests

        table.loc[tested, "q_value"] = multipletests(table.loc[tested, "p_value"].to_numpy(float), alpha=alpha,
                                                     method="fdr_bh")[1]
        table["min_effect"] = minimum_effect(table["rate_rest"], min_effect, min_effect_relative)
        flagged = (table["q_value"] < alpha) & (table["effect"].abs() >= table["min_effect"])
        direction = np.where(table["effect"] > 0, Verdict.ABOVE_REST.value, Verdict.BELOW_REST.value)
        table.loc[tested, "verdict"] = np.where(flagged, direction, Verdict.NO_EVIDENCE.value)[tested]
        ranks = table.loc[tested].groupby(["transition", "column"])["rate"].rank(method="min", ascending=False)
        table.loc[tested, "rank"] = ranks.astype("Int64")
    return table[_COLUMNS]
