"""The daily pacing recipe: load -> scope -> pace. Short enough for a scheduler to run every morning.

Example
-------
>>> from sla_toolkit.datasets import example_paths
>>> run = run_pacing(example_paths().sla, example_paths().source, as_of="2025-02-15")
>>> run.pacing.status.value in {"MET", "AT_RISK", "MISSED"}
True
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .io import DataQuality, load_leads
from .io.gate import enforce_quarantine_share
from .pacing import PacingResult, format_pacing, pace
from .scope import apply_scope, resolve_as_of
from .spec import SlaSpec, load_spec


@dataclass(frozen=True)
class PacingRun:
    spec: SlaSpec
    as_of: pd.Timestamp
    pacing: PacingResult
    quality: DataQuality
    scope_note: str

    def text(self) -> str:
        q = self.quality
        return (format_pacing(self.pacing) + f"\nData: {q.accepted_rows:,} leads accepted, {q.quarantined_rows:,} "
                f"quarantined; {self.scope_note}")

    def to_dict(self) -> dict:
        return {"sla": self.spec.name, "as_of": self.as_of.isoformat(), "pacing": self.pacing.to_dict(),
                "data_quality": self.quality.to_dict(), "scope": self.scope_note}


def run_pacing(sla: str | Path | SlaSpec, source: str | Path, *, as_of=None,
               files: list[str | Path] | None = None) -> PacingRun:
    spec = sla if isinstance(sla, SlaSpec) else load_spec(sla)
    # future dates are judged against today, not as_of; pacing needs no spend
    data = load_leads(spec, source, files=files, with_spend=False)
    enforce_quarantine_share(data)
    cutoff = resolve_as_of(data, as_of)
    leads, note = apply_scope(data.leads, spec)
    return PacingRun(spec, cutoff, pace(leads, spec, cutoff), data.quality, note)
