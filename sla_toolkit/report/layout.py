"""The cycle report as a list of sections: the notebook shows them cell by cell, ``CycleResult`` all at once.

Each section is a title, an anchor id and the HTML of its body (tables, charts with captions, words).
Analyst material (time to convert, models, data quality, methods, the breakdown tables) sits in
``<details>`` blocks, closed by default; what a manager needs is open. Colours are inline styles.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import charts, sections
from .sanitize import escape_text as esc


@dataclass(frozen=True)
class Section:
    """One section of the report: its anchor, heading and body."""

    anchor: str
    title: str
    body: str

    def _repr_html_(self) -> str:
        return f'<h2 id="{esc(self.anchor)}">{esc(self.title)}</h2>{self.body}'


def summary(result) -> str:
    return sections.scorecard(result) + sections.top_findings(result)


def pacing(result) -> str:
    """Pacing in words and the burn-up chart (customers so far, the target, the projection fan)."""
    return sections.pacing_text(result) + charts.burn_up_chart(result.pacing)


def funnel(result) -> str:
    return (charts.funnel_chart(result) + sections.conversion_table(result) + sections.decided_block(result)
            + sections.reverse_funnel_block(result))


def time_to_convert(result) -> str:
    """Time-to-convert charts of the top groups (Kaplan–Meier, or cumulative incidence when losses are
    recorded) and the table, closed by default."""
    block = "".join(charts.time_to_convert_charts(result)) + sections.time_to_convert_block(result)
    method = result.time_to_convert.method.short
    return sections.collapsed(block, f"Time to convert: {method} charts and the table of medians and shares")


def breakdowns(result) -> str:
    """Forest plots of the adjusted segment differences; the full tables closed below them."""
    return ('<div class="sla">' + "".join(charts.breakdown_forest_charts(result)) + "</div>"
            + sections.collapsed(sections.breakdown_block(result), "Breakdown tables: every level, p and q"))


def models(result) -> str:
    """Odds- and hazard-ratio forest plots, calibration, and the model tables, closed by default."""
    return sections.collapsed("".join(model_charts(result.models)) + sections.models_block(result),
                              "Conversion models: odds ratios, hazard ratios, lead scoring")


def model_charts(m) -> list[str]:
    """The odds-ratio and hazard-ratio forest plots and the calibration chart of a model suite."""
    if m.skipped:
        return []
    return [charts.ratio_forest_chart(m.adjusted_effects, "odds_ratio", "odds ratios of converting"),
            charts.ratio_forest_chart({m.scoring_transition: m.time_to_convert}, "hazard_ratio",
                                      "hazard ratios of converting sooner"),
            charts.calibration_chart(m.scoring)]


def spend(result) -> str:
    return sections.costs_block(result)


def experiments(result) -> str:
    return '<div class="sla">' + result.experiments._repr_html_() + "</div>"


def proposal(result) -> str:
    return '<div class="sla">' + result.proposal._repr_html_() + "</div>"


def quality(result) -> str:
    return sections.collapsed(sections.quality_block(result), "Data quality details")


def methods(result) -> str:
    return sections.collapsed(sections.METHODS, "How the numbers are made")


#: (anchor, heading, body) in the report's order; the notebook has one cell per entry (after the first screen)
SECTIONS: tuple[tuple[str, str, Callable], ...] = (
    ("summary", "Executive summary", summary),
    ("pacing", "Pacing to the deadline", pacing),
    ("funnel", "Funnel", funnel),
    ("time-to-convert", "Time to convert", time_to_convert),
    ("follow-up", "Follow-up SLA", sections.follow_up_block),
    ("breakdowns", "Breakdowns by channel and segment", breakdowns),
    ("models", "Conversion models", models),
    ("spend", "Spend", spend),
    ("experiments", "Experiments", experiments),
    ("findings", "All findings", sections.all_findings),
    ("proposal", "Next-cycle proposal", proposal),
    ("quality", "Data quality", quality),
    ("methods", "Methods", methods),
)


def report_sections(result) -> list[Section]:
    """Every section of the cycle report for ``result``, in order."""
    return [Section(anchor, title, body(result)) for anchor, title, body in SECTIONS]


def contents(items: list[Section]) -> str:
    """A table of contents linking each section's anchor (inline styles)."""
    links = " · ".join(f'<a href="#{esc(s.anchor)}" style="color:#1a4d8f;text-decoration:none">{esc(s.title)}</a>'
                       for s in items)
    return f'<nav class="sla-contents" style="margin:.4em 0 1em 0;font-size:.95em">Contents: {links}</nav>'


def report_html(result) -> str:
    """The header, the headline, a table of contents and every section: what ``result`` shows in a notebook."""
    items = report_sections(result)
    return sections.header(result) + sections.headline(result) + contents(items) + "".join(
        s._repr_html_() for s in items)
