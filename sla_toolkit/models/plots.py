"""Figures for model results (matplotlib). Each function draws on ``ax`` (or a new one) and returns it."""
from __future__ import annotations

import numpy as np
import pandas as pd


def new_axes(ax=None, height: float = 4.0):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=(7, height))
    return ax


def forest(summary: pd.DataFrame, estimate: str, low: str, high: str, xlabel: str, ax=None):
    """Ratios with their intervals on a log axis, one row per term, a line at 1 (no effect)."""
    rows = summary.dropna(subset=[estimate, low, high])
    ax = new_axes(ax, height=max(2.5, 0.35 * len(rows) + 1))
    y = np.arange(len(rows))[::-1]
    values = rows[estimate].to_numpy(float)
    ax.errorbar(values, y, xerr=[values - rows[low].to_numpy(float), rows[high].to_numpy(float) - values],
                fmt="o", color="C0", capsize=3)
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    ax.set_yticks(y, rows["term"].tolist())
    ax.set_xlabel(xlabel)
    return ax
