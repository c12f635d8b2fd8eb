"""The digest recipe: load -> scope -> pace -> digest -> compare with the previous one -> render -> write."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..io import load_leads
from ..pacing import pace
from ..scope import apply_scope, resolve_as_of
from ..spec import SlaSpec, load_spec
from .changes import Changes, compare_figures
from .model import Digest, build_digest
from .render import FORMATS, render
from .store import digest_folder, previous_figures, write_digest_files


@dataclass(frozen=True)
class DigestRun:
    """A computed digest, its change marks, its three renderings and where they were written."""

    spec: SlaSpec
    digest: Digest
    changes: Changes
    renderings: dict[str, str]
    paths: dict[str, Path] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.renderings["text"]

    def to_dict(self) -> dict:
        return {**self.digest.to_dict(), "changes": self.changes.to_dict()}


def run_digest(sla: str | Path | SlaSpec, source: str | Path, *, as_of=None, out: str | Path | None = "reports",
               files: list[str | Path] | None = None) -> DigestRun:
    """Compute today's digest, mark changes since the latest earlier digest under ``out``, write it there.

    ``out=None`` writes nothing and compares with nothing (every figure is new).
    """
    spec = sla if isinstance(sla, SlaSpec) else load_spec(sla)
    data = load_leads(spec, source, files=files, with_spend=False)
    cutoff = resolve_as_of(data, as_of)
    leads, _ = apply_scope(data.leads, spec)
    digest = build_digest(leads, spec, cutoff, pace(leads, spec, cutoff))
    day = f"{pd.Timestamp(cutoff):%Y-%m-%d}"
    folder = None if out is None else digest_folder(out, spec.slug)
    since, before = previous_figures(folder, day) if folder is not None else (None, None)
    changes = compare_figures(digest.figures(), before, since)
    renderings = {fmt: render(digest, changes, fmt) for fmt in FORMATS}
    paths = {}
    if folder is not None:
        record = json.dumps({**digest.to_dict(), "changes": changes.to_dict()}, indent=1, allow_nan=False)
        paths = write_digest_files(folder, day, {"json": record, **renderings})
    return DigestRun(spec, digest, changes, renderings, paths)
