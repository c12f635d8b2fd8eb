"""Machine-readable outputs of a cycle run: results.json, next_sla.yaml, quarantine.csv."""
from __future__ import annotations

import json
from pathlib import Path

from ..csv_output import write_csv


def write_outputs(result, folder: str | Path) -> list[Path]:
    """Write the run's data files into ``folder`` (the run's temporary folder); returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    results = folder / "results.json"
    results.write_text(json.dumps(result.to_dict(), indent=1, allow_nan=False), encoding="utf-8")
    written.append(results)
    proposal = folder / "next_sla.yaml"
    proposal.write_text(result.proposal.yaml_text, encoding="utf-8")
    written.append(proposal)
    quarantine = folder / "quarantine.csv"
    write_csv(result.data.quarantine, quarantine)
    written.append(quarantine)
    return written


def write_pacing(result, folder: str | Path) -> Path:
    """The daily pacing run's ``pacing.json``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pacing.json"
    path.write_text(json.dumps(result.to_dict(), indent=1, allow_nan=False), encoding="utf-8")
    return path
