"""The report's charts (matplotlib), each embedded as a PNG ``data:`` URI with a one-line caption.

Every chart here reads a result the pipeline already computed; none computes a figure of its own.
Each ``*_chart`` function returns the HTML of a ``<figure>`` (empty text when the chart does not apply),
so the notebook, ``CycleResult._repr_html_`` and the exported report show the same thing, with no CDN.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import io
import math
import pickle
from collections import OrderedDict
from typing import Callable

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from ..check_labels import format_chance, transition_label
from ..findings.wording import pct
from .sanitize import escape_text as esc

ABOVE, BELOW, NEUTRAL, TARGET = "#1b7f3b", "#b3261e", "#5a6b7d", "#b3261e"
KM_GROUPS = 4
FOREST_LEVELS = 12
_DPI = 96


def subplots(nrows: int = 1, ncols: int = 1, *, figsize: tuple[float, float], **kwargs):
    """A figure outside pyplot: nothing global, never shown by the notebook's backend on its own."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **kwargs)


def figure_html(fig: Figure, caption: str, alt: str = "") -> str:
    """The figure as an embedded PNG with its caption."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI, bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<figure class="sla-chart" style="margin:.6em 0 1.2em 0">'
            f'<img alt="{esc(alt or caption)}" src="data:image/png;base64,{data}" style="max-width:100%;height:auto">'
            f'<figcaption style="color:#333;font-size:.95em;margin-top:.2em">{esc(caption)}</figcaption></figure>')


def _count(value: float) -> str:
    return f"{value:,.0f}"


# -- burn-up -------------------------------------------------------------------------------------------------

_DRAWN: OrderedDict[bytes, str] = OrderedDict()   # chart HTML by digest of the drawing function and its inputs
_DRAWN_KEPT = 64


def drawn_once(function: Callable[..., str]) -> Callable[..., str]:
    """Decorator: a chart drawn from inputs equal to (pickled the same as) ones already drawn in this
    process is not drawn again.

    The two notebooks of a run show the same pacing, and ``sla-toolkit run`` has its kernel draw each
    chart while the cycle is still being computed (:func:`sla_toolkit.report.predraw.draw`): the notebook
    then finds the chart of its own, equal, inputs. Inputs that cannot be pickled are drawn every time.
    """
    name = f"{function.__module__}.{function.__qualname__}"

    @functools.wraps(function)
    def wrapper(*args, **kwargs) -> str:
        try:
            key = hashlib.sha256(pickle.dumps((name, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)).digest()
        except (pickle.PicklingError, TypeError, AttributeError):
            return function(*args, **kwargs)
        if key in _DRAWN:
            _DRAWN.move_to_end(key)
            return _DRAWN[key]
        html = _DRAWN[key] = function(*args, **kwargs)
        if len(_DRAWN) > _DRAWN_KEPT:
            _DRAWN.popitem(last=False)
        return html

    return wrapper


@drawn_once
def burn_up_chart(pacing) -> str:
    """Cumulative customers against the target, with the simulated fan from today to the deadline."""
    if not pacing.cumulative or not pacing.fan or pacing.status.value == "NOT_APPLICABLE":
        return ""
    return _burn_up(pacing)


def _burn_up(pacing) -> str:
    days = pd.to_datetime([d for d, _ in pacing.cumulative])
    counts = np.array([c for _, c in pacing.cumulative], dtype=float)
    today, deadline = days[-1], pacing.deadline.normalize() - pd.Timedelta(days=1)
    q05, q25, q50, q75, q95 = pacing.fan
    fig, ax = subplots(figsize=(9.5, 3.6))
    ax.step(days, counts, where="post", color="#1f4e8c", linewidth=2.2, label="customers won so far")
    if deadline > today:
        span = [today, deadline]
        ax.fill_between(span, [counts[-1], q05], [counts[-1], q95], color="#1f4e8c", alpha=0.15, linewidth=0,
                        label="range at the deadline: 9 in 10 chance (drawn straight from today)")
        ax.fill_between(span, [counts[-1], q25], [counts[-1], q75], color="#1f4e8c", alpha=0.3, linewidth=0,
                        label="range at the deadline: 1 in 2 chance")
        ax.plot(span, [counts[-1], q50], color="#1f4e8c", linestyle="--", linewidth=1.2)
    target = pacing.target_customers
    if target:
        ax.axhline(target, color=TARGET, linewidth=1.6, label=f"target: {target:,} customers")
        ax.plot([days[0], deadline], [0, target], color=TARGET, linewidth=0.9, linestyle=":",
                label="even pace to the target")
    ax.axvline(today, color="#777", linewidth=0.8)
    ax.set_ylabel("customers (cumulative)")
    ax.annotate("today", (today, 0), xytext=(3, 3), textcoords="offset points", fontsize=8, color="#555")
    ax.set_xlim(days[0], max(deadline, today))
    ax.set_ylim(0, max(counts.max(), q95, target or 0) * 1.12)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.autofmt_xdate()
    fig.tight_layout()
    if deadline <= today:
        caption = f"Customers won over the period: {_count(counts[-1])}" + (
            f" against a target of {target:,}." if target else ".")
    else:
        chance = f"; {format_chance(pacing.probability)} chance of reaching the target" if target else ""
        caption = (f"{_count(counts[-1])} customers so far; by {deadline:%d %b %Y} we expect {_count(q50)} "
                   f"(9 in 10 chance between {_count(q05)} and {_count(q95)}){chance}.")
    return figure_html(fig, caption, "Burn-up chart of customers against the target")


# -- funnel on the scorecard's basis -------------------------------------------------------------------------

_BASIS_SHORT = {"matured_cohort": "leads whose window has ended", "km_projection": "projected, open leads included",
                "plain_rate": "all leads"}


def funnel_chart(result) -> str:
    """Leads reaching each stage, each step labelled with the rate the scorecard judges (same basis)."""
    if result.funnel.overall.empty:
        return ""
    targets = {c.subject: c.target for c in result.checks.checks if c.kind.value == "rate"}
    return _funnel_chart(result.funnel.overall, tuple(result.conversion.transitions), targets)


@drawn_once
def _funnel_chart(overall: pd.DataFrame, transitions: tuple, targets: dict) -> str:
    steps = {t.transition: t for t in transitions}
    stages = overall["stage"].tolist()
    counts = overall["count"].to_numpy(float)
    fig, ax = subplots(figsize=(9.5, 0.62 * len(stages) + 1.0))
    y = np.arange(len(stages))[::-1]
    ax.barh(y, counts, color="#3b6ea8", height=0.62)
    ax.set_yticks(y, stages)
    for i, stage in enumerate(stages):
        label = f"  {counts[i]:,.0f}"
        if i > 0:
            name = f"{stages[i - 1]}->{stage}"
            step = steps.get(name)
            if step is not None and math.isfinite(step.estimate):
                label += (f"   step {pct(step.estimate)} ({pct(step.low)}–{pct(step.high)}), "
                          f"{_BASIS_SHORT.get(step.basis.value, step.basis.value)}")
                if name in targets:
                    label += f"; target {pct(targets[name], 0)}"
        ax.text(counts[i], y[i], label, va="center", fontsize=8.5)
    ax.set_xlim(0, max(counts.max(), 1) * 2.4)
    ax.set_xlabel("leads that reached the stage by the as-of date")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    return figure_html(fig, "How many leads reached each stage; each step's conversion is the same figure the "
                            "scorecard judges (95% interval).", "Funnel chart")


# -- forest plots ---------------------------------------------------------------------------------------------

def _forest(ax, labels: list[str], values, lows, highs, colours, reference: float) -> None:
    y = np.arange(len(labels))[::-1]
    values, lows, highs = (np.asarray(a, dtype=float) for a in (values, lows, highs))
    ax.hlines(y, lows, highs, colors=colours, linewidth=2)
    ax.scatter(values, y, color=colours, zorder=3, s=22)
    ax.axvline(reference, color="#333", linewidth=0.9, linestyle="--")
    ax.set_yticks(y, labels, fontsize=8.5)
    ax.set_ylim(-0.7, len(labels) - 0.3)
    ax.spines[["top", "right"]].set_visible(False)


_VERDICT_COLOURS = {"ABOVE_REST": ABOVE, "BELOW_REST": BELOW}


def breakdown_forest_charts(result) -> list[str]:
    """One forest plot per step: each segment level's adjusted difference from the rest, with its interval."""
    return list(_breakdown_forest_charts(result.breakdowns.summary))


