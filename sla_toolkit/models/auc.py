"""ROC AUC with DeLong's standard error (DeLong, DeLong & Clarke-Pearson, 1988)."""
from __future__ import annotations

import numpy as np


def delong_auc(outcome: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """AUC and its DeLong standard error, from mid-ranks (ties count one half).

    Each converter's structural component is the share of non-converters it out-scores, each
    non-converter's the share of converters that out-score it; the variance of the AUC is the sum
    of their sample variances divided by the group sizes.
    """
    outcome = np.asarray(outcome, bool)
    score = np.asarray(score, float)
    positives, negatives = score[outcome], score[~outcome]
    m, n = len(positives), len(negatives)
    if m < 2 or n < 2:
        raise ValueError(f"DeLong needs at least 2 converters and 2 non-converters, got {m} and {n}")
    from scipy.stats import rankdata   # deferred: heavy, not needed to show results

    pooled_ranks = rankdata(np.concatenate([positives, negatives]))
    above = (pooled_ranks[:m] - rankdata(positives)) / n           # per converter
    below = 1.0 - (pooled_ranks[m:] - rankdata(negatives)) / m     # per non-converter
    auc = float(above.mean())
    variance = above.var(ddof=1) / m + below.var(ddof=1) / n
    return auc, float(np.sqrt(variance))


def auc_interval(auc: float, std_err: float, confidence: float = 0.95) -> tuple[float, float]:
    """Normal-approximation interval, clipped to [0, 1]."""
    from scipy.stats import norm

    half = norm.ppf(0.5 + confidence / 2) * std_err
    return max(0.0, auc - half), min(1.0, auc + half)
