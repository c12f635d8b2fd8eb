"""Did last cycle's adjustments pay off? Two cycles' checks side by side and A's "adjust" findings followed up.

Pure: rows in (dicts with the ledger's ``checks`` / ``findings`` columns, or built from two results.json by
:func:`compare_results`), a frozen :class:`CycleComparison` out. Every statement is an association between
two cycles: a finding that is no longer flagged may have been fixed, or may only have lost the power to show.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from enum import Enum
from typing import Any, Iterable, Mapping

import pandas as pd

from ..check_labels import format_number
from ..results import ResultMixin, jsonable
from ..types import Direction, FindingKind, Status
from .rows import check_rows, finding_rows

_VERDICT_RANK = {Status.MISSED.value: 0, Status.AT_RISK.value: 1, Status.MET.value: 2}
CAVEAT = ("These are associations between two cycles, not proof that the adjustments caused the change: "
          "a finding no longer flagged may have been fixed, or the data may no longer be able to show it.")


class CheckTrend(str, Enum):
    """How one SLA check moved from cycle A to cycle B."""

    IMPROVED = "improved"
    WORSENED = "worsened"
    NO_CLEAR_CHANGE = "no_clear_change"
    NOT_COMPARABLE = "not_comparable"   # missing in one cycle, or no verdict (insufficient data, not applicable)


class AdjustmentOutcome(str, Enum):
    """What became of an "adjust" finding between cycle A and cycle B."""

    RESOLVED = "resolved"       # flagged in A, no longer flagged in B
    PERSISTING = "persisting"   # flagged in both
    NEW = "new"                 # flagged in B only


def check_trend(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> CheckTrend:
    """Improved = the verdict moved up (MISSED < AT_RISK < MET), or it stayed the same and B's interval lies
    wholly on the better side of A's; worsened is the mirror image; anything else is no clear change."""
    if a is None or b is None or a.get("status") not in _VERDICT_RANK or b.get("status") not in _VERDICT_RANK:
        return CheckTrend.NOT_COMPARABLE
    step = _VERDICT_RANK[b["status"]] - _VERDICT_RANK[a["status"]]
    if step:
        return CheckTrend.IMPROVED if step > 0 else CheckTrend.WORSENED
    bounds = (a.get("low"), a.get("high"), b.get("low"), b.get("high"))
    if any(v is None for v in bounds) or b.get("direction") not in {d.value for d in Direction}:
        return CheckTrend.NO_CLEAR_CHANGE
    low_a, high_a, low_b, high_b = bounds
    higher_is_better = b["direction"] == Direction.AT_LEAST.value
    if low_b > high_a:
        return CheckTrend.IMPROVED if higher_is_better else CheckTrend.WORSENED
    if high_b < low_a:
        return CheckTrend.WORSENED if higher_is_better else CheckTrend.IMPROVED
    return CheckTrend.NO_CLEAR_CHANGE