@drawn_once
def _breakdown_forest_charts(summary: pd.DataFrame) -> list[str]:
    if summary.empty:
        return []
    charts = []
    for transition, rows in summary.groupby("transition", sort=False):
        rows = rows.loc[rows["effect"].notna() & rows["effect_low"].notna()]
        if rows.empty:
            continue
        rows = (rows.sort_values("n_matured", ascending=False).groupby("column", sort=False).head(FOREST_LEVELS)
                .sort_values(["column", "effect"], ascending=[True, False]))
        labels = [f"{c}: {level}" for c, level in zip(rows["column"], rows["level"].astype(str))]
        colours = [_VERDICT_COLOURS.get(str(getattr(v, "value", v)), NEUTRAL) for v in rows["verdict"]]
        fig, ax = subplots(figsize=(8.5, 0.3 * len(rows) + 1.2))
        _forest(ax, labels, 100 * rows["effect"], 100 * rows["effect_low"], 100 * rows["effect_high"], colours, 0.0)
        step = transition_label(transition)
        ax.set_xlabel(f"difference from the rest in {step} conversion, points (adjusted, 95% CI)")
        fig.tight_layout()
        strong = int(sum(c != NEUTRAL for c in colours))
        pulled = ("; a dot with no bar: that column's levels differ no more than chance would make them, so each "
                  "is pulled to zero" if ((rows["effect_high"] - rows["effect_low"]) == 0).any() else "")
        charts.append(figure_html(
            fig, f"{step}: each dot is a segment's conversion compared with the rest, after adjusting for the "
                 f"other columns; green/red = clearly above/below ({strong} of {len(rows)}: q below the significance "
                 "level after correcting for the many comparisons, so a bar that only just clears zero can stay "
                 f"grey), grey = no clear difference{pulled}.", f"Forest plot of segment differences for {step}"))
    return charts


