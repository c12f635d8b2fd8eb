"""Breakdowns by channel and segment: each level against the rest of its column, with honest significance.

The rate of a level is the **matured-cohort rate**: conversions within the window among the leads of
that level whose window has fully elapsed by ``as_of`` (leads still open are not counted as failures).
Each level is compared with all other matured leads of the same column: the lift is the difference in
rates, with a Newcombe (hybrid Wilson score) interval, and the test is a two-sided two-proportion z test
(pooled variance) when every expected cell count is at least 5, Fisher's exact test otherwise.
Benjamini–Hochberg control runs once over the whole family of comparisons in the result (every column
and every transition passed in); q-values sit next to p-values. Levels with fewer matured leads than
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
from scipy.stats import fisher_exact
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportions_ztest

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


class TestMethod(str, Enum):
    TWO_PROPORTION_Z = "two_proportion_z"
    FISHER_EXACT = "fisher_exact"


def level_labels(series: pd.Series) -> pd.Series:
    """Values as plain strings (object dtype), missing values as the ``"(missing)"`` level."""
    return series.astype(object).where(series.notna(), MISSING_LEVEL).map(str).astype(object)


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
        intro = (f"<p>Rate: {html.escape(self.rate_definition)}. Tests: two-proportion z (Fisher exact when an "
                 f"expected count is below {_MIN_EXPECTED}); Benjamini–Hochberg over {self.n_tests} comparisons, "
                 f"q &lt; {self.alpha:g}; levels with fewer than {self.min_n} matured leads are not tested.</p>")
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
    rows: list[dict] = []
    for from_stage, to_stage in pairs:
        outcomes = transition_outcomes(leads, spec, from_stage, to_stage, as_of)
        for column in present:
            rows += _compare_levels(level_labels(leads[column]), outcomes, settings.min_n, settings.confidence,
                                    transition_name(from_stage, to_stage), column)
    table = _with_fdr(pd.DataFrame(rows, columns=_COLUMNS), settings.alpha, settings.min_effect)
    return BreakdownResult(summary=table, as_of=None if as_of is None else pd.Timestamp(as_of),
                           n_tests=int(table["p_value"].notna().sum()), alpha=settings.alpha,
                           confidence=settings.confidence, min_n=settings.min_n, min_effect=settings.min_effect,
                           notes=tuple(notes))


_COLUMNS = ["transition", "column", "level", "n_entered", "n_converted", "n_open", "n_matured", "conversions",
            "rate", "rate_low", "rate_high", "n_rest", "conversions_rest", "rate_rest", "lift", "lift_low",
            "lift_high", "test", "p_value", "q_value", "verdict", "rank", "reason"]


def _compare_levels(labels: pd.Series, outcomes: pd.DataFrame, min_n: int, confidence: float,
                    transition: str, column: str) -> list[dict]:
    entered = outcomes["entered"].to_numpy(bool)
    matured = outcomes["matured"].to_numpy(bool)[entered]
    counts = pd.DataFrame({
        "level": labels.to_numpy()[entered],
        "n_entered": 1,
        "n_converted": outcomes["converted"].to_numpy(bool)[entered],
        "n_open": ~matured & ~outcomes["converted"].to_numpy(bool)[entered],
        "n_matured": matured,
        "conversions": matured & outcomes["converted_in_window"].to_numpy(bool)[entered],
    }).groupby("level", sort=True).sum().astype(int)
    total_n, total_c = int(counts["n_matured"].sum()), int(counts["conversions"].sum())
    alpha = 1 - confidence
    rows = []
    for level, c in counts.iterrows():
        n, k = int(c["n_matured"]), int(c["conversions"])
        n_rest, k_rest = total_n - n, total_c - k
        row = dict(transition=transition, column=column, level=level, **{f: int(c[f]) for f in counts.columns},
                   n_rest=n_rest, conversions_rest=k_rest, rate=k / n if n else np.nan,
                   rate_rest=k_rest / n_rest if n_rest else np.nan)
        if n:
            row["rate_low"], row["rate_high"] = proportion_confint(k, n, alpha=alpha, method="wilson")
        if len(counts) < 2:
            row.update(verdict=Verdict.NOT_TESTED.value, reason=Reason.SINGLE_LEVEL.value)
        elif n < min_n or n_rest < min_n:
            row.update(verdict=Verdict.INSUFFICIENT_DATA.value, reason=Reason.INSUFFICIENT_N.value)
        else:
            row.update(_two_proportion(k, n, k_rest, n_rest, alpha), reason=Reason.OK.value)
        rows.append(row)
    return rows


def _two_proportion(k: int, n: int, k_rest: int, n_rest: int, alpha: float) -> dict:
    """Lift with a Newcombe interval, and the p-value of z (or Fisher's exact test for small expected counts)."""
    low, high = confint_proportions_2indep(k, n, k_rest, n_rest, method="newcomb", compare="diff", alpha=alpha)
    pooled = (k + k_rest) / (n + n_rest)
    expected = min(n * pooled, n * (1 - pooled), n_rest * pooled, n_rest * (1 - pooled))
    if expected < _MIN_EXPECTED:
        method = TestMethod.FISHER_EXACT
        p_value = fisher_exact([[k, n - k], [k_rest, n_rest - k_rest]]).pvalue
    else:
        method = TestMethod.TWO_PROPORTION_Z
        p_value = proportions_ztest([k, k_rest], [n, n_rest])[1]
    return dict(lift=k / n - k_rest / n_rest, lift_low=float(low), lift_high=float(high), test=method.value,
                p_value=float(p_value))


def _with_fdr(table: pd.DataFrame, alpha: float, min_effect: float) -> pd.DataFrame:
    """Benjamini–Hochberg q-values over every tested row, then verdicts and ranks."""
    tested = table["p_value"].notna().to_numpy()
    table["q_value"] = np.nan
    if tested.any():
        table.loc[tested, "q_value"] = multipletests(table.loc[tested, "p_value"].to_numpy(float), alpha=alpha,
                                                     method="fdr_bh")[1]
    flagged = tested & (table["q_value"] < alpha).to_numpy() & (table["lift"].abs() >= min_effect).to_numpy()
    direction = np.where(table["lift"] > 0, Verdict.ABOVE_REST.value, Verdict.BELOW_REST.value)
    table.loc[tested, "verdict"] = np.where(flagged, direction, Verdict.NO_EVIDENCE.value)[tested]
    table["rank"] = table.loc[tested].groupby(["transition", "column"])["rate"] \
        .rank(method="min", ascending=False).astype("Int64")
    table["rank"] = table["rank"].astype("Int64")
    return table
