"""The cycles of a batch and the work of one cycle (what runs on a worker: no shared state, never raises).

A batch cycle takes the light path: the analysis itself (:func:`~sla_toolkit.pipeline.run_cycle`) and its
machine-readable outputs, the same files ``run`` writes (``results.json``, ``next_sla.yaml``,
``quarantine.csv``, ``pacing.json``, open-lead scores when models are fitted), without notebooks or
``report.html``. Dozens of cycles a night would otherwise each pay about 45 s of kernel start-up and HTML
export; the full report of any one cycle is one ``sla-toolkit run`` away. The worker returns the files'
bytes; the caller writes the folders and the ledger, so workers need to read the inputs but never write
to the reports folder or the ledger.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SlaToolkitError

SLA_FILE, SOURCE_FILE = "sla.yaml", "source.yaml"


class BatchInputError(SlaToolkitError):
    """The batch argument names no cycles, or a list line cannot be read (exit code 2)."""


@dataclass(frozen=True)
class CycleJob:
    """One cycle of a batch: its spec and mapping, and the as-of date shared by the batch."""

    sla: Path
    source: Path
    as_of: str | None = None
    with_models: bool = True

    @property
    def label(self) -> str:
        return str(self.sla.parent.name or self.sla)


@dataclass(frozen=True)
class CycleOutcome:
    """What one cycle returned: its files (on success) or why it failed; ``exit_code`` as ``run`` would."""

    job: CycleJob
    ok: bool
    sla_name: str | None = None
    sla_slug: str | None = None
    cycle_id: str | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    missed: tuple[str, ...] = ()
    pacing_status: str | None = None
    error: str | None = None
    exit_code: int = 0
    seconds: float = 0.0


def discover(target: str | Path, *, as_of: str | None = None, with_models: bool = True) -> list[CycleJob]:
    """The cycles under a folder (each folder holding ``sla.yaml`` and ``source.yaml``), or listed in a file.

    A list file has one cycle a line: a folder, or ``path/to/sla.yaml path/to/source.yaml``; relative paths
    are relative to the list file; blank lines and ``#`` comments are skipped.
    """
    target = Path(target)
    if target.is_dir():
        folders = sorted({p.parent for p in target.rglob(SLA_FILE) if (p.parent / SOURCE_FILE).is_file()})
        pairs = [(f / SLA_FILE, f / SOURCE_FILE) for f in folders]
        where = f"no folder under {target} holds both {SLA_FILE} and {SOURCE_FILE}"
    elif target.is_file():
        pairs = _listed_pairs(target)
        where = f"{target} lists no cycles"
    else:
        raise BatchInputError(f"{target}: no such folder or list file; give a folder of cycles (each with "
                              f"{SLA_FILE} and {SOURCE_FILE}) or a text file listing them")
    if not pairs:
        raise BatchInputError(where)
    return [CycleJob(sla.resolve(), source.resolve(), as_of, with_models) for sla, source in pairs]


def _listed_pairs(path: Path) -> list[tuple[Path, Path]]:
    pairs, problems = [], []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [path.parent / p for p in line.split()]
        if len(parts) == 1:
            parts = [parts[0] / SLA_FILE, parts[0] / SOURCE_FILE]
        missing = [str(p) for p in parts if not p.is_file()]
        if len(parts) != 2 or missing:
            found = f"no such file {', '.join(missing)}" if missing else repr(line)
            problems.append(f"line {number}: {found} (expected a folder or '<sla.yaml> <source.yaml>')")
        else:
            pairs.append((parts[0], parts[1]))
    if problems:
        raise BatchInputError(f"{path}: " + "; ".join(problems))
    return pairs


def compute_cycle(job: CycleJob) -> CycleOutcome:
    """Analyse one cycle and return its output files' bytes; any failure is returned, never raised."""
    started = time.perf_counter()
    name = slug = None
    try:
        from ..pipeline import run_cycle
        from ..report.outputs import output_files, pacing_bytes
        from ..spec import load_spec

        spec = load_spec(job.sla)
        name, slug = spec.name, spec.slug
        result = run_cycle(spec, job.source, as_of=job.as_of, with_models=job.with_models)
        results = result.to_dict()
        files = {**output_files(result, results), "pacing.json": pacing_bytes(result.pacing)}
        missed = tuple(c["name"] for c in results["checks"] if c.get("status") == "MISSED")
        return CycleOutcome(job, True, name, slug, result.cycle_id, files, missed, result.pacing.status.value,
                            seconds=time.perf_counter() - started)
    except SlaToolkitError as exc:
        return CycleOutcome(job, False, name, slug, error=f"{type(exc).__name__}: {exc}", exit_code=exc.exit_code,
                            seconds=time.perf_counter() - started)
    except Exception as exc:  # noqa: BLE001 - one broken cycle never stops the others
        detail = traceback.format_exception_only(exc)[-1].strip()
        return CycleOutcome(job, False, name, slug, error=detail, exit_code=1, seconds=time.perf_counter() - started)