@dataclass(frozen=True)
class CheckComparison:
    """One SLA check in cycle A and in cycle B (``None`` on the side where it was not checked)."""

    name: str
    direction: str | None
    target_a: float | None
    estimate_a: float | None
    low_a: float | None
    high_a: float | None
    status_a: str | None
    target_b: float | None
    estimate_b: float | None
    low_b: float | None
    high_b: float | None
    status_b: str | None
    trend: CheckTrend
    label: str = ""     # what people read (sla_toolkit.check_labels); empty in ledgers older than schema 2

    @property
    def shown(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class AdjustmentFollowUp:
    """An "adjust" finding followed from A to B; ``kind_in_b`` is what B says about the topic, if anything."""

    topic: str
    outcome: AdjustmentOutcome
    sentence_a: str | None
    sentence_b: str | None
    kind_in_b: str | None
    impact_a: float | None
    impact_b: float | None


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    return format_number(value, 4 if abs(value) < 1 else 2)


def _side(estimate: float | None, low: float | None, high: float | None, status: str | None) -> str:
    if status is None:
        return "not checked"
    interval = f" [{_fmt(low)}, {_fmt(high)}]" if low is not None or high is not None else ""
    return f"{_fmt(estimate)}{interval} {status}"


@dataclass(frozen=True)
class CycleComparison(ResultMixin):
    """Cycle A against cycle B of one SLA: every check side by side, and A's adjustments followed up."""

    sla_name: str
    cycle_a: str
    cycle_b: str
    checks: tuple[CheckComparison, ...]
    adjustments: tuple[AdjustmentFollowUp, ...]
    run_a: str | None = None
    run_b: str | None = None

    @property
    def title(self) -> str:  # type: ignore[override]
        return f"{self.sla_name}: cycle {self.cycle_a} against {self.cycle_b}"

    def _checks_with(self, trend: CheckTrend) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks if c.trend is trend)

    def _topics_with(self, outcome: AdjustmentOutcome) -> tuple[str, ...]:
        return tuple(a.topic for a in self.adjustments if a.outcome is outcome)

    @property
    def improved(self) -> tuple[str, ...]:
        return self._checks_with(CheckTrend.IMPROVED)

    @property
    def worsened(self) -> tuple[str, ...]:
        return self._checks_with(CheckTrend.WORSENED)

    @property
    def resolved(self) -> tuple[str, ...]:
        return self._topics_with(AdjustmentOutcome.RESOLVED)

    @property
    def persisting(self) -> tuple[str, ...]:
        return self._topics_with(AdjustmentOutcome.PERSISTING)

    @property
    def new(self) -> tuple[str, ...]:
        return self._topics_with(AdjustmentOutcome.NEW)

    @property
    def summary(self) -> str:
        a, b = self.cycle_a, self.cycle_b
        flagged = len(self.resolved) + len(self.persisting)
        return (f"From {a} to {b}: {len(self.improved)} of {len(self.checks)} SLA checks improved, "
                f"{len(self.worsened)} worsened. Of the {flagged} adjustments flagged in {a}: "
                f"{len(self.resolved)} no longer flagged in {b}, {len(self.persisting)} still flagged; "
                f"{len(self.new)} new in {b}. {CAVEAT}")

    def to_frame(self) -> pd.DataFrame:
        """The checks, one row each, A and B side by side."""
        return pd.DataFrame([jsonable(c) for c in self.checks],
                            columns=[f for f in CheckComparison.__dataclass_fields__])

    def adjustments_frame(self) -> pd.DataFrame:
        return pd.DataFrame([jsonable(a) for a in self.adjustments],
                            columns=[f for f in AdjustmentFollowUp.__dataclass_fields__])

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "summary": self.summary, "improved": list(self.improved),
                "worsened": list(self.worsened), "resolved": list(self.resolved),
                "persisting": list(self.persisting), "new": list(self.new)}

    def _repr_html_(self) -> str:
        checks = pd.DataFrame({"check": [c.shown for c in self.checks],
                               self.cycle_a: [_side(c.estimate_a, c.low_a, c.high_a, c.status_a) for c in self.checks],
                               self.cycle_b: [_side(c.estimate_b, c.low_b, c.high_b, c.status_b) for c in self.checks],
                               "trend": [c.trend.value for c in self.checks]})
        adjustments = self.adjustments_frame()[["outcome", "kind_in_b", "sentence_a", "sentence_b"]]
        return (f"<h4>{html.escape(self.title)}</h4><p>{html.escape(self.summary)}</p>"
                + checks.to_html(index=False, escape=True)
                + adjustments.to_html(index=False, escape=True, na_rep="–"))

    def text(self) -> str:
        """Plain text for the command line."""
        lines = [self.title, "", self.summary, "", "SLA checks (estimate [interval] status):"]
        width = max([len(c.shown) for c in self.checks] + [5])
        for c in self.checks:
            lines.append(f"  {c.shown:<{width}}  {self.cycle_a}: {_side(c.estimate_a, c.low_a, c.high_a, c.status_a)}"
                         f"  ->  {self.cycle_b}: {_side(c.estimate_b, c.low_b, c.high_b, c.status_b)}"
                         f"  ({c.trend.value.replace('_', ' ')})")
        headings = {AdjustmentOutcome.RESOLVED: f"Adjustments of {self.cycle_a} no longer flagged in {self.cycle_b}:",
                    AdjustmentOutcome.PERSISTING: f"Adjustments of {self.cycle_a} still flagged in {self.cycle_b}:",
                    AdjustmentOutcome.NEW: f"New adjustments in {self.cycle_b}:"}
        for outcome, heading in headings.items():
            items = [a for a in self.adjustments if a.outcome is outcome]
            lines += ["", heading] + [f"  - {a.sentence_b or a.sentence_a}"
                                      + (f" (now: {a.kind_in_b})" if a.kind_in_b and outcome
                                         is AdjustmentOutcome.RESOLVED else "") for a in items]
            if not items:
                lines.append("  (none)")
        return "\n".join(lines)


