"""Leak detector: inputs that may have been filled in after the outcome.

A field sales completes once a deal is decided ("tags", "lead quality", call length) predicts the
outcome almost perfectly and passes every cross-validation. Two signs flag a column as a *possible*
leak: on its own it separates converters from the rest (single-feature ROC AUC of at least
:data:`SINGLE_FEATURE_AUC_LIMIT`), or it carries more than :data:`IMPORTANCE_SHARE_LIMIT` of the permutation
importance of a chosen model that separates well (validated AUC of at least :data:`STRONG_MODEL_AUC`, with
two or more inputs). A leak makes a model too good to be true; the strongest input of a weak model (one
channel converting better than the others, at an AUC of 0.6) is an ordinary signal, not a sign of one.
Only the analyst can tell whether the field is known when a lead is scored; the report names it and shows
the model refit without it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

SINGLE_FEATURE_AUC_LIMIT = 0.95
IMPORTANCE_SHARE_LIMIT = 0.5
STRONG_MODEL_AUC = 0.8
LEAK_COLUMNS = ["feature", "single_feature_auc", "importance_share", "possible_leak", "why"]


def single_feature_auc(inputs: pd.DataFrame, y: np.ndarray, categorical: list[str], seed: int = 0) -> pd.Series:
    """ROC AUC of each column on its own, whichever direction separates better (0.5 to 1).

    A numeric column scores by its value (missing values at the median); a categorical column by its
    level's conversion share, cross-fitted (scikit-learn's ``TargetEncoder``) so that a column with a
    level per lead does not separate by construction.
    """
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import TargetEncoder

    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    values = {}
    for name in inputs.columns:
        column = inputs[name].to_numpy(float)
        if name in categorical:
            codes = np.nan_to_num(column, nan=-1.0).reshape(-1, 1)
            score = TargetEncoder(target_type="binary", cv=folds).fit_transform(codes, y)[:, 0]
        else:
            score = np.where(np.isnan(column), np.nanmedian(column) if np.isfinite(column).any() else 0.0, column)
        auc = roc_auc_score(y, score)
        values[name] = max(auc, 1.0 - auc)
    return pd.Series(values, name="single_feature_auc", dtype=float)


def leak_table(single_auc: pd.Series, importance: pd.DataFrame, model_auc: float) -> pd.DataFrame:
    """One row per input: single-feature AUC, share of the positive permutation importance, verdict, why.

    ``importance`` has ``feature`` and ``importance_mean`` (drop in AUC when the column is shuffled);
    ``model_auc`` is the chosen model's validated AUC (the importance share counts only from
    :data:`STRONG_MODEL_AUC`).
    """
    drop = importance.set_index("feature")["importance_mean"].reindex(single_auc.index).clip(lower=0).fillna(0)
    share = drop / drop.sum() if drop.sum() > 0 else drop * 0.0
    by_auc = single_auc >= SINGLE_FEATURE_AUC_LIMIT
    by_share = (share > IMPORTANCE_SHARE_LIMIT) & (len(single_auc) > 1) & (model_auc >= STRONG_MODEL_AUC)
    why = [", ".join(reason for reason, hit in ((f"AUC on its own {a:.3f} ≥ {SINGLE_FEATURE_AUC_LIMIT}", ba),
                                                  (f"{s:.0%} of the permutation importance of a model with "
                                                   f"AUC {model_auc:.2f}", bs)) if hit)
           for a, s, ba, bs in zip(single_auc, share, by_auc, by_share)]
    table = pd.DataFrame({"feature": single_auc.index, "single_feature_auc": single_auc.to_numpy(),
                          "importance_share": share.to_numpy(), "possible_leak": (by_auc | by_share).to_numpy(),
                          "why": why})
    return table.sort_values(["possible_leak", "importance_share"], ascending=False, ignore_index=True)[LEAK_COLUMNS]


def leak_note(table: pd.DataFrame) -> str:
    """The sentence the report and results.json carry when a column is flagged (``table``: :func:`leak_table`)."""
    flagged = table.loc[table["possible_leak"]]
    named = "; ".join(f"{r.feature} ({r.why})" for r in flagged.itertuples())
    return (f"possible leak: {named}. A field filled in after the outcome (by sales, once the deal is decided) "
            "belongs under `leaky:` in sla.yaml; a genuinely strong input may stay. The model refit without it is "
            "shown beside the original")
