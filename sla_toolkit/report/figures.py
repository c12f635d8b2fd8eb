"""Figures of the cycle report (matplotlib). Each function returns a Figure and never shows it."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

STATUS_COLOURS = {"MET": "#1b7f3b", "AT_RISK": "#c77700", "MISSED": "#b3261e", "INSUFFICIENT_DATA": "#7a7a7a",
                  "NOT_APPLICABLE": "#b0b0b0"}


def funnel_figure(overall: pd.DataFrame, title: str = "Funnel") -> plt.Figure:
    """Leads reaching each stage, labelled with the step rate and its interval."""
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(overall) + 1.5))
    stages = overall["stage"].tolist()[::-1]
    counts = overall["count"].to_numpy()[::-1]
    ax.barh(stages, counts, color="#3b6ea8")
    for y, row in enumerate(overall.iloc[::-1].itertuples()):
        label = f"{row.count:,}"
        if not pd.isna(row.step_rate):
            label += f"   step {100 * row.step_rate:.1f}% ({100 * row.step_low:.1f}–{100 * row.step_high:.1f})"
        ax.text(row.count, y, "  " + label, va="center", fontsize=9)
    ax.set_xlim(0, max(counts.max(), 1) * 1.6)
    ax.set_xlabel("leads (naive counts at the as-of date; 95% Wilson intervals)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def km_figure(curves: pd.DataFrame, transition: str, windows: dict[str, int],
              method: str = "Kaplan–Meier") -> plt.Figure:
    """Share converted over time (Kaplan–Meier or cumulative incidence, ``method``), overall and per group,
    with the overall interval."""
    fig, ax = plt.subplots(figsize=(9.5, 4.2))
    rows = curves.loc[curves["transition"] == transition]
    for group, part in rows.groupby("group", sort=False):
        part = part.sort_values("time_days")
        overall = group == "all"
        ax.step(part["time_days"], part["conversion"], where="post", linewidth=2.4 if overall else 1.1,
                color="black" if overall else None, label=str(group), alpha=1 if overall else 0.8)
        if overall:
            ax.fill_between(part["time_days"], part["low"], part["high"], step="post", color="grey", alpha=0.2)
    window = windows.get(transition)
    if window:
        ax.axvline(window, color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("days since entering the stage")
    ax.set_ylabel(f"share converted ({method})")
    ax.set_title(f"Time to convert: {transition}")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def time_to_convert_figures(result, limit: int = 3) -> list[plt.Figure]:
    """Time-to-convert figures of the first ``limit`` timed transitions of a cycle result (none without dates)."""
    curves = result.time_to_convert.curves
    method = result.time_to_convert.method.short
    if curves.empty or "transition" not in curves:
        return []
    windows = {t.transition: t.window_days for t in result.conversion.transitions}
    return [km_figure(curves, transition, windows, method) for transition in curves["transition"].unique()[:limit]]


def rate_interval_figure(table: pd.DataFrame, label: str, rate: str, low: str, high: str, title: str,
                         reference: float | None = None, colour_column: str | None = None) -> plt.Figure:
    """Dot-and-interval chart of a rate per row (teams, channels, ...)."""
    table = table.sort_values(rate)
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(table) + 1.6))
    for y, row in enumerate(table.itertuples()):
        value, lo, hi = getattr(row, rate), getattr(row, low), getattr(row, high)
        colour = STATUS_COLOURS.get(getattr(row, colour_column), "C0") if colour_column else "C0"
        ax.errorbar(value, y, xerr=[[value - lo], [hi - value]], fmt="o", color=colour, capsize=3)
    ax.set_yticks(range(len(table)), [str(v) for v in table[label]])
    if reference is not None and not np.isnan(reference):
        ax.axvline(reference, color="grey", linestyle="--", linewidth=1)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def pacing_figure(customers_so_far: int, expected: float, low: float, high: float, target: float | None,
                  title: str) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(9, 2.0))
    ax.barh([0], [customers_so_far], color="#3b6ea8", label="customers so far")
    # A simulated mean can sit a hair outside its integer quantiles (2174.02 in [2174, 2174]): no negative bar.
    ax.errorbar(expected, 0, xerr=[[max(expected - low, 0.0)], [max(high - expected, 0.0)]], fmt="D", color="black",
                capsize=5,
                label="expected at the deadline (90% interval)")
    if target:
        ax.axvline(target, color="#b3261e", linewidth=2, label="target")
    ax.set_yticks([])
    ax.set_xlim(0, max(high, target or 0, 1) * 1.15)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def pacing_for(pacing) -> plt.Figure | None:
    """The pacing chart of a :class:`~sla_toolkit.pacing.PacingResult` (None without a customer target)."""
    if not pacing.target_customers or pacing.status.value == "NOT_APPLICABLE":
        return None
    return pacing_figure(pacing.customers_so_far, pacing.expected_customers, pacing.low, pacing.high,
                         pacing.target_customers, "Customers: so far and expected at the deadline")


def show(fig: plt.Figure | None) -> None:
    """Display a figure in the notebook (embedded in the report) and release it."""
    if fig is None:
        return
    from IPython.display import display

    display(fig)
    plt.close(fig)


def close(fig: plt.Figure) -> None:
    plt.close(fig)