def _first_by(rows: Iterable[Mapping[str, Any]], key: str) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        found.setdefault(row[key], row)
    return found


def _compare_checks(checks_a: Iterable[Mapping[str, Any]],
                    checks_b: Iterable[Mapping[str, Any]]) -> tuple[CheckComparison, ...]:
    by_a, by_b = _first_by(checks_a, "name"), _first_by(checks_b, "name")
    names = list(by_a) + [n for n in by_b if n not in by_a]
    compared = []
    for name in names:
        a, b = by_a.get(name, {}), by_b.get(name, {})
        compared.append(CheckComparison(
            name=name, direction=b.get("direction") or a.get("direction"),
            target_a=a.get("target"), estimate_a=a.get("estimate"), low_a=a.get("low"), high_a=a.get("high"),
            status_a=a.get("status"), target_b=b.get("target"), estimate_b=b.get("estimate"), low_b=b.get("low"),
            high_b=b.get("high"), status_b=b.get("status"), trend=check_trend(by_a.get(name), by_b.get(name)),
            label=b.get("label") or a.get("label") or ""))
    return tuple(compared)


def _follow_adjustments(findings_a: Iterable[Mapping[str, Any]],
                        findings_b: Iterable[Mapping[str, Any]]) -> tuple[AdjustmentFollowUp, ...]:
    findings_b = list(findings_b)
    adjust = FindingKind.ADJUST.value
    flagged_a = _first_by((f for f in findings_a if f["kind"] == adjust), "topic")
    flagged_b = _first_by((f for f in findings_b if f["kind"] == adjust), "topic")
    said_in_b = _first_by(findings_b, "topic")
    followed = []
    for topic, a in flagged_a.items():
        b = flagged_b.get(topic) or said_in_b.get(topic)
        followed.append(AdjustmentFollowUp(
            topic=topic, outcome=AdjustmentOutcome.PERSISTING if topic in flagged_b else AdjustmentOutcome.RESOLVED,
            sentence_a=a.get("sentence"), sentence_b=None if b is None else b.get("sentence"),
            kind_in_b=None if b is None else b.get("kind"), impact_a=a.get("impact"),
            impact_b=None if b is None else b.get("impact")))
    for topic, b in flagged_b.items():
        if topic not in flagged_a:
            followed.append(AdjustmentFollowUp(topic=topic, outcome=AdjustmentOutcome.NEW, sentence_a=None,
                                               sentence_b=b.get("sentence"), kind_in_b=b.get("kind"), impact_a=None,
                                               impact_b=b.get("impact")))
    return tuple(followed)


def compare_rows(checks_a: Iterable[Mapping[str, Any]], checks_b: Iterable[Mapping[str, Any]],
                 findings_a: Iterable[Mapping[str, Any]], findings_b: Iterable[Mapping[str, Any]], *,
                 sla_name: str, cycle_a: str, cycle_b: str, run_a: str | None = None,
                 run_b: str | None = None) -> CycleComparison:
    """Compare two cycles from their check rows and finding rows (the ledger's columns)."""
    return CycleComparison(sla_name=sla_name, cycle_a=cycle_a, cycle_b=cycle_b,
                           checks=_compare_checks(checks_a, checks_b),
                           adjustments=_follow_adjustments(findings_a, findings_b), run_a=run_a, run_b=run_b)


def compare_results(results_a: Mapping[str, Any], results_b: Mapping[str, Any]) -> CycleComparison:
    """Compare two results dicts (``CycleResult.to_dict()`` or results.json) without a database."""
    return compare_rows(check_rows(results_a), check_rows(results_b), finding_rows(results_a),
                        finding_rows(results_b), sla_name=str(results_b.get("sla") or results_a.get("sla")),
                        cycle_a=str(results_a.get("cycle_id")), cycle_b=str(results_b.get("cycle_id")))
