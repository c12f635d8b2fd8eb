"""Machine-readable outputs of a cycle run: results.json, next_sla.yaml, quarantine.csv (and pacing.json).

``results.json`` holds the report's figures, never per-lead rows; the open leads' scores, when the
model was fitted, go to ``open_lead_scores.parquet`` beside it.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

from ..csv_output import neutralised

OPEN_SCORES_FILE = "open_lead_scores.parquet"


def results_bytes(results: dict) -> bytes:
    """``results.json`` from ``CycleResult.to_dict()`` (compact: one line per top-level key is not needed)."""
    return json.dumps(results, separators=(",", ":"), allow_nan=False).encode("utf-8")


def output_files(result, results: dict | None = None) -> dict[str, bytes]:
    """The run's data files by name, as bytes (``results`` = ``result.to_dict()`` when already made)."""
    quarantine = io.StringIO()
    neutralised(result.data.quarantine).to_csv(quarantine, index=False)   # no spreadsheet formulas
    files = {"results.json": results_bytes(results if results is not None else result.to_dict()),
             "next_sla.yaml": result.proposal.yaml_text.encode("utf-8"),
             "quarantine.csv": quarantine.getvalue().encode("utf-8")}
    rows = getattr(getattr(result.models, "open_scores", None), "scores", None)   # a snapshot's summary has none
    if rows is not None and len(rows):
        buffer = io.BytesIO()
        rows.to_parquet(buffer, index=False)
        files[OPEN_SCORES_FILE] = buffer.getvalue()
    return files


def write_outputs(result, folder: str | Path) -> list[Path]:
    """Write the run's data files into ``folder`` (the run's temporary folder); returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in output_files(result).items():
        (folder / name).write_bytes(content)
        written.append(folder / name)
    return written


def pacing_bytes(result) -> bytes:
    return json.dumps(result.to_dict(), indent=1, allow_nan=False).encode("utf-8")


def write_pacing(result, folder: str | Path) -> Path:
    """The daily pacing run's ``pacing.json``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pacing.json"
    path.write_bytes(pacing_bytes(result))
    return path
