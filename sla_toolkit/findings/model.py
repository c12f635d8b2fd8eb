"""Findings: evidence-gated statements of what worked, what to adjust and what to watch."""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from enum import Enum

import pandas as pd

from ..results import ResultMixin
from ..types import FindingKind


class Confidence(str, Enum):
    """How strong the evidence is, in words a manager can use."""

    HIGH = "high"        # q well below alpha and n comfortably above the minimum
    MEDIUM = "medium"    # passes the criterion
    LOW = "low"          # a watch item: direction seen, not established


@dataclass(frozen=True)
class Evidence:
    """The numbers behind a finding (NaN where a figure does not apply)."""

    estimate: float
    low: float
    high: float
    n: int
    p_value: float = float("nan")
    q_value: float = float("nan")
    unit: str = "rate"


@dataclass(frozen=True)
class Finding(ResultMixin):
    """One statement for the report.

    ``topic`` is a stable key (``"breakdown:channel=email:mql->sql"``) so cycles can be compared.
    ``impact_customers`` is the expected number of customers gained (+) or lost (-) at the current volume.
    ``causal`` is True only for a randomized test's result that passed its sample-ratio check.
    """

    kind: FindingKind
    topic: str
    sentence: str
    evidence: Evidence
    action: str
    source: str
    confidence: Confidence
    impact_customers: float = 0.0
    rule: str = ""
    causal: bool = False   # worded as a cause: only a randomized test that passed its checks (experiments)

    @property
    def title(self) -> str:  # type: ignore[override]
        return f"{self.kind.value}: {self.topic}"

    def to_frame(self) -> pd.DataFrame:
        e = self.evidence
        return pd.DataFrame([{
            "kind": self.kind.value, "finding": self.sentence, "action": self.action,
            "estimate": e.estimate, "low": e.low, "high": e.high, "n": e.n, "p": e.p_value, "q": e.q_value,
            "confidence": self.confidence.value, "impact (customers)": self.impact_customers,
            "source": self.source,
        }])

    def _repr_html_(self) -> str:
        colour = {"worked": "#1b7f3b", "adjust": "#b3261e", "watch": "#a36200"}[self.kind.value]
        return (f'<div class="finding finding-{self.kind.value}"><strong style="color:{colour}">'
                f"{html.escape(self.kind.value.upper())}</strong> {html.escape(self.sentence)}"
                f"<br><em>Action:</em> {html.escape(self.action)}"
                f' <small>(confidence {html.escape(self.confidence.value)}; source: {html.escape(self.source)})'
                "</small></div>")


@dataclass(frozen=True)
class NoEvidence:
    """A topic examined without a clear result, with the reason (shown under 'no clear evidence')."""

    topic: str
    reason: str
    label: str = ""   # what people read ("Region APAC, MQL → SQL"); the topic is an internal id

    @property
    def shown(self) -> str:
        return self.label or self.topic.split(":", 1)[-1].replace("_", " ")


@dataclass(frozen=True)
class Findings(ResultMixin):
    """All findings of one cycle, ranked by impact within each kind."""

    items: tuple[Finding, ...]
    no_evidence: tuple[NoEvidence, ...] = field(default_factory=tuple)
    levers_note: str = ""    # which columns were treated as levers (actions) and which as descriptions
    title = "What worked / what to adjust"

    def of_kind(self, kind: FindingKind | str) -> list[Finding]:
        kind = FindingKind(kind)
        return [f for f in self.items if f.kind is kind]

    def top(self, kind: FindingKind | str, k: int = 3) -> list[Finding]:
        return self.of_kind(kind)[:k]

    @property
    def worked(self) -> list[Finding]:
        return self.of_kind(FindingKind.WORKED)

    @property
    def adjust(self) -> list[Finding]:
        return self.of_kind(FindingKind.ADJUST)

    @property
    def watch(self) -> list[Finding]:
        return self.of_kind(FindingKind.WATCH)

    def topics(self) -> set[str]:
        return {f.topic for f in self.items}

    def to_frame(self) -> pd.DataFrame:
        if not self.items:
            return pd.DataFrame(columns=["kind", "finding", "action", "estimate", "low", "high", "n", "p", "q",
                                         "confidence", "impact (customers)", "source"])
        return pd.concat([f.to_frame() for f in self.items], ignore_index=True)

    def no_evidence_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"what": x.shown, "why no verdict": x.reason} for x in self.no_evidence],
                            columns=["what", "why no verdict"])

    def to_dict(self) -> dict:
        return {"items": [f.to_dict() for f in self.items],
                "no_evidence": [{"topic": x.topic, "label": x.shown, "reason": x.reason}
                                for x in self.no_evidence],
                "levers_note": self.levers_note}

    def _repr_html_(self) -> str:
        parts = [f"<h4>{html.escape(self.title)}</h4>"]
        if self.levers_note:
            parts.append(f'<p class="muted">{html.escape(self.levers_note)}</p>')
        for kind in FindingKind:
            chosen = self.of_kind(kind)
            if chosen:
                parts.append(f"<h5>{kind.value.capitalize()} ({len(chosen)})</h5>")
                parts.extend(f._repr_html_() for f in chosen)
        if self.no_evidence:
            parts.append(f"<details><summary>No clear evidence either way ({len(self.no_evidence)} topics)"
                         "</summary>")
            parts.append(self.no_evidence_frame().to_html(index=False, escape=True) + "</details>")
        return "\n".join(parts)
