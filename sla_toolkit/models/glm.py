"""Adjusted effects: odds ratios of converting within the window, from a binomial GLM (logit link).

Every effect is adjusted for the other columns in the model, so a channel's odds ratio is not
confounded by region or lead type. The reference level of each categorical column is its most
frequent level; a missing value is its own level ``"(missing)"``.

The model is fit on sufficient statistics: one row per covariate pattern (the levels of the
categorical inputs and the values of the numeric ones) with its conversions and trials (a two-column
binomial response). This gives the same coefficients and standard errors as the row-level fit, at a
fraction of the time and memory. When patterns are not much fewer than rows (a continuous numeric
input), the fit is row-level. Rows missing a numeric value are left out (the notes count them).

Example
-------
>>> frame = outcome_frame(leads, spec, as_of="2024-03-31")          # doctest: +SKIP
>>> AdjustedEffects.from_spec(spec).fit(frame).summary              # doctest: +SKIP
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ..check_labels import format_count, plural
from ..errors import Reason
from ..spec import SlaSpec
from .base import FitResult, Fitter, cannot_fit, captured_fit_warnings
from .design import (BinomialData, CategoricalColumn, SeparatedLevel, aggregate_patterns, aliased_columns,
                     drop_constant_columns, dummy_design, exclude_separated_levels, matured_rows, model_columns,
                     numeric_separation, split_columns)
from .plots import forest
from .tables import ALIASED_NOTE, separated_row, term_table

SUMMARY_COLUMNS = ["term", "column", "level", "role", "n", "conversions", "coef", "std_err",
                   "odds_ratio", "ci_low", "ci_high", "p_value", "note"]
# A fitted probability this close to 0 or 1 means the optimiser ran off towards an infinite effect.
_BOUNDARY = 1e-6


@dataclass(frozen=True)
class AdjustedEffectsResult(FitResult):
    """Odds ratios with intervals; ``reference_levels`` names the level each odds ratio compares with."""

    reference_levels: dict[str, str] = field(default_factory=dict)
    aggregated: bool = False
    n_patterns: int = 0
    excluded: tuple[str, ...] = ()

    def plot_odds_ratios(self, ax=None):
        """Forest plot of the adjusted odds ratios (log scale); returns the Axes."""
        rows = self.summary.loc[self.summary["role"].isin(["level", "numeric"])]
        return forest(rows, "odds_ratio", "ci_low", "ci_high", "adjusted odds ratio", ax)


class AdjustedEffects(Fitter):
    """Binomial GLM (logit) of conversion within the window, reported as adjusted odds ratios.

    Parameters
    ----------
    columns:
        Covariates (categorical or numeric by dtype). Columns absent from the data are skipped
        with a note; columns listed in ``leaky`` are excluded and listed in ``excluded_``.
    aggregate:
        Fit on covariate-pattern counts. ``None`` (default) does so whenever there are at most half as
        many patterns as rows.
    max_iter:
        IRLS iterations before the fit is declared not converged.
    """

    def __init__(self, columns: Sequence[str], *, confidence: float = 0.95, aggregate: bool | None = None,
                 max_iter: int = 100, leaky: Sequence[str] = ()):
        self.columns = list(columns)
        self.confidence = confidence
        self.aggregate = aggregate
        self.max_iter = max_iter
        self.leaky = list(leaky)

    @classmethod
    def from_spec(cls, spec: SlaSpec, **options) -> "AdjustedEffects":
        """Channel column, segments and features of the spec; leaky columns excluded."""
        return cls(model_columns(spec), confidence=spec.analysis.confidence, leaky=spec.leaky, **options)

    def fit(self, frame: pd.DataFrame, outcome: str = "converted_in_window") -> "AdjustedEffects":
        """Fit on the matured rows of ``frame`` (all rows when it has no ``matured`` column)."""
        needed = [c for c in dict.fromkeys([*self.columns, outcome, "matured"]) if c in frame.columns]
        rows, n_open = matured_rows(frame[needed])   # copy only the columns the model reads
        notes = [f"{format_count(n_open, 'lead')} whose window has not elapsed {plural('is', n_open, 'are')} left out"] \
            if n_open else []
        self.excluded_ = tuple(c for c in self.columns if c in self.leaky)
        if self.excluded_:
            notes.append(f"left out as leaky (spec.leaky): {', '.join(self.excluded_)}")
        absent = [c for c in self.columns if c not in rows.columns and c not in self.excluded_]
        if absent:
            notes.append(f"not in the data, skipped: {', '.join(absent)}")
        used = [c for c in self.columns if c in rows.columns and c not in self.excluded_]
        self.statsmodels_result_ = None
        self.result_ = self._fit(rows, used, rows[outcome].astype(bool).to_numpy(), notes)
        estimated = self.result_.summary["role"].isin(["intercept", "level", "numeric"])
        self.params_ = self.result_.summary.loc[estimated].set_index("term")["coef"].astype(float)
        self.reference_levels_ = dict(self.result_.reference_levels)
        return self

    def plot_odds_ratios(self, ax=None):
        return self._fitted_result().plot_odds_ratios(ax)

    # -- the recipe -------------------------------------------------------------------------------
    def _fit(self, rows: pd.DataFrame, used: list[str], y: np.ndarray, notes: list[str]) -> AdjustedEffectsResult:
        categorical, numeric = split_columns(rows, used)
        missing_numeric = rows[numeric].isna().any(axis=1).to_numpy() if numeric else np.zeros(len(y), bool)
        if missing_numeric.any():
            missing = int(missing_numeric.sum())
            notes.append(f"{format_count(missing, 'row')} missing a numeric value {plural('is', missing, 'are')} left out")
            rows, y = rows.loc[~missing_numeric], y[~missing_numeric]
        base = dict(n_rows=len(y), n_events=int(y.sum()), confidence=self.confidence, excluded=self.excluded_,
                    aggregated=self.aggregate if self.aggregate is not None else not numeric)
        stop = _outcome_problem(len(y), int(y.sum()))
        if stop:
            return self._cannot(*stop, notes=tuple(notes), **base)
        data = BinomialData([CategoricalColumn.encode(c, rows[c]) for c in categorical],
                            {c: rows[c].to_numpy(float) for c in numeric}, np.ones(len(y)), y.astype(float))
        data, dropped = drop_constant_columns(data)
        notes += [f"{c} has a single value in the data and is left out" for c in dropped]
        if not data.categorical and not data.numeric:
            return self._cannot(Reason.SINGLE_LEVEL, "no column has more than one level or value, so there is "
                                "nothing to compare", notes=tuple(notes), **base)
        n_params = 1 + sum(len(c.levels) - 1 for c in data.categorical) + len(data.numeric)
        if len(y) < n_params:
            return self._cannot(Reason.TOO_FEW_ROWS, f"{len(y)} rows for {n_params} parameters; the model "
                                "needs at least one row per parameter", notes=tuple(notes), **base)
        patterns, _ = aggregate_patterns(data)
        aggregated = self.aggregate if self.aggregate is not None else len(patterns.trials) <= len(y) / 2
        base["aggregated"] = aggregated
        if aggregated:
            data = patterns
        keep, separated = exclude_separated_levels(data.categorical, data.trials, data.successes)
        notes += [s.note for s in separated]
        data = data.take(np.flatnonzero(keep))
        data, dropped = drop_constant_columns(data)
        notes += [f"{c} has a single level left after excluding separated levels and is left out" for c in dropped]
        base.update(n_rows=int(data.trials.sum()), n_events=int(data.successes.sum()), n_patterns=len(data.trials))
        split = [c for c, v in data.numeric.items()
                 if numeric_separation(v, data.successes > 0, data.trials > data.successes)]
        if separated and not (data.categorical or data.numeric) or split:
            why = f"{split[0]} alone separates converters from the rest" if split else \
                "every level is separated (no conversions or only conversions)"
            return self._cannot(Reason.PERFECT_SEPARATION, f"{why}; odds ratios would be infinite",
                                notes=tuple(notes), separated=separated, **base)
        return self._estimate(data, separated, aggregated, notes, base)

    def _estimate(self, data: BinomialData, separated: list[SeparatedLevel], aggregated: bool, notes: list[str],
                  base: dict) -> AdjustedEffectsResult:
        matrix, terms, references = dummy_design(data)
        if data.trials.sum() < matrix.shape[1]:
            return self._cannot(Reason.TOO_FEW_ROWS, f"{int(data.trials.sum())} rows for {matrix.shape[1]} "
                                "parameters after excluding separated levels", notes=tuple(notes),
                                separated=separated, **base)
        aliased = aliased_columns(matrix, data.trials)
        notes += [f"{terms[i]['term']} is {ALIASED_NOTE}" for i in aliased]
        kept = [i for i in range(matrix.shape[1]) if i not in aliased]
        matrix = matrix[:, kept]
        endog = np.column_stack([data.successes, data.trials - data.successes]) if aggregated else data.successes
        from statsmodels.genmod import families   # deferred: heavy, not needed to show results
        from statsmodels.genmod.generalized_linear_model import GLM

        with captured_fit_warnings() as caught:
            fit = GLM(endog, matrix, family=families.Binomial()).fit(maxiter=self.max_iter)
            mu, std_err = np.asarray(fit.mu), np.asarray(fit.bse)
        # statsmodels' PerfectSeparationWarning means "fitted = observed", which a saturated model of
        # pattern proportions also triggers; fitted probabilities at 0 or 1 are the reliable sign.
        if ((mu < _BOUNDARY) | (mu > 1 - _BOUNDARY)).any():
            return self._cannot(Reason.PERFECT_SEPARATION, "a combination of columns separates converters from "
                                "the rest (fitted probabilities of 0 or 1); odds ratios would be infinite",
                                notes=tuple(notes), separated=separated, **base)
        if not fit.converged or caught.convergence or not np.all(np.isfinite(std_err)):
            return self._cannot(Reason.NOT_CONVERGED, f"the fit did not converge within {self.max_iter} "
                                "iterations", notes=tuple(notes), separated=separated, **base)
        self.statsmodels_result_ = fit
        summary = term_table(terms, fit, kept, references, data, separated, self.confidence,
                             ratio="odds_ratio", count="conversions")
        if references:
            notes.insert(0, "reference levels (most frequent): " + ", ".join(f"{k}={v}" for k, v in references.items()))
        return AdjustedEffectsResult(model="adjusted_effects", fitted=True, reason=Reason.OK,
                                     message=f"binomial GLM (logit){' on covariate patterns' if aggregated else ''}; "
                                             f"Wald {self.confidence:.0%} intervals", summary=summary,
                                     notes=tuple(notes), reference_levels=references, **base)

    def _cannot(self, reason: Reason, message: str, *, separated=(), **fields) -> AdjustedEffectsResult:
        return cannot_fit(AdjustedEffectsResult, "adjusted_effects", reason, message, SUMMARY_COLUMNS,
                          rows=[separated_row(s, "conversions") for s in separated], **fields)


def _outcome_problem(n: int, events: int) -> tuple[Reason, str] | None:
    if n == 0:
        return Reason.INSUFFICIENT_N, "no matured leads to fit on"
    if events == 0:
        return Reason.NO_EVENTS, f"none of the {n:,} leads converted, so there is no effect to estimate"
    if events == n:
        return Reason.ALL_EVENTS, f"all {n:,} leads converted, so there is no effect to estimate"
    return None
