"""What ingest did to the input: counts, quarantine reasons, fills and notes."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from ..check_labels import format_count, plural
from ..results import ResultMixin
from ..spec import SlaSpec
from ..types import reached_column, stage_column


def reason_category(reason: str) -> str:
    """The short, stable part of a quarantine reason, used for counting: ``"flag customer (column 'Won') is
    not yes/no or 0/1, e.g. 'maybe'"`` counts as ``"flag customer"``."""
    return reason.split(" (")[0]


@dataclass(frozen=True)
class DataQuality(ResultMixin):
    """What ingest did to the input: counts, reasons, fills and notes.

    ``quarantine_reasons`` counts rows per reason category; ``quarantine_examples`` gives, per category,
    the full reason of its first row (``"leads.csv row 5: flag customer (column 'Won') is not yes/no ..."``).
    """

    input_rows: int
    accepted_rows: int
    quarantined_rows: int
    quarantine_reasons: dict[str, int]
    flagged: dict[str, int]
    implied_stage_fills: dict[str, int]
    joins: list[dict]
    spend_rows: int
    spend_quarantined: int
    notes: list[str] = field(default_factory=list)
    quarantine_examples: dict[str, str] = field(default_factory=dict)
    title = "Data quality"

    @property
    def quarantined_share(self) -> float:
        return self.quarantined_rows / self.input_rows if self.input_rows else 0.0

    def to_frame(self) -> pd.DataFrame:
        rows = [("input rows", self.input_rows), ("accepted", self.accepted_rows),
                ("quarantined", self.quarantined_rows)]
        rows += [(f"quarantined: {reason}", n) for reason, n in self.quarantine_reasons.items()]
        rows += [(f"kept, flagged: {reason}", n) for reason, n in self.flagged.items()]
        rows += [(f"implied stage filled: {stage}", n) for stage, n in self.implied_stage_fills.items() if n]
        for join in self.joins:
            if join.get("on"):
                keys = ", ".join(f"{k} ({n:,})" for k, n in join.get("unmatched_keys", {}).items())
                rows.append((f"lookup {join['file']} on {join['on']}: lead rows matched / unmatched",
                             f"{join['matched']:,} / {join['unmatched']:,}" + (f"; unmatched: {keys}" if keys else "")))
                continue
            rows.append((f"join {join['file']}: rows / matched / unmatched",
                         f"{join['rows']} / {join['matched']} / {join['unmatched']}"))
        if self.spend_rows:
            rows.append(("spend rows (quarantined)", f"{self.spend_rows} ({self.spend_quarantined})"))
        return pd.DataFrame(rows, columns=["item", "count"])


def count_reasons(reasons: dict[int, list[str]], row_labels: pd.Series) -> tuple[dict[str, int], dict[str, str]]:
    """Rows per reason category (most frequent first) and the first full reason of each category."""
    counts = Counter(reason_category(r) for found in reasons.values() for r in dict.fromkeys(found))
    examples: dict[str, str] = {}
    for idx in sorted(reasons):
        for reason in reasons[idx]:
            examples.setdefault(reason_category(reason), f"{row_labels[idx]}: {reason}")
    ordered = dict(counts.most_common())
    return ordered, {category: examples[category] for category in ordered}


def fill_implied_stages(leads: pd.DataFrame, spec: SlaSpec) -> dict[str, int]:
    """A lead that reached a later stage reached every earlier one; count the fills per stage."""
    fills: dict[str, int] = {}
    later_reached = pd.Series(False, index=leads.index)
    for stage in reversed(spec.funnel.stages):
        column = reached_column(stage)
        implied = later_reached & ~leads[column]
        fills[stage] = int(implied.sum())
        leads[column] = leads[column] | later_reached
        later_reached = leads[column]
    return {s: fills[s] for s in spec.funnel.stages}


def backwards_note(rows: pd.DataFrame, spec: SlaSpec) -> str:
    """A note naming the first few leads whose stage timestamps go backwards."""
    examples = []
    for _, row in rows.head(3).iterrows():
        stamps = [(c, row[c]) for c in ["created_at"] + [stage_column(s) for s in spec.funnel.stages[1:]]
                  if c in row and pd.notna(row[c])]
        pairs = ", ".join(f"{c}={v}" for c, v in stamps)
        examples.append(f"lead {row['lead_id']} ({pairs})")
    return (f"{format_count(len(rows), 'lead')} {plural('has', len(rows), 'have')} a stage earlier than the one before it; kept as the mapping's rules say "
            f"(durations count as 0 days): " + "; ".join(examples))
