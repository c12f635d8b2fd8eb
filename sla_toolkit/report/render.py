"""The report's first screen rendered from jinja2 templates (autoescape on): headline, scorecard.

Colours are inline styles so they survive JupyterLab's untrusted-output sanitiser and nbconvert's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from ..check_labels import direction_words, format_chance, format_interval, format_value, transition_label
from ..types import CheckKind, Status

STATUS_COLOURS = {"MET": "#1b7f3b", "AT_RISK": "#b25e00", "MISSED": "#b3261e", "INSUFFICIENT_DATA": "#6b6b6b",
                  "NOT_APPLICABLE": "#8a8a8a"}
STATUS_WORDS = {"MET": "Met", "AT_RISK": "At risk", "MISSED": "Missed", "INSUFFICIENT_DATA": "Insufficient data",
                "NOT_APPLICABLE": "Not applicable"}
# Colour carried by the text itself: survives sanitisers that drop every style (nbconvert's keeps only class/id)
STATUS_MARKS = {"MET": "\U0001F7E2", "AT_RISK": "\U0001F7E0", "MISSED": "\U0001F534", "INSUFFICIENT_DATA": "\u26AA",
                "NOT_APPLICABLE": "\u26AA"}
CELL = "border-bottom:1px solid #ddd;padding:3px 8px;vertical-align:middle"

_environment = Environment(loader=PackageLoader("sla_toolkit.report", "templates"),
                           autoescape=select_autoescape(default=True, default_for_string=True))


def colour(status: str) -> str:
    return STATUS_COLOURS.get(str(status), "#8a8a8a")


def badge(status: str) -> str:
    """Inline style of a status badge (white on the status colour)."""
    return (f"background:{colour(status)};color:#fff;font-weight:bold;padding:2px 7px;border-radius:3px;"
            "white-space:nowrap")


def mark(status: str) -> str:
    return STATUS_MARKS.get(str(status), "")


_environment.globals.update(badge=badge, colour=colour, cell=CELL, mark=mark)


def render(template: str, **context) -> str:
    return _environment.get_template(template).render(**context)


def interval_mark(check, width: int = 120, height: int = 16) -> Markup:
    """An inline SVG: the estimate as a dot, its interval as a bar, the target as a vertical line."""
    values = [v for v in (check.estimate, check.low, check.high, check.target)
              if v is not None and math.isfinite(v)]
    if len(values) < 2 or not math.isfinite(check.estimate):
        return Markup("")
    lo, hi = min(values), max(values)
    pad = (hi - lo) * 0.1 or abs(hi) * 0.1 or 1.0
    lo, hi = lo - pad, hi + pad

    def x(v: float) -> float:
        return round(4 + (width - 8) * (v - lo) / (hi - lo), 1)

    fill = colour(check.status.value)
    bar = ""
    if math.isfinite(check.low) and math.isfinite(check.high) and check.low != check.high:
        bar = (f'<line x1="{x(check.low)}" x2="{x(check.high)}" y1="8" y2="8" stroke="{fill}" '
               'stroke-width="3" stroke-linecap="round"/>')
    label = escape(f"estimate {format_value(check.estimate, check.unit)} vs target "
                   f"{format_value(check.target, check.unit)}")
    return Markup(f'<svg width="{width}" height="{height}" role="img" aria-label="{label}">'
                  f'<line x1="{x(check.target)}" x2="{x(check.target)}" y1="1" y2="15" stroke="#333" '
                  f'stroke-width="1.5" stroke-dasharray="2,1"/>{bar}'
                  f'<circle cx="{x(check.estimate)}" cy="8" r="4" fill="{fill}"/></svg>')


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    note: str
    status: str


def _customers_tile(checks) -> Tile | None:
    check = next((c for c in checks if c.kind is CheckKind.VOLUME and c.subject == "customers"), None)
    if check is None:
        return None
    if check.basis == "actual":
        note = f"target {format_value(check.target, check.unit)} (actual at the deadline)"
    elif math.isfinite(check.probability):
        note = (f"target {format_value(check.target, check.unit)} · {format_chance(check.probability)} chance "
                "of reaching it")
    else:
        note = f"target {format_value(check.target, check.unit)}"
    return Tile("Customers projected by the deadline" if check.basis != "actual" else "Customers at the deadline",
                format_value(check.estimate, check.unit), note, check.status.value)


def _bottleneck_tile(checks) -> Tile | None:
    rates = [c for c in checks if c.kind is CheckKind.RATE and math.isfinite(c.estimate) and c.target > 0]
    if not rates:
        return None
    worst = min(rates, key=lambda c: c.estimate / c.target)
    title = "Bottleneck step" if worst.status in (Status.MISSED, Status.AT_RISK) else "Weakest step (all met)"
    return Tile(title, transition_label(worst.subject),
                f"{format_value(worst.estimate, worst.unit)} vs target {format_value(worst.target, worst.unit)}",
                worst.status.value)


def _follow_up_tile(checks) -> Tile | None:
    check = next((c for c in checks if c.kind is CheckKind.FOLLOW_UP), None)
    if check is None or not math.isfinite(check.estimate):
        return None
    return Tile(check.label, format_value(check.estimate, check.unit),
                f"promised {format_value(check.target, check.unit, digits=0)} · n = {check.n:,}",
                check.status.value)


def _met_tile(checks) -> Tile:
    judged = [c for c in checks if c.status not in (Status.NOT_APPLICABLE, Status.INSUFFICIENT_DATA)]
    met = sum(c.status is Status.MET for c in judged)
    missed = sum(c.status is Status.MISSED for c in judged)
    status = "MET" if met == len(judged) else "MISSED" if missed else "AT_RISK"
    return Tile("SLA targets met", f"{met} of {len(judged)}",
                f"{missed} missed · {len(checks) - len(judged)} without a verdict", status)


def headline_sentence(checks) -> tuple[str, str, str]:
    """``(status, word, sentence)``: the verdict on the whole SLA in one sentence."""
    judged = [c for c in checks if c.status not in (Status.NOT_APPLICABLE, Status.INSUFFICIENT_DATA)]
    missed = [c.label for c in judged if c.status is Status.MISSED]
    at_risk = [c.label for c in judged if c.status is Status.AT_RISK]
    if not judged:
        return "INSUFFICIENT_DATA", "No verdict", "The data cannot support a verdict on any SLA target yet."
    if missed:
        shown = ", ".join(missed[:3]) + (f" and {len(missed) - 3} more" if len(missed) > 3 else "")
        return "MISSED", "Missed", (f"{len(missed)} of {len(judged)} SLA targets missed: {shown}"
                                    + (f"; {len(at_risk)} at risk." if at_risk else "."))
    if at_risk:
        return "AT_RISK", "At risk", (f"No target clearly missed, but {len(at_risk)} of {len(judged)} at risk: "
                                      + ", ".join(at_risk[:3]) + ".")
    return "MET", "Met", f"All {len(judged)} SLA targets with a verdict are met."


def headline(result) -> str:
    checks = result.checks.checks
    status, word, sentence = headline_sentence(checks)
    tiles = [t for t in (_customers_tile(checks), _bottleneck_tile(checks), _follow_up_tile(checks))
             if t is not None] + [_met_tile(checks)]
    return render("headline.html.j2", verdict_status=status, verdict_word=word, sentence=sentence, tiles=tiles)


def _words(check) -> str:
    status = check.status.value
    if status in ("INSUFFICIENT_DATA", "NOT_APPLICABLE"):
        return check.reason
    if check.basis == "actual":
        return "reached at the deadline" if status == "MET" else "not reached by the deadline"
    if check.basis == "pacing":
        chance = f"{format_chance(check.probability)} chance of reaching it" if math.isfinite(check.probability) else ""
        lead = {"MET": "on track", "AT_RISK": "at risk", "MISSED": "unlikely to reach the target"}[status]
        return f"{lead} by the deadline" + (f": {chance}" if chance else "")
    return {"MET": "meets the target", "AT_RISK": "short of the target; the interval still includes it",
            "MISSED": "the whole interval misses the target"}[status]


def scorecard(result) -> str:
    rows = []
    for check in result.checks.checks:
        rows.append({
            "label": check.label or check.name, "status": check.status.value,
            "status_word": STATUS_WORDS[check.status.value],
            "agreed": f"{direction_words(check.direction)} {format_value(check.target, check.unit, check.currency)}",
            "estimate": format_value(check.estimate, check.unit, check.currency),
            "interval": format_interval(check.low, check.high, check.unit, check.currency),
            "mark": interval_mark(check), "n": f"{check.n:,}", "words": _words(check)})
    counts = ", ".join(f"{n} {STATUS_WORDS[s].lower()}" for s, n in result.checks.counts().items() if n)
    return render("scorecard.html.j2", rows=rows, counts=counts)
