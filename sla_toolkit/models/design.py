"""Model inputs and fit checks: the outcome frame, column typing, categorical encoding, separation.

Conventions shared by every model here:

- a missing categorical value is its own level, ``"(missing)"``, so no lead is dropped for it;
- the reference level of a categorical column is its most frequent level (ties: first by name);
- columns with a numeric dtype (not bool) are numeric, everything else is categorical;
- a level in which every lead converted, or none did, has no finite effect (separation): its
  rows are excluded from the fit and the summary says so, instead of showing a huge coefficient.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..breakdowns import MISSING_LEVEL, level_labels  # noqa: F401  (re-exported for models)
from ..outcomes import transition_outcomes
from ..spec import SlaSpec

OUTCOME_COLUMNS = ("entered", "matured", "converted", "converted_in_window", "duration_days", "event", "open")


def model_columns(spec: SlaSpec) -> list[str]:
    """Covariates the spec names for models: the channel column, the segments, then the features."""
    ordered = [spec.channel_column, *spec.segments, *spec.features]
    return list(dict.fromkeys(ordered))


def outcome_frame(leads: pd.DataFrame, spec: SlaSpec, as_of, from_stage: str | None = None,
                  to_stage: str | None = None) -> pd.DataFrame:
    """Leads that entered ``from_stage``, with their covariates and transition outcomes.

    Defaults to the whole funnel (first stage to last). Columns: ``lead_id``, the covariates of
    :func:`model_columns` that exist in ``leads``, ``created_at`` when present, the outcome columns of
    :func:`~sla_toolkit.outcomes.transition_outcomes`, and ``open`` (not matured, not converted).
    Models of conversion within the window use the ``matured`` rows only; the fitters apply
    that filter themselves when the column is present.
    """
    from_stage = from_stage or spec.funnel.first
    to_stage = to_stage or spec.funnel.last
    outcomes = transition_outcomes(leads, spec, from_stage, to_stage, as_of)
    entered = outcomes["entered"].to_numpy()
    covariates = [c for c in model_columns(spec) if c in leads.columns and c not in OUTCOME_COLUMNS]
    # creation dates order the lead-scoring folds in time (analysis.time_order)
    dated = ["created_at"] if "created_at" in leads.columns and "created_at" not in covariates else []
    frame = pd.concat([leads.loc[entered, ["lead_id", *covariates, *dated]], outcomes.loc[entered]], axis=1)
    frame["open"] = ~frame["matured"] & ~frame["converted"]
    return frame.reset_index(drop=True)


def matured_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Rows whose window has elapsed (all rows when there is no ``matured`` column) and how many were left out."""
    if "matured" not in frame.columns:
        return frame, 0
    keep = frame["matured"].astype(bool).to_numpy()
    return frame.loc[keep], int((~keep).sum())


def is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def split_columns(frame: pd.DataFrame, columns: list[str]) -> tuple[list[str], list[str]]:
    """``(categorical, numeric)`` names, by dtype."""
    numeric = [c for c in columns if is_numeric(frame[c])]
    return [c for c in columns if c not in numeric], numeric


@dataclass(frozen=True)
class CategoricalColumn:
    """A categorical column as integer codes into ``levels`` (sorted; ``"(missing)"`` last)."""

    name: str
    codes: np.ndarray
    levels: tuple[str, ...]

    @classmethod
    def encode(cls, name: str, series: pd.Series) -> "CategoricalColumn":
        codes, uniques = pd.factorize(series, sort=True, use_na_sentinel=True)
        levels = [str(u) for u in uniques]
        if (codes < 0).any():
            codes = np.where(codes < 0, len(levels), codes)
            levels.append(MISSING_LEVEL)
        return cls(name, codes.astype(np.int64), tuple(levels))

    def take(self, rows: np.ndarray) -> "CategoricalColumn":
        return CategoricalColumn(self.name, self.codes[rows], self.levels)


