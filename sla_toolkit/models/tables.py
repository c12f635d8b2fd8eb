"""The coefficient table shared by the GLM and the Cox model: one row per term, with its denominators.

Rows come column by column: the reference level (ratio 1), the estimated levels, then levels that
could not be estimated (``aliased``: a combination of other terms; ``separated``: no finite effect),
and finally the numeric columns. ``n`` and the count column are the rows behind each term.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .design import BinomialData, SeparatedLevel, level_counts

ALIASED_NOTE = ("a linear combination of other terms (for example the same leads as another column's level), "
                "so its effect cannot be told apart from theirs; left out of the model")


def term_table(terms: list[dict], fit, kept: list[int], references: dict[str, str], data: BinomialData,
               separated: list[SeparatedLevel], confidence: float, *, ratio: str, count: str) -> pd.DataFrame:
    """Coefficients of ``fit`` (estimated on the design columns ``kept``) laid out per term."""
    estimates = _estimates(fit, kept, len(terms), confidence)
    by_column = {c.name: c for c in data.categorical}
    total = dict(n=int(data.trials.sum()), events=int(data.successes.sum()))
    rows = []
    for i, term in enumerate(terms):
        if term["role"] == "intercept":
            rows.append(_row(term, total, estimates, i, ratio, count, "baseline odds at the reference levels"))
    for name, column in by_column.items():
        n, events = level_counts(column, data.trials, data.successes)
        ref = column.levels.index(references[name])
        rows.append({"term": f"{name}[{references[name]}]", "column": name, "level": references[name],
                     "role": "reference", "n": int(n[ref]), count: int(events[ref]), "coef": 0.0, ratio: 1.0,
                     "note": "reference level (most frequent)"})
        for i, term in enumerate(terms):
            if term["column"] == name and term["role"] == "level":
                counts = dict(n=int(n[term["code"]]), events=int(events[term["code"]]))
                rows.append(_row(term, counts, estimates, i, ratio, count))
        rows += [separated_row(s, count) for s in separated if s.column == name]
    for i, term in enumerate(terms):
        if term["role"] == "numeric":
            rows.append(_row(term, total, estimates, i, ratio, count))
    rows += [separated_row(s, count) for s in separated if s.column not in by_column]
    columns = ["term", "column", "level", "role", "n", count, "coef", "std_err", ratio, "ci_low", "ci_high",
               "p_value", "note"]
    return pd.DataFrame(rows, columns=columns)


def _estimates(fit, kept: list[int], n_terms: int, confidence: float) -> dict[str, np.ndarray]:
    """Coefficient arrays over all terms, NaN where a term was left out as aliased."""
    interval = np.asarray(fit.conf_int(alpha=1 - confidence))
    values = dict(coef=np.asarray(fit.params), std_err=np.asarray(fit.bse), log_low=interval[:, 0],
                  log_high=interval[:, 1], p_value=np.asarray(fit.pvalues))
    full = {}
    for key, array in values.items():
        full[key] = np.full(n_terms, np.nan)
        full[key][kept] = array
    full["aliased"] = np.ones(n_terms, bool)
    full["aliased"][kept] = False
    return full


def _row(term: dict, counts: dict, estimates: dict, i: int, ratio: str, count: str, note: str = "") -> dict:
    aliased = bool(estimates["aliased"][i])
    return {"term": term["term"], "column": term["column"], "level": term["level"],
            "role": "aliased" if aliased else term["role"], "n": counts["n"], count: counts["events"],
            "coef": estimates["coef"][i], "std_err": estimates["std_err"][i], ratio: np.exp(estimates["coef"][i]),
            "ci_low": np.exp(estimates["log_low"][i]), "ci_high": np.exp(estimates["log_high"][i]),
            "p_value": estimates["p_value"][i], "note": ALIASED_NOTE if aliased else note}


def separated_row(level: SeparatedLevel, count: str) -> dict:
    """A summary row for a level left out of the fit because its effect is not finite."""
    return {"term": f"{level.column}[{level.level}]", "column": level.column, "level": level.level,
            "role": "separated", "n": level.n, count: level.events, "note": level.note}