def _ratio_rows(fit, ratio: str) -> pd.DataFrame:
    rows = fit.summary.loc[fit.summary["role"].isin(["level", "numeric"])]
    rows = rows.loc[(rows["ci_low"] > 0) & np.isfinite(rows["ci_high"])]
    return rows.assign(label=[f"{c}: {lv}" if role == "level" else f"{c} (per unit)"
                              for c, lv, role in zip(rows["column"], rows["level"], rows["role"])])


@drawn_once
def ratio_forest_chart(fits: dict, ratio: str, what: str) -> str:
    """Odds or hazard ratios of several fits side by side (log scale, one row per term, references left out)."""
    tables = {name: _ratio_rows(fit, ratio) for name, fit in fits.items()
              if fit is not None and fit.fitted and ratio in fit.summary}
    tables = {name: rows for name, rows in tables.items() if not rows.empty}
    if not tables:
        return ""
    labels = list(dict.fromkeys(label for rows in tables.values() for label in rows["label"]))
    position = {label: len(labels) - 1 - i for i, label in enumerate(labels)}
    fig, axes = subplots(1, len(tables), figsize=(min(3.6 * len(tables) + 2.4, 12), 0.3 * len(labels) + 1.5),
                          squeeze=False)
    for i, (ax, (name, rows)) in enumerate(zip(axes[0], tables.items())):
        significant = (rows["ci_low"] > 1) | (rows["ci_high"] < 1)
        colours = [(ABOVE if v > 1 else BELOW) if s else NEUTRAL for v, s in zip(rows[ratio], significant)]
        y = rows["label"].map(position).to_numpy()
        ax.hlines(y, rows["ci_low"], rows["ci_high"], colors=colours, linewidth=2)
        ax.scatter(rows[ratio], y, color=colours, zorder=3, s=22)
        ax.axvline(1.0, color="#333", linewidth=0.9, linestyle="--")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_yticks(range(len(labels)), labels[::-1] if i == 0 else [""] * len(labels), fontsize=8.5)
        ax.set_ylim(-0.7, len(labels) - 0.3)
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_title(str(name), fontsize=9)
    fig.supxlabel(f"{what} against the most frequent level (log scale, 95% CI)", fontsize=9)
    fig.tight_layout()
    caption = (f"{what.capitalize()}: right of the dashed line = more likely (or sooner) than the most frequent "
               "level, holding the other columns fixed; associations, not proof of cause.")
    return figure_html(fig, caption, f"Forest plot of {what}")