def level_counts(column: CategoricalColumn, trials: np.ndarray, successes: np.ndarray,
                 keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Trials and successes per level (optionally over the rows in ``keep`` only)."""
    weight = trials if keep is None else np.where(keep, trials, 0)
    hits = successes if keep is None else np.where(keep, successes, 0)
    size = len(column.levels)
    return (np.bincount(column.codes, weights=weight, minlength=size),
            np.bincount(column.codes, weights=hits, minlength=size))


@dataclass(frozen=True)
class SeparatedLevel:
    column: str
    level: str
    n: int
    events: int

    @property
    def note(self) -> str:
        share = "none" if self.events == 0 else "all"
        return (f"{self.column}={self.level}: {share} of {self.n:,} converted, so its effect is not "
                f"finite (separation); its rows are left out of the fit")


def exclude_separated_levels(columns: list[CategoricalColumn], trials: np.ndarray, successes: np.ndarray,
                             all_events_separate: bool = True) -> tuple[np.ndarray, list[SeparatedLevel]]:
    """Rows to keep once every level with no conversions (or, for a binomial model, only conversions) is left out.

    Repeats until no such level remains, since leaving one out can separate another.
    """
    keep = trials > 0
    separated: list[SeparatedLevel] = []
    while keep.any():
        found = False
        for column in columns:
            n, s = level_counts(column, trials, successes, keep)
            separates = (s == 0) | (s == n) if all_events_separate else (s == 0)
            for code in np.flatnonzero((n > 0) & separates):
                separated.append(SeparatedLevel(column.name, column.levels[code], int(n[code]), int(s[code])))
                keep &= column.codes != code
                found = True
        if not found:
            break
    return keep, separated


def numeric_separation(values: np.ndarray, outcome: np.ndarray, non_event: np.ndarray | None = None) -> bool:
    """True when one numeric column alone splits converters from the rest (complete separation).

    ``outcome`` marks rows with a conversion; ``non_event`` rows with a non-conversion (default: the
    other rows). On covariate patterns a row can be both.
    """
    hit, miss = values[outcome], values[~outcome if non_event is None else non_event]
    hit, miss = hit[~np.isnan(hit)], miss[~np.isnan(miss)]
    if len(hit) == 0 or len(miss) == 0:
        return False
    return bool(hit.min() > miss.max() or hit.max() < miss.min())


def aliased_columns(matrix: np.ndarray, weights: np.ndarray, tolerance: float = 1e-9) -> list[int]:
    """Indices of design columns that are (numerically) linear combinations of earlier columns.

    Works left to right on the weighted cross-product matrix, as R's ``glm`` does, so the
    intercept and the first of two related columns are kept. ``weights`` are the trials of each
    pattern, which makes the answer the same for an aggregated and a row-level design.
    """
    gram = matrix.T @ (matrix * weights[:, None])
    kept: list[int] = []
    aliased: list[int] = []
    for j in range(gram.shape[0]):
        residual = gram[j, j]
        if kept:
            block = gram[np.ix_(kept, kept)]
            residual -= gram[j, kept] @ np.linalg.solve(block, gram[kept, j])
        (kept if residual > tolerance * gram[j, j] else aliased).append(j)
    return aliased


@dataclass
class BinomialData:
    """Binomial data as patterns: one row per covariate pattern (or per lead for a row-level fit)."""

    categorical: list[CategoricalColumn]
    numeric: dict[str, np.ndarray]
    trials: np.ndarray
    successes: np.ndarray

    def take(self, rows: np.ndarray) -> "BinomialData":
        return BinomialData([c.take(rows) for c in self.categorical],
                            {k: v[rows] for k, v in self.numeric.items()}, self.trials[rows], self.successes[rows])


def patterns_of(codes: list[np.ndarray], dims: list[int]) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Distinct rows of integer codes (``codes[j]`` in ``range(dims[j])``): each column's codes per pattern,
    and each row's pattern index."""
    if float(np.prod(dims, dtype=float)) < 2 ** 62:
        patterns, inverse = np.unique(np.ravel_multi_index(codes, dims), return_inverse=True)
        pattern_codes = np.unravel_index(patterns, dims)
    else:
        unique_rows, inverse = np.unique(np.column_stack(codes), axis=0, return_inverse=True)
        pattern_codes = tuple(unique_rows.T)
    return pattern_codes, inverse.reshape(-1)


def distinct_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a 2-D float array (NaN equal to NaN) and each row's index among them.

    A model that scores row by row gives ``scores(distinct)[inverse]`` equal to ``scores(matrix)``, for
    a fraction of the cost when inputs repeat (levels and small counts: tens of thousands of distinct
    rows among millions of leads).
    """
    factorized = [pd.factorize(column, use_na_sentinel=False) for column in matrix.T]
    pattern_codes, inverse = patterns_of([codes for codes, _ in factorized], [len(u) for _, u in factorized])
    distinct = np.column_stack([np.asarray(uniques, dtype=float)[codes]
                                for (_, uniques), codes in zip(factorized, pattern_codes)]) \
        if factorized else matrix[:0]
    return distinct.reshape(len(pattern_codes[0]) if factorized else 0, matrix.shape[1]), inverse


def aggregate_patterns(data: BinomialData) -> tuple[BinomialData, np.ndarray]:
    """One row per covariate pattern (categorical codes and numeric values), with summed trials and successes.

    Returns the patterns and, for each input row, the index of its pattern. A binomial (or Poisson)
    likelihood on the patterns equals the row-level one, so fits on either give the same estimates.
    """
    numeric_codes, numeric_values = [], []
    for values in data.numeric.values():
        codes, uniques = pd.factorize(values, sort=True)
        numeric_codes.append(codes.astype(np.int64))
        numeric_values.append(np.asarray(uniques, dtype=float))
    codes = [c.codes for c in data.categorical] + numeric_codes
    dims = [len(c.levels) for c in data.categorical] + [len(v) for v in numeric_values]
    pattern_codes, inverse = patterns_of(codes, dims)
    size = len(pattern_codes[0]) if codes else 0
    trials = np.bincount(inverse, weights=data.trials, minlength=size)
    successes = np.bincount(inverse, weights=data.successes, minlength=size)
    n_categorical = len(data.categorical)
    columns = [CategoricalColumn(c.name, np.asarray(pc, dtype=np.int64), c.levels)
               for c, pc in zip(data.categorical, pattern_codes)]
    numeric = {name: values[np.asarray(pc)] for name, values, pc
               in zip(data.numeric, numeric_values, pattern_codes[n_categorical:])}
    return BinomialData(columns, numeric, trials, successes), inverse


def drop_constant_columns(data: BinomialData) -> tuple[BinomialData, list[str]]:
    """Leave out columns with a single level (or a single value) among the rows with trials."""
    categorical, numeric, dropped = [], {}, []
    for column in data.categorical:
        levels_present = np.bincount(column.codes, weights=data.trials, minlength=len(column.levels)) > 0
        if levels_present.sum() > 1:
            categorical.append(column)
        else:
            dropped.append(column.name)
    for name, values in data.numeric.items():
        if len(values) and np.nanmax(values) > np.nanmin(values):
            numeric[name] = values
        else:
            dropped.append(name)
    return BinomialData(categorical, numeric, data.trials, data.successes), dropped


def dummy_design(data: BinomialData, intercept: bool = True) -> tuple[np.ndarray, list[dict], dict[str, str]]:
    """(Intercept,) one dummy per non-reference level with rows, then the numeric columns.

    Returns the matrix, one dict per matrix column (term, column, level, role, code) and the
    reference level of each categorical column (its most frequent level; ties: first by name).
    """
    blocks = [np.ones(len(data.trials))] if intercept else []
    terms: list[dict] = [dict(term="Intercept", column="", level="", role="intercept", code=None)] if intercept else []
    references: dict[str, str] = {}
    for column in data.categorical:
        n, _ = level_counts(column, data.trials, data.successes)
        ref = int(np.argmax(n))
        references[column.name] = column.levels[ref]
        for code in np.flatnonzero(n > 0):
            if code == ref:
                continue
            blocks.append((column.codes == code).astype(float))
            terms.append(dict(term=f"{column.name}[{column.levels[code]}]", column=column.name,
                              level=column.levels[code], role="level", code=int(code)))
    for name, values in data.numeric.items():
        blocks.append(values)
        terms.append(dict(term=name, column=name, level="", role="numeric", code=None))
    return np.column_stack(blocks), terms, references
