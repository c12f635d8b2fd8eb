"""Time to convert: a Cox proportional-hazards model (statsmodels PHReg) by channel and segment.

A hazard ratio above 1 means the level converts sooner (at any time, among leads not yet converted)
than its column's reference level, the most frequent one. Every lead that entered the transition
counts: converted leads are events at their conversion time, the others are censored at the as-of
date (lost leads included, as in :func:`~sla_toolkit.outcomes.transition_outcomes`). A level in
which nobody converted has a hazard ratio of 0 with no finite interval: its rows are left out and
the summary says so.

Ties use Efron's method. By default times count in whole days and the partial likelihood is computed
from tied event-time counts (events and leads at risk per covariate pattern and day), which gives
statsmodels' ``PHReg`` on every row to 1e-8 at a cost that follows patterns × days, not leads
(:mod:`.cox_counts`). With exact times (``whole_days=False``), or when there are too many patterns
and days for that, statsmodels' PHReg runs on every row.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ..check_labels import format_count, plural
from ..errors import Reason
from ..spec import SlaSpec
from .base import FitResult, Fitter, cannot_fit, captured_fit_warnings
from .cox_counts import MAX_CELLS, RiskSetCounts, fit_cox_on_counts
from .design import (BinomialData, CategoricalColumn, aggregate_patterns, aliased_columns, drop_constant_columns,
                     dummy_design, exclude_separated_levels, split_columns)
from .plots import forest
from .tables import ALIASED_NOTE, term_table

SUMMARY_COLUMNS = ["term", "column", "level", "role", "n", "events", "coef", "std_err", "hazard_ratio",
                   "ci_low", "ci_high", "p_value", "note"]
# A log hazard ratio this large, with an error this wide, is a likelihood that never peaks.
_RUNAWAY_COEF, _RUNAWAY_SE = 5.0, 10.0


@dataclass(frozen=True)
class TimeToConvertResult(FitResult):
    reference_levels: dict[str, str] = field(default_factory=dict)
    excluded: tuple[str, ...] = ()

    def plot_hazard_ratios(self, ax=None):
        """Forest plot of the hazard ratios (log scale); returns the Axes."""
        rows = self.summary.loc[self.summary["role"].isin(["level", "numeric"])]
        return forest(rows, "hazard_ratio", "ci_low", "ci_high", "hazard ratio of converting", ax)


class TimeToConvert(Fitter):
    """Cox proportional-hazards model of the time from entering a stage to converting.

    Parameters
    ----------
    columns:
        Covariates (categorical or numeric by dtype); absent columns are skipped with a note,
        columns in ``leaky`` are excluded.
    whole_days:
        Count time in whole days (a conversion after 2.3 days is on day 3; so is a lead censored then).
        Exact times give hundreds of thousands of distinct event times on a million leads and the fit's
        cost grows with them; days change the hazard ratios only in the third decimal.
    on_counts:
        With whole days, compute the partial likelihood from tied event-time counts (default) instead
        of running PHReg on every row; both give the same estimates.
    """

    def __init__(self, columns: Sequence[str], *, confidence: float = 0.95, ties: str = "efron",
                 max_iter: int = 100, leaky: Sequence[str] = (), whole_days: bool = True, on_counts: bool = True):
        self.columns = list(columns)
        self.whole_days = whole_days
        self.on_counts = on_counts
        self.confidence = confidence
        self.ties = ties
        self.max_iter = max_iter
        self.leaky = list(leaky)

    @classmethod
    def from_spec(cls, spec: SlaSpec, **options) -> "TimeToConvert":
        """Channel column and segments of the spec (the features are left to the other models)."""
        columns = list(dict.fromkeys([spec.channel_column, *spec.segments]))
        return cls(columns, confidence=spec.analysis.confidence, leaky=spec.leaky, **options)

    def fit(self, frame: pd.DataFrame, duration: str = "duration_days", event: str = "event") -> "TimeToConvert":
        """Fit on every row with a known duration (all entered leads of an :func:`outcome_frame`)."""
        self.excluded_ = tuple(c for c in self.columns if c in self.leaky)
        notes = [f"left out as leaky (spec.leaky): {', '.join(self.excluded_)}"] if self.excluded_ else []
        absent = [c for c in self.columns if c not in frame.columns and c not in self.excluded_]
        if absent:
            notes.append(f"not in the data, skipped: {', '.join(absent)}")
        used = [c for c in self.columns if c in frame.columns and c not in self.excluded_]
        self.statsmodels_result_ = None
        self.result_ = self._fit(frame, used, duration, event, notes)
        estimated = self.result_.summary["role"].isin(["level", "numeric"])
        self.params_ = self.result_.summary.loc[estimated].set_index("term")["coef"].astype(float)
        self.reference_levels_ = dict(self.result_.reference_levels)
        return self

    def plot_hazard_ratios(self, ax=None):
        return self._fitted_result().plot_hazard_ratios(ax)

    def _fit(self, frame: pd.DataFrame, used: list[str], duration: str, event: str,
             notes: list[str]) -> TimeToConvertResult:
        categorical, numeric = split_columns(frame, used)
        known = frame[duration].notna() & ~frame[numeric].isna().any(axis=1) if numeric else frame[duration].notna()
        rows = frame.loc[known.to_numpy()]
        base = dict(n_rows=len(rows), n_events=int(rows[event].astype(bool).sum()), confidence=self.confidence,
                    excluded=self.excluded_)
        if frame[duration].notna().sum() == 0:
            return self._cannot(Reason.NO_TIMESTAMPS, "no lead has a known time to convert (the stages have no "
                                "timestamps)", notes=tuple(notes), **base)
        if base["n_events"] == 0:
            return self._cannot(Reason.NO_EVENTS, f"none of the {len(rows):,} leads converted",
                                notes=tuple(notes), **base)
        if len(rows) < len(frame):
            dropped = len(frame) - len(rows)
            notes.append(f"{format_count(dropped, 'row')} without a duration or a numeric value "
                         f"{plural('is', dropped, 'are')} left out")
        data = BinomialData([CategoricalColumn.encode(c, rows[c]) for c in categorical],
                            {c: rows[c].to_numpy(float) for c in numeric}, np.ones(len(rows)),
                            rows[event].astype(bool).to_numpy(float))
        data, dropped = drop_constant_columns(data)
        notes += [f"{c} has a single value in the data and is left out" for c in dropped]
        if not data.categorical and not data.numeric:
            return self._cannot(Reason.SINGLE_LEVEL, "no column has more than one level or value, so there is "
                                "nothing to compare", notes=tuple(notes), **base)
        keep, separated = exclude_separated_levels(data.categorical, data.trials, data.successes,
                                                   all_events_separate=False)
        notes += [s.note for s in separated]
        keep_rows = np.flatnonzero(keep)
        data, durations = data.take(keep_rows), rows[duration].to_numpy(float)[keep_rows]
        if self.whole_days:   # a day's conversions are tied: the fit's cost follows the ~days, not the leads
            durations = np.ceil(durations)
        data, dropped = drop_constant_columns(data)
        notes += [f"{c} has a single level left after excluding levels without conversions" for c in dropped]
        base.update(n_rows=len(durations), n_events=int(data.successes.sum()))
        if not data.categorical and not data.numeric:
            return self._cannot(Reason.PERFECT_SEPARATION, "every level but one has no conversions",
                                notes=tuple(notes), **base)
        patterns, pattern_of_row = aggregate_patterns(data)
        matrix, terms, references = dummy_design(patterns, intercept=False)
        if base["n_events"] < matrix.shape[1]:
            return self._cannot(Reason.TOO_FEW_ROWS, f"{base['n_events']} conversions for {matrix.shape[1]} "
                                "parameters; the model needs at least one conversion per parameter",
                                notes=tuple(notes), **base)
        aliased = aliased_columns(matrix, patterns.trials)
        notes += [f"{terms[i]['term']} is {ALIASED_NOTE}" for i in aliased]
        kept = [i for i in range(matrix.shape[1]) if i not in aliased]
        matrix = matrix[:, kept]
        with captured_fit_warnings() as caught:
            fit, on_counts = self._estimate(durations, data.successes, matrix, pattern_of_row)
            params, bse = np.asarray(fit.params), np.asarray(fit.bse)
        if ((np.abs(params) > _RUNAWAY_COEF) & ~(bse < _RUNAWAY_SE)).any():
            return self._cannot(Reason.PERFECT_SEPARATION, "a hazard ratio runs off to 0 or infinity (the "
                                "converters are separated by the covariates)", notes=tuple(notes), **base)
        if caught.convergence or not np.all(np.isfinite(bse)):
            return self._cannot(Reason.NOT_CONVERGED, f"the fit did not converge within {self.max_iter} "
                                "iterations", notes=tuple(notes), **base)
        self.statsmodels_result_ = None if on_counts else fit
        if references:
            notes.insert(0, "reference levels (most frequent): " + ", ".join(f"{k}={v}" for k, v in references.items()))
        return TimeToConvertResult(model="time_to_convert", fitted=True, reason=Reason.OK,
                                   message=f"Cox proportional hazards ({self.ties} ties"
                                           f"{' on times in whole days' if self.whole_days else ''}"
                                           f"{', fitted on tied event-time counts' if on_counts else ''}); Wald "
                                           f"{self.confidence:.0%} intervals",
                                   summary=term_table(terms, fit, kept, references, patterns, separated,
                                                      self.confidence, ratio="hazard_ratio", count="events"),
                                   notes=tuple(notes), reference_levels=references, **base)

    def _estimate(self, durations: np.ndarray, events: np.ndarray, pattern_matrix: np.ndarray,
                  pattern_of_row: np.ndarray):
        """``(fit, on_counts)``: the partial likelihood on tied counts when they are few, else PHReg on every row."""
        if self.whole_days and self.on_counts and \
                RiskSetCounts.cells(durations, events, len(pattern_matrix)) <= MAX_CELLS:
            counts = RiskSetCounts.from_rows(durations, events, pattern_of_row, len(pattern_matrix))
            fit = fit_cox_on_counts(counts, pattern_matrix, ties=self.ties, max_iter=self.max_iter)
            if not fit.converged:
                from statsmodels.tools.sm_exceptions import ConvergenceWarning

                warnings.warn(f"Cox fit on counts: no convergence in {self.max_iter} iterations", ConvergenceWarning)
            return fit, True
        from statsmodels.duration.hazard_regression import PHReg   # deferred: heavy, not needed to show results

        fit = PHReg(durations, pattern_matrix[pattern_of_row], status=events.astype(int), ties=self.ties) \
            .fit(maxiter=self.max_iter)
        return fit, False

    def _cannot(self, reason: Reason, message: str, **fields) -> TimeToConvertResult:
        return cannot_fit(TimeToConvertResult, "time_to_convert", reason, message, SUMMARY_COLUMNS, **fields)