# -- Kaplan–Meier ---------------------------------------------------------------------------------------------

@drawn_once
def km_chart(curves: pd.DataFrame, transition: str, window: int | None, top: int = KM_GROUPS,
             method: str = "Kaplan–Meier") -> str:
    """Share converted over time for all leads and the ``top`` largest groups, each with its 95% band
    (``method``: Kaplan–Meier, or cumulative incidence when losses compete)."""
    rows = curves.loc[curves["transition"] == transition]
    if rows.empty:
        return ""
    sizes = rows.loc[rows["group"] != "all"].groupby("group", sort=False)["at_risk"].max()
    shown = ["all", *sizes.sort_values(ascending=False).index[:top]]
    fig, ax = subplots(figsize=(9.5, 3.8))
    palette = ["#222222", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"]
    for colour, group in zip(palette, shown):
        part = rows.loc[rows["group"] == group].sort_values("time_days")
        label = "all leads" if group == "all" else str(group)
        ax.step(part["time_days"], 100 * part["conversion"], where="post", color=colour,
                linewidth=2.2 if group == "all" else 1.3, label=label)
        ax.fill_between(part["time_days"], 100 * part["low"], 100 * part["high"], step="post", color=colour,
                        alpha=0.12, linewidth=0)
    if window:
        ax.axvline(window, color=TARGET, linestyle="--", linewidth=1)
        ax.text(window, ax.get_ylim()[1], f" SLA window: {window} days", va="top", fontsize=8, color=TARGET)
    ax.set_xlabel("days since entering the stage")
    ax.set_ylabel("% converted")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    left_out = len(sizes) - (len(shown) - 1)
    more = f"; {left_out} smaller groups left out (see the table)" if left_out > 0 else ""
    step = transition_label(transition)
    return figure_html(fig, f"{step}: share of leads converted after each day, for all leads and the "
                            f"{len(shown) - 1} largest groups, shaded 95% bands; the dashed line is the agreed "
                            f"window{more}.", f"{method} curves for {step}")


def time_to_convert_charts(result, limit: int = 3) -> list[str]:
    curves = result.time_to_convert.curves
    if curves.empty or "transition" not in curves:
        return []
    windows = {t.transition: t.window_days for t in result.conversion.transitions}
    method = result.time_to_convert.method.short
    return [km_chart(curves, t, windows.get(t), method=method) for t in curves["transition"].unique()[:limit]]


@drawn_once
def calibration_chart(scoring) -> str:
    """Lead scoring's predicted against observed conversion, per model (nothing when no model was fitted)."""
    if scoring is None or not scoring.fitted:
        return ""
    fig, ax = subplots(figsize=(6.0, 4.0))
    scoring.plot_calibration(ax)
    return figure_html(fig, "Lead scoring: predicted against observed conversion; points on the dashed line mean "
                            "the scores can be taken at face value.")
