"""Run a batch of cycles: locally in parallel (processes) or on a Dask cluster, then write and record each.

Each cycle is one task (:func:`~sla_toolkit.batch.jobs.compute_cycle`). As results arrive, this process
writes each cycle's folder (``<out>/<sla-slug>/<cycle-id>/``, moved into place only when complete, under the
cycle's lock, like ``run``) and records one ledger entry per cycle (completed, or failed with its reason).
"""
from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pandas as pd

from ..history import History, recorded_run
from ..run.folder import RunFolder
from .jobs import CycleJob, CycleOutcome, compute_cycle


@dataclass(frozen=True)
class BatchResult:
    """Every cycle's outcome and where its folder went (None for a failed cycle)."""

    outcomes: tuple[CycleOutcome, ...]
    run_dirs: tuple[Path | None, ...]

    @property
    def failed(self) -> list[CycleOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def missed(self) -> list[CycleOutcome]:
        return [o for o in self.outcomes if o.ok and o.missed]

    def to_frame(self) -> pd.DataFrame:
        rows = [{"sla": o.sla_name or o.job.label, "cycle": o.cycle_id or "", "status": "completed" if o.ok else "failed",
                 "SLAs missed": str(len(o.missed)) if o.ok else "", "pacing": o.pacing_status or "",
                 "seconds": round(o.seconds, 1), "folder or reason": str(d) if o.ok else o.error}
                for o, d in zip(self.outcomes, self.run_dirs)]
        return pd.DataFrame(rows)

    def summary(self, reason_width: int = 200) -> str:
        """The table (folders relative to the batch's out folder) and one totals line."""
        table = self.to_frame()
        shown = table["folder or reason"].astype(str)
        table["folder or reason"] = [f"{Path(d).parent.name}/{Path(d).name}" if d else text[:reason_width]
                                     for d, text in zip(self.run_dirs, shown)]
        cells = [list(table.columns)] + [[str(v) for v in row] for row in table.itertuples(index=False)]
        widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]) - 1)]
        text = "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1] for row in cells)
        return (f"{text}\n{len(self.outcomes) - len(self.failed)} completed / {len(self.failed)} failed / "
                f"{len(self.missed)} with an SLA missed ({sum(len(o.missed) for o in self.missed)} checks MISSED)")


def run_local(jobs: list[CycleJob], workers: int) -> Iterator[CycleOutcome]:
    """Each cycle in its own process (``workers`` at a time); outcomes in completion order."""
    if workers <= 1:
        yield from (compute_cycle(job) for job in jobs)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(compute_cycle, job): job for job in jobs}
        for future in as_completed(futures):
            yield _collected(future, futures[future])


def run_dask(jobs: list[CycleJob], scheduler: str) -> Iterator[CycleOutcome]:
    """Each cycle a task on the Dask cluster at ``scheduler`` (``tcp://host:port``)."""
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        from ..errors import SlaToolkitError

        raise SlaToolkitError("--scheduler needs Dask: pip install 'sla_toolkit[dask]'") from None
    with Client(scheduler, timeout="30s") as client:
        futures = {client.submit(compute_cycle, job, pure=False, key=f"cycle-{i}-{job.label}"): job
                   for i, job in enumerate(jobs)}
        for future in dask_completed(futures):
            yield _collected(future, futures[future])


def _collected(future, job: CycleJob) -> CycleOutcome:
    """The task's outcome, or a failure when the worker itself failed (died, lost, cancelled)."""
    try:
        return future.result()
    except BaseException as exc:  # noqa: BLE001 - a lost worker fails its cycle, not the batch
        return CycleOutcome(job, False, error=f"the worker failed: {type(exc).__name__}: {exc}", exit_code=1)


def _write_cycle(outcome: CycleOutcome, out: Path) -> Path:
    with RunFolder(out, outcome.sla_slug, outcome.cycle_id) as folder:
        for name, data in outcome.files.items():
            (folder.path / name).write_bytes(data)
        return folder.commit()


def record_outcomes(outcomes: Iterable[CycleOutcome], out: Path, history: History | None,
                    progress: Callable[[CycleOutcome], None]) -> BatchResult:
    """Write each successful cycle's folder and record every cycle in the ledger, as they arrive."""
    collected, run_dirs, taken = [], [], {}
    for outcome in outcomes:
        run_dir = None
        if outcome.ok and (outcome.sla_slug, outcome.cycle_id) in taken:
            other = taken[(outcome.sla_slug, outcome.cycle_id)]
            outcome = CycleOutcome(outcome.job, False, outcome.sla_name, outcome.sla_slug, outcome.cycle_id,
                                   error=f"same SLA name and cycle as {other}: give each cycle its own name "
                                         "or as-of date", exit_code=2, seconds=outcome.seconds)
        name = outcome.sla_name or outcome.job.label
        try:
            with recorded_run(history, name, outcome.cycle_id or "(unknown)", sla_slug=outcome.sla_slug) as recording:
                if outcome.ok:
                    run_dir = _write_cycle(outcome, out)
                    taken[(outcome.sla_slug, outcome.cycle_id)] = str(outcome.job.sla)
                    recording.completed(run_dir)
                else:
                    recording.failed(outcome.error or "failed")
        except Exception as exc:  # noqa: BLE001 - writing one cycle failed: that cycle fails, the batch goes on
            outcome = CycleOutcome(outcome.job, False, outcome.sla_name, outcome.sla_slug, outcome.cycle_id,
                                   error=f"writing the cycle folder failed: {type(exc).__name__}: {exc}",
                                   exit_code=1, seconds=outcome.seconds)
            run_dir = None
        collected.append(outcome)
        run_dirs.append(run_dir)
        progress(outcome)
    order = sorted(range(len(collected)), key=lambda i: (str(collected[i].job.sla), str(collected[i].job.source)))
    return BatchResult(tuple(collected[i] for i in order), tuple(run_dirs[i] for i in order))


class ProgressBar:
    """``[#####-----] 5/12 last: <cycle>`` on a terminal (redrawn), one line per cycle otherwise."""

    def __init__(self, total: int, stream=sys.stderr, width: int = 30):
        self.total, self.done, self.stream, self.width = total, 0, stream, width
        self.interactive = stream.isatty()

    def __call__(self, outcome: CycleOutcome) -> None:
        self.done += 1
        filled = self.width * self.done // self.total
        state = "ok" if outcome.ok else "FAILED"
        line = (f"[{'#' * filled}{'-' * (self.width - filled)}] {self.done}/{self.total} "
                f"{outcome.sla_name or outcome.job.label}: {state} ({outcome.seconds:.1f} s)")
        if self.interactive:
            self.stream.write("\r" + line[:150].ljust(150) + ("\n" if self.done == self.total else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def default_workers() -> int:
    return max(1, min(4, (os.cpu_count() or 1)))
