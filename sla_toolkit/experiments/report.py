"""HTML of an experiment's result for the report (every user value escaped)."""
from __future__ import annotations

import math

import pandas as pd

from ..findings.wording import humanize, money, pct
from ..experiment_spec import Metric
from .result import ExperimentResult, escape

_MONEY = (Metric.REVENUE_PER_LEAD.value, Metric.REVENUE_PER_CUSTOMER.value)


def _value(metric: str, value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return money(value) if metric in _MONEY else pct(value, 2)


def _lift(metric: str, estimate: float, low: float, high: float) -> str:
    if estimate is None or math.isnan(estimate):
        return "–"
    if metric in _MONEY:
        return f"{estimate:+,.2f} ({low:+,.2f} to {high:+,.2f})"
    return f"{100 * estimate:+.2f} pts ({100 * low:+.2f} to {100 * high:+.2f})"


def _relative(estimate: float, low: float, high: float) -> str:
    if math.isnan(estimate):
        return "–"
    return f"{estimate:+.0%}" + ("" if math.isnan(low) else f" ({low:+.0%} to {high:+.0%})")


def comparison_table(result: ExperimentResult) -> pd.DataFrame:
    """The arm-by-metric table as shown in the report (text cells)."""
    frame = result.to_frame()
    if frame.empty:
        return frame
    level = f"{round(100 * result.confidence)}% CI"
    return pd.DataFrame({
        "arm": [humanize(a) for a in frame["arm"]],
        "measure": [m + (" (primary)" if p else "") for m, p in zip(frame["measure"], frame["primary"])],
        "arm value": [_value(m, v) for m, v in zip(frame["metric"], frame["arm value"])],
        "control value": [_value(m, v) for m, v in zip(frame["metric"], frame["control value"])],
        f"lift ({level})": [_lift(*row) for row in zip(frame["metric"], frame["absolute lift"],
                                                      frame["absolute low"], frame["absolute high"])],
        f"relative lift ({level})": [_relative(*row) for row in zip(frame["relative lift"], frame["relative low"],
                                                                   frame["relative high"])],
        "adjusted p": [("–" if math.isnan(p) else f"{p:.3g}") for p in frame["adjusted p"]],
        "n (arm / control)": [f"{a:,} / {c:,}" for a, c in zip(frame["n arm"], frame["n control"])],
        "verdict": frame["verdict"],
    })


def experiment_html(result: ExperimentResult) -> str:
    e = result.experiment
    wording = ("Randomized test with arm sizes matching the plan: a clear lift below may be read as caused by "
               "the arm." if result.may_claim_cause else
               "Differences below are associations only: " + (
                   "the test is not declared randomized." if not e.randomized else
                   "the arm sizes do not match the planned split (sample-ratio mismatch)."))
    srm_class = "MET" if result.sample_ratio.passed else "MISSED"
    parts = [f'<div class="sla experiment"><h4>{escape(result.title)}</h4>',
             f"<p>Arms in <code>{escape(e.arm_column)}</code>, control <b>{escape(humanize(e.control))}</b>; "
             f"primary metric <b>{escape(e.primary_metric.value.replace('_', ' '))}</b>. {escape(wording)}</p>",
             f'<p><span class="status {srm_class}">{"SRM OK" if result.sample_ratio.passed else "SRM"}</span> '
             f"{escape(result.sample_ratio.text)}</p>"]
    if result.note:
        parts.append(f'<p class="muted">{escape(result.note)}</p>')
    table = comparison_table(result)
    if not table.empty:
        parts.append(table.to_html(index=False, escape=True))
    needs = [c for c in result.primary if c.more_leads_needed]
    for c in needs:
        parts.append(f"<p>{escape(humanize(c.arm))}: no verdict yet; about {c.more_leads_needed:,} more leads "
                     "are needed for 80% power at the smallest effect worth acting on.</p>")
    parts.append('<p class="muted">Error control: the primary metric is tested first across arms (Holm); the '
                 "other arm × metric tests (Holm) count only once every primary test is clear, so the whole "
                 f"family keeps its error rate at {result.alpha:g}. Revenue per lead includes every lead (zeros "
                 "too) and uses Welch's t-interval.</p></div>")
    return "".join(parts)
